//! Many roots in one run: `build --all` equals one build per root (on a small
//! tree with shared bases, and on the Kubeflow corpus when present), `--shard`
//! partitions the roots, `--keep-going` and exit codes, and `affected`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rustomize() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rustomize"))
}

fn run(args: &[&str]) -> Output {
    rustomize().args(args).output().expect("run rustomize")
}

/// `rustomize build --all TREE -o OUT_DIR` with `flags` after.
fn build_all(tree: &str, out_dir: &str, flags: &[&str]) -> Output {
    let mut args = vec!["build", "--all", tree, "-o", out_dir];
    args.extend_from_slice(flags);
    run(&args)
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A scratch tree, removed when dropped.
/// A scratch tree (canonical root, and the directory removed on drop).
struct Tree(PathBuf, #[allow(dead_code)] tempfile::TempDir); // the second is held for its drop

impl Tree {
    fn new(name: &str) -> Tree {
        let dir = tempfile::Builder::new()
            .prefix(&format!("rustomize-{name}-"))
            .tempdir()
            .unwrap();
        Tree(dir.path().canonicalize().unwrap(), dir)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.0.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn path(&self, rel: &str) -> String {
        self.0.join(rel).to_string_lossy().into_owned()
    }
}

/// Two apps over one shared base and one shared component, overlays with
/// prefixes, namespaces, patches and generators, and an `all` root including
/// overlays of both (so bases are reached through several paths).
fn shared_tree(name: &str) -> Tree {
    let t = Tree::new(name);
    t.write(
        "base/kustomization.yaml",
        "resources:\n- deployment.yaml\n- service.yaml\nconfigMapGenerator:\n- name: cfg\n  literals:\n  - a=1\n",
    );
    t.write(
        "base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        envFrom:\n        - configMapRef:\n            name: cfg\n",
    );
    t.write(
        "base/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n",
    );
    t.write(
        "component/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations:\n  team: blue\n",
    );
    t.write(
        "apps/one/prod/kustomization.yaml",
        "namePrefix: one-\nnamespace: prod\nresources:\n- ../../../base\ncomponents:\n- ../../../component\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: add\n      path: /spec/replicas\n      value: 3\n",
    );
    t.write(
        "apps/one/dev/kustomization.yaml",
        "namePrefix: one-dev-\nresources:\n- ../../../base\nimages:\n- name: nginx\n  newTag: \"1.25\"\n",
    );
    t.write(
        "apps/two/kustomization.yaml",
        "namespace: two\nresources:\n- ../../base\n- extra.yaml\n",
    );
    t.write(
        "apps/two/extra.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: bot\n",
    );
    t.write(
        "all/kustomization.yaml",
        "resources:\n- ../apps/one/prod\n- ../apps/two\ncommonLabels:\n  suite: all\n",
    );
    t
}

const SHARED_ROOTS: [&str; 2] = ["all", "apps/one/dev"];
/// With `--include-bases`.
const EVERY_KUSTOMIZATION: [&str; 5] = ["all", "apps/one/dev", "apps/one/prod", "apps/two", "base"];

#[test]
fn roots_are_kustomizations_no_other_includes() {
    let t = shared_tree("roots");
    let out = run(&["build", "--all", &t.path(""), "--list"]);
    assert!(out.status.success());
    // all includes apps/one/prod and apps/two; base is included by all of
    // them; component is a component.
    assert_eq!(lines(&out.stdout), SHARED_ROOTS);
    let out = run(&["build", "--all", &t.path(""), "--list", "--include-bases"]);
    assert_eq!(lines(&out.stdout), EVERY_KUSTOMIZATION);
}

#[test]
fn build_all_equals_one_build_per_root() {
    let t = shared_tree("equal");
    let out_dir = t.path("out");
    for threads in ["1", "3"] {
        let _ = fs::remove_dir_all(&out_dir);
        let out = build_all(
            &t.path(""),
            &out_dir,
            &["--include-bases", "--threads", threads],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for root in EVERY_KUSTOMIZATION {
            let one = run(&["build", &t.path(root)]);
            assert!(one.status.success());
            let written = fs::read(Path::new(&out_dir).join(format!("{root}.yaml"))).unwrap();
            assert!(written == one.stdout, "{root} (threads {threads})");
        }
    }
}

#[test]
fn shards_cover_every_root_once() {
    let t = shared_tree("shards");
    let all = lines(&run(&["build", "--all", &t.path(""), "--list", "--include-bases"]).stdout);
    for n in 1..=6 {
        let mut seen = Vec::new();
        for k in 1..=n {
            let shard = format!("{k}/{n}");
            let out = run(&[
                "build",
                "--all",
                &t.path(""),
                "--list",
                "--include-bases",
                "--shard",
                &shard,
            ]);
            assert!(out.status.success());
            seen.extend(lines(&out.stdout));
        }
        seen.sort();
        assert_eq!(seen, all, "{n} shards");
    }
    let out = run(&["build", "--all", &t.path(""), "--list", "--shard", "4/3"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn failures_are_one_line_each_and_exit_1() {
    let t = shared_tree("fail");
    t.write(
        "broken/a/kustomization.yaml",
        "resources:\n- missing.yaml\n",
    );
    t.write(
        "broken/b/kustomization.yaml",
        "resources:\n- missing.yaml\n",
    );
    let out_dir = t.path("out");
    let out = build_all(&t.path(""), &out_dir, &["--keep-going", "--threads", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = lines(&out.stderr);
    let errors: Vec<&String> = stderr.iter().filter(|l| l.starts_with("Error: ")).collect();
    assert_eq!(errors.len(), 2, "{stderr:?}");
    assert!(errors[0].starts_with("Error: broken/a: "), "{stderr:?}");
    assert!(errors[1].starts_with("Error: broken/b: "), "{stderr:?}");
    // The other roots are built all the same.
    for root in SHARED_ROOTS {
        assert!(Path::new(&out_dir).join(format!("{root}.yaml")).is_file());
    }
    // Without --keep-going, one thread: nothing starts after broken/a fails.
    let _ = fs::remove_dir_all(&out_dir);
    let out = build_all(&t.path(""), &out_dir, &["--threads", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("built 2 of 4 roots into "), "{stderr}");
    assert!(stderr.contains(", 1 failed, 1 not built"), "{stderr}");
    assert!(!Path::new(&out_dir).join("broken/b.yaml").exists());
}

/// `build --all` leaves the check that kustomize can print every value to
/// the writer (each resource just before it is written): a root that fails
/// it fails with its one-root build's error line, writes nothing, and leaves
/// an output file it had untouched.
#[test]
fn unprintable_roots_fail_as_their_one_root_builds_do() {
    let t = Tree::new("unprintable");
    let cm = |name: &str, data: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n{data}")
    };
    t.write("ok/kustomization.yaml", "resources:\n- cm.yaml\n");
    t.write("ok/cm.yaml", &cm("ok", "  k: v\n"));
    // Printable documents before and after the one that is not, in output
    // order; two causes in it (the first in the object's order is reported).
    t.write("nan/kustomization.yaml", "resources:\n- cm.yaml\n");
    t.write(
        "nan/cm.yaml",
        &format!(
            "{}---\n{}---\n{}",
            cm("a", "  k: v\n"),
            cm("b", "  k: v\nspec:\n  y: -.inf\n  x: .nan\n"),
            cm("c", "  k: v\n")
        ),
    );
    t.write("nel/kustomization.yaml", "resources:\n- cm.yaml\n");
    t.write("nel/cm.yaml", &cm("nel", "  \"a\\u0085b\": v\n"));
    // In a directory of its own: none is made for it.
    t.write("team/nan/kustomization.yaml", "resources:\n- cm.yaml\n");
    t.write("team/nan/cm.yaml", &cm("t", "  k: v\nspec:\n  x: .inf\n"));
    // The managed-by label replaces the value before kustomize prints it
    // (fixture buildmeta-managedby-replaces-unprintable): built.
    t.write(
        "label/kustomization.yaml",
        "resources:\n- cm.yaml\nbuildMetadata: [managedByLabel]\n",
    );
    t.write(
        "label/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: l\n  labels:\n    app.kubernetes.io/managed-by: .nan\n",
    );
    let out_dir = t.path("out");
    for threads in ["1", "2"] {
        let _ = fs::remove_dir_all(&out_dir);
        t.write("out/nan.yaml", "old\n");
        let out = build_all(
            &t.path(""),
            &out_dir,
            &["--keep-going", "--threads", threads],
        );
        assert_eq!(out.status.code(), Some(1));
        let stderr = lines(&out.stderr);
        let errors: Vec<&String> = stderr.iter().filter(|l| l.starts_with("Error: ")).collect();
        let failing = ["nan", "nel", "team/nan"];
        for (root, error) in failing.iter().zip(&errors) {
            let one = run(&["build", &t.path(root)]);
            assert_eq!(one.status.code(), Some(1));
            let one = String::from_utf8_lossy(&one.stderr);
            let cause = one.trim_end().strip_prefix("Error: ").unwrap();
            assert_eq!(
                **error,
                format!("Error: {root}: {cause}"),
                "threads {threads}"
            );
        }
        assert_eq!(errors.len(), failing.len(), "{stderr:?}");
        assert!(!Path::new(&out_dir).join("team").exists());
        assert_eq!(fs::read_to_string(t.path("out/nan.yaml")).unwrap(), "old\n");
        assert!(!Path::new(&out_dir).join("nel.yaml").exists());
        assert!(Path::new(&out_dir).join("ok.yaml").is_file());
        let label = run(&["build", &t.path("label")]);
        assert!(label.status.success());
        assert!(fs::read(t.path("out/label.yaml")).unwrap() == label.stdout);
        // No temporary file is left behind.
        let left: Vec<_> = fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 3, "{left:?}");
    }
}

#[test]
fn affected_prints_the_roots_reading_a_file() {
    let t = shared_tree("affected");
    let affected = |files: &[&str]| {
        let mut args = vec!["affected".to_owned()];
        args.extend(files.iter().map(|f| t.path(f)));
        args.extend(["--root".to_owned(), t.path("")]);
        let out = rustomize().args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        lines(&out.stdout)
    };
    assert_eq!(affected(&["base/service.yaml"]), SHARED_ROOTS);
    assert_eq!(affected(&["apps/two/extra.yaml"]), ["all"]);
    assert_eq!(affected(&["component/kustomization.yaml"]), ["all"]);
    assert_eq!(
        affected(&["apps/one/dev/kustomization.yaml"]),
        ["apps/one/dev"]
    );
    // A directory matches every file under it; a file no build reads, nothing.
    assert_eq!(affected(&["apps/one"]), SHARED_ROOTS);
    assert!(affected(&["README.md"]).is_empty());
    // Deleting a file fails the builds that read it, and failing roots are
    // always printed.
    fs::remove_file(t.0.join("apps/two/extra.yaml")).unwrap();
    assert_eq!(affected(&["apps/two/extra.yaml"]), ["all"]);
}

/// Every root of kubeflow-v1.10.2: `build --all`'s output byte-identical to a
/// one-root build (in process), and the same roots failing.
#[test]
fn kubeflow_roots_equal_one_root_builds() {
    let Some(corpora) = support::corpora() else {
        println!("skipped: no corpora");
        return;
    };
    let tree = corpora.join("kubeflow-v1.10.2");
    if !tree.is_dir() {
        println!("skipped: {} not found", tree.display());
        return;
    }
    let out_dir = Tree::new("kubeflow");
    let tree_arg = tree.to_string_lossy().into_owned();
    let out = build_all(&tree_arg, &out_dir.path(""), &["--keep-going"]);
    let roots = lines(&run(&["build", "--all", &tree_arg, "--list"]).stdout);
    assert!(roots.len() > 50, "{roots:?}");
    let mut failed = 0;
    for root in &roots {
        let written = fs::read(out_dir.0.join(format!("{root}.yaml"))).ok();
        match rustomize::build(&tree.join(root), &Default::default()) {
            Ok(build) => {
                let written = written.unwrap_or_else(|| panic!("{root}: not written"));
                assert!(written == build.to_yaml().as_bytes(), "{root} differs");
            }
            Err(_) => {
                failed += 1;
                assert!(written.is_none(), "{root}: written but fails alone");
            }
        }
    }
    assert_eq!(out.status.code(), Some(if failed > 0 { 1 } else { 0 }));
}
