//! `tp_traverse` of functions, cells, bound methods, builtin functions and methods, descriptors, `method-wrapper`,
//! property, classmethod and staticmethod.

use heapscope_coredump::{Addr, ProcessImage};

use super::Cx;
use crate::heap::labels::Label;
use crate::objects::DecodeError;

/// `METH_METHOD` (3.9+): a `PyCMethodObject` with its defining class in `mm_class`.
const METH_METHOD: u32 = 0x0200;

/// `func_traverse`: code, globals, (3.10+) builtins, module, defaults, kwdefaults, doc, name, dict, closure,
/// annotations, (3.14) annotate, (3.12+) type params, qualname.
pub(super) fn function<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let f = &cx.m.l.function;
    cx.visit_field(&f.func_code, "func_code")?;
    cx.visit_field(&f.func_globals, "func_globals")?;
    cx.visit_field(&f.func_builtins, "func_builtins")?;
    cx.visit_field(&f.func_module, "func_module")?;
    cx.visit_field(&f.func_defaults, "func_defaults")?;
    cx.visit_field(&f.func_kwdefaults, "func_kwdefaults")?;
    cx.visit_field(&f.func_doc, "func_doc")?;
    cx.visit_field(&f.func_name, "func_name")?;
    cx.visit_field(&f.func_dict, "func_dict")?;
    cx.visit_field(&f.func_closure, "func_closure")?;
    cx.visit_field(&f.func_annotations, "func_annotations")?;
    cx.visit_field(&f.func_annotate, "func_annotate")?;
    cx.visit_field(&f.func_typeparams, "func_typeparams")?;
    cx.visit_field(&f.func_qualname, "func_qualname")
}

/// `cell_traverse`.
pub(super) fn cell<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let v = cx.get(&cx.m.l.cell.ob_ref)?;
    cx.visit(v, Label::Cell);
    Ok(())
}

/// `method_traverse`: `im_func`, `im_self`.
pub(super) fn method<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    cx.visit_field(&cx.m.l.method.im_func, "im_func")?;
    cx.visit_field(&cx.m.l.method.im_self, "im_self")
}

/// `meth_traverse`: (3.9+) the defining class of a `METH_METHOD` method, `m_self`, `m_module`.
pub(super) fn cfunction<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let l = cx.m.l;
    if l.cmethod.mm_class.is_known() {
        let ml = Addr(cx.get(&l.cfunction.m_ml)?);
        if !ml.is_null() {
            let at = ml.wrapping_add(cx.m.off(cx.obj, &l.method_def.ml_flags, "builtin function")?);
            let fl = cx.m.word32(cx.obj, at, "builtin function", "ml_flags")?;
            if fl & METH_METHOD != 0 {
                cx.visit_field(&l.cmethod.mm_class, "mm_class")?;
            }
        }
    }
    cx.visit_field(&l.cfunction.m_self, "m_self")?;
    cx.visit_field(&l.cfunction.m_module, "m_module")
}

/// `descr_traverse`: `d_type`.
pub(super) fn descr<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    cx.visit_field(&cx.m.l.descr.d_type, "d_type")
}

/// `wrapper_traverse`: `descr`, `self`.
pub(super) fn method_wrapper<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    cx.visit_field(&cx.m.l.method_wrapper.descr, "descr")?;
    cx.visit_field(&cx.m.l.method_wrapper.self_, "self")
}

/// `property_traverse`: getter, setter, deleter, doc, (3.10+) name.
pub(super) fn property<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let p = &cx.m.l.property;
    cx.visit_field(&p.prop_get, "fget")?;
    cx.visit_field(&p.prop_set, "fset")?;
    cx.visit_field(&p.prop_del, "fdel")?;
    cx.visit_field(&p.prop_doc, "__doc__")?;
    cx.visit_field(&p.prop_name, "__name__")
}

/// `cm_traverse` / `sm_traverse`: the callable and the instance dict.
pub(super) fn classmethod<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    cx.visit_field(&cx.m.l.classmethod.cm_callable, "__func__")?;
    cx.visit_field(&cx.m.l.classmethod.cm_dict, "__dict__")
}
