//! The hostile-input suite (issue 6): trees an attacker could write, run through the
//! real `rustomize` binary. Every case asserts the exit status, that nothing from
//! outside the kustomization root reaches stdout or stderr, that the process stays
//! within a memory ceiling (a `ulimit -v` the harness sets, so an unbounded
//! allocation aborts instead of passing), and snapshots the one-line error.
//!
//! One module per class of the issue: escapes, memory bombs, divergences from
//! kustomize, errors that must name their cause, patches, and CLI hygiene.
#![cfg(unix)]
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod harness;
#[path = "../support/mod.rs"]
mod support;

mod cli;
mod divergence;
mod errors;
mod escapes;
mod expansion;
mod helm;
mod memory;
mod patches;

/// The harness itself: a plain tree builds, the secret stays outside, and the
/// output is kustomize's.
#[test]
fn harness_plain_tree_builds_like_kustomize() {
    let tree = harness::Tree::new();
    tree.kustomization("resources:\n- cm.yaml\n").file(
        "root/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: b\n",
    );
    let out = harness::assert_builds_like_kustomize(&tree, &[]);
    assert!(out.contains("name: plain"));
}

/// The harness itself: a missing root fails with one line.
#[test]
fn harness_missing_kustomization_fails_cleanly() {
    let tree = harness::Tree::new();
    assert_fails!(tree, tree.build(&[]));
}
