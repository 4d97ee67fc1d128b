//! Criterion benchmarks of the writer: `write_documents`,
//! `write_documents_parallel` and the ordered streaming writer the CLI prints
//! with (`write_documents_to`, into a 64 KiB `BufWriter` over `io::sink`), on the documents of the writer cases (read back
//! from their `expected.yaml`) repeated to about 4 MB of output, and on the YAML stream
//! named by `RUSTOMIZE_WRITE_BENCH_INPUT` when it is set (e.g. a saved
//! `kustomize build` of a Kubeflow tree).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rustomize_yaml::{
    parse_documents, write_documents, write_documents_parallel, write_documents_to, ParseLimits,
    Value,
};

/// (name, documents) pairs to write.
fn inputs() -> Vec<(String, Vec<Value>)> {
    let limits = ParseLimits {
        max_bytes: usize::MAX,
        ..ParseLimits::default()
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writer-cases");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("writer-cases directory")
        .map(|e| e.expect("dir entry").path().join("expected.yaml"))
        .filter(|p| p.is_file())
        .collect();
    cases.sort();
    // (A few recorded outputs do not read back, as go-yaml's own do not; skip them.)
    let unit: Vec<Value> = cases
        .iter()
        .filter_map(|p| parse_documents(&std::fs::read_to_string(p).ok()?, &limits).ok())
        .flatten()
        .collect();
    let size = write_documents(&unit).len().max(1);
    let docs: Vec<Value> = std::iter::repeat_n(unit, (4 << 20) / size + 1)
        .flatten()
        .collect();
    let mut out = vec![("writer-cases".to_owned(), docs)];
    if let Some(path) = std::env::var_os("RUSTOMIZE_WRITE_BENCH_INPUT") {
        let text = std::fs::read_to_string(path).expect("RUSTOMIZE_WRITE_BENCH_INPUT");
        let docs = parse_documents(&text, &limits).expect("RUSTOMIZE_WRITE_BENCH_INPUT");
        out.push(("input".to_owned(), docs));
    }
    out
}

fn write(c: &mut Criterion) {
    for (name, docs) in inputs() {
        let bytes = write_documents(&docs).len() as u64;
        let mut group = c.benchmark_group(format!("write/{name}"));
        group.throughput(Throughput::Bytes(bytes));
        group.sample_size(20);
        group.bench_function("sequential", |b| b.iter(|| write_documents(&docs)));
        for threads in [2, 4] {
            group.bench_function(format!("parallel-{threads}"), |b| {
                b.iter(|| write_documents_parallel(&docs, threads))
            });
            group.bench_function(format!("ordered-{threads}"), |b| {
                b.iter(|| {
                    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::sink());
                    write_documents_to(&docs, |v| v, |_| None, threads, &mut out).unwrap();
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, write);
criterion_main!(benches);
