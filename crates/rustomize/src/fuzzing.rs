//! Entry points for the fuzz targets in `fuzz/` and their regression tests
//! (`tests/fuzz_regressions.rs`): internal code paths that are not public API,
//! reachable here without making their modules public. Hidden from the docs and
//! not a stable interface.

use rustomize_yaml::{Map, Value};

use crate::transform::replacements::path::{self, CreateKind};

/// Looks up a replacement field path (`spec.template.spec.containers.[name=app].image`)
/// in `object`, as a replacement's source does; `Ok(None)` when it is missing.
pub fn replacement_lookup<'a>(
    object: &'a Map,
    field_path: &str,
) -> Result<Option<&'a Value>, String> {
    path::lookup(object, &path::split(field_path))
}

/// Sets every node a replacement field path reaches in `object` to `value`, as a
/// replacement's target does, creating missing parts when `create` is set.
/// Returns how many nodes were set.
pub fn replacement_set(
    object: &mut Map,
    field_path: &str,
    value: &Value,
    create: bool,
) -> Result<usize, String> {
    let create = create.then(|| CreateKind::of(value));
    path::for_each_match(object, &path::split(field_path), create, &mut |node, _| {
        *node = value.clone();
        Ok(())
    })
}
