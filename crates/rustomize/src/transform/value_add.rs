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
                        &super::namespace::NamespaceSpecs::new(&[]),
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
            .entry(field.as_str())
            .or_insert_with(|| Value::Map(Map::default()));
        if slot.is_null() {
            *slot = Value::Map(Map::default());
        }
        map = match slot {
            Value::Map(m) => m,
            other => {
                return Err(format!(
                    "wrong node kind: expected MappingNode but got {}",
                    super::yaml_node_kind(other)
                ))
            }
        };
    }
    let slot = map.entry(last.as_str()).or_insert(Value::Null);
    let current = match &*slot {
        Value::Seq(_) | Value::Map(_) => {
            return Err(format!(
                "wrong node kind: expected ScalarNode but got {}",
                super::yaml_node_kind(slot)
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
    *slot = Value::string(new);
    Ok(())
}

/// `part` inserted as the `pos`-th (0-based) part of the slash-separated
/// `path`, joined back as Go's `filepath.Join` joins (and cleans); a leading
/// `/` stays first (kustomize's `filesys.InsertPathPart`).
fn insert_path_part(path: &str, pos: usize, part: &str) -> String {
    if part.is_empty() {
        return path.to_owned();
    }
    let mut parts = path_split(path);
    let mut pos = pos.min(parts.len());
    if parts.first().is_some_and(String::is_empty) && pos < parts.len() {
        pos += 1;
    }
    parts.insert(pos, part.to_owned());
    path_join(&parts)
}

/// kyaml's `PathSplit`: the parts of a path, a leading `""` for a rooted one
/// (written as a loop: the path is input, its depth unbounded).
fn path_split(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = path;
    loop {
        if rest.is_empty() {
            break;
        }
        let (dir, file) = match rest.rfind('/') {
            Some(i) => (&rest[..=i], &rest[i + 1..]),
            None => ("", rest),
        };
        if dir == "/" {
            out.push(file.to_owned());
            if file.is_empty() {
                out.pop();
            }
            out.push(String::new());
            break;
        }
        out.push(file.to_owned());
        rest = dir.strip_suffix('/').unwrap_or(dir);
    }
    out.reverse();
    out
}

/// kyaml's `PathJoin`: `filepath.Join` of the parts, rooted when the first is `""`.
fn path_join(parts: &[String]) -> String {
    match parts.split_first() {
        None => String::new(),
        Some((first, rest)) if first.is_empty() => format!("/{}", go_join(rest)),
        Some(_) => go_join(parts),
    }
}

/// Go's `filepath.Join`: the non-empty elements joined by `/`, then cleaned
/// (empty when all are empty).
fn go_join(parts: &[String]) -> String {
    let joined: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    if joined.is_empty() {
        return String::new();
    }
    go_clean(&joined.join("/"))
}

/// Go's `path.Clean`.
fn go_clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match out.last() {
                Some(&last) if last != ".." => {
                    out.pop();
                }
                _ if rooted => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    let body = out.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
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
        // Recorded from kubectl kustomize v5.5.0 (ValueAddTransformer).
        assert_eq!(insert_path_part("x/y/z", 1, "/a/b/"), "x/a/b/y/z");
        assert_eq!(insert_path_part("x/y", 0, "/q/"), "/q/x/y");
        assert_eq!(insert_path_part("", 0, "../q/."), "../q");
    }

    #[test]
    fn escaped_slashes_join_segments() {
        assert_eq!(
            split("metadata/annotations/a\\/b"),
            ["metadata", "annotations", "a/b"]
        );
    }
}
