//! JSON patch (RFC 6902) as kustomize applies it (evanphx/json-patch semantics):
//! `add`, `remove`, `replace`, `move`, `copy` and `test` over a resource's JSON
//! view, including the library's quirks, which decide real outputs:
//!
//! * array indices are parsed like Go's `strconv.Atoi` (`01`, `+1` and `-0` are
//!   indices; ` 1` and `1e0` are not) and may be negative: for reads, `replace`
//!   and `remove` `-1` is the last element, for `add` (and the destination of
//!   `copy`/`move`) `-1` is the position after it, so it appends;
//! * `-` means "append" for `add` only;
//! * a path is split at `/` after dropping whatever precedes the first `/`, and
//!   the empty path means the whole document for `replace` and `test` only;
//! * reading a missing object key yields null (so `copy` from it copies null, and
//!   `replace` of a missing key adds it).
//!
//! This module also bounds how large a patch may grow a document
//! ([`rustomize_yaml::ParseLimits::max_document_bytes`]): `copy` can double a list
//! per operation, so a few hundred bytes of patch could otherwise ask for
//! gigabytes.

use crate::load::gojson::type_name as go_type;
use rustomize_yaml::{Map, Value};

/// One decoded operation.
#[derive(Clone, Debug)]
pub struct Operation {
    op: String,
    path: String,
    from: Option<String>,
    value: Option<Value>,
}

/// Decodes a patch document: a sequence of operation mappings.
pub fn decode(doc: &Value) -> Result<Vec<Operation>, String> {
    // JSON `null` decodes to an empty patch.
    if doc.is_null() {
        return Ok(Vec::new());
    }
    let Value::Seq(items) = doc else {
        return Err(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            go_type(doc)
        ));
    };
    let mut ops = Vec::with_capacity(items.len());
    for item in items {
        let Value::Map(m) = item else {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                go_type(item)
            ));
        };
        let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
        ops.push(Operation {
            op: text("op").unwrap_or_default(),
            path: text("path").unwrap_or_default(),
            from: text("from"),
            value: m.get("value").cloned(),
        });
    }
    Ok(ops)
}

/// Tracks the estimated size of the document being patched against the limit.
/// The document is measured only when an operation first adds to it, so patches
/// that only remove, move or test cost nothing extra.
struct Growth {
    limit: usize,
    size: Option<usize>,
}

impl Growth {
    /// Accounts for `added` more bytes, failing once the document would pass the limit.
    fn add(&mut self, doc: &Value, added: usize) -> Result<(), String> {
        let size = self.size.get_or_insert_with(|| estimated_size(doc));
        *size = size.saturating_add(added);
        if *size > self.limit {
            return Err(format!(
                "the patch grows the document past {} bytes, estimated in memory (limit: --max-document-bytes, ParseLimits::max_document_bytes)",
                self.limit
            ));
        }
        Ok(())
    }
}

/// An estimate of the memory a value takes: every node costs its own slot plus
/// its text, every mapping entry its key and index overhead. Walks with an
/// explicit stack, so deep documents cannot overflow the call stack.
pub fn estimated_size(value: &Value) -> usize {
    const NODE: usize = std::mem::size_of::<Value>();
    const ENTRY: usize = std::mem::size_of::<String>() + 2 * std::mem::size_of::<usize>();
    let mut total = 0usize;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(NODE);
        match v {
            Value::String(s) => total = total.saturating_add(s.len()),
            Value::Seq(items) => stack.extend(items),
            Value::Map(m) => {
                for (k, child) in m {
                    total = total.saturating_add(ENTRY + k.len());
                    stack.push(child);
                }
            }
            _ => {}
        }
    }
    total
}

/// Applies `ops` to `doc` in order; the document may grow to at most
/// `max_document_bytes` (estimated in-memory size).
pub fn apply(doc: &mut Value, ops: &[Operation], max_document_bytes: usize) -> Result<(), String> {
    let mut growth = Growth {
        limit: max_document_bytes,
        size: None,
    };
    for op in ops {
        apply_one(doc, op, &mut growth)?;
    }
    Ok(())
}

fn apply_one(doc: &mut Value, op: &Operation, growth: &mut Growth) -> Result<(), String> {
    let path = op.path.as_str();
    match op.op.as_str() {
        "add" => {
            let value = value_of(op)?;
            growth.add(doc, estimated_size(&value))?;
            let Some((container, key)) = find_object(doc, path) else {
                return Err(format!(
                    "add operation does not apply: doc is missing path: {path:?}: missing value"
                ));
            };
            add(container, &key, value).map_err(|e| format!("error in add for path: '{path}': {e}"))
        }
        "remove" => {
            let Some((container, key)) = find_object(doc, path) else {
                return Err(format!(
                    "remove operation does not apply: doc is missing path: {path:?}: missing value"
                ));
            };
            remove(container, &key)
                .map(drop)
                .map_err(|e| format!("error in remove for path: '{path}': {e}"))
        }
        "replace" => {
            let value = value_of(op)?;
            growth.add(doc, estimated_size(&value))?;
            if path.is_empty() {
                *doc = value;
                return Ok(());
            }
            let Some((container, key)) = find_object(doc, path) else {
                return Err(format!(
                    "replace operation does not apply: doc is missing path: {path}: missing value"
                ));
            };
            set(container, &key, value).map_err(|_| {
                format!(
                    "replace operation does not apply: doc is missing key: {path}: missing value"
                )
            })
        }
        "move" => {
            let from = op.from.as_deref().unwrap_or("");
            let Some((container, key)) = find_object(doc, from) else {
                return Err(format!(
                    "move operation does not apply: doc is missing from path: {from}: missing value"
                ));
            };
            let value = remove(container, &key)
                .map_err(|e| format!("error in move for path: '{key}': {e}"))?;
            let Some((container, key)) = find_object(doc, path) else {
                return Err(format!(
                    "move operation does not apply: doc is missing destination path: {path}: missing value"
                ));
            };
            add(container, &key, value)
                .map_err(|e| format!("error in move for path: '{path}': {e}"))
        }
        "copy" => {
            let from = op.from.as_deref().unwrap_or("");
            let Some((container, key)) = find_object(doc, from) else {
                return Err(format!(
                    "copy operation does not apply: doc is missing from path: {from}: missing value"
                ));
            };
            let found = get(container, &key)
                .map_err(|e| format!("error in copy for from: '{from}': {e}"))?;
            // Measure before cloning: the clone is what would exhaust memory.
            let added = found.as_deref().map_or(0, estimated_size);
            let value = found.cloned().unwrap_or(Value::Null);
            growth.add(doc, added)?;
            let Some((container, key)) = find_object(doc, path) else {
                return Err(format!(
                    "copy operation does not apply: doc is missing destination path: {path}: missing value"
                ));
            };
            add(container, &key, value)
                .map_err(|e| format!("error while adding value during copy: {e}"))
        }
        "test" => {
            let expected = op.value.clone().unwrap_or(Value::Null);
            let actual = if path.is_empty() {
                Some(&*doc)
            } else {
                let Some((container, key)) = find_object(doc, path) else {
                    return Err(format!(
                        "test operation does not apply: is missing path: {path}: missing value"
                    ));
                };
                get(container, &key)
                    .map_err(|e| format!("error in test for path: '{path}': {e}"))?
                    .map(|v| &*v)
            };
            let same = match actual {
                Some(a) => json_equal(a, &expected),
                None => expected.is_null(),
            };
            if same {
                Ok(())
            } else {
                Err(format!("testing value {path} failed: test failed"))
            }
        }
        other => Err(format!("Unexpected kind: {other}")),
    }
}

fn value_of(op: &Operation) -> Result<Value, String> {
    op.value
        .clone()
        .ok_or_else(|| format!("{} operation: missing value", op.op))
}

/// Unescapes one pointer token (`~1` is `/`, `~0` is `~`, in that order).
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The container (an object or array) holding the last token of `path`, and that
/// token; `None` when a step is missing or not a container. Like the Go library,
/// this ignores whatever precedes the first `/` and treats a path without one as
/// missing.
fn find_object<'v>(doc: &'v mut Value, path: &str) -> Option<(&'v mut Value, String)> {
    let mut parts = path.split('/');
    parts.next()?;
    let mut tokens: Vec<&str> = parts.collect();
    let last = tokens.pop()?;
    let mut cur = doc;
    for t in tokens {
        let next = match cur {
            Value::Map(m) => m.get_mut(&unescape(t)),
            Value::Seq(items) => {
                let i = read_index(&unescape(t), items.len()).ok()?;
                items.get_mut(i)
            }
            _ => None,
        }?;
        cur = next;
    }
    matches!(cur, Value::Map(_) | Value::Seq(_)).then(|| (cur, unescape(last)))
}

/// Go's `strconv.Atoi` on a 64-bit platform: an optional sign and decimal digits.
fn atoi(token: &str) -> Result<i64, String> {
    let digits = token.strip_prefix(['+', '-']).unwrap_or(token);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {token:?}: invalid syntax"));
    }
    token
        .parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {token:?}: value out of range"))
}

fn invalid_index(i: i64) -> String {
    format!("Unable to access invalid index: {i}: invalid index referenced")
}

/// An existing element's index (reads, `replace`, `remove`): negatives count from
/// the end, so `-1` is the last element.
fn read_index(token: &str, len: usize) -> Result<usize, String> {
    let i = atoi(token)?;
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let at = if i < 0 {
        if i < -len_i {
            return Err(invalid_index(i));
        }
        i + len_i
    } else {
        i
    };
    if at >= len_i {
        return Err(invalid_index(at));
    }
    usize::try_from(at).map_err(|_| invalid_index(i))
}

/// Where `add` inserts: `-` appends, and indices range over the `len + 1` gaps,
/// so `-1` is after the last element (it appends), `-2` before it.
fn insert_index(token: &str, len: usize) -> Result<usize, String> {
    if token == "-" {
        return Ok(len);
    }
    let i =
        atoi(token).map_err(|e| format!("value was not a proper array index: '{token}': {e}"))?;
    let gaps = i64::try_from(len).unwrap_or(i64::MAX).saturating_add(1);
    if i >= gaps {
        return Err(invalid_index(i));
    }
    let at = if i < 0 {
        if i < -gaps {
            return Err(invalid_index(i));
        }
        i + gaps
    } else {
        i
    };
    usize::try_from(at).map_err(|_| invalid_index(i))
}

/// Reads `key` of a container: a missing object key is `None`, a bad array index
/// an error.
fn get<'v>(container: &'v mut Value, key: &str) -> Result<Option<&'v mut Value>, String> {
    match container {
        Value::Map(m) => Ok(m.get_mut(key)),
        Value::Seq(items) => {
            let i = read_index(key, items.len())?;
            Ok(items.get_mut(i))
        }
        _ => Ok(None),
    }
}

fn add(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Map(m) => {
            m.insert(key, value);
            Ok(())
        }
        Value::Seq(items) => {
            let i = insert_index(key, items.len())?;
            items.insert(i, value);
            Ok(())
        }
        _ => Err("not a container".to_owned()),
    }
}

/// `replace`'s setter: an object key is set whether or not it exists (as the Go
/// library does); an array element must exist.
fn set(container: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match container {
        Value::Map(m) => {
            m.insert(key, value);
            Ok(())
        }
        Value::Seq(items) => {
            let i = read_index(key, items.len())?;
            let slot = items.get_mut(i).ok_or_else(|| invalid_index(0))?;
            *slot = value;
            Ok(())
        }
        _ => Err("not a container".to_owned()),
    }
}

fn remove(container: &mut Value, key: &str) -> Result<Value, String> {
    match container {
        Value::Map(m) => m
            .shift_remove(key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: missing value")),
        Value::Seq(items) => {
            // Go checks the upper bound before shifting a negative index.
            let i = read_index(key, items.len())?;
            if i < items.len() {
                Ok(items.remove(i))
            } else {
                Err(invalid_index(0))
            }
        }
        _ => Err("not a container".to_owned()),
    }
}

/// JSON equality (numbers compare by value).
fn json_equal(a: &Value, b: &Value) -> bool {
    fn num(v: &Value) -> Option<f64> {
        match v {
            Value::Int(i) => Some(*i as f64),
            Value::Uint(u) => Some(*u as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| json_equal(v, w))
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

/// Wraps a resource object for patching and unwraps it afterwards.
pub fn apply_to_object(
    object: &mut Map,
    ops: &[Operation],
    max_document_bytes: usize,
) -> Result<(), String> {
    let mut doc = Value::Map(std::mem::take(object));
    let result = apply(&mut doc, ops, max_document_bytes);
    match doc {
        Value::Map(m) => *object = m,
        other => {
            *object = Map::default();
            if result.is_ok() {
                return Err(format!(
                    "patched resource is a {}, not an object",
                    other.type_name()
                ));
            }
        }
    }
    result
}
