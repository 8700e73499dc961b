//! What the launcher needs to start a gofer: the socketpair, and the gofer process's entry
//! point.
//!
//! The launcher creates the pair with [`socketpair`], keeps one end for the Sentry's
//! [`crate::Client`], and execs its own binary as `sandbox gofer --fd N --root PATH[:ro|:rw]...`
//! with the other end inherited (the CLI wiring lives in `runsc`). That subcommand calls
//! [`gofer_main`], which confines the process and serves until the Sentry closes its end.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::confine::confine;
use crate::server::Root;

/// Exit status: the Sentry closed the socket (normal end).
pub const EXIT_OK: i32 = 0;
/// Exit status: bad arguments (the FD is not a SOCK_SEQPACKET socket).
pub const EXIT_USAGE: i32 = 2;
/// Exit status: a root could not be opened or confinement failed.
pub const EXIT_CONFINE: i32 = 3;
/// Exit status: the socket failed while serving.
pub const EXIT_SERVE: i32 = 4;

/// A connected SOCK_SEQPACKET | SOCK_CLOEXEC unix socketpair: (Sentry's end, gofer's end).
/// The launcher clears close-on-exec on the gofer's end in the child it execs.
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1; 2];
    // SAFETY: `fds` is a writable array of two ints, as socketpair requires.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: socketpair succeeded: both are new descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Whether `fd` is an open SOCK_SEQPACKET socket.
fn is_seqpacket(fd: RawFd) -> bool {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `ty` and `len` are valid out-pointers of the sizes getsockopt expects.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut ty as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    r == 0 && ty == libc::SOCK_SEQPACKET
}

/// The gofer process's main: takes ownership of `fd` (the gofer's end of [`socketpair`]),
/// confines the process to `roots` and serves until the Sentry closes the socket. Prints one
/// line to stderr on failure and returns the exit status ([`EXIT_OK`], [`EXIT_USAGE`],
/// [`EXIT_CONFINE`], [`EXIT_SERVE`]).
pub fn gofer_main(fd: RawFd, roots: Vec<Root>) -> i32 {
    if fd < 0 || !is_seqpacket(fd) {
        eprintln!("gofer: --fd {fd} is not an open SOCK_SEQPACKET socket");
        return EXIT_USAGE;
    }
    // SAFETY: `fd` is open (getsockopt succeeded on it) and the caller hands it to us.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // Keep the socket out of anything else the process might exec (it execs nothing, but the
    // descriptor was inherited without close-on-exec).
    // SAFETY: plain fcntl on a descriptor we own.
    unsafe { libc::fcntl(sock.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    let confined = match confine(roots) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gofer: {e}");
            return EXIT_CONFINE;
        }
    };
    match confined.server.run(sock) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("gofer: {e}");
            EXIT_SERVE
        }
    }
}
