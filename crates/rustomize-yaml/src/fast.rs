//! A fast reader for the YAML subset that real manifests use.
//!
//! Kubernetes manifests, kustomizations and patches are almost always written in a
//! small part of YAML: block mappings and sequences, plain, quoted and block
//! scalars, comments, document markers and the odd flow collection (`[a, b]`,
//! `{}`, JSON files). This module reads exactly that part straight into
//! [`Value`]s, scanning bytes and borrowing from the input so that the only
//! allocations are the final strings and collections.
//!
//! It never guesses: anything outside the subset (anchors, aliases, tags, `?`
//! keys, directives, `<<` merges, tabs where indentation could be, multi-line
//! keys, ...) and anything malformed makes [`parse`] return `None`, and the caller
//! reads the whole text with the full (saphyr-based) reader instead. Where the
//! subset is read, the result is the one the full reader gives: the scanning
//! rules (plain scalar continuation, quoted scalar folding and escapes, block
//! scalar indentation and chomping, the final line break of a block scalar that
//! ends the text) are those of `saphyr-parser`, and scalars are typed by the same
//! [`resolve_plain`]. `tests/fast_reader.rs` checks this on every corpus file.
//!
//! One deliberate difference ([`Dialect::GoYaml`], the default): like go-yaml v3,
//! which kustomize reads with, the continuation lines of a quoted scalar and the
//! lines of a flow collection (its items, its closing bracket, the lines of a
//! multi-line plain scalar in it) may be indented as little as you like, down to
//! column 0; only a document marker there ends the text. saphyr rejects such
//! lines ("invalid indentation"), so those texts are read here or not at all;
//! [`Dialect::Saphyr`] keeps saphyr's rule, for the differential tests. The
//! same goes for a quirk of go-yaml's folded (`>`) scalars: a more-indented line
//! after a normal one is preceded by one line break more than YAML says.

use std::borrow::Cow;

use crate::map::MapBuilder;
use crate::reader::{resolve_plain, resolve_plain_yaml11, yaml11_key, ParseLimits};
use crate::value::fitted;
use crate::{Map, Str, Value};

/// The input is outside the subset, or malformed: the caller falls back.
struct Unsupported;

type R<T> = Result<T, Unsupported>;

/// What [`parse`] found.
pub(crate) enum Outcome {
    /// The documents of the text.
    Docs(Vec<Value>),
    /// The text is outside the subset (or malformed): read it with the full reader.
    Unsupported,
    /// Collections nest deeper than `max_depth` at this byte offset (everything
    /// before it being in the subset).
    TooDeep(usize),
}

/// Whose reading the fast reader follows where go-yaml v3 and saphyr differ.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Dialect {
    /// go-yaml v3's (kustomize's): lines inside quoted scalars and flow
    /// collections at any column (a document marker at column 0 is an error).
    GoYaml,
    /// saphyr's: such lines deeper than the enclosing block collection.
    Saphyr,
}

/// Keys longer than this are left to the full reader (a YAML implicit key is at
/// most 1024 characters).
const MAX_KEY_LEN: usize = 1000;

/// Reads every document of `text`, allowing collections `max_depth` deep (the
/// reader recurses once per level: the caller picks a depth its stack allows).
///
/// `text` has had its NEL, LS and PS turned into `\n` ([`crate::breaks`]); `seps`
/// says where an LS or PS stood, so that a scalar whose content takes that break
/// keeps the character, as go-yaml does. Multi-line plain scalars folding such a
/// break are left to the caller.
///
/// `known` is what a pass over the bytes of the text (before its breaks were
/// rewritten) already found, so that [`prescan`] need not pass over it again;
/// `None` to let it look.
pub(crate) fn parse(
    text: &str,
    limits: &ParseLimits,
    max_depth: usize,
    seps: &[(usize, char)],
    dialect: Dialect,
    known: Option<Prescanned>,
) -> Outcome {
    let clean = match known {
        Some(k) => !(k.controls || (k.ef && text.contains('\u{feff}'))),
        None => prescan(text),
    };
    if !clean {
        return Outcome::Unsupported;
    }
    let mut p = Fast {
        s: text,
        b: text.as_bytes(),
        seps,
        pos: 0,
        reject: limits.reject_non_string_keys,
        max_depth,
        too_deep: None,
        entries: Vec::new(),
        items: Vec::new(),
        known: (usize::MAX, 0),
        dialect,
        yaml11: limits.yaml11,
        annotation_text: limits.annotation_text,
        ann: 0,
    };
    match p.stream() {
        Ok(docs) => Outcome::Docs(docs),
        Err(Unsupported) => match p.too_deep {
            Some(at) => Outcome::TooDeep(at),
            None => Outcome::Unsupported,
        },
    }
}

/// What [`prescan`] looks for, found by a caller's own pass over the bytes:
/// whether the text holds a control byte other than tab and line feed
/// (carriage returns included), and whether it holds an `EF` byte (the first
/// byte of a byte order mark). Turning NEL, LS and PS into line breaks adds
/// neither, so the original text's answer holds for the rewritten one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prescanned {
    pub controls: bool,
    pub ef: bool,
}

/// Rejects characters the scanner gives a meaning of its own: carriage returns,
/// other control characters (NUL ends the input for saphyr) and byte order marks.
fn prescan(text: &str) -> bool {
    // One vectorizable pass; 0xEF (the first byte of a BOM) is rare enough to
    // check precisely only when it occurs.
    let (controls, ef) = text.as_bytes().iter().fold((false, false), |(c, e), &b| {
        (c | (b < 0x20 && b != b'\n' && b != b'\t'), e | (b == 0xef))
    });
    !(controls || (ef && text.contains('\u{feff}')))
}

const LO: u64 = u64::from_le_bytes([0x01; 8]);
const HI: u64 = u64::from_le_bytes([0x80; 8]);

/// Marks (high bit) the bytes of `word` equal to `byte`; the lowest mark is exact.
#[inline(always)]
fn bytes_equal(word: u64, byte: u8) -> u64 {
    let v = word ^ (LO * u64::from(byte));
    v.wrapping_sub(LO) & !v & HI
}

/// The index of the first byte at or after `i` that is one of `set`, or the
/// length of `b`. Eight bytes at a time.
#[inline(always)]
fn find4(b: &[u8], mut i: usize, set: [u8; 4]) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let m = bytes_equal(w, set[0])
            | bytes_equal(w, set[1])
            | bytes_equal(w, set[2])
            | bytes_equal(w, set[3]);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    match b
        .get(i..)
        .and_then(|r| r.iter().position(|c| set.contains(c)))
    {
        Some(n) => i + n,
        None => b.len(),
    }
}

/// What the next non-blank, non-comment line holds.
enum Next {
    /// The end of the text.
    Eof,
    /// A `---` or `...` marker at the start of the line.
    Marker(u8),
    /// Content, indented by this many spaces.
    Line(usize),
}

/// Where a plain scalar's first line stops.
#[derive(PartialEq, Eq)]
enum Stop {
    /// At `: ` — the scalar is a mapping key.
    Colon,
    /// At ` #` — a comment ends the line.
    Comment,
    /// At the line break (or the end of the text).
    Eol,
}

/// Where a node starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Right after `key:` on the same line: only a scalar (or flow) may follow.
    AfterKey,
    /// Right after `- ` on the same line, or first on its line: anything.
    Any,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

struct Fast<'a> {
    s: &'a str,
    b: &'a [u8],
    /// Where a `\n` stands for an LS or PS, and which (see [`parse`]).
    seps: &'a [(usize, char)],
    /// The cursor. Between nodes it is at the start of a line (or the end).
    pos: usize,
    reject: bool,
    max_depth: usize,
    /// Where nesting first went past `max_depth`.
    too_deep: Option<usize>,
    /// Entries of the mappings under construction, innermost last: a mapping is
    /// built in one allocation of the right size when it ends.
    entries: Vec<(Str, Value)>,
    /// Items of the sequences under construction, likewise.
    items: Vec<Value>,
    /// A line start known to begin a content line (not a marker), and its
    /// indentation: saves scanning a line twice.
    known: (usize, usize),
    /// Whose reading to follow where go-yaml and saphyr differ.
    dialect: Dialect,
    /// YAML 1.1 typing ([`ParseLimits::yaml11`]).
    yaml11: bool,
    /// [`ParseLimits::annotation_text`].
    annotation_text: bool,
    /// How far the value being read lies on the path `metadata` → `annotations`
    /// → a value (0 to 3) of a document's root mapping.
    ann: usize,
}

#[inline]
fn blankz(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0)
}

#[inline]
fn is_flow(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

impl<'a> Fast<'a> {
    /// The byte at `i`, or 0 past the end (the prescan rules out real NULs).
    #[inline]
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// The index of the line break ending the line that holds `i` (or the end).
    #[inline]
    fn eol(&self, i: usize) -> usize {
        match self
            .b
            .get(i..)
            .and_then(|r| r.iter().position(|&c| c == b'\n'))
        {
            Some(n) => i + n,
            None => self.b.len(),
        }
    }

    /// The start of the line after the one that holds `i`.
    #[inline]
    fn next_line(&self, i: usize) -> usize {
        (self.eol(i) + 1).min(self.b.len())
    }

    /// The character of the line break at `i`: `\n`, or the LS/PS it stands for.
    #[inline]
    fn brk(&self, i: usize) -> char {
        if self.seps.is_empty() {
            return '\n';
        }
        match self.seps.binary_search_by_key(&i, |&(at, _)| at) {
            Ok(k) => self.seps.get(k).map_or('\n', |&(_, c)| c),
            Err(_) => '\n',
        }
    }

    /// Whether an LS/PS stood anywhere in `from..to`.
    fn has_sep(&self, from: usize, to: usize) -> bool {
        let k = self.seps.partition_point(|&(at, _)| at < from);
        self.seps.get(k).is_some_and(|&(at, _)| at < to)
    }

    /// Whether a line inside a quoted scalar or flow collection, with its text at
    /// column `col`, is indented too little for the block collection indented by
    /// `parent`. go-yaml allows any column; the saphyr dialect checks, except in
    /// texts with an LS/PS, which have no saphyr reading to agree with.
    #[inline]
    fn under_indented(&self, col: usize, parent: isize) -> bool {
        self.dialect == Dialect::Saphyr && (col as isize) <= parent && self.seps.is_empty()
    }

    /// Notes that nesting went past the limit at `at`, and gives up.
    #[cold]
    fn nests_too_deep(&mut self, at: usize) -> Unsupported {
        self.too_deep = Some(at);
        Unsupported
    }

    /// Whether a `---` / `...` document marker starts at `ls` (a line start).
    fn is_marker(&self, ls: usize) -> bool {
        let c = self.at(ls);
        (c == b'-' || c == b'.')
            && self.at(ls + 1) == c
            && self.at(ls + 2) == c
            && blankz(self.at(ls + 3))
    }

    /// The index of the first byte at or after `i` that is not a space.
    #[inline]
    fn skip_spaces(&self, mut i: usize) -> usize {
        const SPACES: u64 = u64::from_le_bytes([b' '; 8]);
        while let Some(chunk) = self.b.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let diff = u64::from_le_bytes(word) ^ SPACES;
            if diff != 0 {
                return i + (diff.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
        while self.b.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    }

    /// Skips blank and comment lines from the line start `self.pos`.
    #[inline]
    fn next_content(&mut self) -> R<Next> {
        if self.pos == self.known.0 {
            return Ok(Next::Line(self.known.1));
        }
        self.next_content_scan()
    }

    fn next_content_scan(&mut self) -> R<Next> {
        let b = self.b;
        let mut ls = self.pos;
        loop {
            let i = self.skip_spaces(ls);
            match self.at(i) {
                0 => {
                    self.pos = b.len();
                    return Ok(Next::Eof);
                }
                b'\n' => ls = i + 1,
                b'#' => {
                    ls = self.eol(i) + 1;
                    if ls >= b.len() {
                        self.pos = b.len();
                        return Ok(Next::Eof);
                    }
                }
                b'\t' => return Err(Unsupported),
                c => {
                    self.pos = ls;
                    if i == ls && (c == b'-' || c == b'.') && self.is_marker(ls) {
                        return Ok(Next::Marker(c));
                    }
                    self.known = (ls, i - ls);
                    return Ok(Next::Line(i - ls));
                }
            }
        }
    }

    /// After a marker or a complete node: only spaces and a comment may end the line.
    fn finish_line(&mut self, mut i: usize) -> R<()> {
        let start = i;
        while self.at(i) == b' ' {
            i += 1;
        }
        match self.at(i) {
            b'\n' => self.pos = i + 1,
            0 => self.pos = self.b.len(),
            b'#' if i > start => self.pos = self.next_line(i),
            _ => return Err(Unsupported),
        }
        Ok(())
    }

    fn stream(&mut self) -> R<Vec<Value>> {
        let mut docs = Vec::new();
        let mut implicit_ok = true;
        loop {
            match self.next_content()? {
                Next::Eof => return Ok(docs),
                Next::Marker(b'.') => {
                    self.finish_line(self.pos + 3)?;
                    implicit_ok = true;
                    continue;
                }
                Next::Marker(_) => {
                    self.finish_line(self.pos + 3)?;
                    let doc = match self.next_content()? {
                        Next::Eof | Next::Marker(_) => Value::Empty,
                        Next::Line(indent) => self.block_node(self.pos, indent, -1, 0)?,
                    };
                    docs.push(doc);
                }
                Next::Line(indent) => {
                    if !implicit_ok {
                        return Err(Unsupported);
                    }
                    docs.push(self.block_node(self.pos, indent, -1, 0)?);
                }
            }
            match self.next_content()? {
                Next::Eof => return Ok(docs),
                Next::Marker(b'.') => {
                    self.finish_line(self.pos + 3)?;
                    implicit_ok = true;
                }
                Next::Marker(_) => implicit_ok = false,
                Next::Line(_) => return Err(Unsupported),
            }
        }
    }

    /// A node that starts a line (`ls` its start, `col` its indentation), in a
    /// collection indented by `parent` and nested `depth` deep.
    fn block_node(&mut self, ls: usize, col: usize, parent: isize, depth: usize) -> R<Value> {
        let p = ls + col;
        if self.at(p) == b'-' && blankz(self.at(p + 1)) {
            return self.sequence(p, col, depth + 1);
        }
        self.inline_node(p, col, parent, Kind::Any, depth)
    }

    /// The value after `key:` or `- ` (the cursor just past the indicator), whose
    /// line starts at `ls`.
    fn value_after(&mut self, ls: usize, parent: isize, in_map: bool, depth: usize) -> R<Value> {
        let mut p = self.pos;
        while self.at(p) == b' ' {
            p += 1;
        }
        match self.at(p) {
            b'\t' => Err(Unsupported),
            b'\n' | 0 | b'#' => {
                self.pos = self.next_line(p);
                match self.next_content()? {
                    Next::Line(n) if n as isize > parent => {
                        self.block_node(self.pos, n, parent, depth)
                    }
                    Next::Line(n)
                        if in_map
                            && n as isize == parent
                            && self.at(self.pos + n) == b'-'
                            && blankz(self.at(self.pos + n + 1)) =>
                    {
                        self.sequence(self.pos + n, n, depth + 1)
                    }
                    _ => Ok(Value::Empty),
                }
            }
            _ => {
                let kind = if in_map { Kind::AfterKey } else { Kind::Any };
                self.inline_node(p, p - ls, parent, kind, depth)
            }
        }
    }

    /// A node starting at `p` (column `col`) with only indicators before it on its line.
    fn inline_node(
        &mut self,
        p: usize,
        col: usize,
        parent: isize,
        kind: Kind,
        depth: usize,
    ) -> R<Value> {
        let c = self.at(p);
        match c {
            b'-' if blankz(self.at(p + 1)) => {
                if kind == Kind::AfterKey {
                    return Err(Unsupported);
                }
                self.sequence(p, col, depth + 1)
            }
            b'|' | b'>' => {
                if parent < 0 {
                    return Err(Unsupported);
                }
                self.block_scalar(p, parent)
            }
            b'"' | b'\'' => {
                let (text, end, multiline) = self.quoted(p, parent)?;
                let mut q = end;
                while self.at(q) == b' ' {
                    q += 1;
                }
                if self.at(q) == b':' && blankz(self.at(q + 1)) {
                    // A quoted `<<` key is dropped or refused by the full reader.
                    if kind == Kind::AfterKey || multiline || q - p > MAX_KEY_LEN || text == "<<" {
                        return Err(Unsupported);
                    }
                    self.pos = q + 1;
                    return self.mapping(p - col, col, text, depth + 1);
                }
                self.finish_line(end)?;
                Ok(Value::String(text))
            }
            b'[' | b'{' => {
                let mut i = p;
                let value = self.flow_node(&mut i, parent, depth)?;
                self.finish_line(i)?;
                Ok(value)
            }
            b'?' | b':' if !blankz(self.at(p + 1)) => self.plain(p, col, parent, kind, depth),
            b'&' | b'*' | b'!' | b'?' | b':' | b'%' | b'@' | b'`' | b',' | b']' | b'}' | b'#'
            | b'\t' | b'\n' | b' ' | 0 => Err(Unsupported),
            _ => self.plain(p, col, parent, kind, depth),
        }
    }

    /// Scans a plain scalar's line from `p`: the end of its text (trailing spaces
    /// trimmed), where it stopped, and the index just past the stop (`:` or ` `),
    /// or of the line break.
    fn plain_line(&self, p: usize) -> R<(usize, Stop, usize)> {
        let mut i = p;
        loop {
            i = find4(self.b, i, [b'\n', b' ', b':', b'\t']);
            match self.at(i) {
                b'\n' | 0 => return Ok((self.trim_end(p, i), Stop::Eol, i)),
                b':' => {
                    if blankz(self.at(i + 1)) {
                        return Ok((self.trim_end(p, i), Stop::Colon, i + 1));
                    }
                    i += 1;
                }
                b' ' => {
                    if self.at(i + 1) == b'#' {
                        return Ok((self.trim_end(p, i), Stop::Comment, i + 1));
                    }
                    i += 1;
                }
                _ => return Err(Unsupported),
            }
        }
    }

    #[inline]
    fn trim_end(&self, p: usize, mut e: usize) -> usize {
        while e > p && self.b[e - 1] == b' ' {
            e -= 1;
        }
        e
    }

    /// A plain scalar at `p` (a value, or the first key of a mapping at `col`).
    fn plain(&mut self, p: usize, col: usize, parent: isize, kind: Kind, depth: usize) -> R<Value> {
        let (end, stop, next) = self.plain_line(p)?;
        match stop {
            Stop::Colon => {
                if kind == Kind::AfterKey || end - p > MAX_KEY_LEN {
                    return Err(Unsupported);
                }
                let key = self.plain_key(&self.s[p..end], depth + 1)?;
                self.pos = next;
                self.mapping(p - col, col, key, depth + 1)
            }
            Stop::Comment => {
                self.pos = self.next_line(next);
                Ok(self.typed(Cow::Borrowed(&self.s[p..end])))
            }
            Stop::Eol => match self.continuation(next, parent)? {
                None => {
                    self.pos = (next + 1).min(self.b.len());
                    Ok(self.typed(Cow::Borrowed(&self.s[p..end])))
                }
                Some(first) => {
                    let mut text = String::from(&self.s[p..end]);
                    self.plain_more(&mut text, first, parent)?;
                    text.shrink_to_fit();
                    Ok(self.typed(Cow::Owned(text)))
                }
            },
        }
    }

    /// Whether a plain scalar whose line ends at `e` continues on a later line:
    /// the number of line breaks before that line and where its text starts.
    fn continuation(&mut self, mut e: usize, parent: isize) -> R<Option<(usize, usize)>> {
        let first = e;
        let mut breaks = 0;
        loop {
            if e >= self.b.len() {
                return Ok(None);
            }
            breaks += 1;
            let ls = e + 1;
            let i = self.skip_spaces(ls);
            match self.at(i) {
                b'\n' => e = i,
                0 | b'#' => return Ok(None),
                b'\t' => return Err(Unsupported),
                c => {
                    if i == ls && (c == b'-' || c == b'.') && self.is_marker(ls) {
                        return Ok(None);
                    }
                    if (i - ls) as isize <= parent {
                        self.known = (ls, i - ls);
                        return Ok(None);
                    }
                    // go-yaml keeps an LS/PS where it folds: not done here.
                    if self.has_sep(first, i) {
                        return Err(Unsupported);
                    }
                    return Ok(Some((breaks, i)));
                }
            }
        }
    }

    /// Appends the continuation lines of a multi-line plain scalar, folded.
    fn plain_more(&mut self, text: &mut String, first: (usize, usize), parent: isize) -> R<()> {
        let (mut breaks, mut q) = first;
        loop {
            if breaks == 1 {
                text.push(' ');
            } else {
                for _ in 1..breaks {
                    text.push('\n');
                }
            }
            let (end, stop, next) = self.plain_line(q)?;
            text.push_str(&self.s[q..end]);
            match stop {
                Stop::Colon => return Err(Unsupported),
                Stop::Comment => {
                    self.pos = self.next_line(next);
                    return Ok(());
                }
                Stop::Eol => match self.continuation(next, parent)? {
                    None => {
                        self.pos = (next + 1).min(self.b.len());
                        return Ok(());
                    }
                    Some(more) => (breaks, q) = more,
                },
            }
        }
    }

    /// Where the value of `key` in a mapping `depth` deep lies on the path to an
    /// annotation value (see `ann`).
    fn ann_step(&self, depth: usize, key: &str) -> usize {
        match (self.ann, depth, key) {
            (_, 1, "metadata") if self.annotation_text => 1,
            (1, 2, "annotations") => 2,
            (2, 3, _) => 3,
            _ => 0,
        }
    }

    /// A plain scalar value, typed for the reader's YAML version.
    fn typed(&self, text: Cow<'_, str>) -> Value {
        if self.ann == 3 {
            // An annotation value keeps its text (see ParseLimits::annotation_text).
            return Value::String(text.into());
        }
        if self.yaml11 {
            resolve_plain_yaml11(text)
        } else {
            resolve_plain(text)
        }
    }

    /// The text of a plain mapping key, in a mapping nested `depth` deep.
    fn plain_key(&self, s: &str, depth: usize) -> R<Str> {
        if s == "<<" {
            return Err(Unsupported);
        }
        if self.yaml11 {
            // A null key is an error the full reader reports.
            return yaml11_key(s).map_err(|_| Unsupported);
        }
        let nested_reject = self.reject && depth > 1;
        if matches!(s, "~" | "null" | "Null" | "NULL") {
            if nested_reject {
                return Err(Unsupported);
            }
            return Ok(Str::default());
        }
        if nested_reject && key_is_non_string(s) {
            return Err(Unsupported);
        }
        Ok(Str::from(s))
    }

    /// A block mapping at column `col` whose first key has been read (the cursor
    /// just past its `:`, on the line starting at `ls`).
    fn mapping(&mut self, ls: usize, col: usize, first_key: Str, depth: usize) -> R<Value> {
        if depth > self.max_depth {
            return Err(self.nests_too_deep(ls + col));
        }
        let base = self.entries.len();
        let mut key = first_key;
        let mut ls = ls;
        loop {
            let outer = self.ann;
            self.ann = self.ann_step(depth, &key);
            let value = self.value_after(ls, col as isize, true, depth);
            self.ann = outer;
            self.entries.push((key, value?));
            match self.next_content()? {
                Next::Line(n) if n == col => {}
                Next::Line(n) if n > col => return Err(Unsupported),
                _ => break,
            }
            ls = self.pos;
            key = self.block_key(ls + col, depth)?;
        }
        self.finish_map(base)
    }

    /// The mapping made of the entries from `base` on; a duplicate key is left to
    /// the full reader (which reports it), except in YAML 1.1 mode where the last
    /// value wins.
    fn finish_map(&mut self, base: usize) -> R<Value> {
        // A mapping rarely repeats a key: its entries move into the map at
        // once, without a builder's check per insert.
        if let Some(map) = Map::from_unique(&mut self.entries, base) {
            return Ok(Value::Map(map));
        }
        let mut map = MapBuilder::with_capacity(self.entries.len() - base);
        for (key, value) in self.entries.drain(base..) {
            if map.insert(key, value).is_some() && !self.yaml11 {
                return Err(Unsupported);
            }
        }
        Ok(Value::Map(map.finish()))
    }

    /// The sequence made of the items from `base` on.
    fn finish_seq(&mut self, base: usize) -> Value {
        // As in `Map::from_unique`: one block copy, unless from 0.
        if base == 0 {
            Value::Seq(self.items.drain(base..).collect())
        } else {
            Value::Seq(self.items.split_off(base))
        }
    }

    /// A key of a block mapping at `p` (the start of its line's text); leaves the
    /// cursor just past the `:`.
    fn block_key(&mut self, p: usize, depth: usize) -> R<Str> {
        match self.at(p) {
            b'"' | b'\'' => {
                let (text, end, multiline) = self.quoted(p, -1)?;
                // A quoted `<<` key is dropped or refused by the full reader.
                if text == "<<" {
                    return Err(Unsupported);
                }
                let mut q = end;
                while self.at(q) == b' ' {
                    q += 1;
                }
                if multiline || q - p > MAX_KEY_LEN || self.at(q) != b':' || !blankz(self.at(q + 1))
                {
                    return Err(Unsupported);
                }
                self.pos = q + 1;
                Ok(text)
            }
            b'?' | b':' | b'-' if !blankz(self.at(p + 1)) => self.block_plain_key(p, depth),
            b'-' | b'|' | b'>' | b'[' | b'{' | b'&' | b'*' | b'!' | b'?' | b':' | b'%' | b'@'
            | b'`' | b',' | b']' | b'}' | b'#' => Err(Unsupported),
            _ => self.block_plain_key(p, depth),
        }
    }

    fn block_plain_key(&mut self, p: usize, depth: usize) -> R<Str> {
        let (end, stop, next) = self.plain_line(p)?;
        if stop != Stop::Colon || end - p > MAX_KEY_LEN {
            return Err(Unsupported);
        }
        self.pos = next;
        self.plain_key(&self.s[p..end], depth)
    }

    /// A block sequence at column `col` whose first `-` is at `first`.
    fn sequence(&mut self, first: usize, col: usize, depth: usize) -> R<Value> {
        if depth > self.max_depth {
            return Err(self.nests_too_deep(first));
        }
        let base = self.items.len();
        let mut dash = first;
        loop {
            self.pos = dash + 1;
            let item = self.value_after(dash - col, col as isize, false, depth)?;
            self.items.push(item);
            match self.next_content()? {
                Next::Line(n) if n == col => {
                    let p = self.pos + col;
                    if self.at(p) != b'-' || !blankz(self.at(p + 1)) {
                        break;
                    }
                    dash = p;
                }
                Next::Line(n) if n > col => return Err(Unsupported),
                _ => break,
            }
        }
        Ok(self.finish_seq(base))
    }

    /// A single- or double-quoted scalar at `p`: its text, the index just past the
    /// closing quote, and whether it spans lines.
    fn quoted(&self, p: usize, parent: isize) -> R<(Str, usize, bool)> {
        let b = self.b;
        let single = b[p] == b'\'';
        // The common case: one line, no escapes.
        let q = if single {
            find4(b, p + 1, [b'\n', b'\t', b'\'', b'\''])
        } else {
            find4(b, p + 1, [b'\n', b'\t', b'"', b'\\'])
        };
        if q < b.len() {
            let closes = if single {
                b[q] == b'\'' && self.at(q + 1) != b'\''
            } else {
                b[q] == b'"'
            };
            if closes {
                return Ok((Str::from(&self.s[p + 1..q]), q + 1, false));
            }
        }
        self.quoted_slow(p, single, parent)
    }

    /// saphyr's `scan_flow_scalar`, for escapes, doubled quotes and line folding.
    fn quoted_slow(&self, p: usize, single: bool, parent: isize) -> R<(Str, usize, bool)> {
        let (text, end, multiline) = self.quoted_grown(p, single, parent)?;
        Ok((fitted(text), end, multiline))
    }

    /// [`Self::quoted_slow`] before its text is cut to size.
    fn quoted_grown(&self, p: usize, single: bool, parent: isize) -> R<(String, usize, bool)> {
        let quote = if single { b'\'' } else { b'"' };
        let mut text = String::new();
        let mut i = p + 1;
        // The start of the current line, once past the first (on the first line
        // every chunk is right of the opening quote, which is right of `parent`).
        let mut ls = 0;
        let mut multiline = false;
        // The first line break of a run (go-yaml folds only a `\n`), and the rest.
        let mut leading_break: Option<char> = None;
        let mut trailing_breaks = String::new();
        loop {
            if i >= self.b.len() {
                return Err(Unsupported);
            }
            if multiline {
                let col = i - ls;
                // saphyr checks `col < indent`, where its indent is one past the
                // collection's after a `key:`; being stricter only declines more.
                // go-yaml checks only for a document marker.
                if (col == 0 && self.is_marker(i)) || self.under_indented(col, parent) {
                    return Err(Unsupported);
                }
            }
            let mut leading_blanks = false;
            // Non-blank characters.
            loop {
                let c = self.at(i);
                if blankz(c) {
                    break;
                }
                if c == quote {
                    if single && self.at(i + 1) == b'\'' {
                        text.push('\'');
                        i += 2;
                        continue;
                    }
                    break;
                }
                if c == b'\\' && !single {
                    if self.at(i + 1) == b'\n' {
                        i += 2;
                        ls = i;
                        multiline = true;
                        leading_blanks = true;
                        break;
                    }
                    let (ch, len) = self.escape(i)?;
                    text.push(ch);
                    i += len;
                    continue;
                }
                let start = i;
                while {
                    let c = self.at(i);
                    !blankz(c) && c != quote && (single || c != b'\\')
                } {
                    i += 1;
                }
                text.push_str(self.s.get(start..i).ok_or(Unsupported)?);
            }
            if self.at(i) == quote {
                return Ok((text, i + 1, multiline));
            }
            // Blanks and line breaks.
            let mut ws = (i, i);
            loop {
                match self.at(i) {
                    c @ (b' ' | b'\t') => {
                        if leading_blanks {
                            if c == b'\t' {
                                return Err(Unsupported);
                            }
                        } else {
                            if ws.0 == ws.1 {
                                ws.0 = i;
                            }
                            ws.1 = i + 1;
                        }
                        i += 1;
                    }
                    b'\n' => {
                        multiline = true;
                        if leading_blanks {
                            trailing_breaks.push(self.brk(i));
                        } else {
                            ws = (i, i);
                            leading_break = Some(self.brk(i));
                            leading_blanks = true;
                        }
                        i += 1;
                        ls = i;
                    }
                    _ => break,
                }
            }
            if leading_blanks {
                match leading_break {
                    Some('\n') if trailing_breaks.is_empty() => text.push(' '),
                    Some('\n') | None => {}
                    Some(c) => text.push(c),
                }
                text.push_str(&trailing_breaks);
                trailing_breaks.clear();
                leading_break = None;
            } else {
                text.push_str(&self.s[ws.0..ws.1]);
            }
        }
    }

    /// The escape sequence at `i` (a backslash): the character and its length.
    fn escape(&self, i: usize) -> R<(char, usize)> {
        let ch = match self.at(i + 1) {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' | b'\t' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            c @ (b'x' | b'u' | b'U') => {
                let n = match c {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let mut value = 0u32;
                for k in 0..n {
                    let digit = char::from(self.at(i + 2 + k))
                        .to_digit(16)
                        .ok_or(Unsupported)?;
                    value = (value << 4) | digit;
                }
                let ch = char::from_u32(value).ok_or(Unsupported)?;
                return Ok((ch, 2 + n));
            }
            _ => return Err(Unsupported),
        };
        Ok((ch, 2))
    }

    /// saphyr's `scan_block_scalar`, for a `|` or `>` at `p` in a collection
    /// indented by `parent` (at least 0).
    fn block_scalar(&mut self, p: usize, parent: isize) -> R<Value> {
        let literal = self.b[p] == b'|';
        let mut i = p + 1;
        let mut chomp = Chomp::Clip;
        let mut increment = 0usize;
        let chomp_of = |c: u8| if c == b'+' { Chomp::Keep } else { Chomp::Strip };
        match self.at(i) {
            c @ (b'+' | b'-') => {
                chomp = chomp_of(c);
                i += 1;
                if self.at(i).is_ascii_digit() {
                    increment = usize::from(self.at(i) - b'0');
                    i += 1;
                }
            }
            c if c.is_ascii_digit() => {
                increment = usize::from(c - b'0');
                i += 1;
                if matches!(self.at(i), b'+' | b'-') {
                    chomp = chomp_of(self.at(i));
                    i += 1;
                }
            }
            _ => {}
        }
        if increment == 0 && i > p + 1 && self.b[p + 1..i].contains(&b'0') {
            return Err(Unsupported);
        }
        let ws_start = i;
        while matches!(self.at(i), b' ' | b'\t') {
            i += 1;
        }
        if self.at(i) == b'#' {
            if i == ws_start {
                return Err(Unsupported);
            }
            i = self.eol(i);
        }
        match self.at(i) {
            b'\n' => i += 1,
            0 => {}
            _ => return Err(Unsupported),
        }
        let header_ended_line = i > 0 && self.b[i - 1] == b'\n';
        if header_ended_line && self.brk(i - 1) != '\n' {
            return Err(Unsupported);
        }
        if self.at(i) == b'\t' {
            return Err(Unsupported);
        }
        let len = self.b.len();
        let mut ls = i;
        // Line breaks as go-yaml keeps them: `\n`, or an LS/PS.
        let mut trailing_breaks = String::new();
        let indent;
        if increment > 0 {
            indent = parent as usize + increment;
            self.block_indent(&mut i, &mut ls, indent, &mut trailing_breaks);
        } else {
            let mut max_indent = 0;
            loop {
                while self.at(i) == b' ' {
                    i += 1;
                }
                max_indent = max_indent.max(i - ls);
                if self.at(i) == b'\n' {
                    trailing_breaks.push(self.brk(i));
                    i += 1;
                    ls = i;
                } else {
                    break;
                }
            }
            indent = max_indent.max(parent as usize + 1);
        }

        let mut text = String::new();
        if i >= len {
            match chomp {
                Chomp::Strip | Chomp::Clip => {}
                Chomp::Keep if trailing_breaks.is_empty() && header_ended_line && i > ls => {
                    text.push('\n');
                }
                Chomp::Keep => text.push_str(&trailing_breaks),
            }
            return Ok(self.end_block_scalar(text, len, ls));
        }
        if i - ls < indent && (i - ls) as isize > parent {
            return Err(Unsupported);
        }
        // The break ending the last content line (go-yaml folds only a `\n`).
        let mut leading_break: Option<char> = None;
        let mut leading_blank = false;
        while i - ls == indent && i < len && self.b[i] != b'\n' {
            let trailing_blank = matches!(self.b[i], b' ' | b'\t');
            if !literal && leading_break == Some('\n') && !leading_blank && !trailing_blank {
                text.push_str(&trailing_breaks);
                if trailing_breaks.is_empty() {
                    text.push(' ');
                }
            } else {
                if let Some(c) = leading_break {
                    text.push(c);
                    // go-yaml keeps one line break more before a more-indented
                    // line that follows a normal one in a folded scalar.
                    if self.dialect == Dialect::GoYaml
                        && !literal
                        && !leading_blank
                        && trailing_blank
                    {
                        text.push('\n');
                    }
                }
                text.push_str(&trailing_breaks);
            }
            leading_break = None;
            trailing_breaks.clear();
            leading_blank = trailing_blank;
            let e = self.eol(i);
            text.push_str(&self.s[i..e]);
            i = e;
            if i >= len {
                break;
            }
            leading_break = Some(self.brk(i));
            i += 1;
            ls = i;
            self.block_indent(&mut i, &mut ls, indent, &mut trailing_breaks);
        }
        if chomp != Chomp::Strip {
            if let Some(c) = leading_break {
                text.push(c);
            }
            if i >= len && i - ls >= indent.max(1) {
                text.push('\n');
            }
        }
        if chomp == Chomp::Keep {
            text.push_str(&trailing_breaks);
        }
        Ok(self.end_block_scalar(text, i, ls))
    }

    /// saphyr's `skip_block_scalar_indent`: eats indentation up to `indent` and
    /// empty lines.
    fn block_indent(&self, i: &mut usize, ls: &mut usize, indent: usize, breaks: &mut String) {
        loop {
            while *i - *ls < indent && self.at(*i) == b' ' {
                *i += 1;
            }
            if self.at(*i) == b'\n' {
                breaks.push(self.brk(*i));
                *i += 1;
                *ls = *i;
            } else {
                break;
            }
        }
    }

    /// Leaves the cursor at the start of the line where a block scalar stopped
    /// (at `i`, on the line starting at `ls`), dropping the final line break of a
    /// scalar that runs to the end of a text without one, as the full reader does.
    fn end_block_scalar(&mut self, mut text: String, i: usize, ls: usize) -> Value {
        let len = self.b.len();
        if i >= len {
            if !self.s.ends_with('\n') && text.ends_with('\n') {
                text.pop();
            }
            self.pos = len;
        } else {
            self.pos = ls;
        }
        Value::String(fitted(text))
    }

    /// A flow node at `*i`, inside a block collection indented by `parent` and
    /// nested `depth` deep; leaves `*i` just past it.
    fn flow_node(&mut self, i: &mut usize, parent: isize, depth: usize) -> R<Value> {
        match self.at(*i) {
            b'[' => self.flow_seq(i, parent, depth + 1),
            b'{' => self.flow_map(i, parent, depth + 1),
            b'"' | b'\'' => {
                let (text, end, _) = self.quoted(*i, parent)?;
                if self.at(end) == b'#' {
                    return Err(Unsupported);
                }
                *i = end;
                Ok(Value::String(text))
            }
            _ => {
                let (text, _) = self.flow_plain(i, parent)?;
                Ok(self.typed(text))
            }
        }
    }

    /// A plain scalar in a flow collection inside a block collection indented by
    /// `parent`: its text (lines folded) and whether it spans lines.
    fn flow_plain(&self, i: &mut usize, parent: isize) -> R<(Cow<'a, str>, bool)> {
        let p = *i;
        let end = self.flow_plain_first(i)?;
        if self.at(*i) != b'\n' {
            // Stopped at an indicator or a comment: the common case.
            *i = end;
            return Ok((Cow::Borrowed(&self.s[p..end]), false));
        }
        let mut text: Option<String> = None;
        let mut end = end;
        // `*i` is at the line break after a line of the scalar ending at `end`.
        while let Some((breaks, q)) = self.flow_plain_continues(*i, parent)? {
            // go-yaml keeps an LS/PS where it folds: not done here.
            if self.has_sep(end, q) {
                return Err(Unsupported);
            }
            let folded = text.get_or_insert_with(|| self.s[p..end].to_owned());
            if breaks == 1 {
                folded.push(' ');
            } else {
                for _ in 1..breaks {
                    folded.push('\n');
                }
            }
            *i = q;
            let line_end = self.flow_plain_line(i, q)?;
            folded.push_str(&self.s[q..line_end]);
            end = line_end;
            if self.at(*i) != b'\n' {
                break;
            }
        }
        *i = end;
        Ok(match text {
            Some(mut text) => {
                text.shrink_to_fit();
                (Cow::Owned(text), true)
            }
            None => (Cow::Borrowed(&self.s[p..end]), false),
        })
    }

    /// Whether a plain scalar in a flow collection goes on after the line break
    /// at `e`: the number of line breaks before its next line and where that
    /// line's text starts. It does unless that text is a comment, a flow
    /// indicator, a `:` ending a key, a document marker or the end of the text.
    fn flow_plain_continues(&self, mut e: usize, parent: isize) -> R<Option<(usize, usize)>> {
        let mut breaks = 0;
        loop {
            breaks += 1;
            let ls = e + 1;
            let q = self.skip_spaces(ls);
            let c = self.at(q);
            let n = self.at(q + 1);
            match c {
                b'\n' => e = q,
                b'\t' => return Err(Unsupported),
                0 | b'#' | b',' | b'[' | b']' | b'{' | b'}' => return Ok(None),
                // go-yaml ends a flow plain scalar at `?`, then fails.
                b'?' => return Err(Unsupported),
                b':' if blankz(n) || is_flow(n) => return Ok(None),
                // A word `-` then a flow indicator: both readers fail.
                b'-' if is_flow(n) => return Err(Unsupported),
                _ if q == ls && self.is_marker(ls) => return Ok(None),
                _ if self.under_indented(q - ls, parent) => return Err(Unsupported),
                _ => return Ok(Some((breaks, q))),
            }
        }
    }

    /// The first line of a plain scalar in a flow collection: checks its first
    /// character and returns the end of its text; `*i` is left where it stopped.
    fn flow_plain_first(&self, i: &mut usize) -> R<usize> {
        let p = *i;
        let c = self.at(p);
        let n = self.at(p + 1);
        if matches!(
            c,
            b',' | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
        ) || (matches!(c, b'-' | b'?' | b':') && (blankz(n) || is_flow(n)))
            || blankz(c)
        {
            return Err(Unsupported);
        }
        self.flow_plain_line(i, p)
    }

    /// Scans one line of a plain scalar in a flow collection from `p`: returns
    /// the end of its text (trailing spaces trimmed) and leaves `*i` where it
    /// stopped (a line break, an indicator, a comment or the end of the text).
    fn flow_plain_line(&self, i: &mut usize, p: usize) -> R<usize> {
        let mut j = p;
        loop {
            match self.at(j) {
                b'\n' | 0 | b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' if blankz(self.at(j + 1)) || is_flow(self.at(j + 1)) => break,
                b' ' if self.at(j + 1) == b'#' => break,
                b'\t' => return Err(Unsupported),
                // saphyr rejects a word starting with `-` then a flow indicator.
                b'-' if j > p && self.b[j - 1] == b' ' && is_flow(self.at(j + 1)) => {
                    return Err(Unsupported)
                }
                _ => j += 1,
            }
        }
        *i = if self.at(j) == b'\n' {
            j
        } else {
            self.trim_end(p, j)
        };
        Ok(self.trim_end(p, j))
    }

    /// Skips spaces, line breaks and comments inside a flow collection. Lines
    /// must be indented deeper than the enclosing block collection.
    fn flow_ws(&self, i: &mut usize, parent: isize) -> R<()> {
        let mut ls = None;
        loop {
            match self.at(*i) {
                b' ' => *i += 1,
                b'\t' => return Err(Unsupported),
                b'#' => {
                    // A comment must follow whitespace (`]#` is an error).
                    if !matches!(self.b.get(i.wrapping_sub(1)), Some(b' ' | b'\n')) {
                        return Err(Unsupported);
                    }
                    *i = self.eol(*i);
                }
                b'\n' => {
                    *i += 1;
                    ls = Some(*i);
                }
                _ => break,
            }
        }
        if let Some(ls) = ls {
            let col = *i - ls;
            if self.under_indented(col, parent) || (col == 0 && self.is_marker(ls)) {
                return Err(Unsupported);
            }
        }
        Ok(())
    }

    fn flow_seq(&mut self, i: &mut usize, parent: isize, depth: usize) -> R<Value> {
        if depth > self.max_depth {
            return Err(self.nests_too_deep(*i));
        }
        *i += 1;
        let base = self.items.len();
        self.flow_ws(i, parent)?;
        if self.at(*i) == b']' {
            *i += 1;
            return Ok(Value::Seq(Vec::new()));
        }
        loop {
            let item = self.flow_node(i, parent, depth)?;
            self.items.push(item);
            self.flow_ws(i, parent)?;
            match self.at(*i) {
                b',' => {
                    *i += 1;
                    self.flow_ws(i, parent)?;
                    // A trailing comma: `[a, b,]`.
                    if self.at(*i) == b']' {
                        *i += 1;
                        return Ok(self.finish_seq(base));
                    }
                }
                b']' => {
                    *i += 1;
                    return Ok(self.finish_seq(base));
                }
                _ => return Err(Unsupported),
            }
        }
    }

    fn flow_map(&mut self, i: &mut usize, parent: isize, depth: usize) -> R<Value> {
        if depth > self.max_depth {
            return Err(self.nests_too_deep(*i));
        }
        *i += 1;
        let base = self.entries.len();
        self.flow_ws(i, parent)?;
        if self.at(*i) == b'}' {
            *i += 1;
            return Ok(Value::Map(Map::default()));
        }
        loop {
            let (key, quoted) = match self.at(*i) {
                b'"' | b'\'' => {
                    let (text, end, multiline) = self.quoted(*i, parent)?;
                    if multiline || text == "<<" {
                        return Err(Unsupported);
                    }
                    *i = end;
                    (text, true)
                }
                _ => {
                    let (text, multiline) = self.flow_plain(i, parent)?;
                    // go-yaml fails on a key spanning lines.
                    if multiline {
                        return Err(Unsupported);
                    }
                    (self.plain_key(&text, depth)?, false)
                }
            };
            while self.at(*i) == b' ' {
                *i += 1;
            }
            // After a plain key, `:` needs a space (`a:{}` is an error); after a
            // quoted one the value may be adjacent (JSON).
            if self.at(*i) != b':' || (!quoted && !matches!(self.at(*i + 1), b' ' | b'\n')) {
                return Err(Unsupported);
            }
            *i += 1;
            self.flow_ws(i, parent)?;
            if matches!(self.at(*i), b',' | b'}') {
                return Err(Unsupported);
            }
            let outer = self.ann;
            self.ann = self.ann_step(depth, &key);
            let value = self.flow_node(i, parent, depth);
            self.ann = outer;
            self.entries.push((key, value?));
            self.flow_ws(i, parent)?;
            match self.at(*i) {
                b',' => {
                    *i += 1;
                    self.flow_ws(i, parent)?;
                    // A trailing comma: `[a, b,]`.
                    if self.at(*i) == b'}' {
                        *i += 1;
                        return self.finish_map(base);
                    }
                }
                b'}' => {
                    *i += 1;
                    return self.finish_map(base);
                }
                _ => return Err(Unsupported),
            }
        }
    }
}

/// Whether a plain key (not a null spelling) reads as a number or boolean.
fn key_is_non_string(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b't' | b'T' | b'f' | b'F') => {
            matches!(s, "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
        }
        Some(b'.' | b'+' | b'-' | b'0'..=b'9') => crate::reader::key_is_non_string(s),
        _ => false,
    }
}
