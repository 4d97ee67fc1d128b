//! Many roots in one run: `rustomize build --all DIR -o OUTDIR` and
//! `rustomize affected FILE... --root DIR`. kustomize has neither.
//!
//! **Roots.** A kustomization directory is a directory under DIR (DIR
//! included) holding a kustomization file; hidden directories (`.git`, ...) and
//! symbolic links to directories are not entered. A *root* is a kustomization
//! directory that no kustomization under DIR includes through `resources`,
//! `bases` or `components`, and whose kind is not `Component` (a component
//! only means something inside another build). `--include-bases` takes every
//! kustomization directory that is not a component; `--roots FILE` takes the
//! directories listed in FILE instead (one a line, relative to DIR; blank lines
//! and `#` comments skipped). A kustomization file that cannot be read or
//! parsed makes its directory a root (its build then says what is wrong).
//!
//! **Order and shards.** Roots are sorted by their path relative to DIR
//! (`/`-separated, `.` for DIR itself). `--shard K/N` (1 ≤ K ≤ N) keeps the
//! roots at positions K-1, K-1+N, K-1+2N, ... of that order: the N shards
//! partition the roots, and a CI job matrix of N runners shares them evenly.
//!
//! **Outputs.** The root at relative path `a/b` is written to `OUTDIR/a/b.yaml`
//! (directories created as needed); DIR itself to `OUTDIR/__root__.yaml`. Each
//! file is written atomically, exactly what `rustomize build a/b -o FILE` writes.
//! Warnings go to stderr prefixed by the root (`a/b: Warning: ...`), each
//! failure as one line `Error: a/b: CAUSE`, then one summary line.
//!
//! **Failures.** Without `--keep-going` the run starts no new build after the
//! first failure (builds already running finish and are written); with it every
//! root is built. Either way the exit code is 1 if any root failed.
//!
//! **Sharing.** Builds run in parallel, `--threads` at a time (default: one per
//! core), each single-threaded, and share one [`rustomize::cache::RunCache`]:
//! a resource file included by many roots is parsed once per run, a base
//! they share is built once (discovery tells the cache which bases more than
//! one kustomization of the run includes, and how often, so their first
//! build is kept and their last use takes it), the resource files the
//! kustomizations name are counted the same way and parsed ahead on the core
//! discovery leaves idle (see `Prepare`), and
//! a remote file or base is fetched (or found unreachable) once. The remote
//! entries the roots reach through local kustomizations are fetched ahead
//! on one more thread, so the builds do not wait for the network on a core;
//! the run ends when that thread has finished too.
//!
//! **Affected.** `rustomize affected FILE...` builds every root of `--root
//! DIR` (default `.`) and prints, one a line in root order, those whose build
//! read any FILE (a directory FILE matches any file under it). A root whose
//! build fails is printed too, with its error on stderr: what it would read
//! is unknown, and the change may be its fix.

use std::collections::BTreeSet;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rustomize::load::kustomization::Kustomization;
use rustomize::load::KUSTOMIZATION_FILE_NAMES;

use super::{fail, one_line, to_stderr, write_output_taking, LoadFlags, MAX_ERROR_LINE};

/// Flags of `rustomize build` for building many roots at once.
#[derive(clap::Args, Debug)]
pub(crate) struct AllFlags {
    /// Build every root under DIR (see --include-bases, --roots), one output
    /// file per root under -o OUTDIR: root a/b goes to OUTDIR/a/b.yaml, DIR
    /// itself to OUTDIR/__root__.yaml.
    #[arg(long = "all", help_heading = "Many roots")]
    pub(crate) all: bool,
    /// With --all: build every root even after one failed (the exit code is
    /// still 1).
    #[arg(long = "keep-going", requires = "all", help_heading = "Many roots")]
    keep_going: bool,
    /// With --all: build only shard K of N (1 ≤ K ≤ N) of the sorted roots,
    /// round-robin; the N shards cover every root exactly once.
    #[arg(long = "shard", value_name = "K/N", requires = "all", value_parser = parse_shard,
          help_heading = "Many roots")]
    shard: Option<Shard>,
    /// With --all: print the roots (of the shard), one a line, and build nothing.
    #[arg(long = "list", requires = "all", help_heading = "Many roots")]
    list: bool,
    #[command(flatten)]
    roots: RootFlags,
}

impl AllFlags {
    /// No flag given (what clap gives for none of them).
    pub(crate) fn none() -> AllFlags {
        AllFlags {
            all: false,
            keep_going: false,
            shard: None,
            list: false,
            roots: RootFlags {
                roots_file: None,
                include_bases: false,
                threads: None,
            },
        }
    }
}

/// How the roots of a tree are chosen, and how many build at once.
#[derive(clap::Args, Debug)]
pub(crate) struct RootFlags {
    /// Build the directories listed in FILE (one a line, relative to DIR;
    /// blank lines and # comments skipped) instead of finding the roots.
    #[arg(long = "roots", value_name = "FILE", help_heading = "Many roots")]
    roots_file: Option<PathBuf>,
    /// Also build kustomizations that others under DIR include (every
    /// kustomization directory but components).
    #[arg(long = "include-bases", help_heading = "Many roots")]
    include_bases: bool,
    /// Builds to run at once (default: one per core).
    #[arg(long = "threads", value_name = "N", help_heading = "Many roots",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: Option<u32>,
}

/// `rustomize affected`'s arguments.
#[derive(clap::Args)]
pub(crate) struct AffectedArgs {
    /// Files (or directories) that changed.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The tree whose roots are considered.
    #[arg(long = "root", value_name = "DIR", default_value = ".")]
    root: PathBuf,
    #[command(flatten)]
    roots: RootFlags,
    #[command(flatten)]
    pub(crate) load: LoadFlags,
}

/// Shard K of N, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shard {
    k: usize,
    n: usize,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let bad = || format!("'{text}': expected K/N with 1 <= K <= N");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if k == 0 || k > n {
        return Err(bad());
    }
    Ok(Shard { k, n })
}

/// One root: its path relative to the tree (`/`-separated, `.` for the tree
/// itself) and on disk.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Root {
    pub(crate) rel: String,
    pub(crate) dir: PathBuf,
    /// Estimated size of its build (bytes of the resource files it reaches
    /// through local kustomizations; 0 if unknown), to start large builds first.
    pub(crate) weight: u64,
    /// The remote entries (URLs, git references) it reaches through local
    /// kustomizations, each with the directory naming it, to fetch ahead.
    pub(crate) remotes: Vec<(PathBuf, String)>,
    /// The references from kustomization to kustomization directory in its
    /// build, as (referring directory, entry position, directory referred
    /// to), symlink-free paths: which bases the roots of a run share.
    pub(crate) edges: Arc<BTreeSet<Edge>>,
}

/// One `resources`/`components` entry naming a kustomization directory: the
/// directory of the kustomization holding it, its position there, and the
/// directory it names (symlink-free paths).
pub(crate) type Edge = (PathBuf, usize, PathBuf);

impl Root {
    /// Where `build --all` writes this root's output under `out`.
    fn output(&self, out: &Path) -> PathBuf {
        if self.rel == "." {
            out.join("__root__.yaml")
        } else {
            out.join(format!("{}.yaml", self.rel))
        }
    }
}

/// The roots of `tree` the flags choose, sorted by relative path.
fn choose_roots(
    tree: &Path,
    flags: &RootFlags,
    max_file_bytes: usize,
    prepare: Option<&Prepare>,
) -> Result<Vec<Root>, String> {
    let mut roots = match &flags.roots_file {
        Some(file) => listed_roots(tree, file, max_file_bytes)?,
        None => find_roots(tree, flags.include_bases, max_file_bytes, prepare)?,
    };
    roots.sort();
    roots.dedup();
    Ok(roots)
}

/// The directories listed in `file`, relative to `tree`.
fn listed_roots(tree: &Path, file: &Path, max_file_bytes: usize) -> Result<Vec<Root>, String> {
    let bytes =
        rustomize::load::read_regular_file(file, max_file_bytes).map_err(|e| e.to_string())?;
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", file.display()))?;
    let mut roots = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Outputs mirror these paths under OUTDIR: they must stay below it.
        let normal = Path::new(line)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !normal {
            return Err(format!(
                "{}:{}: '{line}': a root must be a relative path without '..'",
                file.display(),
                n + 1
            ));
        }
        let parts: Vec<&str> = line
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        let rel = if parts.is_empty() {
            ".".to_owned()
        } else {
            parts.join("/")
        };
        roots.push(Root {
            dir: tree.join(&rel),
            rel,
            weight: 0,
            remotes: Vec::new(),
            edges: Arc::default(),
        });
    }
    Ok(roots)
}

/// A kustomization directory found under the tree.
struct Found {
    rel: String,
    dir: PathBuf,
    /// Parsed, or None if it could not be read or parsed.
    kustomization: Option<Kustomization>,
}

/// What a `resources` or `components` entry of a found kustomization names.
enum Named {
    /// A local directory, by its symlink-free path.
    Dir(PathBuf),
    /// A local file of this many bytes.
    File(u64),
    /// No local path, but a URL or a git reference, with the entry.
    Remote(String),
    /// Anything else (missing, unreadable, neither file nor directory).
    Other,
}

/// The directories `walk` entered, by their path as walked (the tree's path
/// joined with their relative one). `walk` enters real directories only
/// (never a symlink), so each one's symlink-free path is the tree's followed
/// by its relative path, and an entry that stays among them resolves as
/// text: no `stat` or `readlink` for the bases of the tree.
struct Walked<'a> {
    tree: &'a Path,
    real_tree: Option<PathBuf>,
    dirs: HashSet<PathBuf>,
}

impl Walked<'_> {
    /// The symlink-free path of the walked directory `dir`.
    fn real(&self, dir: &Path) -> Option<PathBuf> {
        let rel = dir.strip_prefix(self.tree).ok()?;
        let real_tree = self.real_tree.as_ref()?;
        Some(if rel.as_os_str().is_empty() {
            real_tree.clone()
        } else {
            real_tree.join(rel)
        })
    }

    /// The walked directory `entry` names from the walked directory `from`,
    /// if every step of it is one: `..` of a walked directory below the tree
    /// is its parent (it is no symlink), a name must be a walked directory.
    fn lexical(&self, from: &Path, entry: &str) -> Option<PathBuf> {
        let mut dir = from.to_path_buf();
        for c in Path::new(entry).components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir if dir != self.tree => {
                    dir.pop();
                }
                Component::Normal(name) => {
                    dir.push(name);
                    if !self.dirs.contains(&dir) {
                        return None;
                    }
                }
                _ => return None,
            }
        }
        Some(dir)
    }

    /// What `entry` of the kustomization in `dir` (a walked directory) names.
    fn classify(&self, dir: &Path, entry: &str, canon: &mut Canonical) -> Named {
        if let Some(real) = self.lexical(dir, entry).and_then(|d| self.real(&d)) {
            return Named::Dir(real);
        }
        let path = dir.join(entry);
        match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => Named::File(meta.len()),
            Ok(meta) if meta.is_dir() => canon.of(&path).map_or(Named::Other, Named::Dir),
            Ok(_) => Named::Other,
            Err(_)
                if rustomize::remote::url::is_remote_file(entry)
                    || rustomize::remote::url::parse_repo_spec(entry).is_ok() =>
            {
                Named::Remote(entry.to_owned())
            }
            Err(_) => Named::Other,
        }
    }
}

/// Every kustomization directory under `tree`, then those that are roots.
/// With `prepare`, the resource files the kustomizations name are counted
/// in the run cache as they are found, and parsed ahead on another thread
/// until the walk ends (see [`Prepare`]).
fn find_roots(
    tree: &Path,
    include_bases: bool,
    max_file_bytes: usize,
    prepare: Option<&Prepare>,
) -> Result<Vec<Root>, String> {
    let mut found = Vec::new();
    let mut walked = Walked {
        tree,
        real_tree: tree.canonicalize().ok(),
        dirs: HashSet::new(),
    };
    let ahead = prepare
        .zip(walked.real_tree.clone())
        .map(|(prepare, real_tree)| prepare.start(real_tree));
    let walking = Walking {
        max_file_bytes,
        ahead: ahead.as_ref(),
    };
    // The thread parses on until discovery returns (`ahead` dropped).
    walk(tree, ".", &walking, &mut found, &mut walked.dirs)
        .map_err(|e| format!("{}: {e}", tree.display()))?;
    let mut canon = Canonical::default();
    // What each kustomization's entries name, looked up once.
    let named: Vec<Vec<Named>> = found
        .iter()
        .map(|f| match &f.kustomization {
            Some(k) => k
                .resources
                .iter()
                .chain(&k.components)
                .map(|entry| walked.classify(&f.dir, entry, &mut canon))
                .collect(),
            None => Vec::new(),
        })
        .collect();
    let reals: Vec<Option<PathBuf>> = found
        .iter()
        .map(|f| walked.real(&f.dir).or_else(|| canon.of(&f.dir)))
        .collect();
    let included: HashSet<&PathBuf> = named
        .iter()
        .flatten()
        .filter_map(|n| match n {
            Named::Dir(real) => Some(real),
            _ => None,
        })
        .collect();
    let weights = weights(&found, &named, &reals);
    Ok(found
        .into_iter()
        .zip(reals.iter())
        .zip(weights)
        .filter(|((f, real), _)| {
            let component = f
                .kustomization
                .as_ref()
                .is_some_and(|k| k.kind == "Component");
            let is_included = real.as_ref().is_some_and(|r| included.contains(r));
            !component && (include_bases || !is_included)
        })
        .map(|((f, _), reach)| Root {
            rel: f.rel,
            dir: f.dir,
            weight: reach.weight,
            remotes: reach.remotes.iter().cloned().collect(),
            edges: reach.edges,
        })
        .collect())
}

/// What a kustomization's build reaches.
#[derive(Clone, Default)]
struct Reach {
    /// Its estimated size.
    weight: u64,
    /// Remote entries, with the directory naming each.
    remotes: Arc<BTreeSet<(PathBuf, String)>>,
    /// Entries naming kustomization directories.
    edges: Arc<BTreeSet<Edge>>,
}

/// Each found kustomization's estimated build size: the bytes of the local
/// files its `resources` and `components` name, plus the sizes of the local
/// kustomization directories they name (a shared base counts once per use).
/// Only an ordering hint: `run_all` starts the largest builds first so a long
/// one does not start last and leave the other cores idle at the end.
/// With it, the entries that are not local paths but remote ones (a URL, a
/// git reference) of the kustomization and of those it reaches, which
/// `run_all` fetches ahead. `named[i]` are the entries of found directory `i`,
/// `reals[i]` its symlink-free path.
fn weights(found: &[Found], named: &[Vec<Named>], reals: &[Option<PathBuf>]) -> Vec<Reach> {
    let by_dir: HashMap<&PathBuf, usize> = reals
        .iter()
        .enumerate()
        .filter_map(|(i, real)| real.as_ref().map(|r| (r, i)))
        .collect();
    let mut memo: Vec<Option<Reach>> = vec![None; named.len()];
    (0..named.len())
        .map(|i| weight_of(i, found, named, reals, &by_dir, &mut memo))
        .collect()
}

/// `canonicalize` remembered per path for one discovery, for the entries
/// that do not resolve among the walked directories (each `realpath` costs a
/// `readlink` per component).
#[derive(Default)]
struct Canonical(HashMap<PathBuf, Option<PathBuf>>);

impl Canonical {
    fn of(&mut self, path: &Path) -> Option<PathBuf> {
        if let Some(real) = self.0.get(path) {
            return real.clone();
        }
        let real = path.canonicalize().ok();
        self.0.insert(path.to_path_buf(), real.clone());
        real
    }
}

fn weight_of(
    i: usize,
    found: &[Found],
    named: &[Vec<Named>],
    reals: &[Option<PathBuf>],
    by_dir: &HashMap<&PathBuf, usize>,
    memo: &mut [Option<Reach>],
) -> Reach {
    if let Some(Some(reach)) = memo.get(i) {
        return reach.clone();
    }
    // A cycle (which the build itself rejects) counts as nothing.
    if let Some(slot) = memo.get_mut(i) {
        *slot = Some(Reach::default());
    }
    let (Some(f), Some(entries)) = (found.get(i), named.get(i)) else {
        return Reach::default();
    };
    let mut total: u64 = 1;
    let mut remotes = BTreeSet::new();
    let mut edges = BTreeSet::new();
    for (n, entry) in entries.iter().enumerate() {
        match entry {
            Named::File(len) => total = total.saturating_add(*len),
            Named::Dir(real) => {
                if let Some(&sub) = by_dir.get(real) {
                    let sub = weight_of(sub, found, named, reals, by_dir, memo);
                    total = total.saturating_add(sub.weight);
                    remotes.extend(sub.remotes.iter().cloned());
                    edges.extend(sub.edges.iter().cloned());
                    if let Some(Some(from)) = reals.get(i) {
                        edges.insert((from.clone(), n, real.clone()));
                    }
                }
            }
            Named::Remote(entry) => {
                remotes.insert((f.dir.clone(), entry.clone()));
            }
            Named::Other => {}
        }
    }
    let reach = Reach {
        weight: total,
        remotes: Arc::new(remotes),
        edges: Arc::new(edges),
    };
    if let Some(slot) = memo.get_mut(i) {
        *slot = Some(reach.clone());
    }
    reach
}

/// What [`walk`] does besides collecting: the size limit of kustomization
/// files, and where the resource files they name go to be parsed ahead.
struct Walking<'a> {
    max_file_bytes: usize,
    ahead: Option<&'a Ahead>,
}

/// Collects the kustomization directories at and below `dir` (relative path
/// `rel`), and every directory entered into `dirs`.
fn walk(
    dir: &Path,
    rel: &str,
    walking: &Walking<'_>,
    found: &mut Vec<Found>,
    dirs: &mut HashSet<PathBuf>,
) -> std::io::Result<()> {
    dirs.insert(dir.to_path_buf());
    let mut subdirs = Vec::new();
    // Whether the listing holds a kustomization file's name (in any case,
    // for case-insensitive file systems): most directories do not, and need
    // no lookup of each name.
    let mut named_like_kustomization = false;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let file_type = entry.file_type()?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // Not followed through symlinks: a link to an ancestor would loop.
        if !file_type.is_dir() {
            named_like_kustomization |= KUSTOMIZATION_FILE_NAMES
                .iter()
                .any(|k| k.eq_ignore_ascii_case(name));
            continue;
        }
        if name.starts_with('.') {
            continue;
        }
        subdirs.push(name.to_owned());
    }
    let file = KUSTOMIZATION_FILE_NAMES
        .iter()
        .filter(|_| named_like_kustomization)
        .map(|name| dir.join(name))
        .find(|p| p.is_file());
    if let Some(file) = file {
        let kustomization = rustomize::load::read_regular_file(&file, walking.max_file_bytes)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| Kustomization::parse(&file, &text).ok());
        if let (Some(ahead), Some(k)) = (walking.ahead, &kustomization) {
            ahead.files_of(rel, &k.resources);
        }
        found.push(Found {
            rel: rel.to_owned(),
            dir: dir.to_path_buf(),
            kustomization,
        });
    }
    subdirs.sort();
    for name in subdirs {
        let sub_rel = if rel == "." {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        walk(&dir.join(&name), &sub_rel, walking, found, dirs)?;
    }
    Ok(())
}

/// Parsing resource files ahead while the tree is walked, on the core the
/// walk leaves idle (discovery is 5-10% of a Kubeflow `--all` run, before
/// any build starts): each plain relative `resources` entry of a
/// kustomization found (no `..`, no URL) is counted as one expected use in
/// the run cache ([`rustomize::cache::RunCache::expect_file`]), and the
/// first count of each file sends it to a thread that parses it into the
/// cache ([`rustomize::cache::RunCache::prepare_file`]), confined to the
/// tree. The thread stops when the walk ends (after the file at hand);
/// whatever it did not reach, the builds parse. Counts only guide what the
/// cache keeps and hands over: no output depends on them.
struct Prepare {
    cache: Arc<rustomize::cache::RunCache>,
    options: rustomize::BuildOptions,
}

/// A running [`Prepare`]: stops its thread when dropped.
struct Ahead {
    cache: Arc<rustomize::cache::RunCache>,
    real_tree: PathBuf,
    send: std::sync::mpsc::Sender<PathBuf>,
    stop: Arc<AtomicBool>,
}

impl Prepare {
    /// Starts the thread that parses, for the tree at `real_tree`
    /// (symlink-free).
    fn start(&self, real_tree: PathBuf) -> Ahead {
        let (send, receive) = std::sync::mpsc::channel::<PathBuf>();
        let stop = Arc::new(AtomicBool::new(false));
        let (cache, options, root) = (
            Arc::clone(&self.cache),
            self.options.clone(),
            real_tree.clone(),
        );
        let stopped = Arc::clone(&stop);
        // Not joined: it ends by itself after the file at hand once the
        // walk is over, and nothing waits for it.
        let spawned = std::thread::Builder::new()
            .name("parse-ahead".to_owned())
            .spawn(move || {
                // On a deep stack once, not per file: a document may nest
                // 10,000 levels.
                rustomize::on_deep_stack(move || {
                    while let Ok(path) = receive.recv() {
                        if stopped.load(Ordering::Relaxed) {
                            break;
                        }
                        cache.prepare_file(&path, &root, &options);
                    }
                });
            });
        if spawned.is_err() {
            // No thread: the files are still counted, the builds parse them.
            stop.store(true, Ordering::Relaxed);
        }
        Ahead {
            cache: Arc::clone(&self.cache),
            real_tree,
            send,
            stop,
        }
    }
}

impl Ahead {
    /// Counts (and sends ahead) the resource files `entries` of the
    /// kustomization at the tree's relative path `rel` name.
    fn files_of(&self, rel: &str, entries: &[String]) {
        let dir = if rel == "." {
            self.real_tree.clone()
        } else {
            self.real_tree.join(rel)
        };
        for entry in entries {
            if rustomize::remote::url::is_remote_file(entry) {
                continue;
            }
            let mut path = dir.clone();
            let mut plain = !entry.is_empty();
            for c in Path::new(entry).components() {
                match c {
                    Component::CurDir => {}
                    Component::Normal(name) => path.push(name),
                    _ => plain = false,
                }
            }
            if plain && path != dir && self.cache.expect_file(&path) {
                let _ = self.send.send(path);
            }
        }
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The roots of shard `shard` (all if None).
fn shard_of(roots: Vec<Root>, shard: Option<Shard>) -> Vec<Root> {
    match shard {
        None => roots,
        Some(Shard { k, n }) => roots
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % n == k - 1)
            .map(|(_, r)| r)
            .collect(),
    }
}

/// What happened to one root.
enum Outcome {
    /// Built (and written, for `build --all`), with its warnings and the files it read.
    Built(Vec<String>, Vec<PathBuf>),
    /// Failed, with the one-line cause.
    Failed(String),
}

/// Runs `job` on every root, `threads` at a time, each build single-threaded
/// and sharing one parse cache; with `stop_on_failure` no job starts after one
/// failed. Outcomes come back in root order (None: not started).
fn run_all(
    roots: &[Root],
    options: &rustomize::BuildOptions,
    cache: Arc<rustomize::cache::RunCache>,
    threads: Option<u32>,
    stop_on_failure: bool,
    job: impl Fn(&Root, rustomize::Build) -> Result<Outcome, String> + Sync,
) -> Vec<Option<Outcome>> {
    // The bases more than one build of the run includes (counting each
    // including kustomization once: it is built once, or reused whole).
    let mut uses: HashMap<&PathBuf, usize> = HashMap::new();
    let edges: BTreeSet<&Edge> = roots.iter().flat_map(|r| r.edges.iter()).collect();
    for (_, _, base) in edges {
        *uses.entry(base).or_default() += 1;
    }
    cache.expect_shared(
        uses.into_iter()
            .filter(|&(_, n)| n > 1)
            .map(|(base, n)| (base.clone(), n)),
    );
    let options = rustomize::BuildOptions {
        threads: Some(1),
        run_cache: Some(cache),
        ..options.clone()
    };
    let workers = threads
        .map(|t| t as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, roots.len().max(1));
    // Largest estimated builds first (ties in root order); outcomes stay in
    // root order.
    let mut schedule: Vec<usize> = (0..roots.len()).collect();
    schedule.sort_by_key(|&i| std::cmp::Reverse(roots.get(i).map_or(0, |r| r.weight)));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let outcomes: Vec<Mutex<Option<Outcome>>> = roots.iter().map(|_| Mutex::new(None)).collect();
    // The remote entries the builds will need, in the order they start.
    let mut remotes: Vec<&(PathBuf, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for root in schedule.iter().filter_map(|&i| roots.get(i)) {
        for remote in &root.remotes {
            if seen.insert(remote) {
                remotes.push(remote);
            }
        }
    }
    std::thread::scope(|scope| {
        if let Some(cache) = options.run_cache.as_ref().filter(|_| !remotes.is_empty()) {
            // Fetched ahead on a thread of their own: the network is waited
            // for while the workers build, not by a worker (see
            // RunCache::prefetch). Mostly blocked, it takes no core.
            let (options, stop) = (&options, &stop);
            scope.spawn(move || {
                for (dir, entry) in remotes {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    cache.prefetch(options, dir, entry);
                }
            });
        }
        for _ in 0..workers {
            // Each worker moves once to a deep stack and runs every build of
            // its share there: a build started elsewhere would get a new
            // thread of its own, and a new thread means fresh allocator pages
            // (a third of the run's time went to clearing them).
            scope.spawn(|| {
                rustomize::on_deep_stack(|| loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Some(&i) = schedule.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let (Some(root), Some(slot)) = (roots.get(i), outcomes.get(i)) else {
                        break;
                    };
                    let outcome = match rustomize::build(&root.dir, &options) {
                        Ok(build) => job(root, build).unwrap_or_else(Outcome::Failed),
                        Err(e) => Outcome::Failed(e.to_string()),
                    };
                    if stop_on_failure && matches!(outcome, Outcome::Failed(_)) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
                })
            });
        }
    });
    // The run cache holds every file and base the builds parsed, allocated on
    // the worker threads; freeing it here, on another thread, cost about 5% of
    // a run, and the process ends right after the summary.
    std::mem::forget(options);
    outcomes
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
        .collect()
}

/// Prints `Error: ROOT: CAUSE` as one line.
fn report_failure(root: &Root, cause: &str) {
    const PREFIX: &str = "Error: ";
    let message = format!("{}: {cause}", root.rel);
    to_stderr(&format!(
        "{PREFIX}{}",
        one_line(&message, MAX_ERROR_LINE - PREFIX.len())
    ));
}

impl AllFlags {
    /// Without --all: the flags that mean something only with it are refused.
    pub(crate) fn check_without_all(&self) -> Result<(), String> {
        let given = [
            ("--roots", self.roots.roots_file.is_some()),
            ("--include-bases", self.roots.include_bases),
            ("--threads", self.roots.threads.is_some()),
        ];
        match given.iter().find(|(_, given)| *given) {
            Some((flag, _)) => Err(format!("{flag} needs --all")),
            None => Ok(()),
        }
    }
}

/// `rustomize build --all DIR -o OUTDIR` with the options of one build.
pub(crate) fn build_all(
    tree: &Path,
    out: Option<&Path>,
    options: rustomize::BuildOptions,
    flags: &AllFlags,
) -> ExitCode {
    let cache = Arc::new(rustomize::cache::RunCache::new());
    // A shard builds some roots only: counts over the whole tree would keep
    // what the others use.
    let prepare = (flags.shard.is_none() && !flags.list).then(|| Prepare {
        cache: Arc::clone(&cache),
        options: options.clone(),
    });
    let roots = match choose_roots(
        tree,
        &flags.roots,
        options.limits.max_bytes,
        prepare.as_ref(),
    ) {
        Ok(roots) => shard_of(roots, flags.shard),
        Err(e) => return fail(&e),
    };
    if flags.list {
        let text: String = roots.iter().map(|r| format!("{}\n", r.rel)).collect();
        return print_stdout(&text);
    }
    let Some(out) = out else {
        return fail("--all writes one file per root: it needs -o OUTDIR");
    };
    if out.is_file() {
        return fail(&format!(
            "{}: --all needs a directory for -o, not a file",
            out.display()
        ));
    }
    // Each root is written to a temporary file, checked as it is written.
    let options = rustomize::BuildOptions {
        check_printable_on_write: true,
        ..options
    };
    let outcomes = run_all(
        &roots,
        &options,
        cache,
        flags.roots.threads,
        !flags.keep_going,
        |root, build| {
            let path = root.output(out);
            if let Some(parent) = path.parent().filter(|p| !p.is_dir()) {
                // A root kustomize cannot print fails with that, and no
                // directory is made for it (the check is otherwise made
                // while writing).
                build.check_printable().map_err(|e| e.to_string())?;
                fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            let warnings = build.warnings().to_vec();
            write_output_taking(build, &path)?;
            Ok(Outcome::Built(warnings, Vec::new()))
        },
    );
    let (mut built, mut failed, mut skipped) = (0, 0, 0);
    for (root, outcome) in roots.iter().zip(&outcomes) {
        match outcome {
            Some(Outcome::Built(warnings, _)) => {
                built += 1;
                for w in warnings {
                    to_stderr(&format!("{}: {w}", root.rel));
                }
            }
            Some(Outcome::Failed(cause)) => {
                failed += 1;
                report_failure(root, cause);
            }
            None => skipped += 1,
        }
    }
    let mut summary = format!(
        "built {built} of {} roots into {}",
        roots.len(),
        out.display()
    );
    if failed > 0 {
        summary.push_str(&format!(", {failed} failed"));
    }
    if skipped > 0 {
        summary.push_str(&format!(
            ", {skipped} not built (stopped at the first failure; --keep-going builds them)"
        ));
    }
    to_stderr(&summary);
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `rustomize affected FILE... --root DIR`.
pub(crate) fn affected(args: &AffectedArgs) -> ExitCode {
    let options = match args.load.options() {
        Ok(options) => options,
        Err(e) => return fail(&e),
    };
    let cache = Arc::new(rustomize::cache::RunCache::new());
    let prepare = Prepare {
        cache: Arc::clone(&cache),
        options: options.clone(),
    };
    let roots = match choose_roots(
        &args.root,
        &args.roots,
        options.limits.max_bytes,
        Some(&prepare),
    ) {
        Ok(roots) => roots,
        Err(e) => return fail(&e),
    };
    let changed: Vec<PathBuf> = args.files.iter().map(|f| absolute(f)).collect();
    let outcomes = run_all(
        &roots,
        &options,
        cache,
        args.roots.threads,
        false,
        |_, build| Ok(Outcome::Built(Vec::new(), build.files_read().to_vec())),
    );
    let mut text = String::new();
    for (root, outcome) in roots.iter().zip(&outcomes) {
        let hit = match outcome {
            Some(Outcome::Built(_, read)) => read
                .iter()
                .any(|r| changed.iter().any(|c| r.starts_with(c) || c.starts_with(r))),
            Some(Outcome::Failed(cause)) => {
                report_failure(root, cause);
                true
            }
            None => false,
        };
        if hit {
            text.push_str(&root.rel);
            text.push('\n');
        }
    }
    print_stdout(&text)
}

/// Writes `text` to stdout (a closed pipe ends the process as kustomize's would).
fn print_stdout(text: &str) -> ExitCode {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => super::die_of_broken_pipe(),
        Err(e) => fail(&format!("stdout: {e}")),
    }
}

/// The symlink-free absolute path of a changed file; for a file that no
/// longer exists, its directory's real path joined with its name.
fn absolute(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return path.to_path_buf();
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    match parent.canonicalize() {
        Ok(real) => real.join(name),
        Err(_) => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn roots(names: &[&str]) -> Vec<Root> {
        names
            .iter()
            .map(|n| Root {
                rel: (*n).to_owned(),
                dir: PathBuf::from(n),
                weight: 0,
                remotes: Vec::new(),
                edges: Arc::default(),
            })
            .collect()
    }

    #[test]
    fn shards_partition_the_roots() {
        let all = roots(&["a", "b", "c", "d", "e", "f", "g"]);
        for n in 1..=9 {
            let mut seen = Vec::new();
            for k in 1..=n {
                let part = shard_of(all.clone(), Some(Shard { k, n }));
                // Round-robin: sizes differ by at most one.
                assert!(part.len() <= all.len().div_ceil(n));
                seen.extend(part);
            }
            seen.sort();
            assert_eq!(seen, all, "n = {n}");
        }
    }

    #[test]
    fn shard_flag_is_checked() {
        assert_eq!(parse_shard("2/3"), Ok(Shard { k: 2, n: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn outputs_mirror_the_tree() {
        let r = roots(&[".", "apps/web/overlays/prod"]);
        let out = Path::new("/out");
        assert_eq!(r[0].output(out), Path::new("/out/__root__.yaml"));
        assert_eq!(
            r[1].output(out),
            Path::new("/out/apps/web/overlays/prod.yaml")
        );
    }
}
