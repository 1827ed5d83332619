//! Malformed objects on small synthetic images: every decoder must answer with an error (or a capped result), never
//! panic, hang or allocate without bound. What real interpreters hold is tested on the fixture cores
//! (tests/objects.rs); the synthetic objects here follow the built-in 3.12 layout.

use heapscope_coredump::Addr;

use super::*;
use crate::layout::Flavour;
use crate::PythonVersion;

/// Memory plus the symbols and objects a test needs.
type Image = heapscope_coredump::SyntheticImage;

const LIST_T: u64 = 0x1000;
const STR_T: u64 = 0x2000;
const DICT_T: u64 = 0x3000;
const INT_T: u64 = 0x4000;
const SET_T: u64 = 0x5000;
const CLASS_T: u64 = 0x6000;
const BYTES_T: u64 = 0x8000;

/// The built-in 3.12 layout: the synthetic objects below are laid out as 3.12 lays them out.
fn layout() -> Layout {
    let v = PythonVersion::from_hex(0x030c01f0).unwrap();
    Layout::builtin(&v, Flavour::Default).expect("a 3.12 table")
}

fn words(image: &mut Image, addr: u64, words: &[u64]) {
    image.mem.map(Addr(addr), words.iter().flat_map(|w| w.to_le_bytes()).collect());
}

/// Static types (416 zero bytes each, with `tp_flags` set) and their symbols.
fn image() -> Image {
    let mut im = Image::default();
    for (name, addr, fl) in [
        ("PyList_Type", LIST_T, flags::LIST_SUBCLASS),
        ("PyUnicode_Type", STR_T, flags::UNICODE_SUBCLASS),
        ("PyDict_Type", DICT_T, flags::DICT_SUBCLASS),
        ("PyLong_Type", INT_T, flags::LONG_SUBCLASS),
        ("PySet_Type", SET_T, 0),
        ("Class", CLASS_T, 0),
        ("PyBytes_Type", BYTES_T, flags::BYTES_SUBCLASS),
    ] {
        let mut t = vec![0u64; 52];
        t[168 / 8] = fl;
        words(&mut im, addr, &t);
        im.symbols.insert(name, addr);
    }
    im
}

#[test]
fn huge_lengths_are_capped_or_refused() {
    let mut im = image();
    // A list claiming 2^60 items (and as many allocated) whose item array holds 4 readable pointers.
    words(&mut im, 0x10000, &[1, LIST_T, 1 << 60, 0x20000, 1 << 60]);
    words(&mut im, 0x20000, &[0xa, 0xb, 0xc, 0xd]);
    let l = layout();
    let heap = Heap::new(&im, &l);
    assert_eq!(heap.list_items(Addr(0x10000), 3).unwrap(), vec![Addr(0xa), Addr(0xb), Addr(0xc)]);
    assert!(heap.list_items(Addr(0x10000), usize::MAX).is_err(), "reading past the mapped items fails");
    // More items than allocated.
    words(&mut im, 0x11000, &[1, LIST_T, 9, 0x20000, 4]);
    let heap = Heap::new(&im, &l);
    assert!(matches!(heap.list_items(Addr(0x11000), 2), Err(DecodeError::Malformed { .. })));
}

#[test]
fn malformed_strs_are_errors() {
    let mut im = image();
    // length -5, compact ascii
    words(&mut im, 0x10000, &[1, STR_T, (-5i64) as u64, 0, 0x64, 0]);
    // kind 3
    words(&mut im, 0x11000, &[1, STR_T, 2, 0, 3 << 2 | 1 << 5, 0, 0, 0]);
    // ascii flag with a byte ≥ 0x80
    words(&mut im, 0x12000, &[1, STR_T, 1, 0, 1 << 2 | 1 << 5 | 1 << 6, 0x80]);
    let l = layout();
    let heap = Heap::new(&im, &l);
    for a in [0x10000, 0x11000, 0x12000] {
        assert!(matches!(heap.str_value(Addr(a), 100), Err(DecodeError::Malformed { .. })), "{a:#x}");
        assert!(heap.preview(Addr(a), &PreviewOptions::default()).starts_with("<unreadable 0x"));
    }
}

#[test]
fn malformed_ints_dicts_and_sets_are_errors() {
    let mut im = image();
    // int: sign bits 3; digit with bit 30 set
    words(&mut im, 0x10000, &[1, INT_T, 1 << 3 | 3, 0]);
    words(&mut im, 0x11000, &[1, INT_T, 1 << 3, 1 << 30]);
    // dict whose keys claim 9 entries in 8 slots
    words(&mut im, 0x12000, &[1, DICT_T, 1, 0, 0x13000, 0]);
    words(&mut im, 0x13000, &[1, 3 | 3 << 8 | 1 << 16, 0, 9]);
    // set whose mask is not a table size
    words(&mut im, 0x14000, &[1, SET_T, 0, 1, 6, 0x15000]);
    let l = layout();
    let heap = Heap::new(&im, &l);
    assert!(heap.int_value(Addr(0x10000)).is_err());
    assert!(heap.int_value(Addr(0x11000)).is_err());
    assert!(matches!(heap.dict_items(Addr(0x12000), 10), Err(DecodeError::Malformed { .. })));
    assert!(matches!(heap.set_items(Addr(0x14000), 10), Err(DecodeError::Malformed { .. })));
}

#[test]
fn preview_survives_cycles_and_bad_pointers() {
    let mut im = image();
    // A list holding itself twice and an unmapped pointer.
    words(&mut im, 0x10000, &[1, LIST_T, 3, 0x20000, 3]);
    words(&mut im, 0x20000, &[0x10000, 0x10000, 0xdead_0000]);
    let l = layout();
    let heap = Heap::new(&im, &l);
    let opts = PreviewOptions { max_str_chars: 10, max_items: 5, depth: 3, redact: false };
    let p = heap.preview(Addr(0x10000), &opts);
    assert!(p.starts_with("[[[[…] (len 3), "), "{p}");
    assert!(p.contains("<unreadable 0xdead0000: "), "{p}");
    let opts = PreviewOptions { max_str_chars: 10, max_items: 1, depth: 1, redact: false };
    assert_eq!(heap.preview(Addr(0x10000), &opts), "[[…] (len 3), …] (len 3)");
    assert!(heap.preview(Addr(0x99999), &opts).starts_with("<unreadable 0x99999: "));
}

#[test]
fn base_cycles_and_unterminated_members_end() {
    let mut im = image();
    // A heap-less class whose tp_base is itself, and whose tp_members never ends.
    let mut t = vec![0u64; 52];
    t[256 / 8] = 0x7000;
    t[240 / 8] = 0x100000;
    words(&mut im, 0x7000, &t);
    words(&mut im, 0x10000, &[1, 0x7000]);
    let member = [0x7000u64, 16, 16, 0, 0]; // name (any readable NUL-free bytes would do), T_OBJECT_EX, offset 16
    let members: Vec<u64> = member.iter().copied().cycle().take(5 * 5000).collect();
    words(&mut im, 0x100000, &members);
    let l = layout();
    let heap = Heap::new(&im, &l);
    assert_eq!(heap.kind(Addr(0x10000)).unwrap(), Kind::Other);
    assert!(heap.object_members(Addr(0x7000)).is_err());
}

#[test]
fn long_values_are_truncated_in_previews() {
    let mut im = image();
    // 'abcdefghij…' (26 ASCII chars), compact ASCII: header 40 bytes, then the characters.
    let mut s = vec![1u64, STR_T, 26, 0, 1 << 2 | 1 << 5 | 1 << 6];
    s.extend(b"abcdefghijklmnopqrstuvwxyz\0\0\0\0\0\0".chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())));
    words(&mut im, 0x10000, &s);
    // b"\x00\x01…" (20 bytes)
    let mut b = vec![1u64, BYTES_T, 20, 0];
    b.extend((0u8..24).collect::<Vec<_>>().chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())));
    words(&mut im, 0x11000, &b);
    // -(2**120 - 1): four 30-bit digits of all ones, negative.
    words(&mut im, 0x12000, &[1, INT_T, 4 << 3 | 2, 0x3fff_ffff_3fff_ffff, 0x3fff_ffff_3fff_ffff]);
    let l = layout();
    let heap = Heap::new(&im, &l);
    let opts = PreviewOptions { max_str_chars: 5, max_items: 2, depth: 1, redact: false };
    assert_eq!(heap.preview(Addr(0x10000), &opts), "'abcde'… (len 26)");
    assert_eq!(heap.preview(Addr(0x11000), &opts), r"b'\x00\x01\x02\x03\x04'… (len 20)");
    // 2**120 - 1 == 1329227995784915872903807060280344575 (37 digits), as CPython prints it.
    assert_eq!(heap.preview(Addr(0x12000), &opts), "-13…75 (37 digits)");
    let wide = PreviewOptions { max_str_chars: 100, ..opts };
    assert_eq!(heap.preview(Addr(0x12000), &wide), "-1329227995784915872903807060280344575");
    let v = heap.int_value(Addr(0x12000)).unwrap();
    assert_eq!((v.bit_length(), v.to_i64()), (120, None));
    assert_eq!(heap.str_value(Addr(0x10000), 3).unwrap().text, "abc");
}

#[test]
fn redacted_text_is_length_and_a_stable_hash() {
    // The hashes as Python computes them (FNV-1a 64 folded to 32 bits, see `redacted`).
    assert_eq!(super::redacted("str", 0, b""), "<str len=0 #4fd0bfc1>");
    assert_eq!(super::redacted("str", 6, b"secret"), "<str len=6 #6b0339bf>");
    assert_eq!(super::redacted("bytes", 6, b"secret"), "<bytes len=6 #6b0339bf>");
    let cps = [0x63, 0x61, 0x66, 0xe9, 0xd800];
    assert_eq!(super::redacted("str", 5, &super::preview::utf8_surrogatepass(&cps)), "<str len=5 #81641927>");
    assert_eq!(super::preview::utf8_surrogatepass(&[0x1f600]), "😀".as_bytes());
}

#[test]
fn str_sizeof_of_a_huge_length_saturates() {
    let mut im = image();
    // A compact UCS-4 str claiming 2^62 code points: (length + 1) × 4 overflows (found by the `objects` fuzz
    // target, whose input is in fuzz/regressions/objects/).
    words(&mut im, 0x10000, &[1, STR_T, 1 << 62, 0, 4 << 2 | 1 << 5, 0, 0, 0, 0, 0]);
    let l = layout();
    let heap = Heap::new(&im, &l);
    assert_eq!(heap.str_sizeof(Addr(0x10000)).unwrap(), u64::MAX);
}
