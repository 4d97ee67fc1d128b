//! Accumulation: building one kustomization directory into a [`ResMap`].
//!
//! For each directory, in kustomize's order: load `resources` (files and, by
//! recursion, other kustomization directories, each built completely on its own),
//! then apply `components` (each runs over everything accumulated so far), then run
//! this kustomization's transformers. The top-level steps after that (reference
//! fixing, dropping local-config objects, sorting) live in [`crate::build`].

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustomize_yaml::{ParseLimits, Value};

use crate::error::Error;
use crate::load::kustomization::Kustomization;
use crate::load::{Entry, Loader};
use crate::parallel::Pool;
use crate::resmap::ResMap;
use crate::resource::Resource;
use crate::schema::MergeSchema;
use crate::tables::field_specs::FieldSpecTables;
use crate::transform;

/// The one built-in OpenAPI version kustomize v5.5.0 embeds.
const BUILTIN_OPENAPI_VERSION: &str = "v1.21.2";

/// Which merge schema strategic merge patches use.
#[derive(Clone)]
pub enum SchemaChoice {
    /// The built-in Kubernetes schema.
    Builtin,
    /// A kustomization's `openapi: {path: ...}` schema, which replaces the built-in one.
    Custom(Arc<MergeSchema>),
}

impl SchemaChoice {
    /// The schema.
    pub fn get(&self) -> &MergeSchema {
        match self {
            SchemaChoice::Builtin => MergeSchema::builtin(),
            SchemaChoice::Custom(s) => s,
        }
    }
}

/// State shared by every directory of one build (no global state: builds run
/// independently, in parallel if the embedder wishes).
pub struct BuildContext {
    /// Deprecation warnings, in the order kustomize prints them.
    pub warnings: Vec<String>,
    /// Parser limits.
    pub limits: ParseLimits,
    /// The merge schema in force.
    pub schema: SchemaChoice,
    /// Whether a kustomization chose the schema (the first one to do so wins for
    /// the rest of the build, as in kustomize).
    pub schema_chosen: bool,
    /// The build's threads (its pool, or none for a sequential build).
    pub threads: Arc<Pool>,
    /// Exec plugins and KRM functions (off unless enabled).
    pub exec: Arc<crate::exec::ExecOptions>,
    /// Helm, for the charts of this build.
    pub helm: Arc<crate::generate::helm::HelmSession>,
    /// With `buildMetadata` tracking on (see [`crate::buildmeta`]), the path of
    /// the directory being built relative to the top kustomization's.
    pub origin: Option<crate::buildmeta::OriginDir>,
}

impl BuildContext {
    /// A context for an independent job of this build (its warnings are merged
    /// back in order by the caller).
    fn fork(&self) -> BuildContext {
        BuildContext {
            warnings: Vec::new(),
            limits: self.limits.clone(),
            schema: self.schema.clone(),
            schema_chosen: self.schema_chosen,
            threads: self.threads.clone(),
            helm: self.helm.clone(),
            exec: self.exec.clone(),
            origin: self.origin.clone(),
        }
    }
}

/// What one `resources` entry contributed.
enum Piece {
    /// The resources of a file.
    File(PathBuf, Vec<Resource>),
    /// A built directory, with the warnings its build printed and whether it
    /// chose the merge schema.
    Dir(Box<Accumulation>, Vec<String>, bool),
}

/// What accumulating a kustomization produces: resources, and the field-spec
/// tables its transformers (and its parents') use.
#[derive(Clone)]
pub struct Accumulation {
    /// The resources.
    pub resources: ResMap,
    /// The field-spec tables, extended by `crds:` of this tree (shared with
    /// the built-in ones until something extends them).
    pub tables: Arc<FieldSpecTables>,
    /// Vars declared in this tree.
    pub vars: Vec<crate::vars::Var>,
}

impl Accumulation {
    fn new() -> Self {
        Accumulation {
            resources: ResMap::new(),
            tables: FieldSpecTables::builtin(),
            vars: Vec::new(),
        }
    }

    /// Adds what a `configurations:` or `crds:` file brings to the tables
    /// (copying shared tables first), and remembers it as one of their
    /// additions.
    fn add_tables(&mut self, added: Arc<FieldSpecTables>) {
        let tables = Arc::make_mut(&mut self.tables);
        tables.merge(&added);
        tables.additions.push(added);
    }

    /// Merges the tables of a nested accumulation. Every table is the built-in
    /// one with additions merged in order (see [`FieldSpecTables::additions`]),
    /// so merging `other` means merging those of its additions these tables
    /// have not had yet: the same entries in the same order as merging
    /// `other` whole, without comparing the built-in rows again (that was
    /// ~6% of a Kubeflow build, whose components each add `configurations:`).
    /// While these tables are still the built-in ones, `other` is shared.
    fn merge_sub_tables(&mut self, other: &Arc<FieldSpecTables>) {
        if !other.extended || Arc::ptr_eq(&self.tables, other) {
            return;
        }
        if !self.tables.extended {
            self.tables = Arc::clone(other);
            return;
        }
        for added in &other.additions {
            if !self.tables.additions.iter().any(|a| Arc::ptr_eq(a, added)) {
                self.add_tables(Arc::clone(added));
            }
        }
    }
}

/// Loads the kustomization of `loader`'s root.
pub fn load_kustomization(loader: &Loader, cx: &mut BuildContext) -> Result<Kustomization, Error> {
    let (path, text) = loader.read_kustomization()?;
    let k = Kustomization::parse(&path, &text)?;
    cx.warnings.extend(k.warnings.iter().cloned());
    Ok(k)
}

/// Applies a kustomization's `openapi:` field (the top level's always; a nested
/// one's only while no schema was chosen yet).
fn choose_schema(
    loader: &Loader,
    k: &Kustomization,
    cx: &mut BuildContext,
    top: bool,
) -> Result<(), Error> {
    if cx.schema_chosen && !top {
        return Ok(());
    }
    let fail = |message: String| Error::Kustomization {
        path: k.path.clone(),
        message,
    };
    let get = |key: &str| {
        k.openapi
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    match (get("path"), get("version")) {
        (Some(_), Some(_)) => Err(fail(
            "builtin version and custom schema provided, cannot use both".to_owned(),
        )),
        (Some(file), None) => {
            let (path, text) = loader
                .read_file(file)
                .map_err(|e| e.in_field(&k.path, "openapi.path", file))?;
            let docs =
                rustomize_yaml::parse_documents(&text, &cx.limits).map_err(|e| Error::Yaml {
                    path: path.clone(),
                    message: e.message,
                })?;
            let mut schema = MergeSchema::empty();
            if let Some(Value::Map(defs)) = docs.first().and_then(|d| d.get("definitions")) {
                schema.add_definitions(defs);
            }
            cx.schema = SchemaChoice::Custom(Arc::new(schema));
            cx.schema_chosen = true;
            Ok(())
        }
        (None, Some(version)) if !version.is_empty() => {
            if version != BUILTIN_OPENAPI_VERSION {
                return Err(fail(
                    "the specified OpenAPI version is not built in".to_owned(),
                ));
            }
            cx.schema = SchemaChoice::Builtin;
            cx.schema_chosen = true;
            Ok(())
        }
        _ => {
            if top {
                cx.schema_chosen = false;
            }
            Ok(())
        }
    }
}

/// Builds the top-level directory, which may also be a Component.
pub fn build_root(
    loader: &Loader,
    cx: &mut BuildContext,
) -> Result<(Kustomization, Accumulation), Error> {
    let k = load_kustomization(loader, cx)?;
    if !k.build_metadata.is_empty() {
        cx.origin = Some(crate::buildmeta::OriginDir::default());
    }
    choose_schema(loader, &k, cx, true)?;
    let acc = accumulate(loader, &k, Accumulation::new(), cx)?;
    Ok((k, acc))
}

/// Builds a (non-component) kustomization directory named in `resources`.
pub fn build_dir(loader: &Loader, cx: &mut BuildContext) -> Result<Accumulation, Error> {
    let k = load_kustomization(loader, cx)?;
    choose_schema(loader, &k, cx, false)?;
    if k.kind == "Component" {
        return Err(Error::Kustomization {
            path: k.path.clone(),
            message: "expected kind != 'Component': a Component must be listed under 'components'"
                .to_owned(),
        });
    }
    accumulate(loader, &k, Accumulation::new(), cx)
}

/// Accumulates `k` on top of `acc` (empty for a kustomization, the parent's
/// accumulation for a component).
fn accumulate(
    loader: &Loader,
    k: &Kustomization,
    mut acc: Accumulation,
    cx: &mut BuildContext,
) -> Result<Accumulation, Error> {
    // Entries build independently (in parallel when threads allow) and are
    // folded in order. A nested kustomization choosing the merge schema would
    // change what later siblings see, so that rare case is redone in sequence.
    let shared = cx.fork();
    let pieces = cx.threads.run_jobs(k.resources.len(), |i| {
        let mut own = shared.fork();
        k.resources
            .get(i)
            .map(|entry| resource_piece(loader, k, entry, &mut own))
    });
    let chose_schema = pieces
        .iter()
        .any(|p| matches!(p, Some(Ok(Piece::Dir(_, _, true)))));
    if chose_schema {
        for entry in &k.resources {
            let mut own = cx.fork();
            let piece = resource_piece(loader, k, entry, &mut own);
            cx.schema = own.schema.clone();
            cx.schema_chosen = own.schema_chosen;
            fold_piece(k, &mut acc, cx, piece)?;
        }
    } else {
        // Room for every piece at once: growing a vector of many thousand
        // resources by doubling copied it and faulted in fresh pages each time.
        let total: usize = pieces
            .iter()
            .map(|p| match p {
                Some(Ok(Piece::File(_, resources))) => resources.len(),
                Some(Ok(Piece::Dir(sub, _, _))) => sub.resources.len(),
                _ => 0,
            })
            .sum();
        acc.resources.reserve(total);
        for piece in pieces.into_iter().flatten() {
            fold_piece(k, &mut acc, cx, piece)?;
        }
    }
    for file in &k.configurations {
        let (path, text) = loader
            .read_file(file)
            .map_err(|e| e.in_field(&k.path, "configurations", file))?;
        let added = crate::configurations::parse(&path, &text, &cx.limits)?;
        acc.add_tables(Arc::new(added));
    }
    for file in &k.crds {
        let (path, text) = loader
            .read_file(file)
            .map_err(|e| e.in_field(&k.path, "crds", file))?;
        let docs = rustomize_yaml::parse_documents(&text, &cx.limits).map_err(|e| Error::Yaml {
            path: path.clone(),
            message: e.message,
        })?;
        let doc = docs.into_iter().find(|d| !d.is_null()).unwrap_or_default();
        let added =
            crate::crds::config_from_definitions(&doc).map_err(|message| Error::Kustomization {
                path: path.clone(),
                message: format!("unable to parse open API definition: {message}"),
            })?;
        acc.add_tables(Arc::new(added));
    }
    let configured_in = cx.origin.as_ref().map(|o| configured_in(o, k));
    let mut generators =
        crate::plugins::desugar::generators(k, configured_in.as_ref()).map_err(|message| {
            Error::Kustomization {
                path: k.path.clone(),
                message,
            }
        })?;
    generators.extend(crate::plugins::entries::generators(loader, k, cx)?);
    let exec = cx.exec.clone();
    let external = crate::plugins::external::Plugins::new(loader, &exec);
    crate::generate::run(loader, &k.path, &generators, &mut acc, cx, &external)?;
    for entry in &k.components {
        let child = loader.component(&k.path, entry)?;
        let ck = load_kustomization(&child, cx).map_err(|e| in_entry(e, k, "component", entry))?;
        choose_schema(&child, &ck, cx, false)?;
        if ck.kind != "Component" {
            return Err(Error::Kustomization {
                path: ck.path.clone(),
                message: format!(
                    "expected kind 'Component' for path '{entry}' but got '{}'",
                    ck.kind
                ),
            });
        }
        let parent_origin = cx.origin.clone();
        cx.origin = parent_origin.as_ref().map(|o| o.join(entry));
        let built = accumulate(&child, &ck, acc, cx);
        cx.origin = parent_origin;
        acc = built?;
    }
    let mut transformers =
        crate::plugins::desugar::transformers(k, &acc.tables, configured_in.as_ref());
    transformers.extend(crate::plugins::entries::transformers(
        loader,
        k,
        crate::plugins::entries::Field::Transformers,
        cx,
    )?);
    let validators = crate::plugins::entries::transformers(
        loader,
        k,
        crate::plugins::entries::Field::Validators,
        cx,
    )?;
    let schema = cx.schema.clone();
    let external = crate::plugins::external::Plugins::new(loader, &exec);
    let env = transform::Env {
        loader,
        schema: schema.get(),
        limits: &cx.limits,
        external: &external,
        threads: &cx.threads,
    };
    transform::run(&env, &transformers, &mut acc.resources)?;
    for validator in &validators {
        transform::validate(&env, validator, &mut acc.resources)?;
    }
    crate::vars::merge(k, &mut acc)?;
    Ok(acc)
}

/// The kustomization file of `k` as `configuredIn` names it: its name under
/// the directory's origin path.
pub(crate) fn configured_in(
    dir: &crate::buildmeta::OriginDir,
    k: &Kustomization,
) -> crate::buildmeta::Origin {
    let name = k
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.configured_in(&name)
}

/// Loads `entries` as `resources` entries are loaded (files, and directories
/// built), into a list of their own: the plugin configs of `generators:`,
/// `transformers:` and `validators:`.
pub(crate) fn load_entries(
    loader: &Loader,
    k: &Kustomization,
    entries: &[String],
    cx: &mut BuildContext,
) -> Result<Vec<Resource>, Error> {
    let mut acc = Accumulation::new();
    for entry in entries {
        let mut own = cx.fork();
        let piece = resource_piece(loader, k, entry, &mut own);
        fold_piece(k, &mut acc, cx, piece)?;
    }
    Ok(acc.resources.into_resources())
}

/// Loads one `resources` entry: a file's resources, or a directory's build.
fn resource_piece(
    loader: &Loader,
    k: &Kustomization,
    entry: &str,
    cx: &mut BuildContext,
) -> Result<Piece, Error> {
    let mut found = loader.entry(&k.path, entry)?;
    if let Entry::File(path, text) = &found {
        // An http(s) URL that served something other than resources (a
        // forge's HTML page) is read as a git reference when it is one, as
        // kustomize does.
        let remote = crate::remote::url::is_remote_file(entry)
            && crate::remote::url::parse_repo_spec(entry).is_ok();
        if remote && resources_from_text(path, text, &cx.limits).is_err() {
            found = loader.remote_entry(&k.path, entry)?;
        }
    }
    match found {
        Entry::File(path, text) => {
            let mut resources = match loader.run_cache() {
                Some(cache) => cache.resources(&path, &text, &cx.limits)?,
                None => resources_from_text(&path, &text, &cx.limits)?,
            };
            if let Some(dir) = &cx.origin {
                let origin = dir.file(entry);
                for r in &mut resources {
                    crate::buildmeta::set_origin(r, &origin);
                }
            }
            Ok(Piece::File(path, resources))
        }
        Entry::Dir(child) => {
            cx.origin = cx.origin.take().map(|o| o.join(entry));
            let was_chosen = cx.schema_chosen;
            let sub = match crate::cache::build_dir(&child, cx) {
                Some(built) => built,
                None => build_dir(&child, cx),
            }
            .map_err(|e| in_entry(e, k, "resource", entry))?;
            let chose = cx.schema_chosen && !was_chosen;
            // Its ids hashed here, while its resources are in this thread's
            // cache, for the fold into the parent (in sequence, after every
            // entry is built) to take over.
            let mut sub = sub;
            sub.resources.index_ids();
            Ok(Piece::Dir(
                Box::new(sub),
                std::mem::take(&mut cx.warnings),
                chose,
            ))
        }
    }
}

/// A directory named by an entry of `k` that has no kustomization file: the
/// error names the kustomization and the entry, as for a missing file (other
/// errors of the directory's build name their own file already).
fn in_entry(e: Error, k: &Kustomization, field: &str, entry: &str) -> Error {
    match e {
        Error::MissingKustomization(_) => e.in_field(&k.path, field, entry),
        e => e,
    }
}

/// Appends one entry's contribution, in order.
fn fold_piece(
    k: &Kustomization,
    acc: &mut Accumulation,
    cx: &mut BuildContext,
    piece: Result<Piece, Error>,
) -> Result<(), Error> {
    match piece? {
        Piece::File(path, resources) => {
            acc.resources.reserve(resources.len());
            for resource in resources {
                acc.resources.append(resource, &path)?;
            }
        }
        Piece::Dir(sub, warnings, _) => {
            cx.warnings.extend(warnings);
            acc.resources.append_all(sub.resources, &k.path)?;
            acc.merge_sub_tables(&sub.tables);
            acc.vars.extend(sub.vars);
        }
    }
    Ok(())
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
    let mut plain = plain_annotations(text, &docs, limits);
    let queue: VecDeque<(Value, PlainAnnotations)> = docs
        .into_iter()
        .map(|d| {
            (
                d,
                std::mem::take(plain.next().as_mut().unwrap_or(&mut Vec::new())),
            )
        })
        .collect();
    objects(path, queue)
}

/// Resources from values already parsed (a plugin's output), by the rules of
/// [`resources_from_text`].
pub(crate) fn resources_from_values(
    path: &Path,
    values: Vec<Value>,
) -> Result<Vec<Resource>, Error> {
    objects(path, values.into_iter().map(|v| (v, Vec::new())).collect())
}

/// The objects of parsed documents, by kustomize's rules: empty documents
/// skipped, `*List` kinds with `items` expanded (items after the other
/// documents), every other document an object with `kind` and `metadata.name`.
fn objects(
    path: &Path,
    mut queue: VecDeque<(Value, PlainAnnotations)>,
) -> Result<Vec<Resource>, Error> {
    let bad = |message: String| Error::Resource {
        path: path.to_path_buf(),
        message,
    };
    let origin: Arc<Path> = Arc::from(path);
    let mut out = Vec::with_capacity(queue.len());
    while let Some((doc, plain)) = queue.pop_front() {
        let map = match doc {
            Value::Null | Value::Empty => continue,
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
                    queue.extend(items.iter().map(|i| (i.clone(), Vec::new())));
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
        let mut resource = Resource::new(map, origin.clone());
        if !plain.is_empty() {
            resource.plain_annotations = plain.into();
        }
        out.push(resource);
    }
    Ok(out)
}

/// A resource's annotation values kept as plain text: `(key, text, typed)`.
type PlainAnnotations = Vec<(String, String, Value)>;

/// For each document of `docs` (read with [`ParseLimits::annotation_text`]),
/// its annotation values that were plain scalars YAML types as something else
/// than their text, with that typed value. Quoted and plain values look the
/// same in `docs`, so the rare text holding a candidate is read a second time,
/// typed.
fn plain_annotations(
    text: &str,
    docs: &[Value],
    limits: &ParseLimits,
) -> std::vec::IntoIter<PlainAnnotations> {
    fn annotations(doc: &Value) -> Option<&rustomize_yaml::Map> {
        doc.get("metadata")?.get("annotations")?.as_map()
    }
    let candidate = |v: &Value| {
        v.as_str()
            .is_some_and(|s| rustomize_yaml::resolve_plain(s).as_str() != Some(s))
    };
    let any = limits.annotation_text
        && docs
            .iter()
            .filter_map(annotations)
            .any(|a| a.values().any(candidate));
    if !any {
        return Vec::new().into_iter();
    }
    let typed_limits = ParseLimits {
        annotation_text: false,
        ..limits.clone()
    };
    let Ok(typed) = rustomize_yaml::parse_documents(text, &typed_limits) else {
        return Vec::new().into_iter();
    };
    docs.iter()
        .enumerate()
        .map(|(i, doc)| {
            let (Some(raw), Some(typed)) = (annotations(doc), typed.get(i).and_then(annotations))
            else {
                return Vec::new();
            };
            raw.iter()
                .filter_map(|(k, v)| {
                    let text = v.as_str()?;
                    let t = typed.get(k)?;
                    (t.as_str() != Some(text)).then(|| (k.to_string(), text.to_owned(), t.clone()))
                })
                .collect()
        })
        .collect::<Vec<_>>()
        .into_iter()
}
