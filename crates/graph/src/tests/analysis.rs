//! Hand-checked examples of the analyses, their errors, and ten-million-node chains that would overflow any recursive
//! implementation's stack.

use crate::{strongly_connected_components, Csr};

#[test]
fn scc_of_a_small_graph_in_reverse_topological_order() {
    // 0 → 1 → 2 → 0 (a cycle), 2 → 3, 3 → 3 (self-loop), 3 → 4, 5 alone.
    let g = Csr::from_edges(6, &[(0, 1), (1, 2), (2, 0), (2, 3), (3, 3), (3, 4)]).unwrap();
    let s = strongly_connected_components(&g, |_| true);
    assert_eq!(s.num_components(), 4);
    // DFS from 0 completes {4}, then {3}, then {0, 1, 2}; 5 comes last.
    assert_eq!(s.components(), &[2, 2, 2, 1, 0, 3]);
    assert_eq!(s.members(2), &[0, 1, 2]);
    assert_eq!(s.size(2), 3);
    assert!(s.is_cycle(2) && s.is_cycle(1) && !s.is_cycle(0) && !s.is_cycle(3) && !s.is_cycle(99));
    assert_eq!(s.member_offsets(), &[0, 1, 2, 5, 6]);
    assert_eq!(s.all_members(), &[4, 3, 0, 1, 2, 5]);
    // Ignoring the edge 2 → 0 (position 2) breaks the cycle; ignoring 3 → 3 (position 4) the self-loop.
    let s = strongly_connected_components(&g, |e| e != 2 && e != 4);
    assert_eq!(s.num_components(), 6);
    assert!((0..6).all(|c| !s.is_cycle(c)));
}

#[test]
fn scc_of_empty_graphs() {
    let s = strongly_connected_components(&Csr::default(), |_| true);
    assert_eq!((s.num_components(), s.components().len(), s.members(0)), (0, 0, &[][..]));
    let s = strongly_connected_components(&Csr::empty(3).unwrap(), |_| true);
    assert_eq!(s.num_components(), 3);
}

/// A chain 0 → 1 → … → n − 1: as deep as a graph gets. Release builds only: a debug build takes minutes.
fn chain(n: u32, back_edge: bool) -> Csr {
    let degrees: Vec<u32> = (0..n).map(|i| u32::from(i + 1 < n || back_edge)).collect();
    let (g, _) = Csr::from_fill::<(), _>(&degrees, |u, ts, _| ts.iter_mut().for_each(|t| *t = (u + 1) % n)).unwrap();
    g
}

const DEEP: u32 = 10_000_000;

#[test]
#[cfg_attr(debug_assertions, ignore = "ten million nodes: run with --release")]
fn ten_million_node_chain_sccs() {
    let g = chain(DEEP, false);
    let s = strongly_connected_components(&g, |_| true);
    assert_eq!(s.num_components(), DEEP as usize);
    // Reverse topological: the end of the chain completes first.
    assert_eq!((s.component_of(DEEP - 1), s.component_of(0)), (0, DEEP - 1));
    let g = chain(DEEP, true);
    let s = strongly_connected_components(&g, |_| true);
    assert!(s.num_components() == 1 && s.is_cycle(0) && s.size(0) == DEEP as usize);
}
