//! Interval timers that post signals: alarm and setitimer(ITIMER_REAL), and POSIX timers
//! (timer_create) on the wall or monotonic clock.
//!
//! One Sentry thread, started with the first timer, sleeps until the earliest deadline, posts
//! the timer's signal to its process and re-arms periodic timers. With no timer armed it
//! sleeps without a deadline, so idle sandboxes pay nothing.

use std::collections::HashMap;
use std::sync::{Condvar, LazyLock, Mutex};
use std::time::{Duration, Instant};

use super::signal::{SigInfo, Target};

/// The shortest period a timer fires at.
const MIN_PERIOD: Duration = Duration::from_micros(50);

/// Which timer: (process, slot). Slot 0 is ITIMER_REAL; POSIX timer N is slot N+1.
pub type TimerKey = (i32, i32);

struct Timer {
    /// The clock absolute settings are read against (CLOCK_REALTIME, CLOCK_MONOTONIC...).
    clock: i32,
    /// Next expiry, if armed.
    deadline: Option<Instant>,
    interval: Duration,
    /// Where the signal goes and what it says (None: SIGEV_NONE).
    target: Option<(Target, SigInfo)>,
    /// Expirations the signal could not carry since it was last delivered (timer_getoverrun).
    overrun: i32,
}

#[derive(Default)]
struct State {
    timers: HashMap<TimerKey, Timer>,
    thread_started: bool,
}

struct Timers {
    state: Mutex<State>,
    changed: Condvar,
}

static TIMERS: LazyLock<Timers> = LazyLock::new(|| Timers { state: Mutex::default(), changed: Condvar::new() });

fn lock() -> std::sync::MutexGuard<'static, State> {
    TIMERS.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Creates a disarmed POSIX timer of `pid` on `clock` that will post `target` (None:
/// SIGEV_NONE); `make_info` gets the new timer's id. Returns the id.
pub fn create(pid: i32, clock: i32, target: Option<Target>, make_info: impl FnOnce(i32) -> SigInfo) -> i32 {
    let mut s = lock();
    let id = (0..).find(|id| !s.timers.contains_key(&(pid, id + 1))).unwrap_or(0);
    let target = target.map(|q| (q, make_info(id)));
    s.timers.insert((pid, id + 1), Timer { clock, deadline: None, interval: Duration::ZERO, target, overrun: 0 });
    id
}

/// The clock of an existing timer.
pub fn clock(key: TimerKey) -> Option<i32> {
    lock().timers.get(&key).map(|t| t.clock)
}

/// Arms (`value` Some and non-zero) or disarms the timer; returns the old (time left,
/// interval). A timer that does not exist yet is created first with `target`.
pub fn set(key: TimerKey, value: Duration, interval: Duration, target: impl FnOnce() -> Option<(Target, SigInfo)>) -> (Duration, Duration) {
    let mut s = lock();
    let now = Instant::now();
    let t = s.timers.entry(key).or_insert_with(|| Timer { clock: libc::CLOCK_REALTIME, deadline: None, interval: Duration::ZERO, target: target(), overrun: 0 });
    let old = (t.deadline.map_or(Duration::ZERO, |d| d.saturating_duration_since(now)), t.interval);
    t.deadline = (!value.is_zero()).then(|| now + value.min(super::TIMER_FOREVER));
    // A shorter period would keep the timer thread busy; the expirations it would add are
    // merged into one pending signal anyway.
    t.interval = if interval.is_zero() { interval } else { interval.clamp(MIN_PERIOD, super::TIMER_FOREVER) };
    t.overrun = 0;
    let start = !s.thread_started;
    s.thread_started = true;
    drop(s);
    if start {
        let _ = std::thread::Builder::new().name("timers".into()).spawn(run);
    }
    TIMERS.changed.notify_all();
    old
}

/// (time left, interval) of the timer; zeros when disarmed or absent.
pub fn get(key: TimerKey) -> (Duration, Duration) {
    let now = Instant::now();
    lock().timers.get(&key).map_or((Duration::ZERO, Duration::ZERO), |t| (t.deadline.map_or(Duration::ZERO, |d| d.saturating_duration_since(now)), t.interval))
}

/// timer_getoverrun.
pub fn overrun(key: TimerKey) -> Option<i32> {
    lock().timers.get(&key).map(|t| t.overrun)
}

/// Deletes one timer; false if it did not exist.
pub fn delete(key: TimerKey) -> bool {
    lock().timers.remove(&key).is_some()
}

/// Deletes every timer of a process (it exited; or it exec'd, for POSIX timers).
pub fn delete_process(pid: i32, keep_itimer: bool) {
    lock().timers.retain(|&(p, slot), _| p != pid || (keep_itimer && slot == 0));
}

/// The timer thread.
fn run() {
    let mut s = lock();
    loop {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        for t in s.timers.values_mut() {
            let Some(d) = t.deadline else { continue };
            if d <= now {
                if let Some((q, info)) = &t.target {
                    if !q.post(*info) {
                        t.overrun = t.overrun.saturating_add(1);
                    }
                }
                if t.interval.is_zero() {
                    t.deadline = None;
                    continue;
                }
                // Periodic: the next expiry after now; the skipped ones count as overruns.
                let (period, late) = (t.interval.as_nanos(), (now - d).as_nanos());
                let missed = late / period;
                t.overrun = t.overrun.saturating_add(missed.min(i32::MAX as u128) as i32);
                let ahead = period * (missed + 1) - late;
                t.deadline = Some(now + Duration::from_nanos(ahead as u64));
            }
            if let Some(d) = t.deadline {
                next = Some(next.map_or(d, |n: Instant| n.min(d)));
            }
        }
        s = match next {
            None => TIMERS.changed.wait(s).unwrap_or_else(|e| e.into_inner()),
            Some(d) => TIMERS.changed.wait_timeout(s, d.saturating_duration_since(Instant::now())).unwrap_or_else(|e| e.into_inner()).0,
        };
    }
}
