//! Strong references and refcount excess.
//!
//! A reference keeps its target alive when it is counted in the target's refcount: what `tp_traverse` reports
//! ([`RefKind::Traverse`]), the owned references it leaves out ([`RefKind::Hidden`]), and the words an extension
//! object's scan found ([`RefKind::Conservative`]). Weak references never do.
//!
//! An object's *refcount excess* is its refcount minus the strong references to it that the snapshot found. A
//! positive excess is a reference from outside the graph: a C global or a C stack, a running frame's evaluation
//! stack, or a reference nothing owns (a leak). Immortal objects have no meaningful count and no excess.

use heapscope_cpython::heap::RefKind;
use heapscope_snapshot::{ObjectId, Snapshot};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// True when a reference of this kind keeps its target alive.
#[inline]
pub fn is_strong(kind: RefKind) -> bool {
    !matches!(kind, RefKind::Weak)
}

/// For each object, the number of strong references to it from objects of the snapshot (parallel references
/// counted each). One parallel pass over the references.
pub fn strong_in_degrees(snap: &Snapshot) -> Vec<u32> {
    let g = snap.graph();
    let counts: Vec<AtomicU32> = (0..snap.len()).map(|_| AtomicU32::new(0)).collect();
    (0..snap.len() as ObjectId).into_par_iter().for_each(|s| {
        let range = g.edge_range(s);
        let base = range.start;
        for (k, &d) in g.targets()[range].iter().enumerate() {
            if is_strong(snap.edge_kind(base + k)) {
                counts[d as usize].fetch_add(1, Relaxed);
            }
        }
    });
    counts.into_iter().map(AtomicU32::into_inner).collect()
}

/// For each object, its refcount minus its strong referrers in the snapshot, floored at 0 (0 for immortal
/// objects).
pub fn refcount_excess(snap: &Snapshot, in_degrees: &[u32]) -> Vec<u64> {
    let rc = snap.refcounts();
    (0..snap.len())
        .into_par_iter()
        .map(|i| if snap.is_immortal(i as ObjectId) { 0 } else { (rc[i] - i64::from(in_degrees[i])).max(0) as u64 })
        .collect()
}
