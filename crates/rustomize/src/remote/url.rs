//! Remote references as kustomize v5.5.0 reads them: which strings name a git
//! repository (and which repository, directory and ref), which name a plain
//! HTTP(S) file, and how to print either without credentials.
//!
//! The grammar mirrors kustomize's `api/internal/git/repospec.go`
//! (`NewRepoSpecFromURL`): the query is cut off first (`ref`, `version`,
//! `timeout`, `submodules`), then a `git::` prefix (stripped with a warning),
//! a scheme (`ssh://`, `https://`, `http://`, `file://`), a user name
//! (`git@`), the host (scp-like `host:` accepted only without a scheme), and
//! finally the repository path and the directory inside it, split at `_git/`,
//! `//` or `.git`, else after two segments (`org/repo`; every segment for
//! `file://`). Parsing never panics (a property test checks it).

use std::time::Duration;

/// kustomize's timeout for each git command when the URL gives none.
pub const DEFAULT_GIT_TIMEOUT: Duration = Duration::from_secs(27);

/// What kustomize logs when a URL starts with `git::`.
pub const GIT_PREFIX_WARNING: &str =
    "Warning: Forcing the git protocol using the 'git::' URL prefix is not supported. \
     Kustomize currently strips this invalid prefix, but will stop doing so in a future release. \
     Please remove the 'git::' prefix from your configuration.";

/// A git repository, a ref in it and a directory below its root
/// (kustomize's `RepoSpec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoSpec {
    /// The reference as written.
    pub raw: String,
    /// Scheme, user and host as git is given them: `https://github.com/`,
    /// `git@github.com:`, `file://`, `ssh://git@host/`.
    pub host: String,
    /// The repository's path on the host (`org/repo`, `org/repo.git`, `/srv/r.git`).
    pub repo_path: String,
    /// The kustomization directory inside the repository (`""`: its root).
    pub kust_root: String,
    /// `?ref=` (or `?version=`): branch, tag or commit; empty for the remote's HEAD.
    pub git_ref: String,
    /// `?timeout=`, in seconds or as a Go duration; `None` when absent or invalid
    /// (the caller's default applies).
    pub timeout: Option<Duration>,
    /// `?submodules=` (default true): whether to check out submodules.
    pub submodules: bool,
    /// Whether the reference started with `git::` (kustomize warns and strips it).
    pub git_prefix: bool,
}

impl RepoSpec {
    /// What `git fetch` is given: host and repository path.
    pub fn clone_spec(&self) -> String {
        format!("{}{}", self.host, self.repo_path)
    }

    /// The host name to check against an allow-list: the authority without
    /// user and port (`github.com`, `127.0.0.1`), or `file` for `file://`.
    pub fn host_name(&self) -> String {
        host_of(&self.host)
    }

    /// Whether `git_ref` names a commit by its full hash (SHA-1 or SHA-256),
    /// which needs no resolving and never moves.
    pub fn ref_is_commit(&self) -> bool {
        is_commit_hash(&self.git_ref)
    }
}

/// Whether `s` is a full commit hash (40 or 64 hex digits).
pub fn is_commit_hash(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parses a remote base reference; `Err` says why it is not one (kustomize then
/// treats the entry as a local path).
pub fn parse_repo_spec(raw: &str) -> Result<RepoSpec, String> {
    if raw.starts_with('/') {
        return Err(format!("uri looks like abs path: {raw}"));
    }
    let (rest, query) = raw.split_once('?').unwrap_or((raw, ""));
    let (git_ref, timeout, submodules) = parse_query(query);
    let (rest, git_prefix) = match strip_prefix_ignore_case(rest, "git::") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (host, rest) = extract_host(rest)?;
    let all_segments = host.starts_with(FILE);
    let (repo_path, kust_root) = parse_path_parts(&rest, all_segments)?;
    Ok(RepoSpec {
        raw: raw.to_owned(),
        host,
        repo_path,
        kust_root,
        git_ref,
        timeout,
        submodules,
        git_prefix,
    })
}

/// Whether a path names a plain file over HTTP(S) (kustomize's `IsRemoteFile`:
/// the scheme is `http` or `https`, in any case).
pub fn is_remote_file(path: &str) -> bool {
    strip_prefix_ignore_case(path, HTTP).is_some()
        || strip_prefix_ignore_case(path, HTTPS).is_some()
}

/// `s` with the user information of every `scheme://user:secret@host` replaced
/// by `***`, for messages: credentials never reach an error line.
pub fn redact(s: &str) -> String {
    rewrite_userinfo(s, "***@")
}

/// `s` with the user information of every `scheme://user@host` removed: the
/// same repository read with different credentials shares one cache entry, and
/// cache paths hold no secret.
pub fn without_credentials(s: &str) -> String {
    rewrite_userinfo(s, "")
}

fn rewrite_userinfo(s: &str, replacement: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '\'')
            .unwrap_or(tail.len());
        let (authority, after) = tail.split_at(authority_end);
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(replacement);
                out.push_str(authority.get(at + 1..).unwrap_or(""));
            }
            None => out.push_str(authority),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The host of a `scheme://user@host:port/` or `user@host:` prefix, lowercased,
/// without user and port; `file` for `file://`.
pub fn host_of(prefix: &str) -> String {
    if strip_prefix_ignore_case(prefix, FILE).is_some() {
        return "file".to_owned();
    }
    let after_scheme = prefix
        .find("://")
        .map_or(prefix, |i| prefix.get(i + 3..).unwrap_or(""));
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(inner) = host_port.strip_prefix('[') {
        inner.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    host.to_ascii_lowercase()
}

const SSH: &str = "ssh://";
const HTTPS: &str = "https://";
const HTTP: &str = "http://";
const FILE: &str = "file://";

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// `ref`/`version`, `timeout`, `submodules` from the query; a query Go cannot
/// parse yields the defaults (as in kustomize).
fn parse_query(query: &str) -> (String, Option<Duration>, bool) {
    let defaults = (String::new(), None, true);
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in query.split('&') {
        if part.is_empty() {
            continue;
        }
        if part.contains(';') {
            return defaults;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let (Some(k), Some(v)) = (query_unescape(k), query_unescape(v)) else {
            return defaults;
        };
        pairs.push((k, v));
    }
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    };
    let mut git_ref = get("version").to_owned();
    if !get("ref").is_empty() {
        git_ref = get("ref").to_owned();
    }
    let timeout = match get("timeout") {
        "" => None,
        t => match t.parse::<i64>() {
            Ok(secs) if secs > 0 => u64::try_from(secs).ok().map(Duration::from_secs),
            _ => parse_go_duration(t).filter(|d| !d.is_zero()),
        },
    };
    let submodules = parse_go_bool(get("submodules")).unwrap_or(true);
    (git_ref, timeout, submodules)
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte; `None` on a bad
/// escape or bytes that are not UTF-8.
fn query_unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16))?;
                let lo = bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16))?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `time.ParseDuration` for non-negative durations (`90s`, `1m30s`,
/// `1.5h`, `500ms`); `None` when Go would fail or the value overflows.
fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Some(Duration::ZERO);
    }
    if s.is_empty() || s.starts_with('-') {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_end);
        if num.is_empty() || num == "." {
            return None;
        }
        let value: f64 = num.parse().ok()?;
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += value * scale;
        rest = tail;
    }
    // Go's durations stop at about 292 years.
    if !total.is_finite() || total > 9.2e9 {
        return None;
    }
    Some(Duration::from_secs_f64(total))
}

/// Scheme, user and host (`extractHost`), and what follows them.
fn extract_host(n: &str) -> Result<(String, String), String> {
    let (scheme, n) = [SSH, HTTPS, HTTP, FILE]
        .iter()
        .find_map(|p| strip_prefix_ignore_case(n, p).map(|rest| (*p, rest)))
        .unwrap_or(("", n));
    let (username, n) = split_username(n);
    let lower = n.get(..11).map(str::to_ascii_lowercase).unwrap_or_default();
    let std_github = lower == "github.com/" || lower == "github.com:";
    let accept_scp = scheme.is_empty() && (!username.is_empty() || std_github);
    if scheme.is_empty() && !accept_scp {
        return Err("failed to parse scheme".to_owned());
    }
    if scheme == FILE {
        // kustomize keeps a user part of a file URL in the path.
        return Ok((scheme.to_owned(), format!("{username}{n}")));
    }
    let mut sep = n.find('/');
    if accept_scp {
        if let Some(colon) = n.find(':') {
            if sep.is_none() || sep.is_some_and(|s| colon > 0 && colon < s) {
                sep = Some(colon);
            }
        }
    }
    let (mut host, rest) = match sep {
        Some(i) => (n.get(..=i).unwrap_or(n), n.get(i + 1..).unwrap_or("")),
        None => (n, ""),
    };
    let (mut scheme, mut username) = (scheme, username);
    if std_github {
        if scheme.starts_with(SSH) || !username.is_empty() {
            scheme = "";
            host = "github.com:";
        } else {
            scheme = HTTPS;
            username = "";
            host = "github.com/";
        }
    }
    if host.is_empty() {
        return Err("failed to parse host segment".to_owned());
    }
    Ok((format!("{scheme}{username}{host}"), rest.to_owned()))
}

/// kustomize's user-name pattern `^[a-zA-Z][a-zA-Z0-9-]*@`: the user (with
/// its `@`) and the rest.
fn split_username(s: &str) -> (&str, &str) {
    let bytes = s.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        return ("", s);
    }
    let end = bytes
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'))
        .unwrap_or(bytes.len());
    if bytes.get(end) == Some(&b'@') {
        (s.get(..=end).unwrap_or(""), s.get(end + 1..).unwrap_or(""))
    } else {
        ("", s)
    }
}

/// The repository path and the directory inside it (`parsePathParts`).
fn parse_path_parts(n: &str, all_segments: bool) -> Result<(String, String), String> {
    let split = explicit_marker_split(n).or_else(|| {
        if all_segments {
            return Some((n.to_owned(), String::new()));
        }
        let segments: Vec<&str> = n.split('/').collect();
        if segments.len() >= 2 {
            let (first, rest) = segments.split_at(2);
            Some((first.join("/"), rest.join("/")))
        } else {
            None
        }
    });
    let Some((repo, root)) = split.filter(|(repo, _)| !repo.is_empty()) else {
        return Err("failed to parse repo path segment".to_owned());
    };
    let trimmed = root.strip_prefix('/').unwrap_or(&root);
    if clean_first_is_parent(trimmed) {
        return Err(format!("url path exits repo: {n}"));
    }
    Ok((repo, trimmed.to_owned()))
}

fn explicit_marker_split(n: &str) -> Option<(String, String)> {
    if let Some(i) = n.find("_git/") {
        let (head, tail) = n.split_at(i + "_git/".len());
        let (first, rest) = tail.split_once('/').unwrap_or((tail, ""));
        return Some((format!("{head}{first}"), rest.to_owned()));
    }
    if let Some(i) = n.find("//") {
        return Some((
            n.get(..i).unwrap_or("").to_owned(),
            n.get(i + 2..).unwrap_or("").to_owned(),
        ));
    }
    if let Some(i) = n.find(".git") {
        let (head, tail) = n.split_at(i + ".git".len());
        return Some((head.to_owned(), tail.to_owned()));
    }
    None
}

/// Whether Go's `filepath.Clean(p)` starts with `..` (the directory climbs out
/// of the repository).
fn clean_first_is_parent(p: &str) -> bool {
    let rooted = p.starts_with('/');
    let mut stack: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => match stack.last() {
                Some(&last) if last != ".." => {
                    stack.pop();
                }
                _ if rooted => {}
                _ => stack.push(".."),
            },
            name => stack.push(name),
        }
    }
    !rooted && stack.first() == Some(&"..")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn parts(raw: &str) -> (String, String, String, String) {
        let s = parse_repo_spec(raw).unwrap();
        (s.host, s.repo_path, s.kust_root, s.git_ref)
    }

    fn t(a: &str, b: &str, c: &str, d: &str) -> (String, String, String, String) {
        (a.into(), b.into(), c.into(), d.into())
    }

    #[test]
    fn forms_kustomize_accepts() {
        assert_eq!(
            parts("https://github.com/org/repo/deploy/x?ref=v1.2.0"),
            t("https://github.com/", "org/repo", "deploy/x", "v1.2.0")
        );
        assert_eq!(
            parts("github.com/org/repo/path"),
            t("https://github.com/", "org/repo", "path", "")
        );
        assert_eq!(
            parts("git@github.com:org/repo.git/sub?version=main"),
            t("git@github.com:", "org/repo.git", "sub", "main")
        );
        assert_eq!(
            parts("ssh://git@example.com/org/repo//a/b?ref=x&version=y"),
            t("ssh://git@example.com/", "org/repo", "a/b", "x")
        );
        assert_eq!(
            parts("git@gitlab.com:group/repo//dir"),
            t("git@gitlab.com:", "group/repo", "dir", "")
        );
        assert_eq!(
            parts("file:///srv/repos/r.git//deploy?ref=v1"),
            t("file://", "/srv/repos/r.git", "deploy", "v1")
        );
        assert_eq!(
            parts("file:///srv/repos/r"),
            t("file://", "/srv/repos/r", "", "")
        );
        assert_eq!(
            parts("https://dev.azure.com/org/proj/_git/repo/sub/dir"),
            t(
                "https://dev.azure.com/",
                "org/proj/_git/repo",
                "sub/dir",
                ""
            )
        );
        assert_eq!(
            parts("http://127.0.0.1:8080/repo.git//base"),
            t("http://127.0.0.1:8080/", "repo.git", "base", "")
        );
        let s =
            parse_repo_spec("git::https://example.com/o/r?timeout=90&submodules=false").unwrap();
        assert!(s.git_prefix);
        assert_eq!(s.clone_spec(), "https://example.com/o/r");
        assert_eq!(s.timeout, Some(Duration::from_secs(90)));
        assert!(!s.submodules);
        let s = parse_repo_spec("https://example.com/o/r?timeout=1m30s").unwrap();
        assert_eq!(s.timeout, Some(Duration::from_secs(90)));
        let s = parse_repo_spec("https://example.com/o/r?timeout=bad").unwrap();
        assert_eq!(s.timeout, None);
    }

    #[test]
    fn forms_kustomize_refuses() {
        for raw in [
            "/abs/path",
            "relative/dir",
            "../base",
            "https://",
            "https://example.com/",
            "https://example.com/o/r//../x",
            "example.com/org/repo",
            "ftp://example.com/o/r",
        ] {
            assert!(parse_repo_spec(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn credentials_never_printed() {
        assert_eq!(
            redact("fatal: https://user:s3cret@host/o/r' and http://tok@h:1/x"),
            "fatal: https://***@host/o/r' and http://***@h:1/x"
        );
        assert_eq!(
            without_credentials("https://user:s3cret@host/o/r"),
            "https://host/o/r"
        );
        assert_eq!(host_of("https://u:p@Example.COM:8443/"), "example.com");
        assert_eq!(host_of("git@github.com:"), "github.com");
        assert_eq!(host_of("file://"), "file");
    }

    #[test]
    fn http_files() {
        assert!(is_remote_file("https://example.com/a.yaml"));
        assert!(is_remote_file("HTTP://example.com/a.yaml"));
        assert!(!is_remote_file("file:///a.yaml"));
        assert!(!is_remote_file("a.yaml"));
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC*") {
            let _ = parse_repo_spec(&s);
            let _ = redact(&s);
            let _ = without_credentials(&s);
            let _ = host_of(&s);
            let _ = is_remote_file(&s);
        }

        #[test]
        fn url_like_input_never_panics(
            scheme in "(git::)?(https?://|ssh://|file://|git@|github\\.com[:/]|)",
            body in "[a-zA-Z0-9@:/._~%?&=+-]{0,40}",
        ) {
            let _ = parse_repo_spec(&format!("{scheme}{body}"));
        }
    }
}
