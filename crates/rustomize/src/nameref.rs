//! Reference resolution: after all transformers ran, fields that name another
//! object (a RoleBinding's `roleRef`, a volume's `configMap.name`, a webhook's
//! service, ...) are updated to the object's final name and namespace.
//!
//! kustomize's rules, kept exactly: an object is a candidate for a reference if
//! one of its *previous* names equals the referenced name and one of its previous
//! kinds matches the table's target kind; candidates in other namespaces are
//! ruled out unless the referrer is cluster-scoped, the candidate is
//! cluster-scoped or a ServiceAccount, or (for RoleBindings) a subject names the
//! candidate's namespace. Ties are broken by matching name prefixes/suffixes.
//!
//! Unlike a direct port, candidates are found through an index by previous name,
//! so the cost is linear in the number of references, not quadratic in resources.

use std::hash::BuildHasher;
use std::sync::Mutex;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use rustomize_yaml::{Map, Str, Value};

use crate::fieldspec::{Compiled, Leaf};
use crate::parallel::Pool;
use crate::resource::{Gvk, Resource, NOT_NAMESPACED};
use crate::tables::field_specs::{FieldSpecTables, NameReference};

/// A target kind selector (empty parts match anything).
struct Target<'a> {
    group: &'a str,
    version: &'a str,
    kind: &'a str,
}

impl Target<'_> {
    fn selects_parts(&self, group: &str, version: &str, kind: &str) -> bool {
        (self.group.is_empty() || self.group == group)
            && (self.version.is_empty() || self.version == version)
            && (self.kind.is_empty() || self.kind == kind)
    }
}

/// What the resolver needs to know about each candidate: the resource itself
/// (its cached id and bookkeeping, read in place while the objects are taken
/// out, see [`resolve`]) and the two facts that cost a table lookup. Copying
/// the ids' strings per resource was the largest block of a 100k-resource
/// build's peak memory; borrowing them field by field still cost 128 bytes a
/// resource, this is 32.
struct Facts<'r> {
    resource: &'r Resource,
    effective_namespace: &'r str,
    cluster_scoped: bool,
}

impl<'r> Facts<'r> {
    fn of(r: &'r Resource) -> Facts<'r> {
        let id = r.id();
        Facts {
            resource: r,
            cluster_scoped: id.gvk.is_cluster_scoped(),
            effective_namespace: id.effective_namespace(),
        }
    }

    fn gvk(&self) -> &'r Gvk {
        &self.resource.id().gvk
    }

    fn name(&self) -> &'r str {
        &self.resource.id().name
    }

    fn namespace(&self) -> &'r str {
        &self.resource.id().namespace
    }

    fn original_namespace(&self) -> &'r str {
        self.resource.original_effective_namespace()
    }

    /// Previous ids as (name, effective namespace, kind); their group and
    /// version are the current ones (see [`Resource::previous_ids`]).
    fn previous(&self) -> &'r [(Str, Str, Str)] {
        &self.resource.previous
    }

    fn prefixes(&self) -> &'r [String] {
        &self.resource.prefixes
    }

    fn suffixes(&self) -> &'r [String] {
        &self.resource.suffixes
    }

    fn kind(&self) -> &'r str {
        &self.gvk().kind
    }

    /// Whether one of the previous ids is of a kind `selector` selects.
    fn previously(&self, selector: &Target<'_>) -> bool {
        let gvk = self.gvk();
        self.previous()
            .iter()
            .any(|(_, _, kind)| selector.selects_parts(&gvk.group, &gvk.version, kind))
    }
}

/// Resources per job of the reference pass. Each resource is resolved on its
/// own against a read-only index, so chunks run on the build's threads; a
/// job costs an atomic increment and a lock.
const CHUNK: usize = 512;

/// Updates every name reference in `resources`, on up to `threads` threads.
/// The error is the one a pass in resource order meets first. `first` is
/// applied to each object before its references (the build's annotation
/// cleanup, which reads and writes no reference or id field: made here, it
/// costs no walk over every resource of its own).
pub fn resolve(
    resources: &mut [Resource],
    references: &[NameReference],
    threads: &Pool,
    first: fn(&mut Map),
) -> Result<(), String> {
    // The objects are taken out to be edited while every resource's id (kept
    // cached) is read through borrowed facts; they go back whatever happens.
    // Large builds take and put back the objects on the build's threads, as
    // they sweep the resources (see `SWEEP_CHUNK`).
    let mut objects: Vec<Map> = threads.map_vec(resources, SWEEP_CHUNK, Resource::take_object);
    let mut touched = vec![false; objects.len()];
    let result = resolve_objects(
        resources,
        &mut objects,
        &mut touched,
        references,
        threads,
        first,
    );
    let back: Vec<(Map, bool)> = objects.into_iter().zip(touched).collect();
    threads.zip_each(
        resources,
        back,
        SWEEP_CHUNK,
        |resource, (object, touched)| {
            resource.put_object(object, touched);
        },
    );
    result
}

fn resolve_objects(
    resources: &[Resource],
    objects: &mut [Map],
    touched: &mut [bool],
    references: &[NameReference],
    threads: &Pool,
    first: fn(&mut Map),
) -> Result<(), String> {
    // Every (reference, referrer spec) pair, its path split once: once per
    // process for the built-in table.
    let own;
    let pairs: &[Pair<'_>] = match builtin_pairs(references) {
        Some(pairs) => pairs,
        None => {
            own = compile_pairs(references);
            &own
        }
    };
    // One sweep over the resources gathers everything the index holds: each
    // resource's names and namespaces live in allocations of their own, and on
    // a tree too large for the cache every further sweep missed on each of
    // them again (a 100k-resource build spent 60 ms on five sweeps). Large
    // builds sweep in chunks on the build's threads, merged in order.
    let mut swept = threads.map_chunks_ref(resources, SWEEP_CHUNK, Sweep::of);
    // (original namespace, current effective namespace) pairs present, for the
    // "is there any candidate originally in this namespace" test.
    let mut namespace_pairs: HashSet<(&str, &str)> = HashSet::new();
    let mut original_namespaces: HashSet<&str> = HashSet::new();
    // The pairs that can select each original kind, in table order: the
    // table has hundreds of specs and a resource is selected by a few, so
    // each resource walks only its kind's list.
    let mut by_kind: HashMap<&str, Vec<usize>> = HashMap::new();
    for sweep in &mut swept {
        namespace_pairs.extend(sweep.namespace_pairs.drain());
        original_namespaces.extend(sweep.original_namespaces.drain());
        for kind in sweep.kinds.drain(..) {
            if !by_kind.contains_key(kind) {
                let positions = pairs
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, c))| c.spec.kind.is_empty() || c.spec.kind == kind)
                    .map(|(p, _)| p)
                    .collect();
                by_kind.insert(kind, positions);
            }
        }
    }
    let by_previous_name = ByName::of(
        swept.iter().map(|s| s.names.len()).sum(),
        swept.iter().flat_map(|s| s.names.iter()),
        threads,
    );
    // The facts stay in their chunks (copying them into one list cost more
    // than the parallel sweep saved).
    let chunk_len = swept.get(1).map_or(resources.len(), |s| s.offset).max(1);
    debug_assert!(swept
        .iter()
        .enumerate()
        .all(|(k, s)| s.offset == k * chunk_len));
    let facts = ChunkedFacts {
        chunk_len,
        chunks: swept.into_iter().map(|s| s.facts).collect(),
    };
    let index = Index {
        facts: &facts,
        by_previous_name,
        namespace_pairs,
        original_namespaces,
    };
    let pass = Pass {
        index: &index,
        pairs,
        by_kind: &by_kind,
    };

    let chunks: Vec<Mutex<Chunk<'_>>> = objects
        .chunks_mut(CHUNK)
        .zip(touched.chunks_mut(CHUNK))
        .enumerate()
        .map(|(c, (objects, touched))| Mutex::new((c * CHUNK, objects, touched)))
        .collect();
    let results = threads.run_jobs(chunks.len(), |c| {
        let Some(Ok(mut chunk)) = chunks.get(c).map(Mutex::lock) else {
            return Ok(());
        };
        let (start, objects, touched) = &mut *chunk;
        for (k, (object, touched)) in objects.iter_mut().zip(touched.iter_mut()).enumerate() {
            first(object);
            pass.resolve_one(*start + k, object, touched)?;
        }
        Ok(())
    });
    results.into_iter().collect()
}

/// A name reference and one of its referrer specs, compiled.
type Pair<'a> = (&'a NameReference, Compiled<'a>);

/// Every (reference, referrer spec) pair of `references`, in table order.
fn compile_pairs(references: &[NameReference]) -> Vec<Pair<'_>> {
    references
        .iter()
        .flat_map(|r| r.referrers.iter().map(move |s| (r, Compiled::new(s, None))))
        .collect()
}

/// The compiled pairs of the built-in table when `references` is that table
/// itself (the process's copy, not an equal one: a kustomization's
/// `configurations` extend a copy), compiled on first use and kept for the
/// process. The table has 167 referrer specs; compiling them was ~2% of a
/// `build --all` run's CPU, once per root, and ~0.15 ms of every build.
fn builtin_pairs(references: &[NameReference]) -> Option<&'static [Pair<'static>]> {
    let builtin: &'static FieldSpecTables = FieldSpecTables::builtin_shared();
    let table = builtin.name_references.as_slice();
    if !std::ptr::eq(references, table) {
        return None;
    }
    static PAIRS: std::sync::OnceLock<Vec<Pair<'static>>> = std::sync::OnceLock::new();
    Some(PAIRS.get_or_init(|| compile_pairs(table)))
}

/// Resources per chunk of the sweeps of a large build over its resources
/// (taking the objects out, gathering the index, putting them back), which
/// run on the build's threads from twice this many.
const SWEEP_CHUNK: usize = 4096;

/// Every resource's facts, in the chunks the sweep gathered them in (all
/// `chunk_len` long but the last, as [`Pool::map_chunks_ref`] cuts them).
struct ChunkedFacts<'r> {
    chunk_len: usize,
    chunks: Vec<Vec<Facts<'r>>>,
}

impl<'r> ChunkedFacts<'r> {
    /// The facts of the resource at position `i`.
    fn get(&self, i: usize) -> Option<&Facts<'r>> {
        self.chunks.get(i / self.chunk_len)?.get(i % self.chunk_len)
    }
}

/// What one chunk of resources gives the index: their facts and
/// `(previous name hash, entry)` pairs in resource order, the namespaces
/// present, and the original kinds (each once, in order of appearance).
struct Sweep<'r> {
    offset: usize,
    facts: Vec<Facts<'r>>,
    names: Vec<Named>,
    namespace_pairs: HashSet<(&'r str, &'r str)>,
    original_namespaces: HashSet<&'r str>,
    kinds: Vec<&'r str>,
}

impl<'r> Sweep<'r> {
    /// The sweep of `chunk`, whose first resource is at position `offset`.
    fn of(offset: usize, chunk: &'r [Resource]) -> Sweep<'r> {
        let mut sweep = Sweep {
            offset,
            facts: Vec::with_capacity(chunk.len()),
            names: Vec::with_capacity(chunk.len()),
            namespace_pairs: HashSet::new(),
            original_namespaces: HashSet::new(),
            kinds: Vec::new(),
        };
        let mut kinds_seen: HashSet<&str> = HashSet::new();
        for (k, resource) in chunk.iter().enumerate() {
            let f = Facts::of(resource);
            let scope = Named::scope_of(&f);
            // Each distinct previous name hash once (the list is short): two
            // names of one hash would list the resource twice in their range.
            let start = sweep.names.len();
            for (name, _, _) in f.previous() {
                let hash = NAME_HASHER.hash_one(name.as_str());
                let seen = sweep
                    .names
                    .get(start..)
                    .is_some_and(|own| own.iter().any(|n| n.hash == hash));
                if !seen {
                    sweep.names.push(Named {
                        hash,
                        scope,
                        at: offset + k,
                    });
                }
            }
            let original = f.original_namespace();
            sweep
                .namespace_pairs
                .insert((original, f.effective_namespace));
            sweep.original_namespaces.insert(original);
            let kind = resource.original_kind();
            if kinds_seen.insert(kind) {
                sweep.kinds.push(kind);
            }
            sweep.facts.push(f);
        }
        sweep
    }
}

/// One job's share of the pass: the position of its first resource, the
/// objects, and their "id may have changed" flags.
type Chunk<'a> = (usize, &'a mut [Map], &'a mut [bool]);

/// What every resource's resolution reads: the candidates and the table.
struct Pass<'p, 'f> {
    index: &'p Index<'f>,
    pairs: &'p [(&'p NameReference, Compiled<'p>)],
    by_kind: &'p HashMap<&'p str, Vec<usize>>,
}

impl Pass<'_, '_> {
    /// Updates the references in `object`, the object of resource `i`;
    /// `touched` is set if a field of its id may have changed.
    fn resolve_one(&self, i: usize, object: &mut Map, touched: &mut bool) -> Result<(), String> {
        let Some(referrer) = self.index.facts.get(i) else {
            return Ok(());
        };
        let resource = referrer.resource;
        // The original id: the current group and version, the original kind.
        let gvk = resource.gvk();
        let original_kind = resource.original_kind();
        let scope = Scope::of(referrer, object)?;
        let positions = self
            .by_kind
            .get(original_kind)
            .map_or(&[][..], Vec::as_slice);
        for (reference, compiled) in positions.iter().filter_map(|&p| self.pairs.get(p)) {
            let spec = &compiled.spec;
            if !spec.selects_parts(&gvk.group, &gvk.version, original_kind) {
                continue;
            }
            let target = Target {
                group: &reference.group,
                version: &reference.version,
                kind: &reference.kind,
            };
            let path = spec.path.as_str();
            let role_ref = if path.ends_with("roleRef/name") {
                role_ref_gvk(object)
            } else {
                None
            };
            let query = Query {
                index: self.index,
                referrer,
                scope: &scope,
                target: &target,
                role_ref,
            };
            *touched |= compiled.touches_id;
            compiled
                .visit(object, Leaf::Scalar, &mut |node| query.set(node))
                .map_err(|e| {
                    format!(
                        "updating name reference in '{path}' field of '{}': {e}",
                        referrer.name()
                    )
                })?;
        }
        Ok(())
    }
}

struct Index<'f> {
    facts: &'f ChunkedFacts<'f>,
    by_previous_name: ByName,
    namespace_pairs: HashSet<(&'f str, &'f str)>,
    original_namespaces: HashSet<&'f str>,
}

/// The hasher of previous names in [`ByName`]: fixed, so that lookups hash
/// as the index did (the output never depends on it).
const NAME_HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x6e61_6d65);

/// One resource listed under a previous name in [`ByName`]: the name's
/// hash, the key of the namespace a namespaced referrer must share with the
/// resource, and its position.
#[derive(Clone, Copy, Default)]
struct Named {
    hash: u64,
    /// [`Named::ANY_SCOPE`] for a cluster-scoped resource (any referrer may
    /// name it), else the key of its effective namespace.
    scope: u64,
    at: usize,
}

impl Named {
    /// The scope of a resource that referrers in every namespace may name.
    const ANY_SCOPE: u64 = 0;

    fn scope_of(f: &Facts<'_>) -> u64 {
        if f.cluster_scoped {
            Named::ANY_SCOPE
        } else {
            Named::namespace_key(f.effective_namespace)
        }
    }

    /// The key of a namespace: its hash, never [`Named::ANY_SCOPE`].
    fn namespace_key(namespace: &str) -> u64 {
        NAME_HASHER.hash_one(namespace).max(1)
    }
}

/// Previous name → the resources that had it: one range per distinct name
/// hash into one flat list, ordered within by namespace key, then position.
/// A vector per name (one allocation, rounded up to four positions) was a
/// visible share of a synthetic 100k build's peak memory. Keyed by the
/// names' hashes, gathered in the one sweep over the resources, so building
/// it reads no name again; two names of one hash share a range, and
/// [`Query::candidates`] keeps only the resources that really had the name
/// asked for. The namespace order lets a namespaced referrer read only the
/// part in its namespace and the part any namespace may name, not every copy
/// of a name (a tree of a thousand teams' copies of one base has a thousand
/// resources under each original name).
///
/// The list is cut into partitions by the top bits of the hash, each small
/// enough for a core's cache, and each partition is ordered and indexed on
/// its own, on the build's threads: one hash table over every name, filled
/// in resource order, missed the cache on nearly every entry of a 100k
/// build (25 ms on one thread, 25 times a 10k build's).
struct ByName {
    /// How many top bits of a hash pick its partition (0: one partition).
    bits: u32,
    /// Per partition: name hash → `(start, end)` in `entries`.
    ranges: Vec<HashMap<u64, (usize, usize)>>,
    /// The entries, partition after partition, each ordered by (hash,
    /// namespace key, position).
    entries: Vec<Named>,
}

/// Entries per partition of [`ByName`] that its size aims at (24 KiB).
const PARTITION_LEN: usize = 1024;

impl ByName {
    /// The index of `total` entries, listed in resource order (`names`
    /// yields them chunk after chunk); partitions are ordered on `threads`.
    fn of<'n>(
        total: usize,
        names: impl Iterator<Item = &'n Named> + Clone,
        threads: &Pool,
    ) -> ByName {
        let bits = (total / PARTITION_LEN)
            .next_power_of_two()
            .trailing_zeros()
            .min(16);
        let part = |hash: u64| partition_of(hash, bits);
        // Count, lay the partitions out, and scatter the entries into them
        // (in resource order within each).
        let mut starts = vec![0usize; (1 << bits) + 1];
        for n in names.clone() {
            if let Some(count) = starts.get_mut(part(n.hash) + 1) {
                *count += 1;
            }
        }
        let mut sum = 0;
        for start in &mut starts {
            sum += *start;
            *start = sum;
        }
        let mut cursors = starts.clone();
        let mut entries = vec![Named::default(); total];
        for n in names {
            if let Some(cursor) = cursors.get_mut(part(n.hash)) {
                if let Some(slot) = entries.get_mut(*cursor) {
                    *slot = *n;
                }
                *cursor += 1;
            }
        }
        // Each partition ordered and indexed by the build's threads.
        let mut parts: Vec<(usize, &mut [Named])> = Vec::with_capacity(1 << bits);
        let mut rest: &mut [Named] = &mut entries;
        for w in starts.windows(2) {
            let (here, after) = std::mem::take(&mut rest).split_at_mut(w[1] - w[0]);
            parts.push((w[0], here));
            rest = after;
        }
        let ranges = threads
            .map_chunks(&mut parts, PARTITIONS_PER_JOB, |_, jobs| {
                jobs.iter_mut()
                    .map(|(offset, part)| index_partition(*offset, part))
                    .collect::<Vec<_>>()
            })
            .into_iter()
            .flatten()
            .collect();
        ByName {
            bits,
            ranges,
            entries,
        }
    }

    /// The resources that had `name` (or a name of the same hash), ordered
    /// by namespace key, then position.
    fn get(&self, name: &str) -> Option<&[Named]> {
        let hash = NAME_HASHER.hash_one(name);
        let &(start, end) = self.ranges.get(partition_of(hash, self.bits))?.get(&hash)?;
        self.entries.get(start..end)
    }

    /// The positions in `list` (a range of [`ByName::get`]) of the resources
    /// a referrer in the namespace of key `key` may name, in resource order:
    /// those any namespace may name, and those in its namespace.
    fn in_scope(list: &[Named], key: u64) -> impl Iterator<Item = usize> + '_ {
        let any = list.partition_point(|n| n.scope == Named::ANY_SCOPE);
        let (any, rest) = list.split_at(any);
        let own = rest.partition_point(|n| n.scope < key);
        let own = rest.get(own..).unwrap_or_default();
        let own = own
            .get(..own.partition_point(|n| n.scope == key))
            .unwrap_or_default();
        MergeByPosition {
            a: any.iter().map(|n| n.at).peekable(),
            b: own.iter().map(|n| n.at).peekable(),
        }
    }
}

/// The partition of [`ByName`] a name hash falls in: its top `bits` bits.
fn partition_of(hash: u64, bits: u32) -> usize {
    hash.checked_shr(64 - bits).unwrap_or(0) as usize
}

/// Partitions of [`ByName`] a job of the build's threads orders at least.
const PARTITIONS_PER_JOB: usize = 8;

/// Orders one partition of [`ByName`] (whose first entry is at `offset` in
/// the whole list) by (hash, namespace key, position) and returns its
/// ranges.
fn index_partition(offset: usize, part: &mut [Named]) -> HashMap<u64, (usize, usize)> {
    part.sort_unstable_by_key(|n| (n.hash, n.scope, n.at));
    let mut ranges: HashMap<u64, (usize, usize)> = HashMap::with_capacity(part.len());
    let mut k = 0;
    while let Some(first) = part.get(k) {
        let run = part
            .get(k..)
            .map_or(0, |rest| rest.partition_point(|n| n.hash == first.hash));
        ranges.insert(first.hash, (offset + k, offset + k + run));
        k += run.max(1);
    }
    ranges
}

/// Two ascending position lists merged into one.
struct MergeByPosition<A: Iterator<Item = usize>, B: Iterator<Item = usize>> {
    a: std::iter::Peekable<A>,
    b: std::iter::Peekable<B>,
}

impl<A: Iterator<Item = usize>, B: Iterator<Item = usize>> Iterator for MergeByPosition<A, B> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        match (self.a.peek(), self.b.peek()) {
            (Some(a), Some(b)) if b < a => self.b.next(),
            (Some(_), _) => self.a.next(),
            (None, _) => self.b.next(),
        }
    }
}

/// Which candidates a referrer may point at at all (kustomize's
/// "subset that could be referenced by resource").
struct Scope<'r> {
    cluster_scoped: bool,
    namespace: &'r str,
    role_binding_namespaces: HashSet<String>,
}

impl<'r> Scope<'r> {
    fn of(referrer: &Facts<'r>, object: &Map) -> Result<Scope<'r>, String> {
        let mut role_binding_namespaces = HashSet::new();
        if referrer.kind() == "RoleBinding" {
            if let Some(Value::Seq(subjects)) = object.get("subjects") {
                for s in subjects {
                    let (Some(ns), Some(kind)) = (s.get("namespace"), s.get("kind")) else {
                        continue;
                    };
                    if kind.as_str() == Some("ServiceAccount") {
                        match ns.as_str() {
                            Some(ns) => {
                                role_binding_namespaces.insert(ns.to_owned());
                            }
                            None => {
                                return Err(format!(
                                    "Invalid Input: namespace is blank for resource {}",
                                    referrer.name()
                                ))
                            }
                        }
                    }
                }
            }
        }
        Ok(Scope {
            cluster_scoped: referrer.cluster_scoped,
            namespace: referrer.effective_namespace,
            role_binding_namespaces,
        })
    }

    fn admits(&self, c: &Facts) -> bool {
        self.cluster_scoped
            || c.cluster_scoped
            || c.effective_namespace == self.namespace
            || self.role_binding_namespaces.contains(c.namespace())
    }

    /// Whether any candidate this scope admits was originally in `original_ns`.
    fn any_admitted_with_original(&self, index: &Index<'_>, original_ns: &str) -> bool {
        if self.cluster_scoped {
            return index.original_namespaces.contains(original_ns);
        }
        if index
            .namespace_pairs
            .contains(&(original_ns, self.namespace))
        {
            return true;
        }
        self.role_binding_namespaces.iter().any(|ns| {
            let effective = if ns.is_empty() {
                "default"
            } else {
                ns.as_str()
            };
            index.namespace_pairs.contains(&(original_ns, effective))
        })
    }
}

fn role_ref_gvk(object: &Map) -> Option<Gvk> {
    let role_ref = object.get("roleRef")?;
    let group = role_ref.get("apiGroup")?.as_str().unwrap_or("");
    let kind = role_ref.get("kind")?.as_str().unwrap_or("");
    Some(Gvk {
        group: group.into(),
        version: Str::default(),
        kind: kind.into(),
    })
}

fn gvk_selects(selector: &Gvk, group: &str, version: &str, kind: &str) -> bool {
    (selector.group.is_empty() || selector.group == group)
        && (selector.version.is_empty() || selector.version == version)
        && (selector.kind.is_empty() || selector.kind == kind)
}

/// `a` and `b` agree at their ends (the shorter is a suffix of the longer).
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long.ends_with(short)
}

struct Query<'a, 'f> {
    index: &'a Index<'f>,
    referrer: &'a Facts<'f>,
    scope: &'a Scope<'f>,
    target: &'a Target<'a>,
    role_ref: Option<Gvk>,
}

impl<'a, 'f> Query<'a, 'f> {
    fn set(&self, node: &mut Value) -> Result<(), String> {
        match node {
            Value::Null | Value::Empty => Ok(()),
            Value::Map(map) => self.set_mapping(map),
            Value::Seq(items) => {
                for item in items {
                    match item {
                        Value::Map(map) => self.set_mapping(map)?,
                        Value::Seq(_) => {}
                        scalar => self.set_scalar(scalar)?,
                    }
                }
                Ok(())
            }
            scalar => self.set_scalar(scalar),
        }
    }

    fn set_scalar(&self, node: &mut Value) -> Result<(), String> {
        let Some(old) = scalar_text(node) else {
            return Ok(());
        };
        let candidates = self.candidates(&old, None);
        let Some(referral) = self.select(candidates, false)? else {
            return Ok(());
        };
        if referral.name() != old {
            *node = Value::string(referral.name());
        }
        Ok(())
    }

    fn set_mapping(&self, map: &mut Map) -> Result<(), String> {
        let Some(name) = map.get("name") else {
            return Err("path config error; no 'name' field in node".to_owned());
        };
        let Some(old) = scalar_text(name) else {
            return Ok(());
        };
        let namespace = map
            .get("namespace")
            .map(|n| scalar_text(n).unwrap_or_default());
        let candidates = self.candidates(&old, namespace.as_deref());
        let Some(referral) = self.select(candidates, true)? else {
            return Ok(());
        };
        if referral.name() == old && referral.namespace().is_empty() {
            return Ok(());
        }
        map.insert("name", Value::string(referral.name()));
        if !referral.namespace().is_empty() {
            map.insert("namespace", Value::string(referral.namespace()));
        }
        Ok(())
    }

    /// Candidates named `old` before, of the target kind, that the referrer may see.
    fn candidates(&self, old: &str, namespace: Option<&str>) -> Vec<&'a Facts<'f>> {
        let Some(list) = self.index.by_previous_name.get(old) else {
            return Vec::new();
        };
        // A mapping reference with a namespace looks among objects originally in
        // that namespace if there are any, else among those now in it.
        let by_original = namespace.map(|ns| {
            (
                ns != NOT_NAMESPACED && self.scope.any_admitted_with_original(self.index, ns),
                ns,
            )
        });
        // A namespaced referrer may name only cluster-scoped resources, those
        // in its namespace, and (a RoleBinding) ServiceAccounts in its
        // subjects' namespaces (`Scope::admits` and the last filter below):
        // only those parts of the list are read, and the candidates of one
        // name in all other namespaces are passed over without a look. A
        // cluster-scoped referrer reads the whole list. Either way the filters
        // below then see the candidates in resource order.
        let own = Named::namespace_key(self.referrer.effective_namespace);
        if !self.referrer.cluster_scoped && self.scope.role_binding_namespaces.is_empty() {
            return self.keep(ByName::in_scope(list, own), old, by_original);
        }
        let mut positions: Vec<usize> = if self.referrer.cluster_scoped {
            list.iter().map(|n| n.at).collect()
        } else {
            let mut keys = vec![own];
            for ns in &self.scope.role_binding_namespaces {
                // A subject's namespace is compared as written; "" holds the
                // resources of effective namespace `default` among others.
                let key = Named::namespace_key(if ns.is_empty() { "default" } else { ns });
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            list.iter()
                .filter(|n| n.scope == Named::ANY_SCOPE || keys.contains(&n.scope))
                .map(|n| n.at)
                .collect()
        };
        positions.sort_unstable();
        self.keep(positions.into_iter(), old, by_original)
    }

    /// The resources at `positions` that [`Query::candidates`] keeps.
    fn keep(
        &self,
        positions: impl Iterator<Item = usize>,
        old: &str,
        by_original: Option<(bool, &str)>,
    ) -> Vec<&'a Facts<'f>> {
        positions
            .filter_map(|at| self.index.facts.get(at))
            .filter(|c| c.previous().iter().any(|(name, _, _)| name == old))
            .filter(|c| self.scope.admits(c))
            .filter(|c| match by_original {
                None => true,
                Some((true, ns)) => c.original_namespace() == ns && !c.cluster_scoped,
                Some((false, ns)) => c.effective_namespace == ns && !c.cluster_scoped,
            })
            .filter(|c| c.previously(self.target))
            .filter(|c| match &self.role_ref {
                Some(rr) => c
                    .previous()
                    .iter()
                    .any(|(_, _, kind)| gvk_selects(rr, &c.gvk().group, &c.gvk().version, kind)),
                None => true,
            })
            .filter(|c| {
                self.referrer.cluster_scoped
                    || c.cluster_scoped
                    || c.kind() == "ServiceAccount"
                    || c.effective_namespace == self.referrer.effective_namespace
            })
            .collect()
    }

    fn select<'c>(
        &self,
        mut candidates: Vec<&'c Facts<'f>>,
        with_namespace: bool,
    ) -> Result<Option<&'c Facts<'f>>, String> {
        if candidates.len() == 1 {
            return Ok(candidates.pop());
        }
        let r = self.referrer;
        candidates.retain(|c| {
            (r.prefixes().is_empty()
                || c.prefixes().is_empty()
                || same_ending(r.prefixes(), c.prefixes()))
                && (r.suffixes().is_empty()
                    || c.suffixes().is_empty()
                    || same_ending(r.suffixes(), c.suffixes()))
        });
        if candidates.len() > 1 {
            candidates.retain(|c| {
                same_ending(r.prefixes(), c.prefixes()) && same_ending(r.suffixes(), c.suffixes())
            });
        }
        match candidates.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            [first, rest @ ..] => {
                let identical = rest.iter().all(|c| {
                    c.name() == first.name()
                        && (!with_namespace || c.namespace() == first.namespace())
                });
                if identical {
                    Ok(Some(*first))
                } else {
                    let ids: Vec<String> = candidates
                        .iter()
                        .map(|c| format!("{}/{}", c.gvk(), c.name()))
                        .collect();
                    Err(format!(
                        "found multiple possible referrals: {}",
                        ids.join(", ")
                    ))
                }
            }
        }
    }
}

/// The text of a scalar reference (names are strings; numbers are kept as written).
/// Borrowed for strings: every reference visited is read through this.
fn scalar_text(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Int(i) => Some(Cow::Owned(i.to_string())),
        Value::Uint(u) => Some(Cow::Owned(u.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_process_s_builtin_table_takes_the_kept_pairs() {
        let builtin = FieldSpecTables::builtin();
        let Some(kept) = builtin_pairs(&builtin.name_references) else {
            panic!("the built-in table compiles no kept pairs");
        };
        assert_eq!(kept.len(), compile_pairs(&builtin.name_references).len());
        assert!(std::ptr::eq(
            builtin_pairs(&builtin.name_references).unwrap_or_default(),
            kept
        ));
        // An equal copy (a kustomization's extended tables start as one) is
        // compiled on its own.
        let copy = builtin.name_references.clone();
        assert!(builtin_pairs(&copy).is_none());
        assert!(builtin_pairs(&builtin.name_references[1..]).is_none());
    }
}
