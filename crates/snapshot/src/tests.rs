//! Unit tests of the snapshot's graph-side logic on hand-made graphs (the decoding itself is tested on the fixture
//! cores, in tests/heap.rs).

use heapscope_graph::Csr;

use super::categories::{categorize, Category};
use super::labels::EdgeWord;
use super::{flag, SnapshotRoot};
use heapscope_cpython::heap::roots::{RootKind, RootWhere};
use heapscope_cpython::heap::RefKind;

fn root(id: u32, kind: RootKind) -> SnapshotRoot {
    SnapshotRoot { id, kind, at: RootWhere::Symbol("test") }
}

/// Builds a graph from `(source, target, kind)` edges, keeping their order per source.
fn graph(n: usize, edges: &[(u32, u32, RefKind)]) -> (Csr, Vec<EdgeWord>) {
    Csr::from_adjacency_with(n, |u, out| {
        out.extend(edges.iter().filter(|e| e.0 == u).map(|&(_, t, k)| (t, EdgeWord::new(k, 0))));
    })
    .unwrap()
}

#[test]
fn every_rule_in_order() {
    use RefKind::{Hidden, Traverse, Weak};
    // 0: on a GC list → 1 (traverse) → 2 (hidden) → 3 (traverse, but only reachable through the hidden edge)
    // 4: held by a running frame; 5: a module root → 6; 7: a runtime static; 8: weakly referenced by 0
    // 9: unreferenced → 10; 11: interned str, unreferenced; 12 ↔ 13: a cycle nothing else references;
    // 14: in the permanent generation → 15 (traverse).
    let edges = [
        (0, 1, Traverse),
        (1, 2, Hidden),
        (2, 3, Traverse),
        (5, 6, Traverse),
        (0, 8, Weak),
        (9, 10, Traverse),
        (12, 13, Traverse),
        (13, 12, Traverse),
        (6, 1, Traverse), // a C root that also reaches GC-closure objects: they keep their first category
        (14, 15, Traverse),
        (14, 0, Traverse),
    ];
    let (g, words) = graph(16, &edges);
    let mut flags = vec![flag::DECODED; 16];
    flags[0] |= flag::ON_GC_LIST;
    flags[14] |= flag::ON_GC_LIST | flag::PERMANENT;
    let roots = [root(4, RootKind::FrameRef), root(5, RootKind::Module), root(7, RootKind::RuntimeStatic)];
    let cats = categorize(&g, &words, &flags, &roots, |id| id == 11);
    use Category::*;
    let want = [
        GcClosure,
        GcClosure,
        HiddenRef,
        HiddenRef,
        GcClosure,
        CRoot,
        CRoot,
        RuntimeStatic,
        WeakOnly,
        Unreferenced,
        FromUnreferenced,
        InternedOnly,
        FromUnreferenced,
        FromUnreferenced,
        Permanent,
        Permanent,
    ];
    assert_eq!(cats, want);
}

#[test]
fn empty_snapshot() {
    let (g, words) = graph(0, &[]);
    assert!(categorize(&g, &words, &[], &[], |_| false).is_empty());
}
