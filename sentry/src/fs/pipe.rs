//! Pipes: a bounded byte queue with a read end and a write end.
//!
//! Readers wait while the pipe is empty and a writer exists; writers wait while it is full and
//! a reader exists; writes of at most PIPE_BUF bytes are atomic. A write with no reader left
//! gives EPIPE (and SIGPIPE). A signal ends a wait with ERESTARTSYS (a write that moved some
//! bytes returns their count instead).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use syscalls::structs::Stat;
use syscalls::Errno;

use super::{copy_to_iov, gather_iov};
use crate::kernel::events::events;
use crate::kernel::signal::{self, Wake};
use crate::vfs::FileOps;

/// Linux's default pipe capacity.
pub const PIPE_SIZE: usize = 65536;
/// Writes up to this size are atomic.
const PIPE_BUF: usize = 4096;

struct State {
    buf: VecDeque<u8>,
    /// F_SETPIPE_SZ capacity.
    capacity: usize,
    readers: usize,
    writers: usize,
    /// Moves on every transfer (edge-triggered epoll).
    seq: u64,
    /// Threads asleep in a read or write: a transfer wakes them only when there are some (a
    /// condition variable's notify is a system call even with nobody waiting).
    sleepers: usize,
}

/// The shared pipe.
pub struct Pipe {
    state: Mutex<State>,
    changed: Condvar,
    ino: u64,
}

impl Wake for Pipe {
    fn wake(&self) {
        drop(self.lock());
        self.changed.notify_all();
    }
}

impl Pipe {
    /// A new pipe with one reader and one writer.
    pub fn new(ino: u64) -> Arc<Pipe> {
        Pipe::with_ends(ino, 1)
    }

    /// The pipe behind a FIFO: no ends until it is opened.
    pub fn new_fifo(ino: u64) -> Arc<Pipe> {
        Pipe::with_ends(ino, 0)
    }

    fn with_ends(ino: u64, n: usize) -> Arc<Pipe> {
        let state = State { buf: VecDeque::new(), capacity: PIPE_SIZE, readers: n, writers: n, seq: 0, sleepers: 0 };
        Arc::new(Pipe { state: Mutex::new(state), changed: Condvar::new(), ino })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(self: &Arc<Self>, mut g: MutexGuard<'a, State>) -> Result<MutexGuard<'a, State>, Errno> {
        let wake: Arc<dyn Wake> = self.clone();
        g.sleepers += 1;
        match signal::sleep(&self.changed, g, &wake) {
            Ok(mut g) => {
                g.sleepers -= 1;
                Ok(g)
            }
            Err(e) => {
                self.lock().sleepers -= 1;
                Err(e)
            }
        }
    }

    /// Wakes the sleepers, if any, once `g` (the state after a transfer) is released.
    fn transferred(&self, g: MutexGuard<'_, State>) {
        let sleepers = g.sleepers > 0;
        drop(g);
        if sleepers {
            self.changed.notify_all();
        }
        events().notify();
    }

    fn stat(&self) -> Stat {
        let n = self.lock().buf.len();
        Stat { st_dev: 0xc, st_ino: self.ino, st_nlink: 1, st_mode: libc::S_IFIFO | 0o600, st_size: n as i64, st_blksize: 4096, ..Stat::default() }
    }

    /// Bytes waiting to be read (FIONREAD).
    pub fn queued(&self) -> usize {
        self.lock().buf.len()
    }
}

/// One end of a pipe (a FIFO opened O_RDWR is both ends).
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    reads: bool,
    writes: bool,
    /// O_NONBLOCK of the description, kept current by F_SETFL.
    nonblock: AtomicBool,
}

impl PipeEnd {
    /// tee(2): up to `n` queued bytes without consuming them; waits while the pipe is empty and
    /// has writers, unless `nonblock`. Empty means end of data.
    pub fn peek(&self, n: usize, nonblock: bool) -> Result<Vec<u8>, Errno> {
        let mut s = self.pipe.lock();
        while s.buf.is_empty() {
            if s.writers == 0 {
                return Ok(Vec::new());
            }
            if nonblock || self.nonblock.load(Ordering::Relaxed) {
                return Err(Errno::EAGAIN);
            }
            s = self.pipe.wait(s)?;
        }
        Ok(s.buf.iter().take(n).copied().collect())
    }

    /// F_GETPIPE_SZ.
    pub fn capacity(&self) -> usize {
        self.pipe.lock().capacity
    }

    /// F_SETPIPE_SZ: rounds up to a power-of-two number of pages; refuses to drop queued
    /// data (EBUSY) and, without privilege, to exceed fs.pipe-max-size (EPERM).
    pub fn set_capacity(&self, want: i64, privileged: bool) -> Result<usize, Errno> {
        const PIPE_MAX_SIZE: usize = 1 << 20;
        if want < 0 || want > i64::from(i32::MAX) {
            return Err(Errno::EINVAL);
        }
        let size = (want as usize).max(4096).next_power_of_two();
        if size > PIPE_MAX_SIZE && !privileged {
            return Err(Errno::EPERM);
        }
        let mut s = self.pipe.lock();
        if s.buf.len() > size {
            return Err(Errno::EBUSY);
        }
        s.capacity = size;
        Ok(size)
    }

    /// The two ends of a new pipe: (read, write).
    pub fn pair(ino: u64, nonblock: bool) -> (PipeEnd, PipeEnd) {
        let p = Pipe::new(ino);
        let end = |pipe, writes: bool| PipeEnd { pipe, reads: !writes, writes, nonblock: AtomicBool::new(nonblock) };
        (end(p.clone(), false), end(p, true))
    }

    /// Opens a FIFO's pipe as open(2) does: O_RDWR never waits; O_RDONLY waits for a writer
    /// and O_WRONLY for a reader, unless O_NONBLOCK (then a writer with no reader gets ENXIO).
    pub fn open_fifo(pipe: &Arc<Pipe>, flags: u32) -> Result<PipeEnd, Errno> {
        let nonblock = flags & libc::O_NONBLOCK as u32 != 0;
        let (reads, writes) = match flags & 3 {
            0 => (true, false),
            1 => (false, true),
            _ => (true, true),
        };
        let mut s = pipe.lock();
        if writes && !reads && nonblock && s.readers == 0 {
            return Err(Errno::ENXIO);
        }
        s.readers += usize::from(reads);
        s.writers += usize::from(writes);
        drop(s);
        pipe.changed.notify_all();
        let end = PipeEnd { pipe: pipe.clone(), reads, writes, nonblock: AtomicBool::new(nonblock) };
        if !nonblock && reads != writes {
            let mut s = pipe.lock();
            while (reads && s.writers == 0) || (writes && s.readers == 0) {
                s = pipe.wait(s)?;
            }
        }
        Ok(end)
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut s = self.pipe.lock();
        s.writers -= usize::from(self.writes);
        s.readers -= usize::from(self.reads);
        drop(s);
        self.pipe.changed.notify_all();
        events().notify();
    }
}

impl FileOps for PipeEnd {
    fn read(&self, iov: &[libc::iovec], _off: u64) -> Result<usize, Errno> {
        if !self.reads {
            return Err(Errno::EBADF);
        }
        let want: usize = iov.iter().map(|v| v.iov_len).sum();
        let mut s = self.pipe.lock();
        while s.buf.is_empty() {
            if s.writers == 0 {
                return Ok(0);
            }
            if self.nonblock.load(Ordering::Relaxed) {
                return Err(Errno::EAGAIN);
            }
            s = self.pipe.wait(s)?;
        }
        let n = want.min(s.buf.len());
        let data: Vec<u8> = s.buf.drain(..n).collect();
        s.seq += 1;
        self.pipe.transferred(s);
        Ok(copy_to_iov(&data, 0, iov))
    }

    fn write(&self, iov: &[libc::iovec], _off: u64) -> Result<usize, Errno> {
        if !self.writes {
            return Err(Errno::EBADF);
        }
        let mut data = Vec::new();
        gather_iov(iov, &mut data);
        let mut done = 0;
        let mut s = self.pipe.lock();
        while done < data.len() {
            if s.readers == 0 {
                return if done > 0 { Ok(done) } else { Err(Errno::EPIPE) };
            }
            let room = s.capacity.saturating_sub(s.buf.len());
            let left = data.len() - done;
            // Small writes go in whole or not at all.
            let fits = if left <= PIPE_BUF { room >= left } else { room > 0 };
            if !fits {
                if self.nonblock.load(Ordering::Relaxed) {
                    return if done > 0 { Ok(done) } else { Err(Errno::EAGAIN) };
                }
                s = match self.pipe.wait(s) {
                    Ok(s) => s,
                    Err(e) => return if done > 0 { Ok(done) } else { Err(e) },
                };
                continue;
            }
            let n = left.min(room);
            s.buf.extend(&data[done..done + n]);
            s.seq += 1;
            done += n;
            // Readers are woken with the lock released, so that one woken on this CPU does
            // not run only to sleep again on the lock.
            self.pipe.transferred(s);
            if done == data.len() {
                break;
            }
            s = self.pipe.lock();
        }
        Ok(done)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.pipe.stat())
    }

    fn seekable(&self) -> bool {
        false
    }

    fn pollable(&self) -> bool {
        true
    }

    fn ioctl(&self, task: &mut crate::kernel::Task, cmd: u32, arg: u64) -> Result<u64, Errno> {
        const FIONREAD: u32 = 0x541b;
        if cmd != FIONREAD {
            return Err(Errno::ENOTTY);
        }
        let n = self.pipe.queued() as i32;
        task.mm.copy_out(arg, &n.to_le_bytes()).map(|()| 0)
    }

    fn change_seq(&self) -> u64 {
        self.pipe.lock().seq
    }

    fn readiness(&self) -> u16 {
        let s = self.pipe.lock();
        let mut r = 0;
        if self.writes {
            if s.readers == 0 {
                r |= libc::POLLERR;
            } else if s.capacity.saturating_sub(s.buf.len()) >= PIPE_BUF {
                r |= libc::POLLOUT | libc::POLLWRNORM;
            }
        }
        if self.reads {
            if !s.buf.is_empty() {
                r |= libc::POLLIN | libc::POLLRDNORM;
            }
            if s.writers == 0 {
                r |= libc::POLLHUP;
            }
        }
        r as u16
    }

    fn status_flags_changed(&self, flags: u32) {
        self.nonblock.store(flags & libc::O_NONBLOCK as u32 != 0, Ordering::Relaxed);
    }
}
