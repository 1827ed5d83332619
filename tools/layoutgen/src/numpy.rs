//! numpy's object structs, by hand: numpy wheels carry no DWARF, and the structs do not depend on the CPython
//! version, so these rows go into every table (3.8–3.15) unchanged.
//!
//! Transcribed from numpy's `numpy/_core/include/numpy/ndarraytypes.h` (numpy 2.x; the real-program fixtures run
//! numpy 2.5.5) for x86-64 (`npy_intp` and pointers 8 bytes, `int` 4): `PyArrayObject_fields` (stable since numpy
//! 1.22, when `mem_handler` was appended), `PyArray_Descr` and `_PyArray_LegacyDescr` (both numpy 2.0+: numpy 1.x
//! had an `int elsize` at 32 and no `_PyArray_LegacyDescr`). layoutgen checks nothing here (no core of its own has
//! numpy); `tests/programs.rs` checks them on testdata/programs (CPython 3.12 and 3.14 with numpy 2.5.5): every
//! ndarray's `sys.getsizeof` (basic size + `nd` × 16 + `PyArray_NBYTES` when it owns its data, which reads `nd`,
//! `dimensions`, `flags`, `descr` and `elsize`) equals the truth.

/// One numpy field and its offset.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// `Struct.field` of the layout schema.
    pub field: &'static str,
    /// Offset in bytes (or the struct's size).
    pub value: u32,
}

macro_rules! rows {
    ($( $field:literal $v:literal ;)*) => {
        &[$( Row { field: $field, value: $v }, )*]
    };
}

/// Where the rows come from, as the generated header says it.
pub const SOURCE: &str = "numpy's `numpy/_core/include/numpy/ndarraytypes.h` (numpy 2.x, x86-64)";

/// Every numpy row, in schema order.
#[rustfmt::skip]
pub static ROWS: &[Row] = rows! {
    // field                     offset   C member
    "NdArray.size"               96;   // sizeof(PyArrayObject_fields), = tp_basicsize of numpy.ndarray
    "NdArray.data"               16;   // char *data
    "NdArray.nd"                 24;   // int nd
    "NdArray.dimensions"         32;   // npy_intp *dimensions
    "NdArray.strides"            40;   // npy_intp *strides
    "NdArray.base"               48;   // PyObject *base
    "NdArray.descr"              56;   // PyArray_Descr *descr
    "NdArray.flags"              64;   // int flags (weakreflist 72, _buffer_info 80, mem_handler 88)
    "NpyDescr.size"              88;   // sizeof(PyArray_Descr)
    "NpyDescr.type_num"          28;   // int type_num (typeobj 16, kind/type/byteorder/_former_flags 24..28)
    "NpyDescr.elsize"            40;   // npy_intp elsize (npy_uint64 flags 32)
    "NpyLegacyDescr.size"        120;  // sizeof(_PyArray_LegacyDescr): + subarray, fields, names, c_metadata
};
