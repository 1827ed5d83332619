//! The names and kinds of a code object's fast-local slots, read in place: the one reader behind the locals of
//! `heapscope stacks`, the frame roots of the heap graph and the labels of a frame's references.

use heapscope_coredump::{Addr, ProcessImage};

use crate::objects::{DecodeError, Heap};
use crate::runtime::{field_addr, read_i32, read_ptr};

/// `CO_FAST_CELL`: the slot holds a cell for this local.
pub const CO_FAST_CELL: u8 = 0x40;
/// `CO_FAST_FREE`: the slot holds a cell from the closure.
pub const CO_FAST_FREE: u8 = 0x80;

/// Most fast-local slots named per code object (`co_nlocalsplus` is a C int; real code has at most a few thousand).
pub const MAX_FAST_LOCALS: usize = 1 << 16;

/// A run of slot names: consecutive items of a tuple of str.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    /// The tuple's first item.
    items: Addr,
    /// How many of its items name slots.
    len: u64,
    /// The `CO_FAST_*` kind of these slots, unless the code records kinds per slot (3.11+).
    kind: u8,
}

/// The names (str objects) and `CO_FAST_*` kinds of a code object's fast-local slots, in slot order:
/// `co_localsplusnames` and `co_localspluskinds` (3.11+), else `co_varnames[:co_nlocals]`, then `co_cellvars` (kind
/// cell), then `co_freevars` (kind free). At most [`MAX_FAST_LOCALS`] slots. Only the tuples' addresses and lengths
/// are read up front; each name and kind is read when asked for, so nothing is allocated.
#[derive(Debug, Clone, Copy)]
pub struct SlotNames {
    code: Addr,
    runs: [Run; 3],
    /// 3.11+: the bytes of `co_localspluskinds` and their number.
    kinds: Option<(Addr, u64)>,
    len: u64,
}

impl SlotNames {
    /// Reads where the slot names of the code object `code` are.
    pub fn of<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, code: Addr) -> Result<SlotNames, DecodeError> {
        let (p, l) = (heap.process(), heap.layout());
        let c = &l.code;
        let count = |field, what: &'static str| -> Result<u64, DecodeError> {
            let n = read_i32(p, code, field, "code")?;
            u64::try_from(n).map_err(|_| DecodeError::malformed(code, "code", format!("negative {what}")))
        };
        // The first `max` items of the tuple in `field` (NULL: none).
        let run = |field, max: u64, kind: u8| -> Result<Run, DecodeError> {
            let tuple = read_ptr(p, code, field, "code")?;
            if tuple.is_null() {
                return Ok(Run::default());
            }
            let items = field_addr(tuple, &l.tuple.ob_item, "tuple")?;
            Ok(Run { items, len: heap.var_len(tuple)?.min(max), kind })
        };
        let mut out = SlotNames { code, runs: [Run::default(); 3], kinds: None, len: 0 };
        if c.localsplusnames.is_known() {
            out.runs[0] = run(&c.localsplusnames, count(&c.nlocalsplus, "co_nlocalsplus")?, 0)?;
            let kinds = read_ptr(p, code, &c.localspluskinds, "code")?;
            if !kinds.is_null() {
                out.kinds = Some((field_addr(kinds, &l.bytes.ob_sval, "bytes")?, heap.var_len(kinds)?));
            }
        } else {
            out.runs[0] = run(&c.varnames, count(&c.nlocals, "co_nlocals")?, 0)?;
            out.runs[1] = run(&c.cellvars, u64::MAX, CO_FAST_CELL)?;
            out.runs[2] = run(&c.freevars, u64::MAX, CO_FAST_FREE)?;
        }
        let mut left = MAX_FAST_LOCALS as u64;
        for r in &mut out.runs {
            r.len = r.len.min(left);
            left -= r.len;
        }
        out.len = MAX_FAST_LOCALS as u64 - left;
        Ok(out)
    }

    /// The number of named slots.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True if the code has no fast locals.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The run holding slot `i`, and `i`'s index in it.
    fn run(&self, i: usize) -> Option<(&Run, u64)> {
        let mut i = i as u64;
        for r in &self.runs {
            if i < r.len {
                return Some((r, i));
            }
            i -= r.len;
        }
        None
    }

    /// The name of slot `i` (a str object), or `None` past the named slots.
    pub fn name<P: ProcessImage + ?Sized>(&self, p: &P, i: usize) -> Result<Option<Addr>, DecodeError> {
        let Some((r, j)) = self.run(i) else { return Ok(None) };
        let at = r.items.wrapping_add(8 * j);
        let name = p.read_ptr(at).map_err(|source| DecodeError::Read {
            addr: self.code,
            what: "code",
            field: "slot names",
            source,
        })?;
        Ok(Some(name))
    }

    /// The `CO_FAST_*` kind of slot `i` (0 past the recorded kinds).
    pub fn kind<P: ProcessImage + ?Sized>(&self, p: &P, i: usize) -> Result<u8, DecodeError> {
        let Some((r, _)) = self.run(i) else { return Ok(0) };
        match self.kinds {
            None => Ok(r.kind),
            Some((at, n)) if (i as u64) < n => p.read_u8(at.wrapping_add(i as u64)).map_err(|source| {
                DecodeError::Read { addr: self.code, what: "code", field: "co_localspluskinds", source }
            }),
            Some(_) => Ok(0),
        }
    }
}
