//! Durability and space: fsync, fdatasync, sync, syncfs, statfs, fstatfs, fallocate, flock.

use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::locks::{self, FlockOp};
use crate::kernel::Task;
use crate::vfs::mount::VfsPath;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::FSYNC, handler: sys_fsync, support: Support::Full, note: "" },
    Registration { nr: nr::FDATASYNC, handler: sys_fsync, support: Support::Full, note: "" },
    Registration { nr: nr::SYNC, handler: sys_sync, support: Support::Full, note: "" },
    Registration { nr: nr::SYNCFS, handler: sys_fsync, support: Support::Full, note: "" },
    Registration { nr: nr::STATFS, handler: sys_statfs, support: Support::Full, note: "" },
    Registration { nr: nr::FSTATFS, handler: sys_fstatfs, support: Support::Full, note: "" },
    Registration { nr: nr::FALLOCATE, handler: sys_fallocate, support: Support::Partial, note: "modes 0, KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE" },
    Registration { nr: nr::FLOCK, handler: sys_flock, support: Support::Full, note: "" },
];

/// In-memory files need no flushing; the descriptor must exist.
fn sys_fsync(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.fds.get(a[0] as i32).map(|_| 0)
}

fn sys_sync(_: &mut Task, _: [u64; 6]) -> SysResult {
    Ok(0)
}

/// struct statfs for the mount at `p`.
fn statfs_of(p: &VfsPath) -> [u8; 120] {
    let magic: u64 = match p.mount.fs_type {
        "tmpfs" | "devtmpfs" => 0x0102_1994,
        "proc" => 0x9fa0,
        "sysfs" => 0x6265_6572,
        "overlay" => 0x794c_7630,
        _ => 0x0102_1997, // v9fs, as gVisor reports files served by its gofer
    };
    let mut b = [0u8; 120];
    let mut put = |o: usize, v: u64| b[o..o + 8].copy_from_slice(&v.to_le_bytes());
    put(0, magic);
    put(8, 4096); // f_bsize
    put(16, 1 << 20); // f_blocks: a 4 GiB view, mostly free
    put(24, 1 << 20);
    put(32, 1 << 20);
    put(40, 1 << 20); // f_files
    put(48, 1 << 20);
    put(64, 255); // f_namelen
    put(72, 4096); // f_frsize
    put(80, 0x20 | u64::from(p.mount.read_only())); // ST_VALID | ST_RDONLY
    b
}

fn sys_statfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let p = t.lookup_at(crate::kernel::fs_context::AT_FDCWD, &path, true)?;
    t.mm.copy_out(a[1], &statfs_of(&p)).map(|()| 0)
}

fn sys_fstatfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let b = match &f.path {
        Some(p) => statfs_of(p),
        // Pipes, sockets, stdio: an anonymous filesystem.
        None => {
            let mut b = [0u8; 120];
            b[..8].copy_from_slice(&0x5049_5045u64.to_le_bytes()); // PIPEFS_MAGIC
            b[8..16].copy_from_slice(&4096u64.to_le_bytes());
            b
        }
    };
    t.mm.copy_out(a[1], &b).map(|()| 0)
}

fn sys_fallocate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let (mode, off, len) = (a[1] as u32, a[2] as i64, a[3] as i64);
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    f.ops.fallocate(mode, off as u64, len as u64).map(|()| 0)
}

fn sys_flock(t: &mut Task, a: [u64; 6]) -> SysResult {
    const LOCK_SH: u64 = 1;
    const LOCK_EX: u64 = 2;
    const LOCK_NB: u64 = 4;
    const LOCK_UN: u64 = 8;
    const LOCK_MAND: u64 = 32;
    let f = t.fds.get(a[0] as i32)?;
    // Linux ignores the long-gone mandatory-lock requests and succeeds.
    if a[1] & LOCK_MAND != 0 {
        return Ok(0);
    }
    let op = match a[1] & !LOCK_NB {
        LOCK_SH => FlockOp::Shared,
        LOCK_EX => FlockOp::Exclusive,
        LOCK_UN => FlockOp::Unlock,
        _ => return Err(Errno::EINVAL),
    };
    if f.flags() & libc::O_PATH as u32 != 0 {
        return Err(Errno::EBADF);
    }
    let st = f.ops.stat()?;
    locks::flock(&f, (st.st_dev, st.st_ino), op, a[1] & LOCK_NB != 0).map(|()| 0)
}
