//! Errors that must name their cause (file, field, why) in one short line, even
//! when the input they would echo is huge or holds control characters. Each
//! case is input kustomize rejects too (checked when kubectl is on PATH).

use crate::assert_fails;
use crate::harness::*;

/// kustomize rejects the tree as well (when kubectl is here to ask).
fn kustomize_rejects(tree: &Tree) {
    if let Some(theirs) = tree.kubectl(&[]) {
        assert!(
            !theirs.status.success(),
            "kubectl accepted it: {}",
            head(&theirs.stdout)
        );
    }
}

fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

/// An unknown kustomization field with a 5,000-character name.
#[test]
fn unknown_field_with_a_huge_name() {
    let tree = Tree::new();
    tree.kustomization(&format!("{}: 1\n", "f".repeat(5000)));
    kustomize_rejects(&tree);
    assert_fails!(tree, tree.build(&[]));
}

/// A YAML syntax error on a 20,000-character line of a resource.
#[test]
fn syntax_error_on_a_huge_line() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- r.yaml\n").file(
        "root/r.yaml",
        &format!(
            "{}\nkind: [unclosed {}\n",
            config_map("c"),
            "x".repeat(20_000)
        ),
    );
    kustomize_rejects(&tree);
    assert_fails!(tree, tree.build(&[]));
}

/// A resource entry holding a newline and a terminal escape sequence: the
/// error stays one line and the escape never reaches the terminal raw.
#[test]
fn control_characters_in_an_entry_are_escaped() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- \"a\\nb\\e[31mred.yaml\"\n");
    kustomize_rejects(&tree);
    let out = tree.build(&[]);
    let line = out.assert_failed();
    assert!(!line.contains('\u{1b}'), "{line}");
    insta::assert_snapshot!(tree.normalise(line));
}

/// A resource file that is not UTF-8 (and not UTF-16 with a byte-order mark).
#[test]
fn invalid_utf8_resource() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- r.yaml\n");
    let mut bytes = config_map("c").into_bytes();
    bytes.extend_from_slice(b"data:\n  k: \xff\xfe\xfd\n");
    tree.bytes("root/r.yaml", &bytes);
    kustomize_rejects(&tree);
    assert_fails!(tree, tree.build(&[]));
}

/// A kustomization file whose top level is a list.
#[test]
fn kustomization_that_is_a_list() {
    let tree = Tree::new();
    tree.kustomization("- resources\n- r.yaml\n");
    kustomize_rejects(&tree);
    assert_fails!(tree, tree.build(&[]));
}

/// Two resources with the same 3,000-character name.
#[test]
fn duplicate_ids_with_huge_names() {
    let tree = Tree::new();
    let name = "n".repeat(3000);
    tree.kustomization("resources:\n- a.yaml\n- b.yaml\n")
        .file("root/a.yaml", &config_map(&name))
        .file("root/b.yaml", &config_map(&name));
    kustomize_rejects(&tree);
    assert_fails!(tree, tree.build(&[]));
}

/// A NUL byte inside a resource.
#[test]
fn nul_byte_in_a_resource() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- r.yaml\n");
    let mut bytes = config_map("c").into_bytes();
    bytes.extend_from_slice(b"data:\n  k: a\x00b\n");
    tree.bytes("root/r.yaml", &bytes);
    kustomize_rejects(&tree);
    assert_fails!(tree, tree.build(&[]));
}

/// A generator literal without `=`, 10,000 characters long.
#[test]
fn malformed_generator_literal_is_cut() {
    let tree = Tree::new();
    tree.kustomization(&format!(
        "configMapGenerator:\n- name: g\n  literals:\n  - {}\n",
        "v".repeat(10_000)
    ));
    kustomize_rejects(&tree);
    assert_fails!(tree, tree.build(&[]));
}

/// Characters go-yaml's reader refuses ("control characters are not allowed"),
/// in a resource value, a comment, or the kustomization file itself.
fn control_character(name: &str, in_kustomization: bool, bytes: &[u8]) {
    let tree = Tree::new();
    if in_kustomization {
        let mut k = b"resources:\n- cm.yaml\ncommonAnnotations:\n  a: \"x".to_vec();
        k.extend_from_slice(bytes);
        k.extend_from_slice(b"\"\n");
        tree.bytes("root/kustomization.yaml", &k)
            .file("root/cm.yaml", &config_map("c"));
    } else {
        let mut r = config_map("c").into_bytes();
        r.extend_from_slice(b"data:\n  k: \"v");
        r.extend_from_slice(bytes);
        r.extend_from_slice(b"\"\n# done\n");
        tree.kustomization("resources:\n- cm.yaml\n")
            .bytes("root/cm.yaml", &r);
    }
    kustomize_rejects(&tree);
    let out = tree.build(&[]);
    let line = out.assert_failed();
    insta::assert_snapshot!(format!("control_character_{name}"), tree.normalise(line));
}

#[test]
fn control_character_soh_in_a_value() {
    control_character("soh", false, b"\x01");
}

#[test]
fn control_character_escape_in_the_kustomization() {
    control_character("escape_in_kustomization", true, b"\x1b[31m");
}

#[test]
fn control_character_del() {
    control_character("del", false, b"\x7f");
}

#[test]
fn control_character_c1() {
    control_character("c1", false, "\u{80}".as_bytes());
}

#[test]
fn control_character_noncharacter_fffe() {
    control_character("fffe", false, "\u{fffe}".as_bytes());
}
