//! Loading: the file system as kustomize's loader sees it, and the only place
//! the build touches it.
//!
//! A [`Loader`] is rooted at one kustomization directory. Files it reads —
//! the kustomization file itself included — must lie inside that root (after
//! resolving symlinks) unless the load restrictor is lifted; other kustomization
//! directories may lie anywhere, but never at or above a directory already being
//! built (that would be a cycle).
//!
//! Every file is read the same guarded way (`Loader::read_regular`): it must be
//! a regular file (never a FIFO, device, socket or directory, whatever the
//! restrictor), no larger than the size limit, and it is opened without
//! following a final symlink and without blocking, then checked again on the
//! open handle, so a path swapped between the check and the open cannot slip
//! through.
//!
//! Remote entries (see [`crate::remote`]) are recognised here in kustomize's
//! order: an `http(s)://` entry is first fetched as a file; a local file wins
//! over a git reference; anything that parses as a git reference is fetched
//! (remote resources enabled) and gets a loader rooted in its checkout, always
//! load-restricted to its own root, whose bases must stay inside the checkout.
//! `read_file`/`read_bytes` fetch `http(s)://` paths (generator files, patches,
//! `openapi.path`, ...), as kustomize's loader does.
//!
//! A path named in a kustomization (and the build's own directory argument)
//! is first joined to its base and cleaned as text, as kustomize's loader
//! does with Go's `filepath.Join`: `sub/link/../cm.yaml` is `sub/cm.yaml`
//! whatever `sub/link` is. Only then are symlinks resolved, and the load
//! restrictor, the cycle check and the read's own checks judge that path.
//!
//! Every read and every path resolution goes through the build's
//! [`FileSystem`] (the disk, or memory): the restrictor, the escape checks and
//! the budgets here apply to each alike.

pub mod gojson;
pub mod kustomization;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::cache::RunCache;

use crate::error::{Error, FileCause, RemoteCause};
use crate::fs::{DiskFs, FileSystem, Metadata, ReadError};
use crate::remote::url::{is_remote_file, parse_repo_spec, redact, RepoSpec};
use crate::remote::Session;
use crate::LoadRestrictor;

/// File names a kustomization may have, in kustomize's order of preference.
pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// A loader rooted at one kustomization directory.
#[derive(Clone, Debug)]
pub struct Loader {
    root: PathBuf,
    restrictor: LoadRestrictor,
    /// Largest file, in bytes, the loader reads (`ParseLimits::max_bytes`).
    max_bytes: usize,
    /// Bytes read so far by the whole build, shared by every loader of it.
    budget: Arc<ReadBudget>,
    /// Roots of the kustomizations that (transitively) include this one.
    ancestors: Arc<Vec<PathBuf>>,
    /// Remote resources for this build (disabled unless the caller enabled them).
    remote: Arc<Session>,
    /// The checkout this loader's root lies in, when it came from a remote:
    /// its bases must stay inside it.
    repo_dir: Option<PathBuf>,
    /// The remote references (as written) that led here, for cycle detection.
    repo_chain: Arc<Vec<String>>,
    /// The file system every path is resolved and read on.
    fs: Arc<dyn FileSystem>,
    /// The files this build read, and the parses it shares with other builds.
    files: Arc<BuildFiles>,
    /// Directories this build found to be real, shared by all its loaders.
    real_dirs: Arc<RealDirs>,
}

/// The directories a build found, by `lstat`, to be real directories (no
/// symlink), so [`Loader::locate`] asks about each only once per
/// build instead of once per path through it (a Kubeflow build looked at
/// `common`, `common/istio`, ... again for every entry below them). Only kept
/// where the file system checks the real path of every file it opens
/// ([`FileSystem::checks_opened_path`]): a directory swapped for a symlink
/// after it was remembered is caught there, as one swapped between the
/// `lstat` and the open always was. Keys are the paths' bytes: the loader
/// builds them from names alone (no `.`, no doubled `/`), so equal bytes are
/// equal paths, and hashing bytes skips `Path`'s component walk.
#[derive(Debug, Default)]
struct RealDirs(RwLock<foldhash::HashSet<OsString>>);

impl RealDirs {
    fn contains(&self, dir: &Path) -> bool {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(dir.as_os_str())
    }

    fn insert(&self, dir: &Path) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(dir.as_os_str().to_owned());
    }
}

/// What one build's loaders share about files beyond the budget: every path
/// read or handed to another program (for `rustomize affected`), and the
/// run's [`RunCache`] if the build has one.
#[derive(Debug, Default)]
struct BuildFiles {
    /// Canonical paths of the files read (and directories confined), as
    /// bytes: hashing them costs less than keeping `Path`s in order, which
    /// compares component by component; [`Loader::files_read`] sorts once.
    read: Mutex<foldhash::HashSet<OsString>>,
    /// What the builds of the run share.
    cache: Option<Arc<RunCache>>,
}

impl BuildFiles {
    fn lock(&self) -> std::sync::MutexGuard<'_, foldhash::HashSet<OsString>> {
        self.read.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, path: &Path) {
        let mut read = self.lock();
        if !read.contains(path.as_os_str()) {
            read.insert(path.as_os_str().to_owned());
        }
    }
}

/// `files` in `Path` order, each once; a path spelled apart (`a//b`, `a/b/`;
/// the loader spells none so) kept in its least spelling, whatever order
/// `files` came in.
pub(crate) fn sorted_paths(mut files: Vec<PathBuf>) -> Vec<PathBuf> {
    files.sort_unstable_by(|a, b| a.cmp(b).then_with(|| a.as_os_str().cmp(b.as_os_str())));
    files.dedup();
    files
}

/// The build-wide budget of bytes read. A kustomization that includes the same
/// bases through many overlays (each with its own prefix, so no ids collide)
/// re-reads and re-builds them once per path: a few small files can multiply
/// into exponentially many resources. Counting every read, repeats included,
/// bounds that expansion in proportion to the work actually done.
/// Each inclusion also costs a kustomization build of its own whatever its
/// size, so those are counted too.
#[derive(Debug)]
struct ReadBudget {
    /// Most bytes the build may read in all.
    limit: usize,
    /// Bytes read so far (by any thread of the build).
    used: AtomicUsize,
    /// Most kustomization files the build may read in all.
    max_kustomizations: usize,
    /// Kustomization files read so far.
    kustomizations: AtomicUsize,
}

impl ReadBudget {
    /// A fresh budget for one build.
    fn new(max_read_bytes: usize, max_kustomizations: usize) -> Arc<ReadBudget> {
        Arc::new(ReadBudget {
            limit: max_read_bytes,
            used: AtomicUsize::new(0),
            max_kustomizations,
            kustomizations: AtomicUsize::new(0),
        })
    }

    /// Records `n` more bytes read; fails once the total passes the limit.
    fn spend(&self, n: usize) -> Result<(), FileCause> {
        let before = self.used.fetch_add(n, Ordering::Relaxed);
        if before.saturating_add(n) > self.limit {
            return Err(FileCause::ReadBudget { limit: self.limit });
        }
        Ok(())
    }

    /// Records one more kustomization read; fails past the limit.
    fn spend_kustomization(&self) -> Result<(), FileCause> {
        let before = self.kustomizations.fetch_add(1, Ordering::Relaxed);
        if before >= self.max_kustomizations {
            return Err(FileCause::KustomizationBudget {
                limit: self.max_kustomizations,
            });
        }
        Ok(())
    }
}

/// Where [`Loader::locate`] found an entry.
enum Located {
    /// At this symlink-free path, which is also the requested one, with its
    /// `lstat` metadata unless it is a directory.
    Real(PathBuf, Option<Metadata>),
    /// The requested path passes through a symlink (or is missing): the
    /// full resolution decides.
    Linked(PathBuf),
}

/// What a `resources` entry names.
pub enum Entry {
    /// A file, with its resolved path and contents.
    File(PathBuf, String),
    /// A directory holding a kustomization.
    Dir(Loader),
}

impl Loader {
    /// A loader for the top-level kustomization directory, reading files of at
    /// most `max_bytes` bytes, at most `max_read_bytes` bytes in all and at most
    /// `max_kustomizations` kustomization files in all (every loader derived
    /// from this one shares those budgets).
    pub fn new(
        fs: Arc<dyn FileSystem>,
        dir: &Path,
        restrictor: LoadRestrictor,
        max_bytes: usize,
        max_read_bytes: usize,
        max_kustomizations: usize,
    ) -> Result<Loader, Error> {
        // kustomize cleans the argument as text too (`filepath.Abs`), from
        // the working directory as Go names it ([`FileSystem::current_dir`]):
        // `app/link/..` is `app`. A relative argument is always joined with
        // it, since `$PWD` may itself hold a `..` or `.` that Go cleans away
        // along with the argument's, before any symlink is followed. An
        // absolute one without a `..` cleans to what the file system would
        // resolve alike, so it asks nothing.
        let dotdot = dir
            .components()
            .any(|c| c == std::path::Component::ParentDir);
        let cleaned = if dir.is_relative() {
            let base = fs.current_dir().map_err(|e| file_error(&*fs, dir, e))?;
            Some(join_cleaned(Path::new(""), &base.join(dir)))
        } else if dotdot {
            Some(join_cleaned(Path::new(""), dir))
        } else {
            None
        };
        let target = cleaned.as_deref().unwrap_or(dir);
        // Errors name the argument as written, unless a `..` in it changed
        // what it names.
        let named = if dotdot { target } else { dir };
        let fail = |e: std::io::Error| Error::File {
            path: named.to_path_buf(),
            cause: file_cause(&*fs, target, e),
        };
        let root = fs.canonicalize(target).map_err(fail)?;
        let meta = fs.metadata(&root).map_err(fail)?;
        if !meta.is_dir() {
            return Err(Error::File {
                path: named.to_path_buf(),
                cause: FileCause::NotADirectory,
            });
        }
        Ok(Loader {
            root,
            restrictor,
            max_bytes,
            budget: ReadBudget::new(max_read_bytes, max_kustomizations),
            ancestors: Arc::new(Vec::new()),
            remote: Arc::new(Session::new(crate::RemoteOptions::default())),
            repo_dir: None,
            repo_chain: Arc::new(Vec::new()),
            fs,
            files: Arc::default(),
            real_dirs: Arc::default(),
        })
    }

    /// This loader with `session` for its remote resources (and every loader
    /// derived from it).
    pub fn with_remote(mut self, session: Arc<Session>) -> Loader {
        self.remote = session;
        self
    }

    /// A loader for a build whose directory argument is itself a remote
    /// reference: rooted in its checkout, load-restricted to that root.
    pub fn remote_root(
        raw: &str,
        max_bytes: usize,
        max_read_bytes: usize,
        max_kustomizations: usize,
        session: Arc<Session>,
    ) -> Result<Loader, Error> {
        let fail = |cause| Error::Remote {
            context: "build".to_owned(),
            entry: redact(raw),
            cause,
        };
        let spec = parse_repo_spec(raw)
            .map_err(|m| fail(RemoteCause::Git(format!("not a remote reference: {m}"))))?;
        let (root, repo_dir) = open_repo(&session, &spec).map_err(fail)?;
        Ok(Loader {
            root,
            restrictor: LoadRestrictor::RootOnly,
            max_bytes,
            budget: ReadBudget::new(max_read_bytes, max_kustomizations),
            ancestors: Arc::new(Vec::new()),
            remote: session,
            repo_dir: Some(repo_dir),
            repo_chain: Arc::new(vec![raw.to_owned()]),
            // A checkout is on the disk, whatever file system the build reads.
            fs: Arc::new(DiskFs),
            files: Arc::default(),
            real_dirs: Arc::default(),
        })
    }

    /// The remote session of this build.
    pub fn remote(&self) -> &Arc<Session> {
        &self.remote
    }

    /// Whether the file system is the local disk (Helm and exec plugins,
    /// which hand paths to other programs, need it).
    pub fn on_disk(&self) -> bool {
        self.fs.is_disk()
    }

    /// This loader (made by [`Loader::new`], before any other derives from
    /// it) with a cache shared with the other builds of a run; see [`crate::cache`].
    pub fn with_run_cache(mut self, cache: Arc<RunCache>) -> Loader {
        self.files = Arc::new(BuildFiles {
            read: Mutex::default(),
            cache: Some(cache),
        });
        self
    }

    /// The cache the build shares with the other builds of its run, if any.
    pub fn run_cache(&self) -> Option<&RunCache> {
        self.files.cache.as_deref()
    }

    /// Canonical paths of every file the build read so far (all its loaders
    /// together, kustomization files included) and of the directories it
    /// handed to another program (Helm charts), sorted.
    pub fn files_read(&self) -> Vec<PathBuf> {
        sorted_paths(self.files.lock().iter().map(PathBuf::from).collect())
    }

    /// [`Loader::files_read`] unsorted, for [`crate::Build`] to sort when
    /// asked (most builds never are).
    pub(crate) fn files_read_unsorted(&self) -> Vec<std::ffi::OsString> {
        self.files.lock().iter().cloned().collect()
    }

    /// This loader recording the files it (and the loaders derived from it)
    /// reads apart from the rest of the build, to keep them with a directory's
    /// build in the run cache; [`Loader::record_files`] hands them back.
    pub(crate) fn recording_apart(&self) -> Loader {
        Loader {
            files: Arc::new(BuildFiles {
                read: Mutex::default(),
                cache: self.files.cache.clone(),
            }),
            ..self.clone()
        }
    }

    /// Records `files` as read by this build.
    pub(crate) fn record_files(&self, files: &[PathBuf]) {
        let mut read = self.files.lock();
        read.extend(files.iter().map(|f| f.as_os_str().to_owned()));
    }

    /// Counts `bytes` and `kustomizations` against the build's budgets, as a
    /// directory's build reused from the run cache read them; false (and
    /// nothing counted) if that would pass either limit.
    pub(crate) fn charge(&self, bytes: usize, kustomizations: usize) -> bool {
        let b = &self.budget;
        let fits = self.bytes_read().saturating_add(bytes) <= b.limit
            && self.kustomizations_read().saturating_add(kustomizations) <= b.max_kustomizations;
        if fits {
            b.used.fetch_add(bytes, Ordering::Relaxed);
            b.kustomizations
                .fetch_add(kustomizations, Ordering::Relaxed);
        }
        fits
    }

    /// Whether a directory including this root lies at or below any of
    /// `dirs`: building a tree that visits those directories from here would
    /// be a cycle.
    pub(crate) fn ancestor_within<'a>(&self, mut dirs: impl Iterator<Item = &'a Path>) -> bool {
        dirs.any(|d| self.ancestors.iter().any(|a| a.starts_with(d)))
    }

    /// Bytes read so far by the build this loader belongs to (all its loaders
    /// together, repeats included).
    pub fn bytes_read(&self) -> usize {
        self.budget.used.load(Ordering::Relaxed)
    }

    /// Kustomization files read so far by the build this loader belongs to
    /// (repeats included).
    pub fn kustomizations_read(&self) -> usize {
        self.budget.kustomizations.load(Ordering::Relaxed)
    }

    /// Whether a read of the build this loader belongs to went past one of
    /// its budgets (bytes or kustomization files read in all).
    pub fn budget_spent(&self) -> bool {
        let b = &self.budget;
        b.used.load(Ordering::Relaxed) > b.limit
            || b.kustomizations.load(Ordering::Relaxed) > b.max_kustomizations
    }

    /// The (symlink-resolved) root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The load restrictor in force.
    pub fn restrictor(&self) -> LoadRestrictor {
        self.restrictor
    }

    /// Resolves a path (absolute, or relative to the root) that must lie
    /// inside the root while the restrictor holds, for paths handed to another
    /// program rather than read here (a Helm chart directory). A path that does
    /// not exist yet is judged by its nearest existing ancestor, and may not
    /// climb out of it with `..`.
    pub fn confine(&self, path: &Path) -> Result<PathBuf, Error> {
        // Cleaned as text first, as kustomize joins the chart home and
        // directory with the root (`filepath.Join`).
        let requested = join_cleaned(&self.root, path);
        let mut existing = requested.as_path();
        let mut rest = Vec::new();
        let base = loop {
            match self.fs.canonicalize(existing) {
                Ok(real) => break real,
                Err(_) => {
                    let (Some(parent), Some(name)) = (existing.parent(), existing.file_name())
                    else {
                        return Err(file_error(
                            &*self.fs,
                            &requested,
                            std::io::ErrorKind::NotFound.into(),
                        ));
                    };
                    rest.push(name.to_owned());
                    existing = parent;
                }
            }
        };
        let mut resolved = base;
        for name in rest.iter().rev() {
            if name == ".." || name == "." {
                // `..` after a missing directory cannot be resolved without it.
                return Err(Error::OutsideRoot {
                    requested: requested.clone(),
                    path: requested.clone(),
                    root: self.root.clone(),
                });
            }
            resolved.push(name);
        }
        self.check_restriction(&requested, &resolved)?;
        self.files.record(&resolved);
        Ok(resolved)
    }

    /// Reads the kustomization file of the root; errors if there is none or
    /// several. The file is held to the root like any other: a kustomization
    /// file that is a symlink out of its directory is refused (kustomize reports
    /// it as missing) unless the load restrictor is lifted.
    pub fn read_kustomization(&self) -> Result<(PathBuf, String), Error> {
        let mut found = None;
        for name in KUSTOMIZATION_FILE_NAMES {
            let path = self.root.join(name);
            // The name itself first (`lstat`): what is no symlink needs no
            // second look, and its metadata serves the read's own check.
            let seen = match self.fs.symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => continue,
                Ok(meta) if !meta.is_symlink() => Some(meta),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                // A symlink (or an error to name): judged by what it resolves to.
                _ => match self.fs.metadata(&path) {
                    // kustomize passes over a directory of that name, and over
                    // a name that does not resolve (missing, or a dangling
                    // symlink).
                    Ok(meta) if meta.is_dir() => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    // Anything else (a file, a FIFO, a symlink loop, no
                    // permission) is this directory's kustomization; reading
                    // it says what is wrong.
                    _ => None,
                },
            };
            if found.is_some() {
                return Err(Error::MultipleKustomizations(self.root.clone()));
            }
            found = Some((path, seen));
        }
        let (path, seen) = found.ok_or_else(|| Error::MissingKustomization(self.root.clone()))?;
        self.budget
            .spend_kustomization()
            .map_err(|cause| Error::File {
                path: path.clone(),
                cause,
            })?;
        // The root is symlink-free: a kustomization file that is no symlink
        // is its own resolved path.
        let resolved = match seen {
            Some(_) => path.clone(),
            None => match self.fs.symlink_metadata(&path) {
                Ok(m) if !m.is_symlink() => path.clone(),
                _ => canonical(&*self.fs, &path)?,
            },
        };
        self.check_restriction(&path, &resolved)?;
        let text = self.read_text(&resolved, seen)?;
        Ok((resolved, text))
    }

    /// Reads a file named relative to the root, honouring the load restrictor.
    pub fn read_file(&self, relative: &str) -> Result<(PathBuf, String), Error> {
        if is_remote_file(relative) {
            let (path, bytes) = self.download(&self.root.display().to_string(), relative)?;
            let text = rustomize_yaml::decode_text(bytes).map_err(|e| Error::Yaml {
                path: path.clone(),
                message: e.message,
            })?;
            return Ok((path, text));
        }
        let (path, seen) = self.resolve_file(relative)?;
        let text = self.read_text(&path, seen)?;
        Ok((path, text))
    }

    /// Reads a file named relative to the root as bytes (generator sources need
    /// not be UTF-8), honouring the load restrictor.
    pub fn read_bytes(&self, relative: &str) -> Result<(PathBuf, Vec<u8>), Error> {
        if is_remote_file(relative) {
            return self.download(&self.root.display().to_string(), relative);
        }
        let (path, seen) = self.resolve_file(relative)?;
        let bytes = self.read_regular(&path, seen)?;
        Ok((path, bytes))
    }

    /// Resolves a `resources` entry: a file, or a kustomization directory.
    pub fn entry(&self, kustomization: &Path, entry: &str) -> Result<Entry, Error> {
        self.entry_in(kustomization, entry, "resource")
    }

    /// [`Loader::entry`] for a `resources` (`field` "resource") or
    /// `components` ("component") entry: errors say which.
    fn entry_in(
        &self,
        kustomization: &Path,
        entry: &str,
        field: &'static str,
    ) -> Result<Entry, Error> {
        if is_remote_file(entry) {
            return self.http_entry(kustomization, entry);
        }
        if entry.is_empty() {
            // Not the root itself (a cycle): kustomize refuses an empty root.
            return Err(Error::Kustomization {
                path: kustomization.to_path_buf(),
                message: format!("{field} '': new root cannot be empty"),
            });
        }
        let (requested, path, is_dir, seen) = match self.resolve(entry) {
            Ok(found) => found,
            Err((requested, e)) => {
                let cause = file_cause(&*self.fs, &requested, e);
                if matches!(cause, FileCause::NotFound) {
                    if let Ok(spec) = parse_repo_spec(entry) {
                        return self.remote_dir(kustomization, &spec).map(Entry::Dir);
                    }
                    return Err(Error::MissingResource {
                        kustomization: kustomization.to_path_buf(),
                        field,
                        entry: entry.to_owned(),
                    });
                }
                return Err(Error::BadEntry {
                    kustomization: kustomization.to_path_buf(),
                    field,
                    entry: entry.to_owned(),
                    cause,
                });
            }
        };
        if is_dir && self.remote.enabled() {
            // kustomize reads a directory whose name parses as a git
            // reference as that reference.
            if let Ok(spec) = parse_repo_spec(entry) {
                return self.remote_dir(kustomization, &spec).map(Entry::Dir);
            }
        }
        if is_dir {
            // kustomize refuses a kustomization directory named by an absolute
            // path, whatever the restrictor (it would let a tree pull in any
            // directory of the host).
            if Path::new(entry).is_absolute() {
                return Err(Error::Kustomization {
                    path: kustomization.to_path_buf(),
                    message: format!(
                        "new root '{}' cannot be absolute",
                        crate::error::excerpt(entry, 200)
                    ),
                });
            }
            // A base inside a checkout must stay in it (kustomize's git
            // containment rule).
            if let Some(repo) = &self.repo_dir {
                if !path.starts_with(repo) {
                    return Err(Error::OutsideRoot {
                        requested: requested.unwrap_or_else(|| path.clone()),
                        path,
                        root: repo.clone(),
                    });
                }
            }
            // A base may live anywhere else (kustomize allows it); its own
            // files are then held to its own root.
            return self.child(path).map(Entry::Dir);
        }
        let in_field = |e: Error| e.in_field(kustomization, field, entry);
        self.check_restriction(requested.as_deref().unwrap_or(&path), &path)
            .map_err(in_field)?;
        let bytes = self.read_regular(&path, seen).map_err(in_field)?;
        let text = rustomize_yaml::decode_text(bytes).map_err(|e| Error::Yaml {
            path: path.clone(),
            message: e.message,
        })?;
        Ok(Entry::File(path, text))
    }

    /// An `http(s)://` entry: the file it names, or, when that is not a file
    /// (an error status, no answer) and the URL is also a git reference, that
    /// repository (kustomize's order).
    fn http_entry(&self, kustomization: &Path, entry: &str) -> Result<Entry, Error> {
        let context = kustomization.display().to_string();
        match self.download(&context, entry) {
            Ok((path, bytes)) => {
                let text = rustomize_yaml::decode_text(bytes).map_err(|e| Error::Yaml {
                    path: path.clone(),
                    message: e.message,
                })?;
                Ok(Entry::File(path, text))
            }
            Err(Error::Remote {
                cause:
                    RemoteCause::HttpStatus { .. } | RemoteCause::Unreachable(_) | RemoteCause::Http(_),
                ..
            }) if parse_repo_spec(entry).is_ok() => self.remote_entry(kustomization, entry),
            Err(e) => Err(e),
        }
    }

    /// A remote git reference named by a `resources`/`components` entry, as a
    /// kustomization directory (also used when an `http(s)://` entry served
    /// something that is not resources).
    pub fn remote_entry(&self, kustomization: &Path, entry: &str) -> Result<Entry, Error> {
        let spec = parse_repo_spec(entry).map_err(|m| Error::Remote {
            context: kustomization.display().to_string(),
            entry: redact(entry),
            cause: RemoteCause::Git(format!("not a remote reference: {m}")),
        })?;
        self.remote_dir(kustomization, &spec).map(Entry::Dir)
    }

    /// A loader rooted in the checkout of `spec`.
    fn remote_dir(&self, kustomization: &Path, spec: &RepoSpec) -> Result<Loader, Error> {
        let fail = |cause| Error::Remote {
            context: kustomization.display().to_string(),
            entry: redact(&spec.raw),
            cause,
        };
        if let Some(previous) = self.repo_chain.iter().find(|p| p.starts_with(&spec.raw)) {
            return Err(fail(RemoteCause::Cycle(
                redact(&spec.raw),
                redact(previous),
            )));
        }
        let (root, repo_dir) = open_repo(&self.remote, spec).map_err(fail)?;
        let mut child = self.child(root)?;
        child.restrictor = LoadRestrictor::RootOnly;
        child.repo_dir = Some(repo_dir);
        let mut chain = Vec::with_capacity(self.repo_chain.len() + 1);
        chain.extend(self.repo_chain.iter().cloned());
        chain.push(spec.raw.clone());
        child.repo_chain = Arc::new(chain);
        Ok(child)
    }

    /// Downloads an `http(s)://` file within the size limit and the build's
    /// read budget; the path returned is the URL, credentials redacted.
    fn download(&self, context: &str, url: &str) -> Result<(PathBuf, Vec<u8>), Error> {
        let path = PathBuf::from(redact(url));
        let bytes = self
            .remote
            .download(url, self.max_bytes)
            .map_err(|cause| Error::Remote {
                context: context.to_owned(),
                entry: redact(url),
                cause,
            })?;
        self.budget
            .spend(bytes.len())
            .map_err(|cause| Error::File {
                path: path.clone(),
                cause,
            })?;
        Ok((path, bytes))
    }

    /// The path kustomize resolves for `entry` (a file or directory named in a
    /// kustomization, relative to the root or absolute): the root joined with
    /// it and cleaned as text, as Go's `filepath.Join` cleans it, before any
    /// name is looked up. So `sub/link/../cm.yaml` is `sub/cm.yaml` whatever
    /// `sub/link` is (a symlink, a file, missing), a `..` climbs from the
    /// root itself, and a trailing `/` is dropped. Everything after — the
    /// symlink resolution, the load restrictor, the cycle and escape checks —
    /// applies to this path. One exception, also kustomize's: an absolute
    /// file path read with the restrictor lifted is handed to the operating
    /// system as written (kustomize's `RestrictionNone` returns it uncleaned),
    /// so a `..` in it follows a symlink before it.
    fn requested(&self, entry: &str) -> PathBuf {
        if self.restrictor == LoadRestrictor::None && Path::new(entry).is_absolute() {
            return PathBuf::from(entry);
        }
        join_cleaned(&self.root, Path::new(entry))
    }

    /// Where `entry` leads: the symlink-free absolute path of what
    /// [`Loader::requested`] names, whether it is a directory, for what is
    /// not, its `lstat` metadata when taken, and the requested path when it
    /// differs (it passes through a symlink). On error, the requested path
    /// with the cause. See [`Loader::locate`] for the cheap way; else a full
    /// `canonicalize`.
    #[allow(clippy::type_complexity)]
    fn resolve(
        &self,
        entry: &str,
    ) -> Result<(Option<PathBuf>, PathBuf, bool, Option<Metadata>), (PathBuf, std::io::Error)> {
        let requested = match self.locate(entry) {
            Located::Real(path, seen) => return Ok((None, path, seen.is_none(), seen)),
            Located::Linked(requested) => requested,
        };
        let found = self
            .fs
            .canonicalize(&requested)
            .and_then(|path| Ok((self.fs.metadata(&path)?.is_dir(), path)));
        match found {
            // Not seen by `lstat`: the read checks the file itself.
            Ok((is_dir, path)) => Ok((Some(requested), path, is_dir, None)),
            Err(e) => Err((requested, e)),
        }
    }

    /// Finds `entry` with one `lstat` per name instead of a full
    /// `canonicalize`, which reads every component of the root again
    /// (`realpath` made ~7 `readlink` calls per file, ~5% of a Kubeflow
    /// build); a directory found real is remembered for the build
    /// ([`RealDirs`]). The common shape — leading `..`, then names — is
    /// walked as written: a leading `..` of the symlink-free root is its
    /// parent, and a name no `..` follows stays, so the path walked is the
    /// cleaned path itself. Any other entry (a `..` after a name, an
    /// absolute path) and any walk that meets a symlink or a missing name is
    /// cleaned first ([`Loader::requested`]) and walked again from there
    /// ([`Loader::locate_cleaned`]).
    fn locate(&self, entry: &str) -> Located {
        use std::path::Component;
        let mut path = self.root.clone();
        let mut last = None;
        let mut named = false;
        for component in Path::new(entry).components() {
            match component {
                Component::CurDir => {}
                Component::ParentDir if !named => {
                    path.pop();
                }
                Component::Normal(name) => {
                    named = true;
                    path.push(name);
                    match self.real(&path) {
                        Some(m) => last = m,
                        None => return self.locate_cleaned(entry),
                    }
                }
                _ => return self.locate_cleaned(entry),
            }
        }
        Located::Real(path, last)
    }

    /// [`Loader::locate`] for what is not of the common shape: the requested
    /// path (cleaned, so no `..` follows a name) walked with one `lstat` per
    /// name below the part it shares with the symlink-free root (the root or
    /// one of its ancestors, real already). Linked when a name is a symlink
    /// or missing, or the path still holds a `..` (an absolute path read as
    /// written).
    fn locate_cleaned(&self, entry: &str) -> Located {
        use std::path::Component;
        let requested = self.requested(entry);
        // A path read as written keeps what `components()` would drop: a
        // trailing `/` or `/.` asks for a directory, so the operating system
        // judges it (a file there is "not a directory", as for kustomize).
        if self.restrictor == LoadRestrictor::None
            && Path::new(entry).is_absolute()
            && (entry.ends_with('/') || entry.ends_with("/."))
        {
            return Located::Linked(requested);
        }
        let mut root = self.root.components();
        let mut path = PathBuf::with_capacity(requested.as_os_str().len());
        let mut shared = true;
        let mut last = None;
        for component in requested.components() {
            if shared && root.next() == Some(component) {
                path.push(component);
                continue;
            }
            shared = false;
            let Component::Normal(name) = component else {
                return Located::Linked(requested);
            };
            path.push(name);
            match self.real(&path) {
                Some(m) => last = m,
                None => return Located::Linked(requested),
            }
        }
        // What is not a directory has a name below the shared part, so
        // `last` stands for the final component.
        Located::Real(path, last)
    }

    /// Whether `path` (whose parent is real) is itself no symlink: for a
    /// directory `Some(None)` (remembered where [`RealDirs`] applies), for
    /// anything else `Some` of its `lstat` metadata; `None` for a symlink or
    /// a path that cannot be looked at.
    fn real(&self, path: &Path) -> Option<Option<Metadata>> {
        let remember = self.fs.checks_opened_path();
        if remember && self.real_dirs.contains(path) {
            return Some(None);
        }
        match self.fs.symlink_metadata(path) {
            Ok(m) if m.is_dir() => {
                if remember {
                    self.real_dirs.insert(path);
                }
                Some(None)
            }
            Ok(m) if !m.is_symlink() => Some(Some(m)),
            _ => None,
        }
    }

    /// The symlink-free path of a file named relative to the root, checked
    /// against the load restrictor, with its `lstat` metadata when that was
    /// taken.
    fn resolve_file(&self, relative: &str) -> Result<(PathBuf, Option<Metadata>), Error> {
        match self.locate(relative) {
            Located::Real(path, seen) => {
                self.check_restriction(&path, &path)?;
                Ok((path, seen))
            }
            Located::Linked(requested) => {
                let path = canonical(&*self.fs, &requested)?;
                self.check_restriction(&requested, &path)?;
                Ok((path, None))
            }
        }
    }

    /// A loader for a directory named by a `components` entry.
    pub fn component(&self, kustomization: &Path, entry: &str) -> Result<Loader, Error> {
        match self.entry_in(kustomization, entry, "component")? {
            Entry::Dir(loader) => Ok(loader),
            Entry::File(path, _) => Err(Error::Kustomization {
                path: kustomization.to_path_buf(),
                message: format!(
                    "component '{entry}' must be a directory, but '{}' is a file",
                    path.display()
                ),
            }),
        }
    }

    fn child(&self, dir: PathBuf) -> Result<Loader, Error> {
        // A directory at or above any directory being built would include itself.
        if self.root.starts_with(&dir) || self.ancestors.iter().any(|a| a.starts_with(&dir)) {
            return Err(Error::Cycle(dir));
        }
        let mut ancestors = Vec::with_capacity(self.ancestors.len() + 1);
        ancestors.extend(self.ancestors.iter().cloned());
        ancestors.push(self.root.clone());
        Ok(Loader {
            root: dir,
            restrictor: self.restrictor,
            max_bytes: self.max_bytes,
            budget: Arc::clone(&self.budget),
            ancestors: Arc::new(ancestors),
            remote: Arc::clone(&self.remote),
            repo_dir: self.repo_dir.clone(),
            repo_chain: Arc::clone(&self.repo_chain),
            fs: Arc::clone(&self.fs),
            files: Arc::clone(&self.files),
            real_dirs: Arc::clone(&self.real_dirs),
        })
    }

    /// Refuses `path` (resolved from `requested`) if it lies outside the root
    /// while the restrictor holds.
    fn check_restriction(&self, requested: &Path, path: &Path) -> Result<(), Error> {
        if self.restrictor == LoadRestrictor::RootOnly && !path.starts_with(&self.root) {
            return Err(Error::OutsideRoot {
                requested: requested.to_path_buf(),
                path: path.to_path_buf(),
                root: self.root.clone(),
            });
        }
        Ok(())
    }

    /// Reads a (symlink-resolved) YAML file as text: UTF-8, or UTF-16 and
    /// byte-order marks read as kustomize reads them.
    fn read_text(&self, path: &Path, seen: Option<Metadata>) -> Result<String, Error> {
        let bytes = self.read_regular(path, seen)?;
        rustomize_yaml::decode_text(bytes).map_err(|e| Error::Yaml {
            path: path.to_path_buf(),
            message: e.message,
        })
    }

    /// Reads a symlink-resolved path the guarded way ([`FileSystem::read_file`];
    /// on disk, `crate::fs::read_guarded`), the opened file checked against the
    /// restrictor, and counts it against the build's read budget. `seen` is
    /// the path's `lstat` metadata when the loader just took it
    /// ([`FileSystem::read_file_seen`]).
    fn read_regular(&self, path: &Path, seen: Option<Metadata>) -> Result<Vec<u8>, Error> {
        self.files.record(path);
        // Under the restrictor, the file actually opened must still lie in the
        // root: a directory on the path may have been replaced by a symlink
        // after the path was resolved.
        let confine = (self.restrictor == LoadRestrictor::RootOnly).then_some(self.root.as_path());
        let read = match seen {
            Some(meta) => self.fs.read_file_seen(path, meta, self.max_bytes, confine),
            None => self.fs.read_file(path, self.max_bytes, confine),
        };
        let bytes = read.map_err(|e| match e {
            ReadError::Cause(cause) => Error::File {
                path: path.to_path_buf(),
                cause,
            },
            ReadError::Escaped(real) => Error::OutsideRoot {
                requested: path.to_path_buf(),
                path: real,
                root: self.root.clone(),
            },
        })?;
        self.budget
            .spend(bytes.len())
            .map_err(|cause| Error::File {
                path: path.to_path_buf(),
                cause,
            })?;
        Ok(bytes)
    }
}

/// Reads one file given outside any kustomization (a KfDef, an overrides
/// file) the loader's guarded way: symlinks resolved, then it must be a regular
/// file of at most `max_bytes` bytes (never a FIFO, device or directory), opened
/// without blocking. Errors name `path` as given.
///
/// A path whose final name is no symlink is read as it stands (the kernel
/// resolves any symlink before it, as `canonicalize` would): `realpath` costs
/// a `readlink` per component, which `build --all` paid for every
/// kustomization file of a tree.
pub fn read_regular_file(path: &Path, max_bytes: usize) -> Result<Vec<u8>, Error> {
    let (real, seen) = match DiskFs.symlink_metadata(path) {
        Ok(meta) if !meta.is_symlink() => (path.to_path_buf(), Some(meta)),
        // A symlink, or an error `canonicalize` names as it always did.
        _ => (
            path.canonicalize()
                .map_err(|e| file_error(&DiskFs, path, e))?,
            None,
        ),
    };
    crate::fs::read_guarded(&real, seen, max_bytes, None).map_err(|e| Error::File {
        path: path.to_path_buf(),
        cause: match e {
            ReadError::Cause(cause) => cause,
            // Nothing confines this read.
            ReadError::Escaped(_) => FileCause::NotFound,
        },
    })
}

/// `base` joined with `path` and cleaned as text, as Go's `filepath.Join`
/// does: `.` and empty names dropped, each `..` cancelling the name before it
/// (at `/` it stays `/`), a trailing `/` dropped; an absolute `path` stands
/// alone (as `Path::join`). No file system is asked: `sub/link/..` is `sub`
/// whatever `sub/link` is, which is how kustomize reads every path in a
/// kustomization. `base` must be clean already (a canonical root is).
pub(crate) fn join_cleaned(base: &Path, path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::with_capacity(base.as_os_str().len() + path.as_os_str().len() + 1);
    out.push(base);
    for component in path.components() {
        match component {
            Component::CurDir => {}
            // A name is popped; so is nothing at `/`; a relative `base`
            // with nothing left to pop keeps the `..`.
            Component::ParentDir => {
                if out.file_name().is_some() {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            // `RootDir` (and a Windows prefix) restart the path.
            other => out.push(other),
        }
    }
    out
}

fn canonical(fs: &dyn FileSystem, path: &Path) -> Result<PathBuf, Error> {
    fs.canonicalize(path).map_err(|e| file_error(fs, path, e))
}

fn file_error(fs: &dyn FileSystem, path: &Path, error: std::io::Error) -> Error {
    Error::File {
        path: path.to_path_buf(),
        cause: file_cause(fs, path, error),
    }
}

/// Names the cause of an I/O error on `path`: a loop or a dangling symlink
/// says so, rather than "no such file or directory".
fn file_cause(fs: &dyn FileSystem, path: &Path, error: std::io::Error) -> FileCause {
    match FileCause::from_io(error) {
        FileCause::NotFound if fs.symlink_metadata(path).is_ok_and(|m| m.is_symlink()) => {
            FileCause::Dangling
        }
        cause => cause,
    }
}

/// The checkout of `spec` and the kustomization directory in it (both
/// symlink-free): the directory must exist, be a directory and stay inside the
/// checkout.
fn open_repo(session: &Session, spec: &RepoSpec) -> Result<(PathBuf, PathBuf), RemoteCause> {
    let checkout = session.checkout(spec)?;
    let checkout = checkout
        .canonicalize()
        .map_err(|e| RemoteCause::Cache(format!("{}: {e}", checkout.display())))?;
    let root = checkout
        .join(&spec.kust_root)
        .canonicalize()
        .map_err(|_| RemoteCause::MissingSubdir(spec.kust_root.clone()))?;
    if !root.starts_with(&checkout) {
        return Err(RemoteCause::OutsideRepo(spec.kust_root.clone()));
    }
    if !root.is_dir() {
        return Err(RemoteCause::SubdirIsFile(spec.kust_root.clone()));
    }
    Ok((root, checkout))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// A loader over the disk at `root`, reading files of at most `max_bytes`
    /// with no overall read budgets.
    fn disk_loader(root: &Path, restrictor: LoadRestrictor, max_bytes: usize) -> Loader {
        Loader::new(
            Arc::new(DiskFs),
            root,
            restrictor,
            max_bytes,
            usize::MAX,
            usize::MAX,
        )
        .unwrap()
    }

    /// A fresh scratch directory (removed when dropped).
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("rustomize-load-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir.canonicalize().unwrap())
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn reads_past_the_build_budget_are_refused() {
        let s = Scratch::new("budget");
        std::fs::write(s.0.join("a.yaml"), "0123456789").unwrap();
        std::fs::create_dir(s.0.join("sub")).unwrap();
        std::fs::write(s.0.join("sub/b.yaml"), "0123456789").unwrap();
        let loader = Loader::new(
            Arc::new(DiskFs),
            &s.0,
            LoadRestrictor::RootOnly,
            100,
            25,
            usize::MAX,
        )
        .unwrap();
        let child = loader.child(s.0.join("sub")).unwrap();
        // Two reads fit; the third, through a derived loader, passes 25 bytes.
        loader.read_file("a.yaml").unwrap();
        loader.read_file("a.yaml").unwrap();
        let err = child.read_bytes("b.yaml").unwrap_err();
        assert!(
            matches!(
                err,
                Error::File {
                    cause: FileCause::ReadBudget { limit: 25 },
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn file_over_the_limit_is_refused_before_reading() {
        let s = Scratch::new("limit");
        std::fs::write(s.0.join("big.yaml"), "0123456789").unwrap();
        let loader = disk_loader(&s.0, LoadRestrictor::RootOnly, 9);
        let err = loader.read_file("big.yaml").unwrap_err();
        assert!(matches!(
            err,
            Error::File {
                cause: FileCause::TooLarge { size: 10, limit: 9 },
                ..
            }
        ));
        let loader = disk_loader(&s.0, LoadRestrictor::RootOnly, 10);
        assert_eq!(loader.read_file("big.yaml").unwrap().1, "0123456789");
    }

    #[test]
    fn directory_named_like_a_kustomization_is_passed_over() {
        let s = Scratch::new("kdir");
        std::fs::create_dir(s.0.join("kustomization.yaml")).unwrap();
        std::fs::write(s.0.join("Kustomization"), "namePrefix: x-\n").unwrap();
        let loader = disk_loader(&s.0, LoadRestrictor::RootOnly, 1 << 20);
        let (path, text) = loader.read_kustomization().unwrap();
        assert_eq!(path, s.0.join("Kustomization"));
        assert_eq!(text, "namePrefix: x-\n");
    }

    #[cfg(unix)]
    #[test]
    fn causes_are_named() {
        let s = Scratch::new("causes");
        std::os::unix::fs::symlink("loop", s.0.join("loop")).unwrap();
        std::os::unix::fs::symlink("gone", s.0.join("dangling")).unwrap();
        std::fs::write(s.0.join("file"), "x").unwrap();
        let loader = disk_loader(&s.0, LoadRestrictor::None, 1 << 20);
        let cause = |name: &str| match loader.read_bytes(name) {
            Err(Error::File { cause, .. }) => cause.to_string(),
            other => panic!("{name}: {:?}", other.map(|(p, _)| p)),
        };
        assert!(cause("loop").starts_with("symlink loop"));
        assert!(cause("dangling").starts_with("dangling symlink"));
        assert_eq!(cause("missing"), "no such file or directory");
        assert_eq!(cause("file/below"), "not a directory");
        assert_eq!(
            cause("/dev/null"),
            "is a character device, not a regular file"
        );
        assert_eq!(cause("."), "is a directory, not a regular file");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn remembered_directory_swapped_for_a_symlink_is_caught() {
        let s = Scratch::new("swap");
        let root = s.0.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir(s.0.join("outside")).unwrap();
        std::fs::write(root.join("sub/a.yaml"), "inside").unwrap();
        std::fs::write(s.0.join("outside/a.yaml"), "outside").unwrap();
        let loader = Loader::new(
            Arc::new(DiskFs),
            &root,
            LoadRestrictor::RootOnly,
            1 << 20,
            usize::MAX,
            usize::MAX,
        )
        .unwrap();
        assert_eq!(loader.read_file("sub/a.yaml").unwrap().1, "inside");
        // `sub` is now remembered as real; swap it for a way out.
        std::fs::rename(root.join("sub"), s.0.join("old-sub")).unwrap();
        std::os::unix::fs::symlink(s.0.join("outside"), root.join("sub")).unwrap();
        let err = loader.read_file("sub/a.yaml").unwrap_err();
        assert!(matches!(err, Error::OutsideRoot { .. }), "{err}");
    }

    /// kustomize cleans the trailing `/` away with the rest of the path
    /// (measured: `resources: [cm.yaml/]` reads the file).
    #[test]
    fn trailing_slash_is_cleaned_away() {
        let s = Scratch::new("slash");
        std::fs::create_dir(s.0.join("base")).unwrap();
        std::fs::write(s.0.join("base/kustomization.yaml"), "{}\n").unwrap();
        std::fs::write(s.0.join("file.yaml"), "{}\n").unwrap();
        let loader = disk_loader(&s.0, LoadRestrictor::RootOnly, 1 << 20);
        let k = s.0.join("kustomization.yaml");
        assert!(
            matches!(loader.entry(&k, "base/"), Ok(Entry::Dir(l)) if l.root() == s.0.join("base"))
        );
        assert!(
            matches!(loader.entry(&k, "file.yaml/"), Ok(Entry::File(p, _)) if p == s.0.join("file.yaml"))
        );
    }

    #[test]
    fn join_cleaned_is_go_filepath_join() {
        let cases = [
            ("/r", "a/b", "/r/a/b"),
            ("/r", "./a//b/", "/r/a/b"),
            ("/r", "sub/link/../cm.yaml", "/r/sub/cm.yaml"),
            ("/r", "a/../../b", "/b"),
            ("/r", "../../../..", "/"),
            ("/r", "/abs/x/../y", "/abs/y"),
            ("/r", ".", "/r"),
            ("a", "../../b", "../b"),
            ("", "../x/..", ".."),
        ];
        for (base, path, want) in cases {
            assert_eq!(
                join_cleaned(Path::new(base), Path::new(path)),
                Path::new(want),
                "{base} + {path}"
            );
        }
    }

    /// A `..` cancels the name before it as text: a symlink, a dangling
    /// link, a file or a missing name before it is never looked at.
    #[cfg(unix)]
    #[test]
    fn dotdot_cancels_a_name_before_resolving() {
        let s = Scratch::new("dotdot");
        let root = s.0.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(s.0.join("outside/deep")).unwrap();
        std::fs::write(root.join("sub/cm.yaml"), "inside").unwrap();
        std::fs::write(s.0.join("outside/cm.yaml"), "outside").unwrap();
        std::fs::write(s.0.join("cm.yaml"), "above").unwrap();
        std::os::unix::fs::symlink("../../outside/deep", root.join("sub/link")).unwrap();
        std::os::unix::fs::symlink("gone", root.join("sub/dangling")).unwrap();
        let loader = disk_loader(&root, LoadRestrictor::RootOnly, 1 << 20);
        for entry in [
            "sub/link/../cm.yaml",
            "sub/dangling/../cm.yaml",
            "sub/missing/../cm.yaml",
            "sub/cm.yaml/../cm.yaml",
            "sub/link/./..//cm.yaml/",
        ] {
            let (path, text) = loader.read_file(entry).unwrap();
            assert_eq!(
                (path, text.as_str()),
                (root.join("sub/cm.yaml"), "inside"),
                "{entry}"
            );
        }
        // Cleaned above the root, it is outside, wherever the link leads.
        let err = loader.read_file("sub/link/../../../cm.yaml").unwrap_err();
        assert!(matches!(err, Error::OutsideRoot { .. }), "{err}");
        // A directory entry cleaned to the root itself is a cycle.
        let k = root.join("kustomization.yaml");
        let err = loader.entry(&k, "sub/link/../..").err().unwrap();
        assert!(matches!(err, Error::Cycle(_)), "{err}");
        // The restrictor lifted, a relative path is still cleaned first; an
        // absolute one is read as written, through the link.
        let lifted = disk_loader(&root, LoadRestrictor::None, 1 << 20);
        assert_eq!(
            lifted.read_file("sub/link/../../../cm.yaml").unwrap().1,
            "above"
        );
        let absolute = root.join("sub/link/../cm.yaml");
        let absolute = absolute.to_str().unwrap();
        assert_eq!(lifted.read_file(absolute).unwrap().1, "outside");
        assert_eq!(loader.read_file(absolute).unwrap().1, "inside");
    }

    #[test]
    fn root_must_be_a_directory() {
        let s = Scratch::new("root");
        std::fs::write(s.0.join("file"), "x").unwrap();
        let err = Loader::new(
            Arc::new(DiskFs),
            &s.0.join("file"),
            LoadRestrictor::RootOnly,
            1,
            usize::MAX,
            usize::MAX,
        )
        .unwrap_err();
        assert!(err.full_message().ends_with(": not a directory"), "{err}");
    }
}
