//! `tp_traverse` of frame objects and generators / coroutines, and the hidden references of code objects.
//!
//! - ≤3.10 `frame_traverse`: `f_back`, `f_code`, `f_builtins`, `f_globals`, `f_locals`, `f_trace`, the
//!   `co_nlocals + ncells + nfrees` fast locals, then the value stack (3.8/3.9 up to `f_stacktop`, NULL while the
//!   frame runs; 3.10 `f_stackdepth` entries).
//! - 3.11+ `frame_traverse`: `f_back`, `f_trace` (3.13+ `f_extra_locals`, `f_locals_cache`; 3.14
//!   `f_overwritten_fast_locals`), then, when the frame object owns its interpreter frame, `_PyFrame_Traverse`:
//!   `frame_obj`, `f_locals`, the function, the code, and `localsplus` up to the stack top (3.14: `_PyStackRef`s,
//!   tagged ints skipped).
//! - generators: ≤3.10 `gi_frame`, `gi_code`, name, qualname, the saved exception (type, value, traceback); 3.11
//!   `gi_code`, name, qualname, the embedded frame unless cleared, the saved exception value; 3.12+ the same
//!   without `gi_code` (3.14: the code even when the frame is cleared); async generators first their finalizer.

use heapscope_coredump::{Addr, ProcessImage};

use super::Cx;
use crate::frames::SlotNames;
use crate::heap::labels::Label;
use crate::heap::mem::malformed;
use crate::objects::DecodeError;

/// `FRAME_OWNED_BY_FRAME_OBJECT`.
const OWNED_BY_FRAME_OBJECT: u8 = 2;
/// Most fast-local and stack slots visited in one frame.
const MAX_SLOTS: u64 = 1 << 20;

/// `frame_traverse`.
pub(super) fn frame<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let l = cx.m.l;
    let fo = &l.frame_object;
    cx.visit_field(&fo.f_back, "f_back")?;
    if fo.f_code.is_known() {
        return frame_310(cx);
    }
    cx.visit_field(&fo.f_trace, "f_trace")?;
    cx.visit_field(&fo.f_extra_locals, "f_extra_locals")?;
    cx.visit_field(&fo.f_locals_cache, "f_locals_cache")?;
    cx.visit_field(&fo.f_overwritten_fast_locals, "f_overwritten_fast_locals")?;
    let iframe = Addr(cx.get(&fo.f_frame)?);
    if iframe.is_null() {
        return Ok(());
    }
    let owner =
        cx.m.byte(cx.obj, iframe.wrapping_add(cx.m.off(cx.obj, &l.iframe.owner, "frame")?), "frame", "owner")?;
    if owner != OWNED_BY_FRAME_OBJECT {
        return Ok(());
    }
    interpreter_frame(cx, iframe)
}

/// ≤3.10 `frame_traverse` (after `f_back`).
fn frame_310<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let m = cx.m;
    let fo = &m.l.frame_object;
    let code = Addr(cx.get(&fo.f_code)?);
    cx.visit(code.0, Label::Field("f_code"));
    cx.visit_field(&fo.f_builtins, "f_builtins")?;
    cx.visit_field(&fo.f_globals, "f_globals")?;
    cx.visit_field(&fo.f_locals, "f_locals")?;
    cx.visit_field(&fo.f_trace, "f_trace")?;
    if code.is_null() {
        return Ok(());
    }
    let names = SlotNames::of(m.heap, code)?;
    let slots = names.len() as u64;
    let total = cx.m.ob_size(cx.obj)?.max(0) as u64;
    if slots > total || slots > MAX_SLOTS {
        return Err(malformed(cx.obj, "frame", format!("{slots} locals in {total} slots")));
    }
    let locals = cx.obj.wrapping_add(m.off(cx.obj, &fo.f_localsplus, "frame")?);
    for i in 0..slots {
        let v = m.word(cx.obj, locals.wrapping_add(8 * i), "frame", "f_localsplus")?;
        let name = names.name(m.p, i as usize).ok().flatten().unwrap_or(Addr::NULL);
        cx.visit(v, Label::Local { name, index: i as u32 });
    }
    let stack = Addr(cx.get(&fo.f_valuestack)?);
    let depth = if fo.f_stackdepth.is_known() {
        // An `int`; -1 while the frame executes (nothing on the stack is visited then).
        let d =
            m.word32(cx.obj, cx.obj.wrapping_add(m.off(cx.obj, &fo.f_stackdepth, "frame")?), "frame", "f_stackdepth")?;
        (d as i32).max(0) as u64
    } else {
        let top = cx.get(&fo.f_stacktop)?;
        if top == 0 {
            0
        } else {
            top.checked_sub(stack.0).ok_or_else(|| malformed(cx.obj, "frame", "stack top below its base"))? / 8
        }
    };
    if depth > total {
        return Err(malformed(cx.obj, "frame", format!("stack depth {depth}")));
    }
    for i in 0..depth {
        let v = m.word(cx.obj, stack.wrapping_add(8 * i), "frame", "f_valuestack")?;
        cx.visit(v, Label::Stack(i as u32));
    }
    Ok(())
}

/// `_PyFrame_Traverse` of the interpreter frame at `iframe`.
fn interpreter_frame<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>, iframe: Addr) -> Result<(), DecodeError> {
    let m = cx.m;
    let f = &m.l.iframe;
    let model = m.heap.frame_model();
    let obj = cx.obj;
    let rd = |fl: &crate::layout::Field| m.field_of(obj, iframe, fl, "interpreter frame");
    let frame_obj = rd(&f.frame_obj)?;
    cx.visit(frame_obj, Label::Field("frame_obj"));
    let locals = rd(&f.locals)?;
    cx.visit(locals, Label::Field("f_locals"));
    let func = model.object(rd(&f.funcobj)?).0;
    cx.visit(func, Label::Field("f_funcobj"));
    let code = model.object(rd(&f.executable)?).0;
    cx.visit(code, Label::Field("f_executable"));
    let base = iframe.wrapping_add(m.off(cx.obj, &f.localsplus, "interpreter frame")?);
    let n = crate::frames::stack_top(m.heap, iframe)?;
    if n > MAX_SLOTS {
        return Err(malformed(cx.obj, "frame", format!("{n} frame slots")));
    }
    let names = if code == 0 { None } else { SlotNames::of(m.heap, Addr(code)).ok() };
    for i in 0..n {
        let v = model.object(m.word(cx.obj, base.wrapping_add(8 * i), "frame", "localsplus")?).0;
        let name = names.and_then(|names| names.name(m.p, i as usize).ok().flatten());
        match name {
            Some(name) => cx.visit(v, Label::Local { name, index: i as u32 }),
            None => cx.visit(v, Label::Stack(i as u32)),
        }
    }
    Ok(())
}

/// `gen_traverse` (generators, coroutines, async generators).
pub(super) fn generator<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let l = cx.m.l;
    let g = &l.gen;
    let es = &l.err_stack_item;
    // `async_gen_traverse`: the finalizer hook (`ag_finalizer`; 3.11+ `ag_origin_or_finalizer`), then `gen_traverse`.
    if Some(cx.f.ty) == cx.m.heap.statics().generator_types[2] {
        cx.visit_field(&l.async_gen.finalizer, "ag_finalizer")?;
    }
    let exc = cx.obj.wrapping_add(cx.m.off(cx.obj, &g.gi_exc_state, "generator")?);
    let exc_field = |cx: &Cx<'_, '_, '_, P>, f: &crate::layout::Field| -> Result<u64, DecodeError> {
        if f.is_known() {
            cx.m.field_of(cx.obj, exc, f, "generator")
        } else {
            Ok(0)
        }
    };
    if !g.gi_iframe.is_known() {
        cx.visit_field(&g.gi_frame, "gi_frame")?;
        cx.visit_field(&g.gi_code, "gi_code")?;
        cx.visit_field(&g.gi_name, "gi_name")?;
        cx.visit_field(&g.gi_qualname, "gi_qualname")?;
        for (f, name) in
            [(&es.exc_type, "exc_type"), (&es.exc_value, "exc_value"), (&es.exc_traceback, "exc_traceback")]
        {
            let v = exc_field(cx, f)?;
            cx.visit(v, Label::Field(name));
        }
        return Ok(());
    }
    cx.visit_field(&g.gi_code, "gi_code")?;
    cx.visit_field(&g.gi_name, "gi_name")?;
    cx.visit_field(&g.gi_qualname, "gi_qualname")?;
    let state = cx.m.byte(
        cx.obj,
        cx.obj.wrapping_add(cx.m.off(cx.obj, &g.gi_frame_state, "generator")?),
        "generator",
        "gi_frame_state",
    )? as i8;
    let iframe = cx.obj.wrapping_add(cx.m.off(cx.obj, &g.gi_iframe, "generator")?);
    if state < cx.m.heap.frame_model().frame_cleared {
        interpreter_frame(cx, iframe)?;
    } else if cx.m.heap.frame_model().cleared_frame_keeps_executable {
        let code = cx.m.field_of(cx.obj, iframe, &l.iframe.executable, "generator")?;
        let code = cx.m.heap.frame_model().object(code).0;
        cx.visit(code, Label::Field("f_executable"));
    }
    let v = exc_field(cx, &es.exc_value)?;
    cx.visit(v, Label::Field("exc_value"));
    Ok(())
}

/// A code object's references (all Hidden: code objects are not GC objects): constants, names, local names, file
/// name, name, qualified name, line and exception tables, and (≤3.10) the bytecode.
pub(super) fn code_hidden<P: ProcessImage + ?Sized>(cx: &mut Cx<'_, '_, '_, P>) -> Result<(), DecodeError> {
    let c = &cx.m.l.code;
    for (f, name) in [
        (&c.consts, "co_consts"),
        (&c.names, "co_names"),
        (&c.code, "co_code"),
        (&c.varnames, "co_varnames"),
        (&c.cellvars, "co_cellvars"),
        (&c.freevars, "co_freevars"),
        (&c.localsplusnames, "co_localsplusnames"),
        (&c.localspluskinds, "co_localspluskinds"),
        (&c.filename, "co_filename"),
        (&c.name, "co_name"),
        (&c.qualname, "co_qualname"),
        (&c.lnotab, "co_lnotab"),
        (&c.linetable, "co_linetable"),
        (&c.exceptiontable, "co_exceptiontable"),
    ] {
        cx.hide_field(f, name)?;
    }
    Ok(())
}
