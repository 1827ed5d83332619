//! Strongly connected components: the groups of nodes that can all reach one another, such as reference cycles.
//!
//! Pearce's space-efficient variant of Tarjan's algorithm ("A space-efficient algorithm for finding strongly
//! connected components", IPL 2016), written as a loop over an explicit stack so that a chain of ten million nodes
//! needs ten million stack entries on the heap, not ten million native frames. One `u32` per node serves first as
//! the node's visit index and low-link, then as its component number; a node's component is known once the DFS leaves
//! the component's root.
//!
//! Components are numbered in the order Tarjan's algorithm completes them, which is a reverse topological order of the
//! condensation: if an accepted edge leads from component `a` to a different component `b`, then `b < a`. Component 0
//! is a sink (no accepted edge leaves it).
//!
//! Memory: 4 bytes per node for the numbering, up to 4 for the stack of unfinished nodes and 8 per level of DFS
//! depth, two bits per node; the result holds 8 bytes per node and 4 (and a bit) per component.

use crate::{Csr, NodeId};

/// The strongly connected components of a graph, as found by [`strongly_connected_components`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sccs {
    /// Per node: its component.
    component: Vec<u32>,
    /// Per component (+ 1): where its members start in `members`.
    offsets: Vec<u32>,
    /// Nodes grouped by component, ascending within each.
    members: Vec<NodeId>,
    /// One bit per component: a cycle (more than one member, or a self-loop through an accepted edge).
    cyclic: Vec<u64>,
}

impl Sccs {
    /// Number of components.
    pub fn num_components(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Per node, its component id (`0..num_components`), in reverse topological order (see the module docs).
    pub fn components(&self) -> &[u32] {
        &self.component
    }

    /// The component of `node`. Panics if `node` is not a node of the graph.
    pub fn component_of(&self, node: NodeId) -> u32 {
        self.component[node as usize]
    }

    /// The members of component `c`, ascending. Empty for an id that is not a component.
    pub fn members(&self, c: u32) -> &[NodeId] {
        let c = c as usize;
        if c >= self.num_components() {
            return &[];
        }
        &self.members[self.offsets[c] as usize..self.offsets[c + 1] as usize]
    }

    /// Number of members of component `c` (0 for an id that is not a component).
    pub fn size(&self, c: u32) -> usize {
        self.members(c).len()
    }

    /// True if component `c` is a cycle: it has more than one member, or its one member has a self-loop through an
    /// accepted edge.
    pub fn is_cycle(&self, c: u32) -> bool {
        let c = c as usize;
        c < self.num_components() && self.cyclic[c / 64] & (1 << (c % 64)) != 0
    }

    /// The members of all components, grouped by component (component `c` at
    /// `member_offsets()[c]..member_offsets()[c + 1]`).
    pub fn all_members(&self) -> &[NodeId] {
        &self.members
    }

    /// `num_components + 1` offsets into [`Sccs::all_members`].
    pub fn member_offsets(&self) -> &[u32] {
        &self.offsets
    }

    /// The per-node components, without copying them.
    pub fn into_components(self) -> Vec<u32> {
        self.component
    }
}

/// The strongly connected components of `g`, following only the edges `e` (positions in `g.targets()`) for which
/// `follow(e)` is true. Every node belongs to exactly one component (a node on no cycle is a component by itself).
pub fn strongly_connected_components<F>(g: &Csr, follow: F) -> Sccs
where
    F: Fn(usize) -> bool,
{
    let n = g.num_nodes();
    let (offsets, targets) = (g.offsets(), g.targets());
    // Pearce's rindex: 0 while unvisited, the visit index (lowered to the low-link) while on a stack, and once its
    // component is complete, `done` counting down from n - 1: always above every index still in use.
    let mut rindex = vec![0u32; n];
    let mut not_root = vec![0u64; n.div_ceil(64)];
    let mut self_loop = vec![0u64; n.div_ceil(64)];
    // The DFS path: (node, next edge position to look at).
    let mut path: Vec<(NodeId, u32)> = Vec::new();
    // Visited nodes whose component is not complete yet and that are not on the path.
    let mut pending: Vec<NodeId> = Vec::new();
    let mut index: u32 = 1;
    // Counts down from n - 1; `wrapping_sub` because the last component takes it below 0 and it is not used after.
    let mut done: u32 = (n as u32).wrapping_sub(1);
    let set = |bits: &mut [u64], v: usize| bits[v / 64] |= 1 << (v % 64);
    let get = |bits: &[u64], v: usize| bits[v / 64] & (1 << (v % 64)) != 0;

    for start in 0..n {
        if rindex[start] != 0 {
            continue;
        }
        rindex[start] = index;
        index += 1;
        path.push((start as NodeId, offsets[start]));
        while let Some(&(v, next)) = path.last() {
            let vi = v as usize;
            let end = offsets[vi + 1];
            let mut e = next;
            let mut child = None;
            while e < end {
                let pos = e as usize;
                e += 1;
                if !follow(pos) {
                    continue;
                }
                let w = targets[pos] as usize;
                if rindex[w] == 0 {
                    child = Some(w);
                    break;
                }
                if w == vi {
                    set(&mut self_loop, vi);
                }
                if rindex[w] < rindex[vi] {
                    rindex[vi] = rindex[w];
                    set(&mut not_root, vi);
                }
            }
            if let Some(top) = path.last_mut() {
                top.1 = e;
            }
            if let Some(w) = child {
                rindex[w] = index;
                index += 1;
                path.push((w as NodeId, offsets[w]));
                touch(g, w as NodeId, &rindex);
                continue;
            }
            // v is finished.
            path.pop();
            if get(&not_root, vi) {
                pending.push(v);
            } else {
                // v is the root of a component: it and the pending nodes visited after it.
                index -= 1;
                while let Some(&w) = pending.last() {
                    if rindex[vi] > rindex[w as usize] {
                        break;
                    }
                    pending.pop();
                    rindex[w as usize] = done;
                    index -= 1;
                }
                rindex[vi] = done;
                done = done.wrapping_sub(1);
            }
            if let Some(&(p, _)) = path.last() {
                let pi = p as usize;
                if rindex[vi] < rindex[pi] {
                    rindex[pi] = rindex[vi];
                    set(&mut not_root, pi);
                }
            }
        }
    }
    drop((path, pending, not_root));

    // Component numbers: the first completed (done == n - 1) is 0.
    let num_components = (n as u32).wrapping_sub(1).wrapping_sub(done) as usize;
    let mut component = rindex;
    let mut counts = vec![0u32; num_components + 1];
    for c in &mut component {
        *c = (n as u32 - 1) - *c;
        counts[*c as usize + 1] += 1;
    }
    for c in 0..num_components {
        counts[c + 1] += counts[c];
    }
    let offsets = counts;
    let mut next: Vec<u32> = offsets[..num_components].to_vec();
    let mut members = vec![0 as NodeId; n];
    let mut cyclic = vec![0u64; num_components.div_ceil(64)];
    for (v, &c) in component.iter().enumerate() {
        let c = c as usize;
        members[next[c] as usize] = v as NodeId;
        next[c] += 1;
        if get(&self_loop, v) || offsets[c + 1] - offsets[c] > 1 {
            set(&mut cyclic, c);
        }
    }
    Sccs { component, offsets, members, cyclic }
}

/// Reads the number of every target of `v`, and the first edge of each not yet visited, all at once, so that the
/// DFS's one-by-one look at them, and its step down to the next child, find them in cache: on a large graph these
/// independent reads overlap, where the DFS's dependent ones would each wait for memory.
#[inline]
fn touch(g: &Csr, v: NodeId, rindex: &[u32]) {
    let (offsets, targets) = (g.offsets(), g.targets());
    let any = g.neighbors(v).iter().fold(0, |acc, &w| {
        let first = if rindex[w as usize] == 0 { targets.get(offsets[w as usize] as usize).copied() } else { None };
        acc | first.unwrap_or(1)
    });
    std::hint::black_box(any);
}
