//! The object graph and its algorithms. Knows nothing about Python or polars: nodes are dense `u32` ids, edges are
//! positions in a compressed sparse row ([`Csr`]) array, and whatever a caller wants to say about an edge (a label,
//! a kind) lives in its own arrays indexed by edge position.
//!
//! - [`Csr`]: the graph. Built from an edge list ([`Csr::from_edges`]), from per-node adjacency produced in parallel
//!   ([`Csr::from_adjacency`], [`Csr::from_adjacency_with`]) or from known degrees and a parallel fill
//!   ([`Csr::from_fill`]); [`Csr::transpose`] gives the referrers' graph by a parallel counting sort.
//!   [`Csr::transpose_with_positions`] also keeps each reversed edge's forward position ([`Transposed`]), for the
//!   algorithms that walk referrers under a filter over forward edges.
//! - [`reach`]: which nodes are reachable from a set of sources, following only the edges a filter accepts.
//! - [`scc`]: strongly connected components (reference cycles), by an iterative Pearce–Tarjan search.
//! - [`dominators`](mod@dominators): exact immediate dominators below a virtual root over the root set, by Semi-NCA.
//! - [`retained`](mod@retained): retained count, bytes and footprint of every node in one pass over the dominator
//!   tree, and the tree's children lists and depths.
//! - [`sets`]: the retained totals of whole sets of nodes (what freeing all of a set at once would free), for many
//!   disjoint sets in one dominator computation.
//! - [`paths`]: shortest paths from the roots by breadth-first search, and a few alternative last hops.
//!
//! Every algorithm takes a `&Csr` (and its [`Transposed`] where it walks backwards) and an edge filter
//! `Fn(usize) -> bool` over edge positions, so callers can ignore weak edges without building another graph. Results
//! are per-node `u32`/`u64` arrays; none recurses, so a ten-million-node chain is as safe as a bushy graph.
//!
//! # Memory
//!
//! Per edge: one `u32` target (4 bytes). Per node: one `u32` offset (4 bytes). Offsets are `u32`, so a graph holds
//! at most [`MAX_EDGES`] (2³² − 1) edges; building a larger one fails with [`GraphError::TooManyEdges`] rather than
//! wrapping. Node ids are `u32` anyway, and a Python heap with four billion references would hold roughly a billion
//! objects (≥ 100 GB of heap): the `u32` offsets save 4 bytes per node in each direction (80 MB for the forward and
//! reverse graphs of 10 M objects) for a limit no realistic core reaches.

mod csr;
pub mod dominators;
pub mod paths;
pub mod reach;
pub mod retained;
pub mod scc;
pub mod sets;
mod transpose;

pub use csr::Csr;
pub use dominators::{dominators, Dominators};
pub use paths::{shortest_paths, PathStep, ShortestPaths};
pub use retained::{retained, DominatorTree, Retained};
pub use scc::{strongly_connected_components, Sccs};
pub use sets::{set_retained, SetRetained};
pub use transpose::Transposed;

/// A node id: dense, `0..num_nodes`.
pub type NodeId = u32;

/// Most edges a [`Csr`] holds (its offsets are `u32`).
pub const MAX_EDGES: usize = u32::MAX as usize;

/// Most nodes a [`Csr`] holds (ids are `u32`, and `num_nodes` itself must fit).
pub const MAX_NODES: usize = u32::MAX as usize;

/// Why a graph could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// More edges than `u32` offsets can address.
    #[error("{edges} edges is more than the graph's limit of {MAX_EDGES}")]
    TooManyEdges {
        /// The number of edges asked for (at least; counting may stop at the limit).
        edges: u64,
    },
    /// More nodes than `u32` ids can name.
    #[error("{nodes} nodes is more than the graph's limit of {MAX_NODES}")]
    TooManyNodes {
        /// The number of nodes asked for.
        nodes: u64,
    },
    /// An edge names a node outside `0..num_nodes`.
    #[error("edge {source_node} -> {target} names a node outside 0..{num_nodes}")]
    NodeOutOfRange {
        /// Its source.
        source_node: NodeId,
        /// Its target.
        target: NodeId,
        /// The number of nodes.
        num_nodes: usize,
    },
    /// [`Csr::from_parts`] was given offsets that do not describe the targets.
    #[error("malformed CSR offsets: {why}")]
    BadOffsets {
        /// What is wrong.
        why: &'static str,
    },
    /// A fill callback wrote a target outside `0..num_nodes`.
    #[error("node {source_node} was given the target {target}, outside 0..{num_nodes}")]
    TargetOutOfRange {
        /// The node being filled.
        source_node: NodeId,
        /// The bad target.
        target: NodeId,
        /// The number of nodes.
        num_nodes: usize,
    },
    /// An algorithm was given a reverse graph that is not shaped like its forward graph's transpose.
    #[error(
        "the transposed graph ({transposed_nodes} nodes, {transposed_edges} edges) is not the transpose of the graph \
         ({nodes} nodes, {edges} edges)"
    )]
    TransposeMismatch {
        /// The forward graph's nodes.
        nodes: usize,
        /// The forward graph's edges.
        edges: usize,
        /// The transposed graph's nodes.
        transposed_nodes: usize,
        /// The transposed graph's edges.
        transposed_edges: usize,
    },
    /// A per-node array does not have one entry per node.
    #[error("{what} has {len} entries for {expected} nodes")]
    WrongLength {
        /// Which array.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The number of nodes.
        expected: usize,
    },
}

#[cfg(test)]
mod tests;
