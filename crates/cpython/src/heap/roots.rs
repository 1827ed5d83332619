//! Roots of the heap graph: references that keep objects alive from outside the objects themselves.
//!
//! Per interpreter: `sys.modules` and each module in it, `sys.__dict__`, the builtins dict, `importlib`, the
//! interpreter's `dict`, and (3.12+) its interned-strings dict; per thread: its `dict` and its frames. Frames are
//! objects up to 3.10 (the frame objects of the chain are roots); from 3.11 on they are not objects
//! (shared/docs/cpython-internals.md, trap 10), so every reference a `_PyInterpreterFrame` holds is a root: code,
//! function, globals, builtins, locals, frame object, and its fast locals and live stack slots. Process-wide: the
//! static types and singletons exported by libpython ([`Heap::statics`]), and from 3.11 on the statically allocated
//! objects inside `_PyRuntime` (small ints, `_Py_ID` strings, one-byte bytes, the empty tuple, the empty hamt, …;
//! found by scanning `_PyRuntime` for immortal objects of static types).
//!
//! A root records where it was found as a few words of data ([`RootWhere`]); [`RootNamer`] turns that into names
//! (function, local, thread) only for the roots a report shows.
//!
//! Every walk is bounded; a root that cannot be read is reported as a [`DecodeError`] next to the roots that could.

use std::collections::HashMap;

use heapscope_coredump::{Addr, ProcessImage};

use crate::frames::{frame_chain, Chain};
use crate::heap::TypeCache;
use crate::objects::{flags, DecodeError, Heap, Kind};
use crate::runtime::{field_addr, read_i32, read_ptr, read_u64, Interpreter};

/// Most modules read from one `sys.modules`.
const MAX_MODULES: usize = 1 << 20;
/// Most frames followed per thread.
const MAX_FRAMES: usize = 1 << 16;
/// Most frames followed in all threads together: thousands of threads tens of frames deep, far beyond what Python
/// processes run, and low enough that a crafted thread list cannot multiply the roots by its length.
const MAX_FRAMES_IN_ALL: usize = 1 << 18;
/// Most fast-local and stack slots read per frame.
const MAX_SLOTS: u64 = 1 << 16;
/// Most bytes of `_PyRuntime` scanned for static objects (3.12's is 450 KiB).
const MAX_RUNTIME_SCAN: u64 = 16 << 20;

mod describe;
mod statics;

pub use statics::{c_globals, data_ranges, scan_words};

pub use describe::{RootDescription, RootNamer};

/// What kind of reference a root is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootKind {
    /// `sys.modules` (`interp->modules`, `interp->imports.modules`).
    SysModules,
    /// A module listed in `sys.modules`.
    Module,
    /// `sys.__dict__` (`interp->sysdict`).
    SysDict,
    /// The builtins' dict (`interp->builtins`).
    Builtins,
    /// `interp->importlib`.
    Importlib,
    /// `interp->dict` (per-interpreter storage of extension modules).
    InterpreterDict,
    /// A thread's `dict` (`threading.local` storage and the like).
    ThreadDict,
    /// ≤3.10: a frame object of a thread's running stack.
    FrameObject,
    /// 3.11+: a reference held by a running interpreter frame (code, function, globals, builtins, locals, frame
    /// object, fast local or stack slot).
    FrameRef,
    /// A static type exported by libpython (`PyLong_Type`, …).
    StaticType,
    /// `None`, `True`, `False`, `NotImplemented`, `Ellipsis`.
    Singleton,
    /// 3.11+: an object allocated statically inside `_PyRuntime` (small ints, `_Py_ID` strings, …).
    RuntimeStatic,
    /// 3.12+: an interpreter's interned-strings dict (`interp->cached_objects.interned_strings`).
    Interned,
    /// A word of an interpreter's state (`PyInterpreterState`) that holds the address of an object: its caches,
    /// codec registry, `sys` and builtins copies, … (found by a conservative scan of the structure).
    InterpreterState,
    /// A word of a thread's state (`PyThreadState`) that holds the address of an object: the exception being
    /// handled or raised, the async-generator hooks, the context, … (found by a conservative scan of the
    /// structure).
    ThreadState,
    /// A word of a thread's C stack (from its stack pointer up) or one of its registers that holds the address of
    /// an object: what C code running on the thread holds (found by a conservative scan; a stale word can name an
    /// object no longer used).
    CStack,
    /// A word of a loaded ELF object's static data (`.data`, `.bss`: C globals, `_PyRuntime`, an extension's
    /// cached objects) that holds the address of an object. Found by a conservative scan: a stale word can name an
    /// object the C code no longer uses.
    CGlobal,
}

impl RootKind {
    /// True for the references a running frame holds (the roots `gc.get_objects()` does not see).
    pub fn is_frame(self) -> bool {
        matches!(self, RootKind::FrameObject | RootKind::FrameRef)
    }
}

/// Where a root was found, in a few words of data: enough to name it for people later ([`RootNamer`]), so that
/// collecting the roots reads no names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RootWhere {
    /// A field of the interpreter state at `interp` (which one: the [`RootKind`]).
    Interpreter {
        /// The `PyInterpreterState`.
        interp: Addr,
    },
    /// `sys.modules[key]`.
    Module {
        /// The key: the module's name, a str.
        key: Addr,
    },
    /// The `dict` of the thread state `tstate`.
    ThreadDict {
        /// The `PyThreadState`.
        tstate: Addr,
        /// Its `thread_id` (`threading.get_ident()`).
        ident: u64,
    },
    /// A reference of a running frame.
    Frame {
        /// The `PyFrameObject` (≤3.10) or `_PyInterpreterFrame` (3.11+).
        frame: Addr,
        /// The thread's `thread_id`.
        ident: u64,
        /// Position in the thread's chain, 0 innermost.
        depth: u32,
        /// Which reference of the frame.
        slot: FrameSlot,
    },
    /// A static type or singleton exported by libpython, by its symbol.
    Symbol(#[serde(deserialize_with = "crate::names::deserialize")] crate::names::StaticName),
    /// A static object at this offset inside `_PyRuntime`.
    RuntimeStatic {
        /// `_PyRuntime`.
        runtime: Addr,
        /// The object's offset in it.
        offset: u64,
    },
    /// The word at `offset` in the interpreter or thread state `state` (of thread `ident`, 0 for an interpreter).
    StateWord {
        /// The `PyInterpreterState` or `PyThreadState`.
        state: Addr,
        /// The word's offset in it.
        offset: u32,
        /// The thread's `thread_id`, 0 for an interpreter state.
        ident: u64,
    },
    /// A word of the C stack of thread `tid` at `addr`, or one of its registers (`addr` `None`).
    CStack {
        /// The kernel thread id.
        tid: u32,
        /// Where the word is on the stack; `None` for a register.
        addr: Option<Addr>,
    },
    /// The word at `addr` in the static data of the loaded object `object` (an index into
    /// [`ProcessImage::objects`]).
    CGlobal {
        /// Where the word is.
        addr: Addr,
        /// Which loaded object's data holds it.
        object: u32,
    },
}

impl RootWhere {
    /// The address of the structure that holds the reference: the frame, the thread or interpreter state,
    /// `_PyRuntime`; `None` for a symbol (the object is its own root).
    pub fn holder(&self) -> Option<Addr> {
        match *self {
            RootWhere::Interpreter { interp } => Some(interp),
            RootWhere::Module { .. } => None,
            RootWhere::ThreadDict { tstate, .. } => Some(tstate),
            RootWhere::Frame { frame, .. } => Some(frame),
            RootWhere::Symbol(_) => None,
            RootWhere::RuntimeStatic { runtime, .. } => Some(runtime),
            RootWhere::CGlobal { addr, .. } => Some(addr),
            RootWhere::StateWord { state, .. } => Some(state),
            RootWhere::CStack { addr, .. } => addr,
        }
    }
}

/// Which reference of a running frame a frame root is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FrameSlot {
    /// ≤3.10: the frame object itself.
    Whole,
    /// 3.11+: a field of the interpreter frame (`code`, `function`, `globals`, `builtins`, `locals`,
    /// `frame object`).
    Field(#[serde(deserialize_with = "crate::names::deserialize")] crate::names::StaticName),
    /// 3.11+: slot `i` of `localsplus`: a fast local (named by the code object) or, past them, the value stack.
    Slot(u32),
}

/// One root: an object and why it is alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Root {
    /// The object.
    pub addr: Addr,
    /// The kind of reference.
    pub kind: RootKind,
    /// Where it was found ([`RootNamer::describe`] names it).
    pub at: RootWhere,
}

/// The roots found, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    /// Every root, in the order found (an object may be a root several times, for different reasons).
    pub roots: Vec<Root>,
    /// Parts that could not be decoded.
    pub errors: Vec<DecodeError>,
}

impl Roots {
    fn push(&mut self, addr: Addr, kind: RootKind, at: RootWhere) {
        if !addr.is_null() {
            self.roots.push(Root { addr, kind, at });
        }
    }

    fn ptr_field<P: ProcessImage + ?Sized>(
        &mut self,
        heap: &Heap<'_, P>,
        base: Addr,
        field: &crate::layout::Field,
        what: &'static str,
        kind: RootKind,
        at: RootWhere,
    ) {
        if !field.is_known() {
            return;
        }
        match read_ptr(heap.process(), base, field, what) {
            Ok(a) => self.push(a, kind, at),
            Err(e) => self.errors.push(e),
        }
    }
}

/// Collects the roots of the runtime at `runtime` and its interpreters `interps`.
pub fn collect<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, runtime: Addr, interps: &[Interpreter]) -> Roots {
    let mut out = Roots::default();
    let mut frames = FramesSeen::default();
    for interp in interps {
        interpreter_roots(heap, interp.addr, &mut out);
        interned(heap, interp.addr, &mut out);
        let walk = crate::runtime::threads(heap.process(), heap.layout(), interp.addr);
        out.errors.extend(walk.error);
        for t in &walk.items {
            let l = &heap.layout().tstate;
            let at = RootWhere::ThreadDict { tstate: t.tstate, ident: t.ident };
            out.ptr_field(heap, t.tstate, &l.dict, "thread state", RootKind::ThreadDict, at);
            thread_frames(heap, t.tstate, t.ident, &mut frames, &mut out);
        }
    }
    static_roots(heap, &mut out);
    // `_PyRuntime` embeds the main interpreter, and with it the static objects, from 3.11 on.
    if heap.layout().runtime.main_interpreter.is_known() {
        runtime_statics(heap, runtime, &mut out);
    }
    out
}

/// 3.12+: the interpreter's interned-strings dict (`interp->cached_objects.interned_strings`), when the field is
/// known and points to a dict. ≤3.11 the table is a file-static variable of `unicodeobject.c` (`interned`), which
/// only a symbol table could find: no root there.
fn interned<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, interp: Addr, out: &mut Roots) {
    let field = &heap.layout().interp.interned_strings;
    if !field.is_known() {
        return;
    }
    match read_ptr(heap.process(), interp, field, "interpreter") {
        Ok(a) if !a.is_null() && heap.kind(a).is_ok_and(|k| k == Kind::Dict) => {
            out.push(a, RootKind::Interned, RootWhere::Interpreter { interp })
        }
        Ok(_) => {}
        Err(e) => out.errors.push(e),
    }
}

/// `sys.modules` and its modules, `sys.__dict__`, builtins, importlib, `interp->dict`.
fn interpreter_roots<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, interp: Addr, out: &mut Roots) {
    let l = &heap.layout().interp;
    let fields = [
        (&l.sysdict, RootKind::SysDict),
        (&l.builtins, RootKind::Builtins),
        (&l.importlib, RootKind::Importlib),
        (&l.dict, RootKind::InterpreterDict),
    ];
    let at = RootWhere::Interpreter { interp };
    for (field, kind) in fields {
        out.ptr_field(heap, interp, field, "interpreter", kind, at);
    }
    let modules = match read_ptr(heap.process(), interp, &l.modules, "interpreter") {
        Ok(m) => m,
        Err(e) => return out.errors.push(e),
    };
    if modules.is_null() {
        return;
    }
    out.push(modules, RootKind::SysModules, at);
    match heap.dict_items(modules, MAX_MODULES) {
        Ok(items) => {
            for (key, module) in items {
                out.push(module, RootKind::Module, RootWhere::Module { key });
            }
        }
        Err(e) => out.errors.push(e),
    }
}

/// The frames of one thread, innermost first: ≤3.10 the frame objects, 3.11+ the references of each interpreter
/// frame (entry frames hold none of their own).
fn thread_frames<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    tstate: Addr,
    ident: u64,
    seen: &mut FramesSeen,
    out: &mut Roots,
) {
    for step in frame_chain(heap, tstate, MAX_FRAMES) {
        let at = match step {
            Ok(at) => at,
            Err(e) => return out.errors.push(e),
        };
        if let Err(e) = seen.check(at.addr, ident) {
            return out.errors.push(e);
        }
        let depth = u32::try_from(at.index).unwrap_or(u32::MAX);
        let root = |slot| RootWhere::Frame { frame: at.addr, ident, depth, slot };
        match heap.frame_model().chain {
            Chain::FrameObjects => out.push(at.addr, RootKind::FrameObject, root(FrameSlot::Whole)),
            Chain::CFrame | Chain::CurrentFrame if !at.shim => interpreter_frame(heap, at.addr, &root, out),
            Chain::CFrame | Chain::CurrentFrame => {}
        }
    }
}

/// The frames of the threads walked so far: every thread's frames are its own.
#[derive(Debug, Default)]
struct FramesSeen {
    /// Each frame with the thread (ident) whose chain held it.
    owner: HashMap<Addr, u64>,
}

impl FramesSeen {
    /// Takes the frame `f` of the thread `ident`, or tells why its chain ends before it: the frame is another
    /// thread's (a corrupt or crafted core), or the threads' frames together reach [`MAX_FRAMES_IN_ALL`].
    fn check(&mut self, f: Addr, ident: u64) -> Result<(), DecodeError> {
        if let Some(&other) = self.owner.get(&f) {
            if other != ident {
                let why = format!(
                    "the frame chain of thread {ident:#x} runs into the frames of thread {other:#x}; the frames \
                     beyond are not read (the thread states or frames are corrupt)"
                );
                return Err(DecodeError::malformed(f, "frame", why));
            }
        }
        if self.owner.len() >= MAX_FRAMES_IN_ALL {
            let why = format!(
                "the threads' frames reach the limit of {MAX_FRAMES_IN_ALL} frames in all; the frames of thread \
                 {ident:#x} from this one on are not read"
            );
            return Err(DecodeError::malformed(f, "frame", why));
        }
        self.owner.insert(f, ident);
        Ok(())
    }
}

/// 3.11+: the references one `_PyInterpreterFrame` holds.
fn interpreter_frame<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    f: Addr,
    at: &dyn Fn(FrameSlot) -> RootWhere,
    out: &mut Roots,
) {
    let (p, l, model) = (heap.process(), heap.layout(), heap.frame_model());
    let word = |field: &crate::layout::Field| read_u64(p, f, field, "interpreter frame").map(|w| model.object(w));
    let code = match word(&l.iframe.executable) {
        Ok(c) => c,
        Err(e) => return out.errors.push(e),
    };
    out.push(code, RootKind::FrameRef, at(FrameSlot::Field("code")));
    let refs = [
        (&l.iframe.funcobj, "function"),
        (&l.iframe.globals, "globals"),
        (&l.iframe.builtins, "builtins"),
        (&l.iframe.locals, "locals"),
        (&l.iframe.frame_obj, "frame object"),
    ];
    for (field, name) in refs {
        if field.is_known() {
            match word(field) {
                Ok(a) => out.push(a, RootKind::FrameRef, at(FrameSlot::Field(name))),
                Err(e) => out.errors.push(e),
            }
        }
    }
    if let Err(e) = frame_slots(heap, f, code, at, out) {
        out.errors.push(e);
    }
}

/// The fast locals (`co_nlocalsplus` slots) and the live value stack of a 3.11+ frame. Slots past the saved stack
/// top are stale and never read; when the top is not known or not plausible, only the locals are.
fn frame_slots<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    f: Addr,
    code: Addr,
    at: &dyn Fn(FrameSlot) -> RootWhere,
    out: &mut Roots,
) -> Result<(), DecodeError> {
    let (p, l, model) = (heap.process(), heap.layout(), heap.frame_model());
    if code.is_null() || heap.kind(code)? != Kind::Code {
        return Ok(());
    }
    let nlocals = u64::try_from(read_i32(p, code, &l.code.nlocalsplus, "code")?).unwrap_or(0);
    let stacksize = u64::try_from(read_i32(p, code, &l.code.stacksize, "code")?).unwrap_or(0);
    let slots = field_addr(f, &l.iframe.localsplus, "interpreter frame")?;
    let top = crate::frames::stack_top(heap, f).ok();
    let live = match top {
        Some(t) if t >= nlocals && t <= nlocals + stacksize => t,
        _ => nlocals,
    }
    .min(MAX_SLOTS);
    let raw = p.bytes(slots, live as usize * 8).map_err(|source| DecodeError::Read {
        addr: f,
        what: "interpreter frame",
        field: "localsplus",
        source,
    })?;
    for (i, w) in raw.chunks_exact(8).enumerate() {
        let a = model.object(u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
        if a.is_null() {
            continue;
        }
        out.push(a, RootKind::FrameRef, at(FrameSlot::Slot(i as u32)));
    }
    Ok(())
}

/// The static types and singletons found by symbol.
fn static_roots<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, out: &mut Roots) {
    let s = heap.statics();
    for (a, name) in s.singletons() {
        out.push(a, RootKind::Singleton, RootWhere::Symbol(name));
    }
    for (a, name) in s.types() {
        out.push(a, RootKind::StaticType, RootWhere::Symbol(name));
    }
}

/// 3.11+: the statically allocated objects inside `_PyRuntime` (which embeds the main interpreter and its own
/// static objects: small ints, `_Py_ID` strings, one-byte bytes, the empty tuple, the empty hamt and its root node,
/// the last-resort `MemoryError`, …). A candidate is a word pair `(refcount, type)` at an 8-aligned offset whose
/// refcount has the exact immortal value of a static object in this version, whose type is a static type (a ready,
/// non-heap type object, itself of type `type`, inside a mapped ELF object), and which then decodes.
fn runtime_statics<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, runtime: Addr, out: &mut Roots) {
    let (p, l) = (heap.process(), heap.layout());
    let size = l.runtime.size.offset.map(u64::from).unwrap_or(0).min(MAX_RUNTIME_SCAN);
    let (Ok(refcnt_at), Ok(type_at)) = (l.object.ob_refcnt.get(), l.object.ob_type.get()) else { return };
    let Some(type_type) = heap.statics().type_type else { return };
    if size < 16 {
        return;
    }
    let bytes = match p.bytes(runtime, size as usize) {
        Ok(b) => b,
        Err(source) => {
            return out.errors.push(DecodeError::Read {
                addr: runtime,
                what: "_PyRuntime",
                field: "static objects",
                source,
            })
        }
    };
    let word = |off: u64| -> Option<u64> {
        let at = usize::try_from(off).ok()?;
        Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    };
    let refcount = heap.features().refcount;
    let mut static_types: HashMap<u64, bool> = HashMap::new();
    let mut cache = TypeCache::new(heap);
    let mut off = 0u64;
    while off + 16 <= size {
        if let (Some(ty), Some(rc)) = (word(off + type_at), word(off + refcnt_at)) {
            let at = runtime.wrapping_add(off);
            if refcount.is_static_initial(rc)
                && *static_types.entry(ty).or_insert_with(|| is_static_type(heap, type_type, Addr(ty)))
                && decodes(heap, &mut cache, at)
            {
                out.push(at, RootKind::RuntimeStatic, RootWhere::RuntimeStatic { runtime, offset: off });
            }
        }
        off += 8;
    }
}

/// True if `ty` is a static type: a ready, non-heap type whose own type is `type`, inside a mapped ELF object.
fn is_static_type<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, type_type: Addr, ty: Addr) -> bool {
    heap.process().objects().iter().any(|o| o.contains(ty))
        && heap.type_of(ty).is_ok_and(|t| t == type_type)
        && heap.tp_flags(ty).is_ok_and(|f| f & flags::READY != 0 && f & flags::HEAPTYPE == 0)
}

/// True if the candidate static object at `obj` decodes: its facts ([`crate::heap::object_info_with`]), and for
/// the builtin kinds its value (a word pair that merely looks like a header fails one of these).
fn decodes<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, cache: &mut TypeCache, obj: Addr) -> bool {
    if crate::heap::object_info_with(heap, cache, obj).is_err() {
        return false;
    }
    match heap.kind(obj) {
        Ok(Kind::Str) => heap.str_value(obj, 0).is_ok(),
        Ok(Kind::Int) => heap.int_value(obj).is_ok(),
        Ok(Kind::Bytes) => heap.bytes_value(obj, 0).is_ok(),
        Ok(Kind::Float) => heap.float_value(obj).is_ok(),
        Ok(Kind::Tuple) => heap.tuple_items(obj, 0).is_ok(),
        Ok(_) => true,
        Err(_) => false,
    }
}
