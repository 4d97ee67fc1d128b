//! Fuzz target `kustomization`: see [`rustomize_fuzz::kustomization`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rustomize_fuzz::kustomization(data));
