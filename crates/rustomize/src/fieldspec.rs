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

use std::borrow::Cow;

use foldhash::HashMap;
use rustomize_yaml::{Map, Str, Value};

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
        self.selects_parts(&gvk.group, &gvk.version, &gvk.kind)
    }

    /// [`FieldSpec::selects`] over the parts of a group/version/kind.
    pub fn selects_parts(&self, group: &str, version: &str, kind: &str) -> bool {
        (self.group.is_empty() || self.group == group)
            && (self.version.is_empty() || self.version == version)
            && (self.kind.is_empty() || self.kind == kind)
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
            Leaf::Scalar => Value::string(""),
        }
    }
}

/// Splits a field-spec path on `/`, keeping `/` inside `[...]` (as in
/// `[name=a/b]`) and after a backslash (`a\\/b` is one key, `a/b`). The
/// segments are [`Str`]s, inline up to 24 bytes: a spec's segments
/// (`metadata`, `labels`, `spec`, …) then cost no allocation each, and the
/// specs of every transformer are compiled anew for each build. A path
/// without `\` or `[` (nearly every table row) is cut at each `/` without
/// copying it a character at a time.
pub fn split_path(path: &str) -> Vec<Str> {
    if !path.bytes().any(|b| b == b'\\' || b == b'[') {
        return path.split('/').map(Str::from).collect();
    }
    let mut parts = Vec::with_capacity(path.bytes().filter(|&b| b == b'/').count() + 1);
    let mut current = Str::default();
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

/// Calls `set` on every node `spec` reaches in `object` (the caller checked
/// the kind). Callers visiting many resources compile the spec once instead
/// (see [`Compiled`] and [`SpecSet`]).
pub fn visit(
    object: &mut Map,
    spec: &FieldSpec,
    leaf: Leaf,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    Compiled::new(spec, None).visit(object, leaf, set)
}

/// One segment of a field-spec path, split once when the spec is compiled.
#[derive(Clone, Debug)]
struct Segment {
    /// The segment as written (escapes resolved), for error messages.
    raw: Str,
    /// Whether the segment ends in `[]` (the field is a list).
    is_seq: bool,
}

impl Segment {
    /// The field name (the segment without a trailing `[]`).
    fn name(&self) -> &str {
        if self.is_seq {
            self.raw.get(..self.raw.len() - 2).unwrap_or("")
        } else {
            &self.raw
        }
    }
}

/// A field spec with its path split once and its facts precomputed: kustomize
/// splits the path on every visit, which was a large share of a build whose
/// transformers visit every resource.
#[derive(Clone, Debug)]
pub struct Compiled<'a> {
    /// The spec as configured (borrowed from a table, or owned when built
    /// for one purpose).
    pub spec: Cow<'a, FieldSpec>,
    segments: Vec<Segment>,
    /// Whether missing fields are created (the spec's, unless a caller
    /// turned creation off, as the images and vars passes do).
    create: bool,
    /// [`FieldSpec::may_touch_id`], computed once.
    pub touches_id: bool,
}

impl<'a> Compiled<'a> {
    /// Compiles `spec`; `create` overrides its `create` flag when `Some`.
    pub fn new(spec: &'a FieldSpec, create: Option<bool>) -> Self {
        Compiled::of(Cow::Borrowed(spec), create)
    }

    /// Compiles an owned spec.
    pub fn owned(spec: FieldSpec) -> Compiled<'static> {
        Compiled::of(Cow::Owned(spec), None)
    }

    fn of(spec: Cow<'a, FieldSpec>, create: Option<bool>) -> Self {
        let segments = split_path(&spec.path)
            .into_iter()
            .map(|raw| Segment {
                is_seq: raw.ends_with("[]"),
                raw,
            })
            .collect();
        Compiled {
            create: create.unwrap_or(spec.create),
            touches_id: spec.may_touch_id(),
            spec,
            segments,
        }
    }

    /// Calls `set` on every node the spec reaches in `object` (the caller
    /// checked the kind), as [`visit`] does.
    pub fn visit(
        &self,
        object: &mut Map,
        leaf: Leaf,
        set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
    ) -> Result<(), String> {
        walk_map(object, &self.segments, self.create, leaf, set)
    }
}

/// A list of compiled field specs with an index by kind, so that a resource
/// is checked only against the specs that can select its kind (the tables
/// hold dozens to hundreds of specs, and most name one kind).
#[derive(Clone, Debug)]
pub struct SpecSet<'a> {
    specs: Vec<Compiled<'a>>,
    /// Kind → positions of the specs naming that kind or any kind, in order.
    by_kind: HashMap<String, Vec<usize>>,
    /// Positions of the specs naming any kind, in order.
    any_kind: Vec<usize>,
}

/// A [`SpecSet`] kept for the process (the compiled form of a built-in
/// table, see [`SpecSet::compiled`]) or compiled for one use.
pub enum SpecSetRef<'a> {
    /// The process's compiled copy of a built-in table.
    Kept(&'static SpecSet<'static>),
    /// Compiled for this use.
    Own(SpecSet<'a>),
}

impl<'a> std::ops::Deref for SpecSetRef<'a> {
    type Target = SpecSet<'a>;

    fn deref(&self) -> &SpecSet<'a> {
        match self {
            SpecSetRef::Kept(set) => set,
            SpecSetRef::Own(set) => set,
        }
    }
}

impl<'a> SpecSet<'a> {
    /// `specs` compiled: when they equal one of the built-in tables (as a
    /// transformer's specs do unless `configurations:` or a plugin's config
    /// changed them), the set compiled from that table once per process,
    /// else a set compiled here ([`SpecSet::new`]). A transformer config
    /// holds its own copy of the table, so this compares contents (a few
    /// hundred short strings at most), which costs far less than splitting
    /// every path again.
    pub fn compiled(specs: &'a [FieldSpec], create: Option<bool>) -> SpecSetRef<'a> {
        match crate::tables::field_specs::kept_spec_set(specs, create) {
            Some(set) => SpecSetRef::Kept(set),
            None => SpecSetRef::Own(SpecSet::new(specs, create)),
        }
    }

    /// Compiles `specs` (see [`Compiled::new`] for `create`).
    pub fn new(specs: impl IntoIterator<Item = &'a FieldSpec>, create: Option<bool>) -> Self {
        let specs: Vec<Compiled<'a>> = specs
            .into_iter()
            .map(|s| Compiled::new(s, create))
            .collect();
        let any_kind: Vec<usize> = specs
            .iter()
            .enumerate()
            .filter(|(_, c)| c.spec.kind.is_empty())
            .map(|(i, _)| i)
            .collect();
        let mut by_kind: HashMap<String, Vec<usize>> = HashMap::default();
        for c in &specs {
            let kind = c.spec.kind.as_str();
            if kind.is_empty() || by_kind.contains_key(kind) {
                continue;
            }
            let positions = specs
                .iter()
                .enumerate()
                .filter(|(_, o)| o.spec.kind.is_empty() || o.spec.kind == kind)
                .map(|(i, _)| i)
                .collect();
            by_kind.insert(kind.to_owned(), positions);
        }
        SpecSet {
            specs,
            by_kind,
            any_kind,
        }
    }

    /// Whether the set holds no spec.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Every spec, in order.
    pub fn all(&self) -> &[Compiled<'a>] {
        &self.specs
    }

    /// The specs that select `gvk`, in order.
    pub fn selecting<'s>(&'s self, gvk: &'s Gvk) -> impl Iterator<Item = &'s Compiled<'a>> + 's {
        let positions = self
            .by_kind
            .get(gvk.kind.as_str())
            .unwrap_or(&self.any_kind);
        positions
            .iter()
            .filter_map(|&i| self.specs.get(i))
            .filter(move |c| c.spec.selects(gvk))
    }

    /// Fills `out` with the specs that select `gvk`, in order (a buffer the
    /// caller reuses across resources, not borrowing the resource's id).
    pub fn select_into<'s>(&'s self, gvk: &Gvk, out: &mut Vec<&'s Compiled<'a>>) {
        self.select_parts_into(&gvk.group, &gvk.version, &gvk.kind, out);
    }

    /// [`SpecSet::select_into`] over the parts of a group/version/kind.
    pub fn select_parts_into<'s>(
        &'s self,
        group: &str,
        version: &str,
        kind: &str,
        out: &mut Vec<&'s Compiled<'a>>,
    ) {
        out.clear();
        let positions = self.by_kind.get(kind).unwrap_or(&self.any_kind);
        out.extend(
            positions
                .iter()
                .filter_map(|&i| self.specs.get(i))
                .filter(|c| c.spec.selects_parts(group, version, kind)),
        );
    }

    /// Whether any spec selects `gvk`.
    pub fn selects(&self, gvk: &Gvk) -> bool {
        self.selecting(gvk).next().is_some()
    }
}

fn walk(
    node: &mut Value,
    path: &[Segment],
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
        _ => {
            let rest: Vec<&str> = path.iter().map(|s| s.raw.as_str()).collect();
            Err(format!(
                "expected sequence or mapping node at '{}'",
                rest.join("/")
            ))
        }
    }
}

fn walk_map(
    map: &mut Map,
    path: &[Segment],
    create: bool,
    leaf: Leaf,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    let Some((segment, rest)) = path.split_first() else {
        return Ok(());
    };
    let name = segment.name();
    if name.is_empty() {
        return Err("cannot set or create an empty field name".to_owned());
    }
    if create && !segment.is_seq {
        let kind = if rest.is_empty() { leaf } else { Leaf::Map };
        // Looked up before inserting: the key is copied only when created.
        let at = match map.get_index_of(name) {
            Some(at) => at,
            None => map.insert_full(name, kind.empty()).0,
        };
        let Some((_, field)) = map.get_index_mut(at) else {
            return Ok(());
        };
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
    fn paths_split_at_slashes_outside_brackets_and_escapes() {
        let split = |path: &str| -> Vec<String> {
            super::split_path(path)
                .iter()
                .map(|s| s.to_string())
                .collect()
        };
        // Without `\` or `[` (the plain cut).
        assert_eq!(
            split("spec/template/metadata/labels"),
            ["spec", "template", "metadata", "labels"]
        );
        assert_eq!(split(""), [""]);
        assert_eq!(split("a//b"), ["a", "", "b"]);
        assert_eq!(split("/a/"), ["", "a", ""]);
        assert_eq!(
            split("spec/containers[]/image"),
            ["spec", "containers[]", "image"]
        );
        assert_eq!(split("a]/b"), ["a]", "b"]);
        // With them (the character walk).
        assert_eq!(split("a\\/b/c"), ["a/b", "c"]);
        assert_eq!(split("a\\b/c"), ["a\\b", "c"]);
        assert_eq!(split("[name=a/b]/c"), ["[name=a/b]", "c"]);
        assert_eq!(split("x/[a=[b/c]]/d"), ["x", "[a=[b/c]]", "d"]);
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
