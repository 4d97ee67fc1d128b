//! The image inventory: every image reference in a set of resources, where it
//! is, and whether kustomize's images transformer reaches it; and the pass that
//! rewrites those references for a [`Relocation`].
//!
//! A reference is found one of three ways ([`Found`]):
//!
//! * **field** — a node kustomize's images transformer reaches (see
//!   [`crate::transform::images`]): the `image` of every element of a
//!   `containers` / `initContainers` list anywhere in an object, and every path
//!   of the `images` field-spec table (built-in rows plus those `configurations`
//!   add), in every kind but `CustomResourceDefinition`;
//! * **image key** — any other scalar under an `image` key (custom resources,
//!   `ephemeralContainers`, CRDs), which the transformer leaves alone;
//! * **text** (deep scan only) — image-like strings inside ConfigMap `data`
//!   values, container `env` values and `args` / `command` items, where
//!   Kubeflow keeps many images. A string there counts when it names a host and
//!   carries a tag or digest (`gcr.io/x/y:1`), or when the key it follows ends
//!   in `image` (`queueSidecarImage: …`, `--kfp-image=…`, a data key or env
//!   name ending in `image`); Go templates, URLs and paths are skipped.

use std::ops::Range;

use rustomize_yaml::{Map, Value};

use crate::fieldspec::{split_path, FieldSpec};
use crate::relocate::{ImageName, Relocation};
use crate::resource::{Gvk, ResId, Resource};
use crate::transform::images::plain;

/// The kind the images transformer never touches (kustomize issue #890).
const SKIPPED_KIND: &str = "CustomResourceDefinition";

/// Lists whose elements' `image` the transformer's legacy pass rewrites, anywhere.
const LEGACY_LISTS: &[&str] = &["containers", "initContainers"];

/// How a reference was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Found {
    /// A field kustomize's images transformer reaches.
    Field,
    /// A field the transformer reaches, holding a reference no `images:`
    /// name matches as a name (an IPv6 registry host, a digest other than
    /// sha256: see [`ImageName::transformer_nameable`]).
    Unnameable,
    /// Another `image` key, which the transformer does not reach.
    ImageKey,
    /// Inside a string (ConfigMap data, env value, argument); deep scan only.
    Text,
}

impl Found {
    /// A short name: `field`, `image-key` or `text`.
    pub fn as_str(self) -> &'static str {
        match self {
            Found::Field => "field",
            Found::Unnameable => "field-unnameable",
            Found::ImageKey => "image-key",
            Found::Text => "text",
        }
    }

    /// Whether kustomize's images transformer reaches references found this way.
    pub fn reachable(self) -> bool {
        self == Found::Field
    }
}

/// Which references a relocation rewrites.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    /// Only what kustomize's images transformer reaches: the output is what
    /// kustomize prints for an overlay with the equivalent `images:` list.
    #[default]
    Transformer,
    /// Also fields holding references no `images:` name matches, and every
    /// other `image` key.
    ImageKeys,
    /// Also image-like strings in ConfigMap data, env values and arguments.
    Deep,
}

impl Scope {
    /// Whether references found as `found` are rewritten.
    pub fn covers(self, found: Found) -> bool {
        match self {
            Scope::Transformer => found == Found::Field,
            Scope::ImageKeys => found != Found::Text,
            Scope::Deep => true,
        }
    }
}

/// One step of a path inside an object.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// One image reference in one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageUse {
    /// The resource.
    pub id: ResId,
    /// The field, slash-separated with list indices (`spec/containers[0]/image`).
    pub path: String,
    /// The reference as written.
    pub reference: String,
    /// How it was found.
    pub found: Found,
    steps: Vec<Step>,
    /// Where in the string the reference is (text finds only).
    span: Option<Range<usize>>,
}

/// Lists the image references in `resources` (objects in output order), in
/// document order. `image_fields` is the `images` field-spec table in effect
/// (`Build::image_fields`); `deep` adds references inside strings.
pub fn list<'a>(
    resources: impl IntoIterator<Item = &'a Value>,
    image_fields: &[FieldSpec],
    deep: bool,
) -> Vec<ImageUse> {
    let table = Table::new(image_fields);
    let mut out = Vec::new();
    for resource in resources {
        if let Value::Map(object) = resource {
            scan_object(object, &table, deep, &mut out);
        }
    }
    out
}

/// The distinct references of `uses`, sorted.
pub fn unique_references(uses: &[ImageUse]) -> Vec<String> {
    let mut refs: Vec<String> = uses.iter().map(|u| u.reference.clone()).collect();
    refs.sort();
    refs.dedup();
    refs
}

/// Rewrites the references `scope` covers in `resources` with `relocation`.
pub(crate) fn relocate(
    resources: &mut [Resource],
    image_fields: &[FieldSpec],
    relocation: &Relocation,
    scope: Scope,
) {
    if relocation.is_identity() {
        return;
    }
    let table = Table::new(image_fields);
    for resource in resources {
        let mut uses = Vec::new();
        scan_object(resource.object(), &table, scope == Scope::Deep, &mut uses);
        // Later spans of one string first, so earlier offsets stay valid.
        for u in uses.iter().rev() {
            if !scope.covers(u.found) {
                continue;
            }
            let Some(new) = relocation.relocate(&u.reference) else {
                continue;
            };
            let Some(node) = node_mut(resource.object_mut(), &u.steps) else {
                continue;
            };
            match (&u.span, node) {
                (None, node) => {
                    // As the images transformer writes it: a quoted original
                    // stays a string, a plain one is typed again.
                    let quoted =
                        matches!(node, Value::String(s) if !matches!(plain(s), Value::String(_)));
                    *node = if quoted {
                        Value::string(new)
                    } else {
                        plain(&new)
                    };
                }
                (Some(span), Value::String(text)) => {
                    if text.get(span.clone()) == Some(u.reference.as_str()) {
                        text.replace_range(span.clone(), &new);
                    }
                }
                (Some(_), _) => {}
            }
        }
    }
}

fn node_mut<'a>(object: &'a mut Map, steps: &[Step]) -> Option<&'a mut Value> {
    let (first, rest) = steps.split_first()?;
    let Step::Key(key) = first else {
        return None;
    };
    let mut node = object.get_mut(key)?;
    for step in rest {
        node = match (step, node) {
            (Step::Key(k), Value::Map(m)) => m.get_mut(k)?,
            (Step::Index(i), Value::Seq(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The `images` field-spec table, paths split once.
struct Table<'a> {
    specs: Vec<(&'a FieldSpec, Vec<String>)>,
}

impl<'a> Table<'a> {
    fn new(specs: &'a [FieldSpec]) -> Self {
        Table {
            specs: specs
                .iter()
                .map(|s| {
                    let keys = split_path(&s.path)
                        .into_iter()
                        .map(|k| k.strip_suffix("[]").unwrap_or(&k).to_owned())
                        .collect();
                    (s, keys)
                })
                .collect(),
        }
    }
}

/// What one object needs while it is walked.
struct Walk<'t> {
    id: ResId,
    gvk: Gvk,
    skipped: bool,
    table: Vec<&'t [String]>,
    deep: bool,
    steps: Vec<Step>,
}

fn scan_object(object: &Map, table: &Table<'_>, deep: bool, out: &mut Vec<ImageUse>) {
    let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or("");
    let gvk = Gvk::from_api_version(text("apiVersion"), text("kind"));
    let metadata = object.get("metadata");
    let meta = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let id = ResId {
        gvk: gvk.clone(),
        name: meta("name").into(),
        namespace: meta("namespace").into(),
    };
    let mut walk = Walk {
        id,
        skipped: gvk.kind == SKIPPED_KIND,
        table: table
            .specs
            .iter()
            .filter(|(s, _)| s.selects(&gvk))
            .map(|(_, keys)| keys.as_slice())
            .collect(),
        gvk,
        deep,
        steps: Vec::new(),
    };
    walk_map(object, &mut walk, out);
}

fn walk_map(map: &Map, walk: &mut Walk<'_>, out: &mut Vec<ImageUse>) {
    for (key, value) in map {
        walk.steps.push(Step::Key(key.to_string()));
        match value {
            Value::Map(m) => walk_map(m, walk, out),
            Value::Seq(items) => walk_seq(items, walk, out),
            scalar => {
                let hint = match key.as_str() {
                    // An env var's name tells what its value is.
                    "value" => map.get("name").and_then(Value::as_str),
                    _ => Some(key.as_str()),
                };
                leaf(scalar, hint, walk, out);
            }
        }
        walk.steps.pop();
    }
}

fn walk_seq(items: &[Value], walk: &mut Walk<'_>, out: &mut Vec<ImageUse>) {
    for (i, item) in items.iter().enumerate() {
        walk.steps.push(Step::Index(i));
        match item {
            Value::Map(m) => walk_map(m, walk, out),
            Value::Seq(inner) => walk_seq(inner, walk, out),
            scalar => {
                // `--image X`: the flag before an argument names it.
                let hint = i
                    .checked_sub(1)
                    .and_then(|p| items.get(p))
                    .and_then(Value::as_str)
                    .filter(|prev| prev.starts_with('-'));
                leaf(scalar, hint, walk, out);
            }
        }
        walk.steps.pop();
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Uint(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

fn leaf(value: &Value, hint: Option<&str>, walk: &Walk<'_>, out: &mut Vec<ImageUse>) {
    let Some(text) = scalar_text(value) else {
        return;
    };
    let found = if reachable(walk) {
        let nameable = ImageName::parse(&text).is_none_or(|i| i.transformer_nameable());
        Some(if nameable {
            Found::Field
        } else {
            Found::Unnameable
        })
    } else if matches!(walk.steps.last(), Some(Step::Key(k)) if k == "image") {
        Some(Found::ImageKey)
    } else {
        None
    };
    if let Some(found) = found {
        out.push(ImageUse {
            id: walk.id.clone(),
            path: display(&walk.steps),
            reference: text,
            found,
            steps: walk.steps.clone(),
            span: None,
        });
        return;
    }
    if !walk.deep || !is_deep_source(walk) {
        return;
    }
    let Value::String(text) = value else {
        return;
    };
    for (span, reference) in scan_text(text, hint) {
        out.push(ImageUse {
            id: walk.id.clone(),
            path: display(&walk.steps),
            reference,
            found: Found::Text,
            steps: walk.steps.clone(),
            span: Some(span),
        });
    }
}

/// Whether the images transformer reaches the node at `walk.steps`.
fn reachable(walk: &Walk<'_>) -> bool {
    if walk.skipped {
        return false;
    }
    let legacy = matches!(
        walk.steps.as_slice(),
        [.., Step::Key(list), Step::Index(_), Step::Key(image)]
            if image == "image" && LEGACY_LISTS.contains(&list.as_str())
    );
    if legacy {
        return true;
    }
    // A field spec enters lists without consuming a path segment, so the node
    // is reached when the keys on its way are exactly the spec's segments.
    walk.table.iter().any(|keys| {
        let mut path_keys = walk.steps.iter().filter_map(|s| match s {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        });
        keys.iter().all(|k| path_keys.next() == Some(k.as_str())) && path_keys.next().is_none()
    })
}

/// Whether strings at `walk.steps` are scanned for images: ConfigMap data,
/// env values, argument and command items.
fn is_deep_source(walk: &Walk<'_>) -> bool {
    match walk.steps.as_slice() {
        [Step::Key(data), Step::Key(_)] => {
            data == "data" && walk.gvk.kind == "ConfigMap" && walk.gvk.group.is_empty()
        }
        [.., Step::Key(env), Step::Index(_), Step::Key(value)] => env == "env" && value == "value",
        [.., Step::Key(list), Step::Index(_)] => list == "args" || list == "command",
        _ => false,
    }
}

/// `spec/containers[0]/image`; a `/` inside a key is written `\/`.
fn display(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(&k.replace('/', "\\/"));
            }
            Step::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

fn is_reference_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | ':' | '@' | '-')
}

/// Whether `word` names an image (`image`, `queueSidecarImage`, `--kfp-image`,
/// `ARGO_IMAGE`).
fn names_an_image(word: &str) -> bool {
    word.len() >= 5
        && word
            .get(word.len() - 5..)
            .is_some_and(|end| end.eq_ignore_ascii_case("image"))
}

/// The image-like strings in `text`, with their byte ranges. `hint` is the key
/// the whole text sits under (a data key, an env var's name, a preceding flag).
fn scan_text(text: &str, hint: Option<&str>) -> Vec<(Range<usize>, String)> {
    let mut found = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !is_reference_char(c) {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            if !is_reference_char(c) {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        let Some(run) = text.get(start..end) else {
            continue;
        };
        // A YAML key's colon or a sentence's full stop is not part of it.
        let trimmed = run.trim_end_matches([':', '.']);
        let candidate = trimmed.trim_start_matches('-');
        let from = start + (trimmed.len() - candidate.len());
        let to = start + trimmed.len();
        if candidate.is_empty()
            || !candidate.starts_with(|c: char| c.is_ascii_alphanumeric())
            || candidate.contains("://")
        {
            continue;
        }
        let before = text.get(..from).unwrap_or("");
        let after = text.get(to..).unwrap_or("");
        // Pieces of templates (`{{ .Values.hub }}/x:{{ .Values.tag }}`, `${X}`).
        if before.ends_with(['{', '}', '$', '%']) || after.starts_with(['{', '}']) {
            continue;
        }
        let Some(image) = ImageName::parse(candidate) else {
            continue;
        };
        let versioned = image.tag.is_some() || image.digest.is_some();
        let strong = !image.host.is_empty() && versioned;
        // After a key, a single bare word (`"image": "proxyv2"`, which Istio
        // joins with a hub and a tag) is too weak: a `/` or a version is needed.
        let plausible = versioned || image.path.contains('/') || !image.host.is_empty();
        let keyed_by_text = {
            let separators = [' ', '\t', '"', '\'', ':', '='];
            let head = before.trim_end_matches(separators);
            let gap = before.get(head.len()..).unwrap_or("");
            let word_start = head
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
                .map_or(0, |i| i + 1);
            // A key needs its `:` or `=`: "the Image for ..." is prose.
            gap.contains([':', '=']) && names_an_image(head.get(word_start..).unwrap_or(""))
        };
        let keyed_by_hint = text.trim() == candidate && hint.is_some_and(names_an_image);
        if strong || (plausible && (keyed_by_text || keyed_by_hint)) {
            found.push((from..to, candidate.to_owned()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(text: &str, hint: Option<&str>) -> Vec<String> {
        scan_text(text, hint).into_iter().map(|(_, r)| r).collect()
    }

    #[test]
    fn text_scan_finds_hosted_tagged_and_keyed_images() {
        assert_eq!(
            refs(
                "queueSidecarImage: gcr.io/k/queue@sha256:0123456789abcdef0123456789abcdef",
                None
            ),
            ["gcr.io/k/queue@sha256:0123456789abcdef0123456789abcdef"]
        );
        assert_eq!(
            refs(
                "{\"image\": \"python:3.7\", \"x\": \"kubeflow.org/v1\"}",
                None
            ),
            ["python:3.7"]
        );
        assert_eq!(
            refs(
                "mpioperator/kubectl-delivery:latest",
                Some("kubectl-delivery-image")
            ),
            ["mpioperator/kubectl-delivery:latest"]
        );
        assert_eq!(
            refs("mpioperator/kubectl-delivery:latest", Some("delivery")),
            Vec::<String>::new()
        );
        assert_eq!(refs("--kfp-image=gcr.io/a/b:1", None), ["gcr.io/a/b:1"]);
        assert_eq!(refs("--executor-image=argoexec:v3", None), ["argoexec:v3"]);
        assert_eq!(refs("imagePullPolicy: always", None), Vec::<String>::new());
        assert_eq!(
            refs("# The container Image for the user", None),
            Vec::<String>::new()
        );
        assert_eq!(refs("\"image\": \"proxyv2\",", None), Vec::<String>::new());
        assert_eq!(
            refs("\"image\" : \"kfserving/xgbserver\",", None),
            ["kfserving/xgbserver"]
        );
    }

    #[test]
    fn text_scan_skips_templates_urls_and_paths() {
        for text in [
            "image: \"{{ .Values.global.hub }}/{{ .Values.global.proxy.image }}:{{ .Values.global.tag }}\"",
            "see https://gcr.io/a/b:1 for details",
            "ko://knative.dev/serving/cmd/queue",
            "apiVersion: kubeflow.org/v1",
            "/usr/bin/tool:1",
            "image: ${IMAGE}",
        ] {
            assert_eq!(refs(text, None), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn spans_point_at_the_reference() {
        let text = "a: gcr.io/x/y:1.\nimage: library/nginx\n";
        for (span, reference) in scan_text(text, None) {
            assert_eq!(text.get(span), Some(reference.as_str()));
        }
        assert_eq!(refs(text, None), ["gcr.io/x/y:1", "library/nginx"]);
    }
}
