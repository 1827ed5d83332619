//! The reverse graph, by a parallel counting sort: count each node's in-degree, turn the counts into offsets, scatter
//! every edge's source to its target's next free slot, then sort each node's sources (so the result does not depend
//! on thread scheduling).
//!
//! [`Csr::transpose_with_positions`] also remembers, for every reversed edge, the position of the forward edge it
//! reverses ([`Transposed`]): an algorithm that walks referrers (dominators, alternative paths) can then apply a filter
//! stated over forward edge positions, the only edge identity callers have.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use rayon::prelude::*;

use crate::csr::{block_regions, prefix_sums, BLOCK_NODES};
use crate::{Csr, NodeId};

impl Csr {
    /// The reverse graph: node `v` has an edge to `u` for every edge `u → v` here (parallel edges stay parallel).
    /// Each node's sources are sorted ascending.
    ///
    /// Memory: the result's arrays (4 bytes per edge and per node) plus one `u32` counter per node during the sort.
    pub fn transpose(&self) -> Csr {
        let n = self.num_nodes();
        group_by_key(n, self.num_edges(), || {
            (0..n as NodeId).into_par_iter().flat_map_iter(move |u| self.neighbors(u).iter().map(move |&v| (v, u)))
        })
    }

    /// The reverse graph, like [`Csr::transpose`], with the forward position of each reversed edge.
    ///
    /// Each node's reversed edges are ordered by forward position, so their sources are ascending and the graph is
    /// equal to [`Csr::transpose`]'s. Memory: the result's arrays (8 bytes per edge, 4 per node) plus one `u32`
    /// counter per node during the sort.
    pub fn transpose_with_positions(&self) -> Transposed {
        let n = self.num_nodes();
        let m = self.num_edges();
        let counts: Vec<AtomicU32> = (0..n).into_par_iter().map(|_| AtomicU32::new(0)).collect();
        self.targets().par_iter().for_each(|&v| {
            counts[v as usize].fetch_add(1, Relaxed);
        });
        // The total is this graph's edge count, within the limit: this cannot fail.
        let offsets = prefix_sums(counts.iter().map(|c| c.load(Relaxed)), n).unwrap_or_else(|_| vec![0; n + 1]);
        counts.par_iter().zip(&offsets[..n]).for_each(|(c, &o)| c.store(o, Relaxed));
        let sources: Vec<AtomicU32> = (0..m).into_par_iter().map(|_| AtomicU32::new(0)).collect();
        let positions: Vec<AtomicU32> = (0..m).into_par_iter().map(|_| AtomicU32::new(0)).collect();
        (0..n.div_ceil(BLOCK_NODES)).into_par_iter().for_each(|b| {
            for u in b * BLOCK_NODES..((b + 1) * BLOCK_NODES).min(n) {
                for e in self.edge_range(u as NodeId) {
                    let at = counts[self.targets()[e] as usize].fetch_add(1, Relaxed) as usize;
                    sources[at].store(u as NodeId, Relaxed);
                    positions[at].store(e as u32, Relaxed);
                }
            }
        });
        drop(counts);
        let mut sources: Vec<NodeId> = sources.into_iter().map(AtomicU32::into_inner).collect();
        let mut positions: Vec<u32> = positions.into_iter().map(AtomicU32::into_inner).collect();
        let s_blocks = block_regions(&offsets, &mut sources, BLOCK_NODES);
        let p_blocks = block_regions(&offsets, &mut positions, BLOCK_NODES);
        s_blocks.into_par_iter().zip(p_blocks).for_each(|((start, ss), (_, ps))| {
            let end = (start + BLOCK_NODES).min(n);
            let base = offsets[start] as usize;
            // One buffer per block, reused for every node that needs sorting.
            let mut packed: Vec<u64> = Vec::new();
            for v in start..end {
                let r = offsets[v] as usize - base..offsets[v + 1] as usize - base;
                if ps[r.clone()].windows(2).all(|w| w[0] < w[1]) {
                    continue;
                }
                packed.clear();
                packed.extend(r.clone().map(|k| u64::from(ps[k]) << 32 | u64::from(ss[k])));
                packed.sort_unstable();
                for (k, &x) in r.zip(&packed) {
                    ps[k] = (x >> 32) as u32;
                    ss[k] = x as u32;
                }
            }
        });
        Transposed { graph: Csr::from_raw(offsets, sources), forward: positions }
    }
}

/// A reverse graph and, for each of its edges, the position in the forward graph of the edge it reverses.
///
/// Made by [`Csr::transpose_with_positions`]; the positions always lie within the forward graph's edges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transposed {
    graph: Csr,
    forward: Vec<u32>,
}

impl Transposed {
    /// The reverse graph: node `v`'s targets are the sources of the forward edges into `v`.
    pub fn graph(&self) -> &Csr {
        &self.graph
    }

    /// For each reverse edge position, the forward edge position it reverses.
    pub fn forward_positions(&self) -> &[u32] {
        &self.forward
    }

    /// The edges into `node` as `(source, forward edge position)`, ascending. Panics if `node` is not a node.
    pub fn in_edges(&self, node: NodeId) -> impl Iterator<Item = (NodeId, usize)> + '_ {
        let range = self.graph.edge_range(node);
        self.graph.targets()[range.clone()].iter().zip(&self.forward[range]).map(|(&s, &e)| (s, e as usize))
    }

    /// Bytes of heap memory held.
    pub fn heap_bytes(&self) -> usize {
        self.graph.heap_bytes() + self.forward.capacity() * std::mem::size_of::<u32>()
    }

    /// The reverse graph and the forward positions.
    pub fn into_parts(self) -> (Csr, Vec<u32>) {
        (self.graph, self.forward)
    }
}

/// Groups `m` pairs `(key, value)` (every key `< n`, `m` within the edge limit: checked by the callers) into a CSR
/// where node `key` lists its values, sorted ascending. `pairs()` must yield the same pairs each time it is called.
pub(crate) fn group_by_key<I, F>(n: usize, m: usize, pairs: F) -> Csr
where
    I: ParallelIterator<Item = (NodeId, NodeId)>,
    F: Fn() -> I,
{
    let counts: Vec<AtomicU32> = (0..n).into_par_iter().map(|_| AtomicU32::new(0)).collect();
    pairs().for_each(|(k, _)| {
        counts[k as usize].fetch_add(1, Relaxed);
    });
    // The total is m, which the callers checked against the limit: this cannot fail.
    let offsets = prefix_sums(counts.iter().map(|c| c.load(Relaxed)), n).unwrap_or_else(|_| vec![0; n + 1]);
    counts.par_iter().zip(&offsets[..n]).for_each(|(c, &o)| c.store(o, Relaxed));
    let out: Vec<AtomicU32> = (0..m).into_par_iter().map(|_| AtomicU32::new(0)).collect();
    pairs().for_each(|(k, v)| {
        let at = counts[k as usize].fetch_add(1, Relaxed);
        out[at as usize].store(v, Relaxed);
    });
    drop(counts);
    // `AtomicU32` and `u32` have the same layout: this collect reuses the allocation.
    let mut values: Vec<NodeId> = out.into_iter().map(AtomicU32::into_inner).collect();
    block_regions(&offsets, &mut values, BLOCK_NODES).into_par_iter().for_each(|(start, region)| {
        let end = (start + BLOCK_NODES).min(n);
        let base = offsets[start] as usize;
        for u in start..end {
            region[offsets[u] as usize - base..offsets[u + 1] as usize - base].sort_unstable();
        }
    });
    Csr::from_raw(offsets, values)
}
