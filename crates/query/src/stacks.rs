//! `heapscope stacks`: every thread's Python stack, with the locals of each frame on request.
//!
//! The report is plain data: threads in creation order (the main thread first), frames **innermost first** (as in
//! the JSON); the table prints each thread the way a Python traceback does, most recent call last. Whatever could
//! not be decoded is reported next to the thread or frame it belongs to and counted in [`StacksReport::errors`];
//! it never hides the rest.

use std::collections::HashMap;
use std::io::{self, Write};

use heapscope_coredump::{Addr, CoreProcess, ProcessImage, ThreadInfo};
use heapscope_cpython::frames::{self, StackOptions};
use heapscope_cpython::layout::{Layout, Unverified};
use heapscope_cpython::objects::Heap;
use heapscope_cpython::runtime::{self, TidSource};
use heapscope_cpython::Detection;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::report::Report;

/// Everything `stacks` reports.
#[derive(Debug, Serialize)]
pub struct StacksReport {
    /// The interpreter.
    pub python: Detection,
    /// Every Python thread of every interpreter: interpreters oldest first, threads in creation order.
    pub threads: Vec<ThreadReport>,
    /// Problems that belong to no single thread (interpreter list, GIL state, thread names).
    pub problems: Vec<String>,
    /// Number of things that could not be decoded: `problems`, plus every thread's and frame's errors.
    pub errors: usize,
    /// With `--locals`: how many locals there are, and how many values could not be read (shown as
    /// `<unreadable 0x…: cause>`; not counted in `errors`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locals: Option<LocalsCount>,
    /// Notes from resolving the layout (e.g. where offsets came from, disagreements).
    pub warnings: Vec<String>,
    /// Set when heapscope has no layout table for this Python version: what stood in for it, and that the results
    /// are unverified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified_version: Option<Unverified>,
}

/// How many locals a `--locals` report holds, and how many of them could not be read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LocalsCount {
    /// Locals listed, over every frame of every thread.
    pub total: usize,
    /// Locals whose value could not be read.
    pub unreadable: usize,
    /// The first reason a value could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// One Python thread.
#[derive(Debug, Serialize)]
pub struct ThreadReport {
    /// Kernel thread id, when it could be matched (see `tid_source`).
    pub tid: Option<u32>,
    /// How `tid` was found.
    pub tid_source: Option<TidSource>,
    /// `threading.get_ident()`: the thread's `pthread_t`.
    pub ident: u64,
    /// The `threading.Thread` name, when the thread has one.
    pub name: Option<String>,
    /// This thread holds the GIL (its interpreter's GIL from 3.12 on).
    pub holds_gil: bool,
    /// `interp->id` of the thread's interpreter.
    pub interpreter: Option<i64>,
    /// Address of its `PyThreadState`.
    pub tstate: Addr,
    /// Frames, innermost first.
    pub frames: Vec<FrameReport>,
    /// Frames beyond `--max-depth`, outermost, not shown (counted up to a limit: see `more_frames_at_least`).
    #[serde(skip_serializing_if = "is_zero")]
    pub more_frames: usize,
    /// `more_frames` is a lower bound.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub more_frames_at_least: bool,
    /// The frame chain was cut (it ran into memory the core lacks or holds as zeros) and frames may be missing:
    /// those found again in the thread's data stack are listed, the entry frames on the C stack are lost.
    pub incomplete: bool,
    /// What a user should know about this thread's stack (where the chain was cut and why).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Why the frame walk stopped early, if it did.
    pub errors: Vec<String>,
    /// The thread runs an asyncio event loop: its tasks are suspended in the heap, not on this stack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asyncio: Option<AsyncioLoop>,
}

/// An asyncio event loop a thread runs, and how many tasks are pending on it (`heapscope tasks` lists them).
#[derive(Debug, Clone, Serialize)]
pub struct AsyncioLoop {
    /// The loop object.
    #[serde(rename = "loop")]
    pub event_loop: u64,
    /// Pending tasks whose loop it is.
    pub pending_tasks: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One frame.
#[derive(Debug, Serialize)]
pub struct FrameReport {
    /// `co_name`.
    pub function: Option<String>,
    /// `co_qualname` (3.11+).
    pub qualname: Option<String>,
    /// `co_filename`.
    pub file: Option<String>,
    /// The line being executed.
    pub line: Option<i32>,
    /// `co_firstlineno`.
    pub firstlineno: Option<i32>,
    /// Locals in slot order, `{name: preview}`; absent unless asked for.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ordered_map")]
    pub locals: Option<Vec<(String, String)>>,
    /// What could not be decoded about this frame.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Serializes `[(name, preview)]` as a JSON object, keeping the order.
pub(crate) fn ordered_map<S: Serializer>(locals: &Option<Vec<(String, String)>>, s: S) -> Result<S::Ok, S::Error> {
    let locals = locals.as_deref().unwrap_or_default();
    let mut map = s.serialize_map(Some(locals.len()))?;
    for (k, v) in locals {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// One Python thread and its decoded stack: what [`StacksReport`] renders and the `threads`, `frames` and `locals`
/// tables hold.
#[derive(Debug, Clone)]
pub struct PythonThread {
    /// Kernel thread id, when it could be matched (see `tid_source`).
    pub tid: Option<u32>,
    /// How `tid` was found.
    pub tid_source: Option<TidSource>,
    /// `threading.get_ident()`: the thread's `pthread_t`.
    pub ident: u64,
    /// The `threading.Thread` name, when the thread has one.
    pub name: Option<String>,
    /// This thread holds the GIL (its interpreter's GIL from 3.12 on).
    pub holds_gil: bool,
    /// `interp->id` of the thread's interpreter.
    pub interpreter: Option<i64>,
    /// Address of its `PyThreadState`.
    pub tstate: Addr,
    /// Its frames, innermost first.
    pub stack: frames::Stack,
}

/// Most frames read in all threads together: far beyond real processes (thousands of threads tens of frames deep),
/// and a bound on the work a corrupt or crafted thread list can ask for.
const MAX_FRAMES_IN_ALL: usize = 1 << 18;

/// Every Python thread of every interpreter (interpreters oldest first, threads in creation order), and the
/// problems that belong to no single thread.
#[derive(Debug, Clone, Default)]
pub struct PythonThreads {
    /// The threads.
    pub threads: Vec<PythonThread>,
    /// Problems with the interpreter list, the GIL state or thread names.
    pub problems: Vec<String>,
}

impl PythonThreads {
    /// Walks every interpreter, thread and frame below `_PyRuntime` at `runtime`; `core_threads` (the core's
    /// `NT_PRSTATUS` threads) match a thread to its kernel tid where the thread state does not record it (≤3.10).
    pub fn collect<P: ProcessImage + ?Sized>(
        heap: &Heap<'_, P>,
        runtime: Addr,
        core_threads: &[ThreadInfo],
        opts: &StackOptions,
    ) -> PythonThreads {
        let (p, layout) = (heap.process(), heap.layout());
        let mut problems = Vec::new();
        let interps = runtime::interpreters(p, layout, runtime);
        if let Some(e) = &interps.error {
            problems.push(format!("interpreter list: {e}"));
        }
        let (holders, gil_errors) = runtime::gil_holders(p, layout, runtime, &interps.items);
        problems.extend(gil_errors.iter().map(|e| format!("GIL state: {e}")));
        let mut threads = Vec::new();
        // Frames read in all threads together: a crafted thread list cannot multiply `max_depth` by its length.
        let mut budget = MAX_FRAMES_IN_ALL;
        // The list starts at the newest interpreter and the newest thread: reverse both for creation order.
        for interp in interps.items.iter().rev() {
            let names = match runtime::thread_names(heap, interp.addr) {
                Ok(n) => n,
                Err(e) => {
                    problems.push(format!("thread names of interpreter {}: {e}", interp.addr));
                    HashMap::new()
                }
            };
            let list = runtime::threads(p, layout, interp.addr);
            if let Some(e) = &list.error {
                problems.push(format!("thread list of interpreter {}: {e}", interp.addr));
            }
            for t in list.items.iter().rev() {
                let (tid, tid_source) = runtime::kernel_tid(t, core_threads).unzip();
                let stack = if budget == 0 {
                    frames::Stack::default()
                } else {
                    let stack = frames::stack(
                        heap,
                        t.tstate,
                        &StackOptions { max_depth: opts.max_depth.min(budget), ..opts.clone() },
                    );
                    budget = budget.saturating_sub(stack.frames.len() + stack.skipped + 1);
                    if budget == 0 {
                        problems.push(format!(
                            "stopped reading stacks at the limit of {MAX_FRAMES_IN_ALL} frames in all threads (at the \
                             thread state {}); the threads after it are shown without frames",
                            t.tstate
                        ));
                    }
                    stack
                };
                threads.push(PythonThread {
                    tid,
                    tid_source,
                    ident: t.ident,
                    name: names.get(&t.ident).cloned(),
                    holds_gil: holders.contains(&t.tstate),
                    interpreter: interp.id,
                    tstate: t.tstate,
                    stack,
                });
            }
        }
        PythonThreads { threads, problems }
    }
}

impl StacksReport {
    /// Walks every interpreter, thread and frame of the process.
    pub fn collect(
        p: &CoreProcess,
        python: Detection,
        layout: &Layout,
        warnings: Vec<String>,
        opts: &StackOptions,
    ) -> StacksReport {
        let heap = Heap::new(p, layout);
        let PythonThreads { threads, problems } =
            PythonThreads::collect(&heap, python.runtime, p.core().threads(), opts);
        let locals = opts.locals.then(|| count_locals(&threads));
        let loops = asyncio_loops(&heap, python.runtime, &threads);
        let threads: Vec<ThreadReport> = threads
            .into_iter()
            .map(|t| {
                let ident = t.ident;
                let mut r = thread_report(t, opts.locals);
                r.asyncio = loops.get(&ident).cloned();
                r
            })
            .collect();
        let errors = problems.len()
            + threads
                .iter()
                .map(|t| t.errors.len() + t.frames.iter().map(|f| f.errors.len()).sum::<usize>())
                .sum::<usize>();
        StacksReport {
            python,
            threads,
            problems,
            errors,
            locals,
            warnings,
            unverified_version: layout.basis.unverified.clone(),
        }
    }
}

impl Report for StacksReport {
    /// Writes the report for a person: per thread a header, then its frames as a Python traceback prints them (most
    /// recent call last), each frame's locals indented under it.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        let n = self.threads.len();
        writeln!(w, "Python {}, {} thread{}", self.python.version, n, if n == 1 { "" } else { "s" })?;
        let many_interps = self.threads.iter().any(|t| t.interpreter.unwrap_or(0) != 0);
        for t in &self.threads {
            writeln!(w)?;
            let mut header = match t.tid {
                Some(tid) => format!("Thread {tid}"),
                None => format!("Thread ident {:#x}", t.ident),
            };
            if let Some(name) = &t.name {
                header.push_str(&format!(" ({name})"));
            }
            if many_interps {
                match t.interpreter {
                    Some(id) => header.push_str(&format!(" [interpreter {id}]")),
                    None => header.push_str(" [interpreter ?]"),
                }
            }
            if t.holds_gil {
                header.push_str(" [holds the GIL]");
            }
            writeln!(w, "{header}")?;
            if t.frames.is_empty() && t.errors.is_empty() {
                writeln!(w, "  (no Python frames)")?;
            }
            for e in &t.errors {
                writeln!(w, "  error: {e}")?;
            }
            if t.incomplete {
                writeln!(w, "  (incomplete: the frame chain was cut; frames may be missing, see the warning)")?;
            }
            if let Some(a) = &t.asyncio {
                writeln!(
                    w,
                    "  (runs the asyncio event loop {:#x}: {} pending task{}, suspended in the heap rather than on \
                     this stack; `heapscope tasks` on this core shows where each one waits)",
                    a.event_loop,
                    a.pending_tasks,
                    if a.pending_tasks == 1 { "" } else { "s" }
                )?;
            }
            if t.more_frames > 0 {
                let s = if t.more_frames == 1 { "" } else { "s" };
                let n = if t.more_frames_at_least {
                    format!("at least {}", t.more_frames)
                } else {
                    t.more_frames.to_string()
                };
                writeln!(w, "  … {n} more frame{s} not shown (raise --max-depth)")?;
            }
            for f in t.frames.iter().rev() {
                let file = f.file.as_deref().unwrap_or("???");
                let line = f.line.map_or_else(|| "?".to_string(), |l| l.to_string());
                let func = f.function.as_deref().unwrap_or("???");
                writeln!(w, "  File \"{file}\", line {line}, in {func}")?;
                for e in &f.errors {
                    writeln!(w, "    error: {e}")?;
                }
                for (name, preview) in f.locals.iter().flatten() {
                    writeln!(w, "    {name} = {preview}")?;
                }
            }
        }
        for p in &self.problems {
            writeln!(w, "\nerror: {p}")?;
        }
        for warning in self.warnings.iter().chain(&self.python.warnings) {
            writeln!(w, "warning: {warning}")?;
        }
        Ok(())
    }
}

/// True if the frame is an asyncio event loop's (`BaseEventLoop.run_forever` or `_run_once`).
fn runs_event_loop(f: &frames::Frame) -> bool {
    matches!(f.function.as_deref(), Some("run_forever" | "_run_once"))
        && f.file.as_deref().is_some_and(|file| file.ends_with("asyncio/base_events.py"))
}

/// Most objects looked at for pending tasks, per interpreter.
const MAX_TASK_SCAN: usize = 1 << 26;

/// The event loops the threads run, by thread ident, with the tasks pending on each: found only when some thread
/// has an event loop's frame, by a walk of the GC lists (every task is a GC object), which costs about what the
/// enumeration of `summary` does.
fn asyncio_loops<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    runtime: Addr,
    threads: &[PythonThread],
) -> HashMap<u64, AsyncioLoop> {
    use heapscope_cpython::asyncio;
    let mut out = HashMap::new();
    if !threads.iter().any(|t| t.stack.frames.iter().any(runs_event_loop)) {
        return out;
    }
    let mut pending: HashMap<Addr, usize> = HashMap::new();
    let mut is_task: HashMap<Addr, bool> = HashMap::new();
    for interp in runtime::interpreters(heap.process(), heap.layout(), runtime).items {
        let walk = heapscope_cpython::heap::gc_lists::gc_objects(heap, runtime, interp.addr);
        for &(obj, _) in walk.objects.iter().take(MAX_TASK_SCAN) {
            let Ok(ty) = heap.type_of(obj) else { continue };
            let task_type =
                *is_task.entry(ty).or_insert_with(|| asyncio::task_impl_of_type(heap, ty).ok().flatten().is_some());
            if !task_type {
                continue;
            }
            if let Ok(t) = asyncio::task(heap, obj) {
                if t.state == asyncio::FutureState::Pending && !t.loop_.is_null() {
                    *pending.entry(t.loop_).or_default() += 1;
                }
            }
        }
    }
    for (event_loop, n) in pending {
        if let Ok(Some(ident)) = asyncio::loop_thread_ident(heap, event_loop) {
            out.insert(ident, AsyncioLoop { event_loop: event_loop.0, pending_tasks: n });
        }
    }
    out
}

/// Counts the locals of every frame, and those whose value could not be read.
fn count_locals(threads: &[PythonThread]) -> LocalsCount {
    let mut count = LocalsCount::default();
    for l in threads.iter().flat_map(|t| &t.stack.frames).flat_map(|f| &f.locals) {
        count.total += 1;
        if let Some(e) = &l.error {
            count.unreadable += 1;
            count.first_error.get_or_insert_with(|| e.clone());
        }
    }
    count
}

/// The warning for a thread whose frame chain was cut: where, why, what was recovered, and what to do.
fn cut_warning(t: &PythonThread) -> Option<String> {
    let first = t.stack.cuts.first()?;
    let who = match (t.tid, &t.name) {
        (Some(tid), Some(name)) => format!("thread {tid} ({name})"),
        (Some(tid), None) => format!("thread {tid}"),
        (None, Some(name)) => format!("thread ident {:#x} ({name})", t.ident),
        (None, None) => format!("thread ident {:#x}", t.ident),
    };
    let places = t.stack.cuts.len();
    let more = if places > 1 { format!(" (and at {} more places)", places - 1) } else { String::new() };
    let recovered = t.stack.frames.len().saturating_sub(first.shown_before);
    let likely = match first.cause {
        frames::CutCause::Zeros
        | frames::CutCause::Ends
        | frames::CutCause::StartZeros
        | frames::CutCause::NoCurrentFrame => {
            "the core holds this thread's C stack as zeros. A gdb older than the process's glibc (gdb 13 with \
             glibc 2.42 or later) writes the stacks of threads whose mapping holds guard regions as zeros; \
             dump with a newer gdb, or let the kernel write the core (core_pattern, coredumpctl), for whole stacks"
        }
        frames::CutCause::Unreadable(_) => {
            "the core lacks this thread's C stack there (a dumper that could not read it, or a core cut short)"
        }
    };
    let found = if first.resumed_at.is_some() {
        format!(
            "{recovered} frame{} found again in the thread's data stack, but frames that lived on the C stack are lost",
            if recovered == 1 { " was" } else { "s were" }
        )
    } else {
        "the thread's data stack holds no older frame, so only entry frames on the C stack may be lost".to_owned()
    };
    Some(format!(
        "{who}: the frame chain is cut at {} ({}){more}; {found}. Likely cause: {likely}",
        first.at, first.cause
    ))
}

fn thread_report(t: PythonThread, with_locals: bool) -> ThreadReport {
    let warnings = cut_warning(&t).into_iter().collect();
    ThreadReport {
        tid: t.tid,
        tid_source: t.tid_source,
        ident: t.ident,
        name: t.name,
        holds_gil: t.holds_gil,
        interpreter: t.interpreter,
        tstate: t.tstate,
        incomplete: t.stack.incomplete(),
        more_frames: t.stack.more,
        more_frames_at_least: t.stack.more_at_least,
        warnings,
        frames: t.stack.frames.into_iter().map(|f| frame_report(f, with_locals)).collect(),
        errors: t.stack.error.map(|e| e.to_string()).into_iter().collect(),
        asyncio: None,
    }
}

fn frame_report(f: frames::Frame, with_locals: bool) -> FrameReport {
    FrameReport {
        function: f.function.as_deref().map(str::to_owned),
        qualname: f.qualname.as_deref().map(str::to_owned),
        file: f.file.as_deref().map(str::to_owned),
        line: f.line,
        firstlineno: f.firstlineno,
        locals: with_locals.then(|| f.locals.into_iter().map(|l| (l.name, l.preview)).collect()),
        errors: f.errors.iter().map(ToString::to_string).collect(),
    }
}
