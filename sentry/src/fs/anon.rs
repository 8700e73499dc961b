//! Anonymous files: eventfd and timerfd.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

use syscalls::structs::Stat;
use syscalls::Errno;

use super::{copy_to_iov, gather_iov};
use crate::kernel::events::events;
use crate::kernel::signal::WaitCell;
use crate::vfs::FileOps;

fn anon_stat(ino: u64) -> Stat {
    Stat { st_dev: 0xd, st_ino: ino, st_nlink: 1, st_mode: 0o600, st_blksize: 4096, ..Stat::default() }
}

/// An eventfd: a 64-bit counter.
pub struct EventFd {
    count: Arc<WaitCell<u64>>,
    semaphore: bool,
    nonblock: AtomicBool,
}

impl EventFd {
    /// A new eventfd.
    pub fn new(init: u64, semaphore: bool, nonblock: bool) -> EventFd {
        EventFd { count: WaitCell::new(init), semaphore, nonblock: AtomicBool::new(nonblock) }
    }

    fn lock(&self) -> MutexGuard<'_, u64> {
        self.count.lock()
    }
}

const EVENTFD_MAX: u64 = u64::MAX - 1;

impl FileOps for EventFd {
    fn read(&self, iov: &[libc::iovec], _off: u64) -> Result<usize, Errno> {
        if iov.iter().map(|v| v.iov_len).sum::<usize>() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut c = self.lock();
        while *c == 0 {
            if self.nonblock.load(Ordering::Relaxed) {
                return Err(Errno::EAGAIN);
            }
            c = self.count.wait(c)?;
        }
        let v = if self.semaphore { 1 } else { *c };
        *c -= v;
        drop(c);
        self.count.notify_all();
        events().notify();
        Ok(copy_to_iov(&v.to_le_bytes(), 0, iov))
    }

    fn write(&self, iov: &[libc::iovec], _off: u64) -> Result<usize, Errno> {
        let mut b = Vec::new();
        gather_iov(iov, &mut b);
        if b.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let v = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        let mut c = self.lock();
        while EVENTFD_MAX - *c < v {
            if self.nonblock.load(Ordering::Relaxed) {
                return Err(Errno::EAGAIN);
            }
            c = self.count.wait(c)?;
        }
        *c += v;
        drop(c);
        self.count.notify_all();
        events().notify();
        Ok(8)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(anon_stat(1))
    }

    fn seekable(&self) -> bool {
        false
    }

    fn pollable(&self) -> bool {
        true
    }

    fn status_flags_changed(&self, flags: u32) {
        self.nonblock.store(flags & libc::O_NONBLOCK as u32 != 0, Ordering::Relaxed);
    }

    fn readiness(&self) -> u16 {
        let c = *self.lock();
        let mut r = 0;
        if c > 0 {
            r |= libc::POLLIN | libc::POLLRDNORM;
        }
        if c < EVENTFD_MAX {
            r |= libc::POLLOUT | libc::POLLWRNORM;
        }
        r as u16
    }
}

/// A timerfd: expirations counted against a host clock.
pub struct TimerFd {
    clock: libc::clockid_t,
    state: Arc<WaitCell<TimerState>>,
    nonblock: AtomicBool,
}

#[derive(Default)]
struct TimerState {
    /// Next expiry on the monotonic scale, if armed.
    next: Option<Instant>,
    interval: Duration,
    /// Expirations not yet read.
    pending: u64,
}

impl TimerState {
    /// Counts expirations up to now.
    fn advance(&mut self, now: Instant) {
        let Some(next) = self.next else { return };
        if now < next {
            return;
        }
        if self.interval.is_zero() {
            self.pending += 1;
            self.next = None;
        } else {
            let n = 1 + ((now - next).as_nanos() / self.interval.as_nanos()) as u64;
            self.pending += n;
            self.next = Some(next + self.interval * n as u32);
        }
    }
}

fn dur(ts: (i64, i64)) -> Duration {
    Duration::new(ts.0.max(0) as u64, ts.1.clamp(0, 999_999_999) as u32)
}

fn clock_now(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid out-pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    dur((ts.tv_sec, ts.tv_nsec))
}

impl TimerFd {
    /// A disarmed timer on `clock`.
    pub fn new(clock: libc::clockid_t, nonblock: bool) -> TimerFd {
        TimerFd { clock, state: WaitCell::new(TimerState::default()), nonblock: AtomicBool::new(nonblock) }
    }

    fn lock(&self) -> MutexGuard<'_, TimerState> {
        self.state.lock()
    }

    /// timerfd_settime: (value, interval) as (sec, nsec); returns the old setting.
    pub fn set(&self, value: (i64, i64), interval: (i64, i64), absolute: bool) -> ((i64, i64), (i64, i64)) {
        let old = self.get();
        let mut s = self.lock();
        let now = Instant::now();
        s.pending = 0;
        let forever = crate::kernel::TIMER_FOREVER;
        s.interval = dur(interval).min(forever);
        s.next = if value == (0, 0) {
            None
        } else if absolute {
            Some(now + dur(value).saturating_sub(clock_now(self.clock)).min(forever))
        } else {
            Some(now + dur(value).min(forever))
        };
        old
    }

    /// timerfd_gettime: time to the next expiry and the interval.
    pub fn get(&self) -> ((i64, i64), (i64, i64)) {
        let mut s = self.lock();
        let now = Instant::now();
        s.advance(now);
        let left = s.next.map_or(Duration::ZERO, |n| n.saturating_duration_since(now));
        let as_ts = |d: Duration| (d.as_secs() as i64, i64::from(d.subsec_nanos()));
        (as_ts(left), as_ts(s.interval))
    }
}

impl FileOps for TimerFd {
    fn read(&self, iov: &[libc::iovec], _off: u64) -> Result<usize, Errno> {
        if iov.iter().map(|v| v.iov_len).sum::<usize>() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut s = self.lock();
        loop {
            let now = Instant::now();
            s.advance(now);
            if s.pending > 0 {
                let n = std::mem::take(&mut s.pending);
                return Ok(copy_to_iov(&n.to_le_bytes(), 0, iov));
            }
            if self.nonblock.load(Ordering::Relaxed) {
                return Err(Errno::EAGAIN);
            }
            // A disarmed timer blocks until another thread arms it, as on Linux.
            let next = s.next;
            s = match self.state.wait_until(s, next)? {
                Some(s) => s,
                None => self.lock(),
            };
        }
    }

    fn write(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(anon_stat(2))
    }

    fn seekable(&self) -> bool {
        false
    }

    fn pollable(&self) -> bool {
        true
    }

    fn status_flags_changed(&self, flags: u32) {
        self.nonblock.store(flags & libc::O_NONBLOCK as u32 != 0, Ordering::Relaxed);
    }

    fn readiness(&self) -> u16 {
        let mut s = self.lock();
        s.advance(Instant::now());
        if s.pending > 0 { (libc::POLLIN | libc::POLLRDNORM) as u16 } else { 0 }
    }

    fn polled_readiness(&self) -> bool {
        true
    }
}
