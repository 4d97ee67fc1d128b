//! `vars`: named values taken from resource fields and substituted for `$(NAME)`
//! in the fields of the var-reference table, once, at the very end of a build.
//!
//! kustomize splits this in two, and so do we:
//!
//! * [`merge`] runs when a kustomization finishes accumulating (after its
//!   transformers). Each var's `objref` (kind, `apiVersion`, name, optional
//!   namespace — matched *exactly*: an objref without `apiVersion` matches no
//!   `v1` object) is looked up among the resources accumulated so far by their
//!   current *or any previous* id, so a base's var still finds its object after
//!   an overlay renamed it. The one match is tagged with the var's name
//!   (`Resource::ref_var_names`); two matches are an error; none is only an
//!   error later. A var name declared twice anywhere in the tree is an error.
//! * [`resolve`] runs after hash suffixes and name references: each var's value
//!   is its `fieldref.fieldpath` (default `metadata.name`) read from the *final*
//!   object that carries its tag, and every string in a var-reference field
//!   (`FieldSpecTables::var_reference`, extended by `configurations:`) has its
//!   `$(NAME)`s replaced. A string that is exactly `$(NAME)` takes the value's
//!   type (an int port stays an int); `$$` is a literal `$`; unknown names are
//!   left alone; non-string values are skipped, except in lists, where they are
//!   an error (as in kustomize).
//!
//! Field paths are the dotted paths of `transform::replacements::path`,
//! with `name[0]` accepted for `name.0`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use rustomize_yaml::{Map, Value};

use crate::accumulate::Accumulation;
use crate::error::Error;
use crate::fieldspec::{Compiled, Leaf, SpecSet};
use crate::load::gojson;
use crate::load::gojson::type_name as go_type;
use crate::load::kustomization::Kustomization;
use crate::parallel::Pool;
use crate::resource::{Gvk, ResId, Resource};
use crate::tables::field_specs::FieldSpecTables;
use crate::transform::replacements::path;
use crate::transform::MIN_CHUNK;

const DEFAULT_FIELD_PATH: &str = "metadata.name";

/// One var as declared, with the kustomization that declared it.
#[derive(Clone, Debug)]
pub struct Var {
    /// The var's name.
    pub name: String,
    /// The object it reads (`objref`), as an id.
    pub objref: ResId,
    /// `fieldref.fieldpath` (defaulted to `metadata.name`).
    pub field_path: String,
    /// The kustomization file declaring it.
    pub origin: PathBuf,
}

impl Var {
    /// kustomize's `%v` of a var, for error messages.
    fn describe(&self) -> String {
        format!(
            "{{{} {} {{{}}}}}",
            self.name, self.objref.gvk, self.field_path
        )
    }
}

/// Whether the current id or one of the previous ids of `r` (see
/// [`Resource::previous_ids`]) has the group, version, kind and name of
/// `target` and, unless `any_namespace`, its effective namespace.
fn has_id(r: &Resource, target: &ResId, any_namespace: bool, target_namespace: &str) -> bool {
    let id = r.id();
    if id.gvk.group != target.gvk.group || id.gvk.version != target.gvk.version {
        return false;
    }
    if id.gvk.kind == target.gvk.kind
        && id.name == target.name
        && (any_namespace || id.effective_namespace() == target_namespace)
    {
        return true;
    }
    r.previous.iter().any(|(name, namespace, kind)| {
        *kind == target.gvk.kind
            && *name == target.name
            && (any_namespace || {
                let cluster_scoped = crate::tables::cluster_scoped::is_cluster_scoped(
                    &id.gvk.group,
                    &id.gvk.version,
                    kind,
                );
                let effective = if cluster_scoped {
                    crate::resource::NOT_NAMESPACED
                } else if namespace.is_empty() || namespace == "default" {
                    "default"
                } else {
                    namespace.as_str()
                };
                effective == target_namespace
            })
    })
}

/// Merges the kustomization's `vars` into the accumulation (kustomize's MergeVars).
pub fn merge(k: &Kustomization, acc: &mut Accumulation) -> Result<(), Error> {
    if k.vars.is_null() {
        return Ok(());
    }
    let bad = |message: String| Error::Kustomization {
        path: k.path.clone(),
        message,
    };
    let vars = parse(&k.vars, k).map_err(bad)?;
    // Each var's source is found by comparing ids in place (current and
    // previous ones), without copying them: a kustomization declares a few
    // vars, and an index of every id cost more than the scans it saved.
    let mut sources: Vec<(usize, String)> = Vec::new();
    for var in &vars {
        let target = &var.objref;
        // An objref without namespace matches any namespace (unless the kind is
        // cluster-scoped); ids compare group, version, kind and name exactly.
        let any_namespace = target.namespace.is_empty() && !target.gvk.is_cluster_scoped();
        let target_namespace = target.effective_namespace();
        let mut matched = 0usize;
        let mut first = None;
        for (i, r) in acc.resources.resources().iter().enumerate() {
            if has_id(r, target, any_namespace, target_namespace) {
                matched += 1;
                first.get_or_insert(i);
            }
        }
        if matched > 1 {
            return Err(Error::Transform {
                path: k.path.clone(),
                message: format!(
                    "found {} resId matches for var {} (unable to disambiguate)",
                    matched,
                    var.describe()
                ),
            });
        }
        if let Some(i) = first {
            sources.push((i, var.name.clone()));
        }
    }
    if !sources.is_empty() {
        let resources = acc.resources.resources_mut();
        for (i, name) in sources {
            if let Some(r) = resources.get_mut(i) {
                r.ref_var_names.push(name);
            }
        }
    }
    for var in vars {
        if acc.vars.iter().any(|v| v.name == var.name) {
            return Err(bad(format!("var '{}' already encountered", var.name)));
        }
        acc.vars.push(var);
    }
    Ok(())
}

/// Decodes `vars:` (Go JSON rules: keys match case-insensitively, unknown keys
/// and wrongly typed values are errors).
fn parse(value: &Value, k: &Kustomization) -> Result<Vec<Var>, String> {
    let items = match value {
        Value::Seq(items) => items,
        other => {
            return Err(format!(
                "field 'vars': expected a list, found a {}",
                other.type_name()
            ))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut var = Var {
            name: String::new(),
            objref: ResId::default(),
            field_path: String::new(),
            origin: k.path.clone(),
        };
        let mut api_version = String::new();
        for_fields(item, &["name", "objref", "fieldref"], |field, v| {
            match field {
                "name" => var.name = gojson::string(v, "", "Var.name")?,
                "objref" => for_fields(
                    v,
                    &[
                        "apiVersion",
                        "group",
                        "version",
                        "kind",
                        "name",
                        "namespace",
                    ],
                    |field, v| {
                        let s = gojson::string(v, "", &format!("Target.{field}"))?;
                        let id = &mut var.objref;
                        match field {
                            "apiVersion" => api_version = s,
                            "group" => id.gvk.group = s.into(),
                            "version" => id.gvk.version = s.into(),
                            "kind" => id.gvk.kind = s.into(),
                            "name" => id.name = s.into(),
                            _ => id.namespace = s.into(),
                        }
                        Ok(())
                    },
                )?,
                _ => for_fields(v, &["fieldPath"], |_, v| {
                    var.field_path = gojson::string(v, "", "FieldSelector.fieldPath")?;
                    Ok(())
                })?,
            }
            Ok(())
        })?;
        // kustomize's Target.GVK(): a set apiVersion overrides group and version.
        if !api_version.is_empty() {
            let parts: Vec<&str> = api_version.split('/').collect();
            match parts.as_slice() {
                [g, v] => {
                    var.objref.gvk.group = (*g).into();
                    var.objref.gvk.version = (*v).into();
                }
                [v] => var.objref.gvk.version = (*v).into(),
                _ => {}
            }
        }
        if var.field_path.is_empty() {
            var.field_path = DEFAULT_FIELD_PATH.to_owned();
        }
        out.push(var);
    }
    Ok(out)
}

/// Calls `f` for each key of the mapping `v` (null is an empty mapping) with its
/// canonical name; unknown keys are an error.
fn for_fields(
    v: &Value,
    known: &[&'static str],
    mut f: impl FnMut(&'static str, &Value) -> Result<(), String>,
) -> Result<(), String> {
    let map: &Map = match v {
        Value::Map(m) => m,
        Value::Null | Value::Empty => return Ok(()),
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type object",
                go_type(other)
            ))
        }
    };
    for (key, value) in map {
        let field = known
            .iter()
            .find(|k| **k == key)
            .or_else(|| known.iter().find(|k| k.eq_ignore_ascii_case(key)))
            .ok_or_else(|| format!("json: unknown field \"{key}\""))?;
        f(field, value)?;
    }
    Ok(())
}

/// A var's value, as kustomize reads it from the object.
#[derive(Clone, Debug)]
enum VarValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A mapping or list: never substituted (kustomize leaves `$(NAME)`).
    Complex,
}

impl VarValue {
    fn read(v: &Value) -> Option<VarValue> {
        Some(match v {
            Value::String(s) => VarValue::Str(s.to_string()),
            Value::Int(i) => VarValue::Int(*i),
            // strconv.Atoi fails above the int64 range.
            Value::Uint(_) => return None,
            Value::Float(f) => VarValue::Float(*f),
            Value::Bool(b) => VarValue::Bool(*b),
            Value::Null | Value::Empty => VarValue::Str("null".to_owned()),
            Value::Seq(_) | Value::Map(_) => VarValue::Complex,
        })
    }

    fn to_value(&self) -> Value {
        match self {
            VarValue::Str(s) => Value::string(s.as_str()),
            VarValue::Int(i) => Value::Int(*i),
            VarValue::Float(f) => Value::Float(*f),
            VarValue::Bool(b) => Value::Bool(*b),
            VarValue::Complex => Value::Null,
        }
    }

    fn text(&self) -> String {
        match self {
            VarValue::Str(s) => s.clone(),
            VarValue::Int(i) => i.to_string(),
            VarValue::Float(f) => path::go_float_text(*f),
            VarValue::Bool(b) => b.to_string(),
            VarValue::Complex => String::new(),
        }
    }
}

/// kustomize's `GetFieldValue` path: dotted, with `name[0]` meaning `name.0`.
fn field_path_parts(field_path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in path::split(field_path) {
        match index_suffix(&part) {
            Some((head, index)) => {
                if !head.is_empty() {
                    out.push(head.to_owned());
                }
                out.push(index.to_owned());
            }
            None => out.push(part),
        }
    }
    out
}

/// `ports[0]` → (`ports`, `0`).
fn index_suffix(part: &str) -> Option<(&str, &str)> {
    let body = part.strip_suffix(']')?;
    let open = body.rfind('[')?;
    let head = body.get(..open)?;
    let digits = body.get(open + 1..)?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some((head, digits))
}

/// Why [`resolve`] failed.
#[derive(Debug)]
pub enum Failure {
    /// The pass's error, the one the sequential pass gives.
    Error(Error),
    /// On several threads, the chunks (each given the whole budget) together
    /// expanded more than `max_document_bytes` by their first error or the
    /// end: the sequential pass runs out of budget at that point or before,
    /// where only a sequential pass can tell. The build runs again in
    /// sequence for its error ([`budget_error`] stands for it meanwhile).
    InSequence,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Error(e)
    }
}

/// The cause of a var expansion past the budget.
const OVER_BUDGET: &str = "expanding vars adds more to the build's objects than the document \
                           growth limit allows (limit: --max-document-bytes, \
                           ParseLimits::max_document_bytes)";

/// An error for a build of the kustomization `path` whose var expansion went
/// past the budget ([`Failure::InSequence`]), naming no field.
pub fn budget_error(path: &std::path::Path) -> Error {
    Error::Transform {
        path: path.to_path_buf(),
        message: OVER_BUDGET.to_owned(),
    }
}

/// Substitutes `$(VAR)` references at the end of the build; returns the
/// warning kustomize logs about vars that were never used. The check that no
/// name was emptied, which kustomize makes next, is [`check_name`].
///
/// Expansion may add at most `max_document_bytes` to all resources together: a
/// few bytes of `$(NAME)` repeated many times, in one object or many, with a
/// long value, would otherwise multiply into gigabytes.
///
/// The resources are substituted in chunks on `threads`, each chunk with the
/// whole budget; what the chunks spent, in order, decides whether their
/// outcome is the sequential one (see [`Failure::InSequence`]).
pub fn resolve(
    resources: &mut [Resource],
    vars: &[Var],
    tables: &FieldSpecTables,
    max_document_bytes: usize,
    threads: &Pool,
) -> Result<Vec<String>, Failure> {
    if vars.is_empty() {
        return Ok(Vec::new());
    }
    let mut seen = HashSet::new();
    for var in vars {
        if !seen.insert(var.name.as_str()) {
            return Err(Error::Kustomization {
                path: var.origin.clone(),
                message: format!("var '{}' already encountered", var.name),
            }
            .into());
        }
    }
    let mut sorted: Vec<&Var> = vars.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    // Which resource carries each var's tag (the first one, in order).
    let mut carrier: HashMap<&str, usize> = HashMap::new();
    for (i, r) in resources.iter().enumerate() {
        for name in &r.ref_var_names {
            carrier.entry(name.as_str()).or_insert(i);
        }
    }
    let mut values: HashMap<String, VarValue> = HashMap::new();
    for var in sorted {
        let fail = |message: String| Error::Transform {
            path: var.origin.clone(),
            message,
        };
        let r = carrier
            .get(var.name.as_str())
            .and_then(|&i| resources.get(i))
            .ok_or_else(|| {
                fail(format!(
                    "var '{}' cannot be mapped to a field in the set of known resources",
                    var.describe()
                ))
            })?;
        let value = path::lookup(r.object(), &field_path_parts(&var.field_path))
            .ok()
            .flatten()
            .and_then(VarValue::read)
            .ok_or_else(|| {
                fail(format!(
                    "field specified in var '{}' not found in corresponding resource",
                    var.describe()
                ))
            })?;
        values.insert(var.name.clone(), value);
    }
    // The table pass never creates fields.
    let specs = SpecSet::compiled(&tables.var_reference, Some(false));
    let chunks = threads.map_chunks(resources, MIN_CHUNK, |_, chunk| {
        substitute_chunk(chunk, &specs, &values, max_document_bytes)
    });
    // One budget for the whole pass: a long var referenced in many objects
    // multiplies as surely as one referenced many times in one object. The
    // chunks' outcome is the sequential one while what they spent, in order,
    // fits in it: then no expansion of the sequential pass ran out either.
    let several = chunks.len() > 1;
    let mut spent = 0usize;
    let mut used: HashSet<&str> = HashSet::new();
    for chunk in chunks {
        let before = spent;
        spent = spent.saturating_add(chunk.spent);
        // A chunk that ran out of the whole budget after others spent some
        // may run out earlier in sequence.
        if several && (spent > max_document_bytes || (chunk.ran_out && before > 0)) {
            return Err(Failure::InSequence);
        }
        if let Some(e) = chunk.error {
            return Err(e.into());
        }
        used.extend(chunk.used);
    }
    let mut unused: Vec<&str> = values
        .keys()
        .map(String::as_str)
        .filter(|k| !used.contains(k))
        .collect();
    unused.sort_unstable();
    let warnings = if unused.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "well-defined vars that were never replaced: {}",
            unused.join(",")
        )]
    };
    Ok(warnings)
}

/// What substituting one chunk of resources did, up to its first error.
struct Substituted<'v> {
    /// Bytes the chunk's expansions put in.
    spent: usize,
    /// Whether the first error is the budget's.
    ran_out: bool,
    /// The vars that were replaced.
    used: HashSet<&'v str>,
    /// The first error, in resource and field order.
    error: Option<Error>,
}

/// The budget of one chunk of [`resolve`]: bytes the expansions may still
/// put in, and whether one was refused.
struct Budget {
    left: usize,
    ran_out: bool,
}

/// Substitutes the var-reference fields of `chunk` in order with a budget of
/// `max_document_bytes`, stopping at the first error.
fn substitute_chunk<'v>(
    chunk: &mut [Resource],
    specs: &SpecSet<'_>,
    values: &'v HashMap<String, VarValue>,
    max_document_bytes: usize,
) -> Substituted<'v> {
    let mut budget = Budget {
        left: max_document_bytes,
        ran_out: false,
    };
    let mut used = HashSet::new();
    let mut selected: Vec<&Compiled<'_>> = Vec::new();
    let mut error = None;
    'resources: for r in chunk.iter_mut() {
        specs.select_into(r.gvk(), &mut selected);
        if selected.is_empty() {
            continue;
        }
        // Errors name the kind the object had before the pass: copied only
        // when a spec may change it.
        let gvk_before = selected
            .iter()
            .any(|c| c.touches_id)
            .then(|| r.gvk().clone());
        for &compiled in &selected {
            let edited = r.edit_where(compiled.touches_id, |object| {
                compiled.visit(object, Leaf::Scalar, &mut |node| {
                    substitute_node(node, values, &mut used, &mut budget)
                })
            });
            if let Err(message) = edited {
                error = Some(Error::Transform {
                    path: r.origin().to_path_buf(),
                    message: format!(
                        "considering field '{}' of object {}: {message}",
                        compiled.spec.path,
                        describe_id(
                            gvk_before.as_ref().unwrap_or(r.gvk()),
                            r.name(),
                            r.namespace()
                        )
                    ),
                });
                break 'resources;
            }
        }
    }
    Substituted {
        spent: max_document_bytes - budget.left,
        ran_out: budget.ran_out,
        used,
        error,
    }
}

/// A var may have emptied a name; kustomize rejects the object then (after
/// the whole substitution pass, see [`resolve`]). Only when there are vars:
/// the build calls this in its one pass over every resource after vars.
pub fn check_name(r: &Resource) -> Result<(), Error> {
    let name = r.object().get("metadata").and_then(|m| m.get("name"));
    if matches!(name, None | Some(Value::Null)) || name.and_then(Value::as_str) == Some("") {
        return Err(Error::Resource {
            path: r.origin().to_path_buf(),
            message: format!("missing metadata.name in object of kind {}", r.kind()),
        });
    }
    Ok(())
}

fn describe_id(gvk: &Gvk, name: &str, namespace: &str) -> ResId {
    ResId {
        gvk: gvk.clone(),
        name: name.into(),
        namespace: namespace.into(),
    }
}

/// kustomize's refvar filter on one field: a string, the string values of a
/// mapping, or the items of a list (which must all be strings).
fn substitute_node<'v>(
    node: &mut Value,
    values: &'v HashMap<String, VarValue>,
    used: &mut HashSet<&'v str>,
    budget: &mut Budget,
) -> Result<(), String> {
    // A string without `$` expands to itself: it is left in place rather
    // than replaced by a copy (most strings the table reaches hold no var).
    let plain = |s: &str| !s.as_bytes().contains(&b'$');
    match node {
        Value::String(s) => {
            if !plain(s) {
                *node = expand(s, values, used, budget)?;
            }
            Ok(())
        }
        Value::Map(m) => {
            for v in m.values_mut() {
                if let Value::String(s) = v {
                    if !plain(s) {
                        *v = expand(s, values, used, budget)?;
                    }
                }
            }
            Ok(())
        }
        Value::Seq(items) => {
            for item in items {
                let Value::String(s) = item else {
                    return Err(format!(
                        "visit traversal on path: invalid value type expect a string, found a {}",
                        item.type_name()
                    ));
                };
                if !plain(s) {
                    *item = expand(s, values, used, budget)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Expands `$(NAME)` in `input` (kustomize's `DoReplacements`, byte by byte).
/// Every value put in is taken from `budget` (bytes the build's objects may
/// still grow by); running out is an error.
fn expand<'v>(
    input: &str,
    values: &'v HashMap<String, VarValue>,
    used: &mut HashSet<&'v str>,
    budget: &mut Budget,
) -> Result<Value, String> {
    let bytes = input.as_bytes();
    if !bytes.contains(&b'$') {
        return Ok(Value::string(input));
    }
    let mut spend = |n: usize| -> Result<(), String> {
        match budget.left.checked_sub(n) {
            Some(left) => {
                budget.left = left;
                Ok(())
            }
            None => {
                budget.ran_out = true;
                Err(OVER_BUDGET.to_owned())
            }
        }
    };
    let mut lookup = |name: &str| -> Option<VarValue> {
        match values.get_key_value(name) {
            Some((_, VarValue::Complex)) | None => None,
            Some((key, v)) => {
                used.insert(key.as_str());
                Some(v.clone())
            }
        }
    };
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes.get(cursor) == Some(&b'$') && cursor + 1 < bytes.len() {
            out.extend_from_slice(bytes.get(checkpoint..cursor).unwrap_or_default());
            let rest = bytes.get(cursor + 1..).unwrap_or_default();
            let advance = match rest.first() {
                Some(b'$') => {
                    out.push(b'$');
                    1
                }
                Some(b'(') => match rest.iter().position(|&b| b == b')') {
                    Some(close) => {
                        let name = String::from_utf8_lossy(rest.get(1..close).unwrap_or_default());
                        let mapped = lookup(&name);
                        if close + 2 == bytes.len() && cursor == 0 {
                            // The whole string is one reference: keep the value's type.
                            return match mapped {
                                Some(v) => {
                                    spend(v.text().len())?;
                                    Ok(v.to_value())
                                }
                                None => Ok(Value::string(input)),
                            };
                        }
                        match mapped {
                            Some(v) => {
                                let text = v.text();
                                spend(text.len())?;
                                out.extend_from_slice(text.as_bytes());
                            }
                            None => {
                                out.extend_from_slice(b"$(");
                                out.extend_from_slice(name.as_bytes());
                                out.push(b')');
                            }
                        }
                        close + 1
                    }
                    None => {
                        out.extend_from_slice(b"$(");
                        1
                    }
                },
                Some(&b) => {
                    // Go turns the byte into a rune: U+0000..U+00FF.
                    out.push(b'$');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(char::from(b).encode_utf8(&mut buf).as_bytes());
                    1
                }
                None => 0,
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.extend_from_slice(bytes.get(checkpoint..).unwrap_or_default());
    Ok(match String::from_utf8(out) {
        Ok(s) => Value::string(s),
        // Invalid UTF-8 reaches the output as binary: base64 text.
        Err(e) => Value::string(base64(e.as_bytes())),
    })
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(ALPHABET.get((i & 63) as usize).copied().unwrap_or(b'='));
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn budget(left: usize) -> Budget {
        Budget {
            left,
            ran_out: false,
        }
    }

    fn run(input: &str) -> Value {
        let mut values = HashMap::new();
        values.insert("A".to_owned(), VarValue::Str("svc".to_owned()));
        values.insert("P".to_owned(), VarValue::Int(8080));
        values.insert("M".to_owned(), VarValue::Complex);
        expand(input, &values, &mut HashSet::new(), &mut budget(usize::MAX)).unwrap()
    }

    #[test]
    fn expansion_is_bounded() {
        let mut values = HashMap::new();
        values.insert("A".to_owned(), VarValue::Str("x".repeat(10)));
        let mut over = budget(25);
        let err = expand("$(A)$(A)$(A)", &values, &mut HashSet::new(), &mut over);
        assert!(err.unwrap_err().contains("max_document_bytes"));
        assert!(over.ran_out);
        let mut fits = budget(25);
        let ok = expand("$(A)-$(A)", &values, &mut HashSet::new(), &mut fits);
        assert_eq!(ok.unwrap(), s(&format!("{0}-{0}", "x".repeat(10))));
        assert_eq!((fits.left, fits.ran_out), (5, false));
    }

    fn s(text: &str) -> Value {
        Value::string(text)
    }

    #[test]
    fn expands_like_kustomize() {
        assert_eq!(run("$(A)"), s("svc"));
        assert_eq!(run("$(P)"), Value::Int(8080));
        assert_eq!(run("a-$(P)-b"), s("a-8080-b"));
        assert_eq!(run("$$(A)"), s("$(A)"));
        assert_eq!(run("$(NOPE)"), s("$(NOPE)"));
        assert_eq!(run("$(A"), s("$(A"));
        assert_eq!(run("$"), s("$"));
        assert_eq!(run("$x$(A)"), s("$xsvc"));
        assert_eq!(run("$(M)"), s("$(M)"));
        assert_eq!(run("$(A)$(A)"), s("svcsvc"));
        assert_eq!(run("$$$(A)"), s("$svc"));
        assert_eq!(run("$é$(A)"), s("JMODqXN2Yw=="));
    }

    #[test]
    fn index_suffixes() {
        assert_eq!(
            field_path_parts("spec.ports[0].port"),
            ["spec", "ports", "0", "port"]
        );
        assert_eq!(
            field_path_parts("spec.containers[name=a].image"),
            ["spec", "containers[name=a]", "image"]
        );
    }
}
