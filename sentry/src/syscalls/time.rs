//! Clocks and sleeping: clock_gettime, clock_getres, gettimeofday, time, nanosleep,
//! clock_nanosleep. Wall and monotonic time are the host's; CPU-time clocks measure the
//! guest's own host thread.

use syscalls::structs::{Timespec, Timeval, Timezone};
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::Task;
use crate::vfs::host::last_errno;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::CLOCK_GETTIME, handler: sys_clock_gettime, support: Support::Full, note: "" },
    Registration { nr: nr::CLOCK_GETRES, handler: sys_clock_getres, support: Support::Full, note: "" },
    Registration { nr: nr::GETTIMEOFDAY, handler: sys_gettimeofday, support: Support::Full, note: "" },
    Registration { nr: nr::TIME, handler: sys_time, support: Support::Full, note: "" },
    Registration { nr: nr::NANOSLEEP, handler: sys_nanosleep, support: Support::Partial, note: "not interruptible by signals yet" },
    Registration { nr: nr::CLOCK_NANOSLEEP, handler: sys_clock_nanosleep, support: Support::Partial, note: "not interruptible by signals yet" },
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
    // only itself (pid 0 or its own id); the host clock is that of the guest's host thread.
    let cpu_clock = |tid: i32| (!tid << 3) | 2 | 4;
    match id {
        0 | 1 | 4..=9 | 11 => Ok(id),
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => Ok(cpu_clock(t.ctx.host_tid())),
        _ if id < 0 => {
            let pid = !(id >> 3);
            if id & 7 == 7 || (pid != 0 && pid != t.tgid && pid != t.tid) {
                return Err(Errno::EINVAL);
            }
            Ok((!t.ctx.host_tid() << 3) | (id & 7))
        }
        _ => Err(Errno::EINVAL),
    }
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
    let now = host_now(host_clock(t, a[0] as i32)?)?;
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

/// Reads and validates a sleep request.
fn read_request(t: &Task, addr: u64) -> Result<Timespec, Errno> {
    let ts: Timespec = t.mm.read_struct(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(ts)
}

/// Sleeps on the host clock (the tracer thread waits; the guest is stopped meanwhile).
fn sleep(clock: libc::clockid_t, flags: u64, ts: Timespec) -> SysResult {
    let req = libc::timespec { tv_sec: ts.tv_sec, tv_nsec: ts.tv_nsec };
    let flags = if flags & TIMER_ABSTIME != 0 { libc::TIMER_ABSTIME } else { 0 };
    loop {
        // SAFETY: req is a valid timespec; no remainder is asked for.
        let r = unsafe { libc::clock_nanosleep(clock, flags, &req, std::ptr::null_mut()) };
        match r {
            0 => return Ok(0),
            // A host signal interrupted the Sentry, not the guest: an absolute sleep simply
            // resumes; a relative one is restarted in full (rare, and never shorter).
            libc::EINTR => continue,
            e => return Err(Errno::from_raw(e).unwrap_or(Errno::EINVAL)),
        }
    }
}

fn sys_nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ts = read_request(t, a[0])?;
    sleep(CLOCK_MONOTONIC, 0, ts)
}

fn sys_clock_nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let id = a[0] as i32;
    // As Linux: these clocks can be slept on; the thread's own CPU clock cannot.
    let clock = match id {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI => id,
        CLOCK_PROCESS_CPUTIME_ID => host_clock(t, id)?,
        CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EINVAL),
        _ if id < 0 => return Err(Errno::EINVAL),
        _ => return Err(Errno::EOPNOTSUPP),
    };
    let ts = read_request(t, a[2])?;
    sleep(clock, a[1], ts)
}

