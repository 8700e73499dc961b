//! The namespace of files: mkdir, rmdir, unlink, rename, link, symlink, mknod (and their *at
//! forms), getdents64, chdir, fchdir, getcwd, umask, chmod, chown, truncate, utimensat.

use syscalls::{nr, Errno};

use super::stat::{check_writable_mount, permitted};
use super::{Registration, SysResult, Support};
use crate::fs::inotify;
use crate::kernel::fs_context::AT_FDCWD;
use crate::kernel::Task;
use crate::vfs::inode::{CreateArgs, FileType, SetAttr};
use crate::vfs::mount::VfsPath;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::MKDIR, handler: sys_mkdir, support: Support::Full, note: "" },
    Registration { nr: nr::MKDIRAT, handler: sys_mkdirat, support: Support::Full, note: "" },
    Registration { nr: nr::RMDIR, handler: sys_rmdir, support: Support::Full, note: "" },
    Registration { nr: nr::UNLINK, handler: sys_unlink, support: Support::Full, note: "" },
    Registration { nr: nr::UNLINKAT, handler: sys_unlinkat, support: Support::Full, note: "" },
    Registration { nr: nr::RENAME, handler: sys_rename, support: Support::Full, note: "" },
    Registration { nr: nr::RENAMEAT, handler: sys_renameat, support: Support::Full, note: "" },
    Registration { nr: nr::RENAMEAT2, handler: sys_renameat2, support: Support::Partial, note: "RENAME_NOREPLACE and RENAME_EXCHANGE; no RENAME_WHITEOUT" },
    Registration { nr: nr::LINK, handler: sys_link, support: Support::Full, note: "" },
    Registration { nr: nr::LINKAT, handler: sys_linkat, support: Support::Full, note: "" },
    Registration { nr: nr::SYMLINK, handler: sys_symlink, support: Support::Full, note: "" },
    Registration { nr: nr::SYMLINKAT, handler: sys_symlinkat, support: Support::Full, note: "" },
    Registration { nr: nr::MKNOD, handler: sys_mknod, support: Support::Partial, note: "regular files, FIFOs and sockets; no device nodes (EPERM)" },
    Registration { nr: nr::MKNODAT, handler: sys_mknodat, support: Support::Partial, note: "regular files, FIFOs and sockets; no device nodes (EPERM)" },
    Registration { nr: nr::GETDENTS64, handler: sys_getdents64, support: Support::Full, note: "" },
    Registration { nr: nr::CHDIR, handler: sys_chdir, support: Support::Full, note: "" },
    Registration { nr: nr::FCHDIR, handler: sys_fchdir, support: Support::Full, note: "" },
    Registration { nr: nr::GETCWD, handler: sys_getcwd, support: Support::Full, note: "" },
    Registration { nr: nr::UMASK, handler: sys_umask, support: Support::Full, note: "" },
    Registration { nr: nr::CHMOD, handler: sys_chmod, support: Support::Full, note: "" },
    Registration { nr: nr::FCHMOD, handler: sys_fchmod, support: Support::Full, note: "" },
    Registration { nr: nr::FCHMODAT, handler: sys_fchmodat, support: Support::Full, note: "" },
    Registration { nr: nr::CHOWN, handler: sys_chown, support: Support::Full, note: "" },
    Registration { nr: nr::LCHOWN, handler: sys_lchown, support: Support::Full, note: "" },
    Registration { nr: nr::FCHOWN, handler: sys_fchown, support: Support::Full, note: "" },
    Registration { nr: nr::FCHOWNAT, handler: sys_fchownat, support: Support::Full, note: "" },
    Registration { nr: nr::TRUNCATE, handler: sys_truncate, support: Support::Full, note: "" },
    Registration { nr: nr::FTRUNCATE, handler: sys_ftruncate, support: Support::Full, note: "" },
    Registration { nr: nr::UTIMENSAT, handler: sys_utimensat, support: Support::Full, note: "" },
];

const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
const AT_REMOVEDIR: u32 = 0x200;
const AT_SYMLINK_FOLLOW: u32 = 0x400;
const AT_EMPTY_PATH: u32 = 0x1000;

fn creds(t: &Task, mode: u32) -> CreateArgs {
    CreateArgs { mode: mode & 0o7777 & !t.fs.umask(), uid: t.creds.fsuid, gid: t.creds.fsgid }
}

/// Checks that the caller may add or remove names in `dir`.
fn may_modify(t: &Task, dir: &VfsPath) -> Result<(), Errno> {
    check_writable_mount(dir)?;
    if !permitted(t, &dir.dentry.inode.stat()?, 3) {
        return Err(Errno::EACCES);
    }
    Ok(())
}

fn mkdir_at(t: &mut Task, dirfd: i32, path: u64, mode: u32) -> SysResult {
    let path = t.path_arg(path)?;
    let (dir, name, _) = t.lookup_parent_at(dirfd, &path)?;
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    if dir.dentry.lookup(&name).is_ok() {
        return Err(Errno::EEXIST);
    }
    may_modify(t, &dir)?;
    let inode = dir.dentry.inode.mkdir(&name, creds(t, mode))?;
    dir.dentry.insert(&name, inode);
    inotify::notify_dir(&dir, inotify::IN_CREATE | inotify::IN_ISDIR, 0, &name);
    Ok(0)
}

fn sys_mkdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    mkdir_at(t, AT_FDCWD, a[0], a[1] as u32)
}

fn sys_mkdirat(t: &mut Task, a: [u64; 6]) -> SysResult {
    mkdir_at(t, a[0] as i32, a[1], a[2] as u32)
}

fn unlink_at(t: &mut Task, dirfd: i32, path: u64, flags: u32) -> SysResult {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let dir_wanted = flags & AT_REMOVEDIR != 0;
    let path = t.path_arg(path)?;
    let (dir, name, trailing) = t.lookup_parent_at(dirfd, &path)?;
    match (&name[..], dir_wanted) {
        (b"", true) => return Err(Errno::EBUSY),
        (b".", true) => return Err(Errno::EINVAL),
        (b"..", true) => return Err(Errno::ENOTEMPTY),
        (b"" | b"." | b"..", false) => return Err(Errno::EISDIR),
        _ => {}
    }
    let child = dir.dentry.lookup(&name)?;
    let child_path = VfsPath { mount: dir.mount.clone(), dentry: child.clone() };
    if t.kernel.mounts.mounted_at(&child_path).is_some() {
        return Err(Errno::EBUSY);
    }
    if !dir_wanted && trailing {
        return Err(if child.inode.kind() == FileType::Directory { Errno::EISDIR } else { Errno::ENOTDIR });
    }
    may_modify(t, &dir)?;
    let watched = inotify::active().then(|| inotify::key_of(&*child.inode)).flatten();
    dir.dentry.inode.unlink(&name, dir_wanted)?;
    dir.dentry.forget(&name);
    if let Some(key) = watched {
        // Linux's order: the file's link count (IN_ATTRIB), its end (IN_DELETE_SELF, then
        // IN_IGNORED) when that was the last link, then the directory's IN_DELETE.
        if dir_wanted {
            inotify::notify_dir(&dir, inotify::IN_DELETE | inotify::IN_ISDIR, 0, &name);
            inotify::notify(key, inotify::IN_DELETE_SELF, 0, b"");
            inotify::Inotify::inode_gone(key);
        } else {
            inotify::notify(key, inotify::IN_ATTRIB, 0, b"");
            if child.inode.stat().map_or(true, |s| s.st_nlink == 0) {
                inotify::notify(key, inotify::IN_DELETE_SELF, 0, b"");
                inotify::Inotify::inode_gone(key);
            }
            inotify::notify_dir(&dir, inotify::IN_DELETE, 0, &name);
        }
    }
    Ok(0)
}

fn sys_rmdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    unlink_at(t, AT_FDCWD, a[0], AT_REMOVEDIR)
}

fn sys_unlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    unlink_at(t, AT_FDCWD, a[0], 0)
}

fn sys_unlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    unlink_at(t, a[0] as i32, a[1], a[2] as u32)
}

fn rename_at(t: &mut Task, olddirfd: i32, old: u64, newdirfd: i32, new: u64, flags: u32) -> SysResult {
    const NOREPLACE: u32 = 1;
    const EXCHANGE: u32 = 2;
    if flags & !(NOREPLACE | EXCHANGE) != 0 || flags == NOREPLACE | EXCHANGE {
        return Err(Errno::EINVAL);
    }
    let (old, new) = (t.path_arg(old)?, t.path_arg(new)?);
    let (od, on, _) = t.lookup_parent_at(olddirfd, &old)?;
    let (nd, nn, _) = t.lookup_parent_at(newdirfd, &new)?;
    for n in [&on, &nn] {
        if n.is_empty() || n == b"." || n == b".." {
            return Err(Errno::EBUSY);
        }
    }
    od.dentry.lookup(&on)?;
    if !std::sync::Arc::ptr_eq(&od.mount, &nd.mount) {
        return Err(Errno::EXDEV);
    }
    may_modify(t, &od)?;
    may_modify(t, &nd)?;
    let moved = od.dentry.lookup(&on)?;
    od.dentry.inode.rename(&on, &nd.dentry.inode, &nn, flags)?;
    od.dentry.forget(&on);
    nd.dentry.forget(&nn);
    if inotify::active() {
        let isdir = if moved.inode.kind() == FileType::Directory { inotify::IN_ISDIR } else { 0 };
        let cookie = inotify::next_cookie();
        inotify::notify_dir(&od, inotify::IN_MOVED_FROM | isdir, cookie, &on);
        inotify::notify_dir(&nd, inotify::IN_MOVED_TO | isdir, cookie, &nn);
        if let Some(k) = inotify::key_of(&*moved.inode) {
            inotify::notify(k, inotify::IN_MOVE_SELF, 0, b"");
        }
    }
    Ok(0)
}

fn sys_rename(t: &mut Task, a: [u64; 6]) -> SysResult {
    rename_at(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0)
}

fn sys_renameat(t: &mut Task, a: [u64; 6]) -> SysResult {
    rename_at(t, a[0] as i32, a[1], a[2] as i32, a[3], 0)
}

fn sys_renameat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    rename_at(t, a[0] as i32, a[1], a[2] as i32, a[3], a[4] as u32)
}

fn link_at(t: &mut Task, olddirfd: i32, old: u64, newdirfd: i32, new: u64, flags: u32) -> SysResult {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let oldp = t.mm.copy_in_cstr(old, super::PATH_MAX)?;
    let target = if oldp.is_empty() && flags & AT_EMPTY_PATH != 0 {
        t.fds.get(olddirfd)?.path.clone().ok_or(Errno::ENOENT)?
    } else if oldp.is_empty() {
        return Err(Errno::ENOENT);
    } else {
        t.lookup_at(olddirfd, &oldp, flags & AT_SYMLINK_FOLLOW != 0)?
    };
    if target.dentry.inode.kind() == FileType::Directory {
        return Err(Errno::EPERM);
    }
    let new = t.path_arg(new)?;
    let (dir, name, trailing) = t.lookup_parent_at(newdirfd, &new)?;
    if name.is_empty() || name == b"." || name == b".." || dir.dentry.lookup(&name).is_ok() {
        return Err(Errno::EEXIST);
    }
    if trailing {
        return Err(Errno::ENOENT);
    }
    if !std::sync::Arc::ptr_eq(&dir.mount, &target.mount) {
        return Err(Errno::EXDEV);
    }
    may_modify(t, &dir)?;
    dir.dentry.inode.link(&name, &target.dentry.inode)?;
    dir.dentry.insert(&name, target.dentry.inode.clone());
    inotify::notify_path(&target, inotify::IN_ATTRIB);
    inotify::notify_dir(&dir, inotify::IN_CREATE, 0, &name);
    Ok(0)
}

fn sys_link(t: &mut Task, a: [u64; 6]) -> SysResult {
    link_at(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0)
}

fn sys_linkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    link_at(t, a[0] as i32, a[1], a[2] as i32, a[3], a[4] as u32)
}

fn symlink_at(t: &mut Task, target: u64, dirfd: i32, path: u64) -> SysResult {
    let target = t.path_arg(target)?;
    let path = t.path_arg(path)?;
    let (dir, name, trailing) = t.lookup_parent_at(dirfd, &path)?;
    if name.is_empty() || name == b"." || name == b".." || dir.dentry.lookup(&name).is_ok() {
        return Err(Errno::EEXIST);
    }
    if trailing {
        return Err(Errno::ENOENT);
    }
    may_modify(t, &dir)?;
    let inode = dir.dentry.inode.symlink(&name, &target, creds(t, 0o777))?;
    dir.dentry.insert(&name, inode);
    inotify::notify_dir(&dir, inotify::IN_CREATE, 0, &name);
    Ok(0)
}

fn sys_symlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    symlink_at(t, a[0], AT_FDCWD, a[1])
}

fn sys_symlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    symlink_at(t, a[0], a[1] as i32, a[2])
}

fn mknod_at(t: &mut Task, dirfd: i32, path: u64, mode: u32) -> SysResult {
    let kind = match mode & libc::S_IFMT {
        0 | libc::S_IFREG => FileType::Regular,
        libc::S_IFIFO => FileType::Fifo,
        libc::S_IFSOCK => FileType::Socket,
        libc::S_IFCHR | libc::S_IFBLK => return Err(Errno::EPERM),
        libc::S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    let path = t.path_arg(path)?;
    let (dir, name, _) = t.lookup_parent_at(dirfd, &path)?;
    if name.is_empty() || name == b"." || name == b".." || dir.dentry.lookup(&name).is_ok() {
        return Err(Errno::EEXIST);
    }
    may_modify(t, &dir)?;
    let inode = dir.dentry.inode.mknod(&name, kind, creds(t, mode))?;
    dir.dentry.insert(&name, inode);
    inotify::notify_dir(&dir, inotify::IN_CREATE, 0, &name);
    Ok(0)
}

fn sys_mknod(t: &mut Task, a: [u64; 6]) -> SysResult {
    mknod_at(t, AT_FDCWD, a[0], a[1] as u32)
}

fn sys_mknodat(t: &mut Task, a: [u64; 6]) -> SysResult {
    mknod_at(t, a[0] as i32, a[1], a[2] as u32)
}

/// getdents64: the description's offset counts entries ("." and ".." first).
fn sys_getdents64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    let p = f.path.clone().ok_or(Errno::ENOTDIR)?;
    if p.dentry.inode.kind() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    if f.flags() & libc::O_PATH as u32 != 0 {
        return Err(Errno::EBADF);
    }
    let mut entries = vec![
        (p.dentry.inode.stat()?.st_ino, libc::DT_DIR, b".".to_vec()),
        (t.resolver().parent_of(p.clone()).dentry.inode.stat()?.st_ino, libc::DT_DIR, b"..".to_vec()),
    ];
    entries.extend(p.dentry.inode.readdir()?.into_iter().map(|e| (e.ino, e.kind.dirent_type(), e.name)));
    let count = a[2].min(i32::MAX as u64) as usize;
    let mut off = f.offset.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::new();
    let mut next = *off as usize;
    while let Some((ino, kind, name)) = entries.get(next) {
        let reclen = (19 + name.len() + 1).next_multiple_of(8);
        if out.len() + reclen > count {
            break;
        }
        let start = out.len();
        out.extend_from_slice(&ino.to_le_bytes());
        out.extend_from_slice(&((next + 1) as u64).to_le_bytes());
        out.extend_from_slice(&(reclen as u16).to_le_bytes());
        out.push(*kind);
        out.extend_from_slice(name);
        out.resize(start + reclen, 0);
        next += 1;
    }
    if out.is_empty() && next < entries.len() {
        return Err(Errno::EINVAL);
    }
    t.mm.copy_out(a[1], &out)?;
    *off = next as u64;
    Ok(out.len() as u64)
}

fn sys_chdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let p = t.lookup_at(AT_FDCWD, &path, true)?;
    if p.dentry.inode.kind() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    if !permitted(t, &p.dentry.inode.stat()?, 1) {
        return Err(Errno::EACCES);
    }
    t.fs.set_cwd(p);
    Ok(0)
}

fn sys_fchdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let p = t.fds.get(a[0] as i32)?.path.clone().ok_or(Errno::ENOTDIR)?;
    if p.dentry.inode.kind() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    t.fs.set_cwd(p);
    Ok(0)
}

fn sys_getcwd(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut path = t.resolver().path_of(&t.fs.cwd());
    path.push(0);
    if (a[1] as usize) < path.len() {
        return Err(Errno::ERANGE);
    }
    t.mm.copy_out(a[0], &path)?;
    Ok(path.len() as u64)
}

fn sys_umask(t: &mut Task, a: [u64; 6]) -> SysResult {
    Ok(u64::from(t.fs.swap_umask(a[0] as u32 & 0o777)))
}

/// The file at `path` (or `dirfd` itself with AT_EMPTY_PATH and an empty path).
fn target_at(t: &Task, dirfd: i32, path: u64, flags: u32) -> Result<VfsPath, Errno> {
    let p = t.mm.copy_in_cstr(path, super::PATH_MAX)?;
    if p.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        return t.fds.get(dirfd)?.path.clone().ok_or(Errno::EBADF);
    }
    t.lookup_at(dirfd, &p, flags & AT_SYMLINK_NOFOLLOW == 0)
}

/// Applies `attr` to `p`, as its owner or root.
fn set_attr(t: &Task, p: &VfsPath, attr: &SetAttr) -> SysResult {
    check_writable_mount(p)?;
    let st = p.dentry.inode.stat()?;
    // The owner (or CAP_FOWNER) changes attributes; only CAP_CHOWN gives a file away.
    let c = &t.creds;
    let owner = c.fsuid == st.st_uid || c.capable(crate::kernel::cap::FOWNER);
    if !owner || (attr.uid.is_some_and(|u| u != st.st_uid) && !c.capable(crate::kernel::cap::CHOWN)) {
        return Err(Errno::EPERM);
    }
    p.dentry.inode.setattr(attr)?;
    inotify::notify_path(p, if attr.size.is_some() { inotify::IN_MODIFY } else { inotify::IN_ATTRIB });
    Ok(0)
}

fn fd_path(t: &Task, fd: u64) -> Result<VfsPath, Errno> {
    t.fds.get(fd as i32)?.path.clone().ok_or(Errno::EBADF)
}

fn sys_chmod(t: &mut Task, a: [u64; 6]) -> SysResult {
    let p = target_at(t, AT_FDCWD, a[0], 0)?;
    set_attr(t, &p, &SetAttr { mode: Some(a[1] as u32 & 0o7777), ..Default::default() })
}

fn sys_fchmod(t: &mut Task, a: [u64; 6]) -> SysResult {
    let p = fd_path(t, a[0])?;
    set_attr(t, &p, &SetAttr { mode: Some(a[1] as u32 & 0o7777), ..Default::default() })
}

fn sys_fchmodat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let p = target_at(t, a[0] as i32, a[1], 0)?;
    set_attr(t, &p, &SetAttr { mode: Some(a[2] as u32 & 0o7777), ..Default::default() })
}

/// -1 leaves an id unchanged.
fn owner(uid: u64, gid: u64) -> SetAttr {
    let id = |v: u64| (v as u32 != u32::MAX).then_some(v as u32);
    SetAttr { uid: id(uid), gid: id(gid), ..Default::default() }
}

fn sys_chown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let p = target_at(t, AT_FDCWD, a[0], 0)?;
    set_attr(t, &p, &owner(a[1], a[2]))
}

fn sys_lchown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let p = target_at(t, AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW)?;
    set_attr(t, &p, &owner(a[1], a[2]))
}

fn sys_fchown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let p = fd_path(t, a[0])?;
    set_attr(t, &p, &owner(a[1], a[2]))
}

fn sys_fchownat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[4] as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = target_at(t, a[0] as i32, a[1], flags)?;
    set_attr(t, &p, &owner(a[2], a[3]))
}

fn truncate_path(t: &Task, p: &VfsPath, len: u64) -> SysResult {
    if (len as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    match p.dentry.inode.kind() {
        FileType::Directory => return Err(Errno::EISDIR),
        FileType::Regular => {}
        _ => return Err(Errno::EINVAL),
    }
    check_writable_mount(p)?;
    if !permitted(t, &p.dentry.inode.stat()?, 2) {
        return Err(Errno::EACCES);
    }
    p.dentry.inode.setattr(&SetAttr { size: Some(len), ..Default::default() })?;
    inotify::notify_path(p, inotify::IN_MODIFY);
    Ok(0)
}

fn sys_truncate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let p = target_at(t, AT_FDCWD, a[0], 0)?;
    truncate_path(t, &p, a[1])
}

fn sys_ftruncate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(a[0] as i32)?;
    if (a[1] as i64) < 0 || !f.writable() {
        return Err(Errno::EINVAL);
    }
    f.ops.truncate(a[1])?;
    if let Some(p) = &f.path {
        inotify::notify_path(p, inotify::IN_MODIFY);
    }
    Ok(0)
}

fn sys_utimensat(t: &mut Task, a: [u64; 6]) -> SysResult {
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    let flags = a[3] as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let now = crate::fs::now();
    let (atime, mtime) = if a[2] == 0 {
        (Some(now), Some(now))
    } else {
        let mut b = [0u8; 32];
        t.mm.copy_in(a[2], &mut b)?;
        let w = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default());
        let pick = |sec: i64, nsec: i64| -> Result<Option<(i64, i64)>, Errno> {
            match nsec {
                UTIME_NOW => Ok(Some(now)),
                UTIME_OMIT => Ok(None),
                0..=999_999_999 => Ok(Some((sec, nsec))),
                _ => Err(Errno::EINVAL),
            }
        };
        (pick(w(0), w(1))?, pick(w(2), w(3))?)
    };
    let p = if a[1] == 0 { fd_path(t, a[0])? } else { target_at(t, a[0] as i32, a[1], flags)? };
    if atime.is_none() && mtime.is_none() {
        return Ok(0);
    }
    set_attr(t, &p, &SetAttr { atime, mtime, ..Default::default() })
}
