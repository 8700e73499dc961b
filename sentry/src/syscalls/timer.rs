//! Timers that deliver signals: alarm, getitimer, setitimer (ITIMER_REAL), and POSIX timers
//! (timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete) with
//! SIGEV_SIGNAL, SIGEV_NONE and SIGEV_THREAD_ID. The timers themselves are kernel::timers.

use std::time::Duration;

use syscalls::structs::{Timespec, Timeval};
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::signal::{SigInfo, Target, SI_KERNEL};
use crate::kernel::{timers, Task};

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::ALARM, handler: sys_alarm, support: Support::Full, note: "" },
    Registration { nr: nr::GETITIMER, handler: sys_getitimer, support: Support::Partial, note: "ITIMER_REAL; ITIMER_VIRTUAL and ITIMER_PROF (CPU time) fail with EINVAL" },
    Registration { nr: nr::SETITIMER, handler: sys_setitimer, support: Support::Partial, note: "ITIMER_REAL; ITIMER_VIRTUAL and ITIMER_PROF (CPU time) fail with EINVAL" },
    Registration { nr: nr::TIMER_CREATE, handler: sys_timer_create, support: Support::Partial, note: "CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME; not CPU-time clocks" },
    Registration { nr: nr::TIMER_SETTIME, handler: sys_timer_settime, support: Support::Full, note: "" },
    Registration { nr: nr::TIMER_GETTIME, handler: sys_timer_gettime, support: Support::Full, note: "" },
    Registration { nr: nr::TIMER_GETOVERRUN, handler: sys_timer_getoverrun, support: Support::Full, note: "" },
    Registration { nr: nr::TIMER_DELETE, handler: sys_timer_delete, support: Support::Full, note: "" },
];

const ITIMER_REAL: u64 = 0;
const SI_TIMER: i32 = -2;

/// SIGALRM from the kernel, for alarm and ITIMER_REAL.
fn alarm_target(t: &Task) -> impl FnOnce() -> Option<(Target, SigInfo)> {
    let q = Target::Process(t.sigq.process.clone());
    move || Some((q, SigInfo::new(libc::SIGALRM, SI_KERNEL)))
}

fn sys_alarm(t: &mut Task, a: [u64; 6]) -> SysResult {
    let secs = u64::from(a[0] as u32);
    let (left, _) = timers::set((t.tgid, 0), Duration::from_secs(secs), Duration::ZERO, alarm_target(t));
    // As Linux: rounded to the nearest second, and never 0 while the old alarm was armed.
    let mut s = left.as_secs() + u64::from(left.subsec_micros() >= 500_000);
    if s == 0 && !left.is_zero() {
        s = 1;
    }
    Ok(s)
}

fn timeval(d: Duration) -> Timeval {
    Timeval { tv_sec: d.as_secs() as i64, tv_usec: i64::from(d.subsec_micros()) }
}

fn write_itimerval(t: &Task, addr: u64, (value, interval): (Duration, Duration)) -> Result<(), Errno> {
    t.mm.write_struct(addr, &timeval(interval))?;
    t.mm.write_struct(addr + 16, &timeval(value))
}

fn itimer_which(t: &Task, which: u64) -> Result<(), Errno> {
    match which {
        ITIMER_REAL => Ok(()),
        1 | 2 => {
            t.kernel.audit.unsupported_command("setitimer which", which);
            Err(Errno::EINVAL)
        }
        _ => Err(Errno::EINVAL),
    }
}

fn sys_getitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    itimer_which(t, a[0])?;
    write_itimerval(t, a[1], timers::get((t.tgid, 0))).map(|()| 0)
}

fn sys_setitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    itimer_which(t, a[0])?;
    let (value, interval) = if a[1] == 0 {
        // A NULL new value disarms, as Linux still allows.
        (Duration::ZERO, Duration::ZERO)
    } else {
        let dur = |tv: Timeval| {
            if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
                return Err(Errno::EINVAL);
            }
            Ok(Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000))
        };
        let interval = dur(t.mm.read_struct(a[1])?)?;
        (dur(t.mm.read_struct(a[1] + 16)?)?, interval)
    };
    let old = timers::set((t.tgid, 0), value, interval, alarm_target(t));
    if a[2] != 0 {
        write_itimerval(t, a[2], old)?;
    }
    Ok(0)
}

fn sys_timer_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    const SIGEV_SIGNAL: i32 = 0;
    const SIGEV_NONE: i32 = 1;
    const SIGEV_THREAD_ID: i32 = 4;
    let clock = a[0] as i32;
    if !matches!(clock, libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME) {
        if clock < 0 || clock == libc::CLOCK_PROCESS_CPUTIME_ID || clock == libc::CLOCK_THREAD_CPUTIME_ID {
            t.kernel.audit.unsupported_command("timer_create clock", a[0]);
        }
        return Err(Errno::EINVAL);
    }
    // sigevent: sigev_value @0, sigev_signo @8, sigev_notify @12, sigev_notify_thread_id @16.
    let (value, signo, target) = if a[1] == 0 {
        (None, libc::SIGALRM, Some(Target::Process(t.sigq.process.clone())))
    } else {
        let mut ev = [0u8; 20];
        t.mm.copy_in(a[1], &mut ev)?;
        let int = |o: usize| i32::from_le_bytes([ev[o], ev[o + 1], ev[o + 2], ev[o + 3]]);
        let notify = int(12);
        let target = match notify {
            SIGEV_NONE => None,
            SIGEV_SIGNAL => Some(Target::Process(t.sigq.process.clone())),
            // The thread must be in the caller's process.
            SIGEV_THREAD_ID => Some(Target::Thread(t.sigq.process.thread(int(16)).ok_or(Errno::EINVAL)?)),
            _ => return Err(Errno::EINVAL),
        };
        if notify != SIGEV_NONE && !(1..=64).contains(&int(8)) {
            return Err(Errno::EINVAL);
        }
        (Some(u64::from_le_bytes(ev[..8].try_into().unwrap_or_default())), int(8), target)
    };
    let id = timers::create(t.tgid, clock, target, |id| {
        let mut info = SigInfo::new(signo, SI_TIMER);
        info.0[16..20].copy_from_slice(&id.to_le_bytes());
        // Without a sigevent, the value is the timer id.
        info.0[24..32].copy_from_slice(&value.unwrap_or(id as u64).to_le_bytes());
        info
    });
    if let Err(e) = t.mm.copy_out(a[2], &id.to_le_bytes()) {
        timers::delete((t.tgid, id + 1));
        return Err(e);
    }
    Ok(0)
}

/// The key of the caller's timer `id` (EINVAL if it has none).
fn key(t: &Task, id: u64) -> Result<timers::TimerKey, Errno> {
    let id = i32::try_from(id).map_err(|_| Errno::EINVAL)?;
    let key = (t.tgid, id.checked_add(1).ok_or(Errno::EINVAL)?);
    timers::clock(key).map(|_| key).ok_or(Errno::EINVAL)
}

fn timespec(d: Duration) -> Timespec {
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: i64::from(d.subsec_nanos()) }
}

fn write_itimerspec(t: &Task, addr: u64, (value, interval): (Duration, Duration)) -> Result<(), Errno> {
    t.mm.write_struct(addr, &timespec(interval))?;
    t.mm.write_struct(addr + 16, &timespec(value))
}

fn sys_timer_settime(t: &mut Task, a: [u64; 6]) -> SysResult {
    const TIMER_ABSTIME: u64 = 1;
    let k = key(t, a[0])?;
    if a[1] & !TIMER_ABSTIME != 0 {
        return Err(Errno::EINVAL);
    }
    let interval = super::read_duration(t, a[2])?;
    let mut value = super::read_duration(t, a[2] + 16)?;
    if a[1] & TIMER_ABSTIME != 0 && !value.is_zero() {
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: a valid out-pointer; the clock was validated at timer_create.
        unsafe { libc::clock_gettime(timers::clock(k).unwrap_or(libc::CLOCK_MONOTONIC), &mut now) };
        // A time already past fires at once (the smallest non-zero delay).
        value = value.saturating_sub(Duration::new(now.tv_sec as u64, now.tv_nsec as u32)).max(Duration::from_nanos(1));
    }
    let old = timers::set(k, value, interval, || None);
    if a[3] != 0 {
        write_itimerspec(t, a[3], old)?;
    }
    Ok(0)
}

fn sys_timer_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let k = key(t, a[0])?;
    write_itimerspec(t, a[1], timers::get(k)).map(|()| 0)
}

fn sys_timer_getoverrun(t: &mut Task, a: [u64; 6]) -> SysResult {
    let k = key(t, a[0])?;
    Ok(timers::overrun(k).unwrap_or(0) as u64)
}

fn sys_timer_delete(t: &mut Task, a: [u64; 6]) -> SysResult {
    let k = key(t, a[0])?;
    timers::delete(k);
    Ok(0)
}
