//! Running one plugin process: its standard input written on a thread of its
//! own (a plugin that never reads it cannot block us), its output read up to a
//! bound, its standard error kept for messages, and the whole process group
//! killed when it outlives its deadline.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
    mut cmd: Command,
    input: Vec<u8>,
    timeout: Duration,
    max_output: usize,
) -> Result<Vec<u8>, RunFailure> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A group of its own, so a timeout ends whatever the plugin started too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = spawn(&mut cmd).map_err(RunFailure::Spawn)?;
    if let Some(mut pipe) = child.stdin.take() {
        std::thread::spawn(move || {
            // A plugin may exit without reading: a broken pipe is not an error.
            let _ = pipe.write_all(&input);
        });
    }
    let (out_tx, out_rx) = mpsc::channel();
    if let Some(pipe) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            // One byte past the limit tells "too large"; closing the pipe then
            // makes the plugin's next write fail.
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
            let cap = u64::try_from(MAX_STDERR).unwrap_or(u64::MAX);
            let _ = (&mut pipe).take(cap).read_to_end(&mut buf);
            let _ = err_tx.send(buf);
            // Keep draining so the plugin never blocks on a full pipe.
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
    // The plugin has exited; something it started may still hold its output.
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100));
    let out = match out_rx.recv_timeout(remaining) {
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
    // Checked first: closing the pipe at the limit may itself end the plugin.
    if out.len() > max_output {
        return Err(RunFailure::TooLarge);
    }
    if !status.success() {
        let stderr = err_rx
            .recv_timeout(Duration::from_millis(500))
            .unwrap_or_default();
        return Err(RunFailure::Failed {
            status: describe_status(status),
            stderr: first_lines(&stderr),
        });
    }
    Ok(out)
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
fn describe_status(status: std::process::ExitStatus) -> String {
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

/// Kills the plugin's process group (the plugin and whatever it started that
/// stayed in the group), then the plugin should the group be gone, and reaps it.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let group = rustix::process::Pid::from_child(child);
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}
