//! File metadata: stat, lstat, fstat, newfstatat, statx, access, faccessat(2), readlink(at).

use syscalls::structs::Stat;
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::Task;
use crate::vfs::inode::FileType;
use crate::vfs::mount::VfsPath;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::STAT, handler: sys_stat, support: Support::Full, note: "" },
    Registration { nr: nr::LSTAT, handler: sys_lstat, support: Support::Full, note: "" },
    Registration { nr: nr::FSTAT, handler: sys_fstat, support: Support::Full, note: "" },
    Registration { nr: nr::NEWFSTATAT, handler: sys_newfstatat, support: Support::Full, note: "" },
    Registration { nr: nr::STATX, handler: sys_statx, support: Support::Partial, note: "basic stats; no birth time" },
    Registration { nr: nr::ACCESS, handler: sys_access, support: Support::Full, note: "" },
    Registration { nr: nr::FACCESSAT, handler: sys_faccessat, support: Support::Full, note: "" },
    Registration { nr: nr::FACCESSAT2, handler: sys_faccessat2, support: Support::Full, note: "" },
    Registration { nr: nr::GETXATTR, handler: sys_getxattr, support: Support::Partial, note: "no filesystem supports xattrs yet: EOPNOTSUPP" },
    Registration { nr: nr::LGETXATTR, handler: sys_lgetxattr, support: Support::Partial, note: "no filesystem supports xattrs yet: EOPNOTSUPP" },
    Registration { nr: nr::FGETXATTR, handler: sys_fgetxattr, support: Support::Partial, note: "no filesystem supports xattrs yet: EOPNOTSUPP" },
    Registration { nr: nr::LISTXATTR, handler: sys_getxattr, support: Support::Partial, note: "no filesystem supports xattrs yet: EOPNOTSUPP" },
    Registration { nr: nr::LLISTXATTR, handler: sys_lgetxattr, support: Support::Partial, note: "no filesystem supports xattrs yet: EOPNOTSUPP" },
    Registration { nr: nr::FLISTXATTR, handler: sys_fgetxattr, support: Support::Partial, note: "no filesystem supports xattrs yet: EOPNOTSUPP" },
    Registration { nr: nr::READLINK, handler: sys_readlink, support: Support::Full, note: "" },
    Registration { nr: nr::READLINKAT, handler: sys_readlinkat, support: Support::Full, note: "" },
];

const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
const AT_EACCESS: u32 = 0x200;
const AT_NO_AUTOMOUNT: u32 = 0x800;
const AT_EMPTY_PATH: u32 = 0x1000;
const AT_STATX_SYNC_TYPE: u32 = 0x6000;

/// The stat of `path` at `dirfd`, or of `dirfd` itself for an empty path with AT_EMPTY_PATH.
fn stat_at(t: &Task, dirfd: i32, path_addr: u64, flags: u32) -> Result<Stat, Errno> {
    let path = t.mm.copy_in_cstr(path_addr, super::PATH_MAX)?;
    if path.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        if dirfd == crate::kernel::fs_context::AT_FDCWD {
            return t.fs.cwd().dentry.inode.stat();
        }
        return t.fds.get(dirfd)?.ops.stat();
    }
    let p = t.lookup_at(dirfd, &path, flags & AT_SYMLINK_NOFOLLOW == 0)?;
    p.dentry.inode.stat()
}

fn sys_stat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let st = stat_at(t, crate::kernel::fs_context::AT_FDCWD, a[0], 0)?;
    t.mm.write_struct(a[1], &st).map(|()| 0)
}

fn sys_lstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let st = stat_at(t, crate::kernel::fs_context::AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW)?;
    t.mm.write_struct(a[1], &st).map(|()| 0)
}

fn sys_fstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let st = t.fds.get(a[0] as i32)?.ops.stat()?;
    t.mm.write_struct(a[1], &st).map(|()| 0)
}

fn sys_newfstatat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[3] as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let st = stat_at(t, a[0] as i32, a[1], flags)?;
    t.mm.write_struct(a[2], &st).map(|()| 0)
}

fn sys_statx(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[2] as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE) != 0 || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE {
        return Err(Errno::EINVAL);
    }
    // STATX__RESERVED
    if a[3] as u32 & 0x8000_0000 != 0 {
        return Err(Errno::EINVAL);
    }
    let st = stat_at(t, a[0] as i32, a[1], flags)?;
    let mut b = [0u8; 256];
    let put32 = |b: &mut [u8], o: usize, v: u32| b[o..o + 4].copy_from_slice(&v.to_le_bytes());
    let put64 = |b: &mut [u8], o: usize, v: u64| b[o..o + 8].copy_from_slice(&v.to_le_bytes());
    put32(&mut b, 0, 0x7ff); // STATX_BASIC_STATS
    put32(&mut b, 4, st.st_blksize as u32);
    put32(&mut b, 16, st.st_nlink as u32);
    put32(&mut b, 20, st.st_uid);
    put32(&mut b, 24, st.st_gid);
    b[28..30].copy_from_slice(&(st.st_mode as u16).to_le_bytes());
    put64(&mut b, 32, st.st_ino);
    put64(&mut b, 40, st.st_size as u64);
    put64(&mut b, 48, st.st_blocks as u64);
    for (off, (sec, nsec)) in [(64, (st.st_atime, st.st_atime_nsec)), (96, (st.st_ctime, st.st_ctime_nsec)), (112, (st.st_mtime, st.st_mtime_nsec))] {
        put64(&mut b, off, sec as u64);
        put32(&mut b, off + 8, nsec as u32);
    }
    for (off, dev) in [(128, st.st_rdev), (136, st.st_dev)] {
        let (major, minor) = split_dev(dev);
        put32(&mut b, off, major);
        put32(&mut b, off + 4, minor);
    }
    t.mm.copy_out(a[4], &b).map(|()| 0)
}

/// A dev_t's major and minor numbers (Linux's encoding).
fn split_dev(d: u64) -> (u32, u32) {
    ((((d >> 8) & 0xfff) | ((d >> 32) & !0xfff)) as u32, ((d & 0xff) | ((d >> 12) & !0xff)) as u32)
}

/// Whether the caller may access `st` as `mode` (R_OK 4, W_OK 2, X_OK 1).
pub fn permitted(t: &Task, st: &Stat, mode: u32) -> bool {
    use crate::kernel::cap;
    let uid = t.creds.fsuid;
    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    // CAP_DAC_OVERRIDE: anything but executing a file no one may execute; CAP_DAC_READ_SEARCH:
    // reading, and searching directories (Linux's generic_permission).
    if t.creds.capable(cap::DAC_OVERRIDE) && (mode & 1 == 0 || is_dir || st.st_mode & 0o111 != 0) {
        return true;
    }
    if t.creds.capable(cap::DAC_READ_SEARCH) && mode & 2 == 0 && (mode & 1 == 0 || is_dir) {
        return true;
    }
    let bits = if st.st_uid == uid {
        (st.st_mode >> 6) & 7
    } else if t.creds.in_group(st.st_gid) {
        (st.st_mode >> 3) & 7
    } else {
        st.st_mode & 7
    };
    bits & mode == mode
}

/// EROFS for writes to a read-only mount (except to FIFOs, sockets and devices).
pub fn check_writable_mount(p: &VfsPath) -> Result<(), Errno> {
    let special = matches!(p.dentry.inode.kind(), FileType::Fifo | FileType::Socket | FileType::CharDevice | FileType::BlockDevice);
    if !special && (p.mount.read_only() || p.dentry.inode.read_only()) {
        return Err(Errno::EROFS);
    }
    Ok(())
}

fn access_at(t: &Task, dirfd: i32, path: u64, mode: u64, flags: u32) -> SysResult {
    if mode & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = t.mm.copy_in_cstr(path, super::PATH_MAX)?;
    let p = if path.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        t.fds.get(dirfd)?.path.clone().ok_or(Errno::EBADF)?
    } else {
        t.lookup_at(dirfd, &path, flags & AT_SYMLINK_NOFOLLOW == 0)?
    };
    if mode & 2 != 0 {
        check_writable_mount(&p)?;
    }
    let st = p.dentry.inode.stat()?;
    if !permitted(t, &st, mode as u32) {
        return Err(Errno::EACCES);
    }
    Ok(0)
}

fn sys_access(t: &mut Task, a: [u64; 6]) -> SysResult {
    access_at(t, crate::kernel::fs_context::AT_FDCWD, a[0], a[1], 0)
}

fn sys_faccessat(t: &mut Task, a: [u64; 6]) -> SysResult {
    access_at(t, a[0] as i32, a[1], a[2], 0)
}

fn sys_faccessat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    access_at(t, a[0] as i32, a[1], a[2], a[3] as u32)
}

fn readlink_at(t: &mut Task, dirfd: i32, path: u64, buf: u64, size: u64) -> SysResult {
    if (size as i32) <= 0 {
        return Err(Errno::EINVAL);
    }
    let p = t.path_arg(path)?;
    let target = t.lookup_at(dirfd, &p, false)?.dentry.inode.readlink()?;
    let n = target.len().min(size as i32 as usize);
    t.mm.copy_out(buf, &target[..n])?;
    Ok(n as u64)
}

fn sys_readlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    readlink_at(t, crate::kernel::fs_context::AT_FDCWD, a[0], a[1], a[2])
}

fn sys_readlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    readlink_at(t, a[0] as i32, a[1], a[2], a[3])
}

/// Extended attributes are not supported on any of the sandbox's filesystems yet: every xattr
/// call checks its file and answers EOPNOTSUPP, as a filesystem mounted without xattrs does.
fn xattr_unsupported(t: &mut Task, a: [u64; 6], by_fd: bool, follow: bool) -> SysResult {
    if by_fd {
        t.fds.get(a[0] as i32)?;
    } else {
        let path = t.path_arg(a[0])?;
        t.lookup_at(crate::kernel::fs_context::AT_FDCWD, &path, follow)?;
    }
    Err(Errno::EOPNOTSUPP)
}

fn sys_getxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    xattr_unsupported(t, a, false, true)
}

fn sys_lgetxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    xattr_unsupported(t, a, false, false)
}

fn sys_fgetxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    xattr_unsupported(t, a, true, true)
}
