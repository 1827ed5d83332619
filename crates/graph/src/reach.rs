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
    search(g, sources, avoid, false, follow).0
}

/// [`reachable_avoiding`], and the nodes of `avoid` the search ran into: the sources in `avoid` and the targets in
/// `avoid` of the edges it followed from the nodes it reached.
pub fn reachable_avoiding_boundary<F>(
    g: &Csr,
    sources: impl IntoIterator<Item = NodeId>,
    avoid: &NodeSet,
    follow: F,
) -> (NodeSet, NodeSet)
where
    F: Fn(usize) -> bool + Sync,
{
    search(g, sources, Some(avoid), true, follow)
}

/// A breadth-first search, level by level in parallel; with `boundary`, also the nodes of `avoid` it ran into.
fn search<F>(
    g: &Csr,
    sources: impl IntoIterator<Item = NodeId>,
    avoid: Option<&NodeSet>,
    boundary: bool,
    follow: F,
) -> (NodeSet, NodeSet)
where
    F: Fn(usize) -> bool + Sync,
{
    let n = g.num_nodes();
    let bits = |len: usize| -> Vec<AtomicU64> { (0..len.div_ceil(64)).map(|_| AtomicU64::new(0)).collect() };
    let seen = bits(n);
    let met = bits(if boundary { n } else { 0 });
    let claim_in = |set: &[AtomicU64], v: NodeId| {
        let i = v as usize;
        let bit = 1u64 << (i % 64);
        set[i / 64].fetch_or(bit, Relaxed) & bit == 0
    };
    // True when the search may enter `v`; a node of `avoid` is recorded as met instead.
    let open = |v: NodeId| match avoid {
        Some(a) if a.contains(v) => {
            if boundary {
                claim_in(&met, v);
            }
            false
        }
        _ => true,
    };
    let claim = |v: NodeId| claim_in(&seen, v);
    let mut frontier: Vec<NodeId> = sources.into_iter().filter(|&s| (s as usize) < n && open(s) && claim(s)).collect();
    while !frontier.is_empty() {
        frontier = frontier
            .par_iter()
            .flat_map_iter(|&u| {
                let range = g.edge_range(u);
                let base = range.start;
                let (follow, open, claim) = (&follow, &open, &claim);
                g.targets()[range]
                    .iter()
                    .enumerate()
                    .filter(move |&(k, &v)| follow(base + k) && open(v) && claim(v))
                    .map(|(_, &v)| v)
            })
            .collect();
    }
    let done =
        |set: Vec<AtomicU64>, len: usize| NodeSet { words: set.into_iter().map(AtomicU64::into_inner).collect(), len };
    (done(seen, n), done(met, if boundary { n } else { 0 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_avoiding_nodes_reports_those_it_ran_into() {
        // 0 -> 1 -> 2 -> 3; 0 -> 4 -> 5; 6 -> 5 (6 unreached); avoid {2, 5, 6}, and the edge 4 -> 5 is not followed.
        let g = Csr::from_edges(7, &[(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (6, 5)]).unwrap();
        let mut avoid = NodeSet::new(7);
        for v in [2, 5, 6] {
            avoid.insert(v);
        }
        let skipped = g.edge_range(4).start;
        let (seen, met) = reachable_avoiding_boundary(&g, [0], &avoid, |e| e != skipped);
        assert_eq!(seen.iter().collect::<Vec<_>>(), vec![0, 1, 4]);
        assert_eq!(met.iter().collect::<Vec<_>>(), vec![2]);
        // A source in `avoid` is met, not entered.
        let (seen, met) = reachable_avoiding_boundary(&g, [6, 0], &avoid, |_| true);
        assert_eq!(seen.iter().collect::<Vec<_>>(), vec![0, 1, 4]);
        assert_eq!(met.iter().collect::<Vec<_>>(), vec![2, 5, 6]);
        assert_eq!(reachable_avoiding(&g, [0], Some(&avoid), |_| true).iter().collect::<Vec<_>>(), vec![0, 1, 4]);
    }
}
