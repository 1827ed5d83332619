//! Decoding Python objects in the analysed process: types and their names, str, int, float, bytes, containers,
//! dicts of every representation 3.8–3.15, instance attributes, modules, and a `repr()`-like preview.
//!
//! Everything goes through a [`Heap`]: the process image, its [`Layout`] and the addresses of the static types and
//! singletons (resolved once by symbol). Decoders are written once against the layout's fields; the few behaviours
//! that are not offsets (how an int stores its sign, where an instance keeps its attributes, …) are chosen once in
//! [`Heap::new`] from the version and recorded in [`Features`].
//!
//! Every length or count read from the core is capped before it sizes an allocation or a loop, and a malformed
//! object gives a [`DecodeError`] naming its address, never a panic.

mod bytes;
mod capacity;
mod dict;
mod error;
mod features;
mod instance;
mod long;
mod module;
mod preview;
pub mod repr;
mod sequence;
mod structseq;
mod types;
mod unicode;

use heapscope_coredump::{Addr, ProcessImage};

use crate::frames::FrameModel;
use crate::layout::{Field, Layout};

pub use bytes::PyBytes;
pub use capacity::Slack;
pub use error::DecodeError;
pub use features::{
    CtypesInfo, Features, GetsizeofPreheader, ManagedDict, PymallocGeometry, PymallocState, Refcount, StrBits, StrState,
};
pub(crate) use instance::inline_values_size;
pub use instance::AttrStorage;
pub use long::{PyInt, DIGIT_BITS, MAX_INT_DIGITS};
pub use preview::{redacted, PreviewOptions, MAX_PREVIEW_INT_DIGITS, MAX_REDACTED_HASH_UNITS};
pub use types::Member;
pub use unicode::PyStr;

/// Type flags (`tp_flags`) the decoders look at (`Include/object.h`).
pub mod flags {
    /// `Py_TPFLAGS_INLINE_VALUES` (3.13+): an instance's attribute values sit right after the object.
    pub const INLINE_VALUES: u64 = 1 << 2;
    /// `Py_TPFLAGS_MANAGED_WEAKREF` (3.12+): the weakref list is in the pre-header.
    pub const MANAGED_WEAKREF: u64 = 1 << 3;
    /// `Py_TPFLAGS_MANAGED_DICT` (3.11+): the instance dict (or values) is in the pre-header.
    pub const MANAGED_DICT: u64 = 1 << 4;
    /// `Py_TPFLAGS_HEAPTYPE`: the type object was allocated on the heap (classes made by `class`).
    pub const HEAPTYPE: u64 = 1 << 9;
    /// `Py_TPFLAGS_READY`: `PyType_Ready` has run.
    pub const READY: u64 = 1 << 12;
    /// `Py_TPFLAGS_HAVE_GC`.
    pub const HAVE_GC: u64 = 1 << 14;
    /// `Py_TPFLAGS_LONG_SUBCLASS`: int and its subclasses (bool too).
    pub const LONG_SUBCLASS: u64 = 1 << 24;
    /// `Py_TPFLAGS_LIST_SUBCLASS`.
    pub const LIST_SUBCLASS: u64 = 1 << 25;
    /// `Py_TPFLAGS_TUPLE_SUBCLASS`.
    pub const TUPLE_SUBCLASS: u64 = 1 << 26;
    /// `Py_TPFLAGS_BYTES_SUBCLASS`.
    pub const BYTES_SUBCLASS: u64 = 1 << 27;
    /// `Py_TPFLAGS_UNICODE_SUBCLASS`: str and its subclasses.
    pub const UNICODE_SUBCLASS: u64 = 1 << 28;
    /// `Py_TPFLAGS_DICT_SUBCLASS`.
    pub const DICT_SUBCLASS: u64 = 1 << 29;
    /// `Py_TPFLAGS_BASE_EXC_SUBCLASS`.
    pub const BASE_EXC_SUBCLASS: u64 = 1 << 30;
    /// `Py_TPFLAGS_TYPE_SUBCLASS`: type and metaclasses.
    pub const TYPE_SUBCLASS: u64 = 1 << 31;
}

/// Most bytes any single decoder reads in one go (a str's characters, a list's item pointers, …), whatever the
/// caller's own limit: a corrupt length can never make heapscope allocate more than this per object.
pub const MAX_READ_BYTES: usize = 64 << 20;

/// Deepest `tp_base` chain followed when classifying a subclass (real hierarchies are a few levels deep).
const MAX_BASE_DEPTH: usize = 64;

/// What kind of Python object something is, by its exact static type or by the builtin it subclasses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `None`.
    None,
    /// `True` or `False`.
    Bool,
    /// `int` or a subclass.
    Int,
    /// `float` or a subclass.
    Float,
    /// `complex` or a subclass.
    Complex,
    /// `str` or a subclass.
    Str,
    /// `bytes` or a subclass.
    Bytes,
    /// `bytearray` or a subclass.
    ByteArray,
    /// `tuple` or a subclass (named tuples too).
    Tuple,
    /// `list` or a subclass.
    List,
    /// `dict` or a subclass (`OrderedDict`, `defaultdict`, …).
    Dict,
    /// `set` or a subclass.
    Set,
    /// `frozenset` or a subclass.
    FrozenSet,
    /// A type object (an instance of `type` or of a metaclass).
    Type,
    /// A code object.
    Code,
    /// A Python function.
    Function,
    /// A module (or an instance of a module subclass).
    Module,
    /// Anything else.
    Other,
}

/// Declares [`Statics`] from one list of static types and singletons with the symbols that locate them, so the
/// resolution in [`Heap::new`] and every list of them ([`Statics::types`]) come from the same place.
macro_rules! statics {
    (types { $( $(#[$tm:meta])* $t:ident : $tsym:literal ),* $(,)? }
     singletons { $( $(#[$sm:meta])* $s:ident : $ssym:literal as $sname:literal ),* $(,)? }) => {
        /// Addresses of the static types and singletons, from the interpreter's symbols (`None` when a symbol is
        /// absent).
        #[derive(Debug, Clone, Default)]
        pub struct Statics {
            $( $(#[$tm])* pub $t: Option<Addr>, )*
            /// `PyNone_Type` is not exported; `Py_TYPE(None)` is read from `_Py_NoneStruct` instead.
            pub none_type: Option<Addr>,
            /// `PyGen_Type`, `PyCoro_Type`, `PyAsyncGen_Type`: the types whose repr shows the object's
            /// `__qualname__` (not in [`Statics::types`], which lists the types heapscope decodes by kind).
            pub generator_types: [Option<Addr>; 3],
            $( $(#[$sm])* pub $s: Option<Addr>, )*
        }

        impl Statics {
            /// Resolves every symbol with `sym` (`none_type` is left to the caller).
            fn resolve(sym: impl Fn(&str) -> Option<Addr>) -> Statics {
                let generator_types = ["PyGen_Type", "PyCoro_Type", "PyAsyncGen_Type"].map(&sym);
                Statics { $( $t: sym($tsym), )* none_type: None, generator_types, $( $s: sym($ssym), )* }
            }

            /// Every static type with the name it is known by (its symbol; `type(None)` for `none_type`).
            pub fn types(&self) -> Vec<(Addr, &'static str)> {
                [$( (self.$t, $tsym), )* (self.none_type, "type(None)")]
                    .into_iter()
                    .filter_map(|(a, n)| Some((a?, n)))
                    .collect()
            }

            /// Every singleton with the name Python gives it.
            pub fn singletons(&self) -> Vec<(Addr, &'static str)> {
                [$( (self.$s, $sname), )*].into_iter().filter_map(|(a, n)| Some((a?, n))).collect()
            }
        }
    };
}

statics! {
    types {
        /// `PyType_Type`.
        type_type: "PyType_Type",
        /// `PyBaseObject_Type` (`object`).
        object_type: "PyBaseObject_Type",
        /// `PyLong_Type`.
        long_type: "PyLong_Type",
        /// `PyBool_Type`.
        bool_type: "PyBool_Type",
        /// `PyFloat_Type`.
        float_type: "PyFloat_Type",
        /// `PyComplex_Type`.
        complex_type: "PyComplex_Type",
        /// `PyUnicode_Type`.
        str_type: "PyUnicode_Type",
        /// `PyBytes_Type`.
        bytes_type: "PyBytes_Type",
        /// `PyByteArray_Type`.
        bytearray_type: "PyByteArray_Type",
        /// `PyTuple_Type`.
        tuple_type: "PyTuple_Type",
        /// `PyList_Type`.
        list_type: "PyList_Type",
        /// `PyDict_Type`.
        dict_type: "PyDict_Type",
        /// `PySet_Type`.
        set_type: "PySet_Type",
        /// `PyFrozenSet_Type`.
        frozenset_type: "PyFrozenSet_Type",
        /// `PyCode_Type`.
        code_type: "PyCode_Type",
        /// `PyFunction_Type`.
        function_type: "PyFunction_Type",
        /// `PyModule_Type`.
        module_type: "PyModule_Type",
    }
    singletons {
        /// `_Py_NoneStruct`.
        none: "_Py_NoneStruct" as "None",
        /// `_Py_TrueStruct`.
        true_: "_Py_TrueStruct" as "True",
        /// `_Py_FalseStruct`.
        false_: "_Py_FalseStruct" as "False",
        /// `_Py_NotImplementedStruct`.
        not_implemented: "_Py_NotImplementedStruct" as "NotImplemented",
        /// `_Py_EllipsisObject`.
        ellipsis: "_Py_EllipsisObject" as "Ellipsis",
    }
}

/// The decoding context: a process image, its layout, and the static types and singletons.
pub struct Heap<'a, P: ProcessImage + ?Sized> {
    process: &'a P,
    layout: &'a Layout,
    statics: Statics,
    features: Features,
    frame_model: FrameModel,
}

impl<P: ProcessImage + ?Sized> std::fmt::Debug for Heap<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heap").field("version", &self.layout.version).field("features", &self.features).finish()
    }
}

impl<'a, P: ProcessImage + ?Sized> Heap<'a, P> {
    /// A decoding context for `process`, whose interpreter has `layout`. Resolves the static types and singletons by
    /// symbol; a missing symbol only means objects of that type are classified by their flags and bases instead.
    pub fn new(process: &'a P, layout: &'a Layout) -> Heap<'a, P> {
        let statics = Statics::resolve(|name| process.symbol(name).map(|s| s.addr));
        let frame_model = FrameModel::for_version(&layout.version);
        let mut heap = Heap { process, layout, statics, features: Features::for_layout(layout), frame_model };
        heap.statics.none_type = heap.statics.none.and_then(|none| heap.type_of(none).ok());
        heap
    }

    /// The process image.
    pub fn process(&self) -> &'a P {
        self.process
    }

    /// The layout in use.
    pub fn layout(&self) -> &'a Layout {
        self.layout
    }

    /// The static types and singletons found.
    pub fn statics(&self) -> &Statics {
        &self.statics
    }

    /// The version-dependent behaviours in use.
    pub fn features(&self) -> Features {
        self.features
    }

    /// How this interpreter links and lays out its frames.
    pub fn frame_model(&self) -> &FrameModel {
        &self.frame_model
    }

    /// `Py_TYPE(obj)`.
    pub fn type_of(&self, obj: Addr) -> Result<Addr, DecodeError> {
        self.ptr(obj, &self.layout.object.ob_type, "object header")
    }

    /// `Py_SIZE(obj)` (`PyVarObject.ob_size`), signed.
    pub fn ob_size(&self, obj: Addr) -> Result<i64, DecodeError> {
        Ok(self.u64(obj, &self.layout.var_object.ob_size, "var-sized object")? as i64)
    }

    /// The static type object of a kind (`PyLong_Type` for [`Kind::Int`], …), when its symbol was found.
    pub fn static_type(&self, kind: Kind) -> Option<Addr> {
        let s = &self.statics;
        match kind {
            Kind::None => s.none_type,
            Kind::Bool => s.bool_type,
            Kind::Int => s.long_type,
            Kind::Float => s.float_type,
            Kind::Complex => s.complex_type,
            Kind::Str => s.str_type,
            Kind::Bytes => s.bytes_type,
            Kind::ByteArray => s.bytearray_type,
            Kind::Tuple => s.tuple_type,
            Kind::List => s.list_type,
            Kind::Dict => s.dict_type,
            Kind::Set => s.set_type,
            Kind::FrozenSet => s.frozenset_type,
            Kind::Type => s.type_type,
            Kind::Code => s.code_type,
            Kind::Function => s.function_type,
            Kind::Module => s.module_type,
            Kind::Other => None,
        }
    }

    /// The kind of the object at `obj` (see [`Heap::kind_of_type`]); the singletons `None`, `True` and `False` are
    /// recognised by address.
    pub fn kind(&self, obj: Addr) -> Result<Kind, DecodeError> {
        let s = &self.statics;
        if Some(obj) == s.none {
            return Ok(Kind::None);
        }
        if Some(obj) == s.true_ || Some(obj) == s.false_ {
            return Ok(Kind::Bool);
        }
        let ty = self.type_of(obj)?;
        self.kind_of_type(ty)
    }

    /// The kind of instances of the type `ty`: by exact static type first, then by the subclass flags of `tp_flags`,
    /// then by walking `tp_base` (for subclasses of float, complex, bytearray, set, frozenset, module, …).
    pub fn kind_of_type(&self, ty: Addr) -> Result<Kind, DecodeError> {
        if let Some(k) = self.exact_kind(ty) {
            return Ok(k);
        }
        let fl = self.tp_flags(ty)?;
        let by_flag = [
            (flags::TYPE_SUBCLASS, Kind::Type),
            (flags::LONG_SUBCLASS, Kind::Int),
            (flags::UNICODE_SUBCLASS, Kind::Str),
            (flags::DICT_SUBCLASS, Kind::Dict),
            (flags::LIST_SUBCLASS, Kind::List),
            (flags::TUPLE_SUBCLASS, Kind::Tuple),
            (flags::BYTES_SUBCLASS, Kind::Bytes),
        ];
        if let Some((_, k)) = by_flag.iter().find(|(f, _)| fl & f != 0) {
            return Ok(*k);
        }
        let mut cur = ty;
        for _ in 0..MAX_BASE_DEPTH {
            let base = self.ptr(cur, &self.layout.type_object.tp_base, "type")?;
            if base.is_null() {
                break;
            }
            if let Some(k) = self.exact_kind(base) {
                return Ok(k);
            }
            cur = base;
        }
        Ok(Kind::Other)
    }

    /// The kind whose static type is exactly `ty`, if any.
    fn exact_kind(&self, ty: Addr) -> Option<Kind> {
        const KINDS: [Kind; 17] = [
            Kind::None,
            Kind::Bool,
            Kind::Int,
            Kind::Float,
            Kind::Complex,
            Kind::Str,
            Kind::Bytes,
            Kind::ByteArray,
            Kind::Tuple,
            Kind::List,
            Kind::Dict,
            Kind::Set,
            Kind::FrozenSet,
            Kind::Type,
            Kind::Code,
            Kind::Function,
            Kind::Module,
        ];
        KINDS.into_iter().find(|&k| self.static_type(k) == Some(ty))
    }

    /// True if `Py_TYPE(obj)` is exactly the static type of `kind` (not a subclass).
    pub fn is_exact(&self, obj: Addr, kind: Kind) -> Result<bool, DecodeError> {
        Ok(self.static_type(kind).is_some() && Some(self.type_of(obj)?) == self.static_type(kind))
    }

    /// `tp_flags` of the type `ty`.
    pub fn tp_flags(&self, ty: Addr) -> Result<u64, DecodeError> {
        self.u64(ty, &self.layout.type_object.tp_flags, "type")
    }

    /// Fails with [`DecodeError::WrongKind`] unless the object at `obj` is of `want` (or a subclass of it).
    fn expect_kind(&self, obj: Addr, want: Kind) -> Result<(), DecodeError> {
        let got = self.kind(obj)?;
        if got == want {
            Ok(())
        } else {
            Err(DecodeError::WrongKind { addr: obj, expected: want, actual: got })
        }
    }

    // ----- raw reads with context -----

    /// The address of `field` within the struct at `base`.
    fn at(&self, base: Addr, field: &Field, what: &'static str) -> Result<Addr, DecodeError> {
        let off = field.get().map_err(|source| DecodeError::Layout { addr: base, what, source })?;
        base.checked_add(off).ok_or(DecodeError::Malformed { addr: base, what, why: "address overflows".into() })
    }

    /// Reads the pointer `field` of the struct at `base`.
    pub fn ptr(&self, base: Addr, field: &Field, what: &'static str) -> Result<Addr, DecodeError> {
        Ok(Addr(self.u64(base, field, what)?))
    }

    /// Reads the 8-byte `field` of the struct at `base`.
    fn u64(&self, base: Addr, field: &Field, what: &'static str) -> Result<u64, DecodeError> {
        let at = self.at(base, field, what)?;
        self.process.read_u64(at).map_err(|source| DecodeError::Read { addr: base, what, field: field.name, source })
    }

    /// Reads the 1-byte `field` of the struct at `base`.
    fn u8(&self, base: Addr, field: &Field, what: &'static str) -> Result<u8, DecodeError> {
        let at = self.at(base, field, what)?;
        self.process.read_u8(at).map_err(|source| DecodeError::Read { addr: base, what, field: field.name, source })
    }

    /// Reads 8 bytes at `at`, which belongs to the object `obj`.
    fn raw_u64(&self, obj: Addr, at: Addr, what: &'static str, field: &'static str) -> Result<u64, DecodeError> {
        self.process.read_u64(at).map_err(|source| DecodeError::Read { addr: obj, what, field, source })
    }

    /// Reads `n` pointers starting at `at` (n already capped by the caller).
    fn ptr_array(&self, obj: Addr, at: Addr, n: usize, what: &'static str) -> Result<Vec<Addr>, DecodeError> {
        let len = n.checked_mul(8).filter(|&l| l <= MAX_READ_BYTES).ok_or(DecodeError::Malformed {
            addr: obj,
            what,
            why: format!("{n} items is more than heapscope reads at once"),
        })?;
        let bytes = self.process.bytes(at, len).map_err(|source| DecodeError::Read {
            addr: obj,
            what,
            field: "items",
            source,
        })?;
        Ok(bytes.chunks_exact(8).map(|c| Addr(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))).collect())
    }
}

/// Caps a caller's item limit so it can size an allocation of pointers.
fn cap_items(max: usize) -> usize {
    max.min(MAX_READ_BYTES / 8)
}

#[cfg(test)]
mod tests;
