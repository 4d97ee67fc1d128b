//! User regular expressions, read with Go's `regexp/syntax` rules and compiled
//! with the `regex` crate. kustomize compiles patch-target fields, image names and
//! replacement path filters with Go's RE2 dialect; the two dialects mostly agree,
//! but where they differ the same kustomization must select the same resources,
//! and what Go rejects must be rejected:
//!
//! * repeat counts: Go refuses a count over 1000 and nested counts whose product
//!   passes 1000 (`(a{500}){500}`), and `{` that does not form a valid count is a
//!   literal in Go (`a{,5}`, `a{01}`, `a{`), not an error or a repeat;
//! * nested repetition operators (`a**`, `a{2}{3}`) and groups nested past
//!   1000 levels are errors in Go;
//! * escapes: `\d`, `\w`, `\s`, `\b` are ASCII in Go, `\<` is a literal `<`,
//!   `\Q...\E` quotes, and escapes Go does not know are errors;
//! * classes: `&&`, `--`, `~~` and `[` are literals in Go's classes.
//!
//! So this module scans the pattern once, reports Go's errors with Go's wording,
//! and writes an equivalent pattern for the `regex` crate, whose compiled size
//! stays under the crate's limit (a clear error, never unbounded memory).

use std::collections::HashSet;

use regex::{Regex, RegexBuilder};

/// Go's limit on repeat counts (and on their nested product).
const MAX_REPEAT: u64 = 1000;
/// Go's limit on the nesting of groups.
const MAX_NESTING: usize = 1000;
/// The compiled program may take this much memory (the `regex` crate's default).
const SIZE_LIMIT: usize = 10 * 1024 * 1024;

/// Compiles `pattern` as Go would, wrapped as `^(?:pattern)$` when `anchored`.
/// Errors read like Go's (`error parsing regexp: invalid repeat count: ...`).
pub fn compile(pattern: &str, anchored: bool) -> Result<Regex, String> {
    let translated = translate(pattern).map_err(|e| format!("error parsing regexp: {e}"))?;
    let source = if anchored {
        format!("^(?:{translated})$")
    } else {
        translated
    };
    RegexBuilder::new(&source)
        .size_limit(SIZE_LIMIT)
        .nest_limit(u32::try_from(4 * MAX_NESTING).unwrap_or(u32::MAX))
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => {
                format!("regular expression too large: its compiled form passes {limit} bytes")
            }
            other => {
                let text = other.to_string();
                // The crate's messages span lines (they draw the pattern).
                let last = text.lines().last().unwrap_or_default().trim();
                format!("error parsing regexp: {last}")
            }
        })
}

/// A group being scanned.
struct Level {
    /// The largest product of nested repeat counts among its atoms so far.
    factor: u64,
}

/// The last atom of the current level, which a repetition operator applies to.
#[derive(Clone, Copy)]
struct Atom {
    factor: u64,
    /// Where the last repetition operator applied to it starts in the input, if
    /// the atom was just repeated (a second operator is a nested repetition).
    repeated_at: Option<usize>,
}

struct Scanner<'p> {
    text: &'p str,
    chars: Vec<(usize, char)>,
    pos: usize,
    out: String,
    levels: Vec<Level>,
    atom: Option<Atom>,
    names: HashSet<String>,
}

/// Checks `pattern` against Go's syntax and writes the `regex` crate's spelling.
pub fn translate(pattern: &str) -> Result<String, String> {
    let mut s = Scanner {
        text: pattern,
        chars: pattern.char_indices().collect(),
        pos: 0,
        out: String::with_capacity(pattern.len() + 16),
        levels: vec![Level { factor: 1 }],
        atom: None,
        names: HashSet::new(),
    };
    s.run()?;
    Ok(s.out)
}

fn go_error(code: &str, expr: &str) -> String {
    format!("{code}: `{expr}`")
}

impl<'p> Scanner<'p> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|&(_, c)| c)
    }

    /// Byte offset of char index `i` in the input.
    fn offset(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.text.len(), |&(o, _)| o)
    }

    /// The input from char index `from` to the current position.
    fn slice_from(&self, from: usize) -> &'p str {
        self.text
            .get(self.offset(from)..self.offset(self.pos))
            .unwrap_or_default()
    }

    fn rest(&self) -> &'p str {
        self.text.get(self.offset(self.pos)..).unwrap_or_default()
    }

    /// Records a finished atom at the current level.
    fn push_atom(&mut self, factor: u64) {
        self.atom = Some(Atom {
            factor,
            repeated_at: None,
        });
        if let Some(level) = self.levels.last_mut() {
            level.factor = level.factor.max(factor);
        }
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.peek(0) {
            match c {
                '(' => self.open_group()?,
                ')' => {
                    if self.levels.len() < 2 {
                        return Err(go_error("unexpected )", self.text));
                    }
                    let factor = self.levels.pop().map_or(1, |l| l.factor);
                    self.pos += 1;
                    self.out.push(')');
                    self.push_atom(factor);
                }
                '|' => {
                    self.pos += 1;
                    self.out.push('|');
                    self.atom = None;
                }
                '*' | '+' | '?' => {
                    let start = self.pos;
                    self.pos += 1;
                    self.out.push(c);
                    self.repeat(start, None)?;
                }
                '{' => match self.repeat_count() {
                    Some((len, min, max)) => {
                        let start = self.pos;
                        self.pos += len;
                        let written = match max {
                            Some(max) if max == min => format!("{{{min}}}"),
                            Some(max) => format!("{{{min},{max}}}"),
                            None => format!("{{{min},}}"),
                        };
                        self.repeat(start, Some((min, max)))?;
                        self.out.push_str(&written);
                        if self.peek(0) == Some('?') {
                            self.pos += 1;
                            self.out.push('?');
                        }
                    }
                    None => {
                        self.pos += 1;
                        self.out.push_str("\\{");
                        self.push_atom(1);
                    }
                },
                '[' => {
                    self.class()?;
                    self.push_atom(1);
                }
                '\\' => self.escape_outside()?,
                '.' | '^' | '$' => {
                    self.pos += 1;
                    self.out.push(c);
                    self.push_atom(1);
                }
                _ => {
                    self.pos += 1;
                    self.out
                        .push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
                    self.push_atom(1);
                }
            }
        }
        if self.levels.len() > 1 {
            return Err(go_error("missing closing )", self.text));
        }
        Ok(())
    }

    /// Applies a repetition operator (starting at char `start`, already consumed
    /// up to its end) to the last atom; `counts` for `{min,max}`.
    fn repeat(&mut self, start: usize, counts: Option<(u64, Option<u64>)>) -> Result<(), String> {
        let Some(mut atom) = self.atom else {
            return Err(go_error(
                "missing argument to repetition operator",
                self.slice_from(start),
            ));
        };
        if let Some(prev) = atom.repeated_at {
            return Err(go_error(
                "invalid nested repetition operator",
                self.slice_from(prev),
            ));
        }
        if let Some((min, max)) = counts {
            if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
                return Err(go_error("invalid repeat count", self.slice_from(start)));
            }
            // Go multiplies nested counts (the upper one, or the lower when
            // unbounded; a count of zero drops what it repeats) and refuses
            // a product over 1000 when this count is at least 2.
            let m = match max {
                Some(0) => 0,
                Some(m) => m,
                None => min,
            };
            let factor = if m == 0 {
                1
            } else {
                m.saturating_mul(atom.factor)
            };
            if (min >= 2 || max.is_some_and(|m| m >= 2)) && factor > MAX_REPEAT {
                return Err(go_error("invalid repeat count", self.slice_from(start)));
            }
            atom.factor = factor;
            if let Some(level) = self.levels.last_mut() {
                level.factor = level.factor.max(factor);
            }
        } else if self.peek(0) == Some('?') {
            // A lazy marker belongs to the operator.
            self.pos += 1;
            self.out.push('?');
        }
        atom.repeated_at = Some(start);
        self.atom = Some(atom);
        Ok(())
    }

    /// `{n}`, `{n,}` or `{n,m}` at the current position: (chars, min, max).
    /// Anything else (including a leading zero) is not a count, as in Go.
    fn repeat_count(&self) -> Option<(usize, u64, Option<u64>)> {
        let number = |from: usize| -> Option<(usize, u64)> {
            let mut i = from;
            while self.peek(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            let digits: String = (from..i).filter_map(|k| self.peek(k)).collect();
            if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
                return None;
            }
            // Go gives up on more than 8 digits and reports an invalid count.
            let value = if digits.len() > 8 {
                u64::MAX
            } else {
                digits.parse().ok()?
            };
            Some((i, value))
        };
        let (i, min) = number(1)?;
        match self.peek(i)? {
            '}' => Some((i + 1, min, Some(min))),
            ',' => {
                if self.peek(i + 1)? == '}' {
                    return Some((i + 2, min, None));
                }
                let (j, max) = number(i + 1)?;
                (self.peek(j)? == '}').then_some((j + 1, min, Some(max)))
            }
            _ => None,
        }
    }

    fn open_group(&mut self) -> Result<(), String> {
        let start = self.pos;
        if self.levels.len() >= MAX_NESTING {
            return Err(go_error("expression nests too deeply", self.text));
        }
        if self.peek(1) != Some('?') {
            self.pos += 1;
            self.out.push_str("(?:");
            self.levels.push(Level { factor: 1 });
            self.atom = None;
            return Ok(());
        }
        let rest = self.rest();
        let named = rest
            .strip_prefix("(?P<")
            .or_else(|| rest.strip_prefix("(?<"));
        if let Some(after) = named {
            let Some(end) = after.find('>') else {
                return Err(go_error("invalid named capture", rest));
            };
            let name = after.get(..end).unwrap_or_default();
            let head_len = rest.len() - after.len() + end + 1;
            let head = rest.get(..head_len).unwrap_or_default();
            if name.is_empty() || !name.chars().all(|c| c == '_' || c.is_alphanumeric()) {
                return Err(go_error("invalid named capture", head));
            }
            if !self.names.insert(name.to_owned()) {
                return Err(go_error("duplicate capture group name", name));
            }
            self.pos += head.chars().count();
            // Captures are never read, so a plain group keeps Go's looser names.
            self.out.push_str("(?:");
            self.levels.push(Level { factor: 1 });
            self.atom = None;
            return Ok(());
        }
        // Flags: (?flags) or (?flags:re), flags from imsU with at most one '-'.
        let mut i = 2;
        let mut negated = false;
        let mut any_after_minus = false;
        loop {
            let Some(c) = self.peek(i) else {
                return Err(go_error("missing closing )", self.text));
            };
            match c {
                'i' | 'm' | 's' | 'U' => {
                    if negated {
                        any_after_minus = true;
                    }
                }
                '-' if !negated => negated = true,
                ':' | ')' if !negated || any_after_minus => {
                    let end = start + i + 1;
                    let head: String = (start..end)
                        .filter_map(|k| self.chars.get(k).map(|&(_, c)| c))
                        .collect();
                    self.pos = end;
                    if c == ':' {
                        self.out.push_str(&head);
                        self.levels.push(Level { factor: 1 });
                        self.atom = None;
                    } else if head.len() > 3 {
                        self.out.push_str(&head);
                    }
                    return Ok(());
                }
                _ => {
                    self.pos = start + i + 1;
                    let expr = self.slice_from(start).to_owned();
                    self.pos = start;
                    return Err(go_error("invalid or unsupported Perl syntax", &expr));
                }
            }
            i += 1;
        }
    }

    /// An escape outside a class.
    fn escape_outside(&mut self) -> Result<(), String> {
        match self.peek(1) {
            Some('Q') => {
                self.pos += 2;
                let rest = self.rest();
                let (quoted, used) = match rest.find("\\E") {
                    Some(end) => (rest.get(..end).unwrap_or_default(), end + 2),
                    None => (rest, rest.len()),
                };
                self.pos += rest.get(..used).unwrap_or_default().chars().count();
                for c in quoted.chars() {
                    self.out
                        .push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
                    self.push_atom(1);
                }
                Ok(())
            }
            Some(c @ ('A' | 'z')) => {
                self.pos += 2;
                self.out.push('\\');
                self.out.push(c);
                self.push_atom(1);
                Ok(())
            }
            Some(c @ ('b' | 'B')) => {
                // Go's word boundaries are ASCII.
                self.pos += 2;
                self.out.push_str(&format!("(?-u:\\{c})"));
                self.push_atom(1);
                Ok(())
            }
            _ => {
                let piece = self.escape_piece(false)?;
                self.out.push_str(&piece);
                self.push_atom(1);
                Ok(())
            }
        }
    }

    /// An escape that stands for a character or a class, as the `regex` crate's
    /// spelling (a bracketed class when `in_class` is false; a class item when
    /// true).
    fn escape_piece(&mut self, in_class: bool) -> Result<String, String> {
        let start = self.pos;
        let Some(c) = self.peek(1) else {
            return Err(go_error("trailing backslash at end of expression", ""));
        };
        self.pos += 2;
        let perl = |set: &str, negated: bool| -> String {
            match (in_class, negated) {
                (true, false) => set.to_owned(),
                (_, true) => format!("[^{set}]"),
                (false, false) => format!("[{set}]"),
            }
        };
        let literal = |ch: char| -> String {
            if in_class {
                class_literal(ch)
            } else {
                regex::escape(ch.encode_utf8(&mut [0; 4]))
            }
        };
        Ok(match c {
            'd' => perl("0-9", false),
            'D' => perl("0-9", true),
            's' => perl("\\t\\n\\x0C\\r ", false),
            'S' => perl("\\t\\n\\x0C\\r ", true),
            'w' => perl("0-9A-Za-z_", false),
            'W' => perl("0-9A-Za-z_", true),
            'a' => literal('\x07'),
            'f' => literal('\x0C'),
            't' => literal('\t'),
            'n' => literal('\n'),
            'r' => literal('\r'),
            'v' => literal('\x0B'),
            'p' | 'P' => {
                let name = if self.peek(0) == Some('{') {
                    let rest = self.rest();
                    let Some(end) = rest.find('}') else {
                        return Err(go_error(
                            "invalid character class range",
                            self.slice_from(start),
                        ));
                    };
                    let name = rest.get(..=end).unwrap_or_default().to_owned();
                    self.pos += name.chars().count();
                    name
                } else {
                    let Some(ch) = self.peek(0) else {
                        return Err(go_error(
                            "invalid character class range",
                            self.slice_from(start),
                        ));
                    };
                    self.pos += 1;
                    ch.to_string()
                };
                format!("\\{c}{name}")
            }
            'x' => {
                let digits: String = if self.peek(0) == Some('{') {
                    let rest = self.rest();
                    let Some(end) = rest.find('}') else {
                        return Err(go_error("invalid escape sequence", self.rest()));
                    };
                    let inner = rest.get(1..end).unwrap_or_default().to_owned();
                    self.pos += rest.get(..=end).unwrap_or_default().chars().count();
                    inner
                } else {
                    // Exactly two hex digits; Go reads past the pattern's end
                    // into its own wrapper, so one digit is an error.
                    let two: String = (0..2).filter_map(|k| self.peek(k)).collect();
                    self.pos += two.chars().count();
                    if two.chars().count() < 2 {
                        return Err(go_error("invalid escape sequence", self.slice_from(start)));
                    }
                    two
                };
                let ch = u32::from_str_radix(&digits, 16)
                    .ok()
                    .filter(|_| !digits.is_empty() && digits.len() <= 8)
                    .and_then(char::from_u32)
                    .ok_or_else(|| go_error("invalid escape sequence", self.slice_from(start)))?;
                literal(ch)
            }
            '0'..='7' => {
                // Octal: `\0` plus up to two digits, or `\1`-`\7` followed by
                // at least one more octal digit (a lone digit is a backreference).
                let mut digits = String::from(c);
                while digits.len() < 3 && self.peek(0).is_some_and(|d| ('0'..='7').contains(&d)) {
                    digits.extend(self.peek(0));
                    self.pos += 1;
                }
                if c != '0' && digits.len() < 2 {
                    return Err(go_error("invalid escape sequence", self.slice_from(start)));
                }
                let ch = u32::from_str_radix(&digits, 8)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\0');
                literal(ch)
            }
            ch if ch.is_ascii_punctuation() => literal(ch),
            _ => return Err(go_error("invalid escape sequence", self.slice_from(start))),
        })
    }

    /// A bracketed class, written with every literal escaped (Go's `&&`, `--`,
    /// `~~` and `[` are plain characters).
    fn class(&mut self) -> Result<(), String> {
        let start = self.pos;
        self.pos += 1;
        let mut body = String::from("[");
        if self.peek(0) == Some('^') {
            self.pos += 1;
            body.push('^');
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek(0) else {
                return Err(go_error("missing closing ]", self.slice_from(start)));
            };
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            if c == '[' && self.peek(1) == Some(':') {
                let rest = self.rest();
                if let Some(end) = rest.get(2..).and_then(|r| r.find(":]")) {
                    let item = rest.get(..end + 4).unwrap_or_default().to_owned();
                    let name = item.get(2..item.len() - 2).unwrap_or_default();
                    let known = [
                        "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower",
                        "print", "punct", "space", "upper", "word", "xdigit",
                    ];
                    let bare = name.strip_prefix('^').unwrap_or(name);
                    if !known.contains(&bare) {
                        return Err(go_error("invalid character class range", &item));
                    }
                    self.pos += item.chars().count();
                    body.push_str(&item);
                    continue;
                }
            }
            let lo_start = self.pos;
            let lo = self.class_char()?;
            let is_range = self.peek(0) == Some('-') && self.peek(1).is_some_and(|n| n != ']');
            match (lo, is_range) {
                (ClassItem::Char(lo), true) => {
                    self.pos += 1;
                    let hi = match self.class_char()? {
                        ClassItem::Char(hi) => hi,
                        ClassItem::Set(_) => {
                            return Err(go_error(
                                "invalid character class range",
                                self.slice_from(lo_start),
                            ))
                        }
                    };
                    if hi < lo {
                        return Err(go_error(
                            "invalid character class range",
                            self.slice_from(lo_start),
                        ));
                    }
                    body.push_str(&class_literal(lo));
                    body.push('-');
                    body.push_str(&class_literal(hi));
                }
                (ClassItem::Char(ch), false) => body.push_str(&class_literal(ch)),
                (ClassItem::Set(set), _) => body.push_str(&set),
            }
        }
        body.push(']');
        self.out.push_str(&body);
        Ok(())
    }

    /// One class member: a character or (for `\d`, `\pL`, ...) a set.
    fn class_char(&mut self) -> Result<ClassItem, String> {
        let Some(c) = self.peek(0) else {
            return Err(go_error("missing closing ]", self.rest()));
        };
        if c != '\\' {
            self.pos += 1;
            return Ok(ClassItem::Char(c));
        }
        let next = self.peek(1);
        let piece = self.escape_piece(true)?;
        // Escapes that name one character come back as that character's
        // spelling; recover it so it can bound a range.
        let single = match next {
            Some('d' | 'D' | 's' | 'S' | 'w' | 'W' | 'p' | 'P') => None,
            _ => unescape_class_literal(&piece),
        };
        Ok(match single {
            Some(ch) => ClassItem::Char(ch),
            None => ClassItem::Set(piece),
        })
    }
}

enum ClassItem {
    Char(char),
    Set(String),
}

/// A character as a class member in the `regex` crate's syntax.
fn class_literal(c: char) -> String {
    if c.is_ascii_punctuation() || c == ' ' {
        format!("\\{c}")
    } else if c.is_ascii_control() || c.is_whitespace() {
        format!("\\x{{{:X}}}", u32::from(c))
    } else {
        c.to_string()
    }
}

fn unescape_class_literal(s: &str) -> Option<char> {
    if let Some(hex) = s.strip_prefix("\\x{").and_then(|r| r.strip_suffix('}')) {
        return u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
    }
    let mut chars = s.chars();
    let first = chars.next()?;
    let second = chars.next();
    match (first, second, chars.next()) {
        ('\\', Some(c), None) => Some(c),
        (c, None, None) => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::compile;

    fn err(p: &str) -> String {
        compile(p, true).err().unwrap_or_default()
    }

    fn hit(p: &str, text: &str) -> bool {
        compile(p, true).map(|r| r.is_match(text)).unwrap_or(false)
    }

    #[test]
    fn go_repeat_limits() {
        assert_eq!(
            err("a{1001}"),
            "error parsing regexp: invalid repeat count: `{1001}`"
        );
        assert_eq!(
            err("a{2,1001}"),
            "error parsing regexp: invalid repeat count: `{2,1001}`"
        );
        assert_eq!(
            err("(a{500}){500}"),
            "error parsing regexp: invalid repeat count: `{500}`"
        );
        assert_eq!(
            err("(a{2}){501}"),
            "error parsing regexp: invalid repeat count: `{501}`"
        );
        assert!(compile("(a{2}){500}", true).is_ok());
        assert_eq!(
            err("a{99999999999}"),
            "error parsing regexp: invalid repeat count: `{99999999999}`"
        );
        assert_eq!(
            err("a{2}{3}"),
            "error parsing regexp: invalid nested repetition operator: `{2}{3}`"
        );
        assert_eq!(
            err("a++"),
            "error parsing regexp: invalid nested repetition operator: `++`"
        );
        assert_eq!(
            err("*a"),
            "error parsing regexp: missing argument to repetition operator: `*`"
        );
        assert_eq!(
            err("{2}"),
            "error parsing regexp: missing argument to repetition operator: `{2}`"
        );
        assert!(hit("a{1000}?", &"a".repeat(1000)));
        assert!(hit("a*?b", "aab"));
    }

    #[test]
    fn go_literals_and_escapes() {
        assert!(hit("a{,5}", "a{,5}"));
        assert!(hit("a{01}", "a{01}"));
        assert!(hit("a{", "a{"));
        assert!(hit("\\<a", "<a"));
        assert!(hit("\\Qa.b\\E", "a.b"));
        assert!(!hit("\\Qa.b\\E", "axb"));
        assert!(hit("[a&&b]", "&"));
        assert!(hit("[-a]", "-"));
        assert_eq!(
            err("[a--b]"),
            "error parsing regexp: invalid character class range: `a--`"
        );
        assert!(!hit("\\d", "٣"));
        assert!(hit("\\d+", "42"));
        assert!(hit("(?P<1a>x)", "x"));
        assert!(hit("(?i)AB", "ab"));
        assert!(hit("[\\d.]+", "1.2"));
        assert!(hit("\\pL+", "abc"));
        assert!(hit("a|b", "b"));
        assert!(hit("[]a]", "]"));
        assert!(hit("[^]a]", "b"));
        assert!(hit("\\x41\\x{42}\\101", "ABA"));
        assert!(hit("a\\b", "a"));
        assert_eq!(
            err("\\e"),
            "error parsing regexp: invalid escape sequence: `\\e`"
        );
        assert_eq!(
            err("\\8"),
            "error parsing regexp: invalid escape sequence: `\\8`"
        );
        assert_eq!(
            err("(?x)a"),
            "error parsing regexp: invalid or unsupported Perl syntax: `(?x`"
        );
        assert_eq!(
            err("(?=a)"),
            "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"
        );
        assert_eq!(
            err("[[:foo:]]"),
            "error parsing regexp: invalid character class range: `[:foo:]`"
        );
    }

    #[test]
    fn nesting_and_size() {
        let deep = format!("{}a{}", "(".repeat(600), ")".repeat(600));
        assert!(hit(&deep, "a"));
        let too_deep = format!("{}a{}", "(".repeat(1001), ")".repeat(1001));
        assert!(err(&too_deep).starts_with("error parsing regexp: expression nests too deeply"));
        let big = "(?:a{1000})".repeat(3000);
        assert!(err(&big).starts_with("regular expression too large"));
    }
}
