//! Concurrent builds: one `Kustomizer` shared by 8 threads, each building the
//! same kustomization; every output is byte-identical (builds share no state).
//!
//! Run with `cargo run -p rustomize --example concurrent -- examples/hello/overlays/production`.

use std::path::PathBuf;
use std::process::ExitCode;

use rustomize::Kustomizer;

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("examples/hello/overlays/production"));
    // One thread per build: 8 builds at once use the 8 threads, not 8 × cores.
    let kustomizer = Kustomizer::new().threads(1);
    let outputs: Vec<Result<String, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    kustomizer
                        .build(&dir)
                        .map(|build| build.to_yaml())
                        .map_err(|e| e.full_message())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a build panicked".to_owned()))
            })
            .collect()
    });
    let first = match &outputs[..] {
        [Ok(first), ..] => first,
        [Err(e), ..] => {
            eprintln!("Error: {e}");
            return ExitCode::FAILURE;
        }
        [] => return ExitCode::FAILURE,
    };
    let identical = outputs.iter().all(|o| o.as_ref() == Ok(first));
    eprintln!(
        "8 concurrent builds, {} bytes each, identical: {identical}",
        first.len()
    );
    if identical {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
