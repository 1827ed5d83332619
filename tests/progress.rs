//! Progress is for a person at a terminal. With stderr a pipe, as here and in CI logs, none of it reaches stderr:
//! no carriage return, no escape sequence, no step name or count, even with progress drawn at once (the hidden
//! `--test-progress-delay 0`) and outside CI (`CI` removed, `TERM` a real terminal's), so that only the pipe hides
//! it. `--quiet` hides progress and nothing else: errors still print. The terminal case cannot run here: check it by
//! hand under tmux (`tmux new-session -d 'heapscope summary --no-cache BIG_CORE; sleep 30'`, then
//! `tmux capture-pane -p` during the run), on a core whose phases last over a second.

mod common;

use std::ffi::OsString;
use std::process::{Command, Output};

use common::{fixture, Unpacked};

/// Words of the progress lines: the build's phases, the analyses' steps, opening a compressed core, rates.
const PROGRESS_WORDS: &[&str] = &[
    "decompressing",
    "opening",
    "enumerating objects",
    "collecting roots",
    "decoding objects",
    "numbering objects",
    "building the reference graph",
    "classifying objects",
    "summing the heap",
    "dominator tree",
    "paths from the roots",
    "thread stacks",
    "collecting the findings",
    "simulating",
    "saving the snapshot",
    "reading the saved snapshot",
    "/s,",
];

/// Runs `heapscope ARGS…` on the fixture (with its binaries as `--sysroot`, decoding afresh) with stdout and
/// stderr captured (pipes), outside CI and with progress drawn without delay if it were drawn at all.
fn run(fx: &Unpacked, args: &[&str]) -> Output {
    let mut all: Vec<OsString> = args.iter().map(OsString::from).collect();
    all.push(fx.fx.core().into());
    all.extend([
        "--sysroot".into(),
        fx.sysroot().into(),
        "--no-cache".into(),
        "--test-progress-delay".into(),
        "0".into(),
    ]);
    let out = Command::new(env!("CARGO_BIN_EXE_heapscope"))
        .args(&all)
        .env_remove("CI")
        .env("TERM", "xterm-256color")
        .output()
        .expect("heapscope runs");
    assert!(
        out.status.success(),
        "heapscope {all:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Fails if `stderr` holds anything of a progress line.
fn assert_no_progress(stderr: &[u8], what: &str) {
    let text = String::from_utf8_lossy(stderr);
    assert!(!stderr.contains(&b'\r'), "{what}: a carriage return on stderr:\n{text:?}");
    assert!(!text.contains("\x1b["), "{what}: an escape sequence on stderr:\n{text:?}");
    for word in PROGRESS_WORDS {
        assert!(!text.contains(word), "{what}: progress ({word:?}) on stderr:\n{text}");
    }
}

#[test]
fn no_progress_on_a_pipe() {
    let fx = fixture("py312");
    let fx = fx.unpacked();
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let page = page.to_str().unwrap();
    for args in [
        &["summary"][..],
        &["report", "--format", "md"],
        &["report", "-o", page],
        &["leaks"],
        &["stacks"],
        &["--quiet", "summary"],
        &["-q", "report", "-o", page],
        &["summary", "--quiet"],
    ] {
        let out = run(&fx, args);
        assert!(!out.stdout.is_empty() || args.contains(&"-o"), "{args:?}: no output");
        assert_no_progress(&out.stderr, &format!("heapscope {}", args.join(" ")));
    }
}

#[test]
fn quiet_keeps_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_heapscope"))
        .args(["summary", "--quiet", "/nonexistent/heapscope-core"])
        .output()
        .expect("heapscope runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("heapscope: error: cannot open core file /nonexistent/heapscope-core"), "{stderr}");
}

#[test]
fn quiet_is_in_the_help_of_every_command() {
    for args in [&["--help"][..], &["summary", "--help"], &["report", "--help"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_heapscope")).args(args).output().expect("heapscope runs");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("-q, --quiet"), "heapscope {args:?} lacks --quiet:\n{help}");
        assert!(!help.contains("test-progress-delay"), "the test switch shows in heapscope {args:?}:\n{help}");
    }
}
