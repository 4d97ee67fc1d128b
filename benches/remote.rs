//! Remote bases: a build whose base is a `file://` git repository, from an
//! empty cache (git init, fetch, checkout) and from a warm one (a commit ref:
//! no git at all; a tag: one `git ls-remote`). Run with
//! `cargo bench -p rustomize --bench remote`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "b")
        .env("GIT_AUTHOR_EMAIL", "b@example.invalid")
        .env("GIT_COMMITTER_NAME", "b")
        .env("GIT_COMMITTER_EMAIL", "b@example.invalid")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn bench(c: &mut Criterion) {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().canonicalize().unwrap();
    let src = root.join("src");
    std::fs::create_dir_all(src.join("base")).unwrap();
    git(&src, &["init", "-q", "-b", "main"]);
    let mut resources = String::from("resources:\n");
    for i in 0..50 {
        std::fs::write(
            src.join(format!("base/cm{i}.yaml")),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\ndata:\n  k: v{i}\n"
            ),
        )
        .unwrap();
        resources.push_str(&format!("- cm{i}.yaml\n"));
    }
    std::fs::write(src.join("base/kustomization.yaml"), resources).unwrap();
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-qm", "base"]);
    git(&src, &["tag", "v1"]);
    let commit = git(&src, &["rev-parse", "HEAD"]);
    git(&root, &["clone", "-q", "--bare", "src", "repo.git"]);
    let url = format!("file://{}", root.join("repo.git").display());

    let overlay = |name: &str, entry: String| {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("kustomization.yaml"),
            format!("namePrefix: o-\nresources:\n- {entry}\n"),
        )
        .unwrap();
        dir
    };
    let by_commit = overlay("by-commit", format!("{url}//base?ref={commit}"));
    let by_tag = overlay("by-tag", format!("{url}//base?ref=v1"));
    let options = |cache: &Path| {
        let mut o = rustomize::BuildOptions::default();
        o.remote.enabled = true;
        o.remote.cache_dir = Some(cache.to_path_buf());
        o
    };

    let mut group = c.benchmark_group("remote");
    group.sample_size(10);
    group.bench_function("cold clone (empty cache)", |b| {
        b.iter_batched(
            || tempfile::tempdir_in(&root).unwrap(),
            |cache| rustomize::build(&by_commit, &options(cache.path())).unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
    let warm = root.join("warm-cache");
    rustomize::build(&by_commit, &options(&warm)).unwrap();
    group.bench_function("cache hit, commit ref (no git)", |b| {
        b.iter(|| rustomize::build(&by_commit, &options(&warm)).unwrap())
    });
    group.bench_function("cache hit, tag ref (one ls-remote)", |b| {
        b.iter(|| rustomize::build(&by_tag, &options(&warm)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
