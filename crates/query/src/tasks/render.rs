//! How `tasks` is drawn: the table (the largest group first, as a sentence), the await tree as `python -m asyncio
//! pstree` draws it, and the await graph as DOT.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use super::{StackEntry, TaskReport, TasksReport};
use crate::format::{count, human_bytes};
use crate::report::{Format, Report};
use crate::table::Table;

/// `function (file:line)` of a stack entry, the file shortened to its last component.
pub(crate) fn place(e: &StackEntry) -> String {
    let file = e.file.as_deref().map(|f| f.rsplit('/').next().unwrap_or(f)).unwrap_or("?");
    let line = e.line.map(|l| l.to_string()).unwrap_or_else(|| "?".into());
    format!("{} ({file}:{line})", e.function.as_deref().unwrap_or("?"))
}

fn stack_text(stack: &[StackEntry]) -> String {
    if stack.is_empty() {
        return "(no coroutine frame)".into();
    }
    stack.iter().map(place).collect::<Vec<_>>().join(" > ")
}

impl TasksReport {
    /// The first line: the largest group, as a sentence.
    pub(crate) fn headline(&self) -> String {
        let loops = self.loops.len();
        let mut s = format!(
            "{} pending task{} on {} event loop{}",
            count(self.count as u64),
            if self.count == 1 { "" } else { "s" },
            loops,
            if loops == 1 { "" } else { "s" }
        );
        if let Some(g) = self.groups.first() {
            let inner = g.stack.last().map(place).unwrap_or_else(|| "no coroutine frame".into());
            s.push_str(&format!("; {} stuck in {inner}", count(g.count as u64)));
            if let Some(b) = g.retained_bytes {
                s.push_str(&format!(", holding {}", human_bytes(b)));
            }
        }
        s
    }

    /// The await tree as `python -m asyncio pstree` draws it: each task nothing awaits at the top, its coroutines
    /// below it one level deeper each (outermost first), and the tasks it awaits below its innermost coroutine. A
    /// task already drawn is named again as `(see above)`; a task of a cycle says so instead of going round.
    fn write_tree(&self, w: &mut dyn Write) -> io::Result<()> {
        let at: HashMap<u64, &TaskReport> = self.tasks.iter().map(|t| (t.address, t)).collect();
        let mut drawn = HashSet::new();
        let mut tops: Vec<&TaskReport> = self.tasks.iter().filter(|t| t.awaited_by.is_empty()).collect();
        // The tasks only cycles reach: from the lowest address of each cycle not drawn yet.
        let cyclic: Vec<&TaskReport> =
            self.cycles.iter().filter_map(|c| c.first().and_then(|a| at.get(a).copied())).collect();
        for t in tops.drain(..).chain(cyclic) {
            if !drawn.contains(&t.address) {
                write_task(w, &at, t, "", true, &mut Vec::new(), &mut drawn)?;
            }
        }
        Ok(())
    }
}

/// `function file:line` as pstree labels a coroutine.
fn tree_label(e: &StackEntry) -> String {
    let line = e.line.map(|l| l.to_string()).unwrap_or_else(|| "?".into());
    format!("{} {}:{line}", e.function.as_deref().unwrap_or("?"), e.file.as_deref().unwrap_or("?"))
}

/// One task of the await tree and, below it, its coroutines and the tasks it awaits (see
/// [`TasksReport::write_tree`]).
fn write_task(
    w: &mut dyn Write,
    at: &HashMap<u64, &TaskReport>,
    t: &TaskReport,
    prefix: &str,
    last: bool,
    path: &mut Vec<u64>,
    drawn: &mut HashSet<u64>,
) -> io::Result<()> {
    let name = t.name.as_deref().unwrap_or("?");
    let branch = if last { "└── " } else { "├── " };
    let mut inner = format!("{prefix}{}", if last { "    " } else { "│   " });
    if path.contains(&t.address) {
        return writeln!(w, "{prefix}{branch}(T) {name} (a cycle: it awaits a task above)");
    }
    if !drawn.insert(t.address) {
        return writeln!(w, "{prefix}{branch}(T) {name} (see above)");
    }
    writeln!(w, "{prefix}{branch}(T) {name}")?;
    for e in &t.stack {
        writeln!(w, "{inner}└──  {}", tree_label(e))?;
        inner.push_str("    ");
    }
    let children: Vec<&TaskReport> = t.awaits.iter().filter_map(|a| at.get(a).copied()).collect();
    path.push(t.address);
    for (k, c) in children.iter().enumerate() {
        write_task(w, at, c, &inner, k + 1 == children.len(), path, drawn)?;
    }
    path.pop();
    Ok(())
}

impl Report for TasksReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json, Format::Dot];

    fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
        if self.tree {
            if self.tasks.is_empty() {
                writeln!(w, "no pending asyncio tasks")?;
            }
            self.write_tree(w)?;
            for c in &self.cycles {
                let list: Vec<String> = c.iter().map(|a| format!("{a:#x}")).collect();
                writeln!(w, "await cycle: {}", list.join(" -> "))?;
            }
            return Ok(());
        }
        writeln!(w, "{}", self.headline())?;
        for l in &self.loops {
            writeln!(
                w,
                "event loop {:#x}: {} pending, thread {}",
                l.address,
                count(l.pending as u64),
                l.thread.as_deref().unwrap_or("unknown (not running)")
            )?;
        }
        if !self.groups.is_empty() {
            writeln!(w, "\ntasks by stack, largest first:")?;
            let mut t = Table::new(["TASKS", "RETAINED", "STACK (outermost first)"]);
            for g in &self.groups {
                t.row([
                    count(g.count as u64),
                    g.retained_bytes.map(human_bytes).unwrap_or("-".into()),
                    stack_text(&g.stack),
                ]);
            }
            t.write(w)?;
        }
        if !self.tasks.is_empty() {
            writeln!(w, "\ntasks:")?;
            let names: HashMap<u64, &str> =
                self.tasks.iter().map(|t| (t.address, t.name.as_deref().unwrap_or("?"))).collect();
            let mut t = Table::new(["ADDRESS", "NAME", "CORO", "SUSPENDED IN", "AWAITED BY"]);
            for r in &self.tasks {
                let by: Vec<&str> = r.awaited_by.iter().map(|a| names.get(a).copied().unwrap_or("?")).collect();
                t.row([
                    format!("{:#x}", r.address),
                    r.name.clone().unwrap_or_default(),
                    r.coro.clone().unwrap_or_default(),
                    r.stack.last().map(place).unwrap_or_default(),
                    by.join(", "),
                ]);
            }
            t.write(w)?;
            for r in self.tasks.iter().filter(|r| r.stack.iter().any(|e| e.locals.is_some())) {
                writeln!(w, "\n{} {:#x}:", r.name.as_deref().unwrap_or("?"), r.address)?;
                for e in &r.stack {
                    writeln!(w, "  {}", place(e))?;
                    for (k, v) in e.locals.iter().flatten() {
                        writeln!(w, "    {k} = {v}")?;
                    }
                }
            }
        }
        for c in &self.cycles {
            let list: Vec<String> = c.iter().map(|a| format!("{a:#x}")).collect();
            writeln!(w, "\nawait cycle: {}", list.join(" -> "))?;
        }
        if !self.suspended_groups.is_empty() {
            writeln!(
                w,
                "\n{} suspended generators and coroutines (with a frame, not running), by place:",
                count(self.suspended.len() as u64)
            )?;
            let mut t = Table::new(["COUNT", "KIND", "RETAINED", "WHERE", "IN TASKS"]);
            for g in &self.suspended_groups {
                t.row([
                    count(g.count as u64),
                    g.kind.unwrap_or("").to_string(),
                    g.retained_bytes.map(human_bytes).unwrap_or("-".into()),
                    stack_text(&g.stack),
                    g.in_tasks.map(|n| count(n as u64)).unwrap_or_default(),
                ]);
            }
            t.write(w)?;
        }
        if self.errors > 0 {
            writeln!(w, "\n{} things could not be decoded:", count(self.errors as u64))?;
            for p in &self.problems {
                writeln!(w, "  {p}")?;
            }
        }
        Ok(())
    }

    fn write_dot(&self, w: &mut dyn Write) -> io::Result<()> {
        let in_cycle: HashSet<u64> = self.cycles.iter().flatten().copied().collect();
        writeln!(w, "digraph tasks {{")?;
        writeln!(w, "  rankdir=LR;")?;
        writeln!(w, "  node [shape=box, fontname=\"monospace\"];")?;
        for t in &self.tasks {
            let inner = t.stack.last().map(place).unwrap_or_default();
            let label = format!("{}\\n{}", dot_escape(t.name.as_deref().unwrap_or("?")), dot_escape(&inner));
            let color = if in_cycle.contains(&t.address) { ", color=red" } else { "" };
            writeln!(w, "  t{:x} [label=\"{label}\"{color}];", t.address)?;
        }
        for t in &self.tasks {
            for a in &t.awaits {
                writeln!(w, "  t{:x} -> t{:x};", t.address, a)?;
            }
        }
        writeln!(w, "}}")
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
