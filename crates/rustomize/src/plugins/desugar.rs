//! A kustomization's fields as the ordered list of builtin plugin configs
//! kustomize configures from them (its `configureBuiltinGenerators` and
//! `configureBuiltinTransformers`), each taking its field specs from the
//! kustomization's tables.
//!
//! Generators: one `ConfigMapGenerator` per `configMapGenerator` entry, one
//! `SecretGenerator` per `secretGenerator` entry (each with `generatorOptions`
//! merged in), one `HelmChartInflationGenerator` per chart.
//!
//! Transformers, in this order: `patchesStrategicMerge` (one for the field),
//! `patches` (one per entry), `namespace`, `namePrefix`, `nameSuffix`, one
//! `LabelTransformer` per `labels` entry then one for `commonLabels` (present,
//! even empty, whenever either field is), `commonAnnotations`,
//! `patchesJson6902` (one per entry), `replicas` and `images` (one per entry),
//! `replacements` (one for the field).

use rustomize_yaml::Value;

use super::{Configured, Generator, SmPatchSource, SubjectMode, Transformer};
use crate::buildmeta::Origin;
use crate::fieldspec::{merge_into, FieldSpec};
use crate::load::kustomization::Kustomization;
use crate::tables::field_specs::FieldSpecTables;

/// The generators a kustomization's fields configure, in kustomize's order.
///
/// `configured_in`: with `buildMetadata` tracking on, the kustomization file as
/// origins name it. Errors: a generator entry that does not decode (the message
/// names the field).
pub fn generators(
    k: &Kustomization,
    configured_in: Option<&Origin>,
) -> Result<Vec<Configured<Generator>>, String> {
    let origin = |kind: &str| configured_in.map(|file| Origin::builtin(file, kind));
    let mut out = Vec::new();
    let entries = crate::generate::args::parse(
        &k.config_map_generator,
        &k.secret_generator,
        &k.generator_options,
    )?;
    for args in entries {
        let kind = match args.kind {
            crate::generate::args::Kind::ConfigMap => "ConfigMapGenerator",
            crate::generate::args::Kind::Secret => "SecretGenerator",
        };
        out.push(Configured {
            config: Generator::KeyValue(args),
            file: k.path.clone(),
            origin: origin(kind),
        });
    }
    for chart in &k.helm_charts {
        out.push(Configured {
            config: Generator::HelmChart(Box::new((k.helm_globals.clone(), chart.clone()))),
            file: k.path.clone(),
            origin: origin("HelmChartInflationGenerator"),
        });
    }
    Ok(out)
}

/// The transformers a kustomization's fields configure, in kustomize's order.
pub fn transformers(
    k: &Kustomization,
    tables: &FieldSpecTables,
    configured_in: Option<&Origin>,
) -> Vec<Configured<Transformer>> {
    let mut out = Vec::new();
    let mut push = |config: Transformer| {
        let origin = configured_in.map(|file| Origin::builtin(file, config.kind()));
        out.push(Configured {
            config,
            file: k.path.clone(),
            origin,
        });
    };
    if !k.patches_strategic_merge.is_empty() {
        push(Transformer::PatchStrategicMerge(
            k.patches_strategic_merge
                .iter()
                .cloned()
                .map(SmPatchSource::Guess)
                .collect(),
        ));
    }
    for entry in &k.patches {
        push(Transformer::Patch(entry.clone()));
    }
    if !k.namespace.is_empty() {
        push(Transformer::Namespace {
            namespace: k.namespace.clone(),
            field_specs: tables.namespace.clone(),
            unset_only: false,
            subjects: SubjectMode::DefaultOnly,
        });
    }
    if !k.name_prefix.is_empty() {
        push(Transformer::PrefixSuffix {
            prefix: k.name_prefix.clone(),
            suffix: String::new(),
            field_specs: tables.name_prefix.clone(),
        });
    }
    if !k.name_suffix.is_empty() {
        push(Transformer::PrefixSuffix {
            prefix: String::new(),
            suffix: k.name_suffix.clone(),
            field_specs: tables.name_suffix.clone(),
        });
    }
    if !k.labels.is_empty() || !k.common_labels.is_empty() {
        // Each `labels` entry picks its field specs: with `includeSelectors`
        // the whole commonLabels table; otherwise `metadata/labels`, plus the
        // template table with `includeTemplates`; its own `fields` first.
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
            push(Transformer::Label {
                pairs: entry.pairs.clone(),
                field_specs: specs,
            });
        }
        push(Transformer::Label {
            pairs: k.common_labels.clone(),
            field_specs: tables.common_labels.clone(),
        });
    }
    if !k.common_annotations.is_empty() {
        push(Transformer::Annotations {
            pairs: k.common_annotations.clone(),
            field_specs: tables.common_annotations.clone(),
        });
    }
    for entry in &k.patches_json6902 {
        push(Transformer::PatchJson6902(entry.clone()));
    }
    for (value, make) in [
        (
            &k.replicas,
            replica as fn(Value, &FieldSpecTables) -> Transformer,
        ),
        (&k.images, image),
    ] {
        match value {
            Value::Seq(items) => {
                for item in items {
                    push(make(Value::Seq(vec![item.clone()]), tables));
                }
            }
            // Not a list: the engine rejects it with kustomize's message.
            Value::Null | Value::Empty => {}
            other => push(make(other.clone(), tables)),
        }
    }
    if !matches!(k.replacements, Value::Null | Value::Empty)
        && !matches!(&k.replacements, Value::Seq(items) if items.is_empty())
    {
        push(Transformer::Replacement {
            replacements: k.replacements.clone(),
            strict: true,
        });
    }
    out
}

fn replica(replica: Value, tables: &FieldSpecTables) -> Transformer {
    Transformer::ReplicaCount {
        replica,
        field_specs: tables.replicas.clone(),
    }
}

fn image(image: Value, tables: &FieldSpecTables) -> Transformer {
    Transformer::ImageTag {
        image,
        field_specs: tables.images.clone(),
    }
}
