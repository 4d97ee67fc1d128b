//! `edit set`: image, namespace, nameprefix, namesuffix, label, annotation,
//! replicas (kustomize/commands/edit/set).

use std::collections::BTreeMap;
use std::path::Path;

use clap::Subcommand;
use rustomize::{Map, Value};

use super::{key_values, open};
use crate::kustfile::{string, struct_of};

/// `rustomize edit set ...`.
#[derive(Subcommand)]
pub enum SetCommand {
    /// Set images and their new names, new tags or digests
    /// (`name=newName:tag`, `name=newName@digest`, `name:tag`, `name@digest`,
    /// `name=newName`; `*` keeps the value the file has).
    Image {
        /// Images to set.
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<String>,
    },
    /// Set the namespace.
    Namespace {
        /// The namespace.
        namespace: String,
    },
    /// Set the name prefix.
    Nameprefix {
        /// The prefix.
        #[arg(allow_hyphen_values = true)]
        prefix: String,
    },
    /// Set the name suffix.
    Namesuffix {
        /// The suffix.
        #[arg(allow_hyphen_values = true)]
        suffix: String,
    },
    /// Set labels (`commonLabels`), replacing values of keys already there.
    Label {
        /// `key:value` pairs.
        #[arg(required = true, value_name = "KEY:VALUE")]
        labels: Vec<String>,
    },
    /// Set annotations (`commonAnnotations`), replacing values of keys already there.
    Annotation {
        /// `key:value` pairs.
        #[arg(required = true, value_name = "KEY:VALUE")]
        annotations: Vec<String>,
    },
    /// Set replica counts (`name=count`).
    Replicas {
        /// `name=count` pairs.
        #[arg(required = true, value_name = "NAME=COUNT")]
        replicas: Vec<String>,
    },
}

/// kustomize's message for an image argument of no known form.
const IMAGE_FORMS: &str = "invalid format of image, use one of the following options: \
    <image>=<newimage>:<newtag>, <image>=<newimage>@<digest>, \
    <image>=<newimage>:<newtag>@<digest>, <image>=<newimage>, <image>:<newtag>, \
    <image>:<newtag>@<digest>, <image>@<digest>";

/// What `*` stands for in an image argument: keep the file's value.
const PRESERVE: &str = "*";

/// One `images:` entry (`types.Image`).
#[derive(Clone, Default, PartialEq, Debug)]
pub struct Image {
    name: String,
    new_name: String,
    tag_suffix: String,
    new_tag: String,
    digest: String,
}

impl Image {
    fn from_value(value: &Value) -> Image {
        let field = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        Image {
            name: field("name"),
            new_name: field("newName"),
            tag_suffix: field("tagSuffix"),
            new_tag: field("newTag"),
            digest: field("digest"),
        }
    }

    fn to_value(&self) -> Value {
        struct_of([
            ("name", self.name.as_str()),
            ("newName", &self.new_name),
            ("tagSuffix", &self.tag_suffix),
            ("newTag", &self.new_tag),
            ("digest", &self.digest),
        ])
    }
}

/// Splits an image reference into name, tag and digest (kustomize's
/// `image.Split`): `:` and `@` are looked for after the first `/`, so a
/// registry port is part of the name.
pub fn split_image(reference: &str) -> (&str, &str, &str) {
    let offset = match reference.find('/') {
        Some(i) if i > 0 => i,
        _ => 0,
    };
    let search = reference.get(offset..).unwrap_or("");
    let at = search.find('@').map(|i| i + offset);
    let colon = search.find(':').map(|i| i + offset);
    let part = |a: usize, b: usize| reference.get(a..b).unwrap_or("");
    match (colon, at) {
        (None, None) => (reference, "", ""),
        (c, Some(d)) if c.is_none_or(|c| d < c) => (part(0, d), "", part(d + 1, reference.len())),
        (Some(c), Some(d)) => (part(0, c), part(c + 1, d), part(d + 1, reference.len())),
        (Some(c), None) => (part(0, c), part(c + 1, reference.len()), ""),
        (None, Some(_)) => (reference, "", ""),
    }
}

/// Parses one `edit set image` argument (kustomize's `parse`).
pub fn parse_image(arg: &str) -> Result<Image, String> {
    let (key, value) = match arg.split_once('=') {
        Some((k, v)) => (Some(k), v),
        None => (None, arg),
    };
    let (name, tag, digest) = split_image(value);
    if name == arg {
        return Err(IMAGE_FORMS.to_owned());
    }
    let mut image = Image {
        new_tag: tag.to_owned(),
        digest: digest.to_owned(),
        ..Image::default()
    };
    match key {
        None => image.name = name.to_owned(),
        Some(key) => {
            image.name = key.to_owned();
            image.new_name = name.to_owned();
        }
    }
    Ok(image)
}

/// Merges image arguments into the file's images (kustomize's `RunSetImage`):
/// an argument replaces the entry of the same name, `*` keeps that entry's
/// value (or leaves the field empty when there is none), and the list comes
/// out sorted by name.
pub fn merge_images(existing: &[Image], args: &[Image]) -> Vec<Image> {
    let mut by_name: BTreeMap<String, Image> = BTreeMap::new();
    for a in args {
        by_name.insert(a.name.clone(), a.clone());
    }
    let given: Vec<String> = by_name.keys().cloned().collect();
    for old in existing {
        if given.contains(&old.name) {
            if let Some(arg) = by_name.get_mut(&old.name) {
                if arg.new_name == PRESERVE {
                    arg.new_name.clone_from(&old.new_name);
                }
                if arg.new_tag == PRESERVE {
                    arg.new_tag.clone_from(&old.new_tag);
                }
                if arg.digest == PRESERVE {
                    arg.digest.clone_from(&old.digest);
                }
            }
            continue;
        }
        by_name.insert(old.name.clone(), old.clone());
    }
    by_name
        .into_values()
        .map(|mut image| {
            for field in [&mut image.new_name, &mut image.new_tag, &mut image.digest] {
                if field == PRESERVE {
                    field.clear();
                }
            }
            image
        })
        .collect()
}

/// Checks a namespace as Kubernetes' `ValidateNamespaceName` (a DNS-1123 label).
fn check_namespace(ns: &str) -> Result<(), String> {
    let ok = !ns.is_empty()
        && ns.len() <= 63
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{ns}\" is not a valid namespace name: a lowercase RFC 1123 label must consist of \
             lower case alphanumeric characters or '-', and must start and end with an \
             alphanumeric character"
        ))
    }
}

/// Adds `pairs` to the string map `field`, replacing values of existing keys.
fn set_map(
    file: &mut crate::kustfile::KustFile,
    field: &str,
    pairs: &[(String, String)],
) -> Result<(), String> {
    let mut map: Map = file.string_map(field)?;
    for (k, v) in pairs {
        map.insert(k.clone(), string(v));
    }
    file.set(field, Value::Map(map));
    Ok(())
}

/// Runs `edit set ...` in `dir`.
pub fn run(command: SetCommand, dir: &Path) -> Result<Vec<String>, String> {
    match &command {
        SetCommand::Namespace { namespace } => check_namespace(namespace)?,
        SetCommand::Image { images } => {
            for arg in images {
                parse_image(arg)?;
            }
        }
        _ => {}
    }
    let mut file = open(dir)?;
    match command {
        SetCommand::Image { images } => {
            let args = images
                .iter()
                .map(|a| parse_image(a))
                .collect::<Result<Vec<_>, _>>()?;
            let existing: Vec<Image> = file.seq("images").iter().map(Image::from_value).collect();
            let merged = merge_images(&existing, &args);
            file.set(
                "images",
                Value::Seq(merged.iter().map(Image::to_value).collect()),
            );
        }
        SetCommand::Namespace { namespace } => file.set("namespace", string(&namespace)),
        SetCommand::Nameprefix { prefix } => file.set("namePrefix", string(&prefix)),
        SetCommand::Namesuffix { suffix } => file.set("nameSuffix", string(&suffix)),
        SetCommand::Label { labels } => {
            set_map(&mut file, "commonLabels", &key_values(&labels, "label")?)?
        }
        SetCommand::Annotation { annotations } => {
            let pairs = key_values(&annotations, "annotation")?;
            set_map(&mut file, "commonAnnotations", &pairs)?
        }
        SetCommand::Replicas { replicas } => {
            let mut by_name: BTreeMap<String, Value> = BTreeMap::new();
            for arg in &replicas {
                let invalid = || {
                    "invalid format of replica, use the following format: <name>=<count>".to_owned()
                };
                let parts: Vec<&str> = arg.split('=').collect();
                let [name, count] = parts.as_slice() else {
                    return Err(invalid());
                };
                let count: i64 = count.parse().map_err(|_| invalid())?;
                let mut entry = Map::default();
                if !name.is_empty() {
                    entry.insert("name", string(name));
                }
                entry.insert("count", Value::Int(count));
                by_name.insert((*name).to_owned(), Value::Map(entry));
            }
            for old in file.seq("replicas") {
                let name = old
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                by_name.entry(name).or_insert(old);
            }
            file.set("replicas", Value::Seq(by_name.into_values().collect()));
        }
    }
    file.write()?;
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_after_the_registry() {
        assert_eq!(split_image("nginx"), ("nginx", "", ""));
        assert_eq!(split_image("nginx:1.2"), ("nginx", "1.2", ""));
        assert_eq!(split_image("host:5000/app"), ("host:5000/app", "", ""));
        assert_eq!(split_image("host:5000/app:1"), ("host:5000/app", "1", ""));
        assert_eq!(split_image("a@sha256:x"), ("a", "", "sha256:x"));
        assert_eq!(split_image("a:t@sha256:x"), ("a", "t", "sha256:x"));
    }

    #[test]
    fn image_arguments_of_every_form() {
        let p = |s: &str| parse_image(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p("app=reg/app:1.2.3").new_name, "reg/app");
        assert_eq!(p("app=reg/app:1.2.3").new_tag, "1.2.3");
        assert_eq!(p("app=reg/app@sha256:x").digest, "sha256:x");
        assert_eq!(p("app:1").name, "app");
        assert_eq!(p("app=*:2").new_name, "*");
        assert!(parse_image("app").is_err());
    }
}
