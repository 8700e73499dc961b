//! strace-style rendering of one system call, driven by the table's argument schemas.
//!
//! `openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`: each argument is shown as its
//! [`Arg`] says, reading guest memory through a [`GuestReader`]. Guest data is untrusted: a
//! pointer that cannot be read is shown as its address, lengths and counts are capped, and
//! nothing here panics or fails. Output goes straight into the caller's `String`; buffers
//! live on the stack. Flag names come from the `bitflags` types in [`crate::flags`], so each
//! flag value is written once in the crate; enumerations without such a type have their name
//! tables here.

use core::fmt::Write as _;

use bitflags::Flags as BitFlags;

use crate::errno::Errno;
use crate::flags::{
    AccessMode, AtFlags, CloneFlags, EpollEvents, FlockOp, GetrandomFlags, InotifyMask, MapFlags,
    MemfdFlags, MlockallFlags, MountFlags, MremapFlags, MsgFlags, MsyncFlags, OpenFlags,
    PollEvents, ProtFlags, RenameFlags, ResolveFlags, SaFlags, SockFlags, StackFlags, StatxMask,
    TimerFlags, UmountFlags, WaitFlags, AT_FDCWD,
};
use crate::nr;
use crate::schema::{Arg, EnumSet, FlagSet, Ret, StructKind, SyscallInfo};

/// Reads guest memory for the formatter; the Sentry implements it over the memory file.
pub trait GuestReader {
    /// Fills `buf` from guest address `addr`; Err(Errno::EFAULT) if any byte is unmapped.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno>;
}

/// Bytes of a string or buffer shown before `...` (strace's default `-s 32`).
const STRING_LIMIT: usize = 32;
/// The longest path read; paths are shown whole, like strace does.
const PATH_MAX: usize = 4096;
/// Reads of NUL-terminated strings stop at page ends, so a string that ends just before an
/// unmapped page is still shown.
const PAGE_SIZE: u64 = 4096;
/// NUL-terminated strings are read in pieces of at most this many bytes, so a short path
/// costs a short copy.
const STRING_CHUNK: usize = 256;
/// Elements of an iovec, pollfd or epoll_event array shown before `...`.
const ELEMENT_LIMIT: usize = 8;
/// Entries of argv/envp shown before `...`.
const STR_ARRAY_LIMIT: usize = 32;
/// Bytes of a socket address read (sizeof(struct sockaddr_storage)).
const SOCKADDR_MAX: usize = 128;
/// Bytes of a cpu set or fd set read (1024 bits).
const BITSET_MAX: usize = 128;
/// Records of a getdents buffer counted before giving up.
const DIRENT_LIMIT: usize = 4096;

/// Appends one strace line (without trailing newline) for a call to `out`:
/// `name(arg, arg, ...) = result`. `ret` is the raw rax the guest gets back, or None for a call
/// that did not return (exit_group, a successful execve): then it ends with ` = ?`.
pub fn format_call(
    info: &SyscallInfo,
    args: &[u64; 6],
    ret: Option<i64>,
    mem: &dyn GuestReader,
    out: &mut String,
) {
    let call = Call {
        info,
        args,
        ret,
        mem,
    };
    out.push_str(info.name);
    out.push('(');
    for i in 0..call.visible_args() {
        if i > 0 {
            out.push_str(", ");
        }
        call.arg(out, i);
    }
    out.push_str(") = ");
    write_ret(out, info.ret, ret);
}

/// The same for a number the table does not know: `syscall_1234(0x1, 0x2, ...) = -1 ENOSYS (...)`, all six args in hex.
pub fn format_unknown(nr: u64, args: &[u64; 6], ret: i64, out: &mut String) {
    let _ = write!(out, "syscall_{nr}(");
    for (i, &a) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_hex(out, a);
    }
    out.push_str(") = ");
    write_ret(out, Ret::Int, Some(ret));
}

/// Writes the result: `?`, an error as `-1 ENAME (message)`, or the value by its kind.
fn write_ret(out: &mut String, kind: Ret, ret: Option<i64>) {
    match ret {
        None => out.push('?'),
        Some(r) if (-4095..=-1).contains(&r) => {
            let n = -r;
            match Errno::from_raw(n as i32) {
                Some(e) => {
                    let _ = write!(out, "-1 {} ({})", e.name(), e.message());
                }
                None => {
                    let _ = write!(out, "-1 E??? (errno {n})");
                }
            }
        }
        Some(r) => match kind {
            Ret::Hex => write_hex(out, r as u64),
            Ret::Int | Ret::Fd | Ret::NoReturn => {
                let _ = write!(out, "{r}");
            }
        },
    }
}

/// One call being formatted.
struct Call<'a> {
    info: &'a SyscallInfo,
    args: &'a [u64; 6],
    ret: Option<i64>,
    mem: &'a dyn GuestReader,
}

impl Call<'_> {
    /// The return value if the call succeeded (returned a non-negative value).
    fn success(&self) -> Option<u64> {
        match self.ret {
            Some(r) if r >= 0 => Some(r as u64),
            _ => None,
        }
    }

    /// How many arguments strace would show: open's mode only with O_CREAT/O_TMPFILE, futex
    /// only the arguments its operation uses.
    fn visible_args(&self) -> usize {
        let schema = self.info.args;
        let n = schema.len().min(6);
        if self.info.nr == nr::FUTEX {
            return futex_arity(self.args[1] as u32).min(n);
        }
        for i in 1..n {
            if schema[i] == Arg::Mode && schema[i - 1] == Arg::Flags(FlagSet::Open) {
                let flags = self.args[i - 1] as u32;
                if flags & (OpenFlags::O_CREAT.bits() | OpenFlags::__O_TMPFILE) == 0 {
                    return i;
                }
            }
        }
        n
    }

    /// Writes argument `i`.
    fn arg(&self, out: &mut String, i: usize) {
        let v = self.args[i];
        let Some(&kind) = self.info.args.get(i) else {
            write_hex(out, v);
            return;
        };
        match kind {
            Arg::Int => {
                let _ = write!(out, "{}", v as i64);
            }
            Arg::UInt => {
                let _ = write!(out, "{v}");
            }
            Arg::Hex => {
                if self.is_plain_number(i) {
                    write_hex(out, v);
                } else {
                    write_ptr(out, v);
                }
            }
            Arg::Fd => {
                let _ = write!(out, "{}", v as i32);
            }
            Arg::DirFd => {
                if v as i32 == AT_FDCWD {
                    out.push_str("AT_FDCWD");
                } else {
                    let _ = write!(out, "{}", v as i32);
                }
            }
            Arg::Mode => write_mode(out, v as u32),
            Arg::Path => self.path(out, v),
            Arg::InBuf(len) => {
                let len = self.args.get(len as usize).copied().unwrap_or(0);
                self.buffer(out, v, len);
            }
            Arg::OutBuf => match self.success() {
                Some(n) => self.buffer(out, v, n),
                None => write_ptr(out, v),
            },
            Arg::InIovec(count) => {
                let count = self.args.get(count as usize).copied().unwrap_or(0);
                self.iovec(out, v, count, None);
            }
            Arg::OutIovec(count) => match self.success() {
                Some(n) => {
                    let count = self.args.get(count as usize).copied().unwrap_or(0);
                    self.iovec(out, v, count, Some(n));
                }
                None => write_ptr(out, v),
            },
            Arg::StrArray => self.str_array(out, v),
            Arg::Flags(set) => self.flags(out, set, v),
            Arg::Enum(set) => write_enum(out, set, v),
            Arg::Signal => write_signal(out, v as i32),
            Arg::In(k) | Arg::InOut(k) => self.structure(out, k, v, false),
            Arg::Out(k) => {
                if self.success().is_some() {
                    self.structure(out, k, v, true);
                } else {
                    write_ptr(out, v);
                }
            }
        }
    }

    /// A `Hex` argument that is a number (a file offset), not a pointer: 0 shows as `0`.
    fn is_plain_number(&self, i: usize) -> bool {
        self.info.nr == nr::MMAP && i == 5
    }

    fn read(&self, addr: u64, buf: &mut [u8]) -> Option<()> {
        // A range that wraps around the address space is unmapped by definition.
        addr.checked_add(buf.len() as u64)?;
        self.mem.read(addr, buf).ok()
    }

    fn read_array<const N: usize>(&self, addr: u64) -> Option<[u8; N]> {
        let mut b = [0u8; N];
        self.read(addr, &mut b)?;
        Some(b)
    }

    fn read_u64(&self, addr: u64) -> Option<u64> {
        self.read_array::<8>(addr).map(u64::from_le_bytes)
    }

    fn read_u32(&self, addr: u64) -> Option<u32> {
        self.read_array::<4>(addr).map(u32::from_le_bytes)
    }

    /// Reads a NUL-terminated string of at most `buf.len()` bytes, page by page. Returns its
    /// length and whether the NUL was found; None if the first bytes are unreadable or a fault
    /// comes before the NUL.
    fn read_cstr(&self, addr: u64, buf: &mut [u8]) -> Option<(usize, bool)> {
        let mut got = 0;
        while got < buf.len() {
            let at = addr.checked_add(got as u64)?;
            let to_page_end = (PAGE_SIZE - at % PAGE_SIZE) as usize;
            let n = to_page_end.min(buf.len() - got).min(STRING_CHUNK);
            let chunk = &mut buf[got..got + n];
            self.read(at, chunk)?;
            if let Some(nul) = chunk.iter().position(|&b| b == 0) {
                return Some((got + nul, true));
            }
            got += n;
        }
        Some((got, false))
    }

    /// A path: shown whole (up to PATH_MAX), like strace.
    fn path(&self, out: &mut String, addr: u64) {
        if addr == 0 {
            out.push_str("NULL");
            return;
        }
        let mut buf = [0u8; PATH_MAX];
        match self.read_cstr(addr, &mut buf) {
            Some((len, terminated)) => write_quoted(out, &buf[..len], !terminated),
            None => write_ptr(out, addr),
        }
    }

    /// A NUL-terminated string shown like a buffer: at most STRING_LIMIT bytes, then `...`.
    fn short_string(&self, out: &mut String, addr: u64) {
        if addr == 0 {
            out.push_str("NULL");
            return;
        }
        let mut buf = [0u8; STRING_LIMIT + 1];
        match self.read_cstr(addr, &mut buf) {
            Some((len, _)) => {
                let shown = len.min(STRING_LIMIT);
                write_quoted(out, &buf[..shown], len > STRING_LIMIT);
            }
            None => write_ptr(out, addr),
        }
    }

    /// `len` bytes at `addr`: at most STRING_LIMIT of them, quoted, then `...` if cut.
    fn buffer(&self, out: &mut String, addr: u64, len: u64) {
        if addr == 0 {
            out.push_str("NULL");
            return;
        }
        let shown = len.min(STRING_LIMIT as u64) as usize;
        let mut buf = [0u8; STRING_LIMIT];
        match self.read(addr, &mut buf[..shown]) {
            Some(()) => write_quoted(out, &buf[..shown], len > STRING_LIMIT as u64),
            None => write_ptr(out, addr),
        }
    }

    /// `[{iov_base="...", iov_len=6}, ...]`. `budget` is the number of bytes the kernel
    /// filled (output iovecs): each element shows only its share of it.
    fn iovec(&self, out: &mut String, addr: u64, count: u64, budget: Option<u64>) {
        if addr == 0 {
            out.push_str("NULL");
            return;
        }
        let n = count.min(ELEMENT_LIMIT as u64) as usize;
        let mut raw = [0u8; 16 * ELEMENT_LIMIT];
        if self.read(addr, &mut raw[..16 * n]).is_none() {
            write_ptr(out, addr);
            return;
        }
        let mut budget = budget;
        out.push('[');
        for k in 0..n {
            if k > 0 {
                out.push_str(", ");
            }
            let base = le_u64(&raw, 16 * k);
            let len = le_u64(&raw, 16 * k + 8);
            out.push_str("{iov_base=");
            let shown = match budget.as_mut() {
                None => len,
                Some(left) => {
                    let s = len.min(*left);
                    *left -= s;
                    s
                }
            };
            self.buffer(out, base, shown);
            let _ = write!(out, ", iov_len={len}}}");
        }
        if count > n as u64 {
            out.push_str(", ...");
        }
        out.push(']');
    }

    /// `["a", "b"]`: a NULL-terminated array of string pointers (argv, envp).
    fn str_array(&self, out: &mut String, addr: u64) {
        if addr == 0 {
            out.push_str("NULL");
            return;
        }
        let mark = out.len();
        out.push('[');
        for k in 0..=STR_ARRAY_LIMIT {
            let Some(p) = addr
                .checked_add(8 * k as u64)
                .and_then(|a| self.read_u64(a))
            else {
                out.truncate(mark);
                write_ptr(out, addr);
                return;
            };
            if p == 0 {
                break;
            }
            if k > 0 {
                out.push_str(", ");
            }
            if k == STR_ARRAY_LIMIT {
                out.push_str("...");
                break;
            }
            self.short_string(out, p);
        }
        out.push(']');
    }

    /// A flags argument by name.
    fn flags(&self, out: &mut String, set: FlagSet, v: u64) {
        let v32 = v as u32;
        match set {
            FlagSet::Open => write_open_flags(out, v32),
            FlagSet::At => write_flags(out, AtFlags::from_bits_retain(v32), "0"),
            FlagSet::Prot => write_flags(out, ProtFlags::from_bits_retain(v32), "PROT_NONE"),
            FlagSet::Map => write_flags(out, MapFlags::from_bits_retain(v32), "0"),
            FlagSet::Mremap => write_flags(out, MremapFlags::from_bits_retain(v32), "0"),
            FlagSet::Clone => {
                if self.info.nr == nr::CLONE {
                    write_clone_flags(out, v);
                } else {
                    write_flags(out, CloneFlags::from_bits_retain(v), "0");
                }
            }
            FlagSet::Access => write_flags(out, AccessMode::from_bits_retain(v32), "F_OK"),
            FlagSet::SigAction => write_flags(out, SaFlags::from_bits_retain(v), "0"),
            FlagSet::Wait => write_flags(out, WaitFlags::from_bits_retain(v32), "0"),
            FlagSet::Getrandom => write_flags(out, GetrandomFlags::from_bits_retain(v32), "0"),
            FlagSet::Cloexec => {
                let known = OpenFlags::O_CLOEXEC | OpenFlags::O_NONBLOCK | OpenFlags::O_DIRECT;
                let mut first = true;
                append_names(out, OpenFlags::from_bits_retain(v32) & known, &mut first);
                append_hex_rest(out, u64::from(v32 & !known.bits()), &mut first);
                if first {
                    out.push('0');
                }
            }
            FlagSet::Msg => write_flags(out, MsgFlags::from_bits_retain(v32), "0"),
            FlagSet::SockType => write_sock_type(out, v32),
            FlagSet::Timer => write_flags(out, TimerFlags::from_bits_retain(v32), "0"),
            FlagSet::Rename => write_flags(out, RenameFlags::from_bits_retain(v32), "0"),
            FlagSet::Mount => write_mount_flags(out, v),
            FlagSet::Umount => write_flags(out, UmountFlags::from_bits_retain(v32), "0"),
            FlagSet::Memfd => write_flags(out, MemfdFlags::from_bits_retain(v32), "0"),
            FlagSet::Epoll => write_flags(out, EpollEvents::from_bits_retain(v32), "0"),
            FlagSet::Poll => write_flags(out, PollEvents::from_bits_retain(v as u16), "0"),
            FlagSet::Inotify => write_flags(out, InotifyMask::from_bits_retain(v32), "0"),
            FlagSet::StatxMask => write_flags(out, StatxMask::from_bits_retain(v32), "0"),
            FlagSet::Flock => write_flags(out, FlockOp::from_bits_retain(v32), "0"),
            FlagSet::Msync => write_flags(out, MsyncFlags::from_bits_retain(v32), "0"),
            FlagSet::Mlockall => write_flags(out, MlockallFlags::from_bits_retain(v32), "0"),
        }
    }

    /// A pointer to a struct: decoded, or its address when it cannot be read.
    /// `exit` says the kernel filled it (so counts come from the return value).
    fn structure(&self, out: &mut String, kind: StructKind, addr: u64, exit: bool) {
        if addr == 0 {
            out.push_str("NULL");
            return;
        }
        let mark = out.len();
        if self.try_structure(out, kind, addr, exit).is_none() {
            out.truncate(mark);
            write_ptr(out, addr);
        }
    }

    fn try_structure(
        &self,
        out: &mut String,
        kind: StructKind,
        addr: u64,
        exit: bool,
    ) -> Option<()> {
        match kind {
            StructKind::Timespec => {
                let b = self.read_array::<16>(addr)?;
                write_timespec(out, &b, "tv_nsec");
            }
            StructKind::Timeval => {
                let b = self.read_array::<16>(addr)?;
                write_timespec(out, &b, "tv_usec");
            }
            StructKind::Timezone => {
                let b = self.read_array::<8>(addr)?;
                let _ = write!(
                    out,
                    "{{tz_minuteswest={}, tz_dsttime={}}}",
                    le_i32(&b, 0),
                    le_i32(&b, 4)
                );
            }
            StructKind::Itimerspec | StructKind::Itimerval => {
                let b = self.read_array::<32>(addr)?;
                let sub = if kind == StructKind::Itimerspec {
                    "tv_nsec"
                } else {
                    "tv_usec"
                };
                out.push_str("{it_interval=");
                write_timespec(out, &b[..16], sub);
                out.push_str(", it_value=");
                write_timespec(out, &b[16..], sub);
                out.push('}');
            }
            StructKind::Utsname => {
                let b = self.read_array::<{ 6 * 65 }>(addr)?;
                const FIELDS: [&str; 6] = [
                    "sysname",
                    "nodename",
                    "release",
                    "version",
                    "machine",
                    "domainname",
                ];
                out.push('{');
                for (k, field) in FIELDS.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    let raw = &b[65 * k..65 * (k + 1)];
                    let len = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
                    let shown = len.min(STRING_LIMIT);
                    let _ = write!(out, "{field}=");
                    write_quoted(out, &raw[..shown], len > STRING_LIMIT);
                }
                out.push('}');
            }
            StructKind::Stat => {
                let b = self.read_array::<144>(addr)?;
                let mode = le_u32(&b, 24);
                out.push_str("{st_mode=");
                write_mode(out, mode);
                write_size_or_rdev(out, mode, "st_", le_u64(&b, 40), le_i64(&b, 48));
                out.push_str(", ...}");
            }
            StructKind::Statx => {
                let b = self.read_array::<48>(addr)?;
                out.push_str("{stx_mask=");
                write_flags(out, StatxMask::from_bits_retain(le_u32(&b, 0)), "0");
                out.push_str(", stx_attributes=");
                write_hex(out, le_u64(&b, 8));
                let mode = u32::from(le_u16(&b, 28));
                out.push_str(", stx_mode=");
                write_mode(out, mode);
                let _ = write!(out, ", stx_size={}, ...}}", le_u64(&b, 40));
            }
            StructKind::Statfs => {
                let b = self.read_array::<120>(addr)?;
                out.push_str("{f_type=");
                write_hex(out, le_u64(&b, 0));
                let _ = write!(
                    out,
                    ", f_bsize={}, f_blocks={}, f_bfree={}, f_bavail={}, f_files={}, \
                     f_ffree={}, f_fsid={{val=[{}, {}]}}, f_namelen={}, f_frsize={}, f_flags=",
                    le_i64(&b, 8),
                    le_u64(&b, 16),
                    le_u64(&b, 24),
                    le_u64(&b, 32),
                    le_u64(&b, 40),
                    le_u64(&b, 48),
                    le_i32(&b, 56),
                    le_i32(&b, 60),
                    le_i64(&b, 64),
                    le_i64(&b, 72),
                );
                write_hex(out, le_u64(&b, 80));
                out.push('}');
            }
            StructKind::Rlimit => {
                let b = self.read_array::<16>(addr)?;
                out.push_str("{rlim_cur=");
                write_rlim(out, le_u64(&b, 0));
                out.push_str(", rlim_max=");
                write_rlim(out, le_u64(&b, 8));
                out.push('}');
            }
            StructKind::Rusage => {
                let b = self.read_array::<32>(addr)?;
                out.push_str("{ru_utime=");
                write_timespec(out, &b[..16], "tv_usec");
                out.push_str(", ru_stime=");
                write_timespec(out, &b[16..], "tv_usec");
                out.push_str(", ...}");
            }
            StructKind::Sysinfo => {
                let b = self.read_array::<112>(addr)?;
                let _ = write!(
                    out,
                    "{{uptime={}, loads=[{}, {}, {}], totalram={}, freeram={}, sharedram={}, \
                     bufferram={}, totalswap={}, freeswap={}, procs={}, totalhigh={}, \
                     freehigh={}, mem_unit={}}}",
                    le_i64(&b, 0),
                    le_u64(&b, 8),
                    le_u64(&b, 16),
                    le_u64(&b, 24),
                    le_u64(&b, 32),
                    le_u64(&b, 40),
                    le_u64(&b, 48),
                    le_u64(&b, 56),
                    le_u64(&b, 64),
                    le_u64(&b, 72),
                    le_u16(&b, 80),
                    le_u64(&b, 88),
                    le_u64(&b, 96),
                    le_u32(&b, 104),
                );
            }
            StructKind::Tms => {
                let b = self.read_array::<32>(addr)?;
                let _ = write!(
                    out,
                    "{{tms_utime={}, tms_stime={}, tms_cutime={}, tms_cstime={}}}",
                    le_i64(&b, 0),
                    le_i64(&b, 8),
                    le_i64(&b, 16),
                    le_i64(&b, 24)
                );
            }
            StructKind::Sigaction => {
                // The kernel's x86-64 layout: handler, flags, restorer, mask.
                let b = self.read_array::<32>(addr)?;
                let flags = le_u64(&b, 8);
                out.push_str("{sa_handler=");
                match le_u64(&b, 0) {
                    0 => out.push_str("SIG_DFL"),
                    1 => out.push_str("SIG_IGN"),
                    h => write_hex(out, h),
                }
                out.push_str(", sa_mask=");
                write_sigset(out, le_u64(&b, 24));
                out.push_str(", sa_flags=");
                write_flags(out, SaFlags::from_bits_retain(flags), "0");
                if flags & SaFlags::SA_RESTORER.bits() != 0 {
                    out.push_str(", sa_restorer=");
                    write_ptr(out, le_u64(&b, 16));
                }
                out.push('}');
            }
            StructKind::SigSet => {
                let b = self.read_array::<8>(addr)?;
                write_sigset(out, u64::from_le_bytes(b));
            }
            StructKind::Siginfo => {
                let b = self.read_array::<32>(addr)?;
                let signo = le_i32(&b, 0);
                out.push_str("{si_signo=");
                write_signal(out, signo);
                let _ = write!(out, ", si_code={}", le_i32(&b, 8));
                match signo {
                    // SIGCHLD carries the child's pid, uid and status.
                    17 => {
                        let _ = write!(
                            out,
                            ", si_pid={}, si_uid={}, si_status={}",
                            le_i32(&b, 16),
                            le_u32(&b, 20),
                            le_i32(&b, 24)
                        );
                    }
                    // Faults carry the address.
                    4 | 7 | 8 | 11 => {
                        out.push_str(", si_addr=");
                        write_ptr(out, le_u64(&b, 16));
                    }
                    _ => out.push_str(", ..."),
                }
                out.push('}');
            }
            StructKind::Stack => {
                let b = self.read_array::<24>(addr)?;
                out.push_str("{ss_sp=");
                write_ptr(out, le_u64(&b, 0));
                out.push_str(", ss_flags=");
                write_flags(out, StackFlags::from_bits_retain(le_u32(&b, 8)), "0");
                let _ = write!(out, ", ss_size={}}}", le_u64(&b, 16));
            }
            StructKind::Sockaddr(len_idx) => {
                let len = self.sockaddr_len(len_idx as usize);
                self.sockaddr(out, addr, len)?;
            }
            StructKind::Pollfd(count_idx) => {
                let count = self.args.get(count_idx as usize).copied().unwrap_or(0);
                let n = count.min(ELEMENT_LIMIT as u64) as usize;
                let mut raw = [0u8; 8 * ELEMENT_LIMIT];
                self.read(addr, &mut raw[..8 * n])?;
                out.push('[');
                for k in 0..n {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{{fd={}, events=", le_i32(&raw, 8 * k));
                    let events = PollEvents::from_bits_retain(le_u16(&raw, 8 * k + 4));
                    write_flags(out, events, "0");
                    out.push('}');
                }
                if count > n as u64 {
                    out.push_str(", ...");
                }
                out.push(']');
            }
            StructKind::EpollEvent => {
                if exit {
                    // epoll_wait and friends: as many events as the call returned.
                    let count = self.success().unwrap_or(0);
                    let n = count.min(ELEMENT_LIMIT as u64) as usize;
                    let mut raw = [0u8; 12 * ELEMENT_LIMIT];
                    self.read(addr, &mut raw[..12 * n])?;
                    out.push('[');
                    for k in 0..n {
                        if k > 0 {
                            out.push_str(", ");
                        }
                        write_epoll_event(out, &raw[12 * k..12 * (k + 1)]);
                    }
                    if count > n as u64 {
                        out.push_str(", ...");
                    }
                    out.push(']');
                } else {
                    let b = self.read_array::<12>(addr)?;
                    write_epoll_event(out, &b);
                }
            }
            StructKind::FdSet => {
                let nfds = (self.args[0] as i32).clamp(0, (BITSET_MAX * 8) as i32) as usize;
                let bytes = nfds.div_ceil(64) * 8;
                let mut raw = [0u8; BITSET_MAX];
                self.read(addr, &mut raw[..bytes])?;
                write_bitset(out, &raw[..bytes], nfds);
            }
            StructKind::IntPair => {
                let b = self.read_array::<8>(addr)?;
                let _ = write!(out, "[{}, {}]", le_i32(&b, 0), le_i32(&b, 4));
            }
            StructKind::Int => {
                let b = self.read_array::<4>(addr)?;
                let _ = write!(out, "[{}]", i32::from_le_bytes(b));
            }
            StructKind::Long => {
                let b = self.read_array::<8>(addr)?;
                let _ = write!(out, "[{}]", i64::from_le_bytes(b));
            }
            StructKind::Msghdr => {
                let b = self.read_array::<56>(addr)?;
                let name = le_u64(&b, 0);
                let namelen = le_u32(&b, 8);
                out.push_str("{msg_name=");
                if name == 0 {
                    out.push_str("NULL");
                } else {
                    let mark = out.len();
                    if self.sockaddr(out, name, u64::from(namelen)).is_none() {
                        out.truncate(mark);
                        write_ptr(out, name);
                    }
                }
                let _ = write!(out, ", msg_namelen={namelen}, msg_iov=");
                let iovlen = le_u64(&b, 24);
                let budget = if exit { self.success() } else { None };
                self.iovec(out, le_u64(&b, 16), iovlen, budget);
                let _ = write!(out, ", msg_iovlen={iovlen}");
                let controllen = le_u64(&b, 40);
                if controllen > 0 {
                    out.push_str(", msg_control=");
                    write_ptr(out, le_u64(&b, 32));
                }
                let _ = write!(out, ", msg_controllen={controllen}, msg_flags=");
                write_flags(out, MsgFlags::from_bits_retain(le_u32(&b, 48)), "0");
                out.push('}');
            }
            StructKind::CloneArgs => {
                let b = self.read_array::<64>(addr)?;
                out.push_str("{flags=");
                write_flags(out, CloneFlags::from_bits_retain(le_u64(&b, 0)), "0");
                for (name, off) in [("pidfd", 8), ("child_tid", 16), ("parent_tid", 24)] {
                    let p = le_u64(&b, off);
                    if p != 0 {
                        let _ = write!(out, ", {name}=");
                        write_ptr(out, p);
                    }
                }
                out.push_str(", exit_signal=");
                write_signal(out, le_u64(&b, 32) as i32);
                out.push_str(", stack=");
                write_ptr(out, le_u64(&b, 40));
                out.push_str(", stack_size=");
                write_hex(out, le_u64(&b, 48));
                let tls = le_u64(&b, 56);
                if tls != 0 {
                    out.push_str(", tls=");
                    write_ptr(out, tls);
                }
                out.push('}');
            }
            StructKind::OpenHow => {
                let b = self.read_array::<24>(addr)?;
                out.push_str("{flags=");
                write_open_flags(out, le_u64(&b, 0) as u32);
                out.push_str(", mode=");
                write_mode(out, le_u64(&b, 8) as u32);
                out.push_str(", resolve=");
                write_flags(out, ResolveFlags::from_bits_retain(le_u64(&b, 16)), "0");
                out.push('}');
            }
            StructKind::Dirents => {
                // Like strace without -v: the address and how many records the kernel wrote.
                let total = if exit { self.success().unwrap_or(0) } else { 0 };
                let mut off = 0u64;
                let mut entries = 0usize;
                while off < total && entries < DIRENT_LIMIT {
                    let at = addr.checked_add(off)?.checked_add(16)?;
                    let reclen = self.read_array::<2>(at).map(u16::from_le_bytes)?;
                    if reclen == 0 {
                        break;
                    }
                    off += u64::from(reclen);
                    entries += 1;
                }
                write_ptr(out, addr);
                let _ = write!(out, " /* {entries} entries */");
            }
            StructKind::SchedParam => {
                let b = self.read_array::<4>(addr)?;
                let _ = write!(out, "{{sched_priority={}}}", i32::from_le_bytes(b));
            }
            StructKind::UserDesc => {
                let b = self.read_array::<16>(addr)?;
                let _ = write!(out, "{{entry_number={}, base_addr=", le_i32(&b, 0));
                write_hex(out, u64::from(le_u32(&b, 4)));
                out.push_str(", limit=");
                write_hex(out, u64::from(le_u32(&b, 8)));
                out.push_str(", ...}");
            }
            StructKind::CpuSet(size_idx) => {
                let size = if exit {
                    self.success().unwrap_or(0)
                } else {
                    self.args.get(size_idx as usize).copied().unwrap_or(0)
                };
                let bytes = size.min(BITSET_MAX as u64) as usize;
                let mut raw = [0u8; BITSET_MAX];
                self.read(addr, &mut raw[..bytes])?;
                write_bitset(out, &raw[..bytes], bytes * 8);
            }
            StructKind::RobustList | StructKind::Rseq => {
                write_ptr(out, addr);
            }
        }
        Some(())
    }

    /// The length of a socket address: a value argument, or (accept, recvfrom) an int the
    /// length argument points at.
    fn sockaddr_len(&self, idx: usize) -> u64 {
        let v = self.args.get(idx).copied().unwrap_or(0);
        match self.info.args.get(idx) {
            Some(Arg::UInt | Arg::Int) => v,
            _ if v == 0 => SOCKADDR_MAX as u64,
            _ => self.read_u32(v).map_or(SOCKADDR_MAX as u64, u64::from),
        }
    }

    /// `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}`.
    fn sockaddr(&self, out: &mut String, addr: u64, len: u64) -> Option<()> {
        let len = len.min(SOCKADDR_MAX as u64) as usize;
        if len < 2 {
            return None;
        }
        let mut raw = [0u8; SOCKADDR_MAX];
        self.read(addr, &mut raw[..len])?;
        let b = &raw[..len];
        let family = le_u16(b, 0);
        out.push_str("{sa_family=");
        write_enum(out, EnumSet::AddressFamily, u64::from(family));
        match family {
            AF_UNIX => {
                let path = &b[2..];
                out.push_str(", sun_path=");
                if path.first() == Some(&0) && path.len() > 1 {
                    // An abstract socket name: shown with a leading @, NULs and all.
                    out.push('@');
                    write_quoted(out, &path[1..], false);
                } else {
                    let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
                    write_quoted(out, &path[..end], false);
                }
            }
            AF_INET if len >= 8 => {
                let port = u16::from_be_bytes([b[2], b[3]]);
                let _ = write!(
                    out,
                    ", sin_port=htons({port}), sin_addr=inet_addr(\"{}.{}.{}.{}\")",
                    b[4], b[5], b[6], b[7]
                );
            }
            AF_INET6 if len >= 24 => {
                let port = u16::from_be_bytes([b[2], b[3]]);
                let flow = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                let _ = write!(
                    out,
                    ", sin6_port=htons({port}), sin6_flowinfo=htonl({flow}), "
                );
                out.push_str("inet_pton(AF_INET6, \"");
                write_ipv6(out, &b[8..24]);
                out.push_str("\", &sin6_addr)");
                if len >= 28 {
                    let _ = write!(out, ", sin6_scope_id={}", le_u32(b, 24));
                }
            }
            _ => out.push_str(", ..."),
        }
        out.push('}');
        Some(())
    }
}

const AF_UNIX: u16 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// How many arguments a futex operation uses (strace shows only those).
fn futex_arity(op: u32) -> usize {
    match op & FUTEX_CMD_MASK {
        // WAKE, FD, UNLOCK_PI, TRYLOCK_PI
        1 | 2 | 7 | 8 => 3,
        // WAIT, LOCK_PI, LOCK_PI2
        0 | 6 | 13 => 4,
        // REQUEUE, WAIT_REQUEUE_PI
        3 | 11 => 5,
        _ => 6,
    }
}

const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const FUTEX_CMD_MASK: u32 = !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

// ---- scalar writers -------------------------------------------------------------------------

/// C's `%#lx`: `0` for zero, `0x...` otherwise.
fn write_hex(out: &mut String, v: u64) {
    if v == 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

/// A pointer: `NULL` or `0x...`.
fn write_ptr(out: &mut String, v: u64) {
    if v == 0 {
        out.push_str("NULL");
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

/// C's `%#03o`: `000`, `007`, `0644`, `04755`.
fn write_octal(out: &mut String, v: u32) {
    let _ = write!(out, "0{v:02o}");
}

const S_IFMT: u32 = 0o170000;

/// File mode: `S_IFREG|0644`, or just `0644` when no type bits are set.
fn write_mode(out: &mut String, mode: u32) {
    let ty = mode & S_IFMT;
    let type_name = match ty {
        0 => Some(""),
        0o140000 => Some("S_IFSOCK|"),
        0o120000 => Some("S_IFLNK|"),
        0o100000 => Some("S_IFREG|"),
        0o060000 => Some("S_IFBLK|"),
        0o040000 => Some("S_IFDIR|"),
        0o020000 => Some("S_IFCHR|"),
        0o010000 => Some("S_IFIFO|"),
        _ => None,
    };
    match type_name {
        Some(name) if mode & !(S_IFMT | 0o7777) == 0 => {
            out.push_str(name);
            write_octal(out, mode & 0o7777);
        }
        _ => write_octal(out, mode),
    }
}

/// `, st_size=N`, or `, st_rdev=makedev(0xM, 0xN)` for device files (as strace does).
fn write_size_or_rdev(out: &mut String, mode: u32, prefix: &str, rdev: u64, size: i64) {
    let ty = mode & S_IFMT;
    if ty == 0o020000 || ty == 0o060000 {
        let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
        let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
        let _ = write!(out, ", {prefix}rdev=makedev({major:#x}, {minor:#x})");
    } else {
        let _ = write!(out, ", {prefix}size={size}");
    }
}

fn write_rlim(out: &mut String, v: u64) {
    if v == u64::MAX {
        out.push_str("RLIM64_INFINITY");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// `{tv_sec=1, tv_nsec=2}` from 16 bytes (`sub` names the second field).
fn write_timespec(out: &mut String, b: &[u8], sub: &str) {
    let _ = write!(out, "{{tv_sec={}, {sub}={}}}", le_i64(b, 0), le_i64(b, 8));
}

fn write_epoll_event(out: &mut String, b: &[u8]) {
    out.push_str("{events=");
    write_flags(out, EpollEvents::from_bits_retain(le_u32(b, 0)), "0");
    let data = le_u64(b, 4);
    let _ = write!(out, ", data={{u32={}, u64={}}}}}", data as u32, data);
}

/// `[0 3 5]`: the set bits among the first `bits` of a little-endian bit array.
fn write_bitset(out: &mut String, raw: &[u8], bits: usize) {
    out.push('[');
    let mut first = true;
    for bit in 0..bits.min(raw.len() * 8) {
        if raw[bit / 8] & (1 << (bit % 8)) != 0 {
            if !first {
                out.push(' ');
            }
            first = false;
            let _ = write!(out, "{bit}");
        }
    }
    out.push(']');
}

/// Writes a byte string in double quotes with C escapes, then `...` if it was cut short.
fn write_quoted(out: &mut String, bytes: &[u8], truncated: bool) {
    out.push('"');
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x0b => out.push_str("\\v"),
            0x0c => out.push_str("\\f"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    if truncated {
        out.push_str("...");
    }
}

/// An IPv6 address as inet_ntop writes it (longest zero run as `::`, v4-mapped dotted).
fn write_ipv6(out: &mut String, b: &[u8]) {
    let mut groups = [0u16; 8];
    for (k, g) in groups.iter_mut().enumerate() {
        *g = u16::from_be_bytes([b[2 * k], b[2 * k + 1]]);
    }
    if groups[..5].iter().all(|&g| g == 0) && groups[5] == 0xffff {
        let _ = write!(out, "::ffff:{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
        return;
    }
    // The longest run of at least two zero groups (the first one on a tie); none is (8, 0).
    let (mut best, mut best_len) = (8, 0);
    let mut k = 0;
    while k < 8 {
        if groups[k] == 0 {
            let start = k;
            while k < 8 && groups[k] == 0 {
                k += 1;
            }
            let run = k - start;
            if run >= 2 && run > best_len {
                best = start;
                best_len = run;
            }
        } else {
            k += 1;
        }
    }
    let mut k = 0;
    while k < 8 {
        if k == best {
            out.push_str("::");
            k += best_len;
            continue;
        }
        if k > 0 && k != best + best_len {
            out.push(':');
        }
        let _ = write!(out, "{:x}", groups[k]);
        k += 1;
    }
}

// ---- flags ----------------------------------------------------------------------------------

/// Appends `|`-separated names of the named bits in `flags`; returns the bits left unnamed.
fn append_names<F>(out: &mut String, flags: F, first: &mut bool) -> u64
where
    F: BitFlags,
    F::Bits: Into<u64>,
{
    let mut names = flags.iter_names();
    for (name, _) in names.by_ref() {
        if !*first {
            out.push('|');
        }
        *first = false;
        out.push_str(name);
    }
    names.remaining().bits().into()
}

/// Appends leftover bits in hex, if any.
fn append_hex_rest(out: &mut String, rest: u64, first: &mut bool) {
    if rest != 0 {
        if !*first {
            out.push('|');
        }
        *first = false;
        write_hex(out, rest);
    }
}

/// A flags value by name with leftover bits in hex; `empty` when no bit is set.
fn write_flags<F>(out: &mut String, flags: F, empty: &str)
where
    F: BitFlags,
    F::Bits: Into<u64>,
{
    let mut first = true;
    let rest = append_names(out, flags, &mut first);
    append_hex_rest(out, rest, &mut first);
    if first {
        out.push_str(empty);
    }
}

/// open flags: the access mode by name, then the O_* bits.
fn write_open_flags(out: &mut String, v: u32) {
    match v & OpenFlags::O_ACCMODE {
        0 => out.push_str("O_RDONLY"),
        1 => out.push_str("O_WRONLY"),
        2 => out.push_str("O_RDWR"),
        _ => out.push_str("O_ACCMODE"),
    }
    let mut first = false;
    let rest = append_names(
        out,
        OpenFlags::from_bits_retain(v).without_access_mode(),
        &mut first,
    );
    append_hex_rest(out, rest, &mut first);
}

/// clone(2) flags: CLONE_* names, then the exit signal from the low byte.
fn write_clone_flags(out: &mut String, v: u64) {
    let mut first = true;
    let rest = append_names(
        out,
        CloneFlags::from_bits_retain(v & !CloneFlags::CSIGNAL),
        &mut first,
    );
    append_hex_rest(out, rest, &mut first);
    let sig = (v & CloneFlags::CSIGNAL) as i32;
    if sig != 0 {
        if !first {
            out.push('|');
        }
        first = false;
        write_signal(out, sig);
    }
    if first {
        out.push('0');
    }
}

/// A socket type: `SOCK_STREAM|SOCK_CLOEXEC`.
fn write_sock_type(out: &mut String, v: u32) {
    let ty = v & SockFlags::SOCK_TYPE_MASK;
    let mut first = true;
    if ty != 0 {
        match lookup_name(SOCK_TYPES, ty) {
            Some(name) => out.push_str(name),
            None => {
                let _ = write!(out, "{ty}");
            }
        }
        first = false;
    }
    let rest = append_names(
        out,
        SockFlags::from_bits_retain(v & !SockFlags::SOCK_TYPE_MASK),
        &mut first,
    );
    append_hex_rest(out, rest, &mut first);
    if first {
        out.push('0');
    }
}

/// mount(2) flags, with the historic MS_MGC_VAL magic in the high half named.
fn write_mount_flags(out: &mut String, v: u64) {
    const MS_MGC_VAL: u64 = 0xC0ED_0000;
    const MS_MGC_MSK: u64 = 0xffff_0000;
    let mut first = true;
    let mut v = v;
    if v & MS_MGC_MSK == MS_MGC_VAL {
        out.push_str("MS_MGC_VAL");
        first = false;
        v &= !MS_MGC_MSK;
    }
    let rest = append_names(out, MountFlags::from_bits_retain(v), &mut first);
    append_hex_rest(out, rest, &mut first);
    if first {
        out.push('0');
    }
}

// ---- signals --------------------------------------------------------------------------------

/// Names of signals 1..=31 on x86-64, without the SIG prefix.
const SIGNAL_NAMES: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// A signal name without `SIG` (`TERM`, `RTMIN`, `RT_3`); false if `sig` is not 1..=64.
fn write_signal_bare(out: &mut String, sig: i32) -> bool {
    match sig {
        1..=31 => out.push_str(SIGNAL_NAMES[(sig - 1) as usize]),
        32 => out.push_str("RTMIN"),
        33..=64 => {
            let _ = write!(out, "RT_{}", sig - 32);
        }
        _ => return false,
    }
    true
}

/// `SIGTERM`, `SIGRT_3`, or the number.
fn write_signal(out: &mut String, sig: i32) {
    if (1..=64).contains(&sig) {
        out.push_str("SIG");
        write_signal_bare(out, sig);
    } else {
        let _ = write!(out, "{sig}");
    }
}

/// `[INT TERM]`, or `~[...]` listing the signals not in the set when most are (as strace).
fn write_sigset(out: &mut String, set: u64) {
    let (inverted, bits) = if set.count_ones() > 32 {
        (true, !set)
    } else {
        (false, set)
    };
    if inverted {
        out.push('~');
    }
    out.push('[');
    let mut first = true;
    for sig in 1..=64 {
        if bits & (1u64 << (sig - 1)) != 0 {
            if !first {
                out.push(' ');
            }
            first = false;
            write_signal_bare(out, sig);
        }
    }
    out.push(']');
}

// ---- enumerations ---------------------------------------------------------------------------

fn lookup_name(table: &[(u32, &'static str)], v: u32) -> Option<&'static str> {
    table
        .iter()
        .find(|&&(value, _)| value == v)
        .map(|&(_, name)| name)
}

/// An enumerated value by name; unknown values in decimal (ioctl requests in hex).
fn write_enum(out: &mut String, set: EnumSet, v: u64) {
    let v32 = v as u32;
    let table: &[(u32, &str)] = match set {
        EnumSet::Futex => return write_futex_op(out, v32),
        EnumSet::SchedPolicy => return write_sched_policy(out, v32),
        EnumSet::ArchPrctl => ARCH_PRCTL,
        EnumSet::Ioctl => IOCTLS,
        EnumSet::Fcntl => FCNTLS,
        EnumSet::ClockId => CLOCKS,
        EnumSet::Rlimit => RLIMITS,
        EnumSet::SigprocmaskHow => SIGPROCMASK_HOW,
        EnumSet::Whence => WHENCE,
        EnumSet::Prctl => PRCTLS,
        EnumSet::AddressFamily => ADDRESS_FAMILIES,
        EnumSet::Madvise => MADVISE,
        EnumSet::IdType => ID_TYPES,
        EnumSet::EpollCtl => EPOLL_CTL,
        EnumSet::Shutdown => SHUTDOWN,
        EnumSet::SockLevel => SOCK_LEVELS,
        EnumSet::Itimer => ITIMERS,
        EnumSet::Priority => PRIORITY_WHICH,
    };
    match lookup_name(table, v32) {
        Some(name) => out.push_str(name),
        None if set == EnumSet::Ioctl => write_hex(out, u64::from(v32)),
        None => {
            let _ = write!(out, "{}", v32 as i32);
        }
    }
}

/// `FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`, as strace writes futex operations.
fn write_futex_op(out: &mut String, op: u32) {
    let cmd = op & 0x7f;
    match lookup_name(FUTEX_OPS, cmd) {
        Some(name) => out.push_str(name),
        None => {
            let _ = write!(out, "{cmd}");
        }
    }
    if op & FUTEX_PRIVATE_FLAG != 0 {
        out.push_str("_PRIVATE");
    }
    if op & FUTEX_CLOCK_REALTIME != 0 {
        out.push_str("|FUTEX_CLOCK_REALTIME");
    }
    let rest = op & !(0x7f | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if rest != 0 {
        out.push('|');
        write_hex(out, u64::from(rest));
    }
}

/// `SCHED_FIFO|SCHED_RESET_ON_FORK`.
fn write_sched_policy(out: &mut String, v: u32) {
    const SCHED_RESET_ON_FORK: u32 = 0x4000_0000;
    let policy = v & !SCHED_RESET_ON_FORK;
    match lookup_name(SCHED_POLICIES, policy) {
        Some(name) => out.push_str(name),
        None => {
            let _ = write!(out, "{}", policy as i32);
        }
    }
    if v & SCHED_RESET_ON_FORK != 0 {
        out.push_str("|SCHED_RESET_ON_FORK");
    }
}

const SOCK_TYPES: &[(u32, &str)] = &[
    (1, "SOCK_STREAM"),
    (2, "SOCK_DGRAM"),
    (3, "SOCK_RAW"),
    (4, "SOCK_RDM"),
    (5, "SOCK_SEQPACKET"),
    (6, "SOCK_DCCP"),
    (10, "SOCK_PACKET"),
];

const ARCH_PRCTL: &[(u32, &str)] = &[
    (0x1001, "ARCH_SET_GS"),
    (0x1002, "ARCH_SET_FS"),
    (0x1003, "ARCH_GET_FS"),
    (0x1004, "ARCH_GET_GS"),
    (0x1011, "ARCH_GET_CPUID"),
    (0x1012, "ARCH_SET_CPUID"),
    (0x1021, "ARCH_GET_XCOMP_SUPP"),
    (0x1022, "ARCH_GET_XCOMP_PERM"),
    (0x1023, "ARCH_REQ_XCOMP_PERM"),
    (0x1024, "ARCH_GET_XCOMP_GUEST_PERM"),
    (0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"),
    (0x2001, "ARCH_MAP_VDSO_X32"),
    (0x2002, "ARCH_MAP_VDSO_32"),
    (0x2003, "ARCH_MAP_VDSO_64"),
    (0x3001, "ARCH_CET_STATUS"),
    (0x3002, "ARCH_CET_DISABLE"),
    (0x3003, "ARCH_CET_LOCK"),
    (0x4001, "ARCH_GET_UNTAG_MASK"),
    (0x4002, "ARCH_ENABLE_TAGGED_ADDR"),
    (0x4003, "ARCH_GET_MAX_TAG_BITS"),
    (0x4004, "ARCH_FORCE_TAGGED_SVA"),
    (0x5001, "ARCH_SHSTK_ENABLE"),
    (0x5002, "ARCH_SHSTK_DISABLE"),
    (0x5003, "ARCH_SHSTK_LOCK"),
    (0x5004, "ARCH_SHSTK_UNLOCK"),
    (0x5005, "ARCH_SHSTK_STATUS"),
];

const IOCTLS: &[(u32, &str)] = &[
    (0x5401, "TCGETS"),
    (0x5402, "TCSETS"),
    (0x5403, "TCSETSW"),
    (0x5404, "TCSETSF"),
    (0x5405, "TCGETA"),
    (0x5406, "TCSETA"),
    (0x5407, "TCSETAW"),
    (0x5408, "TCSETAF"),
    (0x5409, "TCSBRK"),
    (0x540A, "TCXONC"),
    (0x540B, "TCFLSH"),
    (0x540C, "TIOCEXCL"),
    (0x540D, "TIOCNXCL"),
    (0x540E, "TIOCSCTTY"),
    (0x540F, "TIOCGPGRP"),
    (0x5410, "TIOCSPGRP"),
    (0x5411, "TIOCOUTQ"),
    (0x5412, "TIOCSTI"),
    (0x5413, "TIOCGWINSZ"),
    (0x5414, "TIOCSWINSZ"),
    (0x5415, "TIOCMGET"),
    (0x5416, "TIOCMBIS"),
    (0x5417, "TIOCMBIC"),
    (0x5418, "TIOCMSET"),
    (0x541B, "FIONREAD"),
    (0x541C, "TIOCLINUX"),
    (0x541D, "TIOCCONS"),
    (0x5420, "TIOCPKT"),
    (0x5421, "FIONBIO"),
    (0x5422, "TIOCNOTTY"),
    (0x5423, "TIOCSETD"),
    (0x5424, "TIOCGETD"),
    (0x5425, "TCSBRKP"),
    (0x5427, "TIOCSBRK"),
    (0x5428, "TIOCCBRK"),
    (0x5429, "TIOCGSID"),
    (0x802C_542A, "TCGETS2"),
    (0x402C_542B, "TCSETS2"),
    (0x402C_542C, "TCSETSW2"),
    (0x402C_542D, "TCSETSF2"),
    (0x8004_5430, "TIOCGPTN"),
    (0x4004_5431, "TIOCSPTLCK"),
    (0x8004_5432, "TIOCGDEV"),
    (0x4004_5436, "TIOCSIG"),
    (0x5437, "TIOCVHANGUP"),
    (0x8004_5438, "TIOCGPKT"),
    (0x8004_5439, "TIOCGPTLCK"),
    (0x8004_5440, "TIOCGEXCL"),
    (0x5441, "TIOCGPTPEER"),
    (0x5450, "FIONCLEX"),
    (0x5451, "FIOCLEX"),
    (0x5452, "FIOASYNC"),
    (0x5460, "FIOQSIZE"),
    (0x8901, "FIOSETOWN"),
    (0x8903, "FIOGETOWN"),
    (0x8912, "SIOCGIFCONF"),
    (0x8913, "SIOCGIFFLAGS"),
    (0x8914, "SIOCSIFFLAGS"),
    (0x8915, "SIOCGIFADDR"),
    (0x8921, "SIOCGIFMTU"),
    (0x8927, "SIOCGIFHWADDR"),
    (0x8933, "SIOCGIFINDEX"),
    (0x8008_6601, "FS_IOC_GETFLAGS"),
    (0x4008_6602, "FS_IOC_SETFLAGS"),
    (0x4004_9409, "FICLONE"),
    (0x4020_940D, "FICLONERANGE"),
];

const FCNTLS: &[(u32, &str)] = &[
    (0, "F_DUPFD"),
    (1, "F_GETFD"),
    (2, "F_SETFD"),
    (3, "F_GETFL"),
    (4, "F_SETFL"),
    (5, "F_GETLK"),
    (6, "F_SETLK"),
    (7, "F_SETLKW"),
    (8, "F_SETOWN"),
    (9, "F_GETOWN"),
    (10, "F_SETSIG"),
    (11, "F_GETSIG"),
    (15, "F_SETOWN_EX"),
    (16, "F_GETOWN_EX"),
    (17, "F_GETOWNER_UIDS"),
    (36, "F_OFD_GETLK"),
    (37, "F_OFD_SETLK"),
    (38, "F_OFD_SETLKW"),
    (1024, "F_SETLEASE"),
    (1025, "F_GETLEASE"),
    (1026, "F_NOTIFY"),
    (1027, "F_DUPFD_QUERY"),
    (1028, "F_CREATED_QUERY"),
    (1029, "F_CANCELLK"),
    (1030, "F_DUPFD_CLOEXEC"),
    (1031, "F_SETPIPE_SZ"),
    (1032, "F_GETPIPE_SZ"),
    (1033, "F_ADD_SEALS"),
    (1034, "F_GET_SEALS"),
    (1035, "F_GET_RW_HINT"),
    (1036, "F_SET_RW_HINT"),
    (1037, "F_GET_FILE_RW_HINT"),
    (1038, "F_SET_FILE_RW_HINT"),
];

const CLOCKS: &[(u32, &str)] = &[
    (0, "CLOCK_REALTIME"),
    (1, "CLOCK_MONOTONIC"),
    (2, "CLOCK_PROCESS_CPUTIME_ID"),
    (3, "CLOCK_THREAD_CPUTIME_ID"),
    (4, "CLOCK_MONOTONIC_RAW"),
    (5, "CLOCK_REALTIME_COARSE"),
    (6, "CLOCK_MONOTONIC_COARSE"),
    (7, "CLOCK_BOOTTIME"),
    (8, "CLOCK_REALTIME_ALARM"),
    (9, "CLOCK_BOOTTIME_ALARM"),
    (10, "CLOCK_SGI_CYCLE"),
    (11, "CLOCK_TAI"),
];

const RLIMITS: &[(u32, &str)] = &[
    (0, "RLIMIT_CPU"),
    (1, "RLIMIT_FSIZE"),
    (2, "RLIMIT_DATA"),
    (3, "RLIMIT_STACK"),
    (4, "RLIMIT_CORE"),
    (5, "RLIMIT_RSS"),
    (6, "RLIMIT_NPROC"),
    (7, "RLIMIT_NOFILE"),
    (8, "RLIMIT_MEMLOCK"),
    (9, "RLIMIT_AS"),
    (10, "RLIMIT_LOCKS"),
    (11, "RLIMIT_SIGPENDING"),
    (12, "RLIMIT_MSGQUEUE"),
    (13, "RLIMIT_NICE"),
    (14, "RLIMIT_RTPRIO"),
    (15, "RLIMIT_RTTIME"),
];

const SIGPROCMASK_HOW: &[(u32, &str)] = &[(0, "SIG_BLOCK"), (1, "SIG_UNBLOCK"), (2, "SIG_SETMASK")];

const WHENCE: &[(u32, &str)] = &[
    (0, "SEEK_SET"),
    (1, "SEEK_CUR"),
    (2, "SEEK_END"),
    (3, "SEEK_DATA"),
    (4, "SEEK_HOLE"),
];

const FUTEX_OPS: &[(u32, &str)] = &[
    (0, "FUTEX_WAIT"),
    (1, "FUTEX_WAKE"),
    (2, "FUTEX_FD"),
    (3, "FUTEX_REQUEUE"),
    (4, "FUTEX_CMP_REQUEUE"),
    (5, "FUTEX_WAKE_OP"),
    (6, "FUTEX_LOCK_PI"),
    (7, "FUTEX_UNLOCK_PI"),
    (8, "FUTEX_TRYLOCK_PI"),
    (9, "FUTEX_WAIT_BITSET"),
    (10, "FUTEX_WAKE_BITSET"),
    (11, "FUTEX_WAIT_REQUEUE_PI"),
    (12, "FUTEX_CMP_REQUEUE_PI"),
    (13, "FUTEX_LOCK_PI2"),
];

const PRCTLS: &[(u32, &str)] = &[
    (1, "PR_SET_PDEATHSIG"),
    (2, "PR_GET_PDEATHSIG"),
    (3, "PR_GET_DUMPABLE"),
    (4, "PR_SET_DUMPABLE"),
    (5, "PR_GET_UNALIGN"),
    (6, "PR_SET_UNALIGN"),
    (7, "PR_GET_KEEPCAPS"),
    (8, "PR_SET_KEEPCAPS"),
    (9, "PR_GET_FPEMU"),
    (10, "PR_SET_FPEMU"),
    (11, "PR_GET_FPEXC"),
    (12, "PR_SET_FPEXC"),
    (13, "PR_GET_TIMING"),
    (14, "PR_SET_TIMING"),
    (15, "PR_SET_NAME"),
    (16, "PR_GET_NAME"),
    (19, "PR_GET_ENDIAN"),
    (20, "PR_SET_ENDIAN"),
    (21, "PR_GET_SECCOMP"),
    (22, "PR_SET_SECCOMP"),
    (23, "PR_CAPBSET_READ"),
    (24, "PR_CAPBSET_DROP"),
    (25, "PR_GET_TSC"),
    (26, "PR_SET_TSC"),
    (27, "PR_GET_SECUREBITS"),
    (28, "PR_SET_SECUREBITS"),
    (29, "PR_SET_TIMERSLACK"),
    (30, "PR_GET_TIMERSLACK"),
    (31, "PR_TASK_PERF_EVENTS_DISABLE"),
    (32, "PR_TASK_PERF_EVENTS_ENABLE"),
    (33, "PR_MCE_KILL"),
    (34, "PR_MCE_KILL_GET"),
    (35, "PR_SET_MM"),
    (36, "PR_SET_CHILD_SUBREAPER"),
    (37, "PR_GET_CHILD_SUBREAPER"),
    (38, "PR_SET_NO_NEW_PRIVS"),
    (39, "PR_GET_NO_NEW_PRIVS"),
    (40, "PR_GET_TID_ADDRESS"),
    (41, "PR_SET_THP_DISABLE"),
    (42, "PR_GET_THP_DISABLE"),
    (45, "PR_SET_FP_MODE"),
    (46, "PR_GET_FP_MODE"),
    (47, "PR_CAP_AMBIENT"),
    (52, "PR_GET_SPECULATION_CTRL"),
    (53, "PR_SET_SPECULATION_CTRL"),
    (55, "PR_SET_TAGGED_ADDR_CTRL"),
    (56, "PR_GET_TAGGED_ADDR_CTRL"),
    (57, "PR_SET_IO_FLUSHER"),
    (58, "PR_GET_IO_FLUSHER"),
    (59, "PR_SET_SYSCALL_USER_DISPATCH"),
    (62, "PR_SCHED_CORE"),
    (65, "PR_SET_MDWE"),
    (66, "PR_GET_MDWE"),
    (0x4155_5856, "PR_GET_AUXV"),
    (0x5356_4d41, "PR_SET_VMA"),
];

const ADDRESS_FAMILIES: &[(u32, &str)] = &[
    (0, "AF_UNSPEC"),
    (1, "AF_UNIX"),
    (2, "AF_INET"),
    (3, "AF_AX25"),
    (4, "AF_IPX"),
    (5, "AF_APPLETALK"),
    (6, "AF_NETROM"),
    (7, "AF_BRIDGE"),
    (8, "AF_ATMPVC"),
    (9, "AF_X25"),
    (10, "AF_INET6"),
    (11, "AF_ROSE"),
    (12, "AF_DECnet"),
    (13, "AF_NETBEUI"),
    (14, "AF_SECURITY"),
    (15, "AF_KEY"),
    (16, "AF_NETLINK"),
    (17, "AF_PACKET"),
    (18, "AF_ASH"),
    (19, "AF_ECONET"),
    (20, "AF_ATMSVC"),
    (21, "AF_RDS"),
    (22, "AF_SNA"),
    (23, "AF_IRDA"),
    (24, "AF_PPPOX"),
    (25, "AF_WANPIPE"),
    (26, "AF_LLC"),
    (27, "AF_IB"),
    (28, "AF_MPLS"),
    (29, "AF_CAN"),
    (30, "AF_TIPC"),
    (31, "AF_BLUETOOTH"),
    (32, "AF_IUCV"),
    (33, "AF_RXRPC"),
    (34, "AF_ISDN"),
    (35, "AF_PHONET"),
    (36, "AF_IEEE802154"),
    (37, "AF_CAIF"),
    (38, "AF_ALG"),
    (39, "AF_NFC"),
    (40, "AF_VSOCK"),
    (41, "AF_KCM"),
    (42, "AF_QIPCRTR"),
    (43, "AF_SMC"),
    (44, "AF_XDP"),
    (45, "AF_MCTP"),
];

const MADVISE: &[(u32, &str)] = &[
    (0, "MADV_NORMAL"),
    (1, "MADV_RANDOM"),
    (2, "MADV_SEQUENTIAL"),
    (3, "MADV_WILLNEED"),
    (4, "MADV_DONTNEED"),
    (8, "MADV_FREE"),
    (9, "MADV_REMOVE"),
    (10, "MADV_DONTFORK"),
    (11, "MADV_DOFORK"),
    (12, "MADV_MERGEABLE"),
    (13, "MADV_UNMERGEABLE"),
    (14, "MADV_HUGEPAGE"),
    (15, "MADV_NOHUGEPAGE"),
    (16, "MADV_DONTDUMP"),
    (17, "MADV_DODUMP"),
    (18, "MADV_WIPEONFORK"),
    (19, "MADV_KEEPONFORK"),
    (20, "MADV_COLD"),
    (21, "MADV_PAGEOUT"),
    (22, "MADV_POPULATE_READ"),
    (23, "MADV_POPULATE_WRITE"),
    (24, "MADV_DONTNEED_LOCKED"),
    (25, "MADV_COLLAPSE"),
    (100, "MADV_HWPOISON"),
    (101, "MADV_SOFT_OFFLINE"),
    (102, "MADV_GUARD_INSTALL"),
    (103, "MADV_GUARD_REMOVE"),
];

const ID_TYPES: &[(u32, &str)] = &[(0, "P_ALL"), (1, "P_PID"), (2, "P_PGID"), (3, "P_PIDFD")];

const EPOLL_CTL: &[(u32, &str)] = &[
    (1, "EPOLL_CTL_ADD"),
    (2, "EPOLL_CTL_DEL"),
    (3, "EPOLL_CTL_MOD"),
];

const SHUTDOWN: &[(u32, &str)] = &[(0, "SHUT_RD"), (1, "SHUT_WR"), (2, "SHUT_RDWR")];

const SOCK_LEVELS: &[(u32, &str)] = &[
    (0, "SOL_IP"),
    (1, "SOL_SOCKET"),
    (6, "SOL_TCP"),
    (17, "SOL_UDP"),
    (41, "SOL_IPV6"),
    (58, "SOL_ICMPV6"),
    (132, "SOL_SCTP"),
    (136, "SOL_UDPLITE"),
    (255, "SOL_RAW"),
    (263, "SOL_PACKET"),
    (270, "SOL_NETLINK"),
    (279, "SOL_ALG"),
    (282, "SOL_TLS"),
    (283, "SOL_XDP"),
    (284, "SOL_MPTCP"),
];

const ITIMERS: &[(u32, &str)] = &[
    (0, "ITIMER_REAL"),
    (1, "ITIMER_VIRTUAL"),
    (2, "ITIMER_PROF"),
];

const SCHED_POLICIES: &[(u32, &str)] = &[
    (0, "SCHED_OTHER"),
    (1, "SCHED_FIFO"),
    (2, "SCHED_RR"),
    (3, "SCHED_BATCH"),
    (4, "SCHED_ISO"),
    (5, "SCHED_IDLE"),
    (6, "SCHED_DEADLINE"),
    (7, "SCHED_EXT"),
];

const PRIORITY_WHICH: &[(u32, &str)] = &[(0, "PRIO_PROCESS"), (1, "PRIO_PGRP"), (2, "PRIO_USER")];

// ---- little-endian field readers (never panic: out-of-range fields read as zero) ------------

fn le_bytes<const N: usize>(b: &[u8], off: usize) -> [u8; N] {
    let mut a = [0u8; N];
    if let Some(s) = off.checked_add(N).and_then(|end| b.get(off..end)) {
        a.copy_from_slice(s);
    }
    a
}

fn le_u64(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(le_bytes(b, off))
}

fn le_i64(b: &[u8], off: usize) -> i64 {
    i64::from_le_bytes(le_bytes(b, off))
}

fn le_u32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(le_bytes(b, off))
}

fn le_i32(b: &[u8], off: usize) -> i32 {
    i32::from_le_bytes(le_bytes(b, off))
}

fn le_u16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(le_bytes(b, off))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{by_name, lookup, SYSCALLS, SYSCALL_COUNT};
    use proptest::prelude::*;

    const BASE: u64 = 0x1000_0000;

    /// Guest memory: whole pages mapped from BASE (zero past the data placed); the rest faults.
    struct FakeMem {
        data: Vec<u8>,
    }

    const PAGE: usize = 4096;

    /// `-1 ENAME (message)` as the formatter writes it.
    fn err(e: Errno) -> String {
        format!("-1 {} ({})", e.name(), e.message())
    }

    impl FakeMem {
        fn new() -> Self {
            FakeMem { data: Vec::new() }
        }

        /// Places bytes (8-aligned) and returns their guest address.
        fn put(&mut self, bytes: &[u8]) -> u64 {
            while self.data.len() & 7 != 0 {
                self.data.push(0);
            }
            let addr = BASE + self.data.len() as u64;
            self.data.extend_from_slice(bytes);
            addr
        }

        fn put_str(&mut self, s: &str) -> u64 {
            let mut v = s.as_bytes().to_vec();
            v.push(0);
            self.put(&v)
        }

        /// Places bytes so that they end exactly where the mapping ends.
        fn put_at_end(&mut self, bytes: &[u8]) -> u64 {
            let end = (self.data.len() + bytes.len()).div_ceil(PAGE) * PAGE;
            self.data.resize(end - bytes.len(), 0);
            let addr = BASE + self.data.len() as u64;
            self.data.extend_from_slice(bytes);
            addr
        }

        fn put_u64s(&mut self, words: &[u64]) -> u64 {
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            self.put(&bytes)
        }
    }

    impl GuestReader for FakeMem {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
            let start = addr.checked_sub(BASE).ok_or(Errno::EFAULT)?;
            let end = start.checked_add(buf.len() as u64).ok_or(Errno::EFAULT)?;
            let mapped = self.data.len().div_ceil(PAGE) * PAGE;
            if end > mapped as u64 {
                return Err(Errno::EFAULT);
            }
            for (k, b) in buf.iter_mut().enumerate() {
                *b = self.data.get(start as usize + k).copied().unwrap_or(0);
            }
            Ok(())
        }
    }

    fn args(a: &[u64]) -> [u64; 6] {
        let mut out = [0u64; 6];
        out[..a.len()].copy_from_slice(a);
        out
    }

    fn fmt(name: &str, a: &[u64], ret: Option<i64>, mem: &FakeMem) -> String {
        let info = by_name(name).unwrap_or_else(|| panic!("no syscall {name}"));
        let mut out = String::new();
        format_call(info, &args(a), ret, mem, &mut out);
        out
    }

    const FDCWD: u64 = -100i64 as u64;

    #[test]
    fn write_hello() {
        let mut m = FakeMem::new();
        let buf = m.put(b"hello\n");
        assert_eq!(
            fmt("write", &[1, buf, 6], Some(6), &m),
            r#"write(1, "hello\n", 6) = 6"#
        );
    }

    #[test]
    fn openat_enoent_hides_mode_without_o_creat() {
        let mut m = FakeMem::new();
        let path = m.put_str("/etc/passwd");
        assert_eq!(
            fmt("openat", &[FDCWD, path, 0o2000000, 0o777], Some(-2), &m),
            r#"openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)"#
        );
        assert_eq!(
            fmt("openat", &[FDCWD, path, 0o1101, 0o644], Some(3), &m),
            r#"openat(AT_FDCWD, "/etc/passwd", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3"#
        );
        assert_eq!(
            fmt("open", &[path, 0o20200002, 0o600], Some(4), &m),
            r#"open("/etc/passwd", O_RDWR|O_TMPFILE, 0600) = 4"#
        );
    }

    #[test]
    fn mmap_anonymous() {
        let m = FakeMem::new();
        assert_eq!(
            fmt("mmap", &[0, 4096, 3, 0x22, u64::MAX, 0], Some(0x7f00_0000_0000), &m),
            "mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000"
        );
        assert_eq!(
            fmt("mmap", &[0x7f00_0000_0000, 8192, 5, 0x812, 3, 0x1000], Some(-12), &m),
            format!("mmap(0x7f0000000000, 8192, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x1000) = {}", err(Errno::ENOMEM))
        );
        assert_eq!(
            fmt("mprotect", &[0x1000, 4096, 0], Some(0), &m),
            "mprotect(0x1000, 4096, PROT_NONE) = 0"
        );
        assert_eq!(
            fmt("brk", &[0], Some(0x5555_0000), &m),
            "brk(NULL) = 0x55550000"
        );
    }

    #[test]
    fn bad_pointers_print_as_addresses() {
        let m = FakeMem::new();
        assert_eq!(
            fmt("openat", &[FDCWD, 0xdead_0000, 0], Some(-14), &m),
            "openat(AT_FDCWD, 0xdead0000, O_RDONLY) = -1 EFAULT (Bad address)"
        );
        assert_eq!(
            fmt("write", &[1, 0xdead_0000, 5], Some(-14), &m).as_str(),
            "write(1, 0xdead0000, 5) = -1 EFAULT (Bad address)"
        );
        assert_eq!(
            fmt("write", &[1, 0, 5], Some(-14), &m),
            "write(1, NULL, 5) = -1 EFAULT (Bad address)"
        );
        assert_eq!(
            fmt("uname", &[0xdead_0000], Some(0), &m),
            "uname(0xdead0000) = 0"
        );
        assert_eq!(
            fmt("fstat", &[3, 0], Some(-14), &m),
            "fstat(3, NULL) = -1 EFAULT (Bad address)"
        );
        // A buffer that runs off the end of the mapping.
        let mut m = FakeMem::new();
        let buf = m.put_at_end(b"abc");
        assert_eq!(
            fmt("write", &[1, buf, 10], Some(-14), &m),
            format!("write(1, {buf:#x}, 10) = -1 EFAULT (Bad address)")
        );
        // A string whose NUL is never reached before the mapping ends.
        let path = m.put_at_end(b"/no/terminator");
        assert_eq!(
            fmt("chdir", &[path], Some(-14), &m),
            format!("chdir({path:#x}) = -1 EFAULT (Bad address)")
        );
    }

    #[test]
    fn long_buffers_are_truncated() {
        let mut m = FakeMem::new();
        let data = [b'a'; 100];
        let buf = m.put(&data);
        let expected = format!("write(1, \"{}\"..., 100) = 100", "a".repeat(32));
        assert_eq!(fmt("write", &[1, buf, 100], Some(100), &m), expected);
        // Exactly 32 bytes: no ellipsis.
        let expected = format!("write(1, \"{}\", 32) = 32", "a".repeat(32));
        assert_eq!(fmt("write", &[1, buf, 32], Some(32), &m), expected);
    }

    #[test]
    fn escapes() {
        let mut m = FakeMem::new();
        let buf = m.put(b"a\"b\\c\td\r\x00\x7f\xff\x1b");
        assert_eq!(
            fmt("write", &[2, buf, 12], Some(12), &m),
            r#"write(2, "a\"b\\c\td\r\x00\x7f\xff\x1b", 12) = 12"#
        );
    }

    #[test]
    fn read_shows_data_only_on_success() {
        let mut m = FakeMem::new();
        let buf = m.put(b"root:x:0:0\n-------");
        assert_eq!(
            fmt("read", &[3, buf, 4096], Some(11), &m),
            r#"read(3, "root:x:0:0\n", 4096) = 11"#
        );
        assert_eq!(
            fmt("read", &[3, buf, 4096], Some(0), &m),
            r#"read(3, "", 4096) = 0"#
        );
        assert_eq!(
            fmt("read", &[3, buf, 4096], Some(-11), &m),
            format!("read(3, {buf:#x}, 4096) = {}", err(Errno::EAGAIN))
        );
        let link = m.put(b"/usr/bin/python3.11");
        assert_eq!(
            fmt(
                "readlink",
                &[m.put_str("/usr/bin/python3"), link, 4096],
                Some(19),
                &m
            ),
            r#"readlink("/usr/bin/python3", "/usr/bin/python3.11", 4096) = 19"#
        );
    }

    #[test]
    fn uname_decoding() {
        let mut m = FakeMem::new();
        let mut raw = vec![0u8; 6 * 65];
        let fields = [
            "Linux",
            "sandbox",
            "6.1.0",
            "#1 SMP PREEMPT_DYNAMIC Debian 6.1.0-1 (2024-01-01)",
            "x86_64",
            "(none)",
        ];
        for (k, f) in fields.iter().enumerate() {
            raw[65 * k..65 * k + f.len()].copy_from_slice(f.as_bytes());
        }
        let addr = m.put(&raw);
        assert_eq!(
            fmt("uname", &[addr], Some(0), &m),
            r##"uname({sysname="Linux", nodename="sandbox", release="6.1.0", version="#1 SMP PREEMPT_DYNAMIC Debian 6."..., machine="x86_64", domainname="(none)"}) = 0"##
        );
    }

    #[test]
    fn clock_gettime_timespec() {
        let mut m = FakeMem::new();
        let ts = m.put_u64s(&[12345, 678_901_234]);
        assert_eq!(
            fmt("clock_gettime", &[1, ts], Some(0), &m),
            "clock_gettime(CLOCK_MONOTONIC, {tv_sec=12345, tv_nsec=678901234}) = 0"
        );
        // Out structs are shown only on success.
        assert_eq!(
            fmt("clock_gettime", &[99, ts], Some(-22), &m),
            format!("clock_gettime(99, {ts:#x}) = {}", err(Errno::EINVAL))
        );
        assert_eq!(
            fmt("nanosleep", &[ts, 0], Some(0), &m),
            "nanosleep({tv_sec=12345, tv_nsec=678901234}, NULL) = 0"
        );
    }

    #[test]
    fn no_return_calls() {
        let m = FakeMem::new();
        assert_eq!(fmt("exit_group", &[0], None, &m), "exit_group(0) = ?");
        assert_eq!(fmt("exit", &[u64::MAX], None, &m), "exit(-1) = ?");
    }

    #[test]
    fn unknown_numbers() {
        let mut out = String::new();
        format_unknown(1234, &[1, 2, 0, 0xffff_ffff, 5, 6], -38, &mut out);
        assert_eq!(
            out,
            format!(
                "syscall_1234(0x1, 0x2, 0, 0xffffffff, 0x5, 0x6) = -1 ENOSYS ({})",
                Errno::ENOSYS.message()
            )
        );
        let mut out = String::new();
        format_unknown(500, &[0; 6], -4000, &mut out);
        assert_eq!(out, "syscall_500(0, 0, 0, 0, 0, 0) = -1 E??? (errno 4000)");
        let mut out = String::new();
        format_unknown(500, &[0; 6], -4096, &mut out);
        assert_eq!(out, "syscall_500(0, 0, 0, 0, 0, 0) = -4096");
    }

    #[test]
    fn iovecs() {
        let mut m = FakeMem::new();
        let a = m.put(b"hello ");
        let b = m.put(b"world\n");
        let iov = m.put_u64s(&[a, 6, b, 6]);
        assert_eq!(
            fmt("writev", &[1, iov, 2], Some(12), &m),
            r#"writev(1, [{iov_base="hello ", iov_len=6}, {iov_base="world\n", iov_len=6}], 2) = 12"#
        );
        // readv shows only what the kernel filled.
        assert_eq!(
            fmt("readv", &[0, iov, 2], Some(8), &m),
            r#"readv(0, [{iov_base="hello ", iov_len=6}, {iov_base="wo", iov_len=6}], 2) = 8"#
        );
        assert_eq!(
            fmt("readv", &[0, iov, 2], Some(-9), &m),
            format!("readv(0, {iov:#x}, 2) = {}", err(Errno::EBADF))
        );
        let many: Vec<u64> = (0..10).flat_map(|_| [a, 1]).collect();
        let iov = m.put_u64s(&many);
        let one = r#"{iov_base="h", iov_len=1}"#;
        let expected = format!("writev(1, [{}, ...], 10) = 10", [one; 8].join(", "));
        assert_eq!(fmt("writev", &[1, iov, 10], Some(10), &m), expected);
    }

    #[test]
    fn execve_arrays() {
        let mut m = FakeMem::new();
        let path = m.put_str("/bin/ls");
        let a0 = m.put_str("ls");
        let a1 = m.put_str("-la");
        let argv = m.put_u64s(&[a0, a1, 0]);
        let e0 = m.put_str("PATH=/usr/bin");
        let envp = m.put_u64s(&[e0, 0]);
        assert_eq!(
            fmt("execve", &[path, argv, envp], Some(0), &m),
            r#"execve("/bin/ls", ["ls", "-la"], ["PATH=/usr/bin"]) = 0"#
        );
        let empty = m.put_u64s(&[0]);
        assert_eq!(
            fmt("execve", &[path, empty, 0], None, &m),
            r#"execve("/bin/ls", [], NULL) = ?"#
        );
        let forty: Vec<u64> = (0..40).map(|_| a0).chain([0]).collect();
        let argv = m.put_u64s(&forty);
        let expected = format!(
            "execve(\"/bin/ls\", [{}, ...], NULL) = {}",
            vec!["\"ls\""; 32].join(", "),
            err(Errno::E2BIG)
        );
        assert_eq!(fmt("execve", &[path, argv, 0], Some(-7), &m), expected);
        // An argv whose terminator lies past the mapping.
        let bad = m.put_at_end(&a0.to_le_bytes());
        assert_eq!(
            fmt("execve", &[path, bad, 0], Some(-14), &m),
            format!("execve(\"/bin/ls\", {bad:#x}, NULL) = -1 EFAULT (Bad address)")
        );
    }

    #[test]
    fn signals_and_sigaction() {
        let mut m = FakeMem::new();
        let act = m.put_u64s(&[0x40_1000, 0x1400_0000, 0x40_2000, (1 << 1) | (1 << 14)]);
        let old = m.put_u64s(&[0, 0, 0, 0]);
        assert_eq!(
            fmt("rt_sigaction", &[15, act, old, 8], Some(0), &m),
            "rt_sigaction(SIGTERM, {sa_handler=0x401000, sa_mask=[INT TERM], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x402000}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0"
        );
        let ign = m.put_u64s(&[1, 0, 0, 0]);
        assert_eq!(
            fmt("rt_sigaction", &[13, ign, 0, 8], Some(0), &m),
            "rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=0}, NULL, 8) = 0"
        );
        let set = m.put_u64s(&[1 << 16]);
        let all = m.put_u64s(&[!((1u64 << 8) | (1 << 18))]);
        assert_eq!(
            fmt("rt_sigprocmask", &[0, set, all, 8], Some(0), &m),
            "rt_sigprocmask(SIG_BLOCK, [CHLD], ~[KILL STOP], 8) = 0"
        );
        assert_eq!(fmt("kill", &[42, 9], Some(0), &m), "kill(42, SIGKILL) = 0");
        assert_eq!(
            fmt("tgkill", &[1, 2, 34], Some(0), &m),
            "tgkill(1, 2, SIGRT_2) = 0"
        );
        assert_eq!(fmt("kill", &[1, 0], Some(0), &m), "kill(1, 0) = 0");
    }

    #[test]
    fn rlimit_stat_and_friends() {
        let mut m = FakeMem::new();
        let new = m.put_u64s(&[8_388_608, u64::MAX]);
        assert_eq!(
            fmt("prlimit64", &[0, 3, 0, new], Some(0), &m),
            "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8388608, rlim_max=RLIM64_INFINITY}) = 0"
        );
        let mut st = vec![0u8; 144];
        st[24..28].copy_from_slice(&0o100644u32.to_le_bytes());
        st[48..56].copy_from_slice(&123i64.to_le_bytes());
        let st = m.put(&st);
        assert_eq!(
            fmt("fstat", &[3, st], Some(0), &m),
            "fstat(3, {st_mode=S_IFREG|0644, st_size=123, ...}) = 0"
        );
        let path = m.put_str("/etc/hosts");
        assert_eq!(
            fmt("newfstatat", &[FDCWD, path, st, 0x100], Some(0), &m),
            r#"newfstatat(AT_FDCWD, "/etc/hosts", {st_mode=S_IFREG|0644, st_size=123, ...}, AT_SYMLINK_NOFOLLOW) = 0"#
        );
        let mut dev = vec![0u8; 144];
        dev[24..28].copy_from_slice(&0o20666u32.to_le_bytes());
        dev[40..48].copy_from_slice(&((1u64 << 8) | 3).to_le_bytes());
        let dev = m.put(&dev);
        assert_eq!(
            fmt("fstat", &[0, dev], Some(0), &m),
            "fstat(0, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) = 0"
        );
        let fds = m.put(&[3, 0, 0, 0, 4, 0, 0, 0]);
        assert_eq!(
            fmt("pipe2", &[fds, 0o2000000], Some(0), &m),
            "pipe2([3, 4], O_CLOEXEC) = 0"
        );
        assert_eq!(
            fmt("access", &[path, 0], Some(0), &m),
            r#"access("/etc/hosts", F_OK) = 0"#
        );
        assert_eq!(
            fmt("access", &[path, 6], Some(0), &m),
            r#"access("/etc/hosts", R_OK|W_OK) = 0"#
        );
        assert_eq!(
            fmt("mkdir", &[path, 0o755], Some(-17), &m),
            format!(r#"mkdir("/etc/hosts", 0755) = {}"#, err(Errno::EEXIST))
        );
        assert_eq!(fmt("umask", &[0o22], Some(0o22), &m), "umask(022) = 18");
    }

    #[test]
    fn process_calls() {
        let m = FakeMem::new();
        assert_eq!(
            fmt("clone", &[0x3d0f00, 0x7f00_0000, 0x7f00_1000, 0x7f00_1000, 0x7f00_2000], Some(42), &m),
            "clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, 0x7f000000, 0x7f001000, 0x7f001000, 0x7f002000) = 42"
        );
        assert_eq!(
            fmt("clone", &[0x0120_0011, 0, 0, 0x7f00_1000, 0], Some(7), &m),
            "clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, NULL, NULL, 0x7f001000, NULL) = 7"
        );
        assert_eq!(
            fmt("unshare", &[0x1002_0000], Some(0), &m),
            "unshare(CLONE_NEWNS|CLONE_NEWUSER) = 0"
        );
        assert_eq!(
            fmt("arch_prctl", &[0x1002, 0x7f12_3400], Some(0), &m),
            "arch_prctl(ARCH_SET_FS, 0x7f123400) = 0"
        );
        assert_eq!(
            fmt("arch_prctl", &[0x3001, 0x7ffe_0000], Some(-22), &m),
            format!(
                "arch_prctl(ARCH_CET_STATUS, 0x7ffe0000) = {}",
                err(Errno::EINVAL)
            )
        );
        assert_eq!(
            fmt("ioctl", &[1, 0x5401, 0x7ffe_0000], Some(-25), &m),
            format!("ioctl(1, TCGETS, 0x7ffe0000) = {}", err(Errno::ENOTTY))
        );
        assert_eq!(
            fmt("ioctl", &[1, 0xdead_beef, 0], Some(-25), &m),
            format!("ioctl(1, 0xdeadbeef, NULL) = {}", err(Errno::ENOTTY))
        );
        assert_eq!(
            fmt(
                "futex",
                &[0x7f00_0000, 0x81, 1, 0xdead, 0xbeef, 0],
                Some(1),
                &m
            ),
            "futex(0x7f000000, FUTEX_WAKE_PRIVATE, 1) = 1"
        );
        assert_eq!(
            fmt("futex", &[0x7f00_0000, 0x189, 0, 0, 0, 0xffff_ffff], Some(-110), &m),
            format!("futex(0x7f000000, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, NULL, 4294967295) = {}", err(Errno::ETIMEDOUT))
        );
        assert_eq!(
            fmt("wait4", &[u64::MAX, 0, 0x4000_0001, 0], Some(0), &m),
            "wait4(-1, NULL, WNOHANG|__WALL, NULL) = 0"
        );
        assert_eq!(
            fmt("getrandom", &[0x1000, 16, 1], Some(-11), &m),
            format!(
                "getrandom(0x1000, 16, GRND_NONBLOCK) = {}",
                err(Errno::EAGAIN)
            )
        );
        assert_eq!(
            fmt("lseek", &[3, 0, 2], Some(1234), &m),
            "lseek(3, 0, SEEK_END) = 1234"
        );
        assert_eq!(
            fmt("dup3", &[3, 1, 0o2000001], Some(1), &m),
            "dup3(3, 1, O_CLOEXEC|0x1) = 1"
        );
        assert_eq!(
            fmt("sched_setscheduler", &[0, 0x4000_0001, 0], Some(0), &m),
            "sched_setscheduler(0, SCHED_FIFO|SCHED_RESET_ON_FORK, NULL) = 0"
        );
        assert_eq!(
            fmt("fcntl", &[3, 1030, 10], Some(11), &m),
            "fcntl(3, F_DUPFD_CLOEXEC, 10) = 11"
        );
    }

    #[test]
    fn sockets() {
        let mut m = FakeMem::new();
        assert_eq!(
            fmt("socket", &[2, 0o2000001, 0], Some(3), &m),
            "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3"
        );
        let sin = m.put(&[2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            fmt("connect", &[3, sin, 16], Some(-111), &m),
            format!(
                r#"connect(3, {{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}}, 16) = {}"#,
                err(Errno::ECONNREFUSED)
            )
        );
        let mut sun = vec![1u8, 0];
        sun.extend_from_slice(b"/tmp/sock\0");
        let sun = m.put(&sun);
        assert_eq!(
            fmt("bind", &[3, sun, 12], Some(0), &m),
            r#"bind(3, {sa_family=AF_UNIX, sun_path="/tmp/sock"}, 12) = 0"#
        );
        let mut sin6 = vec![10u8, 0, 0, 80, 0, 0, 0, 0];
        sin6.extend_from_slice(&[0; 15]);
        sin6.push(1);
        sin6.extend_from_slice(&[0; 4]);
        let sin6 = m.put(&sin6);
        let len = m.put(&28u32.to_le_bytes());
        assert_eq!(
            fmt("accept4", &[3, sin6, len, 0o4000], Some(5), &m),
            r#"accept4(3, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, [28], SOCK_NONBLOCK) = 5"#
        );
        assert_eq!(
            fmt("shutdown", &[3, 2], Some(0), &m),
            "shutdown(3, SHUT_RDWR) = 0"
        );
    }

    #[test]
    fn ipv6_text() {
        let cases: &[([u16; 8], &str)] = &[
            ([0, 0, 0, 0, 0, 0, 0, 0], "::"),
            ([0, 0, 0, 0, 0, 0, 0, 1], "::1"),
            ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
            ([0xfe80, 0, 0, 0, 1, 0, 0, 0], "fe80::1:0:0:0"),
            ([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"),
            ([1, 0, 0, 2, 0, 0, 0, 3], "1:0:0:2::3"),
            ([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1], "::ffff:127.0.0.1"),
            ([1, 2, 3, 4, 5, 6, 7, 0], "1:2:3:4:5:6:7:0"),
            ([1, 0, 0, 0, 0, 0, 0, 0], "1::"),
        ];
        for (groups, want) in cases {
            let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_be_bytes()).collect();
            let mut out = String::new();
            write_ipv6(&mut out, &bytes);
            assert_eq!(&out, want);
            let parsed: std::net::Ipv6Addr = want.parse().unwrap();
            assert_eq!(parsed.segments(), *groups);
        }
    }

    #[test]
    fn poll_and_epoll() {
        let mut m = FakeMem::new();
        let pfds = m.put(&[3, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(
            fmt("poll", &[pfds, 2, u64::MAX], Some(1), &m),
            "poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}], 2, -1) = 1"
        );
        let mut ev = vec![];
        ev.extend_from_slice(&1u32.to_le_bytes());
        ev.extend_from_slice(&7u64.to_le_bytes());
        let ev = m.put(&ev);
        assert_eq!(
            fmt("epoll_ctl", &[4, 1, 7, ev], Some(0), &m),
            "epoll_ctl(4, EPOLL_CTL_ADD, 7, {events=EPOLLIN, data={u32=7, u64=7}}) = 0"
        );
        assert_eq!(
            fmt("epoll_wait", &[4, ev, 16, u64::MAX], Some(1), &m),
            "epoll_wait(4, [{events=EPOLLIN, data={u32=7, u64=7}}], 16, -1) = 1"
        );
        assert_eq!(
            fmt("epoll_wait", &[4, ev, 16, 0], Some(0), &m),
            "epoll_wait(4, [], 16, 0) = 0"
        );
    }

    #[test]
    fn every_entry_formats_with_zero_and_readable_args() {
        let mut m = FakeMem::new();
        let page = m.put(&[0u8; 8192]);
        for info in SYSCALLS.iter() {
            for a in [[0u64; 6], [page; 6], [u64::MAX; 6]] {
                for ret in [None, Some(0), Some(-1), Some(1 << 20), Some(i64::MIN)] {
                    let mut out = String::new();
                    format_call(info, &a, ret, &m, &mut out);
                    assert!(out.starts_with(info.name), "{out}");
                    assert!(out.contains(") = "), "{out}");
                }
            }
        }
        assert_eq!(SYSCALLS.len(), SYSCALL_COUNT);
        assert!(lookup(nr::READ).is_some());
    }

    /// Memory that returns pseudo-random bytes or EFAULT, decided per address.
    struct RandomMem {
        seed: u64,
        fault_one_in: u64,
    }

    fn mix(mut x: u64) -> u64 {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    impl GuestReader for RandomMem {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
            let h = mix(self.seed ^ addr);
            if h.checked_rem(self.fault_one_in) == Some(0) {
                return Err(Errno::EFAULT);
            }
            let mut s = h | 1;
            for b in buf.iter_mut() {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                // Bias towards small values so strings end and counts stay plausible.
                *b = if s.checked_rem(5) == Some(0) {
                    0
                } else {
                    (s >> 24) as u8
                };
            }
            Ok(())
        }
    }

    fn arg_value() -> impl Strategy<Value = u64> {
        prop_oneof![
            any::<u64>(),
            0u64..64,
            Just(0u64),
            Just(u64::MAX),
            (0u64..0x1_0000).prop_map(|x| 0x7fff_0000_0000 + x),
            Just(-100i64 as u64),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn format_call_never_panics(
            idx in 0..SYSCALL_COUNT,
            a in prop::array::uniform6(arg_value()),
            ret in prop::option::of(prop_oneof![any::<i64>(), -4095i64..=4096]),
            seed in any::<u64>(),
            fault_one_in in 0u64..4,
        ) {
            let mem = RandomMem { seed, fault_one_in };
            let info = &SYSCALLS[idx];
            let mut out = String::new();
            format_call(info, &a, ret, &mem, &mut out);
            prop_assert!(out.starts_with(info.name));
            prop_assert!(out.ends_with(|c: char| c != ' '));
        }

        #[test]
        fn format_unknown_never_panics(nr in any::<u64>(), a in prop::array::uniform6(any::<u64>()), ret in any::<i64>()) {
            let mut out = String::new();
            format_unknown(nr, &a, ret, &mut out);
            prop_assert!(out.starts_with("syscall_"));
        }
    }
}
