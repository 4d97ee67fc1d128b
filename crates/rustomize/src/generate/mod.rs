//! Generators: `configMapGenerator` and `secretGenerator` (with
//! `generatorOptions`), their `behavior` against resources already accumulated,
//! and the content-hash name suffixes added at the end of a build.
//!
//! This module owns everything kustomize's ConfigMap/Secret generator plugins,
//! `ResMap.AbsorbAll` and the hash transformer do, because those three are one
//! feature: what a generator produces, how it lands in the accumulation, and
//! what name it finally gets.
//!
//! * `args` decodes the kustomization's entries; `kv` reads their sources;
//!   `hash` computes the name suffix.
//! * [`run`] generates each entry (ConfigMaps first, then Secrets) and absorbs
//!   it: a new id is appended (`merge`/`replace` then fail: nothing to merge
//!   into); an id matching exactly one resource by its current *or any previous*
//!   id (so an overlay can name a base's object before its prefix) needs
//!   `merge` or `replace`, and takes that resource's place, name, namespace and
//!   rename history, with labels and annotations merged (the new ones win);
//!   `merge` also merges `data` and `binaryData`. The result keeps a hash suffix
//!   only if both the old and the new object wanted one.
//! * [`add_hash_suffixes`] runs once, on the top-level result after every
//!   transformer (so patches to `data` count), appending `-<hash>` to the
//!   current name (after any prefix/suffix). Only kind, data (and Secret type)
//!   are hashed — not the name, see `hash`.

pub(crate) mod args;
mod hash;
pub mod helm;
mod iam_policy;
pub(crate) use hash::sha256_hex;
mod kv;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rustomize_yaml::{Map, Value};

use crate::accumulate::{Accumulation, BuildContext};
use crate::error::Error;
use crate::load::Loader;
use crate::resmap::ResMap;
use crate::resource::{ResId, Resource};

use crate::plugins::{Configured, Generator};
use args::{Args, Kind};

/// Runs `list` (the kustomization's generator fields desugared, then its
/// `generators:` entries), adding (or merging) each one's output into `acc`
/// in order.
///
/// Errors: a generator that fails, or output that cannot be absorbed (a
/// `behavior` with nothing to merge into, an ambiguous match).
pub fn run(
    loader: &Loader,
    kustomization: &Path,
    list: &[Configured<Generator>],
    acc: &mut Accumulation,
    cx: &mut BuildContext,
    external: &dyn External,
) -> Result<(), Error> {
    if list.is_empty() {
        return Ok(());
    }
    let mut absorber = Absorber::new(
        std::mem::take(&mut acc.resources).into_resources(),
        list.len(),
    );
    for item in list {
        let file = item.file.as_path();
        let fail = |message: String| Error::Kustomization {
            path: file.to_path_buf(),
            message,
        };
        let origin: Arc<Path> = Arc::from(file);
        let (resources, field, chart) = match &item.config {
            Generator::KeyValue(args) => (
                vec![generate(loader, args, &origin, &fail)?],
                args.kind.field().to_owned(),
                None,
            ),
            Generator::HelmChart(config) => {
                let (globals, chart) = config.as_ref();
                let made = helm::inflate(loader, &cx.helm, file, globals, chart, &cx.limits)?;
                (made, String::new(), Some(chart.name.clone()))
            }
            Generator::IamPolicy {
                cloud,
                service_name,
                service_namespace,
                account,
                project,
            } => (
                vec![iam_policy::generate(
                    cloud,
                    service_name,
                    service_namespace,
                    account,
                    project,
                    &origin,
                )
                .map_err(fail)?],
                "IAMPolicyGenerator".to_owned(),
                None,
            ),
            Generator::External(config) => (
                external.generate(config, file)?,
                "generators".to_owned(),
                None,
            ),
        };
        for mut resource in resources {
            if let Some(by) = &item.origin {
                crate::buildmeta::set_generator_origin(&mut resource, by);
            }
            absorber.absorb(resource).map_err(|m| match &chart {
                Some(chart) => Error::Helm {
                    path: file.to_path_buf(),
                    chart: chart.clone(),
                    message: m,
                },
                None => Error::Transform {
                    path: kustomization.to_path_buf(),
                    message: format!("{field}: {m}"),
                },
            })?;
        }
    }
    let mut resources = ResMap::new();
    resources.reserve(absorber.list.len());
    for resource in absorber.list {
        resources.append(resource, kustomization)?;
    }
    acc.resources = resources;
    Ok(())
}

/// Runs generators kustomize does not ship (exec plugins, KRM functions).
pub trait External {
    /// The resources the plugin `config` (read from `file`) generates.
    fn generate(&self, config: &Map, file: &Path) -> Result<Vec<Resource>, Error>;
}

/// Builds the object one entry describes.
fn generate(
    loader: &Loader,
    entry: &Args,
    origin: &Arc<Path>,
    fail: &dyn Fn(String) -> Error,
) -> Result<Resource, Error> {
    // Only messages use it: formatted when one is made, not for every entry.
    let label = Label(entry);
    if entry.name.is_empty() {
        return Err(fail(format!(
            "{}: a {} must have a name",
            entry.kind.field(),
            match entry.kind {
                Kind::ConfigMap => "configmap",
                Kind::Secret => "secret",
            }
        )));
    }
    let pairs = kv::load(loader, &entry.sources, &label, origin, fail)?;

    let mut meta = Map::default();
    meta.insert("name", Value::string(entry.name.as_str()));
    if !entry.namespace.is_empty() {
        meta.insert("namespace", Value::string(entry.namespace.as_str()));
    }
    if !entry.options.labels.is_empty() {
        meta.insert("labels", string_map(&entry.options.labels));
    }
    if !entry.options.annotations.is_empty() {
        meta.insert("annotations", string_map(&entry.options.annotations));
    }
    let mut object = Map::default();
    object.insert("apiVersion", Value::string("v1"));
    object.insert("kind", Value::string(entry.kind.object_kind().to_owned()));
    object.insert("metadata", Value::Map(meta));
    match entry.kind {
        Kind::ConfigMap => {
            let mut data = Map::default();
            let mut binary = Map::default();
            for pair in pairs {
                match String::from_utf8(pair.value) {
                    Ok(text) => data.insert(pair.key, Value::string(text)),
                    Err(e) => binary.insert(pair.key, Value::string(base64(e.as_bytes()))),
                };
            }
            if !data.is_empty() {
                object.insert("data", Value::Map(data));
            }
            if !binary.is_empty() {
                object.insert("binaryData", Value::Map(binary));
            }
        }
        Kind::Secret => {
            let secret_type = if entry.secret_type.is_empty() {
                "Opaque"
            } else {
                &entry.secret_type
            };
            object.insert("type", Value::string(secret_type));
            let data: Map = pairs
                .into_iter()
                .map(|p| (p.key, Value::string(base64(&p.value))))
                .collect();
            object.insert("data", Value::Map(data));
        }
    }
    if entry.options.immutable {
        object.insert("immutable", Value::Bool(true));
    }
    let mut resource = Resource::new(object, origin.clone());
    resource.needs_hash_suffix = !entry.options.disable_name_suffix_hash;
    resource.generator_behavior = Behavior::of(&entry.behavior);
    Ok(resource)
}

/// An entry as messages name it: `configMapGenerator 'name'`.
struct Label<'a>(&'a Args);

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} '{}'", self.0.kind.field(), self.0.name)
    }
}

fn string_map(pairs: &[(String, String)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::string(v.as_str())))
            .collect(),
    )
}

/// Base64 (standard alphabet, padded) as kustomize writes it: wrapped every 70
/// characters, each line ending in a newline, once the text reaches 70.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const LINE: usize = 70;
    let sextet = |v: u32| char::from(ALPHABET.get((v & 63) as usize).copied().unwrap_or(b'='));
    let mut flat = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        flat.push(sextet(n >> 18));
        flat.push(sextet(n >> 12));
        flat.push(if chunk.len() > 1 { sextet(n >> 6) } else { '=' });
        flat.push(if chunk.len() > 2 { sextet(n) } else { '=' });
    }
    if flat.len() < LINE {
        return flat;
    }
    let mut out = String::with_capacity(flat.len() + flat.len() / LINE + 1);
    let mut rest = flat.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(LINE));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out
}

/// kustomize's `GenerationBehavior`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Behavior {
    /// Not generated, or no behavior given (treated as `create`).
    #[default]
    Unspecified,
    Create,
    Replace,
    Merge,
}

impl Behavior {
    /// Any other text is `Unspecified` (treated as `create`), as in kustomize.
    pub(crate) fn of(text: &str) -> Behavior {
        match text {
            "create" => Behavior::Create,
            "replace" => Behavior::Replace,
            "merge" => Behavior::Merge,
            _ => Behavior::Unspecified,
        }
    }
}

/// The hash of an id's equality key (`(group, version, kind)`, name and
/// effective namespace: kustomize's id equality).
fn id_hash(id: &ResId) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5eed).hash_one(id.equality_key())
}

/// The hashes of every id (previous ones and the current one) of a resource,
/// without repeats.
fn all_hashes(resource: &Resource) -> Vec<u64> {
    let mut hashes: Vec<u64> = Vec::with_capacity(resource.previous.len() + 1);
    let previous = resource.previous_ids();
    for id in previous.iter().chain(std::iter::once(resource.id())) {
        let h = id_hash(id);
        if !hashes.contains(&h) {
            hashes.push(h);
        }
    }
    hashes
}

/// Whether `resource` has (or had) an id equal to `id`.
fn has_id(resource: &Resource, id: &ResId) -> bool {
    let key = id.equality_key();
    resource.id().equality_key() == key
        || resource
            .previous_ids()
            .iter()
            .any(|p| p.equality_key() == key)
}

/// Positions of the resources under one id hash (most hashes have one).
#[derive(Debug)]
enum Positions {
    One(usize),
    Many(Vec<usize>),
}

/// The accumulated resources with an index from (the hash of) every id they
/// ever had to their positions (kustomize's `GetMatchingResourcesByAnyId`,
/// without a scan). Hashes instead of copied ids keep the index to a word per
/// id; a hit is confirmed by comparing ids.
struct Absorber {
    list: Vec<Resource>,
    by_id: HashMap<u64, Positions>,
}

impl Absorber {
    /// Room for `list` and `generators` more resources (most generators add
    /// one): the first generated resource doubling a list of thousands copied
    /// it whole into fresh pages.
    fn new(list: Vec<Resource>, generators: usize) -> Absorber {
        let mut absorber = Absorber {
            list: Vec::with_capacity(list.len().saturating_add(generators)),
            by_id: HashMap::with_capacity(list.len()),
        };
        for resource in list {
            absorber.push(resource);
        }
        absorber
    }

    fn push(&mut self, resource: Resource) {
        let at = self.list.len();
        self.index(all_hashes(&resource), at);
        self.list.push(resource);
    }

    fn index(&mut self, hashes: Vec<u64>, at: usize) {
        for h in hashes {
            match self.by_id.entry(h) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(Positions::One(at));
                }
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    let positions = e.get_mut();
                    match positions {
                        Positions::One(p) => *positions = Positions::Many(vec![*p, at]),
                        Positions::Many(list) => list.push(at),
                    }
                }
            }
        }
    }

    fn unindex(&mut self, resource: &Resource, at: usize) {
        for h in all_hashes(resource) {
            let emptied = match self.by_id.get_mut(&h) {
                Some(Positions::One(p)) => *p == at,
                Some(Positions::Many(list)) => {
                    list.retain(|p| *p != at);
                    list.is_empty()
                }
                None => false,
            };
            if emptied {
                self.by_id.remove(&h);
            }
        }
    }

    /// Positions of the resources that have (or had) `id`.
    fn matching(&self, id: &ResId) -> Vec<usize> {
        let candidates: &[usize] = match self.by_id.get(&id_hash(id)) {
            None => &[],
            Some(Positions::One(p)) => std::slice::from_ref(p),
            Some(Positions::Many(list)) => list,
        };
        candidates
            .iter()
            .copied()
            .filter(|&p| self.list.get(p).is_some_and(|r| has_id(r, id)))
            .collect()
    }

    /// kustomize's `appendReplaceOrMerge`.
    fn absorb(&mut self, mut new: Resource) -> Result<(), String> {
        let id = new.id();
        let behavior = new.generator_behavior;
        let mut matches: Vec<usize> = self.matching(id);
        matches.sort_unstable();
        match matches.as_slice() {
            [] => match behavior {
                Behavior::Merge | Behavior::Replace => {
                    Err(format!("id {id} does not exist; cannot merge or replace"))
                }
                Behavior::Create | Behavior::Unspecified => {
                    self.push(new);
                    Ok(())
                }
            },
            [at] => {
                let at = *at;
                let Some(old) = self.list.get(at) else {
                    return Err("id lookup failure".to_owned());
                };
                match behavior {
                    Behavior::Replace => copy_merge_metadata(&mut new, old),
                    Behavior::Merge => {
                        // The merged object keeps the origin of the one it merges into.
                        let origin = crate::buildmeta::origin_of(old)?;
                        copy_merge_metadata(&mut new, old);
                        merge_string_map_field(new.object_mut(), old.object(), "data");
                        merge_string_map_field(new.object_mut(), old.object(), "binaryData");
                        if let Some(origin) = origin {
                            crate::buildmeta::set_origin(&mut new, &origin);
                        }
                    }
                    Behavior::Create | Behavior::Unspecified => {
                        return Err(format!("id {id} exists; behavior must be merge or replace"))
                    }
                }
                let new_hashes = all_hashes(&new);
                let slot = self.list.get_mut(at).ok_or("id lookup failure")?;
                let old = std::mem::replace(slot, new);
                self.unindex(&old, at);
                self.index(new_hashes, at);
                Ok(())
            }
            many => {
                let ids: Vec<String> = many
                    .iter()
                    .filter_map(|i| self.list.get(*i))
                    .map(|r| r.id().to_string())
                    .collect();
                Err(format!(
                    "found multiple objects [{}] that could accept merge of {id}",
                    ids.join(" ")
                ))
            }
        }
    }
}

/// kustomize's `CopyMergeMetaDataFieldsFrom`: labels and annotations merged (the
/// new object's win), name and namespace taken from the old object, and the
/// old object's bookkeeping (rename history, behavior) kept; the hash suffix
/// survives only if both wanted it.
fn copy_merge_metadata(new: &mut Resource, old: &Resource) {
    for field in ["labels", "annotations"] {
        let mut merged = string_map_of(meta_field(old.object(), field));
        for (k, v) in string_map_of(meta_field(new.object(), field)) {
            merged.insert(k, v);
        }
        let Some(meta) = metadata_mut(new.object_mut()) else {
            continue;
        };
        meta.shift_remove(field);
        if !merged.is_empty() {
            merged.sort_keys();
            let map: Map = merged
                .into_iter()
                .map(|(k, v)| (k, Value::string(v)))
                .collect();
            meta.insert(field, Value::Map(map));
        }
    }
    let name = old.name().to_owned();
    let namespace = old.namespace().to_owned();
    if let Some(meta) = metadata_mut(new.object_mut()) {
        meta.insert("name", Value::string(name));
        if namespace.is_empty() {
            meta.shift_remove("namespace");
        } else {
            meta.insert("namespace", Value::string(namespace));
        }
    }
    new.previous = old.previous.clone();
    new.prefixes = old.prefixes.clone();
    new.suffixes = old.suffixes.clone();
    new.ref_var_names = old.ref_var_names.clone();
    new.generator_behavior = old.generator_behavior;
    new.needs_hash_suffix = new.needs_hash_suffix && old.needs_hash_suffix;
}

/// kustomize's `MergeDataMapFrom` / `MergeBinaryDataMapFrom`: the old entries
/// plus the new ones (which win), as strings; no entries removes the field.
fn merge_string_map_field(new: &mut Map, old: &Map, field: &str) {
    let mut merged = string_map_of(old.get(field));
    for (k, v) in string_map_of(new.get(field)) {
        merged.insert(k, v);
    }
    new.shift_remove(field);
    if !merged.is_empty() {
        let map: Map = merged
            .into_iter()
            .map(|(k, v)| (k, Value::string(v)))
            .collect();
        new.insert(field, Value::Map(map));
    }
}

fn meta_field<'a>(object: &'a Map, field: &str) -> Option<&'a Value> {
    object.get("metadata").and_then(|m| m.get(field))
}

fn metadata_mut(object: &mut Map) -> Option<&mut Map> {
    let slot = object
        .entry("metadata")
        .or_insert_with(|| Value::Map(Map::default()));
    if !matches!(slot, Value::Map(_)) {
        *slot = Value::Map(Map::default());
    }
    slot.as_map_mut()
}

/// A string map as kyaml reads one: each scalar's text (other values: empty).
fn string_map_of(value: Option<&Value>) -> indexmap::IndexMap<String, String> {
    match value {
        Some(Value::Map(m)) => m
            .iter()
            .map(|(k, v)| (k.to_string(), hash::scalar_text(v)))
            .collect(),
        _ => indexmap::IndexMap::new(),
    }
}

/// Appends content-hash suffixes to the names of generated resources that need them.
pub fn add_hash_suffixes(
    resources: &mut [Resource],
    threads: &crate::parallel::Pool,
) -> Result<(), Error> {
    // Each generated resource is hashed on its own: in chunks on the build's
    // threads, the first error in order being the sequential loop's.
    threads.for_chunks(resources, HASH_CHUNK, |_, chunk| {
        chunk
            .iter_mut()
            .filter(|r| r.needs_hash_suffix)
            .try_for_each(add_hash_suffix)
    })
}

/// Resources per chunk below which [`add_hash_suffixes`] stays on one thread
/// (most resources need no hash; a generated one takes a few microseconds).
const HASH_CHUNK: usize = 128;

/// Appends the content hash to the name of one generated resource.
fn add_hash_suffix(resource: &mut Resource) -> Result<(), Error> {
    let Some(suffix) = hash::suffix_of(resource.object()) else {
        return Err(Error::Resource {
            path: resource.origin.to_path_buf(),
            message: format!(
                "{}: cannot add a content-hash name suffix to a generated object of this kind",
                resource.id()
            ),
        });
    };
    resource.store_previous_id();
    let name = format!("{}-{suffix}", resource.name());
    if let Some(meta) = metadata_mut(resource.object_mut()) {
        meta.insert("name", Value::string(name));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_wraps_like_kustomize() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"x"), "eA==");
        assert_eq!(base64(b"Hello World"), "SGVsbG8gV29ybGQ=");
        let hellos: Vec<u8> = (0..30).flat_map(|_| *b"\xffhello").collect();
        let expected = "/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbG\n\
xv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hl\n\
bGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv/2\n\
hlbGxv/2hlbGxv/2hlbGxv/2hlbGxv\n";
        assert_eq!(base64(&hellos), expected);
    }
}
