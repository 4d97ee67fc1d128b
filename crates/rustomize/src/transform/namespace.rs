//! `NamespaceTransformer` (`namespace`): move every namespaced resource into one
//! namespace.
//!
//! Cluster-scoped kinds keep no namespace. Besides `metadata.namespace` (always
//! set, whatever the field specs say), the specs' extra fields are set (a
//! `Namespace` object is renamed to the namespace, `v1` only; APIService and CRD
//! webhook service namespaces). In RoleBindings and ClusterRoleBindings the
//! subjects follow `setRoleBindingSubjects`: those named `default` (the
//! default), every `ServiceAccount` subject, or none; specs for their
//! `subjects/namespace` are then skipped. With `unsetOnly`, only empty fields
//! are set. Every resource records its id beforehand so references can be
//! fixed later.

use rustomize_yaml::Value;

use crate::fieldspec::{self, FieldSpec, Leaf};
use crate::plugins::SubjectMode;
use crate::resource::Resource;

/// Sets `namespace` on every resource (kustomize's `NamespaceTransformer`:
/// each resource records its id first, so references follow the move).
pub fn apply(
    resources: &mut [Resource],
    namespace: &str,
    specs: &[FieldSpec],
    unset_only: bool,
    subjects: SubjectMode,
) -> Result<(), String> {
    for resource in resources.iter_mut() {
        if resource.object().is_empty() {
            continue;
        }
        resource.store_previous_id();
        filter(resource, namespace, specs, unset_only, subjects)?;
    }
    Ok(())
}

/// kustomize's namespace filter on one resource, without recording its id
/// (a `ValueAddTransformer` on `metadata/namespace` uses it so).
pub fn filter(
    resource: &mut Resource,
    namespace: &str,
    specs: &[FieldSpec],
    unset_only: bool,
    subjects: SubjectMode,
) -> Result<(), String> {
    // kustomize's setter does nothing with an empty value (a config without
    // `metadata.namespace`): no field is created, none is cleared.
    if namespace.is_empty() {
        return Ok(());
    }
    let id = resource.id().to_string();
    let mut set = |node: &mut Value| {
        if let Some(kind) = super::name_affix::node_kind(node) {
            return Err(format!(
                "namespace field specs must target scalar nodes: object {id}: wrong node kind: expected ScalarNode but got {kind}"
            ));
        }
        if !unset_only || is_unset(node) {
            *node = Value::String(namespace.to_owned());
        }
        Ok(())
    };
    let gvk = resource.gvk().clone();
    let api_version = gvk.api_version();
    if !gvk.is_cluster_scoped() {
        let meta = FieldSpec::new("", "", "", "metadata/namespace", true);
        fieldspec::visit(resource.object_mut(), &meta, Leaf::Scalar, &mut set)?;
    }
    let binding = is_binding(&gvk.kind);
    if binding {
        set_subjects(resource, subjects, &mut set)?;
    }
    for spec in specs.iter().filter(|s| s.selects(&gvk)) {
        if spec.path == "metadata/namespace" {
            continue;
        }
        if spec.path == "metadata/name" && api_version != "v1" {
            continue;
        }
        if binding && is_binding(&spec.kind) && spec.path == "subjects/namespace" {
            continue;
        }
        fieldspec::visit(resource.object_mut(), spec, Leaf::Scalar, &mut set)?;
    }
    Ok(())
}

fn is_binding(kind: &str) -> bool {
    kind == "RoleBinding" || kind == "ClusterRoleBinding"
}

/// What kustomize's `SetEntryIfEmpty` counts as empty.
fn is_unset(node: &Value) -> bool {
    match node {
        Value::Null | Value::Empty => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn set_subjects(
    resource: &mut Resource,
    mode: SubjectMode,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some(Value::Seq(subjects)) = resource.object_mut().get_mut("subjects") else {
        return Ok(());
    };
    for subject in subjects {
        let Value::Map(subject) = subject else {
            continue;
        };
        let chosen = match mode {
            SubjectMode::None => false,
            SubjectMode::DefaultOnly => {
                subject.get("name").and_then(Value::as_str) == Some("default")
            }
            SubjectMode::AllServiceAccounts => {
                subject.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
            }
        };
        if chosen {
            let slot = subject.entry("namespace".to_owned()).or_insert(Value::Null);
            set(slot)?;
        }
    }
    Ok(())
}
