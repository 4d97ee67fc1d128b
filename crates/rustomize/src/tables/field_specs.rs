//! The built-in field-spec tables: which fields each transformer touches by default.
//!
//! Data only. Each row is `(group, version, kind, path, create)`; empty selector
//! parts match anything. The facts mirror kustomize's defaults (its
//! `builtinpluginconsts` tables), written out here as our own table.

use crate::fieldspec::{merge_into, FieldSpec, SpecSet};
use crate::tables::name_references::NAME_REFERENCES;
use crate::tables::var_references::VAR_REFERENCES;

type Row = (&'static str, &'static str, &'static str, &'static str, bool);

/// Labels on object metadata and on the pod/job templates workloads stamp out.
const METADATA_LABELS: &[Row] = &[
    ("", "", "", "metadata/labels", true),
    (
        "",
        "v1",
        "ReplicationController",
        "spec/template/metadata/labels",
        true,
    ),
    ("", "", "Deployment", "spec/template/metadata/labels", true),
    ("", "", "ReplicaSet", "spec/template/metadata/labels", true),
    ("", "", "DaemonSet", "spec/template/metadata/labels", true),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/metadata/labels",
        true,
    ),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
    ("batch", "", "Job", "spec/template/metadata/labels", true),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/labels",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
];

const AFFINITY_PATHS: &[&str] = &[
    "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
    "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
];

/// Selectors that `commonLabels` (and `labels` with `includeSelectors`) also edit.
const SELECTOR_LABELS: &[Row] = &[
    ("", "v1", "Service", "spec/selector", true),
    ("", "v1", "ReplicationController", "spec/selector", true),
    ("", "", "Deployment", "spec/selector/matchLabels", true),
    ("", "", "ReplicaSet", "spec/selector/matchLabels", true),
    ("", "", "DaemonSet", "spec/selector/matchLabels", true),
    ("apps", "", "StatefulSet", "spec/selector/matchLabels", true),
    ("batch", "", "Job", "spec/selector/matchLabels", false),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ),
    (
        "policy",
        "",
        "PodDisruptionBudget",
        "spec/selector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/podSelector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/ingress/from/podSelector/matchLabels",
        false,
    ),
    (
        "networking.k8s.io",
        "",
        "NetworkPolicy",
        "spec/egress/to/podSelector/matchLabels",
        false,
    ),
];

/// Annotations on object metadata and on workload templates.
const ANNOTATIONS: &[Row] = &[
    ("", "", "", "metadata/annotations", true),
    (
        "",
        "v1",
        "ReplicationController",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "Deployment",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "ReplicaSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "DaemonSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "",
        "",
        "StatefulSet",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "Job",
        "spec/template/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/metadata/annotations",
        true,
    ),
    (
        "batch",
        "",
        "CronJob",
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ),
];

/// Namespace fields beyond `metadata/namespace` (which the namespace transformer
/// handles itself, honouring cluster scope).
const NAMESPACE: &[Row] = &[
    ("", "", "Namespace", "metadata/name", true),
    (
        "apiregistration.k8s.io",
        "",
        "APIService",
        "spec/service/namespace",
        true,
    ),
    (
        "apiextensions.k8s.io",
        "",
        "CustomResourceDefinition",
        "spec/conversion/webhook/clientConfig/service/namespace",
        false,
    ),
];

/// Image fields that `images` changes.
const IMAGES: &[Row] = &[
    ("", "", "", "spec/containers[]/image", true),
    ("", "", "", "spec/initContainers[]/image", true),
    ("", "", "", "spec/template/spec/containers[]/image", true),
    (
        "",
        "",
        "",
        "spec/template/spec/initContainers[]/image",
        true,
    ),
];

/// Replica counts that `replicas` changes.
const REPLICAS: &[Row] = &[
    ("", "", "Deployment", "spec/replicas", true),
    ("", "", "ReplicationController", "spec/replicas", true),
    ("", "", "ReplicaSet", "spec/replicas", true),
    ("", "", "StatefulSet", "spec/replicas", true),
];

/// Name fields that `namePrefix` / `nameSuffix` change.
const NAME: &[Row] = &[("", "", "", "metadata/name", false)];

fn rows(table: &[Row]) -> impl Iterator<Item = FieldSpec> + '_ {
    table
        .iter()
        .map(|&(g, v, k, p, c)| FieldSpec::new(g, v, k, p, c))
}

/// The fields that refer to objects of one kind by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameReference {
    /// Target group (empty matches any).
    pub group: String,
    /// Target version (empty matches any).
    pub version: String,
    /// Target kind.
    pub kind: String,
    /// The referring fields.
    pub referrers: Vec<FieldSpec>,
}

/// The field-spec tables of one accumulation: kustomize's defaults, extended by
/// `crds:` (and later `configurations:`) of the kustomizations accumulated.
#[derive(Clone, Debug)]
pub struct FieldSpecTables {
    /// `commonLabels`, and `labels` with `includeSelectors`.
    pub common_labels: Vec<FieldSpec>,
    /// `labels` with `includeTemplates`.
    pub template_labels: Vec<FieldSpec>,
    /// Extra specs for every `labels` entry (from `configurations:`).
    pub labels: Vec<FieldSpec>,
    /// `commonAnnotations`.
    pub common_annotations: Vec<FieldSpec>,
    /// `namespace`.
    pub namespace: Vec<FieldSpec>,
    /// `namePrefix`.
    pub name_prefix: Vec<FieldSpec>,
    /// `nameSuffix`.
    pub name_suffix: Vec<FieldSpec>,
    /// Name references, in order.
    pub name_references: Vec<NameReference>,
    /// `images`.
    pub images: Vec<FieldSpec>,
    /// `replicas`.
    pub replicas: Vec<FieldSpec>,
    /// Fields where `$(VAR)` is substituted.
    pub var_reference: Vec<FieldSpec>,
    /// Whether these tables differ from the defaults (merging default tables into
    /// default tables is a no-op, skipped so nested builds stay cheap).
    pub extended: bool,
    /// What was merged into the built-in tables to make these, in order (the
    /// tables of each `configurations:` and `crds:` file of the tree, each
    /// read once): merging nested tables replays the additions not seen yet.
    pub additions: Vec<std::sync::Arc<FieldSpecTables>>,
}

impl FieldSpecTables {
    /// Tables with no entries (for collecting additions).
    pub fn empty() -> Self {
        FieldSpecTables {
            common_labels: Vec::new(),
            template_labels: Vec::new(),
            labels: Vec::new(),
            common_annotations: Vec::new(),
            namespace: Vec::new(),
            name_prefix: Vec::new(),
            name_suffix: Vec::new(),
            name_references: Vec::new(),
            images: Vec::new(),
            replicas: Vec::new(),
            var_reference: Vec::new(),
            extended: true,
            additions: Vec::new(),
        }
    }

    /// Adds `other`'s entries that are not here yet (kustomize's config merge).
    pub fn merge(&mut self, other: &FieldSpecTables) {
        if !other.extended {
            return;
        }
        self.extended = true;
        merge_into(&mut self.common_labels, &other.common_labels);
        merge_into(&mut self.template_labels, &other.template_labels);
        merge_into(&mut self.labels, &other.labels);
        merge_into(&mut self.common_annotations, &other.common_annotations);
        merge_into(&mut self.namespace, &other.namespace);
        merge_into(&mut self.name_prefix, &other.name_prefix);
        merge_into(&mut self.name_suffix, &other.name_suffix);
        merge_into(&mut self.images, &other.images);
        merge_into(&mut self.replicas, &other.replicas);
        merge_into(&mut self.var_reference, &other.var_reference);
        for nr in &other.name_references {
            self.add_name_reference(nr.clone());
        }
    }

    /// Adds referrers for a target kind, merging with an existing entry for it.
    pub fn add_name_reference(&mut self, nr: NameReference) {
        match self
            .name_references
            .iter_mut()
            .find(|e| e.group == nr.group && e.version == nr.version && e.kind == nr.kind)
        {
            Some(existing) => merge_into(&mut existing.referrers, &nr.referrers),
            None => self.name_references.push(nr),
        }
    }
}

impl FieldSpecTables {
    /// kustomize's built-in tables, built once per process and shared: every
    /// kustomization of every build starts from them, and building them (a few
    /// hundred specs of four strings each) per kustomization was a visible share
    /// of small builds. Extend a copy with [`std::sync::Arc::make_mut`].
    pub fn builtin() -> std::sync::Arc<FieldSpecTables> {
        std::sync::Arc::clone(Self::builtin_shared())
    }

    /// The process's one copy of the built-in tables, which lives as long
    /// as the process: what [`FieldSpecTables::builtin`] hands out, and
    /// what compiled forms of the tables kept for the process borrow from
    /// (see `nameref::builtin_pairs`).
    pub(crate) fn builtin_shared() -> &'static std::sync::Arc<FieldSpecTables> {
        static BUILTIN: std::sync::OnceLock<std::sync::Arc<FieldSpecTables>> =
            std::sync::OnceLock::new();
        BUILTIN.get_or_init(|| std::sync::Arc::new(Self::default()))
    }
}

/// The built-in tables that transformers compile into [`SpecSet`]s, in the
/// order [`kept_spec_set`] looks for a match (`nameSuffix`'s rows are
/// `namePrefix`'s, so one slot serves both).
fn kept_tables(tables: &FieldSpecTables) -> [&[FieldSpec]; 8] {
    [
        &tables.common_labels,
        &tables.template_labels,
        &tables.common_annotations,
        &tables.namespace,
        &tables.name_prefix,
        &tables.images,
        &tables.replicas,
        &tables.var_reference,
    ]
}

/// The [`SpecSet`] of the built-in table whose rows equal `specs`, compiled
/// with `create` on first use and kept for the process; `None` when `specs`
/// are empty or no built-in table's. See [`SpecSet::compiled`].
pub(crate) fn kept_spec_set(
    specs: &[FieldSpec],
    create: Option<bool>,
) -> Option<&'static SpecSet<'static>> {
    /// One set per table and `create` (`None`, `Some(false)`, `Some(true)`).
    static KEPT: [std::sync::OnceLock<SpecSet<'static>>; 24] =
        [const { std::sync::OnceLock::new() }; 24];
    if specs.is_empty() {
        return None;
    }
    let builtin: &'static FieldSpecTables = FieldSpecTables::builtin_shared();
    let (slot, table) = kept_tables(builtin)
        .into_iter()
        .enumerate()
        .find(|(_, table)| table.len() == specs.len() && *table == specs)?;
    let variant = match create {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    };
    let kept = KEPT.get(slot * 3 + variant)?;
    Some(kept.get_or_init(|| SpecSet::new(table, create)))
}

impl Default for FieldSpecTables {
    fn default() -> Self {
        let mut common_labels: Vec<FieldSpec> = rows(SELECTOR_LABELS).collect();
        for kind in ["Deployment", "StatefulSet"] {
            let at = common_labels
                .iter()
                .position(|s| s.kind == kind)
                .map_or(common_labels.len(), |i| i + 1);
            let extra = AFFINITY_PATHS
                .iter()
                .map(|p| FieldSpec::new("apps", "", kind, p, false));
            common_labels.splice(at..at, extra);
        }
        common_labels.extend(rows(METADATA_LABELS));
        FieldSpecTables {
            common_labels,
            template_labels: rows(METADATA_LABELS).collect(),
            labels: Vec::new(),
            common_annotations: rows(ANNOTATIONS).collect(),
            namespace: rows(NAMESPACE).collect(),
            name_prefix: rows(NAME).collect(),
            name_suffix: rows(NAME).collect(),
            name_references: NAME_REFERENCES
                .iter()
                .map(|&((g, v, k), referrers)| NameReference {
                    group: g.to_owned(),
                    version: v.to_owned(),
                    kind: k.to_owned(),
                    referrers: referrers
                        .iter()
                        .map(|&(rg, rv, rk, path)| FieldSpec::new(rg, rv, rk, path, false))
                        .collect(),
                })
                .collect(),
            images: rows(IMAGES).collect(),
            replicas: rows(REPLICAS).collect(),
            var_reference: VAR_REFERENCES
                .iter()
                .map(|&(g, v, k, p)| FieldSpec::new(g, v, k, p, false))
                .collect(),
            extended: false,
            additions: Vec::new(),
        }
    }
}
