//! Layout structs of extension modules that live in their own shared objects (`lib-dynload/<module>.cpython-*.so`):
//! `_struct`, `array`, `_json`, `_ctypes` and `_asyncio`. Their DWARF is in those files, not in libpython; [`EXTENSION_MODULES`]
//! says which file defines which struct, so the table generator reads each from the right one.
//!
//! Fields that a version lacks are unknown in its table (`StgDict` ≤3.12, `StgInfo` 3.13+, `Scanner.memo` ≤3.12,
//! `StgInfo.pointer_type` 3.14+): decoders ask the field, never the version.

use super::super::Field;

/// For each extension module (the file name before `.cpython-`), the layout structs (Rust names) its shared object
/// defines.
pub const EXTENSION_MODULES: &[(&str, &[&str])] = &[
    ("_struct", &["StructObject", "FormatCode"]),
    ("array", &["ArrayObject", "ArrayDescr"]),
    ("_json", &["Scanner"]),
    ("_ctypes", &["StgDict", "StgInfo", "CData", "CFuncPtr"]),
    ("_asyncio", &["FutureObj", "TaskObj", "FutureIter", "TaskWakeupMethWrapper"]),
];

/// The extension module whose shared object defines the layout struct `rust_name`, if it is not libpython's.
pub fn extension_module(rust_name: &str) -> Option<&'static str> {
    EXTENSION_MODULES.iter().find(|(_, structs)| structs.contains(&rust_name)).map(|(module, _)| *module)
}

layout_struct! {
    /// `PyStructObject` (`_struct.Struct`).
    pub struct StructObject = ["PyStructObject"] {
        /// `formatcode *`: the compiled format, ended by an entry whose `fmtdef` is NULL.
        s_codes: ["s_codes"],
        s_format: ["s_format"],
    }
}

layout_struct! {
    /// `formatcode`: one entry of a Struct's `s_codes`.
    pub struct FormatCode = ["formatcode", "_formatcode"] {
        fmtdef: ["fmtdef"],
    }
}

layout_struct! {
    /// `arrayobject` (`array.array`).
    pub struct ArrayObject = ["arrayobject"] {
        allocated: ["allocated"],
        /// `const struct arraydescr *`.
        ob_descr: ["ob_descr"],
    }
}

layout_struct! {
    /// `struct arraydescr`: an array's item type.
    pub struct ArrayDescr = ["arraydescr"] {
        /// `int`.
        itemsize: ["itemsize"],
    }
}

layout_struct! {
    /// `PyScannerObject` (`_json.Scanner`).
    pub struct Scanner = ["PyScannerObject", "_PyScannerObject"] {
        object_hook: ["object_hook"],
        object_pairs_hook: ["object_pairs_hook"],
        /// 3.15+.
        array_hook: ["array_hook"],
        parse_float: ["parse_float"],
        parse_int: ["parse_int"],
        parse_constant: ["parse_constant"],
        /// ≤3.12.
        memo: ["memo"],
    }
}

layout_struct! {
    /// ctypes' `StgDictObject` (≤3.12): a ctypes class's type information, in a `dict` subclass that is the class's
    /// `tp_dict`.
    pub struct StgDict = ["StgDictObject"] {
        length: ["length"],
        elements: ["ffi_type_pointer.elements"],
        proto: ["proto"],
        argtypes: ["argtypes"],
        converters: ["converters"],
        restype: ["restype"],
        checker: ["checker"],
        /// `char *`.
        format: ["format"],
        /// `int`.
        ndim: ["ndim"],
    }
}

layout_struct! {
    /// ctypes' `StgInfo` (3.13+): a ctypes class's type information, in the type object's extra data.
    pub struct StgInfo = ["StgInfo"] {
        /// `int`.
        initialized: ["initialized"],
        length: ["length"],
        elements: ["ffi_type_pointer.elements"],
        proto: ["proto"],
        argtypes: ["argtypes"],
        converters: ["converters"],
        restype: ["restype"],
        checker: ["checker"],
        /// 3.14+.
        pointer_type: ["pointer_type"],
        module: ["module"],
        /// `char *`.
        format: ["format"],
        /// `int`.
        ndim: ["ndim"],
    }
}

layout_struct! {
    /// ctypes' `CDataObject`: the head of every ctypes instance.
    pub struct CData = ["CDataObject", "tagCDataObject"] {
        b_base: ["b_base"],
        b_objects: ["b_objects"],
    }
}

layout_struct! {
    /// ctypes' `PyCFuncPtrObject`: a function pointer (a `CDataObject` with more fields).
    pub struct CFuncPtr = ["PyCFuncPtrObject"] {
        thunk: ["thunk"],
        callable: ["callable"],
        converters: ["converters"],
        argtypes: ["argtypes"],
        restype: ["restype"],
        checker: ["checker"],
        errcheck: ["errcheck"],
        paramflags: ["paramflags"],
    }
}

layout_struct! {
    /// `_asyncio`'s `FutureObj` (`_asyncio.Future`); a `TaskObj` starts with the same fields (`FutureObj_HEAD`).
    pub struct FutureObj = ["FutureObj"] {
        loop_: ["fut_loop"],
        callback0: ["fut_callback0"],
        context0: ["fut_context0"],
        callbacks: ["fut_callbacks"],
        exception: ["fut_exception"],
        /// 3.10+.
        exception_tb: ["fut_exception_tb"],
        result: ["fut_result"],
        source_tb: ["fut_source_tb"],
        /// 3.9+.
        cancel_msg: ["fut_cancel_msg"],
        /// 3.11+.
        cancelled_exc: ["fut_cancelled_exc"],
        /// 3.9–3.10: the embedded `_PyErr_StackItem fut_cancelled_exc_state`.
        cancelled_exc_type: ["fut_cancelled_exc_state.exc_type"],
        cancelled_exc_value: ["fut_cancelled_exc_state.exc_value"],
        cancelled_exc_traceback: ["fut_cancelled_exc_state.exc_traceback"],
        /// 3.14+.
        awaited_by: ["fut_awaited_by"],
        /// `fut_state` (an enum, 4 bytes): `STATE_PENDING` 0, `STATE_CANCELLED` 1, `STATE_FINISHED` 2.
        state: ["fut_state"],
        /// ≤3.12 (a managed dict from 3.13 on).
        dict: ["dict"],
    }
}

layout_struct! {
    /// `_asyncio`'s `TaskObj` (`_asyncio.Task`): the fields after its `FutureObj` part.
    pub struct TaskObj = ["TaskObj"] {
        fut_waiter: ["task_fut_waiter"],
        coro: ["task_coro"],
        name: ["task_name"],
        context: ["task_context"],
    }
}

layout_struct! {
    /// `_asyncio`'s `futureiterobject` (`_asyncio.FutureIter`).
    pub struct FutureIter = ["futureiterobject"] {
        future: ["future"],
    }
}

layout_struct! {
    /// `_asyncio`'s `TaskWakeupMethWrapper` (≤3.9): the bound `task_wakeup` a task adds to the callbacks of the
    /// future it waits on.
    pub struct TaskWakeupMethWrapper = ["TaskWakeupMethWrapper"] {
        task: ["ww_task"],
    }
}
