//! Remote bases and files, end to end, with no network: each test makes bare
//! git repositories in a scratch directory (reached by `file://` URLs, or over
//! dumb HTTP) and serves plain files from a loopback HTTP server it starts.
//!
//! The expected output of each successful case is `kubectl kustomize` run on
//! the same tree during the test (the repositories' paths differ on every
//! run, so nothing can be recorded ahead); without kubectl that comparison is
//! skipped (and says so) while the rest of each test still runs.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use support::{git, write};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn config_map(name: &str, v: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: \"{v}\"\n")
}

/// A scratch world: two bare repositories, a directory served over HTTP, a
/// cache, and a place for overlays.
struct World {
    dir: tempfile::TempDir,
    /// `file://` URL of the `app` repository.
    app: String,
    /// Commit of tag `v1` in `app`.
    v1: String,
    /// Base URL of the HTTP server (`http://127.0.0.1:PORT`), serving
    /// `www/` and the bare repositories (dumb HTTP).
    http: String,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let www = root.join("www");
        // The inner repository, included by the app's `nested` base.
        let inner = root.join("src-inner");
        std::fs::create_dir_all(&inner).unwrap();
        git(&inner, &["init", "-q", "-b", "main"]);
        write(
            &inner.join("svc/kustomization.yaml"),
            "resources:\n- svc.yaml\n",
        );
        write(
            &inner.join("svc/svc.yaml"),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: inner\nspec:\n  ports:\n  - port: 80\n",
        );
        git(&inner, &["add", "-A"]);
        git(&inner, &["commit", "-qm", "inner"]);
        git(&inner, &["tag", "v9"]);
        git(
            &root,
            &["clone", "-q", "--bare", "src-inner", "www/inner.git"],
        );
        let inner_url = format!("file://{}", www.join("inner.git").display());

        let app = root.join("src-app");
        std::fs::create_dir_all(&app).unwrap();
        git(&app, &["init", "-q", "-b", "main"]);
        write(
            &app.join("base/kustomization.yaml"),
            "resources:\n- cm.yaml\n",
        );
        write(&app.join("base/cm.yaml"), &config_map("base-cm", "1"));
        write(
            &app.join("deploy/kustomization.yaml"),
            "namePrefix: dep-\nresources:\n- ../base\n",
        );
        write(
            &app.join("comp/kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels:\n- pairs:\n    comp: \"yes\"\n",
        );
        write(
            &app.join("nested/kustomization.yaml"),
            &format!("namePrefix: nested-\nresources:\n- {inner_url}//svc?ref=v9\n- ../base\n"),
        );
        write(
            &app.join("fileup/kustomization.yaml"),
            "resources:\n- ../base/cm.yaml\n",
        );
        write(&app.join("kustomization.yaml"), "resources:\n- base\n");
        git(&app, &["add", "-A"]);
        git(&app, &["commit", "-qm", "one"]);
        git(&app, &["tag", "v1"]);
        git(&app, &["tag", "-a", "v1-annotated", "-m", "annotated"]);
        let v1 = git(&app, &["rev-parse", "HEAD"]);
        write(&app.join("base/cm.yaml"), &config_map("base-cm", "2"));
        git(&app, &["commit", "-qam", "two"]);
        git(&app, &["checkout", "-qb", "feature"]);
        write(&app.join("base/cm.yaml"), &config_map("base-cm", "3"));
        git(&app, &["commit", "-qam", "three"]);
        git(&app, &["checkout", "-q", "main"]);
        git(&root, &["clone", "-q", "--bare", "src-app", "www/app.git"]);
        git(&www.join("app.git"), &["update-server-info"]);

        write(&www.join("a.txt"), "hello\n");
        write(&www.join("e.env"), "K=V\nX=1\n");
        write(
            &www.join("svc.yaml"),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: served\n",
        );
        write(&www.join("schema.json"), "{\"definitions\": {}}\n");
        let http = serve(www);
        World {
            app: format!("file://{}", root.join("www/app.git").display()),
            dir,
            v1,
            http,
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    fn cache(&self) -> PathBuf {
        self.root().join("cache")
    }

    /// Writes an overlay whose kustomization is `text` with `{APP}`, `{V1}`
    /// and `{HTTP}` filled in; returns its directory.
    fn overlay(&self, name: &str, text: &str) -> PathBuf {
        let dir = self.root().join("overlays").join(name);
        let text = text
            .replace("{APP}", &self.app)
            .replace("{V1}", &self.v1)
            .replace("{HTTP}", &self.http);
        write(&dir.join("kustomization.yaml"), &text);
        dir
    }

    fn rustomize(&self, args: &[&str]) -> Output {
        let cache = self.cache();
        Command::new(env!("CARGO_BIN_EXE_rustomize"))
            .arg("build")
            .args(args)
            .arg("--cache-dir")
            .arg(&cache)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap()
    }
}

/// Serves `root` over HTTP/1.0 on a loopback port, one connection at a time,
/// for at most 500 requests (the thread then ends; the test process ends it
/// sooner). `GET /path` answers the file or 404.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(500) {
            let Ok(stream) = stream else { continue };
            let _ = answer(&root, stream);
        }
    });
    address
}

fn answer(root: &Path, mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or("");
    let file = root.join(path.trim_start_matches('/'));
    let safe = !path.contains("..");
    match std::fs::read(&file) {
        Ok(body) if safe && file.is_file() => {
            write!(
                stream,
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)?;
        }
        _ => {
            stream.write_all(
                b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
        }
    }
    stream.flush()
}

/// A loopback port that accepts connections and never answers (for timeouts).
/// It holds at most 20 connections and stops after 60 seconds.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            held.push(stream);
        }
    });
    address
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Builds `dir` with rustomize (must succeed) and, where kubectl runs, checks
/// the bytes are kubectl kustomize's.
fn same_as_kubectl(world: &World, dir: &Path) -> String {
    let ours = world.rustomize(&[dir.to_str().unwrap()]);
    assert!(
        ours.status.success(),
        "rustomize failed on {}: {}",
        dir.display(),
        stderr(&ours)
    );
    if let Some(mut kubectl) = support::kubectl_kustomize(dir, &[]) {
        let theirs = kubectl.output().unwrap();
        assert!(
            theirs.status.success(),
            "kubectl failed: {}",
            stderr(&theirs).chars().take(1500).collect::<String>()
        );
        assert_eq!(stdout(&ours), stdout(&theirs), "{}", dir.display());
    }
    stdout(&ours)
}

/// Builds `dir` with rustomize, which must fail with one line containing
/// `phrase`; where kubectl runs, it must fail too.
fn fails_like_kubectl(world: &World, dir: &Path, extra: &[&str], phrase: &str) -> String {
    let mut args = vec![dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let ours = world.rustomize(&args);
    let err = stderr(&ours);
    assert_eq!(ours.status.code(), Some(1), "{err}");
    assert!(ours.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(phrase), "{phrase:?} not in {err}");
    let kubectl = extra
        .is_empty()
        .then(|| support::kubectl_kustomize(dir, &[]))
        .flatten();
    if let Some(mut kubectl) = kubectl {
        let theirs = kubectl.output().unwrap();
        assert!(
            !theirs.status.success(),
            "kubectl succeeded on {}",
            dir.display()
        );
    }
    err
}

#[test]
fn tag_branch_commit_and_head() {
    let w = World::new();
    for (name, text, expect) in [
        ("head", "resources:\n- {APP}\n", "v: \"2\""),
        ("tag", "resources:\n- {APP}//base?ref=v1\n", "v: \"1\""),
        (
            "annotated-tag",
            "resources:\n- {APP}?ref=v1-annotated\n",
            "v: \"1\"",
        ),
        (
            "branch",
            "resources:\n- {APP}//base?version=feature\n",
            "v: \"3\"",
        ),
        ("commit", "resources:\n- {APP}//base?ref={V1}\n", "v: \"1\""),
        (
            "git-prefix",
            "resources:\n- git::{APP}//base?ref=v1&timeout=30s&submodules=false\n",
            "v: \"1\"",
        ),
    ] {
        let dir = w.overlay(name, text);
        let out = same_as_kubectl(&w, &dir);
        assert!(out.contains(expect), "{name}: {out}");
    }
}

#[test]
fn subdir_with_parent_base_component_and_nested_remote() {
    let w = World::new();
    // `deploy` includes `../base`: a relative base inside the checkout.
    let dir = w.overlay("subdir", "resources:\n- {APP}//deploy?ref=v1\n");
    assert!(same_as_kubectl(&w, &dir).contains("name: dep-base-cm"));
    let dir = w.overlay(
        "component",
        "resources:\n- {APP}//base?ref=v1\ncomponents:\n- {APP}//comp?ref=v1\n",
    );
    assert!(same_as_kubectl(&w, &dir).contains("comp: \"yes\""));
    // A remote base whose kustomization names another remote.
    let dir = w.overlay("nested", "resources:\n- {APP}//nested?ref=v1\n");
    let out = same_as_kubectl(&w, &dir);
    assert!(out.contains("name: nested-inner"), "{out}");
    // The build argument itself a remote reference.
    let out = w.rustomize(&[&format!("{}//deploy?ref=v1", w.app)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("name: dep-base-cm"));
}

#[test]
fn generator_files_resources_and_openapi_over_http() {
    let w = World::new();
    let dir = w.overlay(
        "http",
        "resources:\n- {HTTP}/svc.yaml\nopenapi:\n  path: {HTTP}/schema.json\nconfigMapGenerator:\n- name: g\n  files:\n  - {HTTP}/a.txt\n  - k2={HTTP}/a.txt\n  envs:\n  - {HTTP}/e.env\n",
    );
    let out = same_as_kubectl(&w, &dir);
    assert!(
        out.contains("a.txt: |") && out.contains("name: served"),
        "{out}"
    );
    // Offline, the same build reads every file from the cache.
    let out = w.rustomize(&[dir.to_str().unwrap(), "--offline"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = w.overlay("http-404", "resources:\n- {HTTP}/missing.yaml\n");
    fails_like_kubectl(&w, &dir, &[], "HTTP Error: status code 404 (Not Found)");
}

#[test]
fn git_over_dumb_http() {
    // kustomize's shallow fetch fails on dumb HTTP; rustomize fetches whole.
    let w = World::new();
    let dir = w.overlay("dumb", "resources:\n- {HTTP}/app.git//deploy?ref=v1\n");
    let out = w.rustomize(&[dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("name: dep-base-cm"));
}

#[test]
fn remote_roots_are_load_restricted() {
    let w = World::new();
    let dir = w.overlay("fileup", "resources:\n- {APP}//fileup?ref=v1\n");
    fails_like_kubectl(&w, &dir, &[], "security; file");
    // Lifting the restrictor does not lift it inside a remote.
    fails_like_kubectl(
        &w,
        &dir,
        &["--load-restrictor", "LoadRestrictionsNone"],
        "security; file",
    );
}

#[test]
fn cache_hits_need_no_remote() {
    let w = World::new();
    let by_commit = w.overlay("commit", "resources:\n- {APP}//deploy?ref={V1}\n");
    let by_tag = w.overlay("tag", "resources:\n- {APP}//deploy?ref=v1\n");
    let first = w.rustomize(&[by_commit.to_str().unwrap()]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(w.rustomize(&[by_tag.to_str().unwrap()]).status.success());
    // The repository disappears: a commit ref needs nothing from it, a tag
    // resolves offline from the ref index.
    std::fs::rename(w.root().join("www/app.git"), w.root().join("www/gone.git")).unwrap();
    let again = w.rustomize(&[by_commit.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(again.stdout, first.stdout);
    let offline = w.rustomize(&[by_tag.to_str().unwrap(), "--offline"]);
    assert!(offline.status.success(), "{}", stderr(&offline));
    assert_eq!(offline.stdout, first.stdout);
    // Online, a tag is resolved again, and the repository is gone.
    let online = w.rustomize(&[by_tag.to_str().unwrap()]);
    assert!(
        stderr(&online).contains("unreachable"),
        "{}",
        stderr(&online)
    );
}

#[test]
fn concurrent_builds_share_one_cache() {
    let w = World::new();
    let dir = w.overlay("nested", "resources:\n- {APP}//nested?ref=v1\n");
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_rustomize"))
                .arg("build")
                .arg(&dir)
                .arg("--cache-dir")
                .arg(w.cache())
                .output()
        })
        .collect();
    let outs: Vec<Output> = children.into_iter().map(Result::unwrap).collect();
    for out in &outs {
        assert!(out.status.success(), "{}", stderr(out));
        assert_eq!(out.stdout, outs[0].stdout);
    }
    assert_eq!(std::fs::read_dir(w.cache().join("tmp")).unwrap().count(), 0);
}

#[test]
fn errors_are_one_clear_line() {
    let w = World::new();
    let dir = w.overlay("unknown-ref", "resources:\n- {APP}//base?ref=nope\n");
    fails_like_kubectl(&w, &dir, &[], "unknown ref 'nope'");
    let dir = w.overlay("missing-subdir", "resources:\n- {APP}//nothere?ref=v1\n");
    fails_like_kubectl(&w, &dir, &[], "directory 'nothere' does not exist");
    let dir = w.overlay(
        "unreachable",
        "resources:\n- file:///nonexistent/repo.git//base\n",
    );
    fails_like_kubectl(&w, &dir, &[], "unreachable");
    let dir = w.overlay("offline-miss", "resources:\n- {APP}//base?ref=feature\n");
    fails_like_kubectl(&w, &dir, &["--offline"], "--offline forbids fetching it");
    fails_like_kubectl(
        &w,
        &dir,
        &["--allow-host", "github.com"],
        "host 'file' is not allowed",
    );
    assert!(w
        .rustomize(&[dir.to_str().unwrap(), "--allow-host", "file"])
        .status
        .success());
    let dir = w.overlay(
        "credentials",
        "resources:\n- https://user:s3cret@127.0.0.1:1/org/repo//base\n",
    );
    let err = fails_like_kubectl(&w, &dir, &["--remote-timeout", "5"], "unreachable");
    assert!(!err.contains("s3cret"), "{err}");
    for entry in std::fs::read_dir(w.cache().join("refs")).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(!name.to_string_lossy().contains("s3cret"));
    }
}

#[test]
fn silent_hosts_time_out() {
    let w = World::new();
    let silent = silent_server();
    let dir = w.overlay("silent-file", &format!("resources:\n- {silent}/svc.yaml\n"));
    fails_like_kubectl(
        &w,
        &dir,
        &["--remote-timeout", "1"],
        "did not finish within 1s",
    );
    let dir = w.overlay(
        "silent-git",
        &format!("resources:\n- {silent}/org/repo.git//base?timeout=1\n"),
    );
    let start = std::time::Instant::now();
    fails_like_kubectl(
        &w,
        &dir,
        &["--remote-timeout", "1"],
        "did not finish within 1s",
    );
    // Bounded, not measured: the two deadlines, with room for a slow machine.
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn build_all_fetches_each_remote_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let w = World::new();
    // A server that counts the requests it answers.
    let www = w.root().join("www");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let http = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100) {
            let Ok(stream) = stream else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            let _ = answer(&www, stream);
        }
    });
    let tree = w.root().join("tree");
    for (name, prefix) in [("a", "a-"), ("b", "b-"), ("c", "c-")] {
        write(
            &tree.join(name).join("kustomization.yaml"),
            &format!(
                "namePrefix: {prefix}\nresources:\n- {http}/svc.yaml\n- {http}/missing.yaml\n"
            ),
        );
    }
    let out_dir = w.root().join("out");
    let out = w.rustomize(&[
        "--all",
        tree.to_str().unwrap(),
        "-o",
        out_dir.to_str().unwrap(),
        "--keep-going",
    ]);
    // Every root fails on the missing file, with the same line.
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.matches("status code 404").count(), 3, "{err}");
    // Each URL was asked for once in the run (the 404 included).
    assert_eq!(requests.load(Ordering::SeqCst), 2, "{err}");
    for name in ["a", "b", "c"] {
        write(
            &tree.join(name).join("kustomization.yaml"),
            &format!("namePrefix: {name}-\nresources:\n- {http}/svc.yaml\n"),
        );
    }
    let out = w.rustomize(&[
        "--all",
        tree.to_str().unwrap(),
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(requests.load(Ordering::SeqCst), 3);
    for name in ["a", "b", "c"] {
        let one = w.rustomize(&[tree.join(name).to_str().unwrap()]);
        assert!(one.status.success(), "{}", stderr(&one));
        let all = std::fs::read(out_dir.join(format!("{name}.yaml"))).unwrap();
        assert_eq!(all, one.stdout, "{name}");
        assert!(stdout(&one).contains(&format!("name: {name}-served")));
    }
}
