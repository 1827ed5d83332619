//! ELF core file reader: the memory map, notes, threads, mapped files and symbols of a crashed or `gcore`d process.
//!
//! This crate knows nothing about Python. It turns a core file (plus, optionally, the binaries it mapped) into an
//! address space readable through the [`Memory`] trait, which every decoder above it is generic over.

mod addr;
mod error;
mod image;
mod memory;

pub use addr::Addr;
pub use error::ReadError;
pub use image::{BytesSource, LoadedObject, ObjectMapping, ProcessImage, Range, SymbolRef};
pub use memory::{Memory, SyntheticMemory};
