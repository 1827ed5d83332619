//! Attributes of instances: the instance dict wherever each version keeps it, and `__slots__` members.
//!
//! | version | where `__dict__` is |
//! |---|---|
//! | ≤3.10 | `obj + tp_dictoffset`; a negative offset counts from the end of a var-sized object |
//! | 3.11 | managed-dict types: dict pointer at `obj-24`, or (NULL) a values pointer at `obj-32` with the keys in the type's `ht_cached_keys` |
//! | 3.12 | managed-dict types: tagged `PyDictOrValues` at `obj-24`: odd → `values - 1` (so values = word + 1), else a dict |
//! | 3.13+ | managed-dict types: dict pointer at `obj-24` (`obj-8` free-threaded); NULL and `Py_TPFLAGS_INLINE_VALUES`: values inline at `obj + tp_basicsize`, used while their `valid` byte is set |
//!
//! Types without `Py_TPFLAGS_MANAGED_DICT` use `tp_dictoffset` in every version.

use heapscope_coredump::{Addr, ProcessImage};

use super::{flags, DecodeError, Heap, ManagedDict};
use crate::layout::{Flavour, Layout};

/// Offset below the object of the managed dict (or 3.12 dict-or-values) pointer, default build.
const MANAGED_DICT_BELOW: u64 = 24;
/// Same, free-threaded build.
const MANAGED_DICT_BELOW_FT: u64 = 8;
/// 3.11: offset below the object of the values pointer.
const VALUES_BELOW_311: u64 = 32;

/// Where an instance's attributes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrStorage {
    /// No `__dict__` (none allocated yet, or the type has none).
    None,
    /// A dict object.
    Dict(Addr),
    /// A values array without a dict (3.11+): the values and the shared keys object they belong to.
    Values {
        /// `PyDictValues*` (3.13+: the header; 3.11/3.12: `values[0]`).
        values: Addr,
        /// The type's `ht_cached_keys`.
        keys: Addr,
    },
}

/// Bytes of 3.13+ inline values with room for `capacity` values (`_PyInlineValuesSize`): the `PyDictValues` header,
/// `capacity` slots and the insertion-order bytes, rounded up to a pointer.
pub(crate) fn inline_values_size(layout: &Layout, capacity: u64) -> Option<u64> {
    let head = u64::from(layout.dict_values.values.offset?);
    Some(head + capacity * 8 + capacity.next_multiple_of(8))
}

impl<P: ProcessImage + ?Sized> Heap<'_, P> {
    /// Where the instance at `obj` keeps its `__dict__` attributes.
    pub fn attr_storage(&self, obj: Addr) -> Result<AttrStorage, DecodeError> {
        let ty = self.type_of(obj)?;
        let fl = self.tp_flags(ty)?;
        if fl & flags::MANAGED_DICT != 0 && self.features.managed_dict != ManagedDict::None {
            let basic = u64::try_from(self.tp_basicsize(ty)?)
                .map_err(|_| DecodeError::malformed(obj, "instance", "negative tp_basicsize"))?;
            return self.managed_storage(obj, ty, fl, basic);
        }
        let offset = self.u64(ty, &self.layout.type_object.tp_dictoffset, "type")? as i64;
        let basic = self.tp_basicsize(ty)?.unsigned_abs();
        let item = self.tp_itemsize(ty)?.unsigned_abs();
        match self.dict_ptr(obj, offset, basic, item)? {
            None => Ok(AttrStorage::None),
            Some(at) => match self.raw_u64(obj, at, "instance", "dict pointer")? {
                0 => Ok(AttrStorage::None),
                d => Ok(AttrStorage::Dict(Addr(d))),
            },
        }
    }

    /// Where an instance at `obj` of a managed-dict type `ty` (3.11+ `Py_TPFLAGS_MANAGED_DICT`, with `tp_flags` and
    /// `tp_basicsize` as given) keeps its attributes: the one decoder of the managed dict / values pre-header.
    pub(crate) fn managed_storage(
        &self,
        obj: Addr,
        ty: Addr,
        tp_flags: u64,
        basicsize: u64,
    ) -> Result<AttrStorage, DecodeError> {
        let below = |n: u64, field: &'static str| -> Result<u64, DecodeError> {
            let at = obj
                .checked_sub(n)
                .ok_or_else(|| DecodeError::malformed(obj, "instance", "pre-header below address 0"))?;
            self.raw_u64(obj, at, "instance", field)
        };
        let cached_keys = || self.ptr(ty, &self.layout.heap_type.ht_cached_keys, "heap type");
        Ok(match self.features.managed_dict {
            ManagedDict::None => AttrStorage::None,
            ManagedDict::V311 => {
                let dict = below(MANAGED_DICT_BELOW, "managed dict")?;
                if dict != 0 {
                    AttrStorage::Dict(Addr(dict))
                } else {
                    let values = below(VALUES_BELOW_311, "managed values")?;
                    if values == 0 {
                        AttrStorage::None
                    } else {
                        AttrStorage::Values { values: Addr(values), keys: cached_keys()? }
                    }
                }
            }
            ManagedDict::V312 => match below(MANAGED_DICT_BELOW, "dict or values")? {
                0 => AttrStorage::None,
                // `_PyDictOrValues_GetValues`: the stored pointer is `values - 1`, so odd.
                v if v & 1 == 1 => AttrStorage::Values { values: Addr(v.wrapping_add(1)), keys: cached_keys()? },
                d => AttrStorage::Dict(Addr(d)),
            },
            ManagedDict::V313 => {
                let n = if self.layout.flavour == Flavour::FreeThreaded {
                    MANAGED_DICT_BELOW_FT
                } else {
                    MANAGED_DICT_BELOW
                };
                let dict = below(n, "managed dict")?;
                if dict != 0 {
                    AttrStorage::Dict(Addr(dict))
                } else if tp_flags & flags::INLINE_VALUES != 0 {
                    let values = obj
                        .checked_add(basicsize)
                        .ok_or_else(|| DecodeError::malformed(obj, "instance", "bad tp_basicsize"))?;
                    let valid = self.u8(values, &self.layout.dict_values.valid, "inline values")?;
                    if valid == 0 {
                        AttrStorage::None
                    } else {
                        AttrStorage::Values { values, keys: cached_keys()? }
                    }
                } else {
                    AttrStorage::None
                }
            }
        })
    }

    /// Bytes of the instance's values array when it is an allocation of its own, apart from the object: 3.11 and
    /// 3.12 while no `__dict__` is materialised (the prefix and one slot per usable key, as `Heap::instance_values_bytes`
    /// counts them into the footprint). 0 when there is none: no managed dict, a materialised dict, or 3.13+ inline
    /// values, which share the object's allocation. An allocator rounds this block apart from the object's.
    pub fn detached_values_bytes(&self, obj: Addr) -> Result<u64, DecodeError> {
        if self.features.managed_dict.inline_values() || self.features.managed_dict == ManagedDict::None {
            return Ok(0);
        }
        let ty = self.type_of(obj)?;
        let fl = self.tp_flags(ty)?;
        let basic = u64::try_from(self.tp_basicsize(ty)?)
            .map_err(|_| DecodeError::malformed(obj, "instance", "negative tp_basicsize"))?;
        self.instance_values_bytes(obj, ty, fl, basic)
    }

    /// How many value slots the values of [`AttrStorage::Values`] has: 3.13+ its `capacity`, before the entries of
    /// the shared keys (`dk_nentries`).
    pub(crate) fn values_slots(&self, owner: Addr, values: Addr, keys: Addr) -> Result<u64, DecodeError> {
        if self.features.managed_dict.inline_values() {
            return Ok(u64::from(self.u8(values, &self.layout.dict_values.capacity, "inline values")?));
        }
        if keys.is_null() {
            return Ok(0);
        }
        Ok(self.keys(owner, keys)?.nentries)
    }

    /// Bytes of an instance's values that its `__sizeof__` does not count: 3.11/3.12 a separately allocated values
    /// array while no dict is materialised (prefix + one slot per usable key), 3.13+ the inline values (header, slots
    /// and insertion-order bytes), which stay in place after a dict is made.
    pub(crate) fn instance_values_bytes(
        &self,
        obj: Addr,
        ty: Addr,
        tp_flags: u64,
        basicsize: u64,
    ) -> Result<u64, DecodeError> {
        if tp_flags & flags::MANAGED_DICT == 0 {
            return Ok(0);
        }
        if self.features.managed_dict.inline_values() {
            if tp_flags & flags::INLINE_VALUES == 0 {
                return Ok(0);
            }
            let values = obj.wrapping_add(basicsize);
            let cap = u64::from(self.u8(values, &self.layout.dict_values.capacity, "inline values")?);
            return inline_values_size(self.layout, cap)
                .ok_or_else(|| DecodeError::malformed(obj, "instance", "PyDictValues.values is not known"));
        }
        let AttrStorage::Values { values, keys } = self.managed_storage(obj, ty, tp_flags, basicsize)? else {
            return Ok(0);
        };
        let prefix =
            u64::from(self.process.read_u8(values.wrapping_add(u64::MAX)).map_err(|source| DecodeError::Read {
                addr: obj,
                what: "instance",
                field: "values prefix",
                source,
            })?);
        if keys.is_null() {
            return Ok(prefix);
        }
        // The capacity comes from the core: saturate rather than overflow on an absurd one.
        Ok(prefix.saturating_add(self.keys(obj, keys)?.values_capacity.saturating_mul(8)))
    }

    /// `_PyObject_GetDictPtr` for a type that does not manage its dict: the address of the dict pointer at
    /// `tp_dictoffset`, a negative offset counted from the end of the var-sized object (`basicsize + |ob_size| *
    /// itemsize`, rounded up to 8). `None` when the type has no dict.
    pub(crate) fn dict_ptr(
        &self,
        obj: Addr,
        dictoffset: i64,
        basicsize: u64,
        itemsize: u64,
    ) -> Result<Option<Addr>, DecodeError> {
        if dictoffset == 0 {
            return Ok(None);
        }
        let bad = |why: String| DecodeError::malformed(obj, "instance", why);
        let offset = if dictoffset < 0 {
            // As CPython does, even for 3.12+ ints whose `ob_size` slot holds `lv_tag`.
            let n = self.ob_size(obj)?.unsigned_abs();
            let size = itemsize
                .checked_mul(n)
                .and_then(|s| s.checked_add(basicsize))
                .and_then(|s| s.checked_add(7))
                .map(|s| s & !7)
                .ok_or_else(|| bad("var size overflows".into()))?;
            (size as i64)
                .checked_add(dictoffset)
                .filter(|o| *o > 0)
                .ok_or_else(|| bad(format!("dict offset {dictoffset}")))?
        } else {
            dictoffset
        };
        obj.checked_add(offset as u64).map(Some).ok_or_else(|| bad("dict offset overflows".into()))
    }

    /// The first `max` `(name, value)` pairs of the instance's `__dict__` attributes, in insertion order, wherever
    /// the version keeps them (see the module documentation). `__slots__` members are not included (see
    /// [`Heap::slot_items`]).
    pub fn instance_dict_items(&self, obj: Addr, max: usize) -> Result<Vec<(Addr, Addr)>, DecodeError> {
        match self.attr_storage(obj)? {
            AttrStorage::None => Ok(Vec::new()),
            AttrStorage::Dict(d) => self.dict_items(d, max),
            AttrStorage::Values { values, keys } => self.values_items(obj, keys, values, max),
        }
    }

    /// The set `__slots__` (and other object-valued members) of the instance at `obj`, from every type of its MRO:
    /// `(name, value)`, unset (NULL) slots left out.
    pub fn slot_items(&self, obj: Addr, max: usize) -> Result<Vec<(String, Addr)>, DecodeError> {
        let ty = self.type_of(obj)?;
        let mut out = Vec::new();
        for t in self.mro(ty)? {
            // Static types' members (e.g. a function's `__doc__`) are C fields, not slots.
            if self.tp_flags(t)? & flags::HEAPTYPE == 0 {
                continue;
            }
            for m in self.object_members(t)? {
                if out.len() >= max {
                    return Ok(out);
                }
                let at = obj.checked_add(m.offset).ok_or_else(|| {
                    DecodeError::malformed(obj, "instance", format!("slot {} at offset {}", m.name, m.offset))
                })?;
                let v = self.raw_u64(obj, at, "instance", "slot")?;
                if v != 0 {
                    out.push((m.name, Addr(v)));
                }
            }
        }
        Ok(out)
    }

    /// The attribute `name` of the instance at `obj`, from its `__slots__` or its `__dict__` (what
    /// `object.__getattribute__` finds stored on the instance itself; class attributes and properties are not
    /// looked at). `None` when the instance has no such attribute.
    pub fn instance_attr(&self, obj: Addr, name: &str) -> Result<Option<Addr>, DecodeError> {
        if let Some((_, v)) = self.slot_items(obj, usize::MAX)?.into_iter().find(|(n, _)| n == name) {
            return Ok(Some(v));
        }
        let items = self.instance_dict_items(obj, usize::MAX)?;
        Ok(self.find_str_key(&items, name))
    }
}
