//! The runtime's interpreters and threads: `_PyRuntime.interpreters.head` → `next`, each interpreter's thread list
//! `threads.head` (`tstate_head` ≤3.10) → `next`, which thread holds the GIL, each thread's kernel thread id and its
//! `threading` name.
//!
//! Every walk is bounded and cycle-safe: a broken or looping list ends the walk with an error next to what was read
//! before it, never a hang. Facts confirmed on the fixture cores (3.8–3.15):
//!
//! - `PyThreadState.thread_id` is the `pthread_t` (`threading.get_ident()`); on x86-64 glibc it equals the thread's
//!   `fs_base` register in its `NT_PRSTATUS` note. That is how a ≤3.10 thread, whose state holds no kernel tid, is
//!   matched to its kernel thread; 3.11+ record the kernel tid in `native_thread_id`.
//! - GIL holder: ≤3.11 `_PyRuntime.gilstate.tstate_current`; 3.12+ the interpreter's `_gil_runtime_state` (through
//!   the `ceval.gil` pointer) is `locked` and its `last_holder` is the holding thread.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use heapscope_coredump::{Addr, ProcessImage, ThreadInfo};

use crate::layout::{Field, Layout};
use crate::objects::{DecodeError, Heap, Kind};

/// The default of [`Limits::interpreters`]: sub-interpreters are few in real processes (one per application in
/// mod_wsgi, a pool's worth with `concurrent.interpreters`); hundreds more are a corrupt or crafted list.
pub const MAX_INTERPRETERS: usize = 256;
/// The default of [`Limits::threads`]: far above what Python processes run, low enough that a crafted thread list
/// cannot make the work of every command grow by its length.
pub const MAX_THREADS: usize = 4096;

/// How far the interpreter and thread lists are followed. Everything done per interpreter or per thread (its
/// frames, its roots, its GC lists) is repeated for each entry, so these bound the work a list read from the core
/// can ask for. An entry beyond the limit ends the walk with an error that names the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most interpreters followed along `_PyRuntime.interpreters.head` → `next`.
    pub interpreters: usize,
    /// Most thread states followed along each interpreter's thread list.
    pub threads: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { interpreters: MAX_INTERPRETERS, threads: MAX_THREADS }
    }
}

static INTERPRETER_LIMIT: AtomicUsize = AtomicUsize::new(MAX_INTERPRETERS);
static THREAD_LIMIT: AtomicUsize = AtomicUsize::new(MAX_THREADS);

/// Sets the limits of every later walk of the interpreter and thread lists, for the whole process (the binary sets
/// them once from `--max-interpreters` and `--max-threads`, before any work).
pub fn set_limits(limits: Limits) {
    INTERPRETER_LIMIT.store(limits.interpreters, Relaxed);
    THREAD_LIMIT.store(limits.threads, Relaxed);
}

/// The limits in force ([`Limits::default`] unless [`set_limits`] changed them).
pub fn limits() -> Limits {
    Limits { interpreters: INTERPRETER_LIMIT.load(Relaxed), threads: THREAD_LIMIT.load(Relaxed) }
}
/// Most `threading._active` entries decoded for thread names.
const MAX_ACTIVE: usize = 1 << 20;
/// Most characters of a thread name.
const MAX_NAME_CHARS: usize = 1024;

/// Items read along a linked list, and the error that ended the walk early, if one did.
#[derive(Debug, Clone)]
pub struct Walk<T> {
    /// What was read, in list order.
    pub items: Vec<T>,
    /// Why the walk stopped before the end of the list (unreadable link, cycle, too long).
    pub error: Option<DecodeError>,
}

/// One interpreter (`PyInterpreterState`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Interpreter {
    /// Its address.
    pub addr: Addr,
    /// `interp->id` (0 for the main interpreter), when readable.
    pub id: Option<i64>,
}

/// One thread state (`PyThreadState`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PyThread {
    /// Address of the `PyThreadState`.
    pub tstate: Addr,
    /// The interpreter it belongs to.
    pub interp: Addr,
    /// `thread_id`: the `pthread_t`, which is what `threading.get_ident()` returns.
    pub ident: u64,
    /// `native_thread_id` (3.11+): the kernel thread id as the thread recorded it.
    pub native_id: Option<u64>,
}

/// How a thread's kernel tid was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TidSource {
    /// `PyThreadState.native_thread_id` (3.11+).
    NativeThreadId,
    /// The core thread whose `fs_base` register equals the thread's `pthread_t` (x86-64 glibc).
    FsBase,
}

/// Reads the pointer `field` of the struct at `base`.
pub(crate) fn read_ptr<P: ProcessImage + ?Sized>(
    p: &P,
    base: Addr,
    field: &Field,
    what: &'static str,
) -> Result<Addr, DecodeError> {
    read_u64(p, base, field, what).map(Addr)
}

/// Reads the 8-byte `field` of the struct at `base`.
pub(crate) fn read_u64<P: ProcessImage + ?Sized>(
    p: &P,
    base: Addr,
    field: &Field,
    what: &'static str,
) -> Result<u64, DecodeError> {
    let at = field_addr(base, field, what)?;
    p.read_u64(at).map_err(|source| DecodeError::Read { addr: base, what, field: field.name, source })
}

/// Reads the 4-byte signed `field` of the struct at `base`.
pub(crate) fn read_i32<P: ProcessImage + ?Sized>(
    p: &P,
    base: Addr,
    field: &Field,
    what: &'static str,
) -> Result<i32, DecodeError> {
    let at = field_addr(base, field, what)?;
    p.read_i32(at).map_err(|source| DecodeError::Read { addr: base, what, field: field.name, source })
}

/// Reads the 1-byte `field` of the struct at `base`.
pub(crate) fn read_u8<P: ProcessImage + ?Sized>(
    p: &P,
    base: Addr,
    field: &Field,
    what: &'static str,
) -> Result<u8, DecodeError> {
    let at = field_addr(base, field, what)?;
    p.read_u8(at).map_err(|source| DecodeError::Read { addr: base, what, field: field.name, source })
}

/// The address of `field` in the struct at `base`.
pub(crate) fn field_addr(base: Addr, field: &Field, what: &'static str) -> Result<Addr, DecodeError> {
    let off = field.get().map_err(|source| DecodeError::Layout { addr: base, what, source })?;
    base.checked_add(off).ok_or_else(|| DecodeError::malformed(base, what, "address overflows"))
}

/// Follows a NULL-terminated singly linked list from `first`, reading each node with `read` (which returns the item
/// and the next node), at most `max` nodes (the limit set by the command-line option `option`), stopping at a
/// repeated node.
fn walk_list<T>(
    first: Addr,
    (max, option): (usize, &str),
    what: &'static str,
    mut read: impl FnMut(Addr) -> Result<(T, Addr), DecodeError>,
) -> Walk<T> {
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut cur = first;
    while !cur.is_null() {
        if items.len() >= max {
            let why = format!(
                "the list goes on past the limit of {max} entries, so heapscope read only the first {max}. A list \
                 this long is usually a corrupt core; if the process really had more, pass {option} N"
            );
            return Walk { items, error: Some(DecodeError::malformed(cur, what, why)) };
        }
        if !seen.insert(cur) {
            let why = "the list loops back to this entry";
            return Walk { items, error: Some(DecodeError::malformed(cur, what, why)) };
        }
        match read(cur) {
            Ok((item, next)) => {
                items.push(item);
                cur = next;
            }
            Err(e) => return Walk { items, error: Some(e) },
        }
    }
    Walk { items, error: None }
}

/// The interpreters, from `_PyRuntime.interpreters.head` (the newest) along `next`; the main interpreter is last.
pub fn interpreters<P: ProcessImage + ?Sized>(p: &P, layout: &Layout, runtime: Addr) -> Walk<Interpreter> {
    let head = match read_ptr(p, runtime, &layout.runtime.interpreters_head, "_PyRuntime") {
        Ok(h) => h,
        Err(e) => return Walk { items: Vec::new(), error: Some(e) },
    };
    // CPython pushes each new interpreter at the head with the next id: along `next` the ids fall, down to the main
    // interpreter's 0. An entry that breaks this is not an interpreter, and the walk ends before it.
    let mut last_id: Option<i64> = None;
    let mut walk = walk_list(head, (limits().interpreters, "--max-interpreters"), "interpreter", |addr| {
        let next = read_ptr(p, addr, &layout.interp.next, "interpreter")?;
        let id = read_u64(p, addr, &layout.interp.id, "interpreter").ok().map(|v| v as i64);
        if let Some(id) = id {
            if id < 0 || last_id.is_some_and(|last| id >= last) {
                let before = last_id.map_or(String::new(), |l| format!(", not below the id {l} of the one before it"));
                let why = format!(
                    "its id is {id}{before}: ids fall along the list down to the main interpreter's 0, so the list \
                     is corrupt here and the entries from this one on are not read"
                );
                return Err(DecodeError::malformed(addr, "interpreter", why));
            }
            last_id = Some(id);
        }
        Ok((Interpreter { addr, id }, next))
    });
    // A list cut short still has the main interpreter, which `_PyRuntime` points to directly.
    if walk.error.is_some() && layout.runtime.interpreters_main.is_known() {
        if let Ok(main) = read_ptr(p, runtime, &layout.runtime.interpreters_main, "_PyRuntime") {
            if !main.is_null() && !walk.items.iter().any(|i| i.addr == main) {
                let id = read_u64(p, main, &layout.interp.id, "interpreter").ok().map(|v| v as i64);
                walk.items.push(Interpreter { addr: main, id });
            }
        }
    }
    walk
}

/// The thread states of one interpreter, from `threads.head` (the newest thread) along `next`.
pub fn threads<P: ProcessImage + ?Sized>(p: &P, layout: &Layout, interp: Addr) -> Walk<PyThread> {
    let head = match read_ptr(p, interp, &layout.interp.threads_head, "interpreter") {
        Ok(h) => h,
        Err(e) => return Walk { items: Vec::new(), error: Some(e) },
    };
    let t = &layout.tstate;
    walk_list(head, (limits().threads, "--max-threads"), "thread state", |tstate| {
        let next = read_ptr(p, tstate, &t.next, "thread state")?;
        let ident = read_u64(p, tstate, &t.thread_id, "thread state")?;
        let native_id = if t.native_thread_id.is_known() {
            Some(read_u64(p, tstate, &t.native_thread_id, "thread state")?)
        } else {
            None
        };
        Ok((PyThread { tstate, interp, ident, native_id }, next))
    })
}

/// The thread states holding a GIL: ≤3.11 `_PyRuntime.gilstate.tstate_current` (one GIL for the process); 3.12+ for
/// each interpreter, `last_holder` of its `_gil_runtime_state` when that is `locked` (interpreters sharing the main
/// GIL report the same holder once). Errors are per interpreter and do not hide the holders that were found.
pub fn gil_holders<P: ProcessImage + ?Sized>(
    p: &P,
    layout: &Layout,
    runtime: Addr,
    interps: &[Interpreter],
) -> (Vec<Addr>, Vec<DecodeError>) {
    let mut holders = Vec::new();
    let mut errors = Vec::new();
    if layout.runtime.tstate_current.is_known() {
        match read_ptr(p, runtime, &layout.runtime.tstate_current, "_PyRuntime") {
            Ok(t) if !t.is_null() => holders.push(t),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
        return (holders, errors);
    }
    let mut gils = HashSet::new();
    for interp in interps {
        match interp_gil_holder(p, layout, interp.addr) {
            Ok((gil, holder)) => {
                if gils.insert(gil) {
                    holders.extend(holder);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    (holders, errors)
}

/// 3.12+: the interpreter's GIL (`ceval.gil`, else its own `_gil`) and the thread holding it.
fn interp_gil_holder<P: ProcessImage + ?Sized>(
    p: &P,
    layout: &Layout,
    interp: Addr,
) -> Result<(Addr, Option<Addr>), DecodeError> {
    let gil = if layout.interp.ceval_gil.is_known() {
        read_ptr(p, interp, &layout.interp.ceval_gil, "interpreter")?
    } else {
        field_addr(interp, &layout.interp.own_gil, "interpreter")?
    };
    if gil.is_null() {
        return Err(DecodeError::malformed(interp, "interpreter", "its ceval.gil pointer is NULL"));
    }
    let locked = read_i32(p, gil, &layout.gil.locked, "GIL state")?;
    if locked <= 0 {
        return Ok((gil, None)); // 0: released; -1: never created
    }
    let holder = read_ptr(p, gil, &layout.gil.last_holder, "GIL state")?;
    Ok((gil, (!holder.is_null()).then_some(holder)))
}

/// The kernel thread id of a Python thread: its `native_thread_id` (3.11+), else the core thread whose `fs_base`
/// equals its `pthread_t` (x86-64 glibc keeps the thread descriptor, which `pthread_self()` returns, at `fs_base`).
pub fn kernel_tid(thread: &PyThread, core_threads: &[ThreadInfo]) -> Option<(u32, TidSource)> {
    if let Some(native) = thread.native_id.and_then(|n| u32::try_from(n).ok()).filter(|&n| n != 0) {
        return Some((native, TidSource::NativeThreadId));
    }
    core_threads
        .iter()
        .find(|t| t.regs.x86_64().is_some_and(|r| r.fs_base == thread.ident && r.fs_base != 0))
        .map(|t| (t.tid, TidSource::FsBase))
}

/// Thread names by ident, from `threading._active` (`{get_ident(): Thread}`) of the interpreter's `threading`
/// module: each `Thread`'s `_name`. An interpreter that never imported `threading` has none (an empty map).
pub fn thread_names<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    interp: Addr,
) -> Result<HashMap<u64, String>, DecodeError> {
    let p = heap.process();
    let layout = heap.layout();
    let mut names = HashMap::new();
    let modules = read_ptr(p, interp, &layout.interp.modules, "interpreter")?;
    if modules.is_null() {
        return Ok(names);
    }
    let Some(globals) = heap.find_module_dict(modules, "threading")? else {
        return Ok(names);
    };
    let Some(active) = heap.dict_get_str(globals, "_active")? else {
        return Ok(names);
    };
    if heap.kind(active)? != Kind::Dict {
        return Ok(names);
    }
    for (key, thread) in heap.dict_items(active, MAX_ACTIVE)? {
        let Some(ident) = heap.int_value(key).ok().and_then(|i| i.to_i64()).and_then(|i| u64::try_from(i).ok()) else {
            continue;
        };
        let Ok(Some(name)) = heap.instance_attr(thread, "_name") else { continue };
        if let Ok(s) = heap.str_value(name, MAX_NAME_CHARS) {
            names.insert(ident, s.text);
        }
    }
    Ok(names)
}

#[cfg(test)]
pub(crate) mod tests;
