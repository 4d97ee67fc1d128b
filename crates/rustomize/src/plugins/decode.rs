//! One plugin config resource, decoded into a typed config the way kustomize's
//! builtin plugins decode theirs (`sigs.k8s.io/yaml` into the plugin struct):
//! field names match case-insensitively, unknown fields are ignored, a value of
//! the wrong type is an error, and each plugin's own checks follow
//! (`fieldSpecs is not expected to be nil`, `must specify the target name`, ...).
//!
//! A config's `fieldSpecs` replace the default table entirely: a
//! `LabelTransformer` without them changes nothing, and a `PrefixTransformer`
//! without them is refused, as in kustomize.
//!
//! Which configs are builtin: `apiVersion: builtin` (no group). kustomize v5.5.0
//! does not wire `SortOrderTransformer` (nor unknown kinds) as plugins; those
//! fail with its message `unable to load builtin KIND.builtin.[noGrp]`.

use rustomize_yaml::{Map, Value};

use super::{Generator, SmPatchSource, SubjectMode, Transformer, ValueAddTarget};
use crate::generate::args::Kind as KvKind;
use crate::load::gojson::field as canonical;
use crate::load::gojson::type_name as go_type;
use crate::load::kustomization as k;

/// What a config resource is, as kustomize's plugin loader sees it.
pub enum Decoded {
    /// A builtin transformer.
    Transformer(Transformer),
    /// A builtin generator.
    Generator(Generator),
    /// Not builtin: an exec plugin or KRM function.
    External,
}

/// The builtin generator kinds.
const GENERATORS: &[&str] = &[
    "ConfigMapGenerator",
    "SecretGenerator",
    "HelmChartInflationGenerator",
    "IAMPolicyGenerator",
];

/// `apiVersion`, `kind` and `metadata.name` of a config, for messages.
pub struct Identity {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
}

impl Identity {
    /// Reads the identity of a config.
    pub fn of(config: &Map) -> Identity {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
        let meta = config.get("metadata");
        Identity {
            api_version: text(config.get("apiVersion")),
            kind: text(config.get("kind")),
            name: text(meta.and_then(|m| m.get("name"))),
            namespace: text(meta.and_then(|m| m.get("namespace"))),
        }
    }

    /// Whether kustomize treats the config as builtin (version `builtin`, no group).
    pub fn is_builtin(&self) -> bool {
        self.api_version == super::BUILTIN_API_VERSION
    }

    /// kustomize's `OrgId` text: `Kind.version.[group]/name.[namespace]`.
    pub fn org_id(&self) -> String {
        let (group, version) = match self.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", self.api_version.as_str()),
        };
        let group = if group.is_empty() { "[noGrp]" } else { group };
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        format!("{}.{version}.{group}/{}.{ns}", self.kind, self.name)
    }

    /// kustomize's `Gvk` text: `Kind.version.[group]`.
    pub fn gvk_text(&self) -> String {
        let (group, version) = match self.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", self.api_version.as_str()),
        };
        let group = if group.is_empty() { "[noGrp]" } else { group };
        format!("{}.{version}.{group}", self.kind)
    }
}

/// Decodes a config resource. `dir_name`: the kustomization directory's base
/// name (a `ValueAddTransformer`'s default value).
///
/// Errors are kustomize's messages, without the `plugin ID fails
/// configuration:` prefix the caller adds.
pub fn decode(config: &Map, dir_name: &str) -> Result<Decoded, DecodeError> {
    let id = Identity::of(config);
    if !id.is_builtin() {
        return Ok(Decoded::External);
    }
    let configure = DecodeError::Configure;
    let t = match id.kind.as_str() {
        "AnnotationsTransformer" | "LabelTransformer" => {
            let mut m = pick(config, &["annotations", "labels", "fieldSpecs"]);
            let field = if id.kind == "LabelTransformer" {
                "labels"
            } else {
                "annotations"
            };
            stringify_values(&mut m, field);
            let pairs = k::string_map(get(&m, field), field).map_err(configure)?;
            let field_specs = lenient_specs(get(&m, "fieldSpecs")).map_err(configure)?;
            if id.kind == "LabelTransformer" {
                Transformer::Label { pairs, field_specs }
            } else {
                Transformer::Annotations { pairs, field_specs }
            }
        }
        "NamespaceTransformer" => {
            let m = pick(
                config,
                &[
                    "metadata",
                    "fieldSpecs",
                    "unsetOnly",
                    "setRoleBindingSubjects",
                ],
            );
            let namespace = match get(&m, "metadata") {
                Value::Map(meta) => {
                    let mut meta = pick(meta, &["namespace"]);
                    stringify_fields(&mut meta, &["namespace"]);
                    k::scalar_string(get(&meta, "namespace"), "metadata.namespace")
                        .map_err(configure)?
                }
                _ => String::new(),
            };
            let subjects = match k::scalar_string(
                &stringify(get(&m, "setRoleBindingSubjects")),
                "setRoleBindingSubjects",
            )
            .map_err(configure)?
            .as_str()
            {
                "" | "defaultOnly" => SubjectMode::DefaultOnly,
                "allServiceAccounts" => SubjectMode::AllServiceAccounts,
                "none" => SubjectMode::None,
                other => {
                    return Err(configure(format!(
                        "invalid value \"{other}\" for setRoleBindingSubjects: must be one of \"defaultOnly\", \"none\" or \"allServiceAccounts\""
                    )))
                }
            };
            Transformer::Namespace {
                namespace,
                field_specs: lenient_specs(get(&m, "fieldSpecs")).map_err(configure)?,
                unset_only: k::boolean(get(&m, "unsetOnly"), "unsetOnly").map_err(configure)?,
                subjects,
            }
        }
        "PrefixTransformer" | "SuffixTransformer" | "PrefixSuffixTransformer" => {
            // These three decode with kyaml's YAML decoder, not through JSON:
            // field names match exactly, and a scalar reads as its text.
            let mut m = pick_exact(config, &["prefix", "suffix", "fieldSpecs"]);
            stringify_fields(&mut m, &["prefix", "suffix"]);
            let text = |field: &str| k::scalar_string(get(&m, field), field).map_err(configure);
            let prefix = if id.kind == "SuffixTransformer" {
                String::new()
            } else {
                text("prefix")?
            };
            let suffix = if id.kind == "PrefixTransformer" {
                String::new()
            } else {
                text("suffix")?
            };
            let specs = match get(&m, "fieldSpecs") {
                Value::Null | Value::Empty => {
                    return Err(configure("fieldSpecs is not expected to be nil".to_owned()))
                }
                Value::Seq(items) => Value::Seq(
                    items
                        .iter()
                        .map(|item| match item {
                            Value::Map(spec) => {
                                let mut spec = pick_exact(
                                    spec,
                                    &["group", "version", "kind", "path", "create"],
                                );
                                stringify_fields(&mut spec, &["group", "version", "kind", "path"]);
                                Value::Map(spec)
                            }
                            other => other.clone(),
                        })
                        .collect(),
                ),
                other => other.clone(),
            };
            let field_specs = k::field_specs(&specs, "fieldSpecs").map_err(configure)?;
            if field_specs.iter().any(|f| f.path.is_empty()) {
                return Err(configure(
                    "fieldSpecs: cannot set or create an empty field name (a field spec without 'path')"
                        .to_owned(),
                ));
            }
            Transformer::PrefixSuffix {
                prefix,
                suffix,
                field_specs,
            }
        }
        "ImageTagTransformer" => {
            let m = pick(config, &["imageTag", "fieldSpecs"]);
            const IMAGE_FIELDS: &[&str] = &["name", "newName", "tagSuffix", "newTag", "digest"];
            let image = match get(&m, "imageTag") {
                Value::Map(image) => {
                    let mut image = pick(image, IMAGE_FIELDS);
                    stringify_fields(&mut image, IMAGE_FIELDS);
                    Value::Map(image)
                }
                other => other.clone(),
            };
            Transformer::ImageTag {
                image: Value::Seq(vec![image]),
                field_specs: lenient_specs(get(&m, "fieldSpecs")).map_err(configure)?,
            }
        }
        "ReplicaCountTransformer" => {
            let m = pick(config, &["replica", "fieldSpecs"]);
            let replica = match get(&m, "replica") {
                Value::Map(r) => {
                    let mut r = pick(r, &["name", "count"]);
                    stringify_fields(&mut r, &["name"]);
                    Value::Map(r)
                }
                other => other.clone(),
            };
            Transformer::ReplicaCount {
                replica: Value::Seq(vec![replica]),
                field_specs: lenient_specs(get(&m, "fieldSpecs")).map_err(configure)?,
            }
        }
        "PatchStrategicMergeTransformer" => {
            let m = pick(config, &["paths", "patches"]);
            let paths = k::strings(get(&m, "paths"), "paths").map_err(configure)?;
            let patches = k::scalar_string(get(&m, "patches"), "patches").map_err(configure)?;
            if paths.is_empty() && patches.is_empty() {
                return Err(configure(
                    "empty file path and empty patch content".to_owned(),
                ));
            }
            let mut sources: Vec<SmPatchSource> =
                paths.into_iter().map(SmPatchSource::File).collect();
            if !patches.is_empty() {
                sources.push(SmPatchSource::Inline(patches));
            }
            Transformer::PatchStrategicMerge(sources)
        }
        "PatchTransformer" | "PatchJson6902Transformer" => {
            let json6902 = id.kind == "PatchJson6902Transformer";
            let fields: &[&str] = if json6902 {
                &["target", "path", "jsonOp"]
            } else {
                &["path", "patch", "target", "options"]
            };
            let mut m = pick(config, fields);
            if let Some(op) = m.shift_remove("jsonOp") {
                m.insert("patch", op);
            }
            if let Some(Value::Map(target)) = m.get("target") {
                let target = pick(target, crate::selector::SELECTOR_FIELDS);
                m.insert("target", Value::Map(target));
            }
            let mut entries =
                k::patch_entries(&Value::Seq(vec![Value::Map(m)]), "patch", !json6902)
                    .map_err(configure)?;
            let entry = entries.pop().unwrap_or_default();
            if json6902 {
                if entry.target.as_ref().is_none_or(|t| t.name.is_empty()) {
                    return Err(configure("must specify the target name".to_owned()));
                }
                if entry.path.is_none() && entry.patch.is_none() {
                    return Err(configure("empty file path and empty jsonOp".to_owned()));
                }
                if entry.path.is_some() && entry.patch.is_some() {
                    return Err(configure(
                        "must specify a file path or jsonOp, not both".to_owned(),
                    ));
                }
                Transformer::PatchJson6902(entry)
            } else {
                Transformer::Patch(entry)
            }
        }
        "ReplacementTransformer" => {
            let m = pick(config, &["replacements"]);
            Transformer::Replacement {
                replacements: get(&m, "replacements").clone(),
                strict: false,
            }
        }
        "HashTransformer" => Transformer::Hash,
        "ValueAddTransformer" => value_add(config, dir_name)?,
        kind if GENERATORS.contains(&kind) => {
            return generator(config, &id).map(Decoded::Generator)
        }
        _ => {
            return Err(DecodeError::Unknown(format!(
                "unable to load builtin {}",
                id.gvk_text()
            )))
        }
    };
    Ok(Decoded::Transformer(t))
}

/// Why a config could not be decoded.
#[derive(Debug)]
pub enum DecodeError {
    /// kustomize knows no such builtin.
    Unknown(String),
    /// The builtin's `Config` failed.
    Configure(String),
}

fn generator(config: &Map, id: &Identity) -> Result<Generator, DecodeError> {
    let configure = DecodeError::Configure;
    match id.kind.as_str() {
        "ConfigMapGenerator" | "SecretGenerator" => {
            let kind = if id.kind == "ConfigMapGenerator" {
                KvKind::ConfigMap
            } else {
                KvKind::Secret
            };
            let mut m = pick(config, kind.fields());
            // The plugin's own name and namespace stand in for empty arguments.
            for field in ["name", "namespace"] {
                let empty = m
                    .get(field)
                    .is_none_or(|v| v.as_str().is_some_and(str::is_empty) || v.is_null());
                if empty {
                    if let Some(v) = config.get("metadata").and_then(|md| md.get(field)) {
                        m.insert(field, v.clone());
                    }
                }
            }
            if let Some(Value::Map(options)) = m.get("options") {
                let mut options = pick(options, crate::generate::args::OPTION_FIELDS);
                stringify_values(&mut options, "labels");
                stringify_values(&mut options, "annotations");
                m.insert("options", Value::Map(options));
            }
            stringify_fields(&mut m, &["name", "namespace", "behavior", "type", "env"]);
            for list in ["literals", "files", "envs"] {
                stringify_items(&mut m, list);
            }
            crate::generate::args::entry(kind, &Value::Map(m), &Default::default())
                .map(Generator::KeyValue)
                .map_err(configure)
        }
        "HelmChartInflationGenerator" => crate::generate::helm::parse_plugin_config(config)
            .map(|c| Generator::HelmChart(Box::new(c)))
            .map_err(configure),
        _ => {
            let m = pick(config, &["cloud", "kubernetesService", "serviceAccount"]);
            let text = |m: &Map, field: &str| k::scalar_string(&stringify(get(m, field)), field);
            let sub = |field: &str, known: &[&'static str]| match get(&m, field) {
                Value::Map(s) => pick(s, known),
                _ => Map::default(),
            };
            let service = sub("kubernetesService", &["name", "namespace"]);
            let account = sub("serviceAccount", &["name", "projectId"]);
            Ok(Generator::IamPolicy {
                cloud: text(&m, "cloud").map_err(configure)?,
                service_name: text(&service, "name").map_err(configure)?,
                service_namespace: text(&service, "namespace").map_err(configure)?,
                account: text(&account, "name").map_err(configure)?,
                project: text(&account, "projectId").map_err(configure)?,
            })
        }
    }
}

fn value_add(config: &Map, dir_name: &str) -> Result<Transformer, DecodeError> {
    let configure = DecodeError::Configure;
    let m = pick(config, &["value", "targets", "targetFilePath"]);
    if !matches!(get(&m, "targetFilePath"), Value::Null | Value::Empty) {
        return Err(configure(
            "ValueAddTransformer: targetFilePath is not supported by rustomize yet".to_owned(),
        ));
    }
    let mut value = k::scalar_string(&stringify(get(&m, "value")), "value")
        .map_err(configure)?
        .trim()
        .to_owned();
    if value.is_empty() {
        value = dir_name.to_owned();
    }
    let items = match get(&m, "targets") {
        Value::Null | Value::Empty => &[][..],
        Value::Seq(items) => items.as_slice(),
        other => {
            return Err(configure(format!(
                "json: cannot unmarshal {} into Go struct field ValueAddTransformerPlugin.targets of type []builtins.Target",
                go_type(other)
            )))
        }
    };
    let mut targets = Vec::new();
    for item in items {
        let t = match item {
            Value::Map(t) => pick(t, &["selector", "fieldPath", "filePathPosition"]),
            _ => Map::default(),
        };
        let selector = match get(&t, "selector") {
            Value::Map(s) => {
                let s = pick(s, crate::selector::SELECTOR_FIELDS);
                k::selector(&Value::Map(s), "selector").map_err(configure)?
            }
            _ => None,
        };
        let position = match get(&t, "filePathPosition") {
            Value::Null | Value::Empty => 0,
            Value::Int(n) => *n,
            other => {
                return Err(configure(format!(
                    "json: cannot unmarshal {} into Go struct field Target.targets.filePathPosition of type int",
                    go_type(other)
                )))
            }
        };
        targets.push(ValueAddTarget {
            selector,
            field_path: k::scalar_string(get(&t, "fieldPath"), "fieldPath").map_err(configure)?,
            file_path_position: position,
        });
    }
    if targets.is_empty() {
        return Err(configure("must specify at least one target".to_owned()));
    }
    for t in &targets {
        if t.field_path.is_empty() {
            return Err(configure("fieldPath cannot be empty".to_owned()));
        }
        if t.file_path_position < 0 {
            return Err(configure(format!(
                "value of FilePathPosition ({}) cannot be negative",
                t.file_path_position
            )));
        }
    }
    Ok(Transformer::ValueAdd { value, targets })
}

/// A scalar as `sigs.k8s.io/yaml` hands it to a string field: numbers and
/// booleans become their text (floats at 32-bit precision, Go's `'g'` form);
/// anything else is left for the field's decoder to accept or refuse.
fn stringify(v: &Value) -> Value {
    match v {
        Value::Int(i) => Value::string(i.to_string()),
        Value::Uint(u) => Value::string(u.to_string()),
        Value::Bool(b) => Value::string(b.to_string()),
        Value::Float(f) => Value::string(go_float32_text(*f)),
        other => other.clone(),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`.
fn go_float32_text(f: f64) -> String {
    // Narrowing to f32 is the point: Go formats these at 32-bit precision.
    #[allow(clippy::cast_possible_truncation)]
    let x = f as f32;
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if x != 0.0 && !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.unsigned_abs());
    }
    format!("{x}")
}

/// `stringify` applied to the scalar fields `fields` of `m`.
fn stringify_fields(m: &mut Map, fields: &[&str]) {
    for field in fields {
        if let Some(v) = m.get_mut(*field) {
            *v = stringify(v);
        }
    }
}

/// `stringify` applied to the items of the list `field` of `m`.
fn stringify_items(m: &mut Map, field: &str) {
    if let Some(Value::Seq(items)) = m.get_mut(field) {
        for v in items.iter_mut() {
            *v = stringify(v);
        }
    }
}

/// `stringify` applied to the values of the string map `field` of `m`.
fn stringify_values(m: &mut Map, field: &str) {
    if let Some(Value::Map(map)) = m.get_mut(field) {
        for v in map.values_mut() {
            *v = stringify(v);
        }
    }
}

/// A config's `fieldSpecs`, decoded as Go's JSON decoder does: names matched
/// case-insensitively, unknown fields ignored, scalars read as text.
fn lenient_specs(value: &Value) -> Result<Vec<crate::fieldspec::FieldSpec>, String> {
    const FIELDS: &[&str] = &["group", "version", "kind", "path", "create"];
    let specs = match value {
        Value::Seq(items) => Value::Seq(
            items
                .iter()
                .map(|item| match item {
                    Value::Map(spec) => {
                        let mut spec = pick(spec, FIELDS);
                        stringify_fields(&mut spec, &["group", "version", "kind", "path"]);
                        Value::Map(spec)
                    }
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    k::field_specs(&specs, "fieldSpecs")
}

/// The value of a field of a picked map (null when absent).
fn get<'m>(m: &'m Map, field: &str) -> &'m Value {
    static NULL: Value = Value::Null;
    m.get(field).unwrap_or(&NULL)
}

/// The known fields of a config mapping, names matched exactly (YAML
/// decoding into a struct), unknown fields dropped.
fn pick_exact(m: &Map, known: &[&'static str]) -> Map {
    m.iter()
        .filter(|(key, _)| known.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// The known fields of a config mapping under their canonical names, as Go's
/// JSON decoder sees them: case-insensitive, the spelling sorting last wins,
/// unknown fields dropped.
fn pick(m: &Map, known: &[&'static str]) -> Map {
    let mut keys: Vec<_> = m.iter().collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Map::default();
    for (key, value) in keys {
        if let Some(field) = canonical(key, known) {
            out.insert(field, value.clone());
        }
    }
    out
}
