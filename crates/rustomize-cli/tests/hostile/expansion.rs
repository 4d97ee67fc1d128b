//! Expansion bombs through composition: small trees that include the same bases
//! through many overlays, each with its own prefix so no ids collide. Every
//! inclusion re-reads and re-builds the base, so the work doubles per level;
//! the build's budgets of bytes read and kustomizations read bound it.

use crate::assert_fails;
use crate::harness::*;

/// `levels` levels over `root/l0` (which holds `leaf`): level i includes level
/// i-1 twice, through overlays `a` and `b` with different prefixes.
fn doubling_tree(tree: &Tree, levels: usize, leaf: &str) {
    tree.file("root/l0/kustomization.yaml", "resources:\n- cm.yaml\n")
        .file("root/l0/cm.yaml", leaf);
    for i in 1..=levels {
        let below = i - 1;
        for side in ["a", "b"] {
            tree.file(
                &format!("root/l{i}/{side}/kustomization.yaml"),
                &format!("resources:\n- ../../l{below}\nnamePrefix: {side}-\n"),
            );
        }
        tree.file(
            &format!("root/l{i}/kustomization.yaml"),
            "resources:\n- a\n- b\n",
        );
    }
    tree.kustomization(&format!("resources:\n- l{levels}\n"));
}

fn config_map(value_bytes: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: {}\n",
        "v".repeat(value_bytes)
    )
}

/// 2^40 copies of a small ConfigMap: stopped by the kustomization budget long
/// before memory or time run out.
#[test]
fn doubling_overlays_hit_the_kustomization_budget() {
    let tree = Tree::new();
    doubling_tree(&tree, 40, &config_map(10));
    let out = tree.build(&[]);
    let line = out.assert_failed();
    assert!(line.contains("kustomizations read in all"), "{line}");
}

/// 2^20 copies of a 1 MB ConfigMap: stopped by the budget of bytes read.
#[test]
fn doubling_overlays_of_a_big_file_hit_the_read_budget() {
    let tree = Tree::new();
    doubling_tree(&tree, 20, &config_map(1 << 20));
    let out = tree.build(&[]);
    let line = out.assert_failed();
    assert!(line.contains("bytes read in all"), "{line}");
}

/// The same shape at a depth real trees have (2^6 copies) builds, and exactly
/// as kustomize builds it.
#[test]
fn shallow_doubling_builds_like_kustomize() {
    let tree = Tree::new();
    doubling_tree(&tree, 6, &config_map(10));
    let out = assert_builds_like_kustomize(&tree, &[]);
    assert_eq!(out.matches("kind: ConfigMap").count(), 64);
}

/// A kustomization whose replacements copy a mapping into two new fields of
/// its own resource, then that field into two more, `levels` times.
fn replacement_doubling(tree: &Tree, levels: usize) {
    let mut k = String::from("resources:\n- cm.yaml\nreplacements:\n");
    for i in 0..levels {
        let from = if i == 0 {
            "data".to_owned()
        } else {
            format!("spec.l{i}")
        };
        let next = i + 1;
        k.push_str(&format!(
            "- source:\n    kind: ConfigMap\n    name: c\n    fieldPath: {from}\n  targets:\n  - select:\n      kind: ConfigMap\n    fieldPaths:\n    - spec.l{next}.a\n    - spec.l{next}.b\n    options:\n      create: true\n"
        ));
    }
    // After the first copy, each level's source is the previous level's
    // pair, so the resource doubles with every replacement.
    tree.kustomization(&k).file(
        "root/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: value\n",
    );
}

/// 2^60 copies through replacements: stopped by the per-document growth bound.
#[test]
fn doubling_replacements_hit_the_document_bound() {
    let tree = Tree::new();
    replacement_doubling(&tree, 60);
    assert_fails!(tree, tree.build(&[]));
}

/// The same chain, 8 levels deep, builds exactly as kustomize builds it.
#[test]
fn shallow_replacement_chain_builds_like_kustomize() {
    let tree = Tree::new();
    replacement_doubling(&tree, 8);
    assert_builds_like_kustomize(&tree, &[]);
}

/// A 1 MB var referenced 300 times in one 1.5 KB argument: 300 MB of text,
/// stopped by the per-object growth bound on var expansion.
#[test]
fn var_repeated_many_times_hits_the_document_bound() {
    let tree = Tree::new();
    let refs = "$(BIG)".repeat(300);
    tree.kustomization(
        "resources:\n- cm.yaml\n- pod.yaml\nvars:\n- name: BIG\n  objref:\n    kind: ConfigMap\n    name: big\n    apiVersion: v1\n  fieldref:\n    fieldpath: data.v\n",
    )
    .file(
        "root/cm.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  v: {}\n",
            "x".repeat(1 << 20)
        ),
    )
    .file(
        "root/pod.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n    args:\n    - \"{refs}\"\n"
        ),
    );
    assert_fails!(tree, tree.build(&[]));
}

/// Each limit can be lowered from the command line, and the error names the
/// flag that raises it again.
#[test]
fn limit_flags_lower_each_budget() {
    let tree = Tree::new();
    doubling_tree(&tree, 2, &config_map(100));
    let cases: [(&str, &str, &str); 5] = [
        ("--max-kustomizations", "3", "--max-kustomizations"),
        ("--max-read-bytes", "200", "--max-read-bytes"),
        ("--max-file-bytes", "50", "--max-file-bytes"),
        ("--max-depth", "1", "--max-depth"),
        ("--max-document-bytes", "1", "--max-document-bytes"),
    ];
    for (flag, value, named) in cases {
        let out = tree.build(&[flag, value]);
        if flag == "--max-document-bytes" {
            // Nothing in this tree grows a document: the flag is accepted.
            out.assert_ok();
            continue;
        }
        let line = out.assert_failed();
        assert!(line.contains(named), "{flag}: {line}");
    }
    tree.build(&[]).assert_ok();
}

/// A Service whose port list has an element without the `port` merge key, and
/// `patches` strategic-merge patches that each add a port: kustomize's list
/// merge re-appends the keyless element once per merge key, so every patch
/// doubles it (found by fuzzing the strategic merge).
fn keyless_port_doubling(tree: &Tree, patches: usize) {
    let mut k = String::from("resources:\n- svc.yaml\npatches:\n");
    for i in 0..patches {
        k.push_str(&format!("- path: p{i}.yaml\n"));
        tree.file(
            &format!("root/p{i}.yaml"),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - {port: 50, protocol: TCP}\n",
        );
    }
    tree.kustomization(&k).file(
        "root/svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - {port: 24, protocol: TCP}\n  - {name: x, protocol: UDP}\n",
    );
}

/// Five patches: 63 copies of the keyless element, exactly as kustomize.
#[test]
fn strategic_merge_list_doubling_builds_like_kustomize() {
    let tree = Tree::new();
    keyless_port_doubling(&tree, 5);
    let out = assert_builds_like_kustomize(&tree, &[]);
    assert_eq!(out.matches("name: x").count(), 63);
}

/// Forty patches would make 2^41 copies, and each merge is quadratic in the
/// list's length: stopped by the bound on one list merge's comparisons.
#[test]
fn strategic_merge_list_doubling_hits_the_merge_bound() {
    let tree = Tree::new();
    keyless_port_doubling(&tree, 40);
    assert_fails!(tree, tree.build(&[]));
}

/// `count` Pods, each with one argument `text`, in `root/pods.yaml`.
fn pods(tree: &Tree, count: usize, text: &str) {
    let docs: Vec<String> = (0..count)
        .map(|i| format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    args:\n    - \"{text}\"\n"
        ))
        .collect();
    tree.file("root/pods.yaml", &docs.join("---\n"));
}

fn big_config_map() -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  v: {}\n",
        "x".repeat(1 << 20)
    )
}

/// A 1 MB var referenced once in each of 200 Pods: 200 MB in all, stopped by
/// the build-wide budget of var expansion (no single object is over it).
#[test]
fn var_in_many_objects_hits_the_build_budget() {
    let tree = Tree::new();
    tree.kustomization(
        "resources:\n- cm.yaml\n- pods.yaml\nvars:\n- name: BIG\n  objref:\n    kind: ConfigMap\n    name: big\n    apiVersion: v1\n  fieldref:\n    fieldpath: data.v\n",
    )
    .file("root/cm.yaml", &big_config_map());
    pods(&tree, 200, "$(BIG)");
    assert_fails!(tree, tree.build(&[]));
}

/// A replacement copying a 1 MB value into every one of 200 Pods: stopped by
/// the budget of what one kustomization's replacements may add.
#[test]
fn replacement_into_many_targets_hits_the_budget() {
    let tree = Tree::new();
    tree.kustomization(
        "resources:\n- cm.yaml\n- pods.yaml\nreplacements:\n- source:\n    kind: ConfigMap\n    name: big\n    fieldPath: data.v\n  targets:\n  - select:\n      kind: Pod\n    fieldPaths:\n    - spec.containers.0.args.0\n",
    )
    .file("root/cm.yaml", &big_config_map());
    pods(&tree, 200, "x");
    assert_fails!(tree, tree.build(&[]));
}
