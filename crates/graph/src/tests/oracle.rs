//! Random small graphs and naive reference algorithms, slow and obviously right, that the analyses are checked
//! against.

use super::Rng;
use crate::{Csr, NodeId};

/// One random test case: a graph, a per-edge filter and a root list (possibly empty, repeated or out of range).
pub(super) struct Case {
    pub g: Csr,
    pub accept: Vec<bool>,
    pub roots: Vec<NodeId>,
}

impl Case {
    /// A random case of 1..=60 nodes, in one of several shapes: uniform with varied density, a long chain with a few
    /// extra edges, a random tree with back and cross edges, or a small dense graph. Self-loops and parallel edges
    /// are sprinkled in; edge order within a node is random.
    pub fn random(rng: &mut Rng) -> Case {
        let n = 1 + rng.below(60) as usize;
        let nn = n as u64;
        let mut edges: Vec<(NodeId, NodeId)> = Vec::new();
        match rng.below(4) {
            0 => {
                let density = 1 + u64::from(rng.below(4));
                let m = rng.below(nn * density + 1);
                edges.extend((0..m).map(|_| (rng.below(nn), rng.below(nn))));
            }
            1 => {
                edges.extend((1..n as NodeId).map(|i| (i - 1, i)));
                let extra = rng.below(4);
                edges.extend((0..extra).map(|_| (rng.below(nn), rng.below(nn))));
            }
            2 => {
                edges.extend((1..n as NodeId).map(|i| (rng.below(u64::from(i)), i)));
                let extra = rng.below(nn + 1);
                edges.extend((0..extra).map(|_| (rng.below(nn), rng.below(nn))));
            }
            _ => {
                let n = n.min(16) as u64;
                let m = rng.below(n * n + 1);
                edges.extend((0..m).map(|_| (rng.below(n), rng.below(n))));
            }
        }
        for _ in 0..rng.below(3) {
            let v = rng.below(nn);
            edges.push((v, v));
        }
        if !edges.is_empty() {
            for _ in 0..rng.below(3) {
                let e = edges[rng.below(edges.len() as u64) as usize];
                edges.push(e);
            }
        }
        // Shuffle, then keep insertion order within each node.
        for i in (1..edges.len()).rev() {
            edges.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let g = Csr::from_adjacency(n, |u, out| out.extend(edges.iter().filter(|e| e.0 == u).map(|e| e.1))).unwrap();
        let reject = [0, 0, 10, 30, 60][rng.below(5) as usize];
        let accept = (0..g.num_edges()).map(|_| rng.below(100) >= reject).collect();
        let roots = (0..rng.below(5))
            .map(|_| if rng.below(10) == 0 { nn as NodeId + rng.below(3) } else { rng.below(nn) })
            .collect();
        Case { g, accept, roots }
    }

    /// The filter as a closure over edge positions.
    pub fn follow(&self) -> impl Fn(usize) -> bool + Sync + '_ {
        |e| self.accept[e]
    }

    /// The accepted edges as `(source, target, position)`.
    pub fn accepted(&self) -> Vec<(NodeId, NodeId, usize)> {
        let mut out = Vec::new();
        for u in 0..self.g.num_nodes() as NodeId {
            for e in self.g.edge_range(u) {
                if self.accept[e] {
                    out.push((u, self.g.targets()[e], e));
                }
            }
        }
        out
    }

    /// Which nodes the sources reach over accepted edges without entering `avoid`.
    pub fn reach(&self, sources: &[NodeId], avoid: Option<NodeId>) -> Vec<bool> {
        let n = self.g.num_nodes();
        let mut seen = vec![false; n];
        let mut todo: Vec<NodeId> = Vec::new();
        for &s in sources {
            if (s as usize) < n && Some(s) != avoid && !seen[s as usize] {
                seen[s as usize] = true;
                todo.push(s);
            }
        }
        while let Some(u) = todo.pop() {
            for e in self.g.edge_range(u) {
                let v = self.g.targets()[e];
                if self.accept[e] && Some(v) != avoid && !seen[v as usize] {
                    seen[v as usize] = true;
                    todo.push(v);
                }
            }
        }
        seen
    }

    /// Distances from the roots by repeated relaxation of every accepted edge (Bellman–Ford with unit weights).
    pub fn distances(&self) -> Vec<Option<u32>> {
        let n = self.g.num_nodes();
        let mut dist = vec![None; n];
        for &r in &self.roots {
            if (r as usize) < n {
                dist[r as usize] = Some(0);
            }
        }
        let accepted = self.accepted();
        loop {
            let mut changed = false;
            for &(u, v, _) in &accepted {
                if let Some(du) = dist[u as usize] {
                    if dist[v as usize].is_none_or(|dv| du + 1 < dv) {
                        dist[v as usize] = Some(du + 1);
                        changed = true;
                    }
                }
            }
            if !changed {
                return dist;
            }
        }
    }
}
