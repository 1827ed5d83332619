//! What a frame's code object says about it: its function, qualified name, file, first line and the line of its
//! instruction; read from the code object, or from a [`CodeCache`] when one thread decodes many frames.

use std::collections::HashMap;
use std::sync::Arc;

use heapscope_coredump::{Addr, ProcessImage};

use super::{Frame, FrameModel, MAX_LINETABLE_BYTES, MAX_NAME_CHARS};
use crate::linetable::LineTable;
use crate::objects::{DecodeError, Heap};
use crate::runtime::{read_i32, read_ptr};

/// What frames running the same code at the same instruction share, remembered by one thread decoding many of them
/// (a core's 100,000 tasks are suspended at a few dozen places): each code object's names are read, and its line
/// table parsed, once per instruction rather than once per frame. Only what was read without an error is kept; it
/// holds one entry per distinct place decoded, so it is as large as the frames decoded at most.
#[derive(Debug, Default)]
pub struct CodeCache {
    places: HashMap<(Addr, i64), Place>,
    names: HashMap<Addr, String>,
}

impl CodeCache {
    /// The text of the str object at `s` (a name: at most `max_chars`), read once.
    pub(crate) fn name<P: ProcessImage + ?Sized>(
        &mut self,
        heap: &Heap<'_, P>,
        s: Addr,
        max_chars: usize,
    ) -> Result<String, DecodeError> {
        if let Some(text) = self.names.get(&s) {
            return Ok(text.clone());
        }
        let text = heap.str_value(s, max_chars)?.text;
        self.names.insert(s, text.clone());
        Ok(text)
    }
}

/// What [`describe`] found for one code object at one instruction offset.
#[derive(Debug, Clone)]
struct Place {
    function: Option<Arc<str>>,
    qualname: Option<Arc<str>>,
    file: Option<Arc<str>>,
    firstlineno: Option<i32>,
    line: Option<i32>,
}

/// Fills in the function, qualified name, file, first line and line of a frame running `frame.code`, from `cache`
/// when it has the place.
pub(super) fn describe<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    model: &FrameModel,
    frame: &mut Frame,
    offset: Result<i64, DecodeError>,
    cache: Option<&mut CodeCache>,
) {
    let (Some(cache), Ok(at)) = (cache, offset.as_ref().copied()) else {
        return describe_code(heap, model, frame, offset);
    };
    let key = (frame.code, at);
    if let Some(p) = cache.places.get(&key) {
        frame.function.clone_from(&p.function);
        frame.qualname.clone_from(&p.qualname);
        frame.file.clone_from(&p.file);
        frame.firstlineno = p.firstlineno;
        frame.line = p.line;
        return;
    }
    let errors = frame.errors.len();
    describe_code(heap, model, frame, offset);
    if frame.errors.len() == errors {
        let place = Place {
            function: frame.function.clone(),
            qualname: frame.qualname.clone(),
            file: frame.file.clone(),
            firstlineno: frame.firstlineno,
            line: frame.line,
        };
        cache.places.insert(key, place);
    }
}

/// [`describe`] read from the code object.
fn describe_code<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    model: &FrameModel,
    frame: &mut Frame,
    offset: Result<i64, DecodeError>,
) {
    let (p, l) = (heap.process(), heap.layout());
    let code = frame.code;
    let name = |field, errors: &mut Vec<DecodeError>| -> Option<Arc<str>> {
        let s = read_ptr(p, code, field, "code").and_then(|s| heap.str_value(s, MAX_NAME_CHARS));
        s.map(|s| Arc::from(s.text)).map_err(|e| errors.push(e)).ok()
    };
    frame.function = name(&l.code.name, &mut frame.errors);
    if l.code.qualname.is_known() {
        frame.qualname = name(&l.code.qualname, &mut frame.errors);
    }
    frame.file = name(&l.code.filename, &mut frame.errors);
    let first = match read_i32(p, code, &l.code.firstlineno, "code") {
        Ok(v) => v,
        Err(e) => {
            frame.errors.push(e);
            return;
        }
    };
    frame.firstlineno = Some(first);
    let table_field = if l.code.linetable.is_known() { &l.code.linetable } else { &l.code.lnotab };
    let table = read_ptr(p, code, table_field, "code").and_then(|t| heap.bytes_value(t, MAX_LINETABLE_BYTES));
    match (table, offset) {
        (Ok(table), Ok(offset)) => {
            frame.line = LineTable::new(model.linetable, &table.data, first).line_at(offset);
        }
        (Err(e), _) | (_, Err(e)) => frame.errors.push(e),
    }
}
