//! Fuzz target `yaml_roundtrip`: see [`rustomize_fuzz::yaml_roundtrip`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rustomize_fuzz::yaml_roundtrip(data));
