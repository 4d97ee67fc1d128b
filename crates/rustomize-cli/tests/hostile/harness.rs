//! What every hostile case needs: a scratch tree with a root and a secret outside
//! it, a run of the binary under a memory ceiling and a deadline, and assertions
//! on the outcome (exit status, one-line error, no leak, normalised snapshot).
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Text that lives only outside the root; it must never appear in any output.
pub const SECRET: &str = "SECRET-0ut51de-r00t";

/// Address-space ceiling for the child, in KiB (4 GiB). An unbounded allocation
/// hits it and aborts, which `assert_failed`/`assert_ok` report as a failure.
pub const MEMORY_CEILING_KIB: u64 = 4 * 1024 * 1024;

/// How long one run may take before it counts as a hang.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Longest error line we accept.
pub const MAX_ERROR_LINE: usize = 400;

/// A scratch directory holding `root/` (the kustomization) and `outside/`
/// (files holding [`SECRET`], which the root must not be able to read).
pub struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    /// An empty tree with `root/` and `outside/secret.yaml`, `outside/secret.env`,
    /// `outside/kustomization.yaml` (a generator printing the secret).
    pub fn new() -> Tree {
        let dir = tempfile::Builder::new()
            .prefix("hostile-")
            .tempdir()
            .expect("tempdir");
        let tree = Tree { dir };
        tree.dir("root");
        tree.file(
            "outside/secret.yaml",
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: secret\ndata:\n  key: {SECRET}\n"
            ),
        );
        tree.file("outside/secret.env", &format!("KEY={SECRET}\n"));
        tree.file(
            "outside/kustomization.yaml",
            &format!("configMapGenerator:\n- name: leaked\n  literals:\n  - key={SECRET}\n"),
        );
        tree
    }

    /// The scratch directory itself (holding `root/` and `outside/`).
    pub fn base(&self) -> &Path {
        self.dir.path()
    }

    /// `rel` under the scratch directory (`root/...` or `outside/...`).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The kustomization root, `root/`.
    pub fn root(&self) -> PathBuf {
        self.path("root")
    }

    /// Creates directory `rel` (and parents).
    pub fn dir(&self, rel: &str) -> &Tree {
        std::fs::create_dir_all(self.path(rel)).expect("mkdir");
        self
    }

    /// Writes text file `rel` (parents created).
    pub fn file(&self, rel: &str, text: &str) -> &Tree {
        self.bytes(rel, text.as_bytes())
    }

    /// Writes binary file `rel` (parents created).
    pub fn bytes(&self, rel: &str, bytes: &[u8]) -> &Tree {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, bytes).expect("write");
        self
    }

    /// Creates symlink `rel` pointing at `target` (written as given: relative
    /// targets are relative to the link's directory).
    pub fn symlink(&self, target: &str, rel: &str) -> &Tree {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::os::unix::fs::symlink(target, path).expect("symlink");
        self
    }

    /// Creates a FIFO at `rel` (with the `mkfifo` command: no unsafe code).
    pub fn fifo(&self, rel: &str) -> &Tree {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        let ok = Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo")
            .success();
        assert!(ok, "mkfifo {}", path.display());
        self
    }

    /// Writes `root/kustomization.yaml`.
    pub fn kustomization(&self, text: &str) -> &Tree {
        self.file("root/kustomization.yaml", text)
    }

    /// Runs `rustomize build root` plus `extra` flags.
    pub fn build(&self, extra: &[&str]) -> Outcome {
        let root = self.root();
        let mut args: Vec<&str> = vec!["build", root.to_str().expect("utf-8 path")];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Runs the binary with `args`, in the scratch directory, under the memory
    /// ceiling and the deadline.
    pub fn run(&self, args: &[&str]) -> Outcome {
        run_in(self.base(), args)
    }

    /// Replaces this tree's paths in `text` with `[TREE]` so snapshots are stable.
    pub fn normalise(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for base in [
            self.base().canonicalize().ok(),
            Some(self.base().to_path_buf()),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(s) = base.to_str() {
                out = out.replace(s, "[TREE]");
            }
        }
        out
    }

    /// `kubectl kustomize root` plus `extra`, if kubectl is on PATH (else None,
    /// with a note on stderr so a skipped comparison is visible).
    pub fn kubectl(&self, extra: &[&str]) -> Option<Outcome> {
        if Command::new("kubectl")
            .arg("version")
            .arg("--client")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
        {
            eprintln!("note: kubectl not on PATH; comparison with kustomize skipped");
            return None;
        }
        let root = self.root();
        let mut cmd = Command::new("kubectl");
        cmd.arg("kustomize").arg(&root).args(extra);
        Some(wait(cmd, self.base()))
    }
}

/// Runs the rustomize binary with `args` in `cwd`.
pub fn run_in(cwd: &Path, args: &[&str]) -> Outcome {
    // `ulimit -v` through the shell keeps the test free of unsafe code.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_CEILING_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_rustomize"))
        .args(args);
    wait(cmd, cwd)
}

fn wait(mut cmd: Command, cwd: &Path) -> Outcome {
    let mut child = cmd
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("run hung for more than {DEADLINE:?}: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        status,
        stdout: String::from_utf8_lossy(&out.join().expect("stdout reader")).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().expect("stderr reader")).into_owned(),
    }
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Outcome {
    /// Exit status.
    pub status: std::process::ExitStatus,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

impl Outcome {
    /// The run failed cleanly: exit code 1 (not a signal, not an abort), nothing
    /// on stdout, exactly one short `Error: ` line on stderr, no secret anywhere.
    /// Returns the error line.
    pub fn assert_failed(&self) -> &str {
        self.assert_no_secret();
        assert_eq!(
            self.status.code(),
            Some(1),
            "expected exit code 1, got {:?}; stderr: {}",
            self.status,
            crate::harness::head(&self.stderr)
        );
        assert!(
            self.stdout.is_empty(),
            "stdout not empty: {}",
            head(&self.stdout)
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "expected one line: {}", head(&self.stderr));
        let line = lines.first().copied().unwrap_or_default();
        assert!(line.starts_with("Error: "), "not an error line: {line}");
        assert!(
            line.chars().count() <= MAX_ERROR_LINE,
            "error line of {} chars: {}",
            line.chars().count(),
            head(line)
        );
        line
    }

    /// The run succeeded (exit 0) and printed no secret.
    pub fn assert_ok(&self) -> &str {
        self.assert_no_secret();
        assert!(
            self.status.success(),
            "expected success, got {:?}; stderr: {}",
            self.status,
            head(&self.stderr)
        );
        &self.stdout
    }

    /// Nothing from outside the root reached stdout or stderr.
    pub fn assert_no_secret(&self) {
        assert!(
            !self.stdout.contains(SECRET),
            "secret leaked to stdout: {}",
            head(&self.stdout)
        );
        assert!(
            !self.stderr.contains(SECRET),
            "secret leaked to stderr: {}",
            head(&self.stderr)
        );
    }
}

/// The first 1,000 characters of `s`, for assertion messages.
pub fn head(s: &str) -> String {
    s.chars().take(1000).collect()
}

/// Asserts a clean failure and snapshots its error line (paths normalised).
#[macro_export]
macro_rules! assert_fails {
    ($tree:expr, $outcome:expr) => {{
        let outcome = $outcome;
        let line = outcome.assert_failed();
        insta::assert_snapshot!($tree.normalise(line));
    }};
}

/// Asserts success and that the output equals `kubectl kustomize`'s, when
/// kubectl is on PATH (kustomize's output is the expectation, never ours).
pub fn assert_builds_like_kustomize(tree: &Tree, extra: &[&str]) -> String {
    assert_same_success(&tree.build(extra), tree.kubectl(extra))
}

/// Asserts that `ours` succeeded and, when there is `theirs` (kubectl's run),
/// that it succeeded with the same output; returns our output.
pub fn assert_same_success(ours: &Outcome, theirs: Option<Outcome>) -> String {
    let stdout = ours.assert_ok().to_owned();
    if let Some(theirs) = theirs {
        assert!(
            theirs.status.success(),
            "kubectl failed: {}",
            head(&theirs.stderr)
        );
        assert_eq!(
            stdout, theirs.stdout,
            "output differs from kubectl kustomize"
        );
    }
    stdout
}
