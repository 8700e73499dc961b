//! The file server: holds, per [`FileId`], an O_PATH descriptor beneath one of its roots and
//! answers requests on the socket until the client closes it.
//!
//! What it guarantees, whatever the client sends:
//! - Nothing is reached except beneath a root. Every lookup is one validated name (not empty,
//!   ".", "..", and without '/' or NUL) opened relative to a held directory with O_NOFOLLOW, via
//!   openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS where the kernel
//!   has it. The server never follows a symlink: a walk returns the link as a component and
//!   stops there; the client (the Sentry) resolves it.
//! - A client can only name files by the ids the server handed out; a hard link is made only
//!   between held files of the same root.
//! - A read-only root refuses every mutating request with EROFS.
//! - Bad input is an error reply (EINVAL for a malformed message), never a panic or a hang:
//!   devices are never opened and FIFOs are opened non-blocking.
//!
//! Operations the kernel refuses on O_PATH descriptors (open, fchmod, utimes, ftruncate, fsync,
//! xattrs, link) reopen the held file through `/proc/self/fd/N`, opened once at start-up, which
//! names exactly the held inode with no path lookup beneath a root.
//!
//! This module makes no confinement decisions (see `confine`) and knows nothing of the socket
//! framing beyond `wire`'s send/recv.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::fmt;
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use syscalls::structs::{Stat, Timespec};
use syscalls::Errno;

use crate::host;
use crate::proto::{
    self, Dirent, FileId, Frame, Message, Node, Reply, Request, SetStat, WalkStatus, Xattr,
    MAX_MESSAGE, MAX_NAME, MAX_TARGET, MAX_XATTR, NO_ID, SETSTAT_ALL, SETSTAT_ATIME, SETSTAT_GID,
    SETSTAT_MODE, SETSTAT_MTIME, SETSTAT_SIZE, SETSTAT_UID,
};
use crate::wire::{self, Received};

/// A directory tree the server serves, as the launcher configures it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// Host path of the tree (opened once at start-up; symlinks in it are followed then).
    pub path: PathBuf,
    /// Refuse every mutating request with EROFS.
    pub read_only: bool,
}

impl Root {
    /// A root the client may read only.
    pub fn read_only(path: impl Into<PathBuf>) -> Root {
        Root {
            path: path.into(),
            read_only: true,
        }
    }

    /// A root the client may change.
    pub fn read_write(path: impl Into<PathBuf>) -> Root {
        Root {
            path: path.into(),
            read_only: false,
        }
    }
}

/// A `--root` argument that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad root {0:?}: want PATH, PATH:ro or PATH:rw")]
pub struct RootParseError(pub String);

impl FromStr for Root {
    type Err = RootParseError;

    /// Parses `PATH`, `PATH:ro` or `PATH:rw`. A bare path is read-only: writes must be asked
    /// for. A path that itself ends in ":ro" or ":rw" needs the suffix spelled out.
    fn from_str(s: &str) -> Result<Root, RootParseError> {
        let (path, read_only) = match s.rsplit_once(':') {
            Some((p, "ro")) => (p, true),
            Some((p, "rw")) => (p, false),
            _ => (s, true),
        };
        if path.is_empty() {
            return Err(RootParseError(s.to_string()));
        }
        Ok(Root {
            path: PathBuf::from(path),
            read_only,
        })
    }
}

impl fmt::Display for Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}",
            self.path.display(),
            if self.read_only { "ro" } else { "rw" }
        )
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A root could not be opened.
    #[error("cannot open root {}: {source}", path.display())]
    OpenRoot {
        /// The root's path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// /proc/self/fd could not be opened.
    #[error("cannot open /proc/self/fd (is /proc mounted?): {0}")]
    ProcFd(io::Error),
    /// Receiving a request failed.
    #[error("cannot receive a request from the Sentry: {0}")]
    Recv(io::Error),
    /// Sending a reply failed.
    #[error("cannot send a reply to the Sentry: {0}")]
    Send(io::Error),
}

/// An opened root.
struct HeldRoot {
    fd: OwnedFd,
    read_only: bool,
}

/// A file the client holds an id for.
struct HeldFile {
    /// O_PATH | O_NOFOLLOW descriptor of the inode.
    fd: OwnedFd,
    /// Index into `Server::roots`.
    root: usize,
    /// S_IFMT bits (an inode's type never changes).
    ftype: u32,
    /// For directories: an O_RDONLY descriptor for getdents, opened on first use.
    dir: Option<OwnedFd>,
}

/// Bytes of getdents64 output read at a time.
const DIRENT_CHUNK: usize = 32 * 1024;
/// The largest linux_dirent64 record (19-byte head, 255-byte name, NUL, padding).
const MAX_DIRENT_RECORD: usize = 280;

/// A server over a set of opened roots. [`Server::new`] opens them (before any confinement);
/// [`Server::run`] serves one client.
pub struct Server {
    roots: Vec<HeldRoot>,
    files: HashMap<u64, HeldFile>,
    next_id: u64,
    /// /proc/self/fd, for reopening held O_PATH descriptors.
    proc_fd: OwnedFd,
    /// openat2 with RESOLVE_BENEATH works here.
    openat2: bool,
    dirent_buf: Vec<u8>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("roots", &self.roots.len())
            .field("files", &self.files.len())
            .field("openat2", &self.openat2)
            .finish()
    }
}

fn open_path(path: &Path, dir: bool) -> io::Result<OwnedFd> {
    let mut flags = libc::O_PATH | libc::O_CLOEXEC;
    if dir {
        flags |= libc::O_DIRECTORY;
    }
    Ok(OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)?
        .into())
}

/// Validates one path component from the client.
fn component(name: &[u8]) -> Result<CString, Errno> {
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') {
        return Err(Errno::EINVAL);
    }
    if name.len() > MAX_NAME {
        return Err(Errno::ENAMETOOLONG);
    }
    CString::new(name).map_err(|_| Errno::EINVAL)
}

fn file_type(st: &Stat) -> u32 {
    st.st_mode & libc::S_IFMT
}

/// Serves `roots` on `sock` until the client closes it. No confinement: see
/// [`crate::confine()`] for what the gofer process does first.
pub fn serve(sock: OwnedFd, roots: Vec<Root>) -> Result<(), ServeError> {
    Server::new(roots)?.run(sock)
}

impl Server {
    /// Opens every root and /proc/self/fd.
    pub fn new(roots: Vec<Root>) -> Result<Server, ServeError> {
        let mut held = Vec::with_capacity(roots.len());
        for r in roots {
            let fd = open_path(&r.path, false).map_err(|source| ServeError::OpenRoot {
                path: r.path.clone(),
                source,
            })?;
            held.push(HeldRoot {
                fd,
                read_only: r.read_only,
            });
        }
        let proc_fd = open_path(Path::new("/proc/self/fd"), true).map_err(ServeError::ProcFd)?;
        let openat2 = match held.first() {
            Some(r) => host::fstat(r.fd.as_fd())
                .map(|st| file_type(&st) == libc::S_IFDIR && host::openat2_works(r.fd.as_fd()))
                .unwrap_or(false),
            None => false,
        };
        Ok(Server {
            roots: held,
            files: HashMap::new(),
            next_id: 1,
            proc_fd,
            openat2,
            dirent_buf: Vec::new(),
        })
    }

    /// Whether lookups use openat2 (RESOLVE_BENEATH) rather than plain openat with O_NOFOLLOW.
    pub fn uses_openat2(&self) -> bool {
        self.openat2
    }

    /// Looks names up with plain openat(O_PATH | O_NOFOLLOW) even where openat2 works: the
    /// fallback for kernels before 5.6, selectable so tests cover it everywhere.
    pub fn without_openat2(mut self) -> Server {
        self.openat2 = false;
        self
    }

    /// Serves requests on `sock` until the client closes it.
    pub fn run(mut self, sock: OwnedFd) -> Result<(), ServeError> {
        let mut inbuf = Vec::with_capacity(MAX_MESSAGE + 1);
        let mut out = Vec::with_capacity(MAX_MESSAGE);
        let mut fds = Vec::new();
        loop {
            // Requests never carry FDs: drop (close) any a confused client sent.
            fds.clear();
            let (len, bad) =
                match wire::recv(sock.as_fd(), &mut inbuf, &mut fds).map_err(ServeError::Recv)? {
                    Received::Eof => return Ok(()),
                    Received::Message {
                        len,
                        truncated,
                        fds_truncated,
                    } => (len, truncated || fds_truncated || !fds.is_empty()),
                };
            let bytes = &inbuf[..len];
            let tag = proto::peek_tag(bytes).unwrap_or(0);
            let (reply, fd) = if bad {
                (Reply::Error(Errno::EINVAL), None)
            } else {
                match proto::decode(bytes) {
                    Ok(Frame {
                        msg: Message::Request(req),
                        ..
                    }) => match self.handle(req) {
                        Ok(r) => r,
                        Err(e) => (Reply::Error(e), None),
                    },
                    Ok(Frame {
                        msg: Message::Reply(_),
                        ..
                    })
                    | Err(_) => (Reply::Error(Errno::EINVAL), None),
                }
            };
            let frame = Frame {
                tag,
                msg: Message::Reply(reply),
            };
            let fd = if proto::encode(&frame, &mut out).is_ok() {
                fd
            } else {
                // Cannot happen for replies we build (every field is bounded as we fill it),
                // but never send a half-built message.
                let err = Frame {
                    tag,
                    msg: Message::Reply(Reply::Error(Errno::EIO)),
                };
                if proto::encode(&err, &mut out).is_err() {
                    out.clear();
                }
                None
            };
            match wire::send(sock.as_fd(), &out, fd.as_ref().map(|f| f.as_fd())) {
                Ok(()) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EPIPE | libc::ECONNRESET)) => {
                    return Ok(())
                }
                Err(e) => return Err(ServeError::Send(e)),
            }
        }
    }

    /// Answers one request: the reply and, for Open and OpenCreate, the FD to donate.
    fn handle(&mut self, req: Request) -> Result<(Reply, Option<OwnedFd>), Errno> {
        let reply = match req {
            Request::Attach { root } => Reply::Attach(self.attach(root)?),
            Request::Walk { dir, names } => {
                let (status, found) = self.walk(dir, &names)?;
                let root = self.file(dir)?.root;
                let mut nodes = Vec::with_capacity(found.len());
                for (fd, stat) in found {
                    nodes.push(self.insert(fd, root, stat));
                }
                Reply::Walk { status, nodes }
            }
            Request::WalkStat { dir, names } => {
                let (status, found) = self.walk(dir, &names)?;
                Reply::WalkStat {
                    status,
                    stats: found.into_iter().map(|(_, st)| st).collect(),
                }
            }
            Request::Open { id, flags } => {
                let fd = self.open(id, flags)?;
                return Ok((Reply::Open, Some(fd)));
            }
            Request::OpenCreate {
                dir,
                name,
                flags,
                mode,
                uid,
                gid,
            } => {
                let (node, fd) = self.open_create(dir, &name, flags, mode, uid, gid)?;
                return Ok((Reply::OpenCreate(node), Some(fd)));
            }
            Request::Mkdir {
                dir,
                name,
                mode,
                uid,
                gid,
            } => Reply::Mkdir(self.mkdir(dir, &name, mode, uid, gid)?),
            Request::Mknod {
                dir,
                name,
                mode,
                uid,
                gid,
            } => Reply::Mknod(self.mknod(dir, &name, mode, uid, gid)?),
            Request::Symlink {
                dir,
                name,
                target,
                uid,
                gid,
            } => Reply::Symlink(self.symlink(dir, &name, &target, uid, gid)?),
            Request::Link { dir, name, target } => Reply::Link(self.link(dir, &name, target)?),
            Request::Unlink { dir, name, flags } => {
                self.unlink(dir, &name, flags)?;
                Reply::Unlink
            }
            Request::Rename {
                old_dir,
                old_name,
                new_dir,
                new_name,
                flags,
            } => {
                self.rename(old_dir, &old_name, new_dir, &new_name, flags)?;
                Reply::Rename
            }
            Request::Readlink { id } => {
                let f = self.file(id)?;
                if f.ftype != libc::S_IFLNK {
                    return Err(Errno::EINVAL);
                }
                Reply::Readlink(host::readlink_fd(f.fd.as_fd())?)
            }
            Request::Stat { id } => Reply::Stat(host::fstat(self.file(id)?.fd.as_fd())?),
            Request::SetStat { id, attr } => {
                self.set_stat(id, &attr)?;
                Reply::SetStat
            }
            Request::StatFs { id } => Reply::StatFs(host::fstatfs(self.file(id)?.fd.as_fd())?),
            Request::Getdents { dir, cookie } => Reply::Getdents(self.getdents(dir, cookie)?),
            Request::Fsync { id } => {
                self.fsync(id)?;
                Reply::Fsync
            }
            Request::GetXattr { id, name, size } => {
                Reply::GetXattr(self.get_xattr(id, &name, size)?)
            }
            Request::ListXattr { id, size } => Reply::ListXattr(self.list_xattr(id, size)?),
            Request::Close { ids } => {
                for id in ids {
                    self.files.remove(&id.0);
                }
                Reply::Close
            }
        };
        Ok((reply, None))
    }

    fn file(&self, id: FileId) -> Result<&HeldFile, Errno> {
        self.files.get(&id.0).ok_or(Errno::EBADF)
    }

    /// A held directory that may be changed (EROFS on a read-only root).
    fn writable_dir(&self, id: FileId) -> Result<&HeldFile, Errno> {
        let f = self.file(id)?;
        if f.ftype != libc::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        if self.roots[f.root].read_only {
            return Err(Errno::EROFS);
        }
        Ok(f)
    }

    fn insert(&mut self, fd: OwnedFd, root: usize, stat: Stat) -> Node {
        let id = self.next_id;
        self.next_id += 1;
        self.files.insert(
            id,
            HeldFile {
                fd,
                root,
                ftype: file_type(&stat),
                dir: None,
            },
        );
        Node {
            id: FileId(id),
            stat,
        }
    }

    /// Opens one component beneath `dir`, never following a symlink.
    fn lookup(
        &self,
        dir: BorrowedFd<'_>,
        name: &CStr,
        flags: i32,
        mode: u32,
    ) -> Result<OwnedFd, Errno> {
        if self.openat2 {
            host::openat2_beneath(dir, name, flags, mode)
        } else {
            host::openat(dir, name, flags, mode)
        }
    }

    /// Reopens a held file through /proc/self/fd with new flags.
    fn reopen(&self, fd: BorrowedFd<'_>, flags: i32) -> Result<OwnedFd, Errno> {
        let name = proc_name(fd);
        host::reopen(self.proc_fd.as_fd(), &name, flags)
    }

    fn attach(&mut self, root: u32) -> Result<Node, Errno> {
        let idx = root as usize;
        let r = self.roots.get(idx).ok_or(Errno::EINVAL)?;
        let fd = r.fd.try_clone().map_err(|e| host::io_errno(&e))?;
        let stat = host::fstat(fd.as_fd())?;
        Ok(self.insert(fd, idx, stat))
    }

    /// Walks `names` from `dir`; see [`Request::Walk`].
    fn walk(
        &self,
        dir: FileId,
        names: &[Vec<u8>],
    ) -> Result<(WalkStatus, Vec<(OwnedFd, Stat)>), Errno> {
        let start = self.file(dir)?;
        let names = names
            .iter()
            .map(|n| component(n))
            .collect::<Result<Vec<_>, _>>()?;
        let mut found: Vec<(OwnedFd, Stat)> = Vec::with_capacity(names.len());
        for name in &names {
            let (cur, cur_type) = match found.last() {
                Some((fd, st)) => (fd.as_fd(), file_type(st)),
                None => (start.fd.as_fd(), start.ftype),
            };
            match cur_type {
                libc::S_IFDIR => {}
                libc::S_IFLNK if !found.is_empty() => return Ok((WalkStatus::Symlink, found)),
                _ => return Ok((WalkStatus::Failed(Errno::ENOTDIR), found)),
            }
            let fd = match self.lookup(cur, name, libc::O_PATH, 0) {
                Ok(fd) => fd,
                Err(e) => return Ok((WalkStatus::Failed(e), found)),
            };
            let st = host::fstat(fd.as_fd())?;
            found.push((fd, st));
        }
        Ok((WalkStatus::Complete, found))
    }

    fn open(&self, id: FileId, flags: u32) -> Result<OwnedFd, Errno> {
        let flags = flags as i32;
        const ALLOWED: i32 = libc::O_ACCMODE
            | libc::O_TRUNC
            | libc::O_APPEND
            | libc::O_DIRECTORY
            | libc::O_NONBLOCK
            | libc::O_DSYNC
            | libc::O_SYNC
            | libc::O_NOATIME
            | libc::O_LARGEFILE
            | libc::O_CLOEXEC
            | libc::O_NOFOLLOW
            | libc::O_NOCTTY;
        if flags & !ALLOWED != 0 || flags & libc::O_ACCMODE == libc::O_ACCMODE {
            return Err(Errno::EINVAL);
        }
        let f = self.file(id)?;
        let writes = flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0;
        let mut flags = flags & !(libc::O_NOFOLLOW | libc::O_CLOEXEC);
        // Linux checks O_DIRECTORY before the file type (a symlink with O_DIRECTORY|O_NOFOLLOW
        // is ENOTDIR, not ELOOP).
        if flags & libc::O_DIRECTORY != 0 && f.ftype != libc::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        match f.ftype {
            libc::S_IFREG => {
                if writes && self.roots[f.root].read_only {
                    return Err(Errno::EROFS);
                }
            }
            libc::S_IFDIR => {
                if writes {
                    return Err(Errno::EISDIR);
                }
            }
            // What open(O_NOFOLLOW) says of a symlink; the Sentry resolves links itself.
            libc::S_IFLNK => return Err(Errno::ELOOP),
            // Never block the server on a FIFO without a peer; the Sentry owns pipe semantics.
            libc::S_IFIFO => flags |= libc::O_NONBLOCK,
            libc::S_IFSOCK => return Err(Errno::ENXIO),
            // Host devices are never opened, as on a nodev mount.
            _ => return Err(Errno::EACCES),
        }
        self.reopen(f.fd.as_fd(), flags)
    }

    fn open_create(
        &mut self,
        dir: FileId,
        name: &[u8],
        flags: u32,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(Node, OwnedFd), Errno> {
        let flags = flags as i32;
        const ALLOWED: i32 = libc::O_ACCMODE
            | libc::O_TRUNC
            | libc::O_APPEND
            | libc::O_NONBLOCK
            | libc::O_DSYNC
            | libc::O_SYNC
            | libc::O_NOATIME
            | libc::O_LARGEFILE
            | libc::O_CLOEXEC
            | libc::O_NOFOLLOW
            | libc::O_NOCTTY
            | libc::O_CREAT
            | libc::O_EXCL;
        if flags & !ALLOWED != 0 || flags & libc::O_ACCMODE == libc::O_ACCMODE {
            return Err(Errno::EINVAL);
        }
        let name = component(name)?;
        let d = self.writable_dir(dir)?;
        let root = d.root;
        let flags = (flags & !(libc::O_NOFOLLOW | libc::O_CLOEXEC)) | libc::O_CREAT | libc::O_EXCL;
        let fd = self.lookup(d.fd.as_fd(), &name, flags, mode & 0o7777)?;
        let path = self.reopen(fd.as_fd(), libc::O_PATH)?;
        let stat = chown_best_effort(path.as_fd(), uid, gid)?;
        Ok((self.insert(path, root, stat), fd))
    }

    /// Finishes a create: takes an O_PATH descriptor of the new name, sets its owner.
    fn created(&mut self, dir: FileId, name: &CStr, uid: u32, gid: u32) -> Result<Node, Errno> {
        let d = self.file(dir)?;
        let root = d.root;
        let fd = self.lookup(d.fd.as_fd(), name, libc::O_PATH, 0)?;
        let stat = chown_best_effort(fd.as_fd(), uid, gid)?;
        Ok(self.insert(fd, root, stat))
    }

    fn mkdir(
        &mut self,
        dir: FileId,
        name: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<Node, Errno> {
        let name = component(name)?;
        host::mkdirat(self.writable_dir(dir)?.fd.as_fd(), &name, mode & 0o7777)?;
        self.created(dir, &name, uid, gid)
    }

    fn mknod(
        &mut self,
        dir: FileId,
        name: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<Node, Errno> {
        let kind = match mode & libc::S_IFMT {
            0 | libc::S_IFREG => libc::S_IFREG,
            libc::S_IFIFO => libc::S_IFIFO,
            // Devices and sockets are never made on the host.
            _ => return Err(Errno::EPERM),
        };
        let name = component(name)?;
        host::mknodat(
            self.writable_dir(dir)?.fd.as_fd(),
            &name,
            kind | (mode & 0o7777),
        )?;
        self.created(dir, &name, uid, gid)
    }

    fn symlink(
        &mut self,
        dir: FileId,
        name: &[u8],
        target: &[u8],
        uid: u32,
        gid: u32,
    ) -> Result<Node, Errno> {
        let name = component(name)?;
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() > MAX_TARGET {
            return Err(Errno::ENAMETOOLONG);
        }
        let target = CString::new(target).map_err(|_| Errno::EINVAL)?;
        host::symlinkat(&target, self.writable_dir(dir)?.fd.as_fd(), &name)?;
        self.created(dir, &name, uid, gid)
    }

    fn link(&mut self, dir: FileId, name: &[u8], target: FileId) -> Result<Node, Errno> {
        let name = component(name)?;
        let d = self.writable_dir(dir)?;
        let t = self.file(target)?;
        if t.root != d.root {
            return Err(Errno::EXDEV);
        }
        if t.ftype == libc::S_IFDIR {
            return Err(Errno::EPERM);
        }
        // /proc/self/fd/N names exactly the held inode; linkat with AT_EMPTY_PATH would need
        // CAP_DAC_READ_SEARCH.
        let src = proc_name(t.fd.as_fd());
        host::linkat(
            self.proc_fd.as_fd(),
            &src,
            d.fd.as_fd(),
            &name,
            libc::AT_SYMLINK_FOLLOW,
        )?;
        self.created(dir, &name, NO_ID, NO_ID)
    }

    fn unlink(&self, dir: FileId, name: &[u8], flags: u32) -> Result<(), Errno> {
        let flags = flags as i32;
        if flags & !libc::AT_REMOVEDIR != 0 {
            return Err(Errno::EINVAL);
        }
        let name = component(name)?;
        host::unlinkat(self.writable_dir(dir)?.fd.as_fd(), &name, flags)
    }

    fn rename(
        &self,
        old_dir: FileId,
        old_name: &[u8],
        new_dir: FileId,
        new_name: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !(libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE) != 0 {
            return Err(Errno::EINVAL);
        }
        let old_name = component(old_name)?;
        let new_name = component(new_name)?;
        let od = self.writable_dir(old_dir)?;
        let nd = self.writable_dir(new_dir)?;
        if od.root != nd.root {
            return Err(Errno::EXDEV);
        }
        host::renameat2(od.fd.as_fd(), &old_name, nd.fd.as_fd(), &new_name, flags)
    }

    fn set_stat(&self, id: FileId, a: &SetStat) -> Result<(), Errno> {
        if a.mask & !SETSTAT_ALL != 0 {
            return Err(Errno::EINVAL);
        }
        let f = self.file(id)?;
        if a.mask == 0 {
            return Ok(());
        }
        if self.roots[f.root].read_only {
            return Err(Errno::EROFS);
        }
        let name = proc_name(f.fd.as_fd());
        if a.mask & SETSTAT_MODE != 0 {
            if f.ftype == libc::S_IFLNK {
                // Linux cannot change a symlink's mode (lchmod).
                return Err(Errno::EOPNOTSUPP);
            }
            host::fchmodat(self.proc_fd.as_fd(), &name, a.mode & 0o7777)?;
        }
        if a.mask & (SETSTAT_UID | SETSTAT_GID) != 0 {
            let uid = if a.mask & SETSTAT_UID != 0 {
                a.uid
            } else {
                NO_ID
            };
            let gid = if a.mask & SETSTAT_GID != 0 {
                a.gid
            } else {
                NO_ID
            };
            host::fchown_fd(f.fd.as_fd(), uid, gid)?;
        }
        if a.mask & SETSTAT_SIZE != 0 {
            match f.ftype {
                libc::S_IFREG => {}
                libc::S_IFDIR => return Err(Errno::EISDIR),
                _ => return Err(Errno::EINVAL),
            }
            let size = i64::try_from(a.size).map_err(|_| Errno::EINVAL)?;
            let w = self.reopen(f.fd.as_fd(), libc::O_WRONLY)?;
            host::ftruncate(w.as_fd(), size)?;
        }
        if a.mask & (SETSTAT_ATIME | SETSTAT_MTIME) != 0 {
            let omit = Timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            };
            let atime = if a.mask & SETSTAT_ATIME != 0 {
                a.atime
            } else {
                omit
            };
            let mtime = if a.mask & SETSTAT_MTIME != 0 {
                a.mtime
            } else {
                omit
            };
            host::utimensat(self.proc_fd.as_fd(), &name, atime, mtime)?;
        }
        Ok(())
    }

    fn getdents(&mut self, dir: FileId, cookie: u64) -> Result<Vec<Dirent>, Errno> {
        let f = self.files.get_mut(&dir.0).ok_or(Errno::EBADF)?;
        if f.ftype != libc::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        if f.dir.is_none() {
            f.dir = Some(host::openat(
                f.fd.as_fd(),
                c".",
                libc::O_RDONLY | libc::O_DIRECTORY,
                0,
            )?);
        }
        let Some(dfd) = f.dir.as_ref() else {
            return Err(Errno::EBADF);
        };
        host::seek_set(dfd.as_fd(), cookie)?;
        self.dirent_buf.resize(DIRENT_CHUNK, 0);
        let mut ents = Vec::new();
        let mut used = proto::GETDENTS_EMPTY_LEN;
        loop {
            // Each encoded entry is no longer than its kernel record, so a read no larger than
            // the room left always fits in one reply.
            let room = (MAX_MESSAGE - used).min(DIRENT_CHUNK);
            if room < MAX_DIRENT_RECORD {
                break;
            }
            let n = host::getdents64(dfd.as_fd(), &mut self.dirent_buf[..room])?;
            if n == 0 {
                break;
            }
            for d in parse_dirents(&self.dirent_buf[..n]) {
                if d.name == b"." || d.name == b".." {
                    continue;
                }
                used += proto::dirent_encoded_len(d.name.len());
                ents.push(d);
            }
        }
        Ok(ents)
    }

    fn fsync(&self, id: FileId) -> Result<(), Errno> {
        let f = self.file(id)?;
        let fd = match f.ftype {
            libc::S_IFDIR => self.reopen(f.fd.as_fd(), libc::O_RDONLY | libc::O_DIRECTORY)?,
            libc::S_IFREG => match self.reopen(f.fd.as_fd(), libc::O_RDONLY) {
                Err(Errno::EACCES) => self.reopen(f.fd.as_fd(), libc::O_WRONLY)?,
                r => r?,
            },
            _ => return Err(Errno::EINVAL),
        };
        host::fsync(fd.as_fd())
    }

    /// A readable descriptor for xattr calls, or None for files whose xattrs we do not serve.
    fn xattr_fd(&self, id: FileId) -> Result<Option<OwnedFd>, Errno> {
        let f = self.file(id)?;
        let flags = libc::O_RDONLY | libc::O_NONBLOCK;
        Ok(match f.ftype {
            libc::S_IFREG => Some(self.reopen(f.fd.as_fd(), flags)?),
            libc::S_IFDIR => Some(self.reopen(f.fd.as_fd(), flags | libc::O_DIRECTORY)?),
            _ => None,
        })
    }

    fn get_xattr(&self, id: FileId, name: &[u8], size: u32) -> Result<Xattr, Errno> {
        if name.is_empty() {
            return Err(Errno::ERANGE);
        }
        let name = CString::new(name).map_err(|_| Errno::EINVAL)?;
        let Some(fd) = self.xattr_fd(id)? else {
            return Err(Errno::ENODATA);
        };
        read_xattr(size, |buf| host::fgetxattr(fd.as_fd(), &name, buf))
    }

    fn list_xattr(&self, id: FileId, size: u32) -> Result<Xattr, Errno> {
        let Some(fd) = self.xattr_fd(id)? else {
            return Ok(Xattr {
                len: 0,
                data: Vec::new(),
            });
        };
        read_xattr(size, |buf| host::flistxattr(fd.as_fd(), buf))
    }
}

/// Runs an xattr call with a buffer of `size` bytes (at most MAX_XATTR); size 0 asks the
/// length only.
fn read_xattr(
    size: u32,
    mut call: impl FnMut(&mut [u8]) -> Result<usize, Errno>,
) -> Result<Xattr, Errno> {
    if size == 0 {
        let len = call(&mut [])?;
        return Ok(Xattr {
            len: len as u32,
            data: Vec::new(),
        });
    }
    let mut buf = vec![0u8; (size as usize).min(MAX_XATTR)];
    let n = call(&mut buf)?;
    buf.truncate(n);
    Ok(Xattr {
        len: n as u32,
        data: buf,
    })
}

/// Sets the owner of a new file where asked (and possible), and returns its attributes.
/// Ownership is best effort: an unprivileged gofer cannot give files away, and the stat
/// returned says what the file really has.
fn chown_best_effort(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> Result<Stat, Errno> {
    let st = host::fstat(fd)?;
    let uid = if uid == st.st_uid { NO_ID } else { uid };
    let gid = if gid == st.st_gid { NO_ID } else { gid };
    if uid == NO_ID && gid == NO_ID {
        return Ok(st);
    }
    match host::fchown_fd(fd, uid, gid) {
        Ok(()) => host::fstat(fd),
        Err(_) => Ok(st),
    }
}

/// The decimal name of `fd` inside /proc/self/fd.
fn proc_name(fd: BorrowedFd<'_>) -> CString {
    // A decimal number has no NUL byte.
    CString::new(fd.as_raw_fd().to_string()).unwrap_or_default()
}

/// Parses getdents64 output; a malformed record (which the kernel never produces) ends it.
fn parse_dirents(mut b: &[u8]) -> impl Iterator<Item = Dirent> + '_ {
    std::iter::from_fn(move || {
        // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
        let head = b.get(..19)?;
        let ino = u64::from_ne_bytes(head[0..8].try_into().ok()?);
        let off = u64::from_ne_bytes(head[8..16].try_into().ok()?);
        let reclen = usize::from(u16::from_ne_bytes(head[16..18].try_into().ok()?));
        let d_type = head[18];
        let rec = b.get(..reclen).filter(|_| reclen >= 19)?;
        let raw = &rec[19..];
        let name = &raw[..raw.iter().position(|&c| c == 0).unwrap_or(raw.len())];
        b = &b[reclen..];
        Some(Dirent {
            ino,
            next: off,
            d_type,
            name: name.to_vec(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_parses() {
        assert_eq!("/a:ro".parse::<Root>().unwrap(), Root::read_only("/a"));
        assert_eq!("/a:rw".parse::<Root>().unwrap(), Root::read_write("/a"));
        assert_eq!("/a".parse::<Root>().unwrap(), Root::read_only("/a"));
        assert_eq!("/a:b".parse::<Root>().unwrap(), Root::read_only("/a:b"));
        assert_eq!("/a:b:rw".parse::<Root>().unwrap(), Root::read_write("/a:b"));
        assert!(":rw".parse::<Root>().is_err());
        assert!("".parse::<Root>().is_err());
        assert_eq!(Root::read_write("/x").to_string(), "/x:rw");
    }

    #[test]
    fn components_are_single_names() {
        for bad in [&b""[..], b".", b"..", b"a/b", b"/", b"a\0b"] {
            assert_eq!(component(bad), Err(Errno::EINVAL), "{bad:?}");
        }
        assert_eq!(component(&[b'a'; 256]), Err(Errno::ENAMETOOLONG));
        assert!(component(b"...").is_ok());
        assert!(component(&[b'a'; 255]).is_ok());
    }

    #[test]
    fn parse_dirents_stops_on_garbage() {
        let mut rec = Vec::new();
        rec.extend_from_slice(&7u64.to_ne_bytes());
        rec.extend_from_slice(&9u64.to_ne_bytes());
        rec.extend_from_slice(&24u16.to_ne_bytes());
        rec.push(libc::DT_REG);
        rec.extend_from_slice(b"abc\0\0");
        let mut bad = rec.clone();
        bad.extend_from_slice(&[0xff; 20]);
        let v: Vec<_> = parse_dirents(&bad).collect();
        assert_eq!(v.len(), 1);
        assert_eq!(
            v[0],
            Dirent {
                ino: 7,
                next: 9,
                d_type: libc::DT_REG,
                name: b"abc".to_vec()
            }
        );
    }
}
