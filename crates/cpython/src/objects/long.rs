//! `int` (`PyLongObject`) and `bool`.
//!
//! Magnitude: `ndigits` 30-bit digits, least significant first, at `ob_digit`. Sign and digit count: ≤3.11 in the
//! signed `ob_size` (|ob_size| digits, its sign the value's); 3.12+ in `lv_tag` = `ndigits << 3 | sign`, sign bits
//! 0 positive, 1 zero, 2 negative (bit 2 marks 3.14's immortal small ints).

use heapscope_coredump::{Addr, ProcessImage};

use super::{repr, DecodeError, Heap, Kind, MAX_READ_BYTES};

/// Bits per digit (`PYLONG_BITS_IN_DIGIT`, 30 on every 64-bit build).
pub const DIGIT_BITS: u32 = 30;

/// Most digits read from one int: 2²⁰ digits, about 31 million bits. Longer ints keep their sign and digit count
/// only ([`PyInt::digits`] is then empty and [`PyInt::complete`] false).
pub const MAX_INT_DIGITS: u64 = 1 << 20;

/// A decoded `int`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyInt {
    /// True for a negative value.
    pub negative: bool,
    /// Number of 30-bit digits of the magnitude (0 for zero).
    pub ndigits: u64,
    /// The magnitude's digits, least significant first; empty when the int has more than [`MAX_INT_DIGITS`].
    pub digits: Vec<u32>,
}

impl PyInt {
    /// True when every digit was read.
    pub fn complete(&self) -> bool {
        self.digits.len() as u64 == self.ndigits
    }

    /// The value, when it fits in an `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        if !self.complete() || self.ndigits > 3 {
            return None;
        }
        let mut mag: u128 = 0;
        for &d in self.digits.iter().rev() {
            mag = (mag << DIGIT_BITS) | u128::from(d);
        }
        if self.negative {
            (mag <= 1u128 << 63).then(|| (mag as i128).wrapping_neg() as i64)
        } else {
            i64::try_from(mag).ok()
        }
    }

    /// `int.bit_length()` (exact even when the digits were not read, since the top digit is nonzero).
    pub fn bit_length(&self) -> u64 {
        match self.digits.last() {
            // `ndigits` comes from the core's `ob_size` (or `lv_tag`): saturate rather than wrap.
            Some(&top) if self.complete() => (self.ndigits - 1)
                .saturating_mul(u64::from(DIGIT_BITS))
                .saturating_add(u64::from(32 - top.leading_zeros())),
            _ => self.ndigits.saturating_mul(u64::from(DIGIT_BITS)),
        }
    }

    /// The value in decimal, as `repr()` writes it, when it has at most `max_digits` 30-bit digits (conversion is
    /// quadratic); `None` for longer or incompletely read ints.
    pub fn to_decimal(&self, max_digits: u64) -> Option<String> {
        if !self.complete() || self.ndigits > max_digits {
            return None;
        }
        let mut s = repr::digits_to_decimal(&self.digits, DIGIT_BITS);
        if self.negative && s != "0" {
            s.insert(0, '-');
        }
        Some(s)
    }
}

impl<P: ProcessImage + ?Sized> Heap<'_, P> {
    /// Decodes the int (or int subclass instance, or bool) at `obj`.
    pub fn int_value(&self, obj: Addr) -> Result<PyInt, DecodeError> {
        let l = &self.layout;
        let (negative, ndigits) = if l.long.lv_tag.is_known() {
            let tag = self.u64(obj, &l.long.lv_tag, "int")?;
            let sign = tag & 3;
            if sign == 3 {
                return Err(DecodeError::malformed(obj, "int", format!("lv_tag {tag:#x} has sign bits 3")));
            }
            let n = tag >> 3;
            if (sign == 1) != (n == 0) {
                return Err(DecodeError::malformed(obj, "int", format!("lv_tag {tag:#x}: sign and size disagree")));
            }
            (sign == 2, n)
        } else {
            let size = self.ob_size(obj)?;
            (size < 0, size.unsigned_abs())
        };
        if ndigits > i64::MAX as u64 / 4 {
            return Err(DecodeError::malformed(obj, "int", format!("{ndigits} digits")));
        }
        let mut digits = Vec::new();
        if ndigits <= MAX_INT_DIGITS && ndigits * 4 <= MAX_READ_BYTES as u64 {
            let at = self.at(obj, &l.long.ob_digit, "int")?;
            let bytes = self.process.bytes(at, ndigits as usize * 4).map_err(|source| DecodeError::Read {
                addr: obj,
                what: "int",
                field: "ob_digit",
                source,
            })?;
            digits = bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            if let Some(d) = digits.iter().find(|&&d| d >> DIGIT_BITS != 0) {
                return Err(DecodeError::malformed(obj, "int", format!("digit {d:#x} has more than 30 bits")));
            }
        }
        Ok(PyInt { negative, ndigits, digits })
    }

    /// The value of a bool: whether `obj` is `True` or `False` (by address), else an error.
    pub fn bool_value(&self, obj: Addr) -> Result<bool, DecodeError> {
        let s = &self.statics;
        if Some(obj) == s.true_ {
            Ok(true)
        } else if Some(obj) == s.false_ {
            Ok(false)
        } else {
            Err(DecodeError::WrongKind { addr: obj, expected: Kind::Bool, actual: self.kind(obj)? })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PyInt;

    /// A size word from a corrupt core claims more digits than the address space holds: the bit length saturates
    /// (found by the `objects` fuzz target, whose input is in fuzz/regressions/objects/).
    #[test]
    fn bit_length_of_an_absurd_size_saturates() {
        let huge = PyInt { negative: false, ndigits: u64::MAX / 8, digits: Vec::new() };
        assert_eq!(huge.bit_length(), u64::MAX);
        let small = PyInt { negative: false, ndigits: 2, digits: Vec::new() };
        assert_eq!(small.bit_length(), 60, "digits not read: every digit counts 30 bits");
        let read = PyInt { negative: true, ndigits: 2, digits: vec![5, 1] };
        assert_eq!(read.bit_length(), 31);
    }
}
