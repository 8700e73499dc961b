//! Opening and closing descriptors: open, openat, openat2, creat, close, close_range, dup,
//! dup2, dup3, fcntl.

use syscalls::{nr, Errno};

use super::stat::{check_writable_mount, permitted};
use super::{Registration, SysResult, Support};
use crate::kernel::fs_context::AT_FDCWD;
use crate::kernel::cap;
use crate::fs::inotify;
use crate::kernel::locks;
use crate::kernel::Task;
use crate::vfs::inode::{CreateArgs, FileType};
use crate::vfs::FileDescription;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::OPEN, handler: sys_open, support: Support::Partial, note: "no O_TMPFILE" },
    Registration { nr: nr::OPENAT, handler: sys_openat, support: Support::Partial, note: "no O_TMPFILE" },
    Registration { nr: nr::OPENAT2, handler: sys_openat2, support: Support::Partial, note: "no O_TMPFILE; RESOLVE_* flags other than RESOLVE_NO_SYMLINKS are refused (EINVAL)" },
    Registration { nr: nr::CREAT, handler: sys_creat, support: Support::Full, note: "" },
    Registration { nr: nr::CLOSE, handler: sys_close, support: Support::Full, note: "" },
    Registration { nr: nr::CLOSE_RANGE, handler: sys_close_range, support: Support::Full, note: "" },
    Registration { nr: nr::DUP, handler: sys_dup, support: Support::Full, note: "" },
    Registration { nr: nr::DUP2, handler: sys_dup2, support: Support::Full, note: "" },
    Registration { nr: nr::DUP3, handler: sys_dup3, support: Support::Full, note: "" },
    Registration { nr: nr::PIPE, handler: sys_pipe, support: Support::Full, note: "" },
    Registration { nr: nr::PIPE2, handler: sys_pipe2, support: Support::Partial, note: "O_CLOEXEC and O_NONBLOCK; no O_DIRECT packet mode" },
    Registration { nr: nr::FCNTL, handler: sys_fcntl, support: Support::Partial, note: "descriptor and status flags, record and OFD locks, pipe size; no leases, signals or seals" },
];

const O_ACCMODE: u32 = 3;
const O_CREAT: u32 = libc::O_CREAT as u32;
const O_EXCL: u32 = libc::O_EXCL as u32;
const O_TRUNC: u32 = libc::O_TRUNC as u32;
const O_DIRECTORY: u32 = libc::O_DIRECTORY as u32;
const O_NOFOLLOW: u32 = libc::O_NOFOLLOW as u32;
const O_CLOEXEC: u32 = libc::O_CLOEXEC as u32;
const O_PATH: u32 = libc::O_PATH as u32;
const O_TMPFILE_BIT: u32 = 0o20000000;

/// openat(2): finds or creates the file, checks the open is allowed, installs a descriptor.
pub fn open_at(t: &mut Task, dirfd: i32, path_addr: u64, flags: u32, mode: u32) -> SysResult {
    let path = t.path_arg(path_addr)?;
    if flags & O_TMPFILE_BIT != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let acc = flags & O_ACCMODE;
    if acc == 3 && flags & O_PATH == 0 {
        return Err(Errno::EINVAL);
    }
    let wants_write = acc != 0 && flags & O_PATH == 0;
    let mut created = false;
    let p = if flags & O_CREAT != 0 && flags & O_PATH == 0 {
        let (dir, name, trailing) = t.lookup_parent_at(dirfd, &path)?;
        if name.is_empty() || name == b"." || name == b".." || trailing {
            return Err(Errno::EISDIR);
        }
        match dir.dentry.lookup(&name) {
            Ok(_) if flags & O_EXCL != 0 => return Err(Errno::EEXIST),
            Ok(_) => t.lookup_at(dirfd, &path, flags & O_NOFOLLOW == 0)?,
            Err(Errno::ENOENT) => {
                check_writable_mount(&dir)?;
                let dst = dir.dentry.inode.stat()?;
                if !permitted(t, &dst, 3) {
                    return Err(Errno::EACCES);
                }
                let args = CreateArgs { mode: mode & 0o7777 & !t.fs.umask(), uid: t.creds.fsuid, gid: t.creds.fsgid };
                let inode = dir.dentry.inode.mknod(&name, FileType::Regular, args)?;
                inotify::notify_dir(&dir, inotify::IN_CREATE, 0, &name);
                created = true;
                crate::vfs::mount::VfsPath { mount: dir.mount.clone(), dentry: dir.dentry.insert(&name, inode) }
            }
            Err(e) => return Err(e),
        }
    } else {
        t.lookup_at(dirfd, &path, flags & O_NOFOLLOW == 0)?
    };
    let kind = p.dentry.inode.kind();
    if flags & O_PATH == 0 {
        if kind == FileType::Symlink {
            return Err(Errno::ELOOP);
        }
        if flags & O_DIRECTORY != 0 && kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        if kind == FileType::Directory && (wants_write || flags & O_CREAT != 0) {
            return Err(Errno::EISDIR);
        }
        if wants_write || flags & O_TRUNC != 0 {
            check_writable_mount(&p)?;
        }
        if !created {
            let st = p.dentry.inode.stat()?;
            let need = match acc {
                0 => 4,
                1 => 2,
                _ => 6,
            } | if flags & O_TRUNC != 0 { 2 } else { 0 };
            if !permitted(t, &st, need) {
                return Err(Errno::EACCES);
            }
        }
    } else if flags & O_DIRECTORY != 0 && kind != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let ops = if flags & O_PATH != 0 { Box::new(PathOnly(p.dentry.inode.clone())) } else { p.dentry.inode.clone().open(flags)? };
    if flags & O_PATH == 0 {
        if flags & O_TRUNC != 0 && wants_write && !created {
            inotify::notify_path(&p, inotify::IN_MODIFY);
        }
        inotify::notify_path(&p, inotify::IN_OPEN);
    }
    let file = FileDescription::new(ops, Some(p), flags & !(O_CREAT | O_EXCL | libc::O_NOCTTY as u32 | O_TRUNC));
    t.install_fd(file, flags & O_CLOEXEC != 0)
}

/// An O_PATH descriptor: a place, not an open file.
struct PathOnly(std::sync::Arc<dyn crate::vfs::inode::Inode>);

impl crate::vfs::FileOps for PathOnly {
    fn read(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    fn write(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    fn stat(&self) -> Result<syscalls::structs::Stat, Errno> {
        self.0.stat()
    }
    fn ioctl(&self, _: &mut Task, _: u32, _: u64) -> Result<u64, Errno> {
        Err(Errno::EBADF)
    }
}

fn sys_open(t: &mut Task, a: [u64; 6]) -> SysResult {
    open_at(t, AT_FDCWD, a[0], a[1] as u32, a[2] as u32)
}

fn sys_openat(t: &mut Task, a: [u64; 6]) -> SysResult {
    open_at(t, a[0] as i32, a[1], a[2] as u32, a[3] as u32)
}

fn sys_creat(t: &mut Task, a: [u64; 6]) -> SysResult {
    open_at(t, AT_FDCWD, a[0], O_CREAT | libc::O_WRONLY as u32 | O_TRUNC, a[1] as u32)
}

fn sys_openat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    const RESOLVE_NO_SYMLINKS: u64 = 0x04;
    let size = a[3];
    if size < 24 {
        return Err(Errno::EINVAL);
    }
    if size > 4096 {
        return Err(Errno::E2BIG);
    }
    let mut how = vec![0u8; size as usize];
    t.mm.copy_in(a[2], &mut how)?;
    // Bytes past the struct this kernel knows must be zero.
    if how[24..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let word = |i: usize| u64::from_le_bytes(how[i * 8..i * 8 + 8].try_into().unwrap_or_default());
    let (flags, mode, resolve) = (word(0), word(1), word(2));
    if flags >> 32 != 0 || mode & !0o7777 != 0 || (mode != 0 && flags as u32 & (O_CREAT | O_TMPFILE_BIT) == 0) {
        return Err(Errno::EINVAL);
    }
    if resolve & !RESOLVE_NO_SYMLINKS != 0 {
        t.kernel.audit.unsupported_command("openat2 resolve", resolve);
        return Err(Errno::EINVAL);
    }
    let flags = flags as u32 | if resolve & RESOLVE_NO_SYMLINKS != 0 { O_NOFOLLOW } else { 0 };
    open_at(t, a[0] as i32, a[1], flags, mode as u32)
}

static NEXT_PIPE_INO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn pipe_with(t: &mut Task, fds_addr: u64, flags: u32) -> SysResult {
    let nonblock = libc::O_NONBLOCK as u32;
    if flags & !(O_CLOEXEC | nonblock) != 0 {
        return Err(Errno::EINVAL);
    }
    let ino = NEXT_PIPE_INO.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (r, w) = crate::fs::pipe::PipeEnd::pair(ino, flags & nonblock != 0);
    let status = flags & nonblock;
    let rf = FileDescription::new(Box::new(r), None, libc::O_RDONLY as u32 | status);
    let wf = FileDescription::new(Box::new(w), None, libc::O_WRONLY as u32 | status);
    let limit = t.nofile();
    let cloexec = flags & O_CLOEXEC != 0;
    let rfd = t.fds.install(rf, cloexec, 0, limit)?;
    let wfd = match t.fds.install(wf, cloexec, 0, limit) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = t.fds.remove(rfd);
            return Err(e);
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&rfd.to_le_bytes());
    out[4..].copy_from_slice(&wfd.to_le_bytes());
    if let Err(e) = t.mm.copy_out(fds_addr, &out) {
        let _ = t.fds.remove(rfd);
        let _ = t.fds.remove(wfd);
        return Err(e);
    }
    Ok(0)
}

fn sys_pipe(t: &mut Task, a: [u64; 6]) -> SysResult {
    pipe_with(t, a[0], 0)
}

fn sys_pipe2(t: &mut Task, a: [u64; 6]) -> SysResult {
    pipe_with(t, a[0], a[1] as u32)
}

/// A process closing any descriptor of a file drops its POSIX locks on it.
fn closed(t: &Task, f: &FileDescription) {
    if f.path.is_some() {
        if let Ok(st) = f.ops.stat() {
            locks::release_ranges((st.st_dev, st.st_ino), locks::Owner::Process(t.tgid));
        }
    }
}

fn sys_close(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.remove(a[0] as i32)?;
    closed(t, &f);
    Ok(0)
}

/// fcntl's byte-range locks: F_GETLK/F_SETLK/F_SETLKW and their OFD forms.
fn record_lock(t: &mut Task, f: &std::sync::Arc<FileDescription>, cmd: i32, arg: u64) -> SysResult {
    let mut b = [0u8; 32];
    t.mm.copy_in(arg, &mut b)?;
    let l_type = i16::from_le_bytes([b[0], b[1]]);
    let whence = i16::from_le_bytes([b[2], b[3]]);
    let l_start = i64::from_le_bytes(b[8..16].try_into().unwrap_or_default());
    let l_len = i64::from_le_bytes(b[16..24].try_into().unwrap_or_default());
    let l_pid = i32::from_le_bytes(b[24..28].try_into().unwrap_or_default());
    let ofd = matches!(cmd, libc::F_OFD_GETLK | libc::F_OFD_SETLK | libc::F_OFD_SETLKW);
    if ofd && l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    let base = match i32::from(whence) {
        libc::SEEK_SET => 0,
        libc::SEEK_CUR => *f.offset.lock().unwrap_or_else(|e| e.into_inner()) as i64,
        libc::SEEK_END => f.ops.stat()?.st_size,
        _ => return Err(Errno::EINVAL),
    };
    let start = base.checked_add(l_start).ok_or(Errno::EOVERFLOW)?;
    let (start, end) = match l_len {
        0 => (start, i64::MAX),
        n if n > 0 => (start, start.checked_add(n).ok_or(Errno::EOVERFLOW)?),
        n => (start.checked_add(n).ok_or(Errno::EINVAL)?, start),
    };
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    let write = match i32::from(l_type) {
        libc::F_RDLCK => false,
        libc::F_WRLCK => true,
        libc::F_UNLCK => false,
        _ => return Err(Errno::EINVAL),
    };
    let owner = if ofd { locks::Owner::Description(std::sync::Arc::as_ptr(f) as usize) } else { locks::Owner::Process(t.tgid) };
    let want = locks::RangeLock { owner, write, start: start as u64, end: if end == i64::MAX { u64::MAX } else { end as u64 } };
    let st = f.ops.stat()?;
    let key = (st.st_dev, st.st_ino);
    if matches!(cmd, libc::F_GETLK | libc::F_OFD_GETLK) {
        if i32::from(l_type) == libc::F_UNLCK {
            return Err(Errno::EINVAL);
        }
        match locks::test_range(key, &want) {
            None => b[0..2].copy_from_slice(&(libc::F_UNLCK as i16).to_le_bytes()),
            Some(h) => {
                let t_ = if h.write { libc::F_WRLCK } else { libc::F_RDLCK } as i16;
                b[0..2].copy_from_slice(&t_.to_le_bytes());
                b[2..4].copy_from_slice(&(libc::SEEK_SET as i16).to_le_bytes());
                b[8..16].copy_from_slice(&(h.start as i64).to_le_bytes());
                let len = if h.end == u64::MAX { 0 } else { (h.end - h.start) as i64 };
                b[16..24].copy_from_slice(&len.to_le_bytes());
                let pid = match h.owner {
                    locks::Owner::Process(p) => p,
                    locks::Owner::Description(_) => -1,
                };
                b[24..28].copy_from_slice(&pid.to_le_bytes());
            }
        }
        return t.mm.copy_out(arg, &b).map(|()| 0);
    }
    let unlock = i32::from(l_type) == libc::F_UNLCK;
    if !unlock && ((write && !f.writable()) || (!write && !f.readable())) {
        return Err(Errno::EBADF);
    }
    let wait = matches!(cmd, libc::F_SETLKW | libc::F_OFD_SETLKW);
    locks::set_range(key, want, unlock, wait).map(|()| 0)
}

fn sys_close_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    const CLOSE_RANGE_UNSHARE: u64 = 2;
    const CLOSE_RANGE_CLOEXEC: u64 = 4;
    let (lo, hi, flags) = (a[0] as u32, a[1] as u32, a[2]);
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || lo > hi {
        return Err(Errno::EINVAL);
    }
    for fd in t.fds.open_in(lo, hi) {
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            t.fds.set_cloexec(fd, true)?;
        } else {
            let f = t.fds.remove(fd)?;
            closed(t, &f);
        }
    }
    Ok(0)
}

fn sys_dup(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    t.install_fd(f, false)
}

fn dup_to(t: &mut Task, old: i32, new: i32, cloexec: bool) -> SysResult {
    let f = t.fds.get(old)?;
    if new < 0 || new as u64 >= t.nofile() {
        return Err(Errno::EBADF);
    }
    if let Some(replaced) = t.fds.install_at(new, f, cloexec)? {
        closed(t, &replaced);
    }
    Ok(new as u64)
}

fn sys_dup2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, new) = (a[0] as i32, a[1] as i32);
    if old == new {
        t.fds.get(old)?;
        return Ok(new as u64);
    }
    dup_to(t, old, new, false)
}

fn sys_dup3(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, new, flags) = (a[0] as i32, a[1] as i32, a[2] as u32);
    if old == new || flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    dup_to(t, old, new, flags & O_CLOEXEC != 0)
}

fn sys_fcntl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let fd = a[0] as i32;
    let f = t.fds.get(fd)?;
    match a[1] as i32 {
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => {
            let min = a[2] as i32;
            let limit = t.nofile();
            if min < 0 || min as u64 >= limit {
                return Err(Errno::EINVAL);
            }
            t.fds.install(f, a[1] as i32 == libc::F_DUPFD_CLOEXEC, min, limit).map(|fd| fd as u64)
        }
        libc::F_GETFD => Ok(u64::from(t.fds.cloexec(fd)?)),
        libc::F_SETFD => t.fds.set_cloexec(fd, a[2] & 1 != 0).map(|()| 0),
        libc::F_GETFL => Ok(u64::from(f.flags())),
        libc::F_SETFL => {
            f.set_status_flags(a[2] as u32);
            Ok(0)
        }
        libc::F_GETLK | libc::F_OFD_GETLK => record_lock(t, &f, a[1] as i32, a[2]),
        libc::F_SETLK | libc::F_SETLKW | libc::F_OFD_SETLK | libc::F_OFD_SETLKW => record_lock(t, &f, a[1] as i32, a[2]),
        libc::F_GETPIPE_SZ | libc::F_SETPIPE_SZ => {
            let ops: &dyn std::any::Any = &*f.ops;
            let end = ops.downcast_ref::<crate::fs::pipe::PipeEnd>().ok_or(Errno::EBADF)?;
            if a[1] as i32 == libc::F_GETPIPE_SZ {
                return Ok(end.capacity() as u64);
            }
            end.set_capacity(a[2] as i32 as i64, t.creds.capable(cap::SYS_RESOURCE)).map(|c| c as u64)
        }
        cmd => {
            t.kernel.audit.unsupported_command("fcntl", cmd as u64);
            Err(Errno::EINVAL)
        }
    }
}
