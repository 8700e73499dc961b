//! Processes and threads: fork, vfork, clone, clone3, execve, execveat, wait4, waitid, and
//! process groups and sessions.
//!
//! Every task (thread) runs on its own host thread. A new process gets its own stub (address
//! space) and a copy of its parent's memory (the pages that hold data), descriptors (shared
//! descriptions), working directory and signal dispositions. A new thread gets a stub thread in
//! its process's address space and shares the memory manager, dispositions and, as its clone
//! flags say, the descriptor table and filesystem context. execve ends the other threads and
//! replaces the address space with a fresh stub.

use std::sync::Arc;

use platform::Registers;
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::process::{WaitEvent, WaitFor, WaitOptions};
use crate::kernel::cap;
use crate::kernel::task::SignalState;
use crate::kernel::{ExitStatus, Kernel, Task};
use crate::loader::{self, AuxCreds};
use crate::mm::{ForkImage, MemoryManager};
use crate::vfs::inode::FileType;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::FORK, handler: sys_fork, support: Support::Full, note: "" },
    Registration { nr: nr::VFORK, handler: sys_vfork, support: Support::Partial, note: "the child gets a copy of the parent's memory; the parent waits until it execs or exits" },
    Registration { nr: nr::CLONE, handler: sys_clone, support: Support::Partial, note: "processes (fork-like, CLONE_VFORK, CLONE_PIDFD) and threads (CLONE_VM|CLONE_SIGHAND|CLONE_THREAD with the usual flags); a process sharing memory without CLONE_VFORK or CLONE_THREAD, namespace flags, and a process's CLONE_PARENT, CLONE_FS or CLONE_FILES are ENOSYS" },
    Registration { nr: nr::CLONE3, handler: sys_clone3, support: Support::Partial, note: "as clone; no set_tid, no CLONE_INTO_CGROUP" },
    Registration { nr: nr::PIDFD_OPEN, handler: sys_pidfd_open, support: Support::Full, note: "" },
    Registration { nr: nr::EXECVE, handler: sys_execve, support: Support::Full, note: "" },
    Registration { nr: nr::EXECVEAT, handler: sys_execveat, support: Support::Full, note: "" },
    Registration { nr: nr::WAIT4, handler: sys_wait4, support: Support::Partial, note: "rusage: CPU times only" },
    Registration { nr: nr::WAITID, handler: sys_waitid, support: Support::Partial, note: "rusage: CPU times only" },
    Registration { nr: nr::GETPGID, handler: sys_getpgid, support: Support::Full, note: "" },
    Registration { nr: nr::GETPGRP, handler: sys_getpgrp, support: Support::Full, note: "" },
    Registration { nr: nr::SETPGID, handler: sys_setpgid, support: Support::Full, note: "" },
    Registration { nr: nr::GETSID, handler: sys_getsid, support: Support::Full, note: "" },
    Registration { nr: nr::SETSID, handler: sys_setsid, support: Support::Full, note: "" },
];

const CLONE_VM: u64 = 0x100;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x100000;
const CLONE_CHILD_CLEARTID: u64 = 0x200000;
const CLONE_CHILD_SETTID: u64 = 0x1000000;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_PARENT: u64 = 0x8000;
/// CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET: namespaces, which the
/// Sentry does not model (unshare and setns are ENOSYS too).
const CLONE_NEW_NAMESPACES: u64 = 0x2_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000;

/// Everything a forked child starts with.
struct ChildStart {
    pid: i32,
    regs: Registers,
    fpu: Option<platform::FpuState>,
    mem: ForkImage,
    fds: crate::vfs::FdTable,
    fs: crate::kernel::FsContext,
    actions: [syscalls::structs::Sigaction; 64],
    mask: u64,
    exe: Vec<u8>,
    rlimits: [syscalls::structs::Rlimit; crate::kernel::task::RLIM_NLIMITS],
    clear_child_tid: u64,
    altstack: Option<(u64, u64)>,
    no_new_privs: bool,
    dumpable: bool,
    creds: crate::kernel::Credentials,
}

/// Creates a new process from the calling task. With CLONE_PIDFD, a pidfd for the child is
/// stored at `pidfd_out`.
fn new_process(t: &mut Task, flags: u64, stack: u64, parent_tid: u64, child_tid: u64, tls: u64, pidfd_out: u64) -> SysResult {
    // Linux's checks: threads share dispositions, which need a shared address space.
    if (flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0) || (flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0) {
        return Err(Errno::EINVAL);
    }
    // What the Sentry does not model is refused and reported, never ignored: a child in the
    // caller's namespaces, the caller's own child, or a process with its own copy of the
    // memory (outside a vfork), descriptor table or working directory it was to share, is not
    // what was asked for.
    let process_only = if flags & CLONE_THREAD == 0 { CLONE_PARENT | CLONE_FS | CLONE_FILES } else { 0 };
    let unshared_vm = if flags & (CLONE_THREAD | CLONE_VFORK) == 0 { CLONE_VM } else { 0 };
    if flags & (CLONE_NEW_NAMESPACES | process_only | unshared_vm) != 0 {
        t.kernel.audit.unsupported_command("clone flags", flags);
        return Err(Errno::ENOSYS);
    }
    if flags & CLONE_THREAD != 0 {
        if flags & CLONE_PIDFD != 0 {
            return Err(Errno::EINVAL);
        }
        return new_thread(t, flags, stack, parent_tid, child_tid, tls);
    }
    let vfork = flags & CLONE_VFORK != 0;
    if nproc_reached(t) {
        return Err(Errno::EAGAIN);
    }
    let pid = t.kernel.procs.fork(t.tgid, vfork)?;
    let mem = match t.mm.fork_copy() {
        Ok(m) => m,
        Err(e) => {
            t.kernel.procs.abandon(pid);
            return Err(e);
        }
    };
    let mut regs = t.regs;
    regs.set_return(0);
    if stack != 0 {
        regs.0.rsp = stack;
    }
    if flags & CLONE_SETTLS != 0 {
        regs.0.fs_base = tls;
    }
    let stored = (|| {
        if flags & CLONE_PARENT_SETTID != 0 {
            // As Linux: a bad pointer here does not stop the fork.
            let _ = t.mm.copy_out(parent_tid, &pid.to_le_bytes());
        }
        if flags & CLONE_PIDFD != 0 {
            let fd = install_pidfd(t, pid, true)?;
            if let Err(e) = t.mm.copy_out(pidfd_out, &(fd as i32).to_le_bytes()) {
                let _ = t.fds.remove(fd as i32);
                return Err(e);
            }
        }
        Ok(())
    })();
    if let Err(e) = stored {
        // A bad pointer: no child, and nothing of it kept.
        mem.discard(t.mm.memory_file());
        t.kernel.procs.abandon(pid);
        return Err(e);
    }
    let fds = t.fds.fork();
    let fs = t.fs.fork();
    // The child is in /proc from the fork's return on, as on Linux.
    let parent_info = t.kernel.processes.lock().unwrap_or_else(|e| e.into_inner()).get(&t.tgid).cloned();
    let (argv, envp, comm) = parent_info.map_or_else(Default::default, |i| (i.argv.clone(), i.envp.clone(), i.comm.lock().unwrap_or_else(|e| e.into_inner()).clone()));
    let info = crate::fs::proc::ProcessInfo {
        tgid: pid,
        ppid: t.tgid,
        argv,
        envp,
        exe: t.exe.clone(),
        fds: fds.clone(),
        fs: fs.clone(),
        maps: mem.published(),
        comm: std::sync::Mutex::new(comm),
    };
    t.kernel.processes.lock().unwrap_or_else(|e| e.into_inner()).insert(pid, Arc::new(info));
    let start = ChildStart {
        pid,
        regs,
        fpu: t.ctx.fpu_state().ok(),
        mem,
        fds,
        fs,
        actions: *t.signals.lock(),
        mask: t.signals.mask,
        exe: t.exe.clone(),
        rlimits: t.rlimits,
        clear_child_tid: if flags & CLONE_CHILD_CLEARTID != 0 { child_tid } else { 0 },
        altstack: t.altstack,
        no_new_privs: t.no_new_privs,
        dumpable: t.dumpable,
        creds: t.creds.clone(),
    };
    let settid = (flags & CLONE_CHILD_SETTID != 0).then_some(child_tid);
    let kernel = t.kernel.clone();
    let spawned = crate::kernel::workers::spawn(format!("task-{pid}"), move || child_main(kernel, start, settid));
    if spawned.is_err() {
        t.kernel.processes.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
        t.kernel.procs.abandon(pid);
        return Err(Errno::EAGAIN);
    }
    if vfork {
        t.kernel.procs.wait_vfork(pid);
    }
    Ok(pid as u64)
}

/// The body of a forked child's host thread.
fn child_main(kernel: Arc<Kernel>, s: ChildStart, settid: Option<u64>) {
    let pid = s.pid;
    crate::fs::proc::set_current(pid, pid);
    match start_child(&kernel, s, settid) {
        Ok(task) => run_task(task),
        Err(e) => {
            tracing::error!(pid, "could not start a forked process: {e}");
            end_process(&kernel, pid, ExitStatus::Signaled(libc::SIGKILL), 0, (0, 0));
        }
    }
}

/// Process `pid` ended with `status`: it leaves /proc, its timers and CPU limit go, and its
/// parent hears of it.
fn end_process(kernel: &Kernel, pid: i32, status: ExitStatus, uid: u32, usage: (u64, u64)) {
    kernel.processes.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
    crate::kernel::timers::delete_process(pid, false);
    crate::kernel::cpulimit::forget(pid);
    kernel.procs.exited(pid, status, uid, usage);
}

/// Runs a task to its end. The last thread of a process to leave ends the process: its parent
/// hears of it.
fn run_task(mut task: Task) {
    let status = task.run().unwrap_or_else(|e| {
        tracing::error!(tid = task.tid, "task failed: {e}");
        task.exit_group(ExitStatus::Signaled(libc::SIGKILL))
    });
    // CPU time is read while the stub still runs.
    let usage = super::sched::cpu_times(&task);
    match task.leave(status) {
        Some(status) => {
            // The parent hears of the end at once; the stub is killed and reaped after.
            end_process(&task.kernel, task.tgid, status, task.creds.uid, usage);
            drop(task);
        }
        None if task.tid == task.tgid => {
            // The first thread made the stub, which dies with the host thread that made it
            // (PR_SET_PDEATHSIG): that thread stays until the process's last thread is gone.
            let process = task.sigq.process.clone();
            drop(task);
            process.wait_finished();
        }
        None => {}
    }
}

fn start_child(kernel: &Arc<Kernel>, s: ChildStart, settid: Option<u64>) -> Result<Task, String> {
    let (asp, mut ctx) = kernel.platform.new_address_space().map_err(|e| e.to_string())?;
    if let Some(f) = &s.fpu {
        ctx.set_fpu_state(f).map_err(|e| e.to_string())?;
    }
    let mm = Arc::new(MemoryManager::from_fork(kernel.memory_file.clone(), asp, kernel.platform.user_range(), s.mem).map_err(|e| e.to_string())?);
    if let Some(addr) = settid {
        let _ = mm.copy_out(addr, &s.pid.to_le_bytes());
    }
    let task = Task {
        kernel: kernel.clone(),
        tid: s.pid,
        tgid: s.pid,
        ppid: kernel.procs.ppid(s.pid),
        regs: s.regs,
        ctx,
        mm,
        fds: s.fds,
        fs: s.fs,
        signals: SignalState { actions: Arc::new(std::sync::Mutex::new(s.actions)), mask: s.mask },
        clear_child_tid: s.clear_child_tid,
        robust_list: (0, 0),
        exe: s.exe,
        rlimits: s.rlimits,
        exit: None,
        sigq: kernel.procs.queue(s.pid).unwrap_or_default().add_thread(s.pid, s.mask),
        altstack: s.altstack,
        saved_mask: None,
        no_new_privs: s.no_new_privs,
        creds: s.creds,
        dumpable: s.dumpable,
    };
    // A finite RLIMIT_CPU is inherited, on the child's own (fresh) CPU time.
    let cpu = task.rlimits[crate::kernel::task::RLIMIT_CPU];
    if cpu.rlim_cur != u64::MAX || cpu.rlim_max != u64::MAX {
        crate::kernel::cpulimit::set(task.tgid, task.ctx.host_pid(), task.ctx.cpu_base(), &task.sigq.process, cpu);
    }
    Ok(task)
}

/// Creates a thread of the calling task's process (clone with CLONE_THREAD).
/// RLIMIT_NPROC, which root ignores, is reached. Every guest task shares the sandbox's few
/// users, so all of them count.
fn nproc_reached(t: &Task) -> bool {
    let nproc = t.rlimits[crate::kernel::task::RLIMIT_NPROC].rlim_cur;
    !(t.creds.capable(cap::SYS_RESOURCE) || t.creds.capable(cap::SYS_ADMIN)) && t.kernel.procs.count() as u64 >= nproc
}

fn new_thread(t: &mut Task, flags: u64, stack: u64, parent_tid: u64, child_tid: u64, tls: u64) -> SysResult {
    if nproc_reached(t) {
        return Err(Errno::EAGAIN);
    }
    // A process that is ending or execing makes no threads.
    if t.sigq.process.exiting().is_some() {
        return Err(Errno::EAGAIN);
    }
    let tid = t.kernel.procs.new_thread(t.tgid)?;
    let seed = match t.ctx.new_thread() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("clone of a thread: {e}");
            t.kernel.procs.thread_exited(tid);
            return Err(Errno::EAGAIN);
        }
    };
    let mut regs = t.regs;
    regs.set_return(0);
    // The child starts after the syscall, never in a restart of it.
    regs.0.orig_rax = u64::MAX;
    if stack != 0 {
        regs.0.rsp = stack;
    }
    if flags & CLONE_SETTLS != 0 {
        regs.0.fs_base = tls;
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        let _ = t.mm.copy_out(parent_tid, &tid.to_le_bytes());
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        let _ = t.mm.copy_out(child_tid, &tid.to_le_bytes());
    }
    let child = Task {
        kernel: t.kernel.clone(),
        tid,
        tgid: t.tgid,
        ppid: t.ppid,
        regs,
        // Replaced by the context the new host thread binds.
        ctx: Box::new(Unstarted),
        mm: t.mm.clone(),
        fds: if flags & CLONE_FILES != 0 { t.fds.clone() } else { t.fds.fork() },
        fs: if flags & CLONE_FS != 0 { t.fs.clone() } else { t.fs.fork() },
        signals: SignalState { actions: t.signals.actions.clone(), mask: t.signals.mask },
        clear_child_tid: if flags & CLONE_CHILD_CLEARTID != 0 { child_tid } else { 0 },
        robust_list: (0, 0),
        exe: t.exe.clone(),
        rlimits: t.rlimits,
        exit: None,
        sigq: t.sigq.process.add_thread(tid, t.signals.mask),
        // A thread sharing memory starts without the parent's signal stack, as in Linux.
        altstack: None,
        saved_mask: None,
        creds: t.creds.clone(),
        no_new_privs: t.no_new_privs,
        dumpable: t.dumpable,
    };
    let fpu = t.ctx.fpu_state().ok();
    let child = Unbound(child);
    let spawned = crate::kernel::workers::spawn(format!("task-{tid}"), move || thread_main(child, seed, fpu));
    if spawned.is_err() {
        // The closure (and with it the task and the stub thread) is gone.
        t.sigq.process.remove_thread(tid, ExitStatus::Exited(0));
        t.kernel.procs.thread_exited(tid);
        return Err(Errno::EAGAIN);
    }
    Ok(tid as u64)
}

/// A new thread's task on its way to its host thread.
struct Unbound(Task);

// SAFETY: what keeps a Task on its host thread is its platform context, and an unbound task's
// context is `Unstarted`, which holds nothing (the real one is made on the new host thread).
// Every other part of a Task may move between threads.
unsafe impl Send for Unbound {}

/// The body of a new thread's host thread: it binds the stub thread, then runs the task.
fn thread_main(task: Unbound, seed: Box<dyn platform::NewThread>, fpu: Option<platform::FpuState>) {
    let mut task = task.0;
    crate::fs::proc::set_current(task.tgid, task.tid);
    match seed.start() {
        Ok(ctx) => task.ctx = ctx,
        Err(e) => {
            tracing::error!(tid = task.tid, "could not start a thread: {e}");
            let status = task.exit_group(ExitStatus::Signaled(libc::SIGKILL));
            if let Some(status) = task.leave(status) {
                end_process(&task.kernel, task.tgid, status, task.creds.uid, (0, 0));
            }
            return;
        }
    }
    if let Some(f) = &fpu {
        let _ = task.ctx.set_fpu_state(f);
    }
    run_task(task);
}

/// The context of a thread whose host thread has not bound its stub thread yet. Never run.
struct Unstarted;

impl platform::Context for Unstarted {
    fn switch(&mut self, _: &mut Registers) -> Result<platform::Event, platform::PlatformError> {
        Err(platform::PlatformError::Unexpected { pid: 0, what: "a thread ran before its start".into() })
    }
    fn fpu_state(&mut self) -> Result<platform::FpuState, platform::PlatformError> {
        self.switch(&mut Registers::default()).map(|_| platform::FpuState(Vec::new()))
    }
    fn set_fpu_state(&mut self, _: &platform::FpuState) -> Result<(), platform::PlatformError> {
        Ok(())
    }
    fn host_tid(&self) -> i32 {
        0
    }
    fn host_pid(&self) -> i32 {
        0
    }
    fn new_thread(&mut self) -> Result<Box<dyn platform::NewThread>, platform::PlatformError> {
        self.switch(&mut Registers::default()).map(|_| unreachable!())
    }
    fn fresh_address_space(&mut self) -> Result<Box<dyn platform::AddressSpace>, platform::PlatformError> {
        self.switch(&mut Registers::default()).map(|_| unreachable!())
    }
}

fn sys_fork(t: &mut Task, _: [u64; 6]) -> SysResult {
    new_process(t, 0, 0, 0, 0, 0, 0)
}

fn sys_vfork(t: &mut Task, _: [u64; 6]) -> SysResult {
    new_process(t, CLONE_VM | CLONE_VFORK, 0, 0, 0, 0, 0)
}

/// clone(flags, stack, parent_tid, child_tid, tls) on x86-64. CLONE_PIDFD stores the pidfd
/// where parent_tid points, so it cannot go with CLONE_PARENT_SETTID.
fn sys_clone(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] & CLONE_PIDFD != 0 && a[0] & CLONE_PARENT_SETTID != 0 {
        return Err(Errno::EINVAL);
    }
    new_process(t, a[0], a[1], a[2], a[3], a[4], a[2])
}

/// clone3(args, size): struct clone_args, at least its first version (64 bytes).
fn sys_clone3(t: &mut Task, a: [u64; 6]) -> SysResult {
    const VER0: u64 = 64;
    const KNOWN: usize = 88;
    const CSIGNAL: u64 = 0xff;
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    let size = a[1];
    if size < VER0 {
        return Err(Errno::EINVAL);
    }
    if size > platform::PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    let mut raw = vec![0u8; size as usize];
    t.mm.copy_in(a[0], &mut raw)?;
    // Fields past the ones known must be zero.
    if raw.get(KNOWN..).is_some_and(|rest| rest.iter().any(|&b| b != 0)) {
        return Err(Errno::E2BIG);
    }
    raw.resize(KNOWN.max(raw.len()), 0);
    let f = |i: usize| u64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap_or_default());
    let [flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup] = std::array::from_fn(f);
    if flags & CSIGNAL != 0 || exit_signal > 64 || (stack == 0) != (stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    if set_tid != 0 || set_tid_size != 0 || flags & CLONE_INTO_CGROUP != 0 || cgroup != 0 {
        t.kernel.audit.unsupported_command("clone3 set_tid/cgroup", flags);
        return Err(Errno::EINVAL);
    }
    let sp = stack.checked_add(stack_size).ok_or(Errno::EINVAL)?;
    new_process(t, flags | exit_signal, sp, parent_tid, child_tid, tls, pidfd)
}

/// Installs a pidfd for `pid` (close-on-exec, as Linux makes them).
fn install_pidfd(t: &mut Task, pid: i32, cloexec: bool) -> Result<u64, Errno> {
    let ops = crate::fs::pidfd::PidFd::new(pid, t.kernel.procs.clone());
    let file = crate::vfs::FileDescription::new(Box::new(ops), None, libc::O_RDWR as u32);
    t.install_fd(file, cloexec)
}

/// pidfd_open(pid, flags): PIDFD_NONBLOCK (O_NONBLOCK) is the only flag.
fn sys_pidfd_open(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, flags) = (a[0] as i32, a[1] as u32);
    if flags & !(libc::O_NONBLOCK as u32) != 0 || pid <= 0 {
        return Err(Errno::EINVAL);
    }
    if !t.kernel.procs.exists(pid) {
        return Err(Errno::ESRCH);
    }
    install_pidfd(t, pid, true)
}

/// The most bytes of argv and envp together (a quarter of the 8 MiB stack, as Linux).
const ARG_MAX: usize = 2 << 20;

/// Reads a NULL-terminated array of string pointers.
fn strings(t: &Task, addr: u64, total: &mut usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    for i in 0.. {
        let mut p = [0u8; 8];
        t.mm.copy_in(addr + 8 * i, &mut p)?;
        let p = u64::from_le_bytes(p);
        if p == 0 {
            return Ok(out);
        }
        let s = t.mm.copy_in_cstr(p, 128 * 1024).map_err(|e| if e == Errno::ENAMETOOLONG { Errno::E2BIG } else { e })?;
        *total += s.len() + 1 + 8;
        if *total > ARG_MAX {
            return Err(Errno::E2BIG);
        }
        out.push(s);
    }
    Ok(out)
}

/// Reads and checks the program interpreter an image names (through the VFS, from `t`'s root).
pub(crate) fn load_interp(kernel: &Kernel, root: &crate::vfs::mount::VfsPath, img: &loader::ElfImage) -> Result<Option<(loader::ElfImage, Vec<u8>)>, Errno> {
    let Some(path) = &img.interp else { return Ok(None) };
    let r = crate::vfs::resolve::Resolver { ns: &kernel.mounts, root: root.clone() };
    let p = r.resolve(root, path, true)?;
    if p.dentry.inode.kind() != FileType::Regular {
        return Err(Errno::EACCES);
    }
    let version = crate::mm::page_cache::FileId::of(&p.dentry.inode.stat()?);
    let bytes = read_file(&p)?;
    let mut i = loader::parse(&bytes).map_err(|_| Errno::ELIBBAD)?;
    i.file = Some(version);
    if i.interp.is_some() || i.kind != loader::ElfKind::Dyn {
        return Err(Errno::ELIBBAD);
    }
    Ok(Some((i, bytes)))
}

/// Reads a whole regular file through the VFS.
pub(crate) fn read_file(p: &crate::vfs::mount::VfsPath) -> Result<Vec<u8>, Errno> {
    let size = p.dentry.inode.stat()?.st_size.max(0) as usize;
    if size > 1 << 30 {
        return Err(Errno::ENOMEM);
    }
    let ops = p.dentry.inode.clone().open(libc::O_RDONLY as u32)?;
    let mut buf = vec![0u8; size];
    let mut done = 0;
    while done < size {
        let iov = [libc::iovec { iov_base: buf[done..].as_mut_ptr().cast(), iov_len: size - done }];
        let n = ops.read(&iov, done as u64)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    buf.truncate(done);
    Ok(buf)
}

/// execve of `path` (already read from the guest) relative to `dirfd`.
fn exec(t: &mut Task, dirfd: i32, path: Vec<u8>, mut argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>, empty_path: bool) -> SysResult {
    let mut target = if empty_path && path.is_empty() {
        t.fds.get(dirfd)?.path.clone().ok_or(Errno::ENOENT)?
    } else {
        t.lookup_at(dirfd, &path, true)?
    };
    let mut execfn = path;
    // #! scripts, nested at most a few times.
    let mut file;
    let mut version;
    let mut depth = 0;
    loop {
        if target.dentry.inode.kind() != FileType::Regular {
            return Err(Errno::EACCES);
        }
        let st = target.dentry.inode.stat()?;
        if st.st_mode & 0o111 == 0 || !super::stat::permitted(t, &st, 1) {
            return Err(Errno::EACCES);
        }
        version = crate::mm::page_cache::FileId::of(&st);
        file = read_file(&target)?;
        if !file.starts_with(b"#!") {
            break;
        }
        depth += 1;
        if depth > 4 {
            return Err(Errno::ELOOP);
        }
        let line = file[2..].split(|&b| b == b'\n').next().unwrap_or_default();
        let line = &line[..line.len().min(255)];
        let line: Vec<u8> = line.iter().copied().skip_while(|b| *b == b' ' || *b == b'\t').collect();
        let mut parts = line.splitn(2, |b| *b == b' ' || *b == b'\t');
        let interp = parts.next().unwrap_or_default().to_vec();
        if interp.is_empty() {
            return Err(Errno::ENOEXEC);
        }
        let arg: Vec<u8> = parts.next().map(|a| a.iter().copied().filter(|b| *b != b'\r').collect::<Vec<u8>>()).unwrap_or_default();
        let arg = String::from_utf8_lossy(&arg).trim().as_bytes().to_vec();
        let mut new_argv = vec![interp.clone()];
        if !arg.is_empty() {
            new_argv.push(arg);
        }
        new_argv.push(execfn.clone());
        new_argv.extend(argv.into_iter().skip(1));
        argv = new_argv;
        target = t.lookup_at(crate::kernel::fs_context::AT_FDCWD, &interp, true)?;
        execfn = interp;
    }
    let mut img = loader::parse(&file).map_err(|_| Errno::ENOEXEC)?;
    img.file = Some(version);
    let interp = load_interp(&t.kernel, &t.fs.root(), &img)?;
    // Linux's de_thread: the other threads end, and the caller takes the process's first
    // thread id.
    if t.sigq.process.thread_count() > 1 && !t.sigq.process.exec_alone(t.tid) {
        return Err(Errno::EINTR);
    }
    if t.tid != t.tgid {
        t.kernel.procs.thread_exited(t.tid);
        t.sigq.set_tid(t.tgid);
        t.tid = t.tgid;
        crate::fs::proc::set_current(t.tgid, t.tid);
    }
    // The point of no return: a fresh address space replaces the old one, in the same stub.
    let asp = t.ctx.fresh_address_space().map_err(|e| {
        tracing::error!("execve: emptying the address space: {e}");
        Errno::ENOMEM
    })?;
    let mut mm = MemoryManager::new(t.kernel.memory_file.clone(), asp, t.kernel.platform.user_range());
    // Without set-user-ID programs, exec keeps the ids; the saved ids become the effective.
    let c = &mut t.creds;
    (c.suid, c.fsuid, c.sgid, c.fsgid) = (c.euid, c.euid, c.egid, c.egid);
    c.caps_after_exec();
    let creds = AuxCreds { uid: c.uid, euid: c.euid, gid: c.gid, egid: c.egid };
    let exe = t.resolver().path_of(&target);
    let stack_limit = t.rlimits[crate::kernel::task::RLIMIT_STACK].rlim_cur;
    let loaded = loader::load(&mut mm, &img, &file, interp.as_ref().map(|(i, b)| (i, &b[..])), &argv, &envp, &execfn, creds, stack_limit)?;
    super::futex::exit_robust_list(t);
    t.robust_list = (0, 0);
    t.mm = Arc::new(mm);
    t.regs = Registers::new_user(loaded.entry, loaded.sp);
    t.exe = exe.clone();
    // Close-on-exec descriptors go; caught signals return to their default action.
    for fd in t.fds.open_in(0, u32::MAX) {
        if t.fds.cloexec(fd).unwrap_or(false) {
            let _ = t.fds.remove(fd);
        }
    }
    for a in t.signals.lock().iter_mut() {
        if a.sa_handler > 1 {
            *a = syscalls::structs::Sigaction::default();
        }
    }
    t.publish_signal_state();
    // POSIX timers go; the alarm (ITIMER_REAL) stays, as on Linux.
    crate::kernel::timers::delete_process(t.tgid, true);
    t.altstack = None;
    t.dumpable = true;
    let info = crate::fs::proc::ProcessInfo {
        tgid: t.tgid,
        ppid: t.kernel.procs.ppid(t.tgid),
        argv,
        envp,
        comm: crate::fs::proc::comm_of(&exe),
        exe,
        fds: t.fds.clone(),
        fs: t.fs.clone(),
        maps: t.mm.published(),
    };
    t.kernel.processes.lock().unwrap_or_else(|e| e.into_inner()).insert(t.tgid, Arc::new(info));
    t.kernel.procs.release_vfork(t.tgid);
    Ok(0)
}

fn sys_execve(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let mut total = 0;
    let argv = strings(t, a[1], &mut total)?;
    let envp = strings(t, a[2], &mut total)?;
    exec(t, crate::kernel::fs_context::AT_FDCWD, path, argv, envp, false)
}

fn sys_execveat(t: &mut Task, a: [u64; 6]) -> SysResult {
    const AT_EMPTY_PATH: u64 = 0x1000;
    const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
    if a[4] & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = t.mm.copy_in_cstr(a[1], super::PATH_MAX)?;
    if path.is_empty() && a[4] & AT_EMPTY_PATH == 0 {
        return Err(Errno::ENOENT);
    }
    let mut total = 0;
    let argv = strings(t, a[2], &mut total)?;
    let envp = strings(t, a[3], &mut total)?;
    exec(t, a[0] as i32, path, argv, envp, a[4] & AT_EMPTY_PATH != 0)
}

const WNOHANG: u64 = 1;
const WUNTRACED: u64 = 2;
const WEXITED: u64 = 4;
const WCONTINUED: u64 = 8;
const WNOWAIT: u64 = 0x0100_0000;
const WNOTHREAD: u64 = 0x2000_0000;
const WALL: u64 = 0x4000_0000;
const WCLONE: u64 = 0x8000_0000;

fn sys_wait4(t: &mut Task, a: [u64; 6]) -> SysResult {
    let opts = a[2];
    if opts & !(WNOHANG | WUNTRACED | WCONTINUED | WALL | WCLONE | WNOTHREAD) != 0 {
        return Err(Errno::EINVAL);
    }
    let which = match a[0] as i32 {
        -1 => WaitFor::Any,
        p if p > 0 => WaitFor::Pid(p),
        0 => WaitFor::Group(0),
        i32::MIN => return Err(Errno::ESRCH),
        p => WaitFor::Group(-p),
    };
    let o = WaitOptions { nohang: opts & WNOHANG != 0, exited: true, stopped: opts & WUNTRACED != 0, continued: opts & WCONTINUED != 0, reap: true };
    let Some((child, event, usage)) = t.kernel.procs.wait(t.tgid, which, o)? else { return Ok(0) };
    if a[1] != 0 {
        let w: i32 = match event {
            WaitEvent::Exited(ExitStatus::Exited(code)) => i32::from(code) << 8,
            WaitEvent::Exited(ExitStatus::Signaled(sig)) => sig & 0x7f,
            WaitEvent::Stopped(sig) => (sig << 8) | 0x7f,
            WaitEvent::Continued => 0xffff,
        };
        t.mm.copy_out(a[1], &w.to_le_bytes())?;
    }
    if a[3] != 0 {
        t.mm.copy_out(a[3], &super::sched::rusage(usage))?;
    }
    Ok(child as u64)
}

/// waitid(idtype, id, infop, options, rusage).
fn sys_waitid(t: &mut Task, a: [u64; 6]) -> SysResult {
    const P_ALL: u64 = 0;
    const P_PID: u64 = 1;
    const P_PGID: u64 = 2;
    const P_PIDFD: u64 = 3;
    let [idtype, id, infop, opts, rusage, _] = a;
    let id = id as i32;
    if opts & !(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | WALL | WCLONE | WNOTHREAD) != 0 || opts & (WEXITED | WUNTRACED | WCONTINUED) == 0 {
        return Err(Errno::EINVAL);
    }
    let which = match idtype {
        P_ALL => WaitFor::Any,
        P_PID if id > 0 => WaitFor::Pid(id),
        P_PGID if id >= 0 => WaitFor::Group(id),
        P_PIDFD => {
            let f = t.fds.get(id)?;
            WaitFor::Pid(crate::fs::pidfd::PidFd::of(&*f.ops).ok_or(Errno::EINVAL)?.pid)
        }
        _ => return Err(Errno::EINVAL),
    };
    let o = WaitOptions { nohang: opts & WNOHANG != 0, exited: opts & WEXITED != 0, stopped: opts & WUNTRACED != 0, continued: opts & WCONTINUED != 0, reap: opts & WNOWAIT == 0 };
    let found = t.kernel.procs.wait(t.tgid, which, o)?;
    if infop != 0 {
        use crate::kernel::signal::{SigInfo, CLD_CONTINUED, CLD_EXITED, CLD_KILLED, CLD_STOPPED};
        let info = match found {
            // WNOHANG with nothing to report: si_signo and si_pid read as 0.
            None => SigInfo([0; 128]),
            Some((pid, event, _)) => {
                let (code, status) = match event {
                    WaitEvent::Exited(ExitStatus::Exited(c)) => (CLD_EXITED, i32::from(c)),
                    WaitEvent::Exited(ExitStatus::Signaled(s)) => (CLD_KILLED, s),
                    WaitEvent::Stopped(s) => (CLD_STOPPED, s),
                    WaitEvent::Continued => (CLD_CONTINUED, libc::SIGCONT),
                };
                SigInfo::child(pid, t.creds.uid, code, status)
            }
        };
        t.mm.copy_out(infop, &info.0)?;
    }
    if rusage != 0 {
        t.mm.copy_out(rusage, &super::sched::rusage(found.map_or((0, 0), |(_, _, u)| u)))?;
    }
    Ok(0)
}

fn sys_getpgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = if a[0] as i32 == 0 { t.tgid } else { a[0] as i32 };
    t.kernel.procs.pgid(pid).map(|p| p as u64)
}

fn sys_getpgrp(t: &mut Task, _: [u64; 6]) -> SysResult {
    t.kernel.procs.pgid(t.tgid).map(|p| p as u64)
}

fn sys_setpgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.kernel.procs.set_pgid(t.tgid, a[0] as i32, a[1] as i32).map(|()| 0)
}

fn sys_getsid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = if a[0] as i32 == 0 { t.tgid } else { a[0] as i32 };
    t.kernel.procs.sid(pid).map(|p| p as u64)
}

fn sys_setsid(t: &mut Task, _: [u64; 6]) -> SysResult {
    t.kernel.procs.set_sid(t.tgid).map(|p| p as u64)
}
