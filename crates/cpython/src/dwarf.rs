//! Struct layouts from DWARF debug info (gimli): find a C struct by typedef or tag name, its size, and the offset of a
//! (nested) member path such as `imports.modules`, `long_value.ob_digit` or `gilstate.tstate_current`, through
//! anonymous members, unions, typedefs and qualifiers.
//!
//! [`DwarfTypes::parse`] reads an ELF file's debug sections (see `sections.rs`) and indexes once the named types at
//! the top level of every unit (skipping function bodies by `DW_AT_sibling`); lookups then read only the DIEs they
//! need. Everything comes from an untrusted file: errors are returned, type chains and nesting are bounded.

mod sections;

use std::collections::HashMap;

use gimli::{
    constants, Abbreviations, AttributeValue, DebugAbbrev, DebugInfo, DebugLineStr, DebugStr, DebugStrOffsets,
    DebugStrOffsetsBase, DebuggingInformationEntry, EndianArcSlice, LittleEndian, UnitHeader, UnitOffset,
};

type R = EndianArcSlice<LittleEndian>;

/// Most typedef/qualifier links followed from one type to the struct behind it.
const MAX_TYPE_HOPS: usize = 32;
/// Most nested anonymous members searched for one path component.
const MAX_ANON_DEPTH: usize = 8;
/// Most components in a member path.
const MAX_PATH_COMPONENTS: usize = 16;
/// Most children read from one struct or union.
const MAX_CHILDREN: usize = 1 << 16;
/// Most structs and unions searched for one path component (through anonymous members).
const MAX_SEARCHED: usize = 1 << 10;

/// Why DWARF could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DwarfError {
    /// The bytes are not an ELF file this reader handles.
    #[error("not an ELF64 little-endian file: {0}")]
    NotElf(String),
    /// The ELF section headers or relocations are inconsistent.
    #[error("malformed ELF file: {0}")]
    MalformedElf(String),
    /// The file has no `.debug_info` section (it is stripped, or its debug info is in a separate file).
    #[error("the file has no DWARF debug info (no .debug_info section)")]
    NoDebugInfo,
    /// A debug section is compressed with an algorithm this reader does not implement.
    #[error("debug section {section} is compressed with {kind}, which is not supported (only zlib is)")]
    UnsupportedCompression {
        /// Section name.
        section: String,
        /// Compression algorithm.
        kind: String,
    },
    /// A compressed debug section could not be inflated.
    #[error("cannot decompress debug section {section}: {reason}")]
    Decompress {
        /// Section name.
        section: String,
        /// What went wrong.
        reason: String,
    },
    /// A DWARF or ELF feature this reader does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// gimli could not parse the DWARF at this `.debug_info` offset.
    #[error("malformed DWARF in .debug_info at offset {offset:#x}: {source}")]
    Dwarf {
        /// Offset in `.debug_info` of the unit or entry being read.
        offset: u64,
        /// gimli's error.
        source: gimli::Error,
    },
}

/// A struct or union type found by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructType {
    /// The name it was found by (typedef or tag).
    pub name: String,
    /// `DW_AT_byte_size`: `sizeof` the type.
    pub size: Option<u64>,
    die: DieRef,
}

/// A member found by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Offset from the start of the outermost struct, in bytes (for a bitfield: of the byte holding its first bit).
    pub offset: u64,
    /// `sizeof` the member's type, when DWARF gives it (not for arrays without a byte size).
    pub size: Option<u64>,
}

/// A DIE: index into the units, offset within that unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DieRef {
    unit: usize,
    offset: UnitOffset<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Struct,
    Union,
    Typedef,
}

/// A top-level named type.
#[derive(Debug, Clone, Copy)]
struct Named {
    kind: Kind,
    declaration: bool,
    die: DieRef,
}

#[derive(Debug)]
struct UnitData {
    header: UnitHeader<R>,
    abbrevs: Abbreviations,
    str_offsets_base: DebugStrOffsetsBase<usize>,
    /// Offset of the unit in `.debug_info`.
    start: usize,
}

/// The type information of one ELF file's DWARF, indexed by type name.
#[derive(Debug)]
pub struct DwarfTypes {
    info: DebugInfo<R>,
    abbrev: DebugAbbrev<R>,
    strings: DebugStr<R>,
    line_strings: DebugLineStr<R>,
    str_offsets: DebugStrOffsets<R>,
    units: Vec<UnitData>,
    /// Name → at most one complete definition and one declaration per kind, first in unit order.
    names: HashMap<Vec<u8>, Vec<Named>>,
    issues: Vec<String>,
}

impl DwarfTypes {
    /// Reads and indexes the DWARF of an ELF file (its whole contents).
    ///
    /// Units that cannot be parsed are skipped and listed in [`DwarfTypes::issues`]; it is an error only when the
    /// file has no usable debug info at all.
    pub fn parse(elf: &[u8]) -> Result<DwarfTypes, DwarfError> {
        let s = sections::load(elf)?;
        let r = |b: &std::sync::Arc<[u8]>| R::new(b.clone(), LittleEndian);
        let mut types = DwarfTypes {
            info: DebugInfo::from(r(&s.info)),
            abbrev: DebugAbbrev::from(r(&s.abbrev)),
            strings: DebugStr::from(r(&s.str)),
            line_strings: DebugLineStr::from(r(&s.line_str)),
            str_offsets: DebugStrOffsets::from(r(&s.str_offsets)),
            units: Vec::new(),
            names: HashMap::new(),
            issues: Vec::new(),
        };
        types.index()?;
        Ok(types)
    }

    /// Number of units indexed.
    pub fn unit_count(&self) -> usize {
        self.units.len()
    }

    /// Units or entries that could not be read and were skipped.
    pub fn issues(&self) -> &[String] {
        &self.issues
    }

    fn index(&mut self) -> Result<(), DwarfError> {
        let mut headers = self.info.units();
        loop {
            let header = match headers.next() {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(e) => {
                    self.issues.push(format!("unit headers after the {}th are unreadable: {e}", self.units.len()));
                    break;
                }
            };
            let start = header.debug_info_offset().map_or(0, |o| o.0);
            let abbrevs = match header.abbreviations(&self.abbrev) {
                Ok(a) => a,
                Err(e) => {
                    self.issues.push(format!("unit at {start:#x}: abbreviations unreadable: {e}"));
                    continue;
                }
            };
            let unit = self.units.len();
            let mut data = UnitData { header, abbrevs, str_offsets_base: DebugStrOffsetsBase(0), start };
            if let Err(e) = self.index_unit(&mut data, unit) {
                self.issues.push(format!("unit at {start:#x}: {e}"));
            }
            self.units.push(data);
        }
        if self.units.is_empty() {
            return Err(DwarfError::Unsupported(format!(
                "no readable unit in .debug_info ({})",
                self.issues.first().map_or("it is empty", String::as_str)
            )));
        }
        Ok(())
    }

    /// Records the named struct, union and typedef entries at the top level of one unit.
    fn index_unit(&mut self, data: &mut UnitData, unit: usize) -> Result<(), gimli::Error> {
        let mut cursor = data.header.entries(&data.abbrevs);
        let Some(root) = cursor.next_dfs()? else { return Ok(()) };
        if let Some(AttributeValue::DebugStrOffsetsBase(base)) = root.attr_value(constants::DW_AT_str_offsets_base) {
            data.str_offsets_base = base;
        }
        if !root.has_children() || !cursor.next_entry()? {
            return Ok(());
        }
        while let Some(entry) = cursor.current() {
            let kind = match entry.tag() {
                constants::DW_TAG_structure_type | constants::DW_TAG_class_type => Some(Kind::Struct),
                constants::DW_TAG_union_type => Some(Kind::Union),
                constants::DW_TAG_typedef => Some(Kind::Typedef),
                _ => None,
            };
            if let (Some(kind), Some(name)) = (kind, entry.attr_value(constants::DW_AT_name)) {
                if let Some(name) = self.string(data, name) {
                    let declaration = is_declaration(entry);
                    let named = Named { kind, declaration, die: DieRef { unit, offset: entry.offset() } };
                    match self.names.get_mut(name.as_slice()) {
                        Some(list) => {
                            if !list.iter().any(|n| n.kind == kind && n.declaration == declaration) {
                                list.push(named);
                            }
                        }
                        None => {
                            self.names.insert(name, vec![named]);
                        }
                    }
                }
            }
            if cursor.next_sibling()?.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// The bytes of a string attribute.
    fn string(&self, unit: &UnitData, value: AttributeValue<R>) -> Option<Vec<u8>> {
        let r = match value {
            AttributeValue::String(s) => s,
            AttributeValue::DebugStrRef(o) => self.strings.get_str(o).ok()?,
            AttributeValue::DebugLineStrRef(o) => self.line_strings.get_str(o).ok()?,
            AttributeValue::DebugStrOffsetsIndex(i) => {
                let o = self.str_offsets.get_str_offset(unit.header.format(), unit.str_offsets_base, i).ok()?;
                self.strings.get_str(o).ok()?
            }
            _ => return None,
        };
        Some(r.bytes().to_vec())
    }

    /// Finds a struct or union by the first of `names` that DWARF knows, as a typedef (followed to the struct behind
    /// it) or as a struct/union tag with a complete definition.
    pub fn find_struct(&self, names: &[&str]) -> Result<Option<StructType>, DwarfError> {
        for name in names {
            let Some(list) = self.names.get(name.as_bytes()) else { continue };
            for n in list.iter().filter(|n| n.kind == Kind::Typedef) {
                if let Some(die) = self.aggregate(n.die)? {
                    return Ok(Some(StructType { name: name.to_string(), size: self.byte_size(die)?, die }));
                }
            }
            if let Some(n) = list.iter().find(|n| n.kind != Kind::Typedef && !n.declaration) {
                return Ok(Some(StructType { name: name.to_string(), size: self.byte_size(n.die)?, die: n.die }));
            }
        }
        Ok(None)
    }

    /// The offset (from the start of `ty`) and size of the member at `path` (`a.b.c`), or `None` if there is none.
    pub fn member(&self, ty: &StructType, path: &str) -> Result<Option<Member>, DwarfError> {
        let parts: Vec<&str> = path.split('.').collect();
        if parts.len() > MAX_PATH_COMPONENTS || parts.iter().any(|p| p.is_empty()) {
            return Ok(None);
        }
        let mut agg = ty.die;
        let mut offset = 0u64;
        for (i, part) in parts.iter().enumerate() {
            let mut budget = MAX_SEARCHED;
            let Some((at, member_type)) = self.find_member(agg, part, 0, &mut budget)? else { return Ok(None) };
            offset = offset.saturating_add(at);
            let Some(member_type) = member_type else {
                return Ok((i + 1 == parts.len()).then_some(Member { offset, size: None }));
            };
            if i + 1 == parts.len() {
                return Ok(Some(Member { offset, size: self.type_size(member_type)? }));
            }
            match self.aggregate(member_type)? {
                Some(next) => agg = next,
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    fn entry(&self, die: DieRef) -> Result<DebuggingInformationEntry<R>, DwarfError> {
        let u = self.unit(die)?;
        u.header.entry(&u.abbrevs, die.offset).map_err(|e| self.err(die, e))
    }

    fn unit(&self, die: DieRef) -> Result<&UnitData, DwarfError> {
        self.units.get(die.unit).ok_or_else(|| DwarfError::Unsupported(format!("unit index {} out of range", die.unit)))
    }

    fn err(&self, die: DieRef, source: gimli::Error) -> DwarfError {
        let start = self.units.get(die.unit).map_or(0, |u| u.start);
        DwarfError::Dwarf { offset: (start + die.offset.0) as u64, source }
    }

    /// The DIE `DW_AT_type` of `entry` (in unit `unit`) refers to.
    fn type_of(&self, unit: usize, entry: &DebuggingInformationEntry<R>) -> Result<Option<DieRef>, DwarfError> {
        match entry.attr_value(constants::DW_AT_type) {
            None => Ok(None),
            Some(AttributeValue::UnitRef(offset)) => Ok(Some(DieRef { unit, offset })),
            Some(AttributeValue::DebugInfoRef(o)) => {
                let idx = self.units.partition_point(|u| u.start <= o.0);
                let found = idx
                    .checked_sub(1)
                    .and_then(|i| Some(DieRef { unit: i, offset: o.to_unit_offset(&self.units.get(i)?.header)? }));
                found.map(Some).ok_or_else(|| {
                    DwarfError::Unsupported(format!("type reference to .debug_info offset {:#x} is in no unit", o.0))
                })
            }
            Some(other) => Err(DwarfError::Unsupported(format!(
                "type reference of form {other:?} (type units or a supplementary dwz file)"
            ))),
        }
    }

    /// Follows typedefs and qualifiers from `die` to a struct or union with a complete definition.
    fn aggregate(&self, mut die: DieRef) -> Result<Option<DieRef>, DwarfError> {
        for _ in 0..MAX_TYPE_HOPS {
            let entry = self.entry(die)?;
            match entry.tag() {
                constants::DW_TAG_typedef
                | constants::DW_TAG_const_type
                | constants::DW_TAG_volatile_type
                | constants::DW_TAG_atomic_type
                | constants::DW_TAG_restrict_type => match self.type_of(die.unit, &entry)? {
                    Some(next) => die = next,
                    None => return Ok(None),
                },
                tag @ (constants::DW_TAG_structure_type
                | constants::DW_TAG_class_type
                | constants::DW_TAG_union_type) => {
                    if !is_declaration(&entry) {
                        return Ok(Some(die));
                    }
                    // Declared only here: the definition is in another unit, under the same tag name.
                    let kind = if tag == constants::DW_TAG_union_type { Kind::Union } else { Kind::Struct };
                    let unit = self.unit(die)?;
                    let name = entry.attr_value(constants::DW_AT_name).and_then(|n| self.string(unit, n));
                    let def = name
                        .and_then(|n| self.names.get(&n))
                        .and_then(|list| list.iter().find(|n| n.kind == kind && !n.declaration))
                        .map(|n| n.die);
                    return Ok(def);
                }
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// `DW_AT_byte_size` of a DIE.
    fn byte_size(&self, die: DieRef) -> Result<Option<u64>, DwarfError> {
        Ok(self.entry(die)?.attr_value(constants::DW_AT_byte_size).and_then(|v| v.udata_value()))
    }

    /// The size of a type: its own `DW_AT_byte_size`, else that of the type it qualifies or names.
    fn type_size(&self, mut die: DieRef) -> Result<Option<u64>, DwarfError> {
        for _ in 0..MAX_TYPE_HOPS {
            let entry = self.entry(die)?;
            if let Some(size) = entry.attr_value(constants::DW_AT_byte_size).and_then(|v| v.udata_value()) {
                return Ok(Some(size));
            }
            if is_declaration(&entry) {
                return match self.aggregate(die)? {
                    Some(def) if def != die => self.byte_size(def),
                    _ => Ok(None),
                };
            }
            match entry.tag() {
                constants::DW_TAG_typedef
                | constants::DW_TAG_const_type
                | constants::DW_TAG_volatile_type
                | constants::DW_TAG_atomic_type
                | constants::DW_TAG_restrict_type => match self.type_of(die.unit, &entry)? {
                    Some(next) => die = next,
                    None => return Ok(None),
                },
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// The member called `name` of the struct or union `agg`, directly or inside anonymous members: its offset and
    /// type. `budget` bounds the structs searched, so malformed DWARF (anonymous members nesting their own struct)
    /// cannot make the search blow up.
    fn find_member(
        &self,
        agg: DieRef,
        name: &str,
        depth: usize,
        budget: &mut usize,
    ) -> Result<Option<(u64, Option<DieRef>)>, DwarfError> {
        if depth > MAX_ANON_DEPTH || *budget == 0 {
            return Ok(None);
        }
        *budget -= 1;
        let u = self.unit(agg)?;
        let mut anonymous = Vec::new();
        let mut tree = u.header.entries_tree(&u.abbrevs, Some(agg.offset)).map_err(|e| self.err(agg, e))?;
        let root = tree.root().map_err(|e| self.err(agg, e))?;
        let mut children = root.children();
        let mut seen = 0usize;
        while let Some(child) = children.next().map_err(|e| self.err(agg, e))? {
            seen += 1;
            if seen > MAX_CHILDREN {
                break;
            }
            let entry = child.entry();
            if entry.tag() != constants::DW_TAG_member {
                continue;
            }
            let at = member_location(entry);
            let ty = self.type_of(agg.unit, entry)?;
            match entry.attr_value(constants::DW_AT_name) {
                Some(n) => {
                    if self.string(u, n).as_deref() == Some(name.as_bytes()) {
                        return Ok(Some((at.ok_or_else(|| bad_location(name))?, ty)));
                    }
                }
                None => {
                    if let (Some(at), Some(ty)) = (at, ty) {
                        anonymous.push((at, ty));
                    }
                }
            }
        }
        for (at, ty) in anonymous {
            if let Some(inner) = self.aggregate(ty)? {
                if let Some((off, t)) = self.find_member(inner, name, depth + 1, budget)? {
                    return Ok(Some((at.saturating_add(off), t)));
                }
            }
        }
        Ok(None)
    }
}

fn is_declaration(entry: &DebuggingInformationEntry<R>) -> bool {
    matches!(entry.attr_value(constants::DW_AT_declaration), Some(AttributeValue::Flag(true)))
}

fn bad_location(name: &str) -> DwarfError {
    DwarfError::Unsupported(format!("the location of member `{name}` is not a constant"))
}

/// `DW_AT_data_member_location` as a constant (or a `DW_OP_plus_uconst` / `DW_OP_constu` expression), else
/// `DW_AT_data_bit_offset` / 8, else 0 (union members have no location). `None` for other location expressions.
fn member_location(entry: &DebuggingInformationEntry<R>) -> Option<u64> {
    match entry.attr_value(constants::DW_AT_data_member_location) {
        Some(AttributeValue::Exprloc(expr)) => {
            let bytes = expr.0.bytes();
            match bytes.split_first() {
                Some((&op, rest)) if op == constants::DW_OP_plus_uconst.0 || op == constants::DW_OP_constu.0 => {
                    let (value, used) = uleb128(rest)?;
                    (used == rest.len()).then_some(value)
                }
                _ => None,
            }
        }
        Some(v) => v.udata_value(),
        None => match entry.attr_value(constants::DW_AT_data_bit_offset) {
            Some(v) => v.udata_value().map(|bits| bits / 8),
            None => Some(0),
        },
    }
}

/// An unsigned LEB128 number and the bytes it took.
fn uleb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests;
