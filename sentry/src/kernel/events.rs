//! A kernel-wide "something became ready" notifier for poll and select.
//!
//! Files whose readiness changes inside the Sentry (pipes, eventfds...) bump a generation and
//! wake waiters; a poller rechecks its descriptors after each wake. Host descriptors cannot
//! notify, so a poll that includes one also rechecks on a short period.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// The notifier.
pub struct Events {
    generation: Mutex<u64>,
    changed: Condvar,
    /// Pollers asleep: a notify with none makes no system call.
    sleepers: AtomicUsize,
}

static EVENTS: Events = Events { generation: Mutex::new(0), changed: Condvar::new(), sleepers: AtomicUsize::new(0) };

/// The kernel's notifier.
pub fn events() -> &'static Events {
    &EVENTS
}

impl Events {
    /// Something became readable or writable.
    pub fn notify(&self) {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        // A sleeper counts itself under the lock before it checks the generation, so one
        // that missed this increment is counted by now.
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            self.changed.notify_all();
        }
    }

    /// The current generation, read before checking readiness.
    pub fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the generation moves past `seen` or `deadline` (None: forever) passes.
    pub fn wait(&self, seen: u64, deadline: Option<Instant>) {
        platform::systrap::blocking();
        let mut g = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let _counted = Counted(&self.sleepers);
        while *g == seen {
            match deadline {
                None => g = self.changed.wait(g).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return;
                    }
                    g = self.changed.wait_timeout(g, d - now).unwrap_or_else(|e| e.into_inner()).0;
                }
            }
        }
    }
}

/// Uncounts a sleeper however its wait ends.
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How often a poll over host descriptors rechecks them.
pub const HOST_POLL_PERIOD: Duration = Duration::from_millis(5);
