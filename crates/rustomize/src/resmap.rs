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
        }
    }

    /// Records `candidate` at position `at`; false (and nothing recorded) if
    /// a resource of `resources` with an equal id is already recorded.
    fn insert(&mut self, resources: &[Resource], candidate: &Resource, at: usize) -> bool {
        let hash = id_hash(candidate);
        let key = candidate.id().equality_key();
        let same = |j: usize| {
            resources
                .get(j)
                .is_some_and(|r| r.id().equality_key() == key)
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
}

impl ResMap {
    /// An empty map.
    pub fn new() -> Self {
        ResMap {
            resources: Vec::new(),
            index: Some(IdIndex::default()),
        }
    }

    /// The resources in order.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// The resources, for transformers that change them (ids may change).
    pub fn resources_mut(&mut self) -> &mut Vec<Resource> {
        self.index = None;
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
                // Every id present is recorded once (a repeated one needs no
                // second entry to be found).
                let mut rebuilt = IdIndex::with_capacity(self.resources.len());
                for (i, r) in self.resources.iter().enumerate() {
                    rebuilt.insert(&self.resources, r, i);
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
            let ResMap { resources, index } = other;
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
        for resource in other.resources {
            self.append(resource, origin)?;
        }
        Ok(())
    }

    /// Fails if two resources now share an id (after a transformer changed ids).
    pub fn check_unique(&mut self, origin: &Path, what: &str) -> Result<(), Error> {
        self.index = None;
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
