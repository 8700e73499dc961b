//! Signal dispositions and masks: rt_sigaction, rt_sigprocmask. They are recorded and
//! reported faithfully; delivering signals to handlers comes with processes.

use syscalls::structs::{Sigaction, SigSet};
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::Task;

pub const HANDLERS: &[Registration] = &[
    Registration {
        nr: nr::RT_SIGACTION,
        handler: sys_rt_sigaction,
        support: Support::Partial,
        note: "dispositions are recorded; handlers are not run yet (default actions apply)",
    },
    Registration { nr: nr::RT_SIGPROCMASK, handler: sys_rt_sigprocmask, support: Support::Full, note: "" },
];

const SIGSET_SIZE: u64 = 8;
/// SIGKILL and SIGSTOP can be neither caught nor blocked.
const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

fn sys_rt_sigaction(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [sig, act, oact, size, ..] = a;
    if size != SIGSET_SIZE || !(1..=64).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let sig = sig as i32;
    let new = if act != 0 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            return Err(Errno::EINVAL);
        }
        let mut n: Sigaction = t.mm.read_struct(act)?;
        n.sa_mask &= !UNBLOCKABLE;
        Some(n)
    } else {
        None
    };
    let slot = &mut t.signals.actions[sig as usize - 1];
    let old = *slot;
    if let Some(n) = new {
        *slot = n;
    }
    if oact != 0 {
        t.mm.write_struct(oact, &old)?;
    }
    Ok(0)
}

fn sys_rt_sigprocmask(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [how, set, oset, size, ..] = a;
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let old = t.signals.mask;
    if set != 0 {
        let s: SigSet = t.mm.read_struct(set)?;
        let new = match how as i32 {
            libc::SIG_BLOCK => old | s.bits,
            libc::SIG_UNBLOCK => old & !s.bits,
            libc::SIG_SETMASK => s.bits,
            _ => return Err(Errno::EINVAL),
        };
        t.signals.mask = new & !UNBLOCKABLE;
    }
    if oset != 0 {
        t.mm.write_struct(oset, &SigSet { bits: old })?;
    }
    Ok(0)
}
