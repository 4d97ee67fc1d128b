//! The library's error type: one variant per cause, each rendering as one line that
//! names the file (or directory) involved.
//!
//! An error that wraps another (a [`FileCause`], an I/O error) prints only its
//! own part and gives the cause through [`std::error::Error::source`], so a
//! reporter walking the chain prints each cause once; [`Error::full_message`]
//! joins the chain into the one line the CLI prints.

use std::path::{Path, PathBuf};

/// Why a build failed.
///
/// Each variant names the file (or directory) involved; [`Error::path`],
/// [`Error::resource_id`] and [`Error::file_cause`] give the structured parts
/// without matching on variants. New variants may be added in minor releases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{}", .path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file (or the root directory) cannot be read as the loader requires:
    /// missing, a symlink loop, not a regular file, over the size limit, ...
    /// The cause is the error's [`source`](std::error::Error::source).
    #[error("{}", .path.display())]
    File {
        /// The path as the loader reached it.
        path: PathBuf,
        /// Why it cannot be read.
        #[source]
        cause: FileCause,
    },
    /// A `resources`/`components` entry exists but cannot be resolved (a
    /// symlink loop, a dangling symlink, permission denied, ...). The cause is
    /// the error's [`source`](std::error::Error::source).
    #[error("{}: {field} '{entry}'", .kustomization.display())]
    BadEntry {
        /// The kustomization naming the entry.
        kustomization: PathBuf,
        /// `resource` or `component`: what the entry names.
        field: &'static str,
        /// The entry as written.
        entry: String,
        /// Why it cannot be resolved.
        #[source]
        cause: FileCause,
    },
    /// A YAML file is malformed.
    #[error("{path}: invalid YAML: {message}")]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A kustomization file is invalid (unknown field, wrong type, ...).
    #[error("{path}: invalid Kustomization: {message}")]
    Kustomization {
        /// The kustomization file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A KfDef cannot be rendered: the file is invalid, a repo cannot be
    /// resolved offline, a package or overlay is missing, or a kustomization
    /// holds something kfctl's merge cannot carry (see [`crate::kfdef`]).
    #[error("{}: {message}", .path.display())]
    KfDef {
        /// The KfDef file, or the file of the package at fault.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A Helm chart could not be inflated: Helm is not enabled or not found,
    /// its configuration is invalid, or `helm` failed (its own message follows).
    #[error("{}: helm chart '{chart}': {message}", .path.display())]
    Helm {
        /// The kustomization (or generator configuration) naming the chart.
        path: PathBuf,
        /// The chart's name.
        chart: String,
        /// What went wrong, on one line.
        message: String,
    },
    /// A directory has no kustomization file.
    #[error("unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '{}'", .0.display())]
    MissingKustomization(PathBuf),
    /// A directory has more than one kustomization file.
    #[error("found multiple kustomization files under: {}", .0.display())]
    MultipleKustomizations(PathBuf),
    /// A resource document is not a valid Kubernetes object.
    #[error("{path}: {message}")]
    Resource {
        /// The file the resource came from.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A path escapes the kustomization root while the load restrictor forbids it.
    #[error("security; file '{}'{} is not in or below '{}'", .requested.display(), resolves_to(.requested, .path), .root.display())]
    OutsideRoot {
        /// The path as named (the root joined with the entry as written).
        requested: PathBuf,
        /// The offending path (symlinks resolved).
        path: PathBuf,
        /// The root it had to stay in.
        root: PathBuf,
    },
    /// Kustomizations include each other in a cycle.
    #[error("cycle detected: '{}' includes itself", .0.display())]
    Cycle(PathBuf),
    /// A resource path is neither a file nor a directory.
    #[error("{kustomization}: {field} '{entry}': no such file or directory")]
    MissingResource {
        /// The kustomization naming the entry.
        kustomization: PathBuf,
        /// `resource` or `component`: what the entry names.
        field: &'static str,
        /// The entry as written.
        entry: String,
    },
    /// A file named by a kustomization field (`crds`, `configurations`,
    /// `openapi.path`, a generator's `envs`/`files`, ...) cannot be loaded.
    /// The loader's error, with kustomize's cause text, is the error's
    /// [`source`](std::error::Error::source).
    #[error("{}: {field} '{entry}'", .kustomization.display())]
    InField {
        /// The kustomization (or plugin configuration) naming the file.
        kustomization: PathBuf,
        /// The field, as written in the kustomization (with the generator
        /// where there is one: `configMapGenerator 'app' envs`).
        field: String,
        /// The path as written (shortened when long).
        entry: String,
        /// Why it cannot be loaded.
        #[source]
        source: Box<Error>,
    },
    /// A remote resource (a git repository or an HTTP(S) file) could not be
    /// loaded. The entry is printed with any credentials redacted.
    #[error("{context}: remote '{entry}': {cause}")]
    Remote {
        /// The kustomization naming the entry (or `build` for the build's own
        /// directory argument).
        context: String,
        /// The entry as written, credentials redacted.
        entry: String,
        /// Why it could not be loaded.
        cause: RemoteCause,
    },
    /// Two resources share an id.
    #[error("{path}: may not add resource with an already registered id: {id}")]
    DuplicateId {
        /// The kustomization (or file) whose resources collided.
        path: PathBuf,
        /// The id.
        id: String,
    },
    /// A transformer could not be applied.
    #[error("{path}: {message}")]
    Transform {
        /// The kustomization that configured it.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A resource holds a value JSON cannot hold (kustomize fails the same way).
    #[error("{path}: {id}: json: unsupported value: {value}")]
    UnsupportedValue {
        /// The file the resource came from.
        path: PathBuf,
        /// The resource.
        id: String,
        /// The value (`+Inf`, `-Inf`, `NaN`).
        value: String,
    },
    /// A mapping key holds U+0085 (NEL): kustomize prints each resource through
    /// `json.Marshal`, which leaves a NEL raw, and its YAML reader then takes the
    /// key for a multi-line one and fails.
    #[error("{path}: {id}: key {key:?} holds U+0085 (NEL), which kustomize reads back as a line break and cannot print (yaml: did not find expected ',' or '}}')")]
    NelInKey {
        /// The file the resource came from.
        path: PathBuf,
        /// The resource.
        id: String,
        /// The key, as written.
        key: String,
    },
    /// A plugin that is not builtin was named while external plugins are off
    /// (kustomize's message, and the flag that turns them on).
    #[error("{}: external plugins disabled; unable to load external plugin '{kind}' (enable them with --enable-alpha-plugins)", .path.display())]
    PluginsDisabled {
        /// The file holding the plugin config.
        path: PathBuf,
        /// The config's kind.
        kind: String,
    },
    /// A KRM function of a kind rustomize does not run (container, starlark).
    #[error("{}: {message}", .path.display())]
    UnsupportedFunction {
        /// The file holding the function config.
        path: PathBuf,
        /// Which function, and why it cannot run.
        message: String,
    },
    /// A plugin cannot be found, read or started, or its config is invalid,
    /// or it printed two resources with one id.
    #[error("{}: {message}", .path.display())]
    Plugin {
        /// The file holding the plugin config.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A plugin exited unsuccessfully.
    #[error("{}: plugin '{plugin}' failed ({status}): {stderr}", .path.display())]
    PluginFailed {
        /// The file holding the plugin config.
        path: PathBuf,
        /// The program, as configured.
        plugin: String,
        /// `exit status N`, or the signal that ended it.
        status: String,
        /// The first lines of its standard error, on one line.
        stderr: String,
    },
    /// A plugin ran past its timeout and was killed.
    #[error("{}: plugin '{plugin}' did not finish within {timeout:?} and was killed (ExecOptions::timeout, --exec-timeout)", .path.display())]
    PluginTimeout {
        /// The file holding the plugin config.
        path: PathBuf,
        /// The program, as configured.
        plugin: String,
        /// The timeout.
        timeout: std::time::Duration,
    },
    /// A plugin's output cannot be read as resources (or is too large).
    #[error("{}: plugin '{plugin}' printed invalid output: {message}", .path.display())]
    PluginOutput {
        /// The file holding the plugin config.
        path: PathBuf,
        /// The program, as configured.
        plugin: String,
        /// What is wrong with it.
        message: String,
    },
}

/// Why the loader cannot read a path, as a short phrase (the path itself is
/// printed by the [`Error`] that carries the cause).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileCause {
    /// Nothing exists at the path.
    #[error("no such file or directory")]
    NotFound,
    /// The path is a symlink whose target does not exist.
    #[error("dangling symlink (its target does not exist)")]
    Dangling,
    /// Resolving the path never ends (ELOOP).
    #[error("symlink loop (too many levels of symbolic links)")]
    Loop,
    /// The process may not read it.
    #[error("permission denied")]
    PermissionDenied,
    /// A directory was expected (the build root), or a component of the path is
    /// a file.
    #[error("not a directory")]
    NotADirectory,
    /// The path is a FIFO, a device, a socket or a directory where a regular
    /// file is needed.
    #[error("is a {0}, not a regular file")]
    NotRegular(&'static str),
    /// The file is bigger than the size limit.
    #[error("file is {size} bytes, over the limit of {limit} bytes (limit: --max-file-bytes, ParseLimits::max_bytes)")]
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: usize,
    },
    /// The file grew past the size limit while it was being read.
    #[error("file grew past the limit of {limit} bytes while being read (limit: --max-file-bytes, ParseLimits::max_bytes)")]
    Grew {
        /// The limit in bytes.
        limit: usize,
    },
    /// Reading the file would take the build past its budget of bytes read
    /// in all (every inclusion of a base re-reads its files).
    #[error("reading it takes the build past {limit} bytes read in all, counting files read again for each kustomization that includes them (limit: --max-read-bytes, BuildOptions::max_read_bytes)")]
    ReadBudget {
        /// The budget in bytes.
        limit: usize,
    },
    /// Reading this kustomization would take the build past its budget of
    /// kustomization files read in all.
    #[error("reading it takes the build past {limit} kustomizations read in all, counting each again for every kustomization that includes it (limit: --max-kustomizations, BuildOptions::max_kustomizations)")]
    KustomizationBudget {
        /// The budget.
        limit: usize,
    },
    /// Any other I/O failure, as the OS describes it.
    #[error(transparent)]
    Other(std::io::Error),
}

/// Why a remote resource could not be loaded, as one phrase (see
/// [`crate::remote`]).
#[derive(Clone, Debug, thiserror::Error)]
pub enum RemoteCause {
    /// The caller did not enable remote resources.
    #[error(
        "remote resources are not enabled (RemoteOptions::enabled; the rustomize CLI enables them)"
    )]
    Disabled,
    /// The host is not on the allow-list.
    #[error("host '{0}' is not allowed (--allow-host, RemoteOptions::allowed_hosts)")]
    HostNotAllowed(String),
    /// `git ls-remote` lists no such branch or tag.
    #[error("unknown ref '{git_ref}': no such branch or tag in repository '{repo}'")]
    UnknownRef {
        /// The ref as written.
        git_ref: String,
        /// The repository, credentials redacted.
        repo: String,
    },
    /// `git fetch` found no such ref (a commit the remote does not have).
    #[error("unknown ref: {0}")]
    GitUnknownRef(String),
    /// The remote could not be reached (no such host or repository, refused,
    /// no route), with git's or the HTTP client's message.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The directory named after the repository does not exist in it.
    #[error("directory '{0}' does not exist in the repository")]
    MissingSubdir(String),
    /// The path named after the repository is a file.
    #[error("'{0}' is a file in the repository; expecting a directory")]
    SubdirIsFile(String),
    /// The directory resolves (through a symlink) out of the repository.
    #[error("directory '{0}' resolves outside of the repository")]
    OutsideRepo(String),
    /// A git command or an HTTP request ran past its deadline and was stopped.
    #[error("{what} did not finish within {secs}s (?timeout= in the URL, --remote-timeout, RemoteOptions::timeout)")]
    Timeout {
        /// What was running (`git fetch`, `HTTP GET`).
        what: String,
        /// The deadline in seconds.
        secs: f64,
    },
    /// `--offline` and the cache does not hold what is needed.
    #[error("{what} is not in the cache '{}' and --offline forbids fetching it (build once online to fill the cache)", .cache.display())]
    OfflineMiss {
        /// What was looked up (`ref 'v1'`, `commit ...`, `this URL`).
        what: String,
        /// The cache root.
        cache: PathBuf,
    },
    /// An HTTP(S) file answered with an error status (kustomize's wording).
    #[error("HTTP Error: status code {code} ({reason})")]
    HttpStatus {
        /// The status code.
        code: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// Any other HTTP failure.
    #[error("HTTP: {0}")]
    Http(String),
    /// A download is larger than the file size limit.
    #[error("download is over the limit of {limit} bytes (limit: --max-file-bytes, ParseLimits::max_bytes)")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// There is no `git` program.
    #[error("no 'git' program on PATH (remote bases are fetched with git)")]
    NoGit,
    /// git failed otherwise (its message, credentials redacted).
    #[error("{0}")]
    Git(String),
    /// The cache directory cannot be used.
    #[error("cache: {0}")]
    Cache(String),
    /// A remote kustomization includes a URL that includes it.
    #[error("cycle detected: URI '{0}' referenced by previous URI '{1}'")]
    Cycle(String, String),
}

impl Error {
    /// This error, met loading `entry` (a path the kustomization `kustomization`
    /// names in `field`), as an [`Error::InField`]: the line then says which
    /// file and field named the path, before kustomize's cause.
    pub(crate) fn in_field(
        self,
        kustomization: &Path,
        field: impl Into<String>,
        entry: &str,
    ) -> Error {
        Error::InField {
            kustomization: kustomization.to_path_buf(),
            field: field.into(),
            entry: excerpt(entry, 200),
            source: Box::new(self),
        }
    }

    /// The loader's own error under an [`Error::InField`] (a file named by a
    /// kustomization field that could not be loaded), else this error: what
    /// to match on to ask *why* (an [`Error::OutsideRoot`], an
    /// [`Error::File`]) whatever field named the file.
    pub fn root_cause(&self) -> &Error {
        let mut error = self;
        while let Error::InField { source, .. } = error {
            error = source;
        }
        error
    }

    /// The error and every cause under it on one line, joined by `: ` (what
    /// the CLI prints after `Error: `).
    pub fn full_message(&self) -> String {
        let mut line = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            line.push_str(": ");
            line.push_str(&c.to_string());
            cause = c.source();
        }
        line
    }

    /// The file or directory the error is about: the file read, the
    /// kustomization (or plugin configuration) at fault, or the directory
    /// built. For [`Error::OutsideRoot`], the path as named.
    pub fn path(&self) -> &Path {
        match self {
            Error::Io { path, .. }
            | Error::File { path, .. }
            | Error::Yaml { path, .. }
            | Error::Kustomization { path, .. }
            | Error::KfDef { path, .. }
            | Error::Helm { path, .. }
            | Error::Resource { path, .. }
            | Error::DuplicateId { path, .. }
            | Error::Transform { path, .. }
            | Error::UnsupportedValue { path, .. }
            | Error::NelInKey { path, .. }
            | Error::PluginsDisabled { path, .. }
            | Error::UnsupportedFunction { path, .. }
            | Error::Plugin { path, .. }
            | Error::PluginFailed { path, .. }
            | Error::PluginTimeout { path, .. }
            | Error::PluginOutput { path, .. } => path,
            Error::BadEntry { kustomization, .. }
            | Error::MissingResource { kustomization, .. }
            | Error::InField { kustomization, .. } => kustomization,
            Error::Remote { context, .. } => Path::new(context),
            Error::OutsideRoot { requested, .. } => requested,
            Error::MissingKustomization(dir)
            | Error::MultipleKustomizations(dir)
            | Error::Cycle(dir) => dir,
        }
    }

    /// The id of the resource at fault (as kustomize prints ids:
    /// `Kind.version.group/name.namespace`), where the error is about one.
    pub fn resource_id(&self) -> Option<&str> {
        match self {
            Error::DuplicateId { id, .. }
            | Error::UnsupportedValue { id, .. }
            | Error::NelInKey { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The `resources`/`components` entry (or the path another field names)
    /// at fault, as written in the kustomization, where the error is about one.
    pub fn entry(&self) -> Option<&str> {
        match self {
            Error::BadEntry { entry, .. }
            | Error::MissingResource { entry, .. }
            | Error::InField { entry, .. }
            | Error::Remote { entry, .. } => Some(entry),
            _ => None,
        }
    }

    /// Whether the build failed on one of its read budgets (bytes or
    /// kustomization files read in all).
    pub(crate) fn spent_a_read_budget(&self) -> bool {
        matches!(
            self.file_cause(),
            Some(FileCause::ReadBudget { .. } | FileCause::KustomizationBudget { .. })
        )
    }

    /// Why a file could not be read, where that is the error.
    pub fn file_cause(&self) -> Option<&FileCause> {
        match self {
            Error::File { cause, .. } | Error::BadEntry { cause, .. } => Some(cause),
            Error::InField { source, .. } => source.file_cause(),
            _ => None,
        }
    }
}

impl FileCause {
    /// The cause an I/O error names: a symlink loop (`ELOOP`), a missing
    /// path, no permission, a file where a directory was needed, or the OS's
    /// own description. (A dangling symlink is told apart from a missing path
    /// by the loader, which can look at the link.)
    pub fn from_io(error: std::io::Error) -> FileCause {
        use std::io::ErrorKind;
        #[cfg(unix)]
        if error.raw_os_error() == Some(libc::ELOOP) {
            return FileCause::Loop;
        }
        match error.kind() {
            ErrorKind::NotFound => FileCause::NotFound,
            ErrorKind::PermissionDenied => FileCause::PermissionDenied,
            ErrorKind::NotADirectory => FileCause::NotADirectory,
            _ => FileCause::Other(error),
        }
    }
}

/// ` (resolves to 'P')` when symlinks or `..` made the path differ from the
/// one named, so an escape through a link names both ends.
fn resolves_to(requested: &std::path::Path, resolved: &std::path::Path) -> String {
    if requested == resolved {
        String::new()
    } else {
        format!(" (resolves to '{}')", resolved.display())
    }
}

/// At most `max_chars` characters of `text`, marked when cut, so an error line
/// that echoes input (a patch, a value, a name) stays a few hundred characters.
pub(crate) fn excerpt(text: &str, max_chars: usize) -> String {
    rustomize_yaml::excerpt(text, max_chars).into_owned()
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn excerpt_cuts_on_character_boundaries() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("abcdef", 6), "abcdef");
        assert_eq!(excerpt("abcdef", 3), "abc... (3 more characters)");
        assert_eq!(excerpt("ééé", 1), "é... (2 more characters)");
    }
}
