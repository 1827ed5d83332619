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
        /// pymalloc's state: 3.12 the embedded `struct _obmalloc_state`; 3.13+ a pointer to it (the static
        /// `obmalloc_state_main` for the main interpreter). Absent ≤3.11, where the state is file-static.
        obmalloc: ["obmalloc"],
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
        /// ≤3.10.
        f_builtins: ["f_builtins"],
        f_trace: ["f_trace"],
        /// ≤3.10: the value stack's base.
        f_valuestack: ["f_valuestack"],
        /// 3.8/3.9: the value stack's top (NULL while the frame executes).
        f_stacktop: ["f_stacktop"],
        /// 3.10: the value stack's depth.
        f_stackdepth: ["f_stackdepth"],
        /// 3.13+.
        f_extra_locals: ["f_extra_locals"],
        /// 3.13+.
        f_locals_cache: ["f_locals_cache"],
        /// 3.14+.
        f_overwritten_fast_locals: ["f_overwritten_fast_locals"],
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
        /// `_PyCodeObjectExtra*` (`co_extra`), counted by `code.__sizeof__`.
        extra: ["co_extra"],
        /// ≤3.10: `Py_ssize_t *co_cell2arg`, counted by `code.__sizeof__`.
        cell2arg: ["co_cell2arg"],
        /// ≤3.10: a dead frame kept for reuse.
        zombieframe: ["co_zombieframe"],
        /// 3.8–3.10: the opcode cache (`_PyOpcache *`), counted by `code.__sizeof__`.
        opcache: ["co_opcache"],
        /// 3.8–3.10: entries of `co_opcache`.
        opcache_size: ["co_opcache_size"],
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
        tp_cache: ["tp_cache"],
        tp_weaklist: ["tp_weaklist"],
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
        /// The inline table used while the set is small (`table == &smalltable`).
        smalltable: ["smalltable"],
    }
}

layout_struct! {
    /// `PyModuleObject`.
    pub struct ModuleObject = ["PyModuleObject"] {
        md_dict: ["md_dict"],
        md_name: ["md_name"],
        md_def: ["md_def"],
        md_state: ["md_state"],
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
        gi_frame_state: ["gi_frame_state"],
        /// 3.11+: the embedded `_PyInterpreterFrame`.
        gi_iframe: ["gi_iframe"],
        /// The embedded `_PyErr_StackItem`.
        gi_exc_state: ["gi_exc_state"],
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

layout_struct! {
    /// `struct _obmalloc_state` (3.12+): pymalloc's state, embedded in (3.12) or pointed to by (3.13+)
    /// `PyInterpreterState.obmalloc`. ≤3.11 the same fields are file-static variables of `Objects/obmalloc.c`.
    pub struct ObmallocState = ["_obmalloc_state"] {
        /// `struct arena_object *arenas`: the arena table.
        arenas: ["mgmt.arenas"],
        /// `uint maxarenas`: entries in the arena table.
        maxarenas: ["mgmt.maxarenas"],
        /// `size_t narenas_currently_allocated`: entries with an arena.
        narenas_currently_allocated: ["mgmt.narenas_currently_allocated"],
    }
}

layout_struct! {
    /// `struct arena_object`: one entry of pymalloc's arena table.
    pub struct ArenaObject = ["arena_object"] {
        /// The arena's base (from mmap); 0 for an unused entry.
        address: ["address"],
        /// High-water mark: pools below it have been carved.
        pool_address: ["pool_address"],
        nfreepools: ["nfreepools"],
        ntotalpools: ["ntotalpools"],
        freepools: ["freepools"],
        nextarena: ["nextarena"],
        prevarena: ["prevarena"],
    }
}

layout_struct! {
    /// `struct pool_header`: the header at the start of every pymalloc pool.
    pub struct PoolHeader = ["pool_header"] {
        /// `ref.count`: allocated blocks in the pool (a `uint` in a union with a pointer).
        count: ["ref"],
        /// Head of the pool's free-block list (each free block's first word links to the next).
        freeblock: ["freeblock"],
        nextpool: ["nextpool"],
        prevpool: ["prevpool"],
        /// Index of the pool's arena in the arena table.
        arenaindex: ["arenaindex"],
        /// Size class: blocks are `(szidx + 1) * ALIGNMENT` bytes.
        szidx: ["szidx"],
        /// Offset of the first never-carved block.
        nextoffset: ["nextoffset"],
        /// Largest valid `nextoffset`: `POOL_SIZE - block size`.
        maxnextoffset: ["maxnextoffset"],
    }
}

// ----- Object structs read by `heap::sizeof` and `heap::traverse` (sizes and `tp_traverse` emulation). -----

layout_struct! {
    /// `_PyErr_StackItem`: a generator's saved exception (≤3.10 type, value, traceback; 3.11+ the value only).
    pub struct ErrStackItem = ["_PyErr_StackItem", "_err_stackitem"] {
        exc_type: ["exc_type"],
        exc_value: ["exc_value"],
        exc_traceback: ["exc_traceback"],
    }
}

layout_struct! {
    /// `_PyCodeObjectExtra`: a code object's `co_extra` (PEP 523 scratch space).
    pub struct CodeObjectExtra = ["_PyCodeObjectExtra"] {
        ce_size: ["ce_size"],
        ce_extras: ["ce_extras"],
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

layout_struct! {
    /// `PyCFunctionObject`: `builtin_function_or_method`.
    pub struct CFunctionObject = ["PyCFunctionObject"] {
        m_ml: ["m_ml"],
        m_self: ["m_self"],
        m_module: ["m_module"],
    }
}

layout_struct! {
    /// `PyCMethodObject` (3.9+): a C method with its defining class.
    pub struct CMethodObject = ["PyCMethodObject"] {
        mm_class: ["mm_class"],
    }
}

layout_struct! {
    /// `PyMethodDef`.
    pub struct MethodDef = ["PyMethodDef"] {
        ml_flags: ["ml_flags"],
    }
}

layout_struct! {
    /// `PyDescrObject`: the common head of method, wrapper, member, getset and classmethod descriptors.
    pub struct DescrObject = ["PyDescrObject"] {
        d_type: ["d_type"],
        d_name: ["d_name"],
        d_qualname: ["d_qualname"],
    }
}

layout_struct! {
    /// `wrapperobject`: `method-wrapper`.
    pub struct MethodWrapper = ["wrapperobject"] {
        descr: ["descr"],
        self_: ["self"],
    }
}

layout_struct! {
    /// `propertyobject`.
    pub struct Property = ["propertyobject"] {
        prop_get: ["prop_get"],
        prop_set: ["prop_set"],
        prop_del: ["prop_del"],
        prop_doc: ["prop_doc"],
        /// 3.10+.
        prop_name: ["prop_name"],
    }
}

layout_struct! {
    /// `classmethod` (and `staticmethod`, laid out the same way).
    pub struct ClassMethod = ["classmethod"] {
        cm_callable: ["cm_callable"],
        cm_dict: ["cm_dict"],
    }
}

layout_struct! {
    /// `PyWeakReference`: weakref.ref, proxies, and subclasses such as `KeyedRef`.
    pub struct WeakReference = ["PyWeakReference", "_PyWeakReference"] {
        wr_object: ["wr_object"],
        wr_callback: ["wr_callback"],
    }
}

layout_struct! {
    /// `PyTracebackObject`.
    pub struct Traceback = ["PyTracebackObject", "_traceback"] {
        tb_next: ["tb_next"],
        tb_frame: ["tb_frame"],
    }
}

layout_struct! {
    /// `PyBaseExceptionObject`.
    pub struct BaseException = ["PyBaseExceptionObject"] {
        dict: ["dict"],
        args: ["args"],
        /// 3.11+.
        notes: ["notes"],
        traceback: ["traceback"],
        context: ["context"],
        cause: ["cause"],
    }
}

layout_struct! {
    /// `PyModuleDef`: an extension module's definition.
    pub struct ModuleDef = ["PyModuleDef"] {
        m_size: ["m_size"],
        m_traverse: ["m_traverse"],
    }
}

layout_struct! {
    /// `PySliceObject`.
    pub struct Slice = ["PySliceObject"] {
        start: ["start"],
        stop: ["stop"],
        step: ["step"],
    }
}

layout_struct! {
    /// `_PyNamespaceObject`: `types.SimpleNamespace`.
    pub struct Namespace = ["_PyNamespaceObject"] {
        ns_dict: ["ns_dict"],
    }
}

layout_struct! {
    /// `mappingproxyobject`.
    pub struct MappingProxy = ["mappingproxyobject"] {
        mapping: ["mapping"],
    }
}

layout_struct! {
    /// `_PyDictViewObject`: `dict_keys`, `dict_values`, `dict_items`.
    pub struct DictView = ["_PyDictViewObject"] {
        dv_dict: ["dv_dict"],
    }
}

layout_struct! {
    /// `listiterobject` (`_PyListIterObject` from 3.12 on).
    pub struct ListIter = ["_PyListIterObject", "listiterobject"] {
        it_seq: ["it_seq"],
    }
}

layout_struct! {
    /// `PyMemoryViewObject`.
    pub struct MemoryView = ["PyMemoryViewObject"] {
        mbuf: ["mbuf"],
    }
}

layout_struct! {
    /// `_PyManagedBufferObject`.
    pub struct ManagedBuffer = ["_PyManagedBufferObject"] {
        /// `master.obj`: the exporting object.
        master_obj: ["master.obj"],
    }
}

layout_struct! {
    /// `dequeobject` (`collections.deque`).
    pub struct Deque = ["dequeobject"] {
        leftblock: ["leftblock"],
        rightblock: ["rightblock"],
        leftindex: ["leftindex"],
        rightindex: ["rightindex"],
    }
}

layout_struct! {
    /// `block`: one block of a deque (`BLOCKLEN` item slots between two links).
    pub struct DequeBlock = ["BLOCK"] {
        data: ["data"],
        rightlink: ["rightlink"],
    }
}

layout_struct! {
    /// `defdictobject` (`collections.defaultdict`).
    pub struct DefaultDict = ["defdictobject"] {
        default_factory: ["default_factory"],
    }
}

layout_struct! {
    /// `PyODictObject` (`collections.OrderedDict`).
    pub struct ODict = ["PyODictObject", "_odictobject"] {
        od_first: ["od_first"],
        od_fast_nodes_size: ["od_fast_nodes_size"],
        od_inst_dict: ["od_inst_dict"],
    }
}

layout_struct! {
    /// `_ODictNode`: a node of an OrderedDict's linked list.
    pub struct ODictNode = ["_ODictNode", "_odictnode"] {
        key: ["key"],
        next: ["next"],
    }
}

layout_struct! {
    /// `partialobject` (`functools.partial`).
    pub struct Partial = ["partialobject"] {
        fn_: ["fn"],
        args: ["args"],
        kw: ["kw"],
        dict: ["dict"],
    }
}

layout_struct! {
    /// `lru_cache_object` (`functools._lru_cache_wrapper`).
    pub struct LruCache = ["lru_cache_object"] {
        /// The embedded list root.
        root: ["root"],
        cache: ["cache"],
        func: ["func"],
        kwd_mark: ["kwd_mark"],
        lru_list_elem_type: ["lru_list_elem_type"],
        cache_info_type: ["cache_info_type"],
        dict: ["dict"],
    }
}

layout_struct! {
    /// `lru_list_elem`: a node of an lru_cache's list.
    pub struct LruListElem = ["lru_list_elem"] {
        next: ["next"],
        key: ["key"],
        result: ["result"],
    }
}

layout_struct! {
    /// `PatternObject` (`re.Pattern`).
    pub struct Pattern = ["PatternObject"] {
        groupindex: ["groupindex"],
        indexgroup: ["indexgroup"],
        pattern: ["pattern"],
        codesize: ["codesize"],
    }
}

layout_struct! {
    /// `countobject` (`itertools.count`).
    pub struct Count = ["countobject"] {
        long_cnt: ["long_cnt"],
        long_step: ["long_step"],
    }
}

layout_struct! {
    /// `_abc_data`.
    pub struct AbcData = ["_abc_data"] {
        registry: ["_abc_registry"],
        cache: ["_abc_cache"],
        negative_cache: ["_abc_negative_cache"],
    }
}

layout_struct! {
    /// `textio` (`_io.TextIOWrapper`).
    pub struct TextIo = ["textio"] {
        buffer: ["buffer"],
        encoding: ["encoding"],
        encoder: ["encoder"],
        decoder: ["decoder"],
        readnl: ["readnl"],
        errors: ["errors"],
        decoded_chars: ["decoded_chars"],
        pending_bytes: ["pending_bytes"],
        snapshot: ["snapshot"],
        raw: ["raw"],
        dict: ["dict"],
    }
}

layout_struct! {
    /// `buffered` (`_io.BufferedReader`, `_io.BufferedWriter`, …).
    pub struct Buffered = ["buffered"] {
        raw: ["raw"],
        dict: ["dict"],
        buffer: ["buffer"],
        buffer_size: ["buffer_size"],
    }
}

layout_struct! {
    /// `fileio` (`_io.FileIO`).
    pub struct FileIo = ["fileio"] {
        dict: ["dict"],
    }
}

layout_struct! {
    /// `PyContext` (`_contextvars.Context`).
    pub struct Context = ["PyContext", "_pycontextobject"] {
        ctx_prev: ["ctx_prev"],
        ctx_vars: ["ctx_vars"],
    }
}

layout_struct! {
    /// `gaobject` (`types.GenericAlias`).
    pub struct GenericAlias = ["gaobject"] {
        origin: ["origin"],
        args: ["args"],
        parameters: ["parameters"],
    }
}

layout_struct! {
    /// `unionobject` (`types.UnionType`).
    pub struct UnionObject = ["unionobject"] {
        args: ["args"],
        /// 3.14+.
        hashable_args: ["hashable_args"],
        unhashable_args: ["unhashable_args"],
        parameters: ["parameters"],
    }
}

layout_struct! {
    /// `localobject` (`_thread._local`).
    pub struct ThreadLocal = ["localobject"] {
        /// ≤3.12.
        key: ["key"],
        args: ["args"],
        kw: ["kw"],
        /// ≤3.12.
        dummies: ["dummies"],
        /// 3.13+.
        localdicts: ["localdicts"],
        /// 3.13+.
        thread_watchdogs: ["thread_watchdogs"],
    }
}

layout_struct! {
    /// `_PyOpcache` (3.8–3.10): one entry of a code object's opcode cache (only its size is used).
    pub struct Opcache = ["_PyOpcache"] {
    }
}

layout_struct! {
    /// `_tuplegetterobject` (`collections._tuplegetter`, the fields of named tuples).
    pub struct TupleGetter = ["_tuplegetterobject"] {
        doc: ["doc"],
    }
}
