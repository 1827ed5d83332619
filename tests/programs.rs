//! The real-program fixtures (testdata/programs: numpy, asyncio, msgpack on CPython 3.12 and 3.14) against their
//! ground truth: every truth object is decoded by `object_info` with the truth's type name and `sys.getsizeof`
//! (100 %, numpy's ndarrays and scalars included); every ndarray's `descr` is a Hidden reference and no ndarray is
//! scanned conservatively; the object array that owns its data (`OBJECTS`, 64 items) has its items as Hidden `[i]`
//! references, each a truth object, and its view (`OBJECTS[::4]`) has none.
//!
//! Run with `--nocapture` to see the per-fixture counts.

mod common;

use std::collections::BTreeMap;

use heapscope_coredump::Addr;
use heapscope_cpython::heap::{object_info_with, referents_with, Label, RefKind, TypeCache};
use heapscope_cpython::objects::Heap;

use common::programs;

#[test]
fn every_object_has_the_truths_type_and_size() {
    let mut lines = Vec::new();
    let mut ok = true;
    for fx in programs() {
        let truth = fx.truth();
        let objects = truth["objects"].as_array().expect("objects");
        let (process, _root) = fx.open_process();
        let layout = common::builtin_layout(&process);
        let heap = Heap::new(&process, &layout);
        let mut cache = TypeCache::new(&heap);

        let addrs: std::collections::HashSet<u64> =
            objects.iter().map(|o| o["address"].as_u64().expect("address")).collect();
        let (mut matched, mut arrays, mut arrays_ok, mut scalars, mut scalars_ok) = (0, 0, 0, 0, 0);
        let mut item_counts = Vec::new();
        let mut bad: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
        for o in objects {
            let addr = o["address"].as_u64().expect("address");
            let want_ty = o["type"].as_str().expect("type");
            let want_size = o["size"].as_u64();
            let got = object_info_with(&heap, &mut cache, Addr(addr))
                .and_then(|i| Ok((heap.type_name(i.ty)?, i.size)))
                .map_err(|e| e.to_string());
            let is_array = want_ty == "numpy.ndarray";
            let is_scalar = ["numpy.float", "numpy.int", "numpy.uint", "numpy.bool", "numpy.datetime64"]
                .iter()
                .any(|p| want_ty.starts_with(p));
            arrays += usize::from(is_array);
            scalars += usize::from(is_scalar);
            let good = matches!(&got, Ok((ty, size)) if ty == want_ty && Some(*size) == want_size);
            if good {
                matched += 1;
                arrays_ok += usize::from(is_array);
                scalars_ok += usize::from(is_scalar);
            } else {
                let e = bad.entry(want_ty.to_string()).or_default();
                e.0 += 1;
                if e.1.len() < 3 {
                    e.1.push(format!("{addr:#x}: got {got:?}, want {want_size:?}"));
                }
            }
            if is_array && good {
                let mut refs = Vec::new();
                let r = referents_with(&heap, &mut cache, Addr(addr), &mut refs);
                let hidden = |name: &'static str| {
                    refs.iter().any(|r| r.kind == RefKind::Hidden && r.label == Label::Field(name))
                };
                let items: Vec<u64> = refs
                    .iter()
                    .filter(|r| r.kind == RefKind::Hidden && matches!(r.label, Label::Index(_)))
                    .map(|r| r.target.0)
                    .collect();
                if !items.is_empty() {
                    item_counts.push(items.len());
                }
                let stray = items.iter().any(|a| !addrs.contains(a));
                if r.is_err() || !hidden("descr") || stray || refs.iter().any(|r| r.kind == RefKind::Conservative) {
                    let e = bad.entry("numpy.ndarray (references)".into()).or_default();
                    e.0 += 1;
                    e.1.push(format!("{addr:#x}: {r:?} {refs:?}"));
                }
            }
        }
        let n = objects.len();
        ok &= bad.is_empty() && matched == n && arrays > 0 && scalars > 0 && item_counts == [64];
        lines.push(format!(
            "{:<12} objects {n}: type and size match {matched} ({:.3}%); numpy.ndarray {arrays_ok}/{arrays}, numpy \
             scalars {scalars_ok}/{scalars}; object-array items {item_counts:?}{}",
            fx.name,
            100.0 * matched as f64 / n.max(1) as f64,
            bad.iter().map(|(t, (k, ex))| format!("\n    {t}: {k} (e.g. {})", ex.join("; "))).collect::<String>()
        ));
    }
    println!("{}", lines.join("\n"));
    assert!(ok, "objects of the real-program fixtures disagree with the truth (details above)");
}

/// Every truth object is in the `gc.get_objects()`/`gc.get_referents()` closure the process computed, so the
/// snapshot's `gc_closure` category must hold them all, within 0.1 % in count: an object that only a C extension's
/// object holds (a Cython class's attribute, what a Task or an ndarray references) is reached through that
/// object's references, and none of them may be called `unreferenced` (or reachable only from such objects).
#[test]
fn objects_held_by_extension_objects_are_in_the_gc_closure() {
    use heapscope_snapshot::{BuildOptions, Category};

    let mut lines = Vec::new();
    let mut bad = Vec::new();
    for fx in programs() {
        let truth = fx.truth();
        let objects = truth["objects"].as_array().expect("objects");
        let (process, _root) = fx.open_process();
        let detection = heapscope_cpython::detect(&process).expect("python found");
        let layout = common::builtin_layout(&process);
        let snap = heapscope_snapshot::build(&process, &detection, &layout, &BuildOptions::default())
            .expect("snapshot builds");
        let mut by_category: BTreeMap<Category, usize> = BTreeMap::new();
        for o in objects {
            let addr = Addr(o["address"].as_u64().expect("address"));
            let Some(id) = snap.id_of(addr) else {
                bad.push(format!("{}: truth object {addr} is not in the snapshot", fx.name));
                continue;
            };
            let category = snap.object(id).category;
            *by_category.entry(category).or_default() += 1;
            if matches!(category, Category::Unreferenced | Category::FromUnreferenced | Category::WeakOnly) {
                bad.push(format!("{}: {addr} ({}) is {}", fx.name, snap.type_name(id), category.name()));
            }
        }
        let closure = snap.categories().iter().filter(|&&c| c == Category::GcClosure).count();
        let off = (closure as f64 - objects.len() as f64).abs() / objects.len() as f64;
        lines.push(format!(
            "{:<12} truth closure {}, gc_closure {closure} ({:+.3} %); truth objects by category {by_category:?}",
            fx.name,
            objects.len(),
            100.0 * (closure as f64 - objects.len() as f64) / objects.len() as f64
        ));
        if off > 0.001 {
            bad.push(format!("{}: gc_closure {closure} vs truth closure {}", fx.name, objects.len()));
        }
    }
    println!("{}", lines.join("\n"));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
