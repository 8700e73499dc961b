//! Datagram transport over the SOCK_SEQPACKET socket: one `sendmsg`/`recvmsg` per message,
//! host FDs as SCM_RIGHTS ancillary data.
//!
//! This module owns the unsafe cmsg handling and nothing else: it neither encodes nor decodes
//! messages (see `proto`), and it never trusts the peer: an oversized datagram or truncated
//! ancillary data is reported, and every FD that arrives becomes an `OwnedFd` at once so none
//! can leak.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::proto::MAX_MESSAGE;

/// The most FDs one datagram may carry. Replies carry at most one; a few more slots let us
/// receive (and close) extras a confused peer sends instead of truncating silently.
const MAX_FDS: usize = 4;

/// Room for a cmsghdr with MAX_FDS ints, as u64 words so it is aligned for cmsghdr.
const CMSG_WORDS: usize = 8;

/// What one `recv` produced.
#[derive(Debug)]
pub(crate) enum Received {
    /// The peer closed the socket.
    Eof,
    /// A datagram of this many bytes is in the buffer.
    Message {
        /// Its length (at most MAX_MESSAGE).
        len: usize,
        /// The datagram was longer than MAX_MESSAGE and was cut.
        truncated: bool,
        /// Ancillary data was cut (the peer sent more FDs than we accept).
        fds_truncated: bool,
    },
}

fn cmsg_space_for_fds(n: usize) -> usize {
    // SAFETY: CMSG_SPACE only computes a size from its argument.
    unsafe { libc::CMSG_SPACE((n * std::mem::size_of::<RawFd>()) as u32) as usize }
}

/// Sends `bytes` as one datagram, with `fd` attached as SCM_RIGHTS when given.
pub(crate) fn send(
    sock: BorrowedFd<'_>,
    bytes: &[u8],
    fd: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: bytes.as_ptr() as *mut libc::c_void,
        iov_len: bytes.len(),
    };
    let mut cbuf = [0u64; CMSG_WORDS];
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if let Some(fd) = fd {
        let space = cmsg_space_for_fds(1);
        debug_assert!(space <= std::mem::size_of_val(&cbuf));
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = space;
        // SAFETY: msg_control points at `space` bytes of aligned, zeroed storage, enough for one
        // cmsghdr carrying one int, so CMSG_FIRSTHDR is non-null and CMSG_DATA lies inside it.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd.as_raw_fd());
        }
    }
    loop {
        // SAFETY: msg points at live iovec and control buffers for the duration of the call.
        let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
        if n >= 0 {
            if n as usize != bytes.len() {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "datagram sent short",
                ));
            }
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Receives one datagram into `buf` (resized to MAX_MESSAGE + 1 so an oversized datagram is
/// detected) and appends the FDs it carried to `fds`.
pub(crate) fn recv(
    sock: BorrowedFd<'_>,
    buf: &mut Vec<u8>,
    fds: &mut Vec<OwnedFd>,
) -> io::Result<Received> {
    buf.resize(MAX_MESSAGE + 1, 0);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut cbuf = [0u64; CMSG_WORDS];
    let space = cmsg_space_for_fds(MAX_FDS);
    debug_assert!(space <= std::mem::size_of_val(&cbuf));
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    let n = loop {
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = space;
        // SAFETY: msg points at live, writable iovec and control buffers of the stated sizes.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n as usize;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    // Take ownership of every FD first, whatever else is wrong with the message.
    // SAFETY: the kernel filled msg_control with msg_controllen bytes of well-formed cmsgs;
    // CMSG_FIRSTHDR/NXTHDR stay within that length, and each SCM_RIGHTS payload holds
    // (cmsg_len - CMSG_LEN(0)) / sizeof(int) descriptors that are now ours.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(c).cast::<RawFd>();
                let bytes = (*c).cmsg_len - libc::CMSG_LEN(0) as usize;
                for i in 0..bytes / std::mem::size_of::<RawFd>() {
                    let fd = std::ptr::read_unaligned(data.add(i));
                    if fd >= 0 {
                        fds.push(OwnedFd::from_raw_fd(fd));
                    }
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    if n == 0 && fds.is_empty() {
        // SOCK_SEQPACKET reports the peer's close as a zero-length read; we never send
        // empty datagrams (a header is 12 bytes), so this is EOF.
        return Ok(Received::Eof);
    }
    let truncated = msg.msg_flags & libc::MSG_TRUNC != 0 || n > MAX_MESSAGE;
    let fds_truncated = msg.msg_flags & libc::MSG_CTRUNC != 0;
    Ok(Received::Message {
        len: n.min(MAX_MESSAGE),
        truncated,
        fds_truncated,
    })
}
