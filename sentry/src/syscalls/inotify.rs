//! inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch.

use std::any::Any;

use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::fs::inotify::{self, Inotify, InotifyFile, IN_ALL_EVENTS, IN_DONT_FOLLOW, IN_EXCL_UNLINK, IN_MASK_ADD, IN_MASK_CREATE, IN_ONESHOT, IN_ONLYDIR};
use crate::kernel::fs_context::AT_FDCWD;
use crate::kernel::Task;
use crate::vfs::inode::FileType;
use crate::vfs::FileDescription;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::INOTIFY_INIT, handler: sys_inotify_init, support: Support::Partial, note: "changes made inside the sandbox; no IN_ACCESS" },
    Registration { nr: nr::INOTIFY_INIT1, handler: sys_inotify_init1, support: Support::Partial, note: "changes made inside the sandbox; no IN_ACCESS" },
    Registration { nr: nr::INOTIFY_ADD_WATCH, handler: sys_inotify_add_watch, support: Support::Full, note: "" },
    Registration { nr: nr::INOTIFY_RM_WATCH, handler: sys_inotify_rm_watch, support: Support::Full, note: "" },
];


fn init(t: &mut Task, flags: u32) -> SysResult {
    let (cloexec, nonblock) = (libc::O_CLOEXEC as u32, libc::O_NONBLOCK as u32);
    if flags & !(cloexec | nonblock) != 0 {
        return Err(Errno::EINVAL);
    }
    let file = FileDescription::new(Box::new(InotifyFile(Inotify::new(flags & nonblock != 0))), None, libc::O_RDONLY as u32 | (flags & nonblock));
    t.install_fd(file, flags & cloexec != 0)
}

fn sys_inotify_init(t: &mut Task, _: [u64; 6]) -> SysResult {
    init(t, 0)
}

fn sys_inotify_init1(t: &mut Task, a: [u64; 6]) -> SysResult {
    init(t, a[0] as u32)
}

fn instance(t: &Task, fd: u64) -> Result<std::sync::Arc<FileDescription>, Errno> {
    let f = t.fds.get(fd as i32)?;
    let ops: &dyn Any = &*f.ops;
    if ops.downcast_ref::<InotifyFile>().is_none() {
        return Err(Errno::EINVAL);
    }
    Ok(f)
}

fn sys_inotify_add_watch(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = instance(t, a[0])?;
    let mask = a[2] as u32;
    let known = IN_ALL_EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_CREATE | IN_MASK_ADD | IN_ONESHOT;
    if mask & IN_ALL_EVENTS == 0 || mask & !known != 0 || mask & (IN_MASK_CREATE | IN_MASK_ADD) == IN_MASK_CREATE | IN_MASK_ADD {
        return Err(Errno::EINVAL);
    }
    let path = t.path_arg(a[1])?;
    let p = t.lookup_at(AT_FDCWD, &path, mask & IN_DONT_FOLLOW == 0)?;
    if mask & IN_ONLYDIR != 0 && p.dentry.inode.kind() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let key = inotify::key_of(&*p.dentry.inode).ok_or(Errno::ENOENT)?;
    let ops: &dyn Any = &*f.ops;
    let i = ops.downcast_ref::<InotifyFile>().ok_or(Errno::EINVAL)?;
    i.0.add_watch(key, mask).map(|wd| wd as u64)
}

fn sys_inotify_rm_watch(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = instance(t, a[0])?;
    let ops: &dyn Any = &*f.ops;
    let i = ops.downcast_ref::<InotifyFile>().ok_or(Errno::EINVAL)?;
    i.0.rm_watch(a[1] as i32).map(|()| 0)
}
