//! `heapscope diff OLD NEW`: what changed between two dumps of one process.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use heapscope_analysis::alive::Alive;
use heapscope_coredump::{build_id_hex, ProcessImage};
use heapscope_cpython::objects::Heap;
use heapscope_query::alive::Paths;
use heapscope_query::diff::{DiffOptions, DiffReport, Dump};

use super::emit::{check, emit};
use super::heap::Opened;
use crate::args::{CoreArgs, DiffArgs};
use crate::progress::phase;

/// The arguments of one of the two cores.
fn core_args(a: &DiffArgs, core: &Path) -> CoreArgs {
    CoreArgs {
        core: core.to_owned(),
        sysroot: a.sysroot.clone(),
        search_paths: a.search_paths.clone(),
        snapshot: None,
        no_cache: a.no_cache,
        withheld_tables: Vec::new(),
    }
}

/// What must be equal for two dumps to be compared: the Python version and the interpreter binary (the file that
/// holds `_PyRuntime`, by build-id when it has one).
fn interpreter(o: &Opened) -> (String, String) {
    let version = o.python.version.to_string();
    let binary = o.python.object.and_then(|i| o.process.objects().get(i)).map(|obj| {
        let id = obj.build_id.as_deref().map(build_id_hex).unwrap_or_else(|| "no build-id".to_owned());
        format!("{} (build-id {id})", obj.path.display())
    });
    (version, binary.unwrap_or_else(|| "an unknown interpreter binary".to_owned()))
}

/// Refuses two dumps that are not of the same executable and Python version.
fn same_program(old: &Opened, new: &Opened, old_path: &Path, new_path: &Path) -> anyhow::Result<()> {
    let ((ov, ob), (nv, nb)) = (interpreter(old), interpreter(new));
    let same_binary = match (old.python.object, new.python.object) {
        (Some(i), Some(j)) => {
            let (x, y) = (&old.process.objects()[i], &new.process.objects()[j]);
            match (&x.build_id, &y.build_id) {
                (Some(p), Some(q)) => p == q,
                _ => x.path == y.path,
            }
        }
        _ => ob == nb,
    };
    if ov != nv || !same_binary {
        bail!(
            "{} and {} are not dumps of the same program: the first runs Python {ov} from {ob}, the second Python \
             {nv} from {nb}; `heapscope diff` compares two dumps of one process (or of one build of a program), and \
             `heapscope summary` describes each on its own",
            old_path.display(),
            new_path.display()
        );
    }
    Ok(())
}

fn pid(o: &Opened) -> Option<i64> {
    o.process.core().process().map(|p| i64::from(p.pid))
}

/// Compares two opened dumps (refusing two of different programs): what `diff` and `report --baseline` show.
pub fn compare(
    old: &Opened,
    new: &Opened,
    (old_path, new_path): (&Path, &Path),
    redact: bool,
    limit: usize,
) -> anyhow::Result<DiffReport> {
    same_program(old, new, old_path, new_path)?;
    let alive_old = phase("computing the dominator tree of OLD", || Alive::new(&old.snapshot))
        .context("cannot compute the dominator tree of OLD")?;
    let alive_new = phase("computing the dominator tree of NEW", || Alive::new(&new.snapshot))
        .context("cannot compute the dominator tree of NEW")?;
    let heap_old = Heap::new(&old.process, &old.layout);
    let heap_new = Heap::new(&new.process, &new.layout);
    let paths_old =
        phase("finding the paths from the roots in OLD", || Paths::new(&alive_old, &heap_old).redact(redact));
    let paths_new =
        phase("finding the paths from the roots in NEW", || Paths::new(&alive_new, &heap_new).redact(redact));
    let dump =
        |core: &Path, o: &Opened, alive, paths| Dump { core: core.display().to_string(), pid: pid(o), alive, paths };
    let (d_old, d_new) = (dump(old_path, old, &alive_old, &paths_old), dump(new_path, new, &alive_new, &paths_new));
    let same_process = d_old.pid.is_some() && d_old.pid == d_new.pid;
    Ok(phase("comparing the dumps", || DiffReport::collect(&d_old, &d_new, same_process, DiffOptions { limit })))
}

/// Opens one of the two cores of a comparison, naming it in errors.
pub fn open(which: &str, a: &CoreArgs) -> anyhow::Result<Opened> {
    super::heap::open_core(a).with_context(|| format!("{which} {}", a.core.display()))
}

/// `heapscope diff OLD NEW`.
pub fn run(a: &DiffArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    check::<DiffReport>("diff", a.format)?;
    let old = open("OLD", &core_args(a, &a.old))?;
    let new = open("NEW", &core_args(a, &a.new))?;
    let report = compare(&old, &new, (&a.old, &a.new), a.privacy.redact, a.limit)?;
    emit(&report, "diff", a.format, out)?;
    let finished_old = super::heap::finish(&old, a.verbose, out).with_context(|| format!("in OLD {}", a.old.display()));
    let finished_new = super::heap::finish(&new, a.verbose, out).with_context(|| format!("in NEW {}", a.new.display()));
    finished_old.and(finished_new)
}
