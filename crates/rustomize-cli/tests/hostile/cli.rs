//! CLI hygiene: closed pipes, atomic `-o`, one-line errors.
//!
//! kustomize's behaviour is measured by running `kubectl kustomize` on the same
//! tree whenever kubectl is on PATH; the recorded facts (exit statuses, modes)
//! are asserted for rustomize either way.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::assert_fails;
use crate::harness::*;

/// SIGPIPE's number on Linux (and every Unix this suite runs on).
const SIGPIPE: i32 = 13;

/// A ConfigMap resource named `name`.
fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n")
}

/// A tree whose output (about 240 KB) is far larger than a pipe's buffer, so a
/// reader that stops early makes the writer hit a closed pipe.
fn big_tree() -> Tree {
    let tree = Tree::new();
    let mut kustomization = String::from("resources:\n");
    for i in 0..400 {
        tree.file(
            &format!("root/cm{i}.yaml"),
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\ndata:\n  k: {}\n",
                "x".repeat(500)
            ),
        );
        kustomization.push_str(&format!("- cm{i}.yaml\n"));
    }
    tree.kustomization(&kustomization);
    tree
}

/// A one-ConfigMap tree.
fn small_tree() -> Tree {
    let tree = Tree::new();
    tree.kustomization("resources:\n- cm.yaml\n")
        .file("root/cm.yaml", &config_map("small"));
    tree
}

/// A one-ConfigMap tree whose kustomization uses a deprecated field, so the build
/// prints a warning on stderr before the YAML.
fn warning_tree() -> Tree {
    let tree = Tree::new();
    tree.kustomization("commonLabels:\n  a: b\nresources:\n- cm.yaml\n")
        .file("root/cm.yaml", &config_map("warned"));
    tree
}

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Runs `script` with bash (`$1` = the rustomize binary, `$2` = the root) and
/// returns (stdout, stderr).
fn bash(tree: &Tree, script: &str, program: &[&str]) -> (String, String) {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .args(program)
        .arg(tree.root())
        .current_dir(tree.base())
        .stdin(Stdio::null())
        .output()
        .expect("bash");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `rustomize build ROOT | head -1` under `set -o pipefail`: kustomize dies of
/// SIGPIPE without a word, so bash reports 141; so must we.
#[test]
fn head_one_on_a_big_build_ends_quietly_with_status_141() {
    let tree = big_tree();
    let script = r#"set -o pipefail; "$1" build "$2" | head -1; echo "status=$?""#;
    let ours = bash(&tree, script, &[env!("CARGO_BIN_EXE_rustomize")]);
    assert_eq!(
        ours,
        ("apiVersion: v1\nstatus=141\n".to_owned(), String::new())
    );
    if kubectl_available() {
        let script = r#"set -o pipefail; kubectl kustomize "$1" | head -1; echo "status=$?""#;
        let theirs = bash(&tree, script, &[]);
        assert_eq!(theirs, ours, "kubectl kustomize differs");
    }
}

/// The write end of a pipe whose reader has already gone: the reader was the
/// stdin of a `true` that has exited, so the first write fails with EPIPE (no
/// race with a reader closing later).
fn pipe_without_reader() -> Stdio {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("true");
    let writer = reader.stdin.take().expect("stdin");
    reader.wait().expect("wait");
    Stdio::from(writer)
}

/// Runs `program args` with stdout (or stderr, if `!close_stdout`) on a pipe
/// nobody reads, and returns the exit status and what the other stream carried.
fn run_with_closed_pipe(
    program: &str,
    args: &[&Path],
    close_stdout: bool,
) -> (std::process::ExitStatus, String) {
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    if close_stdout {
        cmd.stdout(pipe_without_reader()).stderr(Stdio::piped());
    } else {
        cmd.stdout(Stdio::piped()).stderr(pipe_without_reader());
    }
    let out = cmd.output().expect("run");
    let other = if close_stdout { out.stderr } else { out.stdout };
    (out.status, String::from_utf8_lossy(&other).into_owned())
}

/// A reader that closed stdout before the first write: killed by SIGPIPE
/// (a signal, not an exit code), nothing on stderr, like kustomize.
#[test]
fn closed_stdout_pipe_dies_of_sigpipe_silently() {
    let tree = big_tree();
    let root = tree.root();
    let (status, stderr) = run_with_closed_pipe(
        env!("CARGO_BIN_EXE_rustomize"),
        &[Path::new("build"), &root],
        true,
    );
    assert_eq!(status.signal(), Some(SIGPIPE), "{status:?}");
    assert_eq!(stderr, "");
    if kubectl_available() {
        let (status, stderr) =
            run_with_closed_pipe("kubectl", &[Path::new("kustomize"), &root], true);
        assert_eq!(status.signal(), Some(SIGPIPE), "kubectl: {status:?}");
        assert_eq!(stderr, "", "kubectl");
    }
}

/// A closed stderr pipe while a warning is printed: kustomize prints its
/// warnings before the YAML and dies of SIGPIPE on the first one, so stdout
/// stays empty. We do the same rather than panicking in `eprintln!`.
#[test]
fn closed_stderr_pipe_with_warnings_dies_of_sigpipe_before_the_output() {
    let tree = warning_tree();
    let root = tree.root();
    let (status, stdout) = run_with_closed_pipe(
        env!("CARGO_BIN_EXE_rustomize"),
        &[Path::new("build"), &root],
        false,
    );
    assert_eq!(status.signal(), Some(SIGPIPE), "{status:?}");
    assert_eq!(stdout, "");
    if kubectl_available() {
        let (status, stdout) =
            run_with_closed_pipe("kubectl", &[Path::new("kustomize"), &root], false);
        assert_eq!(status.signal(), Some(SIGPIPE), "kubectl: {status:?}");
        assert_eq!(stdout, "", "kubectl");
    }
}

/// stdout closed outright (`>&-`, no descriptor at all): kustomize exits 0
/// without a word; the Rust runtime points the missing descriptor at /dev/null,
/// so we exit 0 quietly too.
#[test]
fn stdout_closed_descriptor_exits_0_quietly() {
    let tree = small_tree();
    let script = r#""$1" build "$2" >&-; echo "status=$?""#;
    let ours = bash(&tree, script, &[env!("CARGO_BIN_EXE_rustomize")]);
    assert_eq!(ours, ("status=0\n".to_owned(), String::new()));
    if kubectl_available() {
        let script = r#"kubectl kustomize "$1" >&-; echo "status=$?""#;
        assert_eq!(bash(&tree, script, &[]), ours, "kubectl kustomize differs");
    }
}

/// Names in `dir` that look like our temporary files.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".rustomize-"))
        .collect()
}

/// `-o FILE` writes exactly what stdout would get, replaces an existing file,
/// and leaves no temporary file behind.
#[test]
fn output_file_gets_the_stdout_bytes_and_no_temporary_is_left() {
    let tree = small_tree();
    let expected = tree.build(&[]).assert_ok().to_owned();
    tree.file("out/result.yaml", "OLD CONTENT\n");
    let out = tree.path("out/result.yaml");
    let run = tree.build(&["-o", out.to_str().expect("utf-8")]);
    assert_eq!(run.assert_ok(), "");
    assert_eq!(run.stderr, "");
    assert_eq!(std::fs::read_to_string(&out).expect("read"), expected);
    assert!(leftovers(&tree.path("out")).is_empty());
}

/// `-o FILE` over a file that already holds exactly the output leaves it in
/// place (same inode) with a fresh modification time, the kernel's as a
/// rewrite in place would set it; any old file that differs anywhere (first byte, past the first 64 KiB
/// write, last byte, longer, shorter, empty) gets the output whole.
#[test]
fn output_file_already_equal_is_kept_and_any_difference_replaced() {
    use std::os::unix::fs::MetadataExt;
    let tree = big_tree();
    let expected = tree.build(&[]).assert_ok().to_owned();
    assert!(expected.len() > 3 << 16, "the output spans several writes");
    let out = tree.path("out/result.yaml");
    let build = || {
        let run = tree.build(&["-o", out.to_str().expect("utf-8")]);
        assert_eq!(run.assert_ok(), "");
        assert_eq!(std::fs::read_to_string(&out).expect("read"), expected);
        assert!(leftovers(&tree.path("out")).is_empty());
    };
    let long_ago = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30);
    let set_old = |text: &str| {
        tree.file("out/result.yaml", text);
        let file = std::fs::File::options()
            .write(true)
            .open(&out)
            .expect("open");
        file.set_modified(long_ago).expect("set mtime");
        std::fs::metadata(&out).expect("stat").ino()
    };

    let inode = set_old(&expected);
    build();
    let meta = std::fs::metadata(&out).expect("stat");
    assert_eq!(meta.ino(), inode, "an equal file is kept in place");
    assert!(
        meta.modified().expect("mtime") > long_ago,
        "and its time is new"
    );
    // The kernel's own "now" (as a write stamps it), not the system clock's:
    // that one runs ahead of file stamps, and the output would look newer
    // than files written after it (make would rebuild what follows it).
    assert_eq!(
        (meta.mtime(), meta.mtime_nsec()),
        (meta.ctime(), meta.ctime_nsec()),
        "the time is set as a write sets it"
    );

    let mut middle = expected.clone().into_bytes();
    middle[(1 << 16) + 10] ^= 1;
    let mut last = expected.clone().into_bytes();
    *last.last_mut().expect("not empty") ^= 1;
    let different = [
        format!("x{}", &expected[1..]),
        String::from_utf8(middle).expect("ascii"),
        String::from_utf8(last).expect("ascii"),
        format!("{expected}more\n"),
        expected[..expected.len() - 1].to_owned(),
        expected[..1 << 16].to_owned(),
        String::new(),
    ];
    for old in different {
        let inode = set_old(&old);
        build();
        assert_ne!(std::fs::metadata(&out).expect("stat").ino(), inode);
    }
}

/// A failing build never touches the existing `-o` file (kustomize: the same,
/// it fails before opening it).
#[test]
fn output_file_survives_a_failing_build() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- missing.yaml\n")
        .file("out.yaml", "OLD CONTENT\n");
    let out = tree.path("out.yaml");
    assert_fails!(tree, tree.build(&["-o", out.to_str().expect("utf-8")]));
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "OLD CONTENT\n"
    );
    assert!(leftovers(tree.base()).is_empty());
}

/// `-o` into a directory that does not exist: kustomize fails (`open ...: no
/// such file or directory`) and creates nothing; so do we, in one line.
#[test]
fn output_into_a_missing_directory_fails_cleanly() {
    let tree = small_tree();
    let out = tree.path("no/such/dir/out.yaml");
    assert_fails!(tree, tree.build(&["-o", out.to_str().expect("utf-8")]));
    assert!(!tree.path("no").exists());
}

/// `-o DIR`: kustomize writes one file per resource into an existing
/// directory; a resource whose file name would hold a `/` (and so reach
/// outside DIR) is refused instead.
#[test]
fn output_to_a_directory_never_leaves_it() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- r.yaml\n");
    tree.file(
        "root/r.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../escaped\n",
    );
    tree.dir("outdir");
    let out = tree.path("outdir");
    assert_fails!(tree, tree.build(&["-o", out.to_str().expect("utf-8")]));
    assert_eq!(std::fs::read_dir(&out).expect("read_dir").count(), 0);
}

/// `-o /dev/full`: a device is written in place (as kustomize does, which fails
/// with `no space left on device`), never replaced by a regular file.
#[test]
fn output_to_dev_full_fails_with_no_space() {
    if !Path::new("/dev/full").exists() {
        eprintln!("note: no /dev/full; case skipped");
        return;
    }
    let tree = small_tree();
    assert_fails!(tree, tree.build(&["-o", "/dev/full"]));
    let meta = std::fs::metadata("/dev/full").expect("/dev/full");
    assert!(!meta.is_file(), "/dev/full was replaced by a regular file");
}

/// `-o /dev/stdout` streams to stdout, as with kustomize.
#[test]
fn output_to_dev_stdout_streams() {
    let tree = small_tree();
    let expected = tree.build(&[]).assert_ok().to_owned();
    let run = tree.build(&["-o", "/dev/stdout"]);
    assert_eq!(run.assert_ok(), expected);
}

/// `-o LINK`: kustomize writes through a symlink (the link stays, its target
/// gets the output; a dangling link creates its target). So do we, atomically
/// on the target.
#[test]
fn output_through_a_symlink_writes_its_target() {
    let tree = small_tree();
    let expected = tree.build(&[]).assert_ok().to_owned();
    tree.file("out/target.yaml", "OLD CONTENT\n")
        .symlink("target.yaml", "out/link.yaml")
        .symlink("created.yaml", "out/dangling.yaml");
    for (link, target) in [
        ("link.yaml", "target.yaml"),
        ("dangling.yaml", "created.yaml"),
    ] {
        let link = tree.path(&format!("out/{link}"));
        tree.build(&["-o", link.to_str().expect("utf-8")])
            .assert_ok();
        let meta = std::fs::symlink_metadata(&link).expect("link");
        assert!(
            meta.file_type().is_symlink(),
            "{} was replaced",
            link.display()
        );
        let written = std::fs::read_to_string(tree.path(&format!("out/{target}")));
        assert_eq!(written.expect("target"), expected);
    }
    assert!(leftovers(&tree.path("out")).is_empty());
}

/// Mode of `-o FILE` after `sh -c 'umask MASK; PROGRAM ... -o FILE'`.
fn mode_after(tree: &Tree, program: &[&str], umask: &str, file: &Path) -> u32 {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$@\""))
        .arg("sh")
        .args(program)
        .arg(tree.root())
        .arg("-o")
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("sh");
    assert!(status.success(), "{program:?}");
    std::fs::metadata(file)
        .expect("written")
        .permissions()
        .mode()
        & 0o7777
}

/// Permissions like kustomize's `os.WriteFile`: a new file is 0666 less the
/// umask (not the 0600 of a temporary file), an existing file keeps its mode.
#[test]
fn output_file_permissions_follow_umask_or_the_old_file() {
    let tree = small_tree();
    let ours = [env!("CARGO_BIN_EXE_rustomize"), "build"];
    let check = |program: &[&str], name: &str| {
        let new = tree.path(&format!("{name}-new.yaml"));
        assert_eq!(mode_after(&tree, program, "022", &new), 0o644, "{name}");
        let private = tree.path(&format!("{name}-private.yaml"));
        assert_eq!(mode_after(&tree, program, "077", &private), 0o600, "{name}");
        let kept = tree.path(&format!("{name}-kept.yaml"));
        std::fs::write(&kept, "old").expect("write");
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        assert_eq!(mode_after(&tree, program, "022", &kept), 0o640, "{name}");
    };
    check(&ours, "ours");
    if kubectl_available() {
        check(&["kubectl", "kustomize"], "kubectl");
    }
}

/// A full disk on a real file system (a 64 KiB tmpfs, when this process may
/// mount one): kustomize leaves a truncated 64 KiB file; we leave the old file
/// whole and no temporary behind.
#[test]
fn full_disk_leaves_the_old_file_whole() {
    struct Mount<'a>(&'a Path);
    impl Drop for Mount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(self.0).status();
        }
    }
    let tree = big_tree();
    let mnt = tree.path("mnt");
    tree.dir("mnt");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !mounted {
        eprintln!("note: cannot mount a tmpfs here; full-disk case skipped");
        return;
    }
    let _unmount = Mount(&mnt);
    let out = mnt.join("out.yaml");
    std::fs::write(&out, "OLD CONTENT\n").expect("write");
    assert_fails!(tree, tree.build(&["-o", out.to_str().expect("utf-8")]));
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "OLD CONTENT\n"
    );
    assert!(leftovers(&mnt).is_empty());
}

/// Safety net for error lines: a message echoing a 1,000-character name is cut
/// to fit one line of at most 400 characters, keeping its head and its cause.
#[test]
fn overlong_error_is_cut_to_one_line() {
    let tree = Tree::new();
    tree.kustomization(&format!("resources:\n- {}.yaml\n", "x".repeat(1000)));
    let outcome = tree.build(&[]);
    let line = outcome.assert_failed();
    assert!(
        line.ends_with("xxx.yaml': File name too long (os error 36)"),
        "{line}"
    );
    // Where the cut falls depends on the length of the temp dir's path: the
    // snapshot shows the shape with the run of x's and the count collapsed.
    let (head, rest) = line.split_once(" [... ").expect("a cut");
    let (count, tail) = rest.split_once(" characters cut ...] ").expect("a count");
    assert!(count.parse::<usize>().expect("number") > 600, "{line}");
    let collapse = |s: &str| {
        let mut out = String::new();
        for c in s.chars() {
            if !(c == 'x' && out.ends_with("xxx")) {
                out.push(c);
            }
        }
        out
    };
    let shape = format!(
        "{} [... N characters cut ...] {}",
        collapse(&tree.normalise(head)),
        collapse(tail)
    );
    insta::assert_snapshot!(shape);
}

/// Safety net for error lines: line breaks and terminal escape sequences from
/// the input are shown escaped, never printed raw.
#[test]
fn error_with_newline_and_escape_sequence_stays_one_printable_line() {
    let tree = Tree::new();
    tree.kustomization("resources:\n- \"a\\nb\\e[31mred.yaml\"\n");
    let outcome = tree.build(&[]);
    assert!(!outcome.stderr.contains('\u{1b}'), "{}", outcome.stderr);
    assert_fails!(tree, outcome);
}
