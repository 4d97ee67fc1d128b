//! Helm charts: `helmCharts`, `helmGlobals`, the legacy `helmChartInflationGenerator`
//! and builtin `HelmChartInflationGenerator` configurations listed in `generators`,
//! inflated by the real `helm` binary as kustomize's HelmChartInflationGenerator does.
//!
//! This module owns the whole feature: the typed configuration (parsed with Go's
//! JSON rules, like the rest of the kustomization), where a chart lives, pulling a
//! chart that is not there yet, the values file handed to Helm, the `helm` process
//! itself, and reading its output back as resources. Helm is the real dependency
//! here: templates are never rendered by us.
//!
//! What kustomize v5.5.0 does, as measured with `kubectl kustomize --enable-helm`:
//!
//! * Without `--enable-helm` any chart is an error (`must specify --enable-helm`).
//! * A chart lives in `<chartHome>/<name>` (`chartHome` defaults to `charts`,
//!   relative to the kustomization root), or in `<chartHome>/<name>-<version>/<name>`
//!   when both `repo` and `version` are set. A chart that is there is used as
//!   found; otherwise `helm pull --untar` puts it there (from `repo`, or the
//!   OCI reference `repo/name`), so the next build needs no network.
//! * The values Helm gets: with no `valuesInline`, a copy of `valuesFile`
//!   (default: the chart's `values.yaml`); with `valuesInline`, `replace` passes
//!   only the inline values, `override` merges them over the file's, and `merge`
//!   merges the file's over them. The merge is kyaml's: maps merge key by key,
//!   anything else is replaced, and a null removes the key. Keys are written
//!   sorted. `additionalValuesFiles` follow as more `-f` files.
//! * Helm runs with `HELM_CONFIG_HOME`, `HELM_CACHE_HOME` and `HELM_DATA_HOME` in
//!   a temporary directory of the build (or under `configHome`), never the
//!   user's own Helm configuration. `--helm-kube-version`, `--helm-api-versions`
//!   and `--helm-debug` apply to charts that do not set `kubeVersion`,
//!   `apiVersions` or `debug` themselves (a chart's own value wins).
//! * The output is read like a resource file and absorbed after the
//!   ConfigMap/Secret generators, so every transformer applies to it.
//!
//! The kustomization is read with YAML 1.1 typing as kustomize reads it, so in
//! `valuesInline` a plain `yes`/`no`/`on`/`off`/`y`/`n` (value or key) is a
//! boolean there too.
//!
//! Departures from kustomize:
//!
//! * kustomize holds only the values files to the kustomization root, so a
//!   chart directory outside it (through `chartHome: ../charts` or a symlink)
//!   is inflated when `valuesFile` lies inside. Helm reads the whole chart, so
//!   here the chart directory (and the directory a pull writes to) is held to
//!   the root like any other file (lifted by `--load-restrictor
//!   LoadRestrictionsNone`).
//! * Errors are one line: the chart's name and Helm's own `Error:` line,
//!   where kustomize echoes the whole configuration and Helm's stderr.
//! * Hostile trees (docs/security.md): a chart field starting with `-` is
//!   refused (kustomize hands `releaseName: --post-renderer=prog` to Helm as an
//!   option), the release name and chart go after `--`, and the release name is
//!   checked as Helm checks it. The chart directory is walked before Helm runs:
//!   symlinks out of the root (root-only restrictor), FIFOs, devices, sockets,
//!   directory loops and oversized charts are refused. Under the root-only
//!   restrictor Helm sees no plugins (an empty `HELM_PLUGINS`) unless the user's
//!   environment names some, so a downloader plugin under `configHome` cannot
//!   run. On a timeout Helm's whole process group is killed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rustomize_yaml::{Map, ParseLimits, Value};

use crate::error::Error;
use crate::load::gojson::{field as canonical_field, type_name};
use crate::load::Loader;
use crate::resource::Resource;

/// How a build runs Helm (kubectl's `--enable-helm`, `--helm-command`,
/// `--helm-api-versions`, `--helm-kube-version`, `--helm-debug`).
#[derive(Clone, Debug)]
pub struct HelmOptions {
    /// Whether charts may be inflated at all (off by default, as in kustomize).
    pub enabled: bool,
    /// The `helm` executable: a path, or a name looked up on `PATH`.
    pub command: PathBuf,
    /// `apiVersions` of every chart that sets none itself.
    pub api_versions: Vec<String>,
    /// `kubeVersion` of every chart that sets none itself.
    pub kube_version: String,
    /// Turns every chart's `debug` on.
    pub debug: bool,
    /// Longest one `helm` run may take before it is killed and the build fails.
    pub timeout: Duration,
}

/// Default of [`HelmOptions::timeout`]: five minutes, room for a slow pull.
pub const DEFAULT_HELM_TIMEOUT: Duration = Duration::from_secs(300);

impl Default for HelmOptions {
    fn default() -> Self {
        HelmOptions {
            enabled: false,
            command: PathBuf::from("helm"),
            api_versions: Vec::new(),
            kube_version: String::new(),
            debug: false,
            timeout: DEFAULT_HELM_TIMEOUT,
        }
    }
}

/// `helmGlobals`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HelmGlobals {
    /// Where charts live (default `charts`), relative to the kustomization root.
    pub chart_home: String,
    /// `HELM_CONFIG_HOME` for Helm (default: a temporary directory of the build).
    pub config_home: String,
}

/// One `helmCharts` entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HelmChart {
    /// The chart's name (and directory name under `chartHome`).
    pub name: String,
    /// The version to pull.
    pub version: String,
    /// The repository URL (`--repo`), or an `oci://` prefix.
    pub repo: String,
    /// The release name (`--generate-name` when empty).
    pub release_name: String,
    /// `.Release.Namespace` (`--namespace`).
    pub namespace: String,
    /// `--name-template`.
    pub name_template: String,
    /// Values used instead of the chart's `values.yaml`.
    pub values_file: String,
    /// More values files, after the first.
    pub additional_values_files: Vec<String>,
    /// Values given inline.
    pub values_inline: Map,
    /// How inline values combine with the values file: `override` (default),
    /// `replace` or `merge`.
    pub values_merge: String,
    /// `--include-crds`.
    pub include_crds: bool,
    /// `--no-hooks`.
    pub skip_hooks: bool,
    /// `--skip-tests`.
    pub skip_tests: bool,
    /// `--api-versions`, once each.
    pub api_versions: Vec<String>,
    /// `--kube-version`.
    pub kube_version: String,
    /// `--debug`.
    pub debug: bool,
}

const GLOBAL_FIELDS: &[&str] = &["chartHome", "configHome"];

const CHART_FIELDS: &[&str] = &[
    "name",
    "version",
    "repo",
    "releaseName",
    "namespace",
    "additionalValuesFiles",
    "valuesFile",
    "valuesInline",
    "valuesMerge",
    "includeCRDs",
    "skipHooks",
    "apiVersions",
    "kubeVersion",
    "nameTemplate",
    "skipTests",
    "debug",
];

/// Fields of a legacy `helmChartInflationGenerator` entry.
const LEGACY_FIELDS: &[&str] = &[
    "chartName",
    "chartVersion",
    "chartRepoUrl",
    "chartHome",
    "chartRepoName",
    "helmBin",
    "helmHome",
    "values",
    "valuesLocal",
    "valuesMerge",
    "releaseName",
    "releaseNamespace",
    "extraArgs",
];

/// Parses `helmGlobals` (None when null, which lets legacy entries set the homes).
pub fn parse_globals(value: &Value) -> Result<Option<HelmGlobals>, String> {
    let Some(m) = object(value, "Kustomization.helmGlobals", "types.HelmGlobals")? else {
        return Ok(None);
    };
    let mut g = HelmGlobals::default();
    for (key, v) in m {
        let owner = "HelmGlobals.helmGlobals.";
        match canonical_field(key, GLOBAL_FIELDS) {
            Some("chartHome") => g.chart_home = gostring(v, owner, "chartHome")?,
            Some("configHome") => g.config_home = gostring(v, owner, "configHome")?,
            _ => return Err(format!("json: unknown field \"{key}\"")),
        }
    }
    Ok(Some(g))
}

/// Parses `helmCharts`.
pub fn parse_charts(value: &Value) -> Result<Vec<HelmChart>, String> {
    let mut out = Vec::new();
    for item in array(value, "Kustomization.helmCharts", "[]types.HelmChart")? {
        let Some(m) = object(item, "Kustomization.helmCharts", "types.HelmChart")? else {
            out.push(HelmChart::default());
            continue;
        };
        out.push(chart_from(m, "HelmChart.helmCharts.", true)?);
    }
    Ok(out)
}

/// Reads the fields of one chart; `strict` refuses unknown fields (the
/// kustomization) where plugin configurations ignore them.
fn chart_from(m: &Map, owner: &str, strict: bool) -> Result<HelmChart, String> {
    let mut c = HelmChart::default();
    for (key, v) in m {
        let s = |f: &str| gostring(v, owner, f);
        let b = |f: &str| gobool(v, owner, f);
        match canonical_field(key, CHART_FIELDS) {
            Some("name") => c.name = s("name")?,
            Some("version") => c.version = s("version")?,
            Some("repo") => c.repo = s("repo")?,
            Some("releaseName") => c.release_name = s("releaseName")?,
            Some("namespace") => c.namespace = s("namespace")?,
            Some("nameTemplate") => c.name_template = s("nameTemplate")?,
            Some("valuesFile") => c.values_file = s("valuesFile")?,
            Some("valuesMerge") => c.values_merge = s("valuesMerge")?,
            Some("kubeVersion") => c.kube_version = s("kubeVersion")?,
            Some("additionalValuesFiles") => {
                c.additional_values_files = gostrings(v, owner, "additionalValuesFiles")?
            }
            Some("apiVersions") => c.api_versions = gostrings(v, owner, "apiVersions")?,
            Some("valuesInline") => c.values_inline = values_map(v, owner, "valuesInline")?,
            Some("includeCRDs") => c.include_crds = b("includeCRDs")?,
            Some("skipHooks") => c.skip_hooks = b("skipHooks")?,
            Some("skipTests") => c.skip_tests = b("skipTests")?,
            Some("debug") => c.debug = b("debug")?,
            _ if strict => return Err(format!("json: unknown field \"{key}\"")),
            _ => {}
        }
    }
    Ok(c)
}

/// One legacy `helmChartInflationGenerator` entry: the chart it becomes and
/// the homes it names.
#[derive(Clone, Debug, Default)]
pub struct LegacyChart {
    chart: HelmChart,
    chart_home: String,
    helm_home: String,
}

/// Parses `helmChartInflationGenerator`.
pub fn parse_legacy(value: &Value) -> Result<Vec<LegacyChart>, String> {
    let owner = "HelmChartArgs.helmChartInflationGenerator.";
    let mut out = Vec::new();
    for item in array(
        value,
        "Kustomization.helmChartInflationGenerator",
        "[]types.HelmChartArgs",
    )? {
        let mut l = LegacyChart::default();
        if let Some(m) = object(
            item,
            "Kustomization.helmChartInflationGenerator",
            "types.HelmChartArgs",
        )? {
            for (key, v) in m {
                let s = |f: &str| gostring(v, owner, f);
                match canonical_field(key, LEGACY_FIELDS) {
                    Some("chartName") => l.chart.name = s("chartName")?,
                    Some("chartVersion") => l.chart.version = s("chartVersion")?,
                    Some("chartRepoUrl") => l.chart.repo = s("chartRepoUrl")?,
                    Some("values") => l.chart.values_file = s("values")?,
                    Some("valuesLocal") => {
                        l.chart.values_inline = values_map(v, owner, "valuesLocal")?
                    }
                    Some("valuesMerge") => l.chart.values_merge = s("valuesMerge")?,
                    Some("releaseName") => l.chart.release_name = s("releaseName")?,
                    Some("chartHome") => l.chart_home = s("chartHome")?,
                    Some("helmHome") => l.helm_home = s("helmHome")?,
                    // Read (so their types are checked) but not used by kustomize:
                    // the namespace, extra arguments and binary are dropped.
                    Some("chartRepoName" | "helmBin" | "releaseNamespace") => {
                        s(key)?;
                    }
                    Some("extraArgs") => {
                        gostrings(v, owner, "extraArgs")?;
                    }
                    _ => return Err(format!("json: unknown field \"{key}\"")),
                }
            }
        }
        out.push(l);
    }
    Ok(out)
}

/// Converts legacy entries: their charts, and the last non-empty homes.
pub fn split_legacy(legacy: Vec<LegacyChart>) -> (Vec<HelmChart>, HelmGlobals) {
    let mut globals = HelmGlobals::default();
    let mut charts = Vec::with_capacity(legacy.len());
    for l in legacy {
        if !l.helm_home.is_empty() {
            globals.config_home = l.helm_home;
        }
        if !l.chart_home.is_empty() {
            globals.chart_home = l.chart_home;
        }
        charts.push(l.chart);
    }
    (charts, globals)
}

/// Reads a builtin `HelmChartInflationGenerator` configuration (a document
/// listed under `generators`): the globals and the chart side by side, other
/// fields ignored as kustomize's plugin configuration ignores them.
pub fn parse_plugin_config(m: &Map) -> Result<(HelmGlobals, HelmChart), String> {
    let owner = "plugin.";
    let mut globals = HelmGlobals::default();
    for (key, v) in m {
        match canonical_field(key, GLOBAL_FIELDS) {
            Some("chartHome") => globals.chart_home = gostring(v, owner, "chartHome")?,
            Some("configHome") => globals.config_home = gostring(v, owner, "configHome")?,
            _ => {}
        }
    }
    let chart = chart_from(m, owner, false)?;
    Ok((globals, chart))
}

fn gostring(value: &Value, owner: &str, field: &str) -> Result<String, String> {
    crate::load::gojson::string(value, owner, field)
}

fn gobool(value: &Value, owner: &str, field: &str) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Null | Value::Empty => Ok(false),
        other => Err(format!(
            "json: cannot unmarshal {} into Go struct field {owner}{field} of type bool",
            type_name(other)
        )),
    }
}

fn gostrings(value: &Value, owner: &str, field: &str) -> Result<Vec<String>, String> {
    array(value, &format!("{owner}{field}"), "[]string")?
        .iter()
        .map(|v| gostring(v, owner, field))
        .collect()
}

fn values_map(value: &Value, owner: &str, field: &str) -> Result<Map, String> {
    Ok(
        object(value, &format!("{owner}{field}"), "map[string]interface {}")?
            .cloned()
            .unwrap_or_default(),
    )
}

fn array<'v>(value: &'v Value, what: &str, go_type: &str) -> Result<&'v [Value], String> {
    match value {
        Value::Null | Value::Empty => Ok(&[]),
        Value::Seq(items) => Ok(items),
        other => Err(format!(
            "json: cannot unmarshal {} into Go struct field {what} of type {go_type}",
            type_name(other)
        )),
    }
}

fn object<'v>(value: &'v Value, what: &str, go_type: &str) -> Result<Option<&'v Map>, String> {
    match value {
        Value::Null | Value::Empty => Ok(None),
        Value::Map(m) => Ok(Some(m)),
        other => Err(format!(
            "json: cannot unmarshal {} into Go struct field {what} of type {go_type}",
            type_name(other)
        )),
    }
}

/// Helm state shared by every kustomization of one build: the options, one
/// temporary directory (values files, and Helm's homes unless `configHome`
/// names them), whether `helm` was found to be version 3, and a lock that
/// keeps two kustomizations from pulling into the same chart home at once.
#[derive(Debug)]
pub struct HelmSession {
    options: HelmOptions,
    /// Largest output read from `helm` (the build's file size limit).
    max_output: usize,
    temp: OnceLock<Result<tempfile::TempDir, String>>,
    version: OnceLock<Result<(), String>>,
    pull_lock: Mutex<()>,
    /// Values files written so far (each gets a directory of its own).
    counter: std::sync::atomic::AtomicUsize,
}

impl HelmSession {
    /// A session for one build.
    pub fn new(options: HelmOptions, max_output: usize) -> Arc<HelmSession> {
        Arc::new(HelmSession {
            options,
            max_output,
            temp: OnceLock::new(),
            version: OnceLock::new(),
            pull_lock: Mutex::new(()),
            counter: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    fn temp_dir(&self) -> Result<&Path, String> {
        let made = self.temp.get_or_init(|| {
            tempfile::Builder::new()
                .prefix("rustomize-helm-")
                .tempdir()
                .map_err(|e| format!("cannot create a temporary directory for helm: {e}"))
        });
        match made {
            Ok(dir) => Ok(dir.path()),
            Err(e) => Err(e.clone()),
        }
    }
}

/// Why a chart cannot be inflated over a file system other than the disk.
const NEEDS_DISK: &str = "helmCharts needs a file system on disk: Helm reads the chart \
    directory itself, and this build reads another FileSystem (such as MemoryFs)";

/// Inflates one chart configured by the kustomization at `kustomization`
/// (whose root `loader` holds), giving the resources Helm rendered.
pub fn inflate(
    loader: &Loader,
    session: &HelmSession,
    kustomization: &Path,
    globals: &HelmGlobals,
    chart: &HelmChart,
    limits: &ParseLimits,
) -> Result<Vec<Resource>, Error> {
    let fail = |message: String| Error::Helm {
        path: kustomization.to_path_buf(),
        chart: chart.name.clone(),
        message,
    };
    let options = &session.options;
    if !options.enabled {
        return Err(fail(
            "must specify --enable-helm to inflate Helm charts".to_owned(),
        ));
    }
    if options.command.as_os_str().is_empty() {
        return Err(fail("must specify --helm-command".to_owned()));
    }
    if !loader.on_disk() {
        // Helm reads and writes chart directories itself.
        return Err(fail(NEEDS_DISK.to_owned()));
    }
    // The command line gives defaults: kustomize sets them and then decodes
    // the chart's configuration over them, so a chart's own value wins.
    let mut chart = chart.clone();
    if chart.kube_version.is_empty() {
        chart.kube_version = options.kube_version.clone();
    }
    if chart.api_versions.is_empty() {
        chart.api_versions = options.api_versions.clone();
    }
    chart.debug |= options.debug;
    if chart.name.is_empty() {
        return Err(fail("chart name cannot be empty".to_owned()));
    }
    check_fields(globals, &chart).map_err(&fail)?;
    let merge = match chart.values_merge.as_str() {
        "" | "override" => ValuesMerge::Override,
        "merge" => ValuesMerge::Merge,
        "replace" => ValuesMerge::Replace,
        _ => {
            return Err(fail(
                "valuesMerge must be one of [merge override replace]".to_owned(),
            ))
        }
    };
    let mut additional = Vec::with_capacity(chart.additional_values_files.len());
    for file in &chart.additional_values_files {
        let (path, _) = loader.read_bytes(file).map_err(|e| {
            fail(format!(
                "could not load additionalValuesFile: {}",
                one_line(&e.full_message())
            ))
        })?;
        additional.push(path);
    }

    let home = chart_home(globals, &chart);
    let chart_dir = home.join(&chart.name);
    let work = session.temp_dir().map_err(&fail)?;
    let config_home = if globals.config_home.is_empty() {
        work.join("helm")
    } else {
        PathBuf::from(&globals.config_home)
    };
    let mut env = helm_env(&config_home);
    // Helm runs plugins from `$HELM_DATA_HOME/plugins` by itself: a downloader
    // plugin for the `repo` URL's scheme runs on `helm pull`. With `configHome`
    // in the tree, those plugins would be the tree's own programs, so under the
    // root-only restrictor Helm gets an empty plugin directory instead (unless
    // the user's own environment names one). kustomize runs them.
    if loader.restrictor() == crate::LoadRestrictor::RootOnly
        && std::env::var_os("HELM_PLUGINS").is_none()
    {
        let none = work.join("no-plugins");
        std::fs::create_dir_all(&none)
            .map_err(|e| fail(format!("cannot create an empty plugin directory: {e}")))?;
        env.push(("HELM_PLUGINS".to_owned(), none));
    }
    check_version(session, &env).map_err(&fail)?;

    let chart_dir = {
        // One pull at a time: a base used by two overlays may be built twice at once.
        let _pull = session
            .pull_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The chart is looked for where it will be read: the path cleaned
        // as text (kustomize's `filepath.Join`) and held to the root, so
        // `chartHome: sub/link/..` is `sub` whatever the link is, and whether
        // a directory outside the root exists is never asked.
        let chart_error = |e: Error| fail(format!("chart directory: {}", e.full_message()));
        let local = loader.confine(&chart_dir).map_err(chart_error)?;
        if !local.is_dir() {
            if chart.repo.is_empty() {
                return Err(fail(format!(
                    "no repo specified for pull, no chart found at '{}'",
                    local.display()
                )));
            }
            let untar_dir = loader
                .confine(&home)
                .map_err(|e| fail(format!("chart home: {}", e.full_message())))?;
            let args = pull_args(&chart, &untar_dir);
            run(session, &args, &env).map_err(&fail)?;
        }
        // Resolved again: the pull may have made what was missing.
        let resolved = loader.confine(&chart_dir).map_err(chart_error)?;
        if !resolved.is_dir() {
            return Err(fail(format!(
                "helm pull did not leave the chart at '{}'",
                resolved.display()
            )));
        }
        check_chart_tree(loader, &resolved, session.max_output).map_err(&fail)?;
        resolved
    };

    let values_path = if chart.values_file.is_empty() {
        chart_dir.join("values.yaml")
    } else {
        PathBuf::from(&chart.values_file)
    };
    let values_text = if chart.values_inline.is_empty() {
        read_values(loader, &values_path)?
    } else {
        let mut values = if merge == ValuesMerge::Replace {
            Map::default()
        } else {
            let text = String::from_utf8(read_values(loader, &values_path)?).map_err(|_| {
                fail(format!(
                    "could not parse values file '{}': not UTF-8",
                    values_path.display()
                ))
            })?;
            let docs = rustomize_yaml::parse_documents(&text, limits).map_err(|e| {
                fail(format!(
                    "could not parse values file '{}': {}",
                    values_path.display(),
                    e.message
                ))
            })?;
            match docs.into_iter().next() {
                Some(Value::Map(m)) => m,
                Some(Value::Null | Value::Empty) | None => {
                    return Err(fail(format!(
                        "could not parse values file '{}': it holds no values",
                        values_path.display()
                    )))
                }
                Some(other) => {
                    return Err(fail(format!(
                        "could not parse values file '{}': expected a mapping, found a {}",
                        values_path.display(),
                        other.type_name()
                    )))
                }
            }
        };
        let inline = chart.values_inline.clone();
        values = match merge {
            ValuesMerge::Override => merge_values(values, inline),
            ValuesMerge::Merge => merge_values(inline, values),
            ValuesMerge::Replace => inline,
        };
        let mut doc = Value::Map(values);
        sort_keys(&mut doc);
        let mut text = String::new();
        rustomize_yaml::write_document(&doc, &mut text);
        text.into_bytes()
    };
    let n = session
        .counter
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let values_dir = work.join(format!("values-{n}"));
    let values_file = values_dir.join(format!("{}-kustomize-values.yaml", file_safe(&chart.name)));
    std::fs::create_dir_all(&values_dir)
        .and_then(|()| std::fs::write(&values_file, values_text))
        .map_err(|e| fail(format!("failed to write values file: {e}")))?;

    let args = template_args(&chart, &chart_dir, &values_file, &additional);
    let out = run(session, &args, &env).map_err(&fail)?;
    let text = String::from_utf8(out)
        .map_err(|_| fail("helm template printed output that is not UTF-8".to_owned()))?;
    let origin = chart_dir.clone();
    match crate::accumulate::resources_from_text(&origin, &text, limits) {
        Ok(resources) => Ok(resources),
        Err(first) => {
            // Helm may print messages before the first document separator.
            let after = text
                .split_once("\n---\n")
                .map(|(_, rest)| rest)
                .filter(|rest| !rest.is_empty());
            match after {
                Some(rest) => {
                    crate::accumulate::resources_from_text(&origin, rest, limits).map_err(|_| first)
                }
                None => Err(first),
            }
        }
    }
}

/// Longest release name Helm accepts.
const MAX_RELEASE_NAME: usize = 53;

/// Refuses configuration values Helm would read as something else: a value
/// starting with `-` handed to `helm` could become an option of its own
/// (`releaseName: --post-renderer=/bin/prog` runs a program, `--set-file`
/// reads any file), so every field that reaches Helm's command line, or names
/// a path or home for it, is refused when it starts with `-`. kustomize passes
/// them through. The release name is also held to Helm's own rule up front.
fn check_fields(globals: &HelmGlobals, chart: &HelmChart) -> Result<(), String> {
    let single = [
        ("name", &chart.name),
        ("version", &chart.version),
        ("repo", &chart.repo),
        ("releaseName", &chart.release_name),
        ("namespace", &chart.namespace),
        ("nameTemplate", &chart.name_template),
        ("kubeVersion", &chart.kube_version),
        ("valuesFile", &chart.values_file),
        ("chartHome", &globals.chart_home),
        ("configHome", &globals.config_home),
    ];
    let lists = [
        ("apiVersions", &chart.api_versions),
        ("additionalValuesFiles", &chart.additional_values_files),
    ];
    let fields = single.into_iter().chain(
        lists
            .into_iter()
            .flat_map(|(field, values)| values.iter().map(move |v| (field, v))),
    );
    for (field, value) in fields {
        if value.starts_with('-') {
            return Err(format!(
                "{field} '{}' starts with '-', which helm would read as an option; refused",
                short(value)
            ));
        }
    }
    let name = &chart.release_name;
    if !name.is_empty() && !valid_release_name(name) {
        return Err(format!(
            "releaseName '{}' is not a valid release name: lower-case letters, digits, '-' and \
             '.' (DNS-1123 labels), at most {MAX_RELEASE_NAME} characters",
            short(name)
        ));
    }
    Ok(())
}

/// Helm's release name rule: DNS-1123 labels joined by dots
/// (`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`),
/// at most 53 characters.
fn valid_release_name(name: &str) -> bool {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    name.len() <= MAX_RELEASE_NAME
        && name.split('.').all(|label| {
            let bytes = label.as_bytes();
            matches!((bytes.first(), bytes.last()), (Some(&a), Some(&z)) if alnum(a) && alnum(z))
                && bytes.iter().all(|&c| alnum(c) || c == b'-')
        })
}

/// A configuration value quoted in a message: its first 60 characters.
fn short(value: &str) -> String {
    let mut out: String = value.chars().take(60).collect();
    if out.len() < value.len() {
        out.push_str("...");
    }
    one_line(&out)
}

/// Most entries (files, directories, links) a chart directory may hold.
const MAX_CHART_ENTRIES: usize = 20_000;

/// Deepest nesting of directories in a chart.
const MAX_CHART_DEPTH: usize = 64;

/// Walks a chart directory before Helm reads it. Helm follows symlinks inside
/// a chart (`{{ .Files.Get "f.txt" }}` prints whatever `f.txt` points at, and
/// `templates/` may itself be a link), so under the root-only restrictor every
/// link must resolve inside the kustomization root, as any file the loader
/// reads must; kustomize checks none of this. Whatever the restrictor, only
/// regular files and directories may be there (a FIFO would hang Helm, a device
/// feed it without end), and the walk is bounded in entries, depth and total
/// size (`max_bytes`, the build's file size limit).
fn check_chart_tree(loader: &Loader, dir: &Path, max_bytes: usize) -> Result<(), String> {
    let root_only = loader.restrictor() == crate::LoadRestrictor::RootOnly;
    let mut pending = vec![(dir.to_path_buf(), 0usize)];
    let mut entries = 0usize;
    let mut total = 0u64;
    while let Some((current, depth)) = pending.pop() {
        let listing = std::fs::read_dir(&current)
            .map_err(|e| format!("cannot list chart directory '{}': {e}", current.display()))?;
        for entry in listing {
            let path = entry
                .map_err(|e| format!("cannot list chart directory '{}': {e}", current.display()))?
                .path();
            entries += 1;
            if entries > MAX_CHART_ENTRIES {
                return Err(format!(
                    "chart directory '{}' holds more than {MAX_CHART_ENTRIES} entries",
                    dir.display()
                ));
            }
            let link = std::fs::symlink_metadata(&path)
                .map_err(|e| format!("cannot read '{}': {e}", path.display()))?;
            let mut loops = false;
            let meta = if link.file_type().is_symlink() {
                let target = std::fs::canonicalize(&path).map_err(|e| {
                    format!(
                        "chart file '{}' is a symlink that cannot be resolved: {e}",
                        path.display()
                    )
                })?;
                if root_only && !target.starts_with(loader.root()) {
                    return Err(format!(
                        "chart file '{}' is a symlink to '{}', outside the kustomization root '{}' \
                         (LoadRestrictionsRootOnly)",
                        path.display(),
                        target.display(),
                        loader.root().display()
                    ));
                }
                // A link to a directory holding it makes Helm walk in circles.
                loops = std::fs::canonicalize(&current).is_ok_and(|here| here.starts_with(&target));
                std::fs::metadata(&target)
                    .map_err(|e| format!("cannot read '{}': {e}", target.display()))?
            } else {
                link
            };
            if meta.is_dir() && loops {
                return Err(format!(
                    "chart file '{}' is a symlink to a directory that holds it (a loop)",
                    path.display()
                ));
            }
            if meta.is_dir() {
                if depth + 1 > MAX_CHART_DEPTH {
                    return Err(format!(
                        "chart directory '{}' nests deeper than {MAX_CHART_DEPTH} directories",
                        dir.display()
                    ));
                }
                pending.push((path, depth + 1));
            } else if meta.is_file() {
                total = total.saturating_add(meta.len());
                if total > u64::try_from(max_bytes).unwrap_or(u64::MAX) {
                    return Err(format!(
                        "chart directory '{}' holds more than {max_bytes} bytes \
                         (BuildOptions::limits.max_bytes, --max-file-bytes)",
                        dir.display()
                    ));
                }
            } else {
                return Err(format!(
                    "chart file '{}' is not a regular file or directory (a FIFO, device or socket)",
                    path.display()
                ));
            }
        }
    }
    Ok(())
}

/// How inline values combine with the values file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ValuesMerge {
    Override,
    Merge,
    Replace,
}

/// Where the chart's directory lies, relative to the root (or absolute).
fn chart_home(globals: &HelmGlobals, chart: &HelmChart) -> PathBuf {
    let home = if globals.chart_home.is_empty() {
        PathBuf::from("charts")
    } else {
        PathBuf::from(&globals.chart_home)
    };
    if !chart.version.is_empty() && !chart.repo.is_empty() {
        home.join(format!("{}-{}", chart.name, chart.version))
    } else {
        home
    }
}

/// A chart name as part of a file name (names come from the kustomization).
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect()
}

/// Reads a values file through the loader, so the root restriction holds.
fn read_values(loader: &Loader, path: &Path) -> Result<Vec<u8>, Error> {
    let text = path.to_string_lossy();
    loader.read_bytes(&text).map(|(_, bytes)| bytes)
}

/// The environment kustomize gives Helm: its homes under one directory.
fn helm_env(config_home: &Path) -> Vec<(String, PathBuf)> {
    vec![
        ("HELM_CONFIG_HOME".to_owned(), config_home.to_path_buf()),
        ("HELM_CACHE_HOME".to_owned(), config_home.join(".cache")),
        ("HELM_DATA_HOME".to_owned(), config_home.join(".data")),
    ]
}

/// `helm pull` into the chart home. The chart reference comes after `--`, so
/// it can only ever be a positional argument (the option values themselves
/// were already refused if they start with `-`).
fn pull_args(chart: &HelmChart, untar_dir: &Path) -> Vec<String> {
    let mut args = vec![
        "pull".to_owned(),
        "--untar".to_owned(),
        "--untardir".to_owned(),
        untar_dir.to_string_lossy().into_owned(),
    ];
    let reference = if chart.repo.starts_with("oci://") {
        format!(
            "{}/{}",
            chart.repo.strip_suffix('/').unwrap_or(&chart.repo),
            chart.name
        )
    } else {
        args.push("--repo".to_owned());
        args.push(chart.repo.clone());
        chart.name.clone()
    };
    if !chart.version.is_empty() {
        args.push("--version".to_owned());
        args.push(chart.version.clone());
    }
    args.push("--".to_owned());
    args.push(reference);
    args
}

/// `helm template`, with the options in kustomize's order, and the release
/// name and chart after `--` (kustomize puts them first, where a release name
/// like `--set-file=...` is read as an option; Helm's output is the same).
fn template_args(
    chart: &HelmChart,
    chart_dir: &Path,
    values_file: &Path,
    additional: &[PathBuf],
) -> Vec<String> {
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let mut args = vec!["template".to_owned()];
    let mut positional = Vec::with_capacity(2);
    if chart.release_name.is_empty() {
        args.push("--generate-name".to_owned());
    } else {
        positional.push(chart.release_name.clone());
    }
    positional.push(path(chart_dir));
    let mut pair = |flag: &str, value: String| {
        args.push(flag.to_owned());
        args.push(value);
    };
    if !chart.namespace.is_empty() {
        pair("--namespace", chart.namespace.clone());
    }
    if !chart.name_template.is_empty() {
        pair("--name-template", chart.name_template.clone());
    }
    pair("-f", path(values_file));
    for file in additional {
        pair("-f", path(file));
    }
    for version in &chart.api_versions {
        pair("--api-versions", version.clone());
    }
    if !chart.kube_version.is_empty() {
        pair("--kube-version", chart.kube_version.clone());
    }
    for (on, flag) in [
        (chart.include_crds, "--include-crds"),
        (chart.skip_tests, "--skip-tests"),
        (chart.skip_hooks, "--no-hooks"),
        (chart.debug, "--debug"),
    ] {
        if on {
            args.push(flag.to_owned());
        }
    }
    args.push("--".to_owned());
    args.extend(positional);
    args
}

/// kyaml's merge of `src` into `dest`: maps merge key by key, anything else
/// replaces, a null in `src` removes the key (also inside maps `dest` lacks).
fn merge_values(mut dest: Map, src: Map) -> Map {
    for (key, value) in src {
        match value {
            Value::Null | Value::Empty => {
                dest.shift_remove(&key);
            }
            Value::Map(inner) => {
                let merged = match dest.shift_remove(&key) {
                    Some(Value::Map(old)) => merge_values(old, inner),
                    _ => merge_values(Map::default(), inner),
                };
                dest.insert(key, Value::Map(merged));
            }
            other => {
                dest.insert(key, other);
            }
        }
    }
    dest
}

/// Go writes a map's keys sorted; so does the values file kustomize writes.
fn sort_keys(value: &mut Value) {
    match value {
        Value::Map(m) => {
            m.sort_keys();
            m.values_mut().for_each(sort_keys);
        }
        Value::Seq(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// kustomize refuses anything but Helm v3 (`helm version -c --short`).
fn check_version(session: &HelmSession, env: &[(String, PathBuf)]) -> Result<(), String> {
    session
        .version
        .get_or_init(|| {
            let args = ["version", "-c", "--short"].map(str::to_owned);
            let out = run(session, &args, env)?;
            let text = String::from_utf8_lossy(&out);
            let version = text
                .split_whitespace()
                .map(|w| w.trim_start_matches('v'))
                .find(|w| w.split('.').count() > 1 && w.starts_with(|c: char| c.is_ascii_digit()))
                .map(str::to_owned);
            match version {
                None => Err(format!(
                    "cannot find version string in '{}'",
                    one_line(text.trim())
                )),
                Some(v) if v.split('.').next() == Some("3") => Ok(()),
                Some(v) => Err(format!("this plugin requires helm V3 but got v{v}")),
            }
        })
        .clone()
}

/// Most bytes of Helm's standard error kept for messages.
const MAX_STDERR: usize = 64 << 10;

/// Runs `helm` with `args` and the homes in `env`: the whole standard output
/// (at most the size limit), or a one-line error with Helm's own message.
fn run(
    session: &HelmSession,
    args: &[String],
    env: &[(String, PathBuf)],
) -> Result<Vec<u8>, String> {
    let command = &session.options.command;
    let what = format!("helm {}", args.first().map_or("", String::as_str));
    let mut cmd = Command::new(command);
    cmd.args(args).envs(env.iter().map(|(k, v)| (k, v)));
    let timeout = session.options.timeout;
    let timed_out = || {
        format!(
            "{what} did not finish within {}s (HelmOptions::timeout, --helm-timeout)",
            timeout.as_secs()
        )
    };
    let limit = session.max_output;
    let out = crate::process::run(cmd, None, timeout, limit, MAX_STDERR).map_err(|e| match e {
        crate::process::RunFailure::Spawn(e) => match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "helm command '{}' not found: install Helm v3 or name it with --helm-command",
                command.display()
            ),
            _ => format!(
                "cannot run helm command '{}' ({e}): check --helm-command",
                command.display()
            ),
        },
        crate::process::RunFailure::TimedOut => timed_out(),
        crate::process::RunFailure::TooLarge => format!(
            "{what} printed more than {limit} bytes (BuildOptions::limits.max_bytes, --max-file-bytes)"
        ),
        crate::process::RunFailure::Io(e) => format!("{what}: cannot read its output: {e}"),
    })?;
    if !out.status.success() {
        let code = out.status.code().map_or_else(
            || "killed by a signal".to_owned(),
            |c| format!("exit status {c}"),
        );
        return Err(format!(
            "{what} failed ({code}): {}",
            helm_message(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// Helm's own message: its first `Error:` line, else its first line.
fn helm_message(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.clone().next();
    let line = lines.find(|l| l.starts_with("Error:")).or(first);
    match line {
        Some(line) => one_line(line),
        None => "no message on standard error".to_owned(),
    }
}

/// A message squeezed onto one line (and kept short).
fn one_line(text: &str) -> String {
    let mut line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.len() > 400 {
        let mut cut = 400;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push_str(" ...");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Map {
        match rustomize_yaml::parse_documents(text, &ParseLimits::default())
            .ok()
            .and_then(|d| d.into_iter().next())
        {
            Some(Value::Map(m)) => m,
            _ => Map::default(),
        }
    }

    #[test]
    fn merge_is_kyamls() {
        let dest = map("a: 1\nm: {x: 1, y: [1, 2]}\nl: [1]\nk: 1\n");
        let src = map("a: 2\nm: {x: ~, y: [3], w: {z: ~, r: 1}}\nk: ~\n");
        let mut out = Value::Map(merge_values(dest, src));
        sort_keys(&mut out);
        let mut text = String::new();
        rustomize_yaml::write_document(&out, &mut text);
        assert_eq!(text, "a: 2\nl:\n- 1\nm:\n  w:\n    r: 1\n  \"y\":\n  - 3\n");
    }

    #[test]
    fn template_args_follow_kustomize() {
        let chart = HelmChart {
            name: "demo".into(),
            release_name: "rel".into(),
            namespace: "ns".into(),
            api_versions: vec!["a/v1".into(), "b/v2".into()],
            kube_version: "1.29.0".into(),
            include_crds: true,
            skip_tests: true,
            skip_hooks: true,
            ..Default::default()
        };
        let args = template_args(
            &chart,
            Path::new("/r/charts/demo"),
            Path::new("/t/v.yaml"),
            &[PathBuf::from("/r/extra.yaml")],
        );
        assert_eq!(
            args.join(" "),
            "template --namespace ns -f /t/v.yaml -f /r/extra.yaml \
             --api-versions a/v1 --api-versions b/v2 --kube-version 1.29.0 --include-crds \
             --skip-tests --no-hooks -- rel /r/charts/demo"
        );
    }

    #[test]
    fn pull_args_follow_kustomize() {
        let mut chart = HelmChart {
            name: "demo".into(),
            repo: "http://127.0.0.1:1".into(),
            version: "0.2.0".into(),
            ..Default::default()
        };
        assert_eq!(
            pull_args(&chart, Path::new("/r/charts/demo-0.2.0")).join(" "),
            "pull --untar --untardir /r/charts/demo-0.2.0 --repo http://127.0.0.1:1 --version 0.2.0 -- demo"
        );
        chart.repo = "oci://registry.example/charts/".into();
        assert_eq!(
            pull_args(&chart, Path::new("/c")).join(" "),
            "pull --untar --untardir /c --version 0.2.0 -- oci://registry.example/charts/demo"
        );
        assert_eq!(
            chart_home(&HelmGlobals::default(), &chart),
            Path::new("charts/demo-0.2.0")
        );
    }

    #[test]
    fn helm_message_prefers_the_error_line() {
        assert_eq!(
            helm_message(b"install.go:1: [debug] x\nError: bad  thing\nmore\n"),
            "Error: bad thing"
        );
        assert_eq!(helm_message(b"\n oops \n"), "oops");
    }
}
