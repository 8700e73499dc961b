//! The virtual filesystem: inodes and dentries ([`inode`], [`dentry`]), mounts ([`mount`]),
//! path resolution ([`resolve`]), and the descriptor layer: [`FileDescription`] (an open file:
//! status flags and offset, shared by dups) and [`FdTable`] (a process's descriptor numbers,
//! each with its close-on-exec flag). Filesystems live in `crate::fs`.

pub mod dentry;
pub mod host;
pub mod inode;
pub mod mount;
pub mod resolve;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use syscalls::structs::Stat;
use syscalls::Errno;

use crate::kernel::Task;
use mount::VfsPath;

/// What a kind of open file can do (`Any`, so calls that act on one kind of file, such as
/// timerfd_settime, can recognise it). Buffers are (Sentry pointer, length) pieces of guest
/// memory already checked by the memory manager.
pub trait FileOps: Send + Sync + std::any::Any {
    /// Reads into the pieces at `off` (streams ignore it); returns the bytes read.
    fn read(&self, iov: &[libc::iovec], off: u64) -> Result<usize, Errno>;
    /// Writes from the pieces at `off` (streams ignore it); returns the bytes written.
    fn write(&self, iov: &[libc::iovec], off: u64) -> Result<usize, Errno>;
    /// fstat(2).
    fn stat(&self) -> Result<Stat, Errno>;
    /// ioctl(2); ENOTTY for requests the file does not know.
    fn ioctl(&self, _task: &mut Task, _cmd: u32, _arg: u64) -> Result<u64, Errno> {
        Err(Errno::ENOTTY)
    }
    /// Whether the file has a position (regular files and directories) or is a stream
    /// (pipes, terminals, sockets: lseek gives ESPIPE, pread/pwrite too).
    fn seekable(&self) -> bool {
        true
    }
    /// ftruncate(2).
    fn truncate(&self, _len: u64) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }
    /// fallocate(2): `mode` 0 extends, FALLOC_FL_PUNCH_HOLE and FALLOC_FL_ZERO_RANGE zero.
    fn fallocate(&self, _mode: u32, _off: u64, _len: u64) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }
    /// SEEK_DATA/SEEK_HOLE (`whence`) from `off`, for files that know their holes; None means
    /// the file is dense (all data up to its size).
    fn seek_data_hole(&self, _whence: i32, _off: u64) -> Option<Result<u64, Errno>> {
        None
    }
    /// F_SETFL changed the description's status flags (O_NONBLOCK...).
    fn status_flags_changed(&self, _flags: u32) {}
    /// Whether poll and epoll can watch it (epoll_ctl refuses the rest with EPERM).
    fn pollable(&self) -> bool {
        false
    }
    /// What /proc/<pid>/fd shows for a file that has no path (a host descriptor's own name).
    fn display_name(&self) -> Option<Vec<u8>> {
        None
    }
    /// A counter that moves whenever new data or room arrives; edge-triggered epoll fires on
    /// a move while the file is ready.
    fn change_seq(&self) -> u64 {
        0
    }
    /// POLL* bits that are ready now (regular files are always ready).
    fn readiness(&self) -> u16 {
        (libc::POLLIN | libc::POLLOUT | libc::POLLRDNORM | libc::POLLWRNORM) as u16
    }
    /// Whether readiness changes without a notification (host descriptors, timers): pollers
    /// then recheck periodically.
    fn polled_readiness(&self) -> bool {
        false
    }
    /// What mmap(2) maps of the file: by default a copy of what read() returns for files
    /// with a position, nothing (ENODEV) for streams.
    fn mmap_source(&self) -> MmapSource<'_> {
        if self.seekable() {
            MmapSource::Copy
        } else {
            MmapSource::Unmappable
        }
    }
}

/// What mmap(2) can map of an open file.
pub enum MmapSource<'a> {
    /// Nothing: ENODEV (pipes, sockets, directories, most devices).
    Unmappable,
    /// The bytes read() returns, copied when the mapping is made: private mappings of any
    /// such file, and read-only shared mappings of files whose pages are not in the memory
    /// file (host files, which the guest cannot change in the overlaid root).
    Copy,
    /// The file's own pages in the memory file (tmpfs, /dev/shm, memfd): shared mappings are
    /// windows of them, coherent with read and write.
    Pages(&'a crate::mm::file_pages::FilePages),
    /// Zeros: /dev/zero maps fresh anonymous memory, shared or private.
    Zero,
}

/// Status flags a descriptor's F_SETFL may change.
pub const SETFL_MASK: u32 = (libc::O_APPEND | libc::O_NONBLOCK | libc::O_ASYNC | libc::O_DIRECT | libc::O_NOATIME) as u32;

/// An open file.
pub struct FileDescription {
    /// The file's operations.
    pub ops: Box<dyn FileOps>,
    /// Where it was opened (none for pipes, sockets and the sandbox's stdio).
    pub path: Option<VfsPath>,
    /// Access mode and status flags (O_RDONLY/O_WRONLY/O_RDWR, O_APPEND, O_NONBLOCK...).
    flags: AtomicU32,
    /// The file position.
    pub offset: Mutex<u64>,
}

impl Drop for FileDescription {
    fn drop(&mut self) {
        crate::kernel::locks::release(self);
        if let Some(p) = &self.path {
            if self.flags() & libc::O_PATH as u32 == 0 {
                use crate::fs::inotify::{notify_path, IN_CLOSE_NOWRITE, IN_CLOSE_WRITE};
                notify_path(p, if self.writable() { IN_CLOSE_WRITE } else { IN_CLOSE_NOWRITE });
            }
        }
    }
}

impl FileDescription {
    /// A new open file.
    pub fn new(ops: Box<dyn FileOps>, path: Option<VfsPath>, flags: u32) -> Arc<FileDescription> {
        Arc::new(FileDescription { ops, path, flags: AtomicU32::new(flags & !(libc::O_CLOEXEC as u32)), offset: Mutex::new(0) })
    }

    /// The flags F_GETFL reports.
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// F_SETFL: changes the settable status flags only.
    pub fn set_status_flags(&self, f: u32) {
        let old = self.flags();
        let new = (old & !SETFL_MASK) | (f & SETFL_MASK);
        self.flags.store(new, Ordering::Relaxed);
        self.ops.status_flags_changed(new);
    }

    /// Whether the access mode allows reading.
    pub fn readable(&self) -> bool {
        let acc = self.flags() & 3;
        (acc == 0 || acc == 2) && self.flags() & libc::O_PATH as u32 == 0
    }

    /// Whether the access mode allows writing.
    pub fn writable(&self) -> bool {
        let acc = self.flags() & 3;
        (acc == 1 || acc == 2) && self.flags() & libc::O_PATH as u32 == 0
    }
}

/// One slot of the fd table.
#[derive(Clone)]
struct FdEntry {
    file: Arc<FileDescription>,
    cloexec: bool,
}

/// A process's descriptors. Cloning shares the table (CLONE_FILES); [`FdTable::fork`] copies.
#[derive(Default, Clone)]
pub struct FdTable {
    slots: Arc<Mutex<Vec<Option<FdEntry>>>>,
}

/// The most descriptors a process may have (fs.nr_open).
pub const MAX_FDS: usize = 1 << 20;

impl FdTable {
    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Option<FdEntry>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the table for a new process (fork): same descriptions, separate numbers.
    pub fn fork(&self) -> FdTable {
        FdTable { slots: Arc::new(Mutex::new(self.slots().clone())) }
    }

    /// The file at `fd`, or EBADF.
    pub fn get(&self, fd: i32) -> Result<Arc<FileDescription>, Errno> {
        let s = self.slots();
        usize::try_from(fd).ok().and_then(|i| s.get(i)).and_then(|e| e.as_ref()).map(|e| e.file.clone()).ok_or(Errno::EBADF)
    }

    /// Installs `file` at exactly `fd`, replacing (and returning) what was there.
    pub fn install_at(&self, fd: i32, file: Arc<FileDescription>, cloexec: bool) -> Result<Option<Arc<FileDescription>>, Errno> {
        let i = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        if i >= MAX_FDS {
            return Err(Errno::EBADF);
        }
        let mut s = self.slots();
        if s.len() <= i {
            s.resize(i + 1, None);
        }
        Ok(s[i].replace(FdEntry { file, cloexec }).map(|e| e.file))
    }

    /// Installs `file` at the lowest free descriptor >= `min` below `limit` (RLIMIT_NOFILE).
    pub fn install(&self, file: Arc<FileDescription>, cloexec: bool, min: i32, limit: u64) -> Result<i32, Errno> {
        let limit = limit.min(MAX_FDS as u64) as usize;
        let start = usize::try_from(min).map_err(|_| Errno::EINVAL)?;
        let mut s = self.slots();
        let free = (start..).find(|&i| s.get(i).is_none_or(|e| e.is_none())).unwrap_or(usize::MAX);
        if free >= limit {
            return Err(Errno::EMFILE);
        }
        if s.len() <= free {
            s.resize(free + 1, None);
        }
        s[free] = Some(FdEntry { file, cloexec });
        Ok(free as i32)
    }

    /// Removes `fd`; returns its file.
    pub fn remove(&self, fd: i32) -> Result<Arc<FileDescription>, Errno> {
        let i = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        let mut s = self.slots();
        let e = s.get_mut(i).and_then(Option::take).ok_or(Errno::EBADF)?;
        while s.last().is_some_and(|e| e.is_none()) {
            s.pop();
        }
        drop(s);
        Ok(e.file)
    }

    /// Whether `fd` has close-on-exec set.
    pub fn cloexec(&self, fd: i32) -> Result<bool, Errno> {
        let s = self.slots();
        usize::try_from(fd).ok().and_then(|i| s.get(i)).and_then(|e| e.as_ref()).map(|e| e.cloexec).ok_or(Errno::EBADF)
    }

    /// Sets or clears close-on-exec.
    pub fn set_cloexec(&self, fd: i32, on: bool) -> Result<(), Errno> {
        let i = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        let mut s = self.slots();
        let e = s.get_mut(i).and_then(|e| e.as_mut()).ok_or(Errno::EBADF)?;
        e.cloexec = on;
        Ok(())
    }

    /// The open descriptor numbers in `[lo, hi]`.
    pub fn open_in(&self, lo: u32, hi: u32) -> Vec<i32> {
        let s = self.slots();
        let end = (hi as usize).saturating_add(1).min(s.len());
        (lo as usize..end).filter(|&i| s[i].is_some()).map(|i| i as i32).collect()
    }

    /// Every open descriptor with its file (for /proc/<pid>/fd).
    pub fn snapshot(&self) -> Vec<(i32, Arc<FileDescription>)> {
        self.slots().iter().enumerate().filter_map(|(i, e)| e.as_ref().map(|e| (i as i32, e.file.clone()))).collect()
    }
}
