//! Shared helpers of the end-to-end tests: the fixture cores in testdata/, their ground truth, and running the real
//! `heapscope` binary.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub mod stacks;
pub mod truth_graph;

/// Every fixture the test suite expects; a missing one fails the tests rather than silently shrinking them.
/// One `#[test]` per version fixture, each calling `$check` with the fixture's name (`py312_filter33` for
/// `py312-filter33`), so a failure names its fixture.
#[macro_export]
macro_rules! per_fixture {
    ($check:ident) => {
        $crate::per_fixture!($check: py38, py39, py310, py311, py312, py313, py314, py315, py312_filter33, py312_cache);
    };
    ($check:ident: $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $check(&stringify!($name).replace('_', "-"));
            }
        )*
    };
}

pub const EXPECTED: &[&str] =
    &["py38", "py39", "py310", "py311", "py312", "py313", "py314", "py315", "py312-filter33", "py312-cache"];

/// The repository's testdata/ folder.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// One fixture: a core, the truth its process wrote, and for some the binaries it mapped.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub name: String,
    pub dir: PathBuf,
}

impl Fixture {
    pub fn core(&self) -> PathBuf {
        self.dir.join("core.zst")
    }

    /// The ground truth written by the process just before the dump.
    pub fn truth(&self) -> Value {
        let raw = std::fs::read(self.dir.join("truth.json.zst")).expect("truth.json.zst");
        let json = zstd::decode_all(&raw[..]).expect("truth.json.zst decompresses");
        serde_json::from_slice(&json).expect("truth is JSON")
    }

    /// The truth's `mallocstats`: `sys._debugmallocstats()` at the dump, parsed (size classes with pools, blocks in
    /// use and free; arenas; the byte totals, which reconcile). Schema: testdata/README.md.
    pub fn mallocstats(&self) -> Value {
        let mut truth = self.truth();
        let ms = truth["mallocstats"].take();
        assert!(ms.is_object(), "{}: the truth has no mallocstats (regenerate the fixture)", self.name);
        ms
    }

    /// The truth's `waste["scenarios"]`: scenario name (`WASTE_DUPS`, `WASTE_POINTS`, …) → `{kind, container,
    /// count, measured_saving_bytes, …}`, the savings measured in a forked copy of the process. Schema:
    /// testdata/README.md.
    pub fn waste(&self) -> Value {
        let mut truth = self.truth();
        let w = truth["waste"]["scenarios"].take();
        assert!(w.is_object(), "{}: the truth has no waste scenarios (regenerate the fixture)", self.name);
        w
    }

    /// The asyncio truth of a `tasks/` fixture (`tasks.json.zst`: every pending task, every suspended generator;
    /// schema in testdata/README.md, "asyncio fixtures").
    pub fn tasks_truth(&self) -> Value {
        let raw = std::fs::read(self.dir.join("tasks.json.zst")).expect("tasks.json.zst");
        let json = zstd::decode_all(&raw[..]).expect("tasks.json.zst decompresses");
        serde_json::from_slice(&json).expect("tasks.json is JSON")
    }

    /// True for a fixture shipped with its binaries (the core alone is not enough).
    pub fn has_sysroot(&self) -> bool {
        self.dir.join("sysroot.tar.zst").exists()
    }

    /// Opens the core as a user with only the core would (an empty sysroot), or with the shipped binaries for the
    /// fixtures that have them. Keep the returned directory alive as long as the process.
    pub fn open_process(&self) -> (heapscope_coredump::CoreProcess, tempfile::TempDir) {
        let root = empty_sysroot();
        if self.has_sysroot() {
            self.extract_sysroot(root.path());
        }
        let opts = heapscope_coredump::OpenOptions { sysroot: Some(root.path().to_owned()), search_paths: Vec::new() };
        (heapscope_coredump::CoreProcess::open(&self.core(), &opts).expect("core opens"), root)
    }

    /// Unpacks the shipped binaries into `into`, which then serves as `--sysroot`.
    pub fn extract_sysroot(&self, into: &Path) {
        let raw = std::fs::read(self.dir.join("sysroot.tar.zst")).expect("sysroot.tar.zst");
        let tar = zstd::decode_all(&raw[..]).expect("sysroot.tar.zst decompresses");
        tar::Archive::new(&tar[..]).unpack(into).expect("sysroot unpacks");
    }
}

/// A fixture with its shipped binaries unpacked into a temporary directory (empty for a fixture without them): what a
/// user passes as `--sysroot`. Unpack once, run heapscope on it as often as needed.
pub struct Unpacked<'f> {
    pub fx: &'f Fixture,
    root: tempfile::TempDir,
}

impl Fixture {
    /// Unpacks the fixture's binaries, if it has any, for [`Unpacked::heapscope`].
    pub fn unpacked(&self) -> Unpacked<'_> {
        let root = empty_sysroot();
        if self.has_sysroot() {
            self.extract_sysroot(root.path());
        }
        Unpacked { fx: self, root }
    }
}

impl Unpacked<'_> {
    /// The directory to pass as `--sysroot`.
    pub fn sysroot(&self) -> &Path {
        self.root.path()
    }

    /// Runs `heapscope CMD CORE ARGS… --sysroot DIR` on the fixture's core, with its binaries as the sysroot.
    pub fn heapscope<I, S>(&self, cmd: &str, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let core = self.fx.core();
        let mut all: Vec<std::ffi::OsString> = vec![cmd.into(), core.into_os_string()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        all.extend(["--sysroot".into(), self.root.path().as_os_str().to_os_string()]);
        heapscope(all)
    }

    /// [`Unpacked::heapscope`], requiring a complete report: exit 0, or 2 when some parts could not be decoded
    /// (py312-filter33 ships no extension modules, so some type names cannot be read) and the report was still
    /// written in full.
    pub fn heapscope_report<I, S>(&self, cmd: &str, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_os_string()).collect();
        let out = self.heapscope(cmd, &args);
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "{}: heapscope {cmd} {args:?} failed ({}):\n{}",
            self.fx.name,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// All fixtures in testdata/ (folders holding a core.zst), after checking that the expected ones are all there.
pub fn fixtures() -> Vec<Fixture> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(testdata()).expect("testdata/ exists") {
        let dir = entry.expect("readable testdata/").path();
        if dir.join("core.zst").is_file() {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            found.push(Fixture { name, dir });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let names: BTreeSet<&str> = found.iter().map(|f| f.name.as_str()).collect();
    for want in EXPECTED {
        assert!(names.contains(want), "fixture {want} is missing from testdata/ (found: {names:?})");
    }
    found
}

/// The real-program fixtures in testdata/programs/ (numpy, asyncio, msgpack on several CPython versions).
#[allow(dead_code)]
pub fn programs() -> Vec<Fixture> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(testdata().join("programs")).expect("testdata/programs/ exists") {
        let dir = entry.expect("readable testdata/programs/").path();
        if dir.join("core.zst").is_file() {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            found.push(Fixture { name, dir });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(found.len() >= 2, "expected the real-program fixtures in testdata/programs/ (found {})", found.len());
    found
}

/// The asyncio fixtures in testdata/tasks/ (`tools/fixtures/workload/tasks.py`: an event loop thread with suspended
/// tasks, coroutines and generators on CPython 3.8, 3.11, 3.12, 3.14 and 3.15), named `tasks-py38` … . Each has
/// `tasks.json.zst` beside the truth: what `heapscope tasks` must find (schema: testdata/README.md).
pub fn tasks_fixtures() -> Vec<Fixture> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(testdata().join("tasks")).expect("testdata/tasks/ exists") {
        let dir = entry.expect("readable testdata/tasks/").path();
        if dir.join("core.zst").is_file() {
            let name = format!("tasks-{}", dir.file_name().unwrap().to_string_lossy());
            found.push(Fixture { name, dir });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let names: BTreeSet<&str> = found.iter().map(|f| f.name.as_str()).collect();
    for want in ["tasks-py38", "tasks-py311", "tasks-py312", "tasks-py314", "tasks-py315"] {
        assert!(names.contains(want), "fixture {want} is missing from testdata/tasks/ (found: {names:?})");
    }
    found
}

/// The diff fixture: one CPython 3.12.1 process dumped twice (`testdata/diff/py312/old`, `…/new`, fixtures named
/// `py312-diff-old` and `py312-diff-new`) and the truth of what changed between the dumps (`diff.json.zst`: the
/// `CACHE` dict that grew, the `Scratch` objects freed, the new ones at their addresses, each dump's type histogram;
/// schema in testdata/README.md). Not among [`fixtures()`]: only `new` has an `after.json`, and at the second dump
/// the main thread's stack holds the workload's `_block` twice.
pub fn diff_fixture() -> (Fixture, Fixture, Value) {
    let dir = testdata().join("diff/py312");
    let old = Fixture { name: "py312-diff-old".into(), dir: dir.join("old") };
    let new = Fixture { name: "py312-diff-new".into(), dir: dir.join("new") };
    for fx in [&old, &new] {
        assert!(fx.core().is_file(), "the diff fixture's {} is missing from testdata/", fx.core().display());
    }
    let raw = std::fs::read(dir.join("diff.json.zst")).expect("testdata/diff/py312/diff.json.zst");
    let json = zstd::decode_all(&raw[..]).expect("diff.json.zst decompresses");
    (old, new, serde_json::from_slice(&json).expect("the diff truth is JSON"))
}

pub fn fixture(name: &str) -> Fixture {
    fixtures().into_iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no fixture {name}"))
}

/// The layout of a fixture process's interpreter, from the built-in table and the core's `_Py_DebugOffsets` (no
/// DWARF): what the decoder tests read the fixtures with.
#[allow(dead_code)]
pub fn builtin_layout(process: &heapscope_coredump::CoreProcess) -> heapscope_cpython::layout::Layout {
    let detection = heapscope_cpython::detect(process).expect("python found");
    heapscope_cpython::layout::Layout::resolve(process, &detection, heapscope_cpython::layout::DwarfPolicy::Off)
        .expect("layout resolves")
        .0
}

/// Runs heapscope with these arguments.
pub fn heapscope<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_heapscope")).args(args).output().expect("heapscope runs")
}

/// Runs heapscope, requires success, and returns stdout.
pub fn heapscope_ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_os_string()).collect();
    let out = heapscope(&args);
    assert!(
        out.status.success(),
        "heapscope {:?} failed ({}):\n{}",
        args,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `heapscope info --format json CORE [extra…]`, parsed.
pub fn info_json(core: &Path, extra: &[&OsStr]) -> Value {
    let mut args: Vec<&OsStr> = vec![OsStr::new("info"), OsStr::new("--format"), OsStr::new("json"), core.as_os_str()];
    args.extend_from_slice(extra);
    serde_json::from_str(&heapscope_ok(args)).expect("info prints JSON")
}

/// An empty directory to pass as `--sysroot`, so that nothing on this machine can stand in for the core.
pub fn empty_sysroot() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// An ELF64 ET_CORE with one PT_NOTE (an NT_PRSTATUS for tid 42) and one PT_LOAD of one page.
pub fn minimal_core() -> Vec<u8> {
    let mut prstatus = vec![0u8; 336];
    prstatus[32..36].copy_from_slice(&42u32.to_le_bytes());
    let mut note = Vec::new();
    note.extend_from_slice(&5u32.to_le_bytes());
    note.extend_from_slice(&(prstatus.len() as u32).to_le_bytes());
    note.extend_from_slice(&1u32.to_le_bytes());
    note.extend_from_slice(b"CORE\0\0\0\0");
    note.extend_from_slice(&prstatus);
    let phoff = 64u64;
    let notes_at = phoff + 2 * 56;
    let load_at = 0x1000u64;
    let mut f = vec![0u8; 64];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // little-endian
    f[6] = 1;
    f[16..18].copy_from_slice(&4u16.to_le_bytes()); // ET_CORE
    f[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[32..40].copy_from_slice(&phoff.to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&2u16.to_le_bytes());
    let phdr = |p_type: u32, flags: u32, offset: u64, vaddr: u64, size: u64| {
        let mut h = Vec::new();
        h.extend_from_slice(&p_type.to_le_bytes());
        h.extend_from_slice(&flags.to_le_bytes());
        h.extend_from_slice(&offset.to_le_bytes());
        h.extend_from_slice(&vaddr.to_le_bytes());
        h.extend_from_slice(&0u64.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&1u64.to_le_bytes());
        h
    };
    f.extend(phdr(4, 4, notes_at, 0, note.len() as u64));
    f.extend(phdr(1, 6, load_at, 0x400000, 0x1000));
    f.extend_from_slice(&note);
    f.resize(load_at as usize + 0x1000, 0);
    f
}
