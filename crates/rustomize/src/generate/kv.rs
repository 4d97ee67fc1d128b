//! Key/value sources of a generator — `envs` files, `literals` and `files` —
//! read into pairs with kustomize's rules (`api/kv`), in kustomize's order: all
//! env files first, then literals, then files.
//!
//! * literal `k=v`: split at the first `=`; a missing or leading `=` is an error;
//!   one pair of matching surrounding quotes (`"` or `'`) is removed from the value;
//! * file `path` or `key=path`: the key defaults to the path's base name; more
//!   than one `=`, or an empty key or path, is an error; contents are bytes (a
//!   ConfigMap puts non-UTF-8 contents in `binaryData`);
//! * env file: one `key=value` per line, split at the first `=`; leading
//!   whitespace is dropped; blank lines and lines starting with `#` are skipped;
//!   a line without `=` gives an empty value; the value is kept verbatim (no
//!   quote removal, no trimming — `export` is part of the key); `\r` before the
//!   newline is dropped; a UTF-8 BOM is dropped from the first line; a line with
//!   invalid UTF-8 is an error. Like Go's `bufio.Scanner` (whose error kustomize
//!   ignores), reading silently stops at a line of 64 KiB or more.
//!
//! kustomize's key validator is a no-op, so keys are not checked; a key repeated
//! across all sources is an error.

use std::collections::HashSet;
use std::path::Path;

use crate::error::Error;
use crate::load::Loader;

/// One key and its value (bytes: file contents need not be text).
pub struct Pair {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Vec<u8>,
}

/// The sources of one generator, as written.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// `literals`.
    pub literals: Vec<String>,
    /// `files`.
    pub files: Vec<String>,
    /// `envs`, then the legacy `env`.
    pub envs: Vec<String>,
}

/// `bufio.MaxScanTokenSize`: a line this long stops Go's line scanner.
const MAX_LINE: usize = 64 * 1024;

/// Reads every source into pairs; `fail` builds an error about the
/// kustomization `origin` (the file holding the generator), which a file that
/// cannot be loaded is reported against too, with the generator and field.
pub fn load(
    loader: &Loader,
    sources: &Sources,
    generator: &dyn std::fmt::Display,
    origin: &Path,
    fail: &dyn Fn(String) -> Error,
) -> Result<Vec<Pair>, Error> {
    let mut pairs = Vec::new();
    for env in &sources.envs {
        let (path, bytes) = loader
            .read_bytes(env)
            .map_err(|e| e.in_field(origin, format!("{generator} envs"), env))?;
        env_pairs(&path, &bytes, &mut pairs)?;
    }
    for literal in &sources.literals {
        let (key, value) = parse_literal(literal).ok_or_else(|| {
            fail(format!(
                "{generator}: invalid literal source {}, expected key=value",
                crate::error::excerpt(literal, 100)
            ))
        })?;
        pairs.push(Pair {
            key: key.to_owned(),
            value: value.as_bytes().to_vec(),
        });
    }
    for source in &sources.files {
        let (key, file) =
            parse_file_source(source).map_err(|m| fail(format!("{generator}: {m}")))?;
        let (_, bytes) = loader
            .read_bytes(file)
            .map_err(|e| e.in_field(origin, format!("{generator} files"), file))?;
        pairs.push(Pair { key, value: bytes });
    }
    let mut seen: HashSet<&str> = HashSet::with_capacity(pairs.len());
    for pair in &pairs {
        if !seen.insert(&pair.key) {
            return Err(fail(format!(
                "{generator} illegally repeats the key `{}`",
                pair.key
            )));
        }
    }
    Ok(pairs)
}

/// `key=value`, the value without one pair of surrounding quotes.
fn parse_literal(source: &str) -> Option<(&str, &str)> {
    let (key, value) = source.split_once('=')?;
    if key.is_empty() {
        return None;
    }
    Some((key, remove_quotes(value)))
}

fn remove_quotes(s: &str) -> &str {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) if bytes.len() >= 2 && first == last => {
            if *first == b'"' || *first == b'\'' {
                s.get(1..s.len() - 1).unwrap_or(s)
            } else {
                s
            }
        }
        _ => s,
    }
}

/// `[key=]path` → (key, path).
fn parse_file_source(source: &str) -> Result<(String, &str), String> {
    match source.matches('=').count() {
        0 => Ok((base_name(source), source)),
        1 => match source.split_once('=') {
            Some(("", path)) => Err(format!(
                "missing key name for file path \"{path}\" in source \"{source}\""
            )),
            Some((key, "")) => Err(format!(
                "missing file path for key name \"{key}\" in source \"{source}\""
            )),
            Some((key, path)) => Ok((key.to_owned(), path)),
            None => Err(format!("invalid file source \"{source}\"")),
        },
        _ => Err(format!(
            "source \"{source}\" key name or file path contains '='"
        )),
    }
}

/// Go's `path.Base`.
fn base_name(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed
        .rsplit_once('/')
        .map_or(trimmed, |(_, base)| base)
        .to_owned()
}

/// The pairs of one env file.
fn env_pairs(path: &Path, bytes: &[u8], out: &mut Vec<Pair>) -> Result<(), Error> {
    let mut rest = bytes;
    let mut number = 0usize;
    while !rest.is_empty() {
        let (raw, next) = match rest.iter().position(|b| *b == b'\n') {
            Some(at) => (
                rest.get(..at).unwrap_or_default(),
                rest.get(at + 1..).unwrap_or_default(),
            ),
            None => (rest, &[][..]),
        };
        if raw.len() >= MAX_LINE {
            break;
        }
        rest = next;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Ok(mut text) = std::str::from_utf8(line) else {
            return Err(Error::Resource {
                path: path.to_path_buf(),
                message: format!("env file line {} has invalid UTF-8", number + 1),
            });
        };
        if number == 0 {
            text = text.strip_prefix('\u{feff}').unwrap_or(text);
        }
        number += 1;
        let text = text.trim_start();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (key, value) = text.split_once('=').unwrap_or((text, ""));
        if key.is_empty() {
            continue;
        }
        out.push(Pair {
            key: key.to_owned(),
            value: value.as_bytes().to_vec(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        env_pairs(Path::new("x.env"), text, &mut out).ok();
        out.into_iter()
            .map(|p| (p.key, String::from_utf8_lossy(&p.value).into_owned()))
            .collect()
    }

    #[test]
    fn env_file_rules() {
        let got =
            parse(b"\xEF\xBB\xBFA=1\n  # c\nexport B=2\nC=\"q\" \r\nD\n=skip\nE=x=y\n\tF = z");
        let want = [
            ("A", "1"),
            ("export B", "2"),
            ("C", "\"q\" "),
            ("D", ""),
            ("E", "x=y"),
            ("F ", " z"),
        ];
        assert_eq!(got.len(), want.len());
        for ((k, v), (wk, wv)) in got.iter().zip(want) {
            assert_eq!((k.as_str(), v.as_str()), (wk, wv));
        }
    }

    #[test]
    fn env_file_stops_at_an_overlong_line() {
        let mut text = b"A=1\nB=".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE));
        text.extend_from_slice(b"\nC=3\n");
        let got = parse(&text);
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn literals_and_file_sources() {
        assert_eq!(parse_literal("a=\"x y\""), Some(("a", "x y")));
        assert_eq!(parse_literal("a='x"), Some(("a", "'x")));
        assert_eq!(parse_literal("=x"), None);
        assert_eq!(parse_literal("x"), None);
        assert_eq!(
            parse_file_source("dir/f.txt"),
            Ok(("f.txt".to_owned(), "dir/f.txt"))
        );
        assert_eq!(parse_file_source("k=f"), Ok(("k".to_owned(), "f")));
        assert!(parse_file_source("k==f").is_err());
        assert!(parse_file_source("=f").is_err());
        assert_eq!(base_name("a/b/"), "b");
    }
}
