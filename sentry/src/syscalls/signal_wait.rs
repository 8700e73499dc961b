//! Waiting for signals: pause, rt_sigsuspend, rt_sigtimedwait, signalfd and signalfd4.

use syscalls::structs::SigSet;
use syscalls::{nr, Errno};

use super::signal::SIGSET_SIZE;
use super::{Registration, SysResult, Support};
use crate::fs::signalfd::SignalFd;
use crate::kernel::task::UNBLOCKABLE;
use crate::kernel::Task;
use crate::vfs::FileDescription;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::PAUSE, handler: sys_pause, support: Support::Full, note: "" },
    Registration { nr: nr::RT_SIGSUSPEND, handler: sys_rt_sigsuspend, support: Support::Full, note: "" },
    Registration { nr: nr::RT_SIGTIMEDWAIT, handler: sys_rt_sigtimedwait, support: Support::Full, note: "" },
    Registration { nr: nr::SIGNALFD, handler: sys_signalfd, support: Support::Full, note: "" },
    Registration { nr: nr::SIGNALFD4, handler: sys_signalfd4, support: Support::Full, note: "" },
];

fn sys_pause(t: &mut Task, _: [u64; 6]) -> SysResult {
    t.sigq.wait(t.signals.mask, None);
    Err(Errno::ERESTARTNOHAND)
}

fn sys_rt_sigsuspend(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let s: SigSet = t.mm.read_struct(a[0])?;
    let old = t.signals.mask;
    t.set_mask(s.bits);
    t.sigq.wait(t.signals.mask, None);
    // The handler runs with the temporary mask; delivery puts the old one back.
    t.saved_mask = Some(old);
    Err(Errno::ERESTARTNOHAND)
}

/// rt_sigtimedwait(set, info, timeout, sigsetsize): takes a pending signal of `set` (blocked
/// or not) without delivering it; while it waits, the signals of `set` wake it.
fn sys_rt_sigtimedwait(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [set, info, timeout, size, ..] = a;
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let want = t.mm.read_struct::<SigSet>(set)?.bits & !UNBLOCKABLE;
    let deadline = super::read_timeout(t, timeout)?;
    let taken = match t.sigq.take(!want) {
        Some(i) => Some(i),
        None => {
            let signalled = t.sigq.wait(t.signals.mask & !want, deadline);
            match t.sigq.take(!want) {
                Some(i) => Some(i),
                None if signalled => return Err(Errno::EINTR),
                None => None,
            }
        }
    };
    let info_got = taken.ok_or(Errno::EAGAIN)?;
    if info != 0 {
        t.mm.copy_out(info, &info_got.0)?;
    }
    Ok(info_got.signo() as u64)
}

fn sys_signalfd(t: &mut Task, a: [u64; 6]) -> SysResult {
    signalfd(t, a[0] as i32, a[1], a[2], 0)
}

fn sys_signalfd4(t: &mut Task, a: [u64; 6]) -> SysResult {
    signalfd(t, a[0] as i32, a[1], a[2], a[3] as u32)
}

fn signalfd(t: &mut Task, fd: i32, mask: u64, size: u64, flags: u32) -> SysResult {
    const SFD_CLOEXEC: u32 = libc::O_CLOEXEC as u32;
    const SFD_NONBLOCK: u32 = libc::O_NONBLOCK as u32;
    if size != SIGSET_SIZE || flags & !(SFD_CLOEXEC | SFD_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let bits = t.mm.read_struct::<SigSet>(mask)?.bits & !UNBLOCKABLE;
    if fd != -1 {
        let f = t.fds.get(fd)?;
        let ops: &dyn std::any::Any = &*f.ops;
        ops.downcast_ref::<SignalFd>().ok_or(Errno::EINVAL)?.set_mask(bits);
        return Ok(fd as u64);
    }
    let file = FileDescription::new(Box::new(SignalFd::new(bits, flags & SFD_NONBLOCK != 0)), None, libc::O_RDWR as u32 | (flags & SFD_NONBLOCK));
    t.install_fd(file, flags & SFD_CLOEXEC != 0)
}
