//! The sandbox's processes: pids, parents, process groups and sessions, exit statuses waiting
//! to be reaped, and the wait queue behind wait4.
//!
//! Each task (thread) runs on its own host thread; the table is the meeting point of a parent's
//! wait4 and a child's exit, and it hands out thread ids from the same space as process ids.
//! Orphans are reparented to the sandbox's init (pid 1).

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use syscalls::Errno;

use super::signal::{SigInfo, SignalQueue, ThreadQueue, Wake};
use super::ExitStatus;

/// What the table knows of a process.
#[derive(Clone)]
struct Entry {
    /// Its pending signals.
    queue: Arc<SignalQueue>,
    ppid: i32,
    pgid: i32,
    sid: i32,
    /// Some once it exited and until its parent reaps it.
    zombie: Option<ExitStatus>,
    /// A vfork child that has not yet exec'd or exited (its parent waits).
    vfork_pending: bool,
    /// Stopped by this signal, not yet reported to a WUNTRACED wait.
    stop_report: Option<i32>,
    /// Continued, not yet reported to a WCONTINUED wait.
    cont_report: bool,
    /// PR_SET_PDEATHSIG: the signal it gets when its parent exits.
    pdeathsig: i32,
    /// PR_SET_CHILD_SUBREAPER: orphaned descendants are reparented to it rather than init.
    subreaper: bool,
    /// CPU time (user, system) of its reaped children, theirs included (RUSAGE_CHILDREN).
    children_usage: Usage,
    /// Once it exited: its own CPU time plus its reaped children's (what wait4 reports).
    usage: Usage,
}

/// CPU time in nanoseconds: (user, system).
pub type Usage = (u64, u64);

fn add(a: Usage, b: Usage) -> Usage {
    (a.0 + b.0, a.1 + b.1)
}

impl Entry {
    fn new(queue: Arc<SignalQueue>, ppid: i32, pgid: i32, sid: i32, vfork_pending: bool) -> Entry {
        Entry { queue, ppid, pgid, sid, zombie: None, vfork_pending, stop_report: None, cont_report: false, pdeathsig: 0, subreaper: false, children_usage: (0, 0), usage: (0, 0) }
    }
}

/// What a wait reports of a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitEvent {
    /// It ended (and is reaped unless WNOWAIT).
    Exited(ExitStatus),
    /// It stopped on this signal (WUNTRACED, WSTOPPED).
    Stopped(i32),
    /// It was continued (WCONTINUED).
    Continued,
}

/// Which changes a wait accepts, and whether it takes them.
#[derive(Clone, Copy, Debug)]
pub struct WaitOptions {
    /// Return None at once when no child has changed (WNOHANG).
    pub nohang: bool,
    /// Ends (WEXITED; wait4 always).
    pub exited: bool,
    /// Stops (WUNTRACED / WSTOPPED).
    pub stopped: bool,
    /// Continues (WCONTINUED).
    pub continued: bool,
    /// Consume what is reported (not WNOWAIT).
    pub reap: bool,
}

/// The table.
pub struct ProcessTable {
    inner: Mutex<Inner>,
    changed: Condvar,
    /// --pids: processes at most, zombies included.
    limit: std::sync::atomic::AtomicUsize,
}

struct Inner {
    next_pid: i32,
    procs: BTreeMap<i32, Entry>,
    /// Threads other than their process's first: tid -> tgid.
    threads: BTreeMap<i32, i32>,
}

impl Inner {
    /// A free id for a process or thread; EAGAIN past the --pids limit (threads count, as in
    /// Linux's pids controller) or when ids run out.
    fn alloc(&mut self, limit: usize) -> Result<i32, Errno> {
        if self.procs.len() + self.threads.len() >= limit {
            return Err(Errno::EAGAIN);
        }
        for _ in 0..PID_MAX {
            let pid = self.next_pid;
            self.next_pid = if pid >= PID_MAX - 1 { 2 } else { pid + 1 };
            if !self.procs.contains_key(&pid) && !self.threads.contains_key(&pid) {
                return Ok(pid);
            }
        }
        Err(Errno::EAGAIN)
    }

    /// The process a task id belongs to.
    fn tgid_of(&self, tid: i32) -> Option<i32> {
        if self.procs.contains_key(&tid) { Some(tid) } else { self.threads.get(&tid).copied() }
    }
}

/// Which children a wait4 accepts.
#[derive(Clone, Copy, Debug)]
pub enum WaitFor {
    /// pid > 0.
    Pid(i32),
    /// -1: any child.
    Any,
    /// 0 or < -1: any child in this process group.
    Group(i32),
}

/// The Linux pid space's limit (pid_max default).
const PID_MAX: i32 = 4_194_304;

impl Wake for ProcessTable {
    fn wake(&self) {
        drop(self.lock());
        self.changed.notify_all();
    }
}

impl Default for ProcessTable {
    fn default() -> Self {
        let mut procs = BTreeMap::new();
        procs.insert(1, Entry::new(Arc::default(), 0, 1, 1, false));
        ProcessTable { inner: Mutex::new(Inner { next_pid: 2, procs, threads: BTreeMap::new() }), changed: Condvar::new(), limit: usize::MAX.into() }
    }
}

impl ProcessTable {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Caps the number of processes (None: no cap beyond the pid space).
    pub fn set_limit(&self, max: Option<usize>) {
        self.limit.store(max.unwrap_or(usize::MAX), std::sync::atomic::Ordering::Relaxed);
    }

    /// A new child of `parent` (same group and session); EAGAIN past the --pids limit or when
    /// pids run out.
    pub fn fork(&self, parent: i32, vfork: bool) -> Result<i32, Errno> {
        let mut g = self.lock();
        let p = g.procs.get(&parent).cloned().ok_or(Errno::ESRCH)?;
        let pid = g.alloc(self.limit.load(std::sync::atomic::Ordering::Relaxed))?;
        g.procs.insert(pid, Entry::new(Arc::default(), parent, p.pgid, p.sid, vfork));
        Ok(pid)
    }

    /// A thread id for a new thread of `tgid`; EAGAIN as for fork.
    pub fn new_thread(&self, tgid: i32) -> Result<i32, Errno> {
        let mut g = self.lock();
        let tid = g.alloc(self.limit.load(std::sync::atomic::Ordering::Relaxed))?;
        g.threads.insert(tid, tgid);
        Ok(tid)
    }

    /// Thread `tid` ended (a process's first thread keeps its id with the process).
    pub fn thread_exited(&self, tid: i32) {
        self.lock().threads.remove(&tid);
    }

    /// The live thread `tid` of any process.
    pub fn thread(&self, tid: i32) -> Option<Arc<ThreadQueue>> {
        let q = {
            let g = self.lock();
            let tgid = g.tgid_of(tid)?;
            g.procs.get(&tgid).filter(|e| e.zombie.is_none())?.queue.clone()
        };
        q.thread(tid)
    }

    /// A process that could not start after all (its thread failed): forgotten.
    pub fn abandon(&self, pid: i32) {
        self.lock().procs.remove(&pid);
        self.changed.notify_all();
    }

    /// PR_SET_PDEATHSIG / PR_SET_CHILD_SUBREAPER: changes `pid`'s entry.
    pub fn configure(&self, pid: i32, pdeathsig: Option<i32>, subreaper: Option<bool>) {
        if let Some(e) = self.lock().procs.get_mut(&pid) {
            e.pdeathsig = pdeathsig.unwrap_or(e.pdeathsig);
            e.subreaper = subreaper.unwrap_or(e.subreaper);
        }
    }

    /// (PR_GET_PDEATHSIG, PR_GET_CHILD_SUBREAPER) of `pid`.
    pub fn configuration(&self, pid: i32) -> (i32, bool) {
        self.lock().procs.get(&pid).map_or((0, false), |e| (e.pdeathsig, e.subreaper))
    }

    /// Whether `pid`'s process group is orphaned: no member has a parent in another group of
    /// the same session (init's parent is outside the sandbox, so init's group is).
    pub fn pgrp_orphaned(&self, pid: i32) -> bool {
        let g = self.lock();
        let Some(me) = g.procs.get(&pid) else { return true };
        let live = |e: &&Entry| e.zombie.is_none();
        !g.procs.values().filter(live).filter(|e| e.pgid == me.pgid).any(|e| {
            g.procs.get(&e.ppid).filter(live).is_some_and(|p| p.pgid != me.pgid && p.sid == e.sid)
        })
    }

    /// CPU time of `pid`'s reaped children (RUSAGE_CHILDREN).
    pub fn children_usage(&self, pid: i32) -> Usage {
        self.lock().procs.get(&pid).map_or((0, 0), |e| e.children_usage)
    }

    /// Processes and threads in the table (zombies included).
    pub fn count(&self) -> usize {
        let g = self.lock();
        g.procs.len() + g.threads.len()
    }

    /// Whether `pid` is in the table (alive or a zombie).
    pub fn exists(&self, pid: i32) -> bool {
        self.lock().procs.contains_key(&pid)
    }

    /// Whether `pid` has exited (a zombie, or reaped already): a pidfd polls readable.
    pub fn has_exited(&self, pid: i32) -> bool {
        self.lock().procs.get(&pid).is_none_or(|e| e.zombie.is_some())
    }

    /// The parent's pid.
    pub fn ppid(&self, pid: i32) -> i32 {
        self.lock().procs.get(&pid).map_or(0, |e| e.ppid)
    }

    /// The signal queues of a process group's members (kill(-pgid)), or of every process but
    /// init and `except` when `pgid` is None (kill(-1)).
    pub fn group_queues(&self, pgid: Option<i32>, except: i32) -> Vec<Arc<SignalQueue>> {
        self.lock()
            .procs
            .iter()
            .filter(|(&p, e)| e.zombie.is_none() && match pgid { Some(g) => e.pgid == g, None => p != 1 && p != except })
            .map(|(_, e)| e.queue.clone())
            .collect()
    }

    /// A process's signal queue; the id of any of its threads names it too, as for kill(2).
    pub fn queue(&self, pid: i32) -> Option<Arc<SignalQueue>> {
        let g = self.lock();
        g.procs.get(&g.tgid_of(pid)?).filter(|e| e.zombie.is_none()).map(|e| e.queue.clone())
    }

    /// `pid` exited: it waits for its parent to reap it (who gets SIGCHLD); its children go
    /// to init.
    pub fn exited(&self, pid: i32, status: ExitStatus, uid: u32, own_usage: Usage) {
        let mut g = self.lock();
        if let Some(e) = g.procs.get_mut(&pid) {
            e.usage = add(own_usage, e.children_usage);
        }
        let parent = g.procs.get(&pid).map_or(0, |e| e.ppid);
        // Orphans go to the nearest living subreaper among the ancestors, else to init; those
        // that asked for it get their parent-death signal.
        let mut reaper = parent;
        while reaper > 1 && !g.procs.get(&reaper).is_some_and(|e| e.subreaper && e.zombie.is_none()) {
            reaper = g.procs.get(&reaper).map_or(1, |e| e.ppid);
        }
        let reaper = reaper.max(1);
        let mut death_signals = Vec::new();
        for e in g.procs.values_mut() {
            if e.ppid == pid {
                e.ppid = reaper;
                if e.pdeathsig != 0 && e.zombie.is_none() {
                    death_signals.push((e.queue.clone(), e.pdeathsig));
                }
            }
        }
        if let Some(e) = g.procs.get_mut(&pid) {
            e.zombie = Some(status);
            e.vfork_pending = false;
        }
        let parent_queue = g.procs.get(&parent).map(|e| e.queue.clone());
        drop(g);
        for (q, sig) in death_signals {
            q.post(SigInfo::from_process(sig, super::signal::SI_USER, pid, uid));
        }
        // SIGCHLD is pending before the parent's wait4 can return, as on Linux.
        if let Some(q) = parent_queue {
            let (code, st) = match status {
                ExitStatus::Exited(c) => (super::signal::CLD_EXITED, i32::from(c)),
                ExitStatus::Signaled(s) => (super::signal::CLD_KILLED, s),
            };
            q.post(SigInfo::child(pid, uid, code, st));
        }
        self.changed.notify_all();
        // pidfds of the process poll readable now.
        super::events::events().notify();
    }

    /// A vfork child exec'd or exited: its parent may go on.
    pub fn release_vfork(&self, pid: i32) {
        if let Some(e) = self.lock().procs.get_mut(&pid) {
            e.vfork_pending = false;
        }
        self.changed.notify_all();
    }

    /// Blocks the vfork parent until `child` execs or exits.
    /// A signal for the parent ends the wait early (so SIGKILL can end a parent whose vfork
    /// child never execs; the child has its own copy of memory, so nothing breaks).
    pub fn wait_vfork(self: &Arc<Self>, child: i32) {
        let mut g = self.lock();
        let wake: Arc<dyn Wake> = self.clone();
        while g.procs.get(&child).is_some_and(|e| e.vfork_pending) {
            match super::signal::sleep(&self.changed, g, &wake) {
                Ok(next) => g = next,
                Err(_) => return,
            }
        }
    }

    /// wait4 and waitid: reports (and, with `reap`, consumes) a change of a matching child of
    /// `parent`; None under WNOHANG when none has changed yet; ECHILD when there is no matching
    /// child at all.
    /// The child's CPU usage comes along (zeros for stops and continues).
    pub fn wait(self: &Arc<Self>, parent: i32, which: WaitFor, o: WaitOptions) -> Result<Option<(i32, WaitEvent, Usage)>, Errno> {
        let mut g = self.lock();
        loop {
            let my_pgid = g.procs.get(&parent).map_or(0, |e| e.pgid);
            let matches = |pid: i32, e: &Entry| {
                e.ppid == parent
                    && match which {
                        WaitFor::Pid(p) => pid == p,
                        WaitFor::Any => true,
                        WaitFor::Group(0) => e.pgid == my_pgid,
                        WaitFor::Group(pg) => e.pgid == pg,
                    }
            };
            let mut any = false;
            let mut done = None;
            for (&pid, e) in &g.procs {
                if matches(pid, e) {
                    any = true;
                    let event = match (e.zombie, e.stop_report) {
                        (Some(st), _) if o.exited => Some(WaitEvent::Exited(st)),
                        (None, Some(sig)) if o.stopped => Some(WaitEvent::Stopped(sig)),
                        (None, _) if o.continued && e.cont_report => Some(WaitEvent::Continued),
                        _ => None,
                    };
                    if let Some(ev) = event {
                        done = Some((pid, ev));
                        break;
                    }
                }
            }
            if let Some((pid, ev)) = done {
                let usage = match ev {
                    WaitEvent::Exited(_) => g.procs.get(&pid).map_or((0, 0), |e| e.usage),
                    _ => (0, 0),
                };
                if o.reap {
                    if let WaitEvent::Exited(_) = ev {
                        g.procs.remove(&pid);
                        if let Some(p) = g.procs.get_mut(&parent) {
                            p.children_usage = add(p.children_usage, usage);
                        }
                    } else if let Some(e) = g.procs.get_mut(&pid) {
                        (e.stop_report, e.cont_report) = (None, false);
                    }
                }
                return Ok(Some((pid, ev, usage)));
            }
            if !any {
                return Err(Errno::ECHILD);
            }
            if o.nohang {
                return Ok(None);
            }
            let wake: Arc<dyn Wake> = self.clone();
            g = super::signal::sleep(&self.changed, g, &wake)?;
        }
    }

    /// `pid` stopped on `sig` (true) or was continued (false): waits can report it, and its
    /// parent gets SIGCHLD unless it asked for none (SA_NOCLDSTOP).
    pub fn stopped_or_continued(&self, pid: i32, stop: Option<i32>, uid: u32) {
        let mut g = self.lock();
        let Some(e) = g.procs.get_mut(&pid) else { return };
        e.stop_report = stop;
        e.cont_report = stop.is_none();
        let parent = e.ppid;
        let parent_queue = g.procs.get(&parent).map(|e| e.queue.clone());
        drop(g);
        if let Some(q) = parent_queue.filter(|q| !q.no_child_stop()) {
            let (code, st) = match stop {
                Some(sig) => (super::signal::CLD_STOPPED, sig),
                None => (super::signal::CLD_CONTINUED, libc::SIGCONT),
            };
            q.post(SigInfo::child(pid, uid, code, st));
        }
        self.changed.notify_all();
    }

    /// getpgid.
    pub fn pgid(&self, pid: i32) -> Result<i32, Errno> {
        self.lock().procs.get(&pid).filter(|e| e.zombie.is_none()).map(|e| e.pgid).ok_or(Errno::ESRCH)
    }

    /// getsid.
    pub fn sid(&self, pid: i32) -> Result<i32, Errno> {
        self.lock().procs.get(&pid).filter(|e| e.zombie.is_none()).map(|e| e.sid).ok_or(Errno::ESRCH)
    }

    /// setpgid(pid, pgid) asked by `caller`.
    pub fn set_pgid(&self, caller: i32, pid: i32, pgid: i32) -> Result<(), Errno> {
        let mut g = self.lock();
        let target = if pid == 0 { caller } else { pid };
        let pgid = if pgid == 0 { target } else { pgid };
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        let caller_sid = g.procs.get(&caller).map(|e| e.sid).ok_or(Errno::ESRCH)?;
        let e = g.procs.get(&target).cloned().ok_or(Errno::ESRCH)?;
        if target != caller && e.ppid != caller {
            return Err(Errno::ESRCH);
        }
        if e.sid != caller_sid || e.sid == target {
            return Err(Errno::EPERM);
        }
        if pgid != target && !g.procs.values().any(|o| o.pgid == pgid && o.sid == caller_sid) {
            return Err(Errno::EPERM);
        }
        if let Some(e) = g.procs.get_mut(&target) {
            e.pgid = pgid;
        }
        Ok(())
    }

    /// setsid: a new session and group led by `pid` (EPERM for a group leader).
    pub fn set_sid(&self, pid: i32) -> Result<i32, Errno> {
        let mut g = self.lock();
        if g.procs.iter().any(|(&p, e)| p != pid && e.pgid == pid) || g.procs.get(&pid).is_some_and(|e| e.pgid == pid) {
            return Err(Errno::EPERM);
        }
        let e = g.procs.get_mut(&pid).ok_or(Errno::ESRCH)?;
        e.pgid = pid;
        e.sid = pid;
        Ok(pid)
    }
}
