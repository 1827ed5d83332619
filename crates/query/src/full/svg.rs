//! The report's pictures as inline SVG, laid out here (no Graphviz at run time): a horizontal bar chart, a path
//! from a root drawn as a vertical chain of boxes (objgraph's `show_backrefs` look), and a cycle with its objects on
//! a ring. Every text goes through [`escape_html`].

use std::f64::consts::PI;
use std::fmt::Write as _;

use super::html::escape_html;
use super::{CyclePicture, PictureNode, SuspectPicture};
use crate::format::{count, human_bytes};

/// Width of a character of the pictures' 11px monospace font, for the layout.
const CHAR_W: f64 = 6.7;

/// `s` cut to `max` characters, with an ellipsis when cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The arrowhead marker, under an id unique to the picture.
fn defs(id: &str) -> String {
    format!(
        "<defs><marker id=\"{id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" \
         orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#5b6472\"/></marker></defs>"
    )
}

/// A horizontal bar per `(name, value)`, scaled to the largest, each with its share of `total`.
pub(super) fn bar_chart(rows: &[(&str, u64)], total: u64) -> String {
    let (label_w, bar_w, row_h, top) = (300.0, 520.0, 24.0, 8.0);
    let width = label_w + bar_w + 150.0;
    let height = top * 2.0 + row_h * rows.len() as f64;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" role=\"img\" aria-label=\"footprint by type\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, (name, v)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let w = (bar_w * *v as f64 / max).max(1.0);
        let pct = 100.0 * *v as f64 / total.max(1) as f64;
        // Cut before escaping, so that an entity is never cut in half.
        let short = escape_html(&cut(name, 40)).into_owned();
        let name = escape_html(name);
        let _ = write!(
            s,
            "<g><title>{name}: {} bytes</title><text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"bar-label\">{short}</text>\
             <rect x=\"{label_w}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" rx=\"3\" class=\"bar\"/>\
             <text x=\"{:.1}\" y=\"{}\" class=\"bar-value\">{} · {pct:.1} %</text></g>",
            count(*v),
            label_w - 8.0,
            y + row_h * 0.68,
            y + 3.0,
            row_h - 6.0,
            label_w + w + 6.0,
            y + row_h * 0.68,
            human_bytes(*v)
        );
    }
    s.push_str("</svg>");
    s
}

/// A box's two lines: `type at address`, then the preview.
fn node_lines(n: &PictureNode, max: usize) -> (String, String) {
    (cut(&format!("{} {}", n.type_name, n.address), max), cut(&n.preview, max))
}

/// The path from a root to a suspect's accumulation point: the root on top, each object below the one that
/// references it, each arrow labelled with the reference (`['key']`, `.attr`, `[3]`). The suspect and the
/// accumulation point are marked.
pub(super) fn path_graph(p: &SuspectPicture) -> String {
    const MAX_CHARS: usize = 72;
    let (box_w, box_h, gap, margin) = (MAX_CHARS as f64 * CHAR_W + 20.0, 40.0, 38.0, 10.0);
    let label_space = 260.0;
    let width = margin * 2.0 + box_w + label_space;
    let n = p.nodes.len() + 1;
    let height = margin * 2.0 + n as f64 * box_h + (n - 1) as f64 * gap;
    let marker = format!("arrow-s{:x}", p.suspect.0);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"graph\" role=\"img\" aria-label=\"path from a root\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\">{}",
        defs(&marker)
    );
    let x = margin;
    let cx = x + box_w / 2.0;
    // The root.
    let root = cut(&format!("{}  · root: {}", p.path.root.description.text, p.path.root.kind), MAX_CHARS);
    let _ = write!(
        s,
        "<g class=\"node root\"><title>{}</title><rect x=\"{x}\" y=\"{margin}\" width=\"{box_w}\" height=\"{box_h}\" \
         rx=\"18\"/><text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" class=\"t1\">{}</text></g>",
        escape_html(&p.path.root.description.text),
        margin + box_h / 2.0 + 4.0,
        escape_html(&root)
    );
    for (i, (node, step)) in p.nodes.iter().zip(&p.path.steps).enumerate() {
        let y = margin + (i + 1) as f64 * (box_h + gap);
        let (l1, l2) = node_lines(node, MAX_CHARS);
        let class = if node.address == p.accumulation {
            "node accumulation"
        } else if node.address == p.suspect {
            "node suspect"
        } else {
            "node"
        };
        let y0 = y - gap;
        let label = step.label.as_str();
        let _ = write!(
            s,
            "<line x1=\"{cx}\" y1=\"{y0}\" x2=\"{cx}\" y2=\"{}\" class=\"edge\" marker-end=\"url(#{marker})\"/>\
             <text x=\"{}\" y=\"{}\" class=\"edge-label\">{}</text>",
            y - 1.0,
            cx + 8.0,
            y0 + gap / 2.0 + 4.0,
            escape_html(&cut(label, 60))
        );
        let tag = match class {
            "node accumulation" => " · accumulation point",
            "node suspect" => " · suspect",
            _ => "",
        };
        let _ = write!(
            s,
            "<g class=\"{class}\"><title>{} at {}{tag}</title><rect x=\"{x}\" y=\"{y}\" width=\"{box_w}\" \
             height=\"{box_h}\" rx=\"4\"/><text x=\"{}\" y=\"{}\" class=\"t1\">{}</text>\
             <text x=\"{}\" y=\"{}\" class=\"t2\">{}</text></g>",
            escape_html(&node.type_name),
            node.address,
            x + 10.0,
            y + 16.0,
            escape_html(&l1),
            x + 10.0,
            y + 32.0,
            escape_html(&l2)
        );
        if !tag.is_empty() {
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" class=\"tag\">{}</text>",
                x + box_w + 8.0,
                y + box_h / 2.0 + 4.0,
                &tag[" · ".len()..]
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A cycle's objects on a ring (an ellipse), the references among them as labelled arrows, bent so that two
/// references in opposite directions do not overlap; "+N more" when the cycle has more objects than are drawn.
pub(super) fn cycle_graph(p: &CyclePicture) -> String {
    const MAX_CHARS: usize = 28;
    let n = p.nodes.len().max(1);
    let (box_w, box_h) = (MAX_CHARS as f64 * CHAR_W + 16.0, 50.0);
    let rx = if n == 1 { 0.0 } else { (n as f64 * 42.0).max(180.0) };
    let ry = if n == 1 { 0.0 } else { (n as f64 * 26.0).max(110.0) };
    let margin = 30.0;
    let width = 2.0 * rx + box_w + 2.0 * margin;
    let height = 2.0 * ry + box_h + 2.0 * margin + if n == 1 { 50.0 } else { 20.0 };
    let (cx, cy) = (width / 2.0, margin + ry + box_h / 2.0 + if n == 1 { 40.0 } else { 0.0 });
    let at: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let a = -PI / 2.0 + 2.0 * PI * i as f64 / n as f64;
            (cx + rx * a.cos(), cy + ry * a.sin())
        })
        .collect();
    let marker = format!("arrow-c{:x}", p.nodes.first().map_or(0, |n| n.address.0));
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"graph\" role=\"img\" aria-label=\"reference cycle\" viewBox=\"0 0 {width:.0} {height:.0}\" \
         width=\"{width:.0}\" height=\"{height:.0}\" xmlns=\"http://www.w3.org/2000/svg\">{}",
        defs(&marker)
    );
    // Where the segment from a box's centre towards (dx, dy) leaves the box.
    let exit = |dx: f64, dy: f64| {
        let t = ((box_w / 2.0 + 4.0) / dx.abs().max(1e-9)).min((box_h / 2.0 + 4.0) / dy.abs().max(1e-9));
        t.min(1.0)
    };
    for (from, to, label) in &p.edges {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (at.get(*from), at.get(*to)) else { continue };
        let label = escape_html(&cut(label, 22)).into_owned();
        if from == to {
            // A loop above the box.
            let (lx, ly) = (x1 + box_w / 4.0, y1 - box_h / 2.0);
            let _ = write!(
                s,
                "<path d=\"M{:.1},{ly:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{ly:.1}\" class=\"edge\" fill=\"none\" \
                 marker-end=\"url(#{marker})\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"edge-label\">{label}</text>",
                lx - 14.0,
                lx - 24.0,
                ly - 40.0,
                lx + 24.0,
                ly - 40.0,
                lx + 14.0,
                lx + 18.0,
                ly - 28.0
            );
            continue;
        }
        let (dx, dy) = (x2 - x1, y2 - y1);
        let (t1, t2) = (exit(dx, dy), exit(-dx, -dy));
        let (sx, sy) = (x1 + dx * t1, y1 + dy * t1);
        let (ex, ey) = (x2 - dx * t2, y2 - dy * t2);
        // Bend to the right of the direction of travel.
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (nx, ny) = (-dy / len * 18.0, dx / len * 18.0);
        let (mx, my) = ((sx + ex) / 2.0 + nx, (sy + ey) / 2.0 + ny);
        let _ = write!(
            s,
            "<path d=\"M{sx:.1},{sy:.1} Q{mx:.1},{my:.1} {ex:.1},{ey:.1}\" class=\"edge\" fill=\"none\" \
             marker-end=\"url(#{marker})\"/><text x=\"{mx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" \
             class=\"edge-label\">{label}</text>",
            my + 4.0
        );
    }
    for (node, &(x, y)) in p.nodes.iter().zip(&at) {
        let (left, top) = (x - box_w / 2.0, y - box_h / 2.0);
        let _ = write!(
            s,
            "<g class=\"node {}\"><title>{} at {}: {}</title><rect x=\"{left:.1}\" y=\"{top:.1}\" width=\"{box_w:.1}\" \
             height=\"{box_h}\" rx=\"4\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"t1\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"t2\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" class=\"t2\">{}</text></g>",
            p.status,
            escape_html(&node.type_name),
            node.address,
            escape_html(&node.preview),
            left + 8.0,
            top + 15.0,
            escape_html(&cut(&node.type_name, MAX_CHARS)),
            left + 8.0,
            top + 29.0,
            node.address,
            left + 8.0,
            top + 43.0,
            escape_html(&cut(&node.preview, MAX_CHARS))
        );
    }
    let more = p.size.saturating_sub(p.nodes.len() as u64);
    if more > 0 {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" class=\"more\">+{} more</text>",
            width - 8.0,
            height - 8.0,
            count(more)
        );
    }
    s.push_str("</svg>");
    s
}
