//! Builds big enough for the build's pool to split transformer loops into
//! chunks (hundreds of resources per kustomization) give the same output,
//! warnings and first error at every thread count.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::Path;

/// Apps of six resources each (Deployment, Service, ConfigMap,
/// ServiceAccount, Role, RoleBinding) in one multi-document file.
fn apps(group: usize, n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let app = format!("g{group}-app-{i}");
        // From the hundredth app on, the ConfigMaps have no `MODE`.
        let mode = if i < 100 { "MODE" } else { "OTHER" };
        let lines = [
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:".to_owned(),
            format!("  name: {app}\n  labels:\n    app: {app}\nspec:\n  selector:"),
            format!("    matchLabels:\n      app: {app}\n  template:\n    metadata:"),
            format!("      labels:\n        app: {app}\n    spec:"),
            format!("      serviceAccountName: {app}\n      containers:\n      - name: main"),
            format!("        image: example/app:1.{i}\n        envFrom:"),
            format!("        - configMapRef:\n            name: {app}-config"),
            format!("        - secretRef:\n            name: {app}-secret\n---"),
            format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\nspec:"),
            format!("  selector:\n    app: {app}\n  ports:\n  - port: 80\n---"),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config"),
            format!("data:\n  {mode}: mode-{i}\n---"),
            format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app}\n---"),
            format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {app}"),
            format!("rules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  resourceNames: [{app}-config]"),
            "  verbs: [get]\n---".to_owned(),
            format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: {app}"),
            "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role".to_owned(),
            format!("  name: {app}\nsubjects:\n- kind: ServiceAccount\n  name: {app}\n---"),
        ];
        for line in lines {
            writeln!(out, "{line}").unwrap();
        }
    }
    out
}

/// An overlay on `bases/g{group}` with the transformers that run in chunks,
/// plus `extra` (more kustomization fields).
fn group(group: usize, n: usize, extra: &str) -> String {
    let mut k = [
        format!("namePrefix: g{group}-\nnameSuffix: -s\nnamespace: team-{group}"),
        format!("labels:\n- pairs:\n    group: g{group}\n  includeSelectors: true"),
        format!("commonAnnotations:\n  owner: team-{group}"),
        "images:\n- name: example/app\n  newName: registry.example.com/app".to_owned(),
        "  newTag: \"2.0\"".to_owned(),
        format!("resources:\n- ../../bases/g{group}"),
        "patches:\n- target:\n    kind: Deployment\n  patch: |-".to_owned(),
        "    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: any".to_owned(),
        "    spec:\n      template:\n        spec:\n          containers:".to_owned(),
        "          - name: main\n            resources:\n              limits:".to_owned(),
        "                cpu: 100m".to_owned(),
        "- target:\n    kind: Service\n  patch: |-\n    - op: add".to_owned(),
        "      path: /spec/type\n      value: ClusterIP\n".to_owned(),
    ]
    .join("\n");
    k.push_str(extra);
    k.push_str("secretGenerator:\n");
    for i in 0..n {
        writeln!(
            k,
            "- name: g{group}-app-{i}-secret\n  literals:\n  - TOKEN=token-{i}"
        )
        .unwrap();
    }
    k
}

/// Writes a tree of two groups (`n` apps and a few) under a root with its
/// own prefix, labels and images; `extra` goes into the big group's
/// kustomization.
fn tree(dir: &Path, n: usize, extra: &str) {
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    for (g, apps_in_group) in [(0, n), (1, 7)] {
        write(&format!("bases/g{g}/apps.yaml"), &apps(g, apps_in_group));
        write(
            &format!("bases/g{g}/kustomization.yaml"),
            "resources:\n- apps.yaml\n",
        );
        let extra = if g == 0 { extra } else { "" };
        write(
            &format!("groups/g{g}/kustomization.yaml"),
            &group(g, apps_in_group, extra),
        );
    }
    let root = [
        "namePrefix: prod-\nlabels:\n- pairs:\n    env: prod\nimages:",
        "- name: registry.example.com/app",
        "  digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "resources:\n- groups/g0\n- groups/g1\n",
    ];
    write("kustomization.yaml", &root.join("\n"));
}

/// The output, warnings or error of a build of `dir` with `threads` threads.
fn build(dir: &Path, threads: usize) -> (String, String) {
    let options = rustomize::BuildOptions {
        threads: Some(threads),
        ..Default::default()
    };
    match rustomize::build(dir, &options) {
        Ok(b) => (b.to_yaml(), b.warnings().join("\n")),
        Err(e) => (String::new(), format!("error: {}", e.full_message())),
    }
}

fn same_at_every_thread_count(extra: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), 150, extra);
    let one = build(dir.path(), 1);
    for threads in 2..=4 {
        assert!(
            build(dir.path(), threads) == one,
            "{threads} threads differ from one: {}",
            one.1
        );
    }
    one
}

#[test]
fn big_overlays_build_the_same_at_every_thread_count() {
    let (out, warnings) = same_at_every_thread_count("");
    assert!(warnings.is_empty(), "{warnings}");
    // 150 + 7 apps of six resources and a secret each.
    assert_eq!(out.matches("\n---\n").count() + 1, 157 * 7);
    assert!(out.contains("name: prod-g0-g0-app-149-s\n"));
    assert!(
        out.contains("image: registry.example.com/app@sha256:0123"),
        "{out}"
    );
    assert!(out.contains("name: prod-g0-g0-app-0-secret-s-"));
}

#[test]
fn builds_above_the_parallel_sort_and_take_sizes_are_the_same_at_every_thread_count() {
    // 1,850 + 7 apps of six resources and a secret each: 12,999 resources,
    // over three times the 4,096 from which the reference index, the output
    // sort, its keys and the final take of the resources run on the build's
    // threads: three chunks, the last one shorter.
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), 1850, "");
    let one = build(dir.path(), 1);
    assert_eq!(one.0.matches("\n---\n").count() + 1, 1857 * 7);
    for threads in [2, 3] {
        assert!(
            build(dir.path(), threads) == one,
            "{threads} threads differ from one"
        );
    }
}

#[test]
fn output_written_on_the_build_threads_is_the_same_at_every_thread_count() {
    // `build_then` and `build_then_here` keep the build's pool up while
    // `then` runs, and `write_to` renders the documents on its threads.
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), 150, "");
    let want = build(dir.path(), 1).0;
    for threads in 1..=4 {
        let options = rustomize::BuildOptions {
            threads: Some(threads),
            ..Default::default()
        };
        let write = |built: Result<rustomize::Build, rustomize::Error>| {
            let mut out = Vec::new();
            built.unwrap().write_to(&mut out).unwrap();
            out
        };
        let written = rustomize::build_then(dir.path(), &options, write);
        assert!(written == want.as_bytes(), "{threads} threads");
        let written = rustomize::build_then_here(dir.path(), &options, write);
        assert!(written == want.as_bytes(), "{threads} threads, here");
    }
}

#[test]
fn the_first_failing_resource_is_reported_at_every_thread_count() {
    // A JSON patch that fails on the ConfigMaps of apps 100 to 149, which
    // fall into several chunks: the error names the first of them.
    let (out, error) = same_at_every_thread_count(
        "- target:\n    kind: ConfigMap\n  patch: |-\n    - op: remove\n      path: /data/MODE\n",
    );
    assert!(out.is_empty());
    assert!(error.contains("app-100-config"), "{error}");
}

#[test]
fn a_failing_strategic_merge_fails_alike_at_every_thread_count() {
    let (out, error) = same_at_every_thread_count(
        "- target:\n    kind: Service\n  patch: |-\n    apiVersion: v1\n    kind: Service\n    metadata:\n      name: any\n    spec:\n      ports: 7\n",
    );
    assert!(out.is_empty());
    assert!(error.contains("expected SequenceNode"), "{error}");
}

/// The read budgets are spent by whichever thread reads first; the error a
/// build that runs out of one reports is still the one of the entry order
/// (a parallel build that fails so runs again in sequence).
#[test]
fn a_spent_read_budget_fails_alike_at_every_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let cm = |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    let mut top = String::from("resources:\n");
    for i in 0..8 {
        let sub = root.join(format!("d{i}"));
        std::fs::create_dir_all(sub.join("base")).unwrap();
        std::fs::write(sub.join("base/cm.yaml"), cm(&format!("base-{i}"))).unwrap();
        std::fs::write(
            sub.join("base/kustomization.yaml"),
            "resources:\n- cm.yaml\n",
        )
        .unwrap();
        std::fs::write(
            sub.join("kustomization.yaml"),
            format!("namePrefix: p{i}-\nresources:\n- base\n"),
        )
        .unwrap();
        writeln!(top, "- d{i}").unwrap();
    }
    std::fs::write(root.join("kustomization.yaml"), top).unwrap();
    // 17 kustomization files in all; each limit below fails somewhere else.
    for max in [2, 5, 9, 12, 16] {
        let outcomes: Vec<String> = [1, 2, 3, 4, 1, 2, 3, 4]
            .into_iter()
            .map(|threads| {
                let options = rustomize::BuildOptions {
                    threads: Some(threads),
                    max_kustomizations: max,
                    ..Default::default()
                };
                match rustomize::build(root, &options) {
                    Ok(_) => "built".to_owned(),
                    Err(e) => e.full_message(),
                }
            })
            .collect();
        assert!(outcomes[0] != "built", "max_kustomizations {max}");
        assert!(
            outcomes.iter().all(|o| o == &outcomes[0]),
            "max_kustomizations {max}: {outcomes:#?}"
        );
    }
}

/// A read budget spent on a file whose error reaches the build only as text
/// (a patch file) still fails alike at every thread count.
#[test]
fn a_budget_spent_on_a_patch_file_fails_alike_at_every_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let data = "x".repeat(3000);
    let cm = |name: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: {data}\n")
    };
    for sub in ["a", "b"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
        std::fs::write(root.join(sub).join("cm.yaml"), cm(sub)).unwrap();
    }
    std::fs::write(
        root.join("a/kustomization.yaml"),
        "resources:\n- cm.yaml\npatches:\n- path: p.yaml\n",
    )
    .unwrap();
    std::fs::write(root.join("a/p.yaml"), cm("a")).unwrap();
    std::fs::write(root.join("b/kustomization.yaml"), "resources:\n- cm.yaml\n").unwrap();
    std::fs::write(root.join("kustomization.yaml"), "resources:\n- a\n- b\n").unwrap();
    let outcome = |threads: usize, bytes: usize| {
        let options = rustomize::BuildOptions {
            threads: Some(threads),
            max_read_bytes: bytes,
            ..Default::default()
        };
        rustomize::build(root, &options).map_err(|e| e.full_message())
    };
    // Budgets from the first that lets a's patch be read to one byte short of
    // everything: the file that crosses each depends on the order of reads.
    let (mut ok, mut short) = (100_000, 0);
    assert!(outcome(1, ok).is_ok());
    while ok - short > 1 {
        let mid = (ok + short) / 2;
        if outcome(1, mid).is_ok() {
            ok = mid;
        } else {
            short = mid;
        }
    }
    for bytes in [short, short - 3000, short - 6000] {
        let sequential = outcome(1, bytes).err();
        assert!(sequential.is_some());
        for threads in [2, 3, 4, 2, 3, 4] {
            assert_eq!(
                outcome(threads, bytes).err(),
                sequential,
                "{bytes} bytes, {threads} threads"
            );
        }
    }
}

/// A root with the vars `LONG` (the 100-byte `data.value` of the ConfigMap
/// `source`) and `UNUSED`, and `n` ConfigMaps `cm-{i}` whose annotation
/// references `LONG`; a Deployment whose `args` hold a number (an error of
/// the vars pass) follows `cm-{bad}` when `bad` is given.
fn vars_tree(dir: &Path, n: usize, bad: Option<usize>) {
    let mut docs = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: source\ndata:\n  value: {}\n",
        "v".repeat(100)
    );
    for i in 0..n {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:";
        write!(
            docs,
            "---\n{cm}\n  name: cm-{i}\n  annotations:\n    ref: $(LONG)\n"
        )
        .unwrap();
        if bad == Some(i) {
            let deployment = [
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad",
                "spec:\n  template:\n    spec:\n      containers:\n      - name: main",
                "        image: app\n        args: [$(LONG), 1]\n",
            ];
            docs.push_str(&deployment.join("\n"));
        }
    }
    std::fs::write(dir.join("resources.yaml"), docs).unwrap();
    let k = [
        "resources:\n- resources.yaml\nvars:\n- name: LONG\n  objref:",
        "    apiVersion: v1\n    kind: ConfigMap\n    name: source",
        "  fieldref:\n    fieldpath: data.value\n- name: UNUSED\n  objref:",
        "    apiVersion: v1\n    kind: ConfigMap\n    name: source\n",
    ];
    std::fs::write(dir.join("kustomization.yaml"), k.join("\n")).unwrap();
}

/// The outcomes of builds of `dir` at 1 to 4 threads (twice) with a vars
/// budget of `max_document_bytes`: all equal, or the test fails.
fn vars_outcome(dir: &Path, max_document_bytes: usize) -> Result<(String, String), String> {
    let outcome = |threads: usize| {
        let mut options = rustomize::BuildOptions {
            threads: Some(threads),
            ..Default::default()
        };
        options.limits.max_document_bytes = max_document_bytes;
        rustomize::build(dir, &options)
            .map(|b| (b.to_yaml(), b.warnings().join("\n")))
            .map_err(|e| e.full_message())
    };
    let one = outcome(1);
    for threads in [2, 3, 4, 2, 3, 4] {
        assert!(
            outcome(threads) == one,
            "{max_document_bytes} bytes: {threads} threads differ from one: {:?}",
            one.as_ref().map(|o| &o.1)
        );
    }
    one
}

/// The vars pass runs in chunks, each with the whole growth budget: what
/// fits, and where the budget runs out, are still the sequential pass's.
#[test]
fn a_vars_budget_runs_out_alike_at_every_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    vars_tree(dir.path(), 400, None);
    // 400 references of 100 bytes: all fit in 40000 bytes.
    let (out, warnings) = vars_outcome(dir.path(), 40_000).unwrap();
    assert!(out.contains(&format!("ref: {}\n", "v".repeat(100))));
    assert!(!out.contains("$(LONG)"));
    assert!(
        warnings.ends_with("\nwell-defined vars that were never replaced: UNUSED"),
        "{warnings}"
    );
    // Running out in the first chunk, in a later one, at the last reference.
    for (bytes, fails_at) in [(150, 1), (13_050, 130), (39_999, 399)] {
        let error = vars_outcome(dir.path(), bytes).unwrap_err();
        assert!(
            error.contains(&format!("/cm-{fails_at}."))
                && error.contains("max_document_bytes")
                && error.contains("field 'metadata/annotations'"),
            "{bytes} bytes: {error}"
        );
    }
}

/// An error of the vars pass in a late chunk is the first error, unless the
/// budget ran out before it in sequence.
#[test]
fn a_vars_error_is_the_sequential_one_at_every_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    vars_tree(dir.path(), 400, Some(300));
    let error = vars_outcome(dir.path(), 1_000_000).unwrap_err();
    assert!(
        error.contains("invalid value type expect a string, found a int")
            && error.contains("/bad."),
        "{error}"
    );
    // The budget runs out at cm-200, before the Deployment.
    let error = vars_outcome(dir.path(), 20_050).unwrap_err();
    assert!(
        error.contains("/cm-200.") && error.contains("max_document_bytes"),
        "{error}"
    );
    // Exactly enough for every reference before the Deployment's (its
    // `$(LONG)` comes before the number).
    let error = vars_outcome(dir.path(), 30_200).unwrap_err();
    assert!(error.contains("found a int"), "{error}");
    let error = vars_outcome(dir.path(), 30_199).unwrap_err();
    assert!(
        error.contains("/bad.") && error.contains("max_document_bytes"),
        "{error}"
    );
}
