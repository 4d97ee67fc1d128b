//! Running the system `git` (as kustomize does) for remote bases: resolving a
//! ref with `ls-remote` and fetching one commit into a directory.
//!
//! Every run has a deadline; past it git's whole process group (git and the
//! ssh/curl helpers it started) is killed. git never prompts
//! (`GIT_TERMINAL_PROMPT=0`, ssh in batch mode, no stdin), so a remote that
//! wants a password fails at once instead of hanging the build. Its messages
//! are reduced to one line with credentials redacted.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::RemoteCause;
use crate::remote::url::redact;

/// Most bytes of git's stdout kept (`ls-remote` of a repository with very
/// many refs stops there).
const MAX_STDOUT: u64 = 64 << 20;
/// Most bytes of git's stderr kept for the error message.
const MAX_STDERR: u64 = 64 << 10;

/// Runs `git ARGS` in `dir` within `timeout`; its stdout, or why it failed.
pub fn run(dir: &Path, args: &[&str], timeout: Duration) -> Result<String, RemoteCause> {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS", "")
        .env("GCM_INTERACTIVE", "never")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    // Its own process group, so a timeout also ends the helpers git started.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let what = format!("git {}", args.first().copied().unwrap_or(""));
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RemoteCause::NoGit,
        _ => RemoteCause::Git(format!("cannot run git: {e}")),
    })?;
    let (out_tx, out_rx) = mpsc::channel();
    if let Some(pipe) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut pipe = pipe;
            let read = (&mut pipe).take(MAX_STDOUT).read_to_end(&mut buf);
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            let _ = out_tx.send(read.map(|_| buf));
        });
    }
    let (err_tx, err_rx) = mpsc::channel();
    if let Some(mut pipe) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = (&mut pipe).take(MAX_STDERR).read_to_end(&mut buf);
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            let _ = err_tx.send(buf);
        });
    }
    let timed_out = || RemoteCause::Timeout {
        what: what.clone(),
        secs: timeout.as_secs_f64(),
    };
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_group(&mut child);
                return Err(timed_out());
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Err(RemoteCause::Git(format!("cannot wait for git: {e}"))),
        }
    };
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(200));
    let out = match out_rx.recv_timeout(remaining) {
        Ok(Ok(buf)) => buf,
        Ok(Err(e)) => return Err(RemoteCause::Git(format!("cannot read git's output: {e}"))),
        Err(_) => {
            // git exited, but a helper it started still holds the pipe.
            kill_group(&mut child);
            return Err(timed_out());
        }
    };
    if !status.success() {
        let err = err_rx
            .recv_timeout(Duration::from_millis(500))
            .unwrap_or_default();
        return Err(classify(&what, &String::from_utf8_lossy(&err)));
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Kills git's process group, then git itself should the group be gone, and reaps it.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let group = rustix::process::Pid::from_child(child);
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Turns git's stderr into a cause: an unknown ref, an unreachable remote, or
/// git's own (last `fatal:`) line.
fn classify(what: &str, stderr: &str) -> RemoteCause {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let fatal = lines
        .iter()
        .find(|l| l.starts_with("fatal:"))
        .or_else(|| lines.last())
        .copied()
        .unwrap_or("failed without a message");
    let message = redact(fatal.strip_prefix("fatal: ").unwrap_or(fatal));
    let message = crate::error::excerpt(&message, 300);
    let lower = stderr.to_ascii_lowercase();
    if lower.contains("couldn't find remote ref") || lower.contains("not our ref") {
        return RemoteCause::GitUnknownRef(message);
    }
    let unreachable = [
        "could not resolve host",
        "failed to connect",
        "couldn't connect",
        "connection refused",
        "connection timed out",
        "does not appear to be a git repository",
        "could not read from remote repository",
        "repository not found",
        "not found",
        "unable to access",
        "no route to host",
    ];
    if unreachable.iter().any(|m| lower.contains(m)) {
        return RemoteCause::Unreachable(message);
    }
    RemoteCause::Git(format!("{what} failed: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_messages_are_classified_and_redacted() {
        let c = classify("git fetch", "fatal: couldn't find remote ref nope\n");
        assert!(matches!(c, RemoteCause::GitUnknownRef(_)), "{c}");
        let c = classify(
            "git ls-remote",
            "fatal: unable to access 'https://u:pw@h/r/': Could not resolve host: h\n",
        );
        let text = c.to_string();
        assert!(matches!(c, RemoteCause::Unreachable(_)), "{text}");
        assert!(!text.contains("pw"), "{text}");
    }
}
