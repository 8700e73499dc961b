//! Memory-manager properties, over a fake address space that records what the platform was
//! asked to do.

use std::sync::Arc;

use platform::{AddressSpace, PlatformError, Prot};
use proptest::prelude::*;
use syscalls::Errno;

use super::*;

/// An address space that accepts every change and does nothing: the memory manager's own state
/// is what tests look at. Shared with other modules' tests.
pub(crate) struct FakeAs;

impl AddressSpace for FakeAs {
    fn map(&mut self, _: u64, _: u64, _: Prot, _: u64) -> Result<(), PlatformError> {
        Ok(())
    }
    fn unmap(&mut self, _: u64, _: u64) -> Result<(), PlatformError> {
        Ok(())
    }
    fn protect(&mut self, _: u64, _: u64, _: Prot) -> Result<(), PlatformError> {
        Ok(())
    }
}

const LO: u64 = 0x10000;
const HI: u64 = 0x1000_0000;

fn mm() -> MemoryManager {
    let mf = Arc::new(MemoryFile::new(1 << 30).unwrap());
    MemoryManager::new(mf, Box::new(FakeAs), LO..HI)
}

#[test]
fn copy_round_trip_across_vmas_and_permissions() {
    let m = mm();
    let a = m.map_anon(0x100000, 0x2000, Prot::RW, true, VmaKind::Anon).unwrap();
    m.map_anon(0x102000, 0x1000, Prot::RW, true, VmaKind::Anon).unwrap();
    let data: Vec<u8> = (0..0x2800u32).map(|i| i as u8).collect();
    m.copy_out(a + 0x800, &data).unwrap();
    let mut back = vec![0u8; data.len()];
    m.copy_in(a + 0x800, &mut back).unwrap();
    assert_eq!(back, data);
    m.protect(0x101000, 0x1000, Prot { read: true, write: false, exec: false }).unwrap();
    assert_eq!(m.copy_out(0x101ff0, &[1; 32]), Err(Errno::EFAULT));
    assert_eq!(m.copy_in(0x103000, &mut [0; 1]), Err(Errno::EFAULT));
    assert_eq!(m.copy_in(u64::MAX - 1, &mut [0; 4]), Err(Errno::EFAULT));
}

#[test]
fn cstr_reads_stop_at_nul_and_limits() {
    let m = mm();
    let a = m.map_anon(0, 0x1000, Prot::RW, false, VmaKind::Anon).unwrap();
    m.copy_out(a + 0xffa, b"hello\0").unwrap();
    assert_eq!(m.copy_in_cstr(a + 0xffa, 100).unwrap(), b"hello");
    m.copy_out(a + 0xffa, b"hellox").unwrap();
    assert_eq!(m.copy_in_cstr(a + 0xffa, 100), Err(Errno::EFAULT), "runs into unmapped memory");
    assert_eq!(m.copy_in_cstr(a + 0xffa, 3), Err(Errno::ENAMETOOLONG));
}

#[test]
fn munmap_and_mprotect_follow_linux() {
    let m = mm();
    assert_eq!(m.unmap(0x100001, 0x1000), Err(Errno::EINVAL));
    assert_eq!(m.unmap(0x100000, 0), Err(Errno::EINVAL));
    assert_eq!(m.unmap(0x100000, 0x1000), Ok(()), "unmapping a hole is fine");
    assert_eq!(m.protect(0x100000, 0x1000, Prot::RW), Err(Errno::ENOMEM), "mprotect of a hole");
    let a = m.map_anon(0x200000, 0x3000, Prot::RW, true, VmaKind::Anon).unwrap();
    m.unmap(a + 0x1000, 0x1000).unwrap();
    assert_eq!(m.vmas().len(), 2);
    assert!(m.find(a + 0x1000).is_none());
}

#[test]
fn brk_grows_and_shrinks() {
    let m = mm();
    m.set_brk_start(0x300000);
    assert_eq!(m.brk(0), 0x300000);
    assert_eq!(m.brk(0x305123), 0x305123);
    m.copy_out(0x305000, &[1; 0x123]).unwrap();
    assert_eq!(m.brk(0x301000), 0x301000);
    assert_eq!(m.copy_in(0x302000, &mut [0; 1]), Err(Errno::EFAULT));
    assert_eq!(m.brk(0x100), 0x301000, "below the start: unchanged");
}

const MOVE: RemapFlags = RemapFlags { may_move: true, fixed: false, dont_unmap: false };

fn byte(m: &MemoryManager, addr: u64) -> u8 {
    let mut b = [0u8; 1];
    m.copy_in(addr, &mut b).unwrap();
    b[0]
}

#[test]
fn mremap_grows_in_place_moves_and_keeps_data() {
    let m = mm();
    let a = m.map_anon(0x200000, 0x2000, Prot::RW, true, VmaKind::Anon).unwrap();
    m.copy_out(a, b"A").unwrap();
    m.copy_out(a + 0x1000, b"B").unwrap();
    // Something else takes the memory-file space after the VMA: growing must copy.
    let _other = m.map_anon(0x400000, 0x1000, Prot::RW, true, VmaKind::Anon).unwrap();
    assert_eq!(m.remap(a, 0x2000, 0x4000, RemapFlags::default(), 0), Ok(a));
    assert_eq!((byte(&m, a), byte(&m, a + 0x1000), byte(&m, a + 0x3000)), (b'A', b'B', 0));
    m.map_anon(a + 0x4000, 0x1000, Prot::from_bits(1), true, VmaKind::Anon).unwrap();
    assert_eq!(m.remap(a, 0x4000, 0x5000, RemapFlags::default(), 0), Err(Errno::ENOMEM));
    let b = m.remap(a, 0x4000, 0x5000, MOVE, 0).unwrap();
    assert_ne!(a, b);
    assert!(m.find(a).is_none());
    assert_eq!((byte(&m, b), byte(&m, b + 0x1000)), (b'A', b'B'));
    assert_eq!(m.remap(b, 0x5000, 0x1000, RemapFlags::default(), 0), Ok(b));
    assert!(m.find(b + 0x1000).is_none());
}

#[test]
fn mremap_errors_follow_linux() {
    let m = mm();
    let a = m.map_anon(0x200000, 0x4000, Prot::RW, true, VmaKind::Anon).unwrap();
    assert_eq!(m.remap(a + 1, 0x1000, 0x1000, MOVE, 0), Err(Errno::EINVAL));
    assert_eq!(m.remap(a, 0x1000, 0, MOVE, 0), Err(Errno::EINVAL));
    assert_eq!(m.remap(0x900000, 0x1000, 0x2000, MOVE, 0), Err(Errno::EFAULT));
    assert_eq!(m.remap(a, 0, 0x1000, MOVE, 0), Err(Errno::EINVAL), "old_len 0 of private memory");
    let fixed = RemapFlags { may_move: true, fixed: true, dont_unmap: false };
    assert_eq!(m.remap(a, 0x2000, 0x2000, fixed, a + 0x1000), Err(Errno::EINVAL), "overlap");
    assert_eq!(m.remap(a, 0x1000, 0x1000, fixed, 0x300001), Err(Errno::EINVAL));
    m.protect(a + 0x2000, 0x2000, Prot::from_bits(1)).unwrap();
    assert_eq!(m.remap(a, 0x4000, 0x5000, MOVE, 0), Err(Errno::EFAULT), "spans two unlike VMAs");
}

#[test]
fn mremap_joins_neighbours_linux_would_have_merged() {
    let m = mm();
    let a = m.map_anon(0x200000, 0x1000, Prot::RW, true, VmaKind::Anon).unwrap();
    let _spacer = m.map_anon(0x300000, 0x1000, Prot::RW, true, VmaKind::Anon).unwrap();
    m.map_anon(a + 0x1000, 0x1000, Prot::RW, true, VmaKind::Anon).unwrap();
    m.copy_out(a, b"1").unwrap();
    m.copy_out(a + 0x1000, b"2").unwrap();
    let to = m.remap(a, 0x2000, 0x2000, RemapFlags { may_move: true, fixed: true, dont_unmap: false }, 0x500000).unwrap();
    assert_eq!((byte(&m, to), byte(&m, to + 0x1000)), (b'1', b'2'));
    assert_eq!(m.vmas().into_iter().filter(|v| v.start >= 0x500000).count(), 1);
}

#[test]
fn mremap_of_shared_memory_keeps_the_region_counted() {
    let m = mm();
    let mf = m.memory_file().clone();
    let a = m.map_memory(0x200000, 0x4000, Prot::RW, true, VmaKind::Anon, Backing::NewShared).unwrap();
    let region = m.find(a).unwrap().shared.unwrap();
    m.copy_out(a + 0x3000, b"s").unwrap();
    assert_eq!(m.remap(a, 0x4000, 0x2000, RemapFlags::default(), 0), Ok(a));
    assert_eq!(m.remap(a, 0x2000, 0x4000, RemapFlags::default(), 0), Ok(a));
    assert_eq!(byte(&m, a + 0x3000), b's', "regrowing within the region finds its data");
    assert_eq!(m.remap(a, 0x4000, 0x5000, MOVE, 0), Err(Errno::ENOMEM), "past the region");
    let dup = m.remap(a, 0, 0x4000, MOVE, 0).unwrap();
    let b = m.remap(a, 0x4000, 0x4000, RemapFlags { may_move: true, fixed: true, dont_unmap: false }, 0x600000).unwrap();
    m.unmap(dup, 0x4000).unwrap();
    assert_eq!(byte(&m, b + 0x3000), b's');
    assert!(mf.shared_len(region).is_some(), "one VMA still holds the region");
    m.unmap(b, 0x4000).unwrap();
    assert!(mf.shared_len(region).is_none(), "the last VMA gave the region back");
}

#[test]
fn mremap_dontunmap_leaves_zeros_behind() {
    let m = mm();
    let a = m.map_anon(0x200000, 0x2000, Prot::RW, true, VmaKind::Anon).unwrap();
    m.copy_out(a, b"d").unwrap();
    let b = m.remap(a, 0x2000, 0x2000, RemapFlags { may_move: true, fixed: false, dont_unmap: true }, 0).unwrap();
    assert_eq!((byte(&m, a), byte(&m, b)), (0, b'd'));
}

#[test]
fn madvise_and_mlock_follow_linux() {
    let m = mm();
    let a = m.map_anon(0x200000, 0x3000, Prot::RW, true, VmaKind::Anon).unwrap();
    m.copy_out(a, &[1; 0x3000]).unwrap();
    assert_eq!(m.advise(a, 0x1000, Advice::DontNeed), Ok(()));
    assert_eq!(m.residency(a, 3), (vec![0, 1, 1], false));
    // Reading faults a zeroed page in, as Linux maps its zero page.
    assert_eq!((byte(&m, a), byte(&m, a + 0x1000)), (0, 1));
    m.unmap(a + 0x1000, 0x1000).unwrap();
    assert_eq!(m.advise(a, 0x3000, Advice::DontNeed), Err(Errno::ENOMEM));
    assert_eq!(byte(&m, a + 0x2000), 0, "the mapped part after the hole was done too");
    assert_eq!(m.residency(a, 3), (vec![0], true));
    assert_eq!(m.lock(a, 0x3000, VmaLock::Locked), Err(Errno::ENOMEM));
    assert_eq!(m.locked_bytes(), 0x1000, "the part before the hole is locked");
    assert_eq!(m.advise(a, 0x1000, Advice::DontNeed), Err(Errno::EINVAL));
    assert_eq!(m.sync(a, 0x1000, true, false), Err(Errno::EBUSY));
    m.lock_all(Some(VmaLock::Unlocked), VmaLock::Unlocked);
    assert_eq!(m.locked_bytes(), 0);
}

#[derive(Debug, Clone)]
enum Op {
    Map { page: u64, pages: u64, fixed: bool, prot: u8 },
    Unmap { page: u64, pages: u64 },
    Protect { page: u64, pages: u64, prot: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    let page = 0u64..64;
    let pages = 1u64..16;
    prop_oneof![
        (page.clone(), pages.clone(), any::<bool>(), 0u8..8).prop_map(|(page, pages, fixed, prot)| Op::Map { page, pages, fixed, prot }),
        (page.clone(), pages.clone()).prop_map(|(page, pages)| Op::Unmap { page, pages }),
        (page, pages, 0u8..8).prop_map(|(page, pages, prot)| Op::Protect { page, pages, prot }),
    ]
}

proptest! {
    /// Whatever the guest does, VMAs stay sorted, non-overlapping, inside the user range, and
    /// each maps memory-file space no other VMA maps.
    #[test]
    fn vmas_stay_disjoint(ops in proptest::collection::vec(op(), 1..40)) {
        let m = mm();
        m.set_mmap_top(LO + 128 * 0x1000);
        let base = LO;
        for o in ops {
            match o {
                Op::Map { page, pages, fixed, prot } => {
                    let _ = m.map_anon(base + page * 0x1000, pages * 0x1000, Prot::from_bits(u64::from(prot)), fixed, VmaKind::Anon);
                }
                Op::Unmap { page, pages } => { let _ = m.unmap(base + page * 0x1000, pages * 0x1000); }
                Op::Protect { page, pages, prot } => { let _ = m.protect(base + page * 0x1000, pages * 0x1000, Prot::from_bits(u64::from(prot))); }
            }
            let v: Vec<Vma> = m.vmas().into_iter().collect();
            for w in v.windows(2) {
                prop_assert!(w[0].end <= w[1].start);
            }
            let mut files: Vec<(u64, u64)> = v.iter().map(|x| (x.offset, x.offset + (x.end - x.start))).collect();
            files.sort();
            for w in files.windows(2) {
                prop_assert!(w[0].1 <= w[1].0, "two VMAs share memory-file pages");
            }
            for x in &v {
                prop_assert!(x.start >= LO && x.end <= HI && x.start < x.end);
            }
        }
    }
}

#[test]
fn fork_shares_read_only_memory_until_written() {
    let parent = mm();
    let ro = Prot { read: true, write: false, exec: true };
    let a = parent.map_anon(0x200000, 0x3000, Prot::RW, true, VmaKind::Image).unwrap();
    parent.copy_out(a, b"text").unwrap();
    parent.protect(a, 0x3000, ro).unwrap();
    let mf = parent.memory_file().clone();
    let child = MemoryManager::from_fork(mf.clone(), Box::new(FakeAs), LO..HI, parent.fork_copy().unwrap()).unwrap();
    let (pv, cv) = (parent.find(a).unwrap(), child.find(a).unwrap());
    assert_eq!(pv.offset, cv.offset, "read-only memory is shared, not copied");
    assert!(pv.cow.is_some() && cv.cow.is_some());
    // The child makes part of it writable: that part becomes its own copy; the rest stays shared.
    child.protect(a + 0x1000, 0x1000, Prot::RW).unwrap();
    child.copy_out(a + 0x1000, b"C").unwrap();
    assert_eq!(byte(&parent, a + 0x1000), 0, "the parent does not see the child's write");
    assert_eq!(child.find(a).unwrap().offset, pv.offset);
    // The Sentry writing past protections (the loader, patching) copies too.
    parent.copy_out_force(a, b"P").unwrap();
    assert_eq!(byte(&child, a), b't');
    assert_eq!(byte(&parent, a), b'P');
    // The child's first and last pages still refer to the region; once the first is its own
    // copy, the last is the region's only holder and takes its memory without copying.
    child.protect(a, 0x1000, Prot::RW).unwrap();
    assert_ne!(child.find(a).unwrap().offset, pv.offset);
    child.protect(a + 0x2000, 0x1000, Prot::RW).unwrap();
    assert_eq!(child.find(a + 0x2000).unwrap().offset, pv.offset + 0x2000);
    assert!(child.vmas().iter().all(|v| v.cow.is_none()));
    assert_eq!(byte(&child, a + 0x2000), 0);
    drop(child);
    drop(parent);
}

#[test]
fn page_cache_reads_a_file_range_once_per_version() {
    use super::page_cache::{FileId, Key};
    let m = mm();
    let mf = m.memory_file().clone();
    let mut st = syscalls::structs::Stat { st_ino: 7, st_size: 5000, ..Default::default() };
    let reads = std::cell::Cell::new(0);
    let file = |iov: &[libc::iovec], at: u64| -> Result<usize, Errno> {
        reads.set(reads.get() + 1);
        let n = (5000u64.saturating_sub(at) as usize).min(iov[0].iov_len);
        // SAFETY: the iovec points into the memory file mapping, iov_len bytes long.
        unsafe { std::ptr::write_bytes(iov[0].iov_base.cast::<u8>(), b'f', n) };
        Ok(n)
    };
    let a = mf.page_cache.region(&mf, Key::new(FileId::of(&st), 0, 8192), file).unwrap();
    let b = mf.page_cache.region(&mf, Key::new(FileId::of(&st), 0, 8192), file).unwrap();
    assert_eq!((a, reads.get()), (b, 2), "read until its end once, then served from the cache");
    let mut tail = [1u8; 4];
    mf.read(a + 4998, &mut tail);
    assert_eq!(tail, [b'f', b'f', 0, 0], "zeros past the file's end");
    st.st_mtime += 1;
    let c = mf.page_cache.region(&mf, Key::new(FileId::of(&st), 0, 8192), file).unwrap();
    assert_ne!(a, c, "a changed file is read afresh");
    // A mapping shares the region copy-on-write.
    let at = m.map_memory(0x400000, 8192, Prot { read: true, write: false, exec: true }, true, VmaKind::Anon, Backing::CopyOnWrite(a)).unwrap();
    assert_eq!(byte(&m, at + 10), b'f');
    m.protect(at, 8192, Prot::RW).unwrap();
    m.copy_out(at, b"X").unwrap();
    let mut first = [0u8; 1];
    mf.read(a, &mut first);
    assert_eq!(first, [b'f'], "a write after mprotect goes to the mapping's own copy");
}
