//! `namespace`: move every namespaced resource into one namespace.
//!
//! Cluster-scoped kinds keep no namespace. Besides `metadata.namespace`, the
//! table's extra fields are set (a `Namespace` object is renamed to the namespace,
//! `v1` only; APIService and CRD webhook service namespaces), and in RoleBindings
//! and ClusterRoleBindings every subject named `default` gets the namespace
//! (kustomize's `defaultOnly` subject mode). Every resource records its id
//! beforehand so references can be fixed later.

use rustomize_yaml::Value;

use crate::fieldspec::{self, FieldSpec, Leaf};
use crate::resource::Resource;

/// Sets `namespace` on every resource.
pub fn apply(
    resources: &mut [Resource],
    namespace: &str,
    specs: &[FieldSpec],
) -> Result<(), String> {
    let mut set = |node: &mut Value| {
        *node = Value::String(namespace.to_owned());
        Ok(())
    };
    for resource in resources.iter_mut() {
        if resource.object.is_empty() {
            continue;
        }
        resource.store_previous_id();
        let gvk = resource.gvk();
        let api_version = gvk.api_version();
        if !gvk.is_cluster_scoped() {
            let meta = FieldSpec::new("", "", "", "metadata/namespace", true);
            fieldspec::visit(&mut resource.object, &meta, Leaf::Scalar, &mut set)?;
        }
        if gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding" {
            set_default_subjects(resource, namespace);
        }
        for spec in specs.iter().filter(|s| s.selects(&gvk)) {
            if spec.path == "metadata/namespace" {
                continue;
            }
            if spec.path == "metadata/name" && api_version != "v1" {
                continue;
            }
            if (gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding")
                && spec.path == "subjects/namespace"
            {
                continue;
            }
            fieldspec::visit(&mut resource.object, spec, Leaf::Scalar, &mut set)?;
        }
    }
    Ok(())
}

fn set_default_subjects(resource: &mut Resource, namespace: &str) {
    let Some(Value::Seq(subjects)) = resource.object.get_mut("subjects") else {
        return;
    };
    for subject in subjects {
        let Value::Map(subject) = subject else {
            continue;
        };
        if subject.get("name").and_then(Value::as_str) == Some("default") {
            subject.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
        }
    }
}
