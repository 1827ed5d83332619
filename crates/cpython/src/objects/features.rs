//! [`Features`]: the behaviours of an interpreter that are not field offsets, chosen once from its version and build
//! in [`Features::for_layout`] — the only place outside `layout/` and `frames.rs`'s `FrameModel` that looks at the
//! version. Each behaviour comes with the one primitive that applies it (decoding a refcount word, the state bits of
//! a str, the pre-header of an instance), so every decoder and the heap walker share one implementation.

use crate::layout::{Flavour, Layout};

use super::flags;

/// Behaviours that are not field offsets, chosen once per interpreter from its version and build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// Where instances of `Py_TPFLAGS_MANAGED_DICT` types keep their dict or values.
    pub managed_dict: ManagedDict,
    /// How the `state` bit field of a str is laid out.
    pub str_state: StrState,
    /// Bytes in front of every object that are not the GC head: the GC head's size (0 in free-threaded builds).
    pub gc_head_size: u64,
    /// How the reference count word encodes the count and immortality.
    pub refcount: Refcount,
    /// Type flags that put two words (managed dict and weakref slots) in front of the GC head of an instance: 0
    /// (≤3.10), `MANAGED_DICT` (3.11), `MANAGED_DICT | MANAGED_WEAKREF` (3.12+) (`_PyType_PreHeaderSize`).
    pub preheader_flags: u64,
    /// What `sys.getsizeof` adds to `__sizeof__`.
    pub getsizeof: GetsizeofPreheader,
    /// Digits `int.__sizeof__` counts at least: 1 from 3.11 on (`Py_MAX(|size|, 1)`), else 0.
    pub int_min_digits: u64,
    /// `subtype_traverse` visits `Py_TYPE(self)` of every heap-type instance (3.8), rather than only when the first
    /// non-subtype base does not (3.9+).
    pub subtype_always_visits_type: bool,
    /// The traverse of `typing`'s `TypeVar` and `TypeAliasType` visits their `name` (and 3.15 a type alias's
    /// `qualname`): gh-140000, October 2025, in 3.15 and backported to 3.13 and 3.14, here assumed from their first
    /// releases after it (3.13.10, 3.14.1); confirmed on 3.14.10 (and its absence on 3.12.1).
    pub typing_visits_name: bool,
    /// `dict_traverse` visits the values of a split dict even when they are embedded in their instance (which then
    /// visits the dict rather than its inline values): gh-130327, March 2026, in 3.14.4 and backported to 3.13
    /// (3.13.13, the release after the backport's merge); confirmed on 3.14.10, absent from 3.14.0 and 3.13.0.
    pub dict_visits_embedded_values: bool,
    /// pymalloc's arena and pool sizes.
    pub pymalloc_geometry: PymallocGeometry,
    /// Where pymalloc's state (the arena table) lives.
    pub pymalloc_state: PymallocState,
    /// Where ctypes keeps a ctypes class's type information.
    pub ctypes: CtypesInfo,
}

/// Where instances of managed-dict types keep their attributes (`Include/internal/pycore_object.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagedDict {
    /// ≤3.10: no managed dicts; `tp_dictoffset` only.
    None,
    /// 3.11: dict pointer at `obj-24`; when NULL, a `PyDictValues*` at `obj-32` (keys in `ht_cached_keys`).
    V311,
    /// 3.12: a tagged `PyDictOrValues` at `obj-24`: odd → the values pointer minus 1 (confirmed on the 3.12.1
    /// fixture: `_PyDictOrValues_GetValues` adds 1), else a dict (or NULL).
    V312,
    /// 3.13+: a dict pointer at `obj-24` (`obj-8` free-threaded); when NULL and the type has
    /// `Py_TPFLAGS_INLINE_VALUES`, a `PyDictValues` inline at `obj + tp_basicsize`.
    V313,
}

impl ManagedDict {
    /// True if instances' values live inline after the object (3.13+ `Py_TPFLAGS_INLINE_VALUES`).
    pub fn inline_values(self) -> bool {
        self == ManagedDict::V313
    }
}

/// Layout of `PyASCIIObject.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrState {
    /// One 32-bit bit field: bits 0–1 interned, 2–4 kind, 5 compact, 6 ascii, 7 ready (≤3.11) or
    /// statically_allocated (3.12+). Every default build 3.8–3.15 and free-threaded 3.13.
    Packed,
    /// Free-threaded 3.14: `interned` is the whole first byte; kind is bits 0–2 of the second byte, compact bit 3,
    /// ascii bit 4, statically_allocated bit 5.
    InternedByte,
}

/// The bits of a str's `state` that decoders use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrBits {
    /// `SSTATE_*` interning state.
    pub interned: u8,
    /// `PyUnicode_Kind`: bytes per character (0 for a ≤3.11 legacy string not made ready).
    pub kind: u8,
    /// The characters follow the header.
    pub compact: bool,
    /// Pure ASCII (a `PyASCIIObject` header).
    pub ascii: bool,
}

impl StrState {
    /// Decodes the first two bytes of `PyASCIIObject.state`.
    pub fn decode(self, state: [u8; 2]) -> StrBits {
        match self {
            StrState::Packed => {
                let s = state[0];
                StrBits { interned: s & 3, kind: (s >> 2) & 7, compact: s & (1 << 5) != 0, ascii: s & (1 << 6) != 0 }
            }
            StrState::InternedByte => {
                let s = state[1];
                StrBits { interned: state[0], kind: s & 7, compact: s & (1 << 3) != 0, ascii: s & (1 << 4) != 0 }
            }
        }
    }
}

/// How `ob_refcnt` encodes the reference count and immortality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refcount {
    /// ≤3.11: a plain count; nothing is immortal. 3.11 initialises its static objects (small ints, `()`, `_Py_ID`
    /// strings) to 999 999 999 but still counts their references.
    Plain,
    /// 3.12/3.13: the count is the 64-bit word; immortal when its low 32 bits, as `int32`, are negative
    /// (`_Py_IsImmortal`); static objects keep exactly `0xFFFFFFFF`.
    Immortal32,
    /// 3.14+: `{u32 ob_refcnt; u16 ob_overflow; u16 ob_flags}`: the count is the low half, immortal as above;
    /// static objects keep exactly `3 << 30` with no overflow.
    Split,
}

/// 3.11 initialises its static objects' refcounts to 999 999 999 and still counts references to them: anything
/// this large (and below 2³², so no pointer) is taken for one of them.
const V311_IMMORTAL_FLOOR: u64 = 900_000_000;
/// 3.14 `_Py_STATIC_FLAG_BITS`: `_Py_STATICALLY_ALLOCATED_FLAG | _Py_IMMORTAL_FLAGS` — the only `ob_flags` bits a
/// live object's refcount word carries.
const STATIC_FLAG_BITS: u64 = 4 | 1;

impl Refcount {
    /// The reference count and immortality of an object whose `ob_refcnt` word is `raw`.
    #[inline]
    pub fn decode(self, raw: u64) -> (i64, bool) {
        let immortal = (raw as u32 as i32) < 0;
        match self {
            Refcount::Plain => (raw as i64, false),
            Refcount::Immortal32 => (raw as i64, immortal),
            Refcount::Split => (i64::from(raw as u32), immortal),
        }
    }

    /// True if `raw` is a plausible refcount word of a live object (not 0, no pointer, no stray flag bits).
    #[inline]
    pub fn plausible(self, raw: u64) -> bool {
        match self {
            Refcount::Plain => (1..1 << 32).contains(&raw),
            Refcount::Immortal32 => raw >> 32 == 0 && raw != 0,
            Refcount::Split => raw as u32 != 0 && (raw >> 32) & 0xffff == 0 && (raw >> 48) & !STATIC_FLAG_BITS == 0,
        }
    }

    /// True if `raw` is the exact refcount word of a statically allocated object (confirmed on the fixtures'
    /// truth: from 3.12 on increments and decrements skip immortal objects, so the word keeps its initial value; a
    /// pointer never has it).
    #[inline]
    pub fn is_static_initial(self, raw: u64) -> bool {
        match self {
            Refcount::Plain => (V311_IMMORTAL_FLOOR..1 << 32).contains(&raw),
            Refcount::Immortal32 => raw == u64::from(u32::MAX),
            Refcount::Split => raw as u32 == 3 << 30 && (raw >> 32) & 0xffff == 0,
        }
    }
}

/// What `sys.getsizeof(o)` adds to `type(o).__sizeof__(o)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetsizeofPreheader {
    /// ≤3.10: the GC head if `PyObject_IS_GC(o)` (a type object only when it is a heap type).
    GcObject,
    /// 3.11/3.12: `_PyType_PreHeaderSize(type(o))`: the GC head if the *type* has `HAVE_GC`, plus the managed
    /// words, so static types count 16 too.
    TypePreheader,
    /// 3.13+: the same, but 0 for static types whose type is exactly `type`.
    TypePreheaderExceptStaticTypes,
}

impl GetsizeofPreheader {
    /// The bytes added for an object whose type has (`type_gc`) or has not `HAVE_GC`, that is (`is_gc`) a GC
    /// object, with `managed` pre-header words, and whose type is (`exact_type`) exactly `type`.
    pub fn bytes(self, gc_head: u64, type_gc: bool, is_gc: bool, managed: u64, exact_type: bool) -> u64 {
        match self {
            GetsizeofPreheader::GcObject => {
                if is_gc {
                    gc_head
                } else {
                    0
                }
            }
            GetsizeofPreheader::TypePreheaderExceptStaticTypes if exact_type && !is_gc => 0,
            _ => (if type_gc { gc_head } else { 0 }) + managed,
        }
    }
}

/// pymalloc's arena and pool sizes (`Objects/obmalloc.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PymallocGeometry {
    /// 3.8/3.9: 256 KiB arenas of 4 KiB pools.
    Small,
    /// 3.10+: 1 MiB arenas of 16 KiB pools (`USE_LARGE_ARENAS`, `USE_LARGE_POOLS`).
    Large,
}

/// Where pymalloc's state lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PymallocState {
    /// ≤3.11: file-static variables of `Objects/obmalloc.c` (found by symbol or by a scan).
    FileStatics,
    /// 3.12: `struct _obmalloc_state` embedded in `PyInterpreterState.obmalloc`.
    Embedded,
    /// 3.13+: `PyInterpreterState.obmalloc` points to it.
    Pointer,
}

/// Where ctypes keeps the type information of a ctypes class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtypesInfo {
    /// ≤3.12: a `StgDict`, the class's `tp_dict`; the metatypes share `CDataType_traverse`.
    StgDict,
    /// 3.13+: a `StgInfo` in the class's type data; the metatypes have their own traverse and `__sizeof__`.
    StgInfo,
}

impl Features {
    /// The behaviours of this layout's interpreter. A version newer than every known one gets the newest
    /// behaviours.
    pub fn for_layout(layout: &Layout) -> Features {
        let v = layout.version;
        let ft = layout.flavour == Flavour::FreeThreaded;
        let minor = if v.major > 3 { u8::MAX } else { v.minor };
        let managed_dict = match minor {
            0..=10 => ManagedDict::None,
            11 => ManagedDict::V311,
            12 => ManagedDict::V312,
            _ => ManagedDict::V313,
        };
        let str_state = if ft && minor >= 14 { StrState::InternedByte } else { StrState::Packed };
        let gc_head_size = if ft { 0 } else { layout.gc_head.size.offset.map_or(16, u64::from) };
        Features {
            managed_dict,
            str_state,
            gc_head_size,
            refcount: match minor {
                0..=11 => Refcount::Plain,
                12 | 13 => Refcount::Immortal32,
                _ => Refcount::Split,
            },
            preheader_flags: match minor {
                0..=10 => 0,
                11 => flags::MANAGED_DICT,
                _ => flags::MANAGED_DICT | flags::MANAGED_WEAKREF,
            },
            getsizeof: match minor {
                0..=10 => GetsizeofPreheader::GcObject,
                11 | 12 => GetsizeofPreheader::TypePreheader,
                _ => GetsizeofPreheader::TypePreheaderExceptStaticTypes,
            },
            int_min_digits: u64::from(minor >= 11),
            subtype_always_visits_type: minor <= 8,
            typing_visits_name: match minor {
                0..=12 => false,
                13 => v.micro >= 10,
                14 => v.micro >= 1,
                _ => true,
            },
            dict_visits_embedded_values: match minor {
                0..=12 => false,
                13 => v.micro >= 13,
                14 => v.micro >= 4,
                _ => true,
            },
            pymalloc_geometry: if minor <= 9 { PymallocGeometry::Small } else { PymallocGeometry::Large },
            pymalloc_state: match minor {
                0..=11 => PymallocState::FileStatics,
                12 => PymallocState::Embedded,
                _ => PymallocState::Pointer,
            },
            ctypes: if minor <= 12 { CtypesInfo::StgDict } else { CtypesInfo::StgInfo },
        }
    }

    /// Bytes of managed dict / weakref words in front of the GC head of instances of a type with `tp_flags`.
    #[inline]
    pub fn managed_words(&self, tp_flags: u64) -> u64 {
        if tp_flags & self.preheader_flags != 0 {
            16
        } else {
            0
        }
    }
}
