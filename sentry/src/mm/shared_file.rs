//! MAP_SHARED file mappings: an address space's windows of an in-memory file's pages.
//!
//! A file's pages are extents in the memory file ([`super::file_pages`]); a shared mapping of
//! `[off, off+len)` of it is one VMA per extent the range crosses, consecutive in the address
//! space, each a window of its extent's region holding a reference to it (so fork, split,
//! mremap and munmap count it as they do any shared memory). `VmaKind::SharedFile` marks them;
//! its `may_write` is Linux's VM_MAYWRITE: a mapping of a descriptor not open for writing can
//! never be made writable (mprotect gives EACCES).
//!
//! mremap growing such a mapping past the end of its extent maps the file's next pages, which
//! may lie in another extent: the region's owner in the memory file names the file.
//!
//! This module owns only the mapping step; the file layout is `file_pages`'s and the VMA tree
//! is [`Mappings`]'s.

use platform::{Prot, PAGE_SIZE};
use syscalls::Errno;

use super::file_pages::{FilePages, PinnedWindows, Window};
use super::{page_align_wrapping, Backing, Mappings, MemoryManager, Vma, VmaKind};

impl Vma {
    /// Whether the VMA may be made writable (VM_MAYWRITE): all memory but a shared file
    /// mapping of a descriptor that was not open for writing.
    pub fn may_write(&self) -> bool {
        !matches!(self.kind, VmaKind::SharedFile { may_write: false })
    }
}

impl Mappings {
    /// Maps `windows` (contiguous in the file, `len` bytes in all) as consecutive VMAs of
    /// `kind`: at `addr` if `fixed` (replacing what is there), else at the hint `addr` if it is
    /// free, else where mmap puts things. Each VMA takes its own reference to its window's
    /// region. Returns the address.
    pub fn map_windows(&mut self, addr: u64, len: u64, prot: Prot, fixed: bool, kind: VmaKind, windows: &[Window]) -> Result<u64, Errno> {
        if len == 0 || windows.iter().map(|w| w.len).sum::<u64>() != len {
            return Err(Errno::EINVAL);
        }
        let start = self.placement(addr, len, fixed)?;
        let mut at = start;
        for w in windows {
            if let Err(e) = self.map_memory(at, w.len, prot, true, kind, Backing::Window { region: w.region, offset: w.offset }) {
                // What was mapped goes again (a MAP_FIXED mapping's old pages are gone, as
                // when Linux fails after unmapping them).
                if at > start {
                    let _ = self.unmap(start, at - start);
                }
                return Err(e);
            }
            at += w.len;
        }
        Ok(start)
    }
}

impl Mappings {
    /// mremap(2) growing a shared file mapping past the end of the extent its VMA is a window
    /// of (without MREMAP_FIXED or MREMAP_DONTUNMAP): the grown part is the file's next pages,
    /// wherever they live, so it is mapped afresh from the file, in place when the addresses
    /// after the range are free, else (MREMAP_MAYMOVE) the whole range at a new place. None
    /// when that is not the case, or the file is gone: the general path then applies.
    pub fn remap_window(&mut self, addr: u64, old_len: u64, new_len: u64, may_move: bool) -> Option<Result<u64, Errno>> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return None;
        }
        let (old_len, new_len) = (page_align_wrapping(old_len), page_align_wrapping(new_len));
        let v = *self.find(addr)?;
        let (VmaKind::SharedFile { .. }, Some(region)) = (v.kind, v.shared) else { return None };
        if old_len == 0 || new_len <= old_len || old_len > v.end - addr {
            return None;
        }
        let off = v.offset + (addr - v.start);
        if off + new_len <= region + self.mf.shared_len(region)? {
            return None;
        }
        let (file, region_at) = FilePages::of_region(&self.mf, region)?;
        Some(file.pin(region_at + (off - region), new_len).and_then(|pinned| self.remap_file(&v, addr, old_len, new_len, may_move, &pinned)))
    }

    /// Maps the file pages `pinned` (`new_len` bytes, from the file offset of `addr`) in place
    /// of `[addr, addr+old_len)` of `v`.
    fn remap_file(&mut self, v: &Vma, addr: u64, old_len: u64, new_len: u64, may_move: bool, pinned: &PinnedWindows) -> Result<u64, Errno> {
        let end = addr.checked_add(new_len).ok_or(Errno::ENOMEM)?;
        let to = if old_len == v.end - addr && self.is_free(addr + old_len, end) {
            let tail = skip_windows(pinned.windows(), old_len);
            self.map_windows(addr + old_len, new_len - old_len, v.prot, true, v.kind, &tail)?;
            addr
        } else if may_move {
            let to = self.find_free(new_len)?;
            self.map_windows(to, new_len, v.prot, true, v.kind, pinned.windows())?;
            self.unmap(addr, old_len)?;
            to
        } else {
            return Err(Errno::ENOMEM);
        };
        // The moved or grown mapping keeps the old one's lock and fork behaviour.
        let (lock, dont_fork) = (v.lock, v.dont_fork);
        self.set_range(to, to + new_len, |x| {
            x.lock = lock;
            x.dont_fork = dont_fork;
        });
        for x in self.overlapping(to, to + new_len) {
            self.populate_locked(&x);
        }
        Ok(to)
    }
}

/// The calls above on the address space a process's threads share, each under its lock.
impl MemoryManager {
    /// See [`Mappings::map_windows`].
    pub fn map_windows(&self, addr: u64, len: u64, prot: Prot, fixed: bool, kind: VmaKind, windows: &[Window]) -> Result<u64, Errno> {
        self.with(|m| m.map_windows(addr, len, prot, fixed, kind, windows))
    }

    /// See [`Mappings::remap_window`].
    pub fn remap_window(&self, addr: u64, old_len: u64, new_len: u64, may_move: bool) -> Option<Result<u64, Errno>> {
        self.with(|m| m.remap_window(addr, old_len, new_len, may_move))
    }
}

/// `windows` without their first `skip` bytes (a page multiple).
fn skip_windows(windows: &[Window], skip: u64) -> Vec<Window> {
    let mut left = skip;
    let mut out = Vec::with_capacity(windows.len());
    for w in windows {
        if left >= w.len {
            left -= w.len;
            continue;
        }
        out.push(Window { region: w.region, offset: w.offset + left, len: w.len - left });
        left = 0;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::mm::MemoryFile;

    use crate::mm::tests::FakeAs;

    fn read_file(f: &FilePages, off: u64, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        let iov = [libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: n }];
        let got = f.read(off, &iov).unwrap();
        buf.truncate(got);
        buf
    }

    #[test]
    fn windows_are_coherent_counted_and_guarded() {
        let mf = Arc::new(MemoryFile::new(1 << 30).unwrap());
        let f = FilePages::new(mf.clone());
        f.truncate(2 * PAGE_SIZE);
        let mut m = Mappings::new(mf.clone(), Box::new(FakeAs), 0x10000..0x1000_0000);
        let pinned = f.pin(0, 2 * PAGE_SIZE).unwrap();
        let region = pinned.windows()[0].region;
        let ro = VmaKind::SharedFile { may_write: false };
        let a = m.map_windows(0, 2 * PAGE_SIZE, Prot::RW, false, VmaKind::SharedFile { may_write: true }, pinned.windows()).unwrap();
        let first = f.pin(0, PAGE_SIZE).unwrap();
        let b = m.map_windows(0, PAGE_SIZE, Prot::from_bits(1), false, ro, first.windows()).unwrap();
        drop((pinned, first));
        assert_eq!(mf.share_count(region), Some(3), "the file and two VMAs");
        m.copy_out(a + PAGE_SIZE + 1, b"through a").unwrap();
        assert_eq!(&read_file(&f, PAGE_SIZE + 1, 9), b"through a");
        assert_eq!(m.protect(b, PAGE_SIZE, Prot::RW), Err(Errno::EACCES), "not VM_MAYWRITE");
        assert_eq!(m.protect(a, PAGE_SIZE, Prot::from_bits(1)), Ok(()));
        // A fork shares the windows; an unmap gives a reference back.
        let img = m.fork_copy().unwrap();
        let child = Mappings::from_fork(mf.clone(), Box::new(FakeAs), 0x10000..0x1000_0000, img).unwrap();
        assert_eq!(mf.share_count(region), Some(7), "the file, three VMAs (a split by mprotect) and their three copies");
        drop(child);
        m.unmap(b, PAGE_SIZE).unwrap();
        assert_eq!(mf.share_count(region), Some(3));
        // The file goes; the mapping keeps the pages.
        drop(f);
        let mut buf = [0u8; 9];
        m.copy_in(a + PAGE_SIZE + 1, &mut buf).unwrap();
        assert_eq!(&buf, b"through a");
        drop(m);
        assert_eq!(mf.share_count(region), None, "the last reference freed the pages");
    }

    #[test]
    fn mremap_grows_over_the_files_next_extent() {
        let mf = Arc::new(MemoryFile::new(1 << 30).unwrap());
        let f = FilePages::new(mf.clone());
        let iov_of = |d: &[u8]| [libc::iovec { iov_base: d.as_ptr().cast_mut().cast(), iov_len: d.len() }];
        f.write(0, &iov_of(b"first")).unwrap();
        // Something takes the memory-file space after the first extent, so the file's next
        // page lands in another one.
        let other = mf.allocate(PAGE_SIZE).unwrap();
        f.write(PAGE_SIZE, &iov_of(b"second")).unwrap();
        let mut m = Mappings::new(mf.clone(), Box::new(FakeAs), 0x10000..0x1000_0000);
        let pinned = f.pin(0, PAGE_SIZE).unwrap();
        let kind = VmaKind::SharedFile { may_write: true };
        let a = m.map_windows(0, PAGE_SIZE, Prot::RW, false, kind, pinned.windows()).unwrap();
        drop(pinned);
        let to = m.remap_window(a, PAGE_SIZE, 2 * PAGE_SIZE, true).expect("a file window").unwrap();
        let mut buf = [0u8; 6];
        m.copy_in(to + PAGE_SIZE, &mut buf).unwrap();
        assert_eq!(&buf, b"second");
        assert_eq!(m.vmas().count(), 2, "one VMA per extent");
        mf.release(other, PAGE_SIZE);
    }
}
