//! Valid input kustomize builds that we must read and render the same way.
//!
//! Encodings, as measured on kustomize v5.5.0: UTF-16 files (little or big
//! endian, with a byte-order mark) are read, resources and kustomization files
//! alike, but only their first document (kustomize splits a file on ASCII
//! `---` lines before decoding, which UTF-16 text has none of). A UTF-8
//! byte-order mark is dropped at the start of a file and right after a `---`
//! line. UTF-16 without a mark is refused. The expected outputs below were
//! recorded from `kubectl kustomize`; they are also compared live when kubectl
//! is on PATH.

use crate::assert_fails;
use crate::harness::*;

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n";
const CM2: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm2\ndata:\n  k: w\n";
const KUS: &str = "resources:\n- r.yaml\n";

/// kustomize's output for [`CM`] alone (recorded).
const CM_OUT: &str = "apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  name: cm\n";
/// kustomize's output for [`CM`] then [`CM2`] (recorded).
const BOTH_OUT: &str = "apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  name: cm\n---\napiVersion: v1\ndata:\n  k: w\nkind: ConfigMap\nmetadata:\n  name: cm2\n";

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = match (bom, big_endian) {
        (false, _) => Vec::new(),
        (true, true) => vec![0xfe, 0xff],
        (true, false) => vec![0xff, 0xfe],
    };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

fn builds(tree: &Tree, expected: &str) {
    let out = assert_builds_like_kustomize(tree, &[]);
    assert_eq!(out, expected);
}

#[test]
fn utf16_le_resource() {
    let tree = Tree::new();
    tree.kustomization(KUS)
        .bytes("root/r.yaml", &utf16(CM, false, true));
    builds(&tree, CM_OUT);
}

#[test]
fn utf16_be_resource() {
    let tree = Tree::new();
    tree.kustomization(KUS)
        .bytes("root/r.yaml", &utf16(CM, true, true));
    builds(&tree, CM_OUT);
}

#[test]
fn utf16_le_kustomization() {
    let tree = Tree::new();
    tree.bytes("root/kustomization.yaml", &utf16(KUS, false, true))
        .file("root/r.yaml", CM);
    builds(&tree, CM_OUT);
}

#[test]
fn utf16_be_kustomization() {
    let tree = Tree::new();
    tree.bytes("root/kustomization.yaml", &utf16(KUS, true, true))
        .file("root/r.yaml", CM);
    builds(&tree, CM_OUT);
}

/// Only the first document of a UTF-16 file is read, as by kustomize.
#[test]
fn utf16_multi_document_resource_reads_the_first_document() {
    let tree = Tree::new();
    tree.kustomization(KUS).bytes(
        "root/r.yaml",
        &utf16(&format!("{CM}---\n{CM2}"), false, true),
    );
    builds(&tree, CM_OUT);
}

#[test]
fn utf16_without_byte_order_mark_fails() {
    let tree = Tree::new();
    tree.kustomization(KUS)
        .bytes("root/r.yaml", &utf16(CM, false, false));
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn utf8_bom_at_start_of_resource() {
    let tree = Tree::new();
    tree.kustomization(KUS)
        .file("root/r.yaml", &format!("\u{feff}{CM}"));
    builds(&tree, CM_OUT);
}

#[test]
fn utf8_bom_at_start_of_kustomization() {
    let tree = Tree::new();
    tree.file("root/kustomization.yaml", &format!("\u{feff}{KUS}"))
        .file("root/r.yaml", CM);
    builds(&tree, CM_OUT);
}

#[test]
fn utf8_bom_after_document_separator() {
    let tree = Tree::new();
    tree.kustomization(KUS)
        .file("root/r.yaml", &format!("{CM}---\n\u{feff}{CM2}"));
    builds(&tree, BOTH_OUT);
}

#[test]
fn utf8_bom_after_document_separator_before_a_comment() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!("\u{feff}{CM}---\n\u{feff}# c\n{CM2}"),
    );
    builds(&tree, BOTH_OUT);
}
