//! mount and umount2 inside the sandbox: tmpfs mounts, bind mounts and read-only remounts.
//! Nothing reaches the host: every mount is a Sentry object.

use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::fs::tmpfs::Tmpfs;
use crate::kernel::fs_context::AT_FDCWD;
use crate::kernel::cap;
use crate::kernel::Task;
use crate::vfs::dentry::Dentry;
use crate::vfs::inode::FileType;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::MOUNT, handler: sys_mount, support: Support::Partial, note: "tmpfs, bind mounts (MS_REC binds the top mount only), remount with MS_RDONLY; no other filesystem types" },
    Registration { nr: nr::UMOUNT2, handler: sys_umount2, support: Support::Full, note: "" },
];

const MS_RDONLY: u64 = 1;
const MS_REMOUNT: u64 = 32;
const MS_BIND: u64 = 4096;
/// Propagation flags change nothing in a namespace with no peers.
const MS_PROPAGATION: u64 = (1 << 15) | (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20);

fn sys_mount(t: &mut Task, a: [u64; 6]) -> SysResult {
    if !t.creds.capable(cap::SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let flags = a[3];
    let target = t.path_arg(a[1])?;
    let at = t.lookup_at(AT_FDCWD, &target, true)?;
    if flags & MS_REMOUNT != 0 {
        if !at.is_mount_root() {
            return Err(Errno::EINVAL);
        }
        at.mount.set_read_only(flags & MS_RDONLY != 0);
        return Ok(0);
    }
    if flags & MS_PROPAGATION != 0 && flags & MS_BIND == 0 {
        return Ok(0);
    }
    if flags & MS_BIND != 0 {
        let source = t.path_arg(a[0])?;
        let src = t.lookup_at(AT_FDCWD, &source, true)?;
        if (src.dentry.inode.kind() == FileType::Directory) != (at.dentry.inode.kind() == FileType::Directory) {
            return Err(if src.dentry.inode.kind() == FileType::Directory { Errno::ENOTDIR } else { Errno::EISDIR });
        }
        t.kernel.mounts.mount(&at, src.dentry.clone(), src.mount.fs_type, "bind", flags & MS_RDONLY != 0 || src.mount.read_only());
        return Ok(0);
    }
    let fstype = t.mm.copy_in_cstr(a[2], 255)?;
    if at.dentry.inode.kind() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    match &fstype[..] {
        b"tmpfs" => {
            let root = Tmpfs::new_root(&t.kernel.memory_file, 0o1777, 0, 0);
            t.kernel.mounts.mount(&at, Dentry::new_root(root), "tmpfs", "tmpfs", flags & MS_RDONLY != 0);
            Ok(0)
        }
        _ => {
            t.kernel.audit.unsupported_command("mount fstype", 0);
            Err(Errno::ENODEV)
        }
    }
}

fn sys_umount2(t: &mut Task, a: [u64; 6]) -> SysResult {
    const MNT_FORCE: u64 = 1;
    const MNT_DETACH: u64 = 2;
    const MNT_EXPIRE: u64 = 4;
    const UMOUNT_NOFOLLOW: u64 = 8;
    let flags = a[1];
    if flags & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0 || (flags & MNT_EXPIRE != 0 && flags & (MNT_FORCE | MNT_DETACH) != 0) {
        return Err(Errno::EINVAL);
    }
    if !t.creds.capable(cap::SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let target = t.path_arg(a[0])?;
    let at = t.lookup_at(AT_FDCWD, &target, flags & UMOUNT_NOFOLLOW == 0)?;
    if !at.is_mount_root() {
        return Err(Errno::EINVAL);
    }
    t.kernel.mounts.unmount(&at.mount, flags & MNT_DETACH != 0).map(|()| 0)
}
