//! The command line itself: help text (snapshot), exit codes, `-o`, and that
//! errors leave stdout empty.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn rustomize() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rustomize"))
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello/overlays/production")
}

#[test]
fn build_help_text() {
    let out = rustomize().args(["build", "--help"]).output().expect("run");
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn bad_flag_exits_1_with_nothing_on_stdout() {
    let out = rustomize()
        .args(["build", "--no-such-flag"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(!out.stderr.is_empty());
}

#[test]
fn missing_dir_exits_1_with_one_line() {
    let out = rustomize()
        .args(["build", "/no/such/dir"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/no/such/dir"), "{stderr}");
}

#[test]
fn output_flag_writes_the_same_bytes_as_stdout() {
    let stdout = rustomize()
        .arg("build")
        .arg(example())
        .output()
        .expect("run");
    assert!(stdout.status.success());
    let file = std::env::temp_dir().join(format!("rustomize-cli-test-{}.yaml", std::process::id()));
    let written = rustomize()
        .arg("build")
        .arg(example())
        .arg("-o")
        .arg(&file)
        .output()
        .expect("run");
    assert!(written.status.success());
    assert!(written.stdout.is_empty());
    let bytes = std::fs::read(&file).expect("output file");
    let _ = std::fs::remove_file(&file);
    assert_eq!(bytes, stdout.stdout);
}

#[test]
fn version_is_printed() {
    let out = rustomize().arg("--version").output().expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("rustomize "));
}
