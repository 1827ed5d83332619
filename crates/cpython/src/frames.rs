//! A thread's Python stack: the frame chain from its innermost frame outwards, each frame's function, file, line and
//! locals.
//!
//! Three frame models (chosen once per interpreter in [`FrameModel::for_version`]):
//!
//! - **≤3.10**: `tstate->frame` → `PyFrameObject.f_back`; the instruction is `f_lasti` (bytes in 3.8/3.9, code units
//!   in 3.10); locals in `f_localsplus`: `co_nlocals` locals, then cells (`co_cellvars`), then frees (`co_freevars`).
//! - **3.11/3.12**: `tstate->cframe->current_frame` → `_PyInterpreterFrame.previous`; **3.13+**:
//!   `tstate->current_frame` → `previous`. The instruction is `instr_ptr` (`prev_instr`) minus the code's inline
//!   bytecode; locals in `localsplus`, named by `co_localsplusnames` with their kinds in `co_localspluskinds`.
//!   Entry ("shim") frames that the interpreter pushes when C calls into Python are skipped: on the fixture cores
//!   they carry owner 3 (`FRAME_OWNED_BY_CSTACK` in 3.12/3.13, `FRAME_OWNED_BY_INTERPRETER` in 3.14, whose
//!   `FRAME_OWNED_BY_CSTACK` is 4, and in 3.15, which has no `FRAME_OWNED_BY_CSTACK`) and are not running a code
//!   object. 3.11 has none. In 3.15 every chain also ends in a sentinel, the `base_frame` embedded in the thread
//!   state (`_PyThreadStateImpl`), with owner 3 and no previous frame.
//! - **3.14+** store `_PyStackRef`s (tagged words) in `f_executable` and `localsplus`: the low two bits are cleared,
//!   and `bits & 3 == 3` is a tagged int, not a pointer (3.15's `pycore_stackref.h` keeps these tags, and adds
//!   `bits == 2` as the error value).
//!
//! Module and class bodies (code without `CO_OPTIMIZED`) show their `f_locals` dict as locals, as `frame.f_locals`
//! does. Every chain walk is bounded by [`StackOptions::max_depth`] and stops at a repeated frame; a frame whose
//! details cannot be read keeps its place in the stack and records why, and the walk goes on.

use std::collections::HashSet;

use heapscope_coredump::{Addr, ProcessImage};

use crate::layout::Layout;
use crate::linetable::{LineTable, LineTableFormat};
use crate::objects::{DecodeError, Heap, Kind, PreviewOptions};
use crate::runtime::{field_addr, read_i32, read_ptr, read_u64, read_u8};
use crate::PythonVersion;

/// `CO_OPTIMIZED`: the code uses fast locals (functions); module and class bodies use a locals dict.
const CO_OPTIMIZED: i32 = 0x1;
/// `CO_FAST_HIDDEN` (3.12+): an inlined comprehension's variable, not part of `f_locals`.
const CO_FAST_HIDDEN: u8 = 0x10;
/// `CO_FAST_CELL`: the slot holds a cell for this local.
const CO_FAST_CELL: u8 = 0x40;
/// `CO_FAST_FREE`: the slot holds a cell from the closure.
const CO_FAST_FREE: u8 = 0x80;
/// The low bits of a `_PyStackRef` that are tags (3.14).
const STACKREF_TAG_BITS: u64 = 3;
/// `Py_INT_TAG` (3.14): the stack ref is an int shifted left by 2, not a pointer.
const STACKREF_INT_TAG: u64 = 3;

/// Most characters of a function, qualified or file name.
const MAX_NAME_CHARS: usize = 4096;
/// Most bytes of a line table read (the largest stdlib function's is a few KiB).
const MAX_LINETABLE_BYTES: usize = 1 << 20;
/// Most fast-local slots read per frame (`co_nlocalsplus` is a C int; real code has at most a few thousand).
const MAX_FAST_LOCALS: usize = 1 << 16;

/// How this interpreter links and lays out its frames. Chosen once from the version; the offsets themselves come
/// from the [`Layout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameModel {
    /// Where the chain starts and how it is linked.
    pub chain: Chain,
    /// Bytes per unit of `f_lasti` (1 in 3.8/3.9, 2 in 3.10; unused from 3.11 on).
    pub lasti_unit: i64,
    /// `f_executable` and `localsplus` hold tagged `_PyStackRef`s (3.14+).
    pub stackrefs: bool,
    /// Frame owners that mark interpreter-internal entry frames, which are skipped.
    pub shim_owners: &'static [u8],
    /// The line-table format of code objects.
    pub linetable: LineTableFormat,
}

/// How the frames of a thread are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// ≤3.10: `tstate->frame`, then `PyFrameObject.f_back`.
    FrameObjects,
    /// 3.11/3.12: `tstate->cframe->current_frame`, then `_PyInterpreterFrame.previous`.
    CFrame,
    /// 3.13+: `tstate->current_frame`, then `_PyInterpreterFrame.previous`.
    CurrentFrame,
}

impl FrameModel {
    /// The frame model of a CPython version (3.8 and later).
    pub fn for_version(v: &PythonVersion) -> FrameModel {
        let minor = v.minor;
        FrameModel {
            chain: match minor {
                0..=10 => Chain::FrameObjects,
                11 | 12 => Chain::CFrame,
                _ => Chain::CurrentFrame,
            },
            lasti_unit: if minor == 10 { 2 } else { 1 },
            stackrefs: minor >= 14,
            shim_owners: match minor {
                0..=11 => &[],
                12 | 13 => &[3],
                14 => &[3, 4],
                _ => &[3],
            },
            linetable: LineTableFormat::for_minor(minor),
        }
    }
}

/// Limits and choices of a stack walk.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Most frames followed per thread.
    pub max_depth: usize,
    /// Decode each frame's locals.
    pub locals: bool,
    /// Most locals shown per frame (module frames show their globals).
    pub max_locals: usize,
    /// How values are previewed.
    pub preview: PreviewOptions,
}

impl Default for StackOptions {
    fn default() -> Self {
        StackOptions { max_depth: 10_000, locals: false, max_locals: 10_000, preview: PreviewOptions::default() }
    }
}

/// One local variable of a frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Local {
    /// Its name.
    pub name: String,
    /// The value's address (0 for a tagged int).
    pub value: Addr,
    /// A `repr()`-like preview of the value.
    pub preview: String,
}

/// One Python frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The `PyFrameObject` (≤3.10) or `_PyInterpreterFrame` (3.11+).
    pub addr: Addr,
    /// The code object it runs.
    pub code: Addr,
    /// `co_name`.
    pub function: Option<String>,
    /// `co_qualname` (3.11+).
    pub qualname: Option<String>,
    /// `co_filename`.
    pub file: Option<String>,
    /// The line being executed, from the instruction and the code's line table.
    pub line: Option<i32>,
    /// `co_firstlineno`.
    pub firstlineno: Option<i32>,
    /// Locals in slot order (module and class bodies: their namespace), when asked for.
    pub locals: Vec<Local>,
    /// What could not be decoded about this frame.
    pub errors: Vec<DecodeError>,
}

/// The Python stack of one thread, innermost frame first.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    /// The frames, innermost first.
    pub frames: Vec<Frame>,
    /// Entry (shim) frames skipped.
    pub skipped: usize,
    /// Why the walk stopped before the outermost frame (unreadable link, loop, too deep).
    pub error: Option<DecodeError>,
}

impl Stack {
    /// Number of problems: the chain error, if any, plus every frame's errors.
    pub fn error_count(&self) -> usize {
        usize::from(self.error.is_some()) + self.frames.iter().map(|f| f.errors.len()).sum::<usize>()
    }
}

/// Walks the frames of the thread state `tstate`.
pub fn stack<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    model: &FrameModel,
    tstate: Addr,
    opts: &StackOptions,
) -> Stack {
    let mut out = Stack::default();
    let mut cur = match first_frame(heap, model, tstate) {
        Ok(f) => f,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let mut seen = HashSet::new();
    let mut visited = 0usize;
    while !cur.is_null() {
        if visited >= opts.max_depth {
            let why = format!("more than {} frames (raise the depth limit if the stack is that deep)", opts.max_depth);
            out.error = Some(DecodeError::malformed(cur, "frame", why));
            break;
        }
        if !seen.insert(cur) {
            out.error = Some(DecodeError::malformed(cur, "frame", "the frame chain loops back to this frame"));
            break;
        }
        visited += 1;
        let step = match model.chain {
            Chain::FrameObjects => frame_object(heap, model, cur, opts),
            Chain::CFrame | Chain::CurrentFrame => interpreter_frame(heap, model, cur, opts),
        };
        match step {
            Ok((Some(frame), next)) => {
                out.frames.push(frame);
                cur = next;
            }
            Ok((None, next)) => {
                out.skipped += 1;
                cur = next;
            }
            Err(e) => {
                out.error = Some(e);
                break;
            }
        }
    }
    out
}

/// The innermost frame of the thread (NULL when it runs no Python code).
fn first_frame<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    model: &FrameModel,
    tstate: Addr,
) -> Result<Addr, DecodeError> {
    let (p, l) = (heap.process(), heap.layout());
    match model.chain {
        Chain::FrameObjects => read_ptr(p, tstate, &l.tstate.frame, "thread state"),
        Chain::CFrame => {
            let cframe = read_ptr(p, tstate, &l.tstate.cframe, "thread state")?;
            if cframe.is_null() {
                return Ok(Addr::NULL);
            }
            read_ptr(p, cframe, &l.cframe.current_frame, "_PyCFrame")
        }
        Chain::CurrentFrame => read_ptr(p, tstate, &l.tstate.current_frame, "thread state"),
    }
}

/// ≤3.10: decodes the `PyFrameObject` at `f`; returns it and `f_back`.
fn frame_object<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    model: &FrameModel,
    f: Addr,
    opts: &StackOptions,
) -> Result<(Option<Frame>, Addr), DecodeError> {
    let (p, l) = (heap.process(), heap.layout());
    let back = read_ptr(p, f, &l.frame_object.f_back, "frame")?;
    let code = read_ptr(p, f, &l.frame_object.f_code, "frame")?;
    let mut frame = new_frame(f, code);
    let offset = read_i32(p, f, &l.frame_object.f_lasti, "frame").map(|lasti| i64::from(lasti) * model.lasti_unit);
    describe(heap, model, &mut frame, offset);
    if opts.locals {
        let slots = field_addr(f, &l.frame_object.f_localsplus, "frame");
        let f_locals = read_ptr(p, f, &l.frame_object.f_locals, "frame");
        fill_locals(heap, model, &mut frame, slots, f_locals, opts);
    }
    Ok((Some(frame), back))
}

/// 3.11+: decodes the `_PyInterpreterFrame` at `f`; returns it (`None` for a shim frame) and `previous`.
fn interpreter_frame<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    model: &FrameModel,
    f: Addr,
    opts: &StackOptions,
) -> Result<(Option<Frame>, Addr), DecodeError> {
    let (p, l) = (heap.process(), heap.layout());
    let previous = read_ptr(p, f, &l.iframe.previous, "interpreter frame")?;
    let owner = read_u8(p, f, &l.iframe.owner, "interpreter frame")?;
    if model.shim_owners.contains(&owner) {
        return Ok((None, previous));
    }
    let raw = read_u64(p, f, &l.iframe.executable, "interpreter frame")?;
    let code = match stackref(model, raw) {
        Value::Object(a) if !a.is_null() => a,
        _ => return Ok((None, previous)), // not running a code object: an entry frame
    };
    let mut frame = new_frame(f, code);
    match is_code(heap, code) {
        Ok(true) => {}
        Ok(false) => return Ok((None, previous)),
        Err(e) => {
            frame.errors.push(e);
            return Ok((Some(frame), previous));
        }
    }
    let offset = instruction_offset(heap, f, code);
    describe(heap, model, &mut frame, offset);
    if opts.locals {
        let slots = field_addr(f, &l.iframe.localsplus, "interpreter frame");
        let f_locals = read_ptr(p, f, &l.iframe.locals, "interpreter frame");
        fill_locals(heap, model, &mut frame, slots, f_locals, opts);
    }
    Ok((Some(frame), previous))
}

fn new_frame(addr: Addr, code: Addr) -> Frame {
    Frame {
        addr,
        code,
        function: None,
        qualname: None,
        file: None,
        line: None,
        firstlineno: None,
        locals: Vec::new(),
        errors: Vec::new(),
    }
}

/// True if `obj` is a code object (or the type of code objects is not known, so it cannot be checked).
fn is_code<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr) -> Result<bool, DecodeError> {
    match heap.static_type(Kind::Code) {
        Some(code_type) => Ok(heap.type_of(obj)? == code_type),
        None => Ok(true),
    }
}

/// 3.11+: byte offset of the frame's instruction in its code's bytecode: `instr_ptr` (`prev_instr`) minus the address
/// of the inline bytecode (`co_code_adaptive`).
fn instruction_offset<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, f: Addr, code: Addr) -> Result<i64, DecodeError> {
    let l = heap.layout();
    let ip = read_u64(heap.process(), f, &l.iframe.instr_ptr, "interpreter frame")?;
    let bytecode = field_addr(code, &l.code.code_adaptive, "code")?;
    Ok(ip.wrapping_sub(bytecode.0) as i64)
}

/// Fills in the function, qualified name, file, first line and line of a frame running `frame.code`.
fn describe<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    model: &FrameModel,
    frame: &mut Frame,
    offset: Result<i64, DecodeError>,
) {
    let (p, l) = (heap.process(), heap.layout());
    let code = frame.code;
    let name = |field, errors: &mut Vec<DecodeError>| -> Option<String> {
        let s = read_ptr(p, code, field, "code").and_then(|s| heap.str_value(s, MAX_NAME_CHARS));
        s.map(|s| s.text).map_err(|e| errors.push(e)).ok()
    };
    frame.function = name(&l.code.name, &mut frame.errors);
    if l.code.qualname.is_known() {
        frame.qualname = name(&l.code.qualname, &mut frame.errors);
    }
    frame.file = name(&l.code.filename, &mut frame.errors);
    let first = match read_i32(p, code, &l.code.firstlineno, "code") {
        Ok(v) => v,
        Err(e) => {
            frame.errors.push(e);
            return;
        }
    };
    frame.firstlineno = Some(first);
    let table_field = if l.code.linetable.is_known() { &l.code.linetable } else { &l.code.lnotab };
    let table = read_ptr(p, code, table_field, "code").and_then(|t| heap.bytes_value(t, MAX_LINETABLE_BYTES));
    match (table, offset) {
        (Ok(table), Ok(offset)) => {
            frame.line = LineTable::new(model.linetable, &table.data, first).line_at(offset);
        }
        (Err(e), _) | (_, Err(e)) => frame.errors.push(e),
    }
}

/// A slot value: an object pointer, or a 3.14 tagged int.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    Object(Addr),
    Int(i64),
}

/// Decodes a slot word: plain pointers before 3.14, `_PyStackRef`s from 3.14 on.
fn stackref(model: &FrameModel, bits: u64) -> Value {
    if !model.stackrefs {
        return Value::Object(Addr(bits));
    }
    if bits & STACKREF_TAG_BITS == STACKREF_INT_TAG {
        return Value::Int((bits as i64) >> 2);
    }
    Value::Object(Addr(bits & !STACKREF_TAG_BITS))
}

/// Fills `frame.locals` from the address of its fast-local slots and its `f_locals` pointer; a failure is recorded
/// on the frame.
fn fill_locals<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    model: &FrameModel,
    frame: &mut Frame,
    slots: Result<Addr, DecodeError>,
    f_locals: Result<Addr, DecodeError>,
    opts: &StackOptions,
) {
    let result = slots.and_then(|s| f_locals.map(|d| (s, d))).and_then(|(s, d)| locals(heap, model, frame, s, d, opts));
    if let Err(e) = result {
        frame.errors.push(e);
    }
}

/// The frame's locals: its fast locals (functions), or its `f_locals` dict (module and class bodies).
fn locals<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    model: &FrameModel,
    frame: &mut Frame,
    slots: Addr,
    f_locals: Addr,
    opts: &StackOptions,
) -> Result<(), DecodeError> {
    let (p, l) = (heap.process(), heap.layout());
    let code = frame.code;
    let flags = read_i32(p, code, &l.code.flags, "code")?;
    let optimized = flags & CO_OPTIMIZED != 0;
    if !optimized && !f_locals.is_null() {
        for (key, value) in heap.dict_items(f_locals, opts.max_locals)? {
            let name = match heap.str_value(key, MAX_NAME_CHARS) {
                Ok(s) => s.text,
                Err(_) => heap.preview(key, &opts.preview),
            };
            push_local(heap, &mut frame.locals, name, Value::Object(value), opts);
        }
        return Ok(());
    }
    let (names, kinds) = slot_names(heap, code)?;
    let n = names.len().min(MAX_FAST_LOCALS);
    let raw = p.bytes(slots, n * 8).map_err(|source| DecodeError::Read {
        addr: frame.addr,
        what: "frame",
        field: "localsplus",
        source,
    })?;
    for (i, word) in raw.chunks_exact(8).enumerate() {
        if frame.locals.len() >= opts.max_locals {
            break;
        }
        let kind = kinds.get(i).copied().unwrap_or(0);
        if kind & CO_FAST_HIDDEN != 0 || (kind & CO_FAST_FREE != 0 && !optimized) {
            continue;
        }
        let mut value = stackref(model, u64::from_le_bytes(word.try_into().unwrap_or([0; 8])));
        if let (Value::Object(obj), true) = (value, kind & (CO_FAST_CELL | CO_FAST_FREE) != 0) {
            match cell_contents(heap, obj) {
                Ok(Some(inner)) => value = Value::Object(inner),
                Ok(None) => continue, // an empty cell: the name is unbound
                Err(e) => frame.errors.push(e),
            }
        }
        if value != Value::Object(Addr::NULL) {
            push_local(heap, &mut frame.locals, names[i].clone(), value, opts);
        }
    }
    Ok(())
}

/// Adds a local; a name seen before (an argument that is also a cell, ≤3.10) takes the later value, like
/// `frame.f_locals`.
fn push_local<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    locals: &mut Vec<Local>,
    name: String,
    value: Value,
    opts: &StackOptions,
) {
    let (addr, preview) = match value {
        Value::Object(a) => (a, heap.preview(a, &opts.preview)),
        Value::Int(i) => (Addr::NULL, i.to_string()),
    };
    let local = Local { name, value: addr, preview };
    match locals.iter_mut().find(|l| l.name == local.name) {
        Some(existing) => *existing = local,
        None => locals.push(local),
    }
}

/// The names of a code object's fast-local slots and their `CO_FAST_*` kinds: `co_localsplusnames` and
/// `co_localspluskinds` (3.11+), else `co_varnames[:co_nlocals]` + `co_cellvars` + `co_freevars`.
fn slot_names<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, code: Addr) -> Result<(Vec<String>, Vec<u8>), DecodeError> {
    let (p, l) = (heap.process(), heap.layout());
    let strs = |tuple: Addr, max: usize| -> Result<Vec<String>, DecodeError> {
        heap.tuple_items(tuple, max)?.into_iter().map(|s| heap.str_value(s, MAX_NAME_CHARS).map(|s| s.text)).collect()
    };
    if l.code.localsplusnames.is_known() {
        let n = read_i32(p, code, &l.code.nlocalsplus, "code")?;
        let n = usize::try_from(n).map_err(|_| DecodeError::malformed(code, "code", "negative co_nlocalsplus"))?;
        let names = strs(read_ptr(p, code, &l.code.localsplusnames, "code")?, n.min(MAX_FAST_LOCALS))?;
        let kinds = read_ptr(p, code, &l.code.localspluskinds, "code")?;
        let kinds = heap.bytes_value(kinds, names.len())?.data;
        return Ok((names, kinds));
    }
    let nlocals = read_i32(p, code, &l.code.nlocals, "code")?;
    let nlocals = usize::try_from(nlocals).map_err(|_| DecodeError::malformed(code, "code", "negative co_nlocals"))?;
    let mut names = strs(read_ptr(p, code, &l.code.varnames, "code")?, nlocals.min(MAX_FAST_LOCALS))?;
    let mut kinds = vec![0u8; names.len()];
    for (field, kind) in [(&l.code.cellvars, CO_FAST_CELL), (&l.code.freevars, CO_FAST_FREE)] {
        let more = strs(read_ptr(p, code, field, "code")?, MAX_FAST_LOCALS)?;
        kinds.extend(std::iter::repeat_n(kind, more.len()));
        names.extend(more);
    }
    Ok((names, kinds))
}

/// The object a cell holds (`None` for an empty cell), or `Some(obj)` unchanged when `obj` is not a cell (an
/// argument whose `MAKE_CELL` has not run yet).
fn cell_contents<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr) -> Result<Option<Addr>, DecodeError> {
    let ty = heap.type_of(obj)?;
    if heap.tp_name(ty)? != "cell" {
        return Ok(Some(obj));
    }
    // `PyCellObject` is `{PyObject_HEAD; PyObject *ob_ref;}` in every version: `ob_ref` follows the header.
    let layout: &Layout = heap.layout();
    let at = field_addr(obj, &layout.object.size, "cell")?;
    let inner = heap.process().read_ptr(at).map_err(|source| DecodeError::Read {
        addr: obj,
        what: "cell",
        field: "ob_ref",
        source,
    })?;
    Ok((!inner.is_null()).then_some(inner))
}

#[cfg(test)]
mod tests;
