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
