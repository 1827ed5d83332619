//! Filling a [`Layout`] for one process: the built-in table of its version, then DWARF of the interpreter binary
//! when one with debug info is at hand, then `_Py_DebugOffsets` from the process itself (3.13+).

use std::path::{Path, PathBuf};

use heapscope_coredump::{build_id_hex, DiskElf, LoadedObject, ProcessImage};

use super::debug_offsets::{describe, DebugOffsets};
use super::{table_key, Flavour, Layout, Source, TABLES};
use crate::dwarf::{DwarfError, DwarfTypes};
use crate::{Detection, Error, PythonVersion};

/// Whether and where [`Layout::resolve`] looks for DWARF debug info of the interpreter (python binary or libpython).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DwarfPolicy {
    /// Never read DWARF: the built-in table and `_Py_DebugOffsets` only.
    #[default]
    Off,
    /// For versions heapscope has no built-in table for (the tables are derived from DWARF already, and reading a
    /// libpython's debug info costs tens of megabytes): look for the interpreter's file, and use the first one whose
    /// build-id matches the process's and that has debug info: the file the image already reads missing bytes from, the recorded path (under `sysroot` when
    /// given), the file name in each of `search_paths`, then the separate debug file
    /// `usr/lib/debug/.build-id/xx/yyyy.debug` (under `sysroot`, else `/`).
    Search {
        /// Stands for the dumped machine's `/`.
        sysroot: Option<PathBuf>,
        /// Directories searched by file name.
        search_paths: Vec<PathBuf>,
    },
    /// Read DWARF from this file even when a built-in table exists (its build-id must still match).
    File(PathBuf),
}

impl Layout {
    /// The built-in table for `version`, every known field with [`Source::Table`]. `None` for versions and flavours
    /// heapscope has no table for (before 3.8, after 3.15, free-threaded builds).
    pub fn builtin(version: &PythonVersion, flavour: Flavour) -> Option<Layout> {
        if flavour != Flavour::Default {
            return None;
        }
        let key = table_key(version);
        let (_, fields) = TABLES.iter().find(|(k, _)| *k == key)?;
        let mut layout = Layout::unknown(*version, flavour);
        for &(name, offset) in fields.iter() {
            if let Some(f) = layout.field_mut(name) {
                f.set(offset, Source::Table);
            }
        }
        Some(layout)
    }

    /// The layout of the interpreter `d` found in `p`, and warnings: the built-in table for its version, then DWARF
    /// (per `dwarf`: by default only for versions without a table; fills what the table lacks, and wins where they
    /// disagree, with a warning), then
    /// `_Py_DebugOffsets` (3.13+; wins over both, with a warning for each disagreement).
    ///
    /// Fails for versions heapscope has no layout for and for free-threaded builds.
    pub fn resolve<P: ProcessImage + ?Sized>(
        p: &P,
        d: &Detection,
        dwarf: DwarfPolicy,
    ) -> Result<(Layout, Vec<String>), Error> {
        let version = d.version;
        let key = table_key(&version);
        if key == "unsupported" {
            return Err(Error::UnsupportedVersion { version });
        }
        let mut warnings = Vec::new();
        let debug_offsets = match DebugOffsets::read(p, d.runtime, version.minor) {
            Ok(found) => found,
            Err(e) => {
                warnings.push(format!("cannot read _Py_DebugOffsets at {}: {e}", d.runtime));
                None
            }
        };
        if debug_offsets.as_ref().is_some_and(|o| o.free_threaded) {
            return Err(Error::FreeThreaded { version });
        }
        if version.minor >= 13 && debug_offsets.is_none() {
            warnings.push(format!("no _Py_DebugOffsets at {}: using the {key} table alone", d.runtime));
        }
        let builtin = Layout::builtin(&version, Flavour::Default);
        let want_dwarf = match &dwarf {
            DwarfPolicy::Off => false,
            DwarfPolicy::Search { .. } => builtin.is_none(),
            DwarfPolicy::File(_) => true,
        };
        let mut layout = match builtin {
            Some(l) => l,
            None => {
                warnings.push(format!("heapscope has no built-in table for {key}"));
                Layout::unknown(version, Flavour::Default)
            }
        };

        let object = d.object.and_then(|i| p.objects().get(i)).filter(|_| want_dwarf);
        let mut dwarf_file = String::new();
        if let Some(obj) = object {
            if let Some((path, types)) = find_dwarf(obj, &dwarf, &mut warnings) {
                dwarf_file = path.display().to_string();
                match dwarf_offsets(&types) {
                    Ok(values) => apply_dwarf(&mut layout, &values, &dwarf_file, key, &mut warnings),
                    Err(e) => warnings.push(format!("ignoring the DWARF of {dwarf_file}: {e}")),
                }
            }
        }

        if let Some(offsets) = &debug_offsets {
            let held_by = |s: Source| match s {
                Source::Dwarf => format!("the DWARF of {dwarf_file}"),
                _ => format!("the {key} table"),
            };
            offsets.apply(&mut layout, &held_by, &mut warnings);
        }
        Ok((layout, warnings))
    }
}

/// Every field of [`Layout::schema`] that this DWARF knows: (`Struct.field`, offset), in schema order. A struct's
/// size is its `DW_AT_byte_size`; a field's offset is that of its first candidate C member path DWARF has.
pub fn dwarf_offsets(types: &DwarfTypes) -> Result<Vec<(String, u32)>, DwarfError> {
    dwarf_offsets_where(types, |_| true)
}

/// [`dwarf_offsets`] for the structs whose Rust name `keep` accepts (e.g. only those of one extension module,
/// whose shared object's DWARF also describes libpython's structs from the headers it includes).
pub fn dwarf_offsets_where(types: &DwarfTypes, keep: impl Fn(&str) -> bool) -> Result<Vec<(String, u32)>, DwarfError> {
    let mut out = Vec::new();
    for (rust, c_names, fields) in Layout::schema().into_iter().filter(|(rust, _, _)| keep(rust)) {
        let Some(st) = types.find_struct(c_names)? else { continue };
        if let Some(size) = st.size.and_then(|s| u32::try_from(s).ok()) {
            out.push((format!("{rust}.size"), size));
        }
        for (field, paths) in fields {
            for path in paths.iter() {
                if let Some(m) = types.member(&st, path)? {
                    if let Ok(offset) = u32::try_from(m.offset) {
                        out.push((format!("{rust}.{field}"), offset));
                    }
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// Puts DWARF's values into the layout: fields the table lacks are filled; a disagreement is a warning and DWARF
/// (of the exact binary the process ran) wins. Every field DWARF gives is marked [`Source::Dwarf`], agreeing or not,
/// so the report shows that the binary's own debug info stands behind it.
fn apply_dwarf(layout: &mut Layout, values: &[(String, u32)], file: &str, key: &str, warnings: &mut Vec<String>) {
    for (name, value) in values {
        let Some(f) = layout.field_mut(name) else { continue };
        if let Some(old) = f.offset.filter(|old| old != value) {
            warnings.push(format!(
                "the DWARF of {file} says {} is {value}, the {key} table says {old}; using {value}",
                describe(name)
            ));
        }
        f.set(*value, Source::Dwarf);
    }
}

/// The first candidate file of `obj` that matches its build-id and has DWARF, parsed.
fn find_dwarf(obj: &LoadedObject, policy: &DwarfPolicy, warnings: &mut Vec<String>) -> Option<(PathBuf, DwarfTypes)> {
    let candidates = match policy {
        DwarfPolicy::Off => return None,
        DwarfPolicy::File(path) => vec![path.clone()],
        DwarfPolicy::Search { sysroot, search_paths } => candidates(obj, sysroot.as_deref(), search_paths),
    };
    let explicit = matches!(policy, DwarfPolicy::File(_));
    for cand in candidates {
        if !cand.is_file() {
            if explicit {
                warnings.push(format!("no DWARF from {}: not a file", cand.display()));
            }
            continue;
        }
        let disk = match DiskElf::open(&cand) {
            Ok(d) => d,
            Err(e) => {
                warnings.push(format!("no DWARF from {}: {e}", cand.display()));
                continue;
            }
        };
        match (obj.build_id.as_deref(), disk.build_id()) {
            (Some(want), Some(have)) if want == have => {}
            (Some(want), have) => {
                warnings.push(format!(
                    "no DWARF from {}: its build-id {} differs from the build-id {} of {} in the core",
                    cand.display(),
                    have.map(build_id_hex).unwrap_or_else(|| "(none)".into()),
                    build_id_hex(want),
                    obj.path.display()
                ));
                continue;
            }
            (None, _) => {
                warnings.push(format!(
                    "no DWARF from {}: the core does not give the build-id of {} to check it against",
                    cand.display(),
                    obj.path.display()
                ));
                continue;
            }
        }
        let Some(bytes) = usize::try_from(disk.len()).ok().and_then(|len| disk.bytes_at(0, len)) else { continue };
        match DwarfTypes::parse(bytes) {
            Ok(types) => return Some((cand, types)),
            Err(DwarfError::NoDebugInfo) if !explicit => {}
            Err(e) => warnings.push(format!("no DWARF from {}: {e}", cand.display())),
        }
    }
    None
}

/// Where the interpreter's file (or its separate debug file) may be on this machine.
fn candidates(obj: &LoadedObject, sysroot: Option<&Path>, search_paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = obj.disk_path.iter().cloned().collect();
    let relative = obj.path.strip_prefix("/").unwrap_or(&obj.path);
    out.push(match sysroot {
        Some(root) => root.join(relative),
        None => obj.path.clone(),
    });
    if let Some(name) = obj.path.file_name() {
        out.extend(search_paths.iter().map(|d| d.join(name)));
    }
    if let Some(id) = obj.build_id.as_deref().filter(|id| id.len() >= 2) {
        let hex = build_id_hex(id);
        let debug = Path::new("usr/lib/debug/.build-id").join(&hex[..2]).join(format!("{}.debug", &hex[2..]));
        out.push(sysroot.unwrap_or(Path::new("/")).join(debug));
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use heapscope_coredump::{Addr, SyntheticMemory};

    use super::*;
    use crate::{RuntimeSource, VersionSource};

    type Image = heapscope_coredump::SyntheticImage;

    const RUNTIME: Addr = Addr(0x10_0000);

    fn detection(hex: u64) -> Detection {
        Detection {
            version: PythonVersion::from_hex(hex).unwrap(),
            version_source: VersionSource::PyVersionSymbol,
            runtime: RUNTIME,
            runtime_source: RuntimeSource::Symbol,
            object: None,
            warnings: Vec::new(),
        }
    }

    /// A 3.13 `_Py_DebugOffsets` block holding the 3.13 table's values, with `current_frame` and `free_threaded`
    /// as given.
    fn image_313(current_frame: u64, free_threaded: u64) -> Image {
        let table = Layout::builtin(&detection(0x030d00f0).version, Flavour::Default).unwrap();
        let mut b = vec![0u8; 584];
        b[..8].copy_from_slice(crate::version::DEBUG_OFFSETS_COOKIE);
        let mut put = |pos: usize, v: u64| b[pos..pos + 8].copy_from_slice(&v.to_le_bytes());
        put(8, 0x030d00f0);
        put(16, free_threaded);
        put(152, u64::from(table.tstate.size.offset.unwrap()));
        put(168, 8);
        put(184, current_frame);
        let mut m = SyntheticMemory::new();
        m.map(RUNTIME, b);
        Image::new(m)
    }

    #[test]
    fn debug_offsets_override_the_table_with_a_warning() {
        let (layout, warnings) = Layout::resolve(&image_313(80, 0), &detection(0x030d00f0), DwarfPolicy::Off).unwrap();
        assert_eq!(layout.tstate.current_frame.offset, Some(80));
        assert_eq!(layout.tstate.current_frame.source, Source::DebugOffsets);
        assert_eq!(layout.tstate.next.source, Source::DebugOffsets);
        // Entries left 0 here are plausible offsets too: they win, each with its warning.
        assert!(warnings.iter().any(|w| w.contains("PyInterpreterState.sysdict is 0")), "{warnings:#?}");
        assert!(
            warnings
                .iter()
                .any(|w| w
                    == "_Py_DebugOffsets says PyThreadState.current_frame is 80, the 3.13 table says 72; using 80"),
            "{warnings:#?}"
        );
    }

    #[test]
    fn free_threaded_and_unknown_versions_are_errors() {
        let err = Layout::resolve(&image_313(72, 1), &detection(0x030d00f0), DwarfPolicy::Off).unwrap_err();
        assert!(matches!(err, Error::FreeThreaded { .. }));
        assert!(err.to_string().contains("free-threaded CPython builds are not supported yet"), "{err}");
        let err = Layout::resolve(&image_313(72, 0), &detection(0x030700f0), DwarfPolicy::Off).unwrap_err();
        assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
        let err = Layout::resolve(&image_313(72, 0), &detection(0x031000f0), DwarfPolicy::Off).unwrap_err();
        assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
    }

    #[test]
    fn before_313_the_table_stands_alone() {
        let (layout, warnings) = Layout::resolve(&image_313(72, 0), &detection(0x030c01f0), DwarfPolicy::Off).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(layout.tstate.next.source, Source::Table);
        let missing = Image::new(SyntheticMemory::new());
        let (_, warnings) = Layout::resolve(&missing, &detection(0x030e0af0), DwarfPolicy::Off).unwrap();
        assert!(warnings.iter().any(|w| w.contains("_Py_DebugOffsets")), "{warnings:?}");
    }

    #[test]
    fn every_table_names_schema_fields_only() {
        for (key, fields) in TABLES {
            let v = PythonVersion::from_hex(0x030800f0).unwrap();
            let mut layout = Layout::unknown(v, Flavour::Default);
            for (name, _) in fields.iter() {
                assert!(layout.field_mut(name).is_some(), "table {key}: {name} is not in the schema");
            }
        }
        let keys: Vec<&str> = TABLES.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14.0", "3.14.5", "3.15"]);
    }
}
