//! I/O on descriptors: read, write and their vector and positioned forms, lseek, ioctl.

use std::sync::Arc;

use syscalls::structs::{Iovec, Pod};
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::task::RLIMIT_FSIZE;
use crate::kernel::Task;
use crate::mm::Access;
use crate::vfs::FileDescription;

/// Linux caps one read or write at this many bytes (MAX_RW_COUNT).
const MAX_RW_COUNT: u64 = 0x7fff_f000;
/// The most iovecs one call takes (UIO_MAXIOV).
const UIO_MAXIOV: u64 = 1024;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::READ, handler: sys_read, support: Support::Full, note: "" },
    Registration { nr: nr::WRITE, handler: sys_write, support: Support::Full, note: "" },
    Registration { nr: nr::READV, handler: sys_readv, support: Support::Full, note: "" },
    Registration { nr: nr::WRITEV, handler: sys_writev, support: Support::Full, note: "" },
    Registration { nr: nr::PREAD64, handler: sys_pread64, support: Support::Full, note: "" },
    Registration { nr: nr::PWRITE64, handler: sys_pwrite64, support: Support::Full, note: "" },
    Registration { nr: nr::PREADV, handler: sys_preadv, support: Support::Full, note: "" },
    Registration { nr: nr::PWRITEV, handler: sys_pwritev, support: Support::Full, note: "" },
    Registration { nr: nr::PREADV2, handler: sys_preadv2, support: Support::Full, note: "" },
    Registration { nr: nr::PWRITEV2, handler: sys_pwritev2, support: Support::Full, note: "" },
    Registration { nr: nr::LSEEK, handler: sys_lseek, support: Support::Full, note: "" },
    Registration { nr: nr::IOCTL, handler: sys_ioctl, support: Support::Partial, note: "FIOCLEX, FIONCLEX, FIONBIO, FIONREAD; TCGETS and TIOCGWINSZ on host terminals" },
];

/// The Sentry pointers of a guest buffer: the longest accessible prefix, EFAULT if none.
fn buffer(t: &Task, addr: u64, len: u64, access: Access) -> Result<Vec<libc::iovec>, Errno> {
    let mut out = Vec::new();
    let len = len.min(MAX_RW_COUNT);
    if len > 0 && t.mm.segments(addr, len, access, &mut out) == 0 {
        return Err(Errno::EFAULT);
    }
    Ok(out)
}

/// Translates a guest iovec array; stops at the first inaccessible byte after the first.
fn iovecs(t: &Task, iov: u64, cnt: u64, access: Access) -> Result<Vec<libc::iovec>, Errno> {
    if cnt > UIO_MAXIOV {
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

/// Where a read or write happens.
#[derive(Clone, Copy)]
enum At {
    /// The description's offset, advanced by the transfer.
    Offset,
    /// An explicit position (pread, pwrite): the offset is untouched.
    Pos(u64),
}

fn do_read(f: &Arc<FileDescription>, segs: &[libc::iovec], at: At) -> SysResult {
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    if segs.is_empty() {
        return Ok(0);
    }
    match at {
        At::Pos(p) => f.ops.read(segs, p).map(|n| n as u64),
        At::Offset if !f.ops.seekable() => f.ops.read(segs, 0).map(|n| n as u64),
        At::Offset => {
            let mut off = f.offset.lock().unwrap_or_else(|e| e.into_inner());
            let n = f.ops.read(segs, *off)?;
            *off += n as u64;
            Ok(n as u64)
        }
    }
}

fn do_write(t: &mut Task, f: &Arc<FileDescription>, segs: &[libc::iovec], at: At) -> SysResult {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    if segs.is_empty() {
        return Ok(0);
    }
    let append = f.flags() & libc::O_APPEND as u32 != 0;
    let fsize = t.rlimits[RLIMIT_FSIZE].rlim_cur;
    let over_fsize = std::cell::Cell::new(false);
    // RLIMIT_FSIZE: a write to a file stops at the limit; one that starts there fails
    // (EFBIG, with SIGXFSZ).
    let write_at = |pos: u64| -> Result<usize, Errno> {
        let room = fsize.saturating_sub(pos);
        let total: u64 = segs.iter().map(|s| s.iov_len as u64).sum();
        if total <= room {
            return f.ops.write(segs, pos);
        }
        if room == 0 {
            over_fsize.set(true);
            return Err(Errno::EFBIG);
        }
        let mut left = room as usize;
        let mut cut = Vec::new();
        for s in segs {
            let n = s.iov_len.min(left);
            if n == 0 {
                break;
            }
            cut.push(libc::iovec { iov_base: s.iov_base, iov_len: n });
            left -= n;
        }
        f.ops.write(&cut, pos)
    };
    let r = match at {
        At::Pos(p) => write_at(p),
        At::Offset if !f.ops.seekable() => f.ops.write(segs, 0),
        At::Offset => {
            let mut off = f.offset.lock().unwrap_or_else(|e| e.into_inner());
            if append {
                *off = f.ops.stat()?.st_size as u64;
            }
            let n = write_at(*off);
            if let Ok(n) = n {
                *off += n as u64;
            }
            n
        }
    };
    if r == Err(Errno::EPIPE) {
        t.force_signal(libc::SIGPIPE, crate::kernel::signal::SI_USER);
    }
    if over_fsize.get() {
        t.force_signal(libc::SIGXFSZ, crate::kernel::signal::SI_USER);
    }
    if let (Ok(n), Some(p)) = (&r, &f.path) {
        if *n > 0 {
            crate::fs::inotify::notify_path(p, crate::fs::inotify::IN_MODIFY);
        }
    }
    r.map(|n| n as u64)
}

/// A positioned transfer's position: ESPIPE on streams, EINVAL if negative.
fn position(f: &FileDescription, pos: u64) -> Result<At, Errno> {
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    if (pos as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(At::Pos(pos))
}

fn sys_read(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let segs = buffer(t, a[1], a[2], Access::Write)?;
    do_read(&f, &segs, At::Offset)
}

fn sys_write(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let segs = buffer(t, a[1], a[2], Access::Read)?;
    do_write(t, &f, &segs, At::Offset)
}

fn sys_readv(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let segs = iovecs(t, a[1], a[2], Access::Write)?;
    do_read(&f, &segs, At::Offset)
}

fn sys_writev(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let segs = iovecs(t, a[1], a[2], Access::Read)?;
    do_write(t, &f, &segs, At::Offset)
}

fn sys_pread64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let at = position(&f, a[3])?;
    let segs = buffer(t, a[1], a[2], Access::Write)?;
    do_read(&f, &segs, at)
}

fn sys_pwrite64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let at = position(&f, a[3])?;
    let segs = buffer(t, a[1], a[2], Access::Read)?;
    do_write(t, &f, &segs, at)
}

fn sys_preadv(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let at = position(&f, a[3])?;
    let segs = iovecs(t, a[1], a[2], Access::Write)?;
    do_read(&f, &segs, at)
}

fn sys_pwritev(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let at = position(&f, a[3])?;
    let segs = iovecs(t, a[1], a[2], Access::Read)?;
    do_write(t, &f, &segs, at)
}

/// RWF_* flags: HIPRI, DSYNC, SYNC, NOWAIT, APPEND.
const RWF_KNOWN: u64 = 0x1f;
const RWF_APPEND: u64 = 0x10;

/// preadv2/pwritev2: offset -1 means the description's offset.
fn at_v2(f: &FileDescription, pos: u64, flags: u64) -> Result<At, Errno> {
    if flags & !RWF_KNOWN != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if pos as i64 == -1 {
        return Ok(At::Offset);
    }
    position(f, pos)
}

fn sys_preadv2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let at = at_v2(&f, a[3], a[5])?;
    let segs = iovecs(t, a[1], a[2], Access::Write)?;
    do_read(&f, &segs, at)
}

fn sys_pwritev2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let mut at = at_v2(&f, a[3], a[5])?;
    if a[5] & RWF_APPEND != 0 {
        at = At::Pos(f.ops.stat()?.st_size as u64);
    }
    let segs = iovecs(t, a[1], a[2], Access::Read)?;
    do_write(t, &f, &segs, at)
}

fn sys_lseek(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    let off = a[1] as i64;
    let mut cur = f.offset.lock().unwrap_or_else(|e| e.into_inner());
    let size = || f.ops.stat().map(|s| s.st_size);
    let new = match a[2] as i32 {
        libc::SEEK_SET => off,
        libc::SEEK_CUR => (*cur as i64).checked_add(off).ok_or(Errno::EOVERFLOW)?,
        libc::SEEK_END => size()?.checked_add(off).ok_or(Errno::EOVERFLOW)?,
        libc::SEEK_DATA | libc::SEEK_HOLE if off < 0 => return Err(Errno::ENXIO),
        w @ (libc::SEEK_DATA | libc::SEEK_HOLE) if f.ops.seek_data_hole(w, off as u64).is_some() => {
            f.ops.seek_data_hole(w, off as u64).unwrap_or(Err(Errno::ENXIO))? as i64
        }
        // A dense file: data is where you are, the hole is at the end.
        libc::SEEK_DATA if off >= size()? => return Err(Errno::ENXIO),
        libc::SEEK_DATA => off,
        libc::SEEK_HOLE if off >= size()? => return Err(Errno::ENXIO),
        libc::SEEK_HOLE => size()?,
        _ => return Err(Errno::EINVAL),
    };
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    *cur = new as u64;
    Ok(new as u64)
}

/// ioctls every descriptor answers, whatever its file (Linux's do_vfs_ioctl).
fn sys_ioctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    const FIONCLEX: u32 = 0x5450;
    const FIOCLEX: u32 = 0x5451;
    const FIONBIO: u32 = 0x5421;
    const FIONREAD: u32 = 0x541b;
    let fd = a[0] as i32;
    let f = t.fds.get(fd)?;
    match a[1] as u32 {
        FIOCLEX => t.fds.set_cloexec(fd, true).map(|()| 0),
        FIONCLEX => t.fds.set_cloexec(fd, false).map(|()| 0),
        FIONBIO => {
            let mut on = [0u8; 4];
            t.mm.copy_in(a[2], &mut on)?;
            let nb = libc::O_NONBLOCK as u32;
            let flags = if i32::from_le_bytes(on) != 0 { f.flags() | nb } else { f.flags() & !nb };
            f.set_status_flags(flags);
            Ok(0)
        }
        FIONREAD if f.ops.seekable() => {
            // Regular files: bytes between the offset and the end.
            let st = f.ops.stat()?;
            if st.st_mode & libc::S_IFMT != libc::S_IFREG {
                return Err(Errno::ENOTTY);
            }
            let off = *f.offset.lock().unwrap_or_else(|e| e.into_inner());
            let n = (st.st_size as u64).saturating_sub(off).min(i32::MAX as u64) as i32;
            t.mm.copy_out(a[2], &n.to_le_bytes()).map(|()| 0)
        }
        cmd => f.ops.ioctl(t, cmd, a[2]),
    }
}
