//! The ELF header and program headers of a core file, and the `PT_LOAD` segments they describe.
//!
//! Parsed by hand rather than with goblin: only the ELF header and the program header table are needed, and every
//! count and offset must be checked against the file before it sizes anything. A file that is not a 64-bit
//! little-endian `ET_CORE` is an [`Error`]; inconsistencies a real (truncated, hand-edited) core can have are
//! repaired with a warning.

use std::ops::Range;
use std::path::Path;

use crate::core::{Segment, Warnings};
use crate::image::Range as AddrRange;
use crate::le::{u16_at, u32_at, u64_at};
use crate::{Addr, Error};

const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const ET_CORE: u16 = 4;
const PN_XNUM: u16 = 0xffff;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// One program header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Phdr {
    pub(crate) index: usize,
    pub(crate) p_type: u32,
    pub(crate) p_flags: u32,
    pub(crate) p_offset: u64,
    pub(crate) p_vaddr: u64,
    pub(crate) p_filesz: u64,
    pub(crate) p_memsz: u64,
    pub(crate) p_align: u64,
}

/// What the ELF header and program headers say.
#[derive(Debug)]
pub(crate) struct Header {
    /// `e_machine`.
    pub(crate) machine: u16,
    /// The program headers, in file order.
    pub(crate) phdrs: Vec<Phdr>,
}

/// Checks the ELF header of `b` and reads its program header table.
pub(crate) fn parse(path: &Path, b: &[u8]) -> Result<Header, Error> {
    let malformed = |offset: u64, what: String| Error::Malformed { path: path.to_path_buf(), offset, what };
    let unsupported = |what: &str| Error::Unsupported { path: path.to_path_buf(), what: what.to_string() };
    if !b.starts_with(b"\x7fELF") {
        return Err(Error::NotElf { path: path.to_path_buf() });
    }
    match b.get(4) {
        Some(2) => {}
        Some(1) => return Err(unsupported("a 32-bit (ELFCLASS32) core")),
        _ => return Err(malformed(4, "unknown ELF class (EI_CLASS is neither 1 nor 2)".into())),
    }
    match b.get(5) {
        Some(1) => {}
        Some(2) => return Err(unsupported("a big-endian (ELFDATA2MSB) core")),
        _ => return Err(malformed(5, "unknown ELF data encoding (EI_DATA is neither 1 nor 2)".into())),
    }
    if b.len() < EHDR_SIZE {
        return Err(malformed(0, format!("the ELF header needs {EHDR_SIZE} bytes but the file has {}", b.len())));
    }
    let field = |off: usize| u64_at(b, off).unwrap_or(0);
    let half = |off: usize| u16_at(b, off).unwrap_or(0);
    let e_type = half(16);
    if e_type != ET_CORE {
        return Err(Error::NotCore { path: path.to_path_buf(), e_type });
    }
    let machine = half(18);
    let phoff = field(32);
    let phentsize = half(54);
    let mut phnum = u64::from(half(56));
    if phnum == u64::from(PN_XNUM) {
        // More than 65534 program headers: the real count is in sh_info of section header 0.
        let shoff = field(40);
        let sh_info = usize::try_from(shoff).ok().and_then(|o| u32_at(b, o.checked_add(44)?));
        phnum = match sh_info {
            Some(n) => u64::from(n),
            None => {
                return Err(malformed(
                    40,
                    format!("e_phnum is PN_XNUM but section header 0 (at {shoff:#x}) is past the end of the file"),
                ))
            }
        };
    }
    if phnum == 0 {
        return Ok(Header { machine, phdrs: Vec::new() });
    }
    if usize::from(phentsize) < PHDR_SIZE {
        return Err(malformed(54, format!("e_phentsize is {phentsize}, less than the {PHDR_SIZE} of an Elf64_Phdr")));
    }
    let table_end = phnum.checked_mul(u64::from(phentsize)).and_then(|n| n.checked_add(phoff));
    if !matches!(table_end, Some(end) if end <= b.len() as u64) {
        return Err(malformed(
            phoff,
            format!(
                "the program header table ({phnum} entries of {phentsize} bytes at {phoff:#x}) extends past the end \
                 of the file ({} bytes)",
                b.len()
            ),
        ));
    }
    // The table fits in the file, so `phnum` is bounded by the file size and so are these conversions.
    let mut phdrs = Vec::with_capacity(phnum as usize);
    for index in 0..phnum as usize {
        let at = phoff as usize + index * usize::from(phentsize);
        let word = |off: usize| u64_at(b, at + off).unwrap_or(0);
        phdrs.push(Phdr {
            index,
            p_type: u32_at(b, at).unwrap_or(0),
            p_flags: u32_at(b, at + 4).unwrap_or(0),
            p_offset: word(8),
            p_vaddr: word(16),
            p_filesz: word(32),
            p_memsz: word(40),
            p_align: word(48),
        });
    }
    Ok(Header { machine, phdrs })
}

/// The file ranges of the `PT_NOTE` segments and their note alignment, clipped to the file.
pub(crate) fn note_segments(phdrs: &[Phdr], file_len: u64, warn: &mut Warnings) -> Vec<(Range<u64>, u64)> {
    let mut out = Vec::new();
    for ph in phdrs.iter().filter(|p| p.p_type == PT_NOTE) {
        let want_end = ph.p_offset.saturating_add(ph.p_filesz);
        let end = want_end.min(file_len);
        if want_end > file_len {
            warn.push(format!(
                "PT_NOTE #{} (file offset {:#x}, {} bytes) extends past the end of the file ({file_len} bytes); \
                 notes after the cut are lost",
                ph.index, ph.p_offset, ph.p_filesz
            ));
        }
        let align = if ph.p_align == 8 { 8 } else { 4 };
        if ph.p_offset < end {
            out.push((ph.p_offset..end, align));
        }
    }
    out
}

/// The `PT_LOAD` segments, sorted by address, with sizes clipped to the file and overlaps removed; and the address
/// ranges the file was cut short of (a truncated core), sorted.
pub(crate) fn load_segments(phdrs: &[Phdr], file_len: u64, warn: &mut Warnings) -> (Vec<Segment>, Vec<AddrRange>) {
    let mut segs = Vec::new();
    let mut truncated: Vec<(usize, u64, u64)> = Vec::new(); // (phdr index, vaddr, missing bytes)
    let mut truncated_at: Vec<u64> = Vec::new(); // the first address each of them is missing
    for ph in phdrs.iter().filter(|p| p.p_type == PT_LOAD && p.p_memsz > 0) {
        let vaddr = ph.p_vaddr;
        let mut memsz = ph.p_memsz;
        if vaddr.checked_add(memsz).is_none() {
            memsz = u64::MAX - vaddr;
            warn.push(format!("PT_LOAD #{} at {vaddr:#x} runs past the end of the address space; clipped", ph.index));
        }
        let mut filesz = ph.p_filesz;
        if filesz > memsz {
            warn.push(format!(
                "PT_LOAD #{} at {vaddr:#x} has p_filesz {filesz:#x} > p_memsz {memsz:#x}; extra bytes ignored",
                ph.index
            ));
            filesz = memsz;
        }
        let avail = file_len.saturating_sub(ph.p_offset);
        if filesz > avail {
            truncated.push((ph.index, vaddr, filesz - avail));
            truncated_at.push(vaddr.saturating_add(avail));
            filesz = avail;
        }
        let readable = ph.p_flags & PF_R != 0;
        let writable = ph.p_flags & PF_W != 0;
        let executable = ph.p_flags & PF_X != 0;
        segs.push(Segment {
            vaddr: Addr(vaddr),
            memsz,
            file_offset: ph.p_offset,
            filesz,
            readable,
            writable,
            executable,
        });
    }
    if let Some(&(index, vaddr, missing)) = truncated.first() {
        let total: u64 = truncated.iter().map(|t| t.2).fold(0, u64::saturating_add);
        let more = match truncated.len() - 1 {
            0 => String::new(),
            n => format!("; {n} more segments after it are cut too ({total} bytes missing in all)"),
        };
        warn.push(format!(
            "the core is truncated (the file ends at {file_len:#x}): PT_LOAD #{index} at {vaddr:#x} is missing its \
             last {missing} bytes{more}; those addresses read as not in the core"
        ));
    }
    let mut cut: Vec<AddrRange> = truncated
        .iter()
        .zip(&truncated_at)
        .map(|(&(_, _, missing), &start)| AddrRange { start: Addr(start), end: Addr(start.saturating_add(missing)) })
        .collect();
    cut.sort_by_key(|r| r.start);
    segs.sort_by_key(|s| s.vaddr);
    (remove_overlaps(segs, warn), cut)
}

/// Cuts the start of any segment that overlaps the one before it (or drops it when it is covered).
fn remove_overlaps(segs: Vec<Segment>, warn: &mut Warnings) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segs.len());
    for mut s in segs {
        if let Some(prev_end) = out.last().map(|p| p.vaddr.0 + p.memsz) {
            if s.vaddr.0 < prev_end {
                let delta = prev_end - s.vaddr.0;
                warn.push(format!(
                    "PT_LOAD at {} overlaps the segment before it by {delta:#x} bytes; the overlap is read from the \
                     earlier one",
                    s.vaddr
                ));
                if delta >= s.memsz {
                    continue;
                }
                let cut = delta.min(s.filesz);
                s.vaddr = Addr(prev_end);
                s.memsz -= delta;
                s.file_offset += cut;
                s.filesz -= cut;
            }
        }
        out.push(s);
    }
    out
}
