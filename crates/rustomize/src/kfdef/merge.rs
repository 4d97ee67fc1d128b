//! kfctl's merge of one package: its `base/` and the listed `overlays/<name>/`
//! folded into ONE `kustomization.yaml` at the package root, the
//! application's parameters written into each merged directory's `params.env`,
//! and the JSON patches aggregated into one file per target.
//!
//! The rules (kfctl v0.7–v1.0 `MergeKustomization(s)`): a kustomization with
//! no `bases` field is referenced whole, as a base directory; one with `bases`
//! is folded in field by field, each path rewritten relative to the package
//! root and each list deduplicated (first entry wins). `docs/kfdef.md` lists
//! where this module keeps and where it departs from kfctl.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::Path;

use rustomize_yaml::{Map, Value};

use super::{io_error, is_plain_component, kf_error, Application, KfDef};
use crate::Error;

/// The file kfctl reads and writes (it looks for no other spelling).
const KUSTOMIZATION: &str = "kustomization.yaml";
/// The parameters file kfctl rewrites in every merged directory.
const PARAMS: &str = "params.env";

/// Fields of a merged kustomization kfctl carries (or, for `namespace`,
/// deliberately replaces with the KfDef's). Any other field would be dropped
/// silently by kfctl; here it is an error.
const CARRIED: [&str; 18] = [
    "apiVersion",
    "kind",
    "bases",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "commonAnnotations",
    "generatorOptions",
    "resources",
    "images",
    "crds",
    "configMapGenerator",
    "secretGenerator",
    "vars",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configurations",
];

/// A list whose entries are unique by a key, first one kept.
#[derive(Default)]
struct Unique<T> {
    items: Vec<T>,
    seen: HashSet<String>,
}

impl<T> Unique<T> {
    /// Adds `item` under `key` unless the key is already there; says whether it did.
    fn add(&mut self, key: String, item: T) -> bool {
        if self.seen.insert(key) {
            self.items.push(item);
            true
        } else {
            false
        }
    }
}

/// The kustomization being assembled.
#[derive(Default)]
struct Merged {
    bases: Unique<String>,
    namespace: Option<String>,
    name_prefix: Option<String>,
    name_suffix: Option<String>,
    common_labels: BTreeMap<String, Value>,
    common_annotations: BTreeMap<String, Value>,
    generator_options: Option<Value>,
    resources: Unique<String>,
    images: Unique<Value>,
    crds: Unique<String>,
    config_maps: Vec<Value>,
    config_map_names: HashSet<String>,
    secrets: Vec<Value>,
    secret_names: HashSet<String>,
    vars: Unique<Value>,
    patches_sm: Unique<String>,
    /// (target, path) in merge order; unique by `path-targetName`.
    patches_json: Unique<(Map, String)>,
    configurations: Unique<String>,
}

/// Joins `rel` onto the package-relative directory `dir` and cleans the result
/// lexically, as Go's `path.Join` does: what kfctl writes for a path found in
/// `dir`'s kustomization. A path that climbs out of the package keeps its `..`.
fn rebase(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in dir.split('/').chain(rel.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                if matches!(parts.last(), Some(p) if *p != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// Reads a kustomization file, `None` if there is none.
fn read_kustomization(path: &Path) -> Result<Option<Map>, Error> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, &e)),
    };
    let docs = crate::parse_documents(&text, &Default::default()).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    match docs.into_iter().next() {
        None | Some(Value::Null | Value::Empty) => Ok(Some(Map::default())),
        Some(Value::Map(m)) => Ok(Some(m)),
        Some(_) => Err(kf_error(path, "a kustomization must be a mapping")),
    }
}

fn strings(map: &Map, key: &str, file: &Path) -> Result<Vec<String>, Error> {
    let Some(value) = map.get(key) else {
        return Ok(Vec::new());
    };
    match value {
        Value::Null | Value::Empty => Ok(Vec::new()),
        Value::Seq(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.to_string()),
                _ => Err(kf_error(file, format!("{key}: entries must be strings"))),
            })
            .collect(),
        _ => Err(kf_error(file, format!("{key}: must be a list"))),
    }
}

fn maps<'a>(map: &'a Map, key: &str, file: &Path) -> Result<Vec<&'a Map>, Error> {
    match map.get(key) {
        None | Some(Value::Null | Value::Empty) => Ok(Vec::new()),
        Some(Value::Seq(items)) => items
            .iter()
            .map(|v| match v {
                Value::Map(m) => Ok(m),
                _ => Err(kf_error(file, format!("{key}: entries must be mappings"))),
            })
            .collect(),
        Some(_) => Err(kf_error(file, format!("{key}: must be a list"))),
    }
}

fn text_of(map: &Map, key: &str) -> String {
    match map.get(key) {
        Some(Value::String(s)) => s.to_string(),
        _ => String::new(),
    }
}

/// A generator entry with its file paths (`env`, `envs`, `files`) rebased
/// onto the package root; `files` entries keep their `key=` part.
fn rebase_generator(entry: &Map, dir: &str, file: &Path) -> Result<Map, Error> {
    let mut out = entry.clone();
    if let Some(Value::String(env)) = entry.get("env") {
        out.insert("env", Value::string(rebase(dir, env)));
    }
    for key in ["envs", "files"] {
        let list = strings(entry, key, file)?;
        if list.is_empty() {
            continue;
        }
        let rebased = list
            .iter()
            .map(|s| {
                Value::string(match s.split_once('=') {
                    Some((k, p)) if key == "files" => format!("{k}={}", rebase(dir, p)),
                    _ => rebase(dir, s),
                })
            })
            .collect();
        out.insert(key, Value::Seq(rebased));
    }
    Ok(out)
}

/// The behavior kfctl writes for a generator entry: its own when it is one of
/// kustomize's three, else `unspecified`.
fn behavior(entry: &Map) -> &'static str {
    match text_of(entry, "behavior").as_str() {
        "create" => "create",
        "merge" => "merge",
        "replace" => "replace",
        _ => "unspecified",
    }
}

/// Folds the kustomization `child`, found in the package directory `dir`
/// (`base` or `overlays/<name>`), into `merged`.
fn merge_child(
    merged: &mut Merged,
    dir: &str,
    child: &Map,
    file: &Path,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    let bases = match child.get("bases") {
        None | Some(Value::Null) => None,
        Some(_) => Some(strings(child, "bases", file)?),
    };
    let Some(bases) = bases else {
        // No `bases`: the directory itself becomes a base, nothing is folded.
        merged.bases.add(dir.to_owned(), dir.to_owned());
        return Ok(());
    };
    if let Some(key) = child.keys().find(|k| !CARRIED.contains(&k.as_str())) {
        return Err(kf_error(
            file,
            format!("field '{key}' cannot be merged by kfctl's rules (kfctl drops it silently)"),
        ));
    }
    for b in &bases {
        let p = rebase(dir, b);
        merged.bases.add(p.clone(), p);
    }
    for (slot, key) in [
        (&mut merged.name_prefix, "namePrefix"),
        (&mut merged.name_suffix, "nameSuffix"),
    ] {
        let v = text_of(child, key);
        if !v.is_empty() && slot.is_none() {
            *slot = Some(v);
        }
    }
    for (into, key) in [
        (&mut merged.common_labels, "commonLabels"),
        (&mut merged.common_annotations, "commonAnnotations"),
    ] {
        match child.get(key) {
            None | Some(Value::Null | Value::Empty) => {}
            // A later directory's value replaces an earlier one's.
            Some(Value::Map(m)) => into.extend(m.iter().map(|(k, v)| (k.to_string(), v.clone()))),
            Some(_) => return Err(kf_error(file, format!("{key}: must be a mapping"))),
        }
    }
    if merged.generator_options.is_none() {
        if let Some(v @ Value::Map(_)) = child.get("generatorOptions") {
            merged.generator_options = Some(v.clone());
        }
    }
    for r in strings(child, "resources", file)? {
        let p = rebase(dir, &r);
        merged.resources.add(p.clone(), p);
    }
    for image in maps(child, "images", file)? {
        let name = text_of(image, "name");
        if !merged.images.add(name.clone(), Value::Map(image.clone())) {
            warnings.push(format!(
                "kfdef: ignoring image {name} specified in {dir}/{KUSTOMIZATION}"
            ));
        }
    }
    for c in strings(child, "crds", file)? {
        let p = rebase(dir, &c);
        if !merged.crds.add(p.clone(), p) {
            warnings.push(format!(
                "kfdef: ignoring crd {c} specified in {dir}/{KUSTOMIZATION}"
            ));
        }
    }
    for cm in maps(child, "configMapGenerator", file)? {
        let name = text_of(cm, "name");
        let mut entry = rebase_generator(cm, dir, file)?;
        match behavior(cm) {
            // `create` of a name already generated is dropped.
            "create" => {
                if merged.config_map_names.insert(name) {
                    entry.shift_remove("behavior");
                    merged.config_maps.push(Value::Map(entry));
                }
            }
            b => {
                entry.insert("behavior", Value::String(b.into()));
                merged.config_map_names.insert(name);
                merged.config_maps.push(Value::Map(entry));
            }
        }
    }
    for secret in maps(child, "secretGenerator", file)? {
        let name = text_of(secret, "name");
        let mut entry = rebase_generator(secret, dir, file)?;
        match behavior(secret) {
            "create" => {
                if merged.secret_names.insert(name) {
                    merged.secrets.push(Value::Map(entry));
                }
            }
            b => {
                entry.insert("behavior", Value::String(b.into()));
                merged.secret_names.insert(name);
                merged.secrets.push(Value::Map(entry));
            }
        }
    }
    for var in maps(child, "vars", file)? {
        let name = text_of(var, "name");
        if !merged.vars.add(name.clone(), Value::Map(var.clone())) {
            warnings.push(format!(
                "kfdef: ignoring var {name} specified in {dir}/{KUSTOMIZATION}"
            ));
        }
    }
    for p in strings(child, "patchesStrategicMerge", file)? {
        if p.contains('\n') {
            return Err(kf_error(
                file,
                "patchesStrategicMerge: inline patches cannot be merged by kfctl's rules",
            ));
        }
        let p = rebase(dir, &p);
        merged.patches_sm.add(p.clone(), p);
    }
    for patch in maps(child, "patchesJson6902", file)? {
        let (Some(Value::Map(target)), Some(Value::String(path))) =
            (patch.get("target"), patch.get("path"))
        else {
            return Err(kf_error(
                file,
                "patchesJson6902: kfctl's rules need a target and a patch file path (no inline patch)",
            ));
        };
        let path = rebase(dir, path);
        let key = format!("{path}-{}", text_of(target, "name"));
        merged.patches_json.add(key, (target.clone(), path));
    }
    for c in strings(child, "configurations", file)? {
        let p = rebase(dir, &c);
        merged.configurations.add(p.clone(), p);
    }
    Ok(())
}

/// Rewrites `dir/params.env`, if there is one: each `name=…` line whose name
/// is a parameter with a non-empty value gets that value; otherwise lines
/// `appName=`, `namespace=` and `project=` get the KfDef's name, namespace and
/// project. Lines are rewritten with `\n` endings (kfctl's line scanner also
/// drops a `\r` before each).
fn update_params(
    dir: &Path,
    kfdef: &KfDef,
    app: &Application,
    params: &HashMap<&str, &str>,
) -> Result<(), Error> {
    let file = dir.join(PARAMS);
    if !file.is_file() {
        return Ok(());
    }
    let text = fs::read_to_string(&file).map_err(|e| io_error(&file, &e))?;
    let mut out = String::with_capacity(text.len() + 64);
    let body = text.strip_suffix('\n').unwrap_or(&text);
    if !text.is_empty() {
        for line in body.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let mut pieces = line.split('=');
            let name = pieces.next().unwrap_or_default();
            let current = pieces.next().unwrap_or_default();
            let new_value = match params.get(name) {
                Some(value) if !value.is_empty() => {
                    let mut value = (*value).to_owned();
                    if name == "generateName" && current.is_empty() {
                        // kfctl appends 8 random hex digits; these come from a
                        // hash of the KfDef's and application's names instead.
                        let seed = format!("{}/{}/{value}", kfdef.name, app.name);
                        let hex = crate::generate::sha256_hex(seed.as_bytes());
                        value.push_str(hex.get(..8).unwrap_or_default());
                    }
                    Some(value)
                }
                _ => match name {
                    "appName" => Some(kfdef.name.clone()),
                    "namespace" => Some(kfdef.namespace.clone()),
                    "project" => Some(kfdef.project.clone()),
                    _ => None,
                },
            };
            match new_value {
                Some(v) => {
                    out.push_str(name);
                    out.push('=');
                    out.push_str(&v);
                }
                None => out.push_str(line),
            }
            out.push('\n');
        }
    }
    fs::write(&file, out).map_err(|e| io_error(&file, &e))
}

/// Writes the merged `kustomization.yaml` of the application copied to `dir`.
pub(super) fn generate(
    kfdef: &KfDef,
    app: &Application,
    dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    let params: HashMap<&str, &str> = app
        .parameters
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let base_file = dir.join("base").join(KUSTOMIZATION);
    let mut merged = Merged::default();
    match read_kustomization(&base_file)? {
        Some(base) => {
            update_params(&dir.join("base"), kfdef, app, &params)?;
            merge_child(&mut merged, "base", &base, &base_file, warnings)?;
        }
        None => {
            let top = dir.join(KUSTOMIZATION);
            if let Some(mut top_map) = read_kustomization(&top)? {
                // A package without base/ is used as it is; kfctl only fills
                // in the namespace, and reads no overlays.
                if !app.overlays.is_empty() {
                    warnings.push(format!(
                        "kfdef: application {}: package {} has no base/, overlays {} not merged",
                        app.name,
                        app.path,
                        app.overlays.join(", ")
                    ));
                }
                if text_of(&top_map, "namespace").is_empty() && !kfdef.namespace.is_empty() {
                    top_map.insert("namespace", Value::string(kfdef.namespace.as_str()));
                    write_map(&top, &top_map)?;
                }
                return Ok(());
            }
        }
    }
    // The last `namespace` parameter names the namespace.
    for (name, value) in &app.parameters {
        if name == "namespace" {
            merged.namespace = Some(value.clone());
        }
    }
    for overlay in &app.overlays {
        let rel = format!("overlays/{overlay}");
        let odir = dir.join("overlays").join(overlay);
        if !odir.is_dir() {
            warnings.push(format!(
                "kfdef: no overlay {overlay} for application {} at {}, skipping",
                app.name, app.path
            ));
            continue;
        }
        let ofile = odir.join(KUSTOMIZATION);
        let Some(child) = read_kustomization(&ofile)? else {
            return Err(kf_error(&ofile, "overlay has no kustomization.yaml"));
        };
        update_params(&odir, kfdef, app, &params)?;
        merge_child(&mut merged, &rel, &child, &ofile, warnings)?;
    }
    let json_patches = aggregate_json_patches(&merged, dir)?;
    let namespace = match merged.namespace.take() {
        Some(ns) if !ns.is_empty() => ns,
        _ => kfdef.namespace.clone(),
    };
    write_map(
        &dir.join(KUSTOMIZATION),
        &to_map(merged, namespace, json_patches),
    )
}

/// kfctl's aggregation of JSON patches: all patches of one target (grouped by
/// `<name>-<kind>`) are concatenated, byte for byte, into `<name>-<kind>.yaml`
/// at the package root (appended to a file of that name if the package has
/// one). Groups are listed in the order their first patch was merged (kfctl
/// iterated a Go map here).
fn aggregate_json_patches(merged: &Merged, dir: &Path) -> Result<Vec<Value>, Error> {
    let mut groups: Vec<(String, &Map, Vec<&str>)> = Vec::new();
    for (target, path) in &merged.patches_json.items {
        let key = format!("{}-{}", text_of(target, "name"), text_of(target, "kind"));
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, paths)) => paths.push(path),
            None => groups.push((key, target, vec![path])),
        }
    }
    let mut entries = Vec::new();
    for (key, target, paths) in groups {
        let name = format!("{key}.yaml");
        if !is_plain_component(&name) {
            return Err(kf_error(
                dir,
                format!("patchesJson6902: target '{key}' cannot name a patch file"),
            ));
        }
        let out_path = dir.join(&name);
        for p in paths {
            let src = dir.join(p);
            if !src.is_file() {
                continue;
            }
            let data = fs::read(&src).map_err(|e| io_error(&src, &e))?;
            let mut out = fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&out_path)
                .map_err(|e| io_error(&out_path, &e))?;
            out.write_all(&data).map_err(|e| io_error(&out_path, &e))?;
        }
        let mut t = Map::default();
        for k in ["group", "kind", "name", "namespace", "version"] {
            let v = text_of(target, k);
            if !v.is_empty() {
                t.insert(k, Value::string(v));
            }
        }
        let mut entry = Map::default();
        entry.insert("path", Value::string(name));
        entry.insert("target", Value::Map(t));
        entries.push(Value::Map(entry));
    }
    Ok(entries)
}

/// The merged kustomization, keys in alphabetical order and empty fields
/// left out, as kfctl's marshaller writes it.
fn to_map(merged: Merged, namespace: String, json_patches: Vec<Value>) -> Map {
    let mut fields: Vec<(&str, Value)> = vec![
        (
            "apiVersion",
            Value::string("kustomize.config.k8s.io/v1beta1"),
        ),
        ("kind", Value::string("Kustomization")),
    ];
    let mut push_seq = |key: &'static str, v: Vec<Value>| {
        if !v.is_empty() {
            fields.push((key, Value::Seq(v)));
        }
    };
    push_seq(
        "bases",
        merged.bases.items.into_iter().map(Value::string).collect(),
    );
    push_seq(
        "resources",
        merged
            .resources
            .items
            .into_iter()
            .map(Value::string)
            .collect(),
    );
    push_seq(
        "crds",
        merged.crds.items.into_iter().map(Value::string).collect(),
    );
    push_seq(
        "patchesStrategicMerge",
        merged
            .patches_sm
            .items
            .into_iter()
            .map(Value::string)
            .collect(),
    );
    push_seq("patchesJson6902", json_patches);
    push_seq(
        "configurations",
        merged
            .configurations
            .items
            .into_iter()
            .map(Value::string)
            .collect(),
    );
    push_seq("images", merged.images.items);
    push_seq("vars", merged.vars.items);
    push_seq("configMapGenerator", merged.config_maps);
    push_seq("secretGenerator", merged.secrets);
    for (key, labels) in [
        ("commonLabels", merged.common_labels),
        ("commonAnnotations", merged.common_annotations),
    ] {
        if !labels.is_empty() {
            fields.push((key, Value::Map(labels.into_iter().collect())));
        }
    }
    for (key, v) in [
        ("namePrefix", merged.name_prefix),
        ("nameSuffix", merged.name_suffix),
        ("namespace", Some(namespace).filter(|ns| !ns.is_empty())),
    ] {
        if let Some(v) = v {
            fields.push((key, Value::string(v)));
        }
    }
    if let Some(g) = merged.generator_options {
        fields.push(("generatorOptions", g));
    }
    fields.sort_by(|a, b| a.0.cmp(b.0));
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn write_map(path: &Path, map: &Map) -> Result<(), Error> {
    let mut text = String::new();
    rustomize_yaml::write_document(&Value::Map(map.clone()), &mut text);
    fs::write(path, text).map_err(|e| io_error(path, &e))
}

#[cfg(test)]
mod tests {
    use super::rebase;

    #[test]
    fn rebase_cleans_like_go_path_join() {
        assert_eq!(rebase("overlays/db", "../../base"), "base");
        assert_eq!(rebase("base", "./a.yaml"), "base/a.yaml");
        assert_eq!(rebase("base", "../../common/x"), "../common/x");
        assert_eq!(rebase("base", "."), "base");
        assert_eq!(rebase("overlays/a", "/abs.yaml"), "overlays/a/abs.yaml");
    }
}
