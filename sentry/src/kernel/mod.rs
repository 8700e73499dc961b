//! The kernel proper: the [`Kernel`] shared by every task of a sandbox, and [`Task`], one guest
//! thread with its registers, address space, descriptors and signal state.
//!
//! Today a sandbox runs one single-threaded process; thread groups, sessions and the pid
//! namespace arrive with processes (clone, fork, execve).

pub mod events;
pub mod fs_context;
pub mod locks;
pub mod process;
pub mod signal;
pub mod task;

use std::sync::Arc;

use platform::Platform;

use crate::audit::Audit;
use crate::mm::MemoryFile;
use crate::vfs::mount::MountNamespace;

pub use fs_context::FsContext;
pub use task::{ExitStatus, Task};

/// Guest credentials. The guest sees the ids the sandbox was started with.
#[derive(Clone, Copy, Debug, Default)]
pub struct Credentials {
    /// Real and effective user id.
    pub uid: u32,
    /// Real and effective group id.
    pub gid: u32,
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
    /// The credentials every task starts with.
    pub creds: Credentials,
    /// The mount namespace.
    pub mounts: MountNamespace,
    /// Every process, for /proc.
    pub processes: crate::fs::proc::Processes,
    /// Supplementary groups (the sandbox's own at start).
    pub groups: std::sync::Mutex<Vec<u32>>,
    /// Pids, parents and exit statuses.
    pub procs: Arc<process::ProcessTable>,
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
