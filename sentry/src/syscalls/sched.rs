//! Scheduling and accounting: CPU affinity (sched_getaffinity, sched_setaffinity, getcpu),
//! scheduling policy and priority (sched_getscheduler, sched_setscheduler, sched_getparam,
//! sched_setparam, sched_get_priority_max/min, sched_rr_get_interval, getpriority,
//! setpriority), and what a process used and the system holds (getrusage, times, sysinfo).
//!
//! A guest's scheduling attributes are its own: nice values, policies, real-time priorities and
//! affinity masks follow Linux's rules (validation, permissions, inheritance across fork,
//! SCHED_RESET_ON_FORK) and read back as set, but none reaches the host. The stubs keep the
//! Sentry's scheduling: a guest root may ask for SCHED_FIFO without getting it on the host. The
//! attributes live in this module's table, per process, since a Task has no field for them.
//!
//! CPU times are the host kernel's accounting of the stub process that runs the guest's code
//! (one per address space, its threads the guest's threads): user time is the guest's code
//! (with the stub's brief spinning at hand-offs), system time the host's work on the stub's
//! behalf. The Sentry's own time serving system calls is not counted. execve keeps the stub,
//! and so the process's CPU time, as on Linux.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use syscalls::structs::Timespec;
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::signal::SignalQueue;
use crate::kernel::cap;
use crate::kernel::Task;
use crate::vfs::host::last_errno;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::SCHED_GETAFFINITY, handler: sys_sched_getaffinity, support: Support::Full, note: "the CPUs the Sentry may use; a mask set by the guest is recorded, not applied to the host" },
    Registration { nr: nr::SCHED_SETAFFINITY, handler: sys_sched_setaffinity, support: Support::Partial, note: "recorded, not applied to the host; another process's mask only by guest root (EPERM otherwise)" },
    Registration { nr: nr::GETCPU, handler: sys_getcpu, support: Support::Full, note: "the Sentry thread's CPU when the guest's mask allows it, else the mask's first CPU; node 0. The vDSO reads the host CPU (RDPID) without a trap until a guest narrows a CPU mask" },
    Registration { nr: nr::SCHED_GETSCHEDULER, handler: sys_sched_getscheduler, support: Support::Full, note: "" },
    Registration { nr: nr::SCHED_SETSCHEDULER, handler: sys_sched_setscheduler, support: Support::Partial, note: "recorded, not applied to the host; another process only by guest root (EPERM otherwise); SCHED_DEADLINE fails with EINVAL as Linux" },
    Registration { nr: nr::SCHED_GETPARAM, handler: sys_sched_getparam, support: Support::Full, note: "" },
    Registration { nr: nr::SCHED_SETPARAM, handler: sys_sched_setparam, support: Support::Partial, note: "as sched_setscheduler" },
    Registration { nr: nr::SCHED_GET_PRIORITY_MAX, handler: sys_sched_get_priority_max, support: Support::Full, note: "" },
    Registration { nr: nr::SCHED_GET_PRIORITY_MIN, handler: sys_sched_get_priority_min, support: Support::Full, note: "" },
    Registration { nr: nr::SCHED_RR_GET_INTERVAL, handler: sys_sched_rr_get_interval, support: Support::Full, note: "100 ms for SCHED_RR, 0 otherwise (a fair slice rounds to 0 jiffies, as Linux 6.6+)" },
    Registration { nr: nr::GETPRIORITY, handler: sys_getpriority, support: Support::Partial, note: "PRIO_PROCESS; PRIO_PGRP and PRIO_USER fail with EINVAL" },
    Registration { nr: nr::SETPRIORITY, handler: sys_setpriority, support: Support::Partial, note: "PRIO_PROCESS, recorded, not applied to the host; another process only by guest root; PRIO_PGRP and PRIO_USER fail with EINVAL" },
    Registration { nr: nr::GETRUSAGE, handler: sys_getrusage, support: Support::Partial, note: "CPU times (of the guest's stub since its last execve; of reaped children for RUSAGE_CHILDREN); the memory, fault, I/O and switch counters read as zeros" },
    Registration { nr: nr::TIMES, handler: sys_times, support: Support::Partial, note: "as getrusage" },
    Registration { nr: nr::SYSINFO, handler: sys_sysinfo, support: Support::Full, note: "the host's memory, swap and uptime; loads 0 (as /proc/loadavg); procs counts guest processes" },
];

const SCHED_OTHER: i32 = 0;
const SCHED_FIFO: i32 = 1;
const SCHED_RR: i32 = 2;
const SCHED_BATCH: i32 = 3;
const SCHED_IDLE: i32 = 5;
const SCHED_DEADLINE: i32 = 6;
const SCHED_RESET_ON_FORK: i32 = 0x4000_0000;
/// MAX_RT_PRIO - 1.
const MAX_RT_PRIORITY: u32 = 99;
/// RR_TIMESLICE.
const RR_TIMESLICE: Duration = Duration::from_millis(100);

const MIN_NICE: i32 = -20;
const MAX_NICE: i32 = 19;
const PRIO_PROCESS: i32 = 0;
const PRIO_PGRP: i32 = 1;
const PRIO_USER: i32 = 2;

const RLIMIT_NICE: usize = 13;
const RLIMIT_RTPRIO: usize = 14;

/// USER_HZ: the unit of clock_t.
const USER_HZ: u64 = 100;

// ---------------------------------------------------------------------------------------------
// Per-process state.

/// A process's scheduling attributes as the guest set them.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SchedAttr {
    nice: i32,
    policy: i32,
    /// 1..=99 under SCHED_FIFO and SCHED_RR, else 0.
    rt_priority: u32,
    reset_on_fork: bool,
    /// The allowed CPUs, one bit each, always a non-empty subset of [`host_cpus`].
    affinity: Vec<u64>,
}

impl SchedAttr {
    /// A process that never changed anything: what the sandbox's first process starts with.
    fn initial() -> SchedAttr {
        SchedAttr { nice: 0, policy: SCHED_OTHER, rt_priority: 0, reset_on_fork: false, affinity: host_cpus().to_vec() }
    }

    /// What a child forked now inherits (sched_fork).
    fn forked(&self) -> SchedAttr {
        let mut c = self.clone();
        if c.reset_on_fork {
            if is_rt(c.policy) {
                (c.policy, c.rt_priority, c.nice) = (SCHED_OTHER, 0, 0);
            } else {
                c.nice = c.nice.max(0);
            }
            c.reset_on_fork = false;
        }
        c
    }
}

/// The last CPU times reported for a process, which later reports never go below.
#[derive(Clone, Copy, Default)]
struct PrevCputime {
    /// The stub they were read from (a new one after execve starts again from zero).
    stub: i32,
    utime: u64,
    stime: u64,
}

struct Entry {
    /// The process's signal queue, which identifies it: pids are reused, and the queue of a
    /// process lives as long as the process (across execve), so a Weak to it tells an entry of
    /// a dead process from one of the live process that now holds its pid.
    process: Weak<SignalQueue>,
    attr: SchedAttr,
    cpu: PrevCputime,
}

/// Scheduling state by pid. A Task has no field for it; entries are made on first use
/// (inheriting from the nearest ancestor that has one, as fork would have copied it: exact
/// unless that ancestor changed them between the fork and the child's first use, or the child
/// was orphaned first) and those of dead processes are dropped when the table grows.
static TABLE: LazyLock<Mutex<HashMap<i32, Entry>>> = LazyLock::new(Mutex::default);

/// Past this many entries, inserting first drops those of dead processes.
const PRUNE_AT: usize = 256;

fn table() -> MutexGuard<'static, HashMap<i32, Entry>> {
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process `pid` names (0: the caller) and its identity, or ESRCH.
fn target(t: &Task, pid: i32) -> Result<(i32, Arc<SignalQueue>), Errno> {
    if pid == 0 || pid == t.tgid {
        return Ok((t.tgid, t.sigq.process.clone()));
    }
    t.kernel.procs.queue(pid).map(|q| (pid, q)).ok_or(Errno::ESRCH)
}

/// Runs `f` on the entry of process `pid` (identified by `q`), making it first if needed.
fn with_entry<R>(t: &Task, pid: i32, q: &Arc<SignalQueue>, f: impl FnOnce(&mut Entry) -> R) -> R {
    let current = |e: &Entry| std::ptr::eq(e.process.as_ptr(), Arc::as_ptr(q));
    if let Some(e) = table().get_mut(&pid).filter(|e| current(e)) {
        return f(e);
    }
    // The ancestors, nearest first, looked up before taking the table's lock.
    let mut ancestors = Vec::new();
    let mut p = t.kernel.procs.ppid(pid);
    while p > 0 && p != pid && ancestors.len() < 64 {
        match t.kernel.procs.queue(p) {
            Some(pq) => ancestors.push((p, pq)),
            None => break,
        }
        p = t.kernel.procs.ppid(p);
    }
    let mut tab = table();
    if !tab.get(&pid).is_some_and(current) {
        let attr = ancestors
            .iter()
            .find_map(|(p, pq)| tab.get(p).filter(|e| std::ptr::eq(e.process.as_ptr(), Arc::as_ptr(pq))).map(|e| e.attr.forked()))
            .unwrap_or_else(SchedAttr::initial);
        if tab.len() >= PRUNE_AT {
            tab.retain(|_, e| e.process.strong_count() > 0);
        }
        tab.insert(pid, Entry { process: Arc::downgrade(q), attr, cpu: PrevCputime::default() });
    }
    // The entry was just checked or inserted under this lock.
    match tab.get_mut(&pid) {
        Some(e) => f(e),
        None => unreachable!("entry inserted above"),
    }
}

fn with_attr<R>(t: &Task, pid: i32, q: &Arc<SignalQueue>, f: impl FnOnce(&mut SchedAttr) -> R) -> R {
    with_entry(t, pid, q, |e| f(&mut e.attr))
}

// ---------------------------------------------------------------------------------------------
// Affinity.

/// The host CPUs the guest may use: the Sentry process's affinity (its main thread's, which no
/// platform pins), read once.
fn host_cpus() -> &'static [u64] {
    static CPUS: OnceLock<Vec<u64>> = OnceLock::new();
    CPUS.get_or_init(|| {
        let mut set = [0u64; 16];
        // SAFETY: the kernel writes at most size_of_val(&set) bytes into set; getpid cannot fail.
        let n = unsafe { libc::syscall(libc::SYS_sched_getaffinity, libc::getpid(), std::mem::size_of_val(&set), set.as_mut_ptr()) };
        if n <= 0 || set.iter().all(|&w| w == 0) {
            // Cannot happen for a live process; fall back to a count from std.
            let count = std::thread::available_parallelism().map_or(1, |n| n.get()).min(set.len() * 64);
            set = [0; 16];
            for cpu in 0..count {
                set[cpu / 64] |= 1 << (cpu % 64);
            }
        }
        let words = set.iter().rposition(|&w| w != 0).map_or(1, |i| i + 1);
        set[..words].to_vec()
    })
}

/// nr_cpu_ids as far as the guest can tell: one past the highest usable CPU.
fn nr_cpu_ids(cpus: &[u64]) -> u64 {
    let last = cpus.len() - 1;
    last as u64 * 64 + u64::from(64 - cpus[last].leading_zeros())
}

fn cpu_allowed(mask: &[u64], cpu: usize) -> bool {
    mask.get(cpu / 64).is_some_and(|w| w & (1 << (cpu % 64)) != 0)
}

fn first_cpu(mask: &[u64]) -> usize {
    mask.iter().position(|&w| w != 0).map_or(0, |i| i * 64 + mask[i].trailing_zeros() as usize)
}

fn sys_sched_getaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, len) = (a[0] as i32, u64::from(a[1] as u32));
    let cpus = host_cpus();
    if len * 8 < nr_cpu_ids(cpus) || len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    let (pid, q) = target(t, pid)?;
    let mask = with_attr(t, pid, &q, |s| s.affinity.clone());
    let bytes: Vec<u8> = mask.iter().flat_map(|w| w.to_le_bytes()).collect();
    let n = bytes.len().min(len as usize);
    t.mm.copy_out(a[2], &bytes[..n])?;
    Ok(n as u64)
}

fn sys_sched_setaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, len) = (a[0] as i32, a[1] as u32 as usize);
    let cpus = host_cpus();
    // As Linux: a shorter mask is zero-extended, a longer one cut to the kernel's size.
    let mut bytes = vec![0u8; cpus.len() * 8];
    let n = len.min(bytes.len());
    t.mm.copy_in(a[2], &mut bytes[..n])?;
    let (pid, q) = target(t, pid)?;
    if pid != t.tgid && !t.creds.capable(cap::SYS_NICE) {
        // Linux lets the target's owner too, but other processes' credentials are not at hand.
        return Err(Errno::EPERM);
    }
    let mask: Vec<u64> = bytes.chunks_exact(8).zip(cpus).map(|(b, &host)| u64::from_le_bytes(b.try_into().unwrap_or_default()) & host).collect();
    if mask.iter().all(|&w| w == 0) {
        return Err(Errno::EINVAL);
    }
    if mask != cpus {
        crate::loader::vdso::affinity_narrowed(t.mm.memory_file());
    }
    with_attr(t, pid, &q, |s| s.affinity = mask);
    Ok(0)
}

fn sys_getcpu(t: &mut Task, a: [u64; 6]) -> SysResult {
    // SAFETY: sched_getcpu takes nothing.
    let here = unsafe { libc::sched_getcpu() };
    let (tgid, q) = (t.tgid, t.sigq.process.clone());
    // The guest's mask is not applied on the host: report a CPU it allows, the one the Sentry
    // runs on when it can.
    let cpu = with_attr(t, tgid, &q, |s| if here >= 0 && cpu_allowed(&s.affinity, here as usize) { here as usize } else { first_cpu(&s.affinity) });
    // As Linux: both are written, then EFAULT if either failed.
    let mut fault = false;
    if a[0] != 0 {
        fault |= t.mm.copy_out(a[0], &(cpu as u32).to_le_bytes()).is_err();
    }
    if a[1] != 0 {
        fault |= t.mm.copy_out(a[1], &0u32.to_le_bytes()).is_err();
    }
    if fault {
        return Err(Errno::EFAULT);
    }
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// Policies and priorities.

fn is_rt(policy: i32) -> bool {
    policy == SCHED_FIFO || policy == SCHED_RR
}

fn valid_policy(policy: i32) -> bool {
    matches!(policy, SCHED_OTHER | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE)
}

/// can_nice: whether the caller may set its nice value to `nice` (lower than now) without
/// CAP_SYS_NICE, under RLIMIT_NICE (which counts 20 - nice).
fn can_nice(t: &Task, nice: i32) -> bool {
    t.creds.capable(cap::SYS_NICE) || (20 - nice) as u64 <= t.rlimits[RLIMIT_NICE].rlim_cur
}

/// sched_setscheduler, or with `policy` None sched_setparam (keep the policy).
fn set_scheduler(t: &Task, pid: i32, policy: Option<i32>, param: u64) -> SysResult {
    if param == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 4];
    t.mm.copy_in(param, &mut b)?;
    // Compared unsigned, as Linux does: a negative priority is out of range.
    let prio = u32::from_le_bytes(b);
    let (pid, q) = target(t, pid)?;
    let privileged = t.creds.capable(cap::SYS_NICE);
    let rtprio_limit = t.rlimits[RLIMIT_RTPRIO].rlim_cur;
    with_attr(t, pid, &q, |s| {
        let (policy, reset_on_fork) = match policy {
            None => (s.policy, s.reset_on_fork),
            Some(p) => (p & !SCHED_RESET_ON_FORK, p & SCHED_RESET_ON_FORK != 0),
        };
        if !valid_policy(policy) || prio > MAX_RT_PRIORITY || is_rt(policy) != (prio != 0) || policy == SCHED_DEADLINE {
            // SCHED_DEADLINE needs sched_setattr's runtime and deadline: EINVAL here, as Linux.
            return Err(Errno::EINVAL);
        }
        if !privileged {
            if pid != t.tgid {
                // Linux lets the target's owner too, but other processes' credentials are not
                // at hand.
                return Err(Errno::EPERM);
            }
            if is_rt(policy) && ((policy != s.policy && rtprio_limit == 0) || (prio > s.rt_priority && u64::from(prio) > rtprio_limit)) {
                return Err(Errno::EPERM);
            }
            // SCHED_IDLE counts as nice 20: leaving it is lowering the nice value.
            if s.policy == SCHED_IDLE && policy != SCHED_IDLE && !can_nice(t, s.nice) {
                return Err(Errno::EPERM);
            }
            if s.reset_on_fork && !reset_on_fork {
                return Err(Errno::EPERM);
            }
        }
        (s.policy, s.rt_priority, s.reset_on_fork) = (policy, if is_rt(policy) { prio } else { 0 }, reset_on_fork);
        Ok(0)
    })
}

fn sys_sched_setscheduler(t: &mut Task, a: [u64; 6]) -> SysResult {
    let policy = a[1] as i32;
    if policy < 0 {
        return Err(Errno::EINVAL);
    }
    set_scheduler(t, a[0] as i32, Some(policy), a[2])
}

fn sys_sched_setparam(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_scheduler(t, a[0] as i32, None, a[1])
}

fn sys_sched_getscheduler(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let (pid, q) = target(t, pid)?;
    let policy = with_attr(t, pid, &q, |s| s.policy | if s.reset_on_fork { SCHED_RESET_ON_FORK } else { 0 });
    Ok(policy as u64)
}

fn sys_sched_getparam(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if a[1] == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let (pid, q) = target(t, pid)?;
    let prio = with_attr(t, pid, &q, |s| s.rt_priority);
    t.mm.copy_out(a[1], &prio.to_le_bytes())?;
    Ok(0)
}

fn sys_sched_get_priority_max(_t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        SCHED_FIFO | SCHED_RR => Ok(u64::from(MAX_RT_PRIORITY)),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

fn sys_sched_get_priority_min(_t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        SCHED_FIFO | SCHED_RR => Ok(1),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

fn sys_sched_rr_get_interval(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let (pid, q) = target(t, pid)?;
    let slice = if with_attr(t, pid, &q, |s| s.policy) == SCHED_RR { RR_TIMESLICE } else { Duration::ZERO };
    t.mm.write_struct(a[1], &Timespec { tv_sec: slice.as_secs() as i64, tv_nsec: i64::from(slice.subsec_nanos()) })?;
    Ok(0)
}

/// The process getpriority/setpriority name, or the errno for `which`.
fn prio_target(t: &Task, syscall: &'static str, which: i32, who: i32) -> Result<(i32, Arc<SignalQueue>), Errno> {
    match which {
        PRIO_PROCESS => target(t, who),
        PRIO_PGRP | PRIO_USER => {
            // Needs every member's nice value and, for PRIO_USER, credentials: not yet.
            t.kernel.audit.unsupported_command(syscall, which as u64);
            Err(Errno::EINVAL)
        }
        _ => Err(Errno::EINVAL),
    }
}

fn sys_getpriority(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, q) = prio_target(t, "getpriority which", a[0] as i32, a[1] as i32)?;
    // The raw call returns 20 - nice (1..=40) so that no value looks like an errno.
    let nice = with_attr(t, pid, &q, |s| s.nice);
    Ok((20 - nice) as u64)
}

fn sys_setpriority(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, q) = prio_target(t, "setpriority which", a[0] as i32, a[1] as i32)?;
    let nice = (a[2] as i32).clamp(MIN_NICE, MAX_NICE);
    if pid != t.tgid && !t.creds.capable(cap::SYS_NICE) {
        // Linux lets the target's owner too, but other processes' credentials are not at hand.
        return Err(Errno::EPERM);
    }
    let allowed = can_nice(t, nice);
    with_attr(t, pid, &q, |s| {
        if nice < s.nice && !allowed {
            return Err(Errno::EACCES);
        }
        s.nice = nice;
        Ok(0)
    })
}

// ---------------------------------------------------------------------------------------------
// Accounting.

/// The process CPU clock `which` (CPUCLOCK_PROF, _VIRT or _SCHED) of the guest process of a
/// stub in nanoseconds: the stub's host process clock (Linux reads a per-thread CPU clock only
/// within the caller's own thread group) less `base`, what the stub counted before it served
/// this process (see Context::cpu_base). EINVAL for another `which` (as Linux), ESRCH when
/// the stub is gone.
pub(crate) fn process_cpu_clock(stub: i32, base: [u64; 3], which: i32) -> Result<u64, Errno> {
    let base = *usize::try_from(which).ok().and_then(|w| base.get(w)).ok_or(Errno::EINVAL)?;
    let ns = platform::process_cpu_clock(stub, which).map_err(|_| Errno::ESRCH)?;
    Ok(ns.saturating_sub(base))
}

/// cputime_adjust: splits `rtime` (precise) in the ratio of the tick-sampled `utime` and
/// `stime`, never reporting less than `prev` did; updates `prev`.
fn cputime_adjust(rtime: u64, utime: u64, stime: u64, prev: &mut PrevCputime) -> (u64, u64) {
    if prev.utime + prev.stime < rtime {
        let mut s = if stime == 0 {
            0
        } else if utime == 0 {
            rtime
        } else {
            (u128::from(stime) * u128::from(rtime) / (u128::from(stime) + u128::from(utime))).min(u128::from(rtime)) as u64
        };
        s = s.max(prev.stime);
        let mut u = rtime - s;
        if u < prev.utime {
            u = prev.utime;
            s = rtime - u;
        }
        (prev.utime, prev.stime) = (u, s);
    }
    (prev.utime, prev.stime)
}

/// The caller's user and system CPU time in nanoseconds (see the module doc).
pub(crate) fn cpu_times(t: &Task) -> (u64, u64) {
    const PROF: i32 = 0;
    const VIRT: i32 = 1;
    const SCHED: i32 = 2;
    let (stub, base) = (t.ctx.host_pid(), t.ctx.cpu_base());
    // Read SCHED last: the precise total then covers at least what the samples counted.
    let clock = |which| process_cpu_clock(stub, base, which);
    let sample = (|| Ok::<_, Errno>((clock(PROF)?, clock(VIRT)?, clock(SCHED)?)))();
    let Ok((prof, virt, rtime)) = sample else {
        // The stub is gone (the process is being killed): nothing newer to report.
        return with_entry(t, t.tgid, &t.sigq.process, |e| (e.cpu.utime, e.cpu.stime));
    };
    with_entry(t, t.tgid, &t.sigq.process, |e| {
        if e.cpu.stub != stub {
            e.cpu = PrevCputime { stub, ..Default::default() };
        }
        cputime_adjust(rtime, virt, prof.saturating_sub(virt), &mut e.cpu)
    })
}

fn timeval_bytes(ns: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
    b[8..].copy_from_slice(&(ns % 1_000_000_000 / 1000).to_le_bytes());
    b
}

/// A struct rusage with CPU times (user, system) in nanoseconds; the memory, fault, I/O and
/// switch counters read as 0.
pub(crate) fn rusage((utime, stime): (u64, u64)) -> [u8; 144] {
    let mut ru = [0u8; 144];
    ru[..16].copy_from_slice(&timeval_bytes(utime));
    ru[16..32].copy_from_slice(&timeval_bytes(stime));
    ru
}

fn sys_getrusage(t: &mut Task, a: [u64; 6]) -> SysResult {
    const RUSAGE_SELF: i32 = 0;
    const RUSAGE_CHILDREN: i32 = -1;
    const RUSAGE_THREAD: i32 = 1;
    let who = a[0] as i32;
    // The stub's usage is its process's: a thread's own is not read (RUSAGE_THREAD gives the
    // process's).
    let usage = match who {
        RUSAGE_SELF | RUSAGE_THREAD => cpu_times(t),
        RUSAGE_CHILDREN => t.kernel.procs.children_usage(t.tgid),
        _ => return Err(Errno::EINVAL),
    };
    t.mm.copy_out(a[1], &rusage(usage))?;
    Ok(0)
}

fn ticks(ns: u64) -> u64 {
    ns / (1_000_000_000 / USER_HZ)
}

fn sys_times(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] != 0 {
        let (utime, stime) = cpu_times(t);
        let (cutime, cstime) = t.kernel.procs.children_usage(t.tgid);
        // struct tms: utime, stime, cutime, cstime in clock ticks.
        let mut tms = [0u8; 32];
        for (i, v) in [utime, stime, cutime, cstime].into_iter().enumerate() {
            tms[i * 8..i * 8 + 8].copy_from_slice(&ticks(v).to_le_bytes());
        }
        t.mm.copy_out(a[0], &tms)?;
    }
    // Linux counts from INITIAL_JIFFIES, 5 minutes before 2^32 jiffies, so that a wrap shows
    // early; jiffies tick with CLOCK_MONOTONIC. Here at HZ = USER_HZ.
    const INITIAL_JIFFIES: u64 = (1 << 32) - 300 * USER_HZ;
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: now is a valid out-pointer.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } != 0 {
        return Err(last_errno());
    }
    Ok(INITIAL_JIFFIES + ticks(now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64))
}

fn sys_sysinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    // SAFETY: sysinfo is a plain struct; all zeros is a valid value.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: si is a valid out-pointer.
    if unsafe { libc::sysinfo(&mut si) } != 0 {
        return Err(last_errno());
    }
    let unit = u64::from(si.mem_unit.max(1));
    let bytes = |v: u64| v.saturating_mul(unit);
    let procs = t.kernel.processes.lock().unwrap_or_else(|e| e.into_inner()).len().min(usize::from(u16::MAX)) as u16;
    // struct sysinfo: uptime, loads[3], totalram, freeram, sharedram, bufferram, totalswap,
    // freeswap (longs from 0), procs (u16 at 80), totalhigh, freehigh (88, 96), mem_unit (104).
    let mut b = [0u8; 112];
    let longs = [si.uptime as u64, 0, 0, 0, bytes(si.totalram), bytes(si.freeram), bytes(si.sharedram), bytes(si.bufferram), bytes(si.totalswap), bytes(si.freeswap)];
    for (i, v) in longs.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    b[80..82].copy_from_slice(&procs.to_le_bytes());
    b[88..96].copy_from_slice(&bytes(si.totalhigh).to_le_bytes());
    b[96..104].copy_from_slice(&bytes(si.freehigh).to_le_bytes());
    b[104..108].copy_from_slice(&1u32.to_le_bytes());
    t.mm.copy_out(a[0], &b)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cputime_adjust_splits_and_never_goes_back() {
        let mut prev = PrevCputime::default();
        // 3:1 user to system over 8 ms of precise time.
        assert_eq!(cputime_adjust(8_000_000, 3_000_000, 1_000_000, &mut prev), (6_000_000, 2_000_000));
        // The samples now claim all system time: stime may only grow, utime not shrink.
        assert_eq!(cputime_adjust(9_000_000, 0, 4_000_000, &mut prev), (6_000_000, 3_000_000));
        // Less total than already reported: the old values stand.
        assert_eq!(cputime_adjust(1_000, 1, 1, &mut prev), (6_000_000, 3_000_000));
        // No system samples: all user.
        let mut fresh = PrevCputime::default();
        assert_eq!(cputime_adjust(5, 0, 0, &mut fresh), (5, 0));
    }

    #[test]
    fn reset_on_fork_drops_real_time_and_negative_nice() {
        let mut a = SchedAttr { nice: -5, policy: SCHED_FIFO, rt_priority: 10, reset_on_fork: true, affinity: vec![1] };
        let c = a.forked();
        assert_eq!((c.policy, c.rt_priority, c.nice, c.reset_on_fork), (SCHED_OTHER, 0, 0, false));
        a.policy = SCHED_BATCH;
        a.rt_priority = 0;
        let c = a.forked();
        assert_eq!((c.policy, c.nice), (SCHED_BATCH, 0));
        a.reset_on_fork = false;
        assert_eq!(a.forked(), a);
    }

    #[test]
    fn cpu_masks() {
        assert_eq!(nr_cpu_ids(&[0b1011]), 4);
        assert_eq!(nr_cpu_ids(&[1, 1]), 65);
        assert_eq!(first_cpu(&[0, 0b100]), 66);
        assert!(cpu_allowed(&[0b10], 1) && !cpu_allowed(&[0b10], 0) && !cpu_allowed(&[0b10], 64));
    }
}
