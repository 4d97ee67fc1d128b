//! Mirrors: URL prefixes mapped to other URLs or to local directories, so a
//! build inside a private network reads `github.com/...` from an internal copy
//! while the kustomizations keep naming the original.
//!
//! A repository is matched by its *identity*, the form every way of writing it
//! normalises to: host (lower case, without scheme, user or port) and path
//! (without surrounding `/` and a trailing `.git`). So
//! `https://github.com/org/repo.git`, `git@github.com:org/repo`,
//! `ssh://git@github.com/org/repo` and `github.com/org/repo` are all
//! `github.com/org/repo`; a `file://` repository is `file:///its/path`. A
//! mirror's prefix is normalised the same way and matches an identity equal to
//! it or continuing it after a `/`; the longest matching prefix wins. The rest
//! of the identity is appended to the target: with
//! `github.com/org=https://git.internal/mirror`, `github.com/org/repo` is
//! fetched from `https://git.internal/mirror/repo`.
//!
//! A target that is an absolute path is a local directory: for a repository,
//! a git repository (bare or not) that git reads by `file://` (git also finds
//! `repo.git` there when asked for `repo`); for a plain HTTP(S) file, the file
//! below it. Plain file URLs match their host and path the same way (scheme
//! dropped, nothing else changed).
//!
//! Only *where* bytes come from changes: the cache is keyed by the URL
//! actually fetched, and origins, messages about entries and `localize`
//! layouts name the original.

use std::path::PathBuf;

use super::url::{host_of, RepoSpec};

/// One mirror: repositories and files whose identity starts with `prefix` are
/// read from `target` instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mirror {
    /// A URL prefix in any form a reference may take (`github.com/org`,
    /// `https://github.com/org/repo.git`, `git@github.com:org`).
    pub prefix: String,
    /// A URL (`https://git.internal/mirror`, `file:///srv/git`) or an absolute
    /// local path (`/srv/mirrors/github`).
    pub target: String,
}

/// Where a mirrored file is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileSource {
    /// Another URL.
    Url(String),
    /// A local file.
    Path(PathBuf),
}

/// The identity of a reference or prefix: `host/path` (see the module doc).
/// `strip_git` drops a trailing `.git` (for repositories, not files).
pub fn identity(text: &str, strip_git: bool) -> String {
    let text = strip_prefix_ignore_case(text, "git::").unwrap_or(text);
    if let Some(path) = strip_prefix_ignore_case(text, "file://") {
        return format!("file:///{}", tidy_path(path, strip_git));
    }
    let (authority, path) = match text.find("://") {
        Some(i) => {
            let rest = text.get(i + 3..).unwrap_or("");
            rest.split_once('/').unwrap_or((rest, ""))
        }
        None => {
            // scp-like `user@host:path` (a `:` before any `/`), else `host/path`.
            let colon = text.find(':');
            let slash = text.find('/');
            match (colon, slash) {
                (Some(c), s) if s.is_none_or(|s| c < s) => {
                    let (a, p) = text.split_at(c);
                    (a, p.get(1..).unwrap_or(""))
                }
                _ => text.split_once('/').unwrap_or((text, "")),
            }
        }
    };
    let host = host_of(&format!("x://{authority}/"));
    let path = tidy_path(path, strip_git);
    if path.is_empty() {
        host
    } else {
        format!("{host}/{path}")
    }
}

/// `path` without surrounding `/`, repeated `/` and (if asked) a final `.git`.
fn tidy_path(path: &str, strip_git: bool) -> String {
    let joined = path
        .split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    if strip_git {
        joined
            .strip_suffix(".git")
            .map_or(joined.clone(), str::to_owned)
    } else {
        joined
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// The mirror for `identity` and the rest of the identity after its prefix
/// (`""` or starting with `/`).
fn matching<'a>(mirrors: &'a [Mirror], id: &str, strip_git: bool) -> Option<(&'a Mirror, String)> {
    mirrors
        .iter()
        .filter_map(|m| {
            let prefix = identity(&m.prefix, strip_git);
            if prefix.is_empty() {
                return None;
            }
            let rest = id.strip_prefix(prefix.as_str())?;
            (rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/'))
                .then(|| (m, prefix.len(), rest.to_owned()))
        })
        .max_by_key(|(_, len, _)| *len)
        .map(|(m, _, rest)| (m, rest))
}

fn join_target(target: &str, rest: &str) -> String {
    format!("{}{rest}", target.trim_end_matches('/'))
}

/// The URL git fetches `spec`'s repository from: its mirror's, when one
/// matches, else its own.
pub fn clone_url(mirrors: &[Mirror], spec: &RepoSpec) -> String {
    let own = spec.clone_spec();
    let id = identity(&own, true);
    match matching(mirrors, &id, true) {
        Some((m, rest)) if m.target.starts_with('/') => {
            format!("file://{}", join_target(&m.target, &rest))
        }
        Some((m, rest)) => join_target(&m.target, &rest),
        None => own,
    }
}

/// Where the plain HTTP(S) file `address` is read from, when a mirror matches.
pub fn file_source(mirrors: &[Mirror], address: &str) -> Option<FileSource> {
    let id = identity(address, false);
    let (m, rest) = matching(mirrors, &id, false)?;
    if m.target.starts_with('/') {
        let path = join_target(&m.target, &rest);
        return Some(FileSource::Path(PathBuf::from(path)));
    }
    if let Some(path) = strip_prefix_ignore_case(&m.target, "file://") {
        return Some(FileSource::Path(PathBuf::from(join_target(path, &rest))));
    }
    Some(FileSource::Url(join_target(&m.target, &rest)))
}

/// Parses a mirror config file: a YAML mapping whose `mirrors` field maps
/// prefixes to targets. Relative local targets (`./x`, `../x`) are taken
/// relative to `base` (the file's directory). Errors say what is wrong, in one
/// line.
pub fn parse_config(text: &str, base: &std::path::Path) -> Result<Vec<Mirror>, String> {
    let limits = crate::ParseLimits::default();
    let docs = crate::parse_documents(text, &limits).map_err(|e| e.message)?;
    let mut out = Vec::new();
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        let crate::Value::Map(top) = doc else {
            return Err("expected a mapping with a 'mirrors' field".to_owned());
        };
        for (key, value) in top {
            if key != "mirrors" {
                return Err(format!("unknown field '{key}' (expected 'mirrors')"));
            }
            let crate::Value::Map(entries) = value else {
                return Err("'mirrors' must map URL prefixes to targets".to_owned());
            };
            for (prefix, target) in entries {
                let crate::Value::String(target) = target else {
                    return Err(format!("mirrors.{prefix}: the target must be a string"));
                };
                out.push(Mirror {
                    prefix: prefix.into_string(),
                    target: resolve_target(&target, base),
                });
            }
        }
    }
    Ok(out)
}

/// A target as given: a URL or absolute path as is, a relative path (starting
/// with `.`) joined to `base`.
pub fn resolve_target(target: &str, base: &std::path::Path) -> String {
    if target.starts_with("./") || target.starts_with("../") || target == "." {
        base.join(target).display().to_string()
    } else {
        target.to_owned()
    }
}

/// Parses a `PREFIX=TARGET` flag value.
pub fn parse_flag(text: &str, base: &std::path::Path) -> Result<Mirror, String> {
    match text.split_once('=') {
        Some((prefix, target)) if !prefix.is_empty() && !target.is_empty() => Ok(Mirror {
            prefix: prefix.to_owned(),
            target: resolve_target(target, base),
        }),
        _ => Err(format!("mirror '{text}' is not PREFIX=TARGET")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::remote::url::parse_repo_spec;

    #[test]
    fn every_form_of_a_repository_has_one_identity() {
        for form in [
            "https://github.com/org/repo.git",
            "https://GitHub.com/org/repo",
            "git@github.com:org/repo.git",
            "ssh://git@github.com:22/org/repo",
            "github.com/org/repo",
            "git::https://github.com/org/repo/",
        ] {
            assert_eq!(identity(form, true), "github.com/org/repo", "{form}");
        }
        assert_eq!(identity("file:///srv/r.git", true), "file:///srv/r");
    }

    #[test]
    fn longest_prefix_wins_on_segment_boundaries() {
        let mirrors = vec![
            Mirror {
                prefix: "github.com".into(),
                target: "https://m/all".into(),
            },
            Mirror {
                prefix: "https://github.com/org".into(),
                target: "/srv/org".into(),
            },
        ];
        let spec = parse_repo_spec("git@github.com:org/repo.git//deploy?ref=v1").unwrap();
        assert_eq!(clone_url(&mirrors, &spec), "file:///srv/org/repo");
        let spec = parse_repo_spec("https://github.com/orgx/repo//d?ref=v1").unwrap();
        assert_eq!(clone_url(&mirrors, &spec), "https://m/all/orgx/repo");
        let spec = parse_repo_spec("https://gitlab.com/org/repo//d?ref=v1").unwrap();
        assert_eq!(clone_url(&mirrors, &spec), "https://gitlab.com/org/repo");
    }

    #[test]
    fn files_are_mirrored_to_urls_or_paths() {
        let mirrors = vec![Mirror {
            prefix: "raw.githubusercontent.com/org".into(),
            target: "/srv/raw".into(),
        }];
        assert_eq!(
            file_source(
                &mirrors,
                "https://raw.githubusercontent.com/org/r/main/a.yaml"
            ),
            Some(FileSource::Path("/srv/raw/r/main/a.yaml".into()))
        );
        assert_eq!(file_source(&mirrors, "https://example.com/a.yaml"), None);
    }

    #[test]
    fn config_files_map_prefixes() {
        let m = parse_config(
            "mirrors:\n  github.com: https://m/gh\n  gitlab.com: ./gl\n",
            std::path::Path::new("/etc/r"),
        )
        .unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].target, "/etc/r/./gl");
        assert!(parse_config("mirror: {}\n", std::path::Path::new("/")).is_err());
        assert!(parse_flag("nope", std::path::Path::new("/")).is_err());
    }
}
