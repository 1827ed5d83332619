//! `heapscope report`: every finding about a core on one page, as self-contained HTML or GitHub-flavoured Markdown.
//!
//! [`FullReport`] is plain data composed from the other reports, collected by their own collectors: the process
//! (from [`InfoReport`]), the type histogram ([`SummaryReport`]), the biggest owners as the dominator tree
//! ([`TopReport`]), the leak suspects and roots ([`LeaksReport`]) with the path of each suspect's accumulation point
//! drawn, the garbage ([`GarbageReport`]) and the largest reference cycles ([`CyclesReport`]) drawn, the thread
//! stacks ([`StacksReport`]), the pending asyncio tasks by where they are stuck ([`TasksReport`]), the waste advice ([`WasteReport`]) and, given a baseline dump, what grew since
//! ([`DiffReport`]). The renderers (`html`, `markdown`) write one section per function, in the order
//! of their `SECTIONS` table, and show the first [`FullOptions::top`] rows of each table with an "others" row for
//! the rest: the page stays bounded whatever the heap's size, and points to `export` and `query` for everything.

mod html;
mod markdown;
mod svg;

use std::io::{self, Write};

use heapscope_analysis::alive::Alive;
use heapscope_analysis::garbage::garbage;
use heapscope_coredump::{Addr, ProcessImage};
use heapscope_cpython::objects::{Heap, PreviewOptions};
use heapscope_cpython::Detection;
use serde::Serialize;

use crate::alive::{LeaksReport, Owner, PathReport, Paths, TopBy, TopOptions, TopReport};
use crate::cycles::{signature_text_short, CyclesReport};
use crate::diff::DiffReport;
use crate::garbage::GarbageReport;
use crate::info::InfoReport;
use crate::report::{Format, Report};
use crate::stacks::StacksReport;
use crate::summary::SummaryReport;
use crate::tasks::{GroupReport, TasksOptions, TasksReport};
use crate::waste::WasteReport;

pub use html::escape_html;

/// How much of each finding the report shows.
#[derive(Debug, Clone, Serialize)]
pub struct FullOptions {
    /// Rows per table (types, owners, leak roots, garbage types, task groups); the rest is summed in an "others" row.
    pub top: usize,
    /// Leak suspects and reference cycles drawn.
    pub pictures: usize,
    /// Objects drawn per cycle.
    pub cycle_nodes: usize,
    /// The share of the reachable heap a leak suspect retains at least.
    pub threshold: f64,
    /// Strings and bytes in previews and dict-key labels as their length and hash (`--redact`).
    pub redact: bool,
}

impl Default for FullOptions {
    /// 50 rows per table, 10 pictures of at most 12 objects, suspects above 10 %.
    fn default() -> Self {
        FullOptions { top: 50, pictures: 10, cycle_nodes: 12, threshold: 0.1, redact: false }
    }
}

/// Pieces of waste advice shown.
const WASTE_ADVICE: usize = 15;

/// Levels of the dominator tree shown below each of the first owners, and children per level.
const TREE_DEPTH: usize = 2;
/// Owners (and children per owner) opened as a tree.
const TREE_FANOUT: usize = 8;

/// The process that was dumped, as the report's first section shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessFacts {
    /// The core file, as given.
    pub core: String,
    /// Its size on disk.
    pub core_size: u64,
    /// The Python version.
    pub python: String,
    /// Process id.
    pub pid: Option<i64>,
    /// The command line as the kernel recorded it.
    pub command_line: Option<String>,
    /// The executable.
    pub executable: Option<String>,
    /// Threads of the process (Python or not).
    pub threads: usize,
    /// Problems met while opening the core and finding Python.
    pub warnings: Vec<String>,
}

impl ProcessFacts {
    /// The facts of `info` about the process running `python`.
    pub fn new(info: &InfoReport, python: &Detection) -> ProcessFacts {
        ProcessFacts {
            core: info.file.path.clone(),
            core_size: info.file.size,
            python: python.version.to_string(),
            pid: info.process.pid,
            command_line: info.process.command_line.clone(),
            executable: info.process.executable.clone(),
            threads: info.threads.len(),
            warnings: info.warnings.iter().chain(&python.warnings).cloned().collect(),
        }
    }
}

/// One object of a picture.
#[derive(Debug, Clone, Serialize)]
pub struct PictureNode {
    /// The object.
    pub address: Addr,
    /// Its type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// A short `repr()`-like preview.
    pub preview: String,
}

/// A leak suspect's picture: the path from a root to its accumulation point, through the suspect.
#[derive(Debug, Clone, Serialize)]
pub struct SuspectPicture {
    /// The suspect.
    pub suspect: Addr,
    /// Its accumulation point (the suspect itself when nothing below it holds most of its memory).
    pub accumulation: Addr,
    /// The path to the accumulation point (the suspect dominates it, so the path passes through the suspect).
    pub path: PathReport,
    /// Each step's object, in the path's order.
    pub nodes: Vec<PictureNode>,
}

/// A reference cycle's picture.
#[derive(Debug, Clone, Serialize)]
pub struct CyclePicture {
    /// `live` or `garbage`.
    pub status: &'static str,
    /// Objects in the cycle.
    pub size: u64,
    /// Its type signature (`Node×2, dict`).
    pub signature: String,
    /// The objects drawn.
    pub nodes: Vec<PictureNode>,
    /// The references among them: indices into `nodes` and the label.
    pub edges: Vec<(usize, usize, String)>,
}

/// The pending asyncio tasks, grouped by where they are suspended: what `heapscope tasks` prints first.
#[derive(Debug, Clone, Serialize)]
pub struct TasksSection {
    /// The first line of `heapscope tasks` ("300 pending tasks on 1 event loop; 300 stuck in …, holding …").
    pub headline: String,
    /// Pending tasks.
    pub count: usize,
    /// The largest groups (by retained bytes, then count), at most [`FullOptions::top`].
    pub groups: Vec<GroupReport>,
    /// Groups not shown.
    pub more_groups: usize,
    /// Parts of the tasks that could not be decoded.
    pub errors: usize,
}

/// Everything `heapscope report` shows.
#[derive(Debug, Serialize)]
pub struct FullReport {
    /// How much is shown.
    pub options: FullOptions,
    /// The process.
    pub process: ProcessFacts,
    /// The type histogram (every type; the renderers show the first rows).
    pub summary: SummaryReport,
    /// The biggest owners (the tops of the dominator tree), the first ones with the tree below them.
    pub owners: TopReport,
    /// Leak suspects and leak roots.
    pub leaks: LeaksReport,
    /// The first suspects' paths, drawn.
    pub suspect_pictures: Vec<SuspectPicture>,
    /// What `gc.collect()` would free.
    pub garbage: GarbageReport,
    /// The largest reference cycles, live or garbage.
    pub cycles: CyclesReport,
    /// Those cycles, drawn.
    pub cycle_pictures: Vec<CyclePicture>,
    /// Every thread's Python stack.
    pub stacks: StacksReport,
    /// The pending asyncio tasks; `None` when there are none.
    pub tasks: Option<TasksSection>,
    /// What to change to use less memory.
    pub waste: WasteReport,
    /// With `--baseline OLD`: what grew since OLD.
    pub baseline: Option<DiffReport>,
}

impl FullReport {
    /// Runs every analysis the report shows over the snapshot of `alive`.
    pub fn collect<P: ProcessImage + ?Sized + Sync>(
        process: ProcessFacts,
        stacks: StacksReport,
        alive: &Alive<'_>,
        heap: &Heap<'_, P>,
        paths: &Paths<'_, '_, '_, P>,
        opts: &FullOptions,
    ) -> FullReport {
        let snap = alive.snapshot();
        let summary = SummaryReport::collect(snap, None);
        let owners = owners(alive, paths, opts.top);
        let leaks = LeaksReport::collect(alive, paths, opts.threshold, opts.top);
        let preview = PreviewOptions { max_str_chars: 40, max_items: 3, depth: 1, redact: opts.redact };
        let node = |address: Addr, type_name: &str| PictureNode {
            address,
            type_name: type_name.to_owned(),
            preview: heap.preview(address, &preview),
        };
        let suspect_pictures = leaks
            .suspects
            .iter()
            .take(opts.pictures)
            .filter_map(|s| {
                let acc = snap.id_of(s.accumulation.address)?;
                let path = paths.path(acc)?;
                let nodes = path.steps.iter().map(|st| node(st.address, &st.type_name)).collect();
                Some(SuspectPicture { suspect: s.address, accumulation: s.accumulation.address, path, nodes })
            })
            .collect();
        let g = garbage(snap);
        let garbage = GarbageReport::of(snap, &g);
        let cycles = pick_cycles(CyclesReport::collect(alive, &g, usize::MAX), opts.pictures);
        let cycle_pictures = cycles
            .cycles
            .iter()
            .map(|c| {
                let d = c.drawing(heap, alive, opts.cycle_nodes, opts.redact);
                let index = |id| d.nodes.iter().position(|&n| n == id).unwrap_or(0);
                CyclePicture {
                    status: c.status,
                    size: c.size,
                    signature: signature_text_short(&c.types, 4),
                    nodes: d.nodes.iter().map(|&id| node(snap.addr(id), snap.type_name(id))).collect(),
                    edges: d.edges.iter().map(|(a, b, l)| (index(*a), index(*b), l.clone())).collect(),
                }
            })
            .collect();
        FullReport {
            options: opts.clone(),
            process,
            summary,
            owners,
            leaks,
            suspect_pictures,
            garbage,
            cycles,
            cycle_pictures,
            stacks,
            tasks: tasks_section(snap, heap, opts),
            waste: WasteReport::collect(alive, heap, paths, WASTE_ADVICE, opts.redact),
            baseline: None,
        }
    }
}

/// The asyncio section: the largest groups of pending tasks with what each group retains (not the generators'
/// groups, which the section does not show); `None` when no task is pending (or the retained sets could not be
/// computed).
fn tasks_section<P: ProcessImage + ?Sized + Sync>(
    snap: &heapscope_snapshot::Snapshot,
    heap: &Heap<'_, P>,
    opts: &FullOptions,
) -> Option<TasksSection> {
    let mut t = TasksOptions { retained: true, ..TasksOptions::default() };
    t.preview.redact = opts.redact;
    let r = TasksReport::collect(snap, heap, &t).ok().filter(|r| r.count > 0)?;
    Some(TasksSection {
        headline: r.headline(),
        count: r.count,
        more_groups: r.groups.len().saturating_sub(opts.top),
        groups: r.groups.into_iter().take(opts.top).collect(),
        errors: r.errors,
    })
}

/// The `top` biggest owners; the first [`TREE_FANOUT`] with the dominator tree below them, [`TREE_DEPTH`] levels.
fn owners<P: ProcessImage + ?Sized>(alive: &Alive<'_>, paths: &Paths<'_, '_, '_, P>, top: usize) -> TopReport {
    let flat = TopOptions { by: TopBy::Retained, type_name: None, depth: 0, limit: top };
    let mut report = TopReport::collect(alive, paths, &flat);
    let deep = TopOptions { depth: TREE_DEPTH, limit: TREE_FANOUT.min(top), ..flat };
    let tree = TopReport::collect(alive, paths, &deep);
    // Both rank the same tops the same way: graft the trees onto the first owners.
    for (o, t) in report.owners.iter_mut().zip(tree.owners) {
        debug_assert_eq!(o.address, t.address);
        if o.address == t.address {
            o.children = t.children;
        }
    }
    report
}

/// The `n` cycles drawn: the largest garbage ones and the largest live ones, half each (more of one kind when the
/// other has fewer), largest first. The largest cycles overall are live (a module's functions, its dict and its
/// types), and would leave the garbage, a leak's usual shape, undrawn.
fn pick_cycles(all: CyclesReport, n: usize) -> CyclesReport {
    let garbage_total = all.cycles.iter().filter(|c| c.status == "garbage").count();
    let live_total = all.cycles.len() - garbage_total;
    let garbage_n = (n / 2).min(garbage_total);
    let live_n = (n - garbage_n).min(live_total);
    let garbage_n = (n - live_n).min(garbage_total);
    let (mut live, mut garbage) = (0, 0);
    let cycles = all
        .cycles
        .into_iter()
        .filter(|c| {
            let (taken, max) = if c.status == "garbage" { (&mut garbage, garbage_n) } else { (&mut live, live_n) };
            *taken += 1;
            *taken <= max
        })
        .collect();
    CyclesReport { cycles, ..all }
}

/// What an owner retains besides itself and the children listed: objects and bytes (the children beyond the
/// first ones, and their trees).
fn unlisted(o: &Owner) -> (u64, u64) {
    let (c, b) = owners_total(&o.children);
    (o.retained_count.saturating_sub(1 + c), o.retained_bytes.saturating_sub(o.size + b))
}

/// The sum of what a list of owners retains, the tree below them not counted twice.
fn owners_total(owners: &[Owner]) -> (u64, u64) {
    owners.iter().fold((0, 0), |(c, b), o| (c + o.retained_count, b + o.retained_bytes))
}

impl Report for FullReport {
    const FORMATS: &'static [Format] = &[Format::Html, Format::Markdown, Format::Json];

    /// The report has no table of its own: its text form is the Markdown.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        self.write_markdown(w)
    }

    fn write_markdown(&self, w: &mut dyn Write) -> io::Result<()> {
        markdown::write(self, w)
    }

    fn write_html(&self, w: &mut dyn Write) -> io::Result<()> {
        html::write(self, w)
    }
}

#[cfg(test)]
mod tests {
    use heapscope_cpython::heap::roots::RootDescription;
    use heapscope_cpython::{PythonVersion, ReleaseLevel, RuntimeSource, VersionSource};

    use super::*;
    use crate::alive::{Accumulation, LeakRoot, PathRoot, Step, Suspect};
    use crate::garbage::{Freed, GarbageType};
    use crate::stacks::{FrameReport, ThreadReport};
    use crate::summary::{Totals, TypeRow};

    const EVIL: &str = "<script>alert('x')</script>";

    /// Text from a hostile core: markup, quotes, an ampersand, a pipe and a backtick.
    fn evil(s: &str) -> String {
        format!("{EVIL}{s}\"'&|`")
    }

    /// A report whose every string from the core is markup.
    fn hostile() -> FullReport {
        let python = Detection {
            version: PythonVersion { major: 3, minor: 12, micro: 1, level: ReleaseLevel::Final, serial: 0 },
            version_source: VersionSource::PyVersionSymbol,
            runtime: Addr(0x1000),
            runtime_source: RuntimeSource::Symbol,
            object: None,
            warnings: vec![evil("warning")],
        };
        let totals = Totals { count: 3, bytes: 300, footprint: 320 };
        let summary = SummaryReport {
            python: "3.12.1".into(),
            objects: totals,
            references: 2,
            types: vec![TypeRow { type_name: evil("type"), count: 3, bytes: 300, footprint: 320 }],
            types_total: 1,
            categories: Vec::new(),
            errors: 0,
            warnings: Vec::new(),
            unverified_version: None,
        };
        let owner = Owner {
            address: Addr(0x10),
            type_name: evil("owner"),
            size: 100,
            retained_count: 3,
            retained_bytes: 300,
            retained_footprint: 320,
            path: Some(evil("path")),
            children: Vec::new(),
        };
        let path = PathReport {
            root: PathRoot {
                kind: "module".into(),
                description: RootDescription { text: evil("root"), ..RootDescription::default() },
            },
            text: evil("path"),
            steps: vec![Step { address: Addr(0x10), type_name: evil("step"), label: evil("label") }],
        };
        let node = PictureNode { address: Addr(0x10), type_name: evil("node"), preview: evil("preview") };
        FullReport {
            options: FullOptions::default(),
            process: ProcessFacts {
                core: evil("core"),
                core_size: 10,
                python: "3.12.1".into(),
                pid: Some(1),
                command_line: Some(evil("cmd")),
                executable: Some(evil("exe")),
                threads: 1,
                warnings: python.warnings.clone(),
            },
            summary,
            owners: TopReport { reachable: (3, 300), owners: vec![owner] },
            leaks: LeaksReport {
                roots: vec![LeakRoot {
                    address: Addr(0x20),
                    type_name: evil("root"),
                    refcount: 2,
                    referrers: 1,
                    excess: 1,
                    retained_bytes: 10,
                }],
                roots_total: 1,
                suspects: vec![Suspect {
                    address: Addr(0x10),
                    type_name: evil("suspect"),
                    retained_bytes: 300,
                    share: 1.0,
                    accumulation: Accumulation {
                        address: Addr(0x10),
                        type_name: evil("acc"),
                        retained_bytes: 300,
                        path: Some(evil("path")),
                    },
                    path: Some(evil("path")),
                }],
                suspect_types: Vec::new(),
                threshold: 0.1,
            },
            suspect_pictures: vec![SuspectPicture {
                suspect: Addr(0x10),
                accumulation: Addr(0x10),
                path,
                nodes: vec![node.clone()],
            }],
            garbage: GarbageReport {
                python: "3.12.1".into(),
                count: 1,
                objects: vec![Addr(0x30)],
                freed: Freed { count: 1, bytes: 10, footprint: 16 },
                certainly_freed: Freed::default(),
                uncollectable: Vec::new(),
                may_resurrect: Vec::new(),
                candidates: 3,
                types: vec![GarbageType { type_name: evil("garbage"), count: 1, bytes: 10 }],
                cycles: Vec::new(),
                overcounted: 0,
                warnings: Vec::new(),
            },
            cycles: CyclesReport { count: 0, live: 0, garbage: 0, cycles: Vec::new() },
            cycle_pictures: vec![CyclePicture {
                status: "garbage",
                size: 20,
                signature: evil("sig"),
                nodes: vec![node.clone(), node],
                edges: vec![(0, 1, evil("edge")), (1, 1, evil("self"))],
            }],
            stacks: StacksReport {
                python,
                threads: vec![ThreadReport {
                    tid: Some(1),
                    tid_source: None,
                    ident: 1,
                    name: Some(evil("thread")),
                    holds_gil: true,
                    interpreter: Some(0),
                    tstate: Addr(0x40),
                    frames: vec![FrameReport {
                        function: Some(evil("func")),
                        qualname: None,
                        file: Some(evil("file")),
                        line: Some(1),
                        firstlineno: Some(1),
                        locals: None,
                        errors: vec![evil("frame error")],
                    }],
                    more_frames: 0,
                    more_frames_at_least: false,
                    incomplete: false,
                    warnings: Vec::new(),
                    errors: Vec::new(),
                    asyncio: None,
                }],
                problems: vec![evil("problem")],
                errors: 1,
                locals: None,
                warnings: Vec::new(),
                unverified_version: None,
            },
            tasks: Some(TasksSection {
                headline: evil("headline"),
                count: 1,
                groups: vec![GroupReport {
                    count: 1,
                    kind: None,
                    stack: vec![crate::tasks::StackEntry {
                        function: Some(evil("coroutine").into()),
                        file: Some(evil("tasks.py").into()),
                        line: Some(1),
                        locals: None,
                    }],
                    examples: vec![0x50],
                    retained_bytes: Some(100),
                    retained_count: Some(1),
                    in_tasks: None,
                }],
                more_groups: 1,
                errors: 1,
            }),
            waste: WasteReport {
                python: "3.12.1".into(),
                advice: vec![crate::waste::Advice {
                    kind: "duplicates".into(),
                    bytes_saved: 640,
                    size_bytes: Some(560),
                    count: 11,
                    example: Some(Addr(0x10)),
                    type_name: evil("waste type"),
                    path: Some(evil("waste path")),
                    change: evil("change"),
                    evidence: evil("evidence"),
                }],
                notes: vec![evil("waste note")],
            },
            baseline: Some(hostile_diff()),
        }
    }

    fn hostile_diff() -> DiffReport {
        use crate::diff::{
            DumpFacts, ObjectChange, ObjectExample, OwnerDelta, Reused, Surviving, TypeDelta, TypeTotal,
        };
        let facts =
            |side: &str| DumpFacts { core: evil(side), pid: Some(1), python: "3.12.1".into(), objects: 10, bytes: 100 };
        let change = ObjectChange {
            count: 1,
            bytes: 10,
            types: vec![TypeTotal { type_name: evil("changed type"), count: 1, bytes: 10 }],
            examples: vec![ObjectExample {
                address: Addr(0x10),
                type_name: evil("example"),
                size: 10,
                path: Some(evil("example path")),
            }],
        };
        DiffReport {
            old: facts("old"),
            new: facts("new"),
            objects_matched: true,
            types: vec![TypeDelta {
                type_name: evil("grown type"),
                old_count: 1,
                new_count: 2,
                delta_count: 1,
                old_bytes: 10,
                new_bytes: 20,
                delta_bytes: 10,
            }],
            owners: vec![OwnerDelta {
                path: evil("owner path"),
                type_name: evil("owner type"),
                old_address: Some(Addr(0x10)),
                new_address: Some(Addr(0x10)),
                old_retained_bytes: 10,
                new_retained_bytes: 20,
                delta_bytes: 10,
                old_retained_count: 1,
                new_retained_count: 2,
                delta_count: 1,
            }],
            new_objects: change.clone(),
            freed_objects: change,
            surviving: Surviving { count: 9, bytes: 90 },
            reused_addresses: Reused { count: 1, examples: vec![Addr(0x10)] },
            notes: vec![evil("diff note")],
        }
    }

    fn written(r: &FullReport, format: Format) -> String {
        let mut out = Vec::new();
        r.write(format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn html_escapes_every_string_from_the_core() {
        let html = written(&hostile(), Format::Html);
        assert!(!html.contains(EVIL), "raw markup from the core in the page");
        assert_eq!(html.matches("<script").count(), 1, "only the page's own script");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;type"));
        assert!(html.contains("data-type=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;type&quot;&#39;&amp;|`\""));
        for hook in ["id=\"total-objects\"", "id=\"total-bytes\"", "id=\"types-table\"", "id=\"top-suspect\""] {
            assert!(html.contains(hook), "{hook}");
        }
        assert!(html.contains("id=\"garbage-count\" data-value=\"1\""));
        assert!(html.contains("+18 more"), "a cycle drawn in part says how many objects are left out");
    }

    #[test]
    fn markdown_escapes_every_string_from_the_core() {
        let md = written(&hostile(), Format::Markdown);
        // Markup from the core appears only in code blocks and at the start of inline code, shown as text.
        let mut in_block = false;
        for line in md.lines() {
            if line.starts_with("```") {
                in_block = !in_block;
                continue;
            }
            if in_block {
                continue;
            }
            for (i, _) in line.match_indices(EVIL) {
                let before = &line[..i];
                assert!(before.ends_with('`') || before.ends_with("`` "), "raw markup outside code: {line}");
            }
        }
        assert!(!in_block, "a code block is not closed");
        // In inline code (types, paths) the markup is shown as it is, with `|` escaped for the table.
        assert!(md.contains("`` <script>alert('x')</script>type\"'&\\|` ``"), "{md}");
        // In text (warnings, thread names) every Markdown punctuation character is escaped.
        assert!(md.contains("\\<script\\>alert\\('x'\\)\\</script\\>thread"), "{md}");
    }
}
