//! A Task is one guest thread; its run loop switches into the guest through the platform and
//! serves whatever comes back: a system call, a fault or a signal.

use std::sync::Arc;

use platform::{Context, Event, PlatformError, Registers};
use syscalls::structs::{Rlimit, Sigaction};
use syscalls::Errno;

use super::Kernel;
use crate::mm::MemoryManager;
use crate::vfs::FdTable;

/// How a guest process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// exit_group(status): the low 8 bits.
    Exited(u8),
    /// Killed by a signal.
    Signaled(i32),
}

impl ExitStatus {
    /// The shell's view: the status, or 128+N for signal N.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(s) => i32::from(s),
            ExitStatus::Signaled(n) => 128 + n,
        }
    }
}

/// Signal dispositions, index signo-1: shared by the threads of a process (CLONE_SIGHAND).
pub type Actions = Arc<std::sync::Mutex<[Sigaction; 64]>>;

/// Signal state: the process's dispositions and the thread's blocked mask.
pub struct SignalState {
    /// Dispositions.
    pub actions: Actions,
    /// Blocked signals.
    pub mask: u64,
}

impl SignalState {
    /// The disposition of `sig` (1..=64).
    pub fn action(&self, sig: i32) -> Sigaction {
        self.lock()[sig as usize - 1]
    }

    /// Sets the disposition of `sig` (1..=64).
    pub fn set_action(&self, sig: i32, act: Sigaction) {
        self.lock()[sig as usize - 1] = act;
    }

    /// All dispositions, locked.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, [Sigaction; 64]> {
        self.actions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// SIGKILL and SIGSTOP can be neither caught nor blocked.
pub const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

/// Number of RLIMIT_* resources.
pub const RLIM_NLIMITS: usize = 16;
/// RLIMIT_CPU's index.
pub const RLIMIT_CPU: usize = 0;
/// RLIMIT_STACK's index.
pub const RLIMIT_STACK: usize = 3;
/// RLIMIT_DATA's index.
pub const RLIMIT_DATA: usize = 2;
/// RLIMIT_AS's index.
pub const RLIMIT_AS: usize = 9;
/// RLIMIT_FSIZE's index.
pub const RLIMIT_FSIZE: usize = 1;
/// RLIMIT_NPROC's index.
pub const RLIMIT_NPROC: usize = 6;
/// RLIMIT_NOFILE's index.
pub const RLIMIT_NOFILE: usize = 7;

/// One guest thread.
pub struct Task {
    /// The sandbox's kernel.
    pub kernel: Arc<Kernel>,
    /// Thread id (in the sandbox's pid namespace).
    pub tid: i32,
    /// Thread group id.
    pub tgid: i32,
    /// Parent's thread group id (0: the sandbox's init has no parent inside).
    pub ppid: i32,
    /// Registers while the guest is stopped.
    pub regs: Registers,
    /// The platform context that runs this thread.
    pub ctx: Box<dyn Context>,
    /// The address space (shared by the process's threads).
    pub mm: Arc<MemoryManager>,
    /// Descriptors.
    pub fds: FdTable,
    /// Root, cwd, umask.
    pub fs: super::FsContext,
    /// Signal dispositions and mask.
    pub signals: SignalState,
    /// set_tid_address: cleared and futex-woken at exit.
    pub clear_child_tid: u64,
    /// set_robust_list head and length.
    pub robust_list: (u64, u64),
    /// The executable's path, for /proc/self/exe.
    pub exe: Vec<u8>,
    /// Resource limits.
    pub rlimits: [Rlimit; RLIM_NLIMITS],
    /// Set when the task is done: it leaves its run loop with this status.
    pub exit: Option<ExitStatus>,
    /// Pending signals (shared with senders); `sigq.process` holds the process's.
    pub sigq: Arc<super::signal::ThreadQueue>,
    /// sigaltstack: (ss_sp, ss_size), or None when disabled.
    pub altstack: Option<(u64, u64)>,
    /// The mask to restore after a handler run from rt_sigsuspend.
    pub saved_mask: Option<u64>,
    /// Who the task is.
    pub creds: super::Credentials,
    /// PR_SET_NO_NEW_PRIVS (inherited; nothing in the sandbox gains privileges anyway).
    pub no_new_privs: bool,
    /// PR_SET_DUMPABLE (reset to true by exec).
    pub dumpable: bool,
}

impl Task {
    /// RLIMIT_NOFILE: one past the highest descriptor number the task may have.
    pub fn nofile(&self) -> u64 {
        self.rlimits[RLIMIT_NOFILE].rlim_cur
    }

    /// Installs a new open file at the lowest free descriptor (EMFILE past RLIMIT_NOFILE).
    pub fn install_fd(&self, file: std::sync::Arc<crate::vfs::FileDescription>, cloexec: bool) -> crate::syscalls::SysResult {
        self.fds.install(file, cloexec, 0, self.nofile()).map(|fd| fd as u64)
    }

    /// Runs the guest until its thread group exits.
    pub fn run(&mut self) -> Result<ExitStatus, PlatformError> {
        super::signal::set_current(self.sigq.clone());
        self.set_mask(self.signals.mask);
        self.publish_signal_state();
        loop {
            let mut syscall = false;
            // In the guest from here: a signal posted from now on kicks it out again.
            self.sigq.set_in_guest(self.ctx.host_tid());
            if self.sigq.may_deliver(self.signals.mask) {
                self.deliver_signals(false);
                if let Some(e) = self.exit {
                    self.sigq.set_in_guest(0);
                    return Ok(e);
                }
            }
            let event = self.ctx.switch(&mut self.regs);
            self.sigq.set_in_guest(0);
            match event? {
                Event::Syscall => {
                    super::patch::after_trap(self);
                    crate::syscalls::dispatch(self);
                    syscall = true;
                }
                Event::Fault(f) => match super::patch::fault(self, f) {
                    super::patch::Fault::Resume => continue,
                    // A displaced `syscall` reached past its patch: served as any other.
                    super::patch::Fault::Syscall => {
                        crate::syscalls::dispatch(self);
                        syscall = true;
                    }
                    super::patch::Fault::Report(f) => {
                        tracing::info!(signo = f.signo, code = f.code, addr = f.addr, ip = self.regs.ip(), "guest fault");
                        // A fault with a handler (and not blocked) runs it; otherwise it ends the
                        // process, as the kernel forces a blocked synchronous signal.
                        let idx = f.signo as usize - 1;
                        let act = self.signals.action(f.signo);
                        let blocked = self.signals.mask & (1 << idx) != 0;
                        match super::signal::action(f.signo, &act) {
                            super::signal::Action::Handler(a) if !blocked => {
                                let info = super::signal::SigInfo::fault(f.signo, f.code, f.addr);
                                if self.setup_frame(&a, &info, f.addr).is_err() {
                                    return Ok(self.exit_group(ExitStatus::Signaled(libc::SIGSEGV)));
                                }
                                continue;
                            }
                            _ => return Ok(self.exit_group(ExitStatus::Signaled(f.signo))),
                        }
                    }
                },
                // Sent by the Sentry to bring the guest back for a signal: delivered below.
                Event::Signal(platform::KICK_SIGNAL) => {}
                Event::Signal(sig) => {
                    tracing::info!(sig, "signal from outside");
                    self.sigq.process.post(super::signal::SigInfo::new(sig, super::signal::SI_KERNEL));
                }
            }
            if self.exit.is_none() {
                self.deliver_signals(syscall);
            }
            if let Some(e) = self.exit {
                return Ok(e);
            }
        }
    }

    /// Ends the thread group (exit_group, a fatal signal): every thread ends, and the process
    /// with `status` unless another thread decided first. Returns the task's status.
    pub fn exit_group(&mut self, status: ExitStatus) -> ExitStatus {
        let s = self.sigq.process.begin_exit(status);
        self.exit = Some(s);
        s
    }

    /// A signal the kernel raises for the task itself (SIGPIPE, SIGXFSZ...) or the task sends
    /// itself: delivered before the task returns to guest code.
    pub fn force_signal(&mut self, sig: i32, code: i32) {
        if sig == libc::SIGKILL {
            self.exit_group(ExitStatus::Signaled(sig));
            return;
        }
        self.sigq.post(super::signal::SigInfo::from_process(sig, code, self.tgid, self.creds.uid));
    }

    /// After the run loop: the thread leaves its process (its clear_child_tid word is zeroed
    /// and woken, its robust futexes released). The last thread out gets the process's status,
    /// the others None.
    pub fn leave(&mut self, status: ExitStatus) -> Option<ExitStatus> {
        crate::syscalls::futex::exit_robust_list(self);
        // Gone from the process (and /proc/<pid>/task) before a joiner can wake.
        if self.tid != self.tgid {
            self.kernel.procs.thread_exited(self.tid);
        }
        let end = self.sigq.process.remove_thread(self.tid, status);
        if self.clear_child_tid != 0 && self.mm.copy_out(self.clear_child_tid, &0u32.to_le_bytes()).is_ok() {
            crate::syscalls::futex::wake(self, self.clear_child_tid, 1);
        }
        end
    }

    /// Sets the blocked mask (SIGKILL and SIGSTOP stay unblocked).
    pub fn set_mask(&mut self, mask: u64) {
        self.signals.mask = mask & !UNBLOCKABLE;
        self.sigq.set_blocked(self.signals.mask);
    }

    /// Tells senders what the process ignores (after a disposition change; the blocked mask is
    /// published by [`Task::set_mask`]).
    pub fn publish_signal_state(&self) {
        use super::signal::{action, bit, Action, SA_NOCLDSTOP};
        let actions = self.signals.lock();
        let ignored = (1..=64).filter(|&s| matches!(action(s, &actions[s as usize - 1]), Action::Ignore)).fold(0, |m, s| m | bit(s));
        let no_child_stop = actions[libc::SIGCHLD as usize - 1].sa_flags & SA_NOCLDSTOP != 0;
        drop(actions);
        self.sigq.process.set_dispositions(ignored, no_child_stop);
    }

    /// Delivers the first pending, unblocked signal: its default action, or a handler frame.
    /// After a system call that a signal cut short (rax holds a kernel restart code) this also
    /// decides, as Linux does, between EINTR and running the call again.
    pub fn deliver_signals(&mut self, after_syscall: bool) {
        use super::signal::{action, Action, SA_RESTART};
        let code = -(self.regs.0.rax as i64);
        let restart_code = after_syscall && (self.regs.0.orig_rax as i64) >= 0 && [Errno::ERESTARTSYS, Errno::ERESTARTNOINTR, Errno::ERESTARTNOHAND].iter().any(|e| i64::from(e.raw()) == code);
        // The common case, after nearly every system call: nothing to do, and no lock taken.
        if !restart_code && self.saved_mask.is_none() && !self.sigq.may_deliver(self.signals.mask) {
            return;
        }
        loop {
            let continues = self.sigq.process.continues();
            let Some(info) = self.sigq.take(self.signals.mask) else {
                // Another thread stopped the process: this one stops too, until SIGCONT (or a
                // SIGKILL, taken on the next round).
                if let Some(c) = self.sigq.process.group_stopped() {
                    self.sigq.process.wait_stopped(c, &self.sigq);
                    continue;
                }
                break;
            };
            let sig = info.signo();
            match action(sig, &self.signals.action(sig)) {
                Action::Ignore => continue,
                // A terminal's stop signals are discarded in an orphaned process group: no
                // job-control shell is there to continue it.
                Action::Stop if sig != libc::SIGSTOP && self.kernel.procs.pgrp_orphaned(self.tgid) => continue,
                Action::Stop => {
                    // The process stops until SIGCONT, every thread of it; its parent learns
                    // of the stop and of the continue.
                    if !self.sigq.process.begin_stop(continues) {
                        continue;
                    }
                    let uid = self.creds.uid;
                    self.kernel.procs.stopped_or_continued(self.tgid, Some(sig), uid);
                    self.sigq.process.wait_stopped(continues, &self.sigq);
                    if self.sigq.pending() & super::signal::bit(libc::SIGKILL) == 0 {
                        self.kernel.procs.stopped_or_continued(self.tgid, None, uid);
                    }
                    continue;
                }
                Action::Terminate => {
                    self.exit_group(ExitStatus::Signaled(sig));
                    return;
                }
                Action::Handler(a) => {
                    if restart_code {
                        let restart = code == i64::from(Errno::ERESTARTNOINTR.raw()) || (code == i64::from(Errno::ERESTARTSYS.raw()) && a.sa_flags & SA_RESTART != 0);
                        if restart {
                            self.restart_syscall();
                        } else {
                            self.regs.0.rax = -i64::from(Errno::EINTR.raw()) as u64;
                        }
                    }
                    if self.setup_frame(&a, &info, 0).is_err() {
                        self.exit_group(ExitStatus::Signaled(libc::SIGSEGV));
                    }
                    return;
                }
            }
        }
        if restart_code {
            self.restart_syscall();
        }
        if let Some(m) = self.saved_mask.take() {
            self.set_mask(m);
        }
    }

    /// Rewinds the guest to its `syscall` instruction (two bytes) with the number back in rax.
    fn restart_syscall(&mut self) {
        self.regs.0.rax = self.regs.0.orig_rax;
        self.regs.0.rip -= 2;
    }

    /// Whether the guest runs on its sigaltstack now (Linux's on_sig_stack).
    pub fn on_altstack(&self) -> bool {
        self.altstack.is_some_and(|(sp, size)| self.regs.0.rsp.wrapping_sub(sp) < size)
    }

    /// Builds the x86-64 rt_sigframe for `sig` on the guest's stack (or its sigaltstack) and
    /// points the registers at the handler.
    pub fn setup_frame(&mut self, act: &Sigaction, info: &super::signal::SigInfo, fault_addr: u64) -> Result<(), Errno> {
        let sig = info.signo();
        use super::signal::{sigcontext_regs, SA_NODEFER, SA_ONSTACK, SA_RESETHAND};
        super::patch::before_frame(self);
        let fpu = self.ctx.fpu_state().map_err(|_| Errno::EFAULT)?;
        // Guest-given stack values: the arithmetic wraps, and a frame that lands nowhere
        // fails to copy out, which ends in SIGSEGV as on Linux.
        let on_alt = self.on_altstack();
        let mut sp = match self.altstack {
            Some((ss, size)) if act.sa_flags & SA_ONSTACK != 0 && !on_alt => ss.wrapping_add(size),
            _ => self.regs.0.rsp.wrapping_sub(128), // past the red zone
        };
        sp = sp.wrapping_sub(fpu.0.len() as u64) & !63;
        let fp_at = sp;
        self.mm.copy_out(fp_at, &fpu.0)?;
        // pretcode, ucontext (304 bytes), siginfo (128 bytes); rsp ends 8 mod 16, as after a call.
        sp = (sp.wrapping_sub(8 + 304 + 128) & !15).wrapping_sub(8);
        let uc = sp.wrapping_add(8);
        let si = uc.wrapping_add(304);
        let old_mask = self.saved_mask.take().unwrap_or(self.signals.mask);
        let mut u = [0u8; 304];
        let put = |u: &mut [u8; 304], off: usize, v: u64| u[off..off + 8].copy_from_slice(&v.to_le_bytes());
        if let Some((ss, size)) = self.altstack {
            put(&mut u, 16, ss);
            put(&mut u, 24, u64::from(on_alt));
            put(&mut u, 32, size);
        }
        for (i, v) in sigcontext_regs(&self.regs.0).iter().enumerate() {
            put(&mut u, 40 + 8 * i, *v);
        }
        u[40 + 144..40 + 146].copy_from_slice(&0x33u16.to_le_bytes());
        u[40 + 150..40 + 152].copy_from_slice(&0x2bu16.to_le_bytes());
        put(&mut u, 40 + 168, old_mask);
        put(&mut u, 40 + 176, fault_addr);
        put(&mut u, 40 + 184, fp_at);
        put(&mut u, 296, old_mask);
        self.mm.copy_out(sp, &act.sa_restorer.to_le_bytes())?;
        self.mm.copy_out(uc, &u)?;
        self.mm.copy_out(si, &info.0)?;
        let r = &mut self.regs.0;
        r.rsp = sp;
        r.rip = act.sa_handler;
        r.rdi = sig as u64;
        r.rsi = si;
        r.rdx = uc;
        r.rax = 0;
        let mut mask = old_mask | act.sa_mask;
        if act.sa_flags & SA_NODEFER == 0 {
            mask |= super::signal::bit(sig);
        }
        self.set_mask(mask);
        if act.sa_flags & SA_RESETHAND != 0 {
            self.signals.set_action(sig, Sigaction::default());
            self.publish_signal_state();
        }
        Ok(())
    }
}
