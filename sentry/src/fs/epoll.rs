//! epoll: an interest list over descriptors, checked against each file's readiness.
//!
//! Level-triggered entries report while ready. Edge-triggered entries report when readiness
//! gains a bit it did not have at the last check, or when the file saw a new transfer since
//! (as a write into a pipe wakes Linux's edge-triggered waiters).
//! EPOLLONESHOT disables an entry after one report until EPOLL_CTL_MOD.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use syscalls::structs::Stat;
use syscalls::Errno;

use crate::vfs::{FileDescription, FileOps};

pub const EPOLLIN: u32 = 0x001;
pub const EPOLLERR: u32 = 0x008;
pub const EPOLLHUP: u32 = 0x010;
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLET: u32 = 1 << 31;

struct Entry {
    file: Weak<FileDescription>,
    events: u32,
    data: u64,
    /// Readiness and the file's change counter at the last check (edge detection).
    last: u32,
    last_seq: u64,
    /// EPOLLONESHOT fired.
    disabled: bool,
}

/// An epoll instance.
#[derive(Default)]
pub struct Epoll {
    /// Keyed by descriptor number and the description's address, as Linux keys (fd, file).
    interest: Mutex<BTreeMap<(i32, usize), Entry>>,
}

impl Epoll {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<(i32, usize), Entry>> {
        self.interest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// EPOLL_CTL_ADD / MOD / DEL.
    pub fn ctl(&self, op: i32, fd: i32, file: &Arc<FileDescription>, events: u32, data: u64) -> Result<(), Errno> {
        let key = (fd, Arc::as_ptr(file) as usize);
        let mut m = self.lock();
        m.retain(|_, e| e.file.strong_count() > 0);
        match op {
            libc::EPOLL_CTL_ADD => {
                if m.contains_key(&key) {
                    return Err(Errno::EEXIST);
                }
                m.insert(key, Entry { file: Arc::downgrade(file), events, data, last: 0, last_seq: 0, disabled: false });
            }
            libc::EPOLL_CTL_MOD => {
                let e = m.get_mut(&key).ok_or(Errno::ENOENT)?;
                if events & EPOLLEXCLUSIVE != 0 || e.events & EPOLLEXCLUSIVE != 0 {
                    return Err(Errno::EINVAL);
                }
                e.events = events;
                e.data = data;
                e.last = 0;
                e.disabled = false;
            }
            libc::EPOLL_CTL_DEL => {
                m.remove(&key).ok_or(Errno::ENOENT)?;
            }
            _ => return Err(Errno::EINVAL),
        }
        Ok(())
    }

    /// Collects up to `max` ready (events, data) pairs; also says whether any watched file
    /// needs periodic rechecks.
    pub fn collect(&self, max: usize) -> (Vec<(u32, u64)>, bool) {
        let mut out = Vec::new();
        let mut polled = false;
        let mut m = self.lock();
        for e in m.values_mut() {
            let Some(f) = e.file.upgrade() else { continue };
            polled |= f.ops.polled_readiness();
            if e.disabled {
                continue;
            }
            let ready = u32::from(f.ops.readiness()) & (e.events | EPOLLERR | EPOLLHUP);
            let seq = f.ops.change_seq();
            let fresh = if e.events & EPOLLET == 0 || seq != e.last_seq { ready } else { ready & !e.last };
            e.last = ready;
            e.last_seq = seq;
            if fresh != 0 && out.len() < max {
                out.push((ready, e.data));
                if e.events & EPOLLONESHOT != 0 {
                    e.disabled = true;
                }
            }
        }
        (out, polled)
    }
}

impl FileOps for Epoll {
    fn read(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn write(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_dev: 0xd, st_ino: 3, st_nlink: 1, st_mode: 0o600, st_blksize: 4096, ..Stat::default() })
    }

    fn seekable(&self) -> bool {
        false
    }

    fn pollable(&self) -> bool {
        true
    }

    fn readiness(&self) -> u16 {
        let m = self.lock();
        let any = m.values().any(|e| {
            !e.disabled && e.file.upgrade().is_some_and(|f| u32::from(f.ops.readiness()) & (e.events | EPOLLERR | EPOLLHUP) != 0)
        });
        if any { (libc::POLLIN | libc::POLLRDNORM) as u16 } else { 0 }
    }

    fn polled_readiness(&self) -> bool {
        self.lock().values().any(|e| e.file.upgrade().is_some_and(|f| f.ops.polled_readiness()))
    }
}
