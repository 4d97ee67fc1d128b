//! Golden tests against recordings of `kubectl kustomize` (kustomize v5.5.0):
//! one libtest-mimic trial per fixture directory, named after the directory
//! (`harness = false` in Cargo.toml; this file owns `main`).
//!
//! Every directory `fixtures/<case>/` with an `input/` subdirectory is a case:
//!
//! * the build target is `input/`, or `input/<RUN>` when a file `RUN` names a
//!   path relative to `input/` (e.g. `overlays/prod`);
//! * an optional `args` file holds extra CLI flags on one line; `$HELM` in it
//!   stands for the helm binary (`$RUSTOMIZE_HELM`, else `helm` on `PATH`):
//!   Helm cases (`fixtures/helm-*`) are reported *ignored*, with the reason,
//!   only when neither exists;
//! * `expected.yaml` — the build must exit 0 and print exactly these bytes;
//! * `expected.err` — the build must exit 1, print nothing on stdout and a
//!   non-empty stderr with one non-blank line per cause (no panics);
//! * `expected.stderr` — warnings kustomize printed on a successful build
//!   (informational, not compared);
//! * `divergent.yaml` — next to an `expected.err` where kustomize fails only
//!   through its own defect, or next to an `expected.yaml` kustomize printed
//!   through one (each listed in docs/compatibility.md): the build must exit 0
//!   and print exactly these bytes, the evident result.
//!
//! Recordings are (re)made with `scripts/record-fixtures.sh`. The usual libtest
//! flags select cases: `cargo test -p rustomize-cli --test fixtures -- <substring>`
//! (add `--exact` for one case, `--skip <substring>` to leave some out,
//! `--test-threads N` to bound the parallel builds).

use std::fs;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use similar::TextDiff;

/// A single build taking longer than this is reported as a failure.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Lines of unchanged context around each differing region of stdout.
const DIFF_CONTEXT: usize = 3;
/// Lines of unified diff shown at most; the rest is counted, not printed.
const DIFF_MAX_LINES: usize = 60;
/// Time spent looking for a minimal diff before settling for a coarser one
/// (two unrelated multi-megabyte outputs must not stall the report).
const DIFF_TIMEOUT: Duration = Duration::from_secs(2);
/// Exit status of a Rust program that panicked.
const PANIC_EXIT: i32 = 101;

struct Case {
    name: String,
    dir: PathBuf,
}

enum Expected {
    Output(Vec<u8>),
    Failure,
}

struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    timed_out: bool,
}

fn fixtures_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    fs::canonicalize(&root).unwrap_or(root)
}

/// Every case directory, sorted by name.
fn discover(root: &Path) -> Result<Vec<Case>, String> {
    let entries = fs::read_dir(root)
        .map_err(|e| format!("cannot read fixtures directory {}: {e}", root.display()))?;
    let mut cases: Vec<Case> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|dir| dir.join("input").is_dir())
        .filter_map(|dir| {
            let name = dir.file_name()?.to_string_lossy().into_owned();
            Some(Case { name, dir })
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

fn first_line(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    let line = text.lines().next()?.trim().to_owned();
    (!line.is_empty()).then_some(line)
}

fn build_target(case: &Case) -> PathBuf {
    let input = case.dir.join("input");
    match first_line(&case.dir.join("RUN")) {
        Some(run) => input.join(run),
        None => input,
    }
}

/// The helm binary for Helm cases: `$RUSTOMIZE_HELM`, else `helm` on `PATH`.
fn helm_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RUSTOMIZE_HELM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("helm"))
        .find(|candidate| candidate.is_file())
}

fn needs_helm(case: &Case) -> bool {
    first_line(&case.dir.join("args")).is_some_and(|line| line.contains("$HELM"))
}

fn extra_args(case: &Case, helm: Option<&Path>) -> Vec<String> {
    let helm = helm.map(|p| p.to_string_lossy().into_owned());
    first_line(&case.dir.join("args"))
        .map(|line| {
            line.split_whitespace()
                .map(|arg| match &helm {
                    Some(helm) => arg.replace("$HELM", helm),
                    None => arg.to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn expected(case: &Case) -> Result<Expected, String> {
    let yaml = case.dir.join("expected.yaml");
    let err = case.dir.join("expected.err");
    match (yaml.is_file(), err.is_file()) {
        (true, true) => Err("both expected.yaml and expected.err exist (re-record)".into()),
        (false, false) => {
            Err("no expected.yaml / expected.err (run scripts/record-fixtures.sh)".into())
        }
        // kustomize printed expected.yaml through a defect of its own
        // (docs/compatibility.md): the evident result is divergent.yaml.
        (true, false) if case.dir.join("divergent.yaml").is_file() => {
            fs::read(case.dir.join("divergent.yaml"))
                .map(Expected::Output)
                .map_err(|e| format!("cannot read divergent.yaml: {e}"))
        }
        (true, false) => fs::read(&yaml)
            .map(Expected::Output)
            .map_err(|e| format!("cannot read expected.yaml: {e}")),
        (false, true) => match fs::read(case.dir.join("divergent.yaml")) {
            Ok(bytes) => Ok(Expected::Output(bytes)),
            Err(_) => Ok(Expected::Failure),
        },
    }
}

fn drain<R: Read + Send + 'static>(reader: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = reader {
            let _ = r.read_to_end(&mut buf);
        }
        buf
    })
}

fn run(bin: &Path, case: &Case, helm: Option<&Path>) -> Result<Outcome, String> {
    let mut cmd = Command::new(bin);
    cmd.arg("build")
        .args(extra_args(case, helm))
        .arg(build_target(case))
        .current_dir(&case.dir)
        // Remote cases must not touch the user's cache (~/.cache/rustomize).
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("rustomize-fixtures-cache"),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > TIMEOUT => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for the build failed: {e}")),
        }
    };
    Ok(Outcome {
        code: status.and_then(|s| s.code()),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        timed_out,
    })
}

fn show_code(code: Option<i32>) -> String {
    code.map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string())
}

/// First few lines of a byte buffer, indented, for failure reports.
fn excerpt(bytes: &[u8], max_lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == max_lines {
            out.push_str(&format!(
                "      ... ({} lines in all)\n",
                text.lines().count()
            ));
            break;
        }
        out.push_str(&format!("      | {line}\n"));
    }
    out
}

/// A unified diff of expected and actual stdout, cut to `DIFF_MAX_LINES`.
fn diff(expected: &[u8], actual: &[u8]) -> String {
    let expected = String::from_utf8_lossy(expected);
    let actual = String::from_utf8_lossy(actual);
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(expected.as_ref(), actual.as_ref());
    let full = diff
        .unified_diff()
        .context_radius(DIFF_CONTEXT)
        .header("expected.yaml", "stdout")
        .to_string();
    let total = full.lines().count();
    let mut out: String = full
        .lines()
        .take(DIFF_MAX_LINES)
        .map(|line| format!("    {line}\n"))
        .collect();
    if total > DIFF_MAX_LINES {
        out.push_str(&format!(
            "    ... ({} more diff lines)\n",
            total - DIFF_MAX_LINES
        ));
    }
    out
}

fn check(bin: &Path, case: &Case, helm: Option<&Path>) -> Result<(), String> {
    let expected = expected(case)?;
    let outcome = run(bin, case, helm)?;
    if outcome.timed_out {
        return Err(format!("timed out after {}s", TIMEOUT.as_secs()));
    }
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    if outcome.code == Some(PANIC_EXIT) || stderr.contains("panicked at") {
        return Err(format!(
            "panicked (exit {}):\n{}",
            show_code(outcome.code),
            excerpt(&outcome.stderr, 6)
        ));
    }
    match expected {
        Expected::Output(want) => {
            if outcome.code != Some(0) {
                let first = stderr.lines().next().unwrap_or("(no stderr)");
                return Err(format!(
                    "expected success, got exit {}: {}\n{}",
                    show_code(outcome.code),
                    truncate(first, 160),
                    excerpt(&outcome.stderr, 6)
                ));
            }
            if outcome.stdout != want {
                return Err(format!(
                    "stdout differs from expected.yaml ({} vs {} bytes):\n{}",
                    want.len(),
                    outcome.stdout.len(),
                    diff(&want, &outcome.stdout)
                ));
            }
            Ok(())
        }
        Expected::Failure => {
            let mut headlines = Vec::new();
            let mut details = String::new();
            if outcome.code != Some(1) {
                headlines.push(format!("expected exit 1, got {}", show_code(outcome.code)));
            }
            if !outcome.stdout.is_empty() {
                headlines.push(format!("stdout not empty ({} bytes)", outcome.stdout.len()));
                details.push_str(&format!("    stdout:\n{}", excerpt(&outcome.stdout, 4)));
            }
            if stderr.trim().is_empty() {
                headlines.push("stderr is empty (an error message is required)".to_owned());
            } else if stderr
                .trim_end_matches('\n')
                .lines()
                .any(|l| l.trim().is_empty())
            {
                headlines.push("stderr has blank lines (want one line per cause)".to_owned());
                details.push_str(&format!("    stderr:\n{}", excerpt(&outcome.stderr, 8)));
            }
            if headlines.is_empty() {
                Ok(())
            } else {
                Err(format!("{}\n{details}", headlines.join("; ")))
            }
        }
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

const NO_HELM: &str = "no helm binary (set RUSTOMIZE_HELM or put helm on PATH)";

fn trial(bin: &Arc<PathBuf>, helm: &Arc<Option<PathBuf>>, case: Case) -> Trial {
    let (bin, helm) = (Arc::clone(bin), Arc::clone(helm));
    let name = case.name.clone();
    Trial::ignorable_test(name, move || {
        // Ignored at run time rather than flagged up front, so the reason is
        // printed next to the case and `--include-ignored` cannot turn a
        // missing helm into a failure.
        if helm.is_none() && needs_helm(&case) {
            return Ok(Completion::ignored_with(NO_HELM));
        }
        check(&bin, &case, helm.as_deref())
            .map(|()| Completion::Completed)
            .map_err(Failed::from)
    })
}

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let root = fixtures_root();
    let cases = match discover(&root) {
        Ok(cases) if !cases.is_empty() => cases,
        Ok(_) => {
            eprintln!("no fixture cases found under {}", root.display());
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let bin = Arc::new(PathBuf::from(env!("CARGO_BIN_EXE_rustomize")));
    let helm = Arc::new(helm_binary());
    let mut unrunnable = 0;
    let mut trials = Vec::with_capacity(cases.len());
    for case in cases {
        let skip = helm.is_none() && needs_helm(&case);
        let trial = trial(&bin, &helm, case);
        if skip && !args.is_filtered_out(&trial) {
            unrunnable += 1;
        }
        trials.push(trial);
    }
    if unrunnable > 0 && !args.list {
        // Past the harness's capture and before the per-case lines, so a run
        // without helm cannot be mistaken for full coverage.
        let _ = writeln!(
            std::io::stderr(),
            "fixtures: {unrunnable} Helm case(s) will be IGNORED: {NO_HELM}"
        );
    }
    libtest_mimic::run(&args, trials).exit_code()
}
