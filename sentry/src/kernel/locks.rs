//! File locks, on files identified by (dev, ino).
//!
//! flock(2): a description holds at most one lock per file, shared or exclusive; a conflicting
//! request waits (or fails with EWOULDBLOCK under LOCK_NB); closing the last reference to the
//! description releases its locks.
//!
//! fcntl byte-range locks: POSIX locks belong to a process and go when it closes any
//! descriptor of the file; OFD locks belong to a description and go with it. Locks of one
//! owner never conflict with each other; a new lock replaces the owner's overlap.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, MutexGuard};

use syscalls::Errno;

use crate::kernel::signal::WaitCell;
use crate::vfs::FileDescription;

/// (st_dev, st_ino) of a locked file.
type FileKey = (u64, u64);
/// Holders of one file's lock: description address -> exclusive.
type Holders = HashMap<usize, bool>;

static TABLE: LazyLock<Arc<WaitCell<HashMap<FileKey, Holders>>>> = LazyLock::new(|| WaitCell::new(HashMap::new()));

fn files() -> MutexGuard<'static, HashMap<FileKey, Holders>> {
    TABLE.lock()
}

/// What flock was asked.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FlockOp {
    /// LOCK_SH.
    Shared,
    /// LOCK_EX.
    Exclusive,
    /// LOCK_UN.
    Unlock,
}

/// Takes, converts or drops the lock of `f` on the file `key`.
pub fn flock(f: &FileDescription, key: FileKey, op: FlockOp, nonblock: bool) -> Result<(), Errno> {
    let me = f as *const FileDescription as usize;
    let mut g = files();
    if op == FlockOp::Unlock {
        if let Some(h) = g.get_mut(&key) {
            h.remove(&me);
        }
        drop(g);
        TABLE.notify_all();
        return Ok(());
    }
    let exclusive = op == FlockOp::Exclusive;
    loop {
        let holders = g.entry(key).or_default();
        let conflict = holders.iter().any(|(&who, &ex)| who != me && (ex || exclusive));
        if !conflict {
            holders.insert(me, exclusive);
            return Ok(());
        }
        if nonblock {
            return Err(Errno::EAGAIN);
        }
        g = TABLE.wait(g)?;
    }
}

/// Drops every lock `f` holds (its last reference is going away).
pub fn release(f: &FileDescription) {
    release_description(f);
    let me = f as *const FileDescription as usize;
    let mut g = files();
    let mut any = false;
    for h in g.values_mut() {
        any |= h.remove(&me).is_some();
    }
    g.retain(|_, h| !h.is_empty());
    drop(g);
    if any {
        TABLE.notify_all();
    }
}

/// Who owns a byte-range lock: a process (POSIX F_SETLK) or an open file description
/// (F_OFD_SETLK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// A thread group id.
    Process(i32),
    /// A description's address.
    Description(usize),
}

/// One held range: [start, end) (end u64::MAX for "to end of file").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeLock {
    /// Holder.
    pub owner: Owner,
    /// Write (exclusive) or read (shared).
    pub write: bool,
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

/// Every file's range locks.
type Ranges = HashMap<FileKey, Vec<RangeLock>>;

static RANGES: LazyLock<Arc<WaitCell<Ranges>>> = LazyLock::new(|| WaitCell::new(HashMap::new()));

fn ranges() -> MutexGuard<'static, Ranges> {
    RANGES.lock()
}

/// The first lock of another owner that conflicts with `want`.
fn conflict(held: &[RangeLock], want: &RangeLock) -> Option<RangeLock> {
    held.iter().copied().find(|h| h.owner != want.owner && h.start < want.end && want.start < h.end && (h.write || want.write))
}

/// F_GETLK: the first lock that would block `want`, if any.
pub fn test_range(key: FileKey, want: &RangeLock) -> Option<RangeLock> {
    ranges().get(&key).and_then(|held| conflict(held, want))
}

/// F_SETLK(W): takes `want` (write/read) or, with `unlock`, drops the owner's locks in the
/// range; the owner's own overlapping locks are replaced.
pub fn set_range(key: FileKey, want: RangeLock, unlock: bool, wait: bool) -> Result<(), Errno> {
    let mut g = ranges();
    loop {
        let held = g.entry(key).or_default();
        if unlock || conflict(held, &want).is_none() {
            // Cut the owner's existing locks out of [start, end), then add the new one.
            let mut next = Vec::with_capacity(held.len() + 2);
            for h in held.drain(..) {
                if h.owner != want.owner || h.end <= want.start || want.end <= h.start {
                    next.push(h);
                    continue;
                }
                if h.start < want.start {
                    next.push(RangeLock { end: want.start, ..h });
                }
                if want.end < h.end {
                    next.push(RangeLock { start: want.end, ..h });
                }
            }
            if !unlock {
                next.push(want);
            }
            *held = next;
            drop(g);
            RANGES.notify_all();
            return Ok(());
        }
        if !wait {
            return Err(Errno::EAGAIN);
        }
        g = RANGES.wait(g)?;
    }
}

/// Drops every range lock of `owner` on `key` (a process closed a descriptor of the file).
pub fn release_ranges(key: FileKey, owner: Owner) {
    let mut g = ranges();
    if let Some(held) = g.get_mut(&key) {
        let before = held.len();
        held.retain(|h| h.owner != owner);
        if held.len() != before {
            drop(g);
            RANGES.notify_all();
        }
    }
}

/// Drops an open file description's OFD locks (its last reference is going away).
pub fn release_description(f: &FileDescription) {
    let me = Owner::Description(f as *const FileDescription as usize);
    let mut g = ranges();
    let mut any = false;
    for held in g.values_mut() {
        let before = held.len();
        held.retain(|h| h.owner != me);
        any |= held.len() != before;
    }
    if any {
        drop(g);
        RANGES.notify_all();
    }
}
