//! The gofer filesystem: files under the sandbox's host roots, served by the Gofer process.
//!
//! Metadata goes through the Gofer's protocol (walk, stat, create, rename...); file data does
//! not: opening a file gets the host descriptor itself (donated by the Gofer), and reads and
//! writes go straight to it. Attributes are cached from walks and refreshed after this
//! sandbox's own changes (exclusive access: nothing else changes the roots meanwhile).

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use gofer::proto::{SETSTAT_ATIME, SETSTAT_GID, SETSTAT_MODE, SETSTAT_MTIME, SETSTAT_SIZE, SETSTAT_UID};
use gofer::{Client, FileId, Node, SetStat, WalkStatus};
use syscalls::structs::{Pod, Stat, Timespec};
use syscalls::Errno;

use crate::vfs::inode::{CreateArgs, DirEntry, FileType, Inode, SetAttr};
use crate::vfs::FileOps;

/// A file under a gofer root.
pub struct GoferInode {
    client: Arc<Client>,
    id: FileId,
    kind: FileType,
    /// Cached attributes; None once this sandbox changed the file.
    stat: Mutex<Option<Stat>>,
    read_only: bool,
    /// Host descriptors the Gofer donated, kept for later opens: [read-only, read-write].
    /// Sharing one is safe: every transfer uses pread/pwrite at the description's own offset.
    fds: Mutex<[Option<Arc<OwnedFd>>; 2]>,
}

impl GoferInode {
    /// The root of gofer root number `root`.
    pub fn attach(client: Arc<Client>, root: u32, read_only: bool) -> Result<Arc<GoferInode>, Errno> {
        let node = client.attach(root)?;
        Ok(GoferInode::from_node(client, node, read_only))
    }

    fn from_node(client: Arc<Client>, node: Node, read_only: bool) -> Arc<GoferInode> {
        let kind = FileType::from_mode(node.stat.st_mode).unwrap_or(FileType::Regular);
        Arc::new(GoferInode { client, id: node.id, kind, stat: Mutex::new(Some(node.stat)), read_only, fds: Mutex::default() })
    }

    fn child(&self, node: Node) -> Arc<dyn Inode> {
        GoferInode::from_node(self.client.clone(), node, self.read_only)
    }

    fn stale(&self) {
        *self.stat.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn id_of(i: &Arc<dyn Inode>) -> Option<FileId> {
        let any: Arc<dyn std::any::Any + Send + Sync> = i.clone();
        any.downcast::<GoferInode>().ok().map(|g| g.id)
    }
}

impl Drop for GoferInode {
    fn drop(&mut self) {
        let _ = self.client.close(&[self.id]);
    }
}

impl Inode for GoferInode {
    fn kind(&self) -> FileType {
        self.kind
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let mut cached = self.stat.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(st) = *cached {
            return Ok(st);
        }
        let st = self.client.stat(self.id)?;
        *cached = Some(st);
        Ok(st)
    }

    fn open(self: Arc<Self>, flags: u32) -> Result<Box<dyn FileOps>, Errno> {
        let slot = usize::from(flags & 3 != 0);
        if flags & (libc::O_TRUNC as u32) != 0 {
            self.stale();
        } else if let Some(fd) = &self.fds.lock().unwrap_or_else(|e| e.into_inner())[slot] {
            return Ok(Box::new(GoferFile { fd: fd.clone(), inode: self.clone() }));
        }
        // The host descriptor's own flags: read-only or read-write, truncation, directory-ness.
        let mode = if slot == 1 { libc::O_RDWR as u32 } else { libc::O_RDONLY as u32 };
        let keep = (libc::O_TRUNC | libc::O_DIRECTORY) as u32;
        let fd = match self.client.open(self.id, (mode | (flags & keep)) as i32) {
            // A write-only file (no read permission on the host): ask for exactly that.
            Err(e) if slot == 1 && e.errno() == Errno::EACCES => self.client.open(self.id, (flags & (3 | keep)) as i32)?,
            r => r?,
        };
        let fd = Arc::new(fd);
        if self.kind == FileType::Regular {
            self.fds.lock().unwrap_or_else(|e| e.into_inner())[slot] = Some(fd.clone());
        }
        Ok(Box::new(GoferFile { fd, inode: self }))
    }

    fn setattr(&self, a: &SetAttr) -> Result<(), Errno> {
        let mut s = SetStat { mask: 0, mode: 0, uid: 0, gid: 0, size: 0, atime: Timespec::default(), mtime: Timespec::default() };
        if let Some(m) = a.mode {
            s.mask |= SETSTAT_MODE;
            s.mode = m;
        }
        if let Some(u) = a.uid {
            s.mask |= SETSTAT_UID;
            s.uid = u;
        }
        if let Some(g) = a.gid {
            s.mask |= SETSTAT_GID;
            s.gid = g;
        }
        if let Some(sz) = a.size {
            s.mask |= SETSTAT_SIZE;
            s.size = sz;
        }
        if let Some((sec, nsec)) = a.atime {
            s.mask |= SETSTAT_ATIME;
            s.atime = Timespec { tv_sec: sec, tv_nsec: nsec };
        }
        if let Some((sec, nsec)) = a.mtime {
            s.mask |= SETSTAT_MTIME;
            s.mtime = Timespec { tv_sec: sec, tv_nsec: nsec };
        }
        self.stale();
        self.client.set_stat(self.id, &s).map_err(Errno::from)
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        if self.kind != FileType::Symlink {
            return Err(Errno::EINVAL);
        }
        self.client.readlink(self.id).map_err(Errno::from)
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if self.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let w = self.client.walk(self.id, &[name])?;
        let node = w.nodes.into_iter().next();
        match (w.status, node) {
            (WalkStatus::Failed(e), _) => Err(e),
            (_, Some(n)) => Ok(self.child(n)),
            (_, None) => Err(Errno::ENOENT),
        }
    }

    fn mknod(&self, name: &[u8], kind: FileType, args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        self.stale();
        let node = match kind {
            FileType::Regular => {
                let (node, _fd) = self.client.open_create(self.id, name, libc::O_RDWR | libc::O_EXCL, args.mode, args.uid, args.gid)?;
                node
            }
            k => self.client.mknod(self.id, name, k.mode_bits() | args.mode, args.uid, args.gid)?,
        };
        Ok(self.child(node))
    }

    fn mkdir(&self, name: &[u8], args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        self.stale();
        let node = self.client.mkdir(self.id, name, args.mode, args.uid, args.gid)?;
        Ok(self.child(node))
    }

    fn symlink(&self, name: &[u8], target: &[u8], args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        self.stale();
        let node = self.client.symlink(self.id, name, target, args.uid, args.gid)?;
        Ok(self.child(node))
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        let t = GoferInode::id_of(target).ok_or(Errno::EXDEV)?;
        self.stale();
        self.client.link(self.id, name, t)?;
        Ok(())
    }

    fn unlink(&self, name: &[u8], dir: bool) -> Result<(), Errno> {
        self.stale();
        let flags = if dir { libc::AT_REMOVEDIR } else { 0 };
        self.client.unlink(self.id, name, flags).map_err(Errno::from)
    }

    fn rename(&self, old: &[u8], new_dir: &Arc<dyn Inode>, new: &[u8], flags: u32) -> Result<(), Errno> {
        let nd = GoferInode::id_of(new_dir).ok_or(Errno::EXDEV)?;
        self.stale();
        self.client.rename(self.id, old, nd, new, flags).map_err(Errno::from)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut out = Vec::new();
        let mut cookie = 0;
        loop {
            let batch = self.client.getdents(self.id, cookie)?;
            let Some(last) = batch.last() else { return Ok(out) };
            cookie = last.next;
            for d in batch {
                let kind = match d.d_type {
                    libc::DT_DIR => FileType::Directory,
                    libc::DT_LNK => FileType::Symlink,
                    libc::DT_FIFO => FileType::Fifo,
                    libc::DT_CHR => FileType::CharDevice,
                    libc::DT_BLK => FileType::BlockDevice,
                    libc::DT_SOCK => FileType::Socket,
                    _ => FileType::Regular,
                };
                out.push(DirEntry { ino: d.ino, kind, name: d.name });
            }
        }
    }
}

/// An open gofer file: the donated host descriptor.
struct GoferFile {
    fd: Arc<OwnedFd>,
    inode: Arc<GoferInode>,
}

/// The errno of the last failed host call.
fn host_errno() -> Errno {
    std::io::Error::last_os_error().raw_os_error().and_then(Errno::from_raw).unwrap_or(Errno::EIO)
}

impl FileOps for GoferFile {
    fn read(&self, iov: &[libc::iovec], off: u64) -> Result<usize, Errno> {
        loop {
            // SAFETY: the iovecs point into the memory-file mapping, validated writable by the
            // memory manager; the host writes at most their lengths.
            let n = unsafe { libc::preadv(self.fd.as_raw_fd(), iov.as_ptr(), iov.len() as i32, off as libc::off_t) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = host_errno();
            if e != Errno::EINTR {
                return Err(e);
            }
        }
    }

    fn write(&self, iov: &[libc::iovec], off: u64) -> Result<usize, Errno> {
        self.inode.stale();
        loop {
            // SAFETY: the iovecs point into the memory-file mapping, validated readable.
            let n = unsafe { libc::pwritev(self.fd.as_raw_fd(), iov.as_ptr(), iov.len() as i32, off as libc::off_t) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = host_errno();
            if e != Errno::EINTR {
                return Err(e);
            }
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let mut buf = [0u8; Stat::SIZE];
        // SAFETY: buf has the kernel's struct stat size; the raw fstat fills it.
        if unsafe { libc::syscall(libc::SYS_fstat, self.fd.as_raw_fd(), buf.as_mut_ptr()) } != 0 {
            return Err(host_errno());
        }
        Ok(Stat::from_bytes(&buf))
    }

    fn truncate(&self, len: u64) -> Result<(), Errno> {
        self.inode.stale();
        // SAFETY: ftruncate on our own descriptor.
        if unsafe { libc::ftruncate(self.fd.as_raw_fd(), len as libc::off_t) } != 0 {
            return Err(host_errno());
        }
        Ok(())
    }

    fn seek_data_hole(&self, whence: i32, off: u64) -> Option<Result<u64, Errno>> {
        // SAFETY: lseek on our own descriptor; its position is not used for I/O (pread/pwrite).
        let r = unsafe { libc::lseek(self.fd.as_raw_fd(), off as libc::off_t, whence) };
        Some(if r < 0 { Err(host_errno()) } else { Ok(r as u64) })
    }

    fn fallocate(&self, mode: u32, off: u64, len: u64) -> Result<(), Errno> {
        self.inode.stale();
        // SAFETY: fallocate on our own descriptor.
        if unsafe { libc::fallocate(self.fd.as_raw_fd(), mode as i32, off as libc::off_t, len as libc::off_t) } != 0 {
            return Err(host_errno());
        }
        Ok(())
    }
}
