//! The ptrace platform: one stub process per guest address space, driven with PTRACE_SYSEMU.
//!
//! A stub is a clone of the Sentry (made with CLONE_UNTRACED, so a host strace cannot take it
//! over) that strips itself down to one page of code at the top of the address space:
//!
//! ```text
//!   stub+0   int3            the stub stops here once set up
//!   stub+16  syscall; int3   injected system calls (mmap, munmap, mprotect of memory-file
//!                            windows) run here, and only here: the stub's seccomp filter kills
//!                            the process for any other instruction pointer or number
//! ```
//!
//! Guest code runs in the stub under PTRACE_SYSEMU: every `syscall` it executes stops at entry
//! and is never executed by the host, whatever its number; the Sentry serves it and writes the
//! result into rax. Faults arrive as signal-delivery stops and are suppressed (the Sentry
//! decides what the guest sees). The calling host thread becomes the stub's tracer, so an
//! address space and its context are tied to the thread that made them (they are not `Send`).

use std::cell::RefCell;
use std::io;
use std::ops::Range;
use std::rc::Rc;

use crate::{AddressSpace, Context, Event, NewAddressSpace, FaultInfo, FpuState, Options, Platform, PlatformError, Prot, Registers, PAGE_SIZE};

/// One past the highest user address on x86-64 with 4-level paging (TASK_SIZE_MAX).
const TASK_SIZE: u64 = (1 << 47) - PAGE_SIZE;
/// The lowest address a guest may map (the host's default vm.mmap_min_addr).
const MMAP_MIN_ADDR: u64 = 0x10000;
/// The stub's code page. Offsets below are into it.
const STUB_SIZE: u64 = PAGE_SIZE;
const STUB_SYSCALL_OFFSET: u64 = 16;
/// Where the instruction pointer is when the injected syscall's trailing int3 traps.
const STUB_AFTER_INJECT: u64 = STUB_SYSCALL_OFFSET + 3;
/// The code: int3 at 0 (initial stop), `syscall; int3` at 16, int3 padding everywhere else.
const STUB_CODE: [u8; 20] = [
    0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
    0x0f, 0x05, 0xcc, 0xcc,
];
/// The only system calls the stub's filter lets through, and only from its syscall instruction.
const STUB_ALLOWED_SYSCALLS: [u32; 3] = [libc::SYS_mmap as u32, libc::SYS_munmap as u32, libc::SYS_mprotect as u32];

/// Exit statuses of a stub that failed to set itself up, by step.
const STUB_SETUP_STEPS: [&str; 9] = [
    "",
    "prctl(PR_SET_PDEATHSIG)",
    "its parent exiting",
    "ptrace(PTRACE_TRACEME)",
    "mapping the stub page",
    "protecting the stub page",
    "prctl(PR_SET_NO_NEW_PRIVS)",
    "installing its seccomp filter",
    "rseq unregistration",
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
        let stub_addr = reserve_stub_region()?;
        let filter = stub_filter(stub_addr + STUB_SYSCALL_OFFSET + 2);
        Ok(PtracePlatform { opts, stub_addr, filter })
    }
}

impl Platform for PtracePlatform {
    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn user_range(&self) -> Range<u64> {
        MMAP_MIN_ADDR..self.stub_addr
    }

    fn new_address_space(&self) -> Result<NewAddressSpace, PlatformError> {
        let stub = Rc::new(Stub::spawn(self)?);
        Ok((Box::new(PtraceAddressSpace { stub: stub.clone() }), Box::new(PtraceContext { stub })))
    }
}

/// Finds the highest free stub-sized range below TASK_SIZE in the Sentry and reserves it.
fn reserve_stub_region() -> Result<u64, PlatformError> {
    let mut addr = TASK_SIZE - STUB_SIZE;
    for _ in 0..4096 {
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping; a PROT_NONE anonymous
        // reservation touches no existing memory.
        let p = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                STUB_SIZE as usize,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p as u64 == addr {
            return Ok(addr);
        }
        if p != libc::MAP_FAILED {
            // An old kernel treated the flag as a hint; give the range back and keep looking.
            // SAFETY: `p` is the mapping just made, of STUB_SIZE bytes, used by nobody.
            unsafe { libc::munmap(p, STUB_SIZE as usize) };
        }
        addr -= 1 << 20;
    }
    Err(PlatformError::Host { op: "reserving the stub's address range", source: io::Error::from_raw_os_error(libc::ENOMEM) })
}

/// The stub's seccomp program: allow the injected calls from `allowed_ip` only, kill otherwise.
fn stub_filter(allowed_ip: u64) -> Vec<libc::sock_filter> {
    const LD_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    let ins = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let n = STUB_ALLOWED_SYSCALLS.len() as u8;
    // Layout: 7 checks, n compares, then kill at 7+n and allow at 8+n.
    let kill = 7 + n;
    let mut f = vec![
        ins(LD_ABS, 0, 0, 4), // seccomp_data.arch
        ins(JEQ, 0, kill - 2, AUDIT_ARCH_X86_64),
        ins(LD_ABS, 0, 0, 8), // instruction_pointer, low half
        ins(JEQ, 0, kill - 4, allowed_ip as u32),
        ins(LD_ABS, 0, 0, 12), // instruction_pointer, high half
        ins(JEQ, 0, kill - 6, (allowed_ip >> 32) as u32),
        ins(LD_ABS, 0, 0, 0), // nr
    ];
    for (i, &nr) in STUB_ALLOWED_SYSCALLS.iter().enumerate() {
        let at = 7 + i as u8;
        f.push(ins(JEQ, kill + 1 - (at + 1), 0, nr));
    }
    f.push(ins(RET, 0, 0, libc::SECCOMP_RET_KILL_PROCESS));
    f.push(ins(RET, 0, 0, libc::SECCOMP_RET_ALLOW));
    f
}

/// How a traced stub stopped.
enum Stop {
    Syscall,
    Signal(i32),
}

/// One stub process with one thread, traced by the thread that created it.
struct Stub {
    pid: i32,
    stub_addr: u64,
    memory_fd: i32,
    /// Registers of the stub at its first stop: valid segment selectors and flags for injection.
    template: libc::user_regs_struct,
    /// Signals that arrived during an injection, reported at the next switch.
    pending: RefCell<Vec<i32>>,
}

impl Stub {
    fn spawn(p: &PtracePlatform) -> Result<Stub, PlatformError> {
        if p.opts.pin_cpu {
            pin_to_current_cpu();
        }
        let parent = std::process::id() as i32;
        let prog = libc::sock_fprog { len: p.filter.len() as u16, filter: p.filter.as_ptr().cast_mut() };
        let (rseq_area, rseq_len) = current_rseq_area();
        let child = ChildArgs { parent, memory_fd: p.opts.memory_fd, stub_addr: p.stub_addr, prog: &prog, rseq_area, rseq_len };
        // SAFETY: a raw clone without CLONE_VM is a fork; CLONE_UNTRACED keeps a host tracer of
        // the Sentry from attaching to the stub. The child runs only `stub_child`, which makes
        // raw system calls and never returns, so no state shared with other Sentry threads
        // (locks, allocator) is used in it.
        let pid = unsafe { libc::syscall(libc::SYS_clone, (libc::CLONE_UNTRACED | libc::SIGCHLD) as libc::c_ulong, 0usize, 0usize, 0usize, 0usize) };
        if pid == 0 {
            // SAFETY: we are the freshly cloned child; see `stub_child`.
            unsafe { stub_child(&child) }
        }
        if pid < 0 {
            return Err(PlatformError::last_os("clone of a stub process"));
        }
        let pid = pid as i32;
        let mut stub = Stub { pid, stub_addr: p.stub_addr, memory_fd: p.opts.memory_fd, template: Registers::default().0, pending: RefCell::new(Vec::new()) };
        match stub.wait() {
            Ok(Stop::Signal(libc::SIGTRAP)) => {}
            Ok(Stop::Signal(s)) => return Err(PlatformError::Unexpected { pid, what: format!("signal {s} during setup") }),
            Ok(Stop::Syscall) => return Err(PlatformError::Unexpected { pid, what: "syscall stop during setup".into() }),
            Err(PlatformError::StubDied { how, .. }) => {
                let step = how.strip_prefix("exit status ").and_then(|s| s.parse::<usize>().ok());
                let what = step.and_then(|s| STUB_SETUP_STEPS.get(s)).copied().unwrap_or("an unknown step");
                return Err(PlatformError::Unexpected { pid, what: format!("stub setup failed at {what} ({how})") });
            }
            Err(e) => return Err(e),
        }
        let opts = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD;
        stub.ptrace(libc::PTRACE_SETOPTIONS, 0, opts as u64, "PTRACE_SETOPTIONS")?;
        stub.template = stub.get_regs()?;
        // Strip the copy of the Sentry: everything but the stub page goes.
        stub.inject(libc::SYS_munmap, [0, p.stub_addr, 0, 0, 0, 0])?;
        let end = p.stub_addr + STUB_SIZE;
        stub.inject(libc::SYS_munmap, [end, TASK_SIZE - end, 0, 0, 0, 0])?;
        Ok(stub)
    }

    fn ptrace(&self, req: libc::c_uint, addr: u64, data: u64, op: &'static str) -> Result<(), PlatformError> {
        // SAFETY: requests used here either take no pointer or a pointer the caller made valid
        // for the request's size; the tracee is our stopped child.
        let r = unsafe { libc::ptrace(req, self.pid, addr as *mut libc::c_void, data as *mut libc::c_void) };
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

    /// Waits for the next stop of the stub.
    fn wait(&self) -> Result<Stop, PlatformError> {
        let mut status = 0;
        loop {
            // SAFETY: `status` is a valid out-pointer; waiting on our own child.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::__WALL) };
            if r == self.pid {
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
            return Ok(Stop::Signal(sig));
        }
        let how = if libc::WIFSIGNALED(status) {
            format!("signal {}", libc::WTERMSIG(status))
        } else {
            format!("exit status {}", libc::WEXITSTATUS(status))
        };
        Err(PlatformError::StubDied { pid: self.pid, how })
    }

    /// Runs one system call in the stub and returns its raw result.
    fn inject(&self, nr: libc::c_long, args: [u64; 6]) -> Result<i64, PlatformError> {
        let mut r = self.template;
        r.rip = self.stub_addr + STUB_SYSCALL_OFFSET;
        r.rax = nr as u64;
        r.orig_rax = u64::MAX;
        [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9] = args;
        self.set_regs(&r)?;
        self.ptrace(libc::PTRACE_CONT, 0, 0, "PTRACE_CONT")?;
        loop {
            match self.wait()? {
                Stop::Signal(libc::SIGTRAP) => {
                    let after = self.get_regs()?;
                    if after.rip == self.stub_addr + STUB_AFTER_INJECT {
                        return Ok(after.rax as i64);
                    }
                    return Err(PlatformError::Unexpected { pid: self.pid, what: format!("trap at {:#x} during an injected syscall", after.rip) });
                }
                Stop::Signal(sig @ (libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE)) => {
                    let at = self.get_regs()?.rip;
                    return Err(PlatformError::Unexpected { pid: self.pid, what: format!("signal {sig} at {at:#x} during an injected syscall") });
                }
                Stop::Signal(sig) => {
                    // A signal from outside arrived first: keep it for the guest, finish the call.
                    self.pending.borrow_mut().push(sig);
                    self.ptrace(libc::PTRACE_CONT, 0, 0, "PTRACE_CONT")?;
                }
                Stop::Syscall => return Err(PlatformError::Unexpected { pid: self.pid, what: "syscall stop during an injected syscall".into() }),
            }
        }
    }

    fn inject_checked(&self, nr: libc::c_long, args: [u64; 6], op: &'static str) -> Result<i64, PlatformError> {
        let r = self.inject(nr, args)?;
        if (-4095..0).contains(&r) {
            return Err(PlatformError::Host { op, source: io::Error::from_raw_os_error(-r as i32) });
        }
        Ok(r)
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        // SAFETY: killing and reaping our own child; the status is not needed.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), libc::__WALL);
        }
    }
}

/// What the cloned child needs; prepared before the clone so the child allocates nothing.
struct ChildArgs {
    parent: i32,
    memory_fd: i32,
    stub_addr: u64,
    prog: *const libc::sock_fprog,
    /// The rseq area glibc registered for the cloning thread, which the clone inherits.
    rseq_area: u64,
    rseq_len: u32,
}

/// Signature glibc registers its rseq areas with.
const RSEQ_SIG: u32 = 0x5305_3053;

extern "C" {
    /// glibc (2.35+): offset of the rseq area from the thread pointer.
    static __rseq_offset: isize;
    /// glibc (2.35+): size of the registered rseq area, 0 if rseq is not in use.
    static __rseq_size: u32;
}

/// The calling thread's registered rseq area and its length, or (0, 0) when glibc uses none.
fn current_rseq_area() -> (u64, u32) {
    // SAFETY: reading two constant glibc variables, and the thread pointer (fs:0 holds the TCB's
    // own address on x86-64 glibc).
    unsafe {
        let size = __rseq_size;
        if size == 0 {
            return (0, 0);
        }
        let tp: u64;
        core::arch::asm!("mov {0}, fs:0", out(reg) tp, options(nostack, readonly, preserves_flags));
        (tp.wrapping_add_signed(__rseq_offset as i64), size)
    }
}

/// The stub's life between clone and its first stop.
///
/// # Safety
/// Must run only in a child just forked from the Sentry: it makes raw system calls only, closes
/// every descriptor but the memory file and jumps to the stub page, never returning.
unsafe fn stub_child(a: &ChildArgs) -> ! {
    // SAFETY: each call is a raw system call on arguments built here or in `ChildArgs`,
    // which the fork copied; nothing touches shared Sentry state.
    unsafe {
        let fail = |step: i32| -> ! {
            libc::syscall(libc::SYS_exit_group, step);
            core::hint::unreachable_unchecked()
        };
        if libc::syscall(libc::SYS_prctl, libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
            fail(1);
        }
        if libc::syscall(libc::SYS_getppid) as i32 != a.parent {
            fail(2);
        }
        // The kernel would write the inherited rseq area on every return to user mode, and it
        // is about to be unmapped: unregister it (glibc registers 32 bytes whatever it exports).
        if a.rseq_area != 0
            && libc::syscall(libc::SYS_rseq, a.rseq_area, a.rseq_len, 1, RSEQ_SIG) != 0
            && libc::syscall(libc::SYS_rseq, a.rseq_area, 32u32, 1, RSEQ_SIG) != 0
        {
            fail(8);
        }
        let dfl = [0u64; 4];
        for sig in 1..=64 {
            libc::syscall(libc::SYS_rt_sigaction, sig, dfl.as_ptr(), 0usize, 8usize);
        }
        let empty = 0u64;
        libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &empty as *const u64, 0usize, 8usize);
        let fd = a.memory_fd as u32;
        if fd > 0 {
            libc::syscall(libc::SYS_close_range, 0u32, fd - 1, 0u32);
        }
        libc::syscall(libc::SYS_close_range, fd + 1, u32::MAX, 0u32);
        if libc::syscall(libc::SYS_ptrace, libc::PTRACE_TRACEME, 0, 0, 0) != 0 {
            fail(3);
        }
        let page = libc::syscall(
            libc::SYS_mmap,
            a.stub_addr,
            STUB_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
            -1,
            0,
        );
        if page as u64 != a.stub_addr {
            fail(4);
        }
        let dst = a.stub_addr as *mut u8;
        for (i, b) in STUB_CODE.iter().enumerate() {
            core::ptr::write_volatile(dst.add(i), *b);
        }
        for i in STUB_CODE.len()..STUB_SIZE as usize {
            core::ptr::write_volatile(dst.add(i), 0xcc);
        }
        if libc::syscall(libc::SYS_mprotect, a.stub_addr, STUB_SIZE, libc::PROT_READ | libc::PROT_EXEC) != 0 {
            fail(5);
        }
        if libc::syscall(libc::SYS_prctl, libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            fail(6);
        }
        if libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, a.prog) != 0 {
            fail(7);
        }
        core::arch::asm!("jmp {0}", in(reg) a.stub_addr, options(noreturn));
    }
}

/// Pins the calling thread to the CPU it runs on; a stub cloned afterwards inherits it.
fn pin_to_current_cpu() {
    // SAFETY: sched_getcpu has no arguments; the cpu_set_t is a plain bit array we own.
    unsafe {
        let cpu = libc::sched_getcpu();
        if cpu < 0 {
            return;
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu as usize, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

struct PtraceAddressSpace {
    stub: Rc<Stub>,
}

impl AddressSpace for PtraceAddressSpace {
    fn map(&mut self, addr: u64, len: u64, prot: Prot, offset: u64) -> Result<(), PlatformError> {
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        // The memory file keeps the Sentry's descriptor number in the stub.
        let fd = self.stub.memory_fd as u64;
        self.stub.inject_checked(libc::SYS_mmap, [addr, len, prot.bits(), flags, fd, offset], "mmap in the stub")?;
        Ok(())
    }

    fn unmap(&mut self, addr: u64, len: u64) -> Result<(), PlatformError> {
        self.stub.inject_checked(libc::SYS_munmap, [addr, len, 0, 0, 0, 0], "munmap in the stub")?;
        Ok(())
    }

    fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), PlatformError> {
        self.stub.inject_checked(libc::SYS_mprotect, [addr, len, prot.bits(), 0, 0, 0], "mprotect in the stub")?;
        Ok(())
    }
}

struct PtraceContext {
    stub: Rc<Stub>,
}

impl Context for PtraceContext {
    fn switch(&mut self, regs: &mut Registers) -> Result<Event, PlatformError> {
        if let Some(sig) = self.stub.pending.borrow_mut().pop() {
            return Ok(Event::Signal(sig));
        }
        let s = &self.stub;
        s.set_regs(&regs.0)?;
        s.ptrace(libc::PTRACE_SYSEMU, 0, 0, "PTRACE_SYSEMU")?;
        let stop = s.wait()?;
        regs.0 = s.get_regs()?;
        match stop {
            Stop::Syscall => Ok(Event::Syscall),
            Stop::Signal(sig) => {
                // SAFETY: siginfo_t is plain data; PTRACE_GETSIGINFO fills it.
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                s.ptrace(libc::PTRACE_GETSIGINFO, 0, &mut info as *mut _ as u64, "PTRACE_GETSIGINFO")?;
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
        let mut buf = vec![0u8; 4096];
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        self.stub.ptrace(libc::PTRACE_GETREGSET, NT_X86_XSTATE, &mut iov as *mut _ as u64, "PTRACE_GETREGSET")?;
        buf.truncate(iov.iov_len);
        Ok(FpuState(buf))
    }

    fn set_fpu_state(&mut self, state: &FpuState) -> Result<(), PlatformError> {
        let mut iov = libc::iovec { iov_base: state.0.as_ptr().cast_mut().cast(), iov_len: state.0.len() };
        self.stub.ptrace(libc::PTRACE_SETREGSET, NT_X86_XSTATE, &mut iov as *mut _ as u64, "PTRACE_SETREGSET")
    }

    fn host_tid(&self) -> i32 {
        self.stub.pid
    }
}

const NT_X86_XSTATE: u64 = 0x202;

/// Installs the stub's filter without the kernel's speculation mitigations for seccomp tasks
/// (forced SSBD and IBPB on every switch), as gVisor does: with them every PTRACE_SYSEMU round
/// trip pays a flush. Isolation between guest and Sentry rests on separate address spaces.
const SECCOMP_FILTER_FLAG_SPEC_ALLOW: libc::c_ulong = 1 << 2;
