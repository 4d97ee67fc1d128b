//! What several test binaries need to find outside the project: the workspace
//! root, the shared corpora, kubectl and helm. Each binary uses some of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/corpora` beside the workspace (or beside the directory holding
/// worktrees), or `$RUSTOMIZE_CORPORA`.
pub fn corpora() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("RUSTOMIZE_CORPORA") {
        return Some(PathBuf::from(dir));
    }
    let ws = workspace();
    [
        ws.join("../shared/corpora"),
        ws.join("../../shared/corpora"),
    ]
    .into_iter()
    .find(|d| d.is_dir())
}

/// Whether `kubectl` runs here.
pub fn kubectl_available() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The real helm (`$RUSTOMIZE_HELM`, else `helm` on `PATH`), or None with the
/// skip printed past the test harness's capture, so it is always seen.
pub fn helm() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RUSTOMIZE_HELM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("helm"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: no helm binary (set RUSTOMIZE_HELM or put helm on PATH)"
        );
    }
    found
}
