//! Edge cases of the generator decoder on small synthetic images: finished generators, bad states, stack pointers
//! that cannot be, the 3.15 await slot. What the fields hold in real interpreters is tested on the tasks fixtures
//! (tests/coroutines.rs).

use super::*;
use crate::runtime::tests::{layout, TestImage};

/// A 3.13+-style generator: `[refcount, type, qualname, frame state, embedded frame…]`; the frame is
/// `[executable, stackpointer, localsplus…]`.
const FIELDS: &[(&str, u32)] = &[
    ("Object.ob_type", 8),
    ("GenObject.gi_qualname", 16),
    ("GenObject.gi_frame_state", 24),
    ("GenObject.gi_iframe", 32),
    ("InterpreterFrame.executable", 0),
    ("InterpreterFrame.stackpointer", 8),
    ("InterpreterFrame.localsplus", 16),
];

const GEN: u64 = 0x1000;
const CORO_TYPE: u64 = 0x9000;
const LOCALSPLUS: u64 = GEN + 32 + 16;

/// A coroutine in frame state `state` whose frame holds `slots` with the stack pointer after `top` of them.
fn image(state: i8, slots: &[u64], top: u64) -> TestImage {
    object(CORO_TYPE, state, slots, LOCALSPLUS + 8 * top)
}

/// An object of type `ty` laid out as a generator in frame state `state`, its frame's stack pointer `sp`.
fn object(ty: u64, state: i8, slots: &[u64], sp: u64) -> TestImage {
    let mut img = TestImage::default();
    img.symbols.insert("PyCoro_Type", CORO_TYPE);
    img.symbols.insert("PyGen_Type", 0x9100);
    img.words(CORO_TYPE, &[0; 4]).words(0x9100, &[0; 4]);
    let mut words = vec![1, ty, 0, u64::from(state as u8), 0, sp];
    words.extend_from_slice(slots);
    img.words(GEN, &words);
    img
}

fn decode(img: &TestImage, minor: u8) -> Result<Coroutine, DecodeError> {
    let l = layout(minor, FIELDS);
    let heap = Heap::new(img, &l);
    coroutine(&heap, Addr(GEN), &StackOptions::default())
}

#[test]
fn a_finished_coroutine_has_no_frame_and_awaits_nothing() {
    // 3.13: FRAME_COMPLETED 1 and FRAME_CLEARED 4; the frame's words are not even read.
    for state in [1, 4] {
        let c = decode(&image(state, &[], 0), 13).unwrap();
        assert_eq!((c.kind, c.state, c.awaiting), (CoroutineKind::Coroutine, CoroutineState::Closed, Addr::NULL));
        assert!(c.frame.is_none() && c.qualname.is_none());
    }
}

#[test]
fn the_awaited_object_is_read_at_the_versions_depth() {
    let slots = [0x5000, 0x6000];
    // 3.13: FRAME_SUSPENDED_YIELD_FROM -1, the slot below the stack pointer.
    let c = decode(&image(-1, &slots, 2), 13).unwrap();
    assert_eq!((c.state, c.awaiting), (CoroutineState::Suspended, Addr(0x6000)));
    // 3.15: FRAME_SUSPENDED_YIELD_FROM 2, two slots below (a NULL sits above the awaited object).
    let c = decode(&image(2, &slots, 2), 15).unwrap();
    assert_eq!((c.state, c.awaiting), (CoroutineState::Suspended, Addr(0x5000)));
    // A plain yield (3.13 FRAME_SUSPENDED -2) awaits nothing.
    assert_eq!(decode(&image(-2, &slots, 2), 13).unwrap().awaiting, Addr::NULL);
    // Created and running: no awaited object either.
    assert_eq!(decode(&image(-3, &slots, 2), 13).unwrap().state, CoroutineState::Created);
    assert_eq!(decode(&image(0, &slots, 2), 13).unwrap().state, CoroutineState::Running);
}

#[test]
fn impossible_states_and_stacks_are_errors() {
    // A frame state no version has.
    let e = decode(&image(-7, &[], 0), 13).unwrap_err();
    assert!(e.to_string().contains("frame state -7"), "{e}");
    // Suspended in an await with an empty stack (3.15 needs two slots), or a stack pointer below localsplus.
    assert!(decode(&image(2, &[0x5000], 1), 15).unwrap_err().to_string().contains("stack top 1"));
    let img = object(CORO_TYPE, -1, &[], GEN);
    assert!(decode(&img, 13).unwrap_err().to_string().contains("below localsplus"));
    // An absurd stack pointer is refused before anything is read there.
    let img = object(CORO_TYPE, -1, &[], LOCALSPLUS + 8 * (1 << 40));
    assert!(decode(&img, 13).unwrap_err().to_string().contains("stack top"));
}

#[test]
fn other_objects_are_not_coroutines() {
    let img = object(0x9200, -2, &[], LOCALSPLUS);
    let l = layout(13, FIELDS);
    let heap = Heap::new(&img, &l);
    assert_eq!(coroutine_kind(&heap, Addr(GEN)).unwrap(), None);
    assert!(coroutine(&heap, Addr(GEN), &StackOptions::default()).is_err());
    assert_eq!(coroutine_kind_of_type(&heap, Addr(0x9100)), Some(CoroutineKind::Generator));
}

#[test]
fn before_3_10_the_state_is_gi_running_then_f_lasti() {
    // 3.8/3.9: `[refcount, type, gi_frame, gi_running]`; the frame `[.., f_code, f_lasti]`.
    const OLD: &[(&str, u32)] = &[
        ("Object.ob_type", 8),
        ("GenObject.gi_frame", 16),
        ("GenObject.gi_running", 24),
        ("GenObject.gi_qualname", 32),
        ("FrameObject.f_code", 8),
        ("FrameObject.f_lasti", 16),
    ];
    let decode = |frame: u64, running: u64, lasti: i32| {
        let mut img = TestImage::default();
        img.symbols.insert("PyGen_Type", 0x9100);
        img.words(0x9100, &[0; 4]);
        img.words(GEN, &[1, 0x9100, frame, running, 0]);
        img.words(0x2000, &[1, 0, u64::from(lasti as u32)]);
        let l = layout(8, OLD);
        let heap = Heap::new(&img, &l);
        let c = coroutine(&heap, Addr(GEN), &StackOptions::default()).unwrap();
        let errors = c.frame.as_ref().map(|f| f.errors.iter().map(ToString::to_string).collect::<Vec<_>>());
        (c.state, errors, c.awaiting)
    };
    assert_eq!(decode(0, 0, 0), (CoroutineState::Closed, None, Addr::NULL));
    let (state, _, awaiting) = decode(0x2000, 1, 10);
    assert_eq!((state, awaiting), (CoroutineState::Running, Addr::NULL));
    let (state, created_errors, awaiting) = decode(0x2000, 0, -1);
    assert_eq!((state, awaiting), (CoroutineState::Created, Addr::NULL));
    // Suspended: telling a `yield from` needs the bytecode, behind a code object this image lacks: the frame
    // records why, and the generator is still decoded.
    let (state, errors, awaiting) = decode(0x2000, 0, 10);
    assert_eq!((state, awaiting), (CoroutineState::Suspended, Addr::NULL));
    let (errors, before) = (errors.unwrap(), created_errors.unwrap());
    assert_eq!(errors.len(), before.len() + 1, "the frame says what could not be read: {errors:?}");
}
