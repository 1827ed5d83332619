//! `subtype_traverse` (instances of classes made by a `class` statement) and `type_traverse` (heap types).
//!
//! `subtype_traverse`, per version:
//! 1. the `__slots__` (`T_OBJECT_EX` members) of every class in the chain whose traverse is `subtype_traverse`;
//! 2. the attributes: ≤3.10 the `__dict__` pointer (when the class added it); 3.11 the managed values
//!    (`values[0..dk_nentries]` of the class's shared keys) then the managed dict; 3.12 the values *or* the dict of
//!    the tagged `PyDictOrValues`; 3.13+ the inline values (`values[0..capacity]`) while valid, else the dict;
//! 3. `Py_TYPE(self)` for heap types (3.8 always; 3.9+ only when the first non-subtype base is not itself a heap
//!    type, whose own traverse visits it);
//! 4. that base's traverse.

use heapscope_coredump::{Addr, ProcessImage};

use super::Cx;
use crate::heap::labels::Label;
use crate::heap::mem::malformed;
use crate::heap::sizeof::stginfo;
use crate::heap::type_facts::TraverseKind;
use crate::objects::{flags, AttrStorage, DecodeError};

/// `subtype_traverse`.
pub(super) fn subtype<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let Some(info) = cx.f.subtype.as_deref() else { return Ok(()) };
    for &off in &info.slots {
        let v = cx.at(u64::from(off), "slot")?;
        cx.visit(v, Label::Slot(off));
    }
    if info.managed {
        managed_attributes(cx)?;
    } else if info.dict {
        if let Some(at) = cx.m.heap.dict_ptr(cx.obj, cx.f.dictoffset, cx.f.basicsize, cx.f.itemsize)? {
            let d = cx.m.word(cx.obj, at, "instance", "dict pointer")?;
            cx.visit(d, Label::Field("__dict__"));
        }
    }
    if info.visit_type {
        cx.visit_type();
    }
    let base = cx.f.base_traverse;
    if base != TraverseKind::Subtype {
        cx.traverse(base)?;
    }
    Ok(())
}

/// 3.11+: the managed values or dict of an instance (`_PyObject_VisitInstanceAttributes` /
/// `_PyObject_VisitManagedDict`), wherever [`crate::objects::Heap::managed_storage`] finds them.
pub(super) fn managed_attributes<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let (heap, obj) = (cx.m.heap, cx.obj);
    match heap.managed_storage(obj, cx.f.ty, cx.f.flags, cx.f.basicsize)? {
        AttrStorage::None => Ok(()),
        AttrStorage::Dict(d) => {
            cx.visit(d.0, Label::Field("__dict__"));
            Ok(())
        }
        AttrStorage::Values { values, keys } => {
            let n = heap.values_slots(obj, values, keys)?;
            visit_values(cx, values, n)
        }
    }
}

/// Visits `values[0..n]` of a `PyDictValues` at `values` (labelled with the shared keys' names when readable).
fn visit_values<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>, values: Addr, n: u64) -> Result<(), DecodeError> {
    let m = cx.m;
    let obj = cx.obj;
    if n > 255 {
        return Err(malformed(obj, "values", format!("{n} values")));
    }
    let vals = values.wrapping_add(m.off(obj, &m.l.dict_values.values, "values")?);
    let names = shared_key_names(cx);
    for i in 0..n {
        let v = m.word(obj, vals.wrapping_add(8 * i), "values", "values")?;
        let name = names.and_then(|(at, size)| m.p.read_u64(at.wrapping_add(i * size)).ok()).unwrap_or(0);
        cx.visit(v, Label::Attr { name: Addr(name) });
    }
    Ok(())
}

/// Where the shared keys' entries of the object's class are: (address of entry 0's key, entry size).
fn shared_key_names<P: ProcessImage + ?Sized>(cx: &Cx<'_, '_, '_, P>) -> Option<(Addr, u64)> {
    let m = cx.m;
    let keys = m.ptr(cx.f.ty, &m.l.heap_type.ht_cached_keys, "heap type").ok()?;
    if keys.is_null() {
        return None;
    }
    let kl = &m.l.dict_keys;
    let log2i = m.p.read_u8(keys.wrapping_add(kl.dk_log2_index_bytes.get().ok()?)).ok()?;
    if log2i > 43 {
        return None;
    }
    let e = &m.l.dict_unicode_entry;
    let at = keys.wrapping_add(kl.dk_indices.get().ok()?).wrapping_add(1 << log2i).wrapping_add(e.me_key.get().ok()?);
    Some((at, e.size.get().ok()?))
}

/// `type_traverse`: `tp_dict`, `tp_cache`, `tp_mro`, `tp_bases`, `tp_base`, 3.9+ `ht_module`.
pub(super) fn type_traverse<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let l = cx.m.l;
    let t = &l.type_object;
    cx.visit_field(&t.tp_dict, "tp_dict")?;
    cx.visit_field(&t.tp_cache, "tp_cache")?;
    cx.visit_field(&t.tp_mro, "tp_mro")?;
    cx.visit_field(&t.tp_bases, "tp_bases")?;
    cx.visit_field(&t.tp_base, "tp_base")?;
    cx.visit_field(&l.heap_type.ht_module, "ht_module")
}

/// ctypes' metatypes 3.13+ (`CType_Type_traverse`): the `StgInfo` objects, `Py_TYPE`, then `type_traverse`.
pub(super) fn ctype_meta<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let info = stginfo(cx.m, cx.obj)?;
    let l = cx.m.l;
    let o = &l.stginfo;
    let init = info.wrapping_add(cx.m.off(cx.obj, &o.initialized, "ctypes type")?);
    if cx.m.word32(cx.obj, init, "ctypes type", "initialized")? != 0 {
        // `pointer_type` is 3.14+: unknown before, and left out.
        for f in [&o.proto, &o.argtypes, &o.converters, &o.restype, &o.checker, &o.pointer_type, &o.module] {
            if f.is_known() {
                let v = cx.m.field_of(cx.obj, info, f, "ctypes type")?;
                cx.visit(v, Label::Field(f.name));
            }
        }
    }
    let meta = cx.m.ptr(cx.obj, &cx.m.l.object.ob_type, "ctypes type")?;
    cx.visit(meta.0, Label::Field("ob_type"));
    type_traverse(cx)
}

/// ctypes' metatypes ≤3.12 (`CDataType_traverse`): `proto`, `argtypes`, `converters`, `restype` and `checker` of
/// the class's `StgDict` (its `tp_dict`), then `type_traverse`.
pub(super) fn cdata_type<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let dict = Addr(cx.get(&cx.m.l.type_object.tp_dict)?);
    if !dict.is_null() {
        let l = cx.m.l;
        let s = &l.stgdict;
        let dty = cx.m.ptr(dict, &cx.m.l.object.ob_type, "ctypes type")?;
        // Only a StgDict (not a plain dict) carries these fields.
        let basic = cx.m.field(dty, &cx.m.l.type_object.tp_basicsize, "ctypes type")?;
        if basic >= cx.m.off(cx.obj, &s.size, "ctypes type")? {
            for f in [&s.proto, &s.argtypes, &s.converters, &s.restype, &s.checker] {
                let v = cx.m.field_of(cx.obj, dict, f, "ctypes type")?;
                cx.visit(v, Label::Field(f.name));
            }
        }
    }
    type_traverse(cx)
}

/// A type object's references `type_traverse` leaves out: heap types' names and `__slots__`; static types'
/// `tp_dict`, `tp_mro`, `tp_bases`, `tp_base` (static types are not GC objects); heap types' `tp_subclasses` (a
/// dict the type owns, of weak references to the subclasses).
pub(super) fn type_hidden<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let l = cx.m.l;
    let fl = cx.m.field(cx.obj, &l.type_object.tp_flags, "type")?;
    if fl & flags::HEAPTYPE != 0 {
        cx.hide_field(&l.heap_type.ht_name, "ht_name")?;
        cx.hide_field(&l.heap_type.ht_qualname, "ht_qualname")?;
        cx.hide_field(&l.heap_type.ht_slots, "ht_slots")?;
        // The dict of weak references to the subclasses: the type owns the dict (its values are the weak part).
        cx.hide_field(&l.type_object.tp_subclasses, "tp_subclasses")?;
    } else {
        let t = &l.type_object;
        let dict = cx.get(&t.tp_dict)?;
        cx.hide(dict, Label::Field("tp_dict"));
        cx.hide_field(&t.tp_mro, "tp_mro")?;
        cx.hide_field(&t.tp_bases, "tp_bases")?;
        cx.hide_field(&t.tp_base, "tp_base")?;
    }
    Ok(())
}
