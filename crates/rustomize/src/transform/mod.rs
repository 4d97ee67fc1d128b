//! Transformers: each module is one of kustomize's built-in transformers, a pure
//! function over the resources of one kustomization. Which fields they touch comes
//! from [`crate::tables::field_specs`]; walking those fields is [`crate::fieldspec`]'s job.
//!
//! They run in kustomize's fixed order (see [`run`]).

pub mod annotations;
pub mod images;
pub mod labels;
pub mod name_affix;
pub mod namespace;
pub mod patch;
pub mod patch_json6902;
pub mod replacements;
pub mod replicas;
pub mod strategic_merge;

use rustomize_yaml::Value;

use crate::error::Error;
use crate::fieldspec::{self, FieldSpec, Leaf};
use crate::tables::field_specs::FieldSpecTables;
use crate::load::kustomization::Kustomization;
use crate::load::Loader;
use crate::resmap::ResMap;
use crate::resource::Resource;
use crate::schema::MergeSchema;

/// What the transformers of one kustomization need besides the resources.
pub struct Env<'a> {
    /// The kustomization.
    pub kustomization: &'a Kustomization,
    /// Its loader (patch files).
    pub loader: &'a Loader,
    /// Field-spec tables.
    pub tables: &'a FieldSpecTables,
    /// Merge keys for strategic merge patches.
    pub schema: &'a MergeSchema,
    /// Parser limits.
    pub limits: &'a rustomize_yaml::ParseLimits,
    /// With `buildMetadata` tracking on, the kustomization file as the
    /// transformers' origin names it (see [`crate::buildmeta`]).
    pub configured_in: Option<String>,
}

/// Runs the transformers a kustomization configures, in kustomize's order:
/// patchesStrategicMerge, patches, namespace, namePrefix, nameSuffix,
/// labels/commonLabels, commonAnnotations, patchesJson6902.
pub fn run(env: &Env<'_>, resources: &mut ResMap) -> Result<(), Error> {
    let k = env.kustomization;
    let tables = env.tables;
    let fail = |message: String| Error::Transform {
        path: k.path.clone(),
        message,
    };
    // kustomize records each builtin transformer instance on every resource
    // right after it runs (one instance per patch, image, replica entry...).
    let record = |resources: &mut ResMap, kind: &str, count: usize| match &env.configured_in {
        Some(file) if count > 0 => crate::buildmeta::record_transformer(
            resources.resources_mut(),
            &crate::buildmeta::Origin::builtin(file, kind),
            count,
        )
        .map_err(fail),
        _ => Ok(()),
    };
    let patches = patch::PatchEnv {
        loader: env.loader,
        kustomization: k,
        schema: env.schema,
        limits: env.limits,
    };
    if !k.patches_strategic_merge.is_empty() {
        patch::strategic_merge_field(&patches, resources.resources_mut())?;
        resources.check_unique(&k.path, "patchesStrategicMerge")?;
        record(resources, "PatchStrategicMergeTransformer", 1)?;
    }
    if !k.patches.is_empty() {
        patch::patches_field(&patches, resources.resources_mut())?;
        resources.check_unique(&k.path, "patches")?;
        record(resources, "PatchTransformer", k.patches.len())?;
    }
    if !k.namespace.is_empty() {
        namespace::apply(resources.resources_mut(), &k.namespace, &tables.namespace)
            .map_err(fail)?;
        resources.check_unique(&k.path, "namespace transformation")?;
        record(resources, "NamespaceTransformer", 1)?;
    }
    if !k.name_prefix.is_empty() {
        name_affix::apply(
            resources.resources_mut(),
            &k.name_prefix,
            "",
            &tables.name_prefix,
        )
        .map_err(fail)?;
        record(resources, "PrefixTransformer", 1)?;
    }
    if !k.name_suffix.is_empty() {
        name_affix::apply(
            resources.resources_mut(),
            "",
            &k.name_suffix,
            &tables.name_suffix,
        )
        .map_err(fail)?;
        record(resources, "SuffixTransformer", 1)?;
    }
    labels::apply(resources.resources_mut(), k, tables).map_err(fail)?;
    if !k.labels.is_empty() || !k.common_labels.is_empty() {
        // One instance per `labels` entry, and one for `commonLabels` (even empty).
        record(resources, "LabelTransformer", k.labels.len() + 1)?;
    }
    if !k.common_annotations.is_empty() {
        annotations::apply(
            resources.resources_mut(),
            &k.common_annotations,
            &tables.common_annotations,
        )
        .map_err(fail)?;
        record(resources, "AnnotationsTransformer", 1)?;
    }
    if !k.patches_json6902.is_empty() {
        patch::json6902_field(&patches, resources.resources_mut())?;
        resources.check_unique(&k.path, "patchesJson6902")?;
        record(
            resources,
            "PatchJson6902Transformer",
            k.patches_json6902.len(),
        )?;
    }
    replicas::apply(resources.resources_mut(), &k.replicas, &tables.replicas).map_err(fail)?;
    record(resources, "ReplicaCountTransformer", list_len(&k.replicas))?;
    images::apply(resources.resources_mut(), &k.images, &tables.images).map_err(fail)?;
    record(resources, "ImageTagTransformer", list_len(&k.images))?;
    replacements::apply(
        resources.resources_mut(),
        k,
        env.loader,
        env.limits.max_document_bytes,
    )?;
    record(
        resources,
        "ReplacementTransformer",
        usize::from(list_len(&k.replacements) > 0),
    )?;
    Ok(())
}

/// Entries of a list field kept as written (anything else counts as none).
fn list_len(value: &Value) -> usize {
    match value {
        Value::Seq(items) => items.len(),
        _ => 0,
    }
}

/// Sets `pairs` into every string map that `specs` reach in each resource (the
/// shared mechanism of the label and annotation transformers).
pub(crate) fn set_pairs(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    specs: &[FieldSpec],
) -> Result<(), String> {
    if pairs.is_empty() {
        return Ok(());
    }
    let empty_key = pairs.iter().any(|(k, _)| k.is_empty());
    for resource in resources {
        let gvk = resource.gvk();
        let id = if empty_key {
            resource.id().to_string()
        } else {
            String::new()
        };
        for spec in specs.iter().filter(|s| s.selects(&gvk)) {
            fieldspec::visit(&mut resource.object, spec, Leaf::Map, &mut |node| {
                let Value::Map(map) = node else {
                    return Err(format!(
                        "{}: expected a mapping at '{}', found a {}",
                        resource_label(&gvk.kind),
                        spec.path,
                        node.type_name()
                    ));
                };
                // kustomize's field setter takes an empty key for the map
                // itself and fails on it.
                if empty_key {
                    return Err(format!(
                        "considering field '{}' of object {}: wrong node kind: expected ScalarNode but got MappingNode (an empty key in the labels or annotations to set)",
                        spec.path, id
                    ));
                }
                for (k, v) in pairs {
                    map.insert(k.clone(), Value::String(v.clone()));
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

fn resource_label(kind: &str) -> String {
    format!("kind {kind}")
}
