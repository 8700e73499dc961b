//! The kernel proper: the [`Kernel`] shared by every task of a sandbox, and [`Task`], one guest
//! thread with its registers, address space, descriptors and signal state.
//!
//! Processes and their threads live in the [`process::ProcessTable`] (the sandbox's own pid
//! namespace) and the signal queues of [`signal`]; each task runs on a host thread of its own
//! (from [`workers`]).

pub mod events;
pub mod fs_context;
pub mod locks;
pub mod patch;
pub mod process;
pub mod shm;
pub mod signal;
pub mod task;
pub mod timekeeper;
pub mod cpulimit;
pub mod timers;
pub mod workers;

use std::sync::Arc;

use platform::Platform;

use crate::audit::Audit;
use crate::mm::MemoryFile;
use crate::vfs::mount::MountNamespace;

pub use fs_context::FsContext;
pub use task::{ExitStatus, Task};

/// `now + d` as a deadline, or None when it lies beyond what an Instant holds: a guest's
/// timeout that long never ends (and must not overflow the clock arithmetic).
pub fn deadline_in(d: std::time::Duration) -> Option<std::time::Instant> {
    std::time::Instant::now().checked_add(d)
}

/// The longest timer value or interval kept (a hundred years): longer ones never fire.
pub const TIMER_FOREVER: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 86_400);

/// Capabilities, as their bit numbers.
pub mod cap {
    pub const CHOWN: u32 = 0;
    pub const DAC_OVERRIDE: u32 = 1;
    pub const DAC_READ_SEARCH: u32 = 2;
    pub const FOWNER: u32 = 3;
    pub const FSETID: u32 = 4;
    pub const KILL: u32 = 5;
    pub const SETGID: u32 = 6;
    pub const SETUID: u32 = 7;
    pub const LINUX_IMMUTABLE: u32 = 9;
    pub const IPC_LOCK: u32 = 14;
    pub const IPC_OWNER: u32 = 15;
    pub const SYS_ADMIN: u32 = 21;
    pub const SYS_NICE: u32 = 23;
    pub const SYS_RESOURCE: u32 = 24;
    pub const MKNOD: u32 = 27;
    pub const MAC_OVERRIDE: u32 = 32;
    /// CAP_LAST_CAP of the kernel the Sentry follows.
    pub const LAST: u32 = 40;
    /// Every capability.
    pub const ALL: u64 = (1 << (LAST + 1)) - 1;
    /// The ones a filesystem uid of 0 gives (CAP_FS_MASK).
    pub const FS_MASK: u64 = 1 << CHOWN | 1 << DAC_OVERRIDE | 1 << DAC_READ_SEARCH | 1 << FOWNER | 1 << FSETID | 1 << LINUX_IMMUTABLE | 1 << MKNOD | 1 << MAC_OVERRIDE;
}

/// A task's credentials: the ids the sandbox was started with, as the setuid family changed
/// them since, and capability sets that follow Linux's rules for root. They matter only
/// inside the sandbox: a capability is power over guest objects and nothing on the host.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// Real, effective, saved and filesystem user ids.
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    /// Real, effective, saved and filesystem group ids.
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    /// Supplementary groups.
    pub groups: Arc<Vec<u32>>,
    /// Effective, permitted and inheritable capability sets.
    pub cap_effective: u64,
    pub cap_permitted: u64,
    pub cap_inheritable: u64,
}

impl Credentials {
    /// All ids `uid` and `gid`.
    pub fn new(uid: u32, gid: u32, groups: Vec<u32>) -> Credentials {
        let caps = if uid == 0 { cap::ALL } else { 0 };
        Credentials {
            uid,
            euid: uid,
            suid: uid,
            fsuid: uid,
            gid,
            egid: gid,
            sgid: gid,
            fsgid: gid,
            groups: Arc::new(groups),
            cap_effective: caps,
            cap_permitted: caps,
            cap_inheritable: 0,
        }
    }

    /// Whether the task holds capability `c` (one of [`cap`]) in its effective set.
    pub fn capable(&self, c: u32) -> bool {
        self.cap_effective & (1 << c) != 0
    }

    /// Linux's capability changes when the user ids change (cap_emulate_setxuid and the
    /// filesystem-uid rule), given the ids before.
    pub fn fix_caps_after_setuid(&mut self, (ruid, euid, suid, fsuid): (u32, u32, u32, u32)) {
        let was_root = ruid == 0 || euid == 0 || suid == 0;
        if was_root && self.uid != 0 && self.euid != 0 && self.suid != 0 {
            self.cap_permitted = 0;
            self.cap_effective = 0;
        }
        if euid == 0 && self.euid != 0 {
            self.cap_effective = 0;
        }
        if euid != 0 && self.euid == 0 {
            self.cap_effective = self.cap_permitted;
        }
        if fsuid == 0 && self.fsuid != 0 {
            self.cap_effective &= !cap::FS_MASK;
        } else if fsuid != 0 && self.fsuid == 0 {
            self.cap_effective |= self.cap_permitted & cap::FS_MASK;
        }
    }

    /// The capability sets after execve of a program without file capabilities: root (real or
    /// effective) gets them all back, effective ones if it is effective root; others none.
    pub fn caps_after_exec(&mut self) {
        if self.uid == 0 || self.euid == 0 {
            self.cap_permitted = cap::ALL;
            self.cap_effective = if self.euid == 0 { cap::ALL } else { 0 };
        } else {
            self.cap_permitted = 0;
            self.cap_effective = 0;
        }
    }

    /// Whether `gid` is the filesystem group or a supplementary group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }
}

/// What all tasks of a sandbox share.
pub struct Kernel {
    /// All guest memory.
    pub memory_file: Arc<MemoryFile>,
    /// The host mechanism running guest code.
    pub platform: Arc<dyn Platform>,
    /// Per-syscall counters and audit events.
    pub audit: Audit,
    /// Print each syscall (--strace).
    pub strace: bool,
    /// The credentials the first task starts with.
    pub creds: Credentials,
    /// The mount namespace.
    pub mounts: MountNamespace,
    /// Every process, for /proc.
    pub processes: crate::fs::proc::Processes,
    /// Pids, parents and exit statuses.
    pub procs: Arc<process::ProcessTable>,
    /// SysV shared memory segments.
    pub shm: shm::Registry,
}

/// The fixed identity `uname` reports. The release is a kernel whose ABI the Sentry follows;
/// the node name is the sandbox's own (no host name leaks in).
pub mod uts {
    /// sysname.
    pub const SYSNAME: &str = "Linux";
    /// nodename.
    pub const NODENAME: &str = "sandbox";
    /// release: the Linux ABI level the Sentry implements.
    pub const RELEASE: &str = "6.1.0";
    /// version.
    pub const VERSION: &str = "#1 SMP sandbox";
    /// machine.
    pub const MACHINE: &str = "x86_64";
    /// domainname.
    pub const DOMAINNAME: &str = "(none)";
}
