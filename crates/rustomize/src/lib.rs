//! rustomize: a kustomize-compatible manifest renderer.
#![deny(missing_docs)]

use std::path::Path;

pub use rustomize_yaml::{Map, Value};

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
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// The load restrictor.
    pub load_restrictor: LoadRestrictor,
}

/// The result of a build: resources in output order, and warnings for stderr.
#[derive(Clone, Debug, Default)]
pub struct Build {
    /// Resources in output order.
    pub resources: Vec<Value>,
    /// Warnings kustomize would print on stderr.
    pub warnings: Vec<String>,
}

impl Build {
    /// The YAML that `kustomize build` prints.
    pub fn to_yaml(&self) -> String {
        rustomize_yaml::write_documents(&self.resources)
    }
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Placeholder.
    #[error("{0}")]
    Other(String),
}

/// Builds the kustomization in `dir`.
pub fn build(dir: &Path, options: &BuildOptions) -> Result<Build, Error> {
    let _ = (dir, options);
    Err(Error::Other("not implemented".into()))
}
