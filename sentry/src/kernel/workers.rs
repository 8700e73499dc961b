//! The host threads tasks run on. A thread whose task ended waits a while for the next task
//! before it exits, so a fork or clone wakes a thread instead of creating one (and a task's
//! end does not unmap a stack): on a small virtual machine, creating and starting a thread
//! costs tens of microseconds of a CPU the forking process is short of.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// What a thread runs: a task's whole life.
type Job = Box<dyn FnOnce() + Send>;

/// How long an idle thread waits for work before it exits.
const IDLE: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Pool {
    queue: Mutex<Queue>,
    work: Condvar,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<(String, Job)>,
    /// Threads waiting for a job.
    idle: usize,
}

static POOL: std::sync::LazyLock<Pool> = std::sync::LazyLock::new(Pool::default);

/// Runs `job` on a host thread named `name`: an idle one, or a new one. Fails only when no
/// thread could be created (the job is dropped then).
pub fn spawn(name: String, job: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    let mut q = POOL.queue.lock().unwrap_or_else(|e| e.into_inner());
    if q.idle > q.jobs.len() {
        q.jobs.push_back((name, Box::new(job)));
        drop(q);
        POOL.work.notify_one();
        return Ok(());
    }
    drop(q);
    let job: Job = Box::new(job);
    std::thread::Builder::new().name(name).spawn(move || serve(job)).map(drop)
}

/// A thread's life: its first job, then whatever comes while it waits.
fn serve(mut job: Job) {
    loop {
        job();
        let mut q = POOL.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.idle += 1;
        let next = loop {
            if let Some(next) = q.jobs.pop_front() {
                break Some(next);
            }
            let (guard, timeout) = POOL.work.wait_timeout(q, IDLE).unwrap_or_else(|e| e.into_inner());
            q = guard;
            if timeout.timed_out() && q.jobs.is_empty() {
                break None;
            }
        };
        q.idle -= 1;
        drop(q);
        let Some((name, next)) = next else { return };
        set_name(&name);
        job = next;
    }
}

/// Names the calling thread (as /proc and debuggers show it), cut to the 15 bytes Linux keeps.
fn set_name(name: &str) {
    let mut buf = [0u8; 16];
    let n = name.len().min(15);
    buf[..n].copy_from_slice(&name.as_bytes()[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes from `buf`.
    unsafe { libc::prctl(libc::PR_SET_NAME, buf.as_ptr()) };
}
