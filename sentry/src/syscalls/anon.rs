//! Anonymous descriptors: eventfd, eventfd2, timerfd_create, timerfd_settime, timerfd_gettime.

use std::any::Any;

use syscalls::structs::Timespec;
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::fs::anon::{EventFd, TimerFd};
use crate::kernel::Task;
use crate::vfs::FileDescription;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::EVENTFD, handler: sys_eventfd, support: Support::Full, note: "" },
    Registration { nr: nr::EVENTFD2, handler: sys_eventfd2, support: Support::Full, note: "" },
    Registration { nr: nr::TIMERFD_CREATE, handler: sys_timerfd_create, support: Support::Partial, note: "CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME; no TFD_TIMER_CANCEL_ON_SET" },
    Registration { nr: nr::TIMERFD_SETTIME, handler: sys_timerfd_settime, support: Support::Partial, note: "no TFD_TIMER_CANCEL_ON_SET" },
    Registration { nr: nr::MEMFD_CREATE, handler: sys_memfd_create, support: Support::Partial, note: "no sealing (F_ADD_SEALS), no MFD_HUGETLB" },
    Registration { nr: nr::TIMERFD_GETTIME, handler: sys_timerfd_gettime, support: Support::Full, note: "" },
];

const O_CLOEXEC: u32 = libc::O_CLOEXEC as u32;
const O_NONBLOCK: u32 = libc::O_NONBLOCK as u32;
const EFD_SEMAPHORE: u32 = 1;

fn install(t: &mut Task, ops: Box<dyn crate::vfs::FileOps>, flags: u32) -> SysResult {
    let file = FileDescription::new(ops, None, libc::O_RDWR as u32 | (flags & O_NONBLOCK));
    t.install_fd(file, flags & O_CLOEXEC != 0)
}

fn sys_eventfd(t: &mut Task, a: [u64; 6]) -> SysResult {
    install(t, Box::new(EventFd::new(u64::from(a[0] as u32), false, false)), 0)
}

fn sys_eventfd2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[1] as u32;
    if flags & !(O_CLOEXEC | O_NONBLOCK | EFD_SEMAPHORE) != 0 {
        return Err(Errno::EINVAL);
    }
    let ev = EventFd::new(u64::from(a[0] as u32), flags & EFD_SEMAPHORE != 0, flags & O_NONBLOCK != 0);
    install(t, Box::new(ev), flags)
}

fn sys_timerfd_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (clock, flags) = (a[0] as i32, a[1] as u32);
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    match clock {
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME => {}
        libc::CLOCK_REALTIME_ALARM | libc::CLOCK_BOOTTIME_ALARM => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    }
    install(t, Box::new(TimerFd::new(clock, flags & O_NONBLOCK != 0)), flags)
}

/// The timer behind `fd` (EINVAL if it is not a timerfd).
fn timer(t: &Task, fd: u64) -> Result<std::sync::Arc<FileDescription>, Errno> {
    let f = t.fds.get(fd as i32)?;
    with_timer(&f, |_| ())?;
    Ok(f)
}

fn with_timer<R>(f: &FileDescription, g: impl FnOnce(&TimerFd) -> R) -> Result<R, Errno> {
    let ops: &dyn Any = &*f.ops;
    ops.downcast_ref::<TimerFd>().map(g).ok_or(Errno::EINVAL)
}

fn write_itimerspec(t: &Task, addr: u64, (value, interval): ((i64, i64), (i64, i64))) -> Result<(), Errno> {
    t.mm.write_struct(addr, &Timespec { tv_sec: interval.0, tv_nsec: interval.1 })?;
    t.mm.write_struct(addr + 16, &Timespec { tv_sec: value.0, tv_nsec: value.1 })
}

fn sys_timerfd_settime(t: &mut Task, a: [u64; 6]) -> SysResult {
    const TFD_TIMER_ABSTIME: u32 = 1;
    const TFD_TIMER_CANCEL_ON_SET: u32 = 2;
    let flags = a[1] as u32;
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(Errno::EINVAL);
    }
    let f = timer(t, a[0])?;
    let interval: Timespec = t.mm.read_struct(a[2])?;
    let value: Timespec = t.mm.read_struct(a[2] + 16)?;
    for ts in [&interval, &value] {
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return Err(Errno::EINVAL);
        }
    }
    let old = with_timer(&f, |tf| tf.set((value.tv_sec, value.tv_nsec), (interval.tv_sec, interval.tv_nsec), flags & TFD_TIMER_ABSTIME != 0))?;
    if a[3] != 0 {
        write_itimerspec(t, a[3], old)?;
    }
    Ok(0)
}

fn sys_timerfd_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = timer(t, a[0])?;
    let cur = with_timer(&f, TimerFd::get)?;
    write_itimerspec(t, a[1], cur).map(|()| 0)
}

/// memfd_create: an unlinked tmpfs file.
fn sys_memfd_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    const MFD_CLOEXEC: u32 = 1;
    const MFD_ALLOW_SEALING: u32 = 2;
    const MFD_NOEXEC_SEAL: u32 = 8;
    const MFD_EXEC: u32 = 0x10;
    let flags = a[1] as u32;
    if flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = t.mm.copy_in_cstr(a[0], 249).map_err(|e| if e == Errno::ENAMETOOLONG { Errno::EINVAL } else { e })?;
    let dir = crate::fs::tmpfs::Tmpfs::new_root(&t.kernel.memory_file, 0o1777, 0, 0);
    let args = crate::vfs::inode::CreateArgs { mode: 0o777, uid: t.creds.fsuid, gid: t.creds.fsgid };
    let inode = crate::vfs::inode::Inode::mknod(&*dir, &name, crate::vfs::inode::FileType::Regular, args)?;
    crate::vfs::inode::Inode::unlink(&*dir, &name, false)?;
    let ops = inode.open(libc::O_RDWR as u32)?;
    let file = FileDescription::new(ops, None, libc::O_RDWR as u32);
    t.install_fd(file, flags & MFD_CLOEXEC != 0)
}
