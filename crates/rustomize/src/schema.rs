//! The merge schema: which lists of which kinds a strategic merge patch merges
//! element by element, by which key(s), and with which patch strategy.
//!
//! kustomize (kyaml) looks these up in the Kubernetes OpenAPI document it embeds
//! (v1.21.2): the root definition of a resource comes from its apiVersion and kind
//! (`x-kubernetes-group-version-kind`); a field's schema is the definition's
//! property (or its `additionalProperties` for maps), with `$ref`s resolved — a
//! `$ref` replaces the field schema entirely, extensions beside it included. A list
//! merges when `x-kubernetes-patch-strategy` contains `merge`; its keys are
//! `x-kubernetes-list-map-keys` if present, else `x-kubernetes-patch-merge-key`.
//! Kinds without a schema (CRDs) have no associative lists at all.
//!
//! The built-in data is the generated table in `tables::merge_keys` (pruned to
//! the definitions that reach a patch strategy), parsed once. A [`MergeSchema`]
//! can take more definitions later ([`MergeSchema::add_definitions`]), e.g. from a
//! kustomization's `openapi:` or `crds:`.

use foldhash::HashMap;
use std::sync::OnceLock;

use rustomize_yaml::{Map, Value};

use crate::resource::Gvk;
use crate::tables::merge_keys::{FIELDS, GVKS};

/// What a field's schema is, as far as merging cares.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Shape {
    /// A reference to a named definition.
    Ref(String),
    /// An inline schema.
    Inline(Box<Node>),
}

/// One schema (a definition, or an inline field schema), reduced to what merging
/// needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Node {
    /// Properties by name.
    fields: HashMap<String, Shape>,
    /// The schema of a map's values (`additionalProperties`).
    values: Option<Box<Shape>>,
    /// The schema of a list's items (only when the type is exactly `array`).
    items: Option<Box<Shape>>,
    /// `x-kubernetes-patch-strategy` (empty if none).
    strategy: String,
    /// The merge keys.
    keys: Vec<String>,
}

/// The merge schema: root definitions by apiVersion and kind, and the definitions.
#[derive(Clone, Debug, Default)]
pub struct MergeSchema {
    roots: HashMap<(String, String), String>,
    defs: HashMap<String, Node>,
}

/// A position in a [`MergeSchema`]: the schema of one node being merged, or none.
#[derive(Clone, Copy, Debug)]
pub struct SchemaRef<'a> {
    schema: &'a MergeSchema,
    node: Option<&'a Node>,
}

impl MergeSchema {
    /// A schema without any definitions (every list replaces).
    pub fn empty() -> MergeSchema {
        MergeSchema::default()
    }

    /// The built-in schema of Kubernetes v1.21.2, parsed once per process.
    pub fn builtin() -> &'static MergeSchema {
        static BUILTIN: OnceLock<MergeSchema> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let mut schema = MergeSchema::default();
            for (api_version, kind, def) in GVKS {
                schema.roots.insert(
                    ((*api_version).to_owned(), (*kind).to_owned()),
                    (*def).to_owned(),
                );
            }
            for (def, field, strategy, keys, shape) in FIELDS {
                let node = parse_shape(shape, strategy, keys);
                schema
                    .defs
                    .entry((*def).to_owned())
                    .or_default()
                    .fields
                    .insert((*field).to_owned(), node);
            }
            schema
        })
    }

    /// Adds (or replaces) OpenAPI v2 definitions: `definitions` is the
    /// `definitions` object of a swagger document. Definitions carrying
    /// `x-kubernetes-group-version-kind` become roots for those kinds.
    pub fn add_definitions(&mut self, definitions: &Map) {
        for (name, def) in definitions {
            let Some(def_map) = def.as_map() else {
                continue;
            };
            if let Some(Value::Seq(gvks)) = def_map.get("x-kubernetes-group-version-kind") {
                for gvk in gvks {
                    let get = |k: &str| gvk.get(k).and_then(Value::as_str).unwrap_or("");
                    let (group, version, kind) = (get("group"), get("version"), get("kind"));
                    if version.is_empty() || kind.is_empty() {
                        continue;
                    }
                    let api_version = if group.is_empty() {
                        version.to_owned()
                    } else {
                        format!("{group}/{version}")
                    };
                    self.roots
                        .insert((api_version, kind.to_owned()), name.to_string());
                }
            }
            self.defs
                .insert(name.to_string(), node_from_openapi(def_map));
        }
    }

    /// The root schema of resources of `gvk` (none if the kind is unknown).
    pub fn root(&self, gvk: &Gvk) -> SchemaRef<'_> {
        let node = self
            .roots
            .get(&(gvk.api_version(), gvk.kind.to_string()))
            .and_then(|def| self.defs.get(def));
        SchemaRef { schema: self, node }
    }

    fn resolve<'a>(&'a self, shape: &'a Shape) -> Option<&'a Node> {
        match shape {
            Shape::Ref(name) => self.defs.get(name),
            Shape::Inline(node) => Some(node),
        }
    }
}

impl<'a> SchemaRef<'a> {
    /// No schema.
    pub fn none(schema: &'a MergeSchema) -> SchemaRef<'a> {
        SchemaRef { schema, node: None }
    }

    /// Whether there is a schema here.
    pub fn is_some(&self) -> bool {
        self.node.is_some()
    }

    /// The schema of field `name` of a map (a property, else the map's value
    /// schema).
    pub fn field(&self, name: &str) -> SchemaRef<'a> {
        let node = self.node.and_then(|n| {
            n.fields
                .get(name)
                .or(n.values.as_deref())
                .and_then(|s| self.schema.resolve(s))
        });
        SchemaRef {
            schema: self.schema,
            node,
        }
    }

    /// The schema of a list's elements.
    pub fn elements(&self) -> SchemaRef<'a> {
        let node = self
            .node
            .and_then(|n| n.items.as_deref())
            .and_then(|s| self.schema.resolve(s));
        SchemaRef {
            schema: self.schema,
            node,
        }
    }

    /// The patch strategy (`merge`, `retainKeys`, `merge,retainKeys`, `replace`;
    /// empty if none).
    pub fn strategy(&self) -> &'a str {
        self.node.map_or("", |n| n.strategy.as_str())
    }

    /// The merge keys of a list (empty for primitive lists or none).
    pub fn keys(&self) -> &'a [String] {
        self.node.map_or(&[], |n| n.keys.as_slice())
    }

    /// Whether a list here merges element by element: its strategy includes
    /// `merge`. (Without a schema, kustomize never merges lists.)
    pub fn is_associative(&self) -> bool {
        self.strategy().split(',').any(|s| s == "merge")
    }
}

/// Builds a field's node from the table's shape string.
fn parse_shape(shape: &str, strategy: &str, keys: &[&str]) -> Shape {
    let mut node = match shape_of(shape) {
        Some(Shape::Inline(node)) => *node,
        Some(reference @ Shape::Ref(_)) => return reference,
        None => Node::default(),
    };
    node.strategy = strategy.to_owned();
    node.keys = keys.iter().map(|k| (*k).to_owned()).collect();
    Shape::Inline(Box::new(node))
}

fn shape_of(shape: &str) -> Option<Shape> {
    if let Some(rest) = shape.strip_prefix("[]") {
        let items = shape_of(rest).map(Box::new);
        Some(Shape::Inline(Box::new(Node {
            items,
            ..Node::default()
        })))
    } else if let Some(rest) = shape.strip_prefix("{}") {
        let values = shape_of(rest).map(Box::new);
        Some(Shape::Inline(Box::new(Node {
            values,
            ..Node::default()
        })))
    } else {
        shape.strip_prefix('@').map(|d| Shape::Ref(d.to_owned()))
    }
}

/// Reads one OpenAPI schema object.
fn node_from_openapi(schema: &Map) -> Node {
    let mut node = Node::default();
    if let Some(Value::Map(props)) = schema.get("properties") {
        for (name, prop) in props {
            if let Some(shape) = prop.as_map().and_then(shape_from_openapi) {
                node.fields.insert(name.to_string(), shape);
            }
        }
    }
    if let Some(Value::Map(values)) = schema.get("additionalProperties") {
        node.values = shape_from_openapi(values).map(Box::new);
    }
    let is_array = match schema.get("type") {
        Some(Value::String(t)) => t == "array",
        Some(Value::Seq(ts)) => {
            ts.len() == 1 && ts.first().and_then(Value::as_str) == Some("array")
        }
        _ => false,
    };
    if is_array {
        if let Some(Value::Map(items)) = schema.get("items") {
            node.items = shape_from_openapi(items).map(Box::new);
        }
    }
    if let Some(strategy) = schema
        .get("x-kubernetes-patch-strategy")
        .and_then(Value::as_str)
    {
        node.strategy = strategy.to_owned();
        if let Some(Value::Seq(keys)) = schema.get("x-kubernetes-list-map-keys") {
            node.keys = keys
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
        } else if let Some(key) = schema
            .get("x-kubernetes-patch-merge-key")
            .and_then(Value::as_str)
        {
            node.keys = vec![key.to_owned()];
        }
    }
    node
}

fn shape_from_openapi(schema: &Map) -> Option<Shape> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference
            .strip_prefix("#/definitions/")
            .map(|d| Shape::Ref(d.to_owned()));
    }
    Some(Shape::Inline(Box::new(node_from_openapi(schema))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_merge_by_name() {
        let schema = MergeSchema::builtin();
        let gvk = Gvk::from_api_version("apps/v1", "Deployment");
        let containers = schema
            .root(&gvk)
            .field("spec")
            .field("template")
            .field("spec")
            .field("containers");
        assert!(containers.is_associative());
        assert_eq!(containers.keys(), ["name".to_owned()]);
        let ports = containers.elements().field("ports");
        assert_eq!(
            ports.keys(),
            ["containerPort".to_owned(), "protocol".to_owned()]
        );
        let gvk = Gvk::from_api_version("example.com/v1", "Thing");
        assert!(!schema.root(&gvk).is_some());
    }
}
