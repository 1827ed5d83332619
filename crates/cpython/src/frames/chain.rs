//! The frame chain of a thread, innermost frame first: the one walk behind `heapscope stacks` ([`super::stack`]) and
//! the frame roots of the heap graph (`heap/roots.rs`).

use std::collections::HashSet;

use heapscope_coredump::{Addr, ProcessImage};

use super::{Chain, FrameModel};
use crate::objects::{DecodeError, Heap};
use crate::runtime::{read_ptr, read_u64, read_u8};

/// One frame of a thread's chain, as [`FrameChain`] yields it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainFrame {
    /// The `PyFrameObject` (≤3.10) or `_PyInterpreterFrame` (3.11+).
    pub addr: Addr,
    /// Its position in the chain: 0 for the innermost frame, entry frames counted.
    pub index: usize,
    /// An interpreter-internal entry ("shim") frame: its owner is one of [`FrameModel::shim_owners`].
    pub shim: bool,
}

/// Where the walk is.
#[derive(Debug, Clone, Copy)]
enum Next {
    /// The innermost frame is read from the thread state next.
    Start,
    /// The link of this frame is read next.
    After(Addr),
    /// This frame, found by other means than a link, is yielded next ([`FrameChain::resume`]).
    At(Addr),
    /// The chain ended (its end, or an error).
    Done,
}

/// An iterator over the frame chain of the thread state `tstate`, made by [`frame_chain`].
///
/// Each step reads one link (`tstate->frame`/`f_back` ≤3.10, `current_frame`/`previous` 3.11+) and, where the
/// version has entry frames, the frame's owner. The walk ends with one error item when a link or an owner cannot be
/// read, when the chain comes back to a frame it has visited, or when it is longer than `max_depth`. A frame is
/// yielded before its own link is read, so a frame whose link is broken still comes out. Nothing is allocated per
/// frame beyond the set of frames seen.
pub struct FrameChain<'h, 'a, P: ProcessImage + ?Sized> {
    heap: &'h Heap<'a, P>,
    model: &'h FrameModel,
    tstate: Addr,
    next: Next,
    seen: HashSet<Addr>,
    max_depth: usize,
}

/// Walks the frame chain of the thread state `tstate`, at most `max_depth` frames (entry frames included).
pub fn frame_chain<'h, 'a, P: ProcessImage + ?Sized>(
    heap: &'h Heap<'a, P>,
    tstate: Addr,
    max_depth: usize,
) -> FrameChain<'h, 'a, P> {
    FrameChain { heap, model: heap.frame_model(), tstate, next: Next::Start, seen: HashSet::new(), max_depth }
}

impl<P: ProcessImage + ?Sized> std::fmt::Debug for FrameChain<'_, '_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameChain")
            .field("tstate", &self.tstate)
            .field("next", &self.next)
            .field("seen", &self.seen.len())
            .field("max_depth", &self.max_depth)
            .finish()
    }
}

impl<P: ProcessImage + ?Sized> FrameChain<'_, '_, P> {
    /// Goes on from `frame`, a frame of this thread found otherwise (in its data stack) after the chain ended or
    /// broke: it is yielded next, then the walk follows its links as before, under the same limits.
    pub fn resume(&mut self, frame: Addr) {
        self.next = Next::At(frame);
    }

    /// The innermost frame of the thread (NULL when it runs no Python code).
    fn first(&self) -> Result<Addr, DecodeError> {
        let (p, l) = (self.heap.process(), self.heap.layout());
        match self.model.chain {
            Chain::FrameObjects => read_ptr(p, self.tstate, &l.tstate.frame, "thread state"),
            Chain::CFrame => {
                let cframe = read_ptr(p, self.tstate, &l.tstate.cframe, "thread state")?;
                if cframe.is_null() {
                    return Ok(Addr::NULL);
                }
                read_ptr(p, cframe, &l.cframe.current_frame, "_PyCFrame")
            }
            Chain::CurrentFrame => read_ptr(p, self.tstate, &l.tstate.current_frame, "thread state"),
        }
    }

    /// The frame after `f` (its caller).
    fn link(&self, f: Addr) -> Result<Addr, DecodeError> {
        let (p, l) = (self.heap.process(), self.heap.layout());
        match self.model.chain {
            Chain::FrameObjects => read_ptr(p, f, &l.frame_object.f_back, "frame"),
            Chain::CFrame | Chain::CurrentFrame => read_ptr(p, f, &l.iframe.previous, "interpreter frame"),
        }
    }

    /// True if `f` is an entry frame.
    fn is_shim(&self, f: Addr) -> Result<bool, DecodeError> {
        if self.model.shim_owners.is_empty() {
            return Ok(false);
        }
        let owner = read_u8(self.heap.process(), f, &self.heap.layout().iframe.owner, "interpreter frame")?;
        Ok(self.model.shim_owners.contains(&owner))
    }

    /// Checks that the frame `f` runs a code object (3.11+: or none, as an entry frame may): a frame whose code pointer leads
    /// to an object of another kind (or ≤3.10 to NULL) is not a frame, and the chain has left the thread's frames (a
    /// corrupt or crafted core). The walk ends there rather than decode what follows, which could be as long as the
    /// memory it runs through.
    fn runs_code(&self, f: Addr) -> Result<(), DecodeError> {
        let (p, l) = (self.heap.process(), self.heap.layout());
        // A `PyFrameObject` always has its code; an `_PyInterpreterFrame` of an entry frame may have none.
        let (code, may_lack) = match self.model.chain {
            Chain::FrameObjects => (read_ptr(p, f, &l.frame_object.f_code, "frame")?, false),
            Chain::CFrame | Chain::CurrentFrame => {
                (self.model.object(read_u64(p, f, &l.iframe.executable, "interpreter frame")?), true)
            }
        };
        // Only a readable object of another kind ends the chain (a code object that cannot be read keeps its frame,
        // which records why); nothing is refused when heapscope does not know `PyCode_Type`.
        let known = self.heap.statics().code_type.is_some();
        let other = match self.heap.kind(code) {
            Ok(k) => k != crate::objects::Kind::Code,
            Err(_) => code.is_null() && !may_lack,
        };
        if !known || !other {
            return Ok(());
        }
        let why = format!(
            "its code object at {code} is not a code object: the frame chain has left the thread's frames, and the \
             frames beyond are not read (the chain is corrupt)"
        );
        Err(DecodeError::malformed(f, "frame", why))
    }

    fn step(&mut self) -> Result<Option<ChainFrame>, DecodeError> {
        let cur = match self.next {
            Next::Start => self.first()?,
            Next::After(f) => self.link(f)?,
            Next::At(f) => f,
            Next::Done => return Ok(None),
        };
        if cur.is_null() {
            return Ok(None);
        }
        let index = self.seen.len();
        if index >= self.max_depth {
            let why = format!("more than {} frames (raise the depth limit if the stack is that deep)", self.max_depth);
            return Err(DecodeError::malformed(cur, "frame", why));
        }
        if !self.seen.insert(cur) {
            return Err(DecodeError::malformed(cur, "frame", "the frame chain loops back to this frame"));
        }
        let shim = self.is_shim(cur)?;
        if !shim {
            self.runs_code(cur)?;
        }
        self.next = Next::After(cur);
        Ok(Some(ChainFrame { addr: cur, index, shim }))
    }
}

impl<P: ProcessImage + ?Sized> Iterator for FrameChain<'_, '_, P> {
    type Item = Result<ChainFrame, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.step().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.next = Next::Done;
        }
        item
    }
}
