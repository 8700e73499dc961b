//! Filesystems: each implements the VFS's `Inode` and `FileOps` for its files.

pub mod anon;
pub mod dev;
pub mod epoll;
pub mod gofer;
pub mod inotify;
pub mod overlay;
pub mod pipe;
pub mod pidfd;
pub mod proc;
pub mod signalfd;
pub mod sys;
pub mod tmpfs;

/// Reads the current wall-clock time as (seconds, nanoseconds).
pub fn now() -> (i64, i64) {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (d.as_secs() as i64, i64::from(d.subsec_nanos()))
}

/// Copies `data[off..]` into the iovec pieces; returns the bytes copied.
pub fn copy_to_iov(data: &[u8], off: u64, iov: &[libc::iovec]) -> usize {
    let Some(mut src) = usize::try_from(off).ok().and_then(|o| data.get(o..)) else { return 0 };
    let mut done = 0;
    for v in iov {
        if src.is_empty() {
            break;
        }
        let n = v.iov_len.min(src.len());
        // SAFETY: each iovec was validated by the memory manager as writable guest memory in
        // the memory file mapping; `src` is Sentry memory that cannot overlap it.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), v.iov_base.cast::<u8>(), n) };
        src = &src[n..];
        done += n;
    }
    done
}

/// Gathers the iovec pieces into `out` (appended).
pub fn gather_iov(iov: &[libc::iovec], out: &mut Vec<u8>) {
    for v in iov {
        let start = out.len();
        out.resize(start + v.iov_len, 0);
        // SAFETY: each iovec was validated as readable guest memory in the memory file
        // mapping; the destination is the freshly sized tail of `out`.
        unsafe { std::ptr::copy_nonoverlapping(v.iov_base.cast::<u8>(), out[start..].as_mut_ptr(), v.iov_len) };
    }
}
