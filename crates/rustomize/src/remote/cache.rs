//! The cache of remote bases and downloads, on disk.
//!
//! Layout under the cache root (default: the user's cache directory +
//! `rustomize/`):
//!
//! - `git/<repo>/<commit>/`: the checkout of one commit of one repository.
//!   `<repo>` is a SHA-256 of the repository URL without credentials, so no
//!   secret reaches a path and one repository read with different credentials
//!   shares its entries. A commit's tree never changes, so an entry that
//!   exists is complete and is used as is.
//! - `refs/<hash of repo and ref>`: the commit a branch or tag resolved to on
//!   the last online build, for `--offline` builds.
//! - `http/<hash of URL>`: the body of a plain HTTP(S) file last downloaded.
//! - `tmp/`: work in progress. Every entry is made there and renamed into place
//!   in one step, so several processes may fill the cache at once: a reader
//!   sees a whole entry or none, and when two processes fetch the same commit
//!   the second rename fails harmlessly and its copy is dropped.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::RemoteCause;
use crate::remote::url::without_credentials;

/// An open cache root.
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

/// The default cache root: the user's cache directory (`$XDG_CACHE_HOME`,
/// `~/.cache`, `~/Library/Caches`, `%LOCALAPPDATA%`) + `rustomize`.
pub fn default_root() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("rustomize"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex(&h.finalize())
}

fn cache_error(path: &Path, e: std::io::Error) -> RemoteCause {
    RemoteCause::Cache(format!("{}: {e}", path.display()))
}

impl Cache {
    /// Opens (creating) the cache at `root`, or at [`default_root`].
    pub fn open(root: Option<&Path>) -> Result<Cache, RemoteCause> {
        let root = match root {
            Some(r) => r.to_path_buf(),
            None => default_root().ok_or_else(|| {
                RemoteCause::Cache(
                    "no user cache directory is known here: name one with --cache-dir (RemoteOptions::cache_dir)"
                        .to_owned(),
                )
            })?,
        };
        for sub in ["git", "refs", "http", "tmp"] {
            let dir = root.join(sub);
            std::fs::create_dir_all(&dir).map_err(|e| cache_error(&dir, e))?;
        }
        Ok(Cache { root })
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the checkout of `commit` of the repository `clone_spec` lives.
    pub fn checkout_dir(&self, clone_spec: &str, commit: &str) -> PathBuf {
        self.root
            .join("git")
            .join(
                hash(&[&without_credentials(clone_spec)])
                    .get(..32)
                    .unwrap_or(""),
            )
            .join(commit.to_ascii_lowercase())
    }

    fn ref_file(&self, clone_spec: &str, git_ref: &str) -> PathBuf {
        self.root
            .join("refs")
            .join(hash(&[&without_credentials(clone_spec), git_ref]))
    }

    /// The commit `git_ref` of `clone_spec` resolved to on the last online build.
    pub fn lookup_ref(&self, clone_spec: &str, git_ref: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.ref_file(clone_spec, git_ref)).ok()?;
        let commit = text.trim();
        crate::remote::url::is_commit_hash(commit).then(|| commit.to_owned())
    }

    /// Records what `git_ref` resolved to (best effort: a cache that cannot be
    /// written only costs a later offline build).
    pub fn record_ref(&self, clone_spec: &str, git_ref: &str, commit: &str) {
        let _ = self.write_atomically(
            &self.ref_file(clone_spec, git_ref),
            format!("{commit}\n").as_bytes(),
        );
    }

    /// Where the last download of `url` is kept.
    pub fn http_file(&self, url: &str) -> PathBuf {
        self.root
            .join("http")
            .join(hash(&[&without_credentials(url)]))
    }

    /// Keeps a download (best effort).
    pub fn store_http(&self, url: &str, body: &[u8]) {
        let _ = self.write_atomically(&self.http_file(url), body);
    }

    /// A fresh scratch directory under `tmp/` (removed when dropped).
    pub fn scratch(&self) -> Result<tempfile::TempDir, RemoteCause> {
        let tmp = self.root.join("tmp");
        tempfile::Builder::new()
            .prefix("fetch-")
            .tempdir_in(&tmp)
            .map_err(|e| cache_error(&tmp, e))
    }

    /// Moves a finished scratch directory to `dest` in one rename. When another
    /// process put the same entry there first, its copy stays and ours is dropped.
    pub fn publish(&self, scratch: tempfile::TempDir, dest: &Path) -> Result<(), RemoteCause> {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| cache_error(parent, e))?;
        }
        match std::fs::rename(scratch.path(), dest) {
            Ok(()) => {
                // The directory now lives at `dest`; nothing is left to remove.
                let _ = scratch.keep();
                Ok(())
            }
            Err(_) if dest.is_dir() => Ok(()),
            Err(e) => Err(cache_error(dest, e)),
        }
    }

    fn write_atomically(&self, dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let mut file = tempfile::NamedTempFile::new_in(self.root.join("tmp"))?;
        file.write_all(bytes)?;
        file.persist(dest).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_hold_no_credentials_and_share_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(Some(dir.path())).unwrap();
        let a = cache.checkout_dir("https://user:secret@host/o/r", "ABCDEF");
        let b = cache.checkout_dir("https://host/o/r", "abcdef");
        assert_eq!(a, b);
        assert!(!a.to_string_lossy().contains("secret"));
        cache.record_ref("https://host/o/r", "v1", &"a".repeat(40));
        assert_eq!(
            cache.lookup_ref("https://t@host/o/r", "v1"),
            Some("a".repeat(40))
        );
        assert_eq!(cache.lookup_ref("https://host/o/r", "v2"), None);
    }

    #[test]
    fn second_publish_of_one_entry_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(Some(dir.path())).unwrap();
        let dest = cache.checkout_dir("file:///r", &"b".repeat(40));
        for content in ["first", "second"] {
            let s = cache.scratch().unwrap();
            std::fs::write(s.path().join("f"), content).unwrap();
            cache.publish(s, &dest).unwrap();
        }
        assert_eq!(std::fs::read_to_string(dest.join("f")).unwrap(), "first");
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
