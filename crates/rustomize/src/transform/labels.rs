//! `labels` and `commonLabels`: add labels to metadata and, depending on the
//! options, to selectors and pod templates.
//!
//! Each `labels` entry picks its field specs: with `includeSelectors`, the whole
//! commonLabels table (selectors and templates); otherwise `metadata/labels`, plus
//! the template table with `includeTemplates`, plus the entry's own `fields`.
//! `commonLabels` always uses the commonLabels table. Entries run before
//! `commonLabels`, as in kustomize.

use crate::fieldspec::{merge_into, FieldSpec};
use crate::tables::field_specs::FieldSpecTables;
use crate::load::kustomization::Kustomization;
use crate::resource::Resource;

/// Applies the kustomization's `labels` entries, then its `commonLabels`.
pub fn apply(
    resources: &mut [Resource],
    k: &Kustomization,
    tables: &FieldSpecTables,
) -> Result<(), String> {
    for entry in &k.labels {
        let mut specs: Vec<FieldSpec> = Vec::new();
        merge_into(&mut specs, &entry.fields);
        merge_into(&mut specs, &tables.labels);
        if entry.include_selectors {
            merge_into(&mut specs, &tables.common_labels);
        } else {
            if entry.include_templates {
                merge_into(&mut specs, &tables.template_labels);
            }
            merge_into(
                &mut specs,
                &[FieldSpec::new("", "", "", "metadata/labels", true)],
            );
        }
        super::set_pairs(resources, &entry.pairs, &specs)?;
    }
    super::set_pairs(resources, &k.common_labels, &tables.common_labels)
}
