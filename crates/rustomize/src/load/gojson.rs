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

/// A string field as Go's JSON decoding reads it: a string, or null for empty;
/// anything else is an error naming the Go field (`owner` + `field`, e.g.
/// `Kustomization.` + `namePrefix`).
pub fn string(value: &Value, owner: &str, field: &str) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.to_string()),
        Value::Null | Value::Empty => Ok(String::new()),
        other => Err(format!(
            "json: cannot unmarshal {} into Go struct field {owner}{field} of type string",
            type_name(other)
        )),
    }
}
