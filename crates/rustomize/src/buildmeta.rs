//! `buildMetadata`: where each resource came from and what changed it.
//!
//! kustomize keeps this bookkeeping in ordinary annotations while it builds, so
//! patches, replacements and vars see it like any other annotation:
//!
//! - `config.kubernetes.io/origin`: the file a resource was read from
//!   (`path`, relative to the top kustomization), or for generated resources
//!   the kustomization file and builtin generator that made it
//!   (`configuredIn`, `configuredBy`);
//! - `alpha.config.kubernetes.io/transformations`: one entry per builtin
//!   transformer instance that ran over the resource, in order. Every instance
//!   counts, whether or not it changed the resource.
//!
//! Tracking is on for the whole build as soon as the top kustomization lists
//! any `buildMetadata` option; a nested kustomization's own list is replaced by
//! the top one's, as in kustomize. At the end ([`finish`]) the annotations
//! whose options are not listed are removed (also when the input carried
//! them), and `managedByLabel` (or [`crate::BuildOptions::managed_by_label`])
//! adds the `app.kubernetes.io/managed-by` label.

use rustomize_yaml::{Map, Value};

use crate::fieldspec::FieldSpec;
use crate::resource::Resource;

/// The annotation recording where a resource came from.
pub const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";
/// The annotation listing the transformers that ran over a resource.
pub const TRANSFORMATIONS_ANNOTATION: &str = "alpha.config.kubernetes.io/transformations";
/// The label `managedByLabel` adds.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The label's value `kubectl kustomize` (v1.32, kustomize v5.5.0) prints: its
/// kustomize reports its version as `(devel)`.
pub const DEFAULT_MANAGED_BY: &str = "kustomize-(devel)";

/// The `buildMetadata` option that keeps origin annotations.
pub const OPTION_ORIGIN: &str = "originAnnotations";
/// The `buildMetadata` option that keeps transformer annotations.
pub const OPTION_TRANSFORMER: &str = "transformerAnnotations";
/// The `buildMetadata` option that adds the managed-by label.
pub const OPTION_MANAGED_BY: &str = "managedByLabel";

/// One origin (kustomize's `resource.Origin`), written in its field order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The file, relative to the top kustomization's directory.
    pub path: String,
    /// The remote repository the resource came from (its clone URL, as
    /// written: a mirror never shows here).
    pub repo: String,
    /// The remote's ref.
    pub git_ref: String,
    /// The kustomization file configuring the generator or transformer.
    pub configured_in: String,
    /// `configuredBy`: apiVersion, kind, name, namespace.
    pub configured_by: [String; 4],
}

const BY_KEYS: [&str; 4] = ["apiVersion", "kind", "name", "namespace"];

impl Origin {
    /// The origin of a resource read from `path`.
    pub fn file(path: String) -> Origin {
        Origin {
            path,
            ..Origin::default()
        }
    }

    /// The origin of a builtin generator or transformer of `kind` configured in
    /// the kustomization file `configured_in` names (see
    /// [`OriginDir::configured_in`]).
    pub fn builtin(configured_in: &Origin, kind: &str) -> Origin {
        Origin {
            configured_by: [
                "builtin".to_owned(),
                kind.to_owned(),
                String::new(),
                String::new(),
            ],
            ..configured_in.clone()
        }
    }

    /// Lines of the origin as kyaml marshals it, each without its newline.
    fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (key, value) in [
            ("path", &self.path),
            ("repo", &self.repo),
            ("ref", &self.git_ref),
            ("configuredIn", &self.configured_in),
        ] {
            if !value.is_empty() {
                out.push(format!("{key}: {}", scalar(value)));
            }
        }
        if self.configured_by.iter().any(|v| !v.is_empty()) {
            out.push("configuredBy:".to_owned());
            for (key, value) in BY_KEYS.iter().zip(&self.configured_by) {
                if !value.is_empty() {
                    out.push(format!("  {key}: {}", scalar(value)));
                }
            }
        }
        out
    }

    /// The annotation text of one origin.
    pub fn to_yaml(&self) -> String {
        let lines = self.lines();
        if lines.is_empty() {
            return "{}\n".to_owned();
        }
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    fn from_value(value: &Value) -> Result<Origin, String> {
        let mut origin = Origin::default();
        let Value::Map(m) = value else {
            return Err(format!("expected a mapping, found a {}", value.type_name()));
        };
        let text = |m: &Map, key: &str| -> Result<String, String> {
            match m.get(key) {
                None | Some(Value::Null) | Some(Value::Empty) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.to_string()),
                Some(other) => Err(format!(
                    "field '{key}': expected a string, found a {}",
                    other.type_name()
                )),
            }
        };
        origin.path = text(m, "path")?;
        origin.repo = text(m, "repo")?;
        origin.git_ref = text(m, "ref")?;
        origin.configured_in = text(m, "configuredIn")?;
        match m.get("configuredBy") {
            None | Some(Value::Null) | Some(Value::Empty) => {}
            Some(Value::Map(by)) => {
                for (slot, key) in origin.configured_by.iter_mut().zip(BY_KEYS) {
                    *slot = text(by, key)?;
                }
            }
            Some(other) => {
                return Err(format!(
                    "field 'configuredBy': expected a mapping, found a {}",
                    other.type_name()
                ))
            }
        }
        Ok(origin)
    }
}

/// A string as kyaml writes it after a key: plain when it can be, else quoted.
fn scalar(text: &str) -> String {
    let mut m = Map::default();
    m.insert("k", Value::string(text));
    let mut out = String::new();
    rustomize_yaml::write_document(&Value::Map(m), &mut out);
    match out.strip_prefix("k: ").and_then(|s| s.strip_suffix('\n')) {
        Some(s) if !s.contains('\n') => s.to_owned(),
        // Folded or block output does not fit on the key's line.
        _ => format!("{text:?}"),
    }
}

/// The text of a list of transformations, as kyaml marshals it.
fn transformations_yaml(list: &[Origin]) -> String {
    let mut out = String::new();
    for origin in list {
        let lines = origin.lines();
        if lines.is_empty() {
            out.push_str("- {}\n");
            continue;
        }
        for (i, line) in lines.iter().enumerate() {
            out.push_str(if i == 0 { "- " } else { "  " });
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Where the kustomization being built sits, as origins name it
/// (kustomize's `resource.Origin` while it is being appended to): its
/// directory relative to the top kustomization's, or, inside a remote base,
/// relative to the repository's root together with the repository and ref.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OriginDir {
    /// The directory (`""`: the top kustomization's, or the repository root).
    pub dir: String,
    /// The repository's clone URL (`""`: local).
    pub repo: String,
    /// The repository's ref.
    pub git_ref: String,
}

impl OriginDir {
    /// The location of `entry` below this one (kustomize's `Origin.Append`): a
    /// remote reference starts over at its repository, with the directory
    /// inside it; anything else is joined to the directory.
    pub fn join(&self, entry: &str) -> OriginDir {
        match crate::remote::url::parse_repo_spec(entry) {
            Ok(spec) => OriginDir {
                dir: clean(&spec.kust_root),
                repo: spec.clone_spec(),
                git_ref: spec.git_ref,
            },
            Err(_) => OriginDir {
                dir: join(&self.dir, entry),
                ..self.clone()
            },
        }
    }

    /// The origin of resources read from the file `entry`.
    pub fn file(&self, entry: &str) -> Origin {
        let at = self.join(entry);
        Origin {
            path: at.dir,
            repo: at.repo,
            git_ref: at.git_ref,
            ..Origin::default()
        }
    }

    /// The origin naming the kustomization file `file_name` of this directory
    /// as `configuredIn` (for generators and transformers it configures).
    pub fn configured_in(&self, file_name: &str) -> Origin {
        Origin {
            configured_in: join(&self.dir, file_name),
            repo: self.repo.clone(),
            git_ref: self.git_ref.clone(),
            ..Origin::default()
        }
    }
}

/// `filepath.Join` of Go: the non-empty parts joined by `/`, then cleaned.
pub fn join(base: &str, path: &str) -> String {
    let joined = match (base.is_empty(), path.is_empty()) {
        (true, true) => return String::new(),
        (true, false) => path.to_owned(),
        (false, true) => base.to_owned(),
        (false, false) => format!("{base}/{path}"),
    };
    clean(&joined)
}

/// Go's `filepath.Clean` for `/`-separated paths.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

fn annotations_mut(r: &mut Resource) -> Option<&mut Map> {
    let Some(Value::Map(meta)) = r.object_mut().get_mut("metadata") else {
        return None;
    };
    let slot = meta
        .entry("annotations")
        .or_insert_with(|| Value::Map(Map::default()));
    if !matches!(slot, Value::Map(_)) {
        *slot = Value::Map(Map::default());
    }
    match slot {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

fn annotation<'a>(r: &'a Resource, key: &str) -> Option<&'a Value> {
    r.object()
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(key))
}

/// Sets a resource's origin (files: always, as kustomize annotates every
/// resource read from a file).
pub fn set_origin(r: &mut Resource, origin: &Origin) {
    if let Some(a) = annotations_mut(r) {
        a.insert(
            ORIGIN_ANNOTATION.to_owned(),
            Value::string(origin.to_yaml()),
        );
    }
}

/// A resource's origin annotation, read (None when it has none).
pub fn origin_of(r: &Resource) -> Result<Option<Origin>, String> {
    let Some(value) = annotation(r, ORIGIN_ANNOTATION) else {
        return Ok(None);
    };
    let Value::String(text) = value else {
        return Err(format!(
            "annotation '{ORIGIN_ANNOTATION}': expected text, found a {}",
            value.type_name()
        ));
    };
    let docs = rustomize_yaml::parse_documents(text, &Default::default())
        .map_err(|e| format!("annotation '{ORIGIN_ANNOTATION}': {}", e.message))?;
    match docs.into_iter().next() {
        None | Some(Value::Null) | Some(Value::Empty) => Ok(Some(Origin::default())),
        Some(doc) => Origin::from_value(&doc)
            .map(Some)
            .map_err(|cause| format!("annotation '{ORIGIN_ANNOTATION}': {cause}")),
    }
}

/// Sets the origin of a generated resource unless it already has one.
pub fn set_generator_origin(r: &mut Resource, origin: &Origin) {
    if annotation(r, ORIGIN_ANNOTATION).is_none() {
        set_origin(r, origin);
    }
}

/// Records that `count` instances of a builtin transformer ran over every
/// resource: each is appended to the resource's transformations, or becomes
/// its origin when it has none (kustomize assumes the transformer made it).
pub fn record_transformer(
    resources: &mut [Resource],
    origin: &Origin,
    count: usize,
) -> Result<(), String> {
    for _ in 0..count {
        for r in resources.iter_mut() {
            if annotation(r, ORIGIN_ANNOTATION).is_none() {
                set_origin(r, origin);
                continue;
            }
            let mut list = match annotation(r, TRANSFORMATIONS_ANNOTATION) {
                None => Vec::new(),
                Some(value) => parse_transformations(value).map_err(|cause| {
                    format!(
                        "{}: invalid annotation '{TRANSFORMATIONS_ANNOTATION}': {cause}",
                        r.id()
                    )
                })?,
            };
            list.push(origin.clone());
            if let Some(a) = annotations_mut(r) {
                a.insert(
                    TRANSFORMATIONS_ANNOTATION.to_owned(),
                    Value::string(transformations_yaml(&list)),
                );
            }
        }
    }
    Ok(())
}

fn parse_transformations(value: &Value) -> Result<Vec<Origin>, String> {
    let Value::String(text) = value else {
        return Err(format!("expected text, found a {}", value.type_name()));
    };
    let docs = rustomize_yaml::parse_documents(text, &Default::default()).map_err(|e| e.message)?;
    match docs.into_iter().next() {
        None | Some(Value::Null) | Some(Value::Empty) => Ok(Vec::new()),
        Some(Value::Seq(items)) => items.iter().map(Origin::from_value).collect(),
        Some(other) => Err(format!("expected a list, found a {}", other.type_name())),
    }
}

/// The end of a build, part one: the managed-by label when asked for. The
/// removal of the annotations whose `buildMetadata` option is not listed is
/// [`strip_annotations`], made per resource in the build's last pass over
/// them (labels and annotations are apart: the two commute).
pub fn label(resources: &mut [Resource], managed_by: Option<&str>) -> Result<(), String> {
    if let Some(value) = managed_by {
        crate::transform::set_pairs(
            resources,
            &[(MANAGED_BY_LABEL.to_owned(), value.to_owned())],
            &[FieldSpec::new("", "", "", "metadata/labels", true)],
        )?;
    }
    Ok(())
}

/// The bookkeeping annotations a build with `buildMetadata` options
/// `options` removes from every resource.
pub fn annotations_to_strip(options: &[String]) -> Vec<&'static str> {
    let has = |o: &str| options.iter().any(|x| x == o);
    let mut remove = Vec::new();
    if !has(OPTION_ORIGIN) {
        remove.push(ORIGIN_ANNOTATION);
    }
    if !has(OPTION_TRANSFORMER) {
        remove.push(TRANSFORMATIONS_ANNOTATION);
    }
    remove
}

/// Removes the annotations `remove` (from [`annotations_to_strip`]) from
/// `r`, and `annotations` itself if that empties it.
pub fn strip_annotations(r: &mut Resource, remove: &[&str]) {
    if remove.is_empty() {
        return;
    }
    // Annotations are no part of the id: the cached one stays (dropping
    // it here made every id be built again, 70 ms at 100k resources).
    r.edit_where(false, |object| {
        let Some(Value::Map(meta)) = object.get_mut("metadata") else {
            return;
        };
        let Some(Value::Map(a)) = meta.get_mut("annotations") else {
            return;
        };
        let mut changed = false;
        for key in remove {
            changed |= a.shift_remove(*key).is_some();
        }
        if changed && a.is_empty() {
            meta.shift_remove("annotations");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_like_go() {
        assert_eq!(join("", "dep.yaml"), "dep.yaml");
        assert_eq!(join("", "./dep.yaml"), "dep.yaml");
        assert_eq!(join("../base", "dep.yaml"), "../base/dep.yaml");
        assert_eq!(join("a/b", "../../../c"), "../c");
        assert_eq!(join("", "/abs/x"), "/abs/x");
        assert_eq!(join("/", "../x"), "/x");
        assert_eq!(join("a", ".."), ".");
    }

    #[test]
    fn writes_origins_in_field_order() {
        let o = Origin::builtin(
            &OriginDir::default().configured_in("../base/kustomization.yaml"),
            "ConfigMapGenerator",
        );
        assert_eq!(
            o.to_yaml(),
            "configuredIn: ../base/kustomization.yaml\nconfiguredBy:\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n"
        );
        assert_eq!(
            Origin::file("dep.yaml".into()).to_yaml(),
            "path: dep.yaml\n"
        );
        let list = transformations_yaml(std::slice::from_ref(&o));
        let back = parse_transformations(&Value::string(list)).unwrap_or_default();
        assert_eq!(back, vec![o]);
    }
}
