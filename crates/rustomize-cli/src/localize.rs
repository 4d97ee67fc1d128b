//! `rustomize localize DIR DEST`: a copy of a kustomization and of everything
//! it reaches, remote bases and files included, in which every remote
//! reference names its downloaded copy, so DEST builds with no network, with
//! rustomize and with kustomize alike.
//!
//! The layout is kustomize's `localize` (api/internal/localizer, v5.5.0):
//!
//! - local files and kustomization directories keep their place relative to
//!   the *scope* (by default the target directory; `--scope` widens it), and
//!   DEST stands for the scope;
//! - a remote base `URL//dir?ref=R` goes to
//!   `localized-files/<host>/<repository path without .git>/<R>/<dir>` below
//!   the directory of the kustomization naming it (`file://` repositories
//!   under the host `file-schemed`), and everything it reaches inside its
//!   repository keeps its place relative to it;
//! - a remote file `https://host/p/a.yaml` goes to
//!   `localized-files/<host>/p/a.yaml` below the directory of the
//!   kustomization naming it.
//!
//! Every entry is written as the path (cleaned, symlinks resolved) its copy
//! has; an entry that already names that path is left as written. A
//! kustomization file whose entries all stay is copied byte for byte; one
//! that changes is rewritten by [`crate::kustfile`], so its other fields,
//! comments and order stay.
//!
//! Refused as kustomize refuses it: a remote base without `?ref=`, an
//! absolute path, a file outside its kustomization's root, a local base
//! outside the scope or inside DEST, a kustomization directory that already
//! holds `localized-files` when a remote has to be stored there, a
//! `generators`/`transformers`/`validators` entry that is a directory. Also
//! refused: a DEST that exists and is not an empty directory. Nothing is
//! written outside DEST, symlinks are resolved (never copied, never followed
//! out of a root), and on any error what was written is removed.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rustomize::remote::url::{is_remote_file, parse_repo_spec, redact, RepoSpec};
use rustomize::remote::Session;
use rustomize::{Map, ParseLimits, Value};

use crate::kustfile::{KustFile, FILE_NAMES};

/// The directory kustomize stores remote content in (`LocalizeDir`).
pub const LOCALIZE_DIR: &str = "localized-files";
/// The host directory of `file://` repositories (`FileSchemeDir`).
pub const FILE_SCHEME_DIR: &str = "file-schemed";
/// Helm's default chart home (`types.HelmDefaultHome`).
const HELM_DEFAULT_HOME: &str = "charts";

/// What `localize` is asked to do.
pub struct Request<'a> {
    /// The kustomization directory to localize.
    pub target: &'a Path,
    /// Where the copy goes (must not exist, or be an empty directory).
    pub dest: &'a Path,
    /// The directory local references must stay in (default: `target`).
    pub scope: Option<&'a Path>,
    /// Remote access for the remote bases and files.
    pub session: Arc<Session>,
    /// Largest file read, in bytes.
    pub max_bytes: usize,
}

/// Localizes `request.target` into `request.dest`; on error nothing is left
/// in DEST (a DEST made here is removed). Errors are one line.
pub fn run(request: &Request) -> Result<(), String> {
    let target = canonical_dir(request.target)?;
    let scope = match request.scope {
        Some(s) => canonical_dir(s)?,
        None => target.clone(),
    };
    if !target.starts_with(&scope) {
        return Err(format!(
            "localize scope '{}' does not contain target '{}'",
            request.scope.unwrap_or(&scope).display(),
            request.target.display()
        ));
    }
    let created = prepare_dest(request.dest)?;
    let dest = std::fs::canonicalize(request.dest)
        .map_err(|e| format!("{}: {e}", request.dest.display()))?;
    let mut localizer = Localizer {
        session: Arc::clone(&request.session),
        scope: scope.clone(),
        dest: dest.clone(),
        max_bytes: request.max_bytes,
        stack: Vec::new(),
        done: HashSet::new(),
    };
    let root = Root {
        dst: dest.join(relative(&scope, &target)),
        dir: target,
        repo: None,
    };
    if let Err(e) = localizer.root(&root) {
        clean_up(&dest, created);
        return Err(format!(
            "unable to localize target '{}': {e}",
            request.target.display()
        ));
    }
    Ok(())
}

fn canonical_dir(path: &Path) -> Result<PathBuf, String> {
    let real = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !real.is_dir() {
        return Err(format!("{}: not a directory", path.display()));
    }
    Ok(real)
}

/// Makes DEST (its parent must exist) or checks that it is an empty
/// directory; returns whether it was made here.
fn prepare_dest(dest: &Path) -> Result<bool, String> {
    match std::fs::symlink_metadata(dest) {
        Ok(meta) if meta.is_dir() => {
            let mut entries =
                std::fs::read_dir(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
            if entries.next().is_some() {
                return Err(format!(
                    "localize destination '{}' already exists and is not empty",
                    dest.display()
                ));
            }
            Ok(false)
        }
        Ok(_) => Err(format!(
            "localize destination '{}' already exists and is not a directory",
            dest.display()
        )),
        Err(_) => {
            std::fs::create_dir(dest).map_err(|e| {
                format!(
                    "unable to create localize destination '{}': {e}",
                    dest.display()
                )
            })?;
            Ok(true)
        }
    }
}

/// Removes what a failed run wrote: DEST itself if it was made here, else
/// its contents.
fn clean_up(dest: &Path, created: bool) {
    if created {
        let _ = std::fs::remove_dir_all(dest);
        return;
    }
    if let Ok(entries) = std::fs::read_dir(dest) {
        for entry in entries.flatten() {
            let path = entry.path();
            let _ = match entry.file_type() {
                Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
                _ => std::fs::remove_file(&path),
            };
        }
    }
}

/// One kustomization directory being localized.
struct Root {
    /// Its real (symlink-free) path.
    dir: PathBuf,
    /// Where its copy goes (inside DEST).
    dst: PathBuf,
    /// The checkout it lies in, when it came from a remote.
    repo: Option<PathBuf>,
}

struct Localizer {
    session: Arc<Session>,
    scope: PathBuf,
    dest: PathBuf,
    max_bytes: usize,
    /// Directories being localized (a base at or above one is a cycle).
    stack: Vec<PathBuf>,
    /// Kustomization copies already written (a base reached twice is done once).
    done: HashSet<PathBuf>,
}

impl Localizer {
    /// Localizes the kustomization at `root` and writes its copy.
    fn root(&mut self, root: &Root) -> Result<(), String> {
        if !self.done.insert(root.dst.clone()) {
            return Ok(());
        }
        self.stack.push(root.dir.clone());
        let result = self.root_inner(root);
        self.stack.pop();
        result
    }

    fn root_inner(&mut self, root: &Root) -> Result<(), String> {
        let (path, name) = kustomization_file(&root.dir)?;
        let bytes =
            rustomize::load::read_regular_file(&path, self.max_bytes).map_err(|e| e.to_string())?;
        let text = String::from_utf8(bytes.clone())
            .map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
        let limits = ParseLimits {
            yaml11: true,
            max_bytes: self.max_bytes,
            ..ParseLimits::default()
        };
        let docs = rustomize::parse_documents(&text, &limits)
            .map_err(|e| format!("{}: {}", path.display(), e.message))?;
        let fields = match docs.into_iter().find(|d| !d.is_null()) {
            None => Map::default(),
            Some(Value::Map(m)) => m,
            Some(_) => return Err(format!("{}: expected a mapping", path.display())),
        };
        let mut changed: Vec<(String, Value)> = Vec::new();
        for (key, value) in &fields {
            let mut new = value.clone();
            self.field(root, key, &mut new)
                .map_err(|e| format!("{}: {key}: {e}", path.display()))?;
            if &new != value {
                changed.push((key.to_string(), new));
            }
        }
        if fields.get("helmCharts").is_some_and(|v| !v.is_null())
            && fields.get("helmGlobals").is_none_or(Value::is_null)
        {
            self.chart_home(root, HELM_DEFAULT_HOME)
                .map_err(|e| format!("{}: helmCharts: {e}", path.display()))?;
        }
        let out = if changed.is_empty() {
            bytes
        } else {
            let mut file = KustFile::read_unfixed(&path)?;
            for (key, value) in changed {
                file.set(&key, value);
            }
            file.render().into_bytes()
        };
        self.write(&root.dst.join(name), &out)
    }

    /// Localizes the paths in one top-level field of a kustomization.
    fn field(&mut self, root: &Root, key: &str, value: &mut Value) -> Result<(), String> {
        match key {
            "resources" => each_string(value, |s| self.resource(root, s)),
            "bases" | "components" => each_string(value, |s| self.dir(root, s)),
            "configurations" | "crds" => each_string(value, |s| self.file(root, s)),
            "openapi" => at(value, "path", |v| each_string(v, |s| self.file(root, s))),
            "configMapGenerator" | "secretGenerator" => {
                each_item(value, |item| self.generator_args(root, item))
            }
            "patches" | "patchesJson6902" => each_item(value, |item| {
                at(item, "path", |v| each_string(v, |s| self.file(root, s)))
            }),
            "patchesStrategicMerge" => each_string(value, |s| self.patch_or_inline(root, s)),
            "replacements" => each_item(value, |item| {
                at(item, "path", |v| each_string(v, |s| self.file(root, s)))
            }),
            "helmCharts" => each_item(value, |item| {
                at(item, "valuesFile", |v| {
                    each_string(v, |s| self.file(root, s))
                })?;
                at(item, "additionalValuesFiles", |v| {
                    each_string(v, |s| self.file(root, s))
                })
            }),
            "helmGlobals" => at(value, "chartHome", |v| {
                each_string(v, |s| self.chart_home(root, s))
            })
            .and_then(|()| match value {
                Value::Map(m) if m.get("chartHome").is_none_or(Value::is_null) => {
                    self.chart_home(root, HELM_DEFAULT_HOME).map(|_| ())
                }
                _ => Ok(()),
            }),
            "helmChartInflationGenerator" => each_item(value, |item| {
                at(item, "values", |v| each_string(v, |s| self.file(root, s)))?;
                at(item, "chartHome", |v| {
                    each_string(v, |s| self.chart_home(root, s))
                })
            }),
            "generators" | "transformers" | "validators" => {
                each_string(value, |s| self.plugin_entry(root, s))
            }
            _ => Ok(()),
        }
    }

    /// `env`, `envs` and `files` (`[key=]path`) of a generator.
    fn generator_args(&mut self, root: &Root, item: &mut Value) -> Result<(), String> {
        at(item, "env", |v| each_string(v, |s| self.file(root, s)))?;
        at(item, "envs", |v| each_string(v, |s| self.file(root, s)))?;
        at(item, "files", |v| {
            each_string(v, |source| match source.split_once('=') {
                Some((key, file)) if !key.is_empty() => {
                    Ok(format!("{key}={}", self.file(root, file)?))
                }
                _ => self.file(root, source),
            })
        })
    }

    /// A `resources` entry: a file of resources, or a kustomization directory.
    fn resource(&mut self, root: &Root, entry: &str) -> Result<String, String> {
        if is_remote_file(entry) {
            let fetched = self
                .session
                .download(entry, self.max_bytes)
                .map_err(|e| format!("'{}': {e}", redact(entry)));
            let is_repo = parse_repo_spec(entry).is_ok();
            return match fetched {
                Ok(bytes) if !is_repo || holds_resources(&bytes) => {
                    self.remote_file(root, entry, &bytes)
                }
                Ok(_) | Err(_) if is_repo => self.dir(root, entry),
                Ok(_) => Err(format!("'{entry}' does not hold resources")),
                Err(e) => Err(e),
            };
        }
        let requested = root.dir.join(entry);
        match std::fs::metadata(&requested) {
            Ok(meta) if meta.is_file() => self.file(root, entry),
            Ok(meta) if meta.is_dir() => self.dir(root, entry),
            Ok(_) => Err(format!("'{entry}' is not a regular file or a directory")),
            Err(_) if parse_repo_spec(entry).is_ok() => self.dir(root, entry),
            Err(e) => Err(format!("'{entry}': {e}")),
        }
    }

    /// A `patchesStrategicMerge` entry: a file, or an inline patch (kept).
    fn patch_or_inline(&mut self, root: &Root, entry: &str) -> Result<String, String> {
        if is_inline(entry) {
            return Ok(entry.to_owned());
        }
        self.file(root, entry)
    }

    /// A file entry; returns the entry naming the copy.
    fn file(&mut self, root: &Root, entry: &str) -> Result<String, String> {
        if entry.is_empty() {
            return Ok(String::new());
        }
        if is_remote_file(entry) {
            let bytes = self
                .session
                .download(entry, self.max_bytes)
                .map_err(|e| format!("'{}': {e}", redact(entry)))?;
            return self.remote_file(root, entry, &bytes);
        }
        let (real, rel) = self.local_file(root, entry)?;
        let bytes =
            rustomize::load::read_regular_file(&real, self.max_bytes).map_err(|e| e.to_string())?;
        self.write(&root.dst.join(&rel), &bytes)?;
        Ok(keep_or(entry, &rel))
    }

    /// The real path of a local file entry and its path relative to the root,
    /// checked as kustomize's localize loader checks it.
    fn local_file(&self, root: &Root, entry: &str) -> Result<(PathBuf, PathBuf), String> {
        if Path::new(entry).is_absolute() {
            return Err(format!(
                "absolute paths not yet supported in alpha: file path '{entry}' is absolute"
            ));
        }
        let requested = root.dir.join(entry);
        let real = std::fs::canonicalize(&requested)
            .map_err(|e| format!("'{entry}': {}: {e}", requested.display()))?;
        if !real.starts_with(&root.dir) {
            return Err(format!(
                "file '{entry}' is outside its kustomization root '{}' (at '{}')",
                root.dir.display(),
                real.display()
            ));
        }
        if root.repo.is_none() && real.starts_with(&self.dest) {
            return Err(format!(
                "file '{entry}' enters the localize destination '{}'",
                self.dest.display()
            ));
        }
        let rel = real
            .strip_prefix(&root.dir)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Ok((real, rel))
    }

    /// Writes the body of a remote file where kustomize puts it.
    fn remote_file(&mut self, root: &Root, entry: &str, bytes: &[u8]) -> Result<String, String> {
        self.no_localize_dir(root, entry)?;
        let loc = file_location(entry)?;
        self.write(&root.dst.join(&loc), bytes)?;
        Ok(path_text(&loc))
    }

    /// kustomize refuses to store remote content in a directory that already
    /// has a `localized-files` of its own.
    fn no_localize_dir(&self, root: &Root, entry: &str) -> Result<(), String> {
        if std::fs::symlink_metadata(root.dir.join(LOCALIZE_DIR)).is_ok() {
            return Err(format!(
                "{} already contains {LOCALIZE_DIR} needed to store '{}'",
                root.dir.display(),
                redact(entry)
            ));
        }
        Ok(())
    }

    /// A kustomization directory entry (`resources`, `bases`, `components`).
    fn dir(&mut self, root: &Root, entry: &str) -> Result<String, String> {
        if let Ok(spec) = parse_repo_spec(entry) {
            return self.remote_dir(root, entry, &spec);
        }
        if Path::new(entry).is_absolute() {
            return Err(format!("new root '{entry}' cannot be absolute"));
        }
        let child = canonical_dir(&root.dir.join(entry))?;
        match &root.repo {
            Some(repo) if !child.starts_with(repo) => {
                return Err(format!(
                    "base '{entry}' is outside the repository it was fetched with"
                ));
            }
            Some(_) => {}
            None => {
                if !child.starts_with(&self.scope) {
                    return Err(format!(
                        "root '{}' outside localize scope '{}'",
                        child.display(),
                        self.scope.display()
                    ));
                }
                if child.starts_with(&self.dest) {
                    return Err(format!(
                        "root '{}' references into localize destination '{}'",
                        child.display(),
                        self.dest.display()
                    ));
                }
            }
        }
        self.no_cycle(&child)?;
        let rel = relative(&root.dir, &child);
        let next = Root {
            dst: normalize(&root.dst.join(&rel)),
            dir: child,
            repo: root.repo.clone(),
        };
        self.root(&next)?;
        Ok(keep_or(entry, &rel))
    }

    fn no_cycle(&self, child: &Path) -> Result<(), String> {
        if self.stack.iter().any(|a| a.starts_with(child)) {
            return Err(format!(
                "cycle detected: root '{}' contains a root being localized",
                child.display()
            ));
        }
        Ok(())
    }

    /// A remote base: fetched, then localized below `localized-files`.
    fn remote_dir(&mut self, root: &Root, entry: &str, spec: &RepoSpec) -> Result<String, String> {
        let shown = redact(entry);
        if spec.git_ref.is_empty() {
            return Err(format!(
                "localize remote root '{shown}' missing ref query string parameter"
            ));
        }
        self.no_localize_dir(root, entry)?;
        let checkout = self
            .session
            .checkout(spec)
            .map_err(|e| format!("'{shown}': {e}"))?;
        let checkout = std::fs::canonicalize(&checkout)
            .map_err(|e| format!("'{shown}': {}: {e}", checkout.display()))?;
        let dir = std::fs::canonicalize(checkout.join(&spec.kust_root)).map_err(|_| {
            format!(
                "'{shown}': directory '{}' does not exist in the repository",
                spec.kust_root
            )
        })?;
        if !dir.starts_with(&checkout) || !dir.is_dir() {
            return Err(format!(
                "'{shown}' refers to '{}', not a directory inside the repository",
                spec.kust_root
            ));
        }
        self.no_cycle(&dir)?;
        let loc = repo_location(spec, &relative(&checkout, &dir));
        let next = Root {
            dst: normalize(&root.dst.join(&loc)),
            dir,
            repo: Some(checkout),
        };
        self.root(&next)?;
        Ok(path_text(&loc))
    }

    /// Copies a Helm chart home (when it exists) to the same place in the
    /// copy, without symlinks; returns the entry naming it.
    fn chart_home(&mut self, root: &Root, entry: &str) -> Result<String, String> {
        if Path::new(entry).is_absolute() {
            return Err(format!("absolute path '{entry}' not handled in alpha"));
        }
        let requested = root.dir.join(entry);
        if std::fs::symlink_metadata(&requested).is_err() {
            return Ok(entry.to_owned());
        }
        let real = canonical_dir(&requested)?;
        let inside = match &root.repo {
            Some(repo) => real.starts_with(repo),
            None => real.starts_with(&self.scope) && !real.starts_with(&self.dest),
        };
        if !inside {
            return Err(format!(
                "chart home '{entry}' is outside the localize scope"
            ));
        }
        let rel = relative(&root.dir, &real);
        self.copy_tree(&real, &normalize(&root.dst.join(&rel)))?;
        Ok(keep_or(entry, &rel))
    }

    /// Copies the regular files and directories below `src` (symlinks are
    /// skipped, as kustomize skips them).
    fn copy_tree(&mut self, src: &Path, dst: &Path) -> Result<(), String> {
        let entries = std::fs::read_dir(src).map_err(|e| format!("{}: {e}", src.display()))?;
        self.make_dir(dst)?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", src.display()))?;
            let kind = entry
                .file_type()
                .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            let to = dst.join(entry.file_name());
            if entry.path() == self.dest {
                // DEST inside the chart home is never copied into itself.
                continue;
            }
            if kind.is_dir() {
                self.copy_tree(&entry.path(), &to)?;
            } else if kind.is_file() {
                let bytes = rustomize::load::read_regular_file(&entry.path(), self.max_bytes)
                    .map_err(|e| e.to_string())?;
                self.write(&to, &bytes)?;
            }
        }
        Ok(())
    }

    /// A `generators`/`transformers`/`validators` entry: inline configs or a
    /// file of them, with the paths of builtin plugin configs localized.
    fn plugin_entry(&mut self, root: &Root, entry: &str) -> Result<String, String> {
        let limits = ParseLimits::default();
        if is_inline(entry) {
            let docs = rustomize::parse_documents(entry, &limits).map_err(|e| e.message)?;
            let (docs, changed) = self.plugin_configs(root, docs)?;
            return Ok(if changed {
                render(&docs)
            } else {
                entry.to_owned()
            });
        }
        let requested = root.dir.join(entry);
        if requested.is_dir() {
            return Err(format!(
                "'{entry}' is a directory: localize reads plugin configs from files only \
                 (as kustomize's localize)"
            ));
        }
        let (real, rel) = self.local_file(root, entry)?;
        let bytes =
            rustomize::load::read_regular_file(&real, self.max_bytes).map_err(|e| e.to_string())?;
        let text = String::from_utf8(bytes.clone())
            .map_err(|_| format!("{}: not UTF-8 text", real.display()))?;
        let docs = rustomize::parse_documents(&text, &limits)
            .map_err(|e| format!("{}: {}", real.display(), e.message))?;
        let (docs, changed) = self.plugin_configs(root, docs)?;
        let out = if changed {
            render(&docs).into_bytes()
        } else {
            bytes
        };
        self.write(&root.dst.join(&rel), &out)?;
        Ok(keep_or(entry, &rel))
    }

    /// Localizes the file paths of builtin plugin configs (kustomize's
    /// `localizeBuiltinPlugins`); other configs are kept as they are.
    fn plugin_configs(
        &mut self,
        root: &Root,
        docs: Vec<Value>,
    ) -> Result<(Vec<Value>, bool), String> {
        let mut changed = false;
        let mut out = Vec::new();
        for doc in docs.into_iter().filter(|d| !d.is_null()) {
            let mut new = doc.clone();
            let builtin = matches!(&doc, Value::Map(m)
                if m.get("apiVersion") == Some(&Value::string("builtin")));
            if builtin {
                let kind = match &doc {
                    Value::Map(m) => match m.get("kind") {
                        Some(Value::String(k)) => k.to_string(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                match kind.as_str() {
                    "ConfigMapGenerator" | "SecretGenerator" => {
                        self.generator_args(root, &mut new)?;
                    }
                    "PatchTransformer" | "PatchJson6902Transformer" => {
                        at(&mut new, "path", |v| each_string(v, |s| self.file(root, s)))?;
                    }
                    "ReplacementTransformer" => {
                        at(&mut new, "replacements", |v| {
                            each_item(v, |item| {
                                at(item, "path", |p| each_string(p, |s| self.file(root, s)))
                            })
                        })?;
                    }
                    "PatchStrategicMergeTransformer" => {
                        at(&mut new, "paths", |v| {
                            each_string(v, |s| self.patch_or_inline(root, s))
                        })?;
                    }
                    _ => {}
                }
            }
            changed |= new != doc;
            out.push(new);
        }
        Ok((out, changed))
    }

    fn make_dir(&self, dir: &Path) -> Result<(), String> {
        self.inside_dest(dir)?;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
    }

    /// Writes one file of the copy; the path must lie inside DEST.
    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), String> {
        let path = normalize(path);
        self.inside_dest(&path)?;
        if let Some(parent) = path.parent() {
            self.make_dir(parent)?;
        }
        // Never write through a symlink (DEST holds none of ours).
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(format!(
                "{}: exists and is not a regular file",
                path.display()
            ));
        }
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn inside_dest(&self, path: &Path) -> Result<(), String> {
        if normalize(path).starts_with(&self.dest) {
            Ok(())
        } else {
            Err(format!(
                "'{}' would be written outside the localize destination '{}'",
                path.display(),
                self.dest.display()
            ))
        }
    }
}

/// The kustomization file of `dir` (exactly one of the recognised names),
/// which must resolve inside `dir`; its real path and its name.
fn kustomization_file(dir: &Path) -> Result<(PathBuf, &'static str), String> {
    let found: Vec<&'static str> = FILE_NAMES
        .iter()
        .copied()
        .filter(|name| std::fs::metadata(dir.join(name)).is_ok_and(|m| !m.is_dir()))
        .collect();
    let name = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err(format!(
                "unable to find one of 'kustomization.yaml', 'kustomization.yml' or \
                 'Kustomization' in directory '{}'",
                dir.display()
            ))
        }
        _ => {
            return Err(format!(
                "found multiple kustomization files under: {}",
                dir.display()
            ))
        }
    };
    let real = std::fs::canonicalize(dir.join(name))
        .map_err(|e| format!("{}: {e}", dir.join(name).display()))?;
    if !real.starts_with(dir) {
        return Err(format!(
            "{}: the kustomization file leads outside its directory",
            dir.join(name).display()
        ));
    }
    Ok((real, name))
}

/// Applies `f` to each string of a list (or to a single string).
fn each_string(
    value: &mut Value,
    mut f: impl FnMut(&str) -> Result<String, String>,
) -> Result<(), String> {
    match value {
        Value::String(s) => {
            *s = f(s)?.into();
        }
        Value::Seq(items) => {
            for item in items {
                if let Value::String(s) = item {
                    *s = f(s)?.into();
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Applies `f` to each item of a list.
fn each_item(
    value: &mut Value,
    mut f: impl FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    if let Value::Seq(items) = value {
        for item in items {
            f(item)?;
        }
    }
    Ok(())
}

/// Applies `f` to the field `key` of a mapping, when present.
fn at(
    value: &mut Value,
    key: &str,
    f: impl FnOnce(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    match value {
        Value::Map(m) => match m.get_mut(key) {
            Some(v) => f(v),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Whether an entry is inline YAML rather than a path (a path never holds a
/// line break or starts a mapping).
fn is_inline(entry: &str) -> bool {
    entry.contains('\n') || entry.trim_start().starts_with('{')
}

/// Whether `bytes` parse as Kubernetes resources (a downloaded page of HTML
/// does not).
fn holds_resources(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    match rustomize::parse_documents(text, &ParseLimits::default()) {
        Ok(docs) => {
            let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
            !docs.is_empty() && docs.iter().all(|d| matches!(d, Value::Map(_)))
        }
        Err(_) => false,
    }
}

/// Documents as one YAML stream.
fn render(docs: &[Value]) -> String {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        rustomize::write_document(doc, &mut out);
    }
    out
}

/// The entry as written when it already names `rel` (after cleaning), else
/// `rel`.
fn keep_or(entry: &str, rel: &Path) -> String {
    let cleaned = normalize(Path::new(entry));
    if cleaned == rel || (rel.as_os_str().is_empty() && cleaned.as_os_str() == ".") {
        entry.to_owned()
    } else {
        path_text(rel)
    }
}

fn path_text(path: &Path) -> String {
    let text = path.to_string_lossy().into_owned();
    if text.is_empty() {
        ".".to_owned()
    } else {
        text
    }
}

/// `path` with `.` removed and `..` applied lexically (as Go's
/// `filepath.Clean`); a relative path may keep leading `..`.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                match last {
                    Some(Component::Normal(_)) => {
                        out.pop();
                    }
                    Some(Component::RootDir) => {}
                    _ => out.push(".."),
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The relative path from the directory `from` to `to` (both real, absolute).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in b.iter().skip(common) {
        out.push(c);
    }
    out
}

/// kustomize's `locFilePath`: `localized-files/<host>/<path>`, the URL's
/// escaped path cleaned of dot segments; no user, port or query.
fn file_location(address: &str) -> Result<PathBuf, String> {
    let url = ::url::Url::parse(address).map_err(|e| format!("'{}': {e}", redact(address)))?;
    let host = url.host_str().unwrap_or_default();
    let path = normalize(&Path::new("/").join(url.path().trim_start_matches('/')));
    let path = path.strip_prefix("/").unwrap_or(&path).to_path_buf();
    Ok(Path::new(LOCALIZE_DIR).join(safe_segment(host)).join(path))
}

/// kustomize's `locRootPath`: `localized-files/<host>/<repository path
/// without .git>/<ref>/<directory in the repository>`.
fn repo_location(spec: &RepoSpec, in_repo: &Path) -> PathBuf {
    let repo_path = spec
        .repo_path
        .strip_suffix(".git")
        .unwrap_or(&spec.repo_path);
    let clean = |p: &str| {
        let n = normalize(&Path::new("/").join(p.trim_start_matches('/')));
        n.strip_prefix("/").map(Path::to_path_buf).unwrap_or(n)
    };
    Path::new(LOCALIZE_DIR)
        .join(safe_segment(&host_dir(&spec.host)))
        .join(clean(repo_path))
        .join(clean(&spec.git_ref))
        .join(in_repo)
}

/// kustomize's `parseHost`: `file-schemed` for `file://`, `gh` for `gh:`,
/// else the host name without scheme, user or port (case kept).
fn host_dir(host: &str) -> String {
    let lower = host.to_ascii_lowercase();
    if lower.starts_with("file://") {
        return FILE_SCHEME_DIR.to_owned();
    }
    if lower.starts_with("gh:") {
        return "gh".to_owned();
    }
    let rest = host
        .find("://")
        .map_or(host, |i| host.get(i + 3..).unwrap_or(""));
    let authority = rest.split('/').next().unwrap_or("");
    let authority = authority.trim_end_matches(':');
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(inner) = host_port.strip_prefix('[') {
        return inner.split(']').next().unwrap_or("").to_owned();
    }
    host_port.split(':').next().unwrap_or("").to_owned()
}

/// A host name as one directory name (never `..`, empty or with a `/`).
fn safe_segment(s: &str) -> String {
    let s = s.replace(['/', '\\'], "_");
    if s.is_empty() || s == "." || s == ".." {
        "_".to_owned()
    } else {
        s
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn remote_roots_and_files_land_where_kustomize_puts_them() {
        let spec = parse_repo_spec("https://github.com/org/repo.git//deploy?ref=v1.2").unwrap();
        assert_eq!(
            repo_location(&spec, Path::new("deploy")),
            Path::new("localized-files/github.com/org/repo/v1.2/deploy")
        );
        let spec = parse_repo_spec("git@gitlab.com:org/repo?ref=release/x").unwrap();
        assert_eq!(
            repo_location(&spec, Path::new("")),
            Path::new("localized-files/gitlab.com/org/repo/release/x")
        );
        let spec = parse_repo_spec("file:///srv/git/app.git//base?ref=v1").unwrap();
        assert_eq!(
            repo_location(&spec, Path::new("base")),
            Path::new("localized-files/file-schemed/srv/git/app/v1/base")
        );
        assert_eq!(
            file_location("https://user:pw@raw.example.com:8443/o/r/../r/main/a.yaml?x=1").unwrap(),
            Path::new("localized-files/raw.example.com/o/r/main/a.yaml")
        );
    }

    #[test]
    fn paths_are_cleaned_lexically() {
        assert_eq!(normalize(Path::new("a/./b/../c")), Path::new("a/c"));
        assert_eq!(normalize(Path::new("../a")), Path::new("../a"));
        assert_eq!(
            relative(Path::new("/r/a/b"), Path::new("/r/c")),
            Path::new("../../c")
        );
        assert_eq!(keep_or("./cm.yaml", Path::new("cm.yaml")), "./cm.yaml");
        assert_eq!(
            keep_or("link/cm.yaml", Path::new("real/cm.yaml")),
            "real/cm.yaml"
        );
    }
}
