//! pidfd: a descriptor that names a process (pidfd_open, CLONE_PIDFD). It reads as nothing,
//! polls readable once the process has exited, and lets pidfd_send_signal and
//! waitid(P_PIDFD) reach the process without pid reuse races.

use std::sync::Arc;

use syscalls::structs::Stat;
use syscalls::Errno;

use crate::kernel::process::ProcessTable;
use crate::vfs::FileOps;

/// The pidfd.
pub struct PidFd {
    /// The process (in the sandbox's pid namespace).
    pub pid: i32,
    procs: Arc<ProcessTable>,
}

impl PidFd {
    /// A pidfd for `pid`.
    pub fn new(pid: i32, procs: Arc<ProcessTable>) -> PidFd {
        PidFd { pid, procs }
    }

    /// The pidfd behind a descriptor's operations, if it is one.
    pub fn of(ops: &dyn FileOps) -> Option<&PidFd> {
        let any: &dyn std::any::Any = ops;
        any.downcast_ref::<PidFd>()
    }
}

impl FileOps for PidFd {
    fn read(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_dev: 0xd, st_ino: 4, st_nlink: 1, st_mode: 0o600, st_blksize: 4096, ..Stat::default() })
    }

    fn seekable(&self) -> bool {
        false
    }

    fn pollable(&self) -> bool {
        true
    }

    fn readiness(&self) -> u16 {
        if self.procs.has_exited(self.pid) {
            (libc::POLLIN | libc::POLLRDNORM) as u16
        } else {
            0
        }
    }
}
