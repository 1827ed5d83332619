//! Versions without a built-in layout table, checked on fixture cores of versions that do have one: the hidden,
//! test-only `--test-withhold-table KEY` makes heapscope act as if it had no table `KEY`.
//!
//! - A release newer than every table (3.13+): the newest remaining table with the core's `_Py_DebugOffsets` laid
//!   over it. `stacks` must still equal the truth; heap commands may degrade (counted errors) but never crash; every
//!   command warns on stderr, and JSON carries `unverified_version`.
//! - Any version, from the DWARF of its libpython: `testdata/dwarf/libpython3.12-headers.debug` (the structs of
//!   CPython 3.12.1's headers, with the build-id of py312's libpython; see testdata/dwarf/README.md) installed as the
//!   separate debug file under `--sysroot`. Without it the same command fails and says what to provide.

mod common;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use heapscope_coredump::DiskElf;
use heapscope_cpython::dwarf::DwarfTypes;
use heapscope_cpython::layout::{dwarf_offsets, TABLES};
use serde_json::Value;

use common::{empty_sysroot, fixture, heapscope};

/// Build-id of the libpython3.12.so.1.0 that testdata/py312's process ran (`heapscope info`).
const PY312_LIBPYTHON_BUILD_ID: &str = "f9d5c82f5f2c22df68c1d49c944ef3dee5103dcc";

/// `heapscope ARGS… CORE --sysroot ROOT --test-withhold-table K…`: (exit code, stdout, stderr).
fn run(cmd: &[&str], core: &Path, root: &Path, withheld: &[&str]) -> (Option<i32>, String, String) {
    let mut args: Vec<OsString> = cmd.iter().map(OsString::from).collect();
    args.push(core.as_os_str().to_owned());
    args.push("--sysroot".into());
    args.push(root.as_os_str().to_owned());
    for key in withheld {
        args.push("--test-withhold-table".into());
        args.push(OsString::from(key));
    }
    let out = heapscope(&args);
    let text = |b: Vec<u8>| String::from_utf8(b).expect("UTF-8 output");
    (out.status.code(), text(out.stdout), text(out.stderr))
}

/// `stacks --format json --locals` on fixture `name` with the tables `withheld` and `root` as sysroot; must succeed.
fn stacks(name: &str, root: &Path, withheld: &[&str]) -> (Value, String) {
    let fx = fixture(name);
    let (code, out, err) = run(&["stacks", "--format", "json", "--locals"], &fx.core(), root, withheld);
    let got: Value = serde_json::from_str(&out).expect("stacks prints JSON");
    // Exit 2 is for parts that could not be decoded; under a stand-in table, values whose type's layout moved (a
    // heap type's name) may be unreadable: counted, and then the only failure.
    let unreadable = got["locals"]["unreadable"].as_u64().unwrap_or(0);
    let ok = code == Some(0) || (code == Some(2) && unreadable > 0 && got["errors"] == 0);
    assert!(ok, "{name} without {withheld:?}: stacks failed ({code:?}):\n{err}");
    if unreadable > 0 {
        eprintln!("{name} without {withheld:?}: {unreadable} locals unreadable");
    }
    (got, err)
}

/// The fixture `name` read with the tables `withheld`, so that its version is newer than every table left, whose
/// newest is `table`: stacks equal to the truth, the unverified-version warning on stderr and in JSON, and
/// `summary` degrading at worst to counted errors.
fn newest_table_stands_in(name: &str, withheld: &[&str], table: &str) {
    let fx = fixture(name);
    let root = empty_sysroot();
    let (got, stderr) = stacks(name, root.path(), withheld);
    common::stacks::compare(name, &got, &fx.truth());

    let u = &got["unverified_version"];
    assert_eq!(u["kind"], "newest_table", "{u:#}");
    assert_eq!(u["table"], table, "{u:#}");
    assert_eq!(u["version"], fx.truth()["version"], "{u:#}");
    let message = u["message"].as_str().expect("a message");
    assert!(message.contains("newer than every layout table") && message.contains("unverified"), "{message}");
    assert!(stderr.contains(&format!("heapscope: warning: {message}")), "stderr: {stderr}");

    let (code, out, err) = run(&["summary", "--format", "json"], &fx.core(), root.path(), withheld);
    assert!(matches!(code, Some(0) | Some(2)), "summary must end with 0 or 2, not {code:?} (a panic is 101):\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let summary: Value = serde_json::from_str(&out).expect("summary prints JSON");
    assert_eq!(summary["unverified_version"]["kind"], "newest_table");
    assert!(summary["objects"]["count"].as_u64().unwrap() > 1000, "{}", summary["objects"]);
    if code == Some(2) {
        assert!(summary["errors"].as_u64().unwrap() > 0, "exit 2 must come with counted errors");
    }
    eprintln!(
        "{name} without {withheld:?}: stacks equal the truth; summary exit {code:?}, {} objects, {} errors",
        summary["objects"]["count"], summary["errors"]
    );
}

#[test]
fn py315_with_the_314_table_and_its_debug_offsets() {
    newest_table_stands_in("py315", &["3.15"], "3.14.5");
}

#[test]
fn py314_with_the_313_table_and_its_debug_offsets() {
    newest_table_stands_in("py314", &["3.14.0", "3.14.5", "3.15"], "3.13");
}

/// Below 3.13 there is no `_Py_DebugOffsets` to lay over the newest table: 3.12 with every table from 3.12 on
/// withheld is refused, and the message says why and what to provide.
#[test]
fn before_313_a_newer_version_is_refused() {
    let fx = fixture("py312");
    let root = empty_sysroot();
    let (code, out, err) = run(&["stacks"], &fx.core(), root.path(), &["3.12", "3.13", "3.14.0", "3.14.5", "3.15"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("no struct layout for CPython 3.12.1"), "{err}");
    assert!(err.contains("newer than every built-in table (the newest is 3.11)"), "{err}");
    assert!(err.contains("before 3.13 CPython publishes no _Py_DebugOffsets"), "{err}");
}

/// A sysroot holding testdata/dwarf/libpython3.12-headers.debug as py312's libpython's separate debug file.
fn sysroot_with_debug_file() -> (tempfile::TempDir, PathBuf) {
    let root = empty_sysroot();
    let (dir, file) = PY312_LIBPYTHON_BUILD_ID.split_at(2);
    let path = root.path().join("usr/lib/debug/.build-id").join(dir).join(format!("{file}.debug"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::copy(dwarf_fixture(), &path).unwrap();
    (root, path)
}

fn dwarf_fixture() -> PathBuf {
    common::testdata().join("dwarf/libpython3.12-headers.debug")
}

/// With the 3.12 table withheld, py312's layout comes from the DWARF of its libpython's headers, found as the
/// separate debug file under `--sysroot`, and `stacks` equals the truth.
#[test]
fn py312_from_dwarf_in_a_separate_debug_file() {
    let fx = fixture("py312");
    let (root, debug) = sysroot_with_debug_file();
    let (got, stderr) = stacks("py312", root.path(), &["3.12"]);
    common::stacks::compare("py312", &got, &fx.truth());
    let u = &got["unverified_version"];
    assert_eq!(u["kind"], "dwarf", "{u:#}");
    assert_eq!(u["dwarf"], debug.display().to_string(), "{u:#}");
    assert!(
        stderr.contains("heapscope: warning: heapscope has no built-in layout table for CPython 3.12.1"),
        "{stderr}"
    );

    let (code, out, err) = run(&["info", "--format", "json", "--layout"], &fx.core(), root.path(), &["3.12"]);
    assert_eq!(code, Some(0), "{err}");
    let info: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["unverified_version"]["kind"], "dwarf");
    let layout = &info["layout"];
    assert_eq!(layout["table"], Value::Null, "{layout:#}");
    assert_eq!(layout["dwarf"], debug.display().to_string());
    let fields = layout["fields"].as_array().unwrap();
    assert!(fields.iter().all(|f| f["source"] == "dwarf" || f["source"] == "unknown"), "{layout:#}");
    let from_dwarf = fields.iter().filter(|f| f["source"] == "dwarf").count();

    // The heap commands decode what the headers describe; objects of the types defined in .c files only (deques,
    // buffered files, OrderedDict, re.Pattern, … see LACKING) are counted as undecodable.
    let (code, out, err) = run(&["summary", "--format", "json"], &fx.core(), root.path(), &["3.12"]);
    assert!(matches!(code, Some(0) | Some(2)), "summary must end with 0 or 2, not {code:?}:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let summary: Value = serde_json::from_str(&out).expect("summary prints JSON");
    assert_eq!(summary["unverified_version"]["kind"], "dwarf");
    let objects = summary["objects"]["count"].as_u64().unwrap();
    let errors = summary["errors"].as_u64().unwrap();
    assert!(objects > 1000 && errors * 100 < objects, "{objects} objects, {errors} errors");
    eprintln!(
        "py312 from DWARF: {from_dwarf} of {} fields; summary exit {code:?}, {objects} objects, {errors} errors",
        fields.len()
    );
}

/// The same command without the debug file fails, naming the file to provide and where.
#[test]
fn py312_without_its_table_or_dwarf_says_what_to_provide() {
    let fx = fixture("py312");
    let root = empty_sysroot();
    let (code, out, err) = run(&["stacks"], &fx.core(), root.path(), &["3.12"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no struct layout for CPython 3.12.1: its built-in table 3.12 is withheld"), "{err}");
    assert!(err.contains(&format!("(build-id {PY312_LIBPYTHON_BUILD_ID}) was found")), "{err}");
    let (dir, file) = PY312_LIBPYTHON_BUILD_ID.split_at(2);
    assert!(err.contains(&format!("DIR/usr/lib/debug/.build-id/{dir}/{file}.debug with --sysroot DIR")), "{err}");
    assert!(err.contains("--search-path DIR"), "{err}");
}

/// What the DWARF of the headers gives: the value of the 3.12 table (itself derived from the DWARF of the whole
/// libpython) for every field it has; what it lacks are the structs defined only in CPython's .c files.
#[test]
fn dwarf_of_the_headers_matches_the_312_table() {
    let elf = DiskElf::open(&dwarf_fixture()).expect("the debug file opens");
    assert_eq!(elf.build_id_hex().as_deref(), Some(PY312_LIBPYTHON_BUILD_ID));
    let bytes = elf.bytes_at(0, usize::try_from(elf.len()).unwrap()).unwrap();
    let types = DwarfTypes::parse(bytes).expect("DWARF parses");
    assert!(types.issues().is_empty(), "{:?}", types.issues());
    let got = dwarf_offsets(&types).unwrap();
    let (_, table) = TABLES.iter().find(|(k, _)| *k == "3.12").unwrap();
    let mut differ = Vec::new();
    let mut lacking = Vec::new();
    for &(name, offset) in table.iter() {
        match got.iter().find(|(n, _)| n == name) {
            Some((_, v)) if *v == offset => {}
            Some((_, v)) => differ.push(format!("{name}: DWARF {v}, table {offset}")),
            None => lacking.push(name),
        }
    }
    assert!(differ.is_empty(), "{differ:#?}");
    let structs: std::collections::BTreeSet<&str> = lacking.iter().map(|f| f.split('.').next().unwrap()).collect();
    eprintln!(
        "DWARF of the 3.12 headers: {} of the table's {} fields; lacking {} fields of {structs:?}: {lacking:?}",
        table.len() - lacking.len(),
        table.len(),
        lacking.len()
    );
    assert_eq!(structs.into_iter().collect::<Vec<_>>(), LACKING, "{lacking:?}");
}

/// The layout structs of the 3.12 table that no installed header of 3.12.1 defines: those of extension modules, which
/// their own shared objects' DWARF describes (`_struct`, `array`, `_json`, `_ctypes`, `_asyncio`), those defined in
/// CPython's .c files (Modules/_collectionsmodule.c, _functoolsmodule.c, _io/*.c, _sre/sre.c, itertoolsmodule.c,
/// _abc.c, _threadmodule.c, Objects/descrobject.c, funcobject.c, namespaceobject.c, genericaliasobject.c,
/// unionobject.c, typevarobject.c, codeobject.c, odictobject.c), so only the DWARF of a whole libpython has them (the
/// heap decoders then treat such objects as opaque), and numpy's (`NdArray`, `NpyDescr`, `NpyLegacyDescr`), which
/// are in every table from numpy's headers and in no CPython DWARF. The test prints how many fields that is.
const LACKING: &[&str] = &[
    "AbcData",
    "ArrayDescr",
    "ArrayObject",
    "Buffered",
    "CData",
    "CFuncPtr",
    "ClassMethod",
    "CodeObjectExtra",
    "Count",
    "DefaultDict",
    "Deque",
    "DequeBlock",
    "FileIo",
    "FormatCode",
    "FutureIter",
    "FutureObj",
    "GenericAlias",
    "LruCache",
    "LruListElem",
    "MappingProxy",
    "MethodWrapper",
    "Namespace",
    "NdArray",
    "NpyDescr",
    "NpyLegacyDescr",
    "ODict",
    "ODictNode",
    "Partial",
    "Pattern",
    "Scanner",
    "StgDict",
    "StructObject",
    "TaskObj",
    "TextIo",
    "ThreadLocal",
    "TupleGetter",
    "TypeAlias",
    "TypeVar",
    "UnionObject",
];

#[test]
fn the_switch_is_hidden_from_help() {
    for cmd in ["stacks", "summary", "info"] {
        let out = heapscope([OsStr::new(cmd), OsStr::new("--help")]);
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("--sysroot"), "{help}");
        assert!(!help.contains("withhold"), "{help}");
    }
}
