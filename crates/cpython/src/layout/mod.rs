//! Per-version knowledge of CPython's struct layouts, as data.
//!
//! One [`Layout`] per process: typed structs of [`Field`]s (offsets), filled from, in order of trust:
//! 1. `_Py_DebugOffsets` read from the core (3.13+), for the fields it covers;
//! 2. DWARF of the matching libpython, for a version without a built-in table (or when asked for a file);
//! 3. the built-in tables (`tables.rs`, generated from DWARF of real builds by `tools/layoutgen`, and checked against
//!    the fixture cores); for a release newer than every table, with no DWARF at hand, the newest one (3.13+, under
//!    `_Py_DebugOffsets`), flagged as unverified ([`Basis::unverified`]).
//!
//! Every field remembers where its value came from ([`Source`]), so `heapscope info --layout` can show it. Decoders
//! are written once against these fields (`layout.dict.ma_keys`), never by matching on the version.

mod debug_offsets;
mod fallback;
mod fields;
mod resolve;
mod tables;

use std::fmt;

pub use debug_offsets::{describe, DebugOffsets};
pub use fallback::{Basis, Unverified, UnverifiedKind};
pub use fields::*;
pub use resolve::{dwarf_offsets, dwarf_offsets_where, DwarfPolicy, ResolveOptions};
pub use tables::TABLES;

use crate::PythonVersion;

/// Where a field's offset came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Not known for this version (the field does not exist in it, or no source had it).
    Unknown,
    /// heapscope's built-in table for this version.
    Table,
    /// `_Py_DebugOffsets` in the analysed process (3.13+).
    DebugOffsets,
    /// DWARF debug info of the interpreter binary.
    Dwarf,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Unknown => "unknown",
            Source::Table => "table",
            Source::DebugOffsets => "_Py_DebugOffsets",
            Source::Dwarf => "dwarf",
        })
    }
}

/// The offset of one field within its struct (or a struct's size), with its provenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// `Struct.field`, for messages.
    pub name: &'static str,
    /// Offset in bytes, when known.
    pub offset: Option<u32>,
    /// Where the offset came from.
    pub source: Source,
}

impl Field {
    /// A field whose offset is not known.
    pub const fn unknown(name: &'static str) -> Field {
        Field { name, offset: None, source: Source::Unknown }
    }

    /// The offset, or an error naming the field.
    #[inline]
    pub fn get(&self) -> Result<u64, MissingField> {
        self.offset.map(u64::from).ok_or(MissingField(self.name))
    }

    /// True if the offset is known.
    pub fn is_known(&self) -> bool {
        self.offset.is_some()
    }

    /// Sets the offset and its source.
    pub fn set(&mut self, offset: u32, source: Source) {
        self.offset = Some(offset);
        self.source = source;
    }
}

/// A layout field the decoder needed is not known for this interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the offset of {0} is not known for this Python version")]
pub struct MissingField(pub &'static str);

/// The build flavour: default (GIL) or free-threaded (`Py_GIL_DISABLED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavour {
    /// The default build, with a GIL.
    Default,
    /// The free-threaded build (3.13t, 3.14t).
    FreeThreaded,
}

/// Which built-in table applies: minor versions, except that 3.14.0–3.14.4 (incremental GC) and 3.14.5+
/// (generational GC again, `_gc_runtime_state` 24 bytes larger) lay out `PyInterpreterState` differently. The 3.15
/// table is from 3.15.2 and applies to every 3.15 release.
pub fn table_key(v: &PythonVersion) -> &'static str {
    match (v.major, v.minor, v.micro) {
        (3, 8, _) => "3.8",
        (3, 9, _) => "3.9",
        (3, 10, _) => "3.10",
        (3, 11, _) => "3.11",
        (3, 12, _) => "3.12",
        (3, 13, _) => "3.13",
        (3, 14, 0..=4) => "3.14.0",
        (3, 14, _) => "3.14.5",
        (3, 15, _) => "3.15",
        _ => "unsupported",
    }
}

/// Declares [`Layout`] with one member per layout struct, plus the by-name access the table loaders use.
macro_rules! layout {
    ($( $(#[$meta:meta])* $member:ident : $ty:ident ),* $(,)?) => {
        /// Every struct layout heapscope needs for one interpreter.
        #[derive(Debug, Clone)]
        pub struct Layout {
            /// The version these offsets are for.
            pub version: PythonVersion,
            /// Default or free-threaded build.
            pub flavour: Flavour,
            /// What the layout rests on as a whole (which table, which DWARF), and whether it is unverified.
            pub basis: Basis,
            $( $(#[$meta])* pub $member: $ty, )*
        }

        impl Layout {
            /// A layout with every field unknown.
            pub fn unknown(version: PythonVersion, flavour: Flavour) -> Layout {
                Layout { version, flavour, basis: Basis::default(), $( $member: $ty::unknown(), )* }
            }

            /// The field `Struct.field`, where `Struct` is the Rust struct name (e.g. `ThreadState.next`).
            pub fn field_mut(&mut self, path: &str) -> Option<&mut Field> {
                let (strukt, field) = path.split_once('.')?;
                match strukt {
                    $( stringify!($ty) => self.$member.field_mut(field), )*
                    _ => None,
                }
            }

            /// Every struct: (Rust name, C names, fields with their candidate C member paths).
            pub fn schema() -> Vec<(&'static str, &'static [&'static str], &'static [(&'static str, &'static [&'static str])])> {
                vec![$( (stringify!($ty), $ty::C_NAMES, $ty::FIELDS), )*]
            }

            /// Every field of every struct, as (`Struct.field`, field).
            pub fn all_fields(&self) -> Vec<(String, &Field)> {
                let mut out = Vec::new();
                $(
                    for (name, f) in self.$member.fields() {
                        out.push((format!("{}.{}", stringify!($ty), name), f));
                    }
                )*
                out
            }
        }
    };
}

layout! {
    /// `_PyRuntimeState`.
    runtime: RuntimeState,
    /// `PyInterpreterState`.
    interp: InterpreterState,
    /// `struct _gc_runtime_state`.
    gc: GcRuntimeState,
    /// `struct gc_generation`.
    gc_generation: GcGeneration,
    /// `_gil_runtime_state`.
    gil: GilState,
    /// `PyThreadState`.
    tstate: ThreadState,
    /// `_PyCFrame` (3.10–3.12).
    cframe: CFrame,
    /// `PyFrameObject`.
    frame_object: FrameObject,
    /// `_PyInterpreterFrame` (3.11+).
    iframe: InterpreterFrame,
    /// `PyCodeObject`.
    code: CodeObject,
    /// `PyObject`.
    object: Object,
    /// `PyVarObject`.
    var_object: VarObject,
    /// `PyTypeObject`.
    type_object: TypeObject,
    /// `PyHeapTypeObject`.
    heap_type: HeapTypeObject,
    /// `PyLongObject`.
    long: LongObject,
    /// `PyFloatObject`.
    float: FloatObject,
    /// `PyBytesObject`.
    bytes: BytesObject,
    /// `PyByteArrayObject`.
    bytearray: ByteArrayObject,
    /// `PyASCIIObject`.
    ascii: AsciiObject,
    /// `PyCompactUnicodeObject`.
    compact_unicode: CompactUnicodeObject,
    /// `PyUnicodeObject`.
    unicode: UnicodeObject,
    /// `PyTupleObject`.
    tuple: TupleObject,
    /// `PyListObject`.
    list: ListObject,
    /// `PyDictObject`.
    dict: DictObject,
    /// `PyDictKeysObject`.
    dict_keys: DictKeysObject,
    /// `PyDictKeyEntry`.
    dict_entry: DictKeyEntry,
    /// `PyDictUnicodeEntry` (3.11+).
    dict_unicode_entry: DictUnicodeEntry,
    /// `PyDictValues` (3.11+).
    dict_values: DictValues,
    /// `PySetObject`.
    set: SetObject,
    /// `PyModuleObject`.
    module: ModuleObject,
    /// `PyFunctionObject`.
    function: FunctionObject,
    /// `PyGenObject`.
    gen: GenObject,
    /// `PyAsyncGenObject`.
    async_gen: AsyncGenObject,
    /// `_PyStackChunk` (3.11+).
    stack_chunk: StackChunk,
    /// `PyGC_Head`.
    gc_head: GcHead,
    /// `struct _obmalloc_state` (3.12+).
    obmalloc: ObmallocState,
    /// `struct arena_object`.
    arena: ArenaObject,
    /// `struct pool_header`.
    pool: PoolHeader,
    /// `_PyErr_StackItem`.
    err_stack_item: ErrStackItem,
    /// `_PyCodeObjectExtra`.
    code_extra: CodeObjectExtra,
    /// `PyCellObject`.
    cell: CellObject,
    /// `PyMethodObject`.
    method: MethodObject,
    /// `PyCFunctionObject`.
    cfunction: CFunctionObject,
    /// `PyCMethodObject` (3.9+).
    cmethod: CMethodObject,
    /// `PyMethodDef`.
    method_def: MethodDef,
    /// `PyDescrObject`.
    descr: DescrObject,
    /// `wrapperobject` (`method-wrapper`).
    method_wrapper: MethodWrapper,
    /// `propertyobject`.
    property: Property,
    /// `classmethod` / `staticmethod`.
    classmethod: ClassMethod,
    /// `PyWeakReference`.
    weakref: WeakReference,
    /// `PyTracebackObject`.
    traceback: Traceback,
    /// `PyBaseExceptionObject`.
    base_exception: BaseException,
    /// `PyModuleDef`.
    module_def: ModuleDef,
    /// `PySliceObject`.
    slice: Slice,
    /// `_PyNamespaceObject`.
    namespace: Namespace,
    /// `mappingproxyobject`.
    mappingproxy: MappingProxy,
    /// `_PyDictViewObject`.
    dict_view: DictView,
    /// `listiterobject`.
    list_iter: ListIter,
    /// `PyMemoryViewObject`.
    memoryview: MemoryView,
    /// `_PyManagedBufferObject`.
    managed_buffer: ManagedBuffer,
    /// `dequeobject`.
    deque: Deque,
    /// `block` of a deque.
    deque_block: DequeBlock,
    /// `defdictobject`.
    defaultdict: DefaultDict,
    /// `PyODictObject`.
    odict: ODict,
    /// `_ODictNode`.
    odict_node: ODictNode,
    /// `partialobject`.
    partial: Partial,
    /// `lru_cache_object`.
    lru_cache: LruCache,
    /// `lru_list_elem`.
    lru_list_elem: LruListElem,
    /// `PatternObject`.
    pattern: Pattern,
    /// `countobject`.
    count: Count,
    /// `_abc_data`.
    abc_data: AbcData,
    /// `textio`.
    textio: TextIo,
    /// `buffered`.
    buffered: Buffered,
    /// `fileio`.
    fileio: FileIo,
    /// `PyContext`.
    context: Context,
    /// `PyContextVar`.
    context_var: ContextVar,
    /// `PyHamtObject`.
    hamt: Hamt,
    /// `typevarobject` (3.12+).
    typevar: TypeVar,
    /// `typealiasobject` (3.12+).
    typealias: TypeAlias,
    /// `gaobject`.
    generic_alias: GenericAlias,
    /// `unionobject`.
    union_object: UnionObject,
    /// `localobject`.
    thread_local: ThreadLocal,
    /// `_PyOpcache` (3.8–3.10).
    opcache: Opcache,
    /// `_tuplegetterobject`.
    tuple_getter: TupleGetter,
    /// `PyLazyImportObject` (3.15+).
    lazy_import: LazyImport,
    /// `sentinelobject` (3.15+).
    sentinel: Sentinel,
    /// `PyStructObject` (`_struct`).
    struct_object: StructObject,
    /// `formatcode` (`_struct`).
    formatcode: FormatCode,
    /// `arrayobject` (`array`).
    array: ArrayObject,
    /// `struct arraydescr` (`array`).
    arraydescr: ArrayDescr,
    /// `PyScannerObject` (`_json`).
    scanner: Scanner,
    /// `StgDictObject` (`_ctypes`, ≤3.12).
    stgdict: StgDict,
    /// `StgInfo` (`_ctypes`, 3.13+).
    stginfo: StgInfo,
    /// `CDataObject` (`_ctypes`).
    cdata: CData,
    /// `PyCFuncPtrObject` (`_ctypes`).
    cfuncptr: CFuncPtr,
    /// `FutureObj` (`_asyncio`).
    future: FutureObj,
    /// `TaskObj` (`_asyncio`).
    task: TaskObj,
    /// `futureiterobject` (`_asyncio`).
    future_iter: FutureIter,
    /// `TaskWakeupMethWrapper` (`_asyncio`, ≤3.9).
    task_wakeup: TaskWakeupMethWrapper,
    /// `PyArrayObject_fields` (numpy).
    ndarray: NdArray,
    /// `PyArray_Descr` (numpy 2).
    npy_descr: NpyDescr,
    /// `_PyArray_LegacyDescr` (numpy 2).
    npy_legacy_descr: NpyLegacyDescr,
}
