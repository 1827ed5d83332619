//! Layout structs of the other builtin and standard-library types the heap walker decodes: descriptors,
//! exceptions, weakrefs, iterators, buffers, collections, functools, re, io, contextvars, typing.

use super::super::Field;

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
    /// `PyHamtObject` (`hamt`: the immutable mapping behind a `Context`).
    pub struct Hamt = ["PyHamtObject"] {
        h_root: ["h_root"],
    }
}

layout_struct! {
    /// `PyContextVar` (`_contextvars.ContextVar`).
    pub struct ContextVar = ["PyContextVar", "_pycontextvarobject"] {
        var_name: ["var_name"],
        var_default: ["var_default"],
        var_cached: ["var_cached"],
    }
}

layout_struct! {
    /// `typevarobject` (`typing.TypeVar`, 3.12+).
    pub struct TypeVar = ["typevarobject"] {
        name: ["name"],
        bound: ["bound"],
        evaluate_bound: ["evaluate_bound"],
        constraints: ["constraints"],
        evaluate_constraints: ["evaluate_constraints"],
        /// 3.13+.
        default_value: ["default_value"],
        /// 3.13+.
        evaluate_default: ["evaluate_default"],
    }
}

layout_struct! {
    /// `typealiasobject` (`typing.TypeAliasType`, 3.12+).
    pub struct TypeAlias = ["typealiasobject"] {
        name: ["name"],
        /// 3.14+.
        qualname: ["qualname"],
        type_params: ["type_params"],
        compute_value: ["compute_value"],
        value: ["value"],
        module: ["module"],
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
    /// `_tuplegetterobject` (`collections._tuplegetter`, the fields of named tuples).
    pub struct TupleGetter = ["_tuplegetterobject"] {
        doc: ["doc"],
    }
}

layout_struct! {
    /// `PyLazyImportObject` (3.15+): a `lazy import` not resolved yet.
    pub struct LazyImport = ["PyLazyImportObject"] {
        lz_builtins: ["lz_builtins"],
        lz_from: ["lz_from"],
        lz_attr: ["lz_attr"],
        lz_code: ["lz_code"],
    }
}

layout_struct! {
    /// `sentinelobject` (3.15+): an instance of `sentinel`.
    pub struct Sentinel = ["sentinelobject"] {
        name: ["name"],
        module: ["module"],
    }
}
