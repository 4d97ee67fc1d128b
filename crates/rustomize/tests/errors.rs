//! Our own error messages (no oracle exists for their wording): one snapshot per
//! bad-input case, with the fixture path replaced so snapshots do not depend on
//! where the repository lives. Review changes with `cargo insta review`.

use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn error_of(case: &str, options: &rustomize::BuildOptions) -> String {
    let root = fixtures().join(case);
    let dir = match std::fs::read_to_string(root.join("RUN")) {
        Ok(run) => root.join("input").join(run.trim()),
        Err(_) => root.join("input"),
    };
    match rustomize::build(&dir, options) {
        Ok(_) => format!("{case}: unexpectedly succeeded"),
        Err(e) => {
            let canonical = root.canonicalize().unwrap_or(root);
            e.full_message()
                .replace(&canonical.display().to_string(), "$CASE")
        }
    }
}

macro_rules! error_snapshot {
    ($name:ident, $case:literal) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(error_of($case, &Default::default()));
        }
    };
}

error_snapshot!(malformed_yaml, "error-malformed-resource");
error_snapshot!(malformed_kustomization, "error-malformed-kustomization");
error_snapshot!(document_is_list, "error-document-is-list");
error_snapshot!(document_is_scalar, "error-document-is-scalar");
error_snapshot!(unknown_field, "error-unknown-field");
error_snapshot!(field_type, "error-kustomization-field-type");
error_snapshot!(missing_file, "error-missing-resource-file");
error_snapshot!(missing_directory, "error-missing-directory");
error_snapshot!(missing_kind, "error-missing-kind");
error_snapshot!(missing_name, "error-missing-name");
error_snapshot!(path_escape, "error-path-escape");
error_snapshot!(symlink_outside, "error-symlink-outside");
error_snapshot!(cycle, "error-cycle");
error_snapshot!(duplicate_id, "error-duplicate-id");
error_snapshot!(empty_directory, "error-empty-directory");
error_snapshot!(remote_url, "error-remote-url");
error_snapshot!(component_in_resources, "error-component-in-resources");
error_snapshot!(
    kustomization_as_component,
    "error-kustomization-as-component"
);
error_snapshot!(non_string_key, "error-resource-non-string-key");
error_snapshot!(infinity, "error-resource-infinity");
error_snapshot!(nel_in_key, "error-resource-nel-key");
error_snapshot!(
    multiple_kustomizations,
    "error-multiple-kustomization-files"
);
error_snapshot!(empty_kustomization, "error-empty-kustomization-file");
// A file a field names that cannot be loaded: the kustomization, the field
// and the entry as written, then the loader's cause.
error_snapshot!(
    component_dotdot_after_symlink,
    "error-component-dotdot-after-symlink"
);
error_snapshot!(resource_empty_entry, "error-resource-empty-entry");
error_snapshot!(
    generator_env_dotdot_after_symlink,
    "error-generator-env-dotdot-after-symlink"
);
error_snapshot!(crds_dotdot_after_symlink, "error-crds-dotdot-after-symlink");
