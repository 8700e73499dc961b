//! Sending signals: kill, tkill, tgkill. The signal becomes pending in the target process and
//! is delivered when it next returns to guest code (a target asleep in rt_sigsuspend wakes).

use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::Task;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::KILL, handler: sys_kill, support: Support::Partial, note: "a target asleep inside the Sentry (other than in rt_sigsuspend) sees the signal when its call completes: no EINTR yet" },
    Registration { nr: nr::TKILL, handler: sys_tkill, support: Support::Partial, note: "as kill" },
    Registration { nr: nr::TGKILL, handler: sys_tgkill, support: Support::Partial, note: "as kill" },
];

/// Sends `sig` to process `pid` from `t`.
fn send(t: &mut Task, pid: i32, sig: i64) -> SysResult {
    if !(0..=64).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let sig = sig as i32;
    if pid == t.tgid {
        if sig != 0 {
            t.force_signal(sig);
        }
        return Ok(0);
    }
    let q = t.kernel.procs.queue(pid).ok_or(Errno::ESRCH)?;
    if sig != 0 {
        q.post(sig);
    }
    Ok(0)
}

fn sys_kill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    let sig = a[1] as i64;
    if pid > 0 {
        return send(t, pid, sig);
    }
    if !(0..=64).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let group = match pid {
        0 => Some(t.kernel.procs.pgid(t.tgid)?),
        -1 => None,
        p => Some(-p),
    };
    let targets = t.kernel.procs.group_queues(group, t.tgid);
    if targets.is_empty() && pid != -1 {
        return Err(Errno::ESRCH);
    }
    if sig != 0 {
        for q in targets {
            q.post(sig as i32);
        }
        if pid == -1 || group == t.kernel.procs.pgid(t.tgid).ok() {
            // kill(-1) spares the caller; kill(0) and its own group include it (posted above).
        }
    }
    Ok(0)
}

fn sys_tkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    if (a[0] as i32) <= 0 {
        return Err(Errno::EINVAL);
    }
    send(t, a[0] as i32, a[1] as i64)
}

fn sys_tgkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (tgid, tid) = (a[0] as i32, a[1] as i32);
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    if tgid != tid {
        return Err(Errno::ESRCH);
    }
    send(t, tid, a[2] as i64)
}
