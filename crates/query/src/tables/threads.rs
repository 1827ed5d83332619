//! The `threads`, `frames` and `locals` tables: the Python threads of the process, their frames and the frames'
//! locals, from the same walk `heapscope stacks --locals` makes ([`PythonThreads::collect`]), once for the three.

use heapscope_coredump::ProcessImage;
use heapscope_cpython::frames::StackOptions;
use heapscope_cpython::objects::PreviewOptions;
use heapscope_cpython::runtime::TidSource;
use polars::prelude::*;

use super::{col_u32, col_u64, named, Tables};
use crate::stacks::PythonThreads;

impl<P: ProcessImage + Sync + ?Sized> Tables<'_, '_, '_, P> {
    /// The threads, walked on first use: from the runtime given to [`Tables::with_runtime`], else from
    /// `_PyRuntime` found again in the process (no process: no threads).
    fn python_threads(&self) -> &PythonThreads {
        self.threads.get_or_init(|| {
            // The locals' values are joined on `objects.id`: their previews are not kept, so made as short as can be.
            let preview = PreviewOptions { max_str_chars: 1, max_items: 0, depth: 0, redact: false };
            let opts = StackOptions { locals: true, preview, ..StackOptions::default() };
            match &self.runtime {
                Some((runtime, core_threads)) => PythonThreads::collect(self.heap, *runtime, core_threads, &opts),
                None => match heapscope_cpython::detect(self.heap.process()) {
                    Ok(python) => PythonThreads::collect(self.heap, python.runtime, &[], &opts),
                    Err(e) => PythonThreads { threads: Vec::new(), problems: vec![e.to_string()] },
                },
            }
        })
    }

    /// `threads`: one row per Python thread, interpreters oldest first, threads in creation order (the main thread
    /// first); `thread` is the row's position.
    pub fn threads(&self) -> PolarsResult<DataFrame> {
        let ts = &self.python_threads().threads;
        let rows = ts.len();
        let columns = vec![
            self.dump_id(rows),
            col_u32("thread", (0..rows as u32).collect()),
            col_u64("ident", ts.iter().map(|t| t.ident).collect()),
            named::<UInt32Type>("tid", ts.iter().map(|t| t.tid).collect()),
            Column::new("tid_source".into(), ts.iter().map(|t| t.tid_source.map(tid_source_name)).collect::<Vec<_>>()),
            Column::new("name".into(), ts.iter().map(|t| t.name.as_deref()).collect::<Vec<_>>()),
            named::<Int64Type>("interpreter", ts.iter().map(|t| t.interpreter).collect()),
            named("holds_gil", ts.iter().map(|t| t.holds_gil).collect::<BooleanChunked>()),
            col_u64("tstate", ts.iter().map(|t| t.tstate.0).collect()),
            col_u32("frames", ts.iter().map(|t| t.stack.frames.len() as u32).collect()),
            named("incomplete", ts.iter().map(|t| t.stack.incomplete()).collect::<BooleanChunked>()),
            Column::new(
                "error".into(),
                ts.iter().map(|t| t.stack.error.as_ref().map(ToString::to_string)).collect::<Vec<_>>(),
            ),
        ];
        DataFrame::new(rows, columns)
    }

    /// `frames`: one row per frame, by thread, innermost first (`depth` 0), as `stacks --format json` lists them.
    pub fn frames(&self) -> PolarsResult<DataFrame> {
        let s = self.snap;
        let frames: Vec<_> = self
            .python_threads()
            .threads
            .iter()
            .enumerate()
            .flat_map(|(i, t)| t.stack.frames.iter().enumerate().map(move |(d, f)| (i as u32, d as u32, f)))
            .collect();
        let rows = frames.len();
        let errors = |f: &heapscope_cpython::frames::Frame| {
            (!f.errors.is_empty()).then(|| f.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
        };
        let columns = vec![
            self.dump_id(rows),
            col_u32("thread", frames.iter().map(|f| f.0).collect()),
            col_u32("depth", frames.iter().map(|f| f.1).collect()),
            Column::new("function".into(), frames.iter().map(|f| f.2.function.as_deref()).collect::<Vec<_>>()),
            Column::new("qualname".into(), frames.iter().map(|f| f.2.qualname.as_deref()).collect::<Vec<_>>()),
            Column::new("file".into(), frames.iter().map(|f| f.2.file.as_deref()).collect::<Vec<_>>()),
            named::<Int64Type>("line", frames.iter().map(|f| f.2.line.map(i64::from)).collect()),
            named::<Int64Type>("firstlineno", frames.iter().map(|f| f.2.firstlineno.map(i64::from)).collect()),
            named::<UInt32Type>("code", frames.iter().map(|f| s.id_of(f.2.code)).collect()),
            col_u64("address", frames.iter().map(|f| f.2.addr.0).collect()),
            Column::new("error".into(), frames.iter().map(|f| errors(f.2)).collect::<Vec<_>>()),
        ];
        DataFrame::new(rows, columns)
    }

    /// `locals`: one row per local variable of every frame, in slot order (module and class bodies: their
    /// namespace), with the object it holds.
    pub fn locals(&self) -> PolarsResult<DataFrame> {
        let s = self.snap;
        let mut thread = Vec::new();
        let mut depth = Vec::new();
        let mut locals = Vec::new();
        for (i, t) in self.python_threads().threads.iter().enumerate() {
            for (d, f) in t.stack.frames.iter().enumerate() {
                for l in &f.locals {
                    thread.push(i as u32);
                    depth.push(d as u32);
                    locals.push(l);
                }
            }
        }
        let rows = locals.len();
        let columns = vec![
            self.dump_id(rows),
            col_u32("thread", thread),
            col_u32("depth", depth),
            Column::new("name".into(), locals.iter().map(|l| l.name.as_str()).collect::<Vec<_>>()),
            named::<UInt32Type>("id", locals.iter().map(|l| s.id_of(l.value)).collect()),
            named::<UInt64Type>("address", locals.iter().map(|l| (!l.value.is_null()).then_some(l.value.0)).collect()),
        ];
        DataFrame::new(rows, columns)
    }
}

fn tid_source_name(s: TidSource) -> &'static str {
    match s {
        TidSource::NativeThreadId => "native_thread_id",
        TidSource::FsBase => "fs_base",
    }
}
