//! The library's `buildMetadata` settings: the managed-by label's value and the
//! switch standing for kubectl's `--enable-managedby-label` (the outputs of
//! kustomize itself are covered by the recorded fixtures).

use std::path::{Path, PathBuf};

type Outcome<T> = Result<T, Box<dyn std::error::Error>>;

fn tree(name: &str, kustomization: &str) -> Outcome<PathBuf> {
    let dir =
        std::env::temp_dir().join(format!("rustomize-buildmeta-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("kustomization.yaml"), kustomization)?;
    std::fs::write(
        dir.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    )?;
    Ok(dir)
}

fn render(dir: &Path, options: &rustomize::BuildOptions) -> Outcome<String> {
    let out = rustomize::build(dir, options).map(|b| b.to_yaml());
    let _ = std::fs::remove_dir_all(dir);
    Ok(out?)
}

#[test]
fn managed_by_value_is_settable() -> Outcome<()> {
    let dir = tree(
        "value",
        "resources: [cm.yaml]\nbuildMetadata: [managedByLabel]\n",
    )?;
    let options = rustomize::BuildOptions {
        managed_by: "my-tool-v1".to_owned(),
        ..Default::default()
    };
    assert_eq!(
        render(&dir, &options)?,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    \
         app.kubernetes.io/managed-by: my-tool-v1\n  name: c\n"
    );
    Ok(())
}

#[test]
fn default_value_is_kubectls_and_the_switch_adds_the_label() -> Outcome<()> {
    assert_eq!(
        rustomize::BuildOptions::default().managed_by,
        rustomize::DEFAULT_MANAGED_BY
    );
    let dir = tree("switch", "resources: [cm.yaml]\n")?;
    let options = rustomize::BuildOptions {
        managed_by_label: true,
        ..Default::default()
    };
    assert!(render(&dir, &options)?.contains("app.kubernetes.io/managed-by: kustomize-(devel)\n"));
    let dir = tree("off", "resources: [cm.yaml]\n")?;
    assert!(!render(&dir, &Default::default())?.contains("managed-by"));
    Ok(())
}
