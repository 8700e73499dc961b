//! The filesystem-independent view of a file: the [`Inode`] trait each filesystem implements.

use std::any::Any;
use std::sync::Arc;

use syscalls::structs::Stat;
use syscalls::Errno;

use super::FileOps;

/// The type bits of st_mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// S_IFREG.
    Regular,
    /// S_IFDIR.
    Directory,
    /// S_IFLNK.
    Symlink,
    /// S_IFIFO.
    Fifo,
    /// S_IFCHR.
    CharDevice,
    /// S_IFBLK.
    BlockDevice,
    /// S_IFSOCK.
    Socket,
}

impl FileType {
    /// The S_IF* bits.
    pub fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => libc::S_IFREG,
            FileType::Directory => libc::S_IFDIR,
            FileType::Symlink => libc::S_IFLNK,
            FileType::Fifo => libc::S_IFIFO,
            FileType::CharDevice => libc::S_IFCHR,
            FileType::BlockDevice => libc::S_IFBLK,
            FileType::Socket => libc::S_IFSOCK,
        }
    }

    /// From st_mode.
    pub fn from_mode(mode: u32) -> Option<FileType> {
        Some(match mode & libc::S_IFMT {
            libc::S_IFREG => FileType::Regular,
            libc::S_IFDIR => FileType::Directory,
            libc::S_IFLNK => FileType::Symlink,
            libc::S_IFIFO => FileType::Fifo,
            libc::S_IFCHR => FileType::CharDevice,
            libc::S_IFBLK => FileType::BlockDevice,
            libc::S_IFSOCK => FileType::Socket,
            _ => return None,
        })
    }

    /// The d_type of a directory entry.
    pub fn dirent_type(self) -> u8 {
        match self {
            FileType::Regular => libc::DT_REG,
            FileType::Directory => libc::DT_DIR,
            FileType::Symlink => libc::DT_LNK,
            FileType::Fifo => libc::DT_FIFO,
            FileType::CharDevice => libc::DT_CHR,
            FileType::BlockDevice => libc::DT_BLK,
            FileType::Socket => libc::DT_SOCK,
        }
    }
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// Inode number.
    pub ino: u64,
    /// Type.
    pub kind: FileType,
    /// Name.
    pub name: Vec<u8>,
}

/// Who creates a file: the owner and the permission bits after umask.
#[derive(Clone, Copy, Debug)]
pub struct CreateArgs {
    /// Permission bits (already masked by the umask).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

/// Attribute changes (chmod, chown, truncate, utimensat); None leaves a field alone.
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    /// New permission bits.
    pub mode: Option<u32>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New size.
    pub size: Option<u64>,
    /// New access time (sec, nsec).
    pub atime: Option<(i64, i64)>,
    /// New modification time (sec, nsec).
    pub mtime: Option<(i64, i64)>,
}

/// A file as a filesystem knows it (`Any`, so a filesystem can recognise its own inodes in
/// rename and link).
/// Directory operations default to ENOTDIR and the rest to
/// the errno Linux gives for a file type that lacks them.
pub trait Inode: Send + Sync + Any {
    /// Its type.
    fn kind(&self) -> FileType;
    /// stat(2).
    fn stat(&self) -> Result<Stat, Errno>;
    /// Opens it: the returned operations back a new file description.
    fn open(self: Arc<Self>, flags: u32) -> Result<Box<dyn FileOps>, Errno>;
    /// Changes attributes.
    fn setattr(&self, _attr: &SetAttr) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }
    /// The target of a symlink.
    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        Err(Errno::EINVAL)
    }
    /// Whether the filesystem refuses changes (EROFS).
    fn read_only(&self) -> bool {
        false
    }

    /// Whether a cached name for this inode still holds (/proc's come and go with processes,
    /// threads and descriptors); a stale one is looked up again.
    fn revalidate(&self) -> bool {
        true
    }

    /// Looks `name` up in a directory.
    fn lookup(&self, _name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Creates a regular file, FIFO or other node.
    fn mknod(&self, _name: &[u8], _kind: FileType, _args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Creates a directory.
    fn mkdir(&self, _name: &[u8], _args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Creates a symlink.
    fn symlink(&self, _name: &[u8], _target: &[u8], _args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Adds a hard link to `target` (an inode of the same filesystem).
    fn link(&self, _name: &[u8], _target: &Arc<dyn Inode>) -> Result<(), Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Removes a name: a directory (which must be empty) when `dir`, else anything but one.
    fn unlink(&self, _name: &[u8], _dir: bool) -> Result<(), Errno> {
        Err(Errno::ENOTDIR)
    }
    /// Moves `old` in this directory to `new` in `new_dir` (same filesystem), replacing what
    /// is there as rename(2) allows.
    fn rename(&self, _old: &[u8], _new_dir: &Arc<dyn Inode>, _new: &[u8], _flags: u32) -> Result<(), Errno> {
        Err(Errno::ENOTDIR)
    }
    /// All entries but "." and "..".
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::ENOTDIR)
    }
}
