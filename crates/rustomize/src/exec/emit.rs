//! The YAML of a `ResourceList` as kustomize hands it to a KRM function.
//!
//! kustomize writes the list with kyaml's `kio.ByteWriter` (a go-yaml v3
//! encoder, indentation 2, sequences not indented under their key), which keeps
//! mapping keys in the order the nodes hold them, unlike the sorted go-yaml v2
//! output of `kustomize build` that `rustomize_yaml::write_document` reproduces.
//! So this is a small writer of its own: keys in insertion order, strings plain
//! where the emitter allows it, else single-quoted, else double-quoted; strings
//! with line breaks as literal blocks; long plain and single-quoted strings
//! folded at spaces past column 80, as the emitter does.

use rustomize_yaml::{Map, Value};

/// The column past which the emitter breaks plain and single-quoted scalars.
const BEST_WIDTH: usize = 80;

/// The YAML text of one document. String values under the keys in `single`
/// are single-quoted wherever plain text would not do: kyaml sets those
/// annotations itself (`'0'`, `'true'`), while values that come from resources
/// went through JSON, and a string that would read as another type comes out
/// double-quoted (`"0"`, `"true"`, `"yes"`).
pub(crate) fn document(value: &Value, single: &[&str]) -> String {
    let mut out = String::new();
    match value {
        Value::Map(m) if !m.is_empty() => map(m, 0, false, single, &mut out),
        Value::Seq(s) if !s.is_empty() => seq(s, 0, false, single, &mut out),
        other => {
            scalar(other, 0, 0, false, &mut out);
            out.push('\n');
        }
    }
    out
}

/// The YAML text of mapping `m` as a block with its keys at column `indent`.
pub(crate) fn block_map(m: &Map, indent: usize, single: &[&str]) -> String {
    let mut out = String::new();
    map(m, indent, false, single, &mut out);
    out
}

/// Writes mapping `m` with its keys at column `indent`; `inline` when the first
/// key continues the current line (after a sequence's `- `).
fn map(m: &Map, indent: usize, inline: bool, single: &[&str], out: &mut String) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline {
            push_spaces(out, indent);
        }
        key(k, out);
        out.push(':');
        match v {
            Value::Map(inner) if !inner.is_empty() => {
                out.push('\n');
                map(inner, indent + 2, false, single, out);
            }
            // Compact sequences: the dashes sit at the key's column.
            Value::Seq(items) if !items.is_empty() => {
                out.push('\n');
                seq(items, indent, false, single, out);
            }
            _ => {
                out.push(' ');
                let column = indent + k.chars().count() + 2;
                match v {
                    Value::String(text)
                        if single.contains(&k.as_str())
                            && style(text, false) == Style::Double
                            && !text.contains('\n')
                            && printable(text) =>
                    {
                        single_quoted(text, column, indent + 2, out)
                    }
                    _ => scalar(v, column, indent + 2, true, out),
                }
                out.push('\n');
            }
        }
    }
}

/// Writes the entries of sequence `items`, each `- ` at column `indent`.
fn seq(items: &[Value], indent: usize, inline: bool, single: &[&str], out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline {
            push_spaces(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Map(m) if !m.is_empty() => map(m, indent + 2, true, single, out),
            Value::Seq(s) if !s.is_empty() => seq(s, indent + 2, true, single, out),
            _ => {
                scalar(item, indent + 2, indent + 2, true, out);
                out.push('\n');
            }
        }
    }
}

fn push_spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A mapping key: a simple key, so never a block scalar and never folded.
fn key(k: &str, out: &mut String) {
    match style(k, false) {
        Style::Plain => out.push_str(k),
        Style::Single => {
            out.push('\'');
            out.push_str(&k.replace('\'', "''"));
            out.push('\'');
        }
        Style::Literal | Style::Double => double_quoted(k, out),
    }
}

/// Writes scalar `v` starting at `column`; continuation lines (folds, block
/// contents) are indented to `indent`. `block` when a literal block is allowed.
fn scalar(v: &Value, column: usize, indent: usize, block: bool, out: &mut String) {
    match v {
        Value::Null | Value::Empty => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&rustomize_yaml::format_go_float(*f)),
        Value::String(s) => match style(s, block) {
            Style::Plain => folded_plain(s, column, indent, out),
            Style::Single => single_quoted(s, column, indent, out),
            Style::Literal => literal(s, indent, out),
            Style::Double => double_quoted(s, out),
        },
        Value::Map(_) => out.push_str("{}"),
        Value::Seq(_) => out.push_str("[]"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Literal,
    Double,
}

/// The style the emitter picks for string `s`: plain when that reads back as
/// the same string, single-quoted when only quoting is needed, a literal
/// block for multi-line text (`block`), double-quoted for anything else.
fn style(s: &str, block: bool) -> Style {
    let printable = printable(s);
    if s.contains('\n') {
        // Spaces before a line break cannot survive a block scalar.
        let space_break = s.contains(" \n") || s.contains("\t\n");
        return if block && printable && !space_break {
            Style::Literal
        } else {
            Style::Double
        };
    }
    if !printable {
        return Style::Double;
    }
    if reads_as_other_type(s) {
        Style::Double
    } else if plain_allowed(s) {
        Style::Plain
    } else {
        Style::Single
    }
}

fn printable(s: &str) -> bool {
    s.chars()
        .all(|c| c == '\n' || (!c.is_control() && c != '\u{feff}'))
}

/// Whether plain `s` would read as null, a boolean (YAML 1.1's too) or a
/// number: such strings come out of kustomize's JSON round trip double-quoted.
fn reads_as_other_type(s: &str) -> bool {
    const YAML11_BOOLS: [&str; 16] = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF",
    ];
    s.is_empty()
        || YAML11_BOOLS.contains(&s)
        || !matches!(rustomize_yaml::resolve_plain(s), Value::String(_))
}

/// Whether the emitter may write `s` (one line, printable) unquoted.
fn plain_allowed(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if first.is_whitespace() || s.ends_with(char::is_whitespace) {
        return false;
    }
    let second = s.chars().nth(1);
    let followed_by_blank = second.is_none_or(|c| c == ' ' || c == '\t');
    match first {
        ',' | '[' | ']' | '{' | '}' | '#' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
        | '@' | '`' => return false,
        '-' | '?' | ':' if followed_by_blank => return false,
        _ => {}
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    !(s.contains(": ") || s.contains(":\t") || s.ends_with(':') || s.contains(" #"))
}

/// Plain text, a single space past the best width becoming a line break.
fn folded_plain(s: &str, column: usize, indent: usize, out: &mut String) {
    fold_at_spaces(s, column, indent, out);
}

fn single_quoted(s: &str, column: usize, indent: usize, out: &mut String) {
    out.push('\'');
    fold_at_spaces(
        &s.replace('\'', "''"),
        column.saturating_add(1),
        indent,
        out,
    );
    out.push('\'');
}

/// Writes `s`, replacing a lone space (between two non-spaces) by a line break
/// and `indent` spaces when the column is already past the best width.
fn fold_at_spaces(s: &str, mut column: usize, indent: usize, out: &mut String) {
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let prev_space = i > 0 && chars.get(i - 1) == Some(&' ');
        let next_space = chars.get(i + 1) == Some(&' ');
        if c == ' ' && column > BEST_WIDTH && !prev_space && !next_space && i + 1 < chars.len() {
            out.push('\n');
            push_spaces(out, indent);
            column = indent;
            continue;
        }
        out.push(c);
        column += 1;
    }
}

/// A literal block (`|`, `|-` or `|+`, with an indentation indicator when the
/// text starts with a space), its lines at `indent`.
fn literal(s: &str, indent: usize, out: &mut String) {
    out.push('|');
    if s.starts_with(' ') {
        out.push('2');
    }
    let trailing = s.len() - s.trim_end_matches('\n').len();
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            push_spaces(out, indent);
            out.push_str(line);
        }
    }
}

fn double_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if c.is_control() || c == '\u{feff}' => {
                let n = u32::from(c);
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02X}"));
                } else {
                    out.push_str(&format!("\\u{n:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> Result<String, rustomize_yaml::ParseError> {
        let docs = rustomize_yaml::parse_documents(yaml, &Default::default())?;
        Ok(docs
            .first()
            .map(|d| document(d, &["k"]))
            .unwrap_or_default())
    }

    #[test]
    fn keeps_key_order_and_compact_sequences() -> Result<(), rustomize_yaml::ParseError> {
        let text = "b: 1\na:\n- p: q\n  r: [1]\n- plain text\nc: {}\nd: []\n";
        assert_eq!(
            doc(text)?,
            "b: 1\na:\n- p: q\n  r:\n  - 1\n- plain text\nc: {}\nd: []\n"
        );
        Ok(())
    }

    /// As kustomize writes resource values (double quotes for what would read
    /// as another type) and its own annotations (`k` here: single quotes).
    #[test]
    fn quotes_as_kustomize_does() -> Result<(), rustomize_yaml::ParseError> {
        let text = "a: 'true'\nb: '1'\nc: ''\nd: '- x'\ne: 'a: b'\nf: it's\ng: 'yes'\nk: '0'\n";
        assert_eq!(
            doc(text)?,
            "a: \"true\"\nb: \"1\"\nc: \"\"\nd: '- x'\ne: 'a: b'\nf: it's\ng: \"yes\"\nk: '0'\n"
        );
        Ok(())
    }

    #[test]
    fn multi_line_text_is_a_literal_block() -> Result<(), rustomize_yaml::ParseError> {
        let text = "m:\n  k: |\n    a\n    b\n  l: |-\n    x\n    y\n";
        assert_eq!(doc(text)?, text);
        Ok(())
    }
}
