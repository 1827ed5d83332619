//! Reachability: which nodes can be reached from a set of sources, following only the edges a filter accepts.
//!
//! A level-synchronous breadth-first search: each level's frontier is expanded in parallel, and a node joins the next
//! frontier when its bit in an atomic bit set is set by this search first. Memory: one bit per node plus the two
//! largest consecutive frontiers.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use rayon::prelude::*;

use crate::{Csr, NodeId};

/// A fixed-size set of node ids, one bit each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSet {
    words: Vec<u64>,
    len: usize,
}

impl NodeSet {
    /// An empty set over the nodes `0..len`.
    pub fn new(len: usize) -> NodeSet {
        NodeSet { words: vec![0; len.div_ceil(64)], len }
    }

    /// The number of nodes the set ranges over (not the number of members).
    pub fn universe(&self) -> usize {
        self.len
    }

    /// True if `node` is a member (false for ids outside the universe).
    #[inline]
    pub fn contains(&self, node: NodeId) -> bool {
        let i = node as usize;
        i < self.len && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Adds `node`; returns true if it was not a member. Ids outside the universe are ignored (false).
    pub fn insert(&mut self, node: NodeId) -> bool {
        let i = node as usize;
        if i >= self.len {
            return false;
        }
        let bit = 1 << (i % 64);
        let was = self.words[i / 64] & bit != 0;
        self.words[i / 64] |= bit;
        !was
    }

    /// Number of members.
    pub fn count(&self) -> usize {
        self.words.par_iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let b = w.trailing_zeros();
                w &= w - 1;
                Some((wi * 64) as NodeId + b)
            })
        })
    }
}

/// Every node reachable from `sources` (the sources included) along edges `e` (positions in `g.targets()`) for which
/// `follow(e)` is true. Sources outside the graph are ignored.
pub fn reachable<F>(g: &Csr, sources: impl IntoIterator<Item = NodeId>, follow: F) -> NodeSet
where
    F: Fn(usize) -> bool + Sync,
{
    reachable_avoiding(g, sources, None, follow)
}

/// Like [`reachable`], but never enters (nor reports) a node of `avoid`: the nodes reachable from `sources` without
/// passing through `avoid`.
pub fn reachable_avoiding<F>(
    g: &Csr,
    sources: impl IntoIterator<Item = NodeId>,
    avoid: Option<&NodeSet>,
    follow: F,
) -> NodeSet
where
    F: Fn(usize) -> bool + Sync,
{
    let n = g.num_nodes();
    let seen: Vec<AtomicU64> = (0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect();
    let blocked = |v: NodeId| avoid.is_some_and(|a| a.contains(v));
    let claim = |v: NodeId| {
        let i = v as usize;
        let bit = 1u64 << (i % 64);
        seen[i / 64].fetch_or(bit, Relaxed) & bit == 0
    };
    let mut frontier: Vec<NodeId> =
        sources.into_iter().filter(|&s| (s as usize) < n && !blocked(s) && claim(s)).collect();
    while !frontier.is_empty() {
        frontier = frontier
            .par_iter()
            .flat_map_iter(|&u| {
                let range = g.edge_range(u);
                let base = range.start;
                let (follow, blocked, claim) = (&follow, &blocked, &claim);
                g.targets()[range]
                    .iter()
                    .enumerate()
                    .filter(move |&(k, &v)| follow(base + k) && !blocked(v) && claim(v))
                    .map(|(_, &v)| v)
            })
            .collect();
    }
    NodeSet { words: seen.into_iter().map(AtomicU64::into_inner).collect(), len: n }
}
