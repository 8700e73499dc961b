//! Thin, safe wrappers over the host system calls the server makes, each returning the Linux
//! errno on failure.
//!
//! This module owns the server's unsafe FFI and nothing else: it makes no policy decisions
//! (which names are allowed, which root is read-only); `server` does. Every path argument is a
//! single, already-validated name relative to a directory FD, or the empty string with
//! AT_EMPTY_PATH.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use syscalls::structs::{Stat, Timespec};
use syscalls::Errno;

use crate::proto::StatFs;

/// The errno of the last failed call (EIO if the host reports something Linux does not define).
pub(crate) fn last_errno() -> Errno {
    io_errno(&io::Error::last_os_error())
}

/// The errno inside an io::Error (EIO if there is none).
pub(crate) fn io_errno(e: &io::Error) -> Errno {
    e.raw_os_error()
        .and_then(Errno::from_raw)
        .unwrap_or(Errno::EIO)
}

/// Retries a call while it fails with EINTR; turns -1 into the errno.
fn retry(mut f: impl FnMut() -> libc::c_long) -> Result<libc::c_long, Errno> {
    loop {
        let r = f();
        if r >= 0 {
            return Ok(r);
        }
        let e = last_errno();
        if e != Errno::EINTR {
            return Err(e);
        }
    }
}

fn fd_from(r: libc::c_long) -> OwnedFd {
    // SAFETY: `r` is a descriptor the kernel just returned to us and nothing else owns.
    unsafe { OwnedFd::from_raw_fd(r as i32) }
}

const EMPTY: &CStr = c"";

/// openat(dir, name, flags | O_CLOEXEC | O_NOFOLLOW, mode).
pub(crate) fn openat(
    dir: BorrowedFd<'_>,
    name: &CStr,
    flags: i32,
    mode: u32,
) -> Result<OwnedFd, Errno> {
    let flags = flags | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NOCTTY;
    // SAFETY: `name` is NUL-terminated and outlives the call.
    retry(|| unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode) } as libc::c_long)
        .map(fd_from)
}

/// openat(proc_fd, "N", flags | O_CLOEXEC) where `proc_fd` is /proc/self/fd and N one of our
/// own descriptors: follows that magic link (only) to reopen exactly the inode N refers to.
pub(crate) fn reopen(proc_fd: BorrowedFd<'_>, name: &CStr, flags: i32) -> Result<OwnedFd, Errno> {
    let flags = flags | libc::O_CLOEXEC | libc::O_NOCTTY;
    // SAFETY: `name` is NUL-terminated and outlives the call.
    retry(|| unsafe { libc::openat(proc_fd.as_raw_fd(), name.as_ptr(), flags, 0) } as libc::c_long)
        .map(fd_from)
}

/// struct open_how of openat2 (libc's is non-exhaustive).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// openat2(dir, name) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
/// plus O_CLOEXEC | O_NOFOLLOW.
pub(crate) fn openat2_beneath(
    dir: BorrowedFd<'_>,
    name: &CStr,
    flags: i32,
    mode: u32,
) -> Result<OwnedFd, Errno> {
    let flags = flags | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NOCTTY;
    let how = OpenHow {
        flags: flags as u32 as u64,
        // openat2 rejects a mode unless the call creates something.
        mode: if flags & (libc::O_CREAT | libc::O_TMPFILE) != 0 {
            u64::from(mode)
        } else {
            0
        },
        resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_NO_SYMLINKS,
    };
    retry(|| {
        // SAFETY: `name` is NUL-terminated and `how` is a live open_how whose size we pass.
        unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                name.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        }
    })
    .map(fd_from)
}

/// Whether this kernel (and any seccomp filter above us) lets openat2 work.
pub(crate) fn openat2_works(dir: BorrowedFd<'_>) -> bool {
    openat2_beneath(dir, c".", libc::O_PATH | libc::O_DIRECTORY, 0).is_ok()
}

/// Converts the libc struct to the ABI struct the protocol carries.
fn stat_from(s: &libc::stat) -> Stat {
    Stat {
        st_dev: s.st_dev,
        st_ino: s.st_ino,
        st_nlink: s.st_nlink,
        st_mode: s.st_mode,
        st_uid: s.st_uid,
        st_gid: s.st_gid,
        st_rdev: s.st_rdev,
        st_size: s.st_size,
        st_blksize: s.st_blksize,
        st_blocks: s.st_blocks,
        st_atime: s.st_atime,
        st_atime_nsec: s.st_atime_nsec,
        st_mtime: s.st_mtime,
        st_mtime_nsec: s.st_mtime_nsec,
        st_ctime: s.st_ctime,
        st_ctime_nsec: s.st_ctime_nsec,
    }
}

/// fstat (works on O_PATH descriptors).
pub(crate) fn fstat(fd: BorrowedFd<'_>) -> Result<Stat, Errno> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is writable storage for one struct stat.
    retry(|| unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) } as libc::c_long)?;
    // SAFETY: fstat succeeded, so it filled `st`.
    Ok(stat_from(unsafe { &st.assume_init() }))
}

/// fstatfs (works on O_PATH descriptors), as the raw system call: libc's struct statfs hides
/// f_flags. On 64-bit Linux the kernel's struct statfs is 15 64-bit words: type, bsize,
/// blocks, bfree, bavail, files, ffree, fsid (two ints), namelen, frsize, flags, spare[4].
pub(crate) fn fstatfs(fd: BorrowedFd<'_>) -> Result<StatFs, Errno> {
    let mut w = [0u64; 15];
    // SAFETY: `w` is 120 writable bytes, the size of the kernel's struct statfs on 64-bit.
    retry(|| unsafe { libc::syscall(libc::SYS_fstatfs, fd.as_raw_fd(), w.as_mut_ptr()) })?;
    Ok(StatFs {
        f_type: w[0],
        f_bsize: w[1],
        f_blocks: w[2],
        f_bfree: w[3],
        f_bavail: w[4],
        f_files: w[5],
        f_ffree: w[6],
        f_fsid: w[7],
        f_namelen: w[8],
        f_frsize: w[9],
        f_flags: w[10],
    })
}

/// mkdirat.
pub(crate) fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: `name` is NUL-terminated and outlives the call.
    retry(|| unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) } as libc::c_long)
        .map(drop)
}

/// mknodat with device number 0.
pub(crate) fn mknodat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: `name` is NUL-terminated and outlives the call.
    retry(|| unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, 0) } as libc::c_long)
        .map(drop)
}

/// symlinkat(target, dir, name).
pub(crate) fn symlinkat(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> Result<(), Errno> {
    // SAFETY: both strings are NUL-terminated and outlive the call.
    retry(
        || unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) }
            as libc::c_long,
    )
    .map(drop)
}

/// linkat(olddir, oldname, newdir, newname, flags).
pub(crate) fn linkat(
    olddir: BorrowedFd<'_>,
    oldname: &CStr,
    newdir: BorrowedFd<'_>,
    newname: &CStr,
    flags: i32,
) -> Result<(), Errno> {
    retry(|| {
        // SAFETY: both strings are NUL-terminated and outlive the call.
        unsafe {
            libc::linkat(
                olddir.as_raw_fd(),
                oldname.as_ptr(),
                newdir.as_raw_fd(),
                newname.as_ptr(),
                flags,
            )
        }
        .into()
    })
    .map(drop)
}

/// unlinkat.
pub(crate) fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, flags: i32) -> Result<(), Errno> {
    // SAFETY: `name` is NUL-terminated and outlives the call.
    retry(|| unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) } as libc::c_long)
        .map(drop)
}

/// renameat2 (the raw system call, so no libc fallback changes the semantics).
pub(crate) fn renameat2(
    olddir: BorrowedFd<'_>,
    oldname: &CStr,
    newdir: BorrowedFd<'_>,
    newname: &CStr,
    flags: u32,
) -> Result<(), Errno> {
    retry(|| {
        // SAFETY: both strings are NUL-terminated and outlive the call.
        unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                olddir.as_raw_fd(),
                oldname.as_ptr(),
                newdir.as_raw_fd(),
                newname.as_ptr(),
                flags,
            )
        }
    })
    .map(drop)
}

/// readlinkat(fd, "") of an O_PATH descriptor of a symlink.
pub(crate) fn readlink_fd(fd: BorrowedFd<'_>) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    let n = retry(|| {
        // SAFETY: `buf` is writable for buf.len() bytes; EMPTY is NUL-terminated.
        let n = unsafe {
            libc::readlinkat(
                fd.as_raw_fd(),
                EMPTY.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        n as libc::c_long
    })?;
    buf.truncate(n as usize);
    Ok(buf)
}

/// fchmodat(dir, name, mode, 0).
pub(crate) fn fchmodat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: `name` is NUL-terminated and outlives the call.
    retry(|| unsafe { libc::fchmodat(dir.as_raw_fd(), name.as_ptr(), mode, 0) } as libc::c_long)
        .map(drop)
}

/// fchownat(fd, "", uid, gid, AT_EMPTY_PATH): changes the file `fd` refers to, even an O_PATH
/// descriptor of a symlink.
pub(crate) fn fchown_fd(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> Result<(), Errno> {
    retry(|| {
        // SAFETY: EMPTY is NUL-terminated.
        let r = unsafe {
            libc::fchownat(
                fd.as_raw_fd(),
                EMPTY.as_ptr(),
                uid,
                gid,
                libc::AT_EMPTY_PATH,
            )
        };
        libc::c_long::from(r)
    })
    .map(drop)
}

/// ftruncate.
pub(crate) fn ftruncate(fd: BorrowedFd<'_>, size: i64) -> Result<(), Errno> {
    // SAFETY: plain system call on a descriptor we own.
    retry(|| unsafe { libc::ftruncate(fd.as_raw_fd(), size) } as libc::c_long).map(drop)
}

/// utimensat(dir, name, times, 0).
pub(crate) fn utimensat(
    dir: BorrowedFd<'_>,
    name: &CStr,
    atime: Timespec,
    mtime: Timespec,
) -> Result<(), Errno> {
    let times = [
        libc::timespec {
            tv_sec: atime.tv_sec,
            tv_nsec: atime.tv_nsec,
        },
        libc::timespec {
            tv_sec: mtime.tv_sec,
            tv_nsec: mtime.tv_nsec,
        },
    ];
    retry(|| {
        // SAFETY: `name` is NUL-terminated and `times` is an array of two timespecs.
        let r = unsafe { libc::utimensat(dir.as_raw_fd(), name.as_ptr(), times.as_ptr(), 0) };
        libc::c_long::from(r)
    })
    .map(drop)
}

/// fsync.
pub(crate) fn fsync(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: plain system call on a descriptor we own.
    retry(|| unsafe { libc::fsync(fd.as_raw_fd()) } as libc::c_long).map(drop)
}

/// lseek(fd, off, SEEK_SET).
pub(crate) fn seek_set(fd: BorrowedFd<'_>, off: u64) -> Result<(), Errno> {
    let off = i64::try_from(off).map_err(|_| Errno::EINVAL)?;
    // SAFETY: plain system call on a descriptor we own.
    retry(|| unsafe { libc::lseek(fd.as_raw_fd(), off, libc::SEEK_SET) }).map(drop)
}

/// getdents64 into `buf`; returns the bytes filled (0 at the end).
pub(crate) fn getdents64(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    retry(|| {
        // SAFETY: `buf` is writable for buf.len() bytes.
        unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                fd.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        }
    })
    .map(|n| n as usize)
}

/// fgetxattr into `buf` (empty `buf`: the size only).
pub(crate) fn fgetxattr(fd: BorrowedFd<'_>, name: &CStr, buf: &mut [u8]) -> Result<usize, Errno> {
    retry(|| {
        // SAFETY: `name` is NUL-terminated; `buf` is writable for buf.len() bytes.
        let n = unsafe {
            libc::fgetxattr(
                fd.as_raw_fd(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        n as libc::c_long
    })
    .map(|n| n as usize)
}

/// flistxattr into `buf` (empty `buf`: the size only).
pub(crate) fn flistxattr(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    retry(|| {
        // SAFETY: `buf` is writable for buf.len() bytes.
        let n = unsafe { libc::flistxattr(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        n as libc::c_long
    })
    .map(|n| n as usize)
}
