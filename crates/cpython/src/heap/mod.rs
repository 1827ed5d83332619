//! The whole heap of one interpreter: which objects exist (the GC lists, pymalloc's arenas), and (later) their
//! sizes, references and the snapshot built from them.

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
pub mod snapshot;
pub mod traverse;
pub mod type_facts;
mod type_tables;

pub use enumerate::{enumerate, Enumeration, EnumerationStats};
pub use labels::{Label, Ref, RefKind};
pub use object_info::{object_info, object_info_with, ObjectInfo};
pub use snapshot::{
    build, BuildOptions, BuildStats, CStack, Category, ErrorLog, LoadError, ObjectId, ObjectRecord, Phase, Progress,
    SavedInfo, Snapshot, SnapshotRoot, TypeId, TypeRecord, FORMAT_VERSION,
};
pub use traverse::{referents, referents_with};
pub use type_facts::{SizeofKind, TraverseKind, TypeCache, TypeFacts};
