//! Facts about a type that every instance needs (flags, sizes, which `__sizeof__` and which `tp_traverse` apply),
//! computed once per type address and cached in a [`TypeCache`].
//!
//! A type's `tp_traverse` is identified without symbols for static functions:
//! - by the function pointer, compared with the `tp_traverse` of the exported static types (`PyDict_Type`, …), so a
//!   C subclass that inherits its base's traverse (ctypes' `StgDict`, every exception class) is recognised too;
//! - `subtype_traverse` (the traverse of every class made by a `class` statement) by the `tp_traverse` of
//!   `_frozen_importlib.ModuleSpec`, a Python class every interpreter has;
//! - by `tp_name` for types of built-in modules that export no symbol (`collections.deque`, `_thread.lock`, …).
//!
//! `__sizeof__` is looked up the way Python does, along `tp_base`: the first type with a known C `__sizeof__`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use heapscope_coredump::{Addr, ProcessImage};

use super::mem::Mem;
use super::type_tables::{NAMED_TYPES, STATIC_TYPES};
use crate::objects::{flags, DecodeError, Features, Heap, ManagedDict};

/// Deepest `tp_base` chain followed.
const MAX_BASES: usize = 64;
/// Longest `tp_name` read.
const MAX_NAME: usize = 256;

/// Which `__sizeof__` computes `sys.getsizeof` (before the pre-header is added).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeofKind {
    /// `object.__sizeof__`: `tp_basicsize + ob_size * tp_itemsize` (the latter only when `tp_itemsize > 0`).
    Default,
    /// `int.__sizeof__` (and bool).
    Int,
    /// `str.__sizeof__`.
    Str,
    /// `bytearray.__sizeof__`: basic size + `ob_alloc`.
    ByteArray,
    /// `list.__sizeof__`: basic size + `allocated` pointers.
    List,
    /// `dict.__sizeof__` (`_PyDict_SizeOf`).
    Dict,
    /// `OrderedDict.__sizeof__`: the dict's size + its node index + its nodes.
    ODict,
    /// ctypes' `StgDict.__sizeof__` (3.8–3.12).
    StgDict,
    /// `set.__sizeof__` / `frozenset.__sizeof__`.
    Set,
    /// `type.__sizeof__`.
    Type,
    /// `code.__sizeof__`.
    Code,
    /// `frame.__sizeof__`.
    Frame,
    /// `generator.__sizeof__` (3.11+; before, the default).
    Gen,
    /// `deque.__sizeof__`: basic size + its blocks.
    Deque,
    /// `_struct.Struct.__sizeof__`: basic size + its format codes.
    Struct,
    /// `re.Pattern.__sizeof__`: basic size + its code words.
    Pattern,
    /// `array.array.__sizeof__`: basic size + allocated items.
    Array,
    /// `_io.Buffered*.__sizeof__`: basic size + the buffer.
    Buffered,
    /// The `__sizeof__` of ctypes' metatypes from 3.13 on (`CType_Type_sizeof`).
    CTypeMeta,
    /// `numpy.ndarray.__sizeof__` (`array_sizeof`): basic size + `nd` × 2 × 8 (shape and strides) + the data's
    /// bytes when the array owns them.
    NdArray,
    /// `numpy.generic.__sizeof__` (`gentype_sizeof`) of a fixed-size numpy scalar: basic size + the dtype's
    /// `elsize` (the field).
    NpyScalar(u8),
}

/// Which `tp_traverse` a type's instances have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TraverseKind {
    /// Not a GC type, or no `tp_traverse`: `gc.get_referents` is empty.
    None,
    /// A GC type whose `tp_traverse` heapscope does not know (its Traverse edges are empty).
    Unknown,
    /// `subtype_traverse`: classes made by a `class` statement (see [`SubtypeInfo`]).
    Subtype,
    Dict,
    List,
    Tuple,
    Set,
    Type,
    Function,
    Cell,
    Method,
    CFunction,
    Descr,
    MethodWrapper,
    Property,
    ClassMethod,
    Module,
    Frame,
    Gen,
    WeakRef,
    Traceback,
    Exception,
    Slice,
    Namespace,
    MappingProxy,
    DictView,
    ListIter,
    MemoryView,
    ManagedBuffer,
    Deque,
    DefaultDict,
    ODict,
    Partial,
    LruCache,
    Pattern,
    Count,
    AbcData,
    TextIo,
    Buffered,
    FileIo,
    Context,
    GenericAlias,
    Union,
    ThreadLocal,
    /// Types whose traverse visits only `Py_TYPE(self)` (locks, `array.array`, …; nothing for static ones).
    TypeOnly,
    /// `_struct.Struct`: type, `s_format`.
    Struct,
    /// `_json.Scanner`.
    Scanner,
    /// ctypes' function pointers (`_ctypes.CFuncPtr` and its classes).
    CFuncPtr,
    /// ctypes' metatypes from 3.13 on: their `StgInfo`, then the type's own traverse.
    CTypeMeta,
    /// ctypes' metatypes ≤3.12 except `PyCSimpleType` (`CDataType_traverse`): the objects of the class's
    /// `StgDict`, then `type_traverse`.
    CDataType,
    /// `collections._tuplegetter`: its doc.
    TupleGetter,
    /// `lazy_import` (3.15+).
    LazyImport,
    /// `sentinel` (3.15+).
    Sentinel,
    /// `_contextvars.ContextVar`: name, default.
    ContextVar,
    /// `typing.TypeVar` (3.12+): bound, constraints, defaults and their evaluators, the managed dict.
    TypeVar,
    /// `typing.TypeAliasType` (3.12+).
    TypeAlias,
    /// `ast.AST` and its node classes: (heap type) `Py_TYPE(self)`, the instance dict.
    Ast,
    /// `_asyncio.Future`.
    Future,
    /// `_asyncio.Task`: its own fields, then the `Future` part.
    Task,
    /// `_asyncio.FutureIter`.
    FutureIter,
    /// `_asyncio`'s `TaskWakeupMethWrapper` (≤3.9).
    TaskWakeup,
    /// `hamt_tp_traverse`: the root node.
    Hamt,
    /// `structseq_traverse` (3.9+; 3.8's struct sequences inherit `tupletraverse`): (heap type) `Py_TYPE(self)`,
    /// then the given number of items, visible and hidden, first to last.
    StructSeq(u32),
}

/// What `subtype_traverse` does for instances of one class: precomputed from its chain of bases.
#[derive(Debug, Clone, Default)]
pub struct SubtypeInfo {
    /// Offsets of the `T_OBJECT_EX` members (`__slots__`) of every class in the chain whose traverse is
    /// `subtype_traverse`, most derived first.
    pub slots: Vec<u32>,
    /// The dict pointer is visited (the class added a `__dict__` its first non-subtype base lacks).
    pub dict: bool,
    /// The dict is managed (3.11+ pre-header / inline values).
    pub managed: bool,
    /// `Py_TYPE(self)` is visited by `subtype_traverse` itself.
    pub visit_type: bool,
    /// The first base whose traverse is not `subtype_traverse` (null when there is none, which cannot happen).
    pub base: Addr,
}

/// Everything cached about one type.
#[derive(Debug, Clone)]
pub struct TypeFacts {
    /// The type object's address.
    pub ty: Addr,
    /// `tp_flags`.
    pub flags: u64,
    /// `tp_basicsize`.
    pub basicsize: u64,
    /// `tp_itemsize`.
    pub itemsize: u64,
    /// `tp_dictoffset`.
    pub dictoffset: i64,
    /// `tp_weaklistoffset`.
    pub weaklistoffset: i64,
    /// Which `__sizeof__` applies.
    pub sizeof: SizeofKind,
    /// Which `tp_traverse` applies (for [`TraverseKind::Subtype`], the class's own part; the base's is
    /// `base_traverse`).
    pub traverse: TraverseKind,
    /// For `Subtype`: the traverse of the first non-subtype base, and whether that base is a heap type.
    pub base_traverse: TraverseKind,
    /// The type implementing the (base) traverse is a heap type: converted C types visit `Py_TYPE(self)` first.
    pub base_is_heap: bool,
    /// For `Subtype`: what `subtype_traverse` does.
    pub subtype: Option<Box<SubtypeInfo>>,
    /// Bytes of managed dict / weakref words in front of the GC head (3.11+).
    pub managed_words: u64,
    /// The part of an instance's memory to scan conservatively: its type (or the C base of a Python class) is an
    /// extension type whose `tp_traverse` heapscope does not know.
    pub scan: Option<Scan>,
}

/// Where an extension object's own memory is scanned for references ([`super::labels::RefKind::Conservative`]):
/// the words in `[from, to)`, plus, when `items`, `ob_size` pointer-sized items from `to` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// First byte offset scanned (after the object header).
    pub from: u32,
    /// End of the fixed part scanned: the `tp_basicsize` of the extension type.
    pub to: u32,
    /// The type is var-sized with pointer-sized items, scanned too.
    pub items: bool,
}

impl TypeFacts {
    /// `Py_TPFLAGS_HEAPTYPE`.
    #[inline]
    pub fn is_heap(&self) -> bool {
        self.flags & flags::HEAPTYPE != 0
    }

    /// `Py_TPFLAGS_HAVE_GC`.
    #[inline]
    pub fn have_gc(&self) -> bool {
        self.flags & flags::HAVE_GC != 0
    }

    /// Instances are type objects (`Py_TPFLAGS_TYPE_SUBCLASS`), GC objects only when they are heap types.
    #[inline]
    pub fn is_metatype(&self) -> bool {
        self.flags & flags::TYPE_SUBCLASS != 0
    }
}

/// A multiply-shift hasher for addresses (they are already well spread; SipHash would cost more than the lookup).
#[derive(Debug, Default, Clone, Copy)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A `HashMap` keyed by address with [`AddrHasher`].
pub type AddrMap<V> = HashMap<Addr, V, BuildHasherDefault<AddrHasher>>;

/// A `HashSet` of addresses with [`AddrHasher`].
pub type AddrSet = std::collections::HashSet<Addr, BuildHasherDefault<AddrHasher>>;

/// Process-wide facts found once: the static types by symbol, the traverse functions they identify, and
/// `subtype_traverse`.
#[derive(Debug, Clone)]
pub struct Known {
    /// The interpreter's behaviours.
    pub features: Features,
    /// Static types by address: their traverse and sizeof kinds.
    pub(crate) statics: AddrMap<(TraverseKind, Option<SizeofKind>)>,
    /// `tp_traverse` function → kind.
    pub(crate) fns: AddrMap<TraverseKind>,
    /// `subtype_traverse`, when found.
    pub subtype_traverse: Option<Addr>,
    /// `PyType_Type`.
    pub type_type: Option<Addr>,
    /// `_PySet_Dummy`'s target (3.8+ exported pointer), for set traversal.
    pub set_dummy: Option<Addr>,
}

impl Known {
    /// Resolves the static types of the heap's interpreter and the traverse functions they identify.
    pub fn new<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>) -> Known {
        let m = Mem::new(heap);
        let p = heap.process();
        let mut k = Known {
            features: heap.features(),
            statics: AddrMap::default(),
            fns: AddrMap::default(),
            subtype_traverse: None,
            type_type: None,
            set_dummy: None,
        };
        let traverse_of = |ty: Addr| -> Option<Addr> {
            let fl = m.field(ty, &m.l.type_object.tp_flags, "type").ok()?;
            let f = m.ptr(ty, &m.l.type_object.tp_traverse, "type").ok()?;
            (fl & flags::HAVE_GC != 0 && !f.is_null()).then_some(f)
        };
        for &(sym, tk, sk) in STATIC_TYPES {
            let Some(s) = p.symbol(sym) else { continue };
            k.statics.insert(s.addr, (tk, sk));
            if tk != TraverseKind::None && tk != TraverseKind::Type {
                if let Some(f) = traverse_of(s.addr) {
                    k.fns.entry(f).or_insert(tk);
                }
            }
        }
        k.type_type = p.symbol("PyType_Type").map(|s| s.addr);
        // `PyExc_BaseException` is a pointer to the static type; every exception class shares or extends its traverse.
        if let Some(ty) = p.symbol("PyExc_BaseException").and_then(|s| p.read_u64(s.addr).ok()).map(Addr) {
            k.statics.insert(ty, (TraverseKind::Exception, None));
            if let Some(f) = traverse_of(ty) {
                k.fns.entry(f).or_insert(TraverseKind::Exception);
            }
        }
        k.set_dummy = p.symbol("_PySet_Dummy").and_then(|s| p.read_u64(s.addr).ok()).map(Addr);
        k.subtype_traverse = find_subtype_traverse(heap);
        k
    }
}

/// `subtype_traverse`: the `tp_traverse` of `_frozen_importlib.ModuleSpec`, found through the main interpreter's
/// `importlib` module.
fn find_subtype_traverse<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>) -> Option<Addr> {
    let p = heap.process();
    let l = heap.layout();
    let runtime = p.symbol("_PyRuntime")?.addr;
    let interps = crate::runtime::interpreters(p, l, runtime);
    let interp = interps.items.first()?.addr;
    let importlib = Addr(p.read_u64(interp.checked_add(l.interp.importlib.get().ok()?)?).ok()?);
    let dict = heap.module_dict(importlib).ok()?;
    let spec = heap.dict_get_str(dict, "ModuleSpec").ok()??;
    let fl = heap.tp_flags(spec).ok()?;
    if fl & flags::HEAPTYPE == 0 || fl & flags::HAVE_GC == 0 {
        return None;
    }
    let f = Addr(p.read_u64(spec.checked_add(l.type_object.tp_traverse.get().ok()?)?).ok()?);
    (!f.is_null()).then_some(f)
}

/// Per-type facts, computed on first use. Not shared between threads: give each worker its own (clone a warmed
/// one to skip the warm-up), so lookups need no lock.
#[derive(Debug, Clone)]
pub struct TypeCache {
    pub(crate) known: Known,
    pub(crate) map: AddrMap<TypeFacts>,
}

impl TypeCache {
    /// An empty cache for the heap's interpreter (resolves [`Known`]: a few dozen symbol lookups).
    pub fn new<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>) -> TypeCache {
        TypeCache { known: Known::new(heap), map: AddrMap::default() }
    }

    /// The process-wide facts.
    pub fn known(&self) -> &Known {
        &self.known
    }

    /// The facts of the type `ty`, computed on first use.
    pub fn facts<P: ProcessImage + ?Sized>(&mut self, heap: &Heap<'_, P>, ty: Addr) -> Result<&TypeFacts, DecodeError> {
        facts(&mut self.map, &self.known, heap, ty)
    }

    /// Number of types cached.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True if no type is cached yet.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The facts of `ty` from `map`, computing and inserting them on first use (split from [`TypeCache`] so callers can
/// hold the facts and [`Known`] at once).
pub(crate) fn facts<'c, P: ProcessImage + ?Sized>(
    map: &'c mut AddrMap<TypeFacts>,
    known: &Known,
    heap: &Heap<'_, P>,
    ty: Addr,
) -> Result<&'c TypeFacts, DecodeError> {
    use std::collections::hash_map::Entry;
    match map.entry(ty) {
        Entry::Occupied(e) => Ok(e.into_mut()),
        Entry::Vacant(e) => Ok(e.insert(classify(heap, known, ty)?)),
    }
}

/// Checks that `ty` is a type object: its type is `type`, or a metaclass whose type is (at most [`MAX_META`] levels
/// of metaclasses). A word that is not a type (a corrupt object's type pointer, a crafted object) is refused here,
/// before its fields and name are read; without `PyType_Type`'s address nothing is refused.
fn is_type_object<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, known: &Known, ty: Addr) -> Result<(), DecodeError> {
    const MAX_META: usize = 4;
    let Some(type_type) = known.type_type else { return Ok(()) };
    let mut t = ty;
    for _ in 0..MAX_META {
        if t == type_type {
            return Ok(());
        }
        t = m.ptr(t, &m.l.object.ob_type, "type")?;
    }
    if t == type_type {
        return Ok(());
    }
    Err(DecodeError::malformed(ty, "type", "not a type object: neither its type nor its type's types are `type`"))
}

/// Raw fields of one type object.
struct RawType {
    flags: u64,
    basicsize: u64,
    itemsize: u64,
    dictoffset: i64,
    weaklistoffset: i64,
    traverse: Addr,
    base: Addr,
}

fn raw<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, ty: Addr) -> Result<RawType, DecodeError> {
    let t = &m.l.type_object;
    Ok(RawType {
        flags: m.field(ty, &t.tp_flags, "type")?,
        basicsize: m.field(ty, &t.tp_basicsize, "type")?,
        itemsize: m.field(ty, &t.tp_itemsize, "type")?,
        dictoffset: m.field(ty, &t.tp_dictoffset, "type")? as i64,
        weaklistoffset: m.field(ty, &t.tp_weaklistoffset, "type")? as i64,
        traverse: m.ptr(ty, &t.tp_traverse, "type")?,
        base: m.ptr(ty, &t.tp_base, "type")?,
    })
}

/// `tp_name` of `ty` (lossy; empty when unreadable).
fn tp_name<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, ty: Addr) -> String {
    let Ok(p) = m.ptr(ty, &m.l.type_object.tp_name, "type") else { return String::new() };
    m.p.read_cstr(p, MAX_NAME).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

/// The named-type entry of `ty`, if its `tp_name` is one heapscope knows for this version.
fn named<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, ty: Addr) -> Option<(TraverseKind, Option<SizeofKind>)> {
    let name = tp_name(m, ty);
    let ctypes = m.heap.features().ctypes;
    NAMED_TYPES
        .iter()
        .find(|&&(n, _, _, only)| n == name && only.is_none_or(|c| c == ctypes))
        .map(|&(_, t, s, _)| (t, s))
}

/// The traverse kind of a type whose `tp_traverse` is `f` (not `subtype_traverse`).
fn traverse_kind<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, known: &Known, ty: Addr, r: &RawType) -> TraverseKind {
    // No HAVE_GC check: `subtype_traverse` calls its first C base's traverse whatever that base's flags say (ctypes'
    // `_ctypes.PyCFuncPtr` has a traverse but no HAVE_GC in 3.8).
    if r.traverse.is_null() {
        return TraverseKind::None;
    }
    if let Some(&(tk, _)) = known.statics.get(&ty) {
        if tk != TraverseKind::None {
            return tk;
        }
    }
    if let Some(&tk) = known.fns.get(&r.traverse) {
        return tk;
    }
    if r.flags & flags::TYPE_SUBCLASS != 0 {
        // Metatypes: ctypes' (3.13+) have their own traverse; others inherit type_traverse's behaviour.
        return match named(m, ty) {
            Some((tk, _)) => tk,
            None => TraverseKind::Type,
        };
    }
    // Types that inherit their traverse from a named base share its function pointer: walk the bases with it.
    let mut cur = ty;
    for _ in 0..MAX_BASES {
        if let Some((tk, _)) = named(m, cur) {
            return tk;
        }
        let Ok(next) = raw(m, cur).map(|b| b.base) else { break };
        if next.is_null() || raw(m, next).map(|b| b.traverse).ok() != Some(r.traverse) {
            break;
        }
        cur = next;
    }
    TraverseKind::Unknown
}

/// `kind`, unless it is [`TraverseKind::Unknown`] and `ty` is a struct sequence type: their `structseq_traverse`
/// is a static function, shared by types of different sizes.
fn structseq_or<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, ty: Addr, kind: TraverseKind) -> TraverseKind {
    if kind != TraverseKind::Unknown {
        return kind;
    }
    match heap.structseq_real_size(ty) {
        Ok(Some(n)) => u32::try_from(n).map_or(kind, TraverseKind::StructSeq),
        _ => kind,
    }
}

/// True if `r` (the type at `ty`) traverses with `subtype_traverse`.
fn is_subtype<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, known: &Known, r: &RawType, ty: Addr) -> bool {
    if r.flags & flags::HAVE_GC == 0 || r.traverse.is_null() || r.flags & flags::HEAPTYPE == 0 {
        return false;
    }
    match known.subtype_traverse {
        Some(f) => f == r.traverse,
        // Without `_frozen_importlib`: a heap type with an unknown traverse and a dotless `tp_name` (C types made
        // from a spec carry their module in `tp_name`).
        None => !known.fns.contains_key(&r.traverse) && !tp_name(m, ty).contains('.'),
    }
}

/// Computes the facts of `ty`.
fn classify<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, known: &Known, ty: Addr) -> Result<TypeFacts, DecodeError> {
    let m = Mem::new(heap);
    is_type_object(&m, known, ty)?;
    let r = raw(&m, ty)?;
    let sizeof = sizeof_kind(&m, known, ty, &r);
    let managed_words = known.features.managed_words(r.flags);
    let mut f = TypeFacts {
        ty,
        flags: r.flags,
        basicsize: r.basicsize,
        itemsize: r.itemsize,
        dictoffset: r.dictoffset,
        weaklistoffset: r.weaklistoffset,
        sizeof,
        traverse: TraverseKind::None,
        base_traverse: TraverseKind::None,
        base_is_heap: r.flags & flags::HEAPTYPE != 0,
        subtype: None,
        managed_words,
        scan: None,
    };
    if r.flags & flags::HAVE_GC == 0 {
        if sizeof == SizeofKind::Default && is_extension_type(&m, known, ty) {
            f.scan = scan_of(&m, r.basicsize, r.itemsize);
        }
        return Ok(f);
    }
    if !is_subtype(&m, known, &r, ty) {
        f.traverse = structseq_or(heap, ty, traverse_kind(&m, known, ty, &r));
        f.base_traverse = f.traverse;
        if f.traverse == TraverseKind::Unknown {
            f.scan = scan_of(&m, r.basicsize, r.itemsize);
        }
        return Ok(f);
    }
    // subtype_traverse: collect slots along the chain, then the first base with another traverse.
    let mut info = SubtypeInfo::default();
    let mut base = ty;
    let mut braw = r;
    let top_dictoffset = f.dictoffset;
    for _ in 0..MAX_BASES {
        if !is_subtype(&m, known, &braw, base) {
            break;
        }
        let nslots = m.ob_size(base)?;
        if nslots > 0 {
            collect_slots(&m, base, braw.basicsize_of_meta(&m, base)?, nslots as u64, &mut info.slots)?;
        }
        let next = braw.base;
        if next.is_null() {
            break;
        }
        base = next;
        braw = raw(&m, base)?;
    }
    info.base = base;
    info.dict = top_dictoffset != braw.dictoffset;
    // `subtype_traverse` visits the managed dict only when the class added it (`type->tp_dictoffset !=
    // base->tp_dictoffset`): over a C base that has one itself (3.14's `_asyncio.Future`), the base's traverse does.
    info.managed = known.features.managed_dict != ManagedDict::None && f.flags & flags::MANAGED_DICT != 0 && info.dict;
    let base_heap = braw.flags & flags::HEAPTYPE != 0;
    let base_kind = structseq_or(heap, base, traverse_kind(&m, known, base, &braw));
    info.visit_type =
        f.is_heap() && (known.features.subtype_always_visits_type || base_kind == TraverseKind::None || !base_heap);
    if base_kind == TraverseKind::Unknown {
        // A Python class over an extension type: the C part is the base's basic size (slots and dict lie beyond).
        f.scan = scan_of(&m, braw.basicsize, 0);
    }
    f.traverse = TraverseKind::Subtype;
    f.base_traverse = base_kind;
    f.base_is_heap = base_heap;
    f.subtype = Some(Box::new(info));
    Ok(f)
}

impl RawType {
    /// `Py_TYPE(type)->tp_basicsize`: where `PyHeapType_GET_MEMBERS` puts the member array of the heap type `ty`.
    fn basicsize_of_meta<P: ProcessImage + ?Sized>(&self, m: &Mem<'_, '_, P>, ty: Addr) -> Result<u64, DecodeError> {
        let meta = m.ptr(ty, &m.l.object.ob_type, "type")?;
        m.field(meta, &m.l.type_object.tp_basicsize, "type")
    }
}

/// Most bytes of one object scanned conservatively (fixed part and items each).
const MAX_SCAN_BYTES: u64 = 1 << 16;

/// The scan of an extension type with these sizes, from the end of the object header to its basic size.
fn scan_of<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, basicsize: u64, itemsize: u64) -> Option<Scan> {
    let header = if itemsize > 0 { m.l.var_object.size.offset? } else { m.l.object.size.offset? };
    let to = u32::try_from(basicsize.min(MAX_SCAN_BYTES)).ok()?;
    (to > header).then_some(Scan { from: header, to, items: itemsize == 8 })
}

/// True for a non-GC type that an extension module defines and heapscope does not model: not a static type of the
/// interpreter nor one it knows by name, with a dotted `tp_name` (`numpy.ndarray`, `numpy.dtypes.Float64DType`;
/// builtins have none).
fn is_extension_type<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, known: &Known, ty: Addr) -> bool {
    !known.statics.contains_key(&ty) && named(m, ty).is_none() && tp_name(m, ty).contains('.')
}

/// `sizeof(PyMemberDef)` and its `type` / `offset` fields (stable ABI, every version).
const MEMBER_DEF_SIZE: u64 = 40;
const MEMBER_TYPE: u64 = 8;
const MEMBER_OFFSET: u64 = 16;
/// `T_OBJECT_EX`.
const T_OBJECT_EX: u32 = 16;
/// Most `__slots__` members read from one class.
const MAX_SLOTS: u64 = 4096;

/// Appends the offsets of the `T_OBJECT_EX` members among the first `n` of the heap type `ty`'s own member array
/// (`traverse_slots`).
fn collect_slots<P: ProcessImage + ?Sized>(
    m: &Mem<'_, '_, P>,
    ty: Addr,
    meta_basicsize: u64,
    n: u64,
    out: &mut Vec<u32>,
) -> Result<(), DecodeError> {
    if n > MAX_SLOTS {
        return Err(super::mem::malformed(ty, "heap type", format!("{n} slots")));
    }
    let members = ty.wrapping_add(meta_basicsize);
    for i in 0..n {
        let at = members.wrapping_add(i * MEMBER_DEF_SIZE);
        let kind = m.word32(ty, at.wrapping_add(MEMBER_TYPE), "heap type", "PyMemberDef.type")?;
        let off = m.word(ty, at.wrapping_add(MEMBER_OFFSET), "heap type", "PyMemberDef.offset")?;
        if kind == T_OBJECT_EX {
            let off = u32::try_from(off).map_err(|_| super::mem::malformed(ty, "heap type", "slot offset"))?;
            out.push(off);
        }
    }
    Ok(())
}

/// The `__sizeof__` of `ty`'s instances: the first type along `tp_base` with a known C `__sizeof__`.
fn sizeof_kind<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, known: &Known, ty: Addr, r: &RawType) -> SizeofKind {
    let meta = r.flags & flags::TYPE_SUBCLASS != 0;
    let mut cur = ty;
    for _ in 0..MAX_BASES {
        if let Some(&(_, sk)) = known.statics.get(&cur) {
            // An exact static type without its own `__sizeof__` (tuple, …) keeps the walk going.
            if let Some(s) = sk {
                return s;
            }
        } else if let Some((_, Some(s))) = named(m, cur) {
            return s;
        } else if let Some(s) = stgdict_fallback(m, known, cur) {
            return s;
        }
        let Ok(next) = raw(m, cur).map(|b| b.base) else { break };
        if next.is_null() {
            break;
        }
        cur = next;
    }
    // Metatypes: type.__sizeof__ unless a ctypes metatype (3.13+) came first.
    if meta {
        SizeofKind::Type
    } else {
        SizeofKind::Default
    }
}

/// ctypes' `StgDict` when its `tp_name` cannot be read (the name lives in `_ctypes`' read-only data, which a core
/// may omit): the static dict subclass, based directly on `dict`, whose basic size is `sizeof(StgDictObject)`
/// (a struct of the versions that have it, ≤3.12).
fn stgdict_fallback<P: ProcessImage + ?Sized>(m: &Mem<'_, '_, P>, known: &Known, ty: Addr) -> Option<SizeofKind> {
    let stgdict_size = m.l.stgdict.size.get().ok()?;
    let r = raw(m, ty).ok()?;
    let dict = known.statics.iter().find(|(_, v)| v.1 == Some(SizeofKind::Dict)).map(|(k, _)| *k)?;
    let is = r.flags & flags::HEAPTYPE == 0
        && r.flags & flags::DICT_SUBCLASS != 0
        && r.base == dict
        && r.basicsize == stgdict_size
        && tp_name(m, ty).is_empty();
    is.then_some(SizeofKind::StgDict)
}
