//! The 3.14 offsets, by hand: there is no CPython 3.14 with DWARF on the generating machine.
//!
//! Transcribed from two sets of headers: CPython v3.14.0's (as bindgen renders them) for column `3.14.0`, and
//! Debian's libpython3.14-dev 3.14.10 headers for column `3.14.5`, the table for 3.14.5 and later. The
//! extension-module structs (`_struct`, `array`, `_json`, `_ctypes`) are in no header: they are 3.13's, with what
//! the py314 fixture showed had moved. Every row says where its numbers come from ([`Origin`]). layoutgen checks the
//! 3.14.5 column against the py314 fixture (CPython 3.14.10) before writing anything, and the header of tables.rs
//! lists which values that confirmed; no 3.14.0 core exists here, so the 3.14.0 column is from headers only.
//!
//! `-`: the field does not exist in that version. Fields of the schema not listed are absent from 3.14.

/// Where a row's numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Both columns from the doc's section 9.
    Doc,
    /// 3.14.5 from the doc; its 3.14.0 column is `-` there (py-spy's bindings lack the struct), so 3.14.0 assumes the
    /// same value (these object structs did not change between 3.14 patch releases in what the doc shows).
    DocAssumed,
    /// Not in the doc: the 3.13 layout (DWARF of 3.13.0), which the 3.14 headers did not change.
    Same313,
    /// Not in the doc: from `_Py_DebugOffsets` of the py314 fixture (`gil_runtime_state_locked`/`_holder` minus
    /// `gil_runtime_state`), assumed for 3.14.0 too.
    DebugOffsets,
    /// Not in the doc: the 3.13 layout (DWARF of 3.13.0), assumed for 3.14 and checked on the py314 fixture by
    /// `tests/decode.rs` (every object's `sys.getsizeof` and `gc.get_referents` computed through these offsets).
    Same313Checked,
    /// Not in the doc: transcribed from CPython 3.14's source for a struct that changed in 3.14 (no fixture object
    /// exercises it).
    Source314,
    /// An extension-module struct (not in the doc): the layout of the 3.13.0 build's `lib-dynload` module (its
    /// DWARF), assumed for 3.14 and checked on the py314 fixture by `tests/decode.rs` (`sys.getsizeof` and
    /// `gc.get_referents` of its `Struct`, `array`, `Scanner` and ctypes objects computed through these offsets).
    Ext313Checked,
    /// An extension-module field (not in the doc) that moved in 3.14: ctypes' `StgInfo` gained `pointer_type` before
    /// `module`, which moves every later field by 8. Found on the py314 fixture (the offsets that make its ctypes
    /// classes' sizes and referents match the truth) and checked there by `tests/decode.rs`.
    ExtFound314,
    /// The size of an extension-module struct (not in the doc), which nothing reads: 3.13's (the DWARF of its
    /// `lib-dynload` module), plus the 8 bytes of `pointer_type` for `StgInfo`. Not checked.
    ExtSizeAssumed,
    /// Not in the doc: found on the py314 fixture (CPython 3.14.10), `cached_objects.interned_strings` of the main
    /// interpreter: the one dict pointer in `PyInterpreterState` (embedded in `_PyRuntime`) whose items (6,308) each
    /// map a str to itself, near the end of the struct; checked there by `tests/referrers.rs` (the `interned` root
    /// holds interned strs). No 3.14.0 value: no 3.14.0 core, and the doc does not reach that far into the struct.
    Found314,
    /// Not in the doc: 3.15's layout, from the DWARF of Debian's python3.15-dbg 3.15.2-1 (the debug file of
    /// `/usr/bin/python3.15`, build-id d41ac9e28ff414f10df5da23fb051683a7b4adcf, which also carries `_asyncio`:
    /// Debian builds it into the interpreter), read with gdb's `ptype /o`, assumed for 3.14 (for the asyncio
    /// structs: 3.13's layout plus the members 3.14 added, `fut_awaited_by` and `task_node`) and checked on the
    /// prog-py314 fixture (CPython 3.14.10) by `tests/decode.rs` (`gc.get_referents` of its ContextVars, TypeVars
    /// and 200 asyncio Tasks with their Futures and iterators computed through these offsets). The 3.14.0 column
    /// assumes the same.
    Dwarf315Checked,
    /// Not in the doc and in no DWARF at hand: worked out from the struct definition in CPython v3.14's
    /// `Modules/_asynciomodule.c` (`FutureObj_HEAD`: `fut_state` follows the eleven pointers up to `fut_awaited_by`),
    /// and confirmed on the tasks/py314 fixture (CPython 3.14.10) by `tests/coroutines.rs`: every pending task reads
    /// `STATE_PENDING`, every done task does not. The 3.14.0 column assumes the same.
    SourceTasksChecked,
}

/// One field: its value in 3.14.0–3.14.4 and in 3.14.5+.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// `Struct.field` of the layout schema.
    pub field: &'static str,
    /// 3.14.0–3.14.4.
    pub v3140: Option<u32>,
    /// 3.14.5 and later.
    pub v3145: Option<u32>,
    /// Where the numbers come from.
    pub origin: Origin,
}

macro_rules! v {
    (-) => {
        None
    };
    ($n:literal) => {
        Some($n)
    };
}

macro_rules! rows {
    ($( $field:literal $a:tt $b:tt $origin:ident ;)*) => {
        &[$( Row { field: $field, v3140: v!($a), v3145: v!($b), origin: Origin::$origin }, )*]
    };
}

/// Every 3.14 row, in schema order.
#[rustfmt::skip]
pub static ROWS: &[Row] = rows! {
    // field                              3.14.0   3.14.5  origin
    "RuntimeState.size"                   316536   316616  Doc;
    "RuntimeState.interpreters_head"      808      808     Doc;
    "RuntimeState.interpreters_main"      816      816     Doc;
    "RuntimeState.main_interpreter"       90728    90752   Doc;
    "InterpreterState.size"               225808   225864  Doc;
    "InterpreterState.next"               7272     7272    Doc;
    "InterpreterState.id"                 7280     7280    Doc;
    "InterpreterState.threads_head"       7344     7344    Doc;
    "InterpreterState.threads_main"       7360     7360    Doc;
    "InterpreterState.gc"                 7408     7408    Doc;
    "InterpreterState.modules"            7664     7688    Doc;
    "InterpreterState.sysdict"            7648     7672    Doc;
    "InterpreterState.builtins"           7656     7680    Doc;
    "InterpreterState.importlib"          7680     7704    Doc;
    "InterpreterState.dict"               8472     8496    Doc;
    "InterpreterState.ceval_gil"          16       16      Doc;
    "InterpreterState.own_gil"            7760     7784    Doc;
    "InterpreterState.obmalloc"           10872    10904   Doc;
    "InterpreterState.interned_strings"   -        224624  Found314;
    "GcRuntimeState.size"                 240      264     Doc;
    "GcRuntimeState.enabled"              12       12      Doc;
    "GcRuntimeState.generations"          -        24      Doc;
    "GcRuntimeState.generation0"          -        256     Doc;
    "GcRuntimeState.young"                24       -       Doc;
    "GcRuntimeState.old"                  48       -       Doc;
    "GcRuntimeState.permanent_generation" 96       96      Doc;
    "GcRuntimeState.collecting"           192      192     Doc;
    "GcGeneration.size"                   24       24      Doc;
    "GcGeneration.head"                   0        0       Same313;
    "GcGeneration.threshold"              16       16      Same313;
    "GcGeneration.count"                  20       20      Same313;
    "GilState.locked"                     16       16      DebugOffsets;
    "GilState.last_holder"                8        8       DebugOffsets;
    "ThreadState.size"                    824      832     Doc;
    "ThreadState.prev"                    0        0       Doc;
    "ThreadState.next"                    8        8       Doc;
    "ThreadState.interp"                  16       16      Doc;
    "ThreadState.current_frame"           72       72      Doc;
    "ThreadState.thread_id"               152      152     Doc;
    "ThreadState.native_thread_id"        160      160     Doc;
    "ThreadState.datastack_chunk"         232      232     Doc;
    "ThreadState.datastack_top"           240      240     Doc;
    "ThreadState.dict"                    128      128     Doc;
    "FrameObject.size"                    80       80      Doc;
    "FrameObject.f_back"                  16       16      Doc;
    "FrameObject.f_lineno"                40       40      Doc;
    "FrameObject.f_frame"                 24       24      Doc;
    "FrameObject.f_frame_data"            72       72      Doc;
    "InterpreterFrame.size"               88       88      Doc;
    "InterpreterFrame.previous"           8        8       Doc;
    "InterpreterFrame.executable"         0        0       Doc;
    "InterpreterFrame.funcobj"            16       16      Doc;
    "InterpreterFrame.globals"            24       24      Doc;
    "InterpreterFrame.builtins"           32       32      Doc;
    "InterpreterFrame.locals"             40       40      Doc;
    "InterpreterFrame.frame_obj"          48       48      Doc;
    "InterpreterFrame.instr_ptr"          56       56      Doc;
    "InterpreterFrame.stackpointer"       64       64      Doc;
    "InterpreterFrame.owner"              74       74      Doc;
    "InterpreterFrame.localsplus"         80       80      Doc;
    "CodeObject.size"                     216      216     Doc;
    "CodeObject.argcount"                 52       52      Doc;
    "CodeObject.posonlyargcount"          56       56      Same313;
    "CodeObject.kwonlyargcount"           60       60      Same313;
    "CodeObject.nlocals"                  80       80      Doc;
    "CodeObject.nlocalsplus"              72       72      Doc;
    "CodeObject.ncellvars"                84       84      Same313;
    "CodeObject.nfreevars"                88       88      Same313;
    "CodeObject.stacksize"                64       64      Doc;
    "CodeObject.flags"                    48       48      Doc;
    "CodeObject.firstlineno"              68       68      Doc;
    "CodeObject.consts"                   24       24      Doc;
    "CodeObject.names"                    32       32      Doc;
    "CodeObject.localsplusnames"          96       96      Doc;
    "CodeObject.localspluskinds"          104      104     Doc;
    "CodeObject.filename"                 112      112     Doc;
    "CodeObject.name"                     120      120     Doc;
    "CodeObject.qualname"                 128      128     Doc;
    "CodeObject.linetable"                136      136     Doc;
    "CodeObject.exceptiontable"           40       40      Doc;
    "CodeObject.framesize"                76       76      Doc;
    "CodeObject.code_adaptive"            208      208     Doc;
    "Object.size"                         16       16      Doc;
    "Object.ob_refcnt"                    0        0       DocAssumed;
    "Object.ob_type"                      8        8       Doc;
    "VarObject.size"                      24       24      Doc;
    "VarObject.ob_size"                   16       16      Doc;
    "TypeObject.size"                     416      416     Doc;
    "TypeObject.tp_name"                  24       24      Doc;
    "TypeObject.tp_basicsize"             32       32      Doc;
    "TypeObject.tp_itemsize"              40       40      Doc;
    "TypeObject.tp_dealloc"               48       48      Doc;
    "TypeObject.tp_repr"                  88       88      Doc;
    "TypeObject.tp_flags"                 168      168     Doc;
    "TypeObject.tp_traverse"              184      184     Doc;
    "TypeObject.tp_weaklistoffset"        208      208     Doc;
    "TypeObject.tp_members"               240      240     Doc;
    "TypeObject.tp_base"                  256      256     Doc;
    "TypeObject.tp_dict"                  264      264     Doc;
    "TypeObject.tp_dictoffset"            288      288     Doc;
    "TypeObject.tp_bases"                 336      336     Doc;
    "TypeObject.tp_mro"                   344      344     Doc;
    "TypeObject.tp_subclasses"            360      360     Doc;
    "TypeObject.tp_del"                   376      376     Doc;
    "TypeObject.tp_finalize"              392      392     Doc;
    "HeapTypeObject.size"                 936      936     Doc;
    "HeapTypeObject.ht_name"              856      856     Doc;
    "HeapTypeObject.ht_slots"             864      864     Doc;
    "HeapTypeObject.ht_qualname"          872      872     Doc;
    "HeapTypeObject.ht_cached_keys"       880      880     Doc;
    "HeapTypeObject.ht_module"            888      888     Doc;
    "LongObject.size"                     32       32      Doc;
    "LongObject.lv_tag"                   16       16      Doc;
    "LongObject.ob_digit"                 24       24      Doc;
    "FloatObject.size"                    24       24      Doc;
    "FloatObject.ob_fval"                 16       16      Doc;
    "BytesObject.size"                    40       40      Doc;
    "BytesObject.ob_shash"                24       24      Doc;
    "BytesObject.ob_sval"                 32       32      Doc;
    "ByteArrayObject.size"                56       56      DocAssumed;
    "ByteArrayObject.ob_alloc"            24       24      DocAssumed;
    "ByteArrayObject.ob_bytes"            32       32      DocAssumed;
    "ByteArrayObject.ob_start"            40       40      DocAssumed;
    "AsciiObject.size"                    40       40      Doc;
    "AsciiObject.length"                  16       16      Doc;
    "AsciiObject.hash"                    24       24      Doc;
    "AsciiObject.state"                   32       32      Doc;
    "CompactUnicodeObject.size"           56       56      Doc;
    "CompactUnicodeObject.utf8_length"    40       40      Doc;
    "CompactUnicodeObject.utf8"           48       48      Doc;
    "UnicodeObject.size"                  64       64      Doc;
    "UnicodeObject.data"                  56       56      Doc;
    "TupleObject.size"                    40       40      Doc;
    "TupleObject.ob_item"                 32       32      Doc;
    "ListObject.size"                     40       40      Doc;
    "ListObject.ob_item"                  24       24      Doc;
    "ListObject.allocated"                32       32      Doc;
    "DictObject.size"                     48       48      Doc;
    "DictObject.ma_used"                  16       16      Doc;
    "DictObject.ma_keys"                  32       32      Doc;
    "DictObject.ma_values"                40       40      Doc;
    "DictKeysObject.size"                 32       32      Doc;
    "DictKeysObject.dk_refcnt"            0        0       Doc;
    "DictKeysObject.dk_log2_size"         8        8       Doc;
    "DictKeysObject.dk_log2_index_bytes"  9        9       Doc;
    "DictKeysObject.dk_kind"              10       10      Doc;
    "DictKeysObject.dk_usable"            16       16      Doc;
    "DictKeysObject.dk_nentries"          24       24      Doc;
    "DictKeysObject.dk_indices"           32       32      Doc;
    "DictKeyEntry.size"                   24       24      DocAssumed;
    "DictKeyEntry.me_hash"                0        0       Same313;
    "DictKeyEntry.me_key"                 8        8       Same313;
    "DictKeyEntry.me_value"               16       16      Same313;
    "DictUnicodeEntry.size"               16       16      Doc;
    "DictUnicodeEntry.me_key"             0        0       Same313;
    "DictUnicodeEntry.me_value"           8        8       Same313;
    "DictValues.size"                     16       16      Doc;
    "DictValues.capacity"                 0        0       Doc;
    "DictValues.size_field"               1        1       Doc;
    "DictValues.embedded"                 2        2       Doc;
    "DictValues.valid"                    3        3       Doc;
    "DictValues.values"                   8        8       Doc;
    "SetObject.size"                      200      200     DocAssumed;
    "SetObject.fill"                      16       16      DocAssumed;
    "SetObject.used"                      24       24      DocAssumed;
    "SetObject.mask"                      32       32      DocAssumed;
    "SetObject.table"                     40       40      DocAssumed;
    "ModuleObject.size"                   56       56      DocAssumed;
    "ModuleObject.md_dict"                16       16      DocAssumed;
    "ModuleObject.md_name"                48       48      DocAssumed;
    "FunctionObject.size"                 152      152     Doc;
    "FunctionObject.func_code"            48       48      Doc;
    "FunctionObject.func_globals"         16       16      Doc;
    "FunctionObject.func_name"            32       32      Doc;
    "FunctionObject.func_qualname"        40       40      Doc;
    "FunctionObject.func_module"          104      104     Doc;
    "GenObject.size"                      160      160     DocAssumed;
    "GenObject.gi_name"                   24       24      DocAssumed;
    "GenObject.gi_qualname"               32       32      DocAssumed;
    "GenObject.gi_frame_state"            67       67      DocAssumed;
    "GenObject.gi_iframe"                 72       72      DocAssumed;
    "StackChunk.size"                     32       32      Same313;
    "StackChunk.previous"                 0        0       Doc;
    "StackChunk.chunk_size"               8        8       Doc;
    "StackChunk.top"                      16       16      Doc;
    "StackChunk.data"                     24       24      Doc;
    "GcHead.size"                         16       16      Doc;
    "GcHead.gc_next"                      0        0       Same313;
    "GcHead.gc_prev"                      8        8       Same313;
    "ObmallocState.size"                  263248   263248  Doc;
    "ObmallocState.arenas"                512      512     Doc;
    "ObmallocState.maxarenas"             520      520     Doc;
    "ObmallocState.narenas_currently_allocated" 1064 1064  Doc;
    "ArenaObject.size"                    48       48      Doc;
    "ArenaObject.address"                 0        0       Doc;
    "ArenaObject.pool_address"            8        8       Doc;
    "ArenaObject.nfreepools"              16       16      Doc;
    "ArenaObject.ntotalpools"             20       20      Doc;
    "ArenaObject.freepools"               24       24      Doc;
    "ArenaObject.nextarena"               32       32      Doc;
    "ArenaObject.prevarena"               40       40      Doc;
    "PoolHeader.size"                     48       48      Doc;
    "PoolHeader.count"                    0        0       Doc;
    "PoolHeader.freeblock"                8        8       Doc;
    "PoolHeader.nextpool"                 16       16      Doc;
    "PoolHeader.prevpool"                 24       24      Doc;
    "PoolHeader.arenaindex"               32       32      Doc;
    "PoolHeader.szidx"                    36       36      Doc;
    "PoolHeader.nextoffset"               40       40      Doc;
    "PoolHeader.maxnextoffset"            44       44      Doc;
    // Object structs read by heapscope_cpython::heap (sizes, tp_traverse emulation).
    "FrameObject.f_trace"                          32       32      Doc;
    "FrameObject.f_extra_locals"                   48       48      Doc;
    "FrameObject.f_locals_cache"                   56       56      Doc;
    "FrameObject.f_overwritten_fast_locals"        64       64      Doc;
    "CodeObject.extra"                             200      200     Doc;
    "TypeObject.tp_cache"                          352      352     Same313Checked;
    "TypeObject.tp_weaklist"                       368      368     Same313Checked;
    "SetObject.smalltable"                         64       64      Same313Checked;
    "ModuleObject.md_def"                          24       24      Same313Checked;
    "ModuleObject.md_state"                        32       32      Same313Checked;
    "FunctionObject.func_builtins"                 24       24      Doc;
    "FunctionObject.func_defaults"                 56       56      Doc;
    "FunctionObject.func_kwdefaults"               64       64      Doc;
    "FunctionObject.func_closure"                  72       72      Doc;
    "FunctionObject.func_doc"                      80       80      Doc;
    "FunctionObject.func_dict"                     88       88      Doc;
    "FunctionObject.func_annotations"              112      112     Doc;
    "FunctionObject.func_annotate"                 120      120     Doc;
    "FunctionObject.func_typeparams"               128      128     Doc;
    "GenObject.gi_exc_state"                       40       40      Same313Checked;
    "AsyncGenObject.finalizer"                     56       56      Same313Checked;
    "ErrStackItem.size"                            16       16      Same313Checked;
    "ErrStackItem.exc_value"                       0        0       Same313Checked;
    "CodeObjectExtra.size"                         16       16      Same313Checked;
    "CodeObjectExtra.ce_size"                      0        0       Same313Checked;
    "CodeObjectExtra.ce_extras"                    8        8       Same313Checked;
    "CellObject.size"                              24       24      Same313Checked;
    "CellObject.ob_ref"                            16       16      Same313Checked;
    "MethodObject.size"                            48       48      Same313Checked;
    "MethodObject.im_func"                         16       16      Same313Checked;
    "MethodObject.im_self"                         24       24      Same313Checked;
    "CFunctionObject.size"                         56       56      Same313Checked;
    "CFunctionObject.m_ml"                         16       16      Same313Checked;
    "CFunctionObject.m_self"                       24       24      Same313Checked;
    "CFunctionObject.m_module"                     32       32      Same313Checked;
    "CMethodObject.size"                           64       64      Same313Checked;
    "CMethodObject.mm_class"                       56       56      Same313Checked;
    "MethodDef.size"                               32       32      Same313Checked;
    "MethodDef.ml_flags"                           16       16      Same313Checked;
    "DescrObject.size"                             40       40      Same313Checked;
    "DescrObject.d_type"                           16       16      Same313Checked;
    "DescrObject.d_name"                           24       24      Same313Checked;
    "DescrObject.d_qualname"                       32       32      Same313Checked;
    "MethodWrapper.size"                           32       32      Same313Checked;
    "MethodWrapper.descr"                          16       16      Same313Checked;
    "MethodWrapper.self_"                          24       24      Same313Checked;
    "Property.size"                                64       64      Same313Checked;
    "Property.prop_get"                            16       16      Same313Checked;
    "Property.prop_set"                            24       24      Same313Checked;
    "Property.prop_del"                            32       32      Same313Checked;
    "Property.prop_doc"                            40       40      Same313Checked;
    "Property.prop_name"                           48       48      Same313Checked;
    "ClassMethod.size"                             32       32      Same313Checked;
    "ClassMethod.cm_callable"                      16       16      Same313Checked;
    "ClassMethod.cm_dict"                          24       24      Same313Checked;
    "WeakReference.size"                           64       64      Same313Checked;
    "WeakReference.wr_object"                      16       16      Same313Checked;
    "WeakReference.wr_callback"                    24       24      Same313Checked;
    "Traceback.size"                               40       40      Same313Checked;
    "Traceback.tb_next"                            16       16      Same313Checked;
    "Traceback.tb_frame"                           24       24      Same313Checked;
    "BaseException.size"                           72       72      Same313Checked;
    "BaseException.dict"                           16       16      Same313Checked;
    "BaseException.args"                           24       24      Same313Checked;
    "BaseException.notes"                          32       32      Same313Checked;
    "BaseException.traceback"                      40       40      Same313Checked;
    "BaseException.context"                        48       48      Same313Checked;
    "BaseException.cause"                          56       56      Same313Checked;
    "ModuleDef.size"                               104      104     Same313Checked;
    "ModuleDef.m_size"                             56       56      Same313Checked;
    "ModuleDef.m_traverse"                         80       80      Same313Checked;
    "Slice.size"                                   40       40      Same313Checked;
    "Slice.start"                                  16       16      Same313Checked;
    "Slice.stop"                                   24       24      Same313Checked;
    "Slice.step"                                   32       32      Same313Checked;
    "Namespace.size"                               24       24      Same313Checked;
    "Namespace.ns_dict"                            16       16      Same313Checked;
    "MappingProxy.size"                            24       24      Same313Checked;
    "MappingProxy.mapping"                         16       16      Same313Checked;
    "DictView.size"                                24       24      Same313Checked;
    "DictView.dv_dict"                             16       16      Same313Checked;
    "ListIter.size"                                32       32      Same313Checked;
    "ListIter.it_seq"                              24       24      Same313Checked;
    "MemoryView.size"                              152      152     Same313Checked;
    "MemoryView.mbuf"                              24       24      Same313Checked;
    "ManagedBuffer.size"                           112      112     Same313Checked;
    "ManagedBuffer.master_obj"                     40       40      Same313Checked;
    "Deque.size"                                   216      216     Same313Checked;
    "Deque.leftblock"                              24       24      Same313Checked;
    "Deque.rightblock"                             32       32      Same313Checked;
    "Deque.leftindex"                              40       40      Same313Checked;
    "Deque.rightindex"                             48       48      Same313Checked;
    "DequeBlock.size"                              528      528     Same313Checked;
    "DequeBlock.data"                              8        8       Same313Checked;
    "DequeBlock.rightlink"                         520      520     Same313Checked;
    "DefaultDict.size"                             56       56      Same313Checked;
    "DefaultDict.default_factory"                  48       48      Same313Checked;
    "ODict.size"                                   112      112     Same313Checked;
    "ODict.od_first"                               48       48      Same313Checked;
    "ODict.od_fast_nodes_size"                     72       72      Same313Checked;
    "ODict.od_inst_dict"                           96       96      Same313Checked;
    "ODictNode.size"                               32       32      Same313Checked;
    "ODictNode.key"                                0        0       Same313Checked;
    "ODictNode.next"                               16       16      Same313Checked;
    "Partial.size"                                 64       64      Same313Checked;
    "Partial.fn_"                                  16       16      Same313Checked;
    "Partial.args"                                 24       24      Same313Checked;
    "Partial.kw"                                   32       32      Same313Checked;
    "Partial.dict"                                 40       40      Same313Checked;
    "LruCache.size"                                152      152     Same313Checked;
    "LruCache.root"                                0        0       Same313Checked;
    "LruCache.cache"                               72       72      Same313Checked;
    "LruCache.func"                                88       88      Same313Checked;
    "LruCache.kwd_mark"                            112      112     Same313Checked;
    "LruCache.lru_list_elem_type"                  120      120     Same313Checked;
    "LruCache.cache_info_type"                     128      128     Same313Checked;
    "LruCache.dict"                                136      136     Same313Checked;
    "LruListElem.size"                             56       56      Same313Checked;
    "LruListElem.next"                             24       24      Same313Checked;
    "LruListElem.key"                              40       40      Same313Checked;
    "LruListElem.result"                           48       48      Same313Checked;
    "Pattern.size"                                 96       96      Same313Checked;
    "Pattern.groupindex"                           32       32      Same313Checked;
    "Pattern.indexgroup"                           40       40      Same313Checked;
    "Pattern.pattern"                              48       48      Same313Checked;
    "Pattern.codesize"                             80       80      Same313Checked;
    "Count.size"                                   40       40      Same313Checked;
    "Count.long_cnt"                               24       24      Same313Checked;
    "Count.long_step"                              32       32      Same313Checked;
    "AbcData.size"                                 48       48      Same313Checked;
    "AbcData.registry"                             16       16      Same313Checked;
    "AbcData.cache"                                24       24      Same313Checked;
    "AbcData.negative_cache"                       32       32      Same313Checked;
    "TextIo.size"                                  200      200     Same313Checked;
    "TextIo.buffer"                                32       32      Same313Checked;
    "TextIo.encoding"                              40       40      Same313Checked;
    "TextIo.encoder"                               48       48      Same313Checked;
    "TextIo.decoder"                               56       56      Same313Checked;
    "TextIo.readnl"                                64       64      Same313Checked;
    "TextIo.errors"                                72       72      Same313Checked;
    "TextIo.decoded_chars"                         120      120     Same313Checked;
    "TextIo.pending_bytes"                         136      136     Same313Checked;
    "TextIo.snapshot"                              152      152     Same313Checked;
    "TextIo.raw"                                   168      168     Same313Checked;
    "TextIo.dict"                                  184      184     Same313Checked;
    "Buffered.size"                                152      152     Same313Checked;
    "Buffered.raw"                                 16       16      Same313Checked;
    "Buffered.dict"                                136      136     Same313Checked;
    "Buffered.buffer"                              56       56      Same313Checked;
    "Buffered.buffer_size"                         120      120     Same313Checked;
    "FileIo.size"                                  48       48      Same313Checked;
    "FileIo.dict"                                  40       40      Same313Checked;
    "Context.size"                                 48       48      Same313Checked;
    "Context.ctx_prev"                             16       16      Same313Checked;
    "Context.ctx_vars"                             24       24      Same313Checked;
    "Hamt.size"                                    40       40      Same313Checked;
    "Hamt.h_root"                                  16       16      Same313Checked;
    "ContextVar.size"                              64       64      Dwarf315Checked;
    "ContextVar.var_name"                          16       16      Dwarf315Checked;
    "ContextVar.var_default"                       24       24      Dwarf315Checked;
    "ContextVar.var_cached"                        32       32      Dwarf315Checked;
    "TypeVar.size"                                 80       80      Dwarf315Checked;
    "TypeVar.name"                                 16       16      Dwarf315Checked;
    "TypeVar.bound"                                24       24      Dwarf315Checked;
    "TypeVar.evaluate_bound"                       32       32      Dwarf315Checked;
    "TypeVar.constraints"                          40       40      Dwarf315Checked;
    "TypeVar.evaluate_constraints"                 48       48      Dwarf315Checked;
    "TypeVar.default_value"                        56       56      Dwarf315Checked;
    "TypeVar.evaluate_default"                     64       64      Dwarf315Checked;
    "TypeAlias.size"                               56       56      Same313Checked;  // tp_basicsize of typing.TypeAliasType in the prog-py314 core: 56 (3.15 added qualname)
    "TypeAlias.name"                               16       16      Same313Checked;
    "TypeAlias.type_params"                        24       24      Same313Checked;
    "TypeAlias.compute_value"                      32       32      Same313Checked;
    "TypeAlias.value"                              40       40      Same313Checked;
    "TypeAlias.module"                             48       48      Same313Checked;
    "GenericAlias.size"                            64       64      Same313Checked;
    "GenericAlias.origin"                          16       16      Same313Checked;
    "GenericAlias.args"                            24       24      Same313Checked;
    "GenericAlias.parameters"                      32       32      Same313Checked;
    "ThreadLocal.size"                             56       56      Same313Checked;
    "ThreadLocal.args"                             16       16      Same313Checked;
    "ThreadLocal.kw"                               24       24      Same313Checked;
    "ThreadLocal.localdicts"                       40       40      Same313Checked;
    "ThreadLocal.thread_watchdogs"                 48       48      Same313Checked;
    "UnionObject.size"                             48       48      Source314;
    "UnionObject.args"                             16       16      Source314;
    "UnionObject.hashable_args"                    24       24      Source314;
    "UnionObject.unhashable_args"                  32       32      Source314;
    "UnionObject.parameters"                       40       40      Source314;
    "TupleGetter.size"                             32       32      Same313Checked;
    "TupleGetter.doc"                              24       24      Same313Checked;
    // Extension-module structs (`_struct`, `array`, `_json`, `_ctypes`), read by the heap walker.
    "StructObject.size"                            56       56      ExtSizeAssumed;
    "StructObject.s_codes"                         32       32      Ext313Checked;
    "StructObject.s_format"                        40       40      Ext313Checked;
    "FormatCode.size"                              32       32      Ext313Checked;
    "FormatCode.fmtdef"                            0        0       Ext313Checked;
    "ArrayObject.size"                             64       64      ExtSizeAssumed;
    "ArrayObject.allocated"                        32       32      Ext313Checked;
    "ArrayObject.ob_descr"                         40       40      Ext313Checked;
    "ArrayDescr.size"                              48       48      ExtSizeAssumed;
    "ArrayDescr.itemsize"                          4        4       Ext313Checked;
    "Scanner.size"                                 64       64      ExtSizeAssumed;
    "Scanner.object_hook"                          24       24      Ext313Checked;
    "Scanner.object_pairs_hook"                    32       32      Ext313Checked;
    "Scanner.parse_float"                          40       40      Ext313Checked;
    "Scanner.parse_int"                            48       48      Ext313Checked;
    "Scanner.parse_constant"                       56       56      Ext313Checked;
    "StgInfo.size"                                 168      168     ExtSizeAssumed;
    "StgInfo.initialized"                          0        0       Ext313Checked;
    "StgInfo.length"                               24       24      Ext313Checked;
    "StgInfo.elements"                             48       48      Ext313Checked;
    "StgInfo.proto"                                56       56      Ext313Checked;
    "StgInfo.argtypes"                             88       88      Ext313Checked;
    "StgInfo.converters"                           96       96      Ext313Checked;
    "StgInfo.restype"                              104      104     Ext313Checked;
    "StgInfo.checker"                              112      112     Ext313Checked;
    "StgInfo.pointer_type"                         120      120     ExtFound314;
    "StgInfo.module"                               128      128     ExtFound314;
    "StgInfo.format"                               144      144     ExtFound314;
    "StgInfo.ndim"                                 152      152     ExtFound314;
    "CData.size"                                   96       96      ExtSizeAssumed;
    "CData.b_base"                                 32       32      Ext313Checked;
    "CData.b_objects"                              64       64      Ext313Checked;
    "CFuncPtr.size"                                160      160     ExtSizeAssumed;
    "CFuncPtr.thunk"                               96       96      Ext313Checked;
    "CFuncPtr.callable"                            104      104     Ext313Checked;
    "CFuncPtr.converters"                          112      112     Ext313Checked;
    "CFuncPtr.argtypes"                            120      120     Ext313Checked;
    "CFuncPtr.restype"                             128      128     Ext313Checked;
    "CFuncPtr.checker"                             136      136     Ext313Checked;
    "CFuncPtr.errcheck"                            144      144     Ext313Checked;
    "CFuncPtr.paramflags"                          152      152     Ext313Checked;
    // `_asyncio`, built into Debian's interpreter.
    "FutureObj.size"                               112      112     Dwarf315Checked;
    "FutureObj.loop_"                              16       16      Dwarf315Checked;
    "FutureObj.callback0"                          24       24      Dwarf315Checked;
    "FutureObj.context0"                           32       32      Dwarf315Checked;
    "FutureObj.callbacks"                          40       40      Dwarf315Checked;
    "FutureObj.exception"                          48       48      Dwarf315Checked;
    "FutureObj.exception_tb"                       56       56      Dwarf315Checked;
    "FutureObj.result"                             64       64      Dwarf315Checked;
    "FutureObj.source_tb"                          72       72      Dwarf315Checked;
    "FutureObj.cancel_msg"                         80       80      Dwarf315Checked;
    "FutureObj.cancelled_exc"                      88       88      Dwarf315Checked;
    "FutureObj.awaited_by"                         96       96      Dwarf315Checked;
    "FutureObj.state"                              104      104     SourceTasksChecked;
    "TaskObj.size"                                 168      168     Dwarf315Checked;
    "TaskObj.fut_waiter"                           120      120     Dwarf315Checked;
    "TaskObj.coro"                                 128      128     Dwarf315Checked;
    "TaskObj.name"                                 136      136     Dwarf315Checked;
    "TaskObj.context"                              144      144     Dwarf315Checked;
    "FutureIter.size"                              24       24      Dwarf315Checked;
    "FutureIter.future"                            16       16      Dwarf315Checked;
};
