//! Struct sequences (`sys.flags`, `sys.version_info`, `os.stat_result`, `time.struct_time`, …): tuples whose
//! repr names their fields.
//!
//! `structseq_repr` (`Objects/structseq.c`, 3.8–3.15) prints `tp_name`, then for each *visible* item `i`
//! (`i < Py_SIZE(obj)`) `tp_members[i].name=repr(item)`: `sys.version_info(major=3, minor=12, micro=1,
//! releaselevel='final', serial=0)`. `tp_members` lists only the named fields (unnamed ones are skipped), and the
//! repr indexes it by position anyway; heapscope does the same, so `os.stat_result` prints its integer
//! `st_atime` under that name exactly as Python does.
//!
//! A struct sequence type is recognised by what `PyStructSequence_InitType2` / `PyStructSequence_NewType` make of
//! it: `tp_base` is `tuple` and its first member is a `T_OBJECT` slot among the tuple's items. (The type's dict
//! also holds `n_fields`, but static builtin types keep no `tp_dict` from 3.12 on, so the members are the one
//! signature every version shares.)

use heapscope_coredump::{Addr, ProcessImage};

use super::{DecodeError, Heap, Kind};

/// Most field names read from a struct sequence type (the largest in CPython, `os.stat_result`, has 22).
const MAX_FIELDS: usize = 256;

impl<P: ProcessImage + ?Sized> Heap<'_, P> {
    /// The field names of the struct sequence type `ty` in `tp_members` order, or `None` when `ty` is not a struct
    /// sequence type (see the module documentation).
    pub fn structseq_fields(&self, ty: Addr) -> Result<Option<Vec<String>>, DecodeError> {
        Ok(self
            .structseq_members(ty)?
            .map(|(members, _)| members.into_iter().take(MAX_FIELDS).map(|m| m.name).collect()))
    }

    /// The number of items every instance of the struct sequence type `ty` holds, visible and hidden (what
    /// `structseq_traverse` visits, 3.9+: `REAL_SIZE`), or `None` when `ty` is not a struct sequence type.
    ///
    /// `REAL_SIZE` is the type dict's `n_fields`, but static builtin types keep no `tp_dict` from 3.12 on; every
    /// named field has a member at its item's offset, and CPython's unnamed fields (`os.stat_result`'s integer
    /// times) are followed by named ones, so the last member's item is the last item.
    pub fn structseq_real_size(&self, ty: Addr) -> Result<Option<u64>, DecodeError> {
        Ok(self
            .structseq_members(ty)?
            .map(|(members, items)| members.iter().map(|m| (m.offset - items) / 8 + 1).max().unwrap_or(0)))
    }

    /// `tp_members` of the struct sequence type `ty` and the offset of the tuple's items, or `None` when `ty` is not
    /// one.
    fn structseq_members(&self, ty: Addr) -> Result<Option<(Vec<super::types::Member>, u64)>, DecodeError> {
        let Some(tuple) = self.static_type(Kind::Tuple) else { return Ok(None) };
        if self.tp_base(ty)? != tuple {
            return Ok(None);
        }
        let members = self.object_members(ty)?;
        let items = self.layout.tuple.ob_item.get().map_err(|source| DecodeError::Layout {
            addr: ty,
            what: "struct sequence type",
            source,
        })?;
        if !members.iter().all(|m| m.offset >= items && (m.offset - items) % 8 == 0) || members.is_empty() {
            return Ok(None);
        }
        Ok(Some((members, items)))
    }
}
