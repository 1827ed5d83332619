//! Errors of the CPython decoder.

use heapscope_coredump::{Addr, ReadError};

/// Why the Python runtime could not be found or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No mapped object looks like a CPython interpreter.
    #[error(
        "no CPython interpreter found in this process: no mapped object defines `_PyRuntime` \
         (objects seen: {objects}). If this is a Python process, the python binary or libpython may be missing \
         from the core: pass --sysroot DIR or --search-path DIR pointing at copies of them"
    )]
    NotPython {
        /// Short list of the objects that were searched.
        objects: String,
    },
    /// The interpreter was found but its version could not be determined.
    #[error("found `_PyRuntime` at {runtime} in {object}, but could not determine the Python version: {why}")]
    UnknownVersion {
        /// Address of `_PyRuntime`.
        runtime: Addr,
        /// The object that defines it.
        object: String,
        /// What was tried.
        why: String,
    },
    /// Memory needed for decoding could not be read.
    #[error("reading {what}: {source}")]
    Read {
        /// What was being read.
        what: &'static str,
        /// The underlying failure.
        source: ReadError,
    },
}
