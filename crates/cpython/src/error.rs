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
    /// The core file is truncated, and the cut part holds memory of the interpreter's objects: what is missing is
    /// the end of the core, not a file on disk.
    #[error(
        "cannot find the CPython runtime: the core file is truncated ({cut} bytes from {first} on are cut off), and \
         the cut part holds memory of {}; take the core again, with enough free disk space and RLIMIT_CORE \
         (ulimit -c) where it is written",
        .files.join(", ")
    )]
    CoreTruncated {
        /// File names of the interpreter objects whose memory lies in the cut part.
        files: Vec<String>,
        /// The first address cut off.
        first: Addr,
        /// Bytes cut off in all.
        cut: u64,
    },
    /// The python binary or libpython is mapped, but the core omits the bytes needed to find the interpreter and no
    /// matching file was found on disk.
    #[error(
        "cannot find the CPython runtime: the core omits parts of {} and no file with a matching build-id was found \
         on disk (looked at {}); pass --sysroot DIR (a copy of the dumped machine's root) or --search-path DIR \
         (a directory holding those files), or take the core with coredump_filter 0x37 so it carries them",
        .files.join(", "), .paths.join(", ")
    )]
    BinariesMissing {
        /// File names of the interpreter objects whose bytes are missing.
        files: Vec<String>,
        /// Paths as the dumped process saw them.
        paths: Vec<String>,
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
    /// A Python version heapscope does not read at all (before 3.8).
    #[error("Python {version} is not supported: heapscope reads CPython 3.8 and later")]
    UnsupportedVersion {
        /// The version found.
        version: crate::PythonVersion,
    },
    /// A version in the supported range has no built-in table, and neither DWARF nor (for a version newer than
    /// every table) `_Py_DebugOffsets` could stand in for it.
    #[error("no struct layout for CPython {version}: {why}. {remedy}")]
    NoLayout {
        /// The version found.
        version: crate::PythonVersion,
        /// Why no source could give the layout.
        why: String,
        /// What the user can provide.
        remedy: String,
    },
    /// The interpreter is a free-threaded (`Py_GIL_DISABLED`, "3.13t"/"3.14t") build.
    #[error("free-threaded CPython builds are not supported yet (Python {version}, built with Py_GIL_DISABLED)")]
    FreeThreaded {
        /// The version found.
        version: crate::PythonVersion,
    },
    /// No interpreter of the runtime could be read, so there is no heap to walk.
    #[error("cannot read the interpreters of this runtime: {why}")]
    NoInterpreter {
        /// Why the interpreter list could not be read.
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
