//! `replacements`: copy the value of one field of one resource into fields of
//! others (kustomize's ReplacementTransformer), the last transformer of a
//! kustomization.
//!
//! Each entry is inline (`source` + `targets`) or a `path:` to a file holding one
//! replacement or a list of them. Per replacement, in order:
//!
//! 1. the **source** is the one resource whose current or any previous id the
//!    source's group/version/kind/name/namespace select (exact matches; none or
//!    several is an error); its `fieldPath` (default `metadata.name`) must hold a
//!    non-empty value, optionally cut out of a string by `options.delimiter` and
//!    `options.index`;
//! 2. each **target** selects resources the same way plus label and annotation
//!    selectors, minus `reject`; every `fieldPaths` entry must reach at least one
//!    node (`*` and `[k=regex]` may reach several; `options.create` makes missing
//!    ones). A scalar target keeps its type and takes the source's *text* (an
//!    int field given `"80"` stays an int; given `hello` the build fails, as
//!    kustomize's does); a mapping or list target is replaced by the source node.
//!    With `options.delimiter`, the text goes into one part of the target's
//!    delimited string (`index` out of range prepends or appends).
//!
//! Field paths are walked by `path`, shared with `crate::vars`.

pub(crate) mod path;

use std::collections::HashMap;
use std::path::Path;

use rustomize_yaml::{Map, Value};

use crate::error::Error;
use crate::load::gojson;
use crate::load::gojson::type_name as go_type;
use crate::load::Loader;
use crate::resource::{effective_namespace, Gvk, ResId, Resource};
use crate::selector::{Matcher, Selector};
use crate::transform::patch_json6902::estimated_size;
use path::CreateKind;

const DEFAULT_FIELD_PATH: &str = "metadata.name";

/// Group/version/kind/name/namespace of a source or target selector (exact
/// values; empty matches anything).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct IdSelector {
    group: String,
    version: String,
    kind: String,
    name: String,
    namespace: String,
}

impl IdSelector {
    fn is_empty(&self) -> bool {
        *self == IdSelector::default()
    }

    fn as_res_id(&self) -> ResId {
        ResId {
            gvk: Gvk {
                group: rustomize_yaml::Str::from(self.group.as_str()),
                version: rustomize_yaml::Str::from(self.version.as_str()),
                kind: rustomize_yaml::Str::from(self.kind.as_str()),
            },
            name: rustomize_yaml::Str::from(self.name.as_str()),
            namespace: rustomize_yaml::Str::from(self.namespace.as_str()),
        }
    }

    /// kyaml's `ResId.IsSelectedBy`.
    fn selects(&self, id: &ResId) -> bool {
        self.selects_parts(
            &id.gvk.group,
            &id.gvk.version,
            &id.gvk.kind,
            &id.name,
            &id.namespace,
        )
    }

    /// [`IdSelector::selects`] over the parts of an id.
    fn selects_parts(
        &self,
        group: &str,
        version: &str,
        kind: &str,
        name: &str,
        namespace: &str,
    ) -> bool {
        (self.name.is_empty() || self.name == name)
            && (self.namespace.is_empty()
                || effective_namespace(&self.group, &self.version, &self.kind, &self.namespace)
                    == effective_namespace(group, version, kind, namespace))
            && (self.group.is_empty() || self.group == group)
            && (self.version.is_empty() || self.version == version)
            && (self.kind.is_empty() || self.kind == kind)
    }

    /// Whether the current id of `r` or one of its previous ids (with the
    /// current group and version, see [`Resource::previous_ids`]) is
    /// selected; borrowed, as this runs for every resource.
    fn selects_any_id_of(&self, r: &Resource) -> bool {
        let gvk = r.gvk();
        self.selects(r.id())
            || r.previous.iter().any(|(name, namespace, kind)| {
                self.selects_parts(&gvk.group, &gvk.version, kind, name, namespace)
            })
    }
}

/// `options` of a source or target.
#[derive(Clone, Debug, Default)]
struct FieldOptions {
    delimiter: String,
    index: i64,
    create: bool,
}

impl FieldOptions {
    fn describe(&self) -> String {
        if self.delimiter.is_empty() && !self.create {
            return String::new();
        }
        format!("{}({}), create={}", self.delimiter, self.index, self.create)
    }
}

#[derive(Clone, Debug, Default)]
struct Source {
    id: IdSelector,
    field_path: String,
    options: FieldOptions,
}

impl Source {
    fn describe(&self) -> String {
        let mut out = self.id.as_res_id().to_string();
        if !self.field_path.is_empty() {
            out.push(':');
            out.push_str(&self.field_path);
        }
        let options = self.options.describe();
        if !options.is_empty() {
            out.push(':');
            out.push_str(&options);
        }
        out
    }
}

#[derive(Clone, Debug, Default)]
struct TargetSelector {
    id: IdSelector,
    label_selector: String,
    annotation_selector: String,
}

impl TargetSelector {
    /// The label/annotation part, compiled.
    fn meta_matcher(&self) -> Result<Matcher, String> {
        Matcher::new(&Selector {
            label_selector: self.label_selector.clone(),
            annotation_selector: self.annotation_selector.clone(),
            ..Selector::default()
        })
    }
}

#[derive(Clone, Debug, Default)]
struct Target {
    select: Option<TargetSelector>,
    reject: Vec<TargetSelector>,
    field_paths: Vec<String>,
    options: FieldOptions,
}

#[derive(Clone, Debug, Default)]
struct Replacement {
    source: Option<Source>,
    targets: Option<Vec<Target>>,
}

/// Applies one `ReplacementTransformer`: `replacements` is the list as written
/// in `file` (decoded strictly when `strict`, i.e. a kustomization field, else
/// leniently as a plugin config). Each copy into a target adds the
/// copied value's estimated size to that resource; a resource may grow to at
/// most `max_document_bytes` (estimated in-memory size), because replacements
/// that copy a field into several places of its own resource, level after
/// level, double it each time.
pub fn apply(
    resources: &mut [Resource],
    replacements: &Value,
    strict: bool,
    file: &Path,
    loader: &Loader,
    max_document_bytes: usize,
) -> Result<(), Error> {
    if replacements.is_null() {
        return Ok(());
    }
    let list = load(replacements, strict, file, loader)?;
    let mut growth = Growth {
        limit: max_document_bytes,
        sizes: HashMap::new(),
        added: 0,
    };
    for r in &list {
        run(resources, r, &mut growth).map_err(|message| Error::Transform {
            path: file.to_path_buf(),
            message: format!("replacements: {message}"),
        })?;
    }
    Ok(())
}

/// Reads the `replacements` field: inline entries (decoded strictly, like the
/// rest of the kustomization) and `path:` files (decoded leniently, as
/// kustomize's plugin config is).
fn load(
    value: &Value,
    strict: bool,
    file: &Path,
    loader: &Loader,
) -> Result<Vec<Replacement>, Error> {
    // `file` is shadowed below by each entry's `path`.
    let kustomization = file;
    let bad = |message: String| Error::Kustomization {
        path: file.to_path_buf(),
        message,
    };
    let items = match value {
        Value::Seq(items) => items,
        other => {
            return Err(bad(format!(
                "field 'replacements': expected a list, found a {}",
                other.type_name()
            )))
        }
    };
    let mut out = Vec::new();
    for item in items {
        let map = match item {
            Value::Map(m) => m,
            Value::Null | Value::Empty => {
                out.push(Replacement::default());
                continue;
            }
            other => {
                return Err(bad(format!(
                    "json: cannot unmarshal {} into Go value of type types.ReplacementField",
                    go_type(other)
                )))
            }
        };
        let file = match map.iter().find(|(key, _)| key.eq_ignore_ascii_case("path")) {
            Some((_, v)) => gojson::string(v, "", "path").map_err(bad)?,
            None => String::new(),
        };
        let inline = Decoder { strict }.replacement(map, true).map_err(bad)?;
        if file.is_empty() {
            out.push(inline);
            continue;
        }
        if inline.source.is_some() || inline.targets.as_ref().is_some_and(|t| !t.is_empty()) {
            return Err(bad(
                "cannot specify both path and inline replacement".to_owned()
            ));
        }
        let (path, text) = loader
            .read_file(&file)
            .map_err(|e| e.in_field(kustomization, "replacements.path", &file))?;
        // Read like a kustomization file: YAML 1.1 typing (`create: yes`).
        let limits = rustomize_yaml::ParseLimits {
            yaml11: true,
            ..Default::default()
        };
        let docs = rustomize_yaml::parse_documents(&text, &limits).map_err(|e| Error::Yaml {
            path: path.clone(),
            message: e.message,
        })?;
        let lenient = Decoder { strict: false };
        let file_err = |message: String| Error::Kustomization {
            path: path.clone(),
            message,
        };
        match docs.into_iter().next().unwrap_or(Value::Null) {
            Value::Seq(entries) => {
                for entry in &entries {
                    match entry {
                        Value::Map(m) => out.push(lenient.replacement(m, false).map_err(file_err)?),
                        Value::Null | Value::Empty => out.push(Replacement::default()),
                        other => {
                            return Err(file_err(format!(
                                "json: cannot unmarshal {} into Go value of type types.Replacement",
                                go_type(other)
                            )))
                        }
                    }
                }
            }
            Value::Map(m) => out.push(lenient.replacement(&m, false).map_err(file_err)?),
            other => {
                return Err(file_err(format!(
                    "unsupported replacement type encountered within replacement path: {}",
                    reflect_kind(&other)
                )))
            }
        }
    }
    Ok(out)
}

/// Go's `reflect.Kind` name of a decoded YAML value.
fn reflect_kind(v: &Value) -> &'static str {
    match v {
        Value::Null | Value::Empty => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Uint(_) | Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::Seq(_) => "slice",
        Value::Map(_) => "map",
    }
}

/// Go-JSON-like decoding of replacement structures: keys match
/// case-insensitively; unknown keys are an error only when `strict`.
struct Decoder {
    strict: bool,
}

impl Decoder {
    /// Calls `f` with the canonical name of each known key of `map`.
    fn fields(
        &self,
        map: &Map,
        known: &[&'static str],
        mut f: impl FnMut(&'static str, &Value) -> Result<(), String>,
    ) -> Result<(), String> {
        for (key, value) in map {
            let field = known
                .iter()
                .find(|k| **k == key)
                .or_else(|| known.iter().find(|k| k.eq_ignore_ascii_case(key)));
            match field {
                Some(name) => f(name, value)?,
                None if self.strict => return Err(format!("json: unknown field \"{key}\"")),
                None => {}
            }
        }
        Ok(())
    }

    fn map<'v>(&self, v: &'v Value, what: &str) -> Result<Option<&'v Map>, String> {
        match v {
            Value::Map(m) => Ok(Some(m)),
            Value::Null | Value::Empty => Ok(None),
            other => Err(format!(
                "json: cannot unmarshal {} into Go value of type {what}",
                go_type(other)
            )),
        }
    }

    fn list<'v>(&self, v: &'v Value, what: &str) -> Result<Option<&'v [Value]>, String> {
        match v {
            Value::Seq(items) => Ok(Some(items)),
            Value::Null | Value::Empty => Ok(None),
            other => Err(format!(
                "json: cannot unmarshal {} into Go value of type {what}",
                go_type(other)
            )),
        }
    }

    /// `in_kustomization`: the entry may also carry `path` (handled by the caller).
    fn replacement(&self, map: &Map, in_kustomization: bool) -> Result<Replacement, String> {
        let mut r = Replacement::default();
        let known: &[&str] = if in_kustomization {
            &["source", "targets", "path"]
        } else {
            &["source", "targets"]
        };
        self.fields(map, known, |field, v| {
            match field {
                "source" => {
                    r.source = match self.map(v, "types.SourceSelector")? {
                        Some(m) => Some(self.source(m)?),
                        None => None,
                    }
                }
                "targets" => {
                    r.targets = match self.list(v, "[]*types.TargetSelector")? {
                        Some(items) => Some(
                            items
                                .iter()
                                .map(|t| match self.map(t, "types.TargetSelector")? {
                                    Some(m) => self.target(m),
                                    None => Err("a target is null".to_owned()),
                                })
                                .collect::<Result<_, _>>()?,
                        ),
                        None => None,
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(r)
    }

    fn id_field(id: &mut IdSelector, field: &str, v: &Value) -> Result<(), String> {
        let s = gojson::string(v, "", field)?;
        match field {
            "group" => id.group = s,
            "version" => id.version = s,
            "kind" => id.kind = s,
            "name" => id.name = s,
            "namespace" => id.namespace = s,
            _ => {}
        }
        Ok(())
    }

    fn source(&self, map: &Map) -> Result<Source, String> {
        let mut s = Source::default();
        self.fields(
            map,
            &[
                "group",
                "version",
                "kind",
                "name",
                "namespace",
                "fieldPath",
                "options",
            ],
            |field, v| match field {
                "fieldPath" => {
                    s.field_path = gojson::string(v, "", "SourceSelector.fieldPath")?;
                    Ok(())
                }
                "options" => {
                    s.options = self.options(v)?;
                    Ok(())
                }
                _ => Self::id_field(&mut s.id, field, v),
            },
        )?;
        Ok(s)
    }

    fn selector(&self, v: &Value) -> Result<Option<TargetSelector>, String> {
        let Some(map) = self.map(v, "types.Selector")? else {
            return Ok(None);
        };
        let mut s = TargetSelector::default();
        self.fields(
            map,
            crate::selector::SELECTOR_FIELDS,
            |field, v| match field {
                "labelSelector" => {
                    s.label_selector = gojson::string(v, "", "Selector.labelSelector")?;
                    Ok(())
                }
                "annotationSelector" => {
                    s.annotation_selector = gojson::string(v, "", "Selector.annotationSelector")?;
                    Ok(())
                }
                _ => Self::id_field(&mut s.id, field, v),
            },
        )?;
        Ok(Some(s))
    }

    fn target(&self, map: &Map) -> Result<Target, String> {
        let mut t = Target::default();
        self.fields(
            map,
            &["select", "reject", "fieldPaths", "options"],
            |field, v| {
                match field {
                    "select" => t.select = self.selector(v)?,
                    "reject" => {
                        for item in self.list(v, "[]*types.Selector")?.unwrap_or_default() {
                            if let Some(s) = self.selector(item)? {
                                t.reject.push(s);
                            }
                        }
                    }
                    "fieldPaths" => {
                        t.field_paths = self
                            .list(v, "[]string")?
                            .unwrap_or_default()
                            .iter()
                            .map(|p| gojson::string(p, "", "TargetSelector.fieldPaths"))
                            .collect::<Result<_, _>>()?
                    }
                    "options" => t.options = self.options(v)?,
                    _ => {}
                }
                Ok(())
            },
        )?;
        Ok(t)
    }

    fn options(&self, v: &Value) -> Result<FieldOptions, String> {
        let mut o = FieldOptions::default();
        let Some(map) = self.map(v, "types.FieldOptions")? else {
            return Ok(o);
        };
        self.fields(
            map,
            &["delimiter", "index", "encoding", "create"],
            |field, v| {
                match field {
                    "delimiter" => o.delimiter = gojson::string(v, "", "FieldOptions.delimiter")?,
                    "encoding" => {
                        gojson::string(v, "", "FieldOptions.encoding")?;
                    }
                    "index" => {
                        o.index = match v {
                            Value::Int(i) => *i,
                            Value::Null | Value::Empty => 0,
                            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => *f as i64,
                            other => {
                                return Err(format!(
                                "json: cannot unmarshal {} into Go struct field FieldOptions.index of type int",
                                go_type(other)
                            ))
                            }
                        }
                    }
                    "create" => {
                        o.create = match v {
                            Value::Bool(b) => *b,
                            Value::Null | Value::Empty => false,
                            other => {
                                return Err(format!(
                                "json: cannot unmarshal {} into Go struct field FieldOptions.create of type bool",
                                go_type(other)
                            ))
                            }
                        }
                    }
                    _ => {}
                }
                Ok(())
            },
        )?;
        Ok(o)
    }
}

/// The value a replacement copies: the node (for mapping and list targets) and
/// its text (for scalar targets).
struct Copied {
    node: Result<Value, String>,
    text: String,
    /// What one copy adds to a target at most (estimated in-memory size).
    size: usize,
}

/// The estimated size of each resource replacements have grown, by index,
/// against the per-document limit. A resource is measured when a copy first
/// lands in it, so kustomizations without replacements pay nothing.
struct Growth {
    limit: usize,
    sizes: HashMap<usize, usize>,
    /// What all copies of this kustomization's replacements added together:
    /// a wildcard target multiplies one copy by every resource it selects.
    added: usize,
}

impl Growth {
    fn add(&mut self, index: usize, r: &Resource, added: usize) -> Result<(), String> {
        let size = self.sizes.entry(index).or_insert_with(|| {
            r.object().iter().fold(0, |n, (k, v)| {
                n.saturating_add(k.len()).saturating_add(estimated_size(v))
            })
        });
        *size = size.saturating_add(added);
        self.added = self.added.saturating_add(added);
        if self.added > self.limit {
            return Err(format!(
                "copying adds more than {} bytes to the resources, estimated in memory (limit: --max-document-bytes, ParseLimits::max_document_bytes)",
                self.limit
            ));
        }
        if *size > self.limit {
            return Err(format!(
                "copying into {} grows it past {} bytes, estimated in memory (limit: --max-document-bytes, ParseLimits::max_document_bytes)",
                r.id(),
                self.limit
            ));
        }
        Ok(())
    }
}

fn run(resources: &mut [Resource], r: &Replacement, growth: &mut Growth) -> Result<(), String> {
    let (Some(source), Some(targets)) = (&r.source, &r.targets) else {
        return Err("replacements must specify a source and at least one target".to_owned());
    };
    let value = source_value(resources, source)?;
    for target in targets {
        apply_target(resources, &value, target, growth)?;
    }
    Ok(())
}

fn source_value(resources: &[Resource], source: &Source) -> Result<Copied, String> {
    let mut found: Option<&Resource> = None;
    for r in resources {
        if source.id.selects_any_id_of(r) {
            if found.is_some() {
                return Err(format!(
                    "multiple matches for selector {}",
                    source.describe()
                ));
            }
            found = Some(r);
        }
    }
    let Some(r) = found else {
        return Err(format!("nothing selected by {}", source.describe()));
    };
    let field_path = if source.field_path.is_empty() {
        DEFAULT_FIELD_PATH
    } else {
        &source.field_path
    };
    let node = path::lookup(r.object(), &path::split(field_path))
        .map_err(|e| format!("error looking up replacement source: {e}"))?;
    let node = match node {
        None | Some(Value::Null) => None,
        Some(Value::Map(m)) if m.is_empty() => None,
        Some(Value::Seq(s)) if s.is_empty() => None,
        Some(v) => Some(v),
    };
    let Some(node) = node else {
        return Err(format!(
            "fieldPath `{field_path}` is missing for replacement source {}",
            source.id.as_res_id()
        ));
    };
    let text = path::scalar_text(node);
    let delimiter = &source.options.delimiter;
    if delimiter.is_empty() {
        let size = estimated_size(node).max(text.len());
        return Ok(Copied {
            node: Ok(node.clone()),
            text,
            size,
        });
    }
    if matches!(node, Value::Map(_) | Value::Seq(_)) {
        return Err("delimiter option can only be used with scalar nodes".to_owned());
    }
    let index = source.options.index;
    let piece = usize::try_from(index)
        .ok()
        .and_then(|i| text.split(delimiter.as_str()).nth(i))
        .ok_or_else(|| format!("options.index {index} is out of bounds for value {text}"))?;
    Ok(Copied {
        node: retype(node, piece),
        text: piece.to_owned(),
        size: piece.len(),
    })
}

fn apply_target(
    resources: &mut [Resource],
    value: &Copied,
    target: &Target,
    growth: &mut Growth,
) -> Result<(), String> {
    let Some(select) = &target.select else {
        return Err("target must specify resources to select".to_owned());
    };
    let select_meta = select.meta_matcher()?;
    let reject_meta = target
        .reject
        .iter()
        .filter(|r| !r.label_selector.is_empty() || !r.annotation_selector.is_empty())
        .map(TargetSelector::meta_matcher)
        .collect::<Result<Vec<_>, _>>()?;
    let default_paths = [DEFAULT_FIELD_PATH.to_owned()];
    let field_paths: &[String] = if target.field_paths.is_empty() {
        &default_paths
    } else {
        &target.field_paths
    };
    for (index, r) in resources.iter_mut().enumerate() {
        if !select_meta.selects(r) || reject_meta.iter().any(|m| m.selects(r)) {
            continue;
        }
        let rejected = target
            .reject
            .iter()
            .any(|rj| !rj.id.is_empty() && rj.id.selects_any_id_of(r));
        if !select.id.selects_any_id_of(r) || rejected {
            continue;
        }
        for fp in field_paths {
            let copies = copy_to(r, value, fp, &target.options)?;
            // Checked after the copies of one path land: a single path may
            // match many fields (`[name=*]`), but each copy is bounded by the
            // source's size, which was already within limits.
            growth.add(index, r, value.size.saturating_mul(copies))?;
        }
    }
    Ok(())
}

/// Copies `value` into every field `fp` matches in `r`; returns how many.
fn copy_to(
    r: &mut Resource,
    value: &Copied,
    fp: &str,
    options: &FieldOptions,
) -> Result<usize, String> {
    let create = match (&value.node, options.create) {
        (Ok(node), true) => Some(CreateKind::of(node)),
        (Err(_), true) => Some(CreateKind::Scalar),
        (_, false) => None,
    };
    let retrieval = if create.is_some() {
        format!("unable to find or create field {fp:?} in replacement target")
    } else {
        format!("unable to find field {fp:?} in replacement target")
    };
    let mut set_error: Option<String> = None;
    let visited = path::for_each_match(
        r.object_mut(),
        &path::split(fp),
        create,
        &mut |node, created| {
            set_field(node, value, options, created).map_err(|e| {
                set_error = Some(e);
                String::new()
            })
        },
    );
    if let Some(e) = set_error {
        return Err(e);
    }
    match visited {
        Ok(0) => Err(retrieval),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{retrieval}: {e}")),
    }
}

/// kustomize's `setFieldValue`.
fn set_field(
    target: &mut Value,
    value: &Copied,
    options: &FieldOptions,
    created: bool,
) -> Result<(), String> {
    let is_scalar = !matches!(target, Value::Map(_) | Value::Seq(_));
    let mut text = value.text.clone();
    if !options.delimiter.is_empty() {
        if !is_scalar {
            return Err("delimiter option can only be used with scalar nodes".to_owned());
        }
        let current = if created || target.is_null() {
            String::new()
        } else {
            path::scalar_text(target)
        };
        let delimiter = options.delimiter.as_str();
        let mut parts: Vec<&str> = current.split(delimiter).collect();
        match usize::try_from(options.index) {
            Err(_) => parts.insert(0, &value.text),
            Ok(i) => match parts.get_mut(i) {
                Some(slot) => *slot = &value.text,
                None => parts.push(&value.text),
            },
        }
        text = parts.join(delimiter);
    }
    if is_scalar {
        *target = if created {
            rustomize_yaml::resolve_plain(&text)
        } else {
            retype(target, &text)?
        };
    } else {
        *target = value.node.clone()?;
    }
    Ok(())
}

fn tag(v: &Value) -> &'static str {
    match v {
        Value::Null | Value::Empty => "!!null",
        Value::Bool(_) => "!!bool",
        Value::Int(_) | Value::Uint(_) => "!!int",
        Value::Float(_) => "!!float",
        Value::String(_) => "!!str",
        Value::Seq(_) => "!!seq",
        Value::Map(_) => "!!map",
    }
}

/// `text` written into a scalar of `like`'s type: kustomize keeps the node's tag
/// and the text must then read as that type (an int can hold `80`, not `hello`).
pub(crate) fn retype(like: &Value, text: &str) -> Result<Value, String> {
    if let Value::String(_) = like {
        return Ok(Value::string(text));
    }
    let read = rustomize_yaml::resolve_plain(text);
    let ok = match (like, &read) {
        (Value::Int(_) | Value::Uint(_), Value::Int(_) | Value::Uint(_)) => Some(read.clone()),
        (Value::Float(_), Value::Float(_)) => Some(read.clone()),
        (Value::Float(_), Value::Int(i)) => Some(Value::Float(*i as f64)),
        (Value::Float(_), Value::Uint(u)) => Some(Value::Float(*u as f64)),
        (Value::Bool(_), Value::Bool(_))
        | (Value::Null | Value::Empty, Value::Null | Value::Empty) => Some(read.clone()),
        _ => None,
    };
    ok.ok_or_else(|| format!("cannot decode {} `{text}` as a {}", tag(&read), tag(like)))
}
