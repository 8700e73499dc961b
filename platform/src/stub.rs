//! What every stub-based platform shares: reserving the stub's address range, cloning a stub
//! from the Sentry and stripping it down, the stub's seccomp filter, CPU pinning.
//!
//! A stub is a clone of the Sentry (or, under systrap, of a stub factory that is one) made with
//! CLONE_UNTRACED (a host strace of the Sentry can not take it over). Between the clone and its
//! first stop the child runs only raw system calls on data prepared before the clone: it may
//! not allocate or take a lock, since another Sentry thread may have held one at the moment of
//! the clone.

use std::io;

use crate::{PlatformError, PAGE_SIZE};

/// One past the highest user address on x86-64 with 4-level paging (TASK_SIZE_MAX).
pub const TASK_SIZE: u64 = (1 << 47) - PAGE_SIZE;
/// The lowest address a guest may map (the host's default vm.mmap_min_addr).
pub const MMAP_MIN_ADDR: u64 = 0x10000;

/// Finds the highest free range of `size` bytes below TASK_SIZE in the Sentry, starting at a
/// multiple of `align` (a power of two, at most 1 MiB), and reserves it (PROT_NONE), so that
/// no Sentry mapping is ever there to be clobbered in a stub.
pub fn reserve_region(size: u64, align: u64) -> Result<u64, PlatformError> {
    debug_assert!(align.is_power_of_two() && align <= 1 << 20);
    let mut addr = (TASK_SIZE - size) & !(align - 1);
    for _ in 0..4096 {
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping; a PROT_NONE anonymous
        // reservation touches no existing memory.
        let p = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                size as usize,
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
            // SAFETY: `p` is the mapping just made, of `size` bytes, used by nobody.
            unsafe { libc::munmap(p, size as usize) };
        }
        addr -= 1 << 20;
    }
    Err(PlatformError::Host { op: "reserving the stub's address range", source: io::Error::from_raw_os_error(libc::ENOMEM) })
}

/// A system call the stub's own code may make: its number, and the exact value its first
/// argument must have (None: any). A number may come more than once, with different values.
#[derive(Clone, Copy)]
pub struct Allowed(pub u32, pub Option<u64>);

/// The stub's seccomp program: calls in `allowed` from instruction pointers in `code` are
/// let through; other calls from `code` kill the stub; everything else raises SIGSYS (under
/// systrap, that is how guest syscalls reach the Sentry; under ptrace, only the kernel's
/// vsyscall emulation gets there, since PTRACE_SYSEMU stops guest syscalls first).
pub fn stub_filter(code: std::ops::Range<u64>, allowed: &[Allowed]) -> Vec<libc::sock_filter> {
    const LD_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const JGE: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
    const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    assert!(code.start >> 32 == (code.end - 1) >> 32 && code.end as u32 != 0, "stub code straddles a 4 GiB boundary");
    let ins = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let n = allowed.len();
    // Layout: checks at 0..=7, one compare per allowed call at 8..8+n, then kill (reached by
    // falling through), allow, outside, and a block of six checking the first argument for
    // each call that has one.
    let (allow, out) = (9 + n, 10 + n);
    let to = |target: usize, at: usize| u8::try_from(target - at - 1).expect("stub filter jump too long");
    let mut f = vec![
        ins(LD_ABS, 0, 0, 4), // seccomp_data.arch
        ins(JEQ, 0, to(out, 1), AUDIT_ARCH_X86_64),
        ins(LD_ABS, 0, 0, 12), // instruction_pointer, high half
        ins(JEQ, 0, to(out, 3), (code.start >> 32) as u32),
        ins(LD_ABS, 0, 0, 8), // instruction_pointer, low half
        ins(JGE, 0, to(out, 5), code.start as u32),
        ins(JGE, to(out, 6), 0, code.end as u32),
        ins(LD_ABS, 0, 0, 0), // nr
    ];
    let mut blocks = Vec::new();
    for (i, a) in allowed.iter().enumerate() {
        let target = match a.1 {
            None => allow,
            Some(v) => {
                let at = out + 1 + 6 * blocks.len();
                blocks.push((a.0, v));
                at
            }
        };
        // A number's later entries are reached through its first one's block.
        f.push(ins(JEQ, to(target, 8 + i), 0, a.0));
    }
    f.push(ins(RET, 0, 0, libc::SECCOMP_RET_KILL_PROCESS));
    f.push(ins(RET, 0, 0, libc::SECCOMP_RET_ALLOW));
    f.push(ins(RET, 0, 0, libc::SECCOMP_RET_TRAP));
    const JA: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;
    for (i, &(nr, v)) in blocks.iter().enumerate() {
        // BPF jumps only forward, so each block ends in its own returns: allow, then kill (or
        // on to the block of the number's next value).
        f.push(ins(LD_ABS, 0, 0, 16)); // args[0], low half
        f.push(ins(JEQ, 0, 3, v as u32));
        f.push(ins(LD_ABS, 0, 0, 20)); // args[0], high half
        f.push(ins(JEQ, 0, 1, (v >> 32) as u32));
        f.push(ins(RET, 0, 0, libc::SECCOMP_RET_ALLOW));
        match blocks[i + 1..].iter().position(|b| b.0 == nr) {
            Some(j) => {
                let at = f.len();
                f.push(ins(JA, 0, 0, (out + 1 + 6 * (i + 1 + j) - at - 1) as u32));
            }
            None => f.push(ins(RET, 0, 0, libc::SECCOMP_RET_KILL_PROCESS)),
        }
    }
    f
}

/// Installs the stub's filter without the kernel's speculation mitigations for seccomp tasks
/// (forced SSBD and IBPB on every switch), as gVisor does: with them every round trip into the
/// stub pays a flush (getppid under ptrace: 14.1 us with, 11.2 us without, on a 2-vCPU VM).
/// Isolation between guest and Sentry rests on their separate address spaces.
pub const SECCOMP_FILTER_FLAG_SPEC_ALLOW: libc::c_ulong = 1 << 2;

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

/// The CPUs the Sentry may use, as they were before any thread was pinned.
static ALL_CPUS: std::sync::OnceLock<libc::cpu_set_t> = std::sync::OnceLock::new();

/// The CPUs the Sentry may use. Recorded the first time (the platforms ask when they are made,
/// before any pinning): threads inherit their creator's pinning, so their own mask says less.
pub fn all_cpus() -> libc::cpu_set_t {
    *ALL_CPUS.get_or_init(|| {
        // SAFETY: the cpu_set_t is a plain bit array we own; on failure it says CPU 0 only.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                libc::CPU_SET(0, &mut set);
            }
            set
        }
    })
}

/// Lets thread `tid` (0: the caller) run on every CPU the Sentry may use again: a new Sentry
/// thread or stub thread inherits the pinning of the one that made it.
pub fn unpin(tid: i32) {
    let set = all_cpus();
    // SAFETY: a plain bit array we own; setting a thread's affinity touches no memory.
    unsafe { libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) };
}

/// Pins thread `tid` (0: the caller) to `cpu`.
pub fn pin(tid: i32, cpu: usize) {
    // SAFETY: a plain bit array we own; setting a thread's affinity touches no memory.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Pins the calling thread to the CPU it runs on; a stub cloned afterwards inherits it.
pub fn pin_to_current_cpu() {
    // SAFETY: sched_getcpu has no arguments.
    let cpu = unsafe { libc::sched_getcpu() };
    if cpu >= 0 {
        pin(0, cpu as usize);
    }
}

/// Everything a cloned child needs, prepared before the clone.
pub struct ChildArgs {
    /// The Sentry's pid, to notice a parent that died before PR_SET_PDEATHSIG took effect.
    pub parent: i32,
    /// Descriptors the stub keeps (the memory file; systrap's context file; -1 for none). All
    /// others are closed.
    pub keep_fds: [i32; 2],
    /// Where the stub's code page goes.
    pub code_addr: u64,
    /// The code, copied to `code_addr` (at most a page; the rest is filled with int3).
    pub code: &'static [u8],
    /// The seccomp program.
    pub prog: *const libc::sock_fprog,
    /// The rseq area the clone inherits from the cloning thread, to unregister.
    pub rseq_area: u64,
    /// Its registered length.
    pub rseq_len: u32,
    /// Platform-specific words (systrap: the context file's descriptor, the handler's and the
    /// restorer's addresses, the context's offset in the file, the entry).
    pub extra: [u64; 5],
}

/// Setup steps a child reports by its exit status when it fails.
pub const SETUP_STEPS: [&str; 16] = [
    "",
    "prctl(PR_SET_PDEATHSIG)",
    "its parent exiting",
    "rseq unregistration",
    "mapping the stub code",
    "protecting the stub code",
    "prctl(PR_SET_NO_NEW_PRIVS)",
    "installing its seccomp filter",
    "ptrace(PTRACE_TRACEME)",
    "mapping the shared context",
    "sigaltstack",
    "installing its signal handlers",
    "setting its signal mask",
    "",
    "",
    "",
];

/// A raw system call with six 64-bit arguments; returns the raw result (-errno on failure).
/// Stub children use it instead of `libc::syscall`, whose variadic arguments would pass a bare
/// integer literal as 32 bits and leave the upper half of a 64-bit register undefined.
///
/// # Safety
/// As the system call itself: pointer arguments must be valid for it.
pub unsafe fn sys(nr: libc::c_long, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the caller vouches for the arguments; `syscall` clobbers only rcx and r11.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2], in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Exits the child with a setup step's number.
///
/// # Safety
/// Only in a stub child.
pub unsafe fn child_fail(step: i32) -> ! {
    // SAFETY: exit_group ends the child; nothing after it runs.
    unsafe {
        sys(libc::SYS_exit_group, [step as u64, 0, 0, 0, 0, 0]);
        core::hint::unreachable_unchecked()
    }
}

/// Clones a stub that runs `child` (which must never return).
pub fn clone_stub(args: &ChildArgs, child: unsafe fn(&ChildArgs) -> !) -> Result<i32, PlatformError> {
    // SAFETY: a raw clone without CLONE_VM is a fork; CLONE_UNTRACED keeps a host tracer of the
    // Sentry from attaching to the stub. The child runs only `child`, which makes raw system
    // calls and never returns, so no state shared with other Sentry threads is used in it.
    let pid = unsafe { libc::syscall(libc::SYS_clone, (libc::CLONE_UNTRACED | libc::SIGCHLD) as libc::c_ulong, 0usize, 0usize, 0usize, 0usize) };
    if pid == 0 {
        // SAFETY: we are the freshly cloned child.
        unsafe { child(args) }
    }
    if pid < 0 {
        return Err(PlatformError::last_os("clone of a stub process"));
    }
    Ok(pid as i32)
}

thread_local! {
    static SENTRY_TID: i32 = {
        // SAFETY: gettid has no arguments and cannot fail.
        unsafe { libc::gettid() }
    };
}

/// The calling Sentry thread's host tid (the thread that drives or traces a stub thread).
pub fn sentry_tid() -> i32 {
    SENTRY_TID.with(|t| *t)
}

/// Builds the arguments common to every stub. `prog` must outlive the clone.
pub fn child_args(keep_fds: [i32; 2], code_addr: u64, code: &'static [u8], prog: &libc::sock_fprog) -> ChildArgs {
    let (rseq_area, rseq_len) = current_rseq_area();
    ChildArgs { parent: std::process::id() as i32, keep_fds, code_addr, code, prog, rseq_area, rseq_len, extra: [0; 5] }
}

/// The first steps of every stub: die with the Sentry, forget the Sentry's rseq area, signal
/// handlers and descriptors, and map the stub code page. Signals stay as the clone left them.
///
/// # Safety
/// Only in a stub child, first thing.
pub unsafe fn child_common(a: &ChildArgs) {
    // SAFETY: raw system calls on arguments built before the clone, which the fork copied;
    // nothing touches shared Sentry state.
    unsafe {
        if sys(libc::SYS_prctl, [libc::PR_SET_PDEATHSIG as u64, libc::SIGKILL as u64, 0, 0, 0, 0]) != 0 {
            child_fail(1);
        }
        if sys(libc::SYS_getppid, [0; 6]) as i32 != a.parent {
            child_fail(2);
        }
        // Its own process group: a terminal's signals (Ctrl-C) reach the Sentry, which passes
        // them to the guest, and never the stub itself.
        sys(libc::SYS_setpgid, [0; 6]);
        // The kernel would write the inherited rseq area on every return to user mode, and it
        // is about to be unmapped: unregister it (glibc registers 32 bytes whatever it exports).
        if a.rseq_area != 0
            && sys(libc::SYS_rseq, [a.rseq_area, u64::from(a.rseq_len), 1, u64::from(RSEQ_SIG), 0, 0]) != 0
            && sys(libc::SYS_rseq, [a.rseq_area, 32, 1, u64::from(RSEQ_SIG), 0, 0]) != 0
        {
            child_fail(3);
        }
        let dfl = [0u64; 4];
        for sig in 1..=64 {
            sys(libc::SYS_rt_sigaction, [sig, dfl.as_ptr() as u64, 0, 8, 0, 0]);
        }
        // Close everything but the kept descriptors (sorted, -1 for unused).
        let mut next = 0u32;
        for fd in a.keep_fds {
            if fd < 0 {
                continue;
            }
            if fd as u32 > next {
                sys(libc::SYS_close_range, [u64::from(next), u64::from(fd as u32 - 1), 0, 0, 0, 0]);
            }
            next = fd as u32 + 1;
        }
        sys(libc::SYS_close_range, [u64::from(next), u64::from(u32::MAX), 0, 0, 0, 0]);
        let rw = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED) as u64;
        let page = sys(libc::SYS_mmap, [a.code_addr, PAGE_SIZE, rw, flags, u64::MAX, 0]);
        if page as u64 != a.code_addr {
            child_fail(4);
        }
        let dst = a.code_addr as *mut u8;
        for i in 0..PAGE_SIZE as usize {
            let b = if i < a.code.len() { a.code[i] } else { 0xcc };
            core::ptr::write_volatile(dst.add(i), b);
        }
        if sys(libc::SYS_mprotect, [a.code_addr, PAGE_SIZE, (libc::PROT_READ | libc::PROT_EXEC) as u64, 0, 0, 0]) != 0 {
            child_fail(5);
        }
    }
}

/// The last steps: no new privileges, the filter, and a jump to `entry` in the stub code.
///
/// # Safety
/// Only in a stub child, once everything else is set up.
pub unsafe fn child_enter(a: &ChildArgs, entry: u64) -> ! {
    // SAFETY: raw system calls on data prepared before the clone; the jump goes to the stub
    // code page mapped by `child_common`, which never returns.
    unsafe {
        if sys(libc::SYS_prctl, [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0]) != 0 {
            child_fail(6);
        }
        if sys(libc::SYS_seccomp, [u64::from(libc::SECCOMP_SET_MODE_FILTER), SECCOMP_FILTER_FLAG_SPEC_ALLOW, a.prog as u64, 0, 0, 0]) != 0 {
            child_fail(7);
        }
        core::arch::asm!("jmp {0}", in(reg) entry, options(noreturn));
    }
}

/// Describes how a stub ended, from its wait status; setup failures name their step.
pub fn describe_death(pid: i32, status: i32) -> PlatformError {
    let how = if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        let code = libc::WEXITSTATUS(status);
        match SETUP_STEPS.get(code as usize) {
            Some(step) if !step.is_empty() => format!("setup failed at {step}"),
            _ => format!("exit status {code}"),
        }
    };
    PlatformError::StubDied { pid, how }
}
