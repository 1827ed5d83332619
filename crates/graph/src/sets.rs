//! Retained totals of whole sets of nodes: what freeing every node of a set at once would free.
//!
//! The retained set of a set S is S and every node that a root reaches, but no longer once S is gone. It is not the
//! union of its members' retained sets (their dominator subtrees): a node that two members both reach is retained by
//! neither alone, yet by the two together; nor can one dominator computation with each set contracted to one node
//! give it for many sets at once (entering one set by one member and leaving it by another makes paths that do not
//! exist).
//!
//! [`set_retained`] computes each set's by its definition, in time proportional to what the set reaches rather than
//! to the graph. `R0`, the nodes the roots reach while avoiding *every* set, stays reachable without any one set, so
//! only the rest (the *region*) matters. For a set S, let C be what S reaches within the region. A reached node
//! outside C is still reached once S is gone (a path to it through S would put it in C), so the nodes of C that stay
//! reached are those a search within C (S left out) finds from C's roots and from C's nodes with a reference from a
//! reached node outside C; the others, and S, are S's retained set.
//!
//! The region needs no search of the whole graph besides R0's: a reached node outside R0 is reached through a member
//! that a root reaches by a path through no other member (after the last node of R0 on a path to it comes a
//! member), so the region is what the members R0's search runs into reach outside R0. Only members have references
//! from R0; the references within the region are gathered once for all sets.

use rayon::prelude::*;

use crate::reach::{reachable_avoiding, reachable_avoiding_boundary, NodeSet};
use crate::{Csr, GraphError, NodeId};

/// The retained totals of one set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetRetained {
    /// Nodes in the retained set (the members included).
    pub count: u64,
    /// The sum of their sizes.
    pub bytes: u64,
    /// The sum of their footprints.
    pub footprint: u64,
}

impl SetRetained {
    fn add(&mut self, size: u64, footprint: u64) {
        self.count += 1;
        self.bytes = self.bytes.saturating_add(size);
        self.footprint = self.footprint.saturating_add(footprint);
    }
}

/// The retained totals of each of `sets` in `g` below the `roots`, following only the edges `e` for which
/// `follow(e)` is true, with each node's own `size` and `footprint`.
///
/// The sets should be disjoint: a node named by several sets counts as a member of the first only; members outside
/// the graph are ignored. Members count whether a root reaches them or not; what only unreached members reach does
/// not (it is unreachable already). Sets are computed in the order given until the searches have visited `budget`
/// nodes and references in all; the sets after that are `None`.
pub fn set_retained<F>(
    g: &Csr,
    roots: &[NodeId],
    follow: F,
    sets: &[Vec<NodeId>],
    size: &[u64],
    footprint: &[u64],
    budget: u64,
) -> Result<Vec<Option<SetRetained>>, GraphError>
where
    F: Fn(usize) -> bool + Sync,
{
    let n = g.num_nodes();
    for (what, len) in [("size", size.len()), ("footprint", footprint.len())] {
        if len != n {
            return Err(GraphError::WrongLength { what, len, expected: n });
        }
    }
    const NONE: u32 = u32::MAX;
    let mut set_of = vec![NONE; n];
    let mut members = NodeSet::new(n);
    let mut own: Vec<Vec<NodeId>> = vec![Vec::new(); sets.len()];
    for (i, set) in sets.iter().enumerate() {
        for &m in set {
            if (m as usize) < n && set_of[m as usize] == NONE {
                set_of[m as usize] = i as u32;
                members.insert(m);
                own[i].push(m);
            }
        }
    }
    let roots: Vec<NodeId> = roots.iter().copied().filter(|&r| (r as usize) < n).collect();
    let mut is_root = NodeSet::new(n);
    for &r in &roots {
        is_root.insert(r);
    }
    // R0, and the members it runs into: the members a root reaches by a path through no other member.
    let (r0, entered) = reachable_avoiding_boundary(g, roots.iter().copied(), &members, &follow);
    // The region: what those members reach outside R0 (every reached node is in R0 or here; only members have a
    // reference from R0).
    let region = reachable_avoiding(g, entered.iter(), Some(&r0), &follow);
    let in_region = |v: NodeId| region.contains(v);
    // The references within the region, reversed: (target, source).
    let region_nodes: Vec<NodeId> = region.iter().collect();
    let into: Vec<(NodeId, NodeId)> = region_nodes
        .par_iter()
        .flat_map_iter(|&u| {
            let (in_region, follow) = (&in_region, &follow);
            g.edge_range(u).filter_map(move |e| {
                let t = g.targets()[e];
                (in_region(t) && follow(e)).then_some((t, u))
            })
        })
        .collect();
    drop(region_nodes);
    let into = Csr::from_edges(n, &into)?;
    // Per node, the set (number + 1) whose C it is in now, and whether it stays reached: stamps, never cleared.
    let mut in_c = vec![0u32; n];
    let mut alive = vec![0u32; n];
    let mut spent = 0u64;
    let mut out = Vec::with_capacity(sets.len());
    let mut c: Vec<NodeId> = Vec::new();
    let mut stack: Vec<NodeId> = Vec::new();
    for (i, set) in own.iter().enumerate() {
        if spent > budget {
            out.push(None);
            continue;
        }
        let stamp = i as u32 + 1;
        let mut r = SetRetained::default();
        // C: what the set's reached members reach within the region.
        c.clear();
        stack.clear();
        for &m in set {
            if in_region(m) {
                in_c[m as usize] = stamp;
                stack.push(m);
            } else {
                r.add(size[m as usize], footprint[m as usize]);
            }
        }
        while let Some(v) = stack.pop() {
            c.push(v);
            for e in g.edge_range(v) {
                let t = g.targets()[e];
                if in_c[t as usize] != stamp && in_region(t) && follow(e) {
                    in_c[t as usize] = stamp;
                    stack.push(t);
                }
            }
        }
        // What stays reached without the set: from C's roots and the nodes of C a reached node outside C refers to.
        let mut scanned = c.len() as u64;
        for &v in &c {
            if set_of[v as usize] == i as u32 {
                continue;
            }
            let from_outside = entered.contains(v) || into.neighbors(v).iter().any(|&u| in_c[u as usize] != stamp);
            scanned += into.degree(v) as u64;
            if is_root.contains(v) || from_outside {
                alive[v as usize] = stamp;
                stack.push(v);
            }
        }
        while let Some(v) = stack.pop() {
            for e in g.edge_range(v) {
                let t = g.targets()[e];
                if in_c[t as usize] == stamp
                    && alive[t as usize] != stamp
                    && set_of[t as usize] != i as u32
                    && follow(e)
                {
                    alive[t as usize] = stamp;
                    stack.push(t);
                }
            }
        }
        for &v in &c {
            if alive[v as usize] != stamp {
                r.add(size[v as usize], footprint[v as usize]);
            }
        }
        spent = spent.saturating_add(scanned.saturating_mul(2));
        out.push(Some(r));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r0(r: &[Option<SetRetained>], i: usize) -> (u64, u64) {
        let r = r[i].unwrap();
        (r.count, r.bytes)
    }

    /// Retained set of `set` by its definition: reachable from the roots, and not reachable once the set is gone.
    fn by_definition(g: &Csr, roots: &[NodeId], set: &[NodeId], size: &[u64]) -> (u64, u64) {
        let reach = |avoid: &[NodeId]| {
            let mut seen = vec![false; g.num_nodes()];
            let mut stack: Vec<NodeId> = roots.iter().copied().filter(|r| !avoid.contains(r)).collect();
            while let Some(v) = stack.pop() {
                if std::mem::replace(&mut seen[v as usize], true) {
                    continue;
                }
                stack.extend(g.neighbors(v).iter().copied().filter(|t| !avoid.contains(t)));
            }
            seen
        };
        let (all, without) = (reach(&[]), reach(set));
        let gone: Vec<usize> =
            (0..g.num_nodes()).filter(|&v| (all[v] && !without[v]) || set.contains(&(v as NodeId))).collect();
        (gone.len() as u64, gone.iter().map(|&v| size[v]).sum())
    }

    #[test]
    fn a_node_two_members_share_is_retained_by_the_set_not_by_either() {
        // root 0 -> 1, 2 (the set); 1 -> 3, 2 -> 3; 3 -> 4; 0 -> 5 -> 4.
        let g = Csr::from_edges(6, &[(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (0, 5), (5, 4)]).unwrap();
        let size = [1, 10, 100, 1000, 10000, 100000];
        let r = set_retained(&g, &[0], |_| true, &[vec![1, 2]], &size, &size, u64::MAX).unwrap();
        assert_eq!(r[0].unwrap(), SetRetained { count: 3, bytes: 1110, footprint: 1110 });
        assert_eq!(r0(&r, 0), by_definition(&g, &[0], &[1, 2], &size));
    }

    #[test]
    fn nested_disjoint_sets_and_members_that_are_roots() {
        // 0 (root) -> 1 -> 2 -> 3; set A = {1}, set B = {2, 4}; 4 is a root too, 4 -> 5; 2 -> 5.
        let g = Csr::from_edges(6, &[(0, 1), (1, 2), (2, 3), (4, 5), (2, 5)]).unwrap();
        let size = [1, 2, 4, 8, 16, 32];
        let roots = [0, 4];
        let sets = vec![vec![1], vec![2, 4]];
        let r = set_retained(&g, &roots, |_| true, &sets, &size, &size, u64::MAX).unwrap();
        for (i, set) in sets.iter().enumerate() {
            assert_eq!(r0(&r, i), by_definition(&g, &roots, set, &size), "set {i}");
        }
        // A retains 1 and, through it, 2 and 3 — but not 4, a root of its own, nor 5, which 4 holds.
        assert_eq!(r0(&r, 0), (3, 14));
    }

    #[test]
    fn filtered_edges_keep_nothing_alive_and_unreached_sets_hold_their_members() {
        // 0 -> 1 (filtered out), 0 -> 2 -> 1.
        let g = Csr::from_edges(3, &[(0, 1), (0, 2), (2, 1)]).unwrap();
        let size = [1, 2, 4];
        let first = g.edge_range(0).start;
        let r = set_retained(&g, &[0], |e| e != first, &[vec![2], vec![1]], &size, &size, u64::MAX).unwrap();
        assert_eq!(r0(&r, 0), (2, 6));
        // Unreached (no root): the members alone.
        let r = set_retained(&g, &[], |_| true, &[vec![2]], &size, &size, u64::MAX).unwrap();
        assert_eq!(r0(&r, 0), (1, 4));
    }

    #[test]
    fn sets_past_the_budget_are_not_computed() {
        let g = Csr::from_edges(4, &[(0, 1), (1, 2), (0, 3)]).unwrap();
        let size = [1, 2, 4, 8];
        let r = set_retained(&g, &[0], |_| true, &[vec![1], vec![3]], &size, &size, 0).unwrap();
        assert_eq!(r0(&r, 0), (2, 6));
        assert_eq!(r[1], None);
    }

    #[test]
    fn random_graphs_agree_with_the_definition() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let n = 2 + (next() % 14) as usize;
            let edges: Vec<(NodeId, NodeId)> =
                (0..next() % 30).map(|_| ((next() % n as u64) as NodeId, (next() % n as u64) as NodeId)).collect();
            let g = Csr::from_edges(n, &edges).unwrap();
            let size: Vec<u64> = (0..n).map(|v| 1 << v).collect();
            let roots: Vec<NodeId> = (0..n as NodeId).filter(|_| next() % 4 == 0).collect();
            let mut sets = vec![Vec::new(), Vec::new(), Vec::new()];
            for v in 0..n as NodeId {
                if let Some(set) = sets.get_mut((next() % 5) as usize) {
                    set.push(v);
                }
            }
            let r = set_retained(&g, &roots, |_| true, &sets, &size, &size, u64::MAX).unwrap();
            for (i, set) in sets.iter().enumerate() {
                let want = by_definition(&g, &roots, set, &size);
                assert_eq!(r0(&r, i), want, "n {n} edges {edges:?} roots {roots:?} set {set:?}");
            }
        }
    }
}
