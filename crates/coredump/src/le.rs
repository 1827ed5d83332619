//! Bounds-checked little-endian field reads from file-controlled byte slices.
//!
//! Every accessor returns `None` instead of panicking when the field does not fit, so parsers of hostile files can
//! turn a short structure into a warning or an error.

use std::ops::Range;

/// `b[off..off + N]` as an array, or `None` when it does not fit.
fn array<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..off.checked_add(N)?)?.try_into().ok()
}

/// The little-endian `u16` at `off`.
pub(crate) fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    array(b, off).map(u16::from_le_bytes)
}

/// The little-endian `u32` at `off`.
pub(crate) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    array(b, off).map(u32::from_le_bytes)
}

/// The little-endian `u64` at `off`.
pub(crate) fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    array(b, off).map(u64::from_le_bytes)
}

/// The bytes of `b` at the 64-bit file range `range`, or `None` when it does not fit.
pub(crate) fn slice(b: &[u8], range: Range<u64>) -> Option<&[u8]> {
    let start = usize::try_from(range.start).ok()?;
    let end = usize::try_from(range.end).ok()?;
    b.get(start..end)
}

/// The bytes of `b` before the first NUL (all of `b` when there is none).
pub(crate) fn until_nul(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => b.get(..n).unwrap_or(b),
        None => b,
    }
}

/// `x` rounded up to a multiple of `align` (a power of two), or `None` on overflow.
pub(crate) fn align_up(x: u64, align: u64) -> Option<u64> {
    debug_assert!(align.is_power_of_two());
    Some(x.checked_add(align - 1)? & !(align - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked() {
        let b = [1u8, 2, 3, 4, 5];
        assert_eq!(u16_at(&b, 0), Some(0x0201));
        assert_eq!(u32_at(&b, 1), Some(0x0504_0302));
        assert_eq!(u32_at(&b, 2), None);
        assert_eq!(u64_at(&b, usize::MAX), None);
        assert_eq!(slice(&b, 3..5), Some(&b[3..5]));
        assert_eq!(slice(&b, 3..6), None);
        assert_eq!(until_nul(b"ab\0cd"), b"ab");
        assert_eq!(align_up(5, 4), Some(8));
        assert_eq!(align_up(u64::MAX, 4), None);
    }
}
