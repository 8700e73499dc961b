//! flock(2) locks: held by open file descriptions, on inodes identified by (dev, ino).
//!
//! A description holds at most one lock per file, shared or exclusive; a conflicting request
//! waits (or fails with EWOULDBLOCK under LOCK_NB); closing the last reference to the
//! description releases its locks.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};

use syscalls::Errno;

use crate::vfs::FileDescription;

/// (st_dev, st_ino) of a locked file.
type FileKey = (u64, u64);
/// Holders of one file's lock: description address -> exclusive.
type Holders = HashMap<usize, bool>;

struct Table {
    files: Mutex<HashMap<FileKey, Holders>>,
    changed: Condvar,
}

static TABLE: std::sync::LazyLock<Table> = std::sync::LazyLock::new(|| Table { files: Mutex::default(), changed: Condvar::new() });

fn files() -> MutexGuard<'static, HashMap<FileKey, Holders>> {
    TABLE.files.lock().unwrap_or_else(|e| e.into_inner())
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
        TABLE.changed.notify_all();
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
        g = TABLE.changed.wait(g).unwrap_or_else(|e| e.into_inner());
    }
}

/// Drops every lock `f` holds (its last reference is going away).
pub fn release(f: &FileDescription) {
    let me = f as *const FileDescription as usize;
    let mut g = files();
    let mut any = false;
    for h in g.values_mut() {
        any |= h.remove(&me).is_some();
    }
    g.retain(|_, h| !h.is_empty());
    drop(g);
    if any {
        TABLE.changed.notify_all();
    }
}
