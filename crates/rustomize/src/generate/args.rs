//! Generator arguments: `configMapGenerator` / `secretGenerator` entries and
//! `generatorOptions`, decoded from the kustomization's raw values with Go's JSON
//! rules (field names match case-insensitively, the last spelling in sorted
//! order winning; unknown fields and wrong types are errors; `null` is the zero
//! value), and the global options merged into each entry's as kustomize does.
//!
//! kustomize then hands each entry to its plugin through JSON re-read as YAML
//! ([`yaml_round_trip`]), which rejects some characters and folds others; the
//! arguments here are the ones the plugin sees.

use rustomize_yaml::{Map, Value};

use super::kv::Sources;
use crate::load::gojson::field as canonical_field;
use crate::load::gojson::type_name as go_type;

/// Which generator an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `configMapGenerator`.
    ConfigMap,
    /// `secretGenerator`.
    Secret,
}

impl Kind {
    /// The kustomization field.
    pub fn field(self) -> &'static str {
        match self {
            Kind::ConfigMap => "configMapGenerator",
            Kind::Secret => "secretGenerator",
        }
    }

    /// The kind of the generated object.
    pub fn object_kind(self) -> &'static str {
        match self {
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
        }
    }

    /// The fields an entry may have.
    pub(crate) fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::ConfigMap => CONFIG_MAP_FIELDS,
            Kind::Secret => SECRET_FIELDS,
        }
    }
}

/// Fields of a `configMapGenerator` entry (Go's `ConfigMapArgs`).
const CONFIG_MAP_FIELDS: &[&str] = &[
    "namespace",
    "name",
    "behavior",
    "literals",
    "files",
    "envs",
    "env",
    "options",
];

/// Fields of a `secretGenerator` entry (`SecretArgs`: the above plus `type`).
const SECRET_FIELDS: &[&str] = &[
    "namespace",
    "name",
    "behavior",
    "literals",
    "files",
    "envs",
    "env",
    "options",
    "type",
];

/// Fields of `generatorOptions` (and of an entry's `options`).
pub(crate) const OPTION_FIELDS: &[&str] = &[
    "labels",
    "annotations",
    "disableNameSuffixHash",
    "immutable",
];

/// `GeneratorOptions`.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Labels for the generated object.
    pub labels: Vec<(String, String)>,
    /// Annotations for the generated object.
    pub annotations: Vec<(String, String)>,
    /// No content-hash name suffix.
    pub disable_name_suffix_hash: bool,
    /// `immutable: true` on the generated object.
    pub immutable: bool,
}

impl Options {
    /// kustomize's `MergeGlobalOptionsIntoLocal`: the entry's labels and
    /// annotations win over the global ones; either flag set anywhere is set.
    pub fn merged_with(mut self, global: &Options) -> Options {
        merge_pairs(&mut self.labels, &global.labels);
        merge_pairs(&mut self.annotations, &global.annotations);
        self.disable_name_suffix_hash |= global.disable_name_suffix_hash;
        self.immutable |= global.immutable;
        self
    }
}

fn merge_pairs(local: &mut Vec<(String, String)>, global: &[(String, String)]) {
    let present: std::collections::HashSet<String> = local.iter().map(|(k, _)| k.clone()).collect();
    for (k, v) in global {
        if !present.contains(k) {
            local.push((k.clone(), v.clone()));
        }
    }
}

/// One generator entry.
#[derive(Clone, Debug)]
pub struct Args {
    /// ConfigMap or Secret.
    pub kind: Kind,
    /// `name`.
    pub name: String,
    /// `namespace`.
    pub namespace: String,
    /// `behavior`, as written.
    pub behavior: String,
    /// Key/value sources.
    pub sources: Sources,
    /// Options, merged with `generatorOptions`.
    pub options: Options,
    /// Secret `type` (empty: `Opaque`).
    pub secret_type: String,
}

/// Decodes `configMapGenerator`, then `secretGenerator` (kustomize's order),
/// each entry with `generatorOptions` merged in.
pub fn parse(config_maps: &Value, secrets: &Value, global: &Value) -> Result<Vec<Args>, String> {
    let global = options(global, "generatorOptions")?;
    let mut out = Vec::new();
    for (kind, value) in [(Kind::ConfigMap, config_maps), (Kind::Secret, secrets)] {
        let items = match value {
            Value::Null | Value::Empty => continue,
            Value::Seq(items) => items,
            other => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go struct field Kustomization.{} of type []types.{}Args",
                    go_type(other),
                    kind.field(),
                    kind.object_kind()
                ))
            }
        };
        for item in items {
            out.push(entry(kind, item, &global)?);
        }
    }
    Ok(out)
}

pub(crate) fn entry(kind: Kind, value: &Value, global: &Options) -> Result<Args, String> {
    let mut args = Args {
        kind,
        name: String::new(),
        namespace: String::new(),
        behavior: String::new(),
        sources: Sources::default(),
        options: Options::default(),
        secret_type: String::new(),
    };
    let field_of = |f: &str| format!("{}.{f}", kind.field());
    let mut env = String::new();
    let mut envs = Vec::new();
    for (key, v) in sorted_fields(value, kind.field())? {
        let Some(field) = canonical_field(key, kind.fields()) else {
            return Err(format!("json: unknown field \"{key}\""));
        };
        let path = field_of(field);
        match field {
            "name" => args.name = string(v, &path)?,
            "namespace" => args.namespace = string(v, &path)?,
            "behavior" => args.behavior = string(v, &path)?,
            "type" => args.secret_type = string(v, &path)?,
            "literals" => args.sources.literals = strings(v, &path)?,
            "files" => args.sources.files = strings(v, &path)?,
            "envs" => envs = strings(v, &path)?,
            "env" => env = string(v, &path)?,
            "options" => args.options = options(v, &path)?,
            _ => {}
        }
    }
    if !env.is_empty() {
        envs.push(env);
    }
    args.sources.envs = envs;
    args.options = std::mem::take(&mut args.options).merged_with(global);
    round_trip_all(&mut args)
        .map_err(|m| format!("builtin {}Generator marshal: {m}", kind.object_kind()))?;
    Ok(args)
}

/// Applies [`yaml_round_trip`] to every string of an entry.
fn round_trip_all(args: &mut Args) -> Result<(), String> {
    let Args {
        name,
        namespace,
        behavior,
        sources,
        options,
        secret_type,
        ..
    } = args;
    let singles = [name, namespace, behavior, secret_type];
    for s in singles {
        *s = yaml_round_trip(s)?;
    }
    for list in [&mut sources.literals, &mut sources.files, &mut sources.envs] {
        for s in list.iter_mut() {
            *s = yaml_round_trip(s)?;
        }
    }
    for pairs in [&mut options.labels, &mut options.annotations] {
        for (k, v) in pairs.iter_mut() {
            *k = yaml_round_trip(k)?;
            *v = yaml_round_trip(v)?;
        }
    }
    Ok(())
}

/// NEXT LINE (U+0085), a line break to YAML 1.1.
const NEL: char = '\u{85}';

/// What a string becomes when kustomize marshals generator arguments to JSON
/// and parses that JSON as YAML (`sigs.k8s.io/yaml`). JSON escapes C0 controls,
/// U+2028/9 and quotes, but leaves DEL, C1 controls and U+FFFE/F raw, which the
/// YAML reader rejects; and a raw NEL is a line break inside the double-quoted
/// scalar, folded like one: blanks around it dropped, a single break becomes a
/// space, n breaks become n-1 newlines; `---`/`...` right after a break is a
/// document marker, an error.
fn yaml_round_trip(s: &str) -> Result<String, String> {
    if !s.contains(|c| matches!(c, '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')) {
        return Ok(s.to_owned());
    }
    if s.contains(
        |c| matches!(c, '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}'),
    ) {
        return Err("yaml: control characters are not allowed".to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut at_line_start = false;
    loop {
        if at_line_start && (rest.starts_with("---") || rest.starts_with("...")) {
            let after = rest.get(3..).and_then(|t| t.chars().next());
            if matches!(after, Some(' ' | NEL)) {
                return Err(
                    "yaml: while scanning a quoted scalar: found unexpected document indicator"
                        .to_owned(),
                );
            }
        }
        let content_end = rest.find([' ', NEL]).unwrap_or(rest.len());
        let (content, tail) = rest.split_at(content_end);
        out.push_str(content);
        rest = tail;
        if rest.is_empty() {
            return Ok(out);
        }
        let mut spaces = 0usize;
        let mut breaks = 0usize;
        at_line_start = false;
        while let Some(c) = rest.chars().next().filter(|c| *c == ' ' || *c == NEL) {
            if c == ' ' {
                if breaks == 0 {
                    spaces += 1;
                }
                at_line_start = false;
            } else {
                breaks += 1;
                at_line_start = true;
            }
            rest = rest.get(c.len_utf8()..).unwrap_or_default();
        }
        match breaks {
            0 => out.extend(std::iter::repeat_n(' ', spaces)),
            1 => out.push(' '),
            n => out.extend(std::iter::repeat_n('\n', n - 1)),
        }
    }
}

fn options(value: &Value, field: &str) -> Result<Options, String> {
    let mut out = Options::default();
    for (key, v) in sorted_fields(value, field)? {
        let Some(name) = canonical_field(key, OPTION_FIELDS) else {
            return Err(format!("json: unknown field \"{key}\""));
        };
        let path = format!("{field}.{name}");
        match name {
            "labels" => out.labels = string_map(v, &path)?,
            "annotations" => out.annotations = string_map(v, &path)?,
            "disableNameSuffixHash" => out.disable_name_suffix_hash = boolean(v, &path)?,
            "immutable" => out.immutable = boolean(v, &path)?,
            _ => {}
        }
    }
    Ok(out)
}

/// An object's fields sorted by key (the order Go's JSON decoder sees them in
/// after kustomize's YAML-to-JSON conversion); `null` is an empty object.
fn sorted_fields<'v>(value: &'v Value, field: &str) -> Result<Vec<(&'v str, &'v Value)>, String> {
    let map: &Map = match value {
        Value::Null | Value::Empty => return Ok(Vec::new()),
        Value::Map(m) => m,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go struct field {field} of type object",
                go_type(other)
            ))
        }
    };
    let mut fields: Vec<_> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    fields.sort_by(|a, b| a.0.cmp(b.0));
    Ok(fields)
}

fn mismatch(value: &Value, field: &str, want: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field {field} of type {want}",
        go_type(value)
    )
}

fn string(value: &Value, field: &str) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.to_string()),
        Value::Null | Value::Empty => Ok(String::new()),
        other => Err(mismatch(other, field, "string")),
    }
}

fn strings(value: &Value, field: &str) -> Result<Vec<String>, String> {
    match value {
        Value::Null | Value::Empty => Ok(Vec::new()),
        Value::Seq(items) => items.iter().map(|v| string(v, field)).collect(),
        other => Err(mismatch(other, field, "[]string")),
    }
}

fn string_map(value: &Value, field: &str) -> Result<Vec<(String, String)>, String> {
    match value {
        Value::Null | Value::Empty => Ok(Vec::new()),
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| Ok((k.to_string(), string(v, field)?)))
            .collect(),
        other => Err(mismatch(other, field, "map[string]string")),
    }
}

fn boolean(value: &Value, field: &str) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Null | Value::Empty => Ok(false),
        other => Err(mismatch(other, field, "bool")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_round_trip_folds_and_rejects() {
        assert_eq!(yaml_round_trip("a=x\u{85}y").as_deref(), Ok("a=x y"));
        assert_eq!(yaml_round_trip("c=  \u{85}  ").as_deref(), Ok("c= "));
        assert_eq!(
            yaml_round_trip("x \u{85} \u{85}\u{85}y").as_deref(),
            Ok("x\n\ny")
        );
        assert_eq!(
            yaml_round_trip("tab\there\u{2028}").as_deref(),
            Ok("tab\there\u{2028}")
        );
        assert!(yaml_round_trip("x\u{7f}").is_err());
        assert!(yaml_round_trip("x\u{fffe}").is_err());
        assert!(yaml_round_trip("x\u{85}--- y").is_err());
        assert!(yaml_round_trip("x\u{85}---").is_ok());
    }
}
