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

// ----- NEL, LS and PS: go-yaml's other line breaks ------------------------------
//
// As measured on kustomize v5.5.0, go-yaml takes U+0085 (NEL), U+2028 (LS) and
// U+2029 (PS) for line breaks everywhere: they end comments and plain scalars,
// start a new line for indentation, and fold in quoted and block scalars. A NEL
// reads exactly as a line feed; an LS/PS is kept where a scalar takes the break
// (`"a<PS>    b"` is `a<PS>b`, where a line feed would give `a b`). We read
// those inside quoted and block scalars of block-style texts, and refuse the
// rest (multi-line plain scalars, texts the fast reader does not take) with
// one line, rather than read them differently.

/// The resource's head, before the `data` under test.
const HDR: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";

#[test]
fn double_quoted_paragraph_separator_drops_the_next_lines_indentation() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!("{HDR}{}", "data:\n  k: \"a\u{2029}    b\"\n"),
    );
    builds(
        &tree,
        "apiVersion: v1\ndata:\n  k: 'a\u{2029}    b'\nkind: ConfigMap\nmetadata:\n  name: cm\n",
    );
}

#[test]
fn double_quoted_line_separators_with_spaces_around() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!("{HDR}{}", "data:\n  k: \"a \u{2028}  \u{2028}  b\"\n"),
    );
    builds(&tree, "apiVersion: v1\ndata:\n  k: 'a\u{2028}\u{2028}    b'\nkind: ConfigMap\nmetadata:\n  name: cm\n");
}

#[test]
fn single_quoted_paragraph_separator_then_next_line() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!(
            "{HDR}{}",
            "data:\n  k: 'a \u{2029}    b'\n  j: '\u{2029}\u{85}c'\n"
        ),
    );
    builds(&tree, "apiVersion: v1\ndata:\n  j: |2-\n\u{2029}\n    c\n  k: 'a\u{2029}    b'\nkind: ConfigMap\nmetadata:\n  name: cm\n");
}

#[test]
fn quoted_separator_alone_closes_on_the_next_line() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!("{HDR}{}", "data:\n  k: \"\u{2029}\"\n  j: '\u{2028}'\n"),
    );
    builds(&tree, "apiVersion: v1\ndata:\n  j: '\u{2028}'\n  k: '\u{2029}'\nkind: ConfigMap\nmetadata:\n  name: cm\n");
}

#[test]
fn next_line_folds_like_a_line_feed_in_quoted_scalars() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!(
            "{HDR}{}",
            "data:\n  k: \"a\u{85}    b\"\n  j: 'c\u{85}\u{85}    d'\n"
        ),
    );
    builds(&tree, "apiVersion: v1\ndata:\n  j: |-\n    c\n    d\n  k: a b\nkind: ConfigMap\nmetadata:\n  name: cm\n");
}

#[test]
fn next_line_ends_a_plain_key_line() {
    let tree = Tree::new();
    tree.kustomization(KUS)
        .file("root/r.yaml", &format!("{HDR}{}", "data:\n  a\u{85}b: c\n"));
    builds(
        &tree,
        "apiVersion: v1\nb: c\ndata: a\nkind: ConfigMap\nmetadata:\n  name: cm\n",
    );
}

#[test]
fn paragraph_separator_ends_a_plain_scalar_line() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!("{HDR}{}", "data:\n  k: a\u{2029}  j: b\n"),
    );
    builds(
        &tree,
        "apiVersion: v1\ndata:\n  j: b\n  k: a\nkind: ConfigMap\nmetadata:\n  name: cm\n",
    );
}

#[test]
fn separators_end_comments() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!(
            "{HDR}{}",
            "data:\n  k: v # c\u{2029}  j: w # d\u{2028}  i: x # e\u{85}  h: y\n"
        ),
    );
    builds(&tree, "apiVersion: v1\ndata:\n  h: \"y\"\n  i: x\n  j: w\n  k: v\nkind: ConfigMap\nmetadata:\n  name: cm\n");
}

#[test]
fn separators_between_tokens() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!("{HDR}{}", "\u{2029}data:\u{2028}  k:\u{2029}    v\n"),
    );
    builds(
        &tree,
        "apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  name: cm\n",
    );
}

#[test]
fn literal_block_keeps_a_paragraph_separator() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!(
            "{HDR}{}",
            "data:\n  k: |\n    a\u{2029}    b\n    c\n  j: |+\n    a\u{2028}\u{2028}\n"
        ),
    );
    builds(&tree, "apiVersion: v1\ndata:\n  j: |+\n    a\u{2028}\u{2028}\n  k: |\n    a\u{2029}    b\n    c\nkind: ConfigMap\nmetadata:\n  name: cm\n");
}

#[test]
fn folded_block_keeps_a_line_separator() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!(
            "{HDR}{}",
            "data:\n  k: >\n    a\n    b\u{2028}    c\n  j: >\n    a\u{2029}    b\n    c\n"
        ),
    );
    builds(&tree, "apiVersion: v1\ndata:\n  j: |\n    a\u{2029}    b c\n  k: |\n    a b\u{2028}    c\nkind: ConfigMap\nmetadata:\n  name: cm\n");
}

#[test]
fn next_line_in_block_scalars() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!(
            "{HDR}{}",
            "data:\n  k: |\n    a\u{85}    b\n  j: >\n    a\u{85}    b\n"
        ),
    );
    builds(&tree, "apiVersion: v1\ndata:\n  j: |\n    a b\n  k: |\n    a\n    b\nkind: ConfigMap\nmetadata:\n  name: cm\n");
}

#[test]
fn separators_in_flow_collections() {
    let tree = Tree::new();
    tree.kustomization(KUS)
        .file("root/r.yaml", &format!("{HDR}{}", "data:\n  k: \"[a,\u{2029} b]\"\nx: [a,\u{2029} b]\ny: {a: b,\u{2028} c: d}\nz: [\"a\u{2029}  b\"]\n"));
    builds(&tree, "apiVersion: v1\ndata:\n  k: '[a,\u{2029}    b]'\nkind: ConfigMap\nmetadata:\n  name: cm\nx:\n- a\n- b\n\"y\":\n  a: b\n  c: d\nz:\n- 'a\u{2029}  b'\n");
}

#[test]
fn document_indicator_after_a_separator_is_text_when_not_followed_by_a_blank() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!(
            "{HDR}{}",
            "data:\n  k: \"a\u{2029}---\"\n  j: \"a\u{2029}...x\"\n"
        ),
    );
    builds(&tree, "apiVersion: v1\ndata:\n  j: 'a\u{2029}    ...x'\n  k: 'a\u{2029}    ---'\nkind: ConfigMap\nmetadata:\n  name: cm\n");
}

/// kustomize reads `a<PS>b` (the break kept, the indentation dropped); a plain
/// scalar folding an LS/PS is refused, not read as `a<PS>    b`.
#[test]
fn separator_in_a_multi_line_plain_scalar_is_refused() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!("{HDR}data:\n  k: a \u{2029}    b\n"),
    );
    assert_fails!(tree, tree.build(&[]));
}

/// Anchors send a text to the full reader, which cannot keep an LS/PS.
#[test]
fn separator_in_a_text_only_the_full_reader_takes_is_refused() {
    let tree = Tree::new();
    tree.kustomization(KUS).file(
        "root/r.yaml",
        &format!("{HDR}data:\n  k: &x \"a\u{2028}  b\"\n  j: *x\n"),
    );
    assert_fails!(tree, tree.build(&[]));
}
