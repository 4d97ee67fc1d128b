//! Builtin plugin configs: kustomize's unit of work.
//!
//! kustomize turns every field of a kustomization into the config of a builtin
//! plugin (`apiVersion: builtin`, `kind: PrefixTransformer`, ...) and runs the
//! resulting list; the `generators:`, `transformers:` and `validators:` fields
//! take such configs directly. This module owns that shape:
//!
//! * [`Transformer`] and [`Generator`] are the typed configs, one variant per
//!   builtin kind kustomize v5.5.0 ships (plus [`Transformer::External`] /
//!   [`Generator::External`] for exec plugins and KRM functions);
//! * [`desugar`] turns a kustomization's fields into the ordered lists kustomize
//!   configures (`configureBuiltinGenerators` / `configureBuiltinTransformers`),
//!   field specs taken from the kustomization's tables;
//! * [`decode`] reads one config resource (from a `generators:` /
//!   `transformers:` / `validators:` entry) into a typed config the way each
//!   builtin plugin's `Config` does: lenient Go-JSON decoding, the config's own
//!   `fieldSpecs` in place of the default table;
//! * [`entries`] loads those fields' entries: inline YAML, files, and
//!   kustomization directories whose output is a list of configs.
//!
//! Running a list is [`crate::transform::run`] and [`crate::generate::run`]; each
//! builtin's engine is one module under [`crate::transform`] or
//! [`crate::generate`].

pub mod decode;
pub mod desugar;
pub mod entries;
pub mod external;

use std::path::PathBuf;

use rustomize_yaml::{Map, Value};

use crate::buildmeta::Origin;
use crate::fieldspec::FieldSpec;
use crate::generate::args::Args;
use crate::generate::helm::{HelmChart, HelmGlobals};
use crate::load::kustomization::PatchEntry;
use crate::selector::Selector;

/// The `apiVersion` that marks a builtin plugin config (kustomize checks the
/// version with an empty group).
pub const BUILTIN_API_VERSION: &str = "builtin";

/// A config with where it came from.
#[derive(Clone, Debug)]
pub struct Configured<C> {
    /// The typed config.
    pub config: C,
    /// The file that holds it (the kustomization file for desugared fields and
    /// inline entries), for messages.
    pub file: PathBuf,
    /// With `buildMetadata` tracking on, what kustomize records on the resources
    /// this plugin makes or changes.
    pub origin: Option<Origin>,
}

/// How a `NamespaceTransformer` treats RoleBinding subjects
/// (`setRoleBindingSubjects`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SubjectMode {
    /// Subjects named `default` get the namespace (kustomize's default).
    #[default]
    DefaultOnly,
    /// Every `ServiceAccount` subject gets the namespace.
    AllServiceAccounts,
    /// Subjects are left alone.
    None,
}

/// Where a `patchesStrategicMerge` entry's patch comes from.
#[derive(Clone, Debug)]
pub enum SmPatchSource {
    /// A field entry: inline YAML if it reads as resources, else a file path.
    Guess(String),
    /// A `paths` entry of a config: a file.
    File(String),
    /// The `patches` text of a config.
    Inline(String),
}

/// One target of a `ValueAddTransformer`.
#[derive(Clone, Debug, Default)]
pub struct ValueAddTarget {
    /// Which resources (all when None).
    pub selector: Option<Selector>,
    /// Slash-separated path of the field to set (created if missing).
    pub field_path: String,
    /// When positive, the value is inserted as a path part at this 1-based
    /// position of the field's current value instead of replacing it.
    pub file_path_position: i64,
}

/// A builtin transformer config (or an external one), as kustomize's plugin
/// structs hold them.
#[derive(Clone, Debug)]
pub enum Transformer {
    /// `PatchStrategicMergeTransformer` (`patchesStrategicMerge`).
    PatchStrategicMerge(Vec<SmPatchSource>),
    /// `PatchTransformer` (one `patches` entry).
    Patch(PatchEntry),
    /// `NamespaceTransformer` (`namespace`).
    Namespace {
        /// The namespace.
        namespace: String,
        /// Extra fields to set.
        field_specs: Vec<FieldSpec>,
        /// Only set namespaces that are empty.
        unset_only: bool,
        /// RoleBinding subjects.
        subjects: SubjectMode,
    },
    /// `PrefixTransformer`, `SuffixTransformer` and the legacy
    /// `PrefixSuffixTransformer` (`namePrefix`, `nameSuffix`).
    PrefixSuffix {
        /// The prefix (may be empty).
        prefix: String,
        /// The suffix (may be empty).
        suffix: String,
        /// Which fields take it.
        field_specs: Vec<FieldSpec>,
    },
    /// `LabelTransformer` (one `labels` entry, or `commonLabels`).
    Label {
        /// The labels.
        pairs: Vec<(String, String)>,
        /// Which fields take them.
        field_specs: Vec<FieldSpec>,
    },
    /// `AnnotationsTransformer` (`commonAnnotations`).
    Annotations {
        /// The annotations.
        pairs: Vec<(String, String)>,
        /// Which fields take them.
        field_specs: Vec<FieldSpec>,
    },
    /// `PatchJson6902Transformer` (one `patchesJson6902` entry).
    PatchJson6902(PatchEntry),
    /// `ReplicaCountTransformer` (one `replicas` entry, kept as written).
    ReplicaCount {
        /// A one-element list: the entry.
        replica: Value,
        /// Which fields hold a count.
        field_specs: Vec<FieldSpec>,
    },
    /// `ImageTagTransformer` (one `images` entry, kept as written).
    ImageTag {
        /// A one-element list: the entry.
        image: Value,
        /// Which fields hold an image.
        field_specs: Vec<FieldSpec>,
    },
    /// `ReplacementTransformer` (`replacements`, kept as written).
    Replacement {
        /// The list of replacements (inline or `path:` entries).
        replacements: Value,
        /// Inline entries are decoded strictly (a kustomization field) or
        /// leniently (a plugin config).
        strict: bool,
    },
    /// `HashTransformer`: content-hash suffixes for generated resources now.
    Hash,
    /// `ValueAddTransformer`.
    ValueAdd {
        /// The value (the kustomization directory's name when empty).
        value: String,
        /// Where it goes.
        targets: Vec<ValueAddTarget>,
    },
    /// Anything whose `apiVersion` is not `builtin`: an exec plugin or a KRM
    /// function, run by [`crate::exec`].
    External(Map),
}

/// A builtin generator config (or an external one).
#[derive(Clone, Debug)]
pub enum Generator {
    /// `ConfigMapGenerator` / `SecretGenerator` (one entry of
    /// `configMapGenerator` / `secretGenerator`, or a config).
    KeyValue(Args),
    /// `HelmChartInflationGenerator` (one `helmCharts` entry, or a config).
    HelmChart(Box<(HelmGlobals, HelmChart)>),
    /// `IAMPolicyGenerator`.
    IamPolicy {
        /// `cloud` (only `gke` is known).
        cloud: String,
        /// `kubernetesService.name`.
        service_name: String,
        /// `kubernetesService.namespace`.
        service_namespace: String,
        /// `serviceAccount.name`.
        account: String,
        /// `serviceAccount.projectId`.
        project: String,
    },
    /// An exec plugin or a KRM function, run by [`crate::exec`].
    External(Map),
}

impl Transformer {
    /// The builtin kind kustomize names this transformer by (in origins and
    /// messages).
    pub fn kind(&self) -> &'static str {
        match self {
            Transformer::PatchStrategicMerge(_) => "PatchStrategicMergeTransformer",
            Transformer::Patch(_) => "PatchTransformer",
            Transformer::Namespace { .. } => "NamespaceTransformer",
            Transformer::PrefixSuffix { suffix, .. } if suffix.is_empty() => "PrefixTransformer",
            Transformer::PrefixSuffix { prefix, .. } if prefix.is_empty() => "SuffixTransformer",
            Transformer::PrefixSuffix { .. } => "PrefixSuffixTransformer",
            Transformer::Label { .. } => "LabelTransformer",
            Transformer::Annotations { .. } => "AnnotationsTransformer",
            Transformer::PatchJson6902(_) => "PatchJson6902Transformer",
            Transformer::ReplicaCount { .. } => "ReplicaCountTransformer",
            Transformer::ImageTag { .. } => "ImageTagTransformer",
            Transformer::Replacement { .. } => "ReplacementTransformer",
            Transformer::Hash => "HashTransformer",
            Transformer::ValueAdd { .. } => "ValueAddTransformer",
            Transformer::External(_) => "external",
        }
    }
}
