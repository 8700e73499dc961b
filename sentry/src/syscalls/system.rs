//! The system's identity and resources as the guest sees them: uname, getrandom, and the
//! resource limits (prlimit64, getrlimit, setrlimit).

use syscalls::structs::{Rlimit, Utsname};
use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::task::{RLIMIT_NOFILE, RLIM_NLIMITS};
use crate::kernel::cap;
use crate::kernel::{uts, Task};
use crate::mm::Access;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::UNAME, handler: sys_uname, support: Support::Full, note: "a fixed identity: Linux 6.1.0, node name \"sandbox\"" },
    Registration { nr: nr::GETRANDOM, handler: sys_getrandom, support: Support::Full, note: "" },
    Registration { nr: nr::PRLIMIT64, handler: sys_prlimit64, support: Support::Partial, note: "the calling process only; enforced: NOFILE, FSIZE (EFBIG, SIGXFSZ), NPROC, AS, DATA, MEMLOCK, NICE, RTPRIO; recorded only: STACK, CPU and the rest" },
    Registration { nr: nr::GETRLIMIT, handler: sys_getrlimit, support: Support::Full, note: "" },
    Registration { nr: nr::SETRLIMIT, handler: sys_setrlimit, support: Support::Partial, note: "as prlimit64" },
];

fn sys_uname(t: &mut Task, a: [u64; 6]) -> SysResult {
    let u = Utsname::new([uts::SYSNAME, uts::NODENAME, uts::RELEASE, uts::VERSION, uts::MACHINE, uts::DOMAINNAME]);
    t.mm.write_struct(a[0], &u)?;
    Ok(0)
}

const GRND_NONBLOCK: u64 = 1;
const GRND_RANDOM: u64 = 2;
const GRND_INSECURE: u64 = 4;

fn sys_getrandom(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [buf, len, flags, ..] = a;
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0 || flags & (GRND_RANDOM | GRND_INSECURE) == GRND_RANDOM | GRND_INSECURE {
        return Err(Errno::EINVAL);
    }
    let len = len.min(i32::MAX as u64);
    let mut segs = Vec::new();
    if len > 0 && t.mm.segments(buf, len, Access::Write, &mut segs) == 0 {
        return Err(Errno::EFAULT);
    }
    let mut total = 0u64;
    for s in segs {
        let (mut p, mut left) = (s.iov_base.cast::<u8>(), s.iov_len);
        while left > 0 {
            // SAFETY: [p, p+left) is guest memory in the memory file, checked writable; the
            // host writes at most `left` bytes there.
            let n = unsafe { libc::getrandom(p.cast(), left, 0) };
            if n <= 0 {
                return if total > 0 { Ok(total) } else { Err(Errno::EINTR) };
            }
            total += n as u64;
            left -= n as usize;
            // SAFETY: n <= left, so p stays within the segment (or one past its end).
            p = unsafe { p.add(n as usize) };
        }
    }
    Ok(total)
}

/// RLIMIT_NOFILE may not exceed fs.nr_open (Linux's default).
const NR_OPEN: u64 = 1 << 20;

/// Reads the old limit, then sets the new one; both for the calling process.
fn rlimit(t: &mut Task, resource: u64, new: u64, old: u64) -> SysResult {
    let r = usize::try_from(resource).ok().filter(|&r| r < RLIM_NLIMITS).ok_or(Errno::EINVAL)?;
    let new = if new != 0 {
        let n: Rlimit = t.mm.read_struct(new)?;
        if n.rlim_cur > n.rlim_max {
            return Err(Errno::EINVAL);
        }
        let raising = n.rlim_max > t.rlimits[r].rlim_max;
        if (raising && !t.creds.capable(cap::SYS_RESOURCE)) || (r == RLIMIT_NOFILE && n.rlim_max > NR_OPEN) {
            return Err(Errno::EPERM);
        }
        Some(n)
    } else {
        None
    };
    if old != 0 {
        let cur = t.rlimits[r];
        t.mm.write_struct(old, &cur)?;
    }
    if let Some(n) = new {
        t.rlimits[r] = n;
        if r == crate::kernel::task::RLIMIT_CPU {
            crate::kernel::cpulimit::set(t.tgid, t.ctx.host_pid(), t.ctx.cpu_base(), &t.sigq.process, n);
        }
    }
    Ok(0)
}

fn sys_prlimit64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid != 0 && pid != t.tgid {
        return Err(Errno::ESRCH);
    }
    rlimit(t, a[1], a[2], a[3])
}

fn sys_getrlimit(t: &mut Task, a: [u64; 6]) -> SysResult {
    rlimit(t, a[0], 0, a[1])
}

fn sys_setrlimit(t: &mut Task, a: [u64; 6]) -> SysResult {
    rlimit(t, a[0], a[1], 0)
}
