//! `NamespaceTransformer` (`namespace`): move every namespaced resource into one
//! namespace.
//!
//! Cluster-scoped kinds keep no namespace. Besides `metadata.namespace` (always
//! set, whatever the field specs say), the specs' extra fields are set (a
//! `Namespace` object is renamed to the namespace, `v1` only; APIService and CRD
//! webhook service namespaces). In RoleBindings and ClusterRoleBindings the
//! subjects follow `setRoleBindingSubjects`: those named `default` (the
//! default), every `ServiceAccount` subject, or none; specs for their
//! `subjects/namespace` are then skipped. With `unsetOnly`, only empty fields
//! are set. Every resource records its id beforehand so references can be
//! fixed later.

use rustomize_yaml::{Map, Value};

use crate::fieldspec::{Compiled, FieldSpec, Leaf, SpecSet, SpecSetRef};
use crate::plugins::SubjectMode;
use crate::resource::{Gvk, Resource};

/// Sets `namespace` on every resource (kustomize's `NamespaceTransformer`:
/// each resource records its id first, so references follow the move).
pub fn apply(
    threads: &crate::parallel::Pool,
    resources: &mut [Resource],
    namespace: &str,
    specs: &[FieldSpec],
    unset_only: bool,
    subjects: SubjectMode,
) -> Result<(), String> {
    let specs = NamespaceSpecs::new(specs);
    // Each resource on its own: in chunks on the build's threads, the first
    // error in order being the sequential loop's.
    threads.for_chunks(resources, super::MIN_CHUNK, |_, chunk| {
        chunk
            .iter_mut()
            .filter(|resource| !resource.object().is_empty())
            .try_for_each(|resource| {
                resource.store_previous_id();
                filter(resource, namespace, &specs, unset_only, subjects)
            })
    })
}

/// The namespace filter's field specs, compiled once for all resources:
/// `metadata/namespace` (always set) and the configured ones.
pub struct NamespaceSpecs<'a> {
    meta: Compiled<'static>,
    specs: SpecSetRef<'a>,
}

impl<'a> NamespaceSpecs<'a> {
    /// Compiles `specs`.
    pub fn new(specs: &'a [FieldSpec]) -> Self {
        NamespaceSpecs {
            meta: Compiled::owned(FieldSpec::new("", "", "", "metadata/namespace", true)),
            specs: SpecSet::compiled(specs, None),
        }
    }
}

/// kustomize's namespace filter on one resource, without recording its id
/// (a `ValueAddTransformer` on `metadata/namespace` uses it so).
pub fn filter(
    resource: &mut Resource,
    namespace: &str,
    specs: &NamespaceSpecs<'_>,
    unset_only: bool,
    subjects: SubjectMode,
) -> Result<(), String> {
    // kustomize's setter does nothing with an empty value (a config without
    // `metadata.namespace`): no field is created, none is cleared.
    if namespace.is_empty() {
        return Ok(());
    }
    // The id before any change, named in errors (formatted only then).
    let (id, object) = resource.object_mut_with_id();
    let mut wrong: Option<&'static str> = None;
    let mut set = |node: &mut Value| {
        if let Some(kind) = super::name_affix::node_kind(node) {
            wrong = Some(kind);
            return Err(String::new());
        }
        if !unset_only || is_unset(node) {
            *node = Value::string(namespace);
        }
        Ok(())
    };
    let result = set_all(object, &id.gvk, specs, subjects, &mut set);
    match result {
        Ok(()) => {
            resource.recache_id(id);
            Ok(())
        }
        Err(message) => Err(match wrong {
            Some(kind) => format!(
                "namespace field specs must target scalar nodes: object {id}: wrong node kind: expected ScalarNode but got {kind}"
            ),
            None => message,
        }),
    }
}

/// The namespace filter's edits of `object`, whose kind is `gvk`.
fn set_all(
    object: &mut Map,
    gvk: &Gvk,
    specs: &NamespaceSpecs<'_>,
    subjects: SubjectMode,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    if !gvk.is_cluster_scoped() {
        specs.meta.visit(object, Leaf::Scalar, set)?;
    }
    let binding = is_binding(&gvk.kind);
    if binding {
        set_subjects(object, subjects, set)?;
    }
    let v1 = gvk.group.is_empty() && gvk.version == "v1";
    let mut selected: Vec<&Compiled<'_>> = Vec::new();
    specs.specs.select_into(gvk, &mut selected);
    for compiled in selected {
        let spec: &FieldSpec = &compiled.spec;
        if spec.path == "metadata/namespace" {
            continue;
        }
        if spec.path == "metadata/name" && !v1 {
            continue;
        }
        if binding && is_binding(&spec.kind) && spec.path == "subjects/namespace" {
            continue;
        }
        compiled.visit(object, Leaf::Scalar, set)?;
    }
    Ok(())
}

fn is_binding(kind: &str) -> bool {
    kind == "RoleBinding" || kind == "ClusterRoleBinding"
}

/// What kustomize's `SetEntryIfEmpty` counts as empty.
fn is_unset(node: &Value) -> bool {
    match node {
        Value::Null | Value::Empty => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

fn set_subjects(
    object: &mut Map,
    mode: SubjectMode,
    set: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    // What kustomize looks up in each subject to choose it; with no mode it
    // does not look at the subjects at all.
    let looked_up = match mode {
        SubjectMode::None => return Ok(()),
        SubjectMode::DefaultOnly => "name",
        SubjectMode::AllServiceAccounts => "kind",
    };
    let subjects = match object.get_mut("subjects") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Seq(subjects)) => subjects,
        Some(other) => {
            return Err(format!(
                "setting namespace on (cluster)role binding subjects: wrong node kind: expected SequenceNode but got {}",
                super::yaml_node_kind(other)
            ))
        }
    };
    for subject in subjects {
        let Value::Map(subject) = subject else {
            return Err(format!(
                "setting namespace on (cluster)role binding subjects: looking up {looked_up} on (cluster)role binding subject: wrong node kind: expected MappingNode but got {}",
                super::yaml_node_kind(subject)
            ));
        };
        let chosen = match mode {
            SubjectMode::None => false,
            SubjectMode::DefaultOnly => {
                subject.get("name").and_then(Value::as_str) == Some("default")
            }
            SubjectMode::AllServiceAccounts => {
                subject.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
            }
        };
        if chosen {
            let slot = subject.entry("namespace").or_insert(Value::Null);
            set(slot)?;
        }
    }
    Ok(())
}
