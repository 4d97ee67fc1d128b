//! rustomize: a kustomize-compatible manifest renderer.
//!
//! [`build`] renders a kustomization directory into the resources `kustomize build`
//! prints, and [`Build::to_yaml`] gives the exact bytes. The pipeline, one module
//! per stage:
//!
//! 1. **load** ([`load`]): the file system behind a load restrictor, and the
//!    kustomization file parsed strictly;
//! 2. **accumulate** ([`accumulate`]): resources, nested kustomizations and
//!    components, recursively;
//! 3. **transform** ([`transform`]): namespace, prefixes/suffixes, labels,
//!    annotations — each one module, fields chosen by the tables in [`fieldspecs`];
//!    Optionally, images are relocated here ([`relocate`], [`inventory`]), where
//!    an overlay's `images:` would run;
//! 4. **resolve references** ([`nameref`]): objects renamed by transformers are
//!    followed by the fields that point at them;
//! 5. **sort** ([`sort`]): kustomize's legacy kind order or FIFO;
//!    then `buildMetadata`'s managed-by label and the removal of the origin and
//!    transformer annotations it does not ask for ([`buildmeta`]);
//! 6. **write**: `rustomize_yaml::write_documents`, byte-identical to kustomize.
//!
//! ```no_run
//! use std::path::Path;
//! let build = rustomize::build(Path::new("examples/hello"), &Default::default())?;
//! print!("{}", build.to_yaml());
//! # Ok::<(), rustomize::Error>(())
//! ```
//!
//! A build holds no global state, so any number may run at once in one process.
#![deny(missing_docs)]

pub mod accumulate;
pub mod buildmeta;
pub mod cache;
mod configurations;
mod crds;
mod error;
pub mod fieldspec;
pub mod fieldspecs;
#[doc(hidden)]
pub mod fuzzing;
pub mod generate;
pub mod goregex;
pub mod inventory;
pub mod kfdef;
mod kinds;
pub mod load;
pub mod nameref;
mod namerefs;
mod parallel;
pub mod relocate;
pub mod resmap;
pub mod resource;
pub mod schema;
mod schema_table;
pub mod selector;
pub mod sort;
pub mod transform;
mod varrefs;
pub mod vars;

use std::path::Path;

pub use buildmeta::DEFAULT_MANAGED_BY;
pub use error::{Error, FileCause};
pub use generate::helm::{HelmOptions, DEFAULT_HELM_TIMEOUT};
pub use resource::{Gvk, ResId, Resource};
pub use rustomize_yaml::stack::on_deep_stack;
pub use rustomize_yaml::{
    parse_documents, write_document, write_documents, Map, ParseLimits, Value,
};

use accumulate::BuildContext;
use load::kustomization::SortOrder;

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
    /// Threads to use (None: one per available core). The output never depends on it.
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
    /// Parses shared with the other builds of a run (`build --all`): each
    /// resource file is parsed once for all of them (see [`cache`]). None: the
    /// build parses everything itself.
    pub run_cache: Option<std::sync::Arc<cache::RunCache>>,
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
            run_cache: None,
        }
    }
}

/// The result of a build: resources in output order, and warnings for stderr.
#[derive(Clone, Debug, Default)]
pub struct Build {
    /// Resources in output order.
    pub resources: Vec<Value>,
    /// Warnings kustomize would print on stderr, one line each.
    pub warnings: Vec<String>,
    /// The `images` field-spec table in effect at the root (built-in rows plus
    /// those `configurations` added): what kustomize's images transformer reaches.
    pub image_fields: Vec<fieldspec::FieldSpec>,
    /// Canonical paths of every file the build read (kustomization files
    /// included) and of directories it handed to Helm, sorted: what
    /// `rustomize affected` matches changed files against.
    pub files_read: Vec<std::path::PathBuf>,
}

impl Drop for Build {
    /// Takes the resources apart without recursion: they may nest 10,000 levels
    /// deep, too deep for a recursive drop on a small stack.
    fn drop(&mut self) {
        for resource in self.resources.drain(..) {
            rustomize_yaml::stack::drop_deep(resource);
        }
    }
}

impl Build {
    /// The YAML that `kustomize build` prints.
    pub fn to_yaml(&self) -> String {
        rustomize_yaml::write_documents(&self.resources)
    }

    /// Every image reference in the output, in document order (see
    /// [`inventory`]); `deep` adds those inside ConfigMap data, env values and
    /// arguments.
    pub fn images(&self, deep: bool) -> Vec<inventory::ImageUse> {
        inventory::list(&self.resources, &self.image_fields, deep)
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
pub fn build(dir: &Path, options: &BuildOptions) -> Result<Build, Error> {
    rustomize_yaml::stack::on_deep_stack(|| build_here(dir, options))
}

fn build_here(dir: &Path, options: &BuildOptions) -> Result<Build, Error> {
    let mut loader = load::Loader::new(
        dir,
        options.load_restrictor,
        options.limits.max_bytes,
        options.max_read_bytes,
        options.max_kustomizations,
    )?;
    if let Some(cache) = &options.run_cache {
        loader = loader.with_run_cache(std::sync::Arc::clone(cache));
    }
    let mut cx = BuildContext {
        warnings: Vec::new(),
        limits: ParseLimits {
            reject_non_string_keys: true,
            annotation_text: true,
            ..options.limits.clone()
        },
        schema: accumulate::SchemaChoice::Builtin,
        schema_chosen: false,
        threads: std::sync::Arc::new(parallel::ThreadBudget::new(
            options
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        )),
        helm: generate::helm::HelmSession::new(options.helm.clone(), options.limits.max_bytes),
        origin: None,
    };
    let (k, acc) = accumulate::build_root(&loader, &mut cx)?;
    let mut resources = acc.resources.into_resources();
    if let Some((relocation, scope)) = &options.relocation {
        // Where the images transformer of an overlay on this root would run.
        inventory::relocate(&mut resources, &acc.tables.images, relocation, *scope);
    }
    generate::add_hash_suffixes(&mut resources)?;
    for r in &mut resources {
        normalize_annotations(r);
    }
    nameref::resolve(&mut resources, &acc.tables.name_references).map_err(|message| {
        Error::Transform {
            path: k.path.clone(),
            message,
        }
    })?;
    let var_warnings = vars::resolve(
        &mut resources,
        &acc.vars,
        &acc.tables,
        options.limits.max_document_bytes,
    )?;
    if !acc.vars.is_empty() {
        // A var may have turned an annotation into a number; kustomize's final
        // annotation cleanup (after vars) makes it text again.
        for r in &mut resources {
            normalize_annotations(r);
        }
    }
    cx.warnings.extend(var_warnings);
    resources.retain(|r| !is_local_config(r));
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
    sort::sort(&mut resources, &order);
    let managed_by = (options.managed_by_label
        || k.build_metadata
            .iter()
            .any(|o| o == buildmeta::OPTION_MANAGED_BY))
    .then_some(options.managed_by.as_str());
    buildmeta::finish(&mut resources, &k.build_metadata, managed_by).map_err(|message| {
        Error::Transform {
            path: k.path.clone(),
            message,
        }
    })?;
    for r in &resources {
        let found = r
            .object()
            .iter()
            .try_for_each(|(k, v)| check_printable(k, v));
        match found {
            Ok(()) => {}
            Err(Unprintable::Value(value)) => {
                return Err(Error::UnsupportedValue {
                    path: r.origin().to_path_buf(),
                    id: r.id().to_string(),
                    value,
                })
            }
            Err(Unprintable::NelKey(key)) => {
                return Err(Error::NelInKey {
                    path: r.origin().to_path_buf(),
                    id: r.id().to_string(),
                    key,
                })
            }
        }
    }
    let resources: Vec<Value> = resources.into_iter().map(Resource::into_value).collect();
    Ok(Build {
        resources,
        warnings: cx.warnings,
        image_fields: acc.tables.images,
        files_read: loader.files_read(),
    })
}

/// kustomize keeps internal bookkeeping in annotations and, when it strips it at
/// the end, rewrites every resource's annotations as a string map: an empty or
/// null `annotations` disappears, and scalar values become their text.
fn normalize_annotations(r: &mut Resource) {
    let Some(Value::Map(meta)) = r.object.get_mut("metadata") else {
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
                *v = Value::String(text);
            }
        }
        // Empty, null, and anything that is not a mapping (kustomize's cleanup
        // reads annotations as a string map and drops what is not one).
        _ => {
            meta.shift_remove("annotations");
        }
    }
}

fn is_local_config(r: &Resource) -> bool {
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

/// Checks `key: v` and everything under it for what kustomize cannot print.
fn check_printable(key: &str, v: &Value) -> Result<(), Unprintable> {
    if key.contains('\u{85}') {
        return Err(Unprintable::NelKey(key.to_owned()));
    }
    match v {
        Value::Float(f) if f.is_nan() => Err(Unprintable::Value("NaN".to_owned())),
        Value::Float(f) if f.is_infinite() => Err(Unprintable::Value(
            if *f > 0.0 { "+Inf" } else { "-Inf" }.to_owned(),
        )),
        Value::Seq(items) => items.iter().try_for_each(|item| check_printable("", item)),
        Value::Map(m) => m.iter().try_for_each(|(k, v)| check_printable(k, v)),
        _ => Ok(()),
    }
}
