//! Build script of the CLI: links the `rustomize` binary as a position-dependent
//! executable on Linux (glibc).
//!
//! A position-independent executable is relocated at every start: about 18,700
//! relative relocations, each a write into `.data.rel.ro`, so ~90 pages copied
//! on write before `main` (a third of `rustomize version`'s page faults). At a
//! fixed address those pages stay shared with the page cache. Only the binary
//! is linked so; the library and the test programs keep the default.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if os == "linux" && env == "gnu" && arch == "x86_64" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
