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
