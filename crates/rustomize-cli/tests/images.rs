//! `rustomize images` and image relocation.
//!
//! * Snapshots of the `images` formats (text, json, mapping) and of a deep
//!   relocation on the fixture tree `fixtures/images-inventory/input`.
//! * Relocation equals kustomize's images transformer: the relocated build of a
//!   root is byte-identical to `kubectl kustomize` of a generated overlay on it
//!   whose `images:` list maps every listed reference the same way (on the
//!   fixture, and on both Kubeflow `example` roots of `../shared/corpora`).
//!   Entries are written for the references the transformer cannot reach too,
//!   so a reference wrongly believed out of its reach shows as a difference.
//! * On Kubeflow v1.4.1, `images --deep` contains everything the field
//!   reports' `grep image: | sed` pipeline finds, and plain `images` lists
//!   exactly the values of `image` fields.
//!
//! Tests that need kubectl or the corpora print a note and pass without them.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use rustomize::relocate::ImageName;
use rustomize::{Map, Value};

mod support;
use support::{corpora, kubectl_available, workspace};

fn fixture() -> PathBuf {
    workspace().join("fixtures/images-inventory/input")
}

fn overrides_file() -> PathBuf {
    workspace().join("fixtures/images-inventory/overrides.txt")
}

/// Runs `rustomize ARGS`, which must succeed; returns stdout and stderr.
fn rustomize(args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rustomize"))
        .args(args)
        .output()
        .expect("run rustomize");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "rustomize {args:?}: {stderr}");
    (String::from_utf8(out.stdout).expect("utf-8"), stderr)
}

fn kubectl_kustomize(dir: &Path) -> String {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
            .chars()
            .take(1500)
            .collect::<String>()
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Warnings are kustomize's; the notes of `images` are ours: keep only those.
fn notes(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| l.starts_with("note:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn text_format() {
    let dir = fixture();
    let (plain, _) = rustomize(&["images", path_str(&dir)]);
    insta::assert_snapshot!("text", plain);
    let (deep, _) = rustomize(&["images", "--deep", path_str(&dir)]);
    insta::assert_snapshot!("text_deep", deep);
}

#[test]
fn json_format() {
    let dir = fixture();
    let (json, _) = rustomize(&[
        "images",
        "--deep",
        "--format",
        "json",
        "--relocate-images",
        "mirror.example:5000/kf",
        path_str(&dir),
    ]);
    insta::assert_snapshot!("json_deep", json);
}

#[test]
fn mapping_format() {
    let dir = fixture();
    let overrides = overrides_file();
    let (mapping, stderr) = rustomize(&[
        "images",
        "--deep",
        "--format",
        "mapping",
        "--relocate-images",
        "mirror.example:5000/kf",
        "--digest-tag",
        "mirrored",
        "--image-overrides",
        path_str(&overrides),
        path_str(&dir),
    ]);
    insta::assert_snapshot!("mapping_deep", mapping);
    insta::assert_snapshot!("mapping_deep_notes", notes(&stderr));
}

#[test]
fn mapping_needs_a_relocation() {
    let out = Command::new(env!("CARGO_BIN_EXE_rustomize"))
        .args(["images", "--format", "mapping", path_str(&fixture())])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(
        "mapping_without_relocation",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_overrides_name_their_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("overrides.txt");
    std::fs::write(&file, "# ok\nnginx mirror.example/nginx:1\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_rustomize"))
        .args(["build", "--image-overrides", path_str(&file)])
        .arg(fixture())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr).replace(path_str(dir.path()), "$TMP");
    insta::assert_snapshot!("bad_overrides", stderr);
}

/// A deep relocation also rewrites strings, before content hashes are taken
/// (the generated ConfigMap's name changes with its data).
#[test]
fn deep_relocation() {
    let dir = fixture();
    let (yaml, _) = rustomize(&[
        "build",
        "--relocate-images",
        "mirror.example:5000/kf",
        "--digest-tag",
        "mirrored",
        "--relocate-scope",
        "deep",
        path_str(&dir),
    ]);
    insta::assert_snapshot!("deep_relocation", yaml);
}

/// Writes, in a new temporary directory, an overlay on `root` (through a
/// symbolic link, which kustomize's default load restrictor accepts) whose
/// `images:` maps each reference `images --format json` lists as `relocation`
/// does, with `root`'s `sortOptions` (which only a root's kustomization
/// applies). Returns the directory, and how many distinct references the
/// transformer reaches and does not reach.
fn equivalent_overlay(root: &Path, relocation: &[&str]) -> (tempfile::TempDir, usize, usize) {
    let mut args = vec!["images", "--format", "json"];
    args.extend_from_slice(relocation);
    args.push(path_str(root));
    let (json, _) = rustomize(&args);
    let listed: serde_json::Value = serde_json::from_str(&json).expect("json");
    let listed = listed.as_array().expect("array");
    let (mut reachable, mut unreachable) = (0, 0);
    let mut versioned = Vec::new();
    let mut bare = Vec::new();
    for entry in listed {
        if entry["reachable"].as_bool() == Some(true) {
            reachable += 1;
        } else {
            unreachable += 1;
        }
        let reference = entry["reference"].as_str().expect("reference");
        // `null`: the relocation leaves the reference where it is.
        let Some(relocated) = entry["relocated"].as_str() else {
            continue;
        };
        // Only what the transformer reaches gets an entry: an unreachable
        // reference may still be matched where it is reachable by a name
        // written as the whole reference (a sha512 digest), which the default
        // scope does not relocate.
        if entry["valid"].as_bool() != Some(true) || entry["reachable"].as_bool() != Some(true) {
            continue;
        }
        let source = ImageName::parse(reference).expect("valid");
        let target = ImageName::parse(relocated).expect("relocated is valid");
        let mut image = Map::default();
        image.insert("name", Value::String(reference.into()));
        image.insert("newName", Value::string(target.name()));
        if let Some(tag) = target.tag {
            image.insert("newTag", Value::string(tag));
        }
        if let Some(digest) = target.digest {
            image.insert("digest", Value::string(digest));
        }
        // kustomize matches `name` followed by any tag and digest: entries for
        // versioned references come first, so a bare name's entry never sees
        // them.
        if source.tag.is_some() || source.digest.is_some() {
            versioned.push(Value::Map(image));
        } else {
            bare.push(Value::Map(image));
        }
    }
    versioned.extend(bare);
    let mut k = Map::default();
    k.insert("resources", Value::Seq(vec![Value::string("root")]));
    k.insert("images", Value::Seq(versioned));
    let text = std::fs::read_to_string(root.join("kustomization.yaml")).expect("read root");
    let docs = rustomize::parse_documents(&text, &Default::default()).expect("parse root");
    if let Some(sort) = docs.first().and_then(|d| d.get("sortOptions")) {
        k.insert("sortOptions", sort.clone());
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = root.canonicalize().expect("canonical root");
    std::os::unix::fs::symlink(&root, dir.path().join("root")).expect("symlink");
    let mut yaml = String::new();
    rustomize::write_document(&Value::Map(k), &mut yaml);
    std::fs::write(dir.path().join("kustomization.yaml"), yaml).expect("write overlay");
    (dir, reachable, unreachable)
}

/// Compares the relocated build of `root` with kubectl on the equivalent overlay.
fn assert_relocation_matches_kustomize(root: &Path, relocation: &[&str]) -> (usize, usize) {
    let (overlay, reachable, unreachable) = equivalent_overlay(root, relocation);
    let want = kubectl_kustomize(overlay.path());
    let mut args = vec!["build"];
    args.extend_from_slice(relocation);
    args.push(path_str(root));
    let (got, _) = rustomize(&args);
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "relocated build of {} differs from kubectl at line {}: ours {:?}, kustomize {:?}",
            root.display(),
            line + 1,
            got.lines().nth(line),
            want.lines().nth(line)
        );
    }
    (reachable, unreachable)
}

#[test]
fn fixture_relocation_equals_kustomize_images() {
    if !kubectl_available() {
        eprintln!("note: kubectl not found; relocation not compared with kustomize");
        return;
    }
    let overrides = overrides_file();
    let counts = assert_relocation_matches_kustomize(
        &fixture(),
        &[
            "--relocate-images",
            "mirror.example:5000/kf",
            "--digest-tag",
            "mirrored",
            "--image-overrides",
            path_str(&overrides),
        ],
    );
    // busybox, gcr.io/project/app, localhost:5000/tools/report, nginx, the
    // Workflow's runner (a `configurations` field); the ephemeral container's
    // busybox and the knative Image's queue are out of reach.
    assert_eq!(counts, (5, 2));
}

#[test]
fn kubeflow_relocation_equals_kustomize_images() {
    let (Some(corpora), true) = (corpora(), kubectl_available()) else {
        eprintln!("note: ../shared/corpora or kubectl not found; Kubeflow relocation skipped");
        return;
    };
    for (release, expected) in [("kubeflow-v1.4.1", (55, 1)), ("kubeflow-v1.10.2", (62, 2))] {
        let root = corpora.join(release).join("example");
        let tag = format!("kf-manifests-{release}");
        let counts = assert_relocation_matches_kustomize(
            &root,
            &[
                "--relocate-images",
                "reg.example:8080/library",
                "--digest-tag",
                &tag,
            ],
        );
        assert_eq!(counts, expected, "{release}: (reachable, unreachable)");
    }
}

/// The field reports' pipeline, `kustomize build | grep image: | sed … | sort -u`,
/// with its known noise cleaned: list dashes, blanks, quotes, Go templates.
fn grep_pipeline(yaml: &str) -> BTreeSet<String> {
    yaml.lines()
        .filter_map(|line| line.split_once("image:").map(|(_, rest)| rest))
        .map(|rest| rest.trim().trim_matches(['"', '\'']).trim().to_owned())
        .filter(|r| !r.is_empty() && !r.contains("{{"))
        .collect()
}

/// Every scalar under an `image` key in `docs`.
fn image_field_values(node: &Value, out: &mut BTreeSet<String>) {
    match node {
        Value::Map(map) => {
            for (key, value) in map {
                match value {
                    Value::String(s) if key == "image" && !s.is_empty() => {
                        out.insert(s.to_string());
                    }
                    _ => image_field_values(value, out),
                }
            }
        }
        Value::Seq(items) => items.iter().for_each(|i| image_field_values(i, out)),
        _ => {}
    }
}

fn lines(text: &str) -> BTreeSet<String> {
    text.lines().map(str::to_owned).collect()
}

#[test]
fn kubeflow_inventory_covers_the_grep_pipeline() {
    let (Some(corpora), true) = (corpora(), kubectl_available()) else {
        eprintln!("note: ../shared/corpora or kubectl not found; Kubeflow inventory skipped");
        return;
    };
    let root = corpora.join("kubeflow-v1.4.1/example");
    let yaml = kubectl_kustomize(&root);
    let pipeline = grep_pipeline(&yaml);
    let mut fields = BTreeSet::new();
    for doc in rustomize::parse_documents(&yaml, &Default::default()).expect("parse") {
        image_field_values(&doc, &mut fields);
    }
    let (plain, _) = rustomize(&["images", path_str(&root)]);
    let (deep, _) = rustomize(&["images", "--deep", path_str(&root)]);
    let (plain, deep) = (lines(&plain), lines(&deep));
    let missed: Vec<&String> = pipeline.difference(&deep).collect();
    assert!(missed.is_empty(), "images --deep misses {missed:?}");
    assert_eq!(plain, fields, "plain images are exactly the image fields");
    assert!(plain.is_subset(&deep));
    assert_eq!(
        (pipeline.len(), plain.len(), deep.len()),
        (60, 56, 97),
        "(grep pipeline, images, images --deep)"
    );
}

const SHA512: &str = "sha512:abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab";

/// A kustomization with one Pod using an IPv6-hosted image, a sha512-pinned
/// image and two ordinary ones; also an overrides file naming two of them
/// (one onto itself).
fn edge_tree() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = tmp.path();
    std::fs::create_dir(t.join("app")).expect("mkdir");
    std::fs::write(
        t.join("app/pod.yaml"),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: '[::1]:5000/x:1'\n  - name: b\n    image: quay.io/y@{SHA512}\n  - name: c\n    image: nginx:1.25\n  - name: d\n    image: quay.io/org/app:2\n  - name: e\n    image: org/tool:3\n"
        ),
    )
    .expect("write");
    std::fs::write(t.join("app/kustomization.yaml"), "resources:\n- pod.yaml\n").expect("write");
    std::fs::write(
        t.join("overrides.txt"),
        "nginx mirror.example/web\nquay.io/org/app quay.io/org/app\n",
    )
    .expect("write");
    tmp
}

/// Only references that move are mapped: an overrides file alone leaves the
/// others where they are, and `skopeo copy` of `SOURCE SOURCE` would push an
/// image back to its source. JSON says `relocated: null` for the same ones.
#[test]
fn mapping_leaves_out_references_that_stay() {
    let tmp = edge_tree();
    let dir = tmp.path().join("app");
    let overrides = tmp.path().join("overrides.txt");
    let (mapping, stderr) = rustomize(&[
        "images",
        "--format",
        "mapping",
        "--image-overrides",
        path_str(&overrides),
        path_str(&dir),
    ]);
    assert_eq!(
        mapping,
        "docker.io/library/nginx:1.25 mirror.example/web:1.25\n"
    );
    insta::assert_snapshot!("mapping_overrides_only_notes", notes(&stderr));
    let (json, _) = rustomize(&[
        "images",
        "--format",
        "json",
        "--image-overrides",
        path_str(&overrides),
        path_str(&dir),
    ]);
    let listed: serde_json::Value = serde_json::from_str(&json).expect("json");
    let moved: Vec<(&str, &str)> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| Some((e["reference"].as_str()?, e["relocated"].as_str()?)))
        .collect();
    assert_eq!(moved, [("nginx:1.25", "mirror.example/web:1.25")]);
}

/// IPv6 registry hosts and sha512 digests: kustomize's `images:` names cannot
/// match them (measured: `name: '[::1]:5000/x'` and `name: quay.io/y` leave
/// them as they are), so they are listed as beyond the transformer's reach,
/// left in place by the default scope (the relocated build equals kubectl on
/// the overlay of the others) and relocated by `--relocate-scope image-keys`.
#[test]
fn ipv6_hosts_and_sha512_digests_are_beyond_the_transformer() {
    let tmp = edge_tree();
    let dir = tmp.path().join("app");
    let (json, stderr) = rustomize(&[
        "images",
        "--format",
        "json",
        "--relocate-images",
        "mirror.example/m",
        path_str(&dir),
    ]);
    insta::assert_snapshot!("edge_json", json);
    insta::assert_snapshot!("edge_notes", notes(&stderr));
    let (keys, _) = rustomize(&[
        "build",
        "--relocate-images",
        "mirror.example/m",
        "--relocate-scope",
        "image-keys",
        path_str(&dir),
    ]);
    insta::assert_snapshot!("edge_image_keys_build", keys);
    if !kubectl_available() {
        eprintln!("note: kubectl not found; edge references not compared with kustomize");
        return;
    }
    let counts =
        assert_relocation_matches_kustomize(&dir, &["--relocate-images", "mirror.example/m"]);
    assert_eq!(counts, (3, 2));
    // Plain names for the two leave kustomize's output unchanged.
    let overlay = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(&dir, overlay.path().join("root")).expect("symlink");
    std::fs::write(
        overlay.path().join("kustomization.yaml"),
        "resources:\n- root\nimages:\n- name: '[::1]:5000/x'\n  newName: mirror.example/x\n- name: quay.io/y\n  newName: mirror.example/y\n",
    )
    .expect("write");
    let (plain, _) = rustomize(&["build", path_str(&dir)]);
    assert_eq!(kubectl_kustomize(overlay.path()), plain);
}

/// The overrides file is read as the loader reads files: a device or a FIFO
/// is refused before it is opened, a file over the size limit too.
#[test]
fn an_overrides_file_that_is_not_a_regular_file_is_refused() {
    let tmp = edge_tree();
    let dir = tmp.path().join("app");
    let fifo = tmp.path().join("fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo");
    let big = tmp.path().join("big.txt");
    std::fs::write(&big, "#".repeat(2048)).expect("write");
    let mut messages = String::new();
    for file in [Path::new("/dev/zero"), &fifo, &big] {
        let out = Command::new(env!("CARGO_BIN_EXE_rustomize"))
            .args(["images", "--max-file-bytes", "1024", "--image-overrides"])
            .arg(file)
            .arg(&dir)
            .output()
            .expect("run rustomize");
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        messages.push_str(&stderr.replace(path_str(tmp.path()), "[TMP]"));
    }
    insta::assert_snapshot!("overrides_not_regular", messages);
}
