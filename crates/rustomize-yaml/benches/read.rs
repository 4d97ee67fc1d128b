//! Reading throughput: the fast reader (with its fallback) against the full
//! saphyr-based reader, on every YAML/JSON file of the Kubeflow v1.10.2 corpus
//! (when `../shared/corpora` is present) or else the project's fixtures.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rustomize_yaml::{parse_documents, parse_documents_reference, ParseLimits};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(path);
        }
    }
}

/// The texts to read: only those the full reader accepts.
fn texts() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    collect(&root.join("../shared/corpora/kubeflow-v1.10.2"), &mut files);
    if files.is_empty() {
        collect(&root.join("fixtures"), &mut files);
    }
    files.sort();
    let limits = ParseLimits::default();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|t| parse_documents_reference(t, &limits).is_ok())
        .collect()
}

fn bench(c: &mut Criterion) {
    let texts = texts();
    let bytes: usize = texts.iter().map(String::len).sum();
    let limits = ParseLimits::default();
    let mut group = c.benchmark_group("read");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("parse_documents", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| parse_documents(t, &limits).map_or(0, |d| d.len()))
                .sum::<usize>()
        })
    });
    group.bench_function("reference", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| parse_documents_reference(t, &limits).map_or(0, |d| d.len()))
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
