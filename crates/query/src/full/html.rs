//! The report as one self-contained HTML page: inline CSS (`report.css`), JS (`report.js`) and SVG, and a
//! Content-Security-Policy that lets the page fetch nothing. Every string that comes from the core (type names,
//! previews, labels, paths, file and function names) goes through [`escape_html`].
//!
//! Hooks for tests and scripts: `#total-objects` and `#total-bytes` (`data-value`: the summary's objects' count and
//! bytes), `#types-table` with one `tr[data-type]` per type, `#top-suspect` (`data-address`), `#garbage-count`,
//! `#tasks-headline` (`data-value`: the pending tasks) and `#tasks-table` with one `tr[data-tasks]` per group.
//! Every number shown rounded carries its exact value in `data-value` and in `title`.

use std::borrow::Cow;
use std::io::{self, Write};

use heapscope_coredump::Addr;

use super::{owners_total, svg, unlisted, FullReport};
use crate::alive::Owner;
use crate::format::{count, human_bytes, human_count};

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// A section of the page: its id, its title in the navigation, and its writer.
type Section = (&'static str, &'static str, fn(&FullReport, &mut dyn Write) -> io::Result<()>);

/// The sections, in page order. A new section is one more row and one more function.
const SECTIONS: &[Section] = &[
    ("process", "Process", process),
    ("types", "Memory by type", types),
    ("owners", "Biggest owners", owners),
    ("leaks", "Leak suspects", leaks),
    ("garbage", "Garbage & cycles", garbage),
    ("stacks", "Thread stacks", stacks),
    ("tasks", "Asyncio tasks", tasks),
    ("waste", "What to change", waste),
    ("growth", "What grew", growth),
];

/// Whether the report has something for section `id` (only a report with a baseline has `growth`, only a process
/// with pending asyncio tasks `tasks`).
fn shown(r: &FullReport, id: &str) -> bool {
    match id {
        "growth" => r.baseline.is_some(),
        "tasks" => r.tasks.is_some(),
        _ => true,
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'`: the text is safe in an element and in a quoted attribute, in HTML and SVG.
pub fn escape_html(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Bytes rounded, the exact value in `data-value` and `title`, in a table cell.
fn td_bytes(v: u64) -> String {
    format!("<td class=\"num\" data-value=\"{v}\" title=\"{} bytes\">{}</td>", count(v), human_bytes(v))
}

/// A count rounded, the exact value in `data-value` and `title`, in a table cell.
fn td_count(v: u64) -> String {
    format!("<td class=\"num\" data-value=\"{v}\" title=\"{}\">{}</td>", count(v), human_count(v))
}

/// Bytes rounded in running text.
fn span_bytes(v: u64, id: Option<&str>) -> String {
    let id = id.map(|i| format!(" id=\"{i}\"")).unwrap_or_default();
    format!("<span class=\"num\"{id} data-value=\"{v}\" title=\"{} bytes\">{}</span>", count(v), human_bytes(v))
}

/// A count rounded in running text.
fn span_count(v: u64, id: Option<&str>) -> String {
    let id = id.map(|i| format!(" id=\"{i}\"")).unwrap_or_default();
    format!("<span class=\"num\"{id} data-value=\"{v}\" title=\"{}\">{}</span>", count(v), human_count(v))
}

/// An address in monospace.
fn addr(a: Addr) -> String {
    format!("<code class=\"addr\">{a}</code>")
}

/// A signed count or byte delta: its sign (a minus sign for less) and its magnitude rounded.
fn signed(v: i64, bytes: bool) -> (&'static str, String) {
    let sign = match v.signum() {
        1 => "+",
        -1 => "−",
        _ => "",
    };
    (sign, if bytes { human_bytes(v.unsigned_abs()) } else { human_count(v.unsigned_abs()) })
}

/// A signed count or byte delta, exact value in `data-value` and `title`, in a table cell.
fn td_delta(v: i64, bytes: bool) -> String {
    let (sign, shown) = signed(v, bytes);
    let class = match v.signum() {
        1 => "num grew",
        -1 => "num shrank",
        _ => "num",
    };
    format!("<td class=\"{class}\" data-value=\"{v}\" title=\"{sign}{}\">{sign}{shown}</td>", count(v.unsigned_abs()))
}

fn waste(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let advice = &r.waste.advice;
    if advice.is_empty() {
        return writeln!(w, "<p>No waste found.</p>");
    }
    writeln!(
        w,
        "<p>What to change to use less memory, with the bytes each change would save (as the allocator counts them).          Savings of different kinds may overlap. <code>heapscope waste CORE</code> lists more.</p>"
    )?;
    writeln!(w, "<table class=\"sortable\" id=\"waste-table\">")?;
    writeln!(
        w,
        "<thead><tr><th data-sort=\"num\">Saves</th><th data-sort=\"text\">Kind</th><th data-sort=\"num\">Count</th>\
         <th data-sort=\"text\">Change</th><th data-sort=\"text\">Evidence</th></tr></thead>\n<tbody>"
    )?;
    for a in advice {
        let example = a
            .path
            .as_deref()
            .map(|p| format!("<div class=\"path\">e.g. <code>{}</code></div>", escape_html(p)))
            .unwrap_or_default();
        writeln!(
            w,
            "<tr>{}<td>{}</td>{}<td>{}</td><td>{}{example}</td></tr>",
            td_bytes(a.bytes_saved),
            escape_html(&a.kind),
            td_count(a.count),
            escape_html(&a.change),
            escape_html(&a.evidence)
        )?;
    }
    writeln!(w, "</tbody></table>")
}

fn growth(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let Some(d) = &r.baseline else { return Ok(()) };
    writeln!(
        w,
        "<p>Since <code>{}</code> (pid {}): {} objects, {}.</p>",
        escape_html(&d.old.core),
        opt(d.old.pid),
        td_inline(d.new.objects as i64 - d.old.objects as i64, false),
        td_inline(d.new.bytes as i64 - d.old.bytes as i64, true)
    )?;
    for n in &d.notes {
        writeln!(w, "<p class=\"muted\">{}</p>", escape_html(n))?;
    }
    writeln!(w, "<h3>By owner</h3>")?;
    if d.owners.is_empty() {
        writeln!(w, "<p>No owner changed.</p>")?;
    } else {
        writeln!(w, "<table class=\"sortable\" id=\"growth-owners\">")?;
        writeln!(
            w,
            "<thead><tr><th data-sort=\"num\">Δ retained</th><th data-sort=\"num\">Before</th>\
             <th data-sort=\"num\">Now</th><th data-sort=\"text\">Type</th><th data-sort=\"text\">Path</th></tr>\
             </thead>\n<tbody>"
        )?;
        for o in &d.owners {
            writeln!(
                w,
                "<tr>{}{}{}<td><code>{}</code></td><td><code>{}</code></td></tr>",
                td_delta(o.delta_bytes, true),
                td_bytes(o.old_retained_bytes),
                td_bytes(o.new_retained_bytes),
                escape_html(&o.type_name),
                escape_html(&o.path)
            )?;
        }
        writeln!(w, "</tbody></table>")?;
    }
    writeln!(w, "<h3>By type</h3>")?;
    writeln!(w, "<table class=\"sortable\" id=\"growth-types\">")?;
    writeln!(
        w,
        "<thead><tr><th data-sort=\"text\">Type</th><th data-sort=\"num\">Δ objects</th>\
         <th data-sort=\"num\">Δ bytes</th><th data-sort=\"num\">Objects now</th><th data-sort=\"num\">Bytes now</th>\
         </tr></thead>\n<tbody>"
    )?;
    let changed: Vec<_> = d.types.iter().filter(|t| t.delta_count != 0 || t.delta_bytes != 0).collect();
    for t in changed.iter().take(r.options.top) {
        writeln!(
            w,
            "<tr data-type=\"{name}\"><td><code>{name}</code></td>{}{}{}{}</tr>",
            td_delta(t.delta_count, false),
            td_delta(t.delta_bytes, true),
            td_count(t.new_count),
            td_bytes(t.new_bytes),
            name = escape_html(&t.type_name)
        )?;
    }
    writeln!(w, "</tbody></table>")?;
    if changed.len() > r.options.top {
        writeln!(
            w,
            "<p class=\"muted\">{} more types changed: <code>heapscope diff OLD NEW</code> lists them all.</p>",
            count((changed.len() - r.options.top) as u64)
        )?;
    }
    if d.objects_matched {
        writeln!(w, "<h3>New and freed objects</h3>\n<ul>")?;
        for (what, c) in [("New objects that survive", &d.new_objects), ("Freed objects", &d.freed_objects)] {
            let types: Vec<String> = c
                .types
                .iter()
                .take(5)
                .map(|t| format!("{} <code>{}</code>", count(t.count), escape_html(&t.type_name)))
                .collect();
            writeln!(
                w,
                "<li>{what}: {} ({}){}{}</li>",
                span_count(c.count, None),
                span_bytes(c.bytes, None),
                if types.is_empty() { "" } else { ": " },
                types.join(", ")
            )?;
        }
        writeln!(
            w,
            "<li>{} addresses hold another object of the same type than before (freed, then reused).</li>\n</ul>",
            span_count(d.reused_addresses.count, None)
        )?;
    }
    Ok(())
}

/// A signed delta in running text.
fn td_inline(v: i64, bytes: bool) -> String {
    let (sign, shown) = signed(v, bytes);
    format!("<span class=\"num\" data-value=\"{v}\" title=\"{sign}{}\">{sign}{shown}</span>", count(v.unsigned_abs()))
}

/// Writes the page.
pub(super) fn write(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let title = format!("heapscope report: Python {} (pid {})", r.process.python, opt(r.process.pid));
    writeln!(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
    writeln!(
        w,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
         script-src 'unsafe-inline'; img-src data:\">"
    )?;
    writeln!(w, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
    writeln!(w, "<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>", escape_html(&title))?;
    writeln!(w, "<header><h1>{}</h1>", escape_html(&title))?;
    writeln!(w, "<nav>")?;
    for (id, name, _) in SECTIONS.iter().filter(|s| shown(r, s.0)) {
        writeln!(w, "<a href=\"#{id}\">{name}</a>")?;
    }
    writeln!(w, "</nav></header>\n<main>")?;
    for (id, name, section) in SECTIONS.iter().filter(|s| shown(r, s.0)) {
        writeln!(w, "<section id=\"{id}\">\n<h2>{name}</h2>")?;
        section(r, w)?;
        writeln!(w, "</section>")?;
    }
    writeln!(w, "</main>")?;
    footer(r, w)?;
    writeln!(w, "<script>\n{JS}</script>\n</body>\n</html>")
}

fn opt(v: Option<i64>) -> String {
    v.map_or_else(|| "?".to_owned(), |v| v.to_string())
}

fn process(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let p = &r.process;
    let s = &r.summary;
    writeln!(w, "<div class=\"cards\">")?;
    let card = |w: &mut dyn Write, label: &str, value: String| {
        writeln!(w, "<div class=\"card\"><div class=\"label\">{label}</div><div class=\"value\">{value}</div></div>")
    };
    card(w, "Python", escape_html(&p.python).into_owned())?;
    card(w, "Objects", span_count(s.objects.count, Some("total-objects")))?;
    card(w, "Bytes (sys.getsizeof)", span_bytes(s.objects.bytes, Some("total-bytes")))?;
    card(w, "Footprint", span_bytes(s.objects.footprint, None))?;
    card(w, "Threads", format!("{} ({} Python)", p.threads, r.stacks.threads.len()))?;
    card(w, "Garbage", span_count(r.garbage.count, None))?;
    writeln!(w, "</div>")?;
    if let Some(top) = r.leaks.suspects.first() {
        writeln!(
            w,
            "<p class=\"headline\">Largest leak suspect: <a href=\"#top-suspect\">the <code>{}</code> at {} retains \
             {} ({:.1} % of the reachable heap)</a>, accumulating in the <code>{}</code> at {}.</p>",
            escape_html(&top.type_name),
            addr(top.address),
            span_bytes(top.retained_bytes, None),
            100.0 * top.share,
            escape_html(&top.accumulation.type_name),
            addr(top.accumulation.address)
        )?;
    }
    writeln!(w, "<table class=\"facts\">")?;
    let row = |w: &mut dyn Write, k: &str, v: &str| writeln!(w, "<tr><th>{k}</th><td>{}</td></tr>", escape_html(v));
    row(w, "Core file", &format!("{} ({})", p.core, human_bytes(p.core_size)))?;
    row(w, "Process id", &opt(p.pid))?;
    if let Some(c) = &p.command_line {
        row(w, "Command line", c)?;
    }
    if let Some(e) = &p.executable {
        row(w, "Executable", e)?;
    }
    row(w, "References", &count(s.references))?;
    row(w, "Types", &count(s.types_total))?;
    writeln!(w, "</table>")?;
    let beyond: Vec<String> = s
        .categories
        .iter()
        .map(|c| format!("{} {}", escape_html(&c.category.to_string()), span_count(c.count, None)))
        .collect();
    if !beyond.is_empty() {
        writeln!(w, "<p class=\"note\">Objects by how they are found: {}.</p>", beyond.join(", "))?;
    }
    if s.errors > 0 {
        writeln!(
            w,
            "<p class=\"warn\">{} parts of the heap could not be decoded (<code>--verbose</code> lists them).</p>",
            count(s.errors)
        )?;
    }
    if let Some(u) = &s.unverified_version {
        writeln!(w, "<p class=\"warn\">{}</p>", escape_html(&u.to_string()))?;
    }
    let warnings: Vec<&String> = p.warnings.iter().chain(&s.warnings).collect();
    if !warnings.is_empty() {
        let n = warnings.len();
        writeln!(w, "<details class=\"warnings\"><summary>{n} warning{}</summary>", if n == 1 { "" } else { "s" })?;
        for warning in warnings {
            writeln!(w, "<p class=\"warn\">{}</p>", escape_html(warning))?;
        }
        writeln!(w, "</details>")?;
    }
    Ok(())
}

fn types(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let s = &r.summary;
    let shown = &s.types[..s.types.len().min(r.options.top)];
    writeln!(w, "<p>The {} types with the largest footprint, of {}.</p>", shown.len(), count(s.types_total))?;
    let bars: Vec<(&str, u64)> = shown.iter().take(15).map(|t| (t.type_name.as_str(), t.footprint)).collect();
    writeln!(w, "{}", svg::bar_chart(&bars, s.objects.footprint))?;
    writeln!(w, "<table class=\"sortable\" id=\"types-table\">")?;
    writeln!(
        w,
        "<thead><tr><th data-sort=\"text\">Type</th><th data-sort=\"num\">Objects</th><th data-sort=\"num\">Bytes</th>\
         <th data-sort=\"num\">Footprint</th><th data-sort=\"num\">Share</th></tr></thead>\n<tbody>"
    )?;
    let pct = |v: u64| {
        let p = 100.0 * v as f64 / s.objects.footprint.max(1) as f64;
        format!("<td class=\"num\" data-value=\"{p:.4}\">{p:.1} %</td>")
    };
    for t in shown {
        let name = escape_html(&t.type_name);
        writeln!(
            w,
            "<tr data-type=\"{name}\"><td><code>{name}</code></td>{}{}{}{}</tr>",
            td_count(t.count),
            td_bytes(t.bytes),
            td_bytes(t.footprint),
            pct(t.footprint)
        )?;
    }
    writeln!(w, "</tbody>")?;
    let rest = &s.types[shown.len()..];
    if !rest.is_empty() {
        let (c, b, f) = rest.iter().fold((0, 0, 0), |(c, b, f), t| (c + t.count, b + t.bytes, f + t.footprint));
        writeln!(
            w,
            "<tfoot><tr class=\"others\"><td>{} other types</td>{}{}{}{}</tr></tfoot>",
            count(rest.len() as u64),
            td_count(c),
            td_bytes(b),
            td_bytes(f),
            pct(f)
        )?;
    }
    writeln!(w, "</table>")
}

fn owners(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let t = &r.owners;
    writeln!(
        w,
        "<p>The objects that keep the most memory alive: the tops of the dominator tree, each with what only it \
         retains. {} objects, {} are reachable. Open an owner to see the tree below it.</p>",
        span_count(t.reachable.0, None),
        span_bytes(t.reachable.1, None)
    )?;
    writeln!(w, "<div class=\"tree\">")?;
    for (i, o) in t.owners.iter().enumerate() {
        owner(o, i == 0, w)?;
    }
    let (c, b) = owners_total(&t.owners);
    if t.reachable.1 > b {
        writeln!(
            w,
            "<div class=\"node others\"><span class=\"size\">{}</span> other owners: {} objects</div>",
            span_bytes(t.reachable.1 - b, None),
            span_count(t.reachable.0.saturating_sub(c), None)
        )?;
    }
    writeln!(w, "</div>")
}

/// One owner as a `<details>` (with its children; `open` at first) or a leaf line.
fn owner(o: &Owner, open: bool, w: &mut dyn Write) -> io::Result<()> {
    let line = format!(
        "<span class=\"size\">{}</span> <code class=\"type\">{}</code> {} <span class=\"muted\">{} objects</span>{}",
        span_bytes(o.retained_bytes, None),
        escape_html(&o.type_name),
        addr(o.address),
        span_count(o.retained_count, None),
        o.path
            .as_deref()
            .map(|p| format!("<div class=\"path\"><code>{}</code></div>", escape_html(p)))
            .unwrap_or_default()
    );
    if o.children.is_empty() {
        return writeln!(w, "<div class=\"node leaf\">{line}</div>");
    }
    let open = if open { " open" } else { "" };
    writeln!(w, "<details class=\"node\"{open}><summary>{line}</summary>")?;
    for (i, c) in o.children.iter().enumerate() {
        owner(c, !open.is_empty() && i == 0, w)?;
    }
    let (count, bytes) = unlisted(o);
    if count > 0 {
        writeln!(
            w,
            "<div class=\"node others\"><span class=\"size\">{}</span> in {} more objects below it</div>",
            span_bytes(bytes, None),
            span_count(count, None)
        )?;
    }
    writeln!(w, "</details>")
}

fn leaks(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let l = &r.leaks;
    if l.suspects.is_empty() {
        writeln!(
            w,
            "<p>No leak suspect: no owner retains more than {:.0} % of the reachable heap.</p>",
            100.0 * l.threshold
        )?;
    } else {
        writeln!(
            w,
            "<p>Owners retaining more than {:.0} % of the reachable heap, each with the point where its memory \
             accumulates and the path that keeps it alive.</p>",
            100.0 * l.threshold
        )?;
    }
    for (i, s) in l.suspects.iter().enumerate() {
        let id = if i == 0 { " id=\"top-suspect\"" } else { "" };
        writeln!(w, "<article class=\"suspect\"{id} data-address=\"{}\">", s.address)?;
        writeln!(
            w,
            "<h3><code>{}</code> at {} retains {} ({:.1} %)</h3>",
            escape_html(&s.type_name),
            addr(s.address),
            span_bytes(s.retained_bytes, None),
            100.0 * s.share
        )?;
        let a = &s.accumulation;
        writeln!(
            w,
            "<p>Accumulates in the <code>{}</code> at {} ({}).</p>",
            escape_html(&a.type_name),
            addr(a.address),
            span_bytes(a.retained_bytes, None)
        )?;
        if let Some(p) = a.path.as_ref().or(s.path.as_ref()) {
            writeln!(w, "<p class=\"path\"><code>{}</code></p>", escape_html(p))?;
        }
        if let Some(pic) = r.suspect_pictures.iter().find(|p| p.suspect == s.address) {
            writeln!(w, "{}", svg::path_graph(pic))?;
        }
        writeln!(w, "</article>")?;
    }
    writeln!(w, "<h3>Leak roots</h3>")?;
    writeln!(
        w,
        "<p>{} objects are held from outside the heap by references that no root or object accounts for (their \
         refcount exceeds the references found); those no object references come first.</p>",
        span_count(l.roots_total, None)
    )?;
    if l.roots.is_empty() {
        return Ok(());
    }
    writeln!(w, "<table class=\"sortable\" id=\"roots-table\">")?;
    writeln!(
        w,
        "<thead><tr><th data-sort=\"text\">Address</th><th data-sort=\"text\">Type</th><th data-sort=\"num\">Refcount</th>\
         <th data-sort=\"num\">Referrers</th><th data-sort=\"num\">Excess</th><th data-sort=\"num\">Retained</th></tr></thead>\n<tbody>"
    )?;
    for x in &l.roots {
        writeln!(
            w,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"num\" data-value=\"{}\">{}</td>{}{}{}</tr>",
            addr(x.address),
            escape_html(&x.type_name),
            x.refcount,
            x.refcount,
            td_count(x.referrers),
            td_count(x.excess),
            td_bytes(x.retained_bytes)
        )?;
    }
    writeln!(w, "</tbody>")?;
    let more = l.roots_total.saturating_sub(l.roots.len() as u64);
    if more > 0 {
        writeln!(w, "<tfoot><tr class=\"others\"><td colspan=\"6\">{} more leak roots</td></tr></tfoot>", count(more))?;
    }
    writeln!(w, "</table>")
}

fn garbage(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let g = &r.garbage;
    writeln!(
        w,
        "<p><code>gc.collect()</code> would find {} unreachable objects (of {} it looks at) and free {} objects, {} \
         ({} footprint).</p>",
        span_count(g.count, Some("garbage-count")),
        span_count(g.candidates, None),
        span_count(g.freed.count, None),
        span_bytes(g.freed.bytes, None),
        span_bytes(g.freed.footprint, None)
    )?;
    if !g.may_resurrect.is_empty() || !g.uncollectable.is_empty() {
        writeln!(
            w,
            "<p class=\"note\">{} have a finalizer or a weakref callback that may resurrect them; {} would stay in \
             <code>gc.garbage</code>.</p>",
            count(g.may_resurrect.len() as u64),
            count(g.uncollectable.len() as u64)
        )?;
    }
    if !g.types.is_empty() {
        let top = r.options.top;
        let shown = &g.types[..g.types.len().min(top)];
        writeln!(w, "<table class=\"sortable\" id=\"garbage-table\">")?;
        writeln!(
            w,
            "<thead><tr><th data-sort=\"text\">Unreachable type</th><th data-sort=\"num\">Objects</th>\
             <th data-sort=\"num\">Bytes</th></tr></thead>\n<tbody>"
        )?;
        for t in shown {
            writeln!(
                w,
                "<tr><td><code>{}</code></td>{}{}</tr>",
                escape_html(&t.type_name),
                td_count(t.count),
                td_bytes(t.bytes)
            )?;
        }
        writeln!(w, "</tbody>")?;
        let rest = &g.types[shown.len()..];
        if !rest.is_empty() {
            let (c, b) = rest.iter().fold((0, 0), |(c, b), t| (c + t.count, b + t.bytes));
            writeln!(
                w,
                "<tfoot><tr class=\"others\"><td>{} other types</td>{}{}</tr></tfoot>",
                count(rest.len() as u64),
                td_count(c),
                td_bytes(b)
            )?;
        }
        writeln!(w, "</table>")?;
    }
    let c = &r.cycles;
    writeln!(w, "<h3>Reference cycles</h3>")?;
    writeln!(
        w,
        "<p>{} reference cycles: {} live, {} garbage. The largest of each, {} in all:</p>",
        span_count(c.count, None),
        span_count(c.live, None),
        span_count(c.garbage, None),
        c.cycles.len()
    )?;
    writeln!(w, "<div class=\"cycles\">")?;
    for p in &r.cycle_pictures {
        writeln!(w, "<figure class=\"cycle {}\">", p.status)?;
        writeln!(
            w,
            "<figcaption><span class=\"badge {}\">{}</span> {} objects: <code>{}</code></figcaption>",
            p.status,
            p.status,
            count(p.size),
            escape_html(&p.signature)
        )?;
        writeln!(w, "{}", svg::cycle_graph(p))?;
        writeln!(w, "</figure>")?;
    }
    writeln!(w, "</div>")
}

fn stacks(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let s = &r.stacks;
    writeln!(w, "<p>Each Python thread's stack, most recent call last.</p>")?;
    for t in &s.threads {
        let mut header = match t.tid {
            Some(tid) => format!("Thread {tid}"),
            None => format!("Thread ident {:#x}", t.ident),
        };
        if let Some(name) = &t.name {
            header.push_str(&format!(" ({name})"));
        }
        let gil = if t.holds_gil { " <span class=\"badge live\">holds the GIL</span>" } else { "" };
        writeln!(w, "<h3>{}{gil}</h3>", escape_html(&header))?;
        writeln!(w, "<pre class=\"traceback\">")?;
        if t.frames.is_empty() && t.errors.is_empty() {
            writeln!(w, "(no Python frames)")?;
        }
        for e in &t.errors {
            writeln!(w, "<span class=\"err\">error: {}</span>", escape_html(e))?;
        }
        for warning in &t.warnings {
            writeln!(w, "<span class=\"err\">incomplete: {}</span>", escape_html(warning))?;
        }
        for f in t.frames.iter().rev() {
            let file = f.file.as_deref().unwrap_or("???");
            let line = f.line.map_or_else(|| "?".to_owned(), |l| l.to_string());
            let func = f.qualname.as_deref().or(f.function.as_deref()).unwrap_or("???");
            writeln!(
                w,
                "  File \"<span class=\"file\">{}</span>\", line {line}, in <span class=\"func\">{}</span>",
                escape_html(file),
                escape_html(func)
            )?;
            for e in &f.errors {
                writeln!(w, "    <span class=\"err\">error: {}</span>", escape_html(e))?;
            }
        }
        writeln!(w, "</pre>")?;
    }
    for p in &s.problems {
        writeln!(w, "<p class=\"warn\">{}</p>", escape_html(p))?;
    }
    Ok(())
}

fn tasks(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    let Some(t) = &r.tasks else {
        return Ok(());
    };
    writeln!(
        w,
        "<p id=\"tasks-headline\" data-value=\"{}\"><strong>{}</strong></p>",
        t.count,
        escape_html(&t.headline)
    )?;
    writeln!(
        w,
        "<p>Pending tasks grouped by where they are suspended: their coroutines, outermost first. A group retains \
         what would be freed if all of its tasks were gone. <code>heapscope tasks CORE</code> lists every task; \
         <code>--tree</code> draws who awaits whom.</p>"
    )?;
    writeln!(w, "<table class=\"sortable\" id=\"tasks-table\">")?;
    writeln!(
        w,
        "<thead><tr><th data-sort=\"num\">Tasks</th><th data-sort=\"num\">Retained</th>\
         <th data-sort=\"text\">Suspended at</th></tr></thead>\n<tbody>"
    )?;
    for g in &t.groups {
        let retained = g.retained_bytes.map_or_else(|| "<td class=\"num\">?</td>".to_owned(), td_bytes);
        let stack: Vec<String> = g
            .stack
            .iter()
            .map(|e| format!("<code class=\"func\">{}</code>", escape_html(&crate::tasks::render::place(e))))
            .collect();
        let stack = if stack.is_empty() { "(no coroutine frame)".to_owned() } else { stack.join(" › ") };
        writeln!(w, "<tr data-tasks=\"{}\">{}{retained}<td>{stack}</td></tr>", g.count, td_count(g.count as u64))?;
    }
    writeln!(w, "</tbody>")?;
    if t.more_groups > 0 {
        writeln!(
            w,
            "<tfoot><tr class=\"others\"><td colspan=\"3\">{} more groups</td></tr></tfoot>",
            count(t.more_groups as u64)
        )?;
    }
    writeln!(w, "</table>")?;
    if t.errors > 0 {
        writeln!(
            w,
            "<p class=\"warn\">{} parts of the tasks could not be decoded: <code>heapscope tasks CORE</code> \
             lists them.</p>",
            count(t.errors as u64)
        )?;
    }
    Ok(())
}

fn footer(r: &FullReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "<footer><p>This page shows the first {} rows of each table and draws {} suspects and cycles. For every \
         object, reference and root: <code>heapscope export CORE -o DIR</code> writes them as Parquet tables, and \
         <code>heapscope query CORE 'SELECT …'</code> answers SQL over them (docs/tables.md lists the columns). \
         <code>heapscope path CORE ADDR</code> explains any address shown here.</p>\
         <p class=\"muted\">heapscope {}</p></footer>",
        r.options.top,
        r.options.pictures,
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape_html("dict"), "dict");
        assert_eq!(
            escape_html("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }
}
