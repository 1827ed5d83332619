//! The report as GitHub-flavoured Markdown, for a ticket: a heading per section, GFM tables, paths in inline code
//! and thread stacks in fenced code blocks. Text from the core is escaped ([`text`]: every Markdown punctuation
//! character and `|`; [`code`]: a backtick fence longer than any run inside, `|` escaped for tables).

use std::io::{self, Write};

use super::{owners_total, unlisted, FullReport};
use crate::alive::Owner;
use crate::format::{count, human_bytes, human_count};
use crate::table::longest_run;

/// A section: its heading and its writer. A new section is one more row and one more function.
type Section = (&'static str, fn(&FullReport, &mut dyn Write) -> io::Result<()>);

const SECTIONS: &[Section] = &[
    ("Process", process),
    ("Memory by type", types),
    ("Biggest owners", owners),
    ("Leak suspects", leaks),
    ("Garbage and cycles", garbage),
    ("Thread stacks", stacks),
    ("Asyncio tasks", tasks),
    ("What to change", waste),
    ("What grew", growth),
];

/// Writes the report.
pub(super) fn write(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "# heapscope report: Python {}", text(&r.process.python))?;
    let shown = |title: &str| match title {
        "What grew" => r.baseline.is_some(),
        "Asyncio tasks" => r.tasks.is_some(),
        _ => true,
    };
    for (title, section) in SECTIONS.iter().filter(|s| shown(s.0)) {
        writeln!(w, "\n## {title}\n")?;
        section(r, w)?;
    }
    writeln!(
        w,
        "\n---\n\nThe first {} rows of each table. For every object, reference and root: `heapscope export CORE -o \
         DIR` (Parquet tables) and `heapscope query CORE 'SELECT …'` (SQL over them).",
        r.options.top
    )
}

fn waste(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    if r.waste.advice.is_empty() {
        return writeln!(w, "No waste found.");
    }
    writeln!(w, "Savings of different kinds may overlap; `heapscope waste CORE` lists more.\n")?;
    header(w, &[("Saves", true), ("Kind", false), ("Count", true), ("Change", false), ("Example", false)])?;
    for a in &r.waste.advice {
        row(
            w,
            [
                count(a.bytes_saved),
                text(&a.kind),
                count(a.count),
                text(&a.change),
                a.path.as_deref().map(code).unwrap_or_default(),
            ],
        )?;
    }
    Ok(())
}

fn growth(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let Some(d) = &r.baseline else { return Ok(()) };
    // The diff's own Markdown, its headings one level down.
    let mut body = Vec::new();
    crate::report::Report::write_markdown(d, &mut body)?;
    let body = String::from_utf8_lossy(&body);
    for line in body.lines().skip_while(|l| l.starts_with("## ") || l.is_empty()) {
        if line.starts_with('#') {
            writeln!(w, "#{line}")?;
        } else {
            writeln!(w, "{line}")?;
        }
    }
    Ok(())
}

/// Text in a table cell or a paragraph: Markdown punctuation backslash-escaped, newlines as spaces.
pub(super) fn text(s: &str) -> String {
    crate::md_escape(s)
}

/// Inline code that shows `s` as it is, also in a table cell: [`crate::md_code`], `|` escaped (GFM splits cells
/// before code spans).
pub(super) fn code(s: &str) -> String {
    crate::md_code(s).replace('|', "\\|")
}

/// A table row.
fn row<I: IntoIterator<Item = String>>(w: &mut dyn Write, cells: I) -> io::Result<()> {
    let cells: Vec<String> = cells.into_iter().collect();
    writeln!(w, "| {} |", cells.join(" | "))
}

/// A table header: names, then `---:` for a right-aligned (numeric) column.
fn header(w: &mut dyn Write, cols: &[(&str, bool)]) -> io::Result<()> {
    row(w, cols.iter().map(|(c, _)| (*c).to_owned()))?;
    row(w, cols.iter().map(|(_, num)| if *num { "---:" } else { "---" }.to_owned()))
}

fn opt(v: Option<i64>) -> String {
    v.map_or_else(|| "?".to_owned(), |v| v.to_string())
}

fn process(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let p = &r.process;
    let s = &r.summary;
    header(w, &[("What", false), ("Value", false)])?;
    row(w, ["Python".into(), text(&p.python)])?;
    row(w, ["Process id".into(), opt(p.pid)])?;
    if let Some(c) = &p.command_line {
        row(w, ["Command line".into(), code(c)])?;
    }
    if let Some(e) = &p.executable {
        row(w, ["Executable".into(), code(e)])?;
    }
    row(w, ["Threads".into(), format!("{} ({} Python)", p.threads, r.stacks.threads.len())])?;
    row(w, ["Objects".into(), count(s.objects.count)])?;
    row(w, ["Bytes (sys.getsizeof)".into(), format!("{} ({})", human_bytes(s.objects.bytes), count(s.objects.bytes))])?;
    row(w, ["Footprint".into(), format!("{} ({})", human_bytes(s.objects.footprint), count(s.objects.footprint))])?;
    row(w, ["References".into(), count(s.references)])?;
    row(w, ["Core file".into(), format!("{} ({})", code(&p.core), human_bytes(p.core_size))])?;
    for warning in p.warnings.iter().chain(&s.warnings) {
        writeln!(w, "\n> **Warning:** {}", text(warning))?;
    }
    if let Some(u) = &s.unverified_version {
        writeln!(w, "\n> **Warning:** {}", text(&u.to_string()))?;
    }
    Ok(())
}

fn types(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let s = &r.summary;
    let shown = &s.types[..s.types.len().min(r.options.top)];
    writeln!(w, "The {} types with the largest footprint, of {}.\n", shown.len(), count(s.types_total))?;
    header(w, &[("Type", false), ("Objects", true), ("Bytes", true), ("Footprint", true), ("Share", true)])?;
    let pct = |v: u64| format!("{:.1} %", 100.0 * v as f64 / s.objects.footprint.max(1) as f64);
    for t in shown {
        row(w, [code(&t.type_name), count(t.count), human_bytes(t.bytes), human_bytes(t.footprint), pct(t.footprint)])?;
    }
    let rest = &s.types[shown.len()..];
    if !rest.is_empty() {
        let (c, b, f) = rest.iter().fold((0, 0, 0), |(c, b, f), t| (c + t.count, b + t.bytes, f + t.footprint));
        row(
            w,
            [format!("*{} other types*", count(rest.len() as u64)), count(c), human_bytes(b), human_bytes(f), pct(f)],
        )?;
    }
    Ok(())
}

fn owners(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let t = &r.owners;
    writeln!(
        w,
        "The tops of the dominator tree by retained size ({} objects, {} reachable); the tree below the first ones \
         is indented.\n",
        human_count(t.reachable.0),
        human_bytes(t.reachable.1)
    )?;
    header(w, &[("Retained", true), ("Objects", true), ("Type", false), ("Address", false), ("Path", false)])?;
    fn rows(w: &mut dyn Write, o: &Owner, depth: usize) -> io::Result<()> {
        let indent = "&nbsp;&nbsp;".repeat(depth * 2);
        let arrow = if depth > 0 { "└ " } else { "" };
        row(
            w,
            [
                human_bytes(o.retained_bytes),
                count(o.retained_count),
                format!("{indent}{arrow}{}", code(&o.type_name)),
                format!("`{}`", o.address),
                o.path.as_deref().map(code).unwrap_or_default(),
            ],
        )?;
        for c in &o.children {
            rows(w, c, depth + 1)?;
        }
        let (count, bytes) = unlisted(o);
        if !o.children.is_empty() && count > 0 {
            let indent = "&nbsp;&nbsp;".repeat((depth + 1) * 2);
            row(
                w,
                [
                    human_bytes(bytes),
                    crate::format::count(count),
                    format!("{indent}└ *more*"),
                    String::new(),
                    String::new(),
                ],
            )?;
        }
        Ok(())
    }
    for o in &t.owners {
        rows(w, o, 0)?;
    }
    let (c, b) = owners_total(&t.owners);
    if t.reachable.1 > b {
        row(
            w,
            [
                human_bytes(t.reachable.1 - b),
                count(t.reachable.0.saturating_sub(c)),
                "*other owners*".into(),
                String::new(),
                String::new(),
            ],
        )?;
    }
    Ok(())
}

fn leaks(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let l = &r.leaks;
    if l.suspects.is_empty() {
        writeln!(w, "No owner retains more than {:.0} % of the reachable heap.", 100.0 * l.threshold)?;
    } else {
        writeln!(w, "Owners retaining more than {:.0} % of the reachable heap.\n", 100.0 * l.threshold)?;
        header(
            w,
            &[
                ("Suspect", false),
                ("Address", false),
                ("Retained", true),
                ("Share", true),
                ("Accumulates in", false),
                ("Path", false),
            ],
        )?;
        for s in &l.suspects {
            let a = &s.accumulation;
            row(
                w,
                [
                    code(&s.type_name),
                    format!("`{}`", s.address),
                    human_bytes(s.retained_bytes),
                    format!("{:.1} %", 100.0 * s.share),
                    format!("{} at `{}` ({})", code(&a.type_name), a.address, human_bytes(a.retained_bytes)),
                    a.path.as_deref().or(s.path.as_deref()).map(code).unwrap_or_default(),
                ],
            )?;
        }
    }
    writeln!(
        w,
        "\n### Leak roots\n\n{} objects are held from outside the heap by references no root or object accounts for.\n",
        count(l.roots_total)
    )?;
    if l.roots.is_empty() {
        return Ok(());
    }
    header(
        w,
        &[
            ("Address", false),
            ("Type", false),
            ("Refcount", true),
            ("Referrers", true),
            ("Excess", true),
            ("Retained", true),
        ],
    )?;
    for x in &l.roots {
        row(
            w,
            [
                format!("`{}`", x.address),
                code(&x.type_name),
                x.refcount.to_string(),
                count(x.referrers),
                count(x.excess),
                human_bytes(x.retained_bytes),
            ],
        )?;
    }
    let more = l.roots_total.saturating_sub(l.roots.len() as u64);
    if more > 0 {
        writeln!(w, "\n…and {} more.", count(more))?;
    }
    Ok(())
}

fn garbage(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let g = &r.garbage;
    writeln!(
        w,
        "`gc.collect()` would find {} unreachable objects (of {} it looks at) and free {} objects, {}.\n",
        count(g.count),
        count(g.candidates),
        count(g.freed.count),
        human_bytes(g.freed.bytes)
    )?;
    if !g.types.is_empty() {
        let shown = &g.types[..g.types.len().min(r.options.top)];
        header(w, &[("Unreachable type", false), ("Objects", true), ("Bytes", true)])?;
        for t in shown {
            row(w, [code(&t.type_name), count(t.count), human_bytes(t.bytes)])?;
        }
        let rest = &g.types[shown.len()..];
        if !rest.is_empty() {
            let (c, b) = rest.iter().fold((0, 0), |(c, b), t| (c + t.count, b + t.bytes));
            row(w, [format!("*{} other types*", count(rest.len() as u64)), count(c), human_bytes(b)])?;
        }
    }
    let c = &r.cycles;
    writeln!(
        w,
        "\n### Reference cycles\n\n{} reference cycles: {} live, {} garbage.\n",
        count(c.count),
        count(c.live),
        count(c.garbage)
    )?;
    if r.cycle_pictures.is_empty() {
        return Ok(());
    }
    header(w, &[("Objects", true), ("Status", false), ("First", false), ("Types", false)])?;
    for (p, row_) in r.cycle_pictures.iter().zip(&c.cycles) {
        row(
            w,
            [
                count(p.size),
                p.status.to_owned(),
                row_.objects.first().map(|a| format!("`{a}`")).unwrap_or_default(),
                code(&p.signature),
            ],
        )?;
    }
    Ok(())
}

fn stacks(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let s = &r.stacks;
    writeln!(w, "Each Python thread's stack, most recent call last.")?;
    for t in &s.threads {
        let mut title = match t.tid {
            Some(tid) => format!("Thread {tid}"),
            None => format!("Thread ident {:#x}", t.ident),
        };
        if let Some(name) = &t.name {
            title.push_str(&format!(" ({name})"));
        }
        if t.holds_gil {
            title.push_str(" [holds the GIL]");
        }
        writeln!(w, "\n### {}\n", text(&title))?;
        let mut lines = Vec::new();
        if t.frames.is_empty() && t.errors.is_empty() {
            lines.push("(no Python frames)".to_owned());
        }
        lines.extend(t.errors.iter().map(|e| format!("error: {e}")));
        lines.extend(t.warnings.iter().map(|e| format!("incomplete: {e}")));
        for f in t.frames.iter().rev() {
            let file = f.file.as_deref().unwrap_or("???");
            let line = f.line.map_or_else(|| "?".to_owned(), |l| l.to_string());
            let func = f.qualname.as_deref().or(f.function.as_deref()).unwrap_or("???");
            lines.push(format!("  File \"{file}\", line {line}, in {func}"));
            lines.extend(f.errors.iter().map(|e| format!("    error: {e}")));
        }
        let body = lines.join("\n");
        let fence = "`".repeat(longest_run(&body, '`').max(2) + 1);
        writeln!(w, "{fence}text\n{body}\n{fence}")?;
    }
    for p in &s.problems {
        writeln!(w, "\n> **Error:** {}", text(p))?;
    }
    Ok(())
}

fn tasks(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let Some(t) = &r.tasks else {
        return Ok(());
    };
    writeln!(w, "**{}**\n", text(&t.headline))?;
    writeln!(
        w,
        "Pending tasks grouped by where they are suspended, outermost coroutine first; a group retains what would be \
         freed if all of its tasks were gone. `heapscope tasks CORE` lists every task.\n"
    )?;
    writeln!(w, "| Tasks | Retained | Suspended at |\n|---:|---:|---|")?;
    for g in &t.groups {
        let stack: Vec<String> = g.stack.iter().map(|e| code(&crate::tasks::render::place(e))).collect();
        let stack = if stack.is_empty() { "(no coroutine frame)".to_owned() } else { stack.join(" › ") };
        writeln!(
            w,
            "| {} | {} | {stack} |",
            count(g.count as u64),
            g.retained_bytes.map_or_else(|| "?".to_owned(), human_bytes)
        )?;
    }
    if t.more_groups > 0 {
        writeln!(w, "| {} more groups | | |", count(t.more_groups as u64))?;
    }
    if t.errors > 0 {
        writeln!(
            w,
            "\n> **Error:** {} parts of the tasks could not be decoded: `heapscope tasks CORE` lists them.",
            t.errors
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_code_are_escaped() {
        assert_eq!(text("a|b <i>*x*</i>"), "a\\|b \\<i\\>\\*x\\*\\</i\\>");
        assert_eq!(code("d['a|b']"), "`d['a\\|b']`");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(longest_run("a```b``", '`'), 3);
    }
}
