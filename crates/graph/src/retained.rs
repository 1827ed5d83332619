//! Retained sizes: what freeing a node would free. A node's retained set is the node and every node it dominates, so
//! its retained totals are its own weight plus its dominator-tree children's totals.
//!
//! [`retained`] computes them for every node in one pass: walking the reachable nodes in reverse DFS preorder (see
//! [`Dominators::preorder`]) finishes every node before its immediate dominator, so each node adds its complete totals
//! into its immediate dominator's and is never looked at again. [`DominatorTree`] gives the tree itself: each node's
//! children and depth, for walking down from the largest retainers.

use crate::dominators::{UNREACHABLE, VIRTUAL_ROOT};
use crate::{Csr, Dominators, GraphError, NodeId};

/// Per node: retained count, bytes and footprint, as computed by [`retained`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retained {
    count: Vec<u32>,
    bytes: Vec<u64>,
    footprint: Vec<u64>,
}

impl Retained {
    /// Per node: the number of nodes in its retained set (itself included).
    pub fn count(&self) -> &[u32] {
        &self.count
    }

    /// Per node: the sum of the sizes of its retained set.
    pub fn bytes(&self) -> &[u64] {
        &self.bytes
    }

    /// Per node: the sum of the footprints of its retained set.
    pub fn footprint(&self) -> &[u64] {
        &self.footprint
    }

    /// The three columns: count, bytes, footprint.
    pub fn into_parts(self) -> (Vec<u32>, Vec<u64>, Vec<u64>) {
        (self.count, self.bytes, self.footprint)
    }
}

/// The retained count, bytes (sum of `size`) and footprint (sum of `footprint`) of every node, given each node's own
/// `size` and `footprint` (one entry per node; sums saturate rather than wrap).
///
/// A node no root reaches has no place in the dominator tree: its totals are its own weight alone (count 1), and it
/// adds nothing to any other node's. Fails if a weight slice does not have one entry per node.
pub fn retained(dom: &Dominators, size: &[u64], footprint: &[u64]) -> Result<Retained, GraphError> {
    let n = dom.num_nodes();
    for (what, len) in [("size", size.len()), ("footprint", footprint.len())] {
        if len != n {
            return Err(GraphError::WrongLength { what, len, expected: n });
        }
    }
    let mut count = vec![1u32; n];
    let mut bytes = size.to_vec();
    let mut foot = footprint.to_vec();
    let idom = dom.idom();
    for &v in dom.preorder().iter().rev() {
        let (v, d) = (v as usize, idom[v as usize]);
        if d == VIRTUAL_ROOT || d == UNREACHABLE {
            continue;
        }
        let d = d as usize;
        count[d] += count[v];
        bytes[d] = bytes[d].saturating_add(bytes[v]);
        foot[d] = foot[d].saturating_add(foot[v]);
    }
    Ok(Retained { count, bytes, footprint: foot })
}

/// The dominator tree as explicit children lists, and each node's depth in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DominatorTree {
    /// `num_nodes + 1` nodes: node `v < num_nodes` lists its children, node `num_nodes` stands for the virtual root
    /// and lists the nodes it immediately dominates.
    children: Csr,
    /// Per node: 1 below the virtual root, one more per level; [`UNREACHABLE`] for nodes no root reaches.
    depth: Vec<u32>,
}

impl DominatorTree {
    /// Builds the children lists (ascending node ids) and depths of `dom`'s tree. Memory: 4 bytes per node for the
    /// depth and 8 per node for the children lists.
    pub fn new(dom: &Dominators) -> DominatorTree {
        let n = dom.num_nodes();
        let idom = dom.idom();
        let slot = |d: NodeId| if d == VIRTUAL_ROOT { n } else { d as usize };
        let mut offsets = vec![0u32; n + 2];
        for &d in idom.iter().filter(|&&d| d != UNREACHABLE) {
            offsets[slot(d) + 1] += 1;
        }
        for i in 0..=n {
            offsets[i + 1] += offsets[i];
        }
        let mut next = offsets[..=n].to_vec();
        let mut children = vec![0 as NodeId; offsets[n + 1] as usize];
        for (v, &d) in idom.iter().enumerate().filter(|&(_, &d)| d != UNREACHABLE) {
            let s = slot(d);
            children[next[s] as usize] = v as NodeId;
            next[s] += 1;
        }
        let mut depth = vec![UNREACHABLE; n];
        for &v in dom.preorder() {
            depth[v as usize] = match idom[v as usize] {
                VIRTUAL_ROOT => 1,
                d => depth[d as usize].saturating_add(1),
            };
        }
        DominatorTree { children: Csr::from_raw(offsets, children), depth }
    }

    /// The nodes `node` immediately dominates, ascending. Empty for unreachable nodes and ids that are not nodes.
    pub fn children(&self, node: NodeId) -> &[NodeId] {
        if node as usize >= self.depth.len() {
            return &[];
        }
        self.children.neighbors(node)
    }

    /// The nodes the virtual root immediately dominates (the tops of the tree), ascending.
    pub fn top(&self) -> &[NodeId] {
        self.children.neighbors(self.depth.len() as NodeId)
    }

    /// Per node: its depth (1 for the tops of the tree, one more per level), or [`UNREACHABLE`].
    pub fn depths(&self) -> &[u32] {
        &self.depth
    }

    /// The depth of `node`: `None` if no root reaches it or it is not a node.
    pub fn depth(&self, node: NodeId) -> Option<u32> {
        self.depth.get(node as usize).copied().filter(|&d| d != UNREACHABLE)
    }
}
