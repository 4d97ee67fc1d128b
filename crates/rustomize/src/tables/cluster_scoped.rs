//! Facts about built-in Kubernetes kinds that transformers need: which are
//! cluster-scoped. Data, not code; taken from the Kubernetes API as kustomize's
//! built-in schema describes it (keyed by apiVersion and kind, so an unknown
//! version of a known kind counts as namespaced, as in kustomize).

/// `(apiVersion, kind)` of every cluster-scoped built-in type.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
];

/// Whether the built-in type `group/version` `kind` is cluster-scoped.
pub fn is_cluster_scoped(group: &str, version: &str, kind: &str) -> bool {
    // Asked for every id comparison: nearly all kinds are namespaced, and one
    // match on the kind rules them out without scanning the table.
    is_listed_kind(kind) && in_table(CLUSTER_SCOPED, group, version, kind)
}

/// Whether `kind` is the kind of some row of [`CLUSTER_SCOPED`] (kept in
/// step with the table by a test).
fn is_listed_kind(kind: &str) -> bool {
    matches!(
        kind,
        "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "CustomResourceDefinition"
            | "APIService"
            | "CertificateSigningRequest"
            | "FlowSchema"
            | "PriorityLevelConfiguration"
            | "IngressClass"
            | "PodSecurityPolicy"
            | "RuntimeClass"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "PriorityClass"
            | "CSIDriver"
            | "CSINode"
            | "StorageClass"
            | "VolumeAttachment"
            | "ComponentStatus"
            | "Namespace"
            | "Node"
            | "NodeProxyOptions"
            | "PersistentVolume"
    )
}

fn in_table(table: &[(&str, &str)], group: &str, version: &str, kind: &str) -> bool {
    table.iter().any(|&(api_version, k)| {
        k == kind
            && match api_version.rsplit_once('/') {
                Some((g, v)) => g == group && v == version,
                None => group.is_empty() && api_version == version,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::{is_listed_kind, CLUSTER_SCOPED};

    #[test]
    fn every_table_kind_is_listed() {
        for (_, kind) in CLUSTER_SCOPED {
            assert!(is_listed_kind(kind), "{kind}");
        }
        assert!(!is_listed_kind("Deployment"));
    }
}
