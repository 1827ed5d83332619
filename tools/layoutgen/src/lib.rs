//! layoutgen: writes `crates/cpython/src/layout/tables.rs`, heapscope's built-in struct layouts, from the DWARF of
//! libpython builds (3.8–3.13) and the reviewed 3.14 input (`py314.rs`), checking the 3.14 values on the py314
//! fixture core (`confirm`).

pub mod confirm;
pub mod derive;
pub mod py314;
pub mod render;
