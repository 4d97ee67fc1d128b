//! `crds:`: OpenAPI definitions of custom types whose `x-kubernetes-*` extensions
//! tell transformers about their fields — annotation maps, label selectors, name
//! fields that take prefixes, and references to other objects by name.
//!
//! The file maps type names (`example.com/pkg/apis/v1beta1.Bee`; the kind is the
//! part after the last `.`) to `{Schema: {properties: ...}}`. Only types that have
//! `apiVersion`, `kind` and `metadata` properties are read; `$ref`s are followed
//! by type name.

use rustomize_yaml::{Map, Value};

use crate::fieldspec::FieldSpec;
use crate::tables::field_specs::{FieldSpecTables, NameReference};

/// The field specs the definitions in `file` add.
pub fn config_from_definitions(file: &Value) -> Result<FieldSpecTables, String> {
    let Some(types) = file.as_map() else {
        return Err("expected a mapping of type names to OpenAPI definitions".to_owned());
    };
    let mut out = FieldSpecTables::empty();
    for (name, def) in types {
        let Some(props) = properties(def) else {
            continue;
        };
        if !(props.contains_key("kind")
            && props.contains_key("apiVersion")
            && props.contains_key("metadata"))
        {
            continue;
        }
        let kind = name.rsplit('.').next().unwrap_or(name);
        let mut path = Vec::new();
        let mut visiting = Vec::new();
        walk(&mut out, kind, types, name, &mut path, &mut visiting);
    }
    Ok(out)
}

/// The `properties` of a definition (`Schema` matched case-insensitively, as Go's
/// JSON decoding does).
fn properties(def: &Value) -> Option<&Map> {
    let m = def.as_map()?;
    let schema = m
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schema"))
        .map(|(_, v)| v)?;
    schema.get("properties")?.as_map()
}

fn walk<'t>(
    out: &mut FieldSpecTables,
    kind: &str,
    types: &'t Map,
    type_name: &'t str,
    path: &mut Vec<String>,
    visiting: &mut Vec<&'t str>,
) {
    if visiting.contains(&type_name) {
        return;
    }
    let Some(props) = types.get(type_name).and_then(properties) else {
        return;
    };
    visiting.push(type_name);
    for (prop, schema) in props {
        path.push(prop.to_string());
        let spec = |p: &[String]| FieldSpec::new("", "", kind, &p.join("/"), false);
        let has = |ext: &str| schema.get(ext).is_some();
        let text = |ext: &str| schema.get(ext).and_then(Value::as_str);
        if has("x-kubernetes-annotation") {
            out.common_annotations.push(spec(path));
        }
        if has("x-kubernetes-label-selector") {
            out.common_labels.push(spec(path));
        }
        if has("x-kubernetes-identity") {
            out.name_prefix.push(spec(path));
        }
        if let (Some(version), Some(target)) = (
            text("x-kubernetes-object-ref-api-version"),
            text("x-kubernetes-object-ref-kind"),
        ) {
            let key = text("x-kubernetes-object-ref-name-key").unwrap_or("name");
            let mut referrer = path.clone();
            referrer.push(key.to_owned());
            out.add_name_reference(NameReference {
                group: String::new(),
                version: version.to_owned(),
                kind: target.to_owned(),
                referrers: vec![spec(&referrer)],
            });
        }
        if let Some(reference) = text("$ref") {
            if let Some((name, _)) = types.get_key_value(reference) {
                walk(out, kind, types, name, path, visiting);
            }
        }
        path.pop();
    }
    visiting.pop();
}
