#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| heapscope_fuzzing::core_parser(data));
