//! The reverse graph, by a parallel counting sort: count each node's in-degree, turn the counts into offsets, scatter
//! every edge's source to its target's next free slot, then sort each node's sources (so the result does not depend
//! on thread scheduling).

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
