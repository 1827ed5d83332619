//! The bodies of heapscope's fuzz targets, one function per target, taking the fuzzer's bytes.
//!
//! `fuzz/` (a workspace of its own, built with cargo-fuzz on nightly) wraps each function in a `fuzz_target!`; the
//! test `tests/corpus.rs` runs the same functions over the committed corpora (`fuzz/corpus/TARGET/`) on stable, so a
//! crash the fuzzer once found stays fixed. A target passes when its function returns: every error a malformed input
//! causes is an `Err` or a count, never a panic, and the functions assert nothing but that.
//!
//! | target | input | what runs |
//! |---|---|---|
//! | `core_parser` | a whole core file | [`CoreFile::from_bytes`], [`CoreProcess::from_core`], symbol lookups, reads |
//! | `elf_memory` | an ELF object mapped in memory | [`MappedElf`]: headers, build-id, dynamic section, symbol lookups |
//! | `elf_disk` | an ELF file | [`DiskElf`]: headers, build-id, `.symtab`/`.dynsym`, lookups, segment bytes |
//! | `dwarf` | an ELF file with DWARF | [`DwarfTypes`]: the type units, struct and member lookups |
//! | `objects` | patches to a fixture core's memory | decoding objects and their referents, previews |
//! | `summary` | patches to a fixture core's memory | version detection, layout, the whole snapshot build |
//!
//! The last two load a fixture core (`testdata/`) once per process and apply a short list of patches to its memory
//! for each input (see [`patch`]), so an execution costs one decode of the patched parts, not one core parse.
//!
//! [`CoreFile::from_bytes`]: heapscope_coredump::CoreFile::from_bytes
//! [`CoreProcess::from_core`]: heapscope_coredump::CoreProcess::from_core
//! [`MappedElf`]: heapscope_coredump::MappedElf
//! [`DiskElf`]: heapscope_coredump::DiskElf
//! [`DwarfTypes`]: heapscope_cpython::dwarf::DwarfTypes

pub mod fixture;
pub mod patch;
mod targets;

pub use targets::{core_parser, dwarf, elf_disk, elf_memory, objects, summary};

/// A target's body.
pub type Body = fn(&[u8]);

/// Every target: its name (the directory of its corpus under `fuzz/corpus/`) and its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("core_parser", core_parser),
    ("elf_memory", elf_memory),
    ("elf_disk", elf_disk),
    ("dwarf", dwarf),
    ("objects", objects),
    ("summary", summary),
];
