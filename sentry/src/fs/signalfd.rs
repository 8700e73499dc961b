//! signalfd: a descriptor through which a task reads its own pending signals in `mask` as
//! signalfd_siginfo records, instead of their delivery. As on Linux, the queue read is the
//! reader's (a child inherits the descriptor and reads its own signals).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use syscalls::structs::Stat;
use syscalls::Errno;

use super::copy_to_iov;
use crate::kernel::signal::{self, SigInfo};
use crate::vfs::FileOps;

/// Size of one signalfd_siginfo.
const RECORD: usize = 128;

/// The signalfd.
pub struct SignalFd {
    mask: AtomicU64,
    nonblock: AtomicBool,
}

impl SignalFd {
    /// A signalfd for the signals in `mask`.
    pub fn new(mask: u64, nonblock: bool) -> SignalFd {
        SignalFd { mask: AtomicU64::new(mask), nonblock: AtomicBool::new(nonblock) }
    }

    /// signalfd4 on an existing descriptor: a new mask.
    pub fn set_mask(&self, mask: u64) {
        self.mask.store(mask, Ordering::Relaxed);
    }
}

/// A siginfo as the signalfd_siginfo record Linux writes.
fn record(info: &SigInfo) -> [u8; RECORD] {
    let i32_at = |off: usize| i32::from_le_bytes([info.0[off], info.0[off + 1], info.0[off + 2], info.0[off + 3]]);
    let mut r = [0u8; RECORD];
    let mut put = |off: usize, b: &[u8]| r[off..off + b.len()].copy_from_slice(b);
    let (sig, code) = (info.signo(), i32_at(8));
    put(0, &info.0[0..12]); // ssi_signo, ssi_errno, ssi_code
    let faults = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGTRAP];
    if faults.contains(&sig) && code > 0 {
        put(72, &info.0[16..24]); // ssi_addr
    } else {
        put(12, &info.0[16..24]); // ssi_pid, ssi_uid
        if sig == libc::SIGCHLD {
            put(40, &info.0[24..28]); // ssi_status
        } else {
            put(44, &info.0[24..28]); // ssi_int
            put(48, &info.0[24..32]); // ssi_ptr
        }
    }
    r
}

impl FileOps for SignalFd {
    fn read(&self, iov: &[libc::iovec], _off: u64) -> Result<usize, Errno> {
        let room = iov.iter().map(|v| v.iov_len).sum::<usize>() / RECORD;
        if room == 0 {
            return Err(Errno::EINVAL);
        }
        let queue = signal::current().ok_or(Errno::EINVAL)?;
        loop {
            let mask = self.mask.load(Ordering::Relaxed);
            let mut out = Vec::new();
            while out.len() < room * RECORD {
                match queue.take(!mask) {
                    Some(info) => out.extend_from_slice(&record(&info)),
                    None => break,
                }
            }
            if !out.is_empty() {
                return Ok(copy_to_iov(&out, 0, iov));
            }
            if self.nonblock.load(Ordering::Relaxed) {
                return Err(Errno::EAGAIN);
            }
            if queue.interrupting() {
                return Err(Errno::ERESTARTSYS);
            }
            // Wake for a signal in the mask or one the reader does not block.
            queue.wait(!mask & queue.blocked(), None);
        }
    }

    fn write(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_dev: 0xd, st_ino: 3, st_nlink: 1, st_mode: 0o600, st_blksize: 4096, ..Stat::default() })
    }

    fn seekable(&self) -> bool {
        false
    }

    fn pollable(&self) -> bool {
        true
    }

    fn status_flags_changed(&self, flags: u32) {
        self.nonblock.store(flags & libc::O_NONBLOCK as u32 != 0, Ordering::Relaxed);
    }

    fn readiness(&self) -> u16 {
        if signal::current().is_some_and(|q| q.pending() & self.mask.load(Ordering::Relaxed) != 0) {
            (libc::POLLIN | libc::POLLRDNORM) as u16
        } else {
            0
        }
    }
}
