//! Building from memory: the kustomization and its files live in a `MemoryFs`
//! (as a GitOps controller holds fetched sources), not on disk. The load
//! restrictor and limits are the same as on disk.
//!
//! Run with `cargo run -p rustomize --example in_memory`.

use std::process::ExitCode;

use rustomize::{Kustomizer, MemoryFs};

fn main() -> ExitCode {
    let fs = MemoryFs::new();
    fs.add_file(
        "/repo/base/kustomization.yaml",
        "resources:\n- deployment.yaml\nconfigMapGenerator:\n- name: settings\n  literals:\n  - MODE=base\n",
    );
    fs.add_file(
        "/repo/base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        envFrom:\n        - configMapRef:\n            name: settings\n",
    );
    fs.add_file(
        "/repo/prod/kustomization.yaml",
        "resources:\n- base-link\nnamespace: prod\nnamePrefix: prod-\nimages:\n- name: nginx\n  newTag: \"1.27.1\"\n",
    );
    // Symlinks resolve as on disk: a base may live anywhere, while each
    // kustomization's files are held to its own root by the load restrictor.
    fs.add_symlink("/repo/prod/base-link", "../base");

    let kustomizer = Kustomizer::new().file_system(fs);
    match kustomizer.build("/repo/prod") {
        Ok(build) => {
            for resource in build.resources() {
                eprintln!("{} (from {})", resource.id(), resource.origin().display());
            }
            if let Err(e) = build.write_to(std::io::stdout().lock()) {
                eprintln!("Error: stdout: {e}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {}", e.full_message());
            ExitCode::FAILURE
        }
    }
}
