//! The output of `rustomize images`: the build's image references as text (one
//! a line), JSON (each with where it is used and whether kustomize's images
//! transformer reaches it) or a `SOURCE DESTINATION` mapping for copy loops.

use rustomize::inventory::{unique_references, ImageUse, Scope};
use rustomize::relocate::{ImageName, Relocation};
use serde_json::{json, Value};

use crate::Format;

/// What to print: stdout's text and stderr's notes.
pub struct Report {
    pub text: String,
    pub notes: Vec<String>,
}

pub fn report(
    uses: &[ImageUse],
    format: Format,
    relocation: Option<&(Relocation, Scope)>,
) -> Report {
    let references = unique_references(uses);
    let mut notes = Vec::new();
    if let Some((_, scope)) = relocation {
        let outside: Vec<&String> = references
            .iter()
            .filter(|r| {
                uses.iter()
                    .any(|u| &u.reference == *r && !scope.covers(u.found))
            })
            .collect();
        if !outside.is_empty() {
            notes.push(format!(
                "note: {} of {} references are used where relocation leaves them (outside kustomize's images transformer's reach); --relocate-scope image-keys or deep rewrites them, --format json shows where",
                outside.len(),
                references.len()
            ));
        }
    }
    let text = match format {
        Format::Text => lines(references.iter().map(String::as_str)),
        Format::Mapping => {
            let mut pairs = Vec::new();
            let mut invalid = 0usize;
            let mut unchanged = 0usize;
            for reference in &references {
                let Some(image) = ImageName::parse(reference) else {
                    invalid += 1;
                    continue;
                };
                let Some(destination) = destination(relocation.map(|(r, _)| r), reference) else {
                    // A copy onto itself would push the image back to its
                    // source: only references that move are listed.
                    unchanged += 1;
                    continue;
                };
                // Sources fully qualified: copy tools then never resolve a short
                // name themselves (podman's enforcing short-name mode refuses to).
                pairs.push(format!("{} {destination}", image.qualified()));
            }
            pairs.sort();
            pairs.dedup();
            if unchanged > 0 {
                notes.push(format!(
                    "note: {unchanged} references stay where they are (no relocation rule moves them) and are left out of the mapping"
                ));
            }
            if invalid > 0 {
                notes.push(format!(
                    "note: {invalid} references that are not valid image references are left out of the mapping (--format json lists them)"
                ));
            }
            lines(pairs.iter().map(String::as_str))
        }
        Format::Json => {
            let entries: Vec<Value> = references
                .iter()
                .map(|reference| json_entry(reference, uses, relocation.map(|(r, _)| r)))
                .collect();
            let mut text = serde_json::to_string_pretty(&entries).unwrap_or_default();
            text.push('\n');
            text
        }
    };
    Report { text, notes }
}

/// Where `relocation` moves `reference`: `None` when it stays (no rule
/// applies, or the destination is the same image, fully qualified).
fn destination(relocation: Option<&Relocation>, reference: &str) -> Option<String> {
    let new = relocation?.relocate(reference)?;
    let same = match (ImageName::parse(reference), ImageName::parse(&new)) {
        (Some(from), Some(to)) => from.qualified() == to.qualified(),
        _ => false,
    };
    (!same).then_some(new)
}

fn lines<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for item in items {
        out.push_str(item);
        out.push('\n');
    }
    out
}

fn json_entry(reference: &str, uses: &[ImageUse], relocation: Option<&Relocation>) -> Value {
    let mut used: Vec<&ImageUse> = uses.iter().filter(|u| u.reference == reference).collect();
    used.sort_by(|a, b| (&a.id, &a.path, a.found).cmp(&(&b.id, &b.path, b.found)));
    used.dedup_by(|a, b| a.id == b.id && a.path == b.path && a.found == b.found);
    let uses: Vec<Value> = used
        .iter()
        .map(|u| {
            let gvk = &u.id.gvk;
            json!({
                "apiVersion": gvk.api_version(),
                "kind": gvk.kind.as_str(),
                "name": u.id.name.as_str(),
                "namespace": u.id.namespace.as_str(),
                "path": u.path,
                "found": u.found.as_str(),
                "reachable": u.found.reachable(),
            })
        })
        .collect();
    let mut entry = json!({
        "reference": reference,
        "valid": ImageName::parse(reference).is_some(),
        "reachable": used.iter().any(|u| u.found.reachable()),
    });
    if let (Some(relocation), Value::Object(map)) = (relocation, &mut entry) {
        // `null` when the reference stays where it is, as the mapping leaves
        // it out.
        map.insert(
            "relocated".into(),
            json!(destination(Some(relocation), reference)),
        );
    }
    if let Value::Object(map) = &mut entry {
        map.insert("uses".into(), Value::Array(uses));
    }
    entry
}
