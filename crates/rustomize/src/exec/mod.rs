//! Exec plugins: generators and transformers that kustomize runs as programs.
//!
//! This module owns the plugin configs that are not builtin (`generators:`,
//! `transformers:` and `validators:` entries whose `apiVersion` is not
//! `builtin`): it decides what runs them ([`runtime_of`]), runs them with a
//! timeout and an output bound, and merges what they print back the way
//! kustomize v5.5.0 does (`api/internal/plugins/{fnplugin,execplugin,utils}`,
//! kyaml's `runfn` and `fn/runtime`). Loading the configs from a kustomization
//! is the pipeline's business. Two kinds exist:
//!
//! - **KRM function exec plugins**: the config is annotated
//!   `config.kubernetes.io/function` (or `config.k8s.io/function`, or has
//!   `metadata.configFn`) with `exec: {path: ...}`. The program gets a
//!   `ResourceList` on standard input and prints one (or plain resources).
//!   They need both [`ExecOptions::enable_alpha_plugins`] and
//!   [`ExecOptions::enable_exec`]; with only the first, kustomize skips them
//!   without a word (a generator makes nothing, a transformer changes nothing),
//!   and so do we. `container:` functions (run by kustomize with docker) fail
//!   with [`Error::UnsupportedFunction`].
//! - **Legacy exec plugins**: any other config names an executable
//!   `<plugin home>/<group>/<version>/<lowercase kind>/<Kind>`, run with the
//!   config's file as its first argument; resources travel as plain YAML.
//!
//! See docs/plugins.md for the measured protocol.

mod emit;
mod run;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rustomize_yaml::{Map, ParseLimits, Value};

use crate::load::Loader;
use crate::resource::{Gvk, ResId};
use crate::Error;
use run::RunFailure;

/// Default of [`ExecOptions::timeout`]: five minutes per plugin run
/// (kustomize has none; a plugin that never ends must not hold a build forever).
pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(300);

/// Default of [`ExecOptions::max_output`]: 128 MiB of standard output per run.
pub const DEFAULT_MAX_PLUGIN_OUTPUT: usize = 128 << 20;

/// The annotation that declares a KRM function, and its older spelling.
const FUNCTION_ANNOTATIONS: [&str; 2] = ["config.kubernetes.io/function", "config.k8s.io/function"];
/// The oldest way to name a container function.
const LEGACY_CONTAINER_ANNOTATION: &str = "config.kubernetes.io/container";
/// Where kustomize records each resource's id for plugin transformers.
const ID_ANNOTATION: &str = "kustomize.config.k8s.io/id";
/// What kustomize adds to a function's config so that it is never output.
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";
/// kustomize omits `KUSTOMIZE_PLUGIN_CONFIG_STRING`/`_ROOT` longer than this.
const MAX_ENV_STRING: usize = 131_071;

/// How plugins may run. The library default turns everything off, as kustomize
/// does without flags.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// Plugins that are not builtin may load at all (`--enable-alpha-plugins`).
    pub enable_alpha_plugins: bool,
    /// KRM functions with `exec:` may run (`--enable-exec`; needs the former).
    pub enable_exec: bool,
    /// The root of legacy exec plugins. `None`: found at run time as kustomize
    /// does, the first directory that exists of `$KUSTOMIZE_PLUGIN_HOME`,
    /// `$XDG_CONFIG_HOME/kustomize/plugin`, `~/.config/kustomize/plugin` and
    /// `~/kustomize/plugin` (see [`find_plugin_home`]).
    pub plugin_home: Option<PathBuf>,
    /// The longest one plugin run may take; then it and the processes it
    /// started in its process group are killed and the build fails.
    pub timeout: Duration,
    /// Most bytes a plugin may print on standard output in one run.
    pub max_output: usize,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            enable_alpha_plugins: false,
            enable_exec: false,
            plugin_home: None,
            timeout: DEFAULT_EXEC_TIMEOUT,
            max_output: DEFAULT_MAX_PLUGIN_OUTPUT,
        }
    }
}

/// What a plugin config asks to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// A KRM function run as a local program; `path` as written (relative
    /// paths are relative to the kustomization root, a bare name is looked up
    /// in `PATH`).
    KrmExec {
        /// `exec.path` of the function spec.
        path: String,
    },
    /// A KRM function run in a container (not supported).
    Container {
        /// `container.image` of the function spec.
        image: String,
    },
    /// A `starlark:` function spec (kustomize v5.5.0 rejects it too).
    Starlark,
    /// A function spec naming neither an image nor a path: kustomize runs
    /// nothing for it.
    Inert,
    /// A legacy exec plugin: the executable under the plugin home.
    LegacyExec {
        /// Its absolute path (it exists; it may still not be executable).
        path: PathBuf,
    },
    /// A function spec kustomize cannot read (unknown fields, wrong types).
    Invalid {
        /// Why, on one line.
        message: String,
    },
    /// Not a function, and no legacy exec plugin for its kind (or no plugin
    /// home at all).
    NotFound,
}

/// What `config` asks to run. Pure look-up: flags are not checked, nothing runs.
pub fn runtime_of(config: &Value, opts: &ExecOptions) -> Runtime {
    match function_spec(config) {
        Err(message) => Runtime::Invalid { message },
        Ok(Some(runtime)) => runtime,
        Ok(None) => match legacy_path(config, opts) {
            Ok(path) if path.exists() => Runtime::LegacyExec { path },
            _ => Runtime::NotFound,
        },
    }
}

/// Runs the generator plugin `config` (read from `config_origin`, in the
/// kustomization `loader` reads: its root is the plugin's working directory,
/// and a legacy plugin's `argsFromFile` is read through it) and returns the
/// resources it makes.
///
/// The resources come back as the plugin printed them, less kustomize's
/// bookkeeping annotations (`config.kubernetes.io/index`, `.../path`,
/// `config.k8s.io/id`, `internal.config.kubernetes.io/*`). Generator options
/// stay for the caller: see [`take_generator_options`]. An item that keeps
/// `config.kubernetes.io/local-config` (a function echoing its config) is
/// dropped at the end of the build, as in kustomize.
///
/// Errors: [`Error::PluginsDisabled`] without `enable_alpha_plugins`;
/// [`Error::UnsupportedFunction`] for container and starlark functions;
/// [`Error::Plugin`] when no plugin is found or it cannot start;
/// [`Error::PluginFailed`], [`Error::PluginTimeout`], [`Error::PluginOutput`]
/// when it fails, outlives the timeout, or prints what cannot be read.
pub fn generate(
    config: &Value,
    config_origin: &Path,
    loader: &Loader,
    opts: &ExecOptions,
) -> Result<Vec<Value>, Error> {
    let root = loader.root();
    match plan(config, config_origin, opts)? {
        Plan::Skip => Ok(Vec::new()),
        Plan::Krm(path) => {
            let input = krm_generator_input(config);
            let out = run_krm(&path, root, input, config_origin, opts)?;
            read_output(&out, config_origin, &path, true)
        }
        Plan::Legacy(exe) => {
            let out = run_legacy(config, config_origin, loader, &exe, Vec::new(), opts)?;
            read_output(&out, config_origin, &exe.display().to_string(), false)
        }
    }
}

/// Runs the transformer (or validator) plugin `config` over `resources` and
/// returns the new list, merged as kustomize does: a resource the plugin
/// prints with the id (kind, name, namespace) of an input resource replaces it
/// in place, one with a new id is appended, and input resources whose id is
/// absent from the output are removed. (Validators must return what they got;
/// comparing is the caller's business.)
///
/// Errors: as [`generate`], and [`Error::Plugin`] when the plugin prints two
/// resources with one id. `loader` as for [`generate`].
pub fn transform(
    config: &Value,
    config_origin: &Path,
    loader: &Loader,
    resources: Vec<Value>,
    opts: &ExecOptions,
) -> Result<Vec<Value>, Error> {
    let root = loader.root();
    match plan(config, config_origin, opts)? {
        Plan::Skip => Ok(resources),
        Plan::Krm(path) => {
            let input = krm_transformer_input(config, &resources);
            let out = run_krm(&path, root, input, config_origin, opts)?;
            let output = read_output(&out, config_origin, &path, true)?;
            merge(resources, output, &plugin_name(config), config_origin)
        }
        Plan::Legacy(exe) => {
            let with_ids: Vec<Value> = resources.iter().map(with_id_annotation).collect();
            let input = rustomize_yaml::write_documents(&with_ids).into_bytes();
            let out = run_legacy(config, config_origin, loader, &exe, input, opts)?;
            let name = exe.display().to_string();
            let output = read_output(&out, config_origin, &name, true)?;
            merge(resources, output, &name, config_origin)
        }
    }
}

/// The `ResourceList` a KRM transformer gets on standard input, byte for byte
/// as kustomize v5.5.0 writes it (for tests and debugging).
pub fn krm_transformer_input(config: &Value, resources: &[Value]) -> Vec<u8> {
    let items = resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut item = sorted(&with_id_annotation(r));
            add_index_annotations(&mut item, i);
            item
        })
        .collect();
    resource_list(items, function_config(config), &INDEX_ANNOTATIONS)
}

/// The `ResourceList` a KRM generator gets on standard input: its own config
/// as the one item and as `functionConfig`.
pub fn krm_generator_input(config: &Value) -> Vec<u8> {
    // kustomize sends the config itself, as an item that is never output.
    let mut item = function_config(config);
    add_index_annotations(&mut item, 0);
    resource_list(vec![item], function_config(config), &CONFIG_ANNOTATIONS)
}

/// What a generated resource asks of the build, from the annotations kustomize
/// reads off plugin output (`UpdateResourceOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GeneratorOptions {
    /// `kustomize.config.k8s.io/needs-hash: "true"`: add a content hash to the
    /// name (plugin output is not hashed otherwise).
    pub needs_hash: bool,
    /// `kustomize.config.k8s.io/behavior`: `create` (or empty), `merge`, `replace`.
    pub behavior: Option<String>,
}

/// Removes the generator-option annotations from `resource` and returns what
/// they asked; fails as kustomize does on a `needs-hash` that is not a boolean.
pub fn take_generator_options(resource: &mut Value) -> Result<GeneratorOptions, String> {
    const HASH: &str = "kustomize.config.k8s.io/needs-hash";
    const BEHAVIOR: &str = "kustomize.config.k8s.io/behavior";
    let mut options = GeneratorOptions::default();
    let Some(annotations) = resource
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_map_mut)
    else {
        return Ok(options);
    };
    if let Some(v) = annotations.shift_remove(HASH) {
        let text = scalar_text(&v);
        options.needs_hash = match text.as_str() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
            "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
            _ => {
                return Err(format!(
                    "the annotation \"{HASH}\" contains an invalid value (\"{text}\")"
                ))
            }
        };
    }
    if let Some(v) = annotations.shift_remove(BEHAVIOR) {
        options.behavior = Some(scalar_text(&v));
    }
    if annotations.is_empty() {
        if let Some(meta) = resource.get_mut("metadata").and_then(Value::as_map_mut) {
            meta.shift_remove("annotations");
        }
    }
    Ok(options)
}

/// The root of legacy exec plugins as kustomize finds it: the first directory
/// that exists of `$KUSTOMIZE_PLUGIN_HOME`, `$XDG_CONFIG_HOME/kustomize/plugin`
/// (only when that variable is set), `$HOME/.config/kustomize/plugin` and
/// `$HOME/kustomize/plugin`; else kustomize's message listing what was tried.
pub fn find_plugin_home() -> Result<PathBuf, String> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let home = var("HOME").map(PathBuf::from).unwrap_or_default();
    let candidates: [(Option<PathBuf>, &str); 4] = [
        (
            var("KUSTOMIZE_PLUGIN_HOME").map(PathBuf::from),
            "homed in $KUSTOMIZE_PLUGIN_HOME",
        ),
        (
            var("XDG_CONFIG_HOME").map(|x| PathBuf::from(x).join("kustomize/plugin")),
            "homed in $XDG_CONFIG_HOME",
        ),
        (
            Some(home.join(".config/kustomize/plugin")),
            "homed in default value of $XDG_CONFIG_HOME",
        ),
        (
            Some(home.join("kustomize/plugin")),
            "homed in home directory",
        ),
    ];
    let mut tried = Vec::new();
    for (dir, note) in candidates {
        match dir {
            Some(dir) if dir.exists() => return Ok(dir),
            Some(dir) => tried.push(format!("('{}'; {note})", dir.display())),
            None => tried.push(format!("('<no value>'; {note})")),
        }
    }
    Err(format!(
        "unable to find plugin root - tried: {}",
        tried.join(", ")
    ))
}

/// What to do with one config once the flags are checked.
enum Plan {
    /// Nothing (an exec function without `enable_exec`, an inert spec).
    Skip,
    /// A KRM exec function at this path.
    Krm(String),
    /// A legacy exec plugin at this path.
    Legacy(PathBuf),
}

fn plan(config: &Value, origin: &Path, opts: &ExecOptions) -> Result<Plan, Error> {
    let kind = config.get("kind").and_then(Value::as_str).unwrap_or("");
    if !opts.enable_alpha_plugins {
        return Err(Error::PluginsDisabled {
            path: origin.to_path_buf(),
            kind: kind.to_owned(),
        });
    }
    let plugin = |message: String| Error::Plugin {
        path: origin.to_path_buf(),
        message,
    };
    match function_spec(config).map_err(&plugin)? {
        Some(Runtime::KrmExec { path }) if opts.enable_exec => Ok(Plan::Krm(path)),
        Some(Runtime::KrmExec { .. } | Runtime::Inert) => Ok(Plan::Skip),
        Some(Runtime::Container { image }) => Err(Error::UnsupportedFunction {
            path: origin.to_path_buf(),
            message: format!(
                "container function '{image}': container functions are not supported \
                 (kustomize runs them with docker; use an exec function)"
            ),
        }),
        Some(Runtime::Starlark) => Err(Error::UnsupportedFunction {
            path: origin.to_path_buf(),
            message: "starlark functions are not supported (kustomize v5.5.0 rejects them too: \
                      unknown field \"starlark\")"
                .to_owned(),
        }),
        Some(Runtime::Invalid { message }) => Err(plugin(message)),
        Some(Runtime::LegacyExec { .. } | Runtime::NotFound) => Ok(Plan::Skip),
        None => {
            let path = legacy_path(config, opts).map_err(&plugin)?;
            match std::fs::metadata(&path) {
                Ok(meta) if is_executable(&meta) => Ok(Plan::Legacy(path)),
                Ok(_) => Err(plugin(format!(
                    "unexecutable plugin at: {}",
                    path.display()
                ))),
                Err(_) => Err(plugin(format!(
                    "unable to load external plugin '{kind}': no executable at {} \
                     (Go plugins are not supported)",
                    path.display()
                ))),
            }
        }
    }
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    meta.is_file()
}

/// `<home>/<group>/<version>/<lowercase kind>/<Kind>`.
fn legacy_path(config: &Value, opts: &ExecOptions) -> Result<PathBuf, String> {
    let home = match &opts.plugin_home {
        Some(home) => home.clone(),
        None => find_plugin_home()?,
    };
    let gvk = gvk_of(config);
    Ok(home
        .join(&gvk.group)
        .join(&gvk.version)
        .join(gvk.kind.to_lowercase())
        .join(&gvk.kind))
}

/// The function spec of `config`: `Ok(None)` when it declares no function.
fn function_spec(config: &Value) -> Result<Option<Runtime>, String> {
    let meta = config.get("metadata");
    let annotations = meta.and_then(|m| m.get("annotations"));
    for key in FUNCTION_ANNOTATIONS {
        let text = annotations
            .and_then(|a| a.get(key))
            .map(scalar_text)
            .unwrap_or_default();
        if !text.is_empty() {
            let docs = rustomize_yaml::parse_documents(&text, &ParseLimits::default())
                .map_err(|e| format!("{key} unmarshal error: {e}"))?;
            let spec = docs.into_iter().next().unwrap_or(Value::Null);
            return parse_spec(&spec)
                .map(Some)
                .map_err(|e| format!("{key} unmarshal error: {e}"));
        }
    }
    let legacy = annotations
        .and_then(|a| a.get(LEGACY_CONTAINER_ANNOTATION))
        .map(scalar_text)
        .unwrap_or_default();
    if !legacy.is_empty() {
        return Ok(Some(Runtime::Container { image: legacy }));
    }
    match meta.and_then(|m| m.get("configFn")) {
        None | Some(Value::Null | Value::Empty) => Ok(None),
        Some(spec) => parse_spec(spec)
            .map(Some)
            .map_err(|e| format!("configFn unmarshal error: {e}")),
    }
}

/// A function spec read strictly, as kyaml's `FunctionSpec`; a container
/// image wins over an exec path, as in kyaml's `runfn`.
fn parse_spec(spec: &Value) -> Result<Runtime, String> {
    let empty = Map::default();
    let fields = match spec {
        Value::Map(m) => m,
        Value::Null | Value::Empty => &empty,
        other => return Err(format!("expected a mapping, not a {}", other.type_name())),
    };
    let mut image = String::new();
    let mut path = String::new();
    for (k, v) in fields {
        match k.as_str() {
            "deferFailure" => {}
            "starlark" => return Ok(Runtime::Starlark),
            "container" => {
                known_fields(v, &["image", "network", "mounts", "envs"])?;
                image = v.get("image").map(scalar_text).unwrap_or_default();
            }
            "exec" => {
                known_fields(v, &["path"])?;
                path = v.get("path").map(scalar_text).unwrap_or_default();
            }
            other => return Err(format!("unknown field \"{other}\"")),
        }
    }
    Ok(if !image.is_empty() {
        Runtime::Container { image }
    } else if !path.is_empty() {
        Runtime::KrmExec { path }
    } else {
        Runtime::Inert
    })
}

fn known_fields(v: &Value, known: &[&str]) -> Result<(), String> {
    match v {
        Value::Map(m) => match m.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(format!("unknown field \"{k}\"")),
            None => Ok(()),
        },
        Value::Null | Value::Empty => Ok(()),
        other => Err(format!("expected a mapping, not a {}", other.type_name())),
    }
}

/// A scalar's text (numbers and booleans as written by the reader's types).
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Null | Value::Empty => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => rustomize_yaml::format_go_float(*f),
        Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

fn gvk_of(v: &Value) -> Gvk {
    Gvk::from_api_version(
        v.get("apiVersion").and_then(Value::as_str).unwrap_or(""),
        v.get("kind").and_then(Value::as_str).unwrap_or(""),
    )
}

fn id_of(v: &Value) -> ResId {
    let meta = v.get("metadata");
    let text = |key: &str| {
        meta.and_then(|m| m.get(key))
            .map(scalar_text)
            .unwrap_or_default()
    };
    ResId {
        gvk: gvk_of(v),
        name: text("name").into(),
        namespace: text("namespace").into(),
    }
}

/// How kustomize names a KRM plugin in messages.
fn plugin_name(config: &Value) -> String {
    let text = |v: Option<&Value>| v.map(scalar_text).unwrap_or_default();
    format!(
        "api: {}, kind: {}, name: {}",
        text(config.get("apiVersion")),
        text(config.get("kind")),
        text(config.get("metadata").and_then(|m| m.get("name")))
    )
}

/// A copy with every mapping's keys in byte order: kustomize hands resources to
/// plugins after a trip through JSON, which sorts them.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Map(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Seq(s) => Value::Seq(s.iter().map(sorted).collect()),
        // JSON has no empty scalar: it becomes null.
        Value::Empty => Value::Null,
        other => other.clone(),
    }
}

/// The annotations map of `v`, created if missing.
fn annotations_mut(v: &mut Value) -> Option<&mut Map> {
    let meta = v
        .as_map_mut()?
        .entry("metadata")
        .or_insert_with(|| Value::Map(Map::default()));
    if meta.is_null() {
        *meta = Value::Map(Map::default());
    }
    let annotations = meta
        .as_map_mut()?
        .entry("annotations")
        .or_insert_with(|| Value::Map(Map::default()));
    if annotations.is_null() {
        *annotations = Value::Map(Map::default());
    }
    annotations.as_map_mut()
}

/// `r` with its current id recorded in `kustomize.config.k8s.io/id` (a YAML
/// text with keys group, kind, name, namespace, version, empty ones left out).
fn with_id_annotation(r: &Value) -> Value {
    let id = id_of(r);
    let mut fields = Map::default();
    for (k, v) in [
        ("group", &id.gvk.group),
        ("kind", &id.gvk.kind),
        ("name", &id.name),
        ("namespace", &id.namespace),
        ("version", &id.gvk.version),
    ] {
        if !v.is_empty() {
            fields.insert(k.to_owned(), Value::string(v.as_str()));
        }
    }
    let text = emit::document(&Value::Map(fields), &[]);
    let mut r = r.clone();
    if let Some(a) = annotations_mut(&mut r) {
        a.insert(ID_ANNOTATION.to_owned(), Value::string(text));
        a.sort_keys();
    }
    r
}

/// The annotations kyaml's writer appends to item `index` of a ResourceList.
fn add_index_annotations(item: &mut Value, index: usize) {
    if let Some(a) = annotations_mut(item) {
        for (k, v) in [
            ("config.kubernetes.io/index", index),
            ("internal.config.kubernetes.io/index", index),
            (
                "internal.config.kubernetes.io/annotations-migration-resource-id",
                index,
            ),
            ("internal.config.kubernetes.io/id", index + 1),
            ("config.k8s.io/id", index + 1),
        ] {
            a.insert(k.to_owned(), Value::string(v.to_string()));
        }
    }
}

/// The config as `functionConfig`: sorted, with `local-config` appended.
fn function_config(config: &Value) -> Value {
    let mut fc = sorted(config);
    if let Some(a) = annotations_mut(&mut fc) {
        a.insert(LOCAL_CONFIG.to_owned(), Value::string("true"));
    }
    fc
}

/// The annotations kyaml's writer sets on ResourceList items (written
/// single-quoted, unlike values that come from resources).
const INDEX_ANNOTATIONS: [&str; 5] = [
    "config.kubernetes.io/index",
    "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/annotations-migration-resource-id",
    "internal.config.kubernetes.io/id",
    "config.k8s.io/id",
];

/// The same, and the `local-config` annotation kustomize sets on a function's
/// config.
const CONFIG_ANNOTATIONS: [&str; 6] = [
    "config.kubernetes.io/index",
    "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/annotations-migration-resource-id",
    "internal.config.kubernetes.io/id",
    "config.k8s.io/id",
    LOCAL_CONFIG,
];

/// The ResourceList text: `items` (whose kyaml-set annotations are
/// `item_single`), then `functionConfig`.
fn resource_list(items: Vec<Value>, function_config: Value, item_single: &[&str]) -> Vec<u8> {
    let mut out = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n");
    if items.is_empty() {
        out.push_str("items: []\n");
    } else {
        out.push_str("items:\n");
        out.push_str(&emit::document(&Value::Seq(items), item_single));
    }
    match &function_config {
        Value::Map(m) if !m.is_empty() => {
            out.push_str("functionConfig:\n");
            out.push_str(&emit::block_map(m, 2, &CONFIG_ANNOTATIONS));
        }
        _ => out.push_str("functionConfig: {}\n"),
    }
    out.into_bytes()
}

/// Kustomize's bookkeeping annotations, which never survive a plugin's output.
fn is_bookkeeping(key: &str) -> bool {
    matches!(
        key,
        "config.kubernetes.io/index" | "config.kubernetes.io/path" | "config.k8s.io/id"
    ) || key.starts_with("internal.config.kubernetes.io/")
}

/// The resources a plugin printed: one `ResourceList` (its `items`; its
/// `results` are ignored, as kustomize ignores them) or plain documents. Strips
/// kustomize's bookkeeping annotations, and `kustomize.config.k8s.io/id` when
/// `strip_id` (transformers).
fn read_output(
    out: &[u8],
    origin: &Path,
    plugin: &str,
    strip_id: bool,
) -> Result<Vec<Value>, Error> {
    let bad = |message: String| Error::PluginOutput {
        path: origin.to_path_buf(),
        plugin: plugin.to_owned(),
        message,
    };
    let text = std::str::from_utf8(out).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    let limits = ParseLimits {
        max_bytes: usize::MAX,
        ..ParseLimits::default()
    };
    let docs = rustomize_yaml::parse_documents(text, &limits)
        .map_err(|e| bad(crate::error::excerpt(&e.to_string(), 300)))?;
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    let is_list = |d: &Value| {
        d.get("kind").and_then(Value::as_str) == Some("ResourceList")
            && matches!(
                d.get("apiVersion").and_then(Value::as_str),
                Some("config.kubernetes.io/v1" | "config.kubernetes.io/v1alpha1")
            )
    };
    let items = match docs.as_slice() {
        [list] if is_list(list) => match list.get("items") {
            None | Some(Value::Null | Value::Empty) => Vec::new(),
            Some(Value::Seq(items)) => items.clone(),
            Some(other) => {
                return Err(bad(format!(
                    "ResourceList items is a {}, not a list",
                    other.type_name()
                )))
            }
        },
        _ => docs,
    };
    let mut resources = Vec::with_capacity(items.len());
    for (i, mut item) in items.into_iter().enumerate() {
        if !matches!(item, Value::Map(_)) {
            return Err(bad(format!(
                "item {i} is a {}, not a mapping",
                item.type_name()
            )));
        }
        if let Some(a) = item
            .get_mut("metadata")
            .and_then(|m| m.get_mut("annotations"))
            .and_then(Value::as_map_mut)
        {
            for (legacy, internal) in [
                (
                    "config.kubernetes.io/path",
                    "internal.config.kubernetes.io/path",
                ),
                (
                    "config.kubernetes.io/index",
                    "internal.config.kubernetes.io/index",
                ),
                ("config.k8s.io/id", "internal.config.kubernetes.io/id"),
            ] {
                if let (Some(l), Some(n)) = (a.get(legacy), a.get(internal)) {
                    if scalar_text(l) != scalar_text(n) {
                        return Err(bad(format!(
                            "item {i} has mismatched legacy and internal annotations {legacy} and {internal}"
                        )));
                    }
                }
            }
            a.retain(|k, _| !(is_bookkeeping(k) || (strip_id && k == ID_ANNOTATION)));
            if a.is_empty() {
                if let Some(meta) = item.get_mut("metadata").and_then(Value::as_map_mut) {
                    meta.shift_remove("annotations");
                }
            }
        }
        resources.push(item);
    }
    Ok(resources)
}

/// kustomize's `UpdateResMapValues`: output resources replace the input ones
/// with the same id in place, new ids are appended, missing ids removed.
fn merge(
    resources: Vec<Value>,
    output: Vec<Value>,
    plugin: &str,
    origin: &Path,
) -> Result<Vec<Value>, Error> {
    type Key = (Gvk, String, String);
    let key = |v: &Value| -> Key {
        let id = id_of(v);
        let (gvk, name, ns) = id.equality_key();
        (gvk.clone(), name.to_owned(), ns.to_owned())
    };
    let mut list: Vec<Value> = resources;
    let mut index: HashMap<Key, usize> = HashMap::new();
    for (i, r) in list.iter().enumerate() {
        index.entry(key(r)).or_insert(i);
    }
    let mut seen: HashMap<Key, ()> = HashMap::new();
    for r in output {
        let k = key(&r);
        if seen.insert(k.clone(), ()).is_some() {
            return Err(Error::Plugin {
                path: origin.to_path_buf(),
                message: format!(
                    "plugin {plugin} generated duplicate resource: {}",
                    id_of(&r)
                ),
            });
        }
        match index.get(&k) {
            Some(&i) => {
                if let Some(slot) = list.get_mut(i) {
                    *slot = r;
                }
            }
            None => {
                index.insert(k, list.len());
                list.push(r);
            }
        }
    }
    list.retain(|r| seen.contains_key(&key(r)));
    Ok(list)
}

fn run_krm(
    path: &str,
    root: &Path,
    input: Vec<u8>,
    origin: &Path,
    opts: &ExecOptions,
) -> Result<Vec<u8>, Error> {
    // kyaml runs the program from the kustomization root; a relative path with
    // a separator is relative to it, a bare name is looked up in PATH.
    let program = if path.contains('/') {
        root.join(path)
    } else {
        PathBuf::from(path)
    };
    let mut cmd = Command::new(&program);
    cmd.current_dir(root);
    execute(cmd, input, origin, path, opts)
}

fn run_legacy(
    config: &Value,
    origin: &Path,
    loader: &Loader,
    exe: &Path,
    input: Vec<u8>,
    opts: &ExecOptions,
) -> Result<Vec<u8>, Error> {
    let root = loader.root();
    let plugin_err = |message: String| Error::Plugin {
        path: origin.to_path_buf(),
        message,
    };
    let config_text = rustomize_yaml::write_documents([config]);
    // kustomize hands the config over in a temporary file named on argv[1].
    let mut file = tempfile::Builder::new()
        .prefix("kust-plugin-config-")
        .tempfile()
        .map_err(|e| plugin_err(format!("cannot create the plugin's config file: {e}")))?;
    std::io::Write::write_all(&mut file, config_text.as_bytes())
        .map_err(|e| plugin_err(format!("cannot write the plugin's config file: {e}")))?;
    let mut args: Vec<OsString> = Vec::new();
    if let Some(line) = config.get("argsOneLiner").map(scalar_text) {
        if !line.is_empty() {
            args.extend(
                shlex::split(&line)
                    .unwrap_or_default()
                    .into_iter()
                    .map(OsString::from),
            );
        }
    }
    if let Some(name) = config.get("argsFromFile").map(scalar_text) {
        if !name.is_empty() {
            // kustomize reads it with the kustomization's loader (`Load`):
            // the same cleaning, restrictor, size bound and file checks as
            // any file the kustomization names.
            // The loader's error stays whole under the field (a spent read
            // budget must remain one, see `run_build`).
            let (_, bytes) = loader
                .read_bytes(&name)
                .map_err(|e| e.in_field(origin, "argsFromFile", &name))?;
            args.extend(args_from_file(&bytes));
        }
    }
    let mut cmd = Command::new(exe);
    cmd.arg(file.path()).args(&args);
    if config_text.len() + "KUSTOMIZE_PLUGIN_CONFIG_STRING=".len() <= MAX_ENV_STRING {
        cmd.env("KUSTOMIZE_PLUGIN_CONFIG_STRING", &config_text);
    }
    cmd.env("KUSTOMIZE_PLUGIN_CONFIG_ROOT", root);
    if root.is_dir() {
        cmd.current_dir(root);
    }
    execute(cmd, input, origin, &exe.display().to_string(), opts)
}

/// The arguments an `argsFromFile` file holds, as kustomize splits them: one
/// per line (split at `\n` only, so a `\r` stays), leading spaces trimmed,
/// empty lines dropped. Bytes pass through unchanged where the platform's
/// arguments are bytes.
fn args_from_file(bytes: &[u8]) -> impl Iterator<Item = OsString> + '_ {
    bytes
        .split(|&b| b == b'\n')
        .map(|line| {
            let start = line.iter().position(|&b| b != b' ').unwrap_or(line.len());
            line.get(start..).unwrap_or_default()
        })
        .filter(|line| !line.is_empty())
        .map(os_arg)
}

#[cfg(unix)]
fn os_arg(bytes: &[u8]) -> OsString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::OsStr::from_bytes(bytes).to_owned()
}

#[cfg(not(unix))]
fn os_arg(bytes: &[u8]) -> OsString {
    OsString::from(String::from_utf8_lossy(bytes).into_owned())
}

fn execute(
    cmd: Command,
    input: Vec<u8>,
    origin: &Path,
    plugin: &str,
    opts: &ExecOptions,
) -> Result<Vec<u8>, Error> {
    let path = origin.to_path_buf();
    let plugin = plugin.to_owned();
    run::run(cmd, input, opts.timeout, opts.max_output).map_err(|failure| match failure {
        RunFailure::Spawn(e) => Error::Plugin {
            path,
            message: format!("cannot run plugin '{plugin}': {e}"),
        },
        RunFailure::Failed { status, stderr } => Error::PluginFailed {
            path,
            plugin,
            status,
            stderr: if stderr.is_empty() {
                "no message on standard error".to_owned()
            } else {
                stderr
            },
        },
        RunFailure::TimedOut => Error::PluginTimeout {
            path,
            plugin,
            timeout: opts.timeout,
        },
        RunFailure::TooLarge => Error::PluginOutput {
            path,
            plugin,
            message: format!(
                "more than {} bytes on standard output (ExecOptions::max_output)",
                opts.max_output
            ),
        },
        RunFailure::Io(e) => Error::PluginOutput {
            path,
            plugin,
            message: format!("cannot read its output: {e}"),
        },
    })
}
