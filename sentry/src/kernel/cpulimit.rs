//! RLIMIT_CPU: a process whose CPU time (user and system, of its stub) passes its soft limit
//! gets SIGXCPU, and again each further second, as in Linux; past the hard limit, SIGKILL. A
//! Sentry thread samples the processes that have a finite limit ten times a second, so a
//! guest computing without system calls is caught too.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use syscalls::structs::Rlimit;

use super::signal::{SigInfo, SignalQueue, SI_KERNEL};

/// One process under a finite RLIMIT_CPU.
struct Watch {
    process: Arc<SignalQueue>,
    /// The stub's host pid, whose process CPU clock is the guest's, and the clocks' readings
    /// when the stub was given to the process (Context::cpu_base).
    stub: i32,
    base: [u64; 3],
    hard: u64,
    /// The CPU second at which the next SIGXCPU is due.
    next_warning: u64,
}

#[derive(Default)]
struct State {
    watches: BTreeMap<i32, Watch>,
    running: bool,
}

static STATE: LazyLock<(Mutex<State>, Condvar)> = LazyLock::new(Default::default);

fn state() -> MutexGuard<'static, State> {
    STATE.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// Process `pid` (stub `stub`, whose clocks read `base` when it became the process's) has
/// `limit`: watched while the limit is finite.
pub fn set(pid: i32, stub: i32, base: [u64; 3], process: &Arc<SignalQueue>, limit: Rlimit) {
    let mut s = state();
    if limit.rlim_cur == u64::MAX && limit.rlim_max == u64::MAX {
        s.watches.remove(&pid);
        return;
    }
    s.watches.insert(pid, Watch { process: process.clone(), stub, base, hard: limit.rlim_max, next_warning: limit.rlim_cur });
    if !s.running {
        s.running = true;
        if std::thread::Builder::new().name("cpu-limits".into()).spawn(run).is_err() {
            s.running = false;
            tracing::warn!("no thread for RLIMIT_CPU: limits are not enforced");
        }
    }
    STATE.1.notify_all();
}

/// Process `pid` ended.
pub fn forget(pid: i32) {
    state().watches.remove(&pid);
}

/// The stub's CPU time (user + system, CPUCLOCK_PROF) in whole seconds.
fn cpu_seconds(stub: i32, base: [u64; 3]) -> Option<u64> {
    crate::syscalls::sched::process_cpu_clock(stub, base, 0).ok().map(|ns| ns / 1_000_000_000)
}

fn run() {
    let mut s = state();
    loop {
        while s.watches.is_empty() {
            s = STATE.1.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        for w in s.watches.values_mut() {
            let Some(used) = cpu_seconds(w.stub, w.base) else { continue };
            if used >= w.hard {
                w.process.post(SigInfo::new(libc::SIGKILL, SI_KERNEL));
            } else if used >= w.next_warning {
                w.process.post(SigInfo::new(libc::SIGXCPU, SI_KERNEL));
                w.next_warning = used + 1;
            }
        }
        s = STATE.1.wait_timeout(s, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
    }
}
