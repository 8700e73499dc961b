//! The Gofer's wire protocol: message types, their byte encoding and a decoder that treats
//! every byte as hostile.
//!
//! This module owns the format only. It does no I/O (see `wire` for the socket and SCM_RIGHTS
//! framing) and makes no filesystem decisions: a name that decodes here may still be refused by
//! the server (empty, ".", "..", '/' or NUL inside).
//!
//! # Format
//!
//! Each message is one SOCK_SEQPACKET datagram of at most [`MAX_MESSAGE`] bytes: a 12-byte
//! header, then the body. All integers are little-endian.
//!
//! ```text
//! 0      2      4           8           12
//! +------+------+-----------+-----------+------------------+
//! |magic |kind  | tag       | body len  | body ...         |
//! |+vers |      |           |           |                  |
//! +------+------+-----------+-----------+------------------+
//! ```
//!
//! `magic+vers` is [`MAGIC_VERSION`]: 'G' in the high byte, the protocol version (1) in the low
//! byte. A request's kind is one of [`Kind`]; its reply carries the same kind with
//! [`REPLY_BIT`] set, or [`ERROR_KIND`] with a Linux errno as the whole body. The tag of a reply
//! is the tag of its request. Host file descriptors (Open, OpenCreate) travel as SCM_RIGHTS
//! ancillary data of the reply datagram, never in the body.
//!
//! Body fields: a name is a u16 length (at most [`MAX_NAME`]) and its bytes; a list is a u32
//! count and its items; a [`Stat`] is the kernel's 144-byte struct stat. The decoder checks the
//! header's length against the datagram, every count against its limit and against the bytes
//! left, and rejects bytes left over after the body: a malformed message is a [`DecodeError`],
//! never a panic.

use syscalls::structs::{Pod, Stat, Timespec};
use syscalls::Errno;

/// 'G' in the high byte, protocol version 1 in the low byte.
pub const MAGIC_VERSION: u16 = 0x4701;
/// The magic byte ('G') of [`MAGIC_VERSION`].
pub const MAGIC: u8 = 0x47;
/// The protocol version this crate speaks.
pub const VERSION: u8 = 1;
/// Bytes in a message header.
pub const HEADER_LEN: usize = 12;
/// The largest message, header included.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// The largest body.
pub const MAX_BODY: usize = MAX_MESSAGE - HEADER_LEN;
/// The longest file name (NAME_MAX).
pub const MAX_NAME: usize = 255;
/// The longest symlink target or xattr name list entry we carry (PATH_MAX - 1).
pub const MAX_TARGET: usize = 4095;
/// The most names one Walk or WalkStat may carry.
pub const MAX_WALK: usize = 256;
/// The most ids one Close may carry.
pub const MAX_CLOSE: usize = 4096;
/// The most bytes of an xattr value (or name list) one reply carries.
pub const MAX_XATTR: usize = 60 * 1024;
/// Set on a reply's kind: the reply to the request of the same kind.
pub const REPLY_BIT: u16 = 0x8000;
/// The kind of an error reply; its body is a u32 Linux errno.
pub const ERROR_KIND: u16 = 0xFFFF;

/// SetStat mask bit: change the mode's permission bits.
pub const SETSTAT_MODE: u32 = 1 << 0;
/// SetStat mask bit: change the owner.
pub const SETSTAT_UID: u32 = 1 << 1;
/// SetStat mask bit: change the group.
pub const SETSTAT_GID: u32 = 1 << 2;
/// SetStat mask bit: truncate or extend to `size`.
pub const SETSTAT_SIZE: u32 = 1 << 3;
/// SetStat mask bit: set the access time (`tv_nsec` may be UTIME_NOW or UTIME_OMIT).
pub const SETSTAT_ATIME: u32 = 1 << 4;
/// SetStat mask bit: set the modification time (`tv_nsec` may be UTIME_NOW or UTIME_OMIT).
pub const SETSTAT_MTIME: u32 = 1 << 5;
/// Every SetStat mask bit the server knows.
pub const SETSTAT_ALL: u32 =
    SETSTAT_MODE | SETSTAT_UID | SETSTAT_GID | SETSTAT_SIZE | SETSTAT_ATIME | SETSTAT_MTIME;

/// "Leave unchanged" for a uid or gid (the kernel's -1).
pub const NO_ID: u32 = u32::MAX;

/// A file the server holds open for the client. Ids are the server's: a client can only name
/// files it was given by Attach, Walk or a create, never a host path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u64);

/// Request kinds. A reply's kind is the request's with [`REPLY_BIT`] set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Kind {
    /// Attach to a root.
    Attach = 1,
    /// Walk names from a directory, taking an id for each.
    Walk = 2,
    /// Walk names from a directory, returning stats only.
    WalkStat = 3,
    /// Open a held file and donate the host FD.
    Open = 4,
    /// Create and open a regular file.
    OpenCreate = 5,
    /// Create a directory.
    Mkdir = 6,
    /// Create a FIFO or an empty regular file.
    Mknod = 7,
    /// Create a symbolic link.
    Symlink = 8,
    /// Create a hard link to a held file.
    Link = 9,
    /// Remove a name.
    Unlink = 10,
    /// Rename a name.
    Rename = 11,
    /// Read a symbolic link.
    Readlink = 12,
    /// Stat a held file.
    Stat = 13,
    /// Change attributes of a held file.
    SetStat = 14,
    /// Stat the filesystem of a held file.
    StatFs = 15,
    /// Read directory entries.
    Getdents = 16,
    /// Flush a held file to disk.
    Fsync = 17,
    /// Read an extended attribute.
    GetXattr = 18,
    /// List extended attribute names.
    ListXattr = 19,
    /// Forget held files.
    Close = 20,
}

impl Kind {
    /// Every request kind, in numeric order.
    pub const ALL: [Kind; 20] = [
        Kind::Attach,
        Kind::Walk,
        Kind::WalkStat,
        Kind::Open,
        Kind::OpenCreate,
        Kind::Mkdir,
        Kind::Mknod,
        Kind::Symlink,
        Kind::Link,
        Kind::Unlink,
        Kind::Rename,
        Kind::Readlink,
        Kind::Stat,
        Kind::SetStat,
        Kind::StatFs,
        Kind::Getdents,
        Kind::Fsync,
        Kind::GetXattr,
        Kind::ListXattr,
        Kind::Close,
    ];

    /// The kind for a raw request number.
    pub fn from_u16(n: u16) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| *k as u16 == n)
    }

    /// The request's name, for error messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Attach => "Attach",
            Kind::Walk => "Walk",
            Kind::WalkStat => "WalkStat",
            Kind::Open => "Open",
            Kind::OpenCreate => "OpenCreate",
            Kind::Mkdir => "Mkdir",
            Kind::Mknod => "Mknod",
            Kind::Symlink => "Symlink",
            Kind::Link => "Link",
            Kind::Unlink => "Unlink",
            Kind::Rename => "Rename",
            Kind::Readlink => "Readlink",
            Kind::Stat => "Stat",
            Kind::SetStat => "SetStat",
            Kind::StatFs => "StatFs",
            Kind::Getdents => "Getdents",
            Kind::Fsync => "Fsync",
            Kind::GetXattr => "GetXattr",
            Kind::ListXattr => "ListXattr",
            Kind::Close => "Close",
        }
    }
}

/// Attributes to change with SetStat; only the fields whose bit is in `mask` are used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetStat {
    /// `SETSTAT_*` bits.
    pub mask: u32,
    /// New permission bits (07777).
    pub mode: u32,
    /// New owner.
    pub uid: u32,
    /// New group.
    pub gid: u32,
    /// New size.
    pub size: u64,
    /// New access time; `tv_nsec` may be UTIME_NOW or UTIME_OMIT.
    pub atime: Timespec,
    /// New modification time; `tv_nsec` may be UTIME_NOW or UTIME_OMIT.
    pub mtime: Timespec,
}

/// A request from the client (the Sentry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Take an id for root number `root` (in the order the server was configured).
    Attach {
        /// Index of the root.
        root: u32,
    },
    /// Walk `names` one by one from `dir`, taking an id for each component reached. Stops at
    /// the first missing component (status `Failed(ENOENT)`) and at a symlink (returned as the
    /// last component, never followed).
    Walk {
        /// Directory to start from.
        dir: FileId,
        /// Components, each a single name.
        names: Vec<Vec<u8>>,
    },
    /// Like Walk, but returns stats only and takes no ids (for revalidation).
    WalkStat {
        /// Directory to start from.
        dir: FileId,
        /// Components, each a single name.
        names: Vec<Vec<u8>>,
    },
    /// Open a held file; the reply donates the host FD. Never creates; never follows symlinks.
    Open {
        /// File to open.
        id: FileId,
        /// open(2) flags: access mode, O_TRUNC, O_APPEND, O_DIRECTORY, O_NONBLOCK, O_DSYNC,
        /// O_SYNC, O_NOATIME, O_LARGEFILE.
        flags: u32,
    },
    /// Create a regular file named `name` in `dir` (it must not exist) and open it.
    OpenCreate {
        /// Parent directory.
        dir: FileId,
        /// New name.
        name: Vec<u8>,
        /// open(2) flags, as for Open; O_CREAT|O_EXCL are implied.
        flags: u32,
        /// Permission bits.
        mode: u32,
        /// Owner, or [`NO_ID`].
        uid: u32,
        /// Group, or [`NO_ID`].
        gid: u32,
    },
    /// Create a directory.
    Mkdir {
        /// Parent directory.
        dir: FileId,
        /// New name.
        name: Vec<u8>,
        /// Permission bits.
        mode: u32,
        /// Owner, or [`NO_ID`].
        uid: u32,
        /// Group, or [`NO_ID`].
        gid: u32,
    },
    /// Create a FIFO (S_IFIFO) or an empty regular file (S_IFREG or no type); others EPERM.
    Mknod {
        /// Parent directory.
        dir: FileId,
        /// New name.
        name: Vec<u8>,
        /// File type and permission bits.
        mode: u32,
        /// Owner, or [`NO_ID`].
        uid: u32,
        /// Group, or [`NO_ID`].
        gid: u32,
    },
    /// Create a symbolic link `name` -> `target` (stored as given, never resolved by the server).
    Symlink {
        /// Parent directory.
        dir: FileId,
        /// New name.
        name: Vec<u8>,
        /// Link contents.
        target: Vec<u8>,
        /// Owner, or [`NO_ID`].
        uid: u32,
        /// Group, or [`NO_ID`].
        gid: u32,
    },
    /// Create a hard link `name` in `dir` to the held file `target`.
    Link {
        /// Parent directory.
        dir: FileId,
        /// New name.
        name: Vec<u8>,
        /// Existing file.
        target: FileId,
    },
    /// Remove `name` from `dir`; `flags` is 0 or AT_REMOVEDIR.
    Unlink {
        /// Parent directory.
        dir: FileId,
        /// Name to remove.
        name: Vec<u8>,
        /// 0 or AT_REMOVEDIR.
        flags: u32,
    },
    /// Rename `old_dir/old_name` to `new_dir/new_name` (renameat2 semantics).
    Rename {
        /// Source directory.
        old_dir: FileId,
        /// Source name.
        old_name: Vec<u8>,
        /// Destination directory.
        new_dir: FileId,
        /// Destination name.
        new_name: Vec<u8>,
        /// 0, RENAME_NOREPLACE or RENAME_EXCHANGE.
        flags: u32,
    },
    /// Read the target of a held symlink.
    Readlink {
        /// The symlink.
        id: FileId,
    },
    /// Stat a held file.
    Stat {
        /// The file.
        id: FileId,
    },
    /// Change attributes of a held file.
    SetStat {
        /// The file.
        id: FileId,
        /// What to change.
        attr: SetStat,
    },
    /// statfs of the filesystem holding a file.
    StatFs {
        /// The file.
        id: FileId,
    },
    /// Read entries of a held directory from `cookie` (0 = the start; otherwise the `next` of
    /// the last entry received). An empty reply means the end.
    Getdents {
        /// The directory.
        dir: FileId,
        /// Where to resume.
        cookie: u64,
    },
    /// fsync a held file or directory.
    Fsync {
        /// The file.
        id: FileId,
    },
    /// Read extended attribute `name`; `size` 0 asks for the length only.
    GetXattr {
        /// The file.
        id: FileId,
        /// Attribute name, e.g. "user.foo".
        name: Vec<u8>,
        /// The caller's buffer size.
        size: u32,
    },
    /// List extended attribute names; `size` 0 asks for the length only.
    ListXattr {
        /// The file.
        id: FileId,
        /// The caller's buffer size.
        size: u32,
    },
    /// Forget held files (unknown ids are ignored).
    Close {
        /// Ids to forget.
        ids: Vec<FileId>,
    },
}

impl Request {
    /// The kind of this request.
    pub fn kind(&self) -> Kind {
        match self {
            Request::Attach { .. } => Kind::Attach,
            Request::Walk { .. } => Kind::Walk,
            Request::WalkStat { .. } => Kind::WalkStat,
            Request::Open { .. } => Kind::Open,
            Request::OpenCreate { .. } => Kind::OpenCreate,
            Request::Mkdir { .. } => Kind::Mkdir,
            Request::Mknod { .. } => Kind::Mknod,
            Request::Symlink { .. } => Kind::Symlink,
            Request::Link { .. } => Kind::Link,
            Request::Unlink { .. } => Kind::Unlink,
            Request::Rename { .. } => Kind::Rename,
            Request::Readlink { .. } => Kind::Readlink,
            Request::Stat { .. } => Kind::Stat,
            Request::SetStat { .. } => Kind::SetStat,
            Request::StatFs { .. } => Kind::StatFs,
            Request::Getdents { .. } => Kind::Getdents,
            Request::Fsync { .. } => Kind::Fsync,
            Request::GetXattr { .. } => Kind::GetXattr,
            Request::ListXattr { .. } => Kind::ListXattr,
            Request::Close { .. } => Kind::Close,
        }
    }
}

/// A held file and its attributes, as Attach, Walk and the create requests return it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    /// The id to name it by from now on.
    pub id: FileId,
    /// Its attributes when it was reached.
    pub stat: Stat,
}

/// How a walk ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkStatus {
    /// Every name was walked (the last one may be a symlink: see its stat).
    Complete,
    /// The last component returned is a symlink and names remain: the client resolves it.
    Symlink,
    /// The component after the last one returned failed with this errno (ENOENT: missing;
    /// ENOTDIR: the previous component is not a directory).
    Failed(Errno),
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirent {
    /// Inode number.
    pub ino: u64,
    /// The cookie to pass to Getdents to continue after this entry.
    pub next: u64,
    /// DT_* type.
    pub d_type: u8,
    /// Entry name ("." and ".." are never sent).
    pub name: Vec<u8>,
}

/// An extended attribute value or name list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xattr {
    /// The full length on the host.
    pub len: u32,
    /// The bytes (empty when the request's size was 0).
    pub data: Vec<u8>,
}

/// struct statfs as x86-64 fstatfs fills it (every field widened to u64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatFs {
    /// Filesystem magic.
    pub f_type: u64,
    /// Optimal transfer block size.
    pub f_bsize: u64,
    /// Total data blocks.
    pub f_blocks: u64,
    /// Free blocks.
    pub f_bfree: u64,
    /// Free blocks for unprivileged users.
    pub f_bavail: u64,
    /// Total inodes.
    pub f_files: u64,
    /// Free inodes.
    pub f_ffree: u64,
    /// Filesystem id (both ints).
    pub f_fsid: u64,
    /// Maximum name length.
    pub f_namelen: u64,
    /// Fragment size.
    pub f_frsize: u64,
    /// Mount flags (ST_*).
    pub f_flags: u64,
}

/// A reply from the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The request failed with this errno.
    Error(Errno),
    /// Attach's root.
    Attach(Node),
    /// Walk's components reached.
    Walk {
        /// How the walk ended.
        status: WalkStatus,
        /// One per component reached, in order.
        nodes: Vec<Node>,
    },
    /// WalkStat's components reached.
    WalkStat {
        /// How the walk ended.
        status: WalkStatus,
        /// One per component reached, in order.
        stats: Vec<Stat>,
    },
    /// Open succeeded; the FD is in the ancillary data.
    Open,
    /// OpenCreate's new file; its FD is in the ancillary data.
    OpenCreate(Node),
    /// Mkdir's new directory.
    Mkdir(Node),
    /// Mknod's new file.
    Mknod(Node),
    /// Symlink's new link.
    Symlink(Node),
    /// Link's new name.
    Link(Node),
    /// Unlink succeeded.
    Unlink,
    /// Rename succeeded.
    Rename,
    /// The link's target.
    Readlink(Vec<u8>),
    /// The file's attributes.
    Stat(Stat),
    /// SetStat succeeded.
    SetStat,
    /// The filesystem's statistics.
    StatFs(StatFs),
    /// A batch of entries; empty at the end of the directory.
    Getdents(Vec<Dirent>),
    /// Fsync succeeded.
    Fsync,
    /// The attribute's value.
    GetXattr(Xattr),
    /// The attribute names, each NUL-terminated.
    ListXattr(Xattr),
    /// Close succeeded.
    Close,
}

impl Reply {
    /// The request kind this replies to (None for an error, which answers any).
    pub fn kind(&self) -> Option<Kind> {
        Some(match self {
            Reply::Error(_) => return None,
            Reply::Attach(_) => Kind::Attach,
            Reply::Walk { .. } => Kind::Walk,
            Reply::WalkStat { .. } => Kind::WalkStat,
            Reply::Open => Kind::Open,
            Reply::OpenCreate(_) => Kind::OpenCreate,
            Reply::Mkdir(_) => Kind::Mkdir,
            Reply::Mknod(_) => Kind::Mknod,
            Reply::Symlink(_) => Kind::Symlink,
            Reply::Link(_) => Kind::Link,
            Reply::Unlink => Kind::Unlink,
            Reply::Rename => Kind::Rename,
            Reply::Readlink(_) => Kind::Readlink,
            Reply::Stat(_) => Kind::Stat,
            Reply::SetStat => Kind::SetStat,
            Reply::StatFs(_) => Kind::StatFs,
            Reply::Getdents(_) => Kind::Getdents,
            Reply::Fsync => Kind::Fsync,
            Reply::GetXattr(_) => Kind::GetXattr,
            Reply::ListXattr(_) => Kind::ListXattr,
            Reply::Close => Kind::Close,
        })
    }
}

/// A request or a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Client to server.
    Request(Request),
    /// Server to client.
    Reply(Reply),
}

/// One message with its tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Chosen by the client; the reply carries the request's tag.
    pub tag: u32,
    /// The message.
    pub msg: Message,
}

/// A decoded header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Raw kind.
    pub kind: u16,
    /// Tag.
    pub tag: u32,
    /// Body length.
    pub len: u32,
}

/// Why bytes are not a valid message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than a header.
    #[error("message of {0} bytes is shorter than the {HEADER_LEN}-byte header")]
    ShortHeader(usize),
    /// More bytes than the limit.
    #[error("message of {0} bytes is over the {MAX_MESSAGE}-byte limit")]
    TooLarge(usize),
    /// Not our magic.
    #[error("bad magic 0x{0:02x} (want 0x{MAGIC:02x})")]
    BadMagic(u8),
    /// A version we do not speak.
    #[error("protocol version {0} is not supported (this side speaks {VERSION})")]
    BadVersion(u8),
    /// The header's body length disagrees with the datagram.
    #[error("header says {header} body bytes but {actual} arrived")]
    LengthMismatch {
        /// What the header says.
        header: u32,
        /// What arrived.
        actual: usize,
    },
    /// A kind we do not know.
    #[error("unknown message kind 0x{0:04x}")]
    UnknownKind(u16),
    /// The body ended inside a field.
    #[error("{kind} body ends early")]
    Truncated {
        /// Which message.
        kind: &'static str,
    },
    /// Bytes after the last field.
    #[error("{kind} body has {extra} bytes left over")]
    Trailing {
        /// Which message.
        kind: &'static str,
        /// How many.
        extra: usize,
    },
    /// A name or blob over its limit.
    #[error("{what} of {len} bytes is over the {max}-byte limit")]
    TooLong {
        /// Which field.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A list over its limit.
    #[error("{what} count {n} is over the limit of {max}")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// Its count.
        n: u64,
        /// The limit.
        max: usize,
    },
    /// An errno Linux does not define.
    #[error("unknown errno {0}")]
    UnknownErrno(u32),
    /// A field with an impossible value.
    #[error("bad {0}")]
    BadValue(&'static str),
}

/// Why a message cannot be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A name or blob over its limit.
    #[error("{what} of {len} bytes is over the {max}-byte limit")]
    TooLong {
        /// Which field.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A list over its limit.
    #[error("{what} count {n} is over the limit of {max}")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// Its count.
        n: usize,
        /// The limit.
        max: usize,
    },
    /// The whole message over [`MAX_MESSAGE`].
    #[error("message of {0} bytes is over the {MAX_MESSAGE}-byte limit")]
    TooLarge(usize),
}

impl EncodeError {
    /// The errno a caller should report for it: ENAMETOOLONG for an over-long name or target,
    /// EINVAL otherwise.
    pub fn errno(&self) -> Errno {
        match self {
            EncodeError::TooLong { .. } => Errno::ENAMETOOLONG,
            _ => Errno::EINVAL,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding.

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn id(&mut self, id: FileId) {
        self.u64(id.0);
    }
    fn name(&mut self, what: &'static str, n: &[u8]) -> Result<(), EncodeError> {
        if n.len() > MAX_NAME {
            return Err(EncodeError::TooLong {
                what,
                len: n.len(),
                max: MAX_NAME,
            });
        }
        self.u16(n.len() as u16);
        self.out.extend_from_slice(n);
        Ok(())
    }
    fn blob(&mut self, what: &'static str, b: &[u8], max: usize) -> Result<(), EncodeError> {
        if b.len() > max {
            return Err(EncodeError::TooLong {
                what,
                len: b.len(),
                max,
            });
        }
        self.u32(b.len() as u32);
        self.out.extend_from_slice(b);
        Ok(())
    }
    fn count(&mut self, what: &'static str, n: usize, max: usize) -> Result<(), EncodeError> {
        if n > max {
            return Err(EncodeError::TooMany { what, n, max });
        }
        self.u32(n as u32);
        Ok(())
    }
    fn stat(&mut self, st: &Stat) {
        let mut b = [0u8; Stat::SIZE];
        st.to_bytes(&mut b);
        self.out.extend_from_slice(&b);
    }
    fn timespec(&mut self, t: &Timespec) {
        self.i64(t.tv_sec);
        self.i64(t.tv_nsec);
    }
    fn node(&mut self, n: &Node) {
        self.id(n.id);
        self.stat(&n.stat);
    }
    fn errno(&mut self, e: Errno) {
        self.u32(e.raw() as u32);
    }
    fn walk_status(&mut self, s: &WalkStatus) {
        match s {
            WalkStatus::Complete => {
                self.u8(0);
                self.u32(0);
            }
            WalkStatus::Symlink => {
                self.u8(1);
                self.u32(0);
            }
            WalkStatus::Failed(e) => {
                self.u8(2);
                self.errno(*e);
            }
        }
    }
    fn names(&mut self, names: &[Vec<u8>]) -> Result<(), EncodeError> {
        self.count("walk names", names.len(), MAX_WALK)?;
        for n in names {
            self.name("name", n)?;
        }
        Ok(())
    }
}

/// Bytes one [`Dirent`] takes in a Getdents reply body.
pub fn dirent_encoded_len(name_len: usize) -> usize {
    8 + 8 + 1 + 2 + name_len
}

/// Bytes a Getdents reply with no entries takes (header and count).
pub const GETDENTS_EMPTY_LEN: usize = HEADER_LEN + 4;

/// Encodes `frame` into `out` (replacing its contents).
pub fn encode(frame: &Frame, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.clear();
    let kind = match &frame.msg {
        Message::Request(r) => r.kind() as u16,
        Message::Reply(r) => match r.kind() {
            Some(k) => k as u16 | REPLY_BIT,
            None => ERROR_KIND,
        },
    };
    out.extend_from_slice(&MAGIC_VERSION.to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&frame.tag.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut w = Writer { out };
    match &frame.msg {
        Message::Request(r) => encode_request(&mut w, r)?,
        Message::Reply(r) => encode_reply(&mut w, r)?,
    }
    let total = out.len();
    if total > MAX_MESSAGE {
        return Err(EncodeError::TooLarge(total));
    }
    let body = (total - HEADER_LEN) as u32;
    out[8..12].copy_from_slice(&body.to_le_bytes());
    Ok(())
}

fn encode_request(w: &mut Writer<'_>, r: &Request) -> Result<(), EncodeError> {
    match r {
        Request::Attach { root } => w.u32(*root),
        Request::Walk { dir, names } | Request::WalkStat { dir, names } => {
            w.id(*dir);
            w.names(names)?;
        }
        Request::Open { id, flags } => {
            w.id(*id);
            w.u32(*flags);
        }
        Request::OpenCreate {
            dir,
            name,
            flags,
            mode,
            uid,
            gid,
        } => {
            w.id(*dir);
            w.name("name", name)?;
            w.u32(*flags);
            w.u32(*mode);
            w.u32(*uid);
            w.u32(*gid);
        }
        Request::Mkdir {
            dir,
            name,
            mode,
            uid,
            gid,
        }
        | Request::Mknod {
            dir,
            name,
            mode,
            uid,
            gid,
        } => {
            w.id(*dir);
            w.name("name", name)?;
            w.u32(*mode);
            w.u32(*uid);
            w.u32(*gid);
        }
        Request::Symlink {
            dir,
            name,
            target,
            uid,
            gid,
        } => {
            w.id(*dir);
            w.name("name", name)?;
            w.blob("symlink target", target, MAX_TARGET)?;
            w.u32(*uid);
            w.u32(*gid);
        }
        Request::Link { dir, name, target } => {
            w.id(*dir);
            w.name("name", name)?;
            w.id(*target);
        }
        Request::Unlink { dir, name, flags } => {
            w.id(*dir);
            w.name("name", name)?;
            w.u32(*flags);
        }
        Request::Rename {
            old_dir,
            old_name,
            new_dir,
            new_name,
            flags,
        } => {
            w.id(*old_dir);
            w.name("name", old_name)?;
            w.id(*new_dir);
            w.name("name", new_name)?;
            w.u32(*flags);
        }
        Request::Readlink { id }
        | Request::Stat { id }
        | Request::StatFs { id }
        | Request::Fsync { id } => w.id(*id),
        Request::SetStat { id, attr } => {
            w.id(*id);
            w.u32(attr.mask);
            w.u32(attr.mode);
            w.u32(attr.uid);
            w.u32(attr.gid);
            w.u64(attr.size);
            w.timespec(&attr.atime);
            w.timespec(&attr.mtime);
        }
        Request::Getdents { dir, cookie } => {
            w.id(*dir);
            w.u64(*cookie);
        }
        Request::GetXattr { id, name, size } => {
            w.id(*id);
            w.name("xattr name", name)?;
            w.u32(*size);
        }
        Request::ListXattr { id, size } => {
            w.id(*id);
            w.u32(*size);
        }
        Request::Close { ids } => {
            w.count("close ids", ids.len(), MAX_CLOSE)?;
            for id in ids {
                w.id(*id);
            }
        }
    }
    Ok(())
}

fn encode_reply(w: &mut Writer<'_>, r: &Reply) -> Result<(), EncodeError> {
    match r {
        Reply::Error(e) => w.errno(*e),
        Reply::Attach(n)
        | Reply::OpenCreate(n)
        | Reply::Mkdir(n)
        | Reply::Mknod(n)
        | Reply::Symlink(n)
        | Reply::Link(n) => w.node(n),
        Reply::Walk { status, nodes } => {
            w.walk_status(status);
            w.count("walk nodes", nodes.len(), MAX_WALK)?;
            for n in nodes {
                w.node(n);
            }
        }
        Reply::WalkStat { status, stats } => {
            w.walk_status(status);
            w.count("walk stats", stats.len(), MAX_WALK)?;
            for s in stats {
                w.stat(s);
            }
        }
        Reply::Open
        | Reply::Unlink
        | Reply::Rename
        | Reply::SetStat
        | Reply::Fsync
        | Reply::Close => {}
        Reply::Readlink(t) => w.blob("symlink target", t, MAX_TARGET)?,
        Reply::Stat(s) => w.stat(s),
        Reply::StatFs(s) => {
            for v in [
                s.f_type,
                s.f_bsize,
                s.f_blocks,
                s.f_bfree,
                s.f_bavail,
                s.f_files,
                s.f_ffree,
                s.f_fsid,
                s.f_namelen,
                s.f_frsize,
                s.f_flags,
            ] {
                w.u64(v);
            }
        }
        Reply::Getdents(ents) => {
            // The message limit bounds the count; MAX_BODY is a safe upper bound here.
            w.count("dirents", ents.len(), MAX_BODY)?;
            for d in ents {
                w.u64(d.ino);
                w.u64(d.next);
                w.u8(d.d_type);
                w.name("dirent name", &d.name)?;
            }
        }
        Reply::GetXattr(x) | Reply::ListXattr(x) => {
            w.u32(x.len);
            w.blob("xattr data", &x.data, MAX_XATTR)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Decoding.

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    kind: &'static str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len());
        match end {
            Some(end) => {
                let s = &self.b[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(DecodeError::Truncated { kind: self.kind }),
        }
    }
    fn left(&self) -> usize {
        self.b.len() - self.pos
    }
    fn arr<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.arr::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.arr()?))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.arr()?))
    }
    fn id(&mut self) -> Result<FileId, DecodeError> {
        Ok(FileId(self.u64()?))
    }
    fn name(&mut self, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        let len = usize::from(self.u16()?);
        if len > MAX_NAME {
            return Err(DecodeError::TooLong {
                what,
                len,
                max: MAX_NAME,
            });
        }
        Ok(self.take(len)?.to_vec())
    }
    fn blob(&mut self, what: &'static str, max: usize) -> Result<Vec<u8>, DecodeError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        Ok(self.take(len)?.to_vec())
    }
    /// Reads a count and checks it against `max` and against the bytes left, given that each
    /// item takes at least `min_item` bytes, so a lying count cannot make us allocate.
    fn count(
        &mut self,
        what: &'static str,
        max: usize,
        min_item: usize,
    ) -> Result<usize, DecodeError> {
        let n = self.u32()?;
        let n_usize = n as usize;
        if n_usize > max {
            return Err(DecodeError::TooMany {
                what,
                n: u64::from(n),
                max,
            });
        }
        if n_usize.saturating_mul(min_item) > self.left() {
            return Err(DecodeError::Truncated { kind: self.kind });
        }
        Ok(n_usize)
    }
    fn stat(&mut self) -> Result<Stat, DecodeError> {
        Ok(Stat::from_bytes(self.take(Stat::SIZE)?))
    }
    fn timespec(&mut self) -> Result<Timespec, DecodeError> {
        Ok(Timespec {
            tv_sec: self.i64()?,
            tv_nsec: self.i64()?,
        })
    }
    fn node(&mut self) -> Result<Node, DecodeError> {
        Ok(Node {
            id: self.id()?,
            stat: self.stat()?,
        })
    }
    fn errno(&mut self) -> Result<Errno, DecodeError> {
        let raw = self.u32()?;
        i32::try_from(raw)
            .ok()
            .and_then(Errno::from_raw)
            .ok_or(DecodeError::UnknownErrno(raw))
    }
    fn walk_status(&mut self) -> Result<WalkStatus, DecodeError> {
        let tag = self.u8()?;
        let raw = self.u32()?;
        match (tag, raw) {
            (0, 0) => Ok(WalkStatus::Complete),
            (1, 0) => Ok(WalkStatus::Symlink),
            (2, raw) => i32::try_from(raw)
                .ok()
                .and_then(Errno::from_raw)
                .map(WalkStatus::Failed)
                .ok_or(DecodeError::UnknownErrno(raw)),
            _ => Err(DecodeError::BadValue("walk status")),
        }
    }
    fn names(&mut self) -> Result<Vec<Vec<u8>>, DecodeError> {
        let n = self.count("walk names", MAX_WALK, 2)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.name("name")?);
        }
        Ok(v)
    }
    fn finish(&self) -> Result<(), DecodeError> {
        match self.left() {
            0 => Ok(()),
            extra => Err(DecodeError::Trailing {
                kind: self.kind,
                extra,
            }),
        }
    }
}

/// Decodes and checks a header; `buf` is the whole datagram.
pub fn decode_header(buf: &[u8]) -> Result<Header, DecodeError> {
    if buf.len() > MAX_MESSAGE {
        return Err(DecodeError::TooLarge(buf.len()));
    }
    if buf.len() < HEADER_LEN {
        return Err(DecodeError::ShortHeader(buf.len()));
    }
    let mv = u16::from_le_bytes([buf[0], buf[1]]);
    let kind = u16::from_le_bytes([buf[2], buf[3]]);
    let tag = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let len = u32::from_le_bytes([buf[8], buf[9], buf[10], buf[11]]);
    let [version, magic] = mv.to_le_bytes();
    if magic != MAGIC {
        return Err(DecodeError::BadMagic(magic));
    }
    if version != VERSION {
        return Err(DecodeError::BadVersion(version));
    }
    if len as usize != buf.len() - HEADER_LEN {
        return Err(DecodeError::LengthMismatch {
            header: len,
            actual: buf.len() - HEADER_LEN,
        });
    }
    Ok(Header { kind, tag, len })
}

/// The tag of a datagram whose header is at least readable, so an error reply can name the
/// request it answers even when the rest is malformed.
pub fn peek_tag(buf: &[u8]) -> Option<u32> {
    let b = buf.get(4..8)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Decodes one whole datagram.
pub fn decode(buf: &[u8]) -> Result<Frame, DecodeError> {
    let h = decode_header(buf)?;
    let body = &buf[HEADER_LEN..];
    let msg = if h.kind == ERROR_KIND {
        let mut r = Reader {
            b: body,
            pos: 0,
            kind: "Error",
        };
        let e = r.errno()?;
        r.finish()?;
        Message::Reply(Reply::Error(e))
    } else if h.kind & REPLY_BIT != 0 {
        let kind = Kind::from_u16(h.kind & !REPLY_BIT).ok_or(DecodeError::UnknownKind(h.kind))?;
        let mut r = Reader {
            b: body,
            pos: 0,
            kind: kind.name(),
        };
        let reply = decode_reply(&mut r, kind)?;
        r.finish()?;
        Message::Reply(reply)
    } else {
        let kind = Kind::from_u16(h.kind).ok_or(DecodeError::UnknownKind(h.kind))?;
        let mut r = Reader {
            b: body,
            pos: 0,
            kind: kind.name(),
        };
        let req = decode_request(&mut r, kind)?;
        r.finish()?;
        Message::Request(req)
    };
    Ok(Frame { tag: h.tag, msg })
}

fn decode_request(r: &mut Reader<'_>, kind: Kind) -> Result<Request, DecodeError> {
    Ok(match kind {
        Kind::Attach => Request::Attach { root: r.u32()? },
        Kind::Walk => Request::Walk {
            dir: r.id()?,
            names: r.names()?,
        },
        Kind::WalkStat => Request::WalkStat {
            dir: r.id()?,
            names: r.names()?,
        },
        Kind::Open => Request::Open {
            id: r.id()?,
            flags: r.u32()?,
        },
        Kind::OpenCreate => Request::OpenCreate {
            dir: r.id()?,
            name: r.name("name")?,
            flags: r.u32()?,
            mode: r.u32()?,
            uid: r.u32()?,
            gid: r.u32()?,
        },
        Kind::Mkdir => Request::Mkdir {
            dir: r.id()?,
            name: r.name("name")?,
            mode: r.u32()?,
            uid: r.u32()?,
            gid: r.u32()?,
        },
        Kind::Mknod => Request::Mknod {
            dir: r.id()?,
            name: r.name("name")?,
            mode: r.u32()?,
            uid: r.u32()?,
            gid: r.u32()?,
        },
        Kind::Symlink => Request::Symlink {
            dir: r.id()?,
            name: r.name("name")?,
            target: r.blob("symlink target", MAX_TARGET)?,
            uid: r.u32()?,
            gid: r.u32()?,
        },
        Kind::Link => Request::Link {
            dir: r.id()?,
            name: r.name("name")?,
            target: r.id()?,
        },
        Kind::Unlink => Request::Unlink {
            dir: r.id()?,
            name: r.name("name")?,
            flags: r.u32()?,
        },
        Kind::Rename => Request::Rename {
            old_dir: r.id()?,
            old_name: r.name("name")?,
            new_dir: r.id()?,
            new_name: r.name("name")?,
            flags: r.u32()?,
        },
        Kind::Readlink => Request::Readlink { id: r.id()? },
        Kind::Stat => Request::Stat { id: r.id()? },
        Kind::SetStat => Request::SetStat {
            id: r.id()?,
            attr: SetStat {
                mask: r.u32()?,
                mode: r.u32()?,
                uid: r.u32()?,
                gid: r.u32()?,
                size: r.u64()?,
                atime: r.timespec()?,
                mtime: r.timespec()?,
            },
        },
        Kind::StatFs => Request::StatFs { id: r.id()? },
        Kind::Getdents => Request::Getdents {
            dir: r.id()?,
            cookie: r.u64()?,
        },
        Kind::Fsync => Request::Fsync { id: r.id()? },
        Kind::GetXattr => Request::GetXattr {
            id: r.id()?,
            name: r.name("xattr name")?,
            size: r.u32()?,
        },
        Kind::ListXattr => Request::ListXattr {
            id: r.id()?,
            size: r.u32()?,
        },
        Kind::Close => {
            let n = r.count("close ids", MAX_CLOSE, 8)?;
            let mut ids = Vec::with_capacity(n);
            for _ in 0..n {
                ids.push(r.id()?);
            }
            Request::Close { ids }
        }
    })
}

fn decode_reply(r: &mut Reader<'_>, kind: Kind) -> Result<Reply, DecodeError> {
    const NODE_LEN: usize = 8 + Stat::SIZE;
    Ok(match kind {
        Kind::Attach => Reply::Attach(r.node()?),
        Kind::Walk => {
            let status = r.walk_status()?;
            let n = r.count("walk nodes", MAX_WALK, NODE_LEN)?;
            let mut nodes = Vec::with_capacity(n);
            for _ in 0..n {
                nodes.push(r.node()?);
            }
            Reply::Walk { status, nodes }
        }
        Kind::WalkStat => {
            let status = r.walk_status()?;
            let n = r.count("walk stats", MAX_WALK, Stat::SIZE)?;
            let mut stats = Vec::with_capacity(n);
            for _ in 0..n {
                stats.push(r.stat()?);
            }
            Reply::WalkStat { status, stats }
        }
        Kind::Open => Reply::Open,
        Kind::OpenCreate => Reply::OpenCreate(r.node()?),
        Kind::Mkdir => Reply::Mkdir(r.node()?),
        Kind::Mknod => Reply::Mknod(r.node()?),
        Kind::Symlink => Reply::Symlink(r.node()?),
        Kind::Link => Reply::Link(r.node()?),
        Kind::Unlink => Reply::Unlink,
        Kind::Rename => Reply::Rename,
        Kind::Readlink => Reply::Readlink(r.blob("symlink target", MAX_TARGET)?),
        Kind::Stat => Reply::Stat(r.stat()?),
        Kind::SetStat => Reply::SetStat,
        Kind::StatFs => Reply::StatFs(StatFs {
            f_type: r.u64()?,
            f_bsize: r.u64()?,
            f_blocks: r.u64()?,
            f_bfree: r.u64()?,
            f_bavail: r.u64()?,
            f_files: r.u64()?,
            f_ffree: r.u64()?,
            f_fsid: r.u64()?,
            f_namelen: r.u64()?,
            f_frsize: r.u64()?,
            f_flags: r.u64()?,
        }),
        Kind::Getdents => {
            let n = r.count("dirents", MAX_BODY, dirent_encoded_len(0))?;
            let mut ents = Vec::with_capacity(n);
            for _ in 0..n {
                ents.push(Dirent {
                    ino: r.u64()?,
                    next: r.u64()?,
                    d_type: r.u8()?,
                    name: r.name("dirent name")?,
                });
            }
            Reply::Getdents(ents)
        }
        Kind::Fsync => Reply::Fsync,
        Kind::GetXattr => Reply::GetXattr(Xattr {
            len: r.u32()?,
            data: r.blob("xattr data", MAX_XATTR)?,
        }),
        Kind::ListXattr => Reply::ListXattr(Xattr {
            len: r.u32()?,
            data: r.blob("xattr data", MAX_XATTR)?,
        }),
        Kind::Close => Reply::Close,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(f: Frame) {
        let mut b = Vec::new();
        encode(&f, &mut b).unwrap();
        assert_eq!(decode(&b).unwrap(), f);
    }

    #[test]
    fn header_layout() {
        let mut b = Vec::new();
        encode(
            &Frame {
                tag: 0x0102_0304,
                msg: Message::Request(Request::Attach { root: 7 }),
            },
            &mut b,
        )
        .unwrap();
        assert_eq!(b, [0x01, 0x47, 1, 0, 4, 3, 2, 1, 4, 0, 0, 0, 7, 0, 0, 0]);
    }

    #[test]
    fn simple_round_trips() {
        round_trip(Frame {
            tag: 1,
            msg: Message::Request(Request::Walk {
                dir: FileId(3),
                names: vec![b"a".to_vec(), b"bc".to_vec()],
            }),
        });
        round_trip(Frame {
            tag: 2,
            msg: Message::Reply(Reply::Error(Errno::ENOENT)),
        });
        round_trip(Frame {
            tag: 3,
            msg: Message::Reply(Reply::Walk {
                status: WalkStatus::Failed(Errno::ENOTDIR),
                nodes: vec![Node {
                    id: FileId(9),
                    stat: Stat {
                        st_ino: 5,
                        ..Stat::default()
                    },
                }],
            }),
        });
    }

    #[test]
    fn rejects_bad_headers() {
        let mut b = Vec::new();
        encode(
            &Frame {
                tag: 1,
                msg: Message::Request(Request::Stat { id: FileId(1) }),
            },
            &mut b,
        )
        .unwrap();
        assert_eq!(decode(&b[..5]), Err(DecodeError::ShortHeader(5)));
        let mut bad = b.clone();
        bad[1] = 0x48;
        assert_eq!(decode(&bad), Err(DecodeError::BadMagic(0x48)));
        let mut bad = b.clone();
        bad[0] = 2;
        assert_eq!(decode(&bad), Err(DecodeError::BadVersion(2)));
        let mut bad = b.clone();
        bad.push(0);
        assert!(matches!(
            decode(&bad),
            Err(DecodeError::LengthMismatch { .. })
        ));
        let mut bad = b.clone();
        bad[2] = 99;
        assert_eq!(decode(&bad), Err(DecodeError::UnknownKind(99)));
        assert_eq!(
            decode(&vec![0u8; MAX_MESSAGE + 1]),
            Err(DecodeError::TooLarge(MAX_MESSAGE + 1))
        );
    }

    #[test]
    fn rejects_lying_counts_and_names() {
        // A Walk claiming 200 names with no bytes for them.
        let mut b = vec![0x01, 0x47, 2, 0, 0, 0, 0, 0, 12, 0, 0, 0];
        b.extend_from_slice(&1u64.to_le_bytes());
        b.extend_from_slice(&200u32.to_le_bytes());
        assert!(matches!(decode(&b), Err(DecodeError::Truncated { .. })));
        // A Close claiming more ids than allowed.
        let mut b = vec![0x01, 0x47, 20, 0, 0, 0, 0, 0, 4, 0, 0, 0];
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&b), Err(DecodeError::TooMany { .. })));
        // A name longer than NAME_MAX.
        let mut b = vec![0x01, 0x47, 10, 0, 0, 0, 0, 0];
        let mut body = 1u64.to_le_bytes().to_vec();
        body.extend_from_slice(&256u16.to_le_bytes());
        body.extend_from_slice(&[b'a'; 256]);
        body.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&(body.len() as u32).to_le_bytes());
        b.extend_from_slice(&body);
        assert!(matches!(decode(&b), Err(DecodeError::TooLong { .. })));
    }

    #[test]
    fn rejects_unknown_errno_and_trailing_bytes() {
        let mut b = vec![0x01, 0x47, 0xff, 0xff, 0, 0, 0, 0, 4, 0, 0, 0];
        b.extend_from_slice(&41u32.to_le_bytes());
        assert_eq!(decode(&b), Err(DecodeError::UnknownErrno(41)));
        // Kind 14|REPLY is SetStat, whose body is empty: one byte more is left over.
        let mut b = vec![0x01, 0x47, 14, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        assert!(matches!(decode(&b), Err(DecodeError::Trailing { .. })));
        b.truncate(12);
        b[8] = 0;
        assert_eq!(decode(&b).unwrap().msg, Message::Reply(Reply::SetStat));
        // Kind 13|REPLY is Stat, whose body is a struct stat: an empty body must not decode.
        b[2] = 13;
        assert!(matches!(decode(&b), Err(DecodeError::Truncated { .. })));
    }

    #[test]
    fn encode_enforces_limits() {
        let long = vec![b'a'; MAX_NAME + 1];
        let f = Frame {
            tag: 1,
            msg: Message::Request(Request::Unlink {
                dir: FileId(1),
                name: long,
                flags: 0,
            }),
        };
        let err = encode(&f, &mut Vec::new()).unwrap_err();
        assert_eq!(err.errno(), Errno::ENAMETOOLONG);
        let names = vec![b"a".to_vec(); MAX_WALK + 1];
        let f = Frame {
            tag: 1,
            msg: Message::Request(Request::Walk {
                dir: FileId(1),
                names,
            }),
        };
        assert!(matches!(
            encode(&f, &mut Vec::new()),
            Err(EncodeError::TooMany { .. })
        ));
    }
}
