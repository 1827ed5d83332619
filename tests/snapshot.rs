//! The saved snapshot end to end: `heapscope index`, then commands that read it instead of decoding, and the
//! snapshots that must not be trusted (truncated, bit-flipped, of another core) detected and rebuilt.
//!
//! Each test works on a copy of a fixture's core in a temporary directory (the snapshot is written beside the
//! core), with `XDG_CACHE_HOME` pointed at an empty directory so that nothing cached on this machine is used.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{fixture, Fixture};

/// A fixture's core copied into a temporary directory, with its sysroot and an empty cache directory.
struct Copy {
    dir: tempfile::TempDir,
    sysroot: tempfile::TempDir,
    core: PathBuf,
}

impl Copy {
    fn of(fx: &Fixture) -> Copy {
        let dir = tempfile::tempdir().unwrap();
        let core = dir.path().join("core.zst");
        std::fs::copy(fx.core(), &core).unwrap();
        let sysroot = common::empty_sysroot();
        if fx.has_sysroot() {
            fx.extract_sysroot(sysroot.path());
        }
        std::fs::create_dir(dir.path().join("cache")).unwrap();
        Copy { dir, sysroot, core }
    }

    fn snapshot(&self) -> PathBuf {
        self.dir.path().join("core.zst.heapscope")
    }

    /// Runs `heapscope CMD CORE --sysroot … ARGS…`.
    fn run(&self, cmd: &str, args: &[&str]) -> Output {
        let mut all: Vec<&OsStr> = vec![cmd.as_ref(), self.core.as_os_str(), "--sysroot".as_ref()];
        all.push(self.sysroot.path().as_os_str());
        all.extend(args.iter().map(OsStr::new));
        let out = Command::new(env!("CARGO_BIN_EXE_heapscope"))
            .args(&all)
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "heapscope {cmd} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `summary`, `garbage` and `top`, as JSON: what a reused snapshot must reproduce exactly.
fn reports(c: &Copy, extra: &[&str]) -> (Vec<String>, Vec<String>) {
    let summary = c.run("summary", &[&["--format", "json"], extra].concat());
    assert!(serde_json::from_slice::<serde_json::Value>(&summary.stdout).is_ok(), "summary prints JSON");
    let garbage = c.run("garbage", &[&["--format", "json"], extra].concat());
    let top = c.run("top", &[&["--format", "json", "--limit", "5"], extra].concat());
    let outs = [summary, garbage, top];
    (outs.iter().map(stdout).collect(), outs.iter().map(stderr).collect())
}

#[test]
fn a_second_command_reads_the_saved_snapshot_and_decodes_nothing() {
    let c = Copy::of(&fixture("py312"));
    let (decoded, errs) = reports(&c, &[]);
    assert!(errs.iter().all(|e| !e.contains("snapshot")), "no snapshot yet: {errs:?}");

    let index = c.run("index", &[]);
    let said = stdout(&index);
    assert!(said.contains("saved the snapshot of") && said.contains("core.zst.heapscope"), "{said}");
    assert!(c.snapshot().is_file());

    let (reused, errs) = reports(&c, &[]);
    for e in &errs {
        assert!(e.contains("snapshot read from") && e.contains("nothing decoded"), "{e}");
    }
    assert_eq!(decoded, reused, "a reused snapshot gives the same reports");

    // --no-cache decodes again and says nothing of the snapshot.
    let (fresh, errs) = reports(&c, &["--no-cache"]);
    assert!(errs.iter().all(|e| !e.contains("snapshot")), "{errs:?}");
    assert_eq!(decoded, fresh);
}

#[test]
fn index_to_a_chosen_file_and_read_it_with_snapshot() {
    let c = Copy::of(&fixture("py311"));
    let file = c.dir.path().join("elsewhere.snap");
    let index = c.run("index", &["-o", file.to_str().unwrap()]);
    assert!(stdout(&index).contains("elsewhere.snap"), "{}", stdout(&index));
    assert!(!c.snapshot().exists());
    let out = c.run("summary", &["--snapshot", file.to_str().unwrap()]);
    assert!(stderr(&out).contains("snapshot read from") && stderr(&out).contains("elsewhere.snap"), "{}", stderr(&out));
    // Without --snapshot, it is not found (not beside the core, not in the cache).
    assert!(!stderr(&c.run("summary", &[])).contains("snapshot"));
}

/// Damages the saved snapshot with `damage`, then checks a command detects it, decodes the core again with the same
/// result, and saves a good snapshot in its place (which the next command reads).
fn detected_and_rebuilt(c: &Copy, damage: impl FnOnce(&Path), why: &str) {
    let (good, _) = reports(c, &[]);
    damage(&c.snapshot());
    let summary = c.run("summary", &["--format", "json"]);
    let err = stderr(&summary);
    assert!(err.contains("the saved snapshot was not used") && err.contains(why), "{err}");
    assert!(err.contains("saved anew"), "{err}");
    assert_eq!(stdout(&summary), good[0], "the rebuilt snapshot gives the same summary");
    let again = c.run("summary", &["--format", "json"]);
    assert!(stderr(&again).contains("snapshot read from"), "{}", stderr(&again));
    assert_eq!(stdout(&again), good[0]);
}

#[test]
fn damaged_snapshots_are_detected_and_rebuilt() {
    let c = Copy::of(&fixture("py312"));
    c.run("index", &[]);
    let len = std::fs::metadata(c.snapshot()).unwrap().len();
    // Truncated.
    detected_and_rebuilt(
        &c,
        |p| std::fs::OpenOptions::new().write(true).open(p).unwrap().set_len(len * 2 / 3).unwrap(),
        "damaged",
    );
    // One bit flipped in the middle (the columns) and near the start (the metadata).
    for at in [len / 2, 40] {
        detected_and_rebuilt(
            &c,
            |p| {
                let mut b = std::fs::read(p).unwrap();
                b[at as usize] ^= 0x10;
                std::fs::write(p, b).unwrap();
            },
            "damaged",
        );
    }
    // Not a snapshot at all.
    detected_and_rebuilt(&c, |p| std::fs::write(p, b"hello").unwrap(), "not a heapscope snapshot");
}

#[test]
fn a_snapshot_of_another_core_is_not_used() {
    let c = Copy::of(&fixture("py312"));
    let other = Copy::of(&fixture("py312-cache"));
    other.run("index", &[]);
    c.run("index", &[]);
    detected_and_rebuilt(
        &c,
        |p| {
            std::fs::copy(other.snapshot(), p).unwrap();
        },
        "snapshot of another core",
    );
}
