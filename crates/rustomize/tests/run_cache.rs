//! Builds sharing a [`rustomize::cache::RunCache`] print exactly what builds
//! without it print: the same bytes, warnings, files read and errors, in any
//! order, including where the cache must not be used (origin tracking, read
//! budgets).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustomize::cache::RunCache;
use rustomize::BuildOptions;

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
}

fn tree(name: &str) -> Tree {
    let t = Tree::new(name);
    t.write(
        "base/kustomization.yaml",
        "resources:\n- cm.yaml\ncommonLabels:\n  app: x\n",
    );
    t.write(
        "base/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n",
    );
    t.write(
        "mid/kustomization.yaml",
        "namePrefix: mid-\nresources:\n- ../base\n",
    );
    t.write(
        "a/kustomization.yaml",
        "namePrefix: a-\nresources:\n- ../mid\n",
    );
    t.write(
        "b/kustomization.yaml",
        "namespace: b\nresources:\n- ../mid\n- ../base\nnameSuffix: -b\n",
    );
    t.write(
        "tracked/kustomization.yaml",
        "buildMetadata: [originAnnotations]\nresources:\n- ../mid\n",
    );
    t
}

type Outcome = Result<(String, Vec<String>, Vec<PathBuf>), String>;

fn build(dir: &Path, options: &BuildOptions) -> Outcome {
    rustomize::build(dir, options)
        .map(|b| (b.to_yaml(), b.warnings().to_vec(), b.files_read().to_vec()))
        .map_err(|e| e.to_string())
}

#[test]
fn shared_builds_equal_plain_builds_in_any_order() {
    let t = tree("order");
    let roots = ["a", "b", "tracked", "mid", "base"];
    let plain: Vec<Outcome> = roots
        .iter()
        .map(|r| build(&t.0.join(r), &BuildOptions::default()))
        .collect();
    for order in [
        [0, 1, 2, 3, 4, 0, 1, 2],
        [4, 3, 2, 1, 0, 4, 3, 2],
        [3, 0, 4, 2, 1, 1, 0, 3],
    ] {
        // Without hints, and told that every directory is shared (kept on
        // its first build), that many times, or fewer (later uses build it
        // again) or more (it stays kept).
        let hinted = |n: usize| roots.map(|r| (t.0.join(r).canonicalize().unwrap(), n));
        for cache in [
            RunCache::new(),
            RunCache::new().expecting_shared(hinted(2)),
            RunCache::new().expecting_shared(hinted(3)),
            RunCache::new().expecting_shared(hinted(100)),
        ] {
            let options = BuildOptions {
                run_cache: Some(Arc::new(cache)),
                ..Default::default()
            };
            for i in order {
                let shared = build(&t.0.join(roots[i]), &options);
                assert_eq!(shared, plain[i], "{}", roots[i]);
            }
        }
    }
    let (_, warnings, files) = plain[0].clone().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(
        files,
        [
            "a/kustomization.yaml",
            "base/cm.yaml",
            "base/kustomization.yaml",
            "mid/kustomization.yaml"
        ]
        .map(|f| t.0.join(f))
    );
}

#[test]
fn budgets_hold_with_a_shared_build() {
    let t = tree("budget");
    let cache = Arc::new(RunCache::new());
    let shared = BuildOptions {
        run_cache: Some(cache.clone()),
        ..Default::default()
    };
    // Warm the cache: a directory is kept on its second use.
    build(&t.0.join("a"), &shared).unwrap();
    build(&t.0.join("a"), &shared).unwrap();
    // b reads b, mid, base, base: four kustomization files.
    for max in 1..=5 {
        let plain = build(
            &t.0.join("b"),
            &BuildOptions {
                max_kustomizations: max,
                ..Default::default()
            },
        );
        let with_cache = build(
            &t.0.join("b"),
            &BuildOptions {
                max_kustomizations: max,
                ..shared.clone()
            },
        );
        assert_eq!(with_cache, plain, "max_kustomizations {max}");
        assert_eq!(plain.is_ok(), max >= 4);
    }
}

#[test]
fn a_shared_build_that_would_close_a_cycle_is_built_afresh() {
    let t = tree("cycle");
    // lib includes top; top/app includes lib: from top/app, lib reaches top,
    // a directory above the build's own: a cycle. Built alone, lib is fine.
    t.write("top/kustomization.yaml", "resources:\n- cm.yaml\n");
    t.write(
        "top/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: top\n",
    );
    t.write("lib/kustomization.yaml", "resources:\n- ../top\n");
    t.write("top/app/kustomization.yaml", "resources:\n- ../../lib\n");
    t.write("user/kustomization.yaml", "resources:\n- ../lib\n");
    let shared = BuildOptions {
        run_cache: Some(Arc::new(RunCache::new())),
        ..Default::default()
    };
    // user twice: lib is kept on its second use, then reused under top/app.
    for root in ["user", "user", "top/app", "lib"] {
        let plain = build(&t.0.join(root), &BuildOptions::default());
        assert_eq!(build(&t.0.join(root), &shared), plain, "{root}");
        assert_eq!(plain.is_ok(), root != "top/app", "{root}: {plain:?}");
    }
}

#[test]
fn files_prepared_ahead_build_as_plain_files_do() {
    let t = tree("prepared");
    t.write(
        "base/other.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n",
    );
    t.write(
        "c/kustomization.yaml",
        "resources:\n- ../base\n- ../base/other.yaml\n- link.yaml\n",
    );
    std::os::unix::fs::symlink(t.0.join("base/other.yaml"), t.0.join("c/link.yaml")).unwrap();
    let roots = ["a", "b", "c", "base"];
    let plain: Vec<Outcome> = roots
        .iter()
        .map(|r| build(&t.0.join(r), &BuildOptions::default()))
        .collect();
    let cm = t.0.join("base/cm.yaml");
    let other = t.0.join("base/other.yaml");
    // Counts exact, too low and too high; a file prepared, then changed
    // (the builds read the new text and parse it); a symlink and a
    // directory counted but never prepared.
    for (n, change) in [(2, false), (1, false), (9, false), (2, true)] {
        let cache = Arc::new(RunCache::new());
        let options = BuildOptions {
            run_cache: Some(cache.clone()),
            ..Default::default()
        };
        for path in [&cm, &other, &t.0.join("c/link.yaml"), &t.0.join("base")] {
            for _ in 0..n {
                cache.expect_file(path);
            }
            cache.prepare_file(path, &t.0, &options);
        }
        assert_eq!(cache.len(), 2, "only the two regular files are parsed");
        let expected = if change {
            t.write(
                "base/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: changed\n",
            );
            roots
                .iter()
                .map(|r| build(&t.0.join(r), &BuildOptions::default()))
                .collect()
        } else {
            plain.clone()
        };
        for (i, root) in roots.iter().enumerate() {
            assert_eq!(build(&t.0.join(root), &options), expected[i], "{root} {n}");
        }
        if change {
            t.write(
                "base/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n",
            );
        }
    }
    // A file outside the root given is not prepared.
    let cache = RunCache::new();
    cache.expect_file(&cm);
    cache.prepare_file(&cm, &t.0.join("c"), &BuildOptions::default());
    assert!(cache.is_empty());
}

#[test]
fn preparing_a_deep_file_on_a_small_stack_does_not_overflow() {
    let t = Tree::new("prepared-deep");
    let depth = 9_900;
    // A list whose item has no kind: the parse fails after copying and
    // dropping the item, walks of 9,900 levels each.
    let deep = format!(
        "kind: ConfigMapList\nitems: [{}1{}]\n",
        "{a: ".repeat(depth),
        "}".repeat(depth)
    );
    t.write("deep.yaml", &deep);
    let path = t.0.join("deep.yaml");
    let cache = RunCache::new();
    cache.expect_file(&path);
    // Far less stack than a recursive walk of 9,900 levels needs.
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn_scoped(scope, || {
                cache.prepare_file(&path, &t.0, &BuildOptions::default())
            })
            .unwrap()
            .join()
            .unwrap();
    });
}

#[test]
fn a_file_behind_a_symlinked_directory_is_not_prepared() {
    let t = Tree::new("prepared-link");
    t.write(
        "real/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
    );
    std::os::unix::fs::symlink(t.0.join("real"), t.0.join("linked")).unwrap();
    let cache = RunCache::new();
    let path = t.0.join("linked/cm.yaml");
    cache.expect_file(&path);
    cache.prepare_file(&path, &t.0, &BuildOptions::default());
    assert!(cache.is_empty());
    let real = t.0.join("real/cm.yaml");
    cache.expect_file(&real);
    cache.prepare_file(&real, &t.0, &BuildOptions::default());
    assert_eq!(cache.len(), 1);
}
