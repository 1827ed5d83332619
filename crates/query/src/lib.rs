//! Reports, tables, SQL and export over what heapscope decoded from a process image.
//!
//! Every report here is plain data (serde-serialisable) plus renderers that write to a `&mut dyn Write`; the binary
//! only chooses the format and the destination. This will be the only crate that links polars.

pub mod alive;
pub mod cycles;
mod format;
pub mod garbage;
pub mod info;
pub mod layout;
pub mod show;
pub mod stacks;
pub mod summary;
mod table;

pub use table::Table;
