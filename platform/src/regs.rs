//! Guest register state: the general registers as ptrace lays them out, and the XSAVE area.

/// The general-purpose registers of an x86-64 thread (`struct user_regs_struct`).
#[derive(Clone, Copy)]
pub struct Registers(pub libc::user_regs_struct);

impl Default for Registers {
    fn default() -> Self {
        Registers(zeroed_regs())
    }
}

fn zeroed_regs() -> libc::user_regs_struct {
    libc::user_regs_struct {
        r15: 0, r14: 0, r13: 0, r12: 0, rbp: 0, rbx: 0, r11: 0, r10: 0, r9: 0, r8: 0, rax: 0,
        rcx: 0, rdx: 0, rsi: 0, rdi: 0, orig_rax: 0, rip: 0, cs: 0, eflags: 0, rsp: 0, ss: 0,
        fs_base: 0, gs_base: 0, ds: 0, es: 0, fs: 0, gs: 0,
    }
}

impl std::fmt::Debug for Registers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.0;
        write!(
            f,
            "rip={:#x} rsp={:#x} rax={:#x} orig_rax={:#x} rdi={:#x} rsi={:#x} rdx={:#x} r10={:#x} r8={:#x} r9={:#x}",
            r.rip, r.rsp, r.rax, r.orig_rax, r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9
        )
    }
}

impl Registers {
    /// The registers of a fresh 64-bit user thread about to run at `ip` with stack `sp`:
    /// Linux's user code and data selectors, interrupts enabled, everything else zero.
    pub fn new_user(ip: u64, sp: u64) -> Registers {
        let mut r = zeroed_regs();
        r.rip = ip;
        r.rsp = sp;
        r.cs = 0x33; // __USER_CS
        r.ss = 0x2b; // __USER_DS
        r.eflags = 0x202; // IF, and the always-one bit 1
        r.orig_rax = u64::MAX;
        Registers(r)
    }

    /// The syscall number at a syscall stop.
    pub fn syscall_nr(&self) -> u64 {
        self.0.orig_rax
    }

    /// The six syscall arguments (rdi, rsi, rdx, r10, r8, r9).
    pub fn syscall_args(&self) -> [u64; 6] {
        let r = &self.0;
        [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9]
    }

    /// Sets the value the guest's `syscall` returns.
    pub fn set_return(&mut self, v: u64) {
        self.0.rax = v;
    }

    /// Instruction pointer.
    pub fn ip(&self) -> u64 {
        self.0.rip
    }

    /// Stack pointer.
    pub fn sp(&self) -> u64 {
        self.0.rsp
    }
}

/// The XSAVE area of a thread (legacy FXSAVE region first), as PTRACE_GETREGSET NT_X86_XSTATE
/// returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FpuState(pub Vec<u8>);
