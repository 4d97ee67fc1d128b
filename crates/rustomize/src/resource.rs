//! Resources and their ids.
//!
//! A [`Resource`] is one Kubernetes object (a YAML mapping) plus the bookkeeping
//! kustomize keeps beside it: the ids it had before transformers renamed it, which
//! name-reference resolution needs to find objects by their original names.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustomize_yaml::{Map, Str, Value};
use thin_vec::ThinVec;

/// Group, version and kind of a resource.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Gvk {
    /// API group (`""` for the core group).
    pub group: Str,
    /// API version.
    pub version: Str,
    /// Kind.
    pub kind: Str,
}

impl Gvk {
    /// Splits an `apiVersion` into group and version.
    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        Gvk {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    /// The `apiVersion` string.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether this kind is cluster-scoped (never carries a namespace).
    pub fn is_cluster_scoped(&self) -> bool {
        crate::tables::cluster_scoped::is_cluster_scoped(&self.group, &self.version, &self.kind)
    }
}

impl fmt::Display for Gvk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or = |s: &str, d: &'static str| if s.is_empty() { d } else { s }.to_owned();
        write!(
            f,
            "{}.{}.{}",
            or(&self.kind, "[noKind]"),
            or(&self.version, "[noVer]"),
            or(&self.group, "[noGrp]")
        )
    }
}

/// The pseudo-namespace of cluster-scoped objects in id comparisons.
pub const NOT_NAMESPACED: &str = "_non_namespaceable_";

/// [`ResId::effective_namespace`] over the parts of an id, for callers that
/// hold them without a `ResId` (previous ids, selectors).
pub fn effective_namespace<'a>(
    group: &str,
    version: &str,
    kind: &str,
    namespace: &'a str,
) -> &'a str {
    if crate::tables::cluster_scoped::is_cluster_scoped(group, version, kind) {
        NOT_NAMESPACED
    } else if namespace.is_empty() || namespace == "default" {
        "default"
    } else {
        namespace
    }
}

/// The identity of a resource: kind and api group/version, name and namespace.
///
/// Its texts are [`Str`]s, held inline up to 24 bytes (nearly every kind,
/// group, version and namespace, and most names): reading an id then reads
/// no other memory than the resource's own, which a 100k-resource build does
/// for every resource in many passes (five heap blocks per id before).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ResId {
    /// Group, version and kind.
    pub gvk: Gvk,
    /// `metadata.name`.
    pub name: Str,
    /// `metadata.namespace` (empty if unset).
    pub namespace: Str,
}

impl ResId {
    /// The namespace as kustomize compares it: `""` means `default`, and every
    /// cluster-scoped object shares one pseudo-namespace.
    pub fn effective_namespace(&self) -> &str {
        effective_namespace(
            &self.gvk.group,
            &self.gvk.version,
            &self.gvk.kind,
            &self.namespace,
        )
    }

    /// The key under which kustomize considers two ids equal (`""` and `default`
    /// namespaces are the same).
    pub fn equality_key(&self) -> (&Gvk, &str, &str) {
        (&self.gvk, &self.name, self.effective_namespace())
    }
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        let name = if self.name.is_empty() {
            "[noName]"
        } else {
            &self.name
        };
        write!(f, "{}/{}.{}", self.gvk, name, ns)
    }
}

/// One Kubernetes object being built.
///
/// The bookkeeping lists are [`ThinVec`]s (a pointer, their length and
/// capacity kept with the items): they are mostly empty or short, and every
/// whole-list pass of a large build reads and moves these structs, 100k of
/// them in the synthetic benchmark.
#[derive(Clone, Debug)]
pub struct Resource {
    /// The object. Private so that every change goes through
    /// [`Resource::object_mut`], which drops the cached id.
    object: Map,
    /// The current id, read from `object` on first use after a change.
    /// Transformers and the id index ask for ids far more often than anything
    /// renames a resource, and rebuilding the strings on every call was a large
    /// share of a build.
    id: OnceLock<ResId>,
    /// `(name, effective namespace, kind)` this resource had before transformers
    /// changed it, oldest first (empty if never transformed).
    pub(crate) previous: ThinVec<(Str, Str, Str)>,
    /// Name prefixes added by each kustomization layer, innermost first.
    pub(crate) prefixes: ThinVec<String>,
    /// Name suffixes added by each kustomization layer, innermost first.
    pub(crate) suffixes: ThinVec<String>,
    /// The file the resource was read from, for error messages.
    pub(crate) origin: Arc<Path>,
    /// Generator bookkeeping: whether the name gets a content-hash suffix at the
    /// end of the build.
    pub(crate) needs_hash_suffix: bool,
    /// Generator bookkeeping: `create`, `merge` or `replace` (unspecified if
    /// not generated).
    pub(crate) generator_behavior: crate::generate::Behavior,
    /// Names of the vars whose source is this resource.
    #[allow(dead_code)] // read by generators and vars (being written)
    pub(crate) ref_var_names: ThinVec<String>,
    /// Annotation values read as their plain text (`1.50`, `~`, `2001-12-14`)
    /// that YAML types otherwise: `(key, text, typed value)`. kustomize prints an
    /// annotation from its node text unless a patch sent the resource through
    /// JSON, which types it; [`Resource::type_annotations`] does that step.
    pub(crate) plain_annotations: ThinVec<(String, String, Value)>,
    /// Roughly how many bytes the object's YAML will take, guessed by the
    /// build's last walk over it (`finish_each` in lib.rs); 0 before that.
    /// The parallel writer shares documents out by it. (Saturates at
    /// `u32::MAX`: a guess, four bytes fewer in every resource.)
    pub(crate) text_guess: u32,
}

impl Resource {
    /// Wraps an object.
    pub(crate) fn new(object: Map, origin: Arc<Path>) -> Self {
        Resource {
            object,
            id: OnceLock::new(),
            origin,
            needs_hash_suffix: false,
            generator_behavior: crate::generate::Behavior::Unspecified,
            ref_var_names: ThinVec::new(),
            previous: ThinVec::new(),
            prefixes: ThinVec::new(),
            suffixes: ThinVec::new(),
            plain_annotations: ThinVec::new(),
            text_guess: 0,
        }
    }

    /// Types the annotation values kept as plain text, as kustomize's JSON
    /// round trip of a patched resource does (a value changed since it was read
    /// is left alone).
    pub(crate) fn type_annotations(&mut self) {
        if self.plain_annotations.is_empty() {
            return;
        }
        let plain = std::mem::take(&mut self.plain_annotations);
        let Some(Value::Map(annotations)) = self
            .object
            .get_mut("metadata")
            .and_then(|m| m.get_mut("annotations"))
        else {
            return;
        };
        for (key, text, typed) in plain {
            if let Some(v) = annotations.get_mut(&key) {
                if v.as_str() == Some(text.as_str()) {
                    *v = typed;
                }
            }
        }
    }

    /// The file the resource was read from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// The object.
    pub fn object(&self) -> &Map {
        &self.object
    }

    /// The object, for changing it (the cached id is dropped, to be read again
    /// from the object when next asked for).
    pub(crate) fn object_mut(&mut self) -> &mut Map {
        self.id.take();
        &mut self.object
    }

    /// The object, for changing it, with the id it has now (the cached one is
    /// handed over rather than copied; it is read again when next asked for).
    /// For error messages that name the object as it was before the change.
    pub(crate) fn object_mut_with_id(&mut self) -> (ResId, &mut Map) {
        let id = match self.id.take() {
            Some(id) => id,
            None => self.read_id(),
        };
        (id, &mut self.object)
    }

    /// Takes the object out (leaving an empty one), with the id read and
    /// cached first so that [`Resource::id`] stays right meanwhile. For
    /// passes that edit one object while reading every resource's id (name
    /// references); [`Resource::put_object`] puts it back.
    pub(crate) fn take_object(&mut self) -> Map {
        self.id();
        std::mem::take(&mut self.object)
    }

    /// Puts back an object taken by [`Resource::take_object`]; with
    /// `may_change_id` the cached id is checked against it (see
    /// [`Resource::edit_where`]).
    pub(crate) fn put_object(&mut self, object: Map, may_change_id: bool) {
        self.edit_where(may_change_id, |slot| *slot = object);
    }

    /// Changes the object through `f`, keeping the cached id when the change
    /// left `apiVersion`, `kind`, `metadata.name` and `metadata.namespace` as
    /// they were (checked by comparing in place, without allocating). Most
    /// transformers edit fields other than these, and rebuilding every
    /// resource's id after each of them was a large share of a build.
    pub(crate) fn edit<R>(&mut self, f: impl FnOnce(&mut Map) -> R) -> R {
        self.edit_where(true, f)
    }

    /// [`Resource::edit`] for callers that know whether `f` can reach the id's
    /// fields (see [`crate::fieldspec::FieldSpec::may_touch_id`]): with
    /// `may_change_id` false the id is kept without comparing, as that
    /// comparison (four lookups) was itself a visible share of a build.
    pub(crate) fn edit_where<R>(
        &mut self,
        may_change_id: bool,
        f: impl FnOnce(&mut Map) -> R,
    ) -> R {
        let out = f(&mut self.object);
        if let Some(id) = self.id.get() {
            if may_change_id {
                if !self.id_still_matches(id) {
                    self.id.take();
                }
            } else {
                debug_assert!(
                    self.id_still_matches(id),
                    "an edit outside the id changed it"
                );
            }
        }
        out
    }

    /// Whether `id` is what [`Resource::id`] would read from the object now.
    fn id_still_matches(&self, id: &ResId) -> bool {
        let api_version = self.str_at(&["apiVersion"]);
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        id.gvk.group == group
            && id.gvk.version == version
            && id.gvk.kind == self.str_at(&["kind"])
            && id.name == self.str_at(&["metadata", "name"])
            && id.namespace == self.str_at(&["metadata", "namespace"])
    }

    /// Replaces the object.
    pub(crate) fn set_object(&mut self, object: Map) {
        *self.object_mut() = object;
    }

    /// Consumes the resource, giving its object as a map.
    pub(crate) fn into_object(self) -> Map {
        self.object
    }

    /// Consumes the resource, giving its object.
    pub fn into_value(self) -> Value {
        Value::Map(self.object)
    }

    fn str_at(&self, path: &[&str]) -> &str {
        let mut keys = path.iter();
        let mut cur = keys.next().and_then(|k| self.object.get(*k));
        for key in keys {
            cur = cur.and_then(|v| v.get(key));
        }
        cur.and_then(Value::as_str).unwrap_or("")
    }

    /// `kind` (empty if unset or not a string).
    pub fn kind(&self) -> &str {
        &self.id().gvk.kind
    }

    /// `metadata.name` (empty if unset or not a string).
    pub fn name(&self) -> &str {
        &self.id().name
    }

    /// `metadata.namespace` (empty if unset or not a string).
    pub fn namespace(&self) -> &str {
        &self.id().namespace
    }

    /// Group, version and kind.
    pub fn gvk(&self) -> &Gvk {
        &self.id().gvk
    }

    /// The current id (computed once per change of the object).
    pub fn id(&self) -> &ResId {
        self.id.get_or_init(|| self.read_id())
    }

    fn read_id(&self) -> ResId {
        ResId {
            gvk: Gvk::from_api_version(self.str_at(&["apiVersion"]), self.str_at(&["kind"])),
            name: self.str_at(&["metadata", "name"]).into(),
            namespace: self.str_at(&["metadata", "namespace"]).into(),
        }
    }

    /// Caches the id the object has now, built in the strings of `old` (the
    /// id taken out by [`Resource::object_mut_with_id`] before an edit that
    /// changed a field or two of it): only the fields that differ are copied,
    /// where reading the id afresh would copy all five.
    pub(crate) fn recache_id(&mut self, mut old: ResId) {
        if self.id.get().is_some() {
            return;
        }
        let api_version = self.str_at(&["apiVersion"]);
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        set_text(&mut old.gvk.group, group);
        set_text(&mut old.gvk.version, version);
        set_text(&mut old.gvk.kind, self.str_at(&["kind"]));
        set_text(&mut old.name, self.str_at(&["metadata", "name"]));
        set_text(&mut old.namespace, self.str_at(&["metadata", "namespace"]));
        // Empty just above, and nothing else holds `self`.
        let _ = self.id.set(old);
    }

    /// Takes the id (without copying a cached one) and the object out of the
    /// resource, leaving an empty object and the rest of its bookkeeping
    /// (history, prefixes, ...) in place: see [`crate::output::Leftovers`] for
    /// why that is not freed yet.
    pub(crate) fn take_id_and_object(&mut self) -> (ResId, Map) {
        let id = match self.id.take() {
            Some(id) => id,
            None => self.read_id(),
        };
        (id, std::mem::take(&mut self.object))
    }

    /// Previous ids, oldest first; their group and version are the current ones,
    /// as kustomize records only names, namespaces and kinds.
    pub fn previous_ids(&self) -> Vec<ResId> {
        let gvk = self.gvk();
        self.previous
            .iter()
            .map(|(name, namespace, kind)| ResId {
                gvk: Gvk {
                    kind: Str::from(kind.as_str()),
                    ..gvk.clone()
                },
                name: Str::from(name.as_str()),
                namespace: Str::from(namespace.as_str()),
            })
            .collect()
    }

    /// The id the resource had when it was loaded.
    pub fn original_id(&self) -> ResId {
        match self.previous.first() {
            Some((name, namespace, kind)) => ResId {
                gvk: Gvk {
                    kind: Str::from(kind.as_str()),
                    ..self.gvk().clone()
                },
                name: Str::from(name.as_str()),
                namespace: Str::from(namespace.as_str()),
            },
            None => self.id().clone(),
        }
    }

    /// The kind of the original id.
    pub(crate) fn original_kind(&self) -> &str {
        match self.previous.first() {
            Some((_, _, kind)) => kind,
            None => self.kind(),
        }
    }

    /// The effective namespace of the original id (see [`ResId::effective_namespace`];
    /// a recorded namespace is already effective).
    pub(crate) fn original_effective_namespace(&self) -> &str {
        match self.previous.first() {
            Some((_, namespace, _)) if namespace.is_empty() => "default",
            Some((_, namespace, _)) => namespace,
            None => self.id().effective_namespace(),
        }
    }

    /// Records the current id as a previous one (kustomize stores the effective
    /// namespace, so an unset namespace is remembered as `default`).
    ///
    /// An entry equal to the last one is not stored again: every reader asks
    /// whether any previous id matches, or for the first one. The list grows
    /// one entry at a time (a resource gets a few, one per renaming layer;
    /// doubling left a quarter to a half of every list unused, and these
    /// lists live as long as the build).
    pub(crate) fn store_previous_id(&mut self) {
        let id = self.id();
        let (name, namespace, kind) = (&id.name, id.effective_namespace(), &id.gvk.kind);
        if let Some((n, ns, k)) = self.previous.last() {
            if n == name && ns == namespace && k == kind {
                return;
            }
        }
        let entry = (name.clone(), Str::from(namespace), kind.clone());
        self.previous.reserve_exact(1);
        self.previous.push(entry);
    }
}

/// Makes `slot` read `text`, copying only if it differs.
fn set_text(slot: &mut Str, text: &str) {
    if !rustomize_yaml::map::key_eq(slot, text) {
        slot.clear();
        slot.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every whole-list pass of a build reads (and the fold, the sort and
    /// the output move) these structs: a field added here costs in every
    /// one of them.
    #[test]
    fn resource_stays_small() {
        let size = std::mem::size_of::<Resource>();
        assert!(size <= 216, "Resource is {size} bytes");
    }
}
