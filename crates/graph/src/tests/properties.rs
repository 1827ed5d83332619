//! Property tests: every analysis on thousands of random small graphs (see [`Case::random`]) against the naive
//! references of [`super::oracle`].

use super::oracle::Case;
use super::Rng;
use crate::{strongly_connected_components, Csr, NodeId};

const CASES: u64 = 12_000;

#[test]
fn analyses_agree_with_naive_references_on_random_graphs() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
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
    }
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
