//! Sending signals: kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo and
//! pidfd_send_signal. The signal becomes pending in the target with its siginfo (sender pid
//! and uid, si_code), wakes the target if it sleeps in the Sentry, and is delivered when the
//! target next returns to guest code.

use std::sync::Arc;

use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::signal::{SigInfo, SI_TKILL, SI_USER};
use crate::kernel::Task;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::KILL, handler: sys_kill, support: Support::Full, note: "" },
    Registration { nr: nr::TKILL, handler: sys_tkill, support: Support::Full, note: "" },
    Registration { nr: nr::TGKILL, handler: sys_tgkill, support: Support::Full, note: "" },
    Registration { nr: nr::RT_SIGQUEUEINFO, handler: sys_rt_sigqueueinfo, support: Support::Full, note: "" },
    Registration { nr: nr::RT_TGSIGQUEUEINFO, handler: sys_rt_tgsigqueueinfo, support: Support::Full, note: "" },
    Registration { nr: nr::PIDFD_SEND_SIGNAL, handler: sys_pidfd_send_signal, support: Support::Full, note: "" },
];

/// A signal number kill accepts (0 only checks the target).
fn signo(sig: u64) -> Result<i32, Errno> {
    if sig > 64 {
        return Err(Errno::EINVAL);
    }
    Ok(sig as i32)
}

/// Posts `info` to process `pid`, or the process of thread `pid` (signal 0: only checks that
/// it exists).
fn send(t: &Task, pid: i32, info: SigInfo) -> SysResult {
    let q = if pid == t.tgid { t.sigq.process.clone() } else { t.kernel.procs.queue(pid).ok_or(Errno::ESRCH)? };
    if info.signo() != 0 {
        q.post(info);
    }
    Ok(0)
}

/// Posts `info` to thread `tid`, which must belong to process `tgid` when one is named.
fn send_thread(t: &Task, tgid: Option<i32>, tid: i32, info: SigInfo) -> SysResult {
    let q = if tid == t.tid { t.sigq.clone() } else { t.kernel.procs.thread(tid).ok_or(Errno::ESRCH)? };
    if let Some(tgid) = tgid {
        let process = if tgid == t.tgid { Some(t.sigq.process.clone()) } else { t.kernel.procs.queue(tgid) };
        if !process.is_some_and(|p| Arc::ptr_eq(&p, &q.process)) {
            return Err(Errno::ESRCH);
        }
    }
    if info.signo() != 0 {
        q.post(info);
    }
    Ok(0)
}

fn sys_kill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    let sig = signo(a[1])?;
    let info = SigInfo::from_process(sig, SI_USER, t.tgid, t.creds.uid);
    if pid > 0 {
        return send(t, pid, info);
    }
    let group = match pid {
        0 => Some(t.kernel.procs.pgid(t.tgid)?),
        -1 => None,
        p if p == i32::MIN => return Err(Errno::ESRCH),
        p => Some(-p),
    };
    // kill(-1) reaches every process but init and the caller.
    let targets = t.kernel.procs.group_queues(group, t.tgid);
    if targets.is_empty() && pid != -1 {
        return Err(Errno::ESRCH);
    }
    if sig != 0 {
        for q in targets {
            q.post(info);
        }
    }
    Ok(0)
}

fn sys_tkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let tid = a[0] as i32;
    let sig = signo(a[1])?;
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    send_thread(t, None, tid, SigInfo::from_process(sig, SI_TKILL, t.tgid, t.creds.uid))
}

/// The thread (tgid, tid) names: EINVAL for non-positive ids.
fn thread_target(tgid: u64, tid: u64) -> Result<(i32, i32), Errno> {
    let (tgid, tid) = (tgid as i32, tid as i32);
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    Ok((tgid, tid))
}

fn sys_tgkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let sig = signo(a[2])?;
    let (tgid, tid) = thread_target(a[0], a[1])?;
    send_thread(t, Some(tgid), tid, SigInfo::from_process(sig, SI_TKILL, t.tgid, t.creds.uid))
}

/// Reads a caller-made siginfo: only the sender itself may claim a kernel-made si_code (>= 0)
/// or SI_TKILL, as Linux checks.
fn user_info(t: &Task, target: i32, sig: i32, ptr: u64) -> Result<SigInfo, Errno> {
    let mut info = SigInfo([0; 128]);
    t.mm.copy_in(ptr, &mut info.0)?;
    let code = i32::from_le_bytes([info.0[8], info.0[9], info.0[10], info.0[11]]);
    if (code >= 0 || code == SI_TKILL) && target != t.tgid {
        return Err(Errno::EPERM);
    }
    info.0[..4].copy_from_slice(&sig.to_le_bytes());
    Ok(info)
}

fn sys_rt_sigqueueinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    let sig = signo(a[1])?;
    if pid <= 0 {
        return Err(Errno::ESRCH);
    }
    let info = user_info(t, pid, sig, a[2])?;
    send(t, pid, info)
}

fn sys_rt_tgsigqueueinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let sig = signo(a[2])?;
    let (tgid, tid) = thread_target(a[0], a[1])?;
    let info = user_info(t, tgid, sig, a[3])?;
    send_thread(t, Some(tgid), tid, info)
}

/// pidfd_send_signal(pidfd, sig, info, flags).
fn sys_pidfd_send_signal(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [fd, sig, info, flags, ..] = a;
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let f = t.fds.get(fd as i32)?;
    let pid = crate::fs::pidfd::PidFd::of(&*f.ops).ok_or(Errno::EBADF)?.pid;
    let sig = signo(sig)?;
    if t.kernel.procs.has_exited(pid) {
        return Err(Errno::ESRCH);
    }
    let info = if info == 0 { SigInfo::from_process(sig, SI_USER, t.tgid, t.creds.uid) } else { user_info(t, pid, sig, info)? };
    send(t, pid, info)
}
