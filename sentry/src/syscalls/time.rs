//! Clocks and sleeping: clock_gettime, clock_getres, gettimeofday, time, nanosleep,
//! clock_nanosleep. Wall and monotonic time are the host's; CPU-time clocks measure the
//! guest's own host thread.

use std::time::{Duration, Instant};

use syscalls::structs::{Timespec, Timeval, Timezone};
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::Task;
use crate::vfs::host::last_errno;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::CLOCK_GETTIME, handler: sys_clock_gettime, support: Support::Full, note: "served by the vDSO without a trap when the host TSC is invariant (REALTIME, MONOTONIC, BOOTTIME and their COARSE variants)" },
    Registration { nr: nr::CLOCK_GETRES, handler: sys_clock_getres, support: Support::Full, note: "" },
    Registration { nr: nr::GETTIMEOFDAY, handler: sys_gettimeofday, support: Support::Full, note: "served by the vDSO without a trap when the host TSC is invariant" },
    Registration { nr: nr::TIME, handler: sys_time, support: Support::Full, note: "served by the vDSO without a trap when the host TSC is invariant" },
    Registration { nr: nr::NANOSLEEP, handler: sys_nanosleep, support: Support::Partial, note: "a restart after a signal without a handler sleeps the whole request again" },
    Registration { nr: nr::CLOCK_NANOSLEEP, handler: sys_clock_nanosleep, support: Support::Partial, note: "not on CLOCK_PROCESS_CPUTIME_ID (EOPNOTSUPP)" },
];

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_TAI: i32 = 11;
const TIMER_ABSTIME: u64 = 1;

/// The host clock that serves guest clock `id`, or EINVAL.
fn host_clock(t: &Task, id: i32) -> Result<libc::clockid_t, Errno> {
    // CPU-time clocks encode a pid: ~pid << 3 | type (| 4 for one thread). The guest may name
    // only itself (pid 0 or its own id). The host clock is the process clock of the guest's
    // stub, a host process of its own: Linux lets a thread's clock be read only from within
    // its process, so a thread's clock is its process's (exact while it has had one thread)
    // unless the platform reads the thread's own (see sys_clock_gettime).
    let stub = t.ctx.host_pid();
    match id {
        0 | 1 | 4..=9 | 11 => Ok(id),
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => Ok((!stub << 3) | 2),
        _ if id < 0 => {
            let pid = !(id >> 3);
            if id & 7 == 7 || (pid != 0 && pid != t.tgid && pid != t.tid) {
                return Err(Errno::EINVAL);
            }
            Ok((!stub << 3) | (id & 3))
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Whether `id` is the calling thread's own scheduler CPU-time clock: CLOCK_THREAD_CPUTIME_ID,
/// or a per-thread clock (~tid << 3 | 4 | 2) naming the caller or 0.
fn own_thread_clock(t: &Task, id: i32) -> bool {
    const PER_THREAD_SCHED: i32 = 4 | 2;
    id == CLOCK_THREAD_CPUTIME_ID || (id < 0 && id & 7 == PER_THREAD_SCHED && [0, t.tid].contains(&!(id >> 3)))
}

fn host_now(clock: libc::clockid_t) -> Result<Timespec, Errno> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid out-pointer.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Err(last_errno());
    }
    Ok(Timespec { tv_sec: ts.tv_sec, tv_nsec: ts.tv_nsec })
}

fn sys_clock_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let id = a[0] as i32;
    let clock = host_clock(t, id)?;
    // The caller's own thread clock: the host thread's clock where the platform reads it (the
    // process's clock counts every thread the process has had).
    if own_thread_clock(t, id) {
        if let Some(d) = t.ctx.thread_cpu_time() {
            t.mm.write_struct(a[1], &Timespec { tv_sec: d.as_secs() as i64, tv_nsec: i64::from(d.subsec_nanos()) })?;
            return Ok(0);
        }
    }
    let now = if clock < 0 {
        // The stub's process clock, less what it counted for processes before this one.
        let ns = super::sched::process_cpu_clock(t.ctx.host_pid(), t.ctx.cpu_base(), clock & 3)?;
        Timespec { tv_sec: (ns / 1_000_000_000) as i64, tv_nsec: (ns % 1_000_000_000) as i64 }
    } else {
        host_now(clock)?
    };
    t.mm.write_struct(a[1], &now)?;
    Ok(0)
}

fn sys_clock_getres(t: &mut Task, a: [u64; 6]) -> SysResult {
    let clock = host_clock(t, a[0] as i32)?;
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid out-pointer.
    if unsafe { libc::clock_getres(clock, &mut ts) } != 0 {
        return Err(last_errno());
    }
    if a[1] != 0 {
        t.mm.write_struct(a[1], &Timespec { tv_sec: ts.tv_sec, tv_nsec: ts.tv_nsec })?;
    }
    Ok(0)
}

fn sys_gettimeofday(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] != 0 {
        let now = host_now(CLOCK_REALTIME)?;
        t.mm.write_struct(a[0], &Timeval { tv_sec: now.tv_sec, tv_usec: now.tv_nsec / 1000 })?;
    }
    if a[1] != 0 {
        t.mm.write_struct(a[1], &Timezone::default())?;
    }
    Ok(0)
}

fn sys_time(t: &mut Task, a: [u64; 6]) -> SysResult {
    let secs = host_now(CLOCK_REALTIME)?.tv_sec;
    if a[0] != 0 {
        t.mm.copy_out(a[0], &secs.to_le_bytes())?;
    }
    Ok(secs as u64)
}

/// Sleeps until `ts` (relative, or absolute on `clock` under TIMER_ABSTIME) or a signal the
/// task does not block. Interrupted, a relative sleep writes the time left to `rem` (if not 0)
/// and the call ends in EINTR once a handler runs.
fn sleep(t: &Task, clock: libc::clockid_t, flags: u64, req: Duration, rem: u64) -> SysResult {
    let absolute = flags & TIMER_ABSTIME != 0;
    let start = Instant::now();
    let wait = if absolute {
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: a valid out-pointer.
        unsafe { libc::clock_gettime(clock, &mut now) };
        req.saturating_sub(Duration::new(now.tv_sec.max(0) as u64, now.tv_nsec as u32))
    } else {
        req
    };
    if !t.sigq.wait(t.signals.mask, crate::kernel::deadline_in(wait)) {
        return Ok(0);
    }
    if !absolute && rem != 0 {
        let left = req.saturating_sub(start.elapsed());
        t.mm.write_struct(rem, &Timespec { tv_sec: left.as_secs() as i64, tv_nsec: i64::from(left.subsec_nanos()) })?;
    }
    Err(Errno::ERESTARTNOHAND)
}

fn sys_nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let req = super::read_duration(t, a[0])?;
    sleep(t, CLOCK_MONOTONIC, 0, req, a[1])
}

fn sys_clock_nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let id = a[0] as i32;
    // As Linux: these clocks can be slept on; the thread's own CPU clock cannot.
    let clock = match id {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI => id,
        // The process's CPU clock moves only while it runs: not a clock to sleep on here.
        CLOCK_PROCESS_CPUTIME_ID => return Err(Errno::EOPNOTSUPP),
        CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EINVAL),
        _ if id < 0 => return Err(Errno::EINVAL),
        _ => return Err(Errno::EOPNOTSUPP),
    };
    let req = super::read_duration(t, a[2])?;
    sleep(t, clock, a[1], req, a[3])
}

