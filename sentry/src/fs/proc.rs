//! /proc: the sandbox's processes and a synthetic view of the system, generated from the
//! Sentry's own state when a file is opened. Nothing here reads the host after start-up; the
//! few host facts shown (CPU model, memory size) are a snapshot taken when the sandbox starts.

mod maps;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use syscalls::structs::Stat;
use syscalls::Errno;

use super::copy_to_iov;
use crate::kernel::{uts, FsContext, Kernel};
use crate::vfs::inode::{DirEntry, FileType, Inode};
use crate::vfs::resolve::Resolver;
use crate::vfs::{FdTable, FileDescription, FileOps};

/// Device number of procfs.
const PROC_DEV: u64 = 0x16;

/// What /proc knows of a process (a thread group).
pub struct ProcessInfo {
    /// Thread group id.
    pub tgid: i32,
    /// Parent's id.
    pub ppid: i32,
    /// argv as given.
    pub argv: Vec<Vec<u8>>,
    /// The environment it started with.
    pub envp: Vec<Vec<u8>>,
    /// The executable's path.
    pub exe: Vec<u8>,
    /// Its descriptors (shared with the task).
    pub fds: FdTable,
    /// Its root and cwd (shared with the task).
    pub fs: FsContext,
    /// Its mappings (kept current by the memory manager).
    pub maps: Arc<Mutex<Vec<crate::mm::Vma>>>,
    /// Its name (/proc/<pid>/comm, PR_SET_NAME): at most 15 bytes.
    pub comm: Mutex<Vec<u8>>,
}

/// The name a process gets from its executable: the last path component, cut to 15 bytes.
pub fn comm_of(exe: &[u8]) -> Mutex<Vec<u8>> {
    let base = exe.rsplit(|&b| b == b'/').next().unwrap_or(exe);
    Mutex::new(base[..base.len().min(15)].to_vec())
}

thread_local! {
    /// The thread group and thread id of the task this host thread runs (each task has its
    /// own thread).
    static CURRENT: std::cell::Cell<(i32, i32)> = const { std::cell::Cell::new((0, 0)) };
}

/// Marks the calling host thread as running task `tid` of thread group `tgid`.
pub fn set_current(tgid: i32, tid: i32) {
    CURRENT.with(|c| c.set((tgid, tid)));
}

fn current() -> (i32, i32) {
    CURRENT.with(std::cell::Cell::get)
}

/// Host facts captured at start-up.
pub struct HostSnapshot {
    /// /proc/cpuinfo.
    pub cpuinfo: Vec<u8>,
    /// Total memory in kB.
    pub mem_total_kb: u64,
}

impl HostSnapshot {
    /// Reads what /proc shows of the host (before the Sentry confines itself).
    pub fn take() -> HostSnapshot {
        let cpuinfo = std::fs::read("/proc/cpuinfo").unwrap_or_default();
        // SAFETY: sysinfo fills a plain struct.
        let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
        // SAFETY: si is a valid out-pointer.
        let total = if unsafe { libc::sysinfo(&mut si) } == 0 { si.totalram * u64::from(si.mem_unit) / 1024 } else { 0 };
        HostSnapshot { cpuinfo, mem_total_kb: total }
    }
}

/// The filesystem.
pub struct ProcFs {
    kernel: OnceLock<Weak<Kernel>>,
    host: HostSnapshot,
    started: Instant,
}

impl ProcFs {
    /// A /proc not yet attached to its kernel.
    pub fn new(host: HostSnapshot) -> Arc<ProcFs> {
        Arc::new(ProcFs { kernel: OnceLock::new(), host, started: Instant::now() })
    }

    /// Connects /proc to the kernel it describes.
    pub fn attach(&self, k: &Arc<Kernel>) {
        let _ = self.kernel.set(Arc::downgrade(k));
    }

    /// The root directory inode.
    pub fn root(self: &Arc<Self>) -> Arc<ProcInode> {
        Arc::new(ProcInode { fs: self.clone(), node: Node::Root })
    }

    fn kernel(&self) -> Option<Arc<Kernel>> {
        self.kernel.get().and_then(Weak::upgrade)
    }

    fn process(&self, pid: i32) -> Option<Arc<ProcessInfo>> {
        self.kernel()?.processes.lock().unwrap_or_else(|e| e.into_inner()).get(&pid).cloned()
    }
}

/// The sandbox's table of processes, for /proc.
pub type Processes = Mutex<BTreeMap<i32, Arc<ProcessInfo>>>;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Root,
    /// A fixed file under /proc (cpuinfo...) or /proc/sys.
    File(&'static str),
    /// /proc/sys, /proc/sys/kernel, /proc/sys/vm.
    Dir(&'static str),
    /// self, thread-self, mounts: symlinks resolved per caller.
    Link(&'static str),
    Pid(i32),
    PidFile(i32, &'static str),
    PidLink(i32, &'static str),
    FdDir(i32),
    FdInfoDir(i32),
    /// /proc/<pid>/task, /proc/<pid>/task/<tid> and the files in it.
    TaskDir(i32),
    Task(i32, i32),
    TaskFile(i32, i32, &'static str),
    Fd(i32, i32),
    FdInfo(i32, i32),
}

const ROOT_FILES: &[&str] = &["cpuinfo", "filesystems", "loadavg", "meminfo", "uptime", "version"];
const PID_FILES: &[&str] = &["cmdline", "comm", "environ", "maps", "mountinfo", "mounts", "smaps", "smaps_rollup", "stat", "status"];
const PID_LINKS: &[&str] = &["cwd", "exe", "root"];
/// The files of /proc/<pid>/task/<tid>: the thread's own view where it has one (stat, status).
const TASK_FILES: &[&str] = &["cmdline", "comm", "environ", "maps", "stat", "status"];
const SYS_TREE: &[(&str, &[&str], &[&str])] = &[
    ("sys", &["kernel", "vm"], &[]),
    ("sys/kernel", &[], &["hostname", "osrelease", "ostype"]),
    ("sys/vm", &[], &["overcommit_memory"]),
];

/// A /proc file, directory or link.
pub struct ProcInode {
    fs: Arc<ProcFs>,
    node: Node,
}

impl ProcInode {
    fn child(&self, node: Node) -> Arc<dyn Inode> {
        Arc::new(ProcInode { fs: self.fs.clone(), node })
    }

    fn ino(&self) -> u64 {
        // Stable numbers from the node's shape.
        let h = |s: &str| s.bytes().fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
        match &self.node {
            Node::Root => 1,
            Node::File(n) | Node::Dir(n) | Node::Link(n) => 0x1000 + (h(n) & 0xffff),
            Node::Pid(p) => (*p as u64) << 16,
            Node::PidFile(p, n) | Node::PidLink(p, n) => ((*p as u64) << 16) | (h(n) & 0xff) | 0x100,
            Node::FdDir(p) => ((*p as u64) << 16) | 2,
            Node::FdInfoDir(p) => ((*p as u64) << 16) | 3,
            Node::Fd(p, fd) => ((*p as u64) << 32) | (*fd as u64) | 0x8000_0000,
            Node::FdInfo(p, fd) => ((*p as u64) << 32) | (*fd as u64) | 0x4000_0000,
            Node::TaskDir(p) => ((*p as u64) << 16) | 4,
            Node::Task(_, t) => ((*t as u64) << 16) | 5,
            Node::TaskFile(_, t, n) => ((*t as u64) << 16) | (h(n) & 0xff) | 0x200,
        }
    }

    fn process(&self, pid: i32) -> Result<Arc<ProcessInfo>, Errno> {
        self.fs.process(pid).ok_or(Errno::ENOENT)
    }

    /// The contents of a regular file, generated now.
    fn contents(&self) -> Result<Vec<u8>, Errno> {
        let k = self.fs.kernel().ok_or(Errno::ENOENT)?;
        Ok(match &self.node {
            Node::File("cpuinfo") => self.fs.host.cpuinfo.clone(),
            Node::File("meminfo") => {
                let total = self.fs.host.mem_total_kb;
                format!("MemTotal:       {total:>8} kB\nMemFree:        {total:>8} kB\nMemAvailable:   {total:>8} kB\nBuffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n").into_bytes()
            }
            Node::File("uptime") => format!("{:.2} 0.00\n", self.fs.started.elapsed().as_secs_f64()).into_bytes(),
            Node::File("loadavg") => {
                let n = k.processes.lock().unwrap_or_else(|e| e.into_inner()).len();
                format!("0.00 0.00 0.00 1/{n} {n}\n").into_bytes()
            }
            Node::File("filesystems") => b"nodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tproc\nnodev\toverlay\n".to_vec(),
            Node::File("version") => format!("{} version {} (sandbox) {}\n", uts::SYSNAME, uts::RELEASE, uts::VERSION).into_bytes(),
            Node::File("hostname") => format!("{}\n", uts::NODENAME).into_bytes(),
            Node::File("osrelease") => format!("{}\n", uts::RELEASE).into_bytes(),
            Node::File("ostype") => format!("{}\n", uts::SYSNAME).into_bytes(),
            Node::File("overcommit_memory") => b"0\n".to_vec(),
            Node::PidFile(pid, name) => {
                let p = self.process(*pid)?;
                pid_file(&k, &p, *pid, name)
            }
            Node::TaskFile(pid, tid, name) => {
                let p = self.process(*pid)?;
                if !threads(&k, *pid).contains(tid) {
                    return Err(Errno::ENOENT);
                }
                pid_file(&k, &p, *tid, name)
            }
            Node::FdInfo(pid, fd) => {
                let p = self.process(*pid)?;
                let f = p.fds.get(*fd).map_err(|_| Errno::ENOENT)?;
                let pos = *f.offset.lock().unwrap_or_else(|e| e.into_inner());
                let mnt = f.path.as_ref().map_or(0, |p| p.mount.id);
                let ino = f.ops.stat().map_or(0, |s| s.st_ino);
                let flags = f.flags() | if p.fds.cloexec(*fd).unwrap_or(false) { libc::O_CLOEXEC as u32 } else { 0 };
                format!("pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{mnt}\nino:\t{ino}\n").into_bytes()
            }
            _ => return Err(Errno::EINVAL),
        })
    }

    /// The target of a link, as the caller sees it.
    fn target(&self) -> Result<Vec<u8>, Errno> {
        let k = self.fs.kernel().ok_or(Errno::ENOENT)?;
        Ok(match &self.node {
            Node::Link("self") => current().0.to_string().into_bytes(),
            Node::Link("thread-self") => {
                let (tgid, tid) = current();
                format!("{tgid}/task/{tid}").into_bytes()
            }
            Node::Link("mounts") => b"self/mounts".to_vec(),
            Node::PidLink(pid, "exe") => self.process(*pid)?.exe.clone(),
            Node::PidLink(pid, "cwd") => {
                let p = self.process(*pid)?;
                Resolver { ns: &k.mounts, root: p.fs.root() }.path_of(&p.fs.cwd())
            }
            Node::PidLink(_, "root") => b"/".to_vec(),
            Node::Fd(pid, fd) => {
                let p = self.process(*pid)?;
                let f = p.fds.get(*fd).map_err(|_| Errno::ENOENT)?;
                describe_file(&k, &p, &f)
            }
            _ => return Err(Errno::EINVAL),
        })
    }
}

/// What /proc/<pid>/fd/N shows for a file.
fn describe_file(k: &Kernel, p: &ProcessInfo, f: &FileDescription) -> Vec<u8> {
    if let Some(path) = &f.path {
        return Resolver { ns: &k.mounts, root: p.fs.root() }.path_of(path);
    }
    if let Some(name) = f.ops.display_name() {
        return name;
    }
    let ino = f.ops.stat().map_or(0, |s| s.st_ino);
    match f.ops.stat().map(|s| s.st_mode & libc::S_IFMT) {
        Ok(libc::S_IFIFO) => format!("pipe:[{ino}]").into_bytes(),
        _ => b"anon_inode:[unknown]".to_vec(),
    }
}

/// The live thread ids of process `pid` (the process's own id while it has no queue yet).
fn threads(k: &Kernel, pid: i32) -> Vec<i32> {
    k.procs.queue(pid).map(|q| q.thread_ids()).filter(|t| !t.is_empty()).unwrap_or_else(|| vec![pid])
}

/// File `name` of process `p` as thread `tid` of it sees it (tid = p.tgid: the process's).
fn pid_file(k: &Kernel, p: &ProcessInfo, tid: i32, name: &str) -> Vec<u8> {
    let comm = String::from_utf8_lossy(&p.comm.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
    match name {
        "cmdline" => p.argv.iter().flat_map(|a| a.iter().copied().chain([0])).collect(),
        "environ" => p.envp.iter().flat_map(|a| a.iter().copied().chain([0])).collect(),
        "comm" => format!("{comm}\n").into_bytes(),
        "maps" => maps::maps(k, p),
        "smaps" => maps::smaps(k, p),
        "smaps_rollup" => maps::smaps_rollup(k, p),
        "stat" => format!(
            "{tid} ({comm}) R {ppid} {pid} {pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 {threads} 0 0 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
            pid = p.tgid,
            ppid = p.ppid,
            threads = threads(k, p.tgid).len()
        )
        .into_bytes(),
        "status" => {
            let (uid, gid) = (k.creds.uid, k.creds.gid);
            let fds = p.fds.snapshot().len();
            let threads = threads(k, p.tgid).len();
            let (vm_size, vm_rss) = maps::totals(k, p);
            format!(
                "Name:\t{comm}\nUmask:\t{umask:04o}\nState:\tR (running)\nTgid:\t{pid}\nNgid:\t0\nPid:\t{tid}\nPPid:\t{ppid}\nTracerPid:\t0\n\
                 Uid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{gid}\t{gid}\t{gid}\t{gid}\nFDSize:\t{fdsize}\nGroups:\t\n\
                 VmSize:\t{vm_size:>8} kB\nVmRSS:\t{vm_rss:>8} kB\nThreads:\t{threads}\n\
                 SigQ:\t0/0\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n",
                pid = p.tgid,
                ppid = p.ppid,
                umask = p.fs.umask(),
                fdsize = fds.next_power_of_two().max(64)
            )
            .into_bytes()
        }
        "mounts" | "mountinfo" => {
            let r = Resolver { ns: &k.mounts, root: p.fs.root() };
            let mut out = String::new();
            for m in k.mounts.all() {
                let at = crate::vfs::mount::VfsPath { mount: m.clone(), dentry: m.root.clone() };
                let path = String::from_utf8_lossy(&r.path_of(&at)).into_owned();
                let opts = if m.read_only() { "ro" } else { "rw" };
                if name == "mounts" {
                    out += &format!("{} {} {} {opts},relatime 0 0\n", m.source, path, m.fs_type);
                } else {
                    let parent = m.parent.as_ref().map_or(m.id, |(pm, _)| pm.id);
                    out += &format!("{} {} 0:{} / {} {opts},relatime - {} {} {opts}\n", m.id, parent, m.id, path, m.fs_type, m.source);
                }
            }
            out.into_bytes()
        }
        _ => Vec::new(),
    }
}

impl Inode for ProcInode {
    fn kind(&self) -> FileType {
        match &self.node {
            Node::Root | Node::Dir(_) | Node::Pid(_) | Node::FdDir(_) | Node::FdInfoDir(_) | Node::TaskDir(_) | Node::Task(..) => FileType::Directory,
            Node::Link(_) | Node::PidLink(..) | Node::Fd(..) => FileType::Symlink,
            Node::File(_) | Node::PidFile(..) | Node::FdInfo(..) | Node::TaskFile(..) => FileType::Regular,
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let (mode, nlink) = match self.kind() {
            FileType::Directory => (libc::S_IFDIR | 0o555, 2),
            FileType::Symlink => (libc::S_IFLNK | 0o777, 1),
            _ => (libc::S_IFREG | 0o444, 1),
        };
        let (uid, gid) = self.fs.kernel().map_or((0, 0), |k| (k.creds.uid, k.creds.gid));
        Ok(Stat { st_dev: PROC_DEV, st_ino: self.ino(), st_nlink: nlink, st_mode: mode, st_uid: uid, st_gid: gid, st_blksize: 1024, ..Stat::default() })
    }

    fn open(self: Arc<Self>, _flags: u32) -> Result<Box<dyn FileOps>, Errno> {
        // Permission bits (0444) stop everyone but root; writes then fail as on Linux.
        let data = if self.kind() == FileType::Regular { self.contents()? } else { Vec::new() };
        Ok(Box::new(ProcFile { data, ino: self.ino(), dir: self.kind() == FileType::Directory }))
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        self.target()
    }

    fn revalidate(&self) -> bool {
        let Some(k) = self.fs.kernel() else { return false };
        match &self.node {
            Node::Pid(p) | Node::PidFile(p, _) | Node::PidLink(p, _) | Node::FdDir(p) | Node::FdInfoDir(p) | Node::TaskDir(p) => self.fs.process(*p).is_some(),
            Node::Task(p, t) | Node::TaskFile(p, t, _) => self.fs.process(*p).is_some() && threads(&k, *p).contains(t),
            Node::Fd(p, fd) | Node::FdInfo(p, fd) => self.fs.process(*p).is_some_and(|p| p.fds.get(*fd).is_ok()),
            Node::Root | Node::File(_) | Node::Dir(_) | Node::Link(_) => true,
        }
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let name = std::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
        let num = name.parse::<i32>().ok().filter(|n| *n >= 0 && n.to_string() == name);
        let node = match &self.node {
            Node::Root => match name {
                "self" => Node::Link("self"),
                "thread-self" => Node::Link("thread-self"),
                "mounts" => Node::Link("mounts"),
                "sys" => Node::Dir("sys"),
                _ => match (ROOT_FILES.iter().find(|f| **f == name), num) {
                    (Some(f), _) => Node::File(f),
                    (None, Some(pid)) if self.fs.process(pid).is_some() => Node::Pid(pid),
                    _ => return Err(Errno::ENOENT),
                },
            },
            Node::Dir(dir) => {
                let (_, dirs, files) = SYS_TREE.iter().find(|(d, ..)| d == dir).ok_or(Errno::ENOENT)?;
                if let Some(d) = dirs.iter().find(|d| **d == name) {
                    let full: &'static str = SYS_TREE.iter().map(|(p, ..)| *p).find(|p| p.ends_with(d) && p.starts_with(dir)).ok_or(Errno::ENOENT)?;
                    Node::Dir(full)
                } else if let Some(f) = files.iter().find(|f| **f == name) {
                    Node::File(f)
                } else {
                    return Err(Errno::ENOENT);
                }
            }
            Node::Pid(pid) => match name {
                "fd" => Node::FdDir(*pid),
                "fdinfo" => Node::FdInfoDir(*pid),
                "task" => Node::TaskDir(*pid),
                _ => match (PID_FILES.iter().find(|f| **f == name), PID_LINKS.iter().find(|f| **f == name)) {
                    (Some(f), _) => Node::PidFile(*pid, f),
                    (_, Some(l)) => Node::PidLink(*pid, l),
                    _ => return Err(Errno::ENOENT),
                },
            },
            Node::FdDir(pid) | Node::FdInfoDir(pid) => {
                let fd = num.ok_or(Errno::ENOENT)?;
                self.process(*pid)?.fds.get(fd).map_err(|_| Errno::ENOENT)?;
                if matches!(self.node, Node::FdDir(_)) { Node::Fd(*pid, fd) } else { Node::FdInfo(*pid, fd) }
            }
            Node::TaskDir(pid) => {
                let k = self.fs.kernel().ok_or(Errno::ENOENT)?;
                let tid = num.filter(|t| threads(&k, *pid).contains(t)).ok_or(Errno::ENOENT)?;
                Node::Task(*pid, tid)
            }
            Node::Task(pid, tid) => Node::TaskFile(*pid, *tid, TASK_FILES.iter().find(|f| **f == name).ok_or(Errno::ENOENT)?),
            _ => return Err(Errno::ENOTDIR),
        };
        Ok(self.child(node))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let entry = |node: Node, name: String| {
            let i = ProcInode { fs: self.fs.clone(), node };
            DirEntry { ino: i.ino(), kind: i.kind(), name: name.into_bytes() }
        };
        Ok(match &self.node {
            Node::Root => {
                let mut v: Vec<DirEntry> = ROOT_FILES.iter().map(|f| entry(Node::File(f), f.to_string())).collect();
                v.push(entry(Node::Link("self"), "self".into()));
                v.push(entry(Node::Link("thread-self"), "thread-self".into()));
                v.push(entry(Node::Link("mounts"), "mounts".into()));
                v.push(entry(Node::Dir("sys"), "sys".into()));
                if let Some(k) = self.fs.kernel() {
                    for pid in k.processes.lock().unwrap_or_else(|e| e.into_inner()).keys() {
                        v.push(entry(Node::Pid(*pid), pid.to_string()));
                    }
                }
                v
            }
            Node::Dir(dir) => {
                let (_, dirs, files) = SYS_TREE.iter().find(|(d, ..)| d == dir).ok_or(Errno::ENOENT)?;
                let mut v: Vec<DirEntry> = files.iter().map(|f| entry(Node::File(f), f.to_string())).collect();
                for d in dirs.iter() {
                    v.push(entry(Node::Dir("sys"), d.to_string()));
                }
                v
            }
            Node::Pid(pid) => {
                let mut v: Vec<DirEntry> = PID_FILES.iter().map(|f| entry(Node::PidFile(*pid, f), f.to_string())).collect();
                v.extend(PID_LINKS.iter().map(|l| entry(Node::PidLink(*pid, l), l.to_string())));
                v.push(entry(Node::FdDir(*pid), "fd".into()));
                v.push(entry(Node::FdInfoDir(*pid), "fdinfo".into()));
                v.push(entry(Node::TaskDir(*pid), "task".into()));
                v
            }
            Node::TaskDir(pid) => {
                let k = self.fs.kernel().ok_or(Errno::ENOENT)?;
                threads(&k, *pid).into_iter().map(|t| entry(Node::Task(*pid, t), t.to_string())).collect()
            }
            Node::Task(pid, tid) => TASK_FILES.iter().map(|f| entry(Node::TaskFile(*pid, *tid, f), f.to_string())).collect(),
            Node::FdDir(pid) | Node::FdInfoDir(pid) => {
                let p = self.process(*pid)?;
                let fds = p.fds.snapshot();
                let dir = matches!(self.node, Node::FdDir(_));
                fds.into_iter().map(|(fd, _)| entry(if dir { Node::Fd(*pid, fd) } else { Node::FdInfo(*pid, fd) }, fd.to_string())).collect()
            }
            _ => return Err(Errno::ENOTDIR),
        })
    }
}

/// An open /proc file: its contents as generated at open.
struct ProcFile {
    data: Vec<u8>,
    ino: u64,
    dir: bool,
}

impl FileOps for ProcFile {
    fn read(&self, iov: &[libc::iovec], off: u64) -> Result<usize, Errno> {
        if self.dir {
            return Err(Errno::EISDIR);
        }
        Ok(copy_to_iov(&self.data, off, iov))
    }

    fn write(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        // No /proc file takes writes yet (comm, oom_score_adj... come with processes).
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let mode = if self.dir { libc::S_IFDIR | 0o555 } else { libc::S_IFREG | 0o444 };
        Ok(Stat { st_dev: PROC_DEV, st_ino: self.ino, st_nlink: 1, st_mode: mode, st_blksize: 1024, ..Stat::default() })
    }
    fn mmap_source(&self) -> crate::vfs::MmapSource<'_> {
        // Generated text has no pages to map (ENODEV, as Linux's seq files and attributes).
        crate::vfs::MmapSource::Unmappable
    }
}
