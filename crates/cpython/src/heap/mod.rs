//! The whole heap of one interpreter: which objects exist (the GC lists, pymalloc's arenas), the roots, and each
//! object's properties and references.

pub mod blocks;
pub mod enumerate;
pub mod gc_lists;
pub mod labels;
mod mem;
mod numpy;
pub mod object_info;
pub mod obmalloc;
pub mod roots;
mod sizeof;
pub mod traverse;
pub mod type_facts;
mod type_tables;

pub use enumerate::{enumerate, enumerate_excluding, Enumeration, EnumerationStats};
pub use labels::{Label, Ref, RefKind};
pub use object_info::{object_and_referents_with, object_info, object_info_with, ObjectInfo};
pub use traverse::{referents, referents_with};
pub use type_facts::{SizeofKind, TraverseKind, TypeCache, TypeFacts};
