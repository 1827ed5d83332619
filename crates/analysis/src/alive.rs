//! Why each object is alive: the dominator tree of the strong references below a virtual root, and the retained
//! sizes it gives.
//!
//! The virtual root points at every root of the snapshot (the modules table, running frames, thread dicts, static
//! objects, …) and at every object with a refcount excess ([`crate::strong`]): something outside the graph (C code,
//! a C stack, a leak) holds it. Roots found by a conservative scan of C memory ([`is_conservative`]) only say who
//! holds an object with an excess; they are not seeds. Edges are the strong references ([`crate::strong::is_strong`]), except those of
//! the interned-strings table: CPython does not count them in a mortal interned string's refcount, so they keep
//! nothing alive.
//!
//! The *retained set* of X is what would become unreachable if X were gone: X's subtree in the dominator tree.
//! Retained bytes sum `sys.getsizeof` over it, the retained footprint the memory really occupied.

use heapscope_cpython::heap::roots::RootKind;
use heapscope_graph::reach::NodeSet;
use heapscope_graph::{
    dominators, retained, set_retained, DominatorTree, Dominators, GraphError, Retained, SetRetained, Transposed,
};
use heapscope_snapshot::{ObjectId, Snapshot};

use crate::strong::{is_strong, refcount_excess, strong_in_degrees};

/// The liveness analyses of one snapshot: refcount excess, dominators and retained sizes.
#[derive(Debug)]
pub struct Alive<'s> {
    snap: &'s Snapshot,
    live: EdgeSet,
    in_degrees: Vec<u32>,
    excess: Vec<u64>,
    root_refs: Vec<u32>,
    seeds: Vec<ObjectId>,
    transposed: Transposed,
    dom: Dominators,
    retained: Retained,
    tree: DominatorTree,
}

/// What keeps objects alive, without the dominator tree: the live edges, refcount excess and the seeds. Enough for
/// reachability questions and the retained sets of whole groups ([`group_retained`]); [`Alive`] adds dominators.
#[derive(Debug)]
pub struct Liveness {
    live: EdgeSet,
    in_degrees: Vec<u32>,
    excess: Vec<u64>,
    root_refs: Vec<u32>,
    seeds: Vec<ObjectId>,
}

impl Liveness {
    /// The live edges, refcount excess and seeds of `snap`.
    pub fn new(snap: &Snapshot) -> Liveness {
        let n = snap.len();
        // Sources whose references CPython does not count: the interned-strings tables.
        let mut not_counted = NodeSet::new(n);
        let mut root_refs = vec![0u32; n];
        for r in snap.roots() {
            if r.kind == RootKind::Interned {
                not_counted.insert(r.id);
            }
            root_refs[r.id as usize] = root_refs[r.id as usize].saturating_add(1);
        }
        let in_degrees = strong_in_degrees(snap);
        let excess = refcount_excess(snap, &in_degrees);
        // Roots found by a conservative scan (words of static data, of interpreter and thread states) may be stale
        // or borrowed: they explain a refcount excess (below) but add no seed of their own, so a stale word cannot
        // lift an object out of its owner's retained set.
        let mut seeds: Vec<ObjectId> = snap.roots().iter().filter(|r| !is_conservative(r.kind)).map(|r| r.id).collect();
        seeds.extend((0..n as ObjectId).filter(|&id| excess[id as usize] > 0));
        seeds.sort_unstable();
        seeds.dedup();
        let live = EdgeSet::live_edges(snap, &not_counted);
        Liveness { live, in_degrees, excess, root_refs, seeds }
    }

    /// True when edge `e` keeps its target alive (see the module documentation).
    pub fn is_live_edge(&self, e: usize) -> bool {
        self.live.contains(e)
    }

    /// The objects the virtual root points at: the roots and the objects with a refcount excess, ascending.
    pub fn seeds(&self) -> &[ObjectId] {
        &self.seeds
    }
}

/// The retained count, bytes and footprint of each of `groups` (disjoint sets of objects) taken as a whole: what
/// would be freed if every object of the group were gone at once — not the sum of the members' own retained sets.
/// Groups are computed in the order given until the searches have visited `budget` objects in all; the later ones
/// are `None`.
pub fn group_retained(
    snap: &Snapshot,
    liveness: &Liveness,
    groups: &[Vec<ObjectId>],
    budget: u64,
) -> Result<Vec<Option<SetRetained>>, GraphError> {
    let (_, sizes, footprints) = snap.columns();
    set_retained(snap.graph(), &liveness.seeds, |e| liveness.live.contains(e), groups, sizes, footprints, budget)
}

impl<'s> Alive<'s> {
    /// Runs the analyses on `snap`.
    pub fn new(snap: &'s Snapshot) -> Result<Alive<'s>, GraphError> {
        let Liveness { live, in_degrees, excess, root_refs, seeds } = Liveness::new(snap);
        let g = snap.graph();
        let transposed = g.transpose_with_positions();
        let dom = dominators(g, &transposed, seeds.iter().copied(), |e| live.contains(e))?;
        let (_, sizes, footprints) = snap.columns();
        let retained = retained(&dom, sizes, footprints)?;
        let tree = DominatorTree::new(&dom);
        Ok(Alive { snap, live, in_degrees, excess, root_refs, seeds, transposed, dom, retained, tree })
    }

    /// The snapshot analysed.
    pub fn snapshot(&self) -> &'s Snapshot {
        self.snap
    }

    /// True when edge `e` keeps its target alive (see the module documentation).
    pub fn is_live_edge(&self, e: usize) -> bool {
        self.live.contains(e)
    }

    /// Per object: the strong references to it from objects of the snapshot.
    pub fn strong_referrers(&self) -> &[u32] {
        &self.in_degrees
    }

    /// Per object: its refcount minus its strong referrers (0 for immortal objects).
    pub fn excess(&self) -> &[u64] {
        &self.excess
    }

    /// Per object: how many roots hold it.
    pub fn root_refs(&self) -> &[u32] {
        &self.root_refs
    }

    /// The objects the virtual root points at: the roots and the objects with a refcount excess, ascending.
    pub fn seeds(&self) -> &[ObjectId] {
        &self.seeds
    }

    /// The snapshot's graph transposed, with each reversed edge's forward position.
    pub fn transposed(&self) -> &Transposed {
        &self.transposed
    }

    /// The dominators.
    pub fn dominators(&self) -> &Dominators {
        &self.dom
    }

    /// The dominator tree.
    pub fn tree(&self) -> &DominatorTree {
        &self.tree
    }

    /// Retained count, bytes and footprint per object.
    pub fn retained(&self) -> &Retained {
        &self.retained
    }
}

/// Roots found by a conservative scan of C memory.
pub fn is_conservative(kind: RootKind) -> bool {
    matches!(kind, RootKind::CGlobal | RootKind::InterpreterState | RootKind::ThreadState | RootKind::CStack)
}

/// A set of edge positions (one bit per edge).
#[derive(Debug, Clone)]
struct EdgeSet {
    words: Vec<u64>,
}

impl EdgeSet {
    /// The edges that keep their target alive: strong, and not from a source in `not_counted`.
    fn live_edges(snap: &Snapshot, not_counted: &NodeSet) -> EdgeSet {
        let g = snap.graph();
        let mut words = vec![0u64; g.num_edges().div_ceil(64)];
        for src in 0..snap.len() as ObjectId {
            if not_counted.contains(src) {
                continue;
            }
            for e in g.edge_range(src) {
                if is_strong(snap.edge_kind(e)) {
                    words[e / 64] |= 1 << (e % 64);
                }
            }
        }
        EdgeSet { words }
    }

    #[inline]
    fn contains(&self, e: usize) -> bool {
        self.words.get(e / 64).is_some_and(|w| w & (1 << (e % 64)) != 0)
    }
}
