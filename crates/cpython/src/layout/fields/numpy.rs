//! numpy's object structs (numpy 2.x, x86-64): an ndarray and its dtype. They live in numpy's
//! `_multiarray_umath` extension, whose wheels carry no DWARF, so their offsets come from numpy's headers
//! (`numpy/_core/include/numpy/ndarraytypes.h`) by way of `tools/layoutgen/src/numpy.rs`, the same in every CPython
//! version's table ([`NUMPY_STRUCTS`]).
//!
//! `PyArrayObject_fields` has been ABI-stable since numpy 1.22. `PyArray_Descr` changed in numpy 2.0 (`elsize` became
//! an `npy_intp` after a 64-bit `flags`); a numpy 1.x descr is told apart by its type's `tp_basicsize` (96,
//! `sizeof(PyArray_Descr)` of numpy 1, against 120, `sizeof(_PyArray_LegacyDescr)` of numpy 2) and refused.

use super::super::Field;

/// The layout structs (Rust names) that come from numpy's headers rather than from CPython's DWARF.
pub const NUMPY_STRUCTS: &[&str] = &["NdArray", "NpyDescr", "NpyLegacyDescr"];

/// True if `rust_name` is one of numpy's layout structs.
pub fn is_numpy_struct(rust_name: &str) -> bool {
    NUMPY_STRUCTS.contains(&rust_name)
}

layout_struct! {
    /// `PyArrayObject_fields` (`numpy.ndarray`).
    pub struct NdArray = ["PyArrayObject_fields", "tagPyArrayObject_fields"] {
        /// `char *`: the first element.
        data: ["data"],
        /// `int`: the number of dimensions.
        nd: ["nd"],
        /// `npy_intp *`: the shape (`nd` entries; the strides follow in the same allocation).
        dimensions: ["dimensions"],
        /// `npy_intp *`.
        strides: ["strides"],
        /// The object whose memory a view uses (or that a copy writes back to).
        base: ["base"],
        /// `PyArray_Descr *`: the dtype.
        descr: ["descr"],
        /// `int`: `NPY_ARRAY_*` flags.
        flags: ["flags"],
    }
}

layout_struct! {
    /// `PyArray_Descr` of numpy 2 (a dtype instance; what every descr starts with).
    pub struct NpyDescr = ["_PyArray_Descr", "PyArray_Descr"] {
        /// `int`: `NPY_TYPES`.
        type_num: ["type_num"],
        /// `npy_intp`: bytes per element.
        elsize: ["elsize"],
    }
}

layout_struct! {
    /// `_PyArray_LegacyDescr` of numpy 2: the descr of every built-in dtype; its size is the `tp_basicsize` that
    /// tells a numpy 2 descr from a numpy 1 one.
    pub struct NpyLegacyDescr = ["_PyArray_LegacyDescr"] {}
}
