//! `configurations:`: transformer configuration files that extend the field-spec
//! tables (e.g. teach `commonLabels` or `images` about a custom kind's fields, or
//! name references into a CRD).
//!
//! A file holds any of `namePrefix`, `nameSuffix`, `namespace`, `commonLabels`,
//! `templateLabels`, `labels`, `commonAnnotations`, `images`, `replicas`,
//! `varReference` (lists of field specs) and `nameReference` (target kinds, each
//! with `fieldSpecs`).

use std::path::Path;

use rustomize_yaml::{ParseLimits, Value};

use crate::error::Error;
use crate::load::kustomization::field_specs;
use crate::tables::field_specs::{FieldSpecTables, NameReference};

/// Parses one configuration file into the specs it adds.
pub fn parse(path: &Path, text: &str, limits: &ParseLimits) -> Result<FieldSpecTables, Error> {
    let fail = |message: String| Error::Kustomization {
        path: path.to_path_buf(),
        message,
    };
    // Read like a kustomization file: YAML 1.1 typing (`create: yes`).
    let limits = ParseLimits {
        yaml11: true,
        ..limits.clone()
    };
    let docs = rustomize_yaml::parse_documents(text, &limits).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        message: e.message,
    })?;
    let mut out = FieldSpecTables::empty();
    let Some(doc) = docs.into_iter().find(|d| !d.is_null()) else {
        return Ok(out);
    };
    let Value::Map(root) = doc else {
        return Err(fail(
            "transformer configuration must be a mapping".to_owned(),
        ));
    };
    for (key, value) in &root {
        let specs = |field: &str| field_specs(value, field).map_err(fail);
        match key.as_str() {
            "namePrefix" => out.name_prefix = specs(key)?,
            "nameSuffix" => out.name_suffix = specs(key)?,
            "namespace" => out.namespace = specs(key)?,
            "commonLabels" => out.common_labels = specs(key)?,
            "templateLabels" => out.template_labels = specs(key)?,
            "labels" => out.labels = specs(key)?,
            "commonAnnotations" => out.common_annotations = specs(key)?,
            "images" => out.images = specs(key)?,
            "replicas" => out.replicas = specs(key)?,
            "varReference" => out.var_reference = specs(key)?,
            "nameReference" => {
                let Value::Seq(items) = value else {
                    if value.is_null() {
                        continue;
                    }
                    return Err(fail("nameReference must be a list".to_owned()));
                };
                for item in items {
                    let get =
                        |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    let referrers = match item.get("fieldSpecs") {
                        Some(v) => field_specs(v, "nameReference.fieldSpecs").map_err(fail)?,
                        None => Vec::new(),
                    };
                    out.add_name_reference(NameReference {
                        group: get("group"),
                        version: get("version"),
                        kind: get("kind"),
                        referrers,
                    });
                }
            }
            other => {
                return Err(fail(format!(
                    "json: unknown field \"{other}\" in transformer configuration"
                )))
            }
        }
    }
    Ok(out)
}
