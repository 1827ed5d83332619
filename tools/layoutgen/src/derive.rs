//! One table from the DWARF of one CPython build: libpython, and the extension modules of the same build
//! (`lib/python3.X/lib-dynload/<module>.cpython-*.so`) for the structs they define.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use heapscope_coredump::DiskElf;
use heapscope_cpython::dwarf::DwarfTypes;
use heapscope_cpython::layout::{
    dwarf_offsets_where, extension_module, is_numpy_struct, Flavour, Layout, EXTENSION_MODULES,
};
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
    /// The extension modules' shared objects the extension structs were read from.
    pub extensions: Vec<Extension>,
    /// Every schema field DWARF has, in schema order.
    pub values: Vec<(String, u32)>,
}

/// One extension module's shared object that a table's extension structs come from.
#[derive(Debug, Clone)]
pub struct Extension {
    /// The module (`_ctypes`).
    pub module: &'static str,
    /// The file read.
    pub path: PathBuf,
    /// Its GNU build-id.
    pub build_id: Option<String>,
}

/// Reads `path` (a libpython with debug info) and derives its table; `key` overrides the key taken from the file
/// name (`libpython3.X…`).
///
/// The extension structs ([`EXTENSION_MODULES`]) come from the same build's `lib-dynload` directory
/// (`…/lib/libpython3.X.so` → `…/lib/python3.X/lib-dynload/<module>.cpython-*.so`), each from its own module's file.
pub fn from_libpython(path: &Path, key: Option<&str>) -> anyhow::Result<Derived> {
    let elf = DiskElf::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut values = struct_offsets(path, &elf, |rust| extension_module(rust).is_none() && !is_numpy_struct(rust))?;
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
    let dynload = path.parent().unwrap_or(Path::new(".")).join(format!("python{key}/lib-dynload"));
    let mut extensions = Vec::new();
    for &(module, structs) in EXTENSION_MODULES {
        let file = extension_file(&dynload, module)?;
        let ext = DiskElf::open(&file).with_context(|| format!("opening {}", file.display()))?;
        let found = struct_offsets(&file, &ext, |rust| structs.contains(&rust))?;
        if found.is_empty() {
            bail!("{}: its DWARF has none of {}", file.display(), structs.join(", "));
        }
        if let Some(v) = version_from_path(&file).filter(|v| !v.starts_with(&format!("{key}."))) {
            bail!("{}: the file is from CPython {v}, not {key}", file.display());
        }
        values.extend(found);
        extensions.push(Extension { module, path: file, build_id: ext.build_id_hex() });
    }
    let order: Vec<String> = Layout::unknown(PythonVersion::from_hex(0x030800f0).context("3.8")?, Flavour::Default)
        .all_fields()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    values.sort_by_key(|(name, _)| order.iter().position(|n| n == name));
    Ok(Derived { key, path: path.to_path_buf(), build_id: elf.build_id_hex(), version, extensions, values })
}

/// The offsets of the schema structs `keep` accepts, from the DWARF of `elf` (at `path`).
fn struct_offsets(path: &Path, elf: &DiskElf, keep: impl Fn(&str) -> bool) -> anyhow::Result<Vec<(String, u32)>> {
    let bytes = usize::try_from(elf.len())
        .ok()
        .and_then(|len| elf.bytes_at(0, len))
        .with_context(|| format!("reading {}", path.display()))?;
    let types = DwarfTypes::parse(bytes).with_context(|| format!("reading the DWARF of {}", path.display()))?;
    if !types.issues().is_empty() {
        bail!("{}: parts of the DWARF are unreadable: {}", path.display(), types.issues().join("; "));
    }
    dwarf_offsets_where(&types, keep).with_context(|| format!("resolving struct layouts in {}", path.display()))
}

/// The one `<module>.cpython-*.so` in `dir`.
fn extension_file(dir: &Path, module: &str) -> anyhow::Result<PathBuf> {
    let prefix = format!("{module}.cpython-");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".so"))
        })
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => bail!("no {prefix}*.so in {}", dir.display()),
        _ => bail!("more than one {prefix}*.so in {}", dir.display()),
    }
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
