//! Escapes from the kustomization root: symlinks, `..`, absolute paths, non-regular files.
//!
//! What kustomize v5.5.0 does was measured case by case: it refuses every escape
//! below (a kustomization file that symlinks out of its directory is reported
//! as missing; any other file as "security; file ... is not in or below ...").
//! On FIFOs it hangs and on `/dev/zero` it runs out of memory; we refuse them.
//! Successful builds are compared with `kubectl kustomize` when it is on PATH.

use crate::assert_fails;
use crate::harness::*;

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  k: v\n";

const LIFTED: &[&str] = &["--load-restrictor", "LoadRestrictionsNone"];

/// A tree whose root holds `cm.yaml` (so patches have a target).
fn with_cm() -> Tree {
    let tree = Tree::new();
    tree.file("root/cm.yaml", CM);
    tree
}

// --- kustomization files that symlink out -------------------------------

#[test]
fn kustomization_yaml_symlink_out() {
    let tree = Tree::new();
    tree.symlink("../outside/kustomization.yaml", "root/kustomization.yaml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn kustomization_yml_symlink_out() {
    let tree = Tree::new();
    tree.symlink("../outside/kustomization.yaml", "root/kustomization.yml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn capital_kustomization_symlink_out() {
    let tree = Tree::new();
    tree.symlink("../outside/kustomization.yaml", "root/Kustomization");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn base_kustomization_symlink_out() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- base\n").symlink(
        "../../outside/kustomization.yaml",
        "root/base/kustomization.yaml",
    );
    assert_fails!(tree, tree.build(&[]));
}

/// The base's kustomization file points into the top root but out of the base's
/// own directory: kustomize holds it to the base's root.
#[test]
fn base_kustomization_symlink_to_parent_dir() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- base\n")
        .file(
            "root/k.yaml",
            "configMapGenerator:\n- name: up\n  literals: [a=b]\n",
        )
        .symlink("../k.yaml", "root/base/kustomization.yaml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn component_kustomization_symlink_out() {
    let tree = Tree::new();
    tree.kustomization("components:\n- comp\n")
        .file(
            "outside/comp/kustomization.yaml",
            &format!(
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n\
                 configMapGenerator:\n- name: leaked\n  literals: [key={SECRET}]\n"
            ),
        )
        .symlink(
            "../../outside/comp/kustomization.yaml",
            "root/comp/kustomization.yaml",
        );
    assert_fails!(tree, tree.build(&[]));
}

/// kustomize reads a kustomization file that symlinks out when the restrictor
/// is lifted; so do we (the target here holds no secret).
#[test]
fn kustomization_symlink_out_read_with_restrictions_none() {
    let tree = Tree::new();
    tree.file(
        "elsewhere/k.yaml",
        "configMapGenerator:\n- name: shared\n  literals: [a=b]\n",
    )
    .symlink("../elsewhere/k.yaml", "root/kustomization.yaml");
    let out = assert_builds_like_kustomize(&tree, LIFTED);
    assert!(out.contains("name: shared-"));
}

#[test]
fn kustomization_symlink_inside_root_builds() {
    let tree = Tree::new();
    tree.file(
        "root/real/k.yaml",
        "resources:\n- cm.yaml\nnamePrefix: in-\n",
    )
    .file("root/cm.yaml", CM)
    .symlink("real/k.yaml", "root/kustomization.yaml");
    let out = assert_builds_like_kustomize(&tree, &[]);
    assert!(out.contains("name: in-app"));
}

// --- other files that symlink or path out ----------------------------------

#[test]
fn resource_file_symlink_out() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- cm.yaml\n")
        .symlink("../outside/secret.yaml", "root/cm.yaml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn resource_through_dir_symlink_out() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- d/secret.yaml\n")
        .symlink("../outside", "root/d");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn resource_symlink_chain_out() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- a.yaml\n")
        .symlink("b.yaml", "root/a.yaml")
        .symlink("sub/c.yaml", "root/b.yaml")
        .symlink("../../outside/secret.yaml", "root/sub/c.yaml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn resource_dotdot_in_the_middle() {
    let tree = Tree::new();
    tree.dir("root/sub")
        .kustomization("resources:\n- sub/../../outside/secret.yaml\n");
    assert_fails!(tree, tree.build(&[]));
}

/// kustomize cleans every path as text before resolving it, so a `..` after
/// a symlink out of the root cancels the link's name and stays inside: the
/// secret beside the link's target is never read, restrictor or not.
#[test]
fn resource_dotdot_after_symlink_out_stays_inside() {
    let tree = Tree::new();
    tree.file("root/sub/secret.yaml", CM)
        .dir("outside/deep")
        .symlink("../../outside/deep", "root/sub/link")
        .kustomization("resources:\n- sub/link/../secret.yaml\n");
    for extra in [&[][..], LIFTED] {
        let out = assert_builds_like_kustomize(&tree, extra);
        assert!(out.contains("name: app"), "{out}");
    }
}

/// Cleaned as text, a path may still pass through a symlink out of the
/// root; the restrictor judges the cleaned path once resolved.
#[test]
fn resource_dotdot_then_symlink_out() {
    let tree = Tree::new();
    tree.dir("root/sub/x")
        .symlink("../../outside", "root/sub/d")
        .kustomization("resources:\n- sub/x/../d/secret.yaml\n");
    assert_fails!(tree, tree.build(&[]));
}

/// Through the symlink the path would stay in the root; cleaned as text it
/// climbs out of it, and kustomize refuses it (so do we).
#[test]
fn resource_dotdot_after_symlink_climbs_out() {
    let tree = Tree::new();
    tree.file("root/outside/secret.yaml", CM)
        .dir("root/a/b/c")
        .symlink("../a/b/c", "root/sub/link")
        .kustomization("resources:\n- sub/link/../../../outside/secret.yaml\n");
    assert_fails!(tree, tree.build(&[]));
}

/// An absolute file path read with the restrictor lifted is kustomize's one
/// path not cleaned first: the system follows the link before the `..`.
#[test]
fn absolute_path_lifted_resolves_through_symlink() {
    let tree = Tree::new();
    tree.file("root/sub/cm.yaml", CM)
        .file("elsewhere/cm.yaml", &CM.replace("app", "elsewhere"))
        .dir("elsewhere/deep")
        .symlink("../../elsewhere/deep", "root/sub/link");
    let entry = tree.path("root/sub/link/../cm.yaml");
    tree.kustomization(&format!("resources:\n- {}\n", entry.display()));
    let out = assert_builds_like_kustomize(&tree, LIFTED);
    assert!(out.contains("name: elsewhere"), "{out}");
    // Restricted, it is cleaned (and inside).
    let out = assert_builds_like_kustomize(&tree, &[]);
    assert!(out.contains("name: app"), "{out}");
}

/// The build argument is cleaned as text too, from the working directory as
/// Go names it: `$PWD` when that is the working directory. From a directory
/// reached through a symlink, `../root` is the link's sibling.
#[test]
fn root_argument_dotdot_from_a_linked_working_directory() {
    let tree = Tree::new();
    tree.file("root/cm.yaml", CM)
        .kustomization("resources:\n- cm.yaml\n")
        .dir("deep/er")
        .symlink("deep/er", "here");
    let here = tree.path("here");
    let run = |program: &str, first: &str| {
        std::process::Command::new(program)
            .args([first, "../root"])
            .current_dir(&here)
            .env("PWD", &here)
            .output()
            .expect("run")
    };
    let ours = run(env!("CARGO_BIN_EXE_rustomize"), "build");
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let stdout = String::from_utf8_lossy(&ours.stdout);
    assert!(stdout.contains("name: app"), "{stdout}");
    if tree.kubectl(&[]).is_some() {
        let theirs = run("kubectl", "kustomize");
        assert_eq!(
            ours.stdout, theirs.stdout,
            "output differs from kubectl kustomize"
        );
    }
}

/// The same from a working directory whose `$PWD` itself holds a `..` after
/// the link: Go cleans `$PWD` and the argument together, so `..` leaves the
/// name written in `$PWD` (the linked directory's parent by name), not the
/// link's target. Building `.` there names a directory that does not exist.
#[test]
fn root_argument_dotdot_with_an_unclean_pwd() {
    let tree = Tree::new();
    tree.file("app/cm.yaml", CM)
        .file("app/kustomization.yaml", "resources:\n- cm.yaml\n")
        .file("real/cm.yaml", &CM.replace("app", "real"))
        .file("real/kustomization.yaml", "resources:\n- cm.yaml\n")
        .dir("real/inner")
        .symlink("../real/inner", "app/link");
    let here = tree.path("app/link");
    let pwd = tree.path("app/link/../inner");
    let run = |program: &str, first: &str, arg: &str| {
        std::process::Command::new(program)
            .args([first, arg])
            .current_dir(&here)
            .env("PWD", &pwd)
            .output()
            .expect("run")
    };
    let ours = run(env!("CARGO_BIN_EXE_rustomize"), "build", "..");
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let stdout = String::from_utf8_lossy(&ours.stdout);
    assert!(stdout.contains("name: app"), "{stdout}");
    let dot = run(env!("CARGO_BIN_EXE_rustomize"), "build", ".");
    assert_eq!(dot.status.code(), Some(1));
    if tree.kubectl(&[]).is_some() {
        let theirs = run("kubectl", "kustomize", "..");
        assert_eq!(
            ours.stdout, theirs.stdout,
            "output differs from kubectl kustomize"
        );
        assert!(!run("kubectl", "kustomize", ".").status.success());
    }
}

/// With the restrictor lifted an absolute path is read as written, and a
/// trailing `/` or `/.` asks for a directory: a file there is "not a
/// directory" (kustomize fails alike), never read.
#[test]
fn absolute_file_with_trailing_slash_lifted() {
    for suffix in ["/", "/."] {
        let tree = Tree::new();
        let secret = tree.path("outside/secret.yaml");
        tree.kustomization(&format!("resources:\n- {}{suffix}\n", secret.display()));
        assert_fails!(tree, tree.build(LIFTED));
        if let Some(theirs) = tree.kubectl(LIFTED) {
            assert!(!theirs.status.success(), "kubectl read the file");
        }
        tree.kustomization(&format!(
            "configMapGenerator:\n- name: x\n  files:\n  - {}{suffix}\n",
            secret.display()
        ));
        assert_fails!(tree, tree.build(LIFTED));
        if let Some(theirs) = tree.kubectl(LIFTED) {
            assert!(!theirs.status.success(), "kubectl read the file");
        }
    }
}

#[test]
fn resource_absolute_path() {
    let tree = Tree::new();
    let secret = tree.path("outside/secret.yaml");
    tree.kustomization(&format!("resources:\n- {}\n", secret.display()));
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn generator_file_symlink_out() {
    let tree = Tree::new();
    tree.kustomization("configMapGenerator:\n- name: x\n  files: [f.txt]\n")
        .symlink("../outside/secret.env", "root/f.txt");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn generator_env_symlink_out() {
    let tree = Tree::new();
    tree.kustomization("secretGenerator:\n- name: x\n  envs: [e.env]\n")
        .symlink("../outside/secret.env", "root/e.env");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn generator_file_dotdot_out() {
    let tree = Tree::new();
    tree.kustomization("configMapGenerator:\n- name: x\n  files: [k=../outside/secret.env]\n");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn patch_file_symlink_out() {
    let tree = with_cm();
    tree.kustomization("resources: [cm.yaml]\npatches:\n- path: p.yaml\n")
        .symlink("../outside/secret.yaml", "root/p.yaml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn strategic_merge_patch_symlink_out() {
    let tree = with_cm();
    tree.kustomization("resources: [cm.yaml]\npatchesStrategicMerge:\n- p.yaml\n")
        .symlink("../outside/secret.yaml", "root/p.yaml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn json6902_patch_absolute_path_out() {
    let tree = with_cm();
    tree.file(
        "outside/ops.yaml",
        &format!("- op: add\n  path: /data/x\n  value: {SECRET}\n"),
    );
    let ops = tree.path("outside/ops.yaml");
    tree.kustomization(&format!(
        "resources: [cm.yaml]\npatchesJson6902:\n- target:\n    version: v1\n    kind: ConfigMap\n    name: app\n  path: {}\n",
        ops.display()
    ));
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn configurations_symlink_out() {
    let tree = with_cm();
    tree.file("outside/conf.yaml", "namePrefix:\n- path: metadata/name\n")
        .kustomization("resources: [cm.yaml]\nconfigurations: [conf.yaml]\n")
        .symlink("../outside/conf.yaml", "root/conf.yaml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn crds_symlink_out() {
    let tree = with_cm();
    tree.file("outside/crd.json", "{}\n")
        .kustomization("resources: [cm.yaml]\ncrds: [crd.json]\n")
        .symlink("../outside/crd.json", "root/crd.json");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn openapi_symlink_out() {
    let tree = with_cm();
    tree.file("outside/oa.json", "{\"definitions\": {}}\n")
        .kustomization("resources: [cm.yaml]\nopenapi:\n  path: oa.json\n")
        .symlink("../outside/oa.json", "root/oa.json");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn replacements_path_symlink_out() {
    let tree = with_cm();
    tree.file(
        "outside/repl.yaml",
        "- source:\n    kind: ConfigMap\n    fieldPath: data.k\n  targets:\n  - select:\n      kind: ConfigMap\n    fieldPaths: [data.z]\n",
    )
    .kustomization("resources: [cm.yaml]\nreplacements:\n- path: repl.yaml\n")
    .symlink("../outside/repl.yaml", "root/repl.yaml");
    assert_fails!(tree, tree.build(&[]));
}

// --- what stays inside the root keeps working -------------------------------

#[test]
fn symlinked_dir_and_file_inside_root_build() {
    let tree = Tree::new();
    tree.file("root/real/cm.yaml", CM)
        .file("root/real/data.txt", "payload\n")
        .symlink("real", "root/linked")
        .symlink("real/cm.yaml", "root/cm-link.yaml")
        .kustomization(
            "resources:\n- cm-link.yaml\nconfigMapGenerator:\n- name: gen\n  files:\n  - linked/data.txt\n",
        );
    let out = assert_builds_like_kustomize(&tree, &[]);
    assert!(out.contains("payload"));
}

/// A base directory reached through a symlink may lie outside the root
/// (kustomize allows bases anywhere); its own files stay within it.
#[test]
fn base_dir_symlink_out_builds() {
    let tree = Tree::new();
    tree.file("shared/base/cm.yaml", CM)
        .file("shared/base/kustomization.yaml", "resources: [cm.yaml]\n")
        .symlink("../shared/base", "root/base")
        .kustomization("resources:\n- base\n");
    let out = assert_builds_like_kustomize(&tree, &[]);
    assert!(out.contains("name: app"));
}

// --- non-regular files --------------------------------------------------------

#[test]
fn fifo_resource_does_not_hang() {
    let tree = Tree::new();
    tree.fifo("root/cm.yaml")
        .kustomization("resources:\n- cm.yaml\n");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn fifo_generator_file_does_not_hang() {
    let tree = Tree::new();
    tree.fifo("root/f")
        .kustomization("configMapGenerator:\n- name: x\n  files: [f]\n");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn fifo_patch_does_not_hang() {
    let tree = with_cm();
    tree.fifo("root/p.yaml")
        .kustomization("resources: [cm.yaml]\npatches:\n- path: p.yaml\n");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn fifo_kustomization_does_not_hang() {
    let tree = Tree::new();
    tree.fifo("root/kustomization.yaml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn dev_zero_resource_with_restrictions_none() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- /dev/zero\n");
    assert_fails!(tree, tree.build(LIFTED));
}

#[test]
fn dev_urandom_generator_file_with_restrictions_none() {
    let tree = Tree::new();
    tree.kustomization("configMapGenerator:\n- name: x\n  files: [/dev/urandom]\n");
    assert_fails!(tree, tree.build(LIFTED));
}

#[test]
fn dev_zero_generator_env_with_restrictions_none() {
    let tree = Tree::new();
    tree.kustomization("configMapGenerator:\n- name: x\n  envs: [/dev/zero]\n");
    assert_fails!(tree, tree.build(LIFTED));
}

#[test]
fn dev_zero_patch_with_restrictions_none() {
    let tree = with_cm();
    tree.kustomization("resources: [cm.yaml]\npatches:\n- path: /dev/zero\n");
    assert_fails!(tree, tree.build(LIFTED));
}

#[test]
fn socket_resource() {
    let tree = Tree::new();
    let _listener =
        std::os::unix::net::UnixListener::bind(tree.path("root/cm.yaml")).expect("bind");
    tree.kustomization("resources:\n- cm.yaml\n");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn directory_as_generator_file() {
    let tree = Tree::new();
    tree.dir("root/f")
        .kustomization("configMapGenerator:\n- name: x\n  files: [f]\n");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn directory_as_patch() {
    let tree = with_cm();
    tree.dir("root/p")
        .kustomization("resources: [cm.yaml]\npatches:\n- path: p\n");
    assert_fails!(tree, tree.build(&[]));
}

/// A sparse file over the default 64 MiB limit is refused before it is read.
#[test]
fn oversized_resource() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- big.yaml\n");
    let big = std::fs::File::create(tree.path("root/big.yaml")).expect("create");
    big.set_len(65 * 1024 * 1024).expect("set_len");
    assert_fails!(tree, tree.build(&[]));
}

// --- symlink loops and dangling links ----------------------------------------

#[test]
fn symlink_loop_self() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- cm.yaml\n")
        .symlink("cm.yaml", "root/cm.yaml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn symlink_loop_pair() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- a.yaml\n")
        .symlink("b.yaml", "root/a.yaml")
        .symlink("a.yaml", "root/b.yaml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn symlink_loop_generator_file() {
    let tree = Tree::new();
    tree.kustomization("configMapGenerator:\n- name: x\n  files: [f]\n")
        .symlink("f", "root/f");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn symlink_loop_kustomization() {
    let tree = Tree::new();
    tree.symlink("kustomization.yaml", "root/kustomization.yaml");
    assert_fails!(tree, tree.build(&[]));
}

#[test]
fn dangling_symlink_resource() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- cm.yaml\n")
        .symlink("nowhere.yaml", "root/cm.yaml");
    assert_fails!(tree, tree.build(&[]));
}

// --- kustomization directories named by absolute paths --------------------

/// `resources`, `bases` and `components` entries naming a directory by an
/// absolute path: kustomize refuses them ("new root ... cannot be absolute")
/// whatever the restrictor, so a tree cannot pull in any directory of the host.
fn absolute_dir_entry(field: &str, extra: &[&str]) {
    let tree = Tree::new();
    let outside = tree.path("outside");
    let outside = outside.to_str().expect("utf-8");
    tree.kustomization(&format!("{field}:\n- {outside}\n"));
    if let Some(theirs) = tree.kubectl(extra) {
        assert!(!theirs.status.success(), "kubectl accepted it");
    }
    let out = tree.build(extra);
    let line = out.assert_failed();
    insta::assert_snapshot!(format!("absolute_{field}_dir"), tree.normalise(line));
}

#[test]
fn absolute_resources_dir() {
    absolute_dir_entry("resources", &[]);
}

#[test]
fn absolute_bases_dir_with_restrictions_none() {
    absolute_dir_entry("bases", &["--load-restrictor", "LoadRestrictionsNone"]);
}

#[test]
fn absolute_components_dir() {
    absolute_dir_entry("components", &[]);
}

// --- argsFromFile of a legacy exec plugin ----------------------------------

/// A legacy exec generator `ArgsPlugin` (under `ph/`, outside the root) that
/// prints a ConfigMap holding its arguments, configured by `root/gen.yaml`
/// with `argsFromFile: <file>`.
fn args_plugin_tree(file: &str) -> Tree {
    let tree = Tree::new();
    tree.file(
        "ph/example.com/v1/argsplugin/ArgsPlugin",
        "#!/bin/sh\nshift\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: args\\ndata:\\n  args: \"%s\"\\n' \"$*\"\n",
    );
    std::fs::set_permissions(
        tree.path("ph/example.com/v1/argsplugin/ArgsPlugin"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    tree.file(
        "root/gen.yaml",
        &format!(
            "apiVersion: example.com/v1\nkind: ArgsPlugin\nmetadata:\n  name: a\nargsFromFile: {file}\n"
        ),
    )
    .kustomization("generators:\n- gen.yaml\n");
    tree
}

/// `program` (`rustomize build` or `kubectl kustomize`) on the tree's root
/// with the plugin home and alpha plugins.
fn run_args_plugin(tree: &Tree, program: &str, extra: &[&str]) -> Outcome {
    let first = if program == "kubectl" {
        "kustomize"
    } else {
        "build"
    };
    let out = std::process::Command::new(program)
        .arg(first)
        .arg(tree.root())
        .arg("--enable-alpha-plugins")
        .args(extra)
        .env("KUSTOMIZE_PLUGIN_HOME", tree.path("ph"))
        .current_dir(tree.base())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    Outcome {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Both tools succeed alike (when kubectl is on PATH); returns our output.
fn args_plugin_builds_like_kustomize(tree: &Tree, extra: &[&str]) -> String {
    let ours = run_args_plugin(tree, env!("CARGO_BIN_EXE_rustomize"), extra);
    let theirs = tree
        .kubectl(&[])
        .map(|_| run_args_plugin(tree, "kubectl", extra));
    assert_same_success(&ours, theirs)
}

/// kustomize reads `argsFromFile` with the kustomization's loader: cleaned
/// as text first, so `..` cancels a symlink's name (inside or out of the
/// root) and the file beside the link is read, not the one beside its target.
#[test]
fn args_from_file_dotdot_after_symlink_is_cleaned() {
    for link in ["../../elsewhere/deep", "deep/x"] {
        let tree = args_plugin_tree("sub/link/../args.txt");
        tree.file("root/sub/args.txt", "beside-link\n")
            .file("root/sub/deep/x/keep", "")
            .file("root/sub/deep/args.txt", "beside-target\n")
            .file("elsewhere/deep/keep", "")
            .file("elsewhere/args.txt", "beside-target\n")
            .symlink(link, "root/sub/link");
        let out = args_plugin_builds_like_kustomize(&tree, &[]);
        assert!(out.contains("args: beside-link"), "{out}");
    }
}

/// Cleaned as text, the path climbs out of the root (through the link it
/// would have stayed inside): refused, as kustomize refuses it.
#[test]
fn args_from_file_dotdot_climbing_out_is_refused() {
    let tree = args_plugin_tree("sub/link/../../../outside/args.txt");
    tree.file("root/outside/args.txt", "inside\n")
        .file("root/a/b/c/keep", "")
        .file("outside/args.txt", &format!("{SECRET}\n"))
        .symlink("../a/b/c", "root/sub/link");
    let ours = run_args_plugin(&tree, env!("CARGO_BIN_EXE_rustomize"), &[]);
    insta::assert_snapshot!(tree.normalise(ours.assert_failed()));
    if tree.kubectl(&[]).is_some() {
        assert!(!run_args_plugin(&tree, "kubectl", &[]).status.success());
    }
}

/// An absolute path out of the root: refused under the restrictor, read
/// with it lifted (kustomize does both).
#[test]
fn args_from_file_absolute_follows_the_restrictor() {
    // The path is only known once the tree exists: the config is rewritten.
    let tree = args_plugin_tree("placeholder");
    let file = tree.path("outside/args.txt");
    tree.file("outside/args.txt", "lifted\n").file(
        "root/gen.yaml",
        &format!(
            "apiVersion: example.com/v1\nkind: ArgsPlugin\nmetadata:\n  name: a\nargsFromFile: {}\n",
            file.display()
        ),
    );
    let ours = run_args_plugin(&tree, env!("CARGO_BIN_EXE_rustomize"), &[]);
    insta::assert_snapshot!(tree.normalise(ours.assert_failed()));
    let out = args_plugin_builds_like_kustomize(&tree, LIFTED);
    assert!(out.contains("args: lifted"), "{out}");
}

/// A FIFO (kustomize blocks on it) and a file over --max-file-bytes are
/// refused like any file the kustomization names, before anything is read.
#[test]
fn args_from_file_fifo_and_oversized_are_refused() {
    let tree = args_plugin_tree("fifo");
    tree.fifo("root/fifo");
    let ours = run_args_plugin(&tree, env!("CARGO_BIN_EXE_rustomize"), &[]);
    insta::assert_snapshot!(tree.normalise(ours.assert_failed()));
    let tree = args_plugin_tree("big.txt");
    tree.file("root/big.txt", &"x\n".repeat(1000));
    let ours = run_args_plugin(
        &tree,
        env!("CARGO_BIN_EXE_rustomize"),
        &["--max-file-bytes", "100"],
    );
    insta::assert_snapshot!(tree.normalise(ours.assert_failed()));
}

/// `argsFromFile` counts against the read budget like any file, and a build
/// that runs out of it names the file the entry order reaches, whichever
/// thread read first: here `b/cm.yaml`, read after `a`'s generator.
#[test]
fn args_from_file_spends_the_read_budget_in_entry_order() {
    let tree = args_plugin_tree("args.txt");
    let data = "x".repeat(3000);
    tree.file("root/a/kustomization.yaml", "generators:\n- gen.yaml\n")
        .file(
            "root/a/gen.yaml",
            "apiVersion: example.com/v1\nkind: ArgsPlugin\nmetadata:\n  name: a\nargsFromFile: args.txt\n",
        )
        .file("root/a/args.txt", &data)
        .file("root/b/kustomization.yaml", "resources:\n- cm.yaml\n")
        .file(
            "root/b/cm.yaml",
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  k: {data}\n"),
        )
        .kustomization("resources:\n- a\n- b\n");
    let budget = |bytes: usize| {
        run_args_plugin(
            &tree,
            env!("CARGO_BIN_EXE_rustomize"),
            &["--max-read-bytes", &bytes.to_string()],
        )
    };
    // The largest budget that fails: one byte short of everything the build reads.
    let (mut ok, mut short) = (100_000, 0);
    assert!(budget(ok).status.success(), "{}", head(&budget(ok).stderr));
    while ok - short > 1 {
        let mid = (ok + short) / 2;
        if budget(mid).status.success() {
            ok = mid;
        } else {
            short = mid;
        }
    }
    for _ in 0..8 {
        let out = budget(short);
        assert!(!out.status.success());
        assert!(
            out.stderr.contains("b/cm.yaml") && !out.stderr.contains("argsFromFile"),
            "{}",
            head(&out.stderr)
        );
    }
}
