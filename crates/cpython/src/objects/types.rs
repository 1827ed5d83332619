//! Type objects: their names as Python spells them, and the members they declare.

use heapscope_coredump::{Addr, ProcessImage};

use super::{flags, DecodeError, Heap};

/// Longest `tp_name` C string read (real ones are far shorter).
const MAX_TP_NAME: usize = 1024;

/// Longest name read for a type's qualname or module (characters).
const MAX_NAME_CHARS: usize = 1024;

/// `sizeof(PyMemberDef)`: `{const char *name; int type; Py_ssize_t offset; int flags; const char *doc}`. The struct is
/// part of the stable ABI, so its layout is the same in every version 3.8–3.15.
pub(crate) const MEMBER_DEF_SIZE: u64 = 40;
/// `PyMemberDef.type` offset.
const MEMBER_DEF_TYPE: u64 = 8;
/// `PyMemberDef.offset` offset.
const MEMBER_DEF_OFFSET: u64 = 16;
/// `T_OBJECT` (`Py_T_OBJECT`): a `PyObject*` member that reads as None when NULL.
const T_OBJECT: u32 = 6;
/// `T_OBJECT_EX` (`Py_T_OBJECT_EX`): a `PyObject*` member, the type of `__slots__` entries.
const T_OBJECT_EX: u32 = 16;
/// Most members read from one type's `tp_members` array.
const MAX_MEMBERS: usize = 4096;

/// One object-valued member of a type (`__slots__` entries are these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's name.
    pub name: String,
    /// Offset of its `PyObject*` in instances.
    pub offset: u64,
}

impl<P: ProcessImage + ?Sized> Heap<'_, P> {
    /// The name of the type object `ty` exactly as `f"{t.__module__}.{t.__qualname__}"`, with a leading `builtins.`
    /// dropped (`int`, `collections.OrderedDict`, `__main__.Node`).
    ///
    /// Heap types: `ht_qualname`, and `__module__` from the type's dict (only the qualname when it is missing or not
    /// a str). Static types: `tp_name`, whose part after the last dot is the qualname and part before it the
    /// module (no dot: `builtins`).
    pub fn type_name(&self, ty: Addr) -> Result<String, DecodeError> {
        let fl = self.tp_flags(ty)?;
        if fl & flags::HEAPTYPE == 0 {
            let name = self.tp_name(ty)?;
            return Ok(match name.rsplit_once('.') {
                Some(("builtins", qual)) => qual.to_owned(),
                _ => name,
            });
        }
        let qualname = self.ptr(ty, &self.layout.heap_type.ht_qualname, "heap type")?;
        let qual = self.str_value(qualname, MAX_NAME_CHARS)?.text;
        let dict = self.ptr(ty, &self.layout.type_object.tp_dict, "heap type")?;
        if dict.is_null() {
            return Ok(qual);
        }
        let module = match self.dict_get_str(dict, "__module__")? {
            Some(m) if self.kind(m)? == super::Kind::Str => self.str_value(m, MAX_NAME_CHARS)?.text,
            // Not a str: an instance attribute's descriptor (Cython's `cython_function_or_method`). `type` answers
            // `__module__` with it (so only the qualname counts); a metaclass of its own (Cython's
            // `_common_types_metatype`, a heap type) answers with the module part of the dotted `tp_name`.
            Some(_) => {
                let meta = self.ptr(ty, &self.layout.object.ob_type, "heap type")?;
                match self.tp_name(ty)?.rsplit_once('.') {
                    Some((module, _)) if self.tp_flags(meta)? & flags::HEAPTYPE != 0 => module.to_owned(),
                    _ => return Ok(qual),
                }
            }
            None => return Ok(qual),
        };
        Ok(if module == "builtins" { qual } else { format!("{module}.{qual}") })
    }

    /// The type's `tp_name` C string: fully qualified for static types (`collections.OrderedDict`), the bare
    /// `__name__` for heap types.
    pub fn tp_name(&self, ty: Addr) -> Result<String, DecodeError> {
        let p = self.ptr(ty, &self.layout.type_object.tp_name, "type")?;
        let raw = self.process.read_cstr(p, MAX_TP_NAME).map_err(|source| DecodeError::Read {
            addr: ty,
            what: "type",
            field: "tp_name string",
            source,
        })?;
        Ok(String::from_utf8_lossy(&raw).into_owned())
    }

    /// `tp_basicsize` of the type `ty`.
    pub fn tp_basicsize(&self, ty: Addr) -> Result<i64, DecodeError> {
        Ok(self.u64(ty, &self.layout.type_object.tp_basicsize, "type")? as i64)
    }

    /// `tp_itemsize` of the type `ty`.
    pub fn tp_itemsize(&self, ty: Addr) -> Result<i64, DecodeError> {
        Ok(self.u64(ty, &self.layout.type_object.tp_itemsize, "type")? as i64)
    }

    /// `tp_base` of the type `ty` (null for `object`).
    pub fn tp_base(&self, ty: Addr) -> Result<Addr, DecodeError> {
        self.ptr(ty, &self.layout.type_object.tp_base, "type")
    }

    /// The types of `ty.__mro__`, `ty` first; just `ty` when the MRO tuple is not set.
    pub fn mro(&self, ty: Addr) -> Result<Vec<Addr>, DecodeError> {
        let mro = self.ptr(ty, &self.layout.type_object.tp_mro, "type")?;
        if mro.is_null() {
            return Ok(vec![ty]);
        }
        self.tuple_items(mro, super::MAX_BASE_DEPTH)
    }

    /// The object-valued members (`T_OBJECT`, `T_OBJECT_EX`) declared by `ty` itself in `tp_members`: for a class
    /// with `__slots__`, one per slot. Inherited members are in the bases' arrays (see [`Heap::mro`]).
    pub fn object_members(&self, ty: Addr) -> Result<Vec<Member>, DecodeError> {
        let mut at = self.ptr(ty, &self.layout.type_object.tp_members, "type")?;
        let mut out = Vec::new();
        if at.is_null() {
            return Ok(out);
        }
        let read = |a: Addr, field: &'static str| {
            self.process.read_u64(a).map_err(|source| DecodeError::Read {
                addr: ty,
                what: "type members",
                field,
                source,
            })
        };
        for _ in 0..MAX_MEMBERS {
            let name = Addr(read(at, "PyMemberDef.name")?);
            if name.is_null() {
                return Ok(out);
            }
            let kind = read(at.wrapping_add(MEMBER_DEF_TYPE), "PyMemberDef.type")? as u32;
            let offset = read(at.wrapping_add(MEMBER_DEF_OFFSET), "PyMemberDef.offset")?;
            if kind == T_OBJECT_EX || kind == T_OBJECT {
                let raw = self.process.read_cstr(name, MAX_TP_NAME).map_err(|source| DecodeError::Read {
                    addr: ty,
                    what: "type members",
                    field: "PyMemberDef.name string",
                    source,
                })?;
                out.push(Member { name: String::from_utf8_lossy(&raw).into_owned(), offset });
            }
            at = at.wrapping_add(MEMBER_DEF_SIZE);
        }
        Err(DecodeError::malformed(ty, "type members", format!("no terminator within {MAX_MEMBERS} members")))
    }

    /// The name of the object-valued member (a `__slots__` entry) at byte `offset` of instances of `ty`: the first
    /// declared at that offset along `ty.__mro__`, spelt as its member descriptor is (`x`; a private `__x` of class
    /// `C` as `_C__x`). `None` when no class in the MRO declares one there; a base whose members cannot be read is
    /// skipped.
    pub fn member_name_at(&self, ty: Addr, offset: u64) -> Result<Option<String>, DecodeError> {
        for t in self.mro(ty)? {
            let Ok(members) = self.object_members(t) else { continue };
            if let Some(m) = members.into_iter().find(|m| m.offset == offset) {
                return Ok(Some(m.name));
            }
        }
        Ok(None)
    }
}
