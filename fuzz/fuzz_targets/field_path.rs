//! Fuzz target `field_path`: see [`rustomize_fuzz::field_path`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rustomize_fuzz::field_path(data));
