//! The Sentry's own host seccomp filter: the system calls the Sentry (and the stubs it clones,
//! which inherit the filter) may make once a sandbox runs. Anything else raises SIGSYS, which
//! ends the sandbox with a clear message: a Sentry bug, or a compromised Sentry, cannot open a
//! host file, make a socket or exec a program.
//!
//! Guest syscalls never come here: under ptrace they stop before seccomp runs, and under
//! systrap the stub's own filter traps them (TRAP on both filters: the stub's handler serves
//! them). Each entry says why the Sentry needs it.

use platform::PlatformError;

/// (number, reason) for every call allowed after start-up.
pub const ALLOWED: &[(libc::c_long, &str)] = &[
    // Guest I/O on the sandbox's own descriptors (stdio, the memory file).
    (libc::SYS_read, "guest reads from host stdio"),
    (libc::SYS_write, "guest writes to host stdio; strace and audit output"),
    (libc::SYS_readv, "guest readv on host stdio"),
    (libc::SYS_writev, "guest writev on host stdio"),
    (libc::SYS_fstat, "fstat of host stdio"),
    (libc::SYS_ioctl, "TCGETS/TIOCGWINSZ on host stdio"),
    (libc::SYS_poll, "readiness of host stdio"),
    (libc::SYS_fcntl, "descriptor flags (std, stdio)"),
    (libc::SYS_close, "closing the sandbox's own descriptors"),
    (libc::SYS_pread64, "reads of files the Gofer donated"),
    (libc::SYS_pwrite64, "writes of files the Gofer donated"),
    (libc::SYS_preadv, "reads of files the Gofer donated; tmpfs file data in the memory file"),
    (libc::SYS_pwritev, "writes of files the Gofer donated; tmpfs file data in the memory file"),
    (libc::SYS_fsync, "fsync of files the Gofer donated"),
    (libc::SYS_lseek, "SEEK_DATA/SEEK_HOLE on files the Gofer donated and the memory file"),
    (libc::SYS_fdatasync, "fdatasync of files the Gofer donated"),
    (libc::SYS_sendmsg, "requests to the Gofer"),
    (libc::SYS_recvmsg, "replies (and donated descriptors) from the Gofer"),
    (libc::SYS_dup, "duplicating stdio for the guest's fd table"),
    // Memory: the Sentry's heap, the memory file, thread stacks; the stubs' windows.
    (libc::SYS_mmap, "allocation; stubs map memory-file windows"),
    (libc::SYS_munmap, "allocation; stubs unmap windows"),
    (libc::SYS_mprotect, "thread stack guards; stubs protect windows"),
    (libc::SYS_madvise, "the allocator returns memory"),
    (libc::SYS_mremap, "the allocator grows buffers"),
    (libc::SYS_brk, "the allocator"),
    (libc::SYS_fallocate, "punching holes in the memory file"),
    (libc::SYS_ftruncate, "sizing a systrap context file"),
    (libc::SYS_memfd_create, "a systrap context file per stub"),
    // Threads, stubs and their control.
    (libc::SYS_clone, "cloning a stub"),
    (libc::SYS_clone3, "spawning task threads"),
    (libc::SYS_futex, "locks; systrap hand-offs"),
    (libc::SYS_set_robust_list, "thread start"),
    (libc::SYS_rseq, "thread start; a stub unregisters the inherited area"),
    (libc::SYS_set_tid_address, "thread start"),
    (libc::SYS_exit, "thread exit"),
    (libc::SYS_exit_group, "the end of the sandbox; a failing stub's exit"),
    (libc::SYS_wait4, "reaping stubs; ptrace stops"),
    (libc::SYS_kill, "killing a stub at the end"),
    (libc::SYS_tgkill, "std's thread signals"),
    (libc::SYS_tkill, "kicking one stub thread back to the Sentry"),
    (libc::SYS_ptrace, "the ptrace platform; PTRACE_TRACEME in its stubs"),
    (libc::SYS_prctl, "PR_SET_PDEATHSIG and PR_SET_NO_NEW_PRIVS in stubs; thread names"),
    (libc::SYS_seccomp, "a stub installs its own filter"),
    (libc::SYS_arch_prctl, "systrap stubs set the guest's FS/GS base"),
    (libc::SYS_close_range, "a stub closes inherited descriptors"),
    (libc::SYS_getpid, "process identity"),
    (libc::SYS_gettid, "thread identity"),
    (libc::SYS_getppid, "a stub checks its parent is alive"),
    (libc::SYS_setpgid, "a stub leaves the terminal's process group"),
    (libc::SYS_sched_getaffinity, "CPU placement of stubs"),
    (libc::SYS_sched_setaffinity, "CPU placement of stubs"),
    (libc::SYS_sched_yield, "guest sched_yield"),
    (libc::SYS_membarrier, "guest membarrier reaching the stubs' threads; stubs register for it"),
    (libc::SYS_getcpu, "CPU placement (vDSO fallback)"),
    // Signals.
    (libc::SYS_rt_sigaction, "stubs reset and install handlers"),
    (libc::SYS_rt_sigprocmask, "stubs and threads set masks"),
    (libc::SYS_rt_sigreturn, "systrap handlers return; the Sentry's own handlers"),
    (libc::SYS_sigaltstack, "thread start; systrap signal stacks"),
    (libc::SYS_restart_syscall, "restarting an interrupted sleep"),
    (libc::SYS_rt_sigtimedwait, "taking the signals sent to the sandbox, to pass them to the guest"),
    // Time and randomness.
    (libc::SYS_clock_gettime, "guest clocks (vDSO fallback)"),
    (libc::SYS_clock_getres, "guest clock_getres"),
    (libc::SYS_clock_nanosleep, "guest sleeps"),
    (libc::SYS_nanosleep, "guest sleeps"),
    (libc::SYS_gettimeofday, "guest time (vDSO fallback)"),
    (libc::SYS_getrandom, "guest getrandom, AT_RANDOM, /dev/urandom"),
    (libc::SYS_prlimit64, "thread start reads the stack limit"),
    (libc::SYS_sysinfo, "guest sysinfo: the host's memory totals and uptime"),
];

/// Path calls that fail with EACCES instead of ending the sandbox: glibc's allocator probes
/// /proc/sys/vm/overcommit_memory when it first trims a thread's heap, and copes with a refusal.
/// They are refused all the same: nothing is opened.
pub const REFUSED: &[(libc::c_long, i32)] = &[(libc::SYS_openat, libc::EACCES), (libc::SYS_open, libc::EACCES)];

/// Confines the whole Sentry process from now on.
pub fn confine() -> Result<(), PlatformError> {
    platform::seccomp::install_sigsys_reporter();
    let nrs: Vec<u32> = ALLOWED.iter().map(|&(nr, _)| nr as u32).collect();
    let refused: Vec<(u32, u16)> = REFUSED.iter().map(|&(nr, e)| (nr as u32, e as u16)).collect();
    platform::seccomp::install_allowlist(&nrs, &refused)
}
