//! The `rustomize` command: a thin layer over the library. Parses flags, runs one
//! build, prints the YAML (or writes it to `-o FILE`) and the warnings, or for
//! `images` the build's image references (formatted by [`images`]). Any error
//! goes to stderr as one `Error: ...` line with exit code 1 and nothing on stdout.
//! A reader that closes stdout or stderr early ends the process the way it ends
//! kustomize (see [`die_of_broken_pipe`]), and `-o FILE` never leaves a truncated
//! or half-new file behind (see [`write_output`]).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// The build allocates millions of small nodes, on a deep-stack thread (see
/// `rustomize_yaml::stack`). glibc's malloc serves threads other than main
/// from arenas it grows one `mprotect` call at a time, which doubled the
/// system time of a Kubeflow build; mimalloc has no such cost.
///
/// Built with the `v2` and `no_thp` features (Cargo.toml): mimalloc v3 asks
/// for transparent huge pages on its arenas, so every 2 MiB region it touched
/// was resident whole, and its per-thread pages stayed apart. Measured on the
/// Kubeflow `example` roots (release, medians of 7): peak RSS 64 -> 43 MiB
/// (v1.10.2) and 46 -> 28 MiB (v1.4.1), synthetic 10k 100 -> 63 MiB, for
/// about 10 ms more CPU (4 KiB page faults). The system allocator peaks at
/// about the same RSS but costs 1.5-2x the CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod all;
mod create;
mod edit;
mod images;
mod kustfile;
mod localize;
mod meta;
mod outfile;

#[derive(Parser)]
#[command(
    name = "rustomize",
    version,
    about = "Build Kubernetes manifests from kustomizations, byte-for-byte like kustomize"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a kustomization target from a directory.
    Build(BuildArgs),
    /// Print the roots under --root whose build reads any of the given files
    /// (one a line), for rendering only what a change touches.
    Affected(all::AffectedArgs),
    /// List every image reference a build produces (sorted, unique).
    Images {
        /// Directory containing a kustomization file.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Also find image-like strings in ConfigMap data, env values and arguments.
        #[arg(long)]
        deep: bool,
        /// text: one reference a line; json: each reference with where it is and
        /// whether kustomize's images transformer reaches it; mapping: `SOURCE
        /// DESTINATION` lines (needs --relocate-images or --image-overrides).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        #[command(flatten)]
        load: LoadFlags,
        #[command(flatten)]
        relocation: RelocationFlags,
    },
    /// Render a KfDef (kfdef.apps.kubeflow.org v1alpha1/v1beta1/v1) offline:
    /// every application's package, base and overlays merged by kfctl's rules,
    /// in order, as one stream.
    Kfdef {
        /// The KfDef file.
        file: PathBuf,
        /// Use the local directory PATH for the repo NAME (repeatable); repos
        /// without one need a local `uri`.
        #[arg(long = "repo", value_name = "NAME=PATH", value_parser = parse_repo)]
        repos: Vec<(String, PathBuf)>,
        /// Write the kustomization directories kfctl's build writes
        /// (DIR/kustomize/<app>/) instead of rendering.
        #[arg(long, value_name = "DIR", conflicts_with = "output")]
        emit: Option<PathBuf>,
        /// Write the output to this file instead of stdout.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        #[command(flatten)]
        load: LoadFlags,
        #[command(flatten)]
        relocation: RelocationFlags,
    },
    /// Copy a kustomization and everything it reaches, remote bases and files
    /// included, into DEST, with every remote reference rewritten to its copy
    /// (kustomize's `localize` layout), so DEST builds offline.
    Localize {
        /// Directory containing a kustomization file.
        dir: PathBuf,
        /// The copy (must not exist, or be an empty directory).
        dest: PathBuf,
        /// Directory local files and bases may come from (default: DIR); it
        /// maps to DEST.
        #[arg(long, value_name = "DIR")]
        scope: Option<PathBuf>,
        #[command(flatten)]
        load: LoadFlags,
    },
    /// Edit the kustomization file of the current directory (kustomize's
    /// `edit`), keeping its comments and field order.
    #[command(subcommand)]
    Edit(edit::EditCommand),
    /// Create a kustomization.yaml in the current directory (alias: init).
    #[command(alias = "init")]
    Create(create::CreateArgs),
    /// Print the rustomize version and the kustomize version it matches.
    Version,
    /// Print a shell completion script.
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: meta::Shell,
    },
    /// Print the man page (roff).
    #[command(hide = true)]
    Man,
}

// The flags of `build`, shared by the full command tree and the build-only
// parser of [`parse_build_only`]. (A plain comment: a doc comment here would
// become the subcommand's about text.)
#[derive(clap::Args, Debug)]
struct BuildArgs {
    /// Directory containing a kustomization file.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Write the output to this file instead of stdout, or to an existing
    /// directory as one file per resource (named as kustomize names them).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    #[command(flatten)]
    load: LoadFlags,
    #[command(flatten)]
    relocation: RelocationFlags,
    #[command(flatten)]
    kustomize: KustomizeFlags,
    #[command(flatten)]
    all: all::AllFlags,
}

/// Parses `rustomize build ...` with a command that knows only `build`'s
/// flags: building clap's whole tree (every subcommand, `edit`'s nested ones)
/// was about 40% of the instructions of a start-up. `None` when the first
/// argument is not `build`, or on any error, `--help` or `--version`: the
/// caller then parses with the full [`Cli`], so every message, help text and
/// exit code is the full tree's.
///
/// `rustomize build DIR`, alone or with `-o FILE` (the common cases), is not
/// handed to clap at all: its arguments are [`BuildArgs::plain`]. Running
/// clap's parser the first time in a process (its code and data faulted in)
/// took about 0.3-0.5 ms, 4% of a 1,000-resource build.
fn parse_build_only() -> Option<BuildArgs> {
    use clap::{Args, FromArgMatches};
    let mut args = std::env::args_os().skip(1);
    if args.next()? != "build" {
        return None;
    }
    let rest: Vec<std::ffi::OsString> = args.collect();
    if let Some(plain) = BuildArgs::plain(&rest) {
        return Some(plain);
    }
    let command = BuildArgs::augment_args(clap::Command::new("build").no_binary_name(true));
    let matches = command.try_get_matches_from(rest).ok()?;
    BuildArgs::from_arg_matches(&matches).ok()
}

impl BuildArgs {
    /// The arguments clap gives `build` for `args` (what follows `build`)
    /// when they are no more than a directory and an output file: nothing,
    /// `DIR`, `-o FILE` (or `--output FILE`), `DIR -o FILE` or `-o FILE DIR`,
    /// where `DIR` and `FILE` are non-empty and do not start with `-`. `None`
    /// for anything else. Every other flag has its default value
    /// (`tests::plain_build_args_are_clap_s` checks that they are clap's).
    fn plain(args: &[std::ffi::OsString]) -> Option<BuildArgs> {
        let value = |arg: &std::ffi::OsString| {
            (!arg.is_empty() && !arg.as_encoded_bytes().starts_with(b"-"))
                .then(|| PathBuf::from(arg))
        };
        let is_output = |flag: &std::ffi::OsString| flag == "-o" || flag == "--output";
        let (dir, output) = match args {
            [] => (PathBuf::from("."), None),
            [dir] => (value(dir)?, None),
            [flag, out] if is_output(flag) => (PathBuf::from("."), Some(value(out)?)),
            [dir, flag, out] | [flag, out, dir] if is_output(flag) => {
                (value(dir)?, Some(value(out)?))
            }
            _ => return None,
        };
        let limits = rustomize::ParseLimits::default();
        Some(BuildArgs {
            dir,
            output,
            load: LoadFlags {
                load_restrictor: Restrictor::RootOnly,
                max_file_bytes: limits.max_bytes,
                max_read_bytes: rustomize::DEFAULT_MAX_READ_BYTES,
                max_kustomizations: rustomize::DEFAULT_MAX_KUSTOMIZATIONS,
                max_depth: limits.max_depth,
                max_alias_bytes: limits.max_alias_bytes,
                max_document_bytes: limits.max_document_bytes,
                enable_managedby_label: None,
                enable_helm: false,
                helm_command: PathBuf::from("helm"),
                helm_api_versions: Vec::new(),
                helm_kube_version: String::new(),
                helm_debug: false,
                helm_timeout: rustomize::DEFAULT_HELM_TIMEOUT.as_secs(),
                cache_dir: None,
                offline: false,
                allow_host: Vec::new(),
                remote_timeout: rustomize::remote::url::DEFAULT_GIT_TIMEOUT.as_secs(),
                mirror: Vec::new(),
                mirror_config: None,
            },
            relocation: RelocationFlags {
                relocate_images: None,
                digest_tag: None,
                image_overrides: None,
                relocate_scope: Scope::Transformer,
            },
            kustomize: KustomizeFlags {
                reorder: None,
                enable_alpha_plugins: false,
                enable_exec: false,
                exec_timeout: rustomize::exec::DEFAULT_EXEC_TIMEOUT.as_secs(),
                as_current_user: false,
                env: Vec::new(),
                mount: Vec::new(),
                network: false,
                network_name: None,
            },
            all: all::AllFlags::none(),
        })
    }
}

/// Parses a `--repo NAME=PATH` value.
fn parse_repo(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_owned(), PathBuf::from(path)))
        }
        _ => Err(format!("'{text}': expected NAME=PATH")),
    }
}

#[derive(clap::Args, Debug)]
struct LoadFlags {
    /// Whether files outside a kustomization's root may be loaded.
    #[arg(
        long = "load-restrictor",
        value_enum,
        default_value = "LoadRestrictionsRootOnly"
    )]
    load_restrictor: Restrictor,
    /// Largest file the build may read, in bytes.
    #[arg(long = "max-file-bytes", value_name = "BYTES", help_heading = "Limits",
          default_value_t = rustomize::ParseLimits::default().max_bytes)]
    max_file_bytes: usize,
    /// Most bytes the build may read in all, a file counted again each time a
    /// kustomization includes it.
    #[arg(long = "max-read-bytes", value_name = "BYTES", help_heading = "Limits",
          default_value_t = rustomize::DEFAULT_MAX_READ_BYTES)]
    max_read_bytes: usize,
    /// Most kustomization files the build may read in all, repeats counted.
    #[arg(long = "max-kustomizations", value_name = "N", help_heading = "Limits",
          default_value_t = rustomize::DEFAULT_MAX_KUSTOMIZATIONS)]
    max_kustomizations: usize,
    /// Deepest nesting of collections in one document (kustomize's own limit).
    #[arg(long = "max-depth", value_name = "LEVELS", help_heading = "Limits",
          default_value_t = rustomize::ParseLimits::default().max_depth)]
    max_depth: usize,
    /// Most bytes that anchors and aliases may add to one file.
    #[arg(long = "max-alias-bytes", value_name = "BYTES", help_heading = "Limits",
          default_value_t = rustomize::ParseLimits::default().max_alias_bytes)]
    max_alias_bytes: usize,
    /// Largest size (estimated, in memory) that patches, replacements and vars
    /// may grow one resource to, in bytes.
    #[arg(long = "max-document-bytes", value_name = "BYTES", help_heading = "Limits",
          default_value_t = rustomize::ParseLimits::default().max_document_bytes)]
    max_document_bytes: usize,
    /// Add the label `app.kubernetes.io/managed-by` to every resource
    /// (deprecated in kustomize: list `managedByLabel` under `buildMetadata`).
    #[arg(long = "enable-managedby-label", num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    enable_managedby_label: Option<bool>,
    /// Enable use of the Helm chart inflator generator (`helmCharts`).
    #[arg(long = "enable-helm", help_heading = "Helm", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false")]
    enable_helm: bool,
    /// helm command (path to executable).
    #[arg(
        long = "helm-command",
        value_name = "PATH",
        help_heading = "Helm",
        default_value = "helm"
    )]
    helm_command: PathBuf,
    /// Kubernetes api versions used by Helm for Capabilities.APIVersions
    /// (comma-separated, repeatable).
    #[arg(
        long = "helm-api-versions",
        value_name = "VERSIONS",
        help_heading = "Helm",
        value_delimiter = ','
    )]
    helm_api_versions: Vec<String>,
    /// Kubernetes version used by Helm for Capabilities.KubeVersion.
    #[arg(
        long = "helm-kube-version",
        value_name = "VERSION",
        help_heading = "Helm",
        default_value = ""
    )]
    helm_kube_version: String,
    /// Enable debug output from the Helm chart inflator generator.
    #[arg(long = "helm-debug", help_heading = "Helm", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false")]
    helm_debug: bool,
    /// Longest one helm run may take, in seconds.
    #[arg(long = "helm-timeout", value_name = "SECONDS", help_heading = "Helm",
          default_value_t = rustomize::DEFAULT_HELM_TIMEOUT.as_secs())]
    helm_timeout: u64,
    /// Where fetched remote bases and files are kept (default: the user's
    /// cache directory + rustomize).
    #[arg(long = "cache-dir", value_name = "DIR", help_heading = "Remote")]
    cache_dir: Option<PathBuf>,
    /// Build remote bases and files from the cache only; fail on a miss.
    #[arg(long = "offline", help_heading = "Remote")]
    offline: bool,
    /// Only fetch remote bases and files from this host (repeatable; `file`
    /// admits file:// repositories). Default: any host.
    #[arg(long = "allow-host", value_name = "HOST", help_heading = "Remote")]
    allow_host: Vec<String>,
    /// Longest one git command or HTTP request may take, in seconds (a URL's
    /// ?timeout= overrides it for that repository).
    #[arg(long = "remote-timeout", value_name = "SECONDS", help_heading = "Remote",
          default_value_t = rustomize::remote::url::DEFAULT_GIT_TIMEOUT.as_secs())]
    remote_timeout: u64,
    /// Fetch repositories and files whose URL starts with PREFIX from TARGET
    /// instead: a URL or a local directory (repeatable; any URL form of a
    /// repository matches; see docs/remote.md).
    #[arg(long = "mirror", value_name = "PREFIX=TARGET", help_heading = "Remote")]
    mirror: Vec<String>,
    /// Read mirrors from a YAML file (`mirrors:` mapping PREFIX to TARGET;
    /// relative targets are relative to the file). Flags come first.
    #[arg(long = "mirror-config", value_name = "FILE", help_heading = "Remote")]
    mirror_config: Option<PathBuf>,
}

/// `kubectl kustomize` flags that no other group holds: `--reorder`, the
/// plugin switches (`--enable-alpha-plugins`, and kustomize's `--enable-exec`),
/// and those for container functions, which rustomize does not run: those are
/// accepted so scripts get a clear error instead of a usage error, and given as
/// `false` (or empty) they change nothing, in kustomize too.
#[derive(clap::Args, Debug)]
struct KustomizeFlags {
    /// Output order when the kustomization has no `sortOptions`: `legacy` or
    /// `none` (input order). Deprecated in kustomize.
    #[arg(
        long = "reorder",
        value_name = "legacy|none",
        help_heading = "Kustomize"
    )]
    reorder: Option<String>,
    /// Enable plugins that are not builtin: legacy exec plugins and KRM
    /// functions (see docs/plugins.md).
    #[arg(long = "enable-alpha-plugins", help_heading = "Kustomize", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false")]
    enable_alpha_plugins: bool,
    /// Let KRM functions with `exec:` run (with --enable-alpha-plugins; kustomize's
    /// flag, which kubectl kustomize lacks).
    #[arg(long = "enable-exec", help_heading = "Kustomize", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false")]
    enable_exec: bool,
    /// The longest one plugin run may take before it is killed.
    #[arg(long = "exec-timeout", value_name = "SECONDS", help_heading = "Kustomize",
          default_value_t = rustomize::exec::DEFAULT_EXEC_TIMEOUT.as_secs())]
    exec_timeout: u64,
    /// Run functions in their container as the current user (not supported yet).
    #[arg(long = "as-current-user", help_heading = "Kustomize", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false")]
    as_current_user: bool,
    /// Environment variables for functions (not supported yet).
    #[arg(
        short = 'e',
        long = "env",
        value_name = "VAR",
        help_heading = "Kustomize"
    )]
    env: Vec<String>,
    /// Storage options for functions (not supported yet).
    #[arg(long = "mount", value_name = "OPTIONS", help_heading = "Kustomize")]
    mount: Vec<String>,
    /// Network access for functions that declare it (not supported yet).
    #[arg(long = "network", help_heading = "Kustomize", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false")]
    network: bool,
    /// Docker network to run functions in (not supported yet).
    #[arg(long = "network-name", value_name = "NAME", help_heading = "Kustomize")]
    network_name: Option<String>,
}

/// What kubectl prints when `--reorder` is given at all.
const REORDER_FLAG_DEPRECATED: &str = "Flag --reorder has been deprecated, \
    use the new 'sortOptions' field in kustomization.yaml instead.";

impl KustomizeFlags {
    /// The exec plugin options the flags give; the legacy plugin home is
    /// found as kustomize finds it (left to the library when none exists, so
    /// its error lists the places tried).
    fn exec_options(&self) -> rustomize::exec::ExecOptions {
        rustomize::exec::ExecOptions {
            enable_alpha_plugins: self.enable_alpha_plugins,
            enable_exec: self.enable_exec,
            plugin_home: if self.enable_alpha_plugins {
                rustomize::exec::find_plugin_home().ok()
            } else {
                None
            },
            timeout: std::time::Duration::from_secs(self.exec_timeout),
            ..Default::default()
        }
    }

    /// The `--reorder` order, or the one line saying which flag is given that
    /// rustomize cannot honour (or which value is wrong).
    fn check(&self) -> Result<Option<rustomize::SortOrder>, String> {
        let unsupported = [
            ("--as-current-user", self.as_current_user),
            ("--env", !self.env.is_empty()),
            ("--mount", !self.mount.is_empty()),
            ("--network", self.network),
            ("--network-name", self.network_name.is_some()),
        ];
        if let Some((flag, _)) = unsupported.iter().find(|(_, given)| *given) {
            return Err(format!("{flag} is not supported yet"));
        }
        use rustomize::SortOrder;
        match self.reorder.as_deref() {
            None => Ok(None),
            Some("legacy") => Ok(Some(SortOrder::default_legacy())),
            Some("none") => Ok(Some(SortOrder::Fifo)),
            Some(other) => Err(format!(
                "illegal flag value --reorder {other}; legal values: [legacy none]"
            )),
        }
    }
}

#[derive(clap::Args, Debug)]
struct RelocationFlags {
    /// Rewrite image references to REGISTRY[/PREFIX]/<original host>/<path>,
    /// keeping tag and digest (`nginx` counts as `docker.io/library/nginx`).
    #[arg(long = "relocate-images", value_name = "REGISTRY[/PREFIX]")]
    relocate_images: Option<String>,
    /// Turn references pinned by digest (`name@sha256:...`) into `name:TAG`.
    #[arg(long = "digest-tag", value_name = "TAG")]
    digest_tag: Option<String>,
    /// Per-image overrides: `SOURCE DESTINATION` lines (see docs/images.md).
    #[arg(long = "image-overrides", value_name = "FILE")]
    image_overrides: Option<PathBuf>,
    /// Which references relocation rewrites: those kustomize's images transformer
    /// reaches (the output equals kustomize's with the same `images:` list), also
    /// every other `image:` key, or also image-like strings (deep).
    #[arg(long = "relocate-scope", value_enum, default_value = "transformer")]
    relocate_scope: Scope,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Restrictor {
    #[value(name = "LoadRestrictionsRootOnly")]
    RootOnly,
    #[value(name = "LoadRestrictionsNone")]
    None,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Mapping,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Scope {
    Transformer,
    ImageKeys,
    Deep,
}

impl LoadFlags {
    /// The mirrors of `--mirror` (relative targets from the working
    /// directory) and then of `--mirror-config`.
    fn mirrors(&self) -> Result<Vec<rustomize::remote::mirror::Mirror>, String> {
        use rustomize::remote::mirror;
        let cwd = std::env::current_dir().map_err(|e| format!("working directory: {e}"))?;
        let mut out = self
            .mirror
            .iter()
            .map(|m| mirror::parse_flag(m, &cwd).map_err(|e| format!("--mirror: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(path) = &self.mirror_config {
            let shown = path.display();
            let bytes = rustomize::load::read_regular_file(path, self.max_file_bytes)
                .map_err(|e| e.to_string())?;
            let text = String::from_utf8(bytes).map_err(|_| format!("{shown}: not UTF-8 text"))?;
            let base = std::fs::canonicalize(path)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or(cwd);
            out.extend(mirror::parse_config(&text, &base).map_err(|e| format!("{shown}: {e}"))?);
        }
        Ok(out)
    }

    /// Build options with the restrictor and the limits the flags give.
    fn options(&self) -> Result<rustomize::BuildOptions, String> {
        let load_restrictor = match self.load_restrictor {
            Restrictor::RootOnly => rustomize::LoadRestrictor::RootOnly,
            Restrictor::None => rustomize::LoadRestrictor::None,
        };
        let mut options = rustomize::BuildOptions {
            load_restrictor,
            max_read_bytes: self.max_read_bytes,
            max_kustomizations: self.max_kustomizations,
            ..Default::default()
        };
        options.limits.max_bytes = self.max_file_bytes;
        options.limits.max_depth = self.max_depth;
        options.limits.max_alias_bytes = self.max_alias_bytes;
        options.limits.max_document_bytes = self.max_document_bytes;
        options.managed_by_label = self.enable_managedby_label.unwrap_or(false);
        options.helm = rustomize::HelmOptions {
            enabled: self.enable_helm,
            command: self.helm_command.clone(),
            api_versions: self.helm_api_versions.clone(),
            kube_version: self.helm_kube_version.clone(),
            debug: self.helm_debug,
            timeout: std::time::Duration::from_secs(self.helm_timeout),
        };
        // Remote resources are on in the CLI, as in kustomize.
        options.remote = rustomize::RemoteOptions {
            enabled: true,
            cache_dir: self.cache_dir.clone(),
            offline: self.offline,
            allowed_hosts: (!self.allow_host.is_empty()).then(|| self.allow_host.clone()),
            timeout: std::time::Duration::from_secs(self.remote_timeout.max(1)),
            mirrors: self.mirrors()?,
        };
        Ok(options)
    }
}

impl RelocationFlags {
    /// The relocation the flags ask for, `None` if they ask for none.
    fn relocation(
        &self,
        max_file_bytes: usize,
    ) -> Result<Option<(rustomize::relocate::Relocation, rustomize::inventory::Scope)>, String>
    {
        use rustomize::relocate::{Overrides, Relocation};
        let overrides = match &self.image_overrides {
            None => Overrides::default(),
            Some(path) => {
                // Read as the loader reads files: a regular file within the
                // size limit (a FIFO would hang, /dev/zero never ends).
                let bytes = rustomize::read_regular_file(path, max_file_bytes)
                    .map_err(|e| e.full_message())?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
                Overrides::parse(&text)
                    .map_err(|(line, message)| format!("{}:{line}: {message}", path.display()))?
            }
        };
        let relocation = Relocation::new(
            self.relocate_images.as_deref(),
            self.digest_tag.as_deref(),
            overrides,
        )?;
        if relocation.is_identity() {
            return Ok(None);
        }
        let scope = match self.relocate_scope {
            Scope::Transformer => rustomize::inventory::Scope::Transformer,
            Scope::ImageKeys => rustomize::inventory::Scope::ImageKeys,
            Scope::Deep => rustomize::inventory::Scope::Deep,
        };
        Ok(Some((relocation, scope)))
    }
}

/// Streams the documents to `out` one at a time (the whole output is never held
/// in memory at once), byte-identical to `Build::to_yaml`.
fn write_yaml(build: &rustomize::Build, out: impl Write) -> io::Result<()> {
    build.write_to(io::BufWriter::with_capacity(1 << 16, out))
}

/// Ends the process after a write to stdout or stderr failed because the reader
/// went away (`rustomize build | head -1`).
///
/// kustomize is a Go program: a write to a closed pipe on fd 1 or 2 kills it with
/// SIGPIPE, silently, and a shell reports status 141 (128 + 13) under
/// `set -o pipefail`. The Rust runtime ignores SIGPIPE, so the write fails with
/// `EPIPE` instead. Resetting the handler ourselves needs `unsafe` (forbidden in
/// this workspace), so signal-hook's safe `emulate_default_handler` does it: it
/// restores the default action and raises the signal, and the process dies of
/// SIGPIPE exactly as kustomize does (callers see a signal, not an exit code).
/// Should that ever return, exiting with 141 is the closest a plain exit gets.
fn die_of_broken_pipe() -> ! {
    #[cfg(unix)]
    {
        let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGPIPE);
    }
    std::process::exit(141)
}

/// Writes `text` and a newline to stderr; a closed stderr pipe ends the process
/// like kustomize ([`die_of_broken_pipe`]), any other failure is ignored (there is
/// nowhere left to report it). `eprintln!` would panic instead.
fn to_stderr(text: &str) {
    let mut stderr = io::stderr().lock();
    if let Err(e) = writeln!(stderr, "{text}") {
        if e.kind() == io::ErrorKind::BrokenPipe {
            die_of_broken_pipe();
        }
    }
}

/// Longest error line the CLI prints, `Error: ` included, in characters. Library
/// errors are meant to be one short line already (echoed input is truncated where
/// it is echoed); this is the safety net for a message that slipped through with
/// a whole document in it.
const MAX_ERROR_LINE: usize = 400;
/// How much of the end of an over-long message is kept: the cause is often last.
const ERROR_TAIL_CHARS: usize = 100;
/// Room kept for the `[... N characters cut ...]` marker.
const CUT_MARKER_CHARS: usize = 40;

/// Makes `message` one printable line of at most `max` characters: line breaks
/// and other control characters are escaped (`\n`, `\u{1b}`), so neither a
/// multi-line message nor escape sequences from hostile input reach the terminal,
/// and an over-long message keeps its head and tail around a count of what was cut.
fn one_line(message: &str, max: usize) -> String {
    let escaped: Vec<String> = message
        .trim_end()
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    let length: usize = escaped.iter().map(|s| s.chars().count()).sum();
    if length <= max {
        return escaped.concat();
    }
    // Cut whole escapes only, so `\u{1b}` is never split; counted in characters.
    let head_budget = max.saturating_sub(ERROR_TAIL_CHARS + CUT_MARKER_CHARS);
    let (mut head, mut head_len) = (String::new(), 0);
    let mut parts = escaped.iter();
    for part in parts.by_ref() {
        let n = part.chars().count();
        if head_len + n > head_budget {
            break;
        }
        head.push_str(part);
        head_len += n;
    }
    let (mut tail, mut tail_len) = (Vec::new(), 0);
    for part in escaped.iter().rev() {
        let n = part.chars().count();
        if tail_len + n > ERROR_TAIL_CHARS {
            break;
        }
        tail.push(part.as_str());
        tail_len += n;
    }
    tail.reverse();
    format!(
        "{head} [... {} characters cut ...] {}",
        length - head_len - tail_len,
        tail.concat()
    )
}

/// Prints one `Error: ...` line and returns the failure exit code.
fn fail(message: &str) -> ExitCode {
    const PREFIX: &str = "Error: ";
    to_stderr(&format!(
        "{PREFIX}{}",
        one_line(message, MAX_ERROR_LINE - PREFIX.len())
    ));
    ExitCode::FAILURE
}

/// What an I/O error says, without the temporary file's name that `tempfile`
/// appends to its errors (`... at path "DIR/.rustomize-XXXX.tmp"`): the user
/// named the output file, not our temporary one.
fn cause(e: &io::Error) -> String {
    let text = e.to_string();
    match text.split_once(" at path \"") {
        Some((cause, _)) => cause.to_owned(),
        None => text,
    }
}

/// Writes the build to `-o PATH`.
///
/// A regular file is written to a temporary file in the same directory and
/// renamed over PATH, or left as it is when the output equals it byte for byte
/// ([`outfile::replace`]): a write error or a full disk leaves either the old
/// file or the new one, never a truncated or half-new one (a failed build never
/// gets here, so it leaves the old file untouched too). The new file gets the
/// old one's permissions, or 0666 less the umask for a new file, like
/// kustomize's `os.WriteFile`. Unlike writing in place, replacing gives PATH a
/// new inode: other hard links to the old file keep the old content, and the
/// file belongs to whoever ran the build (a file left as it is keeps all of
/// that).
fn write_output(build: &rustomize::Build, path: &Path) -> Result<(), String> {
    write_resolved(build, outfile::resolve(path)?, path)
}

/// [`write_output`], taking the build: written to a file or stream, its
/// resources are freed as they are written ([`rustomize::Build::write_into`]),
/// for `build --all`, which drops each build once written.
///
/// A build made with `check_printable_on_write` fails here as it would have
/// failed to build, with the build's error (without the path of the output)
/// before any error of the output: a file's temporary file is dropped, and
/// other outputs are checked before anything is written.
fn write_output_taking(build: rustomize::Build, path: &Path) -> Result<(), String> {
    use outfile::Output;
    let output = match outfile::resolve(path) {
        Ok(output) => output,
        Err(e) => {
            build.check_printable().map_err(|e| e.to_string())?;
            return Err(e);
        }
    };
    let Output::File(target, keep) = output else {
        build.check_printable().map_err(|e| e.to_string())?;
        return write_resolved(&build, output, path);
    };
    let mut unprintable = None;
    let written = outfile::replace(&target, keep, path, |file| {
        build
            .write_into(io::BufWriter::with_capacity(1 << 16, file))
            .inspect_err(|e| {
                unprintable = rustomize::Build::unprintable_error(e).map(ToString::to_string);
            })
    });
    match unprintable {
        Some(cause) => Err(cause),
        None => written,
    }
}

/// [`write_output`] to the output `path` resolved to.
fn write_resolved(
    build: &rustomize::Build,
    output: outfile::Output,
    path: &Path,
) -> Result<(), String> {
    use outfile::Output;
    match output {
        Output::Stream(stream) => {
            outfile::write_stream(&stream, path, |file| write_yaml(build, file))
        }
        Output::File(target, keep) => {
            outfile::replace(&target, keep, path, |file| write_yaml(build, file))
        }
        Output::Dir(dir) => {
            for (name, resource) in file_names(build.values()) {
                if name.contains('/') {
                    // kustomize would write outside DIR (or fail): refused.
                    return Err(format!(
                        "{}: {name}: a resource's file name may not contain '/'",
                        path.display()
                    ));
                }
                let file = dir.join(&name);
                let mut doc = String::new();
                rustomize::write_document(resource, &mut doc);
                let write = |out: &mut dyn Write| out.write_all(doc.as_bytes());
                match outfile::resolve(&file)? {
                    Output::Stream(stream) => outfile::write_stream(&stream, &file, write)?,
                    Output::File(target, keep) => outfile::replace(&target, keep, &file, write)?,
                    Output::Dir(_) => {
                        return Err(format!("{}: is a directory", file.display()));
                    }
                }
            }
            Ok(())
        }
    }
}

/// The file each resource goes to under `-o DIR`, in the order kustomize writes
/// them (a later file of the same name replaces an earlier one, as there).
///
/// kustomize names a file `GROUP_VERSION_KIND_NAME.yaml` (empty parts left out,
/// all lowercase). Namespaced resources come first, grouped by namespace (none
/// counts as `default`); when there is more than one namespace each of their
/// names starts with `NAMESPACE_`. Cluster-scoped resources come last, never
/// prefixed.
fn file_names<'a>(
    resources: impl Iterator<Item = &'a rustomize::Value>,
) -> Vec<(String, &'a rustomize::Value)> {
    let text = |v: &rustomize::Value, path: &[&str]| -> String {
        let mut at = Some(v);
        for key in path {
            at = at.and_then(|v| v.get(key));
        }
        at.and_then(rustomize::Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let mut namespaced: Vec<(String, String, &rustomize::Value)> = Vec::new();
    let mut cluster = Vec::new();
    for r in resources {
        let gvk = rustomize::Gvk::from_api_version(&text(r, &["apiVersion"]), &text(r, &["kind"]));
        let name = text(r, &["metadata", "name"]);
        let parts = [
            gvk.group.as_str(),
            gvk.version.as_str(),
            gvk.kind.as_str(),
            &name,
        ];
        let base = parts
            .iter()
            .enumerate()
            .filter(|(i, p)| *i == 3 || !p.is_empty())
            .map(|(_, p)| *p)
            .collect::<Vec<_>>()
            .join("_")
            .to_lowercase();
        if gvk.is_cluster_scoped() {
            cluster.push((format!("{base}.yaml"), r));
        } else {
            let ns = match text(r, &["metadata", "namespace"]) {
                ns if ns.is_empty() => "default".to_owned(),
                ns => ns,
            };
            namespaced.push((ns, base, r));
        }
    }
    let mut namespaces: Vec<&str> = namespaced.iter().map(|(ns, _, _)| ns.as_str()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let prefix = namespaces.len() > 1;
    let mut files: Vec<(String, &rustomize::Value)> = namespaced
        .iter()
        .map(|(ns, base, r)| {
            let name = if prefix {
                format!("{}_{base}.yaml", ns.to_lowercase())
            } else {
                format!("{base}.yaml")
            };
            (name, *r)
        })
        .collect();
    files.extend(cluster);
    files
}

/// What kubectl prints when `--enable-managedby-label` is given at all.
const MANAGEDBY_FLAG_DEPRECATED: &str = "Flag --enable-managedby-label has been deprecated, \
    The flag `enable-managedby-label` has been deprecated. \
    Use the `managedByLabel` option in the `buildMetadata` field instead.";

/// Ends the process with `code` (success or failure) from any thread;
/// stdout's buffer is flushed first, as on a return from `main`.
fn exit_with(code: ExitCode) -> ! {
    std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 })
}

/// Prints a build's warnings, then writes its YAML to `-o PATH` or stdout.
fn print_build(build: rustomize::Build, output: Option<&Path>) -> ExitCode {
    for w in build.warnings() {
        to_stderr(w);
    }
    let written = match output {
        Some(path) => write_output(&build, path),
        None => match write_yaml(&build, io::stdout().lock()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => die_of_broken_pipe(),
            other => other.map_err(|e| format!("stdout: {e}")),
        },
    };
    // The process ends here: leave the resource tree to the OS
    // instead of freeing it node by node.
    std::mem::forget(build);
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn main() -> ExitCode {
    let command = match parse_build_only() {
        Some(args) => Command::Build(args),
        None => match Cli::try_parse() {
            Ok(cli) => cli.command,
            Err(e) => {
                // --help and --version are not errors; bad usage exits 1 like any error.
                let _ = e.print();
                return if e.use_stderr() {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                };
            }
        },
    };
    let load = match &command {
        Command::Build(BuildArgs { load, .. })
        | Command::Kfdef { load, .. }
        | Command::Images { load, .. }
        | Command::Localize { load, .. } => load,
        Command::Affected(args) => &args.load,
        _ => return run_other(command),
    };
    if load.enable_managedby_label.is_some() {
        // kubectl's flag parser says so whenever the flag is given, first.
        to_stderr(MANAGEDBY_FLAG_DEPRECATED);
    }
    match command {
        Command::Build(BuildArgs {
            dir,
            output,
            load,
            relocation,
            kustomize,
            all,
        }) => {
            if kustomize.reorder.is_some() {
                to_stderr(REORDER_FLAG_DEPRECATED);
            }
            let reorder = match kustomize.check() {
                Ok(reorder) => reorder,
                Err(e) => return fail(&e),
            };
            let relocation = match relocation.relocation(load.max_file_bytes) {
                Ok(relocation) => relocation,
                Err(e) => return fail(&e),
            };
            let base = match load.options() {
                Ok(options) => options,
                Err(e) => return fail(&e),
            };
            let options = rustomize::BuildOptions {
                relocation,
                reorder,
                exec: kustomize.exec_options(),
                ..base
            };
            if all.all {
                return all::build_all(&dir, output.as_deref(), options, &all);
            } else if let Err(e) = all.check_without_all() {
                return fail(&e);
            }
            // Written while the build's threads are up (they render the
            // output), from this thread, which ends the process itself:
            // returning would have the allocator take the threads' heaps apart
            // page by page (28 ms after a 100k-resource build) only for the
            // process to exit.
            let output = output.as_deref();
            rustomize::build_then_here(&dir, &options, |built| {
                let code = match built {
                    Ok(build) => print_build(build, output),
                    Err(e) => fail(&e.full_message()),
                };
                exit_with(code)
            })
        }
        Command::Kfdef {
            file,
            repos,
            emit,
            output,
            load,
            relocation,
        } => {
            let relocation = match relocation.relocation(load.max_file_bytes) {
                Ok(relocation) => relocation,
                Err(e) => return fail(&e),
            };
            let kfdef = match rustomize::kfdef::parse_limited(&file, load.max_file_bytes)
                .and_then(|k| rustomize::kfdef::resolve_repos(&k, &repos).map(|r| (k, r)))
            {
                Ok(parsed) => parsed,
                Err(e) => return fail(&e.full_message()),
            };
            let (kfdef, repos) = kfdef;
            if let Some(dir) = emit {
                if relocation.is_some() {
                    return fail(
                        "--emit writes kustomizations, not builds: it takes no relocation flags",
                    );
                }
                return match rustomize::kfdef::emit(&kfdef, &repos, &dir) {
                    Ok(warnings) => {
                        for w in &warnings {
                            to_stderr(w);
                        }
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(&e.full_message()),
                };
            }
            let base = match load.options() {
                Ok(options) => options,
                Err(e) => return fail(&e),
            };
            let options = rustomize::BuildOptions { relocation, ..base };
            match rustomize::kfdef::render(&kfdef, &repos, &options) {
                Ok(rendered) => print_build(rendered.into_build(), output.as_deref()),
                Err(e) => fail(&e.full_message()),
            }
        }
        Command::Affected(args) => all::affected(&args),
        Command::Images {
            dir,
            deep,
            format,
            load,
            relocation,
        } => {
            let relocation = match relocation.relocation(load.max_file_bytes) {
                Ok(relocation) => relocation,
                Err(e) => return fail(&e),
            };
            if format == Format::Mapping && relocation.is_none() {
                return fail(
                    "--format mapping needs --relocate-images, --digest-tag or --image-overrides",
                );
            }
            let base = match load.options() {
                Ok(options) => options,
                Err(e) => return fail(&e),
            };
            let options = base;
            let build = match rustomize::build(&dir, &options) {
                Ok(build) => build,
                Err(e) => return fail(&e.full_message()),
            };
            for w in build.warnings() {
                to_stderr(w);
            }
            let uses = build.images(deep);
            std::mem::forget(build);
            let report = images::report(&uses, format, relocation.as_ref());
            for note in &report.notes {
                to_stderr(note);
            }
            let mut stdout = io::stdout().lock();
            match stdout
                .write_all(report.text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => die_of_broken_pipe(),
                Err(e) => fail(&format!("stdout: {e}")),
            }
        }
        Command::Localize {
            dir,
            dest,
            scope,
            load,
        } => {
            let options = match load.options() {
                Ok(options) => options,
                Err(e) => return fail(&e),
            };
            let session = std::sync::Arc::new(rustomize::remote::Session::new(options.remote));
            let request = localize::Request {
                target: &dir,
                dest: &dest,
                scope: scope.as_deref(),
                session: std::sync::Arc::clone(&session),
                max_bytes: options.limits.max_bytes,
            };
            let result = localize::run(&request);
            for w in session.take_warnings() {
                to_stderr(&w);
            }
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        _ => run_other(command),
    }
}

/// Runs the commands that build nothing: `edit`, `create`, `version`,
/// `completion`, `man` (see [`edit`], [`create`], [`meta`]).
fn run_other(command: Command) -> ExitCode {
    let mut stdout = io::stdout().lock();
    let written = match command {
        Command::Edit(c) => match edit::run(c) {
            Ok(report) => {
                for note in &report.stderr {
                    to_stderr(note);
                }
                report
                    .stdout
                    .iter()
                    .try_for_each(|line| writeln!(stdout, "{line}"))
            }
            Err(e) => return fail(&e),
        },
        Command::Create(args) => match create::run(&args, Path::new(".")) {
            Ok(()) => Ok(()),
            Err(e) => return fail(&e),
        },
        Command::Version => stdout.write_all(meta::version_text().as_bytes()),
        Command::Completion { shell } => {
            meta::completion(shell, <Cli as clap::CommandFactory>::command(), &mut stdout);
            Ok(())
        }
        Command::Man => meta::man(<Cli as clap::CommandFactory>::command(), &mut stdout),
        Command::Build(_)
        | Command::Kfdef { .. }
        | Command::Images { .. }
        | Command::Localize { .. }
        | Command::Affected(_) => Ok(()),
    };
    match written.and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => die_of_broken_pipe(),
        Err(e) => fail(&format!("stdout: {e}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::one_line;

    #[test]
    fn plain_build_args_are_clap_s() {
        use clap::{Args, FromArgMatches};
        for args in [
            &[][..],
            &["some/dir"][..],
            &["."][..],
            &["build"][..],
            &["-o", "out.yaml"][..],
            &["--output", "out.yaml"][..],
            &["some/dir", "-o", "out.yaml"][..],
            &["some/dir", "--output", "o/out.yaml"][..],
            &["-o", "out.yaml", "some/dir"][..],
            &["--output", "out", "."][..],
        ] {
            let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
            let command =
                super::BuildArgs::augment_args(clap::Command::new("build").no_binary_name(true));
            let matches = command.try_get_matches_from(&args).unwrap();
            let clap_s = super::BuildArgs::from_arg_matches(&matches).unwrap();
            let plain = super::BuildArgs::plain(&args).unwrap();
            assert_eq!(format!("{plain:?}"), format!("{clap_s:?}"), "{args:?}");
        }
        for args in [
            &["a", "b"][..],
            &[""][..],
            &["--all"][..],
            &["-o"][..],
            &["-o", ""][..],
            &["-o", "-"][..],
            &["-o", "x", ""][..],
            &["-ox"][..],
            &["--output=x"][..],
            &["a", "-o", "x", "-o", "y"][..],
            &["a", "b", "-o"][..],
            &["-o", "-x", "a"][..],
            &["a", "-x", "b"][..],
        ] {
            let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
            assert!(super::BuildArgs::plain(&args).is_none(), "{args:?}");
        }
    }

    #[test]
    fn short_messages_are_unchanged() {
        assert_eq!(one_line("dir: no such file", 50), "dir: no such file");
    }

    #[test]
    fn line_breaks_and_escapes_are_escaped() {
        assert_eq!(one_line("a\nb\r\u{1b}[31m\n", 50), "a\\nb\\r\\u{1b}[31m");
    }

    #[test]
    fn long_messages_keep_head_and_tail_within_the_limit() {
        let message = format!("file.yaml: {}: the cause", "é".repeat(2000));
        let line = one_line(&message, 393);
        assert!(line.chars().count() <= 393, "{}", line.chars().count());
        assert!(line.starts_with("file.yaml: éé"), "{line}");
        assert!(line.ends_with("éé: the cause"), "{line}");
        assert!(line.contains("characters cut"), "{line}");
    }

    #[test]
    fn escapes_are_never_split() {
        let line = one_line(&"\u{1b}".repeat(500), 393);
        assert!(line.chars().count() <= 393);
        let (head, rest) = line.split_once(" [...").unwrap_or_default();
        assert_eq!(head.len() % 6, 0, "{head}");
        assert!(rest.ends_with("\\u{1b}"), "{rest}");
    }
}
