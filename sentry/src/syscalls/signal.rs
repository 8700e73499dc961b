//! Signal dispositions, masks and handler returns: rt_sigaction, rt_sigprocmask,
//! rt_sigreturn, rt_sigpending, sigaltstack. Delivery is in kernel::task.

use syscalls::structs::{Sigaction, SigSet};
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::Task;

pub const HANDLERS: &[Registration] = &[
    Registration {
        nr: nr::RT_SIGACTION,
        handler: sys_rt_sigaction,
        support: Support::Full,
        note: "",
    },
    Registration { nr: nr::RT_SIGPROCMASK, handler: sys_rt_sigprocmask, support: Support::Full, note: "" },
    Registration { nr: nr::RT_SIGRETURN, handler: sys_rt_sigreturn, support: Support::Full, note: "" },
    Registration { nr: nr::RT_SIGPENDING, handler: sys_rt_sigpending, support: Support::Full, note: "" },
    Registration { nr: nr::SIGALTSTACK, handler: sys_sigaltstack, support: Support::Full, note: "" },
];

/// rt_sigreturn: the frame the Sentry built sits just below the stack pointer (the handler's
/// `ret` into the restorer popped its return address).
fn sys_rt_sigreturn(t: &mut Task, _: [u64; 6]) -> SysResult {
    let uc = t.regs.0.rsp;
    let mut u = [0u8; 304];
    t.mm.copy_in(uc, &mut u)?;
    let word = |off: usize| u64::from_le_bytes(u[off..off + 8].try_into().unwrap_or_default());
    let mut w = [0u64; 18];
    for (i, v) in w.iter_mut().enumerate() {
        *v = word(40 + 8 * i);
    }
    let fp = word(40 + 184);
    if fp != 0 {
        let cur = t.ctx.fpu_state().map_err(|_| Errno::EFAULT)?;
        let mut buf = vec![0u8; cur.0.len()];
        t.mm.copy_in(fp, &mut buf)?;
        t.ctx.set_fpu_state(&platform::FpuState(buf)).map_err(|_| Errno::EFAULT)?;
    }
    crate::kernel::signal::restore_regs(&mut t.regs.0, &w);
    // Not a system call any more: a restart code that happens to be in rax stays as it is.
    t.regs.0.orig_rax = u64::MAX;
    t.set_mask(word(296));
    // The return value is the interrupted rax.
    Ok(t.regs.0.rax)
}

fn sys_rt_sigpending(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let pending = t.sigq.pending() & t.signals.mask;
    t.mm.write_struct(a[0], &SigSet { bits: pending }).map(|()| 0)
}

fn sys_sigaltstack(t: &mut Task, a: [u64; 6]) -> SysResult {
    const SS_ONSTACK: u32 = 1;
    const SS_DISABLE: u32 = 2;
    const MINSIGSTKSZ: u64 = 2048;
    let on = t.on_altstack();
    if a[1] != 0 {
        let mut old = [0u8; 24];
        match t.altstack {
            Some((sp, size)) => {
                old[..8].copy_from_slice(&sp.to_le_bytes());
                old[8..12].copy_from_slice(&(if on { SS_ONSTACK } else { 0 }).to_le_bytes());
                old[16..].copy_from_slice(&size.to_le_bytes());
            }
            None => old[8..12].copy_from_slice(&SS_DISABLE.to_le_bytes()),
        }
        t.mm.copy_out(a[1], &old)?;
    }
    if a[0] != 0 {
        let mut ss = [0u8; 24];
        t.mm.copy_in(a[0], &mut ss)?;
        let sp = u64::from_le_bytes(ss[..8].try_into().unwrap_or_default());
        let flags = u32::from_le_bytes(ss[8..12].try_into().unwrap_or_default());
        let size = u64::from_le_bytes(ss[16..].try_into().unwrap_or_default());
        if on {
            return Err(Errno::EPERM);
        }
        if flags & !(SS_DISABLE | (1 << 31)) != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & SS_DISABLE != 0 {
            t.altstack = None;
        } else {
            if size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            }
            t.altstack = Some((sp, size));
        }
    }
    Ok(0)
}

/// The only sigset size the x86-64 ABI accepts.
pub const SIGSET_SIZE: u64 = 8;
use crate::kernel::task::UNBLOCKABLE;

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
    let old = {
        let mut actions = t.signals.lock();
        let slot = &mut actions[sig as usize - 1];
        let old = *slot;
        if let Some(n) = new {
            *slot = n;
        }
        old
    };
    if new.is_some() {
        t.publish_signal_state();
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
        t.set_mask(new);
    }
    if oset != 0 {
        t.mm.write_struct(oset, &SigSet { bits: old })?;
    }
    Ok(0)
}
