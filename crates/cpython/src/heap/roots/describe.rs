//! Names for roots, made when a report shows them: the roots themselves ([`super::RootWhere`]) are a few words of
//! data each, so collecting them reads no names. [`RootNamer`] reads the thread names once, and for each root what
//! it needs: a module's name, a frame's function and the name of a local.

use std::collections::HashMap;

use heapscope_coredump::{Addr, ProcessImage};

use super::{FrameSlot, RootKind, RootWhere};
use crate::frames::{Chain, SlotNames};
use crate::objects::{DecodeError, Heap};
use crate::runtime::{read_i32, read_ptr, read_u64};

/// Most characters of a module, function, local or thread name in a description.
const MAX_NAME_CHARS: usize = 256;

/// A root, named for people.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RootDescription {
    /// One line: `frame level1 local obj (thread worker-0)`, `sys.modules['json']`, `thread worker-0 dict`,
    /// `sys.__dict__`, `static type PyLong_Type`, `_PyRuntime+0x1a2b0`, ….
    pub text: String,
    /// For a frame: its function (`co_qualname` 3.11+, else `co_name`), when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// For a frame's fast local: the local's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<String>,
    /// For a frame or a thread dict: the thread's `threading` name, else its ident in hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
}

/// Names roots: holds the thread names of every interpreter, read once.
#[derive(Debug)]
pub struct RootNamer<'h, 'a, P: ProcessImage + ?Sized> {
    heap: &'h Heap<'a, P>,
    threads: HashMap<u64, String>,
}

impl<'h, 'a, P: ProcessImage + ?Sized> RootNamer<'h, 'a, P> {
    /// A namer for the roots of the interpreters `interps` (their thread names are read from `threading`; an
    /// interpreter whose names cannot be read gets idents instead).
    pub fn new(heap: &'h Heap<'a, P>, interps: &[Addr]) -> Self {
        let mut threads = HashMap::new();
        for &interp in interps {
            if let Ok(names) = crate::runtime::thread_names(heap, interp) {
                threads.extend(names);
            }
        }
        RootNamer { heap, threads }
    }

    /// The name of thread `ident`: its `threading` name, else the ident in hex.
    pub fn thread(&self, ident: u64) -> String {
        self.threads.get(&ident).cloned().unwrap_or_else(|| format!("{ident:#x}"))
    }

    /// Names a root of kind `kind` found at `at`.
    pub fn describe(&self, kind: RootKind, at: &RootWhere) -> RootDescription {
        let text = |s: String| RootDescription { text: s, ..RootDescription::default() };
        match *at {
            RootWhere::Interpreter { .. } => text(
                match kind {
                    RootKind::Interned => "interned strings",
                    RootKind::SysModules => "sys.modules",
                    RootKind::SysDict => "sys.__dict__",
                    RootKind::Builtins => "builtins.__dict__",
                    RootKind::Importlib => "interpreter importlib",
                    RootKind::InterpreterDict => "interpreter dict",
                    _ => "interpreter state",
                }
                .to_owned(),
            ),
            RootWhere::Module { key } => {
                text(format!("sys.modules['{}']", self.str(key).unwrap_or_else(|| "?".into())))
            }
            RootWhere::ThreadDict { ident, .. } => {
                let thread = self.thread(ident);
                RootDescription { text: format!("thread {thread} dict"), thread: Some(thread), ..Default::default() }
            }
            RootWhere::Frame { frame, ident, slot, .. } => self.frame(frame, ident, slot),
            RootWhere::Symbol(name) => match kind {
                RootKind::StaticType => text(format!("static type {name}")),
                _ => text(format!("singleton {name}")),
            },
            RootWhere::RuntimeStatic { offset, .. } => text(format!("_PyRuntime+{offset:#x}")),
            RootWhere::StateWord { offset, ident, .. } => match kind {
                RootKind::ThreadState => {
                    let thread = self.thread(ident);
                    RootDescription {
                        text: format!("thread {thread} state +{offset:#x}"),
                        thread: Some(thread),
                        ..Default::default()
                    }
                }
                _ => text(format!("interpreter state +{offset:#x}")),
            },
            RootWhere::CStack { tid, addr } => text(match addr {
                Some(a) => format!("C stack of thread tid {tid} at {a}"),
                None => format!("a register of thread tid {tid}"),
            }),
            RootWhere::CGlobal { addr, object } => {
                let file = self.heap.process().objects().get(object as usize).map(|o| o.file_name());
                text(format!("C global at {addr} ({})", file.as_deref().unwrap_or("?")))
            }
        }
    }

    /// ≤3.10: names a reference that the frame object `frame`, a root of thread `ident`, makes (`label`: how the
    /// frame names it, `local x` for a fast local whose name is `local`).
    pub fn frame_reference(&self, frame: Addr, ident: u64, label: &str, local: Option<String>) -> RootDescription {
        let function = self.function(frame);
        let thread = self.thread(ident);
        let name = function.as_deref().unwrap_or("?");
        RootDescription {
            text: format!("frame {name} {label} (thread {thread})"),
            function,
            local,
            thread: Some(thread),
        }
    }

    fn frame(&self, frame: Addr, ident: u64, slot: FrameSlot) -> RootDescription {
        let function = self.function(frame);
        let thread = self.thread(ident);
        let name = function.as_deref().unwrap_or("?");
        let (what, local) = match slot {
            FrameSlot::Whole => (String::new(), None),
            FrameSlot::Field(f) => (format!(" {f}"), None),
            FrameSlot::Slot(i) => match self.slot_name(frame, i) {
                Ok(Slot::Local(n)) => (format!(" local {n}"), Some(n)),
                Ok(Slot::Stack(j)) => (format!(" stack[{j}]"), None),
                Err(_) => (format!(" slot {i}"), None),
            },
        };
        RootDescription { text: format!("frame {name}{what} (thread {thread})"), function, local, thread: Some(thread) }
    }

    /// The code object a frame runs.
    fn code(&self, frame: Addr) -> Result<Addr, DecodeError> {
        let (p, l) = (self.heap.process(), self.heap.layout());
        match self.heap.frame_model().chain {
            Chain::FrameObjects => read_ptr(p, frame, &l.frame_object.f_code, "frame"),
            Chain::CFrame | Chain::CurrentFrame => {
                read_u64(p, frame, &l.iframe.executable, "interpreter frame").map(|w| self.heap.frame_model().object(w))
            }
        }
    }

    /// The function a frame runs: `co_qualname` where code objects have one (3.11+), else `co_name`.
    fn function(&self, frame: Addr) -> Option<String> {
        let (p, l) = (self.heap.process(), self.heap.layout());
        let code = self.code(frame).ok()?;
        let field = if l.code.qualname.is_known() { &l.code.qualname } else { &l.code.name };
        self.str(read_ptr(p, code, field, "code").ok()?)
    }

    /// 3.11+: what slot `i` of a frame's `localsplus` is: a named local, or a position on the value stack.
    fn slot_name(&self, frame: Addr, i: u32) -> Result<Slot, DecodeError> {
        let (p, l) = (self.heap.process(), self.heap.layout());
        let code = self.code(frame)?;
        let names = SlotNames::of(self.heap, code)?;
        if let Some(n) = names.name(p, i as usize)? {
            return Ok(Slot::Local(self.str(n).unwrap_or_else(|| "?".into())));
        }
        let nlocals = u32::try_from(read_i32(p, code, &l.code.nlocalsplus, "code")?).unwrap_or(0);
        Ok(Slot::Stack(i.saturating_sub(nlocals)))
    }

    fn str(&self, s: Addr) -> Option<String> {
        self.heap.str_value(s, MAX_NAME_CHARS).ok().map(|s| s.text)
    }
}

/// What a `localsplus` slot is.
enum Slot {
    Local(String),
    Stack(u32),
}
