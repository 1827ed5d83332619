//! `layoutgen [--check] [--out FILE] [--fixture DIR] [KEY=]LIBPYTHON…`
//!
//! Derives the 3.8–3.13 tables from the DWARF of the given libpython builds (one per minor version, 3.8 to 3.13),
//! takes the 3.14 tables from `src/py314.rs`, checks the `3.14.5` table on the py314 fixture (`--fixture`, default
//! `testdata/py314`), and writes `crates/cpython/src/layout/tables.rs` (`--out`). With `--check` it compares with the
//! file instead, prints the differences and exits with status 1 if there are any.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use heapscope_cpython::layout::{Flavour, Layout};
use heapscope_cpython::PythonVersion;
use layoutgen::derive::{display_path, from_libpython, Derived};
use layoutgen::render::{tables_rs, Confirmation, Table};
use layoutgen::{confirm, py314};

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
            "-h" | "--help" => {
                println!("usage: layoutgen [--check] [--out FILE] [--fixture DIR] [KEY=]LIBPYTHON...");
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
    let confirmation = confirm_314(&fixture, &t3145)?;
    let mut tables: Vec<Table> = derived.iter().map(|d| (d.key.clone(), d.values.clone())).collect();
    tables.push(("3.14.0".into(), t3140));
    tables.push(("3.14.5".into(), t3145));
    let command = format!("cargo run --release -p layoutgen -- {}", recorded.join(" "));
    let text = tables_rs(&derived, py314::ROWS, &tables, &confirmation, &command);

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
        "wrote {} ({} tables, {} 3.14.5 values confirmed)",
        out.display(),
        tables.len(),
        confirmation.confirmed.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// The 3.14.0 and 3.14.5 tables from the hand-written rows, in schema order; every row must name a schema field once.
fn py314_tables() -> anyhow::Result<(Fields, Fields)> {
    let version = PythonVersion::from_hex(0x030e00f0).context("3.14.0")?;
    let order: Vec<String> =
        Layout::unknown(version, Flavour::Default).all_fields().into_iter().map(|(n, _)| n).collect();
    let mut seen = std::collections::HashSet::new();
    for r in py314::ROWS {
        if !order.iter().any(|n| n == r.field) {
            bail!("py314.rs: {} is not a field of the layout schema", r.field);
        }
        if !seen.insert(r.field) {
            bail!("py314.rs: {} is listed twice", r.field);
        }
    }
    let column = |pick: fn(&py314::Row) -> Option<u32>| -> Fields {
        order
            .iter()
            .filter_map(|n| py314::ROWS.iter().find(|r| r.field == n).and_then(|r| Some((n.clone(), pick(r)?))))
            .collect()
    };
    Ok((column(|r| r.v3140), column(|r| r.v3145)))
}

/// Checks the 3.14.5 table on the py314 fixture; any failed check is an error.
fn confirm_314(fixture: &Path, table: &[(String, u32)]) -> anyhow::Result<Confirmation> {
    let report = confirm::confirm(fixture, None, Some(table))?;
    let v = report.version;
    if (v.major, v.minor) != (3, 14) || v.micro < 5 {
        bail!("{} is CPython {v}, not 3.14.5 or later", fixture.display());
    }
    if !report.failures.is_empty() {
        bail!("the 3.14.5 table fails on {}:\n  {}", fixture.display(), report.failures.join("\n  "));
    }
    let shown = fixture.canonicalize().ok();
    let rel = shown
        .as_deref()
        .and_then(|f| f.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().ok()?).ok())
        .map_or_else(|| fixture.display().to_string(), |p| p.display().to_string());
    Ok(Confirmation { fixture: format!("{rel} (CPython {})", report.version), confirmed: report.confirmed })
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
