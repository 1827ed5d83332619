//! Errors of the ELF readers.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::{Addr, ReadError};

/// Where an ELF object was being read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfLocation {
    /// An object mapped in the analysed process, by the address of its first page (the ELF header).
    Memory(Addr),
    /// A file on disk.
    File(PathBuf),
}

impl fmt::Display for ElfLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfLocation::Memory(a) => write!(f, "the ELF object mapped at {a}"),
            ElfLocation::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The part of an ELF object that was being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ElfPart {
    /// The ELF file header.
    Header,
    /// The program header table.
    ProgramHeaders,
    /// The section header table.
    SectionHeaders,
    /// A `PT_NOTE` segment or `SHT_NOTE` section.
    Notes,
    /// The dynamic section (`PT_DYNAMIC`).
    DynamicSection,
    /// A symbol table (`DT_SYMTAB`, `.dynsym`, `.symtab`).
    SymbolTable,
    /// A string table (`DT_STRTAB`, `.dynstr`, `.strtab`).
    StringTable,
    /// The GNU hash table (`DT_GNU_HASH`).
    GnuHashTable,
    /// The SysV hash table (`DT_HASH`).
    SysvHashTable,
    /// A loadable segment (`PT_LOAD`).
    Segment,
}

impl fmt::Display for ElfPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ElfPart::Header => "ELF header",
            ElfPart::ProgramHeaders => "program headers",
            ElfPart::SectionHeaders => "section headers",
            ElfPart::Notes => "notes",
            ElfPart::DynamicSection => "dynamic section",
            ElfPart::SymbolTable => "symbol table",
            ElfPart::StringTable => "string table",
            ElfPart::GnuHashTable => "GNU hash table",
            ElfPart::SysvHashTable => "SysV hash table",
            ElfPart::Segment => "loadable segment",
        })
    }
}

/// An ELF object could not be read or decoded.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ElfError {
    /// Memory holding part of a mapped object could not be read (typically: pages the core omits). The same data can
    /// usually be read from the object's file on disk.
    #[error("cannot read the {part} of the ELF object mapped at {object} (at {addr}): {source}")]
    Read {
        /// Where the object's ELF header is mapped.
        object: Addr,
        /// What was being read.
        part: ElfPart,
        /// Start of the failed read.
        addr: Addr,
        /// Why it failed.
        #[source]
        source: ReadError,
    },
    /// The data does not start with the ELF magic.
    #[error("{location} is not an ELF object: {reason}")]
    NotElf {
        /// Where the object was read from.
        location: ElfLocation,
        /// What was found instead.
        reason: String,
    },
    /// A valid ELF object of a kind this reader does not handle (32-bit, big-endian, relocatable, core).
    #[error("{location} is an ELF object heapscope does not support: {reason}")]
    Unsupported {
        /// Where the object was read from.
        location: ElfLocation,
        /// What is unsupported.
        reason: String,
    },
    /// A structure of the object is inconsistent (out-of-range offsets, bad sizes, cyclic hash chains).
    #[error("{location} has a malformed {part}: {reason}")]
    Malformed {
        /// Where the object was read from.
        location: ElfLocation,
        /// The malformed part.
        part: ElfPart,
        /// What is wrong with it.
        reason: String,
    },
    /// A mapped object has no `PT_DYNAMIC`, hence no dynamic symbols (a static executable, or a mapping that is not
    /// the start of an ELF object).
    #[error(
        "the ELF object mapped at {object} has no dynamic section (PT_DYNAMIC); look its symbols up in its file on disk"
    )]
    NoDynamicSection {
        /// Where the object's ELF header is mapped.
        object: Addr,
    },
    /// A mapped object's dynamic section lacks a usable `DT_SYMTAB`/`DT_STRTAB`.
    #[error("the ELF object mapped at {object} has no usable dynamic symbol table: {reason}; look its symbols up in its file on disk")]
    NoDynamicSymbols {
        /// Where the object's ELF header is mapped.
        object: Addr,
        /// What is missing or invalid.
        reason: String,
    },
    /// A file could not be opened, inspected or mapped.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error (shared, so that `ElfError` is `Clone`).
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A structure of a file lies (partly) beyond its end.
    #[error("{}: the {part} at file offset {offset:#x} ({len:#x} bytes) lies beyond the end of the file ({file_len:#x} bytes); the file is truncated or corrupt", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was being read.
        part: ElfPart,
        /// Its file offset.
        offset: u64,
        /// Its claimed length.
        len: u64,
        /// The file's length.
        file_len: u64,
    },
    /// [`DiskElf::read_at_vaddr`](crate::DiskElf::read_at_vaddr): no `PT_LOAD` segment of the file covers the address.
    #[error("{}: no loadable segment covers address {vaddr:#x} (unrelocated)", path.display())]
    VaddrNotInFile {
        /// The file.
        path: PathBuf,
        /// The first unrelocated address that is not covered.
        vaddr: u64,
    },
    /// [`DiskElf::read_at_vaddr`](crate::DiskElf::read_at_vaddr): the address lies in the zero-initialised part
    /// (`.bss`) of a segment, whose contents exist only in process memory.
    #[error("{}: address {vaddr:#x} (unrelocated) is in the zero-initialised (.bss) part of a segment; its contents exist only in process memory, not in the file", path.display())]
    VaddrInBss {
        /// The file.
        path: PathBuf,
        /// The first unrelocated address in `.bss`.
        vaddr: u64,
    },
}
