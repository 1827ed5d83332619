//! Dominators: node `d` dominates node `v` when every path from the roots to `v` passes through `d`, so that freeing
//! `d` would free `v`. The roots hang below one virtual root, which dominates every reachable node.
//!
//! The exact immediate dominators, by the Semi-NCA algorithm (Georgiadis, "Linear-Time Algorithms for Dominators and
//! Related Problems", 2005; the variant LLVM uses):
//!
//! 1. An iterative depth-first search from the virtual root numbers the reachable nodes in preorder; all the later
//!    steps work on preorder numbers, with the virtual root as 0. The only tree information kept is each number's
//!    DFS parent.
//! 2. Semidominators, in decreasing preorder, from each node's predecessors (the [`Transposed`] graph, whose forward
//!    edge positions let the caller's filter apply to the edges walked backwards), with a path-compressed forest
//!    over the parent array.
//! 3. Each immediate dominator is the nearest common ancestor of the node's semidominator and its DFS parent in the
//!    dominator tree built so far, found by climbing from the parent.
//!
//! Nothing recurses: a chain of ten million nodes is as safe as a bushy graph.
//!
//! # Speed and memory
//!
//! On a large graph every step is bound by memory latency, not by arithmetic, so the code is arranged to overlap
//! reads: the DFS reads all of a node's targets' numbers (and the first edge of the unvisited ones) at once on
//! arrival; the predecessors' preorder numbers are gathered, filtered, into an array in preorder order by a parallel
//! pass before the sequential semidominator loop; and that loop's forest keeps each number's ancestor next to the one
//! value it needs (the least semidominator on its compressed path), so each step up a path is one read.
//!
//! Memory while running: 4 bytes per node (its preorder number), 24 per reachable node (preorder → node, DFS parent
//! and immediate dominator, the forest's two values, semidominator, predecessor offset), 4 per edge into a reachable
//! node (its predecessor's number), 8 per level of DFS depth and a bit per node. The result keeps 4 bytes per node and
//! 4 per reachable node.

use rayon::prelude::*;

use crate::csr::{block_regions, prefix_sums, BLOCK_NODES};
use crate::{Csr, GraphError, NodeId, Transposed};

/// [`Dominators::idom`] of a node whose only strict dominator is the virtual root: a root, or a node reachable along
/// disjoint paths from different roots.
pub const VIRTUAL_ROOT: NodeId = u32::MAX - 1;

/// [`Dominators::idom`] of a node that no root reaches.
pub const UNREACHABLE: NodeId = u32::MAX;

/// The dominator tree of a graph below a virtual root, as computed by [`dominators`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dominators {
    /// Per node: its immediate dominator, [`VIRTUAL_ROOT`] or [`UNREACHABLE`].
    idom: Vec<NodeId>,
    /// The reachable nodes in DFS preorder from the virtual root.
    preorder: Vec<NodeId>,
}

impl Dominators {
    /// Per node: its immediate dominator (a node id), [`VIRTUAL_ROOT`] when no node strictly dominates it, or
    /// [`UNREACHABLE`] when no root reaches it.
    pub fn idom(&self) -> &[NodeId] {
        &self.idom
    }

    /// The immediate dominator of `node`: `None` when only the virtual root dominates it, when no root reaches it, or
    /// when it is not a node.
    pub fn immediate_dominator(&self, node: NodeId) -> Option<NodeId> {
        self.idom.get(node as usize).copied().filter(|&d| d != VIRTUAL_ROOT && d != UNREACHABLE)
    }

    /// True if a root reaches `node` (false for ids that are not nodes).
    pub fn is_reachable(&self, node: NodeId) -> bool {
        self.idom.get(node as usize).is_some_and(|&d| d != UNREACHABLE)
    }

    /// The reachable nodes in depth-first preorder from the virtual root. Every node comes after its immediate
    /// dominator, so walking this backwards visits a node's dominator-tree children before the node itself.
    pub fn preorder(&self) -> &[NodeId] {
        &self.preorder
    }

    /// Number of nodes of the graph.
    pub fn num_nodes(&self) -> usize {
        self.idom.len()
    }

    /// The per-node immediate dominators and the preorder, without copying them.
    pub fn into_parts(self) -> (Vec<NodeId>, Vec<NodeId>) {
        (self.idom, self.preorder)
    }

    /// Number of nodes reachable from the roots.
    pub fn num_reachable(&self) -> usize {
        self.preorder.len()
    }

    /// True if `d` dominates `v` (every node dominates itself). Walks up the tree from `v`: O(depth of `v`).
    pub fn dominates(&self, d: NodeId, v: NodeId) -> bool {
        if !self.is_reachable(d) || !self.is_reachable(v) {
            return false;
        }
        let mut x = v;
        loop {
            if x == d {
                return true;
            }
            match self.immediate_dominator(x) {
                Some(up) => x = up,
                None => return false,
            }
        }
    }
}

/// The immediate dominators of `g`'s nodes below a virtual root with an edge to each of `roots`, following only the
/// edges `e` (positions in `g.targets()`) for which `follow(e)` is true.
///
/// `gt` must be `g.transpose_with_positions()`; the filter is applied to the forward position of every edge walked
/// backwards, from several threads (hence `Sync`). Roots outside the graph, and repeated roots, are ignored. Fails
/// if `gt` does not have `g`'s shape, or if the graph has so many nodes (`u32::MAX`) that an id would collide with
/// [`VIRTUAL_ROOT`].
pub fn dominators<F>(
    g: &Csr,
    gt: &Transposed,
    roots: impl IntoIterator<Item = NodeId>,
    follow: F,
) -> Result<Dominators, GraphError>
where
    F: Fn(usize) -> bool + Sync,
{
    let n = g.num_nodes();
    check_transposed(g, gt)?;
    if n > VIRTUAL_ROOT as usize {
        return Err(GraphError::TooManyNodes { nodes: n as u64 });
    }
    let (pre, order, parent, is_root) = depth_first(g, roots, &follow);
    let semi = semidominators(gt, &pre, &order, &parent, &is_root, &follow);
    let mut idom = parent;
    // Step 3: climb from the parent to the first ancestor numbered no higher than the semidominator. The ancestors
    // have smaller numbers, so their immediate dominators are final already.
    for w in 1..order.len() {
        let s = semi[w];
        let mut c = idom[w];
        while c > s {
            c = idom[c as usize];
        }
        idom[w] = c;
    }
    drop(semi);
    // Into node ids, in place over the preorder numbers.
    let mut by_node = pre;
    for p in &mut by_node {
        *p = match *p {
            0 => UNREACHABLE,
            w => match idom[w as usize] {
                0 => VIRTUAL_ROOT,
                d => order[d as usize],
            },
        };
    }
    drop(idom);
    let mut preorder = order;
    preorder.remove(0);
    Ok(Dominators { idom: by_node, preorder })
}

/// Fails unless `gt` has the shape of `g`'s transpose (same nodes, same edges), which is what makes its forward
/// positions valid arguments for a filter over `g`'s edges.
pub(crate) fn check_transposed(g: &Csr, gt: &Transposed) -> Result<(), GraphError> {
    let (t, f) = (gt.graph(), gt.forward_positions());
    if t.num_nodes() != g.num_nodes() || t.num_edges() != g.num_edges() || f.len() != g.num_edges() {
        return Err(GraphError::TransposeMismatch {
            nodes: g.num_nodes(),
            edges: g.num_edges(),
            transposed_nodes: t.num_nodes(),
            transposed_edges: t.num_edges(),
        });
    }
    Ok(())
}

/// Step 1: an iterative DFS from the virtual root. Returns, per node, its preorder number (0 = not reached; the
/// virtual root is 0 too, and no node); per preorder number, its node (`order[0]` stands for the virtual root) and
/// its DFS parent's number; and the roots as a bit set.
fn depth_first<F>(
    g: &Csr,
    roots: impl IntoIterator<Item = NodeId>,
    follow: &F,
) -> (Vec<u32>, Vec<NodeId>, Vec<u32>, Vec<u64>)
where
    F: Fn(usize) -> bool,
{
    let n = g.num_nodes();
    let (offsets, targets) = (g.offsets(), g.targets());
    let mut pre = vec![0u32; n];
    let mut order: Vec<NodeId> = vec![UNREACHABLE];
    let mut parent: Vec<u32> = vec![0];
    let mut is_root = vec![0u64; n.div_ceil(64)];
    // The DFS path: (node, next edge position to look at).
    let mut path: Vec<(NodeId, u32)> = Vec::new();
    for r in roots {
        let ri = r as usize;
        if ri >= n {
            continue;
        }
        is_root[ri / 64] |= 1 << (ri % 64);
        if pre[ri] != 0 {
            continue;
        }
        pre[ri] = order.len() as u32;
        order.push(r);
        parent.push(0);
        path.push((r, offsets[ri]));
        while let Some(top) = path.last_mut() {
            let (v, mut e) = *top;
            let end = offsets[v as usize + 1];
            let mut child = None;
            while e < end {
                let pos = e as usize;
                e += 1;
                let w = targets[pos];
                if pre[w as usize] == 0 && follow(pos) {
                    child = Some(w);
                    break;
                }
            }
            top.1 = e;
            match child {
                Some(w) => {
                    pre[w as usize] = order.len() as u32;
                    order.push(w);
                    parent.push(pre[v as usize]);
                    path.push((w, offsets[w as usize]));
                    touch(g, w, &pre);
                }
                None => {
                    path.pop();
                }
            }
        }
    }
    (pre, order, parent, is_root)
}

/// Reads `pre` of every target of `v`, and the first edge of each not yet visited, all at once, so that the DFS's
/// one-by-one look at them, and its step down to the next child, find them in cache: on a large graph these
/// independent reads overlap, where the DFS's dependent ones would each wait for memory.
#[inline]
fn touch(g: &Csr, v: NodeId, pre: &[u32]) {
    let (offsets, targets) = (g.offsets(), g.targets());
    let any = g.neighbors(v).iter().fold(0, |acc, &w| {
        let first = if pre[w as usize] == 0 { targets.get(offsets[w as usize] as usize).copied() } else { None };
        acc | first.unwrap_or(1)
    });
    std::hint::black_box(any);
}

/// Step 2: each preorder number's semidominator (as a preorder number). `parent` holds the DFS parents.
///
/// The forest for `eval` keeps, per number, its ancestor and the least semidominator on the compressed path up to
/// it, side by side: Semi-NCA needs only that value (not which node has it), so each step up a path is one memory
/// access. The predecessors come from [`predecessor_numbers`], read in the order this loop needs them.
fn semidominators<F>(
    gt: &Transposed,
    pre: &[u32],
    order: &[NodeId],
    parent: &[u32],
    is_root: &[u64],
    follow: &F,
) -> Vec<u32>
where
    F: Fn(usize) -> bool + Sync,
{
    let count = order.len();
    let (offsets, preds) = predecessor_numbers(gt, pre, order, is_root, follow);
    let mut semi: Vec<u32> = vec![0; count];
    // (ancestor, least semidominator on the path): before a number is linked, its own number.
    let mut forest: Vec<(u32, u32)> = parent.iter().enumerate().map(|(w, &p)| (p, w as u32)).collect();
    let mut stack: Vec<u32> = Vec::new();
    for w in (1..count).rev() {
        let v = order[w] as usize;
        if is_root[v / 64] & (1 << (v % 64)) != 0 {
            // The virtual root is a predecessor: nothing is lower.
            semi[w] = 0;
            forest[w].1 = 0;
            continue;
        }
        let mut s = parent[w];
        for &pw in &preds[offsets[w] as usize..offsets[w + 1] as usize] {
            if pw != 0 {
                s = s.min(eval(pw, w as u32 + 1, &mut forest, &mut stack));
            }
        }
        semi[w] = s;
        forest[w].1 = s;
    }
    semi
}

/// Per preorder number, the numbers of its predecessors through accepted edges, as a CSR over numbers (0 stands for
/// an edge to skip: rejected, from an unreached node, or a self-loop; roots get no list, their semidominator is the
/// virtual root).
///
/// Built in parallel, so the random reads it needs (each predecessor's number, the caller's filter) overlap across
/// cores and across edges; the sequential semidominator loop then reads it front to back. Costs 4 bytes per edge
/// into a reachable node while the dominators are computed.
fn predecessor_numbers<F>(
    gt: &Transposed,
    pre: &[u32],
    order: &[NodeId],
    is_root: &[u64],
    follow: &F,
) -> (Vec<u32>, Vec<u32>)
where
    F: Fn(usize) -> bool + Sync,
{
    let count = order.len();
    let listed = |w: usize| {
        let v = order[w] as usize;
        w != 0 && is_root[v / 64] & (1 << (v % 64)) == 0
    };
    let degrees: Vec<u32> =
        (0..count).into_par_iter().map(|w| if listed(w) { gt.graph().degree(order[w]) as u32 } else { 0 }).collect();
    // At most the graph's edge count, which fits: this cannot fail.
    let offsets = prefix_sums(degrees.into_iter(), count).unwrap_or_else(|_| vec![0; count + 1]);
    let mut preds = vec![0u32; offsets[count] as usize];
    block_regions(&offsets, &mut preds, BLOCK_NODES).into_par_iter().for_each(|(start, region)| {
        let base = offsets[start] as usize;
        for w in start..(start + BLOCK_NODES).min(count) {
            if !listed(w) {
                continue;
            }
            let out = &mut region[offsets[w] as usize - base..offsets[w + 1] as usize - base];
            for (slot, (p, fwd)) in out.iter_mut().zip(gt.in_edges(order[w])) {
                let pw = pre[p as usize];
                *slot = if pw as usize == w || !follow(fwd) { 0 } else { pw };
            }
        }
    });
    (offsets, preds)
}

/// The least semidominator on the path from `v` up to (not including) the root of its tree in the forest of linked
/// numbers (those `>= linked`), compressing the path on the way.
fn eval(v: u32, linked: u32, forest: &mut [(u32, u32)], stack: &mut Vec<u32>) -> u32 {
    let (up, best) = forest[v as usize];
    if up < linked {
        return best;
    }
    let mut x = v;
    loop {
        stack.push(x);
        x = forest[x as usize].0;
        if forest[x as usize].0 < linked {
            break;
        }
    }
    let (mut p_up, mut p_best) = forest[x as usize];
    while let Some(y) = stack.pop() {
        let node = &mut forest[y as usize];
        node.0 = p_up;
        if p_best < node.1 {
            node.1 = p_best;
        } else {
            p_best = node.1;
        }
        p_up = node.0;
    }
    p_best
}
