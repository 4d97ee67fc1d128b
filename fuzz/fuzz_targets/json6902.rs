//! Fuzz target `json6902`: see [`rustomize_fuzz::json6902`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rustomize_fuzz::json6902(data));
