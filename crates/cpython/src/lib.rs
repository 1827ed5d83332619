//! CPython object-layout decoder: finds the runtime, interpreters, threads, frames and objects in a process image.
