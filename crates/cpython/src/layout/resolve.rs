//! Filling a [`Layout`] for one process: the built-in table of its version (or, without one, what `fallback.rs`
//! finds: DWARF, or the newest table for a newer release), then `_Py_DebugOffsets` from the process itself (3.13+).

use std::path::{Path, PathBuf};

use heapscope_coredump::{build_id_hex, DiskElf, LoadedObject, ProcessImage};

use super::debug_offsets::{describe, DebugOffsets};
use super::{fallback, table_key, Flavour, Layout, Source, TABLES};
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

/// How [`Layout::resolve_with`] works: where to look for DWARF, and (for tests only) which built-in tables to ignore.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolveOptions {
    /// Whether and where to look for the interpreter's DWARF.
    pub dwarf: DwarfPolicy,
    /// TEST ONLY: keys of built-in tables (`3.12`, `3.14.5`, as in [`TABLES`]) to act as if heapscope did not have,
    /// so that the fallbacks for versions without a table (the newest table with `_Py_DebugOffsets`, DWARF) can be
    /// checked on the fixture cores of versions that do have one. Set by the hidden `--test-withhold-table` option.
    pub withheld_tables: Vec<String>,
}

impl Layout {
    /// The built-in table for `version`, every known field with [`Source::Table`]. `None` for versions and flavours
    /// heapscope has no table for (before 3.8, after the newest table, free-threaded builds).
    pub fn builtin(version: &PythonVersion, flavour: Flavour) -> Option<Layout> {
        if flavour != Flavour::Default {
            return None;
        }
        Layout::from_table(table_key(version), version)
    }

    /// The built-in table `key` (`3.13`, `3.14.5`) as the layout of `version`, every known field with
    /// [`Source::Table`].
    pub fn from_table(key: &str, version: &PythonVersion) -> Option<Layout> {
        let (key, fields) = TABLES.iter().find(|(k, _)| *k == key)?;
        let mut layout = Layout::unknown(*version, Flavour::Default);
        for &(name, offset) in fields.iter() {
            if let Some(f) = layout.field_mut(name) {
                f.set(offset, Source::Table);
            }
        }
        layout.basis.table = Some(key);
        Some(layout)
    }

    /// [`Layout::resolve_with`] with no table withheld.
    pub fn resolve<P: ProcessImage + ?Sized>(
        p: &P,
        d: &Detection,
        dwarf: DwarfPolicy,
    ) -> Result<(Layout, Vec<String>), Error> {
        Layout::resolve_with(p, d, &ResolveOptions { dwarf, withheld_tables: Vec::new() })
    }

    /// The layout of the interpreter `d` found in `p`, and warnings.
    ///
    /// With a built-in table for its version: the table, then DWARF (only under [`DwarfPolicy::File`]: it wins where
    /// they disagree, with a warning), then `_Py_DebugOffsets` (3.13+; wins over both, with a warning for each
    /// disagreement). Without one (see `fallback.rs`): the DWARF `opts.dwarf` finds, else for a version newer than
    /// every table (3.13+) the newest table, each then overlaid with `_Py_DebugOffsets`; the layout's
    /// [`Basis::unverified`](super::Basis::unverified) then says so.
    ///
    /// Fails for versions before 3.8, for free-threaded builds, and for versions without a table that none of the
    /// fallbacks can serve (the error says what to provide).
    pub fn resolve_with<P: ProcessImage + ?Sized>(
        p: &P,
        d: &Detection,
        opts: &ResolveOptions,
    ) -> Result<(Layout, Vec<String>), Error> {
        let version = d.version;
        if (version.major, version.minor) < (3, 8) {
            return Err(Error::UnsupportedVersion { version });
        }
        let mut warnings = Vec::new();
        let withheld = |k: &str| opts.withheld_tables.iter().any(|w| w == k);
        if !opts.withheld_tables.is_empty() {
            warnings.push(format!(
                "test switch: acting as if there were no built-in table {}",
                opts.withheld_tables.join(", ")
            ));
        }
        let debug_offsets = read_debug_offsets(p, d, &mut warnings);
        if debug_offsets.as_ref().is_some_and(|o| o.free_threaded) {
            return Err(Error::FreeThreaded { version });
        }
        let key = Some(table_key(&version)).filter(|k| TABLES.iter().any(|(t, _)| t == k) && !withheld(k));

        let (mut layout, dwarf_file) = match key {
            Some(key) => {
                if version.minor >= 13 && debug_offsets.is_none() {
                    warnings.push(format!("no _Py_DebugOffsets at {}: using the {key} table alone", d.runtime));
                }
                let mut layout = Layout::from_table(key, &version).expect("the key names a table");
                let mut dwarf_file = None;
                let object = d.object.and_then(|i| p.objects().get(i));
                if let (DwarfPolicy::File(_), Some(obj)) = (&opts.dwarf, object) {
                    if let Some((path, types)) = find_dwarf(obj, &opts.dwarf, &mut warnings) {
                        let file = path.display().to_string();
                        match dwarf_offsets(&types) {
                            Ok(values) => {
                                apply_dwarf(&mut layout, &values, &file, key, &mut warnings);
                                layout.basis.dwarf = Some(file.clone());
                                dwarf_file = Some(file);
                            }
                            Err(e) => warnings.push(format!("ignoring the DWARF of {file}: {e}")),
                        }
                    }
                }
                (layout, dwarf_file)
            }
            None => {
                let tables: Vec<&'static str> = TABLES.iter().map(|(k, _)| *k).filter(|k| !withheld(k)).collect();
                let layout = fallback::without_table(p, d, opts, &tables, debug_offsets.as_ref(), &mut warnings)?;
                let file = layout.basis.dwarf.clone();
                (layout, file)
            }
        };

        if let Some(offsets) = &debug_offsets {
            let table = layout.basis.table.unwrap_or("built-in");
            let held_by = |s: Source| match (s, &dwarf_file) {
                (Source::Dwarf, Some(file)) => format!("the DWARF of {file}"),
                _ => format!("the {table} table"),
            };
            offsets.apply(&mut layout, &held_by, &mut warnings);
        }
        Ok((layout, warnings))
    }
}

/// `_Py_DebugOffsets` of a 3.13+ process, in its own format or, for a release newer than every format heapscope
/// knows, in the newest one if the block passes [`DebugOffsets::self_check`] that way.
fn read_debug_offsets<P: ProcessImage + ?Sized>(
    p: &P,
    d: &Detection,
    warnings: &mut Vec<String>,
) -> Option<DebugOffsets> {
    let minor = d.version.minor;
    let format = DebugOffsets::format_for(minor)?;
    let block = match DebugOffsets::read(p, d.runtime, format) {
        Ok(found) => found?,
        Err(e) => {
            warnings.push(format!("cannot read _Py_DebugOffsets at {}: {e}", d.runtime));
            return None;
        }
    };
    if format == minor {
        return Some(block);
    }
    let bad = block.self_check();
    if bad.is_empty() {
        warnings.push(format!(
            "read the _Py_DebugOffsets of CPython {} in the format of 3.{format}, the newest heapscope knows; \
             every entry passed its checks",
            d.version
        ));
        Some(block)
    } else {
        warnings.push(format!(
            "the _Py_DebugOffsets of CPython {} do not read as the format of 3.{format} (the newest heapscope \
             knows), so they are not used: {}",
            d.version,
            bad.join("; ")
        ));
        None
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
pub(super) fn apply_dwarf(
    layout: &mut Layout,
    values: &[(String, u32)],
    file: &str,
    key: &str,
    warnings: &mut Vec<String>,
) {
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
pub(super) fn find_dwarf(
    obj: &LoadedObject,
    policy: &DwarfPolicy,
    warnings: &mut Vec<String>,
) -> Option<(PathBuf, DwarfTypes)> {
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
    if let Some(debug) = obj.build_id.as_deref().and_then(debug_file) {
        out.push(sysroot.unwrap_or(Path::new("/")).join(debug));
    }
    out.dedup();
    out
}

/// Where the separate debug file of the object with this build-id lives, relative to `/`:
/// `usr/lib/debug/.build-id/xx/yyyy.debug`.
pub(super) fn debug_file(build_id: &[u8]) -> Option<PathBuf> {
    let hex = build_id_hex(build_id);
    (hex.len() > 2).then(|| Path::new("usr/lib/debug/.build-id").join(&hex[..2]).join(format!("{}.debug", &hex[2..])))
}

#[cfg(test)]
mod tests {
    use heapscope_coredump::{Addr, SyntheticMemory};

    use super::*;
    use crate::layout::UnverifiedKind;
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
    fn free_threaded_and_old_versions_are_errors() {
        let err = Layout::resolve(&image_313(72, 1), &detection(0x030d00f0), DwarfPolicy::Off).unwrap_err();
        assert!(matches!(err, Error::FreeThreaded { .. }));
        assert!(err.to_string().contains("free-threaded CPython builds are not supported yet"), "{err}");
        let err = Layout::resolve(&image_313(72, 0), &detection(0x030700f0), DwarfPolicy::Off).unwrap_err();
        assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
        assert!(err.to_string().contains("heapscope reads CPython 3.8 and later"), "{err}");
    }

    /// 3.16.0: newer than every table (also once a 3.15 table is added).
    const NEWER: u64 = 0x031000f0;

    /// The newest table's key and minor version.
    fn newest() -> (&'static str, u8) {
        let key = TABLES.last().unwrap().0;
        (key, key.split('.').nth(1).unwrap().parse().unwrap())
    }

    /// An image whose `_Py_DebugOffsets` state `version` and hold the newest table's offsets, in the newest format.
    fn image_newer(version: u64) -> Image {
        let (key, minor) = newest();
        let mut table = Layout::from_table(key, &detection(version).version).unwrap();
        let format = DebugOffsets::format_for(minor).unwrap();
        let mut m = SyntheticMemory::new();
        m.map(RUNTIME, super::super::debug_offsets::encode(&mut table, format, version));
        Image::new(m)
    }

    #[test]
    fn a_newer_version_gets_the_newest_table_under_its_debug_offsets() {
        let (key, minor) = newest();
        let d = detection(NEWER);
        let (layout, warnings) = Layout::resolve(&image_newer(NEWER), &d, DwarfPolicy::Off).unwrap();
        let u = layout.basis.unverified.as_ref().expect("flagged as unverified");
        assert_eq!((u.kind, u.table, u.version.as_str()), (UnverifiedKind::NewestTable, Some(key), "3.16.0"));
        assert_eq!(u.behaviour_of, Some(format!("3.{minor}")));
        assert!(u.message.contains("newer than every layout table") && u.message.contains("unverified"), "{u}");
        assert_eq!(layout.basis.table, Some(key));
        assert_eq!(layout.tstate.next.source, Source::DebugOffsets);
        assert!(warnings.iter().any(|w| w.contains("every entry passed its checks")), "{warnings:#?}");
        assert!(
            !warnings.iter().any(|w| w.contains("_Py_DebugOffsets says")),
            "the block holds the table: {warnings:#?}"
        );
    }

    /// Behaviours that are not offsets take the newest known version's for a newer one.
    #[test]
    fn a_newer_version_gets_the_newest_behaviour() {
        let (key, minor) = newest();
        let newer = detection(NEWER).version;
        let known = PythonVersion { minor, ..newer };
        let (layout, _) = Layout::resolve(&image_newer(NEWER), &detection(NEWER), DwarfPolicy::Off).unwrap();
        let mut same = Layout::from_table(key, &known).unwrap();
        same.basis = layout.basis.clone();
        assert_eq!(crate::frames::FrameModel::for_version(&newer), crate::frames::FrameModel::for_version(&known));
        assert_eq!(crate::objects::Features::for_layout(&layout), crate::objects::Features::for_layout(&same));
        assert_eq!(
            crate::linetable::LineTableFormat::for_minor(newer.minor),
            crate::linetable::LineTableFormat::for_minor(minor)
        );
    }

    #[test]
    fn a_newer_version_without_usable_debug_offsets_is_refused() {
        // No block at all.
        let err =
            Layout::resolve(&Image::new(SyntheticMemory::new()), &detection(NEWER), DwarfPolicy::Off).unwrap_err();
        assert!(matches!(err, Error::NoLayout { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("no struct layout for CPython 3.16.0: it is newer than every built-in table"), "{text}");
        assert!(text.contains("_Py_DebugOffsets"), "{text}");
        // A block that does not read as the newest format: every size 0.
        let (_, minor) = newest();
        let mut bytes = vec![0u8; DebugOffsets::block_size(DebugOffsets::format_for(minor).unwrap()).unwrap()];
        bytes[..8].copy_from_slice(crate::version::DEBUG_OFFSETS_COOKIE);
        bytes[8..16].copy_from_slice(&NEWER.to_le_bytes());
        let mut m = SyntheticMemory::new();
        m.map(RUNTIME, bytes);
        let mut warnings = Vec::new();
        assert_eq!(read_debug_offsets(&Image::new(m), &detection(NEWER), &mut warnings), None);
        assert!(warnings.iter().any(|w| w.contains("do not read as the format of")), "{warnings:#?}");
        // A real block in an older format: its entries sit at other positions than the newest format's.
        let mut t313 = Layout::from_table("3.13", &detection(NEWER).version).unwrap();
        let mut bytes = super::super::debug_offsets::encode(&mut t313, 13, NEWER);
        bytes.resize(1 << 12, 0);
        let mut m = SyntheticMemory::new();
        m.map(RUNTIME, bytes);
        let mut warnings = Vec::new();
        assert_eq!(read_debug_offsets(&Image::new(m), &detection(NEWER), &mut warnings), None);
        assert!(warnings.iter().any(|w| w.contains("do not read as the format of")), "{warnings:#?}");
    }

    #[test]
    fn a_withheld_table_without_dwarf_is_refused_with_what_to_provide() {
        let opts = ResolveOptions { dwarf: DwarfPolicy::Off, withheld_tables: vec!["3.12".into()] };
        let err = Layout::resolve_with(&image_313(72, 0), &detection(0x030c01f0), &opts).unwrap_err();
        assert!(err.to_string().contains("its built-in table 3.12 is withheld"), "{err}");
        // Withholding the newer tables makes 3.12 newer than every table left; below 3.13 that is not enough.
        let keys = ["3.12", "3.13", "3.14.0", "3.14.5", "3.15"].map(String::from).to_vec();
        let opts = ResolveOptions { dwarf: DwarfPolicy::Off, withheld_tables: keys };
        let err = Layout::resolve_with(&image_313(72, 0), &detection(0x030c01f0), &opts).unwrap_err();
        assert!(err.to_string().contains("before 3.13 CPython publishes no _Py_DebugOffsets"), "{err}");
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
