//! GC list walks on small synthetic images (the built-in 3.12 layout): a well-formed list, the old-space bit, and
//! lists that are broken (NULL or unreadable links, a loop that misses the head, wrong `_gc_prev` links) end with
//! an error or a count, never a hang. What real interpreters hold is tested on the fixture cores
//! (tests/enumerate.rs).

use heapscope_coredump::{Addr, SyntheticMemory};

use super::*;
use crate::layout::Flavour;
use crate::PythonVersion;

fn layout() -> Layout {
    let v = PythonVersion::from_hex(0x030c01f0).unwrap();
    Layout::builtin(&v, Flavour::Default).expect("a 3.12 table")
}

const HEAD: u64 = 0x1000;
const LIST: GcList = GcList { generation: 1, name: "generations[1]", head: Addr(HEAD) };

/// Maps GC heads (next, prev) at the given addresses.
fn heads(nodes: &[(u64, u64, u64)]) -> SyntheticMemory {
    let mut m = SyntheticMemory::new();
    for &(at, next, prev) in nodes {
        m.map(Addr(at), [next.to_le_bytes(), prev.to_le_bytes()].concat());
    }
    m
}

fn walk(m: &SyntheticMemory, cap: usize) -> (Vec<(Addr, u8)>, ListReport) {
    let image = heapscope_coredump::SyntheticImage::new(m.clone());
    let mut out = Vec::new();
    let report = walk_list(&image, &layout(), LIST, cap, &mut out);
    (out, report)
}

#[test]
fn a_list_gives_its_objects_in_order() {
    // head → a → b → c → head, prev links mirrored; b's next carries the 3.14.0 old-space bit.
    let m = heads(&[(HEAD, 0x2000, 0x4000), (0x2000, 0x3000, HEAD), (0x3000, 0x4001, 0x2000), (0x4000, HEAD, 0x3000)]);
    let (objs, r) = walk(&m, 100);
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(objs, vec![(Addr(0x2010), 1), (Addr(0x3010), 1), (Addr(0x4010), 1)]);
    assert_eq!((r.objects, r.prev_mismatches), (3, 0));

    let empty = heads(&[(HEAD, HEAD, HEAD)]);
    assert_eq!(walk(&empty, 100).0, vec![]);
}

#[test]
fn broken_lists_end_with_an_error() {
    // A loop that never comes back to the head: a → b → c → b …
    let looping =
        heads(&[(HEAD, 0x2000, 0), (0x2000, 0x3000, HEAD), (0x3000, 0x4000, 0x2000), (0x4000, 0x3000, 0x3000)]);
    let (objs, r) = walk(&looping, 1 << 20);
    assert!(r.error.as_ref().is_some_and(|e| e.to_string().contains("loop")), "{:?}", r.error);
    assert!(objs.len() < 16, "stopped soon after entering the loop: {}", objs.len());
    assert_eq!(r.prev_mismatches, 1, "the head's prev is not the last node");

    let null = heads(&[(HEAD, 0x2000, 0x2000), (0x2000, 0, HEAD)]);
    let (objs, r) = walk(&null, 100);
    assert_eq!(objs.len(), 1);
    assert!(r.error.as_ref().is_some_and(|e| e.to_string().contains("NULL")), "{:?}", r.error);

    let unreadable = heads(&[(HEAD, 0x2000, 0x2000), (0x2000, 0x9000, HEAD)]);
    let (objs, r) = walk(&unreadable, 100);
    assert_eq!(objs.len(), 1);
    assert!(r.error.is_some());

    let no_head = heads(&[]);
    assert!(walk(&no_head, 100).1.error.is_some());

    // A long well-formed list stops at the cap.
    let n = 50u64;
    let nodes: Vec<(u64, u64, u64)> = (0..=n)
        .map(|i| {
            let at = if i == 0 { HEAD } else { 0x10_0000 + i * 0x100 };
            let next = if i == n { HEAD } else { 0x10_0000 + (i + 1) * 0x100 };
            (at, next, 0)
        })
        .collect();
    let (objs, r) = walk(&heads(&nodes), 10);
    assert_eq!(objs.len(), 10);
    assert!(r.error.as_ref().is_some_and(|e| e.to_string().contains("more than 10")), "{:?}", r.error);
}

/// The interpreter's `generation0` pointer disagrees with the table's `generations[0]`: followed when only it leads
/// to a list, and either way the warning says what differs, where, and what the user can do.
#[test]
fn a_generation0_disagreement_is_explained() {
    let l = layout();
    let interp = Addr(0x10_000);
    let gc = field_addr(interp, &l.interp.gc, "interpreter").unwrap();
    let g0_at = field_addr(gc, &l.gc.generation0, "GC state").unwrap();
    let lists = |g0: u64| {
        let mut m = heads(&[(0x50_000, 0x60_000, 0x60_000), (0x60_000, 0x50_000, 0x50_000)]);
        m.map(g0_at, g0.to_le_bytes().to_vec());
        let image = heapscope_coredump::SyntheticImage::new(m);
        gc_lists(&image, &l, Addr(0x1000), interp).expect("GC lists found")
    };

    // generation0 leads to a list, the table's address to unmapped memory: generation0 is followed.
    let (found, warnings) = lists(0x50_000);
    assert_eq!(found[0].head, Addr(0x50_000));
    let w = warnings.join("\n");
    for part in [
        "not where heapscope's table for Python 3.12.1 puts them",
        &format!("GC state at {gc}"),
        "leads to 0x50000",
        "GC header (PyGC_Head)",
        "heapscope followed the interpreter's pointer",
        "heapscope info --layout",
    ] {
        assert!(w.contains(part), "{part:?} missing from: {w}");
    }

    // generation0 leads nowhere: the table's lists are walked, and the user is told the lists may be incomplete.
    let (found, warnings) = lists(0x70_000);
    assert_ne!(found[0].head, Addr(0x70_000));
    let w = warnings.join("\n");
    for part in ["may be incomplete", "leads to 0x70000", "no list starts there", "take the core again"] {
        assert!(w.contains(part), "{part:?} missing from: {w}");
    }
}

/// As a collection leaves a list: `_gc_prev` holds a reference count shifted by 2 with PREV_MASK_COLLECTING (bit 1)
/// or PREV_MASK_FINALIZED (bit 0), `_gc_next` carries NEXT_MASK_UNREACHABLE (bit 0). The walk follows the masked
/// links to the same objects and only counts the `_gc_prev` words that are not links.
#[test]
fn flag_bits_of_a_collection_do_not_derail_the_walk() {
    let m = heads(&[
        (HEAD, 0x2001, (5 << 2) | 2),
        (0x2000, 0x3001, (1 << 2) | 2),
        (0x3000, 0x4000, 0x2000 | 1),
        (0x4000, HEAD | 1, (7 << 2) | 3),
    ]);
    let (objs, r) = walk(&m, 100);
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(objs, vec![(Addr(0x2010), 1), (Addr(0x3010), 1), (Addr(0x4010), 1)]);
    assert_eq!((r.objects, r.prev_mismatches), (3, 2), "0x2000's and 0x4000's _gc_prev hold counts, 0x3000's a link");
}

/// The `collecting` flag of the GC state is what says a collection was running.
#[test]
fn a_running_collection_is_read_from_the_gc_state() {
    let l = layout();
    let interp = Addr(0x10_000);
    let gc = gc_state(&l, Addr(0x1000), interp).unwrap();
    let flag = field_addr(gc, &l.gc.collecting, "GC state").unwrap();
    let running = |v: u32| {
        let mut m = SyntheticMemory::new();
        m.map(flag, v.to_le_bytes().to_vec());
        collection_running(&heapscope_coredump::SyntheticImage::new(m), &l, Addr(0x1000), interp)
    };
    assert_eq!(running(1), Some(gc));
    assert_eq!(running(0), None);
    let unreadable = heapscope_coredump::SyntheticImage::new(SyntheticMemory::new());
    assert_eq!(collection_running(&unreadable, &l, Addr(0x1000), interp), None);
}
