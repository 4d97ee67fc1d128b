//! `rustomize localize` and `--mirror`, end to end, with no network: bare git
//! repositories in a scratch directory reached by `file://` URLs.
//!
//! The acceptance case: a tree with two levels of remote bases (a repository
//! whose kustomization names another repository by `file://` URL with
//! `?ref=`) is localized; the repositories are then moved away, and both
//! `kubectl kustomize DEST` (when kubectl runs here; the test says "skipped"
//! otherwise) and `rustomize build DEST` with an empty cache must print what
//! the original printed online.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use support::{git, write};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: \"1\"\n")
}

/// Commits `files` into a new repository `src-NAME`, tags it `tag`, and makes
/// the bare `repos/NAME.git`; returns its `file://` URL.
fn repo(root: &Path, name: &str, tag: &str, files: &[(&str, String)]) -> String {
    let src = root.join(format!("src-{name}"));
    std::fs::create_dir_all(&src).unwrap();
    git(&src, &["init", "-q", "-b", "main"]);
    for (path, text) in files {
        write(&src.join(path), text);
    }
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-qm", "one"]);
    git(&src, &["tag", tag]);
    let bare = format!("repos/{name}.git");
    git(
        root,
        &["clone", "-q", "--bare", &format!("src-{name}"), &bare],
    );
    format!("file://{}", root.join(bare).display())
}

/// A scratch directory with two repositories: `inner` (tag v9: a Service
/// under `svc/`) and `app` (tag v1: `base/`, and `deploy/` naming `../base`
/// and `inner` by URL).
struct World {
    dir: tempfile::TempDir,
    app: String,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let inner = repo(
            &root,
            "inner",
            "v9",
            &[
                ("svc/kustomization.yaml", "resources:\n- svc.yaml\n".into()),
                (
                    "svc/svc.yaml",
                    "apiVersion: v1\nkind: Service\nmetadata:\n  name: inner\nspec:\n  ports:\n  - port: 80\n"
                        .into(),
                ),
            ],
        );
        let app = repo(
            &root,
            "app",
            "v1",
            &[
                ("base/kustomization.yaml", "resources:\n- cm.yaml\n".into()),
                ("base/cm.yaml", config_map("base-cm")),
                (
                    "deploy/kustomization.yaml",
                    format!(
                        "namePrefix: dep-\nresources:\n- ../base\n- {inner}//svc?ref=v9\n\
                         configMapGenerator:\n- name: gen\n  files:\n  - conf=app.properties\n"
                    ),
                ),
                ("deploy/app.properties", "a=b\n".into()),
            ],
        );
        World { dir, app }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    /// Runs rustomize with `args` and a cache in the scratch directory.
    fn rustomize(&self, args: &[&str], cache: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rustomize"))
            .args(args)
            .arg("--cache-dir")
            .arg(self.root().join(cache))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "failed: {}", stderr(&out));
    stdout(&out)
}

/// `kubectl kustomize dir`, or None (with "skipped" printed) without kubectl.
fn kubectl(dir: &Path) -> Option<String> {
    let out = support::kubectl_kustomize(dir, &[])?.output().unwrap();
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        stderr(&out).chars().take(1500).collect::<String>()
    );
    Some(stdout(&out))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Fails with one line containing `phrase`, exit 1, nothing on stdout.
fn fails(out: &Output, phrase: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(phrase), "{phrase:?} not in {err}");
}

#[test]
fn two_levels_of_remote_bases_build_offline_after_localize() {
    let w = World::new();
    let root = w.root();
    let overlay = root.join("overlay");
    write(
        &overlay.join("kustomization.yaml"),
        &format!(
            "# the overlay\nnamespace: prod # kept\nresources:\n- {}//deploy?ref=v1\n- cm.yaml\n\
             patches:\n- path: patch.yaml\n",
            w.app
        ),
    );
    write(&overlay.join("cm.yaml"), &config_map("local"));
    write(
        &overlay.join("patch.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\ndata:\n  patched: \"yes\"\n",
    );
    let online = ok(w.rustomize(&["build", overlay.to_str().unwrap()], "cache"));
    if let Some(theirs) = kubectl(&overlay) {
        assert_eq!(online, theirs);
    }
    assert!(online.contains("name: dep-inner"), "{online}");

    let dest = root.join("dest");
    ok(w.rustomize(
        &[
            "localize",
            overlay.to_str().unwrap(),
            dest.to_str().unwrap(),
        ],
        "cache",
    ));
    // kustomize's layout: localized-files/<host>/<repo path>/<ref>/<dir>,
    // nested remotes below the kustomization that names them.
    let repo_dir = |name: &str| {
        format!(
            "localized-files/file-schemed{}/{name}",
            root.join("repos").display()
        )
    };
    let app = dest.join(repo_dir("app")).join("v1");
    assert!(app.join("deploy/kustomization.yaml").is_file());
    assert!(app.join("base/cm.yaml").is_file());
    assert!(app
        .join("deploy")
        .join(repo_dir("inner"))
        .join("v9/svc/svc.yaml")
        .is_file());
    let top = std::fs::read_to_string(dest.join("kustomization.yaml")).unwrap();
    assert_eq!(
        top,
        format!(
            "# the overlay\nnamespace: prod # kept\nresources:\n- {}/deploy\n- cm.yaml\n\
             patches:\n- path: patch.yaml\n",
            repo_dir("app") + "/v1"
        )
    );

    // git can no longer reach the repositories, and the cache is empty.
    std::fs::rename(root.join("repos"), root.join("gone")).unwrap();
    let offline = ok(w.rustomize(&["build", dest.to_str().unwrap()], "empty-cache"));
    assert_eq!(offline, online);
    if let Some(theirs) = kubectl(&dest) {
        assert_eq!(theirs, online);
    }
}

#[test]
fn a_local_tree_is_copied_as_is() {
    let w = World::new();
    let root = w.root();
    let scope = root.join("tree");
    write(
        &scope.join("overlay/kustomization.yaml"),
        "resources:\n- ../base\n- ./extra.yaml\nconfigMapGenerator:\n- name: g\n  envs:\n  - vars.env\n",
    );
    write(&scope.join("overlay/extra.yaml"), &config_map("extra"));
    write(&scope.join("overlay/vars.env"), "A=1\n");
    write(
        &scope.join("base/kustomization.yaml"),
        "# base\nresources:\n- cm.yaml\n",
    );
    write(&scope.join("base/cm.yaml"), &config_map("base"));
    write(&scope.join("unused.txt"), "not reached\n");
    let dest = root.join("copy");
    ok(w.rustomize(
        &[
            "localize",
            "--scope",
            scope.to_str().unwrap(),
            scope.join("overlay").to_str().unwrap(),
            dest.to_str().unwrap(),
        ],
        "cache",
    ));
    let mut expected = files(&scope);
    expected.retain(|p| p != Path::new("unused.txt"));
    assert_eq!(files(&dest), expected);
    for f in &expected {
        assert_eq!(
            std::fs::read(dest.join(f)).unwrap(),
            std::fs::read(scope.join(f)).unwrap(),
            "{}",
            f.display()
        );
    }
    let original = ok(w.rustomize(&["build", scope.join("overlay").to_str().unwrap()], "c"));
    let copy = ok(w.rustomize(&["build", dest.join("overlay").to_str().unwrap()], "c"));
    assert_eq!(original, copy);
}

#[test]
fn refusals_are_one_line_and_leave_nothing() {
    let w = World::new();
    let root = w.root();
    let dir = root.join("k");
    write(&dir.join("kustomization.yaml"), "resources:\n- cm.yaml\n");
    write(&dir.join("cm.yaml"), &config_map("a"));

    let full = root.join("full");
    write(&full.join("x"), "x");
    let out = w.rustomize(
        &["localize", dir.to_str().unwrap(), full.to_str().unwrap()],
        "cache",
    );
    fails(&out, "already exists and is not empty");
    assert_eq!(files(&full), vec![PathBuf::from("x")]);

    // An empty DEST is used.
    let empty = root.join("empty");
    std::fs::create_dir(&empty).unwrap();
    ok(w.rustomize(
        &["localize", dir.to_str().unwrap(), empty.to_str().unwrap()],
        "cache",
    ));

    let cases = [
        (
            "resources:\n- ../outside.yaml\n",
            "outside its kustomization root",
        ),
        ("resources:\n- ../base\n", "outside localize scope"),
        ("resources:\n- /etc/hostname\n", "absolute"),
        (
            "resources:\n- {APP}//deploy\n",
            "missing ref query string parameter",
        ),
        (
            "resources:\n- cm.yaml\ntransformers:\n- plugin\n",
            "is a directory",
        ),
    ];
    write(&root.join("outside.yaml"), &config_map("out"));
    write(&root.join("base/kustomization.yaml"), "resources: []\n");
    for (i, (text, phrase)) in cases.iter().enumerate() {
        let dir = root.join(format!("bad{i}"));
        write(
            &dir.join("kustomization.yaml"),
            &text.replace("{APP}", &w.app),
        );
        write(&dir.join("cm.yaml"), &config_map("a"));
        std::fs::create_dir_all(dir.join("plugin")).unwrap();
        let dest = root.join(format!("dest{i}"));
        let out = w.rustomize(
            &["localize", dir.to_str().unwrap(), dest.to_str().unwrap()],
            "cache",
        );
        fails(&out, phrase);
        assert!(!dest.exists(), "{} left behind", dest.display());
    }
}

#[test]
fn mirrors_serve_any_form_of_a_url_and_origins_keep_it() {
    let w = World::new();
    let root = w.root();
    // The mirror: a directory of repositories named as on the forge.
    std::fs::create_dir_all(root.join("mirror/org")).unwrap();
    std::fs::rename(root.join("repos/app.git"), root.join("mirror/org/app.git")).unwrap();
    write(
        &root.join("files/team/cm.yaml"),
        &config_map("mirrored-file"),
    );
    let dir = root.join("overlay");
    write(
        &dir.join("kustomization.yaml"),
        "buildMetadata: [originAnnotations]\nresources:\n\
         - https://github.com/org/app//base?ref=v1\n\
         - git@github.com:org/app.git//base?ref=v1\n\
         - https://raw.example.invalid/team/cm.yaml\n\
         nameSuffix: -x\n",
    );
    // Two forms of one repository: the same resources, so the build fails
    // on the duplicate unless only one is used; keep the first.
    let text = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    write(
        &dir.join("kustomization.yaml"),
        &text.replace("- git@github.com:org/app.git//base?ref=v1\n", ""),
    );
    let mirror = format!("github.com/org={}", root.join("mirror/org").display());
    let files_mirror = format!("raw.example.invalid={}", root.join("files").display());
    let out = ok(w.rustomize(
        &[
            "build",
            dir.to_str().unwrap(),
            "--mirror",
            &mirror,
            "--mirror",
            &files_mirror,
        ],
        "cache",
    ));
    assert!(out.contains("name: base-cm-x"), "{out}");
    assert!(out.contains("name: mirrored-file-x"), "{out}");
    assert!(out.contains("repo: https://github.com/org/app\n"), "{out}");

    // The scp-like form, from a config file with a relative target.
    write(
        &dir.join("kustomization.yaml"),
        "resources:\n- git@github.com:org/app.git//deploy?ref=v1\n",
    );
    write(
        &root.join("mirrors.yaml"),
        "mirrors:\n  https://github.com/org: ./mirror/org\n",
    );
    let out = ok(w.rustomize(
        &[
            "build",
            dir.to_str().unwrap(),
            "--mirror-config",
            root.join("mirrors.yaml").to_str().unwrap(),
        ],
        "cache2",
    ));
    assert!(out.contains("name: dep-inner"), "{out}");

    // Localize through the mirror: the layout names the original URL.
    let dest = root.join("dest");
    ok(w.rustomize(
        &[
            "localize",
            dir.to_str().unwrap(),
            dest.to_str().unwrap(),
            "--mirror",
            &mirror,
        ],
        "cache2",
    ));
    assert!(dest
        .join("localized-files/github.com/org/app/v1/deploy/kustomization.yaml")
        .is_file());
    let copy = ok(w.rustomize(&["build", dest.to_str().unwrap()], "empty"));
    assert_eq!(copy, out);
}
