//! [`Csr`]: a directed graph in compressed sparse row form, and the ways to build it.

use std::ops::Range;

use rayon::prelude::*;

use crate::{GraphError, NodeId, MAX_EDGES, MAX_NODES};

/// Nodes per parallel work unit when building or sorting: large enough that scheduling costs nothing next to the
/// work, small enough that two cores stay busy on skewed degree distributions.
pub(crate) const BLOCK_NODES: usize = 1 << 14;

/// A directed graph over the nodes `0..num_nodes`: the targets of node `u`'s edges are
/// `targets[offsets[u]..offsets[u + 1]]`. An edge is identified by its position in `targets`, so per-edge data
/// (labels, kinds, weights) lives in arrays of the same length, in the same order.
///
/// Parallel edges and self-loops are allowed and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csr {
    /// `num_nodes + 1` entries, non-decreasing, `offsets[0] == 0`, last == `targets.len()`.
    offsets: Vec<u32>,
    /// Edge targets, grouped by source.
    targets: Vec<NodeId>,
}

impl Default for Csr {
    fn default() -> Self {
        Csr { offsets: vec![0], targets: Vec::new() }
    }
}

impl Csr {
    /// `num_nodes` nodes and no edges.
    pub fn empty(num_nodes: usize) -> Result<Csr, GraphError> {
        check_nodes(num_nodes)?;
        Ok(Csr { offsets: vec![0; num_nodes + 1], targets: Vec::new() })
    }

    /// Number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of edges.
    pub fn num_edges(&self) -> usize {
        self.targets.len()
    }

    /// The targets of `node`'s edges, in edge order. Panics if `node` is not a node of this graph.
    #[inline]
    pub fn neighbors(&self, node: NodeId) -> &[NodeId] {
        &self.targets[self.edge_range(node)]
    }

    /// The positions of `node`'s edges (indices into [`Csr::targets`] and into per-edge arrays). Panics if `node` is
    /// not a node of this graph.
    #[inline]
    pub fn edge_range(&self, node: NodeId) -> Range<usize> {
        let i = node as usize;
        self.offsets[i] as usize..self.offsets[i + 1] as usize
    }

    /// Number of edges leaving `node`.
    #[inline]
    pub fn degree(&self, node: NodeId) -> usize {
        self.edge_range(node).len()
    }

    /// The offsets array (`num_nodes + 1` entries).
    pub fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    /// The targets array (one entry per edge).
    pub fn targets(&self) -> &[NodeId] {
        &self.targets
    }

    /// Every edge as `(source, target)`, in edge order.
    pub fn edges(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        (0..self.num_nodes() as NodeId).flat_map(move |u| self.neighbors(u).iter().map(move |&v| (u, v)))
    }

    /// Bytes of heap memory held.
    pub fn heap_bytes(&self) -> usize {
        (self.offsets.capacity() + self.targets.capacity()) * std::mem::size_of::<u32>()
    }

    /// Builds a graph from its parts, checking every invariant.
    pub fn from_parts(offsets: Vec<u32>, targets: Vec<NodeId>) -> Result<Csr, GraphError> {
        if offsets.first() != Some(&0) || offsets.windows(2).any(|w| w[0] > w[1]) {
            return Err(GraphError::BadOffsets { why: "offsets must start at 0 and never decrease" });
        }
        let n = offsets.len() - 1;
        check_nodes(n)?;
        if offsets[n] as usize != targets.len() {
            return Err(GraphError::BadOffsets { why: "the last offset must equal the number of targets" });
        }
        let csr = Csr { offsets, targets };
        csr.check_targets()?;
        Ok(csr)
    }

    /// Builds a graph whose node `u` has `degrees[u]` edges: `fill(u, targets, payload)` writes them, in parallel
    /// over blocks of nodes, into slices of exactly that length. Returns the graph and the per-edge payload.
    ///
    /// This is the building block that needs no second copy of the edges: the caller knows the degrees (for
    /// instance because it has already produced the adjacency in its own buffers) and the graph's arrays are filled
    /// in place. A target outside `0..degrees.len()` is an error.
    pub fn from_fill<E, F>(degrees: &[u32], fill: F) -> Result<(Csr, Vec<E>), GraphError>
    where
        E: Copy + Default + Send + Sync,
        F: Fn(NodeId, &mut [NodeId], &mut [E]) + Sync,
    {
        let n = degrees.len();
        check_nodes(n)?;
        let offsets = prefix_sums(degrees.iter().copied(), n)?;
        let m = offsets[n] as usize;
        let mut targets = vec![0 as NodeId; m];
        let mut payload = vec![E::default(); m];
        let t_blocks = block_regions(&offsets, &mut targets, BLOCK_NODES);
        let p_blocks = block_regions(&offsets, &mut payload, BLOCK_NODES);
        t_blocks.into_par_iter().zip(p_blocks).try_for_each(|((start, ts), (_, ps))| {
            let end = (start + BLOCK_NODES).min(n);
            let base = offsets[start] as usize;
            for u in start..end {
                let r = offsets[u] as usize - base..offsets[u + 1] as usize - base;
                fill(u as NodeId, &mut ts[r.clone()], &mut ps[r.clone()]);
                if let Some(&bad) = ts[r].iter().find(|&&t| t as usize >= n) {
                    return Err(GraphError::TargetOutOfRange { source_node: u as NodeId, target: bad, num_nodes: n });
                }
            }
            Ok(())
        })?;
        Ok((Csr { offsets, targets }, payload))
    }

    /// Builds a graph from each node's targets, produced in parallel: `adjacency(u, out)` appends node `u`'s targets
    /// to `out` (called once per node). Edge order within a node is the order they were appended.
    ///
    /// The adjacency is first gathered per block of nodes, then copied into the graph: building needs about twice
    /// the graph's edge memory for a moment. A caller that already holds the adjacency should use
    /// [`Csr::from_fill`].
    pub fn from_adjacency<F>(num_nodes: usize, adjacency: F) -> Result<Csr, GraphError>
    where
        F: Fn(NodeId, &mut Vec<NodeId>) + Sync,
    {
        let blocks = adjacency_blocks(num_nodes, adjacency)?;
        let degrees = block_degrees(&blocks, num_nodes);
        let (csr, _) = Self::from_fill::<(), _>(&degrees, |u, ts, _| {
            ts.copy_from_slice(block_slice(&blocks, u, ts.len()));
        })?;
        Ok(csr)
    }

    /// Like [`Csr::from_adjacency`], with a payload per edge (`out` receives `(target, payload)`); returns the graph
    /// and the payload in edge order.
    pub fn from_adjacency_with<E, F>(num_nodes: usize, adjacency: F) -> Result<(Csr, Vec<E>), GraphError>
    where
        E: Copy + Default + Send + Sync,
        F: Fn(NodeId, &mut Vec<(NodeId, E)>) + Sync,
    {
        let blocks = adjacency_blocks(num_nodes, adjacency)?;
        let degrees = block_degrees(&blocks, num_nodes);
        Self::from_fill(&degrees, |u, ts, ps| {
            for (k, &(t, p)) in block_slice(&blocks, u, ts.len()).iter().enumerate() {
                ts[k] = t;
                ps[k] = p;
            }
        })
    }

    /// Builds a graph from an edge list `(source, target)`, by a parallel counting sort on the source. Each node's
    /// targets come out sorted ascending (deterministic, whatever the input order).
    pub fn from_edges(num_nodes: usize, edges: &[(NodeId, NodeId)]) -> Result<Csr, GraphError> {
        check_nodes(num_nodes)?;
        if edges.len() > MAX_EDGES {
            return Err(GraphError::TooManyEdges { edges: edges.len() as u64 });
        }
        if let Some(&(s, t)) = edges.par_iter().find_any(|&&(s, t)| s as usize >= num_nodes || t as usize >= num_nodes)
        {
            return Err(GraphError::NodeOutOfRange { source_node: s, target: t, num_nodes });
        }
        Ok(crate::transpose::group_by_key(num_nodes, edges.len(), || edges.par_iter().copied()))
    }

    /// Checks that every target names a node.
    fn check_targets(&self) -> Result<(), GraphError> {
        let n = self.num_nodes();
        match self.targets.par_iter().position_any(|&t| t as usize >= n) {
            None => Ok(()),
            Some(pos) => {
                let source = self.offsets.partition_point(|&o| (o as usize) <= pos) - 1;
                Err(GraphError::TargetOutOfRange {
                    source_node: source as NodeId,
                    target: self.targets[pos],
                    num_nodes: n,
                })
            }
        }
    }

    /// The graph's arrays, for algorithms in this crate.
    pub(crate) fn from_raw(offsets: Vec<u32>, targets: Vec<NodeId>) -> Csr {
        debug_assert_eq!(offsets.last().copied().map(|o| o as usize), Some(targets.len()));
        Csr { offsets, targets }
    }
}

/// One block of gathered adjacency: each node's end position in the block's items, and the items.
type Block<T> = (Vec<u32>, Vec<T>);

/// Calls `adjacency` for every node, in parallel over blocks of [`BLOCK_NODES`] nodes, gathering each block's items.
fn adjacency_blocks<T, F>(num_nodes: usize, adjacency: F) -> Result<Vec<Block<T>>, GraphError>
where
    T: Send,
    F: Fn(NodeId, &mut Vec<T>) + Sync,
{
    check_nodes(num_nodes)?;
    let blocks: Vec<Block<T>> = (0..num_nodes.div_ceil(BLOCK_NODES))
        .into_par_iter()
        .map(|b| {
            let start = b * BLOCK_NODES;
            let end = (start + BLOCK_NODES).min(num_nodes);
            let mut ends = Vec::with_capacity(end - start);
            let mut items = Vec::new();
            for u in start..end {
                adjacency(u as NodeId, &mut items);
                ends.push(u32::try_from(items.len()).unwrap_or(u32::MAX));
            }
            (ends, items)
        })
        .collect();
    let total: u64 = blocks.iter().map(|(_, items)| items.len() as u64).sum();
    if total > MAX_EDGES as u64 || blocks.iter().any(|(_, items)| items.len() >= u32::MAX as usize) {
        return Err(GraphError::TooManyEdges { edges: total });
    }
    Ok(blocks)
}

/// Each node's degree, from gathered blocks.
fn block_degrees<T>(blocks: &[Block<T>], num_nodes: usize) -> Vec<u32> {
    let mut degrees = Vec::with_capacity(num_nodes);
    for (ends, _) in blocks {
        let mut prev = 0;
        for &e in ends {
            degrees.push(e - prev);
            prev = e;
        }
    }
    degrees
}

/// Node `u`'s `len` items in gathered blocks.
fn block_slice<T>(blocks: &[Block<T>], u: NodeId, len: usize) -> &[T] {
    let (b, i) = (u as usize / BLOCK_NODES, u as usize % BLOCK_NODES);
    let (ends, items) = &blocks[b];
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &items[start..start + len]
}

/// Fails if `n` nodes cannot be numbered with `u32` ids.
pub(crate) fn check_nodes(n: usize) -> Result<(), GraphError> {
    if n > MAX_NODES {
        return Err(GraphError::TooManyNodes { nodes: n as u64 });
    }
    Ok(())
}

/// `n + 1` offsets from `n` counts; fails when the total exceeds [`MAX_EDGES`].
pub(crate) fn prefix_sums(counts: impl Iterator<Item = u32>, n: usize) -> Result<Vec<u32>, GraphError> {
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0u32);
    let mut total = 0u64;
    for c in counts {
        total += u64::from(c);
        if total > MAX_EDGES as u64 {
            return Err(GraphError::TooManyEdges { edges: total });
        }
        offsets.push(total as u32);
    }
    Ok(offsets)
}

/// Splits `data` (one entry per edge) into the regions of consecutive blocks of `block` nodes: `(first node,
/// that block's edges)`. The regions are disjoint, so blocks can be filled in parallel without locks.
pub(crate) fn block_regions<'a, T>(offsets: &[u32], mut data: &'a mut [T], block: usize) -> Vec<(usize, &'a mut [T])> {
    let n = offsets.len() - 1;
    let mut out = Vec::with_capacity(n.div_ceil(block));
    let mut start = 0;
    while start < n {
        let end = (start + block).min(n);
        let len = (offsets[end] - offsets[start]) as usize;
        let (head, tail) = std::mem::take(&mut data).split_at_mut(len);
        out.push((start, head));
        data = tail;
        start = end;
    }
    out
}
