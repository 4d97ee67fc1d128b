//! The `serde` feature: [`Value`] as a serde data type, and conversions to and
//! from `serde_json::Value`, so that embedders can hand resources to typed
//! Kubernetes structs (`k8s-openapi`, `kube`) and back.
//!
//! How the data maps is documented at the crate root.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::{Str, Value};

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null | Value::Empty => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Uint(u) => serializer.serialize_u64(*u),
            Value::Float(f) => serializer.serialize_f64(*f),
            Value::String(s) => serializer.serialize_str(s),
            Value::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    out.serialize_entry(k.as_str(), v)?;
                }
                out.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML/JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::Uint(u), Value::Int))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.into()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s.into()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        // The builder indexes a large map's keys while it is read (Map
        // lookups are linear).
        let mut map =
            crate::map::MapBuilder::with_capacity(access.size_hint().unwrap_or(0).min(4096));
        while let Some(Key(key)) = access.next_key()? {
            let value = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Map(map.finish()))
    }
}

/// A map key: a string, or an integer or boolean keyed by its text.
struct Key(Str);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, integer or boolean map key")
    }

    fn visit_str<E>(self, s: &str) -> Result<Key, E> {
        Ok(Key(s.into()))
    }

    fn visit_string<E>(self, s: String) -> Result<Key, E> {
        Ok(Key(s.into()))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Key, E> {
        Ok(Key(compact_str::ToCompactString::to_compact_string(&i)))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Key, E> {
        Ok(Key(compact_str::ToCompactString::to_compact_string(&u)))
    }

    fn visit_bool<E>(self, b: bool) -> Result<Key, E> {
        Ok(Key(compact_str::ToCompactString::to_compact_string(&b)))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Key, E> {
        Err(E::invalid_type(de::Unexpected::Float(f), &self))
    }
}

impl From<serde_json::Value> for Value {
    /// Numbers become `Int` when they fit in `i64`, else `Uint` when they fit
    /// in `u64`, else `Float`; objects keep their key order as serde_json
    /// iterates it (sorted, unless its `preserve_order` feature is on).
    fn from(json: serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::Uint(u)
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Value::String(s.into()),
            serde_json::Value::Array(items) => {
                Value::Seq(items.into_iter().map(Value::from).collect())
            }
            serde_json::Value::Object(object) => Value::Map(
                object
                    .into_iter()
                    .map(|(k, v)| (k, Value::from(v)))
                    .collect(),
            ),
        }
    }
}

impl From<Value> for serde_json::Value {
    /// `Null` and `Empty` become `null`; a NaN or infinite `Float` becomes
    /// `null` too (JSON cannot hold it; `serde_json::to_value` does the same).
    fn from(value: Value) -> serde_json::Value {
        match value {
            Value::Null | Value::Empty => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(b),
            Value::Int(i) => serde_json::Value::Number(i.into()),
            Value::Uint(u) => serde_json::Value::Number(u.into()),
            Value::Float(f) => serde_json::Number::from_f64(f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::String(s) => serde_json::Value::String(s.into_string()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.into_iter().map(serde_json::Value::from).collect())
            }
            Value::Map(map) => serde_json::Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k.into_string(), serde_json::Value::from(v)))
                    .collect(),
            ),
        }
    }
}

impl From<&Value> for serde_json::Value {
    /// As `From<Value>`, cloning.
    fn from(value: &Value) -> serde_json::Value {
        serde_json::Value::from(value.clone())
    }
}
