//! Accumulation: building one kustomization directory into a [`ResMap`].
//!
//! For each directory, in kustomize's order: load `resources` (files and, by
//! recursion, other kustomization directories, each built completely on its own),
//! then apply `components` (each runs over everything accumulated so far), then run
//! this kustomization's transformers. The top-level steps after that (reference
//! fixing, dropping local-config objects, sorting) live in [`crate::build`].

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use rustomize_yaml::{Map, ParseLimits, Value};

use crate::error::Error;
use crate::fieldspecs::FieldSpecTables;
use crate::load::kustomization::Kustomization;
use crate::load::{Entry, Loader};
use crate::resmap::ResMap;
use crate::resource::Resource;
use crate::transform;

/// State shared by every directory of one build (no global state: builds run
/// independently, in parallel if the embedder wishes).
pub struct BuildContext {
    /// Deprecation warnings, in the order kustomize prints them.
    pub warnings: Vec<String>,
    /// Parser limits.
    pub limits: ParseLimits,
    /// Default field-spec tables.
    pub tables: FieldSpecTables,
}

/// Loads the kustomization of `loader`'s root.
pub fn load_kustomization(loader: &Loader, cx: &mut BuildContext) -> Result<Kustomization, Error> {
    let (path, text) = loader.read_kustomization()?;
    let k = Kustomization::parse(&path, &text)?;
    cx.warnings.extend(k.warnings.iter().cloned());
    Ok(k)
}

/// Builds the top-level directory, which may also be a Component.
pub fn build_root(
    loader: &Loader,
    cx: &mut BuildContext,
) -> Result<(Kustomization, ResMap), Error> {
    let k = load_kustomization(loader, cx)?;
    let resources = accumulate(loader, &k, ResMap::new(), cx)?;
    Ok((k, resources))
}

/// Builds a (non-component) kustomization directory named in `resources`.
pub fn build_dir(loader: &Loader, cx: &mut BuildContext) -> Result<(Kustomization, ResMap), Error> {
    let k = load_kustomization(loader, cx)?;
    if k.kind == "Component" {
        return Err(Error::Kustomization {
            path: k.path.clone(),
            message: "expected kind != 'Component': a Component must be listed under 'components'"
                .to_owned(),
        });
    }
    let resources = accumulate(loader, &k, ResMap::new(), cx)?;
    Ok((k, resources))
}

/// Accumulates `k` on top of `resources` (empty for a kustomization, the parent's
/// resources for a component).
fn accumulate(
    loader: &Loader,
    k: &Kustomization,
    mut resources: ResMap,
    cx: &mut BuildContext,
) -> Result<ResMap, Error> {
    for entry in &k.resources {
        match loader.entry(&k.path, entry)? {
            Entry::File(path, text) => {
                for resource in resources_from_text(&path, &text, &cx.limits)? {
                    resources.append(resource, &path)?;
                }
            }
            Entry::Dir(child) => {
                let (_, sub) = build_dir(&child, cx)?;
                resources.append_all(sub, &k.path)?;
            }
        }
    }
    for entry in &k.components {
        let child = loader.component(&k.path, entry)?;
        let ck = load_kustomization(&child, cx)?;
        if ck.kind != "Component" {
            return Err(Error::Kustomization {
                path: ck.path.clone(),
                message: format!(
                    "expected kind 'Component' for path '{entry}' but got '{}'",
                    ck.kind
                ),
            });
        }
        resources = accumulate(&child, &ck, resources, cx)?;
    }
    let env = transform::Env {
        kustomization: k,
        loader,
        tables: &cx.tables,
        schema: crate::schema::MergeSchema::builtin(),
        limits: &cx.limits,
    };
    transform::run(&env, &mut resources)?;
    Ok(resources)
}

/// Reads the resources of one YAML (or JSON) file: empty documents are skipped,
/// every other document must be an object with `kind` and `metadata.name`, and
/// `*List` kinds with `items` are expanded (their items go after the file's other
/// documents, as in kustomize).
pub fn resources_from_text(
    path: &Path,
    text: &str,
    limits: &ParseLimits,
) -> Result<Vec<Resource>, Error> {
    let docs = rustomize_yaml::parse_documents(text, limits).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        message: e.message,
    })?;
    let bad = |message: String| Error::Resource {
        path: path.to_path_buf(),
        message,
    };
    let origin: Arc<Path> = Arc::from(path);
    let mut queue: VecDeque<Value> = docs.into();
    let mut out = Vec::new();
    while let Some(doc) = queue.pop_front() {
        let map = match doc {
            Value::Null => continue,
            Value::Map(m) if m.is_empty() => continue,
            Value::Map(m) => m,
            other => {
                return Err(bad(format!(
                    "expected a mapping (a Kubernetes object), found a {}",
                    other.type_name()
                )))
            }
        };
        let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind.is_empty() {
            return Err(bad("missing kind in object".to_owned()));
        }
        if kind.ends_with("List") {
            match map.get("items") {
                None => {}
                Some(Value::Null) => continue,
                Some(Value::Seq(items)) => {
                    queue.extend(items.iter().cloned());
                    continue;
                }
                Some(other) => {
                    return Err(bad(format!(
                        "expected array in {kind}/items, but found a {}",
                        other.type_name()
                    )))
                }
            }
        } else {
            let name = map
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if name.is_empty() {
                return Err(bad(format!(
                    "missing metadata.name in object of kind {kind}"
                )));
            }
        }
        if has_null_in_list(&map) {
            return Err(bad("empty item in a list".to_owned()));
        }
        out.push(Resource::new(map, origin.clone()));
    }
    Ok(out)
}

fn has_null_in_list(map: &Map) -> bool {
    fn walk(v: &Value) -> bool {
        match v {
            Value::Seq(items) => items.iter().any(|i| i.is_null() || walk(i)),
            Value::Map(m) => m.values().any(walk),
            _ => false,
        }
    }
    map.values().any(walk)
}
