//! A kernel-wide "something became ready" notifier for poll and select.
//!
//! Files whose readiness changes inside the Sentry (pipes, eventfds...) bump a generation and
//! wake waiters; a poller rechecks its descriptors after each wake. Host descriptors cannot
//! notify, so a poll that includes one also rechecks on a short period.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The notifier.
pub struct Events {
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    generation: u64,
    /// Pollers asleep: a notify with none makes no system call.
    sleepers: usize,
}

static EVENTS: Events = Events { state: Mutex::new(State { generation: 0, sleepers: 0 }), changed: Condvar::new() };

/// The kernel's notifier.
pub fn events() -> &'static Events {
    &EVENTS
}

impl Events {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Something became readable or writable.
    pub fn notify(&self) {
        let mut s = self.lock();
        s.generation += 1;
        let sleepers = s.sleepers > 0;
        drop(s);
        if sleepers {
            self.changed.notify_all();
        }
    }

    /// The current generation, read before checking readiness.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Waits until the generation moves past `seen` or `deadline` (None: forever) passes.
    pub fn wait(&self, seen: u64, deadline: Option<Instant>) {
        platform::systrap::blocking();
        let mut s = self.lock();
        s.sleepers += 1;
        while s.generation == seen {
            match deadline {
                None => s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break;
                    }
                    s = self.changed.wait_timeout(s, d - now).unwrap_or_else(|e| e.into_inner()).0;
                }
            }
        }
        s.sleepers -= 1;
    }
}

/// How often a poll over host descriptors rechecks them.
pub const HOST_POLL_PERIOD: Duration = Duration::from_millis(5);
