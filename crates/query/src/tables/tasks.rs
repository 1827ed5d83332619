//! The `tasks`, `task_stack`, `task_awaits` and `suspended` tables: the pending asyncio tasks, their coroutine
//! stacks, the await graph, and the suspended generators and coroutines, from the same search `heapscope tasks`
//! makes ([`TasksReport::collect`], without the groups' retained sets), once for the four.

use heapscope_coredump::ProcessImage;
use polars::prelude::*;

use super::{col_u32, col_u64, named, Tables};
use crate::tasks::{TasksOptions, TasksReport};

impl<P: ProcessImage + Sync + ?Sized> Tables<'_, '_, '_, P> {
    /// The tasks, found on first use.
    fn tasks_report(&self) -> PolarsResult<&TasksReport> {
        let r = self.tasks.get_or_init(|| {
            let opts = TasksOptions { retained: false, ..TasksOptions::default() };
            TasksReport::collect(self.snap, self.heap, &opts).map_err(|e| e.to_string())
        });
        r.as_ref().map_err(|e| PolarsError::ComputeError(format!("finding the asyncio tasks: {e}").into()))
    }

    /// `tasks`: one row per pending task, by address.
    pub fn tasks(&self) -> PolarsResult<DataFrame> {
        let s = self.snap;
        let ts = &self.tasks_report()?.tasks;
        let rows = ts.len();
        let columns = vec![
            self.dump_id(rows),
            col_u64("address", ts.iter().map(|t| t.address).collect()),
            named::<UInt32Type>("id", ts.iter().map(|t| s.id_of(heapscope_coredump::Addr(t.address))).collect()),
            Column::new("type".into(), ts.iter().map(|t| t.type_name.as_str()).collect::<Vec<_>>()),
            Column::new("name".into(), ts.iter().map(|t| t.name.as_deref()).collect::<Vec<_>>()),
            Column::new("state".into(), ts.iter().map(|t| t.state).collect::<Vec<_>>()),
            Column::new("coro".into(), ts.iter().map(|t| t.coro.as_deref()).collect::<Vec<_>>()),
            col_u32("stack_depth", ts.iter().map(|t| t.stack.len() as u32).collect()),
            Column::new(
                "function".into(),
                ts.iter().map(|t| t.stack.last().and_then(|e| e.function.as_deref())).collect::<Vec<_>>(),
            ),
            Column::new(
                "file".into(),
                ts.iter().map(|t| t.stack.last().and_then(|e| e.file.as_deref())).collect::<Vec<_>>(),
            ),
            named::<Int64Type>("line", ts.iter().map(|t| t.stack.last().and_then(|e| e.line).map(i64::from)).collect()),
            col_u32("awaits", ts.iter().map(|t| t.awaits.len() as u32).collect()),
            col_u32("awaited_by", ts.iter().map(|t| t.awaited_by.len() as u32).collect()),
            named::<UInt64Type>("loop", ts.iter().map(|t| t.event_loop).collect()),
            Column::new("thread".into(), ts.iter().map(|t| t.thread.as_deref()).collect::<Vec<_>>()),
        ];
        DataFrame::new(rows, columns)
    }

    /// `task_stack`: one row per coroutine of each task's stack, outermost first (`depth` 0: the task's own).
    pub fn task_stack(&self) -> PolarsResult<DataFrame> {
        let entries: Vec<(u64, u32, &crate::tasks::StackEntry)> = self
            .tasks_report()?
            .tasks
            .iter()
            .flat_map(|t| t.stack.iter().enumerate().map(move |(d, e)| (t.address, d as u32, e)))
            .collect();
        let rows = entries.len();
        let columns = vec![
            self.dump_id(rows),
            col_u64("task", entries.iter().map(|e| e.0).collect()),
            col_u32("depth", entries.iter().map(|e| e.1).collect()),
            Column::new("function".into(), entries.iter().map(|e| e.2.function.as_deref()).collect::<Vec<_>>()),
            Column::new("file".into(), entries.iter().map(|e| e.2.file.as_deref()).collect::<Vec<_>>()),
            named::<Int64Type>("line", entries.iter().map(|e| e.2.line.map(i64::from)).collect()),
        ];
        DataFrame::new(rows, columns)
    }

    /// `task_awaits`: one row per await: `task` waits for `awaits` directly.
    pub fn task_awaits(&self) -> PolarsResult<DataFrame> {
        let pairs: Vec<(u64, u64)> =
            self.tasks_report()?.tasks.iter().flat_map(|t| t.awaits.iter().map(move |&a| (t.address, a))).collect();
        let rows = pairs.len();
        let columns = vec![
            self.dump_id(rows),
            col_u64("task", pairs.iter().map(|p| p.0).collect()),
            col_u64("awaits", pairs.iter().map(|p| p.1).collect()),
        ];
        DataFrame::new(rows, columns)
    }

    /// `suspended`: one row per generator, coroutine and async generator with a frame that is not running.
    pub fn suspended(&self) -> PolarsResult<DataFrame> {
        let s = self.snap;
        let ss = &self.tasks_report()?.suspended;
        let rows = ss.len();
        let columns = vec![
            self.dump_id(rows),
            col_u64("address", ss.iter().map(|g| g.address).collect()),
            named::<UInt32Type>("id", ss.iter().map(|g| s.id_of(heapscope_coredump::Addr(g.address))).collect()),
            Column::new("kind".into(), ss.iter().map(|g| g.kind).collect::<Vec<_>>()),
            Column::new("state".into(), ss.iter().map(|g| g.state).collect::<Vec<_>>()),
            Column::new("function".into(), ss.iter().map(|g| g.function.as_deref()).collect::<Vec<_>>()),
            Column::new("file".into(), ss.iter().map(|g| g.file.as_deref()).collect::<Vec<_>>()),
            named::<Int64Type>("line", ss.iter().map(|g| g.line.map(i64::from)).collect()),
            named::<UInt64Type>("task", ss.iter().map(|g| g.task).collect()),
        ];
        DataFrame::new(rows, columns)
    }
}
