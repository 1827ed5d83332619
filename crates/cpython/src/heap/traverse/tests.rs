//! Malformed objects on small synthetic images (laid out as the built-in 3.12 table says): `object_info` and
//! `referents` must answer with an error or a bounded result, never panic, hang or allocate by an unchecked length.
//! What real interpreters hold is tested on the fixture cores (tests/decode.rs).

use heapscope_coredump::Addr;

use crate::heap::{object_info_with, referents_with, TypeCache};
use crate::layout::{Flavour, Layout};
use crate::objects::{flags, Heap};
use crate::PythonVersion;

/// Memory plus the symbols and objects a test needs.
type Image = heapscope_coredump::SyntheticImage;

const LIST_T: u64 = 0x1000;
const TUPLE_T: u64 = 0x2000;
const DICT_T: u64 = 0x3000;
const CLASS_T: u64 = 0x6000;
/// A fake `tp_traverse` function address.
const TRAVERSE_FN: u64 = 0x9_9990;

fn layout() -> Layout {
    let v = PythonVersion::from_hex(0x030c01f0).unwrap();
    Layout::builtin(&v, Flavour::Default).expect("a 3.12 table")
}

fn words(image: &mut Image, addr: u64, words: &[u64]) {
    image.mem.map(Addr(addr), words.iter().flat_map(|w| w.to_le_bytes()).collect());
}

/// A type object: 116 words, `tp_flags`, `tp_basicsize`, `tp_itemsize`, `tp_traverse`, `tp_base` set.
fn type_words(fl: u64, basic: u64, item: u64, base: u64) -> Vec<u64> {
    let mut t = vec![0u64; 116];
    t[32 / 8] = basic;
    t[40 / 8] = item;
    t[168 / 8] = fl | flags::HAVE_GC;
    t[184 / 8] = TRAVERSE_FN + fl % 7;
    t[256 / 8] = base;
    t
}

fn image() -> Image {
    let mut im = Image::default();
    for (name, addr, t) in [
        ("PyList_Type", LIST_T, type_words(flags::LIST_SUBCLASS, 40, 0, 0)),
        ("PyTuple_Type", TUPLE_T, type_words(flags::TUPLE_SUBCLASS, 24, 8, 0)),
        ("PyDict_Type", DICT_T, type_words(flags::DICT_SUBCLASS, 48, 0, 0)),
    ] {
        words(&mut im, addr, &t);
        im.symbols.insert(name, addr);
    }
    im
}

/// Maps a GC object at `addr` (a tracked GC head in front of it) with these words.
fn gc_object(im: &mut Image, addr: u64, body: &[u64]) {
    let mut w = vec![0x1000_0000, 0];
    w.extend_from_slice(body);
    words(im, addr - 16, &w);
}

fn check(im: &Image, obj: u64) -> (bool, bool) {
    let l = layout();
    let heap = Heap::new(im, &l);
    let mut cache = TypeCache::new(&heap);
    let info = object_info_with(&heap, &mut cache, Addr(obj));
    let mut out = Vec::new();
    let refs = referents_with(&heap, &mut cache, Addr(obj), &mut out);
    assert!(out.len() < 1 << 20, "bounded output");
    (info.is_ok(), refs.is_ok())
}

#[test]
fn huge_and_negative_lengths_are_refused() {
    let mut im = image();
    // A list claiming 2^60 items (and as many allocated) whose item array holds 4 readable pointers.
    gc_object(&mut im, 0x10000, &[1, LIST_T, 1 << 60, 0x20000, 1 << 60]);
    words(&mut im, 0x20000, &[0xa, 0xb, 0xc, 0xd]);
    assert!(!check(&im, 0x10000).1);
    // A tuple of length -5.
    gc_object(&mut im, 0x30000, &[1, TUPLE_T, (-5i64) as u64, 0]);
    let (info, refs) = check(&im, 0x30000);
    assert!(!info && !refs);
    // A dict whose keys claim more entries than slots.
    gc_object(&mut im, 0x40000, &[1, DICT_T, 3, 0, 0x50000, 0]);
    words(&mut im, 0x50000, &[1, 3 | (3 << 8), 5, 1 << 40, 0, 0]);
    assert!(!check(&im, 0x40000).1);
}

#[test]
fn cycles_end() {
    let mut im = image();
    // A class whose tp_base is itself (a cycle the chain walks must not follow forever).
    words(&mut im, CLASS_T, &type_words(flags::HEAPTYPE, 32, 0, CLASS_T));
    gc_object(&mut im, 0x60000, &[1, CLASS_T, 0x70000, 0]);
    let _ = check(&im, 0x60000);
}
