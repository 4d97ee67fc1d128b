//! kustomize's dotted field paths (`spec.template.spec.containers.[name=app].image`),
//! shared by `replacements` (sources and targets) and `vars` (`fieldref`).
//!
//! Two walkers, as in kyaml, because the two features disagree on the details:
//!
//! * [`lookup`] (kyaml's `PathGetter`) finds at most one node: a number indexes
//!   a list, `-` is its last element, `[k=v]` picks the first list element whose
//!   field `k` reads exactly `v`, anything else is a map key;
//! * [`for_each_match`] (kyaml's `PathMatcher`) finds every node: `*` is every
//!   list element, `[k=v]` matches `v` as an *unanchored* regular expression,
//!   and, with `create`, missing fields, list elements and `[k=v]` elements are
//!   created on the way.
//!
//! Both work on the [`Value`] tree; scalars are compared by their text.

use regex::Regex;
use rustomize_yaml::{Map, Value};

/// Splits a dotted path like kustomize's `SmarterPathSplitter`: `\.` escapes a
/// dot, a leading dot is dropped, and a bracketed part keeps its dots
/// (`[name=a.b]` stays one part; `[a.b]`, which holds no `=`, becomes the map
/// key `a.b`).
pub fn split(path: &str) -> Vec<String> {
    let mut raw: Vec<&str> = path.split('.').collect();
    if raw.len() > 1 && raw.first() == Some(&"") {
        raw.remove(0);
    }
    let mut parts: Vec<String> = Vec::with_capacity(raw.len());
    for piece in raw {
        match parts.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('.');
                last.push_str(piece);
            }
            _ => parts.push(piece.to_owned()),
        }
    }
    let mut out = Vec::with_capacity(parts.len());
    let mut iter = parts.into_iter();
    while let Some(part) = iter.next() {
        if part.starts_with('[') && !part.ends_with(']') {
            let mut joined = part;
            for more in iter.by_ref() {
                joined.push('.');
                joined.push_str(&more);
                if more.ends_with(']') {
                    break;
                }
            }
            if joined.contains('=') {
                out.push(joined);
            } else {
                out.push(joined.trim_matches(|c| c == '[' || c == ']').to_owned());
            }
        } else {
            out.push(part);
        }
    }
    out
}

/// The text kyaml sees in a scalar node (a mapping or sequence has none).
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Float(f) => go_float_text(*f),
        Value::Null | Value::Empty => "null".to_owned(),
        Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

/// A float as Go's `%v` prints it.
pub fn go_float_text(f: f64) -> String {
    rustomize_yaml::format_go_float(f)
}

/// Go's `strconv.Atoi`: optional sign, decimal digits.
fn atoi(s: &str) -> Option<i64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_list_index(part: &str) -> bool {
    part.starts_with('[') && part.ends_with(']')
}

/// `[name=value]` → (`name`, `value`).
fn split_index(part: &str) -> Result<(&str, &str), String> {
    let inner = part.strip_prefix('[').unwrap_or(part);
    let inner = inner.strip_suffix(']').unwrap_or(inner);
    inner.split_once('=').ok_or_else(|| {
        "list path element must contain fieldName=fieldValue for element to match".to_owned()
    })
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Seq(_) => "SequenceNode",
        Value::Map(_) => "MappingNode",
        _ => "ScalarNode",
    }
}

fn wrong_kind(expected: &str, got: &Value) -> String {
    format!(
        "wrong node kind: expected {expected} but got {}",
        kind_name(got)
    )
}

/// Finds the one node at `parts` (kyaml's `PathGetter` without create);
/// `Ok(None)` when something on the way is missing.
pub fn lookup<'a>(root: &'a Map, parts: &[String]) -> Result<Option<&'a Value>, String> {
    let mut parts = parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty());
    let Some(first) = parts.next() else {
        return Ok(None);
    };
    // The root is a mapping: only a field name finds anything in it.
    let mut cur = match step_map(root, first)? {
        Some(v) => v,
        None => return Ok(None),
    };
    for part in parts {
        match step(cur, part)? {
            Some(v) => cur = v,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}

fn step_map<'a>(map: &'a Map, part: &str) -> Result<Option<&'a Value>, String> {
    if let Some(i) = atoi(part) {
        if i < 0 {
            return Err(format!("array index {i} cannot be negative"));
        }
        return Err("wrong node kind: expected SequenceNode but got MappingNode".to_owned());
    }
    match part {
        "-" => Err("wrong node kind: expected SequenceNode but got MappingNode".to_owned()),
        "*" => Err("wildcard is not supported in PathGetter".to_owned()),
        _ if is_list_index(part) => {
            split_index(part)?;
            Err("wrong node kind: expected SequenceNode but got MappingNode".to_owned())
        }
        _ => Ok(map.get(part)),
    }
}

fn step<'a>(node: &'a Value, part: &str) -> Result<Option<&'a Value>, String> {
    if let Value::Map(m) = node {
        return step_map(m, part);
    }
    let elements: &[Value] = match node {
        Value::Seq(items) => items,
        Value::Null | Value::Empty => &[],
        _ => &[],
    };
    let is_seq_or_null = matches!(node, Value::Seq(_) | Value::Null | Value::Empty);
    if let Some(i) = atoi(part) {
        if i < 0 {
            return Err(format!("array index {i} cannot be negative"));
        }
        if !is_seq_or_null {
            return Err(wrong_kind("SequenceNode", node));
        }
        return Ok(usize::try_from(i).ok().and_then(|i| elements.get(i)));
    }
    match part {
        "-" => {
            if !is_seq_or_null {
                return Err(wrong_kind("SequenceNode", node));
            }
            elements
                .last()
                .map(Some)
                .ok_or_else(|| "index out of range: the list is empty".to_owned())
        }
        "*" => Err("wildcard is not supported in PathGetter".to_owned()),
        _ if is_list_index(part) => {
            let (key, value) = split_index(part)?;
            if !is_seq_or_null {
                return Err(wrong_kind("SequenceNode", node));
            }
            Ok(elements.iter().find(|e| {
                if key.is_empty() {
                    scalar_text_raw(e) == value
                } else {
                    e.as_map()
                        .and_then(|m| m.get(key))
                        .is_some_and(|f| scalar_text_raw(f) == value)
                }
            }))
        }
        _ => match node {
            Value::Null | Value::Empty => Ok(None),
            _ => Err(wrong_kind("MappingNode", node)),
        },
    }
}

/// A node's `Value` text as kyaml compares it (`""` for null, maps and lists).
fn scalar_text_raw(v: &Value) -> String {
    match v {
        Value::Null | Value::Empty => String::new(),
        other => scalar_text(other),
    }
}

/// What kind of node `create` makes at the end of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateKind {
    /// A scalar, typed by the text later written into it.
    Scalar,
    /// A mapping.
    Map,
    /// A sequence.
    Seq,
}

impl CreateKind {
    /// The kind of node `v` is.
    pub fn of(v: &Value) -> CreateKind {
        match v {
            Value::Map(_) => CreateKind::Map,
            Value::Seq(_) => CreateKind::Seq,
            _ => CreateKind::Scalar,
        }
    }

    fn empty(self) -> Value {
        match self {
            CreateKind::Map => Value::Map(Map::default()),
            CreateKind::Seq => Value::Seq(Vec::new()),
            CreateKind::Scalar => Value::Null,
        }
    }
}

/// The kind of node to create for a path part, given the part after it.
fn part_kind(next: Option<&String>, leaf: CreateKind) -> CreateKind {
    match next {
        None => leaf,
        Some(n) if is_list_index(n) || atoi(n).is_some_and(|i| i >= 0) => CreateKind::Seq,
        Some(n) if n.is_empty() => leaf,
        Some(_) => CreateKind::Map,
    }
}

/// Calls `f` on every node `parts` reaches under `root` (kyaml's `PathMatcher`),
/// creating missing parts when `create` is set; `f` learns whether its node was
/// just created (a created scalar takes the type its new text reads as).
/// Returns how many nodes were visited.
pub fn for_each_match(
    root: &mut Map,
    parts: &[String],
    create: Option<CreateKind>,
    f: &mut dyn FnMut(&mut Value, bool) -> Result<(), String>,
) -> Result<usize, String> {
    let mut node = Value::Map(std::mem::take(root));
    let result = visit(&mut node, parts, create, false, f);
    if let Value::Map(m) = node {
        *root = m;
    }
    result
}

fn visit(
    node: &mut Value,
    parts: &[String],
    create: Option<CreateKind>,
    created: bool,
    f: &mut dyn FnMut(&mut Value, bool) -> Result<(), String>,
) -> Result<usize, String> {
    let Some((part, rest)) = parts.split_first() else {
        f(node, created)?;
        return Ok(1);
    };
    if let Some(idx) = atoi(part).filter(|i| *i >= 0) {
        return visit_index(node, idx, rest, create, f);
    }
    if is_list_index(part) {
        return visit_matching(node, part, rest, create, f);
    }
    if part == "*" {
        let items: &mut [Value] = match node {
            Value::Seq(items) => items,
            Value::Null | Value::Empty => return Ok(0),
            other => return Err(wrong_kind("SequenceNode", other)),
        };
        let mut count = 0;
        for item in items {
            count += visit(item, rest, create, false, f)?;
        }
        return Ok(count);
    }
    let map = match node {
        Value::Map(m) => m,
        Value::Null | Value::Empty => {
            // kyaml "creates" the field inside the null node, where it is lost.
            return match create {
                Some(kind) => {
                    let mut lost = part_kind(rest.first(), kind).empty();
                    visit(&mut lost, rest, create, true, f)
                }
                None => Ok(0),
            };
        }
        other => return Err(wrong_kind("MappingNode", other)),
    };
    let mut created_here = false;
    if !map.contains_key(part.as_str()) {
        let Some(kind) = create else {
            return Ok(0);
        };
        map.insert(part.as_str(), part_kind(rest.first(), kind).empty());
        created_here = true;
    }
    match map.get_mut(part.as_str()) {
        Some(field) => visit(field, rest, create, created_here, f),
        None => Ok(0),
    }
}

fn visit_index(
    node: &mut Value,
    idx: i64,
    rest: &[String],
    create: Option<CreateKind>,
    f: &mut dyn FnMut(&mut Value, bool) -> Result<(), String>,
) -> Result<usize, String> {
    if node.is_null() {
        if let (Some(kind), 0) = (create, idx) {
            let mut lost = part_kind(rest.first(), kind).empty();
            return visit(&mut lost, rest, create, true, f);
        }
        return Err(format!("index {idx} specified but only 0 elements found"));
    }
    let Value::Seq(items) = node else {
        return Err(wrong_kind("SequenceNode", node));
    };
    let idx = usize::try_from(idx).unwrap_or(usize::MAX);
    let mut created = false;
    if let Some(kind) = create {
        if items.len() == idx {
            items.push(part_kind(rest.first(), kind).empty());
            created = true;
        }
    }
    let len = items.len();
    match items.get_mut(idx) {
        Some(item) => visit(item, rest, create, created, f),
        None => Err(format!(
            "index {idx} specified but only {len} elements found"
        )),
    }
}

fn visit_matching(
    node: &mut Value,
    part: &str,
    rest: &[String],
    create: Option<CreateKind>,
    f: &mut dyn FnMut(&mut Value, bool) -> Result<(), String>,
) -> Result<usize, String> {
    let (key, pattern) = split_index(part)?;
    let re = crate::goregex::compile(pattern, false).map_err(|e| crate::error::excerpt(&e, 200))?;
    let mut lost = Vec::new();
    let items = match node {
        Value::Seq(items) => items,
        // kyaml appends a created element inside the null node, where it is lost.
        Value::Null | Value::Empty if create.is_some() => &mut lost,
        Value::Null | Value::Empty => return Ok(0),
        other => return Err(wrong_kind("SequenceNode", other)),
    };
    let count = match_elements(items, key, &re, rest, create, false, f)?;
    if count > 0 || create.is_none() {
        return Ok(count);
    }
    let value = rustomize_yaml::resolve_plain(pattern);
    let before = items.len();
    if key.is_empty() {
        items.push(value);
    } else {
        let mut m = Map::default();
        m.insert(key, value);
        items.push(Value::Map(m));
    }
    // Search again: only the new element can match now.
    match items.get_mut(before..) {
        Some(new) => match_elements(new, key, &re, rest, create, true, f),
        None => Ok(0),
    }
}

fn match_elements(
    items: &mut [Value],
    key: &str,
    re: &Regex,
    rest: &[String],
    create: Option<CreateKind>,
    created: bool,
    f: &mut dyn FnMut(&mut Value, bool) -> Result<(), String>,
) -> Result<usize, String> {
    let mut count = 0;
    for item in items {
        if key.is_empty() {
            // A primitive element is itself the match; the rest of the path is
            // not followed (kyaml's behaviour).
            if re.is_match(scalar_text_raw(item).trim()) {
                f(item, created)?;
                count += 1;
            }
            continue;
        }
        let matched = match item.as_map().and_then(|m| m.get(key)) {
            Some(Value::Null) | None => false,
            Some(v) => re.is_match(scalar_text_raw(v).trim()),
        };
        if matched {
            count += visit(item, rest, create, false, f)?;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_kustomize() {
        assert_eq!(split("a.b.c"), ["a", "b", "c"]);
        assert_eq!(split(".a.b"), ["a", "b"]);
        assert_eq!(split("a.[name=x.y].b"), ["a", "[name=x.y]", "b"]);
        assert_eq!(
            split("metadata.annotations.[a.b/c]"),
            ["metadata", "annotations", "a.b/c"]
        );
        assert_eq!(split(r"a\.b.c"), ["a.b", "c"]);
    }

    #[test]
    fn go_float_formatting() {
        assert_eq!(go_float_text(1.5), "1.5");
        assert_eq!(go_float_text(1234567.0), "1.234567e+06");
        assert_eq!(go_float_text(0.00001), "1e-05");
        assert_eq!(go_float_text(1e22), "1e+22");
        assert_eq!(go_float_text(123456.0), "123456");
        assert_eq!(go_float_text(0.001), "0.001");
    }
}
