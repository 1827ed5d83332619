//! ELF objects (x86-64 executables and shared objects): as mapped in the analysed process, and as files on disk.
//!
//! Two readers share one set of hand-written, bounds-checked decoders (module `raw`):
//!
//! - [`MappedElf`] reads an object through [`Memory`](crate::Memory) — typically the core — starting from where its
//!   first page is mapped: program headers, load bias, GNU build-id, the dynamic section and the dynamic symbol table
//!   (looked up through `DT_GNU_HASH`, `DT_HASH`, or a bounded linear scan).
//! - [`DiskElf`] reads the same object's file: build-id, `.symtab` (with `LOCAL` symbols such as `arenas`) and
//!   `.dynsym`, and the bytes of its `PT_LOAD` segments, for pages the core omits.
//!
//! Every count, offset and length in either input is untrusted: it is checked against the data it claims to describe
//! (disk) or capped by [`ElfLimits`] (memory) before it sizes an allocation or a loop. Malformed input is an
//! [`ElfError`], never a panic or a hang.
//!
//! # Why not `goblin::elf::Elf::parse`
//!
//! `goblin` is used for the ELF constants only. Its whole-file parser eagerly decodes every section, relocation and
//! string table, has a history of panics and huge allocations on fuzzed input (goblin #120, CVE-2021-39480), rejects
//! valid files whose string tables are not UTF-8 (goblin #304), and cannot read an object out of process memory at all.
//! The handful of fixed-layout records we need (ELF header, program and section headers, `Elf64_Sym`, `Elf64_Dyn`,
//! notes) are decoded by hand in `raw`, with every range validated, and the same decoders serve both readers.

mod disk;
mod error;
mod memory_image;
pub(crate) mod raw;

#[cfg(test)]
mod test_image;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

pub use disk::DiskElf;
pub use error::{ElfError, ElfLocation, ElfPart};
pub use memory_image::{DynamicInfo, MappedElf};

use crate::Addr;

/// Limits applied to counts and lengths read from an ELF object in memory (which may be corrupt or hostile).
///
/// The defaults fit every real object comfortably; lower them in tests, raise them for exotic binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ElfLimits {
    /// Maximum number of dynamic symbols (and of hash buckets, and of hash-chain steps in one lookup).
    pub max_symbols: u64,
    /// Maximum length of a symbol name or `DT_SONAME`, in bytes (longer names are skipped, never truncated).
    pub max_name_len: usize,
    /// Maximum number of program headers.
    pub max_program_headers: u16,
    /// Maximum number of `Elf64_Dyn` entries read from `PT_DYNAMIC`.
    pub max_dynamic_entries: u64,
    /// Maximum number of bytes read from one `PT_NOTE` segment.
    pub max_note_bytes: u64,
}

impl Default for ElfLimits {
    fn default() -> Self {
        ElfLimits {
            max_symbols: 10_000_000,
            max_name_len: 4096,
            max_program_headers: 4096,
            max_dynamic_entries: 4096,
            max_note_bytes: 64 * 1024,
        }
    }
}

/// What a symbol names, from `STT_*` in `st_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SymbolKind {
    /// Code: `STT_FUNC` or `STT_GNU_IFUNC`.
    Func,
    /// Data: `STT_OBJECT` or `STT_COMMON`.
    Object,
    /// Thread-local data (`STT_TLS`): the address is an offset in the module's TLS block, never relocated.
    Tls,
    /// Anything else (`STT_NOTYPE`, processor- or OS-specific types).
    Other,
}

/// A defined symbol of an ELF object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Symbol {
    /// The symbol name (non-UTF-8 bytes replaced by U+FFFD).
    pub name: String,
    /// The address. From [`MappedElf`] it is relocated (`st_value + load bias`); from [`DiskElf`] it is the file's
    /// unrelocated `st_value` (see [`Symbol::relocated`]). Absolute ([`Symbol::absolute`]) and [`SymbolKind::Tls`]
    /// symbols are never relocated.
    pub addr: Addr,
    /// `st_size`, in bytes (0 when unknown).
    pub size: u64,
    /// What the symbol names.
    pub kind: SymbolKind,
    /// True for `GLOBAL`, `WEAK` and `GNU_UNIQUE` bindings, false for `LOCAL` ones.
    pub global: bool,
    /// True when `st_shndx == SHN_ABS`: the value is a constant, not an address in the object.
    pub absolute: bool,
}

impl Symbol {
    /// This symbol with `bias` added to its address (wrapping, as the dynamic loader does), unless it is absolute or
    /// thread-local. Use it on [`DiskElf`] symbols with the bias of the mapping ([`MappedElf::load_bias`] or
    /// [`DiskElf::load_bias`]); [`MappedElf`] symbols are already relocated.
    pub fn relocated(&self, bias: u64) -> Symbol {
        let mut s = self.clone();
        if !s.absolute && s.kind != SymbolKind::Tls {
            s.addr = s.addr.wrapping_add(bias);
        }
        s
    }
}

/// A `PT_LOAD` segment, with the file's unrelocated addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LoadSegment {
    /// `p_vaddr`: where the segment starts, before relocation.
    pub vaddr: u64,
    /// `p_memsz`: its size in memory (`vaddr + memsz` is checked not to overflow).
    pub memsz: u64,
    /// `p_offset`: where its bytes start in the file.
    pub offset: u64,
    /// `p_filesz`: how many bytes come from the file; the rest up to `memsz` is zero-filled (`.bss`).
    pub filesz: u64,
    /// `p_flags` (`PF_X` = 1, `PF_W` = 2, `PF_R` = 4).
    pub flags: u32,
}

impl LoadSegment {
    /// True if the unrelocated address `vaddr` lies in `[self.vaddr, self.vaddr + memsz)`.
    pub fn contains(&self, vaddr: u64) -> bool {
        vaddr >= self.vaddr && vaddr - self.vaddr < self.memsz
    }
}

/// Lower-case hex of a build-id (or any byte string), as `readelf -n` and debuginfod print it.
pub fn build_id_hex(id: &[u8]) -> String {
    let mut s = String::with_capacity(id.len() * 2);
    for b in id {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The load bias of an object whose file offset 0 is mapped at `header_addr`: `header_addr` minus the page-aligned
/// `p_vaddr` of the `PT_LOAD` segment that maps offset 0 (wrapping, as the dynamic loader's `l_addr` does).
fn bias_from_segments(segments: &[LoadSegment], header_addr: Addr) -> Option<u64> {
    const PAGE: u64 = 4096;
    segments.iter().find(|s| s.offset < PAGE).map(|s| header_addr.0.wrapping_sub(s.vaddr & !(PAGE - 1)))
}
