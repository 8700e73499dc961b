//! The page cache of read-only private file mappings: a file's bytes, read once into the
//! memory file, then shared copy-on-write by every read-only private mapping of the same range
//! (shared libraries and their read-only data, mapped again by each process that loads them).
//! Entries are keyed by the file's identity and version (device, inode, size, modification
//! time) and the range, so a file that changes is read afresh; past a budget, the entries used
//! least recently are dropped (their memory goes once no mapping refers to it).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use syscalls::structs::Stat;
use syscalls::Errno;

use super::{page_up, MemoryFile};

/// What the cache holds at most, in bytes of file ranges.
const BUDGET: u64 = 256 << 20;

/// One version of a file: its identity, size and times.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
    size: i64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileId {
    /// The file `st` describes, as it is now.
    pub fn of(st: &Stat) -> FileId {
        FileId { dev: st.st_dev, ino: st.st_ino, size: st.st_size, mtime: (st.st_mtime, st.st_mtime_nsec), ctime: (st.st_ctime, st.st_ctime_nsec) }
    }
}

/// A file range at one version of the file.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Key {
    file: FileId,
    off: u64,
    len: u64,
}

impl Key {
    /// `len` bytes from `off` of `file`.
    pub fn new(file: FileId, off: u64, len: u64) -> Key {
        Key { file, off, len }
    }
}

struct Entry {
    region: u64,
    len: u64,
    last_use: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    bytes: u64,
    clock: u64,
}

/// The cache. The regions it holds are shared regions of the memory file with one reference
/// of the cache's own.
#[derive(Default)]
pub struct PageCache {
    inner: Mutex<Inner>,
}

impl PageCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The region holding the file range `key` names (zeros past the file's end), read with
    /// `read(iov, file_offset)` into the memory file when it is not cached yet. Map it with
    /// [`Backing::CopyOnWrite`](super::Backing::CopyOnWrite), which takes its own reference.
    pub fn region(&self, mf: &MemoryFile, key: Key, mut read: impl FnMut(&[libc::iovec], u64) -> Result<usize, Errno>) -> Result<u64, Errno> {
        {
            let mut g = self.lock();
            g.clock += 1;
            let now = g.clock;
            if let Some(e) = g.entries.get_mut(&key) {
                e.last_use = now;
                return Ok(e.region);
            }
        }
        let len = page_up(key.len).ok_or(Errno::ENOMEM)?;
        let region = mf.allocate_shared(len)?;
        let mut done = 0u64;
        while done < key.len {
            let iov = [libc::iovec { iov_base: mf.ptr(region + done).cast(), iov_len: (key.len - done) as usize }];
            let n = match read(&iov, key.off + done) {
                Ok(n) => n as u64,
                Err(e) => {
                    mf.unshare(region);
                    return Err(e);
                }
            };
            if n == 0 {
                break;
            }
            done += n;
        }
        let mut g = self.lock();
        g.clock += 1;
        let now = g.clock;
        // Another thread read the same range meanwhile: its copy stays, ours goes.
        if let Some(e) = g.entries.get_mut(&key) {
            e.last_use = now;
            let theirs = e.region;
            drop(g);
            mf.unshare(region);
            return Ok(theirs);
        }
        g.entries.insert(key, Entry { region, len, last_use: now });
        g.bytes += len;
        let mut evicted = Vec::new();
        while g.bytes > BUDGET {
            let Some((&k, _)) = g.entries.iter().filter(|(k, _)| **k != key).min_by_key(|(_, e)| e.last_use) else { break };
            if let Some(e) = g.entries.remove(&k) {
                g.bytes -= e.len;
                evicted.push(e.region);
            }
        }
        drop(g);
        for r in evicted {
            mf.unshare(r);
        }
        Ok(region)
    }
}
