//! Shortest paths from the roots: why is this object alive? A breadth-first search from every root at once, over the
//! edges a filter accepts, remembers for each node the node and edge it was first reached through, so a shortest path
//! from some root to any node is read back by following those links.
//!
//! The search is sequential and deterministic: roots are queued in the order given, a node's edges are looked at in
//! edge order, and a node keeps the first edge that reaches it. Memory: 12 bytes per node in the result (parent,
//! edge, distance) and 4 per reached node for the queue while searching.
//!
//! [`ShortestPaths::paths_to`] gives up to `k` shortest paths that differ in their last edge: one through each edge
//! into the target from a reached node, nearest referrers first, each continued by that referrer's own shortest path.
//! Not the `k` globally shortest paths (those could share their last hop), but the question a user asks next: "and
//! what else holds it?".

use crate::{Csr, GraphError, NodeId, Transposed};

/// An edge position or node id meaning "none": the parent and edge of a root or of a node no root reaches, and the
/// distance of the latter.
pub const NONE: u32 = u32::MAX;

/// One step of a path: the node reached, and the edge (a position in the graph's targets) it was reached through,
/// [`NONE`] for the path's first node, a root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PathStep {
    /// The node reached.
    pub node: NodeId,
    /// The edge position used to reach it, or [`NONE`] for the root that starts the path.
    pub edge: u32,
}

/// The result of a breadth-first search from the roots: see [`shortest_paths`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortestPaths {
    parent: Vec<NodeId>,
    edge: Vec<u32>,
    distance: Vec<u32>,
    num_edges: usize,
}

/// Breadth-first search from every node of `roots` at once (roots outside the graph are ignored), following only the
/// edges `e` (positions in `g.targets()`) for which `follow(e)` is true.
pub fn shortest_paths<F>(g: &Csr, roots: impl IntoIterator<Item = NodeId>, follow: F) -> ShortestPaths
where
    F: Fn(usize) -> bool,
{
    let n = g.num_nodes();
    let (offsets, targets) = (g.offsets(), g.targets());
    let mut parent = vec![NONE; n];
    let mut edge = vec![NONE; n];
    let mut distance = vec![NONE; n];
    let mut queue: Vec<NodeId> = Vec::new();
    for r in roots {
        if (r as usize) < n && distance[r as usize] == NONE {
            distance[r as usize] = 0;
            queue.push(r);
        }
    }
    let mut head = 0;
    while let Some(&u) = queue.get(head) {
        head += 1;
        let ui = u as usize;
        let du = distance[ui] + 1;
        let range = offsets[ui] as usize..offsets[ui + 1] as usize;
        for (e, &v) in range.clone().zip(&targets[range]) {
            let v = v as usize;
            if distance[v] == NONE && follow(e) {
                distance[v] = du;
                parent[v] = u;
                edge[v] = e as u32;
                queue.push(v as NodeId);
            }
        }
    }
    ShortestPaths { parent, edge, distance, num_edges: g.num_edges() }
}

impl ShortestPaths {
    /// Per node: the node it was first reached from, or [`NONE`] for roots and unreached nodes.
    pub fn parents(&self) -> &[NodeId] {
        &self.parent
    }

    /// Per node: the edge position it was first reached through, or [`NONE`] for roots and unreached nodes.
    pub fn edges(&self) -> &[u32] {
        &self.edge
    }

    /// Per node: the number of edges on a shortest path from a root (0 for roots), or [`NONE`] if unreached.
    pub fn distances(&self) -> &[u32] {
        &self.distance
    }

    /// The per-node parents, edges and distances, without copying them.
    pub fn into_parts(self) -> (Vec<NodeId>, Vec<u32>, Vec<u32>) {
        (self.parent, self.edge, self.distance)
    }

    /// The distance of `node` from the nearest root: `None` if unreached or not a node.
    pub fn distance(&self, node: NodeId) -> Option<u32> {
        self.distance.get(node as usize).copied().filter(|&d| d != NONE)
    }

    /// A shortest path from a root to `target`, root first: every step after the first names the edge that leads to
    /// its node from the previous step's. Empty if `target` is unreached or not a node.
    pub fn path_to(&self, target: NodeId) -> Vec<PathStep> {
        let Some(d) = self.distance(target) else {
            return Vec::new();
        };
        let mut path = Vec::with_capacity(d as usize + 1);
        let mut v = target;
        // At most d + 1 steps, even if the arrays were inconsistent.
        for _ in 0..=d {
            path.push(PathStep { node: v, edge: self.edge[v as usize] });
            match self.parent[v as usize] {
                NONE => break,
                p => v = p,
            }
        }
        path.reverse();
        path
    }

    /// Up to `k` shortest paths from the roots to `target` that differ in their last edge, shortest first: for
    /// each accepted edge `p → target` from a reached node `p`, `p`'s shortest path followed by that edge, ordered by
    /// `p`'s distance, then by edge position, except that the first is always [`ShortestPaths::path_to`]'s. A
    /// root's only path is itself.
    ///
    /// `gt` must be the searched graph's `transpose_with_positions()` and `follow` the search's filter. Empty if
    /// `target` is unreached; fails if `gt` does not have the searched graph's shape.
    pub fn paths_to<F>(
        &self,
        gt: &Transposed,
        target: NodeId,
        k: usize,
        follow: F,
    ) -> Result<Vec<Vec<PathStep>>, GraphError>
    where
        F: Fn(usize) -> bool,
    {
        let t = gt.graph();
        if t.num_nodes() != self.distance.len() || t.num_edges() != self.num_edges {
            return Err(GraphError::TransposeMismatch {
                nodes: self.distance.len(),
                edges: self.num_edges,
                transposed_nodes: t.num_nodes(),
                transposed_edges: t.num_edges(),
            });
        }
        let Some(d) = self.distance(target) else {
            return Ok(Vec::new());
        };
        if k == 0 {
            return Ok(Vec::new());
        }
        let first = self.path_to(target);
        if d == 0 {
            return Ok(vec![first]);
        }
        let own = self.edge[target as usize];
        let mut last_hops: Vec<(u32, u32, NodeId)> = gt
            .in_edges(target)
            .filter(|&(p, e)| e as u32 != own && self.distance[p as usize] != NONE && follow(e))
            .map(|(p, e)| (self.distance[p as usize], e as u32, p))
            .collect();
        last_hops.sort_unstable();
        let mut paths = vec![first];
        for (_, e, p) in last_hops.into_iter().take(k - 1) {
            let mut path = self.path_to(p);
            path.push(PathStep { node: target, edge: e });
            paths.push(path);
        }
        Ok(paths)
    }
}
