//! Host seccomp filters for the sandbox's own processes: an allowlist of system call numbers,
//! anything else answered with SIGSYS (SECCOMP_RET_TRAP).
//!
//! Why TRAP and not KILL: stubs are cloned from the Sentry and inherit its filter. With TRAP as
//! the default, a guest syscall in a systrap stub is trapped by both filters alike (the stub's
//! own handler serves it), where KILL would take precedence and end the stub. For the Sentry
//! itself, SIGSYS is fatal: [`install_sigsys_reporter`] prints which call was refused.

use crate::PlatformError;

/// Installs an allowlist filter on every thread of the calling process (TSYNC), after setting
/// no_new_privs. Calls in `refused` fail with their errno instead of raising SIGSYS (for
/// library code that probes a path and copes with failure, like glibc's malloc reading
/// /proc/sys/vm/overcommit_memory).
pub fn install_allowlist(allowed: &[u32], refused: &[(u32, u16)]) -> Result<(), PlatformError> {
    const LD_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    let ins = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    let n = allowed.len() + refused.len();
    if n > 120 {
        return Err(PlatformError::Host { op: "building a host filter", source: std::io::Error::from_raw_os_error(libc::E2BIG) });
    }
    // arch check, nr load, allowed compares, then trap, allow, and per refused call a compare
    // (placed before the allowed ones) jumping to its own errno return at the end.
    let r = refused.len();
    let allowed_at = 3 + r;
    let (trap, allow) = (allowed_at + allowed.len(), allowed_at + allowed.len() + 1);
    let mut f = vec![ins(LD_ABS, 0, 0, 4), ins(JEQ, 0, (trap - 2) as u8, AUDIT_ARCH_X86_64), ins(LD_ABS, 0, 0, 0)];
    for (i, &(nr, _)) in refused.iter().enumerate() {
        let at = 3 + i;
        let target = allow + 1 + i;
        f.push(ins(JEQ, (target - at - 1) as u8, 0, nr));
    }
    for (i, &nr) in allowed.iter().enumerate() {
        f.push(ins(JEQ, (allow - (allowed_at + i) - 1) as u8, 0, nr));
    }
    f.push(ins(RET, 0, 0, libc::SECCOMP_RET_TRAP));
    f.push(ins(RET, 0, 0, libc::SECCOMP_RET_ALLOW));
    for &(_, errno) in refused {
        f.push(ins(RET, 0, 0, libc::SECCOMP_RET_ERRNO | u32::from(errno)));
    }
    let prog = libc::sock_fprog { len: f.len() as u16, filter: f.as_mut_ptr() };
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(PlatformError::last_os("prctl(PR_SET_NO_NEW_PRIVS)"));
    }
    const TSYNC: libc::c_ulong = 1;
    // SAFETY: `prog` points at `f`, which outlives the call; the kernel copies the program.
    let r = unsafe { libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER as libc::c_ulong, TSYNC, &prog as *const libc::sock_fprog) };
    if r != 0 {
        return Err(PlatformError::last_os("seccomp(SECCOMP_SET_MODE_FILTER)"));
    }
    Ok(())
}

/// Makes a SIGSYS in this process print one line naming the refused system call, then exit
/// with status 125 (a Sentry bug, not the guest's doing).
pub fn install_sigsys_reporter() {
    extern "C" fn report(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
        // Only async-signal-safe work: format into a stack buffer, one write, _exit.
        let mut nr: i32 = -1;
        if !info.is_null() {
            // SAFETY: the kernel passes a valid siginfo; for SIGSYS from seccomp the syscall
            // number is the int at byte 24 (si_syscall).
            nr = unsafe { info.cast::<u8>().add(24).cast::<i32>().read_unaligned() };
        }
        let mut msg = [0u8; 160];
        let head = b"sandbox: internal error: the Sentry made host system call ";
        let tail = b", which its own seccomp filter forbids (a bug; rerun with --debug-log to see where)\n";
        let mut len = 0;
        for &b in head {
            msg[len] = b;
            len += 1;
        }
        let mut digits = [0u8; 12];
        let mut d = 0;
        let mut v = nr.unsigned_abs();
        loop {
            digits[d] = b'0' + (v % 10) as u8;
            d += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        while d > 0 {
            d -= 1;
            msg[len] = digits[d];
            len += 1;
        }
        for &b in tail {
            if len < msg.len() {
                msg[len] = b;
                len += 1;
            }
        }
        // SAFETY: writing our stack buffer to stderr, then leaving without unwinding.
        unsafe {
            libc::write(2, msg.as_ptr().cast(), len);
            libc::_exit(125);
        }
    }
    // SAFETY: installing a handler that only does async-signal-safe work.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = report;
        sa.sa_sigaction = handler as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
    }
}
