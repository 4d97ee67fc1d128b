//! A build over an in-memory file system gives the bytes of the same build on
//! disk: the `examples/` trees, a generated tree and a sample of the recorded
//! fixtures, each copied from disk into a `MemoryFs` at the same absolute path.
//! Also: 8 concurrent builds in one process give identical bytes, the load
//! restrictor holds in memory (symlinks included), and Helm refuses memory.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rustomize::{Error, Kustomizer, LoadRestrictor, MemoryFs};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `tree` (on disk) copied into a `MemoryFs` at the same absolute path.
fn in_memory(tree: &Path) -> MemoryFs {
    let fs = MemoryFs::new();
    fs.copy_from_disk(tree, tree).expect("copy into memory");
    fs
}

/// The output, or the error line, of a build.
fn outcome(result: Result<rustomize::Build, Error>) -> String {
    match result {
        Ok(build) => {
            let mut streamed = Vec::new();
            build.write_to(&mut streamed).unwrap();
            let yaml = build.to_yaml();
            assert_eq!(streamed, yaml.as_bytes(), "write_to and to_yaml agree");
            format!("{yaml}warnings: {:?}", build.warnings())
        }
        Err(e) => format!("error: {}", e.full_message()),
    }
}

/// Builds `dir` (inside `tree`) from disk and from memory; both must agree.
fn same_from_memory(tree: &Path, dir: &Path) -> String {
    let disk = outcome(Kustomizer::new().build(dir));
    let memory = outcome(Kustomizer::new().file_system(in_memory(tree)).build(dir));
    assert_eq!(
        memory,
        disk,
        "{}: memory and disk builds differ",
        dir.display()
    );
    disk
}

/// Every directory under `root` holding a kustomization file.
fn kustomization_dirs(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n == "kustomization.yaml") {
                found.push(dir.clone());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn examples_build_the_same_from_memory() {
    let examples = workspace().join("examples");
    let dirs = kustomization_dirs(&examples);
    assert!(dirs.len() >= 5, "{dirs:?}");
    for dir in &dirs {
        let out = same_from_memory(&examples, dir);
        assert!(!out.starts_with("error:"), "{}: {out}", dir.display());
    }
}

/// A base of `n` objects, a component, and overlays stacking prefixes,
/// patches, generators, labels and images on it.
fn generate_tree(root: &Path, n: usize) {
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let mut base = String::from("resources:\n");
    for i in 0..n {
        writeln!(base, "- app-{i}.yaml").unwrap();
        write(
            &format!("base/app-{i}.yaml"),
            &format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n\
                 spec:\n  replicas: {i}\n  template:\n    spec:\n      containers:\n\
                 \x20     - name: main\n        image: registry.example/app-{i}:1.{i}\n\
                 \x20       envFrom:\n        - configMapRef:\n            name: settings\n"
            ),
        );
    }
    base.push_str(
        "configMapGenerator:\n- name: settings\n  literals:\n  - MODE=base\n  files:\n  - conf/app.properties\n",
    );
    write("base/kustomization.yaml", &base);
    write("base/conf/app.properties", "threads=4\nlog=info\n");
    write(
        "components/tls/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n\
         secretGenerator:\n- name: tls\n  literals:\n  - cert=abc\n",
    );
    for (env, prefix) in [("staging", "stg-"), ("production", "prod-")] {
        write(
            &format!("overlays/{env}/kustomization.yaml"),
            &format!(
                "resources:\n- ../../base\ncomponents:\n- ../../components/tls\n\
                 namePrefix: {prefix}\nnamespace: {env}\nlabels:\n- pairs:\n    env: {env}\n\
                 \x20 includeSelectors: true\n\
                 images:\n- name: registry.example/app-0\n  newTag: \"2.0\"\n\
                 patches:\n- path: replicas.yaml\n  target:\n    kind: Deployment\n\
                 configMapGenerator:\n- name: settings\n  behavior: merge\n  literals:\n  - MODE={env}\n"
            ),
        );
        write(
            &format!("overlays/{env}/replicas.yaml"),
            "- op: replace\n  path: /spec/replicas\n  value: 3\n",
        );
    }
    write(
        "kustomization.yaml",
        "resources:\n- overlays/staging\n- overlays/production\n",
    );
}

#[test]
fn generated_tree_builds_the_same_from_memory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    generate_tree(&root, 25);
    let out = same_from_memory(&root, &root);
    assert!(out.contains("name: prod-app-24"), "{out}");
    assert_eq!(out.matches("kind: Deployment").count(), 50);
}

/// Fixtures with no extra flags and nothing that needs the disk (Helm, exec
/// plugins), every few taken so that the sample spans the fixture families.
fn fixture_sample(count: usize) -> Vec<(PathBuf, PathBuf)> {
    let root = workspace().join("fixtures");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("input").is_dir() && !p.join("args").exists())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_lowercase();
            !name.contains("helm") && !name.contains("exec") && !name.contains("plugin")
        })
        .collect();
    cases.sort();
    let step = (cases.len() / count).max(1);
    cases
        .into_iter()
        .step_by(step)
        .take(count)
        .map(|case| {
            let input = case.join("input");
            let target = match std::fs::read_to_string(case.join("RUN")) {
                Ok(run) => input.join(run.trim()),
                Err(_) => input.clone(),
            };
            (input, target)
        })
        .collect()
}

#[test]
fn fixtures_build_the_same_from_memory() {
    let sample = fixture_sample(30);
    assert_eq!(sample.len(), 30);
    for (input, target) in &sample {
        same_from_memory(input, target);
    }
}

#[test]
fn eight_concurrent_builds_give_identical_bytes() {
    let examples = workspace().join("examples");
    let dir = examples.join("hello/overlays/production");
    let expected = outcome(Kustomizer::new().build(&dir));
    // One Kustomizer (and one MemoryFs) shared by every thread.
    let kustomizer = Kustomizer::new().file_system(in_memory(&examples));
    let outputs: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| outcome(kustomizer.build(&dir))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for out in outputs {
        assert_eq!(out, expected);
    }
}

#[test]
fn restrictor_holds_in_memory() {
    let fs = MemoryFs::new();
    fs.add_file(
        "/secret/key.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: key\n",
    );
    fs.add_symlink("/app/key.yaml", "/secret/key.yaml");
    fs.add_file("/app/kustomization.yaml", "resources:\n- key.yaml\n");
    fs.add_file(
        "/dots/kustomization.yaml",
        "resources:\n- ../secret/key.yaml\n",
    );
    let kustomizer = Kustomizer::new().file_system(fs);
    for dir in ["/app", "/dots"] {
        let err = kustomizer.build(dir).unwrap_err();
        assert!(
            matches!(err.root_cause(), Error::OutsideRoot { .. }),
            "{dir}: {}",
            err.full_message()
        );
    }
    // Lifted, the same trees build.
    let lifted = kustomizer.clone().load_restrictor(LoadRestrictor::None);
    for dir in ["/app", "/dots"] {
        assert_eq!(lifted.build(dir).unwrap().resources()[0].name(), "key");
    }
}

/// Paths are cleaned as text before any symlink is resolved, in memory as
/// on disk (kustomize's `filepath.Join`): a `..` cancels the link's name.
#[test]
fn dotdot_after_a_symlink_is_cleaned_in_memory() {
    let cm = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    let fs = MemoryFs::new();
    fs.add_file("/app/sub/cm.yaml", cm("inside"));
    fs.add_file("/secret/cm.yaml", cm("outside"));
    fs.add_dir("/secret/deep");
    fs.add_symlink("/app/sub/link", "/secret/deep");
    fs.add_file(
        "/app/kustomization.yaml",
        "resources:\n- sub/link/../cm.yaml\n",
    );
    fs.add_file(
        "/above/app/kustomization.yaml",
        "resources:\n- link/../../cm.yaml\n",
    );
    fs.add_file("/above/cm.yaml", cm("above"));
    fs.add_dir("/above/app/d/e");
    fs.add_symlink("/above/app/link", "/above/app/d/e");
    let kustomizer = Kustomizer::new().file_system(fs);
    let lifted = kustomizer.clone().load_restrictor(LoadRestrictor::None);
    for k in [&kustomizer, &lifted] {
        assert_eq!(k.build("/app").unwrap().resources()[0].name(), "inside");
        // The build argument too.
        assert_eq!(
            k.build("/app/sub/link/../..").unwrap().resources()[0].name(),
            "inside"
        );
    }
    // Cleaned, `link/../../cm.yaml` is above the root (through the link it
    // would be /above/app/d/cm.yaml, missing).
    let err = kustomizer.build("/above/app").unwrap_err();
    assert!(
        matches!(err.root_cause(), Error::OutsideRoot { .. }),
        "{}",
        err.full_message()
    );
    assert_eq!(
        lifted.build("/above/app").unwrap().resources()[0].name(),
        "above"
    );
}

#[test]
fn limits_and_causes_hold_in_memory() {
    let fs = MemoryFs::new();
    fs.add_file("/big/kustomization.yaml", "resources:\n- big.yaml\n");
    fs.add_file("/big/big.yaml", "x".repeat(2000));
    fs.add_symlink("/loop/kustomization.yaml", "/loop/kustomization.yaml");
    fs.add_file("/dangling/kustomization.yaml", "resources:\n- gone.yaml\n");
    fs.add_symlink("/dangling/gone.yaml", "/nowhere.yaml");
    let mut kustomizer = Kustomizer::new().file_system(fs);
    kustomizer.options_mut().limits.max_bytes = 1000;
    let err = kustomizer.build("/big").unwrap_err();
    assert!(
        matches!(
            err.file_cause(),
            Some(rustomize::FileCause::TooLarge { .. })
        ),
        "{}",
        err.full_message()
    );
    let err = kustomizer.build("/loop").unwrap_err();
    assert!(
        matches!(err.file_cause(), Some(rustomize::FileCause::Loop)),
        "{}",
        err.full_message()
    );
    let err = kustomizer.build("/dangling").unwrap_err();
    assert!(
        matches!(err.file_cause(), Some(rustomize::FileCause::Dangling)),
        "{}",
        err.full_message()
    );
}

#[test]
fn helm_needs_a_disk() {
    let fs = MemoryFs::new();
    fs.add_file(
        "/app/kustomization.yaml",
        "helmCharts:\n- name: chart\n  repo: https://charts.example\n",
    );
    let mut kustomizer = Kustomizer::new().file_system(fs);
    kustomizer.options_mut().helm.enabled = true;
    let err = kustomizer.build("/app").unwrap_err().full_message();
    assert!(err.contains("needs a file system on disk"), "{err}");
}

#[test]
fn error_chains_print_each_cause_once() {
    let fs = MemoryFs::new();
    fs.add_file("/app/kustomization.yaml", "resources:\n- missing.yaml\n");
    let kustomizer = Kustomizer::new().file_system(fs);
    // The root is a file: the error names it, its source says why.
    let err = kustomizer.build("/app/kustomization.yaml").unwrap_err();
    assert_eq!(err.path(), Path::new("/app/kustomization.yaml"));
    let line = err.full_message();
    assert_eq!(line, "/app/kustomization.yaml: not a directory");
    // Walking the chain by hand gives the same line, and no part repeats.
    let mut parts = vec![err.to_string()];
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        parts.push(c.to_string());
        cause = c.source();
    }
    assert_eq!(parts.len(), 2);
    assert_eq!(parts.join(": "), line);
    for pair in parts.windows(2) {
        assert!(!pair[0].contains(&pair[1]), "{line}");
    }
}
