//! `heapscope info --layout`: every struct field heapscope reads, its offset for this interpreter and where that
//! offset came from (built-in table, DWARF, `_Py_DebugOffsets`), and for the structs of extension modules
//! (`_ctypes`, …), which module defines them.

use std::io::{self, Write};

use heapscope_cpython::layout::{extension_module, is_numpy_struct, Layout, Source};
use serde::Serialize;

use crate::Table;

/// The resolved layout of one interpreter, as plain data.
#[derive(Debug, Clone, Serialize)]
pub struct LayoutReport {
    /// The interpreter's version.
    pub version: Option<String>,
    /// The built-in table used (`3.13`, `3.14.5`, …), if any.
    pub table: Option<String>,
    /// The file whose DWARF gave offsets, if any.
    pub dwarf: Option<String>,
    /// Every field of the schema, in schema order.
    pub fields: Vec<LayoutRow>,
    /// Disagreements between sources, and sources that could not be read.
    pub warnings: Vec<String>,
    /// Why no layout could be resolved, when none was.
    pub error: Option<String>,
}

/// One field.
#[derive(Debug, Clone, Serialize)]
pub struct LayoutRow {
    /// `Struct.field` (heapscope's name).
    pub field: String,
    /// The C member paths it has had across versions (`PyInterpreterState.imports.modules`, …), or
    /// `sizeof(Struct)` for a struct's size.
    pub c: Vec<String>,
    /// The extension module whose shared object defines the struct (`_ctypes`, …, `numpy` for numpy's structs, from
    /// its headers); `None` for libpython's.
    pub module: Option<&'static str>,
    /// Offset in bytes (or size), when known.
    pub offset: Option<u32>,
    /// Where it came from.
    pub source: Source,
}

impl LayoutReport {
    /// The report of `Layout::resolve`'s result (`Err`: why there is no layout).
    pub fn collect<E: std::fmt::Display>(resolved: Result<(Layout, Vec<String>), E>) -> LayoutReport {
        let (layout, warnings) = match resolved {
            Ok(found) => found,
            Err(e) => return LayoutReport::failed(e.to_string()),
        };
        let schema = Layout::schema();
        let fields = layout
            .all_fields()
            .into_iter()
            .map(|(name, f)| {
                let (strukt, field) = name.split_once('.').unwrap_or((name.as_str(), ""));
                let entry = schema.iter().find(|(rust, _, _)| *rust == strukt);
                let c_struct = entry.and_then(|(_, c, _)| c.first().copied()).unwrap_or(strukt);
                let c = if field == "size" {
                    vec![format!("sizeof({c_struct})")]
                } else {
                    entry
                        .and_then(|(_, _, fields)| fields.iter().find(|(n, _)| *n == field))
                        .map(|(_, paths)| paths.iter().map(|p| format!("{c_struct}.{p}")).collect())
                        .unwrap_or_default()
                };
                let module = extension_module(strukt).or_else(|| is_numpy_struct(strukt).then_some("numpy"));
                LayoutRow { field: name.clone(), c, module, offset: f.offset, source: f.source }
            })
            .collect();
        LayoutReport {
            version: Some(layout.version.to_string()),
            table: layout.basis.table.map(str::to_string),
            dwarf: layout.basis.dwarf.clone(),
            fields,
            warnings,
            error: None,
        }
    }

    /// A report saying why there is no layout.
    pub fn failed(why: String) -> LayoutReport {
        LayoutReport {
            version: None,
            table: None,
            dwarf: None,
            fields: Vec::new(),
            warnings: Vec::new(),
            error: Some(why),
        }
    }

    /// Writes the report for a person: one line per field, then the warnings.
    pub fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        if let Some(e) = &self.error {
            return writeln!(w, "layout:      not resolved: {e}");
        }
        let basis = match (&self.table, &self.dwarf) {
            (Some(t), Some(f)) => format!("built-in table {t}, DWARF of {f}"),
            (Some(t), None) => format!("built-in table {t}"),
            (None, Some(f)) => format!("DWARF of {f}, no built-in table"),
            (None, None) => "no built-in table".to_string(),
        };
        writeln!(w, "layout:      CPython {} ({basis})", self.version.as_deref().unwrap_or("?"))?;
        writeln!(w)?;
        let mut t = Table::new(["FIELD", "OFFSET", "SOURCE", "C"]);
        for r in &self.fields {
            let c = r.c.join(" | ");
            t.row([
                r.field.clone(),
                r.offset.map_or_else(|| "-".to_string(), |o| o.to_string()),
                r.source.to_string(),
                r.module.map_or(c.clone(), |m| format!("{c} ({m})")),
            ]);
        }
        t.write(w)?;
        if !self.warnings.is_empty() {
            writeln!(w)?;
            for warning in &self.warnings {
                writeln!(w, "warning: {warning}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapscope_cpython::layout::Flavour;
    use heapscope_cpython::PythonVersion;

    #[test]
    fn rows_name_c_members_and_sources() {
        let v = PythonVersion::from_hex(0x030d00f0).unwrap();
        let mut layout = Layout::unknown(v, Flavour::Default);
        layout.field_mut("InterpreterState.modules").unwrap().set(7656, Source::DebugOffsets);
        layout.basis.table = Some("3.13");
        let report = LayoutReport::collect::<String>(Ok((layout, vec!["careful".into()])));
        let row = report.fields.iter().find(|r| r.field == "InterpreterState.modules").unwrap();
        assert_eq!(row.c, ["PyInterpreterState.imports.modules", "PyInterpreterState.modules"]);
        assert_eq!((row.offset, row.source), (Some(7656), Source::DebugOffsets));
        let size = report.fields.iter().find(|r| r.field == "ThreadState.size").unwrap();
        assert_eq!(size.c, ["sizeof(PyThreadState)"]);
        assert_eq!(size.module, None);
        let ext = report.fields.iter().find(|r| r.field == "StgInfo.module").unwrap();
        assert_eq!(ext.c, ["StgInfo.module"]);
        assert_eq!(ext.module, Some("_ctypes"));
        let mut out = Vec::new();
        report.write_table(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("InterpreterState.modules"), "{text}");
        assert!(text.contains("warning: careful"), "{text}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["table"], "3.13");
        assert!(json["fields"].as_array().unwrap().iter().any(|f| f["source"] == "debug_offsets"));
    }
}
