//! `edit fix`: rewrites deprecated fields as their replacements
//! (kustomize/commands/edit/fix and `Kustomization.FixKustomizationPreMarshalling`):
//! `bases` and `imageTags` on reading (as every edit), then `patchesJson6902`
//! and `patchesStrategicMerge` into `patches`, `commonLabels` into a `labels`
//! entry with `includeSelectors: true`. Like kustomize it builds before and
//! after and warns when the output changed.

use std::path::Path;

use clap::Args;
use rustomize::{Map, Value};

use super::open;
use crate::kustfile::string;

/// Flags of `edit fix`.
#[derive(Args)]
pub struct FixArgs {
    /// Also convert vars to replacements (not supported yet).
    #[arg(long)]
    pub vars: bool,
}

/// What kustomize prints after fixing (without `--vars`).
const FIXED: &str = "\nFixed fields:\n  patchesJson6902 -> patches\n  patchesStrategicMerge -> patches\n  \
commonLabels -> labels\nTo convert vars -> replacements, run the command `kustomize edit fix --vars`\n\
WARNING: Converting vars to replacements will potentially overwrite many resource files \n\
and the resulting files may not produce the same output when `kustomize build` is run. \n\
We recommend doing this in a clean git repository where the change is easy to undo.";

/// The output of a build of `dir`, or its error.
fn build(dir: &Path) -> Result<String, String> {
    rustomize::build(dir, &rustomize::BuildOptions::default())
        .map(|b| b.to_yaml())
        .map_err(|e| e.to_string())
}

/// Runs `edit fix` in `dir`; what it prints for the user comes back as lines
/// for stdout.
pub fn run(args: &FixArgs, dir: &Path) -> Result<Vec<String>, String> {
    if args.vars {
        return Err("--vars (converting vars to replacements) is not supported yet".to_owned());
    }
    let before = build(dir).unwrap_or_default();
    let mut file = open(dir)?;
    let mut patches = file.seq("patches");
    let json6902 = file.seq("patchesJson6902");
    if !json6902.is_empty() {
        patches.extend(json6902);
        file.set("patchesJson6902", Value::Null);
    }
    let strategic = file.strings("patchesStrategicMerge")?;
    if file.get("patchesStrategicMerge").is_some() {
        for entry in strategic {
            // A readable file becomes a path, anything else an inline patch.
            let key = if std::fs::read(dir.join(&entry)).is_ok() {
                "path"
            } else {
                "patch"
            };
            let mut m = Map::default();
            m.insert(key.to_owned(), string(&entry));
            patches.push(Value::Map(m));
        }
        file.set("patchesStrategicMerge", Value::Null);
    }
    file.set("patches", Value::Seq(patches));
    let common = file.string_map("commonLabels")?;
    if !common.is_empty() {
        let mut labels = file.seq("labels");
        for entry in &labels {
            if let Some(Value::Map(pairs)) = entry.get("pairs") {
                if let Some(k) = pairs.keys().find(|k| common.contains_key(*k)) {
                    return Err(format!(
                        "label name '{k}' exists in both commonLabels and labels"
                    ));
                }
            }
        }
        let mut entry = Map::default();
        entry.insert("pairs", Value::Map(common));
        entry.insert("includeSelectors", Value::Bool(true));
        labels.push(Value::Map(entry));
        file.set("labels", Value::Seq(labels));
        file.set("commonLabels", Value::Null);
    }
    let mut out = vec![FIXED.to_owned()];
    file.write()?;
    match build(dir) {
        Err(e) => out.push(format!(
            "Warning: 'Fixed' kustomization now produces the error when running `kustomize build`: {e}"
        )),
        Ok(after) if after != before => out.push(format!(
            "Warning: 'Fixed' kustomization now produces different output when running `kustomize build`:\n...{after}..."
        )),
        Ok(_) => {}
    }
    Ok(out)
}
