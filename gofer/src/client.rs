//! The Sentry's side of the protocol: [`Client`], one typed method per request.
//!
//! One request is in flight at a time (a Mutex around the socket); a reply must carry the
//! request's tag and kind. Errors: every method returns [`ClientError`], which keeps the
//! server's errno ([`ClientError::Errno`]) apart from transport and protocol failures (a closed
//! socket, a malformed or mismatched reply). Syscall handlers convert with `?` or
//! `Errno::from`: the server's errno passes through, a request that cannot be encoded gets the
//! errno Linux would give (ENAMETOOLONG, EINVAL), and a transport or protocol failure becomes
//! EIO. After a transport or protocol failure the connection is unusable (the datagram stream
//! may be out of step) and every later call fails with [`ClientError::Broken`]. The client never
//! logs: the caller decides what a person sees.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Mutex;

use syscalls::structs::Stat;
use syscalls::Errno;

use crate::proto::{
    self, DecodeError, Dirent, EncodeError, FileId, Frame, Message, Node, Reply, Request, SetStat,
    StatFs, WalkStatus, Xattr, MAX_CLOSE, MAX_MESSAGE,
};
use crate::wire::{self, Received};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with this errno.
    #[error("gofer: {0}")]
    Errno(Errno),
    /// The request does not fit the protocol (an over-long name, too many names).
    #[error("gofer request cannot be sent: {0}")]
    Encode(#[from] EncodeError),
    /// The socket failed.
    #[error("gofer connection failed: {0}")]
    Io(io::Error),
    /// The server closed the connection (it exited or was killed).
    #[error("gofer closed the connection")]
    Closed,
    /// The server's reply did not decode.
    #[error("gofer sent a malformed reply: {0}")]
    Decode(#[from] DecodeError),
    /// The reply decoded but does not answer the request.
    #[error("gofer protocol violation: {0}")]
    Protocol(&'static str),
    /// An earlier transport or protocol failure left the connection unusable.
    #[error("gofer connection is unusable after an earlier failure")]
    Broken,
}

impl ClientError {
    /// The errno a syscall handler should return for this failure.
    pub fn errno(&self) -> Errno {
        match self {
            ClientError::Errno(e) => *e,
            ClientError::Encode(e) => e.errno(),
            _ => Errno::EIO,
        }
    }

    /// True for failures of the connection itself (not an answer from the server).
    pub fn is_transport(&self) -> bool {
        !matches!(self, ClientError::Errno(_) | ClientError::Encode(_))
    }
}

impl From<ClientError> for Errno {
    fn from(e: ClientError) -> Errno {
        e.errno()
    }
}

/// The result of a Walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walked {
    /// How the walk ended.
    pub status: WalkStatus,
    /// One per component reached; the client owns these ids and must Close them.
    pub nodes: Vec<Node>,
}

/// The result of a WalkStat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkedStats {
    /// How the walk ended.
    pub status: WalkStatus,
    /// One per component reached.
    pub stats: Vec<Stat>,
}

struct Conn {
    sock: OwnedFd,
    next_tag: u32,
    out: Vec<u8>,
    inbuf: Vec<u8>,
    broken: bool,
}

/// A connection to a gofer. Send + Sync; calls are serialized.
pub struct Client {
    conn: Mutex<Conn>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// A client over one end of the socketpair whose other end the gofer serves.
    pub fn new(sock: OwnedFd) -> Client {
        Client {
            conn: Mutex::new(Conn {
                sock,
                next_tag: 1,
                out: Vec::with_capacity(MAX_MESSAGE),
                inbuf: Vec::with_capacity(MAX_MESSAGE + 1),
                broken: false,
            }),
        }
    }

    /// Sends `req` and waits for its reply (and the FD it carries, if any).
    fn call(&self, req: Request) -> Result<(Reply, Option<OwnedFd>), ClientError> {
        // A panic while holding the lock cannot leave the connection half-used in a way we
        // would not detect: `broken` is set before any fallible I/O completes.
        let mut c = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if c.broken {
            return Err(ClientError::Broken);
        }
        let kind = req.kind();
        let tag = c.next_tag;
        c.next_tag = c.next_tag.wrapping_add(1);
        let Conn {
            sock,
            out,
            inbuf,
            broken,
            ..
        } = &mut *c;
        proto::encode(
            &Frame {
                tag,
                msg: Message::Request(req),
            },
            out,
        )?;
        // From here until a good reply, any failure leaves the stream out of step.
        *broken = true;
        wire::send(sock.as_fd(), out, None).map_err(|e| match e.raw_os_error() {
            Some(libc::EPIPE | libc::ECONNRESET) => ClientError::Closed,
            _ => ClientError::Io(e),
        })?;
        let mut fds = Vec::new();
        let len = match wire::recv(sock.as_fd(), inbuf, &mut fds).map_err(ClientError::Io)? {
            Received::Eof => return Err(ClientError::Closed),
            Received::Message {
                truncated: true, ..
            } => return Err(ClientError::Protocol("reply over the size limit")),
            Received::Message {
                fds_truncated: true,
                ..
            } => return Err(ClientError::Protocol("too many FDs in a reply")),
            Received::Message { len, .. } => len,
        };
        let frame = proto::decode(&inbuf[..len])?;
        if frame.tag != tag {
            return Err(ClientError::Protocol(
                "reply tag does not match the request",
            ));
        }
        let reply = match frame.msg {
            Message::Reply(r) => r,
            Message::Request(_) => return Err(ClientError::Protocol("server sent a request")),
        };
        let wants_fd = matches!(reply, Reply::Open | Reply::OpenCreate(_));
        match reply.kind() {
            None => {}
            Some(k) if k == kind => {}
            Some(_) => {
                return Err(ClientError::Protocol(
                    "reply kind does not match the request",
                ))
            }
        }
        let fd = match (wants_fd, fds.len()) {
            (true, 1) => fds.pop(),
            (false, 0) => None,
            (true, _) => return Err(ClientError::Protocol("open reply without exactly one FD")),
            (false, _) => return Err(ClientError::Protocol("unexpected FD in a reply")),
        };
        *broken = false;
        match reply {
            Reply::Error(e) => Err(ClientError::Errno(e)),
            r => Ok((r, fd)),
        }
    }

    fn call_node(&self, req: Request) -> Result<Node, ClientError> {
        match self.call(req)?.0 {
            Reply::Attach(n)
            | Reply::Mkdir(n)
            | Reply::Mknod(n)
            | Reply::Symlink(n)
            | Reply::Link(n) => Ok(n),
            _ => Err(ClientError::Protocol(
                "reply kind does not match the request",
            )),
        }
    }

    fn call_done(&self, req: Request) -> Result<(), ClientError> {
        self.call(req).map(drop)
    }

    /// Takes an id for root number `root`.
    pub fn attach(&self, root: u32) -> Result<Node, ClientError> {
        self.call_node(Request::Attach { root })
    }

    /// Walks `names` from `dir`, taking an id per component reached. Stops at a missing
    /// component (`WalkStatus::Failed(ENOENT)`) and at a symlink with names left
    /// (`WalkStatus::Symlink`); never follows symlinks.
    pub fn walk(&self, dir: FileId, names: &[&[u8]]) -> Result<Walked, ClientError> {
        let names = names.iter().map(|n| n.to_vec()).collect();
        match self.call(Request::Walk { dir, names })?.0 {
            Reply::Walk { status, nodes } => Ok(Walked { status, nodes }),
            _ => Err(ClientError::Protocol(
                "reply kind does not match the request",
            )),
        }
    }

    /// Like [`Client::walk`] but returns stats only and takes no ids.
    pub fn walk_stat(&self, dir: FileId, names: &[&[u8]]) -> Result<WalkedStats, ClientError> {
        let names = names.iter().map(|n| n.to_vec()).collect();
        match self.call(Request::WalkStat { dir, names })?.0 {
            Reply::WalkStat { status, stats } => Ok(WalkedStats { status, stats }),
            _ => Err(ClientError::Protocol(
                "reply kind does not match the request",
            )),
        }
    }

    /// Opens a held file and returns the donated host FD (close-on-exec).
    pub fn open(&self, id: FileId, flags: i32) -> Result<OwnedFd, ClientError> {
        let (_, fd) = self.call(Request::Open {
            id,
            flags: flags as u32,
        })?;
        fd.ok_or(ClientError::Protocol("open reply without exactly one FD"))
    }

    /// Creates a regular file `name` in `dir` (O_CREAT|O_EXCL implied) and opens it.
    /// `uid`/`gid` may be [`proto::NO_ID`]; ownership is best effort (see the returned stat).
    pub fn open_create(
        &self,
        dir: FileId,
        name: &[u8],
        flags: i32,
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(Node, OwnedFd), ClientError> {
        let req = Request::OpenCreate {
            dir,
            name: name.to_vec(),
            flags: flags as u32,
            mode,
            uid,
            gid,
        };
        match self.call(req)? {
            (Reply::OpenCreate(n), Some(fd)) => Ok((n, fd)),
            _ => Err(ClientError::Protocol(
                "reply kind does not match the request",
            )),
        }
    }

    /// Creates a directory.
    pub fn mkdir(
        &self,
        dir: FileId,
        name: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<Node, ClientError> {
        self.call_node(Request::Mkdir {
            dir,
            name: name.to_vec(),
            mode,
            uid,
            gid,
        })
    }

    /// Creates a FIFO (`S_IFIFO | perm`) or an empty regular file (`S_IFREG | perm`).
    pub fn mknod(
        &self,
        dir: FileId,
        name: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<Node, ClientError> {
        self.call_node(Request::Mknod {
            dir,
            name: name.to_vec(),
            mode,
            uid,
            gid,
        })
    }

    /// Creates a symlink `name` -> `target`.
    pub fn symlink(
        &self,
        dir: FileId,
        name: &[u8],
        target: &[u8],
        uid: u32,
        gid: u32,
    ) -> Result<Node, ClientError> {
        self.call_node(Request::Symlink {
            dir,
            name: name.to_vec(),
            target: target.to_vec(),
            uid,
            gid,
        })
    }

    /// Creates a hard link `name` in `dir` to the held file `target`.
    pub fn link(&self, dir: FileId, name: &[u8], target: FileId) -> Result<Node, ClientError> {
        self.call_node(Request::Link {
            dir,
            name: name.to_vec(),
            target,
        })
    }

    /// Removes `name` from `dir`; `flags` is 0 or AT_REMOVEDIR.
    pub fn unlink(&self, dir: FileId, name: &[u8], flags: i32) -> Result<(), ClientError> {
        self.call_done(Request::Unlink {
            dir,
            name: name.to_vec(),
            flags: flags as u32,
        })
    }

    /// Renames `old_dir/old_name` to `new_dir/new_name`; `flags` is 0, RENAME_NOREPLACE or
    /// RENAME_EXCHANGE.
    pub fn rename(
        &self,
        old_dir: FileId,
        old_name: &[u8],
        new_dir: FileId,
        new_name: &[u8],
        flags: u32,
    ) -> Result<(), ClientError> {
        self.call_done(Request::Rename {
            old_dir,
            old_name: old_name.to_vec(),
            new_dir,
            new_name: new_name.to_vec(),
            flags,
        })
    }

    /// Reads a held symlink.
    pub fn readlink(&self, id: FileId) -> Result<Vec<u8>, ClientError> {
        match self.call(Request::Readlink { id })?.0 {
            Reply::Readlink(t) => Ok(t),
            _ => Err(ClientError::Protocol(
                "reply kind does not match the request",
            )),
        }
    }

    /// Stats a held file.
    pub fn stat(&self, id: FileId) -> Result<Stat, ClientError> {
        match self.call(Request::Stat { id })?.0 {
            Reply::Stat(s) => Ok(s),
            _ => Err(ClientError::Protocol(
                "reply kind does not match the request",
            )),
        }
    }

    /// Changes the attributes of a held file selected by `attr.mask` (`proto::SETSTAT_*`).
    pub fn set_stat(&self, id: FileId, attr: &SetStat) -> Result<(), ClientError> {
        self.call_done(Request::SetStat { id, attr: *attr })
    }

    /// statfs of the filesystem holding a file.
    pub fn statfs(&self, id: FileId) -> Result<StatFs, ClientError> {
        match self.call(Request::StatFs { id })?.0 {
            Reply::StatFs(s) => Ok(s),
            _ => Err(ClientError::Protocol(
                "reply kind does not match the request",
            )),
        }
    }

    /// Reads a batch of entries from `cookie` (0 = start; then the last entry's `next`).
    /// An empty batch is the end. "." and ".." are never returned.
    pub fn getdents(&self, dir: FileId, cookie: u64) -> Result<Vec<Dirent>, ClientError> {
        match self.call(Request::Getdents { dir, cookie })?.0 {
            Reply::Getdents(d) => Ok(d),
            _ => Err(ClientError::Protocol(
                "reply kind does not match the request",
            )),
        }
    }

    /// fsync of a held file or directory.
    pub fn fsync(&self, id: FileId) -> Result<(), ClientError> {
        self.call_done(Request::Fsync { id })
    }

    /// Reads extended attribute `name`; `size` 0 asks only for its length.
    pub fn get_xattr(&self, id: FileId, name: &[u8], size: u32) -> Result<Xattr, ClientError> {
        match self
            .call(Request::GetXattr {
                id,
                name: name.to_vec(),
                size,
            })?
            .0
        {
            Reply::GetXattr(x) => Ok(x),
            _ => Err(ClientError::Protocol(
                "reply kind does not match the request",
            )),
        }
    }

    /// Lists extended attribute names (NUL-terminated); `size` 0 asks only for the length.
    pub fn list_xattr(&self, id: FileId, size: u32) -> Result<Xattr, ClientError> {
        match self.call(Request::ListXattr { id, size })?.0 {
            Reply::ListXattr(x) => Ok(x),
            _ => Err(ClientError::Protocol(
                "reply kind does not match the request",
            )),
        }
    }

    /// Forgets held files (in batches of [`MAX_CLOSE`]).
    pub fn close(&self, ids: &[FileId]) -> Result<(), ClientError> {
        for chunk in ids.chunks(MAX_CLOSE) {
            self.call_done(Request::Close {
                ids: chunk.to_vec(),
            })?;
        }
        Ok(())
    }
}

/// Asserts at compile time that the client can be shared between Sentry threads.
const _: fn() = || {
    fn check<T: Send + Sync>() {}
    check::<Client>();
};
