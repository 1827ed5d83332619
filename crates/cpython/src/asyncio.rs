//! asyncio's tasks, `gather` futures, task groups and event loops.
//!
//! Two task implementations: `_asyncio.Task` (C, `TaskObj`: a `FutureObj` head, then `task_fut_waiter`,
//! `task_coro`, `task_name`; offsets in the layout's `FutureObj` / `TaskObj`), which Python subclasses of it share,
//! and the pure-Python `asyncio.tasks._PyTask` (type name `asyncio.tasks.Task`), whose fields are instance
//! attributes (`_state`, `_coro`, `_fut_waiter`, `_name`, `_loop`), some of them class attributes until first set
//! (`Future._state = 'PENDING'`, `Task._fut_waiter = None`). `_GatheringFuture`, `TaskGroup` and the event loop
//! are Python classes: their attributes are read from the instance (and its class).

use heapscope_coredump::{Addr, ProcessImage};

use crate::objects::{DecodeError, Heap, Kind};
use crate::runtime::{read_i32, read_ptr};

/// Most items of a `gather`'s children or a task group's tasks.
const MAX_ITEMS: usize = 1 << 20;
/// Most characters of a task's name.
const MAX_NAME_CHARS: usize = 1 << 16;

/// Which task implementation an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskImpl {
    /// `_asyncio.Task` or a subclass of it.
    C,
    /// `asyncio.tasks._PyTask` or a subclass of it.
    Python,
}

/// The state of a future (a task's too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FutureState {
    /// Not done.
    Pending,
    /// Cancelled.
    Cancelled,
    /// Done with a result or an exception.
    Finished,
}

impl FutureState {
    /// `"pending"`, `"cancelled"` or `"finished"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FutureState::Pending => "pending",
            FutureState::Cancelled => "cancelled",
            FutureState::Finished => "finished",
        }
    }
}

/// A decoded asyncio task.
#[derive(Debug, Clone)]
pub struct Task {
    /// C or pure Python.
    pub implementation: TaskImpl,
    /// Its state.
    pub state: FutureState,
    /// The coroutine it runs (`task_coro` / `_coro`).
    pub coro: Addr,
    /// Its name, exactly as `Task.get_name()` returns it.
    pub name: String,
    /// The future it waits on (`task_fut_waiter` / `_fut_waiter`); `Addr::NULL` for none.
    pub fut_waiter: Addr,
    /// Its event loop (`fut_loop` / `_loop`).
    pub loop_: Addr,
}

/// `Some(impl)` if the type `ty` is `_asyncio.Task`, the pure-Python `asyncio.tasks._PyTask` (whose type name is
/// `asyncio.tasks.Task`), or a subclass of either (its MRO, at most 64 types).
pub fn task_impl_of_type<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    ty: Addr,
) -> Result<Option<TaskImpl>, DecodeError> {
    for base in heap.mro(ty)? {
        match heap.type_name(base)?.as_str() {
            "_asyncio.Task" => return Ok(Some(TaskImpl::C)),
            "asyncio.tasks.Task" => return Ok(Some(TaskImpl::Python)),
            _ => {}
        }
    }
    Ok(None)
}

/// Decodes the task at `obj`.
pub fn task<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr) -> Result<Task, DecodeError> {
    let ty = heap.type_of(obj)?;
    match task_impl_of_type(heap, ty)? {
        Some(imp) => task_as(heap, obj, imp),
        None => Err(DecodeError::malformed(obj, "task", "not an asyncio Task")),
    }
}

/// Decodes the task at `obj`, whose type [`task_impl_of_type`] found to be a task of kind `imp`: for a caller that
/// classifies each type once rather than each task.
pub fn task_as<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr, imp: TaskImpl) -> Result<Task, DecodeError> {
    match imp {
        TaskImpl::C => c_task(heap, obj),
        TaskImpl::Python => py_task(heap, obj),
    }
}

/// A C task: the fields of `TaskObj`.
fn c_task<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr) -> Result<Task, DecodeError> {
    let (p, l) = (heap.process(), heap.layout());
    let state = match read_i32(p, obj, &l.future.state, "task")? {
        0 => FutureState::Pending,
        1 => FutureState::Cancelled,
        2 => FutureState::Finished,
        v => return Err(DecodeError::malformed(obj, "task", format!("fut_state {v}"))),
    };
    let name = read_ptr(p, obj, &l.task.name, "task")?;
    // `task_name` is a str, or (3.13+) the int N of a default name `Task-N`, formatted lazily by `get_name()`.
    let name = match heap.kind(name)? {
        Kind::Str => heap.str_value(name, MAX_NAME_CHARS)?.text,
        Kind::Int => {
            let n = heap.int_value(name)?.to_i64().ok_or_else(|| DecodeError::malformed(name, "int", "too large"))?;
            format!("Task-{n}")
        }
        other => return Err(DecodeError::malformed(obj, "task", format!("task_name is a {other:?}"))),
    };
    Ok(Task {
        implementation: TaskImpl::C,
        state,
        coro: read_ptr(p, obj, &l.task.coro, "task")?,
        name,
        fut_waiter: not_none(heap, read_ptr(p, obj, &l.task.fut_waiter, "task")?),
        loop_: read_ptr(p, obj, &l.future.loop_, "task")?,
    })
}

/// A pure-Python task: its attributes.
fn py_task<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr) -> Result<Task, DecodeError> {
    let get = |name: &'static str| -> Result<Addr, DecodeError> {
        attr(heap, obj, name)?.ok_or_else(|| DecodeError::malformed(obj, "task", format!("no attribute {name}")))
    };
    let state = match heap.str_value(get("_state")?, 16)?.text.as_str() {
        "PENDING" => FutureState::Pending,
        "CANCELLED" => FutureState::Cancelled,
        "FINISHED" => FutureState::Finished,
        other => return Err(DecodeError::malformed(obj, "task", format!("_state {other:?}"))),
    };
    Ok(Task {
        implementation: TaskImpl::Python,
        state,
        coro: not_none(heap, get("_coro")?),
        name: heap.str_value(get("_name")?, MAX_NAME_CHARS)?.text,
        fut_waiter: not_none(heap, attr(heap, obj, "_fut_waiter")?.unwrap_or(Addr::NULL)),
        loop_: get("_loop")?,
    })
}

/// The children of an `asyncio.gather` future (`_GatheringFuture._children`, a list); `None` if `obj` is no
/// `_GatheringFuture` (or subclass).
pub fn gather_children<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    obj: Addr,
) -> Result<Option<Vec<Addr>>, DecodeError> {
    if !is_gathering_future_type(heap, heap.type_of(obj)?)? {
        return Ok(None);
    }
    gathering_future_children(heap, obj).map(Some)
}

/// True if type `ty` is `asyncio.tasks._GatheringFuture` (what `asyncio.gather` returns) or a subclass.
pub fn is_gathering_future_type<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, ty: Addr) -> Result<bool, DecodeError> {
    has_base(heap, ty, "asyncio.tasks._GatheringFuture")
}

/// The children of the `_GatheringFuture` at `obj`, whose type [`is_gathering_future_type`] accepted.
pub fn gathering_future_children<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    obj: Addr,
) -> Result<Vec<Addr>, DecodeError> {
    let children = attr(heap, obj, "_children")?
        .ok_or_else(|| DecodeError::malformed(obj, "_GatheringFuture", "no attribute _children"))?;
    heap.list_items(children, MAX_ITEMS)
}

/// True if type `ty` is `asyncio.taskgroups.TaskGroup` or a subclass.
pub fn is_task_group_type<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, ty: Addr) -> Result<bool, DecodeError> {
    has_base(heap, ty, "asyncio.taskgroups.TaskGroup")
}

/// A decoded `asyncio.TaskGroup`.
#[derive(Debug, Clone)]
pub struct TaskGroup {
    /// The task that entered the group (`_parent_task`; `Addr::NULL` before `__aenter__`).
    pub parent_task: Addr,
    /// The tasks of the group not yet done (`_tasks`, a set).
    pub tasks: Vec<Addr>,
}

/// Decodes the `asyncio.TaskGroup` at `obj`.
pub fn task_group<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr) -> Result<TaskGroup, DecodeError> {
    if !is_task_group_type(heap, heap.type_of(obj)?)? {
        return Err(DecodeError::malformed(obj, "TaskGroup", "not an asyncio TaskGroup"));
    }
    let parent_task = not_none(heap, attr(heap, obj, "_parent_task")?.unwrap_or(Addr::NULL));
    let tasks = match attr(heap, obj, "_tasks")? {
        Some(set) if !is_none(heap, set) => heap.set_items(set, MAX_ITEMS)?,
        _ => Vec::new(),
    };
    Ok(TaskGroup { parent_task, tasks })
}

/// `BaseEventLoop._thread_id` of an event loop object (the `threading.get_ident()` of the thread running it; `None`
/// when the attribute is None or absent). Map it to a name with `crate::runtime::thread_names(heap, interp)`.
pub fn loop_thread_ident<P: ProcessImage + ?Sized>(
    heap: &Heap<'_, P>,
    event_loop: Addr,
) -> Result<Option<u64>, DecodeError> {
    match attr(heap, event_loop, "_thread_id")? {
        Some(v) if !is_none(heap, v) => {
            let ident = heap.int_value(v)?.to_i64().and_then(|i| u64::try_from(i).ok());
            ident.map(Some).ok_or_else(|| DecodeError::malformed(v, "int", "not a thread ident"))
        }
        _ => Ok(None),
    }
}

/// `obj.name` as Python finds it for a plain attribute: on the instance, else in the `__dict__` of a class of its
/// MRO (descriptors are not called).
fn attr<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr, name: &str) -> Result<Option<Addr>, DecodeError> {
    if let Some(v) = heap.instance_attr(obj, name)? {
        return Ok(Some(v));
    }
    for ty in heap.mro(heap.type_of(obj)?)? {
        let dict = heap.ptr(ty, &heap.layout().type_object.tp_dict, "type")?;
        if dict.is_null() {
            continue;
        }
        if let Some(v) = heap.dict_get_str(dict, name)? {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// True if a type of the MRO of `ty` has the type name `name`.
fn has_base<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, ty: Addr, name: &str) -> Result<bool, DecodeError> {
    for base in heap.mro(ty)? {
        if heap.type_name(base)? == name {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `Addr::NULL` for `None`, else `obj`.
fn not_none<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr) -> Addr {
    if is_none(heap, obj) {
        Addr::NULL
    } else {
        obj
    }
}

/// True if `obj` is `None`.
fn is_none<P: ProcessImage + ?Sized>(heap: &Heap<'_, P>, obj: Addr) -> bool {
    heap.statics().none == Some(obj)
}
