//! The MemoryManager: one guest address space as its threads share it (CLONE_VM).
//!
//! It owns the [`Mappings`] behind a lock that each call takes only for its own duration, so no
//! call can deadlock against another and no lock is held while a task sleeps. Changes to the
//! mappings run on the platform thread of the task that makes them (see
//! [`platform::AddressSpace`]).

use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use platform::{AddressSpace, Prot};
use syscalls::Errno;

use super::{Access, Advice, Backing, ForkImage, Mappings, Membarrier, MemoryFile, RemapFlags, Vma, VmaKind, VmaLock};

/// The address space of one guest process, shared by its threads.
pub struct MemoryManager {
    inner: Mutex<Mappings>,
    mf: Arc<MemoryFile>,
    user: Range<u64>,
}

impl MemoryManager {
    fn wrap(m: Mappings) -> MemoryManager {
        MemoryManager { mf: m.memory_file().clone(), user: m.user_range(), inner: Mutex::new(m) }
    }

    fn m(&self) -> MutexGuard<'_, Mappings> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An empty address space over `asp`, with guest addresses in `user`.
    pub fn new(mf: Arc<MemoryFile>, asp: Box<dyn AddressSpace>, user: Range<u64>) -> MemoryManager {
        MemoryManager::wrap(Mappings::new(mf, asp, user))
    }

    /// The address space of a forked child over `asp`: maps every copied VMA.
    pub fn from_fork(mf: Arc<MemoryFile>, asp: Box<dyn AddressSpace>, user: Range<u64>, img: ForkImage) -> Result<MemoryManager, Errno> {
        Mappings::from_fork(mf, asp, user, img).map(MemoryManager::wrap)
    }

    /// Runs `f` with the mappings locked, for a sequence of calls that must see no change by
    /// another thread in between.
    pub fn with<R>(&self, f: impl FnOnce(&mut Mappings) -> R) -> R {
        f(&mut self.m())
    }

    /// See [`Mappings::fork_copy`].
    pub fn fork_copy(&self) -> Result<ForkImage, Errno> {
        self.m().fork_copy()
    }

    /// See [`Mappings::published`].
    pub fn published(&self) -> Arc<Mutex<Vec<Vma>>> {
        self.m().published()
    }

    /// The memory file behind this address space.
    pub fn memory_file(&self) -> &Arc<MemoryFile> {
        &self.mf
    }

    /// The addresses a guest may map.
    pub fn user_range(&self) -> Range<u64> {
        self.user.clone()
    }

    /// See [`Mappings::set_mmap_top`].
    pub fn set_mmap_top(&self, top: u64) {
        self.m().set_mmap_top(top);
    }

    /// See [`Mappings::set_brk_start`].
    pub fn set_brk_start(&self, start: u64) {
        self.m().set_brk_start(start);
    }

    /// A copy of all VMAs in address order.
    pub fn vmas(&self) -> Vec<Vma> {
        self.m().vmas().copied().collect()
    }

    /// See [`Mappings::free_area`].
    pub fn free_area(&self, len: u64) -> Result<u64, Errno> {
        self.m().free_area(len)
    }

    /// See [`Mappings::map_anon`].
    pub fn map_anon(&self, addr: u64, len: u64, prot: Prot, fixed: bool, kind: VmaKind) -> Result<u64, Errno> {
        self.m().map_anon(addr, len, prot, fixed, kind)
    }

    /// See [`Mappings::map_memory`].
    pub fn map_memory(&self, addr: u64, len: u64, prot: Prot, fixed: bool, kind: VmaKind, backing: Backing) -> Result<u64, Errno> {
        self.m().map_memory(addr, len, prot, fixed, kind, backing)
    }

    /// See [`Mappings::unmap`].
    pub fn unmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        self.m().unmap(addr, len)
    }

    /// See [`Mappings::protect`].
    pub fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        self.m().protect(addr, len, prot)
    }

    /// See [`Mappings::brk`].
    pub fn brk(&self, new: u64) -> u64 {
        self.m().brk(new)
    }

    /// A copy of the VMA containing `addr`.
    pub fn find(&self, addr: u64) -> Option<Vma> {
        self.m().find(addr).copied()
    }

    /// See [`Mappings::segments`]: the pointers stay valid while the memory file lives.
    pub fn segments(&self, addr: u64, len: u64, access: Access, out: &mut Vec<libc::iovec>) -> u64 {
        self.m().segments(addr, len, access, out)
    }

    /// Copies `dst.len()` bytes from the guest; EFAULT unless all of them are readable.
    pub fn copy_in(&self, addr: u64, dst: &mut [u8]) -> Result<(), Errno> {
        self.m().copy_in(addr, dst)
    }

    /// Copies `src` to the guest; EFAULT unless all of it is writable.
    pub fn copy_out(&self, addr: u64, src: &[u8]) -> Result<(), Errno> {
        self.m().copy_out(addr, src)
    }

    /// See [`Mappings::copy_out_force`].
    pub fn copy_out_force(&self, addr: u64, src: &[u8]) -> Result<(), Errno> {
        self.m().copy_out_force(addr, src)
    }

    /// Reads a plain-data struct from the guest.
    pub fn read_struct<T: syscalls::structs::Pod>(&self, addr: u64) -> Result<T, Errno> {
        self.m().read_struct(addr)
    }

    /// Writes a plain-data struct to the guest.
    pub fn write_struct<T: syscalls::structs::Pod>(&self, addr: u64, v: &T) -> Result<(), Errno> {
        self.m().write_struct(addr, v)
    }

    /// See [`Mappings::copy_in_cstr`].
    pub fn copy_in_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        self.m().copy_in_cstr(addr, max)
    }

    /// See [`Mappings::remap`].
    pub fn remap(&self, addr: u64, old_len: u64, new_len: u64, flags: RemapFlags, new_addr: u64) -> Result<u64, Errno> {
        self.m().remap(addr, old_len, new_len, flags, new_addr)
    }

    /// See [`Mappings::advise`].
    pub fn advise(&self, addr: u64, len: u64, advice: Advice) -> Result<(), Errno> {
        self.m().advise(addr, len, advice)
    }

    /// See [`Mappings::sync`].
    pub fn sync(&self, addr: u64, len: u64, invalidate: bool, async_only: bool) -> Result<(), Errno> {
        self.m().sync(addr, len, invalidate, async_only)
    }

    /// See [`Mappings::residency`].
    pub fn residency(&self, addr: u64, pages: u64) -> (Vec<u8>, bool) {
        self.m().residency(addr, pages)
    }

    /// See [`Mappings::locked_bytes`].
    pub fn locked_bytes(&self) -> u64 {
        self.m().locked_bytes()
    }

    /// See [`Mappings::locked_bytes_in`].
    pub fn locked_bytes_in(&self, start: u64, end: u64) -> u64 {
        self.m().locked_bytes_in(start, end)
    }

    /// See [`Mappings::data_bytes`].
    pub fn data_bytes(&self) -> u64 {
        self.m().data_bytes()
    }

    /// See [`Mappings::overlap_bytes`].
    pub fn overlap_bytes(&self, start: u64, end: u64) -> (u64, u64) {
        self.m().overlap_bytes(start, end)
    }

    /// See [`Mappings::current_brk`].
    pub fn current_brk(&self) -> u64 {
        self.m().current_brk()
    }

    /// See [`Mappings::total_bytes`].
    pub fn total_bytes(&self) -> u64 {
        self.m().total_bytes()
    }

    /// See [`Mappings::lock`].
    pub fn lock(&self, start: u64, len: u64, lock: VmaLock) -> Result<(), Errno> {
        self.m().lock(start, len, lock)
    }

    /// See [`Mappings::lock_all`].
    pub fn lock_all(&self, current: Option<VmaLock>, future: VmaLock) {
        self.m().lock_all(current, future);
    }

    /// Runs `f` on the membarrier(2) registrations of this address space.
    pub fn membarrier<R>(&self, f: impl FnOnce(&mut Membarrier) -> R) -> R {
        f(self.m().membarrier())
    }
}

impl syscalls::strace::GuestReader for MemoryManager {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.copy_in(addr, buf)
    }
}
