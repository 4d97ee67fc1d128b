//! The in-memory data model: a JSON-like tree of typed values.
//!
//! kustomize sends every resource through a JSON round trip before printing it, so
//! the only information that survives is what JSON can hold: maps with string keys,
//! sequences, strings, numbers, booleans and null. Modelling exactly that (and
//! nothing more — no comments, anchors or styles) keeps the transformers simple and
//! makes the writer's job a pure function of the data.

use crate::map::Map;

/// The string type of the tree: [`Value::String`] payloads and [`Map`] keys.
///
/// A [`compact_str::CompactString`]: 24 bytes, like `String`, but strings of
/// up to 24 bytes live inline with no heap block. Almost every key and most
/// values of a Kubernetes object are that short: at the heap peak of a build,
/// 4.49M of the live allocations of the synthetic 100k-resource tree (about
/// 47 MB of 241 MB) and 232k of the Kubeflow v1.10.2 example's (2.5 MB of
/// 17.9 MB) were strings of at most 24 bytes, and allocating, freeing and
/// faulting them in was a large share of build CPU. It dereferences to `str`
/// and converts from `&str` and `String` with `.into()`.
pub type Str = compact_str::CompactString;

/// A string the reader grew a piece at a time (up to twice its length) as a
/// [`Str`]: inline if short, else its buffer cut to size once, for the whole
/// build.
pub(crate) fn fitted(mut text: String) -> Str {
    if text.len() > std::mem::size_of::<Str>() {
        text.shrink_to_fit();
    }
    Str::from(text)
}

/// One node of a YAML/JSON document, typed the way kustomize types it on reading.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// `null` or `~` (or a null made by a transformer).
    #[default]
    Null,
    /// An empty plain scalar (`key:` with nothing after it). It is null everywhere
    /// — it prints as `null` and equals [`Value::Null`] — except to strategic merge
    /// patches, which drop such fields from the objects they patch, as kustomize's
    /// merge does.
    Empty,
    /// `true` / `false` (YAML 1.2 spellings only; `yes`/`on` stay strings).
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// A non-negative integer above `i64::MAX` that still fits in `u64`.
    Uint(u64),
    /// Any other number. The writer reproduces Go's float formatting.
    Float(f64),
    /// A string (quoted in the source, or a plain scalar that is no other type).
    String(Str),
    /// A sequence.
    Seq(Vec<Value>),
    /// A mapping (a vector of pairs: see [`Map`] for why).
    Map(Map),
}

impl Value {
    /// A string value (`Value::String(text.into())`).
    pub fn string(text: impl Into<Str>) -> Value {
        Value::String(text.into())
    }

    /// Structural identity, stricter than `==`: `Empty` and `Null` differ (the
    /// writer and strategic merge tell them apart), mapping order counts, and
    /// floats compare by bits (any NaN equals any NaN). What the reader's
    /// differential tests and fuzz targets compare two readings with.
    /// Recursive: meant for documents within the default stack's depth.
    pub fn identical(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) | (Value::Empty, Value::Empty) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Uint(x), Value::Uint(y)) => x == y,
            (Value::Float(x), Value::Float(y)) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            (Value::String(x), Value::String(y)) => x == y,
            (Value::Seq(x), Value::Seq(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| a.identical(b))
            }
            (Value::Map(x), Value::Map(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((ka, va), (kb, vb))| ka == kb && va.identical(vb))
            }
            _ => false,
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The map inside, if this is a mapping.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The map inside, mutably, if this is a mapping.
    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence inside, if this is a sequence.
    pub fn as_seq(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The sequence inside, mutably, if this is a sequence.
    pub fn as_seq_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null | Value::Empty)
    }

    /// Looks up `key` if this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Looks up `key` mutably if this is a mapping.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.as_map_mut().and_then(|m| m.get_mut(key))
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null | Value::Empty => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::Uint(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Seq(_) => "sequence",
            Value::Map(_) => "mapping",
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null | Value::Empty, Value::Null | Value::Empty) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Uint(a), Value::Uint(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Seq(a), Value::Seq(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s.into())
    }
}

impl From<Str> for Value {
    fn from(s: Str) -> Self {
        Value::String(s)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}

#[cfg(test)]
mod size_tests {
    use super::Value;

    /// Every node of a tree is a `Value`: keep it at a string's size plus a tag.
    #[test]
    fn value_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    /// Short strings are stored inline: a `Str` is no bigger than a `String`.
    #[test]
    fn str_is_24_bytes_and_inline_up_to_24() {
        assert_eq!(std::mem::size_of::<super::Str>(), 24);
        assert!(!super::Str::from("a".repeat(24)).is_heap_allocated());
        assert!(super::Str::from("a".repeat(25)).is_heap_allocated());
    }
}
