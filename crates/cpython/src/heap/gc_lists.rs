//! The cyclic collector's object lists: every GC-tracked object of an interpreter, with its generation.
//!
//! Each list is a circular doubly linked list of `PyGC_Head`s threaded through `_gc_next`/`_gc_prev`, with a head
//! inside `struct _gc_runtime_state`; the object follows its GC head (`object = head + sizeof(PyGC_Head)`).
//! Where the heads are, confirmed on the fixture cores:
//!
//! | versions | state | lists (generation numbers heapscope gives them) |
//! |---|---|---|
//! | 3.8 | `_PyRuntime.gc` | `generations[0..3]` (0, 1, 2), `permanent_generation` (3) |
//! | 3.9–3.13 | `interp->gc` | the same |
//! | 3.14.0–3.14.4 | `interp->gc` | `young` (0), `old[0]` (1), `old[1]` (2), `permanent_generation` (3) |
//! | 3.14.5+ (3.14.10 fixture) | `interp->gc` | `generations[0..3]` (0, 1, 2) again, `permanent_generation` (3) |
//!
//! `_gc_next` is masked with `~3` everywhere (bit 0 is the incremental collector's old-space bit in 3.14.0–3.14.4,
//! and `NEXT_MASK_UNREACHABLE` during a collection). `generation0` (a pointer to the first list head, 3.8–3.13 and
//! 3.14.5+) is preferred over the computed `generations` address when the two disagree and only it leads to a list,
//! as a build with a differently aligned `PyGC_Head` (Debian's 3.13) would have it.
//!
//! Every walk is bounded: a NULL or unreadable link, or a loop that does not come back to the head (detected with
//! Brent's algorithm in constant memory), ends that list with an error; the other lists are still walked. A list
//! without a loop cannot be longer than the memory holding its nodes, so the walk is bounded by the core's size;
//! [`MAX_GC_OBJECTS`] is a backstop.

use heapscope_coredump::{Addr, ProcessImage};

use crate::layout::Layout;
use crate::objects::{DecodeError, Heap};
use crate::runtime::{field_addr, read_ptr, read_u64};

/// The generation number given to the permanent generation (`gc.freeze()`; 3.12 keeps static types' tuples there).
pub const PERMANENT: u8 = 3;

/// Most objects taken from one list (a backstop: a loop-free list is already bounded by the memory holding it).
pub const MAX_GC_OBJECTS: usize = 1 << 30;

/// One GC list: its generation number and where its head is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GcList {
    /// 0–2, or [`PERMANENT`].
    pub generation: u8,
    /// The C name of the list (`generations[1]`, `old[0]`, `permanent_generation`).
    pub name: &'static str,
    /// Address of the list's `PyGC_Head`.
    pub head: Addr,
}

/// What walking one list gave.
#[derive(Debug, Clone)]
pub struct ListReport {
    /// The list.
    pub list: GcList,
    /// Objects taken from it.
    pub objects: usize,
    /// Nodes whose `_gc_prev` (masked) is not the node before them: a sign of a list being modified at the dump.
    pub prev_mismatches: usize,
    /// Why the walk stopped before coming back to the head, if it did.
    pub error: Option<DecodeError>,
}

/// Every object on an interpreter's GC lists.
#[derive(Debug, Clone, Default)]
pub struct GcWalk {
    /// Object addresses (GC head + `sizeof(PyGC_Head)`) with their generation, list by list in list order.
    pub objects: Vec<(Addr, u8)>,
    /// One report per list walked.
    pub lists: Vec<ListReport>,
    /// Why the lists could not be found at all, if they could not.
    pub error: Option<DecodeError>,
    /// Things worth telling the user that did not stop the walk (a `generation0` disagreement).
    pub warnings: Vec<String>,
    /// The GC state's address, when it says a collection was running at the dump ([`collection_running`]).
    pub collecting: Option<Addr>,
}

impl GcWalk {
    /// Objects per generation: `[gen0, gen1, gen2, permanent]`.
    pub fn per_generation(&self) -> [usize; 4] {
        let mut n = [0; 4];
        for &(_, g) in &self.objects {
            n[usize::from(g.min(PERMANENT))] += 1;
        }
        n
    }
}

/// The address of the interpreter's `struct _gc_runtime_state`: `interp->gc` (3.9+), else `_PyRuntime.gc` (3.8).
pub fn gc_state(layout: &Layout, runtime: Addr, interp: Addr) -> Result<Addr, DecodeError> {
    if layout.interp.gc.is_known() {
        field_addr(interp, &layout.interp.gc, "interpreter")
    } else {
        field_addr(runtime, &layout.runtime.gc, "_PyRuntime")
    }
}

/// The interpreter's GC list heads, with warnings about how they were chosen.
pub fn gc_lists<P: ProcessImage + ?Sized>(
    p: &P,
    layout: &Layout,
    runtime: Addr,
    interp: Addr,
) -> Result<(Vec<GcList>, Vec<String>), DecodeError> {
    const WHAT: &str = "GC state";
    let gc = gc_state(layout, runtime, interp)?;
    let gen_size =
        layout.gc_generation.size.get().map_err(|source| DecodeError::Layout { addr: gc, what: WHAT, source })?;
    let head_off =
        layout.gc_generation.head.get().map_err(|source| DecodeError::Layout { addr: gc, what: WHAT, source })?;
    let g = &layout.gc;
    let mut warnings = Vec::new();
    let mut lists = Vec::with_capacity(4);
    if g.generations.is_known() {
        let mut first = field_addr(gc, &g.generations, WHAT)?.wrapping_add(head_off);
        if g.generation0.is_known() {
            let g0 = read_ptr(p, gc, &g.generation0, WHAT)?;
            if g0 != first && !g0.is_null() {
                // Trust generation0 only if it leads to a list and the computed address does not.
                let v = &layout.version;
                let g0_is_list = looks_like_head(p, layout, g0);
                if g0_is_list && !looks_like_head(p, layout, first) {
                    warnings.push(format!(
                        "the garbage collector's lists are not where heapscope's table for Python {v} puts them: \
                         the interpreter's own pointer (generation0, in its GC state at {gc}) leads to {g0}, the \
                         table to {first}. This interpreter was probably built with a different GC header \
                         (PyGC_Head) than the table's. heapscope followed the interpreter's pointer, so the objects \
                         on the lists are all found; sizes that include the GC header may be off. To check, compare \
                         the offsets `heapscope info --layout` prints with this interpreter's debug info"
                    ));
                    first = g0;
                } else {
                    let there = if g0_is_list { "a list starts at both" } else { "no list starts there" };
                    warnings.push(format!(
                        "the garbage collector's lists may be incomplete: the interpreter's own pointer to its first \
                         list (generation0, in its GC state at {gc}) leads to {g0}, not to {first} where heapscope's \
                         table for Python {v} puts the list, and {there}; heapscope walked the table's lists. If objects seem to be missing, take the core again when no collection is \
                         running, or check the offsets `heapscope info --layout` prints against this interpreter's \
                         debug info"
                    ));
                }
            }
        }
        const NAMES: [&str; 3] = ["generations[0]", "generations[1]", "generations[2]"];
        for (i, name) in NAMES.into_iter().enumerate() {
            lists.push(GcList { generation: i as u8, name, head: first.wrapping_add(i as u64 * gen_size) });
        }
    } else if g.young.is_known() && g.old.is_known() {
        let young = field_addr(gc, &g.young, WHAT)?.wrapping_add(head_off);
        let old = field_addr(gc, &g.old, WHAT)?.wrapping_add(head_off);
        lists.push(GcList { generation: 0, name: "young", head: young });
        lists.push(GcList { generation: 1, name: "old[0]", head: old });
        lists.push(GcList { generation: 2, name: "old[1]", head: old.wrapping_add(gen_size) });
    } else {
        return Err(DecodeError::Layout {
            addr: gc,
            what: WHAT,
            source: crate::layout::MissingField("GcRuntimeState.generations"),
        });
    }
    if g.permanent_generation.is_known() {
        let head = field_addr(gc, &g.permanent_generation, WHAT)?.wrapping_add(head_off);
        lists.push(GcList { generation: PERMANENT, name: "permanent_generation", head });
    }
    Ok((lists, warnings))
}

/// The address of the interpreter's GC state if it says a collection was running at the dump (`collecting` is
/// set); `None` when it says none was, or the flag cannot be read.
///
/// During a collection the collector has moved the objects it examines out of the generation lists: the
/// generation being collected is merged with the younger ones, the objects found unreachable sit on a list whose
/// head is a local variable of the collector (on the C stack), flagged in `_gc_next` with `NEXT_MASK_UNREACHABLE`
/// (bit 0), and `_gc_prev` holds reference counts shifted left by 2 with `PREV_MASK_COLLECTING` (bit 1) instead of a
/// link. The walk masks both bits and never follows `_gc_prev`, so it is not derailed; but the unreachable objects
/// are on none of the lists it walks.
pub fn collection_running<P: ProcessImage + ?Sized>(
    p: &P,
    layout: &Layout,
    runtime: Addr,
    interp: Addr,
) -> Option<Addr> {
    let gc = gc_state(layout, runtime, interp).ok()?;
    if !layout.gc.collecting.is_known() {
        return None;
    }
    let c = crate::runtime::read_i32(p, gc, &layout.gc.collecting, "GC state").ok()?;
    (c != 0).then_some(gc)
}

/// True if `head` holds a readable, non-NULL `_gc_next` whose target links back (`_gc_prev`) to `head`.
fn looks_like_head<P: ProcessImage + ?Sized>(p: &P, layout: &Layout, head: Addr) -> bool {
    let h = &layout.gc_head;
    let Ok(next) = read_u64(p, head, &h.gc_next, "GC list head") else { return false };
    let next = Addr(next & !3);
    !next.is_null() && read_u64(p, next, &h.gc_prev, "GC list node").is_ok_and(|prev| prev & !3 == head.0)
}

/// Every object on the GC lists of the interpreter at `interp` (3.8: of the process; `runtime` is `_PyRuntime`).
///
/// Never fails as a whole: a list that cannot be walked to its end keeps what was read before the problem and
/// reports it in its [`ListReport`]; lists that cannot be found at all are reported in [`GcWalk::error`].
pub fn gc_objects<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, runtime: Addr, interp: Addr) -> GcWalk {
    gc_objects_excluding(heap, runtime, interp, &|_| false)
}

/// [`gc_objects`], ending each list at the first object for which `taken` is true: an object already on the lists
/// of another interpreter. The interpreters' lists are disjoint in a process; a corrupt or crafted interpreter whose
/// GC state points into another's lists would otherwise have those walked again, once per such interpreter.
pub fn gc_objects_excluding<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    runtime: Addr,
    interp: Addr,
    taken: &dyn Fn(Addr) -> bool,
) -> GcWalk {
    let p = heap.process();
    let layout = heap.layout();
    let mut walk = GcWalk::default();
    let lists = match gc_lists(p, layout, runtime, interp) {
        Ok((lists, warnings)) => {
            walk.warnings = warnings;
            lists
        }
        Err(e) => {
            walk.error = Some(e);
            return walk;
        }
    };
    walk.collecting = collection_running(p, layout, runtime, interp);
    for list in lists {
        let report = walk_list_excluding(p, layout, list, MAX_GC_OBJECTS, taken, &mut walk.objects);
        walk.lists.push(report);
    }
    walk
}

/// Walks one list from its head, appending `(object, generation)` to `out`; at most `cap` objects.
pub fn walk_list<P: ProcessImage + ?Sized>(
    p: &P,
    layout: &Layout,
    list: GcList,
    cap: usize,
    out: &mut Vec<(Addr, u8)>,
) -> ListReport {
    walk_list_excluding(p, layout, list, cap, &|_| false, out)
}

/// [`walk_list`], ending the list at the first object for which `taken` is true.
fn walk_list_excluding<P: ProcessImage + ?Sized>(
    p: &P,
    layout: &Layout,
    list: GcList,
    cap: usize,
    taken: &dyn Fn(Addr) -> bool,
    out: &mut Vec<(Addr, u8)>,
) -> ListReport {
    const WHAT: &str = "GC list node";
    let h = &layout.gc_head;
    let mut report = ListReport { list, objects: 0, prev_mismatches: 0, error: None };
    let hsize = match h.size.get() {
        Ok(s) => s,
        Err(source) => {
            report.error = Some(DecodeError::Layout { addr: list.head, what: WHAT, source });
            return report;
        }
    };
    let next_of = |node: Addr| read_u64(p, node, &h.gc_next, WHAT).map(|n| Addr(n & !3));
    let mut cur = match next_of(list.head) {
        Ok(n) => n,
        Err(e) => {
            report.error = Some(e);
            return report;
        }
    };
    let mut prev = list.head;
    // Brent's cycle detection: `tortoise` is a node seen `power`-ish steps ago.
    let (mut tortoise, mut power, mut lam) = (Addr::NULL, 1usize, 0usize);
    loop {
        if cur == list.head {
            return report;
        }
        let why = if cur.is_null() {
            Some("a NULL _gc_next link".to_string())
        } else if cur == tortoise {
            Some("a loop that does not come back to the list head".to_string())
        } else if report.objects >= cap {
            Some(format!("more than {cap} objects"))
        } else if taken(cur.wrapping_add(hsize)) {
            Some("it runs into objects already on the GC lists of another interpreter".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            let why = format!("the list {} at {} ends after {} objects: {why}", list.name, list.head, report.objects);
            report.error = Some(DecodeError::malformed(prev, WHAT, why));
            return report;
        }
        lam += 1;
        if lam == power {
            tortoise = cur;
            power = power.saturating_mul(2);
            lam = 0;
        }
        let next = match next_of(cur) {
            Ok(n) => n,
            Err(e) => {
                report.error = Some(e);
                return report;
            }
        };
        if read_u64(p, cur, &h.gc_prev, WHAT).ok().map(|v| v & !3) != Some(prev.0) {
            report.prev_mismatches += 1;
        }
        out.push((cur.wrapping_add(hsize), list.generation));
        report.objects += 1;
        prev = cur;
        cur = next;
    }
}

#[cfg(test)]
mod tests;
