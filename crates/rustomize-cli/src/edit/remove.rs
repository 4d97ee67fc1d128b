//! `edit remove`: resource, component, patch, label, annotation, configmap,
//! secret (kustomize/commands/edit/remove).

use std::path::Path;

use clap::Subcommand;
use rustomize::Value;

use super::add::{namespace_equal, PatchArgs};
use super::open;
use crate::kustfile::{string, KustFile};

/// `rustomize edit remove ...`.
#[derive(Subcommand)]
pub enum RemoveCommand {
    /// Remove resources whose path matches one of the glob patterns.
    Resource {
        /// Glob patterns matched against the listed paths.
        #[arg(required = true, value_name = "PATTERN")]
        patterns: Vec<String>,
    },
    /// Remove components whose path matches one of the glob patterns.
    Component {
        /// Glob patterns matched against the listed paths.
        #[arg(required = true, value_name = "PATTERN")]
        patterns: Vec<String>,
    },
    /// Remove the patches equal to the one described.
    Patch(PatchArgs),
    /// Remove labels (`commonLabels`) by key.
    Label {
        /// Do not fail when a key (or the field) is not there.
        #[arg(short = 'i', long = "ignore-non-existence")]
        ignore: bool,
        /// `KEY[,KEY...]`.
        #[arg(value_name = "KEYS")]
        keys: Vec<String>,
    },
    /// Remove annotations (`commonAnnotations`) by key.
    Annotation {
        /// Do not fail when a key (or the field) is not there.
        #[arg(short = 'i', long = "ignore-non-existence")]
        ignore: bool,
        /// `KEY[,KEY...]`.
        #[arg(value_name = "KEYS")]
        keys: Vec<String>,
    },
    /// Remove configMapGenerator entries by name.
    Configmap {
        /// `NAME[,NAME...]`.
        #[arg(value_name = "NAMES")]
        names: Vec<String>,
        /// Namespace of the entries.
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Remove secretGenerator entries by name.
    Secret {
        /// `NAME[,NAME...]`.
        #[arg(value_name = "NAMES")]
        names: Vec<String>,
        /// Namespace of the entries.
        #[arg(long)]
        namespace: Option<String>,
    },
}

/// Keeps the list entries that match none of the patterns (Go's `filepath.Match`).
fn remove_matching(list: Vec<String>, patterns: &[String]) -> Result<(Vec<String>, bool), String> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let compiled = patterns
        .iter()
        .map(|p| glob::Pattern::new(p).map_err(|_| "syntax error in pattern".to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    let before = list.len();
    let kept: Vec<String> = list
        .into_iter()
        .filter(|item| !compiled.iter().any(|p| p.matches_with(item, options)))
        .collect();
    let removed = kept.len() != before;
    Ok((kept, removed))
}

/// Parses the one comma-separated argument of `remove label|annotation`.
fn keys_argument(keys: &[String], kind: &str) -> Result<Vec<String>, String> {
    match keys {
        [] => Err(format!("must specify {kind}")),
        [one] => one
            .split(',')
            .map(|k| {
                if k.is_empty() {
                    Err(format!("invalid {kind}: '' (name is empty)"))
                } else {
                    Ok(k.to_owned())
                }
            })
            .collect(),
        _ => Err(format!("{kind}s must be comma-separated, with no spaces")),
    }
}

/// Removes keys from the string map `field` (kustomize's `removeFromMap`).
fn remove_keys(
    file: &mut KustFile,
    field: &str,
    kind: &str,
    keys: &[String],
    ignore: bool,
) -> Result<(), String> {
    let keys = keys_argument(keys, kind)?;
    if file.get(field).is_none() && !ignore {
        return Err(format!("{field} is not defined in kustomization file"));
    }
    let mut map = file.string_map(field)?;
    for k in &keys {
        if map.shift_remove(k).is_none() && !ignore {
            return Err(format!("{kind} {k} is not defined in kustomization file"));
        }
    }
    file.set(field, Value::Map(map));
    Ok(())
}

/// Removes generator entries by name and namespace (kustomize's
/// `RunRemoveConfigMap`/`RunRemoveSecret`).
fn remove_generators(
    file: &mut KustFile,
    field: &str,
    kind: &str,
    names: &[String],
    namespace: &str,
    notes: &mut Vec<String>,
) -> Result<(), String> {
    let names: Vec<&str> = match names {
        [] => return Err(format!("at least one {kind} name must be specified")),
        [one] => one.split(',').collect(),
        many => {
            return Err(format!(
                "too many arguments: [{}]; to provide multiple {kind}s to remove, please \
                 separate {kind} names by commas",
                many.join(" ")
            ))
        }
    };
    let mut found: Vec<String> = Vec::new();
    let mut kept = Vec::new();
    for entry in file.seq(field) {
        let get = |k: &str| {
            entry
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let name = get("name");
        if names.contains(&name.as_str()) && namespace_equal(&get("namespace"), namespace) {
            found.push(name);
            continue;
        }
        kept.push(entry);
    }
    if found.is_empty() {
        return Err(format!(
            "no specified {kind}(s) were found in the kustomization.yaml file"
        ));
    }
    for name in names {
        if !found.iter().any(|f| f == name) {
            notes.push(format!("{kind} {name} doesn't exist in kustomization file"));
        }
    }
    file.set(field, Value::Seq(kept));
    Ok(())
}

/// Runs `edit remove ...` in `dir`.
pub fn run(command: RemoveCommand, dir: &Path) -> Result<Vec<String>, String> {
    let mut notes = Vec::new();
    let mut file = open(dir)?;
    match command {
        RemoveCommand::Resource { patterns } => {
            let (kept, removed) = remove_matching(file.strings("resources")?, &patterns)?;
            if !removed {
                return Ok(notes);
            }
            file.set(
                "resources",
                Value::Seq(kept.iter().map(|s| string(s)).collect()),
            );
        }
        RemoveCommand::Component { patterns } => {
            let (kept, removed) = remove_matching(file.strings("components")?, &patterns)?;
            if !removed {
                return Ok(notes);
            }
            file.set(
                "components",
                Value::Seq(kept.iter().map(|s| string(s)).collect()),
            );
        }
        RemoveCommand::Patch(args) => {
            if args.path.is_some() && args.patch.is_some() {
                return Err("patch and path can't be set at the same time".to_owned());
            }
            let entry = args.entry();
            let list = file.seq("patches");
            let kept: Vec<Value> = list
                .iter()
                .filter(|p| !p.identical(&entry))
                .cloned()
                .collect();
            if kept.len() == list.len() {
                notes.push(format!(
                    "patch {} doesn't exist in kustomization file",
                    args.patch.unwrap_or_default()
                ));
                return Ok(notes);
            }
            file.set("patches", Value::Seq(kept));
        }
        RemoveCommand::Label { ignore, keys } => {
            remove_keys(&mut file, "commonLabels", "label", &keys, ignore)?
        }
        RemoveCommand::Annotation { ignore, keys } => {
            remove_keys(&mut file, "commonAnnotations", "annotation", &keys, ignore)?
        }
        RemoveCommand::Configmap { names, namespace } => remove_generators(
            &mut file,
            "configMapGenerator",
            "configmap",
            &names,
            namespace.as_deref().unwrap_or(""),
            &mut notes,
        )?,
        RemoveCommand::Secret { names, namespace } => remove_generators(
            &mut file,
            "secretGenerator",
            "secret",
            &names,
            namespace.as_deref().unwrap_or(""),
            &mut notes,
        )?,
    }
    file.write()?;
    Ok(notes)
}
