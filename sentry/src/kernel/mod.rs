//! The kernel proper: the [`Kernel`] shared by every task of a sandbox, and [`Task`], one guest
//! thread with its registers, address space, descriptors and signal state.
//!
//! Today a sandbox runs one single-threaded process; thread groups, sessions and the pid
//! namespace arrive with processes (clone, fork, execve).

pub mod events;
pub mod fs_context;
pub mod locks;
pub mod process;
pub mod shm;
pub mod signal;
pub mod task;
pub mod timers;

use std::sync::Arc;

use platform::Platform;

use crate::audit::Audit;
use crate::mm::MemoryFile;
use crate::vfs::mount::MountNamespace;

pub use fs_context::FsContext;
pub use task::{ExitStatus, Task};

/// A task's credentials: the ids the sandbox was started with, as the setuid family changed
/// them since. They matter only inside the sandbox: guest root (euid 0) holds every
/// capability over guest objects and nothing on the host.
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
}

impl Credentials {
    /// All ids `uid` and `gid`.
    pub fn new(uid: u32, gid: u32, groups: Vec<u32>) -> Credentials {
        Credentials { uid, euid: uid, suid: uid, fsuid: uid, gid, egid: gid, sgid: gid, fsgid: gid, groups: Arc::new(groups) }
    }

    /// Whether the task has every capability (effective root).
    pub fn privileged(&self) -> bool {
        self.euid == 0
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
