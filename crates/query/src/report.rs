//! What every report is to the binary: the formats it can be written in and a writer for each.
//!
//! A report is plain serde data; its JSON is written by the one [`write_json`] (pretty, then a newline), its table by
//! its own [`Report::write_table`], and a report with a picture (a path, cycles) also writes Graphviz DOT; a report
//! meant for a ticket (`diff`, `report`) also writes GitHub-flavoured Markdown, and `report` a self-contained HTML page. The binary
//! picks the format, asks [`Report::FORMATS`] whether the report has it, and calls the writer: no command matches on
//! the format itself.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

/// The output formats of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for a person.
    Table,
    /// JSON for programs.
    Json,
    /// A Graphviz digraph.
    Dot,
    /// GitHub-flavoured Markdown, for a ticket.
    Markdown,
    /// One self-contained HTML page, for a browser.
    Html,
}

impl Format {
    /// The name on the command line (`--format json`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Dot => "dot",
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A report that the binary writes in the format the user chose.
pub trait Report: Serialize {
    /// The formats this report can be written in: a table and JSON always, DOT for a report with a picture.
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json];

    /// Writes the report for a person.
    fn write_table(&self, w: &mut dyn Write) -> io::Result<()>;

    /// Writes the report's picture as a Graphviz digraph, for a report whose [`Report::FORMATS`] list DOT.
    fn write_dot(&self, w: &mut dyn Write) -> io::Result<()> {
        let _ = w;
        Err(io::Error::new(io::ErrorKind::Unsupported, "this report has no DOT output"))
    }

    /// Writes the report as GitHub-flavoured Markdown, for a report whose [`Report::FORMATS`] list it.
    fn write_markdown(&self, w: &mut dyn Write) -> io::Result<()> {
        let _ = w;
        Err(io::Error::new(io::ErrorKind::Unsupported, "this report has no Markdown output"))
    }

    /// Writes the report as one self-contained HTML page, for a report whose [`Report::FORMATS`] list it.
    fn write_html(&self, w: &mut dyn Write) -> io::Result<()> {
        let _ = w;
        Err(io::Error::new(io::ErrorKind::Unsupported, "this report has no HTML output"))
    }

    /// Writes the report in `format`; a format the report does not have is an error of kind
    /// [`io::ErrorKind::Unsupported`] (check [`Report::FORMATS`] first for a better message).
    fn write(&self, format: Format, w: &mut dyn Write) -> io::Result<()>
    where
        Self: Sized,
    {
        if !Self::FORMATS.contains(&format) {
            return Err(io::Error::new(io::ErrorKind::Unsupported, format!("this report has no {format} output")));
        }
        match format {
            Format::Table => self.write_table(w),
            Format::Json => write_json(self, w),
            Format::Dot => self.write_dot(w),
            Format::Markdown => self.write_markdown(w),
            Format::Html => self.write_html(w),
        }
    }
}

/// Writes any report as pretty JSON and a newline: the JSON of every command.
pub fn write_json<T: Serialize + ?Sized>(value: &T, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Plain {
        n: u32,
    }

    impl Report for Plain {
        fn write_table(&self, w: &mut dyn Write) -> io::Result<()> {
            writeln!(w, "N {}", self.n)
        }
    }

    fn written(r: &Plain, format: Format) -> io::Result<String> {
        let mut out = Vec::new();
        r.write(format, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn writes_each_format_it_has_and_refuses_the_others() {
        let r = Plain { n: 3 };
        assert_eq!(written(&r, Format::Table).unwrap(), "N 3\n");
        assert_eq!(written(&r, Format::Json).unwrap(), "{\n  \"n\": 3\n}\n");
        for f in [Format::Dot, Format::Markdown, Format::Html] {
            let e = written(&r, f).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::Unsupported);
        }
        assert_eq!(Plain::FORMATS, &[Format::Table, Format::Json]);
    }
}
