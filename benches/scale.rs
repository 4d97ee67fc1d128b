//! Criterion benchmark of one build of the synthetic overlay-heavy tree
//! (`benches/synth.rs`) at N = 1k and 10k resources, and 100k with
//! `RUSTOMIZE_BENCH_100K=1` (sample size 10; a few minutes).
//! `benches/scale.sh` compares the release binary with `kubectl kustomize`.

#[path = "synth.rs"]
mod synth;

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn tree(n: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("synth-{n}"));
    if let Err(e) = synth::write_tree(&dir, n) {
        panic!("{}: {e}", dir.display());
    }
    dir
}

fn bench(c: &mut Criterion) {
    let mut sizes = vec![1_000, 10_000];
    if std::env::var_os("RUSTOMIZE_BENCH_100K").is_some() {
        sizes.push(100_000);
    }
    let mut group = c.benchmark_group("synthetic");
    for n in sizes {
        let dir = tree(n);
        let options = rustomize::BuildOptions {
            threads: Some(1),
            ..Default::default()
        };
        group.sample_size(if n >= 100_000 { 10 } else { 20 });
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("build", n), &dir, |b, dir| {
            b.iter(|| rustomize::build(dir, &options).map(|b| b.resources().len()))
        });
        group.bench_with_input(BenchmarkId::new("build+write", n), &dir, |b, dir| {
            b.iter(|| rustomize::build(dir, &options).map(|b| b.to_yaml().len()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
