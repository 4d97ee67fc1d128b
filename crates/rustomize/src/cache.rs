//! What the builds of one run share (`rustomize build --all`): a [`RunCache`]
//! holds, keyed by canonical path,
//!
//! - the resources read from each resource file, so a file included by fifty
//!   roots is parsed once; every build still reads the file through its own
//!   loader (load restrictions, size limits and read budgets apply as without
//!   the cache), and an entry is used only when the text just read equals the
//!   text it was parsed from. A caller that knows the tree may count each
//!   file's uses ahead ([`RunCache::expect_file`]) and parse files before the
//!   builds start ([`RunCache::prepare_file`]); the last counted use takes
//!   the parse instead of copying it;
//! - the accumulation of each kustomization directory built as a `resources`
//!   entry, so a base included by fifty overlays is built once. A directory's
//!   build depends only on its own files, the run's options and the build
//!   context, so it is reused only where that context is the plain one (no
//!   `buildMetadata` origin tracking, the built-in merge schema and no
//!   kustomization choosing another), the reuse would not close a cycle, and
//!   the files it read fit the build's read budgets (which are charged as if
//!   the files were read again); otherwise the directory is built afresh, and
//!   reports what is wrong exactly as without the cache. Its warnings and the
//!   files it read count for every build that reuses it;
//! - the remote checkouts and downloads of the run, failures included (see
//!   [`crate::remote::SharedFetches`]), so a remote named by many roots is
//!   fetched, or found unreachable, once.
//!
//! The cache is an ordinary value the caller creates and hands to each build
//! through [`crate::BuildOptions::run_cache`] (no global state). It assumes the
//! files do not change during the run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rustomize_yaml::ParseLimits;

use crate::accumulate::{Accumulation, BuildContext, SchemaChoice};
use crate::error::Error;
use crate::load::Loader;
use crate::resource::Resource;

/// Parsed resource files and built kustomization directories, keyed by
/// canonical path, shared by the builds of one run. All builds sharing one
/// cache must use the same [`crate::BuildOptions`] but for `threads`: an entry
/// does not record the options it was made under.
#[derive(Default)]
pub struct RunCache {
    /// Parsed files, with the uses each has left.
    entries: Mutex<HashMap<PathBuf, Uses<Parsed>>>,
    /// Built directories, with the uses each has left.
    dirs: Mutex<HashMap<PathBuf, Uses<BuiltDir>>>,
    /// Remote checkouts and downloads.
    fetches: Arc<crate::remote::SharedFetches>,
}

/// What the cache knows of one file or kustomization directory: its
/// result, once kept, and the uses it has left.
struct Uses<T> {
    kept: Kept<T>,
    /// As many as the caller expects, less those made (`usize::MAX` when no
    /// count was given). The use that brings it to zero takes the kept
    /// result instead of copying it; a use after that finds the count too
    /// low, and the entry goes on as one without a count.
    left: usize,
}

impl<T> Uses<T> {
    /// One more use: None for the first use of an entry no count was given
    /// for (the entry is made), else the kept result, if any (taken out on
    /// the last expected use).
    fn take_use(map: &mut HashMap<PathBuf, Uses<T>>, key: &Path) -> Option<Kept<T>> {
        match map.get_mut(key) {
            None => {
                let fresh = Uses {
                    kept: None,
                    left: usize::MAX,
                };
                map.insert(key.to_path_buf(), fresh);
                None
            }
            Some(uses) if uses.left == 0 => {
                // More uses than counted: from here on as if no count had
                // been given (this use, not the first, makes and keeps one).
                uses.left = usize::MAX;
                Some(None)
            }
            Some(uses) => {
                uses.left -= 1;
                Some(if uses.left == 0 {
                    uses.kept.take()
                } else {
                    uses.kept.clone()
                })
            }
        }
    }

    /// Whether `key` has uses left to keep a result for.
    fn wanted(map: &HashMap<PathBuf, Uses<T>>, key: &Path) -> bool {
        map.get(key).is_some_and(|uses| uses.left > 0)
    }
}

/// What the cache keeps of a file or directory. Most files and directories
/// of a tree are used once, and keeping them would cost a deep copy each, so
/// the first use only marks one as seen; the second keeps its result.
type Kept<T> = Option<Arc<T>>;

/// One kustomization directory built as a `resources` entry.
struct BuiltDir {
    accumulation: Accumulation,
    /// The warnings its build printed.
    warnings: Vec<String>,
    /// The files it read (canonical paths).
    files: Vec<PathBuf>,
    /// Bytes and kustomization files it read, repeats included (an upper
    /// bound when the build ran jobs in parallel).
    bytes: usize,
    kustomizations: usize,
}

/// One file's text and the resources read from it.
struct Parsed {
    text: String,
    resources: Vec<Resource>,
}

impl std::fmt::Debug for RunCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunCache")
            .field("files", &self.len())
            .field(
                "dirs",
                &self
                    .dirs
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .values()
                    .filter(|d| d.kept.is_some())
                    .count(),
            )
            .finish()
    }
}

impl RunCache {
    /// An empty cache.
    pub fn new() -> RunCache {
        RunCache::default()
    }

    /// This cache, told that the kustomization directories `dirs` (canonical
    /// paths, each with a count over 1) will be included as `resources`
    /// entries that many times in the run (the caller knows the tree): their
    /// first build is kept, instead of their second (a deep copy made once,
    /// where a directory used once is better not copied at all), and their
    /// last use takes the kept build instead of a deep copy of it. Only a
    /// hint: no output depends on it. A count too low makes the next use
    /// build the directory again and keep it; one too high keeps the build
    /// to the end of the run.
    pub fn expecting_shared(self, dirs: impl IntoIterator<Item = (PathBuf, usize)>) -> RunCache {
        self.expect_shared(dirs);
        self
    }

    /// [`RunCache::expecting_shared`] on a cache already shared.
    pub fn expect_shared(&self, dirs: impl IntoIterator<Item = (PathBuf, usize)>) {
        let mut map = self.dirs.lock().unwrap_or_else(PoisonError::into_inner);
        for (dir, n) in dirs {
            map.entry(dir)
                .or_insert(Uses {
                    kept: None,
                    left: 0,
                })
                .left = n;
        }
    }

    /// Counts one more expected use of the resource file at `path` (a
    /// symlink-free path, as a build's loader names it): a file with a count
    /// is kept on its first use when more are expected, and its last use
    /// takes it instead of a copy. Returns whether this was the file's first
    /// count (the caller may then [`RunCache::prepare_file`] it). Only a
    /// hint, as [`RunCache::expecting_shared`] is.
    pub fn expect_file(&self, path: &Path) -> bool {
        let mut files = self.lock();
        match files.get_mut(path) {
            Some(uses) => {
                uses.left = uses.left.saturating_add(1);
                false
            }
            None => {
                let uses = Uses {
                    kept: None,
                    left: 1,
                };
                files.insert(path.to_path_buf(), uses);
                true
            }
        }
    }

    /// Reads and parses the resource file at `path` ahead of the builds
    /// (with `options`, the run's), for a file [`RunCache::expect_file`]
    /// counted: its builds then take the parse instead of making their own,
    /// when the text they read is the text parsed here. The file must be a
    /// regular file under `root` whose path is its symlink-free path (no
    /// symlink anywhere on it, checked before reading, and the file opened
    /// with `RESOLVE_NO_SYMLINKS` where the kernel has it), within the size
    /// limit; anything else, or a parse error, leaves it to the builds,
    /// which report what is wrong. The work runs on a deep stack (this thread
    /// if it is one, else a thread started for the call): a document may
    /// nest 10,000 levels.
    pub fn prepare_file(&self, path: &Path, root: &Path, options: &crate::BuildOptions) {
        let parsed = crate::on_deep_stack(|| {
            use crate::fs::FileSystem;
            let seen = crate::fs::DiskFs.symlink_metadata(path).ok()?;
            let real = path.canonicalize().ok()?;
            if !seen.is_file() || real != path || !path.starts_with(root) {
                return None;
            }
            let max = options.limits.max_bytes;
            let bytes = crate::fs::read_guarded(path, Some(seen), max, Some(root)).ok()?;
            let text = rustomize_yaml::decode_text(bytes).ok()?;
            let limits = crate::file_parse_limits(options);
            let resources = crate::accumulate::resources_from_text(path, &text, &limits).ok()?;
            Some(Arc::new(Parsed { text, resources }))
        });
        let Some(parsed) = parsed else {
            return;
        };
        if let Some(uses) = self.lock().get_mut(path).filter(|u| u.left > 0) {
            uses.kept.get_or_insert(parsed);
        }
    }

    /// How many files the cache holds parsed.
    pub fn len(&self) -> usize {
        self.lock().values().filter(|p| p.kept.is_some()).count()
    }

    /// Whether the cache holds no file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The remote fetches of the run, for each build's remote session.
    pub(crate) fn fetches(&self) -> Arc<crate::remote::SharedFetches> {
        Arc::clone(&self.fetches)
    }

    /// Fetches ahead what a build of this run would fetch for `entry`, a
    /// `resources` or `components` entry of the kustomization in `dir`, so
    /// the build finds it done (or still running, and waits for it) instead
    /// of waiting for the network itself: an `http(s)://` file (and, if that
    /// fails as the loader then tries it, the git repository it names), or a
    /// git reference that is no local path. What is fetched and what fails is
    /// kept as the build would keep it; nothing is reported here. `options`
    /// are the run's.
    pub fn prefetch(&self, options: &crate::BuildOptions, dir: &Path, entry: &str) {
        use crate::error::RemoteCause as C;
        use crate::remote::url::{is_remote_file, parse_repo_spec};
        let session = crate::remote::Session::new(options.remote.clone()).sharing(self.fetches());
        if !session.enabled() {
            return;
        }
        let git = if is_remote_file(entry) {
            let downloaded = session.download(entry, options.limits.max_bytes);
            matches!(
                downloaded,
                Err(C::HttpStatus { .. } | C::Unreachable(_) | C::Http(_))
            )
        } else {
            std::fs::symlink_metadata(dir.join(entry)).is_err()
        };
        if git {
            if let Ok(spec) = parse_repo_spec(entry) {
                // The result stays in the shared fetches for the build.
                let _ = session.checkout(&spec);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Uses<Parsed>>> {
        // The map is never left half-updated (one insert per lock), so a
        // panic elsewhere while holding it leaves nothing to distrust.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The resources of the file at `path` whose text is `text`, as
    /// [`crate::accumulate::resources_from_text`] reads them: from the cache
    /// when this text was parsed before (taken on its last expected use,
    /// else copied), else parsed now, and kept when more uses are expected
    /// (a file seen a second time with no count given expects more). Errors
    /// are not kept (the next build reports them again).
    pub(crate) fn resources(
        &self,
        path: &Path,
        text: &str,
        limits: &ParseLimits,
    ) -> Result<Vec<Resource>, Error> {
        let seen = Uses::take_use(&mut self.lock(), path);
        let Some(kept) = seen else {
            // The first use of a file no count was given for.
            return crate::accumulate::resources_from_text(path, text, limits);
        };
        if let Some(parsed) = kept.filter(|parsed| parsed.text == text) {
            return Ok(match Arc::try_unwrap(parsed) {
                Ok(parsed) => parsed.resources,
                Err(shared) => shared.resources.clone(),
            });
        }
        // Not kept (or changed since): parsed outside the lock, and kept for
        // the uses left. Two builds may parse one file at once; both results
        // are the same.
        let resources = crate::accumulate::resources_from_text(path, text, limits)?;
        if !Uses::wanted(&self.lock(), path) {
            return Ok(resources);
        }
        let parsed = Arc::new(Parsed {
            text: text.to_owned(),
            resources: resources.clone(),
        });
        // Checked again: the last use may have come meanwhile.
        if let Some(uses) = self.lock().get_mut(path).filter(|u| u.left > 0) {
            uses.kept = Some(parsed);
        }
        Ok(resources)
    }
}

/// Builds the kustomization directory of `child` (a `resources` entry) through
/// the run cache: reused when kept and the context makes that exact, built and
/// kept on its second use (its first, when the caller expects it to be
/// shared), and handed over on its last expected use. None when the build
/// has no run cache, on the directory's first use, or where the context is
/// not the plain one: the caller builds the directory itself. Warnings go to
/// `cx.warnings` as a fresh build's would.
pub(crate) fn build_dir(
    child: &Loader,
    cx: &mut BuildContext,
) -> Option<Result<Accumulation, Error>> {
    let cache = child.run_cache()?;
    let plain =
        cx.origin.is_none() && !cx.schema_chosen && matches!(cx.schema, SchemaChoice::Builtin);
    if !plain {
        return None;
    }
    let key = child.root().to_path_buf();
    let dirs = || cache.dirs.lock().unwrap_or_else(PoisonError::into_inner);
    // None on the first use of a directory no count was given for: the
    // caller builds it as without the cache. Else the kept build, if any
    // (the last expected use takes it out of the cache).
    // Bound apart so that the lock is released before the copy below.
    let seen = Uses::take_use(&mut dirs(), &key)?;
    if let Some(hit) = seen {
        let cycle = child.ancestor_within(hit.files.iter().filter_map(|f| f.parent()));
        if cycle || !child.charge(hit.bytes, hit.kustomizations) {
            return None;
        }
        child.record_files(&hit.files);
        cx.warnings.extend(hit.warnings.iter().cloned());
        // The last use moves the build out, unless another use still holds
        // it for a moment (then it copies, as the others do).
        let accumulation = match Arc::try_unwrap(hit) {
            Ok(dir) => dir.accumulation,
            Err(shared) => shared.accumulation.clone(),
        };
        return Some(Ok(accumulation));
    }
    let apart = child.recording_apart();
    let (bytes, kustomizations) = (child.bytes_read(), child.kustomizations_read());
    let warned = cx.warnings.len();
    let built = crate::accumulate::build_dir(&apart, cx);
    let files = apart.files_read();
    child.record_files(&files);
    let built = match built {
        Ok(built) => built,
        Err(e) => return Some(Err(e)),
    };
    if cx.schema_chosen {
        // A kustomization of the tree chose the merge schema: not plain.
        return Some(Ok(built));
    }
    if !Uses::wanted(&dirs(), &key) {
        // No use left to keep it for.
        return Some(Ok(built));
    }
    // Copied outside the lock: the other builds go on meanwhile.
    let entry = Arc::new(BuiltDir {
        accumulation: built.clone(),
        warnings: cx.warnings.get(warned..).unwrap_or_default().to_vec(),
        files,
        bytes: child.bytes_read().saturating_sub(bytes),
        kustomizations: child.kustomizations_read().saturating_sub(kustomizations),
    });
    // Checked again: the last use may have come meanwhile.
    if let Some(uses) = dirs().get_mut(&key).filter(|uses| uses.left > 0) {
        uses.kept = Some(entry);
    }
    Some(Ok(built))
}
