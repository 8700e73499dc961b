//! Address-space calls: brk, mmap, munmap, mprotect, mremap, madvise, msync, mincore, the
//! mlock family and membarrier.

use platform::{Prot, PAGE_SIZE};
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::task::{RLIMIT_AS, RLIMIT_DATA};
use crate::kernel::{cap, Task};
use crate::mm::{page_up, Advice, Backing, RemapFlags, VmaKind, VmaLock, TASK_SIZE};
use crate::vfs::{FileDescription, MmapSource};

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::BRK, handler: sys_brk, support: Support::Full, note: "" },
    Registration {
        nr: nr::MMAP,
        handler: sys_mmap,
        support: Support::Partial,
        note: "anonymous mappings (MAP_SHARED ones stay shared across fork); private file mappings (a copy taken at mmap); MAP_SHARED mappings of in-memory files (tmpfs, the overlay's upper layer, /dev/shm, memfd) are windows of the file's own pages, coherent with read/write/ftruncate in every process and across fork (touching pages past EOF reads zeros and stores there are dropped when the file grows, where Linux raises SIGBUS); MAP_SHARED of a host file: read-only ones are a copy (the overlaid root cannot change under them; on a read-write --mount later changes are not seen, and mprotect cannot make them writable: EACCES), a writable one needs the file opened for writing, which in the overlaid root copies it into memory first (on a read-write --mount: ENODEV); /dev/zero maps anonymous memory",
    },
    Registration { nr: nr::MUNMAP, handler: sys_munmap, support: Support::Full, note: "" },
    Registration { nr: nr::MPROTECT, handler: sys_mprotect, support: Support::Full, note: "" },
    Registration {
        nr: nr::MREMAP,
        handler: sys_mremap,
        support: Support::Partial,
        note: "shrink, grow in place, MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP, duplicating a shared mapping (old_len 0); a MAP_SHARED file mapping grows over the file's next pages (with MREMAP_FIXED only within the memory the mapping already reaches: else ENOMEM); growing a MAP_SHARED anonymous mapping or SysV segment past the end of its memory (where Linux leaves a SIGBUS window) fails with ENOMEM",
    },
    Registration {
        nr: nr::MADVISE,
        handler: sys_madvise,
        support: Support::Partial,
        note: "DONTNEED, DONTNEED_LOCKED and FREE zero private memory (shared memory keeps its data, the executable's segments are left as they are), REMOVE zeroes shared memory, DONTFORK/DOFORK and WIPEONFORK/KEEPONFORK act on fork; NORMAL, RANDOM, SEQUENTIAL, WILLNEED, COLD, PAGEOUT, MERGEABLE, UNMERGEABLE, HUGEPAGE, NOHUGEPAGE, DONTDUMP, DODUMP are accepted and do nothing; POPULATE_READ/WRITE, COLLAPSE, HWPOISON, SOFT_OFFLINE, GUARD_INSTALL/REMOVE: EINVAL",
    },
    Registration {
        nr: nr::MSYNC,
        handler: sys_msync,
        support: Support::Full,
        note: "checks only: shared file mappings are windows of the in-memory file's own pages (read() sees stores at once) and host files are never mapped writable, so there is nothing to write back",
    },
    Registration {
        nr: nr::MINCORE,
        handler: sys_mincore,
        support: Support::Full,
        note: "a page is resident when its memory-file page holds data (touched or populated)",
    },
    Registration {
        nr: nr::MLOCK,
        handler: sys_mlock,
        support: Support::Full,
        note: "locked state and RLIMIT_MEMLOCK accounted per VMA; locking backs the memory now; nothing is swapped anyway",
    },
    Registration { nr: nr::MUNLOCK, handler: sys_munlock, support: Support::Full, note: "" },
    Registration { nr: nr::MLOCK2, handler: sys_mlock2, support: Support::Full, note: "MLOCK_ONFAULT" },
    Registration {
        nr: nr::MLOCKALL,
        handler: sys_mlockall,
        support: Support::Partial,
        note: "MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT; with MCL_FUTURE, RLIMIT_MEMLOCK is not checked at mmap or brk",
    },
    Registration { nr: nr::MUNLOCKALL, handler: sys_munlockall, support: Support::Full, note: "" },
    Registration {
        nr: nr::MEMBARRIER,
        handler: sys_membarrier,
        support: Support::Partial,
        note: "every guest process has one thread and each call is a full barrier for it, so the barrier commands only check registration; the RSEQ commands fail (EINVAL) as on a kernel without rseq",
    },
];

const PROT_GROWSDOWN: u64 = 0x0100_0000;
const PROT_GROWSUP: u64 = 0x0200_0000;
const MAP_TYPE: u64 = 0x0f;
const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_SHARED_VALIDATE: u64 = 0x03;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
const MAP_GROWSDOWN: u64 = 0x100;
const MAP_HUGETLB: u64 = 0x4_0000;
const PROT_WRITE: u64 = 2;
/// MAX_LFS_FILESIZE: where a file mapping must end by (file_mmap_ok).
const MAX_FILE_OFFSET: u64 = i64::MAX as u64;
/// Flags MAP_SHARED_VALIDATE accepts (LEGACY_MAP_MASK plus MAP_SYNC's refusal below).
const MAP_KNOWN: u64 = 0x0f | 0x10 | 0x20 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x1_0000 | 0x2_0000 | 0x4_0000 | 0x10_0000 | 0xfc00_0000;

/// RLIMIT_AS and RLIMIT_DATA, as Linux's may_expand_vm: ENOMEM if `grow` more bytes of
/// mapping, `grow_data` of them private writable, would pass either limit.
fn check_vm_limits(t: &Task, grow: u64, grow_data: u64) -> Result<(), Errno> {
    let limit = |r: usize| t.rlimits[r].rlim_cur;
    if t.mm.total_bytes().saturating_add(grow) > limit(RLIMIT_AS) || (grow_data > 0 && t.mm.data_bytes().saturating_add(grow_data) > limit(RLIMIT_DATA)) {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

fn sys_brk(t: &mut Task, a: [u64; 6]) -> SysResult {
    let cur = t.mm.current_brk();
    if let (Some(new_top), Some(old_top)) = (page_up(a[0]), page_up(cur)) {
        if new_top > old_top && check_vm_limits(t, new_top - old_top, new_top - old_top).is_err() {
            return Ok(cur);
        }
    }
    Ok(t.mm.brk(a[0]))
}

/// What a file mapping maps, once do_mmap's checks have passed.
enum FileMapping {
    /// /dev/zero: anonymous memory.
    Zero,
    /// A private copy of the file's bytes.
    Copy,
    /// A read-only shared mapping of a file whose pages are not in the memory file: a shared
    /// region holding a copy (the file cannot change under it in the overlaid root).
    SharedCopy,
    /// Windows of the file's own pages.
    Windows,
}

/// do_mmap's checks of a mapping of `f`, in Linux's order: the offset range (EOVERFLOW), the
/// descriptor's access mode (EACCES), whether the file can be mapped at all (ENODEV).
fn check_file_mapping(f: &FileDescription, off: u64, len: u64, prot: u64, flags: u64) -> Result<FileMapping, Errno> {
    // file_mmap_ok: the mapping ends within the largest file offset.
    if off.checked_add(len).is_none_or(|end| end > MAX_FILE_OFFSET) {
        return Err(Errno::EOVERFLOW);
    }
    let shared = flags & MAP_TYPE != MAP_PRIVATE;
    if shared && prot & PROT_WRITE != 0 && !f.writable() {
        return Err(Errno::EACCES);
    }
    if !f.readable() {
        return Err(Errno::EACCES);
    }
    let how = match f.ops.mmap_source() {
        MmapSource::Unmappable => return Err(Errno::ENODEV),
        MmapSource::Zero => FileMapping::Zero,
        MmapSource::Pages(_) if shared => FileMapping::Windows,
        MmapSource::Pages(_) => FileMapping::Copy,
        // Files without a name here are anonymous kernel objects (eventfd, epoll...); a
        // directory has no pages either.
        MmapSource::Copy if f.path.is_none() || f.ops.stat().is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR) => return Err(Errno::ENODEV),
        MmapSource::Copy if !shared => FileMapping::Copy,
        // A copy cannot carry stores back to a host file (one on a read-write mount: in the
        // overlaid root, opening for writing copies the file up into memory first).
        MmapSource::Copy if prot & PROT_WRITE != 0 => return Err(Errno::ENODEV),
        MmapSource::Copy => FileMapping::SharedCopy,
    };
    if flags & MAP_GROWSDOWN != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(how)
}

fn sys_mmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [addr, len, prot, flags, fd, off] = a;
    if off % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    // ksys_mmap_pgoff looks the descriptor up before anything else.
    let file = if flags & MAP_ANONYMOUS == 0 {
        let f = t.fds.get(fd as i32)?;
        if f.flags() & libc::O_PATH as u32 != 0 {
            return Err(Errno::EBADF);
        }
        if flags & MAP_HUGETLB != 0 {
            return Err(Errno::EINVAL);
        }
        Some(f)
    } else {
        None
    };
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    match flags & MAP_TYPE {
        MAP_SHARED | MAP_PRIVATE => {}
        MAP_SHARED_VALIDATE if flags & !MAP_KNOWN != 0 => return Err(Errno::EOPNOTSUPP),
        MAP_SHARED_VALIDATE => {}
        _ => return Err(Errno::EINVAL),
    }
    let len = page_up(len).ok_or(Errno::ENOMEM)?;
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    if fixed {
        if addr % PAGE_SIZE != 0 {
            return Err(Errno::EINVAL);
        }
        let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
        let user = t.mm.user_range();
        if addr < user.start || end > user.end {
            return Err(Errno::ENOMEM);
        }
        if flags & MAP_FIXED_NOREPLACE != 0 && flags & MAP_FIXED == 0 && t.mm.with(|m| m.vmas().any(|v| v.start < end && addr < v.end)) {
            return Err(Errno::EEXIST);
        }
    }
    let how = match &file {
        Some(f) => Some(check_file_mapping(f, off, len, prot, flags)?),
        None => None,
    };
    let shared = flags & MAP_TYPE != MAP_PRIVATE;
    let (replaced, replaced_data) = if fixed { t.mm.overlap_bytes(addr, addr.saturating_add(len)) } else { (0, 0) };
    let data = if !shared && prot & PROT_WRITE != 0 { len } else { 0 };
    check_vm_limits(t, len.saturating_sub(replaced), data.saturating_sub(replaced_data))?;
    let prot_bits = Prot::from_bits(prot);
    let (kind, backing) = match how {
        Some(FileMapping::Windows) => {
            let f = file.as_ref().ok_or(Errno::EBADF)?;
            let MmapSource::Pages(pages) = f.ops.mmap_source() else { return Err(Errno::ENODEV) };
            // The pins keep the file's pages until the VMAs hold their own references.
            let pinned = pages.pin(off, len)?;
            return t.mm.map_windows(addr, len, prot_bits, fixed, VmaKind::SharedFile { may_write: f.writable() }, pinned.windows());
        }
        Some(FileMapping::SharedCopy) => (VmaKind::SharedFile { may_write: false }, Backing::NewShared),
        _ if shared => (VmaKind::Anon, Backing::NewShared),
        _ => (VmaKind::Anon, Backing::Private),
    };
    // A read-only private mapping of a file whose pages are not in the memory file (a host
    // file, say a shared library): the page cache's copy, shared copy-on-write.
    if let (Some(f), Some(FileMapping::Copy)) = (&file, &how) {
        if prot & PROT_WRITE == 0 {
            if let Ok(st) = f.ops.stat() {
                let key = crate::mm::page_cache::Key::new(crate::mm::page_cache::FileId::of(&st), off, len);
                let mf = &t.kernel.memory_file;
                let region = mf.page_cache.region(mf, key, |iov, at| f.ops.read(iov, at))?;
                return t.mm.map_memory(addr, len, prot_bits, fixed, VmaKind::Anon, Backing::CopyOnWrite(region));
            }
        }
    }
    let at = t.mm.map_memory(addr, len, prot_bits, fixed, kind, backing)?;
    if let (Some(f), Some(FileMapping::Copy | FileMapping::SharedCopy)) = (file, how) {
        // The file's bytes, a chunk at a time up to its end: the mapping may be far larger.
        const CHUNK: u64 = 1 << 20;
        let mut buf = vec![0u8; CHUNK.min(len) as usize];
        let mut done = 0;
        while done < len {
            let want = CHUNK.min(len - done) as usize;
            let iov = [libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: want }];
            let n = match f.ops.read(&iov, off + done) {
                Ok(n) => n,
                Err(e) => {
                    let _ = t.mm.unmap(at, len);
                    return Err(e);
                }
            };
            t.mm.copy_out_force(at + done, &buf[..n])?;
            if n < want {
                break;
            }
            done += n as u64;
        }
    }
    Ok(at)
}

fn sys_munmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.unmap(a[0], a[1]).map(|()| 0)
}

fn sys_mprotect(t: &mut Task, a: [u64; 6]) -> SysResult {
    let prot = a[2];
    if prot & !(7 | PROT_GROWSDOWN | PROT_GROWSUP) != 0 || prot & (PROT_GROWSDOWN | PROT_GROWSUP) == PROT_GROWSDOWN | PROT_GROWSUP {
        return Err(Errno::EINVAL);
    }
    crate::loader::vdso::before_protect(&t.mm, a[0], a[1], Prot::from_bits(prot))?;
    t.mm.protect(a[0], a[1], Prot::from_bits(prot)).map(|()| 0)
}

const MREMAP_MAYMOVE: u64 = 1;
const MREMAP_FIXED: u64 = 2;
const MREMAP_DONTUNMAP: u64 = 4;

fn sys_mremap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [addr, old_len, new_len, flags, new_addr, _] = a;
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
        return Err(Errno::EINVAL);
    }
    let may_move = flags & MREMAP_MAYMOVE != 0;
    let fixed = flags & MREMAP_FIXED != 0;
    let dont_unmap = flags & MREMAP_DONTUNMAP != 0;
    // FIXED and DONTUNMAP are moves; DONTUNMAP does not resize (lengths compared unrounded).
    if (fixed && !may_move) || (dont_unmap && (!may_move || old_len != new_len)) {
        return Err(Errno::EINVAL);
    }
    // Growing counts against RLIMIT_AS (and RLIMIT_DATA for private writable memory).
    if let (Some(old), Some(new)) = (page_up(old_len), page_up(new_len)) {
        if new > old || dont_unmap {
            let grow = if dont_unmap { new } else { new - old };
            let data = t.mm.find(addr).is_some_and(|v| v.is_data());
            check_vm_limits(t, grow, if data { grow } else { 0 })?;
        }
    }
    if !fixed && !dont_unmap {
        // A shared file mapping growing past the end of its extent maps the file's next pages.
        if let Some(r) = t.mm.remap_window(addr, old_len, new_len, may_move) {
            return r;
        }
    }
    t.mm.remap(addr, old_len, new_len, RemapFlags { may_move, fixed, dont_unmap }, new_addr)
}

const MADV_NORMAL: u64 = 0;
const MADV_RANDOM: u64 = 1;
const MADV_SEQUENTIAL: u64 = 2;
const MADV_WILLNEED: u64 = 3;
const MADV_DONTNEED: u64 = 4;
const MADV_FREE: u64 = 8;
const MADV_REMOVE: u64 = 9;
const MADV_DONTFORK: u64 = 10;
const MADV_DOFORK: u64 = 11;
const MADV_MERGEABLE: u64 = 12;
const MADV_UNMERGEABLE: u64 = 13;
const MADV_HUGEPAGE: u64 = 14;
const MADV_NOHUGEPAGE: u64 = 15;
const MADV_DONTDUMP: u64 = 16;
const MADV_DODUMP: u64 = 17;
const MADV_WIPEONFORK: u64 = 18;
const MADV_KEEPONFORK: u64 = 19;
const MADV_COLD: u64 = 20;
const MADV_PAGEOUT: u64 = 21;
const MADV_POPULATE_READ: u64 = 22;
const MADV_POPULATE_WRITE: u64 = 23;
const MADV_DONTNEED_LOCKED: u64 = 24;
const MADV_COLLAPSE: u64 = 25;
const MADV_HWPOISON: u64 = 100;
const MADV_SOFT_OFFLINE: u64 = 101;
const MADV_GUARD_INSTALL: u64 = 102;
const MADV_GUARD_REMOVE: u64 = 103;

fn sys_madvise(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [addr, len, advice, ..] = a;
    let advice = match advice as i32 as i64 as u64 {
        MADV_DONTNEED => Advice::DontNeed,
        MADV_DONTNEED_LOCKED => Advice::DontNeedLocked,
        MADV_FREE => Advice::Free,
        MADV_REMOVE => Advice::Remove,
        MADV_DONTFORK => Advice::DontFork(true),
        MADV_DOFORK => Advice::DontFork(false),
        MADV_WIPEONFORK => Advice::WipeOnFork(true),
        MADV_KEEPONFORK => Advice::WipeOnFork(false),
        MADV_COLD | MADV_PAGEOUT => Advice::Reclaim,
        // Access-pattern, huge-page, KSM and core-dump hints: nothing here reads them.
        MADV_NORMAL | MADV_RANDOM | MADV_SEQUENTIAL | MADV_WILLNEED | MADV_MERGEABLE | MADV_UNMERGEABLE | MADV_HUGEPAGE | MADV_NOHUGEPAGE | MADV_DONTDUMP | MADV_DODUMP => Advice::Hint,
        MADV_HWPOISON | MADV_SOFT_OFFLINE if !t.creds.capable(cap::SYS_ADMIN) => return Err(Errno::EPERM),
        cmd @ (MADV_POPULATE_READ | MADV_POPULATE_WRITE | MADV_COLLAPSE | MADV_HWPOISON | MADV_SOFT_OFFLINE | MADV_GUARD_INSTALL | MADV_GUARD_REMOVE) => {
            t.kernel.audit.unsupported_command("madvise", cmd);
            return Err(Errno::EINVAL);
        }
        _ => return Err(Errno::EINVAL),
    };
    if advice == Advice::Remove {
        crate::loader::vdso::check_remove(&t.mm, addr, len)?;
    }
    t.mm.advise(addr, len, advice).map(|()| 0)
}

const MS_ASYNC: u64 = 1;
const MS_INVALIDATE: u64 = 2;
const MS_SYNC: u64 = 4;

fn sys_msync(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [addr, len, flags, ..] = a;
    let flags = flags as i32 as i64 as u64;
    if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0 || addr % PAGE_SIZE != 0 || (flags & MS_ASYNC != 0 && flags & MS_SYNC != 0) {
        return Err(Errno::EINVAL);
    }
    t.mm.sync(addr, len, flags & MS_INVALIDATE != 0, flags == MS_ASYNC).map(|()| 0)
}

fn sys_mincore(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [addr, len, vec, ..] = a;
    if addr % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    // Linux's access_ok: the range must lie below the top of user space.
    if len > TASK_SIZE || addr > TASK_SIZE - len {
        return Err(Errno::ENOMEM);
    }
    let pages = len.div_ceil(PAGE_SIZE);
    if vec > TASK_SIZE - pages {
        return Err(Errno::EFAULT);
    }
    let (resident, hole) = t.mm.residency(addr, pages);
    if !resident.is_empty() {
        t.mm.copy_out(vec, &resident)?;
    }
    if hole {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}

/// RLIMIT_MEMLOCK's index.
const RLIMIT_MEMLOCK: usize = 8;
const MLOCK_ONFAULT: u64 = 1;
const MCL_CURRENT: u64 = 1;
const MCL_FUTURE: u64 = 2;
const MCL_ONFAULT: u64 = 4;

/// RLIMIT_MEMLOCK in pages, and whether the task may lock memory at all (can_do_mlock).
fn memlock_limit(t: &Task) -> Result<u64, Errno> {
    let limit = t.rlimits[RLIMIT_MEMLOCK].rlim_cur;
    if limit == 0 && !t.creds.capable(cap::IPC_LOCK) {
        return Err(Errno::EPERM);
    }
    Ok(limit / PAGE_SIZE)
}

/// do_mlock: the range widened to whole pages, checked against RLIMIT_MEMLOCK unless the task
/// holds CAP_IPC_LOCK (guest root).
fn mlock(t: &mut Task, start: u64, len: u64, lock: VmaLock) -> SysResult {
    let limit = memlock_limit(t)?;
    let len = len.wrapping_add(start % PAGE_SIZE).wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    let start = start & !(PAGE_SIZE - 1);
    if !t.creds.capable(cap::IPC_LOCK) {
        let mut locked = len / PAGE_SIZE + t.mm.locked_bytes() / PAGE_SIZE;
        if locked > limit {
            // Pages already locked in the range are not counted twice.
            locked -= t.mm.locked_bytes_in(start, start.saturating_add(len)) / PAGE_SIZE;
        }
        if locked > limit {
            return Err(Errno::ENOMEM);
        }
    }
    t.mm.lock(start, len, lock).map(|()| 0)
}

fn sys_mlock(t: &mut Task, a: [u64; 6]) -> SysResult {
    mlock(t, a[0], a[1], VmaLock::Locked)
}

fn sys_mlock2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[2] as i32 as i64 as u64;
    if flags & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    mlock(t, a[0], a[1], if flags & MLOCK_ONFAULT != 0 { VmaLock::OnFault } else { VmaLock::Locked })
}

fn sys_munlock(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (start, len) = (a[0], a[1]);
    let len = len.wrapping_add(start % PAGE_SIZE).wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    t.mm.lock(start & !(PAGE_SIZE - 1), len, VmaLock::Unlocked).map(|()| 0)
}

fn sys_mlockall(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[0] as i32 as i64 as u64;
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT {
        return Err(Errno::EINVAL);
    }
    let limit = memlock_limit(t)?;
    if flags & MCL_CURRENT != 0 && !t.creds.capable(cap::IPC_LOCK) && t.mm.total_bytes() / PAGE_SIZE > limit {
        return Err(Errno::ENOMEM);
    }
    let lock = if flags & MCL_ONFAULT != 0 { VmaLock::OnFault } else { VmaLock::Locked };
    let future = if flags & MCL_FUTURE != 0 { lock } else { VmaLock::Unlocked };
    t.mm.lock_all((flags & MCL_CURRENT != 0).then_some(lock), future);
    Ok(0)
}

fn sys_munlockall(t: &mut Task, _: [u64; 6]) -> SysResult {
    t.mm.lock_all(Some(VmaLock::Unlocked), VmaLock::Unlocked);
    Ok(0)
}

const MEMBARRIER_CMD_QUERY: u32 = 0;
const MEMBARRIER_CMD_GLOBAL: u32 = 1;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED: u32 = 2;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: u32 = 4;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: u32 = 8;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: u32 = 16;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE: u32 = 32;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: u32 = 64;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ: u32 = 128;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ: u32 = 256;
const MEMBARRIER_CMD_GET_REGISTRATIONS: u32 = 512;
const MEMBARRIER_CMD_FLAG_CPU: u32 = 1;
/// What QUERY reports: everything but the RSEQ commands (there is no rseq).
const MEMBARRIER_SUPPORTED: u32 = MEMBARRIER_CMD_GLOBAL
    | MEMBARRIER_CMD_GLOBAL_EXPEDITED
    | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED
    | MEMBARRIER_CMD_PRIVATE_EXPEDITED
    | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
    | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
    | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    | MEMBARRIER_CMD_GET_REGISTRATIONS;

fn sys_membarrier(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (cmd, flags) = (a[0] as u32, a[1] as u32);
    let flags_ok = if cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ { flags == 0 || flags == MEMBARRIER_CMD_FLAG_CPU } else { flags == 0 };
    if !flags_ok {
        return Err(Errno::EINVAL);
    }
    // The barriers themselves: the platform's, on every thread running guest code (a superset
    // of the process's, or of the registered ones; an interrupt's return also serializes the
    // core, as SYNC_CORE asks).
    let kernel = t.kernel.clone();
    let barrier = || {
        kernel.platform.membarrier().map(|()| 0).map_err(|e| {
            tracing::warn!("membarrier: {e}");
            Errno::EINVAL
        })
    };
    t.mm.membarrier(|m| {
        let ready = |bit: u32| if m.ready & bit != 0 { barrier() } else { Err(Errno::EPERM) };
        match cmd {
            MEMBARRIER_CMD_QUERY => Ok(u64::from(MEMBARRIER_SUPPORTED)),
            MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED => barrier(),
            MEMBARRIER_CMD_PRIVATE_EXPEDITED => ready(MEMBARRIER_CMD_PRIVATE_EXPEDITED),
            MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE => ready(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE),
            MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED => {
                m.registered |= MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
                Ok(0)
            }
            MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED => {
                m.registered |= MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
                m.ready |= MEMBARRIER_CMD_PRIVATE_EXPEDITED;
                Ok(0)
            }
            MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE => {
                // As Linux: this also registers (without readying) plain PRIVATE_EXPEDITED.
                m.registered |= MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
                m.ready |= MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE;
                Ok(0)
            }
            MEMBARRIER_CMD_GET_REGISTRATIONS => Ok(u64::from(m.registered)),
            MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ => {
                kernel.audit.unsupported_command("membarrier", u64::from(cmd));
                Err(Errno::EINVAL)
            }
            _ => Err(Errno::EINVAL),
        }
    })
}
