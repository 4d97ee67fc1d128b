//! Data tables: the facts kustomize's builtin transformers consult, kept apart
//! from the engines that use them.
//!
//! * [`field_specs`]: which fields each transformer touches by default (and the
//!   [`field_specs::FieldSpecTables`] a kustomization extends with
//!   `configurations:` and `crds:`);
//! * `name_references`: which fields of which kinds name an object of another
//!   kind (used by [`crate::nameref`]);
//! * `var_references`: where `$(VAR)` is substituted (used by [`crate::vars`]);
//! * `merge_keys`: the strategic-merge keys and strategies of built-in kinds
//!   (used by [`crate::schema`]);
//! * `cluster_scoped`: which built-in kinds have no namespace.
//!
//! Every table is data only; the walker over field specs is [`crate::fieldspec`].

pub(crate) mod cluster_scoped;
pub mod field_specs;
pub(crate) mod merge_keys;
pub(crate) mod name_references;
pub(crate) mod var_references;
