//! Go's JSON decoding conventions, which kustomize's configuration inherits: field
//! names match exactly first, then case-insensitively; type errors name the JSON
//! type of the offending value.

use rustomize_yaml::Value;

/// Go's JSON field matching: exact name first, then case-insensitive.
pub fn field(key: &str, known: &[&'static str]) -> Option<&'static str> {
    known
        .iter()
        .find(|f| **f == key)
        .or_else(|| known.iter().find(|f| f.eq_ignore_ascii_case(key)))
        .copied()
}

/// The JSON type name Go's decoder reports for a value (`bool`, `number`, ...).
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null | Value::Empty => "null",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Uint(_) | Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::Seq(_) => "array",
        Value::Map(_) => "object",
    }
}
