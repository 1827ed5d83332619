//! Reports, tables, SQL and export over what heapscope decoded from a process image.
//!
//! Every report here is plain data (serde-serialisable) that implements [`report::Report`]: its formats and a
//! renderer for each, writing to a `&mut dyn Write`; the binary only chooses the format and the destination. [`tables`] turns a snapshot into polars DataFrames and [`export`]
//! writes them; this is the only crate that links polars.

pub mod alive;
pub mod cycles;
pub mod diff;
pub mod export;
mod format;
pub mod full;
pub mod garbage;
pub mod info;
pub mod layout;
pub mod memory;
pub mod report;
pub mod show;
pub mod sql;
pub mod stacks;
pub mod summary;
mod table;
pub mod tables;
pub mod tasks;
pub mod waste;

pub use table::{md_code, md_escape, Table};
