//! Embedding rustomize: build a kustomization from Rust, inspect the resources,
//! and print the same YAML `kustomize build` would.
//!
//! Run with `cargo run -p rustomize --example embed -- examples/hello/overlays/production`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("examples/hello/overlays/production"));
    // Builds share no state, so an embedder may run many at once (one per thread).
    match rustomize::build(&dir, &rustomize::BuildOptions::default()) {
        Ok(build) => {
            for resource in build.resources() {
                // Typed: the id as kustomize prints it, and the file it came from.
                eprintln!("{} ({})", resource.id(), resource.origin().display());
            }
            print!("{}", build.to_yaml());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}
