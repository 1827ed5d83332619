//! Property tests: every analysis on thousands of random small graphs (see [`Case::random`]) against the naive
//! references of [`super::oracle`].

use super::oracle::Case;
use super::Rng;
use crate::dominators::{UNREACHABLE, VIRTUAL_ROOT};
use crate::paths::NONE;
use crate::{
    dominators, retained, shortest_paths, strongly_connected_components, Csr, DominatorTree, NodeId, PathStep,
};

const CASES: u64 = 12_000;

#[test]
fn analyses_agree_with_naive_references_on_random_graphs() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut reachable_checked = 0;
    for case_no in 0..CASES {
        let case = Case::random(&mut rng);
        let ctx = format!(
            "case {case_no}: edges {:?}, accept {:?}, roots {:?}",
            case.g.edges().collect::<Vec<_>>(),
            case.accept,
            case.roots
        );
        check_transpose_positions(&case.g, &ctx);
        check_sccs(&case, &ctx);
        reachable_checked += check_dominators_and_retained(&case, &mut rng, &ctx);
        check_paths(&case, &mut rng, &ctx);
    }
    // The generator must produce graphs where the roots reach something, or the dominator checks test little.
    assert!(reachable_checked > CASES as usize * 5, "only {reachable_checked} reachable nodes checked");
}

fn check_transpose_positions(g: &Csr, ctx: &str) {
    let t = g.transpose_with_positions();
    assert_eq!(t.graph(), &g.transpose(), "{ctx}");
    for v in 0..g.num_nodes() as NodeId {
        for (s, e) in t.in_edges(v) {
            assert!(g.edge_range(s).contains(&e) && g.targets()[e] == v, "{ctx}: reverse edge {v} <- {s} at {e}");
        }
    }
    let mut seen: Vec<u32> = t.forward_positions().to_vec();
    seen.sort_unstable();
    assert!(seen.iter().enumerate().all(|(i, &p)| p as usize == i), "{ctx}: positions are not a permutation");
}

fn check_sccs(case: &Case, ctx: &str) {
    let n = case.g.num_nodes();
    let sccs = strongly_connected_components(&case.g, case.follow());
    let reach: Vec<Vec<bool>> = (0..n as NodeId).map(|u| case.reach(&[u], None)).collect();
    for (u, from_u) in reach.iter().enumerate() {
        for (v, from_v) in reach.iter().enumerate() {
            let mutual = from_u[v] && from_v[u];
            let same = sccs.component_of(u as NodeId) == sccs.component_of(v as NodeId);
            assert_eq!(same, mutual, "{ctx}: nodes {u} and {v}");
        }
    }
    let k = sccs.num_components();
    assert!(sccs.components().iter().all(|&c| (c as usize) < k), "{ctx}");
    assert_eq!(sccs.member_offsets().len(), k + 1, "{ctx}");
    let mut total = 0;
    for c in 0..k as u32 {
        let members = sccs.members(c);
        assert!(!members.is_empty() && members.windows(2).all(|w| w[0] < w[1]), "{ctx}: component {c}");
        assert!(members.iter().all(|&v| sccs.component_of(v) == c), "{ctx}: component {c}");
        total += members.len();
        let self_loop = case.accepted().iter().any(|&(s, t, _)| s == t && s == members[0]);
        assert_eq!(sccs.is_cycle(c), members.len() > 1 || self_loop, "{ctx}: component {c}");
    }
    assert_eq!(total, n, "{ctx}");
    for (s, t, _) in case.accepted() {
        let (cs, ct) = (sccs.component_of(s), sccs.component_of(t));
        assert!(cs >= ct, "{ctx}: edge {s} -> {t} goes from component {cs} up to {ct}");
    }
    assert!(!sccs.is_cycle(k as u32) && sccs.members(k as u32).is_empty());
}

/// Returns the number of reachable nodes checked.
fn check_dominators_and_retained(case: &Case, rng: &mut Rng, ctx: &str) -> usize {
    let n = case.g.num_nodes();
    let gt = case.g.transpose_with_positions();
    let dom = dominators(&case.g, &gt, case.roots.iter().copied(), case.follow()).unwrap();
    let reach = case.reach(&case.roots, None);
    let without: Vec<Vec<bool>> = (0..n as NodeId).map(|d| case.reach(&case.roots, Some(d))).collect();
    // Strict dominators of v: the nodes whose removal cuts v off from the roots.
    let strict =
        |v: usize| -> Vec<NodeId> { (0..n).filter(|&d| d != v && !without[d][v]).map(|d| d as NodeId).collect() };

    assert_eq!(dom.num_nodes(), n, "{ctx}");
    let mut position = vec![usize::MAX; n];
    for (i, &v) in dom.preorder().iter().enumerate() {
        assert_eq!(position[v as usize], usize::MAX, "{ctx}: {v} twice in the preorder");
        position[v as usize] = i;
    }
    let mut checked = 0;
    for v in 0..n {
        let idom = dom.idom()[v];
        if !reach[v] {
            assert_eq!(idom, UNREACHABLE, "{ctx}: node {v} is unreachable");
            assert_eq!(position[v], usize::MAX, "{ctx}: unreachable {v} in the preorder");
            continue;
        }
        checked += 1;
        assert_ne!(position[v], usize::MAX, "{ctx}: reachable {v} not in the preorder");
        // The chain of immediate dominators is exactly the set of strict dominators; its first link is the closest.
        let mut chain = Vec::new();
        let mut x = idom;
        while x != VIRTUAL_ROOT {
            assert!((x as usize) < n && chain.len() < n, "{ctx}: node {v}: bad idom chain {chain:?} then {x}");
            assert!(position[x as usize] < position[v], "{ctx}: idom {x} of {v} after it in the preorder");
            chain.push(x);
            x = dom.idom()[x as usize];
        }
        chain.sort_unstable();
        assert_eq!(chain, strict(v), "{ctx}: dominators of node {v} (idom {idom})");
        if idom != VIRTUAL_ROOT {
            // Closest: every other strict dominator dominates the idom.
            let others = strict(v).into_iter().filter(|&d| d != idom);
            assert!(others.clone().all(|d| !without[d as usize][idom as usize]), "{ctx}: idom of {v}");
            assert!(dom.dominates(idom, v as NodeId) && others.clone().all(|d| dom.dominates(d, v as NodeId)));
        }
    }

    let size: Vec<u64> = (0..n).map(|_| rng.below(1000).into()).collect();
    let foot: Vec<u64> = (0..n).map(|_| rng.below(5000).into()).collect();
    let ret = retained(&dom, &size, &foot).unwrap();
    let tree = DominatorTree::new(&dom);
    for v in 0..n {
        let set: Vec<usize> =
            if reach[v] { (0..n).filter(|&u| u == v || (reach[u] && !without[v][u])).collect() } else { vec![v] };
        assert_eq!(ret.count()[v] as usize, set.len(), "{ctx}: retained count of {v}");
        assert_eq!(ret.bytes()[v], set.iter().map(|&u| size[u]).sum::<u64>(), "{ctx}: retained bytes of {v}");
        assert_eq!(ret.footprint()[v], set.iter().map(|&u| foot[u]).sum::<u64>(), "{ctx}: footprint of {v}");
        let children: Vec<NodeId> = (0..n as NodeId).filter(|&c| dom.idom()[c as usize] == v as NodeId).collect();
        assert_eq!(tree.children(v as NodeId), &children[..], "{ctx}: children of {v}");
        let depth = if reach[v] { Some(strict(v).len() as u32 + 1) } else { None };
        assert_eq!(tree.depth(v as NodeId), depth, "{ctx}: depth of {v}");
    }
    let top: Vec<NodeId> = (0..n as NodeId).filter(|&c| dom.idom()[c as usize] == VIRTUAL_ROOT).collect();
    assert_eq!(tree.top(), &top[..], "{ctx}");
    checked
}

fn check_paths(case: &Case, rng: &mut Rng, ctx: &str) {
    let n = case.g.num_nodes();
    let sp = shortest_paths(&case.g, case.roots.iter().copied(), case.follow());
    let want = case.distances();
    let gt = case.g.transpose_with_positions();
    let is_root = |v: NodeId| case.roots.contains(&v);
    for v in 0..n as NodeId {
        assert_eq!(sp.distance(v), want[v as usize], "{ctx}: distance of {v}");
        let path = sp.path_to(v);
        let Some(d) = want[v as usize] else {
            assert!(path.is_empty() && sp.parents()[v as usize] == NONE && sp.edges()[v as usize] == NONE, "{ctx}");
            continue;
        };
        check_path(case, &path, v, ctx);
        assert_eq!(path.len(), d as usize + 1, "{ctx}: path to {v}");

        let k = 1 + rng.below(5) as usize;
        let paths = sp.paths_to(&gt, v, k, case.follow()).unwrap();
        assert_eq!(paths[0], path, "{ctx}: first of the paths to {v}");
        let hops = case.accepted().iter().filter(|&&(s, t, _)| t == v && want[s as usize].is_some()).count();
        let expect = if d == 0 { 1 } else { hops.min(k) };
        assert_eq!(paths.len(), expect, "{ctx}: {k} paths to {v}");
        let mut last_edges: Vec<u32> = paths.iter().map(|p| p[p.len() - 1].edge).collect();
        for p in &paths {
            check_path(case, p, v, ctx);
        }
        // Nearest referrers first, after the shortest path.
        let lens: Vec<usize> = paths[1..].iter().map(Vec::len).collect();
        assert!(lens.windows(2).all(|w| w[0] <= w[1]), "{ctx}: path lengths {lens:?}");
        last_edges.sort_unstable();
        last_edges.dedup();
        assert_eq!(last_edges.len(), paths.len(), "{ctx}: paths to {v} share a last edge");
        assert_eq!(d == 0, is_root(v), "{ctx}");
    }
}

/// A path starts at a root and each further step is an accepted edge from the previous node.
fn check_path(case: &Case, path: &[PathStep], target: NodeId, ctx: &str) {
    assert!(case.roots.contains(&path[0].node) && path[0].edge == NONE, "{ctx}: path {path:?}");
    assert_eq!(path[path.len() - 1].node, target, "{ctx}: path {path:?}");
    for w in path.windows(2) {
        let e = w[1].edge as usize;
        assert!(case.g.edge_range(w[0].node).contains(&e), "{ctx}: path {path:?}");
        assert!(case.g.targets()[e] == w[1].node && case.accept[e], "{ctx}: path {path:?}");
    }
}
