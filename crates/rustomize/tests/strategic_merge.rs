//! Strategic merge patches against kustomize's recorded output.
//!
//! Each directory under `tests/smp-cases/` holds `resource.yaml`, `patch.yaml`
//! and either `expected.yaml` (what `kubectl kustomize` printed for
//! `resources: [resource.yaml]` + `patches: [{path: patch.yaml}]`) or
//! `expected-error.txt` (it failed). Both are recorded by
//! `scripts/record-smp-cases.sh`, never written by hand.

use std::fs;
use std::path::Path;

use rustomize::schema::MergeSchema;
use rustomize::transform::strategic_merge::{apply, Outcome};
use rustomize::{parse_documents, write_documents, Gvk, ParseLimits, Value};

fn run_case(dir: &Path) -> Result<(), String> {
    let read = |f: &str| fs::read_to_string(dir.join(f)).map_err(|e| format!("{f}: {e}"));
    let limits = ParseLimits::default();
    let resources = parse_documents(&read("resource.yaml")?, &limits).map_err(|e| e.to_string())?;
    let patches = parse_documents(&read("patch.yaml")?, &limits).map_err(|e| e.to_string())?;
    let (Some(Value::Map(patch)), 1) = (patches.first(), patches.len()) else {
        return Err("patch.yaml must hold one mapping".to_owned());
    };
    let schema = MergeSchema::builtin();
    let mut out = Vec::new();
    let mut error = None;
    for resource in resources {
        let Value::Map(mut target) = resource else {
            return Err("resource is not a mapping".to_owned());
        };
        let field =
            |m: &rustomize::Map, k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let gvk = Gvk::from_api_version(&field(&target, "apiVersion"), &field(&target, "kind"));
        let name = |m: &rustomize::Map| {
            m.get("metadata")
                .and_then(|md| md.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        if name(&target) != name(patch) || field(&target, "kind") != field(patch, "kind") {
            out.push(Value::Map(target));
            continue;
        }
        match apply(&mut target, patch, &gvk, schema) {
            Ok(Outcome::Merged) => out.push(Value::Map(target)),
            Ok(Outcome::Deleted) => {}
            Err(e) => error = Some(e),
        }
    }
    let expected_error = dir.join("expected-error.txt");
    if expected_error.exists() {
        return match error {
            Some(_) => Ok(()),
            None => Err("kustomize failed, but the patch applied".to_owned()),
        };
    }
    if let Some(e) = error {
        return Err(format!("apply failed: {e}"));
    }
    let got = write_documents(&out);
    let want = read("expected.yaml")?;
    if got != want {
        return Err(format!("--- want\n{want}--- got\n{got}"));
    }
    Ok(())
}

#[test]
fn smp_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smp-cases");
    let mut dirs: Vec<_> = fs::read_dir(&root)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    let mut failures = Vec::new();
    for dir in &dirs {
        if let Err(e) = run_case(dir) {
            failures.push(format!("{}:\n{e}", dir.display()));
        }
    }
    assert!(dirs.len() >= 35, "only {} cases", dirs.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}
