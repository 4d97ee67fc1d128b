//! `replacements`: copy values from one field of one resource into fields of others.
//!
//! (Being written.)

use crate::error::Error;
use crate::load::kustomization::Kustomization;
use crate::load::Loader;
use crate::resource::Resource;

/// Applies the kustomization's `replacements`.
pub fn apply(
    resources: &mut Vec<Resource>,
    k: &Kustomization,
    loader: &Loader,
) -> Result<(), Error> {
    let _ = (resources, loader);
    if k.replacements.is_null() {
        return Ok(());
    }
    Err(Error::Kustomization {
        path: k.path.clone(),
        message: "field 'replacements' is not supported by rustomize yet".to_owned(),
    })
}
