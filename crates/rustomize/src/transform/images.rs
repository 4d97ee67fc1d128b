//! `images`: change image names, tags and digests.
//!
//! This module owns kustomize's `ImageTagTransformer`: decoding the kustomization's
//! `images:` entries (Go-JSON strict, like the rest of the file) and rewriting
//! image references. It lives apart from the field-spec engine's other users
//! because image rewriting has rules of its own, all reproduced from v5.5.0:
//!
//! * Each entry is its own transformer, applied in order: a later entry sees the
//!   images an earlier one rewrote.
//! * Each entry runs two passes over every resource except
//!   `CustomResourceDefinition`s: a *legacy* pass that rewrites the `image` of
//!   every element of every `containers` / `initContainers` list found anywhere
//!   in the object, then a pass over the `images` field-spec table (never
//!   creating fields). A reference both passes reach is rewritten twice, which
//!   shows with `tagSuffix` (`nginx:1` becomes `nginx:1-s-s` in a Deployment).
//! * `name` is a regular expression: an image matches when the whole reference
//!   is `<name>` followed by an optional `:tag` and `@sha256:digest`. A name that
//!   is not a valid expression fails the build once an image is checked
//!   (kustomize panics there).
//! * `newTag` and `digest` together give `name:tag@digest`; either alone drops
//!   the other part; `tagSuffix` (used only without both) appends to the tag and
//!   drops the digest.
//! * The rewritten reference is a plain scalar, so `123` or `1.5` is written as
//!   a number unless the original reference was quoted.

use regex::Regex;
use rustomize_yaml::{Map, Value};

use crate::fieldspec::{Compiled, FieldSpec, Leaf, SpecSet};
use crate::load::gojson::field as canonical;
use crate::load::gojson::type_name as go_type;
use crate::resource::Resource;

/// The kind both passes leave alone (kustomize issue #890).
const SKIPPED_KIND: &str = "CustomResourceDefinition";

/// The fields the legacy pass looks for, anywhere in an object.
const LEGACY_LISTS: &[&str] = &["containers", "initContainers"];

/// One entry of `images:`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ImageEntry {
    name: String,
    new_name: String,
    new_tag: String,
    digest: String,
    tag_suffix: String,
}

/// Applies the kustomization's `images` entries.
pub fn apply(
    resources: &mut [Resource],
    images: &Value,
    specs: &[FieldSpec],
    threads: &crate::parallel::Pool,
) -> Result<(), String> {
    let entries = parse_entries(images)?;
    // The table pass never creates fields.
    let specs = SpecSet::compiled(specs, Some(false));
    for entry in &entries {
        let updater = Updater::new(entry);
        // Each pass in chunks, one after the other: the first error is still
        // the first pass's first error, then the second's.
        threads.for_chunks(resources, super::MIN_CHUNK, |_, chunk| {
            let mut updater = updater.clone();
            for resource in chunk.iter_mut() {
                if resource.kind() == SKIPPED_KIND {
                    continue;
                }
                // The legacy pass writes only `image` in elements of lists, never
                // the root or `metadata` where the id lives.
                resource.edit_where(false, |object| legacy_walk_map(object, &mut updater))?;
            }
            Ok::<(), String>(())
        })?;
        threads.for_chunks(resources, super::MIN_CHUNK, |_, chunk| {
            apply_specs(chunk, &updater, &specs)
        })?;
    }
    Ok(())
}

/// The field-spec pass of [`apply`] over one run of resources.
fn apply_specs(
    resources: &mut [Resource],
    updater: &Updater<'_>,
    specs: &SpecSet<'_>,
) -> Result<(), String> {
    let mut updater = updater.clone();
    let mut selected: Vec<&Compiled<'_>> = Vec::new();
    for resource in resources.iter_mut() {
        if resource.kind() == SKIPPED_KIND {
            continue;
        }
        // Most resources match no spec (the table's are limited by kind):
        // pick the specs first, borrowing the id, before editing.
        let gvk = resource.gvk();
        specs.select_into(gvk, &mut selected);
        for &compiled in &selected {
            let result = resource.edit_where(compiled.touches_id, |object| {
                compiled.visit(object, Leaf::Scalar, &mut |node| updater.update(node))
            });
            result.map_err(|e| {
                format!(
                    "considering field '{}' of object {}: {e}",
                    compiled.spec.path,
                    resource_id(resource)
                )
            })?;
        }
    }
    Ok(())
}

fn resource_id(resource: &Resource) -> String {
    resource.id().to_string()
}

/// The legacy pass: every mapping field anywhere, its value first, then (for a
/// `containers` / `initContainers` list) the `image` of each element.
fn legacy_walk(node: &mut Value, updater: &mut Updater<'_>) -> Result<(), String> {
    match node {
        Value::Map(map) => legacy_walk_map(map, updater),
        Value::Seq(items) => items
            .iter_mut()
            .try_for_each(|item| legacy_walk(item, updater)),
        _ => Ok(()),
    }
}

fn legacy_walk_map(map: &mut Map, updater: &mut Updater<'_>) -> Result<(), String> {
    for (key, value) in map.iter_mut() {
        // Scalars (most fields) have nothing to walk; only a list can be a
        // `containers` list.
        let items = match value {
            Value::Map(inner) => {
                legacy_walk_map(inner, updater)?;
                continue;
            }
            Value::Seq(items) => items,
            _ => continue,
        };
        for item in items.iter_mut() {
            legacy_walk(item, updater)?;
        }
        if !LEGACY_LISTS.contains(&key.as_str()) {
            continue;
        }
        for item in items {
            match item {
                Value::Null | Value::Empty => {}
                Value::Map(container) => {
                    if let Some(image) = container.get_mut("image") {
                        updater.update(image)?;
                    }
                }
                other => {
                    return Err(format!(
                        "wrong node kind: expected MappingNode but got {} in '{key}'",
                        super::yaml_node_kind(other)
                    ))
                }
            }
        }
    }
    Ok(())
}

/// Rewrites image references for one entry; compiles the name's expression on
/// first use, as kustomize does.
#[derive(Clone)]
struct Updater<'e> {
    entry: &'e ImageEntry,
    pattern: Option<Regex>,
}

/// Regular-expression metacharacters other than `.` (which a name like
/// `docker.io/app` uses literally, though it matches any character).
fn has_metacharacters(name: &str) -> bool {
    name.chars().any(|c| {
        matches!(
            c,
            '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' | '\\'
        )
    })
}

/// The tag and digest characters kustomize's pattern allows.
fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '{' | '}' | '-')
}

/// kustomize's `^NAME(:[tag chars]*)?(@sha256:[tag chars]*)?$` for a name without
/// metacharacters, matched directly (the pattern is deterministic, so no regex
/// needs compiling for the common case). `.` in the name matches any character
/// but a newline, as in the regular expression.
fn matches_plain_name(name: &str, image: &str) -> bool {
    let mut rest = image;
    for n in name.chars() {
        let mut chars = rest.chars();
        match chars.next() {
            Some(i) if (n == '.' && i != '\n') || n == i => rest = chars.as_str(),
            _ => return false,
        }
    }
    if let Some(tag) = rest.strip_prefix(':') {
        rest = tag.trim_start_matches(is_tag_char);
    }
    if let Some(digest) = rest.strip_prefix("@sha256:") {
        rest = digest.trim_start_matches(is_tag_char);
    }
    rest.is_empty()
}

impl<'e> Updater<'e> {
    fn new(entry: &'e ImageEntry) -> Self {
        Updater {
            entry,
            pattern: None,
        }
    }

    fn matches(&mut self, image: &str) -> Result<bool, String> {
        if !has_metacharacters(&self.entry.name) {
            return Ok(matches_plain_name(&self.entry.name, image));
        }
        if self.pattern.is_none() {
            let source = format!(
                "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
                self.entry.name
            );
            let compiled = crate::goregex::compile(&source, false).map_err(|e| {
                format!(
                    "images: name '{}' is not a valid regular expression (kustomize panics here): {}",
                    crate::error::excerpt(&self.entry.name, 60),
                    crate::error::excerpt(&e, 150)
                )
            })?;
            self.pattern = Some(compiled);
        }
        Ok(self.pattern.as_ref().is_some_and(|p| p.is_match(image)))
    }

    /// Rewrites `node` if it is an image reference this entry matches.
    fn update(&mut self, node: &mut Value) -> Result<(), String> {
        let text = match node {
            Value::Null | Value::Empty => String::new(),
            Value::String(s) => s.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Uint(u) => u.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Seq(_) | Value::Map(_) => {
                return Err(format!(
                    "wrong node kind: expected ScalarNode but got {}",
                    super::yaml_node_kind(node)
                ))
            }
        };
        if !self.matches(&text)? {
            return Ok(());
        }
        let rewritten = rewrite(self.entry, &text);
        if rewritten == text && !node.is_null() {
            return Ok(());
        }
        // The new scalar keeps the old one's style: a quoted original stays a
        // string; a plain one is typed again.
        let was_quoted = matches!(node, Value::String(s) if !matches!(plain(s), Value::String(_)));
        *node = if was_quoted {
            Value::string(rewritten)
        } else {
            plain(&rewritten)
        };
        Ok(())
    }
}

/// The new reference for `image`, which matched `entry`.
fn rewrite(entry: &ImageEntry, image: &str) -> String {
    let (name, mut tag, mut digest) = split(image);
    let mut out = if entry.new_name.is_empty() {
        name.to_owned()
    } else {
        entry.new_name.clone()
    };
    if !entry.new_tag.is_empty() && !entry.digest.is_empty() {
        tag = entry.new_tag.clone();
        digest = entry.digest.clone();
    } else if !entry.new_tag.is_empty() {
        tag = entry.new_tag.clone();
        digest.clear();
    } else if !entry.digest.is_empty() {
        tag.clear();
        digest = entry.digest.clone();
    } else if !entry.tag_suffix.is_empty() {
        tag.push_str(&entry.tag_suffix);
        digest.clear();
    }
    if !tag.is_empty() {
        out.push(':');
        out.push_str(&tag);
    }
    if !digest.is_empty() {
        out.push('@');
        out.push_str(&digest);
    }
    out
}

/// Splits `[host[:port]/]path[:tag][@digest]` into name, tag and digest the way
/// kustomize does: `:` and `@` are looked for from the first `/` on (if it is not
/// the first character), and whichever of them comes first decides.
fn split(image: &str) -> (&str, String, String) {
    let offset = match image.find('/') {
        Some(i) if i > 0 => i,
        _ => 0,
    };
    let search = image.get(offset..).unwrap_or("");
    let at = search.find('@').map(|i| i + offset);
    let colon = search.find(':').map(|i| i + offset);
    let cut = |from: usize| image.get(from..).unwrap_or("");
    let head = |to: usize| image.get(..to).unwrap_or("");
    match (colon, at) {
        (None, None) => (image, String::new(), String::new()),
        (Some(c), Some(a)) if c < a => {
            let tag = image.get(c..a).unwrap_or("");
            let tag = tag.strip_prefix(':').unwrap_or(tag);
            let digest = cut(a);
            let digest = digest.strip_prefix('@').unwrap_or(digest);
            (head(c), tag.to_owned(), digest.to_owned())
        }
        (_, Some(a)) => {
            let digest = cut(a);
            let digest = digest.strip_prefix('@').unwrap_or(digest);
            (head(a), String::new(), digest.to_owned())
        }
        (Some(c), None) => {
            let tag = cut(c);
            let tag = tag.strip_prefix(':').unwrap_or(tag);
            (head(c), tag.to_owned(), String::new())
        }
    }
}

/// Types `text` as an untagged plain scalar would be (`123` is a number, `true`
/// a boolean, an empty string null); anything else stays a string.
pub(crate) fn plain(text: &str) -> Value {
    let simple = text == "~"
        || text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_'));
    if !simple || text.starts_with("---") || text.starts_with("...") {
        return Value::string(text);
    }
    if text.is_empty() {
        return Value::Null;
    }
    match rustomize_yaml::parse_documents(text, &Default::default()) {
        Ok(docs) => match docs.as_slice() {
            [value @ (Value::Null
            | Value::Empty
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Uint(_)
            | Value::Float(_))] => value.clone(),
            _ => Value::string(text),
        },
        Err(_) => Value::string(text),
    }
}

/// Decodes `images:` the way kustomize's JSON decoding does.
fn parse_entries(images: &Value) -> Result<Vec<ImageEntry>, String> {
    let items = match images {
        Value::Null | Value::Empty => return Ok(Vec::new()),
        Value::Seq(items) => items,
        other => {
            return Err(invalid(format!(
                "json: cannot unmarshal {} into Go struct field Kustomization.images of type []types.Image",
                go_type(other)
            )))
        }
    };
    items.iter().map(parse_entry).collect()
}

fn parse_entry(item: &Value) -> Result<ImageEntry, String> {
    let map = match item {
        Value::Null | Value::Empty => return Ok(ImageEntry::default()),
        Value::Map(map) => map,
        other => {
            return Err(invalid(format!(
                "json: cannot unmarshal {} into Go struct field Kustomization.images of type types.Image",
                go_type(other)
            )))
        }
    };
    const FIELDS: &[&str] = &["name", "newName", "tagSuffix", "newTag", "digest"];
    // Keys are decoded in sorted order; of two spellings of a field the later wins.
    let mut keys: Vec<_> = map.iter().collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let mut entry = ImageEntry::default();
    for (key, value) in keys {
        let Some(field) = canonical(key, FIELDS) else {
            return Err(invalid(format!("json: unknown field \"{key}\"")));
        };
        let slot = match field {
            "name" => &mut entry.name,
            "newName" => &mut entry.new_name,
            "tagSuffix" => &mut entry.tag_suffix,
            "newTag" => &mut entry.new_tag,
            _ => &mut entry.digest,
        };
        match value {
            Value::Null | Value::Empty => {}
            Value::String(s) => s.as_str().clone_into(slot),
            other => {
                return Err(invalid(format!(
                    "json: cannot unmarshal {} into Go struct field Image.images.{field} of type string",
                    go_type(other)
                )))
            }
        }
    }
    Ok(entry)
}

fn invalid(message: String) -> String {
    format!("invalid Kustomization: {message}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn plain_names_match_like_the_pattern() {
        let cases = [
            ("nginx", "nginx", true),
            ("nginx", "nginx:1.2", true),
            ("nginx", "nginx@sha256:abc", true),
            ("nginx", "nginx:1.2@sha256:abc", true),
            ("nginx", "nginx-x", false),
            ("nginx", "docker.io/library/nginx", false),
            ("gcr.io/app", "gcrXio/app:v1", true),
            ("gcr.io/app", "gcr.io/app:v1:v2", false),
            ("app", "app:", true),
            ("app", "app@sha256:", true),
            ("app", "app@md5:x", false),
            ("registry:5000/app", "registry:5000/app:tag", true),
        ];
        for (name, image, want) in cases {
            let pattern = regex::Regex::new(&format!(
                "^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$"
            ))
            .unwrap();
            assert_eq!(pattern.is_match(image), want, "{name} {image}");
            assert_eq!(matches_plain_name(name, image), want, "{name} {image}");
        }
    }

    #[test]
    fn splits_like_kustomize() {
        let s = |i: &str| {
            let (n, t, d) = split(i);
            (n.to_owned(), t, d)
        };
        let own = |n: &str, t: &str, d: &str| (n.to_owned(), t.to_owned(), d.to_owned());
        assert_eq!(s("nginx"), own("nginx", "", ""));
        assert_eq!(s("nginx:1.0"), own("nginx", "1.0", ""));
        assert_eq!(s("nginx@sha256:abc"), own("nginx", "", "sha256:abc"));
        assert_eq!(s("nginx:1@sha256:abc"), own("nginx", "1", "sha256:abc"));
        assert_eq!(
            s("registry:5000/org/app:v1@sha256:abc"),
            own("registry:5000/org/app", "v1", "sha256:abc")
        );
        assert_eq!(
            s("registry:5000/org/app"),
            own("registry:5000/org/app", "", "")
        );
        assert_eq!(s("/x:1"), own("/x", "1", ""));
    }

    #[test]
    fn rewrites() {
        let entry = ImageEntry {
            name: "nginx".into(),
            tag_suffix: "-s".into(),
            ..Default::default()
        };
        assert_eq!(rewrite(&entry, "nginx@sha256:abc"), "nginx:-s");
        let entry = ImageEntry {
            name: "nginx".into(),
            new_tag: "2".into(),
            digest: "sha256:f".into(),
            ..Default::default()
        };
        assert_eq!(rewrite(&entry, "nginx:1"), "nginx:2@sha256:f");
    }

    #[test]
    fn plain_typing() {
        assert_eq!(plain("123"), Value::Int(123));
        assert_eq!(plain("1.5"), Value::Float(1.5));
        assert_eq!(plain("true"), Value::Bool(true));
        assert_eq!(plain("nginx:1"), Value::string("nginx:1"));
        assert_eq!(plain("-"), Value::string("-"));
        assert_eq!(plain("---"), Value::string("---"));
    }
}
