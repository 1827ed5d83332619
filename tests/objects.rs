//! The object decoders (`heapscope_cpython::objects`) against the ground truth of every fixture core:
//!
//! (a) `type_name(type_of(addr))` equals the truth's type for every object;
//! (b) `preview` equals the truth's `repr()` for every module global (markers among them) the truth has one for;
//! (c) every exact str decodes, with `str.__sizeof__` equal to the truth's `sys.getsizeof`;
//! (d) every dict decodes to `len()` items whose keys and values are what `gc.get_referents` reported;
//! plus list/tuple/set items against their referents, instance attributes (`__dict__` in every representation,
//! `__slots__`), and module lookups.
//!
//! Run with `--nocapture` to see the per-fixture figures.

mod common;

use std::collections::HashMap;

use heapscope_coredump::{Addr, CoreProcess, Memory};
use heapscope_cpython::layout::{DwarfPolicy, Layout};
use heapscope_cpython::objects::{AttrStorage, Heap, Kind, PreviewOptions};
use serde_json::Value;

use common::fixtures;

/// The layout of the fixture's interpreter, as `heapscope` resolves it: the built-in table of its version, then
/// (3.13+) `_Py_DebugOffsets` from the core.
fn layout_for(process: &CoreProcess, detection: &heapscope_cpython::Detection) -> Layout {
    Layout::resolve(process, detection, DwarfPolicy::Off).expect("layout resolves").0
}

fn addr(v: &Value) -> Addr {
    Addr(v.as_u64().expect("address"))
}

/// Per-fixture figures, printed at the end.
#[derive(Debug, Default)]
struct Report {
    objects: usize,
    types_ok: usize,
    /// Objects whose type's name bytes are not in the core (static types of extension modules, whose `tp_name`
    /// lives in the module's read-only data, which a trimmed core omits and no sysroot here supplies).
    types_not_in_core: usize,
    reprs: usize,
    reprs_ok: usize,
    strs: usize,
    strs_ok: usize,
    /// Compact ASCII, compact non-ASCII, non-compact.
    str_forms: [usize; 3],
    /// By `SSTATE_*` interning state 0–3.
    str_interned: [usize; 4],
    dicts: usize,
    dicts_ok: usize,
    /// Dicts whose referents are their keys and values.
    dicts_general: usize,
    /// Dicts whose referents are their values only.
    dicts_str_keyed: usize,
    /// 3.13+ dicts over values embedded in an instance: no referents.
    dicts_embedded: usize,
    /// Dicts with a split table (`ma_values` set).
    dicts_split: usize,
    /// Objects whose attributes are in a dict / a values array without a dict.
    attrs_in_dict: usize,
    attrs_in_values: usize,
    seqs: usize,
    seqs_ok: usize,
    previews: usize,
    previews_unreadable: usize,
    failures: Vec<String>,
}

impl Report {
    fn expect(&mut self, what: &str, got: String, want: &str) {
        if got != want {
            self.fail(format!("{what}: got {got}, want {want}"));
        }
    }

    fn fail(&mut self, msg: String) {
        if self.failures.len() < 15 {
            self.failures.push(msg);
        }
    }
}

#[test]
fn objects_decode_like_the_truth() {
    let mut all_ok = true;
    let mut lines = Vec::new();
    for fx in fixtures() {
        let truth = fx.truth();
        let (process, _root) = fx.open_process();
        let detection = heapscope_cpython::detect(&process).expect("python found");
        let layout = layout_for(&process, &detection);
        let heap = Heap::new(&process, &layout);
        let mut r = Report::default();
        let objects = truth["objects"].as_array().unwrap();
        let by_addr: HashMap<u64, &Value> = objects.iter().map(|o| (o["address"].as_u64().unwrap(), o)).collect();

        check_types(&heap, objects, &mut r);
        check_module_reprs(&heap, &truth, &mut r);
        check_strs(&heap, objects, &mut r);
        check_dicts(&heap, objects, &mut r);
        check_sequences(&heap, objects, &mut r);
        check_instances(&heap, &truth, &by_addr, &mut r);
        check_marker_previews(&heap, &truth, &mut r);
        check_every_preview(&heap, objects, &mut r);

        let ok = r.failures.is_empty();
        all_ok &= ok;
        lines.push(format!(
            "{:<15} types {}/{} ({:.3}%; {} not in the core), reprs {}/{}, strs {}/{} (forms {:?}, interned {:?}), dicts {}/{} ({} keys+values, {} values only, {} embedded; {} split), attributes in a dict {} / in values {}, list/tuple/set {}/{}, previews {} ({} unreadable){}",
            fx.name,
            r.types_ok,
            r.objects,
            100.0 * r.types_ok as f64 / r.objects.max(1) as f64,
            r.types_not_in_core,
            r.reprs_ok,
            r.reprs,
            r.strs_ok,
            r.strs,
            r.str_forms,
            r.str_interned,
            r.dicts_ok,
            r.dicts,
            r.dicts_general,
            r.dicts_str_keyed,
            r.dicts_embedded,
            r.dicts_split,
            r.attrs_in_dict,
            r.attrs_in_values,
            r.seqs_ok,
            r.seqs,
            r.previews,
            r.previews_unreadable,
            if ok { String::new() } else { format!("\n    {}", r.failures.join("\n    ")) }
        ));
    }
    println!("{}", lines.join("\n"));
    assert!(all_ok, "decoding disagrees with the truth:\n{}", lines.join("\n"));
}

/// (a) every object's type name.
fn check_types(heap: &Heap<'_, CoreProcess>, objects: &[Value], r: &mut Report) {
    let mut names: HashMap<Addr, Result<String, String>> = HashMap::new();
    for o in objects {
        r.objects += 1;
        let a = addr(&o["address"]);
        let want = o["type"].as_str().unwrap();
        let got = match heap.type_of(a) {
            Ok(ty) => names.entry(ty).or_insert_with(|| heap.type_name(ty).map_err(|e| e.to_string())).clone(),
            Err(e) => Err(e.to_string()),
        };
        match got {
            Ok(name) if name == want => r.types_ok += 1,
            Ok(name) => r.fail(format!("type of {a}: got {name}, want {want}")),
            Err(e) if e.contains("does not contain") => r.types_not_in_core += 1,
            Err(e) => r.fail(format!("type of {a} ({want}): {e}")),
        }
    }
}

/// (b) every module global with a repr in the truth (the `<module>` frame's locals), markers among them.
fn check_module_reprs(heap: &Heap<'_, CoreProcess>, truth: &Value, r: &mut Report) {
    let main_dict = addr(&truth["markers"]["main_module_dict"]);
    let frames = truth["threads"][0]["frames"].as_array().unwrap();
    let module = frames.iter().find(|f| f["function"] == "<module>").expect("a <module> frame");
    let markers = truth["markers"].as_object().unwrap();
    let opts = PreviewOptions::default();
    for (name, want) in module["locals"].as_object().unwrap() {
        let Some(want) = want.as_str() else { continue };
        r.reprs += 1;
        let got = match heap.dict_get_str(main_dict, name) {
            Ok(Some(v)) => v,
            Ok(None) => {
                r.fail(format!("global {name} not found in the module dict"));
                continue;
            }
            Err(e) => {
                r.fail(format!("global {name}: {e}"));
                continue;
            }
        };
        if let Some(m) = markers.get(&name.to_lowercase()) {
            if addr(m) != got {
                r.fail(format!("global {name} is {got}, marker says {}", addr(m)));
            }
        }
        let shown = heap.preview(got, &opts);
        if shown == want {
            r.reprs_ok += 1;
        } else {
            r.fail(format!("repr of {name}: got {shown}, want {want}"));
        }
    }
}

/// (c) every exact str decodes, and `str.__sizeof__` is its `sys.getsizeof`.
fn check_strs(heap: &Heap<'_, CoreProcess>, objects: &[Value], r: &mut Report) {
    for o in objects.iter().filter(|o| o["type"] == "str") {
        r.strs += 1;
        let a = addr(&o["address"]);
        let s = match heap.str_value(a, usize::MAX) {
            Ok(s) => s,
            Err(e) => {
                r.fail(format!("str {a}: {e}"));
                continue;
            }
        };
        r.str_forms[match (s.compact, s.ascii) {
            (true, true) => 0,
            (true, false) => 1,
            _ => 2,
        }] += 1;
        r.str_interned[usize::from(s.interned & 3)] += 1;
        if s.truncated || s.text.chars().count() as u64 != s.len {
            r.fail(format!("str {a}: {} chars decoded of {}", s.text.chars().count(), s.len));
            continue;
        }
        match (heap.str_sizeof(a), o["size"].as_u64()) {
            (Ok(got), Some(want)) if got == want => r.strs_ok += 1,
            (got, want) => r.fail(format!("str {a} {:?}: sizeof {got:?}, getsizeof {want:?}", s.text)),
        }
    }
}

/// (d) every dict: `len()` items, whose keys and values are the referents. `dict_traverse` visits keys and values of
/// general tables, only the values of str-keyed ones (≤3.10: `lookdict_unicode*`/split; 3.11+: unicode kinds), and
/// nothing of 3.13+ split values embedded in an instance (the instance visits them).
fn check_dicts(heap: &Heap<'_, CoreProcess>, objects: &[Value], r: &mut Report) {
    let l = heap.layout();
    for o in objects.iter().filter(|o| heap.kind(addr(&o["address"])).ok() == Some(Kind::Dict)) {
        r.dicts += 1;
        let a = addr(&o["address"]);
        let items = match heap.dict_items(a, usize::MAX) {
            Ok(items) => items,
            Err(e) => {
                r.fail(format!("dict {a}: {e}"));
                continue;
            }
        };
        let len = heap.dict_len(a).unwrap_or(u64::MAX);
        let mut refs: Vec<u64> = o["referents"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        refs.sort_unstable();
        let mut values: Vec<u64> = items.iter().map(|(_, v)| v.0).collect();
        let mut both: Vec<u64> = items.iter().flat_map(|(k, v)| [k.0, v.0]).collect();
        values.sort_unstable();
        both.sort_unstable();
        // A dict subclass's referents also hold its type (and an instance dict); keep only what the items hold.
        let exact = heap.is_exact(a, Kind::Dict).unwrap_or(false);
        let matches = |want: &[u64]| {
            if exact {
                refs == want
            } else {
                want.iter().all(|x| refs.binary_search(x).is_ok())
            }
        };
        let values_ptr = heap.process().read_u64(Addr(a.0 + l.dict.ma_values.get().unwrap())).unwrap_or(0);
        let embedded = l.dict_values.embedded.is_known()
            && values_ptr != 0
            && heap.process().read_u8(Addr(values_ptr + l.dict_values.embedded.get().unwrap())).unwrap_or(0) == 1;
        r.dicts_split += usize::from(values_ptr != 0);
        if items.len() as u64 != len {
            r.fail(format!("dict {a}: {} items, len {len}", items.len()));
        } else if items.is_empty() || matches(&both) {
            r.dicts_ok += 1;
            r.dicts_general += usize::from(!items.is_empty());
        } else if matches(&values) {
            r.dicts_ok += 1;
            r.dicts_str_keyed += 1;
        } else if embedded && refs.is_empty() {
            r.dicts_ok += 1;
            r.dicts_embedded += 1;
        } else {
            r.fail(format!("dict {a}: {} items do not match {} referents", items.len(), refs.len()));
        }
    }
}

/// Lists and tuples (referents are their items last to first) and sets (table order).
fn check_sequences(heap: &Heap<'_, CoreProcess>, objects: &[Value], r: &mut Report) {
    for o in objects {
        let ty = o["type"].as_str().unwrap();
        let a = addr(&o["address"]);
        let items = match ty {
            "list" => heap.list_items(a, usize::MAX),
            "tuple" => heap.tuple_items(a, usize::MAX),
            "set" | "frozenset" => heap.set_items(a, usize::MAX),
            _ => continue,
        };
        r.seqs += 1;
        let mut items: Vec<u64> = match items {
            Ok(items) => items.into_iter().map(|x| x.0).collect(),
            Err(e) => {
                r.fail(format!("{ty} {a}: {e}"));
                continue;
            }
        };
        if ty == "list" || ty == "tuple" {
            items.reverse();
        }
        let refs: Vec<u64> = o["referents"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        if items == refs {
            r.seqs_ok += 1;
        } else {
            r.fail(format!("{ty} {a}: {} items, {} referents", items.len(), refs.len()));
        }
    }
}

/// Instance attributes: every `Node` has `tag` and `peer`, every `Point` its three slots; the markers' instances;
/// threads' names through the threading module found from the main module.
fn check_instances(heap: &Heap<'_, CoreProcess>, truth: &Value, by_addr: &HashMap<u64, &Value>, r: &mut Report) {
    let opts = PreviewOptions::default();
    let m = &truth["markers"];
    let attr = |obj: Addr, name: &str| match heap.instance_attr(obj, name) {
        Ok(Some(v)) => heap.preview(v, &opts),
        Ok(None) => "<missing>".into(),
        Err(e) => format!("<error {e}>"),
    };
    r.expect("dict_instance.name", attr(addr(&m["dict_instance"]), "name"), "'plain-instance'");
    r.expect("dict_instance.count", attr(addr(&m["dict_instance"]), "count"), "3");
    r.expect("dict_instance.items", attr(addr(&m["dict_instance"]), "items"), "[1, 2, 3]");
    r.expect("slots_instance.x", attr(addr(&m["slots_instance"]), "x"), "1");
    r.expect("slots_instance.y", attr(addr(&m["slots_instance"]), "y"), "-2");
    r.expect("slots_instance.label", attr(addr(&m["slots_instance"]), "label"), "'origin'");
    r.expect("leaked.number", attr(addr(&m["leaked"]), "number"), "31337");
    r.expect("leaked.payload", attr(addr(&m["leaked"]), "payload"), "'leaked-payload-Ω'");
    r.expect("garbage_node.tag", attr(addr(&m["garbage_node"]), "tag"), "'self-0'");
    let garbage = addr(&m["garbage_node"]);
    r.expect(
        "garbage_node.peer",
        heap.instance_attr(garbage, "peer").map(|v| format!("{v:?}")).unwrap_or_default(),
        &format!("{:?}", Some(garbage)),
    );

    let mut nodes = 0;
    for o in by_addr.values().filter(|o| o["type"] == "__main__.Node") {
        let a = addr(&o["address"]);
        match heap.instance_dict_items(a, 16) {
            Ok(items) if items.len() == 2 => nodes += 1,
            Ok(items) => r.fail(format!("Node {a}: {} attributes", items.len())),
            Err(e) => r.fail(format!("Node {a}: {e}")),
        }
    }
    if nodes < 2000 {
        r.fail(format!("only {nodes} Node instances decoded"));
    }

    // The threading module, from the main module's globals; its `_active` dict maps idents to Thread objects.
    let main_dict = addr(&m["main_module_dict"]);
    let threading = heap.dict_get_str(main_dict, "threading").ok().flatten();
    let Some(threading) = threading else {
        r.fail("no `threading` global".into());
        return;
    };
    let active = heap.module_dict(threading).and_then(|d| heap.dict_get_str(d, "_active"));
    let Ok(Some(active)) = active else {
        r.fail(format!("threading._active: {active:?}"));
        return;
    };
    // sys.modules, from the main module's `sys` global, finds the same module.
    let sys_modules = heap
        .dict_get_str(main_dict, "sys")
        .ok()
        .flatten()
        .and_then(|sys| heap.module_dict(sys).ok())
        .and_then(|d| heap.dict_get_str(d, "modules").ok().flatten());
    match sys_modules.map(|mods| heap.find_module(mods, "threading")) {
        Some(Ok(Some(found))) if found == threading => {}
        other => r.fail(format!("threading in sys.modules: {other:?}")),
    }
    r.expect("threading module name", heap.module_name(threading).unwrap_or_default(), "threading");
    let mut names: Vec<String> =
        heap.dict_items(active, 64).unwrap_or_default().into_iter().map(|(_, t)| attr(t, "_name")).collect();
    names.sort();
    let mut want: Vec<String> =
        truth["threads"].as_array().unwrap().iter().map(|t| format!("'{}'", t["name"].as_str().unwrap())).collect();
    want.sort();
    r.expect("thread names", names.join(", "), &want.join(", "));
}

/// Previews of the container, subclass and class markers (formats of heapscope's own where Python's repr would need
/// the object's `__repr__`; sets compared as sets, their order being the hash table's).
fn check_marker_previews(heap: &Heap<'_, CoreProcess>, truth: &Value, r: &mut Report) {
    let m = &truth["markers"];
    let opts = PreviewOptions::default();
    let show = |name: &str| heap.preview(addr(&m[name]), &opts);
    for (name, want) in [
        ("complex", "(1.5-2.25j)"),
        ("bytearray", r"bytearray(b'mutable bytes \x00\xff')"),
        ("bytearray_empty", "bytearray(b'')"),
        ("list", "[1, 'two', 3.0, None, (4, 5), [6]]"),
        ("list_empty", "[]"),
        ("tuple", "(1, 'a', b'b', None, 2.5)"),
        ("tuple_empty", "()"),
        ("dict", "{'alpha': 1, 'beta': [2, 3], 'gamma': {'nested': True}, 7: 'seven'}"),
        ("dict_empty", "{}"),
        ("set_empty", "set()"),
        ("frozenset_empty", "frozenset()"),
        ("dict_subclass", "__main__.MyDict({'a': 1, 'b': [2]})"),
        ("list_subclass", "__main__.MyList([1, 2, 3])"),
        ("int_subclass", "__main__.MyInt(1180591620717411303429)"),
        ("str_subclass", "__main__.MyStr('sub-str Ω')"),
        ("ordered", "collections.OrderedDict({'first': 1, 'second': 2})"),
        ("defaultdict", "collections.defaultdict({'k': [1]})"),
        ("namedtuple", "__main__.Pair((1, 'right'))"),
        ("leakedmarker_class", "<class '__main__.LeakedMarker'>"),
    ] {
        r.expect(name, show(name), want);
    }
    let small = PreviewOptions { max_str_chars: 200, max_items: 3, depth: 2, redact: false };
    // 5000 entries, or what HEAPSCOPE_WORKLOAD_CACHE made it (py312-cache): one referent per entry, its value (the
    // dict's tp_traverse skips the keys of a str-keyed table).
    let cache = truth["objects"].as_array().unwrap().iter().find(|o| o["address"] == m["cache"]).expect("cache object");
    let cache_len = cache["referents"].as_array().unwrap().len();
    r.expect(
        "cache",
        heap.preview(addr(&m["cache"]), &small),
        &format!(
            "{{'item-00000': (0, 'value-0', 0.0), 'item-00001': (7919, 'value-1', 0.125), \
             'item-00002': (15838, 'value-2', 0.25), …}} (len {cache_len})"
        ),
    );
    for (name, prefix) in [
        ("slots_instance", "<__main__.Point object at 0x"),
        ("closure", "<function make_counter.<locals>.advance at 0x"),
        ("mappingproxy", "<mappingproxy object at 0x"),
    ] {
        let got = show(name);
        if !got.starts_with(prefix) {
            r.fail(format!("{name}: got {got}, want {prefix}…"));
        }
    }
    // gen_repr / coro_repr: the object's own `__qualname__`.
    for kind in ["generator", "coroutine"] {
        r.expect(kind, show(kind), &format!("<{kind} object suspended_{kind} at {}>", addr(&m[kind])));
    }
    check_structseqs(heap, truth, r);
    for (name, want) in [("set", "'four', (5, 6), 1, 2, 3"), ("frozenset", "'x', 'y', 10, 20")] {
        let set = addr(&m[name]);
        let mut items: Vec<String> =
            heap.set_items(set, 16).unwrap_or_default().into_iter().map(|i| heap.preview(i, &opts)).collect();
        items.sort();
        r.expect(name, items.join(", "), want);
        let shown = show(name);
        if !(shown.starts_with("{") || shown.starts_with("frozenset({")) || shown.len() < 10 {
            r.fail(format!("{name}: {shown}"));
        }
    }
    for (name, want) in [
        ("none_value", Kind::None),
        ("true_value", Kind::Bool),
        ("int_big", Kind::Int),
        ("int_subclass", Kind::Int),
        ("float", Kind::Float),
        ("complex", Kind::Complex),
        ("str_ucs4", Kind::Str),
        ("str_subclass", Kind::Str),
        ("bytes", Kind::Bytes),
        ("bytearray", Kind::ByteArray),
        ("tuple", Kind::Tuple),
        ("namedtuple", Kind::Tuple),
        ("list_subclass", Kind::List),
        ("dict", Kind::Dict),
        ("ordered", Kind::Dict),
        ("defaultdict", Kind::Dict),
        ("set", Kind::Set),
        ("frozenset", Kind::FrozenSet),
        ("leakedmarker_class", Kind::Type),
        ("closure", Kind::Function),
        ("generator", Kind::Other),
    ] {
        r.expect(&format!("kind of {name}"), format!("{:?}", heap.kind(addr(&m[name]))), &format!("Ok({want:?})"));
    }
    // An int subclass instance has no attributes, wherever its version would keep them.
    match heap.instance_dict_items(addr(&m["int_subclass"]), 8) {
        Ok(items) if items.is_empty() => {}
        other => r.fail(format!("int_subclass attributes: {other:?}")),
    }
}

/// Struct sequences of the `sys` module as `structseq_repr` prints them: `sys.version_info` from the truth's
/// `version_info`, `sys.float_info` (IEEE 754 doubles on every fixture), `sys.flags` by its first fields; cut to
/// `max_items` and `depth` like a tuple.
fn check_structseqs(heap: &Heap<'_, CoreProcess>, truth: &Value, r: &mut Report) {
    let main_dict = addr(&truth["markers"]["main_module_dict"]);
    let sys = heap.dict_get_str(main_dict, "sys").ok().flatten().and_then(|sys| heap.module_dict(sys).ok());
    let Some(sys) = sys else {
        r.fail("no `sys` global".into());
        return;
    };
    let opts = PreviewOptions { max_str_chars: 200, max_items: 64, depth: 2, redact: false };
    let show = |name: &str, opts: &PreviewOptions| match heap.dict_get_str(sys, name) {
        Ok(Some(v)) => heap.preview(v, opts),
        other => format!("<sys.{name}: {other:?}>"),
    };
    let vi = truth["version_info"].as_array().unwrap();
    r.expect(
        "sys.version_info",
        show("version_info", &opts),
        &format!(
            "sys.version_info(major={}, minor={}, micro={}, releaselevel='{}', serial={})",
            vi[0],
            vi[1],
            vi[2],
            vi[3].as_str().unwrap(),
            vi[4]
        ),
    );
    r.expect(
        "sys.float_info",
        show("float_info", &opts),
        "sys.float_info(max=1.7976931348623157e+308, max_exp=1024, max_10_exp=308, min=2.2250738585072014e-308, \
         min_exp=-1021, min_10_exp=-307, dig=15, mant_dig=53, epsilon=2.220446049250313e-16, radix=2, rounds=1)",
    );
    let flags = show("flags", &opts);
    if !flags.starts_with("sys.flags(debug=0, inspect=0, interactive=0, optimize=") || !flags.ends_with(')') {
        r.fail(format!("sys.flags: got {flags}"));
    }
    let cut = PreviewOptions { max_str_chars: 200, max_items: 2, depth: 1, redact: false };
    r.expect(
        "sys.version_info (2 items)",
        show("version_info", &cut),
        &format!("sys.version_info(major=3, minor={}, …) (len 5)", vi[1]),
    );
    let flat = PreviewOptions { max_str_chars: 200, max_items: 2, depth: 0, redact: false };
    r.expect("sys.version_info (depth 0)", show("version_info", &flat), "sys.version_info(…) (len 5)");
}

/// A preview of every object never fails; what cannot be read is only what the core lacks. Every object's attribute
/// storage decodes.
fn check_every_preview(heap: &Heap<'_, CoreProcess>, objects: &[Value], r: &mut Report) {
    let opts = PreviewOptions { max_str_chars: 50, max_items: 4, depth: 1, redact: false };
    for o in objects {
        match heap.attr_storage(addr(&o["address"])) {
            Ok(AttrStorage::Dict(_)) => r.attrs_in_dict += 1,
            Ok(AttrStorage::Values { .. }) => r.attrs_in_values += 1,
            Ok(_) => {}
            Err(e) => r.fail(format!("attributes of {} ({}): {e}", addr(&o["address"]), o["type"])),
        }
        r.previews += 1;
        let p = heap.preview(addr(&o["address"]), &opts);
        if p.starts_with("<unreadable") {
            r.previews_unreadable += 1;
            if !p.contains("does not contain") {
                r.fail(format!("preview of {} ({}): {p}", addr(&o["address"]), o["type"]));
            }
        }
    }
}
