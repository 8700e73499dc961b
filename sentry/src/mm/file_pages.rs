//! The data of an in-memory file (tmpfs, /dev/shm, memfd), kept in the memory file.
//!
//! A file's bytes live in extents: page-aligned runs of the file, each a shared region of the
//! memory file (refcounted there, as SysV segments and MAP_SHARED anonymous memory are). The
//! file holds one reference to each of its extents; a MAP_SHARED mapping of the file is a set
//! of VMAs that are windows of those same regions, each VMA holding a reference of its own.
//! So read() and write() (which copy to and from the regions), stores through any mapping in
//! any process, and fork all see one set of pages, and the memory outlives whichever of the
//! file and its mappings goes last.
//!
//! Holes: a file range without an extent reads as zeros and uses nothing; inside an extent,
//! pages never written are holes of the memory file. The file keeps the set of its pages that
//! hold data, so st_blocks and SEEK_DATA/SEEK_HOLE cost no system call and reads copy only
//! data pages (touching a hole through the Sentry's mapping would give it a page). Once a
//! shared mapping has had a window of the file, stores through it can fill holes unseen, so
//! from then on those answers come from the memory file itself (lseek SEEK_DATA/SEEK_HOLE) and
//! reads go through the host's preadv, which leaves holes alone.
//!
//! Past the end of the file: Linux raises SIGBUS when a mapping touches a page wholly past
//! EOF. Here such pages stay part of the file's extents and read as zeros; what a mapping
//! stores there is invisible to read() and is zeroed when the file grows over it. Truncation
//! zeroes the bytes cut off at once, in every mapping; extents past the new end that no
//! mapping holds go back to the memory file.
//!
//! This module owns the file-to-memory-file layout; mapping windows into an address space is
//! [`super::shared_file`]'s.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use syscalls::Errno;

use super::{page_down, page_up, MemoryFile};
use platform::PAGE_SIZE;

/// The most file space a growing file's newest extent reserves beyond what was asked: a file
/// written a piece at a time then needs few extents (the reservation is address space of the
/// sparse memory file, not memory).
const MAX_SLACK: u64 = 64 << 20;

/// Writes of at least this much go through the host's write path (see
/// [`MemoryFile::write_iov`]); smaller ones are copied, without a system call.
const HOST_WRITE_MIN: u64 = 4 * PAGE_SIZE;

const PAGE: u64 = PAGE_SIZE;

/// The bytes of one in-memory file. Clones are handles to the same file.
#[derive(Clone)]
pub struct FilePages {
    inner: Arc<Inner>,
}

/// A file's pages; each of its extents' regions names it as its owner in the memory file.
struct Inner {
    mf: Arc<MemoryFile>,
    layout: RwLock<Layout>,
}

#[derive(Default)]
struct Layout {
    /// Extents by the file offset of their first byte (page-aligned); they never overlap.
    extents: BTreeMap<u64, Extent>,
    size: u64,
    /// The pages that hold data (written or allocated and not punched since): exact until a
    /// shared mapping had a window of the file, a subset of them after.
    data: PageSet,
    /// A shared mapping has had a window of the file: stores through it may have filled holes
    /// and left bytes past EOF (otherwise pages past EOF are always zero).
    mapped: bool,
}

/// A run of the file's pages: `len` bytes of the memory file's shared region at `region`.
#[derive(Clone, Copy, Debug)]
struct Extent {
    region: u64,
    len: u64,
}

/// A window of a file's pages for one VMA: `len` bytes at memory-file `offset`, inside the
/// shared region `region`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The shared region (its start) the window lies in.
    pub region: u64,
    /// The memory-file offset of the window's first byte.
    pub offset: u64,
    /// Its length (a page multiple).
    pub len: u64,
}

/// Windows of a file's pages, each holding a reference to its region until dropped: the
/// extents cannot go (a racing truncate) before the VMAs that map them take their own.
pub struct PinnedWindows {
    mf: Arc<MemoryFile>,
    windows: Vec<Window>,
}

impl PinnedWindows {
    /// The windows, in file order, contiguous in the file.
    pub fn windows(&self) -> &[Window] {
        &self.windows
    }
}

impl Drop for PinnedWindows {
    fn drop(&mut self) {
        for w in &self.windows {
            self.mf.unshare(w.region);
        }
    }
}

impl FilePages {
    /// An empty file whose pages will live in `mf`.
    pub fn new(mf: Arc<MemoryFile>) -> FilePages {
        FilePages { inner: Arc::new(Inner { mf, layout: RwLock::default() }) }
    }

    /// The file whose extent the shared region at `region` is, while the file lives, and the
    /// file offset of the region's first byte.
    pub fn of_region(mf: &MemoryFile, region: u64) -> Option<(FilePages, u64)> {
        let inner = mf.owner(region)?.downcast::<Inner>().ok()?;
        let start = inner.layout.read().unwrap_or_else(|e| e.into_inner()).extents.iter().find(|(_, e)| e.region == region).map(|(&s, _)| s)?;
        Some((FilePages { inner }, start))
    }

    fn read_layout(&self) -> RwLockReadGuard<'_, Layout> {
        self.inner.layout.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_layout(&self) -> RwLockWriteGuard<'_, Layout> {
        self.inner.layout.write().unwrap_or_else(|e| e.into_inner())
    }

    fn mf(&self) -> &Arc<MemoryFile> {
        &self.inner.mf
    }

    /// What each new extent's region names as its owner.
    fn owner(&self) -> Weak<dyn Any + Send + Sync> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        weak
    }

    /// The file size.
    pub fn len(&self) -> u64 {
        self.read_layout().size
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// 512-byte blocks backed by memory (the pages that hold data, past EOF too).
    pub fn blocks(&self) -> u64 {
        let l = self.read_layout();
        if !l.mapped {
            return l.data.count * (PAGE / 512);
        }
        let mut bytes = 0;
        for e in l.extents.values() {
            self.mf().data_ranges(e.region, e.len, |a, b| bytes += b - a);
        }
        bytes / 512
    }

    /// Reads from `off` into `iov`; returns the bytes read (short at the end of the file).
    pub fn read(&self, off: u64, iov: &[libc::iovec]) -> Result<usize, Errno> {
        let l = self.read_layout();
        if off >= l.size {
            return Ok(0);
        }
        let want = iov_total(iov).min(l.size - off);
        let mut done = 0;
        while done < want {
            let pos = off + done;
            // A run of data pages (copied from the extents) or of holes (zeros).
            let (data, stop) = if l.mapped {
                match l.at(pos) {
                    (Some(_), stop) => (true, stop),
                    (None, stop) => (false, stop),
                }
            } else {
                match l.data.run_at(pos / PAGE) {
                    (true, end) => (true, end.saturating_mul(PAGE)),
                    (false, end) => (false, end.saturating_mul(PAGE)),
                }
            };
            let n = (stop - pos).min(want - done);
            if data {
                l.copy_out(self.mf(), pos, &iov_range(iov, done, n))?;
            } else {
                zero_iov(&iov_range(iov, done, n));
            }
            done += n;
        }
        Ok(done as usize)
    }

    /// Writes `iov` at `off` (the caller checked that the end fits in a file), growing the
    /// file; ENOSPC when the memory file has no room for new pages.
    pub fn write(&self, off: u64, iov: &[libc::iovec]) -> Result<usize, Errno> {
        let total = iov_total(iov);
        if total == 0 {
            return Ok(0);
        }
        let end = off.checked_add(total).ok_or(Errno::EFBIG)?;
        let mut l = self.write_layout();
        l.ensure(self.mf(), &self.owner(), off, end).map_err(|_| Errno::ENOSPC)?;
        // What lies between the old end and the write reads as zeros.
        l.zero_past_eof(self.mf(), off);
        let mut done = 0;
        while done < total {
            let pos = off + done;
            let (Some(mf_off), stop) = l.at(pos) else { break };
            let n = (stop - pos).min(total - done);
            let src = iov_range(iov, done, n);
            // A source that maps the destination is copied as Linux does, page by page in
            // order (a memmove would differ), by the host itself.
            if n >= HOST_WRITE_MIN || self.mf().overlaps(mf_off, n, &src) {
                self.mf().write_iov(mf_off, &src)?;
            } else {
                self.mf().copy_from_iov(mf_off, &src);
            }
            done += n;
        }
        l.data.insert(off / PAGE, (off + done).div_ceil(PAGE));
        l.size = l.size.max(off + done);
        Ok(done as usize)
    }

    /// Sets the size. Shrinking zeroes the bytes cut off (mappings see zeros there at once)
    /// and gives back the extents past the end that nothing maps; growing reads as zeros.
    pub fn truncate(&self, size: u64) {
        let mut l = self.write_layout();
        if size < l.size {
            // Whole pages past the new end are freed; without a mapping nothing lies past the
            // old end's page.
            let to = if l.mapped { u64::MAX } else { page_up(l.size).unwrap_or(u64::MAX) };
            l.punch(self.mf(), size, to);
            let keep = page_up(size).unwrap_or(u64::MAX);
            let past: Vec<(u64, Extent)> = l.extents.range(keep..).map(|(&s, &e)| (s, e)).collect();
            for (s, e) in past {
                // One reference is the file's own: no mapping (or mmap in progress) has it.
                if self.mf().share_count(e.region) == Some(1) {
                    l.extents.remove(&s);
                    self.mf().unshare(e.region);
                }
            }
        } else {
            l.zero_past_eof(self.mf(), size);
        }
        l.size = size;
    }

    /// Zeroes `[off, off+len)`, freeing the whole pages in it (FALLOC_FL_PUNCH_HOLE).
    pub fn zero(&self, off: u64, len: u64) {
        let mut l = self.write_layout();
        l.punch(self.mf(), off, off.saturating_add(len));
    }

    /// Backs `[off, off+len)` with memory (fallocate mode 0, or FALLOC_FL_KEEP_SIZE, which
    /// leaves the size alone); ENOSPC when the memory file has no room.
    pub fn allocate(&self, off: u64, len: u64, keep_size: bool) -> Result<(), Errno> {
        let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
        let mut l = self.write_layout();
        l.ensure(self.mf(), &self.owner(), off, end).map_err(|_| Errno::ENOSPC)?;
        if !keep_size && end > l.size {
            l.zero_past_eof(self.mf(), end);
            l.size = end;
        }
        let mut pos = page_down(off);
        let end = page_up(end).unwrap_or(end);
        while pos < end {
            let (piece, stop) = l.at(pos);
            let n = stop.min(end) - pos;
            if let Some(mf_off) = piece {
                self.mf().populate(mf_off, n);
            }
            pos += n;
        }
        l.data.insert(page_down(off) / PAGE, end / PAGE);
        Ok(())
    }

    /// SEEK_DATA: the first data offset at or after `off`, or None (ENXIO).
    pub fn seek_data(&self, off: u64) -> Option<u64> {
        let l = self.read_layout();
        if !l.mapped {
            let at = match l.data.run_at(off / PAGE) {
                (true, _) => off,
                (false, next) => next.saturating_mul(PAGE),
            };
            return (at < l.size).then_some(at);
        }
        let mut pos = off;
        while pos < l.size {
            let (piece, stop) = l.at(pos);
            let stop = stop.min(l.size);
            if let Some(mf_off) = piece {
                if let Some(d) = self.mf().next_data(mf_off, mf_off + (stop - pos)) {
                    return Some(pos + (d - mf_off));
                }
            }
            pos = stop;
        }
        None
    }

    /// SEEK_HOLE: the first hole at or after `off` (the end of the file counts), or None
    /// (ENXIO) past the end.
    pub fn seek_hole(&self, off: u64) -> Option<u64> {
        let l = self.read_layout();
        if off >= l.size {
            return None;
        }
        if !l.mapped {
            return Some(match l.data.run_at(off / PAGE) {
                (true, end) => end.saturating_mul(PAGE).min(l.size),
                (false, _) => off,
            });
        }
        let mut pos = off;
        while pos < l.size {
            let (piece, stop) = l.at(pos);
            let stop = stop.min(l.size);
            let Some(mf_off) = piece else { return Some(pos) };
            let end = mf_off + (stop - pos);
            let h = self.mf().next_hole(mf_off, end);
            if h < end {
                return Some(pos + (h - mf_off));
            }
            pos = stop;
        }
        Some(l.size)
    }

    /// Pins the windows of `[off, off+len)` (page-aligned) for a shared mapping, giving the
    /// range pages first where it has none (past EOF too: see the module doc). ENOMEM when
    /// the memory file has no room.
    pub fn pin(&self, off: u64, len: u64) -> Result<PinnedWindows, Errno> {
        let end = off.checked_add(len).ok_or(Errno::EOVERFLOW)?;
        let mut l = self.write_layout();
        l.ensure(self.mf(), &self.owner(), off, end)?;
        l.mapped = true;
        let mut pinned = PinnedWindows { mf: self.mf().clone(), windows: Vec::new() };
        let mut pos = off;
        while pos < end {
            let Some((s, e)) = l.extent_at(pos) else { return Err(Errno::ENOMEM) };
            let n = (s + e.len).min(end) - pos;
            self.mf().share(e.region);
            pinned.windows.push(Window { region: e.region, offset: e.region + (pos - s), len: n });
            pos += n;
        }
        Ok(pinned)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let l = self.layout.get_mut().unwrap_or_else(|e| e.into_inner());
        for e in l.extents.values() {
            self.mf.unshare(e.region);
        }
    }
}

impl Layout {
    /// The extent holding file offset `pos`, with its start.
    fn extent_at(&self, pos: u64) -> Option<(u64, Extent)> {
        let (&s, &e) = self.extents.range(..=pos).next_back()?;
        (pos < s + e.len).then_some((s, e))
    }

    /// Where file offset `pos` lives: its memory-file offset (None in a hole), and where that
    /// run ends (the extent's end, or the next extent's start: u64::MAX when none follows).
    fn at(&self, pos: u64) -> (Option<u64>, u64) {
        if let Some((s, e)) = self.extent_at(pos) {
            return (Some(e.region + (pos - s)), s + e.len);
        }
        (None, self.extents.range(pos..).next().map_or(u64::MAX, |(&s, _)| s))
    }

    /// Gives every page of `[start, end)` an extent: the extent before a gap grows into it
    /// when the memory file has room there, else a new one is made. The file's tail grows
    /// geometrically: a new last extent reserves up to its file offset again (at most
    /// MAX_SLACK) past what was asked. ENOMEM when the memory file has no room.
    fn ensure(&mut self, mf: &MemoryFile, owner: &Weak<dyn Any + Send + Sync>, start: u64, end: u64) -> Result<(), Errno> {
        let mut pos = page_down(start);
        let end = page_up(end).ok_or(Errno::ENOMEM)?;
        while pos < end {
            let (piece, stop) = self.at(pos);
            if piece.is_some() {
                pos = stop;
                continue;
            }
            let need = stop.min(end) - pos;
            let want = if stop == u64::MAX { page_up(need.max(pos.min(MAX_SLACK))).unwrap_or(need) } else { need };
            // The extent just before grows in place when the memory file has room after it.
            if let Some((s, e)) = pos.checked_sub(1).and_then(|p| self.extent_at(p)) {
                if mf.grow_shared(e.region, need) {
                    self.extents.insert(s, Extent { len: e.len + need, ..e });
                    pos += need;
                    continue;
                }
            }
            let (region, len) = match mf.allocate_shared(want) {
                Ok(r) => (r, want),
                Err(_) if want > need => (mf.allocate_shared(need)?, need),
                Err(e) => return Err(e),
            };
            mf.set_owner(region, owner.clone());
            self.extents.insert(pos, Extent { region, len });
            pos += len;
        }
        Ok(())
    }

    /// Copies the file bytes from `pos` (all inside extents) into `iov`: with the host's
    /// preadv once a mapping may have filled holes unseen (a copy through the Sentry's mapping
    /// would give them pages), else directly.
    fn copy_out(&self, mf: &MemoryFile, pos: u64, iov: &[libc::iovec]) -> Result<(), Errno> {
        let total = iov_total(iov);
        let mut done = 0;
        while done < total {
            let at = pos + done;
            let (piece, stop) = self.at(at);
            let n = (stop - at).min(total - done);
            let sub = iov_range(iov, done, n);
            match piece {
                Some(mf_off) if self.mapped => {
                    mf.read_iov(mf_off, &sub)?;
                }
                Some(mf_off) => mf.copy_to_iov(mf_off, &sub),
                None => zero_iov(&sub),
            }
            done += n;
        }
        Ok(())
    }

    /// Zeroes `[a, b)` wherever it has pages (whole pages become holes).
    fn punch(&mut self, mf: &MemoryFile, a: u64, b: u64) {
        if a >= b {
            return;
        }
        // A partly zeroed page keeps its memory, as in Linux's tmpfs.
        self.data.remove(a.div_ceil(PAGE), b / PAGE);
        let first = self.extent_at(a).map_or(a, |(s, _)| s);
        for (&s, e) in self.extents.range(first..b) {
            let (lo, hi) = (a.max(s), b.min(s + e.len));
            if lo < hi {
                mf.punch(e.region + (lo - s), hi - lo);
            }
        }
    }

    /// Before the size grows to `new_size`: bytes from the old end read as zeros, whatever a
    /// mapping stored past EOF (nothing can have, if nothing ever mapped the file).
    fn zero_past_eof(&mut self, mf: &MemoryFile, new_size: u64) {
        if self.mapped && new_size > self.size {
            self.punch(mf, self.size, new_size);
        }
    }
}

/// Pages holding data, as runs `[start, end)` of page numbers (never adjacent or overlapping).
#[derive(Default)]
struct PageSet {
    runs: BTreeMap<u64, u64>,
    /// Pages in all.
    count: u64,
}

impl PageSet {
    /// Adds pages `[a, b)`.
    fn insert(&mut self, mut a: u64, mut b: u64) {
        if a >= b {
            return;
        }
        if let Some((&s, &e)) = self.runs.range(..=a).next_back() {
            if e >= a {
                self.runs.remove(&s);
                self.count -= e - s;
                a = s;
                b = b.max(e);
            }
        }
        while let Some((&s, &e)) = self.runs.range(a..=b).next() {
            self.runs.remove(&s);
            self.count -= e - s;
            b = b.max(e);
        }
        self.runs.insert(a, b);
        self.count += b - a;
    }

    /// Removes pages `[a, b)`.
    fn remove(&mut self, a: u64, b: u64) {
        if a >= b {
            return;
        }
        if let Some((&s, &e)) = self.runs.range(..a).next_back() {
            if e > a {
                self.runs.insert(s, a);
                self.count -= e - a;
                if e > b {
                    self.runs.insert(b, e);
                    self.count += e - b;
                }
            }
        }
        while let Some((&s, &e)) = self.runs.range(a..b).next() {
            self.runs.remove(&s);
            self.count -= e - s;
            if e > b {
                self.runs.insert(b, e);
                self.count += e - b;
            }
        }
    }

    /// Whether page `p` holds data, and where its run (of data, or of holes) ends: u64::MAX
    /// for the holes after the last data.
    fn run_at(&self, p: u64) -> (bool, u64) {
        if let Some((_, &e)) = self.runs.range(..=p).next_back().filter(|(_, &e)| e > p) {
            return (true, e);
        }
        (false, self.runs.range(p..).next().map_or(u64::MAX, |(&s, _)| s))
    }
}

fn iov_total(iov: &[libc::iovec]) -> u64 {
    iov.iter().map(|v| v.iov_len as u64).sum()
}

/// The pieces of `iov` that cover its bytes `[from, from+n)` (the list itself when that is all
/// of it).
fn iov_range(iov: &[libc::iovec], from: u64, n: u64) -> std::borrow::Cow<'_, [libc::iovec]> {
    if from == 0 && n == iov_total(iov) {
        return std::borrow::Cow::Borrowed(iov);
    }
    let (mut skip, mut left) = (from as usize, n as usize);
    let mut out = Vec::new();
    for v in iov {
        if left == 0 {
            break;
        }
        if skip >= v.iov_len {
            skip -= v.iov_len;
            continue;
        }
        let k = (v.iov_len - skip).min(left);
        out.push(libc::iovec { iov_base: v.iov_base.cast::<u8>().wrapping_add(skip).cast(), iov_len: k });
        skip = 0;
        left -= k;
    }
    std::borrow::Cow::Owned(out)
}

/// Fills the pieces with zeros (a read of a hole).
fn zero_iov(iov: &[libc::iovec]) {
    for v in iov {
        // SAFETY: each piece is writable memory of at least its length: guest memory checked
        // by the memory manager (inside the Sentry's memory-file mapping) or a Sentry buffer.
        unsafe { std::ptr::write_bytes(v.iov_base.cast::<u8>(), 0, v.iov_len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mf() -> Arc<MemoryFile> {
        Arc::new(MemoryFile::new(1 << 30).unwrap())
    }

    fn write(f: &FilePages, off: u64, data: &[u8]) {
        let iov = [libc::iovec { iov_base: data.as_ptr().cast_mut().cast(), iov_len: data.len() }];
        assert_eq!(f.write(off, &iov).unwrap(), data.len());
    }

    fn read_all(f: &FilePages) -> Vec<u8> {
        let mut buf = vec![0xffu8; f.len() as usize];
        let iov = [libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() }];
        let n = f.read(0, &iov).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn holes_read_as_zeros_and_seek_finds_them() {
        let f = FilePages::new(mf());
        write(&f, 10_000, b"data");
        assert_eq!(f.len(), 10_004);
        let all = read_all(&f);
        assert!(all[..10_000].iter().all(|&b| b == 0));
        assert_eq!(&all[10_000..], b"data");
        assert_eq!(f.seek_data(0), Some(8192));
        assert_eq!(f.seek_hole(0), Some(0));
        assert_eq!(f.seek_hole(9000), Some(10_004));
        assert_eq!(f.seek_data(20_000), None);
        assert_eq!(f.blocks(), 8, "reading the holes left them holes");
        f.truncate(5);
        assert_eq!(f.blocks(), 0);
        assert_eq!(read_all(&f), vec![0; 5]);
        write(&f, 0, b"abcdef");
        f.zero(1, 2);
        assert_eq!(read_all(&f), b"a\0\0def");
    }

    #[test]
    fn page_set_merges_splits_and_counts() {
        let mut p = PageSet::default();
        p.insert(2, 4);
        p.insert(6, 8);
        p.insert(4, 6);
        assert_eq!((p.runs.len(), p.count), (1, 6), "adjacent runs merge");
        p.remove(3, 5);
        assert_eq!(p.count, 4);
        assert_eq!(p.run_at(2), (true, 3));
        assert_eq!(p.run_at(3), (false, 5));
        assert_eq!(p.run_at(7), (true, 8));
        assert_eq!(p.run_at(8), (false, u64::MAX));
        p.insert(0, 10);
        assert_eq!((p.runs.len(), p.count), (1, 10));
        p.remove(0, u64::MAX);
        assert_eq!((p.runs.len(), p.count), (0, 0));
    }

    #[test]
    fn a_mapped_file_asks_the_memory_file_about_holes() {
        let mf = mf();
        let f = FilePages::new(mf.clone());
        f.truncate(3 * PAGE);
        let pinned = f.pin(0, 3 * PAGE).unwrap();
        let w = pinned.windows()[0];
        // A store through the mapping fills a hole nobody told the file about.
        mf.write(w.offset + PAGE + 10, b"m");
        assert_eq!(f.blocks(), 8);
        assert_eq!(f.seek_data(0), Some(PAGE));
        assert_eq!(f.seek_hole(PAGE), Some(2 * PAGE));
        let all = read_all(&f);
        assert_eq!(all[PAGE as usize + 10], b'm');
        assert_eq!(f.blocks(), 8, "reading the holes left them holes");
    }

    #[test]
    fn windows_share_the_pages_with_read_and_write() {
        let mf = mf();
        let f = FilePages::new(mf.clone());
        write(&f, 0, b"hello");
        let pinned = f.pin(0, 2 * PAGE_SIZE).unwrap();
        let w = pinned.windows()[0];
        assert_eq!(w.len, 2 * PAGE_SIZE, "one extent covers the file and its growth");
        assert_eq!(mf.share_count(w.region), Some(2));
        // A store through the window is what read() returns, and the other way round.
        mf.write(w.offset, b"J");
        assert_eq!(read_all(&f), b"Jello");
        write(&f, 1, b"ELLO");
        let mut buf = [0u8; 5];
        mf.read(w.offset, &mut buf);
        assert_eq!(&buf, b"JELLO");
        // Past EOF: invisible to read, zeroed when the file grows over it.
        mf.write(w.offset + 100, b"x");
        assert_eq!(f.len(), 5);
        f.truncate(200);
        assert!(read_all(&f)[5..].iter().all(|&b| b == 0));
        // The truncated part reads as zeros through the window; the extent stays while mapped.
        f.truncate(2);
        mf.read(w.offset, &mut buf);
        assert_eq!(&buf, b"JE\0\0\0");
        drop(f);
        assert_eq!(mf.share_count(w.region), Some(1), "the pin outlives the file");
        drop(pinned);
        assert_eq!(mf.share_count(w.region), None, "the last reference frees the pages");
    }

    #[test]
    fn appending_takes_few_extents_and_truncate_frees_unmapped_ones() {
        let mf = mf();
        let f = FilePages::new(mf.clone());
        let chunk = vec![7u8; 65536];
        for i in 0..64 {
            write(&f, i * 65536, &chunk);
        }
        assert!(f.read_layout().extents.len() <= 8, "{} extents", f.read_layout().extents.len());
        assert_eq!(f.blocks(), 64 * 65536 / 512);
        let pinned = f.pin(0, PAGE_SIZE).unwrap();
        f.truncate(0);
        assert_eq!(f.read_layout().extents.len(), 1, "only the mapped extent stays");
        assert_eq!(f.blocks(), 0);
        drop(pinned);
        f.allocate(0, 3 * PAGE_SIZE, true).unwrap();
        assert_eq!((f.len(), f.blocks()), (0, 24), "KEEP_SIZE backs pages past EOF");
        f.allocate(0, 100, false).unwrap();
        assert_eq!(f.len(), 100);
    }
}
