//! Field specs: *which* fields of *which* kinds a transformer touches, and the one
//! walker that visits them.
//!
//! A field spec names a group/version/kind selector (empty parts match anything)
//! and a slash-separated path such as `spec/template/metadata/labels`. Sequences on
//! the way are entered element by element without consuming a path segment (a
//! trailing `[]` on a segment only says "this is a list"), so
//! `spec/containers/env/name` reaches every env var of every container. With
//! `create`, missing (or null) mappings along the path are created. The tables
//! themselves live in `crate::tables::field_specs`.

use rustomize_yaml::{Map, Value};

use crate::resource::Gvk;

/// One field spec: a kind selector, a path, and whether to create missing fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// Group to match (empty matches any).
    pub group: String,
    /// Version to match (empty matches any).
    pub version: String,
    /// Kind to match (empty matches any).
    pub kind: String,
    /// Slash-separated path.
    pub path: String,
    /// Whether missing fields along the path are created.
    pub create: bool,
}

impl FieldSpec {
    /// A spec from static table data.
    pub fn new(group: &str, version: &str, kind: &str, path: &str, create: bool) -> Self {
        FieldSpec {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            path: path.to_owned(),
            create,
        }
    }

    /// Whether visiting this spec's path may change a resource's id (its
    /// `apiVersion`, `kind`, `metadata.name` or `metadata.namespace`): true
    /// unless the path starts with a plain key other than these, or with
    /// `metadata/` and a plain key other than `name` and `namespace`. Paths
    /// with escapes, `[...]` or wildcards in those places count as true.
    pub fn may_touch_id(&self) -> bool {
        let plain = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        };
        let mut parts = self.path.splitn(3, '/');
        let first = parts.next().unwrap_or("");
        if !plain(first) {
            return true;
        }
        match first {
            "apiVersion" | "kind" => true,
            "metadata" => match parts.next() {
                Some(second) if plain(second) => matches!(second, "name" | "namespace"),
                _ => true,
            },
            _ => false,
        }
    }

    /// Whether this spec applies to resources of `gvk`.
    pub fn selects(&self, gvk: &Gvk) -> bool {
        (self.group.is_empty() || self.group == gvk.group)
            && (self.version.is_empty() || self.version == gvk.version)
            && (self.kind.is_empty() || self.kind == gvk.kind)
    }
}

/// Merges specs into a list without duplicates (same selector and path), the way
/// kustomize merges field-spec tables.
pub fn merge_into(list: &mut Vec<FieldSpec>, more: &[FieldSpec]) {
    // Nested kustomizations mostly hand back the tables they started from, so
    // `more` is usually a prefix of `list`: nothing to add, no hashing needed.
    if more.is_empty() || list.get(..more.len()) == Some(more) {
        return;
    }
    fn key(s: &FieldSpec) -> (&str, &str, &str, &str) {
        (&s.group, &s.version, &s.kind, &s.path)
    }
    // Borrowed keys: the specs already in `list` are not copied to be looked up.
    let mut seen: std::collections::HashSet<(&str, &str, &str, &str)> =
        list.iter().map(key).collect();
    let added: Vec<FieldSpec> = more
        .iter()
        .filter(|spec| seen.insert(key(spec)))
        .cloned()
        .collect();
    list.extend(added);
}

/// What kind of node to create at the end of a path when `create` is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaf {
    /// A mapping (labels, annotations).
    Map,
    /// A string (names, namespaces).
    Scalar,
}

impl Leaf {
    fn empty(self) -> Value {
        match self {
            Leaf::Map => Value::Map(Map::default()),
            Leaf::Scalar => Value::String(String::new()),
        }
    }
}

/// Splits a field-spec path on `/`, keeping `/` inside `[...]` (as in
/// `[name=a/b]`) and after a backslash (`a\\/b` is one key, `a/b`).
pub fn split_path(path: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                current.push('/');
                chars.next();
            }
            '[' => {
                depth += 1;
                current.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            '/' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

/// Calls `set` on every node `spec` reaches in `object` (the caller checked the kind).
pub fn visit(
    object: &mut Map,
    spec: &FieldSpec,
    leaf: Leaf,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    // Nearly every path is plain (`spec/template/metadata/labels`): its
    // segments are slices of the path, held on the stack, so a visit allocates
    // nothing. Escapes and `[...]` take the general split.
    const MAX_PLAIN: usize = 16;
    if !spec.path.contains(['\\', '[']) {
        let mut buf = [""; MAX_PLAIN];
        let mut n = 0;
        for segment in spec.path.split('/') {
            match buf.get_mut(n) {
                Some(slot) => *slot = segment,
                None => {
                    n = MAX_PLAIN + 1;
                    break;
                }
            }
            n += 1;
        }
        if let Some(segments) = buf.get(..n) {
            return walk_map(object, segments, spec.create, leaf, set);
        }
    }
    let segments = split_path(&spec.path);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    walk_map(object, &segments, spec.create, leaf, set)
}

fn walk(
    node: &mut Value,
    path: &[&str],
    create: bool,
    leaf: Leaf,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    if path.is_empty() {
        return set(node);
    }
    match node {
        Value::Null | Value::Empty => Ok(()),
        Value::Seq(items) => {
            for item in items {
                walk(item, path, create, leaf, set)?;
            }
            Ok(())
        }
        Value::Map(map) => walk_map(map, path, create, leaf, set),
        _ => Err(format!(
            "expected sequence or mapping node at '{}'",
            path.join("/")
        )),
    }
}

fn walk_map(
    map: &mut Map,
    path: &[&str],
    create: bool,
    leaf: Leaf,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some((segment, rest)) = path.split_first() else {
        return Ok(());
    };
    let (name, is_seq) = match segment.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (*segment, false),
    };
    if name.is_empty() {
        return Err("cannot set or create an empty field name".to_owned());
    }
    if create && !is_seq {
        let kind = if rest.is_empty() { leaf } else { Leaf::Map };
        let field = map.entry(name.to_owned()).or_insert_with(|| kind.empty());
        if field.is_null() {
            *field = kind.empty();
        }
        walk(field, rest, create, leaf, set)
    } else {
        match map.get_mut(name) {
            Some(field) => walk(field, rest, create, leaf, set),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FieldSpec;

    fn touches(path: &str) -> bool {
        FieldSpec::new("", "", "", path, false).may_touch_id()
    }

    #[test]
    fn paths_that_may_touch_the_id() {
        for path in [
            "metadata/name",
            "metadata/namespace",
            "metadata",
            "kind",
            "apiVersion",
            "metadata/[name=x]",
            "metadata/*",
            "",
            "a\\/b/c",
            "[x=y]/name",
        ] {
            assert!(touches(path), "{path}");
        }
        for path in [
            "metadata/labels",
            "metadata/annotations",
            "spec/template/metadata/name",
            "spec/replicas",
            "data",
            "subjects",
        ] {
            assert!(!touches(path), "{path}");
        }
    }
}
