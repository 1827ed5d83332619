//! The 3.15 offsets, by hand: the generating machine has no CPython 3.15 build of its own.
//!
//! Transcribed from the headers of CPython 3.15.2 as Debian ships them (libpython3.15-dev 3.15.2-1), struct by struct
//! against the 3.14.10 headers the `3.14.5` column of `py314.rs` comes from. Every row says where its number comes
//! from ([`Origin`]); rows of a changed struct show the arithmetic against 3.14.5. layoutgen checks the table against
//! the py315 fixture (Debian's `/usr/bin/python3.15` 3.15.2) before writing anything, and the header of tables.rs lists
//! what that confirmed.
//!
//! Every value was also compared with the DWARF of that same build (Debian's python3.15-dbg 3.15.2-1,
//! `/usr/lib/debug/.build-id/d4/1ac9e28ff414f10df5da23fb051683a7b4adcf.debug`, the debug info of the fixture's
//! interpreter), and all agree; except the rows of origin [`Origin::Found`], which were found on the fixture core.
//!
//! Fields of the schema not listed are absent from 3.15: besides those already gone in 3.14, `ModuleObject.md_def`
//! (3.15 keeps `md_token` and `md_token_is_def` instead, and the state's traverse/clear/free in the module itself).

/// Where a row's number comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The struct is defined member for member as in the 3.14.10 headers (compared, comments and spacing aside): the
    /// 3.14.5 value of `py314.rs`.
    Same314,
    /// Transcribed from the 3.15.2 header of a struct that changed in 3.15, with offsets and size worked out by hand
    /// (the row's comment says how); members ahead of the change keep their 3.14 offsets.
    Header,
    /// A member of `_PyRuntimeState` or `PyInterpreterState`, too large to lay out by hand, that `_Py_DebugOffsets`
    /// of the py315 fixture reports; the comment says which header change moved it.
    DebugOffsets,
    /// A member of `_PyRuntimeState` or `PyInterpreterState` that `_Py_DebugOffsets` does not report: from the DWARF
    /// of the fixture's interpreter (see the module docs).
    Dwarf,
    /// A struct defined in a `.c` file of `Objects/` or `Modules/` (or a header that is not installed), which the
    /// headers cannot give: from the DWARF of the fixture's interpreter; equal to 3.14.5 unless the comment says
    /// otherwise.
    DwarfSource,
    /// A struct of an extension module (`_struct`, `array`, `_json`, `_ctypes`): from the DWARF of that module's
    /// `lib-dynload` shared object in the same python3.15-dbg package (the `.build-id` debug files of the fixture's
    /// modules), read with gdb's `ptype /o`.
    DwarfExtension,
    /// Found on the py315 fixture core (3.15.2) as on the py314 one (`py314.rs`, `Found314`): the one dict pointer
    /// of the main interpreter state whose items (6,368) each map a str to itself; checked there by
    /// `tests/referrers.rs`. Not compared with the DWARF.
    Found,
    /// Not in the DWARF at hand (the python3.15-dbg files are no longer on the generating machine): worked out from
    /// the struct definition in `Modules/_asynciomodule.c` (`FutureObj_HEAD` as in 3.14: `fut_state` follows the
    /// eleven pointers up to `fut_awaited_by`), and confirmed on the tasks/py315 fixture (CPython 3.15.2) by
    /// `tests/coroutines.rs`: every pending task reads `STATE_PENDING`, every done task does not.
    SourceTasksChecked,
}

/// One field's offset in 3.15.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// `Struct.field` of the layout schema.
    pub field: &'static str,
    /// The offset (or size) in 3.15 (checked on 3.15.2).
    pub value: u32,
    /// Where the number comes from.
    pub origin: Origin,
}

macro_rules! rows {
    ($( $field:literal $value:literal $origin:ident ;)*) => {
        &[$( Row { field: $field, value: $value, origin: Origin::$origin }, )*]
    };
}

/// Every 3.15 row, in schema order.
#[rustfmt::skip]
pub static ROWS: &[Row] = rows! {
    // field                                      3.15    origin
    "RuntimeState.size"                           346568  DebugOffsets;  // 3.14.5: 316616
    "RuntimeState.interpreters_head"              936     DebugOffsets;  // 3.14.5: 808
    "RuntimeState.interpreters_main"              944     Dwarf;  // 3.14.5: 816; head + 8: struct pyinterpreters did not change
    "RuntimeState.main_interpreter"               120328  Dwarf;  // 3.14.5: 90752
    "InterpreterState.size"                       226240  DebugOffsets;  // 3.14.5: 225864
    "InterpreterState.next"                       7264    DebugOffsets;  // 3.14.5: 7272; -8: `_malloced` removed after `ceval`
    "InterpreterState.id"                         7272    DebugOffsets;  // 3.14.5: 7280
    "InterpreterState.threads_head"               7336    DebugOffsets;  // 3.14.5: 7344
    "InterpreterState.threads_main"               7352    DebugOffsets;  // 3.14.5: 7360
    "InterpreterState.gc"                         7400    DebugOffsets;  // 3.14.5: 7408
    "InterpreterState.modules"                    7592    DebugOffsets;  // 3.14.5: 7688; -8, and -88 for the smaller _gc_runtime_state
    "InterpreterState.sysdict"                    7576    DebugOffsets;  // 3.14.5: 7672
    "InterpreterState.builtins"                   7584    DebugOffsets;  // 3.14.5: 7680
    "InterpreterState.importlib"                  7608    Header;  // 3.14.5: 7704; modules + 16: the head of struct _import_state did not change
    "InterpreterState.dict"                       8448    Dwarf;  // 3.14.5: 8496
    "InterpreterState.ceval_gil"                  16      DebugOffsets;
    "InterpreterState.own_gil"                    7736    DebugOffsets;  // 3.14.5: 7784; +48 for the lazy-import members of struct _import_state
    "InterpreterState.obmalloc"                   10880   Dwarf;  // 3.14.5: 10904
    "InterpreterState.interned_strings"           224896  Found;  // 3.14.5: 224624
    "GcRuntimeState.size"                         176     Header;  // 3.14.5: 264; trash_delete_* moved to PyThreadState; stats now a pointer; dummies gone; `frame` added
    "GcRuntimeState.enabled"                      0       Header;  // 3.14.5: 12; now the first member
    "GcRuntimeState.generations"                  8       Header;  // 3.14.5: 24; enabled, debug
    "GcRuntimeState.generation0"                  168     Header;  // 3.14.5: 256; frame 120, garbage 128, callbacks 136, heap_size 144, long_lived_* 152/160
    "GcRuntimeState.permanent_generation"         80      Header;  // 3.14.5: 96; 8 + 3 * 24
    "GcRuntimeState.collecting"                   112     Header;  // 3.14.5: 192; after the generation_stats pointer at 104
    "GcGeneration.size"                           24      Same314;
    "GcGeneration.head"                           0       Same314;
    "GcGeneration.threshold"                      16      Same314;
    "GcGeneration.count"                          20      Same314;
    "GilState.size"                               208     Header;  // 3.14.5: -; pycore_gil.h unchanged: 8+8+4(+4)+8 + cond 48 + mutex 40 + switch_cond 48 + switch_mutex 40
    "GilState.locked"                             16      Same314;
    "GilState.last_holder"                        8       Same314;
    "ThreadState.size"                            888     Header;  // 3.14.5: 832; +24 below, +8 jit_exit, +24 `ensure`; datastack_cached_chunk moved, not added
    "ThreadState.prev"                            0       Header;
    "ThreadState.next"                            8       Header;
    "ThreadState.interp"                          16      Header;
    "ThreadState.current_frame"                   72      Header;  // gil_requested took the 4-byte hole after what_event
    "ThreadState.thread_id"                       176     Header;  // 3.14.5: 152
    "ThreadState.native_thread_id"                184     Header;  // 3.14.5: 160
    "ThreadState.datastack_chunk"                 256     Header;  // 3.14.5: 232
    "ThreadState.datastack_top"                   264     Header;  // 3.14.5: 240; follows datastack_chunk
    "ThreadState.dict"                            152     Header;  // 3.14.5: 128; +24: base_frame, last_profiled_frame, last_profiled_frame_seq after current_frame
    "FrameObject.size"                            80      Same314;
    "FrameObject.f_back"                          16      Same314;
    "FrameObject.f_lineno"                        40      Same314;
    "FrameObject.f_frame"                         24      Same314;
    "FrameObject.f_frame_data"                    72      Same314;
    "FrameObject.f_trace"                         32      Same314;
    "FrameObject.f_extra_locals"                  48      Same314;
    "FrameObject.f_locals_cache"                  56      Same314;
    "FrameObject.f_overwritten_fast_locals"       64      Same314;
    "InterpreterFrame.size"                       88      Same314;
    "InterpreterFrame.previous"                   8       Same314;
    "InterpreterFrame.executable"                 0       Same314;
    "InterpreterFrame.funcobj"                    16      Same314;
    "InterpreterFrame.globals"                    24      Same314;
    "InterpreterFrame.builtins"                   32      Same314;
    "InterpreterFrame.locals"                     40      Same314;
    "InterpreterFrame.frame_obj"                  48      Same314;
    "InterpreterFrame.instr_ptr"                  56      Same314;
    "InterpreterFrame.stackpointer"               64      Same314;
    "InterpreterFrame.owner"                      74      Same314;
    "InterpreterFrame.localsplus"                 80      Same314;
    "CodeObject.size"                             216     Same314;
    "CodeObject.argcount"                         52      Same314;
    "CodeObject.posonlyargcount"                  56      Same314;
    "CodeObject.kwonlyargcount"                   60      Same314;
    "CodeObject.nlocals"                          80      Same314;
    "CodeObject.nlocalsplus"                      72      Same314;
    "CodeObject.ncellvars"                        84      Same314;
    "CodeObject.nfreevars"                        88      Same314;
    "CodeObject.stacksize"                        64      Same314;
    "CodeObject.flags"                            48      Same314;
    "CodeObject.firstlineno"                      68      Same314;
    "CodeObject.consts"                           24      Same314;
    "CodeObject.names"                            32      Same314;
    "CodeObject.localsplusnames"                  96      Same314;
    "CodeObject.localspluskinds"                  104     Same314;
    "CodeObject.filename"                         112     Same314;
    "CodeObject.name"                             120     Same314;
    "CodeObject.qualname"                         128     Same314;
    "CodeObject.linetable"                        136     Same314;
    "CodeObject.exceptiontable"                   40      Same314;
    "CodeObject.framesize"                        76      Same314;
    "CodeObject.code_adaptive"                    208     Same314;
    "CodeObject.extra"                            200     Same314;
    "Object.size"                                 16      Same314;
    "Object.ob_refcnt"                            0       Same314;
    "Object.ob_type"                              8       Same314;
    "VarObject.size"                              24      Same314;
    "VarObject.ob_size"                           16      Same314;
    "TypeObject.size"                             424     Header;  // 3.14.5: 416; _tp_iteritem appended at 416
    "TypeObject.tp_name"                          24      Header;
    "TypeObject.tp_basicsize"                     32      Header;
    "TypeObject.tp_itemsize"                      40      Header;
    "TypeObject.tp_dealloc"                       48      Header;
    "TypeObject.tp_repr"                          88      Header;
    "TypeObject.tp_flags"                         168     Header;
    "TypeObject.tp_traverse"                      184     Header;
    "TypeObject.tp_weaklistoffset"                208     Header;
    "TypeObject.tp_members"                       240     Header;
    "TypeObject.tp_base"                          256     Header;
    "TypeObject.tp_dict"                          264     Header;
    "TypeObject.tp_dictoffset"                    288     Header;
    "TypeObject.tp_bases"                         336     Header;
    "TypeObject.tp_mro"                           344     Header;
    "TypeObject.tp_subclasses"                    360     Header;
    "TypeObject.tp_del"                           376     Header;
    "TypeObject.tp_finalize"                      392     Header;
    "TypeObject.tp_cache"                         352     Header;
    "TypeObject.tp_weaklist"                      368     Header;
    "HeapTypeObject.size"                         944     Header;  // 3.14.5: 936; +8: the embedded PyTypeObject grew
    "HeapTypeObject.ht_name"                      864     Header;  // 3.14.5: 856
    "HeapTypeObject.ht_slots"                     872     Header;  // 3.14.5: 864
    "HeapTypeObject.ht_qualname"                  880     Header;  // 3.14.5: 872
    "HeapTypeObject.ht_cached_keys"               888     Header;  // 3.14.5: 880
    "HeapTypeObject.ht_module"                    896     Header;  // 3.14.5: 888
    "LongObject.size"                             32      Same314;
    "LongObject.lv_tag"                           16      Same314;
    "LongObject.ob_digit"                         24      Same314;
    "FloatObject.size"                            24      Same314;
    "FloatObject.ob_fval"                         16      Same314;
    "BytesObject.size"                            40      Same314;
    "BytesObject.ob_shash"                        24      Same314;
    "BytesObject.ob_sval"                         32      Same314;
    "ByteArrayObject.size"                        64      Header;  // 3.14.5: 56; ob_bytes_object appended at 56
    "ByteArrayObject.ob_alloc"                    24      Header;
    "ByteArrayObject.ob_bytes"                    32      Header;
    "ByteArrayObject.ob_start"                    40      Header;
    "ByteArrayObject.ob_bytes_object"             56      Header;  // new in 3.15: the bytes object holding the buffer
    "AsciiObject.size"                            40      Same314;
    "AsciiObject.length"                          16      Same314;
    "AsciiObject.hash"                            24      Same314;
    "AsciiObject.state"                           32      Same314;
    "CompactUnicodeObject.size"                   56      Same314;
    "CompactUnicodeObject.utf8_length"            40      Same314;
    "CompactUnicodeObject.utf8"                   48      Same314;
    "UnicodeObject.size"                          64      Same314;
    "UnicodeObject.data"                          56      Same314;
    "TupleObject.size"                            40      Same314;
    "TupleObject.ob_item"                         32      Same314;
    "ListObject.size"                             40      Same314;
    "ListObject.ob_item"                          24      Same314;
    "ListObject.allocated"                        32      Same314;
    "DictObject.size"                             48      Same314;
    "DictObject.ma_used"                          16      Same314;
    "DictObject.ma_keys"                          32      Same314;
    "DictObject.ma_values"                        40      Same314;
    "DictKeysObject.size"                         32      Same314;
    "DictKeysObject.dk_refcnt"                    0       Same314;
    "DictKeysObject.dk_log2_size"                 8       Same314;
    "DictKeysObject.dk_log2_index_bytes"          9       Same314;
    "DictKeysObject.dk_kind"                      10      Same314;
    "DictKeysObject.dk_usable"                    16      Same314;
    "DictKeysObject.dk_nentries"                  24      Same314;
    "DictKeysObject.dk_indices"                   32      Same314;
    "DictKeyEntry.size"                           24      Same314;
    "DictKeyEntry.me_hash"                        0       Same314;
    "DictKeyEntry.me_key"                         8       Same314;
    "DictKeyEntry.me_value"                       16      Same314;
    "DictUnicodeEntry.size"                       16      Same314;
    "DictUnicodeEntry.me_key"                     0       Same314;
    "DictUnicodeEntry.me_value"                   8       Same314;
    "DictValues.size"                             16      Same314;
    "DictValues.capacity"                         0       Same314;
    "DictValues.size_field"                       1       Same314;
    "DictValues.embedded"                         2       Same314;
    "DictValues.valid"                            3       Same314;
    "DictValues.values"                           8       Same314;
    "SetObject.size"                              200     Same314;
    "SetObject.fill"                              16      Same314;
    "SetObject.used"                              24      Same314;
    "SetObject.mask"                              32      Same314;
    "SetObject.table"                             40      Same314;
    "SetObject.smalltable"                        64      Same314;
    "ModuleObject.size"                           104     Header;  // 3.14.5: 56; md_def removed; md_token_is_def, md_state_size/traverse/clear/free, md_token, md_exec
    "ModuleObject.md_dict"                        16      Header;
    "ModuleObject.md_name"                        40      Header;  // 3.14.5: 48
    "ModuleObject.md_state"                       24      Header;  // 3.14.5: 32; md_def removed from before it
    "ModuleObject.md_state_size"                  56      Header;  // new in 3.15: after md_token_is_def (48) and a 7-byte hole
    "ModuleObject.md_state_traverse"              64      Header;  // new in 3.15
    "FunctionObject.size"                         152     Same314;
    "FunctionObject.func_code"                    48      Same314;
    "FunctionObject.func_globals"                 16      Same314;
    "FunctionObject.func_name"                    32      Same314;
    "FunctionObject.func_qualname"                40      Same314;
    "FunctionObject.func_module"                  104     Same314;
    "FunctionObject.func_builtins"                24      Same314;
    "FunctionObject.func_defaults"                56      Same314;
    "FunctionObject.func_kwdefaults"              64      Same314;
    "FunctionObject.func_closure"                 72      Same314;
    "FunctionObject.func_doc"                     80      Same314;
    "FunctionObject.func_dict"                    88      Same314;
    "FunctionObject.func_annotations"             112     Same314;
    "FunctionObject.func_annotate"                120     Same314;
    "FunctionObject.func_typeparams"              128     Same314;
    "GenObject.size"                              160     Same314;
    "GenObject.gi_name"                           24      Same314;
    "GenObject.gi_qualname"                       32      Same314;
    "GenObject.gi_frame_state"                    67      Same314;
    "GenObject.gi_iframe"                         72      Same314;
    "GenObject.gi_exc_state"                      40      Same314;
    "AsyncGenObject.finalizer"                    56      Same314;
    "StackChunk.size"                             32      Same314;
    "StackChunk.previous"                         0       Same314;
    "StackChunk.chunk_size"                       8       Same314;
    "StackChunk.top"                              16      Same314;
    "StackChunk.data"                             24      Same314;
    "GcHead.size"                                 16      Same314;
    "GcHead.gc_next"                              0       Same314;
    "GcHead.gc_prev"                              8       Same314;
    "ObmallocState.size"                          263248  Same314;
    "ObmallocState.arenas"                        512     Same314;
    "ObmallocState.maxarenas"                     520     Same314;
    "ObmallocState.narenas_currently_allocated"   1064    Same314;
    "ArenaObject.size"                            48      Same314;
    "ArenaObject.address"                         0       Same314;
    "ArenaObject.pool_address"                    8       Same314;
    "ArenaObject.nfreepools"                      16      Same314;
    "ArenaObject.ntotalpools"                     20      Same314;
    "ArenaObject.freepools"                       24      Same314;
    "ArenaObject.nextarena"                       32      Same314;
    "ArenaObject.prevarena"                       40      Same314;
    "PoolHeader.size"                             48      Same314;
    "PoolHeader.count"                            0       Same314;
    "PoolHeader.freeblock"                        8       Same314;
    "PoolHeader.nextpool"                         16      Same314;
    "PoolHeader.prevpool"                         24      Same314;
    "PoolHeader.arenaindex"                       32      Same314;
    "PoolHeader.szidx"                            36      Same314;
    "PoolHeader.nextoffset"                       40      Same314;
    "PoolHeader.maxnextoffset"                    44      Same314;
    "ErrStackItem.size"                           16      Same314;
    "ErrStackItem.exc_value"                      0       Same314;
    "CodeObjectExtra.size"                        16      Same314;
    "CodeObjectExtra.ce_size"                     0       Same314;
    "CodeObjectExtra.ce_extras"                   8       Same314;
    "CellObject.size"                             24      Same314;
    "CellObject.ob_ref"                           16      Same314;
    "MethodObject.size"                           48      Same314;
    "MethodObject.im_func"                        16      Same314;
    "MethodObject.im_self"                        24      Same314;
    "CFunctionObject.size"                        56      Same314;
    "CFunctionObject.m_ml"                        16      Same314;
    "CFunctionObject.m_self"                      24      Same314;
    "CFunctionObject.m_module"                    32      Same314;
    "CMethodObject.size"                          64      Same314;
    "CMethodObject.mm_class"                      56      Same314;
    "MethodDef.size"                              32      Same314;
    "MethodDef.ml_flags"                          16      Same314;
    "DescrObject.size"                            40      Same314;
    "DescrObject.d_type"                          16      Same314;
    "DescrObject.d_name"                          24      Same314;
    "DescrObject.d_qualname"                      32      Same314;
    "MethodWrapper.size"                          32      DwarfSource;
    "MethodWrapper.descr"                         16      DwarfSource;
    "MethodWrapper.self_"                         24      DwarfSource;
    "Property.size"                               64      DwarfSource;
    "Property.prop_get"                           16      DwarfSource;
    "Property.prop_set"                           24      DwarfSource;
    "Property.prop_del"                           32      DwarfSource;
    "Property.prop_doc"                           40      DwarfSource;
    "Property.prop_name"                          48      DwarfSource;
    "ClassMethod.size"                            32      DwarfSource;
    "ClassMethod.cm_callable"                     16      DwarfSource;
    "ClassMethod.cm_dict"                         24      DwarfSource;
    "WeakReference.size"                          64      Same314;
    "WeakReference.wr_object"                     16      Same314;
    "WeakReference.wr_callback"                   24      Same314;
    "Traceback.size"                              40      Same314;
    "Traceback.tb_next"                           16      Same314;
    "Traceback.tb_frame"                          24      Same314;
    "BaseException.size"                          72      Same314;
    "BaseException.dict"                          16      Same314;
    "BaseException.args"                          24      Same314;
    "BaseException.notes"                         32      Same314;
    "BaseException.traceback"                     40      Same314;
    "BaseException.context"                       48      Same314;
    "BaseException.cause"                         56      Same314;
    "ModuleDef.size"                              104     Same314;
    "ModuleDef.m_size"                            56      Same314;
    "ModuleDef.m_traverse"                        80      Same314;
    "Slice.size"                                  40      Same314;
    "Slice.start"                                 16      Same314;
    "Slice.stop"                                  24      Same314;
    "Slice.step"                                  32      Same314;
    "Namespace.size"                              24      DwarfSource;
    "Namespace.ns_dict"                           16      DwarfSource;
    "MappingProxy.size"                           24      DwarfSource;
    "MappingProxy.mapping"                        16      DwarfSource;
    "DictView.size"                               24      Same314;
    "DictView.dv_dict"                            16      Same314;
    "ListIter.size"                               32      Same314;
    "ListIter.it_seq"                             24      Same314;
    "MemoryView.size"                             152     Same314;
    "MemoryView.mbuf"                             24      Same314;
    "ManagedBuffer.size"                          112     Same314;
    "ManagedBuffer.master_obj"                    40      Same314;
    "Deque.size"                                  216     DwarfSource;
    "Deque.leftblock"                             24      DwarfSource;
    "Deque.rightblock"                            32      DwarfSource;
    "Deque.leftindex"                             40      DwarfSource;
    "Deque.rightindex"                            48      DwarfSource;
    "DequeBlock.size"                             528     DwarfSource;
    "DequeBlock.data"                             8       DwarfSource;
    "DequeBlock.rightlink"                        520     DwarfSource;
    "DefaultDict.size"                            56      DwarfSource;
    "DefaultDict.default_factory"                 48      DwarfSource;
    "ODict.size"                                  112     DwarfSource;
    "ODict.od_first"                              48      DwarfSource;
    "ODict.od_fast_nodes_size"                    72      DwarfSource;
    "ODict.od_inst_dict"                          96      DwarfSource;
    "ODictNode.size"                              32      DwarfSource;
    "ODictNode.key"                               0       DwarfSource;
    "ODictNode.next"                              16      DwarfSource;
    "Partial.size"                                80      DwarfSource;  // 3.14.5: 64; weakreflist, placeholder, phcount, vectorcall follow dict (Placeholder came in 3.14: py314.rs's 64 may be 3.13's size)
    "Partial.fn_"                                 16      DwarfSource;
    "Partial.args"                                24      DwarfSource;
    "Partial.kw"                                  32      DwarfSource;
    "Partial.dict"                                40      DwarfSource;
    "LruCache.size"                               152     DwarfSource;
    "LruCache.root"                               0       DwarfSource;
    "LruCache.cache"                              72      DwarfSource;
    "LruCache.func"                               88      DwarfSource;
    "LruCache.kwd_mark"                           112     DwarfSource;
    "LruCache.lru_list_elem_type"                 120     DwarfSource;
    "LruCache.cache_info_type"                    128     DwarfSource;
    "LruCache.dict"                               136     DwarfSource;
    "LruListElem.size"                            56      DwarfSource;
    "LruListElem.next"                            24      DwarfSource;
    "LruListElem.key"                             40      DwarfSource;
    "LruListElem.result"                          48      DwarfSource;
    "Pattern.size"                                96      DwarfSource;
    "Pattern.groupindex"                          32      DwarfSource;
    "Pattern.indexgroup"                          40      DwarfSource;
    "Pattern.pattern"                             48      DwarfSource;
    "Pattern.codesize"                            80      DwarfSource;
    "Count.size"                                  40      DwarfSource;
    "Count.long_cnt"                              24      DwarfSource;
    "Count.long_step"                             32      DwarfSource;
    "AbcData.size"                                48      DwarfSource;
    "AbcData.registry"                            16      DwarfSource;
    "AbcData.cache"                               24      DwarfSource;
    "AbcData.negative_cache"                      32      DwarfSource;
    "TextIo.size"                                 200     DwarfSource;
    "TextIo.buffer"                               32      DwarfSource;
    "TextIo.encoding"                             40      DwarfSource;
    "TextIo.encoder"                              48      DwarfSource;
    "TextIo.decoder"                              56      DwarfSource;
    "TextIo.readnl"                               64      DwarfSource;
    "TextIo.errors"                               72      DwarfSource;
    "TextIo.decoded_chars"                        120     DwarfSource;
    "TextIo.pending_bytes"                        136     DwarfSource;
    "TextIo.snapshot"                             152     DwarfSource;
    "TextIo.raw"                                  168     DwarfSource;
    "TextIo.dict"                                 184     DwarfSource;
    "Buffered.size"                               152     DwarfSource;
    "Buffered.raw"                                16      DwarfSource;
    "Buffered.dict"                               136     DwarfSource;
    "Buffered.buffer"                             56      DwarfSource;
    "Buffered.buffer_size"                        120     DwarfSource;
    "FileIo.size"                                 48      DwarfSource;
    "FileIo.dict"                                 40      DwarfSource;
    "Context.size"                                48      Same314;
    "Context.ctx_prev"                            16      Same314;
    "Context.ctx_vars"                            24      Same314;
    "Hamt.size"                                   40      Same314;
    "Hamt.h_root"                                 16      Same314;
    "ContextVar.size"                             64      DwarfSource;
    "ContextVar.var_name"                         16      DwarfSource;
    "ContextVar.var_default"                      24      DwarfSource;
    "ContextVar.var_cached"                       32      DwarfSource;
    "TypeVar.size"                                80      DwarfSource;
    "TypeVar.name"                                16      DwarfSource;
    "TypeVar.bound"                               24      DwarfSource;
    "TypeVar.evaluate_bound"                      32      DwarfSource;
    "TypeVar.constraints"                         40      DwarfSource;
    "TypeVar.evaluate_constraints"                48      DwarfSource;
    "TypeVar.default_value"                       56      DwarfSource;
    "TypeVar.evaluate_default"                    64      DwarfSource;
    "TypeAlias.size"                              64      DwarfSource;
    "TypeAlias.name"                              16      DwarfSource;
    "TypeAlias.qualname"                          24      DwarfSource;
    "TypeAlias.type_params"                       32      DwarfSource;
    "TypeAlias.compute_value"                     40      DwarfSource;
    "TypeAlias.value"                             48      DwarfSource;
    "TypeAlias.module"                            56      DwarfSource;
    "GenericAlias.size"                           64      DwarfSource;
    "GenericAlias.origin"                         16      DwarfSource;
    "GenericAlias.args"                           24      DwarfSource;
    "GenericAlias.parameters"                     32      DwarfSource;
    "UnionObject.size"                            56      DwarfSource;  // 3.14.5: 48; weakreflist follows parameters (py314.rs's 48 is not checked on a core)
    "UnionObject.args"                            16      DwarfSource;
    "UnionObject.hashable_args"                   24      DwarfSource;
    "UnionObject.unhashable_args"                 32      DwarfSource;
    "UnionObject.parameters"                      40      DwarfSource;
    "ThreadLocal.size"                            56      DwarfSource;
    "ThreadLocal.args"                            16      DwarfSource;
    "ThreadLocal.kw"                              24      DwarfSource;
    "ThreadLocal.localdicts"                      40      DwarfSource;
    "ThreadLocal.thread_watchdogs"                48      DwarfSource;
    "TupleGetter.size"                            32      DwarfSource;
    "TupleGetter.doc"                             24      DwarfSource;
    "LazyImport.size"                             56      DwarfSource;  // new in 3.15 (Objects/lazyimportobject.c)
    "LazyImport.lz_builtins"                      16      DwarfSource;
    "LazyImport.lz_from"                          24      DwarfSource;
    "LazyImport.lz_attr"                          32      DwarfSource;
    "LazyImport.lz_code"                          40      DwarfSource;
    "Sentinel.size"                               40      DwarfSource;  // new in 3.15 (Objects/sentinelobject.c)
    "Sentinel.name"                               16      DwarfSource;
    "Sentinel.module"                             24      DwarfSource;
    // Extension-module structs (`_struct`, `array`, `_json`, `_ctypes`), read by the heap walker.
    "StructObject.size"                           64      DwarfExtension;  // 3.14.5: 56; `init_called` added
    "StructObject.s_codes"                        32      DwarfExtension;
    "StructObject.s_format"                       40      DwarfExtension;
    "FormatCode.size"                             32      DwarfExtension;
    "FormatCode.fmtdef"                           0       DwarfExtension;
    "ArrayObject.size"                            64      DwarfExtension;
    "ArrayObject.allocated"                       32      DwarfExtension;
    "ArrayObject.ob_descr"                        40      DwarfExtension;
    "ArrayDescr.size"                             40      DwarfExtension;  // `typecode` is a char[3]
    "ArrayDescr.itemsize"                         4       DwarfExtension;
    "Scanner.size"                                72      DwarfExtension;  // 3.14.5: 64
    "Scanner.object_hook"                         24      DwarfExtension;
    "Scanner.object_pairs_hook"                   32      DwarfExtension;
    "Scanner.array_hook"                          40      DwarfExtension;  // new in 3.15
    "Scanner.parse_float"                         48      DwarfExtension;  // 3.14.5: 40
    "Scanner.parse_int"                           56      DwarfExtension;  // 3.14.5: 48
    "Scanner.parse_constant"                      64      DwarfExtension;  // 3.14.5: 56
    "StgInfo.size"                                168     DwarfExtension;
    "StgInfo.initialized"                         0       DwarfExtension;
    "StgInfo.length"                              24      DwarfExtension;
    "StgInfo.elements"                            48      DwarfExtension;  // ffi_type_pointer (32) + 16
    "StgInfo.proto"                               56      DwarfExtension;
    "StgInfo.argtypes"                            88      DwarfExtension;
    "StgInfo.converters"                          96      DwarfExtension;
    "StgInfo.restype"                             104     DwarfExtension;
    "StgInfo.checker"                             112     DwarfExtension;
    "StgInfo.pointer_type"                        120     DwarfExtension;
    "StgInfo.module"                              128     DwarfExtension;
    "StgInfo.format"                              144     DwarfExtension;
    "StgInfo.ndim"                                152     DwarfExtension;
    "CData.size"                                  96      DwarfExtension;
    "CData.b_base"                                32      DwarfExtension;
    "CData.b_objects"                             64      DwarfExtension;
    "CFuncPtr.size"                               160     DwarfExtension;
    "CFuncPtr.thunk"                              96      DwarfExtension;
    "CFuncPtr.callable"                           104     DwarfExtension;
    "CFuncPtr.converters"                         112     DwarfExtension;
    "CFuncPtr.argtypes"                           120     DwarfExtension;
    "CFuncPtr.restype"                            128     DwarfExtension;
    "CFuncPtr.checker"                            136     DwarfExtension;
    "CFuncPtr.errcheck"                           144     DwarfExtension;
    "CFuncPtr.paramflags"                         152     DwarfExtension;
    // `_asyncio`: Debian builds it into the interpreter, so these are from the interpreter's DWARF.
    "FutureObj.size"                              112     DwarfSource;
    "FutureObj.loop_"                             16      DwarfSource;
    "FutureObj.callback0"                         24      DwarfSource;
    "FutureObj.context0"                          32      DwarfSource;
    "FutureObj.callbacks"                         40      DwarfSource;
    "FutureObj.exception"                         48      DwarfSource;
    "FutureObj.exception_tb"                      56      DwarfSource;
    "FutureObj.result"                            64      DwarfSource;
    "FutureObj.source_tb"                         72      DwarfSource;
    "FutureObj.cancel_msg"                        80      DwarfSource;
    "FutureObj.cancelled_exc"                     88      DwarfSource;
    "FutureObj.awaited_by"                        96      DwarfSource;
    "FutureObj.state"                             104     SourceTasksChecked;
    "TaskObj.size"                                168     DwarfSource;
    "TaskObj.fut_waiter"                          120     DwarfSource;
    "TaskObj.coro"                                128     DwarfSource;
    "TaskObj.name"                                136     DwarfSource;
    "TaskObj.context"                             144     DwarfSource;
    "FutureIter.size"                             24      DwarfSource;
    "FutureIter.future"                           16      DwarfSource;
};
