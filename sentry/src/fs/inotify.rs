//! inotify: watches on inodes, fed by the VFS operations the sandbox performs.
//!
//! Every inotify instance keeps its own watch list; a global registry maps watched inodes to
//! (instance, watch descriptor) pairs so that the syscall layer can report an event on a file
//! in O(watchers). Events on a file also go to its directory's watchers with the file's name,
//! as Linux's fsnotify does for the parent it was reached through.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Weak};

use syscalls::structs::Stat;
use syscalls::Errno;

use super::copy_to_iov;
use crate::kernel::events::events;
use crate::kernel::signal::{self, Wake};
use crate::vfs::FileOps;

pub const IN_ACCESS: u32 = 0x1;
pub const IN_MODIFY: u32 = 0x2;
pub const IN_ATTRIB: u32 = 0x4;
pub const IN_CLOSE_WRITE: u32 = 0x8;
pub const IN_CLOSE_NOWRITE: u32 = 0x10;
pub const IN_OPEN: u32 = 0x20;
pub const IN_MOVED_FROM: u32 = 0x40;
pub const IN_MOVED_TO: u32 = 0x80;
pub const IN_CREATE: u32 = 0x100;
pub const IN_DELETE: u32 = 0x200;
pub const IN_DELETE_SELF: u32 = 0x400;
pub const IN_MOVE_SELF: u32 = 0x800;
pub const IN_Q_OVERFLOW: u32 = 0x4000;
pub const IN_IGNORED: u32 = 0x8000;
pub const IN_ONLYDIR: u32 = 0x0100_0000;
pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
pub const IN_EXCL_UNLINK: u32 = 0x0400_0000;
pub const IN_MASK_CREATE: u32 = 0x1000_0000;
pub const IN_MASK_ADD: u32 = 0x2000_0000;
pub const IN_ISDIR: u32 = 0x4000_0000;
pub const IN_ONESHOT: u32 = 0x8000_0000;
/// Event bits a watch can ask for.
pub const IN_ALL_EVENTS: u32 = 0xfff;

/// The identity of a watched inode.
pub type InodeKey = (u64, u64);

/// Queued events beyond this overflow (fs.inotify.max_queued_events).
const MAX_QUEUED: usize = 16384;

struct Watch {
    key: InodeKey,
    mask: u32,
}

struct State {
    watches: HashMap<i32, Watch>,
    next_wd: i32,
    queue: VecDeque<(i32, u32, u32, Vec<u8>)>,
}

/// One inotify instance.
pub struct Inotify {
    state: Mutex<State>,
    changed: Condvar,
    nonblock: AtomicBool,
    me: Weak<Inotify>,
}

/// inode -> (instance, wd) of every watch in the sandbox.
type Registry = HashMap<InodeKey, Vec<(Weak<Inotify>, i32)>>;
static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);
static COOKIE: AtomicU32 = AtomicU32::new(1);
/// Whether any watch was ever added: until then the VFS skips the bookkeeping entirely.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether events need computing at all.
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// The watch key of an inode.
pub fn key_of(i: &dyn crate::vfs::inode::Inode) -> Option<InodeKey> {
    i.stat().ok().map(|s| (s.st_dev, s.st_ino))
}

/// Reports `mask` for the file at `p`, to its watchers and its directory's (with its name).
pub fn notify_path(p: &crate::vfs::mount::VfsPath, mask: u32) {
    if !active() {
        return;
    }
    let isdir = if p.dentry.inode.kind() == crate::vfs::inode::FileType::Directory { IN_ISDIR } else { 0 };
    // The directory hears first, then the file itself, as Linux orders them.
    if let Some(parent) = p.dentry.parent() {
        if let Some(k) = key_of(&*parent.inode) {
            notify(k, mask | isdir, 0, &p.dentry.name);
        }
    }
    if let Some(k) = key_of(&*p.dentry.inode) {
        notify(k, mask | isdir, 0, b"");
    }
}

/// Reports `mask` on directory `dir` for its entry `name`.
pub fn notify_dir(dir: &crate::vfs::mount::VfsPath, mask: u32, cookie: u32, name: &[u8]) {
    if !active() {
        return;
    }
    if let Some(k) = key_of(&*dir.dentry.inode) {
        notify(k, mask, cookie, name);
    }
}

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fresh cookie tying IN_MOVED_FROM to IN_MOVED_TO.
pub fn next_cookie() -> u32 {
    COOKIE.fetch_add(1, Ordering::Relaxed)
}

/// Reports `mask` on the inode `key` (with `name` for a directory's child).
pub fn notify(key: InodeKey, mask: u32, cookie: u32, name: &[u8]) {
    let watchers: Vec<(Arc<Inotify>, i32)> = {
        let mut r = registry();
        let Some(list) = r.get_mut(&key) else { return };
        list.retain(|(w, _)| w.strong_count() > 0);
        list.iter().filter_map(|(w, wd)| w.upgrade().map(|i| (i, *wd))).collect()
    };
    for (ino, wd) in watchers {
        ino.deliver(wd, mask, cookie, name);
    }
}

impl Wake for Inotify {
    fn wake(&self) {
        drop(self.lock());
        self.changed.notify_all();
    }
}

impl Inotify {
    /// A new instance.
    pub fn new(nonblock: bool) -> Arc<Inotify> {
        Arc::new_cyclic(|me| Inotify {
            state: Mutex::new(State { watches: HashMap::new(), next_wd: 1, queue: VecDeque::new() }),
            changed: Condvar::new(),
            nonblock: AtomicBool::new(nonblock),
            me: me.clone(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn deliver(&self, wd: i32, mask: u32, cookie: u32, name: &[u8]) {
        let mut s = self.lock();
        let Some(w) = s.watches.get(&wd) else { return };
        let wanted = w.mask & IN_ALL_EVENTS;
        let always = IN_IGNORED | IN_Q_OVERFLOW;
        if mask & (wanted | always) & !IN_ISDIR == 0 {
            return;
        }
        let oneshot = w.mask & IN_ONESHOT != 0;
        let ev = (wd, mask & (wanted | always | IN_ISDIR), cookie, name.to_vec());
        // Identical consecutive events are merged, as Linux does.
        if s.queue.back() != Some(&ev) {
            if s.queue.len() >= MAX_QUEUED {
                if s.queue.back().map(|e| e.1) != Some(IN_Q_OVERFLOW) {
                    s.queue.push_back((-1, IN_Q_OVERFLOW, 0, Vec::new()));
                }
            } else {
                s.queue.push_back(ev);
            }
        }
        if oneshot {
            s.watches.remove(&wd);
            s.queue.push_back((wd, IN_IGNORED, 0, Vec::new()));
        }
        drop(s);
        self.changed.notify_all();
        events().notify();
    }

    /// inotify_add_watch on the inode `key`; returns the watch descriptor.
    pub fn add_watch(&self, key: InodeKey, mask: u32) -> Result<i32, Errno> {
        let mut s = self.lock();
        if let Some((&wd, w)) = s.watches.iter_mut().find(|(_, w)| w.key == key) {
            if mask & IN_MASK_CREATE != 0 {
                return Err(Errno::EEXIST);
            }
            w.mask = if mask & IN_MASK_ADD != 0 { w.mask | mask } else { mask };
            return Ok(wd);
        }
        let wd = s.next_wd;
        s.next_wd += 1;
        s.watches.insert(wd, Watch { key, mask });
        drop(s);
        registry().entry(key).or_default().push((self.me.clone(), wd));
        ACTIVE.store(true, Ordering::Relaxed);
        Ok(wd)
    }

    /// inotify_rm_watch.
    pub fn rm_watch(&self, wd: i32) -> Result<(), Errno> {
        let mut s = self.lock();
        let w = s.watches.remove(&wd).ok_or(Errno::EINVAL)?;
        s.queue.push_back((wd, IN_IGNORED, 0, Vec::new()));
        drop(s);
        if let Some(list) = registry().get_mut(&w.key) {
            list.retain(|(i, d)| !(*d == wd && i.ptr_eq(&self.me)));
        }
        self.changed.notify_all();
        events().notify();
        Ok(())
    }

    /// A watched inode went away: IN_IGNORED for its watches.
    pub fn inode_gone(key: InodeKey) {
        let watchers = registry().remove(&key).unwrap_or_default();
        for (w, wd) in watchers {
            if let Some(i) = w.upgrade() {
                let mut s = i.lock();
                if s.watches.remove(&wd).is_some() {
                    s.queue.push_back((wd, IN_IGNORED, 0, Vec::new()));
                }
                drop(s);
                i.changed.notify_all();
            }
        }
        events().notify();
    }
}

/// The record of one event: struct inotify_event with its name padded to 16-byte steps.
fn encode(wd: i32, mask: u32, cookie: u32, name: &[u8]) -> Vec<u8> {
    let len = if name.is_empty() { 0 } else { (name.len() + 1).next_multiple_of(16) };
    let mut b = Vec::with_capacity(16 + len);
    b.extend_from_slice(&wd.to_le_bytes());
    b.extend_from_slice(&mask.to_le_bytes());
    b.extend_from_slice(&cookie.to_le_bytes());
    b.extend_from_slice(&(len as u32).to_le_bytes());
    b.extend_from_slice(name);
    b.resize(16 + len, 0);
    b
}

/// The descriptor side: reading events.
pub struct InotifyFile(pub Arc<Inotify>);

impl FileOps for InotifyFile {
    fn read(&self, iov: &[libc::iovec], _off: u64) -> Result<usize, Errno> {
        let room: usize = iov.iter().map(|v| v.iov_len).sum();
        let i = &self.0;
        let mut s = i.lock();
        while s.queue.is_empty() {
            if i.nonblock.load(Ordering::Relaxed) {
                return Err(Errno::EAGAIN);
            }
            let wake: Arc<dyn Wake> = i.clone();
            s = signal::sleep(&i.changed, s, &wake)?;
        }
        let mut out = Vec::new();
        while let Some((wd, mask, cookie, name)) = s.queue.front() {
            let rec = encode(*wd, *mask, *cookie, name);
            if out.len() + rec.len() > room {
                break;
            }
            out.extend_from_slice(&rec);
            s.queue.pop_front();
        }
        if out.is_empty() {
            return Err(Errno::EINVAL);
        }
        drop(s);
        Ok(copy_to_iov(&out, 0, iov))
    }

    fn write(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { st_dev: 0xd, st_ino: 4, st_nlink: 1, st_mode: 0o600, st_blksize: 4096, ..Stat::default() })
    }

    fn ioctl(&self, task: &mut crate::kernel::Task, cmd: u32, arg: u64) -> Result<u64, Errno> {
        const FIONREAD: u32 = 0x541b;
        if cmd != FIONREAD {
            return Err(Errno::ENOTTY);
        }
        let n: usize = self.0.lock().queue.iter().map(|(w, m, c, n)| encode(*w, *m, *c, n).len()).sum();
        task.mm.copy_out(arg, &(n as i32).to_le_bytes()).map(|()| 0)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn pollable(&self) -> bool {
        true
    }

    fn status_flags_changed(&self, flags: u32) {
        self.0.nonblock.store(flags & libc::O_NONBLOCK as u32 != 0, Ordering::Relaxed);
    }

    fn readiness(&self) -> u16 {
        if self.0.lock().queue.is_empty() { 0 } else { (libc::POLLIN | libc::POLLRDNORM) as u16 }
    }
}
