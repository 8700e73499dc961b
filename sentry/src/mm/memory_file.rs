//! The memory file: one memfd that holds all guest memory.
//!
//! The Sentry maps the whole file once and reads and writes guest memory through that mapping,
//! so copying in and out costs no system call; stubs map windows of the same file where the
//! guest's mappings are. Ranges are handed out by a first-fit allocator and given back to the
//! host with FALLOC_FL_PUNCH_HOLE when the guest unmaps them, except for a few MiB of released
//! pages kept for copies to land on (a fork's copy of a process's memory, mostly): a page new
//! to the host costs a fault and a zeroed page (3-6 us on a virtual machine), a kept one a
//! plain copy. Kept pages are only ever reused by [`MemoryFile::copy_new`], which overwrites or
//! punches each of them; every other allocation punches the kept pages it meets first.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use syscalls::Errno;

/// The size of the file's address range. Sparse: only touched pages use memory.
pub const MEMORY_FILE_SIZE: u64 = 64 << 30;

/// All guest memory of a sandbox.
pub struct MemoryFile {
    fd: OwnedFd,
    base: *mut u8,
    size: u64,
    /// Free ranges: start -> length, never adjacent (coalesced on release).
    free: Mutex<BTreeMap<u64, u64>>,
    /// Released pages still in memory, inside free ranges.
    kept: Mutex<Kept>,
    /// Shared regions (MAP_SHARED memory): start -> (length, VMAs referring to it). A region
    /// goes back to the free ranges when its last VMA goes.
    shared: Mutex<BTreeMap<u64, (u64, usize)>>,
    /// The object whose pages a shared region holds (a file's extent), by region start: how a
    /// mapping of the region finds its file (mremap growing it). Dropped with the region.
    owners: Mutex<HashMap<u64, Weak<dyn Any + Send + Sync>>>,
    /// Files' bytes shared by read-only private mappings.
    pub page_cache: super::page_cache::PageCache,
}

/// Released pages kept in memory: start -> end, disjoint, page-aligned; `bytes` in all.
#[derive(Default)]
struct Kept {
    ranges: BTreeMap<u64, u64>,
    bytes: u64,
}

/// At most this much released memory is kept for reuse.
const KEEP_MAX: u64 = 32 << 20;

impl Kept {
    /// Takes out the parts of `[start, end)` kept, in order; the parts outside stay kept.
    fn take(&mut self, start: u64, end: u64) -> Vec<(u64, u64)> {
        if self.ranges.is_empty() {
            return Vec::new();
        }
        let first = self.ranges.range(..start).next_back().filter(|(_, &e)| e > start).map(|(&s, _)| s);
        let hits: Vec<(u64, u64)> = first.into_iter().chain(self.ranges.range(start..end).map(|(&s, _)| s)).map(|s| (s, self.ranges[&s])).collect();
        let mut taken = Vec::with_capacity(hits.len());
        for (s, e) in hits {
            self.ranges.remove(&s);
            if s < start {
                self.ranges.insert(s, start);
            }
            if e > end {
                self.ranges.insert(end, e);
            }
            let (a, b) = (s.max(start), e.min(end));
            self.bytes -= b - a;
            taken.push((a, b));
        }
        taken
    }
}

/// What [`MemoryFile::owner`] hands out.
pub type RegionOwner = Arc<dyn Any + Send + Sync>;

// SAFETY: `base` points at a shared mapping that lives as long as the MemoryFile; all access
// through it is by raw copies (guest memory is shared with guest threads by design), and the
// allocator state is behind a Mutex.
unsafe impl Send for MemoryFile {}
// SAFETY: as for Send.
unsafe impl Sync for MemoryFile {}

impl MemoryFile {
    /// Creates the memfd, sizes it and maps it into the Sentry. The mapping is not inherited
    /// by forks (stubs are forked from the Sentry and map only windows of it).
    pub fn new(size: u64) -> io::Result<MemoryFile> {
        // SAFETY: a static NUL-terminated name; the result is a new descriptor or -1.
        let raw = unsafe { libc::memfd_create(c"sandbox-memory".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: ftruncate on our own descriptor.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), size as libc::off_t) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new shared mapping of our memfd at an address the kernel picks.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_NORESERVE,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: advising on the mapping just made.
        unsafe { libc::madvise(base, size as usize, libc::MADV_DONTFORK) };
        let mut free = BTreeMap::new();
        free.insert(0, size);
        Ok(MemoryFile { fd, base: base.cast(), size, free: Mutex::new(free), kept: Mutex::default(), shared: Mutex::default(), owners: Mutex::default(), page_cache: Default::default() })
    }

    /// Bytes of the file backed by memory now (pages touched and not released; kept pages
    /// do not count).
    pub fn in_use(&self) -> u64 {
        // SAFETY: a plain-data struct, all zeros is valid.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat of our own descriptor into `st`. The raw call, as glibc's fstat is
        // newfstatat, a path-based call the Sentry's own filter refuses.
        if unsafe { libc::syscall(libc::SYS_fstat, self.fd.as_raw_fd(), &mut st) } != 0 {
            return 0;
        }
        (st.st_blocks as u64 * 512).saturating_sub(self.kept().bytes)
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The descriptor stubs map windows of.
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Allocates `len` bytes (a page multiple) of file space, all zeros.
    pub fn allocate(&self, len: u64) -> Result<u64, Errno> {
        let off = self.allocate_space(len)?;
        self.punch_kept(off, len);
        Ok(off)
    }

    /// Allocates `len` bytes (a page multiple) and copies into them each `(from, at, n)` of
    /// `pieces`: `n` bytes at offset `from` to `at` bytes into the new range. Holes are not
    /// copied and the rest reads as zeros; the new range holds pages exactly where the pieces
    /// hold data (mincore and smaps see what the source had). Kept pages make the copy cheap.
    pub fn copy_new(&self, len: u64, pieces: &[(u64, u64, u64)]) -> Result<u64, Errno> {
        let off = self.allocate_space(len)?;
        let stale = self.kept().take(off, off + len);
        let mut written = Vec::new();
        for &(from, at, n) in pieces {
            self.data_ranges(from, n, |a, b| {
                let to = off + at + (a - from);
                // SAFETY: both ranges lie inside the mapping (allocated from this file) and
                // are distinct allocations, so they do not overlap.
                unsafe { std::ptr::copy_nonoverlapping(self.ptr(a), self.ptr(to), (b - a) as usize) };
                written.push((to, to + (b - a)));
            });
        }
        // Kept pages no data landed on would read as old data: punched.
        written.sort_unstable();
        for (s, e) in stale {
            let mut pos = s;
            for &(a, b) in written[written.partition_point(|w| w.1 <= s)..].iter().take_while(|w| w.0 < e) {
                if a > pos {
                    self.punch(pos, a - pos);
                }
                pos = pos.max(b);
            }
            if pos < e {
                self.punch(pos, e - pos);
            }
        }
        Ok(off)
    }

    /// Punches the kept pages in `[off, off+len)`, just allocated.
    fn punch_kept(&self, off: u64, len: u64) {
        let stale = self.kept().take(off, off + len);
        for (s, e) in stale {
            self.punch(s, e - s);
        }
    }

    /// First fit: `len` bytes of free file space, kept pages and all.
    fn allocate_space(&self, len: u64) -> Result<u64, Errno> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let (&start, &flen) = free.iter().find(|(_, &l)| l >= len).ok_or(Errno::ENOMEM)?;
        free.remove(&start);
        if flen > len {
            free.insert(start + len, flen - len);
        }
        Ok(start)
    }

    /// Claims `[off, off+len)` if it is all free (to grow an allocation in place).
    pub fn claim(&self, off: u64, len: u64) -> bool {
        let Some(end) = off.checked_add(len) else { return false };
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let Some((&fs, &fl)) = free.range(..=off).next_back() else { return false };
        if fs + fl < end {
            return false;
        }
        free.remove(&fs);
        if fs < off {
            free.insert(fs, off - fs);
        }
        if end < fs + fl {
            free.insert(end, fs + fl - end);
        }
        drop(free);
        self.punch_kept(off, len);
        true
    }

    /// Frees the pages of `[off, off+len)` but keeps the range allocated: it reads as zeros
    /// (MADV_DONTNEED, MADV_REMOVE).
    pub fn punch(&self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        // SAFETY: punching a hole in our own memfd; no mapping is invalidated, pages just read
        // as zero afterwards.
        unsafe {
            libc::fallocate(
                self.fd.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                off as libc::off_t,
                len as libc::off_t,
            )
        };
    }

    /// Backs `[off, off+len)` (page-aligned) with memory now, as mlock's population does; the
    /// contents do not change. MADV_POPULATE_WRITE takes a write fault on each page of the
    /// Sentry's mapping (pages fallocate()d into shmem are not uptodate, so SEEK_DATA, which
    /// mincore relies on, would not count them; and an atomic OR of zero compiles to a plain
    /// load, whose read fault of a hole allocates nothing).
    pub fn populate(&self, off: u64, len: u64) {
        const MADV_POPULATE_WRITE: i32 = 23;
        assert!(off.saturating_add(len) <= self.size, "memory file populate out of range");
        // SAFETY: the range is inside our mapping (checked above); populating changes no byte.
        unsafe { libc::madvise(self.ptr(off).cast(), len as usize, MADV_POPULATE_WRITE) };
    }

    /// Gives `[off, off+len)` back: it reads as zeros when reused. Its pages are freed, or
    /// kept for copies while fewer than KEEP_MAX bytes are.
    pub fn release(&self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        let mut room = KEEP_MAX.saturating_sub(self.kept().bytes);
        if room == 0 {
            self.punch(off, len);
        } else {
            let mut keep = Vec::new();
            self.data_ranges(off, len, |a, b| {
                if b - a <= room {
                    room -= b - a;
                    keep.push((a, b));
                } else {
                    self.punch(a, b - a);
                }
            });
            // Kept before the range is free: whoever allocates it finds them.
            let mut kept = self.kept();
            for (a, b) in keep {
                kept.ranges.insert(a, b);
                kept.bytes += b - a;
            }
        }
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let (mut start, mut len) = (off, len);
        if let Some((&ps, &pl)) = free.range(..start).next_back() {
            if ps + pl == start {
                free.remove(&ps);
                start = ps;
                len += pl;
            }
        }
        if let Some(&nl) = free.get(&(start + len)) {
            free.remove(&(start + len));
            len += nl;
        }
        free.insert(start, len);
    }

    /// Allocates a shared region of `len` bytes with one reference; returns its start.
    pub fn allocate_shared(&self, len: u64) -> Result<u64, Errno> {
        let start = self.allocate(len)?;
        self.adopt_region(start, len);
        Ok(start)
    }

    /// Grows the shared region at `start` by `extra` bytes in place, if the file space after it
    /// is free; false otherwise. Its references are unchanged (a file's extent that grows).
    pub fn grow_shared(&self, start: u64, extra: u64) -> bool {
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let Some((len, _)) = shared.get_mut(&start) else { return false };
        if !self.claim(start + *len, extra) {
            return false;
        }
        *len += extra;
        true
    }

    /// Makes the allocated range `[start, start+len)` a region with one reference (a VMA that
    /// is about to be shared by a fork).
    pub fn adopt_region(&self, start: u64, len: u64) {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).insert(start, (len, 1));
    }

    /// If the caller holds the only reference to the region at `start`, ends the region and
    /// gives the caller `[off, off+len)` of it as its own private range (the rest of the region
    /// is freed): true. Otherwise nothing changes: false.
    pub fn take_region(&self, start: u64, off: u64, len: u64) -> bool {
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let Some(&(region_len, 1)) = shared.get(&start) else { return false };
        shared.remove(&start);
        drop(shared);
        self.release(start, off - start);
        self.release(off + len, start + region_len - (off + len));
        true
    }

    /// One more VMA refers to the shared region at `start` (a fork, a split).
    pub fn share(&self, start: u64) {
        if let Some((_, n)) = self.shared.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&start) {
            *n += 1;
        }
    }

    /// One VMA of the shared region at `start` went; the last one frees the region.
    pub fn unshare(&self, start: u64) {
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let Some((len, n)) = shared.get_mut(&start) else { return };
        *n -= 1;
        if *n == 0 {
            let len = *len;
            shared.remove(&start);
            drop(shared);
            self.owners.lock().unwrap_or_else(|e| e.into_inner()).remove(&start);
            self.release(start, len);
        }
    }

    /// Records the object whose pages the shared region at `start` holds.
    pub fn set_owner(&self, start: u64, owner: Weak<dyn Any + Send + Sync>) {
        self.owners.lock().unwrap_or_else(|e| e.into_inner()).insert(start, owner);
    }

    /// The object whose pages the shared region at `start` holds, while it lives.
    pub fn owner(&self, start: u64) -> Option<RegionOwner> {
        self.owners.lock().unwrap_or_else(|e| e.into_inner()).get(&start)?.upgrade()
    }

    /// How many references the shared region at `start` has (None once it is freed).
    pub fn share_count(&self, start: u64) -> Option<usize> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).get(&start).map(|&(_, n)| n)
    }

    /// The length of the shared region that starts at `start`.
    pub fn shared_len(&self, start: u64) -> Option<u64> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).get(&start).map(|&(len, _)| len)
    }

    /// Calls `f` with each `[a, b)` of `[off, off+len)` that holds data (backed by memory);
    /// holes read as zeros and use nothing.
    pub fn data_ranges(&self, off: u64, len: u64, mut f: impl FnMut(u64, u64)) {
        let fd = self.fd.as_raw_fd();
        let mut pos = off;
        let end = off + len;
        while pos < end {
            // SAFETY: lseek on our own memfd; SEEK_DATA/SEEK_HOLE only report positions.
            let data = unsafe { libc::lseek(fd, pos as libc::off_t, libc::SEEK_DATA) };
            if data < 0 || data as u64 >= end {
                return;
            }
            // SAFETY: as above.
            let hole = unsafe { libc::lseek(fd, data as libc::off_t, libc::SEEK_HOLE) };
            let stop = if hole < 0 { end } else { (hole as u64).min(end) };
            f(data as u64, stop);
            pos = stop;
        }
    }

    /// The first offset in `[off, end)` that holds data, if any (SEEK_DATA bounded by `end`).
    pub fn next_data(&self, off: u64, end: u64) -> Option<u64> {
        // SAFETY: lseek on our own memfd; SEEK_DATA only reports a position.
        let data = unsafe { libc::lseek(self.fd.as_raw_fd(), off as libc::off_t, libc::SEEK_DATA) };
        (data >= 0 && (data as u64) < end).then_some(data as u64)
    }

    /// The first offset in `[off, end)` that is a hole, or `end` (SEEK_HOLE bounded by `end`).
    pub fn next_hole(&self, off: u64, end: u64) -> u64 {
        // SAFETY: lseek on our own memfd; SEEK_HOLE only reports a position.
        let hole = unsafe { libc::lseek(self.fd.as_raw_fd(), off as libc::off_t, libc::SEEK_HOLE) };
        if hole < 0 {
            end
        } else {
            (hole as u64).clamp(off, end)
        }
    }

    /// Reads from file offset `off` into `iov` with the host's preadv: unlike a copy through
    /// the Sentry's mapping, reading a hole does not give it a page (it stays a hole, as a
    /// read of a tmpfs hole leaves it on Linux). Returns the bytes read; `off` plus the
    /// iovecs' total must lie inside the file.
    pub fn read_iov(&self, off: u64, iov: &[libc::iovec]) -> Result<usize, Errno> {
        self.host_io(off, iov, false)
    }

    /// Writes the iovecs at file offset `off` with the host's pwritev: pages new to the file
    /// come from the host's shmem write path, which does not zero what it is about to fill (a
    /// copy through the Sentry's mapping faults in a zeroed page first). `off` plus the
    /// iovecs' total must lie inside the file.
    pub fn write_iov(&self, off: u64, iov: &[libc::iovec]) -> Result<usize, Errno> {
        self.host_io(off, iov, true)
    }

    /// preadv or pwritev of the whole of `iov` at `off`, resumed after short transfers.
    fn host_io(&self, off: u64, iov: &[libc::iovec], write: bool) -> Result<usize, Errno> {
        let total: u64 = iov.iter().map(|v| v.iov_len as u64).sum();
        assert!(off.saturating_add(total) <= self.size, "memory file I/O out of range");
        let mut done = 0usize;
        while (done as u64) < total {
            let rest = skip_iov(iov, done);
            let (fd, n, at) = (self.fd.as_raw_fd(), rest.len().min(1024) as i32, (off + done as u64) as libc::off_t);
            // SAFETY: each iovec is memory of at least its length (guest memory checked by the
            // memory manager, or a Sentry buffer), writable for a read; the host touches no
            // more.
            let n = unsafe { if write { libc::pwritev(fd, rest.as_ptr(), n, at) } else { libc::preadv(fd, rest.as_ptr(), n, at) } };
            match n {
                n if n > 0 => done += n as usize,
                0 => break,
                _ if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {}
                _ => return Err(Errno::EIO),
            }
        }
        Ok(done)
    }

    /// Whether any of the iovecs lies in the Sentry's mapping of `[off, off+len)`.
    pub fn overlaps(&self, off: u64, len: u64, iov: &[libc::iovec]) -> bool {
        let (start, end) = (self.ptr(off) as u64, self.ptr(off) as u64 + len);
        iov.iter().any(|v| (v.iov_base as u64) < end && start < v.iov_base as u64 + v.iov_len as u64)
    }

    /// Copies from file offset `off` into the iovecs (as memmove: they may be windows of the
    /// same pages). `off` plus the iovecs' total must lie inside the file.
    pub fn copy_to_iov(&self, off: u64, iov: &[libc::iovec]) {
        let mut at = off;
        for v in iov {
            assert!(at.saturating_add(v.iov_len as u64) <= self.size, "memory file copy_to_iov out of range");
            // SAFETY: the source lies inside the mapping (checked above); each iovec is
            // writable memory of its length (guest memory checked by the memory manager, or a
            // Sentry buffer); ptr::copy allows the two to overlap.
            unsafe { std::ptr::copy(self.ptr(at), v.iov_base.cast::<u8>(), v.iov_len) };
            at += v.iov_len as u64;
        }
    }

    /// Copies the iovecs to file offset `off` (as memmove). `off` plus the iovecs' total must
    /// lie inside the file.
    pub fn copy_from_iov(&self, off: u64, iov: &[libc::iovec]) {
        let mut at = off;
        for v in iov {
            assert!(at.saturating_add(v.iov_len as u64) <= self.size, "memory file copy_from_iov out of range");
            // SAFETY: the destination lies inside the mapping (checked above); each iovec is
            // readable memory of its length; ptr::copy allows the two to overlap.
            unsafe { std::ptr::copy(v.iov_base.cast::<u8>(), self.ptr(at), v.iov_len) };
            at += v.iov_len as u64;
        }
    }

    /// The Sentry's address of file offset `off`.
    pub fn ptr(&self, off: u64) -> *mut u8 {
        debug_assert!(off <= self.size);
        // SAFETY: `off` is within the mapping (callers translate through VMAs whose ranges
        // were allocated from this file).
        unsafe { self.base.add(off as usize) }
    }

    /// Copies `src` to file offset `off`.
    pub fn write(&self, off: u64, src: &[u8]) {
        assert!(off + src.len() as u64 <= self.size, "memory file write out of range");
        // SAFETY: the destination range is inside the mapping (checked above) and cannot
        // overlap `src`, which is Sentry memory.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr(off), src.len()) };
    }

    /// Copies from file offset `off` into `dst`.
    pub fn read(&self, off: u64, dst: &mut [u8]) {
        assert!(off + dst.len() as u64 <= self.size, "memory file read out of range");
        // SAFETY: the source range is inside the mapping (checked above) and cannot overlap
        // `dst`, which is Sentry memory.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr(off), dst.as_mut_ptr(), dst.len()) };
    }
}

/// `iov` without its first `skip` bytes (a copy of the list only when something is skipped).
fn skip_iov(iov: &[libc::iovec], skip: usize) -> std::borrow::Cow<'_, [libc::iovec]> {
    if skip == 0 {
        return std::borrow::Cow::Borrowed(iov);
    }
    let mut left = skip;
    let mut out = Vec::with_capacity(iov.len());
    for v in iov {
        if left >= v.iov_len {
            left -= v.iov_len;
            continue;
        }
        out.push(libc::iovec { iov_base: v.iov_base.cast::<u8>().wrapping_add(left).cast(), iov_len: v.iov_len - left });
        left = 0;
    }
    std::borrow::Cow::Owned(out)
}

/// One memory file shared by the unit tests of the filesystems that keep their data in one.
#[cfg(test)]
pub fn for_tests() -> std::sync::Arc<MemoryFile> {
    static MF: std::sync::OnceLock<std::sync::Arc<MemoryFile>> = std::sync::OnceLock::new();
    MF.get_or_init(|| std::sync::Arc::new(MemoryFile::new(4 << 30).expect("a memory file for tests"))).clone()
}

impl Drop for MemoryFile {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping made in `new`; nothing uses it after drop.
        unsafe { libc::munmap(self.base.cast(), self.size as usize) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocator_reuses_and_coalesces() {
        let mf = MemoryFile::new(1 << 20).unwrap();
        let a = mf.allocate(4096).unwrap();
        let b = mf.allocate(8192).unwrap();
        let c = mf.allocate(4096).unwrap();
        assert_eq!((a, b, c), (0, 4096, 12288));
        mf.write(b, b"hello");
        mf.release(a, 4096);
        mf.release(b, 8192);
        assert_eq!(mf.allocate(12288).unwrap(), 0);
        let mut buf = [1u8; 5];
        mf.read(b, &mut buf);
        assert_eq!(buf, [0; 5], "released pages read as zeros");
        assert_eq!(mf.allocate(1 << 20), Err(Errno::ENOMEM));
    }

    #[test]
    fn copies_reuse_kept_pages_and_hold_data_only_where_the_source_does() {
        let mf = MemoryFile::new(1 << 20).unwrap();
        let page = |i: u64| i * 4096;
        let src = mf.allocate(page(4)).unwrap();
        mf.write(src + page(1), b"one");
        mf.write(src + page(3), b"three");
        // An old range with data where the copy has holes and none where it has data.
        let old = mf.allocate(page(4)).unwrap();
        for i in [0, 2, 3] {
            mf.write(old + page(i), b"stale");
        }
        mf.release(old, page(4));
        assert_eq!(mf.kept().bytes, page(2) + page(1));
        assert_eq!(mf.in_use(), page(2), "kept pages are not in use");
        let copy = mf.copy_new(page(4), &[(src, 0, page(4))]).unwrap();
        assert_eq!(copy, old, "first fit lands on the released range");
        assert_eq!(mf.kept().bytes, 0);
        let mut ranges = Vec::new();
        mf.data_ranges(copy, page(4), |a, b| ranges.push((a - copy, b - copy)));
        assert_eq!(ranges, vec![(page(1), page(2)), (page(3), page(4))]);
        let mut buf = [0u8; 5];
        mf.read(copy + page(3), &mut buf);
        assert_eq!(&buf, b"three");
        mf.read(copy, &mut buf);
        assert_eq!(buf, [0; 5], "a stale page under a hole reads as zeros");
        // A plain allocation over kept pages reads as zeros too.
        mf.release(copy, page(4));
        let fresh = mf.allocate(page(4)).unwrap();
        assert_eq!(fresh, copy);
        assert!(mf.next_data(fresh, fresh + page(4)).is_none());
    }

    #[test]
    fn claim_takes_only_free_space_and_punch_keeps_it() {
        let mf = MemoryFile::new(1 << 20).unwrap();
        let a = mf.allocate(4096).unwrap();
        assert!(mf.claim(a + 4096, 8192), "the space after an allocation is free");
        assert!(!mf.claim(a + 8192, 4096), "already claimed");
        assert_eq!(mf.allocate(4096).unwrap(), 12288);
        mf.write(a, b"data");
        mf.write(a + 4096, b"x");
        mf.punch(a, 4096);
        let mut ranges = Vec::new();
        mf.data_ranges(0, 1 << 20, |x, y| ranges.push((x, y)));
        assert_eq!(ranges, vec![(4096, 8192)], "the punched page is a hole");
        let mut buf = [1u8; 4];
        mf.read(a, &mut buf);
        assert_eq!(buf, [0; 4]);
        assert_ne!(mf.allocate(4096).unwrap(), a, "a punched range stays allocated");
    }
}
