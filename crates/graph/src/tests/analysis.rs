//! Hand-checked examples of the analyses, their errors, and ten-million-node chains that would overflow any recursive
//! implementation's stack.

use crate::dominators::{UNREACHABLE, VIRTUAL_ROOT};
use crate::paths::NONE;
use crate::{
    dominators, retained, shortest_paths, strongly_connected_components, Csr, DominatorTree, GraphError, NodeId,
    PathStep,
};

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
    assert_eq!(s.clone().into_components(), s.components());
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

#[test]
fn dominators_of_a_diamond_and_a_second_root() {
    // 0 → 1, 0 → 2, 1 → 3, 2 → 3, 3 → 4; root 0. Root 5 → 4 as well. 6 is unreachable.
    let g = Csr::from_edges(7, &[(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (5, 4)]).unwrap();
    let gt = g.transpose_with_positions();
    let dom = dominators(&g, &gt, [0], |_| true).unwrap();
    assert_eq!(dom.idom(), &[VIRTUAL_ROOT, 0, 0, 0, 3, UNREACHABLE, UNREACHABLE]);
    assert_eq!(dom.preorder(), &[0, 1, 3, 4, 2]);
    assert!(dom.dominates(0, 4) && dom.dominates(3, 4) && dom.dominates(4, 4) && !dom.dominates(1, 4));
    assert_eq!(
        (dom.immediate_dominator(4), dom.immediate_dominator(0), dom.immediate_dominator(6)),
        (Some(3), None, None)
    );
    assert_eq!(dom.num_reachable(), 5);
    assert_eq!(dom.clone().into_parts(), (dom.idom().to_vec(), dom.preorder().to_vec()));

    let dom = dominators(&g, &gt, [0, 5, 5, 99], |_| true).unwrap();
    assert_eq!(dom.idom(), &[VIRTUAL_ROOT, 0, 0, 0, VIRTUAL_ROOT, VIRTUAL_ROOT, UNREACHABLE]);
    // Without the edge 1 → 3 (position 2), 2 alone leads to 3.
    let dom = dominators(&g, &gt, [0], |e| e != 2).unwrap();
    assert_eq!(&dom.idom()[..5], &[VIRTUAL_ROOT, 0, 0, 2, 3]);

    let size = [10, 1, 2, 3, 4, 5, 6];
    let ret = retained(&dom, &size, &size.map(|s| s * 2)).unwrap();
    assert_eq!(ret.count(), &[5, 1, 3, 2, 1, 1, 1]);
    assert_eq!(ret.bytes(), &[20, 1, 9, 7, 4, 5, 6]);
    assert_eq!(ret.footprint(), &[40, 2, 18, 14, 8, 10, 12]);
    let tree = DominatorTree::new(&dom);
    assert_eq!(
        (tree.top(), tree.children(0), tree.children(2), tree.children(6)),
        (&[0][..], &[1, 2][..], &[3][..], &[][..])
    );
    assert_eq!(tree.depths(), &[1, 2, 2, 3, 4, UNREACHABLE, UNREACHABLE]);
    assert_eq!(tree.children(99), &[] as &[NodeId]);
}

#[test]
fn analyses_reject_mismatched_inputs() {
    let g = Csr::from_edges(3, &[(0, 1), (1, 2)]).unwrap();
    let other = Csr::from_edges(3, &[(0, 1)]).unwrap().transpose_with_positions();
    let err = dominators(&g, &other, [0], |_| true).unwrap_err();
    assert_eq!(err, GraphError::TransposeMismatch { nodes: 3, edges: 2, transposed_nodes: 3, transposed_edges: 1 });
    let sp = shortest_paths(&g, [0], |_| true);
    assert!(matches!(sp.paths_to(&other, 2, 3, |_| true), Err(GraphError::TransposeMismatch { .. })));
    let dom = dominators(&g, &g.transpose_with_positions(), [7], |_| true).unwrap();
    assert_eq!(dom.idom(), &[UNREACHABLE; 3]);
    let err = retained(&dom, &[1, 2], &[1, 2, 3]).unwrap_err();
    assert_eq!(err, GraphError::WrongLength { what: "size", len: 2, expected: 3 });
}

#[test]
fn shortest_paths_and_alternatives() {
    // 0 → 1 → 3, 0 → 2 → 3, 4 → 3 (4 is a second root), 3 → 3, 0 → 5 → 6 → 3.
    let g = Csr::from_edges(7, &[(0, 1), (0, 2), (0, 5), (1, 3), (2, 3), (3, 3), (4, 3), (5, 6), (6, 3)]).unwrap();
    let sp = shortest_paths(&g, [0, 4, 4], |_| true);
    assert_eq!(sp.distances(), &[0, 1, 1, 1, 0, 1, 2]);
    assert_eq!(sp.path_to(3), vec![PathStep { node: 4, edge: NONE }, PathStep { node: 3, edge: 6 }]);
    assert_eq!(sp.path_to(0), vec![PathStep { node: 0, edge: NONE }]);
    assert_eq!(sp.parents()[3], 4);
    let (parents, edges, distances) = sp.clone().into_parts();
    assert_eq!((&parents[..], &edges[..], &distances[..]), (sp.parents(), sp.edges(), sp.distances()));
    let gt = g.transpose_with_positions();
    let paths = sp.paths_to(&gt, 3, 10, |_| true).unwrap();
    let last: Vec<(NodeId, u32)> = paths.iter().map(|p| (p[p.len() - 2].node, p[p.len() - 1].edge)).collect();
    // The shortest (via root 4), then by the referrer's distance, then edge position; the self-loop 3 → 3 too.
    assert_eq!(last, vec![(4, 6), (1, 3), (2, 4), (3, 5), (6, 8)]);
    assert_eq!(sp.paths_to(&gt, 3, 2, |_| true).unwrap().len(), 2);
    assert!(sp.paths_to(&gt, 3, 0, |_| true).unwrap().is_empty());
    assert_eq!(sp.paths_to(&gt, 4, 3, |_| true).unwrap(), vec![vec![PathStep { node: 4, edge: NONE }]]);
    // Without the edge 4 → 3 (position 6), 3 is reached from 1.
    let sp = shortest_paths(&g, [0, 4], |e| e != 6);
    assert_eq!(sp.path_to(3).iter().map(|s| s.node).collect::<Vec<_>>(), vec![0, 1, 3]);
    let unreached = shortest_paths(&g, [99], |_| true);
    assert!(unreached.path_to(3).is_empty() && unreached.distance(3).is_none());
    assert!(unreached.paths_to(&gt, 3, 2, |_| true).unwrap().is_empty());
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

#[test]
#[cfg_attr(debug_assertions, ignore = "ten million nodes: run with --release")]
fn ten_million_node_chain_dominators_retained_paths() {
    let g = chain(DEEP, true);
    let gt = g.transpose_with_positions();
    let dom = dominators(&g, &gt, [0], |_| true).unwrap();
    assert_eq!(dom.idom()[0], VIRTUAL_ROOT);
    assert!(dom.idom()[1..].iter().enumerate().all(|(i, &d)| d == i as NodeId));
    let ones = vec![1u64; DEEP as usize];
    let ret = retained(&dom, &ones, &ones).unwrap();
    assert!(ret.count().iter().enumerate().all(|(i, &c)| c == DEEP - i as u32));
    assert_eq!(ret.bytes()[0], u64::from(DEEP));
    let tree = DominatorTree::new(&dom);
    assert_eq!(tree.depth(DEEP - 1), Some(DEEP));
    let sp = shortest_paths(&g, [0], |_| true);
    assert_eq!(sp.path_to(DEEP - 1).len(), DEEP as usize);
    // From the middle, the back edge makes node 0 dominated by the last node.
    let dom = dominators(&g, &gt, [DEEP / 2], |_| true).unwrap();
    assert_eq!((dom.idom()[0], dom.idom()[DEEP as usize / 2]), (DEEP - 1, VIRTUAL_ROOT));
}
