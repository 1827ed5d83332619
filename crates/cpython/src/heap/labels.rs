//! [`Ref`]: one outgoing reference of an object, with what kind of reference it is and where in the object it sits.
//!
//! A `Ref` is three words and owns nothing: [`Label`] is a small `Copy` enum whose payloads are indices, addresses
//! of str objects (the *name* of an attribute or local, to be decoded only if someone asks) or `&'static str` field
//! names, so building millions of them allocates nothing beyond the caller's reused `Vec<Ref>`.

use heapscope_coredump::Addr;

/// What kind of reference an edge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// Visited by the type's `tp_traverse`: the multiset of these targets is exactly `gc.get_referents(obj)` (empty
    /// for objects that are not GC objects).
    Traverse,
    /// A strong (counted) reference that `tp_traverse` does not report: the str keys of unicode-keyed dicts, the
    /// names and constants of a code object, a static type's fields, a function's or type's `__qualname__`, …
    Hidden,
    /// A weak reference: the referent of a weakref, a type's `__subclasses__` registry, `wr_object`. Not counted.
    Weak,
    /// Found by scanning the memory of an object whose type's `tp_traverse` heapscope does not know (an extension
    /// type: Cython classes, numpy arrays, …): a word that is the address of a live object. Counted as strong for
    /// reachability, never part of what is compared with `gc.get_referents`.
    Conservative,
}

/// Where in the referring object a reference sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    /// Item `i` of a list, tuple, deque or other sequence (insertion order for sets).
    Index(u32),
    /// A dict key (the key's own address is the target).
    DictKey,
    /// A dict value; `key` is the key object (str or not), so a name can be decoded on demand.
    DictValue {
        /// The key this value is stored under.
        key: Addr,
    },
    /// An attribute value stored outside a dict (3.11+ managed values, inline values, `__slots__` by name); `name`
    /// is the attribute name, a str object (null when only the position is known).
    Attr {
        /// The attribute's name (a str object).
        name: Addr,
    },
    /// A `__slots__` member or other `PyMemberDef`-described slot, by its byte offset in the object.
    Slot(u32),
    /// A named C field of the object's struct (`"__dict__"`, `"ob_type"`, `"tp_mro"`, `"func_code"`, …).
    Field(&'static str),
    /// The contents of a cell.
    Cell,
    /// A frame's fast local (or cell/free variable) slot; `name` is its name from the code object (null when not
    /// known), `index` its slot number.
    Local {
        /// The local's name (a str object), or null.
        name: Addr,
        /// Its slot in `localsplus`.
        index: u32,
    },
    /// An entry of a frame's value stack.
    Stack(u32),
    /// A word of an extension module's state (`md_state`) that points to an object (module `m_traverse` is
    /// approximated by scanning the state; see `traverse::module`).
    ModuleState(u32),
    /// A word of an extension object's own memory, by its byte offset, found by the conservative scan.
    Word(u32),
}

/// One reference from an object to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ref {
    /// The referenced object.
    pub target: Addr,
    /// Where the reference sits in the referring object.
    pub label: Label,
    /// Traverse, hidden or weak.
    pub kind: RefKind,
}

impl Ref {
    /// A reference `tp_traverse` visits.
    #[inline]
    pub fn traverse(target: Addr, label: Label) -> Ref {
        Ref { target, label, kind: RefKind::Traverse }
    }

    /// A strong reference `tp_traverse` does not visit.
    #[inline]
    pub fn hidden(target: Addr, label: Label) -> Ref {
        Ref { target, label, kind: RefKind::Hidden }
    }

    /// A weak reference.
    #[inline]
    pub fn weak(target: Addr, label: Label) -> Ref {
        Ref { target, label, kind: RefKind::Weak }
    }

    /// A reference found by the conservative scan.
    #[inline]
    pub fn conservative(target: Addr, label: Label) -> Ref {
        Ref { target, label, kind: RefKind::Conservative }
    }
}
