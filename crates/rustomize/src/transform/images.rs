//! `images`: change image names, tags and digests.
//!
//! (Being written.)

use rustomize_yaml::Value;

use crate::fieldspec::FieldSpec;
use crate::resource::Resource;

/// Applies the kustomization's `images` entries.
pub fn apply(
    resources: &mut [Resource],
    images: &Value,
    specs: &[FieldSpec],
) -> Result<(), String> {
    let _ = (resources, specs);
    if images.is_null() {
        return Ok(());
    }
    Err("field 'images' is not supported by rustomize yet".to_owned())
}
