//! The systrap platform: guest system calls arrive as SIGSYS inside the stub, without ptrace.
//!
//! Each stub runs under a seccomp filter that returns SECCOMP_RET_TRAP for every system call
//! not issued from the stub's own code page. The kernel then delivers SIGSYS to a small
//! position-independent handler in that page, on an alternate signal stack that lives in a
//! context file shared with the Sentry. The handler publishes the event in the context page and
//! waits; the Sentry reads and edits the registers right in the signal frame (the ucontext and
//! its XSAVE area are in shared memory), answers, and the handler returns with rt_sigreturn,
//! which loads the edited registers into the guest. Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
//! SIGTRAP) take the same path.
//!
//! Hand-offs spin first and sleep on a futex after a while: while the guest makes system calls
//! in quick succession, neither side sleeps (a cross-CPU hand-off by spinning costs ~0.15 us
//! where a futex wake of a sleeping vCPU costs tens of microseconds); an idle guest costs
//! nothing. Address-space operations are commands the Sentry writes into the context page and
//! the stub executes from its code page, the only place its filter lets system calls through.
//!
//! The context page is writable by guest code (it is in the guest's address space), so the
//! Sentry treats everything in it as untrusted: pointers are bounds-checked before use.

use std::io;
use std::ops::Range;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::stub::{self, ChildArgs};
use crate::{AddressSpace, Context, Event, FaultInfo, FpuState, NewAddressSpace, Options, Platform, PlatformError, Prot, Registers, PAGE_SIZE};

/// Layout of the stub region: code page, then the context file (context page + signal stack).
const CONTEXT_SIZE: u64 = 16 * PAGE_SIZE;
const REGION_SIZE: u64 = PAGE_SIZE + CONTEXT_SIZE;

/// Offsets in the context page (shared with the assembly below).
const OFF_STATE: usize = 0;
const OFF_SENTRY_SLEEPING: usize = 4;
const OFF_STUB_SLEEPING: usize = 8;
const OFF_STUB_SPIN: usize = 12;
const OFF_SIGNO: usize = 16;
const OFF_SIGINFO: usize = 24;
const OFF_UCONTEXT: usize = 32;
const OFF_CMD_NR: usize = 40;
const OFF_CMD_ARGS: usize = 48;
const OFF_CMD_RESULT: usize = 96;

/// The context page's state word: who owns the page and what happened. 0 is RUNNING: the
/// guest runs, or the stub handles a command.
const STATE_EVENT: u32 = 1;
const STATE_RESUME: u32 = 2;
const STATE_COMMAND: u32 = 3;
const STATE_DONE: u32 = 4;

/// System calls the stub's code may make: its hand-off, rt_sigreturn, and the commands.
const STUB_ALLOWED_SYSCALLS: [u32; 6] = [
    libc::SYS_futex as u32,
    libc::SYS_rt_sigreturn as u32,
    libc::SYS_mmap as u32,
    libc::SYS_munmap as u32,
    libc::SYS_mprotect as u32,
    libc::SYS_arch_prctl as u32,
];

/// The signals the stub's handler takes: traps, faults, and the Sentry's kick.
const HANDLED_SIGNALS: [i32; 7] = [libc::SIGSYS, libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, crate::KICK_SIGNAL];

/// Signal delivery on x86-64 requires a restorer.
const SA_RESTORER: u64 = 0x0400_0000;

/// How long the Sentry spins on the state word before sleeping on the futex, when the stub
/// runs on another CPU; and how many `pause` loops the stub spins (~10-40 us).
const SENTRY_SPIN: Duration = Duration::from_micros(20);
const STUB_SPIN: u32 = 2000;
/// How often a sleeping Sentry thread checks that the stub is still alive.
const LIVENESS_PERIOD: libc::timespec = libc::timespec { tv_sec: 0, tv_nsec: 100_000_000 };

// The stub code. It must be position independent and fit in one page; the context page is the
// page right after it. Entry points: offset 0 (`ud2`: the first trip into the handler), the
// handler at `systrap_handler`, and the restorer (never used: the handler returns by itself,
// but x86-64 signal delivery requires one).
std::arch::global_asm!(
    ".pushsection .text.systrap_stub,\"ax\",@progbits",
    ".p2align 12",
    ".globl systrap_stub_start",
    "systrap_stub_start:",
    "    ud2",
    ".p2align 4",
    "systrap_handler:",
    // r12 = the context page.
    "    lea systrap_stub_start(%rip), %r12",
    "    add $4096, %r12",
    "    mov %rdi, 16(%r12)",
    "    mov %rsi, 24(%r12)",
    "    mov %rdx, 32(%r12)",
    "    mov $1, %eax",
    "    xchg %eax, 0(%r12)",          // state = EVENT, with a full barrier
    "2:",
    "    cmpl $0, 4(%r12)",            // Sentry asleep? wake it
    "    je 3f",
    "    mov $202, %eax",
    "    mov %r12, %rdi",
    "    mov $1, %esi",                // FUTEX_WAKE (shared: the Sentry maps the page too)
    "    mov $1, %edx",
    "    syscall",
    "3:",
    "    mov 12(%r12), %ecx",          // spin (the Sentry sets how long), then sleep
    "    inc %ecx",
    "4:",
    "    mov 0(%r12), %eax",
    "    cmp $2, %eax",
    "    je 6f",
    "    cmp $3, %eax",
    "    je 7f",
    "    pause",
    "    dec %ecx",
    "    jnz 4b",
    "    mov $1, %edx",
    "    xchg %edx, 8(%r12)",          // stub_sleeping = 1, full barrier
    "    mov 0(%r12), %edx",           // sleep only while the Sentry still owns the page
    "    cmp $2, %edx",
    "    je 5f",
    "    cmp $3, %edx",
    "    je 5f",
    "    mov $202, %eax",
    "    mov %r12, %rdi",
    "    xor %esi, %esi",              // FUTEX_WAIT on the value just read
    "    xor %r10, %r10",
    "    syscall",
    "5:",
    "    movl $0, 8(%r12)",
    "    jmp 3b",
    "6:",                             // RESUME: state = RUNNING, back to the guest
    "    movl $0, 0(%r12)",
    "    add $8, %rsp",                // as the `ret` into a restorer would
    "    mov $15, %eax",
    "    syscall",
    "    ud2",
    "7:",                             // COMMAND: run one system call for the Sentry
    "    mov 40(%r12), %rax",
    "    mov 48(%r12), %rdi",
    "    mov 56(%r12), %rsi",
    "    mov 64(%r12), %rdx",
    "    mov 72(%r12), %r10",
    "    mov 80(%r12), %r8",
    "    mov 88(%r12), %r9",
    "    syscall",
    "    mov %rax, 96(%r12)",
    "    mov $4, %eax",
    "    xchg %eax, 0(%r12)",          // state = DONE
    "    jmp 2b",
    ".p2align 4",
    "systrap_restorer:",
    "    mov $15, %eax",
    "    syscall",
    "    ud2",
    ".globl systrap_stub_end",
    "systrap_stub_end:",
    ".set systrap_handler_offset, systrap_handler - systrap_stub_start",
    ".set systrap_restorer_offset, systrap_restorer - systrap_stub_start",
    ".globl systrap_handler_offset",
    ".globl systrap_restorer_offset",
    ".popsection",
    options(att_syntax)
);

extern "C" {
    static systrap_stub_start: u8;
    static systrap_stub_end: u8;
    static systrap_handler_offset: u8;
    static systrap_restorer_offset: u8;
}

/// The stub code as bytes, and the offsets of the handler and the restorer in it.
fn stub_code() -> (&'static [u8], u64, u64) {
    // SAFETY: the symbols delimit the assembly above, which is in this binary's text; the
    // offsets are absolute symbols whose addresses are the numbers themselves.
    unsafe {
        let start = &raw const systrap_stub_start;
        let end = &raw const systrap_stub_end;
        let len = end as usize - start as usize;
        assert!(len as u64 <= PAGE_SIZE, "the systrap stub code must fit in a page");
        let code = std::slice::from_raw_parts(start, len);
        (code, &raw const systrap_handler_offset as u64, &raw const systrap_restorer_offset as u64)
    }
}

/// The systrap platform.
pub struct SystrapPlatform {
    opts: Options,
    region: u64,
    filter: Vec<libc::sock_filter>,
}

impl SystrapPlatform {
    /// Reserves the stub region and prepares the filter. Fails where seccomp traps are not
    /// available; `--platform auto` then falls back to ptrace.
    pub fn new(opts: Options) -> Result<SystrapPlatform, PlatformError> {
        let region = stub::reserve_region(REGION_SIZE)?;
        let filter = stub::stub_filter(region..region + PAGE_SIZE, &STUB_ALLOWED_SYSCALLS);
        Ok(SystrapPlatform { opts, region, filter })
    }
}

impl Platform for SystrapPlatform {
    fn name(&self) -> &'static str {
        "systrap"
    }

    fn user_range(&self) -> Range<u64> {
        stub::MMAP_MIN_ADDR..self.region
    }

    fn new_address_space(&self) -> Result<NewAddressSpace, PlatformError> {
        let stub = Rc::new(Stub::spawn(self)?);
        Ok((Box::new(SystrapAddressSpace { stub: stub.clone() }), Box::new(SystrapContext { stub, fs_base: u64::MAX, gs_base: u64::MAX })))
    }
}

/// One stub process with one thread, and the Sentry's mapping of its context file.
struct Stub {
    pid: i32,
    region: u64,
    memory_fd: i32,
    /// The Sentry's mapping of the context file.
    ctx: *mut u8,
    /// How long the Sentry spins before sleeping (zero when both share a CPU).
    spin: Duration,
}

impl Stub {
    fn spawn(p: &SystrapPlatform) -> Result<Stub, PlatformError> {
        // SAFETY: a static name; the result is a new descriptor or -1.
        let raw = unsafe { libc::memfd_create(c"sandbox-systrap-context".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(PlatformError::last_os("memfd_create of a stub context"));
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let ctx_fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: sizing our own memfd.
        if unsafe { libc::ftruncate(ctx_fd.as_raw_fd(), CONTEXT_SIZE as libc::off_t) } != 0 {
            return Err(PlatformError::last_os("sizing a stub context"));
        }
        // SAFETY: a new shared mapping of our memfd at an address the kernel picks.
        let ctx = unsafe {
            libc::mmap(std::ptr::null_mut(), CONTEXT_SIZE as usize, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, ctx_fd.as_raw_fd(), 0)
        };
        if ctx == libc::MAP_FAILED {
            return Err(PlatformError::last_os("mapping a stub context"));
        }
        // Spinning hand-offs need the Sentry's thread and the stub on two CPUs: keep this thread
        // on its CPU and send the stub to another. With one CPU, nobody spins.
        let stub_cpu = if p.opts.pin_cpu { place_threads() } else { None };
        let spin = if stub_cpu.is_some() || (!p.opts.pin_cpu && allowed_cpus() > 1) { SENTRY_SPIN } else { Duration::ZERO };
        let (code, handler, restorer) = stub_code();
        let prog = libc::sock_fprog { len: p.filter.len() as u16, filter: p.filter.as_ptr().cast_mut() };
        let mut fds = [p.opts.memory_fd, ctx_fd.as_raw_fd()];
        fds.sort_unstable();
        let mut args = stub::child_args(fds, p.region, code, &prog);
        args.extra = [ctx_fd.as_raw_fd() as u64, p.region + handler, p.region + restorer, stub_cpu.map_or(u64::MAX, u64::from)];
        let stub_spin = if spin.is_zero() { 0 } else { STUB_SPIN };
        // SAFETY: the spin word is in the fresh context mapping; the stub does not exist yet.
        unsafe { ctx.cast::<u8>().add(OFF_STUB_SPIN).cast::<u32>().write(stub_spin) };
        let pid = stub::clone_stub(&args, stub_child)?;
        drop(ctx_fd);
        let stub = Stub { pid, region: p.region, memory_fd: p.opts.memory_fd, ctx: ctx.cast(), spin };
        // The first event is the `ud2` at the start of the code: the handler is in place.
        stub.wait_for(STATE_EVENT)?;
        let signo = stub.word(OFF_SIGNO);
        if signo != libc::SIGILL as u64 {
            return Err(PlatformError::Unexpected { pid, what: format!("signal {signo} during setup") });
        }
        // Strip the copy of the Sentry: everything but the stub region goes.
        stub.command(libc::SYS_munmap, [0, p.region, 0, 0, 0, 0], "munmap in the stub")?;
        let end = p.region + REGION_SIZE;
        if end < stub::TASK_SIZE {
            stub.command(libc::SYS_munmap, [end, stub::TASK_SIZE - end, 0, 0, 0, 0], "munmap in the stub")?;
        }
        Ok(stub)
    }

    fn atomic32(&self, off: usize) -> &AtomicU32 {
        // SAFETY: `off` is one of the aligned word offsets in the context page, which is mapped
        // for the Stub's lifetime; the stub accesses the same words atomically (xchg, aligned
        // loads and stores).
        unsafe { &*self.ctx.add(off).cast::<AtomicU32>() }
    }

    fn atomic64(&self, off: usize) -> &AtomicU64 {
        // SAFETY: as for `atomic32`.
        unsafe { &*self.ctx.add(off).cast::<AtomicU64>() }
    }

    fn word(&self, off: usize) -> u64 {
        self.atomic64(off).load(Ordering::Acquire)
    }

    /// Hands the context page to the stub with `state`.
    fn hand_over(&self, state: u32) -> Result<(), PlatformError> {
        self.atomic32(OFF_STATE).swap(state, Ordering::SeqCst);
        if self.atomic32(OFF_STUB_SLEEPING).load(Ordering::SeqCst) != 0 {
            self.futex(libc::FUTEX_WAKE, 1, None);
        }
        Ok(())
    }

    fn futex(&self, op: i32, val: u32, timeout: Option<&libc::timespec>) -> i64 {
        let t = timeout.map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: the futex word is in our shared mapping; the timeout, if any, is a valid
        // timespec. Not FUTEX_PRIVATE: the stub maps the same page from another process.
        unsafe { libc::syscall(libc::SYS_futex, self.ctx.add(OFF_STATE), op as libc::c_long, libc::c_long::from(val), t, 0usize, 0usize) }
    }

    /// Waits until the stub sets the state word to `want`: spinning first, then sleeping on the
    /// futex, checking now and then that the stub is still alive.
    fn wait_for(&self, want: u32) -> Result<(), PlatformError> {
        let state = self.atomic32(OFF_STATE);
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let v = state.load(Ordering::Acquire);
            if v == want {
                return Ok(());
            }
            spins += 1;
            if !spins.is_multiple_of(64) || start.elapsed() < self.spin {
                std::hint::spin_loop();
                continue;
            }
            self.atomic32(OFF_SENTRY_SLEEPING).swap(1, Ordering::SeqCst);
            let v = state.load(Ordering::SeqCst);
            if v != want {
                let r = self.futex(libc::FUTEX_WAIT, v, Some(&LIVENESS_PERIOD));
                if r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT) {
                    self.check_alive()?;
                }
            }
            self.atomic32(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst);
        }
    }

    fn check_alive(&self) -> Result<(), PlatformError> {
        let mut status = 0;
        // SAFETY: waiting, without blocking, on our own child.
        let r = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG | libc::__WALL) };
        if r == self.pid {
            return Err(stub::describe_death(self.pid, status));
        }
        Ok(())
    }

    /// Has the stub run one system call from its code page; returns the raw result.
    fn command(&self, nr: libc::c_long, args: [u64; 6], op: &'static str) -> Result<i64, PlatformError> {
        self.atomic64(OFF_CMD_NR).store(nr as u64, Ordering::Relaxed);
        for (i, a) in args.iter().enumerate() {
            self.atomic64(OFF_CMD_ARGS + 8 * i).store(*a, Ordering::Relaxed);
        }
        self.hand_over(STATE_COMMAND)?;
        self.wait_for(STATE_DONE)?;
        let r = self.word(OFF_CMD_RESULT) as i64;
        if (-4095..0).contains(&r) {
            return Err(PlatformError::Host { op, source: io::Error::from_raw_os_error(-r as i32) });
        }
        Ok(r)
    }

    /// The Sentry's pointer for a stub address inside the context file, if `len` bytes there
    /// are inside it. The stub's pointers come from memory the guest can write: check them.
    fn ctx_ptr(&self, stub_addr: u64, len: u64) -> Option<*mut u8> {
        let base = self.region + PAGE_SIZE;
        let off = stub_addr.checked_sub(base)?;
        (off.checked_add(len)? <= CONTEXT_SIZE).then(|| {
            // SAFETY: off + len is within the context mapping (checked above).
            unsafe { self.ctx.add(off as usize) }
        })
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        // SAFETY: killing and reaping our own child (pid > 0: never a process group), then
        // unmapping our context mapping.
        unsafe {
            if self.pid > 0 {
                libc::kill(self.pid, libc::SIGKILL);
            }
            libc::waitpid(self.pid, std::ptr::null_mut(), libc::__WALL);
            libc::munmap(self.ctx.cast(), CONTEXT_SIZE as usize);
        }
    }
}

/// The systrap stub's life between clone and its first event.
///
/// # Safety
/// Only in a child just cloned by `stub::clone_stub`.
unsafe fn stub_child(a: &ChildArgs) -> ! {
    let [ctx_fd, handler, restorer, cpu] = a.extra;
    let ctx_addr = a.code_addr + PAGE_SIZE;
    // SAFETY: we are the stub child; raw system calls on copied data.
    unsafe {
        stub::child_common(a);
        let rw = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        let m = stub::sys(libc::SYS_mmap, [ctx_addr, CONTEXT_SIZE, rw, (libc::MAP_SHARED | libc::MAP_FIXED) as u64, ctx_fd, 0]);
        if m as u64 != ctx_addr {
            stub::child_fail(9);
        }
        stub::sys(libc::SYS_close, [ctx_fd, 0, 0, 0, 0, 0]);
        // The signal stack is the context file after its first page: frames land in memory
        // the Sentry can read and edit.
        let ss = libc::stack_t { ss_sp: (ctx_addr + PAGE_SIZE) as *mut libc::c_void, ss_flags: 0, ss_size: (CONTEXT_SIZE - PAGE_SIZE) as usize };
        if stub::sys(libc::SYS_sigaltstack, [&ss as *const libc::stack_t as u64, 0, 0, 0, 0, 0]) != 0 {
            stub::child_fail(10);
        }
        // Kernel sigaction: handler, flags, restorer, mask (every signal blocked in the handler).
        let flags = (libc::SA_SIGINFO | libc::SA_ONSTACK) as u64 | SA_RESTORER;
        let act: [u64; 4] = [handler, flags, restorer, u64::MAX];
        for sig in HANDLED_SIGNALS {
            if stub::sys(libc::SYS_rt_sigaction, [sig as u64, act.as_ptr() as u64, 0, 8, 0, 0]) != 0 {
                stub::child_fail(11);
            }
        }
        // Only those get through to the guest's thread; anything else sent from outside stays
        // pending (the Sentry's own process receives terminal signals).
        let mut mask = u64::MAX;
        for sig in HANDLED_SIGNALS {
            mask &= !(1u64 << (sig - 1));
        }
        if stub::sys(libc::SYS_rt_sigprocmask, [libc::SIG_SETMASK as u64, &mask as *const u64 as u64, 0, 8, 0, 0]) != 0 {
            stub::child_fail(12);
        }
        if cpu != u64::MAX {
            let mut set = [0u64; 16];
            set[(cpu / 64) as usize % 16] = 1 << (cpu % 64);
            stub::sys(libc::SYS_sched_setaffinity, [0, 128, set.as_ptr() as u64, 0, 0, 0]);
        }
        stub::child_enter(a, a.code_addr)
    }
}

/// How many CPUs this thread may run on.
fn allowed_cpus() -> u32 {
    // SAFETY: the cpu_set_t is a plain bit array we own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return 1;
        }
        libc::CPU_COUNT(&set) as u32
    }
}

/// Pins the calling thread to its current CPU and returns another allowed CPU for the stub,
/// or None (and no pinning) when only one CPU is allowed.
fn place_threads() -> Option<u32> {
    // SAFETY: sched_getcpu takes nothing; the cpu_set_t values are plain bit arrays we own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        let here = libc::sched_getcpu();
        if here < 0 {
            return None;
        }
        let other = (0..libc::CPU_SETSIZE as usize).map(|c| (here as usize + 1 + c) % libc::CPU_SETSIZE as usize).find(|&c| c != here as usize && libc::CPU_ISSET(c, &set))?;
        stub::pin_to_current_cpu();
        Some(other as u32)
    }
}

struct SystrapAddressSpace {
    stub: Rc<Stub>,
}

impl AddressSpace for SystrapAddressSpace {
    fn map(&mut self, addr: u64, len: u64, prot: Prot, offset: u64) -> Result<(), PlatformError> {
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        let fd = self.stub.memory_fd as u64;
        self.stub.command(libc::SYS_mmap, [addr, len, prot.bits(), flags, fd, offset], "mmap in the stub").map(|_| ())
    }

    fn unmap(&mut self, addr: u64, len: u64) -> Result<(), PlatformError> {
        self.stub.command(libc::SYS_munmap, [addr, len, 0, 0, 0, 0], "munmap in the stub").map(|_| ())
    }

    fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), PlatformError> {
        self.stub.command(libc::SYS_mprotect, [addr, len, prot.bits(), 0, 0, 0], "mprotect in the stub").map(|_| ())
    }
}

/// Offsets in the kernel's x86-64 ucontext: uc_mcontext starts at 40; these are into it.
const UC_MCONTEXT: u64 = 40;
const UC_SIZE: u64 = UC_MCONTEXT + 256 + 8;
const MC_FPSTATE: usize = 184;
/// sigcontext's general registers in order, by their offset / 8 from uc_mcontext.
const MC_R8: usize = 0;
/// siginfo_t fields used.
const SI_CODE: usize = 8;
const SI_ADDR: usize = 16;
const SI_SYSCALL: usize = 24;
const SI_ARCH: usize = 28;
const SYS_SECCOMP: i32 = 1;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

struct SystrapContext {
    stub: Rc<Stub>,
    /// The FS and GS bases the stub thread has (u64::MAX: the Sentry's, not yet set).
    fs_base: u64,
    gs_base: u64,
}

impl SystrapContext {
    /// The Sentry's pointer to the current signal frame's ucontext.
    fn ucontext(&self) -> Result<*mut u64, PlatformError> {
        let uc = self.stub.word(OFF_UCONTEXT);
        self.stub
            .ctx_ptr(uc, UC_SIZE)
            .filter(|p| (*p as usize).is_multiple_of(8))
            .map(|p| p.cast::<u64>())
            .ok_or_else(|| PlatformError::Unexpected { pid: self.stub.pid, what: format!("signal frame at {uc:#x} outside the context") })
    }

    fn siginfo(&self) -> Result<[u8; 128], PlatformError> {
        let si = self.stub.word(OFF_SIGINFO);
        let p = self.stub.ctx_ptr(si, 128).ok_or_else(|| PlatformError::Unexpected { pid: self.stub.pid, what: format!("siginfo at {si:#x} outside the context") })?;
        let mut b = [0u8; 128];
        // SAFETY: 128 bytes at p are inside the context mapping (checked by ctx_ptr).
        unsafe { std::ptr::copy_nonoverlapping(p, b.as_mut_ptr(), 128) };
        Ok(b)
    }

    /// The XSAVE area of the current frame: its Sentry pointer and size.
    fn fpstate(&self) -> Result<(*mut u8, usize), PlatformError> {
        let uc = self.ucontext()?;
        // SAFETY: uc points at a full ucontext inside the context mapping.
        let fp = unsafe { uc.add((UC_MCONTEXT as usize + MC_FPSTATE) / 8).read_volatile() };
        // The XSAVE header's software area (at 464 of the legacy region) holds the size.
        let p = self.stub.ctx_ptr(fp, 512).ok_or_else(|| PlatformError::Unexpected { pid: self.stub.pid, what: "FPU state outside the context".into() })?;
        let mut size = [0u8; 4];
        // SAFETY: 512 bytes at p are in the mapping; bytes 468..472 are within them.
        unsafe { std::ptr::copy_nonoverlapping(p.add(468), size.as_mut_ptr(), 4) };
        let size = (u32::from_le_bytes(size) as u64).clamp(512, CONTEXT_SIZE);
        let size = if self.stub.ctx_ptr(fp, size).is_some() { size } else { 512 };
        Ok((p, size as usize))
    }

    fn set_base(&mut self, code: u64, want: u64, which: fn(&mut Self) -> &mut u64) -> Result<(), PlatformError> {
        if *which(self) != want {
            self.stub.command(libc::SYS_arch_prctl, [code, want, 0, 0, 0, 0], "arch_prctl in the stub")?;
            *which(self) = want;
        }
        Ok(())
    }
}

/// sigcontext order of the general registers (r8 first), as (offset/8, register accessor).
fn gregs(r: &mut libc::user_regs_struct) -> [&mut u64; 18] {
    [
        &mut r.r8, &mut r.r9, &mut r.r10, &mut r.r11, &mut r.r12, &mut r.r13, &mut r.r14, &mut r.r15, &mut r.rdi, &mut r.rsi, &mut r.rbp, &mut r.rbx, &mut r.rdx, &mut r.rax,
        &mut r.rcx, &mut r.rsp, &mut r.rip, &mut r.eflags,
    ]
}

impl Context for SystrapContext {
    fn switch(&mut self, regs: &mut Registers) -> Result<Event, PlatformError> {
        const ARCH_SET_GS: u64 = 0x1001;
        const ARCH_SET_FS: u64 = 0x1002;
        self.set_base(ARCH_SET_FS, regs.0.fs_base, |c| &mut c.fs_base)?;
        self.set_base(ARCH_SET_GS, regs.0.gs_base, |c| &mut c.gs_base)?;
        let uc = self.ucontext()?;
        let mc = UC_MCONTEXT as usize / 8 + MC_R8;
        for (i, v) in gregs(&mut regs.0).into_iter().enumerate() {
            // SAFETY: uc points at a full ucontext in the context mapping; i < 18 stays in it.
            unsafe { uc.add(mc + i).write_volatile(*v) };
        }
        self.stub.hand_over(STATE_RESUME)?;
        self.stub.wait_for(STATE_EVENT)?;

        let uc = self.ucontext()?;
        for (i, v) in gregs(&mut regs.0).into_iter().enumerate() {
            // SAFETY: as above.
            *v = unsafe { uc.add(mc + i).read_volatile() };
        }
        let si = self.siginfo()?;
        let signo = i32::from_le_bytes([si[0], si[1], si[2], si[3]]);
        let code = i32::from_le_bytes([si[SI_CODE], si[SI_CODE + 1], si[SI_CODE + 2], si[SI_CODE + 3]]);
        let addr = u64::from_le_bytes(si[SI_ADDR..SI_ADDR + 8].try_into().unwrap_or_default());
        if signo == libc::SIGSYS && code == SYS_SECCOMP {
            let nr = i32::from_le_bytes(si[SI_SYSCALL..SI_SYSCALL + 4].try_into().unwrap_or_default());
            let arch = u32::from_le_bytes(si[SI_ARCH..SI_ARCH + 4].try_into().unwrap_or_default());
            if arch != AUDIT_ARCH_X86_64 {
                // int $0x80 or sysenter: the 32-bit ABI does not exist in the sandbox. The guest
                // gets SIGSYS, as from a kernel without IA-32 emulation... that kills it.
                return Ok(Event::Fault(FaultInfo { signo: libc::SIGSYS, code, addr: regs.0.rip }));
            }
            regs.0.orig_rax = nr as u32 as u64;
            return Ok(Event::Syscall);
        }
        if code > 0 {
            Ok(Event::Fault(FaultInfo { signo, code, addr }))
        } else {
            Ok(Event::Signal(signo))
        }
    }

    fn fpu_state(&mut self) -> Result<FpuState, PlatformError> {
        let (p, size) = self.fpstate()?;
        let mut v = vec![0u8; size];
        // SAFETY: size bytes at p are inside the context mapping (checked by fpstate()).
        unsafe { std::ptr::copy_nonoverlapping(p, v.as_mut_ptr(), size) };
        Ok(FpuState(v))
    }

    fn set_fpu_state(&mut self, state: &FpuState) -> Result<(), PlatformError> {
        let (p, size) = self.fpstate()?;
        let n = size.min(state.0.len());
        // SAFETY: n <= size bytes at p are inside the context mapping.
        unsafe { std::ptr::copy_nonoverlapping(state.0.as_ptr(), p, n) };
        Ok(())
    }

    fn host_tid(&self) -> i32 {
        self.stub.pid
    }
}
