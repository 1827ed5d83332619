//! Layout structs of the interpreter's machinery: runtime, interpreters, GC state, threads, frames, code objects,
//! and the pymalloc arena/pool headers.

use super::super::Field;

layout_struct! {
    /// `_PyRuntimeState`: the global runtime.
    pub struct RuntimeState = ["_PyRuntimeState", "pyruntimestate"] {
        interpreters_head: ["interpreters.head"],
        interpreters_main: ["interpreters.main"],
        /// ≤3.11: the thread state holding the GIL (NULL when released).
        tstate_current: ["gilstate.tstate_current"],
        /// ≤3.11: the embedded `_gil_runtime_state`.
        gil: ["ceval.gil"],
        /// 3.11+: the embedded main interpreter.
        main_interpreter: ["_main_interpreter"],
        /// 3.8 only: the embedded `struct _gc_runtime_state` (from 3.9 on it is `PyInterpreterState.gc`).
        gc: ["gc"],
    }
}

layout_struct! {
    /// `PyInterpreterState`.
    pub struct InterpreterState = ["PyInterpreterState", "_is"] {
        next: ["next"],
        id: ["id"],
        threads_head: ["threads.head", "tstate_head"],
        threads_main: ["threads.main"],
        gc: ["gc"],
        modules: ["imports.modules", "modules"],
        sysdict: ["sysdict"],
        builtins: ["builtins"],
        importlib: ["imports.importlib", "importlib"],
        dict: ["dict"],
        /// 3.12+: pointer to the `_gil_runtime_state` in use.
        ceval_gil: ["ceval.gil"],
        /// 3.12+: the interpreter's own embedded `_gil_runtime_state`.
        own_gil: ["_gil"],
        /// pymalloc's state: 3.12 the embedded `struct _obmalloc_state`; 3.13+ a pointer to it (the static
        /// `obmalloc_state_main` for the main interpreter). Absent ≤3.11, where the state is file-static.
        obmalloc: ["obmalloc"],
        /// 3.12+: the interned-strings dict (`cached_objects.interned_strings`; the runtime's member of that name is
        /// a hashtable of the static strings).
        interned_strings: ["cached_objects.interned_strings"],
    }
}

layout_struct! {
    /// `struct _gc_runtime_state`: the cyclic collector's state (`PyInterpreterState.gc`; 3.8: `_PyRuntimeState.gc`).
    pub struct GcRuntimeState = ["_gc_runtime_state"] {
        enabled: ["enabled"],
        /// The generational collector (≤3.13, 3.14.5+): `struct gc_generation generations[3]`.
        generations: ["generations"],
        /// Pointer to `generations[0].head`.
        generation0: ["generation0"],
        /// 3.14.0–3.14.4 (incremental collector): the young generation.
        young: ["young"],
        /// 3.14.0–3.14.4 (incremental collector): `struct gc_generation old[2]`.
        old: ["old"],
        permanent_generation: ["permanent_generation"],
        collecting: ["collecting"],
    }
}

layout_struct! {
    /// `struct gc_generation`: one GC list head with its threshold and count.
    pub struct GcGeneration = ["gc_generation"] {
        head: ["head"],
        threshold: ["threshold"],
        count: ["count"],
    }
}

layout_struct! {
    /// `struct _gil_runtime_state`.
    pub struct GilState = ["_gil_runtime_state"] {
        locked: ["locked"],
        last_holder: ["last_holder"],
    }
}

layout_struct! {
    /// `PyThreadState`.
    pub struct ThreadState = ["PyThreadState", "_ts"] {
        prev: ["prev"],
        next: ["next"],
        interp: ["interp"],
        /// ≤3.10: the innermost `PyFrameObject`.
        frame: ["frame"],
        /// 3.10–3.12: `_PyCFrame*` (3.11/3.12 hold the current frame there).
        cframe: ["cframe"],
        /// 3.13+: the innermost `_PyInterpreterFrame`.
        current_frame: ["current_frame"],
        thread_id: ["thread_id"],
        native_thread_id: ["native_thread_id"],
        datastack_chunk: ["datastack_chunk"],
        /// 3.11+: the data stack's bump pointer, the end of the newest frame in `datastack_chunk`.
        datastack_top: ["datastack_top"],
        dict: ["dict"],
    }
}

layout_struct! {
    /// `_PyCFrame` (3.10–3.12).
    pub struct CFrame = ["_PyCFrame"] {
        current_frame: ["current_frame"],
        previous: ["previous"],
    }
}

layout_struct! {
    /// `PyFrameObject`.
    pub struct FrameObject = ["PyFrameObject", "_frame"] {
        f_back: ["f_back"],
        f_code: ["f_code"],
        f_globals: ["f_globals"],
        f_locals: ["f_locals"],
        f_lasti: ["f_lasti"],
        f_lineno: ["f_lineno"],
        f_localsplus: ["f_localsplus"],
        /// 3.11+: the `_PyInterpreterFrame` this object stands for.
        f_frame: ["f_frame"],
        /// 3.11+: storage for an owned interpreter frame.
        f_frame_data: ["_f_frame_data"],
        /// ≤3.10.
        f_builtins: ["f_builtins"],
        f_trace: ["f_trace"],
        /// ≤3.10: the value stack's base.
        f_valuestack: ["f_valuestack"],
        /// 3.8/3.9: the value stack's top (NULL while the frame executes).
        f_stacktop: ["f_stacktop"],
        /// 3.10: the value stack's depth.
        f_stackdepth: ["f_stackdepth"],
        /// 3.10: `char`, the frame's state (`FrameModel::gen_states`).
        f_state: ["f_state"],
        /// 3.13+.
        f_extra_locals: ["f_extra_locals"],
        /// 3.13+.
        f_locals_cache: ["f_locals_cache"],
        /// 3.14+.
        f_overwritten_fast_locals: ["f_overwritten_fast_locals"],
    }
}

layout_struct! {
    /// `_PyInterpreterFrame` (3.11+).
    pub struct InterpreterFrame = ["_PyInterpreterFrame"] {
        previous: ["previous"],
        executable: ["f_executable", "f_code"],
        funcobj: ["f_funcobj", "f_func"],
        globals: ["f_globals"],
        builtins: ["f_builtins"],
        locals: ["f_locals"],
        frame_obj: ["frame_obj"],
        instr_ptr: ["instr_ptr", "prev_instr"],
        stacktop: ["stacktop"],
        stackpointer: ["stackpointer"],
        owner: ["owner"],
        localsplus: ["localsplus"],
    }
}

layout_struct! {
    /// `PyCodeObject`.
    pub struct CodeObject = ["PyCodeObject"] {
        argcount: ["co_argcount"],
        posonlyargcount: ["co_posonlyargcount"],
        kwonlyargcount: ["co_kwonlyargcount"],
        nlocals: ["co_nlocals"],
        nlocalsplus: ["co_nlocalsplus"],
        ncellvars: ["co_ncellvars"],
        nfreevars: ["co_nfreevars"],
        stacksize: ["co_stacksize"],
        flags: ["co_flags"],
        firstlineno: ["co_firstlineno"],
        /// ≤3.10: the bytecode (`bytes`).
        code: ["co_code"],
        consts: ["co_consts"],
        names: ["co_names"],
        varnames: ["co_varnames"],
        cellvars: ["co_cellvars"],
        freevars: ["co_freevars"],
        localsplusnames: ["co_localsplusnames"],
        localspluskinds: ["co_localspluskinds"],
        filename: ["co_filename"],
        name: ["co_name"],
        qualname: ["co_qualname"],
        /// 3.8/3.9 line table.
        lnotab: ["co_lnotab"],
        /// 3.10+ line table (PEP 626; PEP 657 format from 3.11).
        linetable: ["co_linetable"],
        exceptiontable: ["co_exceptiontable"],
        framesize: ["co_framesize"],
        /// 3.11+: the bytecode, inline in the code object.
        code_adaptive: ["co_code_adaptive"],
        /// `_PyCodeObjectExtra*` (`co_extra`), counted by `code.__sizeof__`.
        extra: ["co_extra"],
        /// ≤3.10: `Py_ssize_t *co_cell2arg`, counted by `code.__sizeof__`.
        cell2arg: ["co_cell2arg"],
        /// ≤3.10: a dead frame kept for reuse.
        zombieframe: ["co_zombieframe"],
        /// 3.8–3.10: the opcode cache (`_PyOpcache *`), counted by `code.__sizeof__`.
        opcache: ["co_opcache"],
        /// 3.8–3.10: entries of `co_opcache`.
        opcache_size: ["co_opcache_size"],
    }
}

layout_struct! {
    /// `_PyStackChunk` (3.11+): a piece of a thread's frame stack.
    pub struct StackChunk = ["_PyStackChunk"] {
        previous: ["previous"],
        chunk_size: ["size"],
        top: ["top"],
        data: ["data"],
    }
}

layout_struct! {
    /// `PyGC_Head`.
    pub struct GcHead = ["PyGC_Head"] {
        gc_next: ["_gc_next", "gc.gc_next"],
        gc_prev: ["_gc_prev", "gc.gc_prev"],
    }
}

layout_struct! {
    /// `struct arena_object`: one entry of pymalloc's arena table.
    pub struct ArenaObject = ["arena_object"] {
        /// The arena's base (from mmap); 0 for an unused entry.
        address: ["address"],
        /// High-water mark: pools below it have been carved.
        pool_address: ["pool_address"],
        nfreepools: ["nfreepools"],
        ntotalpools: ["ntotalpools"],
        freepools: ["freepools"],
        nextarena: ["nextarena"],
        prevarena: ["prevarena"],
    }
}

layout_struct! {
    /// `struct pool_header`: the header at the start of every pymalloc pool.
    pub struct PoolHeader = ["pool_header"] {
        /// `ref.count`: allocated blocks in the pool (a `uint` in a union with a pointer).
        count: ["ref"],
        /// Head of the pool's free-block list (each free block's first word links to the next).
        freeblock: ["freeblock"],
        nextpool: ["nextpool"],
        prevpool: ["prevpool"],
        /// Index of the pool's arena in the arena table.
        arenaindex: ["arenaindex"],
        /// Size class: blocks are `(szidx + 1) * ALIGNMENT` bytes.
        szidx: ["szidx"],
        /// Offset of the first never-carved block.
        nextoffset: ["nextoffset"],
        /// Largest valid `nextoffset`: `POOL_SIZE - block size`.
        maxnextoffset: ["maxnextoffset"],
    }
}

// ----- Object structs read by `heap::sizeof` and `heap::traverse` (sizes and `tp_traverse` emulation). -----

layout_struct! {
    /// `_PyErr_StackItem`: a generator's saved exception (≤3.10 type, value, traceback; 3.11+ the value only).
    pub struct ErrStackItem = ["_PyErr_StackItem", "_err_stackitem"] {
        exc_type: ["exc_type"],
        exc_value: ["exc_value"],
        exc_traceback: ["exc_traceback"],
    }
}

layout_struct! {
    /// `_PyCodeObjectExtra`: a code object's `co_extra` (PEP 523 scratch space).
    pub struct CodeObjectExtra = ["_PyCodeObjectExtra"] {
        ce_size: ["ce_size"],
        ce_extras: ["ce_extras"],
    }
}

layout_struct! {
    /// `_PyOpcache` (3.8–3.10): one entry of a code object's opcode cache (only its size is used).
    pub struct Opcache = ["_PyOpcache"] {
    }
}
