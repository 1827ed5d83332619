//! `heapscope show|refs|referrers CORE ADDR`.

use std::io::Write;

use anyhow::bail;
use heapscope_coredump::Addr;
use heapscope_cpython::objects::Heap;
use heapscope_query::show::{Direction, RefsReport, RowOptions, ShowReport};

use crate::args::ObjectArgs;
use crate::progress::phase;

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// `show`: the object, its referents and referrers.
    Show,
    /// `refs`: its referents.
    Refs,
    /// `referrers`: its referrers.
    Referrers,
}

impl What {
    /// The command's name.
    fn command(self) -> &'static str {
        match self {
            What::Show => "show",
            What::Refs => "refs",
            What::Referrers => "referrers",
        }
    }
}

/// Runs `show`, `refs` or `referrers`. An address that is not an object of the snapshot is an error that names the
/// object containing it, if one does.
pub fn run(args: &ObjectArgs, what: What, out: &mut dyn Write) -> anyhow::Result<()> {
    let command = what.command();
    match what {
        What::Show => super::emit::check::<ShowReport>(command, args.heap.format)?,
        What::Refs | What::Referrers => super::emit::check::<RefsReport>(command, args.heap.format)?,
    }
    let opened = super::heap::open(&args.heap)?;
    let s = &opened.snapshot;
    let addr = Addr(args.addr);
    let Some(id) = s.id_of(addr) else {
        match s.containing(addr) {
            Some(c) => bail!(
                "{addr} is not the start of an object: it lies inside the {} at {} (sys.getsizeof {}); \
                 try `heapscope show {} {}`",
                s.type_name(c),
                s.addr(c),
                s.object(c).size,
                args.heap.core.core.display(),
                s.addr(c)
            ),
            None => bail!(
                "no object at {addr} in this heap: it may have been freed before the dump, or not be an object \
                 address (addresses are what id() returns, in hex or decimal)"
            ),
        }
    };
    let heap = Heap::new(&opened.process, &opened.layout);
    let opts = RowOptions { limit: args.limit, ..RowOptions::default() }.redact(args.privacy.redact);
    match what {
        What::Show => {
            let r = phase("finding its references", || ShowReport::collect(&heap, s, id, &opts));
            super::emit::emit(&r, command, args.heap.format, out)?;
        }
        What::Refs | What::Referrers => {
            let dir = if what == What::Refs { Direction::Referents } else { Direction::Referrers };
            let r = phase("finding its references", || RefsReport::collect(&heap, s, id, dir, &opts));
            super::emit::emit(&r, command, args.heap.format, out)?;
        }
    }
    super::heap::finish(&opened, args.heap.verbose, out)
}
