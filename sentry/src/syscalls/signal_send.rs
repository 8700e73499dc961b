//! Sending signals: kill, tkill, tgkill. Until signal delivery exists, a signal can take
//! effect only where no handler must run: on the caller itself with the default action
//! (abort's SIGABRT, raise(SIGTERM)...), or as a check (signal 0). Anything else is refused with
//! ENOSYS and recorded in the audit report, never pretended.

use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::Task;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::KILL, handler: sys_kill, support: Support::Partial, note: "signal 0 to any process; default actions on the caller itself; other deliveries come with signal handling (ENOSYS)" },
    Registration { nr: nr::TKILL, handler: sys_tkill, support: Support::Partial, note: "as kill" },
    Registration { nr: nr::TGKILL, handler: sys_tgkill, support: Support::Partial, note: "as kill" },
];

/// Sends `sig` to process `pid` from `t`.
fn send(t: &mut Task, pid: i32, sig: i64) -> SysResult {
    if !(0..=64).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let sig = sig as i32;
    let exists = pid == t.tgid || t.kernel.procs.pgid(pid).is_ok();
    if !exists {
        return Err(Errno::ESRCH);
    }
    if sig == 0 {
        return Ok(0);
    }
    let handled = t.signals.actions[sig as usize - 1].sa_handler > 1;
    let blocked = t.signals.mask & (1 << (sig - 1)) != 0 && sig != libc::SIGKILL && sig != libc::SIGSTOP;
    if pid == t.tgid && !handled && !blocked {
        t.force_signal(sig);
        return Ok(0);
    }
    t.kernel.audit.unsupported_command("kill (signal delivery)", sig as u64);
    Err(Errno::ENOSYS)
}

fn sys_kill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid <= 0 {
        // Process groups and "every process": not until delivery exists.
        t.kernel.audit.unsupported_command("kill (process group)", a[1]);
        return Err(Errno::ENOSYS);
    }
    send(t, pid, a[1] as i64)
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
