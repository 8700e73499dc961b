//! futex: WAIT, WAKE and their BITSET forms. Waiters queue on a kernel-wide table keyed by the
//! futex word: the address within its address space for private futexes, the memory-file
//! offset for shared ones (so processes sharing memory meet on the same key).

use std::collections::HashMap;
use std::sync::{Arc, Condvar, LazyLock, Mutex};
use std::time::{Duration, Instant};

use syscalls::structs::Timespec;
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::signal::{self, Wake};
use crate::kernel::Task;

pub const HANDLERS: &[Registration] = &[Registration {
    nr: nr::FUTEX,
    handler: sys_futex,
    support: Support::Partial,
    note: "WAIT, WAKE, WAIT_BITSET, WAKE_BITSET (private and shared); no REQUEUE, WAKE_OP or PI yet",
}];

const FUTEX_WAIT: u64 = 0;
const FUTEX_WAKE: u64 = 1;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_PRIVATE_FLAG: u64 = 128;
const FUTEX_CLOCK_REALTIME: u64 = 256;

/// A futex word's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// (thread group, address): private futexes of one process.
    Private(i32, u64),
    /// Memory-file offset: shared futexes.
    Shared(u64),
}

struct Waiter {
    bits: u32,
    woken: Mutex<bool>,
    cv: Condvar,
}

impl Wake for Waiter {
    fn wake(&self) {
        drop(self.woken.lock().unwrap_or_else(|e| e.into_inner()));
        self.cv.notify_all();
    }
}

static TABLE: LazyLock<Mutex<HashMap<Key, Vec<Arc<Waiter>>>>> = LazyLock::new(Mutex::default);

fn key(t: &Task, addr: u64, private: bool) -> Result<Key, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    if private {
        return Ok(Key::Private(t.tgid, addr));
    }
    let mut segs = Vec::new();
    if t.mm.segments(addr, 4, crate::mm::Access::Read, &mut segs) < 4 {
        return Err(Errno::EFAULT);
    }
    let v = t.mm.find(addr).ok_or(Errno::EFAULT)?;
    Ok(Key::Shared(v.offset + (addr - v.start)))
}

fn sys_futex(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [addr, op, val, timeout, _uaddr2, val3] = a;
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bits = if cmd == FUTEX_WAIT { u32::MAX } else { val3 as u32 };
            if bits == 0 {
                return Err(Errno::EINVAL);
            }
            let deadline = if timeout == 0 {
                None
            } else {
                let ts: Timespec = t.mm.read_struct(timeout)?;
                if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
                    return Err(Errno::EINVAL);
                }
                let d = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
                if cmd == FUTEX_WAIT {
                    Some(Instant::now() + d)
                } else {
                    // WAIT_BITSET's timeout is absolute on the chosen clock.
                    let clock = if op & FUTEX_CLOCK_REALTIME != 0 { libc::CLOCK_REALTIME } else { libc::CLOCK_MONOTONIC };
                    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                    // SAFETY: a valid out-pointer.
                    unsafe { libc::clock_gettime(clock, &mut now) };
                    let now = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
                    Some(Instant::now() + d.saturating_sub(now))
                }
            };
            let k = key(t, addr, private)?;
            let waiter = Arc::new(Waiter { bits, woken: Mutex::new(false), cv: Condvar::new() });
            {
                // The value check and the enqueue happen under the table lock, which wakers
                // take too: a wake between the guest's store and our sleep is not lost.
                let mut table = TABLE.lock().unwrap_or_else(|e| e.into_inner());
                let mut word = [0u8; 4];
                t.mm.copy_in(addr, &mut word)?;
                if u32::from_le_bytes(word) != val as u32 {
                    return Err(Errno::EAGAIN);
                }
                table.entry(k).or_default().push(waiter.clone());
            }
            let wake: Arc<dyn Wake> = waiter.clone();
            let outcome = loop {
                let woken = waiter.woken.lock().unwrap_or_else(|e| e.into_inner());
                if *woken {
                    break Ok(0);
                }
                match signal::sleep_until(&waiter.cv, woken, &wake, deadline) {
                    Ok(Some(_)) => continue,
                    Ok(None) => break Err(Errno::ETIMEDOUT),
                    Err(e) => break Err(e),
                }
            };
            if outcome.is_err() {
                let mut table = TABLE.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(list) = table.get_mut(&k) {
                    list.retain(|w| !Arc::ptr_eq(w, &waiter));
                }
                // A wake that came meanwhile counts: it was taken from the queue for us.
                if *waiter.woken.lock().unwrap_or_else(|e| e.into_inner()) {
                    return Ok(0);
                }
            }
            outcome
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bits = if cmd == FUTEX_WAKE { u32::MAX } else { val3 as u32 };
            if bits == 0 {
                return Err(Errno::EINVAL);
            }
            let k = key(t, addr, private)?;
            let mut table = TABLE.lock().unwrap_or_else(|e| e.into_inner());
            let Some(list) = table.get_mut(&k) else { return Ok(0) };
            let mut n = 0u64;
            let max = (val as u32).min(i32::MAX as u32) as u64;
            list.retain(|w| {
                if n < max && w.bits & bits != 0 {
                    *w.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
                    w.cv.notify_one();
                    n += 1;
                    false
                } else {
                    true
                }
            });
            if list.is_empty() {
                table.remove(&k);
            }
            Ok(n)
        }
        _ => {
            t.kernel.audit.unsupported_command("futex", cmd);
            Err(Errno::ENOSYS)
        }
    }
}
