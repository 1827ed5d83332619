//! Checks on classes (names, bases, slots, instance layout), generators and coroutines, and frame objects.

use heapscope_coredump::Memory;

use super::{ensure, Ctx};

const HEAPTYPE: u64 = 1 << 9;

/// Classes of the workload: names, bases, MRO, dict, slots and members, instance dict and weakref list offsets; code
/// pointers of a few builtin types; `tp_subclasses`.
pub(crate) fn classes(c: &mut Ctx<'_>) {
    let object_type = c.symbol("PyBaseObject_Type");
    for (marker, name) in [("leakedmarker_class", "LeakedMarker"), ("freedmarker_class", "FreedMarker")] {
        let Some(&t) = c.markers.get(marker) else { continue };
        let flags = c.ptr_at(t, "TypeObject.tp_flags").unwrap_or(0);
        let ht_name = c.ptr_at(t, "HeapTypeObject.ht_name").and_then(|s| c.str_of(s));
        let ht_qual = c.ptr_at(t, "HeapTypeObject.ht_qualname").and_then(|s| c.str_of(s));
        c.walk(
            "heap type names",
            &["HeapTypeObject.ht_name", "HeapTypeObject.ht_qualname"],
            ensure(
                flags & HEAPTYPE != 0 && ht_name.as_deref() == Some(name) && ht_qual.as_deref() == Some(name),
                || format!("{ht_name:?} {ht_qual:?}"),
            ),
        );
        let base = c.ptr_at(t, "TypeObject.tp_base");
        let bases = c.ptr_at(t, "TypeObject.tp_bases").and_then(|b| c.tuple_items(b));
        let mro = c.ptr_at(t, "TypeObject.tp_mro").and_then(|m| c.tuple_items(m));
        let dict = c.ptr_at(t, "TypeObject.tp_dict").unwrap_or(0);
        c.walk(
            "class base, bases, MRO and dict",
            &["TypeObject.tp_base", "TypeObject.tp_bases", "TypeObject.tp_mro", "TypeObject.tp_dict"],
            ensure(
                base == object_type
                    && bases == object_type.map(|o| vec![o])
                    && mro == object_type.map(|o| vec![t, o])
                    && c.truth_type(dict) == Some("dict"),
                || format!("{base:?} {bases:?} {mro:?} {dict:#x}"),
            ),
        );
        let module = c.ptr_at(t, "HeapTypeObject.ht_module");
        c.walk(
            "ht_module of a class statement",
            &["HeapTypeObject.ht_module"],
            ensure(module == Some(0), || format!("{module:?}")),
        );
    }
    // FreedMarker has 46 __slots__: ht_slots is their tuple, tp_members follows the heap type in the type object.
    if let Some(&t) = c.markers.get("freedmarker_class") {
        let slots = c.ptr_at(t, "HeapTypeObject.ht_slots").and_then(|s| c.tuple_items(s));
        let first = slots.as_ref().and_then(|s| c.str_of(*s.first()?));
        let members = c.ptr_at(t, "TypeObject.tp_members");
        let meta_size = c.type_of(t).and_then(|m| c.ptr_at(m, "TypeObject.tp_basicsize"));
        let member0 = members.and_then(|m| c.u64(m)).and_then(|n| c.p.read_cstr(heapscope_coredump::Addr(n), 16).ok());
        c.walk(
            "__slots__ and tp_members",
            &["HeapTypeObject.ht_slots", "TypeObject.tp_members"],
            ensure(
                slots.as_ref().map(Vec::len) == Some(46)
                    && first.as_deref() == Some("s00")
                    && members.is_some()
                    && members == meta_size.map(|s| t.wrapping_add(s))
                    && member0.as_deref() == Some(&b"s00"[..]),
                || format!("{first:?} {members:?} {meta_size:?} {member0:?}"),
            ),
        );
    }
    // A weakly referenced instance: its weakref list (at tp_weaklistoffset, negative for 3.12+ managed) starts with
    // the plain weakref.
    if let (Some(&target), Some(&wr)) = (c.markers.get("weak_target"), c.markers.get("weakref")) {
        let off = c.type_of(target).and_then(|t| c.ptr_at(t, "TypeObject.tp_weaklistoffset")).map(|o| o as i64);
        let head = off.and_then(|o| c.u64(target.wrapping_add_signed(o)));
        c.walk(
            "tp_weaklistoffset",
            &["TypeObject.tp_weaklistoffset"],
            ensure(head == Some(wr), || format!("{off:?} {head:?}")),
        );
    }
    if let Some(&inst) = c.markers.get("dict_instance") {
        let off = c.type_of(inst).and_then(|t| c.ptr_at(t, "TypeObject.tp_dictoffset")).map(|o| o as i64);
        let ok = match (c.minor, off) {
            (..=10, Some(o)) if o > 0 => {
                c.u64(inst.wrapping_add(o as u64)).is_some_and(|d| c.truth_type(d) == Some("dict"))
            }
            (12.., Some(-1)) => true,
            (11, Some(_)) => true,
            _ => false,
        };
        c.walk("tp_dictoffset", &["TypeObject.tp_dictoffset"], ensure(ok, || format!("{off:?}")));
    }
    // tp_dealloc, tp_repr and tp_traverse of list are functions; tp_subclasses of int holds bool.
    if let Some(list) = c.symbol("PyList_Type") {
        let ptrs: Vec<Option<u64>> = ["TypeObject.tp_dealloc", "TypeObject.tp_repr", "TypeObject.tp_traverse"]
            .iter()
            .map(|f| c.ptr_at(list, f))
            .collect();
        c.walk(
            "type slots are code addresses",
            &["TypeObject.tp_dealloc", "TypeObject.tp_repr", "TypeObject.tp_traverse"],
            ensure(ptrs.iter().all(|p| p.is_some_and(|p| c.is_code_address(p))), || format!("{ptrs:x?}")),
        );
    }
    if let Some(int) = c.symbol("PyLong_Type") {
        let sub = c.ptr_at(int, "TypeObject.tp_subclasses").unwrap_or(0);
        let ok = if c.minor >= 12 { (1..1000).contains(&sub) } else { c.truth_type(sub) == Some("dict") };
        c.walk("int's tp_subclasses", &["TypeObject.tp_subclasses"], ensure(ok, || format!("{sub:#x}")));
    }
}

/// The suspended generator and coroutine of the workload: code, names, frame and state.
pub(crate) fn generators(c: &mut Ctx<'_>) {
    // gi_frame_state of a suspended generator / a coroutine suspended in an await, 3.10–3.15: 3.15 renumbered the
    // states (pycore_frame.h: FRAME_SUSPENDED 1, FRAME_SUSPENDED_YIELD_FROM 2).
    for (marker, flag, state) in
        [("generator", 0x20, [0i8, -1, -1, -2, -2, 1]), ("coroutine", 0x80, [0, -1, -1, -1, -1, 2])]
    {
        let Some(&g) = c.markers.get(marker) else { continue };
        let (code, frame_fields): (u64, Vec<&str>) = if c.minor <= 10 {
            let frame = c.ptr_at(g, "GenObject.gi_frame").unwrap_or(0);
            let code = c.ptr_at(g, "GenObject.gi_code").unwrap_or(0);
            let fcode = c.ptr_at(frame, "FrameObject.f_code");
            c.walk(
                "generator frame",
                &["GenObject.gi_frame", "GenObject.gi_code"],
                ensure(fcode == Some(code) && code != 0, || format!("{fcode:?}")),
            );
            (code, vec![])
        } else {
            let Some(iframe) = c.o("GenObject.gi_iframe").map(|o| g.wrapping_add(o)) else { continue };
            let code = c.stackref(c.ptr_at(iframe, "InterpreterFrame.executable").unwrap_or(0));
            let owner = c.o("InterpreterFrame.owner").and_then(|o| c.u8(iframe.wrapping_add(o)));
            let mut fields = vec!["GenObject.gi_iframe", "InterpreterFrame.owner"];
            let gi_code = c.ptr_at(g, "GenObject.gi_code");
            if gi_code.is_some() {
                fields.push("GenObject.gi_code");
            }
            c.walk(
                "generator's embedded frame",
                &fields,
                ensure(owner == Some(1) && gi_code.is_none_or(|gc| gc == code), || format!("owner {owner:?}")),
            );
            (code, vec!["GenObject.gi_frame_state"])
        };
        let flags = c.o("CodeObject.flags").and_then(|o| c.i32(code.wrapping_add(o))).unwrap_or(0);
        c.walk("generator code flags", &["CodeObject.flags"], ensure(flags & flag != 0, || format!("{flags:#x}")));
        let co_name = c.ptr_at(code, "CodeObject.name").and_then(|n| c.str_of(n));
        let name = c.ptr_at(g, "GenObject.gi_name").and_then(|n| c.str_of(n));
        let qual = c.ptr_at(g, "GenObject.gi_qualname").and_then(|n| c.str_of(n));
        c.walk(
            "generator names",
            &["GenObject.gi_name", "GenObject.gi_qualname"],
            ensure(name.is_some() && name == co_name && qual == name, || format!("{name:?} {qual:?}")),
        );
        if !frame_fields.is_empty() {
            let got = c.o("GenObject.gi_frame_state").and_then(|o| c.u8(g.wrapping_add(o))).map(|b| b as i8);
            let want = state[usize::from(c.minor.min(15)) - 10];
            c.walk(
                "suspended frame state",
                &frame_fields,
                ensure(got == Some(want), || format!("{got:?}, expected {want}")),
            );
        }
    }
}

/// Frame objects (the traceback's dead frames among them): their code and back links, and for 3.11+ the interpreter
/// frame they stand for.
pub(crate) fn frame_objects(c: &mut Ctx<'_>) {
    let frames = c.of_type("frame");
    let mut bad = 0;
    let mut owned = 0;
    for &f in &frames {
        let back = c.ptr_at(f, "FrameObject.f_back").unwrap_or(1);
        let back_ok = back == 0 || c.truth_type(back) == Some("frame");
        let ok = if c.minor <= 10 {
            let code = c.ptr_at(f, "FrameObject.f_code").unwrap_or(0);
            let globals = c.ptr_at(f, "FrameObject.f_globals").unwrap_or(0);
            back_ok && c.truth_type(code) == Some("code") && c.truth_type(globals) == Some("dict")
        } else {
            let iframe = c.ptr_at(f, "FrameObject.f_frame").unwrap_or(0);
            let frame_obj = c.ptr_at(iframe, "InterpreterFrame.frame_obj");
            let owner = c.o("InterpreterFrame.owner").and_then(|o| c.u8(iframe.wrapping_add(o)));
            let data = c.o("FrameObject.f_frame_data").map(|o| f.wrapping_add(o));
            if owner == Some(2) {
                owned += 1;
            }
            // A frame object that owns its interpreter frame holds it in _f_frame_data (3.14 leaves its frame_obj
            // NULL); any other points at a live frame whose frame_obj is the frame object.
            back_ok
                && if owner == Some(2) {
                    data == Some(iframe) && matches!(frame_obj, Some(0)) || frame_obj == Some(f)
                } else {
                    frame_obj == Some(f)
                }
        };
        bad += usize::from(!ok);
    }
    let fields: &[&str] = if c.minor <= 10 {
        &["FrameObject.f_back", "FrameObject.f_code", "FrameObject.f_globals"]
    } else {
        &["FrameObject.f_back", "FrameObject.f_frame", "InterpreterFrame.frame_obj", "FrameObject.f_frame_data"]
    };
    let fields = if c.minor >= 11 && owned == 0 { &fields[..3] } else { fields };
    c.walk("frame objects", fields, ensure(!frames.is_empty() && bad == 0, || format!("{bad} of {}", frames.len())));
}
