//! The syscall table and the dispatcher.
//!
//! One table, indexed by number, pairs each x86-64 syscall's ABI description (from the
//! `syscalls` crate) with the handler that serves it, its support level and a note. The same
//! table drives dispatch, `sandbox syscalls`, `--strace` and the audit report. A number with no
//! handler returns ENOSYS and is counted as unimplemented: nothing pretends to succeed.
//!
//! Handlers live in one file per family and have the shape `fn(&mut Task, [u64; 6]) ->
//! SysResult`; each file lists what it serves in a `HANDLERS` array.

mod anon;
mod creds;
mod epoll;
mod file;
pub(crate) mod futex;
mod inotify;
mod mm;
mod mount;
mod namei;
mod open;
mod poll;
mod prctl;
pub(crate) mod process;
mod stat;
mod sync;
pub(crate) mod sched;
mod shm;
mod signal;
mod signal_send;
mod signal_wait;
mod splice;
mod system;
mod thread;
mod time;
mod timer;

use std::sync::LazyLock;

use syscalls::{nr, Errno, SyscallInfo};

use crate::kernel::Task;

/// PATH_MAX without the NUL.
pub const PATH_MAX: usize = 4095;

/// A handler's result: the value for rax, or an errno.
pub type SysResult = Result<u64, Errno>;

/// A syscall handler.
pub type Handler = fn(&mut Task, [u64; 6]) -> SysResult;

/// How much of a syscall the Sentry implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Every documented behaviour.
    Full,
    /// Some flags, commands or file types; the note says which. The rest fail with an errno.
    Partial,
    /// Not at all: ENOSYS.
    Unimplemented,
}

impl Support {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Support::Full => "full",
            Support::Partial => "partial",
            Support::Unimplemented => "unimplemented",
        }
    }
}

/// What a family file registers for one syscall.
pub struct Registration {
    /// The number.
    pub nr: u32,
    /// The handler.
    pub handler: Handler,
    /// Support level.
    pub support: Support,
    /// What is and is not supported, for `sandbox syscalls`.
    pub note: &'static str,
}

/// One row of the table.
#[derive(Clone, Copy)]
pub struct Entry {
    /// Name, argument schema, family.
    pub info: &'static SyscallInfo,
    /// The handler, if implemented.
    pub handler: Option<Handler>,
    /// Support level.
    pub support: Support,
    /// Note for people.
    pub note: &'static str,
}

static TABLE: LazyLock<Vec<Option<Entry>>> = LazyLock::new(|| {
    let mut t: Vec<Option<Entry>> = (0..nr::MAX)
        .map(|n| syscalls::lookup(n).map(|info| Entry { info, handler: None, support: Support::Unimplemented, note: "" }))
        .collect();
    for list in [
        anon::HANDLERS,
        creds::HANDLERS,
        epoll::HANDLERS,
        file::HANDLERS,
        futex::HANDLERS,
        inotify::HANDLERS,
        mm::HANDLERS,
        mount::HANDLERS,
        namei::HANDLERS,
        open::HANDLERS,
        poll::HANDLERS,
        prctl::HANDLERS,
        process::HANDLERS,
        sched::HANDLERS,
        shm::HANDLERS,
        signal::HANDLERS,
        signal_send::HANDLERS,
        signal_wait::HANDLERS,
        splice::HANDLERS,
        stat::HANDLERS,
        sync::HANDLERS,
        system::HANDLERS,
        thread::HANDLERS,
        time::HANDLERS,
        timer::HANDLERS,
    ] {
        for r in list {
            let e = t[r.nr as usize].as_mut().expect("handler registered for a number the ABI table lacks");
            assert!(e.handler.is_none(), "two handlers for syscall {}", r.nr);
            e.handler = Some(r.handler);
            e.support = r.support;
            e.note = r.note;
        }
    }
    t
});

/// The table entry for `nr`, if the number is a known syscall.
pub fn entry(nr: u64) -> Option<&'static Entry> {
    TABLE.get(nr as usize).and_then(|e| e.as_ref())
}

/// Every known syscall in number order.
pub fn entries() -> impl Iterator<Item = &'static Entry> {
    TABLE.iter().flatten()
}

/// Reads a struct timespec as a duration: EINVAL unless 0 <= tv_nsec < 10^9 and tv_sec >= 0.
pub(crate) fn read_duration(t: &Task, addr: u64) -> Result<std::time::Duration, Errno> {
    let ts: syscalls::structs::Timespec = t.mm.read_struct(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// A relative timespec timeout as a deadline (a NULL pointer: wait forever).
pub(crate) fn read_timeout(t: &Task, addr: u64) -> Result<Option<std::time::Instant>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    Ok(crate::kernel::deadline_in(read_duration(t, addr)?))
}

/// Serves the syscall the task is stopped at and puts the result in rax.
pub fn dispatch(t: &mut Task) {
    let nr = t.regs.syscall_nr();
    let args = t.regs.syscall_args();
    let e = entry(nr);
    let ret: i64 = match e.and_then(|e| e.handler) {
        Some(h) => match h(t, args) {
            Ok(v) => v as i64,
            Err(errno) => -i64::from(errno.raw()),
        },
        None => {
            tracing::debug!(nr, "unimplemented syscall");
            -i64::from(Errno::ENOSYS.raw())
        }
    };
    t.kernel.audit.record(nr, ret);
    if t.kernel.strace {
        strace_line(t, e, &args, ret);
    }
    t.regs.set_return(ret as u64);
}

#[cold]
fn strace_line(t: &Task, e: Option<&Entry>, args: &[u64; 6], ret: i64) {
    use std::io::Write;
    let mut line = format!("{} ", t.tid);
    match e {
        Some(e) => {
            let done = t.exit.is_none() || e.info.ret != syscalls::Ret::NoReturn;
            syscalls::strace::format_call(e.info, args, done.then_some(ret), &*t.mm, &mut line);
        }
        None => syscalls::strace::format_unknown(t.regs.syscall_nr(), args, ret, &mut line),
    }
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
