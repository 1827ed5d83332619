//! The Python meaning of the graph algorithms: which references keep an object alive, what `gc.collect()` would
//! free, what each object retains, how it is reached from a root, and what leaked.
//!
//! [`heapscope_graph`] knows nodes and edges; this crate knows the snapshot ([`heapscope_snapshot::Snapshot`]):
//! its reference kinds, refcounts, GC flags and roots.
//!
//! - [`strong`]: strong references (`traverse`, `hidden`, `conservative`; never `weak`), and the refcount excess of
//!   each object (references from outside the graph: C code, C stacks, leaks).
//! - [`alive`]: the dominator tree below a virtual root (the roots, and what is held from outside the graph), and
//!   the retained count, bytes and footprint of every object.
//! - [`cycles`]: reference cycles, live or among the garbage.
//! - [`garbage`]: exactly what a full collection would find unreachable at the moment of the dump, and what would
//!   be freed with it.

pub mod alive;
pub mod cycles;
pub mod garbage;
pub mod strong;
