//! epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use syscalls::structs::Timespec;
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::fs::epoll::{Epoll, EPOLLEXCLUSIVE};
use crate::kernel::events::{events, HOST_POLL_PERIOD};
use crate::kernel::Task;
use crate::vfs::FileDescription;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::EPOLL_CREATE, handler: sys_epoll_create, support: Support::Full, note: "" },
    Registration { nr: nr::EPOLL_CREATE1, handler: sys_epoll_create1, support: Support::Full, note: "" },
    Registration { nr: nr::EPOLL_CTL, handler: sys_epoll_ctl, support: Support::Partial, note: "an epoll inside an epoll is refused (EINVAL)" },
    Registration { nr: nr::EPOLL_WAIT, handler: sys_epoll_wait, support: Support::Full, note: "" },
    Registration { nr: nr::EPOLL_PWAIT, handler: sys_epoll_pwait, support: Support::Partial, note: "the signal mask is checked, not applied, until signal delivery exists" },
    Registration { nr: nr::EPOLL_PWAIT2, handler: sys_epoll_pwait2, support: Support::Partial, note: "the signal mask is checked, not applied, until signal delivery exists" },
];

/// sizeof(struct epoll_event) on x86-64 (packed).
const EVENT_SIZE: usize = 12;

fn create(t: &mut Task, cloexec: bool) -> SysResult {
    let file = FileDescription::new(Box::<Epoll>::default(), None, libc::O_RDWR as u32);
    t.install_fd(file, cloexec)
}

fn sys_epoll_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    if (a[0] as i32) <= 0 {
        return Err(Errno::EINVAL);
    }
    create(t, false)
}

fn sys_epoll_create1(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[0] as u32;
    if flags & !(libc::O_CLOEXEC as u32) != 0 {
        return Err(Errno::EINVAL);
    }
    create(t, flags != 0)
}

fn epoll_of(f: &Arc<FileDescription>) -> Result<&Epoll, Errno> {
    let ops: &dyn Any = &*f.ops;
    ops.downcast_ref::<Epoll>().ok_or(Errno::EINVAL)
}

fn sys_epoll_ctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (epfd, op, fd) = (a[0] as i32, a[1] as i32, a[2] as i32);
    let ep_file = t.fds.get(epfd)?;
    let target = t.fds.get(fd)?;
    let ep = epoll_of(&ep_file)?;
    if epfd == fd {
        return Err(Errno::EINVAL);
    }
    if !target.ops.pollable() {
        return Err(Errno::EPERM);
    }
    let (events, data) = if op == libc::EPOLL_CTL_DEL {
        (0, 0)
    } else {
        let mut b = [0u8; EVENT_SIZE];
        t.mm.copy_in(a[3], &mut b)?;
        (u32::from_le_bytes(b[..4].try_into().unwrap_or_default()), u64::from_le_bytes(b[4..].try_into().unwrap_or_default()))
    };
    if events & EPOLLEXCLUSIVE != 0 && op != libc::EPOLL_CTL_ADD {
        return Err(Errno::EINVAL);
    }
    // An epoll instance watching itself through another epoll would loop; nesting is refused.
    let ops: &dyn Any = &*target.ops;
    if ops.downcast_ref::<Epoll>().is_some() {
        t.kernel.audit.unsupported_command("epoll_ctl nested", 0);
        return Err(Errno::EINVAL);
    }
    ep.ctl(op, fd, &target, events, data).map(|()| 0)
}

fn wait(t: &mut Task, epfd: u64, buf: u64, max: u64, deadline: Option<Instant>) -> SysResult {
    let max = max as i32;
    if max <= 0 || max as usize > (i32::MAX as usize) / EVENT_SIZE {
        return Err(Errno::EINVAL);
    }
    let f = t.fds.get(epfd as i32)?;
    let ep = epoll_of(&f)?;
    // EFAULT before waiting, as Linux checks the buffer first.
    let mut probe = Vec::new();
    if t.mm.segments(buf, (max as usize * EVENT_SIZE) as u64, crate::mm::Access::Write, &mut probe) < (max as usize * EVENT_SIZE) as u64 {
        return Err(Errno::EFAULT);
    }
    loop {
        let seen = events().generation();
        let (ready, polled) = ep.collect(max as usize);
        let now = Instant::now();
        if !ready.is_empty() || deadline.is_some_and(|d| now >= d) {
            let mut out = Vec::with_capacity(ready.len() * EVENT_SIZE);
            for (ev, data) in &ready {
                out.extend_from_slice(&ev.to_le_bytes());
                out.extend_from_slice(&data.to_le_bytes());
            }
            t.mm.copy_out(buf, &out)?;
            return Ok(ready.len() as u64);
        }
        if crate::kernel::signal::interrupted() {
            return Err(Errno::EINTR);
        }
        let until = if polled { Some(deadline.map_or(now + HOST_POLL_PERIOD, |d| d.min(now + HOST_POLL_PERIOD))) } else { deadline };
        events().wait(seen, until);
    }
}

fn ms_deadline(ms: u64) -> Option<Instant> {
    let ms = ms as i32;
    (ms >= 0).then(|| Instant::now() + Duration::from_millis(ms as u64))
}

fn sys_epoll_wait(t: &mut Task, a: [u64; 6]) -> SysResult {
    wait(t, a[0], a[1], a[2], ms_deadline(a[3]))
}

fn sys_epoll_pwait(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[4] != 0 && a[5] != 8 {
        return Err(Errno::EINVAL);
    }
    wait(t, a[0], a[1], a[2], ms_deadline(a[3]))
}

fn sys_epoll_pwait2(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[4] != 0 && a[5] != 8 {
        return Err(Errno::EINVAL);
    }
    let deadline = if a[3] == 0 {
        None
    } else {
        let ts: Timespec = t.mm.read_struct(a[3])?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return Err(Errno::EINVAL);
        }
        crate::kernel::deadline_in(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    };
    wait(t, a[0], a[1], a[2], deadline)
}
