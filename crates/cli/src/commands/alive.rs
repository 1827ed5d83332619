//! `heapscope retained|top|path|leaks CORE`: the liveness analyses.

use std::io::Write;

use anyhow::{bail, Context};
use heapscope_analysis::alive::Alive;
use heapscope_coredump::{Addr, CoreProcess};
use heapscope_cpython::objects::Heap;
use heapscope_query::alive::{LeaksReport, Paths, PathsReport, RetainedReport, TopBy, TopOptions, TopReport};
use heapscope_query::cycles::{CyclesReport, DrawnCycles};
use heapscope_snapshot::ObjectId;

use super::emit::{check, emit};
use super::heap::Opened;
use crate::args::{self, CyclesArgs, LeaksArgs, ObjectArgs, PathArgs, TopArgs};
use crate::progress::phase;

/// Runs the analyses on an opened core.
fn analyse(opened: &Opened) -> anyhow::Result<Alive<'_>> {
    phase("computing the dominator tree", || Alive::new(&opened.snapshot)).context("cannot compute the dominator tree")
}

/// The shortest paths from the roots, for naming objects by their path.
fn paths<'a, 'h, 'p>(
    alive: &'a Alive<'a>,
    heap: &'h Heap<'p, CoreProcess>,
    redact: bool,
) -> Paths<'a, 'h, 'p, CoreProcess> {
    phase("finding the paths from the roots", || Paths::new(alive, heap).redact(redact))
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
    check::<RetainedReport>("retained", a.heap.format)?;
    let opened = super::heap::open(&a.heap)?;
    let id = object(&opened, a.addr, &a.heap.core.core, "retained")?;
    let alive = analyse(&opened)?;
    let report = phase("collecting what it retains", || RetainedReport::collect(&alive, id));
    emit(&report, "retained", a.heap.format, out)?;
    super::heap::finish(&opened, a.heap.verbose, out)
}

/// `heapscope top CORE`.
pub fn top(a: &TopArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    check::<TopReport>("top", a.heap.format)?;
    let opened = super::heap::open(&a.heap)?;
    let alive = analyse(&opened)?;
    let heap = Heap::new(&opened.process, &opened.layout);
    let paths = paths(&alive, &heap, a.privacy.redact);
    let by = match a.by {
        args::TopBy::Retained => TopBy::Retained,
        args::TopBy::Size => TopBy::Size,
        args::TopBy::Count => TopBy::Count,
    };
    let opts = TopOptions { by, type_name: a.type_name.clone(), depth: a.depth, limit: a.limit };
    let report = phase("collecting the biggest owners", || TopReport::collect(&alive, &paths, &opts));
    emit(&report, "top", a.heap.format, out)?;
    super::heap::finish(&opened, a.heap.verbose, out)
}

/// `heapscope path CORE ADDR`.
pub fn path(a: &PathArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    check::<PathsReport>("path", a.heap.format)?;
    let opened = super::heap::open(&a.heap)?;
    let id = object(&opened, a.addr, &a.heap.core.core, "path")?;
    let alive = analyse(&opened)?;
    let heap = Heap::new(&opened.process, &opened.layout);
    let paths = paths(&alive, &heap, a.privacy.redact);
    let report = phase("finding its paths", || PathsReport::collect(&paths, &opened.snapshot, id, a.all.max(1)));
    emit(&report, "path", a.heap.format, out)?;
    super::heap::finish(&opened, a.heap.verbose, out)
}

/// `heapscope leaks CORE`.
pub fn leaks(a: &LeaksArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    check::<LeaksReport>("leaks", a.heap.format)?;
    if !(0.0..=1.0).contains(&a.threshold) {
        bail!("--threshold {} is not a share between 0 and 1 (0.1 is 10 %)", a.threshold);
    }
    let opened = super::heap::open(&a.heap)?;
    let alive = analyse(&opened)?;
    let heap = Heap::new(&opened.process, &opened.layout);
    let paths = paths(&alive, &heap, a.privacy.redact);
    let report = phase("looking for leaks", || LeaksReport::collect(&alive, &paths, a.threshold, a.limit));
    emit(&report, "leaks", a.heap.format, out)?;
    super::heap::finish(&opened, a.heap.verbose, out)
}

/// Nodes drawn per cycle with `--format dot`.
const MAX_DOT_NODES: usize = 50;

/// `heapscope cycles CORE`.
pub fn cycles(a: &CyclesArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    check::<DrawnCycles<CoreProcess>>("cycles", a.heap.format)?;
    let opened = super::heap::open(&a.heap)?;
    let alive = analyse(&opened)?;
    let garbage = phase("simulating gc.collect()", || heapscope_analysis::garbage::garbage(&opened.snapshot));
    let report = phase("finding reference cycles", || CyclesReport::collect(&alive, &garbage, a.limit));
    let heap = Heap::new(&opened.process, &opened.layout);
    emit(&report.drawn(&heap, &alive, MAX_DOT_NODES, a.privacy.redact), "cycles", a.heap.format, out)?;
    super::heap::finish(&opened, a.heap.verbose, out)
}
