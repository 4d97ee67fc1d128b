//! Golden tests against recordings of `kubectl kustomize` (kustomize v5.5.0).
//!
//! Every directory `fixtures/<case>/` with an `input/` subdirectory is a case:
//!
//! * the build target is `input/`, or `input/<RUN>` when a file `RUN` names a
//!   path relative to `input/` (e.g. `overlays/prod`);
//! * an optional `args` file holds extra CLI flags on one line; `$HELM` in it
//!   stands for the helm binary (`$RUSTOMIZE_HELM`, else `helm` on `PATH`):
//!   Helm cases (`fixtures/helm-*`) are skipped, with the reason printed, only
//!   when neither exists;
//! * `expected.yaml` — the build must exit 0 and print exactly these bytes;
//! * `expected.err` — the build must exit 1, print nothing on stdout and a
//!   non-empty stderr with one non-blank line per cause (no panics);
//! * `expected.stderr` — warnings kustomize printed on a successful build
//!   (informational, not compared);
//! * `divergent.yaml` — next to an `expected.err` where kustomize fails only
//!   through its own defect (listed in docs/compatibility.md): the build must
//!   exit 0 and print exactly these bytes, the evident result.
//!
//! Recordings are (re)made with `scripts/record-fixtures.sh`.
//! Set `FIXTURE=<substring>[,<substring>...]` to run only matching cases.

use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A single build taking longer than this is reported as a failure.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Lines of context shown before the first difference.
const DIFF_CONTEXT: usize = 3;
/// Lines shown per side of a differing region.
const DIFF_MAX_LINES: usize = 12;

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

fn discover(root: &Path, filters: &[String]) -> Vec<Case> {
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) => panic!("cannot read fixtures directory {}: {e}", root.display()),
    };
    let mut cases: Vec<Case> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|dir| dir.join("input").is_dir())
        .filter_map(|dir| {
            let name = dir.file_name()?.to_string_lossy().into_owned();
            Some(Case { name, dir })
        })
        .filter(|case| filters.is_empty() || filters.iter().any(|f| case.name.contains(f.as_str())))
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

fn filters_from_env() -> Vec<String> {
    std::env::var("FIXTURE")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
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
            let _ = writeln!(out, "      ... ({} lines in all)", text.lines().count());
            break;
        }
        let _ = writeln!(out, "      | {line}");
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Same,
    Del,
    Ins,
}

/// Line-level edit script of `a` into `b` (longest common subsequence).
/// Falls back to "delete all, insert all" when the inputs are huge.
fn edit_script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    if n.saturating_mul(m) > 4_000_000 {
        let mut ops = vec![Op::Del; n];
        ops.extend(vec![Op::Ins; m]);
        return ops;
    }
    // lcs[i][j] = LCS length of a[i..] and b[j..]
    let width = m + 1;
    let mut lcs = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * width + j] = if a[i] == b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::with_capacity(n + m);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push(Op::Same);
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i * width + j + 1] >= lcs[(i + 1) * width + j]) {
            ops.push(Op::Ins);
            j += 1;
        } else {
            ops.push(Op::Del);
            i += 1;
        }
    }
    ops
}

fn diff_line(out: &mut String, sign: char, line: &str) {
    let (body, eol) = match line.strip_suffix('\n') {
        Some(body) => (body, ""),
        None => (line, "  \\ no newline at end"),
    };
    let _ = writeln!(out, "    {sign}{body}{eol}");
}

/// A compact unified-style diff: the first differing hunk with a little
/// context, and a count of the further differing regions.
/// Returns the 1-based first differing line of `expected` and the text.
fn diff(expected: &[u8], actual: &[u8]) -> (usize, String) {
    let exp_text = String::from_utf8_lossy(expected);
    let act_text = String::from_utf8_lossy(actual);
    let exp: Vec<&str> = exp_text.split_inclusive('\n').collect();
    let act: Vec<&str> = act_text.split_inclusive('\n').collect();
    let ops = edit_script(&exp, &act);

    // Walk to the first change, remembering line numbers on both sides.
    let (mut ei, mut ai, mut k) = (0usize, 0usize, 0usize);
    while k < ops.len() && ops[k] == Op::Same {
        ei += 1;
        ai += 1;
        k += 1;
    }
    let (hunk_e, hunk_a) = (ei, ai);
    let mut dels = Vec::new();
    let mut inss = Vec::new();
    while k < ops.len() && ops[k] != Op::Same {
        match ops[k] {
            Op::Del => {
                dels.push(exp[ei]);
                ei += 1;
            }
            _ => {
                inss.push(act[ai]);
                ai += 1;
            }
        }
        k += 1;
    }
    let trailing: Vec<&str> = exp[ei..].iter().take(DIFF_CONTEXT).copied().collect();
    let more = ops[k..]
        .windows(2)
        .filter(|w| w[0] == Op::Same && w[1] != Op::Same)
        .count();

    let ctx_start = hunk_e.saturating_sub(DIFF_CONTEXT);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "    @@ -{},{} +{},{} @@ (expected {} lines, got {})",
        hunk_e + 1,
        dels.len(),
        hunk_a + 1,
        inss.len(),
        exp.len(),
        act.len()
    );
    for line in &exp[ctx_start..hunk_e] {
        diff_line(&mut out, ' ', line);
    }
    for (sign, lines) in [('-', &dels), ('+', &inss)] {
        for line in lines.iter().take(DIFF_MAX_LINES) {
            diff_line(&mut out, sign, line);
        }
        if lines.len() > DIFF_MAX_LINES {
            let _ = writeln!(out, "    {sign}... ({} more)", lines.len() - DIFF_MAX_LINES);
        }
    }
    for line in trailing {
        diff_line(&mut out, ' ', line);
    }
    if more > 0 {
        let _ = writeln!(out, "    ... and {more} more differing region(s)");
    }
    (hunk_e + 1, out)
}

fn check(bin: &Path, case: &Case, helm: Option<&Path>) -> Result<(), String> {
    let expected = expected(case)?;
    let outcome = run(bin, case, helm)?;
    if outcome.timed_out {
        return Err(format!("timed out after {}s", TIMEOUT.as_secs()));
    }
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    if stderr.contains("panicked at") {
        return Err(format!("panicked:\n{}", excerpt(&outcome.stderr, 6)));
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
                let (line, text) = diff(&want, &outcome.stdout);
                return Err(format!("stdout differs from line {line}:\n{text}"));
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
                let _ = write!(details, "    stdout:\n{}", excerpt(&outcome.stdout, 4));
            }
            if stderr.trim().is_empty() {
                headlines.push("stderr is empty (an error message is required)".to_owned());
            } else if stderr
                .trim_end_matches('\n')
                .lines()
                .any(|l| l.trim().is_empty())
            {
                headlines.push("stderr has blank lines (want one line per cause)".to_owned());
                let _ = write!(details, "    stderr:\n{}", excerpt(&outcome.stderr, 8));
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

#[test]
fn fixtures() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_rustomize"));
    let root = fixtures_root();
    let filters = filters_from_env();
    let cases = discover(&root, &filters);
    assert!(
        !cases.is_empty(),
        "no fixture cases found under {} (FIXTURE filter: {:?})",
        root.display(),
        filters
    );

    let helm = helm_binary();
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut skipped = 0;
    for case in &cases {
        if helm.is_none() && needs_helm(case) {
            skipped += 1;
            continue;
        }
        if let Err(reason) = check(&bin, case, helm.as_deref()) {
            failures.push((case.name.clone(), reason));
        }
    }
    if skipped > 0 {
        // Written past the test harness's capture, so the skip is always seen.
        let _ = writeln!(
            std::io::stderr(),
            "fixtures: SKIPPED {skipped} Helm case(s): no helm binary (set RUSTOMIZE_HELM or put helm on PATH)"
        );
    }

    let passed = cases.len() - failures.len() - skipped;
    eprintln!("fixtures: {passed}/{} passed", cases.len() - skipped);
    if failures.is_empty() {
        return;
    }
    let mut report = String::new();
    for (name, reason) in &failures {
        let _ = writeln!(report, "FAIL {name}: {reason}");
    }
    let _ = writeln!(report, "\nfailing cases:");
    for (name, reason) in &failures {
        let short = reason.lines().next().unwrap_or_default();
        let _ = writeln!(report, "  {name:<42} {short}");
    }
    eprintln!("{report}");
    panic!(
        "{} of {} fixture cases failed (FIXTURE=<substring> runs a subset)",
        failures.len(),
        cases.len()
    );
}
