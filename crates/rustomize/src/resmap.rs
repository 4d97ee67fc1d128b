//! The resource map: resources in accumulation order, indexed by id.
//!
//! kustomize refuses to hold two resources with the same id (kind, group,
//! version, name and namespace, where an unset namespace equals `default`). The
//! index makes that check O(1) per resource instead of a scan per insertion.

use foldhash::{HashMap, HashMapExt};
use std::path::Path;

use crate::error::Error;
use crate::resource::{Gvk, Resource};

type IdKey = (Gvk, String, String);

fn key_of(resource: &Resource) -> IdKey {
    let id = resource.id();
    let ns = id.effective_namespace().to_owned();
    (id.gvk.clone(), id.name.clone(), ns)
}

/// Resources in order, with an index of their current ids.
#[derive(Clone, Debug, Default)]
pub struct ResMap {
    resources: Vec<Resource>,
    /// Current id → position. `None` after transformers may have changed ids.
    index: Option<HashMap<IdKey, usize>>,
}

impl ResMap {
    /// An empty map.
    pub fn new() -> Self {
        ResMap {
            resources: Vec::new(),
            index: Some(HashMap::new()),
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

    fn index(&mut self) -> &mut HashMap<IdKey, usize> {
        let resources = &self.resources;
        self.index.get_or_insert_with(|| {
            resources
                .iter()
                .enumerate()
                .map(|(i, r)| (key_of(r), i))
                .collect()
        })
    }

    /// Appends a resource; fails if one with the same id is already present.
    pub fn append(&mut self, resource: Resource, origin: &Path) -> Result<(), Error> {
        let key = key_of(&resource);
        let at = self.resources.len();
        let index = self.index();
        if index.contains_key(&key) {
            return Err(Error::DuplicateId {
                path: origin.to_path_buf(),
                id: crate::error::excerpt(&resource.id().to_string(), 200),
            });
        }
        index.insert(key, at);
        self.resources.push(resource);
        Ok(())
    }

    /// Room for `additional` more resources.
    pub fn reserve(&mut self, additional: usize) {
        self.resources.reserve(additional);
    }

    /// Appends every resource of `other`, in order.
    pub fn append_all(&mut self, other: ResMap, origin: &Path) -> Result<(), Error> {
        if self.resources.is_empty() {
            // The common case (an overlay's first base): take `other` whole
            // instead of moving each resource into a new vector. Its index is
            // kept when still valid; otherwise it is rebuilt here with the
            // check `append` would have made, in the same order.
            let ResMap { resources, index } = other;
            self.resources = resources;
            self.index = index;
            if self.index.is_none() {
                let mut seen = HashMap::with_capacity(self.resources.len());
                for (i, r) in self.resources.iter().enumerate() {
                    if seen.insert(key_of(r), i).is_some() {
                        return Err(Error::DuplicateId {
                            path: origin.to_path_buf(),
                            id: crate::error::excerpt(&r.id().to_string(), 200),
                        });
                    }
                }
                self.index = Some(seen);
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
        let mut seen: HashMap<IdKey, usize> = HashMap::with_capacity(self.resources.len());
        for (i, r) in self.resources.iter().enumerate() {
            if seen.insert(key_of(r), i).is_some() {
                return Err(Error::Transform {
                    path: origin.to_path_buf(),
                    message: format!("{what} produces ID conflict: {}", r.id()),
                });
            }
        }
        self.index = Some(seen);
        Ok(())
    }
}
