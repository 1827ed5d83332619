//! What `gc.collect()` would free if it ran at the moment of the dump.
//!
//! A full collection (`gc_collect_main` on the oldest generation, every version 3.8–3.15) looks at the *candidates*:
//! the objects on the GC lists of generations 0–2 (tracked, not in the permanent generation of `gc.freeze()`,
//! not immortal). For each it computes `gc_refs`, its refcount minus the references from other candidates that
//! `tp_traverse` reports (`update_refs`, `subtract_refs`). A candidate with `gc_refs > 0` is referenced from outside
//! the candidates (a running frame, a C global, an untracked container, a leak) and survives, with everything it
//! reaches through `tp_traverse` among the candidates (`move_unreachable`). The rest is unreachable: its count is
//! what `gc.collect()` returns and, with `gc.DEBUG_SAVEALL`, the contents of `gc.garbage`.
//!
//! Clearing the unreachable objects then frees every object whose references all come from them: untracked
//! containers and non-GC objects (strs, ints, floats) that only the garbage holds. [`Garbage::freed`] follows that
//! cascade through owned references ([`RefKind::Traverse`] and [`RefKind::Hidden`]) with the refcounts; references
//! found by a conservative scan may be borrowed pointers, so they do not free anything.

use std::collections::HashMap;

use heapscope_cpython::heap::RefKind;
use heapscope_graph::reach::{reachable_avoiding, NodeSet};
use heapscope_snapshot::{ObjectId, Snapshot};

/// The result of a simulated full collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Garbage {
    /// Objects the collection finds unreachable, ascending: `len()` is what `gc.collect()` returns.
    pub unreachable: Vec<ObjectId>,
    /// Unreachable objects the collection leaves in `gc.garbage`: instances of types with a legacy `tp_del`, and
    /// every unreachable object they reach (ascending).
    pub uncollectable: Vec<ObjectId>,
    /// Unreachable objects whose finalizer (`__del__`, a C type's `tp_finalize`) or a weak reference's callback
    /// runs before they are cleared, and may resurrect them (ascending).
    pub may_resurrect: Vec<ObjectId>,
    /// Every object freed when the collectable unreachable ones are cleared: themselves, and the objects only they
    /// hold (ascending).
    pub freed: Vec<ObjectId>,
    /// `sys.getsizeof` summed over [`Garbage::freed`].
    pub freed_bytes: u64,
    /// Footprint summed over [`Garbage::freed`].
    pub freed_footprint: u64,
    /// The part of [`Garbage::freed`] that no finalizer can resurrect: what the [`Garbage::may_resurrect`] objects
    /// do not reach. Its count and `sys.getsizeof` total.
    pub certainly_freed: (u64, u64),
    /// Objects the collection looks at.
    pub candidates: u64,
    /// Candidates with more references from other candidates than their refcount: references the snapshot reports
    /// that the process does not count (a decoding error). Their `gc_refs` is taken as 0.
    pub overcounted: u64,
}

/// True when object `id` is looked at by a full collection.
fn is_candidate(snap: &Snapshot, id: ObjectId) -> bool {
    snap.is_gc_tracked(id) && !snap.is_permanent(id) && !snap.is_immortal(id)
}

/// Simulates `gc.collect()` on the snapshot (see the module documentation).
pub fn garbage(snap: &Snapshot) -> Garbage {
    let n = snap.len();
    let g = snap.graph();
    let refcounts = snap.refcounts();
    let mut not_candidate = NodeSet::new(n);
    let mut gc_refs: Vec<i64> = vec![0; n];
    let mut candidates = 0u64;
    for id in 0..n as ObjectId {
        if is_candidate(snap, id) {
            gc_refs[id as usize] = refcounts[id as usize];
            candidates += 1;
        } else {
            not_candidate.insert(id);
        }
    }
    // subtract_refs: the tp_traverse references among candidates.
    for src in 0..n as ObjectId {
        if not_candidate.contains(src) {
            continue;
        }
        let range = g.edge_range(src);
        let base = range.start;
        for (k, &dst) in g.targets()[range].iter().enumerate() {
            if snap.edge_kind(base + k) == RefKind::Traverse && !not_candidate.contains(dst) {
                gc_refs[dst as usize] -= 1;
            }
        }
    }
    let overcounted = gc_refs.iter().enumerate().filter(|&(i, &r)| r < 0 && !not_candidate.contains(i as u32)).count();
    // move_unreachable: what the externally referenced candidates reach through tp_traverse, among candidates.
    let externally_held = (0..n as ObjectId).filter(|&id| !not_candidate.contains(id) && gc_refs[id as usize] > 0);
    let reachable =
        reachable_avoiding(g, externally_held, Some(&not_candidate), |e| snap.edge_kind(e) == RefKind::Traverse);
    let unreachable: Vec<ObjectId> =
        (0..n as ObjectId).filter(|&id| !not_candidate.contains(id) && !reachable.contains(id)).collect();
    let in_unreachable = {
        let mut set = NodeSet::new(n);
        unreachable.iter().for_each(|&id| {
            set.insert(id);
        });
        set
    };
    let (type_ids, sizes, footprints) = snap.columns();
    let type_has = |id: ObjectId, pick: fn(&heapscope_snapshot::TypeRecord) -> bool| {
        snap.types().get(type_ids[id as usize] as usize).is_some_and(pick)
    };
    // handle_legacy_finalizers: instances of tp_del types and what they reach stay, in gc.garbage.
    let mut outside = NodeSet::new(n);
    for id in 0..n as ObjectId {
        if !in_unreachable.contains(id) {
            outside.insert(id);
        }
    }
    let legacy = unreachable.iter().copied().filter(|&id| type_has(id, |t| t.legacy_del));
    let uncollectable_set = reachable_avoiding(g, legacy, Some(&outside), |e| snap.edge_kind(e) == RefKind::Traverse);
    let uncollectable: Vec<ObjectId> = uncollectable_set.iter().collect();
    let may_resurrect = resurrectable(snap, &in_unreachable, &uncollectable_set, |id| type_has(id, |t| t.finalizer));
    let collectable: Vec<ObjectId> =
        unreachable.iter().copied().filter(|&id| !uncollectable_set.contains(id)).collect();
    let freed = cascade(snap, &collectable);
    // What a resurrected object would keep alive: everything freed that it reaches through strong references.
    let mut not_freed = NodeSet::new(n);
    {
        let mut freed_set = NodeSet::new(n);
        freed.iter().for_each(|&id| {
            freed_set.insert(id);
        });
        for id in 0..n as ObjectId {
            if !freed_set.contains(id) {
                not_freed.insert(id);
            }
        }
    }
    let kept = reachable_avoiding(g, may_resurrect.iter().copied(), Some(&not_freed), |e| {
        crate::strong::is_strong(snap.edge_kind(e))
    });
    let certain = freed.iter().filter(|&&id| !kept.contains(id));
    let certainly_freed = certain.fold((0, 0), |(c, b), &id| (c + 1, b + sizes[id as usize]));
    Garbage {
        freed_bytes: freed.iter().map(|&id| sizes[id as usize]).sum(),
        freed_footprint: freed.iter().map(|&id| footprints[id as usize]).sum(),
        certainly_freed,
        unreachable,
        uncollectable,
        may_resurrect,
        freed,
        candidates,
        overcounted: overcounted as u64,
    }
}

/// The collectable unreachable objects a finalizer may resurrect: those whose type has one, and the referents of
/// weak references with a callback that are not garbage themselves (`handle_weakrefs` calls only those).
fn resurrectable(
    snap: &Snapshot,
    unreachable: &NodeSet,
    uncollectable: &NodeSet,
    has_finalizer: impl Fn(ObjectId) -> bool,
) -> Vec<ObjectId> {
    let g = snap.graph();
    let mut out = NodeSet::new(snap.len());
    for id in unreachable.iter() {
        if !uncollectable.contains(id) && has_finalizer(id) {
            out.insert(id);
        }
    }
    for w in 0..snap.len() as ObjectId {
        if unreachable.contains(w) {
            continue;
        }
        let range = g.edge_range(w);
        let base = range.start;
        let targets = &g.targets()[range];
        let weak_to_garbage = |k: usize| {
            snap.edge_kind(base + k) == RefKind::Weak
                && unreachable.contains(targets[k])
                && !uncollectable.contains(targets[k])
        };
        if !(0..targets.len()).any(weak_to_garbage) {
            continue;
        }
        let has_callback = (0..targets.len())
            .any(|k| matches!(snap.edge(base + k).0, heapscope_cpython::heap::Label::Field("wr_callback")));
        if has_callback {
            for k in (0..targets.len()).filter(|&k| weak_to_garbage(k)) {
                out.insert(targets[k]);
            }
        }
    }
    out.iter().collect()
}

/// The objects freed when `dying` are cleared: `dying`, then every object whose refcount the owned references from
/// freed objects account for entirely (ascending).
fn cascade(snap: &Snapshot, dying: &[ObjectId]) -> Vec<ObjectId> {
    let g = snap.graph();
    let refcounts = snap.refcounts();
    let mut freed = NodeSet::new(snap.len());
    let mut left: HashMap<ObjectId, i64> = HashMap::new();
    let mut queue: Vec<ObjectId> = Vec::with_capacity(dying.len());
    for &id in dying {
        if freed.insert(id) {
            queue.push(id);
        }
    }
    while let Some(d) = queue.pop() {
        let range = g.edge_range(d);
        let base = range.start;
        for (k, &x) in g.targets()[range].iter().enumerate() {
            if !matches!(snap.edge_kind(base + k), RefKind::Traverse | RefKind::Hidden)
                || freed.contains(x)
                || snap.is_immortal(x)
            {
                continue;
            }
            let r = left.entry(x).or_insert(refcounts[x as usize]);
            *r -= 1;
            if *r <= 0 && freed.insert(x) {
                queue.push(x);
            }
        }
    }
    freed.iter().collect()
}
