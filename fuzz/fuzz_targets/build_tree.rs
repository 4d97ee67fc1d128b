//! Fuzz target `build_tree`: see [`rustomize_fuzz::build_tree`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rustomize_fuzz::build_tree(data));
