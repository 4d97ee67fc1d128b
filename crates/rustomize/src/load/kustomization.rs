//! The kustomization file: parsed into a typed [`Kustomization`], strictly.
//!
//! kustomize decodes this file with Go's JSON rules: field names match
//! case-insensitively, unknown fields are an error, and a value of the wrong type
//! is an error. Fields this version of rustomize cannot honour yet are rejected
//! with a clear message rather than silently ignored, so a build never prints
//! output that differs from kustomize's.

use std::path::{Path, PathBuf};

use rustomize_yaml::{Map, ParseLimits, Value};

use crate::error::Error;
use crate::fieldspec::FieldSpec;
use crate::generate::helm::{self, HelmChart, HelmGlobals};
use crate::load::gojson::field as canonical_field;
use crate::selector::Selector;

/// Every top-level field kustomize knows, in its own spelling.
pub const KNOWN_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "openapi",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "images",
    "imageTags",
    "replacements",
    "replicas",
    "vars",
    "sortOptions",
    "resources",
    "components",
    "crds",
    "bases",
    "configMapGenerator",
    "secretGenerator",
    "helmGlobals",
    "helmCharts",
    "helmChartInflationGenerator",
    "generatorOptions",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "buildMetadata",
];

/// Fields kustomize knows that rustomize does not implement yet.
const NOT_YET: &[&str] = &[];

/// One entry of `labels:`.
#[derive(Clone, Debug, Default)]
pub struct LabelEntry {
    /// The labels to add.
    pub pairs: Vec<(String, String)>,
    /// Also edit selectors (and templates).
    pub include_selectors: bool,
    /// Also edit pod/job templates.
    pub include_templates: bool,
    /// Extra fields to edit.
    pub fields: Vec<FieldSpec>,
}

/// One entry of `patches:` (or, converted, of the legacy patch fields).
#[derive(Clone, Debug, Default)]
pub struct PatchEntry {
    /// A file holding the patch.
    pub path: Option<String>,
    /// The patch itself, inline.
    pub patch: Option<String>,
    /// Which resources to patch (None: the patch names its target itself).
    pub target: Option<Selector>,
    /// `options.allowNameChange`.
    pub allow_name_change: bool,
    /// `options.allowKindChange`.
    pub allow_kind_change: bool,
}

/// `sortOptions:`.
#[derive(Clone, Debug)]
pub enum SortOrder {
    /// Keep the order resources were accumulated in.
    Fifo,
    /// kustomize's legacy kind order, with the given first/last kinds.
    Legacy {
        /// Kinds that go first, in order.
        first: Vec<String>,
        /// Kinds that go last, in order.
        last: Vec<String>,
    },
}

/// A parsed kustomization file.
#[derive(Clone, Debug, Default)]
pub struct Kustomization {
    /// The file it came from.
    pub path: PathBuf,
    /// `Kustomization` or `Component`.
    pub kind: String,
    /// `resources` followed by legacy `bases`.
    pub resources: Vec<String>,
    /// `components`.
    pub components: Vec<String>,
    /// `namespace`.
    pub namespace: String,
    /// `namePrefix`.
    pub name_prefix: String,
    /// `nameSuffix`.
    pub name_suffix: String,
    /// `commonLabels`.
    pub common_labels: Vec<(String, String)>,
    /// `labels`.
    pub labels: Vec<LabelEntry>,
    /// `commonAnnotations`.
    pub common_annotations: Vec<(String, String)>,
    /// `sortOptions` (None if absent).
    pub sort_order: Option<SortOrder>,
    /// `patchesStrategicMerge`: file paths or inline patches.
    pub patches_strategic_merge: Vec<String>,
    /// `patchesJson6902`.
    pub patches_json6902: Vec<PatchEntry>,
    /// `patches`.
    pub patches: Vec<PatchEntry>,
    /// `openapi`: `path` (a custom schema file) or `version` (a built-in schema).
    pub openapi: Vec<(String, String)>,
    /// `configurations`: transformer configuration files extending the field specs.
    pub configurations: Vec<String>,
    /// `configMapGenerator`, as written (interpreted by `crate::generate`).
    pub config_map_generator: Value,
    /// `secretGenerator`, as written.
    pub secret_generator: Value,
    /// `generatorOptions`, as written.
    pub generator_options: Value,
    /// `images`, as written (interpreted by [`crate::transform::images`]).
    pub images: Value,
    /// `replicas`, as written (interpreted by [`crate::transform::replicas`]).
    pub replicas: Value,
    /// `vars`, as written (interpreted by `crate::vars`).
    pub vars: Value,
    /// `replacements`, as written (interpreted by [`crate::transform::replacements`]).
    pub replacements: Value,
    /// `crds`: files of OpenAPI definitions whose `x-kubernetes-*` extensions add
    /// field specs.
    pub crds: Vec<String>,
    /// `helmGlobals`, or the legacy entries' chart and config homes when absent.
    pub helm_globals: HelmGlobals,
    /// `helmCharts` followed by the converted legacy `helmChartInflationGenerator`.
    pub helm_charts: Vec<HelmChart>,
    /// `generators`: plugin configs (inline YAML, files or kustomization
    /// directories; see `crate::plugins::entries`).
    pub generators: Vec<String>,
    /// `transformers`: plugin configs, as `generators`.
    pub transformers: Vec<String>,
    /// `validators`: plugin configs, as `generators`; they may not change the
    /// resources.
    pub validators: Vec<String>,
    /// `buildMetadata`: options of `crate::buildmeta` (only the top
    /// kustomization's list counts; unknown names are accepted, as in kustomize).
    pub build_metadata: Vec<String>,
    /// Deprecation warnings kustomize prints for this file.
    pub warnings: Vec<String>,
}

/// Deprecated fields and their replacements, in the order kustomize warns about them.
const DEPRECATED: &[(&str, &str)] = &[
    ("bases", "resources"),
    ("commonLabels", "labels"),
    ("imageTags", "images"),
    ("patchesJson6902", "patches"),
    ("patchesStrategicMerge", "patches"),
    ("vars", "replacements"),
];

const EDIT_FIX: &str = "Run 'kustomize edit fix' to update your Kustomization automatically.";

impl Kustomization {
    /// Parses and validates the text of a kustomization file.
    pub fn parse(path: &Path, text: &str) -> Result<Kustomization, Error> {
        let err = |message: String| Error::Kustomization {
            path: path.to_path_buf(),
            message,
        };
        // kustomize decodes its kustomization files with YAML 1.1 typing.
        let limits = ParseLimits {
            yaml11: true,
            ..ParseLimits::default()
        };
        let docs = rustomize_yaml::parse_documents(text, &limits).map_err(|e| Error::Yaml {
            path: path.to_path_buf(),
            message: e.message,
        })?;
        let root = match docs.into_iter().find(|d| !d.is_null()) {
            Some(Value::Map(m)) => m,
            Some(other) => {
                return Err(err(format!(
                    "expected a mapping, found a {}",
                    other.type_name()
                )))
            }
            None => return Err(err("kustomization file is empty".to_owned())),
        };
        let mut k = Kustomization {
            path: path.to_path_buf(),
            ..Default::default()
        };
        let mut bases = Vec::new();
        let mut deprecated: Vec<&'static str> = Vec::new();
        let mut image_tags = Value::Null;
        let mut helm_globals = None;
        let mut legacy_helm = Vec::new();
        let mut api_version = String::new();
        // kustomize decodes via JSON with sorted keys, so when two spellings of a
        // field appear (`namePrefix`, `nameprefix`), the one sorting last wins.
        let mut entries: Vec<_> = root.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, value) in entries {
            let Some(field) = canonical_field(&key, KNOWN_FIELDS) else {
                return Err(err(format!("json: unknown field \"{key}\"")));
            };
            if NOT_YET.contains(&field) && !is_empty(&value) {
                return Err(err(format!(
                    "field '{field}' is not supported by rustomize yet"
                )));
            }
            if !value.is_null() && DEPRECATED.iter().any(|(f, _)| *f == field) {
                deprecated.push(field);
            }
            match field {
                "apiVersion" => api_version = string(&value, field).map_err(err)?,
                "metadata" => object_meta(&value).map_err(err)?,
                "buildMetadata" => k.build_metadata = strings(&value, field).map_err(err)?,
                "kind" => k.kind = string(&value, field).map_err(err)?,
                "resources" => k.resources = strings(&value, field).map_err(err)?,
                "bases" => bases = strings(&value, field).map_err(err)?,
                "components" => k.components = strings(&value, field).map_err(err)?,
                "namespace" => k.namespace = string(&value, field).map_err(err)?,
                "namePrefix" => k.name_prefix = string(&value, field).map_err(err)?,
                "nameSuffix" => k.name_suffix = string(&value, field).map_err(err)?,
                "commonLabels" => k.common_labels = string_map(&value, field).map_err(err)?,
                "patchesStrategicMerge" => {
                    k.patches_strategic_merge = strings(&value, field).map_err(err)?
                }
                "patchesJson6902" => {
                    k.patches_json6902 = patch_entries(&value, field, false).map_err(err)?
                }
                "patches" => k.patches = patch_entries(&value, field, true).map_err(err)?,
                "openapi" => k.openapi = string_map(&value, field).map_err(err)?,
                "crds" => k.crds = strings(&value, field).map_err(err)?,
                "configurations" => k.configurations = strings(&value, field).map_err(err)?,
                "configMapGenerator" => k.config_map_generator = value,
                "secretGenerator" => k.secret_generator = value,
                "generatorOptions" => k.generator_options = value,
                "images" => k.images = append_list(std::mem::take(&mut k.images), value),
                // Legacy `imageTags` entries run after `images`.
                "imageTags" => image_tags = value,
                "replicas" => k.replicas = value,
                "vars" => k.vars = value,
                "replacements" => k.replacements = value,
                "commonAnnotations" => {
                    k.common_annotations = string_map(&value, field).map_err(err)?
                }
                "labels" => k.labels = label_entries(&value).map_err(err)?,
                "sortOptions" => k.sort_order = sort_options(&value).map_err(err)?,
                "helmGlobals" => helm_globals = helm::parse_globals(&value).map_err(err)?,
                "helmCharts" => k.helm_charts = helm::parse_charts(&value).map_err(err)?,
                "helmChartInflationGenerator" => {
                    legacy_helm = helm::parse_legacy(&value).map_err(err)?
                }
                "generators" => k.generators = strings(&value, field).map_err(err)?,
                "transformers" => k.transformers = strings(&value, field).map_err(err)?,
                "validators" => k.validators = strings(&value, field).map_err(err)?,
                _ => {}
            }
        }
        k.resources.extend(bases);
        // Legacy entries are converted after the others, as kustomize's fix-up does:
        // their charts go last, their homes count only without `helmGlobals`.
        let (legacy_charts, legacy_globals) = helm::split_legacy(legacy_helm);
        k.helm_charts.extend(legacy_charts);
        k.helm_globals = helm_globals.unwrap_or(legacy_globals);
        k.images = append_list(std::mem::take(&mut k.images), image_tags);
        for (field, instead) in DEPRECATED {
            if deprecated.contains(field) {
                let fix = if *field == "vars" {
                    format!("[EXPERIMENTAL] {EDIT_FIX}")
                } else {
                    EDIT_FIX.to_owned()
                };
                k.warnings.push(format!(
                    "# Warning: '{field}' is deprecated. Please use '{instead}' instead. {fix}"
                ));
            }
        }
        if k.kind.is_empty() {
            k.kind = "Kustomization".to_owned();
        }
        if k.kind != "Kustomization" && k.kind != "Component" {
            return Err(err("kind should be Kustomization or Component".to_owned()));
        }
        let required = if k.kind == "Component" {
            "kustomize.config.k8s.io/v1alpha1"
        } else {
            "kustomize.config.k8s.io/v1beta1"
        };
        if !api_version.is_empty() && api_version != required {
            return Err(err(format!(
                "apiVersion for {} should be {required}",
                k.kind
            )));
        }
        Ok(k)
    }
}

/// `metadata`, decoded by kustomize into its `ObjectMeta` (name, namespace,
/// labels, annotations; nothing else).
fn object_meta(value: &Value) -> Result<(), String> {
    const FIELDS: &[&str] = &["name", "namespace", "labels", "annotations"];
    let m = match value {
        Value::Null | Value::Empty => return Ok(()),
        Value::Map(m) => m,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go struct field Kustomization.metadata of type types.ObjectMeta",
                crate::load::gojson::type_name(other)
            ))
        }
    };
    for (key, v) in m {
        let Some(field) = canonical_field(key, FIELDS) else {
            return Err(format!("json: unknown field \"{key}\""));
        };
        let path = format!("metadata.{field}");
        match (field, v) {
            ("labels" | "annotations", Value::Map(pairs)) => {
                for v in pairs.values() {
                    crate::load::gojson::string(v, "ObjectMeta.", &path)?;
                }
            }
            ("labels" | "annotations", Value::Null | Value::Empty) => {}
            ("labels" | "annotations", other) => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go struct field ObjectMeta.{path} of type map[string]string",
                    crate::load::gojson::type_name(other)
                ))
            }
            _ => {
                crate::load::gojson::string(v, "ObjectMeta.", &path)?;
            }
        }
    }
    Ok(())
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null | Value::Empty => true,
        Value::Seq(s) => s.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// A string field: kustomize's JSON decoding accepts only strings (or null).
pub(crate) fn scalar_string(value: &Value, field: &str) -> Result<String, String> {
    crate::load::gojson::string(value, "Kustomization.", field)
}

fn string(value: &Value, field: &str) -> Result<String, String> {
    scalar_string(value, field)
}

pub(crate) fn strings(value: &Value, field: &str) -> Result<Vec<String>, String> {
    match value {
        Value::Null | Value::Empty => Ok(Vec::new()),
        Value::Seq(items) => items.iter().map(|v| scalar_string(v, field)).collect(),
        other => Err(format!(
            "field '{field}': expected a list of strings, found a {}",
            other.type_name()
        )),
    }
}

pub(crate) fn string_map(value: &Value, field: &str) -> Result<Vec<(String, String)>, String> {
    match value {
        Value::Null | Value::Empty => Ok(Vec::new()),
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| Ok((k.to_string(), scalar_string(v, field)?)))
            .collect(),
        other => Err(format!(
            "field '{field}': expected a map of strings, found a {}",
            other.type_name()
        )),
    }
}

pub(crate) fn boolean(value: &Value, field: &str) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Null | Value::Empty => Ok(false),
        other => Err(format!(
            "field '{field}': expected a boolean, found a {}",
            other.type_name()
        )),
    }
}

fn mapping<'v>(value: &'v Value, field: &str) -> Result<Option<&'v Map>, String> {
    match value {
        Value::Null | Value::Empty => Ok(None),
        Value::Map(m) => Ok(Some(m)),
        other => Err(format!(
            "field '{field}': expected a mapping, found a {}",
            other.type_name()
        )),
    }
}

fn label_entries(value: &Value) -> Result<Vec<LabelEntry>, String> {
    let items = match value {
        Value::Null | Value::Empty => return Ok(Vec::new()),
        Value::Seq(items) => items,
        other => {
            return Err(format!(
                "field 'labels': expected a list, found a {}",
                other.type_name()
            ))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(m) = mapping(item, "labels")? else {
            continue;
        };
        let mut entry = LabelEntry::default();
        for (key, v) in m {
            const FIELDS: &[&str] = &["pairs", "includeSelectors", "includeTemplates", "fields"];
            match canonical_field(key, FIELDS) {
                Some("pairs") => entry.pairs = string_map(v, "labels.pairs")?,
                Some("includeSelectors") => {
                    entry.include_selectors = boolean(v, "labels.includeSelectors")?
                }
                Some("includeTemplates") => {
                    entry.include_templates = boolean(v, "labels.includeTemplates")?
                }
                Some("fields") => entry.fields = field_specs(v, "labels.fields")?,
                _ => return Err(format!("json: unknown field \"{key}\"")),
            }
        }
        out.push(entry);
    }
    Ok(out)
}

/// A list of field specs as users write them (`group`, `version`, `kind`, `path`, `create`).
pub fn field_specs(value: &Value, field: &str) -> Result<Vec<FieldSpec>, String> {
    let items = list(value, field)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(m) = mapping(item, field)? else {
            continue;
        };
        let mut spec = FieldSpec::new("", "", "", "", false);
        for (key, v) in m {
            const FIELDS: &[&str] = &["group", "version", "kind", "path", "create"];
            match canonical_field(key, FIELDS) {
                Some("group") => spec.group = scalar_string(v, field)?,
                Some("version") => spec.version = scalar_string(v, field)?,
                Some("kind") => spec.kind = scalar_string(v, field)?,
                Some("path") => spec.path = scalar_string(v, field)?,
                Some("create") => spec.create = boolean(v, field)?,
                _ => return Err(format!("json: unknown field \"{key}\"")),
            }
        }
        out.push(spec);
    }
    Ok(out)
}

const DEFAULT_ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

const DEFAULT_ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

impl SortOrder {
    /// kustomize's default order: legacy, with its built-in first and last kinds.
    pub fn default_legacy() -> SortOrder {
        SortOrder::Legacy {
            first: DEFAULT_ORDER_FIRST
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            last: DEFAULT_ORDER_LAST.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

pub(crate) fn sort_options(value: &Value) -> Result<Option<SortOrder>, String> {
    let Some(m) = mapping(value, "sortOptions")? else {
        return Ok(None);
    };
    let mut order = String::new();
    let mut legacy: Option<(Vec<String>, Vec<String>)> = None;
    for (key, v) in m {
        match canonical_field(key, &["order", "legacySortOptions"]) {
            Some("order") => order = scalar_string(v, "sortOptions.order")?,
            Some("legacySortOptions") => {
                let mut first = Vec::new();
                let mut last = Vec::new();
                if let Some(opts) = mapping(v, "sortOptions.legacySortOptions")? {
                    for (k2, v2) in opts {
                        match canonical_field(k2, &["orderFirst", "orderLast"]) {
                            Some("orderFirst") => first = strings(v2, "orderFirst")?,
                            Some("orderLast") => last = strings(v2, "orderLast")?,
                            _ => return Err(format!("json: unknown field \"{k2}\"")),
                        }
                    }
                }
                legacy = Some((first, last));
            }
            _ => return Err(format!("json: unknown field \"{key}\"")),
        }
    }
    match order.as_str() {
        "fifo" => {
            if legacy.is_some() {
                return Err(
                    "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'"
                        .to_owned(),
                );
            }
            Ok(Some(SortOrder::Fifo))
        }
        "legacy" => Ok(Some(match legacy {
            Some((first, last)) => SortOrder::Legacy { first, last },
            None => SortOrder::default_legacy(),
        })),
        _ => Err("the field 'sortOptions.order' must be one of [fifo, legacy]".to_owned()),
    }
}

pub(crate) fn selector(value: &Value, field: &str) -> Result<Option<Selector>, String> {
    let Some(m) = mapping(value, field)? else {
        return Ok(None);
    };
    let mut s = Selector::default();
    for (key, v) in m {
        let slot = match canonical_field(key, crate::selector::SELECTOR_FIELDS) {
            Some("group") => &mut s.group,
            Some("version") => &mut s.version,
            Some("kind") => &mut s.kind,
            Some("name") => &mut s.name,
            Some("namespace") => &mut s.namespace,
            Some("labelSelector") => &mut s.label_selector,
            Some("annotationSelector") => &mut s.annotation_selector,
            _ => return Err(format!("json: unknown field \"{key}\"")),
        };
        *slot = scalar_string(v, field)?;
    }
    Ok(Some(s))
}

/// `patches` entries (with `options`) or `patchesJson6902` entries (without).
pub(crate) fn patch_entries(
    value: &Value,
    field: &str,
    with_options: bool,
) -> Result<Vec<PatchEntry>, String> {
    let items = list(value, field)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(m) = mapping(item, field)? else {
            continue;
        };
        let mut entry = PatchEntry::default();
        let fields: &[&str] = if with_options {
            &["path", "patch", "target", "options"]
        } else {
            &["path", "patch", "target"]
        };
        for (key, v) in m {
            match canonical_field(key, fields) {
                Some("path") => {
                    entry.path = Some(scalar_string(v, field)?).filter(|p| !p.is_empty())
                }
                Some("patch") => {
                    entry.patch = Some(scalar_string(v, field)?).filter(|p| !p.is_empty())
                }
                Some("target") => entry.target = selector(v, field)?,
                Some("options") => {
                    if let Some(opts) = mapping(v, field)? {
                        for (name, flag) in opts {
                            let flag = boolean(flag, field)?;
                            match name.as_str() {
                                "allowNameChange" => entry.allow_name_change = flag,
                                "allowKindChange" => entry.allow_kind_change = flag,
                                _ => {}
                            }
                        }
                    }
                }
                _ => return Err(format!("json: unknown field \"{key}\"")),
            }
        }
        out.push(entry);
    }
    Ok(out)
}

/// Concatenates two list-valued fields (a non-list is kept as is for the
/// interpreter to reject).
fn append_list(first: Value, second: Value) -> Value {
    match (first, second) {
        (Value::Null | Value::Empty, b) => b,
        (a, Value::Null | Value::Empty) => a,
        (Value::Seq(mut a), Value::Seq(b)) => {
            a.extend(b);
            Value::Seq(a)
        }
        (a, _) => a,
    }
}

/// The items of a list field (none if null).
fn list<'v>(value: &'v Value, field: &str) -> Result<&'v [Value], String> {
    match value {
        Value::Null | Value::Empty => Ok(&[]),
        Value::Seq(items) => Ok(items),
        other => Err(format!(
            "field '{field}': expected a list, found a {}",
            other.type_name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What rustomize does with a field of kustomize's `types.Kustomization`.
    #[derive(Debug, PartialEq)]
    enum Class {
        Implemented,
    }

    /// Every field of kustomize v5.5.0's `types.Kustomization` (api v0.18.0,
    /// api/types/kustomization.go, with the inlined TypeMeta), a sample value
    /// and what rustomize does with it. `buildMetadata` is read by the build
    /// (section 3 of issue 7), not by the parser.
    const FIELDS: &[(&str, &str, Class)] = &[
        (
            "apiVersion",
            "kustomize.config.k8s.io/v1beta1",
            Class::Implemented,
        ),
        ("kind", "Kustomization", Class::Implemented),
        ("metadata", "{name: x}", Class::Implemented),
        ("openapi", "{version: v1.21.2}", Class::Implemented),
        ("namePrefix", "p-", Class::Implemented),
        ("nameSuffix", "-s", Class::Implemented),
        ("namespace", "ns", Class::Implemented),
        ("commonLabels", "{a: b}", Class::Implemented),
        ("labels", "[{pairs: {a: b}}]", Class::Implemented),
        ("commonAnnotations", "{a: b}", Class::Implemented),
        ("patchesStrategicMerge", "[p.yaml]", Class::Implemented),
        (
            "patchesJson6902",
            "[{path: p.yaml, target: {kind: K}}]",
            Class::Implemented,
        ),
        ("patches", "[{path: p.yaml}]", Class::Implemented),
        ("images", "[{name: a, newTag: b}]", Class::Implemented),
        ("imageTags", "[{name: a, newTag: b}]", Class::Implemented),
        ("replacements", "[{path: r.yaml}]", Class::Implemented),
        ("replicas", "[{name: a, count: 1}]", Class::Implemented),
        (
            "vars",
            "[{name: V, objref: {kind: K, name: n, apiVersion: v1}}]",
            Class::Implemented,
        ),
        ("sortOptions", "{order: legacy}", Class::Implemented),
        ("resources", "[r.yaml]", Class::Implemented),
        ("components", "[c]", Class::Implemented),
        ("crds", "[crd.yaml]", Class::Implemented),
        ("bases", "[b]", Class::Implemented),
        (
            "configMapGenerator",
            "[{name: c, literals: [a=b]}]",
            Class::Implemented,
        ),
        (
            "secretGenerator",
            "[{name: s, literals: [a=b]}]",
            Class::Implemented,
        ),
        ("helmGlobals", "{chartHome: charts}", Class::Implemented),
        ("helmCharts", "[{name: c}]", Class::Implemented),
        (
            "helmChartInflationGenerator",
            "[{chartName: c}]",
            Class::Implemented,
        ),
        (
            "generatorOptions",
            "{disableNameSuffixHash: true}",
            Class::Implemented,
        ),
        ("configurations", "[c.yaml]", Class::Implemented),
        ("generators", "[g.yaml]", Class::Implemented),
        ("transformers", "[t.yaml]", Class::Implemented),
        ("validators", "[v.yaml]", Class::Implemented),
        ("buildMetadata", "[originAnnotations]", Class::Implemented),
    ];

    #[test]
    fn every_kustomize_field_is_implemented_or_refused() {
        let listed: Vec<&str> = FIELDS.iter().map(|(f, _, _)| *f).collect();
        assert_eq!(
            listed, KNOWN_FIELDS,
            "the field list must match kustomize's"
        );
        for (field, sample, class) in FIELDS {
            let text = format!("{field}: {sample}\n");
            let got = Kustomization::parse(Path::new("kustomization.yaml"), &text);
            match (class, got) {
                (Class::Implemented, Ok(_)) => {}
                (class, got) => panic!("{field}: expected {class:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn unknown_fields_are_errors() {
        let got = Kustomization::parse(Path::new("k.yaml"), "nameprefixx: a\n");
        match got {
            Err(e) => assert!(e
                .to_string()
                .contains("json: unknown field \"nameprefixx\"")),
            Ok(_) => panic!("an unknown field was accepted"),
        }
    }
}
