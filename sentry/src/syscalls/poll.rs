//! Waiting for descriptors: poll, ppoll, select, pselect6.

use std::time::{Duration, Instant};

use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::events::{events, HOST_POLL_PERIOD};
use crate::kernel::signal;
use crate::kernel::Task;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::POLL, handler: sys_poll, support: Support::Full, note: "" },
    Registration { nr: nr::PPOLL, handler: sys_ppoll, support: Support::Partial, note: "the signal mask is checked, not applied, until signal delivery exists" },
    Registration { nr: nr::SELECT, handler: sys_select, support: Support::Full, note: "" },
    Registration { nr: nr::PSELECT6, handler: sys_pselect6, support: Support::Partial, note: "the signal mask is checked, not applied, until signal delivery exists" },
];

const POLLIN: u16 = libc::POLLIN as u16;
const POLLPRI: u16 = libc::POLLPRI as u16;
const POLLOUT: u16 = libc::POLLOUT as u16;
const POLLERR: u16 = libc::POLLERR as u16;
const POLLHUP: u16 = libc::POLLHUP as u16;
const POLLNVAL: u16 = libc::POLLNVAL as u16;

/// Checks `fds` (fd, events) until one is ready or the deadline passes; returns revents.
fn wait_ready(t: &Task, fds: &[(i32, u16)], deadline: Option<Instant>) -> Result<Vec<u16>, Errno> {
    loop {
        let seen = events().generation();
        let mut host = false;
        let revents: Vec<u16> = fds
            .iter()
            .map(|&(fd, ev)| {
                if fd < 0 {
                    return 0;
                }
                match t.fds.get(fd) {
                    Err(_) => POLLNVAL,
                    Ok(f) => {
                        host |= f.ops.polled_readiness();
                        f.ops.readiness() & (ev | POLLERR | POLLHUP)
                    }
                }
            })
            .collect();
        let now = Instant::now();
        if revents.iter().any(|&r| r != 0) || deadline.is_some_and(|d| now >= d) {
            return Ok(revents);
        }
        if signal::interrupted() {
            return Err(Errno::ERESTARTNOHAND);
        }
        let until = if host { Some(deadline.map_or(now + HOST_POLL_PERIOD, |d| d.min(now + HOST_POLL_PERIOD))) } else { deadline };
        events().wait(seen, until);
    }
}

fn do_poll(t: &mut Task, addr: u64, nfds: u64, deadline: Option<Instant>) -> SysResult {
    if nfds > t.nofile() {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; nfds as usize * 8];
    t.mm.copy_in(addr, &mut raw)?;
    let fds: Vec<(i32, u16)> = raw
        .chunks_exact(8)
        .map(|c| (i32::from_le_bytes([c[0], c[1], c[2], c[3]]), u16::from_le_bytes([c[4], c[5]])))
        .collect();
    let revents = wait_ready(t, &fds, deadline)?;
    for (c, r) in raw.chunks_exact_mut(8).zip(&revents) {
        c[6..8].copy_from_slice(&r.to_le_bytes());
    }
    t.mm.copy_out(addr, &raw)?;
    Ok(revents.iter().filter(|&&r| r != 0).count() as u64)
}

fn sys_poll(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ms = a[2] as i32;
    let deadline = (ms >= 0).then(|| Instant::now() + Duration::from_millis(ms as u64));
    do_poll(t, a[0], a[1], deadline)
}

fn sys_ppoll(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] != 0 && a[4] != 8 {
        return Err(Errno::EINVAL);
    }
    let deadline = super::read_timeout(t, a[2])?;
    do_poll(t, a[0], a[1], deadline)
}

/// select's three fd_sets: reads them, waits, writes back the ready ones.
fn do_select(t: &mut Task, nfds: u64, sets: [u64; 3], deadline: Option<Instant>) -> SysResult {
    let nfds = nfds as i32;
    if nfds < 0 || nfds as u64 > t.nofile().max(1024) {
        return Err(Errno::EINVAL);
    }
    let words = (nfds as usize).div_ceil(64);
    let mut bits = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
    for (set, &addr) in bits.iter_mut().zip(&sets) {
        if addr != 0 && words > 0 {
            let mut raw = vec![0u8; words * 8];
            t.mm.copy_in(addr, &mut raw)?;
            for (w, c) in set.iter_mut().zip(raw.chunks_exact(8)) {
                *w = u64::from_le_bytes(c.try_into().unwrap_or_default());
            }
        }
    }
    let is_set = |set: &Vec<u64>, fd: usize| set[fd / 64] & (1 << (fd % 64)) != 0;
    let mut fds = Vec::new();
    for fd in 0..nfds as usize {
        let mut ev = 0;
        if is_set(&bits[0], fd) {
            ev |= POLLIN;
        }
        if is_set(&bits[1], fd) {
            ev |= POLLOUT;
        }
        if is_set(&bits[2], fd) {
            ev |= POLLPRI;
        }
        if ev != 0 {
            t.fds.get(fd as i32)?;
            fds.push((fd as i32, ev));
        }
    }
    let revents = wait_ready(t, &fds, deadline)?;
    let mut out = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
    let mut count = 0;
    for (&(fd, ev), &r) in fds.iter().zip(&revents) {
        let fd = fd as usize;
        for (i, (want, got)) in [(POLLIN, POLLIN | POLLHUP | POLLERR), (POLLOUT, POLLOUT | POLLERR), (POLLPRI, POLLPRI)].into_iter().enumerate() {
            if ev & want != 0 && r & got != 0 {
                out[i][fd / 64] |= 1 << (fd % 64);
                count += 1;
            }
        }
    }
    for (set, &addr) in out.iter().zip(&sets) {
        if addr != 0 && words > 0 {
            let raw: Vec<u8> = set.iter().flat_map(|w| w.to_le_bytes()).collect();
            t.mm.copy_out(addr, &raw)?;
        }
    }
    Ok(count)
}

fn sys_select(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = if a[4] == 0 {
        None
    } else {
        let tv: syscalls::structs::Timeval = t.mm.read_struct(a[4])?;
        if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
            return Err(Errno::EINVAL);
        }
        crate::kernel::deadline_in(Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000))
    };
    let r = do_select(t, a[0], [a[1], a[2], a[3]], deadline)?;
    // Linux writes the time left back.
    if let Some(d) = deadline {
        let left = d.saturating_duration_since(Instant::now());
        let tv = syscalls::structs::Timeval { tv_sec: left.as_secs() as i64, tv_usec: i64::from(left.subsec_micros()) };
        t.mm.write_struct(a[4], &tv)?;
    }
    Ok(r)
}

fn sys_pselect6(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = super::read_timeout(t, a[4])?;
    if a[5] != 0 {
        // struct { const sigset_t *ss; size_t ss_len; }
        let mut b = [0u8; 16];
        t.mm.copy_in(a[5], &mut b)?;
        let (ss, len) = (u64::from_le_bytes(b[..8].try_into().unwrap_or_default()), u64::from_le_bytes(b[8..].try_into().unwrap_or_default()));
        if ss != 0 && len != 8 {
            return Err(Errno::EINVAL);
        }
    }
    do_select(t, a[0], [a[1], a[2], a[3]], deadline)
}
