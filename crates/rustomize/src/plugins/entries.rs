//! The entries of `generators:`, `transformers:` and `validators:`: plugin
//! config resources, loaded the way kustomize loads them.
//!
//! An entry that reads as YAML resources is an inline config (kustomize tries
//! this first, so a plain word such as `t.yaml` is a path). Other entries are
//! loaded exactly like `resources` entries: a file of configs, or a
//! kustomization directory that is built and whose output is the list of
//! configs (its own transformers apply to them). All inline configs come
//! before all loaded ones, whatever the order of the entries, as in kustomize.
//!
//! Each config then becomes a typed config ([`super::decode`]) with the origin
//! kustomize records for a custom plugin: `configuredIn` is the file the config
//! came from, `configuredBy` the config's own apiVersion, kind, name and
//! namespace.

use std::path::Path;

use rustomize_yaml::Map;

use super::decode::{decode, DecodeError, Decoded, Identity};
use super::{Configured, Generator, Transformer};
use crate::accumulate::BuildContext;
use crate::buildmeta::Origin;
use crate::error::Error;
use crate::load::kustomization::Kustomization;
use crate::load::Loader;
use crate::resource::Resource;

/// Which field the entries come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `generators:`.
    Generators,
    /// `transformers:`.
    Transformers,
    /// `validators:`.
    Validators,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Generators => "generators",
            Field::Transformers => "transformers",
            Field::Validators => "validators",
        }
    }
}

/// One loaded config resource, before decoding.
struct Loaded {
    config: Map,
    file: std::path::PathBuf,
    origin: Option<Origin>,
}

/// Loads the config resources of `entries` (the kustomization's `field`).
fn load(
    loader: &Loader,
    k: &Kustomization,
    field: Field,
    entries: &[String],
    cx: &mut BuildContext,
) -> Result<Vec<Loaded>, Error> {
    let mut inline = Vec::new();
    let mut paths = Vec::new();
    for entry in entries {
        match crate::accumulate::resources_from_text(&k.path, entry, &cx.limits) {
            Ok(found) => inline.extend(found),
            Err(_) => paths.push(entry.clone()),
        }
    }
    let kustomization_file = cx.origin.as_ref().map(|dir| {
        let mut named = crate::accumulate::configured_in(dir, k);
        named.path = std::mem::take(&mut named.configured_in);
        named
    });
    // Configs are resources to kustomize: two with one id are an error, the
    // inline ones first, then those the entries load.
    let mut all = crate::resmap::ResMap::new();
    for resource in inline {
        all.append(resource, &k.path)?;
    }
    let inline_count = all.len();
    for resource in crate::accumulate::load_entries(loader, k, &paths, cx)? {
        all.append(resource, &k.path)?;
    }
    let mut out = Vec::new();
    for (i, resource) in all.into_resources().into_iter().enumerate() {
        if i < inline_count {
            out.push(loaded(resource, kustomization_file.clone()));
            continue;
        }
        let origin = match cx.origin {
            Some(_) => {
                crate::buildmeta::origin_of(&resource).map_err(|message| Error::Kustomization {
                    path: resource.origin().to_path_buf(),
                    message: format!("{}: {message}", field.name()),
                })?
            }
            None => None,
        };
        out.push(loaded(resource, origin));
    }
    Ok(out)
}

fn loaded(resource: Resource, file_origin: Option<Origin>) -> Loaded {
    let file = resource.origin().to_path_buf();
    let config = match resource.into_value() {
        rustomize_yaml::Value::Map(m) => m,
        _ => Map::default(),
    };
    let origin = file_origin.map(|o| {
        let id = Identity::of(&config);
        Origin {
            configured_in: o.path,
            configured_by: [id.api_version, id.kind, id.name, id.namespace],
            repo: o.repo,
            git_ref: o.git_ref,
            ..Origin::default()
        }
    });
    Loaded {
        config,
        file,
        origin,
    }
}

/// The kustomization directory's base name.
fn dir_name(k: &Kustomization) -> String {
    k.path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn decode_error(file: &Path, config: &Map, e: DecodeError) -> Error {
    let id = Identity::of(config);
    let message = match e {
        DecodeError::Unknown(m) => m,
        // The field decoders are shared with the kustomization file's; here
        // the struct is the plugin's.
        DecodeError::Configure(m) => format!(
            "plugin {} fails configuration: {}",
            id.org_id(),
            m.replace(
                "Go struct field Kustomization.",
                &format!("Go struct field {}Plugin.", id.kind)
            )
        ),
    };
    Error::Plugin {
        path: file.to_path_buf(),
        message,
    }
}

/// The generators of `generators:`, in kustomize's order.
pub fn generators(
    loader: &Loader,
    k: &Kustomization,
    cx: &mut BuildContext,
) -> Result<Vec<Configured<Generator>>, Error> {
    configs(
        loader,
        k,
        Field::Generators,
        cx,
        |decoded, config| match decoded {
            Decoded::Generator(g) => Ok(g),
            Decoded::External => Ok(Generator::External(config)),
            Decoded::Transformer(_) => Err(format!(
                "loading generator plugins: plugin {} not a generator",
                Identity::of(&config).org_id()
            )),
        },
    )
}

/// The transformers of `transformers:` or `validators:`, in kustomize's order.
pub fn transformers(
    loader: &Loader,
    k: &Kustomization,
    field: Field,
    cx: &mut BuildContext,
) -> Result<Vec<Configured<Transformer>>, Error> {
    configs(loader, k, field, cx, |decoded, config| match decoded {
        Decoded::Transformer(t) => Ok(t),
        Decoded::External => Ok(Transformer::External(config)),
        Decoded::Generator(_) => Err(format!(
            "plugin {} not a transformer",
            Identity::of(&config).org_id()
        )),
    })
}

/// The configs of `field`, each decoded and then accepted (or refused, with
/// kustomize's message) by `accept`.
fn configs<C>(
    loader: &Loader,
    k: &Kustomization,
    field: Field,
    cx: &mut BuildContext,
    accept: impl Fn(Decoded, Map) -> Result<C, String>,
) -> Result<Vec<Configured<C>>, Error> {
    let entries = match field {
        Field::Generators => &k.generators,
        Field::Transformers => &k.transformers,
        Field::Validators => &k.validators,
    };
    let mut out = Vec::new();
    for item in load(loader, k, field, entries, cx)? {
        let decoded = decode(&item.config, &dir_name(k))
            .map_err(|e| decode_error(&item.file, &item.config, e))?;
        let config = accept(decoded, item.config).map_err(|message| Error::Plugin {
            path: item.file.clone(),
            message,
        })?;
        out.push(Configured {
            config,
            file: item.file,
            origin: item.origin,
        });
    }
    Ok(out)
}
