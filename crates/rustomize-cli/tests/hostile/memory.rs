//! Memory and depth bombs: alias expansion, nesting, growth; all bounded by the library's limits.
//!
//! Measured on kustomize v5.5.0: it expands aliases with no bound (a 3 MB file
//! aliasing one 1 MB scalar 3,000 times ran 310 s and reached 18 GB before
//! printing 3 GB), and a self-referencing anchor overflows its stack. We stop
//! both with one line. Nesting: kustomize builds documents nested 10,000 levels
//! deep (the top mapping counts as one; flow or block alike) and refuses 10,001
//! ("exceeded max depth of 10000"); so do we, through every stage.

use crate::assert_fails;
use crate::harness::*;

const HEAD: &str = "apiVersion: v1\nkind: Foo\nmetadata:\n  name: x\n";

fn resource(tree: &Tree, body: &str) {
    tree.kustomization("resources:\n- r.yaml\n")
        .file("root/r.yaml", &format!("{HEAD}{body}"));
}

/// `spec:` holding `n` nested flow sequences: the document is `n + 1` deep.
fn flow_seqs(n: usize) -> String {
    format!("spec: {}{}\n", "[".repeat(n), "]".repeat(n))
}

#[test]
fn one_megabyte_scalar_aliased_3000_times() {
    let tree = Tree::new();
    let big = "x".repeat(1 << 20);
    resource(
        &tree,
        &format!("big: &b {big}\nlist:\n{}", "- *b\n".repeat(3000)),
    );
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn billion_laughs_in_sequences() {
    let tree = Tree::new();
    let mut body = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = format!("*l{}", i - 1);
        body.push_str(&format!("l{i}: &l{i} [{}]\n", vec![p; 10].join(", ")));
    }
    resource(&tree, &body);
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn billion_laughs_through_merge_keys() {
    let tree = Tree::new();
    let mut body = String::from("m0: &m0 {a: lol, b: lol}\n");
    for i in 1..30 {
        let p = i - 1;
        body.push_str(&format!("m{i}: &m{i} {{x: *m{p}, y: *m{p}, <<: *m{p}}}\n"));
    }
    resource(&tree, &body);
    assert_fails!(tree, tree.build(&[]));
}

/// Every anchored node is copied for later aliases; nested anchors copy
/// quadratically and count against the same budget.
#[test]
fn anchors_on_every_level_are_bounded() {
    let tree = Tree::new();
    let n = 3000;
    let body: String = (0..n)
        .map(|i| format!("{}k: &a{i}\n", " ".repeat(i)))
        .collect();
    resource(&tree, &format!("spec:\n{body}{}x: 1\n", " ".repeat(n)));
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn small_aliases_still_build() {
    let tree = Tree::new();
    resource(
        &tree,
        "base: &b {k: v, list: [1, 2]}\ncopies: [*b, *b, *b]\nmerged:\n  <<: *b\n  k: w\n",
    );
    assert_builds_like_kustomize(&tree, &[]);
}

#[test]
fn self_referencing_anchor() {
    let tree = Tree::new();
    resource(&tree, "spec: &a [*a]\n");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn self_referencing_anchor_in_a_mapping() {
    let tree = Tree::new();
    resource(&tree, "spec: &a {b: {c: *a}}\n");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn undefined_alias() {
    let tree = Tree::new();
    resource(&tree, "spec: *nowhere\n");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn flow_nesting_at_the_limit_builds() {
    let tree = Tree::new();
    resource(&tree, &flow_seqs(9_999));
    assert_builds_like_kustomize(&tree, &[]);
}

#[test]
fn flow_nesting_over_the_limit_fails() {
    let tree = Tree::new();
    resource(&tree, &flow_seqs(10_000));
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn block_sequence_nesting_at_the_limit_builds() {
    let tree = Tree::new();
    resource(&tree, &format!("spec:\n{}x\n", "- ".repeat(9_999)));
    assert_builds_like_kustomize(&tree, &[]);
}

#[test]
fn block_sequence_nesting_over_the_limit_fails() {
    let tree = Tree::new();
    resource(&tree, &format!("spec:\n{}x\n", "- ".repeat(10_000)));
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn flow_mapping_nesting_over_the_limit_fails() {
    let tree = Tree::new();
    resource(
        &tree,
        &format!("spec: {}1{}\n", "{a: ".repeat(10_000), "}".repeat(10_000)),
    );
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn kustomization_nesting_over_the_limit_fails() {
    let tree = Tree::new();
    tree.kustomization(&format!(
        "resources: []\nfoo: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    ));
    assert_fails!(tree, tree.build(&[]));
}

/// A document at the limit through patches (strategic merge and JSON 6902),
/// vars, replacements, name prefix, labels, a generator and name references.
#[test]
fn nesting_at_the_limit_through_every_stage() {
    let tree = Tree::new();
    let n = 9_997;
    tree.kustomization(
        "resources:\n- r.yaml\n- cm.yaml\nnamePrefix: p-\ncommonLabels:\n  app: x\n\
         commonAnnotations:\n  note: hello\npatches:\n- path: sm.yaml\n- target:\n    kind: Foo\n  \
         patch: |-\n    - op: add\n      path: /extra\n      value: 1\nvars:\n- name: CM\n  objref:\n    \
         kind: ConfigMap\n    name: cm\n    apiVersion: v1\nreplacements:\n- source:\n    kind: ConfigMap\n    \
         name: cm\n    fieldPath: data.k\n  targets:\n  - select:\n      kind: Foo\n    fieldPaths:\n    \
         - metadata.annotations.note\nconfigMapGenerator:\n- name: gen\n  literals:\n  - a=b\n",
    )
    .file(
        "root/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: $(CM)\n",
    )
    .file(
        "root/r.yaml",
        &format!(
            "{HEAD}spec:\n  deep: {}[$(CM), gen]{}\n  keep: 1\n",
            "[".repeat(n),
            "]".repeat(n)
        ),
    )
    .file(
        "root/sm.yaml",
        &format!("{HEAD}spec:\n  other: {}1{}\n", "[".repeat(n), "]".repeat(n)),
    );
    assert_builds_like_kustomize(&tree, &[]);
}

/// saphyr-parser (the full reader, used for YAML outside the fast reader's
/// subset, such as anchors) nests flow collections at most 255 deep. kustomize
/// builds this; we refuse it with a message that says why (a known divergence).
#[test]
fn deep_flow_with_anchors_is_refused_clearly() {
    let tree = Tree::new();
    resource(&tree, &format!("a: &x 1\nb: *x\n{}", flow_seqs(300)));
    assert_fails!(tree, tree.build(&[]));
}

/// An error that quotes input (here a 1,000-character duplicate key) is cut.
#[test]
fn long_duplicate_key_is_excerpted() {
    let tree = Tree::new();
    let key = "k".repeat(1000);
    resource(&tree, &format!("\"{key}\": 1\n\"{key}\": 2\n"));
    assert_fails!(tree, tree.build(&[]));
}
