//! `heapscope retained|top|path|leaks CORE`: the liveness analyses.

use std::io::Write;

use anyhow::{bail, Context};
use heapscope_analysis::alive::Alive;
use heapscope_coredump::Addr;
use heapscope_cpython::heap::ObjectId;
use heapscope_cpython::objects::Heap;
use heapscope_query::alive::{
    write_json, LeaksReport, Paths, PathsReport, RetainedReport, TopBy, TopOptions, TopReport,
};
use heapscope_query::cycles::CyclesReport;

use super::heap::Opened;
use crate::args::{self, CyclesArgs, Format, LeaksArgs, ObjectArgs, PathArgs, TopArgs};

/// Runs the analyses on an opened core.
fn analyse(opened: &Opened) -> anyhow::Result<Alive<'_>> {
    Alive::new(&opened.snapshot).context("cannot compute the dominator tree")
}

/// The object at `addr`, or an error naming what contains it.
fn object(opened: &Opened, addr: u64, core: &std::path::Path, command: &str) -> anyhow::Result<ObjectId> {
    let s = &opened.snapshot;
    let addr = Addr(addr);
    if let Some(id) = s.id_of(addr) {
        return Ok(id);
    }
    match s.containing(addr) {
        Some(c) => bail!(
            "{addr} is not the start of an object: it lies inside the {} at {}; try `heapscope {command} {} {}`",
            s.type_name(c),
            s.addr(c),
            core.display(),
            s.addr(c)
        ),
        None => bail!("no object at {addr} in {}: `heapscope summary` lists the heap's types", core.display()),
    }
}

/// `heapscope retained CORE ADDR`.
pub fn retained(a: &ObjectArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    super::reject_dot(a.heap.format, "retained")?;
    let opened = super::heap::open(&a.heap)?;
    let id = object(&opened, a.addr, &a.heap.core.core, "retained")?;
    let alive = analyse(&opened)?;
    let report = RetainedReport::collect(&alive, id);
    match a.heap.format {
        Format::Table | Format::Dot => report.write_table(out)?,
        Format::Json => write_json(&report, out)?,
    }
    super::heap::finish(&opened, a.heap.verbose, out)
}

/// `heapscope top CORE`.
pub fn top(a: &TopArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    super::reject_dot(a.heap.format, "top")?;
    let opened = super::heap::open(&a.heap)?;
    let alive = analyse(&opened)?;
    let heap = Heap::new(&opened.process, &opened.layout);
    let paths = Paths::new(&alive, &heap);
    let by = match a.by {
        args::TopBy::Retained => TopBy::Retained,
        args::TopBy::Size => TopBy::Size,
        args::TopBy::Count => TopBy::Count,
    };
    let opts = TopOptions { by, type_name: a.type_name.clone(), depth: a.depth, limit: a.limit };
    let report = TopReport::collect(&alive, &paths, &opts);
    match a.heap.format {
        Format::Table | Format::Dot => report.write_table(out)?,
        Format::Json => write_json(&report, out)?,
    }
    super::heap::finish(&opened, a.heap.verbose, out)
}

/// `heapscope path CORE ADDR`.
pub fn path(a: &PathArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let opened = super::heap::open(&a.heap)?;
    let id = object(&opened, a.addr, &a.heap.core.core, "path")?;
    let alive = analyse(&opened)?;
    let heap = Heap::new(&opened.process, &opened.layout);
    let paths = Paths::new(&alive, &heap);
    let report = PathsReport::collect(&paths, &opened.snapshot, id, a.all.max(1));
    match a.heap.format {
        Format::Table => report.write_table(out)?,
        Format::Dot => report.write_dot(out)?,
        Format::Json => write_json(&report, out)?,
    }
    super::heap::finish(&opened, a.heap.verbose, out)
}

/// `heapscope leaks CORE`.
pub fn leaks(a: &LeaksArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    super::reject_dot(a.heap.format, "leaks")?;
    if !(0.0..=1.0).contains(&a.threshold) {
        bail!("--threshold {} is not a share between 0 and 1 (0.1 is 10 %)", a.threshold);
    }
    let opened = super::heap::open(&a.heap)?;
    let alive = analyse(&opened)?;
    let heap = Heap::new(&opened.process, &opened.layout);
    let paths = Paths::new(&alive, &heap);
    let report = LeaksReport::collect(&alive, &paths, a.threshold, a.limit);
    match a.heap.format {
        Format::Table | Format::Dot => report.write_table(out)?,
        Format::Json => write_json(&report, out)?,
    }
    super::heap::finish(&opened, a.heap.verbose, out)
}

/// Nodes drawn per cycle with `--format dot`.
const MAX_DOT_NODES: usize = 50;

/// `heapscope cycles CORE`.
pub fn cycles(a: &CyclesArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let opened = super::heap::open(&a.heap)?;
    let alive = analyse(&opened)?;
    let garbage = heapscope_analysis::garbage::garbage(&opened.snapshot);
    let report = CyclesReport::collect(&alive, &garbage, a.limit);
    match a.heap.format {
        Format::Table => report.write_table(out)?,
        Format::Json => write_json(&report, out)?,
        Format::Dot => {
            let heap = Heap::new(&opened.process, &opened.layout);
            report.write_dot(&heap, &opened.snapshot, &alive, MAX_DOT_NODES, out)?
        }
    }
    super::heap::finish(&opened, a.heap.verbose, out)
}
