//! Edge cases of the list walks on small synthetic images: loops, broken links, GIL states. What the fields hold in
//! real interpreters is tested on the fixture cores (tests/stacks.rs).

use heapscope_coredump::{Addr, Memory, Registers, ThreadInfo, X86_64Regs};

use super::*;
use crate::layout::{Flavour, Layout, Source};
use crate::PythonVersion;

/// Memory built in code (see `SyntheticImage::words`).
pub(crate) type TestImage = heapscope_coredump::SyntheticImage;

/// A layout with just the given fields, for `3.minor`.
pub(crate) fn layout(minor: u8, fields: &[(&str, u32)]) -> Layout {
    let v = PythonVersion::from_hex(0x0300_00f0 | (u64::from(minor) << 16)).unwrap();
    let mut l = Layout::unknown(v, Flavour::Default);
    for (name, off) in fields {
        l.field_mut(name).unwrap_or_else(|| panic!("no field {name}")).set(*off, Source::Table);
    }
    l
}

const LISTS: &[(&str, u32)] = &[
    ("RuntimeState.interpreters_head", 0),
    ("InterpreterState.next", 0),
    ("InterpreterState.id", 8),
    ("InterpreterState.threads_head", 16),
    ("ThreadState.next", 0),
    ("ThreadState.thread_id", 8),
];

#[test]
fn a_looping_interpreter_list_ends_with_an_error() {
    let mut img = TestImage::default();
    img.words(0x1000, &[0x2000]).words(0x2000, &[0x3000, 1, 0]).words(0x3000, &[0x2000, 0, 0]);
    let w = interpreters(&img, &layout(12, LISTS), Addr(0x1000));
    assert_eq!(w.items.iter().map(|i| i.addr.0).collect::<Vec<_>>(), [0x2000, 0x3000]);
    assert_eq!(w.items[1].id, Some(0));
    assert!(w.error.unwrap().to_string().contains("loops back"));
}

#[test]
fn an_interpreter_whose_id_does_not_fall_ends_the_list_and_the_main_one_is_kept() {
    // Ids 2, 1, then 5 (not an interpreter: the list is corrupt from there), whose `next` leads to the main one (0).
    let mut img = TestImage::default();
    img.words(0x1000, &[0x2000, 0x5000]);
    img.words(0x2000, &[0x3000, 2, 0]).words(0x3000, &[0x4000, 1, 0]).words(0x4000, &[0x5000, 5, 0]);
    img.words(0x5000, &[0, 0, 0]);
    let mut fields = LISTS.to_vec();
    fields.push(("RuntimeState.interpreters_main", 8));
    let w = interpreters(&img, &layout(12, &fields), Addr(0x1000));
    assert_eq!(w.items.iter().map(|i| i.addr.0).collect::<Vec<_>>(), [0x2000, 0x3000, 0x5000]);
    let e = w.error.unwrap().to_string();
    assert!(e.contains("0x4000") && e.contains("its id is 5, not below the id 1"), "{e}");
}

#[test]
fn a_list_longer_than_the_limit_ends_with_an_error_naming_the_option() {
    // 10 thread states, each pointing to the next: with the default limit all are read; the walk's own limit is
    // what `--max-threads` sets.
    let mut img = TestImage::default();
    img.words(0x2000, &[0, 0, 0x10000]);
    for i in 0..10u64 {
        let next = if i == 9 { 0 } else { 0x10000 + (i + 1) * 0x100 };
        img.words(0x10000 + i * 0x100, &[next, i]);
    }
    let l = layout(12, LISTS);
    assert_eq!(threads(&img, &l, Addr(0x2000)).items.len(), 10);
    let w = walk_list(Addr(0x10000), (4, "--max-threads"), "thread state", |a| {
        Ok((
            a,
            Addr(img.read_u64(a).map_err(|source| DecodeError::Read { addr: a, what: "t", field: "next", source })?),
        ))
    });
    assert_eq!(w.items.len(), 4);
    let e = w.error.unwrap().to_string();
    assert!(e.contains("limit of 4 entries") && e.contains("--max-threads N"), "{e}");
}

#[test]
fn a_looping_thread_list_ends_with_an_error() {
    let mut img = TestImage::default();
    img.words(0x2000, &[0, 0, 0x4000]);
    img.words(0x4000, &[0x4100, 11]).words(0x4100, &[0x4200, 12]).words(0x4200, &[0x4000, 13]);
    let w = threads(&img, &layout(12, LISTS), Addr(0x2000));
    assert_eq!(w.items.iter().map(|t| t.ident).collect::<Vec<_>>(), [11, 12, 13]);
    assert!(w.items.iter().all(|t| t.interp == Addr(0x2000) && t.native_id.is_none()));
    assert!(w.error.is_some());
}

#[test]
fn a_broken_link_keeps_what_was_read() {
    let mut img = TestImage::default();
    img.words(0x2000, &[0, 0, 0x4000]).words(0x4000, &[0xdead_0000, 11]);
    let w = threads(&img, &layout(12, LISTS), Addr(0x2000));
    assert_eq!(w.items.len(), 1);
    assert!(matches!(w.error, Some(DecodeError::Read { .. })), "{:?}", w.error);
    // An unreadable head: nothing, and the reason.
    let w = threads(&img, &layout(12, LISTS), Addr(0x9000));
    assert!(w.items.is_empty() && w.error.is_some());
}

#[test]
fn a_missing_layout_field_is_an_error_not_a_panic() {
    let mut img = TestImage::default();
    img.words(0x2000, &[0, 0, 0x4000]).words(0x4000, &[0, 11]);
    let w = threads(&img, &layout(12, &LISTS[..4]), Addr(0x2000));
    assert!(matches!(w.error, Some(DecodeError::Layout { .. })), "{:?}", w.error);
}

#[test]
fn gil_holder_up_to_311_is_tstate_current() {
    let l = layout(11, &[("RuntimeState.tstate_current", 8)]);
    let mut img = TestImage::default();
    img.words(0x1000, &[0, 0x5000]);
    assert_eq!(gil_holders(&img, &l, Addr(0x1000), &[]).0, [Addr(0x5000)]);
    img = TestImage::default();
    img.words(0x1000, &[0, 0]);
    assert!(gil_holders(&img, &l, Addr(0x1000), &[]).0.is_empty(), "released");
}

#[test]
fn gil_holder_from_312_is_the_locked_gils_last_holder() {
    let l = layout(12, &[("InterpreterState.ceval_gil", 8), ("GilState.last_holder", 8), ("GilState.locked", 16)]);
    let interp = |a: u64| Interpreter { addr: Addr(a), id: Some(0) };
    let mut img = TestImage::default();
    img.words(0x2000, &[0, 0x7000]).words(0x7000, &[5000, 0x5000, 1]);
    // A sub-interpreter sharing the main GIL reports the same holder once.
    img.words(0x3000, &[0, 0x7000]);
    assert_eq!(gil_holders(&img, &l, Addr(0x1000), &[interp(0x2000), interp(0x3000)]).0, [Addr(0x5000)]);
    img = TestImage::default();
    img.words(0x2000, &[0, 0x7000]).words(0x7000, &[5000, 0x5000, 0]);
    let (holders, errors) = gil_holders(&img, &l, Addr(0x1000), &[interp(0x2000), interp(0x8000)]);
    assert!(holders.is_empty(), "released: last_holder is only the last one");
    assert_eq!(errors.len(), 1, "the unreadable interpreter is reported");
}

#[test]
fn kernel_tids_from_native_id_or_fs_base() {
    let core = |tid: u32, fs_base: u64| ThreadInfo {
        tid,
        signal: 0,
        regs: Registers::X86_64(X86_64Regs { fs_base, ..X86_64Regs::default() }),
    };
    let threads = [core(100, 0x7000_0000), core(101, 0x7100_0000)];
    let t = |ident: u64, native_id: Option<u64>| PyThread { tstate: Addr(1), interp: Addr(2), ident, native_id };
    assert_eq!(kernel_tid(&t(0x7100_0000, None), &threads), Some((101, TidSource::FsBase)));
    assert_eq!(kernel_tid(&t(0x7100_0000, Some(555)), &threads), Some((555, TidSource::NativeThreadId)));
    assert_eq!(kernel_tid(&t(0x7200_0000, None), &threads), None);
    assert_eq!(kernel_tid(&t(0, None), &[core(7, 0)]), None, "a zero fs_base matches nothing");
}
