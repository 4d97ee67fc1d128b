//! Child processes a build runs (Helm, git, exec plugins), all the same way:
//! in a process group of their own, standard input written on a thread (a
//! child that never reads it cannot block the build), standard output read up
//! to a bound, standard error kept (bounded) and drained, and a deadline after
//! which the whole group is killed — so nothing a child starts, not even a
//! grandchild holding a pipe open, can keep a build waiting.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Why a run failed before the child's own exit status could say anything.
#[derive(Debug)]
pub(crate) enum RunFailure {
    /// The executable could not be started (missing, not executable, ...).
    Spawn(std::io::Error),
    /// It did not finish within the timeout; it and its group were killed.
    TimedOut,
    /// It printed more than the output limit.
    TooLarge,
    /// Its output could not be read or it could not be waited for.
    Io(std::io::Error),
}

/// What a child that finished in time left.
pub(crate) struct Output {
    /// How it exited.
    pub status: ExitStatus,
    /// Its whole standard output (at most the limit).
    pub stdout: Vec<u8>,
    /// The start of its standard error, collected only when it failed (at most
    /// `max_stderr` bytes).
    pub stderr: Vec<u8>,
}

/// Runs `cmd` with `input` on standard input (none: `/dev/null`).
///
/// `timeout` bounds the whole run, output included; `max_output` bounds
/// standard output (one byte more is [`RunFailure::TooLarge`]).
pub(crate) fn run(
    mut cmd: Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
    max_output: usize,
    max_stderr: usize,
) -> Result<Output, RunFailure> {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // A group of its own, so a timeout ends whatever the child started too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = spawn(&mut cmd).map_err(RunFailure::Spawn)?;
    if let (Some(mut pipe), Some(input)) = (child.stdin.take(), input) {
        std::thread::spawn(move || {
            // A child may exit without reading: a broken pipe is not an error.
            let _ = pipe.write_all(&input);
        });
    }
    let (out_tx, out_rx) = mpsc::channel();
    if let Some(pipe) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            // One byte past the limit tells "too large"; closing the pipe then
            // makes the child's next write fail.
            let cap = u64::try_from(max_output)
                .unwrap_or(u64::MAX)
                .saturating_add(1);
            let read = pipe.take(cap).read_to_end(&mut buf);
            let _ = out_tx.send(read.map(|_| buf));
        });
    }
    let (err_tx, err_rx) = mpsc::channel();
    if let Some(mut pipe) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let cap = u64::try_from(max_stderr).unwrap_or(u64::MAX);
            let _ = (&mut pipe).take(cap).read_to_end(&mut buf);
            let _ = err_tx.send(buf);
            // Keep draining so the child never blocks on a full pipe.
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
        });
    }
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_group(&mut child);
                return Err(RunFailure::TimedOut);
            }
            Ok(None) => {
                std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
                pause = (pause * 2).min(Duration::from_millis(25));
            }
            Err(e) => {
                kill_group(&mut child);
                return Err(RunFailure::Io(e));
            }
        }
    };
    // The child has exited; something it started may still hold its output.
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100));
    let stdout = match out_rx.recv_timeout(remaining) {
        Ok(Ok(buf)) => buf,
        Ok(Err(e)) => return Err(RunFailure::Io(e)),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            kill_group(&mut child);
            return Err(RunFailure::TimedOut);
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            return Err(RunFailure::Io(std::io::Error::other(
                "standard output closed unexpectedly",
            )))
        }
    };
    // Checked first: closing the pipe at the limit may itself end the child.
    if stdout.len() > max_output {
        return Err(RunFailure::TooLarge);
    }
    let stderr = if status.success() {
        Vec::new()
    } else {
        err_rx
            .recv_timeout(Duration::from_millis(500))
            .unwrap_or_default()
    };
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Starts `cmd`, trying again for a moment while the executable is busy
/// (ETXTBSY: a file just written may still be open in a process forked meanwhile).
fn spawn(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 20 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(25));
            }
            other => return other,
        }
    }
}

/// `exit status N`, or the signal that ended the process.
pub(crate) fn describe_status(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    "killed by a signal".to_owned()
}

/// Kills the child's process group (the child and whatever it started that
/// stayed in the group), then the child should the group be gone, and reaps it.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let group = rustix::process::Pid::from_child(child);
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}
