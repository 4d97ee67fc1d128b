//! The legacy sort when two different kinds print the same sort text: an
//! `apiVersion` with a literal `~G` group ties `~G/v1 Foo` with `v1 Foo`.
//! kustomize's comparison then says neither resource comes first, and
//! "comes first" stops being transitive. The standard library's sort may
//! panic on such a comparison (rustomize did, on 40 resources); the build
//! must succeed, the same way at every thread count. (The byte-for-byte
//! output of the short case is the fixture `sort-kinds-tied-by-sort-text`.)

use rustomize::{Kustomizer, MemoryFs};

fn tree(n: usize) -> MemoryFs {
    let fs = MemoryFs::new();
    let mut docs = String::new();
    for i in 0..n {
        let version = if i % 3 == 0 { "v1" } else { "\"~G/v1\"" };
        docs.push_str(&format!(
            "---\napiVersion: {version}\nkind: Foo\nmetadata:\n  name: n{:02}\n",
            (i * 7) % n
        ));
    }
    fs.add_file("/app/r.yaml", docs);
    fs.add_file("/app/kustomization.yaml", "resources:\n- r.yaml\n");
    fs
}

#[test]
fn tied_kinds_sort_without_panicking() {
    for n in [3, 12, 13, 40, 400] {
        let fs = tree(n);
        let mut outputs = Vec::new();
        for threads in [1, 2, 3] {
            let build = Kustomizer::new()
                .file_system(fs.clone())
                .threads(threads)
                .build("/app")
                .unwrap_or_else(|e| panic!("{n} resources: {e}"));
            assert_eq!(build.resources().len(), n);
            outputs.push(build.to_yaml());
        }
        assert!(outputs.windows(2).all(|w| w[0] == w[1]), "{n} resources");
    }
}
