//! Helm charts end to end: charts pulled from a chart repository the test
//! serves itself on 127.0.0.1 (never the network) and reused by the next build,
//! OCI references handed to `helm pull`, Helm's homes kept in a temporary
//! directory of the build, and our one-line messages (missing binary, helm
//! failing, timeouts, output over the size limit).
//!
//! Tests that need the real Helm find it through `$RUSTOMIZE_HELM` or `helm` on
//! `PATH`, and are skipped with a printed reason only when neither exists.
//! Expected outputs are kubectl's recordings of `fixtures/helm-basic`: a chart
//! pulled from the repository renders exactly as the same chart kept locally.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

mod support;
use support::helm;

fn rustomize() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rustomize"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn build(dir: &Path, helm: &Path, extra: &[&str]) -> Output {
    rustomize()
        .arg("build")
        .arg("--enable-helm")
        .arg("--helm-command")
        .arg(helm)
        .args(extra)
        .arg(dir)
        .output()
        .expect("run rustomize")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A chart repository on 127.0.0.1: serves the files of one directory over
/// HTTP/1.0 and counts the requests; dropping it stops the server.
struct Repo {
    url: String,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl Repo {
    fn serve(dir: PathBuf) -> Repo {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // Skip the headers.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                h.fetch_add(1, Ordering::SeqCst);
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let name = path.trim_start_matches('/');
                let body = (!name.contains("..") && !name.is_empty())
                    .then(|| fs::read(dir.join(name)).ok())
                    .flatten();
                let _ = match body {
                    Some(body) => stream
                        .write_all(
                            format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
                                .as_bytes(),
                        )
                        .and_then(|()| stream.write_all(&body)),
                    None => {
                        stream.write_all(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    }
                };
            }
        });
        Repo {
            url: format!("http://{addr}"),
            hits,
            stop,
            addr,
        }
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and closes the socket.
        let _ = std::net::TcpStream::connect(self.addr);
    }
}

/// Packages fixtures/helm-basic's chart into a repository directory.
fn repository(helm: &Path, dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let chart = fixtures().join("helm-basic/input/charts/web");
    let ok = Command::new(helm)
        .arg("package")
        .arg(&chart)
        .arg("--destination")
        .arg(dir)
        .output()
        .expect("helm package");
    assert!(ok.status.success(), "helm package: {}", stderr(&ok));
}

fn index(helm: &Path, dir: &Path, url: &str) {
    let ok = Command::new(helm)
        .args(["repo", "index"])
        .arg(dir)
        .args(["--url", url])
        .output()
        .expect("helm repo index");
    assert!(ok.status.success(), "helm repo index: {}", stderr(&ok));
}

#[test]
fn repo_chart_is_pulled_then_reused() {
    let Some(helm) = helm() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("repo");
    repository(&helm, &served);
    let repo = Repo::serve(served.clone());
    index(&helm, &served, &repo.url);

    let app = tmp.path().join("app");
    fs::create_dir_all(&app).unwrap();
    fs::write(
        app.join("kustomization.yaml"),
        format!(
            "helmCharts:\n- name: web\n  repo: {}\n  version: 0.1.0\n  releaseName: site\n",
            repo.url
        ),
    )
    .unwrap();
    let want = fs::read(fixtures().join("helm-basic/expected.yaml")).unwrap();

    let first = build(&app, &helm, &[]);
    assert!(first.status.success(), "first build: {}", stderr(&first));
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&want)
    );
    // kustomize's layout: <chartHome>/<name>-<version>/<name>.
    assert!(app.join("charts/web-0.1.0/web/Chart.yaml").is_file());
    let pulled = repo.hits.load(Ordering::SeqCst);
    assert!(pulled >= 2, "index and chart fetched ({pulled} requests)");

    // The second build uses the chart in place: no request, even with the
    // server gone.
    drop(repo);
    let second = build(&app, &helm, &[]);
    assert!(second.status.success(), "second build: {}", stderr(&second));
    assert_eq!(second.stdout, first.stdout);
}

#[test]
fn repo_chart_without_version_lands_in_chart_home() {
    let Some(helm) = helm() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("repo");
    repository(&helm, &served);
    let repo = Repo::serve(served.clone());
    index(&helm, &served, &repo.url);
    let app = tmp.path().join("app");
    fs::create_dir_all(&app).unwrap();
    fs::write(
        app.join("kustomization.yaml"),
        format!(
            "helmGlobals:\n  chartHome: vendor\nhelmCharts:\n- name: web\n  repo: {}\n  releaseName: site\n",
            repo.url
        ),
    )
    .unwrap();
    let out = build(&app, &helm, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(app.join("vendor/web/Chart.yaml").is_file());
    let want = fs::read(fixtures().join("helm-basic/expected.yaml")).unwrap();
    assert_eq!(out.stdout, want);
}

#[test]
fn unreachable_repo_is_one_line_with_helms_message() {
    let Some(helm) = helm() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // A port nothing listens on: bind, note it, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    fs::write(
        tmp.path().join("kustomization.yaml"),
        format!("helmCharts:\n- name: web\n  repo: http://127.0.0.1:{port}\n  version: 0.1.0\n"),
    )
    .unwrap();
    let out = build(tmp.path(), &helm, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("helm chart 'web': helm pull failed"), "{err}");
    assert!(err.contains("connection refused"), "{err}");
}

/// A stand-in for helm: a shell script.
#[cfg(unix)]
fn fake_helm(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-helm");
    fs::write(
        &path,
        format!("#!/bin/sh\nif [ \"$1\" = version ]; then echo v3.17.2; exit 0; fi\n{body}\n"),
    )
    .unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A kustomization with one local chart (its directory need only exist).
fn chart_tree(dir: &Path, chart: &str) {
    fs::create_dir_all(dir.join("charts").join(chart)).unwrap();
    fs::write(dir.join("charts").join(chart).join("values.yaml"), "a: 1\n").unwrap();
    fs::write(
        dir.join("kustomization.yaml"),
        format!("helmCharts:\n- name: {chart}\n  releaseName: r\n"),
    )
    .unwrap();
}

/// Normalises the temporary directory out of a message.
fn normal(text: &str, tmp: &Path) -> String {
    text.replace(&tmp.display().to_string(), "$TMP")
}

#[cfg(unix)]
#[test]
fn helm_homes_are_a_temporary_directory_of_the_build() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    chart_tree(&app, "env");
    let helm = fake_helm(
        tmp.path(),
        "printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: env\\ndata:\\n  config: %s\\n  cache: %s\\n  data: %s\\n' \"$HELM_CONFIG_HOME\" \"$HELM_CACHE_HOME\" \"$HELM_DATA_HOME\"",
    );
    let out = build(&app, &helm, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let config = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("config: "))
        .expect("config home")
        .to_owned();
    assert!(config.contains("rustomize-helm-"), "{config}");
    assert!(text.contains(&format!("cache: {config}/.cache")), "{text}");
    assert!(text.contains(&format!("data: {config}/.data")), "{text}");
    if let Some(home) = std::env::var_os("HOME") {
        assert!(!config.starts_with(&*home.to_string_lossy()) || home.is_empty());
    }
    // The directory is gone once the build is over.
    assert!(!Path::new(&config).exists(), "{config} left behind");
}

#[cfg(unix)]
#[test]
fn oci_references_go_to_helm_pull() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    fs::create_dir_all(&app).unwrap();
    fs::write(
        app.join("kustomization.yaml"),
        "helmCharts:\n- name: web\n  repo: oci://127.0.0.1:1/charts/\n  version: 0.1.0\n",
    )
    .unwrap();
    let log = tmp.path().join("args");
    let helm = fake_helm(
        tmp.path(),
        &format!(
            "echo \"$@\" > {}\necho 'Error: registry unreachable' >&2\nexit 1",
            log.display()
        ),
    );
    let out = build(&app, &helm, &[]);
    assert_eq!(out.status.code(), Some(1));
    let args = fs::read_to_string(&log).unwrap();
    let root = fs::canonicalize(&app).unwrap();
    assert_eq!(
        args.trim(),
        format!(
            "pull --untar --untardir {}/charts/web-0.1.0 --version 0.1.0 -- oci://127.0.0.1:1/charts/web",
            root.display()
        )
    );
    insta::assert_snapshot!("oci_pull_fails", normal(&stderr(&out), tmp.path()));
}

#[cfg(unix)]
#[test]
fn helm_failure_slow_helm_and_large_output_are_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    chart_tree(&app, "demo");

    let failing = fake_helm(
        tmp.path(),
        "echo 'walk.go:75: [debug] noise' >&2\necho 'Error: parse error at (demo/templates/x.yaml:3): unexpected EOF' >&2\nexit 1",
    );
    let out = build(&app, &failing, &[]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("helm_fails", normal(&stderr(&out), tmp.path()));

    let dir = tmp.path().join("slow");
    fs::create_dir_all(&dir).unwrap();
    let slow = fake_helm(&dir, "sleep 30");
    let started = std::time::Instant::now();
    let out = build(&app, &slow, &["--helm-timeout", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed().as_secs() < 20, "timeout not honoured");
    insta::assert_snapshot!("helm_times_out", normal(&stderr(&out), tmp.path()));

    let dir = tmp.path().join("big");
    fs::create_dir_all(&dir).unwrap();
    let big = fake_helm(&dir, "yes 'a: b' | head -c 200000");
    let out = build(&app, &big, &["--max-file-bytes", "100000"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("helm_output_too_large", normal(&stderr(&out), tmp.path()));
}

#[test]
fn missing_helm_and_helm_not_enabled() {
    let tmp = tempfile::tempdir().unwrap();
    chart_tree(tmp.path(), "demo");
    let out = build(tmp.path(), Path::new("/nonexistent/helm"), &[]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("helm_missing", normal(&stderr(&out), tmp.path()));

    let out = rustomize().arg("build").arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("helm_not_enabled", normal(&stderr(&out), tmp.path()));
}

#[test]
fn library_default_leaves_helm_off() {
    let options = rustomize::BuildOptions::default();
    assert!(!options.helm.enabled);
    assert_eq!(options.helm.command, Path::new("helm"));
}
