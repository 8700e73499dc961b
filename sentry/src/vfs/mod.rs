//! The virtual filesystem's descriptor layer: file descriptions and the fd table.
//!
//! A [`FileDescription`] is an open file (what `open` creates and `dup` shares: status flags
//! and, later, the offset); an [`FdTable`] maps a process's descriptor numbers to them with
//! the per-descriptor close-on-exec flag. File operations are a trait object, so each
//! filesystem (host stdio now; gofer, tmpfs, pipes and /proc later) supplies its own.

pub mod host;

use std::sync::Arc;

use syscalls::structs::Stat;
use syscalls::Errno;

use crate::kernel::Task;

/// What a kind of open file can do. Buffers are (Sentry pointer, length) pieces of guest
/// memory already checked by the memory manager.
pub trait FileOps: Send + Sync {
    /// Reads into the pieces; returns the bytes read.
    fn read(&self, iov: &[libc::iovec]) -> Result<usize, Errno>;
    /// Writes from the pieces; returns the bytes written.
    fn write(&self, iov: &[libc::iovec]) -> Result<usize, Errno>;
    /// fstat(2).
    fn stat(&self) -> Result<Stat, Errno>;
    /// ioctl(2); ENOTTY for requests the file does not know.
    fn ioctl(&self, task: &mut Task, cmd: u32, arg: u64) -> Result<u64, Errno>;
}

/// An open file.
pub struct FileDescription {
    /// The file's operations.
    pub ops: Box<dyn FileOps>,
}

/// One slot of the fd table.
#[derive(Clone)]
struct FdEntry {
    file: Arc<FileDescription>,
    cloexec: bool,
}

/// A process's descriptors.
#[derive(Default)]
pub struct FdTable {
    slots: Vec<Option<FdEntry>>,
}

/// Linux's default RLIMIT_NOFILE soft limit bounds the table for now.
pub const MAX_FDS: usize = 1 << 20;

impl FdTable {
    /// The file at `fd`, or EBADF.
    pub fn get(&self, fd: i32) -> Result<Arc<FileDescription>, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .map(|e| e.file.clone())
            .ok_or(Errno::EBADF)
    }

    /// Installs `file` at exactly `fd`, replacing what was there.
    pub fn install_at(&mut self, fd: i32, file: Arc<FileDescription>, cloexec: bool) -> Result<(), Errno> {
        let i = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        if i >= MAX_FDS {
            return Err(Errno::EBADF);
        }
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(FdEntry { file, cloexec });
        Ok(())
    }

    /// Whether `fd` has close-on-exec set.
    pub fn cloexec(&self, fd: i32) -> Result<bool, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(|s| s.as_ref())
            .map(|e| e.cloexec)
            .ok_or(Errno::EBADF)
    }
}
