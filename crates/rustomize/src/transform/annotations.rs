//! `commonAnnotations`: add annotations to metadata and workload templates.

use crate::fieldspec::FieldSpec;
use crate::resource::Resource;

/// Adds `pairs` to every annotation map `specs` reach.
pub fn apply(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    specs: &[FieldSpec],
    threads: &crate::parallel::Pool,
) -> Result<(), String> {
    super::set_pairs_in(resources, pairs, specs, threads)
}
