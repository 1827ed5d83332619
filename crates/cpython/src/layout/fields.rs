//! The layout structs: every CPython struct heapscope reads, as logical fields with the C member paths they may have.
//!
//! Each struct lists, per logical field, the C member paths it has gone by across versions (first match wins when
//! deriving from DWARF), e.g. `PyInterpreterState.modules` is `imports.modules` from 3.12 on and `modules` before.
//! The offsets themselves live in `tables.rs` (generated) and may be overridden from `_Py_DebugOffsets` or DWARF.

use super::Field;

/// Declares a layout struct: its C type names (for DWARF lookup) and its fields with their candidate member paths.
macro_rules! layout_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident = [$($cname:literal),+ $(,)?] {
            $( $(#[$fmeta:meta])* $field:ident : [$($path:literal),* $(,)?] ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        #[allow(missing_docs)]
        $vis struct $name {
            /// `sizeof` the struct.
            pub size: Field,
            $( $(#[$fmeta])* pub $field: Field, )*
        }

        impl $name {
            /// C type names of this struct (typedef first), as DWARF knows them.
            pub const C_NAMES: &'static [&'static str] = &[$($cname),+];

            /// Logical field names with their candidate C member paths.
            pub const FIELDS: &'static [(&'static str, &'static [&'static str])] =
                &[$( (stringify!($field), &[$($path),*]) ),*];

            /// All fields unknown.
            pub fn unknown() -> Self {
                $name {
                    size: Field::unknown(concat!(stringify!($name), ".size")),
                    $( $field: Field::unknown(concat!(stringify!($name), ".", stringify!($field))), )*
                }
            }

            /// The field called `name` (`"size"` for the struct size).
            pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
                match name {
                    "size" => Some(&mut self.size),
                    $( stringify!($field) => Some(&mut self.$field), )*
                    _ => None,
                }
            }

            /// Every field, `size` first.
            pub fn fields(&self) -> Vec<(&'static str, &Field)> {
                vec![("size", &self.size) $(, (stringify!($field), &self.$field))*]
            }
        }
    };
}

layout_struct! {
    /// `_PyRuntimeState`: the global runtime.
    pub struct RuntimeState = ["_PyRuntimeState", "pyruntimestate"] {
        interpreters_head: ["interpreters.head"],
        interpreters_main: ["interpreters.main"],
        /// ≤3.11: the thread state holding the GIL (NULL when released).
        tstate_current: ["gilstate.tstate_current"],
        /// ≤3.11: the embedded `_gil_runtime_state`.
        gil: ["ceval.gil"],
        /// 3.11+: the embedded main interpreter.
        main_interpreter: ["_main_interpreter"],
        /// 3.8 only: the embedded `struct _gc_runtime_state` (from 3.9 on it is `PyInterpreterState.gc`).
        gc: ["gc"],
    }
}

layout_struct! {
    /// `PyInterpreterState`.
    pub struct InterpreterState = ["PyInterpreterState", "_is"] {
        next: ["next"],
        id: ["id"],
        threads_head: ["threads.head", "tstate_head"],
        threads_main: ["threads.main"],
        gc: ["gc"],
        modules: ["imports.modules", "modules"],
        sysdict: ["sysdict"],
        builtins: ["builtins"],
        importlib: ["imports.importlib", "importlib"],
        dict: ["dict"],
        /// 3.12+: pointer to the `_gil_runtime_state` in use.
        ceval_gil: ["ceval.gil"],
        /// 3.12+: the interpreter's own embedded `_gil_runtime_state`.
        own_gil: ["_gil"],
    }
}

layout_struct! {
    /// `struct _gc_runtime_state`: the cyclic collector's state (`PyInterpreterState.gc`; 3.8: `_PyRuntimeState.gc`).
    pub struct GcRuntimeState = ["_gc_runtime_state"] {
        enabled: ["enabled"],
        /// The generational collector (≤3.13, 3.14.5+): `struct gc_generation generations[3]`.
        generations: ["generations"],
        /// Pointer to `generations[0].head`.
        generation0: ["generation0"],
        /// 3.14.0–3.14.4 (incremental collector): the young generation.
        young: ["young"],
        /// 3.14.0–3.14.4 (incremental collector): `struct gc_generation old[2]`.
        old: ["old"],
        permanent_generation: ["permanent_generation"],
        collecting: ["collecting"],
    }
}

layout_struct! {
    /// `struct gc_generation`: one GC list head with its threshold and count.
    pub struct GcGeneration = ["gc_generation"] {
        head: ["head"],
        threshold: ["threshold"],
        count: ["count"],
    }
}

layout_struct! {
    /// `struct _gil_runtime_state`.
    pub struct GilState = ["_gil_runtime_state"] {
        locked: ["locked"],
        last_holder: ["last_holder"],
    }
}

layout_struct! {
    /// `PyThreadState`.
    pub struct ThreadState = ["PyThreadState", "_ts"] {
        prev: ["prev"],
        next: ["next"],
        interp: ["interp"],
        /// ≤3.10: the innermost `PyFrameObject`.
        frame: ["frame"],
        /// 3.10–3.12: `_PyCFrame*` (3.11/3.12 hold the current frame there).
        cframe: ["cframe"],
        /// 3.13+: the innermost `_PyInterpreterFrame`.
        current_frame: ["current_frame"],
        thread_id: ["thread_id"],
        native_thread_id: ["native_thread_id"],
        datastack_chunk: ["datastack_chunk"],
        dict: ["dict"],
    }
}

layout_struct! {
    /// `_PyCFrame` (3.10–3.12).
    pub struct CFrame = ["_PyCFrame"] {
        current_frame: ["current_frame"],
        previous: ["previous"],
    }
}

layout_struct! {
    /// `PyFrameObject`.
    pub struct FrameObject = ["PyFrameObject", "_frame"] {
        f_back: ["f_back"],
        f_code: ["f_code"],
        f_globals: ["f_globals"],
        f_locals: ["f_locals"],
        f_lasti: ["f_lasti"],
        f_lineno: ["f_lineno"],
        f_localsplus: ["f_localsplus"],
        /// 3.11+: the `_PyInterpreterFrame` this object stands for.
        f_frame: ["f_frame"],
        /// 3.11+: storage for an owned interpreter frame.
        f_frame_data: ["_f_frame_data"],
    }
}

layout_struct! {
    /// `_PyInterpreterFrame` (3.11+).
    pub struct InterpreterFrame = ["_PyInterpreterFrame"] {
        previous: ["previous"],
        executable: ["f_executable", "f_code"],
        funcobj: ["f_funcobj", "f_func"],
        globals: ["f_globals"],
        builtins: ["f_builtins"],
        locals: ["f_locals"],
        frame_obj: ["frame_obj"],
        instr_ptr: ["instr_ptr", "prev_instr"],
        stacktop: ["stacktop"],
        stackpointer: ["stackpointer"],
        owner: ["owner"],
        localsplus: ["localsplus"],
    }
}

layout_struct! {
    /// `PyCodeObject`.
    pub struct CodeObject = ["PyCodeObject"] {
        argcount: ["co_argcount"],
        posonlyargcount: ["co_posonlyargcount"],
        kwonlyargcount: ["co_kwonlyargcount"],
        nlocals: ["co_nlocals"],
        nlocalsplus: ["co_nlocalsplus"],
        ncellvars: ["co_ncellvars"],
        nfreevars: ["co_nfreevars"],
        stacksize: ["co_stacksize"],
        flags: ["co_flags"],
        firstlineno: ["co_firstlineno"],
        /// ≤3.10: the bytecode (`bytes`).
        code: ["co_code"],
        consts: ["co_consts"],
        names: ["co_names"],
        varnames: ["co_varnames"],
        cellvars: ["co_cellvars"],
        freevars: ["co_freevars"],
        localsplusnames: ["co_localsplusnames"],
        localspluskinds: ["co_localspluskinds"],
        filename: ["co_filename"],
        name: ["co_name"],
        qualname: ["co_qualname"],
        /// 3.8/3.9 line table.
        lnotab: ["co_lnotab"],
        /// 3.10+ line table (PEP 626; PEP 657 format from 3.11).
        linetable: ["co_linetable"],
        exceptiontable: ["co_exceptiontable"],
        framesize: ["co_framesize"],
        /// 3.11+: the bytecode, inline in the code object.
        code_adaptive: ["co_code_adaptive"],
    }
}

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
    }
}

layout_struct! {
    /// `PyModuleObject`.
    pub struct ModuleObject = ["PyModuleObject"] {
        md_dict: ["md_dict"],
        md_name: ["md_name"],
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
        gi_frame_state: ["gi_frame_state"],
        /// 3.11+: the embedded `_PyInterpreterFrame`.
        gi_iframe: ["gi_iframe"],
    }
}

layout_struct! {
    /// `_PyStackChunk` (3.11+): a piece of a thread's frame stack.
    pub struct StackChunk = ["_PyStackChunk"] {
        previous: ["previous"],
        chunk_size: ["size"],
        top: ["top"],
        data: ["data"],
    }
}

layout_struct! {
    /// `PyGC_Head`.
    pub struct GcHead = ["PyGC_Head"] {
        gc_next: ["_gc_next", "gc.gc_next"],
        gc_prev: ["_gc_prev", "gc.gc_prev"],
    }
}
