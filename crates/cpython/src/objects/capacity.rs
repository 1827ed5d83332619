//! How much of a container's table is unused: a list's `allocated` slots beyond its length, a set's hash table
//! beyond what its size needs, a dict's keys table beyond what a copy of it (`dict(d)`) would allocate.
//!
//! The ideal sizes follow CPython's growth rules: a set table is the smallest power of two ≥ 8 that keeps
//! `used * 5 < slots * 3`; a dict keys table is the smallest power of two ≥ 8 whose usable entries (two thirds)
//! hold its items, with 1, 2, 4 or 8 bytes per index as the table size needs, and its entry size; the small table of a
//! set (8 entries inside the object) is never slack.

use heapscope_coredump::{Addr, ProcessImage};

use super::{DecodeError, Heap, Kind};

/// A container's table and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slack {
    /// Items it holds.
    pub len: u64,
    /// Items its table has room for (list: `allocated`; set and dict: slots).
    pub capacity: u64,
    /// What that room for items the container does not hold costs, in bytes.
    pub wasted_bytes: u64,
}

/// Bytes per dict index for a table of `slots` slots (`DK_IXSIZE`).
fn index_width(slots: u64) -> u64 {
    match slots {
        0..=0x80 => 1,
        0x81..=0x8000 => 2,
        0x8001..=0x8000_0000 => 4,
        _ => 8,
    }
}

/// The smallest power of two ≥ 8 satisfying `fits`.
fn smallest_table(fits: impl Fn(u64) -> bool) -> u64 {
    let mut slots = 8u64;
    while !fits(slots) && slots < 1 << 40 {
        slots *= 2;
    }
    slots
}

/// Bytes of a dict keys table of `slots` slots (indices and usable entries of `entry_size`).
fn keys_bytes(slots: u64, entry_size: u64) -> u64 {
    slots * index_width(slots) + (2 * slots / 3) * entry_size
}

impl<P: ProcessImage + ?Sized> Heap<'_, P> {
    /// The unused room in the table of the list, set, frozenset or dict at `obj` (or an instance of a subclass);
    /// `None` for other objects and for split dicts (their keys are the class's).
    pub fn slack(&self, obj: Addr) -> Result<Option<Slack>, DecodeError> {
        match self.kind(obj)? {
            Kind::List => {
                let len = self.len_of(obj, "list")?;
                let allocated = self.u64(obj, &self.layout.list.allocated, "list")?;
                if len > allocated {
                    return Err(DecodeError::malformed(obj, "list", format!("length {len} > allocated {allocated}")));
                }
                Ok(Some(Slack { len, capacity: allocated, wasted_bytes: (allocated - len).saturating_mul(8) }))
            }
            Kind::Set | Kind::FrozenSet => {
                let len = self.set_len(obj)?;
                let mask = self.u64(obj, &self.layout.set.mask, "set")?;
                let slots = mask.checked_add(1).filter(|s| s.is_power_of_two() && *s >= len).ok_or_else(|| {
                    DecodeError::malformed(obj, "set", format!("mask {mask:#x} is not a table size for {len} keys"))
                })?;
                let ideal = smallest_table(|s| len.saturating_mul(5) < s * 3);
                // 16 bytes per entry: `{key, hash}`.
                Ok(Some(Slack { len, capacity: slots, wasted_bytes: slots.saturating_sub(ideal).saturating_mul(16) }))
            }
            Kind::Dict => {
                let values = self.ptr(obj, &self.layout.dict.ma_values, "dict")?;
                if !values.is_null() {
                    return Ok(None);
                }
                let len = self.dict_len(obj)?;
                let keys = self.ptr(obj, &self.layout.dict.ma_keys, "dict")?;
                if keys.is_null() {
                    return Err(DecodeError::malformed(obj, "dict", "ma_keys is NULL"));
                }
                let k = self.keys(obj, keys)?;
                let ideal = smallest_table(|s| 2 * s / 3 >= len);
                let wasted = keys_bytes(k.slots, k.entry_size).saturating_sub(keys_bytes(ideal, k.entry_size));
                Ok(Some(Slack { len, capacity: k.slots, wasted_bytes: wasted }))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ideal_tables_follow_cpython_growth() {
        assert_eq!(smallest_table(|s| s * 3 > 0), 8);
        assert_eq!(smallest_table(|s| 4 * 5 < s * 3), 8);
        assert_eq!(smallest_table(|s| 5 * 5 < s * 3), 16);
        assert_eq!(smallest_table(|s| 2 * s / 3 >= 5), 8);
        assert_eq!(smallest_table(|s| 2 * s / 3 >= 6), 16);
        assert_eq!(smallest_table(|s| 2 * s / 3 >= 10_000), 16384);
        assert_eq!(index_width(128), 1);
        assert_eq!(index_width(256), 2);
        assert_eq!(keys_bytes(8, 24), 8 + 5 * 24);
    }
}
