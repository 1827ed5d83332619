//! layoutgen: writes `crates/cpython/src/layout/tables.rs`, heapscope's built-in struct layouts, from the DWARF of
//! libpython builds (3.8–3.13) the reviewed 3.14 and 3.15 inputs (`py314.rs`, `py315.rs`) and numpy's structs (`numpy.rs`, in every table),
//! checking the 3.14.5
//! and 3.15 values on the py314 and py315 fixture cores (`confirm`).

pub mod confirm;
pub mod derive;
pub mod numpy;
pub mod py314;
pub mod py315;
pub mod render;
