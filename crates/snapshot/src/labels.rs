//! Compact edge labels: one 4-byte [`EdgeWord`] per reference holds its [`RefKind`] (2 bits), and either a
//! sequence position inline (the commonest label: list and tuple items) or the index of its label in a table of
//! distinct labels (29 bits after a flag bit).
//!
//! Labels are interned per chunk of decoded objects while decoding runs in parallel ([`LocalLabels`]), then the
//! chunk tables are merged into one [`LabelTable`] and each chunk's words renumbered. Distinct labels other than
//! positions are few next to the references (attribute names, str dict keys, field names), so the table stays
//! small.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::index::IntHasher;
use heapscope_cpython::heap::{Label, RefKind};

/// Bits of an [`EdgeWord`] that hold the payload.
const LABEL_BITS: u32 = 29;
/// Mask of the payload.
const LABEL_MASK: u32 = (1 << LABEL_BITS) - 1;
/// Flag bit: the payload is a position (`Label::Index`), not a table index.
const INLINE_INDEX: u32 = 1 << LABEL_BITS;
/// Most distinct labels a table holds; further new labels share the last entry.
pub(crate) const MAX_LABELS: usize = LABEL_MASK as usize;

/// One reference's kind and label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct EdgeWord(u32);

impl EdgeWord {
    /// A word for `kind` and label-table index `label` (capped at [`MAX_LABELS`]).
    pub(crate) fn new(kind: RefKind, label: u32) -> EdgeWord {
        EdgeWord(kind_bits(kind) | label.min(LABEL_MASK))
    }

    /// A word for `kind` and `label`, inline when it is a small position, else interned in `table`.
    pub(crate) fn encode(kind: RefKind, label: &Label, table: &mut LocalLabels) -> EdgeWord {
        match *label {
            Label::Index(i) if i <= LABEL_MASK => EdgeWord(kind_bits(kind) | INLINE_INDEX | i),
            _ => EdgeWord::new(kind, table.intern(label)),
        }
    }

    /// The word as stored.
    pub(crate) fn raw(self) -> u32 {
        self.0
    }

    /// A word as [`EdgeWord::raw`] returned it.
    pub(crate) fn from_raw(raw: u32) -> EdgeWord {
        EdgeWord(raw)
    }

    /// True when the label is an inline position.
    fn is_inline(self) -> bool {
        self.0 & INLINE_INDEX != 0
    }

    /// The reference's kind.
    pub(crate) fn kind(self) -> RefKind {
        match self.0 >> (LABEL_BITS + 1) {
            0 => RefKind::Traverse,
            1 => RefKind::Hidden,
            2 => RefKind::Weak,
            _ => RefKind::Conservative,
        }
    }

    /// The same word with its table index renumbered by `map` (inline positions are kept).
    pub(crate) fn renumbered(self, map: &[u32]) -> EdgeWord {
        if self.is_inline() {
            return self;
        }
        let label = map.get((self.0 & LABEL_MASK) as usize).copied().unwrap_or(0);
        EdgeWord(self.0 & !LABEL_MASK | label.min(LABEL_MASK))
    }
}

fn kind_bits(kind: RefKind) -> u32 {
    let k = match kind {
        RefKind::Traverse => 0,
        RefKind::Hidden => 1,
        RefKind::Weak => 2,
        RefKind::Conservative => 3,
    };
    k << (LABEL_BITS + 1)
}

/// The distinct labels of a snapshot.
#[derive(Debug, Default)]
pub(crate) struct LabelTable {
    labels: Vec<Label>,
    ids: HashMap<Label, u32, BuildHasherDefault<IntHasher>>,
}

impl LabelTable {
    /// The label of a word (`Field("?")` for a table index out of range, which the builder never makes).
    pub(crate) fn label(&self, w: EdgeWord) -> Label {
        if w.is_inline() {
            return Label::Index(w.0 & LABEL_MASK);
        }
        self.labels.get((w.0 & LABEL_MASK) as usize).copied().unwrap_or(Label::Field("?"))
    }

    /// A table of these labels, in this order (a saved snapshot's).
    pub(crate) fn from_labels(labels: Vec<Label>) -> LabelTable {
        let mut table = LabelTable::default();
        for l in labels {
            // Positions are stored inline; a table entry for one is kept as it is, not interned twice.
            table.ids.entry(l).or_insert(table.labels.len() as u32);
            table.labels.push(l);
        }
        table
    }

    /// The table index of `label`, when an edge has it.
    pub(crate) fn id(&self, label: &Label) -> Option<u32> {
        self.ids.get(label).copied()
    }

    /// True when `w`'s label is the table's entry `id` (never for an inline position).
    pub(crate) fn is(&self, w: EdgeWord, id: u32) -> bool {
        !w.is_inline() && w.0 & LABEL_MASK == id
    }

    /// Every label, by index.
    pub(crate) fn labels(&self) -> &[Label] {
        &self.labels
    }

    /// True when `w`'s label is inline or in this table.
    pub(crate) fn has(&self, w: EdgeWord) -> bool {
        w.is_inline() || ((w.0 & LABEL_MASK) as usize) < self.labels.len()
    }

    /// The index of `label`, adding it when new.
    pub(crate) fn intern(&mut self, label: &Label) -> u32 {
        if let Some(&id) = self.ids.get(label) {
            return id;
        }
        if self.labels.len() >= MAX_LABELS {
            return (MAX_LABELS - 1) as u32;
        }
        let id = self.labels.len() as u32;
        self.labels.push(*label);
        self.ids.insert(*label, id);
        id
    }

    /// Number of distinct labels.
    pub(crate) fn len(&self) -> usize {
        self.labels.len()
    }

    /// Merges a chunk's local table; returns the renumbering (local index → index here).
    pub(crate) fn merge(&mut self, local: &LocalLabels) -> Vec<u32> {
        local.table.labels.iter().map(|l| self.intern(l)).collect()
    }
}

/// The labels of one chunk of decoded objects.
#[derive(Debug, Default)]
pub(crate) struct LocalLabels {
    table: LabelTable,
}

impl LocalLabels {
    /// The local index of `label`.
    pub(crate) fn intern(&mut self, label: &Label) -> u32 {
        self.table.intern(label)
    }

    /// Number of distinct labels in the chunk.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heapscope_coredump::Addr;

    #[test]
    fn words_round_trip() {
        let mut local = LocalLabels::default();
        let labels = [
            Label::Index(0),
            Label::Index(LABEL_MASK),
            Label::Index(u32::MAX),
            Label::DictKey,
            Label::DictValue { key: Addr(0x7f00_0000_1000) },
            Label::Field("ob_type"),
            Label::Local { name: Addr(0x10), index: 3 },
        ];
        let kinds = [RefKind::Traverse, RefKind::Hidden, RefKind::Weak, RefKind::Conservative];
        let words: Vec<EdgeWord> =
            labels.iter().enumerate().map(|(i, l)| EdgeWord::encode(kinds[i % 4], l, &mut local)).collect();
        assert_eq!(local.len(), 5, "positions that fit are inline");
        let mut table = LabelTable::default();
        table.intern(&Label::Cell); // the global table already holds something: indices shift
        let map = table.merge(&local);
        for (i, (w, l)) in words.iter().zip(&labels).enumerate() {
            let w = w.renumbered(&map);
            assert_eq!(w.kind(), kinds[i % 4]);
            assert_eq!(table.label(w), *l);
        }
    }
}
