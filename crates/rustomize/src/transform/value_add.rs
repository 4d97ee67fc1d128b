//! `ValueAddTransformer`: set one value into a field of selected resources, or
//! insert it as a part of a path-like value already there.
//!
//! Only reachable through a plugin config (`transformers:`). For each target,
//! in order: every resource its selector picks (all without one) gets the
//! value at `fieldPath` — slash-separated, `\/` standing for a slash inside a
//! key, mappings created along the way. With `filePathPosition` N > 0 the value
//! is inserted as the N-th part of the current value read as a slash-separated
//! path (kustomize's `InsertPathPart`). A `fieldPath` of `metadata/namespace`
//! means the namespace filter instead: namespaced resources get the value, and
//! RoleBinding subjects named `default` too.

use rustomize_yaml::{Map, Value};

use crate::plugins::{SubjectMode, ValueAddTarget};
use crate::resource::Resource;
use crate::selector::Matcher;

/// Applies the transformer to `resources`.
///
/// Errors: a selector that does not compile, a field on the path that is not
/// a mapping, or a final field that is not a scalar.
pub fn apply(
    resources: &mut [Resource],
    value: &str,
    targets: &[ValueAddTarget],
) -> Result<(), String> {
    for target in targets {
        let matcher = match &target.selector {
            Some(s) => Some(Matcher::new(s)?),
            None => None,
        };
        for resource in resources.iter_mut() {
            if matcher.as_ref().is_some_and(|m| !m.selects(resource)) {
                continue;
            }
            if target.field_path == "metadata/namespace" {
                if !resource.object().is_empty() {
                    super::namespace::filter(
                        resource,
                        value,
                        &[],
                        false,
                        SubjectMode::DefaultOnly,
                    )?;
                }
                continue;
            }
            let id = resource.id().clone();
            set_field(resource.object_mut(), target, value)
                .map_err(|e| format!("{id}: fieldPath '{}': {e}", target.field_path))?;
        }
    }
    Ok(())
}

/// `fieldPath` split on `/`, where a segment ending in `\` joins the next.
fn split(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in path.split('/') {
        match out.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('/');
                last.push_str(part);
            }
            _ => out.push(part.to_owned()),
        }
    }
    out
}

fn set_field(object: &mut Map, target: &ValueAddTarget, value: &str) -> Result<(), String> {
    let fields = split(&target.field_path);
    let Some((last, parents)) = fields.split_last() else {
        return Ok(());
    };
    let mut map = object;
    for field in parents {
        let slot = map
            .entry(field.clone())
            .or_insert_with(|| Value::Map(Map::default()));
        if slot.is_null() {
            *slot = Value::Map(Map::default());
        }
        map = match slot {
            Value::Map(m) => m,
            other => {
                return Err(format!(
                    "wrong node kind: expected MappingNode but got {}",
                    node_kind(other)
                ))
            }
        };
    }
    let slot = map.entry(last.clone()).or_insert(Value::Null);
    let current = match &*slot {
        Value::Seq(_) | Value::Map(_) => {
            return Err(format!(
                "wrong node kind: expected ScalarNode but got {}",
                node_kind(slot)
            ))
        }
        Value::Null | Value::Empty => String::new(),
        scalar => crate::transform::replacements::path::scalar_text(scalar),
    };
    let new = if target.file_path_position > 0 {
        let position = usize::try_from(target.file_path_position - 1).unwrap_or(usize::MAX);
        insert_path_part(&current, position, value)
    } else {
        value.to_owned()
    };
    *slot = Value::String(new);
    Ok(())
}

fn node_kind(v: &Value) -> &'static str {
    match v {
        Value::Seq(_) => "SequenceNode",
        Value::Map(_) => "MappingNode",
        _ => "ScalarNode",
    }
}

/// `part` inserted as the `pos`-th (0-based) part of the slash-separated
/// `path`, the result cleaned as Go's `filepath.Join` cleans it; a leading
/// `/` stays first.
fn insert_path_part(path: &str, pos: usize, part: &str) -> String {
    if part.is_empty() {
        return path.to_owned();
    }
    let mut parts: Vec<&str> = if path.is_empty() {
        Vec::new()
    } else {
        let trimmed = path.trim_end_matches('/');
        let mut parts: Vec<&str> = trimmed.split('/').collect();
        if trimmed.is_empty() {
            parts = vec![""];
        }
        parts
    };
    let absolute = parts.first() == Some(&"");
    let mut pos = pos.min(parts.len());
    if absolute && pos < parts.len() {
        pos += 1;
    }
    parts.insert(pos, part);
    let joined = parts
        .iter()
        .filter(|p| !p.is_empty() && **p != ".")
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    let cleaned = clean(&joined);
    if absolute {
        format!("/{cleaned}")
    } else {
        cleaned
    }
}

/// Go's `path.Clean` for a relative path without empty or `.` parts.
fn clean(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        if part == ".." && out.last().is_some_and(|p| *p != "..") {
            out.pop();
        } else {
            out.push(part);
        }
    }
    if out.is_empty() {
        ".".to_owned()
    } else {
        out.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_path_part_follows_kustomize() {
        assert_eq!(insert_path_part("a/b", 0, "x"), "x/a/b");
        assert_eq!(insert_path_part("a/b", 1, "x"), "a/x/b");
        assert_eq!(insert_path_part("a/b", 9, "x"), "a/b/x");
        assert_eq!(insert_path_part("/a/b", 0, "x"), "/x/a/b");
        assert_eq!(insert_path_part("", 0, "x"), "x");
    }

    #[test]
    fn escaped_slashes_join_segments() {
        assert_eq!(
            split("metadata/annotations/a\\/b"),
            ["metadata", "annotations", "a/b"]
        );
    }
}
