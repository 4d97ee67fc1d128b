//! Running one plugin process through [`crate::process`]: a plugin that exits
//! unsuccessfully fails with its exit status and the first lines of its
//! standard error.

use std::process::Command;
use std::time::Duration;

/// Most bytes of a plugin's standard error kept for messages.
const MAX_STDERR: usize = 64 << 10;

/// Why a plugin run failed, before the caller names the plugin and its config.
#[derive(Debug)]
pub(crate) enum RunFailure {
    /// The executable could not be started (missing, not executable, ...).
    Spawn(std::io::Error),
    /// It exited unsuccessfully: `exit status N` or `killed by signal N`, and
    /// the first lines of its standard error.
    Failed { status: String, stderr: String },
    /// It did not finish within the timeout; it and its group were killed.
    TimedOut,
    /// It printed more than the output limit.
    TooLarge,
    /// Its output could not be read or it could not be waited for.
    Io(std::io::Error),
}

/// Runs `cmd` with `input` on standard input; returns its whole standard output.
pub(crate) fn run(
    cmd: Command,
    input: Vec<u8>,
    timeout: Duration,
    max_output: usize,
) -> Result<Vec<u8>, RunFailure> {
    use crate::process::RunFailure as P;
    let out = crate::process::run(cmd, Some(input), timeout, max_output, MAX_STDERR).map_err(
        |e| match e {
            P::Spawn(e) => RunFailure::Spawn(e),
            P::TimedOut => RunFailure::TimedOut,
            P::TooLarge => RunFailure::TooLarge,
            P::Io(e) => RunFailure::Io(e),
        },
    )?;
    if !out.status.success() {
        return Err(RunFailure::Failed {
            status: crate::process::describe_status(out.status),
            stderr: first_lines(&out.stderr),
        });
    }
    Ok(out.stdout)
}

/// The first non-empty lines of a plugin's standard error joined on one line
/// with ` | `, at most a few hundred characters.
fn first_lines(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(3)
        .collect();
    let line: String = lines
        .join(" | ")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    crate::error::excerpt(&line, 300)
}
