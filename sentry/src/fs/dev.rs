//! /dev: the character devices programs expect (null, zero, full, random, urandom, tty), the
//! fd links, and the directory the sandbox mounts its /dev/shm tmpfs on (POSIX shared memory).
//! The sandbox's own; no host device is reachable.

use std::sync::Arc;

use syscalls::structs::Stat;
use syscalls::Errno;

use super::tmpfs::Tmpfs;
use crate::mm::MemoryFile;
use crate::vfs::inode::{DirEntry, FileType, Inode};
use crate::vfs::{FileOps, MmapSource};

/// Device number of /dev's own directory and links.
const DEVFS_DEV: u64 = 0x5;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Device {
    /// The controlling terminal; sandboxed processes have none yet (ENXIO, as on Linux for a
    /// process without one).
    Tty,
    Null,
    Zero,
    Full,
    Random,
    Urandom,
}

impl Device {
    /// (major, minor) as on Linux.
    fn numbers(self) -> (u64, u64) {
        match self {
            Device::Tty => (5, 0),
            Device::Null => (1, 3),
            Device::Zero => (1, 5),
            Device::Full => (1, 7),
            Device::Random => (1, 8),
            Device::Urandom => (1, 9),
        }
    }
}

/// A device node.
struct DevNode {
    dev: Device,
    ino: u64,
}

impl Inode for DevNode {
    fn kind(&self) -> FileType {
        FileType::CharDevice
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let (major, minor) = self.dev.numbers();
        Ok(Stat {
            st_dev: DEVFS_DEV,
            st_ino: self.ino,
            st_nlink: 1,
            st_mode: libc::S_IFCHR | 0o666,
            st_rdev: (major << 8) | minor,
            st_blksize: 4096,
            ..Stat::default()
        })
    }

    fn open(self: Arc<Self>, _flags: u32) -> Result<Box<dyn FileOps>, Errno> {
        if self.dev == Device::Tty {
            return Err(Errno::ENXIO);
        }
        Ok(Box::new(DevFile(self)))
    }
}

struct DevFile(Arc<DevNode>);

/// Fills every iovec piece with `f`, returning the total.
fn fill(iov: &[libc::iovec], mut f: impl FnMut(*mut u8, usize)) -> usize {
    let mut total = 0;
    for v in iov {
        f(v.iov_base.cast(), v.iov_len);
        total += v.iov_len;
    }
    total
}

impl FileOps for DevFile {
    fn read(&self, iov: &[libc::iovec], _off: u64) -> Result<usize, Errno> {
        Ok(match self.0.dev {
            Device::Null | Device::Tty => 0,
            // SAFETY: each piece is writable guest memory checked by the memory manager.
            Device::Zero | Device::Full => fill(iov, |p, n| unsafe { std::ptr::write_bytes(p, 0, n) }),
            Device::Random | Device::Urandom => fill(iov, |p, n| {
                let mut chunk = [0u8; 256];
                let mut done = 0;
                while done < n {
                    let k = (n - done).min(chunk.len());
                    crate::loader::fill_random(&mut chunk[..k]);
                    // SAFETY: p..p+n is writable guest memory checked by the memory manager;
                    // done + k <= n.
                    unsafe { std::ptr::copy_nonoverlapping(chunk.as_ptr(), p.add(done), k) };
                    done += k;
                }
            }),
        })
    }

    fn write(&self, iov: &[libc::iovec], _off: u64) -> Result<usize, Errno> {
        match self.0.dev {
            Device::Full => Err(Errno::ENOSPC),
            _ => Ok(iov.iter().map(|v| v.iov_len).sum()),
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        self.0.stat()
    }

    fn seekable(&self) -> bool {
        false
    }

    fn mmap_source(&self) -> MmapSource<'_> {
        match self.0.dev {
            Device::Zero => MmapSource::Zero,
            _ => MmapSource::Unmappable,
        }
    }
}

/// A fixed symlink (/dev/fd -> /proc/self/fd...).
struct Link {
    target: &'static [u8],
    ino: u64,
}

impl Inode for Link {
    fn kind(&self) -> FileType {
        FileType::Symlink
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_dev: DEVFS_DEV, st_ino: self.ino, st_nlink: 1, st_mode: libc::S_IFLNK | 0o777, st_size: self.target.len() as i64, ..Stat::default() })
    }

    fn open(self: Arc<Self>, _flags: u32) -> Result<Box<dyn FileOps>, Errno> {
        Err(Errno::ELOOP)
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        Ok(self.target.to_vec())
    }
}

/// The /dev directory.
pub struct DevDir {
    entries: Vec<(&'static [u8], Arc<dyn Inode>)>,
}

impl DevDir {
    /// Builds /dev; the files of /dev/shm keep their data in `mf`.
    pub fn new(mf: &Arc<MemoryFile>) -> Arc<DevDir> {
        let mut ino = 10;
        let mut next = || {
            ino += 1;
            ino
        };
        let mut entries: Vec<(&'static [u8], Arc<dyn Inode>)> = Vec::new();
        for (name, dev) in [(&b"full"[..], Device::Full), (b"null", Device::Null), (b"random", Device::Random), (b"tty", Device::Tty), (b"urandom", Device::Urandom), (b"zero", Device::Zero)] {
            entries.push((name, Arc::new(DevNode { dev, ino: next() })));
        }
        for (name, target) in [
            (&b"fd"[..], &b"/proc/self/fd"[..]),
            (b"stdin", b"/proc/self/fd/0"),
            (b"stdout", b"/proc/self/fd/1"),
            (b"stderr", b"/proc/self/fd/2"),
        ] {
            entries.push((name, Arc::new(Link { target, ino: next() })));
        }
        // The mount point of the sandbox's /dev/shm tmpfs.
        entries.push((b"shm", Tmpfs::new_root(mf, 0o1777, 0, 0)));
        entries.sort_by(|a, b| a.0.cmp(b.0));
        Arc::new(DevDir { entries })
    }
}

impl Inode for DevDir {
    fn kind(&self) -> FileType {
        FileType::Directory
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_dev: DEVFS_DEV, st_ino: 1, st_nlink: 3, st_mode: libc::S_IFDIR | 0o755, st_size: 4096, st_blksize: 4096, ..Stat::default() })
    }

    fn open(self: Arc<Self>, _flags: u32) -> Result<Box<dyn FileOps>, Errno> {
        Ok(Box::new(DirHandle(self)))
    }

    fn read_only(&self) -> bool {
        true
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        self.entries.iter().find(|(n, _)| *n == name).map(|(_, i)| i.clone()).ok_or(Errno::ENOENT)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        self.entries
            .iter()
            .map(|(n, i)| Ok(DirEntry { ino: i.stat()?.st_ino, kind: i.kind(), name: n.to_vec() }))
            .collect()
    }
}

/// An open /dev directory (read with getdents64).
struct DirHandle(Arc<DevDir>);

impl FileOps for DirHandle {
    fn read(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn write(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.0.stat()
    }
}
