//! Signal delivery: pending signals with their siginfo, per process (kill, SIGCHLD, alarms:
//! any thread that does not block them may take them) and per thread (tgkill, faults, SIGPIPE),
//! interruptible sleeps, and the x86-64 signal frame the Sentry builds on the guest's stack to
//! run a handler (and takes apart in rt_sigreturn).
//!
//! Signals become pending from kill/tgkill/rt_sigqueueinfo, a child's exit (SIGCHLD), EPIPE
//! (SIGPIPE) and faults; they are delivered when a task is about to return to guest code. A
//! task asleep inside the Sentry (a pipe read, wait4, a futex, poll, nanosleep...) sleeps through
//! [`sleep`], which a signal the task does not block cuts short: the call then ends with one of
//! the kernel's restart codes and delivery turns it into EINTR or a restart, as Linux does.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use syscalls::structs::Sigaction;
use syscalls::Errno;

use super::ExitStatus;

/// si_code values.
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_QUEUE: i32 = -1;
pub const SI_TKILL: i32 = -6;
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;

/// The signals whose default action stops a process.
pub const STOP_SIGNALS: u64 = bit(libc::SIGSTOP) | bit(libc::SIGTSTP) | bit(libc::SIGTTIN) | bit(libc::SIGTTOU);

/// A signal's bit in a mask.
pub const fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// A siginfo_t as the guest sees it (128 bytes; the union at offset 16).
#[derive(Clone, Copy)]
pub struct SigInfo(pub [u8; 128]);

impl SigInfo {
    /// Signal number and code, the rest zero.
    pub fn new(sig: i32, code: i32) -> SigInfo {
        let mut s = SigInfo([0; 128]);
        s.put32(0, sig);
        s.put32(8, code);
        s
    }

    /// From a process (kill, tgkill, SIGPIPE): the sender's pid and uid.
    pub fn from_process(sig: i32, code: i32, pid: i32, uid: u32) -> SigInfo {
        let mut s = SigInfo::new(sig, code);
        s.put32(16, pid);
        s.put32(20, uid as i32);
        s
    }

    /// SIGCHLD for a child's end.
    pub fn child(pid: i32, uid: u32, code: i32, status: i32) -> SigInfo {
        let mut s = SigInfo::from_process(libc::SIGCHLD, code, pid, uid);
        s.put32(24, status);
        s
    }

    /// A fault at `addr`.
    pub fn fault(sig: i32, code: i32, addr: u64) -> SigInfo {
        let mut s = SigInfo::new(sig, code);
        s.0[16..24].copy_from_slice(&addr.to_le_bytes());
        s
    }

    /// The signal number.
    pub fn signo(&self) -> i32 {
        i32::from_le_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }

    fn put32(&mut self, off: usize, v: i32) {
        self.0[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
}

/// Queued real-time signals per process at most (RLIMIT_SIGPENDING's usual order).
const MAX_QUEUED: usize = 4096;

#[derive(Default)]
struct Pending {
    /// Pending signal numbers, bit signo-1.
    set: u64,
    /// Their siginfo in arrival order: one per standard signal, every real-time one.
    queued: Vec<SigInfo>,
    /// Counts SIGCONTs: a stopped task waits for it to move.
    continues: u64,
    /// The process is stopped until `continues` moves past this (process queues only).
    stop_at: Option<u64>,
}

impl Pending {
    /// Drops every pending signal in `mask`.
    fn discard(&mut self, mask: u64) {
        self.set &= !mask;
        self.queued.retain(|s| bit(s.signo()) & mask == 0);
    }
}

/// Something a task sleeps on, which a signal must be able to wake: it takes the lock the
/// sleeper waits under and notifies the condition variable.
pub trait Wake: Send + Sync {
    fn wake(&self);
}

/// A process's signals: those sent to the process as a whole, what its threads ignore, and
/// its threads' own queues.
#[derive(Default)]
pub struct SignalQueue {
    pending: Mutex<Pending>,
    /// A copy of the pending set, read without the lock on the syscall return path.
    pending_hint: AtomicU64,
    /// Stopped threads wait here for SIGCONT.
    cv: Condvar,
    /// Signals whose disposition is to ignore them: discarded when sent, unless blocked.
    ignored: AtomicU64,
    /// SIGCHLD's SA_NOCLDSTOP: no SIGCHLD when a child stops or continues.
    no_child_stop: std::sync::atomic::AtomicBool,
    /// A hint that the process is stopped, read on every thread's way back to the guest.
    stopping: std::sync::atomic::AtomicBool,
    /// The process's live threads.
    threads: Mutex<Vec<Arc<ThreadQueue>>>,
    /// How the process ends.
    exit: Mutex<GroupExit>,
    /// Signalled when a thread leaves and when the process ends.
    exit_cv: Condvar,
}

/// The end of a process, as its threads learn of it.
#[derive(Default)]
struct GroupExit {
    /// Set by the first exit_group or fatal signal: every thread ends, the process with this.
    status: Option<ExitStatus>,
    /// A thread execs: the others end without deciding the process's status.
    exec: Option<i32>,
    /// Set by the last thread out.
    finished: Option<ExitStatus>,
}

impl SignalQueue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn threads(&self) -> Vec<Arc<ThreadQueue>> {
        self.threads.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A new thread of the process, with `tid` and blocking `blocked`.
    pub fn add_thread(self: &Arc<Self>, tid: i32, blocked: u64) -> Arc<ThreadQueue> {
        let t = Arc::new(ThreadQueue {
            process: self.clone(),
            tid: tid.into(),
            pending: Mutex::default(),
            pending_hint: AtomicU64::new(0),
            cv: Condvar::new(),
            blocked: AtomicU64::new(blocked),
            waker: Mutex::new(None),
            in_guest: 0.into(),
        });
        self.threads.lock().unwrap_or_else(|e| e.into_inner()).push(t.clone());
        t
    }

    /// The thread `tid` has ended. The last one out finishes the process with `status`
    /// unless an exit_group or fatal signal decided another: the process's status comes back.
    pub fn remove_thread(&self, tid: i32, status: ExitStatus) -> Option<ExitStatus> {
        let left = {
            let mut g = self.threads.lock().unwrap_or_else(|e| e.into_inner());
            g.retain(|t| t.tid() != tid);
            g.len()
        };
        let mut e = self.exit_state();
        let end = (left == 0).then(|| e.status.unwrap_or(status));
        if end.is_some() {
            e.finished = end;
        }
        drop(e);
        self.exit_cv.notify_all();
        end
    }

    fn exit_state(&self) -> MutexGuard<'_, GroupExit> {
        self.exit.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// exit_group or a fatal signal: every thread is to end, and the process with `status`
    /// (or with the status a thread decided first). Returns the status the caller ends with.
    /// While a thread execs, the others just end.
    pub fn begin_exit(&self, status: ExitStatus) -> ExitStatus {
        let mut e = self.exit_state();
        if let Some(s) = e.status {
            return s;
        }
        if e.exec.is_some() {
            return status;
        }
        e.status = Some(status);
        drop(e);
        self.kill_all();
        status
    }

    /// The status the process is ending with, once a thread decided it.
    pub fn exiting(&self) -> Option<ExitStatus> {
        self.exit_state().status
    }

    /// execve's de_thread: ends every thread but `tid` and waits until they are gone. False
    /// when the process is exiting anyway (or `tid` is killed meanwhile).
    pub fn exec_alone(&self, tid: i32) -> bool {
        {
            let mut e = self.exit_state();
            if e.status.is_some() {
                return false;
            }
            e.exec = Some(tid);
        }
        for t in self.threads() {
            if t.tid() != tid {
                t.post(SigInfo::new(libc::SIGKILL, SI_KERNEL));
            }
        }
        let me = self.thread(tid);
        let mut e = self.exit_state();
        loop {
            if self.thread_count() <= 1 {
                e.exec = None;
                return true;
            }
            if me.as_ref().is_some_and(|m| m.pending_hint.load(Ordering::SeqCst) & bit(libc::SIGKILL) != 0) {
                e.exec = None;
                return false;
            }
            e = self.exit_cv.wait_timeout(e, std::time::Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Waits until the last thread has left; the process's status.
    pub fn wait_finished(&self) -> ExitStatus {
        let mut e = self.exit_state();
        loop {
            if let Some(s) = e.finished {
                return s;
            }
            e = self.exit_cv.wait(e).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The live thread `tid`.
    pub fn thread(&self, tid: i32) -> Option<Arc<ThreadQueue>> {
        self.threads.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|t| t.tid() == tid).cloned()
    }

    /// The live threads' ids, in creation order.
    pub fn thread_ids(&self) -> Vec<i32> {
        self.threads.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|t| t.tid()).collect()
    }

    /// How many threads live.
    pub fn thread_count(&self) -> usize {
        self.threads.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Makes a signal pending for the whole process and wakes a thread that can take it. A
    /// standard signal already pending is dropped (false), as is a real-time one past the
    /// queue limit.
    pub fn post(&self, info: SigInfo) -> bool {
        let sig = info.signo();
        if !(1..=64).contains(&sig) {
            return false;
        }
        let b = bit(sig);
        let threads = self.threads();
        let queued = {
            let mut p = self.lock();
            self.job_control(sig, &mut p, &threads);
            // A signal every thread blocks stays pending (and is not ignored) until one takes it.
            let all_block = !threads.is_empty() && threads.iter().all(|t| t.blocked() & b != 0);
            let ignored = b & self.ignored.load(Ordering::Relaxed) != 0 && !all_block;
            let queued = p.add(info, ignored);
            self.pending_hint.store(p.set, Ordering::SeqCst);
            queued
        };
        // Stopped threads wait for SIGCONT or SIGKILL.
        if sig == libc::SIGCONT || sig == libc::SIGKILL {
            self.cv.notify_all();
        }
        if !queued {
            return false;
        }
        // One thread that does not block it is made to take it (all of them for SIGKILL); every
        // thread rechecks, for those waiting in sigtimedwait with it blocked.
        let mut chosen = false;
        for t in &threads {
            if t.blocked() & b == 0 && (!chosen || sig == libc::SIGKILL) {
                chosen = true;
                t.alert(true);
            } else {
                t.alert(false);
            }
        }
        crate::kernel::events::events().notify();
        true
    }

    /// What sending `sig` does before it is queued, whoever it is sent to (Linux's
    /// prepare_signal): SIGCONT continues the process and drops pending stop signals from every
    /// queue; a stop signal drops a pending SIGCONT. `p` is the process's locked queue.
    fn job_control(&self, sig: i32, p: &mut Pending, threads: &[Arc<ThreadQueue>]) {
        let drop = if sig == libc::SIGCONT {
            p.continues += 1;
            p.stop_at = None;
            self.stopping.store(false, Ordering::SeqCst);
            STOP_SIGNALS
        } else if bit(sig) & STOP_SIGNALS != 0 {
            bit(libc::SIGCONT)
        } else {
            return;
        };
        p.discard(drop);
        self.pending_hint.store(p.set, Ordering::SeqCst);
        for t in threads {
            t.discard(drop);
        }
    }

    /// Ends every thread: SIGKILL for each, which nothing blocks or catches.
    pub fn kill_all(&self) {
        for t in self.threads() {
            t.post(SigInfo::new(libc::SIGKILL, SI_KERNEL));
        }
        self.cv.notify_all();
    }

    fn take(&self, blocked: u64) -> Option<SigInfo> {
        let mut p = self.lock();
        let info = p.take(blocked)?;
        self.pending_hint.store(p.set, Ordering::Release);
        Some(info)
    }

    /// The signals pending for the whole process.
    pub fn pending(&self) -> u64 {
        self.lock().set
    }

    /// Records the signals the process ignores, and SIGCHLD's SA_NOCLDSTOP.
    pub fn set_dispositions(&self, ignored: u64, no_child_stop: bool) {
        self.ignored.store(ignored, Ordering::Relaxed);
        self.no_child_stop.store(no_child_stop, Ordering::Relaxed);
    }

    /// Whether the process wants no SIGCHLD for its children's stops and continues.
    pub fn no_child_stop(&self) -> bool {
        self.no_child_stop.load(Ordering::Relaxed)
    }

    /// How many SIGCONTs came so far (read before taking a stop signal).
    pub fn continues(&self) -> u64 {
        self.lock().continues
    }

    /// A thread took a stop signal when `continues` SIGCONTs had come: the whole process stops
    /// (its other threads are told, and stop on their way back to the guest). False when a
    /// SIGCONT came in between.
    pub fn begin_stop(&self, continues: u64) -> bool {
        {
            let mut p = self.lock();
            if p.continues != continues {
                return false;
            }
            p.stop_at = Some(continues);
            self.stopping.store(true, Ordering::SeqCst);
        }
        for t in self.threads() {
            t.alert(true);
        }
        true
    }

    /// While the process is stopped: the SIGCONT count its threads wait to move.
    pub fn group_stopped(&self) -> Option<u64> {
        if !self.stopping.load(Ordering::SeqCst) {
            return None;
        }
        let p = self.lock();
        p.stop_at.filter(|&c| c == p.continues)
    }

    /// Sleeps, stopped, until a SIGCONT after `continues` or a SIGKILL for `thread`.
    pub fn wait_stopped(&self, continues: u64, thread: &ThreadQueue) {
        let mut p = self.lock();
        while p.continues == continues && p.set & bit(libc::SIGKILL) == 0 && thread.pending_hint.load(Ordering::SeqCst) & bit(libc::SIGKILL) == 0 {
            p = self.cv.wait(p).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Pending {
    /// Adds a signal unless `ignored`, a standard one already pending, or the queue full.
    fn add(&mut self, info: SigInfo, ignored: bool) -> bool {
        let sig = info.signo();
        let b = bit(sig);
        let full = (sig < libc::SIGRTMIN() && self.set & b != 0) || self.queued.len() >= MAX_QUEUED;
        if ignored || full {
            return false;
        }
        self.set |= b;
        self.queued.push(info);
        true
    }

    /// Takes the lowest pending signal not in `blocked`.
    fn take(&mut self, blocked: u64) -> Option<SigInfo> {
        let ready = self.set & !blocked;
        if ready == 0 {
            return None;
        }
        let sig = ready.trailing_zeros() as i32 + 1;
        let i = self.queued.iter().position(|s| s.signo() == sig)?;
        let info = self.queued.remove(i);
        if !self.queued.iter().any(|s| s.signo() == sig) {
            self.set &= !bit(sig);
        }
        Some(info)
    }
}

/// Where a signal goes: a whole process or one of its threads.
#[derive(Clone)]
pub enum Target {
    /// Any thread of the process that does not block it takes it.
    Process(Arc<SignalQueue>),
    /// This thread.
    Thread(Arc<ThreadQueue>),
}

impl Target {
    /// Makes `info` pending there.
    pub fn post(&self, info: SigInfo) -> bool {
        match self {
            Target::Process(q) => q.post(info),
            Target::Thread(q) => q.post(info),
        }
    }
}

/// One thread's signals: those sent to it alone, its blocked mask, and how to wake it.
pub struct ThreadQueue {
    /// Its process.
    pub process: Arc<SignalQueue>,
    /// Its thread id (which execve can change).
    tid: std::sync::atomic::AtomicI32,
    pending: Mutex<Pending>,
    /// A copy of the pending set, read without the lock on the syscall return path.
    pending_hint: AtomicU64,
    cv: Condvar,
    /// The owning task's blocked mask, mirrored here for senders and for sleeps deep inside
    /// file code.
    blocked: AtomicU64,
    /// What the owning task sleeps on now.
    waker: Mutex<Option<Arc<dyn Wake>>>,
    /// The host thread running the owner's guest code while it is in the guest, else 0: a
    /// signal for it kicks that thread back to the Sentry.
    in_guest: std::sync::atomic::AtomicI32,
}

impl ThreadQueue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops pending signals in `mask`.
    fn discard(&self, mask: u64) {
        let mut p = self.lock();
        p.discard(mask);
        self.pending_hint.store(p.set, Ordering::SeqCst);
    }

    /// The thread's id.
    pub fn tid(&self) -> i32 {
        self.tid.load(Ordering::Relaxed)
    }

    /// The thread takes another id (an exec by a thread other than the first).
    pub fn set_tid(&self, tid: i32) {
        self.tid.store(tid, Ordering::Relaxed);
    }

    /// Makes a signal pending for this thread alone and wakes it.
    pub fn post(&self, info: SigInfo) -> bool {
        let sig = info.signo();
        if !(1..=64).contains(&sig) {
            return false;
        }
        let b = bit(sig);
        if sig == libc::SIGCONT || b & STOP_SIGNALS != 0 {
            // The process's queue first, as SignalQueue::post locks them.
            let process = &self.process;
            let threads = process.threads();
            process.job_control(sig, &mut process.lock(), &threads);
            if sig == libc::SIGCONT {
                process.cv.notify_all();
            }
        }
        let queued = {
            let mut p = self.lock();
            let ignored = b & self.process.ignored.load(Ordering::Relaxed) & !self.blocked() != 0;
            let queued = p.add(info, ignored);
            self.pending_hint.store(p.set, Ordering::SeqCst);
            queued
        };
        if queued {
            self.alert(b & !self.blocked() != 0);
            if sig == libc::SIGKILL {
                self.process.cv.notify_all();
            }
            crate::kernel::events::events().notify();
        }
        queued
    }

    /// Makes the thread look at its signals: its sleeps recheck, and with `interrupt` a guest
    /// computing without system calls is made to come back and a sleep in file code ends.
    fn alert(&self, interrupt: bool) {
        if interrupt {
            let running = self.in_guest.load(Ordering::SeqCst);
            if running > 0 {
                platform::kick(running);
            }
            let waker = self.waker.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some(w) = waker {
                w.wake();
            }
        }
        drop(self.lock());
        self.cv.notify_all();
    }

    /// Takes the lowest pending signal not in `blocked`, the thread's own first, with its
    /// siginfo.
    pub fn take(&self, blocked: u64) -> Option<SigInfo> {
        {
            let mut p = self.lock();
            if let Some(info) = p.take(blocked) {
                self.pending_hint.store(p.set, Ordering::Release);
                return Some(info);
            }
        }
        self.process.take(blocked)
    }

    /// The owner enters its guest code on host thread `host_tid` (0: it left it). Set before
    /// the last check for pending signals, so a signal posted meanwhile is either seen by that
    /// check or kicks the thread.
    pub fn set_in_guest(&self, host_tid: i32) {
        self.in_guest.store(host_tid, Ordering::SeqCst);
    }

    fn pending_fast(&self) -> u64 {
        self.pending_hint.load(Ordering::SeqCst) | self.process.pending_hint.load(Ordering::SeqCst)
    }

    /// Whether a signal outside `blocked` may be pending, without taking a lock (a post
    /// racing with this check is seen at the task's next return to the guest, or wakes it).
    pub fn may_deliver(&self, blocked: u64) -> bool {
        self.pending_fast() & !blocked != 0 || self.process.stopping.load(Ordering::Relaxed)
    }

    /// The pending set, the thread's and the process's (rt_sigpending).
    pub fn pending(&self) -> u64 {
        self.lock().set | self.process.pending()
    }

    /// Records the owning task's blocked mask.
    pub fn set_blocked(&self, blocked: u64) {
        self.blocked.store(blocked, Ordering::Relaxed);
    }

    /// The owning task's blocked mask.
    pub fn blocked(&self) -> u64 {
        self.blocked.load(Ordering::Relaxed)
    }

    /// Whether a signal the owner does not block is pending.
    pub fn interrupting(&self) -> bool {
        self.pending() & !self.blocked() != 0
    }

    /// Sleeps until a signal outside `blocked` is pending or `deadline` passes; true when a
    /// signal came.
    pub fn wait(&self, blocked: u64, deadline: Option<Instant>) -> bool {
        platform::systrap::blocking();
        let mut p = self.lock();
        while (p.set | self.process.pending_hint.load(Ordering::SeqCst)) & !blocked == 0 {
            match deadline {
                None => p = self.cv.wait(p).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    p = self.cv.wait_timeout(p, d - now).unwrap_or_else(|e| e.into_inner()).0;
                }
            }
        }
        true
    }
}

thread_local! {
    /// The signal queue of the task this Sentry thread runs.
    static CURRENT: RefCell<Option<Arc<ThreadQueue>>> = const { RefCell::new(None) };
}

/// Binds the calling Sentry thread to a task's signal queue.
pub fn set_current(q: Arc<ThreadQueue>) {
    CURRENT.with(|c| *c.borrow_mut() = Some(q));
}

/// The signal queue of the task this thread runs.
pub fn current() -> Option<Arc<ThreadQueue>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Whether the current task has a signal to take (sleeps in poll loops check this).
pub fn interrupted() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(|q| q.interrupting()))
}

/// Runs `wait` as the current task's sleep, with `wake` as what a signal pokes to end it;
/// Err(ERESTARTSYS) instead when a signal the task does not block is already pending.
fn with_waker<R>(wake: &Arc<dyn Wake>, wait: impl FnOnce() -> R) -> Result<R, Errno> {
    let Some(q) = current() else { return Ok(wait()) };
    let slot = || q.waker.lock().unwrap_or_else(|e| e.into_inner());
    *slot() = Some(wake.clone());
    let r = if q.interrupting() {
        Err(Errno::ERESTARTSYS)
    } else {
        platform::systrap::blocking();
        Ok(wait())
    };
    *slot() = None;
    r
}

/// Sleeps on `cv` (which guards `g`) as the current task. Err(ERESTARTSYS) when a signal the
/// task does not block is pending; otherwise the guard comes back after a wakeup and the caller
/// rechecks its condition.
pub fn sleep<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>, wake: &Arc<dyn Wake>) -> Result<MutexGuard<'a, T>, Errno> {
    with_waker(wake, || cv.wait(g).unwrap_or_else(|e| e.into_inner()))
}

/// Like [`sleep`], until `deadline` (None: no limit): Ok(None) once it has passed.
pub fn sleep_until<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>, wake: &Arc<dyn Wake>, deadline: Option<Instant>) -> Result<Option<MutexGuard<'a, T>>, Errno> {
    let Some(d) = deadline else {
        return sleep(cv, g, wake).map(Some);
    };
    let now = Instant::now();
    if now >= d {
        return Ok(None);
    }
    with_waker(wake, || Some(cv.wait_timeout(g, d - now).unwrap_or_else(|e| e.into_inner()).0))
}

/// A mutex-guarded value with a condition variable, whose sleeps a signal interrupts.
pub struct WaitCell<T> {
    value: Mutex<T>,
    cv: Condvar,
}

impl<T: Send + 'static> WaitCell<T> {
    /// A new cell.
    pub fn new(v: T) -> Arc<WaitCell<T>> {
        Arc::new(WaitCell { value: Mutex::new(v), cv: Condvar::new() })
    }

    /// Locks the value.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.value.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps until notified, as [`sleep`].
    pub fn wait<'a>(self: &Arc<Self>, g: MutexGuard<'a, T>) -> Result<MutexGuard<'a, T>, Errno> {
        let wake: Arc<dyn Wake> = self.clone();
        sleep(&self.cv, g, &wake)
    }

    /// Sleeps until notified or `deadline`, as [`sleep_until`].
    pub fn wait_until<'a>(self: &Arc<Self>, g: MutexGuard<'a, T>, deadline: Option<Instant>) -> Result<Option<MutexGuard<'a, T>>, Errno> {
        let wake: Arc<dyn Wake> = self.clone();
        sleep_until(&self.cv, g, &wake, deadline)
    }

    /// Wakes every sleeper.
    pub fn notify_all(&self) {
        self.cv.notify_all();
    }
}

impl<T: Send + 'static> Wake for WaitCell<T> {
    fn wake(&self) {
        drop(self.lock());
        self.cv.notify_all();
    }
}

/// SA_* flags the frame code needs.
pub const SA_NOCLDSTOP: u64 = 1;
pub const SA_SIGINFO: u64 = 4;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;

/// What a signal's disposition asks for.
pub enum Action {
    /// Nothing (SIG_IGN, or a default of "ignore").
    Ignore,
    /// End the process.
    Terminate,
    /// Stop the process until SIGCONT.
    Stop,
    /// Run this handler.
    Handler(Sigaction),
}

/// The action for `sig` under `act`.
pub fn action(sig: i32, act: &Sigaction) -> Action {
    match act.sa_handler {
        1 => Action::Ignore,
        0 if matches!(sig, libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT) => Action::Ignore,
        0 if bit(sig) & STOP_SIGNALS != 0 => Action::Stop,
        0 => Action::Terminate,
        _ => Action::Handler(*act),
    }
}

/// sigcontext's general registers in the kernel's order (r8 first), as (offset/8, value).
pub fn sigcontext_regs(r: &libc::user_regs_struct) -> [u64; 18] {
    [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip, r.eflags]
}

/// Restores general registers from a sigcontext's first 18 words.
pub fn restore_regs(r: &mut libc::user_regs_struct, w: &[u64; 18]) {
    [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip] =
        [w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15], w[16]];
    // Only the flags a program may change (FIX_EFLAGS: CF PF AF ZF SF TF DF OF RF AC).
    const FIX: u64 = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x1_0000 | 0x4_0000;
    r.eflags = (r.eflags & !FIX) | (w[17] & FIX);
}
