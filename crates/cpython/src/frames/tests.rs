//! Edge cases of the frame walk on small synthetic images: loops, depth limits, broken links, shim frames, tagged
//! stack refs. Real frames are tested on the fixture cores (tests/stacks.rs).

use super::*;
use crate::runtime::tests::{layout, TestImage};

/// 3.13-style frames: `tstate->current_frame` at 0; a frame is `[executable, previous, owner]`.
const FIELDS: &[(&str, u32)] = &[
    ("ThreadState.current_frame", 0),
    ("InterpreterFrame.executable", 0),
    ("InterpreterFrame.previous", 8),
    ("InterpreterFrame.owner", 16),
    ("InterpreterFrame.instr_ptr", 24),
    ("CodeObject.name", 8),
];

fn model() -> FrameModel {
    FrameModel::for_version(&PythonVersion::from_hex(0x030d00f0).unwrap())
}

fn walk(img: &TestImage, opts: &StackOptions) -> Stack {
    let l = layout(13, FIELDS);
    let heap = Heap::new(img, &l);
    stack(&heap, Addr(0x1000), opts)
}

#[test]
fn shim_frames_are_skipped_and_a_loop_ends_the_walk() {
    let mut img = TestImage::default();
    img.words(0x1000, &[0x2000]);
    img.words(0x2000, &[0, 0x3000, 3, 0]).words(0x3000, &[0, 0x2000, 3, 0]);
    let s = walk(&img, &StackOptions::default());
    assert!(s.frames.is_empty());
    assert_eq!(s.skipped, 2);
    assert!(s.error.unwrap().to_string().contains("loops back"));
}

#[test]
fn frames_past_the_depth_limit_are_counted_not_an_error() {
    let mut img = TestImage::default();
    img.words(0x1000, &[0x2000]);
    // Ten frames running a "code object" (its names unreadable), the last one ending the chain.
    for i in 0..10u64 {
        let next = if i == 9 { 0 } else { 0x2000 + (i + 1) * 0x100 };
        img.words(0x2000 + i * 0x100, &[0x5000, next, 0, 0]);
    }
    img.words(0x5000, &[0, 0xdead_0000]);
    let s = walk(&img, &StackOptions { max_depth: 4, ..StackOptions::default() });
    assert_eq!((s.frames.len(), s.more, s.more_at_least), (4, 6, false));
    assert!(s.error.is_none(), "{:?}", s.error);
    assert_eq!(s.frames[0].addr, Addr(0x2000), "the innermost frames are the ones shown");
}

#[test]
fn a_long_chain_of_entry_frames_still_ends_at_the_limit() {
    let mut img = TestImage::default();
    img.words(0x1000, &[0x2000]);
    // A chain that never ends (each frame links to the next), all entry frames: the walk's own limit ends it.
    for i in 0..64u64 {
        img.words(0x2000 + i * 0x100, &[0, 0x2000 + (i + 1) * 0x100, 3, 0]);
    }
    let l = layout(13, FIELDS);
    let heap = Heap::new(&img, &l);
    let steps: Vec<_> = frame_chain(&heap, Addr(0x1000), 8).collect();
    assert_eq!(steps.len(), 9);
    assert!(steps[8].as_ref().unwrap_err().to_string().contains("more than 8 frames"));
}

#[test]
fn an_undecodable_frame_keeps_its_place_and_the_walk_goes_on() {
    let mut img = TestImage::default();
    img.words(0x1000, &[0x2000]);
    // Owner 0 running a "code object" whose name pointer is unreadable, then a frame whose `previous` is unmapped.
    img.words(0x2000, &[0x5000, 0x3000, 0, 0]).words(0x5000, &[0, 0xdead_0000]);
    img.words(0x3000, &[0x5000, 0xbad_0000, 0, 0]);
    let s = walk(&img, &StackOptions::default());
    assert_eq!(s.frames.len(), 2);
    assert!(s.frames.iter().all(|f| f.function.is_none() && !f.errors.is_empty()));
    assert!(matches!(s.error, Some(DecodeError::Read { .. })), "{:?}", s.error);
    assert!(s.error_count() >= 3);
}

#[test]
fn a_thread_without_frames_has_an_empty_stack() {
    let mut img = TestImage::default();
    img.words(0x1000, &[0]);
    let s = walk(&img, &StackOptions::default());
    assert!(s.frames.is_empty() && s.error.is_none() && s.skipped == 0);
}

#[test]
fn the_chain_yields_every_frame_with_its_position_and_entry_flag() {
    let mut img = TestImage::default();
    img.words(0x1000, &[0x2000]);
    img.words(0x2000, &[0x5000, 0x3000, 0, 0]).words(0x3000, &[0, 0, 3, 0]);
    let l = layout(13, FIELDS);
    let heap = Heap::new(&img, &l);
    let chain: Vec<_> = frame_chain(&heap, Addr(0x1000), 10).collect::<Result<_, _>>().unwrap();
    let frame = |addr, index, shim| ChainFrame { addr: Addr(addr), index, shim };
    assert_eq!(chain, [frame(0x2000, 0, false), frame(0x3000, 1, true)]);
}

#[test]
fn stack_refs_are_untagged_from_314_on() {
    let m314 = FrameModel::for_version(&PythonVersion::from_hex(0x030e0af0).unwrap());
    assert_eq!(m314.stackref(0x7fff_1231), StackRef::Object(Addr(0x7fff_1230)), "deferred-refcount bit");
    assert_eq!(m314.stackref(1), StackRef::Object(Addr::NULL), "PyStackRef_NULL");
    assert_eq!(m314.stackref((42 << 2) | 3), StackRef::Int(42));
    assert_eq!(m314.stackref(((-7i64 as u64) << 2) | 3), StackRef::Int(-7));
    assert_eq!(m314.object((42 << 2) | 3), Addr::NULL, "a tagged int is no object");
    assert_eq!(model().stackref(0x7fff_1231), StackRef::Object(Addr(0x7fff_1231)), "3.13: plain pointers");
}

#[test]
fn frame_models_by_version() {
    let m = |hex: u64| FrameModel::for_version(&PythonVersion::from_hex(hex).unwrap());
    assert_eq!((m(0x030812f0).chain, m(0x030812f0).lasti_unit), (Chain::FrameObjects, 1));
    assert_eq!((m(0x030a0df0).chain, m(0x030a0df0).lasti_unit), (Chain::FrameObjects, 2));
    assert_eq!((m(0x030b07f0).chain, m(0x030b07f0).shim_owners), (Chain::CFrame, &[][..]));
    assert_eq!((m(0x030c01f0).chain, m(0x030c01f0).shim_owners), (Chain::CFrame, &[3][..]));
    assert_eq!((m(0x030d00f0).chain, m(0x030d00f0).stackrefs), (Chain::CurrentFrame, false));
    assert_eq!((m(0x030e0af0).shim_owners, m(0x030e0af0).stackrefs), (&[3, 4][..], true));
    assert_eq!((m(0x030f02f0).shim_owners, m(0x030f02f0).stackrefs), (&[3][..], true));
}

/// 3.13-style thread state and data stack chunks: `tstate = [current_frame, datastack_chunk, datastack_top]`, a
/// chunk `[previous, size, top, data…]`.
const DATA_FIELDS: &[(&str, u32)] = &[
    ("ThreadState.current_frame", 0),
    ("ThreadState.datastack_chunk", 8),
    ("ThreadState.datastack_top", 16),
    ("StackChunk.previous", 0),
    ("StackChunk.chunk_size", 8),
    ("StackChunk.top", 16),
    ("StackChunk.data", 24),
    ("InterpreterFrame.executable", 0),
    ("InterpreterFrame.previous", 8),
    ("InterpreterFrame.owner", 16),
];

#[test]
fn hostile_chunk_lists_end_the_data_stack_walk() {
    let l = layout(13, DATA_FIELDS);
    // A chunk whose `previous` is itself.
    let mut img = TestImage::default();
    img.words(0x1000, &[0, 0x4000, 0x4020]).words(0x4000, &[0x4000, 0x100, 0, 0]);
    let d = data_stack(&Heap::new(&img, &l), Addr(0x1000));
    assert!(d.frames.is_empty());
    assert!(d.error.unwrap().to_string().contains("loops back"));
    // A chunk claiming to be 1 TiB long.
    let mut img = TestImage::default();
    img.words(0x1000, &[0, 0x4000, 0x4020]).words(0x4000, &[0, 1 << 40, 0, 0]);
    let d = data_stack(&Heap::new(&img, &l), Addr(0x1000));
    assert!(d.error.unwrap().to_string().contains("implausible"));
    // A top outside the newest chunk.
    let mut img = TestImage::default();
    img.words(0x1000, &[0, 0x4000, 0x9000]).words(0x4000, &[0, 0x100, 0, 0]);
    let d = data_stack(&Heap::new(&img, &l), Addr(0x1000));
    assert!(d.error.unwrap().to_string().contains("outside its newest chunk"));
}

#[test]
fn a_chain_without_a_data_stack_frame_is_not_resumed_from_popped_memory() {
    // The thread state names no frame and the data stack is empty (its top at the root chunk's first frame): no
    // cut, whatever stale bytes the chunk holds.
    let l = layout(13, DATA_FIELDS);
    let mut img = TestImage::default();
    img.words(0x1000, &[0, 0x4000, 0x4020]).words(0x4000, &[0, 0x100, 0, 0, 0x5000, 0, 0, 0]);
    let s = stack(&Heap::new(&img, &l), Addr(0x1000), &StackOptions::default());
    assert!(s.frames.is_empty() && s.cuts.is_empty() && s.error.is_none(), "{s:?}");
}
