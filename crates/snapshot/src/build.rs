//! [`build`]: enumeration and roots → closure → columns, graph, types, roots, categories.

use std::time::Instant;

use heapscope_coredump::{Addr, ProcessImage};
use heapscope_graph::Csr;
use rayon::prelude::*;

use super::categories::categorize;
use super::discover::{discover, per_seed_budget, Decoder, Info, OBJECT_ALIGNMENT};
use super::index::AddrIndex;
use super::labels::{EdgeWord, LabelTable};
use super::{columns, edges, flag, BuildStats, ErrorLog, ObjectId, Snapshot, SnapshotRoot, NO_GENERATION, NO_LEN};
use heapscope_cpython::heap::roots::{RootKind, RootWhere};
use heapscope_cpython::heap::{self, roots, Label, ObjectInfo, Ref, RefKind, TypeCache};
use heapscope_cpython::layout::Layout;
use heapscope_cpython::objects::{DecodeError, Heap};
use heapscope_cpython::runtime;
use heapscope_cpython::{Detection, Error};

/// A phase of [`build`], for progress reports and timings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Walking the GC lists and pymalloc's arenas.
    Enumerate,
    /// Collecting the roots.
    Roots,
    /// Decoding objects and following references (`done` objects decoded of `total` known).
    Decode,
    /// Numbering objects and filling the columns.
    Columns,
    /// Building the reference graph.
    Graph,
    /// Classifying objects ([`super::Category`]).
    Categories,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Enumerate => "enumerating objects",
            Phase::Roots => "collecting roots",
            Phase::Decode => "decoding objects",
            Phase::Columns => "numbering objects",
            Phase::Graph => "building the reference graph",
            Phase::Categories => "classifying objects",
        })
    }
}

/// Where a build is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The phase.
    pub phase: Phase,
    /// Work done in this phase (objects, for [`Phase::Decode`]; 0 when not counted).
    pub done: u64,
    /// Work known so far in this phase (0 when not counted).
    pub total: u64,
}

/// A thread's C stack (from its stack pointer to the end of the mapping that holds it) and registers: their words
/// that hold an object's address become roots of kind `c_stack` (the objects C code running on the thread holds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CStack {
    /// The kernel thread id.
    pub tid: u32,
    /// The general-purpose registers' values.
    pub registers: Vec<u64>,
    /// The stack pointer.
    pub start: Addr,
    /// The end of the stack's mapping.
    pub end: Addr,
}

/// Most bytes of one thread's C stack scanned.
const MAX_C_STACK: u64 = 64 << 20;

/// Limits and hooks of [`build`].
pub struct BuildOptions<'a> {
    /// The threads' C stacks and registers, scanned for roots (none: no `c_stack` roots).
    pub c_stacks: Vec<CStack>,
    /// Most objects kept (ids are `u32`). Objects found by reference beyond it are left out, with a warning.
    pub max_objects: usize,
    /// Most decoding failures kept with their address and cause (all are counted).
    pub max_errors: usize,
    /// Bytes of memory the image holds (for a core: the bytes its segments dump), which bound how many objects
    /// found only by reference one seed may lead to (`discover::per_seed_budget`); `None`: 65,536.
    pub memory_bytes: Option<u64>,
    /// Called at the start of each phase, and while decoding after each chunk of objects (from worker threads: it
    /// must be cheap, and throttle its own output).
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
}

impl Default for BuildOptions<'_> {
    fn default() -> Self {
        BuildOptions {
            c_stacks: Vec::new(),
            max_objects: (u32::MAX - 1) as usize,
            max_errors: 1000,
            memory_bytes: None,
            progress: None,
        }
    }
}

impl std::fmt::Debug for BuildOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildOptions")
            .field("max_objects", &self.max_objects)
            .field("max_errors", &self.max_errors)
            .field("memory_bytes", &self.memory_bytes)
            .field("c_stacks", &self.c_stacks.len())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// Builds the snapshot of every interpreter of the process: see [the module documentation](super).
///
/// Fails only when no interpreter can be read; every other failure is counted in [`Snapshot::errors`] or noted in
/// [`Snapshot::warnings`].
pub fn build<P: ProcessImage + ?Sized + Sync>(
    p: &P,
    detection: &Detection,
    layout: &Layout,
    opts: &BuildOptions<'_>,
) -> Result<Snapshot, Error> {
    let heap = Heap::new(p, layout);
    let noop = |_: Progress| {};
    let progress: &(dyn Fn(Progress) + Sync) = opts.progress.unwrap_or(&noop);
    let mut stats = BuildStats::default();
    let mut warnings = Vec::new();
    let mut errors = ErrorLog::default();
    let mut clock = Clock::new();

    progress(Progress { phase: Phase::Enumerate, done: 0, total: 0 });
    let interps = runtime::interpreters(p, layout, detection.runtime);
    if interps.items.is_empty() {
        let why = interps.error.map_or_else(|| "the interpreter list is empty".to_owned(), |e| e.to_string());
        return Err(Error::NoInterpreter { why });
    }
    if let Some(e) = &interps.error {
        errors.other += 1;
        warnings.push(format!("interpreter list: {e}"));
    }
    let mut gc: Vec<u64> = Vec::new();
    let mut permanent: Vec<u64> = Vec::new();
    let mut generations: Vec<(u64, u8)> = Vec::new();
    let mut untracked: Vec<u64> = Vec::new();
    // The interpreters' GC lists are disjoint: a list running into an earlier interpreter's objects ends there, so
    // a corrupt interpreter list cannot have the same objects walked once per interpreter.
    let mut taken: Vec<u64> = Vec::new();
    for interp in &interps.items {
        let e =
            heap::enumerate_excluding(&heap, detection.runtime, interp.addr, &|a| taken.binary_search(&a.0).is_ok());
        if interps.items.len() > 1 {
            let mut mine: Vec<u64> = e.gc.iter().map(|(a, _)| a.0).collect();
            mine.par_sort_unstable();
            taken = merge_sorted(&taken, &mine);
        }
        gc.extend(e.gc.iter().map(|(a, _)| a.0));
        generations.extend(e.gc.iter().map(|&(a, g)| (a.0, g)));
        permanent.extend(e.gc.iter().filter(|(_, g)| *g == heap::gc_lists::PERMANENT).map(|(a, _)| a.0));
        untracked.extend(e.untracked.iter().map(|a| a.0));
        warnings.extend(e.warnings.into_iter().map(|w| format!("enumeration: {w}")));
        if let Some(gc_state) = e.collecting.filter(|g| stats.collecting.iter().all(|c| c.gc_state != *g)) {
            let tracked_unlisted = e.stats.tracked_unlisted();
            stats.collecting.push(crate::Collecting { interpreter: interp.addr, gc_state, tracked_unlisted });
        }
    }
    gc.par_sort_unstable();
    gc.dedup();
    // Each enumeration's list is sorted; several interpreters' lists need sorting together.
    if !untracked.is_sorted() {
        untracked.par_sort_unstable();
    }
    untracked.dedup();
    stats.gc_objects = gc.len() as u64;
    stats.pymalloc_objects = untracked.len() as u64;
    clock.lap(&mut stats, Phase::Enumerate);

    progress(Progress { phase: Phase::Roots, done: 0, total: 0 });
    let found_roots = roots::collect(&heap, detection.runtime, &interps.items);
    errors.other += found_roots.errors.len() as u64;
    for e in &found_roots.errors {
        warnings.push(format!("roots: {e}"));
    }
    let mut root_addrs: Vec<u64> = found_roots.roots.iter().map(|r| r.addr.0).collect();
    root_addrs.par_sort_unstable();
    root_addrs.dedup();
    stats.root_objects = root_addrs.len() as u64;
    clock.lap(&mut stats, Phase::Roots);

    let mut seeds = merge_sorted(&merge_sorted(&gc, &untracked), &root_addrs);
    if seeds.len() > opts.max_objects {
        warnings.push(format!(
            "stopped at the limit of {} objects: {} enumerated objects (the highest addresses) were left out",
            opts.max_objects,
            seeds.len() - opts.max_objects
        ));
        seeds.truncate(opts.max_objects);
    }
    let seeds = AddrIndex::new(seeds);
    let decoder = ObjectDecoder { heap: &heap, cache: TypeCache::new(&heap) };
    let per_seed = per_seed_budget(opts.memory_bytes);
    let found = discover(&seeds, &decoder, opts.max_objects, per_seed, &mut stats, progress);
    drop(seeds);
    warnings.extend(found.warnings);
    clock.lap(&mut stats, Phase::Decode);

    progress(Progress { phase: Phase::Columns, done: 0, total: 0 });
    let mut runs = found.runs;
    let mut merged = columns::merge(&mut runs);
    let (types, type_errors) = columns::type_table(&heap, &merged.cols);
    errors.other += type_errors.len() as u64;
    for (ty, e) in type_errors.iter().take(opts.max_errors) {
        warnings.push(format!("name of the type at {ty}: {e}"));
    }
    let type_ids = columns::type_ids(&merged.cols, &types);
    merged.cols.tys = Vec::new();
    let lists = [
        (&gc, flag::ON_GC_LIST),
        (&permanent, flag::PERMANENT),
        (&untracked, flag::IN_PYMALLOC),
        (&root_addrs, flag::ROOT),
    ];
    for (list, bit) in lists {
        columns::mark(&mut merged.cols.flags, &merged.addrs, list, bit);
    }
    drop((gc, permanent, untracked, root_addrs));
    // Each GC object's generation, walked along the sorted addresses (an object listed twice keeps its first).
    generations.par_sort_by_key(|&(a, _)| a);
    generations.dedup_by_key(|&mut (a, _)| a);
    let gen_addrs: Vec<u64> = generations.iter().map(|&(a, _)| a).collect();
    let mut gens = vec![NO_GENERATION; merged.addrs.len()];
    columns::for_each_match(&merged.addrs, &gen_addrs, |id, k| gens[id] = generations[k].1);
    drop((generations, gen_addrs));
    let index = AddrIndex::new(std::mem::take(&mut merged.addrs));
    clock.lap(&mut stats, Phase::Columns);

    progress(Progress { phase: Phase::Graph, done: 0, total: 0 });
    let (graph, edges, labels, dropped) = edges::build(&mut runs, &merged, &index);
    owned_storage(&graph, &edges, &labels, &mut merged.cols.sizes, &merged.cols.footprints);
    stats.dropped_edges = dropped;
    stats.labels = labels.len() as u64;
    if dropped > 0 {
        warnings.push(format!("{dropped} references to objects left out (a limit was reached) were dropped"));
    }
    let chunks = || runs.iter().flat_map(|r| &r.chunks);
    errors.objects = chunks().map(|c| c.error_count).sum();
    let mut first: Vec<(Addr, String)> =
        chunks().flat_map(|c| c.errors.iter().map(|(a, e)| (Addr(*a), e.to_string()))).collect();
    first.sort_by_key(|(a, _)| *a);
    first.truncate(opts.max_errors);
    errors.first = first;
    drop(runs);
    clock.lap(&mut stats, Phase::Graph);

    progress(Progress { phase: Phase::Categories, done: 0, total: 0 });
    let mut roots: Vec<SnapshotRoot> = found_roots
        .roots
        .into_iter()
        .filter_map(|r| Some(SnapshotRoot { id: index.get(r.addr.0)?, kind: r.kind, at: r.at }))
        .collect();
    // C globals: words of static data naming an object, and the objects that are static data themselves (3.8-3.10's
    // small ints, extension modules' static objects).
    let ranges = heap::roots::data_ranges(p);
    let mut c_globals = heap::roots::c_globals(p, &ranges, |w| index.get(w));
    for &(start, end, object) in &ranges {
        let addrs = index.addrs();
        let from = addrs.partition_point(|&a| a < start);
        let to = addrs.partition_point(|&a| a < end);
        c_globals.extend((from..to).map(|i| (i as ObjectId, RootWhere::CGlobal { addr: Addr(addrs[i]), object })));
    }
    for (id, _) in &c_globals {
        merged.cols.flags[*id as usize] |= flag::ROOT;
    }
    roots.extend(c_globals.into_iter().map(|(id, at)| SnapshotRoot { id, kind: RootKind::CGlobal, at }));
    // The interpreter and thread states, scanned the same way: the exception a thread is handling, hooks, caches.
    let mut states: Vec<(Addr, u64, RootKind, u64)> = Vec::new();
    for interp in &interps.items {
        if let Some(size) = layout.interp.size.offset {
            states.push((interp.addr, u64::from(size), RootKind::InterpreterState, 0));
        }
        if let Some(size) = layout.tstate.size.offset {
            for t in runtime::threads(p, layout, interp.addr).items {
                states.push((t.tstate, u64::from(size), RootKind::ThreadState, t.ident));
            }
        }
    }
    // The threads' C stacks and registers: what C code running on them holds.
    for s in &opts.c_stacks {
        for &w in &s.registers {
            if let Some(id) = index.get(w) {
                merged.cols.flags[id as usize] |= flag::ROOT;
                roots.push(SnapshotRoot {
                    id,
                    kind: RootKind::CStack,
                    at: RootWhere::CStack { tid: s.tid, addr: None },
                });
            }
        }
        let end = s.end.0.min(s.start.0.saturating_add(MAX_C_STACK));
        let is_object = |w: u64| index.get(w);
        heap::roots::scan_words(p, s.start.0, end, &is_object, |id, at| {
            merged.cols.flags[id as usize] |= flag::ROOT;
            roots.push(SnapshotRoot {
                id,
                kind: RootKind::CStack,
                at: RootWhere::CStack { tid: s.tid, addr: Some(at) },
            });
        });
    }
    for (state, size, kind, ident) in states {
        let is_object = |w: u64| index.get(w);
        heap::roots::scan_words(p, state.0, state.0.saturating_add(size), &is_object, |id, at| {
            merged.cols.flags[id as usize] |= flag::ROOT;
            let offset = (at.0 - state.0) as u32;
            roots.push(SnapshotRoot { id, kind, at: RootWhere::StateWord { state, offset, ident } });
        });
    }
    let str_type = heap.statics().str_type.and_then(|s| types.binary_search_by_key(&s.0, |t| t.addr.0).ok());
    let is_interned = |id: ObjectId| {
        str_type.is_some_and(|s| type_ids[id as usize] as usize == s)
            && heap.str_value(Addr(index.addrs()[id as usize]), 0).is_ok_and(|s| s.interned != 0)
    };
    let cols = merged.cols;
    let categories = categorize(&graph, &edges, &cols.flags, &roots, is_interned);
    clock.lap(&mut stats, Phase::Categories);

    Ok(Snapshot {
        version: detection.version,
        index,
        type_ids,
        sizes: cols.sizes,
        footprints: cols.footprints,
        refcounts: cols.refcounts,
        lens: cols.lens,
        flags: cols.flags,
        generations: gens,
        categories,
        graph,
        edges,
        labels,
        reverse: Default::default(),
        roots_by_id: Default::default(),
        types,
        roots,
        interpreters: interps.items.iter().map(|i| i.addr).collect(),
        errors,
        warnings,
        stats,
    })
}

/// The per-object decoder: `object_info` and `referents`, with a type cache per worker.
struct ObjectDecoder<'h, 'a, P: ProcessImage + ?Sized> {
    heap: &'h Heap<'a, P>,
    /// Cloned for each worker (the process-wide facts are resolved once).
    cache: TypeCache,
}

impl<P: ProcessImage + ?Sized + Sync> Decoder for ObjectDecoder<'_, '_, P> {
    type State = TypeCache;

    fn state(&self) -> TypeCache {
        self.cache.clone()
    }

    fn decode(&self, cache: &mut TypeCache, addr: Addr, refs: &mut Vec<Ref>) -> (Option<Info>, Option<DecodeError>) {
        match heap::object_and_referents_with(self.heap, cache, addr, refs) {
            Ok((info, refs)) => (Some(compact(&info)), refs.err()),
            Err(e) => (None, Some(e)),
        }
    }

    /// 8-byte aligned, and in a mapping of the process (bytes the core omits are still an object's, whose
    /// failure to decode then names the missing file).
    fn can_hold_object(&self, addr: Addr) -> bool {
        addr.0.is_multiple_of(OBJECT_ALIGNMENT)
            && !matches!(self.heap.process().read_u64(addr), Err(heapscope_coredump::ReadError::Unmapped { .. }))
    }
}

/// The union of two sorted, distinct lists, sorted and distinct (a merge: the lists are already sorted).
fn merge_sorted(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        out.push(x.min(y));
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The decoder's record, compacted.
fn compact(info: &ObjectInfo) -> Info {
    let mut flags = flag::DECODED;
    if info.immortal {
        flags |= flag::IMMORTAL;
    }
    if info.gc_tracked {
        flags |= flag::GC_TRACKED;
    }
    Info {
        ty: info.ty.0,
        size: info.size,
        footprint: info.footprint,
        refcount: info.refcount,
        len: info.len.unwrap_or(NO_LEN),
        flags,
    }
}

/// Milliseconds per phase.
struct Clock(Instant);

impl Clock {
    fn new() -> Clock {
        Clock(Instant::now())
    }

    fn lap(&mut self, stats: &mut BuildStats, phase: Phase) {
        stats.millis.push((phase, self.0.elapsed().as_millis() as u64));
        self.0 = Instant::now();
    }
}

/// Gives `size` 0 to storage that another object's `sys.getsizeof` already counts, so that sums of `size` count
/// each byte once (its `footprint` stays the memory it occupies): a 3.15+ bytearray's buffer is a bytes object of
/// its own, at `ob_bytes_object`, whose `bytes.__sizeof__` the bytearray's `__sizeof__` adds; that bytearray's size
/// exceeds its footprint by exactly the bytes object's size. `gc.get_referents` does not report the buffer, so in
/// the process's own view too the bytearray's size is all it holds.
fn owned_storage(graph: &Csr, words: &[EdgeWord], labels: &LabelTable, sizes: &mut [u64], footprints: &[u64]) {
    let Some(buffer) = labels.id(&Label::Field("ob_bytes_object")) else {
        return;
    };
    for owner in 0..graph.num_nodes() as u32 {
        let counted = sizes[owner as usize].saturating_sub(footprints[owner as usize]);
        if counted == 0 {
            continue;
        }
        for e in graph.edge_range(owner) {
            let (t, w) = (graph.targets()[e] as usize, words[e]);
            if w.kind() == RefKind::Hidden && labels.is(w, buffer) && t != owner as usize && sizes[t] == counted {
                sizes[t] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge_sorted;

    #[test]
    fn merging_sorted_lists_is_their_sorted_union() {
        assert_eq!(merge_sorted(&[1, 3, 5, 9], &[2, 3, 4, 10, 11]), vec![1, 2, 3, 4, 5, 9, 10, 11]);
        assert_eq!(merge_sorted(&[], &[7]), vec![7]);
        assert_eq!(merge_sorted(&[7, 8], &[]), vec![7, 8]);
        assert_eq!(merge_sorted(&[5], &[5]), vec![5]);
    }
}
