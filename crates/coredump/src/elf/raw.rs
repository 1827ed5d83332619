//! Bounds-checked decoders for the few ELF64 little-endian records both readers need, and the two hash functions.
//!
//! Every decoder takes a fixed-size array, so field reads cannot go out of bounds; turning an untrusted slice and
//! offset into such an array is done with `get(..)`, which fails instead of panicking.

pub(crate) use goblin::elf::dynamic::{
    DT_GNU_HASH, DT_HASH, DT_NULL, DT_SONAME, DT_STRSZ, DT_STRTAB, DT_SYMENT, DT_SYMTAB, DT_VERSYM,
};
pub(crate) use goblin::elf::note::NT_GNU_BUILD_ID;
pub(crate) use goblin::elf::program_header::{PT_DYNAMIC, PT_LOAD, PT_NOTE};
pub(crate) use goblin::elf::section_header::{SHT_DYNSYM, SHT_GNU_VERSYM, SHT_NOBITS, SHT_NOTE, SHT_SYMTAB};

use goblin::elf::header::{
    EI_CLASS, EI_DATA, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFMAG, ET_CORE, ET_DYN, ET_EXEC, ET_REL,
};
use goblin::elf::section_header::{SHN_ABS, SHN_UNDEF};
use goblin::elf::sym::{STB_LOCAL, STT_COMMON, STT_FILE, STT_FUNC, STT_GNU_IFUNC, STT_OBJECT, STT_SECTION, STT_TLS};

use super::{Symbol, SymbolKind};
use crate::Addr;

/// `sizeof(Elf64_Ehdr)`.
pub(crate) const EHDR_SIZE: usize = 64;
/// `sizeof(Elf64_Phdr)`.
pub(crate) const PHDR_SIZE: usize = 56;
/// `sizeof(Elf64_Shdr)`.
pub(crate) const SHDR_SIZE: usize = 64;
/// `sizeof(Elf64_Sym)`.
pub(crate) const SYM_SIZE: usize = 24;
/// `sizeof(Elf64_Dyn)`.
pub(crate) const DYN_SIZE: usize = 16;
/// Bit of a `.gnu.version` entry marking a non-default (hidden) version, as in `foo@VER` versus `foo@@VER`.
pub(crate) const VERSYM_HIDDEN: u16 = 0x8000;
/// `e_phnum` value meaning "the real count is in section header 0".
pub(crate) const PN_XNUM: u16 = 0xffff;

fn u16_at<const N: usize>(b: &[u8; N], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

fn u32_at<const N: usize>(b: &[u8; N], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn u64_at<const N: usize>(b: &[u8; N], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

/// `data[off..off + N]` as an array, or `None` when out of range.
pub(crate) fn array_at<const N: usize>(data: &[u8], off: u64) -> Option<&[u8; N]> {
    let off = usize::try_from(off).ok()?;
    data.get(off..off.checked_add(N)?)?.try_into().ok()
}

/// `data[off..off + len]`, or `None` when out of range.
pub(crate) fn slice_at(data: &[u8], off: u64, len: u64) -> Option<&[u8]> {
    let off = usize::try_from(off).ok()?;
    let len = usize::try_from(len).ok()?;
    data.get(off..off.checked_add(len)?)
}

/// Why an ELF header was rejected.
#[derive(Debug)]
pub(crate) enum HeaderProblem {
    /// Not ELF at all.
    NotElf(String),
    /// ELF, but not a kind we read.
    Unsupported(String),
}

/// The fields of `Elf64_Ehdr` we use.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ehdr {
    pub e_type: u16,
    pub e_machine: u16,
    pub e_phoff: u64,
    pub e_shoff: u64,
    pub e_phentsize: u16,
    pub e_phnum: u16,
    pub e_shentsize: u16,
    pub e_shnum: u16,
}

impl Ehdr {
    /// Decodes and validates an ELF header: ELF64, little-endian, `ET_EXEC` or `ET_DYN`.
    pub fn parse(b: &[u8; EHDR_SIZE]) -> Result<Ehdr, HeaderProblem> {
        if b[..4] != ELFMAG[..] {
            return Err(HeaderProblem::NotElf(format!("bad magic {:02x?}", &b[..4])));
        }
        match b[EI_CLASS] {
            ELFCLASS64 => {}
            ELFCLASS32 => return Err(HeaderProblem::Unsupported("32-bit (ELFCLASS32) object".into())),
            c => return Err(HeaderProblem::NotElf(format!("invalid ELF class {c}"))),
        }
        if b[EI_DATA] != ELFDATA2LSB {
            return Err(HeaderProblem::Unsupported(format!("not little-endian (EI_DATA = {})", b[EI_DATA])));
        }
        let h = Ehdr {
            e_type: u16_at(b, 16),
            e_machine: u16_at(b, 18),
            e_phoff: u64_at(b, 32),
            e_shoff: u64_at(b, 40),
            e_phentsize: u16_at(b, 54),
            e_phnum: u16_at(b, 56),
            e_shentsize: u16_at(b, 58),
            e_shnum: u16_at(b, 60),
        };
        match h.e_type {
            ET_EXEC | ET_DYN => Ok(h),
            ET_REL => Err(HeaderProblem::Unsupported(
                "relocatable object (ET_REL), not an executable or shared object".into(),
            )),
            ET_CORE => {
                Err(HeaderProblem::Unsupported("core file (ET_CORE), not an executable or shared object".into()))
            }
            t => Err(HeaderProblem::Unsupported(format!("unknown object type e_type = {t:#x}"))),
        }
    }
}

/// `Elf64_Phdr`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Phdr {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}

impl Phdr {
    /// Decodes a program header.
    pub fn parse(b: &[u8; PHDR_SIZE]) -> Phdr {
        Phdr {
            p_type: u32_at(b, 0),
            p_flags: u32_at(b, 4),
            p_offset: u64_at(b, 8),
            p_vaddr: u64_at(b, 16),
            p_filesz: u64_at(b, 32),
            p_memsz: u64_at(b, 40),
            p_align: u64_at(b, 48),
        }
    }

    /// Decodes `count` program headers from `data` (which must hold them all).
    pub fn parse_table(data: &[u8], count: usize) -> Option<Vec<Phdr>> {
        if data.len() / PHDR_SIZE < count {
            return None;
        }
        (0..count).map(|i| array_at(data, (i * PHDR_SIZE) as u64).map(Phdr::parse)).collect()
    }
}

/// `Elf64_Shdr`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shdr {
    pub sh_type: u32,
    pub sh_offset: u64,
    pub sh_size: u64,
    pub sh_link: u32,
    pub sh_addralign: u64,
    pub sh_entsize: u64,
}

impl Shdr {
    /// Decodes a section header.
    pub fn parse(b: &[u8; SHDR_SIZE]) -> Shdr {
        Shdr {
            sh_type: u32_at(b, 4),
            sh_offset: u64_at(b, 24),
            sh_size: u64_at(b, 32),
            sh_link: u32_at(b, 40),
            sh_addralign: u64_at(b, 48),
            sh_entsize: u64_at(b, 56),
        }
    }
}

/// `Elf64_Sym`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sym {
    pub st_name: u32,
    pub st_info: u8,
    pub st_shndx: u16,
    pub st_value: u64,
    pub st_size: u64,
}

impl Sym {
    /// Decodes a symbol.
    pub fn parse(b: &[u8; SYM_SIZE]) -> Sym {
        Sym {
            st_name: u32_at(b, 0),
            st_info: b[4],
            st_shndx: u16_at(b, 6),
            st_value: u64_at(b, 8),
            st_size: u64_at(b, 16),
        }
    }

    /// `STT_*`.
    pub fn st_type(&self) -> u8 {
        self.st_info & 0xf
    }

    /// `STB_*`.
    pub fn st_bind(&self) -> u8 {
        self.st_info >> 4
    }

    /// True for an undefined symbol (an import), which lookups skip.
    pub fn is_undefined(&self) -> bool {
        u32::from(self.st_shndx) == SHN_UNDEF
    }

    /// True for symbols worth reporting: defined, and not a section or source-file marker.
    pub fn is_reportable(&self) -> bool {
        !self.is_undefined() && !matches!(self.st_type(), STT_SECTION | STT_FILE)
    }

    /// The [`Symbol`] for this entry, with `bias` added to relocatable addresses.
    pub fn to_symbol(self, name: &[u8], bias: u64) -> Symbol {
        let kind = match self.st_type() {
            STT_FUNC | STT_GNU_IFUNC => SymbolKind::Func,
            STT_OBJECT | STT_COMMON => SymbolKind::Object,
            STT_TLS => SymbolKind::Tls,
            _ => SymbolKind::Other,
        };
        let absolute = u32::from(self.st_shndx) == SHN_ABS;
        let addr = if absolute || kind == SymbolKind::Tls { self.st_value } else { self.st_value.wrapping_add(bias) };
        Symbol {
            name: String::from_utf8_lossy(name).into_owned(),
            addr: Addr(addr),
            size: self.st_size,
            kind,
            global: self.st_bind() != STB_LOCAL,
            absolute,
        }
    }
}

/// `Elf64_Dyn`: `(d_tag, d_val)`.
pub(crate) fn parse_dyn(b: &[u8; DYN_SIZE]) -> (u64, u64) {
    (u64_at(b, 0), u64_at(b, 8))
}

/// The descriptor of the first `NT_GNU_BUILD_ID` note named "GNU" in a note segment/section, if any.
///
/// `align` is the segment's `p_align` (or section's `sh_addralign`): notes are padded to 8 bytes when it is 8, else 4.
pub(crate) fn find_build_id(data: &[u8], align: u64) -> Option<&[u8]> {
    let align: u64 = if align == 8 { 8 } else { 4 };
    let pad = |x: u64| x.checked_add(align - 1).map(|v| v & !(align - 1));
    let len = data.len() as u64;
    let mut pos: u64 = 0;
    // Each iteration advances by at least the 12-byte header, so this loop ends.
    while let Some(hdr) = array_at::<12>(data, pos) {
        let namesz = u64::from(u32_at(hdr, 0));
        let descsz = u64::from(u32_at(hdr, 4));
        let ntype = u32_at(hdr, 8);
        let name_off = pos + 12;
        let desc_off = pad(name_off.checked_add(namesz)?)?;
        let desc_end = desc_off.checked_add(descsz)?;
        if desc_end > len {
            return None;
        }
        let name = slice_at(data, name_off, namesz)?;
        if ntype == NT_GNU_BUILD_ID && name == b"GNU\0" && descsz > 0 {
            return slice_at(data, desc_off, descsz);
        }
        pos = pad(desc_end)?;
    }
    None
}

/// The GNU hash of a symbol name (`DT_GNU_HASH`): Bernstein's `h * 33 + c`, seeded with 5381.
pub(crate) fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| h.wrapping_mul(33).wrapping_add(u32::from(c)))
}

/// The SysV ELF hash of a symbol name (`DT_HASH`).
pub(crate) fn sysv_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in name {
        h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
        }
        h &= !g;
    }
    h
}
