//! The writer: [`Value`] → YAML text, byte-identical to kustomize's output.

use crate::Value;

/// Appends one document to `out`, exactly as kustomize prints a resource.
pub fn write_document(value: &Value, out: &mut String) {
    let _ = (value, out);
    todo!()
}

/// Writes documents joined by `---` lines, exactly as `kustomize build` prints them.
pub fn write_documents<'a>(docs: impl IntoIterator<Item = &'a Value>) -> String {
    let mut out = String::new();
    for (i, doc) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        write_document(doc, &mut out);
    }
    out
}
