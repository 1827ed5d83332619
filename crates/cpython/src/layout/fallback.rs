//! Versions without a built-in table: a release newer than every table, or one whose table a test withholds.
//!
//! In order: the DWARF of the interpreter binary, found per [`DwarfPolicy`] (its separate debug file
//! `usr/lib/debug/.build-id/xx/yyyy.debug` under `--sysroot`, an unstripped copy in a `--search-path`), which gives
//! this very build's offsets; else, for a release newer than every table and from 3.13 on, the newest table, over
//! which the caller lays the core's `_Py_DebugOffsets`. Either way the layout's [`Basis::unverified`] says that no
//! table of this version stands behind the results. Behaviours that are not offsets (`Features::for_layout`,
//! `FrameModel::for_version`, `LineTableFormat::for_minor`) take those of the newest version they know for a newer
//! one.

use std::fmt;

use heapscope_coredump::{build_id_hex, ProcessImage};
use serde::Serialize;

use super::debug_offsets::DebugOffsets;
use super::resolve::{apply_dwarf, debug_file, dwarf_offsets, find_dwarf, DwarfPolicy, ResolveOptions};
use super::{table_key, Flavour, Layout, TABLES};
use crate::{Detection, Error};

/// What a resolved layout rests on as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Basis {
    /// The built-in table used (`3.13`, `3.14.5`), if any.
    pub table: Option<&'static str>,
    /// The file whose DWARF gave offsets, if any.
    pub dwarf: Option<String>,
    /// Set when no built-in table of this version stands behind the layout.
    pub unverified: Option<Unverified>,
}

/// What stands in for the missing table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnverifiedKind {
    /// The newest built-in table, with the core's `_Py_DebugOffsets` laid over it.
    NewestTable,
    /// The DWARF of the interpreter binary.
    Dwarf,
}

/// The warning every command shows (on stderr, and in JSON as `unverified_version`) when heapscope has no table
/// for the interpreter's version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unverified {
    /// The interpreter's version.
    pub version: String,
    /// What stands in for its table.
    pub kind: UnverifiedKind,
    /// The built-in table used, for [`UnverifiedKind::NewestTable`].
    pub table: Option<&'static str>,
    /// The file whose DWARF gave the offsets, for [`UnverifiedKind::Dwarf`].
    pub dwarf: Option<String>,
    /// For a release newer than every version heapscope knows: the version whose behaviour is assumed (frame
    /// chain, line tables, managed dicts).
    pub behaviour_of: Option<String>,
    /// One sentence for a person.
    pub message: String,
}

impl fmt::Display for Unverified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `3.14.5` → 14.
fn key_minor(key: &str) -> Option<u8> {
    key.split('.').nth(1)?.parse().ok()
}

/// The layout of an interpreter whose version has no table among `tables` (oldest first), or why there is none.
pub(super) fn without_table<P: ProcessImage + ?Sized>(
    p: &P,
    d: &Detection,
    opts: &ResolveOptions,
    tables: &[&'static str],
    debug_offsets: Option<&DebugOffsets>,
    warnings: &mut Vec<String>,
) -> Result<Layout, Error> {
    let version = d.version;
    let newest = tables.last().copied();
    let newer = newest.and_then(key_minor).is_some_and(|m| (version.major, version.minor) > (3, m));
    let known = TABLES.last().and_then(|(k, _)| key_minor(k));
    let behaviour_of = known.filter(|&m| version.minor > m).map(|m| format!("3.{m}"));
    let assumed = behaviour_of.as_ref().map_or(String::new(), |b| format!(", assuming the behaviour of {b}"));

    let object = d.object.and_then(|i| p.objects().get(i));
    let mut tried = Vec::new();
    if let Some(obj) = object.filter(|_| opts.dwarf != DwarfPolicy::Off) {
        if let Some((path, types)) = find_dwarf(obj, &opts.dwarf, &mut tried) {
            let file = path.display().to_string();
            match dwarf_offsets(&types) {
                Ok(values) => {
                    warnings.append(&mut tried);
                    let mut layout = Layout::unknown(version, Flavour::Default);
                    apply_dwarf(&mut layout, &values, &file, "built-in", warnings);
                    let message = format!(
                        "heapscope has no built-in layout table for CPython {version}: the struct offsets come from \
                         the DWARF of {file}{assumed}; results are unverified"
                    );
                    layout.basis.dwarf = Some(file.clone());
                    layout.basis.unverified = Some(Unverified {
                        version: version.to_string(),
                        kind: UnverifiedKind::Dwarf,
                        table: None,
                        dwarf: Some(file),
                        behaviour_of,
                        message,
                    });
                    return Ok(layout);
                }
                Err(e) => tried.push(format!("ignoring the DWARF of {file}: {e}")),
            }
        }
    }

    if let (true, Some(table), true) = (newer, newest, debug_offsets.is_some()) {
        warnings.append(&mut tried);
        let mut layout = Layout::from_table(table, &version).expect("a table of the list");
        let message = format!(
            "CPython {version} is newer than every layout table heapscope has: using the {table} table with the \
             core's _Py_DebugOffsets laid over it{assumed}; results are unverified"
        );
        layout.basis.unverified = Some(Unverified {
            version: version.to_string(),
            kind: UnverifiedKind::NewestTable,
            table: Some(table),
            dwarf: None,
            behaviour_of,
            message,
        });
        return Ok(layout);
    }

    let key = table_key(&version);
    let newest_is = format!("newer than every built-in table (the newest is {})", newest.unwrap_or("none"));
    let mut why = vec![match (opts.withheld_tables.iter().any(|w| w == key), newer) {
        (true, true) => format!("its built-in table {key} is withheld (--test-withhold-table), leaving it {newest_is}"),
        (true, false) => format!("its built-in table {key} is withheld (--test-withhold-table)"),
        (false, true) => format!("it is {newest_is}"),
        (false, false) => "heapscope has no built-in table for it".to_string(),
    }];
    if newer && version.minor < 13 {
        why.push("before 3.13 CPython publishes no _Py_DebugOffsets to lay over the newest table".into());
    } else if newer {
        why.push(format!(
            "its _Py_DebugOffsets at {} are missing or unusable, so the newest table cannot be used",
            d.runtime
        ));
    }
    let remedy = match object {
        _ if opts.dwarf == DwarfPolicy::Off => {
            why.push("DWARF was not searched".into());
            "Resolve with a DwarfPolicy that searches for the interpreter's debug info".to_string()
        }
        None => {
            why.push("the object holding _PyRuntime is not known, so there is no DWARF to look for".into());
            "Check the warnings of `heapscope info`".to_string()
        }
        Some(obj) => {
            let id = obj.build_id.as_deref();
            let hex = id.map(build_id_hex);
            why.push(match (&hex, tried.is_empty()) {
                (Some(h), true) => format!("no DWARF of {} (build-id {h}) was found", obj.path.display()),
                (None, true) => format!("no DWARF of {} was found", obj.path.display()),
                (_, false) => format!("no usable DWARF of {}: {}", obj.path.display(), tried.join("; ")),
            });
            match (id.and_then(debug_file), hex) {
                (Some(debug), Some(hex)) => format!(
                    "Provide the interpreter's debug info: its separate debug file as DIR/{} with --sysroot DIR \
                     (distributions ship it in their python debug-symbol packages), or an unstripped {} with \
                     build-id {hex} in a --search-path DIR",
                    debug.display(),
                    obj.file_name()
                ),
                _ => format!(
                    "Provide the interpreter's debug info: an unstripped copy of {} in a --search-path DIR",
                    obj.file_name()
                ),
            }
        }
    };
    Err(Error::NoLayout { version, why: why.join("; "), remedy })
}
