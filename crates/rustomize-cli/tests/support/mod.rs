//! What several test binaries need: the workspace root, the shared corpora,
//! kubectl and helm, writing scratch trees and running git on scratch
//! repositories. Each binary uses some of it.
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

/// `kubectl kustomize ARGS DIR` (user git config ignored, so `file://`
/// remotes resolve alike for every user), ready for more environment and to
/// be run; None, with "skipped" printed, where kubectl does not run here.
pub fn kubectl_kustomize(dir: &Path, args: &[&str]) -> Option<Command> {
    if !kubectl_available() {
        println!("skipped: kubectl not found, output not compared");
        return None;
    }
    let mut cmd = Command::new("kubectl");
    cmd.arg("kustomize")
        .args(args)
        .arg(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    Some(cmd)
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

/// Writes `text` to `path`, creating its directory. Panics on failure (a
/// test's setup failing is the test failing).
pub fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Runs `git ARGS` in `dir` with a fixed identity and no user config; its
/// trimmed stdout. Panics when git fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap_or_else(|e| panic!("git does not run: {e}"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
