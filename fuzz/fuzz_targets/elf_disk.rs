#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heapscope_fuzzing::elf_disk(data));
