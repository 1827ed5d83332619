//! Checks on the truth's objects: types and refcounts, scalars, containers, functions and code, classes,
//! generators and frame objects.

use std::collections::BTreeMap;

use heapscope_coredump::Memory;

use super::{ensure, plain_str_repr, Ctx};

const HAVE_GC: u64 = 1 << 14;

pub(crate) fn objects(c: &mut Ctx<'_>) {
    types_and_refcounts(c);
    sizes(c);
    scalars(c);
    sequences(c);
    super::dicts::dicts(c);
    super::dicts::dict_internals(c);
    strings(c);
    super::dicts::sets(c);
    functions_and_code(c);
    super::classes::classes(c);
    super::classes::generators(c);
    super::classes::frame_objects(c);
}

/// Last dotted component.
fn last(s: &str) -> &str {
    s.rsplit('.').next().unwrap_or(s)
}

/// `ob_type` names the truth's type; mortal refcounts match; untracked GC objects have a zero `_gc_next`; the
/// subclass flag bits of `tp_flags` match the type.
fn types_and_refcounts(c: &mut Ctx<'_>) {
    let mut bad_type = Vec::new();
    let mut bad_ref = Vec::new();
    let mut bad_flags = Vec::new();
    let mut bad_untracked = 0usize;
    let mut names = BTreeMap::new();
    let flag_of = |ty: &str| match ty {
        "int" | "bool" => Some(1u64 << 24),
        "list" => Some(1 << 25),
        "tuple" => Some(1 << 26),
        "bytes" => Some(1 << 27),
        "str" => Some(1 << 28),
        "dict" => Some(1 << 29),
        "type" => Some(1 << 31),
        _ => None,
    };
    let (Some(refcnt), Some(hsize)) = (c.o("Object.ob_refcnt"), c.o("GcHead.size")) else { return };
    for (&a, o) in &c.objects {
        let Some(ty) = o["type"].as_str() else { continue };
        let Some(t) = c.type_of(a) else {
            bad_type.push(a);
            continue;
        };
        let name = names.entry(t).or_insert_with(|| c.tp_name(t)).clone();
        // Static types of extension modules whose read-only data the core omits have no readable name.
        if name.as_deref().is_some_and(|n| last(n) != last(ty)) {
            bad_type.push(a);
        }
        if o["immortal"].as_bool() != Some(true) {
            let raw = c.u64(a.wrapping_add(refcnt)).unwrap_or(0);
            let count = if c.minor >= 12 { raw & 0xffff_ffff } else { raw };
            if Some(count) != o["refcount"].as_u64() {
                bad_ref.push(a);
            }
        }
        let flags = c.ptr_at(t, "TypeObject.tp_flags").unwrap_or(0);
        if let Some(bit) = flag_of(ty) {
            if flags & bit == 0 {
                bad_flags.push(ty.to_string());
            }
        }
        if flags & HAVE_GC != 0 && o["gc_tracked"].as_bool() == Some(false) && !c.is_static(a) {
            let next = c.o("GcHead.gc_next").and_then(|n| c.u64(a - hsize.wrapping_add(n)));
            if next != Some(0) {
                bad_untracked += 1;
            }
        }
    }
    c.walk(
        "ob_type names the truth's type",
        &["Object.ob_type", "TypeObject.tp_name"],
        ensure(bad_type.is_empty(), || {
            format!("{} objects, e.g. {:#x?}", bad_type.len(), &bad_type[..bad_type.len().min(3)])
        }),
    );
    c.walk(
        "mortal refcounts",
        &["Object.ob_refcnt"],
        ensure(bad_ref.is_empty(), || format!("{} differ", bad_ref.len())),
    );
    c.walk(
        "tp_flags subclass bits",
        &["TypeObject.tp_flags"],
        ensure(bad_flags.is_empty(), || format!("{bad_flags:?}")),
    );
    c.walk(
        "untracked GC objects have _gc_next 0",
        &["GcHead.gc_next", "GcHead.size", "TypeObject.tp_flags"],
        ensure(bad_untracked == 0, || format!("{bad_untracked} objects")),
    );
}

/// `tp_basicsize` of a type is the size of its struct (tuple: minus the one item `ob_item[1]` counts).
fn sizes(c: &mut Ctx<'_>) {
    let pairs: &[(&str, &str, u64)] = &[
        ("float", "FloatObject.size", 0),
        ("list", "ListObject.size", 0),
        ("dict", "DictObject.size", 0),
        ("set", "SetObject.size", 0),
        ("module", "ModuleObject.size", 0),
        ("function", "FunctionObject.size", 0),
        ("type", "HeapTypeObject.size", 0),
        ("str", "UnicodeObject.size", 0),
        ("bytearray", "ByteArrayObject.size", 0),
        ("tuple", "TupleObject.size", 8),
    ];
    for &(ty, field, less) in pairs {
        let Some(&a) = c.of_type(ty).first() else { continue };
        let basic = c.type_of(a).and_then(|t| c.ptr_at(t, "TypeObject.tp_basicsize"));
        let want = c.o(field).map(|s| s - less);
        c.walk(
            "tp_basicsize is the struct size",
            &[field, "TypeObject.tp_basicsize"],
            ensure(basic.is_some() && basic == want, || format!("{ty}: {basic:?} vs {want:?}")),
        );
    }
    if c.minor <= 10 {
        if let Some(&a) = c.of_type("frame").first() {
            let basic = c.type_of(a).and_then(|t| c.ptr_at(t, "TypeObject.tp_basicsize"));
            let want = c.o("FrameObject.size");
            c.walk("frame tp_basicsize", &["FrameObject.size"], ensure(basic == want, || format!("{basic:?}")));
        }
    }
    // sys.getsizeof(tuple) = basicsize + itemsize * len + the GC header.
    let mut bad = 0;
    let tuples = c.of_type("tuple");
    for &a in tuples.iter().take(2000) {
        let (Some(t), Some(n)) = (c.type_of(a), c.var_size(a)) else { continue };
        let basic = c.ptr_at(t, "TypeObject.tp_basicsize").unwrap_or(0);
        let item = c.ptr_at(t, "TypeObject.tp_itemsize").unwrap_or(0);
        let want = c.objects[&a]["size"].as_u64();
        let size = item
            .checked_mul(n as u64)
            .and_then(|s| s.checked_add(basic))
            .and_then(|s| s.checked_add(c.o("GcHead.size")?));
        if size.is_none() || size != want {
            bad += 1;
        }
    }
    c.walk(
        "getsizeof(tuple)",
        &["TypeObject.tp_basicsize", "TypeObject.tp_itemsize", "GcHead.size", "VarObject.ob_size"],
        ensure(!tuples.is_empty() && bad == 0, || format!("{bad} tuples")),
    );
}

/// Module globals with a repr: ints, floats and strs of every kind, plus the bytes and bytearray of the workload.
fn scalars(c: &mut Ctx<'_>) {
    let globals: Vec<(String, String)> = c.globals.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (name, repr) in globals {
        let Some(&addr) = c.markers.get(&name.to_lowercase()) else { continue };
        let ty = c.truth_type(addr).unwrap_or("");
        match ty {
            "int" => {
                let Ok(want) = repr.parse::<i128>() else { continue };
                let got = c.int_of(addr);
                let fields: &[&str] = if c.minor >= 12 {
                    &["LongObject.lv_tag", "LongObject.ob_digit"]
                } else {
                    &["VarObject.ob_size", "LongObject.ob_digit"]
                };
                c.walk("int value", fields, ensure(got == Some(want), || format!("{name}: {got:?}")));
            }
            "float" => {
                let Ok(want) = repr.parse::<f64>() else { continue };
                let got = c.o("FloatObject.ob_fval").and_then(|o| c.u64(addr.wrapping_add(o))).map(f64::from_bits);
                c.walk(
                    "float value",
                    &["FloatObject.ob_fval"],
                    ensure(got == Some(want), || format!("{name}: {got:?}")),
                );
            }
            "str" => {
                let Some(want) = plain_str_repr(&repr) else { continue };
                let got = c.str_of(addr);
                let fields: &[&str] = if want.is_ascii() {
                    &["AsciiObject.length", "AsciiObject.state", "AsciiObject.size"]
                } else {
                    &["AsciiObject.length", "AsciiObject.state", "CompactUnicodeObject.size"]
                };
                c.walk("str value", fields, ensure(got.as_deref() == Some(want), || format!("{name}: {got:?}")));
            }
            _ => {}
        }
    }
    if let Some(&b) = c.markers.get("bytes") {
        let got = c.bytes_of(b);
        let want: Vec<u8> = (0..48).collect();
        c.walk(
            "bytes(range(48))",
            &["BytesObject.ob_sval", "VarObject.ob_size"],
            ensure(got == Some(want), || format!("{got:?}")),
        );
    }
    if let Some(&b) = c.markers.get("bytearray") {
        let want = b"mutable bytes \x00\xff";
        let start = c.ptr_at(b, "ByteArrayObject.ob_start");
        let bytes = c.ptr_at(b, "ByteArrayObject.ob_bytes");
        let alloc = c.o("ByteArrayObject.ob_alloc").and_then(|o| c.i64(b.wrapping_add(o)));
        let n = c.var_size(b);
        let got = start.and_then(|s| c.p.bytes(heapscope_coredump::Addr(s), n?).ok()).map(|v| v.into_owned());
        // ob_alloc counts the trailing NUL up to 3.14; from 3.15 it is the size of the bytes object holding the data.
        let room = if c.minor >= 15 { want.len() } else { want.len() + 1 };
        c.walk(
            "bytearray contents",
            &["ByteArrayObject.ob_start", "ByteArrayObject.ob_bytes", "ByteArrayObject.ob_alloc"],
            ensure(
                got.as_deref() == Some(&want[..]) && start == bytes && alloc.is_some_and(|a| a >= room as i64),
                || format!("{got:?} {start:?} {bytes:?} {alloc:?}"),
            ),
        );
    }
    if let Some(&s) = c.markers.get("str_subclass") {
        let got = c.str_of(s);
        c.walk(
            "a str subclass keeps its text behind data",
            &["UnicodeObject.data"],
            ensure(got.as_deref() == Some("sub-str Ω"), || format!("{got:?}")),
        );
    }
}

/// Tuple and list items are the referents (which tp_traverse lists last to first).
fn sequences(c: &mut Ctx<'_>) {
    for (ty, fields) in [
        ("tuple", &["TupleObject.ob_item", "VarObject.ob_size"][..]),
        ("list", &["ListObject.ob_item", "ListObject.allocated", "VarObject.ob_size"][..]),
    ] {
        let mut bad = 0;
        let all = c.of_type(ty);
        for &a in &all {
            let items = if ty == "tuple" {
                c.tuple_items(a)
            } else {
                let n = c.var_size(a);
                let alloc = c.o("ListObject.allocated").and_then(|o| c.i64(a.wrapping_add(o)));
                let base = c.ptr_at(a, "ListObject.ob_item");
                match (n, alloc, base) {
                    (Some(n), Some(al), Some(base)) if al >= n as i64 => {
                        (0..n as u64).map(|i| c.u64(base.wrapping_add(8 * i))).collect::<Option<Vec<u64>>>()
                    }
                    _ => None,
                }
            };
            let mut want = c.referents(a);
            want.reverse();
            if items != Some(want) {
                bad += 1;
            }
        }
        c.walk(
            "sequence items",
            fields,
            ensure(!all.is_empty() && bad == 0, || format!("{bad} of {} {ty}s", all.len())),
        );
    }
}
/// Compact non-ASCII strs that cache their UTF-8 hold exactly their text's encoding there.
fn strings(c: &mut Ctx<'_>) {
    let (mut seen, mut bad) = (0, 0);
    for s in c.of_type("str") {
        let Some(state) = c.o("AsciiObject.state").and_then(|o| c.u32(s.wrapping_add(o))) else { continue };
        if state & (1 << 5) == 0 || state & (1 << 6) != 0 {
            continue; // not compact, or ASCII
        }
        let Some(utf8) = c.ptr_at(s, "CompactUnicodeObject.utf8").filter(|&p| p != 0) else { continue };
        let len = c.o("CompactUnicodeObject.utf8_length").and_then(|o| c.i64(s.wrapping_add(o))).unwrap_or(-1);
        let text = c.str_of(s);
        let got = usize::try_from(len).ok().and_then(|n| c.p.bytes(heapscope_coredump::Addr(utf8), n).ok());
        seen += 1;
        bad += usize::from(text.as_deref().map(str::as_bytes) != got.as_deref());
    }
    if seen > 0 {
        c.walk(
            "cached UTF-8 of non-ASCII strs",
            &["CompactUnicodeObject.utf8", "CompactUnicodeObject.utf8_length"],
            ensure(bad == 0, || format!("{bad} of {seen}")),
        );
    }
}

/// Functions point at their code, globals and names; code objects at tuples, strs and bytes of the right types, with
/// counts that agree with each other.
fn functions_and_code(c: &mut Ctx<'_>) {
    let funcs = c.of_type("function");
    let mut bad = 0;
    // Functions renamed after creation (functools.wraps, namedtuple's __new__) have a name their code does not.
    let mut renamed = 0;
    for &f in &funcs {
        let code = c.ptr_at(f, "FunctionObject.func_code").unwrap_or(0);
        let globals = c.ptr_at(f, "FunctionObject.func_globals").unwrap_or(0);
        let name = c.ptr_at(f, "FunctionObject.func_name").and_then(|n| c.str_of(n));
        let qual = c.ptr_at(f, "FunctionObject.func_qualname").and_then(|n| c.str_of(n));
        let module = c.ptr_at(f, "FunctionObject.func_module").unwrap_or(1);
        let co_name = c.ptr_at(code, "CodeObject.name").and_then(|n| c.str_of(n));
        let module_ok =
            module == 0 || matches!(c.truth_type(module), Some("str" | "NoneType")) || c.str_of(module).is_some();
        let ok = c.truth_type(code) == Some("code")
            && c.truth_type(globals) == Some("dict")
            && name.is_some()
            && qual.as_deref().is_some_and(|q| last(q) == name.as_deref().unwrap_or(""))
            && module_ok;
        bad += usize::from(!ok);
        renamed += usize::from(name != co_name);
    }
    c.walk(
        "function objects",
        &[
            "FunctionObject.func_code",
            "FunctionObject.func_globals",
            "FunctionObject.func_name",
            "FunctionObject.func_qualname",
            "FunctionObject.func_module",
            "CodeObject.name",
        ],
        ensure(!funcs.is_empty() && bad == 0 && renamed * 20 <= funcs.len(), || {
            format!("{bad} of {} wrong, {renamed} named unlike their code", funcs.len())
        }),
    );

    let codes = c.of_type("code");
    let typed: Vec<(&str, &str)> = if c.minor <= 10 {
        vec![
            ("CodeObject.code", "bytes"),
            ("CodeObject.consts", "tuple"),
            ("CodeObject.names", "tuple"),
            ("CodeObject.varnames", "tuple"),
            ("CodeObject.freevars", "tuple"),
            ("CodeObject.cellvars", "tuple"),
            ("CodeObject.filename", "str"),
            ("CodeObject.name", "str"),
            (if c.minor == 10 { "CodeObject.linetable" } else { "CodeObject.lnotab" }, "bytes"),
        ]
    } else {
        vec![
            ("CodeObject.consts", "tuple"),
            ("CodeObject.names", "tuple"),
            ("CodeObject.localsplusnames", "tuple"),
            ("CodeObject.localspluskinds", "bytes"),
            ("CodeObject.filename", "str"),
            ("CodeObject.name", "str"),
            ("CodeObject.qualname", "str"),
            ("CodeObject.linetable", "bytes"),
            ("CodeObject.exceptiontable", "bytes"),
        ]
    };
    for (field, ty) in typed {
        let mut bad = 0;
        for &co in &codes {
            let p = c.ptr_at(co, field).unwrap_or(0);
            // Interned or immortal strs and empty tuples/bytes may be outside the truth: decode them instead.
            let ok = c.truth_type(p) == Some(ty)
                || match ty {
                    "str" => c.str_of(p).is_some() && c.type_of(p).and_then(|t| c.tp_name(t)).as_deref() == Some("str"),
                    _ => c.type_of(p).and_then(|t| c.tp_name(t)).as_deref() == Some(ty),
                };
            bad += usize::from(!ok);
        }
        c.walk(
            "code object member types",
            &[field],
            ensure(!codes.is_empty() && bad == 0, || format!("{field}: {bad} of {}", codes.len())),
        );
    }
    let int = |c: &Ctx<'_>, co: u64, f: &str| c.o(f).and_then(|o| c.i32(co.wrapping_add(o))).map(i64::from);
    let mut bad = Vec::new();
    for &co in &codes {
        let (argc, posonly, kwonly, nlocals, stack, first) = (
            int(c, co, "CodeObject.argcount"),
            int(c, co, "CodeObject.posonlyargcount"),
            int(c, co, "CodeObject.kwonlyargcount"),
            int(c, co, "CodeObject.nlocals"),
            int(c, co, "CodeObject.stacksize"),
            int(c, co, "CodeObject.firstlineno"),
        );
        let (Some(argc), Some(posonly), Some(kwonly), Some(nlocals), Some(stack), Some(first)) =
            (argc, posonly, kwonly, nlocals, stack, first)
        else {
            bad.push("unreadable");
            continue;
        };
        let flags = int(c, co, "CodeObject.flags").unwrap_or(0);
        let varargs = i64::from(flags & 0x4 != 0) + i64::from(flags & 0x8 != 0);
        if !(posonly <= argc
            && argc.saturating_add(kwonly).saturating_add(varargs) <= nlocals
            && (0..100_000).contains(&stack)
            && first >= 1)
        {
            bad.push("argument counts");
        }
        if c.minor <= 10 {
            let nv = c.ptr_at(co, "CodeObject.varnames").and_then(|t| c.var_size(t));
            if nv != usize::try_from(nlocals).ok() {
                bad.push("nlocals != len(varnames)");
            }
            continue;
        }
        let names = c.ptr_at(co, "CodeObject.localsplusnames").and_then(|t| c.var_size(t));
        let kinds = c.ptr_at(co, "CodeObject.localspluskinds").and_then(|b| c.bytes_of(b)).unwrap_or_default();
        let nplus = int(c, co, "CodeObject.nlocalsplus");
        let count = |bit: u8| kinds.iter().filter(|&&k| k & bit != 0).count() as i64;
        if names != Some(kinds.len()) || nplus != Some(kinds.len() as i64) {
            bad.push("nlocalsplus");
        }
        if nlocals != count(0x20)
            || int(c, co, "CodeObject.ncellvars") != Some(count(0x40))
            || int(c, co, "CodeObject.nfreevars") != Some(count(0x80))
        {
            bad.push("local kinds");
        }
        if c.minor >= 12 {
            let specials = (c.o("InterpreterFrame.size").unwrap_or(0) as i64 - 1) / 8;
            if int(c, co, "CodeObject.framesize")
                != Some((kinds.len() as i64).saturating_add(stack).saturating_add(specials))
            {
                bad.push("framesize");
            }
        }
    }
    bad.sort_unstable();
    bad.dedup();
    let mut fields = vec![
        "CodeObject.argcount",
        "CodeObject.posonlyargcount",
        "CodeObject.kwonlyargcount",
        "CodeObject.nlocals",
        "CodeObject.firstlineno",
        "CodeObject.flags",
    ];
    if c.minor >= 11 {
        fields.extend(["CodeObject.nlocalsplus", "CodeObject.ncellvars", "CodeObject.nfreevars"]);
    }
    if c.minor >= 12 {
        fields.extend(["CodeObject.framesize", "CodeObject.stacksize", "InterpreterFrame.size"]);
    }
    c.walk("code object counts", &fields, ensure(!codes.is_empty() && bad.is_empty(), || format!("{bad:?}")));
}
