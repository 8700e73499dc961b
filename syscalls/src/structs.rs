//! `repr(C)` structs of the x86-64 kernel ABI that guests pass by pointer.
//!
//! Each is plain old data: every bit pattern is a valid value, so the Sentry may copy one in
//! from guest memory byte for byte. [`Pod`] gives that byte view without unsafe.

/// Plain old data with a fixed x86-64 layout, convertible to and from little-endian bytes.
pub trait Pod: Sized + Copy + Default {
    /// The size of the kernel's struct in bytes.
    const SIZE: usize;
    /// Decodes the struct from exactly `SIZE` bytes.
    fn from_bytes(b: &[u8]) -> Self;
    /// Encodes the struct into exactly `SIZE` bytes.
    fn to_bytes(&self, out: &mut [u8]);
}

fn rd_u64(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}
fn rd_u32(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(a)
}
fn wr_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}
fn wr_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

/// Declares a struct whose fields are all 64-bit or 32-bit integers, with its codec.
macro_rules! pod_struct {
    ($(#[$m:meta])* $name:ident, $size:expr, { $($(#[$fm:meta])* $f:ident : $t:ident @ $off:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        #[repr(C)]
        pub struct $name { $($(#[$fm])* pub $f: $t),* }
        impl Pod for $name {
            const SIZE: usize = $size;
            fn from_bytes(b: &[u8]) -> Self {
                Self { $($f: pod_struct!(@rd $t, b, $off)),* }
            }
            fn to_bytes(&self, out: &mut [u8]) {
                out[..$size].fill(0);
                $(pod_struct!(@wr $t, out, $off, self.$f);)*
            }
        }
    };
    (@rd i64, $b:expr, $o:expr) => { rd_u64($b, $o) as i64 };
    (@rd u64, $b:expr, $o:expr) => { rd_u64($b, $o) };
    (@rd i32, $b:expr, $o:expr) => { rd_u32($b, $o) as i32 };
    (@rd u32, $b:expr, $o:expr) => { rd_u32($b, $o) };
    (@wr i64, $b:expr, $o:expr, $v:expr) => { wr_u64($b, $o, $v as u64) };
    (@wr u64, $b:expr, $o:expr, $v:expr) => { wr_u64($b, $o, $v) };
    (@wr i32, $b:expr, $o:expr, $v:expr) => { wr_u32($b, $o, $v as u32) };
    (@wr u32, $b:expr, $o:expr, $v:expr) => { wr_u32($b, $o, $v) };
}

pod_struct!(
    /// struct timespec.
    Timespec, 16, { tv_sec: i64 @ 0, tv_nsec: i64 @ 8 }
);
pod_struct!(
    /// struct timeval.
    Timeval, 16, { tv_sec: i64 @ 0, tv_usec: i64 @ 8 }
);
pod_struct!(
    /// struct timezone.
    Timezone, 8, { tz_minuteswest: i32 @ 0, tz_dsttime: i32 @ 4 }
);
pod_struct!(
    /// struct rlimit (and rlimit64: the same on x86-64).
    Rlimit, 16, { rlim_cur: u64 @ 0, rlim_max: u64 @ 8 }
);
pod_struct!(
    /// struct iovec.
    Iovec, 16, { iov_base: u64 @ 0, iov_len: u64 @ 8 }
);
pod_struct!(
    /// The kernel's struct sigaction for rt_sigaction (not glibc's): handler, flags, restorer, mask.
    Sigaction, 32, { sa_handler: u64 @ 0, sa_flags: u64 @ 8, sa_restorer: u64 @ 16, sa_mask: u64 @ 24 }
);
pod_struct!(
    /// The kernel's sigset_t: one bit per signal, bit N-1 for signal N.
    SigSet, 8, { bits: u64 @ 0 }
);
pod_struct!(
    /// struct winsize of TIOCGWINSZ.
    Winsize, 8, { ws_row: u32 @ 0, ws_col: u32 @ 4 }
);
pod_struct!(
    /// struct stat as x86-64 fstat/newfstatat fill it.
    Stat, 144, {
        st_dev: u64 @ 0, st_ino: u64 @ 8, st_nlink: u64 @ 16, st_mode: u32 @ 24, st_uid: u32 @ 28,
        st_gid: u32 @ 32, st_rdev: u64 @ 40, st_size: i64 @ 48, st_blksize: i64 @ 56,
        st_blocks: i64 @ 64, st_atime: i64 @ 72, st_atime_nsec: i64 @ 80, st_mtime: i64 @ 88,
        st_mtime_nsec: i64 @ 96, st_ctime: i64 @ 104, st_ctime_nsec: i64 @ 112,
    }
);

// `Winsize` packs two u16 pairs; the macro handles 32/64-bit fields, so it is declared as two
// u32 words; `new` packs them.
impl Winsize {
    /// Builds a winsize from rows, columns and pixel sizes.
    pub fn new(rows: u16, cols: u16, xpixel: u16, ypixel: u16) -> Winsize {
        Winsize {
            ws_row: u32::from(rows) | (u32::from(cols) << 16),
            ws_col: u32::from(xpixel) | (u32::from(ypixel) << 16),
        }
    }
}

/// struct new_utsname: six NUL-padded 65-byte strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Utsname {
    /// "Linux".
    pub sysname: [u8; 65],
    /// The host name.
    pub nodename: [u8; 65],
    /// The kernel release.
    pub release: [u8; 65],
    /// The kernel version.
    pub version: [u8; 65],
    /// "x86_64".
    pub machine: [u8; 65],
    /// The NIS domain name.
    pub domainname: [u8; 65],
}

impl Default for Utsname {
    fn default() -> Self {
        Utsname {
            sysname: [0; 65],
            nodename: [0; 65],
            release: [0; 65],
            version: [0; 65],
            machine: [0; 65],
            domainname: [0; 65],
        }
    }
}

impl Utsname {
    /// Builds a utsname from strings, each cut to 64 bytes so a NUL always ends it.
    pub fn new(fields: [&str; 6]) -> Utsname {
        let mut u = Utsname::default();
        let slots = [
            &mut u.sysname,
            &mut u.nodename,
            &mut u.release,
            &mut u.version,
            &mut u.machine,
            &mut u.domainname,
        ];
        for (slot, s) in slots.into_iter().zip(fields) {
            let n = s.len().min(64);
            slot[..n].copy_from_slice(&s.as_bytes()[..n]);
        }
        u
    }
}

impl Pod for Utsname {
    const SIZE: usize = 6 * 65;
    fn from_bytes(b: &[u8]) -> Self {
        let mut u = Utsname::default();
        for (i, f) in [
            &mut u.sysname,
            &mut u.nodename,
            &mut u.release,
            &mut u.version,
            &mut u.machine,
            &mut u.domainname,
        ]
        .into_iter()
        .enumerate()
        {
            f.copy_from_slice(&b[i * 65..(i + 1) * 65]);
        }
        u
    }
    fn to_bytes(&self, out: &mut [u8]) {
        for (i, f) in [
            &self.sysname,
            &self.nodename,
            &self.release,
            &self.version,
            &self.machine,
            &self.domainname,
        ]
        .into_iter()
        .enumerate()
        {
            out[i * 65..(i + 1) * 65].copy_from_slice(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn sizes_match_c() {
        assert_eq!(Timespec::SIZE, size_of::<libc::timespec>());
        assert_eq!(Timeval::SIZE, size_of::<libc::timeval>());
        assert_eq!(Timezone::SIZE, 8, "libc declares timezone opaque; two ints in C");
        assert_eq!(Rlimit::SIZE, size_of::<libc::rlimit64>());
        assert_eq!(Iovec::SIZE, size_of::<libc::iovec>());
        assert_eq!(Utsname::SIZE, size_of::<libc::utsname>());
        assert_eq!(Stat::SIZE, size_of::<libc::stat>());
        assert_eq!(Winsize::SIZE, size_of::<libc::winsize>());
        assert_eq!(SigSet::SIZE, 8);
        assert_eq!(Sigaction::SIZE, 32);
        assert_eq!(size_of::<Utsname>(), Utsname::SIZE);
    }

    #[test]
    fn offsets_match_c() {
        assert_eq!(offset_of!(Timespec, tv_nsec), offset_of!(libc::timespec, tv_nsec));
        assert_eq!(offset_of!(Stat, st_mode), offset_of!(libc::stat, st_mode));
        assert_eq!(offset_of!(Stat, st_rdev), offset_of!(libc::stat, st_rdev));
        assert_eq!(offset_of!(Stat, st_size), offset_of!(libc::stat, st_size));
        assert_eq!(offset_of!(Stat, st_blocks), offset_of!(libc::stat, st_blocks));
        assert_eq!(offset_of!(Stat, st_mtime), offset_of!(libc::stat, st_mtime));
        assert_eq!(offset_of!(Stat, st_ctime_nsec), offset_of!(libc::stat, st_ctime_nsec));
        assert_eq!(offset_of!(Utsname, machine), offset_of!(libc::utsname, machine));
        assert_eq!(offset_of!(Iovec, iov_len), offset_of!(libc::iovec, iov_len));
        assert_eq!(offset_of!(Rlimit, rlim_max), offset_of!(libc::rlimit64, rlim_max));
    }

    #[test]
    fn stat_codec_puts_fields_at_c_offsets() {
        let st = Stat { st_mode: 0o100644, st_size: 1234, st_ino: 77, st_mtime_nsec: 9, ..Stat::default() };
        let mut b = [0u8; Stat::SIZE];
        st.to_bytes(&mut b);
        let mode_at = offset_of!(libc::stat, st_mode);
        let size_at = offset_of!(libc::stat, st_size);
        assert_eq!(u32::from_le_bytes(b[mode_at..mode_at + 4].try_into().unwrap()), 0o100644);
        assert_eq!(i64::from_le_bytes(b[size_at..size_at + 8].try_into().unwrap()), 1234);
        assert_eq!(Stat::from_bytes(&b), st);
    }

    #[test]
    fn sigaction_round_trip() {
        let a = Sigaction { sa_handler: 1, sa_flags: 0x0400_0000, sa_restorer: 0x1234, sa_mask: 1 << 1 };
        let mut b = [0u8; Sigaction::SIZE];
        a.to_bytes(&mut b);
        assert_eq!(Sigaction::from_bytes(&b), a);
    }

    #[test]
    fn utsname_truncates_and_terminates() {
        let long = "x".repeat(100);
        let u = Utsname::new(["Linux", &long, "6.1.0", "#1", "x86_64", "(none)"]);
        assert_eq!(u.nodename[63], b'x');
        assert_eq!(u.nodename[64], 0);
    }
}
