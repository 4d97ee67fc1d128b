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
use std::sync::Arc;

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

/// Plugin output as resources, read as kustomize reads resource files: empty
/// documents skipped, `*List` kinds expanded into their items, every object
/// needing a `kind` (and a name, unless it is a list).
fn output_resources(values: Vec<Value>, file: &Path) -> Result<Vec<Resource>, Error> {
    let bad = |message: String| Error::Resource {
        path: file.to_path_buf(),
        message: format!("plugin output: {message}"),
    };
    let origin: Arc<Path> = Arc::from(file);
    let mut queue: std::collections::VecDeque<Value> = values.into();
    let mut out = Vec::new();
    while let Some(value) = queue.pop_front() {
        let map = match value {
            Value::Null | Value::Empty => continue,
            Value::Map(m) if m.is_empty() => continue,
            Value::Map(m) => m,
            other => {
                return Err(bad(format!(
                    "expected a mapping (a Kubernetes object), found a {}",
                    other.type_name()
                )))
            }
        };
        let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind.is_empty() {
            return Err(bad("missing kind in object".to_owned()));
        }
        if kind.ends_with("List") {
            match map.get("items") {
                Some(Value::Seq(items)) => {
                    queue.extend(items.iter().cloned());
                    continue;
                }
                Some(Value::Null) => continue,
                _ => {}
            }
        }
        out.push(Resource::new(map, origin.clone()));
    }
    Ok(out)
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
            self.loader.root(),
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
        let output = crate::exec::generate(
            &Value::Map(config.clone()),
            file,
            self.loader.root(),
            self.options,
        )?;
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
            resource.generator_behavior = options.behavior.unwrap_or_default();
            out.push(resource);
        }
        Ok(out)
    }
}
