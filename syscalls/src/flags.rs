//! Bit-flag arguments of the x86-64 Linux ABI as `bitflags` types, values as in the kernel's
//! UAPI headers.
//!
//! Each flag constant carries its kernel name (`O_CLOEXEC`, `PROT_READ`), so `iter_names()`
//! yields exactly what strace prints. Where one name stands for several bits (`O_SYNC`,
//! `O_TMPFILE`, `MAP_SHARED_VALIDATE`), it is declared before its parts so that iteration
//! names the whole rather than the pieces. Values that are masks, aliases or zero live as
//! associated constants outside the flag list, so they never show up in names.

#![allow(non_upper_case_globals)] // `__WALL` and friends keep their kernel spelling.

use bitflags::bitflags;

/// The `dirfd` value meaning "relative to the current working directory".
pub const AT_FDCWD: i32 = -100;

bitflags! {
    /// Flags of open(2), openat(2), openat2(2) (octal values as in asm-generic/fcntl.h).
    ///
    /// The access mode (`O_RDONLY` = 0, `O_WRONLY`, `O_RDWR`) is a two-bit field, not flags:
    /// use [`OpenFlags::access_mode`] to read it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct OpenFlags: u32 {
        /// Open for writing only (access mode 1).
        const O_WRONLY = 0o1;
        /// Open for reading and writing (access mode 2).
        const O_RDWR = 0o2;
        /// Create the file if it does not exist.
        const O_CREAT = 0o100;
        /// With O_CREAT: fail if the file exists.
        const O_EXCL = 0o200;
        /// Do not make a terminal the controlling terminal.
        const O_NOCTTY = 0o400;
        /// Truncate a regular file to length 0.
        const O_TRUNC = 0o1000;
        /// Every write appends.
        const O_APPEND = 0o2000;
        /// Non-blocking I/O.
        const O_NONBLOCK = 0o4000;
        /// Full synchronous writes (declared before O_DSYNC, whose bit it includes).
        const O_SYNC = 0o4010000;
        /// Synchronous data writes.
        const O_DSYNC = 0o10000;
        /// Signal-driven I/O (FASYNC).
        const O_ASYNC = 0o20000;
        /// Direct I/O, bypassing the page cache.
        const O_DIRECT = 0o40000;
        /// Large-file offsets (implied on 64-bit).
        const O_LARGEFILE = 0o100000;
        /// An unnamed temporary file (declared before O_DIRECTORY, whose bit it includes).
        const O_TMPFILE = 0o20200000;
        /// Fail unless the path is a directory.
        const O_DIRECTORY = 0o200000;
        /// Do not follow a trailing symlink.
        const O_NOFOLLOW = 0o400000;
        /// Do not update the access time.
        const O_NOATIME = 0o1000000;
        /// Close the descriptor on execve.
        const O_CLOEXEC = 0o2000000;
        /// An O_PATH descriptor: a location, not an open file.
        const O_PATH = 0o10000000;
    }
}

/// The access mode of an open(2) call: the low two bits of its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessModeBits {
    /// O_RDONLY (0).
    ReadOnly,
    /// O_WRONLY (1).
    WriteOnly,
    /// O_RDWR (2).
    ReadWrite,
    /// 3: invalid for open, but Linux accepts it (ioctl-only access).
    Invalid,
}

impl OpenFlags {
    /// `O_RDONLY`: access mode 0 (not a bit).
    pub const O_RDONLY: u32 = 0;
    /// The mask of the access-mode field.
    pub const O_ACCMODE: u32 = 0o3;
    /// The bit that, with O_DIRECTORY, makes up O_TMPFILE.
    pub const __O_TMPFILE: u32 = 0o20000000;
    /// The bit that, with O_DSYNC, makes up O_SYNC.
    pub const __O_SYNC: u32 = 0o4000000;
    /// FASYNC, the historic name of O_ASYNC.
    pub const FASYNC: Self = Self::O_ASYNC;

    /// The access mode field of these flags.
    pub const fn access_mode(self) -> AccessModeBits {
        match self.bits() & Self::O_ACCMODE {
            0 => AccessModeBits::ReadOnly,
            1 => AccessModeBits::WriteOnly,
            2 => AccessModeBits::ReadWrite,
            _ => AccessModeBits::Invalid,
        }
    }

    /// Whether the mode allows reading (O_RDONLY or O_RDWR).
    pub const fn is_readable(self) -> bool {
        matches!(
            self.access_mode(),
            AccessModeBits::ReadOnly | AccessModeBits::ReadWrite
        )
    }

    /// Whether the mode allows writing (O_WRONLY or O_RDWR).
    pub const fn is_writable(self) -> bool {
        matches!(
            self.access_mode(),
            AccessModeBits::WriteOnly | AccessModeBits::ReadWrite
        )
    }

    /// The flags without the access-mode field.
    pub const fn without_access_mode(self) -> Self {
        Self::from_bits_retain(self.bits() & !Self::O_ACCMODE)
    }
}

bitflags! {
    /// AT_* flags of the *at calls (fcntl.h). AT_EACCESS shares 0x200 with AT_REMOVEDIR and
    /// is kept apart as [`AtFlags::AT_EACCESS`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct AtFlags: u32 {
        /// Do not follow a trailing symlink.
        const AT_SYMLINK_NOFOLLOW = 0x100;
        /// unlinkat: remove a directory.
        const AT_REMOVEDIR = 0x200;
        /// linkat: follow a trailing symlink.
        const AT_SYMLINK_FOLLOW = 0x400;
        /// Do not trigger an automount on the last component.
        const AT_NO_AUTOMOUNT = 0x800;
        /// An empty path means the dirfd itself.
        const AT_EMPTY_PATH = 0x1000;
        /// statx: force a sync with the server.
        const AT_STATX_FORCE_SYNC = 0x2000;
        /// statx: do not sync with the server.
        const AT_STATX_DONT_SYNC = 0x4000;
        /// Apply to the whole mount subtree (open_tree, mount_setattr).
        const AT_RECURSIVE = 0x8000;
    }
}

impl AtFlags {
    /// faccessat: check with the effective ids (same value as AT_REMOVEDIR).
    pub const AT_EACCESS: Self = Self::from_bits_retain(0x200);
    /// statx: the sync-type field mask.
    pub const AT_STATX_SYNC_TYPE: Self = Self::from_bits_retain(0x6000);
    /// statx: do what stat(2) does (zero).
    pub const AT_STATX_SYNC_AS_STAT: Self = Self::empty();
}

bitflags! {
    /// PROT_* memory protections of mmap/mprotect.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct ProtFlags: u32 {
        /// Pages may be read.
        const PROT_READ = 0x1;
        /// Pages may be written.
        const PROT_WRITE = 0x2;
        /// Pages may be executed.
        const PROT_EXEC = 0x4;
        /// Pages may be used for atomic operations (no-op on x86).
        const PROT_SEM = 0x8;
        /// mprotect: extend the change down to the start of a grows-down mapping.
        const PROT_GROWSDOWN = 0x0100_0000;
        /// mprotect: extend the change up to the end of a grows-up mapping.
        const PROT_GROWSUP = 0x0200_0000;
    }
}

impl ProtFlags {
    /// No access (zero).
    pub const PROT_NONE: Self = Self::empty();
}

bitflags! {
    /// MAP_* flags of mmap: the mapping type (low four bits) and the modifiers.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MapFlags: u32 {
        /// Shared mapping that fails on unknown flags (type 3; before SHARED and PRIVATE).
        const MAP_SHARED_VALIDATE = 0x3;
        /// Shared mapping.
        const MAP_SHARED = 0x1;
        /// Private copy-on-write mapping.
        const MAP_PRIVATE = 0x2;
        /// Place the mapping exactly at the address, replacing what is there.
        const MAP_FIXED = 0x10;
        /// Not backed by a file.
        const MAP_ANONYMOUS = 0x20;
        /// Map in the low 2 GiB.
        const MAP_32BIT = 0x40;
        /// A stack that grows down.
        const MAP_GROWSDOWN = 0x100;
        /// Ignored.
        const MAP_DENYWRITE = 0x800;
        /// Ignored.
        const MAP_EXECUTABLE = 0x1000;
        /// Lock the pages (like mlock).
        const MAP_LOCKED = 0x2000;
        /// Do not reserve swap.
        const MAP_NORESERVE = 0x4000;
        /// Prefault the pages.
        const MAP_POPULATE = 0x8000;
        /// With MAP_POPULATE: do not block on I/O.
        const MAP_NONBLOCK = 0x10000;
        /// The mapping is a thread stack.
        const MAP_STACK = 0x20000;
        /// Use huge pages.
        const MAP_HUGETLB = 0x40000;
        /// Synchronous page faults for DAX files (with MAP_SHARED_VALIDATE).
        const MAP_SYNC = 0x80000;
        /// Like MAP_FIXED but fail rather than replace.
        const MAP_FIXED_NOREPLACE = 0x10_0000;
        /// Anonymous pages need not be cleared (only with CONFIG_MMAP_ALLOW_UNINITIALIZED).
        const MAP_UNINITIALIZED = 0x400_0000;
    }
}

impl MapFlags {
    /// The mask of the mapping-type field.
    pub const MAP_TYPE: u32 = 0xf;
    /// MAP_ANON, the BSD name of MAP_ANONYMOUS.
    pub const MAP_ANON: Self = Self::MAP_ANONYMOUS;
    /// Where the log2 huge page size is encoded with MAP_HUGETLB.
    pub const MAP_HUGE_SHIFT: u32 = 26;
}

bitflags! {
    /// MREMAP_* flags of mremap.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MremapFlags: u32 {
        /// The mapping may move.
        const MREMAP_MAYMOVE = 0x1;
        /// Move to exactly the new address (with MAYMOVE).
        const MREMAP_FIXED = 0x2;
        /// Leave the old range mapped (and empty).
        const MREMAP_DONTUNMAP = 0x4;
    }
}

bitflags! {
    /// CLONE_* flags of clone, clone3, unshare and setns. For clone(2) the low byte
    /// ([`CloneFlags::CSIGNAL`]) is the exit signal instead, and CLONE_NEWTIME lives there
    /// only for clone3/unshare.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct CloneFlags: u64 {
        /// New time namespace (clone3 and unshare only; overlaps the exit-signal byte).
        const CLONE_NEWTIME = 0x80;
        /// Share the address space.
        const CLONE_VM = 0x100;
        /// Share root, cwd and umask.
        const CLONE_FS = 0x200;
        /// Share the fd table.
        const CLONE_FILES = 0x400;
        /// Share signal handlers.
        const CLONE_SIGHAND = 0x800;
        /// Return a pidfd of the child.
        const CLONE_PIDFD = 0x1000;
        /// Continue tracing the child.
        const CLONE_PTRACE = 0x2000;
        /// Suspend the parent until the child execs or exits.
        const CLONE_VFORK = 0x4000;
        /// The child's parent is the caller's parent.
        const CLONE_PARENT = 0x8000;
        /// Same thread group.
        const CLONE_THREAD = 0x10000;
        /// New mount namespace.
        const CLONE_NEWNS = 0x20000;
        /// Share SysV semaphore undo lists.
        const CLONE_SYSVSEM = 0x40000;
        /// Set the TLS (FS base).
        const CLONE_SETTLS = 0x80000;
        /// Store the child tid at parent_tid in the parent.
        const CLONE_PARENT_SETTID = 0x10_0000;
        /// Clear the child tid at child_tid on exit and wake the futex.
        const CLONE_CHILD_CLEARTID = 0x20_0000;
        /// Ignored.
        const CLONE_DETACHED = 0x40_0000;
        /// The tracer cannot force CLONE_PTRACE.
        const CLONE_UNTRACED = 0x80_0000;
        /// Store the child tid at child_tid in the child.
        const CLONE_CHILD_SETTID = 0x100_0000;
        /// New cgroup namespace.
        const CLONE_NEWCGROUP = 0x200_0000;
        /// New UTS namespace.
        const CLONE_NEWUTS = 0x400_0000;
        /// New IPC namespace.
        const CLONE_NEWIPC = 0x800_0000;
        /// New user namespace.
        const CLONE_NEWUSER = 0x1000_0000;
        /// New PID namespace.
        const CLONE_NEWPID = 0x2000_0000;
        /// New network namespace.
        const CLONE_NEWNET = 0x4000_0000;
        /// Share the I/O context.
        const CLONE_IO = 0x8000_0000;
        /// clone3: reset all signal handlers to default.
        const CLONE_CLEAR_SIGHAND = 0x1_0000_0000;
        /// clone3: start in the cgroup given by fd.
        const CLONE_INTO_CGROUP = 0x2_0000_0000;
    }
}

impl CloneFlags {
    /// The exit-signal byte of clone(2).
    pub const CSIGNAL: u64 = 0xff;
}

bitflags! {
    /// SA_* flags of a sigaction (`unsigned long sa_flags` in the kernel's struct).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SaFlags: u64 {
        /// No SIGCHLD when children stop.
        const SA_NOCLDSTOP = 0x1;
        /// Do not turn dead children into zombies.
        const SA_NOCLDWAIT = 0x2;
        /// Three-argument handler with siginfo.
        const SA_SIGINFO = 0x4;
        /// Probe bit: never supported, so userspace can detect flag support.
        const SA_UNSUPPORTED = 0x400;
        /// Keep the address tag bits in si_addr.
        const SA_EXPOSE_TAGBITS = 0x800;
        /// sa_restorer holds the return trampoline.
        const SA_RESTORER = 0x0400_0000;
        /// Run on the alternate signal stack.
        const SA_ONSTACK = 0x0800_0000;
        /// Restart interrupted syscalls.
        const SA_RESTART = 0x1000_0000;
        /// Do not block the signal in its handler.
        const SA_NODEFER = 0x4000_0000;
        /// Reset to SIG_DFL on delivery.
        const SA_RESETHAND = 0x8000_0000;
    }
}

bitflags! {
    /// Options of wait4/waitid.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct WaitFlags: u32 {
        /// Return at once if no child has changed state.
        const WNOHANG = 0x1;
        /// Report stopped children (WSTOPPED for waitid).
        const WUNTRACED = 0x2;
        /// waitid: report exited children.
        const WEXITED = 0x4;
        /// Report continued children.
        const WCONTINUED = 0x8;
        /// waitid: leave the child waitable.
        const WNOWAIT = 0x0100_0000;
        /// Only children of this thread, not of the thread group.
        const __WNOTHREAD = 0x2000_0000;
        /// Any child, clone or not.
        const __WALL = 0x4000_0000;
        /// Only "clone" children.
        const __WCLONE = 0x8000_0000;
    }
}

impl WaitFlags {
    /// waitid's name for WUNTRACED.
    pub const WSTOPPED: Self = Self::WUNTRACED;
}

bitflags! {
    /// GRND_* flags of getrandom.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct GetrandomFlags: u32 {
        /// Fail with EAGAIN rather than block.
        const GRND_NONBLOCK = 0x1;
        /// Draw from the (historic) blocking pool.
        const GRND_RANDOM = 0x2;
        /// Do not wait for the pool to be initialised.
        const GRND_INSECURE = 0x4;
    }
}

bitflags! {
    /// R_OK/W_OK/X_OK of access(2); F_OK (existence) is zero.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct AccessMode: u32 {
        /// Read permission.
        const R_OK = 0x4;
        /// Write permission.
        const W_OK = 0x2;
        /// Execute/search permission.
        const X_OK = 0x1;
    }
}

impl AccessMode {
    /// Existence only (zero).
    pub const F_OK: Self = Self::empty();
}

bitflags! {
    /// RENAME_* flags of renameat2.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct RenameFlags: u32 {
        /// Fail if the target exists.
        const RENAME_NOREPLACE = 0x1;
        /// Atomically swap source and target.
        const RENAME_EXCHANGE = 0x2;
        /// Leave a whiteout at the source (overlayfs).
        const RENAME_WHITEOUT = 0x4;
    }
}

bitflags! {
    /// MFD_* flags of memfd_create (the MFD_HUGE_* size sits in bits 26..32).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MemfdFlags: u32 {
        /// Close on execve.
        const MFD_CLOEXEC = 0x1;
        /// Allow F_ADD_SEALS.
        const MFD_ALLOW_SEALING = 0x2;
        /// Back with huge pages.
        const MFD_HUGETLB = 0x4;
        /// Not executable, sealed so.
        const MFD_NOEXEC_SEAL = 0x8;
        /// Executable.
        const MFD_EXEC = 0x10;
    }
}

bitflags! {
    /// EPOLL* event bits and input flags of epoll_ctl/epoll_wait.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct EpollEvents: u32 {
        /// Readable.
        const EPOLLIN = 0x1;
        /// Urgent data.
        const EPOLLPRI = 0x2;
        /// Writable.
        const EPOLLOUT = 0x4;
        /// Error.
        const EPOLLERR = 0x8;
        /// Hang-up.
        const EPOLLHUP = 0x10;
        /// Invalid fd.
        const EPOLLNVAL = 0x20;
        /// Normal data readable.
        const EPOLLRDNORM = 0x40;
        /// Priority band readable.
        const EPOLLRDBAND = 0x80;
        /// Normal data writable.
        const EPOLLWRNORM = 0x100;
        /// Priority band writable.
        const EPOLLWRBAND = 0x200;
        /// Unused.
        const EPOLLMSG = 0x400;
        /// Peer closed its writing half.
        const EPOLLRDHUP = 0x2000;
        /// io_uring internal wake-up marker.
        const EPOLL_URING_WAKE = 1 << 27;
        /// Exclusive wake-up.
        const EPOLLEXCLUSIVE = 1 << 28;
        /// Hold a wakeup source.
        const EPOLLWAKEUP = 1 << 29;
        /// Disarm after one event.
        const EPOLLONESHOT = 1 << 30;
        /// Edge-triggered.
        const EPOLLET = 1 << 31;
    }
}

bitflags! {
    /// POLL* bits of struct pollfd's `events`/`revents` (a `short`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct PollEvents: u16 {
        /// Readable.
        const POLLIN = 0x1;
        /// Urgent data.
        const POLLPRI = 0x2;
        /// Writable.
        const POLLOUT = 0x4;
        /// Error.
        const POLLERR = 0x8;
        /// Hang-up.
        const POLLHUP = 0x10;
        /// Invalid fd.
        const POLLNVAL = 0x20;
        /// Normal data readable.
        const POLLRDNORM = 0x40;
        /// Priority band readable.
        const POLLRDBAND = 0x80;
        /// Normal data writable.
        const POLLWRNORM = 0x100;
        /// Priority band writable.
        const POLLWRBAND = 0x200;
        /// Unused.
        const POLLMSG = 0x400;
        /// Unused.
        const POLLREMOVE = 0x1000;
        /// Peer closed its writing half.
        const POLLRDHUP = 0x2000;
    }
}

bitflags! {
    /// MSG_* flags of send/recv and friends.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MsgFlags: u32 {
        /// Out-of-band data.
        const MSG_OOB = 0x1;
        /// Look without consuming.
        const MSG_PEEK = 0x2;
        /// Do not route.
        const MSG_DONTROUTE = 0x4;
        /// Control data was truncated.
        const MSG_CTRUNC = 0x8;
        /// Path MTU probe.
        const MSG_PROBE = 0x10;
        /// Data was truncated / return the real length.
        const MSG_TRUNC = 0x20;
        /// Non-blocking for this call.
        const MSG_DONTWAIT = 0x40;
        /// End of record.
        const MSG_EOR = 0x80;
        /// Wait for the full amount.
        const MSG_WAITALL = 0x100;
        /// TCP FIN.
        const MSG_FIN = 0x200;
        /// TCP SYN.
        const MSG_SYN = 0x400;
        /// Confirm the path is valid.
        const MSG_CONFIRM = 0x800;
        /// TCP RST.
        const MSG_RST = 0x1000;
        /// Read the error queue.
        const MSG_ERRQUEUE = 0x2000;
        /// No SIGPIPE on a broken stream.
        const MSG_NOSIGNAL = 0x4000;
        /// More data follows.
        const MSG_MORE = 0x8000;
        /// recvmmsg: block only for the first message.
        const MSG_WAITFORONE = 0x10000;
        /// sendmmsg: more messages follow.
        const MSG_BATCH = 0x40000;
        /// Zero-copy send.
        const MSG_ZEROCOPY = 0x400_0000;
        /// TCP fast open.
        const MSG_FASTOPEN = 0x2000_0000;
        /// Set close-on-exec on SCM_RIGHTS descriptors.
        const MSG_CMSG_CLOEXEC = 0x4000_0000;
    }
}

bitflags! {
    /// The flag bits of a socket type argument (socket, socketpair, accept4); the type
    /// itself (SOCK_STREAM...) sits in the low four bits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SockFlags: u32 {
        /// Non-blocking (O_NONBLOCK).
        const SOCK_NONBLOCK = 0o4000;
        /// Close on execve (O_CLOEXEC).
        const SOCK_CLOEXEC = 0o2000000;
    }
}

impl SockFlags {
    /// The mask of the socket-type field.
    pub const SOCK_TYPE_MASK: u32 = 0xf;
}

bitflags! {
    /// TIMER_ABSTIME of clock_nanosleep/timer_settime and the timerfd_settime flags.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct TimerFlags: u32 {
        /// The time is absolute (also TFD_TIMER_ABSTIME).
        const TIMER_ABSTIME = 0x1;
        /// timerfd: cancel when the realtime clock is set.
        const TFD_TIMER_CANCEL_ON_SET = 0x2;
    }
}

bitflags! {
    /// MS_* flags of mount(2).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MountFlags: u64 {
        /// Read-only.
        const MS_RDONLY = 1;
        /// Ignore set-id bits.
        const MS_NOSUID = 1 << 1;
        /// No device files.
        const MS_NODEV = 1 << 2;
        /// No execution.
        const MS_NOEXEC = 1 << 3;
        /// Synchronous writes.
        const MS_SYNCHRONOUS = 1 << 4;
        /// Change the flags of an existing mount.
        const MS_REMOUNT = 1 << 5;
        /// Mandatory locking.
        const MS_MANDLOCK = 1 << 6;
        /// Synchronous directory updates.
        const MS_DIRSYNC = 1 << 7;
        /// Do not follow symlinks.
        const MS_NOSYMFOLLOW = 1 << 8;
        /// No access times.
        const MS_NOATIME = 1 << 10;
        /// No directory access times.
        const MS_NODIRATIME = 1 << 11;
        /// Bind mount.
        const MS_BIND = 1 << 12;
        /// Move a mount.
        const MS_MOVE = 1 << 13;
        /// Recursive.
        const MS_REC = 1 << 14;
        /// Quieter kernel messages.
        const MS_SILENT = 1 << 15;
        /// POSIX ACLs.
        const MS_POSIXACL = 1 << 16;
        /// Make unbindable.
        const MS_UNBINDABLE = 1 << 17;
        /// Make private.
        const MS_PRIVATE = 1 << 18;
        /// Make a slave.
        const MS_SLAVE = 1 << 19;
        /// Make shared.
        const MS_SHARED = 1 << 20;
        /// Relative access times.
        const MS_RELATIME = 1 << 21;
        /// Kernel-internal mount.
        const MS_KERNMOUNT = 1 << 22;
        /// i_version updates.
        const MS_I_VERSION = 1 << 23;
        /// Strict access times.
        const MS_STRICTATIME = 1 << 24;
        /// Lazy time updates.
        const MS_LAZYTIME = 1 << 25;
    }
}

bitflags! {
    /// Flags of umount2.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct UmountFlags: u32 {
        /// Force the unmount.
        const MNT_FORCE = 0x1;
        /// Lazy unmount.
        const MNT_DETACH = 0x2;
        /// Mark for expiry.
        const MNT_EXPIRE = 0x4;
        /// Do not follow a trailing symlink.
        const UMOUNT_NOFOLLOW = 0x8;
    }
}

bitflags! {
    /// IN_* event mask and flags of inotify_add_watch.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct InotifyMask: u32 {
        /// File was read.
        const IN_ACCESS = 0x1;
        /// File was written.
        const IN_MODIFY = 0x2;
        /// Metadata changed.
        const IN_ATTRIB = 0x4;
        /// Writable file closed.
        const IN_CLOSE_WRITE = 0x8;
        /// Read-only file closed.
        const IN_CLOSE_NOWRITE = 0x10;
        /// File opened.
        const IN_OPEN = 0x20;
        /// Moved out of a watched directory.
        const IN_MOVED_FROM = 0x40;
        /// Moved into a watched directory.
        const IN_MOVED_TO = 0x80;
        /// Created in a watched directory.
        const IN_CREATE = 0x100;
        /// Deleted from a watched directory.
        const IN_DELETE = 0x200;
        /// The watched object was deleted.
        const IN_DELETE_SELF = 0x400;
        /// The watched object was moved.
        const IN_MOVE_SELF = 0x800;
        /// The filesystem was unmounted.
        const IN_UNMOUNT = 0x2000;
        /// The event queue overflowed.
        const IN_Q_OVERFLOW = 0x4000;
        /// The watch was removed.
        const IN_IGNORED = 0x8000;
        /// Only watch directories.
        const IN_ONLYDIR = 0x0100_0000;
        /// Do not follow a symlink.
        const IN_DONT_FOLLOW = 0x0200_0000;
        /// No events for unlinked children.
        const IN_EXCL_UNLINK = 0x0400_0000;
        /// Fail if the watch exists.
        const IN_MASK_CREATE = 0x1000_0000;
        /// Add to an existing watch's mask.
        const IN_MASK_ADD = 0x2000_0000;
        /// The subject is a directory.
        const IN_ISDIR = 0x4000_0000;
        /// One event, then remove the watch.
        const IN_ONESHOT = 0x8000_0000;
    }
}

bitflags! {
    /// STATX_* request/result mask of statx.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct StatxMask: u32 {
        /// All the stat(2) fields (declared first so it names the whole group).
        const STATX_BASIC_STATS = 0x7ff;
        /// stx_mode's file type.
        const STATX_TYPE = 0x1;
        /// stx_mode's permissions.
        const STATX_MODE = 0x2;
        /// stx_nlink.
        const STATX_NLINK = 0x4;
        /// stx_uid.
        const STATX_UID = 0x8;
        /// stx_gid.
        const STATX_GID = 0x10;
        /// stx_atime.
        const STATX_ATIME = 0x20;
        /// stx_mtime.
        const STATX_MTIME = 0x40;
        /// stx_ctime.
        const STATX_CTIME = 0x80;
        /// stx_ino.
        const STATX_INO = 0x100;
        /// stx_size.
        const STATX_SIZE = 0x200;
        /// stx_blocks.
        const STATX_BLOCKS = 0x400;
        /// stx_btime.
        const STATX_BTIME = 0x800;
        /// stx_mnt_id.
        const STATX_MNT_ID = 0x1000;
        /// Direct I/O alignment.
        const STATX_DIOALIGN = 0x2000;
        /// The unique mount id.
        const STATX_MNT_ID_UNIQUE = 0x4000;
        /// stx_subvol.
        const STATX_SUBVOL = 0x8000;
        /// Atomic write limits.
        const STATX_WRITE_ATOMIC = 0x1_0000;
        /// Direct I/O read alignment.
        const STATX_DIO_READ_ALIGN = 0x2_0000;
    }
}

bitflags! {
    /// LOCK_* operation of flock.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct FlockOp: u32 {
        /// Shared lock.
        const LOCK_SH = 0x1;
        /// Exclusive lock.
        const LOCK_EX = 0x2;
        /// Do not block.
        const LOCK_NB = 0x4;
        /// Unlock.
        const LOCK_UN = 0x8;
    }
}

bitflags! {
    /// MS_* flags of msync.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MsyncFlags: u32 {
        /// Schedule the write-back.
        const MS_ASYNC = 0x1;
        /// Invalidate other mappings.
        const MS_INVALIDATE = 0x2;
        /// Write back and wait.
        const MS_SYNC = 0x4;
    }
}

bitflags! {
    /// MCL_* flags of mlockall.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MlockallFlags: u32 {
        /// Lock what is mapped now.
        const MCL_CURRENT = 0x1;
        /// Lock what will be mapped.
        const MCL_FUTURE = 0x2;
        /// Lock pages when they fault in.
        const MCL_ONFAULT = 0x4;
    }
}

bitflags! {
    /// RESOLVE_* flags of openat2's `struct open_how`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct ResolveFlags: u64 {
        /// Stay on the starting mount.
        const RESOLVE_NO_XDEV = 0x1;
        /// No /proc magic links.
        const RESOLVE_NO_MAGICLINKS = 0x2;
        /// No symlinks at all.
        const RESOLVE_NO_SYMLINKS = 0x4;
        /// Stay beneath the dirfd.
        const RESOLVE_BENEATH = 0x8;
        /// Treat the dirfd as the root.
        const RESOLVE_IN_ROOT = 0x10;
        /// Only from the dentry cache.
        const RESOLVE_CACHED = 0x20;
    }
}

bitflags! {
    /// SS_* flags of a `stack_t` (sigaltstack).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct StackFlags: u32 {
        /// Currently executing on the alternate stack (output only).
        const SS_ONSTACK = 0x1;
        /// The alternate stack is disabled.
        const SS_DISABLE = 0x2;
        /// Disarm the alternate stack while a handler runs on it.
        const SS_AUTODISARM = 0x8000_0000;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The libc constants are typed per platform (c_int, c_ulong...); compare as i64 bit patterns.
    fn same(ours: u64, theirs: i64) {
        assert_eq!(ours as i64, theirs, "ours {ours:#x}, libc {theirs:#x}");
    }

    #[test]
    fn open_flags_match_libc() {
        let pairs: &[(OpenFlags, i64)] = &[
            (OpenFlags::O_WRONLY, libc::O_WRONLY as i64),
            (OpenFlags::O_RDWR, libc::O_RDWR as i64),
            (OpenFlags::O_CREAT, libc::O_CREAT as i64),
            (OpenFlags::O_EXCL, libc::O_EXCL as i64),
            (OpenFlags::O_NOCTTY, libc::O_NOCTTY as i64),
            (OpenFlags::O_TRUNC, libc::O_TRUNC as i64),
            (OpenFlags::O_APPEND, libc::O_APPEND as i64),
            (OpenFlags::O_NONBLOCK, libc::O_NONBLOCK as i64),
            (OpenFlags::O_DSYNC, libc::O_DSYNC as i64),
            (OpenFlags::O_ASYNC, libc::O_ASYNC as i64),
            (OpenFlags::O_DIRECT, libc::O_DIRECT as i64),
            (OpenFlags::O_DIRECTORY, libc::O_DIRECTORY as i64),
            (OpenFlags::O_NOFOLLOW, libc::O_NOFOLLOW as i64),
            (OpenFlags::O_NOATIME, libc::O_NOATIME as i64),
            (OpenFlags::O_CLOEXEC, libc::O_CLOEXEC as i64),
            (OpenFlags::O_SYNC, libc::O_SYNC as i64),
            (OpenFlags::O_PATH, libc::O_PATH as i64),
            (OpenFlags::O_TMPFILE, libc::O_TMPFILE as i64),
        ];
        for &(ours, theirs) in pairs {
            same(ours.bits().into(), theirs);
        }
        same(OpenFlags::O_RDONLY.into(), libc::O_RDONLY as i64);
        same(OpenFlags::O_ACCMODE.into(), libc::O_ACCMODE as i64);
        // glibc hides O_LARGEFILE on x86-64 (it is 0 there); the kernel value is 0o100000.
        assert_eq!(OpenFlags::O_LARGEFILE.bits(), 0o100000);
    }

    #[test]
    fn access_mode_helper() {
        let f = OpenFlags::from_bits_retain(0o2 | 0o2000000);
        assert_eq!(f.access_mode(), AccessModeBits::ReadWrite);
        assert!(f.is_readable() && f.is_writable());
        assert_eq!(OpenFlags::empty().access_mode(), AccessModeBits::ReadOnly);
        assert_eq!(OpenFlags::O_WRONLY.access_mode(), AccessModeBits::WriteOnly);
        assert_eq!(
            OpenFlags::from_bits_retain(3).access_mode(),
            AccessModeBits::Invalid
        );
        assert_eq!(f.without_access_mode(), OpenFlags::O_CLOEXEC);
    }

    #[test]
    fn composite_flags_name_as_a_whole() {
        let names: Vec<_> = OpenFlags::O_SYNC.iter_names().map(|(n, _)| n).collect();
        assert_eq!(names, ["O_SYNC"]);
        let names: Vec<_> = OpenFlags::O_TMPFILE.iter_names().map(|(n, _)| n).collect();
        assert_eq!(names, ["O_TMPFILE"]);
        let names: Vec<_> = OpenFlags::O_DSYNC.iter_names().map(|(n, _)| n).collect();
        assert_eq!(names, ["O_DSYNC"]);
        let names: Vec<_> = MapFlags::MAP_PRIVATE.iter_names().map(|(n, _)| n).collect();
        assert_eq!(names, ["MAP_PRIVATE"]);
    }

    #[test]
    fn at_prot_map_match_libc() {
        same(
            AtFlags::AT_SYMLINK_NOFOLLOW.bits().into(),
            libc::AT_SYMLINK_NOFOLLOW as i64,
        );
        same(
            AtFlags::AT_REMOVEDIR.bits().into(),
            libc::AT_REMOVEDIR as i64,
        );
        same(
            AtFlags::AT_SYMLINK_FOLLOW.bits().into(),
            libc::AT_SYMLINK_FOLLOW as i64,
        );
        same(
            AtFlags::AT_NO_AUTOMOUNT.bits().into(),
            libc::AT_NO_AUTOMOUNT as i64,
        );
        same(
            AtFlags::AT_EMPTY_PATH.bits().into(),
            libc::AT_EMPTY_PATH as i64,
        );
        same(AtFlags::AT_EACCESS.bits().into(), libc::AT_EACCESS as i64);
        same(
            AtFlags::AT_STATX_FORCE_SYNC.bits().into(),
            libc::AT_STATX_FORCE_SYNC as i64,
        );
        same(
            AtFlags::AT_STATX_DONT_SYNC.bits().into(),
            libc::AT_STATX_DONT_SYNC as i64,
        );
        same(
            AtFlags::AT_STATX_SYNC_TYPE.bits().into(),
            libc::AT_STATX_SYNC_TYPE as i64,
        );
        same(
            AtFlags::AT_RECURSIVE.bits().into(),
            libc::AT_RECURSIVE as i64,
        );
        assert_eq!(AT_FDCWD, libc::AT_FDCWD);

        same(ProtFlags::PROT_READ.bits().into(), libc::PROT_READ as i64);
        same(ProtFlags::PROT_WRITE.bits().into(), libc::PROT_WRITE as i64);
        same(ProtFlags::PROT_EXEC.bits().into(), libc::PROT_EXEC as i64);
        same(
            ProtFlags::PROT_GROWSDOWN.bits().into(),
            libc::PROT_GROWSDOWN as i64,
        );
        same(
            ProtFlags::PROT_GROWSUP.bits().into(),
            libc::PROT_GROWSUP as i64,
        );
        same(ProtFlags::PROT_NONE.bits().into(), libc::PROT_NONE as i64);

        let maps: &[(MapFlags, i64)] = &[
            (MapFlags::MAP_SHARED, libc::MAP_SHARED as i64),
            (MapFlags::MAP_PRIVATE, libc::MAP_PRIVATE as i64),
            (
                MapFlags::MAP_SHARED_VALIDATE,
                libc::MAP_SHARED_VALIDATE as i64,
            ),
            (MapFlags::MAP_FIXED, libc::MAP_FIXED as i64),
            (MapFlags::MAP_ANONYMOUS, libc::MAP_ANONYMOUS as i64),
            (MapFlags::MAP_32BIT, libc::MAP_32BIT as i64),
            (MapFlags::MAP_GROWSDOWN, libc::MAP_GROWSDOWN as i64),
            (MapFlags::MAP_DENYWRITE, libc::MAP_DENYWRITE as i64),
            (MapFlags::MAP_EXECUTABLE, libc::MAP_EXECUTABLE as i64),
            (MapFlags::MAP_LOCKED, libc::MAP_LOCKED as i64),
            (MapFlags::MAP_NORESERVE, libc::MAP_NORESERVE as i64),
            (MapFlags::MAP_POPULATE, libc::MAP_POPULATE as i64),
            (MapFlags::MAP_NONBLOCK, libc::MAP_NONBLOCK as i64),
            (MapFlags::MAP_STACK, libc::MAP_STACK as i64),
            (MapFlags::MAP_HUGETLB, libc::MAP_HUGETLB as i64),
            (MapFlags::MAP_SYNC, libc::MAP_SYNC as i64),
            (
                MapFlags::MAP_FIXED_NOREPLACE,
                libc::MAP_FIXED_NOREPLACE as i64,
            ),
        ];
        for &(ours, theirs) in maps {
            same(ours.bits().into(), theirs);
        }
        same(MapFlags::MAP_HUGE_SHIFT.into(), libc::MAP_HUGE_SHIFT as i64);
        same(
            MremapFlags::MREMAP_MAYMOVE.bits().into(),
            libc::MREMAP_MAYMOVE as i64,
        );
        same(
            MremapFlags::MREMAP_FIXED.bits().into(),
            libc::MREMAP_FIXED as i64,
        );
    }

    #[test]
    fn clone_flags_match_libc() {
        let pairs: &[(CloneFlags, i64)] = &[
            (CloneFlags::CLONE_VM, libc::CLONE_VM as i64),
            (CloneFlags::CLONE_FS, libc::CLONE_FS as i64),
            (CloneFlags::CLONE_FILES, libc::CLONE_FILES as i64),
            (CloneFlags::CLONE_SIGHAND, libc::CLONE_SIGHAND as i64),
            (CloneFlags::CLONE_PIDFD, libc::CLONE_PIDFD as i64),
            (CloneFlags::CLONE_PTRACE, libc::CLONE_PTRACE as i64),
            (CloneFlags::CLONE_VFORK, libc::CLONE_VFORK as i64),
            (CloneFlags::CLONE_PARENT, libc::CLONE_PARENT as i64),
            (CloneFlags::CLONE_THREAD, libc::CLONE_THREAD as i64),
            (CloneFlags::CLONE_NEWNS, libc::CLONE_NEWNS as i64),
            (CloneFlags::CLONE_SYSVSEM, libc::CLONE_SYSVSEM as i64),
            (CloneFlags::CLONE_SETTLS, libc::CLONE_SETTLS as i64),
            (
                CloneFlags::CLONE_PARENT_SETTID,
                libc::CLONE_PARENT_SETTID as i64,
            ),
            (
                CloneFlags::CLONE_CHILD_CLEARTID,
                libc::CLONE_CHILD_CLEARTID as i64,
            ),
            (CloneFlags::CLONE_DETACHED, libc::CLONE_DETACHED as i64),
            (CloneFlags::CLONE_UNTRACED, libc::CLONE_UNTRACED as i64),
            (
                CloneFlags::CLONE_CHILD_SETTID,
                libc::CLONE_CHILD_SETTID as i64,
            ),
            (CloneFlags::CLONE_NEWCGROUP, libc::CLONE_NEWCGROUP as i64),
            (CloneFlags::CLONE_NEWUTS, libc::CLONE_NEWUTS as i64),
            (CloneFlags::CLONE_NEWIPC, libc::CLONE_NEWIPC as i64),
            (CloneFlags::CLONE_NEWUSER, libc::CLONE_NEWUSER as i64),
            (CloneFlags::CLONE_NEWPID, libc::CLONE_NEWPID as i64),
            (CloneFlags::CLONE_NEWNET, libc::CLONE_NEWNET as i64),
            (CloneFlags::CLONE_IO, libc::CLONE_IO as u32 as i64),
            (CloneFlags::CLONE_NEWTIME, libc::CLONE_NEWTIME as i64),
        ];
        for &(ours, theirs) in pairs {
            same(ours.bits(), theirs);
        }
        same(CloneFlags::CSIGNAL, libc::CSIGNAL as i64);
        // libc declares the two 64-bit clone3 flags as c_int (they overflow there).
        assert_eq!(CloneFlags::CLONE_CLEAR_SIGHAND.bits(), 1 << 32);
        assert_eq!(CloneFlags::CLONE_INTO_CGROUP.bits(), 1 << 33);
        assert_eq!(OpenFlags::FASYNC, OpenFlags::O_ASYNC);
    }

    #[test]
    fn signal_wait_random_access_match_libc() {
        let sa: &[(SaFlags, i64)] = &[
            (SaFlags::SA_NOCLDSTOP, libc::SA_NOCLDSTOP as i64),
            (SaFlags::SA_NOCLDWAIT, libc::SA_NOCLDWAIT as i64),
            (SaFlags::SA_SIGINFO, libc::SA_SIGINFO as i64),
            (SaFlags::SA_ONSTACK, libc::SA_ONSTACK as i64),
            (SaFlags::SA_RESTART, libc::SA_RESTART as i64),
            (SaFlags::SA_NODEFER, libc::SA_NODEFER as i64),
            (SaFlags::SA_RESETHAND, libc::SA_RESETHAND as u32 as i64),
        ];
        for &(ours, theirs) in sa {
            same(ours.bits(), theirs);
        }
        // libc does not export SA_RESTORER on every target; the kernel value is fixed.
        assert_eq!(SaFlags::SA_RESTORER.bits(), 0x0400_0000);

        same(WaitFlags::WNOHANG.bits().into(), libc::WNOHANG as i64);
        same(WaitFlags::WUNTRACED.bits().into(), libc::WUNTRACED as i64);
        same(WaitFlags::WSTOPPED.bits().into(), libc::WSTOPPED as i64);
        same(WaitFlags::WEXITED.bits().into(), libc::WEXITED as i64);
        same(WaitFlags::WCONTINUED.bits().into(), libc::WCONTINUED as i64);
        same(WaitFlags::WNOWAIT.bits().into(), libc::WNOWAIT as i64);
        same(
            WaitFlags::__WNOTHREAD.bits().into(),
            libc::__WNOTHREAD as i64,
        );
        same(WaitFlags::__WALL.bits().into(), libc::__WALL as i64);
        same(
            WaitFlags::__WCLONE.bits().into(),
            libc::__WCLONE as u32 as i64,
        );

        same(
            GetrandomFlags::GRND_NONBLOCK.bits().into(),
            libc::GRND_NONBLOCK as i64,
        );
        same(
            GetrandomFlags::GRND_RANDOM.bits().into(),
            libc::GRND_RANDOM as i64,
        );
        same(
            GetrandomFlags::GRND_INSECURE.bits().into(),
            libc::GRND_INSECURE as i64,
        );

        same(AccessMode::R_OK.bits().into(), libc::R_OK as i64);
        same(AccessMode::W_OK.bits().into(), libc::W_OK as i64);
        same(AccessMode::X_OK.bits().into(), libc::X_OK as i64);
        same(AccessMode::F_OK.bits().into(), libc::F_OK as i64);

        same(
            RenameFlags::RENAME_NOREPLACE.bits().into(),
            libc::RENAME_NOREPLACE as i64,
        );
        same(
            RenameFlags::RENAME_EXCHANGE.bits().into(),
            libc::RENAME_EXCHANGE as i64,
        );
        same(
            RenameFlags::RENAME_WHITEOUT.bits().into(),
            libc::RENAME_WHITEOUT as i64,
        );

        same(
            MemfdFlags::MFD_CLOEXEC.bits().into(),
            libc::MFD_CLOEXEC as i64,
        );
        same(
            MemfdFlags::MFD_ALLOW_SEALING.bits().into(),
            libc::MFD_ALLOW_SEALING as i64,
        );
        same(
            MemfdFlags::MFD_HUGETLB.bits().into(),
            libc::MFD_HUGETLB as i64,
        );
    }

    #[test]
    fn events_and_messages_match_libc() {
        let ep: &[(EpollEvents, i64)] = &[
            (EpollEvents::EPOLLIN, libc::EPOLLIN as i64),
            (EpollEvents::EPOLLPRI, libc::EPOLLPRI as i64),
            (EpollEvents::EPOLLOUT, libc::EPOLLOUT as i64),
            (EpollEvents::EPOLLERR, libc::EPOLLERR as i64),
            (EpollEvents::EPOLLHUP, libc::EPOLLHUP as i64),
            (EpollEvents::EPOLLRDNORM, libc::EPOLLRDNORM as i64),
            (EpollEvents::EPOLLRDBAND, libc::EPOLLRDBAND as i64),
            (EpollEvents::EPOLLWRNORM, libc::EPOLLWRNORM as i64),
            (EpollEvents::EPOLLWRBAND, libc::EPOLLWRBAND as i64),
            (EpollEvents::EPOLLMSG, libc::EPOLLMSG as i64),
            (EpollEvents::EPOLLRDHUP, libc::EPOLLRDHUP as i64),
            (EpollEvents::EPOLLEXCLUSIVE, libc::EPOLLEXCLUSIVE as i64),
            (EpollEvents::EPOLLWAKEUP, libc::EPOLLWAKEUP as i64),
            (EpollEvents::EPOLLONESHOT, libc::EPOLLONESHOT as i64),
            (EpollEvents::EPOLLET, libc::EPOLLET as u32 as i64),
        ];
        for &(ours, theirs) in ep {
            same(ours.bits().into(), theirs);
        }
        let poll: &[(PollEvents, i64)] = &[
            (PollEvents::POLLIN, libc::POLLIN as i64),
            (PollEvents::POLLPRI, libc::POLLPRI as i64),
            (PollEvents::POLLOUT, libc::POLLOUT as i64),
            (PollEvents::POLLERR, libc::POLLERR as i64),
            (PollEvents::POLLHUP, libc::POLLHUP as i64),
            (PollEvents::POLLNVAL, libc::POLLNVAL as i64),
            (PollEvents::POLLRDNORM, libc::POLLRDNORM as i64),
            (PollEvents::POLLRDBAND, libc::POLLRDBAND as i64),
            (PollEvents::POLLWRNORM, libc::POLLWRNORM as i64),
            (PollEvents::POLLWRBAND, libc::POLLWRBAND as i64),
            (PollEvents::POLLRDHUP, libc::POLLRDHUP as i64),
        ];
        for &(ours, theirs) in poll {
            same(ours.bits().into(), theirs);
        }
        let msg: &[(MsgFlags, i64)] = &[
            (MsgFlags::MSG_OOB, libc::MSG_OOB as i64),
            (MsgFlags::MSG_PEEK, libc::MSG_PEEK as i64),
            (MsgFlags::MSG_DONTROUTE, libc::MSG_DONTROUTE as i64),
            (MsgFlags::MSG_CTRUNC, libc::MSG_CTRUNC as i64),
            (MsgFlags::MSG_TRUNC, libc::MSG_TRUNC as i64),
            (MsgFlags::MSG_DONTWAIT, libc::MSG_DONTWAIT as i64),
            (MsgFlags::MSG_EOR, libc::MSG_EOR as i64),
            (MsgFlags::MSG_WAITALL, libc::MSG_WAITALL as i64),
            (MsgFlags::MSG_CONFIRM, libc::MSG_CONFIRM as i64),
            (MsgFlags::MSG_ERRQUEUE, libc::MSG_ERRQUEUE as i64),
            (MsgFlags::MSG_NOSIGNAL, libc::MSG_NOSIGNAL as i64),
            (MsgFlags::MSG_MORE, libc::MSG_MORE as i64),
            (MsgFlags::MSG_WAITFORONE, libc::MSG_WAITFORONE as i64),
            (MsgFlags::MSG_ZEROCOPY, libc::MSG_ZEROCOPY as i64),
            (MsgFlags::MSG_FASTOPEN, libc::MSG_FASTOPEN as i64),
            (MsgFlags::MSG_CMSG_CLOEXEC, libc::MSG_CMSG_CLOEXEC as i64),
        ];
        for &(ours, theirs) in msg {
            same(ours.bits().into(), theirs);
        }
    }

    #[test]
    fn other_sets_match_libc() {
        same(
            SockFlags::SOCK_NONBLOCK.bits().into(),
            libc::SOCK_NONBLOCK as i64,
        );
        same(
            SockFlags::SOCK_CLOEXEC.bits().into(),
            libc::SOCK_CLOEXEC as i64,
        );
        same(
            TimerFlags::TIMER_ABSTIME.bits().into(),
            libc::TIMER_ABSTIME as i64,
        );
        same(MountFlags::MS_RDONLY.bits(), libc::MS_RDONLY as i64);
        same(MountFlags::MS_BIND.bits(), libc::MS_BIND as i64);
        same(MountFlags::MS_REC.bits(), libc::MS_REC as i64);
        same(MountFlags::MS_PRIVATE.bits(), libc::MS_PRIVATE as i64);
        same(MountFlags::MS_LAZYTIME.bits(), libc::MS_LAZYTIME as i64);
        same(
            UmountFlags::MNT_DETACH.bits().into(),
            libc::MNT_DETACH as i64,
        );
        same(
            UmountFlags::UMOUNT_NOFOLLOW.bits().into(),
            libc::UMOUNT_NOFOLLOW as i64,
        );
        same(
            InotifyMask::IN_CLOSE_WRITE.bits().into(),
            libc::IN_CLOSE_WRITE as i64,
        );
        same(
            InotifyMask::IN_ONLYDIR.bits().into(),
            libc::IN_ONLYDIR as i64,
        );
        same(
            InotifyMask::IN_ONESHOT.bits().into(),
            libc::IN_ONESHOT as i64,
        );
        same(
            StatxMask::STATX_BASIC_STATS.bits().into(),
            libc::STATX_BASIC_STATS as i64,
        );
        same(
            StatxMask::STATX_BTIME.bits().into(),
            libc::STATX_BTIME as i64,
        );
        same(FlockOp::LOCK_EX.bits().into(), libc::LOCK_EX as i64);
        same(FlockOp::LOCK_NB.bits().into(), libc::LOCK_NB as i64);
        same(MsyncFlags::MS_SYNC.bits().into(), libc::MS_SYNC as i64);
        same(
            MsyncFlags::MS_INVALIDATE.bits().into(),
            libc::MS_INVALIDATE as i64,
        );
        same(
            MlockallFlags::MCL_FUTURE.bits().into(),
            libc::MCL_FUTURE as i64,
        );
        same(
            MlockallFlags::MCL_ONFAULT.bits().into(),
            libc::MCL_ONFAULT as i64,
        );
        same(
            StackFlags::SS_DISABLE.bits().into(),
            libc::SS_DISABLE as i64,
        );
    }
}
