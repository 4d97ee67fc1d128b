//! The patch transformers: `patchesStrategicMerge`, `patches` and
//! `patchesJson6902`. This module owns loading patch text (a file or inline),
//! telling strategic-merge patches from JSON 6902 ones the way kustomize does,
//! finding their targets, and the bookkeeping around a merge (kind, name and
//! namespace survive a strategic merge unless the patch's options allow a change).
//! The merging itself is [`super::strategic_merge`] and [`super::patch_json6902`].

use std::path::{Path, PathBuf};

use rustomize_yaml::{ParseLimits, Value};

use super::patch_json6902::{self, Operation};
use super::strategic_merge::{self, Outcome};
use crate::accumulate::resources_from_text;
use crate::error::{excerpt, Error};
use crate::load::kustomization::PatchEntry;
use crate::load::Loader;
use crate::plugins::SmPatchSource;
use crate::resource::{ResId, Resource};
use crate::schema::MergeSchema;
use crate::selector::Matcher;

/// What a patch transformer needs from its kustomization.
pub struct PatchEnv<'a> {
    /// The kustomization's loader (patch files are read through it).
    pub loader: &'a Loader,
    /// The file configuring the patch (for messages, and the origin of inline
    /// patches).
    pub file: &'a Path,
    /// Merge keys and strategies.
    pub schema: &'a MergeSchema,
    /// Parser limits.
    pub limits: &'a ParseLimits,
    /// The build's threads (a patch with a `target` merges into the
    /// resources it selects in chunks, see `Pool::for_chunks` in `parallel.rs`).
    pub threads: &'a crate::parallel::Pool,
}

impl PatchEnv<'_> {
    fn fail(&self, message: String) -> Error {
        Error::Transform {
            path: self.file.to_path_buf(),
            message,
        }
    }

    fn read(&self, file: &str) -> Result<(PathBuf, String), Error> {
        self.loader.read_file(file).map_err(|e| {
            self.fail(format!(
                "failed to get the patch file from path({file}): {}",
                e.full_message()
            ))
        })
    }
}

/// A `PatchStrategicMergeTransformer`: each source is inline YAML or a file of
/// patches, each patch applied to the one resource its own id names.
pub fn strategic_merge(
    env: &PatchEnv<'_>,
    sources: &[SmPatchSource],
    resources: &mut Vec<Resource>,
) -> Result<(), Error> {
    let mut patches = Vec::new();
    let limits = smp_limits(env.limits);
    for source in sources {
        // `field`: the kustomization's `patchesStrategicMerge`, or the
        // `paths` of a PatchStrategicMergeTransformer config.
        let from_file = |field: &str, file: &str| -> Result<Vec<Resource>, Error> {
            let (path, text) = env
                .loader
                .read_file(file)
                .map_err(|e| e.in_field(env.file, field, file))?;
            resources_from_text(&path, &text, &limits)
        };
        match source {
            SmPatchSource::Guess(entry) => match resources_from_text(env.file, entry, &limits) {
                Ok(found) => patches.extend(found),
                Err(_) => patches.extend(from_file("patchesStrategicMerge", entry)?),
            },
            SmPatchSource::File(file) => patches.extend(from_file("paths", file)?),
            SmPatchSource::Inline(text) => {
                patches.extend(resources_from_text(env.file, text, &limits)?)
            }
        }
    }
    if patches.is_empty() && !sources.is_empty() {
        return Err(env.fail("patch appears to be empty".to_owned()));
    }
    for patch in &patches {
        let target = unique_target(env, resources, patch)?;
        apply_strategic(env, resources, &[target], patch, true, false, false)?;
    }
    Ok(())
}

/// A `PatchTransformer` (one `patches` entry): strategic merge or JSON 6902,
/// with an optional target selector.
pub fn patch(
    env: &PatchEnv<'_>,
    entry: &PatchEntry,
    resources: &mut Vec<Resource>,
) -> Result<(), Error> {
    {
        let (text, source, origin) = patch_text(env, entry)?;
        // kustomize trims inline patches only; a file keeps its final newline.
        let text = if entry.patch.is_some() {
            text.trim()
        } else {
            text.as_str()
        };
        let sm = resources_from_text(&origin, text, &smp_limits(env.limits));
        let json = json_ops(text, env.limits);
        let (sm, json) = match (sm, json) {
            (Ok(_), Ok(_)) => {
                return Err(env.fail(format!(
                    "illegally qualifies as both an SM and JSON patch: {source}"
                )))
            }
            (Err(sm), Err(json)) => {
                return Err(env.fail(format!(
                    "unable to parse SM or JSON patch from {source}: {}",
                    parse_failures(&sm, &json)
                )))
            }
            // An empty operation list (`[]`, `null`, a comment) is a valid JSON
            // patch, and kustomize's resource reader takes it as an empty list of
            // resources too.
            (Err(_), Ok(ops)) if ops.is_empty() => {
                return Err(env.fail(format!(
                    "illegally qualifies as both an SM and JSON patch: {source}"
                )))
            }
            // No resources (`{}`): kustomize falls back to the JSON reading and
            // reports why that failed; only an empty text is a no-op.
            (Ok(sm), Err(json)) if sm.is_empty() && !text.is_empty() => {
                return Err(env.fail(format!("{source}: {}", excerpt(&json, 2 * ECHO_CHARS))))
            }
            (Ok(sm), Err(_)) => (Some(sm), None),
            (Err(_), Ok(ops)) => (None, Some(ops)),
        };
        if let Some(sm) = sm.filter(|p| !p.is_empty()) {
            match &entry.target {
                Some(selector) => {
                    let [patch] = sm.as_slice() else {
                        return Err(env.fail(format!(
                            "Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field: {source}"
                        )));
                    };
                    let matcher = Matcher::new(selector).map_err(|e| env.fail(e))?;
                    let selected: Vec<usize> = (0..resources.len())
                        .filter(|&i| resources.get(i).is_some_and(|r| matcher.selects(r)))
                        .collect();
                    apply_strategic(
                        env,
                        resources,
                        &selected,
                        patch,
                        true,
                        entry.allow_name_change,
                        entry.allow_kind_change,
                    )?;
                }
                None => {
                    let before = resources.len();
                    for patch in &sm {
                        // kustomize leaves a deleted resource in place as a nil node
                        // until the whole entry is done; looking up the next patch's
                        // target then dereferences it and kustomize v5.5.0 crashes.
                        if resources.len() < before {
                            return Err(env.fail(format!(
                                "kustomize v5.5.0 crashes on {source}: a document of this patch deletes a resource ($patch: delete) and a later document of the same patch needs a lookup; split the patch into separate entries"
                            )));
                        }
                        let target = unique_target(env, resources, patch)?;
                        apply_strategic(
                            env,
                            resources,
                            &[target],
                            patch,
                            false,
                            entry.allow_name_change,
                            entry.allow_kind_change,
                        )?;
                    }
                }
            }
        } else {
            let ops = json.unwrap_or_default();
            let Some(selector) = &entry.target else {
                return Err(env.fail(format!("must specify a target for JSON patch {source}")));
            };
            apply_json(env, resources, selector, &ops, &source, true)?;
        }
    }
    Ok(())
}

/// A `PatchJson6902Transformer` (one `patchesJson6902` entry): JSON patches
/// with a required target.
pub fn json6902(
    env: &PatchEnv<'_>,
    entry: &PatchEntry,
    resources: &mut [Resource],
) -> Result<(), Error> {
    {
        let Some(selector) = &entry.target else {
            return Err(env.fail("must specify a target for patch".to_owned()));
        };
        if selector.name.is_empty() {
            return Err(env.fail("must specify the target name".to_owned()));
        }
        let (text, source, _) = patch_text(env, entry)?;
        let ops =
            json_ops(&text, env.limits).map_err(|e| env.fail(format!("decoding {source}: {e}")))?;
        if ops.is_empty() {
            return Err(env.fail(format!("patch appears to be empty; {source}")));
        }
        apply_json(env, resources, selector, &ops, &source, false)?;
    }
    Ok(())
}

/// The text of a patch entry, a description for messages, and the file it came from.
fn patch_text(env: &PatchEnv<'_>, entry: &PatchEntry) -> Result<(String, String, PathBuf), Error> {
    match (&entry.path, &entry.patch) {
        (None, None) => Err(env.fail("must specify one of patch and path".to_owned())),
        (Some(_), Some(_)) => {
            Err(env.fail("patch and path can't be set at the same time".to_owned()))
        }
        (None, Some(inline)) => Ok((
            inline.clone(),
            format!("[patch: {:?}]", excerpt(inline, ECHO_CHARS)),
            env.file.to_path_buf(),
        )),
        (Some(file), None) => {
            let (path, text) = env.read(file)?;
            Ok((
                text,
                format!("[path: {:?}]", excerpt(file, ECHO_CHARS)),
                path,
            ))
        }
    }
}

/// How many characters of echoed input (inline patches, names, file names) an
/// error line shows.
const ECHO_CHARS: usize = 60;
/// How many characters of a patch library's message (which may echo paths) an
/// error line shows.
const MESSAGE_CHARS: usize = 240;

/// Why a `patches` entry is neither a strategic-merge nor a JSON 6902 patch, in
/// one line: each attempt's cause, or the shared one when the text is not even
/// YAML. (kustomize says only that both failed.)
fn parse_failures(sm: &Error, json: &str) -> String {
    let sm = match sm {
        Error::Yaml { message, .. } => format!("invalid YAML: {message}"),
        Error::Resource { message, .. } => message.clone(),
        other => other.to_string(),
    };
    // Compared whole, before cutting: the same reader error cut at two
    // different lengths would no longer look the same.
    if sm.strip_prefix("invalid YAML: ") == Some(json) {
        let sm = excerpt(&sm, 4 * ECHO_CHARS);
        return format!("{sm} (read as a strategic-merge patch and as a JSON 6902 patch)");
    }
    let sm = excerpt(&sm, 2 * ECHO_CHARS);
    let json = excerpt(json, 2 * ECHO_CHARS);
    format!("as a strategic-merge patch: {sm}; as a JSON 6902 patch: {json}")
}

/// How strategic-merge patches are read: as resources, except that their
/// annotation values are typed (kustomize merges them as JSON, so a patch's
/// `1.50` lands as `"1.5"`, unlike a resource's own annotations).
fn smp_limits(limits: &ParseLimits) -> ParseLimits {
    ParseLimits {
        annotation_text: false,
        ..limits.clone()
    }
}

/// Decodes JSON 6902 operations from JSON or YAML text.
fn json_ops(text: &str, limits: &ParseLimits) -> Result<Vec<Operation>, String> {
    if text.is_empty() {
        return Err("empty json patch operations".to_owned());
    }
    // kustomize converts the ops to JSON with sigs.k8s.io/yaml: YAML 1.1 typing
    // (`value: yes` is true), unlike strategic-merge patches.
    let limits = ParseLimits {
        yaml11: true,
        annotation_text: false,
        ..limits.clone()
    };
    let docs = rustomize_yaml::parse_documents(text, &limits).map_err(|e| e.message)?;
    let mut docs = docs.into_iter().filter(|d| !d.is_null());
    let doc = docs.next().unwrap_or(Value::Null);
    patch_json6902::decode(&doc)
}

/// The one resource whose current or any previous id equals the patch's id.
fn unique_target(
    env: &PatchEnv<'_>,
    resources: &[Resource],
    patch: &Resource,
) -> Result<usize, Error> {
    let id = patch.id();
    let key = id.equality_key();
    let mut found = Vec::new();
    for (i, r) in resources.iter().enumerate() {
        let current = r.id();
        let hit = current.equality_key() == key
            || r.previous_ids().iter().any(|p| p.equality_key() == key);
        if hit {
            found.push(i);
        }
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(env.fail(format!(
            "no resource matches strategic merge patch \"{id}\" from {}: no matches for Id {id}; failed to find unique target for patch {id}",
            patch.origin().display()
        ))),
        _ => Err(env.fail(format!(
            "multiple matches for Id {id} (patch from {}); failed to find unique target for patch {id}",
            patch.origin().display()
        ))),
    }
}

/// Adds an empty `metadata.annotations` map where `metadata` is a map without
/// one; whether it did.
fn ensure_annotations(object: &mut rustomize_yaml::Map) -> bool {
    match object.get_mut("metadata") {
        Some(Value::Map(meta)) if !meta.contains_key("annotations") => {
            meta.insert("annotations", Value::Map(rustomize_yaml::Map::default()));
            true
        }
        _ => false,
    }
}

/// Removes a `metadata.annotations` that is an empty map.
fn drop_empty_annotations(object: &mut rustomize_yaml::Map) {
    if let Some(Value::Map(meta)) = object.get_mut("metadata") {
        if matches!(meta.get("annotations"), Some(Value::Map(a)) if a.is_empty()) {
            meta.shift_remove("annotations");
        }
    }
}

/// Merges `patch` into each selected resource; resources the patch deletes are dropped.
fn apply_strategic(
    env: &PatchEnv<'_>,
    resources: &mut Vec<Resource>,
    selected: &[usize],
    patch: &Resource,
    adopt_api_version: bool,
    allow_name_change: bool,
    allow_kind_change: bool,
) -> Result<(), Error> {
    // Each selected resource merges on its own: in chunks on free threads
    // when many are selected, the first error in order being the sequential
    // loop's.
    let deleted = std::sync::Mutex::new(Vec::new());
    let chosen = |i: usize| selected.binary_search(&i).is_ok();
    let min_chunk = if selected.len() >= 2 * super::MIN_CHUNK {
        super::MIN_CHUNK
    } else {
        usize::MAX
    };
    env.threads
        .for_chunks(resources, min_chunk, |offset, chunk| {
            for (j, resource) in chunk.iter_mut().enumerate() {
                let i = offset + j;
                if !chosen(i) {
                    continue;
                }
                if merge_one(
                    env,
                    resource,
                    patch,
                    adopt_api_version,
                    allow_name_change,
                    allow_kind_change,
                )? {
                    deleted
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(i);
                }
            }
            Ok(())
        })?;
    let deleted = deleted
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !deleted.is_empty() {
        let mut i = 0;
        resources.retain(|_| {
            let keep = !deleted.contains(&i);
            i += 1;
            keep
        });
    }
    Ok(())
}

/// Merges `patch` into one selected resource; true when the merge deleted it.
fn merge_one(
    env: &PatchEnv<'_>,
    resource: &mut Resource,
    patch: &Resource,
    adopt_api_version: bool,
    allow_name_change: bool,
    allow_kind_change: bool,
) -> Result<bool, Error> {
    // kustomize merges through JSON, which types plain annotation texts.
    resource.type_annotations();
    let mut body = patch.object().clone();
    if adopt_api_version {
        if let Some(api_version) = resource.object().get("apiVersion").cloned() {
            body.insert("apiVersion", api_version);
        }
    }
    if allow_name_change || allow_kind_change {
        resource.store_previous_id();
    }
    // The id before the merge (taken out, not copied): restored below
    // and re-read in its own strings.
    let (before, object) = resource.object_mut_with_id();
    let outcome = strategic_merge::apply_owned(object, body, &before.gvk, env.schema)
        .map_err(|e| env.fail(format!("{}: {e}", patch_label(patch))))?;
    if outcome == Outcome::Deleted || resource.object().is_empty() {
        return Ok(true);
    }
    // kustomize's list merge re-appends target elements that lack a merge
    // key once per key, so patch after patch can double a list: hold the
    // merged resource to the document growth bound.
    let size = resource.object().iter().fold(0usize, |n, (k, v)| {
        n.saturating_add(k.len())
            .saturating_add(patch_json6902::estimated_size(v))
    });
    if size > env.limits.max_document_bytes {
        return Err(env.fail(format!(
            "{}: the patch grows {} past {} bytes, estimated in memory (limit: --max-document-bytes, ParseLimits::max_document_bytes)",
            patch_label(patch),
            resource.id(),
            env.limits.max_document_bytes
        )));
    }
    restore_identity(resource, &before, allow_name_change, allow_kind_change);
    resource.recache_id(before);
    Ok(false)
}

fn patch_label(patch: &Resource) -> String {
    format!("patch {} from {}", patch.id(), patch.origin().display())
}

/// kustomize puts back kind and name (unless allowed to change) and namespace.
fn restore_identity(resource: &mut Resource, before: &ResId, allow_name: bool, allow_kind: bool) {
    if !allow_kind {
        resource
            .object_mut()
            .insert("kind", Value::string(before.gvk.kind.as_str()));
    }
    let meta = resource
        .object_mut()
        .entry("metadata")
        .or_insert_with(|| Value::Map(Default::default()));
    let Value::Map(meta) = meta else {
        return;
    };
    if !allow_name {
        meta.insert("name", Value::string(before.name.as_str()));
    }
    if before.namespace.is_empty() {
        meta.shift_remove("namespace");
    } else {
        meta.insert("namespace", Value::string(before.namespace.as_str()));
    }
}

/// Applies JSON 6902 operations to every resource the selector picks.
fn apply_json(
    env: &PatchEnv<'_>,
    resources: &mut [Resource],
    selector: &crate::selector::Selector,
    ops: &[Operation],
    source: &str,
    store_previous_id: bool,
) -> Result<(), Error> {
    let matcher = Matcher::new(selector).map_err(|e| env.fail(e))?;
    // Each selected resource is patched on its own: in chunks on the build's
    // threads when there are many, the first error in order being the
    // sequential loop's.
    env.threads
        .for_chunks(resources, super::MIN_CHUNK, |_, chunk| {
            chunk
                .iter_mut()
                .filter(|resource| matcher.selects(resource))
                .try_for_each(|resource| {
                    if store_previous_id {
                        resource.store_previous_id();
                    }
                    // kustomize patches through JSON, which types plain annotation texts.
                    resource.type_annotations();
                    // The id before the patch (taken out, not copied), for errors and to
                    // re-read the new one in its strings.
                    let (id, object) = resource.object_mut_with_id();
                    // kustomize's resources always carry annotations while they are
                    // patched (its own bookkeeping), so a path into `metadata.annotations`
                    // finds the map even when the resource has none; an empty map is
                    // dropped again afterwards, as kustomize drops it at the end.
                    let added = ensure_annotations(object);
                    let result =
                        patch_json6902::apply_to_object(object, ops, env.limits.max_document_bytes);
                    if added {
                        drop_empty_annotations(object);
                    }
                    match result {
                        Ok(()) => {
                            resource.recache_id(id);
                            Ok(())
                        }
                        Err(e) => Err(env.fail(format!(
                            "JSON patch {source} on {}: {}",
                            excerpt(&id.to_string(), ECHO_CHARS),
                            excerpt(&e, MESSAGE_CHARS)
                        ))),
                    }
                })
        })
}
