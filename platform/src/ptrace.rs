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

use crate::stub;
use crate::{AddressSpace, Context, Event, NewAddressSpace, FaultInfo, FpuState, Options, Platform, PlatformError, Prot, Registers, PAGE_SIZE};

/// The stub's code page. Offsets below are into it.
const STUB_SIZE: u64 = PAGE_SIZE;
const STUB_SYSCALL_OFFSET: u64 = 16;
/// Where the instruction pointer is when the injected syscall's trailing int3 traps.
const STUB_AFTER_INJECT: u64 = STUB_SYSCALL_OFFSET + 3;
/// The code: int3 at 0 (initial stop), `syscall; int3` at 16, int3 padding everywhere else.
static STUB_CODE: [u8; 20] = [
    0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
    0x0f, 0x05, 0xcc, 0xcc,
];
/// The only system calls the stub's filter lets through, and only from its syscall instruction.
const STUB_ALLOWED_SYSCALLS: [u32; 3] = [libc::SYS_mmap as u32, libc::SYS_munmap as u32, libc::SYS_mprotect as u32];

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
        let stub_addr = stub::reserve_region(STUB_SIZE)?;
        let site = stub_addr + STUB_SYSCALL_OFFSET + 2;
        // Guest syscalls stop under PTRACE_SYSEMU before seccomp runs; what reaches the filter
        // from outside the stub (the kernel's vsyscall emulation) becomes a SIGSYS the Sentry
        // sees as a fault, rather than killing the stub.
        let filter = stub::stub_filter(site..site + 1, &STUB_ALLOWED_SYSCALLS);
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
        let stub = Rc::new(Stub::spawn(self)?);
        Ok((Box::new(PtraceAddressSpace { stub: stub.clone() }), Box::new(PtraceContext { stub })))
    }
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
            stub::pin_to_current_cpu();
        }
        let prog = libc::sock_fprog { len: p.filter.len() as u16, filter: p.filter.as_ptr().cast_mut() };
        let args = stub::child_args([p.opts.memory_fd, -1], p.stub_addr, &STUB_CODE, &prog);
        let pid = stub::clone_stub(&args, stub_child)?;
        let mut stub = Stub { pid, stub_addr: p.stub_addr, memory_fd: p.opts.memory_fd, template: Registers::default().0, pending: RefCell::new(Vec::new()) };
        match stub.wait()? {
            Stop::Signal(libc::SIGTRAP) => {}
            Stop::Signal(s) => return Err(PlatformError::Unexpected { pid, what: format!("signal {s} during setup") }),
            Stop::Syscall => return Err(PlatformError::Unexpected { pid, what: "syscall stop during setup".into() }),
        }
        let opts = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD;
        stub.ptrace(libc::PTRACE_SETOPTIONS, 0, opts as u64, "PTRACE_SETOPTIONS")?;
        stub.template = stub.get_regs()?;
        // Strip the copy of the Sentry: everything but the stub page goes.
        stub.inject_checked(libc::SYS_munmap, [0, p.stub_addr, 0, 0, 0, 0], "munmap in the stub")?;
        let end = p.stub_addr + STUB_SIZE;
        if end < stub::TASK_SIZE {
            stub.inject_checked(libc::SYS_munmap, [end, stub::TASK_SIZE - end, 0, 0, 0, 0], "munmap in the stub")?;
        }
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
        Err(stub::describe_death(self.pid, status))
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
        // SAFETY: killing and reaping our own child (pid > 0: never a process group).
        unsafe {
            if self.pid > 0 {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), libc::__WALL);
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
            // The `syscall` instruction leaves the return address in rcx: a stop where it is
            // not there came from `int $0x80` (the 32-bit ABI, which the sandbox does not
            // offer). The guest gets SIGSYS, as under systrap.
            Stop::Syscall if regs.0.rcx != regs.0.rip => Ok(Event::Fault(FaultInfo { signo: libc::SIGSYS, code: 1, addr: regs.0.rip })),
            Stop::Syscall => Ok(Event::Syscall),
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
