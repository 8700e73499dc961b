//! I/O on descriptors: read, write, readv, writev, fstat, newfstatat, ioctl, readlink.
//!
//! Until the VFS arrives the fd table holds the guest's stdio only, so path-based calls serve
//! what needs no filesystem (AT_EMPTY_PATH, /proc/self/exe) and return ENOSYS otherwise.

use syscalls::flags::AtFlags;
use syscalls::structs::{Iovec, Pod};
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::Task;
use crate::mm::Access;

/// Linux caps one read or write at this many bytes (MAX_RW_COUNT).
const MAX_RW_COUNT: u64 = 0x7fff_f000;
/// The most iovecs one call takes (UIO_MAXIOV).
const UIO_MAXIOV: u64 = 1024;
/// PATH_MAX without the NUL.
pub const PATH_MAX: usize = 4095;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::READ, handler: sys_read, support: Support::Full, note: "" },
    Registration { nr: nr::WRITE, handler: sys_write, support: Support::Full, note: "" },
    Registration { nr: nr::READV, handler: sys_readv, support: Support::Full, note: "" },
    Registration { nr: nr::WRITEV, handler: sys_writev, support: Support::Full, note: "" },
    Registration { nr: nr::FSTAT, handler: sys_fstat, support: Support::Full, note: "" },
    Registration {
        nr: nr::NEWFSTATAT,
        handler: sys_newfstatat,
        support: Support::Partial,
        note: "AT_EMPTY_PATH on a descriptor; paths need the VFS (ENOSYS)",
    },
    Registration { nr: nr::IOCTL, handler: sys_ioctl, support: Support::Partial, note: "TCGETS and TIOCGWINSZ on host terminals" },
    Registration { nr: nr::READLINK, handler: sys_readlink, support: Support::Partial, note: "/proc/self/exe only; other paths need the VFS (ENOSYS)" },
    Registration { nr: nr::READLINKAT, handler: sys_readlinkat, support: Support::Partial, note: "/proc/self/exe only; other paths need the VFS (ENOSYS)" },
];

/// The Sentry pointers of a guest buffer: the longest accessible prefix, EFAULT if none.
fn buffer(t: &Task, addr: u64, len: u64, access: Access, out: &mut Vec<libc::iovec>) -> Result<(), Errno> {
    if len > 0 && t.mm.segments(addr, len, access, out) == 0 {
        return Err(Errno::EFAULT);
    }
    Ok(())
}

/// Translates a guest iovec array; stops at the first inaccessible byte after the first.
fn iovecs(t: &Task, iov: u64, cnt: u64, access: Access) -> Result<Vec<libc::iovec>, Errno> {
    if cnt as i64 > UIO_MAXIOV as i64 || (cnt as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let cnt = cnt as usize;
    let mut raw = vec![0u8; cnt * Iovec::SIZE];
    t.mm.copy_in(iov, &mut raw)?;
    let vecs: Vec<Iovec> = raw.chunks_exact(Iovec::SIZE).map(Iovec::from_bytes).collect();
    // As Linux: a negative length is EINVAL; the total is then capped at MAX_RW_COUNT.
    if vecs.iter().any(|v| (v.iov_len as i64) < 0) {
        return Err(Errno::EINVAL);
    }
    let mut out = Vec::with_capacity(cnt);
    let mut budget = MAX_RW_COUNT;
    for v in &vecs {
        let want = v.iov_len.min(budget);
        if want == 0 {
            continue;
        }
        let got = t.mm.segments(v.iov_base, want, access, &mut out);
        budget -= got;
        if got < want {
            if out.is_empty() {
                return Err(Errno::EFAULT);
            }
            break;
        }
    }
    Ok(out)
}

fn after_write(t: &mut Task, r: Result<usize, Errno>) -> SysResult {
    if r == Err(Errno::EPIPE) {
        t.force_signal(libc::SIGPIPE);
    }
    r.map(|n| n as u64)
}

fn sys_read(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let mut segs = Vec::new();
    buffer(t, a[1], a[2].min(MAX_RW_COUNT), Access::Write, &mut segs)?;
    if segs.is_empty() {
        return Ok(0);
    }
    f.ops.read(&segs).map(|n| n as u64)
}

fn sys_write(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let mut segs = Vec::new();
    buffer(t, a[1], a[2].min(MAX_RW_COUNT), Access::Read, &mut segs)?;
    if segs.is_empty() {
        return Ok(0);
    }
    let r = f.ops.write(&segs);
    after_write(t, r)
}

fn sys_readv(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let segs = iovecs(t, a[1], a[2], Access::Write)?;
    if segs.is_empty() {
        return Ok(0);
    }
    f.ops.read(&segs).map(|n| n as u64)
}

fn sys_writev(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let segs = iovecs(t, a[1], a[2], Access::Read)?;
    if segs.is_empty() {
        return Ok(0);
    }
    let r = f.ops.write(&segs);
    after_write(t, r)
}

fn sys_fstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let st = t.fds.get(a[0] as i32)?.ops.stat()?;
    t.mm.write_struct(a[1], &st)?;
    Ok(0)
}

fn sys_newfstatat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = AtFlags::from_bits(a[3] as u32).ok_or(Errno::EINVAL)?;
    if !(AtFlags::AT_SYMLINK_NOFOLLOW | AtFlags::AT_NO_AUTOMOUNT | AtFlags::AT_EMPTY_PATH).contains(flags) {
        return Err(Errno::EINVAL);
    }
    let path = t.mm.copy_in_cstr(a[1], PATH_MAX)?;
    if !path.is_empty() {
        return Err(Errno::ENOSYS);
    }
    if !flags.contains(AtFlags::AT_EMPTY_PATH) {
        return Err(Errno::ENOENT);
    }
    if a[0] as i32 == syscalls::flags::AT_FDCWD {
        return Err(Errno::ENOSYS);
    }
    sys_fstat(t, [a[0], a[2], 0, 0, 0, 0])
}

fn sys_ioctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    f.ops.ioctl(t, a[1] as u32, a[2])
}

/// readlink of the paths that name the running executable.
fn readlink_common(t: &mut Task, path: u64, buf: u64, size: u64) -> SysResult {
    if (size as i32) <= 0 {
        return Err(Errno::EINVAL);
    }
    let p = t.mm.copy_in_cstr(path, PATH_MAX)?;
    let own = format!("/proc/{}/exe", t.tgid);
    if p != b"/proc/self/exe" && p != b"/proc/thread-self/exe" && p != own.as_bytes() {
        return Err(Errno::ENOSYS);
    }
    let n = t.exe.len().min(size as i32 as usize);
    let exe = t.exe[..n].to_vec();
    t.mm.copy_out(buf, &exe)?;
    Ok(n as u64)
}

fn sys_readlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    readlink_common(t, a[0], a[1], a[2])
}

fn sys_readlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    readlink_common(t, a[1], a[2], a[3])
}
