//! Running the system `git` (as kustomize does) for remote bases: resolving a
//! ref with `ls-remote` and fetching one commit into a directory.
//!
//! Every run has a deadline; past it git's whole process group (git and the
//! ssh/curl helpers it started) is killed. git never prompts
//! (`GIT_TERMINAL_PROMPT=0`, ssh in batch mode, no stdin), so a remote that
//! wants a password fails at once instead of hanging the build. Its messages
//! are reduced to one line with credentials redacted.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::error::RemoteCause;
use crate::remote::url::redact;

/// Most bytes of git's stdout kept (`ls-remote` of a repository with very
/// many refs stops there).
const MAX_STDOUT: usize = 64 << 20;
/// Most bytes of git's stderr kept for the error message.
const MAX_STDERR: usize = 64 << 10;

/// Runs `git ARGS` in `dir` within `timeout`; its stdout, or why it failed.
pub fn run(dir: &Path, args: &[&str], timeout: Duration) -> Result<String, RemoteCause> {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS", "")
        .env("GCM_INTERACTIVE", "never");
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    let what = format!("git {}", args.first().copied().unwrap_or(""));
    let timed_out = || RemoteCause::Timeout {
        what: what.clone(),
        secs: timeout.as_secs_f64(),
    };
    use crate::process::RunFailure as F;
    let out = match crate::process::run(cmd, None, timeout, MAX_STDOUT, MAX_STDERR) {
        Ok(out) => out,
        Err(F::Spawn(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RemoteCause::NoGit)
        }
        Err(F::Spawn(e)) => return Err(RemoteCause::Git(format!("cannot run git: {e}"))),
        Err(F::TimedOut) => return Err(timed_out()),
        Err(F::TooLarge) => {
            return Err(RemoteCause::Git(format!(
                "{what} printed more than {MAX_STDOUT} bytes"
            )))
        }
        Err(F::Io(e)) => return Err(RemoteCause::Git(format!("cannot read git's output: {e}"))),
    };
    if !out.status.success() {
        return Err(classify(&what, &String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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
