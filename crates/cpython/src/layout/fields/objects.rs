//! Layout structs of the core object types: the object header, types, numbers, strings, containers, dicts,
//! modules, functions, generators, cells and methods.

use super::super::Field;

layout_struct! {
    /// `PyObject`.
    pub struct Object = ["PyObject", "_object"] {
        ob_refcnt: ["ob_refcnt"],
        ob_type: ["ob_type"],
    }
}

layout_struct! {
    /// `PyVarObject`.
    pub struct VarObject = ["PyVarObject"] {
        ob_size: ["ob_size"],
    }
}

layout_struct! {
    /// `PyTypeObject`.
    pub struct TypeObject = ["PyTypeObject", "_typeobject"] {
        tp_name: ["tp_name"],
        tp_basicsize: ["tp_basicsize"],
        tp_itemsize: ["tp_itemsize"],
        tp_dealloc: ["tp_dealloc"],
        tp_repr: ["tp_repr"],
        tp_flags: ["tp_flags"],
        tp_traverse: ["tp_traverse"],
        tp_weaklistoffset: ["tp_weaklistoffset"],
        tp_members: ["tp_members"],
        tp_base: ["tp_base"],
        tp_dict: ["tp_dict"],
        tp_dictoffset: ["tp_dictoffset"],
        tp_bases: ["tp_bases"],
        tp_mro: ["tp_mro"],
        tp_subclasses: ["tp_subclasses"],
        tp_cache: ["tp_cache"],
        tp_weaklist: ["tp_weaklist"],
        tp_del: ["tp_del"],
        tp_finalize: ["tp_finalize"],
    }
}

layout_struct! {
    /// `PyHeapTypeObject`.
    pub struct HeapTypeObject = ["PyHeapTypeObject", "_heaptypeobject"] {
        ht_name: ["ht_name"],
        ht_slots: ["ht_slots"],
        ht_qualname: ["ht_qualname"],
        ht_cached_keys: ["ht_cached_keys"],
        ht_module: ["ht_module"],
    }
}

layout_struct! {
    /// `PyLongObject`.
    pub struct LongObject = ["PyLongObject", "_longobject"] {
        /// 3.12+: sign and digit count (`_PyLongValue.lv_tag`); before, `ob_size` of `PyVarObject`.
        lv_tag: ["long_value.lv_tag"],
        ob_digit: ["long_value.ob_digit", "ob_digit"],
    }
}

layout_struct! {
    /// `PyFloatObject`.
    pub struct FloatObject = ["PyFloatObject"] {
        ob_fval: ["ob_fval"],
    }
}

layout_struct! {
    /// `PyBytesObject`.
    pub struct BytesObject = ["PyBytesObject"] {
        ob_shash: ["ob_shash"],
        ob_sval: ["ob_sval"],
    }
}

layout_struct! {
    /// `PyByteArrayObject`.
    pub struct ByteArrayObject = ["PyByteArrayObject"] {
        ob_alloc: ["ob_alloc"],
        ob_bytes: ["ob_bytes"],
        ob_start: ["ob_start"],
        /// 3.15+: the bytes object that holds the buffer.
        ob_bytes_object: ["ob_bytes_object"],
    }
}

layout_struct! {
    /// `PyASCIIObject`: the header of every str.
    pub struct AsciiObject = ["PyASCIIObject"] {
        length: ["length"],
        hash: ["hash"],
        state: ["state"],
        /// ≤3.11: the `wstr` pointer (legacy strings).
        wstr: ["wstr"],
    }
}

layout_struct! {
    /// `PyCompactUnicodeObject`: the header of non-ASCII compact strings.
    pub struct CompactUnicodeObject = ["PyCompactUnicodeObject"] {
        utf8_length: ["utf8_length"],
        utf8: ["utf8"],
        /// ≤3.11: length of the `wstr` buffer, in `wchar_t`s.
        wstr_length: ["wstr_length"],
    }
}

layout_struct! {
    /// `PyUnicodeObject`: legacy (non-compact) strings.
    pub struct UnicodeObject = ["PyUnicodeObject"] {
        data: ["data"],
    }
}

layout_struct! {
    /// `PyTupleObject`.
    pub struct TupleObject = ["PyTupleObject"] {
        ob_item: ["ob_item"],
    }
}

layout_struct! {
    /// `PyListObject`.
    pub struct ListObject = ["PyListObject"] {
        ob_item: ["ob_item"],
        allocated: ["allocated"],
    }
}

layout_struct! {
    /// `PyDictObject`.
    pub struct DictObject = ["PyDictObject"] {
        ma_used: ["ma_used"],
        ma_keys: ["ma_keys"],
        ma_values: ["ma_values"],
    }
}

layout_struct! {
    /// `PyDictKeysObject` (`struct _dictkeysobject`).
    pub struct DictKeysObject = ["PyDictKeysObject", "_dictkeysobject"] {
        dk_refcnt: ["dk_refcnt"],
        /// ≤3.10: number of index slots.
        dk_size: ["dk_size"],
        /// 3.11+: log2 of the number of index slots.
        dk_log2_size: ["dk_log2_size"],
        dk_log2_index_bytes: ["dk_log2_index_bytes"],
        /// 3.11+: general / unicode / split.
        dk_kind: ["dk_kind"],
        dk_usable: ["dk_usable"],
        dk_nentries: ["dk_nentries"],
        dk_indices: ["dk_indices"],
    }
}

layout_struct! {
    /// `PyDictKeyEntry`: hash, key, value.
    pub struct DictKeyEntry = ["PyDictKeyEntry"] {
        me_hash: ["me_hash"],
        me_key: ["me_key"],
        me_value: ["me_value"],
    }
}

layout_struct! {
    /// `PyDictUnicodeEntry` (3.11+): key, value.
    pub struct DictUnicodeEntry = ["PyDictUnicodeEntry"] {
        me_key: ["me_key"],
        me_value: ["me_value"],
    }
}

layout_struct! {
    /// `PyDictValues` (3.11+): split-table and inline values.
    pub struct DictValues = ["PyDictValues", "_dictvalues"] {
        capacity: ["capacity"],
        size_field: ["size"],
        embedded: ["embedded"],
        valid: ["valid"],
        values: ["values"],
    }
}

layout_struct! {
    /// `PySetObject`.
    pub struct SetObject = ["PySetObject"] {
        fill: ["fill"],
        used: ["used"],
        mask: ["mask"],
        table: ["table"],
        /// The inline table used while the set is small (`table == &smalltable`).
        smalltable: ["smalltable"],
    }
}

layout_struct! {
    /// `PyModuleObject`.
    pub struct ModuleObject = ["PyModuleObject"] {
        md_dict: ["md_dict"],
        md_name: ["md_name"],
        /// ≤3.14: the module's `PyModuleDef`, which gives the state's size and traverse.
        md_def: ["md_def"],
        md_state: ["md_state"],
        /// 3.15+: the state's size, kept in the module.
        md_state_size: ["md_state_size"],
        /// 3.15+: the state's traverse function, kept in the module.
        md_state_traverse: ["md_state_traverse"],
    }
}

layout_struct! {
    /// `PyFunctionObject`.
    pub struct FunctionObject = ["PyFunctionObject"] {
        func_code: ["func_code"],
        func_globals: ["func_globals"],
        func_name: ["func_name"],
        func_qualname: ["func_qualname"],
        func_module: ["func_module"],
        /// 3.10+.
        func_builtins: ["func_builtins"],
        func_defaults: ["func_defaults"],
        func_kwdefaults: ["func_kwdefaults"],
        func_closure: ["func_closure"],
        func_doc: ["func_doc"],
        func_dict: ["func_dict"],
        func_annotations: ["func_annotations"],
        /// 3.14+.
        func_annotate: ["func_annotate"],
        /// 3.12+.
        func_typeparams: ["func_typeparams"],
    }
}

layout_struct! {
    /// `PyGenObject` (also coroutines and async generators).
    pub struct GenObject = ["PyGenObject"] {
        /// ≤3.10: the generator's `PyFrameObject`.
        gi_frame: ["gi_frame"],
        gi_code: ["gi_code"],
        gi_name: ["gi_name"],
        gi_qualname: ["gi_qualname"],
        /// 3.11+: `int8_t`, the frame's state (`FrameModel::gen_states`).
        gi_frame_state: ["gi_frame_state"],
        /// ≤3.9: `char`, true while the generator runs.
        gi_running: ["gi_running"],
        /// 3.11+: the embedded `_PyInterpreterFrame`.
        gi_iframe: ["gi_iframe"],
        /// The embedded `_PyErr_StackItem`.
        gi_exc_state: ["gi_exc_state"],
    }
}

layout_struct! {
    /// `PyAsyncGenObject`: a `PyGenObject` head, then (≤3.10) `ag_finalizer`; from 3.11 on the finalizer is in the
    /// common head (`_PyGenObject_HEAD(ag)`: `ag_origin_or_finalizer`).
    pub struct AsyncGenObject = ["PyAsyncGenObject", "_PyAsyncGenObject"] {
        /// The loop's finalizer hook (`sys.set_asyncgen_hooks`), which `async_gen_traverse` visits.
        finalizer: ["ag_origin_or_finalizer", "ag_finalizer"],
    }
}

layout_struct! {
    /// `PyCellObject`.
    pub struct CellObject = ["PyCellObject"] {
        ob_ref: ["ob_ref"],
    }
}

layout_struct! {
    /// `PyMethodObject`: a bound method.
    pub struct MethodObject = ["PyMethodObject"] {
        im_func: ["im_func"],
        im_self: ["im_self"],
    }
}
