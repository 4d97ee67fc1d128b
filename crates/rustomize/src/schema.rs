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
//! the definitions that reach a patch strategy), read in place: its rows are
//! sorted, so a root or a field is found by binary search, and nothing is built
//! before the first lookup (building maps of it cost ~0.7 ms of every process,
//! 5–8% of a 1,000-resource build). A [`MergeSchema`] made with
//! [`MergeSchema::empty`] takes definitions instead
//! ([`MergeSchema::add_definitions`]), e.g. from a kustomization's `openapi:`
//! or `crds:`.

use foldhash::HashMap;
use std::borrow::Cow;

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

/// The merge schema: root definitions by apiVersion and kind, and the
/// definitions; for the built-in one, the generated table.
#[derive(Clone, Debug, Default)]
pub struct MergeSchema {
    /// Whether lookups read the built-in table (the maps are then empty).
    builtin: bool,
    roots: HashMap<(String, String), String>,
    defs: HashMap<String, Node>,
}

/// A position in a [`MergeSchema`]: the schema of one node being merged, or none.
#[derive(Clone, Copy, Debug)]
pub struct SchemaRef<'a> {
    schema: &'a MergeSchema,
    node: Option<At<'a>>,
}

/// Where a [`SchemaRef`] stands.
#[derive(Clone, Copy, Debug)]
enum At<'a> {
    /// A node of a schema made of definitions.
    Node(&'a Node),
    /// A definition of the built-in table: its rows (never empty: the table
    /// holds no definition without fields).
    Def(&'static [FieldRow]),
    /// An inline schema of the built-in table: what is left of a field's
    /// shape text (`[]` a list of, `{}` a map of, `@NAME` a definition), and
    /// the patch strategy and keys of the node it describes (a field's own;
    /// empty for the nodes nested in its shape).
    Shape {
        shape: &'static str,
        strategy: &'static str,
        keys: &'static [&'static str],
    },
}

impl MergeSchema {
    /// A schema without any definitions (every list replaces).
    pub fn empty() -> MergeSchema {
        MergeSchema::default()
    }

    /// The built-in schema of Kubernetes v1.21.2 (the generated table, read
    /// in place).
    pub fn builtin() -> &'static MergeSchema {
        static BUILTIN: std::sync::OnceLock<MergeSchema> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(|| MergeSchema {
            builtin: true,
            ..MergeSchema::default()
        })
    }

    /// Adds (or replaces) OpenAPI v2 definitions: `definitions` is the
    /// `definitions` object of a swagger document. Definitions carrying
    /// `x-kubernetes-group-version-kind` become roots for those kinds. A
    /// schema that reads the built-in table first takes its definitions
    /// over as its own.
    pub fn add_definitions(&mut self, definitions: &Map) {
        if self.builtin {
            self.own_builtin();
        }
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

    /// Copies the built-in table into this schema's own maps.
    fn own_builtin(&mut self) {
        self.builtin = false;
        for (api_version, kind, def) in GVKS {
            self.roots.insert(
                ((*api_version).to_owned(), (*kind).to_owned()),
                (*def).to_owned(),
            );
        }
        for (def, field, strategy, keys, shape) in FIELDS {
            let node = parse_shape(shape, strategy, keys);
            self.defs
                .entry((*def).to_owned())
                .or_default()
                .fields
                .insert((*field).to_owned(), node);
        }
    }

    /// The root schema of resources of `gvk` (none if the kind is unknown).
    pub fn root(&self, gvk: &Gvk) -> SchemaRef<'_> {
        let node = if self.builtin {
            let api_version = gvk.api_version();
            let kind = gvk.kind.as_str();
            GVKS.binary_search_by(|(v, k, _)| (*v, *k).cmp(&(api_version.as_str(), kind)))
                .ok()
                .and_then(|i| GVKS.get(i))
                .and_then(|(_, _, def)| builtin_def(def))
        } else {
            self.roots
                .get(&(gvk.api_version(), gvk.kind.to_string()))
                .and_then(|def| self.defs.get(def))
                .map(At::Node)
        };
        SchemaRef { schema: self, node }
    }

    fn resolve<'a>(&'a self, shape: &'a Shape) -> Option<At<'a>> {
        match shape {
            Shape::Ref(name) => self.defs.get(name).map(At::Node),
            Shape::Inline(node) => Some(At::Node(node)),
        }
    }
}

/// One row of the built-in table: definition, field, patch strategy, merge
/// keys, shape.
type FieldRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
);

/// The rows of the built-in table's fields of definition `def` (empty if it
/// has none).
fn builtin_fields(def: &str) -> &'static [FieldRow] {
    let start = FIELDS.partition_point(|row| row.0 < def);
    let len = FIELDS
        .get(start..)
        .unwrap_or_default()
        .partition_point(|row| row.0 == def);
    FIELDS.get(start..start + len).unwrap_or_default()
}

/// Definition `def` of the built-in table, if the table has it.
fn builtin_def(def: &'static str) -> Option<At<'static>> {
    let fields = builtin_fields(def);
    (!fields.is_empty()).then_some(At::Def(fields))
}

/// The node a built-in shape text stands for, nested in a field's shape (see
/// [`parse_shape`] for the same reading into owned nodes).
fn builtin_shape(shape: &'static str) -> Option<At<'static>> {
    if shape.starts_with("[]") || shape.starts_with("{}") {
        Some(At::Shape {
            shape,
            strategy: "",
            keys: &[],
        })
    } else {
        shape.strip_prefix('@').and_then(builtin_def)
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

    fn at(&self, node: Option<At<'a>>) -> SchemaRef<'a> {
        SchemaRef {
            schema: self.schema,
            node,
        }
    }

    /// The schema of field `name` of a map (a property, else the map's value
    /// schema).
    pub fn field(&self, name: &str) -> SchemaRef<'a> {
        let node = match self.node {
            None => None,
            Some(At::Node(n)) => n
                .fields
                .get(name)
                .or(n.values.as_deref())
                .and_then(|s| self.schema.resolve(s)),
            Some(At::Def(fields)) => {
                fields
                    .binary_search_by(|row| row.1.cmp(name))
                    .ok()
                    .and_then(|i| fields.get(i))
                    .and_then(|&(_, _, strategy, keys, shape)| {
                        if shape.starts_with('@') {
                            // A reference replaces the field's schema whole.
                            builtin_shape(shape)
                        } else {
                            Some(At::Shape {
                                shape,
                                strategy,
                                keys,
                            })
                        }
                    })
            }
            Some(At::Shape { shape, .. }) => shape.strip_prefix("{}").and_then(builtin_shape),
        };
        self.at(node)
    }

    /// The schema of a list's elements.
    pub fn elements(&self) -> SchemaRef<'a> {
        let node = match self.node {
            Some(At::Node(n)) => n.items.as_deref().and_then(|s| self.schema.resolve(s)),
            Some(At::Shape { shape, .. }) => shape.strip_prefix("[]").and_then(builtin_shape),
            None | Some(At::Def(_)) => None,
        };
        self.at(node)
    }

    /// The patch strategy (`merge`, `retainKeys`, `merge,retainKeys`, `replace`;
    /// empty if none).
    pub fn strategy(&self) -> &'a str {
        match self.node {
            Some(At::Node(n)) => n.strategy.as_str(),
            Some(At::Shape { strategy, .. }) => strategy,
            None | Some(At::Def(_)) => "",
        }
    }

    /// The merge keys of a list (empty for primitive lists or none).
    pub fn keys(&self) -> Cow<'a, [String]> {
        match self.node {
            Some(At::Node(n)) => Cow::Borrowed(n.keys.as_slice()),
            Some(At::Shape { keys, .. }) => keys.iter().map(|k| (*k).to_owned()).collect(),
            None | Some(At::Def(_)) => Cow::Borrowed(&[]),
        }
    }

    /// The `i`th merge key of a list ([`SchemaRef::keys`] without copying
    /// them), `None` past the last.
    pub fn key(&self, i: usize) -> Option<&'a str> {
        match self.node {
            Some(At::Node(n)) => n.keys.get(i).map(String::as_str),
            Some(At::Shape { keys, .. }) => keys.get(i).copied(),
            None | Some(At::Def(_)) => None,
        }
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

    /// Compares `a` (the table read in place) with `b` (the table built into
    /// maps, as it was read before) at this position and below, `depth`
    /// levels down every field name of the table and the list elements.
    fn same_below(a: SchemaRef<'_>, b: SchemaRef<'_>, names: &[&str], depth: usize, path: &str) {
        assert_eq!(a.is_some(), b.is_some(), "{path}");
        assert_eq!(a.strategy(), b.strategy(), "{path}");
        assert_eq!(a.keys(), b.keys(), "{path}");
        if depth == 0 || !a.is_some() {
            return;
        }
        same_below(
            a.elements(),
            b.elements(),
            names,
            depth - 1,
            &format!("{path}[]"),
        );
        for name in names {
            same_below(
                a.field(name),
                b.field(name),
                names,
                depth - 1,
                &format!("{path}.{name}"),
            );
        }
    }

    #[test]
    fn the_table_read_in_place_equals_the_table_built() {
        let mut built = MergeSchema::empty();
        built.own_builtin();
        let mut names: Vec<&str> = FIELDS.iter().map(|row| row.1).collect();
        names.sort_unstable();
        names.dedup();
        names.push("no-such-field");
        for (api_version, kind, _) in GVKS {
            let gvk = Gvk::from_api_version(api_version, kind);
            let path = format!("{api_version} {kind}");
            same_below(
                MergeSchema::builtin().root(&gvk),
                built.root(&gvk),
                &names,
                8,
                &path,
            );
        }
        let gvk = Gvk::from_api_version("example.com/v1", "Thing");
        assert!(!MergeSchema::builtin().root(&gvk).is_some());
    }

    #[test]
    fn the_table_is_sorted_for_binary_search() {
        assert!(GVKS.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        assert!(FIELDS
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
    }

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
        assert_eq!(*containers.keys(), ["name".to_owned()]);
        let ports = containers.elements().field("ports");
        assert_eq!(
            *ports.keys(),
            ["containerPort".to_owned(), "protocol".to_owned()]
        );
        let gvk = Gvk::from_api_version("example.com/v1", "Thing");
        assert!(!schema.root(&gvk).is_some());
    }
}
