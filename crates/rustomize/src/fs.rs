//! The file systems a build can read: the disk ([`DiskFs`]) and memory
//! ([`MemoryFs`]), behind one small trait ([`FileSystem`]).
//!
//! The trait holds only what the loader needs to resolve paths the way the
//! operating system does (symlinks, `.` and `..`) and to read a file no larger
//! than a limit. Everything kustomize-specific — the load restrictor, the
//! escape checks against each kustomization root, the byte and kustomization
//! budgets, the kustomization file names — lives in the loader
//! ([`crate::load`]) and applies to every file system alike.
//!
//! [`DiskFs`] keeps the loader's hardening for hostile trees on disk: only
//! regular files are read (never a FIFO, device, socket or directory), the
//! size is checked before opening and again on the open handle, the file is
//! opened without following a final symlink and without blocking, and on
//! Linux the file actually opened is checked against the kustomization root
//! (a directory on the path may have been swapped for a symlink after the
//! path was resolved): opened with no symlink anywhere on its path
//! (`openat2`), it lies where its path says; else `/proc/self/fd` names it.
//!
//! Helm charts and exec plugins run other programs on real directories: a
//! build over a file system that is not the disk refuses them with an error
//! saying they need a file system on disk.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::error::FileCause;

/// What kind of entry a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (only from [`FileSystem::symlink_metadata`]).
    Symlink,
    /// Anything else (a FIFO, a device, a socket), named for error messages
    /// (`"FIFO"`, `"character device"`, ...).
    Other(&'static str),
}

/// The kind and size of a file system entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// What the entry is.
    pub kind: FileKind,
    /// Its size in bytes (the content length of a regular file).
    pub len: u64,
}

impl Metadata {
    /// Whether the entry is a directory.
    pub fn is_dir(&self) -> bool {
        self.kind == FileKind::Dir
    }

    /// Whether the entry is a regular file.
    pub fn is_file(&self) -> bool {
        self.kind == FileKind::File
    }

    /// Whether the entry is a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.kind == FileKind::Symlink
    }
}

/// Why [`FileSystem::read_file`] refused or failed to read a file.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError {
    /// The file cannot be read as asked (missing, not a regular file, over the
    /// size limit, an I/O error, ...).
    Cause(FileCause),
    /// The file actually opened lies outside the directory the caller confined
    /// the read to: the path was changed (a directory swapped for a symlink)
    /// between resolving and opening it. Holds the real path of what was opened.
    Escaped(PathBuf),
}

impl From<FileCause> for ReadError {
    fn from(cause: FileCause) -> Self {
        ReadError::Cause(cause)
    }
}

/// A file system a build reads kustomizations from.
///
/// Paths are absolute once the loader has resolved them; a relative path
/// handed to [`FileSystem::canonicalize`] is relative to the file system's
/// current directory (the process's for [`DiskFs`], `/` for [`MemoryFs`]).
/// Errors are [`io::Error`]s whose [`io::ErrorKind`] says what happened
/// (`NotFound`, `NotADirectory`, `PermissionDenied`; a symlink loop is
/// `ELOOP` on Unix), so the loader names causes the same way on every file
/// system.
///
/// Implementations must be shareable between the threads of a build.
pub trait FileSystem: Send + Sync + fmt::Debug {
    /// The absolute path `path` names with every symlink, `.` and `..`
    /// resolved (as `std::fs::canonicalize`); fails if it does not exist.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf>;

    /// The absolute path relative paths are taken from. The default asks
    /// [`FileSystem::canonicalize`] for `.`; [`DiskFs`] names it as Go's
    /// `os.Getwd` does (kustomize cleans a relative kustomization argument
    /// against it as text).
    fn current_dir(&self) -> io::Result<PathBuf> {
        self.canonicalize(Path::new("."))
    }

    /// Metadata of what `path` names, following symlinks.
    fn metadata(&self, path: &Path) -> io::Result<Metadata>;

    /// Metadata of `path` itself: a final symlink is reported as
    /// [`FileKind::Symlink`], not followed.
    fn symlink_metadata(&self, path: &Path) -> io::Result<Metadata>;

    /// The names of the entries of a directory, sorted.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<OsString>>;

    /// Reads the regular file at `path` (already resolved by
    /// [`FileSystem::canonicalize`]), which must be at most `max_bytes` bytes
    /// long ([`FileCause::TooLarge`], or [`FileCause::Grew`] if it grows while
    /// being read) and a regular file ([`FileCause::NotRegular`]). With
    /// `confine`, the file actually read must lie in or below that directory
    /// ([`ReadError::Escaped`] otherwise), checked after opening where the
    /// file system can tell what was opened.
    fn read_file(
        &self,
        path: &Path,
        max_bytes: usize,
        confine: Option<&Path>,
    ) -> Result<Vec<u8>, ReadError>;

    /// As [`FileSystem::read_file`], for a path whose final name the caller
    /// has just found, through [`FileSystem::symlink_metadata`], to be `seen`
    /// (no symlink): the file system may take that for its own check of the
    /// type and size before opening instead of asking again. The default
    /// ignores `seen`.
    fn read_file_seen(
        &self,
        path: &Path,
        seen: Metadata,
        max_bytes: usize,
        confine: Option<&Path>,
    ) -> Result<Vec<u8>, ReadError> {
        let _ = seen;
        self.read_file(path, max_bytes, confine)
    }

    /// Whether [`FileSystem::read_file`] checks the real path of what it
    /// opened against `confine` after opening, so a directory swapped for a
    /// symlink after the loader resolved a path is caught there. The loader
    /// then remembers, for the rest of a build, which directories it found to
    /// be real (no symlink) instead of asking again for every path through
    /// them. Only [`DiskFs`] on Linux says yes.
    fn checks_opened_path(&self) -> bool {
        false
    }

    /// Whether paths of this file system are paths on the local disk, which
    /// other programs (Helm, exec plugins) can be given. Only [`DiskFs`]
    /// says yes.
    fn is_disk(&self) -> bool {
        false
    }
}

/// The local disk, read with the loader's guards (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct DiskFs;

impl FileSystem for DiskFs {
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }

    /// `$PWD` when it is absolute and names the working directory (a shell
    /// keeps there the path it was reached by, symlinks and all), else the
    /// kernel's symlink-free one: Go's `os.Getwd`, which kustomize cleans a
    /// relative argument against (`cd` through a link, `../app` is the
    /// link's sibling).
    fn current_dir(&self) -> io::Result<PathBuf> {
        #[cfg(unix)]
        if let Some(pwd) = std::env::var_os("PWD").map(PathBuf::from) {
            use std::os::unix::fs::MetadataExt;
            if pwd.is_absolute() {
                if let (Ok(named), Ok(dot)) = (std::fs::metadata(&pwd), std::fs::metadata(".")) {
                    if named.dev() == dot.dev() && named.ino() == dot.ino() {
                        return Ok(pwd);
                    }
                }
            }
        }
        std::env::current_dir()
    }

    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        std::fs::metadata(path).map(|m| disk_metadata(&m))
    }

    fn symlink_metadata(&self, path: &Path) -> io::Result<Metadata> {
        std::fs::symlink_metadata(path).map(|m| disk_metadata(&m))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<OsString>> {
        let mut names = std::fs::read_dir(path)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<io::Result<Vec<_>>>()?;
        names.sort();
        Ok(names)
    }

    fn read_file(
        &self,
        path: &Path,
        max_bytes: usize,
        confine: Option<&Path>,
    ) -> Result<Vec<u8>, ReadError> {
        read_guarded(path, None, max_bytes, confine)
    }

    fn read_file_seen(
        &self,
        path: &Path,
        seen: Metadata,
        max_bytes: usize,
        confine: Option<&Path>,
    ) -> Result<Vec<u8>, ReadError> {
        // A symlink is followed by `read_file`'s own check (and then refused
        // by the open), as before.
        let seen = (!seen.is_symlink()).then_some(seen);
        read_guarded(path, seen, max_bytes, confine)
    }

    fn checks_opened_path(&self) -> bool {
        cfg!(target_os = "linux")
    }

    fn is_disk(&self) -> bool {
        true
    }
}

fn disk_metadata(meta: &std::fs::Metadata) -> Metadata {
    let kind = meta.file_type();
    let kind = if kind.is_file() {
        FileKind::File
    } else if kind.is_dir() {
        FileKind::Dir
    } else if kind.is_symlink() {
        FileKind::Symlink
    } else {
        FileKind::Other(kind_name(&kind))
    };
    Metadata {
        kind,
        len: meta.len(),
    }
}

/// Under a confining directory, the file actually opened must still lie in
/// it: a directory on the path may have been replaced by a symlink after the
/// path was resolved. A file opened with no symlink anywhere on its path
/// (`symlink_free`, see [`open_no_block`]) lies where its path says, when
/// that path has no `..`; otherwise Linux names an open file's real path under
/// `/proc/self/fd`. Where neither is available the loader's earlier checks stand.
fn check_opened(
    file: &std::fs::File,
    path: &Path,
    symlink_free: bool,
    confine: Option<&Path>,
) -> Result<(), ReadError> {
    let Some(root) = confine else {
        return Ok(());
    };
    if symlink_free
        && path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
    {
        if !path.starts_with(root) {
            return Err(ReadError::Escaped(path.to_path_buf()));
        }
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let link = format!("/proc/self/fd/{}", file.as_raw_fd());
        if let Ok(real) = std::fs::read_link(link) {
            if !real.starts_with(root) {
                return Err(ReadError::Escaped(real));
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
    Ok(())
}

/// Reads a symlink-resolved path that must be a regular file of at most
/// `max_bytes` bytes. The type and size are checked before opening (so a
/// device is never opened and a FIFO never blocks) — on `seen`, the caller's
/// metadata of the path taken just before, or else on a fresh `stat` — the
/// file is opened non-blocking without following a final symlink, checked
/// again on the handle (the path may have been swapped meanwhile) and by
/// [`check_opened`] against `confine`, and read by [`read_bounded`] so a
/// growing file cannot exceed the limit either.
pub(crate) fn read_guarded(
    path: &Path,
    seen: Option<Metadata>,
    max_bytes: usize,
    confine: Option<&Path>,
) -> Result<Vec<u8>, ReadError> {
    let size = match seen {
        Some(meta) => check_seen(&meta, max_bytes)?,
        None => check_regular(&std::fs::metadata(path).map_err(io_cause)?, max_bytes)?,
    };
    let (mut file, symlink_free) = open_no_block(path, confine.is_some()).map_err(io_cause)?;
    let meta = file.metadata().map_err(io_cause)?;
    let size = size.max(check_regular(&meta, max_bytes)?);
    check_opened(&file, path, symlink_free, confine)?;
    read_bounded(&mut file, size, max_bytes)
}

/// Reads `file`, `size` bytes long when it was opened, to its end, failing
/// once it holds more than `max_bytes` bytes ([`FileCause::Grew`]). The
/// buffer is reserved once, for `size` bytes and one more, and filled
/// without being zeroed first (clearing 10 MB the read then overwrites was
/// ~1% of a Kubeflow build): a file that did not change takes one read that
/// fills it and one that finds the end. A file that grew, or reports no size
/// (`/proc`), reads on, the buffer growing, up to the limit and one byte.
fn read_bounded(
    file: &mut std::fs::File,
    size: u64,
    max_bytes: usize,
) -> Result<Vec<u8>, ReadError> {
    // The size checks before keep `size` within the limit.
    let size = usize::try_from(size).unwrap_or(max_bytes).min(max_bytes);
    let cap = max_bytes.saturating_add(1);
    let mut bytes = Vec::with_capacity(size.saturating_add(1).min(cap));
    let limit = u64::try_from(cap).unwrap_or(u64::MAX);
    file.take(limit).read_to_end(&mut bytes).map_err(io_cause)?;
    if bytes.len() > max_bytes {
        return Err(FileCause::Grew { limit: max_bytes }.into());
    }
    Ok(bytes)
}

/// An I/O error on an already-resolved path as a read error (no dangling
/// symlink to tell apart: the path has none).
fn io_cause(error: io::Error) -> ReadError {
    ReadError::Cause(FileCause::from_io(error))
}

/// The size of a regular file within `max_bytes`, or why it may not be read.
fn check_regular(meta: &std::fs::Metadata, max_bytes: usize) -> Result<u64, FileCause> {
    if !meta.is_file() {
        return Err(FileCause::NotRegular(kind_name(&meta.file_type())));
    }
    check_size(meta.len(), max_bytes)
}

/// As [`check_regular`], on the loader's metadata of the path.
fn check_seen(meta: &Metadata, max_bytes: usize) -> Result<u64, FileCause> {
    match meta.kind {
        FileKind::File => check_size(meta.len, max_bytes),
        FileKind::Dir => Err(FileCause::NotRegular("directory")),
        FileKind::Symlink => Err(FileCause::NotRegular("symlink")),
        FileKind::Other(name) => Err(FileCause::NotRegular(name)),
    }
}

/// `size` if it is within `max_bytes`.
fn check_size(size: u64, max_bytes: usize) -> Result<u64, FileCause> {
    if usize::try_from(size).map_or(true, |s| s > max_bytes) {
        return Err(FileCause::TooLarge {
            size,
            limit: max_bytes,
        });
    }
    Ok(size)
}

/// Opens `path` for reading without blocking (a FIFO swapped in after the type
/// check must not hang the build) and without following a final symlink (the
/// path was resolved already; a symlink there now is a swap); and says whether
/// no symlink was followed anywhere on the path.
///
/// With `symlink_free` asked, Linux first tries `openat2` with
/// `RESOLVE_NO_SYMLINKS`: the kernel then vouches that the file lies where
/// its path says, which spares [`check_opened`] a `readlink` of
/// `/proc/self/fd`. If that fails for any reason (a symlink on the path, an
/// older kernel, a sandbox refusing the call, a missing file), the plain open
/// decides, as it always did.
#[cfg(unix)]
fn open_no_block(path: &Path, symlink_free: bool) -> io::Result<(std::fs::File, bool)> {
    #[cfg(target_os = "linux")]
    if symlink_free {
        use rustix::fs::{Mode, OFlags, ResolveFlags, CWD};
        let flags =
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::CLOEXEC;
        if let Ok(fd) =
            rustix::fs::openat2(CWD, path, flags, Mode::empty(), ResolveFlags::NO_SYMLINKS)
        {
            return Ok((std::fs::File::from(fd), true));
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = symlink_free;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(path)?;
    Ok((file, false))
}

#[cfg(not(unix))]
fn open_no_block(path: &Path, _symlink_free: bool) -> io::Result<(std::fs::File, bool)> {
    std::fs::File::open(path).map(|f| (f, false))
}

/// What kind of non-regular file a file type is, for error messages.
fn kind_name(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        return "directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "FIFO";
        }
        if kind.is_char_device() {
            return "character device";
        }
        if kind.is_block_device() {
            return "block device";
        }
        if kind.is_socket() {
            return "socket";
        }
    }
    if kind.is_symlink() {
        return "symlink";
    }
    "special file"
}

/// The error a symlink loop gives on this platform (`ELOOP` on Unix).
fn loop_error() -> io::Error {
    #[cfg(unix)]
    {
        io::Error::from_raw_os_error(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        io::Error::other("too many levels of symbolic links")
    }
}

/// Most symlinks one path resolution follows before it is a loop (Linux's limit).
const MAX_SYMLINKS: usize = 40;

/// One entry of a [`MemoryFs`].
#[derive(Clone, Debug)]
enum Node {
    File(Arc<[u8]>),
    Dir,
    Symlink(PathBuf),
}

/// A file system held in memory: regular files, directories and symbolic
/// links under `/`, for embedders that render kustomizations they hold
/// rather than ones on disk (a controller's fetched sources, a test).
///
/// Paths are absolute (a relative path is taken from `/`); adding a file or
/// link creates its missing parent directories. Symlinks resolve as on Unix:
/// relative targets from the link's directory, at most 40 per path. Cloning
/// is cheap (contents are shared), and the file system may be changed while
/// it is shared (`&self` methods), though a build should not race a change.
///
/// ```
/// use rustomize::{Kustomizer, MemoryFs};
///
/// let fs = MemoryFs::new();
/// fs.add_file("/app/kustomization.yaml", "resources: [cm.yaml]\nnamePrefix: dev-\n");
/// fs.add_file("/app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n");
/// let build = Kustomizer::new().file_system(fs).build("/app")?;
/// assert_eq!(build.resources()[0].name(), "dev-settings");
/// # Ok::<(), rustomize::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryFs {
    nodes: Arc<RwLock<BTreeMap<PathBuf, Node>>>,
}

impl MemoryFs {
    /// An empty file system (only `/`).
    pub fn new() -> MemoryFs {
        MemoryFs::default()
    }

    /// Adds (or replaces) a regular file, creating its parent directories.
    pub fn add_file(&self, path: impl AsRef<Path>, contents: impl Into<Vec<u8>>) {
        let path = absolute(path.as_ref());
        self.add_parents(&path);
        let contents: Arc<[u8]> = contents.into().into();
        self.write().insert(path, Node::File(contents));
    }

    /// Adds a directory and its missing parents.
    pub fn add_dir(&self, path: impl AsRef<Path>) {
        let path = absolute(path.as_ref());
        self.add_parents(&path);
        if path.parent().is_some() {
            self.write().insert(path, Node::Dir);
        }
    }

    /// Adds (or replaces) a symbolic link at `path` pointing to `target`
    /// (absolute, or relative to the link's directory), creating the link's
    /// parent directories. The target need not exist.
    pub fn add_symlink(&self, path: impl AsRef<Path>, target: impl AsRef<Path>) {
        let path = absolute(path.as_ref());
        self.add_parents(&path);
        self.write()
            .insert(path, Node::Symlink(target.as_ref().to_path_buf()));
    }

    /// Removes the entry at `path` (and everything below it).
    pub fn remove(&self, path: impl AsRef<Path>) {
        let path = absolute(path.as_ref());
        self.write().retain(|p, _| !p.starts_with(&path));
    }

    /// Copies the directory tree at `dir` on disk into this file system at
    /// `to`: regular files, directories and symlinks (kept as links, targets
    /// unchanged). Other kinds of files are skipped.
    pub fn copy_from_disk(&self, dir: &Path, to: impl AsRef<Path>) -> io::Result<()> {
        let to = absolute(to.as_ref());
        self.add_dir(&to);
        let mut pending = vec![(dir.to_path_buf(), to)];
        while let Some((from, to)) = pending.pop() {
            for entry in std::fs::read_dir(&from)? {
                let entry = entry?;
                let source = entry.path();
                let target = to.join(entry.file_name());
                let kind = entry.file_type()?;
                if kind.is_symlink() {
                    self.add_symlink(&target, std::fs::read_link(&source)?);
                } else if kind.is_dir() {
                    self.add_dir(&target);
                    pending.push((source, target));
                } else if kind.is_file() {
                    self.add_file(&target, std::fs::read(&source)?);
                }
            }
        }
        Ok(())
    }

    fn add_parents(&self, path: &Path) {
        let mut nodes = self.write();
        let mut parent = path.parent();
        while let Some(dir) = parent {
            if dir.parent().is_none() {
                break;
            }
            nodes.entry(dir.to_path_buf()).or_insert(Node::Dir);
            parent = dir.parent();
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<PathBuf, Node>> {
        self.nodes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<PathBuf, Node>> {
        self.nodes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The node at an absolute, `.`-free path, resolving symlinks on the way
    /// (and a final one if `follow`): its resolved path and the node (`None`
    /// for `/`).
    fn resolve(&self, path: &Path, follow: bool) -> io::Result<(PathBuf, Option<Node>)> {
        let nodes = self.read();
        let mut links = 0;
        let mut pending: Vec<OsString> = components(&absolute(path));
        pending.reverse();
        let mut here = root_path();
        let mut node: Option<Node> = None;
        while let Some(name) = pending.pop() {
            // Only a directory may be looked into (or out of).
            if let Some(n) = &node {
                if !matches!(n, Node::Dir) {
                    return Err(io::ErrorKind::NotADirectory.into());
                }
            }
            if name == ".." {
                here.pop();
                node = nodes.get(&here).cloned();
                continue;
            }
            let next = here.join(&name);
            let Some(found) = nodes.get(&next).cloned() else {
                return Err(io::ErrorKind::NotFound.into());
            };
            match found {
                Node::Symlink(target) if follow || !pending.is_empty() => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(loop_error());
                    }
                    let mut rest = components(&target);
                    rest.reverse();
                    pending.extend(rest);
                    if target.has_root() {
                        here = root_path();
                        node = None;
                    }
                }
                other => {
                    here = next;
                    node = Some(other);
                }
            }
        }
        Ok((here, node))
    }
}

/// `/` on this platform.
fn root_path() -> PathBuf {
    PathBuf::from(std::path::MAIN_SEPARATOR_STR)
}

/// `path` made absolute from `/`, with `.` dropped (`..` is kept: it may
/// follow a symlink).
fn absolute(path: &Path) -> PathBuf {
    let mut out = root_path();
    for c in path.components() {
        match c {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => out.push(".."),
            _ => {}
        }
    }
    out
}

/// The names along a path (`..` included, `.` and the root left out).
fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

fn memory_metadata(node: Option<&Node>) -> Metadata {
    match node {
        None | Some(Node::Dir) => Metadata {
            kind: FileKind::Dir,
            len: 0,
        },
        Some(Node::File(bytes)) => Metadata {
            kind: FileKind::File,
            len: bytes.len() as u64,
        },
        Some(Node::Symlink(target)) => Metadata {
            kind: FileKind::Symlink,
            len: target.as_os_str().len() as u64,
        },
    }
}

impl FileSystem for MemoryFs {
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        self.resolve(path, true).map(|(p, _)| p)
    }

    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        self.resolve(path, true)
            .map(|(_, node)| memory_metadata(node.as_ref()))
    }

    fn symlink_metadata(&self, path: &Path) -> io::Result<Metadata> {
        self.resolve(path, false)
            .map(|(_, node)| memory_metadata(node.as_ref()))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<OsString>> {
        let (dir, node) = self.resolve(path, true)?;
        if !matches!(node, None | Some(Node::Dir)) {
            return Err(io::ErrorKind::NotADirectory.into());
        }
        let nodes = self.read();
        Ok(nodes
            .range(dir.clone()..)
            .skip_while(|(p, _)| **p == dir)
            .take_while(|(p, _)| p.starts_with(&dir))
            .filter(|(p, _)| p.parent() == Some(dir.as_path()))
            .filter_map(|(p, _)| p.file_name().map(|n| n.to_owned()))
            .collect())
    }

    fn read_file(
        &self,
        path: &Path,
        max_bytes: usize,
        confine: Option<&Path>,
    ) -> Result<Vec<u8>, ReadError> {
        let (real, node) = self
            .resolve(path, true)
            .map_err(|e| ReadError::Cause(FileCause::from_io(e)))?;
        let bytes = match node {
            Some(Node::File(bytes)) => bytes,
            None | Some(Node::Dir) => return Err(FileCause::NotRegular("directory").into()),
            Some(Node::Symlink(_)) => return Err(FileCause::NotRegular("symlink").into()),
        };
        check_size(bytes.len() as u64, max_bytes)?;
        if let Some(root) = confine {
            if !real.starts_with(root) {
                return Err(ReadError::Escaped(real));
            }
        }
        Ok(bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn memory_paths_resolve_like_unix() {
        let fs = MemoryFs::new();
        fs.add_file("/a/b/file.yaml", "x");
        fs.add_symlink("/a/link", "b");
        fs.add_symlink("/a/up", "../a/b/file.yaml");
        fs.add_symlink("/loop", "/loop");
        fs.add_symlink("/dangling", "/nowhere");
        assert_eq!(
            fs.canonicalize(Path::new("/a/link/file.yaml")).unwrap(),
            Path::new("/a/b/file.yaml")
        );
        assert_eq!(
            fs.canonicalize(Path::new("/a/up")).unwrap(),
            Path::new("/a/b/file.yaml")
        );
        assert_eq!(
            fs.canonicalize(Path::new("a/b/../b/./file.yaml")).unwrap(),
            Path::new("/a/b/file.yaml")
        );
        assert!(fs
            .symlink_metadata(Path::new("/a/link"))
            .unwrap()
            .is_symlink());
        assert!(fs.metadata(Path::new("/a/link")).unwrap().is_dir());
        assert!(matches!(
            FileCause::from_io(fs.canonicalize(Path::new("/loop")).unwrap_err()),
            FileCause::Loop
        ));
        assert_eq!(
            fs.canonicalize(Path::new("/dangling")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!(
            fs.metadata(Path::new("/a/b/file.yaml/x"))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotADirectory
        );
        assert_eq!(fs.read_dir(Path::new("/a")).unwrap(), ["b", "link", "up"]);
    }

    #[test]
    fn disk_reads_take_the_size_on_the_handle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "0123456789").unwrap();
        let stale = Metadata {
            kind: FileKind::File,
            len: 3,
        };
        // Metadata taken before the file grew: the handle's size wins.
        assert_eq!(
            read_guarded(&path, Some(stale), 10, None).unwrap(),
            b"0123456789"
        );
        assert!(matches!(
            read_guarded(&path, Some(stale), 9, None),
            Err(ReadError::Cause(FileCause::TooLarge { size: 10, limit: 9 }))
        ));
        let fifo = Metadata {
            kind: FileKind::Other("FIFO"),
            len: 0,
        };
        assert!(matches!(
            read_guarded(&path, Some(fifo), 10, None),
            Err(ReadError::Cause(FileCause::NotRegular("FIFO")))
        ));
        std::fs::write(&path, "").unwrap();
        assert_eq!(read_guarded(&path, None, 10, None).unwrap(), b"");
    }

    #[test]
    fn disk_reads_are_bounded_past_the_reported_size() {
        // A regular file reporting no size reads on to its end, within the limit.
        #[cfg(target_os = "linux")]
        {
            let status = Path::new("/proc/self/status");
            let bytes = read_guarded(status, None, 1 << 20, None).unwrap();
            assert!(bytes.starts_with(b"Name:"));
            assert!(matches!(
                read_guarded(status, None, 16, None),
                Err(ReadError::Cause(FileCause::Grew { limit: 16 }))
            ));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![b'x'; 100_000]).unwrap();
        let mut file = std::fs::File::open(&path).unwrap();
        // Told a smaller size than it has (it grew): read on, up to the limit.
        assert_eq!(read_bounded(&mut file, 10, 100_000).unwrap().len(), 100_000);
        let mut file = std::fs::File::open(&path).unwrap();
        assert!(matches!(
            read_bounded(&mut file, 10, 99_999),
            Err(ReadError::Cause(FileCause::Grew { limit: 99_999 }))
        ));
    }

    #[test]
    fn memory_reads_are_bounded_and_confined() {
        let fs = MemoryFs::new();
        fs.add_file("/r/f", "0123456789");
        fs.add_file("/other/g", "x");
        assert_eq!(
            fs.read_file(Path::new("/r/f"), 10, Some(Path::new("/r")))
                .unwrap(),
            b"0123456789"
        );
        assert!(matches!(
            fs.read_file(Path::new("/r/f"), 9, None),
            Err(ReadError::Cause(FileCause::TooLarge { size: 10, limit: 9 }))
        ));
        assert!(matches!(
            fs.read_file(Path::new("/other/g"), 9, Some(Path::new("/r"))),
            Err(ReadError::Escaped(_))
        ));
        assert!(matches!(
            fs.read_file(Path::new("/r"), 9, None),
            Err(ReadError::Cause(FileCause::NotRegular("directory")))
        ));
    }
}
