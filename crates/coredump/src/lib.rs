//! ELF core file reader: the memory map, notes, threads, mapped files and symbols of a crashed or `gcore`d process.
//!
//! This crate knows nothing about Python. It turns a core file (plus, optionally, the binaries it mapped) into an
//! address space readable through the [`Memory`] trait, which every decoder above it is generic over.

mod addr;
mod core;
mod elf;
mod error;
mod header;
mod identity;
mod image;
mod le;
mod memory;
mod notes;
mod process;
mod source;
#[doc(hidden)]
pub mod testutil;

pub use crate::core::{CoreFile, Presence, Segment};
pub use addr::Addr;
pub use elf::{
    build_id_hex, DiskElf, DynamicInfo, ElfError, ElfLimits, ElfLocation, ElfPart, LoadSegment, MappedElf, Symbol,
    SymbolKind,
};
pub use error::{Error, ReadError};
pub use identity::CoreIdentity;
pub use image::{BytesSource, LoadedObject, ObjectMapping, ProcessImage, Range, SymbolRef, SyntheticImage};
pub use memory::{Memory, SyntheticMemory};
pub use notes::{
    MappedFile, Note, ProcessInfo, Registers, ThreadInfo, X86_64Regs, EM_X86_64, NT_AUXV, NT_FILE, NT_PRPSINFO,
    NT_PRSTATUS,
};
pub use process::{CoreProcess, OpenOptions};
pub use source::Compression;
