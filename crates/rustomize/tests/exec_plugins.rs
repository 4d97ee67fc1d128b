//! Exec plugins (`rustomize::exec`): KRM exec functions and legacy exec
//! plugins, run from small shell scripts these tests write themselves. The
//! ResourceList kustomize writes on a function's standard input is recorded
//! from kubectl by scripts/record-exec-input.sh (tests/exec-input/).
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustomize::exec::{self, ExecOptions, Runtime};
use rustomize::load::Loader;
use rustomize::{Error, Value};

type Outcome<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn parse(text: &str) -> Outcome<Vec<Value>> {
    Ok(rustomize::parse_documents(text, &Default::default())?)
}

fn one(text: &str) -> Outcome<Value> {
    parse(text)?
        .into_iter()
        .next()
        .ok_or_else(|| "no document".into())
}

/// The loader of the kustomization at `root` (plugins run there).
fn loader(root: &Path) -> Outcome<Loader> {
    Ok(Loader::new(
        std::sync::Arc::new(rustomize::fs::DiskFs),
        root,
        rustomize::LoadRestrictor::RootOnly,
        1 << 20,
        1 << 24,
        100,
    )?)
}

fn enabled() -> ExecOptions {
    ExecOptions {
        enable_alpha_plugins: true,
        enable_exec: true,
        timeout: Duration::from_secs(20),
        ..Default::default()
    }
}

/// Writes an executable shell script.
fn script(path: &Path, body: &str) -> Outcome {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, format!("#!/bin/sh\n{body}"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// A function config running `path`.
fn krm_config(path: &str) -> Outcome<Value> {
    one(&format!(
        "apiVersion: example.com/v1\nkind: MyFn\nmetadata:\n  name: fn\n  annotations:\n    \
         config.kubernetes.io/function: |\n      exec:\n        path: {path}\nspec:\n  x: 1\n"
    ))
}

fn names(resources: &[Value]) -> Vec<String> {
    resources
        .iter()
        .map(|r| {
            let kind = r.get("kind").and_then(Value::as_str).unwrap_or("");
            let name = r
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            format!("{kind}/{name}")
        })
        .collect()
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exec-input")
}

#[test]
fn transformer_input_is_what_kustomize_writes() -> Outcome {
    let config = one(&std::fs::read_to_string(data_dir().join("config.yaml"))?)?;
    let resources = parse(&std::fs::read_to_string(data_dir().join("resources.yaml"))?)?;
    let recorded = std::fs::read_to_string(data_dir().join("transformer-stdin.yaml"))?;
    let ours = String::from_utf8(exec::krm_transformer_input(&config, &resources))?;
    assert_eq!(ours, recorded);
    Ok(())
}

#[test]
fn generator_input_is_what_kustomize_writes() -> Outcome {
    let config = one(&std::fs::read_to_string(data_dir().join("config.yaml"))?)?;
    let recorded = std::fs::read_to_string(data_dir().join("generator-stdin.yaml"))?;
    let ours = String::from_utf8(exec::krm_generator_input(&config))?;
    assert_eq!(ours, recorded);
    Ok(())
}

#[test]
fn krm_generator_runs_from_the_root_with_the_resource_list() -> Outcome {
    let root = tempfile::tempdir()?;
    let seen = root.path().join("seen.yaml");
    script(
        &root.path().join("fn.sh"),
        &format!(
            "cat > '{}'\npwd > '{}.cwd'\ncat <<'EOF'\napiVersion: config.kubernetes.io/v1\n\
             kind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    \
             name: made\n    annotations:\n      config.kubernetes.io/index: '3'\n      \
             internal.config.kubernetes.io/path: x.yaml\n      keep: me\n  data:\n    a: b\n\
             results:\n- message: ignored, as kustomize ignores it\n  severity: error\nEOF\n",
            seen.display(),
            seen.display()
        ),
    )?;
    let config = krm_config("./fn.sh")?;
    let made = exec::generate(
        &config,
        &root.path().join("gen.yaml"),
        &loader(root.path())?,
        &enabled(),
    )?;
    assert_eq!(
        rustomize::write_documents(&made),
        "apiVersion: v1\ndata:\n  a: b\nkind: ConfigMap\nmetadata:\n  annotations:\n    keep: me\n  name: made\n"
    );
    let sent = std::fs::read(&seen)?;
    assert_eq!(sent, exec::krm_generator_input(&config));
    let cwd = std::fs::read_to_string(root.path().join("seen.yaml.cwd"))?;
    assert_eq!(
        Path::new(cwd.trim()).canonicalize()?,
        root.path().canonicalize()?
    );
    Ok(())
}

#[test]
fn krm_transformer_output_is_merged_as_kustomize_merges_it() -> Outcome {
    let root = tempfile::tempdir()?;
    // Changes `one`, drops `two`, renames `three`, adds `four`.
    script(
        &root.path().join("fn.sh"),
        "cat > /dev/null\ncat <<'EOF'\napiVersion: config.kubernetes.io/v1\nkind: ResourceList\n\
         items:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: three-renamed\n\
         - apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: one\n    annotations:\n      \
         kustomize.config.k8s.io/id: stale\n  data:\n    k: changed\n\
         - apiVersion: v1\n  kind: Service\n  metadata:\n    name: four\nEOF\n",
    )?;
    let resources = parse(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  k: v\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: two\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata:\n  name: three\n",
    )?;
    let out = exec::transform(
        &krm_config("./fn.sh")?,
        &root.path().join("tr.yaml"),
        &loader(root.path())?,
        resources,
        &enabled(),
    )?;
    assert_eq!(
        names(&out),
        ["ConfigMap/one", "Secret/three-renamed", "Service/four"]
    );
    assert_eq!(
        rustomize::write_documents(&out[..1]),
        "apiVersion: v1\ndata:\n  k: changed\nkind: ConfigMap\nmetadata:\n  name: one\n"
    );
    Ok(())
}

#[test]
fn duplicate_output_ids_fail() -> Outcome {
    let root = tempfile::tempdir()?;
    script(
        &root.path().join("fn.sh"),
        "cat > /dev/null\nprintf 'apiVersion: v1\\nkind: Secret\\nmetadata:\\n  name: a\\n---\\n\
         apiVersion: v1\\nkind: Secret\\nmetadata:\\n  name: a\\n'\n",
    )?;
    let err = exec::transform(
        &krm_config("./fn.sh")?,
        Path::new("tr.yaml"),
        &loader(root.path())?,
        Vec::new(),
        &enabled(),
    )
    .err()
    .ok_or("no error")?;
    assert!(
        err.to_string().contains("generated duplicate resource"),
        "{err}"
    );
    Ok(())
}

fn generate_err(body: &str, opts: &ExecOptions) -> Outcome<Error> {
    let root = tempfile::tempdir()?;
    script(&root.path().join("fn.sh"), body)?;
    let config = krm_config("./fn.sh")?;
    exec::generate(&config, Path::new("gen.yaml"), &loader(root.path())?, opts)
        .err()
        .ok_or_else(|| "no error".into())
}

#[test]
fn nonzero_exit_names_the_status_and_stderr() -> Outcome {
    let err = generate_err(
        "echo 'boom: bad config' >&2\necho 'second line' >&2\nexit 3\n",
        &enabled(),
    )?;
    assert!(matches!(err, Error::PluginFailed { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "gen.yaml: plugin './fn.sh' failed (exit status 3): boom: bad config | second line"
    );
    Ok(())
}

#[test]
fn timeout_kills_the_plugin() -> Outcome {
    let opts = ExecOptions {
        timeout: Duration::from_millis(300),
        ..enabled()
    };
    let err = generate_err("sleep 5\n", &opts)?;
    assert!(matches!(err, Error::PluginTimeout { .. }), "{err:?}");
    assert!(
        err.to_string().contains("did not finish within 300ms"),
        "{err}"
    );
    Ok(())
}

#[test]
fn invalid_output_is_one_line() -> Outcome {
    let err = generate_err("cat > /dev/null\necho 'a: [b'\n", &enabled())?;
    assert!(matches!(err, Error::PluginOutput { .. }), "{err:?}");
    assert_eq!(err.to_string().lines().count(), 1, "{err}");
    Ok(())
}

#[test]
fn output_is_bounded() -> Outcome {
    let opts = ExecOptions {
        max_output: 1 << 20,
        ..enabled()
    };
    let err = generate_err("cat > /dev/null\nyes 'a: b' | head -c 3000000\n", &opts)?;
    assert!(matches!(err, Error::PluginOutput { .. }), "{err:?}");
    assert!(err.to_string().contains("more than 1048576 bytes"), "{err}");
    Ok(())
}

#[test]
fn a_plugin_that_ignores_stdin_does_not_hang() -> Outcome {
    let root = tempfile::tempdir()?;
    script(&root.path().join("fn.sh"), "exit 0\n")?;
    let big = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  k: {}\n",
        "x".repeat(4 << 20)
    );
    let out = exec::transform(
        &krm_config("./fn.sh")?,
        Path::new("tr.yaml"),
        &loader(root.path())?,
        parse(&big)?,
        &enabled(),
    )?;
    // Printing nothing deletes everything, as in kustomize.
    assert!(out.is_empty());
    Ok(())
}

#[test]
fn missing_program_fails_clearly() -> Outcome {
    let root = tempfile::tempdir()?;
    let err = exec::generate(
        &krm_config("./nothere.sh")?,
        Path::new("gen.yaml"),
        &loader(root.path())?,
        &enabled(),
    )
    .err()
    .ok_or("no error")?;
    assert!(
        err.to_string()
            .starts_with("gen.yaml: cannot run plugin './nothere.sh': "),
        "{err}"
    );
    Ok(())
}

#[test]
fn flags_gate_plugins_as_in_kustomize() -> Outcome {
    let root = tempfile::tempdir()?;
    // Would fail if it ran.
    script(&root.path().join("fn.sh"), "exit 1\n")?;
    let config = krm_config("./fn.sh")?;
    let origin = Path::new("gen.yaml");
    let err = exec::generate(
        &config,
        origin,
        &loader(root.path())?,
        &ExecOptions::default(),
    )
    .err()
    .ok_or("no error")?;
    assert_eq!(
        err.to_string(),
        "gen.yaml: external plugins disabled; unable to load external plugin 'MyFn' \
         (enable them with --enable-alpha-plugins)"
    );
    // Alpha plugins without exec: kustomize skips exec functions silently.
    let alpha_only = ExecOptions {
        enable_exec: false,
        ..enabled()
    };
    assert!(exec::generate(&config, origin, &loader(root.path())?, &alpha_only)?.is_empty());
    let resources = parse("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n")?;
    let out = exec::transform(
        &config,
        origin,
        &loader(root.path())?,
        resources.clone(),
        &alpha_only,
    )?;
    assert_eq!(out, resources);
    Ok(())
}

#[test]
fn container_and_starlark_functions_are_not_supported() -> Outcome {
    let container = one(
        "apiVersion: example.com/v1\nkind: MyFn\nmetadata:\n  name: fn\n  annotations:\n    \
         config.kubernetes.io/function: |\n      container:\n        image: example.com/fn:v1\n",
    )?;
    assert_eq!(
        exec::runtime_of(&container, &enabled()),
        Runtime::Container {
            image: "example.com/fn:v1".to_owned()
        }
    );
    let err = exec::generate(
        &container,
        Path::new("gen.yaml"),
        &loader(Path::new("."))?,
        &enabled(),
    )
    .err()
    .ok_or("no error")?;
    assert_eq!(
        err.to_string(),
        "gen.yaml: container function 'example.com/fn:v1': container functions are not \
         supported (kustomize runs them with docker; use an exec function)"
    );
    let starlark = one(
        "apiVersion: example.com/v1\nkind: MyFn\nmetadata:\n  name: fn\n  annotations:\n    \
         config.kubernetes.io/function: |\n      starlark:\n        path: x.star\n",
    )?;
    assert_eq!(exec::runtime_of(&starlark, &enabled()), Runtime::Starlark);
    let err = exec::generate(
        &starlark,
        Path::new("gen.yaml"),
        &loader(Path::new("."))?,
        &enabled(),
    )
    .err()
    .ok_or("no error")?;
    assert!(matches!(err, Error::UnsupportedFunction { .. }), "{err:?}");
    Ok(())
}

#[test]
fn legacy_exec_plugin_gets_config_file_env_and_resources() -> Outcome {
    let home = tempfile::tempdir()?;
    let root = tempfile::tempdir()?;
    let exe = home.path().join("example.com/v1/mytr/MyTr");
    let rec = root.path().join("rec");
    script(
        &exe,
        &format!(
            "d='{}'\nmkdir -p \"$d\"\nprintf '%s\\n' \"$@\" > \"$d/args\"\ncp \"$1\" \"$d/config\"\n\
             printf '%s' \"$KUSTOMIZE_PLUGIN_CONFIG_ROOT\" > \"$d/root\"\n\
             printf '%s' \"$KUSTOMIZE_PLUGIN_CONFIG_STRING\" > \"$d/string\"\n\
             cat > \"$d/stdin\"\nsed 's/changeme/changed/' \"$d/stdin\"\n",
            rec.display()
        ),
    )?;
    let config = one(
        "apiVersion: example.com/v1\nkind: MyTr\nmetadata:\n  name: mytr\nargsOneLiner: a \"b c\"\nvalue: 42\n",
    )?;
    let opts = ExecOptions {
        plugin_home: Some(home.path().to_path_buf()),
        ..enabled()
    };
    assert_eq!(
        exec::runtime_of(&config, &opts),
        Runtime::LegacyExec { path: exe.clone() }
    );
    let resources =
        parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  k: changeme\n")?;
    let out = exec::transform(
        &config,
        Path::new("tr.yaml"),
        &loader(root.path())?,
        resources,
        &opts,
    )?;
    assert_eq!(
        rustomize::write_documents(&out),
        "apiVersion: v1\ndata:\n  k: changed\nkind: ConfigMap\nmetadata:\n  name: one\n"
    );
    // As measured with kubectl kustomize: the config (kustomize's form) in a
    // temporary file named first, then argsOneLiner split as a shell would.
    let args = std::fs::read_to_string(rec.join("args"))?;
    let lines: Vec<&str> = args.lines().collect();
    assert_eq!(lines.get(1..), Some(&["a", "b c"][..]));
    assert!(lines
        .first()
        .is_some_and(|f| f.contains("kust-plugin-config-")));
    let expected_config = "apiVersion: example.com/v1\nargsOneLiner: a \"b c\"\nkind: MyTr\nmetadata:\n  name: mytr\nvalue: 42\n";
    assert_eq!(
        std::fs::read_to_string(rec.join("config"))?,
        expected_config
    );
    assert_eq!(
        std::fs::read_to_string(rec.join("string"))?,
        expected_config
    );
    assert_eq!(
        std::fs::read_to_string(rec.join("root"))?,
        root.path().display().to_string()
    );
    assert_eq!(
        std::fs::read_to_string(rec.join("stdin"))?,
        "apiVersion: v1\ndata:\n  k: changeme\nkind: ConfigMap\nmetadata:\n  annotations:\n    \
         kustomize.config.k8s.io/id: |\n      kind: ConfigMap\n      name: one\n      version: v1\n  name: one\n"
    );
    Ok(())
}

#[test]
fn legacy_plugin_lookup_failures() -> Outcome {
    let home = tempfile::tempdir()?;
    let config = one("apiVersion: example.com/v1\nkind: MyTr\nmetadata:\n  name: mytr\n")?;
    let opts = ExecOptions {
        plugin_home: Some(home.path().to_path_buf()),
        ..enabled()
    };
    assert_eq!(exec::runtime_of(&config, &opts), Runtime::NotFound);
    let err = exec::generate(&config, Path::new("g.yaml"), &loader(home.path())?, &opts)
        .err()
        .ok_or("no error")?;
    assert!(
        err.to_string()
            .contains("unable to load external plugin 'MyTr'"),
        "{err}"
    );
    let exe = home.path().join("example.com/v1/mytr/MyTr");
    std::fs::create_dir_all(home.path().join("example.com/v1/mytr"))?;
    std::fs::write(&exe, "not executable")?;
    let err = exec::generate(&config, Path::new("g.yaml"), &loader(home.path())?, &opts)
        .err()
        .ok_or("no error")?;
    assert_eq!(
        err.to_string(),
        format!("g.yaml: unexecutable plugin at: {}", exe.display())
    );
    Ok(())
}

#[test]
fn legacy_plugin_failure_is_one_line() -> Outcome {
    let home = tempfile::tempdir()?;
    script(
        &home.path().join("example.com/v1/mygen/MyGen"),
        "echo 'legacy failed' >&2\nexit 4\n",
    )?;
    let config = one("apiVersion: example.com/v1\nkind: MyGen\nmetadata:\n  name: g\n")?;
    let opts = ExecOptions {
        plugin_home: Some(home.path().to_path_buf()),
        ..enabled()
    };
    let err = exec::generate(&config, Path::new("g.yaml"), &loader(home.path())?, &opts)
        .err()
        .ok_or("no error")?;
    assert!(
        err.to_string()
            .ends_with("failed (exit status 4): legacy failed"),
        "{err}"
    );
    Ok(())
}

#[test]
fn generator_options_are_read_off_annotations() -> Outcome {
    let mut r = one(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    \
         kustomize.config.k8s.io/needs-hash: \"true\"\n    kustomize.config.k8s.io/behavior: merge\n",
    )?;
    let options = exec::take_generator_options(&mut r)?;
    assert!(options.needs_hash);
    assert_eq!(options.behavior.as_deref(), Some("merge"));
    assert_eq!(
        rustomize::write_documents([&r]),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
    );
    Ok(())
}
