//! Hostile patches: JSON 6902 and strategic merge edge cases, growth bombs, selector regexes.
//!
//! kustomize's behaviour for each case was measured with `kubectl kustomize`
//! (v5.5.0); successful index cases are also recorded as fixtures
//! (`fixtures/patch-json6902-index-*`).

use crate::assert_fails;
use crate::harness::*;

const LIST: &str =
    "apiVersion: v1\nkind: X\nmetadata:\n  name: x\nspec:\n  items: [a, b, c]\n  other: [p]\n";

/// A tree with the list resource and one `patches` entry read from `p.yaml`.
fn with_patch(patch: &str, target: &str) -> Tree {
    let tree = Tree::new();
    tree.file("root/r.yaml", LIST)
        .file("root/p.yaml", patch)
        .kustomization(&format!(
            "resources: [r.yaml]\npatches:\n- path: p.yaml\n  target: {target}\n"
        ));
    tree
}

fn json(ops: &str) -> Tree {
    with_patch(ops, "{kind: X}")
}

/// `-1` in `add` appends after the last element (kustomize); it used to insert before it.
#[test]
fn add_at_minus_one_appends() {
    let tree = json(r#"[{"op":"add","path":"/spec/items/-1","value":"N"}]"#);
    let out = assert_builds_like_kustomize(&tree, &[]);
    assert!(out.contains("  - c\n  - \"N\"\n"), "{out}");
}

/// `-1` reads, replaces and removes the last element; `-2` inserts before it.
#[test]
fn negative_indices_for_every_op() {
    let tree = json(
        r#"[{"op":"replace","path":"/spec/items/-1","value":"R"},
{"op":"add","path":"/spec/items/-2","value":"I"},
{"op":"test","path":"/spec/items/-1","value":"R"},
{"op":"copy","from":"/spec/items/-1","path":"/spec/other/-1"},
{"op":"move","from":"/spec/items/0","path":"/spec/items/-1"},
{"op":"remove","path":"/spec/items/-1"}]"#,
    );
    assert_builds_like_kustomize(&tree, &[]);
}

/// Go's Atoi: leading zeros and a plus sign are indices.
#[test]
fn leading_zero_and_plus_sign_indices() {
    let tree = json(
        r#"[{"op":"add","path":"/spec/items/01","value":"Z"},{"op":"remove","path":"/spec/items/+0"},{"op":"replace","path":"/spec/items/-0","value":"M"}]"#,
    );
    assert_builds_like_kustomize(&tree, &[]);
}

/// `copy` from a missing object key copies null, as kustomize does.
#[test]
fn copy_from_missing_key_copies_null() {
    let tree = json(r#"[{"op":"copy","from":"/spec/nope","path":"/spec/zz"}]"#);
    let out = assert_builds_like_kustomize(&tree, &[]);
    assert!(out.contains("zz: null"), "{out}");
}

/// An index past the gaps of the list is out of range for `add`.
#[test]
fn add_out_of_range_negative() {
    let tree = json(r#"[{"op":"add","path":"/spec/items/-5","value":"N"}]"#);
    assert_fails!(tree, tree.build(&[]));
}

/// `-` is not an index for `remove`.
#[test]
fn remove_dash_is_not_an_index() {
    let tree = json(r#"[{"op":"remove","path":"/spec/items/-"}]"#);
    assert_fails!(tree, tree.build(&[]));
}

/// `replace` past the end names the missing key.
#[test]
fn replace_past_the_end() {
    let tree = json(r#"[{"op":"replace","path":"/spec/items/3","value":"N"}]"#);
    assert_fails!(tree, tree.build(&[]));
}

/// An index beyond i64 is out of range, not a panic.
#[test]
fn index_beyond_i64() {
    let tree = json(r#"[{"op":"add","path":"/spec/items/99999999999999999999","value":"N"}]"#);
    assert_fails!(tree, tree.build(&[]));
}

/// 30 `copy` operations that each double a list: a 1.4 KB patch asking for
/// 2^30 nodes stops at max_document_bytes with one line, not an abort.
#[test]
fn copy_doubling_bomb_is_bounded() {
    let ops: Vec<String> = (0..30)
        .map(|_| r#"{"op":"copy","from":"/spec/items","path":"/spec/items/-"}"#.to_owned())
        .collect();
    let tree = json(&format!("[{}]", ops.join(",")));
    assert_fails!(tree, tree.build(&[]));
}

/// The same doubling spread over 30 `patches` entries (one copy each) is bounded
/// too: the limit is on the document, not on one patch's growth.
#[test]
fn copy_doubling_across_entries_is_bounded() {
    let tree = Tree::new();
    tree.file("root/r.yaml", LIST).file(
        "root/p.yaml",
        r#"[{"op":"copy","from":"/spec/items","path":"/spec/items/-"}]"#,
    );
    let entries = "- path: p.yaml\n  target: {kind: X}\n".repeat(30);
    tree.kustomization(&format!("resources: [r.yaml]\npatches:\n{entries}"));
    assert_fails!(tree, tree.build(&[]));
}

/// A strategic-merge patch cannot amplify: a patch applied to many resources
/// grows each by the patch's size only, and the build succeeds.
#[test]
fn strategic_merge_to_many_targets_stays_linear() {
    let tree = Tree::new();
    let mut resources = String::new();
    for i in 0..200 {
        resources.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"
        ));
    }
    let big = "x".repeat(10_000);
    tree.file("root/r.yaml", &resources)
        .file(
            "root/p.yaml",
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: any\ndata:\n  big: {big}\n"
            ),
        )
        .kustomization(
            "resources: [r.yaml]\npatches:\n- path: p.yaml\n  target: {kind: ConfigMap}\n",
        );
    let out = tree.build(&[]);
    out.assert_ok();
}

/// A strategic-merge patch whose aliases would expand past the budget fails in
/// the reader, and the patch error says why.
#[test]
fn strategic_merge_alias_bomb_says_why() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            [prev.as_str(); 10].join(", ")
        ));
    }
    text.push_str("kind: X\nmetadata:\n  name: x\n");
    let tree = with_patch(&text, "{kind: X}");
    assert_fails!(tree, tree.build(&[]));
}

/// Unparseable patches say which reading failed and why.
#[test]
fn unparseable_patch_invalid_yaml() {
    let tree = with_patch("a: [b\n", "{kind: X}");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn unparseable_patch_scalar() {
    let tree = with_patch("just a scalar\n", "{kind: X}");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn unparseable_patch_list_of_numbers() {
    let tree = with_patch("[1, 2]\n", "{kind: X}");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn unparseable_patch_object_without_kind() {
    let tree = with_patch("a: &a [1]\nb: *a\n", "{kind: X}");
    assert_fails!(tree, tree.build(&[]));
}

/// `null`, `[]` and a comment are both an empty SM and an empty JSON patch: kustomize refuses.
#[test]
fn empty_patch_qualifies_as_both() {
    for text in ["null\n", "[]\n", "# only a comment\n"] {
        let tree = with_patch(text, "{kind: X}");
        let out = tree.build(&[]);
        let line = out.assert_failed();
        assert!(line.contains("illegally qualifies as both"), "{line}");
    }
}

/// `{}` has no resources, so kustomize reports the JSON reading's failure.
#[test]
fn empty_object_patch_reports_the_json_failure() {
    let tree = with_patch("{}\n", "{kind: X}");
    assert_fails!(tree, tree.build(&[]));
}

/// Go rejects repeat counts over 1000.
#[test]
fn selector_repeat_over_1000() {
    let tree = json(r#"[{"op":"add","path":"/spec/z","value":1}]"#);
    tree.kustomization(
        "resources: [r.yaml]\npatches:\n- path: p.yaml\n  target: {name: 'a{1001}'}\n",
    );
    assert_fails!(tree, tree.build(&[]));
}

/// ... and nested counts whose product passes 1000.
#[test]
fn selector_nested_repeat_product() {
    let tree = json(r#"[{"op":"add","path":"/spec/z","value":1}]"#);
    tree.kustomization(
        "resources: [r.yaml]\npatches:\n- path: p.yaml\n  target: {kind: '(a{500}){500}'}\n",
    );
    assert_fails!(tree, tree.build(&[]));
}

/// `a**` is a nested repetition operator in Go.
#[test]
fn selector_nested_repetition_operator() {
    let tree = json(r#"[{"op":"add","path":"/spec/z","value":1}]"#);
    tree.kustomization(
        "resources: [r.yaml]\npatches:\n- path: p.yaml\n  target: {namespace: 'a**'}\n",
    );
    assert_fails!(tree, tree.build(&[]));
}

/// A regex within Go's limits whose compiled form is huge fails with a clear
/// line, not unbounded memory.
#[test]
fn selector_huge_regex_is_refused() {
    let pattern = "(?:a{1000})".repeat(3000);
    let tree = json(r#"[{"op":"add","path":"/spec/z","value":1}]"#);
    tree.kustomization(&format!(
        "resources: [r.yaml]\npatches:\n- path: p.yaml\n  target: {{name: '{pattern}'}}\n"
    ));
    assert_fails!(tree, tree.build(&[]));
}

/// `{` that is not a count is a literal in Go: `a{,5}` selects nothing and the
/// build succeeds as kustomize's does.
#[test]
fn selector_brace_literal_like_go() {
    let tree = json(r#"[{"op":"add","path":"/spec/z","value":1}]"#);
    tree.kustomization(
        "resources: [r.yaml]\npatches:\n- path: p.yaml\n  target: {name: 'x{,5}'}\n",
    );
    let out = assert_builds_like_kustomize(&tree, &[]);
    assert!(!out.contains("z: 1"), "{out}");
}

/// A long inline patch and a long path echoed in errors are cut.
#[test]
fn long_inline_patch_is_truncated_in_the_error() {
    let tree = Tree::new();
    let junk = "y".repeat(5000);
    tree.file("root/r.yaml", LIST).kustomization(&format!(
        "resources: [r.yaml]\npatches:\n- target: {{kind: X}}\n  patch: 'just {junk}'\n"
    ));
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn long_json_path_is_truncated_in_the_error() {
    let long = "k".repeat(5000);
    let tree = json(&format!(r#"[{{"op":"remove","path":"/spec/{long}/x"}}]"#));
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn long_selector_regex_is_truncated_in_the_error() {
    let long = format!("{}a{{1001}}", "b".repeat(5000));
    let tree = json(r#"[{"op":"add","path":"/spec/z","value":1}]"#);
    tree.kustomization(&format!(
        "resources: [r.yaml]\npatches:\n- path: p.yaml\n  target: {{name: '{long}'}}\n"
    ));
    assert_fails!(tree, tree.build(&[]));
}
