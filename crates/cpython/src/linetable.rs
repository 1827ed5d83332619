//! Instruction offset → source line, for every line-table format CPython 3.8–3.15 uses.
//!
//! Pure functions over the raw table bytes; they reproduce `PyCode_Addr2Line`, the C function behind
//! `frame.f_lineno` and tracebacks:
//!
//! - **3.8/3.9 `co_lnotab`**: byte pairs (bytecode-offset increment in bytes, signed line increment).
//! - **3.10 `co_linetable`** (PEP 626): byte pairs (offset increment in bytes, signed line increment; −128 means the
//!   range has no line).
//! - **3.11+ `co_linetable`** (PEP 657 location table): entries that start with a byte whose bit 7 is set; bits 3–6
//!   are the kind and bits 0–2 the length − 1 in 2-byte code units. Kind 15 has no location, 14 (long form) and 13
//!   (no columns) carry a signed varint line delta, 10–12 a line delta of kind − 10, and 0–9 stay on the same line.
//!
//! Offsets are always **bytes** of bytecode: callers convert `f_lasti` (code units in 3.10) or an instruction pointer
//! (3.11+) first. Every loop consumes at least one table byte per step, so a corrupt table ends the walk instead of
//! hanging it; nothing here panics on any input.

/// The line-table format of a code object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineTableFormat {
    /// 3.8/3.9 `co_lnotab`.
    Lnotab,
    /// 3.10 `co_linetable` (PEP 626).
    Pep626,
    /// 3.11+ `co_linetable`, the PEP 657 location table.
    Locations,
}

impl LineTableFormat {
    /// The format of CPython 3.`minor` (3.8 and later).
    pub fn for_minor(minor: u8) -> LineTableFormat {
        match minor {
            0..=9 => LineTableFormat::Lnotab,
            10 => LineTableFormat::Pep626,
            _ => LineTableFormat::Locations,
        }
    }
}

/// A range of bytecode `[start, end)` (byte offsets) and its line, `None` when it has no line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRange {
    /// First byte offset.
    pub start: u64,
    /// One past the last byte offset (`u64::MAX` for the open-ended last range of a `co_lnotab`).
    pub end: u64,
    /// The source line, or `None` for "no location" (3.10+).
    pub line: Option<i32>,
}

/// One code object's line table.
#[derive(Debug, Clone, Copy)]
pub struct LineTable<'a> {
    format: LineTableFormat,
    table: &'a [u8],
    firstlineno: i32,
}

impl<'a> LineTable<'a> {
    /// A table in `format`, for a code object whose `co_firstlineno` is `firstlineno`.
    pub fn new(format: LineTableFormat, table: &'a [u8], firstlineno: i32) -> LineTable<'a> {
        LineTable { format, table, firstlineno }
    }

    /// The line of the instruction at byte offset `offset`, as `PyCode_Addr2Line` computes it: `co_firstlineno`
    /// for a negative offset (a frame that has not started), `None` where 3.10+ records no line or past the end of
    /// a 3.10+ table.
    pub fn line_at(&self, offset: i64) -> Option<i32> {
        let Ok(offset) = u64::try_from(offset) else {
            return Some(self.firstlineno);
        };
        if self.format == LineTableFormat::Lnotab {
            return Some(lnotab_line(self.table, self.firstlineno, offset));
        }
        self.ranges().find(|r| offset < r.end).filter(|r| r.start <= offset).and_then(|r| r.line)
    }

    /// The address ranges in order, as `code.co_lines()` yields them on 3.10+ (zero-length ranges skipped).
    pub fn ranges(&self) -> Ranges<'a> {
        Ranges { format: self.format, table: self.table, pos: 0, end: 0, line: self.firstlineno, done: false }
    }
}

/// `PyCode_Addr2Line` of 3.8/3.9, step for step.
fn lnotab_line(table: &[u8], firstlineno: i32, offset: u64) -> i32 {
    let mut line = firstlineno;
    let mut addr = 0u64;
    for pair in table.chunks_exact(2) {
        addr += u64::from(pair[0]);
        if addr > offset {
            break;
        }
        line = line.wrapping_add(i32::from(pair[1] as i8));
    }
    line
}

/// Iterator over a table's [`LineRange`]s; see [`LineTable::ranges`].
#[derive(Debug, Clone)]
pub struct Ranges<'a> {
    format: LineTableFormat,
    table: &'a [u8],
    /// Next unread byte of `table`.
    pos: usize,
    /// End of the previous range (start of the next).
    end: u64,
    /// The running line (`computed_line` in CPython).
    line: i32,
    done: bool,
}

impl Iterator for Ranges<'_> {
    type Item = LineRange;

    fn next(&mut self) -> Option<LineRange> {
        while !self.done {
            let step = match self.format {
                LineTableFormat::Lnotab => self.lnotab_step(),
                LineTableFormat::Pep626 => self.pep626_step(),
                LineTableFormat::Locations => self.locations_step(),
            };
            match step {
                Some(r) if r.start < r.end => return Some(r),
                Some(_) => {}
                None => self.done = true,
            }
        }
        None
    }
}

impl Ranges<'_> {
    /// One `co_lnotab` pair; after the last, the open-ended final range.
    fn lnotab_step(&mut self) -> Option<LineRange> {
        let start = self.end;
        match self.table.get(self.pos..self.pos + 2) {
            Some(&[incr, delta]) => {
                self.pos += 2;
                let r = LineRange { start, end: start.saturating_add(u64::from(incr)), line: Some(self.line) };
                self.end = r.end;
                self.line = self.line.wrapping_add(i32::from(delta as i8));
                Some(r)
            }
            _ => {
                self.pos = self.table.len();
                self.done = true; // the next call ends the iteration
                Some(LineRange { start, end: u64::MAX, line: Some(self.line) })
            }
        }
    }

    /// One PEP 626 pair (`advance` in 3.10's `Objects/codeobject.c`).
    fn pep626_step(&mut self) -> Option<LineRange> {
        let &[incr, delta] = self.table.get(self.pos..self.pos + 2)? else { return None };
        self.pos += 2;
        let start = self.end;
        self.end = start.saturating_add(u64::from(incr));
        let line = if delta as i8 == -128 {
            None
        } else {
            self.line = self.line.wrapping_add(i32::from(delta as i8));
            Some(self.line)
        };
        Some(LineRange { start, end: self.end, line })
    }

    /// One PEP 657 entry (`advance` in 3.11+'s `Objects/codeobject.c`).
    fn locations_step(&mut self) -> Option<LineRange> {
        let first = *self.table.get(self.pos)?;
        if first & 0x80 == 0 {
            return None; // not at the start of an entry: corrupt
        }
        let kind = (first >> 3) & 15;
        let delta = match kind {
            13 | 14 => read_signed_varint(self.table, self.pos + 1)?,
            10..=12 => i32::from(kind - 10),
            _ => 0,
        };
        self.line = self.line.wrapping_add(delta);
        let start = self.end;
        self.end = start.saturating_add((u64::from(first & 7) + 1) * 2);
        self.pos += 1;
        while self.table.get(self.pos).is_some_and(|b| b & 0x80 == 0) {
            self.pos += 1;
        }
        Some(LineRange { start, end: self.end, line: (kind != 15).then_some(self.line) })
    }
}

/// A PEP 657 varint at `pos`: 6-bit chunks, least significant first, 0x40 = more follow. `None` if truncated or
/// longer than 32 bits.
fn read_varint(table: &[u8], mut pos: usize) -> Option<u32> {
    let mut read = *table.get(pos)?;
    let mut val = u32::from(read & 63);
    let mut shift = 0u32;
    while read & 64 != 0 {
        pos += 1;
        read = *table.get(pos)?;
        shift += 6;
        if shift >= 32 {
            return None;
        }
        val |= u32::from(read & 63) << shift;
    }
    Some(val)
}

/// A PEP 657 signed varint: the varint's low bit is the sign, the rest the magnitude.
fn read_signed_varint(table: &[u8], pos: usize) -> Option<i32> {
    let u = read_varint(table, pos)?;
    let magnitude = (u >> 1) as i32;
    Some(if u & 1 != 0 { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests;
