//! The reader: YAML text → [`Value`]s, typed the way kustomize types scalars.
//!
//! kustomize reads resources with go-yaml v3 and converts them to JSON, so a plain
//! scalar's type follows v3's resolver: YAML 1.2 booleans and nulls only (`yes`,
//! `on` stay strings), integers in any Go base-0 spelling (`0755` is octal,
//! `0x1F`, `0b11`, `0o17`, underscores ignored), floats, and unquoted timestamps
//! (which JSON turns into RFC 3339 strings). Quoted and block scalars are always
//! strings. Anchors are expanded and `<<` merge keys applied, so the model holds
//! plain data only.
//!
//! The event stream comes from `saphyr-parser` (a maintained YAML 1.2 parser; see
//! `docs/decisions.md`); building the tree is ours, with explicit limits on nesting
//! depth, alias expansion and input size.

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use crate::map::MapBuilder;
use crate::{Str, Value};

/// Limits that keep hostile input from exhausting memory or the stack.
#[derive(Clone, Debug)]
pub struct ParseLimits {
    /// Maximum nesting depth of collections (a document that is one mapping of
    /// scalars is 1 deep). kustomize (go-yaml v3) refuses documents nested deeper
    /// than 10,000 levels, and so does the default.
    pub max_depth: usize,
    /// Maximum number of bytes that anchors and alias expansion may add to one
    /// text: every copy an alias makes, and the copy kept of each anchored node,
    /// counted as the length of its strings and keys plus [`NODE_BYTES`] per node.
    /// kustomize has no such bound (it expands aliases until memory runs out).
    pub max_alias_bytes: usize,
    /// Maximum size of one input text in bytes.
    pub max_bytes: usize,
    /// Reject keys that are not strings (`80:`, `true:`) in nested mappings, as
    /// kustomize's JSON conversion of a resource does.
    pub reject_non_string_keys: bool,
    /// Maximum size a patch may grow one resource to, as an estimate of its
    /// in-memory size in bytes (every node counts its own slot plus its text).
    /// A JSON 6902 `copy` can double a list per operation, so without this bound
    /// a patch of a few hundred bytes could ask for gigabytes; exceeding it fails
    /// the build with an error naming the patch, the resource and the limit.
    /// The default (128 MiB) is tens of times the largest real resources.
    pub max_document_bytes: usize,
    /// Type plain scalars the way kustomize reads its kustomization files and
    /// JSON 6902 patches (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1) instead of
    /// the way it reads resources (go-yaml v3): `y`, `yes`, `on`, `n`, `no`,
    /// `off` (any of their three spellings) are booleans, timestamps stay text,
    /// keys that read as booleans or numbers become their JSON text (`on:` is
    /// `"true"`, `0x1F:` is `"31"`), a null key is an error, and a duplicate key
    /// takes the last value instead of failing.
    pub yaml11: bool,
    /// Keep the text of plain scalars that are values of `metadata.annotations`
    /// in a document's root mapping (`1.50` stays `"1.50"`, `~` stays `"~"`):
    /// kustomize rewrites annotations from its node texts as a string map.
    pub annotation_text: bool,
}

/// The bytes one node counts for in [`ParseLimits::max_alias_bytes`], besides
/// its text: about what a node of the tree takes in memory.
pub const NODE_BYTES: usize = 32;

/// kustomize's nesting limit (go-yaml v3's): the default [`ParseLimits::max_depth`].
pub const KUSTOMIZE_MAX_DEPTH: usize = 10_000;

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_depth: KUSTOMIZE_MAX_DEPTH,
            max_alias_bytes: 64 * 1024 * 1024,
            max_bytes: 64 * 1024 * 1024,
            reject_non_string_keys: false,
            max_document_bytes: 128 * 1024 * 1024,
            yaml11: false,
            annotation_text: false,
        }
    }
}

/// Why a text could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// A one-line description (with line and column where known).
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ParseError {
            message: message.into(),
        }
    }
}

/// Parses every document of a YAML stream. Empty documents come back as `Value::Empty`.
///
/// Texts in the block-style subset that manifests use are read by a fast
/// byte-level reader (`fast`); anything else (and anything malformed) by
/// the full saphyr-based reader, [`parse_documents_reference`]. Both give the
/// same values. Documents nested deeper than a small stack allows are read on a
/// deep stack ([`crate::stack`]); the values that come back may be as deep as
/// [`ParseLimits::max_depth`] (see [`crate::stack::drop_deep`]).
pub fn parse_documents(text: &str, limits: &ParseLimits) -> Result<Vec<Value>, ParseError> {
    check_size(text, limits)?;
    let known = check_characters(text)?;
    let deep = crate::stack::is_on_deep_stack();
    let cap = if deep {
        limits.max_depth
    } else {
        limits.max_depth.min(crate::stack::SHALLOW_DEPTH)
    };
    // go-yaml's other line breaks (NEL, LS, PS) become `\n` for both readers.
    let lines = crate::breaks::lines(text);
    match crate::fast::parse(
        &lines.text,
        limits,
        cap,
        &lines.seps,
        crate::fast::Dialect::GoYaml,
        Some(known),
    ) {
        crate::fast::Outcome::Docs(docs) => Ok(docs),
        crate::fast::Outcome::TooDeep(_) if cap < limits.max_depth => {
            crate::stack::on_deep_stack(|| parse_documents(text, limits))
        }
        crate::fast::Outcome::TooDeep(at) => Err(too_deep(line_of_byte(&lines.text, at), limits)),
        // Only the fast reader puts an LS/PS back into scalar content.
        crate::fast::Outcome::Unsupported if !lines.seps.is_empty() => {
            let (line, c) = lines.first.unwrap_or((1, '\u{2028}'));
            Err(crate::breaks::unsupported(line, c))
        }
        crate::fast::Outcome::Unsupported if deep => reference(&lines.text, limits),
        // The full reader's builder is not recursive, but cloning anchored values
        // and dropping a half-built deep tree are.
        crate::fast::Outcome::Unsupported => {
            crate::stack::on_deep_stack(|| reference(&lines.text, limits))
        }
    }
}

/// The fast reader alone: `None` when the text is outside its subset (or nests
/// deeper than the default stack allows). For tests and benchmarks.
#[doc(hidden)]
pub fn parse_documents_fast(text: &str, limits: &ParseLimits) -> Option<Vec<Value>> {
    fast_only(text, limits, crate::fast::Dialect::GoYaml)
}

/// Refuses the characters go-yaml's reader refuses ("control characters are
/// not allowed"): C0 controls other than tab, line feed and carriage return,
/// DEL, C1 controls other than NEL, and U+FFFE/U+FFFF. See
/// [`first_refused_byte`] for how they are found. The same pass over the
/// bytes finds what the fast reader's prescan looks for, returned for it.
fn check_characters(text: &str) -> Result<crate::fast::Prescanned, ParseError> {
    // One vectorizable pass (bitwise only: short-circuits or a tuple of
    // flags kept the compiler from vectorizing it): any byte that may start
    // a refused character, any control byte the fast reader leaves alone
    // (carriage return), any EF.
    let (mut refusable, mut controls, mut ef) = (0u8, 0u8, 0u8);
    for &x in text.as_bytes() {
        let c0 = u8::from(x < 0x20) & u8::from(x != b'\t') & u8::from(x != b'\n');
        let is_ef = u8::from(x == 0xef);
        refusable |=
            (c0 & u8::from(x != b'\r')) | u8::from(x == 0x7f) | u8::from(x == 0xc2) | is_ef;
        controls |= c0;
        ef |= is_ef;
    }
    let (refusable, controls, ef) = (refusable != 0, controls != 0, ef != 0);
    let known = crate::fast::Prescanned { controls, ef };
    if !refusable {
        return Ok(known);
    }
    let Some(at) = first_refused_byte(text.as_bytes()) else {
        return Ok(known);
    };
    let c = text
        .get(at..)
        .and_then(|t| t.chars().next())
        .unwrap_or('\0');
    let line = line_of_byte(text, at);
    let column = text.get(..at).map_or(0, |before| {
        before.rsplit('\n').next().map_or(0, |l| l.chars().count())
    }) + 1;
    Err(ParseError::new(format!(
        "control characters are not allowed (U+{:04X} at line {line} column {column})",
        u32::from(c)
    )))
}

/// The position of the first character [`check_characters`] refuses, found
/// in the UTF-8 bytes: C0 controls and DEL are bytes of their own, a C1
/// control is `C2 80..9F` (NEL is `C2 85`) and U+FFFE/U+FFFF are `EF BF BE/BF`;
/// `C2` and `EF` are only ever lead bytes. Blocks of 64 bytes are first
/// checked for any candidate byte at all (a loop the compiler vectorizes);
/// only a block holding one is looked at byte by byte. Texts with a few
/// non-ASCII characters (a `©` or a no-break space in a description) were
/// decoded character by character before, 3-4% of a Kubeflow build's CPU.
fn first_refused_byte(b: &[u8]) -> Option<usize> {
    const BLOCK: usize = 64;
    let candidate = |x: u8| {
        (x < 0x20 && x != b'\t' && x != b'\n' && x != b'\r')
            | (x == 0x7f)
            | (x == 0xc2)
            | (x == 0xef)
    };
    for (k, block) in b.chunks(BLOCK).enumerate() {
        if !block.iter().fold(false, |found, &x| found | candidate(x)) {
            continue;
        }
        for (j, &x) in block.iter().enumerate() {
            let i = k * BLOCK + j;
            let refused = match x {
                b'\t' | b'\n' | b'\r' => false,
                0..=0x1f | 0x7f => true,
                0xc2 => b
                    .get(i + 1)
                    .is_some_and(|&n| (0x80..=0x9f).contains(&n) && n != 0x85),
                0xef => b.get(i + 1) == Some(&0xbf) && matches!(b.get(i + 2), Some(0xbe | 0xbf)),
                _ => false,
            };
            if refused {
                return Some(i);
            }
        }
    }
    None
}

/// [`parse_documents_fast`] following saphyr where it and go-yaml differ (the
/// indentation inside quoted scalars and flow collections) instead of go-yaml:
/// what the differential tests hold against the full reader.
#[doc(hidden)]
pub fn parse_documents_fast_saphyr(text: &str, limits: &ParseLimits) -> Option<Vec<Value>> {
    fast_only(text, limits, crate::fast::Dialect::Saphyr)
}

fn fast_only(
    text: &str,
    limits: &ParseLimits,
    dialect: crate::fast::Dialect,
) -> Option<Vec<Value>> {
    check_size(text, limits).ok()?;
    let cap = limits.max_depth.min(crate::stack::SHALLOW_DEPTH);
    let lines = crate::breaks::lines(text);
    match crate::fast::parse(&lines.text, limits, cap, &lines.seps, dialect, None) {
        crate::fast::Outcome::Docs(docs) => Some(docs),
        _ => None,
    }
}

fn check_size(text: &str, limits: &ParseLimits) -> Result<(), ParseError> {
    if text.len() > limits.max_bytes {
        return Err(ParseError::new(format!(
            "document of {} bytes exceeds the limit of {} bytes",
            text.len(),
            limits.max_bytes
        )));
    }
    Ok(())
}

fn too_deep(line: usize, limits: &ParseLimits) -> ParseError {
    ParseError::new(format!(
        "line {line}: document nests deeper than {0} levels (limit: --max-depth, ParseLimits::max_depth)",
        limits.max_depth
    ))
}

/// The 1-based line of byte offset `at`.
fn line_of_byte(text: &str, at: usize) -> usize {
    1 + text
        .as_bytes()
        .iter()
        .take(at)
        .filter(|&&b| b == b'\n')
        .count()
}

/// The byte offset of character `index` (saphyr's markers count characters).
fn byte_of_char(text: &str, index: usize) -> usize {
    text.char_indices()
        .nth(index)
        .map_or(text.len(), |(i, _)| i)
}

/// The name of the alias (`*name`) at character `index`, for messages.
fn alias_name_at(text: &str, index: usize) -> String {
    let rest = text.get(byte_of_char(text, index)..).unwrap_or_default();
    let rest = rest.strip_prefix('*').unwrap_or(rest);
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}'))
        .unwrap_or(rest.len());
    crate::excerpt(rest.get(..end).unwrap_or_default(), 100).into_owned()
}

/// The full reader (saphyr-parser events → [`Value`]s), which
/// [`parse_documents`] falls back to. For tests and benchmarks.
#[doc(hidden)]
pub fn parse_documents_reference(
    text: &str,
    limits: &ParseLimits,
) -> Result<Vec<Value>, ParseError> {
    check_size(text, limits)?;
    let lines = crate::breaks::lines(text);
    if let Some((line, c)) = lines.first {
        return Err(crate::breaks::unsupported(line, c));
    }
    reference(&lines.text, limits)
}

/// [`parse_documents_reference`] on a text without NEL, LS or PS.
fn reference(text: &str, limits: &ParseLimits) -> Result<Vec<Value>, ParseError> {
    let mut builder = Builder {
        limits,
        stack: Vec::new(),
        anchors: Vec::new(),
        alias_budget: limits.max_alias_bytes,
        docs: Vec::new(),
    };
    // A block scalar that runs to the end of a text without a final newline has no
    // final line break to keep (the parser adds one; go-yaml does not).
    let unterminated_end =
        (!text.is_empty() && !text.ends_with('\n')).then(|| text.chars().count());
    for item in Parser::new_from_str(text) {
        let (mut event, span) = item.map_err(|e| scan_error(text, &e, &builder))?;
        if let (Some(end), Event::Scalar(value, ScalarStyle::Literal | ScalarStyle::Folded, _, _)) =
            (unterminated_end, &mut event)
        {
            if span.end.index() >= end && value.ends_with('\n') {
                value.to_mut().pop();
            }
        }
        builder.event(event).map_err(|m| {
            let message = match m {
                BuildError::Message(m) => m,
                BuildError::SelfAlias => format!(
                    "alias *{} refers to the node that contains it (a self-referencing anchor)",
                    alias_name_at(text, span.start.index())
                ),
                BuildError::UnknownAlias => format!(
                    "alias *{} refers to an undefined anchor",
                    alias_name_at(text, span.start.index())
                ),
            };
            ParseError::new(format!("line {}: {message}", span.start.line()))
        })?;
    }
    Ok(builder.docs)
}

/// A scanner error of saphyr-parser, in our words where we know better.
fn scan_error(text: &str, e: &saphyr_parser::ScanError, builder: &Builder<'_>) -> ParseError {
    let mark = e.marker();
    let info = e.info();
    if info.contains("unknown anchor") {
        return ParseError::new(format!(
            "line {}: alias *{} refers to an undefined anchor",
            mark.line(),
            alias_name_at(text, mark.index())
        ));
    }
    if info.contains("recursion limit") {
        // saphyr-parser nests flow collections at most 255 deep; the fast reader
        // reads deeper ones, but not in texts outside its subset.
        return ParseError::new(format!(
            "line {}: flow collections nest deeper than 255 levels in a document that uses \
             anchors, tags or other YAML the fast reader does not read (limit {} levels \
             otherwise)",
            mark.line(),
            builder.limits.max_depth
        ));
    }
    ParseError::new(crate::excerpt(&e.to_string(), 300).into_owned())
}

/// Why an event could not be added to the tree.
enum BuildError {
    Message(String),
    /// An alias inside the node its anchor names.
    SelfAlias,
    /// An alias whose anchor is not (yet) defined.
    UnknownAlias,
}

impl From<String> for BuildError {
    fn from(m: String) -> Self {
        BuildError::Message(m)
    }
}

impl From<&str> for BuildError {
    fn from(m: &str) -> Self {
        BuildError::Message(m.to_owned())
    }
}

/// A collection under construction.
enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
    },
    Map {
        map: MapBuilder,
        key: Option<Key>,
        anchor: usize,
        /// Values of `<<` keys, applied when the mapping ends.
        merges: Vec<Value>,
    },
}

impl Frame {
    fn anchor(&self) -> usize {
        match self {
            Frame::Seq { anchor, .. } | Frame::Map { anchor, .. } => *anchor,
        }
    }
}

/// A mapping key: its text, and whether it is the merge key `<<`.
struct Key {
    text: Str,
    merge: bool,
    /// A plain key that resolves to a number, boolean or null.
    non_string: bool,
}

struct Builder<'l> {
    limits: &'l ParseLimits,
    stack: Vec<Frame>,
    /// Anchored values by anchor id, with their sizes in bytes (for the alias budget).
    anchors: Vec<Option<(Value, usize)>>,
    /// The bytes anchors and aliases may still add.
    alias_budget: usize,
    docs: Vec<Value>,
}

impl Builder<'_> {
    /// Whether the value being read is one of `metadata.annotations` in the
    /// document's root mapping (see [`ParseLimits::annotation_text`]).
    fn in_annotation_value(&self) -> bool {
        if !self.limits.annotation_text {
            return false;
        }
        let key_is = |frame: Option<&Frame>, want: &str| matches!(frame, Some(Frame::Map { key: Some(k), .. }) if k.text == want && !k.merge);
        self.stack.len() == 3
            && key_is(self.stack.first(), "metadata")
            && key_is(self.stack.get(1), "annotations")
            && matches!(self.stack.get(2), Some(Frame::Map { key: Some(_), .. }))
    }

    fn event(&mut self, event: Event<'_>) -> Result<(), BuildError> {
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
            Event::DocumentStart(_) => {
                self.anchors.clear();
                Ok(())
            }
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(Frame::Map {
                    key: key @ None, ..
                }) = self.stack.last_mut()
                {
                    let plain = style == ScalarStyle::Plain && tag.is_none();
                    // `<<` is the merge key, also when tagged explicitly (`!!merge <<`).
                    let merge_tag = tag
                        .as_deref()
                        .is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "merge");
                    let merge =
                        style == ScalarStyle::Plain && (tag.is_none() || merge_tag) && text == "<<";
                    if self.limits.yaml11 && plain && !merge {
                        *key = Some(Key {
                            text: yaml11_key(&text)?,
                            merge,
                            non_string: false,
                        });
                        if anchor > 0 {
                            self.remember(anchor, &Value::String(Str::default()))?;
                        }
                        return Ok(());
                    }
                    let non_string = plain && !merge && key_is_non_string(&text);
                    let text = key_text(text, style, tag.as_deref())?;
                    *key = Some(Key {
                        text,
                        merge,
                        non_string,
                    });
                    if anchor > 0 {
                        self.remember(anchor, &Value::String(Str::default()))?;
                    }
                    return Ok(());
                }
                let value =
                    if self.in_annotation_value() && style == ScalarStyle::Plain && tag.is_none() {
                        Value::String(text.into())
                    } else if self.limits.yaml11 && style == ScalarStyle::Plain && tag.is_none() {
                        resolve_plain_yaml11(text)
                    } else {
                        scalar_value(text, style, tag.as_deref())?
                    };
                if anchor > 0 {
                    self.remember(anchor, &value)?;
                }
                Ok(self.push(value)?)
            }
            Event::Alias(id) => {
                let size = match self.anchors.get(id) {
                    Some(Some((_, size))) => *size,
                    _ if self.stack.iter().any(|f| f.anchor() == id) => {
                        return Err(BuildError::SelfAlias)
                    }
                    _ => return Err(BuildError::UnknownAlias),
                };
                self.spend(size)?;
                let value = match self.anchors.get(id) {
                    Some(Some((v, _))) => v.clone(),
                    _ => return Err(BuildError::UnknownAlias),
                };
                if let Some(Frame::Map {
                    key: key @ None, ..
                }) = self.stack.last_mut()
                {
                    *key = Some(Key {
                        non_string: !matches!(value, Value::String(_)),
                        text: scalar_key_of(&value)?,
                        merge: false,
                    });
                    return Ok(());
                }
                Ok(self.push(value)?)
            }
            Event::SequenceStart(anchor, _) => {
                self.enter()?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    anchor,
                });
                Ok(())
            }
            Event::MappingStart(anchor, _) => {
                self.enter()?;
                self.stack.push(Frame::Map {
                    map: MapBuilder::default(),
                    key: None,
                    anchor,
                    merges: Vec::new(),
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { items, anchor }) => (Value::Seq(items), anchor),
                    Some(Frame::Map {
                        mut map,
                        anchor,
                        merges,
                        ..
                    }) => {
                        apply_merges(&mut map, merges)?;
                        (Value::Map(map.finish()), anchor)
                    }
                    None => return Err("unbalanced collection end".into()),
                };
                if anchor > 0 {
                    self.remember(anchor, &value)?;
                }
                Ok(self.push(value)?)
            }
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
            return Err("a mapping or sequence used as a mapping key is not supported".into());
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(format!(
                "document nests deeper than {0} levels (limit: --max-depth, ParseLimits::max_depth)",
                self.limits.max_depth
            ));
        }
        Ok(())
    }

    /// Takes `size` bytes from the alias budget.
    fn spend(&mut self, size: usize) -> Result<(), String> {
        if size > self.alias_budget {
            return Err(format!(
                "anchors and aliases expand the text by more than {} bytes (the alias \
                 expansion limit: --max-alias-bytes, ParseLimits::max_alias_bytes)",
                self.limits.max_alias_bytes
            ));
        }
        self.alias_budget -= size;
        Ok(())
    }

    /// Keeps a copy of an anchored node for the aliases that follow; the copy
    /// counts against the alias budget (nested anchors copy a subtree each).
    fn remember(&mut self, anchor: usize, value: &Value) -> Result<(), String> {
        let size = size_in_bytes(value, self.alias_budget);
        self.spend(size)?;
        if self.anchors.len() <= anchor {
            self.anchors.resize(anchor + 1, None);
        }
        if let Some(slot) = self.anchors.get_mut(anchor) {
            *slot = Some((value.clone(), size));
        }
        Ok(())
    }

    fn push(&mut self, value: Value) -> Result<(), String> {
        let nested = self.stack.len() > 1;
        let reject = self.limits.reject_non_string_keys;
        match self.stack.last_mut() {
            None => {
                self.docs.push(value);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(value);
                Ok(())
            }
            Some(Frame::Map {
                map, key, merges, ..
            }) => {
                let Some(key) = key.take() else {
                    return Err("internal: value without key".into());
                };
                if key.merge {
                    merges.push(value);
                    return Ok(());
                }
                // A `<<` key that is not the merge key (quoted or tagged as a
                // string): kustomize drops it from resources and patches, and
                // its kustomization decoding refuses it.
                if key.text == "<<" {
                    if self.limits.yaml11 {
                        return Err("'<<' is not allowed as a key here".to_owned());
                    }
                    return Ok(());
                }
                if key.non_string && nested && reject {
                    return Err(format!(
                        "mapping key {:?} is not a string (json: unsupported type)",
                        crate::excerpt(&key.text, 200)
                    ));
                }
                if map.contains_key(&key.text) && !self.limits.yaml11 {
                    return Err(format!(
                        "mapping key {:?} already defined",
                        crate::excerpt(&key.text, 200)
                    ));
                }
                map.insert(key.text, value);
                Ok(())
            }
        }
    }
}

/// Applies `<<` merge values: keys already present win, earlier merges win over later ones.
fn apply_merges(map: &mut MapBuilder, merges: Vec<Value>) -> Result<(), String> {
    for merge in merges {
        let sources = match merge {
            Value::Map(m) => vec![m],
            Value::Seq(items) => {
                let mut maps = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Map(m) => maps.push(m),
                        _ => {
                            return Err("map merge requires a mapping or a list of mappings".into())
                        }
                    }
                }
                maps
            }
            _ => return Err("map merge requires a mapping or a list of mappings".into()),
        };
        for source in sources {
            for (k, v) in source {
                map.insert_if_absent(k, v);
            }
        }
    }
    Ok(())
}

/// The size of `value` as the alias budget counts it: [`NODE_BYTES`] per node
/// plus the length of its strings and keys. Walks without recursion and stops
/// counting once past `cap`.
fn size_in_bytes(value: &Value, cap: usize) -> usize {
    let mut total = 0usize;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(NODE_BYTES);
        match v {
            Value::String(s) => total = total.saturating_add(s.len()),
            Value::Seq(items) => stack.extend(items),
            Value::Map(map) => {
                for (k, child) in map {
                    total = total.saturating_add(k.len());
                    stack.push(child);
                }
            }
            _ => {}
        }
        if total > cap {
            break;
        }
    }
    total
}

/// The text of a mapping key: keys are strings in kustomize's JSON view of a resource.
fn key_text(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Result<Str, String> {
    if style == ScalarStyle::Plain
        && tag.is_none()
        && matches!(&*text, "~" | "null" | "Null" | "NULL")
    {
        return Ok(Str::default());
    }
    Ok(text.into())
}

fn scalar_key_of(value: &Value) -> Result<Str, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Null | Value::Empty => Ok(Str::default()),
        Value::Bool(b) => Ok(b.to_string().into()),
        Value::Int(i) => Ok(i.to_string().into()),
        Value::Uint(u) => Ok(u.to_string().into()),
        Value::Float(f) => Ok(f.to_string().into()),
        Value::Seq(_) | Value::Map(_) => {
            Err("a mapping or sequence used as a mapping key is not supported".into())
        }
    }
}

/// Types one scalar the way kustomize (go-yaml v3) does.
fn scalar_value(
    text: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<Value, String> {
    if let Some(tag) = tag {
        if tag.is_yaml_core_schema() {
            return core_tagged(text, &tag.suffix);
        }
        // Custom tags (`!Ref`, ...) leave the text as a string.
        return Ok(Value::String(text.into()));
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.into()));
    }
    Ok(resolve_plain(text))
}

/// A scalar with an explicit `!!type` tag.
fn core_tagged(text: Cow<'_, str>, suffix: &str) -> Result<Value, String> {
    match suffix {
        "str" => Ok(Value::String(text.into())),
        "binary" => decode_base64(&text)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Value::string)
            .ok_or_else(|| {
                format!(
                    "cannot decode !!binary value {:?}",
                    crate::excerpt(&text, 200)
                )
            }),
        "null" => Ok(Value::Null),
        "bool" | "int" | "float" | "timestamp" => {
            let value = resolve_plain(text);
            let ok = matches!(
                (suffix, &value),
                ("bool", Value::Bool(_))
                    | ("int", Value::Int(_) | Value::Uint(_))
                    | ("float", Value::Float(_) | Value::Int(_) | Value::Uint(_))
                    | ("timestamp", Value::String(_))
            );
            if ok {
                Ok(value)
            } else {
                Err(format!("cannot decode value as !!{suffix}"))
            }
        }
        _ => Ok(Value::String(text.into())),
    }
}

/// Whether a plain mapping key reads as something other than a string for
/// go-yaml v3 (a number, boolean, null or timestamp), which kustomize's JSON
/// conversion of a resource cannot hold.
pub(crate) fn key_is_non_string(text: &str) -> bool {
    !matches!(resolve_plain(Cow::Borrowed(text)), Value::String(_))
        || crate::timestamp::parse(text.as_bytes()).is_some()
}

/// A plain scalar typed with YAML 1.1 rules (go-yaml v2 behind sigs.k8s.io/yaml,
/// see [`ParseLimits::yaml11`]).
pub(crate) fn resolve_plain_yaml11(text: Cow<'_, str>) -> Value {
    match &*text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Value::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Value::Bool(false),
        _ => {}
    }
    // go-yaml v2 hands a timestamp to an `interface{}` as its text.
    if crate::timestamp::parse(text.as_bytes()).is_some() {
        return Value::String(text.into());
    }
    resolve_plain(text)
}

/// A plain mapping key in YAML 1.1 mode: sigs.k8s.io/yaml turns the typed key
/// into JSON text, and refuses a null one.
pub(crate) fn yaml11_key(text: &str) -> Result<Str, String> {
    match resolve_plain_yaml11(Cow::Borrowed(text)) {
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(b.to_string().into()),
        Value::Int(i) => Ok(i.to_string().into()),
        Value::Uint(u) => Ok(u.to_string().into()),
        Value::Float(f) => Ok(crate::format_go_float(f).into()),
        Value::Null | Value::Empty | Value::Seq(_) | Value::Map(_) => Err(format!(
            "unsupported map key {:?}: a null key",
            crate::excerpt(text, 200)
        )),
    }
}

/// Resolves an untagged plain scalar.
pub(crate) fn resolve_plain(text: Cow<'_, str>) -> Value {
    let s: &str = &text;
    let Some(&first) = s.as_bytes().first() else {
        return Value::Empty;
    };
    match first {
        b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'y' | b'Y' | b'o' | b'O' => match s {
            "~" | "null" | "Null" | "NULL" => Value::Null,
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            _ => Value::String(text.into()),
        },
        b'.' => match s {
            ".inf" | ".Inf" | ".INF" => Value::Float(f64::INFINITY),
            ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
            _ => match parse_go_float(s) {
                Some(f) => Value::Float(f),
                None => Value::String(text.into()),
            },
        },
        b'+' | b'-' | b'0'..=b'9' => match s {
            "+.inf" | "+.Inf" | "+.INF" => Value::Float(f64::INFINITY),
            "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
            _ => resolve_number(s).unwrap_or_else(|| Value::String(text.into())),
        },
        _ => Value::String(text.into()),
    }
}

fn resolve_number(s: &str) -> Option<Value> {
    if let Some(ts) = timestamp(s) {
        return Some(Value::String(ts.into()));
    }
    let plain: Cow<'_, str> = if s.contains('_') {
        Cow::Owned(s.replace('_', ""))
    } else {
        Cow::Borrowed(s)
    };
    let p: &str = &plain;
    if let Some(v) = parse_go_int(p) {
        return Some(v);
    }
    if is_yaml_float(p) {
        if let Some(f) = parse_go_float(p) {
            return Some(Value::Float(f));
        }
    }
    None
}

/// Go's `strconv.ParseInt(s, 0, 64)` then `ParseUint(s, 0, 64)`.
fn parse_go_int(s: &str) -> Option<Value> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, s.get(1..)?),
        b'+' => (false, s.get(1..)?),
        _ => (false, s),
    };
    let (radix, digits) =
        if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, r)
        } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, r)
        } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, r)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, body.get(1..)?)
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if magnitude <= i64::MAX as u64 + 1 {
            Some(Value::Int((magnitude as i128).wrapping_neg() as i64))
        } else {
            None
        }
    } else if magnitude <= i64::MAX as u64 {
        Some(Value::Int(magnitude as i64))
    } else {
        Some(Value::Uint(magnitude))
    }
}

/// go-yaml's float pattern (v2 and v3 share it; the writer uses it too): `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
pub(crate) fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i = 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal spellings YAML allows.
fn parse_go_float(s: &str) -> Option<f64> {
    if !is_yaml_float(s) {
        return None;
    }
    // Go's ParseFloat reports out-of-range values (`1e400`) as errors, so the
    // scalar stays a string; only `.inf`/`.nan` spellings make non-finite floats.
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// An unquoted timestamp, as the RFC 3339 string Go's JSON encoder gives for it.
/// An offset Go cannot marshal (24 hours or more) keeps its text: kustomize
/// fails there (docs/compatibility.md).
fn timestamp(s: &str) -> Option<String> {
    crate::timestamp::parse(s.as_bytes()).and_then(|t| t.rfc3339())
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn one(text: &str) -> Value {
        let docs = parse_documents(&format!("k: {text}\n"), &ParseLimits::default()).unwrap();
        docs[0].get("k").unwrap().clone()
    }

    /// The byte scan finds the first character go-yaml refuses, as decoding
    /// every character and testing it does: each character alone, and each
    /// placed on both sides of a 64-byte block boundary among others.
    #[test]
    fn refused_characters_are_found_by_their_bytes() {
        let refused = |c: char| {
            matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}')
                || matches!(c, '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
        };
        let by_chars = |t: &str| t.char_indices().find(|&(_, c)| refused(c)).map(|(i, _)| i);
        let mut chars: Vec<char> = (0u32..0x250).filter_map(char::from_u32).collect();
        chars.extend([
            '\u{2028}',
            '\u{feff}',
            '\u{fffd}',
            '\u{fffe}',
            '\u{ffff}',
            '\u{1f600}',
        ]);
        for &c in &chars {
            for pad in [0, 1, 61, 62, 63, 64, 65, 127] {
                for tail in ["", "x", "\u{a0}\u{85}é"] {
                    let text = format!("{}{c}{tail}", "a".repeat(pad));
                    assert_eq!(
                        first_refused_byte(text.as_bytes()),
                        by_chars(&text),
                        "{c:?} after {pad} bytes, then {tail:?}"
                    );
                }
            }
        }
        assert_eq!(first_refused_byte(b""), None);
        let err = parse_documents("a: b\nc: \u{9f}\n", &ParseLimits::default()).unwrap_err();
        assert!(
            err.message.contains("U+009F at line 2 column 4"),
            "{}",
            err.message
        );
    }

    #[test]
    fn scalars_are_typed_like_go_yaml_v3() {
        assert_eq!(one("yes"), Value::from("yes"));
        assert_eq!(one("on"), Value::from("on"));
        assert_eq!(one("true"), Value::Bool(true));
        assert_eq!(one("~"), Value::Null);
        assert_eq!(one(""), Value::Empty);
        assert_eq!(one("0755"), Value::Int(493));
        assert_eq!(one("0x1F"), Value::Int(31));
        assert_eq!(one("1_000"), Value::Int(1000));
        assert_eq!(one("08"), Value::Float(8.0));
        assert_eq!(one("1.5e3"), Value::Float(1500.0));
        assert_eq!(one("1e400"), Value::from("1e400"));
        assert_eq!(one("-0"), Value::Int(0));
        assert_eq!(
            one("12345678901234567890"),
            Value::Uint(12345678901234567890)
        );
        assert_eq!(one("2020-01-01"), Value::from("2020-01-01T00:00:00Z"));
        assert_eq!(one("'0755'"), Value::from("0755"));
        assert_eq!(one("!!binary aGVsbG8="), Value::from("hello"));
        assert_eq!(one("1.2.3"), Value::from("1.2.3"));
        assert_eq!(one("v1"), Value::from("v1"));
    }

    #[test]
    fn block_scalar_at_end_without_newline_has_no_final_break() {
        let docs = parse_documents("a: |\n  x\n  y", &ParseLimits::default()).unwrap();
        assert_eq!(docs[0].get("a"), Some(&Value::from("x\ny")));
        let docs = parse_documents("a: |\n  x\n  y\n", &ParseLimits::default()).unwrap();
        assert_eq!(docs[0].get("a"), Some(&Value::from("x\ny\n")));
    }

    #[test]
    fn anchors_and_merges_are_expanded() {
        let docs = parse_documents(
            "a: &x {p: 1, q: 2}\nb:\n  <<: *x\n  q: 3\nc: *x\n",
            &ParseLimits::default(),
        )
        .unwrap();
        let b = docs[0].get("b").unwrap();
        assert_eq!(b.get("p"), Some(&Value::Int(1)));
        assert_eq!(b.get("q"), Some(&Value::Int(3)));
        assert_eq!(docs[0].get("c"), docs[0].get("a"));
    }

    #[test]
    fn alias_bombs_are_stopped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_documents(&text, &ParseLimits::default()).unwrap_err();
        assert!(err.message.contains("alias expansion"), "{err}");
    }

    fn limited(depth: usize) -> ParseLimits {
        ParseLimits {
            max_depth: depth,
            ..ParseLimits::default()
        }
    }

    #[test]
    fn depth_limit_is_the_same_for_both_readers_in_every_style() {
        for n in [3, 150] {
            let limits = limited(n);
            let styles = |k: usize| {
                [
                    format!("{}{}\n", "[".repeat(k), "]".repeat(k)),
                    format!("{}1{}\n", "{a: ".repeat(k), "}".repeat(k)),
                    format!("{}x\n", "- ".repeat(k)),
                    (0..k).map(|i| format!("{}a:\n", " ".repeat(i))).collect(),
                ]
            };
            for text in styles(n) {
                assert!(parse_documents(&text, &limits).is_ok(), "{text}");
                assert!(parse_documents_reference(&text, &limits).is_ok() || n > 255);
            }
            for text in styles(n + 1) {
                let err = parse_documents(&text, &limits).unwrap_err();
                assert!(
                    err.message.contains(&format!(
                        "document nests deeper than {n} levels (limit: --max-depth, ParseLimits::max_depth)"
                    )),
                    "{err}"
                );
            }
        }
    }

    #[test]
    fn default_depth_is_kustomizes() {
        let ok = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let docs = parse_documents(&ok, &ParseLimits::default()).unwrap();
        assert_eq!(crate::stack::depth(&docs[0]), 10_000);
        docs.into_iter().for_each(crate::stack::drop_deep);
        let over = format!("{}{}", "[".repeat(10_001), "]".repeat(10_001));
        assert!(parse_documents(&over, &ParseLimits::default()).is_err());
    }

    #[test]
    fn alias_budget_counts_bytes() {
        let big = "x".repeat(1 << 20);
        let text = format!("a: &b {big}\nl: [{}]\n", vec!["*b"; 100].join(", "));
        let err = parse_documents(&text, &ParseLimits::default()).unwrap_err();
        assert!(err.message.contains("alias expansion limit"), "{err}");
        let small = ParseLimits {
            max_alias_bytes: 10 << 20,
            ..ParseLimits::default()
        };
        let text = format!("a: &b {big}\nl: [{}]\n", ["*b"; 8].join(", "));
        assert!(parse_documents(&text, &small).is_ok());
    }

    #[test]
    fn alias_messages_name_the_cause() {
        let err = parse_documents("a: &x [1, *x]\n", &ParseLimits::default()).unwrap_err();
        assert!(
            err.message
                .contains("*x refers to the node that contains it"),
            "{err}"
        );
        let err = parse_documents("a: *nope\n", &ParseLimits::default()).unwrap_err();
        assert!(
            err.message.contains("*nope refers to an undefined anchor"),
            "{err}"
        );
    }

    #[test]
    fn deep_nesting_is_stopped() {
        let text = "[".repeat(10_000);
        assert!(parse_documents(&text, &ParseLimits::default()).is_err());
    }

    fn data_k(text: &str) -> Result<Value, ParseError> {
        let docs = parse_documents(text, &ParseLimits::default())?;
        let Some(Value::Map(m)) = docs.into_iter().next() else {
            panic!("not a mapping");
        };
        Ok(m.get("k").cloned().unwrap_or(Value::Null))
    }

    fn s(v: &str) -> Result<Value, String> {
        Ok(Value::string(v))
    }

    /// Values as kubectl kustomize (go-yaml) reads them: NEL is a line feed,
    /// LS/PS are line breaks kept where a scalar takes the break.
    #[test]
    fn unicode_line_breaks_read_as_go_yaml_reads_them() {
        let read = |t: &str| data_k(t).map_err(|e| e.message);
        assert_eq!(read("k: \"a\u{2029}    b\""), s("a\u{2029}b"));
        assert_eq!(
            read("k: \"a \u{2028}  \u{2028}  b\""),
            s("a\u{2028}\u{2028}b")
        );
        assert_eq!(read("k: 'a\u{2029}\u{85}  b'"), s("a\u{2029}\nb"));
        assert_eq!(read("k: \"a\u{85}    b\""), s("a b"));
        assert_eq!(read("k: \"\u{2029}\""), s("\u{2029}"));
        assert_eq!(read("k: |\n  a\u{2029}  b\n  c\n"), s("a\u{2029}b\nc\n"));
        assert_eq!(read("k: >\n  a\n  b\u{2028}  c\n"), s("a b\u{2028}c\n"));
        assert_eq!(read("k: |+\n  a\u{2029}\u{2029}"), s("a\u{2029}\u{2029}"));
        assert_eq!(read("k: v # c\u{2029}j: w"), s("v"));
        assert_eq!(read("j: [a,\u{2029}b]\nk: x\u{2028}"), s("x"));
        // NEL right after CR stays a break of its own.
        assert_eq!(read("k: 'a\r\u{85}  b'"), s("a\nb"));
    }

    #[test]
    fn unicode_line_breaks_the_fast_reader_cannot_keep_are_refused() {
        for text in [
            "k: a \u{2029}  b",
            "k: &x 'a\u{2028}'\nj: *x",
            "? 'k\u{2029}'\n: v",
        ] {
            let e = data_k(text).err().map(|e| e.message).unwrap_or_default();
            assert!(
                e.contains("separator at line 1: not supported yet"),
                "{text:?}: {e}"
            );
        }
        let e = parse_documents_reference("k: '\u{2028}'", &ParseLimits::default());
        assert!(e.is_err());
    }
}

#[cfg(test)]
mod string_merge_key_tests {
    use super::*;

    /// A `<<` key that is not the merge key (quoted): kustomize drops it from
    /// resources and patches; where it reads YAML 1.1 (kustomization files) it
    /// is refused.
    #[test]
    fn quoted_merge_key_is_dropped() {
        for text in [
            "a:\n  \"<<\": x\n  k: v\n",
            "a:\n  '<<': {m: 1}\n  k: v\n",
            "a: {\"<<\": x, k: v}\n",
            "a:\n  !!str <<: x\n  k: v\n",
        ] {
            let docs = parse_documents(text, &ParseLimits::default()).unwrap_or_default();
            let a = docs.first().and_then(|d| d.get("a"));
            assert_eq!(a.and_then(|a| a.get("<<")), None, "{text:?} gave {docs:?}");
            assert_eq!(
                a.and_then(|a| a.get("k")).and_then(Value::as_str),
                Some("v")
            );
            let yaml11 = ParseLimits {
                yaml11: true,
                ..ParseLimits::default()
            };
            assert!(parse_documents(text, &yaml11).is_err(), "{text:?}");
        }
    }
}
