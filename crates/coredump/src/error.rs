//! Errors of the core reader.

use std::path::PathBuf;

use crate::Addr;

/// A failed read of the analysed process's memory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// No mapping of the process covers the address.
    #[error("address {addr} is not mapped in the process")]
    Unmapped {
        /// First address that could not be read.
        addr: Addr,
    },
    /// The address was mapped in the process, but the core omits its bytes (coredump_filter, or a file-backed
    /// mapping) and no matching file on disk could supply them.
    #[error("address {addr} lies in a mapping{} whose bytes the core does not contain{}", .mapping.as_ref().map(|m| format!(" of {}", m.display())).unwrap_or_default(), if .mapping.is_some() { "; pass --sysroot or --search-path so heapscope can read that file" } else { " (excluded by coredump_filter?)" })]
    NotInCore {
        /// First address that could not be read.
        addr: Addr,
        /// The mapped file, when the core names one.
        mapping: Option<PathBuf>,
    },
    /// The address lies in the part of a truncated core that the file was cut short of.
    #[error("address {addr} lies in the part of the core that is cut off (the core file is truncated); take the core again, with enough free disk space and RLIMIT_CORE (ulimit -c) where it is written")]
    Truncated {
        /// First address that could not be read.
        addr: Addr,
    },
    /// `addr + len` overflows the address space.
    #[error("read of {len} bytes at {addr} overflows the address space")]
    Overflow {
        /// Start of the read.
        addr: Addr,
        /// Length of the read.
        len: u64,
    },
    /// A C string had no NUL within the limit.
    #[error("string at {addr} has no terminating NUL within {max} bytes")]
    Unterminated {
        /// Start of the string.
        addr: Addr,
        /// The limit.
        max: usize,
    },
}

/// A core file that cannot be opened or understood.
///
/// Every message names the file, where in it the problem is, and what the user can do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {}: {source}; check the path and its permissions", .path.display())]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The temporary file a compressed core is decompressed into could not be created, written or mapped: a fault
    /// of the temporary directory (missing, read-only, full), not of the core.
    #[error("cannot decompress {} into a temporary file in {} ($TMPDIR): {source}; point TMPDIR at a writable \
             directory with free space for the uncompressed core, or decompress the core yourself and pass the plain \
             file", .core.display(), .dir.display())]
    TempFile {
        /// The compressed core.
        core: PathBuf,
        /// The temporary directory (`$TMPDIR`, else `/tmp`).
        dir: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The path names a directory, a FIFO, a socket or a device: heapscope maps the core (or decompresses it into a
    /// temporary file it maps), so it needs a regular file.
    #[error("{} is {kind}, not a core file; heapscope needs the core as a regular file (plain, .zst, .lz4 or .gz): pass the file itself, or save a stream into a file first (e.g. `coredumpctl dump PID -o core.zst`)", .path.display())]
    NotAFile {
        /// The path given.
        path: PathBuf,
        /// What it is (`a directory`, `a FIFO (named pipe)`, …).
        kind: &'static str,
    },
    /// The file does not start with the ELF magic, nor with the magic of a supported compression format.
    #[error("{} is not an ELF core file (no ELF magic at offset 0); pass the core produced by gcore or `coredumpctl dump` (plain, .zst, .lz4 or .gz)", .path.display())]
    NotElf {
        /// The file.
        path: PathBuf,
    },
    /// The file is ELF, but not a core (`e_type != ET_CORE`).
    #[error("{} is an ELF {} (e_type {e_type}), not a core file (ET_CORE = 4); pass the core produced by gcore or `coredumpctl dump`, not the executable or a library", .path.display(), e_type_name(*.e_type))]
    NotCore {
        /// The file.
        path: PathBuf,
        /// The ELF header's `e_type`.
        e_type: u16,
    },
    /// A valid ELF core of a kind this crate does not read (32-bit, big-endian, …).
    #[error("{}: {what} is not supported; heapscope reads 64-bit little-endian Linux cores (x86_64)", .path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is unsupported.
        what: String,
    },
    /// A structure of the file is inconsistent (a table past the end of the file, an impossible size, …).
    #[error("{} is malformed at file offset {offset:#x}: {what}; the core is truncated or corrupt, take it again (gcore, `coredumpctl dump`)", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Offset in the (decompressed) file of the bad structure.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// A compressed core could not be decompressed.
    #[error("cannot decompress {} as {format}: {source}; check that the file is complete, or decompress it yourself and pass the plain core", .path.display())]
    Decompress {
        /// The compressed file.
        path: PathBuf,
        /// The format detected from its magic bytes.
        format: crate::Compression,
        /// The decoder's error.
        #[source]
        source: std::io::Error,
    },
}

fn e_type_name(e_type: u16) -> &'static str {
    match e_type {
        0 => "file of no type (ET_NONE)",
        1 => "relocatable object (ET_REL)",
        2 => "executable (ET_EXEC)",
        3 => "shared object or PIE executable (ET_DYN)",
        _ => "file of unknown type",
    }
}
