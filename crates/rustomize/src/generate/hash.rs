//! Content hashes of generated ConfigMaps and Secrets, as kustomize computes them
//! for name suffixes.
//!
//! kustomize (`api/hasher`) builds a small JSON object from the resource —
//! ConfigMap: `kind`, `name`, `data` and (when it is a map) `binaryData`;
//! Secret: `kind`, `name`, `type`, `data` and (when it is a map) `stringData` —
//! where `name` is always `""`: kustomize looks it up as the single field
//! `metadata/name` (not the path), which no object has. So the name, with any
//! prefix or suffix, never affects the hash; only kind, data and type do.
//! encodes it with Go's `encoding/json` (keys sorted, HTML-safe escapes), takes
//! the hex SHA-256 and keeps its first 10 characters with `0 1 3 a e` replaced by
//! `g h k m t` (so the suffix has no vowels that could spell words and no digits
//! easily confused with letters). Namespaces, labels and annotations are not
//! hashed either. The hash is taken after every transformer (patches to `data`
//! count).
//!
//! SHA-256 comes from the `sha2` crate (the hardware instructions where the
//! CPU has them).

use rustomize_yaml::{Map, Value};

/// The hash suffix of a generated resource (`None` for kinds kustomize hashes
/// through its YAML node structure, which rustomize does not reproduce).
pub fn suffix_of(object: &Map) -> Option<String> {
    let kind = object.get("kind").and_then(Value::as_str)?;
    // kustomize looks the name up as `Lookup("metadata/name")`: one field whose
    // name contains a slash, which objects never have — so the name hashes as "".
    let name = object.get("metadata/name");
    let mut fields: Vec<(&str, String)> = Vec::with_capacity(5);
    fields.push(("kind", go_json_string(kind)));
    fields.push(("name", field_json(name)));
    match kind {
        "ConfigMap" => {
            fields.push(("data", field_json(object.get("data"))));
            if let Some(v @ Value::Map(_)) = object.get("binaryData") {
                fields.push(("binaryData", field_json(Some(v))));
            }
        }
        "Secret" => {
            fields.push(("type", field_json(object.get("type"))));
            fields.push(("data", field_json(object.get("data"))));
            if let Some(v @ Value::Map(_)) = object.get("stringData") {
                fields.push(("stringData", field_json(Some(v))));
            }
        }
        _ => return None,
    }
    fields.sort_by(|a, b| a.0.cmp(b.0));
    let mut json = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&go_json_string(key));
        json.push(':');
        json.push_str(value);
    }
    json.push('}');
    Some(encode(&sha256_hex(json.as_bytes())))
}

/// How kustomize's `getNodeValues` renders one field: missing (or null) is the
/// empty string, a scalar is its text, a map goes through JSON (a sequence fails
/// to decode as a map and becomes `null`).
fn field_json(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => go_json_string(""),
        Some(Value::Map(_)) => value.map(go_json).unwrap_or_default(),
        Some(Value::Seq(_)) => "null".to_owned(),
        Some(scalar) => go_json_string(&scalar_text(scalar)),
    }
}

/// The text of a scalar as YAML holds it.
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Null | Value::Empty | Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

/// Go's `json.Marshal` of a value decoded into `interface{}` (numbers are
/// float64, map keys sorted).
fn go_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null | Value::Empty => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // Precision loss above 2^53 is what Go's float64 decoding does too.
        #[allow(clippy::cast_precision_loss)]
        Value::Int(i) => out.push_str(&go_float(*i as f64)),
        #[allow(clippy::cast_precision_loss)]
        Value::Uint(u) => out.push_str(&go_float(*u as f64)),
        Value::Float(f) => out.push_str(&go_float(*f)),
        Value::String(s) => out.push_str(&go_json_string(s)),
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&go_json_string(k));
                out.push(':');
                write_json(v, out);
            }
            out.push('}');
        }
    }
}

/// Go's float64 JSON text: shortest round-trip digits, plain notation for
/// 1e-6 <= |f| < 1e21, exponent notation (`1e+21`, `1e-7`) otherwise.
fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return format!("{f}");
    }
    let text = format!("{f:e}");
    match text.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => text,
    }
}

/// A JSON string literal exactly as Go's `encoding/json` (with HTML escaping,
/// Go ≥ 1.22 short escapes) writes it.
fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// kustomize's 10-character encoding of a hex digest.
fn encode(hex: &str) -> String {
    hex.chars()
        .take(10)
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            other => other,
        })
        .collect()
}

/// The lowercase hex SHA-256 of `data` (64 characters).
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for byte in digest {
        for nibble in [byte >> 4, byte & 0xf] {
            out.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let long = vec![b'a'; 1000];
        assert_eq!(
            sha256_hex(&long),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        );
    }

    #[test]
    fn go_json_escapes() {
        assert_eq!(
            go_json_string("a<b>&\"\\\n\u{1}\u{2028}"),
            "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\u0001\\u2028\""
        );
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1.5e-7), "1.5e-7");
    }

    #[test]
    fn encoding_replaces_confusable_characters() {
        assert_eq!(encode("0123abcdef99"), "gh2kmbcdtf");
    }
}
