//! The types heapscope recognises without symbols for their functions: the exported static types of libpython (by
//! symbol) and the types of built-in and extension modules (by `tp_name`), each with the
//! `tp_traverse` and `__sizeof__` that apply to its instances. See [`super::type_facts`].

use super::type_facts::{SizeofKind, TraverseKind};
use crate::objects::CtypesInfo;

/// Exported static types: symbol, traverse kind, sizeof kind.
pub(crate) const STATIC_TYPES: &[(&str, TraverseKind, Option<SizeofKind>)] = {
    use SizeofKind as S;
    use TraverseKind as T;
    &[
        ("PyDict_Type", T::Dict, Some(S::Dict)),
        ("PyFrozenDict_Type", T::Dict, Some(S::Dict)),
        ("PyLazyImport_Type", T::LazyImport, None),
        ("PySentinel_Type", T::Sentinel, None),
        ("PyList_Type", T::List, Some(S::List)),
        ("PyTuple_Type", T::Tuple, None),
        ("PySet_Type", T::Set, Some(S::Set)),
        ("PyFrozenSet_Type", T::Set, Some(S::Set)),
        ("PyType_Type", T::Type, Some(S::Type)),
        ("PyFunction_Type", T::Function, None),
        ("PyCell_Type", T::Cell, None),
        ("PyMethod_Type", T::Method, None),
        ("PyCFunction_Type", T::CFunction, None),
        ("PyCMethod_Type", T::CFunction, None),
        ("PyMethodDescr_Type", T::Descr, None),
        ("PyClassMethodDescr_Type", T::Descr, None),
        ("PyWrapperDescr_Type", T::Descr, None),
        ("PyMemberDescr_Type", T::Descr, None),
        ("PyGetSetDescr_Type", T::Descr, None),
        ("_PyMethodWrapper_Type", T::MethodWrapper, None),
        ("PyProperty_Type", T::Property, None),
        ("PyClassMethod_Type", T::ClassMethod, None),
        ("PyStaticMethod_Type", T::ClassMethod, None),
        ("PyModule_Type", T::Module, None),
        ("PyFrame_Type", T::Frame, Some(S::Frame)),
        ("PyGen_Type", T::Gen, Some(S::Gen)),
        ("PyCoro_Type", T::Gen, Some(S::Gen)),
        ("PyAsyncGen_Type", T::Gen, Some(S::Gen)),
        ("_PyWeakref_RefType", T::WeakRef, None),
        ("_PyWeakref_ProxyType", T::WeakRef, None),
        ("_PyWeakref_CallableProxyType", T::WeakRef, None),
        ("PyTraceBack_Type", T::Traceback, None),
        ("PySlice_Type", T::Slice, None),
        ("_PyNamespace_Type", T::Namespace, None),
        ("PyDictProxy_Type", T::MappingProxy, None),
        ("PyDictKeys_Type", T::DictView, None),
        ("PyDictValues_Type", T::DictView, None),
        ("PyDictItems_Type", T::DictView, None),
        ("PyListIter_Type", T::ListIter, None),
        ("PyListRevIter_Type", T::ListIter, None),
        ("PyMemoryView_Type", T::MemoryView, None),
        ("_PyManagedBuffer_Type", T::ManagedBuffer, None),
        ("PyODict_Type", T::ODict, Some(S::ODict)),
        ("PyContext_Type", T::Context, None),
        ("Py_GenericAliasType", T::GenericAlias, None),
        ("_PyUnion_Type", T::Union, None),
        ("PyCode_Type", T::None, Some(S::Code)),
        ("PyLong_Type", T::None, Some(S::Int)),
        ("PyBool_Type", T::None, Some(S::Int)),
        ("PyUnicode_Type", T::None, Some(S::Str)),
        ("PyByteArray_Type", T::None, Some(S::ByteArray)),
    ]
};

/// Types of built-in and extension modules found by `tp_name`: name, traverse kind, sizeof kind, and the ctypes
/// representation the entry applies to (`None`: every interpreter).
pub(crate) type Named = (&'static str, TraverseKind, Option<SizeofKind>, Option<CtypesInfo>);

/// The `tp_name`-identified types (static types of built-in modules export no symbol; extension modules none).
pub(crate) const NAMED_TYPES: &[Named] = {
    use CtypesInfo as C;
    use SizeofKind as S;
    use TraverseKind as T;
    &[
        ("collections.deque", T::Deque, Some(S::Deque), None),
        ("collections.defaultdict", T::DefaultDict, None, None),
        ("collections.OrderedDict", T::ODict, Some(S::ODict), None),
        ("functools.partial", T::Partial, None, None),
        ("functools._lru_cache_wrapper", T::LruCache, None, None),
        ("functools._PlaceholderType", T::TypeOnly, None, None),
        ("re.Pattern", T::Pattern, Some(S::Pattern), None),
        ("_sre.SRE_Pattern", T::Pattern, Some(S::Pattern), None),
        ("_thread.lock", T::TypeOnly, None, None),
        ("_thread.RLock", T::TypeOnly, None, None),
        ("_thread._ThreadHandle", T::TypeOnly, None, None),
        ("_thread._local", T::ThreadLocal, None, None),
        ("itertools.count", T::Count, None, None),
        ("_abc._abc_data", T::AbcData, None, None),
        ("_abc_data", T::AbcData, None, None),
        ("_io.TextIOWrapper", T::TextIo, None, None),
        ("_io.BufferedReader", T::Buffered, Some(S::Buffered), None),
        ("_io.BufferedWriter", T::Buffered, Some(S::Buffered), None),
        ("_io.BufferedRandom", T::Buffered, Some(S::Buffered), None),
        ("_io.FileIO", T::FileIo, None, None),
        ("_struct.Struct", T::Struct, Some(S::Struct), None),
        ("Struct", T::Struct, Some(S::Struct), None),
        ("_json.Scanner", T::Scanner, None, None),
        ("make_scanner", T::Scanner, None, None),
        ("array.array", T::TypeOnly, Some(S::Array), None),
        ("StgDict", T::Dict, Some(S::StgDict), None),
        ("_ctypes.CFuncPtr", T::CFuncPtr, None, None),
        ("_ctypes.PyCSimpleType", T::CTypeMeta, Some(S::CTypeMeta), Some(C::StgInfo)),
        ("_ctypes.PyCStructType", T::CTypeMeta, Some(S::CTypeMeta), Some(C::StgInfo)),
        ("_ctypes.UnionType", T::CTypeMeta, Some(S::CTypeMeta), Some(C::StgInfo)),
        ("_ctypes.PyCArrayType", T::CTypeMeta, Some(S::CTypeMeta), Some(C::StgInfo)),
        ("_ctypes.PyCPointerType", T::CTypeMeta, Some(S::CTypeMeta), Some(C::StgInfo)),
        ("_ctypes.PyCFuncPtrType", T::CTypeMeta, Some(S::CTypeMeta), Some(C::StgInfo)),
        ("_ctypes.PyCPointerType", T::CDataType, None, Some(C::StgDict)),
        ("_ctypes.PyCArrayType", T::CDataType, None, Some(C::StgDict)),
        ("_ctypes.PyCStructType", T::CDataType, None, Some(C::StgDict)),
        ("_ctypes.UnionType", T::CDataType, None, Some(C::StgDict)),
        ("_ctypes.PyCFuncPtr", T::CFuncPtr, None, None),
        ("managedbuffer", T::ManagedBuffer, None, None),
        ("method-wrapper", T::MethodWrapper, None, None),
        ("types.SimpleNamespace", T::Namespace, None, None),
        ("_collections._tuplegetter", T::TupleGetter, None, None),
        ("collections._tuplegetter", T::TupleGetter, None, None),
        // numpy (2.x names; numpy 1.x's `numpy.bool_` too). ndarray is not a GC type: its references are Hidden.
        ("numpy.ndarray", T::None, Some(S::NdArray), None),
        ("numpy.bool", T::None, Some(S::NpyScalar(1)), None),
        ("numpy.bool_", T::None, Some(S::NpyScalar(1)), None),
        ("numpy.int8", T::None, Some(S::NpyScalar(1)), None),
        ("numpy.uint8", T::None, Some(S::NpyScalar(1)), None),
        ("numpy.int16", T::None, Some(S::NpyScalar(2)), None),
        ("numpy.uint16", T::None, Some(S::NpyScalar(2)), None),
        ("numpy.int32", T::None, Some(S::NpyScalar(4)), None),
        ("numpy.uint32", T::None, Some(S::NpyScalar(4)), None),
        ("numpy.int64", T::None, Some(S::NpyScalar(8)), None),
        ("numpy.uint64", T::None, Some(S::NpyScalar(8)), None),
        ("numpy.longlong", T::None, Some(S::NpyScalar(8)), None),
        ("numpy.ulonglong", T::None, Some(S::NpyScalar(8)), None),
        ("numpy.float16", T::None, Some(S::NpyScalar(2)), None),
        ("numpy.float32", T::None, Some(S::NpyScalar(4)), None),
        ("numpy.float64", T::None, Some(S::NpyScalar(8)), None),
        ("numpy.longdouble", T::None, Some(S::NpyScalar(16)), None),
        ("numpy.complex64", T::None, Some(S::NpyScalar(8)), None),
        ("numpy.complex128", T::None, Some(S::NpyScalar(16)), None),
        ("numpy.clongdouble", T::None, Some(S::NpyScalar(32)), None),
        ("numpy.datetime64", T::None, Some(S::NpyScalar(8)), None),
        ("numpy.timedelta64", T::None, Some(S::NpyScalar(8)), None),
    ]
};
