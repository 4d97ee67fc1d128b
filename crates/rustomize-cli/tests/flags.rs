//! Every flag `kubectl kustomize` accepts is accepted by `rustomize build`:
//! `--reorder` is implemented, the flags for KRM functions and plugins fail with
//! one line naming the flag; and `-o DIR` writes kustomize's files (recorded
//! from `kubectl kustomize TREE -o DIR` under `tests/outdir/*/expected`).
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rustomize(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rustomize"))
        .args(args)
        .output()
        .expect("run")
}

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/outdir")
        .join(name)
}

fn tree(name: &str) -> String {
    case(name).join("tree").to_string_lossy().into_owned()
}

/// Runs `build TREE FLAG`, expecting exit 1 and one line, which it returns.
fn fails(flag: &[&str]) -> String {
    let mut args = vec!["build", "-"];
    let dir = tree("multi");
    args[1] = &dir;
    args.extend_from_slice(flag);
    let out = rustomize(&args);
    assert_eq!(out.status.code(), Some(1), "{flag:?}");
    assert!(out.stdout.is_empty(), "{flag:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn function_and_plugin_flags_are_not_supported_yet() {
    let lines: Vec<String> = [
        &["--as-current-user"][..],
        &["--as-current-user=true"],
        &["-e", "A=b"],
        &["--env=A"],
        &["--mount", "type=bind,src=/tmp,dst=/x"],
        &["--network"],
        &["--network-name", "bridge"],
    ]
    .iter()
    .map(|flag| format!("{flag:?} => {}", fails(flag)))
    .collect();
    insta::assert_snapshot!(lines.concat());
}

#[test]
fn function_flags_given_false_change_nothing() {
    let dir = tree("multi");
    let plain = rustomize(&["build", &dir]);
    let falses = rustomize(&[
        "build",
        &dir,
        "--enable-alpha-plugins=false",
        "--enable-exec=false",
        "--as-current-user=false",
        "--network=false",
    ]);
    assert!(plain.status.success() && falses.status.success());
    assert_eq!(plain.stdout, falses.stdout);
    assert!(falses.stderr.is_empty());
}

/// Plugins enabled on a tree that has none change nothing.
#[test]
fn plugin_flags_without_plugins_change_nothing() {
    let dir = tree("multi");
    let plain = rustomize(&["build", &dir]);
    let enabled = rustomize(&["build", &dir, "--enable-alpha-plugins", "--enable-exec"]);
    assert!(plain.status.success() && enabled.status.success());
    assert_eq!(plain.stdout, enabled.stdout);
    assert!(enabled.stderr.is_empty());
}

/// `--reorder none` keeps input order, `legacy` is the default order; both
/// print kubectl's deprecation line (recorded output in `reorder-*.yaml`).
#[test]
fn reorder_flag() {
    let dir = tree("multi");
    for order in ["none", "legacy"] {
        let out = rustomize(&["build", &dir, "--reorder", order]);
        assert!(out.status.success(), "{order}");
        let expected =
            std::fs::read(case("multi").join(format!("reorder-{order}.yaml"))).expect("recorded");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&expected)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "Flag --reorder has been deprecated, use the new 'sortOptions' field in \
             kustomization.yaml instead.\n"
        );
    }
    // kubectl's deprecation line comes first, then the error.
    let bad = rustomize(&["build", &dir, "--reorder=bogus"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(bad.stdout.is_empty());
    insta::assert_snapshot!(String::from_utf8_lossy(&bad.stderr));
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    files.sort();
    files
}

/// `-o DIR`, file by file against kubectl's: several kinds and namespaces
/// (prefixed by namespace), one namespace (not prefixed, and two names that
/// differ only in case: the later resource's file wins).
#[test]
fn output_directory_matches_kubectl() {
    for name in ["multi", "single"] {
        let out = tempfile::tempdir().expect("tempdir");
        let run = rustomize(&[
            "build",
            &tree(name),
            "-o",
            out.path().to_str().expect("utf-8"),
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(run.stdout.is_empty());
        let ours = files(out.path());
        let theirs = files(&case(name).join("expected"));
        assert_eq!(
            ours.iter().map(|f| &f.0).collect::<Vec<_>>(),
            theirs.iter().map(|f| &f.0).collect::<Vec<_>>(),
            "{name}"
        );
        for ((file, a), (_, b)) in ours.iter().zip(&theirs) {
            assert_eq!(
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b),
                "{name}/{file}"
            );
        }
    }
}
