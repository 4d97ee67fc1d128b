//! Every input saved under `fuzz/regressions/<target>/` (crashes the fuzz targets
//! found, kept after the fix) runs through the same code as its target, which is
//! `fuzz/src/lib.rs` itself, included here. A panic fails the test; errors are
//! fine, as they are for the fuzzer.
//!
//! A file whose name starts with `open-` is a finding not fixed yet: it is kept
//! with the others but skipped; drop the prefix when the fix lands.

#[path = "../../../fuzz/src/lib.rs"]
mod targets;

use std::path::PathBuf;

/// Runs `target` on every file in `fuzz/regressions/<name>/` (none is fine).
fn replay(name: &str, target: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(name);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    files.sort();
    for file in files {
        if file
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("open-"))
        {
            eprintln!("skipping open finding {}", file.display());
            continue;
        }
        let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        eprintln!("replaying {}", file.display());
        target(&data);
    }
}

#[test]
fn yaml_read() {
    replay("yaml_read", targets::yaml_read);
}

#[test]
fn yaml_roundtrip() {
    replay("yaml_roundtrip", targets::yaml_roundtrip);
}

#[test]
fn kustomization() {
    replay("kustomization", targets::kustomization);
}

#[test]
fn strategic_merge() {
    replay("strategic_merge", targets::strategic_merge);
}

#[test]
fn json6902() {
    replay("json6902", targets::json6902);
}

#[test]
fn field_path() {
    replay("field_path", targets::field_path);
}

#[test]
fn build_tree() {
    replay("build_tree", targets::build_tree);
}
