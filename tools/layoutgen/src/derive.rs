//! One table from the DWARF of one libpython build.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use heapscope_coredump::DiskElf;
use heapscope_cpython::dwarf::DwarfTypes;
use heapscope_cpython::layout::dwarf_offsets;
use heapscope_cpython::PythonVersion;

/// The offsets DWARF gives for one build.
#[derive(Debug, Clone)]
pub struct Derived {
    /// Table key (`3.8` … `3.13`).
    pub key: String,
    /// The file read.
    pub path: PathBuf,
    /// Its GNU build-id.
    pub build_id: Option<String>,
    /// The exact version (from `Py_Version`, else from a `3.X.Y` path component).
    pub version: Option<String>,
    /// Every schema field DWARF has, in schema order.
    pub values: Vec<(String, u32)>,
}

/// Reads `path` (a libpython with debug info) and derives its table; `key` overrides the key taken from the file
/// name (`libpython3.X…`).
pub fn from_libpython(path: &Path, key: Option<&str>) -> anyhow::Result<Derived> {
    let elf = DiskElf::open(path).with_context(|| format!("opening {}", path.display()))?;
    let bytes = usize::try_from(elf.len())
        .ok()
        .and_then(|len| elf.bytes_at(0, len))
        .with_context(|| format!("reading {}", path.display()))?;
    let types = DwarfTypes::parse(bytes).with_context(|| format!("reading the DWARF of {}", path.display()))?;
    if !types.issues().is_empty() {
        bail!("{}: parts of the DWARF are unreadable: {}", path.display(), types.issues().join("; "));
    }
    let values = dwarf_offsets(&types).with_context(|| format!("resolving struct layouts in {}", path.display()))?;
    let minor = minor_from_name(path);
    let key = match (key, minor) {
        (Some(k), _) => k.to_string(),
        (None, Some(m)) => format!("3.{m}"),
        (None, None) => bail!("{}: cannot tell the version from the file name; pass KEY=PATH", path.display()),
    };
    let version = py_version(&elf).or_else(|| version_from_path(path));
    if let Some(v) = &version {
        if !v.starts_with(&format!("{key}.")) {
            bail!("{}: the file is CPython {v}, not {key}", path.display());
        }
    }
    Ok(Derived { key, path: path.to_path_buf(), build_id: elf.build_id_hex(), version, values })
}

/// The exported `Py_Version` constant (3.11+), read from the file.
fn py_version(elf: &DiskElf) -> Option<String> {
    let sym = elf.lookup("Py_Version")?;
    let mut buf = [0u8; 4];
    elf.read_at_vaddr(sym.addr.0, &mut buf).ok()?;
    PythonVersion::from_hex(u64::from(u32::from_le_bytes(buf))).map(|v| v.to_string())
}

/// A `3.X.Y` component of the path (pyenv's `versions/3.8.18/lib/…`).
fn version_from_path(path: &Path) -> Option<String> {
    path.components().rev().find_map(|c| {
        let s = c.as_os_str().to_str()?;
        PythonVersion::parse(s).map(|v| v.to_string())
    })
}

/// `…/libpython3.10.so.1.0` → 10.
fn minor_from_name(path: &Path) -> Option<u8> {
    let name = path.file_name()?.to_str()?;
    let at = name.find("python3.")? + "python3.".len();
    let digits: String = name[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The path as it should appear in the generated header: `$PYENV_ROOT/…` instead of this machine's pyenv root, and
/// never a home directory.
pub fn display_path(path: &Path) -> String {
    let s = path.display().to_string();
    let roots = std::env::var("PYENV_ROOT")
        .ok()
        .into_iter()
        .chain(std::env::var("HOME").ok().map(|h| format!("{h}/.pyenv")))
        .filter(|r| !r.is_empty());
    for root in roots {
        if let Some(rest) = s.strip_prefix(&root) {
            return format!("$PYENV_ROOT{rest}");
        }
    }
    match std::env::var("HOME") {
        Ok(home) if !home.is_empty() && home != "/" => match s.strip_prefix(&home) {
            Some(rest) => format!("~{rest}"),
            None => s,
        },
        _ => s,
    }
}
