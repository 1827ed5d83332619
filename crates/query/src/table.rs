//! A minimal aligned text table for human-readable output.

use std::io::{self, Write};

/// Rows of cells printed with aligned columns; numeric-looking columns are right-aligned.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(header: I) -> Table {
        Table { header: header.into_iter().map(Into::into).collect(), rows: Vec::new() }
    }

    /// Appends a row (missing cells print empty, extra cells are kept).
    pub fn row<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, cells: I) -> &mut Self {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes the table; the last column is never padded.
    pub fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        let ncols = self.rows.iter().map(Vec::len).chain([self.header.len()]).max().unwrap_or(0);
        let mut widths = vec![0usize; ncols];
        let mut numeric = vec![true; ncols];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if !is_numeric(cell) {
                    numeric[i] = false;
                }
            }
        }
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for i in 0..ncols {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                let pad = widths[i].saturating_sub(cell.chars().count());
                if i > 0 {
                    line.push_str("  ");
                }
                if numeric[i] && !std::ptr::eq(row, &self.header) {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if i + 1 < ncols {
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            writeln!(w, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

impl Table {
    /// Writes the table as a GitHub-flavoured Markdown table (numeric columns right-aligned), every cell escaped.
    pub fn write_markdown(&self, w: &mut dyn Write) -> io::Result<()> {
        self.write_markdown_with(w, &[])
    }

    /// [`Table::write_markdown`], with the cells of the columns `code` (paths, type names) as code spans.
    pub fn write_markdown_with(&self, w: &mut dyn Write, code: &[usize]) -> io::Result<()> {
        let ncols = self.rows.iter().map(Vec::len).chain([self.header.len()]).max().unwrap_or(0).max(1);
        let cell = |row: &[String], i: usize, header: bool| {
            let text = row.get(i).map(String::as_str).unwrap_or("");
            if !header && code.contains(&i) && !text.is_empty() {
                md_code(text).replace('|', "\\|")
            } else {
                md_escape(text)
            }
        };
        let line = |row: &[String], header: bool| {
            let cells: Vec<String> = (0..ncols).map(|i| cell(row, i, header)).collect();
            format!("| {} |", cells.join(" | "))
        };
        writeln!(w, "{}", line(&self.header, true))?;
        let align: Vec<&str> = (0..ncols)
            .map(|i| {
                let numeric = !self.rows.is_empty() && self.rows.iter().all(|r| r.get(i).is_none_or(|c| is_numeric(c)));
                if numeric {
                    "---:"
                } else {
                    "---"
                }
            })
            .collect();
        writeln!(w, "| {} |", align.join(" | "))?;
        for row in &self.rows {
            writeln!(w, "{}", line(row, false))?;
        }
        Ok(())
    }
}

/// `text` as a Markdown code span: between backtick runs longer than any inside it, line breaks as spaces.
pub fn md_code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let fence = "`".repeat(longest_run(&text, '`') + 1);
    // A space inside the fence keeps a leading or trailing backtick from joining it.
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// The longest run of `ch` in `s`.
pub(crate) fn longest_run(s: &str, ch: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in s.chars() {
        run = if c == ch { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// A cell that reads as a number (`1,234`, `+5`, `-0.3`, or empty): right-aligned.
fn is_numeric(cell: &str) -> bool {
    let digits = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    cell.is_empty() || (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit() || b == b',' || b == b'.'))
}

/// Escapes text for Markdown (in a table cell or a paragraph): every character that could start markup or end a
/// cell is backslash-escaped, and line breaks become spaces, so text from the core reads as text.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '!' | '~' | '{' | '}' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_and_right_aligns_numbers() {
        let mut t = Table::new(["NAME", "COUNT"]);
        t.row(["a", "5"]).row(["longer", "1234"]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "NAME    COUNT\na           5\nlonger   1234\n");
    }

    #[test]
    fn markdown_escapes_cells_and_aligns_numbers() {
        let mut t = Table::new(["PATH", "Δ"]);
        t.row(["sys.modules['__main__'].x|y", "+1,024"]).row(["<b>", "-3"]);
        let mut out = Vec::new();
        t.write_markdown(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "| PATH | Δ |\n| --- | ---: |\n| sys.modules\\['\\_\\_main\\_\\_'\\].x\\|y | +1,024 |\n| \\<b\\> | -3 |\n"
        );
        let mut out = Vec::new();
        t.write_markdown_with(&mut out, &[0]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "| PATH | Δ |\n| --- | ---: |\n| `sys.modules['__main__'].x\\|y` | +1,024 |\n| `<b>` | -3 |\n"
        );
        assert_eq!(md_code("a`b"), "``a`b``");
        assert_eq!(md_code("`x"), "`` `x ``");
    }
}
