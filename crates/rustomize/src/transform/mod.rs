//! Transformers: each module is the engine of one of kustomize's builtin
//! transformer plugins, a function over the resources of one kustomization.
//! Which fields they touch comes with their config (see `crate::plugins`),
//! by default from the tables in `crate::tables`; walking those fields is
//! [`crate::fieldspec`]'s job.
//!
//! [`run`] runs a list of configs in order — the kustomization's fields
//! desugared, then its `transformers:` entries — recording each instance on
//! the resources when `buildMetadata` asks for it.

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
pub mod value_add;

use std::path::Path;

use rustomize_yaml::Value;

use crate::error::Error;
use crate::fieldspec::{Compiled, FieldSpec, Leaf, SpecSet};
use crate::load::Loader;
use crate::parallel::Pool;
use crate::plugins::{Configured, Transformer};
use crate::resmap::ResMap;
use crate::resource::Resource;
use crate::schema::MergeSchema;

/// Resources per chunk below which a transformer's loop stays on one thread
/// (handing a chunk to the build's pool costs a few microseconds, waking a
/// sleeping thread more; a resource's visit about one).
pub(crate) const MIN_CHUNK: usize = 32;

/// What the transformers of one kustomization need besides the resources.
pub struct Env<'a> {
    /// The kustomization's loader (patch and replacement files are read
    /// through it, whichever file configured the transformer).
    pub loader: &'a Loader,
    /// Merge keys for strategic merge patches.
    pub schema: &'a MergeSchema,
    /// Parser limits.
    pub limits: &'a rustomize_yaml::ParseLimits,
    /// The build's threads: per-resource loops over many resources run
    /// in chunks on them (see `Pool::for_chunks` in `parallel.rs`).
    pub threads: &'a Pool,
    /// External plugins (exec plugins and KRM functions).
    pub external: &'a dyn External,
}

/// Runs transformers kustomize does not ship (exec plugins, KRM functions).
pub trait External {
    /// Transforms `resources` with the plugin `config` (read from `file`).
    fn transform(
        &self,
        config: &rustomize_yaml::Map,
        file: &Path,
        resources: &mut ResMap,
    ) -> Result<(), Error>;
}

/// Runs `list` over `resources`, in order.
///
/// Errors: the first transformer that fails, as [`Error::Transform`] naming the
/// file that configured it (or the loader's and patches' own errors).
pub fn run(
    env: &Env<'_>,
    list: &[Configured<Transformer>],
    resources: &mut ResMap,
) -> Result<(), Error> {
    for item in list {
        apply(env, item, resources)?;
        // kustomize records each transformer instance on every resource right
        // after it runs.
        if let Some(origin) = &item.origin {
            crate::buildmeta::record_transformer(resources.resources_mut(), origin, 1).map_err(
                |message| Error::Transform {
                    path: item.file.clone(),
                    message,
                },
            )?;
        }
    }
    Ok(())
}

/// Runs one transformer.
pub fn apply(
    env: &Env<'_>,
    item: &Configured<Transformer>,
    resources: &mut ResMap,
) -> Result<(), Error> {
    let file = item.file.as_path();
    let fail = |message: String| Error::Transform {
        path: file.to_path_buf(),
        message,
    };
    let patches = patch::PatchEnv {
        loader: env.loader,
        file,
        schema: env.schema,
        limits: env.limits,
        threads: env.threads,
    };
    match &item.config {
        Transformer::PatchStrategicMerge(sources) => {
            patch::strategic_merge(&patches, sources, resources.resources_mut())?;
            resources.check_unique(file, "patchesStrategicMerge")?;
        }
        Transformer::Patch(entry) => {
            patch::patch(&patches, entry, resources.resources_mut())?;
            resources.check_unique(file, "patches")?;
        }
        Transformer::Namespace {
            namespace,
            field_specs,
            unset_only,
            subjects,
        } => {
            namespace::apply(
                env.threads,
                resources.resources_mut(),
                namespace,
                field_specs,
                *unset_only,
                *subjects,
            )
            .map_err(fail)?;
            resources.check_unique(file, "namespace transformation")?;
        }
        Transformer::PrefixSuffix {
            prefix,
            suffix,
            field_specs,
        } => name_affix::apply(
            resources.resources_mut(),
            prefix,
            suffix,
            field_specs,
            env.threads,
        )
        .map_err(fail)?,
        Transformer::Label { pairs, field_specs } => {
            labels::apply(resources.resources_mut(), pairs, field_specs, env.threads)
                .map_err(fail)?
        }
        Transformer::Annotations { pairs, field_specs } => {
            annotations::apply(resources.resources_mut(), pairs, field_specs, env.threads)
                .map_err(fail)?
        }
        Transformer::PatchJson6902(entry) => {
            patch::json6902(&patches, entry, resources.resources_mut())?;
            resources.check_unique(file, "patchesJson6902")?;
        }
        Transformer::ReplicaCount {
            replica,
            field_specs,
        } => replicas::apply(resources.resources_mut(), replica, field_specs).map_err(fail)?,
        Transformer::ImageTag { image, field_specs } => {
            images::apply(resources.resources_mut(), image, field_specs, env.threads)
                .map_err(fail)?
        }
        Transformer::Replacement {
            replacements,
            strict,
        } => replacements::apply(
            resources.resources_mut(),
            replacements,
            *strict,
            file,
            env.loader,
            env.limits.max_document_bytes,
        )?,
        Transformer::Hash => {
            crate::generate::add_hash_suffixes(resources.resources_mut(), env.threads)?
        }
        Transformer::ValueAdd { value, targets } => {
            value_add::apply(resources.resources_mut(), value, targets).map_err(fail)?
        }
        Transformer::External(config) => env.external.transform(config, file, resources)?,
    }
    Ok(())
}

/// Sets `pairs` into every string map that `specs` reach in each resource (the
/// shared mechanism of the label and annotation transformers).
pub(crate) fn set_pairs(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    specs: &[FieldSpec],
) -> Result<(), String> {
    set_pairs_in(resources, pairs, specs, &Pool::sequential())
}

/// [`set_pairs`] in chunks on the threads `threads` has room for.
pub(crate) fn set_pairs_in(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    specs: &[FieldSpec],
    threads: &Pool,
) -> Result<(), String> {
    if pairs.is_empty() {
        return Ok(());
    }
    let specs = SpecSet::compiled(specs, None);
    threads.for_chunks(resources, MIN_CHUNK, |_, chunk| {
        set_pairs_chunk(chunk, pairs, &specs)
    })
}

/// [`set_pairs`] over one run of resources.
fn set_pairs_chunk(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    specs: &SpecSet<'_>,
) -> Result<(), String> {
    let empty_key = pairs.iter().any(|(k, _)| k.is_empty());
    let mut selected: Vec<&Compiled<'_>> = Vec::new();
    for resource in resources {
        // Specs picked while borrowing the id; the kind is copied only when
        // one applies (for error messages), not the whole group/version/kind.
        let gvk = resource.gvk();
        specs.select_into(gvk, &mut selected);
        if selected.is_empty() {
            continue;
        }
        let kind = if selected.iter().all(|c| !c.touches_id) {
            None
        } else {
            Some(gvk.kind.clone())
        };
        let id = if empty_key {
            resource.id().to_string()
        } else {
            String::new()
        };
        for &compiled in &selected {
            let spec: &FieldSpec = &compiled.spec;
            let mut wrong: Option<&'static str> = None;
            let result = resource.edit_where(compiled.touches_id, |object| compiled.visit(object, Leaf::Map, &mut |node| {
                let Value::Map(map) = node else {
                    wrong = Some(node.type_name());
                    return Err(String::new());
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
                    map.insert(k.as_str(), Value::string(v.as_str()));
                }
                Ok(())
            }));
            if let Err(message) = result {
                let Some(found) = wrong else {
                    return Err(message);
                };
                // The kind before the edit: when the spec cannot touch the
                // id it is still the current one.
                let kind = match &kind {
                    Some(kind) => kind.as_str(),
                    None => resource.kind(),
                };
                return Err(format!(
                    "{}: expected a mapping at '{}', found a {}",
                    resource_label(kind),
                    spec.path,
                    found
                ));
            }
        }
    }
    Ok(())
}

fn resource_label(kind: &str) -> String {
    format!("kind {kind}")
}

/// Runs one validator: a transformer that may not change the resources
/// (kustomize ignores only a `validated-by` label it adds). Its changes stay,
/// as in kustomize, which validates in place.
///
/// Errors: the validator's own, or `validator shouldn't modify the resource
/// map` naming the first resource that differs.
pub fn validate(
    env: &Env<'_>,
    validator: &Configured<Transformer>,
    resources: &mut ResMap,
) -> Result<(), Error> {
    let before: Vec<Value> = resources
        .resources()
        .iter()
        .map(|r| Value::Map(r.object().clone()))
        .collect();
    apply(env, validator, resources)?;
    let after: Vec<Value> = resources
        .resources()
        .iter()
        .map(|r| {
            let mut object = r.object().clone();
            if let Some(Value::Map(labels)) =
                object.get_mut("metadata").and_then(|m| m.get_mut("labels"))
            {
                labels.shift_remove("validated-by");
            }
            Value::Map(object)
        })
        .collect();
    let changed =
        before.len() != after.len() || before.iter().zip(&after).any(|(a, b)| !a.identical(b));
    if changed {
        return Err(Error::Transform {
            path: validator.file.clone(),
            message: "validator shouldn't modify the resource map".to_owned(),
        });
    }
    Ok(())
}

/// The kind of YAML node (go-yaml's names, as kustomize's "wrong node kind"
/// messages print them) a value is.
pub(crate) fn yaml_node_kind(value: &Value) -> &'static str {
    match value {
        Value::Map(_) => "MappingNode",
        Value::Seq(_) => "SequenceNode",
        _ => "ScalarNode",
    }
}
