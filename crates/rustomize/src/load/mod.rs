//! Loading: the file system as kustomize's loader sees it.
//!
//! A [`Loader`] is rooted at one kustomization directory. Files it reads must lie
//! inside that root (after resolving symlinks) unless the load restrictor is lifted;
//! other kustomization directories may lie anywhere, but never at or above a
//! directory already being built (that would be a cycle).

pub mod gojson;
pub mod kustomization;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Error;
use crate::LoadRestrictor;

/// File names a kustomization may have, in kustomize's order of preference.
pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// A loader rooted at one kustomization directory.
#[derive(Clone, Debug)]
pub struct Loader {
    root: PathBuf,
    restrictor: LoadRestrictor,
    /// Roots of the kustomizations that (transitively) include this one.
    ancestors: Arc<Vec<PathBuf>>,
}

/// What a `resources` entry names.
pub enum Entry {
    /// A file, with its resolved path and contents.
    File(PathBuf, String),
    /// A directory holding a kustomization.
    Dir(Loader),
}

impl Loader {
    /// A loader for the top-level kustomization directory.
    pub fn new(dir: &Path, restrictor: LoadRestrictor) -> Result<Loader, Error> {
        let root = canonical(dir)?;
        if !root.is_dir() {
            return Err(Error::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
            });
        }
        Ok(Loader {
            root,
            restrictor,
            ancestors: Arc::new(Vec::new()),
        })
    }

    /// The (symlink-resolved) root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reads the kustomization file of the root; errors if there is none or several.
    pub fn read_kustomization(&self) -> Result<(PathBuf, String), Error> {
        let mut found = None;
        for name in KUSTOMIZATION_FILE_NAMES {
            let path = self.root.join(name);
            if path.is_file() {
                if found.is_some() {
                    return Err(Error::MultipleKustomizations(self.root.clone()));
                }
                found = Some(path);
            }
        }
        let path = found.ok_or_else(|| Error::MissingKustomization(self.root.clone()))?;
        let text = read_text(&path)?;
        Ok((path, text))
    }

    /// Reads a file named relative to the root, honouring the load restrictor.
    pub fn read_file(&self, relative: &str) -> Result<(PathBuf, String), Error> {
        let joined = self.root.join(relative);
        let path = canonical(&joined)?;
        self.check_restriction(&path)?;
        let text = read_text(&path)?;
        Ok((path, text))
    }

    /// Reads a file named relative to the root as bytes (generator sources need
    /// not be UTF-8), honouring the load restrictor.
    pub fn read_bytes(&self, relative: &str) -> Result<(PathBuf, Vec<u8>), Error> {
        let joined = self.root.join(relative);
        let path = canonical(&joined)?;
        self.check_restriction(&path)?;
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        Ok((path, bytes))
    }

    /// Resolves a `resources`/`components` entry: a file, or a kustomization directory.
    pub fn entry(&self, kustomization: &Path, entry: &str) -> Result<Entry, Error> {
        let Some((path, is_dir)) = self.resolve(entry) else {
            if looks_remote(entry) {
                return Err(Error::Remote {
                    kustomization: kustomization.to_path_buf(),
                    entry: entry.to_owned(),
                });
            }
            return Err(Error::MissingResource {
                kustomization: kustomization.to_path_buf(),
                entry: entry.to_owned(),
            });
        };
        if is_dir {
            return self.child(path).map(Entry::Dir);
        }
        self.check_restriction(&path)?;
        let text = read_text(&path)?;
        Ok(Entry::File(path, text))
    }

    /// The symlink-free absolute path of an entry and whether it is a directory
    /// (None if it does not exist). A plain relative path (`a/b.yaml`, no `.`,
    /// `..` or symlinks) is resolved with one `lstat` per component instead of a
    /// full `canonicalize`, which would re-read every component of the root.
    fn resolve(&self, entry: &str) -> Option<(PathBuf, bool)> {
        use std::path::Component;
        let relative = Path::new(entry);
        let plain = !entry.is_empty()
            && relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if plain {
            let mut path = self.root.clone();
            let mut meta = None;
            for component in relative.components() {
                path.push(component);
                match std::fs::symlink_metadata(&path) {
                    Ok(m) if !m.file_type().is_symlink() => meta = Some(m),
                    _ => {
                        meta = None;
                        break;
                    }
                }
            }
            if let Some(m) = meta {
                return Some((path, m.is_dir()));
            }
        }
        let path = self.root.join(entry).canonicalize().ok()?;
        let is_dir = path.is_dir();
        Some((path, is_dir))
    }

    /// A loader for a directory named by a `components` entry.
    pub fn component(&self, kustomization: &Path, entry: &str) -> Result<Loader, Error> {
        match self.entry(kustomization, entry)? {
            Entry::Dir(loader) => Ok(loader),
            Entry::File(path, _) => Err(Error::Kustomization {
                path: kustomization.to_path_buf(),
                message: format!(
                    "component '{entry}' must be a directory, but '{}' is a file",
                    path.display()
                ),
            }),
        }
    }

    fn child(&self, dir: PathBuf) -> Result<Loader, Error> {
        // A directory at or above any directory being built would include itself.
        if self.root.starts_with(&dir) || self.ancestors.iter().any(|a| a.starts_with(&dir)) {
            return Err(Error::Cycle(dir));
        }
        let mut ancestors = Vec::with_capacity(self.ancestors.len() + 1);
        ancestors.extend(self.ancestors.iter().cloned());
        ancestors.push(self.root.clone());
        Ok(Loader {
            root: dir,
            restrictor: self.restrictor,
            ancestors: Arc::new(ancestors),
        })
    }

    fn check_restriction(&self, path: &Path) -> Result<(), Error> {
        if self.restrictor == LoadRestrictor::RootOnly && !path.starts_with(&self.root) {
            return Err(Error::OutsideRoot {
                path: path.to_path_buf(),
                root: self.root.clone(),
            });
        }
        Ok(())
    }
}

fn canonical(path: &Path) -> Result<PathBuf, Error> {
    path.canonicalize().map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // UTF-16 and byte-order marks are read as kustomize reads them.
    rustomize_yaml::decode_text(bytes).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        message: e.message,
    })
}

/// Whether an entry names a remote base (a URL or a git repository).
fn looks_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("git::")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
}
