//! Generators, coroutines and async generators: their kind, state, suspended frame and what they await.
//!
//! A generator object (`PyGenObject`; coroutines and async generators start with the same fields) keeps its frame:
//! ≤3.10 a `PyFrameObject` behind `gi_frame` (NULL once finished), 3.11+ an `_PyInterpreterFrame` embedded at
//! `gi_iframe`, valid while `gi_frame_state` is below the finished states. The frame is decoded like a thread's
//! (`frames::frame_object` / `frames::interpreter_frame`: names, the line where it is suspended, locals).
//!
//! The state follows `inspect.getgeneratorstate`: ≤3.9 `gi_running`, then `f_lasti == -1` for a frame not yet
//! started; 3.10 the frame's `f_state`; 3.11+ `gi_frame_state` ([`FrameModel::gen_states`] holds the values).
//! What it awaits is `_PyGen_yf` ([`FrameModel::yield_from`]): what `cr_await`, `gi_yieldfrom` and `ag_await`
//! return.
//!
//! [`FrameModel::gen_states`]: crate::frames::FrameModel::gen_states
//! [`FrameModel::yield_from`]: crate::frames::FrameModel::yield_from

use heapscope_coredump::{Addr, ProcessImage};

use crate::frames::{self, CodeCache, Frame, StackOptions, YieldFrom};
use crate::objects::{DecodeError, Heap};
use crate::runtime::{field_addr, read_i32, read_ptr, read_u64, read_u8};

/// Most characters of a generator's `__qualname__`.
const MAX_NAME_CHARS: usize = 4096;
/// Most bytes of a ≤3.10 code object's bytecode read to find the instruction after `f_lasti`.
const MAX_CODE_BYTES: usize = 1 << 24;
/// Most value-stack slots of one frame believed.
const MAX_STACK_SLOTS: u64 = 1 << 20;

/// What kind of generator an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoroutineKind {
    /// `generator` (`PyGen_Type`).
    Generator,
    /// `coroutine` (`PyCoro_Type`).
    Coroutine,
    /// `async_generator` (`PyAsyncGen_Type`).
    AsyncGenerator,
}

impl CoroutineKind {
    /// `"generator"`, `"coroutine"` or `"async_generator"` (the type's name).
    pub fn as_str(self) -> &'static str {
        match self {
            CoroutineKind::Generator => "generator",
            CoroutineKind::Coroutine => "coroutine",
            CoroutineKind::AsyncGenerator => "async_generator",
        }
    }
}

/// The state of a generator, as `inspect.getgeneratorstate` / `getcoroutinestate` / `getasyncgenstate` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoroutineState {
    /// Not started yet.
    Created,
    /// Suspended at a `yield`, `yield from` or `await`.
    Suspended,
    /// Running (in some thread's stack).
    Running,
    /// Finished: it has no frame any more.
    Closed,
}

impl CoroutineState {
    /// `"created"`, `"suspended"`, `"running"` or `"closed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CoroutineState::Created => "created",
            CoroutineState::Suspended => "suspended",
            CoroutineState::Running => "running",
            CoroutineState::Closed => "closed",
        }
    }
}

/// A decoded generator, coroutine or async generator.
#[derive(Debug, Clone)]
pub struct Coroutine {
    /// Which of the three it is.
    pub kind: CoroutineKind,
    /// Its state.
    pub state: CoroutineState,
    /// `__qualname__` of the generator object itself (`gi_qualname` / `cr_qualname`), as `coro.__qualname__`
    /// returns it.
    pub qualname: Option<String>,
    /// Its frame decoded like a thread frame (function, qualname, file, line = `f_lineno` where it is suspended,
    /// firstlineno, locals when `opts.locals`); `None` when it has no frame (closed / exhausted).
    pub frame: Option<Frame>,
    /// What it awaits / yields from right now, as `cr_await` / `gi_yieldfrom` / `ag_await` return it (CPython's
    /// `_PyGen_yf`): `Addr::NULL` when nothing (and when it could not be told: the frame's `errors` say why).
    pub awaiting: Addr,
}

/// The kind of `obj` if its (exact) type is the generator, coroutine or async-generator type; `None` otherwise.
pub fn coroutine_kind<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    obj: Addr,
) -> Result<Option<CoroutineKind>, DecodeError> {
    Ok(coroutine_kind_of_type(heap, heap.type_of(obj)?))
}

/// The kind of the objects of type `ty` if it is the generator, coroutine or async-generator type (so callers can
/// classify each distinct type once).
pub fn coroutine_kind_of_type<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, ty: Addr) -> Option<CoroutineKind> {
    let [generator, coroutine, async_generator] = heap.statics().generator_types;
    let ty = Some(ty);
    if ty == generator {
        Some(CoroutineKind::Generator)
    } else if ty == coroutine {
        Some(CoroutineKind::Coroutine)
    } else if ty == async_generator {
        Some(CoroutineKind::AsyncGenerator)
    } else {
        None
    }
}

/// Decodes the generator, coroutine or async generator at `obj`.
pub fn coroutine<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    obj: Addr,
    opts: &StackOptions,
) -> Result<Coroutine, DecodeError> {
    decode(heap, obj, opts, None)
}

/// [`coroutine`] for one of many decoded by the same thread: what frames suspended at the same place share is read
/// once and remembered in `cache`.
pub fn coroutine_cached<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    obj: Addr,
    opts: &StackOptions,
    cache: &mut CodeCache,
) -> Result<Coroutine, DecodeError> {
    decode(heap, obj, opts, Some(cache))
}

fn decode<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    obj: Addr,
    opts: &StackOptions,
    cache: Option<&mut CodeCache>,
) -> Result<Coroutine, DecodeError> {
    let kind = coroutine_kind(heap, obj)?
        .ok_or_else(|| DecodeError::malformed(obj, "generator", "not a generator, coroutine or async generator"))?;
    let (p, l) = (heap.process(), heap.layout());
    let mut cache = cache;
    let qualname = read_ptr(p, obj, &l.gen.gi_qualname, "generator")
        .and_then(|q| match cache.as_deref_mut() {
            Some(cache) => cache.name(heap, q, MAX_NAME_CHARS),
            None => heap.str_value(q, MAX_NAME_CHARS).map(|s| s.text),
        })
        .ok();
    let (state, frame, awaiting) = if l.gen.gi_iframe.is_known() {
        embedded(heap, obj, opts, cache)?
    } else {
        frame_object(heap, obj, opts, cache)?
    };
    Ok(Coroutine { kind, state, qualname, frame, awaiting })
}

/// The state a frame-state value stands for.
fn classify(
    states: &frames::GenStates,
    value: i8,
    obj: Addr,
    what: &'static str,
) -> Result<CoroutineState, DecodeError> {
    Ok(if value == states.created {
        CoroutineState::Created
    } else if value == states.suspended || states.suspended_yield_from.contains(&value) {
        CoroutineState::Suspended
    } else if value == states.executing {
        CoroutineState::Running
    } else if value >= states.finished {
        CoroutineState::Closed
    } else {
        return Err(DecodeError::malformed(obj, what, format!("frame state {value}")));
    })
}

/// 3.11+: the state, frame and awaited object of a generator with an embedded interpreter frame.
fn embedded<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    obj: Addr,
    opts: &StackOptions,
    cache: Option<&mut CodeCache>,
) -> Result<(CoroutineState, Option<Frame>, Addr), DecodeError> {
    let (p, l, model) = (heap.process(), heap.layout(), heap.frame_model());
    let states = model.gen_states.ok_or_else(|| DecodeError::malformed(obj, "generator", "no frame states known"))?;
    let value = read_u8(p, obj, &l.gen.gi_frame_state, "generator")? as i8;
    let state = classify(&states, value, obj, "generator")?;
    if state == CoroutineState::Closed {
        return Ok((state, None, Addr::NULL));
    }
    let iframe = field_addr(obj, &l.gen.gi_iframe, "generator")?;
    let frame = frames::interpreter_frame(heap, iframe, opts, cache)?;
    if state != CoroutineState::Suspended {
        return Ok((state, frame, Addr::NULL));
    }
    let awaited = || -> Result<Addr, DecodeError> {
        Ok(match model.yield_from {
            YieldFrom::State { depth } if states.suspended_yield_from.contains(&value) => {
                stack_slot(heap, iframe, depth)?
            }
            YieldFrom::Resume(opcodes) => {
                let code = model.object(read_u64(p, iframe, &l.iframe.executable, "interpreter frame")?);
                let offset = frames::instruction_offset(heap, iframe, code)?;
                let next = field_addr(code, &l.code.code_adaptive, "code")?.wrapping_add((offset + 2) as u64);
                let mut unit = [0u8; 2];
                p.read_into(next, &mut unit).map_err(|source| DecodeError::Read {
                    addr: code,
                    what: "code",
                    field: "co_code_adaptive",
                    source,
                })?;
                if opcodes.contains(&unit[0]) && unit[1] >= 2 {
                    stack_slot(heap, iframe, 1)?
                } else {
                    Addr::NULL
                }
            }
            _ => Addr::NULL,
        })
    };
    let (frame, awaiting) = degrade(frame, awaited())?;
    Ok((state, frame, awaiting))
}

/// 3.11+: the object in the stack slot `depth` below the top of the interpreter frame at `iframe`.
fn stack_slot<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, iframe: Addr, depth: u64) -> Result<Addr, DecodeError> {
    let (p, l) = (heap.process(), heap.layout());
    let top = frames::stack_top(heap, iframe)?;
    if top > MAX_STACK_SLOTS || top < depth {
        return Err(DecodeError::malformed(iframe, "interpreter frame", format!("stack top {top}")));
    }
    let base = field_addr(iframe, &l.iframe.localsplus, "interpreter frame")?;
    let at = base.wrapping_add(8 * (top - depth));
    let bits = p.read_u64(at).map_err(|source| DecodeError::Read {
        addr: iframe,
        what: "interpreter frame",
        field: "localsplus",
        source,
    })?;
    Ok(heap.frame_model().object(bits))
}

/// ≤3.10: the state, frame and awaited object of a generator with a `gi_frame`.
fn frame_object<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    obj: Addr,
    opts: &StackOptions,
    cache: Option<&mut CodeCache>,
) -> Result<(CoroutineState, Option<Frame>, Addr), DecodeError> {
    let (p, l, model) = (heap.process(), heap.layout(), heap.frame_model());
    let fo = &l.frame_object;
    let f = read_ptr(p, obj, &l.gen.gi_frame, "generator")?;
    if f.is_null() {
        return Ok((CoroutineState::Closed, None, Addr::NULL));
    }
    let lasti = read_i32(p, f, &fo.f_lasti, "frame")?;
    let state = match model.gen_states {
        // 3.10: the frame's `f_state`.
        Some(states) => classify(&states, read_u8(p, f, &fo.f_state, "frame")? as i8, f, "frame")?,
        // ≤3.9: `gi_running`, then `f_lasti == -1` for a frame not started.
        None if read_u8(p, obj, &l.gen.gi_running, "generator")? != 0 => CoroutineState::Running,
        None if lasti == -1 => CoroutineState::Created,
        None => CoroutineState::Suspended,
    };
    let frame = frames::frame_object(heap, f, opts, cache)?;
    if state != CoroutineState::Suspended || lasti < 0 {
        return Ok((state, frame, Addr::NULL));
    }
    let (frame, awaiting) = degrade(frame, awaited_310(heap, f, lasti))?;
    Ok((state, frame, awaiting))
}

/// ≤3.10: what the suspended generator frame `f` (at `f_lasti` = `lasti`) awaits.
fn awaited_310<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, f: Addr, lasti: i32) -> Result<Addr, DecodeError> {
    let (p, l, model) = (heap.process(), heap.layout(), heap.frame_model());
    let fo = &l.frame_object;
    let YieldFrom::NextOpcode(yield_from) = model.yield_from else {
        return Ok(Addr::NULL);
    };
    let code = read_ptr(p, f, &fo.f_code, "frame")?;
    let bytecode = read_ptr(p, code, &l.code.code, "code").and_then(|b| heap.bytes_value(b, MAX_CODE_BYTES))?;
    let next = i64::from(lasti) * model.lasti_unit + 2;
    if usize::try_from(next).ok().and_then(|n| bytecode.data.get(n)) != Some(&yield_from) {
        return Ok(Addr::NULL);
    }
    // The top of the value stack: 3.8/3.9 `f_stacktop[-1]`, 3.10 `f_valuestack[f_stackdepth - 1]`.
    let base = read_ptr(p, f, &fo.f_valuestack, "frame")?;
    let top = if fo.f_stackdepth.is_known() {
        let depth = read_i32(p, f, &fo.f_stackdepth, "frame")?;
        u64::try_from(depth).map_err(|_| DecodeError::malformed(f, "frame", format!("stack depth {depth}")))?
    } else {
        let top = read_ptr(p, f, &fo.f_stacktop, "frame")?;
        top.0
            .checked_sub(base.0)
            .map(|d| d / 8)
            .ok_or_else(|| DecodeError::malformed(f, "frame", "stack top below its base"))?
    };
    if top == 0 || top > MAX_STACK_SLOTS {
        return Err(DecodeError::malformed(f, "frame", format!("{top} value-stack slots at a yield from")));
    }
    let at = base.wrapping_add(8 * (top - 1));
    p.read_ptr(at).map_err(|source| DecodeError::Read { addr: f, what: "frame", field: "f_valuestack", source })
}

/// A failure to tell what a generator awaits is recorded on its frame (the awaited object then reads as none);
/// without a frame it is the generator's error.
fn degrade(
    mut frame: Option<Frame>,
    awaiting: Result<Addr, DecodeError>,
) -> Result<(Option<Frame>, Addr), DecodeError> {
    match (awaiting, frame.as_mut()) {
        (Ok(a), _) => Ok((frame, a)),
        (Err(e), Some(f)) => {
            f.errors.push(e);
            Ok((frame, Addr::NULL))
        }
        (Err(e), None) => Err(e),
    }
}

#[cfg(test)]
mod tests;
