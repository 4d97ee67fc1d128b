//! JSON patch (RFC 6902) as kustomize applies it (evanphx/json-patch v4 semantics):
//! `add`, `remove`, `replace`, `move`, `copy` and `test` over a resource's JSON
//! view. `add` to an array index inserts (`-` appends; negative indices count from
//! the end); `remove` requires the target to exist and so does `replace` in an
//! array (in an object it adds a missing key, as json-patch v4 does); a missing
//! parent is an error.

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

/// Applies `ops` to `doc` in order.
pub fn apply(doc: &mut Value, ops: &[Operation]) -> Result<(), String> {
    for op in ops {
        match op.op.as_str() {
            "add" => put(doc, &op.path, value_of(op)?, Put::Add)?,
            "remove" => {
                remove(doc, &op.path)?;
            }
            "replace" => put(doc, &op.path, value_of(op)?, Put::Replace)?,
            "move" => {
                let from = op.from.as_deref().unwrap_or("");
                let v = remove(doc, from)?;
                put(doc, &op.path, v, Put::Add)?;
            }
            "copy" => {
                let from = op.from.as_deref().unwrap_or("");
                let v = get(doc, from).cloned().ok_or_else(|| {
                    format!("copy operation does not apply: doc is missing from path: {from}")
                })?;
                put(doc, &op.path, v, Put::Add)?;
            }
            "test" => {
                let expected = op.value.clone().unwrap_or(Value::Null);
                let actual = get(doc, &op.path);
                let same = match actual {
                    Some(a) => json_equal(a, &expected),
                    None => expected.is_null(),
                };
                if !same {
                    return Err(format!("testing value {} failed: test failed", op.path));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

fn value_of(op: &Operation) -> Result<Value, String> {
    op.value
        .clone()
        .ok_or_else(|| format!("{} operation: missing value", op.op))
}

/// Splits a JSON pointer into unescaped tokens.
fn tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("invalid JSON pointer {path:?}"));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn get<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = doc;
    for t in tokens(path).ok()? {
        cur = match cur {
            Value::Map(m) => m.get(&t)?,
            Value::Seq(items) => items.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The container holding the last token of `path`, and that token.
fn parent<'v>(doc: &'v mut Value, path: &str) -> Result<(&'v mut Value, String), String> {
    let mut toks = tokens(path)?;
    let Some(last) = toks.pop() else {
        return Err(format!("cannot operate on the whole document at {path:?}"));
    };
    let mut cur = doc;
    for t in &toks {
        let next = match cur {
            Value::Map(m) => m.get_mut(t),
            Value::Seq(items) => match t.parse::<usize>() {
                Ok(i) => items.get_mut(i),
                Err(_) => None,
            },
            _ => None,
        };
        cur = next.ok_or_else(|| format!("doc is missing path: {path}: missing value"))?;
    }
    Ok((cur, last))
}

/// An array index: `-` means the end (for add), negatives count from the end.
fn index(token: &str, len: usize, for_insert: bool) -> Result<usize, String> {
    if token == "-" && for_insert {
        return Ok(len);
    }
    let i: i64 = token.parse().map_err(|_| {
        format!("Unable to access invalid index: {token}: invalid index referenced")
    })?;
    let len_i = len as i64;
    let i = if i < 0 {
        if -i > len_i {
            return Err(format!(
                "Unable to access invalid index: {i}: invalid index referenced"
            ));
        }
        i + len_i
    } else {
        i
    };
    let limit = if for_insert { len_i } else { len_i - 1 };
    if i > limit {
        return Err(format!(
            "Unable to access invalid index: {i}: invalid index referenced"
        ));
    }
    Ok(i as usize)
}

/// How `add` and `replace` differ: both set an object key (json-patch v4 does not
/// check that `replace`'s key exists), but in an array `add` inserts (`-` appends)
/// while `replace` overwrites an existing index.
#[derive(Clone, Copy)]
enum Put {
    Add,
    Replace,
}

fn put(doc: &mut Value, path: &str, value: Value, how: Put) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (container, key) = parent(doc, path)?;
    match (container, how) {
        (Value::Map(m), _) => {
            m.insert(key, value);
            Ok(())
        }
        (Value::Seq(items), Put::Add) => {
            let i = index(&key, items.len(), true)?;
            items.insert(i, value);
            Ok(())
        }
        (Value::Seq(items), Put::Replace) => {
            let i = index(&key, items.len(), false)?;
            if let Some(slot) = items.get_mut(i) {
                *slot = value;
            }
            Ok(())
        }
        (_, how) => {
            let op = match how {
                Put::Add => "add",
                Put::Replace => "replace",
            };
            Err(format!(
                "{op} operation does not apply: doc is missing path: {path}: missing value"
            ))
        }
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (container, key) = parent(doc, path)?;
    match container {
        Value::Map(m) => m
            .shift_remove(&key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: missing value")),
        Value::Seq(items) => {
            let i = index(&key, items.len(), false)?;
            Ok(items.remove(i))
        }
        _ => Err(format!(
            "remove operation does not apply: doc is missing path: {path}: missing value"
        )),
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
pub fn apply_to_object(object: &mut Map, ops: &[Operation]) -> Result<(), String> {
    let mut doc = Value::Map(std::mem::take(object));
    let result = apply(&mut doc, ops);
    match doc {
        Value::Map(m) => *object = m,
        other => {
            *object = Map::new();
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
