//! `IAMPolicyGenerator`: a ServiceAccount bound to a cloud identity (GKE
//! Workload Identity only, as in kustomize), reachable through a plugin config
//! in `generators:`.
//!
//! kustomize builds the object as YAML text from the config's values and reads
//! it back, so the values are typed as plain YAML scalars would be; the same is
//! done here.

use std::path::Path;
use std::sync::Arc;

use rustomize_yaml::Value;

use crate::resource::Resource;

/// The ServiceAccount for a `gke` config.
///
/// Errors: a cloud other than `gke` (kustomize's message), or values that do
/// not read back as a ServiceAccount.
pub fn generate(
    cloud: &str,
    service_name: &str,
    service_namespace: &str,
    account: &str,
    project: &str,
    origin: &Arc<Path>,
) -> Result<Resource, String> {
    if cloud != "gke" {
        return Err(format!("cloud provider {cloud} not supported yet"));
    }
    let mut text = format!(
        "\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  annotations:\n    iam.gke.io/gcp-service-account: {account}@{project}.iam.gserviceaccount.com\n  name: {service_name}\n"
    );
    if !service_namespace.is_empty() {
        text.push_str(&format!("\n  namespace: {service_namespace}"));
    }
    let docs = rustomize_yaml::parse_documents(&text, &Default::default())
        .map_err(|e| format!("IAMPolicyGenerator: {}", e.message))?;
    match docs.into_iter().find(|d| !d.is_null()) {
        Some(Value::Map(object)) => Ok(Resource::new(object, origin.clone())),
        _ => Err("IAMPolicyGenerator: the generated ServiceAccount is not a mapping".to_owned()),
    }
}
