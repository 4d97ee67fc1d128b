//! Builds share no state: many builds at once in one process give the same bytes
//! as one at a time (no global mutable state, no mutex needed by embedders).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expected.yaml").exists() && !p.join("args").exists())
        .map(|p| match std::fs::read_to_string(p.join("RUN")) {
            Ok(run) => p.join("input").join(run.trim()),
            Err(_) => p.join("input"),
        })
        .collect();
    dirs.sort();
    dirs
}

fn render(dir: &Path) -> String {
    match rustomize::build(dir, &Default::default()) {
        Ok(b) => b.to_yaml(),
        Err(e) => format!("error: {}", e.full_message()),
    }
}

#[test]
fn parallel_builds_match_sequential_ones() {
    let dirs = cases();
    assert!(dirs.len() > 20);
    let sequential: Vec<String> = dirs.iter().map(|d| render(d)).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let dirs = &dirs;
                s.spawn(move || {
                    // Each thread walks the cases from a different starting point.
                    (0..dirs.len())
                        .map(|i| {
                            let k = (i + t * 7) % dirs.len();
                            (k, render(&dirs[k]))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (k, out) in h.join().unwrap() {
                assert_eq!(out, sequential[k], "{}", dirs[k].display());
            }
        }
    });
}

#[test]
fn output_does_not_depend_on_thread_count() {
    for dir in cases() {
        let with = |threads| {
            let options = rustomize::BuildOptions {
                threads: Some(threads),
                ..Default::default()
            };
            match rustomize::build(&dir, &options) {
                Ok(b) => (b.to_yaml(), b.warnings().join("\n")),
                Err(e) => (format!("error: {e}"), String::new()),
            }
        };
        let one = with(1);
        for threads in [2, 3, 8] {
            assert_eq!(
                with(threads),
                one,
                "{} with {threads} threads",
                dir.display()
            );
        }
    }
}
