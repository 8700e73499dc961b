//! What the gofer process does to itself before it serves: open its roots, optionally hide the
//! rest of the host's filesystem behind a private mount namespace, set no_new_privs and
//! install its own host seccomp filter.
//!
//! The filter is [`RULES`]: a reviewed list, each rule with the reason it is needed. Anything
//! else kills the process with SIGSYS (SECCOMP_RET_KILL_PROCESS). The list covers exactly the
//! calls `server` makes (through `host` and `wire`) plus what Rust's runtime and glibc need to
//! allocate, report one error line and exit. Confinement never depends on the mount namespace:
//! it is an extra layer, taken only when the kernel grants it.
//!
//! This module does not serve anything; [`Confined::server`] does.

use std::collections::BTreeMap;
use std::io;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

use crate::server::{Root, ServeError, Server};

/// A condition on one argument of an allowed system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgRule {
    /// Any arguments.
    Any,
    /// Argument `arg` (0-based) equals `value` (compared as 32 bits).
    Eq {
        /// Argument index.
        arg: u8,
        /// Required value.
        value: u64,
    },
    /// Argument `arg` has none of the bits in `mask` set.
    NoneOf {
        /// Argument index.
        arg: u8,
        /// Forbidden bits.
        mask: u64,
    },
}

/// One allowed host system call and why the gofer needs it.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// The system call's name.
    pub name: &'static str,
    /// Its x86-64 number.
    pub nr: i64,
    /// What needs it.
    pub why: &'static str,
    /// Which arguments are allowed.
    pub args: ArgRule,
}

const fn rule(name: &'static str, nr: i64, why: &'static str) -> Rule {
    Rule {
        name,
        nr,
        why,
        args: ArgRule::Any,
    }
}

/// The gofer's host seccomp filter: every system call it may make after [`confine`].
pub const RULES: &[Rule] = &[
    // The protocol.
    rule(
        "recvmsg",
        libc::SYS_recvmsg,
        "receive a request datagram from the Sentry",
    ),
    rule(
        "sendmsg",
        libc::SYS_sendmsg,
        "send a reply, with a donated FD as SCM_RIGHTS",
    ),
    // Lookups and opens, always relative to a held descriptor.
    rule(
        "openat",
        libc::SYS_openat,
        "walk one component (O_PATH|O_NOFOLLOW), open/create files, reopen via /proc/self/fd",
    ),
    rule(
        "openat2",
        libc::SYS_openat2,
        "walk one component with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS",
    ),
    rule(
        "close",
        libc::SYS_close,
        "drop held descriptors (Close, temporaries, donated FDs once sent)",
    ),
    Rule {
        name: "fcntl",
        nr: libc::SYS_fcntl,
        why: "F_DUPFD_CLOEXEC: Attach hands out a duplicate of a root descriptor",
        args: ArgRule::Eq {
            arg: 1,
            value: libc::F_DUPFD_CLOEXEC as u64,
        },
    },
    Rule {
        name: "fcntl",
        nr: libc::SYS_fcntl,
        why: "F_GETFD: Rust's std checks a descriptor is open before closing it (debug builds)",
        args: ArgRule::Eq {
            arg: 1,
            value: libc::F_GETFD as u64,
        },
    },
    // Attributes.
    rule(
        "fstat",
        libc::SYS_fstat,
        "Stat and every reply that carries a stat",
    ),
    rule(
        "newfstatat",
        libc::SYS_newfstatat,
        "glibc's fstat is newfstatat(fd, \"\", AT_EMPTY_PATH)",
    ),
    rule(
        "statx",
        libc::SYS_statx,
        "Rust's std stats files with statx",
    ),
    rule("fstatfs", libc::SYS_fstatfs, "StatFs"),
    rule(
        "readlinkat",
        libc::SYS_readlinkat,
        "Readlink of a held symlink",
    ),
    rule("getdents64", libc::SYS_getdents64, "Getdents"),
    rule(
        "lseek",
        libc::SYS_lseek,
        "Getdents: seek a directory to the client's cookie",
    ),
    rule("fgetxattr", libc::SYS_fgetxattr, "GetXattr"),
    rule("flistxattr", libc::SYS_flistxattr, "ListXattr"),
    // Mutations (refused by the server itself on read-only roots).
    rule("mkdirat", libc::SYS_mkdirat, "Mkdir"),
    rule(
        "mknodat",
        libc::SYS_mknodat,
        "Mknod (FIFOs and regular files only; the server refuses devices)",
    ),
    rule("symlinkat", libc::SYS_symlinkat, "Symlink"),
    rule(
        "linkat",
        libc::SYS_linkat,
        "Link, through /proc/self/fd/N of a held file",
    ),
    rule("unlinkat", libc::SYS_unlinkat, "Unlink and rmdir"),
    rule("renameat2", libc::SYS_renameat2, "Rename"),
    rule(
        "fchmodat",
        libc::SYS_fchmodat,
        "SetStat mode, through /proc/self/fd/N",
    ),
    rule(
        "fchownat",
        libc::SYS_fchownat,
        "SetStat owner (AT_EMPTY_PATH) and ownership of created files",
    ),
    rule("ftruncate", libc::SYS_ftruncate, "SetStat size"),
    rule(
        "utimensat",
        libc::SYS_utimensat,
        "SetStat atime/mtime, through /proc/self/fd/N",
    ),
    rule("fsync", libc::SYS_fsync, "Fsync"),
    // Memory for the allocator; never executable.
    Rule {
        name: "mmap",
        nr: libc::SYS_mmap,
        why: "allocator: large buffers and arenas (never PROT_EXEC)",
        args: ArgRule::NoneOf {
            arg: 2,
            mask: libc::PROT_EXEC as u64,
        },
    },
    Rule {
        name: "mprotect",
        nr: libc::SYS_mprotect,
        why: "allocator: glibc grows non-main arenas in place (never PROT_EXEC)",
        args: ArgRule::NoneOf {
            arg: 2,
            mask: libc::PROT_EXEC as u64,
        },
    },
    rule(
        "munmap",
        libc::SYS_munmap,
        "allocator: release large buffers",
    ),
    rule(
        "mremap",
        libc::SYS_mremap,
        "allocator: grow large buffers (Vec reallocation)",
    ),
    rule("brk", libc::SYS_brk, "allocator: the main heap"),
    rule(
        "madvise",
        libc::SYS_madvise,
        "allocator: return freed pages (MADV_DONTNEED)",
    ),
    // Runtime.
    rule(
        "futex",
        libc::SYS_futex,
        "std's locks (stderr) under contention",
    ),
    rule(
        "getrandom",
        libc::SYS_getrandom,
        "std's HashMap seeds, should a new map be made",
    ),
    rule(
        "rt_sigreturn",
        libc::SYS_rt_sigreturn,
        "return from a signal handler (Rust's stack-overflow guard)",
    ),
    rule(
        "rt_sigprocmask",
        libc::SYS_rt_sigprocmask,
        "glibc masks signals around exit and abort",
    ),
    rule(
        "sigaltstack",
        libc::SYS_sigaltstack,
        "Rust's runtime tears down its signal stack on exit",
    ),
    Rule {
        name: "write",
        nr: libc::SYS_write,
        why: "one error line to stderr (fd 2) before exiting",
        args: ArgRule::Eq { arg: 0, value: 2 },
    },
    rule("exit", libc::SYS_exit, "thread exit"),
    rule("exit_group", libc::SYS_exit_group, "process exit"),
];

/// Why the gofer could not confine itself.
#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    /// Opening the roots (or /proc/self/fd) failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// prctl(PR_SET_NO_NEW_PRIVS) failed.
    #[error("cannot set no_new_privs: {0}")]
    NoNewPrivs(io::Error),
    /// The filter could not be compiled (a bug in [`RULES`]).
    #[error("cannot build the gofer's seccomp filter: {0}")]
    Build(String),
    /// The kernel refused the filter.
    #[error("cannot install the gofer's seccomp filter: {0}")]
    Install(seccompiler::Error),
}

/// A confined server, ready to [`Server::run`].
#[derive(Debug)]
pub struct Confined {
    /// The server over the opened roots.
    pub server: Server,
    /// The process entered a private mount namespace and chrooted into an empty, read-only
    /// tmpfs (false where the kernel refused, e.g. without CAP_SYS_ADMIN; harmless then).
    pub private_mounts: bool,
}

/// Compiles [`RULES`] for this architecture; anything else kills the process.
pub fn filter() -> Result<BpfProgram, ConfineError> {
    let build = |e: &dyn std::fmt::Display| ConfineError::Build(e.to_string());
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for r in RULES {
        let conds = match r.args {
            ArgRule::Any => None,
            ArgRule::Eq { arg, value } => Some(
                SeccompCondition::new(arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, value)
                    .map_err(|e| build(&e))?,
            ),
            ArgRule::NoneOf { arg, mask } => Some(
                SeccompCondition::new(
                    arg,
                    SeccompCmpArgLen::Qword,
                    SeccompCmpOp::MaskedEq(mask),
                    0,
                )
                .map_err(|e| build(&e))?,
            ),
        };
        let entry = rules.entry(r.nr).or_default();
        if let Some(c) = conds {
            entry.push(SeccompRule::new(vec![c]).map_err(|e| build(&e))?);
        }
    }
    let arch = std::env::consts::ARCH.try_into().map_err(|e| build(&e))?;
    let f = SeccompFilter::new(
        rules,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        arch,
    )
    .map_err(|e| build(&e))?;
    f.try_into()
        .map_err(|e: seccompiler::BackendError| build(&e))
}

/// Opens `roots`, then confines the calling process: a private mount namespace where the
/// kernel allows one, no_new_privs, and the seccomp filter of [`RULES`] on every thread.
/// After this the process can only serve; call it once, in the gofer process.
pub fn confine(roots: Vec<Root>) -> Result<Confined, ConfineError> {
    raise_nofile_limit();
    let server = Server::new(roots)?;
    let private_mounts = enter_empty_mount_namespace();
    // SAFETY: prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) takes no pointers.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(ConfineError::NoNewPrivs(io::Error::last_os_error()));
    }
    let prog = filter()?;
    seccompiler::apply_filter_all_threads(&prog).map_err(ConfineError::Install)?;
    Ok(Confined {
        server,
        private_mounts,
    })
}

/// Every held file is a descriptor: let the server hold as many as the hard limit allows.
fn raise_nofile_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 && lim.rlim_cur < lim.rlim_max
    {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a valid rlimit; failure only leaves the old limit.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
}

/// Best effort: a private mount namespace whose root is an empty read-only tmpfs, so the
/// process sees no host path at all (it serves through descriptors opened before). Returns
/// whether it took effect. Nothing is mounted unless propagation to the host is cut first.
fn enter_empty_mount_namespace() -> bool {
    // SAFETY: unshare takes no pointers; on failure nothing changed.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        return false;
    }
    let none = c"none";
    let root = c"/";
    // SAFETY: all strings are NUL-terminated; a null data pointer is allowed.
    let private = unsafe {
        libc::mount(
            none.as_ptr(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    };
    if private != 0 {
        return false;
    }
    // /proc exists on every Linux host; in our private namespace a tmpfs over it hides nothing
    // the server needs (it holds /proc/self/fd open already).
    let target = c"/proc";
    let fstype = c"tmpfs";
    let data = c"size=4k,mode=0555";
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RDONLY;
    // SAFETY: all strings are NUL-terminated and outlive the calls; chdir/chroot take paths.
    unsafe {
        libc::mount(
            fstype.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            data.as_ptr().cast(),
        ) == 0
            && libc::chdir(target.as_ptr()) == 0
            && libc::chroot(c".".as_ptr()) == 0
            && libc::chdir(root.as_ptr()) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_compiles_and_rules_are_unique() {
        assert!(!filter().unwrap().is_empty());
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(!r.why.is_empty());
            // A syscall may have several conditional rules (they are or-ed), but an
            // unconditional one must stand alone or it would hide the others' intent.
            let others: Vec<_> = RULES.iter().filter(|o| o.nr == r.nr).collect();
            assert!(
                others.len() == 1 || others.iter().all(|o| o.args != ArgRule::Any),
                "{} is allowed unconditionally and also with conditions",
                r.name
            );
            assert_eq!(
                others.iter().filter(|o| o.args == r.args).count(),
                1,
                "{} listed twice",
                r.name
            );
            seen.insert(r.nr);
        }
        for forbidden in [
            libc::SYS_socket,
            libc::SYS_execve,
            libc::SYS_ptrace,
            libc::SYS_open,
            libc::SYS_connect,
        ] {
            assert!(!seen.contains(&forbidden));
        }
    }
}
