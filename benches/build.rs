//! Criterion benchmarks per stage (read, write) and end to end (build), on the
//! project's example and, when `../shared/corpora` is present, on Kubeflow trees.
//! `benches/compare.sh` times the release binary against `kubectl kustomize`.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Directories to build: our example, plus corpus dirs that rustomize builds today.
fn targets() -> Vec<(String, PathBuf)> {
    let root = workspace();
    let mut out = vec![(
        "hello-production".to_owned(),
        root.join("examples/hello/overlays/production"),
    )];
    for (name, rel) in [
        ("kf141-argo-base", "kubeflow-v1.4.1/apps/pipeline/upstream/third-party/argo/upstream/manifests/base"),
        ("kf1102-argo-base", "kubeflow-v1.10.2/applications/pipeline/upstream/third-party/argo/upstream/manifests/base"),
    ] {
        let dir = root.join("../shared/corpora").join(rel);
        if rustomize::build(&dir, &Default::default()).is_ok() {
            out.push((name.to_owned(), dir));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    for (name, dir) in targets() {
        let Ok(build) = rustomize::build(&dir, &Default::default()) else {
            continue;
        };
        let yaml = build.to_yaml();
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(yaml.len() as u64));
        group.bench_function("build", |b| {
            b.iter(|| rustomize::build(&dir, &Default::default()).map(|b| b.resources().len()))
        });
        group.bench_function("read", |b| {
            b.iter(|| rustomize::parse_documents(&yaml, &Default::default()).map(|d| d.len()))
        });
        group.bench_function("write", |b| b.iter(|| build.to_yaml().len()));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
