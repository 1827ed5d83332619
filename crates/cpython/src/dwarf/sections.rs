//! The DWARF sections of an ELF file: found by name in the section header table, decompressed (`SHF_COMPRESSED`
//! zlib, or the older `.zdebug_*` form), and, for relocatable objects (`ET_REL`), relocated.
//!
//! Only what type lookup needs is loaded: `.debug_info`, `.debug_abbrev`, `.debug_str`, `.debug_line_str` and
//! `.debug_str_offsets`. ELF64 little-endian only (x86-64 for relocations).

use std::io::Read;
use std::sync::Arc;

use super::DwarfError;

/// Largest section accepted after decompression.
const MAX_SECTION: u64 = 1 << 30;

const SHT_SYMTAB: u32 = 2;
const SHT_RELA: u32 = 4;
const SHT_NOBITS: u32 = 8;
const SHT_REL: u32 = 9;
const SHF_COMPRESSED: u64 = 0x800;
const ELFCOMPRESS_ZLIB: u32 = 1;
const ELFCOMPRESS_ZSTD: u32 = 2;
const ET_REL: u16 = 1;
const EM_X86_64: u16 = 62;
const R_X86_64_NONE: u32 = 0;
const R_X86_64_64: u32 = 1;
const R_X86_64_32: u32 = 10;
const R_X86_64_32S: u32 = 11;

/// The sections, owned (decompressed or copied out of the file).
#[derive(Debug, Default)]
pub(super) struct Sections {
    pub info: Arc<[u8]>,
    pub abbrev: Arc<[u8]>,
    pub str: Arc<[u8]>,
    pub line_str: Arc<[u8]>,
    pub str_offsets: Arc<[u8]>,
}

/// One section header (the fields used here).
#[derive(Debug, Clone, Copy)]
struct Shdr {
    name: u32,
    kind: u32,
    flags: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off.checked_add(4)?)?.try_into().ok()?))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(off..off.checked_add(8)?)?.try_into().ok()?))
}

/// `len` bytes of the file at `off`, or `None` when that range is not inside it.
fn slice(b: &[u8], off: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(off).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    b.get(start..end)
}

fn malformed(what: impl Into<String>) -> DwarfError {
    DwarfError::MalformedElf(what.into())
}

/// Loads the DWARF sections of `elf`.
pub(super) fn load(elf: &[u8]) -> Result<Sections, DwarfError> {
    if elf.get(..4) != Some(b"\x7fELF") {
        return Err(DwarfError::NotElf("no ELF magic".into()));
    }
    if elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return Err(DwarfError::NotElf("not a 64-bit little-endian ELF file".into()));
    }
    let e_type = u16_at(elf, 16).ok_or_else(|| malformed("truncated ELF header"))?;
    let machine = u16_at(elf, 18).ok_or_else(|| malformed("truncated ELF header"))?;
    let shdrs = section_headers(elf)?;
    let shstrndx = match u16_at(elf, 0x3e).ok_or_else(|| malformed("truncated ELF header"))? {
        0xffff => shdrs.first().map_or(0, |s| s.link as usize),
        n => usize::from(n),
    };
    let names = shdrs
        .get(shstrndx)
        .and_then(|s| slice(elf, s.offset, s.size))
        .ok_or_else(|| malformed(format!("section name table (section {shstrndx}) is outside the file")))?;
    let name_of = |s: &Shdr| -> &[u8] {
        let tail = usize::try_from(s.name).ok().and_then(|n| names.get(n..)).unwrap_or(&[]);
        let end = tail.iter().position(|&c| c == 0).unwrap_or(tail.len());
        &tail[..end]
    };

    let mut out = Sections::default();
    let mut found_info = false;
    for (base, slot) in [
        ("info", &mut out.info),
        ("abbrev", &mut out.abbrev),
        ("str", &mut out.str),
        ("line_str", &mut out.line_str),
        ("str_offsets", &mut out.str_offsets),
    ] {
        let plain = format!(".debug_{base}");
        let old = format!(".zdebug_{base}");
        let Some((index, sh)) = shdrs
            .iter()
            .enumerate()
            .find(|(_, s)| s.kind != SHT_NOBITS && (name_of(s) == plain.as_bytes() || name_of(s) == old.as_bytes()))
        else {
            continue;
        };
        let raw = slice(elf, sh.offset, sh.size).ok_or_else(|| {
            malformed(format!("section {plain} ({} bytes at {:#x}) is outside the file", sh.size, sh.offset))
        })?;
        let mut data = if sh.flags & SHF_COMPRESSED != 0 {
            decompress_gabi(raw, &plain)?
        } else if name_of(sh).starts_with(b".zdebug") {
            decompress_gnu(raw, &plain)?
        } else {
            raw.to_vec()
        };
        if e_type == ET_REL {
            relocate(elf, &shdrs, index, &mut data, &plain, machine)?;
        }
        found_info |= base == "info" && !data.is_empty();
        *slot = Arc::from(data);
    }
    if !found_info {
        return Err(DwarfError::NoDebugInfo);
    }
    Ok(out)
}

/// The section header table, which must lie inside the file (so its size is bounded by the file's).
fn section_headers(elf: &[u8]) -> Result<Vec<Shdr>, DwarfError> {
    let shoff = u64_at(elf, 0x28).ok_or_else(|| malformed("truncated ELF header"))?;
    let entsize = u16_at(elf, 0x3a).ok_or_else(|| malformed("truncated ELF header"))?;
    let shnum = u16_at(elf, 0x3c).ok_or_else(|| malformed("truncated ELF header"))?;
    if shoff == 0 {
        return Err(DwarfError::NoDebugInfo);
    }
    if entsize != 64 {
        return Err(malformed(format!("e_shentsize is {entsize}, expected 64")));
    }
    let parse = |b: &[u8]| -> Option<Shdr> {
        Some(Shdr {
            name: u32_at(b, 0)?,
            kind: u32_at(b, 4)?,
            flags: u64_at(b, 8)?,
            offset: u64_at(b, 24)?,
            size: u64_at(b, 32)?,
            link: u32_at(b, 40)?,
            info: u32_at(b, 44)?,
        })
    };
    let first = slice(elf, shoff, 64)
        .and_then(parse)
        .ok_or_else(|| malformed(format!("section header table at {shoff:#x} is outside the file")))?;
    let count = if shnum == 0 { first.size } else { u64::from(shnum) };
    let table = count
        .checked_mul(64)
        .and_then(|len| slice(elf, shoff, len))
        .ok_or_else(|| malformed(format!("{count} section headers at {shoff:#x} do not fit in the file")))?;
    Ok(table.chunks_exact(64).filter_map(parse).collect())
}

/// A `SHF_COMPRESSED` section: an `Elf64_Chdr` then the compressed bytes.
fn decompress_gabi(raw: &[u8], name: &str) -> Result<Vec<u8>, DwarfError> {
    let kind = u32_at(raw, 0).ok_or_else(|| malformed(format!("{name}: truncated compression header")))?;
    let size = u64_at(raw, 8).ok_or_else(|| malformed(format!("{name}: truncated compression header")))?;
    match kind {
        ELFCOMPRESS_ZLIB => inflate(raw.get(24..).unwrap_or(&[]), size, name),
        ELFCOMPRESS_ZSTD => Err(DwarfError::UnsupportedCompression { section: name.to_string(), kind: "zstd".into() }),
        other => Err(DwarfError::UnsupportedCompression { section: name.to_string(), kind: format!("type {other}") }),
    }
}

/// A GNU `.zdebug_*` section: `ZLIB`, the size as big-endian u64, then a zlib stream.
fn decompress_gnu(raw: &[u8], name: &str) -> Result<Vec<u8>, DwarfError> {
    if raw.get(..4) != Some(b"ZLIB") {
        return Err(malformed(format!("{name}: .zdebug section without the ZLIB header")));
    }
    let size = raw
        .get(4..12)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| malformed(format!("{name}: truncated .zdebug header")))?;
    inflate(raw.get(12..).unwrap_or(&[]), size, name)
}

/// Inflates a zlib stream that must produce exactly `size` bytes (at most [`MAX_SECTION`]).
fn inflate(stream: &[u8], size: u64, name: &str) -> Result<Vec<u8>, DwarfError> {
    if size > MAX_SECTION {
        return Err(DwarfError::Decompress {
            section: name.to_string(),
            reason: format!("claims {size} bytes uncompressed, more than the {MAX_SECTION}-byte limit"),
        });
    }
    // The capacity is bounded by MAX_SECTION and, for honest input, by ~1000x the compressed size.
    let mut out = Vec::with_capacity(usize::try_from(size.min(stream.len() as u64 * 1032)).unwrap_or(0));
    flate2::read::ZlibDecoder::new(stream)
        .take(size + 1)
        .read_to_end(&mut out)
        .map_err(|e| DwarfError::Decompress { section: name.to_string(), reason: e.to_string() })?;
    if out.len() as u64 != size {
        return Err(DwarfError::Decompress {
            section: name.to_string(),
            reason: format!("inflated to {} bytes, the header says {size}", out.len()),
        });
    }
    Ok(out)
}

/// Applies the `RELA` relocations that target section `target` (a relocatable object's debug sections refer to each
/// other through relocations against section symbols, and hold zeros until relocated).
fn relocate(
    elf: &[u8],
    shdrs: &[Shdr],
    target: usize,
    data: &mut [u8],
    name: &str,
    machine: u16,
) -> Result<(), DwarfError> {
    for rel in shdrs.iter().filter(|s| s.info as usize == target && (s.kind == SHT_RELA || s.kind == SHT_REL)) {
        if rel.kind == SHT_REL || machine != EM_X86_64 {
            return Err(DwarfError::Unsupported(format!(
                "relocations of {name} in a relocatable object for machine {machine} ({})",
                if rel.kind == SHT_REL { "SHT_REL" } else { "SHT_RELA" }
            )));
        }
        let symtab = shdrs
            .get(rel.link as usize)
            .filter(|s| s.kind == SHT_SYMTAB)
            .and_then(|s| slice(elf, s.offset, s.size))
            .ok_or_else(|| malformed(format!("the relocations of {name} name no symbol table")))?;
        let entries = slice(elf, rel.offset, rel.size)
            .ok_or_else(|| malformed(format!("the relocations of {name} are outside the file")))?;
        for e in entries.chunks_exact(24) {
            let (Some(offset), Some(info), Some(addend)) = (u64_at(e, 0), u64_at(e, 8), u64_at(e, 16)) else {
                continue;
            };
            let (sym, kind) = ((info >> 32) as usize, info as u32);
            let value = sym
                .checked_mul(24)
                .and_then(|at| u64_at(symtab, at + 8))
                .ok_or_else(|| malformed(format!("a relocation of {name} names symbol {sym}, not in the table")))?
                .wrapping_add(addend);
            let width = match kind {
                R_X86_64_NONE => continue,
                R_X86_64_64 => 8,
                R_X86_64_32 | R_X86_64_32S => 4,
                other => {
                    return Err(DwarfError::Unsupported(format!("relocation type {other} in {name}")));
                }
            };
            let dst = usize::try_from(offset)
                .ok()
                .and_then(|o| data.get_mut(o..o.checked_add(width)?))
                .ok_or_else(|| malformed(format!("a relocation at {offset:#x} is outside {name}")))?;
            dst.copy_from_slice(&value.to_le_bytes()[..width]);
        }
    }
    Ok(())
}
