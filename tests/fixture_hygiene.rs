//! No fixture may carry the generating machine's identity: its paths, user, host name or environment. Every committed
//! file under testdata/ is decompressed and searched.

mod common;

use std::path::{Path, PathBuf};

use memchr::memmem;

/// The only environment the fixture processes ran with (`env -i …` in tools/fixtures), plus the one setting a fixture
/// may add (`"env"` in make_fixtures.py: py312-cache's cache size).
const ALLOWED_ENV: &[&str] = &["PYTHONHASHSEED", "PATH", "LC_ALL", "HOME", "HEAPSCOPE_WORKLOAD_CACHE"];

/// Strings that betray where and by whom a fixture was made: the tool chain's install prefixes, the staging areas,
/// and this machine's own name, user and working directories.
fn forbidden() -> Vec<String> {
    let mut v: Vec<String> =
        [".pyenv", "/root/", "python-build.", "tools/out", "/home/", "/work/main", "bash_jobs", "SSH_", "SUDO_"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
        let host = host.trim();
        if host.len() >= 4 {
            v.push(host.to_string());
        }
    }
    for var in ["HOME", "USER", "LOGNAME", "PWD", "HOSTNAME", "CARGO_HOME", "RUSTUP_HOME", "TMPDIR"] {
        if let Ok(val) = std::env::var(var) {
            if val.len() >= 4 && val != "/tmp" && val != "/" {
                v.push(val);
            }
        }
    }
    if let Ok(dir) = std::env::current_dir() {
        v.push(dir.display().to_string());
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    v.push(repo.display().to_string());
    v.sort();
    v.dedup();
    v
}

fn committed_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            committed_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn contents(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "zst") {
        zstd::decode_all(&raw[..]).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    } else {
        raw
    }
}

#[test]
fn no_fixture_names_the_generating_machine() {
    common::fixtures(); // all expected fixtures are present
    let needles = forbidden();
    let finders: Vec<_> = needles.iter().map(|n| memmem::Finder::new(n.as_bytes())).collect();
    let mut files = Vec::new();
    committed_files(&common::testdata(), &mut files);
    // The README documents how fixtures are made (it names the staging folders on purpose); everything else is data.
    files.retain(|f| f.file_name().is_some_and(|n| n != "README.md"));
    assert!(files.len() > common::EXPECTED.len() * 3, "expected every fixture's core, truth and after files");
    let mut leaks = Vec::new();
    for file in &files {
        let bytes = contents(file);
        for (needle, finder) in needles.iter().zip(&finders) {
            if let Some(at) = finder.find(&bytes) {
                let lo = at.saturating_sub(40);
                let hi = (at + needle.len() + 40).min(bytes.len());
                leaks.push(format!(
                    "{}: {needle:?} at offset {at:#x}: {:?}",
                    file.display(),
                    String::from_utf8_lossy(&bytes[lo..hi])
                ));
            }
        }
    }
    assert!(leaks.is_empty(), "fixtures carry the generating machine's identity:\n{}", leaks.join("\n"));
}

/// The environment block on each process's stack holds exactly the minimal environment the generator set.
#[test]
fn fixture_processes_ran_with_a_minimal_environment() {
    let (diff_old, diff_new, _) = common::diff_fixture();
    for fx in common::fixtures().into_iter().chain([diff_old, diff_new]) {
        let core = contents(&fx.core());
        let anchor = b"PYTHONHASHSEED=0\0";
        let positions: Vec<usize> = memmem::find_iter(&core, anchor).collect();
        assert!(!positions.is_empty(), "{}: no environment block found", fx.name);
        for at in positions {
            // Walk the NUL-separated strings around the anchor while they look like the contiguous argv/envp area.
            let mut start = at;
            let mut envs = Vec::new();
            for _ in 0..64 {
                let Some(prev_nul) = start.checked_sub(1) else { break };
                let s_start = core[..prev_nul].iter().rposition(|&b| b == 0).map_or(0, |p| p + 1);
                let s = &core[s_start..prev_nul];
                if s.is_empty() || !s.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
                    break;
                }
                envs.push(s.to_vec());
                start = s_start;
            }
            let mut pos = at;
            for _ in 0..64 {
                let end = match core[pos..].iter().position(|&b| b == 0) {
                    Some(e) => pos + e,
                    None => break,
                };
                let s = &core[pos..end];
                if s.is_empty() || !s.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
                    break;
                }
                envs.push(s.to_vec());
                pos = end + 1;
            }
            for s in envs {
                let s = String::from_utf8_lossy(&s);
                let Some((key, _)) = s.split_once('=') else { continue };
                let looks_like_env = !key.is_empty() && key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
                if looks_like_env {
                    assert!(ALLOWED_ENV.contains(&key), "{}: environment variable {s:?} in the core", fx.name);
                }
            }
        }
    }
}
