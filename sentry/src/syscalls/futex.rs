//! futex: WAIT, WAKE and their BITSET forms, REQUEUE and CMP_REQUEUE, WAKE_OP, the PI lock
//! operations (LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI), get_robust_list, and the robust-list
//! walk a task's exit owes the futexes it holds ([`exit_robust_list`]).
//!
//! Waiters queue on a kernel-wide table keyed by the futex word: the address within its address
//! space for private futexes and for non-shared memory, the memory-file offset for MAP_SHARED
//! memory (so processes sharing memory meet on the same key). A waiter records the key it is
//! queued on, since REQUEUE moves it; it removes itself under that key after a timeout or a
//! signal. Words the kernel must change atomically (WAKE_OP, the PI protocol, robust-list
//! cleanup) are changed with atomic instructions on the Sentry's mapping of the memory file,
//! which guest threads see coherently through their own mappings of it.
//!
//! PI futexes follow Linux's word protocol (owner TID, FUTEX_WAITERS, FUTEX_OWNER_DIED) and hand
//! the lock over in FIFO order; there is no priority inheritance, as there are no scheduler
//! priorities to inherit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use syscalls::structs::Timespec;
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::signal::{self, Wake};
use crate::kernel::Task;
use crate::mm::Access;

pub const HANDLERS: &[Registration] = &[
    Registration {
        nr: nr::FUTEX,
        handler: sys_futex,
        support: Support::Partial,
        note: "WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE, WAKE_OP, LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI (private and shared); \
               PI locks hand over FIFO without priority inheritance, and pass on when their owner dies; \
               WAIT_REQUEUE_PI and CMP_REQUEUE_PI: ENOSYS",
    },
    Registration {
        nr: nr::GET_ROBUST_LIST,
        handler: sys_get_robust_list,
        support: Support::Partial,
        note: "the caller's own list (pid 0 or its own); another live thread's: EPERM",
    },
];

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_LOCK_PI: u32 = 6;
const FUTEX_UNLOCK_PI: u32 = 7;
const FUTEX_TRYLOCK_PI: u32 = 8;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_WAIT_REQUEUE_PI: u32 = 11;
const FUTEX_CMP_REQUEUE_PI: u32 = 12;
const FUTEX_LOCK_PI2: u32 = 13;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;

/// The owner's TID in a PI or robust futex word.
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
/// Someone waits (or waited) in the kernel: unlocking must go through it.
const FUTEX_WAITERS: u32 = 0x8000_0000;
/// The owner died holding the lock.
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;

/// WAKE_OP: the operand is a shift count (1 << oparg).
const FUTEX_OP_OPARG_SHIFT: u32 = 8;

/// How many robust-list entries an exit walks at most (Linux's ROBUST_LIST_LIMIT).
const ROBUST_LIST_LIMIT: u32 = 2048;
/// sizeof(struct robust_list_head).
const ROBUST_LIST_HEAD_SIZE: u64 = 24;

/// How often a LOCK_PI waiter checks that the owner still lives: an owner that dies without
/// unlocking passes the lock on, as Linux's exit_pi_state_list does.
const PI_OWNER_CHECK: Duration = Duration::from_millis(50);

/// A futex word's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// (thread group, address): private futexes, and futexes in memory no one shares.
    Private(i32, u64),
    /// Memory-file offset: futexes in MAP_SHARED memory.
    Shared(u64),
}

struct WaitState {
    /// Taken off the queue by a waker; for a PI waiter, handed the lock.
    woken: bool,
    /// The queue the waiter is on now (REQUEUE moves it). Changed only under the table lock.
    key: Key,
}

struct Waiter {
    bits: u32,
    /// Blocked in LOCK_PI: plain wakes refuse it (EINVAL), UNLOCK_PI hands it the lock.
    pi: bool,
    /// The waiting task's TID, written into the word when it is handed a PI lock.
    tid: u32,
    state: Mutex<WaitState>,
    cv: Condvar,
}

impl Waiter {
    fn new(key: Key, bits: u32, pi: bool, tid: u32) -> Arc<Waiter> {
        Arc::new(Waiter { bits, pi, tid, state: Mutex::new(WaitState { woken: false, key }), cv: Condvar::new() })
    }

    fn lock(&self) -> MutexGuard<'_, WaitState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the waiter woken (it has left its queue) and wakes its task.
    fn wake_up(&self) {
        self.lock().woken = true;
        self.cv.notify_one();
    }
}

impl Wake for Waiter {
    fn wake(&self) {
        drop(self.lock());
        self.cv.notify_all();
    }
}

type Table = HashMap<Key, Vec<Arc<Waiter>>>;

static TABLE: LazyLock<Mutex<Table>> = LazyLock::new(Mutex::default);

fn table() -> MutexGuard<'static, Table> {
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes `w` from the queue it is on now (the caller holds the table lock).
fn dequeue(table: &mut Table, w: &Arc<Waiter>) {
    let k = w.lock().key;
    if let Some(list) = table.get_mut(&k) {
        list.retain(|x| !Arc::ptr_eq(x, w));
        if list.is_empty() {
            table.remove(&k);
        }
    }
}

/// The key of the futex word at `addr`, as Linux's get_futex_key: EINVAL unless aligned,
/// EFAULT outside user space or (for a shared futex) unless the word is mapped.
fn key(t: &Task, addr: u64, private: bool) -> Result<Key, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    if addr.checked_add(4).is_none_or(|end| end > crate::mm::TASK_SIZE) {
        return Err(Errno::EFAULT);
    }
    if private {
        return Ok(Key::Private(t.tgid, addr));
    }
    let mut segs = Vec::new();
    if t.mm.segments(addr, 4, Access::Read, &mut segs) < 4 {
        return Err(Errno::EFAULT);
    }
    let v = t.mm.find(addr).ok_or(Errno::EFAULT)?;
    // A shared futex in memory no other address space maps is the private one (Linux keys it
    // by mm and address too), so FUTEX_WAKE and FUTEX_WAKE_PRIVATE meet there.
    Ok(match v.shared {
        Some(_) => Key::Shared(v.offset + (addr - v.start)),
        None => Key::Private(t.tgid, addr),
    })
}

/// The guest word at `addr` as an atomic, through the Sentry's mapping of the memory file.
/// EFAULT unless the 4 bytes are mapped writable.
fn atomic_word(t: &Task, addr: u64) -> Result<&AtomicU32, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let mut segs = Vec::with_capacity(1);
    if t.mm.segments(addr, 4, Access::Write, &mut segs) < 4 || segs.len() != 1 {
        return Err(Errno::EFAULT);
    }
    let p = segs[0].iov_base.cast::<u32>();
    // SAFETY: `p` points at 4 bytes of the Sentry's mapping of the memory file (segments
    // translated it through a writable VMA), which stays mapped for as long as the memory file,
    // which the task's MemoryManager keeps alive for the borrow's lifetime. It is 4-aligned:
    // the address is, and VMAs map page-aligned file offsets at page-aligned addresses. Guest
    // threads share the word, so it is only ever accessed atomically here.
    Ok(unsafe { AtomicU32::from_ptr(p) })
}

/// Reads the guest word at `addr` (EFAULT unless readable).
fn read_word(t: &Task, addr: u64) -> Result<u32, Errno> {
    let mut b = [0u8; 4];
    t.mm.copy_in(addr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// Wakes up to `nr` plain waiters of `k` whose bitset meets `bits`. As in Linux, a count of 0 or
/// less still wakes one, and meeting a PI waiter is EINVAL (after waking those before it).
fn wake_key(table: &mut Table, k: Key, nr: i32, bits: u32) -> Result<u64, Errno> {
    let Some(list) = table.get_mut(&k) else { return Ok(0) };
    let mut n = 0i32;
    let mut i = 0;
    let mut result = Ok(());
    while i < list.len() {
        let w = &list[i];
        if w.pi {
            result = Err(Errno::EINVAL);
            break;
        }
        if w.bits & bits == 0 {
            i += 1;
            continue;
        }
        list.remove(i).wake_up();
        n += 1;
        if n >= nr {
            break;
        }
    }
    if list.is_empty() {
        table.remove(&k);
    }
    result.map(|()| n as u64)
}

/// Whether a task with this TID lives.
fn task_alive(t: &Task, tid: u32) -> bool {
    i32::try_from(tid).is_ok_and(|tid| t.kernel.procs.thread(tid).is_some())
}

/// Wakes up to `n` waiters of the futex word at `addr` as a non-private FUTEX_WAKE would: a
/// thread's exit for its clear_child_tid word (as Linux's mm_release) and its robust futexes.
pub fn wake(t: &Task, addr: u64, n: i32) {
    if let Ok(k) = key(t, addr, false) {
        let _ = wake_key(&mut table(), k, n, u32::MAX);
    }
}

/// Time `d` on `clock` as an Instant: the deadline of an absolute timeout (None: never).
fn absolute_deadline(clock: libc::clockid_t, d: Duration) -> Option<Instant> {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid out-pointer.
    unsafe { libc::clock_gettime(clock, &mut now) };
    let now = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
    crate::kernel::deadline_in(d.saturating_sub(now))
}

fn sys_futex(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [addr, op, val, timeout, uaddr2, val3] = a;
    // op, val and val3 are ints; the timeout slot doubles as the u32 val2 of the counting ops.
    let (op, val, val2, val3) = (op as u32, val as u32, timeout as u32, val3 as u32);
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

    // The timeout is read and checked before anything else, as the syscall entry does.
    let has_timeout = matches!(cmd, FUTEX_WAIT | FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI);
    let deadline = if timeout != 0 && has_timeout {
        let ts: Timespec = t.mm.read_struct(timeout)?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return Err(Errno::EINVAL);
        }
        let d = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        match cmd {
            // FUTEX_WAIT's timeout is relative; the others' absolute, LOCK_PI's on
            // CLOCK_REALTIME, the rest on CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME says.
            FUTEX_WAIT => crate::kernel::deadline_in(d),
            FUTEX_LOCK_PI => absolute_deadline(libc::CLOCK_REALTIME, d),
            _ if realtime => absolute_deadline(libc::CLOCK_REALTIME, d),
            _ => absolute_deadline(libc::CLOCK_MONOTONIC, d),
        }
    } else {
        None
    };
    if realtime && !matches!(cmd, FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2) {
        return Err(Errno::ENOSYS);
    }

    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bits = if cmd == FUTEX_WAIT { u32::MAX } else { val3 };
            futex_wait(t, addr, private, val, bits, deadline)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bits = if cmd == FUTEX_WAKE { u32::MAX } else { val3 };
            if bits == 0 {
                return Err(Errno::EINVAL);
            }
            let k = key(t, addr, private)?;
            wake_key(&mut table(), k, val as i32, bits)
        }
        FUTEX_REQUEUE => futex_requeue(t, addr, uaddr2, private, val as i32, val2 as i32, None),
        FUTEX_CMP_REQUEUE => futex_requeue(t, addr, uaddr2, private, val as i32, val2 as i32, Some(val3)),
        FUTEX_WAKE_OP => futex_wake_op(t, addr, uaddr2, private, val as i32, val2 as i32, val3),
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 => futex_lock_pi(t, addr, private, deadline, false),
        FUTEX_TRYLOCK_PI => futex_lock_pi(t, addr, private, None, true),
        FUTEX_UNLOCK_PI => futex_unlock_pi(t, addr, private),
        FUTEX_WAIT_REQUEUE_PI | FUTEX_CMP_REQUEUE_PI => {
            t.kernel.audit.unsupported_command("futex op", u64::from(cmd));
            Err(Errno::ENOSYS)
        }
        // Linux's answer to an op it does not know; counted, in case a newer kernel knows it.
        _ => {
            t.kernel.audit.unsupported_command("futex op", u64::from(cmd));
            Err(Errno::ENOSYS)
        }
    }
}

fn futex_wait(t: &Task, addr: u64, private: bool, val: u32, bits: u32, deadline: Option<Instant>) -> SysResult {
    if bits == 0 {
        return Err(Errno::EINVAL);
    }
    let k = key(t, addr, private)?;
    let waiter = Waiter::new(k, bits, false, t.tid as u32);
    {
        // The value check and the enqueue happen under the table lock, which wakers take
        // too: a wake between the guest's store and our sleep is not lost.
        let mut table = table();
        if read_word(t, addr)? != val {
            return Err(Errno::EAGAIN);
        }
        table.entry(k).or_default().push(waiter.clone());
    }
    let wake: Arc<dyn Wake> = waiter.clone();
    let outcome = loop {
        let st = waiter.lock();
        if st.woken {
            break Ok(0);
        }
        match signal::sleep_until(&waiter.cv, st, &wake, deadline) {
            Ok(Some(_)) => continue,
            Ok(None) => break Err(Errno::ETIMEDOUT),
            Err(e) => break Err(e),
        }
    };
    if outcome.is_err() {
        let mut table = table();
        // A wake that came meanwhile counts: it took us off the queue.
        if waiter.lock().woken {
            return Ok(0);
        }
        dequeue(&mut table, &waiter);
    }
    outcome
}

/// REQUEUE and CMP_REQUEUE: wakes up to `nr_wake` waiters of `addr` and moves up to
/// `nr_requeue` more to `addr2`'s queue. Returns how many were woken or moved.
fn futex_requeue(t: &Task, addr: u64, addr2: u64, private: bool, nr_wake: i32, nr_requeue: i32, cmp: Option<u32>) -> SysResult {
    if nr_wake < 0 || nr_requeue < 0 {
        return Err(Errno::EINVAL);
    }
    let k1 = key(t, addr, private)?;
    let k2 = key(t, addr2, private)?;
    let mut table = table();
    if let Some(expected) = cmp {
        if read_word(t, addr)? != expected {
            return Err(Errno::EAGAIN);
        }
    }
    let Some(mut list) = table.remove(&k1) else { return Ok(0) };
    let (nr_wake, nr_requeue) = (i64::from(nr_wake), i64::from(nr_requeue));
    let mut count = 0i64;
    let mut kept = Vec::with_capacity(list.len());
    let mut moved = Vec::new();
    let mut result = Ok(());
    let mut rest = list.drain(..);
    for w in rest.by_ref() {
        if count - nr_wake >= nr_requeue {
            kept.push(w);
            break;
        }
        if w.pi {
            result = Err(Errno::EINVAL);
            kept.push(w);
            break;
        }
        count += 1;
        if count <= nr_wake {
            w.wake_up();
        } else if k1 == k2 {
            kept.push(w);
        } else {
            w.lock().key = k2;
            moved.push(w);
        }
    }
    kept.extend(rest);
    if !kept.is_empty() {
        table.insert(k1, kept);
    }
    if !moved.is_empty() {
        table.entry(k2).or_default().extend(moved);
    }
    result.map(|()| count as u64)
}

/// WAKE_OP: atomically applies the encoded operation to `*addr2`, wakes up to `nr_wake` waiters
/// of `addr` and, if the old value of `*addr2` passes the encoded comparison, up to `nr_wake2`
/// waiters of `addr2`.
fn futex_wake_op(t: &Task, addr: u64, addr2: u64, private: bool, nr_wake: i32, nr_wake2: i32, encoded: u32) -> SysResult {
    let k1 = key(t, addr, private)?;
    let k2 = key(t, addr2, private)?;
    let op = (encoded >> 28) & 7;
    let cmp = (encoded >> 24) & 15;
    // 12-bit two's-complement fields.
    let mut oparg = (((encoded >> 12) & 0xfff) << 20) as i32 >> 20;
    let cmparg = ((encoded & 0xfff) << 20) as i32 >> 20;
    if encoded & (FUTEX_OP_OPARG_SHIFT << 28) != 0 {
        // Linux masks an out-of-range shift (and logs that the program should be fixed).
        oparg = 1 << (oparg & 31);
    }
    let oparg = oparg as u32;
    // FUTEX_OP_SET, ADD, OR, ANDN, XOR; anything else fails before memory is touched.
    if op > 4 {
        return Err(Errno::ENOSYS);
    }
    let mut table = table();
    let word = atomic_word(t, addr2)?;
    let old = match op {
        0 => word.swap(oparg, Ordering::SeqCst),
        1 => word.fetch_add(oparg, Ordering::SeqCst),
        2 => word.fetch_or(oparg, Ordering::SeqCst),
        3 => word.fetch_and(!oparg, Ordering::SeqCst),
        _ => word.fetch_xor(oparg, Ordering::SeqCst),
    } as i32;
    // FUTEX_OP_CMP_EQ, NE, LT, LE, GT, GE.
    let wake2 = match cmp {
        0 => old == cmparg,
        1 => old != cmparg,
        2 => old < cmparg,
        3 => old <= cmparg,
        4 => old > cmparg,
        5 => old >= cmparg,
        // An unknown comparison is noticed after the store, as in Linux.
        _ => return Err(Errno::ENOSYS),
    };
    let mut n = wake_key(&mut table, k1, nr_wake, u32::MAX)?;
    if wake2 {
        n += wake_key(&mut table, k2, nr_wake2, u32::MAX)?;
    }
    Ok(n)
}

/// What one look at a PI futex word under the table lock decided.
enum PiStep {
    /// The caller owns the lock now.
    Acquired,
    /// The word changed under us: look again.
    Retry,
    /// The caller is queued and must sleep.
    Queued,
}

/// LOCK_PI, LOCK_PI2 and TRYLOCK_PI.
fn futex_lock_pi(t: &Task, addr: u64, private: bool, deadline: Option<Instant>, trylock: bool) -> SysResult {
    let k = key(t, addr, private)?;
    let tid = t.tid as u32;
    let waiter = Waiter::new(k, u32::MAX, true, tid);
    loop {
        let mut table = table();
        let word = atomic_word(t, addr)?;
        let uval = word.load(Ordering::SeqCst);
        let owner = uval & FUTEX_TID_MASK;
        if owner == tid {
            return Err(Errno::EDEADLK);
        }
        let waiters = table.get(&k).is_some_and(|l| l.iter().any(|w| w.pi));
        let step = if owner == 0 {
            // Free (perhaps with OWNER_DIED, which the new owner must see): take it. The
            // WAITERS bit stays set while others wait, so the unlock comes to us.
            let newval = (uval & FUTEX_OWNER_DIED) | tid | if waiters { FUTEX_WAITERS } else { 0 };
            if word.compare_exchange(uval, newval, Ordering::SeqCst, Ordering::SeqCst).is_ok() { PiStep::Acquired } else { PiStep::Retry }
        } else if word.compare_exchange(uval, uval | FUTEX_WAITERS, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            PiStep::Retry
        } else if !waiters && !task_alive(t, owner) {
            // The word names an owner that is gone and left no robust-list cleanup behind:
            // Linux gives up (keeping the WAITERS bit it set) and tells the caller.
            return Err(Errno::ESRCH);
        } else if trylock {
            return Err(Errno::EAGAIN);
        } else {
            table.entry(k).or_default().push(waiter.clone());
            PiStep::Queued
        };
        match step {
            PiStep::Acquired => return Ok(0),
            PiStep::Retry => continue,
            PiStep::Queued => break,
        }
    }

    let wake: Arc<dyn Wake> = waiter.clone();
    loop {
        let st = waiter.lock();
        if st.woken {
            return Ok(0);
        }
        // Sleep in slices so that an owner who dies holding the lock is noticed.
        let slice = Instant::now() + PI_OWNER_CHECK;
        let until = deadline.map_or(slice, |d| d.min(slice));
        // The guard goes before the table lock is taken (lock order: table, then waiter).
        let slept = signal::sleep_until(&waiter.cv, st, &wake, Some(until)).map(|g| g.is_some());
        let mut table = table();
        if waiter.lock().woken {
            // Handed the lock, whatever else happened.
            return Ok(0);
        }
        let fail = match slept {
            Err(_) => Some(Errno::ERESTARTNOINTR),
            Ok(false) if deadline.is_some_and(|d| Instant::now() >= d) => Some(Errno::ETIMEDOUT),
            Ok(_) => None,
        };
        if let Some(e) = fail {
            // The WAITERS bit stays: the owner's unlock comes to the kernel and finds no one.
            dequeue(&mut table, &waiter);
            return Err(e);
        }
        // Take the lock over if its owner is gone (or the word was freed behind our back),
        // as the first waiter does in Linux when the owner's exit releases its PI state.
        let Ok(word) = atomic_word(t, addr) else { continue };
        let uval = word.load(Ordering::SeqCst);
        let owner = uval & FUTEX_TID_MASK;
        if owner == 0 || !task_alive(t, owner) {
            let newval = (uval & FUTEX_OWNER_DIED) | tid | FUTEX_WAITERS;
            if word.compare_exchange(uval, newval, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                dequeue(&mut table, &waiter);
                return Ok(0);
            }
        }
    }
}

/// UNLOCK_PI: the owner releases the lock, handing it to the first waiter if there is one.
fn futex_unlock_pi(t: &Task, addr: u64, private: bool) -> SysResult {
    let tid = t.tid as u32;
    // Linux reads the word (and checks the owner) before it looks at the address's alignment.
    if read_word(t, addr)? & FUTEX_TID_MASK != tid {
        return Err(Errno::EPERM);
    }
    let k = key(t, addr, private)?;
    let mut table = table();
    let word = atomic_word(t, addr)?;
    loop {
        let uval = word.load(Ordering::SeqCst);
        if uval & FUTEX_TID_MASK != tid {
            return Err(Errno::EPERM);
        }
        let next = table.get_mut(&k).and_then(|l| {
            let i = l.iter().position(|w| w.pi)?;
            Some((l, i))
        });
        let Some((list, i)) = next else {
            // No one waits: the word goes to 0, WAITERS and OWNER_DIED included. If the guest
            // changed it meanwhile, it is the guest's to sort out.
            return match word.compare_exchange(uval, 0, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => Ok(0),
                Err(_) => Err(Errno::EAGAIN),
            };
        };
        let newval = FUTEX_WAITERS | list[i].tid;
        if word.compare_exchange(uval, newval, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            continue;
        }
        // The new owner's word keeps WAITERS (as Linux's does), so its unlock comes here.
        list.remove(i).wake_up();
        if list.is_empty() {
            table.remove(&k);
        }
        return Ok(0);
    }
}

fn sys_get_robust_list(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [pid, head_ptr, len_ptr, ..] = a;
    let pid = pid as i32;
    if pid != 0 && pid != t.tid {
        if pid < 0 || t.kernel.procs.thread(pid).is_none() {
            return Err(Errno::ESRCH);
        }
        // Another thread's list lives in its own Task, out of reach from here.
        t.kernel.audit.unsupported_command("get_robust_list of another thread", 0);
        return Err(Errno::EPERM);
    }
    // Linux reports the size of the head, whatever length was registered.
    t.mm.copy_out(len_ptr, &ROBUST_LIST_HEAD_SIZE.to_le_bytes())?;
    t.mm.copy_out(head_ptr, &t.robust_list.0.to_le_bytes())?;
    Ok(0)
}

/// Robust-futex cleanup for a task that exits (or execs): walks the list registered with
/// set_robust_list (`struct robust_list_head { next, futex_offset, list_op_pending }`, at most
/// [`ROBUST_LIST_LIMIT`] entries, stopping at the first fault) and, for each futex word whose
/// owner is the task, sets FUTEX_OWNER_DIED (keeping FUTEX_WAITERS, clearing the TID) and wakes
/// one waiter, as Linux's exit_robust_list does. PI waiters are nudged to take the lock over.
pub fn exit_robust_list(t: &Task) {
    let head = t.robust_list.0;
    if head != 0 {
        walk_robust_list(t, head);
    }
    // Whatever PI locks the task held without listing them: their waiters look again.
    for w in table().values().flatten().filter(|w| w.pi) {
        w.wake();
    }
}

fn walk_robust_list(t: &Task, head: u64) {
    let read_u64 = |addr: u64| -> Option<u64> {
        let mut b = [0u8; 8];
        t.mm.copy_in(addr, &mut b).ok()?;
        Some(u64::from_le_bytes(b))
    };
    // An entry pointer's low bit says the lock is a PI futex.
    let split = |e: u64| (e & !1, e & 1 != 0);
    let Some((mut entry, mut pi)) = read_u64(head).map(split) else { return };
    let Some(futex_offset) = read_u64(head + 8) else { return };
    let Some((pending, pending_pi)) = read_u64(head + 16).map(split) else { return };
    let mut limit = ROBUST_LIST_LIMIT;
    while entry != head {
        // Fetch the next pointer before handling this entry, as Linux does: once the word says
        // OWNER_DIED and a waiter is woken, the node may be reused.
        let next = read_u64(entry).map(split);
        // A pending lock may already be on the list: it is handled once, below.
        if entry != pending && handle_futex_death(t, entry.wrapping_add(futex_offset), pi, false).is_none() {
            return;
        }
        let Some((n, npi)) = next else { return };
        (entry, pi) = (n, npi);
        limit -= 1;
        if limit == 0 {
            break;
        }
    }
    if pending != 0 {
        handle_futex_death(t, pending.wrapping_add(futex_offset), pending_pi, true);
    }
}

/// One robust futex of a dying task. None on a fault or a misaligned word: the walk stops.
fn handle_futex_death(t: &Task, addr: u64, pi: bool, pending: bool) -> Option<()> {
    if !addr.is_multiple_of(4) {
        return None;
    }
    let tid = t.tid as u32;
    loop {
        let uval = read_word(t, addr).ok()?;
        let owner = uval & FUTEX_TID_MASK;
        // A plain lock released (or never taken) while the operation was pending: a waiter
        // may have been owed a wakeup the task did not live to send.
        if pending && !pi && owner == 0 {
            wake(t, addr, 1);
            return Some(());
        }
        if owner != tid {
            return Some(());
        }
        let word = atomic_word(t, addr).ok()?;
        let newval = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        if word.compare_exchange(uval, newval, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            continue;
        }
        // PI waiters are woken by exit_robust_list's nudge.
        if !pi && uval & FUTEX_WAITERS != 0 {
            wake(t, addr, 1);
        }
        return Some(());
    }
}
