//! Struct offsets of extension modules that live in their own shared objects (`_ctypes`, `_struct`, `array`,
//! `_json`), whose DWARF is not in libpython and so not in the generated layout tables.
//!
//! Read with gdb (`ptype /o`) from the pyenv builds' `lib-dynload/*.so` of 3.8.18, 3.12.1 and 3.13.0 (default build,
//! x86-64); unchanged 3.8–3.12 and, for the fields here, in 3.13/3.14 except where noted. Every value is exercised
//! by `tests/decode.rs` on the fixture cores of 3.8–3.14 (sizes and referents of these objects).

/// `PyStructObject.s_codes` (`formatcode *`), terminated by an entry whose `fmtdef` is NULL.
pub(crate) const STRUCT_S_CODES: u64 = 32;
/// `PyStructObject.s_format`.
pub(crate) const STRUCT_S_FORMAT: u64 = 40;
/// `sizeof(formatcode)`: `{fmtdef, offset, size, repeat}`.
pub(crate) const STRUCT_FORMATCODE_SIZE: u64 = 32;

/// `arrayobject.allocated`.
pub(crate) const ARRAY_ALLOCATED: u64 = 32;
/// `arrayobject.ob_descr` (`const struct arraydescr *`).
pub(crate) const ARRAY_OB_DESCR: u64 = 40;
/// `struct arraydescr.itemsize` (an `int` after the `char typecode`).
pub(crate) const ARRAYDESCR_ITEMSIZE: u64 = 4;

/// `PyScannerObject`'s object fields in `scanner_traverse` order: `object_hook`, `object_pairs_hook`,
/// `parse_float`, `parse_int`, `parse_constant`, then (≤3.13) `memo`.
pub(crate) const SCANNER_FIELDS: [u64; 6] = [24, 32, 40, 48, 56, 64];

/// ctypes `StgDictObject` (3.8–3.12): `length`.
pub(crate) const STGDICT_LENGTH: u64 = 64;
/// ctypes `StgDictObject`: `ffi_type_pointer.elements` (`ffi_type` at 72, `elements` at +16).
pub(crate) const STGDICT_ELEMENTS: u64 = 88;
/// ctypes `StgDictObject`: `format` (`char *`).
pub(crate) const STGDICT_FORMAT: u64 = 168;
/// ctypes `StgDictObject`: `ndim` (`int`).
pub(crate) const STGDICT_NDIM: u64 = 176;

/// ctypes `StgDictObject` fields in `CDataType_traverse` order: `proto`, `argtypes`, `converters`, `restype`,
/// `checker`.
pub(crate) const STGDICT_OBJECTS: [u64; 5] = [96, 128, 136, 144, 152];

/// ctypes `StgInfo` (3.13+, in the type object's extra data; `StgInfo` gained `pointer_type` before `module` in
/// 3.14, found on the py314 fixture): the offsets of one version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StgInfo {
    /// `initialized` (`int`).
    pub initialized: u64,
    /// `length`.
    pub length: u64,
    /// `ffi_type_pointer.elements`.
    pub elements: u64,
    /// Object fields in `CType_Type_traverse` order: `proto`, `argtypes`, `converters`, `restype`, `checker`,
    /// (3.14) `pointer_type`, `module`.
    pub objects: &'static [u64],
    /// `format` (`char *`).
    pub format: u64,
    /// `ndim` (`int`).
    pub ndim: u64,
}

/// `StgInfo` offsets for a minor version (3.13+).
pub(crate) fn stginfo(minor: u8) -> StgInfo {
    if minor >= 14 {
        StgInfo {
            initialized: 0,
            length: 24,
            elements: 48,
            objects: &[56, 88, 96, 104, 112, 120, 128],
            format: 144,
            ndim: 152,
        }
    } else {
        StgInfo {
            initialized: 0,
            length: 24,
            elements: 48,
            objects: &[56, 88, 96, 104, 112, 120],
            format: 136,
            ndim: 144,
        }
    }
}

/// ctypes `CDataObject.b_base`.
pub(crate) const CDATA_B_BASE: u64 = 32;
/// ctypes `CDataObject.b_objects`.
pub(crate) const CDATA_B_OBJECTS: u64 = 64;
/// ctypes `PyCFuncPtrObject` fields in `PyCFuncPtr_traverse` order: `callable`, `restype`, `checker`, `errcheck`,
/// `argtypes`, `converters`, `paramflags`, `thunk`.
pub(crate) const CFUNCPTR_FIELDS: [u64; 8] = [104, 128, 136, 144, 120, 112, 152, 96];
