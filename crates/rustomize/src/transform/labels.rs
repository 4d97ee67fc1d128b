//! `LabelTransformer` (`labels` entries and `commonLabels`): set labels into
//! every string map its field specs reach — metadata, and, depending on the
//! entry's options (see `crate::plugins::desugar`), selectors and pod
//! templates.

use crate::fieldspec::FieldSpec;
use crate::resource::Resource;

/// Sets `pairs` at every field `specs` reach.
///
/// Errors: a reached field that is not a mapping, or an empty label key.
pub fn apply(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    specs: &[FieldSpec],
    threads: &crate::parallel::Pool,
) -> Result<(), String> {
    super::set_pairs_in(resources, pairs, specs, threads)
}
