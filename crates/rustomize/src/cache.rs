//! Parses shared by the builds of one run (`rustomize build --all`): a
//! [`ParseCache`] holds the resources read from each resource file, keyed by
//! the file's canonical path, so a base included by fifty roots is parsed once.
//!
//! The cache is an ordinary value the caller creates and hands to each build
//! through [`crate::BuildOptions::parse_cache`] (no global state). It only saves
//! parsing: every build still reads each file through its own loader, so load
//! restrictions, size limits and read budgets apply exactly as without it, and
//! an entry is used only when the text just read equals the text it was parsed
//! from (a file changed between two builds is parsed again).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rustomize_yaml::ParseLimits;

use crate::error::Error;
use crate::resource::Resource;

/// The resources of resource files, keyed by canonical path, shared by the
/// builds of one run. All builds sharing one cache must use the same parse
/// limits (`BuildOptions::limits`): an entry does not record the limits it was
/// parsed under.
#[derive(Default)]
pub struct ParseCache {
    entries: Mutex<HashMap<PathBuf, Arc<Parsed>>>,
}

/// One file's text and the resources read from it.
struct Parsed {
    text: String,
    resources: Vec<Resource>,
}

impl std::fmt::Debug for ParseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParseCache")
            .field("files", &self.len())
            .finish()
    }
}

impl ParseCache {
    /// An empty cache.
    pub fn new() -> ParseCache {
        ParseCache::default()
    }

    /// How many files the cache holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cache holds no file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<Parsed>>> {
        // The map is never left half-updated (one insert per lock), so a
        // panic elsewhere while holding it leaves nothing to distrust.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The resources of the file at `path` whose text is `text`, as
    /// [`crate::accumulate::resources_from_text`] reads them: from the cache
    /// when this text was parsed before, else parsed now and kept. Errors are
    /// not kept (the next build reports them again).
    pub(crate) fn resources(
        &self,
        path: &Path,
        text: &str,
        limits: &ParseLimits,
    ) -> Result<Vec<Resource>, Error> {
        let hit = self.lock().get(path).cloned();
        if let Some(parsed) = hit {
            if parsed.text == text {
                return Ok(parsed.resources.clone());
            }
        }
        // Parsed outside the lock: two builds may parse one file at once, the
        // later insert wins and both results are the same.
        let resources = crate::accumulate::resources_from_text(path, text, limits)?;
        let parsed = Arc::new(Parsed {
            text: text.to_owned(),
            resources,
        });
        self.lock().insert(path.to_path_buf(), Arc::clone(&parsed));
        Ok(parsed.resources.clone())
    }
}
