//! Remote resources: git repositories and plain HTTP(S) files named where
//! kustomize accepts a URL, fetched once into a cache.
//!
//! This module owns the network side of a build; the loader
//! ([`crate::load`]) decides *when* an entry is remote and roots a
//! load-restricted [`crate::load::Loader`] in the checkout this module returns.
//!
//! - [`url`]: which strings are remote, parsed as kustomize v5.5.0 parses them;
//! - [`git`]: the system `git`, with a deadline and no prompts;
//! - [`cache`]: checkouts keyed by repository and commit, downloads by URL;
//! - [`mirror`]: URL prefixes read from other URLs or local directories.
//!
//! A git base is resolved to a commit first: a full commit hash as is (no
//! network at all on a cache hit), a branch or tag with one `git ls-remote`
//! (so a moved branch is seen; the clone is skipped when that commit is
//! cached). Offline, branches and tags are read from the ref index the last
//! online build wrote. Remote resources are refused unless
//! [`RemoteOptions::enabled`] is set (the library's default is off; the CLI
//! turns it on, as kustomize has it).

pub mod cache;
pub mod git;
pub mod mirror;
pub mod url;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use crate::error::RemoteCause;
use cache::Cache;
use url::{redact, RepoSpec};

/// How a build may reach remote resources.
#[derive(Clone, Debug)]
pub struct RemoteOptions {
    /// Whether remote resources are loaded at all (default false: a library
    /// build never touches the network unless its caller says so).
    pub enabled: bool,
    /// The cache root (`None`: [`cache::default_root`]).
    pub cache_dir: Option<PathBuf>,
    /// Build from the cache only; a reference not in it fails the build.
    pub offline: bool,
    /// Hosts remote resources may come from (`None`: any). Names compare
    /// without case, port or user; `file` admits `file://` repositories.
    pub allowed_hosts: Option<Vec<String>>,
    /// Longest one git command or HTTP request may take (a URL's `?timeout=`
    /// overrides it for that repository). Default [`url::DEFAULT_GIT_TIMEOUT`],
    /// kustomize's 27 seconds.
    pub timeout: Duration,
    /// Mirrors (see [`mirror`]): repositories and files whose URL starts with
    /// a prefix are fetched from its target instead (longest prefix wins).
    pub mirrors: Vec<mirror::Mirror>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            enabled: false,
            cache_dir: None,
            offline: false,
            allowed_hosts: None,
            timeout: url::DEFAULT_GIT_TIMEOUT,
            mirrors: Vec::new(),
        }
    }
}

/// Most redirects one download follows (Go's HTTP client stops at 10).
const MAX_REDIRECTS: usize = 10;

/// The remote side of one build: options, the cache (opened on first use) and
/// the warnings kustomize would log while fetching.
#[derive(Debug)]
pub struct Session {
    options: RemoteOptions,
    cache: OnceLock<Result<Cache, String>>,
    warnings: Mutex<Vec<String>>,
    /// What the builds of one run fetched, if this build is one of them.
    shared: Option<Arc<SharedFetches>>,
}

/// One result per key, computed once: a second caller waits for the first.
type Once<K, T> = Mutex<HashMap<K, Arc<OnceLock<Result<T, RemoteCause>>>>>;

/// The outcomes of the checkouts and downloads of the builds of one run
/// (`rustomize build --all`), kept through [`crate::cache::RunCache`]: a
/// remote base or file named by many roots is resolved (`git ls-remote`),
/// fetched or downloaded once per run, and a failure (an unreachable host, a
/// timeout) is reported by every root that needs it without being waited for
/// again. Like the run cache it assumes the world does not change during the
/// run, and that every build of the run has the same [`RemoteOptions`].
#[derive(Debug, Default)]
pub struct SharedFetches {
    /// Checkout directories by clone URL, ref, submodules and timeout.
    checkouts: Once<(String, String, bool, Duration), PathBuf>,
    /// Bodies by address and size limit.
    downloads: Once<(String, usize), Vec<u8>>,
}

impl SharedFetches {
    /// The result for `key`, computed by `make` by the first caller.
    fn once<K: std::hash::Hash + Eq, T: Clone>(
        map: &Once<K, T>,
        key: K,
        make: impl FnOnce() -> Result<T, RemoteCause>,
    ) -> Result<T, RemoteCause> {
        let slot = {
            let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(map.entry(key).or_default())
        };
        slot.get_or_init(make).clone()
    }
}

impl Session {
    /// A session with these options; nothing is touched until a remote is used.
    pub fn new(options: RemoteOptions) -> Session {
        Session {
            options,
            cache: OnceLock::new(),
            warnings: Mutex::new(Vec::new()),
            shared: None,
        }
    }

    /// This session, taking checkouts and downloads from `shared` (and
    /// adding its own there) instead of fetching each itself.
    pub fn sharing(mut self, shared: Arc<SharedFetches>) -> Session {
        self.shared = Some(shared);
        self
    }

    /// Whether remote resources may be loaded.
    pub fn enabled(&self) -> bool {
        self.options.enabled
    }

    /// Warnings logged so far (`git::` prefixes), taken out of the session.
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    fn warn(&self, warning: &str) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(warning.to_owned());
        }
    }

    fn cache(&self) -> Result<&Cache, RemoteCause> {
        self.cache
            .get_or_init(|| {
                Cache::open(self.options.cache_dir.as_deref()).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| RemoteCause::Cache(e.clone()))
    }

    fn check_host(&self, host: &str) -> Result<(), RemoteCause> {
        if !self.options.enabled {
            return Err(RemoteCause::Disabled);
        }
        if let Some(allowed) = &self.options.allowed_hosts {
            let ok = allowed.iter().any(|a| a.eq_ignore_ascii_case(host));
            if !ok {
                return Err(RemoteCause::HostNotAllowed(host.to_owned()));
            }
        }
        Ok(())
    }

    /// The checkout of `spec`'s repository at its ref: a directory in the
    /// cache (its root, not the kustomization directory inside it).
    /// A mirror (see [`mirror`]) changes where it is fetched from; the
    /// allow-list is checked against the host actually contacted.
    pub fn checkout(&self, spec: &RepoSpec) -> Result<PathBuf, RemoteCause> {
        let clone = mirror::clone_url(&self.options.mirrors, spec);
        self.check_host(&url::host_of(&clone))?;
        if spec.git_prefix {
            self.warn(url::GIT_PREFIX_WARNING);
        }
        match &self.shared {
            Some(shared) => {
                let key = (
                    clone.clone(),
                    spec.git_ref.clone(),
                    spec.submodules,
                    spec.timeout.unwrap_or(self.options.timeout),
                );
                SharedFetches::once(&shared.checkouts, key, || self.fetch_checkout(spec, &clone))
            }
            None => self.fetch_checkout(spec, &clone),
        }
    }

    /// [`Session::checkout`] once the host is allowed: the ref resolved, and
    /// the commit fetched unless the cache has it.
    fn fetch_checkout(&self, spec: &RepoSpec, clone: &str) -> Result<PathBuf, RemoteCause> {
        let cache = self.cache()?;
        let timeout = spec.timeout.unwrap_or(self.options.timeout);
        let wanted = if spec.git_ref.is_empty() {
            "HEAD"
        } else {
            spec.git_ref.as_str()
        };
        let commit = if spec.ref_is_commit() {
            spec.git_ref.to_ascii_lowercase()
        } else if self.options.offline {
            cache
                .lookup_ref(clone, wanted)
                .ok_or_else(|| offline_miss(cache, &format!("ref '{wanted}'")))?
        } else {
            let commit = resolve_ref(cache, clone, wanted, timeout)?;
            // Even on a hit: an offline build later needs this resolution.
            cache.record_ref(clone, wanted, &commit);
            commit
        };
        let dir = cache.checkout_dir(clone, &commit);
        if dir.is_dir() {
            return Ok(dir);
        }
        if self.options.offline {
            return Err(offline_miss(cache, &format!("commit {commit}")));
        }
        let scratch = cache.scratch()?;
        let fetched = fetch(scratch.path(), clone, wanted, spec.submodules, timeout)?;
        let dir = cache.checkout_dir(clone, &fetched);
        cache.publish(scratch, &dir)?;
        if !spec.ref_is_commit() {
            cache.record_ref(clone, wanted, &fetched);
        }
        Ok(dir)
    }

    /// The body of a plain HTTP(S) file, at most `limit` bytes (from its
    /// mirror when one matches).
    pub fn download(&self, address: &str, limit: usize) -> Result<Vec<u8>, RemoteCause> {
        match &self.shared {
            Some(shared) => {
                let key = (address.to_owned(), limit);
                SharedFetches::once(&shared.downloads, key, || self.fetch_file(address, limit))
            }
            None => self.fetch_file(address, limit),
        }
    }

    /// [`Session::download`] itself.
    fn fetch_file(&self, address: &str, limit: usize) -> Result<Vec<u8>, RemoteCause> {
        let mirrored;
        let address = match mirror::file_source(&self.options.mirrors, address) {
            None => address,
            Some(mirror::FileSource::Url(url)) => {
                mirrored = url;
                mirrored.as_str()
            }
            Some(mirror::FileSource::Path(path)) => {
                if !self.options.enabled {
                    return Err(RemoteCause::Disabled);
                }
                return crate::load::read_regular_file(&path, limit).map_err(|e| {
                    RemoteCause::Unreachable(format!("mirror file: {}", redact(&e.to_string())))
                });
            }
        };
        let mut current = ::url::Url::parse(address)
            .map_err(|e| RemoteCause::Http(format!("invalid URL: {e}")))?;
        self.check_host(&current.host_str().unwrap_or("").to_ascii_lowercase())?;
        let cache = self.cache()?;
        if self.options.offline {
            return match std::fs::read(cache.http_file(address)) {
                Ok(body) if body.len() <= limit => Ok(body),
                Ok(_) => Err(RemoteCause::TooLarge { limit }),
                Err(_) => Err(offline_miss(cache, "this URL")),
            };
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(self.options.timeout)
            .timeout(self.options.timeout)
            .redirects(0)
            .build();
        for _ in 0..=MAX_REDIRECTS {
            let response = match agent.request_url("GET", &current).call() {
                Ok(r) => r,
                Err(ureq::Error::Status(code, r)) => {
                    return Err(RemoteCause::HttpStatus {
                        code,
                        reason: r.status_text().to_owned(),
                    })
                }
                Err(ureq::Error::Transport(t)) => {
                    return Err(transport_cause(&t, self.options.timeout))
                }
            };
            if (300..400).contains(&response.status()) {
                let next = response
                    .header("location")
                    .and_then(|l| current.join(l).ok())
                    .ok_or_else(|| RemoteCause::HttpStatus {
                        code: response.status(),
                        reason: "redirect without a usable Location".to_owned(),
                    })?;
                self.check_host(&next.host_str().unwrap_or("").to_ascii_lowercase())?;
                current = next;
                continue;
            }
            if !(200..300).contains(&response.status()) {
                return Err(RemoteCause::HttpStatus {
                    code: response.status(),
                    reason: response.status_text().to_owned(),
                });
            }
            let mut body = Vec::new();
            response
                .into_reader()
                .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
                .read_to_end(&mut body)
                .map_err(|e| {
                    if e.kind() == std::io::ErrorKind::TimedOut {
                        RemoteCause::Timeout {
                            what: "HTTP GET".to_owned(),
                            secs: self.options.timeout.as_secs_f64(),
                        }
                    } else {
                        RemoteCause::Http(redact(&e.to_string()))
                    }
                })?;
            if body.len() > limit {
                return Err(RemoteCause::TooLarge { limit });
            }
            cache.store_http(address, &body);
            return Ok(body);
        }
        Err(RemoteCause::Http(format!(
            "stopped after {MAX_REDIRECTS} redirects"
        )))
    }
}

fn offline_miss(cache: &Cache, what: &str) -> RemoteCause {
    RemoteCause::OfflineMiss {
        what: what.to_owned(),
        cache: cache.root().to_path_buf(),
    }
}

fn transport_cause(t: &ureq::Transport, timeout: Duration) -> RemoteCause {
    let text = t.to_string();
    let timed_out = text.to_ascii_lowercase().contains("timed out")
        || text.to_ascii_lowercase().contains("timeout");
    if timed_out {
        return RemoteCause::Timeout {
            what: "HTTP GET".to_owned(),
            secs: timeout.as_secs_f64(),
        };
    }
    RemoteCause::Unreachable(crate::error::excerpt(&redact(&text), 300))
}

/// The commit `wanted` names in the repository, by `git ls-remote`, looked up
/// the way `git fetch` reads a short ref (`refs/`, `refs/tags/`, `refs/heads/`,
/// `refs/remotes/`), an annotated tag peeled to its commit.
fn resolve_ref(
    cache: &Cache,
    clone: &str,
    wanted: &str,
    timeout: Duration,
) -> Result<String, RemoteCause> {
    let out = git::run(cache.root(), &["ls-remote", "--", clone], timeout)?;
    let refs: Vec<(&str, &str)> = out
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(sha, name)| (sha.trim(), name.trim()))
        .collect();
    let find = |name: &str| {
        let peeled = format!("{name}^{{}}");
        refs.iter()
            .find(|(_, n)| *n == peeled)
            .or_else(|| refs.iter().find(|(_, n)| *n == name))
            .map(|(sha, _)| sha.to_ascii_lowercase())
    };
    let candidates = [
        wanted.to_owned(),
        format!("refs/{wanted}"),
        format!("refs/tags/{wanted}"),
        format!("refs/heads/{wanted}"),
        format!("refs/remotes/{wanted}"),
        format!("refs/remotes/{wanted}/HEAD"),
    ];
    candidates
        .iter()
        .find_map(|c| find(c))
        .filter(|sha| url::is_commit_hash(sha))
        .ok_or_else(|| RemoteCause::UnknownRef {
            git_ref: wanted.to_owned(),
            repo: redact(clone),
        })
}

/// Fetches `wanted` (a ref or a commit) of `clone` into the empty directory
/// `dir` as kustomize does (`init`, `fetch --depth=1`, `checkout FETCH_HEAD`,
/// submodules), and returns the commit checked out. A dumb-HTTP remote cannot
/// serve a shallow fetch; it is fetched whole (kustomize fails there).
fn fetch(
    dir: &Path,
    clone: &str,
    wanted: &str,
    submodules: bool,
    timeout: Duration,
) -> Result<String, RemoteCause> {
    git::run(dir, &["init", "-q"], timeout)?;
    let shallow = git::run(
        dir,
        &["fetch", "-q", "--depth=1", "--", clone, wanted],
        timeout,
    );
    match shallow {
        Err(RemoteCause::Git(m)) if m.contains("shallow") => {
            git::run(dir, &["fetch", "-q", "--", clone, wanted], timeout)?;
        }
        other => {
            other?;
        }
    }
    git::run(dir, &["checkout", "-q", "FETCH_HEAD"], timeout)?;
    if submodules {
        git::run(
            dir,
            &["submodule", "update", "-q", "--init", "--recursive"],
            timeout,
        )?;
    }
    let head = git::run(dir, &["rev-parse", "HEAD"], timeout)?;
    let head = head.trim().to_ascii_lowercase();
    if !url::is_commit_hash(&head) {
        return Err(RemoteCause::Git(format!(
            "git rev-parse HEAD printed '{}'",
            crate::error::excerpt(&head, 80)
        )));
    }
    Ok(head)
}
