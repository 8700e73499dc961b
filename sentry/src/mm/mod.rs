//! The memory manager: a guest address space as VMAs over the memory file.
//!
//! The MemoryManager owns the VMA tree of one address space and the platform's view of it, and
//! keeps the two in step: every VMA is mapped in the stub as a window of the memory file at
//! the VMA's offset. It also owns copy-in and copy-out: guest pointers are translated through
//! the VMAs (checking permissions, as the kernel's page tables would) to the Sentry's mapping
//! of the memory file, so no copy needs a system call.
//!
//! Mappings are populated eagerly for now (the memfd is sparse, so untouched pages cost
//! nothing); demand paging and copy-on-write come with file-backed mappings and fork.

pub mod memory_file;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use platform::{AddressSpace, Prot, PAGE_SIZE};
use syscalls::Errno;

pub use memory_file::MemoryFile;

/// One past the highest user address of x86-64 with 4-level paging.
pub const TASK_SIZE: u64 = (1 << 47) - PAGE_SIZE;

/// Rounds up to a page boundary; None on overflow.
pub fn page_up(x: u64) -> Option<u64> {
    x.checked_add(PAGE_SIZE - 1).map(|v| v & !(PAGE_SIZE - 1))
}

/// Rounds down to a page boundary.
pub fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

/// What a VMA is for; shown in /proc/self/maps later, and used for brk bookkeeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmaKind {
    /// A segment of the executable.
    Image,
    /// The program break heap.
    Heap,
    /// The main thread's stack.
    Stack,
    /// Anonymous mmap.
    Anon,
}

/// One mapping: `[start, end)` backed by the memory file from `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vma {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Current protection.
    pub prot: Prot,
    /// Memory-file offset of `start`.
    pub offset: u64,
    /// Purpose.
    pub kind: VmaKind,
    /// MAP_SHARED: the start of the memory-file region the VMA shares with others (forked
    /// children keep it; nothing is copied). None for private memory.
    pub shared: Option<u64>,
}

/// A forked child's memory, copied from its parent.
pub struct ForkImage {
    vmas: Vec<Vma>,
    brk_start: u64,
    brk: u64,
    mmap_top: u64,
}

/// Whether a guest access reads or writes guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The Sentry reads guest memory (copy-in).
    Read,
    /// The Sentry writes guest memory (copy-out).
    Write,
}

impl Vma {
    fn allows(&self, a: Access) -> bool {
        match a {
            // On x86 every present user page is readable: write and exec imply read.
            Access::Read => self.prot != Prot::NONE,
            Access::Write => self.prot.write,
        }
    }
}

/// The address space of one guest process.
pub struct MemoryManager {
    mf: Arc<MemoryFile>,
    asp: Box<dyn AddressSpace>,
    vmas: BTreeMap<u64, Vma>,
    user: Range<u64>,
    /// Top of the area searched downwards for mmap without MAP_FIXED.
    mmap_top: u64,
    brk_start: u64,
    brk: u64,
    /// A copy of the VMAs for /proc/<pid>/maps, refreshed after each change.
    published: Arc<std::sync::Mutex<Vec<Vma>>>,
}

impl MemoryManager {
    /// An empty address space over `asp`, with guest addresses in `user`.
    pub fn new(mf: Arc<MemoryFile>, asp: Box<dyn AddressSpace>, user: Range<u64>) -> MemoryManager {
        MemoryManager { mf, asp, vmas: BTreeMap::new(), mmap_top: user.end, user, brk_start: 0, brk: 0, published: Arc::default() }
    }

    /// Copies every private VMA's memory into fresh memory-file ranges for a forked child
    /// (only the pages that hold data: holes stay holes); shared VMAs stay shared. Returns the
    /// child's VMAs and break.
    pub fn fork_copy(&self) -> Result<ForkImage, Errno> {
        let mut vmas = Vec::with_capacity(self.vmas.len());
        for v in self.vmas.values() {
            if let Some(region) = v.shared {
                self.mf.share(region);
                vmas.push(*v);
                continue;
            }
            let len = v.end - v.start;
            let off = match self.mf.allocate(len) {
                Ok(o) => o,
                Err(e) => {
                    for done in &vmas {
                        self.mf.drop_vma(done);
                    }
                    return Err(e);
                }
            };
            self.mf.copy_data(v.offset, off, len);
            vmas.push(Vma { offset: off, ..*v });
        }
        Ok(ForkImage { vmas, brk_start: self.brk_start, brk: self.brk, mmap_top: self.mmap_top })
    }

    /// The address space of a forked child over `asp`: maps every copied VMA.
    pub fn from_fork(mf: Arc<MemoryFile>, mut asp: Box<dyn AddressSpace>, user: Range<u64>, img: ForkImage) -> Result<MemoryManager, Errno> {
        for v in &img.vmas {
            if let Err(e) = asp.map(v.start, v.end - v.start, v.prot, v.offset) {
                tracing::error!("mapping a forked VMA: {e}");
                return Err(Errno::ENOMEM);
            }
        }
        let vmas = img.vmas.iter().map(|v| (v.start, *v)).collect();
        let mm = MemoryManager { mf, asp, vmas, user, mmap_top: img.mmap_top, brk_start: img.brk_start, brk: img.brk, published: Arc::default() };
        mm.publish();
        Ok(mm)
    }

    /// The VMAs as /proc shows them (kept current by every change).
    pub fn published(&self) -> Arc<std::sync::Mutex<Vec<Vma>>> {
        self.published.clone()
    }

    fn publish(&self) {
        *self.published.lock().unwrap_or_else(|e| e.into_inner()) = self.vmas.values().copied().collect();
    }

    /// The memory file behind this address space.
    pub fn memory_file(&self) -> &Arc<MemoryFile> {
        &self.mf
    }

    /// The addresses a guest may map.
    pub fn user_range(&self) -> Range<u64> {
        self.user.clone()
    }

    /// Sets where top-down mmap searches start (below the stack).
    pub fn set_mmap_top(&mut self, top: u64) {
        self.mmap_top = top.min(self.user.end);
    }

    /// Sets the program break's start (the page after the executable image).
    pub fn set_brk_start(&mut self, start: u64) {
        self.brk_start = start;
        self.brk = start;
    }

    /// All VMAs in address order.
    pub fn vmas(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.values()
    }

    fn check_range(&self, addr: u64, len: u64) -> Result<u64, Errno> {
        let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
        if addr < self.user.start || end > self.user.end {
            return Err(Errno::ENOMEM);
        }
        Ok(end)
    }

    fn is_free(&self, start: u64, end: u64) -> bool {
        if start < self.user.start || end > self.user.end {
            return false;
        }
        match self.vmas.range(..end).next_back() {
            Some((_, v)) => v.end <= start,
            None => true,
        }
    }

    /// A free range of `len` bytes where mmap would place it (for the program interpreter).
    pub fn free_area(&self, len: u64) -> Result<u64, Errno> {
        self.find_free(page_up(len).ok_or(Errno::ENOMEM)?)
    }

    /// Finds a free range of `len` bytes, top-down from the mmap area's top.
    fn find_free(&self, len: u64) -> Result<u64, Errno> {
        let mut end = self.mmap_top;
        loop {
            let start = end.checked_sub(len).ok_or(Errno::ENOMEM)?;
            if start < self.user.start {
                return Err(Errno::ENOMEM);
            }
            match self.vmas.range(..end).next_back() {
                Some((_, v)) if v.end > start => end = v.start,
                _ => return Ok(start),
            }
        }
    }

    /// Splits the VMA containing `addr` (if any) so that a VMA boundary falls at `addr`.
    fn split_at(&mut self, addr: u64) {
        let Some((&s, v)) = self.vmas.range(..addr).next_back() else { return };
        if v.end <= addr {
            return;
        }
        let mut lo = *v;
        let mut hi = *v;
        lo.end = addr;
        hi.start = addr;
        hi.offset = v.offset + (addr - s);
        if let Some(region) = v.shared {
            self.mf.share(region);
        }
        self.vmas.insert(s, lo);
        self.vmas.insert(addr, hi);
    }

    /// Maps fresh zeroed memory. `fixed` replaces whatever is at `addr`; otherwise `addr` is a
    /// hint and a free range is chosen. Returns the address.
    pub fn map_anon(&mut self, addr: u64, len: u64, prot: Prot, fixed: bool, kind: VmaKind) -> Result<u64, Errno> {
        self.map_memory(addr, len, prot, fixed, kind, false)
    }

    /// As [`map_anon`](Self::map_anon); `shared` memory (MAP_SHARED) stays shared with forked
    /// children.
    pub fn map_memory(&mut self, addr: u64, len: u64, prot: Prot, fixed: bool, kind: VmaKind, shared: bool) -> Result<u64, Errno> {
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let start = if fixed {
            self.check_range(addr, len)?;
            self.unmap(addr, len)?;
            addr
        } else {
            let hint = page_down(addr);
            match hint.checked_add(len) {
                Some(end) if hint != 0 && self.is_free(hint, end) => hint,
                _ => self.find_free(len)?,
            }
        };
        let offset = if shared { self.mf.allocate_shared(len)? } else { self.mf.allocate(len)? };
        let vma = Vma { start, end: start + len, prot, offset, kind, shared: shared.then_some(offset) };
        if let Err(e) = self.asp.map(start, len, prot, offset) {
            tracing::error!("mapping {start:#x}+{len:#x} in the stub: {e}");
            self.mf.drop_vma(&vma);
            return Err(Errno::ENOMEM);
        }
        self.vmas.insert(start, vma);
        self.publish();
        Ok(start)
    }

    /// Unmaps `[addr, addr+len)`; holes are fine, as in munmap(2).
    pub fn unmap(&mut self, addr: u64, len: u64) -> Result<(), Errno> {
        // As Linux: page-aligned, non-empty, and inside TASK_SIZE.
        if !addr.is_multiple_of(PAGE_SIZE) || len == 0 || addr > TASK_SIZE || len > TASK_SIZE - addr {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::EINVAL)?;
        let end = addr + len;
        self.split_at(addr);
        self.split_at(end);
        let doomed: Vec<u64> = self.vmas.range(addr..end).map(|(&s, _)| s).collect();
        if doomed.is_empty() {
            return Ok(());
        }
        for s in doomed {
            if let Some(v) = self.vmas.remove(&s) {
                self.mf.drop_vma(&v);
            }
        }
        let (lo, hi) = (addr.max(self.user.start), end.min(self.user.end));
        if lo < hi {
            if let Err(e) = self.asp.unmap(lo, hi - lo) {
                tracing::error!("unmapping {lo:#x}..{hi:#x} in the stub: {e}");
            }
        }
        self.publish();
        Ok(())
    }

    /// Changes the protection of `[addr, addr+len)`, which must be fully mapped (else ENOMEM).
    pub fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Ok(());
        }
        let end = self.check_range(addr, len)?;
        let mut at = addr;
        while at < end {
            match self.find(at) {
                Some(v) => at = v.end,
                None => return Err(Errno::ENOMEM),
            }
        }
        self.split_at(addr);
        self.split_at(end);
        for (_, v) in self.vmas.range_mut(addr..end) {
            v.prot = prot;
        }
        self.publish();
        if let Err(e) = self.asp.protect(addr, len, prot) {
            tracing::error!("mprotect {addr:#x}+{len:#x} in the stub: {e}");
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// brk(2): moves the program break; returns the new (or, on failure, the old) break.
    pub fn brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start {
            return self.brk;
        }
        let (old_top, Some(new_top)) = (page_up(self.brk).unwrap_or(self.brk), page_up(new)) else { return self.brk };
        if new_top > old_top {
            if !self.is_free(old_top, new_top) {
                return self.brk;
            }
            if self.map_anon(old_top, new_top - old_top, Prot::RW, true, VmaKind::Heap).is_err() {
                return self.brk;
            }
        } else if new_top < old_top && self.unmap(new_top, old_top - new_top).is_err() {
            return self.brk;
        }
        self.brk = new;
        self.brk
    }

    /// The VMA containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| addr < v.end)
    }

    /// Splits `[addr, addr+len)` into (Sentry pointer, length) pieces, stopping at the first
    /// byte the access is not allowed to touch. Returns the pieces and the bytes covered.
    pub fn segments(&self, addr: u64, len: u64, access: Access, out: &mut Vec<libc::iovec>) -> u64 {
        let mut at = addr;
        let end = addr.saturating_add(len);
        while at < end {
            let Some(v) = self.find(at) else { break };
            if !v.allows(access) {
                break;
            }
            let n = v.end.min(end) - at;
            let ptr = self.mf.ptr(v.offset + (at - v.start));
            match out.last_mut() {
                // Adjacent in the memory file too: extend the previous piece.
                Some(last) if last.iov_base as usize + last.iov_len == ptr as usize => last.iov_len += n as usize,
                _ => out.push(libc::iovec { iov_base: ptr.cast(), iov_len: n as usize }),
            }
            at += n;
        }
        at - addr
    }

    /// Copies `dst.len()` bytes from the guest; EFAULT unless all of them are readable.
    pub fn copy_in(&self, addr: u64, dst: &mut [u8]) -> Result<(), Errno> {
        self.copy(addr, dst.len() as u64, Access::Read, |off, pos, n| self.mf.read(off, &mut dst[pos..pos + n]))
    }

    /// Copies `src` to the guest; EFAULT unless all of it is writable.
    pub fn copy_out(&self, addr: u64, src: &[u8]) -> Result<(), Errno> {
        self.copy(addr, src.len() as u64, Access::Write, |off, pos, n| self.mf.write(off, &src[pos..pos + n]))
    }

    /// Writes `src` to the guest ignoring protection: the loader fills read-only segments.
    pub fn copy_out_force(&self, addr: u64, src: &[u8]) -> Result<(), Errno> {
        let mut pos = 0usize;
        while pos < src.len() {
            let at = addr + pos as u64;
            let v = self.find(at).ok_or(Errno::EFAULT)?;
            let n = ((v.end - at) as usize).min(src.len() - pos);
            self.mf.write(v.offset + (at - v.start), &src[pos..pos + n]);
            pos += n;
        }
        Ok(())
    }

    fn copy(&self, addr: u64, len: u64, access: Access, mut f: impl FnMut(u64, usize, usize)) -> Result<(), Errno> {
        addr.checked_add(len).ok_or(Errno::EFAULT)?;
        let mut pos = 0u64;
        while pos < len {
            let at = addr + pos;
            let v = self.find(at).filter(|v| v.allows(access)).ok_or(Errno::EFAULT)?;
            let n = (v.end - at).min(len - pos);
            f(v.offset + (at - v.start), pos as usize, n as usize);
            pos += n;
        }
        Ok(())
    }

    /// Reads a plain-data struct from the guest.
    pub fn read_struct<T: syscalls::structs::Pod>(&self, addr: u64) -> Result<T, Errno> {
        let mut buf = [0u8; 512];
        let b = &mut buf[..T::SIZE];
        self.copy_in(addr, b)?;
        Ok(T::from_bytes(b))
    }

    /// Writes a plain-data struct to the guest.
    pub fn write_struct<T: syscalls::structs::Pod>(&self, addr: u64, v: &T) -> Result<(), Errno> {
        let mut buf = [0u8; 512];
        let b = &mut buf[..T::SIZE];
        v.to_bytes(b);
        self.copy_out(addr, b)
    }

    /// Reads a NUL-terminated string of at most `max` bytes (NUL excluded); ENAMETOOLONG if
    /// there is no NUL within `max + 1` bytes, EFAULT if memory ends first.
    pub fn copy_in_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut at = addr;
        loop {
            let v = self.find(at).filter(|v| v.allows(Access::Read)).ok_or(Errno::EFAULT)?;
            // Read up to the end of the page, so a string ending just before a hole works.
            let chunk = (page_up(at + 1).unwrap_or(v.end).min(v.end) - at) as usize;
            let mut buf = [0u8; PAGE_SIZE as usize];
            self.mf.read(v.offset + (at - v.start), &mut buf[..chunk]);
            if let Some(nul) = buf[..chunk].iter().position(|&b| b == 0) {
                out.extend_from_slice(&buf[..nul]);
                if out.len() > max {
                    return Err(Errno::ENAMETOOLONG);
                }
                return Ok(out);
            }
            out.extend_from_slice(&buf[..chunk]);
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            at += chunk as u64;
        }
    }
}

impl Drop for MemoryManager {
    fn drop(&mut self) {
        // The memory goes back to the memory file (the stub goes with the address space).
        for v in self.vmas.values() {
            self.mf.drop_vma(v);
        }
    }
}

impl MemoryFile {
    /// Gives back what a VMA held: its private range, or its reference to a shared region.
    fn drop_vma(&self, v: &Vma) {
        match v.shared {
            Some(region) => self.unshare(region),
            None => self.release(v.offset, v.end - v.start),
        }
    }
}

impl syscalls::strace::GuestReader for MemoryManager {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.copy_in(addr, buf)
    }
}

#[cfg(test)]
mod tests;
