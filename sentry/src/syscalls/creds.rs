//! Credentials: the user and group id getters and setters (setuid, setreuid, setresuid,
//! setfsuid and their group twins), getresuid/getresgid, getgroups, setgroups, and the
//! capability sets (capget, capset).
//!
//! The rules are Linux's, with effective root standing for CAP_SETUID and CAP_SETGID: a
//! privileged task may set any ids; others may only move among their real, effective and
//! saved ids. The filesystem id follows the effective id. None of it reaches the host.

use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::{cap, Credentials, Task};

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::GETUID, handler: sys_getuid, support: Support::Full, note: "" },
    Registration { nr: nr::GETEUID, handler: sys_geteuid, support: Support::Full, note: "" },
    Registration { nr: nr::GETGID, handler: sys_getgid, support: Support::Full, note: "" },
    Registration { nr: nr::GETEGID, handler: sys_getegid, support: Support::Full, note: "" },
    Registration { nr: nr::SETUID, handler: sys_setuid, support: Support::Full, note: "" },
    Registration { nr: nr::SETGID, handler: sys_setgid, support: Support::Full, note: "" },
    Registration { nr: nr::SETREUID, handler: sys_setreuid, support: Support::Full, note: "" },
    Registration { nr: nr::SETREGID, handler: sys_setregid, support: Support::Full, note: "" },
    Registration { nr: nr::SETRESUID, handler: sys_setresuid, support: Support::Full, note: "" },
    Registration { nr: nr::SETRESGID, handler: sys_setresgid, support: Support::Full, note: "" },
    Registration { nr: nr::GETRESUID, handler: sys_getresuid, support: Support::Full, note: "" },
    Registration { nr: nr::GETRESGID, handler: sys_getresgid, support: Support::Full, note: "" },
    Registration { nr: nr::SETFSUID, handler: sys_setfsuid, support: Support::Full, note: "" },
    Registration { nr: nr::SETFSGID, handler: sys_setfsgid, support: Support::Full, note: "" },
    Registration { nr: nr::GETGROUPS, handler: sys_getgroups, support: Support::Full, note: "" },
    Registration { nr: nr::SETGROUPS, handler: sys_setgroups, support: Support::Full, note: "" },
    Registration { nr: nr::CAPGET, handler: sys_capget, support: Support::Partial, note: "the caller's own sets (another process's: EPERM, audited); no file capabilities or ambient set" },
    Registration { nr: nr::CAPSET, handler: sys_capset, support: Support::Partial, note: "the caller's own sets; no CAP_SETPCAP bounding changes" },
];

/// "Leave unchanged" in the set*id calls.
const KEEP: u32 = u32::MAX;
/// NGROUPS_MAX.
const NGROUPS_MAX: usize = 65536;

/// User ids or group ids.
#[derive(Clone, Copy)]
enum Kind {
    User,
    Group,
}

impl Kind {
    /// The capability that lets a task set ids of this kind freely.
    fn cap(self) -> u32 {
        match self {
            Kind::User => cap::SETUID,
            Kind::Group => cap::SETGID,
        }
    }
}

/// Runs a user- or group-id change; after a user-id change the capability sets follow, as
/// Linux's rules for root say.
fn change(t: &mut Task, k: Kind, f: impl FnOnce(&mut Task) -> SysResult) -> SysResult {
    let c = &t.creds;
    let old = (c.uid, c.euid, c.suid, c.fsuid);
    let r = f(t);
    if let Kind::User = k {
        t.creds.fix_caps_after_setuid(old);
    }
    r
}

/// (real, effective, saved, filesystem) ids of one kind.
fn ids(c: &mut Credentials, k: Kind) -> [&mut u32; 4] {
    match k {
        Kind::User => [&mut c.uid, &mut c.euid, &mut c.suid, &mut c.fsuid],
        Kind::Group => [&mut c.gid, &mut c.egid, &mut c.sgid, &mut c.fsgid],
    }
}

fn arg(v: u64) -> u32 {
    v as u32
}

/// setuid/setgid.
fn set_id(t: &mut Task, k: Kind, id: u32) -> SysResult {
    if id == KEEP {
        return Err(Errno::EINVAL);
    }
    let privileged = t.creds.capable(k.cap());
    let [r, e, s, f] = ids(&mut t.creds, k);
    if privileged {
        (*r, *e, *s, *f) = (id, id, id, id);
    } else if id == *r || id == *s {
        (*e, *f) = (id, id);
    } else {
        return Err(Errno::EPERM);
    }
    Ok(0)
}

/// setreuid/setregid.
fn set_re(t: &mut Task, k: Kind, new_r: u32, new_e: u32) -> SysResult {
    let privileged = t.creds.capable(k.cap());
    let [r, e, s, f] = ids(&mut t.creds, k);
    let (old_r, old_e, old_s) = (*r, *e, *s);
    if !privileged && ((new_r != KEEP && new_r != old_r && new_r != old_e) || (new_e != KEEP && new_e != old_r && new_e != old_e && new_e != old_s)) {
        return Err(Errno::EPERM);
    }
    if new_r != KEEP {
        *r = new_r;
    }
    if new_e != KEEP {
        *e = new_e;
    }
    // The saved id follows the effective one when the real id is set or the effective id
    // moves away from the old real id.
    if new_r != KEEP || (new_e != KEEP && new_e != old_r) {
        *s = *e;
    }
    *f = *e;
    Ok(0)
}

/// setresuid/setresgid.
fn set_res(t: &mut Task, k: Kind, new: [u32; 3]) -> SysResult {
    let privileged = t.creds.capable(k.cap());
    let [r, e, s, f] = ids(&mut t.creds, k);
    let current = [*r, *e, *s];
    if !privileged && new.iter().any(|&n| n != KEEP && !current.contains(&n)) {
        return Err(Errno::EPERM);
    }
    for (slot, n) in [r, e, s].into_iter().zip(new) {
        if n != KEEP {
            *slot = n;
        }
    }
    let effective = if new[1] != KEEP { new[1] } else { current[1] };
    *f = effective;
    Ok(0)
}

/// getresuid/getresgid.
fn get_res(t: &mut Task, k: Kind, ptrs: [u64; 3]) -> SysResult {
    let [r, e, s, _] = ids(&mut t.creds, k);
    let vals = [*r, *e, *s];
    for (p, v) in ptrs.into_iter().zip(vals) {
        t.mm.copy_out(p, &v.to_le_bytes())?;
    }
    Ok(0)
}

/// setfsuid/setfsgid: returns the old id whether or not the change was allowed.
fn set_fs(t: &mut Task, k: Kind, id: u32) -> SysResult {
    let privileged = t.creds.capable(k.cap());
    let [r, e, s, f] = ids(&mut t.creds, k);
    let old = *f;
    if id != KEEP && (privileged || [*r, *e, *s, *f].contains(&id)) {
        *f = id;
    }
    Ok(u64::from(old))
}

fn sys_getuid(t: &mut Task, _: [u64; 6]) -> SysResult {
    Ok(u64::from(t.creds.uid))
}

fn sys_geteuid(t: &mut Task, _: [u64; 6]) -> SysResult {
    Ok(u64::from(t.creds.euid))
}

fn sys_getgid(t: &mut Task, _: [u64; 6]) -> SysResult {
    Ok(u64::from(t.creds.gid))
}

fn sys_getegid(t: &mut Task, _: [u64; 6]) -> SysResult {
    Ok(u64::from(t.creds.egid))
}

fn sys_setuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    change(t, Kind::User, |t| set_id(t, Kind::User, arg(a[0])))
}

fn sys_setgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    change(t, Kind::Group, |t| set_id(t, Kind::Group, arg(a[0])))
}

fn sys_setreuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    change(t, Kind::User, |t| set_re(t, Kind::User, arg(a[0]), arg(a[1])))
}

fn sys_setregid(t: &mut Task, a: [u64; 6]) -> SysResult {
    change(t, Kind::Group, |t| set_re(t, Kind::Group, arg(a[0]), arg(a[1])))
}

fn sys_setresuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    change(t, Kind::User, |t| set_res(t, Kind::User, [arg(a[0]), arg(a[1]), arg(a[2])]))
}

fn sys_setresgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    change(t, Kind::Group, |t| set_res(t, Kind::Group, [arg(a[0]), arg(a[1]), arg(a[2])]))
}

fn sys_getresuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    get_res(t, Kind::User, [a[0], a[1], a[2]])
}

fn sys_getresgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    get_res(t, Kind::Group, [a[0], a[1], a[2]])
}

fn sys_setfsuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    change(t, Kind::User, |t| set_fs(t, Kind::User, arg(a[0])))
}

fn sys_setfsgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    change(t, Kind::Group, |t| set_fs(t, Kind::Group, arg(a[0])))
}

fn sys_getgroups(t: &mut Task, a: [u64; 6]) -> SysResult {
    let size = a[0] as i32;
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    let groups = t.creds.groups.clone();
    if size == 0 {
        return Ok(groups.len() as u64);
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_le_bytes()).collect();
    t.mm.copy_out(a[1], &bytes)?;
    Ok(groups.len() as u64)
}

fn sys_setgroups(t: &mut Task, a: [u64; 6]) -> SysResult {
    let size = a[0] as i32;
    if size < 0 || size as usize > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    if !t.creds.capable(cap::SETGID) {
        return Err(Errno::EPERM);
    }
    let mut raw = vec![0u8; size as usize * 4];
    t.mm.copy_in(a[1], &mut raw)?;
    t.creds.groups = std::sync::Arc::new(raw.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect());
    Ok(0)
}

/// _LINUX_CAPABILITY_VERSION_1 (one 32-bit set), _2 and _3 (two, for 64 bits).
const CAP_V1: u32 = 0x1998_0330;
const CAP_V2: u32 = 0x2007_1026;
const CAP_V3: u32 = 0x2008_0522;

/// Reads the capability header: Ok(number of data structs), after checking the version (an
/// unknown one is answered with the preferred version and EINVAL) and that the pid is the
/// caller (0 or its own id).
fn cap_header(t: &mut Task, hdr: u64) -> Result<usize, Errno> {
    let mut h = [0u8; 8];
    t.mm.copy_in(hdr, &mut h)?;
    let version = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let pid = i32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    let structs = match version {
        CAP_V1 => 1,
        CAP_V2 | CAP_V3 => 2,
        _ => {
            t.mm.copy_out(hdr, &CAP_V3.to_le_bytes())?;
            return Err(Errno::EINVAL);
        }
    };
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    if pid != 0 && pid != t.tgid {
        if !t.kernel.procs.exists(pid) {
            return Err(Errno::ESRCH);
        }
        t.kernel.audit.unsupported_command("capget/capset of another process", pid as u64);
        return Err(Errno::EPERM);
    }
    Ok(structs)
}

fn sys_capget(t: &mut Task, a: [u64; 6]) -> SysResult {
    let structs = cap_header(t, a[0])?;
    if a[1] == 0 {
        return Ok(0);
    }
    let c = &t.creds;
    let mut out = Vec::with_capacity(12 * structs);
    for half in 0..structs {
        for set in [c.cap_effective, c.cap_permitted, c.cap_inheritable] {
            out.extend_from_slice(&((set >> (32 * half)) as u32).to_le_bytes());
        }
    }
    t.mm.copy_out(a[1], &out).map(|()| 0)
}

fn sys_capset(t: &mut Task, a: [u64; 6]) -> SysResult {
    let structs = cap_header(t, a[0])?;
    let mut raw = vec![0u8; 12 * structs];
    t.mm.copy_in(a[1], &mut raw)?;
    let word = |i: usize| u64::from(u32::from_le_bytes([raw[i * 4], raw[i * 4 + 1], raw[i * 4 + 2], raw[i * 4 + 3]]));
    let (mut effective, mut permitted, mut inheritable) = (word(0), word(1), word(2));
    if structs == 2 {
        effective |= word(3) << 32;
        permitted |= word(4) << 32;
        inheritable |= word(5) << 32;
    }
    let c = &mut t.creds;
    // As cap_capset: nothing gained beyond what is permitted, effective within permitted,
    // and inheritable within the old inheritable and permitted ones.
    if permitted & !c.cap_permitted != 0 || effective & !permitted != 0 || inheritable & !(c.cap_inheritable | c.cap_permitted) != 0 {
        return Err(Errno::EPERM);
    }
    if (effective | permitted | inheritable) & !cap::ALL != 0 {
        return Err(Errno::EINVAL);
    }
    (c.cap_effective, c.cap_permitted, c.cap_inheritable) = (effective, permitted, inheritable);
    Ok(0)
}
