//! Signal delivery: a per-process queue of pending signals, and the x86-64 signal frame the
//! Sentry builds on the guest's stack to run a handler (and takes apart in rt_sigreturn).
//!
//! Signals become pending from kill/tgkill, a child's exit (SIGCHLD), EPIPE (SIGPIPE) and
//! faults; they are delivered when the task is about to return to guest code. A task asleep in
//! rt_sigsuspend wakes for them; other sleeps inside the Sentry finish first (no EINTR yet).

use std::sync::{Condvar, Mutex};

use syscalls::structs::Sigaction;

/// A process's pending signals (one of each, as for standard signals).
#[derive(Default)]
pub struct SignalQueue {
    pending: Mutex<u64>,
    cv: Condvar,
}

impl SignalQueue {
    /// Makes `sig` pending and wakes a waiter.
    pub fn post(&self, sig: i32) {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) |= 1 << (sig - 1);
        self.cv.notify_all();
        crate::kernel::events::events().notify();
    }

    /// Takes the lowest pending signal not in `blocked`.
    pub fn take(&self, blocked: u64) -> Option<i32> {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let ready = *p & !blocked;
        if ready == 0 {
            return None;
        }
        let bit = ready.trailing_zeros();
        *p &= !(1 << bit);
        Some(bit as i32 + 1)
    }

    /// The pending set (rt_sigpending).
    pub fn pending(&self) -> u64 {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps until a signal outside `blocked` is pending.
    pub fn wait(&self, blocked: u64) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        while *p & !blocked == 0 {
            p = self.cv.wait(p).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// SA_* flags the frame code needs.
pub const SA_SIGINFO: u64 = 4;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;

/// What a signal's disposition asks for.
pub enum Action {
    /// Nothing (SIG_IGN, or a default of "ignore").
    Ignore,
    /// End the process.
    Terminate,
    /// Run this handler.
    Handler(Sigaction),
}

/// The action for `sig` under `act`.
pub fn action(sig: i32, act: &Sigaction) -> Action {
    match act.sa_handler {
        1 => Action::Ignore,
        0 if matches!(sig, libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT) => Action::Ignore,
        // Job-control stops wait for process-group stops; until then they are ignored.
        0 if matches!(sig, libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU) => Action::Ignore,
        0 => Action::Terminate,
        _ => Action::Handler(*act),
    }
}

/// sigcontext's general registers in the kernel's order (r8 first), as (offset/8, value).
pub fn sigcontext_regs(r: &libc::user_regs_struct) -> [u64; 18] {
    [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip, r.eflags]
}

/// Restores general registers from a sigcontext's first 18 words.
pub fn restore_regs(r: &mut libc::user_regs_struct, w: &[u64; 18]) {
    [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip] =
        [w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15], w[16]];
    // Only the flags a program may change (FIX_EFLAGS: CF PF AF ZF SF TF DF OF RF AC).
    const FIX: u64 = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x1_0000 | 0x4_0000;
    r.eflags = (r.eflags & !FIX) | (w[17] & FIX);
}
