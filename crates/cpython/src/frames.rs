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
//! The model is built once per [`Heap`] ([`Heap::frame_model`]); its [`FrameModel::stackref`] is the one decoder of
//! slot words, [`frame_chain`] the one walk of a thread's frames and [`SlotNames`] the one reader of the names of
//! fast locals, for stacks and for the heap graph alike.
//!
//! Module and class bodies (code without `CO_OPTIMIZED`) show their `f_locals` dict as locals, as `frame.f_locals`
//! does. [`stack`] decodes at most [`StackOptions::max_depth`] frames and counts the next ones (at most
//! [`MAX_COUNTED`]); every chain walk is bounded and stops at a repeated frame; a frame whose details cannot be read
//! keeps its place in the stack and records why, and the walk goes on. From 3.11 on, a chain cut where it passes
//! through the C stack (memory the core lacks or holds as zeros) goes on in the thread's data stack
//! ([`datastack`]), and the cut is recorded ([`Stack::cuts`]).

mod chain;
mod code;
pub mod datastack;
mod slots;

use code::describe;
pub use code::CodeCache;

use std::collections::HashSet;
use std::sync::Arc;

use heapscope_coredump::{Addr, ProcessImage};

use crate::layout::Layout;
use crate::linetable::LineTableFormat;
use crate::objects::{DecodeError, Heap, Kind, PreviewOptions};
use crate::runtime::{field_addr, read_i32, read_ptr, read_u64, read_u8};
use crate::PythonVersion;

pub use chain::{frame_chain, ChainFrame, FrameChain};
pub use datastack::{data_stack, DataStack};
pub use slots::{SlotNames, CO_FAST_CELL, CO_FAST_FREE, MAX_FAST_LOCALS};

/// `CO_OPTIMIZED`: the code uses fast locals (functions); module and class bodies use a locals dict.
const CO_OPTIMIZED: i32 = 0x1;
/// `CO_FAST_HIDDEN` (3.12+): an inlined comprehension's variable, not part of `f_locals`.
const CO_FAST_HIDDEN: u8 = 0x10;
/// The low bits of a `_PyStackRef` that are tags (3.14).
const STACKREF_TAG_BITS: u64 = 3;
/// `Py_INT_TAG` (3.14): the stack ref is an int shifted left by 2, not a pointer.
const STACKREF_INT_TAG: u64 = 3;

/// Most characters of a function, qualified or file name.
const MAX_NAME_CHARS: usize = 4096;
/// Most bytes of a line table read (the largest stdlib function's is a few KiB).
const MAX_LINETABLE_BYTES: usize = 1 << 20;

/// How this interpreter links and lays out its frames. Chosen once from the version; the offsets themselves come
/// from the [`Layout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameModel {
    /// Where the chain starts and how it is linked.
    pub chain: Chain,
    /// Bytes per unit of `f_lasti` (1 in 3.8/3.9, 2 in 3.10; unused from 3.11 on).
    pub lasti_unit: i64,
    /// `f_executable`, `f_funcobj` and `localsplus` hold tagged `_PyStackRef`s (3.14+): see [`FrameModel::stackref`].
    pub stackrefs: bool,
    /// A cleared generator frame still holds its `f_executable`, which `gen_traverse` visits (3.14+, where the
    /// reference may be deferred).
    pub cleared_frame_keeps_executable: bool,
    /// `FRAME_CLEARED` (3.11+, `pycore_frame.h`): a generator whose `gi_frame_state` is below it still holds its
    /// frame. 4 until 3.14; 5 from 3.15, which renumbered the states from 0 (created) to 5.
    pub frame_cleared: i8,
    /// Frame owners that mark interpreter-internal entry frames, which are skipped.
    pub shim_owners: &'static [u8],
    /// The line-table format of code objects.
    pub linetable: LineTableFormat,
    /// The values a generator's state takes (3.10: its frame's `f_state`; 3.11+: `gi_frame_state`); `None` for
    /// ≤3.9, where a generator has `gi_running` and a frame not yet started has `f_lasti == -1`.
    pub gen_states: Option<GenStates>,
    /// How `_PyGen_yf` (`cr_await`, `gi_yieldfrom`, `ag_await`) finds what a suspended generator awaits.
    pub yield_from: YieldFrom,
}

/// The values of a generator's frame state (`PyFrameState` of `pycore_frame.h`; 3.10: `PyFrameState` of
/// `cpython/frameobject.h`, kept in the frame's `f_state`). Checked on the tasks fixtures (`tests/coroutines.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenStates {
    /// `FRAME_CREATED`: not started.
    pub created: i8,
    /// `FRAME_SUSPENDED`: suspended at a `yield` (≤3.12 also in `yield from` / `await`).
    pub suspended: i8,
    /// 3.13+ `FRAME_SUSPENDED_YIELD_FROM` (and 3.15's `FRAME_SUSPENDED_YIELD_FROM_LOCKED`, which only a
    /// free-threaded build sets): suspended in `yield from` / `await`.
    pub suspended_yield_from: &'static [i8],
    /// `FRAME_EXECUTING`.
    pub executing: i8,
    /// The lowest state of a finished generator (`FRAME_COMPLETED`; 3.10 `FRAME_RETURNED`; 3.15, which has no
    /// `FRAME_COMPLETED`, `FRAME_CLEARED`): it has no frame any more.
    pub finished: i8,
}

/// How `_PyGen_yf` (`Objects/genobject.c`) tells what a suspended generator awaits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YieldFrom {
    /// ≤3.10: the instruction after `f_lasti` is `YIELD_FROM` (this opcode); the object is on top of the value
    /// stack (3.8/3.9 `f_stacktop[-1]`, 3.10 `f_valuestack[f_stackdepth - 1]`).
    NextOpcode(u8),
    /// 3.11/3.12: the code unit after `prev_instr` is `RESUME` (one of these opcodes: `RESUME` and what
    /// `_PyOpcode_Deopt` maps to it, 3.12 also `INSTRUMENTED_RESUME`) with an oparg of 2 or more (after
    /// `yield from` / `await`); the object is on top of the stack (`localsplus[stacktop - 1]`).
    Resume(&'static [u8]),
    /// 3.13+: the state is one of [`GenStates::suspended_yield_from`]; the object is the stack slot this many
    /// below the stack pointer (1; 3.15: 2, `_SEND_GEN_FRAME` leaves a NULL above it).
    State {
        /// Slots below the stack pointer.
        depth: u64,
    },
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
            cleared_frame_keeps_executable: minor >= 14,
            frame_cleared: if minor <= 14 { 4 } else { 5 },
            shim_owners: match minor {
                0..=11 => &[],
                12 | 13 => &[3],
                14 => &[3, 4],
                _ => &[3],
            },
            linetable: LineTableFormat::for_minor(minor),
            gen_states: match minor {
                0..=9 => None,
                10..=12 => {
                    Some(GenStates { created: -2, suspended: -1, suspended_yield_from: &[], executing: 0, finished: 1 })
                }
                13 | 14 => Some(GenStates {
                    created: -3,
                    suspended: -2,
                    suspended_yield_from: &[-1],
                    executing: 0,
                    finished: 1,
                }),
                _ => Some(GenStates {
                    created: 0,
                    suspended: 1,
                    suspended_yield_from: &[2, 3],
                    executing: 4,
                    finished: 5,
                }),
            },
            yield_from: match minor {
                // `YIELD_FROM` is opcode 72 in 3.8–3.10 (`Lib/opcode.py`).
                0..=10 => YieldFrom::NextOpcode(72),
                // `RESUME` 151, `RESUME_QUICK` 150 (`pycore_opcode.h` of 3.11.7).
                11 => YieldFrom::Resume(&[151, 150]),
                // `RESUME` 151, `INSTRUMENTED_RESUME` 240 (`opcode.py` of 3.12.1).
                12 => YieldFrom::Resume(&[151, 240]),
                13 | 14 => YieldFrom::State { depth: 1 },
                _ => YieldFrom::State { depth: 2 },
            },
        }
    }

    /// Decodes a slot word (`f_executable`, `f_funcobj`, a fast local or a stack slot): a plain object pointer
    /// before 3.14; from 3.14 on a `_PyStackRef`, whose low two bits are tags and where `bits & 3 == 3` is an int.
    #[inline]
    pub fn stackref(&self, bits: u64) -> StackRef {
        if !self.stackrefs {
            return StackRef::Object(Addr(bits));
        }
        if bits & STACKREF_TAG_BITS == STACKREF_INT_TAG {
            return StackRef::Int((bits as i64) >> 2);
        }
        StackRef::Object(Addr(bits & !STACKREF_TAG_BITS))
    }

    /// The object a slot word refers to: NULL for an empty slot and for a tagged int.
    #[inline]
    pub fn object(&self, bits: u64) -> Addr {
        match self.stackref(bits) {
            StackRef::Object(a) => a,
            StackRef::Int(_) => Addr::NULL,
        }
    }
}

/// 3.11+: how many `localsplus` slots of the interpreter frame at `iframe` are in use (fast locals, then the value
/// stack up to its top), as `_PyFrame_Traverse` counts them: `stacktop` (3.11/3.12), or `stackpointer` minus
/// `localsplus` in words (3.13+; NULL while the frame runs: 0). Callers cap and check the count.
pub fn stack_top<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, iframe: Addr) -> Result<u64, DecodeError> {
    let (p, f) = (heap.process(), &heap.layout().iframe);
    if f.stacktop.is_known() {
        return Ok(u64::try_from(read_i32(p, iframe, &f.stacktop, "interpreter frame")?).unwrap_or(0));
    }
    let sp = read_u64(p, iframe, &f.stackpointer, "interpreter frame")?;
    if sp == 0 {
        return Ok(0);
    }
    let base = field_addr(iframe, &f.localsplus, "interpreter frame")?;
    sp.checked_sub(base.0)
        .map(|d| d / 8)
        .ok_or_else(|| DecodeError::malformed(iframe, "interpreter frame", "stack pointer below localsplus"))
}

/// A decoded slot word: an object pointer, or a 3.14 tagged int.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackRef {
    /// An object (NULL for an empty slot), tag bits cleared.
    Object(Addr),
    /// A tagged int: the value itself, no object.
    Int(i64),
}

/// Limits and choices of a stack walk.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Most frames decoded per thread, innermost first; the frames past it are counted ([`Stack::more`]).
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
    /// A `repr()`-like preview of the value (`<unreadable 0x…: cause>` when it could not be read).
    pub preview: String,
    /// Why the value could not be read, when it could not.
    pub error: Option<String>,
}

/// One Python frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The `PyFrameObject` (≤3.10) or `_PyInterpreterFrame` (3.11+).
    pub addr: Addr,
    /// The code object it runs.
    pub code: Addr,
    /// `co_name`.
    pub function: Option<Arc<str>>,
    /// `co_qualname` (3.11+).
    pub qualname: Option<Arc<str>>,
    /// `co_filename`.
    pub file: Option<Arc<str>>,
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
    /// Frames beyond [`StackOptions::max_depth`], counted but not decoded (at most [`MAX_COUNTED`]).
    pub more: usize,
    /// `more` stopped at [`MAX_COUNTED`] (or at a link that could not be read): there are at least that many.
    pub more_at_least: bool,
    /// Where the frame chain was cut (it ran into memory the core lacks or holds as zeros) while older frames of
    /// the thread remain in its data stack; the walk went on from there. Non-empty: the stack is incomplete.
    pub cuts: Vec<Cut>,
    /// Why the walk stopped before the outermost frame (unreadable link, loop, too deep).
    pub error: Option<DecodeError>,
}

impl Stack {
    /// Number of problems: the chain error, if any, plus every frame's errors.
    pub fn error_count(&self) -> usize {
        usize::from(self.error.is_some()) + self.frames.iter().map(|f| f.errors.len()).sum::<usize>()
    }

    /// True if frames of the thread were lost where its chain was cut (see [`Stack::cuts`]).
    pub fn incomplete(&self) -> bool {
        !self.cuts.is_empty()
    }
}

/// A place where a thread's frame chain was cut, and where the walk went on.
#[derive(Debug, Clone)]
pub struct Cut {
    /// The last frame reached through the chain, whose link to its caller was zeros or could not be read (or,
    /// when no frame was reached, the `_PyCFrame` or thread state the chain starts from).
    pub at: Addr,
    /// What was found there.
    pub cause: CutCause,
    /// The frame of the data stack the walk went on from (`None`: the data stack holds no older frame).
    pub resumed_at: Option<Addr>,
    /// Frames decoded before the cut.
    pub shown_before: usize,
}

/// What cut a frame chain.
#[derive(Debug, Clone)]
pub enum CutCause {
    /// The frame reads as zeros (no code, no link, no owner): memory the core holds as zeros, typically an entry
    /// frame on a C stack that the dumper wrote as zeros.
    Zeros,
    /// The frame reads as a frame whose chain ends here, yet older frames remain in the data stack.
    Ends,
    /// The link could not be read (memory the core lacks).
    Unreadable(DecodeError),
    /// 3.11/3.12: the `_PyCFrame` the thread state points to (on the C stack) names no current frame, yet the
    /// data stack holds frames.
    StartZeros,
    /// The thread state names no current frame, yet the data stack holds frames.
    NoCurrentFrame,
}

impl std::fmt::Display for CutCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CutCause::Zeros => f.write_str("the interpreter frame there reads as zeros"),
            CutCause::Ends => f.write_str("its chain ends there although older frames remain in the data stack"),
            CutCause::Unreadable(e) => write!(f, "{e}"),
            CutCause::StartZeros => f.write_str("the thread's _PyCFrame there reads as zeros"),
            CutCause::NoCurrentFrame => f.write_str("the thread state names no current frame"),
        }
    }
}

/// Most frames counted beyond [`StackOptions::max_depth`].
pub const MAX_COUNTED: usize = 100_000;

/// Walks the frames of the thread state `tstate`. From 3.11 on, a chain that ends or breaks while older frames of
/// the thread remain in its data stack goes on from the newest of them ([`datastack`]), and each such place is
/// recorded in [`Stack::cuts`].
pub fn stack<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, tstate: Addr, opts: &StackOptions) -> Stack {
    let mut out = Stack::default();
    let limit = opts.max_depth.saturating_add(MAX_COUNTED).saturating_mul(2);
    let mut chain = frame_chain(heap, tstate, limit);
    let mut data: Option<DataStack> = None;
    let mut visited: HashSet<Addr> = HashSet::new();
    // The last frame reached, and the oldest frame of the data stack reached (the chain goes outwards).
    let mut last: Option<Addr> = None;
    let mut oldest_in_data: Option<Addr> = None;
    loop {
        let end = match chain.next() {
            Some(Ok(at)) => {
                last = Some(at.addr);
                visited.insert(at.addr);
                if data.as_ref().is_some_and(|d| d.contains(at.addr)) {
                    oldest_in_data = Some(at.addr);
                }
                if at.shim {
                    out.skipped += 1;
                } else if out.frames.len() >= opts.max_depth {
                    if out.more >= MAX_COUNTED {
                        out.more_at_least = true;
                        break;
                    }
                    out.more += usize::from(runs_code(heap, at.addr));
                } else {
                    match decode(heap, at.addr, opts) {
                        Ok(Some(frame)) => out.frames.push(frame),
                        Ok(None) => out.skipped += 1,
                        Err(e) => {
                            out.error = Some(e);
                            break;
                        }
                    }
                }
                continue;
            }
            Some(Err(e)) => Some(e),
            None => None,
        };
        // The chain ended. From 3.11 on, older frames may remain in the data stack past a cut.
        let resumable = matches!(end, None | Some(DecodeError::Read { .. }));
        let next = match (resumable, heap.frame_model().chain) {
            (true, Chain::CFrame | Chain::CurrentFrame) => {
                let d = data.get_or_insert_with(|| {
                    let d = data_stack(heap, tstate);
                    // The frames reached so far that are in the data stack: the oldest of them.
                    oldest_in_data = d.frames.iter().copied().find(|f| visited.contains(f));
                    d
                });
                match oldest_in_data {
                    Some(f) => d.below(f),
                    // No frame of the data stack reached: the newest, when the data stack says which it is.
                    None if d.exact_top => d.frames.last().copied(),
                    None => None,
                }
                .filter(|f| !visited.contains(f))
            }
            _ => None,
        };
        // A link that cannot be read past the oldest frame of the data stack loses only entry frames on the C
        // stack: the thread is incomplete, but nothing undecoded is known to be missing.
        let exhausted = matches!(end, Some(DecodeError::Read { .. }))
            && last.is_some()
            && oldest_in_data.is_some()
            && oldest_in_data == data.as_ref().and_then(|d| d.frames.first().copied());
        if next.is_none() && !exhausted {
            if let Some(e) = end {
                if out.frames.len() >= opts.max_depth {
                    out.more_at_least = true;
                } else {
                    out.error = Some(e);
                }
            }
            break;
        }
        let (at, cause) = match (last, end) {
            (Some(at), Some(e)) => (at, CutCause::Unreadable(e)),
            (Some(at), None) if reads_as_zeros(heap, at) => (at, CutCause::Zeros),
            (Some(at), None) => (at, CutCause::Ends),
            (None, e) => chain_start(heap, tstate, e),
        };
        out.cuts.push(Cut { at, cause, resumed_at: next, shown_before: out.frames.len() });
        match next {
            Some(next) => chain.resume(next),
            None => break,
        }
    }
    out
}

/// Where a chain that reached no frame at all was cut: the `_PyCFrame` the thread state points to (3.11/3.12,
/// on the C stack), else the thread state itself; and why.
fn chain_start<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    tstate: Addr,
    end: Option<DecodeError>,
) -> (Addr, CutCause) {
    let (p, l) = (heap.process(), heap.layout());
    let cframe = match heap.frame_model().chain {
        Chain::CFrame => read_ptr(p, tstate, &l.tstate.cframe, "thread state").ok().filter(|c| !c.is_null()),
        _ => None,
    };
    match (cframe, end) {
        (_, Some(e)) => (cframe.unwrap_or(tstate), CutCause::Unreadable(e)),
        (Some(c), None) => (c, CutCause::StartZeros),
        (None, None) => (tstate, CutCause::NoCurrentFrame),
    }
}

/// Decodes the frame at `at` with the thread's frame model (`None`: an entry frame, no code object).
fn decode<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    at: Addr,
    opts: &StackOptions,
) -> Result<Option<Frame>, DecodeError> {
    match heap.frame_model().chain {
        Chain::FrameObjects => frame_object(heap, at, opts, None),
        Chain::CFrame | Chain::CurrentFrame => interpreter_frame(heap, at, opts, None),
    }
}

/// True if the frame at `at` runs a code object (always for ≤3.10 frame objects); false for entry frames and
/// frames that cannot be read.
fn runs_code<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, at: Addr) -> bool {
    let (p, l, model) = (heap.process(), heap.layout(), heap.frame_model());
    if model.chain == Chain::FrameObjects {
        return true;
    }
    match read_u64(p, at, &l.iframe.executable, "interpreter frame") {
        Ok(bits) => {
            let code = model.object(bits);
            !code.is_null() && is_code(heap, code).unwrap_or(false)
        }
        Err(_) => false,
    }
}

/// True if the interpreter frame at `at` holds zeros where a frame holds its code, link and owner.
fn reads_as_zeros<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, at: Addr) -> bool {
    let (p, l) = (heap.process(), heap.layout());
    let word = |f| read_u64(p, at, f, "interpreter frame").ok();
    let owner =
        if l.iframe.owner.is_known() { read_u8(p, at, &l.iframe.owner, "interpreter frame").ok() } else { Some(0) };
    word(&l.iframe.executable) == Some(0) && word(&l.iframe.previous) == Some(0) && owner == Some(0)
}

/// ≤3.10: decodes the `PyFrameObject` at `f`.
pub(crate) fn frame_object<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    f: Addr,
    opts: &StackOptions,
    cache: Option<&mut CodeCache>,
) -> Result<Option<Frame>, DecodeError> {
    let (p, l, model) = (heap.process(), heap.layout(), heap.frame_model());
    let code = read_ptr(p, f, &l.frame_object.f_code, "frame")?;
    let mut frame = new_frame(f, code);
    let offset = read_i32(p, f, &l.frame_object.f_lasti, "frame").map(|lasti| i64::from(lasti) * model.lasti_unit);
    describe(heap, model, &mut frame, offset, cache);
    if opts.locals {
        let slots = field_addr(f, &l.frame_object.f_localsplus, "frame");
        let f_locals = read_ptr(p, f, &l.frame_object.f_locals, "frame");
        fill_locals(heap, &mut frame, slots, f_locals, opts);
    }
    Ok(Some(frame))
}

/// 3.11+: decodes the `_PyInterpreterFrame` at `f` (`None` when it runs no code object: an entry frame).
pub(crate) fn interpreter_frame<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    f: Addr,
    opts: &StackOptions,
    cache: Option<&mut CodeCache>,
) -> Result<Option<Frame>, DecodeError> {
    let (p, l, model) = (heap.process(), heap.layout(), heap.frame_model());
    let code = model.object(read_u64(p, f, &l.iframe.executable, "interpreter frame")?);
    if code.is_null() {
        return Ok(None);
    }
    let mut frame = new_frame(f, code);
    match is_code(heap, code) {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(e) => {
            frame.errors.push(e);
            return Ok(Some(frame));
        }
    }
    let offset = instruction_offset(heap, f, code);
    describe(heap, model, &mut frame, offset, cache);
    if opts.locals {
        let slots = field_addr(f, &l.iframe.localsplus, "interpreter frame");
        let f_locals = read_ptr(p, f, &l.iframe.locals, "interpreter frame");
        fill_locals(heap, &mut frame, slots, f_locals, opts);
    }
    Ok(Some(frame))
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
pub(crate) fn is_code<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr) -> Result<bool, DecodeError> {
    match heap.static_type(Kind::Code) {
        Some(code_type) => Ok(heap.type_of(obj)? == code_type),
        None => Ok(true),
    }
}

/// 3.11+: byte offset of the frame's instruction in its code's bytecode: `instr_ptr` (`prev_instr`) minus the address
/// of the inline bytecode (`co_code_adaptive`).
pub(crate) fn instruction_offset<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    f: Addr,
    code: Addr,
) -> Result<i64, DecodeError> {
    let l = heap.layout();
    let ip = read_u64(heap.process(), f, &l.iframe.instr_ptr, "interpreter frame")?;
    let bytecode = field_addr(code, &l.code.code_adaptive, "code")?;
    Ok(ip.wrapping_sub(bytecode.0) as i64)
}

/// Fills `frame.locals` from the address of its fast-local slots and its `f_locals` pointer; a failure is recorded
/// on the frame.
fn fill_locals<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    frame: &mut Frame,
    slots: Result<Addr, DecodeError>,
    f_locals: Result<Addr, DecodeError>,
    opts: &StackOptions,
) {
    let result = slots.and_then(|s| f_locals.map(|d| (s, d))).and_then(|(s, d)| locals(heap, frame, s, d, opts));
    if let Err(e) = result {
        frame.errors.push(e);
    }
}

/// The frame's locals: its fast locals (functions), or its `f_locals` dict (module and class bodies).
fn locals<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    frame: &mut Frame,
    slots: Addr,
    f_locals: Addr,
    opts: &StackOptions,
) -> Result<(), DecodeError> {
    let (p, l, model) = (heap.process(), heap.layout(), heap.frame_model());
    let code = frame.code;
    let flags = read_i32(p, code, &l.code.flags, "code")?;
    let optimized = flags & CO_OPTIMIZED != 0;
    if !optimized && !f_locals.is_null() {
        for (key, value) in heap.dict_items(f_locals, opts.max_locals)? {
            let name = match heap.str_value(key, MAX_NAME_CHARS) {
                Ok(s) => s.text,
                Err(_) => heap.preview(key, &opts.preview),
            };
            push_local(heap, &mut frame.locals, name, StackRef::Object(value), opts);
        }
        return Ok(());
    }
    let names = SlotNames::of(heap, code)?;
    let n = names.len();
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
        let kind = names.kind(p, i)?;
        if kind & CO_FAST_HIDDEN != 0 || (kind & CO_FAST_FREE != 0 && !optimized) {
            continue;
        }
        let mut value = model.stackref(u64::from_le_bytes(word.try_into().unwrap_or([0; 8])));
        if let (StackRef::Object(obj), true) = (value, kind & (CO_FAST_CELL | CO_FAST_FREE) != 0) {
            match cell_contents(heap, obj) {
                Ok(Some(inner)) => value = StackRef::Object(inner),
                Ok(None) => continue, // an empty cell: the name is unbound
                Err(e) => frame.errors.push(e),
            }
        }
        if value != StackRef::Object(Addr::NULL) {
            let name = names.name(p, i)?.unwrap_or(Addr::NULL);
            let name = heap.str_value(name, MAX_NAME_CHARS)?.text;
            push_local(heap, &mut frame.locals, name, value, opts);
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
    value: StackRef,
    opts: &StackOptions,
) {
    let (addr, preview, error) = match value {
        StackRef::Object(a) => match heap.checked_preview(a, &opts.preview) {
            Ok(preview) => (a, preview, None),
            Err(e) => (a, format!("<unreadable {a}: {e}>"), Some(e.to_string())),
        },
        StackRef::Int(i) => (Addr::NULL, i.to_string(), None),
    };
    let local = Local { name, value: addr, preview, error };
    match locals.iter_mut().find(|l| l.name == local.name) {
        Some(existing) => *existing = local,
        None => locals.push(local),
    }
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
