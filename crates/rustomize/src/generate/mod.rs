//! Generators: `configMapGenerator` and `secretGenerator` (with
//! `generatorOptions`), and the content-hash name suffixes added at the end of a
//! build.
//!
//! (Being written: for now generators produce nothing.)

use crate::accumulate::{Accumulation, BuildContext};
use crate::error::Error;
use crate::load::kustomization::Kustomization;
use crate::load::Loader;
use crate::resource::Resource;

/// Runs the kustomization's generators, adding (or merging) their output into `acc`.
pub fn run(
    loader: &Loader,
    k: &Kustomization,
    acc: &mut Accumulation,
    cx: &mut BuildContext,
) -> Result<(), Error> {
    let _ = (loader, k, acc, cx);
    if !k.config_map_generator.is_null() || !k.secret_generator.is_null() {
        return Err(Error::Kustomization {
            path: k.path.clone(),
            message: "generators are not supported by rustomize yet".to_owned(),
        });
    }
    Ok(())
}

/// Appends content-hash suffixes to the names of generated resources that need them.
pub fn add_hash_suffixes(resources: &mut [Resource]) -> Result<(), Error> {
    let _ = resources;
    Ok(())
}
