//! The shape of each system call's arguments and result, as data.
//!
//! One [`SyscallInfo`] per x86-64 syscall number says its name, how to show each argument
//! (strace), how to show its result, and which family it belongs to (audit). The Sentry's
//! dispatch table pairs each entry with a handler; nothing here runs a syscall.

/// How one argument register is shown, and (for pointers) what it points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Signed decimal (`int`, `long`, `off_t`, `pid_t`).
    Int,
    /// Unsigned decimal (`size_t`, `unsigned`, counts).
    UInt,
    /// Hexadecimal: addresses and opaque values (`void *`, `unsigned long` cookies).
    Hex,
    /// A file descriptor.
    Fd,
    /// The directory fd of an *at call: AT_FDCWD is shown by name.
    DirFd,
    /// Permission bits (`mode_t`), octal.
    Mode,
    /// A NUL-terminated string read at entry: paths, names.
    Path,
    /// A buffer the guest hands in; the number is the index of the argument holding its length.
    InBuf(u8),
    /// A buffer the kernel fills, shown at exit: its length is the return value.
    OutBuf,
    /// An iovec array the guest hands in; the number is the index of the count argument.
    InIovec(u8),
    /// An iovec array the kernel fills (shown at exit); the number is the index of the count.
    OutIovec(u8),
    /// A NULL-terminated array of string pointers (argv, envp).
    StrArray,
    /// A bit mask shown by flag names.
    Flags(FlagSet),
    /// A value out of a fixed set, shown by name.
    Enum(EnumSet),
    /// A signal number, shown by name (SIGTERM).
    Signal,
    /// A pointer to a struct the guest hands in, decoded at entry.
    In(StructKind),
    /// A pointer to a struct the kernel fills, decoded at exit on success.
    Out(StructKind),
    /// A pointer to a struct read at entry and written at exit.
    InOut(StructKind),
}

/// How a result is shown. Negative values in -4095..-1 are always errors, whatever the kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// Signed decimal.
    Int,
    /// Hexadecimal (an address: mmap, brk).
    Hex,
    /// A new file descriptor.
    Fd,
    /// The call does not return (exit, exit_group, rt_sigreturn's result is the restored rax).
    NoReturn,
}

/// Bit-mask argument types that strace shows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagSet {
    /// open(2) flags: the access mode (O_RDONLY, O_WRONLY, O_RDWR) then O_* bits.
    Open,
    /// AT_* flags of the *at calls (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, AT_REMOVEDIR...).
    At,
    /// PROT_* of mmap/mprotect.
    Prot,
    /// MAP_* of mmap (the type and the modifiers).
    Map,
    /// MREMAP_* of mremap.
    Mremap,
    /// CLONE_* of clone/unshare (the low byte is the exit signal).
    Clone,
    /// F_OK/R_OK/W_OK/X_OK of access(2).
    Access,
    /// SA_* of a sigaction (shown inside the struct).
    SigAction,
    /// WNOHANG, WUNTRACED... of wait4/waitid.
    Wait,
    /// GRND_* of getrandom.
    Getrandom,
    /// O_CLOEXEC/O_NONBLOCK style flags of pipe2, dup3, eventfd2, epoll_create1...
    Cloexec,
    /// MSG_* of send/recv.
    Msg,
    /// SOCK_* type with SOCK_NONBLOCK/SOCK_CLOEXEC.
    SockType,
    /// TIMER_ABSTIME of clock_nanosleep / timerfd.
    Timer,
    /// RENAME_* of renameat2.
    Rename,
    /// MS_* of mount.
    Mount,
    /// UMOUNT_*/MNT_* of umount2.
    Umount,
    /// MFD_* of memfd_create.
    Memfd,
    /// EPOLL* events.
    Epoll,
    /// POLL* events.
    Poll,
    /// IN_* of inotify_add_watch.
    Inotify,
    /// STATX_* mask.
    StatxMask,
    /// LOCK_* of flock.
    Flock,
    /// MS_ASYNC/MS_SYNC/MS_INVALIDATE of msync.
    Msync,
    /// MCL_* of mlockall.
    Mlockall,
}

/// Enumerated argument types that strace shows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnumSet {
    /// ARCH_SET_FS, ARCH_GET_FS... of arch_prctl.
    ArchPrctl,
    /// An ioctl request (TCGETS, TIOCGWINSZ, FIONREAD...).
    Ioctl,
    /// An fcntl command (F_GETFL, F_SETFD...).
    Fcntl,
    /// A clock id (CLOCK_REALTIME, CLOCK_MONOTONIC...).
    ClockId,
    /// An rlimit resource (RLIMIT_NOFILE...).
    Rlimit,
    /// SIG_BLOCK/SIG_UNBLOCK/SIG_SETMASK.
    SigprocmaskHow,
    /// SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE.
    Whence,
    /// FUTEX_WAIT, FUTEX_WAKE... with FUTEX_PRIVATE_FLAG/FUTEX_CLOCK_REALTIME.
    Futex,
    /// PR_SET_NAME... of prctl.
    Prctl,
    /// AF_UNIX, AF_INET... of socket.
    AddressFamily,
    /// MADV_* of madvise.
    Madvise,
    /// P_PID, P_PGID, P_ALL... of waitid.
    IdType,
    /// EPOLL_CTL_ADD/MOD/DEL.
    EpollCtl,
    /// SHUT_RD/SHUT_WR/SHUT_RDWR.
    Shutdown,
    /// SOL_SOCKET, IPPROTO_TCP... of get/setsockopt.
    SockLevel,
    /// ITIMER_REAL/VIRTUAL/PROF.
    Itimer,
    /// SCHED_OTHER, SCHED_FIFO... policy.
    SchedPolicy,
    /// PRIO_PROCESS/PGRP/USER.
    Priority,
}

/// Struct types a pointer argument can point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StructKind {
    /// struct timespec.
    Timespec,
    /// struct timeval.
    Timeval,
    /// struct timezone.
    Timezone,
    /// struct itimerspec.
    Itimerspec,
    /// struct itimerval.
    Itimerval,
    /// struct new_utsname.
    Utsname,
    /// struct stat.
    Stat,
    /// struct statx.
    Statx,
    /// struct statfs.
    Statfs,
    /// struct rlimit.
    Rlimit,
    /// struct rusage.
    Rusage,
    /// struct sysinfo.
    Sysinfo,
    /// struct tms.
    Tms,
    /// struct sigaction (the kernel's layout: handler, flags, restorer, mask).
    Sigaction,
    /// A 64-bit signal set.
    SigSet,
    /// siginfo_t.
    Siginfo,
    /// stack_t of sigaltstack.
    Stack,
    /// A socket address; the number is the index of the length argument.
    Sockaddr(u8),
    /// An array of struct pollfd; the number is the index of the count argument.
    Pollfd(u8),
    /// struct epoll_event.
    EpollEvent,
    /// fd_set of select.
    FdSet,
    /// `int[2]` filled by pipe/socketpair.
    IntPair,
    /// A single int (futex word, *status of wait4, optval).
    Int,
    /// A single 64-bit value (off_t *, loff_t *).
    Long,
    /// struct msghdr.
    Msghdr,
    /// struct clone_args of clone3.
    CloneArgs,
    /// struct open_how of openat2.
    OpenHow,
    /// struct linux_dirent64 records (getdents64 output).
    Dirents,
    /// struct sched_param.
    SchedParam,
    /// struct robust_list_head.
    RobustList,
    /// struct rseq.
    Rseq,
    /// struct user_desc of set_thread_area.
    UserDesc,
    /// cpu_set_t; the number is the index of the size argument.
    CpuSet(u8),
}

/// A family of syscalls, for grouping in audit reports and policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Files, directories, file descriptors, polling.
    File,
    /// Processes, threads, credentials, scheduling, resource limits.
    Process,
    /// Signals.
    Signal,
    /// Address-space management.
    Memory,
    /// Sockets.
    Network,
    /// Clocks, timers, sleeping.
    Time,
    /// SysV IPC, message queues, futexes.
    Ipc,
    /// Whole-system operations: mount, reboot, modules, host names, keyrings, BPF, perf.
    System,
}

impl Family {
    /// The name used in reports and policy files.
    pub const fn name(self) -> &'static str {
        match self {
            Family::File => "file",
            Family::Process => "process",
            Family::Signal => "signal",
            Family::Memory => "memory",
            Family::Network => "network",
            Family::Time => "time",
            Family::Ipc => "ipc",
            Family::System => "system",
        }
    }
}

/// Everything known about one syscall number, apart from how the Sentry serves it.
#[derive(Clone, Copy, Debug)]
pub struct SyscallInfo {
    /// The x86-64 number.
    pub nr: u32,
    /// The name, as in the kernel's table ("newfstatat", not "fstatat").
    pub name: &'static str,
    /// One entry per argument the call takes (at most six).
    pub args: &'static [Arg],
    /// How the result is shown.
    pub ret: Ret,
    /// Audit family.
    pub family: Family,
}
