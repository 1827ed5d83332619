//! Why objects are alive: `heapscope retained`, `top`, `path` and `leaks` (see [`heapscope_analysis::alive`]).
//!
//! JSON contracts:
//! - `retained`: `{"address", "type", "count", "bytes", "footprint"}`;
//! - `top`: `{"owners": [{"address", "type", "retained_count", "retained_bytes", "retained_footprint", "size",
//!   "path", "children"}]}`;
//! - `path`: `{"address", "type", "paths": [{"root": {"kind", "text", …}, "text", "steps": [{"address", "type",
//!   "label"}]}]}`;
//! - `leaks`: `{"roots": [{"address", "type", "refcount", "referrers", "excess", "retained_bytes"}], "suspects":
//!   [{"address", "type", "retained_bytes", "share", "accumulation": {"address", "type", "retained_bytes"}, "path"}],
//!   "suspect_types": [{"type", "count", "retained_bytes"}]}`.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};

use heapscope_analysis::alive::Alive;
use heapscope_coredump::{Addr, ProcessImage};
use heapscope_cpython::heap::roots::{RootDescription, RootKind, RootNamer};
use heapscope_cpython::objects::Heap;
use heapscope_graph::{shortest_paths, PathStep, ShortestPaths};
use heapscope_snapshot::{ObjectId, Snapshot};
use serde::Serialize;

use crate::format::{count, mib};
use crate::report::{Format, Report};
use crate::show::label_text_with;
use crate::Table;

/// The shortest live paths from the virtual root's seeds, and how to name their steps.
///
/// Paths start preferably at a named root of the interpreter (`sys.modules[…]`, `sys.__dict__`, the builtins, a
/// static object): an object such a root reaches gets its shortest path from those roots alone, which reads the way
/// Python names it (`sys.modules['__main__'].__dict__['CACHE']`). Only what they do not reach is named from a
/// running frame, a thread, or an object held from outside the heap.
#[derive(Debug)]
pub struct Paths<'a, 'h, 'p, P: ProcessImage + ?Sized> {
    alive: &'a Alive<'a>,
    heap: &'h Heap<'p, P>,
    named: ShortestPaths,
    all: ShortestPaths,
    namer: RootNamer<'h, 'p, P>,
    /// Dict-key labels as their length and hash.
    redact: bool,
}

/// Roots that name an object the way Python code reaches it.
fn is_named_root(kind: RootKind) -> bool {
    !matches!(
        kind,
        RootKind::FrameObject
            | RootKind::FrameRef
            | RootKind::ThreadDict
            | RootKind::Interned
            | RootKind::CGlobal
            | RootKind::InterpreterState
            | RootKind::ThreadState
            | RootKind::CStack
    )
}

/// Path fingerprints already computed (see [`Paths::fingerprint`]): one hash per object and search, 0 when not yet
/// known.
#[derive(Debug, Clone, Default)]
pub struct Fingerprints {
    named: Vec<u64>,
    all: Vec<u64>,
}

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathRoot {
    /// The kind of root, or `excess`: an object held from outside the heap (its refcount exceeds the references
    /// found to it).
    pub kind: String,
    /// The root's description.
    #[serde(flatten)]
    pub description: RootDescription,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The object reached.
    pub address: Addr,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// How the previous object references it (empty for the first).
    pub label: String,
}

/// A path from a root to an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathReport {
    /// Where it starts.
    pub root: PathRoot,
    /// The path written the Python way: `sys.modules['__main__'].__dict__['CACHE'][17]`.
    pub text: String,
    /// The objects along it, the root's object first.
    pub steps: Vec<Step>,
}

impl<'a, 'h, 'p, P: ProcessImage + ?Sized> Paths<'a, 'h, 'p, P> {
    /// Breadth-first search from the seeds of `alive` over live references.
    pub fn new(alive: &'a Alive<'a>, heap: &'h Heap<'p, P>) -> Self {
        let snap = alive.snapshot();
        let live = |e| alive.is_live_edge(e);
        let named_roots = snap.roots().iter().filter(|r| is_named_root(r.kind)).map(|r| r.id);
        let named = shortest_paths(snap.graph(), named_roots, live);
        let all = shortest_paths(snap.graph(), alive.seeds().iter().copied(), live);
        Paths { alive, heap, named, all, namer: RootNamer::new(heap, snap.interpreters()), redact: false }
    }

    /// Writes dict-key labels as their length and hash (`--redact`).
    pub fn redact(mut self, redact: bool) -> Self {
        self.redact = redact;
        self
    }

    /// The search that reaches `id` from the preferred roots.
    fn search(&self, id: ObjectId) -> &ShortestPaths {
        if self.named.distance(id).is_some() {
            &self.named
        } else {
            &self.all
        }
    }

    /// Up to `k` shortest paths to `id` (different last steps), shortest first.
    pub fn paths(&self, id: ObjectId, k: usize) -> Vec<PathReport> {
        let bfs = self.search(id);
        let steps = match bfs.paths_to(self.alive.transposed(), id, k, |e| self.alive.is_live_edge(e)) {
            Ok(p) => p,
            Err(_) => return Vec::new(),
        };
        steps.into_iter().map(|p| self.report(&p)).collect()
    }

    /// The shortest path to `id`, if a seed reaches it.
    pub fn path(&self, id: ObjectId) -> Option<PathReport> {
        let p = self.search(id).path_to(id);
        (!p.is_empty()).then(|| self.report(&p))
    }

    /// Where a path that starts at `first` starts: its most Python-like root, else the refcount excess that holds
    /// it from outside the heap.
    fn root(&self, first: ObjectId) -> PathRoot {
        let snap = self.alive.snapshot();
        let best = snap.roots_of(first).min_by_key(|r| !is_named_root(r.kind));
        match best {
            Some(r) => PathRoot { kind: root_kind_name(r.kind), description: self.namer.describe(r.kind, &r.at) },
            None => PathRoot {
                kind: "excess".to_owned(),
                description: RootDescription {
                    text: format!(
                        "{} at {} (held from outside the heap: refcount excess {})",
                        snap.type_name(first),
                        snap.addr(first),
                        self.alive.excess()[first as usize]
                    ),
                    ..RootDescription::default()
                },
            },
        }
    }

    /// A hash of the shortest path to `id` as [`Paths::path`] finds it: its root (kind and description) and, for
    /// every step, the reference's label (unredacted) and the object's type; `None` when no seed reaches `id`.
    ///
    /// An object keeps its fingerprint from one dump of a process to the next while it stays where the program put
    /// it, so an address that holds an object of the same type in two dumps is the same object only if the
    /// fingerprints agree (`diff`). Fingerprints are memoised along the path in `memo`, so fingerprinting every
    /// object costs one label per object.
    pub fn fingerprint(&self, id: ObjectId, memo: &mut Fingerprints) -> Option<u64> {
        let snap = self.alive.snapshot();
        let n = snap.len();
        let (bfs, memo) = if self.named.distance(id).is_some() {
            (&self.named, &mut memo.named)
        } else if self.all.distance(id).is_some() {
            (&self.all, &mut memo.all)
        } else {
            return None;
        };
        if memo.len() != n {
            *memo = vec![0; n];
        }
        let (parents, edges) = (bfs.parents(), bfs.edges());
        // Climb to the first node already known (or the path's root), then hash back down.
        let mut chain = Vec::new();
        let mut v = id;
        while memo[v as usize] == 0 && chain.len() <= n {
            chain.push(v);
            match parents[v as usize] {
                heapscope_graph::paths::NONE => break,
                p => v = p,
            }
        }
        for &u in chain.iter().rev() {
            let mut h = std::hash::DefaultHasher::new();
            match parents[u as usize] {
                heapscope_graph::paths::NONE => {
                    // An object held from outside the heap is named by its address and its refcount excess, which
                    // may change while it stays the same object: only the kind of root counts.
                    let root = self.root(u);
                    root.kind.hash(&mut h);
                    if root.kind != "excess" {
                        root.description.text.hash(&mut h);
                    }
                }
                p => {
                    memo[p as usize].hash(&mut h);
                    let (label, _) = snap.edge(edges[u as usize] as usize);
                    label_text_with(self.heap, snap.addr(p), label, false).hash(&mut h);
                }
            }
            snap.type_name(u).hash(&mut h);
            // 0 marks "not computed yet".
            memo[u as usize] = h.finish() | 1;
        }
        Some(memo[id as usize])
    }

    /// The length of the shortest path from any seed to `id`, if one reaches it.
    pub fn depth(&self, id: ObjectId) -> Option<u32> {
        self.all.distance(id)
    }

    /// The label of reference `e` (a position in the snapshot's graph) from `owner`, unredacted: what
    /// [`Paths::fingerprint`] hashes.
    pub fn edge_label(&self, owner: ObjectId, e: usize) -> String {
        let snap = self.alive.snapshot();
        label_text_with(self.heap, snap.addr(owner), snap.edge(e).0, false)
    }

    fn report(&self, p: &[PathStep]) -> PathReport {
        let snap = self.alive.snapshot();
        let root = self.root(p[0].node);
        let mut text = root.description.text.clone();
        let mut steps = Vec::with_capacity(p.len());
        let mut prev: Option<ObjectId> = None;
        for s in p {
            let label = match prev {
                Some(owner) if s.edge != heapscope_graph::paths::NONE => {
                    let (l, _) = snap.edge(s.edge as usize);
                    label_text_with(self.heap, snap.addr(owner), l, self.redact)
                }
                _ => String::new(),
            };
            append_label(&mut text, &label);
            steps.push(Step { address: snap.addr(s.node), type_name: snap.type_name(s.node).to_owned(), label });
            prev = Some(s.node);
        }
        PathReport { root, text, steps }
    }
}

/// Appends a reference's label to a path's text: `[k]` and `.attr` as they are, a field name as `.name`, anything
/// else in angle brackets.
fn append_label(text: &mut String, label: &str) {
    if label.is_empty() {
        return;
    }
    if label.starts_with('[') || label.starts_with('.') {
        text.push_str(label);
    } else if label.chars().all(|c| c.is_alphanumeric() || c == '_') {
        text.push('.');
        text.push_str(label);
    } else {
        text.push_str(&format!(" <{label}>"));
    }
}

/// A root kind's snake_case name.
pub(crate) fn root_kind_name(k: RootKind) -> String {
    serde_json::to_value(k).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| format!("{k:?}"))
}

/// `heapscope retained`.
#[derive(Debug, Clone, Serialize)]
pub struct RetainedReport {
    /// The object.
    pub address: Addr,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Objects in its retained set (itself included).
    pub count: u64,
    /// Their `sys.getsizeof` total.
    pub bytes: u64,
    /// Their footprint total.
    pub footprint: u64,
}

impl RetainedReport {
    /// The retained set of `id`.
    pub fn collect(alive: &Alive<'_>, id: ObjectId) -> RetainedReport {
        let snap = alive.snapshot();
        let r = alive.retained();
        RetainedReport {
            address: snap.addr(id),
            type_name: snap.type_name(id).to_owned(),
            count: u64::from(r.count()[id as usize]),
            bytes: r.bytes()[id as usize],
            footprint: r.footprint()[id as usize],
        }
    }
}

impl Report for RetainedReport {
    /// Writes the report for a person.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(
            w,
            "{} at {} retains {} objects: {} bytes ({} MiB), footprint {} bytes ({} MiB).",
            self.type_name,
            self.address,
            count(self.count),
            count(self.bytes),
            mib(self.bytes),
            count(self.footprint),
            mib(self.footprint)
        )
    }
}

/// How `top` orders the owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopBy {
    /// Retained bytes.
    Retained,
    /// The object's own size.
    Size,
    /// Retained count.
    Count,
}

/// One owner of `top`.
#[derive(Debug, Clone, Serialize)]
pub struct Owner {
    /// The object.
    pub address: Addr,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its `sys.getsizeof`.
    pub size: u64,
    /// Objects it retains (itself included).
    pub retained_count: u64,
    /// Their `sys.getsizeof` total.
    pub retained_bytes: u64,
    /// Their footprint total.
    pub retained_footprint: u64,
    /// The shortest path from a root, written the Python way.
    pub path: Option<String>,
    /// With `--depth`: the largest objects it immediately dominates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Owner>,
}

/// `heapscope top`.
#[derive(Debug, Clone, Serialize)]
pub struct TopReport {
    /// Objects reachable from the roots, and their `sys.getsizeof` total.
    pub reachable: (u64, u64),
    /// The owners, largest first.
    pub owners: Vec<Owner>,
}

/// Options of `top`.
#[derive(Debug, Clone)]
pub struct TopOptions {
    /// The order.
    pub by: TopBy,
    /// Only objects of this type (then every such object is a candidate, not only the tops of the tree).
    pub type_name: Option<String>,
    /// Levels of the dominator tree shown below each owner.
    pub depth: usize,
    /// Owners listed (and children per owner).
    pub limit: usize,
}

impl TopReport {
    /// The biggest owners: the tops of the dominator tree (or every object of `--type`), ordered.
    pub fn collect<P: ProcessImage + ?Sized>(
        alive: &Alive<'_>,
        paths: &Paths<'_, '_, '_, P>,
        opts: &TopOptions,
    ) -> TopReport {
        let snap = alive.snapshot();
        let candidates: Vec<ObjectId> = match &opts.type_name {
            Some(t) => (0..snap.len() as ObjectId).filter(|&id| snap.type_name(id) == t).collect(),
            None => alive.tree().top().to_vec(),
        };
        let owners =
            ranked(alive, candidates, opts).into_iter().map(|id| owner(alive, paths, id, opts, opts.depth)).collect();
        let (_, sizes, _) = snap.columns();
        let reach: Vec<ObjectId> =
            (0..snap.len() as ObjectId).filter(|&id| alive.dominators().is_reachable(id)).collect();
        TopReport { reachable: (reach.len() as u64, reach.iter().map(|&id| sizes[id as usize]).sum()), owners }
    }
}

impl Report for TopReport {
    /// Writes the report for a person: one row per owner, children indented.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        let mut t = Table::new(["RETAINED", "COUNT", "SIZE", "ADDRESS", "TYPE", "PATH"]);
        fn rows(t: &mut Table, o: &Owner, indent: usize) {
            t.row([
                count(o.retained_bytes),
                count(o.retained_count),
                count(o.size),
                o.address.to_string(),
                format!("{}{}", "  ".repeat(indent), o.type_name),
                o.path.clone().unwrap_or_default(),
            ]);
            for c in &o.children {
                rows(t, c, indent + 1);
            }
        }
        for o in &self.owners {
            rows(&mut t, o, 0);
        }
        t.write(w)?;
        writeln!(
            w,
            "\n{} objects, {} MiB reachable from the roots and from what is held outside the heap.",
            count(self.reachable.0),
            mib(self.reachable.1)
        )
    }
}

fn ranked(alive: &Alive<'_>, mut ids: Vec<ObjectId>, opts: &TopOptions) -> Vec<ObjectId> {
    let r = alive.retained();
    let (_, sizes, _) = alive.snapshot().columns();
    let key = |id: &ObjectId| -> u64 {
        let i = *id as usize;
        match opts.by {
            TopBy::Retained => r.bytes()[i],
            TopBy::Size => sizes[i],
            TopBy::Count => u64::from(r.count()[i]),
        }
    };
    ids.sort_by(|a, b| key(b).cmp(&key(a)).then(a.cmp(b)));
    ids.truncate(opts.limit);
    ids
}

fn owner<P: ProcessImage + ?Sized>(
    alive: &Alive<'_>,
    paths: &Paths<'_, '_, '_, P>,
    id: ObjectId,
    opts: &TopOptions,
    depth: usize,
) -> Owner {
    let snap = alive.snapshot();
    let r = alive.retained();
    let i = id as usize;
    let children = if depth == 0 {
        Vec::new()
    } else {
        ranked(alive, alive.tree().children(id).to_vec(), opts)
            .into_iter()
            .map(|c| owner(alive, paths, c, opts, depth - 1))
            .collect()
    };
    Owner {
        address: snap.addr(id),
        type_name: snap.type_name(id).to_owned(),
        size: snap.columns().1[i],
        retained_count: u64::from(r.count()[i]),
        retained_bytes: r.bytes()[i],
        retained_footprint: r.footprint()[i],
        path: paths.path(id).map(|p| p.text),
        children,
    }
}

/// `heapscope path`.
#[derive(Debug, Clone, Serialize)]
pub struct PathsReport {
    /// The object.
    pub address: Addr,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its shortest paths from a root, shortest first (empty: nothing alive reaches it, it is garbage).
    pub paths: Vec<PathReport>,
}

impl PathsReport {
    /// Up to `k` paths to `id`.
    pub fn collect<P: ProcessImage + ?Sized>(
        paths: &Paths<'_, '_, '_, P>,
        snap: &Snapshot,
        id: ObjectId,
        k: usize,
    ) -> Self {
        PathsReport { address: snap.addr(id), type_name: snap.type_name(id).to_owned(), paths: paths.paths(id, k) }
    }
}

impl Report for PathsReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::Dot];

    /// Writes the report for a person: each path as one line, then its steps.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        if self.paths.is_empty() {
            return writeln!(
                w,
                "No root reaches the {} at {}: nothing keeps it alive (see `heapscope garbage`).",
                self.type_name, self.address
            );
        }
        for (i, p) in self.paths.iter().enumerate() {
            writeln!(w, "{}. {} ({})", i + 1, p.text, p.root.kind)?;
            let mut t = Table::new(["ADDRESS", "TYPE", "LABEL"]);
            for s in &p.steps {
                t.row([s.address.to_string(), s.type_name.clone(), s.label.clone()]);
            }
            t.write(w)?;
            writeln!(w)?;
        }
        Ok(())
    }

    /// Writes the paths as a Graphviz digraph (see `cycles.rs`).
    fn write_dot(&self, w: &mut dyn Write) -> io::Result<()> {
        self.draw(w)
    }
}

/// A leak root: held from outside the heap.
#[derive(Debug, Clone, Serialize)]
pub struct LeakRoot {
    /// The object.
    pub address: Addr,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its refcount.
    pub refcount: i64,
    /// Strong references to it from objects of the heap.
    pub referrers: u64,
    /// References nothing in the heap accounts for.
    pub excess: u64,
    /// What it retains.
    pub retained_bytes: u64,
}

/// The point where a suspect's memory accumulates.
#[derive(Debug, Clone, Serialize)]
pub struct Accumulation {
    /// The object.
    pub address: Addr,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// What it retains.
    pub retained_bytes: u64,
    /// How it is reached from a root.
    pub path: Option<String>,
}

/// A leak suspect.
#[derive(Debug, Clone, Serialize)]
pub struct Suspect {
    /// The object.
    pub address: Addr,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// What it retains.
    pub retained_bytes: u64,
    /// Its share of the reachable heap's bytes.
    pub share: f64,
    /// Where its retained memory accumulates: the largest child, followed while it holds at least 70 % of its
    /// parent's.
    pub accumulation: Accumulation,
    /// How the suspect is reached from a root.
    pub path: Option<String>,
}

/// Suspects of one type.
#[derive(Debug, Clone, Serialize)]
pub struct SuspectType {
    /// The type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Suspects of the type.
    pub count: u64,
    /// Their retained bytes.
    pub retained_bytes: u64,
}

/// `heapscope leaks`.
#[derive(Debug, Clone, Serialize)]
pub struct LeaksReport {
    /// Objects held from outside the heap that no root explains: no referrer at all first, then by retained bytes.
    pub roots: Vec<LeakRoot>,
    /// All such objects (`roots` may be cut by `--limit`).
    pub roots_total: u64,
    /// Dominator-tree nodes retaining more than the threshold share of the reachable heap, highest ones only.
    pub suspects: Vec<Suspect>,
    /// The suspects grouped by type.
    pub suspect_types: Vec<SuspectType>,
    /// The share of the reachable heap a suspect retains at least.
    pub threshold: f64,
}

/// How far the accumulation point descends: while the largest child holds at least this share of its parent.
const ACCUMULATION_RATIO: f64 = 0.7;

impl LeaksReport {
    /// Leak roots and suspects.
    pub fn collect<P: ProcessImage + ?Sized>(
        alive: &Alive<'_>,
        paths: &Paths<'_, '_, '_, P>,
        threshold: f64,
        limit: usize,
    ) -> LeaksReport {
        let snap = alive.snapshot();
        let r = alive.retained();
        let mut roots: Vec<LeakRoot> = (0..snap.len() as ObjectId)
            .filter(|&id| alive.excess()[id as usize] > 0 && alive.root_refs()[id as usize] == 0)
            .map(|id| {
                let i = id as usize;
                LeakRoot {
                    address: snap.addr(id),
                    type_name: snap.type_name(id).to_owned(),
                    refcount: snap.refcounts()[i],
                    referrers: u64::from(alive.strong_referrers()[i]),
                    excess: alive.excess()[i],
                    retained_bytes: r.bytes()[i],
                }
            })
            .collect();
        roots.sort_by(|a, b| {
            (a.referrers > 0)
                .cmp(&(b.referrers > 0))
                .then(b.retained_bytes.cmp(&a.retained_bytes))
                .then(a.address.cmp(&b.address))
        });
        let roots_total = roots.len() as u64;
        roots.truncate(limit);

        let (_, sizes, _) = snap.columns();
        let total: u64 = (0..snap.len() as ObjectId)
            .filter(|&id| alive.dominators().is_reachable(id))
            .map(|id| sizes[id as usize])
            .sum();
        let min = (threshold * total as f64).ceil() as u64;
        // The highest nodes above the threshold: the tops of the dominator tree that retain enough (their
        // descendants retain less than they do, and their accumulation points say where it gathers).
        let mut suspects_ids: Vec<ObjectId> =
            alive.tree().top().iter().copied().filter(|&v| r.bytes()[v as usize] >= min).collect();
        suspects_ids.sort_by(|a, b| r.bytes()[*b as usize].cmp(&r.bytes()[*a as usize]).then(a.cmp(b)));
        let mut by_type: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let suspects: Vec<Suspect> = suspects_ids
            .iter()
            .map(|&id| {
                let acc = accumulation(alive, id);
                let e = by_type.entry(snap.type_name(id).to_owned()).or_default();
                e.0 += 1;
                e.1 += r.bytes()[id as usize];
                Suspect {
                    address: snap.addr(id),
                    type_name: snap.type_name(id).to_owned(),
                    retained_bytes: r.bytes()[id as usize],
                    share: r.bytes()[id as usize] as f64 / total.max(1) as f64,
                    accumulation: Accumulation {
                        address: snap.addr(acc),
                        type_name: snap.type_name(acc).to_owned(),
                        retained_bytes: r.bytes()[acc as usize],
                        path: paths.path(acc).map(|p| p.text),
                    },
                    path: paths.path(id).map(|p| p.text),
                }
            })
            .collect();
        let mut suspect_types: Vec<SuspectType> =
            by_type.into_iter().map(|(t, (c, b))| SuspectType { type_name: t, count: c, retained_bytes: b }).collect();
        suspect_types.sort_by(|a, b| b.retained_bytes.cmp(&a.retained_bytes).then(a.type_name.cmp(&b.type_name)));
        LeaksReport { roots, roots_total, suspects, suspect_types, threshold }
    }
}

impl Report for LeaksReport {
    /// Writes the report for a person.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(
            w,
            "Leak roots: {} objects are held from outside the heap by references no root or object accounts for.",
            count(self.roots_total)
        )?;
        let mut t = Table::new(["ADDRESS", "TYPE", "REFCOUNT", "REFERRERS", "EXCESS", "RETAINED"]);
        for r in &self.roots {
            t.row([
                r.address.to_string(),
                r.type_name.clone(),
                r.refcount.to_string(),
                count(r.referrers),
                count(r.excess),
                count(r.retained_bytes),
            ]);
        }
        t.write(w)?;
        writeln!(w, "\nLeak suspects (retaining more than {:.0} % of the reachable heap):", 100.0 * self.threshold)?;
        for s in &self.suspects {
            writeln!(
                w,
                "- {} at {} retains {} MiB ({:.1} %); accumulates in the {} at {} ({} MiB){}",
                s.type_name,
                s.address,
                mib(s.retained_bytes),
                100.0 * s.share,
                s.accumulation.type_name,
                s.accumulation.address,
                mib(s.accumulation.retained_bytes),
                s.accumulation.path.as_deref().map(|p| format!(", reached as {p}")).unwrap_or_default()
            )?;
        }
        Ok(())
    }
}

/// The accumulation point below `v`: follow the child with the largest retained bytes while it holds at least
/// [`ACCUMULATION_RATIO`] of its parent's.
fn accumulation(alive: &Alive<'_>, mut v: ObjectId) -> ObjectId {
    let bytes = alive.retained().bytes();
    loop {
        let Some(&c) = alive.tree().children(v).iter().max_by_key(|&&c| (bytes[c as usize], std::cmp::Reverse(c)))
        else {
            return v;
        };
        if (bytes[c as usize] as f64) < ACCUMULATION_RATIO * bytes[v as usize] as f64 {
            return v;
        }
        v = c;
    }
}
