//! `edit add`: resource, component, base, patch, configmap, secret, label,
//! annotation (kustomize/commands/edit/add).

use std::path::Path;

use clap::{Args, Subcommand};
use rustomize::{Map, Value};

use super::{glob, key_values, looks_remote, open};
use crate::kustfile::{string, struct_of, KustFile};

/// `rustomize edit add ...`.
#[derive(Subcommand)]
pub enum AddCommand {
    /// Add resource files or directories (glob patterns; each must match).
    Resource {
        /// Add the paths as given, without checking that they exist.
        #[arg(long = "no-verify")]
        no_verify: bool,
        /// Paths or glob patterns.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<String>,
    },
    /// Add components (glob patterns; each must match).
    Component {
        /// Paths or glob patterns.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<String>,
    },
    /// Add base directories (comma-separated) to `resources`.
    Base {
        /// `DIR[,DIR...]`.
        #[arg(value_name = "DIR")]
        dirs: String,
    },
    /// Add a patch (a file with --path or inline with --patch) and its target.
    Patch(PatchArgs),
    /// Add a configMapGenerator entry (or sources to the entry of that name).
    Configmap(GeneratorArgs),
    /// Add a secretGenerator entry (or sources to the entry of that name).
    Secret {
        #[command(flatten)]
        args: GeneratorArgs,
        /// Type of the secret.
        #[arg(long = "type", default_value = "Opaque")]
        secret_type: String,
    },
    /// Add labels (`commonLabels`, or with --without-selector a `labels` entry).
    Label {
        /// Overwrite values of labels already there.
        #[arg(short = 'f', long)]
        force: bool,
        /// Add a `labels` entry that leaves selectors alone.
        #[arg(long = "without-selector")]
        without_selector: bool,
        /// With --without-selector: also label pod templates.
        #[arg(long = "include-templates")]
        include_templates: bool,
        /// `key:value` pairs.
        #[arg(required = true, value_name = "KEY:VALUE")]
        labels: Vec<String>,
    },
    /// Add annotations (`commonAnnotations`).
    Annotation {
        /// Overwrite values of annotations already there.
        #[arg(short = 'f', long)]
        force: bool,
        /// `key:value` pairs.
        #[arg(required = true, value_name = "KEY:VALUE")]
        annotations: Vec<String>,
    },
}

/// Flags of `add patch` and `remove patch`.
#[derive(Args)]
pub struct PatchArgs {
    /// Path to the patch file.
    #[arg(long)]
    pub path: Option<String>,
    /// Literal patch content.
    #[arg(long, allow_hyphen_values = true)]
    pub patch: Option<String>,
    /// API group in the patch target.
    #[arg(long)]
    pub group: Option<String>,
    /// API version in the patch target.
    #[arg(long)]
    pub version: Option<String>,
    /// Resource kind in the patch target.
    #[arg(long)]
    pub kind: Option<String>,
    /// Resource name in the patch target.
    #[arg(long)]
    pub name: Option<String>,
    /// Resource namespace in the patch target.
    #[arg(long)]
    pub namespace: Option<String>,
    /// annotationSelector in the patch target.
    #[arg(long = "annotation-selector")]
    pub annotation_selector: Option<String>,
    /// labelSelector in the patch target.
    #[arg(long = "label-selector")]
    pub label_selector: Option<String>,
}

impl PatchArgs {
    /// The `patches:` entry (`types.Patch`), its target left out when empty.
    pub fn entry(&self) -> Value {
        let text = |o: &Option<String>| o.clone().unwrap_or_default();
        let target = struct_of([
            ("group", text(&self.group).as_str()),
            ("version", &text(&self.version)),
            ("kind", &text(&self.kind)),
            ("name", &text(&self.name)),
            ("namespace", &text(&self.namespace)),
            ("labelSelector", &text(&self.label_selector)),
            ("annotationSelector", &text(&self.annotation_selector)),
        ]);
        let mut entry = Map::default();
        if let Some(path) = self.path.as_deref().filter(|p| !p.is_empty()) {
            entry.insert("path", string(path));
        }
        if let Some(patch) = self.patch.as_deref().filter(|p| !p.is_empty()) {
            entry.insert("patch", string(patch));
        }
        if target.as_map().is_some_and(|m| !m.is_empty()) {
            entry.insert("target", target);
        }
        Value::Map(entry)
    }
}

/// Flags of `add configmap` and `add secret`.
#[derive(Args)]
pub struct GeneratorArgs {
    /// Name of the generated object.
    pub name: String,
    /// Files (`[key=]path`, glob patterns) whose content becomes a key.
    #[arg(long = "from-file", value_delimiter = ',')]
    pub from_file: Vec<String>,
    /// `key=value` literals.
    #[arg(long = "from-literal")]
    pub from_literal: Vec<String>,
    /// A file of `key=value` lines.
    #[arg(long = "from-env-file")]
    pub from_env_file: Option<String>,
    /// Disable the name suffix hash.
    #[arg(long = "disableNameSuffixHash")]
    pub disable_name_suffix_hash: bool,
    /// create, merge or replace.
    #[arg(long)]
    pub behavior: Option<String>,
    /// Namespace of the generated object.
    #[arg(long)]
    pub namespace: Option<String>,
}

/// Whether two generator namespaces are the same (`""` is `default`).
pub fn namespace_equal(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        if s.is_empty() {
            "default".to_owned()
        } else {
            s.to_owned()
        }
    };
    norm(a) == norm(b)
}

/// Adds sources to the generator entry `field` named `args.name`, or a new
/// entry (kustomize's `findOrMake...Args` and `MergeFlagsIntoGeneratorArgs`).
fn add_generator(
    file: &mut KustFile,
    dir: &Path,
    field: &str,
    args: &GeneratorArgs,
    secret_type: Option<&str>,
) -> Result<(), String> {
    let env = args.from_env_file.clone().unwrap_or_default();
    // ExpandFileSource: globs, `key=` sources must catch exactly one file.
    let mut files = Vec::new();
    for source in &args.from_file {
        let parts: Vec<&str> = source.split('=').collect();
        let (key, pattern) = match parts.as_slice() {
            [key, pattern] => (Some(*key), *pattern),
            _ => (None, parts.first().copied().unwrap_or("")),
        };
        let matched = glob(dir, pattern)?;
        match key {
            Some(_) if matched.len() != 1 => {
                return Err(format!(
                    "failed to expand file source: 'pattern '{source}' catches files [{}], should catch only one",
                    matched.join(" ")
                ))
            }
            Some(key) => files.extend(matched.into_iter().map(|m| format!("{key}={m}"))),
            None => files.extend(matched),
        }
    }
    if env.is_empty() && files.is_empty() && args.from_literal.is_empty() {
        return Err(
            "failed to validate flags: at least from-env-file, or from-file or \
                    from-literal must be set"
                .to_owned(),
        );
    }
    if !env.is_empty() && (!files.is_empty() || !args.from_literal.is_empty()) {
        return Err(
            "failed to validate flags: from-env-file cannot be combined with \
                    from-file or from-literal"
                .to_owned(),
        );
    }
    if let Some(b) = args.behavior.as_deref().filter(|b| !b.is_empty()) {
        if !["create", "merge", "replace"].contains(&b) {
            return Err(
                "failed to validate flags: invalid behavior: must be one of \
                        \"create\", \"merge\", or \"replace\""
                    .to_owned(),
            );
        }
    }
    // What making the object would reject.
    let what = if secret_type.is_some() {
        "secret"
    } else {
        "configmap"
    };
    for literal in &args.from_literal {
        if literal.split_once('=').is_none_or(|(k, _)| k.is_empty()) {
            return Err(format!(
                "failed to create {what}: invalid literal source {literal}, expected key=value"
            ));
        }
    }
    for source in files
        .iter()
        .chain(std::iter::once(&env).filter(|e| !e.is_empty()))
    {
        let path = source.split_once('=').map_or(source.as_str(), |(_, p)| p);
        if dir.join(path).symlink_metadata().is_err() {
            return Err(format!(
                "failed to create {what}: {path}: no such file or directory"
            ));
        }
    }
    let namespace = args.namespace.clone().unwrap_or_default();
    let mut list = file.seq(field);
    let index = list.iter().position(|entry| {
        let get = |k: &str| entry.get(k).and_then(Value::as_str).unwrap_or("");
        get("name") == args.name && namespace_equal(get("namespace"), &namespace)
    });
    let index = match index {
        Some(i) => i,
        None => {
            let mut entry = struct_of([("name", args.name.as_str()), ("namespace", &namespace)]);
            if let (Some(t), Some(m)) = (secret_type, entry.as_map_mut()) {
                if !t.is_empty() {
                    m.insert("type", string(t));
                }
            }
            list.push(entry);
            list.len() - 1
        }
    };
    let Some(Value::Map(entry)) = list.get_mut(index) else {
        return Err(format!("{field}: entry {index} is not a map"));
    };
    let mut append = |key: &str, items: &[String]| {
        if items.is_empty() {
            return;
        }
        let mut values = entry
            .get(key)
            .and_then(Value::as_seq)
            .cloned()
            .unwrap_or_default();
        values.extend(items.iter().map(|s| string(s)));
        entry.insert(key.to_owned(), Value::Seq(values));
    };
    append("literals", &args.from_literal);
    append("files", &files);
    if !env.is_empty() {
        append("envs", &[env]);
    }
    if args.disable_name_suffix_hash {
        let mut options = Map::default();
        options.insert("disableNameSuffixHash", Value::Bool(true));
        entry.insert("options", Value::Map(options));
    }
    if let Some(b) = args.behavior.as_deref().filter(|b| !b.is_empty()) {
        entry.insert("behavior", string(b));
    }
    file.set(field, Value::Seq(list));
    Ok(())
}

/// Appends paths to a list field, skipping (with kustomize's note) those
/// already there and the kustomization file itself.
fn add_paths(
    file: &mut KustFile,
    field: &str,
    what: &str,
    paths: Vec<String>,
) -> Result<Vec<String>, String> {
    let mut list = file.strings(field)?;
    let own = file
        .path()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut notes = Vec::new();
    for path in paths {
        if path == own {
            continue;
        }
        if list.contains(&path) {
            notes.push(format!("{what} {path} already in kustomization file"));
            continue;
        }
        list.push(path);
    }
    file.set(field, Value::Seq(list.iter().map(|s| string(s)).collect()));
    Ok(notes)
}

/// Expands the patterns as kustomize's `GlobPatternsWithLoader`: each must
/// match a file, or name a directory or a remote target.
fn expand(dir: &Path, patterns: &[String], no_verify: bool) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for pattern in patterns {
        if no_verify {
            out.push(pattern.clone());
            continue;
        }
        let matched = glob(dir, pattern)?;
        if !matched.is_empty() {
            out.extend(matched);
        } else if looks_remote(pattern) {
            out.push(pattern.clone());
        } else {
            return Err(format!("{pattern} has no match: must build at directory: not a valid directory: '{pattern}' doesn't exist"));
        }
    }
    Ok(out)
}

/// Adds `key:value` pairs to a string map, refusing existing keys unless forced.
fn add_pairs(
    map: &mut Map,
    pairs: Vec<(String, String)>,
    kind: &str,
    force: bool,
) -> Result<(), String> {
    for (k, v) in pairs {
        if map.contains_key(&k) && !force {
            return Err(format!("{kind} {k} already in kustomization file"));
        }
        map.insert(k, string(&v));
    }
    Ok(())
}

/// Runs `edit add ...` in `dir`.
pub fn run(command: AddCommand, dir: &Path) -> Result<Vec<String>, String> {
    let mut notes = Vec::new();
    let mut file;
    match command {
        AddCommand::Resource { no_verify, paths } => {
            let found = expand(dir, &paths, no_verify)?;
            if found.is_empty() {
                return Ok(notes);
            }
            file = open(dir)?;
            notes = add_paths(&mut file, "resources", "resource", found)?;
        }
        AddCommand::Component { paths } => {
            let found = expand(dir, &paths, false)?;
            if found.is_empty() {
                return Ok(notes);
            }
            file = open(dir)?;
            notes = add_paths(&mut file, "components", "component", found)?;
        }
        AddCommand::Base { dirs } => {
            file = open(dir)?;
            let mut list = file.strings("resources")?;
            for path in dirs.split(',') {
                if dir.join(path).symlink_metadata().is_err() {
                    return Err(format!("{path} does not exist"));
                }
                if list.iter().any(|p| p == path) {
                    return Err(format!("base {path} already in kustomization file"));
                }
                list.push(path.to_owned());
            }
            file.set(
                "resources",
                Value::Seq(list.iter().map(|s| string(s)).collect()),
            );
        }
        AddCommand::Patch(args) => {
            if args.path.is_some() && args.patch.is_some() {
                return Err("patch and path can't be set at the same time".to_owned());
            }
            if args.path.as_deref().unwrap_or("").is_empty()
                && args.patch.as_deref().unwrap_or("").is_empty()
            {
                return Err("must provide either patch or path".to_owned());
            }
            file = open(dir)?;
            let entry = args.entry();
            let mut list = file.seq("patches");
            if list.iter().any(|p| p.identical(&entry)) {
                notes.push("patch already in kustomization file".to_owned());
                return Ok(notes);
            }
            list.push(entry);
            file.set("patches", Value::Seq(list));
        }
        AddCommand::Configmap(args) => {
            file = open(dir)?;
            add_generator(&mut file, dir, "configMapGenerator", &args, None)?;
        }
        AddCommand::Secret { args, secret_type } => {
            file = open(dir)?;
            add_generator(&mut file, dir, "secretGenerator", &args, Some(&secret_type))?;
        }
        AddCommand::Label {
            force,
            without_selector,
            include_templates,
            labels,
        } => {
            if !without_selector && include_templates {
                return Err(
                    "--without-selector flag must be specified for --include-templates to work"
                        .to_owned(),
                );
            }
            let pairs = key_values(&labels, "label")?;
            file = open(dir)?;
            if without_selector {
                let mut map = Map::default();
                add_pairs(&mut map, pairs, "label", force)?;
                let mut entry = Map::default();
                entry.insert("pairs", Value::Map(map));
                if include_templates {
                    entry.insert("includeTemplates", Value::Bool(true));
                }
                let mut list = file.seq("labels");
                list.push(Value::Map(entry));
                file.set("labels", Value::Seq(list));
            } else {
                let mut map = file.string_map("commonLabels")?;
                add_pairs(&mut map, pairs, "label", force)?;
                file.set("commonLabels", Value::Map(map));
            }
        }
        AddCommand::Annotation { force, annotations } => {
            let pairs = key_values(&annotations, "annotation")?;
            file = open(dir)?;
            let mut map = file.string_map("commonAnnotations")?;
            add_pairs(&mut map, pairs, "annotation", force)?;
            file.set("commonAnnotations", Value::Map(map));
        }
    }
    file.write()?;
    Ok(notes)
}
