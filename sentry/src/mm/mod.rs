//! The memory manager: a guest address space as VMAs over the memory file.
//!
//! [`Mappings`] owns the VMA tree of one address space and the platform's view of it, and keeps
//! the two in step (the [`MemoryManager`] is the lock its threads share): every VMA is mapped
//! in the stub as a window of the memory file at the VMA's offset. It also owns copy-in and
//! copy-out: guest pointers are translated through the VMAs (checking permissions, as the
//! kernel's page tables would) to the Sentry's mapping of the memory file, so no copy needs a
//! system call.
//!
//! Mappings are populated eagerly for now (the memfd is sparse, so untouched pages cost
//! nothing). Copy-on-write is by VMA (`cow`): read-only private memory is shared with a
//! forked child, and read-only file pages through the [`page_cache`], until written.
//!
//! In-memory files keep their data in the memory file as well ([`file_pages`]), so a
//! MAP_SHARED mapping of one is a window of the file's own pages ([`shared_file`]).

mod cow;
pub mod page_cache;
pub mod file_pages;
pub mod memory_file;
mod shared;
pub mod shared_file;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use platform::{AddressSpace, Prot, PAGE_SIZE};
use syscalls::Errno;

pub use memory_file::MemoryFile;
pub use shared::MemoryManager;

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
    /// A SysV shared memory segment attached with shmat (its key, for /proc/self/maps).
    Shm { key: i32 },
    /// A MAP_SHARED file mapping: a window of an in-memory file's pages, or a copy of a file
    /// that cannot change under it. `may_write` is VM_MAYWRITE (the descriptor was open for
    /// writing): without it mprotect cannot add PROT_WRITE.
    SharedFile { may_write: bool },
}

/// What memory a new mapping gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Fresh private memory.
    Private,
    /// A fresh shared region (MAP_SHARED), kept shared with forked children.
    NewShared,
    /// An existing shared region of the memory file (a SysV segment), from its start.
    Region(u64),
    /// A window at memory-file `offset` inside the existing shared region `region` (a file's
    /// pages, see `shared_file`).
    Window { region: u64, offset: u64 },
    /// Read-only private memory shared, copy-on-write, with the region at this start (a file's
    /// bytes in the page cache, see `page_cache`).
    CopyOnWrite(u64),
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
    /// mlock state (VM_LOCKED, VM_LOCKONFAULT).
    pub lock: VmaLock,
    /// MADV_DONTFORK: a forked child does not get this VMA.
    pub dont_fork: bool,
    /// MADV_WIPEONFORK: a forked child gets zeros here.
    pub wipe_on_fork: bool,
    /// Private read-only memory shared with other address spaces since a fork, until one of
    /// them is to write it: the start of the memory-file region the sharers refer to.
    pub cow: Option<u64>,
}

/// Whether a VMA is mlocked. Locked memory is backed when locked (unless on fault); the guest
/// sees the difference through mincore, RLIMIT_MEMLOCK and the errnos of madvise and msync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VmaLock {
    /// Not locked.
    #[default]
    Unlocked,
    /// VM_LOCKED: backed now and kept.
    Locked,
    /// VM_LOCKED | VM_LOCKONFAULT: kept once touched.
    OnFault,
}

/// mremap(2)'s flags; the caller has refused unknown bits and inconsistent combinations.
#[derive(Clone, Copy, Debug, Default)]
pub struct RemapFlags {
    /// MREMAP_MAYMOVE.
    pub may_move: bool,
    /// MREMAP_FIXED: the new address is where the mapping goes, replacing what is there.
    pub fixed: bool,
    /// MREMAP_DONTUNMAP: the old range stays mapped (reading zeros if private).
    pub dont_unmap: bool,
}

/// What madvise(2) asks of each VMA in its range (the caller maps advice numbers to these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advice {
    /// MADV_DONTNEED: private memory reads as zeros; shared memory keeps its data (the pages
    /// just leave the page tables in Linux). EINVAL on locked VMAs.
    DontNeed,
    /// MADV_DONTNEED_LOCKED: as DontNeed, locked VMAs too.
    DontNeedLocked,
    /// MADV_FREE: private anonymous memory only; freed at once (Linux may keep it until
    /// memory is short, so the guest cannot rely on the old data either way).
    Free,
    /// MADV_REMOVE: shared memory reads as zeros for every sharer.
    Remove,
    /// MADV_DONTFORK / MADV_DOFORK.
    DontFork(bool),
    /// MADV_WIPEONFORK / MADV_KEEPONFORK.
    WipeOnFork(bool),
    /// MADV_COLD / MADV_PAGEOUT: reclaim hints, refused on locked VMAs.
    Reclaim,
    /// A hint with nothing to do here (NORMAL, RANDOM, SEQUENTIAL, WILLNEED, HUGEPAGE, ...).
    Hint,
}

/// membarrier(2) registrations of one address space (a forked child keeps them, as in Linux;
/// exec starts afresh).
#[derive(Clone, Copy, Debug, Default)]
pub struct Membarrier {
    /// The MEMBARRIER_CMD_REGISTER_* commands GET_REGISTRATIONS reports.
    pub registered: u32,
    /// The expedited commands the process may issue (their command bits).
    pub ready: u32,
}

/// A forked child's memory: its parent's writable private memory copied, the rest shared.
pub struct ForkImage {
    vmas: Vec<Vma>,
    brk_start: u64,
    brk: u64,
    mmap_top: u64,
    membarrier: Membarrier,
    /// The child's VMAs as /proc shows them, there from the fork on.
    published: Arc<std::sync::Mutex<Vec<Vma>>>,
}

impl ForkImage {
    /// The child's VMAs as /proc shows them (kept current once the child runs).
    pub fn published(&self) -> Arc<std::sync::Mutex<Vec<Vma>>> {
        self.published.clone()
    }

    /// Gives back the memory of a fork that does not happen.
    pub fn discard(self, mf: &MemoryFile) {
        mf.drop_vmas(&self.vmas);
    }
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
    /// Whether RLIMIT_DATA counts it (mm->data_vm): private writable memory but the stack.
    pub fn is_data(&self) -> bool {
        self.prot.write && self.shared.is_none() && self.kind != VmaKind::Stack
    }

    /// The memory-file region it shares with others (MAP_SHARED, or copy-on-write), if any.
    pub fn region(&self) -> Option<u64> {
        self.shared.or(self.cow)
    }

    fn allows(&self, a: Access) -> bool {
        match a {
            // On x86 every present user page is readable: write and exec imply read.
            Access::Read => self.prot != Prot::NONE,
            Access::Write => self.prot.write,
        }
    }
}

/// The mappings of one guest address space: its VMAs and the platform's view of them. The
/// threads of a process share it through a [`MemoryManager`].
pub struct Mappings {
    mf: Arc<MemoryFile>,
    asp: Box<dyn AddressSpace>,
    vmas: BTreeMap<u64, Vma>,
    user: Range<u64>,
    /// Top of the area searched downwards for mmap without MAP_FIXED.
    mmap_top: u64,
    brk_start: u64,
    brk: u64,
    /// mlockall(MCL_FUTURE): the lock state of new mappings.
    lock_future: VmaLock,
    membarrier: Membarrier,
    /// A copy of the VMAs for /proc/<pid>/maps, refreshed after each change.
    published: Arc<std::sync::Mutex<Vec<Vma>>>,
}

impl Mappings {
    /// An empty address space over `asp`, with guest addresses in `user`.
    pub fn new(mf: Arc<MemoryFile>, asp: Box<dyn AddressSpace>, user: Range<u64>) -> Mappings {
        Mappings {
            mf,
            asp,
            vmas: BTreeMap::new(),
            mmap_top: user.end,
            user,
            brk_start: 0,
            brk: 0,
            lock_future: VmaLock::Unlocked,
            membarrier: Membarrier::default(),
            published: Arc::default(),
        }
    }

    /// Copies every private writable VMA's memory into fresh memory-file ranges for a forked
    /// child (only the pages that hold data: holes stay holes); shared VMAs stay shared, and
    /// read-only private ones are shared until written (copy-on-write by VMA). Returns the
    /// child's VMAs and break. As in Linux, mlocks are not inherited, MADV_DONTFORK VMAs are
    /// left out and MADV_WIPEONFORK ones are fresh zeros.
    pub fn fork_copy(&mut self) -> Result<ForkImage, Errno> {
        self.share_read_only();
        let mut vmas = Vec::with_capacity(self.vmas.len());
        for v in self.vmas.values() {
            if v.dont_fork {
                continue;
            }
            let v = &Vma { lock: VmaLock::Unlocked, ..*v };
            if let Some(region) = v.region() {
                self.mf.share(region);
                vmas.push(*v);
                continue;
            }
            let len = v.end - v.start;
            let copied = if v.wipe_on_fork { self.mf.allocate(len) } else { self.mf.copy_new(len, &[(v.offset, 0, len)]) };
            let off = match copied {
                Ok(o) => o,
                Err(e) => {
                    self.mf.drop_vmas(&vmas);
                    return Err(e);
                }
            };
            vmas.push(Vma { offset: off, ..*v });
        }
        let published = Arc::new(std::sync::Mutex::new(vmas.clone()));
        Ok(ForkImage { vmas, brk_start: self.brk_start, brk: self.brk, mmap_top: self.mmap_top, membarrier: self.membarrier, published })
    }

    /// The address space of a forked child over `asp`: maps every copied VMA.
    pub fn from_fork(mf: Arc<MemoryFile>, mut asp: Box<dyn AddressSpace>, user: Range<u64>, img: ForkImage) -> Result<Mappings, Errno> {
        let maps: Vec<_> = img.vmas.iter().map(|v| (v.start, v.end - v.start, v.prot, v.offset)).collect();
        if let Err(e) = asp.map_all(&maps) {
            tracing::error!("mapping a forked process's VMAs: {e}");
            img.discard(&mf);
            return Err(Errno::ENOMEM);
        }
        let vmas = img.vmas.iter().map(|v| (v.start, *v)).collect();
        let mm = Mappings {
            mf,
            asp,
            vmas,
            user,
            mmap_top: img.mmap_top,
            brk_start: img.brk_start,
            brk: img.brk,
            lock_future: VmaLock::Unlocked,
            membarrier: img.membarrier,
            // Published at the fork already.
            published: img.published,
        };
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

    /// A free range of `len` bytes where mmap would place it (the program interpreter, the
    /// vDSO).
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
        if let Some(region) = v.region() {
            self.mf.share(region);
        }
        self.vmas.insert(s, lo);
        self.vmas.insert(addr, hi);
    }

    /// Maps fresh zeroed memory. `fixed` replaces whatever is at `addr`; otherwise `addr` is a
    /// hint and a free range is chosen. Returns the address.
    pub fn map_anon(&mut self, addr: u64, len: u64, prot: Prot, fixed: bool, kind: VmaKind) -> Result<u64, Errno> {
        self.map_memory(addr, len, prot, fixed, kind, Backing::Private)
    }

    /// Where a new mapping of `len` bytes goes: at `addr` if `fixed` (checked against the user
    /// range), else at the hint `addr` if it is free, else where mmap puts things.
    fn placement(&self, addr: u64, len: u64, fixed: bool) -> Result<u64, Errno> {
        if fixed {
            self.check_range(addr, len)?;
            return Ok(addr);
        }
        let hint = page_down(addr);
        match hint.checked_add(len) {
            Some(end) if hint != 0 && self.is_free(hint, end) => Ok(hint),
            _ => self.find_free(len),
        }
    }

    /// As [`map_anon`](Self::map_anon), with the memory `backing` says.
    pub fn map_memory(&mut self, addr: u64, len: u64, prot: Prot, fixed: bool, kind: VmaKind, backing: Backing) -> Result<u64, Errno> {
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let start = self.placement(addr, len, fixed)?;
        if fixed {
            self.unmap(addr, len)?;
        }
        let (offset, shared) = match backing {
            Backing::Private => (self.mf.allocate(len)?, None),
            Backing::NewShared => {
                let region = self.mf.allocate_shared(len)?;
                (region, Some(region))
            }
            Backing::Region(region) => {
                self.mf.share(region);
                (region, Some(region))
            }
            Backing::Window { region, offset } => {
                self.mf.share(region);
                (offset, Some(region))
            }
            Backing::CopyOnWrite(region) => {
                self.mf.share(region);
                (region, None)
            }
        };
        let cow = match backing {
            Backing::CopyOnWrite(region) => Some(region),
            _ => None,
        };
        let vma = Vma {
            start,
            end: start + len,
            prot,
            offset,
            kind,
            shared,
            lock: self.lock_future,
            dont_fork: false,
            wipe_on_fork: false,
            cow,
        };
        if let Err(e) = self.asp.map(start, len, prot, offset) {
            tracing::error!("mapping {start:#x}+{len:#x} in the stub: {e}");
            self.mf.drop_vma(&vma);
            return Err(Errno::ENOMEM);
        }
        self.populate_locked(&vma);
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
                Some(v) if prot.write && !v.may_write() => return Err(Errno::EACCES),
                Some(v) => at = v.end,
                None => return Err(Errno::ENOMEM),
            }
        }
        self.split_at(addr);
        self.split_at(end);
        // Memory shared since a fork becomes this address space's own before it is writable.
        if prot.write {
            self.unshare_cow(addr, end)?;
        }
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
    pub fn copy_out_force(&mut self, addr: u64, src: &[u8]) -> Result<(), Errno> {
        self.unshare_cow(addr, addr.checked_add(src.len() as u64).ok_or(Errno::EFAULT)?)?;
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

/// Rounds up to a page boundary wrapping to 0 on overflow, as Linux's PAGE_ALIGN does (the
/// callers then see an empty or tiny range, exactly as the guest would under Linux).
fn page_align_wrapping(x: u64) -> u64 {
    x.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// Whether Linux would have merged `a` and the VMA `b` that follows it into one: mremap sees
/// one VMA where ours may still be two (we never merge on mmap or mprotect).
fn mergeable(a: &Vma, b: &Vma) -> bool {
    let anon = |k: VmaKind| matches!(k, VmaKind::Anon | VmaKind::Heap);
    a.end == b.start
        && a.prot == b.prot
        && a.lock == b.lock
        && a.dont_fork == b.dont_fork
        && a.wipe_on_fork == b.wipe_on_fork
        && (anon(a.kind) && anon(b.kind) || a.kind == b.kind && matches!(a.kind, VmaKind::SharedFile { .. }))
        && a.cow.is_none()
        && b.cow.is_none()
        && match (a.shared, b.shared) {
            (None, None) => true,
            (Some(x), Some(y)) => x == y && b.offset == a.offset + (a.end - a.start),
            _ => false,
        }
}

impl Mappings {
    /// Backs a locked VMA's memory now, as mlock and mmap of locked memory populate in Linux
    /// (PROT_NONE and lock-on-fault memory is left alone there too).
    fn populate_locked(&self, v: &Vma) {
        if v.lock == VmaLock::Locked && v.prot != Prot::NONE {
            self.mf.populate(v.offset, v.end - v.start);
        }
    }

    /// The VMAs overlapping `[start, end)`, in order.
    fn overlapping(&self, start: u64, end: u64) -> Vec<Vma> {
        self.overlaps(start, end).copied().collect()
    }

    /// The VMAs overlapping `[start, end)`, in address order.
    fn overlaps(&self, start: u64, end: u64) -> impl Iterator<Item = &Vma> {
        let first = self.vmas.range(..=start).next_back().map_or(start, |(&s, v)| if v.end > start { s } else { start });
        self.vmas.range(first..end).map(|(_, v)| v).filter(move |v| v.end > start)
    }

    /// Makes `[addr, end)` one VMA if Linux would see one there: the VMA holding `addr` and
    /// the mergeable VMAs following it. Private pieces whose memory-file ranges are not
    /// contiguous are copied into one new range. EFAULT if the range is not covered so.
    fn coalesce(&mut self, addr: u64, end: u64) -> Result<Vma, Errno> {
        let first = *self.find(addr).ok_or(Errno::EFAULT)?;
        let mut run = vec![first];
        let mut last = first;
        while last.end < end {
            let next = *self.vmas.get(&last.end).ok_or(Errno::EFAULT)?;
            if !mergeable(&last, &next) {
                return Err(Errno::EFAULT);
            }
            run.push(next);
            last = next;
        }
        if run.len() == 1 {
            return Ok(first);
        }
        let len = last.end - first.start;
        let mut merged = Vma { end: last.end, ..first };
        let contiguous = run.windows(2).all(|w| w[1].offset == w[0].offset + (w[0].end - w[0].start));
        if !contiguous {
            // Only private pieces can be discontiguous (mergeable shared ones are contiguous).
            let pieces: Vec<_> = run.iter().map(|v| (v.offset, v.start - first.start, v.end - v.start)).collect();
            let off = self.mf.copy_new(len, &pieces)?;
            if let Err(e) = self.asp.map(first.start, len, first.prot, off) {
                tracing::error!("mapping a coalesced VMA {:#x}+{len:#x}: {e}", first.start);
                self.mf.release(off, len);
                return Err(Errno::ENOMEM);
            }
            merged.offset = off;
        }
        for v in &run[1..] {
            self.vmas.remove(&v.start);
        }
        for v in &run {
            match v.shared {
                // The merged VMA keeps the first piece's reference.
                Some(region) if v.start != first.start => self.mf.unshare(region),
                None if !contiguous => self.mf.release(v.offset, v.end - v.start),
                _ => {}
            }
        }
        self.vmas.insert(first.start, merged);
        self.publish();
        Ok(merged)
    }

    /// Linux's vma_to_resize: the VMA that `[addr, addr+old_len)` lies in, checked for growing
    /// to `new_len`.
    fn resize_check(&mut self, addr: u64, old_len: u64, new_len: u64) -> Result<Vma, Errno> {
        let mut v = *self.find(addr).ok_or(Errno::EFAULT)?;
        // old_len 0 duplicates a shared mapping; a private one has nothing to duplicate.
        if old_len == 0 && v.shared.is_none() {
            return Err(Errno::EINVAL);
        }
        if old_len > v.end - addr {
            v = self.coalesce(addr, addr.checked_add(old_len).ok_or(Errno::EFAULT)?)?;
        }
        if let Some(region) = v.shared {
            // Linux lets a shared mapping grow past its shmem object, where touching raises
            // SIGBUS; we cannot model that window, so we refuse to make it.
            let region_end = region + self.mf.shared_len(region).unwrap_or(0);
            if v.offset + (addr - v.start) + new_len > region_end {
                return Err(Errno::ENOMEM);
            }
        }
        Ok(v)
    }

    /// mremap(2) from the page-alignment check on; `flags` are consistent (the caller checked
    /// unknown bits, FIXED and DONTUNMAP without MAYMOVE, DONTUNMAP with a size change).
    pub fn remap(&mut self, addr: u64, old_len: u64, new_len: u64, flags: RemapFlags, new_addr: u64) -> Result<u64, Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let old_len = page_align_wrapping(old_len);
        let new_len = page_align_wrapping(new_len);
        if new_len == 0 {
            return Err(Errno::EINVAL);
        }
        if self.find(addr).is_none() {
            return Err(Errno::EFAULT);
        }
        self.unshare_cow(addr, addr.saturating_add(old_len.max(PAGE_SIZE)))?;
        if flags.fixed || flags.dont_unmap {
            return self.remap_to(addr, old_len, new_len, flags, new_addr);
        }
        // Shrinking always works: it unmaps the tail (whatever VMAs it covers).
        if old_len >= new_len {
            if old_len > new_len {
                self.unmap(addr.checked_add(new_len).ok_or(Errno::EINVAL)?, old_len - new_len)?;
            }
            return Ok(addr);
        }
        let v = self.resize_check(addr, old_len, new_len)?;
        if old_len == v.end - addr && self.grow_in_place(&v, new_len - old_len)? {
            return Ok(addr);
        }
        if !flags.may_move {
            return Err(Errno::ENOMEM);
        }
        let to = self.find_free(new_len)?;
        self.move_range(v, addr, old_len, new_len, to, false)
    }

    /// mremap_to: MREMAP_FIXED or MREMAP_DONTUNMAP.
    fn remap_to(&mut self, addr: u64, old_len: u64, new_len: u64, flags: RemapFlags, new_addr: u64) -> Result<u64, Errno> {
        if !new_addr.is_multiple_of(PAGE_SIZE) || new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len {
            return Err(Errno::EINVAL);
        }
        if addr.saturating_add(old_len) > new_addr && new_addr + new_len > addr {
            return Err(Errno::EINVAL);
        }
        if flags.fixed {
            self.unmap(new_addr, new_len)?;
        }
        let mut old_len = old_len;
        if old_len > new_len {
            self.unmap(addr + new_len, old_len - new_len)?;
            old_len = new_len;
        }
        let v = self.resize_check(addr, old_len, new_len)?;
        let to = if flags.fixed {
            self.check_range(new_addr, new_len)?;
            new_addr
        } else if new_addr != 0 && self.is_free(new_addr, new_addr + new_len) {
            new_addr
        } else {
            self.find_free(new_len)?
        };
        self.move_range(v, addr, old_len, new_len, to, flags.dont_unmap)
    }

    /// Grows `v` by `delta` bytes at its end if the addresses there are free. Private memory
    /// grows in its memory-file range when the space after it is free, else moves to a new
    /// range (the data copied); shared memory grows within its region (checked before).
    fn grow_in_place(&mut self, v: &Vma, delta: u64) -> Result<bool, Errno> {
        let Some(end) = v.end.checked_add(delta) else { return Ok(false) };
        if !self.is_free(v.end, end) {
            return Ok(false);
        }
        let len = v.end - v.start;
        let mut grown = Vma { end, ..*v };
        if v.shared.is_some() || self.mf.claim(v.offset + len, delta) {
            if let Err(e) = self.asp.map(v.end, delta, v.prot, v.offset + len) {
                tracing::error!("growing {:#x}..{:#x} in the stub: {e}", v.start, end);
                if v.shared.is_none() {
                    self.mf.release(v.offset + len, delta);
                }
                return Err(Errno::ENOMEM);
            }
        } else {
            let off = self.mf.copy_new(len + delta, &[(v.offset, 0, len)])?;
            if let Err(e) = self.asp.map(v.start, len + delta, v.prot, off) {
                tracing::error!("growing {:#x}..{:#x} in the stub: {e}", v.start, end);
                self.mf.release(off, len + delta);
                return Err(Errno::ENOMEM);
            }
            self.mf.release(v.offset, len);
            grown.offset = off;
        }
        self.populate_locked(&grown);
        self.vmas.insert(v.start, grown);
        self.publish();
        Ok(true)
    }

    /// Moves `[addr, addr+old_len)` of `v` to `[to, to+new_len)` (free, or just unmapped).
    /// The memory-file pages move with it (the new VMA is a window at the same offsets) unless
    /// a private VMA grows and the space after its range is taken: then its data is copied.
    /// `dont_unmap` leaves the old range mapped: private memory there reads as zeros, shared
    /// memory keeps showing the region.
    fn move_range(&mut self, v: Vma, addr: u64, old_len: u64, new_len: u64, to: u64, dont_unmap: bool) -> Result<u64, Errno> {
        let old = v.offset + (addr - v.start);
        let kind = match v.kind {
            VmaKind::Heap | VmaKind::Stack => VmaKind::Anon,
            k => k,
        };
        let mut new = Vma { start: to, end: to + new_len, offset: old, kind, ..v };
        // What the new VMA holds that the old range did not: (offset, length) to give back if
        // mapping fails.
        let mut fresh: Option<(u64, u64)> = None;
        match v.shared {
            Some(region) => self.mf.share(region),
            None if dont_unmap => {}
            None if new_len > old_len => {
                if self.mf.claim(old + old_len, new_len - old_len) {
                    fresh = Some((old + old_len, new_len - old_len));
                } else {
                    let off = self.mf.copy_new(new_len, &[(old, 0, old_len)])?;
                    new.offset = off;
                    fresh = Some((off, new_len));
                }
            }
            None => {}
        }
        // DONTUNMAP: the old range keeps a VMA, over fresh zeros if private.
        let zeros = if dont_unmap && v.shared.is_none() {
            match self.mf.allocate(old_len) {
                Ok(z) => Some(z),
                Err(e) => {
                    if let Some((o, l)) = fresh {
                        self.mf.release(o, l);
                    }
                    return Err(e);
                }
            }
        } else {
            None
        };
        if let Err(e) = self.asp.map(to, new_len, new.prot, new.offset) {
            tracing::error!("mapping a moved VMA at {to:#x}+{new_len:#x}: {e}");
            match (v.shared, fresh) {
                (Some(region), _) => self.mf.unshare(region),
                (None, Some((o, l))) => self.mf.release(o, l),
                _ => {}
            }
            if let Some(z) = zeros {
                self.mf.release(z, old_len);
            }
            return Err(Errno::ENOMEM);
        }
        if old_len > 0 {
            self.split_at(addr);
            self.split_at(addr + old_len);
            if dont_unmap {
                if let Some(mid) = self.vmas.get_mut(&addr) {
                    // Linux clears VM_LOCKED on the range left behind.
                    mid.lock = VmaLock::Unlocked;
                    if let Some(z) = zeros {
                        mid.offset = z;
                        let prot = mid.prot;
                        if let Err(e) = self.asp.map(addr, old_len, prot, z) {
                            tracing::error!("remapping the range left by MREMAP_DONTUNMAP: {e}");
                        }
                    }
                }
            } else if let Some(mid) = self.vmas.remove(&addr) {
                match mid.shared {
                    // The new VMA took its own reference above.
                    Some(region) => self.mf.unshare(region),
                    // Private pages the new VMA did not take over go back.
                    None if new.offset != old => self.mf.release(mid.offset, old_len),
                    None => {}
                }
                if let Err(e) = self.asp.unmap(addr, old_len) {
                    tracing::error!("unmapping a moved range {addr:#x}+{old_len:#x}: {e}");
                }
            }
        }
        self.populate_locked(&new);
        self.vmas.insert(to, new);
        self.publish();
        Ok(to)
    }

    /// madvise(2) from the page-alignment check on: applies `advice` to each VMA in the range
    /// and fails with ENOMEM at the end if part of it was unmapped (a VMA's own errno stops
    /// the walk there), as Linux does.
    pub fn advise(&mut self, addr: u64, len: u64, advice: Advice) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let rounded = page_align_wrapping(len);
        if len != 0 && rounded == 0 {
            return Err(Errno::EINVAL);
        }
        let end = addr.checked_add(rounded).ok_or(Errno::EINVAL)?;
        if end == addr {
            return Ok(());
        }
        self.unshare_cow(addr, end)?;
        let mut at = addr;
        let mut hole = false;
        for v in self.overlapping(addr, end) {
            if v.start > at {
                hole = true;
            }
            let (lo, hi) = (at.max(v.start), end.min(v.end));
            self.advise_vma(&v, lo, hi, advice)?;
            at = hi;
        }
        if hole || at < end {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// One VMA's part `[lo, hi)` of madvise.
    fn advise_vma(&mut self, v: &Vma, lo: u64, hi: u64, advice: Advice) -> Result<(), Errno> {
        let off = v.offset + (lo - v.start);
        let locked = v.lock != VmaLock::Unlocked;
        match advice {
            Advice::DontNeed | Advice::Free | Advice::Reclaim if locked => return Err(Errno::EINVAL),
            // MADV_FREE is for anonymous private memory; executable images are file-backed.
            Advice::Free if v.shared.is_some() || v.kind == VmaKind::Image => return Err(Errno::EINVAL),
            Advice::DontNeed | Advice::DontNeedLocked | Advice::Free => {
                // Shared memory keeps its data; an image's pages would be read again from the
                // file in Linux, which we do not keep: both stay as they are.
                if v.shared.is_none() && v.kind != VmaKind::Image {
                    self.mf.punch(off, hi - lo);
                }
            }
            Advice::Remove if locked => return Err(Errno::EINVAL),
            Advice::Remove => match (v.shared, v.kind) {
                // Linux: MADV_REMOVE needs a shared mapping that may be written.
                (Some(_), _) if !v.may_write() => return Err(Errno::EACCES),
                (Some(_), _) => self.mf.punch(off, hi - lo),
                // A private file mapping: not a shared writable one.
                (None, VmaKind::Image) => return Err(Errno::EACCES),
                (None, _) => return Err(Errno::EINVAL),
            },
            Advice::WipeOnFork(_) if v.shared.is_some() || v.kind == VmaKind::Image => return Err(Errno::EINVAL),
            Advice::DontFork(on) => self.set_range(lo, hi, |v| v.dont_fork = on),
            Advice::WipeOnFork(on) => self.set_range(lo, hi, |v| v.wipe_on_fork = on),
            Advice::Reclaim | Advice::Hint => {}
        }
        Ok(())
    }

    /// Splits at `lo` and `hi` and applies `f` to the VMAs between.
    fn set_range(&mut self, lo: u64, hi: u64, f: impl Fn(&mut Vma)) {
        self.split_at(lo);
        self.split_at(hi);
        for (_, v) in self.vmas.range_mut(lo..hi) {
            f(v);
        }
        self.publish();
    }

    /// msync(2) from the range on (flags checked by the caller). Nothing is written back:
    /// shared file mappings are windows of the file's own pages, which read() sees at once,
    /// and there is no disk behind them. ENOMEM for unmapped parts (at once for plain
    /// MS_ASYNC), EBUSY for MS_INVALIDATE of locked memory, as Linux.
    pub fn sync(&self, addr: u64, len: u64, invalidate: bool, async_only: bool) -> Result<(), Errno> {
        let end = addr.checked_add(page_align_wrapping(len)).ok_or(Errno::ENOMEM)?;
        if end == addr {
            return Ok(());
        }
        let mut start = addr;
        let mut hole = false;
        loop {
            let v = self.overlapping(start, u64::MAX).into_iter().next().ok_or(Errno::ENOMEM)?;
            if start < v.start {
                if async_only {
                    return Err(Errno::ENOMEM);
                }
                start = v.start;
                if start >= end {
                    return Err(Errno::ENOMEM);
                }
                hole = true;
            }
            if invalidate && v.lock != VmaLock::Unlocked {
                return Err(Errno::EBUSY);
            }
            start = v.end;
            if start >= end {
                return if hole { Err(Errno::ENOMEM) } else { Ok(()) };
            }
        }
    }

    /// mincore(2): one byte per page from `addr` (page-aligned), 1 where the page is backed by
    /// memory (touched, or populated by mlock), 0 where it is a hole. Stops at the first
    /// unmapped page; the bool says whether it met one.
    pub fn residency(&self, addr: u64, pages: u64) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut at = addr;
        let mut left = pages;
        while left > 0 {
            let Some(v) = self.find(at) else { return (out, true) };
            let n = ((v.end - at) / PAGE_SIZE).min(left);
            let base = out.len();
            out.resize(base + n as usize, 0);
            let off = v.offset + (at - v.start);
            self.mf.data_ranges(off, n * PAGE_SIZE, |a, b| {
                let first = page_down(a - off) / PAGE_SIZE;
                let last = (page_up(b - off).unwrap_or(b - off) / PAGE_SIZE).min(n);
                out[base + first as usize..base + last as usize].fill(1);
            });
            at += n * PAGE_SIZE;
            left -= n;
        }
        (out, false)
    }

    /// Bytes of locked memory (mm->locked_vm).
    pub fn locked_bytes(&self) -> u64 {
        self.vmas.values().filter(|v| v.lock != VmaLock::Unlocked).map(|v| v.end - v.start).sum()
    }

    /// Bytes of locked memory inside `[start, end)`.
    pub fn locked_bytes_in(&self, start: u64, end: u64) -> u64 {
        self.overlapping(start, end).iter().filter(|v| v.lock != VmaLock::Unlocked).map(|v| v.end.min(end) - v.start.max(start)).sum()
    }

    /// Bytes of private writable memory but the stack (mm->data_vm, what RLIMIT_DATA counts).
    pub fn data_bytes(&self) -> u64 {
        self.vmas.values().filter(|v| v.is_data()).map(|v| v.end - v.start).sum()
    }

    /// Bytes of mapping in `[start, end)` (what a MAP_FIXED mapping there replaces), and the
    /// part of them that is private writable data.
    pub fn overlap_bytes(&self, start: u64, end: u64) -> (u64, u64) {
        let (mut all, mut data) = (0, 0);
        for v in self.vmas.values().filter(|v| v.start < end && start < v.end) {
            let n = v.end.min(end) - v.start.max(start);
            all += n;
            if v.is_data() {
                data += n;
            }
        }
        (all, data)
    }

    /// The program break.
    pub fn current_brk(&self) -> u64 {
        self.brk
    }

    /// Bytes mapped in all (mm->total_vm).
    pub fn total_bytes(&self) -> u64 {
        self.vmas.values().map(|v| v.end - v.start).sum()
    }

    /// mlock/munlock of `[start, start+len)` (page-aligned by the caller): sets the lock
    /// state of the mapped run from `start`, then ENOMEM if a hole cut it short.
    pub fn lock(&mut self, start: u64, len: u64, lock: VmaLock) -> Result<(), Errno> {
        let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
        if end == start {
            return Ok(());
        }
        self.find(start).ok_or(Errno::ENOMEM)?;
        let mut covered = start;
        while covered < end {
            match self.find(covered) {
                Some(v) => covered = v.end.min(end),
                None => break,
            }
        }
        self.set_range(start, covered, |v| v.lock = lock);
        if covered < end {
            // Linux marks the leading part locked but populates only after a full success.
            return Err(Errno::ENOMEM);
        }
        for v in self.overlapping(start, covered) {
            self.populate_locked(&v);
        }
        Ok(())
    }

    /// mlockall/munlockall: `current` is the lock state for every VMA now (None leaves them),
    /// `future` the state of mappings made from now on.
    pub fn lock_all(&mut self, current: Option<VmaLock>, future: VmaLock) {
        self.lock_future = future;
        if let Some(lock) = current {
            for v in self.vmas.values_mut() {
                v.lock = lock;
            }
            for v in self.vmas.values() {
                self.populate_locked(v);
            }
            self.publish();
        }
    }

    /// The membarrier(2) registrations of this address space.
    pub fn membarrier(&mut self) -> &mut Membarrier {
        &mut self.membarrier
    }
}

impl Drop for Mappings {
    fn drop(&mut self) {
        // The memory goes back to the memory file (the stub goes with the address space).
        for v in self.vmas.values() {
            self.mf.drop_vma(v);
        }
    }
}

impl MemoryFile {
    /// Gives back what a VMA held: its private range, or its reference to a shared region.
    fn drop_vmas(&self, vmas: &[Vma]) {
        for v in vmas {
            self.drop_vma(v);
        }
    }

    fn drop_vma(&self, v: &Vma) {
        match v.region() {
            Some(region) => self.unshare(region),
            None => self.release(v.offset, v.end - v.start),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
