//! The Unicode line breaks: NEL (U+0085), LS (U+2028) and PS (U+2029).
//!
//! go-yaml (the libyaml port kustomize reads with) takes all three for line
//! breaks wherever it looks for one: they end comments and plain scalars, start a
//! new line for indentation, and fold in quoted and block scalars. saphyr-parser
//! and the fast reader know only `\n` and `\r`. This module rewrites a text so
//! that both readers see go-yaml's lines:
//!
//! * A NEL is read by go-yaml exactly as a line feed (its line reader turns it into
//!   `\n`, in scalar content too), so it becomes `\n` — or `\r` right after a
//!   `\r`, where `\n` would merge with it into one CR LF break.
//! * An LS or PS is a line break whose character go-yaml *keeps* where a scalar's
//!   content takes a break (a quoted scalar folds `a<PS>  b` to `a<PS>b`, not to
//!   `a b`). It becomes `\n` too, and its position is recorded, so that the fast
//!   reader can put the character back where a break becomes content. Texts the
//!   fast reader cannot read that way are refused (see [`unsupported`]): saphyr
//!   would read them differently from kustomize.

use std::borrow::Cow;

use crate::reader::ParseError;

const NEL: char = '\u{85}';
const LS: char = '\u{2028}';
const PS: char = '\u{2029}';

/// A text with its Unicode line breaks turned into `\n` (or `\r`).
pub(crate) struct Lines<'a> {
    /// The rewritten text.
    pub text: Cow<'a, str>,
    /// Each LS/PS: its offset in [`Lines::text`] (where a `\n` now stands) and
    /// the character, in order.
    pub seps: Vec<(usize, char)>,
    /// The first LS/PS of the original text: its 1-based line (counting `\n` only,
    /// as an editor would) and the character.
    pub first: Option<(usize, char)>,
}

/// Whether `text` holds a NEL, LS or PS. In UTF-8 they are C2 85 and
/// E2 80 A8/A9: a vectorised search for the lead bytes, then a look at the
/// bytes after each (a char-by-char search was ~6% of a Kubeflow build, whose
/// CRD descriptions are full of E2 punctuation).
fn has_breaks(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr2_iter(0xc2, 0xe2, bytes).any(|i| match bytes.get(i) {
        Some(0xc2) => bytes.get(i + 1) == Some(&0x85),
        _ => bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)),
    })
}

/// Rewrites `text` as described in the module comment. Texts without the three
/// characters (every real manifest) are borrowed, after one byte scan.
pub(crate) fn lines(text: &str) -> Lines<'_> {
    if !has_breaks(text) {
        return Lines {
            text: Cow::Borrowed(text),
            seps: Vec::new(),
            first: None,
        };
    }
    let mut out = String::with_capacity(text.len());
    let mut seps = Vec::new();
    let mut first = None;
    let mut line = 1;
    let mut prev = '\0';
    for c in text.chars() {
        match c {
            NEL if prev == '\r' => out.push('\r'),
            NEL => out.push('\n'),
            LS | PS => {
                first.get_or_insert((line, c));
                seps.push((out.len(), c));
                out.push('\n');
            }
            '\n' => {
                line += 1;
                out.push(c);
            }
            _ => out.push(c),
        }
        prev = c;
    }
    Lines {
        text: Cow::Owned(out),
        seps,
        first,
    }
}

/// The error for a text holding LS/PS that only the full reader could read: it
/// would not read them as go-yaml does, so the text is refused rather than read
/// differently from kustomize.
pub(crate) fn unsupported(line: usize, c: char) -> ParseError {
    let (code, name, escape) = if c == LS {
        ("U+2028", "line separator", "\\L")
    } else {
        ("U+2029", "paragraph separator", "\\P")
    };
    ParseError::new(format!(
        "{code} {name} at line {line}: not supported yet here (kustomize reads it as a \
         line break; rustomize only inside quoted and block scalars of block-style YAML); \
         write it as {escape} in a double-quoted string"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_are_found_among_other_two_and_three_byte_characters() {
        assert!(!has_breaks("plain ascii\n"));
        assert!(!has_breaks("it’s — “quoted” é ©"));
        assert!(!has_breaks("truncated \u{e9}"));
        for c in [NEL, LS, PS] {
            assert!(has_breaks(&format!("a’b{c}")));
            assert!(has_breaks(&format!("{c}")));
        }
    }
}
