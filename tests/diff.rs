//! `heapscope diff OLD NEW`, the way users see it.
//!
//! - two dumps of different programs (3.11 and 3.12) are refused, naming both versions;
//! - a dump against itself changes nothing: every object survives, no type or owner changes;
//! - two dumps of the workload (`py312`, and `py312-cache`, the same workload with a 90,000-entry cache, in another
//!   process): the growth by type is the difference of the two `summary` reports, type by type; the cache is the
//!   top owner by growth, with its path, and its retained sizes are those `retained` reports on each core; the
//!   dumps are of different processes, so objects are not matched one by one and the report says so;
//! - the diff fixture (`testdata/diff/py312`: one process dumped twice, its cache grown from 20,000 to 50,000
//!   entries, 2,700 of its 3,000 `Scratch` objects freed and 1,500 new ones put where freed ones were): the growth
//!   by type is the truths' exactly, except for what the truths cannot see (the cache's 30,000 new str keys, the
//!   new frames' locals dicts); the cache is the top owner by growth, with its path; the new, freed and surviving
//!   `Entry` and `Scratch` objects are the truth's, and every reused address is reported as a new object and a
//!   freed one, never as a survivor.

mod common;

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::Path;

use serde_json::Value;

use common::{diff_fixture, fixture, heapscope};

/// Runs heapscope; requires exit 0 and parses stdout.
fn json<S: AsRef<OsStr>>(args: &[S]) -> Value {
    let args: Vec<OsString> = args.iter().map(|a| a.as_ref().to_os_string()).collect();
    let out = heapscope(&args);
    assert!(
        matches!(out.status.code(), Some(0)),
        "heapscope {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn diff(old: &Path, new: &Path, extra: &[&str]) -> Value {
    let mut args: Vec<OsString> = vec!["diff".into(), old.into(), new.into()];
    args.extend(["--format", "json", "--no-cache"].iter().chain(extra).map(OsString::from));
    json(&args)
}

/// Per type: (count, bytes), from `summary --format json`.
fn summary_types(core: &Path) -> BTreeMap<String, (i64, i64)> {
    let s =
        json(&[OsStr::new("summary"), core.as_os_str(), "--format".as_ref(), "json".as_ref(), "--no-cache".as_ref()]);
    s["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["type"].as_str().unwrap().to_owned(), (t["count"].as_i64().unwrap(), t["bytes"].as_i64().unwrap())))
        .collect()
}

#[test]
fn refuses_dumps_of_different_programs() {
    let (old, new) = (fixture("py311").core(), fixture("py312").core());
    let out = heapscope([OsStr::new("diff"), old.as_os_str(), new.as_os_str(), "--no-cache".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("are not dumps of the same program"), "{err}");
    assert!(err.contains("Python 3.11.7") && err.contains("Python 3.12.1"), "{err}");
}

#[test]
fn a_dump_against_itself_changes_nothing() {
    let core = fixture("py314").core();
    let d = diff(&core, &core, &[]);
    assert_eq!(d["objects_matched"], true);
    let objects = d["new"]["objects"].as_u64().unwrap();
    assert!(objects > 10_000);
    assert_eq!(d["surviving"]["count"].as_u64(), Some(objects));
    assert_eq!(d["new_objects"]["count"], 0);
    assert_eq!(d["freed_objects"]["count"], 0);
    assert_eq!(d["reused_addresses"]["count"], 0);
    assert_eq!(d["owners"].as_array().unwrap().len(), 0);
    for t in d["types"].as_array().unwrap() {
        assert_eq!((t["delta_count"].as_i64(), t["delta_bytes"].as_i64()), (Some(0), Some(0)), "{t}");
    }
}

#[test]
fn growth_by_type_and_by_owner_between_two_runs_of_the_workload() {
    let (old, new) = (fixture("py312").core(), fixture("py312-cache").core());
    let d = diff(&old, &new, &[]);
    assert_eq!(d["objects_matched"], false);
    let note = d["notes"][0].as_str().unwrap();
    assert!(note.contains("different processes"), "{note}");
    assert_eq!(d["new_objects"]["count"], 0);

    // Types: NEW's summary minus OLD's, type by type, and nothing else.
    let (so, sn) = (summary_types(&old), summary_types(&new));
    let mut want = BTreeMap::new();
    for name in so.keys().chain(sn.keys()) {
        let (oc, ob) = so.get(name).copied().unwrap_or_default();
        let (nc, nb) = sn.get(name).copied().unwrap_or_default();
        want.insert(name.clone(), (oc, nc, nc - oc, ob, nb, nb - ob));
    }
    let got: BTreeMap<String, (i64, i64, i64, i64, i64, i64)> = d["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let n = |k: &str| t[k].as_i64().unwrap();
            let row =
                (n("old_count"), n("new_count"), n("delta_count"), n("old_bytes"), n("new_bytes"), n("delta_bytes"));
            (t["type"].as_str().unwrap().to_owned(), row)
        })
        .collect();
    assert_eq!(got, want);
    // Most bytes gained first.
    let deltas: Vec<i64> = d["types"].as_array().unwrap().iter().map(|t| t["delta_bytes"].as_i64().unwrap()).collect();
    assert!(deltas.windows(2).all(|w| w[0] >= w[1]), "{deltas:?}");

    // Owners: the cache first, with the retained sizes `retained` reports in each dump.
    let top = &d["owners"][0];
    assert_eq!(top["path"], "sys.modules['__main__'].__dict__['CACHE']", "{:#}", d["owners"]);
    assert_eq!(top["type"], "dict");
    for (core, side) in [(&old, "old"), (&new, "new")] {
        let addr = top[format!("{side}_address")].as_u64().unwrap().to_string();
        let r = json(&[
            OsStr::new("retained"),
            core.as_os_str(),
            addr.as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            "--no-cache".as_ref(),
        ]);
        assert_eq!(top[format!("{side}_retained_bytes")], r["bytes"], "{side}");
        assert_eq!(top[format!("{side}_retained_count")], r["count"], "{side}");
    }
    let delta = top["delta_bytes"].as_i64().unwrap();
    assert!(delta > 20 << 20, "{delta}");
}

/// `objects` of a diff's `new_objects` or `freed_objects`: per type, the count.
fn counts(change: &Value) -> BTreeMap<String, u64> {
    change["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["type"].as_str().unwrap().to_owned(), t["count"].as_u64().unwrap()))
        .collect()
}

fn addresses(change: &Value) -> std::collections::BTreeSet<u64> {
    change["examples"].as_array().unwrap().iter().map(|e| e["address"].as_u64().unwrap()).collect()
}

#[test]
fn one_process_dumped_twice_against_its_truth() {
    let (old, new, truth) = diff_fixture();
    let d = diff(&old.core(), &new.core(), &["--limit", "1000000"]);
    assert_eq!(d["objects_matched"], true);
    assert_eq!(d["old"]["pid"], truth["pid"]);

    // Growth by type: the truths' histograms, type by type.
    let hist = |side: &str, ty: &str| {
        let h = &truth["histogram"][side][ty];
        (h["count"].as_i64().unwrap_or(0), h["bytes"].as_i64().unwrap_or(0))
    };
    let entries = &truth["cache"]["entries"];
    let new_keys = entries["new"].as_i64().unwrap() - entries["old"].as_i64().unwrap();
    let new_frame_dicts = d["new_objects"]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["type"] == "dict" && e["path"].as_str().is_some_and(|p| p.starts_with("frame ") && p.contains(" locals "))
        })
        .count() as i64;
    let mut compared = 0;
    for t in d["types"].as_array().unwrap() {
        let ty = t["type"].as_str().unwrap();
        let ((oc, ob), (nc, nb)) = (hist("old", ty), hist("new", ty));
        let got = (t["delta_count"].as_i64().unwrap(), t["delta_bytes"].as_i64().unwrap());
        match ty {
            // The truths leave out the keys of str-keyed dicts (gc.get_referents does not return them): the cache's
            // new keys are str objects the truth does not count.
            "str" => assert_eq!(got.0, nc - oc + new_keys, "str"),
            // The two frames running at the second dump have a locals dict the truth's frame walk does not list.
            "dict" => assert_eq!(got.0, nc - oc + new_frame_dicts, "dict"),
            _ => {
                assert_eq!(got, (nc - oc, nb - ob), "{ty}: diff {t}");
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "{compared} types compared");
    assert_eq!(new_keys, 30_000);
    assert!(new_frame_dicts <= 2, "{new_frame_dicts}");

    // Owners: the grown cache first, with its path.
    let top = &d["owners"][0];
    assert_eq!(top["path"], truth["cache"]["path"], "{:#}", d["owners"]);
    assert_eq!(top["new_address"], truth["cache"]["address"]);
    assert!(top["delta_bytes"].as_i64().unwrap() > 0);

    // Objects: the workload's classes, new, freed and surviving as the truth says.
    let (fresh, freed) = (counts(&d["new_objects"]), counts(&d["freed_objects"]));
    let (reused, kept): (Vec<u64>, Vec<u64>) = (
        truth["reused"].as_array().unwrap().iter().map(|r| r["address"].as_u64().unwrap()).collect(),
        truth["scratch"]["kept"].as_array().unwrap().iter().map(|a| a.as_u64().unwrap()).collect(),
    );
    let types = &truth["types"];
    let n = |ty: &str, side: &str| types[ty][side].as_u64().unwrap();
    assert_eq!(fresh.get("__main__.Entry").copied(), Some(n("__main__.Entry", "new") - n("__main__.Entry", "old")));
    assert_eq!(fresh.get("__main__.Scratch").copied(), Some(reused.len() as u64));
    assert_eq!(freed.get("__main__.Scratch").copied(), Some(truth["freed"].as_array().unwrap().len() as u64));
    assert_eq!(freed.get("__main__.Entry"), None);
    assert_eq!(reused.len(), 1500);
    let (fresh_at, freed_at) = (addresses(&d["new_objects"]), addresses(&d["freed_objects"]));
    assert_eq!(fresh_at.len() as u64, d["new_objects"]["count"].as_u64().unwrap(), "every new object listed");
    for a in &reused {
        assert!(
            fresh_at.contains(a) && freed_at.contains(a),
            "reused address {a:#x} must be new and freed, not a survivor"
        );
    }
    for a in &kept {
        assert!(!fresh_at.contains(a) && !freed_at.contains(a), "kept Scratch {a:#x} must survive");
    }
    assert!(d["reused_addresses"]["count"].as_u64().unwrap() >= 1500);

    // The Markdown form names the cache too.
    let out = heapscope([
        OsStr::new("diff"),
        old.core().as_os_str(),
        new.core().as_os_str(),
        "--format".as_ref(),
        "md".as_ref(),
        "--no-cache".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("| `sys.modules['__main__'].__dict__['CACHE']` |"), "{md}");
}
