//! The ptrace platform: one stub process per guest address space, driven with PTRACE_SYSEMU.
//!
//! A stub is a clone of the Sentry (made with CLONE_UNTRACED, so a host strace cannot take it
//! over) that strips itself down to one page of code at the top of the address space:
//!
//! ```text
//!   stub+0   int3            the stub stops here once set up
//!   stub+16  syscall; int3   injected system calls (mmap, munmap, mprotect of memory-file
//!                            windows; exit of a thread) run here
//!   stub+32  syscall; ...    a new thread's clone: the parent traps on an int3, the child
//!                            parks in a futex wait until its own tracer seizes it
//! ```
//!
//! The stub's seccomp filter kills the process for a system call from any other instruction
//! pointer or with any other number (and clone only with the thread flags).
//!
//! Guest code runs in the stub under PTRACE_SYSEMU: every `syscall` it executes stops at entry
//! and is never executed by the host, whatever its number; the Sentry serves it and writes the
//! result into rax. Faults arrive as signal-delivery stops and are suppressed (the Sentry
//! decides what the guest sees). Each guest thread is a thread of the stub traced by the Sentry
//! thread that serves it, so a context is tied to the thread that made or started it (it is
//! not `Send`); address-space changes are injected into the thread the calling Sentry thread
//! traces.

use std::io;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::stub::{self, Allowed};
use crate::{AddressSpace, Context, Event, NewAddressSpace, NewThread, FaultInfo, FpuState, Options, Platform, PlatformError, Prot, Registers, PAGE_SIZE};

/// The stub's code page, then a page of its own memory (what injected calls write, such as a
/// thread's CPU clock). Offsets below are into the code page.
const STUB_SIZE: u64 = 2 * PAGE_SIZE;
const STUB_SCRATCH: u64 = PAGE_SIZE;
const STUB_SYSCALL_OFFSET: u64 = 16;
/// Where the instruction pointer is when the injected syscall's trailing int3 traps.
const STUB_AFTER_INJECT: u64 = STUB_SYSCALL_OFFSET + 3;
const STUB_CLONE_OFFSET: u64 = 32;
/// Where the parent of a clone traps: after the int3 at 39.
const STUB_AFTER_CLONE: u64 = 40;
/// The code: int3 at 0 (initial stop); `syscall; int3` at 16; at 32 a thread's clone:
/// `syscall; test rax, rax; jz 40; int3` (the parent traps), then the child's parking loop at
/// 40: `mov eax, 202; lea rdi, [park]; xor esi, esi; xor edx, edx; xor r10, r10; syscall;
/// jmp 40` (FUTEX_WAIT on `park`, a zero word at 64); int3 everywhere else.
static STUB_CODE: [u8; 68] = [
    0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, // 0
    0x0f, 0x05, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, // 16
    0x0f, 0x05, // 32: syscall
    0x48, 0x85, 0xc0, // 34: test rax, rax
    0x74, 0x01, // 37: jz 40
    0xcc, // 39: int3
    0xb8, 0xca, 0x00, 0x00, 0x00, // 40: mov eax, 202 (futex)
    0x48, 0x8d, 0x3d, 0x0c, 0x00, 0x00, 0x00, // 45: lea rdi, [rip+12] (64)
    0x31, 0xf6, // 52: xor esi, esi (FUTEX_WAIT)
    0x31, 0xd2, // 54: xor edx, edx (while the word is 0)
    0x4d, 0x31, 0xd2, // 56: xor r10, r10 (no timeout)
    0x0f, 0x05, // 59: syscall
    0xeb, 0xe9, // 61: jmp 40
    0xcc, // 63
    0x00, 0x00, 0x00, 0x00, // 64: park
];
/// The flags of a stub thread's clone.
const THREAD_FLAGS: u64 = (libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_FILES | libc::CLONE_SIGHAND | libc::CLONE_THREAD | libc::CLONE_SYSVSEM) as u64;
/// The only system calls the stub's filter lets through from its code: the injected ones, a
/// thread's clone and its parking, and a thread's exit.
const STUB_ALLOWED_SYSCALLS: [Allowed; 8] = [
    Allowed(libc::SYS_clock_gettime as u32, Some(libc::CLOCK_THREAD_CPUTIME_ID as u64)),
    Allowed(libc::SYS_membarrier as u32, Some(crate::MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED)),
    Allowed(libc::SYS_mmap as u32, None),
    Allowed(libc::SYS_munmap as u32, None),
    Allowed(libc::SYS_mprotect as u32, None),
    Allowed(libc::SYS_exit as u32, None),
    Allowed(libc::SYS_futex as u32, None),
    Allowed(libc::SYS_clone as u32, Some(THREAD_FLAGS)),
];
/// The ptrace platform. Cheap to share: each address space gets its own stub process.
pub struct PtracePlatform {
    opts: Options,
    stub_addr: u64,
    filter: Vec<libc::sock_filter>,
}

impl PtracePlatform {
    /// Reserves the stub's address range in the Sentry (so no Sentry mapping is ever clobbered
    /// there in a stub) and prepares the stub's seccomp filter.
    pub fn new(opts: Options) -> Result<PtracePlatform, PlatformError> {
        stub::all_cpus();
        let stub_addr = stub::reserve_region(STUB_SIZE, PAGE_SIZE)?;
        // Guest syscalls stop under PTRACE_SYSEMU before seccomp runs; what reaches the filter
        // from outside the stub (the kernel's vsyscall emulation) becomes a SIGSYS the Sentry
        // sees as a fault, rather than killing the stub.
        let filter = stub::stub_filter(stub_addr..stub_addr + PAGE_SIZE, &STUB_ALLOWED_SYSCALLS);
        Ok(PtracePlatform { opts, stub_addr, filter })
    }
}

impl Platform for PtracePlatform {
    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn user_range(&self) -> Range<u64> {
        stub::MMAP_MIN_ADDR..self.stub_addr
    }

    fn new_address_space(&self) -> Result<NewAddressSpace, PlatformError> {
        let p = Arc::new(StubProcess::spawn(self)?);
        let tid = p.pid;
        Ok((Box::new(PtraceAddressSpace { p: p.clone() }), Box::new(PtraceContext { p, tid })))
    }
}

/// How a traced stub thread stopped.
enum Stop {
    Syscall,
    Signal(i32),
    /// PTRACE_EVENT_EXIT: the thread is about to exit.
    Exiting,
}

/// One stub thread of the process, and the Sentry thread tracing it.
struct StubThread {
    tid: i32,
    /// 0 until the thread is started (a thread cloned but not yet seized counts as one of the
    /// process's: another thread's end must not take it for the last).
    tracer: i32,
    /// Signals that arrived during an injection, reported at the next switch.
    pending: Vec<i32>,
}

/// One stub process: a guest address space whose threads are traced by the Sentry threads
/// serving them.
struct StubProcess {
    pid: i32,
    stub_addr: u64,
    memory_fd: i32,
    /// Registers of the stub at its first stop: valid segment selectors and flags for injection.
    template: libc::user_regs_struct,
    threads: Mutex<Vec<StubThread>>,
}

impl StubProcess {
    fn spawn(p: &PtracePlatform) -> Result<StubProcess, PlatformError> {
        if p.opts.pin_cpu {
            // The tracer stays on the CPU it runs on (a new host thread starts on its creator's).
            stub::pin_to_current_cpu();
        }
        let prog = libc::sock_fprog { len: p.filter.len() as u16, filter: p.filter.as_ptr().cast_mut() };
        let args = stub::child_args([p.opts.memory_fd, -1], p.stub_addr, &STUB_CODE, &prog);
        let pid = stub::clone_stub(&args, stub_child)?;
        let tracer = stub::sentry_tid();
        let mut sp = StubProcess {
            pid,
            stub_addr: p.stub_addr,
            memory_fd: p.opts.memory_fd,
            template: Registers::default().0,
            threads: Mutex::new(vec![StubThread { tid: pid, tracer, pending: Vec::new() }]),
        };
        let t = Tracee { p: &sp, tid: pid };
        match t.wait()? {
            Stop::Signal(libc::SIGTRAP) => {}
            Stop::Signal(s) => return Err(PlatformError::Unexpected { pid, what: format!("signal {s} during setup") }),
            _ => return Err(PlatformError::Unexpected { pid, what: "syscall stop during setup".into() }),
        }
        let opts = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD;
        t.ptrace(libc::PTRACE_SETOPTIONS, 0, opts as u64, "PTRACE_SETOPTIONS")?;
        let template = t.get_regs()?;
        sp.template = template;
        let t = Tracee { p: &sp, tid: pid };
        // Strip the copy of the Sentry: everything but the stub page goes.
        t.inject_checked(libc::SYS_munmap, [0, p.stub_addr, 0, 0, 0, 0], "munmap in the stub")?;
        let end = p.stub_addr + STUB_SIZE;
        if end < stub::TASK_SIZE {
            t.inject_checked(libc::SYS_munmap, [end, stub::TASK_SIZE - end, 0, 0, 0, 0], "munmap in the stub")?;
        }
        let scratch = [p.stub_addr + STUB_SCRATCH, PAGE_SIZE, (libc::PROT_READ | libc::PROT_WRITE) as u64, (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED) as u64, u64::MAX, 0];
        t.inject_checked(libc::SYS_mmap, scratch, "mmap of the stub's own page")?;
        // So that the platform's barrier reaches the stub by IPI (see Platform::membarrier).
        crate::stub_registered(t.inject_checked(libc::SYS_membarrier, [crate::MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0, 0, 0, 0], "membarrier registration"));
        Ok(sp)
    }

    fn threads(&self) -> MutexGuard<'_, Vec<StubThread>> {
        self.threads.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The thread the calling Sentry thread traces: address-space changes are injected there.
    fn traced(&self) -> Result<Tracee<'_>, PlatformError> {
        let me = stub::sentry_tid();
        let tid = self.threads().iter().find(|t| t.tracer == me).map(|t| t.tid);
        tid.map(|tid| Tracee { p: self, tid }).ok_or_else(|| PlatformError::Unexpected { pid: self.pid, what: "an address-space change from a Sentry thread that traces none of its threads".into() })
    }
}

impl Drop for StubProcess {
    fn drop(&mut self) {
        // SAFETY: killing and reaping our own child (pid > 0: never a process group).
        unsafe {
            if self.pid > 0 {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), libc::__WALL);
            }
        }
    }
}

/// One stub thread, as its tracer (the calling Sentry thread) sees it.
struct Tracee<'a> {
    p: &'a StubProcess,
    tid: i32,
}

impl Tracee<'_> {
    fn ptrace(&self, req: libc::c_uint, addr: u64, data: u64, op: &'static str) -> Result<(), PlatformError> {
        // SAFETY: requests used here either take no pointer or a pointer the caller made valid
        // for the request's size; the tracee is a thread of our child.
        let r = unsafe { libc::ptrace(req, self.tid, addr as *mut libc::c_void, data as *mut libc::c_void) };
        if r < 0 {
            return Err(self.host_error(op));
        }
        Ok(())
    }

    /// Turns a ptrace failure into an error; ESRCH means the stub died.
    fn host_error(&self, op: &'static str) -> PlatformError {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ESRCH) {
            if let Err(died) = self.wait() {
                return died;
            }
        }
        PlatformError::Host { op, source: e }
    }

    fn get_regs(&self) -> Result<libc::user_regs_struct, PlatformError> {
        let mut r = Registers::default().0;
        self.ptrace(libc::PTRACE_GETREGS, 0, &mut r as *mut _ as u64, "PTRACE_GETREGS")?;
        Ok(r)
    }

    fn set_regs(&self, r: &libc::user_regs_struct) -> Result<(), PlatformError> {
        self.ptrace(libc::PTRACE_SETREGS, 0, r as *const _ as u64, "PTRACE_SETREGS")
    }

    /// Waits for the next stop of the thread.
    fn wait(&self) -> Result<Stop, PlatformError> {
        let mut status = 0;
        loop {
            // SAFETY: `status` is a valid out-pointer; waiting on a thread we trace.
            let r = unsafe { libc::waitpid(self.tid, &mut status, libc::__WALL) };
            if r == self.tid {
                break;
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(PlatformError::Host { op: "waitpid on the stub", source: e });
            }
        }
        if libc::WIFSTOPPED(status) {
            let sig = libc::WSTOPSIG(status);
            if sig == libc::SIGTRAP | 0x80 {
                return Ok(Stop::Syscall);
            }
            if status >> 16 == libc::PTRACE_EVENT_EXIT {
                return Ok(Stop::Exiting);
            }
            return Ok(Stop::Signal(sig));
        }
        Err(stub::describe_death(self.p.pid, status))
    }

    /// Runs one system call in the stub at `site` and returns its raw result, read when the
    /// thread traps with its instruction pointer at `after`.
    fn inject_at(&self, site: u64, after: u64, nr: libc::c_long, args: [u64; 6]) -> Result<i64, PlatformError> {
        let mut r = self.p.template;
        r.rip = self.p.stub_addr + site;
        r.rax = nr as u64;
        r.orig_rax = u64::MAX;
        [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9] = args;
        self.set_regs(&r)?;
        self.ptrace(libc::PTRACE_CONT, 0, 0, "PTRACE_CONT")?;
        let pid = self.p.pid;
        loop {
            match self.wait()? {
                Stop::Signal(libc::SIGTRAP) => {
                    let at = self.get_regs()?;
                    if at.rip == self.p.stub_addr + after {
                        return Ok(at.rax as i64);
                    }
                    return Err(PlatformError::Unexpected { pid, what: format!("trap at {:#x} during an injected syscall", at.rip) });
                }
                Stop::Signal(sig @ (libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE)) => {
                    let at = self.get_regs()?.rip;
                    return Err(PlatformError::Unexpected { pid, what: format!("signal {sig} at {at:#x} during an injected syscall") });
                }
                Stop::Signal(sig) => {
                    // A signal from outside arrived first: keep it for the guest, finish the call.
                    if let Some(t) = self.p.threads().iter_mut().find(|t| t.tid == self.tid) {
                        t.pending.push(sig);
                    }
                    self.ptrace(libc::PTRACE_CONT, 0, 0, "PTRACE_CONT")?;
                }
                Stop::Syscall | Stop::Exiting => return Err(PlatformError::Unexpected { pid, what: "syscall stop during an injected syscall".into() }),
            }
        }
    }

    /// The word at `addr` in the stub (PTRACE_PEEKDATA).
    fn peek(&self, addr: u64) -> Result<u64, PlatformError> {
        // SAFETY: PEEKDATA reads the tracee's memory and returns the word; no pointer of ours.
        // errno tells a word of -1 from a failure.
        unsafe {
            *libc::__errno_location() = 0;
            let v = libc::ptrace(libc::PTRACE_PEEKDATA, self.tid, addr as *mut libc::c_void, std::ptr::null_mut::<libc::c_void>());
            if v == -1 && *libc::__errno_location() != 0 {
                return Err(self.host_error("PTRACE_PEEKDATA"));
            }
            Ok(v as u64)
        }
    }

    fn inject_checked(&self, nr: libc::c_long, args: [u64; 6], op: &'static str) -> Result<i64, PlatformError> {
        let r = self.inject_at(STUB_SYSCALL_OFFSET, STUB_AFTER_INJECT, nr, args)?;
        crate::raw_result(r, op)
    }

    /// Ends the thread (the process lives on with its other threads): it exits, and is let go
    /// at its exit stop so that nobody needs to reap it.
    fn end(&self) -> Result<(), PlatformError> {
        let opts = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD | libc::PTRACE_O_TRACEEXIT;
        self.ptrace(libc::PTRACE_SETOPTIONS, 0, opts as u64, "PTRACE_SETOPTIONS")?;
        let mut r = self.p.template;
        r.rip = self.p.stub_addr + STUB_SYSCALL_OFFSET;
        r.rax = libc::SYS_exit as u64;
        r.orig_rax = u64::MAX;
        r.rdi = 0;
        self.set_regs(&r)?;
        self.ptrace(libc::PTRACE_CONT, 0, 0, "PTRACE_CONT")?;
        loop {
            match self.wait()? {
                Stop::Exiting => return self.ptrace(libc::PTRACE_DETACH, 0, 0, "PTRACE_DETACH"),
                _ => self.ptrace(libc::PTRACE_CONT, 0, 0, "PTRACE_CONT")?,
            }
        }
    }
}

/// The ptrace stub's life between clone and its first stop: the common stripping, then
/// PTRACE_TRACEME, its filter, and the int3 at the start of its code.
///
/// # Safety
/// Only in a child just cloned by `stub::clone_stub`.
unsafe fn stub_child(a: &stub::ChildArgs) -> ! {
    // SAFETY: we are the stub child; these are raw system calls on copied data.
    unsafe {
        stub::child_common(a);
        let empty = 0u64;
        stub::sys(libc::SYS_rt_sigprocmask, [libc::SIG_SETMASK as u64, &empty as *const u64 as u64, 0, 8, 0, 0]);
        if stub::sys(libc::SYS_ptrace, [u64::from(libc::PTRACE_TRACEME), 0, 0, 0, 0, 0]) != 0 {
            stub::child_fail(8);
        }
        stub::child_enter(a, a.code_addr)
    }
}

struct PtraceAddressSpace {
    p: Arc<StubProcess>,
}

impl PtraceAddressSpace {
    fn inject(&self, nr: libc::c_long, args: [u64; 6], op: &'static str) -> Result<(), PlatformError> {
        self.p.traced()?.inject_checked(nr, args, op).map(|_| ())
    }
}

impl AddressSpace for PtraceAddressSpace {
    fn map(&mut self, addr: u64, len: u64, prot: Prot, offset: u64) -> Result<(), PlatformError> {
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        // The memory file keeps the Sentry's descriptor number in the stub.
        let fd = self.p.memory_fd as u64;
        self.inject(libc::SYS_mmap, [addr, len, prot.bits(), flags, fd, offset], "mmap in the stub")
    }

    fn unmap(&mut self, addr: u64, len: u64) -> Result<(), PlatformError> {
        self.inject(libc::SYS_munmap, [addr, len, 0, 0, 0, 0], "munmap in the stub")
    }

    fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), PlatformError> {
        self.inject(libc::SYS_mprotect, [addr, len, prot.bits(), 0, 0, 0], "mprotect in the stub")
    }
}

/// One guest thread: a stub thread traced by the Sentry thread that made or started it.
struct PtraceContext {
    p: Arc<StubProcess>,
    tid: i32,
}

impl PtraceContext {
    fn tracee(&self) -> Tracee<'_> {
        Tracee { p: &self.p, tid: self.tid }
    }
}

impl Drop for PtraceContext {
    fn drop(&mut self) {
        // The last thread goes with the stub process; any other ends alone.
        let others = {
            let mut threads = self.p.threads();
            threads.retain(|t| t.tid != self.tid);
            !threads.is_empty()
        };
        if others {
            if let Err(e) = self.tracee().end() {
                tracing::debug!("ending a stub thread: {e}");
            }
            return;
        }
        // The last thread: the stub process goes, and its tracer reaps this thread (a traced
        // thread's end is reported to its tracer, and the process cannot be reaped before).
        // SAFETY: killing our own child (pid > 0: never a process group) and reaping a thread
        // we trace.
        unsafe {
            if self.p.pid > 0 {
                libc::kill(self.p.pid, libc::SIGKILL);
            }
            let mut status = 0;
            while libc::waitpid(self.tid, &mut status, libc::__WALL) == self.tid && libc::WIFSTOPPED(status) {}
        }
    }
}

/// A stub thread made by a clone in the stub, parked untraced until a Sentry thread seizes it.
struct PtraceThread {
    p: Arc<StubProcess>,
    tid: i32,
    started: bool,
}

impl Drop for PtraceThread {
    /// A thread never started leaves the process's list (its stub thread stays parked, and
    /// goes with the process).
    fn drop(&mut self) {
        if !self.started {
            self.p.threads().retain(|t| t.tid != self.tid);
        }
    }
}

impl NewThread for PtraceThread {
    fn start(mut self: Box<Self>) -> Result<Box<dyn Context>, PlatformError> {
        let tracer = stub::sentry_tid();
        if let Some(t) = self.p.threads().iter_mut().find(|t| t.tid == self.tid) {
            t.tracer = tracer;
        }
        self.started = true;
        // From here the context owns the thread's entry: its drop ends the thread.
        let ctx = PtraceContext { p: self.p.clone(), tid: self.tid };
        let t = ctx.tracee();
        let opts = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD;
        t.ptrace(libc::PTRACE_SEIZE, 0, opts as u64, "PTRACE_SEIZE")?;
        t.ptrace(libc::PTRACE_INTERRUPT, 0, 0, "PTRACE_INTERRUPT")?;
        loop {
            match t.wait()? {
                // The interrupt's stop (an event stop reported as SIGTRAP).
                Stop::Signal(libc::SIGTRAP) => break,
                // A signal from outside came first: keep it, and wait for the interrupt.
                Stop::Signal(sig) => {
                    if let Some(th) = self.p.threads().iter_mut().find(|th| th.tid == self.tid) {
                        th.pending.push(sig);
                    }
                    t.ptrace(libc::PTRACE_CONT, 0, 0, "PTRACE_CONT")?;
                }
                _ => return Err(PlatformError::Unexpected { pid: self.p.pid, what: "an unexpected stop while a thread started".into() }),
            }
        }
        Ok(Box::new(ctx))
    }
}

impl Context for PtraceContext {
    fn switch(&mut self, regs: &mut Registers) -> Result<Event, PlatformError> {
        let pending = self.p.threads().iter_mut().find(|t| t.tid == self.tid).and_then(|t| t.pending.pop());
        if let Some(sig) = pending {
            return Ok(Event::Signal(sig));
        }
        let s = &self.tracee();
        s.set_regs(&regs.0)?;
        s.ptrace(libc::PTRACE_SYSEMU, 0, 0, "PTRACE_SYSEMU")?;
        let stop = s.wait()?;
        regs.0 = s.get_regs()?;
        match stop {
            // The `syscall` instruction leaves the return address in rcx: a stop where it is
            // not there came from `int $0x80` (the 32-bit ABI, which the sandbox does not
            // offer). The guest gets SIGSYS, as under systrap.
            Stop::Syscall if regs.0.rcx != regs.0.rip => Ok(Event::Fault(FaultInfo { signo: libc::SIGSYS, code: 1, addr: regs.0.rip })),
            Stop::Syscall => Ok(Event::Syscall),
            Stop::Exiting => Err(PlatformError::Unexpected { pid: self.p.pid, what: "an exit stop".into() }),
            Stop::Signal(sig) => {
                // SAFETY: siginfo_t is plain data; PTRACE_GETSIGINFO fills it.
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                s.ptrace(libc::PTRACE_GETSIGINFO, 0, &mut info as *mut _ as u64, "PTRACE_GETSIGINFO")?;
                // A seccomp trap: the kernel's vsyscall emulation ran the stub's filter (no
                // SYSEMU stop) and already emulated the `ret`. Served like any syscall.
                if sig == libc::SIGSYS && info.si_code == 1 {
                    // SAFETY: siginfo_t is plain data; for SYS_SECCOMP, bytes 24..28 hold
                    // si_syscall and 28..32 si_arch.
                    let raw: [u8; 128] = unsafe { std::mem::transmute(info) };
                    let nr = i32::from_le_bytes([raw[24], raw[25], raw[26], raw[27]]);
                    let arch = u32::from_le_bytes([raw[28], raw[29], raw[30], raw[31]]);
                    if arch == 0xc000_003e {
                        regs.0.orig_rax = nr as u32 as u64;
                        return Ok(Event::Syscall);
                    }
                }
                let synchronous = matches!(sig, libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL | libc::SIGTRAP);
                // si_code > 0 means the kernel raised it for an instruction; <= 0 means kill(2).
                if synchronous && info.si_code > 0 {
                    // SAFETY: for these signals with a kernel si_code, si_addr is the union member set.
                    let addr = unsafe { info.si_addr() } as u64;
                    Ok(Event::Fault(FaultInfo { signo: sig, code: info.si_code, addr }))
                } else {
                    Ok(Event::Signal(sig))
                }
            }
        }
    }

    fn fpu_state(&mut self) -> Result<FpuState, PlatformError> {
        let x = xsave_layout();
        let mut buf = vec![0u8; x.full];
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        self.tracee().ptrace(libc::PTRACE_GETREGSET, NT_X86_XSTATE, &mut iov as *mut _ as u64, "PTRACE_GETREGSET")?;
        if iov.iov_len < x.frame {
            let what = format!("NT_X86_XSTATE gave {} bytes, short of {}", iov.iov_len, x.frame);
            return Err(PlatformError::Unexpected { pid: self.p.pid, what });
        }
        // As a signal frame has it (the systrap platform's come from real ones): without the
        // dynamic component, the software area filled in, the end marked.
        buf.truncate(x.frame);
        keep_features(&mut buf, x.features);
        buf[SW_MAGIC..SW_MAGIC + 4].copy_from_slice(&FP_XSTATE_MAGIC1.to_le_bytes());
        buf[SW_EXTENDED_SIZE..SW_EXTENDED_SIZE + 4].copy_from_slice(&(x.frame as u32 + 4).to_le_bytes());
        buf[SW_XFEATURES..SW_XFEATURES + 8].copy_from_slice(&x.features.to_le_bytes());
        buf[SW_XSTATE_SIZE..SW_XSTATE_SIZE + 4].copy_from_slice(&(x.frame as u32).to_le_bytes());
        buf.extend_from_slice(&FP_XSTATE_MAGIC2.to_le_bytes());
        Ok(FpuState(buf))
    }

    fn set_fpu_state(&mut self, state: &FpuState) -> Result<(), PlatformError> {
        // The kernel takes back only the whole area; what a frame leaves out stays in its
        // initial state (its XSTATE_BV bit is clear).
        let x = xsave_layout();
        let mut full = vec![0u8; x.full];
        let n = state.0.len().min(x.frame);
        full[..n].copy_from_slice(&state.0[..n]);
        keep_features(&mut full, x.features);
        let mut iov = libc::iovec { iov_base: full.as_mut_ptr().cast(), iov_len: full.len() };
        self.tracee().ptrace(libc::PTRACE_SETREGSET, NT_X86_XSTATE, &mut iov as *mut _ as u64, "PTRACE_SETREGSET")
    }

    fn host_tid(&self) -> i32 {
        self.tid
    }

    fn host_pid(&self) -> i32 {
        self.p.pid
    }

    fn thread_cpu_time(&mut self) -> Option<std::time::Duration> {
        // The stub thread reads its own clock (Linux lets no other process read it) into the
        // stub's own page, where the tracer peeks.
        let at = self.p.stub_addr + STUB_SCRATCH;
        let t = self.tracee();
        t.inject_checked(libc::SYS_clock_gettime, [libc::CLOCK_THREAD_CPUTIME_ID as u64, at, 0, 0, 0, 0], "clock_gettime in the stub").ok()?;
        let (secs, nanos) = (t.peek(at).ok()?, t.peek(at + 8).ok()?);
        Some(std::time::Duration::new(secs, nanos.min(999_999_999) as u32))
    }

    fn fresh_address_space(&mut self) -> Result<Box<dyn AddressSpace>, PlatformError> {
        let end = self.p.stub_addr;
        self.tracee().inject_checked(libc::SYS_munmap, [stub::MMAP_MIN_ADDR, end - stub::MMAP_MIN_ADDR, 0, 0, 0, 0], "munmap in the stub")?;
        Ok(Box::new(PtraceAddressSpace { p: self.p.clone() }))
    }

    fn new_thread(&mut self) -> Result<Box<dyn NewThread>, PlatformError> {
        let r = self.tracee().inject_at(STUB_CLONE_OFFSET, STUB_AFTER_CLONE, libc::SYS_clone, [THREAD_FLAGS, 0, 0, 0, 0, 0])?;
        if r < 0 {
            return Err(PlatformError::Host { op: "clone of a stub thread", source: io::Error::from_raw_os_error(-r as i32) });
        }
        let tid = r as i32;
        self.p.threads().push(StubThread { tid, tracer: 0, pending: Vec::new() });
        Ok(Box::new(PtraceThread { p: self.p.clone(), tid, started: false }))
    }
}

const NT_X86_XSTATE: u64 = 0x202;

/// In the XSAVE area: the header's XSTATE_BV, and the software area (fpx_sw_bytes) Linux puts
/// in the legacy region's reserved bytes of a signal frame: a magic word, the sizes with and
/// without the magic word that ends the area, and the feature mask.
const XSAVE_HEADER: usize = 512;
const SW_MAGIC: usize = 464;
const SW_EXTENDED_SIZE: usize = 468;
const SW_XFEATURES: usize = 472;
const SW_XSTATE_SIZE: usize = 480;
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
/// The component a process uses only once it asked for it (ARCH_REQ_XCOMP_PERM, which the
/// Sentry does not grant): AMX tile data.
const XFEATURE_XTILEDATA: u32 = 18;

/// Clears the XSTATE_BV bits of the XSAVE area `buf` outside `features` (what is cleared is in
/// its initial state).
fn keep_features(buf: &mut [u8], features: u64) {
    if let Some(bv) = buf.get_mut(XSAVE_HEADER..XSAVE_HEADER + 8) {
        let v = u64::from_le_bytes(bv.try_into().unwrap_or_default()) & features;
        bv.copy_from_slice(&v.to_le_bytes());
    }
}

/// The XSAVE area as this machine lays it out.
struct XsaveLayout {
    /// All of it, as NT_X86_XSTATE reads and writes it (the kernel takes back only the whole).
    full: usize,
    /// What a signal frame holds: without the dynamic component (under 3 KiB against 11 KiB
    /// where AMX is enabled), as Linux sizes the frames of a process that did not ask for it.
    frame: usize,
    /// The features in a frame.
    features: u64,
}

fn xsave_layout() -> &'static XsaveLayout {
    use std::arch::x86_64::__cpuid_count;
    static LAYOUT: std::sync::OnceLock<XsaveLayout> = std::sync::OnceLock::new();
    LAYOUT.get_or_init(|| {
        // XCR0 holds the user features the kernel enabled. CPUID leaf 0xD: sub-leaf 0 gives the
        // whole area's size for them (EBX); sub-leaf i gives component i's size (EAX) and
        // offset (EBX).
        // SAFETY: XGETBV exists where the kernel offers NT_X86_XSTATE (OSXSAVE); XCR0 is
        // readable at any privilege level.
        let features = unsafe { std::arch::x86_64::_xgetbv(0) } & !(1 << XFEATURE_XTILEDATA);
        let full = __cpuid_count(0xd, 0).ebx as usize;
        let frame = (2..64)
            .filter(|&i| features & (1 << i) != 0)
            .map(|i| __cpuid_count(0xd, i))
            .map(|c| (c.ebx + c.eax) as usize)
            .fold(XSAVE_HEADER + 64, usize::max)
            .min(full);
        XsaveLayout { full, frame, features }
    })
}
