//! Fuzz target `yaml_read`: see [`rustomize_fuzz::yaml_read`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rustomize_fuzz::yaml_read(data));
