//! `tp_traverse` of modules, weakrefs, exceptions, tracebacks, slices, views and iterators, and the objects of
//! built-in and extension modules (`functools`, `re`, `itertools`, `_abc`, `_io`, `_thread`, `_struct`, `_json`,
//! `_contextvars`, `typing`, `ast`, `_socket`, `_asyncio`, ctypes).
//!
//! C types converted to heap types (3.9–3.13, module by module) visit `Py_TYPE(self)` first; heapscope does so
//! exactly when the type implementing the traverse is a heap type.
//!
//! A module's `m_traverse` visits the objects of its C state (`md_state`, `m_size` bytes), a struct private to each
//! extension. heapscope approximates it by visiting, in order, every word of the state that points to something
//! that reads as an object (its type's type has `Py_TPFLAGS_TYPE_SUBCLASS`), then `md_dict`.

use heapscope_coredump::{Addr, ProcessImage};

use super::Cx;
use crate::heap::labels::Label;
use crate::heap::mem::malformed;
use crate::heap::type_facts::TraverseKind;
use crate::layout::Field;
use crate::objects::{flags, DecodeError, ManagedDict};

/// Largest module state scanned (bytes).
const MAX_MODULE_STATE: u64 = 1 << 16;
/// Most nodes of an lru_cache's list visited.
const MAX_LRU_NODES: u64 = 1 << 24;

/// The traverse of the kinds not handled by the other modules.
pub(super) fn traverse<P: ProcessImage + ?Sized>(
    cx: &mut Cx<'_, '_, '_, P>,
    kind: TraverseKind,
) -> Result<(), DecodeError> {
    use TraverseKind as T;
    let l = cx.m.l;
    let fields: &[(&Field, &'static str)] = match kind {
        T::Module => return module(cx),
        T::LruCache => return lru_cache(cx),
        T::Struct | T::Scanner | T::CFuncPtr => return ext_type(cx, kind),
        T::Future | T::Task | T::FutureIter => return asyncio(cx, kind),
        // `TaskWakeupMethWrapper_traverse` (a static type).
        T::TaskWakeup => return cx.visit_field(&l.task_wakeup.task, "ww_task"),
        T::TypeVar => return typevar(cx),
        T::Ast => return ast(cx),
        T::WeakRef => &[(&l.weakref.wr_callback, "wr_callback")],
        T::Traceback => &[(&l.traceback.tb_next, "tb_next"), (&l.traceback.tb_frame, "tb_frame")],
        T::Exception => &[
            (&l.base_exception.dict, "__dict__"),
            (&l.base_exception.args, "args"),
            (&l.base_exception.notes, "__notes__"),
            (&l.base_exception.traceback, "__traceback__"),
            (&l.base_exception.context, "__context__"),
            (&l.base_exception.cause, "__cause__"),
        ],
        T::Slice => &[(&l.slice.start, "start"), (&l.slice.stop, "stop"), (&l.slice.step, "step")],
        T::LazyImport => &[
            (&l.lazy_import.lz_builtins, "lz_builtins"),
            (&l.lazy_import.lz_from, "lz_from"),
            (&l.lazy_import.lz_attr, "lz_attr"),
            (&l.lazy_import.lz_code, "lz_code"),
        ],
        T::Sentinel => &[(&l.sentinel.name, "name"), (&l.sentinel.module, "module")],
        T::ContextVar => &[(&l.context_var.var_name, "name"), (&l.context_var.var_default, "default")],
        T::TypeAlias => {
            if cx.known.features.typing_visits_name {
                cx.visit_field(&l.typealias.name, "__name__")?;
                cx.visit_field(&l.typealias.qualname, "__qualname__")?;
            }
            &[
                (&l.typealias.type_params, "__type_params__"),
                (&l.typealias.compute_value, "compute_value"),
                (&l.typealias.value, "__value__"),
                (&l.typealias.module, "__module__"),
            ]
        }
        T::Namespace => &[(&l.namespace.ns_dict, "__dict__")],
        T::MappingProxy => &[(&l.mappingproxy.mapping, "mapping")],
        T::DictView => &[(&l.dict_view.dv_dict, "dv_dict")],
        T::ListIter => &[(&l.list_iter.it_seq, "it_seq")],
        T::MemoryView => &[(&l.memoryview.mbuf, "mbuf")],
        T::ManagedBuffer => &[(&l.managed_buffer.master_obj, "obj")],
        T::Context => &[(&l.context.ctx_prev, "ctx_prev"), (&l.context.ctx_vars, "ctx_vars")],
        T::Hamt => &[(&l.hamt.h_root, "h_root")],
        T::GenericAlias => &[
            (&l.generic_alias.origin, "__origin__"),
            (&l.generic_alias.args, "__args__"),
            (&l.generic_alias.parameters, "__parameters__"),
        ],
        T::Union => &[
            (&l.union_object.args, "__args__"),
            (&l.union_object.hashable_args, "hashable_args"),
            (&l.union_object.unhashable_args, "unhashable_args"),
            (&l.union_object.parameters, "__parameters__"),
        ],
        T::Partial => &[
            (&l.partial.fn_, "func"),
            (&l.partial.args, "args"),
            (&l.partial.kw, "keywords"),
            (&l.partial.dict, "__dict__"),
        ],
        T::Pattern => &[
            (&l.pattern.groupindex, "groupindex"),
            (&l.pattern.indexgroup, "indexgroup"),
            (&l.pattern.pattern, "pattern"),
        ],
        T::Count => &[(&l.count.long_cnt, "long_cnt"), (&l.count.long_step, "long_step")],
        T::AbcData => &[
            (&l.abc_data.registry, "_abc_registry"),
            (&l.abc_data.cache, "_abc_cache"),
            (&l.abc_data.negative_cache, "_abc_negative_cache"),
        ],
        T::TextIo => &[
            (&l.textio.buffer, "buffer"),
            (&l.textio.encoding, "encoding"),
            (&l.textio.encoder, "encoder"),
            (&l.textio.decoder, "decoder"),
            (&l.textio.readnl, "readnl"),
            (&l.textio.decoded_chars, "decoded_chars"),
            (&l.textio.pending_bytes, "pending_bytes"),
            (&l.textio.snapshot, "snapshot"),
            (&l.textio.errors, "errors"),
            (&l.textio.raw, "raw"),
            (&l.textio.dict, "__dict__"),
        ],
        T::Buffered => &[(&l.buffered.raw, "raw"), (&l.buffered.dict, "__dict__")],
        T::FileIo => &[(&l.fileio.dict, "__dict__")],
        T::ThreadLocal => &[
            (&l.thread_local.args, "args"),
            (&l.thread_local.kw, "kw"),
            (&l.thread_local.dummies, "dummies"),
            (&l.thread_local.localdicts, "localdicts"),
            (&l.thread_local.thread_watchdogs, "thread_watchdogs"),
        ],
        T::TypeOnly => &[],
        T::TupleGetter => &[(&l.tuple_getter.doc, "__doc__")],
        _ => return Ok(()),
    };
    let converted = matches!(
        kind,
        T::Partial
            | T::Pattern
            | T::Count
            | T::AbcData
            | T::TextIo
            | T::Buffered
            | T::FileIo
            | T::ThreadLocal
            | T::TypeOnly
            | T::TupleGetter
    );
    if converted && cx.f.base_is_heap {
        cx.visit_type();
    }
    for &(f, name) in fields {
        cx.visit_field(f, name)?;
    }
    Ok(())
}

/// `module_traverse`: the C state (approximated, see the module documentation), then `md_dict`.
fn module<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let m = cx.m;
    let l = m.l;
    let state = Addr(cx.get(&l.module.md_state)?);
    // The state's traverse and size: in the module itself (3.15+), else in its `PyModuleDef`.
    let (trav, size) = if l.module.md_state_traverse.is_known() {
        (cx.get(&l.module.md_state_traverse)?, cx.get(&l.module.md_state_size)? as i64)
    } else {
        let def = Addr(cx.get(&l.module.md_def)?);
        if def.is_null() {
            (0, 0)
        } else {
            let trav = m.field_of(cx.obj, def, &l.module_def.m_traverse, "module def")?;
            (trav, m.field_of(cx.obj, def, &l.module_def.m_size, "module def")? as i64)
        }
    };
    if !state.is_null() && trav != 0 && size > 0 {
        let size = (size as u64).min(MAX_MODULE_STATE);
        for i in 0..size / 8 {
            let Ok(w) = m.p.read_u64(state.wrapping_add(8 * i)) else { break };
            if looks_like_object(cx, w) {
                cx.visit(w, Label::ModuleState(i as u32));
            }
        }
    }
    cx.visit_field(&l.module.md_dict, "__dict__")
}

/// True if `w` points to something whose type's type is a type (a cheap plausibility check, no allocation).
pub(super) fn looks_like_object<P: ProcessImage + ?Sized>(cx: &Cx<'_, '_, '_, P>, w: u64) -> bool {
    if w == 0 || w & 7 != 0 {
        return false;
    }
    let p = cx.m.p;
    let Ok(ty_off) = cx.m.l.object.ob_type.get() else { return false };
    let Ok(fl_off) = cx.m.l.type_object.tp_flags.get() else { return false };
    let Ok(ty) = p.read_u64(Addr(w).wrapping_add(ty_off)) else { return false };
    if ty == 0 || ty & 7 != 0 {
        return false;
    }
    let Ok(meta) = p.read_u64(Addr(ty).wrapping_add(ty_off)) else { return false };
    if meta == 0 || meta & 7 != 0 {
        return false;
    }
    p.read_u64(Addr(meta).wrapping_add(fl_off)).is_ok_and(|fl| fl & flags::TYPE_SUBCLASS != 0)
}

/// Longest `tp_name` accepted for the type of a conservatively found object.
const MAX_SCAN_TYPE_NAME: usize = 200;

/// A stricter [`looks_like_object`] for the conservative scan, whose candidates are arbitrary words: also a plausible
/// refcount for this interpreter, and a type that is ready, has a plausible basic size and a printable `tp_name`.
pub(super) fn plausible_object<P: ProcessImage + ?Sized>(cx: &Cx<'_, '_, '_, P>, w: u64) -> bool {
    if !looks_like_object(cx, w) {
        return false;
    }
    let (p, l) = (cx.m.p, cx.m.l);
    let at = |base: u64, f: &Field| f.offset.map(|o| Addr(base).wrapping_add(u64::from(o)));
    let word = |a: Option<Addr>| a.and_then(|a| p.read_u64(a).ok());
    let Some(rc) = word(at(w, &l.object.ob_refcnt)) else { return false };
    if !cx.m.heap.features().refcount.plausible(rc) {
        return false;
    }
    let Some(ty) = word(at(w, &l.object.ob_type)) else { return false };
    let t = &l.type_object;
    let ready = word(at(ty, &t.tp_flags)).is_some_and(|f| f & flags::READY != 0);
    let sized = word(at(ty, &t.tp_basicsize)).is_some_and(|b| (16..1 << 20).contains(&b));
    let named = word(at(ty, &t.tp_name))
        .and_then(|n| p.read_cstr(Addr(n), MAX_SCAN_TYPE_NAME).ok())
        .is_some_and(|n| !n.is_empty() && n.iter().all(|&b| b.is_ascii_graphic()));
    ready && sized && named
}

/// `lru_cache_tp_traverse`: (heap type) `Py_TYPE`, each list node's key, result and (heap type) type, then the
/// object fields.
fn lru_cache<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    if cx.f.base_is_heap {
        cx.visit_type();
    }
    let m = cx.m;
    let l = m.l;
    let root = cx.obj.wrapping_add(m.off(cx.obj, &l.lru_cache.root, "lru_cache")?);
    let mut link = Addr(m.field_of(cx.obj, root, &l.lru_list_elem.next, "lru_cache")?);
    let mut n = 0u64;
    while !link.is_null() && link != root {
        n += 1;
        if n > MAX_LRU_NODES {
            return Err(malformed(cx.obj, "lru_cache", "list does not return to its root"));
        }
        let k = m.field_of(cx.obj, link, &l.lru_list_elem.key, "lru_cache")?;
        let r = m.field_of(cx.obj, link, &l.lru_list_elem.result, "lru_cache")?;
        cx.visit(k, Label::Field("key"));
        cx.visit(r, Label::Field("result"));
        // A node whose type is a heap type is visited with its type (so on 3.12.1 and 3.14.10).
        let node_ty = Addr(m.field_of(cx.obj, link, &l.object.ob_type, "lru_cache")?);
        if m.field_of(cx.obj, node_ty, &l.type_object.tp_flags, "lru_cache")? & flags::HEAPTYPE != 0 {
            cx.visit(node_ty.0, Label::Field("ob_type"));
        }
        link = Addr(m.field_of(cx.obj, link, &l.lru_list_elem.next, "lru_cache")?);
    }
    let c = &l.lru_cache;
    for (f, name) in [
        (&c.cache, "cache"),
        (&c.func, "__wrapped__"),
        (&c.kwd_mark, "kwd_mark"),
        (&c.lru_list_elem_type, "lru_list_elem_type"),
        (&c.cache_info_type, "cache_info_type"),
        (&c.dict, "__dict__"),
    ] {
        cx.visit_field(f, name)?;
    }
    Ok(())
}

/// Types of extension modules (`_struct.Struct`, `_json.Scanner`, ctypes' function pointers), whose structs the
/// layout has from the modules' own shared objects.
fn ext_type<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>, kind: TraverseKind) -> Result<(), DecodeError> {
    if cx.f.base_is_heap && kind != TraverseKind::CFuncPtr {
        cx.visit_type();
    }
    let l = cx.m.l;
    match kind {
        TraverseKind::Struct => cx.visit_field(&l.struct_object.s_format, "s_format")?,
        TraverseKind::Scanner => {
            let s = &l.scanner;
            for (f, name) in [
                (&s.object_hook, "object_hook"),
                (&s.object_pairs_hook, "object_pairs_hook"),
                (&s.array_hook, "array_hook"),
                (&s.parse_float, "parse_float"),
                (&s.parse_int, "parse_int"),
                (&s.parse_constant, "parse_constant"),
            ] {
                cx.visit_field(f, name)?;
            }
            // `memo` (gone with 3.13) is visited since `_json`'s types became heap types, together with
            // `Py_TYPE(self)`; the static `Scanner` type before that (3.8) visits neither.
            if cx.f.base_is_heap {
                cx.visit_field(&s.memo, "memo")?;
            }
        }
        _ => {
            // `PyCFuncPtr_traverse`, then `PyCData_traverse`.
            let (c, d) = (&l.cfuncptr, &l.cdata);
            for (f, name) in [
                (&c.callable, "callable"),
                (&c.restype, "restype"),
                (&c.checker, "checker"),
                (&c.errcheck, "errcheck"),
                (&c.argtypes, "argtypes"),
                (&c.converters, "converters"),
                (&c.paramflags, "paramflags"),
                (&c.thunk, "thunk"),
                (&d.b_objects, "b_objects"),
                (&d.b_base, "b_base"),
            ] {
                cx.visit_field(f, name)?;
            }
            if cx.f.base_is_heap {
                cx.visit_type();
            }
        }
    }
    Ok(())
}

/// The managed dict (3.11+: `PyObject_VisitManagedDict`) of a C type with `Py_TPFLAGS_MANAGED_DICT`; nothing
/// for a type without one.
fn managed_dict<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    if cx.f.flags & flags::MANAGED_DICT != 0 && cx.known.features.managed_dict != ManagedDict::None {
        super::instances::managed_attributes(cx)?;
    }
    Ok(())
}

/// `typevar_traverse` (3.12+, a heap type): `Py_TYPE`, (see [`crate::objects::Features::typing_visits_name`])
/// name, bound, constraints, (3.13+) default, their evaluators, the managed dict.
fn typevar<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    if cx.f.base_is_heap {
        cx.visit_type();
    }
    let t = &cx.m.l.typevar;
    if cx.known.features.typing_visits_name {
        cx.visit_field(&t.name, "__name__")?;
    }
    for (f, name) in [
        (&t.bound, "__bound__"),
        (&t.evaluate_bound, "evaluate_bound"),
        (&t.constraints, "__constraints__"),
        (&t.evaluate_constraints, "evaluate_constraints"),
        (&t.default_value, "__default__"),
        (&t.evaluate_default, "evaluate_default"),
    ] {
        cx.visit_field(f, name)?;
    }
    managed_dict(cx)
}

/// `ast_traverse`: (heap type, 3.9+) `Py_TYPE`, then the instance dict at `tp_dictoffset` (`AST_object.dict`).
fn ast<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    if cx.f.base_is_heap {
        cx.visit_type();
    }
    if let Some(at) = cx.m.heap.dict_ptr(cx.obj, cx.f.dictoffset, cx.f.basicsize, cx.f.itemsize)? {
        let d = cx.m.word(cx.obj, at, "ast node", "dict")?;
        cx.visit(d, Label::Field("__dict__"));
    }
    Ok(())
}

/// `_asyncio`'s `FutureObj_traverse`, `TaskObj_traverse` (the task's fields, then the future's) and
/// `FutureIter_traverse`. Their types are heap types from 3.12 on and then visit `Py_TYPE(self)` once.
fn asyncio<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>, kind: TraverseKind) -> Result<(), DecodeError> {
    if cx.f.base_is_heap {
        cx.visit_type();
    }
    let l = cx.m.l;
    if kind == TraverseKind::FutureIter {
        return cx.visit_field(&l.future_iter.future, "future");
    }
    if kind == TraverseKind::Task {
        let t = &l.task;
        for (f, name) in
            [(&t.context, "_context"), (&t.coro, "_coro"), (&t.name, "_name"), (&t.fut_waiter, "_fut_waiter")]
        {
            cx.visit_field(f, name)?;
        }
    }
    let u = &l.future;
    for (f, name) in [
        (&u.loop_, "_loop"),
        (&u.callback0, "callback0"),
        (&u.context0, "context0"),
        (&u.callbacks, "_callbacks"),
        (&u.result, "_result"),
        (&u.exception, "_exception"),
        (&u.exception_tb, "_exception_tb"),
        (&u.source_tb, "_source_traceback"),
        (&u.cancel_msg, "_cancel_message"),
        (&u.cancelled_exc, "_cancelled_exc"),
        (&u.awaited_by, "_awaited_by"),
        (&u.dict, "__dict__"),
        (&u.cancelled_exc_type, "cancelled_exc_type"),
        (&u.cancelled_exc_value, "cancelled_exc_value"),
        (&u.cancelled_exc_traceback, "cancelled_exc_traceback"),
    ] {
        cx.visit_field(f, name)?;
    }
    managed_dict(cx)
}
