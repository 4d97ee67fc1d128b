//! The resource map: resources in accumulation order, indexed by id.
//!
//! kustomize refuses to hold two resources with the same id (kind, group,
//! version, name and namespace, where an unset namespace equals `default`). The
//! index makes that check O(1) per resource instead of a scan per insertion.

use foldhash::{HashMap, HashMapExt};
use std::path::Path;

use crate::error::Error;
use crate::resource::Resource;

/// Positions of resources by the hash of their id's equality key (see
/// [`crate::resource::ResId::equality_key`]). Holding hashes instead of copies
/// of the ids saves five strings per resource (a large share of a big build's
/// memory and allocations); a hash hit is confirmed by comparing the ids.
#[derive(Clone, Debug, Default)]
struct IdIndex {
    /// Id hash → position of the first resource with that hash.
    first: HashMap<u64, usize>,
    /// Further positions whose ids share a hash with a different id (rare).
    more: Vec<(u64, usize)>,
    /// The id hash of the resource at each position, for [`IdIndex::refresh`]
    /// (as long as the resources it was built for; a position whose id was
    /// not recorded still has its hash here).
    hashes: Vec<u64>,
}

fn id_hash(resource: &Resource) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5eed).hash_one(resource.id().equality_key())
}

impl IdIndex {
    fn with_capacity(n: usize) -> Self {
        IdIndex {
            first: HashMap::with_capacity(n),
            more: Vec::new(),
            hashes: Vec::with_capacity(n),
        }
    }

    /// Records `candidate` at position `at`; false (and nothing recorded) if
    /// a resource of `resources` with an equal id is already recorded.
    fn insert(&mut self, resources: &[Resource], candidate: &Resource, at: usize) -> bool {
        let hash = id_hash(candidate);
        let recorded = self.insert_hashed(resources, candidate, hash, at);
        if recorded && at == self.hashes.len() {
            self.hashes.push(hash);
        }
        recorded
    }

    /// [`IdIndex::insert`] with the candidate's hash given.
    fn insert_hashed(
        &mut self,
        resources: &[Resource],
        candidate: &Resource,
        hash: u64,
        at: usize,
    ) -> bool {
        // The candidate's id is read only when its hash is taken (rare):
        // on a large build it is cold by the time it is appended.
        let same = |j: usize| {
            resources
                .get(j)
                .is_some_and(|r| r.id().equality_key() == candidate.id().equality_key())
        };
        match self.first.get(&hash) {
            None => {
                self.first.insert(hash, at);
                true
            }
            Some(&j) => {
                if same(j) || self.more.iter().any(|&(h, k)| h == hash && same(k)) {
                    return false;
                }
                self.more.push((hash, at));
                true
            }
        }
    }

    /// This index (built for the same resources before a transformer changed
    /// some of their ids) brought up to date with `resources`, if that shows
    /// the ids are still unique; `None` when a full rebuild must decide (the
    /// number of resources changed, the old index had a hash shared by two
    /// positions, or a changed id's hash is taken).
    ///
    /// Why this is exact: the old index recorded every position under its own
    /// hash, so the old hashes were distinct; a position whose hash did not
    /// change keeps its entry, and each changed one must land on a free hash.
    /// Distinct hashes imply distinct ids.
    fn refresh(mut self, resources: &[Resource]) -> Option<IdIndex> {
        let n = resources.len();
        if !self.more.is_empty() || self.hashes.len() != n || self.first.len() != n {
            return None;
        }
        let mut changed: Vec<(usize, u64)> = Vec::new();
        for ((i, r), old) in resources.iter().enumerate().zip(&self.hashes) {
            let hash = id_hash(r);
            if hash != *old {
                changed.push((i, hash));
            }
        }
        // Free every old hash first, so that ids that trade places still fit.
        for &(i, _) in &changed {
            let old = self.hashes.get(i).copied()?;
            self.first.remove(&old);
        }
        for (i, hash) in changed {
            if self.first.insert(hash, i).is_some() {
                return None;
            }
            if let Some(slot) = self.hashes.get_mut(i) {
                *slot = hash;
            }
        }
        Some(self)
    }

    /// An index of `resources`, or the first resource whose id repeats one before it.
    fn of(resources: &[Resource]) -> Result<IdIndex, &Resource> {
        let mut index = IdIndex::with_capacity(resources.len());
        for (i, r) in resources.iter().enumerate() {
            if !index.insert(resources, r, i) {
                return Err(r);
            }
        }
        Ok(index)
    }
}

/// Resources in order, with an index of their current ids.
#[derive(Clone, Debug, Default)]
pub struct ResMap {
    resources: Vec<Resource>,
    /// Current id → position. `None` after transformers may have changed ids.
    index: Option<IdIndex>,
    /// The index as it was before transformers may have changed ids, for
    /// [`ResMap::check_unique`] to bring up to date instead of rebuilding.
    stale: Option<IdIndex>,
}

impl ResMap {
    /// An empty map.
    pub fn new() -> Self {
        ResMap {
            resources: Vec::new(),
            index: Some(IdIndex::default()),
            stale: None,
        }
    }

    /// The resources in order.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// The resources, for transformers that change them (ids may change).
    pub fn resources_mut(&mut self) -> &mut Vec<Resource> {
        if let Some(index) = self.index.take() {
            self.stale = Some(index);
        }
        &mut self.resources
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// Whether there are no resources.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// Takes the resources out.
    pub fn into_resources(self) -> Vec<Resource> {
        self.resources
    }

    /// Appends a resource; fails if one with the same id is already present.
    pub fn append(&mut self, resource: Resource, origin: &Path) -> Result<(), Error> {
        let at = self.resources.len();
        let index = match &mut self.index {
            Some(index) => index,
            None => {
                self.stale = None;
                // Every id present is recorded once (a repeated one needs no
                // second entry to be found).
                let mut rebuilt = IdIndex::with_capacity(self.resources.len());
                for (i, r) in self.resources.iter().enumerate() {
                    if !rebuilt.insert(&self.resources, r, i) {
                        // Keeps `hashes` by position; with fewer ids recorded
                        // than positions the index is never refreshed.
                        rebuilt.hashes.push(id_hash(r));
                    }
                }
                self.index.insert(rebuilt)
            }
        };
        if !index.insert(&self.resources, &resource, at) {
            return Err(Error::DuplicateId {
                path: origin.to_path_buf(),
                id: crate::error::excerpt(&resource.id().to_string(), 200),
            });
        }
        self.resources.push(resource);
        Ok(())
    }

    /// [`ResMap::append`] with the resource's id hash known.
    fn append_hashed(&mut self, resource: Resource, hash: u64, origin: &Path) -> Result<(), Error> {
        let at = self.resources.len();
        let Some(index) = &mut self.index else {
            return self.append(resource, origin);
        };
        if !index.insert_hashed(&self.resources, &resource, hash, at) {
            return Err(Error::DuplicateId {
                path: origin.to_path_buf(),
                id: crate::error::excerpt(&resource.id().to_string(), 200),
            });
        }
        if at == index.hashes.len() {
            index.hashes.push(hash);
        }
        self.resources.push(resource);
        Ok(())
    }

    /// Room for `additional` more resources.
    pub fn reserve(&mut self, additional: usize) {
        self.resources.reserve(additional);
        if let Some(index) = &mut self.index {
            index.first.reserve(additional);
        }
    }

    /// Appends every resource of `other`, in order.
    pub fn append_all(&mut self, other: ResMap, origin: &Path) -> Result<(), Error> {
        if self.resources.is_empty() {
            // The common case (an overlay's first base): take `other` whole
            // instead of moving each resource into a new vector. Its index is
            // kept when still valid; otherwise it is rebuilt here with the
            // check `append` would have made, in the same order.
            let ResMap {
                resources,
                index,
                stale,
            } = other;
            self.stale = stale;
            let room = self.resources.capacity();
            if room > resources.len() {
                // Room was reserved for what follows: keep it.
                self.resources.extend(resources);
            } else {
                self.resources = resources;
            }
            self.index = index;
            if let Some(index) = &mut self.index {
                index
                    .first
                    .reserve(room.saturating_sub(self.resources.len()));
            }
            if self.index.is_none() {
                match IdIndex::of(&self.resources) {
                    Ok(index) => self.index = Some(index),
                    Err(r) => {
                        return Err(Error::DuplicateId {
                            path: origin.to_path_buf(),
                            id: crate::error::excerpt(&r.id().to_string(), 200),
                        })
                    }
                }
            }
            return Ok(());
        }
        self.resources.reserve(other.resources.len());
        // A current index of `other` holds every resource's id hash: taken
        // over instead of hashing each id again.
        let hashes = other
            .index
            .map(|index| index.hashes)
            .filter(|hashes| hashes.len() == other.resources.len());
        let Some(hashes) = hashes else {
            for resource in other.resources {
                self.append(resource, origin)?;
            }
            return Ok(());
        };
        for (resource, hash) in other.resources.into_iter().zip(hashes) {
            self.append_hashed(resource, hash, origin)?;
        }
        Ok(())
    }

    /// Brings the index of ids up to date if transformers may have changed
    /// them, when that is cheap (see [`IdIndex::refresh`]); otherwise leaves
    /// it to be rebuilt when needed. Reports nothing: a duplicate id is
    /// found where it is checked.
    pub(crate) fn index_ids(&mut self) {
        if self.index.is_none() {
            if let Some(stale) = self.stale.take() {
                self.index = stale.refresh(&self.resources);
            }
        }
    }

    /// Fails if two resources now share an id (after a transformer changed ids).
    pub fn check_unique(&mut self, origin: &Path, what: &str) -> Result<(), Error> {
        let known = self.index.take().or_else(|| self.stale.take());
        if let Some(index) = known.and_then(|index| index.refresh(&self.resources)) {
            self.index = Some(index);
            return Ok(());
        }
        match IdIndex::of(&self.resources) {
            Ok(index) => self.index = Some(index),
            Err(r) => {
                return Err(Error::Transform {
                    path: origin.to_path_buf(),
                    message: format!("{what} produces ID conflict: {}", r.id()),
                })
            }
        }
        Ok(())
    }
}
