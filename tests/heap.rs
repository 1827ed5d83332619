//! The heap snapshot (`heapscope_snapshot::build`) and the commands on it (`summary`, `show`, `refs`,
//! `referrers`) against the ground truth of every fixture core. Self-contained fixtures are read from the core alone
//! (an empty `--sysroot`), `py312-filter33` with its shipped binaries.
//!
//! Per fixture:
//! - every truth object is in the snapshot, with the truth's type name and `sys.getsizeof`, and none is
//!   `unreferenced`, `from_unreferenced` or `weak_only` (the truth is what the GC reaches);
//! - the objects beyond the truth are a small fraction, each with a category; they are counted (and sampled) by
//!   category in the output;
//! - no address the workload freed just before the dump is an object of the snapshot;
//! - `summary --format json`: restricted to the truth's addresses, the snapshot's per-type counts and bytes equal
//!   the truth's; the JSON's per-type figures and totals equal the truth's plus those of the extra objects;
//! - `show` of the `leaked` marker reports a refcount higher than its number of referrers;
//! - `refs` and `referrers` of some markers agree with the truth's referents.
//!
//! Run with `--nocapture` to see the per-fixture figures.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsStr;
use std::path::Path;
use std::time::Instant;

use heapscope_coredump::{Addr, CoreProcess, OpenOptions};
use heapscope_cpython::layout::{DwarfPolicy, Layout};
use heapscope_cpython::objects::{Heap, PreviewOptions};
use heapscope_query::show::{RowOptions, ShowReport};
use heapscope_snapshot::{BuildOptions, Category, Snapshot};
use serde_json::Value;

use common::{empty_sysroot, fixture, heapscope};

/// Markers whose referents and referrers are compared with the truth.
const MARKERS: &[&str] = &["tree", "dict_instance", "slots_instance", "cache", "closure", "list"];
/// Largest share of the snapshot the objects beyond the truth may make up. Most of them are objects `tp_traverse`
/// does not report, so the truth (a `gc.get_referents` closure) cannot list them: code objects' bytecode, line and
/// exception tables, str dict keys (≈ 13–15 % of these stdlib-heavy fixture heaps).
const MAX_EXTRA_SHARE: f64 = 0.20;
/// Largest share of the snapshot the other extra objects (every category but `hidden_ref`, `runtime_static` and
/// `permanent`, which are extra by construction) may make up.
const MAX_UNEXPLAINED_SHARE: f64 = 0.02;

/// Per-type totals: count and bytes.
type Histogram = BTreeMap<String, (u64, u64)>;

fn check(name: &str) {
    let fx = fixture(name);
    let root = empty_sysroot();
    if fx.has_sysroot() {
        fx.extract_sysroot(root.path());
    }
    let truth = fx.truth();
    let opts = OpenOptions { sysroot: Some(root.path().to_owned()), search_paths: Vec::new() };
    let process = CoreProcess::open(&fx.core(), &opts).expect("core opens");
    let detection = heapscope_cpython::detect(&process).expect("python found");
    let layout = Layout::resolve(&process, &detection, DwarfPolicy::Off).expect("layout resolves").0;
    let started = Instant::now();
    let snap =
        heapscope_snapshot::build(&process, &detection, &layout, &BuildOptions::default()).expect("snapshot builds");
    let secs = started.elapsed().as_secs_f64();
    let h = Heap::new(&process, &layout);

    let objects = truth["objects"].as_array().unwrap();
    let mut diffs = Vec::new();
    let mut truth_ids = HashSet::new();
    let mut want = Histogram::new();
    let mut got_on_truth = Histogram::new();
    let mut not_in_core = 0;
    for o in objects {
        let a = Addr(o["address"].as_u64().unwrap());
        let ty = o["type"].as_str().unwrap();
        let size = o["size"].as_u64();
        let Some(id) = snap.id_of(a) else {
            diffs.push(format!("truth object {a} ({ty}) is not in the snapshot"));
            continue;
        };
        truth_ids.insert(id);
        let rec = snap.object(id);
        // The truth is the closure of what the GC sees: none of it can be unreferenced.
        if matches!(rec.category, Category::Unreferenced | Category::FromUnreferenced | Category::WeakOnly) {
            diffs.push(format!("truth object {a} ({ty}) is in category {}", rec.category.name()));
        }
        let got_ty = snap.type_name(id);
        // An extension module's static type whose name is in neither the core nor the files at hand (py312-filter33
        // ships no extension modules) cannot be named: compare it under the snapshot's placeholder.
        let unnamed = rec.type_id.and_then(|t| snap.types()[t as usize].name_error.as_deref());
        let ty = match unnamed {
            Some(e) if e.contains("does not contain") => {
                not_in_core += 1;
                got_ty
            }
            _ => ty,
        };
        let e = want.entry(ty.to_owned()).or_default();
        e.0 += 1;
        e.1 += size.unwrap_or(0);
        if got_ty != ty {
            diffs.push(format!("{a}: type {got_ty}, truth {ty}"));
        }
        if size.is_some_and(|s| s != rec.size) {
            diffs.push(format!("{a} ({ty}): size {}, truth {}", rec.size, size.unwrap()));
        }
        let e = got_on_truth.entry(got_ty.to_owned()).or_default();
        e.0 += 1;
        e.1 += rec.size;
    }
    if got_on_truth != want {
        diffs.push(format!("per-type histogram of the truth's objects differs:\n{}", hist_diff(&got_on_truth, &want)));
    }

    // Objects beyond the truth, by category.
    let mut extras = Histogram::new();
    let mut by_category: BTreeMap<Category, Vec<u32>> = BTreeMap::new();
    for id in 0..snap.len() as u32 {
        if !truth_ids.contains(&id) {
            by_category.entry(snap.object(id).category).or_default().push(id);
            let e = extras.entry(snap.type_name(id).to_owned()).or_default();
            e.0 += 1;
            e.1 += snap.object(id).size;
        }
    }
    let n_extra: usize = by_category.values().map(Vec::len).sum();
    let share = n_extra as f64 / snap.len().max(1) as f64;
    if share >= MAX_EXTRA_SHARE {
        diffs.push(format!("{n_extra} objects beyond the truth ({:.1}% of the snapshot)", 100.0 * share));
    }
    let by_construction = [Category::HiddenRef, Category::RuntimeStatic, Category::Permanent];
    let unexplained: usize =
        by_category.iter().filter(|(c, _)| !by_construction.contains(c)).map(|(_, ids)| ids.len()).sum();
    if unexplained as f64 >= MAX_UNEXPLAINED_SHARE * snap.len() as f64 {
        diffs.push(format!("{unexplained} objects beyond the truth outside {by_construction:?}"));
    }

    for f in truth["freed"].as_array().unwrap() {
        let a = Addr(f.as_u64().unwrap());
        if snap.id_of(a).is_some() {
            diffs.push(format!(
                "freed address {a} is an object of the snapshot ({})",
                snap.type_name(snap.id_of(a).unwrap())
            ));
        }
    }

    let core = fx.core();
    check_summary_json(&core, root.path(), &want, &extras, &mut diffs);
    check_leaked(&core, root.path(), &truth, &snap, &mut diffs);
    let compared = check_markers(&core, root.path(), &truth, &mut diffs);
    check_slot_labels(&h, &snap, &truth, &mut diffs);

    let e = snap.errors();
    let stats = snap.stats();
    let mut report = format!(
        "{name:<15} {} objects in {secs:.2}s ({} rounds, {} refs), truth {} (all found: {}; {not_in_core} with a type \
         name not in the core), beyond the truth {n_extra} ({:.1}%): {}; errors: {} objects, {} other; {compared} \
         marker listings compared",
        snap.len(),
        stats.rounds,
        snap.num_refs(),
        objects.len(),
        truth_ids.len() == objects.len(),
        100.0 * share,
        by_category.iter().map(|(c, ids)| format!("{c} {}", ids.len())).collect::<Vec<_>>().join(", "),
        e.objects,
        e.other,
    );
    let popts = PreviewOptions { max_str_chars: 40, max_items: 3, depth: 1, redact: false };
    for (c, ids) in &by_category {
        let sample: Vec<String> = ids
            .iter()
            .take(4)
            .map(|&id| format!("{} {} {}", snap.addr(id), snap.type_name(id), h.preview(snap.addr(id), &popts)))
            .collect();
        report.push_str(&format!("\n    {c}: {}", sample.join(" | ")));
    }
    for (addr, cause) in e.first.iter().take(5) {
        report.push_str(&format!("\n    error {addr}: {cause}"));
    }
    eprintln!("{report}");
    assert!(
        diffs.is_empty(),
        "{name}: {} differences:\n{}\n{report}",
        diffs.len(),
        diffs.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// Runs heapscope and parses its JSON stdout; exit 2 is accepted (it reports undecodable objects, counted
/// separately), anything else fails.
fn heapscope_json(args: &[&OsStr]) -> Value {
    let out = heapscope(args);
    let code = out.status.code();
    assert!(
        code == Some(0) || code == Some(2),
        "heapscope {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("heapscope {args:?} printed no JSON ({e}):\n{}", String::from_utf8_lossy(&out.stderr))
    })
}

fn command(cmd: &str, core: &Path, root: &Path, extra: &[&str]) -> Value {
    let mut args: Vec<&OsStr> =
        vec![OsStr::new(cmd), OsStr::new("--format"), OsStr::new("json"), core.as_os_str(), OsStr::new("--sysroot")];
    args.push(root.as_os_str());
    args.extend(extra.iter().map(OsStr::new));
    heapscope_json(&args)
}

/// `summary --format json`: per-type figures and totals are the truth's plus the extra objects'.
fn check_summary_json(core: &Path, root: &Path, truth: &Histogram, extras: &Histogram, diffs: &mut Vec<String>) {
    let json = command("summary", core, root, &[]);
    let mut got = Histogram::new();
    for t in json["types"].as_array().unwrap() {
        got.insert(
            t["type"].as_str().unwrap().to_owned(),
            (t["count"].as_u64().unwrap(), t["bytes"].as_u64().unwrap()),
        );
    }
    let mut want = truth.clone();
    for (ty, (c, b)) in extras {
        if ty == "?" {
            continue; // undecodable objects have no type row
        }
        let e = want.entry(ty.clone()).or_default();
        e.0 += c;
        e.1 += b;
    }
    if got != want {
        diffs.push(format!("summary JSON per type != truth + extras:\n{}", hist_diff(&got, &want)));
    }
    let total = |h: &Histogram| h.values().fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1));
    let (tc, tb) = total(truth);
    let (ec, eb) = total(extras);
    let objects = &json["objects"];
    if objects["count"].as_u64() != Some(tc + ec) || objects["bytes"].as_u64() != Some(tb + eb) {
        diffs.push(format!("summary totals {objects}: truth {tc} objects / {tb} bytes, extras {ec} / {eb}"));
    }
    if json["types_total"].as_u64() != Some(want.len() as u64) {
        diffs.push(format!("summary types_total {} != {}", json["types_total"], want.len()));
    }
}

/// `show` of the leaked marker: a reference no object owns, so more refcount than referrers.
fn check_leaked(core: &Path, root: &Path, truth: &Value, snap: &Snapshot, diffs: &mut Vec<String>) {
    let leaked = truth["markers"]["leaked"].as_u64().unwrap();
    let json = command("show", core, root, &[&format!("{leaked:#x}")]);
    let refcount = json["refcount"].as_i64().unwrap();
    let referrers = json["referrers_total"].as_i64().unwrap();
    if refcount <= referrers {
        diffs.push(format!("show leaked: refcount {refcount} is not above its {referrers} referrers"));
    }
    let id = snap.id_of(Addr(leaked)).expect("leaked marker in the snapshot");
    let total = snap.referrer_count(id) + snap.roots_of(id).count();
    if json["type"].as_str() != Some(snap.type_name(id)) || json["referrers_total"] != total {
        diffs.push(format!("show leaked disagrees with the snapshot: {json}"));
    }
}

/// `refs` and `referrers` of some markers against the truth's referents; returns the listings compared.
fn check_markers(core: &Path, root: &Path, truth: &Value, diffs: &mut Vec<String>) -> usize {
    let objects = truth["objects"].as_array().unwrap();
    let in_truth: HashSet<u64> = objects.iter().map(|o| o["address"].as_u64().unwrap()).collect();
    let referents: HashMap<u64, Vec<u64>> = objects
        .iter()
        .map(|o| {
            (
                o["address"].as_u64().unwrap(),
                o["referents"].as_array().unwrap().iter().map(|r| r.as_u64().unwrap()).collect(),
            )
        })
        .collect();
    let mut compared = 0;
    for m in MARKERS {
        let Some(x) = truth["markers"][*m].as_u64() else { continue };
        let listing = |cmd: &str| -> Vec<(u64, String, String)> {
            command(cmd, core, root, &[&x.to_string(), "--limit", "1000000"])["refs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let text = |k: &str| r[k].as_str().unwrap().to_owned();
                    (r["address"].as_u64().unwrap(), text("kind"), text("label"))
                })
                .collect()
        };
        let refs = listing("refs");
        if *m == "slots_instance" {
            // `Point.__slots__`, by the names of their member descriptors.
            let mut attrs: Vec<&str> =
                refs.iter().map(|(_, _, l)| l.as_str()).filter(|l| l.starts_with('.') || l.contains("slot")).collect();
            attrs.sort_unstable();
            if attrs != [".label", ".x", ".y"] {
                diffs.push(format!("refs of {m} ({x:#x}): slot labels {attrs:?}, want .label, .x, .y"));
            }
        }
        let mut got: Vec<u64> = refs.into_iter().filter(|(_, k, _)| k == "traverse").map(|(a, _, _)| a).collect();
        let mut want = referents.get(&x).cloned().unwrap_or_default();
        got.sort_unstable();
        want.sort_unstable();
        if got != want {
            diffs.push(format!("refs of {m} ({x:#x}): traverse targets {got:?}, truth referents {want:?}"));
        }
        let mut got: Vec<u64> = listing("referrers")
            .into_iter()
            .filter(|(a, k, _)| k == "traverse" && in_truth.contains(a))
            .map(|(a, _, _)| a)
            .collect();
        got.dedup();
        let mut want: Vec<u64> =
            objects.iter().map(|o| o["address"].as_u64().unwrap()).filter(|a| referents[a].contains(&x)).collect();
        want.sort_unstable();
        if got != want {
            diffs.push(format!("referrers of {m} ({x:#x}): {got:?}, truth {want:?}"));
        }
        compared += 2;
    }
    compared
}

/// `__slots__` labels in both directions, from the library: `refs` of a `Point` name its slots `.x`, `.y`, `.label`
/// (its class declares them), and among the referrers of the value of `.label` the `Point` holds it as `.label`.
fn check_slot_labels(h: &Heap<'_, CoreProcess>, snap: &Snapshot, truth: &Value, diffs: &mut Vec<String>) {
    let opts = RowOptions { limit: usize::MAX, ..RowOptions::default() };
    let m = &truth["markers"];
    let point = snap.id_of(Addr(m["slots_instance"].as_u64().unwrap())).expect("slots_instance in the snapshot");
    let show = ShowReport::collect(h, snap, point, &opts);
    let mut labels: Vec<&str> = show.referents.iter().map(|r| r.label.as_str()).collect();
    labels.sort_unstable();
    labels.retain(|l| l.starts_with('.') || l.contains("slot"));
    if labels != [".label", ".x", ".y"] {
        diffs.push(format!("show slots_instance: slot labels {labels:?}, want .label, .x, .y"));
    }
    let Some(value) = show.referents.iter().find(|r| r.label == ".label") else { return };
    let value = snap.id_of(value.address).expect("referent in the snapshot");
    let held = ShowReport::collect(h, snap, value, &opts)
        .referrers
        .iter()
        .any(|r| r.address == snap.addr(point) && r.label == ".label");
    if !held {
        diffs.push(format!("referrers of {}: no row for the Point labelled .label", snap.addr(value)));
    }
}

/// The rows where two histograms differ.
fn hist_diff(got: &Histogram, want: &Histogram) -> String {
    let keys: std::collections::BTreeSet<&String> = got.keys().chain(want.keys()).collect();
    keys.into_iter()
        .filter(|k| got.get(*k) != want.get(*k))
        .take(30)
        .map(|k| format!("  {k}: got {:?}, want {:?}", got.get(k), want.get(k)))
        .collect::<Vec<_>>()
        .join("\n")
}

crate::per_fixture!(check);

/// An address that is not an object gives a clear error (exit 2) naming what contains it.
#[test]
fn show_of_a_non_object_address() {
    let fx = fixture("py312");
    let root = empty_sysroot();
    let truth = fx.truth();
    let tree = truth["markers"]["tree"].as_u64().unwrap();
    let core = fx.core();
    let inside = format!("{:#x}", tree + 8);
    let out = heapscope([
        OsStr::new("show"),
        core.as_os_str(),
        OsStr::new(&inside),
        OsStr::new("--sysroot"),
        root.path().as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not the start of an object") && err.contains(&format!("{tree:#x}")), "{err}");
}
