//! Unit tests of the CSR graph: construction from every source, transpose, reachability, limits. The analyses are
//! tested in the submodules: hand-checked examples in `analysis`, random graphs against naive references in
//! `properties` (with the references in `oracle`).

use crate::reach::{reachable, reachable_avoiding, NodeSet};
use crate::{Csr, GraphError, NodeId};

mod analysis;
mod oracle;
mod properties;

/// A small deterministic pseudo-random generator (xorshift64*), so tests need no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u32 {
        (self.next() % n) as u32
    }
}

fn random_edges(n: usize, m: usize, seed: u64) -> Vec<(NodeId, NodeId)> {
    let mut rng = Rng(seed);
    (0..m).map(|_| (rng.below(n as u64), rng.below(n as u64))).collect()
}

/// Sorted adjacency lists, the reference every construction is compared with.
fn reference(n: usize, edges: &[(NodeId, NodeId)]) -> Vec<Vec<NodeId>> {
    let mut adj = vec![Vec::new(); n];
    for &(s, t) in edges {
        adj[s as usize].push(t);
    }
    for a in &mut adj {
        a.sort_unstable();
    }
    adj
}

fn lists(g: &Csr) -> Vec<Vec<NodeId>> {
    (0..g.num_nodes() as NodeId).map(|u| g.neighbors(u).to_vec()).collect()
}

#[test]
fn empty_graphs() {
    let g = Csr::default();
    assert_eq!((g.num_nodes(), g.num_edges()), (0, 0));
    assert_eq!(g.transpose(), g);
    let g = Csr::empty(5).unwrap();
    assert_eq!((g.num_nodes(), g.num_edges()), (5, 0));
    assert!(g.neighbors(4).is_empty());
    assert_eq!(g.transpose(), g);
    assert_eq!(Csr::from_edges(3, &[]).unwrap(), Csr::empty(3).unwrap());
}

#[test]
fn from_edges_groups_and_sorts_each_node() {
    let edges = [(2, 0), (0, 1), (2, 2), (0, 1), (1, 2), (2, 1)];
    let g = Csr::from_edges(4, &edges).unwrap();
    assert_eq!(lists(&g), vec![vec![1, 1], vec![2], vec![0, 1, 2], vec![]]);
    assert_eq!(g.offsets(), &[0, 2, 3, 6, 6]);
    assert_eq!(g.edge_range(2), 3..6);
    assert_eq!(g.degree(0), 2);
    assert_eq!(g.edges().count(), 6);
}

#[test]
fn from_edges_rejects_unknown_nodes() {
    let err = Csr::from_edges(2, &[(0, 1), (1, 2)]).unwrap_err();
    assert_eq!(err, GraphError::NodeOutOfRange { source_node: 1, target: 2, num_nodes: 2 });
}

#[test]
fn constructions_agree_on_a_random_graph() {
    // More nodes than one block, so the parallel paths split work.
    let n = 40_000;
    let edges = random_edges(n, 200_000, 7);
    let want = reference(n, &edges);
    assert_eq!(lists(&Csr::from_edges(n, &edges).unwrap()), want);

    let by_adjacency = Csr::from_adjacency(n, |u, out| out.extend(&want[u as usize])).unwrap();
    assert_eq!(lists(&by_adjacency), want);

    let degrees: Vec<u32> = want.iter().map(|a| a.len() as u32).collect();
    let (filled, payload) = Csr::from_fill(&degrees, |u, ts, ps: &mut [u64]| {
        ts.copy_from_slice(&want[u as usize]);
        for (k, p) in ps.iter_mut().enumerate() {
            *p = u64::from(u) << 32 | k as u64;
        }
    })
    .unwrap();
    assert_eq!(filled, by_adjacency);
    for u in 0..n as NodeId {
        for (k, e) in filled.edge_range(u).enumerate() {
            assert_eq!(payload[e], u64::from(u) << 32 | k as u64);
        }
    }
}

#[test]
fn adjacency_with_payload_keeps_edge_order() {
    let (g, labels) = Csr::from_adjacency_with(3, |u, out: &mut Vec<(NodeId, char)>| match u {
        0 => out.extend([(2, 'a'), (1, 'b'), (2, 'c')]),
        2 => out.push((0, 'd')),
        _ => {}
    })
    .unwrap();
    assert_eq!(g.neighbors(0), &[2, 1, 2]);
    assert_eq!(labels, vec!['a', 'b', 'c', 'd']);
}

#[test]
fn fill_rejects_targets_out_of_range() {
    let err = Csr::from_fill::<(), _>(&[1, 0], |_, ts, _| ts[0] = 9).unwrap_err();
    assert_eq!(err, GraphError::TargetOutOfRange { source_node: 0, target: 9, num_nodes: 2 });
}

#[test]
fn from_parts_checks_invariants() {
    assert!(Csr::from_parts(vec![0, 1, 2], vec![1, 0]).is_ok());
    assert!(matches!(Csr::from_parts(vec![], vec![]), Err(GraphError::BadOffsets { .. })));
    assert!(matches!(Csr::from_parts(vec![0, 2, 1], vec![0]), Err(GraphError::BadOffsets { .. })));
    assert!(matches!(Csr::from_parts(vec![0, 1], vec![]), Err(GraphError::BadOffsets { .. })));
    assert!(matches!(Csr::from_parts(vec![0, 1], vec![5]), Err(GraphError::TargetOutOfRange { .. })));
}

#[test]
fn transpose_reverses_every_edge_and_is_an_involution_up_to_order() {
    let n = 50_000;
    let edges = random_edges(n, 300_000, 11);
    let g = Csr::from_edges(n, &edges).unwrap();
    let t = g.transpose();
    assert_eq!((t.num_nodes(), t.num_edges()), (n, edges.len()));
    let reversed: Vec<(NodeId, NodeId)> = edges.iter().map(|&(s, d)| (d, s)).collect();
    assert_eq!(lists(&t), reference(n, &reversed));
    // from_edges sorts each node's targets, so transposing twice gives the same graph back.
    assert_eq!(t.transpose(), g);
    // Deterministic, whatever the thread interleaving.
    assert_eq!(g.transpose(), t);
}

#[test]
fn transpose_with_positions_names_each_forward_edge_once() {
    // Parallel edges and self-loops included, and more nodes than one block.
    let n = 50_000;
    let mut edges = random_edges(n, 300_000, 13);
    edges.extend([(5, 5), (5, 5), (7, 9), (7, 9)]);
    let g = Csr::from_edges(n, &edges).unwrap();
    let t = g.transpose_with_positions();
    assert_eq!(t.graph(), &g.transpose());
    assert_eq!(t.heap_bytes(), t.graph().heap_bytes() + 4 * g.num_edges());
    let mut hit = vec![false; g.num_edges()];
    for v in 0..n as NodeId {
        let positions: Vec<usize> = t.in_edges(v).map(|(_, e)| e).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        for (s, e) in t.in_edges(v) {
            assert!(g.edge_range(s).contains(&e) && g.targets()[e] == v && !hit[e]);
            hit[e] = true;
        }
    }
    assert!(hit.iter().all(|&h| h));
    assert_eq!(t.clone().into_parts().1, t.forward_positions());
}

#[test]
fn reachability_follows_only_accepted_edges() {
    // 0 → 1 → 2 → 3, 0 → 4 (edge positions: 0:0→1, 1:0→4, 2:1→2, 3:2→3), 5 isolated.
    let g = Csr::from_edges(6, &[(0, 1), (1, 2), (2, 3), (0, 4)]).unwrap();
    let all = reachable(&g, [0], |_| true);
    assert_eq!(all.iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    assert_eq!(all.count(), 5);
    let no_second_hop = reachable(&g, [0], |e| e != 2);
    assert_eq!(no_second_hop.iter().collect::<Vec<_>>(), vec![0, 1, 4]);
    let mut avoid = NodeSet::new(6);
    avoid.insert(2);
    let around = reachable_avoiding(&g, [0, 99], Some(&avoid), |_| true);
    assert_eq!(around.iter().collect::<Vec<_>>(), vec![0, 1, 4]);
    assert!(!around.contains(99));
}

#[test]
fn reachability_on_a_long_chain_and_a_cycle() {
    let n = 100_000u32;
    let mut edges: Vec<(NodeId, NodeId)> = (0..n - 1).map(|i| (i, i + 1)).collect();
    edges.push((n - 1, 0));
    let g = Csr::from_edges(n as usize, &edges).unwrap();
    assert_eq!(reachable(&g, [n / 2], |_| true).count(), n as usize);
}

#[test]
fn node_set_basics() {
    let mut s = NodeSet::new(130);
    assert!(s.insert(0) && s.insert(129) && s.insert(64));
    assert!(!s.insert(64));
    assert!(!s.insert(500));
    assert_eq!(s.iter().collect::<Vec<_>>(), vec![0, 64, 129]);
    assert_eq!((s.count(), s.universe()), (3, 130));
}
