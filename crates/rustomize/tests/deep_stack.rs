//! A document nested as deep as kustomize allows (10,000 levels) builds through
//! the library from a thread with a small (2 MiB) stack, and the result drops
//! there without overflowing: the build runs on a deep stack of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use rustomize::{build, BuildOptions, Value};

/// A scratch tree whose resource nests `levels` deep (removed on drop).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn deep_tree(levels: usize) -> Scratch {
    let dir = std::env::temp_dir().join(format!(
        "rustomize-deep-stack-{}-{levels}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("kustomization.yaml"),
        "resources:\n- r.yaml\nnamePrefix: p-\ncommonLabels:\n  app: x\n",
    )
    .unwrap();
    // The top mapping and `spec` make two levels.
    let body = format!(
        "apiVersion: v1\nkind: Foo\nmetadata:\n  name: x\nspec:\n  deep:\n  {}x\n",
        "- ".repeat(levels - 2)
    );
    std::fs::write(dir.join("r.yaml"), body).unwrap();
    Scratch(dir)
}

fn depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Seq(items) => {
                max = max.max(d);
                stack.extend(items.iter().map(|c| (c, d + 1)));
            }
            Value::Map(m) => {
                max = max.max(d);
                stack.extend(m.values().map(|c| (c, d + 1)));
            }
            _ => {}
        }
    }
    max
}

#[test]
fn deep_document_builds_and_drops_on_a_small_stack() {
    let tree = deep_tree(10_000);
    let path = tree.0.clone();
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let out = build(&path, &BuildOptions::default()).expect("builds");
            assert_eq!(out.values().map(depth).max(), Some(10_000));
            let yaml = out.to_yaml();
            assert!(yaml.contains("name: p-x"));
            drop(out);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn build_then_hands_a_deep_document_over_on_a_deep_stack_at_every_thread_count() {
    // `then` may walk the documents recursively (here: cloning the build)
    // however the build ran; from a 256 KiB stack a 10,000-level clone would
    // overflow it. (9,999 levels: a scratch tree of its own.)
    let tree = deep_tree(9_999);
    for threads in 1..=3 {
        let path = tree.0.clone();
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let options = BuildOptions {
                    threads: Some(threads),
                    ..Default::default()
                };
                let cloned = rustomize::build_then(&path, &options, |built| {
                    built.expect("builds").clone().resources().len()
                });
                assert_eq!(cloned, 1, "{threads} threads");
            })
            .unwrap()
            .join()
            .unwrap();
    }
}

#[test]
fn one_level_deeper_fails_with_depth_and_limit() {
    let tree = deep_tree(10_001);
    let Err(err) = build(&tree.0, &BuildOptions::default()) else {
        panic!("a document 10,001 levels deep built");
    };
    assert!(
        err.to_string()
            .contains("document nests deeper than 10000 levels (limit: --max-depth"),
        "{err}"
    );
}
