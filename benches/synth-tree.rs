//! Writes the scaling benchmark's synthetic tree (see `benches/synth.rs`):
//! `cargo run --release -p rustomize --example synth-tree -- N DIR`.
//! Prints the number of resources its build prints.

#[path = "synth.rs"]
mod synth;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(dir), None) = (
        args.first().and_then(|n| n.parse::<usize>().ok()),
        args.get(1).map(PathBuf::from),
        args.get(2),
    ) else {
        eprintln!("usage: synth-tree N DIR");
        return ExitCode::FAILURE;
    };
    match synth::write_tree(&dir, n) {
        Ok(count) => {
            println!("{count}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
