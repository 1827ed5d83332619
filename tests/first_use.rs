//! What a new user meets first: the manifest, the command line's errors and help, and the messages of `info`,
//! `summary` and `refs` on the fixture cores.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use common::{empty_sysroot, fixture, heapscope, info_json};
use heapscope_coredump::{Addr, CoreFile, Memory};
use serde_json::Value;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Lines of stderr that heapscope wrote as a message (`heapscope: …`), not as the continuation of one.
fn messages(out: &Output) -> Vec<String> {
    stderr(out).lines().filter(|l| l.starts_with("heapscope:")).map(String::from).collect()
}

/// Every crate of the workspace inherits the workspace's `rust-version`, and that version is at least what every
/// locked dependency declares (`cargo metadata`).
#[test]
fn rust_version_is_inherited_and_covers_every_dependency() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let declared = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("[workspace.package] rust-version");
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(&root)
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", stderr(&out));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let version = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap()).collect() };
    let members: Vec<&str> =
        meta["workspace_members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    let mut highest = (vec![0], String::new());
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let rv = p["rust_version"].as_str();
        if members.contains(&p["id"].as_str().unwrap()) {
            assert_eq!(rv, Some(declared), "{name} does not inherit the workspace's rust-version");
        } else if let Some(rv) = rv {
            if version(rv) > highest.0 {
                highest = (version(rv), format!("{name} {} ({rv})", p["version"].as_str().unwrap()));
            }
        }
    }
    assert!(members.len() >= 7, "{members:?}");
    assert!(version(declared) >= highest.0, "rust-version {declared} is older than {} declares", highest.1);
}

/// `--sysroot` and `--search-path` must name directories: a missing path or a file is refused before anything is
/// read, with the path, what is wrong and what to give.
#[test]
fn sysroot_and_search_path_must_be_directories() {
    let core = fixture("py312").core();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let gone = dir.path().join("gone");
    for option in ["--sysroot", "--search-path"] {
        for (path, what) in [(&gone, "does not exist"), (&file, "is a file, not a directory")] {
            let out = heapscope([OsStr::new("info"), core.as_os_str(), OsStr::new(option), path.as_os_str()]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{option} {}: {err}", path.display());
            assert!(err.starts_with("heapscope: error: "), "{err}");
            assert!(err.contains(option) && err.contains(&path.display().to_string()) && err.contains(what), "{err}");
            assert!(stdout(&out).is_empty(), "nothing is reported: {}", stdout(&out));
        }
    }
    // diff has its own options.
    let out =
        heapscope([OsStr::new("diff"), core.as_os_str(), core.as_os_str(), OsStr::new("--sysroot"), file.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is a file, not a directory"), "{}", stderr(&out));
    // A directory is accepted.
    let out = heapscope([OsStr::new("info"), core.as_os_str(), OsStr::new("--sysroot"), dir.path().as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// clap's usage errors read like every other error (`heapscope: error: …`, exit 2, as --help says of errors);
/// --help and --version still go to stdout with exit 0.
#[test]
fn usage_errors_carry_the_prefix_and_exit_2() {
    for args in [&["info", "--bogus"][..], &["info"], &["show", "x.core", "zz"], &["nosuchcommand"]] {
        let out = heapscope(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("heapscope: error: "), "{args:?}: {err}");
        assert!(!err.contains("\nerror:"), "{args:?}: {err}");
    }
    let out = heapscope(["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("heapscope "), "{}", stdout(&out));
    let out = heapscope(["info", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Usage: heapscope info"), "{}", stdout(&out));
}

/// A core that cannot be opened: the OS error is printed once.
#[test]
fn open_errors_print_the_os_error_once() {
    let out = heapscope(["info", "/nonexistent/dir/core.1234"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("/nonexistent/dir/core.1234"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

/// When the temporary file a compressed core is decompressed into cannot be made, the message is about $TMPDIR,
/// not about the core.
#[test]
fn a_bad_tmpdir_is_not_blamed_on_the_core() {
    let core = fixture("py312").core();
    let out = Command::new(env!("CARGO_BIN_EXE_heapscope"))
        .arg("info")
        .arg(&core)
        .env("TMPDIR", "/nonexistent-tmpdir")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/nonexistent-tmpdir") && err.contains("TMPDIR"), "{err}");
    assert!(err.contains("temporary file"), "{err}");
    assert!(!err.contains("check the path and its permissions"), "the core's path is fine: {err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

/// `info` writes its report on stdout and its warnings on stderr; an object of which the core holds the first
/// page only (the ELF header, as coredump_filter 0x33 dumps it) is `partial`, not `missing`.
#[test]
fn info_warnings_go_to_stderr_and_partly_dumped_objects_are_partial() {
    let fx = fixture("py312-filter33");
    let root = empty_sysroot();
    let out = heapscope([OsStr::new("info"), fx.core().as_os_str(), OsStr::new("--sysroot"), root.path().as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (report, err) = (stdout(&out), stderr(&out));
    assert!(!report.contains("warning"), "{report}");
    let lib = "/opt/cpython/versions/3.12.1/lib/libpython3.12.so.1.0";
    assert!(err.lines().any(|l| l.starts_with("heapscope: warning: ") && l.contains(lib)), "{err}");
    let row = report.lines().find(|l| l.ends_with(lib)).unwrap_or_else(|| panic!("no row for {lib}: {report}"));
    assert!(row.contains("partial: ") && row.contains(" in core"), "{row}");

    let info = info_json(&fx.core(), &[OsStr::new("--sysroot"), root.path().as_os_str()]);
    let objects = info["objects"].as_array().unwrap();
    let libpython = objects.iter().find(|o| o["path"] == lib).unwrap();
    assert_eq!(libpython["bytes"], "partial", "{libpython:#}");
    // The core holds its ELF header: that is where the build-id was read from.
    assert!(libpython["build_id"].is_string(), "{libpython:#}");
    let (in_core, mapped) = (libpython["bytes_in_core"].as_u64().unwrap(), libpython["mapped_bytes"].as_u64().unwrap());
    assert!(in_core >= 4096 && in_core < mapped, "{libpython:#}");
    for o in objects {
        let (in_core, mapped) = (o["bytes_in_core"].as_u64().unwrap(), o["mapped_bytes"].as_u64().unwrap());
        let want = match o["bytes"].as_str().unwrap() {
            "core" => in_core == mapped,
            "partial" => 0 < in_core && in_core < mapped,
            "missing" => in_core == 0,
            "disk" => in_core < mapped,
            other => panic!("bytes {other}"),
        };
        assert!(want, "{o:#}");
    }
}

/// `info` names the executable by the path the core maps it from, not by what the process was started as
/// (AT_EXECFN, relative for `./python`): here the core's AT_EXECFN string is rewritten to a relative name.
#[test]
fn info_shows_the_mapped_executable_not_argv0() {
    let fx = fixture("py312");
    let raw = std::fs::read(fx.core()).unwrap();
    let mut bytes = zstd::decode_all(&raw[..]).unwrap();
    let core = CoreFile::from_bytes("core", bytes.clone()).unwrap();
    let execfn = Addr(core.auxv_value(31).expect("AT_EXECFN"));
    let seg = core.segment_at(execfn).expect("AT_EXECFN is dumped");
    let at = usize::try_from(seg.file_offset + (execfn.0 - seg.vaddr.0)).unwrap();
    let relative = b"python3.12\0";
    bytes[at..at + relative.len()].copy_from_slice(relative);
    let patched = CoreFile::from_bytes("core", bytes.clone()).unwrap();
    assert_eq!(patched.read_cstr(execfn, 4096).unwrap(), b"python3.12", "the patch took");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relative-argv0.core");
    std::fs::write(&path, &bytes).unwrap();
    let info = info_json(&path, &[]);
    assert_eq!(info["process"]["executable"], fx.truth()["executable"], "{:#}", info["process"]);
}

/// `refs` of a list lists its items from `[0]` on (CPython's `list_traverse` visits them last to first), so that
/// `--limit N` shows the first N: the workload's `LIST = [1, 'two', 3.0, None, (4, 5), [6]]`.
#[test]
fn refs_lists_a_lists_items_in_order() {
    for name in ["py38", "py312", "py315"] {
        let fx = fixture(name);
        let truth = fx.truth();
        let list = truth["markers"]["list"].as_u64().unwrap();
        let refs = |limit: &str| -> Vec<Value> {
            let out = heapscope([
                OsStr::new("refs"),
                OsStr::new("--format"),
                OsStr::new("json"),
                OsStr::new("--no-cache"),
                OsStr::new("--limit"),
                OsStr::new(limit),
                fx.core().as_os_str(),
                OsStr::new(&list.to_string()),
            ]);
            assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
            let json: Value = serde_json::from_slice(&out.stdout).unwrap();
            json["refs"].as_array().unwrap().clone()
        };
        let all = refs("100");
        let labels: Vec<&str> = all.iter().map(|r| r["label"].as_str().unwrap()).collect();
        assert_eq!(labels, ["[0]", "[1]", "[2]", "[3]", "[4]", "[5]"], "{name}");
        let types: Vec<&str> = all.iter().map(|r| r["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["int", "str", "float", "NoneType", "tuple", "list"], "{name}");
        let two: Vec<Value> = refs("2");
        let two: Vec<&str> = two.iter().map(|r| r["label"].as_str().unwrap()).collect();
        assert_eq!(two, ["[0]", "[1]"], "{name}: --limit keeps the first items");
    }
}

/// The `--limit` help of `refs` and `referrers` says what each lists.
#[test]
fn limit_help_says_what_each_command_lists() {
    let help = |cmd: &str| stdout(&heapscope([cmd, "--help"]));
    let refs = help("refs");
    assert!(refs.contains("Most referents listed") && !refs.contains("referrers listed"), "{refs}");
    let referrers = help("referrers");
    assert!(referrers.contains("Most referrers listed") && !referrers.contains("referents"), "{referrers}");
}

/// `summary` on a core whose libpython is missing (coredump_filter 0x33, no binaries at hand): one message for the
/// one cause, naming the file and saying what to pass; with the binaries, libpython is no longer blamed.
#[test]
fn summary_gives_one_message_with_the_sysroot_hint() {
    let fx = fixture("py312-filter33");
    let lib = "/opt/cpython/versions/3.12.1/lib/libpython3.12.so.1.0";
    let root = empty_sysroot();
    let args = |root: &Path| {
        vec![
            OsStr::new("summary").to_owned(),
            fx.core().into_os_string(),
            OsStr::new("--no-cache").to_owned(),
            OsStr::new("--sysroot").to_owned(),
            root.as_os_str().to_owned(),
        ]
    };
    let out = heapscope(args(root.path()));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let msgs = messages(&out);
    assert_eq!(msgs.len(), 1, "one message: {msgs:#?}");
    assert!(msgs[0].starts_with("heapscope: error: "), "{msgs:?}");
    let err = stderr(&out);
    assert!(err.contains(lib) && err.contains("--sysroot DIR") && err.contains("--search-path DIR"), "{err}");
    assert!(err.contains(&format!("under --sysroot {}", root.path().display())), "says where it looked: {err}");

    fx.extract_sysroot(root.path());
    let out = heapscope(args(root.path()));
    assert!(!stderr(&out).contains(lib), "{}", stderr(&out));
}
