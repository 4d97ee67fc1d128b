//! What a build gives back: [`Build`], its [`Resource`]s in output order and
//! the warnings kustomize would print, and the writers of the exact bytes
//! `kustomize build` prints.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustomize_yaml::{Map, Value};

use crate::fieldspec::FieldSpec;
use crate::resource::{Gvk, ResId};

/// One rendered Kubernetes object: its id, the file it came from, and the
/// object itself as a YAML [`Value`] (always a mapping).
///
/// Dropping a resource does not recurse, however deep its object nests.
#[derive(Clone, Debug)]
pub struct Resource {
    id: ResId,
    origin: Arc<Path>,
    value: Value,
    /// The build's guess of the object's text in bytes (0: none).
    text_guess: usize,
}

impl Resource {
    /// Moves the id and object out of one of the build's resources.
    pub(crate) fn take(resource: &mut crate::resource::Resource) -> Resource {
        let origin = Arc::clone(&resource.origin);
        let (id, object) = resource.take_id_and_object();
        Resource {
            id,
            origin,
            value: rustomize_yaml::Value::Map(object),
            text_guess: resource.text_guess as usize,
        }
    }

    /// The build's guess of the object's text in bytes, for sharing the
    /// writing out between threads.
    fn text_guess(&self) -> Option<usize> {
        (self.text_guess > 0).then_some(self.text_guess)
    }

    /// The id: group, version, kind, `metadata.name` and `metadata.namespace`
    /// as they are in the output (after prefixes, suffixes, hashes and
    /// namespaces were applied).
    pub fn id(&self) -> &ResId {
        &self.id
    }

    /// Group, version and kind.
    pub fn gvk(&self) -> &Gvk {
        &self.id.gvk
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        &self.id.gvk.kind
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.id.name
    }

    /// `metadata.namespace` (empty if unset).
    pub fn namespace(&self) -> &str {
        &self.id.namespace
    }

    /// The file the resource was read from (or the generator configuration,
    /// kustomization or plugin configuration that made it), as the build's
    /// file system names it.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// The object.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The object's top-level mapping (`apiVersion`, `kind`, `metadata`, ...).
    pub fn as_map(&self) -> &Map {
        static EMPTY: std::sync::OnceLock<Map> = std::sync::OnceLock::new();
        match &self.value {
            Value::Map(map) => map,
            _ => EMPTY.get_or_init(Map::default),
        }
    }

    /// Consumes the resource, giving its object. (Dropping the value recurses:
    /// see [`rustomize_yaml::stack::drop_deep`] for documents nested thousands
    /// of levels deep.)
    pub fn into_value(mut self) -> Value {
        std::mem::replace(&mut self.value, Value::Null)
    }

    /// Whether kustomize can print the object: the build's error if not.
    fn check_printable(&self) -> Result<(), crate::Error> {
        match &self.value {
            Value::Map(object) => crate::check_printable_object(object, &self.origin, &self.id),
            _ => Ok(()),
        }
    }

    /// The object as the YAML document `kustomize build` prints for it
    /// (without a `---` separator).
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        rustomize_yaml::write_document(&self.value, &mut out);
        out
    }
}

impl Drop for Resource {
    /// Takes the object apart without recursion: it may nest 10,000 levels
    /// deep, too deep for a recursive drop on a small stack.
    fn drop(&mut self) {
        rustomize_yaml::stack::drop_deep(std::mem::replace(&mut self.value, Value::Null));
    }
}

/// The build's own resources once [`Resource::take`] moved their ids and
/// objects out: their bookkeeping (previous names, prefixes, suffixes,
/// annotation texts), freed with the [`Build`] rather than when it is made.
/// Freeing it then was ~70 ms of a 100k-resource build, and the CLI exits
/// without freeing the build at all. Cloning a build does not copy it.
#[derive(Default)]
pub(crate) struct Leftovers(pub(crate) Vec<crate::resource::Resource>);

impl Clone for Leftovers {
    fn clone(&self) -> Leftovers {
        Leftovers::default()
    }
}

impl std::fmt::Debug for Leftovers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Leftovers({})", self.0.len())
    }
}

/// The result of a build: resources in output order, and warnings for stderr.
///
/// [`Build::to_yaml`] and [`Build::write_to`] give the bytes `kustomize build`
/// prints; [`Build::resources`] the typed resources; [`Build::values`] the
/// objects alone.
#[derive(Clone, Debug, Default)]
pub struct Build {
    pub(crate) resources: Vec<Resource>,
    pub(crate) warnings: Vec<String>,
    /// The `images` field-spec table in effect at the root (built-in rows plus
    /// those `configurations` added): what kustomize's images transformer reaches.
    pub(crate) image_fields: Vec<FieldSpec>,
    /// Canonical paths of every file the build read (kustomization files
    /// included) and of directories it handed to Helm, in no order.
    pub(crate) files_read: Vec<std::ffi::OsString>,
    /// `files_read` sorted, on the first call of [`Build::files_read`]:
    /// sorting paths compares them component by component, ~1% of a
    /// Kubeflow build's time on its critical path, for a list only
    /// `rustomize affected` and `build --all` read.
    pub(crate) files_sorted: std::sync::OnceLock<Vec<std::path::PathBuf>>,
    /// See [`Leftovers`]: held only to be freed with the build.
    #[allow(dead_code)]
    pub(crate) leftovers: Leftovers,
    /// The threads the build could use ([`crate::BuildOptions::threads`]):
    /// [`Build::write_to`] writes on as many (0 or 1: on the caller's alone).
    pub(crate) threads: usize,
    /// The build's pool, while it is up ([`crate::build_then`]): the writer's
    /// workers run there rather than on threads started for the write.
    pub(crate) pool: std::sync::Weak<crate::parallel::Pool>,
    /// The build left the check that every value can be printed to the
    /// writer ([`crate::BuildOptions::check_printable_on_write`]).
    pub(crate) check_printable_on_write: bool,
}

impl Build {
    /// Canonical paths of every file the build read (kustomization files
    /// included) and of directories it handed to Helm, sorted: what
    /// `rustomize affected` matches changed files against.
    pub fn files_read(&self) -> &[std::path::PathBuf] {
        self.files_sorted.get_or_init(|| {
            crate::load::sorted_paths(self.files_read.iter().map(Into::into).collect())
        })
    }

    /// The resources, in output order.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// Consumes the build, giving its resources in output order.
    pub fn into_resources(self) -> Vec<Resource> {
        self.resources
    }

    /// The objects, in output order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> + '_ {
        self.resources.iter().map(Resource::value)
    }

    /// Warnings kustomize would print on stderr, one line each (without a
    /// trailing newline).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The YAML that `kustomize build` prints, byte for byte.
    pub fn to_yaml(&self) -> String {
        rustomize_yaml::write_documents(self.values())
    }

    /// Writes the YAML that `kustomize build` prints to `out`, byte for byte
    /// what [`Build::to_yaml`] returns, and flushes it. The whole output is
    /// never held in memory: documents are written in pieces of ~64 KiB (the
    /// largest, CRDs of a megabyte, never sit whole in a buffer). With more
    /// than one thread ([`crate::BuildOptions::threads`]) the pieces are
    /// rendered on that many threads a few documents apart and written to
    /// `out` from this thread in order, with a few pieces per thread in
    /// flight (see [`rustomize_yaml::write_documents_to`]). `out` is not
    /// buffered here: wrap a file or socket in an [`io::BufWriter`].
    ///
    /// # Errors
    /// The first error of `out` (nothing more is written after it); for a
    /// build made with [`crate::BuildOptions::check_printable_on_write`],
    /// first the error [`Build::check_printable`] gives, before anything is
    /// written.
    pub fn write_to(&self, mut out: impl io::Write) -> io::Result<()> {
        self.check_printable().map_err(io::Error::other)?;
        let pool = self.pool.upgrade();
        match pool
            .as_deref()
            .and_then(crate::parallel::Pool::writer_threads)
        {
            Some(workers) => rustomize_yaml::write_documents_on(
                &self.resources,
                Resource::value,
                Resource::text_guess,
                &workers,
                &mut out,
            )?,
            None => rustomize_yaml::write_documents_to(
                &self.resources,
                Resource::value,
                Resource::text_guess,
                self.threads,
                &mut out,
            )?,
        }
        out.flush()
    }

    /// [`Build::write_to`], taking the build: with one thread (and no pool up)
    /// each resource is freed as soon as it is written, while its nodes are
    /// still in the processor's caches, rather than walked from memory again
    /// when the build is dropped. For callers that drop the build after
    /// writing it (`rustomize build --all` writes hundreds). The bytes are
    /// [`Build::write_to`]'s.
    ///
    /// # Errors
    /// The first error of `out` (nothing more is written after it).
    ///
    /// A build made with [`crate::BuildOptions::check_printable_on_write`]
    /// is checked here, each resource just before it is written: the first
    /// that kustomize cannot print fails the write with the build's error
    /// (an [`io::Error`] wrapping the [`crate::Error`], see
    /// [`Build::unprintable_error`]), and nothing of it or after it is
    /// written. The caller discards what was written before (a temporary
    /// file), as the build would have failed.
    pub fn write_into(mut self, mut out: impl io::Write) -> io::Result<()> {
        let pool = self.pool.upgrade();
        if self.threads > 1
            || pool.is_some_and(|p| p.writer_threads().is_some())
            || (self.check_printable_on_write && !rustomize_yaml::stack::is_on_deep_stack())
        {
            // Checked first (on a deep stack: the check recurses once per
            // level of nesting), then written.
            return self.write_to(out);
        }
        let check = self.check_printable_on_write;
        let resources = std::mem::take(&mut self.resources);
        rustomize_yaml::write_documents_taking(
            resources,
            Resource::value,
            |r| match check {
                true => r.check_printable().map_err(io::Error::other),
                false => Ok(()),
            },
            &mut out,
        )?;
        out.flush()
    }

    /// Fails with the build's error if kustomize cannot print one of the
    /// resources (NaN, an infinity, a NEL in a key): the check a build made
    /// with [`crate::BuildOptions::check_printable_on_write`] left to the
    /// writer, for callers that read such a build otherwise. Always `Ok` for
    /// other builds (the build itself failed).
    ///
    /// # Errors
    /// [`crate::Error::UnsupportedValue`] or [`crate::Error::NelInKey`] for
    /// the first such resource in output order.
    pub fn check_printable(&self) -> Result<(), crate::Error> {
        if !self.check_printable_on_write {
            return Ok(());
        }
        // The walk recurses once per level of nesting (up to 10,000).
        rustomize_yaml::stack::on_deep_stack(|| {
            self.resources
                .iter()
                .try_for_each(Resource::check_printable)
        })
    }

    /// The build's error inside an error of [`Build::write_into`], if that
    /// is what failed the write (rather than the output).
    pub fn unprintable_error(error: &io::Error) -> Option<&crate::Error> {
        error.get_ref()?.downcast_ref::<crate::Error>()
    }

    /// Every image reference in the output, in document order (see
    /// [`crate::inventory`]); `deep` adds those inside ConfigMap data, env
    /// values and arguments.
    pub fn images(&self, deep: bool) -> Vec<crate::inventory::ImageUse> {
        crate::inventory::list(self.values(), &self.image_fields, deep)
    }
}
