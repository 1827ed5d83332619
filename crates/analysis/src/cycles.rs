//! Reference cycles: the strongly connected components of the references that keep objects alive.
//!
//! A cycle is a component of more than one object, or one object that references itself. Live cycles are normal
//! (a class, its dict and its functions; a module and its globals); cycles among the garbage are what
//! `gc.collect()` exists for.

use heapscope_cpython::heap::RefKind;
use heapscope_graph::{strongly_connected_components, Sccs};
use heapscope_snapshot::{ObjectId, Snapshot};

use crate::alive::Alive;

/// The components of the live references ([`Alive::is_live_edge`]).
pub fn live_components(alive: &Alive<'_>) -> Sccs {
    strongly_connected_components(alive.snapshot().graph(), |e| alive.is_live_edge(e))
}

/// The components of the `tp_traverse` references among `garbage` (sorted ids): exactly the cycles a collection
/// finds there; every other object is a component of its own.
pub fn garbage_components(snap: &Snapshot, garbage: &[ObjectId]) -> Sccs {
    let mut in_garbage = heapscope_graph::reach::NodeSet::new(snap.len());
    for &id in garbage {
        in_garbage.insert(id);
    }
    let targets = snap.graph().targets();
    strongly_connected_components(snap.graph(), |e| {
        snap.edge_kind(e) == RefKind::Traverse && in_garbage.contains(targets[e])
    })
}

/// The cycles of `sccs` (ids of the components that are cycles), largest first.
pub fn cycles_of(sccs: &Sccs) -> Vec<u32> {
    let mut c: Vec<u32> = (0..sccs.num_components() as u32).filter(|&c| sccs.is_cycle(c)).collect();
    c.sort_by(|a, b| sccs.size(*b).cmp(&sccs.size(*a)).then(a.cmp(b)));
    c
}
