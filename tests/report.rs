//! `heapscope report`, the way users see it.
//!
//! - The HTML page opens in headless Chromium (Debian's `chromium`, installed by `.ci/run`) without a console
//!   message and without a network request other than the file itself (read from Chromium's net log); the DOM
//!   after the scripts ran holds the same numbers as the JSON of `summary`, `leaks` and `garbage` on the same core;
//!   its screenshot is not blank; the file stays under 1 MB.
//! - The Markdown parses as GitHub-flavoured Markdown (pulldown-cmark with tables) into the expected tables, every
//!   row with as many cells as its header, and the top suspect's path in inline code.
//! - The checks on Chromium's output are themselves checked: a page that loads an image from the network is seen
//!   doing it, and one that logs to the console is seen logging.

mod common;

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::Value;

use common::{fixture, Unpacked};

/// The largest report accepted: the page shows the first rows of each table, whatever the heap's size.
const MAX_HTML_BYTES: u64 = 1 << 20;

/// Chromium, or a failed test saying how to install it.
fn chromium() -> PathBuf {
    let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
    candidates.iter().map(PathBuf::from).find(|p| p.exists()).unwrap_or_else(|| {
        panic!(
            "headless Chromium is needed to check the HTML report and none was found at {candidates:?}: install it \
             (Debian: apt-get install chromium; .ci/run does)"
        )
    })
}

/// Runs headless Chromium on `page` with a fresh profile and `extra` arguments.
fn run_chromium(page: &Path, extra: &[String]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    args.extend(extra.iter().cloned());
    args.push(format!("file://{}", page.display()));
    let out = Command::new(chromium()).args(&args).output().expect("chromium runs");
    assert!(out.status.success(), "chromium {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// What Chromium saw of a page: the DOM after the scripts ran, the console messages, and the URLs the page
/// requested over the network.
struct Loaded {
    dom: String,
    console: Vec<String>,
    requests: Vec<String>,
}

fn load(page: &Path) -> Loaded {
    let dir = tempfile::tempdir().unwrap();
    let netlog = dir.path().join("netlog.json");
    let out = run_chromium(
        page,
        &[
            "--dump-dom".into(),
            "--enable-logging=stderr".into(),
            "--v=0".into(),
            format!("--log-net-log={}", netlog.display()),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // `[pid:tid:time:INFO:CONSOLE:line] "message", source: URL (line)`: the log does not carry the message's level,
    // and the report logs nothing, so any message is an error.
    let console = stderr.lines().filter(|l| l.contains(":CONSOLE")).map(str::to_owned).collect();
    let log: Value = serde_json::from_slice(&std::fs::read(&netlog).expect("chromium wrote its net log")).unwrap();
    Loaded { dom: String::from_utf8(out.stdout).unwrap(), console, requests: page_requests(&log) }
}

/// The URLs of the network requests a page made, from a Chromium net log (`{"constants", "events"}`): the
/// `URL_REQUEST_START_JOB` events whose initiator is a document (the browser's own requests, to its vendor's
/// services, say `"not an origin"`) or whose network isolation key is a `file://` page's.
fn page_requests(log: &Value) -> Vec<String> {
    let types = log["constants"]["logEventTypes"].as_object().expect("net log constants");
    let start = types["URL_REQUEST_START_JOB"].as_u64().expect("URL_REQUEST_START_JOB is a known event type");
    let events = log["events"].as_array().expect("net log events");
    assert!(!events.is_empty(), "the net log holds no event");
    events
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start))
        .filter(|e| {
            let p = &e["params"];
            p["initiator"].as_str() != Some("not an origin")
                || p["network_isolation_key"].as_str().is_some_and(|k| k.starts_with("file://"))
        })
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_owned))
        .collect()
}

/// The value of attribute `attr` of the element whose start tag contains `marker`.
fn attr_near(dom: &str, marker: &str, attr: &str) -> String {
    let at = dom.find(marker).unwrap_or_else(|| panic!("no {marker} in the page"));
    let start = dom[..at].rfind('<').unwrap();
    let end = at + dom[at..].find('>').unwrap();
    attr_in(&dom[start..end], attr).unwrap_or_else(|| panic!("no {attr} on the element with {marker}"))
}

/// The value of attribute `attr` in a piece of a start tag, entities decoded.
fn attr_in(tag: &str, attr: &str) -> Option<String> {
    let key = format!(" {attr}=\"");
    let from = tag.find(&key)? + key.len();
    let len = tag[from..].find('"')?;
    Some(unescape(&tag[from..from + len]))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// The rows of the types table: each row's type and the `data-value` of its cells.
fn type_rows(dom: &str) -> Vec<(String, Vec<u64>)> {
    let table = &dom[dom.find("id=\"types-table\"").expect("the types table")..];
    let table = &table[..table.find("</table>").unwrap()];
    table
        .split("<tr ")
        .skip(1)
        .filter(|r| r.starts_with("data-type="))
        .map(|r| {
            let r = &r[..r.find("</tr>").unwrap()];
            let name = attr_in(&format!(" {r}"), "data-type").unwrap();
            let values = r
                .split(" data-value=\"")
                .skip(1)
                .map(|v| v[..v.find('"').unwrap()].parse::<f64>().unwrap() as u64)
                .collect();
            (name, values)
        })
        .collect()
}

/// `heapscope CMD CORE --format json`.
fn json(fx: &Unpacked, cmd: &str, extra: &[&str]) -> Value {
    let out = fx.heapscope_report(cmd, extra.iter().chain(&["--format", "json"]));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Writes the report of `fx` to a file in `dir` and returns its path, after timing it.
fn report(fx: &Unpacked, dir: &Path, format: &str) -> PathBuf {
    let path = dir.join(format!("report.{format}"));
    let t0 = Instant::now();
    fx.heapscope_report("report", ["-o", path.to_str().unwrap(), "--format", format]);
    let size = std::fs::metadata(&path).expect("the report was written").len();
    println!("{}: report --format {format}: {size} bytes in {:.2}s", fx.fx.name, t0.elapsed().as_secs_f64());
    path
}

fn check_html(name: &str, must_have_suspect: bool) {
    let fixture = fixture(name);
    let fx = fixture.unpacked();
    let dir = tempfile::tempdir().unwrap();
    let page = report(&fx, dir.path(), "html");
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < MAX_HTML_BYTES, "{name}: the report is {size} bytes, more than {MAX_HTML_BYTES}");

    let loaded = load(&page);
    assert!(loaded.console.is_empty(), "{name}: console messages: {:#?}", loaded.console);
    let foreign: Vec<&String> = loaded.requests.iter().filter(|u| !u.starts_with("file:")).collect();
    assert!(foreign.is_empty(), "{name}: the page requested {foreign:?}");
    let dom = &loaded.dom;
    // The script ran under the page's Content-Security-Policy: it titles every sortable column.
    assert!(dom.contains("title=\"Sort by Bytes\""), "{name}: the page's script did not run");

    let summary = json(&fx, "summary", &[]);
    let leaks = json(&fx, "leaks", &[]);
    let garbage = json(&fx, "garbage", &[]);
    let value = |id: &str| attr_near(dom, &format!("id=\"{id}\""), "data-value").parse::<u64>().unwrap();
    assert_eq!(value("total-objects"), summary["objects"]["count"].as_u64().unwrap(), "{name}: objects");
    assert_eq!(value("total-bytes"), summary["objects"]["bytes"].as_u64().unwrap(), "{name}: bytes");
    assert_eq!(value("garbage-count"), garbage["count"].as_u64().unwrap(), "{name}: garbage");
    let rows = type_rows(dom);
    let types = summary["types"].as_array().unwrap();
    assert!(rows.len() >= 5, "{name}: {} rows in the types table", rows.len());
    for (i, ((row_type, values), t)) in rows.iter().zip(types).take(5).enumerate() {
        assert_eq!(row_type, t["type"].as_str().unwrap(), "{name}: type of row {i}");
        assert_eq!(values[1], t["bytes"].as_u64().unwrap(), "{name}: bytes of row {i} ({row_type})");
    }
    match leaks["suspects"].as_array().unwrap().first() {
        Some(s) => {
            let want = format!("{:#x}", s["address"].as_u64().unwrap());
            assert_eq!(attr_near(dom, "id=\"top-suspect\"", "data-address"), want, "{name}: top suspect");
        }
        None => {
            assert!(!must_have_suspect, "{name}: leaks finds no suspect");
            assert!(!dom.contains("id=\"top-suspect\""), "{name}: a top suspect without a suspect");
        }
    }

    // The asyncio section is there only for a process with pending tasks (none in these fixtures).
    let tasks = json(&fx, "tasks", &[]);
    assert_eq!(tasks["count"].as_u64(), Some(0), "{name}: pending tasks");
    assert!(!dom.contains("id=\"tasks-headline\""), "{name}: an asyncio section without tasks");

    let png = dir.path().join("report.png");
    run_chromium(&page, &[format!("--screenshot={}", png.display()), "--window-size=1280,2000".into()]);
    let (colours, share) = screenshot_stats(&png);
    println!("{name}: screenshot with {colours} colours, {:.1} % not background", 100.0 * share);
    assert!(colours >= 64, "{name}: the screenshot has only {colours} colours");
    assert!(share >= 0.03, "{name}: the screenshot is {:.1} % background", 100.0 * (1.0 - share));
}

/// A screenshot's distinct colours, and the share of its pixels that are not the page's white background.
fn screenshot_stats(path: &Path) -> (usize, f64) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "a colour screenshot ({:?})", info.color_type);
    let pixels = &buf[..info.buffer_size()];
    let mut colours = HashSet::new();
    let mut ink = 0usize;
    let n = pixels.len() / channels;
    for px in pixels.chunks_exact(channels) {
        colours.insert((px[0], px[1], px[2]));
        if px[..3].iter().any(|&c| c < 245) {
            ink += 1;
        }
    }
    (colours.len(), ink as f64 / n.max(1) as f64)
}

#[test]
fn html_py312_cache() {
    check_html("py312-cache", true);
}

#[test]
fn html_py38() {
    check_html("py38", false);
}

#[test]
fn html_py314() {
    check_html("py314", false);
}

/// On an asyncio process the report leads its asyncio section with `tasks`'s own first line, and its groups table
/// holds `tasks`'s groups, largest first, with the same counts and retained bytes (the HTML in Chromium, the
/// Markdown as GFM).
#[test]
fn the_stuck_tasks_are_in_the_report() {
    let fixture = common::tasks_fixtures().into_iter().find(|f| f.name == "tasks-py312").unwrap();
    let fx = fixture.unpacked();
    let dir = tempfile::tempdir().unwrap();
    let tasks = json(&fx, "tasks", &[]);
    let table = fx.heapscope_report("tasks", Vec::<&str>::new());
    let headline = String::from_utf8_lossy(&table.stdout).lines().next().unwrap().to_owned();
    let groups = tasks["groups"].as_array().unwrap();
    assert!(groups.len() > 3, "{} groups", groups.len());

    let loaded = load(&report(&fx, dir.path(), "html"));
    assert!(loaded.console.is_empty(), "console messages: {:#?}", loaded.console);
    let dom = &loaded.dom;
    assert!(dom.contains("<a href=\"#tasks\">Asyncio tasks</a>"), "the navigation names the section");
    let count = attr_near(dom, "id=\"tasks-headline\"", "data-value");
    assert_eq!(count.parse::<u64>().unwrap(), tasks["count"].as_u64().unwrap());
    let at = dom.find("id=\"tasks-headline\"").unwrap();
    let text = &dom[at..];
    let text = &text[text.find("<strong>").unwrap() + 8..text.find("</strong>").unwrap()];
    assert_eq!(unescape(text), headline);
    let body = &dom[dom.find("id=\"tasks-table\"").expect("the tasks table")..];
    let body = &body[..body.find("</tbody>").unwrap()];
    let rows: Vec<&str> = body.split("<tr data-tasks=\"").skip(1).collect();
    assert_eq!(rows.len(), groups.len().min(50), "rows of the tasks table");
    for (i, (row, g)) in rows.iter().zip(groups).enumerate() {
        let values: Vec<u64> =
            row.split(" data-value=\"").skip(1).map(|v| v[..v.find('"').unwrap()].parse().unwrap()).collect();
        assert_eq!(values, vec![g["count"].as_u64().unwrap(), g["retained_bytes"].as_u64().unwrap()], "row {i}");
        let inner = g["stack"].as_array().unwrap().last().unwrap()["function"].as_str().unwrap();
        assert!(row.contains(inner), "row {i} names {inner}: {row}");
    }

    let md = std::fs::read_to_string(report(&fx, dir.path(), "md")).unwrap();
    let section = &md[md.find("\n## Asyncio tasks\n").expect("the Markdown has the section")..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |e| e + 1)];
    let (tables, _) = markdown_tables(section);
    assert_eq!(tables.len(), 1, "{section}");
    assert_eq!(tables[0].rows.len(), groups.len().min(50), "{section}");
    assert!(tables[0].rows.iter().all(|&cells| cells == tables[0].head), "{section}");
}

/// A Markdown table as parsed: its header's cell count and its rows' cell counts, as pulldown-cmark parses them,
/// and the cell count of each row (header first) as the source writes them (unescaped `|` between cells).
#[derive(Debug, Default)]
struct MdTable {
    head: usize,
    rows: Vec<usize>,
    source: Vec<usize>,
}

/// The Markdown's tables, and every inline code span.
fn markdown_tables(md: &str) -> (Vec<MdTable>, Vec<String>) {
    let mut tables: Vec<MdTable> = Vec::new();
    let mut code = Vec::new();
    let mut cells = 0;
    for (event, range) in Parser::new_ext(md, Options::ENABLE_TABLES).into_offset_iter() {
        match event {
            Event::Start(Tag::Table(_)) => tables.push(MdTable::default()),
            Event::Start(Tag::TableHead | Tag::TableRow) => {
                cells = 0;
                tables.last_mut().unwrap().source.push(source_cells(&md[range]));
            }
            Event::Start(Tag::TableCell) => cells += 1,
            Event::End(TagEnd::TableHead) => tables.last_mut().unwrap().head = cells,
            Event::End(TagEnd::TableRow) => tables.last_mut().unwrap().rows.push(cells),
            Event::Code(c) => code.push(c.into_string()),
            _ => {}
        }
    }
    (tables, code)
}

/// Cells of a table row as written: split at every `|` not escaped by a backslash, without the outer ones.
fn source_cells(line: &str) -> usize {
    let line = line.lines().next().unwrap_or("").trim();
    let mut pipes = 0;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => pipes += 1,
            _ => escaped = false,
        }
    }
    pipes - 1
}

fn check_markdown(name: &str) {
    let fixture = fixture(name);
    let fx = fixture.unpacked();
    let dir = tempfile::tempdir().unwrap();
    let md = std::fs::read_to_string(report(&fx, dir.path(), "md")).unwrap();
    let leaks = json(&fx, "leaks", &[]);
    let garbage = json(&fx, "garbage", &[]);
    let cycles = json(&fx, "cycles", &["--limit", "1"]);
    let waste = json(&fx, "waste", &[]);
    let (tables, code) = markdown_tables(&md);
    // Process, types, owners always; suspects, leak roots, garbage types, cycles and waste advice when there are any.
    let some = |v: &Value| usize::from(v.as_array().is_some_and(|a| !a.is_empty()));
    let expected = 3
        + some(&leaks["suspects"])
        + some(&leaks["roots"])
        + some(&garbage["types"])
        + usize::from(cycles["count"].as_u64() > Some(0))
        + some(&waste["advice"]);
    assert_eq!(tables.len(), expected, "{name}: tables in\n{md}");
    for (i, t) in tables.iter().enumerate() {
        let head = t.head;
        assert!(head >= 2 && !t.rows.is_empty(), "{name}: table {i} has {head} columns and {} rows", t.rows.len());
        for (j, &r) in t.rows.iter().enumerate() {
            assert_eq!(r, head, "{name}: table {i}, row {j} has {r} cells, its header {head}");
        }
        // The delimiter row is no TableRow: the source rows are the header and the body rows.
        assert_eq!(t.source.len(), t.rows.len() + 1, "{name}: table {i}");
        for (j, &n) in t.source.iter().enumerate() {
            assert_eq!(n, head, "{name}: table {i}, source row {j} has {n} cells, its header {head}");
        }
    }
    if let Some(s) = leaks["suspects"].as_array().unwrap().first() {
        let path = s["accumulation"]["path"].as_str().or(s["path"].as_str()).expect("the suspect has a path");
        assert!(code.iter().any(|c| c == path), "{name}: the suspect's path {path} is not in inline code");
    }
    assert!(md.contains("```text\n"), "{name}: no thread stack as a code block");
}

#[test]
fn markdown_py312_cache() {
    check_markdown("py312-cache");
}

#[test]
fn markdown_py38() {
    check_markdown("py38");
}

/// `report --baseline OLD` on the diff fixture (one process dumped twice, its cache grown): the page gains a
/// "What grew" section, opens in Chromium without a console message or a request, and names the grown cache first
/// among the owners, with the growth `diff` reports; the Markdown gains the section's tables, well-formed.
#[test]
fn with_a_baseline() {
    let (old, new, truth) = common::diff_fixture();
    let dir = tempfile::tempdir().unwrap();
    let diff: Value = serde_json::from_slice(
        &common::heapscope_ok([
            OsStr::new("diff"),
            old.core().as_os_str(),
            new.core().as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ])
        .into_bytes(),
    )
    .unwrap();
    let top = &diff["owners"][0];
    assert_eq!(top["path"], truth["cache"]["path"]);
    let page = dir.path().join("report.html");
    let md = dir.path().join("report.md");
    for (out, format) in [(&page, "html"), (&md, "md")] {
        common::heapscope_ok([
            OsStr::new("report"),
            new.core().as_os_str(),
            "--baseline".as_ref(),
            old.core().as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
    }
    let loaded = load(&page);
    assert!(loaded.console.is_empty(), "console messages: {:#?}", loaded.console);
    assert!(loaded.requests.iter().all(|u| u.starts_with("file:")), "{:?}", loaded.requests);
    let dom = &loaded.dom;
    let section = &dom[dom.find("<section id=\"growth\">").expect("a growth section")..];
    let first_row = &section[section.find("id=\"growth-owners\"").expect("an owners table")..];
    let first_row = &first_row[first_row.find("<tbody>").unwrap()..];
    let td = &first_row[first_row.find("<td").unwrap()..];
    assert_eq!(attr_in(&td[..td.find('>').unwrap()], "data-value"), Some(top["delta_bytes"].to_string()));
    let path = truth["cache"]["path"].as_str().unwrap();
    let cell = first_row.find("</tr>").map(|e| &first_row[..e]).unwrap();
    assert!(unescape(cell).contains(path), "{cell}");

    let md = std::fs::read_to_string(&md).unwrap();
    let grew = &md[md.find("\n## What grew\n").expect("a What grew section")..];
    let (tables, code) = markdown_tables(grew);
    assert!(tables.len() >= 2, "{grew}");
    for t in &tables {
        assert!(t.rows.iter().all(|&r| r == t.head), "{grew}");
    }
    assert!(code.iter().any(|c| c == path), "{grew}");
}

/// The checks on Chromium's output see what they are meant to: a page without the report's
/// Content-Security-Policy that loads an image from the network is seen requesting it, and a script's console
/// message is seen.
#[test]
fn the_browser_checks_see_requests_and_console_messages() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("leaky.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><img src=\"http://example.invalid/x.png\"><script>console.error('boom')</script>\
         </body></html>",
    )
    .unwrap();
    let loaded = load(&page);
    assert!(loaded.requests.iter().any(|u| u == "http://example.invalid/x.png"), "requests: {:?}", loaded.requests);
    assert!(loaded.console.iter().any(|l| l.contains("boom")), "console: {:?}", loaded.console);
}
