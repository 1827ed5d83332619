//! The file-backed fallback on the fixture taken with the default coredump_filter (0x33), whose core omits the
//! file-backed pages of python and libpython: they must come from the shipped binaries, and only from binaries with
//! the same build-id.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use common::{empty_sysroot, fixture, info_json};
use serde_json::Value;

const NAME: &str = "py312-filter33";

fn libpython(info: &Value) -> &Value {
    info["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["path"].as_str().unwrap().contains("libpython"))
        .expect("libpython is mapped")
}

fn warnings(info: &Value) -> Vec<String> {
    let general = info["warnings"].as_array().unwrap().iter();
    let python = info["python"]["warnings"].as_array().into_iter().flatten();
    general.chain(python).map(|w| w.as_str().unwrap().to_string()).collect()
}

/// With the shipped binaries, libpython's omitted read-only data (where `Py_Version` lives) is read from disk.
#[test]
fn sysroot_supplies_what_the_core_omits() {
    let fx = fixture(NAME);
    let truth = fx.truth();
    let root = empty_sysroot();
    fx.extract_sysroot(root.path());
    let info = info_json(&fx.core(), &[OsStr::new("--sysroot"), root.path().as_os_str()]);
    assert_eq!(info["python"]["version"], truth["version"], "{info:#}");
    assert_eq!(info["python"]["version_source"], "Py_Version symbol", "read from libpython's .rodata on disk");
    let lib = libpython(&info);
    assert_eq!(lib["bytes"], "disk", "{lib:#}");
    assert!(lib["disk_path"].as_str().unwrap().starts_with(root.path().to_str().unwrap()));
    assert!(warnings(&info).iter().all(|w| !w.contains("libpython")), "{:?}", warnings(&info));
}

#[test]
fn search_path_finds_files_by_name() {
    let fx = fixture(NAME);
    let root = empty_sysroot();
    fx.extract_sysroot(root.path());
    let mut dirs: Vec<PathBuf> = Vec::new();
    collect_dirs_with_files(root.path(), &mut dirs);
    let empty = empty_sysroot();
    let mut args: Vec<&OsStr> = vec![OsStr::new("--sysroot"), empty.path().as_os_str()];
    for d in &dirs {
        args.push(OsStr::new("--search-path"));
        args.push(d.as_os_str());
    }
    let info = info_json(&fx.core(), &args);
    assert_eq!(info["python"]["version_source"], "Py_Version symbol", "{info:#}");
    assert_eq!(libpython(&info)["bytes"], "disk");
}

/// Without the binaries, what the core holds is still reported (the version from the `Py_GetVersion()` buffer in
/// .bss), and the warnings name the missing file and what to pass.
#[test]
fn without_binaries_the_message_names_the_file_and_what_to_pass() {
    let fx = fixture(NAME);
    let root = empty_sysroot();
    let info = info_json(&fx.core(), &[OsStr::new("--sysroot"), root.path().as_os_str()]);
    assert_eq!(libpython(&info)["bytes"], "partial", "the core holds the ELF header page only");
    assert_eq!(info["python"]["version"], fx.truth()["version"], "{info:#}");
    assert_ne!(info["python"]["version_source"], "Py_Version symbol", "Py_Version lives in omitted .rodata");
    let lib = libpython(&info)["path"].as_str().unwrap().to_string();
    let all = warnings(&info);
    let named = all.iter().find(|w| w.contains(&lib)).unwrap_or_else(|| panic!("no warning names {lib}: {all:?}"));
    assert!(named.contains("--sysroot"), "says what to pass: {named}");
}

/// A libpython whose build-id differs from the one the process loaded is not used, and the warning names the file
/// and both build-ids.
#[test]
fn a_binary_with_another_build_id_is_refused() {
    let fx = fixture(NAME);
    let root = empty_sysroot();
    fx.extract_sysroot(root.path());
    let good = info_json(&fx.core(), &[OsStr::new("--sysroot"), root.path().as_os_str()]);
    let lib = libpython(&good);
    let id_hex = lib["build_id"].as_str().expect("the core records libpython's build-id").to_string();
    let file = PathBuf::from(lib["disk_path"].as_str().unwrap());
    flip_build_id(&file, &id_hex);

    let info = info_json(&fx.core(), &[OsStr::new("--sysroot"), root.path().as_os_str()]);
    // The core holds libpython's first page (coredump_filter 0x33 dumps ELF headers), not the rest.
    assert_eq!(libpython(&info)["bytes"], "partial", "the mismatching file must not be used");
    assert_ne!(info["python"]["version_source"], "Py_Version symbol", "nothing may be read from the refused file");
    let all = warnings(&info);
    let warning = all
        .iter()
        .find(|w| w.contains(file.to_str().unwrap()) && w.contains("build-id"))
        .unwrap_or_else(|| panic!("no build-id warning naming {}: {all:?}", file.display()));
    assert!(warning.contains(&id_hex), "names the core's build-id: {warning}");
    let mut flipped = id_hex.clone().into_bytes();
    flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
    assert!(warning.contains(std::str::from_utf8(&flipped).unwrap()), "names the file's build-id: {warning}");
}

/// Rewrites the first hex digit of the build-id inside the file's GNU build-id note.
fn flip_build_id(file: &Path, id_hex: &str) {
    let id: Vec<u8> =
        (0..id_hex.len()).step_by(2).map(|i| u8::from_str_radix(&id_hex[i..i + 2], 16).unwrap()).collect();
    let mut bytes = std::fs::read(file).unwrap();
    let at = bytes.windows(id.len()).position(|w| w == id).expect("build-id bytes in the file");
    let first = bytes[at] >> 4;
    let replacement = if first == 0 { 1 } else { 0 };
    bytes[at] = (replacement << 4) | (bytes[at] & 0x0f);
    std::fs::write(file, bytes).unwrap();
}

fn collect_dirs_with_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut has_file = false;
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            collect_dirs_with_files(&p, out);
        } else {
            has_file = true;
        }
    }
    if has_file {
        out.push(dir.to_path_buf());
    }
}
