//! `namePrefix` and `nameSuffix`: rename resources.
//!
//! CustomResourceDefinitions, APIServices and Namespaces keep their names (their
//! names are meaningful to the API server). Selection uses the resource's original
//! id, and each renamed resource records its previous id so that references to it
//! can be fixed after the build.

use rustomize_yaml::Value;

use crate::fieldspec::{self, FieldSpec, Leaf};
use crate::resource::{Gvk, Resource};

fn keeps_its_name(gvk: &Gvk) -> bool {
    gvk.kind == "CustomResourceDefinition"
        || gvk.kind == "Namespace"
        || (gvk.kind == "APIService" && gvk.group == "apiregistration.k8s.io")
}

/// Adds `prefix` and `suffix` to the fields `specs` reach.
pub fn apply(
    resources: &mut [Resource],
    prefix: &str,
    suffix: &str,
    specs: &[FieldSpec],
) -> Result<(), String> {
    for resource in resources.iter_mut() {
        let original = resource.original_id().gvk;
        if keeps_its_name(&original) {
            continue;
        }
        for spec in specs.iter().filter(|s| s.selects(&original)) {
            if spec.path == "metadata/name" {
                if !prefix.is_empty() {
                    resource.prefixes.push(prefix.to_owned());
                }
                if !suffix.is_empty() {
                    resource.suffixes.push(suffix.to_owned());
                }
                resource.store_previous_id();
            }
            let id = resource.id().to_string();
            fieldspec::visit(resource.object_mut(), spec, Leaf::Scalar, &mut |node| {
                if let Some(kind) = node_kind(node) {
                    return Err(format!(
                        "considering field '{}' of object {id}: wrong node kind: expected ScalarNode but got {kind}",
                        spec.path
                    ));
                }
                if let Value::String(s) = node {
                    let mut renamed = String::with_capacity(prefix.len() + s.len() + suffix.len());
                    renamed.push_str(prefix);
                    renamed.push_str(s);
                    renamed.push_str(suffix);
                    *s = renamed;
                }
                Ok(())
            })?;
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
