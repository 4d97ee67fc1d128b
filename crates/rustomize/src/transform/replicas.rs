//! `replicas`: set replica counts.
//!
//! (Being written.)

use rustomize_yaml::Value;

use crate::fieldspec::FieldSpec;
use crate::resource::Resource;

/// Applies the kustomization's `replicas` entries.
pub fn apply(
    resources: &mut [Resource],
    replicas: &Value,
    specs: &[FieldSpec],
) -> Result<(), String> {
    let _ = (resources, specs);
    if replicas.is_null() {
        return Ok(());
    }
    Err("field 'replicas' is not supported by rustomize yet".to_owned())
}
