//! Each platform end to end: a stub runs hand-assembled code from the memory file, and its
//! system calls and faults come back as events.

use platform::ptrace::PtracePlatform;
use platform::systrap::SystrapPlatform;
use platform::{Event, Options, Platform, Prot, Registers};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn memfd_with(code: &[u8]) -> OwnedFd {
    // SAFETY: memfd_create with a static NUL-terminated name; the result is a new fd we own.
    let fd = unsafe { libc::memfd_create(c"test-memory".as_ptr(), 0) };
    assert!(fd >= 0);
    // SAFETY: fd is a fresh descriptor owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut f = std::fs::File::from(fd.try_clone().unwrap());
    f.write_all(code).unwrap();
    f.set_len(2 * 4096).unwrap();
    fd
}

fn platform(kind: &str, mem: &OwnedFd) -> Box<dyn Platform> {
    let opts = Options { memory_fd: mem.as_raw_fd(), pin_cpu: true, patching: true };
    match kind {
        "ptrace" => Box::new(PtracePlatform::new(opts).unwrap()),
        _ => Box::new(SystrapPlatform::new(opts).unwrap()),
    }
}

const PLATFORMS: [&str; 2] = ["ptrace", "systrap"];

fn run(kind: &str, code: &[u8]) -> (Vec<(u64, [u64; 6])>, Event) {
    let mem = memfd_with(code);
    let p = platform(kind, &mem);
    let (mut asp, mut ctx) = p.new_address_space().unwrap();
    asp.map(0x400000, 4096, Prot { read: true, write: false, exec: true }, 0).unwrap();
    asp.map(0x401000, 4096, Prot::RW, 4096).unwrap();
    let mut regs = Registers::new_user(0x400000, 0x402000);
    let mut calls = Vec::new();
    loop {
        let ev = ctx.switch(&mut regs).unwrap();
        if ev != Event::Syscall {
            return (calls, ev);
        }
        calls.push((regs.syscall_nr(), regs.syscall_args()));
        if regs.syscall_nr() == 60 {
            return (calls, ev);
        }
        regs.set_return(1234);
    }
}

#[test]
fn syscalls_are_stopped_not_executed() {
    // mov $39,%eax; syscall; mov %rax,%rdi; mov $60,%eax; syscall
    let code = [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x48, 0x89, 0xc7, 0xb8, 60, 0, 0, 0, 0x0f, 0x05];
    for kind in PLATFORMS {
        let (calls, _) = run(kind, &code);
        assert_eq!(calls.len(), 2, "{kind}");
        assert_eq!(calls[0].0, 39, "{kind}");
        assert_eq!(calls[1].0, 60, "{kind}");
        assert_eq!(calls[1].1[0], 1234, "{kind}: the emulated getpid result reached the guest");
    }
}

#[test]
fn faults_are_events() {
    // mov 0x10,%rax  (read of an unmapped address)
    let code = [0x48, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0];
    for kind in PLATFORMS {
        match run(kind, &code).1 {
            Event::Fault(f) => {
                assert_eq!(f.signo, libc::SIGSEGV, "{kind}");
                assert_eq!(f.addr, 0x10, "{kind}");
            }
            other => panic!("{kind}: expected a fault, got {other:?}"),
        }
    }
}

#[test]
fn writes_to_read_only_memory_fault_with_accerr() {
    // movb $1, 0x400000 (the code page, mapped read+exec)
    let code = [0xc6, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00, 0x01];
    for kind in PLATFORMS {
        match run(kind, &code).1 {
            Event::Fault(f) => {
                assert_eq!(f.signo, libc::SIGSEGV, "{kind}");
                assert_eq!(f.code, 2, "{kind}: SEGV_ACCERR");
            }
            other => panic!("{kind}: expected a fault, got {other:?}"),
        }
    }
}

#[test]
fn fpu_state_round_trips() {
    let code = [0xb8, 60, 0, 0, 0, 0x0f, 0x05];
    for kind in PLATFORMS {
        let mem = memfd_with(&code);
        let p = platform(kind, &mem);
        let (mut asp, mut ctx) = p.new_address_space().unwrap();
        asp.map(0x400000, 4096, Prot { read: true, write: false, exec: true }, 0).unwrap();
        let st = ctx.fpu_state().unwrap();
        assert!(st.0.len() >= 512, "{kind}");
        ctx.set_fpu_state(&st).unwrap();
        assert_eq!(ctx.fpu_state().unwrap(), st, "{kind}");
    }
}
