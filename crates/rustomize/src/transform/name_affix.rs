//! `namePrefix` and `nameSuffix`: rename resources.
//!
//! CustomResourceDefinitions, APIServices and Namespaces keep their names (their
//! names are meaningful to the API server). Selection uses the resource's original
//! id, and each renamed resource records its previous id so that references to it
//! can be fixed after the build.

use rustomize_yaml::Value;

use crate::fieldspec::{Compiled, FieldSpec, Leaf, SpecSet};
use crate::resource::Resource;

fn keeps_its_name(group: &str, kind: &str) -> bool {
    kind == "CustomResourceDefinition"
        || kind == "Namespace"
        || (kind == "APIService" && group == "apiregistration.k8s.io")
}

/// Adds `prefix` and `suffix` to the fields `specs` reach.
pub fn apply(
    resources: &mut [Resource],
    prefix: &str,
    suffix: &str,
    specs: &[FieldSpec],
    threads: &crate::parallel::Pool,
) -> Result<(), String> {
    let specs = SpecSet::compiled(specs, None);
    threads.for_chunks(resources, super::MIN_CHUNK, |_, chunk| {
        apply_chunk(chunk, prefix, suffix, &specs)
    })
}

/// [`apply`] over one run of resources.
fn apply_chunk(
    resources: &mut [Resource],
    prefix: &str,
    suffix: &str,
    specs: &SpecSet<'_>,
) -> Result<(), String> {
    let mut selected: Vec<&Compiled<'_>> = Vec::new();
    for resource in resources.iter_mut() {
        // Selection is by the original id: the current group and version
        // with the original kind (borrowed, not copied).
        {
            let gvk = resource.gvk();
            let kind = resource.original_kind();
            if keeps_its_name(&gvk.group, kind) {
                continue;
            }
            specs.select_parts_into(&gvk.group, &gvk.version, kind, &mut selected);
        }
        for &compiled in &selected {
            let spec: &FieldSpec = &compiled.spec;
            if spec.path == "metadata/name" {
                if !prefix.is_empty() {
                    resource.prefixes.push(prefix.to_owned());
                }
                if !suffix.is_empty() {
                    resource.suffixes.push(suffix.to_owned());
                }
                resource.store_previous_id();
            }
            // The node kind of a non-scalar field, named in the error with
            // the object's id before this visit (formatted only then).
            let mut wrong: Option<&'static str> = None;
            let mut rename = |node: &mut Value| {
                if let Some(kind) = node_kind(node) {
                    wrong = Some(kind);
                    return Err(String::new());
                }
                if let Value::String(s) = node {
                    let mut renamed =
                        rustomize_yaml::Str::with_capacity(prefix.len() + s.len() + suffix.len());
                    renamed.push_str(prefix);
                    renamed.push_str(s);
                    renamed.push_str(suffix);
                    *s = renamed;
                }
                Ok(())
            };
            let (result, id) = if compiled.touches_id {
                let (id, object) = resource.object_mut_with_id();
                (compiled.visit(object, Leaf::Scalar, &mut rename), Some(id))
            } else {
                let result = resource.edit_where(false, |object| {
                    compiled.visit(object, Leaf::Scalar, &mut rename)
                });
                (result, None)
            };
            if let Err(message) = result {
                let Some(kind) = wrong else {
                    return Err(message);
                };
                let id = match id {
                    Some(id) => id.to_string(),
                    None => resource.id().to_string(),
                };
                return Err(format!(
                    "considering field '{}' of object {id}: wrong node kind: expected ScalarNode but got {kind}",
                    spec.path
                ));
            }
            if let Some(id) = id {
                resource.recache_id(id);
            }
        }
    }
    Ok(())
}

/// The YAML node kind of a value that is not a scalar.
pub(crate) fn node_kind(node: &Value) -> Option<&'static str> {
    match node {
        Value::Map(_) => Some("MappingNode"),
        Value::Seq(_) => Some("SequenceNode"),
        _ => None,
    }
}
