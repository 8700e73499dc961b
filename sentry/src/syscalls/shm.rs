//! SysV shared memory: shmget, shmat, shmdt, shmctl. Segments are kernel::shm's; attaching maps
//! the segment's shared region of the memory file, so every process that attaches it (and
//! every forked child) sees the same bytes.

use platform::{Prot, PAGE_SIZE};
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::shm::{self, Segment, SHMMAX, SHMMNI, SHM_DEST};
use crate::kernel::cap;
use crate::kernel::Task;
use crate::mm::{page_up, Backing, VmaKind};

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::SHMGET, handler: sys_shmget, support: Support::Partial, note: "no SHM_HUGETLB (EINVAL)" },
    Registration { nr: nr::SHMAT, handler: sys_shmat, support: Support::Full, note: "" },
    Registration { nr: nr::SHMDT, handler: sys_shmdt, support: Support::Full, note: "" },
    Registration { nr: nr::SHMCTL, handler: sys_shmctl, support: Support::Full, note: "" },
];

const IPC_PRIVATE: i32 = 0;
const IPC_CREAT: u32 = 0o1000;
const IPC_EXCL: u32 = 0o2000;
const SHM_HUGETLB: u32 = 0o4000;
const SHM_RDONLY: u64 = 0o10000;
const SHM_RND: u64 = 0o20000;
const SHM_REMAP: u64 = 0o40000;
const SHM_EXEC: u64 = 0o100000;
const SHM_LOCKED: u32 = 0o2000;
const IPC_RMID: u64 = 0;
const IPC_SET: u64 = 1;
const IPC_STAT: u64 = 2;
const IPC_INFO: u64 = 3;
const SHM_LOCK: u64 = 11;
const SHM_UNLOCK: u64 = 12;
const SHM_STAT: u64 = 13;
const SHM_INFO: u64 = 14;
const SHM_STAT_ANY: u64 = 15;
/// SHMLBA on x86-64.
const SHMLBA: u64 = PAGE_SIZE;

/// Linux's ipcperms: whether the caller may access `s` as the rwx bits of `flag` ask.
fn permitted(t: &Task, s: &Segment, flag: u32) -> bool {
    let requested = (flag >> 6 | flag >> 3 | flag) & 7;
    let c = &t.creds;
    let granted = if c.euid == s.uid || c.euid == s.cuid {
        s.mode >> 6
    } else if c.in_group(s.gid) || c.in_group(s.cgid) {
        s.mode >> 3
    } else {
        s.mode
    };
    requested & !granted & 7 == 0 || c.capable(cap::IPC_OWNER)
}

/// Whether the caller owns `s` (or is privileged): IPC_RMID, IPC_SET, SHM_LOCK.
fn owns(t: &Task, s: &Segment) -> bool {
    t.creds.capable(cap::SYS_ADMIN) || t.creds.euid == s.uid || t.creds.euid == s.cuid
}

/// Attaches now (region reference count, less the registry's own while not removed).
fn nattch(t: &Task, s: &Segment) -> u64 {
    let refs = t.kernel.memory_file.share_count(s.region).unwrap_or(0) as u64;
    refs.saturating_sub(u64::from(!s.removed))
}

fn sys_shmget(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (key, size, flags) = (a[0] as i32, a[1], a[2] as u32);
    let mf = &t.kernel.memory_file;
    if key != IPC_PRIVATE {
        if let Some((id, s)) = t.kernel.shm.by_key(mf, key) {
            if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            if !permitted(t, &s, flags) {
                return Err(Errno::EACCES);
            }
            if size > s.size {
                return Err(Errno::EINVAL);
            }
            return Ok(id as u64);
        }
        if flags & IPC_CREAT == 0 {
            return Err(Errno::ENOENT);
        }
    }
    if flags & SHM_HUGETLB != 0 {
        t.kernel.audit.unsupported_command("shmget flags", u64::from(flags));
        return Err(Errno::EINVAL);
    }
    if size == 0 || size > SHMMAX {
        return Err(Errno::EINVAL);
    }
    let region = mf.allocate_shared(page_up(size).ok_or(Errno::EINVAL)?)?;
    let c = &t.creds;
    let seg = Segment {
        key,
        size,
        region,
        mode: flags & 0o777,
        uid: c.euid,
        gid: c.egid,
        cuid: c.euid,
        cgid: c.egid,
        cpid: t.tgid,
        lpid: 0,
        atime: 0,
        dtime: 0,
        ctime: shm::now(),
        seq: 0,
        removed: false,
    };
    t.kernel.shm.insert(mf, seg).map(|id| id as u64).inspect_err(|_| mf.unshare(region))
}

fn sys_shmat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, mut addr, flags) = (a[0] as i32, a[1], a[2]);
    if !addr.is_multiple_of(SHMLBA) {
        if flags & SHM_RND == 0 {
            return Err(Errno::EINVAL);
        }
        addr &= !(SHMLBA - 1);
    }
    if addr == 0 && flags & SHM_REMAP != 0 {
        return Err(Errno::EINVAL);
    }
    let s = t.kernel.shm.get(&t.kernel.memory_file, id)?;
    let write = flags & SHM_RDONLY == 0;
    let exec = flags & SHM_EXEC != 0;
    let want = 0o4 | if write { 0o2 } else { 0 } | if exec { 0o1 } else { 0 };
    if !permitted(t, &s, want) {
        return Err(Errno::EACCES);
    }
    let len = page_up(s.size).ok_or(Errno::EINVAL)?;
    if addr != 0 {
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if flags & SHM_REMAP == 0 && t.mm.with(|m| m.vmas().any(|v| v.start < end && addr < v.end)) {
            return Err(Errno::EINVAL);
        }
    }
    let prot = Prot { read: true, write, exec };
    let at = t.mm.map_memory(addr, len, prot, addr != 0, VmaKind::Shm { key: s.key }, Backing::Region(s.region))?;
    let pid = t.tgid;
    t.kernel.shm.update(&t.kernel.memory_file, id, |s| {
        s.atime = shm::now();
        s.lpid = pid;
        Ok(())
    })?;
    Ok(at)
}

fn sys_shmdt(t: &mut Task, a: [u64; 6]) -> SysResult {
    let addr = a[0];
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let Some(v) = t.mm.find(addr).filter(|v| v.start == addr && matches!(v.kind, VmaKind::Shm { .. })) else {
        return Err(Errno::EINVAL);
    };
    let region = v.shared.ok_or(Errno::EINVAL)?;
    let len = t.kernel.memory_file.shared_len(region).unwrap_or(v.end - v.start);
    // Every piece of this attach: the segment's VMAs from `addr` on, within its size.
    let end = addr.saturating_add(len);
    let pieces: Vec<(u64, u64)> = t.mm.with(|m| m.vmas().filter(|w| w.shared == Some(region) && w.start >= addr && w.end <= end).map(|w| (w.start, w.end - w.start)).collect());
    for (start, n) in pieces {
        t.mm.unmap(start, n)?;
    }
    let (mf, pid) = (&t.kernel.memory_file, t.tgid);
    t.kernel.shm.with_region(mf, region, |s| {
        s.dtime = shm::now();
        s.lpid = pid;
    });
    Ok(0)
}

/// struct shmid_ds as x86-64 lays it out (112 bytes).
fn shmid_ds(t: &Task, s: &Segment) -> [u8; 112] {
    let mut b = [0u8; 112];
    let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
    put(0, &s.key.to_le_bytes());
    put(4, &s.uid.to_le_bytes());
    put(8, &s.gid.to_le_bytes());
    put(12, &s.cuid.to_le_bytes());
    put(16, &s.cgid.to_le_bytes());
    put(20, &s.mode.to_le_bytes());
    put(24, &s.seq.to_le_bytes());
    put(48, &s.size.to_le_bytes());
    put(56, &s.atime.to_le_bytes());
    put(64, &s.dtime.to_le_bytes());
    put(72, &s.ctime.to_le_bytes());
    put(80, &s.cpid.to_le_bytes());
    put(84, &s.lpid.to_le_bytes());
    put(88, &nattch(t, s).to_le_bytes());
    b
}

fn sys_shmctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, cmd, buf) = (a[0] as i32, a[1] & !0x100, a[2]); // IPC_64 is implied on x86-64
    let mf = t.kernel.memory_file.clone();
    match cmd {
        IPC_INFO | SHM_INFO => {
            let (segs, highest) = t.kernel.shm.census(&mf);
            let mut b = [0u8; 80];
            if cmd == IPC_INFO {
                // struct shminfo: shmmax, shmmin, shmmni, shmseg, shmall.
                for (i, v) in [SHMMAX, 1, SHMMNI as u64, SHMMNI as u64, SHMMAX].iter().enumerate() {
                    b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
                }
            } else {
                // struct shm_info: used_ids, shm_tot (pages), shm_rss, shm_swp, swap counters.
                let pages: u64 = segs.iter().map(|s| s.size.div_ceil(PAGE_SIZE)).sum();
                b[..4].copy_from_slice(&(segs.len() as i32).to_le_bytes());
                b[8..16].copy_from_slice(&pages.to_le_bytes());
                b[16..24].copy_from_slice(&pages.to_le_bytes());
            }
            t.mm.copy_out(buf, &b[..if cmd == IPC_INFO { 72 } else { 48 }])?;
            Ok(highest as u64)
        }
        SHM_STAT | SHM_STAT_ANY => {
            let (sid, s) = t.kernel.shm.at_slot(&mf, id.max(0) as usize).filter(|_| id >= 0).ok_or(Errno::EINVAL)?;
            if cmd == SHM_STAT && !permitted(t, &s, 0o4) {
                return Err(Errno::EACCES);
            }
            t.mm.copy_out(buf, &shmid_ds(t, &s))?;
            Ok(sid as u64)
        }
        IPC_STAT => {
            let s = t.kernel.shm.get(&mf, id)?;
            if !permitted(t, &s, 0o4) {
                return Err(Errno::EACCES);
            }
            t.mm.copy_out(buf, &shmid_ds(t, &s)).map(|()| 0)
        }
        IPC_SET => {
            let mut b = [0u8; 24];
            t.mm.copy_in(buf, &mut b)?;
            let word = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
            let (uid, gid, mode) = (word(4), word(8), word(20));
            let owner = |s: &Segment| owns(t, s);
            t.kernel.shm.update(&mf, id, |s| {
                if !owner(s) {
                    return Err(Errno::EPERM);
                }
                (s.uid, s.gid, s.mode, s.ctime) = (uid, gid, (s.mode & !0o777) | (mode & 0o777), shm::now());
                Ok(0)
            })
        }
        IPC_RMID => {
            let owner = |s: &Segment| owns(t, s);
            let region = t.kernel.shm.update(&mf, id, |s| {
                if !owner(s) {
                    return Err(Errno::EPERM);
                }
                if s.removed {
                    return Ok(None);
                }
                (s.removed, s.key, s.mode, s.ctime) = (true, IPC_PRIVATE, s.mode | SHM_DEST, shm::now());
                Ok(Some(s.region))
            })?;
            // The registry's own reference goes; the memory goes with the last attach.
            if let Some(r) = region {
                mf.unshare(r);
            }
            Ok(0)
        }
        SHM_LOCK | SHM_UNLOCK => {
            let owner = |s: &Segment| owns(t, s);
            t.kernel.shm.update(&mf, id, |s| {
                if !owner(s) {
                    return Err(Errno::EPERM);
                }
                s.mode = if cmd == SHM_LOCK { s.mode | SHM_LOCKED } else { s.mode & !SHM_LOCKED };
                Ok(0)
            })
        }
        _ => Err(Errno::EINVAL),
    }
}
