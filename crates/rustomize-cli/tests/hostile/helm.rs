//! Helm charts as an attack surface: chart fields that `helm` would read as
//! options, symlinks and special files inside a chart directory, plugins in a
//! tree's `configHome`, and a `helm` that leaves children behind on a timeout.
//!
//! kustomize v5.5.0 (measured with `kubectl kustomize --enable-helm`) passes
//! `releaseName: --set-file=leak=/abs/secret` to Helm, which prints the file;
//! renders `{{ .Files.Get "f.txt" }}` through a symlink out of the root; and runs
//! a downloader plugin found under `configHome`. We refuse all three under the
//! default load restrictor. Cases needing the real Helm skip with a printed
//! note when there is none (`RUSTOMIZE_HELM` or `helm` on `PATH`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::assert_fails;
use crate::harness::*;
use crate::support::helm;

const LIFTED: &[&str] = &["--load-restrictor", "LoadRestrictionsNone"];

/// A tree with chart `c` under `root/charts/c`: its template prints the file
/// `f.txt` of the chart (when there is one) and the value `leak`.
fn chart_tree() -> Tree {
    let tree = Tree::new();
    tree.file(
        "root/charts/c/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .file("root/charts/c/values.yaml", "x: 1\n")
    .file(
        "root/charts/c/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  \
         f: {{ .Files.Get \"f.txt\" | quote }}\n  leak: {{ .Values.leak | default \"none\" | quote }}\n",
    );
    tree
}

/// `rustomize build root --enable-helm --helm-command HELM` plus `extra`.
fn build(tree: &Tree, helm: &Path, extra: &[&str]) -> Outcome {
    let helm = helm.to_str().expect("utf-8 path");
    let mut args = vec!["--enable-helm", "--helm-command", helm];
    args.extend_from_slice(extra);
    tree.build(&args)
}

/// A kustomization with chart `c` and the extra chart fields `fields` (YAML
/// lines indented for the chart's mapping).
fn chart_with(tree: &Tree, fields: &str) {
    tree.kustomization(&format!("helmCharts:\n- name: c\n{fields}"));
}

/// An executable script at `rel` that creates `marker` and copies stdin out.
fn marker_script(tree: &Tree, rel: &str, marker: &Path) {
    tree.file(
        rel,
        &format!("#!/bin/sh\ntouch '{}'\ncat\n", marker.display()),
    );
    std::fs::set_permissions(tree.path(rel), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
}

// --- chart fields Helm would read as options -------------------------------

#[test]
fn release_name_set_file_reads_no_secret() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    let secret = tree.path("outside/secret.yaml");
    chart_with(
        &tree,
        &format!("  releaseName: \"--set-file=leak={}\"\n", secret.display()),
    );
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn release_name_post_renderer_runs_nothing() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    let marker = tree.path("outside/RAN");
    marker_script(&tree, "root/post.sh", &marker);
    chart_with(
        &tree,
        &format!(
            "  releaseName: \"--post-renderer={}\"\n",
            tree.path("root/post.sh").display()
        ),
    );
    assert_fails!(tree, build(&tree, &helm, &[]));
    assert!(!marker.exists(), "the post-renderer ran");
}

#[test]
fn namespace_option_is_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    chart_with(&tree, "  namespace: \"--set-file=leak=/etc/hostname\"\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn name_template_option_is_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    chart_with(&tree, "  nameTemplate: --debug\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn api_versions_entry_option_is_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    chart_with(&tree, "  apiVersions:\n  - v1\n  - --dry-run=server\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn kube_version_option_is_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    chart_with(&tree, "  kubeVersion: -v=9\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn version_and_repo_options_are_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    chart_with(
        &tree,
        "  version: 1.0.0\n  repo: --insecure-skip-tls-verify\n",
    );
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn values_file_option_is_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    tree.file("root/-f", "x: 2\n");
    chart_with(&tree, "  additionalValuesFiles:\n  - -f\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn chart_home_option_is_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    tree.kustomization("helmGlobals:\n  chartHome: --charts\nhelmCharts:\n- name: c\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn chart_name_option_is_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    tree.kustomization("helmCharts:\n- name: --untar\n  repo: http://127.0.0.1:1\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn release_name_not_dns_1123_is_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    chart_with(&tree, "  releaseName: Bad_Name\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn release_name_of_54_characters_is_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    chart_with(&tree, &format!("  releaseName: {}\n", "a".repeat(54)));
    assert_fails!(tree, build(&tree, &helm, &[]));
}

/// Helm's own limit: 53 characters and dotted labels build, as in kustomize.
#[test]
fn release_name_of_53_characters_with_dots_builds() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    let name = format!("{}.b-1.c", "a".repeat(47));
    chart_with(&tree, &format!("  releaseName: {name}\n"));
    let helm = helm.to_str().expect("utf-8 path");
    let out = assert_builds_like_kustomize(&tree, &["--enable-helm", "--helm-command", helm]);
    assert!(out.contains(&format!("name: {name}-cm")), "{out}");
}

// --- what lies inside a chart directory ------------------------------------

#[test]
fn chart_file_symlink_out_of_root() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    tree.symlink("../../../outside/secret.yaml", "root/charts/c/f.txt");
    chart_with(&tree, "  releaseName: rel\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn chart_file_absolute_symlink_out_of_root() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    let secret = tree.path("outside/secret.yaml");
    tree.symlink(secret.to_str().expect("utf-8"), "root/charts/c/f.txt");
    chart_with(&tree, "  releaseName: rel\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn chart_templates_dir_symlink_out_of_root() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    std::fs::remove_dir_all(tree.path("root/charts/c/templates")).expect("rm");
    tree.file(
        "outside/templates/cm.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\ndata:\n  k: {SECRET}\n"),
    )
    .symlink("../../../outside/templates", "root/charts/c/templates");
    chart_with(&tree, "  releaseName: rel\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn chart_dir_link_loop_is_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    tree.symlink(".", "root/charts/c/templates/loop");
    chart_with(&tree, "  releaseName: rel\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn chart_fifo_is_refused() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    tree.fifo("root/charts/c/f.txt");
    chart_with(&tree, "  releaseName: rel\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn chart_device_symlink_is_refused_even_unrestricted() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    tree.symlink("/dev/zero", "root/charts/c/f.txt");
    chart_with(&tree, "  releaseName: rel\n");
    assert_fails!(tree, build(&tree, &helm, LIFTED));
}

#[test]
fn additional_values_file_symlink_out_of_root() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    tree.file("outside/values.yaml", &format!("leak: {SECRET}\n"))
        .symlink("../outside/values.yaml", "root/more.yaml");
    chart_with(
        &tree,
        "  releaseName: rel\n  additionalValuesFiles:\n  - more.yaml\n",
    );
    assert_fails!(tree, build(&tree, &helm, &[]));
}

#[test]
fn values_file_symlink_out_of_root() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    tree.file("outside/values.yaml", &format!("leak: {SECRET}\n"))
        .symlink("../outside/values.yaml", "root/values.yaml");
    chart_with(&tree, "  releaseName: rel\n  valuesFile: values.yaml\n");
    assert_fails!(tree, build(&tree, &helm, &[]));
}

/// Links that stay inside the root keep working, byte for byte as kustomize.
#[test]
fn chart_symlinks_inside_root_build() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    tree.file("root/data/f.txt", "inside\n")
        .symlink("../../data/f.txt", "root/charts/c/f.txt");
    chart_with(&tree, "  releaseName: rel\n");
    let helm = helm.to_str().expect("utf-8 path");
    let out = assert_builds_like_kustomize(&tree, &["--enable-helm", "--helm-command", helm]);
    assert!(out.contains("inside"), "{out}");
}

/// With `LoadRestrictionsNone` a link out is followed, as kustomize follows it.
#[test]
fn chart_symlink_out_builds_unrestricted() {
    let Some(helm) = helm() else { return };
    let tree = chart_tree();
    tree.file("outside/public.txt", "public\n")
        .symlink("../../../outside/public.txt", "root/charts/c/f.txt");
    chart_with(&tree, "  releaseName: rel\n");
    let helm = helm.to_str().expect("utf-8 path");
    let mut extra = vec!["--enable-helm", "--helm-command", helm];
    extra.extend_from_slice(LIFTED);
    let out = assert_builds_like_kustomize(&tree, &extra);
    assert!(out.contains("public"), "{out}");
}

// --- programs nobody asked for ---------------------------------------------

/// A downloader plugin under the tree's `configHome` would run on `helm pull`
/// for its URL scheme (kustomize runs it); under the root-only restrictor Helm
/// sees no plugins.
#[test]
fn config_home_plugin_does_not_run() {
    let Some(helm) = helm() else { return };
    if std::env::var_os("HELM_PLUGINS").is_some() {
        // The user's own plugin directory wins over the tree's; nothing to test.
        eprintln!("note: HELM_PLUGINS is set; configHome plugin case skipped");
        return;
    }
    let tree = chart_tree();
    let marker = tree.path("outside/RAN");
    tree.file(
        "root/hh/.data/plugins/evil/plugin.yaml",
        "name: evil\nversion: 0.1.0\ncommand: \"$HELM_PLUGIN_DIR/run.sh\"\n\
         downloaders:\n- command: run.sh\n  protocols:\n  - evil\n",
    );
    marker_script(&tree, "root/hh/.data/plugins/evil/run.sh", &marker);
    tree.kustomization(&format!(
        "helmGlobals:\n  configHome: {}\nhelmCharts:\n- name: remote\n  repo: evil://x\n  version: 1.0.0\n",
        tree.path("root/hh").display()
    ));
    assert_fails!(tree, build(&tree, &helm, &[]));
    assert!(!marker.exists(), "the tree's plugin ran");
}

/// A `helm` that starts a child and hangs: on the timeout the whole process
/// group is killed, so the child never gets to write its marker.
#[test]
fn timeout_kills_helms_children() {
    let tree = chart_tree();
    let marker = tree.path("outside/LATE");
    tree.file(
        "fake-helm",
        &format!(
            "#!/bin/sh\nif [ \"$1\" = version ]; then echo v3.17.2; exit 0; fi\n\
             (sleep 2; touch '{}') &\nsleep 30\n",
            marker.display()
        ),
    );
    let fake = tree.path("fake-helm");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    chart_with(&tree, "  releaseName: rel\n");
    assert_fails!(tree, build(&tree, &fake, &["--helm-timeout", "1"]));
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(!marker.exists(), "helm's child outlived the timeout");
}

// --- where the chart is looked for ---------------------------------------

/// A stand-in for Helm at `bin/helm` (outside the root): `version` answers
/// v3, `template` prints a ConfigMap naming the chart directory it was given,
/// `pull` makes chart `fake` under its `--untardir`.
fn fake_helm(tree: &Tree) -> std::path::PathBuf {
    tree.file(
        "bin/helm",
        "#!/bin/sh\ncase \"$1\" in\nversion) echo 'v3.14.0+g1234567';;\n\
         template) c=''; for a in \"$@\"; do case \"$a\" in */fake) c=\"$a\";; esac; done\n\
         printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: fromhelm\\ndata:\\n  chart: %s\\n' \"$c\";;\n\
         pull) d=''; prev=''; for a in \"$@\"; do [ \"$prev\" = --untardir ] && d=\"$a\"; prev=\"$a\"; done\n\
         mkdir -p \"$d/fake/templates\"; printf 'apiVersion: v2\\nname: fake\\nversion: 0.1.0\\n' > \"$d/fake/Chart.yaml\"\n\
         : > \"$d/fake/values.yaml\";;\nesac\n",
    );
    let helm = tree.path("bin/helm");
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    helm
}

/// A fake chart directory at `rel`.
fn fake_chart(tree: &Tree, rel: &str) {
    tree.file(
        &format!("{rel}/Chart.yaml"),
        "apiVersion: v2\nname: fake\nversion: 0.1.0\n",
    )
    .file(&format!("{rel}/values.yaml"), "");
}

/// Ours and kubectl's build (when kubectl is there) succeed alike.
fn builds_like_kustomize_with(tree: &Tree, helm: &Path) -> String {
    let helm = helm.to_str().expect("utf-8 path");
    assert_builds_like_kustomize(tree, &["--enable-helm", "--helm-command", helm])
}

/// `chartHome: sub/out/..` is `sub` (kustomize cleans it as text): the chart
/// in `sub` is used although the link's target's parent has none.
#[test]
fn chart_home_dotdot_after_symlink_finds_the_chart_beside_the_link() {
    let tree = Tree::new();
    let helm = fake_helm(&tree);
    fake_chart(&tree, "root/sub/fake");
    tree.dir("outside/dir")
        .symlink("../../outside/dir", "root/sub/out")
        .kustomization(
            "helmGlobals:\n  chartHome: sub/out/..\nhelmCharts:\n- name: fake\n  releaseName: r\n",
        );
    let out = builds_like_kustomize_with(&tree, &helm);
    assert!(out.contains("/root/sub/fake"), "{out}");
}

/// The same with the chart beside the link's target instead (outside the
/// root) and a repo: it is not taken for present; the chart is pulled into
/// `sub`, as kustomize does.
#[test]
fn chart_home_dotdot_after_symlink_pulls_beside_the_link() {
    let tree = Tree::new();
    let helm = fake_helm(&tree);
    fake_chart(&tree, "outside/fake");
    tree.dir("outside/dir")
        .dir("root/sub")
        .symlink("../../outside/dir", "root/sub/out")
        .kustomization(
            "helmGlobals:\n  chartHome: sub/out/..\nhelmCharts:\n- name: fake\n  releaseName: r\n  \
             repo: https://charts.example.invalid\n",
        );
    let out = builds_like_kustomize_with(&tree, &helm);
    assert!(out.contains("/root/sub/fake"), "{out}");
}

/// A chart home linked out of the root is refused alike whether the chart
/// exists there or not: the outcome tells nothing about the outside.
#[test]
fn chart_home_out_of_root_reveals_nothing() {
    let mut lines = Vec::new();
    for present in [true, false] {
        let tree = Tree::new();
        let helm = fake_helm(&tree);
        if present {
            fake_chart(&tree, "outside/fake");
        }
        tree.symlink("../outside", "root/out").kustomization(
            "helmGlobals:\n  chartHome: out\nhelmCharts:\n- name: fake\n  releaseName: r\n",
        );
        let outcome = build(&tree, &helm, &[]);
        lines.push(tree.normalise(outcome.assert_failed()));
    }
    assert_eq!(lines.first(), lines.last());
    insta::assert_snapshot!(lines.first().cloned().unwrap_or_default());
}
