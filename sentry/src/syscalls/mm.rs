//! Address-space calls: brk, mmap, munmap, mprotect.

use platform::{Prot, PAGE_SIZE};
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::Task;
use crate::mm::{page_up, VmaKind};

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::BRK, handler: sys_brk, support: Support::Full, note: "" },
    Registration {
        nr: nr::MMAP,
        handler: sys_mmap,
        support: Support::Partial,
        note: "anonymous mappings (MAP_SHARED ones stay shared across fork) and private file mappings (a copy taken at mmap); MAP_SHARED file mappings need the page cache (ENODEV)",
    },
    Registration { nr: nr::MUNMAP, handler: sys_munmap, support: Support::Full, note: "" },
    Registration { nr: nr::MPROTECT, handler: sys_mprotect, support: Support::Full, note: "" },
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
/// Flags MAP_SHARED_VALIDATE accepts (LEGACY_MAP_MASK plus MAP_SYNC's refusal below).
const MAP_KNOWN: u64 = 0x0f | 0x10 | 0x20 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x1_0000 | 0x2_0000 | 0x4_0000 | 0x10_0000 | 0xfc00_0000;

fn sys_brk(t: &mut Task, a: [u64; 6]) -> SysResult {
    Ok(t.mm.brk(a[0]))
}

fn sys_mmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [addr, len, prot, flags, fd, off] = a;
    if len == 0 || off % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    match flags & MAP_TYPE {
        MAP_SHARED | MAP_PRIVATE => {}
        MAP_SHARED_VALIDATE if flags & !MAP_KNOWN != 0 => return Err(Errno::EOPNOTSUPP),
        MAP_SHARED_VALIDATE => {}
        _ => return Err(Errno::EINVAL),
    }
    let len = page_up(len).ok_or(Errno::ENOMEM)?;
    let file = if flags & MAP_ANONYMOUS == 0 {
        let f = t.fds.get(fd as i32)?;
        if !f.readable() {
            return Err(Errno::EACCES);
        }
        // Private file mappings are a copy of the file taken now (the guest's own writes stay
        // private, as Linux's copy-on-write gives); shared ones need the page cache.
        if flags & MAP_TYPE != MAP_PRIVATE || f.path.is_none() || !f.ops.seekable() {
            return Err(Errno::ENODEV);
        }
        Some(f)
    } else {
        None
    };
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
        if flags & MAP_FIXED_NOREPLACE != 0 && flags & MAP_FIXED == 0 && t.mm.vmas().any(|v| v.start < end && addr < v.end) {
            return Err(Errno::EEXIST);
        }
    }
    let shared = flags & MAP_TYPE != MAP_PRIVATE;
    let at = t.mm.map_memory(addr, len, Prot::from_bits(prot), fixed, VmaKind::Anon, shared)?;
    if let Some(f) = file {
        let mut buf = vec![0u8; len as usize];
        let iov = [libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() }];
        let n = match f.ops.read(&iov, off) {
            Ok(n) => n,
            Err(e) => {
                let _ = t.mm.unmap(at, len);
                return Err(e);
            }
        };
        t.mm.copy_out_force(at, &buf[..n])?;
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
    t.mm.protect(a[0], a[1], Prot::from_bits(prot)).map(|()| 0)
}
