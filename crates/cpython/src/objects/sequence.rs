//! `tuple`, `list`, `set` and `frozenset`: their items.

use heapscope_coredump::{Addr, ProcessImage};

use super::{cap_items, DecodeError, Heap, Kind, MAX_READ_BYTES};

/// `sizeof(setentry)`: `{PyObject *key; Py_hash_t hash;}`, unchanged 3.8–3.15.
const SET_ENTRY_SIZE: u64 = 16;

/// The hash a deleted set entry carries (its key is the `dummy` sentinel). No live key hashes to -1.
const DUMMY_HASH: u64 = u64::MAX;

impl<P: ProcessImage + ?Sized> Heap<'_, P> {
    /// The first `max` items of the tuple (or tuple subclass instance) at `obj`, in order.
    pub fn tuple_items(&self, obj: Addr, max: usize) -> Result<Vec<Addr>, DecodeError> {
        let len = self.len_of(obj, "tuple")?;
        let at = self.at(obj, &self.layout.tuple.ob_item, "tuple")?;
        let n = len.min(cap_items(max) as u64) as usize;
        self.ptr_array(obj, at, n, "tuple")
    }

    /// `len()` of a tuple, list, bytes or other var-sized object: its `ob_size`.
    pub fn var_len(&self, obj: Addr) -> Result<u64, DecodeError> {
        self.len_of(obj, "var-sized object")
    }

    /// The first `max` items of the list (or list subclass instance) at `obj`, in order.
    pub fn list_items(&self, obj: Addr, max: usize) -> Result<Vec<Addr>, DecodeError> {
        let len = self.len_of(obj, "list")?;
        let allocated = self.u64(obj, &self.layout.list.allocated, "list")?;
        if len > allocated {
            return Err(DecodeError::malformed(obj, "list", format!("length {len} > allocated {allocated}")));
        }
        let items = self.ptr(obj, &self.layout.list.ob_item, "list")?;
        let n = len.min(cap_items(max) as u64) as usize;
        if n > 0 && items.is_null() {
            return Err(DecodeError::malformed(obj, "list", "items pointer is NULL"));
        }
        self.ptr_array(obj, items, n, "list")
    }

    /// `len()` of the set or frozenset at `obj` (`used`).
    pub fn set_len(&self, obj: Addr) -> Result<u64, DecodeError> {
        let used = self.u64(obj, &self.layout.set.used, "set")?;
        u64::try_from(used as i64).map_err(|_| DecodeError::malformed(obj, "set", "negative size"))
    }

    /// The first `max` keys of the set or frozenset (or subclass instance) at `obj`, in table order (the order
    /// Python iterates and prints them in).
    pub fn set_items(&self, obj: Addr, max: usize) -> Result<Vec<Addr>, DecodeError> {
        let kind = self.kind(obj)?;
        if kind != Kind::Set && kind != Kind::FrozenSet {
            return Err(DecodeError::WrongKind { addr: obj, expected: Kind::Set, actual: kind });
        }
        let l = &self.layout.set;
        let used = self.set_len(obj)?;
        let mask = self.u64(obj, &l.mask, "set")?;
        let table = self.ptr(obj, &l.table, "set")?;
        let slots = mask.checked_add(1).filter(|s| s.is_power_of_two() && *s >= used).ok_or_else(|| {
            DecodeError::malformed(obj, "set", format!("mask {mask:#x} is not a table size for {used} keys"))
        })?;
        let want = used.min(cap_items(max) as u64) as usize;
        let mut out = Vec::with_capacity(want);
        // Read the table in chunks: a set's table may be far larger than what the caller wants.
        let chunk = (MAX_READ_BYTES as u64 / SET_ENTRY_SIZE).min(4096);
        let mut i = 0u64;
        while i < slots && out.len() < want {
            let n = chunk.min(slots - i);
            let at = table.wrapping_add(i * SET_ENTRY_SIZE);
            let bytes = self.process.bytes(at, (n * SET_ENTRY_SIZE) as usize).map_err(|source| DecodeError::Read {
                addr: obj,
                what: "set",
                field: "table",
                source,
            })?;
            for e in bytes.chunks_exact(SET_ENTRY_SIZE as usize) {
                let key = u64::from_le_bytes(e[..8].try_into().unwrap_or([0; 8]));
                let hash = u64::from_le_bytes(e[8..].try_into().unwrap_or([0; 8]));
                if key != 0 && hash != DUMMY_HASH && out.len() < want {
                    out.push(Addr(key));
                }
            }
            i += n;
        }
        Ok(out)
    }
}
