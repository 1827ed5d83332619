//! [`Category`]: why each object of a snapshot is alive, relative to what the garbage collector sees.
//!
//! `gc.get_objects()` plus `gc.get_referents()` (and the running frames, which the GC does not list) find the
//! [`Category::GcClosure`]. Everything else a snapshot holds was found another way, and its category says which,
//! by the first rule that reaches it:
//!
//! 1. [`Category::GcClosure`]: on a GC list (generations 0–2) or held by a running frame, or reachable from those
//!    through `tp_traverse` references.
//! 2. [`Category::Permanent`]: in the permanent generation (`gc.freeze()`, 3.12's immortal tuples of static types),
//!    which `gc.get_objects()` does not list, or reachable from it through `tp_traverse` references.
//! 3. [`Category::HiddenRef`]: reachable from (1)–(2) through strong references `tp_traverse` does not report (a
//!    str dict's keys, a code object's constants, …).
//! 4. [`Category::CRoot`]: reachable only from C-level roots (modules table, static types, singletons, …), and the
//!    interned-strings table itself (not what it holds: see 7).
//! 5. [`Category::RuntimeStatic`]: a statically allocated object inside `_PyRuntime` (3.11+), or reachable only from
//!    one, that no other object references.
//! 6. [`Category::WeakOnly`]: reachable only through a weak reference.
//! 7. [`Category::InternedOnly`]: an interned str referenced by nothing above but the interned-strings table.
//! 8. [`Category::Unreferenced`]: referenced by no object of the snapshot (pymalloc blocks that only C code holds,
//!    leaked objects, freelist members).
//! 9. [`Category::FromUnreferenced`]: reachable only from (7)–(8), or only from one another.
//!
//! Each rule is a breadth-first search over the part of the graph the earlier rules did not reach, so the whole
//! classification costs about one traversal of the graph.

use heapscope_graph::reach::{reachable_avoiding, NodeSet};
use heapscope_graph::{Csr, NodeId};
use rayon::prelude::*;

use super::labels::EdgeWord;
use super::{flag, ObjectId, SnapshotRoot};
use heapscope_cpython::heap::roots::RootKind;
use heapscope_cpython::heap::RefKind;

/// Why an object is alive, relative to the GC's view (see the module documentation for the rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// On a GC list or held by a running frame, or reachable from those through `tp_traverse` references: what
    /// `gc.get_objects()` and `gc.get_referents()` find.
    GcClosure,
    /// In the permanent generation (`gc.freeze()`; 3.12's immortal tuples of static types), which
    /// `gc.get_objects()` does not list, or reachable from it through `tp_traverse` references.
    Permanent,
    /// Reachable from the GC closure only through references `tp_traverse` does not report.
    HiddenRef,
    /// Reachable only from C-level roots (the modules table, static types, singletons, thread dicts).
    CRoot,
    /// A static object inside `_PyRuntime` (or reachable only from one) that no heap object references.
    RuntimeStatic,
    /// Reachable only through a weak reference.
    WeakOnly,
    /// An interned str that only the interned-strings table holds.
    InternedOnly,
    /// Referenced by no object of the snapshot.
    Unreferenced,
    /// Reachable only from unreferenced objects.
    FromUnreferenced,
}

impl Category {
    /// Every category, in rule order.
    pub const ALL: [Category; 9] = [
        Category::GcClosure,
        Category::Permanent,
        Category::HiddenRef,
        Category::CRoot,
        Category::RuntimeStatic,
        Category::WeakOnly,
        Category::InternedOnly,
        Category::Unreferenced,
        Category::FromUnreferenced,
    ];

    /// The snake_case name used in JSON and tables.
    pub fn name(self) -> &'static str {
        match self {
            Category::GcClosure => "gc_closure",
            Category::Permanent => "permanent",
            Category::HiddenRef => "hidden_ref",
            Category::CRoot => "c_root",
            Category::RuntimeStatic => "runtime_static",
            Category::WeakOnly => "weak_only",
            Category::InternedOnly => "interned_only",
            Category::Unreferenced => "unreferenced",
            Category::FromUnreferenced => "from_unreferenced",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Classifies every object. `is_interned_str(id)` tells whether an object is an interned str (asked only for the
/// objects rules 1–5 did not reach).
pub(crate) fn categorize(
    graph: &Csr,
    edges: &[EdgeWord],
    flags: &[u8],
    roots: &[SnapshotRoot],
    is_interned_str: impl Fn(ObjectId) -> bool + Sync,
) -> Vec<Category> {
    let n = graph.num_nodes();
    let mut out = vec![Category::Unreferenced; n];
    let mut done = NodeSet::new(n);
    let strong = |e: usize| edges[e].kind() != RefKind::Weak;
    let traverse = |e: usize| edges[e].kind() == RefKind::Traverse;

    let listed = |i: NodeId, permanent: bool| {
        let f = flags[i as usize];
        f & flag::ON_GC_LIST != 0 && (f & flag::PERMANENT != 0) == permanent
    };
    let gc_seeds =
        (0..n as NodeId).filter(|&i| listed(i, false)).chain(roots.iter().filter(|r| r.kind.is_frame()).map(|r| r.id));
    let found = reachable_avoiding(graph, gc_seeds, None, traverse);
    assign(&mut out, &mut done, &found, Category::GcClosure);

    let frozen = (0..n as NodeId).filter(|&i| listed(i, true));
    let found = reachable_avoiding(graph, frozen, Some(&done), traverse);
    assign(&mut out, &mut done, &found, Category::Permanent);

    let hidden = frontier(graph, &done, strong);
    let found = reachable_avoiding(graph, hidden, Some(&done), strong);
    assign(&mut out, &mut done, &found, Category::HiddenRef);

    let c_root = |k: RootKind| !k.is_frame() && k != RootKind::RuntimeStatic && k != RootKind::Interned;
    let c_roots = roots.iter().filter(|r| c_root(r.kind)).map(|r| r.id);
    let found = reachable_avoiding(graph, c_roots, Some(&done), strong);
    assign(&mut out, &mut done, &found, Category::CRoot);
    // The interned-strings table is a C root itself; the strs only it holds are `InternedOnly` (rule 7).
    for r in roots.iter().filter(|r| r.kind == RootKind::Interned) {
        if !done.contains(r.id) {
            out[r.id as usize] = Category::CRoot;
            done.insert(r.id);
        }
    }

    let statics = roots.iter().filter(|r| r.kind == RootKind::RuntimeStatic).map(|r| r.id);
    let found = reachable_avoiding(graph, statics, Some(&done), strong);
    assign(&mut out, &mut done, &found, Category::RuntimeStatic);

    let weak = frontier(graph, &done, |_| true);
    let found = reachable_avoiding(graph, weak, Some(&done), |_| true);
    assign(&mut out, &mut done, &found, Category::WeakOnly);

    // What is left is referenced only by what is left: an object with no referrer there has none at all.
    let mut referenced = NodeSet::new(n);
    for u in (0..n as NodeId).filter(|&u| !done.contains(u)) {
        for &v in graph.neighbors(u) {
            referenced.insert(v);
        }
    }
    let left: Vec<NodeId> = (0..n as NodeId).filter(|&u| !done.contains(u)).collect();
    let interned: Vec<NodeId> = left.par_iter().copied().filter(|&u| is_interned_str(u)).collect();
    for &u in &interned {
        out[u as usize] = Category::InternedOnly;
        done.insert(u);
    }
    let sources = left.iter().copied().filter(|&u| !done.contains(u) && !referenced.contains(u));
    let found = reachable_avoiding(graph, sources, Some(&done), |_| true);
    for u in found.iter() {
        out[u as usize] = if referenced.contains(u) { Category::FromUnreferenced } else { Category::Unreferenced };
        done.insert(u);
    }
    for u in left {
        if !done.contains(u) {
            // Only in cycles of objects nothing else references.
            out[u as usize] = Category::FromUnreferenced;
        }
    }
    out
}

/// Marks the members of `found` as `cat`.
fn assign(out: &mut [Category], done: &mut NodeSet, found: &NodeSet, cat: Category) {
    for u in found.iter() {
        out[u as usize] = cat;
        done.insert(u);
    }
}

/// The nodes outside `done` that an accepted edge from a node of `done` reaches.
fn frontier(graph: &Csr, done: &NodeSet, follow: impl Fn(usize) -> bool + Sync) -> Vec<NodeId> {
    let mut v: Vec<NodeId> = (0..graph.num_nodes() as NodeId)
        .into_par_iter()
        .filter(|&u| done.contains(u))
        .flat_map_iter(|u| {
            let range = graph.edge_range(u);
            let base = range.start;
            let follow = &follow;
            graph.targets()[range]
                .iter()
                .enumerate()
                .filter(move |&(k, &t)| !done.contains(t) && follow(base + k))
                .map(|(_, &t)| t)
        })
        .collect();
    v.par_sort_unstable();
    v.dedup();
    v
}
