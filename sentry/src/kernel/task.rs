//! A Task is one guest thread; its run loop switches into the guest through the platform and
//! serves whatever comes back: a system call, a fault or a signal.

use std::sync::Arc;

use platform::{Context, Event, PlatformError, Registers};
use syscalls::structs::{Rlimit, Sigaction};

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

/// Signal state: dispositions and the blocked mask. Delivery comes with processes.
pub struct SignalState {
    /// Dispositions, index signo-1.
    pub actions: [Sigaction; 64],
    /// Blocked signals.
    pub mask: u64,
}

/// Number of RLIMIT_* resources.
pub const RLIM_NLIMITS: usize = 16;
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
    /// The address space.
    pub mm: MemoryManager,
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
    /// Set when the thread group is done.
    pub exit: Option<ExitStatus>,
}

/// Signals whose default action is to do nothing.
fn ignored_by_default(sig: i32) -> bool {
    matches!(sig, libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT)
}

/// Job-control stops; stopping comes with process groups, until then they are ignored.
fn stops_by_default(sig: i32) -> bool {
    matches!(sig, libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU)
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
        loop {
            match self.ctx.switch(&mut self.regs)? {
                Event::Syscall => {
                    crate::syscalls::dispatch(self);
                    if let Some(e) = self.exit {
                        return Ok(e);
                    }
                }
                Event::Fault(f) => {
                    // Handlers are not delivered yet: a fault takes its default action.
                    tracing::info!(signo = f.signo, code = f.code, addr = f.addr, ip = self.regs.ip(), "guest fault");
                    return Ok(ExitStatus::Signaled(f.signo));
                }
                Event::Signal(sig) => {
                    let disposition = self.signals.actions.get(sig as usize - 1).map_or(0, |a| a.sa_handler);
                    tracing::info!(sig, disposition, "signal from outside");
                    if disposition == 1 || ignored_by_default(sig) || stops_by_default(sig) {
                        continue;
                    }
                    return Ok(ExitStatus::Signaled(sig));
                }
            }
        }
    }

    /// Ends the thread group (exit_group).
    pub fn exit_group(&mut self, status: ExitStatus) {
        self.exit = Some(status);
    }

    /// A signal the kernel raises for the task itself (SIGPIPE, SIGXFSZ...): until delivery
    /// exists, a signal that is neither ignored nor blocked takes its default action.
    pub fn force_signal(&mut self, sig: i32) {
        let idx = sig as usize - 1;
        let ignored = self.signals.actions[idx].sa_handler == 1 || ignored_by_default(sig) || stops_by_default(sig);
        let blocked = self.signals.mask & (1 << idx) != 0 && sig != libc::SIGKILL;
        if sig == libc::SIGKILL || (!ignored && !blocked && self.signals.actions[idx].sa_handler == 0) {
            self.exit = Some(ExitStatus::Signaled(sig));
        }
    }
}
