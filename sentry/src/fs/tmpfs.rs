//! tmpfs: files that live in the Sentry's memory and are gone when the sandbox ends. A regular
//! file's data is kept in the memory file ([`FilePages`]), so MAP_SHARED mappings of it are
//! windows of the same pages that read and write use.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use syscalls::structs::Stat;
use syscalls::Errno;

use super::now;
use super::pipe::{Pipe, PipeEnd};
use crate::mm::file_pages::FilePages;
use crate::mm::MemoryFile;

/// Largest tmpfs file (the kernel's MAX_LFS_FILESIZE).
const MAX_FILE_SIZE: u64 = i64::MAX as u64;
use crate::kernel::Task;
use crate::vfs::inode::{CreateArgs, DirEntry, FileType, Inode, SetAttr};
use crate::vfs::{FileOps, MmapSource};

/// Device numbers for anonymous filesystems, one per instance.
static NEXT_DEV: AtomicU64 = AtomicU64::new(0x20);

/// One tmpfs instance.
pub struct Tmpfs {
    dev: u64,
    next_ino: AtomicU64,
    /// Where its files' pages live.
    mf: Arc<MemoryFile>,
}

impl Tmpfs {
    /// A new, empty tmpfs whose files keep their data in `mf`; returns its root directory.
    pub fn new_root(mf: &Arc<MemoryFile>, mode: u32, uid: u32, gid: u32) -> Arc<TmpfsInode> {
        let fs = Arc::new(Tmpfs { dev: NEXT_DEV.fetch_add(1, Ordering::Relaxed), next_ino: AtomicU64::new(1), mf: mf.clone() });
        TmpfsInode::new(&fs, FileType::Directory, CreateArgs { mode, uid, gid }, Data::Dir(Mutex::default()))
    }
}

struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u64,
    atime: (i64, i64),
    mtime: (i64, i64),
    ctime: (i64, i64),
}

/// A directory's entries by name.
type Entries = BTreeMap<Vec<u8>, Arc<TmpfsInode>>;

enum Data {
    File(FilePages),
    Dir(Mutex<Entries>),
    Symlink(Vec<u8>),
    /// A FIFO's pipe, shared by every open.
    Fifo(Arc<Pipe>),
    /// Sockets and device nodes keep no data here.
    Node,
}

/// A tmpfs file, directory or symlink.
pub struct TmpfsInode {
    fs: Arc<Tmpfs>,
    ino: u64,
    kind: FileType,
    meta: Mutex<Meta>,
    data: Data,
}

impl TmpfsInode {
    fn new(fs: &Arc<Tmpfs>, kind: FileType, args: CreateArgs, data: Data) -> Arc<TmpfsInode> {
        let t = now();
        Arc::new(TmpfsInode {
            fs: fs.clone(),
            ino: fs.next_ino.fetch_add(1, Ordering::Relaxed),
            kind,
            meta: Mutex::new(Meta {
                mode: args.mode & 0o7777,
                uid: args.uid,
                gid: args.gid,
                nlink: if kind == FileType::Directory { 2 } else { 1 },
                atime: t,
                mtime: t,
                ctime: t,
            }),
            data,
        })
    }

    fn meta(&self) -> MutexGuard<'_, Meta> {
        self.meta.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn entries(&self) -> Result<MutexGuard<'_, Entries>, Errno> {
        match &self.data {
            Data::Dir(m) => Ok(m.lock().unwrap_or_else(|e| e.into_inner())),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn touch_dir(&self) {
        let t = now();
        let mut m = self.meta();
        m.mtime = t;
        m.ctime = t;
    }

    fn add(&self, name: &[u8], kind: FileType, args: CreateArgs, data: Data) -> Result<Arc<dyn Inode>, Errno> {
        let mut e = self.entries()?;
        if e.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let node = TmpfsInode::new(&self.fs, kind, args, data);
        e.insert(name.to_vec(), node.clone());
        drop(e);
        if kind == FileType::Directory {
            self.meta().nlink += 1;
        }
        self.touch_dir();
        Ok(node)
    }

    fn size(&self) -> u64 {
        match &self.data {
            Data::File(d) => d.len(),
            Data::Symlink(t) => t.len() as u64,
            Data::Dir(_) => 4096,
            Data::Fifo(_) | Data::Node => 0,
        }
    }
}

/// The tmpfs inode behind `i`, if it is one (rename and link stay within a filesystem).
fn downcast(i: &Arc<dyn Inode>) -> Option<Arc<TmpfsInode>> {
    let any: Arc<dyn Any + Send + Sync> = i.clone();
    any.downcast::<TmpfsInode>().ok()
}

impl Inode for TmpfsInode {
    fn kind(&self) -> FileType {
        self.kind
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let size = self.size();
        let m = self.meta();
        Ok(Stat {
            st_dev: self.fs.dev,
            st_ino: self.ino,
            st_nlink: m.nlink,
            st_mode: self.kind.mode_bits() | m.mode,
            st_uid: m.uid,
            st_gid: m.gid,
            st_rdev: 0,
            st_size: size as i64,
            st_blksize: 4096,
            st_blocks: match &self.data {
                Data::File(d) => d.blocks() as i64,
                _ => size.div_ceil(512) as i64,
            },
            st_atime: m.atime.0,
            st_atime_nsec: m.atime.1,
            st_mtime: m.mtime.0,
            st_mtime_nsec: m.mtime.1,
            st_ctime: m.ctime.0,
            st_ctime_nsec: m.ctime.1,
        })
    }

    fn open(self: Arc<Self>, flags: u32) -> Result<Box<dyn FileOps>, Errno> {
        match self.kind {
            FileType::Regular => {
                if flags & libc::O_TRUNC as u32 != 0 && flags & 3 != 0 {
                    self.setattr(&SetAttr { size: Some(0), ..Default::default() })?;
                }
                Ok(Box::new(TmpfsFile { inode: self }))
            }
            FileType::Directory => Ok(Box::new(TmpfsFile { inode: self })),
            FileType::Fifo => match &self.data {
                Data::Fifo(p) => Ok(Box::new(PipeEnd::open_fifo(p, flags)?)),
                _ => Err(Errno::ENXIO),
            },
            _ => Err(Errno::ENXIO),
        }
    }

    fn setattr(&self, a: &SetAttr) -> Result<(), Errno> {
        if let Some(size) = a.size {
            let Data::File(d) = &self.data else {
                return Err(if self.kind == FileType::Directory { Errno::EISDIR } else { Errno::EINVAL });
            };
            d.truncate(size);
        }
        let t = now();
        let mut m = self.meta();
        if let Some(mode) = a.mode {
            m.mode = mode & 0o7777;
        }
        if let Some(uid) = a.uid {
            m.uid = uid;
        }
        if let Some(gid) = a.gid {
            m.gid = gid;
        }
        if let Some(at) = a.atime {
            m.atime = at;
        }
        if let Some(mt) = a.mtime {
            m.mtime = mt;
        } else if a.size.is_some() {
            m.mtime = t;
        }
        m.ctime = t;
        Ok(())
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match &self.data {
            Data::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let e = self.entries()?;
        e.get(name).map(|i| i.clone() as Arc<dyn Inode>).ok_or(Errno::ENOENT)
    }

    fn mknod(&self, name: &[u8], kind: FileType, args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        let data = match kind {
            FileType::Regular => Data::File(FilePages::new(self.fs.mf.clone())),
            FileType::Fifo => Data::Fifo(Pipe::new_fifo(self.fs.next_ino.load(Ordering::Relaxed))),
            FileType::Socket | FileType::CharDevice | FileType::BlockDevice => Data::Node,
            _ => return Err(Errno::EINVAL),
        };
        self.add(name, kind, args, data)
    }

    fn mkdir(&self, name: &[u8], args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        self.add(name, FileType::Directory, args, Data::Dir(Mutex::default()))
    }

    fn symlink(&self, name: &[u8], target: &[u8], args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        self.add(name, FileType::Symlink, CreateArgs { mode: 0o777, ..args }, Data::Symlink(target.to_vec()))
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        let t = downcast(target).ok_or(Errno::EXDEV)?;
        if t.kind == FileType::Directory {
            return Err(Errno::EPERM);
        }
        let mut e = self.entries()?;
        if e.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        e.insert(name.to_vec(), t.clone());
        drop(e);
        let mut m = t.meta();
        m.nlink += 1;
        m.ctime = now();
        drop(m);
        self.touch_dir();
        Ok(())
    }

    fn unlink(&self, name: &[u8], dir: bool) -> Result<(), Errno> {
        let mut e = self.entries()?;
        let victim = e.get(name).cloned().ok_or(Errno::ENOENT)?;
        match (dir, victim.kind == FileType::Directory) {
            (true, false) => return Err(Errno::ENOTDIR),
            (false, true) => return Err(Errno::EISDIR),
            (true, true) if !victim.entries()?.is_empty() => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        e.remove(name);
        drop(e);
        let mut m = victim.meta();
        m.nlink = if dir { 0 } else { m.nlink.saturating_sub(1) };
        m.ctime = now();
        drop(m);
        if dir {
            self.meta().nlink -= 1;
        }
        self.touch_dir();
        Ok(())
    }

    fn rename(&self, old: &[u8], new_dir: &Arc<dyn Inode>, new: &[u8], flags: u32) -> Result<(), Errno> {
        const RENAME_NOREPLACE: u32 = 1;
        const RENAME_EXCHANGE: u32 = 2;
        let nd = downcast(new_dir).ok_or(Errno::EXDEV)?;
        let same_dir = std::ptr::eq(self, Arc::as_ptr(&nd));
        let src = self.entries()?.get(old).cloned().ok_or(Errno::ENOENT)?;
        let dst = nd.entries()?.get(new).cloned();
        if let Some(d) = &dst {
            if Arc::ptr_eq(d, &src) {
                return Ok(());
            }
            if flags & RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if flags & RENAME_EXCHANGE == 0 {
                match (src.kind == FileType::Directory, d.kind == FileType::Directory) {
                    (true, false) => return Err(Errno::ENOTDIR),
                    (false, true) => return Err(Errno::EISDIR),
                    (true, true) if !d.entries()?.is_empty() => return Err(Errno::ENOTEMPTY),
                    _ => {}
                }
            }
        } else if flags & RENAME_EXCHANGE != 0 {
            return Err(Errno::ENOENT);
        }
        // A directory may not move into itself or below itself.
        if src.kind == FileType::Directory && is_ancestor(&src, &nd) {
            return Err(Errno::EINVAL);
        }
        if same_dir {
            let mut e = self.entries()?;
            let s = e.remove(old).ok_or(Errno::ENOENT)?;
            let replaced = e.insert(new.to_vec(), s);
            if flags & RENAME_EXCHANGE != 0 {
                if let Some(r) = replaced {
                    e.insert(old.to_vec(), r);
                }
            }
        } else {
            // Lock the two directories in address order, so two renames never deadlock.
            let self_first = (self as *const TmpfsInode) < Arc::as_ptr(&nd);
            let (mut first, mut second) = if self_first {
                let mine = self.entries()?;
                (mine, nd.entries()?)
            } else {
                let theirs = nd.entries()?;
                (self.entries()?, theirs)
            };
            let s = first.remove(old).ok_or(Errno::ENOENT)?;
            let replaced = second.insert(new.to_vec(), s.clone());
            if flags & RENAME_EXCHANGE != 0 {
                if let Some(r) = replaced {
                    first.insert(old.to_vec(), r);
                }
            } else if s.kind == FileType::Directory {
                drop(first);
                drop(second);
                self.meta().nlink -= 1;
                nd.meta().nlink += 1;
            }
        }
        self.touch_dir();
        nd.touch_dir();
        Ok(())
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(self.entries()?.iter().map(|(n, i)| DirEntry { ino: i.ino, kind: i.kind, name: n.clone() }).collect())
    }

}

/// Whether `dir` is `node` or lies below it.
fn is_ancestor(node: &Arc<TmpfsInode>, dir: &Arc<TmpfsInode>) -> bool {
    if Arc::ptr_eq(node, dir) {
        return true;
    }
    let Ok(e) = node.entries() else { return false };
    let subdirs: Vec<Arc<TmpfsInode>> = e.values().filter(|c| c.kind == FileType::Directory).cloned().collect();
    drop(e);
    subdirs.iter().any(|c| is_ancestor(c, dir))
}

/// An open tmpfs file or directory.
struct TmpfsFile {
    inode: Arc<TmpfsInode>,
}

impl FileOps for TmpfsFile {
    fn read(&self, iov: &[libc::iovec], off: u64) -> Result<usize, Errno> {
        match &self.inode.data {
            Data::File(d) => {
                let n = d.read(off, iov)?;
                self.inode.meta().atime = now();
                Ok(n)
            }
            Data::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn write(&self, iov: &[libc::iovec], off: u64) -> Result<usize, Errno> {
        let Data::File(d) = &self.inode.data else { return Err(Errno::EISDIR) };
        let len: u64 = iov.iter().map(|v| v.iov_len as u64).sum();
        off.checked_add(len).filter(|&e| e <= MAX_FILE_SIZE).ok_or(Errno::EFBIG)?;
        let n = d.write(off, iov)?;
        let t = now();
        let mut m = self.inode.meta();
        m.mtime = t;
        m.ctime = t;
        Ok(n)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        self.inode.stat()
    }

    fn ioctl(&self, _task: &mut Task, _cmd: u32, _arg: u64) -> Result<u64, Errno> {
        Err(Errno::ENOTTY)
    }

    fn truncate(&self, len: u64) -> Result<(), Errno> {
        if len > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        self.inode.setattr(&SetAttr { size: Some(len), ..Default::default() })
    }

    fn seek_data_hole(&self, whence: i32, off: u64) -> Option<Result<u64, Errno>> {
        let Data::File(d) = &self.inode.data else { return None };
        let r = if whence == libc::SEEK_DATA { d.seek_data(off) } else { d.seek_hole(off) };
        Some(r.ok_or(Errno::ENXIO))
    }

    fn fallocate(&self, mode: u32, off: u64, len: u64) -> Result<(), Errno> {
        const KEEP_SIZE: u32 = 1;
        const PUNCH_HOLE: u32 = 2;
        const ZERO_RANGE: u32 = 0x10;
        if mode & PUNCH_HOLE != 0 && mode & KEEP_SIZE == 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let Data::File(d) = &self.inode.data else { return Err(Errno::ENODEV) };
        off.checked_add(len).filter(|&e| e <= MAX_FILE_SIZE).ok_or(Errno::EFBIG)?;
        match mode {
            0 | KEEP_SIZE => d.allocate(off, len, mode & KEEP_SIZE != 0)?,
            ZERO_RANGE | 0x11 => {
                d.zero(off, len);
                d.allocate(off, len, mode & KEEP_SIZE != 0)?;
            }
            m if m == PUNCH_HOLE | KEEP_SIZE => d.zero(off, len),
            _ => return Err(Errno::EOPNOTSUPP),
        }
        Ok(())
    }

    fn mmap_source(&self) -> MmapSource<'_> {
        match &self.inode.data {
            Data::File(d) => MmapSource::Pages(d),
            _ => MmapSource::Unmappable,
        }
    }
}
