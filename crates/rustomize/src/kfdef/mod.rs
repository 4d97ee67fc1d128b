//! KfDef files (`kfdef.apps.kubeflow.org` v1alpha1, v1beta1, v1), rendered
//! offline the way `kfctl build` prepared them. This module owns reading a
//! KfDef, resolving its repos to local directories, and laying out one
//! kustomization directory per application (`DIR/kustomize/<app>/`, a copy of
//! the package with a generated `kustomization.yaml`); `merge` owns kfctl's
//! rules for folding a package's `base` and its listed `overlays` into that one
//! kustomization. Rendering then runs the ordinary [`crate::build`] on each
//! directory, so the kustomize pipeline knows nothing of KfDefs.
//!
//! kfctl's behaviours kept, and the nondeterministic ones made deterministic,
//! are listed in `docs/kfdef.md`.

mod merge;

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use rustomize_yaml::{Map, Value};

use crate::{Build, BuildOptions, Error};

/// The KfDef API versions read.
const API_VERSIONS: [&str; 3] = [
    "kfdef.apps.kubeflow.org/v1alpha1",
    "kfdef.apps.kubeflow.org/v1beta1",
    "kfdef.apps.kubeflow.org/v1",
];

/// A parsed KfDef: what rendering needs of it.
#[derive(Clone, Debug)]
pub struct KfDef {
    /// The file it was read from (relative repo paths resolve against its directory).
    pub path: PathBuf,
    /// `apiVersion`.
    pub api_version: String,
    /// `metadata.name`; kfctl infers a missing one from its app directory, here
    /// the name of the directory holding the file.
    pub name: String,
    /// `metadata.namespace` (may be empty).
    pub namespace: String,
    /// `spec.project` (v1alpha1) or the first plugin's `spec.project`: the
    /// value of a `project=` line in `params.env`.
    pub project: String,
    /// `spec.repos`, in order.
    pub repos: Vec<Repo>,
    /// `spec.applications`, in order.
    pub applications: Vec<Application>,
}

/// One entry of `spec.repos`.
#[derive(Clone, Debug)]
pub struct Repo {
    /// `name`, what `repoRef.name` refers to.
    pub name: String,
    /// `uri`: a local path, a `file://` URL, or a remote archive.
    pub uri: String,
    /// `root` (v1alpha1): a subdirectory of the repo holding the packages.
    pub root: String,
}

/// One entry of `spec.applications`.
#[derive(Clone, Debug)]
pub struct Application {
    /// `name`: the directory `kustomize/<name>/`.
    pub name: String,
    /// `kustomizeConfig.repoRef.name`.
    pub repo: String,
    /// `kustomizeConfig.repoRef.path`: the package inside the repo.
    pub path: String,
    /// `kustomizeConfig.overlays`, in order.
    pub overlays: Vec<String>,
    /// `kustomizeConfig.parameters` as (name, value), in order.
    pub parameters: Vec<(String, String)>,
}

/// One rendered application.
#[derive(Debug)]
pub struct RenderedApp {
    /// The application's name.
    pub name: String,
    /// Its build.
    pub build: Build,
}

/// A rendered KfDef: the applications in order, and kfctl's warnings.
#[derive(Debug, Default)]
pub struct Rendered {
    /// One build per application, in `spec.applications` order.
    pub apps: Vec<RenderedApp>,
    /// Warnings (skipped overlays, ignored duplicate entries), one line each.
    pub warnings: Vec<String>,
}

impl Rendered {
    /// All applications' resources as one stream, in order (what kfctl
    /// concatenated into one manifests file).
    pub fn into_build(self) -> Build {
        let mut all = Build {
            warnings: self.warnings,
            ..Build::default()
        };
        for mut app in self.apps {
            all.resources.append(&mut app.build.resources);
            all.warnings.append(&mut app.build.warnings);
            all.image_fields.append(&mut app.build.image_fields);
            all.threads = all.threads.max(app.build.threads);
            all.check_printable_on_write |= app.build.check_printable_on_write;
        }
        all
    }
}

fn kf_error(path: &Path, message: impl Into<String>) -> Error {
    Error::KfDef {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn io_error(path: &Path, e: &io::Error) -> Error {
    kf_error(path, e.to_string())
}

/// A string field, absent meaning empty; any other type is an error (kfctl's
/// typed decoding rejects it too).
fn str_field(map: &Map, key: &str, file: &Path, at: &str) -> Result<String, Error> {
    match map.get(key) {
        None | Some(Value::Null | Value::Empty) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(_) => Err(kf_error(file, format!("{at}{key}: must be a string"))),
    }
}

fn map_field<'a>(map: &'a Map, key: &str, file: &Path, at: &str) -> Result<Option<&'a Map>, Error> {
    match map.get(key) {
        None | Some(Value::Null | Value::Empty) => Ok(None),
        Some(Value::Map(m)) => Ok(Some(m)),
        Some(_) => Err(kf_error(file, format!("{at}{key}: must be a mapping"))),
    }
}

fn seq_field<'a>(map: &'a Map, key: &str, file: &Path, at: &str) -> Result<&'a [Value], Error> {
    match map.get(key) {
        None | Some(Value::Null | Value::Empty) => Ok(&[]),
        Some(Value::Seq(s)) => Ok(s),
        Some(_) => Err(kf_error(file, format!("{at}{key}: must be a list"))),
    }
}

fn item_map<'a>(item: &'a Value, file: &Path, at: &str) -> Result<&'a Map, Error> {
    match item {
        Value::Map(m) => Ok(m),
        _ => Err(kf_error(file, format!("{at}: must be a mapping"))),
    }
}

/// Whether `name` is one plain path component (an application name becomes a
/// directory name; an overlay name a directory under `overlays/`).
fn is_plain_component(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(_)), None)
    ) && !name.contains(['/', '\\'])
}

/// Whether `path` is relative and stays inside the directory it is relative to.
fn stays_inside(path: &str) -> bool {
    let mut depth = 0usize;
    for part in Path::new(path).components() {
        match part {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// Reads and checks a KfDef file (at most the default file size limit).
pub fn parse(path: &Path) -> Result<KfDef, Error> {
    parse_limited(path, rustomize_yaml::ParseLimits::default().max_bytes)
}

/// Reads and checks a KfDef file of at most `max_bytes` bytes. It is read as
/// the loader reads files: a regular file only (a FIFO or device is refused
/// before it is opened), within the size limit.
pub fn parse_limited(path: &Path, max_bytes: usize) -> Result<KfDef, Error> {
    let bytes = crate::load::read_regular_file(path, max_bytes)?;
    let text = rustomize_yaml::decode_text(bytes).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        message: e.message,
    })?;
    let docs = crate::parse_documents(&text, &Default::default()).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let docs: Vec<&Value> = docs
        .iter()
        .filter(|d| !matches!(d, Value::Null | Value::Empty))
        .collect();
    let [Value::Map(doc)] = docs.as_slice() else {
        return Err(kf_error(
            path,
            "a KfDef file holds exactly one YAML mapping",
        ));
    };
    let api_version = str_field(doc, "apiVersion", path, "")?;
    let kind = str_field(doc, "kind", path, "")?;
    if kind != "KfDef" || !API_VERSIONS.contains(&api_version.as_str()) {
        return Err(kf_error(
            path,
            format!(
                "not a KfDef (apiVersion '{api_version}', kind '{kind}'; expected kind KfDef of {})",
                API_VERSIONS.join(", ")
            ),
        ));
    }
    let empty = Map::default();
    let meta = map_field(doc, "metadata", path, "")?.unwrap_or(&empty);
    let spec = map_field(doc, "spec", path, "")?.unwrap_or(&empty);
    let mut name = str_field(meta, "name", path, "metadata.")?;
    if name.is_empty() {
        name = path
            .canonicalize()
            .ok()
            .and_then(|p| {
                p.parent()
                    .and_then(|d| d.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_default();
    }
    let namespace = str_field(meta, "namespace", path, "metadata.")?;
    let mut project = str_field(spec, "project", path, "spec.")?;
    if project.is_empty() {
        for plugin in seq_field(spec, "plugins", path, "spec.")? {
            if let Value::Map(plugin) = plugin {
                if let Some(Value::Map(ps)) = plugin.get("spec") {
                    if let Some(Value::String(p)) = ps.get("project") {
                        project = p.to_string();
                        break;
                    }
                }
            }
        }
    }
    let mut repos = Vec::new();
    for (i, item) in seq_field(spec, "repos", path, "spec.")?.iter().enumerate() {
        let at = format!("spec.repos[{i}]");
        let m = item_map(item, path, &at)?;
        let at = format!("{at}.");
        repos.push(Repo {
            name: str_field(m, "name", path, &at)?,
            uri: str_field(m, "uri", path, &at)?,
            root: str_field(m, "root", path, &at)?,
        });
    }
    let applications = parse_applications(spec, path)?;
    if applications.is_empty()
        && (spec.contains_key("components") || spec.contains_key("componentParams"))
    {
        return Err(kf_error(
            path,
            "spec.components/componentParams (kfctl's legacy form) are not supported: list spec.applications",
        ));
    }
    Ok(KfDef {
        path: path.to_path_buf(),
        api_version,
        name,
        namespace,
        project,
        repos,
        applications,
    })
}

fn parse_applications(spec: &Map, path: &Path) -> Result<Vec<Application>, Error> {
    let mut apps = Vec::new();
    let mut names = HashSet::new();
    for (i, item) in seq_field(spec, "applications", path, "spec.")?
        .iter()
        .enumerate()
    {
        let at = format!("spec.applications[{i}]");
        let m = item_map(item, path, &at)?;
        let name = str_field(m, "name", path, &format!("{at}."))?;
        if !is_plain_component(&name) {
            return Err(kf_error(
                path,
                format!("{at}.name: '{name}' is not a plain directory name"),
            ));
        }
        if !names.insert(name.clone()) {
            return Err(kf_error(
                path,
                format!("{at}.name: application '{name}' is listed twice"),
            ));
        }
        let Some(kc) = map_field(m, "kustomizeConfig", path, &format!("{at}."))? else {
            return Err(kf_error(
                path,
                format!("application {name} is missing kustomizeConfig"),
            ));
        };
        let at = format!("{at}.kustomizeConfig.");
        let Some(rr) = map_field(kc, "repoRef", path, &at)? else {
            return Err(kf_error(
                path,
                format!("application {name} is missing {at}repoRef"),
            ));
        };
        let repo = str_field(rr, "name", path, &format!("{at}repoRef."))?;
        let pkg = str_field(rr, "path", path, &format!("{at}repoRef."))?;
        if !stays_inside(&pkg) {
            return Err(kf_error(
                path,
                format!("application {name}: repoRef.path '{pkg}' leaves its repo"),
            ));
        }
        let mut overlays = Vec::new();
        for (j, o) in seq_field(kc, "overlays", path, &at)?.iter().enumerate() {
            match o {
                Value::String(o) if is_plain_component(o) => overlays.push(o.to_string()),
                _ => {
                    return Err(kf_error(
                        path,
                        format!("{at}overlays[{j}]: must be an overlay directory name"),
                    ))
                }
            }
        }
        let mut parameters = Vec::new();
        for (j, p) in seq_field(kc, "parameters", path, &at)?.iter().enumerate() {
            let pat = format!("{at}parameters[{j}]");
            let p = item_map(p, path, &pat)?;
            let pat = format!("{pat}.");
            parameters.push((
                str_field(p, "name", path, &pat)?,
                str_field(p, "value", path, &pat)?,
            ));
        }
        apps.push(Application {
            name,
            repo,
            path: pkg,
            overlays,
            parameters,
        });
    }
    Ok(apps)
}

/// Resolves each repo the applications use to a local directory: an override
/// (`--repo NAME=PATH`) first, else a local `uri` (`file://…` or a path,
/// relative to the KfDef's directory), plus `root` if set. A remote `uri`
/// without an override is an error: rendering is offline.
pub fn resolve_repos(
    kfdef: &KfDef,
    overrides: &[(String, PathBuf)],
) -> Result<BTreeMap<String, PathBuf>, Error> {
    let mut resolved = BTreeMap::new();
    let base = kfdef.path.parent().unwrap_or(Path::new("."));
    for app in &kfdef.applications {
        if resolved.contains_key(&app.repo) {
            continue;
        }
        let repo = kfdef.repos.iter().find(|r| r.name == app.repo);
        let dir = if let Some((_, dir)) = overrides.iter().rev().find(|(n, _)| *n == app.repo) {
            dir.clone()
        } else {
            let Some(repo) = repo else {
                return Err(kf_error(
                    &kfdef.path,
                    format!(
                        "application {} refers to repo '{}', which spec.repos does not list (pass --repo {}=PATH)",
                        app.name, app.repo, app.repo
                    ),
                ));
            };
            local_uri(&repo.uri, base).ok_or_else(|| {
                kf_error(
                    &kfdef.path,
                    format!(
                        "repo '{}' has the remote uri '{}'; rendering is offline: pass --repo {}=PATH to a local copy",
                        repo.name, repo.uri, repo.name
                    ),
                )
            })?
        };
        let dir = match repo {
            Some(r) if !r.root.is_empty() => {
                if !stays_inside(&r.root) {
                    return Err(kf_error(
                        &kfdef.path,
                        format!("repo '{}': root '{}' leaves the repo", r.name, r.root),
                    ));
                }
                dir.join(&r.root)
            }
            _ => dir,
        };
        if !dir.is_dir() {
            return Err(kf_error(
                &kfdef.path,
                format!("repo '{}': {} is not a directory", app.repo, dir.display()),
            ));
        }
        // Resolved through symlinks: packages are checked to stay inside it.
        let dir = dir.canonicalize().map_err(|e| io_error(&dir, &e))?;
        resolved.insert(app.repo.clone(), dir);
    }
    Ok(resolved)
}

/// The local directory a `uri` names, if it is local.
fn local_uri(uri: &str, base: &Path) -> Option<PathBuf> {
    if let Some(rest) = uri.strip_prefix("file://") {
        return Some(base.join(rest));
    }
    if uri.is_empty() || uri.contains("://") || uri.starts_with("git@") {
        return None;
    }
    Some(base.join(uri.strip_prefix("file:").unwrap_or(uri)))
}

/// Writes `out/kustomize/<app>/` for every application, as `kfctl build`
/// does: a copy of the package with the merged `kustomization.yaml`, the
/// parameters written into its `params.env` files and its JSON patches
/// aggregated per target. `out/kustomize` must not exist yet or be empty.
/// Returns the warnings.
pub fn emit(
    kfdef: &KfDef,
    repos: &BTreeMap<String, PathBuf>,
    out: &Path,
) -> Result<Vec<String>, Error> {
    check_packages(kfdef, repos)?;
    let root = out.join("kustomize");
    if let Ok(mut entries) = fs::read_dir(&root) {
        if entries.next().is_some() {
            return Err(kf_error(
                &root,
                "exists and is not empty (kfctl writes a fresh directory)",
            ));
        }
    }
    let existed = root.is_dir();
    fs::create_dir_all(&root).map_err(|e| io_error(&root, &e))?;
    let result = emit_apps(kfdef, repos, &root);
    if result.is_err() {
        // No partial tree: `root` was empty or absent before.
        let _ = fs::remove_dir_all(&root);
        if existed {
            let _ = fs::create_dir(&root);
        }
    }
    result
}

fn emit_apps(
    kfdef: &KfDef,
    repos: &BTreeMap<String, PathBuf>,
    root: &Path,
) -> Result<Vec<String>, Error> {
    let mut warnings = Vec::new();
    for app in &kfdef.applications {
        let Some(repo) = repos.get(&app.repo) else {
            return Err(kf_error(
                &kfdef.path,
                format!("repo '{}' is not resolved", app.repo),
            ));
        };
        let Some(package) = package_dir(kfdef, app, repo)? else {
            return Err(kf_error(
                &kfdef.path,
                format!(
                    "application {}: package {}/{} is missing",
                    app.name, app.repo, app.path
                ),
            ));
        };
        let dir = root.join(&app.name);
        let mut copy = Copy {
            repo,
            files: 0,
            bytes: 0,
            open: Vec::new(),
        };
        copy.tree(&package, &dir)?;
        merge::generate(kfdef, app, &dir, &mut warnings)?;
    }
    Ok(warnings)
}

/// Renders every application in order: [`emit`] into a scratch directory,
/// then [`crate::build`] of each `kustomize/<app>/` with `options`.
pub fn render(
    kfdef: &KfDef,
    repos: &BTreeMap<String, PathBuf>,
    options: &BuildOptions,
) -> Result<Rendered, Error> {
    let scratch = tempfile::Builder::new()
        .prefix("rustomize-kfdef-")
        .tempdir()
        .map_err(|e| io_error(&std::env::temp_dir(), &e))?;
    let warnings = emit(kfdef, repos, scratch.path())?;
    let mut rendered = Rendered {
        apps: Vec::new(),
        warnings,
    };
    for app in &kfdef.applications {
        let dir = scratch.path().join("kustomize").join(&app.name);
        let build = crate::build(&dir, options).map_err(|e| {
            // Name the application and the package, not the scratch copy.
            let text = e.full_message().replace(
                &dir.display().to_string(),
                &format!("{}/{}", app.repo, app.path),
            );
            kf_error(&kfdef.path, format!("application {}: {text}", app.name))
        })?;
        rendered.apps.push(RenderedApp {
            name: app.name.clone(),
            build,
        });
    }
    Ok(rendered)
}

/// Fails with one line naming every package the repos lack.
fn check_packages(kfdef: &KfDef, repos: &BTreeMap<String, PathBuf>) -> Result<(), Error> {
    let mut missing = Vec::new();
    for app in &kfdef.applications {
        match repos.get(&app.repo) {
            Some(repo) => {
                if package_dir(kfdef, app, repo)?.is_none() {
                    missing.push(format!("{} ({}/{})", app.name, app.repo, app.path));
                }
            }
            None => {
                return Err(kf_error(
                    &kfdef.path,
                    format!("repo '{}' is not resolved", app.repo),
                ))
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(kf_error(
            &kfdef.path,
            format!(
                "{} application package(s) missing from the repos: {}",
                missing.len(),
                missing.join(", ")
            ),
        ))
    }
}

/// The package directory of `app` in its (symlink-resolved) `repo`, resolved
/// through symlinks; `None` when it is not a directory. A package that
/// resolves outside the repo is an error: `repoRef.path` must stay in its repo
/// whatever symlinks lie on the way.
fn package_dir(kfdef: &KfDef, app: &Application, repo: &Path) -> Result<Option<PathBuf>, Error> {
    let joined = repo.join(&app.path);
    if !joined.is_dir() {
        return Ok(None);
    }
    let real = joined.canonicalize().map_err(|e| io_error(&joined, &e))?;
    if !real.starts_with(repo) {
        return Err(kf_error(
            &kfdef.path,
            format!(
                "application {}: repoRef.path '{}' resolves through a symlink to {}, outside its repo {}",
                app.name,
                app.path,
                real.display(),
                repo.display()
            ),
        ));
    }
    Ok(Some(real))
}

/// Most files one application's package copy may hold.
const MAX_COPY_FILES: usize = 100_000;
/// Most bytes one application's package copy may hold.
const MAX_COPY_BYTES: u64 = 1 << 30;

/// Copies a package directory for `kfctl build`'s layout. Only directories
/// and regular files are written: a symbolic link is replaced by a copy of
/// what it resolves to, which must lie inside the repo (a link out of it would
/// let the emitted tree read outside files once built without the load
/// restrictor). The copy is bounded like the loader's reads: each file at most
/// the default file size limit, at most [`MAX_COPY_FILES`] files and
/// [`MAX_COPY_BYTES`] bytes. Copies are written with default permissions, so a
/// read-only checkout still gives writable `params.env` files.
struct Copy<'a> {
    /// The symlink-resolved repo root.
    repo: &'a Path,
    files: usize,
    bytes: u64,
    /// Resolved directories being copied (a link to one of them is a loop).
    open: Vec<PathBuf>,
}

impl Copy<'_> {
    fn tree(&mut self, from: &Path, to: &Path) -> Result<(), Error> {
        let real = from.canonicalize().map_err(|e| io_error(from, &e))?;
        if self.open.contains(&real) {
            return Err(kf_error(
                from,
                "symbolic link loop: it leads back to a directory being copied",
            ));
        }
        self.open.push(real);
        fs::create_dir_all(to).map_err(|e| io_error(to, &e))?;
        let mut entries: Vec<_> = fs::read_dir(from)
            .map_err(|e| io_error(from, &e))?
            .collect::<Result<_, _>>()
            .map_err(|e| io_error(from, &e))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            self.entry(&entry.path(), &to.join(entry.file_name()))?;
        }
        self.open.pop();
        Ok(())
    }

    fn entry(&mut self, src: &Path, dst: &Path) -> Result<(), Error> {
        let link = fs::symlink_metadata(src).map_err(|e| io_error(src, &e))?;
        let meta = if link.file_type().is_symlink() {
            let target = src.canonicalize().map_err(|e| {
                kf_error(
                    src,
                    format!(
                        "symbolic link cannot be resolved ({e}); packages are copied without links"
                    ),
                )
            })?;
            if !target.starts_with(self.repo) {
                return Err(kf_error(
                    src,
                    format!(
                        "symbolic link resolves to {}, outside the repo {}",
                        target.display(),
                        self.repo.display()
                    ),
                ));
            }
            fs::metadata(&target).map_err(|e| io_error(src, &e))?
        } else {
            link
        };
        if meta.is_dir() {
            return self.tree(src, dst);
        }
        if !meta.is_file() {
            // Sockets, FIFOs and devices are not package content: skipped.
            return Ok(());
        }
        self.files += 1;
        if self.files > MAX_COPY_FILES {
            return Err(kf_error(
                src,
                format!("package holds more than {MAX_COPY_FILES} files"),
            ));
        }
        let max_bytes = rustomize_yaml::ParseLimits::default().max_bytes;
        let bytes = crate::load::read_regular_file(src, max_bytes)?;
        self.bytes = self.bytes.saturating_add(bytes.len() as u64);
        if self.bytes > MAX_COPY_BYTES {
            return Err(kf_error(
                src,
                format!("package holds more than {MAX_COPY_BYTES} bytes"),
            ));
        }
        fs::write(dst, bytes).map_err(|e| io_error(dst, &e))
    }
}
