//! Files backed by a host descriptor the sandbox was given: the guest's stdin, stdout and
//! stderr. Reads and writes go straight from guest memory to the host descriptor.

use std::os::fd::{AsRawFd, OwnedFd};

use syscalls::structs::{Pod, Stat};
use syscalls::Errno;

use super::FileOps;
use crate::kernel::Task;

const TCGETS: u32 = 0x5401;
const TIOCGWINSZ: u32 = 0x5413;
/// The kernel's struct termios that TCGETS fills (not glibc's larger one).
const KERNEL_TERMIOS_SIZE: usize = 36;

/// A host descriptor, owned by the sandbox (a dup of the launcher's stdio).
pub struct HostFile {
    fd: OwnedFd,
    /// The host's name for it (/dev/pts/0, pipe:[123]), shown in /proc/<pid>/fd.
    name: Option<Vec<u8>>,
}

impl HostFile {
    /// Wraps an owned host descriptor.
    pub fn new(fd: OwnedFd, name: Option<Vec<u8>>) -> HostFile {
        HostFile { fd, name }
    }
}

/// The errno of the last failed host call.
pub fn last_errno() -> Errno {
    std::io::Error::last_os_error().raw_os_error().and_then(Errno::from_raw).unwrap_or(Errno::EIO)
}

/// Runs a host call, retrying on EINTR, mapping -1 to the errno.
fn retry(mut f: impl FnMut() -> isize) -> Result<usize, Errno> {
    loop {
        let r = f();
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = last_errno();
        if e != Errno::EINTR {
            return Err(e);
        }
    }
}

impl FileOps for HostFile {
    fn read(&self, iov: &[libc::iovec], _off: u64) -> Result<usize, Errno> {
        // SAFETY: each iovec points into the memory file mapping, validated by the memory
        // manager for writing; the host kernel writes at most iov_len bytes into each.
        retry(|| unsafe { libc::readv(self.fd.as_raw_fd(), iov.as_ptr(), iov.len() as i32) })
    }

    fn write(&self, iov: &[libc::iovec], _off: u64) -> Result<usize, Errno> {
        // SAFETY: each iovec points into the memory file mapping, validated for reading.
        retry(|| unsafe { libc::writev(self.fd.as_raw_fd(), iov.as_ptr(), iov.len() as i32) })
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let mut buf = [0u8; Stat::SIZE];
        // SAFETY: buf has the size of the kernel's struct stat (checked by the syscalls crate's
        // layout tests), and fstat writes exactly that. The raw call, not glibc's (which uses
        // newfstatat, a path call the Sentry's filter refuses).
        if unsafe { libc::syscall(libc::SYS_fstat, self.fd.as_raw_fd(), buf.as_mut_ptr()) } != 0 {
            return Err(last_errno());
        }
        Ok(Stat::from_bytes(&buf))
    }

    fn seekable(&self) -> bool {
        false
    }

    fn pollable(&self) -> bool {
        true
    }

    fn readiness(&self) -> u16 {
        let mut p = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN | libc::POLLOUT, revents: 0 };
        // SAFETY: one valid pollfd; a zero timeout never blocks.
        if unsafe { libc::poll(&mut p, 1, 0) } < 0 {
            return libc::POLLERR as u16;
        }
        p.revents as u16
    }

    fn polled_readiness(&self) -> bool {
        true
    }

    fn display_name(&self) -> Option<Vec<u8>> {
        self.name.clone()
    }

    fn ioctl(&self, task: &mut Task, cmd: u32, arg: u64) -> Result<u64, Errno> {
        let size = match cmd {
            TCGETS => KERNEL_TERMIOS_SIZE,
            TIOCGWINSZ => 8,
            _ => {
                task.kernel.audit.unsupported_command("ioctl", u64::from(cmd));
                return Err(Errno::ENOTTY);
            }
        };
        let mut buf = [0u8; KERNEL_TERMIOS_SIZE];
        // SAFETY: both requests write at most `size` <= buf.len() bytes into buf.
        if unsafe { libc::ioctl(self.fd.as_raw_fd(), u64::from(cmd), buf.as_mut_ptr()) } != 0 {
            return Err(last_errno());
        }
        task.mm.copy_out(arg, &buf[..size])?;
        Ok(0)
    }
}
