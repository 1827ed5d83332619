//! `heapscope tasks`: every pending asyncio task in the heap, where each is suspended, what it awaits, and how much
//! each group of tasks suspended at the same place holds; and every generator, coroutine and async generator that is
//! suspended (or never started) outside or inside a task.
//!
//! - **Tasks** are the objects whose type is `_asyncio.Task`, the pure-Python `asyncio.tasks._PyTask` or a subclass
//!   of either ([`asyncio::task_impl_of_type`]), whatever `asyncio.all_tasks()` knows of them; done tasks are left
//!   out. A task's `stack` is its coroutine, then each coroutine or generator it awaits (`cr_await`,
//!   `gi_yieldfrom`), outermost first, each with the line where it is suspended (`f_lineno`).
//! - **`awaits`**: the pending tasks a task waits for directly: its `_fut_waiter` when that is a task, the task
//!   children of an `asyncio.gather` future it waits on, and the tasks of a `TaskGroup` whose `__aexit__` is in its
//!   stack (the group's `_parent_task` is the task). **`awaited_by`** is the inverse. Cycles of the await graph are
//!   listed in `cycles` and never followed.
//! - **Groups**: tasks with the same stack (functions, files and lines), with the bytes the group retains as one set
//!   ([`heapscope_analysis::alive::group_retained`]): what would be freed if all of them were gone, not the sum of
//!   each task's own retained size. Largest first.
//! - **Suspended**: every generator, coroutine and async generator with a frame that is not running, with the task
//!   whose stack holds it; grouped by kind and place the same way.
//!
//! Everything a task or coroutine could not be decoded for is counted in `errors` and described in `problems`; it
//! never hides the rest.
//!
//! The table, the await tree and the DOT picture are drawn in `tasks/render.rs`.

pub(crate) mod render;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use heapscope_analysis::alive::{group_retained, Liveness};
use heapscope_coredump::{Addr, ProcessImage};
use heapscope_cpython::asyncio::{self, FutureState, Task, TaskImpl};
use heapscope_cpython::coroutines::{self, Coroutine, CoroutineKind, CoroutineState};
use heapscope_cpython::frames::{CodeCache, Frame, StackOptions};
use heapscope_cpython::heap::type_facts::{AddrMap, AddrSet};
use heapscope_cpython::objects::{Heap, PreviewOptions};
use heapscope_cpython::runtime;
use heapscope_graph::{strongly_connected_components, Csr, GraphError};
use heapscope_snapshot::{ObjectId, Snapshot};
use rayon::prelude::*;
use serde::Serialize;

/// Most coroutines followed along one task's await chain.
const MAX_CHAIN: usize = 1024;
/// Example addresses kept per group.
const EXAMPLES: usize = 3;
/// Most problems described (the rest are counted in `errors`).
const MAX_PROBLEMS: usize = 50;

/// How `tasks` is collected.
#[derive(Debug, Clone, Default)]
pub struct TasksOptions {
    /// Decode each coroutine frame's locals (of the tasks' stacks).
    pub locals: bool,
    /// How locals are previewed.
    pub preview: PreviewOptions,
    /// Compute each task group's retained bytes (needs the whole reference graph).
    pub retained: bool,
    /// With `retained`: the groups of suspended generators' retained bytes too.
    pub suspended_retained: bool,
    /// Print the await tree instead of the task list (table output).
    pub tree: bool,
}

/// Everything `tasks` reports.
#[derive(Debug, Serialize)]
pub struct TasksReport {
    /// Number of pending tasks.
    pub count: usize,
    /// The pending tasks, by address.
    pub tasks: Vec<TaskReport>,
    /// The tasks grouped by stack, largest first.
    pub groups: Vec<GroupReport>,
    /// Every generator, coroutine and async generator with a frame that is not running, by address.
    pub suspended: Vec<SuspendedReport>,
    /// The suspended ones grouped by kind and place, largest first.
    pub suspended_groups: Vec<GroupReport>,
    /// The event loops of the pending tasks.
    pub loops: Vec<LoopReport>,
    /// Cycles in the await graph: the tasks of each, by address.
    pub cycles: Vec<Vec<u64>>,
    /// What could not be decoded (at most the first 50 are described).
    pub problems: Vec<String>,
    /// Number of things that could not be decoded.
    pub errors: usize,
    /// Print the await tree (table output).
    #[serde(skip)]
    pub tree: bool,
}

/// One pending task.
#[derive(Debug, Clone, Serialize)]
pub struct TaskReport {
    /// The task object.
    pub address: u64,
    /// Its type (`_asyncio.Task`, `asyncio.tasks.Task` for the pure-Python one, or a subclass).
    #[serde(rename = "type")]
    pub type_name: String,
    /// `Task.get_name()`.
    pub name: Option<String>,
    /// `pending`.
    pub state: &'static str,
    /// The `__qualname__` of its coroutine.
    pub coro: Option<String>,
    /// Its coroutine, then each coroutine it awaits, outermost first.
    pub stack: Vec<StackEntry>,
    /// The pending tasks it waits for directly, by address.
    pub awaits: Vec<u64>,
    /// The pending tasks that wait for it directly, by address.
    pub awaited_by: Vec<u64>,
    /// Its event loop.
    #[serde(rename = "loop")]
    pub event_loop: Option<u64>,
    /// The name of the thread running its loop.
    pub thread: Option<String>,
    /// What could not be decoded about it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// One coroutine of a task's stack.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct StackEntry {
    /// The qualified name of its code (3.11+), the code name before.
    pub function: Option<Arc<str>>,
    /// `co_filename`.
    pub file: Option<Arc<str>>,
    /// Where it is suspended (`f_lineno`).
    pub line: Option<i32>,
    /// With `--locals`: its frame's locals, `{name: preview}`.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "crate::stacks::ordered_map")]
    pub locals: Option<Vec<(String, String)>>,
}

impl StackEntry {
    /// Where it is suspended, as groups compare it.
    fn place(&self) -> Place<'_> {
        (self.function.as_deref(), self.file.as_deref(), self.line)
    }
}

/// Tasks (or suspended generators) suspended at the same place.
#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    /// How many.
    pub count: usize,
    /// For a group of suspended generators: their kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// The shared stack, outermost first (a suspended generator's: its own frame).
    pub stack: Vec<StackEntry>,
    /// A few members' addresses.
    pub examples: Vec<u64>,
    /// Bytes (`sys.getsizeof`) that would be freed if every member were gone; null when not computed.
    pub retained_bytes: Option<u64>,
    /// Objects that would be freed with them; null when not computed.
    pub retained_count: Option<u64>,
    /// For a group of suspended generators: how many of them are in a pending task's stack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_tasks: Option<usize>,
}

/// One suspended generator, coroutine or async generator.
#[derive(Debug, Clone, Serialize)]
pub struct SuspendedReport {
    /// The object.
    pub address: u64,
    /// `generator`, `coroutine` or `async_generator`.
    pub kind: &'static str,
    /// `created` (never started) or `suspended`.
    pub state: &'static str,
    /// The qualified name of its code (3.11+), the code name before.
    pub function: Option<Arc<str>>,
    /// `co_filename`.
    pub file: Option<Arc<str>>,
    /// Where it is suspended (`f_lineno`; the first line for one never started).
    pub line: Option<i32>,
    /// The pending task whose stack holds it.
    pub task: Option<u64>,
}

/// One event loop.
#[derive(Debug, Clone, Serialize)]
pub struct LoopReport {
    /// The loop object.
    pub address: u64,
    /// The name of the thread running it (`threading.Thread.name`), when it runs.
    pub thread: Option<String>,
    /// `threading.get_ident()` of that thread.
    pub thread_ident: Option<u64>,
    /// Pending tasks on it.
    pub pending: usize,
}

/// What the objects of one type are to `tasks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Other,
    Task(TaskImpl),
    Coroutine(CoroutineKind),
    TaskGroup,
}

/// Where a coroutine is suspended, as groups compare it: function, file and line.
type Place<'a> = (Option<&'a str>, Option<&'a str>, Option<i32>);

/// A decoded coroutine, without locals.
struct Decoded {
    id: ObjectId,
    coro: Result<Coroutine, String>,
}

/// Problems, counted, the first [`MAX_PROBLEMS`] described.
#[derive(Default)]
struct Problems {
    described: Vec<String>,
    count: usize,
}

impl Problems {
    fn push(&mut self, p: String) {
        self.count += 1;
        if self.described.len() < MAX_PROBLEMS {
            self.described.push(p);
        }
    }
}

/// The function of a frame as `tasks` shows it: the qualified name from 3.11 on, the code name before.
fn entry(frame: &Frame, locals: bool) -> StackEntry {
    StackEntry {
        function: frame.qualname.clone().or_else(|| frame.function.clone()),
        file: frame.file.clone(),
        line: frame.line,
        locals: locals.then(|| frame.locals.iter().map(|l| (l.name.clone(), l.preview.clone())).collect()),
    }
}

impl TasksReport {
    /// Finds every task and suspended generator of `snap`, decoding them with `heap`.
    pub fn collect<P: ProcessImage + Sync + ?Sized>(
        snap: &Snapshot,
        heap: &Heap<'_, P>,
        opts: &TasksOptions,
    ) -> Result<TasksReport, GraphError> {
        let mut problems = Problems::default();
        // What each type is, once per type.
        let classes: Vec<Class> = snap
            .types()
            .par_iter()
            .map(|t| {
                if let Some(kind) = coroutines::coroutine_kind_of_type(heap, t.addr) {
                    return Ok(Class::Coroutine(kind));
                }
                if let Some(imp) = asyncio::task_impl_of_type(heap, t.addr)? {
                    return Ok(Class::Task(imp));
                }
                if asyncio::is_task_group_type(heap, t.addr)? {
                    return Ok(Class::TaskGroup);
                }
                Ok(Class::Other)
            })
            .collect::<Vec<Result<Class, heapscope_cpython::objects::DecodeError>>>()
            .into_iter()
            .zip(snap.types())
            .map(|(c, t)| {
                c.unwrap_or_else(|e| {
                    problems.push(format!("type {} ({}): {e}", t.name, t.addr));
                    Class::Other
                })
            })
            .collect();
        let (types, _, _) = snap.columns();
        let mut task_ids = Vec::new();
        let mut gen_ids = Vec::new();
        let mut group_ids = Vec::new();
        for (id, &t) in types.iter().enumerate() {
            match classes.get(t as usize).copied().unwrap_or(Class::Other) {
                Class::Task(imp) => task_ids.push((id as ObjectId, imp)),
                Class::Coroutine(_) => gen_ids.push(id as ObjectId),
                Class::TaskGroup => group_ids.push(id as ObjectId),
                Class::Other => {}
            }
        }

        // Every generator and coroutine, without locals.
        let plain = StackOptions { locals: false, ..StackOptions::default() };
        let decoded: Vec<Decoded> = gen_ids
            .par_iter()
            .map_init(CodeCache::default, |cache, &id| Decoded {
                id,
                coro: coroutines::coroutine_cached(heap, snap.addr(id), &plain, cache).map_err(|e| e.to_string()),
            })
            .collect();
        let gen_at: AddrMap<usize> = decoded.iter().enumerate().map(|(i, d)| (snap.addr(d.id), i)).collect();

        // Every task.
        let tasks: Vec<(ObjectId, Result<Task, String>)> = task_ids
            .par_iter()
            .map(|&(id, imp)| (id, asyncio::task_as(heap, snap.addr(id), imp).map_err(|e| e.to_string())))
            .collect();
        let mut pending: Vec<(ObjectId, Task)> = Vec::new();
        for (id, t) in tasks {
            match t {
                Ok(t) if t.state == FutureState::Pending => pending.push((id, t)),
                Ok(_) => {}
                Err(e) => problems.push(format!("task {}: {e}", snap.addr(id))),
            }
        }
        pending.sort_by_key(|(id, _)| snap.addr(*id));
        let pending_at: AddrMap<usize> = pending.iter().enumerate().map(|(i, (id, _))| (snap.addr(*id), i)).collect();

        // Each task's chain: the coroutines, as indices into `decoded` (or decoded here when the snapshot lacks one).
        let chains: Vec<Vec<ChainLink>> =
            pending.par_iter().map(|(_, t)| chain(heap, &decoded, &gen_at, t.coro)).collect();

        // The TaskGroups, by parent task.
        let mut groups_of: HashMap<Addr, Vec<Addr>> = HashMap::new();
        for &id in &group_ids {
            match asyncio::task_group(heap, snap.addr(id)) {
                Ok(g) => groups_of.entry(g.parent_task).or_default().extend(g.tasks),
                Err(e) => problems.push(format!("TaskGroup {}: {e}", snap.addr(id))),
            }
        }

        // Awaits. Whether a type is `asyncio.gather`'s future is decided once per type.
        let mut gathering: HashMap<Addr, bool> = HashMap::new();
        let mut awaits: Vec<Vec<usize>> = vec![Vec::new(); pending.len()];
        for (i, (id, t)) in pending.iter().enumerate() {
            let mut out = Vec::new();
            let w = t.fut_waiter;
            if let Some(&j) = pending_at.get(&w) {
                out.push(j);
            } else if !w.is_null() && !task_addr_is_task(snap, &classes, w) {
                let children = heap.type_of(w).and_then(|ty| {
                    let is = match gathering.get(&ty) {
                        Some(&is) => is,
                        None => *gathering.entry(ty).or_insert(asyncio::is_gathering_future_type(heap, ty)?),
                    };
                    if is {
                        asyncio::gathering_future_children(heap, w).map(Some)
                    } else {
                        Ok(None)
                    }
                });
                match children {
                    Ok(Some(children)) => out.extend(children.iter().filter_map(|c| pending_at.get(c).copied())),
                    Ok(None) => {}
                    Err(e) => problems.push(format!("the future task {} waits on ({w}): {e}", snap.addr(*id))),
                }
            }
            let in_group_exit = chains[i].iter().any(|l| {
                l.frame(&decoded).is_some_and(|f| {
                    f.qualname.as_deref().or(f.function.as_deref()).is_some_and(|f| f.ends_with("TaskGroup.__aexit__"))
                })
            });
            if in_group_exit {
                if let Some(members) = groups_of.get(&snap.addr(*id)) {
                    out.extend(members.iter().filter_map(|m| pending_at.get(m).copied()));
                }
            }
            out.sort_unstable();
            out.dedup();
            awaits[i] = out;
        }
        let mut awaited_by: Vec<Vec<usize>> = vec![Vec::new(); pending.len()];
        for (i, a) in awaits.iter().enumerate() {
            for &j in a {
                awaited_by[j].push(i);
            }
        }

        // Cycles of the await graph.
        let cycles = {
            let edges: Vec<(u32, u32)> =
                awaits.iter().enumerate().flat_map(|(i, a)| a.iter().map(move |&j| (i as u32, j as u32))).collect();
            let g = Csr::from_edges(pending.len(), &edges)?;
            let sccs = strongly_connected_components(&g, |_| true);
            let mut cycles: Vec<Vec<u64>> = (0..sccs.num_components() as u32)
                .filter(|&c| sccs.is_cycle(c))
                .map(|c| {
                    let mut m: Vec<u64> = sccs.members(c).iter().map(|&i| snap.addr(pending[i as usize].0).0).collect();
                    m.sort_unstable();
                    m
                })
                .collect();
            cycles.sort();
            cycles
        };

        // Loops and their threads.
        let mut names: HashMap<u64, String> = HashMap::new();
        for &interp in snap.interpreters() {
            match runtime::thread_names(heap, interp) {
                Ok(n) => names.extend(n),
                Err(e) => problems.push(format!("thread names of interpreter {interp}: {e}")),
            }
        }
        let mut loops: BTreeMap<u64, LoopReport> = BTreeMap::new();
        for (_, t) in &pending {
            if t.loop_.is_null() {
                continue;
            }
            let l = loops.entry(t.loop_.0).or_insert_with(|| {
                let ident = match asyncio::loop_thread_ident(heap, t.loop_) {
                    Ok(i) => i,
                    Err(e) => {
                        problems.push(format!("event loop {}: {e}", t.loop_));
                        None
                    }
                };
                LoopReport {
                    address: t.loop_.0,
                    thread: ident.and_then(|i| names.get(&i).cloned()),
                    thread_ident: ident,
                    pending: 0,
                }
            });
            l.pending += 1;
        }

        // The task whose stack holds each coroutine: the first by address.
        let mut task_of: AddrMap<u64> = AddrMap::default();
        for (i, c) in chains.iter().enumerate() {
            for l in c {
                task_of.entry(l.addr).or_insert(snap.addr(pending[i].0).0);
            }
        }

        // The tasks' rows.
        let with_locals = StackOptions { locals: true, preview: opts.preview, ..StackOptions::default() };
        let mut rows: Vec<TaskReport> = pending
            .par_iter()
            .enumerate()
            .map(|(i, (id, t))| {
                let mut errors = Vec::new();
                let stack = chains[i]
                    .iter()
                    .filter_map(|l| {
                        if opts.locals {
                            match coroutines::coroutine(heap, l.addr, &with_locals) {
                                Ok(c) => c.frame.as_ref().map(|f| entry(f, true)),
                                Err(e) => {
                                    errors.push(format!("locals of {}: {e}", l.addr));
                                    l.frame(&decoded).map(|f| entry(f, false))
                                }
                            }
                        } else {
                            l.frame(&decoded).map(|f| entry(f, false))
                        }
                    })
                    .collect();
                errors.extend(chains[i].iter().filter_map(|l| l.error.clone()));
                let coro = match gen_at.get(&t.coro).map(|&g| &decoded[g].coro) {
                    Some(Ok(c)) => c.qualname.clone(),
                    _ => None,
                };
                TaskReport {
                    address: snap.addr(*id).0,
                    type_name: snap.type_name(*id).to_string(),
                    name: Some(t.name.clone()),
                    state: FutureState::Pending.as_str(),
                    coro,
                    stack,
                    awaits: awaits[i].iter().map(|&j| snap.addr(pending[j].0).0).collect(),
                    awaited_by: awaited_by[i].iter().map(|&j| snap.addr(pending[j].0).0).collect(),
                    event_loop: (!t.loop_.is_null()).then_some(t.loop_.0),
                    thread: loops.get(&t.loop_.0).and_then(|l| l.thread.clone()),
                    errors,
                }
            })
            .collect();
        for r in &rows {
            for e in &r.errors {
                problems.push(format!("task {:#x}: {e}", r.address));
            }
        }

        // Suspended generators and coroutines.
        let mut suspended = Vec::new();
        for d in &decoded {
            let addr = snap.addr(d.id);
            let c = match &d.coro {
                Ok(c) => c,
                Err(e) => {
                    problems.push(format!("{} {addr}: {e}", snap.type_name(d.id)));
                    continue;
                }
            };
            let Some(f) = &c.frame else { continue };
            if !matches!(c.state, CoroutineState::Created | CoroutineState::Suspended) {
                continue;
            }
            let e = entry(f, false);
            suspended.push((
                d.id,
                SuspendedReport {
                    address: addr.0,
                    kind: c.kind.as_str(),
                    state: c.state.as_str(),
                    function: e.function,
                    file: e.file,
                    line: e.line,
                    task: task_of.get(&addr).copied(),
                },
            ));
        }
        suspended.sort_by_key(|(_, s)| s.address);

        // Groups: tasks by stack, then suspended generators by kind and place, keyed by borrowed names, then ordered
        // by their stacks (their order decides which are computed within the retained budget).
        let mut by_stack: HashMap<Vec<Place<'_>>, Vec<usize>> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            by_stack.entry(r.stack.iter().map(StackEntry::place).collect()).or_default().push(i);
        }
        let mut task_groups: Vec<(Vec<StackEntry>, Vec<ObjectId>, Vec<u64>)> = by_stack
            .into_values()
            .map(|members| {
                let stack = rows[members[0]].stack.iter().map(|e| StackEntry { locals: None, ..e.clone() }).collect();
                let ids = members.iter().map(|&i| pending[i].0).collect();
                let addrs = members.iter().map(|&i| rows[i].address).collect();
                (stack, ids, addrs)
            })
            .collect();
        task_groups.sort_by(|a, b| a.0.cmp(&b.0));
        let mut by_place: HashMap<(&'static str, Place<'_>), Vec<usize>> = HashMap::new();
        for (i, (_, s)) in suspended.iter().enumerate() {
            by_place.entry((s.kind, (s.function.as_deref(), s.file.as_deref(), s.line))).or_default().push(i);
        }
        let mut gen_groups: Vec<(&'static str, StackEntry, Vec<ObjectId>, Vec<u64>)> = by_place
            .into_values()
            .map(|members| {
                let s = &suspended[members[0]].1;
                let e = StackEntry { function: s.function.clone(), file: s.file.clone(), line: s.line, locals: None };
                let ids = members.iter().map(|&i| suspended[i].0).collect();
                let addrs = members.iter().map(|&i| suspended[i].1.address).collect();
                (s.kind, e, ids, addrs)
            })
            .collect();
        gen_groups.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let gen_sets: Vec<Vec<ObjectId>> = match opts.suspended_retained {
            true => gen_groups.iter().map(|g| g.2.clone()).collect(),
            false => Vec::new(),
        };
        let (task_retained, mut gen_retained) = if opts.retained && !(task_groups.is_empty() && gen_sets.is_empty()) {
            retained_of(snap, &task_groups.iter().map(|g| g.1.clone()).collect::<Vec<_>>(), &gen_sets)?
        } else {
            (vec![None; task_groups.len()], Vec::new())
        };
        gen_retained.resize(gen_groups.len(), None);
        let mut groups: Vec<GroupReport> = task_groups
            .into_iter()
            .zip(task_retained)
            .map(|((stack, _, addrs), r)| group(None, stack, &addrs, r))
            .collect();
        sort_groups(&mut groups);
        let mut suspended_groups: Vec<GroupReport> = gen_groups
            .into_iter()
            .zip(gen_retained)
            .map(|((kind, e, _, addrs), r)| GroupReport {
                in_tasks: Some(addrs.iter().filter(|a| task_of.contains_key(&Addr(**a))).count()),
                ..group(Some(kind), vec![e], &addrs, r)
            })
            .collect();
        sort_groups(&mut suspended_groups);

        rows.shrink_to_fit();
        let errors = problems.count;
        Ok(TasksReport {
            count: rows.len(),
            tasks: rows,
            groups,
            suspended: suspended.into_iter().map(|(_, s)| s).collect(),
            suspended_groups,
            loops: loops.into_values().collect(),
            cycles,
            problems: problems.described,
            errors,
            tree: opts.tree,
        })
    }
}

/// True if `addr` is an object of the snapshot whose type is a task type (a done task, when not among the pending).
fn task_addr_is_task(snap: &Snapshot, classes: &[Class], addr: Addr) -> bool {
    snap.id_of(addr).is_some_and(|id| {
        let (types, _, _) = snap.columns();
        matches!(classes.get(types[id as usize] as usize), Some(Class::Task(_)))
    })
}

/// One coroutine of a task's chain.
struct ChainLink {
    addr: Addr,
    /// Its frame: the one in `decoded[i]`, or one decoded for the chain alone (a coroutine the snapshot lacks).
    decoded: Option<usize>,
    own: Option<Box<Frame>>,
    error: Option<String>,
}

impl ChainLink {
    fn frame<'a>(&'a self, decoded: &'a [Decoded]) -> Option<&'a Frame> {
        match self.decoded {
            Some(i) => decoded[i].coro.as_ref().ok().and_then(|c| c.frame.as_ref()),
            None => self.own.as_deref(),
        }
    }
}

/// The coroutine `start` and each coroutine or generator it awaits, while they have a frame (async generators end
/// the chain, as `cr_await` of their `__anext__` is no coroutine).
fn chain<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    decoded: &[Decoded],
    gen_at: &AddrMap<usize>,
    start: Addr,
) -> Vec<ChainLink> {
    let mut out = Vec::new();
    let mut seen = AddrSet::default();
    let mut at = start;
    while !at.is_null() && out.len() < MAX_CHAIN && seen.insert(at) {
        let failed = |e: &dyn std::fmt::Display| ChainLink {
            addr: at,
            decoded: None,
            own: None,
            error: Some(format!("coroutine {at}: {e}")),
        };
        let (kind, has_frame, awaiting, link) = match gen_at.get(&at) {
            Some(&i) => match &decoded[i].coro {
                Ok(c) => (
                    c.kind,
                    c.frame.is_some(),
                    c.awaiting,
                    ChainLink { addr: at, decoded: Some(i), own: None, error: None },
                ),
                Err(e) => {
                    out.push(failed(e));
                    break;
                }
            },
            None => match coroutines::coroutine_kind(heap, at) {
                Ok(Some(_)) => match coroutines::coroutine(heap, at, &StackOptions::default()) {
                    Ok(c) => (
                        c.kind,
                        c.frame.is_some(),
                        c.awaiting,
                        ChainLink { addr: at, decoded: None, own: c.frame.map(Box::new), error: None },
                    ),
                    Err(e) => {
                        out.push(failed(&e));
                        break;
                    }
                },
                _ => break,
            },
        };
        if kind == CoroutineKind::AsyncGenerator || !has_frame {
            break;
        }
        out.push(link);
        at = awaiting;
    }
    out
}

/// Most objects the searches for one kind of groups' retained sets visit, as a multiple of the heap's objects.
const RETAINED_BUDGET_HEAPS: u64 = 8;

/// Retained totals per group (`None`: past the budget).
type Totals = Vec<Option<heapscope_graph::SetRetained>>;

/// The retained totals of the task groups and of the generator groups (the task groups first, each kind's largest
/// first) until the budget is spent.
fn retained_of(
    snap: &Snapshot,
    task_groups: &[Vec<ObjectId>],
    gen_groups: &[Vec<ObjectId>],
) -> Result<(Totals, Totals), GraphError> {
    let liveness = Liveness::new(snap);
    // The task groups, then the generator groups, each largest (by members) first; then back in the callers' order.
    let mut order: Vec<(bool, usize)> =
        (0..task_groups.len()).map(|i| (true, i)).chain((0..gen_groups.len()).map(|i| (false, i))).collect();
    let len = |&(t, i): &(bool, usize)| if t { task_groups[i].len() } else { gen_groups[i].len() };
    order.sort_by_key(|k| (!k.0, std::cmp::Reverse(len(k)), k.1));
    // Tasks and generators are different objects, so the groups of both kinds are disjoint sets: one search, with
    // the budget of both.
    let budget = (2 * RETAINED_BUDGET_HEAPS).saturating_mul(snap.len() as u64).max(1 << 20);
    let sets: Vec<Vec<ObjectId>> =
        order.iter().map(|&(t, i)| if t { task_groups[i].clone() } else { gen_groups[i].clone() }).collect();
    let totals = group_retained(snap, &liveness, &sets, budget)?;
    let mut tasks_out = vec![None; task_groups.len()];
    let mut gens_out = vec![None; gen_groups.len()];
    for (&(t, i), r) in order.iter().zip(totals) {
        if t {
            tasks_out[i] = r;
        } else {
            gens_out[i] = r;
        }
    }
    Ok((tasks_out, gens_out))
}

fn group(
    kind: Option<&'static str>,
    stack: Vec<StackEntry>,
    addrs: &[u64],
    r: Option<heapscope_graph::SetRetained>,
) -> GroupReport {
    let mut examples: Vec<u64> = addrs.to_vec();
    examples.sort_unstable();
    examples.truncate(EXAMPLES);
    GroupReport {
        count: addrs.len(),
        kind,
        stack,
        examples,
        retained_bytes: r.map(|r| r.bytes),
        retained_count: r.map(|r| r.count),
        in_tasks: None,
    }
}

/// Largest first: by retained bytes (groups without them last), then by count.
fn sort_groups(groups: &mut [GroupReport]) {
    groups.sort_by(|a, b| {
        (b.retained_bytes.is_some(), b.retained_bytes, b.count)
            .cmp(&(a.retained_bytes.is_some(), a.retained_bytes, a.count))
            .then_with(|| a.stack.cmp(&b.stack))
    });
}
