//! The Sentry: the sandbox's kernel. It serves every system call of the guest itself, keeps
//! the guest's memory in one memory file, and never lets the host run a guest syscall.
//!
//! Modules: `kernel` (tasks), `mm` (address spaces over the memory file), `loader` (ELF and the
//! initial stack), `vfs` (descriptors and files), `syscalls` (the table and the handlers, one
//! file per family), `audit` (counters and the report).

pub mod audit;
pub mod confine;
pub mod fs;
pub mod kernel;
pub mod loader;
pub mod mm;
pub mod syscalls;
pub mod vfs;

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Arc;

use platform::{Platform, PlatformError, Registers};
use policy::audit::AuditReport;
use ::syscalls::structs::{Rlimit, Sigaction};
use ::syscalls::Errno;

use kernel::task::{SignalState, RLIM_NLIMITS};
use kernel::{Credentials, ExitStatus, FsContext, Kernel, Task};
use loader::{AuxCreds, ElfImage};
use mm::{MemoryFile, MemoryManager};
use vfs::dentry::Dentry;
use vfs::host::HostFile;
use vfs::mount::MountNamespace;
use vfs::{FdTable, FileDescription};

/// Why a sandbox could not run its program to the end.
#[derive(Debug, thiserror::Error)]
pub enum SentryError {
    /// The memfd for guest memory.
    #[error("cannot create the guest memory file: {0}")]
    MemoryFile(std::io::Error),
    /// The platform failed (stub creation, ptrace, a stub that died).
    #[error("platform error: {0}")]
    Platform(#[from] PlatformError),
    /// The file tree could not be set up (the Gofer failed to attach a root...).
    #[error("cannot set up the sandbox's files: {0}")]
    Files(String),
    /// A dynamic program's interpreter could not be loaded.
    #[error("cannot load the program's interpreter {0}: {1}")]
    Interp(String, Errno),
    /// The program did not fit the address space.
    #[error("cannot lay out the program in memory: {0}")]
    Load(Errno),
    /// --cwd names no directory in the sandbox.
    #[error("--cwd {0}: {1}")]
    Cwd(String, Errno),
    /// The task thread could not start or died.
    #[error("the task thread failed: {0}")]
    Thread(String),
    /// A limit of [`Limits`] ended the run.
    #[error("{0}")]
    Limit(Breach),
}

/// Limits on what the guest may use (`--pids`, `--memory`, `--timeout`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// Processes at most (zombies count until reaped); fork past it fails with EAGAIN.
    pub pids: Option<usize>,
    /// Guest memory in bytes (pages the guest touched, file copies included); past it the
    /// sandbox is killed, as a memory cgroup's OOM killer would.
    pub memory: Option<u64>,
    /// Wall-clock time; past it the sandbox is killed.
    pub timeout: Option<std::time::Duration>,
}

/// Which limit ended a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breach {
    /// Guest memory passed `Limits::memory` (bytes in use when seen).
    Memory { limit: u64, used: u64 },
    /// The run took longer than `Limits::timeout`.
    Timeout(std::time::Duration),
}

impl std::fmt::Display for Breach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const MIB: u64 = 1 << 20;
        match self {
            Breach::Memory { limit, used } => write!(f, "the guest used {} MiB of memory, over the --memory limit of {} MiB: the sandbox was killed (raise --memory to allow more)", used / MIB, limit / MIB),
            Breach::Timeout(d) => write!(f, "the guest ran longer than --timeout {:?}: the sandbox was killed", d),
        }
    }
}

/// The sandbox's file tree: host roots served by a Gofer, or nothing but memory.
pub struct Files {
    /// The Gofer connection; its root 0 is the root filesystem (read-only, under an overlay).
    pub gofer: Option<Arc<gofer::Client>>,
    /// Further Gofer roots (1, 2...) mounted at these paths: (path in the sandbox, read-only).
    /// A read-only mount sits under an overlay like the root; a read-write one writes through.
    pub mounts: Vec<(Vec<u8>, bool)>,
}

/// What to run.
pub struct Config {
    /// The guest's argv.
    pub argv: Vec<Vec<u8>>,
    /// The guest's environment.
    pub envp: Vec<Vec<u8>>,
    /// The executable's path as the guest sees it (/proc/self/exe, AT_EXECFN).
    pub exe: Vec<u8>,
    /// The working directory inside the sandbox (default: the root).
    pub cwd: Option<Vec<u8>>,
    /// --strace.
    pub strace: bool,
    /// --pids, --memory, --timeout.
    pub limits: Limits,
}

/// How a run ended.
pub struct Outcome {
    /// The guest's exit.
    pub status: ExitStatus,
}

/// A sandbox: the kernel and the platform, before and after its program runs.
pub struct Sandbox {
    kernel: Arc<Kernel>,
}

impl Sandbox {
    /// Creates the memory file, the platform and the file tree.
    pub fn new(strace: bool, files: Files, make_platform: impl FnOnce(&MemoryFile) -> Result<Arc<dyn Platform>, PlatformError>) -> Result<Sandbox, SentryError> {
        let memory_file = Arc::new(MemoryFile::new(mm::memory_file::MEMORY_FILE_SIZE).map_err(SentryError::MemoryFile)?);
        loader::vdso::attach(&memory_file).map_err(|e| SentryError::MemoryFile(std::io::Error::from_raw_os_error(e.raw())))?;
        let platform = make_platform(&memory_file)?;
        // SAFETY: getuid and getgid take no arguments and cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let creds = Credentials::new(uid, gid, host_groups());
        let procfs = fs::proc::ProcFs::new(fs::proc::HostSnapshot::take());
        let mounts = root_namespace(&memory_file, &procfs, &files)?;
        let kernel = Arc::new(Kernel { memory_file, platform, audit: Default::default(), strace, creds, mounts, processes: Default::default(), procs: Default::default(), shm: Default::default() });
        procfs.attach(&kernel);
        Ok(Sandbox { kernel })
    }

    /// Runs `image` as the sandbox's first process and waits for it to end. From here on the
    /// process runs under the Sentry's host seccomp filter ([`confine`]): everything that
    /// opens host files must be done before.
    pub fn run(&self, cfg: Config, image: ElfImage, file: Vec<u8>) -> Result<Outcome, SentryError> {
        let fds = stdio_fds();
        let limits = cfg.limits;
        // Before any thread starts, so that all of them inherit the mask.
        let forwarded = block_forwarded_signals();
        loader::vdso::start_timekeeper().map_err(|e| SentryError::Thread(e.to_string()))?;
        self.kernel.procs.set_limit(limits.pids);
        confine::confine()?;
        let kernel = self.kernel.clone();
        let (done, ended) = std::sync::mpsc::channel();
        let watchdog = done.clone();
        std::thread::Builder::new()
            .name("task-1".into())
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_init(kernel, cfg, fds, &image, &file)));
                let _ = done.send(r.unwrap_or_else(|_| Err(SentryError::Thread("it panicked".into()))));
            })
            .map_err(|e| SentryError::Thread(e.to_string()))?;
        let procs = self.kernel.procs.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || forward_signals(&forwarded, &procs))
            .map_err(|e| SentryError::Thread(e.to_string()))?;
        if limits.memory.is_some() || limits.timeout.is_some() {
            let memory_file = self.kernel.memory_file.clone();
            std::thread::Builder::new()
                .name("limits".into())
                .spawn(move || {
                    let breach = watch_limits(&memory_file, limits);
                    let _ = watchdog.send(Err(SentryError::Limit(breach)));
                })
                .map_err(|e| SentryError::Thread(e.to_string()))?;
        }
        // The first to finish: the init process, or a limit (the caller then exits, and the
        // stubs die with the Sentry).
        let status = ended.recv().map_err(|_| SentryError::Thread("it vanished".into()))??;
        Ok(Outcome { status })
    }

    /// The audit report of everything run so far.
    pub fn audit(&self, program: Vec<String>, exit_status: Option<i32>) -> AuditReport {
        self.kernel.audit.report(program, self.kernel.platform.name(), exit_status)
    }
}

/// Signals sent to the sandbox that go on to the guest, as `docker run` passes them on.
const FORWARDED_SIGNALS: [i32; 7] = [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2, libc::SIGWINCH];

/// Blocks the forwarded signals in the calling thread (and so in every thread it starts).
fn block_forwarded_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; the sig* calls only edit the set and this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in FORWARDED_SIGNALS {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Takes the forwarded signals as they come and posts them in the guest: a terminal's
/// SIGINT and SIGQUIT to init's process group, the others to init (pid 1), from outside the
/// sandbox's pid namespace (si_pid 0).
fn forward_signals(set: &libc::sigset_t, procs: &kernel::process::ProcessTable) {
    loop {
        // SAFETY: `set` is a valid signal set; no siginfo is asked for.
        let sig = unsafe { libc::sigwaitinfo(set, std::ptr::null_mut()) };
        if sig <= 0 {
            continue;
        }
        tracing::info!(sig, "signal for the guest");
        let info = kernel::signal::SigInfo::from_process(sig, kernel::signal::SI_USER, 0, 0);
        let targets = match sig {
            libc::SIGINT | libc::SIGQUIT => procs.pgid(1).map(|g| procs.group_queues(Some(g), 0)).unwrap_or_default(),
            _ => procs.queue(1).into_iter().collect(),
        };
        for q in targets {
            q.post(info);
        }
    }
}

/// Watches guest memory and the clock until a limit is passed.
fn watch_limits(memory_file: &MemoryFile, limits: Limits) -> Breach {
    const PERIOD: std::time::Duration = std::time::Duration::from_millis(10);
    let start = std::time::Instant::now();
    loop {
        if let Some(limit) = limits.memory {
            let used = memory_file.in_use();
            if used > limit {
                return Breach::Memory { limit, used };
            }
        }
        if let Some(t) = limits.timeout {
            let left = t.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Breach::Timeout(t);
            }
            if limits.memory.is_none() {
                std::thread::sleep(left);
                continue;
            }
        }
        std::thread::sleep(PERIOD);
    }
}

/// The body of the first task's thread: this thread becomes the guest's tracer.
fn run_init(kernel: Arc<Kernel>, cfg: Config, fds: FdTable, image: &ElfImage, file: &[u8]) -> Result<ExitStatus, SentryError> {
    let kernel_root = kernel.mounts.root();
    let cwd = match &cfg.cwd {
        None => kernel_root.clone(),
        Some(dir) => {
            let resolver = vfs::resolve::Resolver { ns: &kernel.mounts, root: kernel_root.clone() };
            let shown = || String::from_utf8_lossy(dir).into_owned();
            let p = resolver.resolve(&kernel_root, dir, true).map_err(|e| SentryError::Cwd(shown(), e))?;
            if p.dentry.inode.kind() != vfs::inode::FileType::Directory {
                return Err(SentryError::Cwd(shown(), Errno::ENOTDIR));
            }
            p
        }
    };
    let (asp, ctx) = kernel.platform.new_address_space()?;
    let mut mm = MemoryManager::new(kernel.memory_file.clone(), asp, kernel.platform.user_range());
    let c = &kernel.creds;
    let creds = AuxCreds { uid: c.uid, euid: c.euid, gid: c.gid, egid: c.egid };
    let interp = syscalls::process::load_interp(&kernel, &kernel_root, image).map_err(|e| {
        let name = String::from_utf8_lossy(image.interp.as_deref().unwrap_or_default()).into_owned();
        SentryError::Interp(name, e)
    })?;
    let rlimits = host_rlimits();
    let stack_limit = rlimits[kernel::task::RLIMIT_STACK].rlim_cur;
    let loaded = loader::load(&mut mm, image, file, interp.as_ref().map(|(i, b)| (i, &b[..])), &cfg.argv, &cfg.envp, &cfg.exe, creds, stack_limit).map_err(SentryError::Load)?;
    let fs = FsContext::new(kernel_root, cwd, 0o022);
    let maps = mm.published();
    let info = fs::proc::ProcessInfo { tgid: 1, ppid: 0, argv: cfg.argv, envp: cfg.envp, comm: fs::proc::comm_of(&cfg.exe), exe: cfg.exe.clone(), fds: fds.clone(), fs: fs.clone(), maps };
    kernel.processes.lock().unwrap_or_else(|e| e.into_inner()).insert(1, Arc::new(info));
    fs::proc::set_current(1, 1);
    let mut task = Task {
        kernel: kernel.clone(),
        tid: 1,
        tgid: 1,
        ppid: 0,
        regs: Registers::new_user(loaded.entry, loaded.sp),
        ctx,
        mm: Arc::new(mm),
        fds,
        fs,
        signals: SignalState { actions: Arc::new(std::sync::Mutex::new([Sigaction::default(); 64])), mask: 0 },
        clear_child_tid: 0,
        robust_list: (0, 0),
        exe: cfg.exe,
        rlimits,
        exit: None,
        sigq: kernel.procs.queue(1).unwrap_or_default().add_thread(1, 0),
        altstack: None,
        saved_mask: None,
        no_new_privs: false,
        creds: kernel.creds.clone(),
        dumpable: true,
    };
    let status = task.run()?;
    // The first thread may end before the others (pthread_exit in main): the sandbox ends with
    // the last.
    let process = task.sigq.process.clone();
    match task.leave(status) {
        Some(s) => Ok(s),
        None => {
            drop(task);
            Ok(process.wait_finished())
        }
    }
}

/// The sandbox's mount namespace: the root (the host's files through the Gofer under an
/// in-memory overlay, or a plain tmpfs without a Gofer), /dev with its /dev/shm tmpfs, /proc,
/// /sys, and the extra mounts.
fn root_namespace(memory_file: &Arc<MemoryFile>, procfs: &Arc<fs::proc::ProcFs>, files: &Files) -> Result<MountNamespace, SentryError> {
    let tmpfs = || -> Arc<dyn vfs::inode::Inode> { fs::tmpfs::Tmpfs::new_root(memory_file, 0o755, 0, 0) };
    let (root, fs_type, source): (Arc<dyn vfs::inode::Inode>, _, _) = match &files.gofer {
        Some(client) => {
            let lower = fs::gofer::GoferInode::attach(client.clone(), 0, true).map_err(|e| SentryError::Files(format!("the root: {e}")))?;
            (fs::overlay::OverlayInode::new_root(lower, tmpfs()), "overlay", "overlay")
        }
        None => (tmpfs(), "tmpfs", "none"),
    };
    let ns = MountNamespace::new(Dentry::new_root(root), fs_type, source, false);
    mount_at(&ns, b"/dev", fs::dev::DevDir::new(memory_file), "devtmpfs", "devtmpfs", false)?;
    // POSIX shared memory (shm_open, sem_open) lives here, as the tmpfs Linux mounts there.
    mount_at(&ns, b"/dev/shm", fs::tmpfs::Tmpfs::new_root(memory_file, 0o1777, 0, 0), "tmpfs", "shm", false)?;
    mount_at(&ns, b"/proc", procfs.root(), "proc", "proc", false)?;
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    mount_at(&ns, b"/sys", fs::sys::SysNode::new_root(cpus), "sysfs", "sysfs", true)?;
    if files.gofer.is_none() {
        let top = ns.root();
        let _ = top.dentry.inode.mkdir(b"tmp", vfs::inode::CreateArgs { mode: 0o1777, uid: 0, gid: 0 }).map(|i| top.dentry.insert(b"tmp", i));
    }
    for (i, (path, read_only)) in files.mounts.iter().enumerate() {
        let client = files.gofer.as_ref().ok_or_else(|| SentryError::Files("mounts need a Gofer".into()))?;
        let shown = || String::from_utf8_lossy(path).into_owned();
        let lower = fs::gofer::GoferInode::attach(client.clone(), i as u32 + 1, *read_only).map_err(|e| SentryError::Files(format!("{}: {e}", shown())))?;
        let (root, fs_type): (Arc<dyn vfs::inode::Inode>, _) = if *read_only { (fs::overlay::OverlayInode::new_root(lower, tmpfs()), "overlay") } else { (lower, "gofer") };
        mount_at(&ns, path, root, fs_type, "bind", false)?;
    }
    Ok(ns)
}

/// Mounts `root` at `path`, creating the directories on the way where they are missing.
fn mount_at(ns: &MountNamespace, path: &[u8], root: Arc<dyn vfs::inode::Inode>, fs_type: &'static str, source: &str, read_only: bool) -> Result<(), SentryError> {
    let resolver = vfs::resolve::Resolver { ns, root: ns.root() };
    let mut at = ns.root();
    for comp in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        let next = match at.dentry.lookup(comp) {
            Ok(d) => d,
            Err(Errno::ENOENT) => {
                let inode = at
                    .dentry
                    .inode
                    .mkdir(comp, vfs::inode::CreateArgs { mode: 0o755, uid: 0, gid: 0 })
                    .map_err(|e| SentryError::Files(format!("creating {}: {e}", String::from_utf8_lossy(path))))?;
                at.dentry.insert(comp, inode)
            }
            Err(e) => return Err(SentryError::Files(format!("{}: {e}", String::from_utf8_lossy(path)))),
        };
        at = resolver.cross_mounts(vfs::mount::VfsPath { mount: at.mount.clone(), dentry: next });
    }
    ns.mount(&at, Dentry::new_root(root), fs_type, source, read_only);
    Ok(())
}

/// The guest's descriptors 0-2: duplicates of the sandbox's own stdio, where open.
fn stdio_fds() -> FdTable {
    let fds = FdTable::default();
    for fd in 0..3 {
        // SAFETY: 0-2 are the process's standard descriptors; borrowing one only to dup it.
        let Ok(owned) = unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned() else { continue };
        // SAFETY: fcntl(F_GETFL) on a descriptor we own.
        let flags = unsafe { libc::fcntl(owned.as_raw_fd(), libc::F_GETFL) }.max(0) as u32;
        // What the host calls it, for /proc/<pid>/fd (read now: later the filter forbids it).
        let name = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok().map(|p| p.into_os_string().into_encoded_bytes());
        let file = FileDescription::new(Box::new(HostFile::new(owned, name)), None, flags);
        let _ = fds.install_at(fd, file, false);
    }
    fds
}

/// The sandbox's own supplementary groups.
fn host_groups() -> Vec<u32> {
    let mut g = vec![0 as libc::gid_t; 256];
    // SAFETY: the buffer holds 256 gids.
    let n = unsafe { libc::getgroups(256, g.as_mut_ptr()) };
    g.truncate(n.max(0) as usize);
    g
}

/// The limits the guest starts with: the sandbox's own, as a child process would inherit.
fn host_rlimits() -> [Rlimit; RLIM_NLIMITS] {
    let mut out = [Rlimit::default(); RLIM_NLIMITS];
    for (r, slot) in out.iter_mut().enumerate() {
        let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: l is a valid out-pointer; r is below RLIM_NLIMITS.
        if unsafe { libc::getrlimit(r as libc::__rlimit_resource_t, &mut l) } == 0 {
            *slot = Rlimit { rlim_cur: l.rlim_cur, rlim_max: l.rlim_max };
        }
    }
    out
}
