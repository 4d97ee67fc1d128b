//! `replicas`: set replica counts.
//!
//! This module owns kustomize's `ReplicaCountTransformer`: decoding the
//! kustomization's `replicas:` entries (Go-JSON strict: `count` is an `int64`, so
//! `3.0` is accepted and `2.5` or `"3"` are not; a missing `count` is 0) and
//! setting the count. Which fields hold a count is the `replicas` field-spec
//! table. Rules reproduced from v5.5.0:
//!
//! * Each entry is its own transformer, applied in order.
//! * An entry selects resources by name, current or original (so a base's name
//!   still works after `namePrefix`), among the kinds of the table; every such
//!   resource is changed, whatever its namespace.
//! * An entry that selects nothing fails the build.
//! * The count is written as an integer, except over a quoted string (such as
//!   `replicas: "2"`), which stays a string.

use rustomize_yaml::Value;

use crate::fieldspec::{FieldSpec, Leaf, SpecSet};
use crate::load::gojson::field as canonical;
use crate::load::gojson::type_name as go_type;
use crate::resource::{Gvk, Resource};

/// One entry of `replicas:`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ReplicaEntry {
    name: String,
    count: i64,
}

/// Applies the kustomization's `replicas` entries.
pub fn apply(
    resources: &mut [Resource],
    replicas: &Value,
    specs: &[FieldSpec],
) -> Result<(), String> {
    let entries = parse_entries(replicas)?;
    for entry in &entries {
        apply_one(resources, entry, specs)?;
    }
    Ok(())
}

fn apply_one(
    resources: &mut [Resource],
    entry: &ReplicaEntry,
    specs: &[FieldSpec],
) -> Result<(), String> {
    let mut found = false;
    for compiled in SpecSet::compiled(specs, None).all() {
        let spec: &FieldSpec = &compiled.spec;
        for resource in resources.iter_mut() {
            // Most resources bear none of the entry's names: rule them out
            // before building their previous ids.
            let named = resource.name() == entry.name
                || resource
                    .previous
                    .iter()
                    .any(|(name, _, _)| *name == entry.name);
            let selected = named
                && std::iter::once(resource.id().clone())
                    .chain(resource.previous_ids())
                    .any(|id| id.name == entry.name && spec.selects(&id.gvk));
            if !selected {
                continue;
            }
            found = true;
            // The field-spec filter checks the current kind again.
            if !spec.selects(resource.gvk()) {
                continue;
            }
            resource
                .edit_where(compiled.touches_id, |object| {
                    compiled.visit(object, Leaf::Scalar, &mut |node| {
                        set_count(node, entry.count)
                    })
                })
                .map_err(|e| {
                    format!(
                        "considering field '{}' of object {}: {e}",
                        spec.path,
                        resource.id()
                    )
                })?;
        }
    }
    if found {
        return Ok(());
    }
    let gvks: Vec<String> = specs
        .iter()
        .map(|s| {
            Gvk {
                group: rustomize_yaml::Str::from(s.group.as_str()),
                version: rustomize_yaml::Str::from(s.version.as_str()),
                kind: rustomize_yaml::Str::from(s.kind.as_str()),
            }
            .to_string()
        })
        .collect();
    Err(format!(
        "resource with name {} does not match a config with the following GVK [{}]",
        entry.name,
        gvks.join(" ")
    ))
}

fn set_count(node: &mut Value, count: i64) -> Result<(), String> {
    match node {
        Value::Seq(_) | Value::Map(_) => Err(format!(
            "wrong node kind: expected ScalarNode but got {}",
            if node.as_seq().is_some() {
                "SequenceNode"
            } else {
                "MappingNode"
            }
        )),
        // A string that reads as a number was quoted, and keeps its quotes.
        Value::String(s) if looks_typed(s) => {
            *node = Value::string(count.to_string());
            Ok(())
        }
        _ => {
            *node = Value::Int(count);
            Ok(())
        }
    }
}

/// Whether a plain scalar with this text would not be a string (so a string
/// holding it must have been quoted). The empty string is a created field.
fn looks_typed(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    let simple = s == "~"
        || s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_'));
    if !simple || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    matches!(
        rustomize_yaml::parse_documents(s, &Default::default()).as_deref(),
        Ok([Value::Null
            | Value::Empty
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Uint(_)
            | Value::Float(_)])
    )
}

/// Decodes `replicas:` the way kustomize's JSON decoding does.
fn parse_entries(replicas: &Value) -> Result<Vec<ReplicaEntry>, String> {
    let items = match replicas {
        Value::Null | Value::Empty => return Ok(Vec::new()),
        Value::Seq(items) => items,
        other => {
            return Err(invalid(format!(
                "json: cannot unmarshal {} into Go struct field Kustomization.replicas of type []types.Replica",
                go_type(other)
            )))
        }
    };
    items.iter().map(parse_entry).collect()
}

fn parse_entry(item: &Value) -> Result<ReplicaEntry, String> {
    let map = match item {
        Value::Null | Value::Empty => return Ok(ReplicaEntry::default()),
        Value::Map(map) => map,
        other => {
            return Err(invalid(format!(
                "json: cannot unmarshal {} into Go struct field Kustomization.replicas of type types.Replica",
                go_type(other)
            )))
        }
    };
    const FIELDS: &[&str] = &["name", "count"];
    // Keys are decoded in sorted order; of two spellings of a field the later wins.
    let mut keys: Vec<_> = map.iter().collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let mut entry = ReplicaEntry::default();
    for (key, value) in keys {
        match canonical(key, FIELDS) {
            Some("name") => match value {
                Value::Null | Value::Empty => {}
                Value::String(s) => s.as_str().clone_into(&mut entry.name),
                other => {
                    return Err(invalid(format!(
                        "json: cannot unmarshal {} into Go struct field Replica.replicas.name of type string",
                        go_type(other)
                    )))
                }
            },
            Some(_) => {
                if let Some(count) = count(value)? {
                    entry.count = count;
                }
            }
            None => return Err(invalid(format!("json: unknown field \"{key}\""))),
        }
    }
    Ok(entry)
}

/// `count` as Go's JSON decoding reads it into an `int64` (None: null, no change).
fn count(value: &Value) -> Result<Option<i64>, String> {
    let number = match value {
        Value::Null | Value::Empty => return Ok(None),
        Value::Int(i) => return Ok(Some(*i)),
        // An integral float is written as a plain integer in JSON below 1e21.
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e21 => {
            if *f >= -9_223_372_036_854_775_808.0 && *f < 9_223_372_036_854_775_808.0 {
                return Ok(Some(*f as i64));
            }
            format!("{f:.0}")
        }
        Value::Float(f) => go_float(*f),
        Value::Uint(u) => u.to_string(),
        other => {
            return Err(invalid(format!(
            "json: cannot unmarshal {} into Go struct field Replica.replicas.count of type int64",
            go_type(other)
        )))
        }
    };
    Err(invalid(format!(
        "json: cannot unmarshal number {number} into Go struct field Replica.replicas.count of type int64"
    )))
}

/// Go's JSON spelling of a non-integral or huge float (near enough for a message).
fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        format!("{f:e}")
    } else {
        f.to_string()
    }
}

fn invalid(message: String) -> String {
    format!("invalid Kustomization: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(count(&Value::Int(3)), Ok(Some(3)));
        assert_eq!(count(&Value::Float(3.0)), Ok(Some(3)));
        assert_eq!(count(&Value::Null), Ok(None));
        assert!(count(&Value::Float(2.5)).is_err());
        assert!(count(&Value::string("3")).is_err());
    }

    #[test]
    fn quoted_counts_stay_strings() {
        let mut node = Value::string("2");
        assert_eq!(set_count(&mut node, 5), Ok(()));
        assert_eq!(node, Value::string("5"));
        let mut node = Value::string("");
        assert_eq!(set_count(&mut node, 5), Ok(()));
        assert_eq!(node, Value::Int(5));
    }
}
