//! `rustomize edit`, `create`, `version`, `completion` and `man`: each edit
//! command on a commented kustomization, with the file before and after as an
//! insta snapshot (comments and field order kept), error cases as one line and
//! exit 1, and for a representative subset the edited tree built by
//! `kubectl kustomize` and by `rustomize build` to the same bytes (skipped with
//! a message when kubectl is missing).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// The kustomization most cases start from: comments above, inside and beside
/// fields, a field kustomize would not write in this order.
const KUSTOMIZATION: &str = "\
# Production overlay of the app.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# keep the namespace in sync with the cluster
namespace: prod  # set by CI
resources:  # what we deploy
- deploy.yaml
# the service comes later
images:
- name: app
  newTag: \"1.0\"
";

const DEPLOY: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels:
    app: app
spec:
  replicas: 1
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
      - name: app
        image: app:0.1
      - name: cache
        image: redis:6
      - name: proxy
        image: docker.io/library/nginx:1.25
";

const SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: app
spec:
  selector:
    app: app
  ports:
  - port: 80
";

const PATCH: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 3
";

/// A temporary tree with the kustomization, resources and a patch.
fn tree(kustomization: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fs::write(p.join("kustomization.yaml"), kustomization).unwrap();
    fs::write(p.join("deploy.yaml"), DEPLOY).unwrap();
    fs::write(p.join("service.yaml"), SERVICE).unwrap();
    fs::write(p.join("patch.yml"), PATCH).unwrap();
    fs::write(p.join("config.properties"), "color=blue\n").unwrap();
    fs::create_dir(p.join("base")).unwrap();
    fs::write(p.join("base/kustomization.yaml"), "resources:\n- cm.yaml\n").unwrap();
    fs::write(
        p.join("base/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\ndata:\n  a: b\n",
    )
    .unwrap();
    dir
}

fn rustomize(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rustomize"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run rustomize")
}

/// Runs an edit in a fresh tree; returns the tree and the before/after text.
fn edit_in(kustomization: &str, args: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tree(kustomization);
    let out = rustomize(dir.path(), args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = fs::read_to_string(dir.path().join("kustomization.yaml")).unwrap();
    let notes = String::from_utf8_lossy(&out.stderr);
    let printed = String::from_utf8_lossy(&out.stdout);
    let mut shown = format!(
        "$ rustomize {}\n--- before\n{kustomization}--- after\n{after}",
        args.join(" ")
    );
    if !notes.is_empty() {
        shown.push_str(&format!("--- stderr\n{notes}"));
    }
    if !printed.is_empty() {
        shown.push_str(&format!("--- stdout\n{printed}"));
    }
    (dir, shown)
}

/// Builds the tree with kubectl and with rustomize and compares the bytes.
fn builds_like_kubectl(dir: &Path) {
    let Some(mut kubectl) = support::kubectl_kustomize(dir, &[]) else {
        return;
    };
    let theirs = kubectl.output().expect("run kubectl");
    let ours = rustomize(dir, &["build", "."]);
    assert!(
        theirs.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    assert!(
        ours.status.success(),
        "rustomize: {}",
        String::from_utf8_lossy(&ours.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout)
    );
}

/// Runs a command expected to fail: exit 1, one line on stderr, file unchanged.
fn fails(kustomization: &str, args: &[&str]) -> String {
    let dir = tree(kustomization);
    let out = rustomize(dir.path(), args);
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    let after = fs::read_to_string(dir.path().join("kustomization.yaml")).unwrap();
    assert_eq!(after, kustomization, "{args:?} changed the file");
    stderr
}

macro_rules! snap {
    ($name:literal, $text:expr) => {
        insta::assert_snapshot!($name, $text)
    };
}

#[test]
fn set_image_every_form() {
    let (dir, shown) = edit_in(
        KUSTOMIZATION,
        &[
            "edit",
            "set",
            "image",
            "app=registry.example.com/team/app:1.2.3",
            "redis@sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3",
            "docker.io/library/nginx=mirror:5000/nginx",
        ],
    );
    snap!("set_image_every_form", shown);
    builds_like_kubectl(dir.path());
}

#[test]
fn set_image_tag_only_and_new_name_with_digest() {
    let (dir, shown) = edit_in(
        KUSTOMIZATION,
        &[
            "edit",
            "set",
            "image",
            "app:2.0",
            "redis=quay.io/redis:7@sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3",
        ],
    );
    snap!("set_image_tag_only", shown);
    builds_like_kubectl(dir.path());
}

#[test]
fn set_image_star_keeps_the_files_values() {
    let k = KUSTOMIZATION.replace(
        "  newTag: \"1.0\"\n",
        "  newName: old/app\n  newTag: \"1.0\"\n",
    );
    let (dir, shown) = edit_in(&k, &["edit", "set", "image", "app=*:3.0", "cache=*:1"]);
    snap!("set_image_star", shown);
    builds_like_kubectl(dir.path());
}

#[test]
fn set_image_rejects_a_bare_name() {
    let e = fails(KUSTOMIZATION, &["edit", "set", "image", "app"]);
    assert!(e.contains("invalid format of image"), "{e}");
}

#[test]
fn set_namespace_prefix_suffix() {
    let (_, a) = edit_in(KUSTOMIZATION, &["edit", "set", "namespace", "staging"]);
    let (_, b) = edit_in(KUSTOMIZATION, &["edit", "set", "nameprefix", "acme-"]);
    let (dir, c) = edit_in(KUSTOMIZATION, &["edit", "set", "namesuffix", "-v2"]);
    snap!("set_namespace_prefix_suffix", format!("{a}\n{b}\n{c}"));
    builds_like_kubectl(dir.path());
    let e = fails(KUSTOMIZATION, &["edit", "set", "namespace", "Not_Valid"]);
    assert!(e.contains("is not a valid namespace name"), "{e}");
}

#[test]
fn set_label_annotation_replicas() {
    let (_, a) = edit_in(
        KUSTOMIZATION,
        &["edit", "set", "label", "tier:web", "team:\"a\""],
    );
    let (_, b) = edit_in(KUSTOMIZATION, &["edit", "set", "annotation", "owner:ops"]);
    let (dir, c) = edit_in(KUSTOMIZATION, &["edit", "set", "replicas", "app=5"]);
    snap!("set_label_annotation_replicas", format!("{a}\n{b}\n{c}"));
    builds_like_kubectl(dir.path());
    let e = fails(KUSTOMIZATION, &["edit", "set", "replicas", "app:5"]);
    assert!(e.contains("<name>=<count>"), "{e}");
}

#[test]
fn add_resource_component_base() {
    let (dir, a) = edit_in(
        KUSTOMIZATION,
        &["edit", "add", "resource", "*.yaml", "base"],
    );
    builds_like_kubectl(dir.path());
    let (_, b) = edit_in(
        KUSTOMIZATION,
        &["edit", "add", "resource", "--no-verify", "later.yaml"],
    );
    let (_, c) = edit_in(KUSTOMIZATION, &["edit", "add", "base", "base"]);
    snap!("add_resource_component_base", format!("{a}\n{b}\n{c}"));
    let e = fails(KUSTOMIZATION, &["edit", "add", "resource", "missing.yaml"]);
    assert!(e.contains("missing.yaml has no match"), "{e}");
    let e = fails(KUSTOMIZATION, &["edit", "add", "base", "nowhere"]);
    assert!(e.contains("nowhere does not exist"), "{e}");
}

#[test]
fn add_component() {
    let dir = tree(KUSTOMIZATION);
    fs::create_dir(dir.path().join("comp")).unwrap();
    let out = rustomize(dir.path(), &["edit", "add", "component", "comp"]);
    assert!(out.status.success());
    let after = fs::read_to_string(dir.path().join("kustomization.yaml")).unwrap();
    assert!(after.ends_with("components:\n- comp\n"), "{after}");
}

#[test]
fn add_patch() {
    let (dir, a) = edit_in(
        KUSTOMIZATION,
        &[
            "edit",
            "add",
            "patch",
            "--path",
            "patch.yml",
            "--kind",
            "Deployment",
            "--name",
            "app",
        ],
    );
    builds_like_kubectl(dir.path());
    let (_, b) = edit_in(
        KUSTOMIZATION,
        &[
            "edit",
            "add",
            "patch",
            "--patch",
            "- op: replace\n  path: /spec/replicas\n  value: 2",
            "--kind",
            "Deployment",
        ],
    );
    snap!("add_patch", format!("{a}\n{b}"));
    fails(KUSTOMIZATION, &["edit", "add", "patch"]);
}

#[test]
fn add_configmap_and_secret() {
    let (dir, a) = edit_in(
        KUSTOMIZATION,
        &[
            "edit",
            "add",
            "configmap",
            "settings",
            "--from-literal=mode=fast",
            "--from-file=config.properties",
        ],
    );
    builds_like_kubectl(dir.path());
    let (dir, b) = edit_in(
        KUSTOMIZATION,
        &[
            "edit",
            "add",
            "secret",
            "creds",
            "--from-literal=password=s3cret",
            "--disableNameSuffixHash",
        ],
    );
    builds_like_kubectl(dir.path());
    snap!("add_configmap_and_secret", format!("{a}\n{b}"));
    let e = fails(KUSTOMIZATION, &["edit", "add", "configmap", "x"]);
    assert!(e.contains("at least from-env-file"), "{e}");
}

#[test]
fn add_label_and_annotation() {
    let (dir, a) = edit_in(KUSTOMIZATION, &["edit", "add", "label", "env:prod"]);
    builds_like_kubectl(dir.path());
    let (dir, b) = edit_in(
        KUSTOMIZATION,
        &[
            "edit",
            "add",
            "label",
            "--without-selector",
            "--include-templates",
            "env:prod",
        ],
    );
    builds_like_kubectl(dir.path());
    let (_, c) = edit_in(
        KUSTOMIZATION,
        &["edit", "add", "annotation", "note:hello world"],
    );
    snap!("add_label_and_annotation", format!("{a}\n{b}\n{c}"));
}

/// A kustomization with everything `remove` can take away.
const FULL: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deploy.yaml   # the app
- service.yaml
# labels for every object
commonLabels:
  env: prod
  tier: web
commonAnnotations:
  owner: ops
patches:
- path: patch.yml
configMapGenerator:
- name: settings
  literals:
  - a=b
- name: other
  literals:
  - c=d
";

#[test]
fn remove_each_kind() {
    let (dir, a) = edit_in(FULL, &["edit", "remove", "resource", "serv*.yaml"]);
    builds_like_kubectl(dir.path());
    let (_, b) = edit_in(FULL, &["edit", "remove", "label", "tier"]);
    let (_, c) = edit_in(FULL, &["edit", "remove", "annotation", "owner"]);
    let (_, d) = edit_in(FULL, &["edit", "remove", "patch", "--path", "patch.yml"]);
    let (_, e) = edit_in(FULL, &["edit", "remove", "configmap", "other,absent"]);
    snap!("remove_each_kind", format!("{a}\n{b}\n{c}\n{d}\n{e}"));
    let err = fails(FULL, &["edit", "remove", "label", "nope"]);
    assert!(err.contains("label nope is not defined"), "{err}");
}

#[test]
fn fix_rewrites_deprecated_fields() {
    let old = "\
# an old overlay
bases:
- base
resources:
- deploy.yaml
commonLabels:  # everywhere
  env: prod
patchesStrategicMerge:
- patch.yml
patchesJson6902:
- target:
    kind: Deployment
    name: app
  patch: |-
    - op: add
      path: /metadata/annotations
      value: {fixed: \"yes\"}
";
    let (dir, shown) = edit_in(old, &["edit", "fix"]);
    snap!("fix", shown);
    builds_like_kubectl(dir.path());
    fails(old, &["edit", "fix", "--vars"]);
}

#[test]
fn missing_kustomization_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = rustomize(dir.path(), &["edit", "set", "namespace", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: Missing kustomization file 'kustomization.yaml'.\n"
    );
}

#[test]
fn unusual_layout_is_refused() {
    let e = fails(
        "{\"resources\": [deploy.yaml]}\n",
        &["edit", "set", "namespace", "x"],
    );
    assert!(e.contains("cannot edit this layout"), "{e}");
}

#[test]
fn create_with_every_flag() {
    let dir = tree("");
    fs::remove_file(dir.path().join("kustomization.yaml")).unwrap();
    fs::remove_file(dir.path().join("patch.yml")).unwrap();
    let out = rustomize(
        dir.path(),
        &[
            "create",
            "--autodetect",
            "--recursive",
            "--namespace",
            "prod",
            "--nameprefix",
            "p-",
            "--namesuffix",
            "-s",
            "--labels",
            "a:b,c:d",
            "--annotations",
            "x:y",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(dir.path().join("kustomization.yaml")).unwrap();
    snap!("create", text);
    builds_like_kubectl(dir.path());
    let again = rustomize(dir.path(), &["create"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&again.stderr),
        "Error: kustomization file already exists\n"
    );
}

#[test]
fn create_with_resources() {
    let dir = tree("");
    fs::remove_file(dir.path().join("kustomization.yaml")).unwrap();
    let out = rustomize(
        dir.path(),
        &["create", "--resources", "deploy.yaml,service.yaml"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(dir.path().join("kustomization.yaml")).unwrap();
    assert_eq!(
        text,
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deploy.yaml\n- service.yaml\n"
    );
}

#[test]
fn version_completion_and_man() {
    let dir = tempfile::tempdir().unwrap();
    let out = rustomize(dir.path(), &["version"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("kustomize v5.5.0"), "{text}");
    for shell in ["bash", "zsh", "fish"] {
        let out = rustomize(dir.path(), &["completion", shell]);
        assert!(out.status.success());
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains("edit") && script.contains("nameprefix"),
            "{shell}"
        );
    }
    let out = rustomize(dir.path(), &["man"]);
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH rustomize"),
        "{page}"
    );
}
