//! Fuzz target `strategic_merge`: see [`rustomize_fuzz::strategic_merge`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rustomize_fuzz::strategic_merge(data));
