//! rustomize: a kustomize-compatible manifest renderer.
//!
//! [`build`] (or a [`Kustomizer`]) renders a kustomization directory into the
//! resources `kustomize build` prints: [`Build::to_yaml`] and
//! [`Build::write_to`] give the exact bytes, [`Build::resources`] the typed
//! [`Resource`]s (id, kind, origin, object).
//!
//! The pipeline, one module per stage:
//!
//! 1. **load** ([`load`]): the file system behind a load restrictor, and the
//!    kustomization file parsed strictly;
//! 2. **accumulate** (`accumulate`): resources, nested kustomizations and
//!    components, recursively; each kustomization's fields become an ordered
//!    list of builtin plugin configs (kustomize's design), followed by its
//!    `generators:` / `transformers:` / `validators:` entries;
//! 3. **generate** (`generate`): ConfigMaps, Secrets, Helm charts, IAM
//!    policies and exec plugins, absorbed into the accumulation;
//! 4. **transform** ([`transform`]): run the list — patches, namespace,
//!    prefixes/suffixes, labels, annotations, replicas, images, replacements,
//!    exec plugins ([`exec`]) — each builtin one module, fields chosen by its
//!    config, by default the tables in `tables`. Optionally, images are
//!    relocated here ([`relocate`], [`inventory`]), where an overlay's
//!    `images:` would run;
//! 5. **resolve references** (`nameref`): objects renamed by transformers are
//!    followed by the fields that point at them;
//! 6. **sort** (`sort`): kustomize's legacy kind order or FIFO;
//!    then `buildMetadata`'s managed-by label and the removal of the origin and
//!    transformer annotations it does not ask for (`buildmeta`);
//! 7. **write**: `rustomize_yaml::write_documents`, byte-identical to kustomize.
//!
//! ```no_run
//! use std::path::Path;
//! let build = rustomize::build(Path::new("examples/hello"), &Default::default())?;
//! print!("{}", build.to_yaml());
//! # Ok::<(), rustomize::Error>(())
//! ```
//!
//! The files may come from the disk ([`DiskFs`], the default) or from memory
//! ([`MemoryFs`], or any [`FileSystem`]), under the same load restrictor and
//! limits:
//!
//! ```
//! use rustomize::{Kustomizer, MemoryFs};
//!
//! let fs = MemoryFs::new();
//! fs.add_file("/app/kustomization.yaml", "namespace: prod\nresources:\n- deploy.yaml\n");
//! fs.add_file(
//!     "/app/deploy.yaml",
//!     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
//! );
//! let build = Kustomizer::new().file_system(fs).build("/app")?;
//! let web = &build.resources()[0];
//! assert_eq!((web.kind(), web.name(), web.namespace()), ("Deployment", "web", "prod"));
//! assert_eq!(
//!     build.to_yaml(),
//!     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\n",
//! );
//! # Ok::<(), rustomize::Error>(())
//! ```
//!
//! A build holds no global state, so any number may run at once in one
//! process, on one [`Kustomizer`] or several.
//!
//! # Cargo features
//!
//! - `serde`: `Serialize`/`Deserialize` for [`Value`] and `From` conversions
//!   to and from `serde_json::Value`, to hand resources to `kube` or
//!   `k8s-openapi` types (how numbers, nulls and keys map: [`rustomize_yaml`]'s
//!   crate docs). For example, `serde_json::Value::from(resource.value())`.
//!
//! # The pipeline
//!
//! One private module per stage: **load** (the file system behind a load
//! restrictor, and the kustomization file parsed strictly), **accumulate**
//! (resources, nested kustomizations and components, recursively),
//! **transform** (namespace, prefixes/suffixes, labels, annotations, patches,
//! replacements, images — optionally relocated by [`relocate`] and
//! [`inventory`]), **resolve references** (objects renamed by transformers are
//! followed by the fields that point at them), **sort** (kustomize's legacy
//! kind order or FIFO), `buildMetadata`, and **write**
//! ([`rustomize_yaml::write_documents`], byte-identical to kustomize).
#![deny(missing_docs)]

mod accumulate;
mod buildmeta;
pub mod cache;
mod configurations;
mod crds;
mod error;
pub mod exec;
#[doc(hidden)]
pub mod fieldspec;
pub mod fs;
#[doc(hidden)]
pub mod fuzzing;
mod generate;
mod goregex;
pub mod inventory;
pub mod kfdef;
#[doc(hidden)]
pub mod load;
mod nameref;
mod output;
mod parallel;
pub(crate) mod plugins;
mod process;
pub mod relocate;
pub mod remote;
mod resmap;
mod resource;
#[doc(hidden)]
pub mod schema;
mod selector;
mod sort;
mod tables;
#[doc(hidden)]
pub mod transform;
mod vars;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub use buildmeta::DEFAULT_MANAGED_BY;
pub use error::{Error, FileCause, RemoteCause};
pub use fs::{DiskFs, FileSystem, MemoryFs};
pub use generate::helm::{HelmOptions, DEFAULT_HELM_TIMEOUT};
pub use load::kustomization::SortOrder;
pub use load::read_regular_file;
pub use output::{Build, Resource};
pub use remote::RemoteOptions;
pub use resource::{Gvk, ResId};
#[doc(hidden)]
pub use rustomize_yaml::stack::on_deep_stack;
pub use rustomize_yaml::{
    parse_documents, write_document, write_documents, Map, ParseLimits, Str, Value,
};

use accumulate::BuildContext;

/// The README's examples, compiled as doctests so they never go stale.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// Whether files may be loaded from outside a kustomization's root.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoadRestrictor {
    /// Only files under the kustomization root (kustomize's default).
    #[default]
    RootOnly,
    /// Any file.
    None,
}

/// Options of one build.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The load restrictor.
    pub load_restrictor: LoadRestrictor,
    /// Limits on YAML input (size, nesting, alias expansion).
    pub limits: ParseLimits,
    /// Threads to use (None: one per available core, at most 8): the size of the
    /// build's own thread pool, started and joined by each build (1: no pool,
    /// the build runs in sequence). The output never depends on it.
    pub threads: Option<usize>,
    /// Most bytes the build may read from files in all, counting a file again
    /// each time a kustomization includes it (default [`DEFAULT_MAX_READ_BYTES`]).
    /// Bounds the expansion of trees that include the same bases through many
    /// overlays; exceeding it fails the build with [`Error::File`].
    pub max_read_bytes: usize,
    /// Most kustomization files the build may read in all, counting a
    /// directory again each time a kustomization includes it (default
    /// [`DEFAULT_MAX_KUSTOMIZATIONS`]). Each costs a build of its own whatever
    /// its size, so this bounds the time of trees that include the same small
    /// bases through many overlays; exceeding it fails with [`Error::File`].
    pub max_kustomizations: usize,
    /// Image relocation applied to the build, where an overlay's `images:` would
    /// apply (before content hashes, name references and vars), and which
    /// references it rewrites.
    pub relocation: Option<(relocate::Relocation, inventory::Scope)>,
    /// Helm, for `helmCharts` (off unless enabled, as in kustomize).
    pub helm: HelmOptions,
    /// Add the `app.kubernetes.io/managed-by` label to every resource even
    /// when the kustomization's `buildMetadata` does not list `managedByLabel`
    /// (kubectl's deprecated `--enable-managedby-label`).
    pub managed_by_label: bool,
    /// The value of that label (default [`DEFAULT_MANAGED_BY`], what
    /// `kubectl kustomize` prints: `kustomize-` and its version).
    pub managed_by: String,
    /// Output order asked for outside the kustomization (kustomize's deprecated
    /// `--reorder` flag: `legacy` or `none`, FIFO). The top kustomization's
    /// `sortOptions` wins over it, with a warning, as in kustomize.
    pub reorder: Option<SortOrder>,
    /// Exec plugins and KRM functions for `generators:`, `transformers:` and
    /// `validators:` (off unless enabled, as in kustomize; see [`exec`]).
    pub exec: exec::ExecOptions,
    /// Remote resources: git repositories and HTTP(S) files (off by default;
    /// see [`remote`]).
    pub remote: RemoteOptions,
    /// Parses shared with the other builds of a run (`build --all`): each
    /// resource file is parsed once for all of them (see [`cache`]). None: the
    /// build parses everything itself.
    pub run_cache: Option<std::sync::Arc<cache::RunCache>>,
    /// Leaves the check that kustomize can print every value (no NaN or
    /// infinity, no NEL in a key) to [`Build::write_into`], which makes it on
    /// each resource just before writing it, while the resource is in the
    /// processor's caches for the writer, and fails with the error the build
    /// would have failed with, before anything of that resource is written.
    /// Other readers of such a build call [`Build::check_printable`] first.
    /// Single-threaded builds only (a build on several threads makes the
    /// check anyway: the walk also shares the writing out between them).
    /// For `rustomize build --all`, which writes each root to a temporary
    /// file with [`Build::write_into`]. Default false.
    #[doc(hidden)]
    pub check_printable_on_write: bool,
}

/// What kustomize logs when both `sortOptions` and `--reorder` set the order.
const REORDER_IGNORED: &str = "Warning: Sorting order is set both in 'kustomization.yaml' \
    ('sortOptions') and in a CLI flag ('--reorder'). Using the kustomization file over the CLI flag.";

/// Default of [`BuildOptions::max_kustomizations`]: 20,000, about 180 times
/// the kustomizations the largest Kubeflow example reads (111 for
/// kubeflow-v1.10.2 `example`), and a few seconds of work.
pub const DEFAULT_MAX_KUSTOMIZATIONS: usize = 20_000;

/// Default of [`BuildOptions::max_read_bytes`]: 256 MiB, about 25 times what
/// the largest Kubeflow example reads (10.4 MB for kubeflow-v1.10.2 `example`).
pub const DEFAULT_MAX_READ_BYTES: usize = 256 << 20;

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            load_restrictor: LoadRestrictor::default(),
            limits: ParseLimits::default(),
            threads: None,
            max_read_bytes: DEFAULT_MAX_READ_BYTES,
            max_kustomizations: DEFAULT_MAX_KUSTOMIZATIONS,
            relocation: None,
            helm: HelmOptions::default(),
            managed_by_label: false,
            managed_by: DEFAULT_MANAGED_BY.to_owned(),
            reorder: None,
            exec: exec::ExecOptions::default(),
            remote: RemoteOptions::default(),
            run_cache: None,
            check_printable_on_write: false,
        }
    }
}

/// The annotation that keeps a resource out of the output.
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";

/// Builds the kustomization in `dir`.
///
/// The build runs on a thread of its own with a deep stack
/// ([`rustomize_yaml::stack`]): documents may nest as deep as kustomize allows
/// (10,000 levels), and the reader, the merges, the transformers and the writer
/// walk them recursively. Dropping the [`Build`] does not recurse.
///
/// The files are read from the disk ([`DiskFs`]); [`Kustomizer`] builds over
/// any [`FileSystem`].
pub fn build(dir: &Path, options: &BuildOptions) -> Result<Build, Error> {
    build_then(dir, options, |built| built)
}

/// Builds the kustomization in `dir` as [`build`] does and hands the outcome
/// to `then` on a deep-stack thread (see [`rustomize_yaml::stack`]) while the
/// build's threads are still up, returning what `then` returns.
///
/// For a caller that writes the output at once: [`Build::write_to`] called
/// in `then` renders on the build's threads (whose allocators hold the
/// memory the build freed) instead of starting threads of its own, and the
/// build's are joined only after `then`. `then` runs on the calling thread
/// when that is a deep-stack one, else on one started for it, so it may walk
/// documents nested 10,000 levels recursively (clone or compare them).
pub fn build_then<R, F>(dir: &Path, options: &BuildOptions, then: F) -> R
where
    R: Send,
    F: FnOnce(Result<Build, Error>) -> R + Send,
{
    run_build_then(Arc::new(DiskFs), dir, options, true, then)
}

/// [`build_then`] with `then` on the calling thread, whatever its stack: no
/// thread is started for it. For a `then` that only writes the build
/// ([`Build::write_to`], [`Build::to_yaml`], [`write_document`]) and drops it,
/// which is safe on any stack however deep the documents nest; walking a
/// document recursively there (`Clone`, `PartialEq` or `Debug` of a
/// [`Value`]) may overflow a small stack. The CLI writes through this.
pub fn build_then_here<R, F>(dir: &Path, options: &BuildOptions, then: F) -> R
where
    R: Send,
    F: FnOnce(Result<Build, Error>) -> R + Send,
{
    run_build_then(Arc::new(DiskFs), dir, options, false, then)
}

/// Runs one build on a pool of its own ([`build_threads`] threads).
fn run_build(fs: Arc<dyn FileSystem>, dir: &Path, options: &BuildOptions) -> Result<Build, Error> {
    run_build_then(fs, dir, options, false, |built| built)
}

/// Runs one build on a pool of its own ([`build_threads`] threads), then
/// `then` with it while the pool is up, on a deep stack with `deep_then`
/// (see [`parallel::Pool::run_then`]).
///
/// A few limits are spent by parts of the build that run at the same time,
/// so on several threads a failure may not be the one the entry order
/// gives: the read budgets (`max_read_bytes`, `max_kustomizations`), spent
/// by whichever thread reads first, and the vars' growth budget
/// (`max_document_bytes`), given whole to each chunk of resources (see
/// [`vars::resolve`]). A build that fails so (`in_sequence` set, or an error
/// that names a read budget) runs again in sequence, where the error is the
/// one the entry order gives, as for any other error.
fn run_build_then<R, F>(
    fs: Arc<dyn FileSystem>,
    dir: &Path,
    options: &BuildOptions,
    deep_then: bool,
    then: F,
) -> R
where
    R: Send,
    F: FnOnce(Result<Build, Error>) -> R + Send,
{
    let threads = build_threads(options);
    let in_sequence = AtomicBool::new(false);
    let again = Arc::clone(&fs);
    parallel::Pool::run_then(
        threads,
        deep_then,
        |pool| build_here(fs, dir, options, threads, pool, &in_sequence),
        |built| match built {
            Err(e)
                if threads > 1
                    && (e.spent_a_read_budget() || in_sequence.load(Ordering::Relaxed)) =>
            {
                let in_sequence = AtomicBool::new(false);
                then(parallel::Pool::run(1, |pool| {
                    build_here(again, dir, options, threads, pool, &in_sequence)
                }))
            }
            built => then(built),
        },
    )
}

/// Sets `in_sequence` when dropped if the build's reads went past a budget:
/// an error that carries the loader's cause only as text (a plugin's, a
/// patch file's) still tells [`run_build`] so.
struct BudgetWatch<'a> {
    loader: &'a load::Loader,
    in_sequence: &'a AtomicBool,
}

impl Drop for BudgetWatch<'_> {
    fn drop(&mut self) {
        if self.loader.budget_spent() {
            self.in_sequence.store(true, Ordering::Relaxed);
        }
    }
}

/// Builds kustomizations with one set of [`BuildOptions`] over one
/// [`FileSystem`] (the disk unless [`Kustomizer::file_system`] says otherwise).
///
/// A `Kustomizer` is cheap to clone and may be shared between threads: each
/// [`Kustomizer::build`] is independent (its own read budgets, warnings and
/// output), and the output never depends on how many run at once.
///
/// ```no_run
/// use rustomize::{Kustomizer, LoadRestrictor};
///
/// let kustomizer = Kustomizer::new()
///     .load_restrictor(LoadRestrictor::None)
///     .threads(1);
/// let build = kustomizer.build("examples/hello")?;
/// for resource in build.resources() {
///     println!("{} from {}", resource.id(), resource.origin().display());
/// }
/// build.write_to(std::io::stdout().lock())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Helm charts (`helmCharts`) and exec plugins run other programs on
/// directories, and so need the disk: over another file system they fail with
/// an error saying so.
#[derive(Clone, Debug)]
pub struct Kustomizer {
    options: BuildOptions,
    fs: Arc<dyn FileSystem>,
}

impl Default for Kustomizer {
    fn default() -> Self {
        Kustomizer::new()
    }
}

impl Kustomizer {
    /// Builds from the disk with default options (kustomize's defaults:
    /// root-only load restrictor, no Helm, no plugins).
    pub fn new() -> Kustomizer {
        Kustomizer::with_options(BuildOptions::default())
    }

    /// Builds from the disk with `options`.
    pub fn with_options(options: BuildOptions) -> Kustomizer {
        Kustomizer {
            options,
            fs: Arc::new(DiskFs),
        }
    }

    /// Reads kustomizations from `fs` instead of the disk.
    pub fn file_system(self, fs: impl FileSystem + 'static) -> Kustomizer {
        self.shared_file_system(Arc::new(fs))
    }

    /// Reads kustomizations from a file system shared with other owners.
    pub fn shared_file_system(mut self, fs: Arc<dyn FileSystem>) -> Kustomizer {
        self.fs = fs;
        self
    }

    /// Sets the load restrictor ([`BuildOptions::load_restrictor`]).
    pub fn load_restrictor(mut self, restrictor: LoadRestrictor) -> Kustomizer {
        self.options.load_restrictor = restrictor;
        self
    }

    /// Sets the limits on YAML input ([`BuildOptions::limits`]).
    pub fn limits(mut self, limits: ParseLimits) -> Kustomizer {
        self.options.limits = limits;
        self
    }

    /// Sets the threads one build may use ([`BuildOptions::threads`]).
    pub fn threads(mut self, threads: usize) -> Kustomizer {
        self.options.threads = Some(threads);
        self
    }

    /// The options builds use.
    pub fn options(&self) -> &BuildOptions {
        &self.options
    }

    /// The options, to change any of them.
    pub fn options_mut(&mut self) -> &mut BuildOptions {
        &mut self.options
    }

    /// The file system builds read.
    pub fn fs(&self) -> &Arc<dyn FileSystem> {
        &self.fs
    }

    /// Builds the kustomization in `dir` (a path of the file system; on a
    /// [`MemoryFs`], a relative path starts at `/`). See [`build`].
    pub fn build(&self, dir: impl AsRef<Path>) -> Result<Build, Error> {
        run_build(Arc::clone(&self.fs), dir.as_ref(), &self.options)
    }
}

/// The threads one build runs on by default at most: each build starts and
/// joins its own pool, and on a many-core host a pool of one thread per core
/// would cost a small build more to start than it saves (every thread also
/// reserves a deep stack of address space).
const DEFAULT_MAX_THREADS: usize = 8;

/// The threads one build runs on: [`BuildOptions::threads`], by default one
/// per core up to [`DEFAULT_MAX_THREADS`].
fn build_threads(options: &BuildOptions) -> usize {
    options
        .threads
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(DEFAULT_MAX_THREADS)
        })
        .max(1)
}

/// Builds `dir` on the current thread (a deep-stack one: a thread of `pool`,
/// or the one [`parallel::Pool::run`] moved a sequential build to);
/// `threads` is what [`build_threads`] gave for `options`; `in_sequence` is
/// set when a failure on several threads may not be the sequential one
/// (see [`run_build_then`]).
fn build_here(
    fs: Arc<dyn FileSystem>,
    dir: &Path,
    options: &BuildOptions,
    threads: usize,
    pool: &Arc<parallel::Pool>,
    in_sequence: &AtomicBool,
) -> Result<Build, Error> {
    let session = remote::Session::new(options.remote.clone());
    let session = std::sync::Arc::new(match &options.run_cache {
        Some(cache) => session.sharing(cache.fetches()),
        None => session,
    });
    // kustomize takes a directory argument that parses as a git reference for
    // that reference (an existing directory of that name stays local while
    // remote resources are disabled).
    let remote_root = dir
        .to_str()
        .filter(|s| remote::url::parse_repo_spec(s).is_ok())
        .filter(|_| options.remote.enabled || fs.metadata(dir).is_err());
    let loader = match remote_root {
        Some(raw) => load::Loader::remote_root(
            raw,
            options.limits.max_bytes,
            options.max_read_bytes,
            options.max_kustomizations,
            session.clone(),
        )?,
        None => load::Loader::new(
            fs,
            dir,
            options.load_restrictor,
            options.limits.max_bytes,
            options.max_read_bytes,
            options.max_kustomizations,
        )?
        .with_remote(session.clone()),
    };
    let loader = match &options.run_cache {
        Some(cache) => loader.with_run_cache(Arc::clone(cache)),
        None => loader,
    };
    let _watch = BudgetWatch {
        loader: &loader,
        in_sequence,
    };
    let mut cx = BuildContext {
        warnings: Vec::new(),
        limits: file_parse_limits(options),
        schema: accumulate::SchemaChoice::Builtin,
        schema_chosen: false,
        exec: std::sync::Arc::new(options.exec.clone()),
        threads: Arc::clone(pool),
        helm: generate::helm::HelmSession::new(options.helm.clone(), options.limits.max_bytes),
        origin: None,
    };
    let built = accumulate::build_root(&loader, &mut cx);
    // What fetching logged comes first, as kustomize logs it while loading.
    let mut fetch_warnings = session.take_warnings();
    fetch_warnings.dedup();
    if !fetch_warnings.is_empty() {
        fetch_warnings.append(&mut cx.warnings);
        cx.warnings = fetch_warnings;
    }
    let (k, acc) = built?;
    let mut resources = acc.resources.into_resources();
    if let Some((relocation, scope)) = &options.relocation {
        // Where the images transformer of an overlay on this root would run.
        inventory::relocate(&mut resources, &acc.tables.images, relocation, *scope);
    }
    generate::add_hash_suffixes(&mut resources, &cx.threads)?;
    // kustomize's annotation cleanup comes first, made on each object as the
    // reference pass visits it.
    nameref::resolve(
        &mut resources,
        &acc.tables.name_references,
        &cx.threads,
        normalize_annotations_in,
    )
    .map_err(|message| Error::Transform {
        path: k.path.clone(),
        message,
    })?;
    let var_warnings = match vars::resolve(
        &mut resources,
        &acc.vars,
        &acc.tables,
        options.limits.max_document_bytes,
        &cx.threads,
    ) {
        Ok(warnings) => warnings,
        Err(vars::Failure::Error(e)) => return Err(e),
        Err(vars::Failure::InSequence) => {
            in_sequence.store(true, Ordering::Relaxed);
            return Err(vars::budget_error(&k.path));
        }
    };
    cx.warnings.extend(var_warnings);
    let managed_by = (options.managed_by_label
        || k.build_metadata
            .iter()
            .any(|o| o == buildmeta::OPTION_MANAGED_BY))
    .then_some(options.managed_by.as_str());
    // A build on one thread shares no writing out, so the walk is needed for
    // the check alone, which the caller may leave to the writer.
    let check_on_write = options.check_printable_on_write && !cx.threads.is_parallel();
    let unprintable = finish_each(
        &mut resources,
        !acc.vars.is_empty(),
        &buildmeta::annotations_to_strip(&k.build_metadata),
        !check_on_write,
        &cx.threads,
    )?;
    let order = match (&k.sort_order, &options.reorder) {
        (Some(order), reorder) => {
            if reorder.is_some() {
                cx.warnings.push(REORDER_IGNORED.to_owned());
            }
            order.clone()
        }
        (None, Some(reorder)) => reorder.clone(),
        (None, None) => SortOrder::default_legacy(),
    };
    let before = sort::sort(&mut resources, &order, &cx.threads);
    buildmeta::label(&mut resources, managed_by).map_err(|message| Error::Transform {
        path: k.path.clone(),
        message,
    })?;
    let unprintable = match managed_by {
        Some(_) if !unprintable.is_empty() => recheck_unprintable(&resources, &before, unprintable),
        _ => unprintable,
    };
    first_unprintable(&resources, &before, unprintable)?;
    // The output takes each resource's id and object; the rest of the build's
    // resources goes along unfreed (see `output::Leftovers`). On the build's
    // threads for large builds: the new list's pages (17 MiB at 100k
    // resources) fault in on all of them.
    let output = cx.threads.map_vec(&mut resources, 4096, Resource::take);
    Ok(Build {
        resources: output,
        warnings: cx.warnings,
        image_fields: acc.tables.images.clone(),
        files_read: loader.files_read_unsorted(),
        files_sorted: std::sync::OnceLock::new(),
        leftovers: output::Leftovers(resources),
        threads,
        pool: Arc::downgrade(pool),
        check_printable_on_write: check_on_write,
    })
}

/// kustomize keeps internal bookkeeping in annotations and, when it strips it at
/// the end, rewrites every resource's annotations as a string map: an empty or
/// null `annotations` disappears, and scalar values become their text.
fn normalize_annotations(r: &mut resource::Resource) {
    // Read first: most resources need no change, and editing would make the
    // id be checked again.
    let needed = match r.object().get("metadata") {
        Some(Value::Map(meta)) => match meta.get("annotations") {
            None => false,
            Some(Value::Map(m)) if !m.is_empty() => {
                m.values().any(|v| !matches!(v, Value::String(_)))
            }
            Some(_) => true,
        },
        _ => false,
    };
    if needed {
        r.edit(normalize_annotations_in);
    }
}

fn normalize_annotations_in(object: &mut rustomize_yaml::Map) {
    let Some(Value::Map(meta)) = object.get_mut("metadata") else {
        return;
    };
    let Some(annotations) = meta.get_mut("annotations") else {
        return;
    };
    match annotations {
        Value::Map(m) if !m.is_empty() => {
            for v in m.values_mut() {
                let text = match v {
                    Value::String(_) => continue,
                    // kyaml's string map holds no collections: they read as "".
                    Value::Seq(_) | Value::Map(_) => String::new(),
                    Value::Empty => String::new(),
                    Value::Null => "null".to_owned(),
                    Value::Bool(b) => b.to_string(),
                    Value::Int(i) => i.to_string(),
                    Value::Uint(u) => u.to_string(),
                    Value::Float(f) => rustomize_yaml::format_go_float(*f),
                };
                *v = Value::string(text);
            }
        }
        // Empty, null, and anything that is not a mapping (kustomize's cleanup
        // reads annotations as a string map and drops what is not one).
        _ => {
            meta.shift_remove("annotations");
        }
    }
}

fn is_local_config(r: &resource::Resource) -> bool {
    r.object()
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(LOCAL_CONFIG))
        .is_some_and(|v| v.as_str() != Some("false"))
}

/// What kustomize cannot print, found in one walk over a resource.
enum Unprintable {
    /// NaN or an infinity (`+Inf`, `-Inf`, `NaN`): kustomize converts every
    /// resource to JSON, which cannot hold them.
    Value(String),
    /// A mapping key holding a NEL. kustomize prints a resource by
    /// `json.Marshal`ing it and reading the JSON back as YAML; JSON leaves
    /// U+0085 raw, YAML reads it as a line break, and a key cannot span lines
    /// in the flow mapping JSON is, so kustomize fails. (In values the break
    /// only folds.)
    NelKey(String),
}

/// What one job of [`finish_each`] found: the positions (in the whole list)
/// of the local-config resources to drop, and of the resources kustomize
/// cannot print, with the cause.
type Finished = (Vec<usize>, Vec<(usize, Unprintable)>);

/// The build's last pass over every resource before sorting, in chunks on
/// the build's threads: each resource is visited once for what kustomize
/// does in several whole-list steps after vars (a 100k-resource tree is far
/// larger than the caches, and each step read every resource's metadata from
/// memory again). In kustomize's order, per resource:
/// - with vars, the check that no name was emptied ([`vars::check_name`];
///   the first failure in resource order is the error) and the annotation
///   cleanup again (a var may have turned an annotation into a number),
/// - dropping local-config resources,
/// - removing the bookkeeping annotations `strip`
///   ([`buildmeta::strip_annotations`]; kustomize does it after sorting and
///   labelling, which touch neither these annotations nor the id),
/// - with `walk`, the walk over every node for what kustomize cannot print
///   (the error is reported by [`first_unprintable`] after sorting, in
///   output order; without it [`output::Build::write_into`] checks each
///   resource as it writes it).
///
/// Returns the unprintable resources by their position after the drop.
fn finish_each(
    resources: &mut Vec<resource::Resource>,
    vars: bool,
    strip: &[&str],
    walk: bool,
    threads: &parallel::Pool,
) -> Result<Vec<(usize, Unprintable)>, Error> {
    // Small jobs for small builds: resources come in input order, and a
    // Kubeflow build's dozen CRDs of 0.5-1 MB (two thirds of its nodes) may
    // sit side by side; a job costs an atomic increment and a lock.
    let chunk = (resources.len() / 256).clamp(2, 256);
    let chunks: Vec<std::sync::Mutex<&mut [resource::Resource]>> = resources
        .chunks_mut(chunk)
        .map(std::sync::Mutex::new)
        .collect();
    let found = threads.run_jobs(chunks.len(), |c| -> Result<Finished, Error> {
        let mut drop = Vec::new();
        let mut unprintable = Vec::new();
        let Some(Ok(mut slice)) = chunks.get(c).map(std::sync::Mutex::lock) else {
            return Ok((drop, unprintable));
        };
        for (k, r) in slice.iter_mut().enumerate() {
            let at = c * chunk + k;
            if vars {
                vars::check_name(r)?;
                normalize_annotations(r);
            }
            if is_local_config(r) {
                drop.push(at);
                continue;
            }
            buildmeta::strip_annotations(r, strip);
            if !walk {
                continue;
            }
            let mut guess = 0;
            let cause = r
                .object()
                .iter()
                .try_for_each(|(k, v)| check_printable(k, v, 0, &mut guess))
                .err();
            r.text_guess = u32::try_from(guess).unwrap_or(u32::MAX);
            if let Some(cause) = cause {
                unprintable.push((at, cause));
            }
        }
        Ok((drop, unprintable))
    });
    drop(chunks);
    let mut drops = Vec::new();
    let mut unprintable = Vec::new();
    for job in found {
        let (d, u) = job?;
        drops.extend(d);
        unprintable.extend(u);
    }
    // Positions after the drops before them (`drops` is in order).
    for (at, _) in &mut unprintable {
        *at -= drops.partition_point(|d| d < at);
    }
    if !drops.is_empty() {
        let mut at = 0;
        let mut next = drops.iter().peekable();
        resources.retain(|_| {
            let keep = next.peek() != Some(&&at);
            if !keep {
                next.next();
            }
            at += 1;
            keep
        });
    }
    Ok(unprintable)
}

/// The parse limits of a build's resource files under `options`: the
/// caller's, with mapping keys that are not strings refused and annotation
/// values kept as written.
pub(crate) fn file_parse_limits(options: &BuildOptions) -> ParseLimits {
    ParseLimits {
        reject_non_string_keys: true,
        annotation_text: true,
        ..options.limits.clone()
    }
}

/// Fails on the first resource, in output order, that kustomize cannot print
/// (`unprintable` from [`finish_each`], by position before sorting; `before`
/// from [`sort::sort`]), before anything is written.
fn first_unprintable(
    resources: &[resource::Resource],
    before: &[usize],
    unprintable: Vec<(usize, Unprintable)>,
) -> Result<(), Error> {
    if unprintable.is_empty() {
        return Ok(());
    }
    let mut causes: std::collections::HashMap<usize, Unprintable> =
        unprintable.into_iter().collect();
    let found = resources
        .iter()
        .zip(before)
        .find_map(|(r, at)| causes.remove(at).map(|cause| (r, cause)));
    match found {
        None => Ok(()),
        Some((r, cause)) => Err(cause.error(r.origin(), &r.id().to_string())),
    }
}

/// The resources [`finish_each`] found unprintable, by their position
/// before sorting (`before` from [`sort::sort`]; `resources` sorted),
/// checked again after the managed-by label: kustomize checks each object
/// as it prints it, and the label replaces a value (`.nan`, say) the walk
/// found there. Those the label made printable are left out.
fn recheck_unprintable(
    resources: &[resource::Resource],
    before: &[usize],
    unprintable: Vec<(usize, Unprintable)>,
) -> Vec<(usize, Unprintable)> {
    let mut now = vec![usize::MAX; before.len()];
    for (k, &at) in before.iter().enumerate() {
        if let Some(n) = now.get_mut(at) {
            *n = k;
        }
    }
    unprintable
        .into_iter()
        .filter_map(|(at, _)| {
            let r = resources.get(*now.get(at)?)?;
            Some((at, unprintable_cause(r.object())?))
        })
        .collect()
}

/// What kustomize cannot print in `object`: the first cause in the order
/// [`finish_each`]'s walk finds it.
fn unprintable_cause(object: &rustomize_yaml::Map) -> Option<Unprintable> {
    let mut guess = 0;
    object
        .iter()
        .try_for_each(|(k, v)| check_printable(k, v, 0, &mut guess))
        .err()
}

/// Whether kustomize can print `object`, the resource `id` read from
/// `path`: the error it fails with if not (the first cause in the order
/// [`finish_each`]'s walk finds it).
pub(crate) fn check_printable_object(
    object: &rustomize_yaml::Map,
    path: &std::path::Path,
    id: &dyn std::fmt::Display,
) -> Result<(), Error> {
    match unprintable_cause(object) {
        None => Ok(()),
        Some(cause) => Err(cause.error(path, &id.to_string())),
    }
}

impl Unprintable {
    /// The build's error for this cause in the resource `id` read from `path`.
    fn error(self, path: &std::path::Path, id: &str) -> Error {
        match self {
            Unprintable::Value(value) => Error::UnsupportedValue {
                path: path.to_path_buf(),
                id: id.to_owned(),
                value,
            },
            Unprintable::NelKey(key) => Error::NelInKey {
                path: path.to_path_buf(),
                id: id.to_owned(),
                key,
            },
        }
    }
}

/// Checks `key: v` (at nesting `depth`) and everything under it for what
/// kustomize cannot print, and adds to `guess` roughly the bytes they will
/// take in block style: a line per node, indented two spaces a level, with
/// its key and scalar. The guess only shares the writing out between threads
/// (a walk of its own would read every node from memory once more).
fn check_printable(
    key: &str,
    v: &Value,
    depth: usize,
    guess: &mut usize,
) -> Result<(), Unprintable> {
    if !key.is_ascii() && key.contains('\u{85}') {
        return Err(Unprintable::NelKey(key.to_owned()));
    }
    *guess += 2 * depth + key.len() + 3;
    match v {
        Value::Float(f) if f.is_nan() => Err(Unprintable::Value("NaN".to_owned())),
        Value::Float(f) if f.is_infinite() => Err(Unprintable::Value(
            if *f > 0.0 { "+Inf" } else { "-Inf" }.to_owned(),
        )),
        Value::String(s) => {
            *guess += s.len();
            Ok(())
        }
        Value::Seq(items) => items
            .iter()
            .try_for_each(|item| check_printable("", item, depth + 1, guess)),
        Value::Map(m) => m
            .iter()
            .try_for_each(|(k, v)| check_printable(k, v, depth + 1, guess)),
        _ => {
            *guess += 4;
            Ok(())
        }
    }
}
