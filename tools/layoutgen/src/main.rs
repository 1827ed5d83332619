//! `layoutgen [--check] [--out FILE] [--fixture DIR] [--fixture315 DIR] [KEY=]LIBPYTHON…`
//!
//! Derives the 3.8–3.13 tables from the DWARF of the given libpython builds (one per minor version, 3.8 to 3.13),
//! takes the 3.14 tables from `src/py314.rs` and the 3.15 one from `src/py315.rs`, adds numpy's structs
//! (`src/numpy.rs`) to every table, checks the `3.14.5` table on the
//! py314 fixture (`--fixture`, default `testdata/py314`) and the `3.15` table on the py315 fixture (`--fixture315`,
//! default `testdata/py315`), and writes `crates/cpython/src/layout/tables.rs` (`--out`). With `--check` it compares
//! with the file instead, prints the differences and exits with status 1 if there are any.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use heapscope_cpython::layout::{Flavour, Layout};
use heapscope_cpython::PythonVersion;
use layoutgen::derive::{display_path, from_libpython, Derived};
use layoutgen::render::{tables_rs, Confirmation, Table};
use layoutgen::{confirm, numpy, py314, py315};

/// (`Struct.field`, offset) in schema order.
type Fields = Vec<(String, u32)>;

const KEYS: &[&str] = &["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"];

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("layoutgen: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let repo = repo.canonicalize().unwrap_or(repo);
    let mut check = false;
    let mut out = repo.join("crates/cpython/src/layout/tables.rs");
    let mut fixture = repo.join("testdata/py314");
    let mut fixture315 = repo.join("testdata/py315");
    let mut inputs: Vec<(Option<String>, PathBuf)> = Vec::new();
    let mut recorded: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--out" => out = PathBuf::from(args.next().context("--out needs a file")?),
            "--fixture" => {
                let dir = args.next().context("--fixture needs a directory")?;
                recorded.push(format!("--fixture {dir}"));
                fixture = PathBuf::from(dir);
            }
            "--fixture315" => {
                let dir = args.next().context("--fixture315 needs a directory")?;
                recorded.push(format!("--fixture315 {dir}"));
                fixture315 = PathBuf::from(dir);
            }
            "-h" | "--help" => {
                println!(
                    "usage: layoutgen [--check] [--out FILE] [--fixture DIR] [--fixture315 DIR] [KEY=]LIBPYTHON..."
                );
                return Ok(ExitCode::SUCCESS);
            }
            _ if arg.starts_with('-') => bail!("unknown option {arg}"),
            _ => {
                let (key, path) = match arg.split_once('=') {
                    Some((k, p)) if k.starts_with("3.") => (Some(k.to_string()), PathBuf::from(p)),
                    _ => (None, PathBuf::from(&arg)),
                };
                let shown = display_path(&path);
                recorded.push(key.as_ref().map_or(shown.clone(), |k| format!("{k}={shown}")));
                inputs.push((key, path));
            }
        }
    }

    let mut derived: Vec<Derived> = Vec::new();
    for (key, path) in &inputs {
        derived.push(from_libpython(path, key.as_deref())?);
    }
    derived.sort_by_key(|d| KEYS.iter().position(|k| *k == d.key).unwrap_or(usize::MAX));
    let keys: Vec<&str> = derived.iter().map(|d| d.key.as_str()).collect();
    if keys != KEYS {
        bail!("give exactly one libpython per version {}; got {}", KEYS.join(", "), keys.join(", "));
    }

    let (t3140, t3145) = py314_tables()?;
    let t315 = py315_table()?;
    let confirmations = [
        confirm_hand(
            &fixture,
            "3.14.5",
            &t3145,
            py314::ROWS.iter().filter(|r| r.v3145.is_some()).map(|r| r.field),
            (14, 5),
            "from headers only",
        )?,
        confirm_hand(
            &fixture315,
            "3.15",
            &t315,
            py315::ROWS.iter().map(|r| r.field),
            (15, 0),
            "from headers, or the DWARF of the same build (see py315.rs)",
        )?,
    ];
    let mut tables: Vec<Table> = derived.iter().map(|d| (d.key.clone(), d.values.clone())).collect();
    tables.push(("3.14.0".into(), t3140));
    tables.push(("3.14.5".into(), t3145));
    tables.push(("3.15".into(), t315));
    add_numpy(&mut tables)?;
    let command = format!("cargo run --release -p layoutgen -- {}", recorded.join(" "));
    let text = tables_rs(&derived, py314::ROWS, &tables, &confirmations, &command);

    if check {
        report_tables(&tables);
        let old = std::fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?;
        if old == text {
            println!("{} is up to date ({} tables).", out.display(), tables.len());
            return Ok(ExitCode::SUCCESS);
        }
        println!("{} differs from what layoutgen generates:", out.display());
        print_diff(&old, &text);
        return Ok(ExitCode::from(1));
    }
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {} ({} tables, {} 3.14.5 and {} 3.15 values confirmed)",
        out.display(),
        tables.len(),
        confirmations[0].confirmed.len(),
        confirmations[1].confirmed.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Every field of the layout schema, in schema order.
fn schema_order() -> anyhow::Result<Vec<String>> {
    let version = PythonVersion::from_hex(0x030e00f0).context("3.14.0")?;
    Ok(Layout::unknown(version, Flavour::Default).all_fields().into_iter().map(|(n, _)| n).collect())
}

/// Fails unless every name is a schema field, listed once.
fn check_rows<'a>(file: &str, order: &[String], fields: impl Iterator<Item = &'a str>) -> anyhow::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for field in fields {
        if !order.iter().any(|n| n == field) {
            bail!("{file}: {field} is not a field of the layout schema");
        }
        if !seen.insert(field) {
            bail!("{file}: {field} is listed twice");
        }
    }
    Ok(())
}

/// Adds the numpy rows to every table, each table kept in schema order; every row must name a schema field once.
fn add_numpy(tables: &mut [Table]) -> anyhow::Result<()> {
    let order = schema_order()?;
    check_rows("numpy.rs", &order, numpy::ROWS.iter().map(|r| r.field))?;
    for (key, fields) in tables.iter_mut() {
        if let Some((f, _)) = fields.iter().find(|(f, _)| numpy::ROWS.iter().any(|r| r.field == f)) {
            bail!("the {key} table already has {f}");
        }
        fields.extend(numpy::ROWS.iter().map(|r| (r.field.to_string(), r.value)));
        fields.sort_by_key(|(name, _)| order.iter().position(|n| n == name));
    }
    Ok(())
}

/// The 3.14.0 and 3.14.5 tables from the hand-written rows, in schema order; every row must name a schema field once.
fn py314_tables() -> anyhow::Result<(Fields, Fields)> {
    let order = schema_order()?;
    check_rows("py314.rs", &order, py314::ROWS.iter().map(|r| r.field))?;
    let column = |pick: fn(&py314::Row) -> Option<u32>| -> Fields {
        order
            .iter()
            .filter_map(|n| py314::ROWS.iter().find(|r| r.field == n).and_then(|r| Some((n.clone(), pick(r)?))))
            .collect()
    };
    Ok((column(|r| r.v3140), column(|r| r.v3145)))
}

/// The 3.15 table from the hand-written rows, in schema order; every row must name a schema field once.
fn py315_table() -> anyhow::Result<Fields> {
    let order = schema_order()?;
    check_rows("py315.rs", &order, py315::ROWS.iter().map(|r| r.field))?;
    Ok(order.iter().filter_map(|n| py315::ROWS.iter().find(|r| r.field == n).map(|r| (n.clone(), r.value))).collect())
}

/// Checks the hand-written table `key` (its `rows`, in their order) on its fixture, which must be CPython
/// 3.`minor`.`micro` or a later patch release; any failed check is an error. `unconfirmed` says what the fields the
/// core did not confirm rest on.
fn confirm_hand<'a>(
    fixture: &Path,
    key: &str,
    table: &[(String, u32)],
    rows: impl Iterator<Item = &'a str>,
    (minor, micro): (u8, u8),
    unconfirmed: &'static str,
) -> anyhow::Result<Confirmation> {
    let report = confirm::confirm(fixture, None, Some(table))?;
    let v = report.version;
    if (v.major, v.minor) != (3, minor) || v.micro < micro {
        bail!("{} is CPython {v}, not 3.{minor}.{micro} or later", fixture.display());
    }
    if !report.failures.is_empty() {
        bail!("the {key} table fails on {}:\n  {}", fixture.display(), report.failures.join("\n  "));
    }
    let shown = fixture.canonicalize().ok();
    let rel = shown
        .as_deref()
        .and_then(|f| f.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().ok()?).ok())
        .map_or_else(|| fixture.display().to_string(), |p| p.display().to_string());
    Ok(Confirmation {
        key: key.to_string(),
        fixture: format!("{rel} (CPython {})", report.version),
        confirmed: report.confirmed,
        fields: rows.map(str::to_string).collect(),
        unconfirmed,
    })
}

/// Per table: whether what was derived equals what heapscope was built with (`heapscope_cpython::layout::TABLES`).
fn report_tables(tables: &[Table]) {
    for (key, fields) in tables {
        let Some((_, built)) = heapscope_cpython::layout::TABLES.iter().find(|(k, _)| k == key) else {
            println!("{key}: not in the built-in tables");
            continue;
        };
        let built: Vec<(String, u32)> = built.iter().map(|&(f, o)| (f.to_string(), o)).collect();
        if &built == fields {
            println!("{key}: identical ({} fields)", fields.len());
            continue;
        }
        let changed: Vec<String> = fields
            .iter()
            .filter(|f| !built.contains(f))
            .map(|(f, o)| {
                let was = built.iter().find(|(b, _)| b == f).map_or_else(|| "-".to_string(), |(_, o)| o.to_string());
                format!("{f} {was} -> {o}")
            })
            .chain(
                built.iter().filter(|(b, _)| !fields.iter().any(|(f, _)| f == b)).map(|(b, o)| format!("{b} {o} -> -")),
            )
            .collect();
        println!("{key}: {} differences: {}", changed.len(), changed.join(", "));
    }
}

/// A line diff: lines only in the old file with `-`, only in the new with `+` (by position, after the common head).
fn print_diff(old: &str, new: &str) {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..].iter().rev().zip(b[head..].iter().rev()).take_while(|(x, y)| x == y).count();
    println!("@@ line {} @@", head + 1);
    for l in &a[head..a.len() - tail] {
        println!("-{l}");
    }
    for l in &b[head..b.len() - tail] {
        println!("+{l}");
    }
}
