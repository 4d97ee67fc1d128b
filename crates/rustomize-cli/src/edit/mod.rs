//! `rustomize edit`: kustomize's `edit` commands (kustomize/commands/edit in
//! kustomize v5.5.0) on the kustomization file of the current directory, with
//! its arguments, checks, messages and output, through the comment-keeping
//! editor of [`crate::kustfile`]. One module per verb: [`set`], [`add`],
//! [`remove`], [`fix`].

pub mod add;
pub mod fix;
pub mod remove;
pub mod set;

use std::path::Path;

use clap::Subcommand;

use crate::kustfile::{self, KustFile};

/// `rustomize edit VERB ...`.
#[derive(Subcommand)]
pub enum EditCommand {
    /// Set the value of a field in the kustomization file.
    #[command(subcommand)]
    Set(set::SetCommand),
    /// Add an item to the kustomization file.
    #[command(subcommand)]
    Add(add::AddCommand),
    /// Remove items from the kustomization file.
    #[command(subcommand)]
    Remove(remove::RemoveCommand),
    /// Fix the kustomization file: rewrite deprecated fields as their
    /// replacements (bases, patchesStrategicMerge, patchesJson6902,
    /// commonLabels).
    Fix(fix::FixArgs),
}

/// What an edit command has to say besides its change to the file.
#[derive(Default)]
pub struct Report {
    /// Lines for stdout (`fix`'s summary and warnings).
    pub stdout: Vec<String>,
    /// Lines for stderr: the notes kustomize logs (`... already in
    /// kustomization file`).
    pub stderr: Vec<String>,
}

/// Runs one edit command in the current directory.
pub fn run(command: EditCommand) -> Result<Report, String> {
    let dir = Path::new(".");
    let notes = |stderr| Report {
        stderr,
        ..Report::default()
    };
    match command {
        EditCommand::Set(c) => set::run(c, dir).map(notes),
        EditCommand::Add(c) => add::run(c, dir).map(notes),
        EditCommand::Remove(c) => remove::run(c, dir).map(notes),
        EditCommand::Fix(args) => fix::run(&args, dir).map(|stdout| Report {
            stdout,
            ..Report::default()
        }),
    }
}

/// Reads the kustomization file of `dir`.
pub fn open(dir: &Path) -> Result<KustFile, String> {
    KustFile::read(&kustfile::find(dir)?)
}

/// Parses `key:value` arguments as kustomize's `ConvertSliceToMap` does: the
/// value may be double-quoted, a missing value is empty, a missing key an error.
/// Later arguments win.
pub fn key_values(args: &[String], kind: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for arg in args {
        let (key, value) = match arg.find(':') {
            Some(0) => {
                return Err(format!(
                    "invalid {kind}: '{arg}' (need k:v pair where v may be quoted)"
                ))
            }
            None => (arg.as_str(), ""),
            Some(i) => {
                let (k, v) = (arg.get(..i).unwrap_or(""), arg.get(i + 1..).unwrap_or(""));
                let v = if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
                    v.get(1..v.len() - 1).unwrap_or(v)
                } else {
                    v
                };
                (k, v)
            }
        };
        out.retain(|(k, _)| k != key);
        out.push((key.to_owned(), value.to_owned()));
    }
    Ok(out)
}

/// Expands glob patterns against the file system the way Go's
/// `filepath.Glob` does (`*`, `?`, `[...]` within one path segment, dot files
/// included); a pattern without metacharacters matches itself if it exists.
pub fn glob(dir: &Path, pattern: &str) -> Result<Vec<String>, String> {
    let has_meta = pattern.contains(['*', '?', '[', '\\']);
    if !has_meta {
        return Ok(if dir.join(pattern).symlink_metadata().is_ok() {
            vec![pattern.to_owned()]
        } else {
            Vec::new()
        });
    }
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let full = dir.join(pattern);
    let full = full.to_str().ok_or("pattern is not UTF-8")?;
    let paths =
        glob::glob_with(full, options).map_err(|e| format!("syntax error in pattern: {e}"))?;
    let mut out = Vec::new();
    for path in paths.flatten() {
        let shown = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        out.push(shown);
    }
    Ok(out)
}

/// Whether a path names a remote target kustomize would clone (which `edit`
/// accepts without cloning it here).
pub fn looks_remote(path: &str) -> bool {
    path.contains("://")
        || path.starts_with("git@")
        || path.starts_with("github.com/")
        || path.starts_with("gitlab.com/")
        || path.starts_with("bitbucket.org/")
}
