//! External plugins: configs whose `apiVersion` is not `builtin` (exec plugins
//! and KRM functions). Without `--enable-alpha-plugins` kustomize refuses
//! them, naming the kind; so does rustomize.

use std::path::Path;

use rustomize_yaml::Map;

use super::decode::Identity;
use crate::error::Error;
use crate::load::Loader;
use crate::resmap::ResMap;
use crate::resource::Resource;

/// Runs the external plugins of one kustomization.
pub struct Plugins<'a> {
    _loader: &'a Loader,
}

impl<'a> Plugins<'a> {
    /// External plugins for the kustomization `loader` reads.
    pub fn new(loader: &'a Loader) -> Self {
        Plugins { _loader: loader }
    }

    fn refuse(config: &Map, file: &Path) -> Error {
        Error::Kustomization {
            path: file.to_path_buf(),
            message: format!(
                "external plugins disabled; unable to load external plugin '{}'",
                Identity::of(config).kind
            ),
        }
    }
}

impl crate::transform::External for Plugins<'_> {
    fn transform(&self, config: &Map, file: &Path, _resources: &mut ResMap) -> Result<(), Error> {
        Err(Self::refuse(config, file))
    }
}

impl crate::generate::External for Plugins<'_> {
    fn generate(&self, config: &Map, file: &Path) -> Result<Vec<Resource>, Error> {
        Err(Self::refuse(config, file))
    }
}
