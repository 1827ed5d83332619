//! [`ObjectInfo`]: the per-object facts of the heap — type, `sys.getsizeof`, true footprint, reference count,
//! immortality, GC tracking, length — read without allocating.
//!
//! **`sys.getsizeof(o)`** is `type(o).__sizeof__(o)` (see `heap/sizeof.rs`) plus a pre-header:
//!
//! | version | pre-header added |
//! |---|---|
//! | 3.8–3.10 | the GC head (16) if `PyObject_IS_GC(o)`: the type has `Py_TPFLAGS_HAVE_GC`, and a type object only when it is a heap type (`type_is_gc`) |
//! | 3.11 | `_PyType_PreHeaderSize(type(o))`: 16 × HAVE_GC + 16 × MANAGED_DICT of the *type*, so static types get 16 too |
//! | 3.12 | the same with MANAGED_DICT \| MANAGED_WEAKREF |
//! | 3.13+ | the same, but 0 for static types whose type is exactly `type` |
//!
//! **Reference counts and immortality**:
//! - ≤3.11: `ob_refcnt` as is; never immortal. 3.11 initialises its static objects (small ints, `()`, `_Py_ID`
//!   strings) to 999 999 999 but still counts their references, so they are reported as mortal with that count.
//! - 3.12/3.13: immortal when the low 32 bits, read as `int32`, are negative (`_Py_IsImmortal`); the count is the
//!   64-bit value (0xFFFFFFFF for immortals).
//! - 3.14: the count is the low 32 bits (the high half holds `ob_overflow` and `ob_flags`); immortal as in 3.12.
//!
//! **GC tracking**: a GC object (as above) whose GC head has `_gc_next != 0`.
//!
//! **Footprint**: the pre-header really in memory (GC head when the object is a GC object, the managed dict /
//! weakref words of 3.11+ classes), plus `__sizeof__`, plus what the object owns but `__sizeof__` does not count (an
//! instance's managed values array in 3.11/3.12, its inline values in 3.13+), minus what `__sizeof__` counts but the
//! object does not own (a 3.13+ dict's values embedded in an instance).

use heapscope_coredump::{Addr, ProcessImage};

use super::mem::Mem;
use super::sizeof::sizeof;
use super::type_facts::{facts, SizeofKind, TypeCache, TypeFacts};
use crate::objects::{flags, DecodeError, Heap};

/// Per-object facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo {
    /// `type(o)`.
    pub ty: Addr,
    /// `sys.getsizeof(o)`.
    pub size: u64,
    /// Bytes the object occupies: pre-header + object + out-of-line storage it owns (list item arrays, dict keys
    /// and values tables, set tables, bytearray buffers, managed values, …).
    pub footprint: u64,
    /// The reference count (see the module documentation for immortal objects).
    pub refcount: i64,
    /// Immortal (3.12+).
    pub immortal: bool,
    /// `gc.is_tracked(o)`.
    pub gc_tracked: bool,
    /// `len(o)` for str, bytes, bytearray, tuple, list, dict, set, frozenset and deque (and their subclasses).
    pub len: Option<u64>,
    /// `gc.is_gc(o)` (`PyObject_IS_GC`).
    pub is_gc: bool,
}

/// The facts of the object at `obj`. Builds a throw-away [`TypeCache`]; for many objects use [`object_info_with`].
pub fn object_info<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr) -> Result<ObjectInfo, DecodeError> {
    object_info_with(heap, &mut TypeCache::new(heap), obj)
}

/// The facts of the object at `obj`, with type facts from (and into) `cache`.
pub fn object_info_with<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    cache: &mut TypeCache,
    obj: Addr,
) -> Result<ObjectInfo, DecodeError> {
    let m = Mem::new(heap);
    let ty = m.ptr(obj, &m.l.object.ob_type, "object header")?;
    let TypeCache { known, map } = cache;
    let f = facts(map, known, heap, ty)?;
    info_of(&m, known, f, ty, obj)
}

/// [`object_info_with`] and [`super::referents_with`] in one pass over the object: its type and the type's facts
/// are looked up once. The outer error is the object's facts failing (nothing appended); the inner one, its
/// references (what was appended before the failure stays in `out`).
pub fn object_and_referents_with<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    cache: &mut TypeCache,
    obj: Addr,
    out: &mut Vec<super::Ref>,
) -> Result<(ObjectInfo, Result<(), DecodeError>), DecodeError> {
    let m = Mem::new(heap);
    let ty = m.ptr(obj, &m.l.object.ob_type, "object header")?;
    let TypeCache { known, map } = cache;
    let f = facts(map, known, heap, ty)?;
    let info = info_of(&m, known, f, ty, obj)?;
    Ok((info, super::traverse::refs_of(&m, known, f, ty, obj, info.is_gc, out)))
}

/// The facts of `obj`, whose type `ty` has the facts `f`.
fn info_of<P: ProcessImage + ?Sized>(
    m: &Mem<'_, '_, P>,
    known: &super::type_facts::Known,
    f: &TypeFacts,
    ty: Addr,
    obj: Addr,
) -> Result<ObjectInfo, DecodeError> {
    let heap = m.heap;
    let features = heap.features();
    let raw = m.field(obj, &m.l.object.ob_refcnt, "object header")?;
    let (refcount, immortal) = features.refcount.decode(raw);
    let is_gc = is_gc_object(m, f, obj)?;
    let gc_head = features.gc_head_size;
    let gc_tracked = is_gc && {
        let head = obj.checked_sub(gc_head).ok_or_else(|| super::mem::malformed(obj, "object", "GC head below 0"))?;
        m.field_of(obj, head, &m.l.gc_head.gc_next, "GC head")? != 0
    };
    let sz = sizeof(m, f, obj)?;
    let pre = features.getsizeof.bytes(gc_head, f.have_gc(), is_gc, f.managed_words, known.type_type == Some(ty));
    let in_memory = if is_gc { gc_head } else { 0 } + f.managed_words;
    let owned = if f.sizeof == SizeofKind::Default {
        heap.instance_values_bytes(obj, ty, f.flags, f.basicsize).unwrap_or(0)
    } else {
        0
    };
    Ok(ObjectInfo {
        ty,
        size: sz.size.saturating_add(pre),
        footprint: sz.footprint.saturating_add(in_memory).saturating_add(owned),
        refcount,
        immortal,
        gc_tracked,
        len: len_of(m, f, obj)?,
        is_gc,
    })
}

/// `PyObject_IS_GC(obj)`: the type has `HAVE_GC`; a type object only when it is a heap type.
pub(crate) fn is_gc_object<P: ProcessImage + ?Sized>(
    m: &Mem<'_, '_, P>,
    f: &TypeFacts,
    obj: Addr,
) -> Result<bool, DecodeError> {
    if !f.have_gc() {
        return Ok(false);
    }
    if f.is_metatype() {
        return Ok(m.field(obj, &m.l.type_object.tp_flags, "type")? & flags::HEAPTYPE != 0);
    }
    Ok(true)
}

/// `len(obj)` for the kinds that have a cheap one.
fn len_of<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, f: &TypeFacts, obj: Addr) -> Result<Option<u64>, DecodeError> {
    let fl = f.flags;
    let size = |_| -> Result<Option<u64>, DecodeError> { Ok(Some(m.ob_size(obj)?.max(0) as u64)) };
    if fl & (flags::LIST_SUBCLASS | flags::TUPLE_SUBCLASS | flags::BYTES_SUBCLASS) != 0 {
        return size(());
    }
    if fl & flags::UNICODE_SUBCLASS != 0 {
        return Ok(Some(m.field(obj, &m.l.ascii.length, "str")?));
    }
    if fl & flags::DICT_SUBCLASS != 0 {
        return Ok(Some(m.field(obj, &m.l.dict.ma_used, "dict")?));
    }
    Ok(match f.sizeof {
        SizeofKind::Set => Some(m.field(obj, &m.l.set.used, "set")?),
        SizeofKind::ByteArray | SizeofKind::Deque => size(())?,
        _ => None,
    })
}
