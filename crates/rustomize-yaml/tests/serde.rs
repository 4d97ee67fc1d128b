//! The `serde` feature: `Value` through serde and `serde_json::Value`, both
//! ways, with the mapping of numbers, nulls and keys the crate docs promise.
//! Run with `cargo test -p rustomize-yaml --features serde --test serde`.
#![cfg(feature = "serde")]
#![allow(clippy::unwrap_used)]

use rustomize_yaml::{parse_documents, write_document, Map, Value};
use serde_json::json;

fn one(yaml: &str) -> Value {
    parse_documents(yaml, &Default::default())
        .unwrap()
        .into_iter()
        .next()
        .unwrap()
}

#[test]
fn serializes_as_json_in_insertion_order() {
    let v = one("b: 1\na: [true, ~, 1.5, big: 18446744073709551615]\nc:\n");
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"b":1,"a":[true,null,1.5,{"big":18446744073709551615}],"c":null}"#
    );
}

#[test]
fn numbers_map_by_range() {
    let v: Value = serde_json::from_str("[1, -1, 9223372036854775808, 2.0]").unwrap();
    let Value::Seq(items) = v else {
        panic!("{v:?}")
    };
    assert!(matches!(items[0], Value::Int(1)));
    assert!(matches!(items[1], Value::Int(-1)));
    assert!(matches!(items[2], Value::Uint(9_223_372_036_854_775_808)));
    assert!(matches!(items[3], Value::Float(f) if f == 2.0));
}

#[test]
fn json_value_round_trip() {
    let json = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 3, "paused": false, "ratio": 0.5, "none": null, "big": u64::MAX},
    });
    let value = Value::from(json.clone());
    assert_eq!(
        value.get("kind").and_then(Value::as_str),
        Some("Deployment")
    );
    assert_eq!(serde_json::Value::from(&value), json);
    assert_eq!(serde_json::Value::from(value), json);
}

#[test]
fn yaml_to_json_and_back_prints_the_same() {
    let yaml = "apiVersion: v1\ndata:\n  a: \"1\"\n  b: |\n    two\n    lines\nkind: ConfigMap\nmetadata:\n  name: c\n";
    let value = one(yaml);
    let json = serde_json::Value::from(&value);
    let back = Value::from(json);
    let mut out = String::new();
    write_document(&back, &mut out);
    assert_eq!(out, yaml);
}

#[test]
fn empty_nan_and_infinities_become_null() {
    let mut map = Map::new();
    map.insert("empty", Value::Empty);
    map.insert("nan", Value::Float(f64::NAN));
    map.insert("inf", Value::Float(f64::INFINITY));
    assert_eq!(
        serde_json::Value::from(Value::Map(map)),
        json!({"empty": null, "nan": null, "inf": null})
    );
    assert_eq!(serde_json::to_string(&Value::Empty).unwrap(), "null");
}

#[test]
fn non_string_keys_are_keyed_by_their_text() {
    // serde_json reads object keys as strings, but a map keyed by integers or
    // booleans (from another format) is read through the same visitor.
    use serde::de::value::{Error, MapDeserializer};
    use serde::Deserialize;
    let ints = MapDeserializer::<_, Error>::new(vec![(1i64, "one"), (2, "two")].into_iter());
    let v = Value::deserialize(ints).unwrap();
    assert_eq!(v.get("1").and_then(Value::as_str), Some("one"));
    let bools = MapDeserializer::<_, Error>::new(vec![(true, 1u8)].into_iter());
    assert_eq!(
        Value::deserialize(bools).unwrap().get("true"),
        Some(&Value::Int(1))
    );
    let floats = MapDeserializer::<_, Error>::new(vec![(1.5f64, 1u8)].into_iter());
    assert!(Value::deserialize(floats).is_err());
}
