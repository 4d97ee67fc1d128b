//! The writer: [`Value`] → YAML text, byte-identical to kustomize's output.
//!
//! # What this module owns
//!
//! kustomize prints each resource with `json.Marshal` followed by sigs.k8s.io/yaml
//! `JSONToYAML`, which parses the JSON with go-yaml **v2** into `interface{}` and
//! marshals it again with go-yaml v2. Every rule below exists to reproduce that
//! chain exactly; the module is a re-implementation of the observable behaviour of
//! go-yaml v2's encoder (`encode.go`), resolver (`resolve.go`), key sorter
//! (`sorter.go`) and emitter (`emitterc.go`), plus the two lossy steps of the JSON
//! round trip (number re-typing and NEL folding).
//!
//! # The non-obvious rules, and why
//!
//! * **Key order** is go-yaml's "natural" order, not byte order: keys are compared
//!   code point by code point; at the first difference two letters compare by code
//!   point, a non-letter sorts before a letter, and otherwise the digit runs starting
//!   there compare by numeric value, then by length (`a9` < `a10`, `a1` < `a01`,
//!   `_x` < `1`). Letter/digit mean Go's `unicode.IsLetter` / `unicode.IsDigit`,
//!   hence the Unicode tables at the bottom of the file (Unicode 14; Go has 15).
//!   This comparison is not transitive for some key sets (`1a` < `2a` < `10a` <
//!   `1a`); kustomize then prints such maps in a random order from run to run (Go
//!   map iteration is random), so any order is as right as another and ours is
//!   simply deterministic.
//! * **Plain or quoted**: a string may be plain only if go-yaml's resolver would read
//!   it back as a string. That is YAML 1.1 typing (`yes`, `on`, `~`, `0755`, `0x1F`,
//!   `1_000`, `.5`, `1:20` base 60, `2001-12-14` timestamps…), implemented with
//!   Go's number-parsing and `time.Parse` quirks (e.g. `2021-02-30` and `1e400` are
//!   strings because the parse fails; `<<` is plain). Such strings are written
//!   double-quoted. Strings with a line feed ask for a literal block (`|`).
//! * **The emitter may overrule** the requested style after analysing the text:
//!   indicators, leading/trailing spaces or line breaks turn plain into single-quoted;
//!   characters outside the printable set (tab, control characters, anything above
//!   the BMP, U+FEFF) or a space next to a line break force double quotes; trailing
//!   spaces or such characters forbid a block scalar. Keys longer than 128 bytes or
//!   containing a break are written as `? key` complex keys.
//! * **Folding** at 80 columns: plain and quoted scalars break at a single space once
//!   the column *exceeds* 80 (so lines may be longer); literal blocks are never folded.
//!   Columns count code points, not bytes.
//! * **Numbers** are re-typed by the JSON round trip: an integral float below 1e21
//!   is printed by `json.Marshal` as its shortest digits padded with zeros and read
//!   back as an integer if that fits `i64`/`u64` (`1500.0` → `1500`, 2^63 →
//!   `9223372036854776000`); other floats print like Go's
//!   `strconv.FormatFloat(f, 'g', -1, 64)` (`1.2345675e+06`, `1e-07`,
//!   `-9.223372036854776e+18`).
//! * **NEL folding**: `json.Marshal` leaves U+0085 unescaped, and go-yaml's
//!   double-quoted scanner treats it as a line break, so on the way through it folds
//!   (with the spaces around it) into a space or line feeds.
//! * **Layout**: block style, indent 2, sequences directly under a mapping key are
//!   not indented, empty collections are written `{}` / `[]`.
//!
//! Strings that kustomize itself cannot print are written escaped in double quotes:
//! U+007F, C1 controls other than NEL and U+FFFE/U+FFFF make go-yaml's reader fail
//! ("control characters are not allowed"), as does `---` or `...` right after a NEL
//! ("found unexpected document indicator").

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use crate::Value;

/// Appends one document to `out`, exactly as kustomize prints a resource.
///
/// The emitter recurses once per level: a document nested deeper than a small
/// stack allows is written on a deep stack ([`crate::stack`]).
pub fn write_document(value: &Value, out: &mut String) {
    emit(value, out, Vec::new());
}

/// How much [`write_document_to`] buffers before handing text to its sink.
pub(crate) const FLUSH_AT: usize = 1 << 16;

/// Where [`write_document_to`] hands its buffer whenever it holds
/// [`Drain::piece_bytes`] at a line end: a writer, or the queue of one of the
/// parallel writer's workers ([`crate::ordered`]).
pub(crate) trait Drain {
    /// Takes all of `buf`, leaving it empty.
    fn drain(&mut self, buf: &mut String) -> std::io::Result<()>;

    /// How full the buffer gets before it is drained ([`FLUSH_AT`] unless the
    /// drain holds several pieces at once).
    fn piece_bytes(&self) -> usize {
        FLUSH_AT
    }
}

/// Drains into an [`std::io::Write`].
pub(crate) struct WriteDrain<'w>(pub(crate) &'w mut dyn std::io::Write);

impl Drain for WriteDrain<'_> {
    fn drain(&mut self, buf: &mut String) -> std::io::Result<()> {
        self.0.write_all(buf.as_bytes())?;
        buf.clear();
        Ok(())
    }
}

/// Appends one document to `buf` like [`write_document`], but writes `buf` to
/// `sink` (and empties it) whenever it holds 64 KiB at a line end,
/// so a document of a megabyte never sits whole in memory; what is left when
/// the document ends stays in `buf` for the caller (the next document goes
/// after it). Same bytes as [`write_document`]: a document too deep for the
/// shallow emitter is written again on a deep stack, and only the part not yet
/// written goes out (the emitter is deterministic, so the part already written
/// is a prefix of the new text; nothing is written once it gave up).
///
/// # Errors
/// The first error of `sink`.
pub fn write_document_to(
    value: &Value,
    buf: &mut String,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    write_document_drained(value, buf, &mut WriteDrain(sink))
}

/// [`write_document_to`] into any [`Drain`].
pub(crate) fn write_document_drained(
    value: &Value,
    buf: &mut String,
    sink: &mut dyn Drain,
) -> std::io::Result<()> {
    let start = buf.len();
    let max_depth = if crate::stack::is_on_deep_stack() {
        usize::MAX
    } else {
        crate::stack::SHALLOW_DEPTH
    };
    let mut e = Emitter::new(buf, Vec::new(), max_depth);
    e.flush_at = sink.piece_bytes();
    e.sink = Some(&mut *sink);
    e.document(value);
    let (too_deep, flushed, error) = (e.too_deep, e.flushed, e.error.take());
    if let Some(error) = error {
        return Err(error);
    }
    if !too_deep {
        return Ok(());
    }
    if flushed == 0 {
        buf.truncate(start);
        emit(value, buf, Vec::new());
        return Ok(());
    }
    // `flushed` counted the `start` bytes that were in `buf` before the
    // document; what follows them in the new text stays in `buf`.
    let skip = flushed.saturating_sub(start);
    buf.clear();
    emit(value, buf, Vec::new());
    let rest = buf.get(skip..).unwrap_or_default().to_owned();
    *buf = rest;
    Ok(())
}

/// Writes one document with the key buffer `keys` (reused across documents) and
/// hands the buffer back.
type KeyBuffer<'a> = Vec<(Cow<'a, str>, &'a Value)>;

///
/// Off a deep stack, the emitter gives up past [`crate::stack::SHALLOW_DEPTH`]
/// levels; what it wrote is then taken back and the document written again on
/// a deep stack. Real documents never get there, so they pay nothing.
fn emit<'a>(doc: &'a Value, out: &mut String, keys: KeyBuffer<'a>) -> KeyBuffer<'a> {
    let start = out.len();
    let max_depth = if crate::stack::is_on_deep_stack() {
        usize::MAX
    } else {
        crate::stack::SHALLOW_DEPTH
    };
    let mut e = Emitter::new(out, keys, max_depth);
    e.document(doc);
    if !e.too_deep {
        return e.keys;
    }
    let keys = e.keys;
    out.truncate(start);
    crate::stack::on_deep_stack(|| {
        let mut e = Emitter::new(out, keys, usize::MAX);
        e.document(doc);
        e.keys
    })
}

/// Writes documents joined by `---` lines, exactly as `kustomize build` prints them.
pub fn write_documents<'a>(docs: impl IntoIterator<Item = &'a Value>) -> String {
    let mut out = String::new();
    let mut keys = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        keys = emit(doc, &mut out, keys);
    }
    out
}

/// [`write_documents`] on up to `threads` threads: the documents are cut into
/// contiguous chunks, each chunk is written into its own buffer, and the buffers are
/// joined in order with `---` lines, so the output is identical to
/// [`write_documents`]. There are a few more chunks than threads (handed out as the
/// threads become free), so that a handful of very large documents does not leave
/// the other threads idle.
pub fn write_documents_parallel(docs: &[Value], threads: usize) -> String {
    let threads = threads.min(docs.len());
    if threads <= 1 {
        return write_documents(docs);
    }
    let pieces = (threads * 4).min(docs.len());
    let chunks: Vec<&[Value]> = docs.chunks(docs.len().div_ceil(pieces)).collect();
    let next = AtomicUsize::new(0);
    let mut parts: Vec<String> = vec![String::new(); chunks.len()];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, AtomicOrdering::Relaxed);
                        let Some(chunk) = chunks.get(i) else {
                            return done;
                        };
                        done.push((i, write_documents(chunk.iter())));
                    }
                })
            })
            .collect();
        for worker in workers {
            let done = worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (i, text) in done {
                parts[i] = text;
            }
        }
    });
    let total = parts.iter().map(|p| p.len() + 4).sum();
    let mut out = String::with_capacity(total);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(part);
    }
    out
}

/// go-yaml's preferred line width.
const BEST_WIDTH: usize = 80;
/// go-yaml's indentation step.
const BEST_INDENT: i32 = 2;
/// Longest key (in bytes) that may be written as a simple `key: value`.
const MAX_SIMPLE_KEY_LEN: usize = 128;
/// NEXT LINE, a line break for YAML 1.1.
const NEL: char = '\u{85}';
/// Spaces to indent with, a slice at a time.
const SPACES: &str = "                                                                ";

/// Scalar presentation styles, in the emitter's terms.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// The emitter's state: output position and the whitespace/indentation flags that
/// decide whether a separator space or a line break is needed.
struct Emitter<'o, 'a> {
    out: &'o mut String,
    /// Current column, in code points.
    column: usize,
    /// Current indentation; -1 before the root node.
    indent: i32,
    /// The last thing written was whitespace (or nothing).
    whitespace: bool,
    /// Only indentation has been written on the current line so far.
    indention: bool,
    /// Scratch stack of (key, value) pairs being sorted, shared by nested maps.
    keys: Vec<(Cow<'a, str>, &'a Value)>,
    /// Collections open around the node being written.
    depth: usize,
    /// The most collections that may be open (the stack's bound).
    max_depth: usize,
    /// Set when `max_depth` was reached: the output is incomplete.
    too_deep: bool,
    /// Where full buffers go ([`write_document_to`]); `None`: all stays in `out`.
    sink: Option<&'o mut dyn Drain>,
    /// Bytes handed to `sink` so far.
    flushed: usize,
    /// How full `out` gets before it goes to `sink`.
    flush_at: usize,
    /// The sink's first error (nothing more is written after it).
    error: Option<std::io::Error>,
}

impl<'o, 'a> Emitter<'o, 'a> {
    fn new(out: &'o mut String, keys: Vec<(Cow<'a, str>, &'a Value)>, max_depth: usize) -> Self {
        Emitter {
            out,
            column: 0,
            indent: -1,
            whitespace: true,
            indention: true,
            keys,
            depth: 0,
            max_depth,
            too_deep: false,
            sink: None,
            flushed: 0,
            flush_at: FLUSH_AT,
            error: None,
        }
    }

    /// Enters a collection; false (and `too_deep` set) past `max_depth`.
    fn enter(&mut self) -> bool {
        if self.depth >= self.max_depth {
            self.too_deep = true;
            return false;
        }
        self.depth += 1;
        true
    }

    /// Emits a whole document.
    fn document(&mut self, value: &'a Value) {
        self.node(value, false);
        // Document end: an implicit end marker only terminates the last line.
        self.write_indent();
    }

    // ----- low-level output -------------------------------------------------------

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    /// Writes ASCII text (one column per byte).
    fn put_ascii(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.len();
    }

    fn put_str(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += char_count(s);
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
        if self.out.len() >= self.flush_at {
            self.flush();
        }
    }

    /// Hands the buffer to the sink, if there is one and the emitter has not
    /// given up (then the text must be written again from the start).
    fn flush(&mut self) {
        if self.too_deep || self.error.is_some() {
            return;
        }
        if let Some(sink) = self.sink.as_mut() {
            let len = self.out.len();
            match sink.drain(self.out) {
                Ok(()) => self.flushed += len,
                Err(e) => self.error = Some(e),
            }
        }
    }

    /// Copies a line-break character from a scalar.
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            let n = (indent - self.column).min(SPACES.len());
            self.put_ascii(&SPACES[..n]);
        }
        self.whitespace = true;
        self.indention = true;
    }

    /// Writes an (ASCII) indicator.
    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        self.put_ascii(ind);
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    /// Runs `f` with the indentation a nested node gets.
    fn indented(&mut self, flow: bool, indentless: bool, f: impl FnOnce(&mut Self)) {
        let saved = self.indent;
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
        f(self);
        self.indent = saved;
    }

    // ----- nodes ------------------------------------------------------------------

    /// Emits any node. `mapping_ctx` is set for keys and values of a mapping.
    fn node(&mut self, value: &'a Value, mapping_ctx: bool) {
        match value {
            Value::Null | Value::Empty => self.plain_token("null"),
            Value::Bool(true) => self.plain_token("true"),
            Value::Bool(false) => self.plain_token("false"),
            Value::Int(i) => self.plain_number(|out| {
                let _ = write!(out, "{i}");
            }),
            Value::Uint(u) => self.plain_number(|out| {
                let _ = write!(out, "{u}");
            }),
            Value::Float(f) => self.plain_number(|out| format_json_float(*f, out)),
            Value::String(s) if is_plain_word(s) => self.write_plain_ascii(s, false),
            Value::String(s) => match analyze_ascii(s) {
                Some(analysis) => self.string(s, &analysis, false),
                None => {
                    let s = fold_nel(s);
                    let analysis = analyze(&s);
                    self.string(&s, &analysis, false);
                }
            },
            Value::Seq(items) => self.sequence(items, mapping_ctx),
            Value::Map(map) => self.mapping(map),
        }
    }

    /// A number, formatted straight into the output (ASCII, plain, never folded).
    fn plain_number(&mut self, format: impl FnOnce(&mut String)) {
        if !self.whitespace {
            self.put(' ');
        }
        let before = self.out.len();
        format(self.out);
        self.column += self.out.len() - before;
        self.whitespace = false;
        self.indention = false;
    }

    /// A scalar that is always plain and never needs quoting or folding (booleans,
    /// null).
    fn plain_token(&mut self, s: &str) {
        if !self.whitespace {
            self.put(' ');
        }
        self.put_ascii(s);
        self.whitespace = false;
        self.indention = false;
    }

    fn sequence(&mut self, items: &'a [Value], mapping_ctx: bool) {
        if items.is_empty() {
            self.write_indicator("[", true, true, false);
            self.write_indicator("]", false, false, false);
            return;
        }
        if !self.enter() {
            return;
        }
        let indentless = mapping_ctx && !self.indention;
        self.indented(false, indentless, |e| {
            for item in items {
                e.write_indent();
                e.write_indicator("-", true, false, true);
                e.node(item, false);
            }
        });
        self.depth -= 1;
    }

    fn mapping(&mut self, map: &'a crate::Map) {
        if map.is_empty() {
            self.write_indicator("{", true, true, false);
            self.write_indicator("}", false, false, false);
            return;
        }
        if !self.enter() {
            return;
        }
        let base = self.keys.len();
        // Gathered from the slice (a loop of known length, without a
        // capacity check per key); the keys are folded only if one is not
        // ASCII (the norm is all ASCII).
        let pairs = map.as_slice();
        self.keys
            .extend(pairs.iter().map(|(k, v)| (Cow::Borrowed(k.as_str()), v)));
        let ascii = pairs.iter().all(|(k, _)| k.is_ascii());
        if !ascii {
            for entry in self.keys.iter_mut().skip(base) {
                if let Cow::Borrowed(k) = entry.0 {
                    entry.0 = fold_nel(k);
                }
            }
        }
        if ascii {
            // ASCII keys (the norm) compare byte by byte, with the same result.
            go_sort(&mut self.keys[base..], |a, b| {
                key_less_ascii(a.0.as_bytes(), b.0.as_bytes())
            });
        } else {
            go_sort(&mut self.keys[base..], |a, b| key_less(&a.0, &b.0));
        }
        let end = self.keys.len();
        self.indented(false, false, |e| {
            for idx in base..end {
                let (key, value) = {
                    let entry = &e.keys[idx];
                    (entry.0.clone(), entry.1)
                };
                e.write_indent();
                if is_plain_word(&key) {
                    // What the analysis and the plain writer below come to
                    // for such a key, without them.
                    e.write_plain_ascii(&key, false);
                    e.write_indicator(":", false, false, false);
                    e.node(value, true);
                    continue;
                }
                let analysis = analyze_ascii(&key).unwrap_or_else(|| analyze(&key));
                if !analysis.multiline && key.len() <= MAX_SIMPLE_KEY_LEN {
                    e.string(&key, &analysis, true);
                    e.write_indicator(":", false, false, false);
                } else {
                    e.write_indicator("?", true, false, true);
                    e.string(&key, &analysis, false);
                    e.write_indent();
                    e.write_indicator(":", true, false, true);
                }
                e.node(value, true);
            }
        });
        self.keys.truncate(base);
        self.depth -= 1;
    }

    /// Emits a string scalar: picks the style the encoder asks for, lets the
    /// emitter's analysis overrule it, then writes it.
    fn string(&mut self, s: &str, a: &Analysis, simple_key: bool) {
        // For an ASCII text the analysis already knows whether there is a line feed.
        let has_newline = if a.ascii {
            a.multiline
        } else {
            s.contains('\n')
        };
        let requested = if has_newline {
            Style::Literal
        } else if resolves_to_str(s) && !is_base60_float(s) {
            Style::Plain
        } else {
            Style::Double
        };
        let mut style = requested;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.plain_allowed || (s.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || simple_key) {
            style = Style::Double;
        }
        let allow_breaks = !simple_key;
        self.indented(true, false, |e| {
            if a.ascii {
                match style {
                    Style::Plain => e.write_plain_ascii(s, allow_breaks),
                    Style::Single => e.write_single_quoted_ascii(s, allow_breaks),
                    Style::Double => e.write_double_quoted_ascii(s, a.multiline, allow_breaks),
                    Style::Literal => e.write_literal_ascii(s),
                }
            } else {
                match style {
                    Style::Plain => e.write_plain(s, allow_breaks),
                    Style::Single => e.write_single_quoted(s, allow_breaks),
                    Style::Double => e.write_double_quoted(s, allow_breaks),
                    Style::Literal => e.write_literal(s),
                }
            }
        });
    }

    // ----- scalar writers for printable ASCII (and line feeds) -------------------------
    //
    // These produce exactly what the general writers below produce for such texts,
    // a line or an escape at a time rather than a character at a time: every
    // character is one byte and one column, the only line break is '\n', and a
    // folding space is recognised from its neighbours (`spaces` in the general
    // writers is "the previous character was a space").

    fn write_plain_ascii(&mut self, s: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        // A plain scalar has no line break and no leading or trailing space.
        self.write_folded_ascii(s, allow_breaks, FoldRule::Plain);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted_ascii(&mut self, s: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        // A single-quoted scalar has no line break (it is only chosen for a text
        // that asked to be plain).
        if s.contains('\'') {
            self.write_escaped_ascii(s, allow_breaks, false);
        } else {
            self.write_folded_ascii(s, allow_breaks, FoldRule::Single);
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted_ascii(&mut self, s: &str, multiline: bool, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        if multiline || s.contains(['"', '\\']) {
            self.write_escaped_ascii(s, allow_breaks, true);
        } else {
            self.write_folded_ascii(s, allow_breaks, FoldRule::Double);
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    /// Writes text with nothing to escape, breaking lines at the spaces where the
    /// general writer would: a single space (double-quoted: not followed by
    /// nothing; otherwise between two non-spaces) once the column exceeds the width.
    fn write_folded_ascii(&mut self, s: &str, allow_breaks: bool, rule: FoldRule) {
        let b = s.as_bytes();
        let n = b.len();
        let mut start = 0;
        if allow_breaks {
            loop {
                // Columns up to the width cannot fold: skip straight past them.
                let mut i = start + (BEST_WIDTH + 1).saturating_sub(self.column);
                while i < n
                    && !(b[i] == b' '
                        && i > 0
                        && i + 1 < n
                        && b[i - 1] != b' '
                        && (rule == FoldRule::Double || b[i + 1] != b' '))
                {
                    i += 1;
                }
                if i >= n {
                    break;
                }
                self.put_ascii(&s[start..i]);
                if rule == FoldRule::Plain {
                    // The plain writer has just written a non-space.
                    self.indention = false;
                }
                self.write_indent();
                if rule == FoldRule::Double && b[i + 1] == b' ' {
                    self.put('\\');
                }
                start = i + 1;
            }
        }
        self.put_ascii(&s[start..]);
    }

    /// Writes a quoted text with characters to escape (`'` doubled in single quotes;
    /// `"`, `\` and line feeds escaped in double quotes), folding like
    /// [`Self::write_folded_ascii`].
    fn write_escaped_ascii(&mut self, s: &str, allow_breaks: bool, double: bool) {
        let b = s.as_bytes();
        let n = b.len();
        let mut start = 0;
        for (i, &c) in b.iter().enumerate() {
            let escaped = match c {
                b' ' => {
                    if allow_breaks
                        && self.column + (i - start) > BEST_WIDTH
                        && i > 0
                        && i + 1 < n
                        && b[i - 1] != b' '
                        && (double || b[i + 1] != b' ')
                    {
                        self.put_ascii(&s[start..i]);
                        self.write_indent();
                        if double && b[i + 1] == b' ' {
                            self.put('\\');
                        }
                        start = i + 1;
                    }
                    continue;
                }
                b'\'' if !double => "''",
                b'"' if double => "\\\"",
                b'\\' if double => "\\\\",
                b'\n' if double => "\\n",
                _ => continue,
            };
            self.put_ascii(&s[start..i]);
            self.put_ascii(escaped);
            start = i + 1;
        }
        self.put_ascii(&s[start..]);
    }

    fn write_literal_ascii(&mut self, s: &str) {
        self.write_indicator("|", true, false, false);
        let b = s.as_bytes();
        let n = b.len();
        if b[0] == b' ' || b[0] == b'\n' {
            self.write_indicator("2", false, false, false);
        }
        let chomp = if b[n - 1] != b'\n' {
            Some("-")
        } else if n == 1 || b[n - 2] == b'\n' {
            Some("+")
        } else {
            None
        };
        if let Some(ch) = chomp {
            self.write_indicator(ch, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut rest = s;
        while !rest.is_empty() {
            match rest.find('\n') {
                Some(0) => {}
                Some(pos) => {
                    self.write_indent();
                    self.put_ascii(&rest[..pos]);
                    self.indention = false;
                    rest = &rest[pos..];
                }
                None => {
                    self.write_indent();
                    self.put_ascii(rest);
                    self.indention = false;
                    break;
                }
            }
            self.put_break();
            self.indention = true;
            rest = &rest[1..];
        }
    }

    // ----- general scalar writers ---------------------------------------------------

    fn write_plain(&mut self, s: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        // A fold can only happen at a space seen past the width; skip the loop when
        // that cannot occur (the common case).
        let no_fold = !allow_breaks || self.column + s.len() <= BEST_WIDTH + 1 || !s.contains(' ');
        if no_fold && !s.contains(is_break) {
            self.put_str(s);
            self.whitespace = false;
            self.indention = false;
            return;
        }
        let mut spaces = false;
        let mut breaks = false;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ' ' {
                let next_is_space = chars.peek() == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_is_space {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, s: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let mut chars = s.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == ' ' {
                let next = chars.peek().map(|&(_, n)| n);
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && next.is_some()
                    && next != Some(' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, s: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        // go-yaml's BOM test looks at the start of the value rather than at the
        // current character, so a leading BOM gets every character escaped.
        let escape_all = s.starts_with('\u{FEFF}');
        let mut spaces = false;
        let mut chars = s.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if escape_all || !is_printable(c) || is_break(c) || c == '"' || c == '\\' {
                self.write_escape(c);
                spaces = false;
            } else if c == ' ' {
                let next = chars.peek().map(|&(_, n)| n);
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && next.is_some() {
                    self.write_indent();
                    if next == Some(' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(' ');
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_escape(&mut self, c: char) {
        self.put('\\');
        let short = match c {
            '\0' => Some('0'),
            '\u{7}' => Some('a'),
            '\u{8}' => Some('b'),
            '\t' => Some('t'),
            '\n' => Some('n'),
            '\u{B}' => Some('v'),
            '\u{C}' => Some('f'),
            '\r' => Some('r'),
            '\u{1B}' => Some('e'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            NEL => Some('N'),
            '\u{A0}' => Some('_'),
            '\u{2028}' => Some('L'),
            '\u{2029}' => Some('P'),
            _ => None,
        };
        if let Some(s) = short {
            self.put(s);
            return;
        }
        let v = c as u32;
        let (letter, digits) = if v <= 0xFF {
            ('x', 2)
        } else if v <= 0xFFFF {
            ('u', 4)
        } else {
            ('U', 8)
        };
        self.put(letter);
        for k in (0..digits).rev() {
            let d = (v >> (k * 4)) & 0xF;
            let ch = if d < 10 {
                (b'0' + d as u8) as char
            } else {
                (b'A' + (d as u8 - 10)) as char
            };
            self.put(ch);
        }
    }

    fn write_literal(&mut self, s: &str) {
        self.write_indicator("|", true, false, false);
        // Block scalar header: explicit indentation when the text starts with a
        // space or break, and the chomping indicator from the trailing breaks.
        let mut rev = s.chars().rev();
        if s.starts_with(|c: char| c == ' ' || is_break(c)) {
            self.write_indicator("2", false, false, false);
        }
        let chomp = match (rev.next(), rev.next()) {
            (Some(last), _) if !is_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(prev)) if is_break(prev) => Some("+"),
            (None, _) => Some("-"),
            _ => None,
        };
        if let Some(ch) = chomp {
            self.write_indicator(ch, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut rest = s;
        while !rest.is_empty() {
            match rest.find(is_break) {
                Some(0) => {}
                Some(pos) => {
                    self.write_indent();
                    self.put_str(&rest[..pos]);
                    self.indention = false;
                    rest = &rest[pos..];
                }
                None => {
                    self.write_indent();
                    self.put_str(rest);
                    self.indention = false;
                    break;
                }
            }
            let mut chars = rest.chars();
            if let Some(b) = chars.next() {
                self.write_break(b);
                self.indention = true;
            }
            rest = chars.as_str();
        }
    }
}

// ----- scalar analysis ----------------------------------------------------------

/// What the emitter's scalar analysis allows for a value (block context).
struct Analysis {
    multiline: bool,
    plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
    /// The text is printable ASCII and line feeds only ([`analyze_ascii`]), so the
    /// byte-level writers apply.
    ascii: bool,
}

/// How [`Emitter::write_folded_ascii`] recognises a folding space.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FoldRule {
    Plain,
    Single,
    Double,
}

/// Byte classes of the ASCII scan.
const C_NONE: u8 = 0;
/// Not printable ASCII nor a line feed: the general analysis takes over.
const C_OTHER: u8 = 1;
const C_LF: u8 = 2;
const C_COLON: u8 = 3;
const C_HASH: u8 = 4;

static BYTE_CLASS: [u8; 256] = {
    let mut t = [C_NONE; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            b'\n' => C_LF,
            b':' => C_COLON,
            b'#' => C_HASH,
            0x20..=0x7E => C_NONE,
            _ => C_OTHER,
        };
        i += 1;
    }
    t
};

/// `0x01` in every byte of a word.
const ONES: u64 = u64::from_ne_bytes([1; 8]);
/// `0x80` in every byte of a word.
const HIGHS: u64 = ONES * 0x80;

/// The 8 bytes of `b` from `i` (which has them) as a word.
fn word_at(b: &[u8], i: usize) -> u64 {
    // (A zero word, were the bytes missing, would only send the scan byte by byte.)
    u64::from_le_bytes(
        b.get(i..i + 8)
            .and_then(|w| w.try_into().ok())
            .unwrap_or([0; 8]),
    )
}

/// Whether the 8 bytes of `x` are all printable ASCII other than `:` and `#`: the
/// bytes [`analyze_ascii`] can pass over (the usual bit tricks, exact for
/// "is there any such byte").
fn word_is_uneventful(x: u64) -> bool {
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
    let above_tilde = (x.wrapping_add(ONES) | x) & HIGHS;
    let colon = has_zero(x ^ (ONES * u64::from(b':')));
    let hash = has_zero(x ^ (ONES * u64::from(b'#')));
    below_space | above_tilde | colon | hash == 0
}

/// What [`analyze_ascii`] has seen inside a text.
#[derive(Default)]
struct Events {
    line_breaks: bool,
    break_space: bool,
    space_break: bool,
    /// An indicator after the first character (`: ` or ` #`).
    indicator: bool,
}

impl Events {
    /// Notes byte `i` of `b`; `None` if it is neither printable ASCII nor a line feed.
    fn byte(&mut self, b: &[u8], i: usize) -> Option<()> {
        match BYTE_CLASS[usize::from(b[i])] {
            C_NONE => {}
            C_LF => {
                self.line_breaks = true;
                if i > 0 && b[i - 1] == b' ' {
                    self.space_break = true;
                }
                if b.get(i + 1) == Some(&b' ') {
                    self.break_space = true;
                }
            }
            C_COLON => {
                if i > 0 && matches!(b.get(i + 1), None | Some(b' ')) {
                    self.indicator = true;
                }
            }
            C_HASH => {
                if i > 0 && matches!(b[i - 1], b' ' | b'\n') {
                    self.indicator = true;
                }
            }
            _ => return None,
        }
        Some(())
    }
}

/// [`analyze`] for the overwhelmingly common text made of printable ASCII and line
/// feeds; `None` for any other text. Every rule of [`analyze`] reduces to a look at
/// the neighbours of a line feed, `:` or `#`, and at both ends, so the scan passes
/// over eight bytes at a time until it meets one of those.
fn analyze_ascii(s: &str) -> Option<Analysis> {
    let b = s.as_bytes();
    let n = b.len();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return Some(Analysis {
            multiline: false,
            plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
            ascii: true,
        });
    };
    let mut block_indicators = b.starts_with(b"---") || b.starts_with(b"...");
    match first {
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => block_indicators = true,
        // (A tab after it would count too, but a tab sends the text elsewhere.)
        b'?' | b':' | b'-' if n == 1 || b[1] == b' ' => block_indicators = true,
        _ => {}
    }
    let mut events = Events::default();
    let mut pos = 0;
    if n >= 8 {
        while pos + 8 <= n {
            if !word_is_uneventful(word_at(b, pos)) {
                for i in pos..pos + 8 {
                    events.byte(b, i)?;
                }
            }
            pos += 8;
        }
        // The rest, as the last word (overlapping the one before it).
        if pos < n && word_is_uneventful(word_at(b, n - 8)) {
            pos = n;
        }
    }
    for i in pos..n {
        events.byte(b, i)?;
    }
    let Events {
        line_breaks,
        break_space,
        space_break,
        indicator,
    } = events;
    block_indicators |= indicator;
    let leading = first == b' ' || first == b'\n';
    let trailing_space = last == b' ';
    let trailing_break = last == b'\n';
    let plain_allowed = !(leading
        || trailing_space
        || trailing_break
        || line_breaks
        || block_indicators
        || break_space
        || space_break);
    Some(Analysis {
        multiline: line_breaks,
        plain_allowed,
        single_quoted_allowed: !(break_space || space_break),
        block_allowed: !(trailing_space || space_break),
        ascii: true,
    })
}

/// Characters the emitter may write unescaped (with unicode output enabled).
fn is_printable(c: char) -> bool {
    matches!(c as u32,
        0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFEFE | 0xFF00..=0xFFFD)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | NEL | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\0') || is_break(c)
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
            ascii: false,
        };
    }
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let mut line_breaks = false;
    let mut special = false;
    let mut leading = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut preceded_by_ws = true;
    let mut previous_space = false;
    let mut previous_break = false;
    let mut chars = s.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let followed_by_ws = matches!(next, None | Some(' ') | Some('\t'));
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if first {
                leading = true;
            }
            if next.is_none() {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if first {
                leading = true;
            }
            if next.is_none() {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_ws = is_blankz(c);
        first = false;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
        ascii: false,
    };
    if leading || trailing_space || trailing_break || line_breaks || block_indicators {
        a.plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    a
}

fn char_count(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

// ----- the JSON round trip ----------------------------------------------------------

/// Applies what go-yaml's double-quoted scanner does to the unescaped U+0085 that
/// `json.Marshal` leaves in a string: a NEL and the spaces around it fold to one
/// space, or to `n - 1` line feeds for a run of `n` NELs.
fn fold_nel(s: &str) -> Cow<'_, str> {
    if !s.contains(NEL) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    loop {
        while let Some(&c) = chars.peek() {
            if c == ' ' || c == NEL {
                break;
            }
            out.push(c);
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut spaces = 0usize;
        let mut after_break = false;
        let mut extra_breaks = 0usize;
        while let Some(&c) = chars.peek() {
            if c == ' ' {
                if !after_break {
                    spaces += 1;
                }
            } else if c == NEL {
                if after_break {
                    extra_breaks += 1;
                } else {
                    spaces = 0;
                    after_break = true;
                }
            } else {
                break;
            }
            chars.next();
        }
        if !after_break {
            out.extend(std::iter::repeat_n(' ', spaces));
        } else if extra_breaks == 0 {
            out.push(' ');
        } else {
            out.extend(std::iter::repeat_n('\n', extra_breaks));
        }
    }
    Cow::Owned(out)
}

/// Prints a float the way it comes out of `json.Marshal` + go-yaml v2.
///
/// `json.Marshal` writes the shortest round-trip digits, in plain notation
/// (zero-padded, so 2^63 becomes `9223372036854776000`) below 1e21. go-yaml then
/// re-reads an integral text as an `int`/`uint` if it fits, and anything else as a
/// float that it prints with `strconv.FormatFloat(f, 'g', -1, 64)`.
fn format_json_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str(".nan");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { ".inf" } else { "-.inf" });
        return;
    }
    if f == 0.0 {
        out.push('0'); // `-0` re-reads as the integer 0
        return;
    }
    let (digits, exp) = shortest_digits(f.abs());
    let nd = digits.len() as i32;
    let dp = exp + 1;
    if f.fract() == 0.0 && f.abs() < 1e21 {
        // The JSON text is the digits padded with zeros; check go-yaml's int range.
        let magnitude = digits
            .bytes()
            .fold(0u128, |acc, d| acc * 10 + u128::from(d - b'0'))
            * 10u128.pow((dp - nd) as u32);
        let fits = if f < 0.0 {
            magnitude <= 1u128 << 63
        } else {
            magnitude <= u128::from(u64::MAX)
        };
        if fits {
            if f < 0.0 {
                out.push('-');
            }
            let _ = write!(out, "{magnitude}");
            return;
        }
    }
    if f < 0.0 {
        out.push('-');
    }
    format_go_g(&digits, exp, out);
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` (which is also how `%v` prints a
/// float64): shortest digits, exponent form below 1e-4 and from 1e21 up... from
/// 1e6 up for `'g'`; `NaN`, `+Inf`, `-Inf` and `-0` spelled as Go spells them.
pub fn format_go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    let (digits, exp) = shortest_digits(f.abs());
    format_go_g(&digits, exp, &mut out);
    out
}

/// Shortest round-trip decimal digits of a positive finite `f` and its decimal
/// exponent (value = d.ddd × 10^exp), from Rust's `{:e}` (same digits as Go's).
fn shortest_digits(f: f64) -> (String, i32) {
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exp)
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` of a positive value given as its
/// shortest digits and decimal exponent: `%e` style when exp < -4 or exp >= 6
/// (with a two-digit minimum exponent, `1e-07`), else `%f` style.
fn format_go_g(digits: &str, exp: i32, out: &mut String) {
    let nd = digits.len() as i32;
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        let _ = write!(out, "{e}");
    } else {
        let dp = exp + 1;
        if dp > 0 {
            out.push_str(&digits[..dp.min(nd) as usize]);
            for _ in nd..dp {
                out.push('0');
            }
        } else {
            out.push('0');
        }
        if nd > dp {
            out.push('.');
            for _ in dp..0 {
                out.push('0');
            }
            out.push_str(&digits[dp.max(0) as usize..]);
        }
    }
}

// ----- YAML 1.1 implicit typing (go-yaml v2 resolve) ---------------------------------

/// Whether go-yaml v2 would read `s`, written plain, back as a string.
/// Whether a string is a word the emitter writes plain as it is, as a key or
/// a value: an ASCII letter, then printable ASCII without spaces, not ending
/// in `:`, at most [`MAX_SIMPLE_KEY_LEN`] bytes, and not a word that reads as
/// another type (`yes`, `null`, ...). Most keys of a manifest (`apiVersion`,
/// `app.kubernetes.io/name`) and many values (`IfNotPresent`,
/// `registry.example.com/app:2.0`) are such words. [`analyze_ascii`] finds
/// nothing in them: its rules look at the first character (a letter is no
/// indicator), at line breaks and spaces (there are none), at `: ` and ` #`
/// (impossible without a space) and at a `:` that ends the text (excluded).
/// So the text is plain and single-line, and with no space it never folds.
fn is_plain_word(text: &str) -> bool {
    let b = text.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.last() != Some(&b':')
        && b.len() <= MAX_SIMPLE_KEY_LEN
        && b.iter().all(|&c| (b'!'..=b'~').contains(&c))
        && resolves_to_str(text)
}

fn resolves_to_str(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return false; // empty plain scalar is null
    };
    enum Hint {
        Sign,
        Digit,
        Word,
        Dot,
    }
    let hint = match first {
        b'+' | b'-' => Hint::Sign,
        b'0'..=b'9' => Hint::Digit,
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => Hint::Word,
        b'.' => Hint::Dot,
        _ => return true,
    };
    if is_special_word(s) {
        return false;
    }
    match hint {
        Hint::Word => true,
        Hint::Dot => !go_parse_float_ok(s),
        Hint::Sign | Hint::Digit => {
            if matches!(hint, Hint::Digit) && is_timestamp(b) {
                return false;
            }
            let plain: Cow<'_, str> = if s.contains('_') {
                Cow::Owned(s.replace('_', ""))
            } else {
                Cow::Borrowed(s)
            };
            if go_parse_int_base0_ok(&plain) {
                return false;
            }
            if crate::reader::is_yaml_float(&plain) && go_parse_float_ok(&plain) {
                return false;
            }
            // "0b" followed by a signed binary number (the base-0 parse above
            // rejects a sign after the prefix). The "-0b" retry in go-yaml accepts
            // exactly what the base-0 parse already did.
            if let Some(rest) = plain.strip_prefix("0b") {
                if parse_int_digits(rest, 2, true).is_some() {
                    return false;
                }
            }
            true
        }
    }
}

fn is_special_word(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "true"
            | "True"
            | "TRUE"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "false"
            | "False"
            | "FALSE"
            | "off"
            | "Off"
            | "OFF"
            | "~"
            | "null"
            | "Null"
            | "NULL"
            | ".nan"
            | ".NaN"
            | ".NAN"
            | ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
    )
}

/// Go `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeds.
fn go_parse_int_base0_ok(s: &str) -> bool {
    let (sign, body) = match s.as_bytes().first() {
        Some(b'+') => (Some(b'+'), &s[1..]),
        Some(b'-') => (Some(b'-'), &s[1..]),
        _ => (None, s),
    };
    let bb = body.as_bytes();
    if bb.is_empty() {
        return false;
    }
    let (base, digits) = if bb[0] == b'0' {
        if bb.len() >= 3 {
            match bb[1] | 0x20 {
                b'b' => (2, &body[2..]),
                b'o' => (8, &body[2..]),
                b'x' => (16, &body[2..]),
                _ => (8, &body[1..]),
            }
        } else {
            (8, &body[1..])
        }
    } else {
        (10, body)
    };
    let Some(v) = parse_uint_digits(digits, base, true) else {
        return false;
    };
    match sign {
        Some(b'-') => v <= 1u64 << 63,
        Some(_) => v < 1u64 << 63,
        None => true,
    }
}

/// Parses unsigned digits in `base`; `None` on a syntax or range error.
/// `allow_empty` mirrors Go's base-0 parse of "0" (prefix consumed, nothing left).
fn parse_uint_digits(s: &str, base: u32, allow_empty: bool) -> Option<u64> {
    if s.is_empty() && !allow_empty {
        return None;
    }
    let mut v: u64 = 0;
    for c in s.chars() {
        let d = c.to_digit(36)?;
        if d >= base {
            return None;
        }
        v = v.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Go `ParseInt(s, base, 64)` or (when unsigned) `ParseUint(s, base, 64)` succeeds.
fn parse_int_digits(s: &str, base: u32, signed: bool) -> Option<()> {
    let (neg, pos, body) = match s.as_bytes().first() {
        Some(b'-') if signed => (true, false, &s[1..]),
        Some(b'+') if signed => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let v = parse_uint_digits(body, base, false)?;
    let ok = if neg {
        v <= 1u64 << 63
    } else if pos {
        v < 1u64 << 63
    } else {
        true
    };
    ok.then_some(())
}

/// Go `strconv.ParseFloat(s, 64)` succeeds, for the inputs that reach it: decimal
/// syntax (underscores allowed between digits), no overflow to infinity.
/// Go also accepts hex floats and inf/nan spellings, but those never reach here
/// (the callers only pass strings starting with '.' or matching the float regex).
fn go_parse_float_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut saw_digits = false;
    let mut saw_dot = false;
    while i < b.len() {
        match b[i] {
            b'0'..=b'9' => saw_digits = true,
            b'_' => {}
            b'.' if !saw_dot => saw_dot = true,
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return false;
    }
    if i < b.len() && (b[i] | 0x20) == b'e' {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !matches!(b.get(i), Some(b'0'..=b'9')) {
            return false;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    if i != b.len() {
        return false;
    }
    if s.contains('_') && !underscores_ok(b) {
        return false;
    }
    let cleaned: Cow<'_, str> = if s.contains('_') {
        Cow::Owned(s.replace('_', ""))
    } else {
        Cow::Borrowed(s)
    };
    cleaned.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Go's `underscoreOK` for a decimal number: every '_' sits between digits.
fn underscores_ok(b: &[u8]) -> bool {
    let b = match b.first() {
        Some(b'+' | b'-') => &b[1..],
        _ => b,
    };
    // 0 = start, 1 = digit, 2 = underscore, 3 = other
    let mut saw = 0u8;
    for &c in b {
        if c.is_ascii_digit() {
            saw = 1;
        } else if c == b'_' {
            if saw != 1 {
                return false;
            }
            saw = 2;
        } else {
            if saw == 2 {
                return false;
            }
            saw = 3;
        }
    }
    saw != 2
}

/// YAML 1.1 base-60 float, which go-yaml quotes for compatibility:
/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&c0) = b.first() else {
        return false;
    };
    if !(c0 == b'+' || c0 == b'-' || c0.is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    let mut i = usize::from(c0 == b'+' || c0 == b'-');
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        match i - start {
            1 => {}
            2 if b[start] <= b'5' => {}
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml's timestamp check (shared with the reader).
fn is_timestamp(b: &[u8]) -> bool {
    crate::timestamp::parse(b).is_some()
}

// ----- key order (go-yaml v2 keyList.Less) ------------------------------------------

/// Sorts `v` by `less` the way Go's `sort.Sort` does where that can be matched,
/// without ever panicking. go-yaml's key order is not a total order (digit runs
/// longer than 19 digits wrap around in its int64 arithmetic), and Rust's sorts
/// may panic when they detect that. Go sorts up to 12 elements by insertion
/// sort, reproduced here exactly, so small maps come out as kustomize writes
/// them even then. Longer slices are merge sorted: wherever `less` is a total
/// order (every real key set) the result is the one sorted order, the same as
/// Go's; where it is not, the order may differ from kustomize's (listed in
/// docs/compatibility.md). kustomize's legacy resource order is another such
/// comparison (two kinds can tie), which the library sorts with this too.
pub fn go_sort<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    const GO_INSERTION_SORT_MAX: usize = 12;
    let n = v.len();
    if n <= GO_INSERTION_SORT_MAX {
        for i in 1..n {
            let mut j = i;
            while j > 0 && less(&v[j], &v[j - 1]) {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    // Stable bottom-up merge sort of positions, then the permutation applied
    // in place (no element is cloned).
    let mut order: Vec<usize> = (0..n).collect();
    let mut merged: Vec<usize> = Vec::with_capacity(n);
    let mut width = 1;
    while width < n {
        merged.clear();
        for start in (0..n).step_by(2 * width) {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut l, mut r) = (start, mid);
            while l < mid && r < end {
                // Take from the right only when strictly less: stable.
                if less(&v[order[r]], &v[order[l]]) {
                    merged.push(order[r]);
                    r += 1;
                } else {
                    merged.push(order[l]);
                    l += 1;
                }
            }
            merged.extend_from_slice(&order[l..mid]);
            merged.extend_from_slice(&order[r..end]);
        }
        std::mem::swap(&mut order, &mut merged);
        width *= 2;
    }
    // Position i takes the element at order[i]: follow each cycle once.
    let mut placed = vec![false; n];
    for start in 0..n {
        let mut j = start;
        while !placed[j] {
            placed[j] = true;
            let from = order[j];
            if from == start {
                break;
            }
            v.swap(j, from);
            j = from;
        }
    }
}

/// go-yaml v2's key order as an `Ordering` (for tests: it is not a total order).
#[cfg(test)]
fn key_order(a: &str, b: &str) -> Ordering {
    if a == b {
        Ordering::Equal
    } else if key_less(a, b) {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

fn key_less(a: &str, b: &str) -> bool {
    let mut ai = a.char_indices();
    let mut bi = b.char_indices();
    while let (Some((apos, ac)), Some((bpos, bc))) = (ai.next(), bi.next()) {
        if ac == bc {
            continue;
        }
        let al = is_letter(ac);
        let bl = is_letter(bc);
        if al && bl {
            return ac < bc;
        }
        if al || bl {
            return bl;
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ac == '0' || bc == '0' {
            // A zero inside a digit run that already has a non-zero digit is
            // significant; go-yaml accounts for that by starting both numbers at 1.
            for c in a[..apos].chars().rev() {
                if !is_digit(c) {
                    break;
                }
                if c != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let (an, alen) = digit_run(&a[apos..], an);
        let (bn, blen) = digit_run(&b[bpos..], bn);
        if an != bn {
            return an < bn;
        }
        if alen != blen {
            return alen < blen;
        }
        return ac < bc;
    }
    char_count(a) < char_count(b)
}

/// [`key_less`] for two ASCII keys: the same comparison on bytes.
fn key_less_ascii(a: &[u8], b: &[u8]) -> bool {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (Some(&ac), Some(&bc)) = (a.get(common), b.get(common)) else {
        return a.len() < b.len();
    };
    let al = ac.is_ascii_alphabetic();
    let bl = bc.is_ascii_alphabetic();
    if al && bl {
        return ac < bc;
    }
    if al || bl {
        return bl;
    }
    let mut an: i64 = 0;
    let mut bn: i64 = 0;
    if ac == b'0' || bc == b'0' {
        for &c in a[..common].iter().rev() {
            if !c.is_ascii_digit() {
                break;
            }
            if c != b'0' {
                an = 1;
                bn = 1;
                break;
            }
        }
    }
    let (an, alen) = digit_run_ascii(&a[common..], an);
    let (bn, blen) = digit_run_ascii(&b[common..], bn);
    if an != bn {
        return an < bn;
    }
    if alen != blen {
        return alen < blen;
    }
    ac < bc
}

/// [`digit_run`] for ASCII.
fn digit_run_ascii(s: &[u8], mut n: i64) -> (i64, usize) {
    let mut len = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            break;
        }
        n = n.wrapping_mul(10).wrapping_add(i64::from(c - b'0'));
        len += 1;
    }
    (n, len)
}

/// Accumulates the leading digit run of `s` onto `n` the way go-yaml does (Go
/// `int64` arithmetic, digit value = code point - '0'); returns it and the run's
/// length in code points.
fn digit_run(s: &str, mut n: i64) -> (i64, usize) {
    let mut len = 0;
    for c in s.chars() {
        if !is_digit(c) {
            break;
        }
        n = n
            .wrapping_mul(10)
            .wrapping_add(i64::from(c as u32) - i64::from(b'0'));
        len += 1;
    }
    (n, len)
}

fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        in_ranges(c, LETTER_RANGES)
    }
}

fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        in_ranges(c, DIGIT_RANGES)
    }
}

fn in_ranges(c: char, ranges: &[(u32, u32)]) -> bool {
    let v = c as u32;
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < v {
                Ordering::Less
            } else if lo > v {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .is_ok()
}

/// Non-ASCII code points of Unicode general category L (Lu, Ll, Lt, Lm, Lo): Go's
/// `unicode.IsLetter`. Generated from the Unicode 14 database.
#[rustfmt::skip]
const LETTER_RANGES: &[(u32, u32)] = &[
    (0xAA, 0xAA), (0xB5, 0xB5), (0xBA, 0xBA), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x2C1),
    (0x2C6, 0x2D1), (0x2E0, 0x2E4), (0x2EC, 0x2EC), (0x2EE, 0x2EE), (0x370, 0x374),
    (0x376, 0x377), (0x37A, 0x37D), (0x37F, 0x37F), (0x386, 0x386), (0x388, 0x38A),
    (0x38C, 0x38C), (0x38E, 0x3A1), (0x3A3, 0x3F5), (0x3F7, 0x481), (0x48A, 0x52F),
    (0x531, 0x556), (0x559, 0x559), (0x560, 0x588), (0x5D0, 0x5EA), (0x5EF, 0x5F2),
    (0x620, 0x64A), (0x66E, 0x66F), (0x671, 0x6D3), (0x6D5, 0x6D5), (0x6E5, 0x6E6),
    (0x6EE, 0x6EF), (0x6FA, 0x6FC), (0x6FF, 0x6FF), (0x710, 0x710), (0x712, 0x72F),
    (0x74D, 0x7A5), (0x7B1, 0x7B1), (0x7CA, 0x7EA), (0x7F4, 0x7F5), (0x7FA, 0x7FA),
    (0x800, 0x815), (0x81A, 0x81A), (0x824, 0x824), (0x828, 0x828), (0x840, 0x858),
    (0x860, 0x86A), (0x870, 0x887), (0x889, 0x88E), (0x8A0, 0x8C9), (0x904, 0x939),
    (0x93D, 0x93D), (0x950, 0x950), (0x958, 0x961), (0x971, 0x980), (0x985, 0x98C),
    (0x98F, 0x990), (0x993, 0x9A8), (0x9AA, 0x9B0), (0x9B2, 0x9B2), (0x9B6, 0x9B9),
    (0x9BD, 0x9BD), (0x9CE, 0x9CE), (0x9DC, 0x9DD), (0x9DF, 0x9E1), (0x9F0, 0x9F1),
    (0x9FC, 0x9FC), (0xA05, 0xA0A), (0xA0F, 0xA10), (0xA13, 0xA28), (0xA2A, 0xA30),
    (0xA32, 0xA33), (0xA35, 0xA36), (0xA38, 0xA39), (0xA59, 0xA5C), (0xA5E, 0xA5E),
    (0xA72, 0xA74), (0xA85, 0xA8D), (0xA8F, 0xA91), (0xA93, 0xAA8), (0xAAA, 0xAB0),
    (0xAB2, 0xAB3), (0xAB5, 0xAB9), (0xABD, 0xABD), (0xAD0, 0xAD0), (0xAE0, 0xAE1),
    (0xAF9, 0xAF9), (0xB05, 0xB0C), (0xB0F, 0xB10), (0xB13, 0xB28), (0xB2A, 0xB30),
    (0xB32, 0xB33), (0xB35, 0xB39), (0xB3D, 0xB3D), (0xB5C, 0xB5D), (0xB5F, 0xB61),
    (0xB71, 0xB71), (0xB83, 0xB83), (0xB85, 0xB8A), (0xB8E, 0xB90), (0xB92, 0xB95),
    (0xB99, 0xB9A), (0xB9C, 0xB9C), (0xB9E, 0xB9F), (0xBA3, 0xBA4), (0xBA8, 0xBAA),
    (0xBAE, 0xBB9), (0xBD0, 0xBD0), (0xC05, 0xC0C), (0xC0E, 0xC10), (0xC12, 0xC28),
    (0xC2A, 0xC39), (0xC3D, 0xC3D), (0xC58, 0xC5A), (0xC5D, 0xC5D), (0xC60, 0xC61),
    (0xC80, 0xC80), (0xC85, 0xC8C), (0xC8E, 0xC90), (0xC92, 0xCA8), (0xCAA, 0xCB3),
    (0xCB5, 0xCB9), (0xCBD, 0xCBD), (0xCDD, 0xCDE), (0xCE0, 0xCE1), (0xCF1, 0xCF2),
    (0xD04, 0xD0C), (0xD0E, 0xD10), (0xD12, 0xD3A), (0xD3D, 0xD3D), (0xD4E, 0xD4E),
    (0xD54, 0xD56), (0xD5F, 0xD61), (0xD7A, 0xD7F), (0xD85, 0xD96), (0xD9A, 0xDB1),
    (0xDB3, 0xDBB), (0xDBD, 0xDBD), (0xDC0, 0xDC6), (0xE01, 0xE30), (0xE32, 0xE33),
    (0xE40, 0xE46), (0xE81, 0xE82), (0xE84, 0xE84), (0xE86, 0xE8A), (0xE8C, 0xEA3),
    (0xEA5, 0xEA5), (0xEA7, 0xEB0), (0xEB2, 0xEB3), (0xEBD, 0xEBD), (0xEC0, 0xEC4),
    (0xEC6, 0xEC6), (0xEDC, 0xEDF), (0xF00, 0xF00), (0xF40, 0xF47), (0xF49, 0xF6C),
    (0xF88, 0xF8C), (0x1000, 0x102A), (0x103F, 0x103F), (0x1050, 0x1055), (0x105A, 0x105D),
    (0x1061, 0x1061), (0x1065, 0x1066), (0x106E, 0x1070), (0x1075, 0x1081),
    (0x108E, 0x108E), (0x10A0, 0x10C5), (0x10C7, 0x10C7), (0x10CD, 0x10CD),
    (0x10D0, 0x10FA), (0x10FC, 0x1248), (0x124A, 0x124D), (0x1250, 0x1256),
    (0x1258, 0x1258), (0x125A, 0x125D), (0x1260, 0x1288), (0x128A, 0x128D),
    (0x1290, 0x12B0), (0x12B2, 0x12B5), (0x12B8, 0x12BE), (0x12C0, 0x12C0),
    (0x12C2, 0x12C5), (0x12C8, 0x12D6), (0x12D8, 0x1310), (0x1312, 0x1315),
    (0x1318, 0x135A), (0x1380, 0x138F), (0x13A0, 0x13F5), (0x13F8, 0x13FD),
    (0x1401, 0x166C), (0x166F, 0x167F), (0x1681, 0x169A), (0x16A0, 0x16EA),
    (0x16F1, 0x16F8), (0x1700, 0x1711), (0x171F, 0x1731), (0x1740, 0x1751),
    (0x1760, 0x176C), (0x176E, 0x1770), (0x1780, 0x17B3), (0x17D7, 0x17D7),
    (0x17DC, 0x17DC), (0x1820, 0x1878), (0x1880, 0x1884), (0x1887, 0x18A8),
    (0x18AA, 0x18AA), (0x18B0, 0x18F5), (0x1900, 0x191E), (0x1950, 0x196D),
    (0x1970, 0x1974), (0x1980, 0x19AB), (0x19B0, 0x19C9), (0x1A00, 0x1A16),
    (0x1A20, 0x1A54), (0x1AA7, 0x1AA7), (0x1B05, 0x1B33), (0x1B45, 0x1B4C),
    (0x1B83, 0x1BA0), (0x1BAE, 0x1BAF), (0x1BBA, 0x1BE5), (0x1C00, 0x1C23),
    (0x1C4D, 0x1C4F), (0x1C5A, 0x1C7D), (0x1C80, 0x1C88), (0x1C90, 0x1CBA),
    (0x1CBD, 0x1CBF), (0x1CE9, 0x1CEC), (0x1CEE, 0x1CF3), (0x1CF5, 0x1CF6),
    (0x1CFA, 0x1CFA), (0x1D00, 0x1DBF), (0x1E00, 0x1F15), (0x1F18, 0x1F1D),
    (0x1F20, 0x1F45), (0x1F48, 0x1F4D), (0x1F50, 0x1F57), (0x1F59, 0x1F59),
    (0x1F5B, 0x1F5B), (0x1F5D, 0x1F5D), (0x1F5F, 0x1F7D), (0x1F80, 0x1FB4),
    (0x1FB6, 0x1FBC), (0x1FBE, 0x1FBE), (0x1FC2, 0x1FC4), (0x1FC6, 0x1FCC),
    (0x1FD0, 0x1FD3), (0x1FD6, 0x1FDB), (0x1FE0, 0x1FEC), (0x1FF2, 0x1FF4),
    (0x1FF6, 0x1FFC), (0x2071, 0x2071), (0x207F, 0x207F), (0x2090, 0x209C),
    (0x2102, 0x2102), (0x2107, 0x2107), (0x210A, 0x2113), (0x2115, 0x2115),
    (0x2119, 0x211D), (0x2124, 0x2124), (0x2126, 0x2126), (0x2128, 0x2128),
    (0x212A, 0x212D), (0x212F, 0x2139), (0x213C, 0x213F), (0x2145, 0x2149),
    (0x214E, 0x214E), (0x2183, 0x2184), (0x2C00, 0x2CE4), (0x2CEB, 0x2CEE),
    (0x2CF2, 0x2CF3), (0x2D00, 0x2D25), (0x2D27, 0x2D27), (0x2D2D, 0x2D2D),
    (0x2D30, 0x2D67), (0x2D6F, 0x2D6F), (0x2D80, 0x2D96), (0x2DA0, 0x2DA6),
    (0x2DA8, 0x2DAE), (0x2DB0, 0x2DB6), (0x2DB8, 0x2DBE), (0x2DC0, 0x2DC6),
    (0x2DC8, 0x2DCE), (0x2DD0, 0x2DD6), (0x2DD8, 0x2DDE), (0x2E2F, 0x2E2F),
    (0x3005, 0x3006), (0x3031, 0x3035), (0x303B, 0x303C), (0x3041, 0x3096),
    (0x309D, 0x309F), (0x30A1, 0x30FA), (0x30FC, 0x30FF), (0x3105, 0x312F),
    (0x3131, 0x318E), (0x31A0, 0x31BF), (0x31F0, 0x31FF), (0x3400, 0x4DBF),
    (0x4E00, 0xA48C), (0xA4D0, 0xA4FD), (0xA500, 0xA60C), (0xA610, 0xA61F),
    (0xA62A, 0xA62B), (0xA640, 0xA66E), (0xA67F, 0xA69D), (0xA6A0, 0xA6E5),
    (0xA717, 0xA71F), (0xA722, 0xA788), (0xA78B, 0xA7CA), (0xA7D0, 0xA7D1),
    (0xA7D3, 0xA7D3), (0xA7D5, 0xA7D9), (0xA7F2, 0xA801), (0xA803, 0xA805),
    (0xA807, 0xA80A), (0xA80C, 0xA822), (0xA840, 0xA873), (0xA882, 0xA8B3),
    (0xA8F2, 0xA8F7), (0xA8FB, 0xA8FB), (0xA8FD, 0xA8FE), (0xA90A, 0xA925),
    (0xA930, 0xA946), (0xA960, 0xA97C), (0xA984, 0xA9B2), (0xA9CF, 0xA9CF),
    (0xA9E0, 0xA9E4), (0xA9E6, 0xA9EF), (0xA9FA, 0xA9FE), (0xAA00, 0xAA28),
    (0xAA40, 0xAA42), (0xAA44, 0xAA4B), (0xAA60, 0xAA76), (0xAA7A, 0xAA7A),
    (0xAA7E, 0xAAAF), (0xAAB1, 0xAAB1), (0xAAB5, 0xAAB6), (0xAAB9, 0xAABD),
    (0xAAC0, 0xAAC0), (0xAAC2, 0xAAC2), (0xAADB, 0xAADD), (0xAAE0, 0xAAEA),
    (0xAAF2, 0xAAF4), (0xAB01, 0xAB06), (0xAB09, 0xAB0E), (0xAB11, 0xAB16),
    (0xAB20, 0xAB26), (0xAB28, 0xAB2E), (0xAB30, 0xAB5A), (0xAB5C, 0xAB69),
    (0xAB70, 0xABE2), (0xAC00, 0xD7A3), (0xD7B0, 0xD7C6), (0xD7CB, 0xD7FB),
    (0xF900, 0xFA6D), (0xFA70, 0xFAD9), (0xFB00, 0xFB06), (0xFB13, 0xFB17),
    (0xFB1D, 0xFB1D), (0xFB1F, 0xFB28), (0xFB2A, 0xFB36), (0xFB38, 0xFB3C),
    (0xFB3E, 0xFB3E), (0xFB40, 0xFB41), (0xFB43, 0xFB44), (0xFB46, 0xFBB1),
    (0xFBD3, 0xFD3D), (0xFD50, 0xFD8F), (0xFD92, 0xFDC7), (0xFDF0, 0xFDFB),
    (0xFE70, 0xFE74), (0xFE76, 0xFEFC), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A),
    (0xFF66, 0xFFBE), (0xFFC2, 0xFFC7), (0xFFCA, 0xFFCF), (0xFFD2, 0xFFD7),
    (0xFFDA, 0xFFDC), (0x10000, 0x1000B), (0x1000D, 0x10026), (0x10028, 0x1003A),
    (0x1003C, 0x1003D), (0x1003F, 0x1004D), (0x10050, 0x1005D), (0x10080, 0x100FA),
    (0x10280, 0x1029C), (0x102A0, 0x102D0), (0x10300, 0x1031F), (0x1032D, 0x10340),
    (0x10342, 0x10349), (0x10350, 0x10375), (0x10380, 0x1039D), (0x103A0, 0x103C3),
    (0x103C8, 0x103CF), (0x10400, 0x1049D), (0x104B0, 0x104D3), (0x104D8, 0x104FB),
    (0x10500, 0x10527), (0x10530, 0x10563), (0x10570, 0x1057A), (0x1057C, 0x1058A),
    (0x1058C, 0x10592), (0x10594, 0x10595), (0x10597, 0x105A1), (0x105A3, 0x105B1),
    (0x105B3, 0x105B9), (0x105BB, 0x105BC), (0x10600, 0x10736), (0x10740, 0x10755),
    (0x10760, 0x10767), (0x10780, 0x10785), (0x10787, 0x107B0), (0x107B2, 0x107BA),
    (0x10800, 0x10805), (0x10808, 0x10808), (0x1080A, 0x10835), (0x10837, 0x10838),
    (0x1083C, 0x1083C), (0x1083F, 0x10855), (0x10860, 0x10876), (0x10880, 0x1089E),
    (0x108E0, 0x108F2), (0x108F4, 0x108F5), (0x10900, 0x10915), (0x10920, 0x10939),
    (0x10980, 0x109B7), (0x109BE, 0x109BF), (0x10A00, 0x10A00), (0x10A10, 0x10A13),
    (0x10A15, 0x10A17), (0x10A19, 0x10A35), (0x10A60, 0x10A7C), (0x10A80, 0x10A9C),
    (0x10AC0, 0x10AC7), (0x10AC9, 0x10AE4), (0x10B00, 0x10B35), (0x10B40, 0x10B55),
    (0x10B60, 0x10B72), (0x10B80, 0x10B91), (0x10C00, 0x10C48), (0x10C80, 0x10CB2),
    (0x10CC0, 0x10CF2), (0x10D00, 0x10D23), (0x10E80, 0x10EA9), (0x10EB0, 0x10EB1),
    (0x10F00, 0x10F1C), (0x10F27, 0x10F27), (0x10F30, 0x10F45), (0x10F70, 0x10F81),
    (0x10FB0, 0x10FC4), (0x10FE0, 0x10FF6), (0x11003, 0x11037), (0x11071, 0x11072),
    (0x11075, 0x11075), (0x11083, 0x110AF), (0x110D0, 0x110E8), (0x11103, 0x11126),
    (0x11144, 0x11144), (0x11147, 0x11147), (0x11150, 0x11172), (0x11176, 0x11176),
    (0x11183, 0x111B2), (0x111C1, 0x111C4), (0x111DA, 0x111DA), (0x111DC, 0x111DC),
    (0x11200, 0x11211), (0x11213, 0x1122B), (0x11280, 0x11286), (0x11288, 0x11288),
    (0x1128A, 0x1128D), (0x1128F, 0x1129D), (0x1129F, 0x112A8), (0x112B0, 0x112DE),
    (0x11305, 0x1130C), (0x1130F, 0x11310), (0x11313, 0x11328), (0x1132A, 0x11330),
    (0x11332, 0x11333), (0x11335, 0x11339), (0x1133D, 0x1133D), (0x11350, 0x11350),
    (0x1135D, 0x11361), (0x11400, 0x11434), (0x11447, 0x1144A), (0x1145F, 0x11461),
    (0x11480, 0x114AF), (0x114C4, 0x114C5), (0x114C7, 0x114C7), (0x11580, 0x115AE),
    (0x115D8, 0x115DB), (0x11600, 0x1162F), (0x11644, 0x11644), (0x11680, 0x116AA),
    (0x116B8, 0x116B8), (0x11700, 0x1171A), (0x11740, 0x11746), (0x11800, 0x1182B),
    (0x118A0, 0x118DF), (0x118FF, 0x11906), (0x11909, 0x11909), (0x1190C, 0x11913),
    (0x11915, 0x11916), (0x11918, 0x1192F), (0x1193F, 0x1193F), (0x11941, 0x11941),
    (0x119A0, 0x119A7), (0x119AA, 0x119D0), (0x119E1, 0x119E1), (0x119E3, 0x119E3),
    (0x11A00, 0x11A00), (0x11A0B, 0x11A32), (0x11A3A, 0x11A3A), (0x11A50, 0x11A50),
    (0x11A5C, 0x11A89), (0x11A9D, 0x11A9D), (0x11AB0, 0x11AF8), (0x11C00, 0x11C08),
    (0x11C0A, 0x11C2E), (0x11C40, 0x11C40), (0x11C72, 0x11C8F), (0x11D00, 0x11D06),
    (0x11D08, 0x11D09), (0x11D0B, 0x11D30), (0x11D46, 0x11D46), (0x11D60, 0x11D65),
    (0x11D67, 0x11D68), (0x11D6A, 0x11D89), (0x11D98, 0x11D98), (0x11EE0, 0x11EF2),
    (0x11FB0, 0x11FB0), (0x12000, 0x12399), (0x12480, 0x12543), (0x12F90, 0x12FF0),
    (0x13000, 0x1342E), (0x14400, 0x14646), (0x16800, 0x16A38), (0x16A40, 0x16A5E),
    (0x16A70, 0x16ABE), (0x16AD0, 0x16AED), (0x16B00, 0x16B2F), (0x16B40, 0x16B43),
    (0x16B63, 0x16B77), (0x16B7D, 0x16B8F), (0x16E40, 0x16E7F), (0x16F00, 0x16F4A),
    (0x16F50, 0x16F50), (0x16F93, 0x16F9F), (0x16FE0, 0x16FE1), (0x16FE3, 0x16FE3),
    (0x17000, 0x187F7), (0x18800, 0x18CD5), (0x18D00, 0x18D08), (0x1AFF0, 0x1AFF3),
    (0x1AFF5, 0x1AFFB), (0x1AFFD, 0x1AFFE), (0x1B000, 0x1B122), (0x1B150, 0x1B152),
    (0x1B164, 0x1B167), (0x1B170, 0x1B2FB), (0x1BC00, 0x1BC6A), (0x1BC70, 0x1BC7C),
    (0x1BC80, 0x1BC88), (0x1BC90, 0x1BC99), (0x1D400, 0x1D454), (0x1D456, 0x1D49C),
    (0x1D49E, 0x1D49F), (0x1D4A2, 0x1D4A2), (0x1D4A5, 0x1D4A6), (0x1D4A9, 0x1D4AC),
    (0x1D4AE, 0x1D4B9), (0x1D4BB, 0x1D4BB), (0x1D4BD, 0x1D4C3), (0x1D4C5, 0x1D505),
    (0x1D507, 0x1D50A), (0x1D50D, 0x1D514), (0x1D516, 0x1D51C), (0x1D51E, 0x1D539),
    (0x1D53B, 0x1D53E), (0x1D540, 0x1D544), (0x1D546, 0x1D546), (0x1D54A, 0x1D550),
    (0x1D552, 0x1D6A5), (0x1D6A8, 0x1D6C0), (0x1D6C2, 0x1D6DA), (0x1D6DC, 0x1D6FA),
    (0x1D6FC, 0x1D714), (0x1D716, 0x1D734), (0x1D736, 0x1D74E), (0x1D750, 0x1D76E),
    (0x1D770, 0x1D788), (0x1D78A, 0x1D7A8), (0x1D7AA, 0x1D7C2), (0x1D7C4, 0x1D7CB),
    (0x1DF00, 0x1DF1E), (0x1E100, 0x1E12C), (0x1E137, 0x1E13D), (0x1E14E, 0x1E14E),
    (0x1E290, 0x1E2AD), (0x1E2C0, 0x1E2EB), (0x1E7E0, 0x1E7E6), (0x1E7E8, 0x1E7EB),
    (0x1E7ED, 0x1E7EE), (0x1E7F0, 0x1E7FE), (0x1E800, 0x1E8C4), (0x1E900, 0x1E943),
    (0x1E94B, 0x1E94B), (0x1EE00, 0x1EE03), (0x1EE05, 0x1EE1F), (0x1EE21, 0x1EE22),
    (0x1EE24, 0x1EE24), (0x1EE27, 0x1EE27), (0x1EE29, 0x1EE32), (0x1EE34, 0x1EE37),
    (0x1EE39, 0x1EE39), (0x1EE3B, 0x1EE3B), (0x1EE42, 0x1EE42), (0x1EE47, 0x1EE47),
    (0x1EE49, 0x1EE49), (0x1EE4B, 0x1EE4B), (0x1EE4D, 0x1EE4F), (0x1EE51, 0x1EE52),
    (0x1EE54, 0x1EE54), (0x1EE57, 0x1EE57), (0x1EE59, 0x1EE59), (0x1EE5B, 0x1EE5B),
    (0x1EE5D, 0x1EE5D), (0x1EE5F, 0x1EE5F), (0x1EE61, 0x1EE62), (0x1EE64, 0x1EE64),
    (0x1EE67, 0x1EE6A), (0x1EE6C, 0x1EE72), (0x1EE74, 0x1EE77), (0x1EE79, 0x1EE7C),
    (0x1EE7E, 0x1EE7E), (0x1EE80, 0x1EE89), (0x1EE8B, 0x1EE9B), (0x1EEA1, 0x1EEA3),
    (0x1EEA5, 0x1EEA9), (0x1EEAB, 0x1EEBB), (0x20000, 0x2A6DF), (0x2A700, 0x2B738),
    (0x2B740, 0x2B81D), (0x2B820, 0x2CEA1), (0x2CEB0, 0x2EBE0), (0x2F800, 0x2FA1D),
    (0x30000, 0x3134A),
];

/// Non-ASCII code points of category Nd: Go's `unicode.IsDigit`. Unicode 14.
#[rustfmt::skip]
const DIGIT_RANGES: &[(u32, u32)] = &[
    (0x660, 0x669), (0x6F0, 0x6F9), (0x7C0, 0x7C9), (0x966, 0x96F), (0x9E6, 0x9EF),
    (0xA66, 0xA6F), (0xAE6, 0xAEF), (0xB66, 0xB6F), (0xBE6, 0xBEF), (0xC66, 0xC6F),
    (0xCE6, 0xCEF), (0xD66, 0xD6F), (0xDE6, 0xDEF), (0xE50, 0xE59), (0xED0, 0xED9),
    (0xF20, 0xF29), (0x1040, 0x1049), (0x1090, 0x1099), (0x17E0, 0x17E9), (0x1810, 0x1819),
    (0x1946, 0x194F), (0x19D0, 0x19D9), (0x1A80, 0x1A89), (0x1A90, 0x1A99),
    (0x1B50, 0x1B59), (0x1BB0, 0x1BB9), (0x1C40, 0x1C49), (0x1C50, 0x1C59),
    (0xA620, 0xA629), (0xA8D0, 0xA8D9), (0xA900, 0xA909), (0xA9D0, 0xA9D9),
    (0xA9F0, 0xA9F9), (0xAA50, 0xAA59), (0xABF0, 0xABF9), (0xFF10, 0xFF19),
    (0x104A0, 0x104A9), (0x10D30, 0x10D39), (0x11066, 0x1106F), (0x110F0, 0x110F9),
    (0x11136, 0x1113F), (0x111D0, 0x111D9), (0x112F0, 0x112F9), (0x11450, 0x11459),
    (0x114D0, 0x114D9), (0x11650, 0x11659), (0x116C0, 0x116C9), (0x11730, 0x11739),
    (0x118E0, 0x118E9), (0x11950, 0x11959), (0x11C50, 0x11C59), (0x11D50, 0x11D59),
    (0x11DA0, 0x11DA9), (0x16A60, 0x16A69), (0x16AC0, 0x16AC9), (0x16B50, 0x16B59),
    (0x1D7CE, 0x1D7FF), (0x1E140, 0x1E149), (0x1E2F0, 0x1E2F9), (0x1E950, 0x1E959),
    (0x1FBF0, 0x1FBF9),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A map with `wide` long entries, then one value nested `deep` levels.
    fn wide_then_deep(wide: usize, deep: usize) -> Value {
        let mut nested = Value::string("leaf");
        for _ in 0..deep {
            let mut m = crate::Map::default();
            m.insert("k".to_owned(), nested);
            nested = Value::Map(m);
        }
        let mut top = crate::Map::default();
        for i in 0..wide {
            top.insert(format!("a{i:06}"), Value::string("x".repeat(60)));
        }
        top.insert("z".to_owned(), nested);
        Value::Map(top)
    }

    fn streamed(docs: &[Value]) -> std::io::Result<String> {
        let mut sink = Vec::new();
        let mut buf = String::new();
        for (i, doc) in docs.iter().enumerate() {
            if i > 0 {
                buf.push_str("---\n");
            }
            write_document_to(doc, &mut buf, &mut sink)?;
        }
        sink.extend_from_slice(buf.as_bytes());
        Ok(String::from_utf8_lossy(&sink).into_owned())
    }

    #[test]
    fn streamed_documents_match_the_buffered_writer() {
        // Small and large documents, and deep ones whose shallow attempt gave
        // up before or after a chunk had been written.
        let docs = [
            wide_then_deep(3, 2),
            wide_then_deep(5000, 2),
            wide_then_deep(2, crate::stack::SHALLOW_DEPTH + 5),
            wide_then_deep(5000, crate::stack::SHALLOW_DEPTH + 5),
            wide_then_deep(1, 1),
        ];
        assert_eq!(streamed(&docs).ok(), Some(write_documents(&docs)));
        assert_eq!(streamed(&docs[3..]).ok(), Some(write_documents(&docs[3..])));
    }

    #[test]
    fn a_failing_sink_fails_the_write() {
        struct Full;
        impl std::io::Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut buf = String::new();
        let result = write_document_to(&wide_then_deep(5000, 2), &mut buf, &mut Full);
        assert!(result.is_err());
    }

    fn g(f: f64) -> String {
        let mut s = String::new();
        format_json_float(f, &mut s);
        s
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(g(1500.0), "1500");
        assert_eq!(g(0.5), "0.5");
        assert_eq!(g(1234567.5), "1.2345675e+06");
        assert_eq!(g(123456.5), "123456.5");
        assert_eq!(g(1e21), "1e+21");
        assert_eq!(g(1e20), "1e+20");
        assert_eq!(g(1e-7), "1e-07");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001), "1e-05");
        assert_eq!(g(-2.5e-300), "-2.5e-300");
        assert_eq!(g(-0.0), "0");
        assert_eq!(g(9223372036854775808.0), "9223372036854776000");
        assert_eq!(g(-9223372036854775808.0), "-9.223372036854776e+18");
        assert_eq!(g(1.8446744073709552e19), "1.8446744073709552e+19");
    }

    /// Every document the writer cases hold (their input and their expected output,
    /// read back), plus a few small edge documents.
    fn case_documents() -> Vec<Value> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writer-cases");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|e| [e.path().join("input.json"), e.path().join("expected.yaml")])
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        let limits = crate::ParseLimits::default();
        let mut docs = vec![
            Value::Null,
            Value::from("x"),
            Value::Map(crate::Map::default()),
        ];
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            docs.extend(crate::parse_documents(&text, &limits).unwrap_or_default());
        }
        docs
    }

    #[test]
    fn parallel_writer_matches_sequential() {
        let docs = case_documents();
        assert!(docs.len() >= 80, "only {} documents", docs.len());
        let expected = write_documents(&docs);
        for threads in [0, 1, 2, 3, 4, 7, 16, docs.len(), docs.len() + 5] {
            assert!(
                write_documents_parallel(&docs, threads) == expected,
                "{threads} threads"
            );
        }
        for n in 0..6 {
            let few = &docs[..n];
            assert_eq!(
                write_documents_parallel(few, 4),
                write_documents(few),
                "{n} documents"
            );
        }
        assert_eq!(write_documents_parallel(&[], 4), "");
    }

    #[test]
    fn keys_sort_naturally() {
        let mut keys = vec!["a10", "a9", "b", "A", "_x", "a", "a01", "a1", "1", "-"];
        keys.sort_by(|a, b| key_order(a, b));
        assert_eq!(
            keys,
            ["-", "_x", "1", "A", "a", "a1", "a01", "a9", "a10", "b"]
        );
    }

    #[test]
    fn resolver_types_like_yaml_1_1() {
        for s in [
            "yes",
            "on",
            "1",
            "0x1F",
            "1_000",
            ".5",
            "1e3",
            "2020-01-01",
            "~",
            "",
        ] {
            assert!(!resolves_to_str(s), "{s}");
        }
        for s in ["<<", "1e400", "2021-02-30", "hello", "0x", "1.2.3", "-"] {
            assert!(resolves_to_str(s), "{s}");
        }
        assert!(is_base60_float("1:20"));
        assert!(!is_base60_float("1:60"));
    }
}

#[cfg(test)]
mod key_order_tests {
    use super::*;
    use crate::Map;

    /// Keys drawn at random from digits, letters, `:`, `-` and NEL, 40 to a map.
    fn random_key_sets(rounds: usize) -> Vec<Vec<String>> {
        let mut state: u64 = 88_172_645_463_325_252;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = ['0', '9', '1', 'A', 'a', ':', '\u{85}', '-'];
        (0..rounds)
            .map(|_| {
                (0..40)
                    .map(|_| {
                        let len = (next() % 45) as usize;
                        (0..len)
                            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    /// go-yaml's key order is not a total order (digit runs past 19 digits wrap
    /// around in its int64 arithmetic, and runs compare before their length):
    /// such maps must still be written, never panic.
    #[test]
    fn maps_whose_key_order_is_inconsistent_are_written() {
        for keys in random_key_sets(300) {
            let mut map = Map::default();
            for (i, k) in keys.iter().enumerate() {
                map.insert(k.clone(), Value::Int(i as i64));
            }
            let mut out = String::new();
            write_document(&Value::Map(map), &mut out);
            assert!(!out.is_empty());
        }
    }

    /// Up to 12 keys, the order is exactly what Go's insertion sort gives, even
    /// where the comparison is inconsistent.
    #[test]
    fn small_maps_sort_as_go_insertion_sort_does() {
        for keys in random_key_sets(300) {
            let mut ours: Vec<&str> = keys.iter().take(12).map(String::as_str).collect();
            let mut go = ours.clone();
            for i in 1..go.len() {
                let mut j = i;
                while j > 0 && key_less(go[j], go[j - 1]) {
                    go.swap(j, j - 1);
                    j -= 1;
                }
            }
            go_sort(&mut ours, |a, b| key_less(a, b));
            assert_eq!(ours, go);
        }
    }
}
