//! Outgoing references of an object: exactly what its type's `tp_traverse` visits ([`RefKind::Traverse`], whose
//! multiset is `gc.get_referents(obj)`), plus the strong references `tp_traverse` leaves out ([`RefKind::Hidden`])
//! and weak ones ([`RefKind::Weak`]).
//!
//! `tp_traverse` is emulated per type family, in CPython's visiting order (lists and tuples are visited last item
//! first: `for (i = Py_SIZE(o); --i >= 0; ) Py_VISIT(o->ob_item[i])`):
//!
//! - `containers`: dict (and subclasses, `defaultdict`, `OrderedDict`, ctypes' `StgDict`), list, tuple, set,
//!   frozenset, deque;
//! - `instances`: `subtype_traverse` (instances of classes: `__slots__`, `__dict__` or 3.11+ managed / inline
//!   values, `Py_TYPE` for heap types, then the first C base's traverse) and `type_traverse`;
//! - `callables`: functions, cells, bound methods, builtin functions and methods, descriptors, `method-wrapper`,
//!   property, classmethod, staticmethod;
//! - `frames`: frame objects, generators and coroutines (≤3.10 through their frame object, 3.11+ through the
//!   embedded `_PyInterpreterFrame`), code objects (hidden only: they are not GC objects);
//! - `misc`: modules, weakrefs, exceptions, tracebacks, slices, and the objects of built-in and extension modules.
//!
//! Non-GC objects (`PyObject_IS_GC` false) get no Traverse edges, like `gc.get_referents`. A GC type whose traverse
//! heapscope does not know gets none either (its type facts say [`TraverseKind::Unknown`]).

mod callables;
mod containers;
mod frames;
mod instances;
mod misc;

use heapscope_coredump::{Addr, ProcessImage};

use super::labels::{Label, Ref, RefKind};
use super::mem::Mem;
use super::object_info::is_gc_object;
use super::type_facts::{facts, Known, TraverseKind, TypeCache, TypeFacts};
use crate::layout::Field;
use crate::objects::DecodeError;
use crate::objects::Heap;

/// Most items of one var-sized extension object scanned conservatively.
const MAX_SCAN_ITEMS: u64 = 1 << 16;

/// Appends the references of the object at `obj` to `out`. Builds a throw-away [`TypeCache`]; for many objects
/// use [`referents_with`].
pub fn referents<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    obj: Addr,
    out: &mut Vec<Ref>,
) -> Result<(), DecodeError> {
    referents_with(heap, &mut TypeCache::new(heap), obj, out)
}

/// Appends the references of the object at `obj` to `out`, with type facts from (and into) `cache`. On error, what
/// was appended before the error stays in `out`.
pub fn referents_with<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    cache: &mut TypeCache,
    obj: Addr,
    out: &mut Vec<Ref>,
) -> Result<(), DecodeError> {
    let m = Mem::new(heap);
    let ty = m.ptr(obj, &m.l.object.ob_type, "object header")?;
    let TypeCache { known, map } = cache;
    let f = facts(map, known, heap, ty)?;
    let is_gc = is_gc_object(&m, f, obj)?;
    refs_of(&m, known, f, ty, obj, is_gc, out)
}

/// [`referents_with`] for `obj`, whose type `ty` has the facts `f` (`is_gc`: `PyObject_IS_GC`).
pub(super) fn refs_of<P: ProcessImage + ?Sized>(
    m: &Mem<'_, '_, P>,
    known: &Known,
    f: &TypeFacts,
    ty: Addr,
    obj: Addr,
    is_gc: bool,
    out: &mut Vec<Ref>,
) -> Result<(), DecodeError> {
    let start = out.len();
    let mut cx = Cx { m, known, f, obj, out };
    if is_gc {
        cx.traverse(f.traverse)?;
    }
    cx.hidden_refs()?;
    if let Some(scan) = f.scan {
        cx.conservative(scan)?;
    }
    // A heap type is referenced (counted) by each of its instances; say so when tp_traverse did not.
    if f.is_heap() && !cx.out[start..].iter().any(|r| r.target == ty && r.kind == RefKind::Traverse) {
        cx.out.push(Ref::hidden(ty, Label::Field("ob_type")));
    }
    Ok(())
}

/// One traversal: the object, its type's facts, and where the references go.
pub(crate) struct Cx<'x, 'h, 'a, P: ProcessImage + ?Sized> {
    pub m: &'x Mem<'h, 'a, P>,
    pub known: &'x Known,
    pub f: &'x TypeFacts,
    pub obj: Addr,
    pub out: &'x mut Vec<Ref>,
}

impl<P: ProcessImage + ?Sized> Cx<'_, '_, '_, P> {
    /// `Py_VISIT(target)`: a Traverse edge unless NULL.
    #[inline]
    pub fn visit(&mut self, target: u64, label: Label) {
        if target != 0 {
            self.out.push(Ref::traverse(Addr(target), label));
        }
    }

    /// A Hidden edge unless NULL.
    #[inline]
    pub fn hide(&mut self, target: u64, label: Label) {
        if target != 0 {
            self.out.push(Ref::hidden(Addr(target), label));
        }
    }

    /// The word at `obj + off`.
    #[inline]
    pub fn at(&self, off: u64, field: &'static str) -> Result<u64, DecodeError> {
        self.m.word(self.obj, self.obj.wrapping_add(off), "object", field)
    }

    /// The pointer field `f` of the object (0 when the layout lacks it: the field does not exist in this version).
    #[inline]
    pub fn get(&self, f: &Field) -> Result<u64, DecodeError> {
        if !f.is_known() {
            return Ok(0);
        }
        self.m.field(self.obj, f, "object")
    }

    /// `Py_VISIT(obj->field)` for a layout field named `name` in labels.
    #[inline]
    pub fn visit_field(&mut self, f: &Field, name: &'static str) -> Result<(), DecodeError> {
        let v = self.get(f)?;
        self.visit(v, Label::Field(name));
        Ok(())
    }

    /// A Hidden edge to `obj->field`.
    #[inline]
    pub fn hide_field(&mut self, f: &Field, name: &'static str) -> Result<(), DecodeError> {
        let v = self.get(f)?;
        self.hide(v, Label::Field(name));
        Ok(())
    }

    /// `Py_VISIT(Py_TYPE(self))`.
    #[inline]
    pub fn visit_type(&mut self) {
        let ty = self.f.ty.0;
        self.visit(ty, Label::Field("ob_type"));
    }

    /// Runs the traverse of `kind` on the object.
    pub fn traverse(&mut self, kind: TraverseKind) -> Result<(), DecodeError> {
        use TraverseKind as T;
        match kind {
            T::None | T::Unknown => Ok(()),
            T::Subtype => instances::subtype(self),
            T::Type => instances::type_traverse(self),
            T::CTypeMeta => instances::ctype_meta(self),
            T::CDataType => instances::cdata_type(self),
            T::Dict => containers::dict(self, self.obj),
            T::List => containers::list(self),
            T::Tuple => containers::tuple(self),
            T::StructSeq(n) => containers::structseq(self, n),
            T::Set => containers::set(self),
            T::Deque => containers::deque(self),
            T::DefaultDict => containers::defaultdict(self),
            T::ODict => containers::odict(self),
            T::Function => callables::function(self),
            T::Cell => callables::cell(self),
            T::Method => callables::method(self),
            T::CFunction => callables::cfunction(self),
            T::Descr => callables::descr(self),
            T::MethodWrapper => callables::method_wrapper(self),
            T::Property => callables::property(self),
            T::ClassMethod => callables::classmethod(self),
            T::Frame => frames::frame(self),
            T::Gen => frames::generator(self),
            _ => misc::traverse(self, kind),
        }
    }

    /// The conservative scan of an extension object's own memory: every aligned word in `scan` that is the address
    /// of something that looks like an object (its type's type is a type) becomes a [`RefKind::Conservative`]
    /// reference (the object itself, its type and its weak-reference list aside).
    fn conservative(&mut self, scan: super::type_facts::Scan) -> Result<(), DecodeError> {
        let (m, obj) = (self.m, self.obj);
        // Heap types' traverse must visit `Py_TYPE(self)` (3.9+); the C part of a Python class is visited by
        // `subtype_traverse` already.
        if self.f.is_heap() && self.f.traverse != TraverseKind::Subtype && self.f.have_gc() {
            self.visit_type();
        }
        // The weak-reference list is not a strong reference.
        let weaklist = u64::try_from(self.f.weaklistoffset).ok().filter(|&o| o > 0);
        let n_items = if scan.items { (m.ob_size(obj)?.unsigned_abs()).min(MAX_SCAN_ITEMS) } else { 0 };
        let end = u64::from(scan.to) + 8 * n_items;
        let len = end.saturating_sub(u64::from(scan.from));
        let Ok(bytes) = m.p.bytes(obj.wrapping_add(u64::from(scan.from)), len as usize) else { return Ok(()) };
        for (i, w) in bytes.chunks_exact(8).enumerate() {
            let w = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
            if w == obj.0 || w == self.f.ty.0 || !misc::plausible_object(self, w) {
                continue;
            }
            let off = u64::from(scan.from) + 8 * i as u64;
            if Some(off) == weaklist {
                continue;
            }
            self.out.push(Ref::conservative(Addr(w), Label::Word(off as u32)));
        }
        Ok(())
    }

    /// An ndarray's references (it has no `tp_traverse`): `base`, `descr`, and the items of an object array whose
    /// data it owns (capped).
    fn ndarray_hidden(&mut self) -> Result<(), DecodeError> {
        let h = super::numpy::head(self.m, self.obj)?;
        self.hide(self.get(&self.m.l.ndarray.base)?, Label::Field("base"));
        self.hide(h.descr.0, Label::Field("descr"));
        for (i, item) in super::numpy::object_items(self.m, self.obj, &h)?.into_iter().enumerate() {
            self.hide(item, Label::Index(i as u32));
        }
        Ok(())
    }

    /// The strong references `tp_traverse` leaves out, and weak ones.
    fn hidden_refs(&mut self) -> Result<(), DecodeError> {
        use super::type_facts::SizeofKind as S;
        match (self.f.sizeof, self.f.base_traverse) {
            (S::Code, _) => frames::code_hidden(self),
            (S::Type, _) => instances::type_hidden(self),
            (S::ByteArray, _) => self.hide_field(&self.m.l.bytearray.ob_bytes_object, "ob_bytes_object"),
            (S::NdArray, _) => self.ndarray_hidden(),
            (_, TraverseKind::Descr) => {
                let d = &self.m.l.descr;
                self.hide_field(&d.d_name, "d_name")?;
                self.hide_field(&d.d_qualname, "d_qualname")
            }
            (_, TraverseKind::WeakRef) => {
                let target = self.get(&self.m.l.weakref.wr_object)?;
                if target != 0 {
                    self.out.push(Ref::weak(Addr(target), Label::Field("wr_object")));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
