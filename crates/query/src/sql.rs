//! `heapscope query`: SQL over the [tables](crate::tables), with polars SQL.
//!
//! Only the tables the statement names are built (the `edges` table of a big heap costs seconds and memory that a
//! question about `objects` should not pay). An error from polars (an unknown table or column, a syntax error) is
//! returned with the list of the tables and their columns, so the next attempt can be right.

use polars::prelude::*;
use polars::sql::SQLContext;

use crate::tables::{TableKind, TablesError};

/// What can go wrong running a query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The statement names none of the tables.
    #[error("the query names no table; the tables are:\n{tables}")]
    NoTable {
        /// The tables and their columns, one per line.
        tables: String,
    },
    /// polars rejected or failed the statement.
    #[error("{message}\nthe tables are:\n{tables}")]
    Sql {
        /// polars' message.
        message: String,
        /// The tables and their columns, one per line.
        tables: String,
    },
    /// A table could not be built.
    #[error(transparent)]
    Table(#[from] TablesError),
}

/// The tables a statement names: every identifier equal (ignoring case) to a table's name. A name inside a string
/// literal counts too; that only builds a table for nothing.
pub fn tables_named(sql: &str) -> Vec<TableKind> {
    let words: Vec<String> =
        sql.split(|c: char| !(c.is_alphanumeric() || c == '_')).map(str::to_ascii_lowercase).collect();
    TableKind::ALL.into_iter().filter(|t| words.iter().any(|w| w == t.name())).collect()
}

/// The columns a statement may use: every identifier in it, lower case; `None` when it selects every column (a
/// `*` other than `count(*)`).
pub fn columns_named(sql: &str) -> Option<Vec<String>> {
    let compact: String = sql.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.replace("(*)", "").contains('*') {
        return None;
    }
    let mut words: Vec<String> = sql
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words.sort();
    words.dedup();
    Some(words)
}

/// Every table and its columns, one line each: `objects(dump_id, id, …)`.
pub fn describe_tables() -> String {
    TableKind::ALL.iter().map(|t| format!("  {}({})", t.name(), t.columns().join(", "))).collect::<Vec<_>>().join("\n")
}

/// Runs `sql` over the tables `build` makes (called once per table the statement names).
pub fn run(
    sql: &str,
    mut build: impl FnMut(TableKind) -> Result<DataFrame, TablesError>,
) -> Result<DataFrame, QueryError> {
    let named = tables_named(sql);
    if named.is_empty() {
        return Err(QueryError::NoTable { tables: describe_tables() });
    }
    let mut ctx = SQLContext::new();
    for kind in named {
        ctx.register(kind.name(), build(kind)?.lazy());
    }
    let sql_error = |e: PolarsError| QueryError::Sql { message: e.to_string(), tables: describe_tables() };
    ctx.execute(sql).map_err(sql_error)?.collect().map_err(sql_error)
}

/// How a query's result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFormat {
    /// Aligned text ([`write_text`]).
    Table,
    /// A JSON array of row objects.
    Json,
    /// CSV with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

/// Writes a query's result in `format`.
pub fn write_result(df: &mut DataFrame, format: ResultFormat, w: &mut dyn std::io::Write) -> PolarsResult<()> {
    use crate::export::{write_frame, ExportFormat};
    match format {
        ResultFormat::Table => write_text(df, w)?,
        ResultFormat::Json => {
            write_frame(df, ExportFormat::Json, w)?;
            writeln!(w)?;
        }
        ResultFormat::Csv => write_frame(df, ExportFormat::Csv, w)?,
        ResultFormat::Parquet => write_frame(df, ExportFormat::Parquet, w)?,
    }
    Ok(())
}

/// Writes `df` as an aligned text table: a header, a rule, then one line per row (numbers right-aligned); null is
/// empty.
pub fn write_text(df: &DataFrame, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let columns = df.columns();
    let mut cells: Vec<Vec<String>> = Vec::with_capacity(columns.len());
    for c in columns {
        let mut col = vec![c.name().to_string()];
        for i in 0..df.height() {
            col.push(match c.get(i) {
                Ok(AnyValue::Null) | Err(_) => String::new(),
                Ok(AnyValue::String(s)) => s.to_string(),
                Ok(AnyValue::StringOwned(s)) => s.to_string(),
                Ok(v) => v.to_string(),
            });
        }
        cells.push(col);
    }
    let widths: Vec<usize> = cells.iter().map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    let right: Vec<bool> = columns.iter().map(|c| c.dtype().is_primitive_numeric()).collect();
    for row in 0..=df.height() {
        let mut line = String::new();
        for (k, col) in cells.iter().enumerate() {
            if k > 0 {
                line.push_str("  ");
            }
            let pad = widths[k] - col[row].chars().count();
            let last = k + 1 == cells.len();
            if right[k] {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(&col[row]);
            } else {
                line.push_str(&col[row]);
                if !last {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        writeln!(w, "{}", line.trim_end())?;
        if row == 0 {
            let rule: Vec<String> = widths.iter().map(|&n| "-".repeat(n)).collect();
            writeln!(w, "{}", rule.join("  "))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects() -> DataFrame {
        let t = Column::new("type".into(), ["str", "dict", "str", "é"]);
        let s = Column::new("size".into(), [50u64, 232, 60, 1]);
        DataFrame::new(4, vec![t, s]).unwrap()
    }

    #[test]
    fn tables_are_found_by_name_in_the_statement() {
        assert_eq!(
            tables_named("SELECT * FROM objects o JOIN Edges e ON o.id = e.src"),
            [TableKind::Objects, TableKind::Edges]
        );
        assert_eq!(tables_named("select 1 from objectsx"), []);
    }

    #[test]
    fn the_columns_a_statement_uses() {
        let named = columns_named("SELECT type, count(*) FROM objects WHERE Retained_Bytes > 1").unwrap();
        assert!(named.contains(&"retained_bytes".to_owned()) && named.contains(&"type".to_owned()));
        assert!(!named.contains(&"preview".to_owned()));
        assert_eq!(columns_named("SELECT * FROM objects"), None);
        assert_eq!(columns_named("SELECT o.* FROM objects o"), None);
        assert_eq!(columns_named("SELECT 2*size FROM objects"), None, "a product is not told from a star");
    }

    #[test]
    fn group_by_and_errors_that_list_the_tables() {
        let build = |k: TableKind| {
            assert_eq!(k, TableKind::Objects, "only the named table is built");
            Ok(objects())
        };
        let df = run("SELECT type, count(*) AS n, sum(size) AS bytes FROM objects GROUP BY type ORDER BY type", build)
            .unwrap();
        let mut text = Vec::new();
        write_text(&df, &mut text).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "type  n  bytes\n----  -  -----\ndict  1    232\nstr   2    110\né     1      1\n"
        );

        let err = run("SELECT nosuch FROM objects", |_| Ok(objects())).unwrap_err().to_string();
        assert!(err.contains("nosuch") && err.contains("objects(dump_id, id,"), "{err}");
        let err = run("SELECT 1 FROM nowhere", |_| Ok(objects())).unwrap_err().to_string();
        assert!(err.contains("names no table") && err.contains("edges("), "{err}");
    }
}
