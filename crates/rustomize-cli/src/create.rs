//! `rustomize create`: writes a new kustomization.yaml in the current directory
//! as kustomize's `create` (kustomize/commands/create) does, optionally listing
//! the resources it detects there.

use std::fs;
use std::path::Path;

use clap::Args;
use rustomize::{Map, ParseLimits, Value};

use crate::edit::{glob, key_values, looks_remote};
use crate::kustfile::{self, string, KustFile};

/// Flags of `create`.
#[derive(Args)]
pub struct CreateArgs {
    /// Files or directories to list as resources (comma-separated, glob patterns).
    #[arg(long, default_value = "")]
    resources: String,
    /// The namespace field.
    #[arg(long, default_value = "")]
    namespace: String,
    /// Common annotations (`key:value`, comma-separated).
    #[arg(long, default_value = "")]
    annotations: String,
    /// Common labels (`key:value`, comma-separated).
    #[arg(long, default_value = "")]
    labels: String,
    /// The namePrefix field.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    nameprefix: String,
    /// The nameSuffix field.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    namesuffix: String,
    /// List the Kubernetes resource files found in the current directory.
    #[arg(long)]
    autodetect: bool,
    /// With --autodetect: also search subdirectories (a directory with a
    /// kustomization is listed as itself).
    #[arg(long)]
    recursive: bool,
}

/// Most directory entries --autodetect looks at: a bound for huge trees.
const MAX_DETECT_ENTRIES: usize = 100_000;
/// Deepest directory --autodetect --recursive descends.
const MAX_DETECT_DEPTH: usize = 64;

/// Whether a file holds Kubernetes resources (documents with a `kind`).
fn is_resource_file(path: &Path) -> bool {
    let limits = ParseLimits::default();
    let Ok(bytes) = kustfile::read_bounded(path, limits.max_bytes) else {
        return false;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return false;
    };
    let Ok(docs) = rustomize::parse_documents(&text, &limits) else {
        return false;
    };
    docs.iter().filter(|d| !d.is_null()).all(|d| {
        d.get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| !k.is_empty())
    })
}

/// Walks `dir` in lexical order as kustomize's `detectResources`.
fn detect(
    root: &Path,
    rel: &str,
    recursive: bool,
    depth: usize,
    seen: &mut usize,
    out: &mut Vec<String>,
) -> Result<(), String> {
    let dir = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    for name in names {
        *seen += 1;
        if *seen > MAX_DETECT_ENTRIES {
            return Err(format!(
                "--autodetect: more than {MAX_DETECT_ENTRIES} entries"
            ));
        }
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let full = root.join(&path);
        let Ok(meta) = fs::symlink_metadata(&full) else {
            continue;
        };
        if meta.is_dir() {
            if !recursive || depth >= MAX_DETECT_DEPTH {
                continue;
            }
            if kustfile::FILE_NAMES.iter().any(|k| full.join(k).exists()) {
                out.push(path);
                continue;
            }
            detect(root, &path, recursive, depth + 1, seen, out)?;
        } else if meta.is_file() && is_resource_file(&full) {
            out.push(path);
        }
    }
    Ok(())
}

/// Runs `create` in `dir`.
pub fn run(args: &CreateArgs, dir: &Path) -> Result<(), String> {
    let mut resources = Vec::new();
    if !args.resources.is_empty() {
        for pattern in args.resources.split(',') {
            let matched = glob(dir, pattern)?;
            if !matched.is_empty() {
                resources.extend(matched);
            } else if looks_remote(pattern) {
                resources.push(pattern.to_owned());
            } else {
                return Err(format!("{pattern} has no match: must build at directory: not a valid directory: '{pattern}' doesn't exist"));
            }
        }
    }
    if kustfile::find(dir).is_ok() {
        return Err("kustomization file already exists".to_owned());
    }
    if args.autodetect {
        let mut detected = Vec::new();
        detect(dir, "", args.recursive, 0, &mut 0, &mut detected)?;
        for r in detected {
            if !resources.contains(&r) {
                resources.push(r);
            }
        }
    }
    let split = |s: &str| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split(',').map(str::to_owned).collect()
        }
    };
    let to_map = |pairs: Vec<(String, String)>| {
        Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k, string(&v)))
                .collect::<Map>(),
        )
    };
    let annotations = to_map(key_values(&split(&args.annotations), "annotation")?);
    let labels = to_map(key_values(&split(&args.labels), "label")?);
    let mut file = KustFile::new_empty(&dir.join(kustfile::FILE_NAMES[0]));
    file.set(
        "resources",
        Value::Seq(resources.iter().map(|r| string(r)).collect()),
    );
    file.set("namespace", string(&args.namespace));
    file.set("namePrefix", string(&args.nameprefix));
    file.set("nameSuffix", string(&args.namesuffix));
    file.set("commonAnnotations", annotations);
    file.set("commonLabels", labels);
    file.write()
}
