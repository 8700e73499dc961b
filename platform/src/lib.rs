//! Platforms run guest code and hand every guest system call, fault and signal back to the
//! Sentry as an [`Event`].
//!
//! A platform owns the host mechanism (ptrace today; systrap and KVM later) and nothing of the
//! kernel's semantics: it maps windows of the memory file where the Sentry says, switches into
//! a guest thread with the registers the Sentry gives, and reports why the guest stopped. This
//! crate holds most of the project's `unsafe`; each block says why it holds.

pub mod patch;
pub mod ptrace;
pub mod seccomp;
pub mod systrap;
mod stub;
mod regs;

use std::ops::Range;
use std::os::fd::RawFd;

pub use regs::{FpuState, Registers};

/// Page size of x86-64 guests.
pub const PAGE_SIZE: u64 = 4096;

/// The host signal that makes a running guest thread stop and come back to the Sentry (as
/// [`Event::Signal`] with this number), so that a signal for the guest is delivered even while
/// it computes without making system calls. It means nothing to the guest.
pub const KICK_SIGNAL: i32 = 40;

/// Makes the guest thread running on host thread `host_tid` (see [`Context::host_tid`]) come
/// back to the Sentry soon. Harmless when it is already there: the thread then comes back once
/// more, at once, after its next switch.
pub fn kick(host_tid: i32) {
    // SAFETY: tkill(2) of one thread with a plain signal number; the stub handles or reports
    // it. (kill(2) would hand it to any thread of a stub running several.)
    unsafe { libc::syscall(libc::SYS_tkill, host_tid, KICK_SIGNAL) };
}

const MEMBARRIER_CMD_GLOBAL: i32 = 1;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED: i32 = 1 << 1;
/// What a stub registers with, so that the platform's barrier reaches it by IPI.
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: u64 = 1 << 2;
/// Whether every stub so far registered for MEMBARRIER_CMD_GLOBAL_EXPEDITED.
static STUBS_REGISTERED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Notes how a new stub's registration for the expedited barrier went.
fn stub_registered<T, E>(r: Result<T, E>) {
    if r.is_err() {
        STUBS_REGISTERED.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A raw system call result from a stub (-errno on failure), as a Result.
fn raw_result(r: i64, op: &'static str) -> Result<i64, PlatformError> {
    if (-4095..0).contains(&r) {
        return Err(PlatformError::Host { op, source: std::io::Error::from_raw_os_error(-r as i32) });
    }
    Ok(r)
}

/// A host CPU clock of process `pid` (CPUCLOCK_PROF, _VIRT or _SCHED: 0, 1, 2) in
/// nanoseconds. Linux lets another process's clock be read, a thread's only from within its
/// own process.
pub fn process_cpu_clock(pid: i32, which: i32) -> Result<u64, PlatformError> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid out-pointer.
    if unsafe { libc::clock_gettime((!pid << 3) | which, &mut ts) } != 0 {
        return Err(PlatformError::last_os("clock_gettime of a stub's CPU clock"));
    }
    Ok(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

fn host_membarrier(cmd: i32) -> Result<(), PlatformError> {
    // SAFETY: membarrier takes no pointers.
    if unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) } != 0 {
        return Err(PlatformError::last_os("membarrier"));
    }
    Ok(())
}

/// Memory protection of a mapping, as PROT_* bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Prot {
    /// PROT_READ.
    pub read: bool,
    /// PROT_WRITE.
    pub write: bool,
    /// PROT_EXEC.
    pub exec: bool,
}

impl Prot {
    /// No access.
    pub const NONE: Prot = Prot { read: false, write: false, exec: false };
    /// Read and write.
    pub const RW: Prot = Prot { read: true, write: true, exec: false };

    /// From PROT_* bits (other bits ignored).
    pub fn from_bits(bits: u64) -> Prot {
        Prot { read: bits & 1 != 0, write: bits & 2 != 0, exec: bits & 4 != 0 }
    }

    /// To PROT_* bits.
    pub fn bits(self) -> u64 {
        u64::from(self.read) | (u64::from(self.write) << 1) | (u64::from(self.exec) << 2)
    }

    /// Both protections' permissions together.
    pub fn union(self, o: Prot) -> Prot {
        Prot { read: self.read || o.read, write: self.write || o.write, exec: self.exec || o.exec }
    }
}

/// Why a guest thread stopped running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The guest executed `syscall`; the number and arguments are in the registers, and `rip`
    /// already points after the instruction.
    Syscall,
    /// A synchronous fault the guest's own instruction caused (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
    /// SIGTRAP).
    Fault(FaultInfo),
    /// A signal sent to the guest's host thread from outside (a terminal's SIGINT, say).
    Signal(i32),
}

/// What the host's siginfo said about a synchronous fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultInfo {
    /// The signal (SIGSEGV...).
    pub signo: i32,
    /// si_code (SEGV_MAPERR, SEGV_ACCERR, ...).
    pub code: i32,
    /// The faulting address (si_addr).
    pub addr: u64,
}

/// Errors of the host mechanism. Any of them ends the guest: the Sentry reports it and exits.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// A host call the platform needs failed.
    #[error("{op} failed: {source}")]
    Host {
        /// What the platform was doing.
        op: &'static str,
        /// The host error.
        source: std::io::Error,
    },
    /// The stub process died under us (killed from outside, or by its own seccomp filter).
    #[error("the stub process {pid} died unexpectedly ({how})")]
    StubDied {
        /// Host pid of the stub.
        pid: i32,
        /// "exit status N" or "signal N".
        how: String,
    },
    /// The stub stopped in a way the platform did not expect.
    #[error("the stub process {pid} stopped unexpectedly: {what}")]
    Unexpected {
        /// Host pid of the stub.
        pid: i32,
        /// A description of the stop.
        what: String,
    },
}

impl PlatformError {
    /// Wraps the current host errno for `op`.
    pub fn last_os(op: &'static str) -> PlatformError {
        PlatformError::Host { op, source: std::io::Error::last_os_error() }
    }
}

/// A fresh address space and the context of its first thread.
pub type NewAddressSpace = (Box<dyn AddressSpace>, Box<dyn Context>);

/// A host mechanism for running guests.
pub trait Platform: Send + Sync {
    /// The platform's name ("ptrace").
    fn name(&self) -> &'static str;

    /// The guest addresses that can be mapped: from mmap_min_addr to below the stub.
    fn user_range(&self) -> Range<u64>;

    /// Creates an empty address space with one guest thread in it, whose context is bound to
    /// the calling host thread: only it may switch into it (a context is not `Send`).
    fn new_address_space(&self) -> Result<NewAddressSpace, PlatformError>;

    /// The fast system-call path patched sites may jump to (see [`patch`]), when the platform
    /// has one and patching is on.
    fn fast_path(&self) -> Option<patch::FastPath> {
        None
    }
    /// A memory barrier on every thread running guest code (membarrier's expedited commands):
    /// each passes through a state where its memory accesses match program order. The host's
    /// expedited global barrier, which IPIs the CPUs running stubs (every stub registers for
    /// it); the plain global one (which waits for every CPU: slow but sure) if one could not.
    fn membarrier(&self) -> Result<(), PlatformError> {
        let all_registered = STUBS_REGISTERED.load(std::sync::atomic::Ordering::Relaxed);
        host_membarrier(if all_registered { MEMBARRIER_CMD_GLOBAL_EXPEDITED } else { MEMBARRIER_CMD_GLOBAL })
    }
}

/// The mappings of one guest address space. Every mapping is a window of the memory file.
///
/// Changes are made by a guest thread of the address space that is stopped in the Sentry:
/// the one whose context the calling host thread drives (each Sentry thread changes mappings
/// only while it serves one of the address space's threads).
pub trait AddressSpace: Send {
    /// Maps `[addr, addr+len)` to the memory file at `offset` with `prot`, replacing what was
    /// there. `addr`, `len` and `offset` are page-aligned.
    fn map(&mut self, addr: u64, len: u64, prot: Prot, offset: u64) -> Result<(), PlatformError>;
    /// Makes each `(addr, len, prot, offset)` mapping as [`map`](Self::map) does, in order,
    /// stopping at the first failure (systrap makes them in one hand-off).
    fn map_all(&mut self, maps: &[(u64, u64, Prot, u64)]) -> Result<(), PlatformError> {
        maps.iter().try_for_each(|&(addr, len, prot, offset)| self.map(addr, len, prot, offset))
    }
    /// Unmaps `[addr, addr+len)`.
    fn unmap(&mut self, addr: u64, len: u64) -> Result<(), PlatformError>;
    /// Changes the protection of `[addr, addr+len)`.
    fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), PlatformError>;
}

/// One guest thread's execution context.
pub trait Context {
    /// Runs the guest with `regs` until the next event, then stores its registers back.
    fn switch(&mut self, regs: &mut Registers) -> Result<Event, PlatformError>;
    /// Reads the full FPU/SSE/AVX state (XSAVE layout).
    fn fpu_state(&mut self) -> Result<FpuState, PlatformError>;
    /// Writes the full FPU/SSE/AVX state.
    fn set_fpu_state(&mut self, state: &FpuState) -> Result<(), PlatformError>;
    /// The host thread id running the guest thread.
    fn host_tid(&self) -> i32;
    /// The host process id of the address space, for CPU-time clocks.
    fn host_pid(&self) -> i32;
    /// Creates another guest thread in this context's address space, stopped; the host thread
    /// that will drive it binds it with [`NewThread::start`].
    fn new_thread(&mut self) -> Result<Box<dyn NewThread>, PlatformError>;
    /// Empties this context's address space (execve, once the context is its only thread):
    /// every guest mapping goes, and the returned handle maps the new image. Cheaper than a
    /// new address space, which needs a new stub.
    fn fresh_address_space(&mut self) -> Result<Box<dyn AddressSpace>, PlatformError>;
    /// The guest may have changed its FS or GS base behind the Sentry's back (`wrfsbase`,
    /// `wrgsbase`): the next switch sets both from the registers, whatever the platform last
    /// set. arch_prctl's ARCH_SET_FS and ARCH_SET_GS call it.
    fn reload_bases(&mut self) {}
    /// Whether the last [`Event::Syscall`] came the slow way, by a trap that patching its site
    /// (see [`Platform::fast_path`]) would spare.
    fn syscall_trapped(&self) -> bool {
        false
    }
    /// The CPU time the guest thread has used (its host thread's clock), where the platform can
    /// read it; None where only the process's clock ([`Context::host_pid`]) can be.
    fn thread_cpu_time(&mut self) -> Option<std::time::Duration> {
        None
    }
    /// The address space's host process clocks ([`process_cpu_clock`]'s three) when it was
    /// given to this guest process: a stub may have served another process before, whose time
    /// is not this one's. Zeros for a new stub.
    fn cpu_base(&self) -> [u64; 3] {
        [0; 3]
    }
}

/// A guest thread made by [`Context::new_thread`], not yet bound to a host thread.
pub trait NewThread: Send {
    /// Binds the thread to the calling host thread and returns its context.
    fn start(self: Box<Self>) -> Result<Box<dyn Context>, PlatformError>;
}

/// Options every platform understands.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The memory file's descriptor in the Sentry; stubs map windows of it.
    pub memory_fd: RawFd,
    /// Keep each tracer thread and its guest thread on one CPU (see DESIGN.md: a hand-off on
    /// one CPU costs ~3 us, across vCPUs ~40 us).
    pub pin_cpu: bool,
    /// systrap: offer the fast path that syscall-site patching jumps to (see [`patch`]).
    pub patching: bool,
}
