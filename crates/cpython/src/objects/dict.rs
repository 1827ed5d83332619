//! `dict` in every representation of 3.8–3.15.
//!
//! - Keys object ≤3.10: `dk_size` index slots of 1/2/4/8 bytes (by `dk_size`), then `dk_nentries` 24-byte
//!   `PyDictKeyEntry{hash, key, value}`.
//! - Keys object 3.11+: `1 << dk_log2_index_bytes` bytes of indices, then `dk_nentries` entries: 24-byte general
//!   entries (`dk_kind` 0) or 16-byte `PyDictUnicodeEntry{key, value}` (`dk_kind` 1 unicode, 2 split).
//! - Combined table (`ma_values == NULL`): entries in insertion order; deleted ones have a NULL key or value.
//! - Split table (`ma_values != NULL`, keys shared with the class): value *i* is `values[i]`. Iteration order:
//!   ≤3.10 the entry order; 3.11/3.12 an insertion-order byte array stored *before* the values
//!   (`((u8*)values)[-2]` = count, `[-3 - i]` = index of the *i*-th value); 3.13+ a `PyDictValues` header
//!   `{capacity, size, embedded, valid}` with the order array after `values[capacity]`.

use heapscope_coredump::{Addr, ProcessImage};

use super::{cap_items, DecodeError, Heap, Kind, MAX_READ_BYTES};

/// Largest `dk_log2_size` / `log2(dk_size)` accepted (2⁴⁰ slots is far beyond any real dict).
const MAX_LOG2_SIZE: u32 = 40;

/// A dict keys object, decoded: the one place that knows its geometry in every version (≤3.10 `dk_size` with index
/// widths by size; 3.11+ `dk_log2_size`, `dk_log2_index_bytes` and `dk_kind`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keys {
    /// Number of entries in use (live or deleted).
    pub(crate) nentries: u64,
    /// Slots of the hash table (`DK_SIZE`).
    pub(crate) slots: u64,
    /// Bytes of the index table.
    pub(crate) index_bytes: u64,
    /// `dk_kind` (3.11+): 0 general, 1 unicode, 2 split; `None` ≤3.10, where the kind is not in the data.
    pub(crate) kind: Option<u8>,
    /// Values a split table of these keys has room for: `dk_nentries + dk_usable` (3.11+
    /// `shared_keys_usable_size`), `USABLE_FRACTION(dk_size)` before.
    pub(crate) values_capacity: u64,
    /// Address of entry 0.
    pub(crate) entries: Addr,
    /// Bytes per entry.
    pub(crate) entry_size: u64,
    /// Offset of the key in an entry.
    pub(crate) key_off: u64,
    /// Offset of the value in an entry.
    pub(crate) value_off: u64,
}

impl Keys {
    /// True for a general table (keys of any type: the traverse visits keys); ≤3.10 this is not in the data.
    pub(crate) fn is_general(&self) -> Option<bool> {
        self.kind.map(|k| k == 0)
    }
}

/// The values of a split table: where `values[0]` is and the order to visit them in.
#[derive(Debug, Clone)]
pub(crate) struct SplitValues {
    /// Address of `values[0]`.
    values: Addr,
    /// Indices into the values (and the keys' entries), in iteration order.
    order: Vec<u64>,
}

impl<P: ProcessImage + ?Sized> Heap<'_, P> {
    /// `len()` of the dict at `obj` (`ma_used`).
    pub fn dict_len(&self, obj: Addr) -> Result<u64, DecodeError> {
        let used = self.u64(obj, &self.layout.dict.ma_used, "dict")?;
        u64::try_from(used as i64).map_err(|_| DecodeError::malformed(obj, "dict", "negative ma_used"))
    }

    /// The first `max` `(key, value)` pairs of the dict (or dict subclass instance) at `obj`, in iteration order.
    pub fn dict_items(&self, obj: Addr, max: usize) -> Result<Vec<(Addr, Addr)>, DecodeError> {
        let used = self.dict_len(obj)?;
        let keys = self.ptr(obj, &self.layout.dict.ma_keys, "dict")?;
        let values = self.ptr(obj, &self.layout.dict.ma_values, "dict")?;
        if keys.is_null() {
            return Err(DecodeError::malformed(obj, "dict", "ma_keys is NULL"));
        }
        let keys = self.keys(obj, keys)?;
        let max = cap_items(max);
        if values.is_null() {
            return self.combined_items(obj, &keys, max);
        }
        let split = self.split_values(obj, &keys, values, Some(used))?;
        self.split_items(obj, &keys, &split, max)
    }

    /// The value of the str key `key` in the dict at `obj`, found by comparing decoded keys (no hashing).
    /// Keys that are not str, or that cannot be decoded, are skipped.
    pub fn dict_get_str(&self, obj: Addr, key: &str) -> Result<Option<Addr>, DecodeError> {
        let items = self.dict_items(obj, usize::MAX)?;
        Ok(self.find_str_key(&items, key))
    }

    /// The value whose key is the str `key`, among `items`.
    pub(crate) fn find_str_key(&self, items: &[(Addr, Addr)], key: &str) -> Option<Addr> {
        let want = key.chars().count() as u64;
        items.iter().find(|(k, _)| self.str_equals(*k, key, want)).map(|&(_, v)| v)
    }

    /// True if `obj` is a str equal to `key` (`want` = its length in code points).
    fn str_equals(&self, obj: Addr, key: &str, want: u64) -> bool {
        if self.kind(obj).ok() != Some(Kind::Str) {
            return false;
        }
        match self.str_header(obj) {
            // (≤3.11 strings not made ready have their length elsewhere: decode those.)
            Ok(h) if h.len() == want || h.kind() == 0 => {}
            _ => return false,
        }
        self.str_value(obj, key.len()).is_ok_and(|s| !s.truncated && s.text == key)
    }

    /// Decodes the keys object at `keys`, which belongs to the dict (or instance, or type) `owner`.
    pub(crate) fn keys(&self, owner: Addr, keys: Addr) -> Result<Keys, DecodeError> {
        let l = &self.layout;
        let kl = &l.dict_keys;
        let bad = |why: String| DecodeError::malformed(owner, "dict keys", why);
        let nentries = self.u64(keys, &kl.dk_nentries, "dict keys")?;
        let indices = self.at(keys, &kl.dk_indices, "dict keys")?;
        let (slots, index_bytes, kind) = if kl.dk_log2_size.is_known() {
            let log2 = u32::from(self.u8(keys, &kl.dk_log2_size, "dict keys")?);
            let log2_index = u32::from(self.u8(keys, &kl.dk_log2_index_bytes, "dict keys")?);
            let kind = self.u8(keys, &kl.dk_kind, "dict keys")?;
            if log2 > MAX_LOG2_SIZE || log2_index > MAX_LOG2_SIZE + 3 || log2_index < log2 || kind > 2 {
                return Err(bad(format!("dk_log2_size {log2}, dk_log2_index_bytes {log2_index}, dk_kind {kind}")));
            }
            (1u64 << log2, 1u64 << log2_index, Some(kind))
        } else {
            let size = self.u64(keys, &kl.dk_size, "dict keys")?;
            if !size.is_power_of_two() || size > 1 << MAX_LOG2_SIZE {
                return Err(bad(format!("dk_size {size} is not a table size")));
            }
            let width = match size {
                0..=0xff => 1,
                0x100..=0xffff => 2,
                0x1_0000..=0xffff_ffff => 4,
                _ => 8,
            };
            (size, size * width, None)
        };
        if nentries > slots {
            return Err(bad(format!("{nentries} entries in a table of {slots} slots")));
        }
        let values_capacity = if kind.is_some() {
            nentries.saturating_add(self.u64(keys, &kl.dk_usable, "dict keys")?)
        } else {
            2 * slots / 3
        };
        let (entry_size, key_off, value_off) = if kind.unwrap_or(0) == 0 {
            let e = &l.dict_entry;
            (self.off(owner, &e.size)?, self.off(owner, &e.me_key)?, self.off(owner, &e.me_value)?)
        } else {
            let e = &l.dict_unicode_entry;
            (self.off(owner, &e.size)?, self.off(owner, &e.me_key)?, self.off(owner, &e.me_value)?)
        };
        Ok(Keys {
            nentries,
            slots,
            index_bytes,
            kind,
            values_capacity,
            entries: indices.wrapping_add(index_bytes),
            entry_size,
            key_off,
            value_off,
        })
    }

    /// `_PyDict_KeysSize`: the header, the index table and `USABLE_FRACTION(size)` entries.
    pub(crate) fn keys_size(&self, owner: Addr, keys: &Keys) -> Result<u64, DecodeError> {
        let head = self.off(owner, &self.layout.dict_keys.size)?;
        Ok(head + keys.index_bytes + (2 * keys.slots / 3) * keys.entry_size)
    }

    fn off(&self, owner: Addr, f: &crate::layout::Field) -> Result<u64, DecodeError> {
        f.get().map_err(|source| DecodeError::Layout { addr: owner, what: "dict keys", source })
    }

    /// Reads `count` entries from `first` as `(key, value)`; the value is meaningless for split keys.
    fn entries(&self, owner: Addr, keys: &Keys, first: u64, count: u64) -> Result<Vec<(Addr, Addr)>, DecodeError> {
        let at = keys.entries.wrapping_add(first * keys.entry_size);
        let len = (count * keys.entry_size) as usize;
        let bytes = self.process.bytes(at, len).map_err(|source| DecodeError::Read {
            addr: owner,
            what: "dict keys",
            field: "entries",
            source,
        })?;
        let word = |e: &[u8], off: u64| {
            let off = off as usize;
            e.get(off..off + 8).map_or(Addr::NULL, |w| Addr(u64::from_le_bytes(w.try_into().unwrap_or([0; 8]))))
        };
        Ok(bytes
            .chunks_exact(keys.entry_size as usize)
            .map(|e| (word(e, keys.key_off), word(e, keys.value_off)))
            .collect())
    }

    /// Live items of a combined table, in insertion order.
    fn combined_items(&self, owner: Addr, keys: &Keys, max: usize) -> Result<Vec<(Addr, Addr)>, DecodeError> {
        let mut out = Vec::new();
        let chunk = (MAX_READ_BYTES as u64 / keys.entry_size.max(1)).min(4096);
        let mut i = 0;
        while i < keys.nentries && out.len() < max {
            let n = chunk.min(keys.nentries - i);
            for (k, v) in self.entries(owner, keys, i, n)? {
                if !k.is_null() && !v.is_null() && out.len() < max {
                    out.push((k, v));
                }
            }
            i += n;
        }
        Ok(out)
    }

    /// Where the values of a split table are and in which order to visit them. `used` is the owning dict's
    /// `ma_used` (none for an instance's values without a dict).
    pub(crate) fn split_values(
        &self,
        owner: Addr,
        keys: &Keys,
        values: Addr,
        used: Option<u64>,
    ) -> Result<SplitValues, DecodeError> {
        let l = &self.layout;
        let read_u8 = |a: Addr| {
            self.process.read_u8(a).map_err(|source| DecodeError::Read {
                addr: owner,
                what: "dict values",
                field: "insertion order",
                source,
            })
        };
        if !l.dict_keys.dk_log2_size.is_known() {
            // ≤3.10: entry order (as many entries as `split_items` reads at most).
            let n = keys.nentries.min(MAX_READ_BYTES as u64 / keys.entry_size.max(1));
            return Ok(SplitValues { values, order: (0..n).collect() });
        }
        let bad = |why: String| DecodeError::malformed(owner, "dict values", why);
        if l.dict_values.capacity.is_known() {
            // 3.13+: header, values[capacity], then the order array.
            let capacity = u64::from(self.u8(values, &l.dict_values.capacity, "dict values")?);
            let size = u64::from(self.u8(values, &l.dict_values.size_field, "dict values")?);
            let vals = self.at(values, &l.dict_values.values, "dict values")?;
            if size > capacity {
                return Err(bad(format!("size {size} > capacity {capacity}")));
            }
            let order_at = vals.wrapping_add(capacity * 8);
            let order = self.process.bytes(order_at, size as usize).map_err(|source| DecodeError::Read {
                addr: owner,
                what: "dict values",
                field: "order",
                source,
            })?;
            let order: Vec<u64> = order.iter().map(|&b| u64::from(b)).collect();
            self.check_order(owner, &order, capacity)?;
            return Ok(SplitValues { values: vals, order });
        }
        // 3.11/3.12: [-1] prefix size, [-2] count, [-3 - i] index of the i-th value.
        let vals = self.at(values, &l.dict_values.values, "dict values")?;
        let prefix = u64::from(read_u8(values.wrapping_add(u64::MAX))?);
        let size = u64::from(read_u8(values.wrapping_add(u64::MAX - 1))?);
        if size + 2 > prefix {
            return Err(bad(format!("{size} values but an order prefix of {prefix} bytes")));
        }
        if let Some(used) = used {
            if used != size {
                return Err(bad(format!("ma_used {used} but {size} values in the order array")));
            }
        }
        let mut order = Vec::with_capacity(size as usize);
        for i in 0..size {
            order.push(u64::from(read_u8(values.wrapping_add(u64::MAX - 2 - i))?));
        }
        self.check_order(owner, &order, keys.nentries)?;
        Ok(SplitValues { values: vals, order })
    }

    fn check_order(&self, owner: Addr, order: &[u64], limit: u64) -> Result<(), DecodeError> {
        match order.iter().find(|&&ix| ix >= limit) {
            Some(ix) => Err(DecodeError::malformed(owner, "dict values", format!("order index {ix} ≥ {limit}"))),
            None => Ok(()),
        }
    }

    /// Live items of a split table, in iteration order.
    pub(crate) fn split_items(
        &self,
        owner: Addr,
        keys: &Keys,
        split: &SplitValues,
        max: usize,
    ) -> Result<Vec<(Addr, Addr)>, DecodeError> {
        let n = keys.nentries.min(MAX_READ_BYTES as u64 / keys.entry_size.max(1));
        let entries = if n == 0 { Vec::new() } else { self.entries(owner, keys, 0, n)? };
        let mut out = Vec::new();
        for &ix in &split.order {
            if out.len() >= max {
                break;
            }
            let Some(&(k, _)) = entries.get(ix as usize) else { continue };
            let at = split.values.wrapping_add(ix * 8);
            let v = Addr(self.raw_u64(owner, at, "dict values", "values")?);
            if !k.is_null() && !v.is_null() {
                out.push((k, v));
            }
        }
        Ok(out)
    }

    /// Items of a values array without a dict (an instance's inline or pre-header values), keys from `keys`.
    pub(crate) fn values_items(
        &self,
        owner: Addr,
        keys_addr: Addr,
        values: Addr,
        max: usize,
    ) -> Result<Vec<(Addr, Addr)>, DecodeError> {
        let keys = self.keys(owner, keys_addr)?;
        let split = self.split_values(owner, &keys, values, None)?;
        self.split_items(owner, &keys, &split, cap_items(max))
    }
}
