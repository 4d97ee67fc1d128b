//! External plugins: configs whose `apiVersion` is not `builtin` (exec plugins
//! and KRM functions), run by [`crate::exec`] over plain values, their output
//! turned back into the build's resources.
//!
//! A transformer's output keeps each resource's history (previous names,
//! hash-suffix flag, origin) when its id matches an input resource's current
//! id, as kustomize matches them; other output is new. A generator's output is
//! hashed only when it asks (`kustomize.config.k8s.io/needs-hash`) and absorbed
//! with the `behavior` it asks for.

use std::collections::HashMap;
use std::path::Path;

use rustomize_yaml::{Map, Value};

use crate::error::Error;
use crate::exec::ExecOptions;
use crate::load::Loader;
use crate::resmap::ResMap;
use crate::resource::Resource;

/// Runs the external plugins of one kustomization.
pub struct Plugins<'a> {
    loader: &'a Loader,
    options: &'a ExecOptions,
}

impl<'a> Plugins<'a> {
    /// External plugins for the kustomization `loader` reads (its root is the
    /// plugins' working directory).
    pub fn new(loader: &'a Loader, options: &'a ExecOptions) -> Self {
        Plugins { loader, options }
    }

    /// Plugins run in the kustomization's directory and may read files there
    /// themselves: they need it on disk.
    fn check_disk(&self, file: &Path) -> Result<(), Error> {
        if self.loader.on_disk() {
            return Ok(());
        }
        Err(Error::Plugin {
            path: file.to_path_buf(),
            message: "exec plugins need a file system on disk: a plugin runs in the \
                kustomization's directory, and this build reads another FileSystem \
                (such as MemoryFs)"
                .to_owned(),
        })
    }
}

/// Plugin output as resources, read as kustomize reads resource files
/// (`*List` kinds expanded, every object needing a kind and a name).
fn output_resources(values: Vec<Value>, file: &Path) -> Result<Vec<Resource>, Error> {
    crate::accumulate::resources_from_values(file, values)
}

impl crate::transform::External for Plugins<'_> {
    fn transform(&self, config: &Map, file: &Path, resources: &mut ResMap) -> Result<(), Error> {
        self.check_disk(file)?;
        let input: Vec<Value> = resources
            .resources()
            .iter()
            .map(|r| Value::Map(r.object().clone()))
            .collect();
        let output = crate::exec::transform(
            &Value::Map(config.clone()),
            file,
            self.loader,
            input,
            self.options,
        )?;
        let mut by_id: HashMap<String, Resource> = std::mem::take(resources)
            .into_resources()
            .into_iter()
            .map(|r| (r.id().to_string(), r))
            .collect();
        let mut next = ResMap::new();
        for fresh in output_resources(output, file)? {
            let resource = match by_id.remove(&fresh.id().to_string()) {
                Some(mut old) => {
                    old.set_object(fresh.into_object());
                    old
                }
                None => fresh,
            };
            next.append(resource, file)?;
        }
        *resources = next;
        Ok(())
    }
}

impl crate::generate::External for Plugins<'_> {
    fn generate(&self, config: &Map, file: &Path) -> Result<Vec<Resource>, Error> {
        self.check_disk(file)?;
        let output =
            crate::exec::generate(&Value::Map(config.clone()), file, self.loader, self.options)?;
        let mut out = Vec::with_capacity(output.len());
        for mut resource in output_resources(output, file)? {
            let mut value = Value::Map(std::mem::take(resource.object_mut()));
            let options = crate::exec::take_generator_options(&mut value).map_err(|message| {
                Error::Resource {
                    path: file.to_path_buf(),
                    message,
                }
            })?;
            if let Value::Map(object) = value {
                *resource.object_mut() = object;
            }
            resource.needs_hash_suffix = options.needs_hash;
            resource.generator_behavior =
                crate::generate::Behavior::of(&options.behavior.unwrap_or_default());
            out.push(resource);
        }
        Ok(out)
    }
}
