//! External plugins through the CLI: legacy exec plugins (compared byte for
//! byte with `kubectl kustomize --enable-alpha-plugins`, which runs them too),
//! KRM exec functions (kubectl v5.5.0 has no `--enable-exec`, so their output
//! is checked directly), and the errors when plugins are off or fail.
//! Every plugin is a small sh script the test writes.

#![allow(clippy::unwrap_used)] // a test's setup failing is the test failing

mod support;

use support::write;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const RESOURCES: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  path: /srv/app
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
      - name: app
        image: registry.example/app:1.0
        envFrom:
        - configMapRef:
            name: app-config
";

fn script(path: &Path, body: &str) {
    write(path, &format!("#!/bin/sh\n{body}\n"));
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A tree with a kustomization and the resources above; returns its root.
fn tree(kustomization: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("k");
    write(&root.join("kustomization.yaml"), kustomization);
    write(&root.join("resources.yaml"), RESOURCES);
    (tmp, root)
}

fn rustomize(args: &[&str], dir: &Path, plugin_home: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rustomize"));
    cmd.arg("build").args(args).arg(dir);
    if let Some(home) = plugin_home {
        cmd.env("KUSTOMIZE_PLUGIN_HOME", home);
    }
    cmd.output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "expected exit 1");
    assert!(out.stdout.is_empty(), "partial output on failure");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    err
}

const LEGACY_KUSTOMIZATION: &str = "resources:
- resources.yaml
generators:
- |-
  apiVersion: example.com/v1
  kind: MkCm
  metadata:
    name: m
  argsOneLiner: hello world
transformers:
- |-
  apiVersion: example.com/v1
  kind: Mirror
  metadata:
    name: a
";

fn legacy_home(tmp: &Path) -> PathBuf {
    let home = tmp.join("plugins");
    script(
        &home.join("example.com/v1/mkcm/MkCm"),
        "printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: legacy-cm\\ndata:\\n  arg: \"%s\"\\n' \"$2\"",
    );
    script(
        &home.join("example.com/v1/mirror/Mirror"),
        "sed 's/registry.example/mirror.example/'",
    );
    home
}

#[test]
fn legacy_exec_plugins_build_like_kubectl() {
    let (tmp, root) = tree(LEGACY_KUSTOMIZATION);
    let home = legacy_home(tmp.path());
    let ours = stdout(&rustomize(&["--enable-alpha-plugins"], &root, Some(&home)));
    assert!(ours.contains("image: mirror.example/app:1.0"), "{ours}");
    assert!(ours.contains("arg: hello"), "{ours}");
    let Some(mut kubectl) = support::kubectl_kustomize(&root, &["--enable-alpha-plugins"]) else {
        return;
    };
    let kube = kubectl
        .env("KUSTOMIZE_PLUGIN_HOME", &home)
        .output()
        .unwrap();
    assert!(kube.status.success());
    assert_eq!(ours, String::from_utf8(kube.stdout).unwrap());
}

#[test]
fn plugins_are_off_by_default() {
    let (tmp, root) = tree(LEGACY_KUSTOMIZATION);
    let home = legacy_home(tmp.path());
    let err = one_line_error(&rustomize(&[], &root, Some(&home)));
    assert!(
        err.contains("external plugins disabled; unable to load external plugin 'MkCm'"),
        "{err}"
    );
}

const KRM_KUSTOMIZATION: &str = "resources:
- resources.yaml
generators:
- |-
  apiVersion: example.com/v1
  kind: Gen
  metadata:
    name: g
    annotations:
      config.kubernetes.io/function: |
        exec:
          path: ./gen.sh
transformers:
- |-
  apiVersion: example.com/v1
  kind: Mirror
  metadata:
    name: t
    annotations:
      config.kubernetes.io/function: |
        exec:
          path: ./mirror.sh
";

fn krm_tree() -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = tree(KRM_KUSTOMIZATION);
    script(
        &root.join("gen.sh"),
        "cat >/dev/null\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: generated\\n  annotations:\\n    kustomize.config.k8s.io/needs-hash: \"true\"\\ndata:\\n  a: b\\n'",
    );
    script(
        &root.join("mirror.sh"),
        "sed 's/registry.example/mirror.example/'",
    );
    (tmp, root)
}

#[test]
fn krm_exec_functions_generate_and_transform() {
    let (_tmp, root) = krm_tree();
    let out = stdout(&rustomize(
        &["--enable-alpha-plugins", "--enable-exec"],
        &root,
        None,
    ));
    // The generated ConfigMap asked for a hash suffix; the transformer saw
    // every resource, the generated one included, and kept their ids.
    assert!(out.contains("name: generated-"), "{out}");
    assert!(out.contains("image: mirror.example/app:1.0"), "{out}");
    assert!(out.contains("name: app-config\n"), "{out}");
    assert!(!out.contains("config.kubernetes.io/index"), "{out}");
}

#[test]
fn krm_exec_functions_are_skipped_without_enable_exec() {
    // kustomize v5.5.0 runs no exec function unless exec is enabled, silently.
    let (_tmp, root) = krm_tree();
    let out = stdout(&rustomize(&["--enable-alpha-plugins"], &root, None));
    assert!(!out.contains("generated"), "{out}");
    assert!(out.contains("image: registry.example/app:1.0"), "{out}");
}

#[test]
fn a_failing_plugin_fails_the_build_in_one_line() {
    let (_tmp, root) = krm_tree();
    script(
        &root.join("mirror.sh"),
        "echo 'no key for secret' >&2\nexit 3",
    );
    let err = one_line_error(&rustomize(
        &["--enable-alpha-plugins", "--enable-exec"],
        &root,
        None,
    ));
    assert!(err.contains("exit status 3"), "{err}");
    assert!(err.contains("no key for secret"), "{err}");
}

#[test]
fn a_hanging_plugin_times_out() {
    let (_tmp, root) = krm_tree();
    script(&root.join("mirror.sh"), "sleep 30");
    let err = one_line_error(&rustomize(
        &[
            "--enable-alpha-plugins",
            "--enable-exec",
            "--exec-timeout",
            "1",
        ],
        &root,
        None,
    ));
    assert!(err.contains("timed out") || err.contains("time"), "{err}");
}
