//! The one table of x86-64 system calls: number, name, argument shapes, result kind, family.
//!
//! [`SYSCALLS`] holds one [`SyscallInfo`] per number in [`crate::nr`], sorted by number.
//! [`lookup`] is the hot-path accessor: a direct index built at compile time, no search, no
//! lock, no allocation. Argument shapes follow the kernel's `SYSCALL_DEFINEn` prototypes;
//! a pointer with no better description is [`crate::schema::Arg::Hex`].

use crate::nr;
use crate::schema::{
    Arg::*, EnumSet as E, Family, FlagSet as F, Ret, StructKind as S, SyscallInfo,
};

/// Builds the table, its length and the list of `nr` constant names it uses (for the tests).
macro_rules! syscall_table {
    ($( $konst:ident $name:literal [$($arg:expr),* $(,)?] $ret:ident $fam:ident; )*) => {
        /// How many syscalls the table describes.
        pub const SYSCALL_COUNT: usize = [$(stringify!($konst)),*].len();

        const TABLE: [SyscallInfo; SYSCALL_COUNT] = [$(
            SyscallInfo {
                nr: nr::$konst,
                name: $name,
                args: &[$($arg),*],
                ret: Ret::$ret,
                family: Family::$fam,
            }
        ),*];

        /// The `nr` constant each entry was built from, in table order.
        #[cfg(test)]
        const CONST_NAMES: [&str; SYSCALL_COUNT] = [$(stringify!($konst)),*];
    };
}

syscall_table! {
    READ "read" [Fd, OutBuf, UInt] Int File;
    WRITE "write" [Fd, InBuf(2), UInt] Int File;
    OPEN "open" [Path, Flags(F::Open), Mode] Fd File;
    CLOSE "close" [Fd] Int File;
    STAT "stat" [Path, Out(S::Stat)] Int File;
    FSTAT "fstat" [Fd, Out(S::Stat)] Int File;
    LSTAT "lstat" [Path, Out(S::Stat)] Int File;
    POLL "poll" [InOut(S::Pollfd(1)), UInt, Int] Int File;
    LSEEK "lseek" [Fd, Int, Enum(E::Whence)] Int File;
    MMAP "mmap" [Hex, UInt, Flags(F::Prot), Flags(F::Map), Fd, Hex] Hex Memory;
    MPROTECT "mprotect" [Hex, UInt, Flags(F::Prot)] Int Memory;
    MUNMAP "munmap" [Hex, UInt] Int Memory;
    BRK "brk" [Hex] Hex Memory;
    RT_SIGACTION "rt_sigaction" [Signal, In(S::Sigaction), Out(S::Sigaction), UInt] Int Signal;
    RT_SIGPROCMASK "rt_sigprocmask"
        [Enum(E::SigprocmaskHow), In(S::SigSet), Out(S::SigSet), UInt] Int Signal;
    RT_SIGRETURN "rt_sigreturn" [] NoReturn Signal;
    IOCTL "ioctl" [Fd, Enum(E::Ioctl), Hex] Int File;
    PREAD64 "pread64" [Fd, OutBuf, UInt, Int] Int File;
    PWRITE64 "pwrite64" [Fd, InBuf(2), UInt, Int] Int File;
    READV "readv" [Fd, OutIovec(2), UInt] Int File;
    WRITEV "writev" [Fd, InIovec(2), UInt] Int File;
    ACCESS "access" [Path, Flags(F::Access)] Int File;
    PIPE "pipe" [Out(S::IntPair)] Int File;
    SELECT "select"
        [Int, InOut(S::FdSet), InOut(S::FdSet), InOut(S::FdSet), InOut(S::Timeval)] Int File;
    SCHED_YIELD "sched_yield" [] Int Process;
    MREMAP "mremap" [Hex, UInt, UInt, Flags(F::Mremap), Hex] Hex Memory;
    MSYNC "msync" [Hex, UInt, Flags(F::Msync)] Int Memory;
    MINCORE "mincore" [Hex, UInt, Hex] Int Memory;
    MADVISE "madvise" [Hex, UInt, Enum(E::Madvise)] Int Memory;
    SHMGET "shmget" [Int, UInt, Int] Int Ipc;
    SHMAT "shmat" [Int, Hex, Int] Hex Ipc;
    SHMCTL "shmctl" [Int, Int, Hex] Int Ipc;
    DUP "dup" [Fd] Fd File;
    DUP2 "dup2" [Fd, Fd] Fd File;
    PAUSE "pause" [] Int Signal;
    NANOSLEEP "nanosleep" [In(S::Timespec), Out(S::Timespec)] Int Time;
    GETITIMER "getitimer" [Enum(E::Itimer), Out(S::Itimerval)] Int Time;
    ALARM "alarm" [UInt] Int Time;
    SETITIMER "setitimer" [Enum(E::Itimer), In(S::Itimerval), Out(S::Itimerval)] Int Time;
    GETPID "getpid" [] Int Process;
    SENDFILE "sendfile" [Fd, Fd, InOut(S::Long), UInt] Int File;
    SOCKET "socket" [Enum(E::AddressFamily), Flags(F::SockType), Int] Fd Network;
    CONNECT "connect" [Fd, In(S::Sockaddr(2)), UInt] Int Network;
    ACCEPT "accept" [Fd, Out(S::Sockaddr(2)), InOut(S::Int)] Fd Network;
    SENDTO "sendto"
        [Fd, InBuf(2), UInt, Flags(F::Msg), In(S::Sockaddr(5)), UInt] Int Network;
    RECVFROM "recvfrom"
        [Fd, OutBuf, UInt, Flags(F::Msg), Out(S::Sockaddr(5)), InOut(S::Int)] Int Network;
    SENDMSG "sendmsg" [Fd, In(S::Msghdr), Flags(F::Msg)] Int Network;
    RECVMSG "recvmsg" [Fd, Out(S::Msghdr), Flags(F::Msg)] Int Network;
    SHUTDOWN "shutdown" [Fd, Enum(E::Shutdown)] Int Network;
    BIND "bind" [Fd, In(S::Sockaddr(2)), UInt] Int Network;
    LISTEN "listen" [Fd, Int] Int Network;
    GETSOCKNAME "getsockname" [Fd, Out(S::Sockaddr(2)), InOut(S::Int)] Int Network;
    GETPEERNAME "getpeername" [Fd, Out(S::Sockaddr(2)), InOut(S::Int)] Int Network;
    SOCKETPAIR "socketpair"
        [Enum(E::AddressFamily), Flags(F::SockType), Int, Out(S::IntPair)] Int Network;
    SETSOCKOPT "setsockopt" [Fd, Enum(E::SockLevel), Int, In(S::Int), UInt] Int Network;
    GETSOCKOPT "getsockopt"
        [Fd, Enum(E::SockLevel), Int, Out(S::Int), InOut(S::Int)] Int Network;
    CLONE "clone" [Flags(F::Clone), Hex, Hex, Hex, Hex] Int Process;
    FORK "fork" [] Int Process;
    VFORK "vfork" [] Int Process;
    EXECVE "execve" [Path, StrArray, StrArray] Int Process;
    EXIT "exit" [Int] NoReturn Process;
    WAIT4 "wait4" [Int, Out(S::Int), Flags(F::Wait), Out(S::Rusage)] Int Process;
    KILL "kill" [Int, Signal] Int Signal;
    UNAME "uname" [Out(S::Utsname)] Int System;
    SEMGET "semget" [Int, Int, Int] Int Ipc;
    SEMOP "semop" [Int, Hex, UInt] Int Ipc;
    SEMCTL "semctl" [Int, Int, Int, Hex] Int Ipc;
    SHMDT "shmdt" [Hex] Int Ipc;
    MSGGET "msgget" [Int, Int] Int Ipc;
    MSGSND "msgsnd" [Int, Hex, UInt, Int] Int Ipc;
    MSGRCV "msgrcv" [Int, Hex, UInt, Int, Int] Int Ipc;
    MSGCTL "msgctl" [Int, Int, Hex] Int Ipc;
    FCNTL "fcntl" [Fd, Enum(E::Fcntl), Int] Int File;
    FLOCK "flock" [Fd, Flags(F::Flock)] Int File;
    FSYNC "fsync" [Fd] Int File;
    FDATASYNC "fdatasync" [Fd] Int File;
    TRUNCATE "truncate" [Path, Int] Int File;
    FTRUNCATE "ftruncate" [Fd, Int] Int File;
    GETDENTS "getdents" [Fd, Out(S::Dirents), UInt] Int File;
    GETCWD "getcwd" [OutBuf, UInt] Int File;
    CHDIR "chdir" [Path] Int File;
    FCHDIR "fchdir" [Fd] Int File;
    RENAME "rename" [Path, Path] Int File;
    MKDIR "mkdir" [Path, Mode] Int File;
    RMDIR "rmdir" [Path] Int File;
    CREAT "creat" [Path, Mode] Fd File;
    LINK "link" [Path, Path] Int File;
    UNLINK "unlink" [Path] Int File;
    SYMLINK "symlink" [Path, Path] Int File;
    READLINK "readlink" [Path, OutBuf, UInt] Int File;
    CHMOD "chmod" [Path, Mode] Int File;
    FCHMOD "fchmod" [Fd, Mode] Int File;
    CHOWN "chown" [Path, Int, Int] Int File;
    FCHOWN "fchown" [Fd, Int, Int] Int File;
    LCHOWN "lchown" [Path, Int, Int] Int File;
    UMASK "umask" [Mode] Int File;
    GETTIMEOFDAY "gettimeofday" [Out(S::Timeval), Out(S::Timezone)] Int Time;
    GETRLIMIT "getrlimit" [Enum(E::Rlimit), Out(S::Rlimit)] Int Process;
    GETRUSAGE "getrusage" [Int, Out(S::Rusage)] Int Process;
    SYSINFO "sysinfo" [Out(S::Sysinfo)] Int System;
    TIMES "times" [Out(S::Tms)] Int Time;
    PTRACE "ptrace" [Int, Int, Hex, Hex] Int Process;
    GETUID "getuid" [] Int Process;
    SYSLOG "syslog" [Int, OutBuf, Int] Int System;
    GETGID "getgid" [] Int Process;
    SETUID "setuid" [Int] Int Process;
    SETGID "setgid" [Int] Int Process;
    GETEUID "geteuid" [] Int Process;
    GETEGID "getegid" [] Int Process;
    SETPGID "setpgid" [Int, Int] Int Process;
    GETPPID "getppid" [] Int Process;
    GETPGRP "getpgrp" [] Int Process;
    SETSID "setsid" [] Int Process;
    SETREUID "setreuid" [Int, Int] Int Process;
    SETREGID "setregid" [Int, Int] Int Process;
    GETGROUPS "getgroups" [Int, Hex] Int Process;
    SETGROUPS "setgroups" [Int, Hex] Int Process;
    SETRESUID "setresuid" [Int, Int, Int] Int Process;
    GETRESUID "getresuid" [Out(S::Int), Out(S::Int), Out(S::Int)] Int Process;
    SETRESGID "setresgid" [Int, Int, Int] Int Process;
    GETRESGID "getresgid" [Out(S::Int), Out(S::Int), Out(S::Int)] Int Process;
    GETPGID "getpgid" [Int] Int Process;
    SETFSUID "setfsuid" [Int] Int Process;
    SETFSGID "setfsgid" [Int] Int Process;
    GETSID "getsid" [Int] Int Process;
    CAPGET "capget" [Hex, Hex] Int Process;
    CAPSET "capset" [Hex, Hex] Int Process;
    RT_SIGPENDING "rt_sigpending" [Out(S::SigSet), UInt] Int Signal;
    RT_SIGTIMEDWAIT "rt_sigtimedwait"
        [In(S::SigSet), Out(S::Siginfo), In(S::Timespec), UInt] Int Signal;
    RT_SIGQUEUEINFO "rt_sigqueueinfo" [Int, Signal, In(S::Siginfo)] Int Signal;
    RT_SIGSUSPEND "rt_sigsuspend" [In(S::SigSet), UInt] Int Signal;
    SIGALTSTACK "sigaltstack" [In(S::Stack), Out(S::Stack)] Int Signal;
    UTIME "utime" [Path, Hex] Int File;
    MKNOD "mknod" [Path, Mode, UInt] Int File;
    USELIB "uselib" [Path] Int System;
    PERSONALITY "personality" [UInt] Int Process;
    USTAT "ustat" [UInt, Hex] Int File;
    STATFS "statfs" [Path, Out(S::Statfs)] Int File;
    FSTATFS "fstatfs" [Fd, Out(S::Statfs)] Int File;
    SYSFS "sysfs" [Int, Hex, Hex] Int System;
    GETPRIORITY "getpriority" [Enum(E::Priority), Int] Int Process;
    SETPRIORITY "setpriority" [Enum(E::Priority), Int, Int] Int Process;
    SCHED_SETPARAM "sched_setparam" [Int, In(S::SchedParam)] Int Process;
    SCHED_GETPARAM "sched_getparam" [Int, Out(S::SchedParam)] Int Process;
    SCHED_SETSCHEDULER "sched_setscheduler"
        [Int, Enum(E::SchedPolicy), In(S::SchedParam)] Int Process;
    SCHED_GETSCHEDULER "sched_getscheduler" [Int] Int Process;
    SCHED_GET_PRIORITY_MAX "sched_get_priority_max" [Enum(E::SchedPolicy)] Int Process;
    SCHED_GET_PRIORITY_MIN "sched_get_priority_min" [Enum(E::SchedPolicy)] Int Process;
    SCHED_RR_GET_INTERVAL "sched_rr_get_interval" [Int, Out(S::Timespec)] Int Process;
    MLOCK "mlock" [Hex, UInt] Int Memory;
    MUNLOCK "munlock" [Hex, UInt] Int Memory;
    MLOCKALL "mlockall" [Flags(F::Mlockall)] Int Memory;
    MUNLOCKALL "munlockall" [] Int Memory;
    VHANGUP "vhangup" [] Int System;
    MODIFY_LDT "modify_ldt" [Int, Hex, UInt] Int Process;
    PIVOT_ROOT "pivot_root" [Path, Path] Int System;
    _SYSCTL "_sysctl" [Hex] Int System;
    PRCTL "prctl" [Enum(E::Prctl), UInt, UInt, UInt, UInt] Int Process;
    ARCH_PRCTL "arch_prctl" [Enum(E::ArchPrctl), Hex] Int Process;
    ADJTIMEX "adjtimex" [Hex] Int Time;
    SETRLIMIT "setrlimit" [Enum(E::Rlimit), In(S::Rlimit)] Int Process;
    CHROOT "chroot" [Path] Int File;
    SYNC "sync" [] Int File;
    ACCT "acct" [Path] Int System;
    SETTIMEOFDAY "settimeofday" [In(S::Timeval), In(S::Timezone)] Int Time;
    MOUNT "mount" [Path, Path, Path, Flags(F::Mount), Path] Int System;
    UMOUNT2 "umount2" [Path, Flags(F::Umount)] Int System;
    SWAPON "swapon" [Path, Int] Int System;
    SWAPOFF "swapoff" [Path] Int System;
    REBOOT "reboot" [UInt, UInt, UInt, Hex] Int System;
    SETHOSTNAME "sethostname" [InBuf(1), UInt] Int System;
    SETDOMAINNAME "setdomainname" [InBuf(1), UInt] Int System;
    IOPL "iopl" [Int] Int System;
    IOPERM "ioperm" [UInt, UInt, Int] Int System;
    CREATE_MODULE "create_module" [Path, UInt] Int System;
    INIT_MODULE "init_module" [Hex, UInt, Path] Int System;
    DELETE_MODULE "delete_module" [Path, Flags(F::Open)] Int System;
    GET_KERNEL_SYMS "get_kernel_syms" [Hex] Int System;
    QUERY_MODULE "query_module" [Path, Int, Hex, UInt, Hex] Int System;
    QUOTACTL "quotactl" [Int, Path, Int, Hex] Int System;
    NFSSERVCTL "nfsservctl" [Int, Hex, Hex] Int System;
    GETPMSG "getpmsg" [Fd, Hex, Hex, Hex, Hex] Int File;
    PUTPMSG "putpmsg" [Fd, Hex, Hex, Int, Int] Int File;
    AFS_SYSCALL "afs_syscall" [Hex, Hex, Hex, Hex, Hex] Int System;
    TUXCALL "tuxcall" [Hex, Hex, Hex] Int System;
    SECURITY "security" [Hex, Hex, Hex] Int System;
    GETTID "gettid" [] Int Process;
    READAHEAD "readahead" [Fd, Int, UInt] Int File;
    SETXATTR "setxattr" [Path, Path, InBuf(3), UInt, Int] Int File;
    LSETXATTR "lsetxattr" [Path, Path, InBuf(3), UInt, Int] Int File;
    FSETXATTR "fsetxattr" [Fd, Path, InBuf(3), UInt, Int] Int File;
    GETXATTR "getxattr" [Path, Path, OutBuf, UInt] Int File;
    LGETXATTR "lgetxattr" [Path, Path, OutBuf, UInt] Int File;
    FGETXATTR "fgetxattr" [Fd, Path, OutBuf, UInt] Int File;
    LISTXATTR "listxattr" [Path, OutBuf, UInt] Int File;
    LLISTXATTR "llistxattr" [Path, OutBuf, UInt] Int File;
    FLISTXATTR "flistxattr" [Fd, OutBuf, UInt] Int File;
    REMOVEXATTR "removexattr" [Path, Path] Int File;
    LREMOVEXATTR "lremovexattr" [Path, Path] Int File;
    FREMOVEXATTR "fremovexattr" [Fd, Path] Int File;
    TKILL "tkill" [Int, Signal] Int Signal;
    TIME "time" [Out(S::Long)] Int Time;
    FUTEX "futex" [Hex, Enum(E::Futex), Int, In(S::Timespec), Hex, Int] Int Ipc;
    SCHED_SETAFFINITY "sched_setaffinity" [Int, UInt, In(S::CpuSet(1))] Int Process;
    SCHED_GETAFFINITY "sched_getaffinity" [Int, UInt, Out(S::CpuSet(1))] Int Process;
    SET_THREAD_AREA "set_thread_area" [In(S::UserDesc)] Int Process;
    IO_SETUP "io_setup" [UInt, Hex] Int File;
    IO_DESTROY "io_destroy" [Hex] Int File;
    IO_GETEVENTS "io_getevents" [Hex, Int, Int, Hex, In(S::Timespec)] Int File;
    IO_SUBMIT "io_submit" [Hex, Int, Hex] Int File;
    IO_CANCEL "io_cancel" [Hex, Hex, Hex] Int File;
    GET_THREAD_AREA "get_thread_area" [InOut(S::UserDesc)] Int Process;
    LOOKUP_DCOOKIE "lookup_dcookie" [UInt, OutBuf, UInt] Int System;
    EPOLL_CREATE "epoll_create" [Int] Fd File;
    EPOLL_CTL_OLD "epoll_ctl_old" [Fd, Enum(E::EpollCtl), Fd, In(S::EpollEvent)] Int File;
    EPOLL_WAIT_OLD "epoll_wait_old" [Fd, Out(S::EpollEvent), Int, Int] Int File;
    REMAP_FILE_PAGES "remap_file_pages"
        [Hex, UInt, Flags(F::Prot), UInt, Flags(F::Map)] Int Memory;
    GETDENTS64 "getdents64" [Fd, Out(S::Dirents), UInt] Int File;
    SET_TID_ADDRESS "set_tid_address" [Hex] Int Process;
    RESTART_SYSCALL "restart_syscall" [] Int Signal;
    SEMTIMEDOP "semtimedop" [Int, Hex, UInt, In(S::Timespec)] Int Ipc;
    FADVISE64 "fadvise64" [Fd, Int, UInt, Int] Int File;
    TIMER_CREATE "timer_create" [Enum(E::ClockId), Hex, Out(S::Int)] Int Time;
    TIMER_SETTIME "timer_settime"
        [Int, Flags(F::Timer), In(S::Itimerspec), Out(S::Itimerspec)] Int Time;
    TIMER_GETTIME "timer_gettime" [Int, Out(S::Itimerspec)] Int Time;
    TIMER_GETOVERRUN "timer_getoverrun" [Int] Int Time;
    TIMER_DELETE "timer_delete" [Int] Int Time;
    CLOCK_SETTIME "clock_settime" [Enum(E::ClockId), In(S::Timespec)] Int Time;
    CLOCK_GETTIME "clock_gettime" [Enum(E::ClockId), Out(S::Timespec)] Int Time;
    CLOCK_GETRES "clock_getres" [Enum(E::ClockId), Out(S::Timespec)] Int Time;
    CLOCK_NANOSLEEP "clock_nanosleep"
        [Enum(E::ClockId), Flags(F::Timer), In(S::Timespec), Out(S::Timespec)] Int Time;
    EXIT_GROUP "exit_group" [Int] NoReturn Process;
    EPOLL_WAIT "epoll_wait" [Fd, Out(S::EpollEvent), Int, Int] Int File;
    EPOLL_CTL "epoll_ctl" [Fd, Enum(E::EpollCtl), Fd, In(S::EpollEvent)] Int File;
    TGKILL "tgkill" [Int, Int, Signal] Int Signal;
    UTIMES "utimes" [Path, Hex] Int File;
    VSERVER "vserver" [Hex, Hex, Hex, Hex, Hex] Int System;
    MBIND "mbind" [Hex, UInt, Int, Hex, UInt, UInt] Int Memory;
    SET_MEMPOLICY "set_mempolicy" [Int, Hex, UInt] Int Memory;
    GET_MEMPOLICY "get_mempolicy" [Out(S::Int), Hex, UInt, Hex, UInt] Int Memory;
    MQ_OPEN "mq_open" [Path, Flags(F::Open), Mode, Hex] Fd Ipc;
    MQ_UNLINK "mq_unlink" [Path] Int Ipc;
    MQ_TIMEDSEND "mq_timedsend" [Fd, InBuf(2), UInt, UInt, In(S::Timespec)] Int Ipc;
    MQ_TIMEDRECEIVE "mq_timedreceive"
        [Fd, OutBuf, UInt, Out(S::Int), In(S::Timespec)] Int Ipc;
    MQ_NOTIFY "mq_notify" [Fd, Hex] Int Ipc;
    MQ_GETSETATTR "mq_getsetattr" [Fd, Hex, Hex] Int Ipc;
    KEXEC_LOAD "kexec_load" [Hex, UInt, Hex, UInt] Int System;
    WAITID "waitid"
        [Enum(E::IdType), Int, Out(S::Siginfo), Flags(F::Wait), Out(S::Rusage)] Int Process;
    ADD_KEY "add_key" [Path, Path, InBuf(3), UInt, Int] Int System;
    REQUEST_KEY "request_key" [Path, Path, Path, Int] Int System;
    KEYCTL "keyctl" [Int, UInt, UInt, UInt, UInt] Int System;
    IOPRIO_SET "ioprio_set" [Int, Int, Int] Int Process;
    IOPRIO_GET "ioprio_get" [Int, Int] Int Process;
    INOTIFY_INIT "inotify_init" [] Fd File;
    INOTIFY_ADD_WATCH "inotify_add_watch" [Fd, Path, Flags(F::Inotify)] Int File;
    INOTIFY_RM_WATCH "inotify_rm_watch" [Fd, Int] Int File;
    MIGRATE_PAGES "migrate_pages" [Int, UInt, Hex, Hex] Int Memory;
    OPENAT "openat" [DirFd, Path, Flags(F::Open), Mode] Fd File;
    MKDIRAT "mkdirat" [DirFd, Path, Mode] Int File;
    MKNODAT "mknodat" [DirFd, Path, Mode, UInt] Int File;
    FCHOWNAT "fchownat" [DirFd, Path, Int, Int, Flags(F::At)] Int File;
    FUTIMESAT "futimesat" [DirFd, Path, Hex] Int File;
    NEWFSTATAT "newfstatat" [DirFd, Path, Out(S::Stat), Flags(F::At)] Int File;
    UNLINKAT "unlinkat" [DirFd, Path, Flags(F::At)] Int File;
    RENAMEAT "renameat" [DirFd, Path, DirFd, Path] Int File;
    LINKAT "linkat" [DirFd, Path, DirFd, Path, Flags(F::At)] Int File;
    SYMLINKAT "symlinkat" [Path, DirFd, Path] Int File;
    READLINKAT "readlinkat" [DirFd, Path, OutBuf, UInt] Int File;
    FCHMODAT "fchmodat" [DirFd, Path, Mode] Int File;
    FACCESSAT "faccessat" [DirFd, Path, Flags(F::Access)] Int File;
    PSELECT6 "pselect6"
        [Int, InOut(S::FdSet), InOut(S::FdSet), InOut(S::FdSet), In(S::Timespec), Hex]
        Int File;
    PPOLL "ppoll"
        [InOut(S::Pollfd(1)), UInt, In(S::Timespec), In(S::SigSet), UInt] Int File;
    UNSHARE "unshare" [Flags(F::Clone)] Int Process;
    SET_ROBUST_LIST "set_robust_list" [Hex, UInt] Int Process;
    GET_ROBUST_LIST "get_robust_list" [Int, Hex, Hex] Int Process;
    SPLICE "splice" [Fd, InOut(S::Long), Fd, InOut(S::Long), UInt, UInt] Int File;
    TEE "tee" [Fd, Fd, UInt, UInt] Int File;
    SYNC_FILE_RANGE "sync_file_range" [Fd, Int, Int, UInt] Int File;
    VMSPLICE "vmsplice" [Fd, InIovec(2), UInt, UInt] Int File;
    MOVE_PAGES "move_pages" [Int, UInt, Hex, Hex, Hex, Int] Int Memory;
    UTIMENSAT "utimensat" [DirFd, Path, Hex, Flags(F::At)] Int File;
    EPOLL_PWAIT "epoll_pwait"
        [Fd, Out(S::EpollEvent), Int, Int, In(S::SigSet), UInt] Int File;
    SIGNALFD "signalfd" [Fd, In(S::SigSet), UInt] Fd Signal;
    TIMERFD_CREATE "timerfd_create" [Enum(E::ClockId), Flags(F::Cloexec)] Fd Time;
    EVENTFD "eventfd" [UInt] Fd File;
    FALLOCATE "fallocate" [Fd, Int, Int, Int] Int File;
    TIMERFD_SETTIME "timerfd_settime"
        [Fd, Flags(F::Timer), In(S::Itimerspec), Out(S::Itimerspec)] Int Time;
    TIMERFD_GETTIME "timerfd_gettime" [Fd, Out(S::Itimerspec)] Int Time;
    ACCEPT4 "accept4"
        [Fd, Out(S::Sockaddr(2)), InOut(S::Int), Flags(F::SockType)] Fd Network;
    SIGNALFD4 "signalfd4" [Fd, In(S::SigSet), UInt, Flags(F::Cloexec)] Fd Signal;
    EVENTFD2 "eventfd2" [UInt, Flags(F::Cloexec)] Fd File;
    EPOLL_CREATE1 "epoll_create1" [Flags(F::Cloexec)] Fd File;
    DUP3 "dup3" [Fd, Fd, Flags(F::Cloexec)] Fd File;
    PIPE2 "pipe2" [Out(S::IntPair), Flags(F::Cloexec)] Int File;
    INOTIFY_INIT1 "inotify_init1" [Flags(F::Cloexec)] Fd File;
    PREADV "preadv" [Fd, OutIovec(2), UInt, Int, Int] Int File;
    PWRITEV "pwritev" [Fd, InIovec(2), UInt, Int, Int] Int File;
    RT_TGSIGQUEUEINFO "rt_tgsigqueueinfo" [Int, Int, Signal, In(S::Siginfo)] Int Signal;
    PERF_EVENT_OPEN "perf_event_open" [Hex, Int, Int, Fd, UInt] Fd System;
    RECVMMSG "recvmmsg" [Fd, Hex, UInt, Flags(F::Msg), In(S::Timespec)] Int Network;
    FANOTIFY_INIT "fanotify_init" [UInt, UInt] Fd File;
    FANOTIFY_MARK "fanotify_mark" [Fd, UInt, UInt, DirFd, Path] Int File;
    PRLIMIT64 "prlimit64" [Int, Enum(E::Rlimit), In(S::Rlimit), Out(S::Rlimit)] Int Process;
    NAME_TO_HANDLE_AT "name_to_handle_at"
        [DirFd, Path, Hex, Out(S::Int), Flags(F::At)] Int File;
    OPEN_BY_HANDLE_AT "open_by_handle_at" [Fd, Hex, Flags(F::Open)] Fd File;
    CLOCK_ADJTIME "clock_adjtime" [Enum(E::ClockId), Hex] Int Time;
    SYNCFS "syncfs" [Fd] Int File;
    SENDMMSG "sendmmsg" [Fd, Hex, UInt, Flags(F::Msg)] Int Network;
    SETNS "setns" [Fd, Flags(F::Clone)] Int Process;
    GETCPU "getcpu" [Out(S::Int), Out(S::Int), Hex] Int Process;
    PROCESS_VM_READV "process_vm_readv" [Int, OutIovec(2), UInt, Hex, UInt, UInt] Int Memory;
    PROCESS_VM_WRITEV "process_vm_writev"
        [Int, InIovec(2), UInt, Hex, UInt, UInt] Int Memory;
    KCMP "kcmp" [Int, Int, Int, UInt, UInt] Int Process;
    FINIT_MODULE "finit_module" [Fd, Path, Int] Int System;
    SCHED_SETATTR "sched_setattr" [Int, Hex, UInt] Int Process;
    SCHED_GETATTR "sched_getattr" [Int, Hex, UInt, UInt] Int Process;
    RENAMEAT2 "renameat2" [DirFd, Path, DirFd, Path, Flags(F::Rename)] Int File;
    SECCOMP "seccomp" [UInt, UInt, Hex] Int Process;
    GETRANDOM "getrandom" [OutBuf, UInt, Flags(F::Getrandom)] Int System;
    MEMFD_CREATE "memfd_create" [Path, Flags(F::Memfd)] Fd File;
    KEXEC_FILE_LOAD "kexec_file_load" [Fd, Fd, UInt, Path, UInt] Int System;
    BPF "bpf" [Int, Hex, UInt] Int System;
    EXECVEAT "execveat" [DirFd, Path, StrArray, StrArray, Flags(F::At)] Int Process;
    USERFAULTFD "userfaultfd" [Flags(F::Cloexec)] Fd Memory;
    MEMBARRIER "membarrier" [Int, UInt, Int] Int Memory;
    MLOCK2 "mlock2" [Hex, UInt, UInt] Int Memory;
    COPY_FILE_RANGE "copy_file_range"
        [Fd, InOut(S::Long), Fd, InOut(S::Long), UInt, UInt] Int File;
    PREADV2 "preadv2" [Fd, OutIovec(2), UInt, Int, Int, UInt] Int File;
    PWRITEV2 "pwritev2" [Fd, InIovec(2), UInt, Int, Int, UInt] Int File;
    PKEY_MPROTECT "pkey_mprotect" [Hex, UInt, Flags(F::Prot), Int] Int Memory;
    PKEY_ALLOC "pkey_alloc" [UInt, UInt] Int Memory;
    PKEY_FREE "pkey_free" [Int] Int Memory;
    STATX "statx"
        [DirFd, Path, Flags(F::At), Flags(F::StatxMask), Out(S::Statx)] Int File;
    IO_PGETEVENTS "io_pgetevents" [Hex, Int, Int, Hex, In(S::Timespec), Hex] Int File;
    RSEQ "rseq" [In(S::Rseq), UInt, Int, Hex] Int Process;
    PIDFD_SEND_SIGNAL "pidfd_send_signal" [Fd, Signal, In(S::Siginfo), UInt] Int Signal;
    IO_URING_SETUP "io_uring_setup" [UInt, Hex] Fd File;
    IO_URING_ENTER "io_uring_enter" [Fd, UInt, UInt, UInt, Hex, UInt] Int File;
    IO_URING_REGISTER "io_uring_register" [Fd, UInt, Hex, UInt] Int File;
    OPEN_TREE "open_tree" [DirFd, Path, UInt] Fd System;
    MOVE_MOUNT "move_mount" [DirFd, Path, DirFd, Path, UInt] Int System;
    FSOPEN "fsopen" [Path, UInt] Fd System;
    FSCONFIG "fsconfig" [Fd, UInt, Path, Hex, Int] Int System;
    FSMOUNT "fsmount" [Fd, UInt, UInt] Fd System;
    FSPICK "fspick" [DirFd, Path, UInt] Fd System;
    PIDFD_OPEN "pidfd_open" [Int, UInt] Fd Process;
    CLONE3 "clone3" [In(S::CloneArgs), UInt] Int Process;
    CLOSE_RANGE "close_range" [UInt, UInt, UInt] Int File;
    OPENAT2 "openat2" [DirFd, Path, In(S::OpenHow), UInt] Fd File;
    PIDFD_GETFD "pidfd_getfd" [Fd, Int, UInt] Fd Process;
    FACCESSAT2 "faccessat2" [DirFd, Path, Flags(F::Access), Flags(F::At)] Int File;
    PROCESS_MADVISE "process_madvise" [Fd, Hex, UInt, Enum(E::Madvise), UInt] Int Memory;
    EPOLL_PWAIT2 "epoll_pwait2"
        [Fd, Out(S::EpollEvent), Int, In(S::Timespec), In(S::SigSet), UInt] Int File;
    MOUNT_SETATTR "mount_setattr" [DirFd, Path, Flags(F::At), Hex, UInt] Int System;
    QUOTACTL_FD "quotactl_fd" [Fd, UInt, Int, Hex] Int System;
    LANDLOCK_CREATE_RULESET "landlock_create_ruleset" [Hex, UInt, UInt] Fd System;
    LANDLOCK_ADD_RULE "landlock_add_rule" [Fd, UInt, Hex, UInt] Int System;
    LANDLOCK_RESTRICT_SELF "landlock_restrict_self" [Fd, UInt] Int System;
    MEMFD_SECRET "memfd_secret" [UInt] Fd Memory;
    PROCESS_MRELEASE "process_mrelease" [Fd, UInt] Int Memory;
    FUTEX_WAITV "futex_waitv" [Hex, UInt, UInt, In(S::Timespec), Enum(E::ClockId)] Int Ipc;
    SET_MEMPOLICY_HOME_NODE "set_mempolicy_home_node" [Hex, UInt, UInt, UInt] Int Memory;
    CACHESTAT "cachestat" [Fd, Hex, Hex, UInt] Int File;
    FCHMODAT2 "fchmodat2" [DirFd, Path, Mode, Flags(F::At)] Int File;
    MAP_SHADOW_STACK "map_shadow_stack" [Hex, UInt, UInt] Hex Memory;
    FUTEX_WAKE "futex_wake" [Hex, UInt, Int, UInt] Int Ipc;
    FUTEX_WAIT "futex_wait"
        [Hex, UInt, UInt, UInt, In(S::Timespec), Enum(E::ClockId)] Int Ipc;
    FUTEX_REQUEUE "futex_requeue" [Hex, UInt, Int, Int] Int Ipc;
    STATMOUNT "statmount" [Hex, Hex, UInt, UInt] Int System;
    LISTMOUNT "listmount" [Hex, Hex, UInt, UInt] Int System;
    LSM_GET_SELF_ATTR "lsm_get_self_attr" [UInt, Hex, Hex, UInt] Int System;
    LSM_SET_SELF_ATTR "lsm_set_self_attr" [UInt, Hex, UInt, UInt] Int System;
    LSM_LIST_MODULES "lsm_list_modules" [Hex, Hex, UInt] Int System;
    MSEAL "mseal" [Hex, UInt, UInt] Int Memory;
    SETXATTRAT "setxattrat" [DirFd, Path, Flags(F::At), Path, Hex, UInt] Int File;
    GETXATTRAT "getxattrat" [DirFd, Path, Flags(F::At), Path, Hex, UInt] Int File;
    LISTXATTRAT "listxattrat" [DirFd, Path, Flags(F::At), OutBuf, UInt] Int File;
    REMOVEXATTRAT "removexattrat" [DirFd, Path, Flags(F::At), Path] Int File;
    OPEN_TREE_ATTR "open_tree_attr" [DirFd, Path, UInt, Hex, UInt] Fd System;
    FILE_GETATTR "file_getattr" [DirFd, Path, Hex, UInt, Flags(F::At)] Int File;
    FILE_SETATTR "file_setattr" [DirFd, Path, Hex, UInt, Flags(F::At)] Int File;
}

/// Every x86-64 system call, sorted by number (0..=334, then 424..).
pub static SYSCALLS: [SyscallInfo; SYSCALL_COUNT] = TABLE;

// The table's invariants, checked when the crate compiles.
const _: () = {
    let mut i = 0;
    while i < SYSCALL_COUNT {
        assert!(
            TABLE[i].args.len() <= 6,
            "a syscall takes at most six arguments"
        );
        assert!(TABLE[i].nr < nr::MAX, "a syscall number is below nr::MAX");
        if i > 0 {
            // Strictly ascending: sorted and free of duplicates.
            assert!(
                TABLE[i - 1].nr < TABLE[i].nr,
                "the table is sorted by number"
            );
        }
        i += 1;
    }
};

/// Marks a number with no entry in [`INDEX`].
const NO_ENTRY: u16 = u16::MAX;

// Indices into the table must fit in a u16 below NO_ENTRY.
const _: () = assert!(SYSCALL_COUNT < NO_ENTRY as usize);

/// Builds the direct index: number -> position in [`TABLE`].
const fn build_index() -> [u16; nr::MAX as usize] {
    let mut index = [NO_ENTRY; nr::MAX as usize];
    let mut i = 0;
    while i < SYSCALL_COUNT {
        index[TABLE[i].nr as usize] = i as u16;
        i += 1;
    }
    index
}

/// Number -> position in [`SYSCALLS`], or [`NO_ENTRY`]. Built at compile time.
static INDEX: [u16; nr::MAX as usize] = build_index();

/// The entry for a syscall number, in constant time; `None` for numbers Linux does not define.
#[inline]
pub fn lookup(nr: u32) -> Option<&'static SyscallInfo> {
    let slot = *INDEX.get(nr as usize)?;
    // NO_ENTRY is past the end of the table, so `get` turns it into None.
    SYSCALLS.get(slot as usize)
}

/// Whether `a` sorts before `b` byte-wise (usable in const context).
const fn str_less(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() < b.len()
}

/// Builds the table positions ordered by name (insertion sort, at compile time).
const fn build_name_index() -> [u16; SYSCALL_COUNT] {
    let mut order = [0u16; SYSCALL_COUNT];
    let mut i = 0;
    while i < SYSCALL_COUNT {
        order[i] = i as u16;
        i += 1;
    }
    let mut i = 1;
    while i < SYSCALL_COUNT {
        let mut j = i;
        while j > 0
            && str_less(
                TABLE[order[j] as usize].name,
                TABLE[order[j - 1] as usize].name,
            )
        {
            let t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
            j -= 1;
        }
        i += 1;
    }
    order
}

/// Table positions sorted by name, for [`by_name`].
static BY_NAME: [u16; SYSCALL_COUNT] = build_name_index();

/// The entry for a kernel syscall name ("openat", "newfstatat"), by binary search.
pub fn by_name(name: &str) -> Option<&'static SyscallInfo> {
    let pos = BY_NAME
        .binary_search_by(|&i| SYSCALLS[i as usize].name.cmp(name))
        .ok()?;
    Some(&SYSCALLS[BY_NAME[pos] as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(NAME, number)` for every `pub const NAME: u32 = number;` in nr.rs, read from its source
    /// so a constant added there without a table entry fails this test.
    fn nr_constants() -> Vec<(String, u32)> {
        include_str!("nr.rs")
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("pub const ")?;
                let (name, rest) = rest.split_once(": u32 = ")?;
                let value = rest.strip_suffix(';')?.trim().parse().ok()?;
                Some((name.to_string(), value))
            })
            .filter(|(name, _)| name != "MAX")
            .collect()
    }

    #[test]
    fn table_covers_every_nr_constant() {
        let consts = nr_constants();
        assert_eq!(consts.len(), 381);
        assert_eq!(SYSCALL_COUNT, consts.len());
        for (name, value) in &consts {
            let info = lookup(*value).unwrap_or_else(|| panic!("{name} ({value}) missing"));
            assert_eq!(info.name.to_ascii_uppercase(), *name, "number {value}");
            assert_eq!(
                by_name(&name.to_ascii_lowercase()).map(|i| i.nr),
                Some(*value)
            );
        }
    }

    #[test]
    fn entries_match_their_nr_constants() {
        let consts = nr_constants();
        for (i, info) in SYSCALLS.iter().enumerate() {
            // The entry was built from this constant; its name spells the constant in lowercase.
            assert_eq!(info.name.to_ascii_uppercase(), CONST_NAMES[i]);
            let (_, value) = consts
                .iter()
                .find(|(n, _)| n == CONST_NAMES[i])
                .unwrap_or_else(|| panic!("{} not in nr.rs", CONST_NAMES[i]));
            assert_eq!(info.nr, *value, "{}", info.name);
        }
    }

    #[test]
    fn sorted_unique_and_at_most_six_args() {
        assert!(SYSCALLS.windows(2).all(|w| w[0].nr < w[1].nr));
        assert!(SYSCALLS.iter().all(|s| s.args.len() <= 6));
        assert_eq!(SYSCALLS.first().map(|s| s.nr), Some(0));
        assert_eq!(SYSCALLS.last().map(|s| s.nr), Some(nr::MAX - 1));
    }

    #[test]
    fn argument_indices_point_inside_the_call() {
        for s in &SYSCALLS {
            for arg in s.args {
                let idx = match *arg {
                    InBuf(i) | InIovec(i) | OutIovec(i) => Some(i),
                    In(k) | Out(k) | InOut(k) => match k {
                        S::Sockaddr(i) | S::Pollfd(i) | S::CpuSet(i) => Some(i),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(i) = idx {
                    assert!((i as usize) < s.args.len(), "{}: index {i}", s.name);
                }
            }
        }
    }

    #[test]
    fn lookup_is_exact() {
        for n in 0..nr::MAX + 10 {
            match lookup(n) {
                Some(info) => assert_eq!(info.nr, n),
                None => assert!(SYSCALLS.iter().all(|s| s.nr != n)),
            }
        }
        assert!(lookup(335).is_none());
        assert!(lookup(423).is_none());
        assert!(lookup(u32::MAX).is_none());
        assert!(by_name("fstatat").is_none());
        assert!(by_name("").is_none());
    }

    #[test]
    fn examples_from_the_kernel_prototypes() {
        let read = lookup(nr::READ).unwrap();
        assert_eq!(read.name, "read");
        assert_eq!(read.args, &[Fd, OutBuf, UInt]);
        assert_eq!(read.ret, Ret::Int);
        assert_eq!(read.family, Family::File);
        assert_eq!(lookup(nr::WRITE).unwrap().args, &[Fd, InBuf(2), UInt]);
        let openat = by_name("openat").unwrap();
        assert_eq!(openat.args, &[DirFd, Path, Flags(F::Open), Mode]);
        assert_eq!(openat.ret, Ret::Fd);
        let mmap = lookup(nr::MMAP).unwrap();
        assert_eq!(
            mmap.args,
            &[Hex, UInt, Flags(F::Prot), Flags(F::Map), Fd, Hex]
        );
        assert_eq!((mmap.ret, mmap.family), (Ret::Hex, Family::Memory));
        assert_eq!(lookup(nr::UNAME).unwrap().args, &[Out(S::Utsname)]);
        let cg = lookup(nr::CLOCK_GETTIME).unwrap();
        assert_eq!(cg.args, &[Enum(E::ClockId), Out(S::Timespec)]);
        assert_eq!(cg.family, Family::Time);
        let sa = lookup(nr::RT_SIGACTION).unwrap();
        assert_eq!(
            sa.args,
            &[Signal, In(S::Sigaction), Out(S::Sigaction), UInt]
        );
        assert_eq!(sa.family, Family::Signal);
        assert_eq!(
            lookup(nr::RT_SIGPROCMASK).unwrap().args,
            &[Enum(E::SigprocmaskHow), In(S::SigSet), Out(S::SigSet), UInt]
        );
        assert_eq!(
            lookup(nr::EXECVE).unwrap().args,
            &[Path, StrArray, StrArray]
        );
        let eg = lookup(nr::EXIT_GROUP).unwrap();
        assert_eq!((eg.args, eg.ret), (&[Int][..], Ret::NoReturn));
        assert_eq!(
            lookup(nr::ARCH_PRCTL).unwrap().args,
            &[Enum(E::ArchPrctl), Hex]
        );
        assert_eq!(lookup(nr::IOCTL).unwrap().args, &[Fd, Enum(E::Ioctl), Hex]);
        assert_eq!(lookup(nr::WRITEV).unwrap().args, &[Fd, InIovec(2), UInt]);
        assert_eq!(lookup(nr::READV).unwrap().args, &[Fd, OutIovec(2), UInt]);
        assert_eq!(
            lookup(nr::GETRANDOM).unwrap().args,
            &[OutBuf, UInt, Flags(F::Getrandom)]
        );
        assert_eq!(
            lookup(nr::PRLIMIT64).unwrap().args,
            &[Int, Enum(E::Rlimit), In(S::Rlimit), Out(S::Rlimit)]
        );
        assert_eq!(
            lookup(nr::NANOSLEEP).unwrap().args,
            &[In(S::Timespec), Out(S::Timespec)]
        );
        assert_eq!(
            lookup(nr::NEWFSTATAT).unwrap().args,
            &[DirFd, Path, Out(S::Stat), Flags(F::At)]
        );
        assert_eq!(lookup(nr::FSTAT).unwrap().args, &[Fd, Out(S::Stat)]);
        let brk = lookup(nr::BRK).unwrap();
        assert_eq!((brk.args, brk.ret), (&[Hex][..], Ret::Hex));
        assert_eq!(lookup(nr::READLINK).unwrap().args, &[Path, OutBuf, UInt]);
    }
}
