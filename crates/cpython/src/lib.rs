//! CPython object-layout decoder: finds the interpreter runtime in a process image and (later) its interpreters,
//! threads, frames and objects.
//!
//! Generic over [`heapscope_coredump::ProcessImage`], so it works the same on a core file, a live process or a
//! synthetic image. Knows nothing about graphs, tables or the command line.

pub mod asyncio;
pub mod coroutines;
pub mod dwarf;
mod error;
pub mod frames;
pub mod heap;
pub mod layout;
pub mod linetable;
mod names;
pub mod objects;
pub mod runtime;
mod version;

pub use error::Error;
pub use names::intern;
pub use version::{detect, Detection, PythonVersion, ReleaseLevel, RuntimeSource, VersionSource};
