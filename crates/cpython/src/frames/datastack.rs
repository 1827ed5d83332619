//! 3.11+: a thread's data stack, the chunks its `_PyInterpreterFrame`s are pushed on, walked frame by frame.
//!
//! `tstate->datastack_chunk` is the newest `_PyStackChunk`; each chunk links to the one before it (`previous`) and,
//! once a newer chunk was pushed, remembers in `top` how many words of its `data` were in use. Frames lie in a chunk
//! one after the other, each `co_framesize` words long (3.12+; before, `localsplus` in words plus `co_nlocalsplus`
//! plus `co_stacksize`); the root chunk (no `previous`) keeps its first word free (`push_chunk` in `pystate.c`).
//!
//! This is how the frames of a thread whose chain is cut are found again: the chain links pass through entry frames
//! that live on the C stack, which a core may lack or hold as zeros (gdb 13 writes the stacks of threads whose
//! mapping holds glibc 2.42's guard regions as zeros), but the data stack is heap memory. Generator frames live in
//! their generators, not here, and the entry frames on the C stack are lost. Every walk is bounded: at most
//! [`MAX_CHUNKS`] chunks, each visited once, at most [`MAX_FRAMES`] frames, and every frame must lie inside its
//! chunk and run a code object.

use std::collections::{HashMap, HashSet};

use heapscope_coredump::{Addr, ProcessImage};

use crate::objects::{DecodeError, Heap};
use crate::runtime::{field_addr, read_i32, read_ptr, read_u64};

/// Most chunks followed (a chunk is at least 16 KiB: 64 MiB of frames and more).
pub const MAX_CHUNKS: usize = 4096;
/// Most frames read from the data stack.
pub const MAX_FRAMES: usize = 100_000;
/// Largest chunk believed (CPython doubles the 16 KiB default only for a frame that does not fit).
const MAX_CHUNK_BYTES: u64 = 1 << 30;

/// The frames found in a thread's data stack, oldest first, and why the walk stopped early if it did.
#[derive(Debug, Clone, Default)]
pub struct DataStack {
    /// `_PyInterpreterFrame` addresses, oldest (outermost) first. The newest chunk ends at `tstate->datastack_top`
    /// (the data stack's bump pointer); where the layout lacks that field it is walked to its end and may hold
    /// frames already popped after the live ones, so that callers only look below a frame they know is live.
    pub frames: Vec<Addr>,
    /// The frames end at `datastack_top`: the last one is the thread's newest frame in its data stack.
    pub exact_top: bool,
    /// Why the walk stopped before the end of the chunks (an unreadable chunk, a frame that runs no code object).
    pub error: Option<DecodeError>,
    /// Position of each frame in `frames`.
    index: HashMap<Addr, usize>,
}

impl DataStack {
    /// The frame of the data stack just below (called before) `frame`, if `frame` is one of its frames.
    pub fn below(&self, frame: Addr) -> Option<Addr> {
        let i = *self.index.get(&frame)?;
        i.checked_sub(1).map(|j| self.frames[j])
    }

    /// True if `addr` is one of the frames found.
    pub fn contains(&self, addr: Addr) -> bool {
        self.index.contains_key(&addr)
    }

    fn push(&mut self, frame: Addr) {
        self.index.insert(frame, self.frames.len());
        self.frames.push(frame);
    }
}

/// One chunk: where its frames start and end.
struct Chunk {
    first: Addr,
    end: Addr,
}

/// Walks the data stack of the thread state `tstate` (3.11+; empty for a layout without one).
pub fn data_stack<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, tstate: Addr) -> DataStack {
    let mut out = DataStack::default();
    if !heap.layout().tstate.datastack_chunk.is_known() {
        return out;
    }
    let chunks = match chunks(heap, tstate, &mut out.exact_top) {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    for chunk in chunks.iter().rev() {
        let mut at = chunk.first;
        while at < chunk.end {
            if out.frames.len() >= MAX_FRAMES {
                out.error = Some(DecodeError::malformed(at, "data stack", format!("more than {MAX_FRAMES} frames")));
                return out;
            }
            match frame_words(heap, at) {
                Ok(Some(words)) => {
                    let next = words.checked_mul(8).and_then(|b| at.checked_add(b)).filter(|&n| n <= chunk.end);
                    let Some(next) = next else { break };
                    out.push(at);
                    at = next;
                }
                // Past the live frames of the newest chunk, or a frame that is no frame: nothing more here.
                Ok(None) => break,
                Err(e) => {
                    out.error = Some(e);
                    break;
                }
            }
        }
    }
    out
}

/// The chunks of the thread, newest first; `exact_top` tells whether the newest one ends at `datastack_top`.
fn chunks<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    tstate: Addr,
    exact_top: &mut bool,
) -> Result<Vec<Chunk>, DecodeError> {
    let (p, l) = (heap.process(), heap.layout());
    let top = if l.tstate.datastack_top.is_known() {
        Some(read_ptr(p, tstate, &l.tstate.datastack_top, "thread state")?)
    } else {
        None
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut cur = read_ptr(p, tstate, &l.tstate.datastack_chunk, "thread state")?;
    let mut newest = true;
    while !cur.is_null() {
        if out.len() >= MAX_CHUNKS {
            return Err(DecodeError::malformed(cur, "data stack chunk", format!("more than {MAX_CHUNKS} chunks")));
        }
        if !seen.insert(cur) {
            return Err(DecodeError::malformed(cur, "data stack chunk", "the chunk list loops back to this chunk"));
        }
        let c = &l.stack_chunk;
        let previous = read_ptr(p, cur, &c.previous, "data stack chunk")?;
        let size = read_u64(p, cur, &c.chunk_size, "data stack chunk")?;
        let data = field_addr(cur, &c.data, "data stack chunk")?;
        if size > MAX_CHUNK_BYTES || data.0.saturating_sub(cur.0) >= size {
            return Err(DecodeError::malformed(cur, "data stack chunk", format!("size {size} is implausible")));
        }
        let limit = Addr(cur.0.saturating_add(size));
        let first = if previous.is_null() { Addr(data.0.saturating_add(8)) } else { data };
        let end = if newest {
            match top {
                Some(top) if first <= top && top <= limit => {
                    *exact_top = true;
                    top
                }
                Some(top) => {
                    let why = format!("the data stack's top {top} lies outside its newest chunk");
                    return Err(DecodeError::malformed(tstate, "thread state", why));
                }
                None => limit,
            }
        } else {
            let top = read_u64(p, cur, &c.top, "data stack chunk")?;
            let end = top.checked_mul(8).and_then(|b| data.checked_add(b)).filter(|&e| e <= limit);
            end.ok_or_else(|| DecodeError::malformed(cur, "data stack chunk", format!("top {top} is past its end")))?
        };
        out.push(Chunk { first, end });
        newest = false;
        cur = previous;
    }
    Ok(out)
}

/// The size in words of the frame at `f`, or `None` when it runs no code object (no frame starts there).
fn frame_words<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, f: Addr) -> Result<Option<u64>, DecodeError> {
    let (p, l, model) = (heap.process(), heap.layout(), heap.frame_model());
    let code = model.object(read_u64(p, f, &l.iframe.executable, "interpreter frame")?);
    if code.is_null() || !super::is_code(heap, code).unwrap_or(false) {
        return Ok(None);
    }
    let c = &l.code;
    let words = if c.framesize.is_known() {
        i64::from(read_i32(p, code, &c.framesize, "code")?)
    } else {
        // 3.11: `_PyFrame_PushUnchecked` pushes `co_nlocalsplus + co_stacksize + FRAME_SPECIALS_SIZE` words, and
        // FRAME_SPECIALS_SIZE is the words before `localsplus`.
        let specials = l.iframe.localsplus.get().map_err(|source| DecodeError::Layout {
            addr: f,
            what: "interpreter frame",
            source,
        })? / 8;
        let n = read_i32(p, code, &c.nlocalsplus, "code")?;
        let s = read_i32(p, code, &c.stacksize, "code")?;
        i64::from(n) + i64::from(s) + specials as i64
    };
    Ok(u64::try_from(words).ok().filter(|&w| w > 0))
}
