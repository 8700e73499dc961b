//! The systrap platform: guest system calls arrive as SIGSYS inside the stub, without ptrace.
//!
//! Each stub runs under a seccomp filter that returns SECCOMP_RET_TRAP for every system call
//! not issued from the stub's own code page. The kernel then delivers SIGSYS to a small
//! position-independent handler in that page, on an alternate signal stack that lives in a
//! context file shared with the Sentry. The handler publishes the event in the context page and
//! waits; the Sentry reads and edits the registers right in the signal frame (the ucontext and
//! its XSAVE area are in shared memory), answers, and the handler returns with rt_sigreturn,
//! which loads the edited registers into the guest. Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
//! SIGTRAP) take the same path.
//!
//! Hand-offs spin first and sleep on a futex after a while: while the guest makes system calls
//! in quick succession, neither side sleeps (a cross-CPU hand-off by spinning costs ~0.15 us
//! where a futex wake of a sleeping vCPU costs tens of microseconds); an idle guest costs
//! nothing. Spinners yield now and then, so that a thread waiting for their CPU (another
//! process's Sentry thread or stub) runs; a Sentry thread about to sleep in a call it serves
//! (an empty pipe, a wait) tells the stub, which then yields at every turn and sleeps sooner
//! (sleeping at once made a pipe ping-pong 54 us where yielding waits make it 8: the other
//! side's answer comes within microseconds, and a sleeping stub costs a vCPU wake-up to
//! reach). Address-space operations are commands the Sentry writes into the context page and
//! the stub executes from its code page, the only place its filter lets system calls through.
//!
//! Guest threads are threads of the stub process. Each has a slot of the context file: its
//! context page, then its signal stack. Slots are aligned to their size, so the handler finds
//! its own slot from its stack pointer. A new thread is cloned by an existing one on the
//! Sentry's request (a CLONE command) and starts by setting up its signal stack and mask from
//! its slot, then traps once to say it is ready.
//!
//! Stub processes come from a factory: a stub that never runs a guest, whose FORK command
//! clones it (a tiny address space: the stub region) as a child of the Sentry; the clone maps
//! its own context from the context file, where every stub's context lives, and traps once.
//! Only the first stub and the factory are clones of the Sentry itself, which copy and then
//! strip the Sentry's address space, and lock it meanwhile. The stub of a process that ended
//! goes back to the pool, emptied, for the next process (StubPool::recycle): a fork loop makes
//! and kills no stub.
//!
//! The context file is writable by guest code (it is in the guest's address space), so the
//! Sentry treats everything in it as untrusted: pointers are bounds-checked before use. So is
//! the stub's code reachable by a jump: a stub that runs a guest adds GUEST_FILTER to its
//! filter, so that the calls only a starting stub makes reach the Sentry from there too.

use std::io;
use std::ops::Range;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::stub::{self, Allowed, ChildArgs};
use crate::{AddressSpace, Context, Event, FaultInfo, FpuState, NewAddressSpace, NewThread, Options, Platform, PlatformError, Prot, Registers, PAGE_SIZE};

/// One thread's slot of the context file: its context page, then its signal stack. A power of
/// two (the handler masks its stack pointer with it), 64 KiB as in the assembly below.
const SLOT_SIZE: u64 = 16 * PAGE_SIZE;
/// Guest threads per address space at most.
const MAX_THREADS: usize = 256;
const CONTEXT_SIZE: u64 = SLOT_SIZE * MAX_THREADS as u64;
/// Layout of the stub region: the code page (padded to a slot), then the context file.
const REGION_SIZE: u64 = SLOT_SIZE + CONTEXT_SIZE;

/// Offsets in the context page (shared with the assembly below).
const OFF_STATE: usize = 0;
const OFF_SENTRY_SLEEPING: usize = 4;
const OFF_STUB_SLEEPING: usize = 8;
const OFF_STUB_SPIN: usize = 12;
const OFF_SIGNO: usize = 16;
const OFF_SIGINFO: usize = 24;
const OFF_UCONTEXT: usize = 32;
const OFF_CMD_NR: usize = 40;
const OFF_CMD_ARGS: usize = 48;
const OFF_CMD_RESULT: usize = 96;
/// For the FORK command (the factory's slot): the context file's descriptor and the Sentry's
/// pid, which the new stub checks is its parent.
const OFF_FORK_FD: usize = 104;
const OFF_FORK_PARENT: usize = 112;
/// A new thread's stack_t (for sigaltstack) and signal mask, written before the clone.
const OFF_ALTSTACK: usize = 128;
const OFF_MASK: usize = 160;
/// The thread's host tid while it lives: the kernel clears it (and wakes it) at its exit.
const OFF_TID: usize = 168;
/// Where a new thread's stack pointer starts (it pushes nothing before its signal stack is set).
const CHILD_SP: u64 = 2048;
/// The slot's own stub address: the fast path finds the slot through the GS base.
const OFF_SELF: usize = 176;
/// The platform's cookie: a patched site's entry takes the fast path only when the word at
/// this offset from the GS base holds it (the guest may have a GS base of its own).
const OFF_COOKIE: usize = 184;
/// A kick that came while the Sentry had the fast path's call, to report before the guest runs.
const OFF_KICKED: usize = 192;
/// Set while the Sentry thread serving the slot's call sleeps in it (a read of an empty pipe,
/// a wait): the stub yields its CPU at every turn of its spin, and sleeps after fewer turns.
const OFF_SENTRY_BLOCKED: usize = 196;
/// Where a thread CPU-time command leaves its timespec.
const OFF_CPU_TIME: usize = 208;
/// The fast path's frame: a ucontext whose registers the fast path fills (no FPU state).
const OFF_FAST_UC: usize = 1024;
/// OFF_SIGNO's values for the fast path's events (the handler stores signal numbers).
const FAST_SYSCALL: u64 = 0x1000;
const FAST_KICK: u64 = 0x1001;
// The assembly below uses these offsets as numbers: the fast frame's rsp, rip and eflags, its
// FPU pointer, its siginfo, and the fast path's stack (the slot's context page, below the
// signal stack).
const _: () = {
    let gregs = OFF_FAST_UC + UC_MCONTEXT as usize;
    assert!(gregs == 1064 && gregs + 8 * 15 == 1184 && gregs + 8 * 16 == 1192 && gregs + 8 * 17 == 1200);
    assert!(gregs + MC_FPSTATE == 1248 && OFF_FAST_UC + UC_SIZE as usize <= 1536 && OFF_FAST_SI + 128 <= CHILD_SP as usize);
    assert!(OFF_SELF == 176 && OFF_KICKED == 192 && OFF_SIGNO == 16 && OFF_UCONTEXT == 32);
};
/// Where the handler puts a siginfo of its own (a kick it reports late).
const OFF_FAST_SI: usize = 1536;

/// The context page's state word: who owns the page and what happened. 0 is RUNNING: the
/// guest runs, or the stub handles a command.
const STATE_EVENT: u32 = 1;
const STATE_RESUME: u32 = 2;
const STATE_COMMAND: u32 = 3;
const STATE_DONE: u32 = 4;
const STATE_CLONE: u32 = 5;
/// The Sentry needs a signal frame for the fast path's event (for the FPU state).
const STATE_CONVERT: u32 = 6;
/// The factory makes a stub: a clone of itself with FORK_FLAGS that puts its own context
/// (the context file at the offset in the sixth argument) over the factory's.
const STATE_FORK: u32 = 7;
/// Several commands in one hand-off: OFF_CMD_NR holds their count, OFF_BATCH the calls (the
/// number and six arguments each). The stub stops at the first failure and leaves how many
/// succeeded in OFF_CMD_ARGS, the last result in OFF_CMD_RESULT.
const STATE_BATCH: u32 = 8;
const OFF_BATCH: usize = 2048;
const BATCH_ENTRY: usize = 56;
/// The calls in one batch at most: they fit between OFF_BATCH and the fast path's stack at the
/// top of the context page.
const BATCH_MAX: usize = 32;
const _: () = assert!(OFF_BATCH == CHILD_SP as usize && OFF_BATCH + BATCH_MAX * BATCH_ENTRY <= 3840 && BATCH_ENTRY == 56);

/// The flags of the factory's clone: a process, the Sentry's child (as if the Sentry had
/// cloned it, so the Sentry reaps it), untraced, whose tid the kernel clears at its exit.
const FORK_FLAGS: u64 = (libc::CLONE_PARENT | libc::CLONE_UNTRACED | libc::CLONE_CHILD_CLEARTID | libc::SIGCHLD) as u64;
const _: () = assert!(CONTEXT_SIZE == 0x100_0000, "the FORK assembly maps 16 MiB");

/// The flags of a stub thread's clone: a thread of the stub sharing everything, whose tid the
/// kernel writes into its slot at start and clears at exit.
const THREAD_FLAGS: u64 = (libc::CLONE_VM
    | libc::CLONE_FS
    | libc::CLONE_FILES
    | libc::CLONE_SIGHAND
    | libc::CLONE_THREAD
    | libc::CLONE_SYSVSEM
    | libc::CLONE_CHILD_SETTID
    | libc::CLONE_CHILD_CLEARTID) as u64;

/// System calls the stub's code may make: its hand-off, rt_sigreturn, the commands, a new
/// thread's start (clone, only with THREAD_FLAGS) and end, and a new stub's start (clone with
/// FORK_FLAGS, then prctl(PR_SET_PDEATHSIG), getppid and the filter GUEST_FILTER), a thread's
/// CPU clock, and the registration that lets [`Platform::membarrier`] reach the stub.
const STUB_ALLOWED_SYSCALLS: [Allowed; 17] = [
    Allowed(libc::SYS_futex as u32, None),
    Allowed(libc::SYS_seccomp as u32, Some(libc::SECCOMP_SET_MODE_FILTER as u64)),
    Allowed(libc::SYS_prctl as u32, Some(libc::PR_SET_PDEATHSIG as u64)),
    Allowed(libc::SYS_getppid as u32, None),
    Allowed(libc::SYS_membarrier as u32, Some(crate::MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED)),
    Allowed(libc::SYS_clock_gettime as u32, Some(libc::CLOCK_THREAD_CPUTIME_ID as u64)),
    Allowed(libc::SYS_clone as u32, Some(FORK_FLAGS)),
    Allowed(libc::SYS_sched_yield as u32, None),
    Allowed(libc::SYS_rt_sigreturn as u32, None),
    Allowed(libc::SYS_mmap as u32, None),
    Allowed(libc::SYS_munmap as u32, None),
    Allowed(libc::SYS_mprotect as u32, None),
    Allowed(libc::SYS_arch_prctl as u32, None),
    Allowed(libc::SYS_sigaltstack as u32, None),
    Allowed(libc::SYS_rt_sigprocmask as u32, None),
    Allowed(libc::SYS_exit as u32, None),
    Allowed(libc::SYS_clone as u32, Some(THREAD_FLAGS)),
];

/// The filter every stub that runs a guest adds to the one above, once it has started: what
/// only the factory and a starting stub need (a new stub's clone, prctl, getppid, seccomp)
/// raises SIGSYS even from the stub's code, as every call from elsewhere does. A guest that
/// jumps to a `syscall` of the stub's code with such a call so asks the Sentry, which serves
/// it as the guest's own: a stub clone that no Sentry knows and that would outlive the
/// sandbox cannot be made. Words of a sock_filter each, kept in the stub's code page.
const GUEST_FILTER: [u64; 11] = {
    const fn ins(code: u32, jt: u8, jf: u8, k: u32) -> u64 {
        code as u64 | (jt as u64) << 16 | (jf as u64) << 24 | (k as u64) << 32
    }
    const LD_ABS: u32 = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    const JEQ: u32 = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
    const RET: u32 = libc::BPF_RET | libc::BPF_K;
    // Jumps count the instructions skipped: ALLOW is at 9, TRAP at 10.
    [
        ins(LD_ABS, 0, 0, 0), // nr
        ins(JEQ, 8, 0, libc::SYS_seccomp as u32),
        ins(JEQ, 7, 0, libc::SYS_prctl as u32),
        ins(JEQ, 6, 0, libc::SYS_getppid as u32),
        ins(JEQ, 0, 4, libc::SYS_clone as u32),
        ins(LD_ABS, 0, 0, 16), // args[0], low half
        ins(JEQ, 0, 3, THREAD_FLAGS as u32),
        ins(LD_ABS, 0, 0, 20), // args[0], high half
        ins(JEQ, 0, 1, (THREAD_FLAGS >> 32) as u32),
        ins(RET, 0, 0, libc::SECCOMP_RET_ALLOW),
        ins(RET, 0, 0, libc::SECCOMP_RET_TRAP),
    ]
};

/// The signals the stub's handler takes: traps, faults, and the Sentry's kick.
const HANDLED_SIGNALS: [i32; 7] = [libc::SIGSYS, libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, crate::KICK_SIGNAL];

/// Signal delivery on x86-64 requires a restorer.
const SA_RESTORER: u64 = 0x0400_0000;

/// How long the Sentry spins on the state word before sleeping on the futex, when the stub
/// runs on another CPU; and how many `pause` loops the stub spins (~45 us where a pause takes
/// 9 ns and a sched_yield 0.15 us: a call the Sentry takes tens of microseconds over, such as
/// a 64 KiB write, finds its stub awake, where waking a sleeping one on an idle vCPU costs
/// ~20 us; 800 loops made such writes 1.0-1.1 GiB/s, 3200 2.0-2.1). Every stub shares the
/// stubs' CPU, so spinners yield (below), and a stub whose call the Sentry sleeps in spins a
/// 64th as long.
const SENTRY_SPIN: Duration = Duration::from_micros(20);
const YIELD_AFTER: Duration = Duration::from_micros(10);
/// The stub yields every 32 spins past its first 64 (the assembly compares with
/// STUB_SPIN - 64): a stub of another process with its answer waits for this CPU no longer
/// (past the first 256 and every 64, a pipe ping-pong took 10.3-10.8 us; so, 7.8-8.0).
const _: () = assert!(STUB_SPIN - 64 == 3136);
const STUB_SPIN: u32 = 3200;
/// How often a sleeping Sentry thread checks that the stub is still alive.
const LIVENESS_PERIOD: libc::timespec = libc::timespec { tv_sec: 0, tv_nsec: 100_000_000 };

// The stub code. It must be position independent and fit in one page. Each thread's context
// page starts its slot. Entry points: offset 0 (`ud2`: the first trip into the handler), the
// handler at `systrap_handler`, the fast path at `systrap_fast` (patched sites jump there, see
// crate::patch), and the restorer (never used: the handler returns by itself, but x86-64
// signal delivery requires one).
//
// The handler finds its slot by masking its stack pointer (it runs on the thread's signal
// stack, inside the slot); the fast path, entered from guest code on the guest's stack, finds
// it through the GS base, which the Sentry keeps at the slot while the guest has none of its
// own. Both then wait in one loop (r12: the slot, ebx: 0 for a signal frame, 1 for the fast
// path's frame in the context page).
//
// The fast path runs with the handled signals unblocked, so the handler may interrupt it. Only
// the kick matters (faults there are reported as they are; the trap flag's SIGTRAP is
// ignored), and where it lands decides what it means:
// - phase A, before the event is published: the call is rewound to the entry's displaced
//   `syscall` (rip = rcx - 2, the guest's rsp back) and the kick reported from there; the
//   call then traps the slow way.
// - phase B, the Sentry owns the slot (serving the call, running commands): the kick is noted
//   in KICKED and the handler returns at once; phase C, or the handler after a conversion,
//   reports it before the guest runs again.
// - phase C, on the way back to the guest: the handler completes the return itself (the
//   guest's registers from the fast frame into its signal frame) and reports the kick.
// The Sentry may also turn a fast event into a signal frame (CONVERT: it needs the FPU state,
// which the fast path leaves in the registers): the loop executes `ud2` at `systrap_convert`,
// and the handler copies the fast frame's registers into its own frame.
std::arch::global_asm!(
    ".pushsection .text.systrap_stub,\"ax\",@progbits",
    ".p2align 12",
    ".globl systrap_stub_start",
    "systrap_stub_start:",
    "    ud2",
    ".p2align 4",
    "systrap_handler:",
    "    mov %rsp, %r12",
    "    and $-65536, %r12",
    "    xor %ebx, %ebx",
    "    mov 168(%rdx), %rax",            // the interrupted rip: inside the fast path?
    "    lea systrap_fast(%rip), %rcx",
    "    sub %rcx, %rax",
    "    cmp $(systrap_fast_end - systrap_fast), %rax",
    "    jae 30f",
    "    cmp $(systrap_convert - systrap_fast), %rax",
    "    je 35f",
    "    cmp $5, %edi",                   // SIGTRAP: the guest's trap flag; ignore it here
    "    je 34f",
    "    cmp $40, %edi",                  // other signals than the kick: report them as they are
    "    jne 30f",
    "    cmp $(systrap_fast_published - systrap_fast), %rax",
    "    jb 31f",
    "    cmp $(systrap_fast_exit - systrap_fast), %rax",
    "    jb 32f",
    "    cmp $(systrap_fast_exit_end - systrap_fast), %rax",
    "    jb 33f",
    "32:",                                // phase B: the Sentry owns the slot; note the kick
    "    cmpl $0, 0(%r12)",
    "    je 30f",                         // ...unless nobody does (not the fast path's doing)
    "    movl $1, 192(%r12)",
    "34:",
    "    add $8, %rsp",
    "    mov $15, %eax",
    "    syscall",
    "    ud2",
    "31:",                                // phase A: rewind to the displaced syscall
    "    test %rax, %rax",
    "    jz 36f",
    "    mov 1184(%r12), %rcx",
    "    mov %rcx, 160(%rdx)",
    "36:",
    "    mov 152(%rdx), %rcx",
    "    sub $2, %rcx",
    "    mov %rcx, 168(%rdx)",
    "    jmp 30f",
    "35:",                                // CONVERT: the fast frame becomes this signal frame
    "    cmp $4, %edi",
    "    jne 30f",
    "    call 38f",
    "    jmp 37f",                        // (a postponed kick stays noted)
    "33:",                                // phase C: finish the return, then report the kick
    "    call 38f",
    "30:",
    "    movl $0, 192(%r12)",             // KICKED: the Sentry checks signals after any event
    "37:",
    "    mov %rdi, 16(%r12)",
    "    mov %rsi, 24(%r12)",
    "    mov %rdx, 32(%r12)",
    "    mov $1, %eax",
    "    xchg %eax, 0(%r12)",             // state = EVENT, with a full barrier
    "    jmp systrap_loop",
    "38:",                                // the fast frame's 18 registers into the signal frame
    "    push %rdi",
    "    push %rsi",
    "    lea 1064(%r12), %rsi",
    "    lea 40(%rdx), %rdi",
    "    mov $18, %ecx",
    "    rep movsq",
    "    pop %rsi",
    "    pop %rdi",
    "    ret",
    ".p2align 4",
    // The fast path. On entry (from a patched site's entry): rax = the call's number, rcx = the
    // resume point, r11 free, GS base = this thread's slot, everything else the guest's.
    // Phase A only stores (GS-relative) and switches to the slot's stack: no register but rsp
    // and r11 and no flag changes, so the handler can rewind it.
    ".globl systrap_fast",
    "systrap_fast:",
    "    mov %rsp, %gs:1184",
    "    mov %gs:176, %rsp",
    "    lea 4096(%rsp), %rsp",
    "    pushfq",
    "    popq %gs:1200",
    "    mov %r8, %gs:1064",
    "    mov %r9, %gs:1072",
    "    mov %r10, %gs:1080",
    "    mov %r12, %gs:1096",
    "    mov %r13, %gs:1104",
    "    mov %r14, %gs:1112",
    "    mov %r15, %gs:1120",
    "    mov %rdi, %gs:1128",
    "    mov %rsi, %gs:1136",
    "    mov %rbp, %gs:1144",
    "    mov %rbx, %gs:1152",
    "    mov %rdx, %gs:1160",
    "    mov %rax, %gs:1168",
    "    mov %rcx, %gs:1176",
    "    mov %rcx, %gs:1192",
    "    mov %gs:1200, %r11",
    "    mov %r11, %gs:1088",             // r11 = rflags, as `syscall` leaves it
    "    movq $0, %gs:1248",              // no FPU state in this frame
    "    movl $0, %gs:192",
    "    movq $0x1000, %gs:16",           // FAST_SYSCALL
    "    mov %gs:176, %r11",
    "    lea 1024(%r11), %r11",
    "    mov %r11, %gs:32",               // the frame: the fast one
    "    mov $1, %r11d",
    "    xchg %r11d, %gs:0",              // state = EVENT
    "systrap_fast_published:",
    "    mov %gs:176, %r12",
    "    mov $1, %ebx",
    "systrap_loop:",
    "    cmpl $0, 4(%r12)",               // Sentry asleep? wake it
    "    je 3f",
    "    mov $202, %eax",
    "    mov %r12, %rdi",
    "    mov $1, %esi",                   // FUTEX_WAKE (shared: the Sentry maps the page too)
    "    mov $1, %edx",
    "    syscall",
    "3:",
    "    mov 12(%r12), %ecx",             // spin (the Sentry sets how long), then sleep
    "    inc %ecx",
    "4:",
    "    mov 0(%r12), %eax",
    "    cmp $2, %eax",
    "    je 6f",
    "    cmp $3, %eax",
    "    je 7f",
    "    cmp $5, %eax",
    "    je 8f",
    "    cmp $6, %eax",
    "    je 11f",
    "    cmp $7, %eax",
    "    je 15f",
    "    cmp $8, %eax",
    "    je 17f",
    "    pause",
    "    dec %ecx",
    "    jz 14f",
    "    cmpl $0, 196(%r12)",             // the Sentry sleeps in the call: yield at every
    "    je 2f",                          // loop, 1/64 as many, then sleep
    "    sub $63, %ecx",
    "    jbe 14f",
    "    jmp 13f",
    "2:",
    "    test $31, %ecx",                 // now and then, after the first 64 loops, let a
    "    jnz 4b",                         // thread waiting for this CPU run
    "    cmp $3136, %ecx",
    "    ja 4b",
    "13:",
    "    mov %ecx, %r13d",
    "    mov $24, %eax",                  // sched_yield
    "    syscall",
    "    mov %r13d, %ecx",
    "    jmp 4b",
    "14:",
    "    mov $1, %edx",
    "    xchg %edx, 8(%r12)",             // stub_sleeping = 1, full barrier
    "    mov 0(%r12), %edx",              // sleep only while the Sentry still owns the page
    "    cmp $1, %edx",
    "    je 9f",
    "    cmp $4, %edx",
    "    jne 5f",
    "9:",
    "    mov $202, %eax",
    "    mov %r12, %rdi",
    "    xor %esi, %esi",                 // FUTEX_WAIT on the value just read
    "    xor %r10, %r10",
    "    syscall",
    "5:",
    "    movl $0, 8(%r12)",
    "    jmp 3b",
    "6:",                                 // RESUME
    "    test %ebx, %ebx",
    "    jnz systrap_fast_exit",
    "    cmpl $0, 192(%r12)",             // a kick noted before a conversion: report it first
    "    jne 12f",
    "    movl $0, 0(%r12)",               // state = RUNNING, back to the guest
    "    add $8, %rsp",                   // as the `ret` into a restorer would
    "    mov $15, %eax",
    "    syscall",
    "    ud2",
    "12:",
    "    movl $0, 192(%r12)",
    "    movl $40, 1536(%r12)",           // a siginfo of the kick: signo, errno, SI_TKILL
    "    movl $0, 1540(%r12)",
    "    movl $-6, 1544(%r12)",
    "    lea 1536(%r12), %rax",
    "    mov %rax, 24(%r12)",
    "    movq $40, 16(%r12)",
    "    mov $1, %eax",
    "    xchg %eax, 0(%r12)",
    "    jmp systrap_loop",
    "7:",                                 // COMMAND: run one system call for the Sentry
    "    mov 40(%r12), %rax",
    "    mov 48(%r12), %rdi",
    "    mov 56(%r12), %rsi",
    "    mov 64(%r12), %rdx",
    "    mov 72(%r12), %r10",
    "    mov 80(%r12), %r8",
    "    mov 88(%r12), %r9",
    "    syscall",
    "10:",
    "    mov %rax, 96(%r12)",
    "    mov $4, %eax",
    "    xchg %eax, 0(%r12)",             // state = DONE
    "    jmp systrap_loop",
    "17:",                                // BATCH: the calls listed at 2048, count at 40
    "    mov 40(%r12), %r13",
    "    lea 2048(%r12), %r14",
    "    xor %r15d, %r15d",
    "    xor %eax, %eax",
    "18:",
    "    cmp %r13, %r15",
    "    jae 19f",
    "    mov 0(%r14), %rax",
    "    mov 8(%r14), %rdi",
    "    mov 16(%r14), %rsi",
    "    mov 24(%r14), %rdx",
    "    mov 32(%r14), %r10",
    "    mov 40(%r14), %r8",
    "    mov 48(%r14), %r9",
    "    syscall",
    "    cmp $-4095, %rax",               // a failure (-4095..-1) ends the batch
    "    jae 19f",
    "    inc %r15",
    "    add $56, %r14",
    "    jmp 18b",
    "19:",
    "    mov %r15, 48(%r12)",             // how many succeeded
    "    jmp 10b",                        // the last result, state = DONE
    "8:",                                 // CLONE: make a thread whose slot holds its stack
    "    mov 40(%r12), %rax",
    "    mov 48(%r12), %rdi",
    "    mov 56(%r12), %rsi",
    "    mov 64(%r12), %rdx",
    "    mov 72(%r12), %r10",
    "    mov 80(%r12), %r8",
    "    syscall",
    "    test %rax, %rax",
    "    jnz 10b",                        // the parent (or a failure): report it
    "    mov %rsp, %r12",                 // the child: its own slot
    "    and $-65536, %r12",
    "    lea 128(%r12), %rdi",            // sigaltstack(&slot.altstack, NULL)
    "    xor %esi, %esi",
    "    mov $131, %eax",
    "    syscall",
    "    mov $2, %edi",                   // rt_sigprocmask(SIG_SETMASK, &slot.mask, NULL, 8)
    "    lea 160(%r12), %rsi",
    "    xor %edx, %edx",
    "    mov $8, %r10d",
    "    mov $14, %eax",
    "    syscall",
    "    ud2",                            // ready: the first event
    "15:",                                // FORK: a new stub, a clone of this one (the factory)
    "    mov 104(%r12), %r13",            // the context file
    "    mov 112(%r12), %r14",            // the Sentry's pid
    "    mov 160(%r12), %r15",            // the new stub's signal mask
    "    mov 40(%r12), %rax",
    "    mov 48(%r12), %rdi",
    "    mov 56(%r12), %rsi",
    "    mov 64(%r12), %rdx",
    "    mov 72(%r12), %r10",
    "    mov 80(%r12), %r8",
    "    mov 88(%r12), %r9",
    "    syscall",
    "    test %rax, %rax",
    "    jnz 10b",                        // the factory (or a failure): report it
    "    mov %r12, %rdi",                 // the child: its context over the factory's
    "    mov $0x1000000, %esi",           // (CONTEXT_SIZE, r9: its offset in the file)
    "    mov $3, %edx",                   // PROT_READ | PROT_WRITE
    "    mov $0x11, %r10d",               // MAP_SHARED | MAP_FIXED
    "    mov %r13, %r8",
    "    mov $9, %eax",
    "    syscall",
    "    cmp %rax, %r12",
    "    jne 16f",
    "    mov $157, %eax",                 // prctl(PR_SET_PDEATHSIG, SIGKILL)
    "    mov $1, %edi",
    "    mov $9, %esi",
    "    syscall",
    "    mov $110, %eax",                 // getppid: the Sentry did not die before that
    "    syscall",
    "    cmp %rax, %r14",
    "    jne 16f",
    "    push %r15",                      // rt_sigprocmask(SIG_SETMASK, &mask, NULL, 8)
    "    mov $2, %edi",
    "    mov %rsp, %rsi",
    "    xor %edx, %edx",
    "    mov $8, %r10d",
    "    mov $14, %eax",
    "    syscall",
    "    jmp systrap_guest_entry",        // ready once it runs under GUEST_FILTER
    "16:",
    "    mov $60, %eax",                  // exit
    "    xor %edi, %edi",
    "    syscall",
    "11:",                                // CONVERT
    "    test %ebx, %ebx",
    "    jnz systrap_convert",
    "    mov $1, %eax",                   // a signal frame already: nothing to do
    "    xchg %eax, 0(%r12)",
    "    jmp systrap_loop",
    "systrap_convert:",
    "    ud2",
    // Phase C: back to the guest with the registers the Sentry left in the fast frame.
    "systrap_fast_exit:",
    "    movl $0, 0(%r12)",               // state = RUNNING
    "    cmpl $0, 192(%r12)",
    "    jne 13f",
    "    mov 1064(%r12), %r8",
    "    mov 1072(%r12), %r9",
    "    mov 1080(%r12), %r10",
    "    mov 1088(%r12), %r11",
    "    mov 1104(%r12), %r13",
    "    mov 1112(%r12), %r14",
    "    mov 1120(%r12), %r15",
    "    mov 1128(%r12), %rdi",
    "    mov 1136(%r12), %rsi",
    "    mov 1144(%r12), %rbp",
    "    mov 1152(%r12), %rbx",
    "    mov 1160(%r12), %rdx",
    "    mov 1168(%r12), %rax",
    "    mov 1176(%r12), %rcx",
    "    pushq 1200(%r12)",
    "    mov 1096(%r12), %r12",
    "    popfq",
    "    mov %gs:1184, %rsp",
    "    jmp *%gs:1192",
    "13:",                                // a kick came while the Sentry had the call
    "    movl $0, 192(%r12)",
    "    movq $0x1001, 16(%r12)",         // FAST_KICK, from the fast frame as it is
    "    mov $1, %eax",
    "    xchg %eax, 0(%r12)",
    "systrap_fast_exit_end:",
    "    jmp systrap_loop",
    "systrap_fast_end:",
    ".p2align 4",
    "systrap_restorer:",
    "    mov $15, %eax",
    "    syscall",
    "    ud2",
    "systrap_guest_entry:",              // seccomp(SECCOMP_SET_MODE_FILTER, SPEC_ALLOW,
    "    lea systrap_guest_filter(%rip), %rax", // &{len, GUEST_FILTER}), then the first
    "    push %rax",                      // event (at the start, as for the factory)
    "    push ${guest_filter_len}",
    "    mov $1, %edi",
    "    mov ${spec_allow}, %esi",
    "    mov %rsp, %rdx",
    "    mov $317, %eax",
    "    syscall",
    "    add $16, %rsp",
    "    test %rax, %rax",
    "    jz systrap_stub_start",
    "    mov $60, %eax",                  // exit(7), as a stub whose filter failed
    "    mov $7, %edi",
    "    syscall",
    ".p2align 3",
    "systrap_guest_filter:",
    "    .quad {f0}, {f1}, {f2}, {f3}, {f4}, {f5}, {f6}, {f7}, {f8}, {f9}, {f10}",
    ".globl systrap_stub_end",
    "systrap_stub_end:",
    ".set systrap_handler_offset, systrap_handler - systrap_stub_start",
    ".set systrap_restorer_offset, systrap_restorer - systrap_stub_start",
    ".set systrap_fast_offset, systrap_fast - systrap_stub_start",
    ".set systrap_guest_entry_offset, systrap_guest_entry - systrap_stub_start",
    ".globl systrap_handler_offset",
    ".globl systrap_restorer_offset",
    ".globl systrap_fast_offset",
    ".globl systrap_guest_entry_offset",
    ".popsection",
    guest_filter_len = const GUEST_FILTER.len(),
    spec_allow = const stub::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
    f0 = const GUEST_FILTER[0],
    f1 = const GUEST_FILTER[1],
    f2 = const GUEST_FILTER[2],
    f3 = const GUEST_FILTER[3],
    f4 = const GUEST_FILTER[4],
    f5 = const GUEST_FILTER[5],
    f6 = const GUEST_FILTER[6],
    f7 = const GUEST_FILTER[7],
    f8 = const GUEST_FILTER[8],
    f9 = const GUEST_FILTER[9],
    f10 = const GUEST_FILTER[10],
    options(att_syntax)
);

extern "C" {
    static systrap_stub_start: u8;
    static systrap_stub_end: u8;
    static systrap_handler_offset: u8;
    static systrap_restorer_offset: u8;
    static systrap_fast_offset: u8;
    static systrap_guest_entry_offset: u8;
}

/// The stub code as bytes, and where its entry points are in it.
struct StubCode {
    bytes: &'static [u8],
    handler: u64,
    restorer: u64,
    fast: u64,
    /// Where a stub that runs a guest starts: it adds GUEST_FILTER, then takes its first event.
    guest_entry: u64,
}

fn stub_code() -> StubCode {
    // SAFETY: the symbols delimit the assembly above, which is in this binary's text; the
    // offsets are absolute symbols whose addresses are the numbers themselves.
    unsafe {
        let start = &raw const systrap_stub_start;
        let end = &raw const systrap_stub_end;
        let len = end as usize - start as usize;
        assert!(len as u64 <= PAGE_SIZE, "the systrap stub code must fit in a page");
        StubCode {
            bytes: std::slice::from_raw_parts(start, len),
            handler: &raw const systrap_handler_offset as u64,
            restorer: &raw const systrap_restorer_offset as u64,
            fast: &raw const systrap_fast_offset as u64,
            guest_entry: &raw const systrap_guest_entry_offset as u64,
        }
    }
}

/// The systrap platform.
pub struct SystrapPlatform {
    opts: Options,
    spec: Arc<StubSpec>,
    pool: Arc<StubPool>,
}

/// What every stub of the platform is made from.
struct StubSpec {
    memory_fd: i32,
    region: u64,
    filter: Vec<libc::sock_filter>,
    /// Random; see OFF_COOKIE.
    cookie: u64,
    /// Whether the threads' GS base is their slot, for the fast path.
    patching: bool,
    contexts: ContextFile,
    /// Where the stubs of ended processes go back to (see StubPool::recycle).
    pool: std::sync::Weak<StubPool>,
}

/// The file every stub's context lives in, CONTEXT_SIZE bytes each at an index of its own (the
/// factory's clones take theirs with the descriptor they inherit). The Sentry maps it whole,
/// once: a stub's start and end change no mapping of the Sentry's (an unmap in a process of
/// many threads interrupts every CPU they ran on).
struct ContextFile {
    fd: OwnedFd,
    base: *mut u8,
    /// Indexes given back, and the next never used.
    free: Mutex<(Vec<u64>, u64)>,
}

// SAFETY: `base` is a shared mapping that lives as long as the ContextFile; each context in it
// is used by the one StubProcess it was allocated to.
unsafe impl Send for ContextFile {}
// SAFETY: as above; the allocator's state is behind a Mutex.
unsafe impl Sync for ContextFile {}

/// Stubs alive at once at most (the context file's size, sparse, over CONTEXT_SIZE).
const MAX_STUBS: u64 = 8192;

/// The pages of a context every stub uses, kept from one stub to the next: the first
/// thread's context page and the top of its signal stack, where signal frames go. In order.
const KEPT_PAGES: [Range<u64>; 2] = [0..PAGE_SIZE, SLOT_SIZE - 2 * PAGE_SIZE..SLOT_SIZE];

impl ContextFile {
    fn new() -> Result<ContextFile, PlatformError> {
        // SAFETY: a static name; the result is a new descriptor or -1.
        let raw = unsafe { libc::memfd_create(c"sandbox-systrap-contexts".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(PlatformError::last_os("memfd_create of the stubs' context file"));
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let size = (MAX_STUBS * CONTEXT_SIZE) as usize;
        // SAFETY: sizing our own memfd.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), size as libc::off_t) } != 0 {
            return Err(PlatformError::last_os("sizing the stubs' context file"));
        }
        // SAFETY: a new shared mapping of our memfd at an address the kernel picks.
        let base = unsafe { libc::mmap(std::ptr::null_mut(), size, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED | libc::MAP_NORESERVE, fd.as_raw_fd(), 0) };
        if base == libc::MAP_FAILED {
            return Err(PlatformError::last_os("mapping the stubs' context file"));
        }
        // SAFETY: advising on the mapping just made: stubs cloned from the Sentry do not copy it.
        unsafe { libc::madvise(base, size, libc::MADV_DONTFORK) };
        Ok(ContextFile { fd, base: base.cast(), free: Mutex::new((Vec::new(), 0)) })
    }

    /// A context for a new stub: its offset in the file and the Sentry's pointer to it (zeros).
    fn allocate(&self) -> Result<(u64, *mut u8), PlatformError> {
        let index = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            match free.0.pop() {
                Some(i) => i,
                None if free.1 < MAX_STUBS => {
                    free.1 += 1;
                    free.1 - 1
                }
                None => return Err(PlatformError::Host { op: "a stub context (all in use)", source: io::Error::from_raw_os_error(libc::EAGAIN) }),
            }
        };
        let off = index * CONTEXT_SIZE;
        // SAFETY: off + CONTEXT_SIZE <= the mapping's size (index < MAX_STUBS).
        let ctx = unsafe { self.base.add(off as usize) };
        for page in KEPT_PAGES {
            // SAFETY: the page lies in this context (KEPT_PAGES are inside its first slot),
            // which no stub uses now.
            unsafe { std::ptr::write_bytes(ctx.add(page.start as usize), 0, (page.end - page.start) as usize) };
        }
        Ok((off, ctx))
    }

    /// Gives back the context at `off`: its pages are freed, but for those every stub touches
    /// (KEPT_PAGES, zeroed when the context is next given out: a page new to the host costs
    /// microseconds of faults and zeroing).
    fn release(&self, off: u64) {
        let mut from = 0;
        for (start, end) in KEPT_PAGES.iter().map(|p| (p.start, p.end)).chain(std::iter::once((CONTEXT_SIZE, CONTEXT_SIZE))) {
            // SAFETY: punching our own memfd, inside this context.
            unsafe { libc::fallocate(self.fd.as_raw_fd(), libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE, (off + from) as libc::off_t, (start - from) as libc::off_t) };
            from = end;
        }
        self.free.lock().unwrap_or_else(|e| e.into_inner()).0.push(off / CONTEXT_SIZE);
    }
}

impl Drop for ContextFile {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping made in `new`; no stub (which holds the spec that
        // holds this) is left to use it.
        unsafe { libc::munmap(self.base.cast(), (MAX_STUBS * CONTEXT_SIZE) as usize) };
    }
}

/// Stubs made ahead of need by a Sentry thread of their own, so that fork does not wait for
/// one. A stub dies with the host thread that is its parent (PR_SET_PDEATHSIG): the filler,
/// which made the factory whose clones take the factory's parent, lives as long as the Sentry.
#[derive(Default)]
struct StubPool {
    ready: Mutex<Vec<StubProcess>>,
    cv: std::sync::Condvar,
    filling: std::sync::OnceLock<()>,
}

/// Stubs kept ready: the filler makes more once no more than LOW_WATER are left, up to
/// FILL_TO, and an ended process's stub comes back while fewer than POOL_SIZE are ready. A
/// fork loop then takes back the stubs of earlier children and makes none.
const FILL_TO: usize = 2;
const POOL_SIZE: usize = 4;
const LOW_WATER: usize = 1;
/// How long the clean-up of an ended process's stub may take before the stub is killed.
const RECYCLE_WAIT: Duration = Duration::from_millis(20);

impl StubPool {
    fn lock(&self) -> MutexGuard<'_, Vec<StubProcess>> {
        self.ready.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the filler thread, once.
    fn start(self: &Arc<Self>, spec: &Arc<StubSpec>) {
        self.filling.get_or_init(|| {
            let (pool, spec) = (self.clone(), spec.clone());
            let spawned = std::thread::Builder::new().name("stub-pool".into()).spawn(move || pool.fill(&spec));
            if let Err(e) = spawned {
                tracing::warn!("no stub pool: {e}");
            }
        });
    }

    /// A ready stub, if any is (and still alive); the filler is told when few are left.
    fn take(&self) -> Option<StubProcess> {
        let mut ready = self.lock();
        let taken = ready.pop();
        if ready.len() <= LOW_WATER {
            self.cv.notify_all();
        }
        drop(ready);
        taken.filter(|p| p.slot(0).check_alive().is_ok())
    }

    /// Takes back the stub of a process that ended, if the pool has room and the stub can
    /// serve another: it outlives the thread that made it (`lasting`), and has one thread, its
    /// first (the one PR_SET_PDEATHSIG applies to), waiting for the Sentry. Its guest mappings
    /// go, its event becomes a signal frame (as a new stub's first is), and its CPU clocks are
    /// noted, so that the next process counts only its own time.
    ///
    /// What else the guest could have changed in its stub is what any guest can do to any
    /// other through the known gap in the stub's filter (README): map the memory or context
    /// file anywhere; a reused stub gives it nothing it has not.
    fn recycle(&self, p: &mut StubProcess) -> bool {
        let alone = {
            let slots = p.slots();
            p.lasting
                && slots[0].used
                && slots[0].tid == p.pid
                && slots[0].driver != 0
                && slots.iter().skip(1).all(|s| !s.used)
        };
        if !alone || self.lock().len() >= POOL_SIZE {
            return false;
        }
        // A stub the guest left unable to answer (it can scribble on its context page) is not
        // waited for long.
        let first = Slot { deadline: Some(Instant::now() + RECYCLE_WAIT), ..p.slot(0) };
        if !matches!(first.atomic32(OFF_STATE).load(Ordering::SeqCst), STATE_EVENT | STATE_DONE) {
            return false;
        }
        first.atomic32(OFF_STUB_SPIN).store(0, Ordering::SeqCst);
        let region = p.spec.region;
        let cleaned = (|| {
            first.command(libc::SYS_munmap, [stub::MMAP_MIN_ADDR, region - stub::MMAP_MIN_ADDR, 0, 0, 0, 0], "munmap in the stub")?;
            first.hand_over(STATE_CONVERT);
            first.wait_for(STATE_EVENT)?;
            let thread = first.thread_cpu_time()?;
            let mut process = [0u64; 3];
            for (which, b) in process.iter_mut().enumerate() {
                *b = crate::process_cpu_clock(p.pid, which as i32)?;
            }
            Ok::<_, PlatformError>((thread, process))
        })();
        let (thread_base, cpu_base) = match cleaned {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!("a stub not reused: {e}");
                return false;
            }
        };
        first.init_fast_path();
        first.atomic32(OFF_SENTRY_BLOCKED).store(0, Ordering::SeqCst);
        let mut slots = vec![SlotUse::default(); MAX_THREADS];
        slots[0] = SlotUse { used: true, tid: p.pid, driver: 0, cpu_base: thread_base };
        let mut ready = self.lock();
        if ready.len() >= POOL_SIZE {
            return false;
        }
        ready.push(StubProcess { pid: p.pid, ctx: p.ctx, ctx_off: p.ctx_off, spec: p.spec.clone(), spin: Duration::ZERO, slots: Mutex::new(slots), cpu_base, lasting: true });
        true
    }

    /// The filler: keeps LOW_WATER to FILL_TO stubs ready, cloned by a factory it keeps (a new
    /// one when the last fails), or by itself when no factory can be had.
    fn fill(&self, spec: &Arc<StubSpec>) {
        let mut factory: Option<StubProcess> = None;
        loop {
            let mut ready = self.lock();
            if ready.len() >= FILL_TO {
                while ready.len() > LOW_WATER {
                    ready = self.cv.wait(ready).unwrap_or_else(|e| e.into_inner());
                }
            }
            drop(ready);
            if factory.is_none() {
                factory = StubProcess::spawn(spec, false).map_err(|e| tracing::warn!("no stub factory: {e}")).ok();
            }
            let made = match &factory {
                Some(f) => StubProcess::fork_from(f),
                None => StubProcess::spawn(spec, true),
            }
            .map(|mut p| {
                p.lasting = true;
                p
            });
            if let (Err(e), Some(_)) = (&made, &factory) {
                tracing::warn!("the stub factory failed: {e}");
                factory = None;
            }
            match made {
                Ok(p) => self.lock().push(p),
                Err(e) => {
                    tracing::warn!("making a stub ahead: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }
}

impl SystrapPlatform {
    /// Reserves the stub region and prepares the filter. Fails where seccomp traps are not
    /// available; `--platform auto` then falls back to ptrace.
    pub fn new(opts: Options) -> Result<SystrapPlatform, PlatformError> {
        stub::all_cpus();
        let region = stub::reserve_region(REGION_SIZE, SLOT_SIZE)?;
        let filter = stub::stub_filter(region..region + PAGE_SIZE, &STUB_ALLOWED_SYSCALLS);
        let mut cookie = [0u8; 8];
        // SAFETY: getrandom writes at most 8 bytes into our buffer.
        if unsafe { libc::getrandom(cookie.as_mut_ptr().cast(), 8, 0) } != 8 {
            return Err(PlatformError::last_os("getrandom for the systrap cookie"));
        }
        let pool = Arc::<StubPool>::default();
        let spec = Arc::new(StubSpec {
            memory_fd: opts.memory_fd,
            region,
            filter,
            cookie: u64::from_ne_bytes(cookie),
            patching: opts.patching,
            contexts: ContextFile::new()?,
            pool: Arc::downgrade(&pool),
        });
        Ok(SystrapPlatform { opts, spec, pool })
    }
}

impl Platform for SystrapPlatform {
    fn name(&self) -> &'static str {
        "systrap"
    }

    fn user_range(&self) -> Range<u64> {
        stub::MMAP_MIN_ADDR..self.spec.region
    }

    fn new_address_space(&self) -> Result<NewAddressSpace, PlatformError> {
        let mut p = match self.pool.take() {
            Some(p) => p,
            None => StubProcess::spawn(&self.spec, true)?,
        };
        // Filling starts after the first stub is made: the sandbox's start does not wait for it.
        self.pool.start(&self.spec);
        p.bind(self.opts.pin_cpu);
        let p = Arc::new(p);
        Ok((Box::new(SystrapAddressSpace { p: p.clone() }), Box::new(SystrapContext::new(p, 0))))
    }

    fn fast_path(&self) -> Option<crate::patch::FastPath> {
        self.spec.patching.then_some(crate::patch::FastPath { trampoline: self.spec.region + stub_code().fast, cookie: self.spec.cookie, cookie_offset: OFF_COOKIE as u32 })
    }
}

thread_local! {
    /// The slot whose call the calling Sentry thread serves (its stub process and index), for
    /// [`blocking`].
    static SERVING: std::cell::RefCell<(std::sync::Weak<StubProcess>, usize)> = const { std::cell::RefCell::new((std::sync::Weak::new(), 0)) };
}

/// The calling Sentry thread is about to sleep in the call it serves: the stub thread that
/// made the call spins for the answer yielding its CPU to others at every turn, and sleeps
/// sooner. The next hand-over clears it. Nothing when the thread serves no systrap stub.
pub fn blocking() {
    SERVING.with(|s| {
        let (p, i) = &*s.borrow();
        if let Some(p) = p.upgrade() {
            p.slot(*i).atomic32(OFF_SENTRY_BLOCKED).store(1, Ordering::Relaxed);
        }
    });
}

/// Who uses a slot of the context file.
#[derive(Clone, Copy, Default)]
struct SlotUse {
    /// A stub thread lives in it.
    used: bool,
    /// That thread's host tid.
    tid: i32,
    /// The Sentry thread that drives it (0: none yet).
    driver: i32,
    /// Its thread CPU clock when the stub was last given to a process (see StubPool::recycle).
    cpu_base: Duration,
}

/// One stub process (a guest address space), its threads' slots, and the Sentry's mapping of
/// its context file.
struct StubProcess {
    pid: i32,
    /// The Sentry's mapping of the stub's context, and its offset in the context file.
    ctx: *mut u8,
    ctx_off: u64,
    spec: Arc<StubSpec>,
    /// How long the Sentry spins before sleeping on the first thread (zero when both share a
    /// CPU). Other threads never spin: many of them on few CPUs would only burn time.
    spin: Duration,
    slots: Mutex<Vec<SlotUse>>,
    /// The stub's process CPU clocks (CPUCLOCK_PROF, _VIRT, _SCHED, ns) when it was last given
    /// to a process: what earlier processes used. Zeros for a new stub.
    cpu_base: [u64; 3],
    /// Made by a thread that lives as long as the Sentry (the pool's filler), so that it may
    /// outlive its process (PR_SET_PDEATHSIG kills a stub with the thread that made it).
    lasting: bool,
}

// SAFETY: `ctx` is a shared mapping owned by the StubProcess for its whole life. Each slot of
// it is used by one Sentry thread at a time (the one driving the slot's stub thread, or the one
// creating the thread while its parent waits), and the words shared with the stub are atomics.
unsafe impl Send for StubProcess {}
// SAFETY: as above.
unsafe impl Sync for StubProcess {}

impl StubProcess {
    /// A new stub, set up and stripped, waiting in its handler; no Sentry thread drives it yet.
    /// A clone of the Sentry: the first stub, the factory, and any made when the factory fails.
    /// A stub for a `guest` (not the factory) runs under GUEST_FILTER too.
    fn spawn(p: &Arc<StubSpec>, guest: bool) -> Result<StubProcess, PlatformError> {
        let (ctx_off, ctx) = p.contexts.allocate()?;
        let code = stub_code();
        let prog = libc::sock_fprog { len: p.filter.len() as u16, filter: p.filter.as_ptr().cast_mut() };
        let ctx_fd = p.contexts.fd.as_raw_fd();
        let mut fds = [p.memory_fd, ctx_fd];
        fds.sort_unstable();
        let mut args = stub::child_args(fds, p.region, code.bytes, &prog);
        let entry = if guest { code.guest_entry } else { 0 };
        args.extra = [ctx_fd as u64, p.region + code.handler, p.region + code.restorer, ctx_off, p.region + entry];
        let pid = match stub::clone_stub(&args, stub_child) {
            Ok(pid) => pid,
            Err(e) => {
                p.contexts.release(ctx_off);
                return Err(e);
            }
        };
        let stub = StubProcess::started(p, pid, ctx_off, ctx)?;
        // Strip the copy of the Sentry: everything but the stub region goes.
        let first = stub.slot(0);
        first.command(libc::SYS_munmap, [0, p.region, 0, 0, 0, 0], "munmap in the stub")?;
        let end = p.region + REGION_SIZE;
        if end < stub::TASK_SIZE {
            first.command(libc::SYS_munmap, [end, stub::TASK_SIZE - end, 0, 0, 0, 0], "munmap in the stub")?;
        }
        Ok(stub)
    }

    /// A new stub cloned by `factory` (a stub made by [`spawn`](Self::spawn) that never runs
    /// a guest): its address space is the stub region alone, so the clone copies next to
    /// nothing, and the Sentry's own memory is not locked while it is made.
    fn fork_from(factory: &StubProcess) -> Result<StubProcess, PlatformError> {
        let spec = &factory.spec;
        let (ctx_off, ctx) = spec.contexts.allocate()?;
        let f = factory.slot(0);
        f.atomic64(OFF_FORK_FD).store(spec.contexts.fd.as_raw_fd() as u64, Ordering::Relaxed);
        f.atomic64(OFF_FORK_PARENT).store(u64::from(std::process::id()), Ordering::Relaxed);
        f.atomic64(OFF_MASK).store(stub_mask(), Ordering::Relaxed);
        let child_tid = factory.spec.region + SLOT_SIZE + OFF_TID as u64;
        let pid = match f.run(STATE_FORK, libc::SYS_clone, [FORK_FLAGS, 0, 0, child_tid, 0, ctx_off], "clone of the stub factory") {
            Ok(pid) => pid as i32,
            Err(e) => {
                spec.contexts.release(ctx_off);
                return Err(e);
            }
        };
        StubProcess::started(spec, pid, ctx_off, ctx)
    }

    /// The stub just started as `pid` with its context at `ctx`, once its handler has taken
    /// the first event (the `ud2` at the start of the code).
    fn started(spec: &Arc<StubSpec>, pid: i32, ctx_off: u64, ctx: *mut u8) -> Result<StubProcess, PlatformError> {
        let mut slots = vec![SlotUse::default(); MAX_THREADS];
        slots[0] = SlotUse { used: true, tid: pid, ..SlotUse::default() };
        let p = StubProcess {
            pid,
            ctx,
            ctx_off,
            spec: spec.clone(),
            spin: Duration::ZERO,
            slots: Mutex::new(slots),
            cpu_base: [0; 3],
            lasting: false,
        };
        let first = p.slot(0);
        first.init_fast_path();
        first.atomic32(OFF_TID).store(pid as u32, Ordering::SeqCst);
        first.wait_for(STATE_EVENT)?;
        let signo = first.word(OFF_SIGNO);
        if signo != libc::SIGILL as u64 {
            return Err(PlatformError::Unexpected { pid, what: format!("signal {signo} during setup") });
        }
        // So that the platform's barrier reaches the stub by IPI (see Platform::membarrier).
        crate::stub_registered(first.command(libc::SYS_membarrier, [crate::MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0, 0, 0, 0], "membarrier registration"));
        Ok(p)
    }

    /// Binds a new stub to the calling Sentry thread, which drives its first thread. Spinning
    /// hand-offs need the two on different CPUs: with `pin`, this thread stays on its CPU and
    /// the stub goes to another; with one CPU, nobody spins.
    fn bind(&mut self, pin: bool) {
        let stub_cpu = if pin { place_threads() } else { None };
        if let Some(cpu) = stub_cpu {
            stub::pin(self.pid, cpu as usize);
        }
        self.spin = if stub_cpu.is_some() || (!pin && allowed_cpus() > 1) { SENTRY_SPIN } else { Duration::ZERO };
        let first = self.slot(0);
        first.atomic32(OFF_STUB_SPIN).store(if self.spin.is_zero() { 0 } else { STUB_SPIN }, Ordering::SeqCst);
        self.slots()[0].driver = stub::sentry_tid();
    }

    fn slots(&self) -> MutexGuard<'_, Vec<SlotUse>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Slot `i` (< MAX_THREADS).
    fn slot(&self, i: usize) -> Slot<'_> {
        debug_assert!(i < MAX_THREADS);
        let off = i as u64 * SLOT_SIZE;
        // SAFETY: slot i lies inside the context mapping (i < MAX_THREADS).
        let base = unsafe { self.ctx.add(off as usize) };
        Slot { p: self, base, addr: self.spec.region + SLOT_SIZE + off, index: i, deadline: None }
    }

    /// The slot of the thread the calling Sentry thread drives: address-space changes run there.
    fn driven_slot(&self) -> Result<Slot<'_>, PlatformError> {
        let me = stub::sentry_tid();
        let i = self.slots().iter().position(|s| s.used && s.driver == me);
        i.map(|i| self.slot(i)).ok_or_else(|| PlatformError::Unexpected { pid: self.pid, what: "an address-space change from a Sentry thread that drives none of its threads".into() })
    }
}

impl Drop for StubProcess {
    /// Kills the stub; a reaper thread waits for its end and frees its context, so that the
    /// Sentry thread dropping it (a process's last, whose parent was just told of its end)
    /// goes on at once.
    fn drop(&mut self) {
        if self.spec.pool.upgrade().is_some_and(|pool| pool.recycle(self)) {
            return;
        }
        // SAFETY: killing our own child (pid > 0: never a process group).
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        let dead = DeadStub { pid: self.pid, ctx_off: self.ctx_off, spec: self.spec.clone() };
        static REAPER: std::sync::OnceLock<Mutex<Option<std::sync::mpsc::Sender<DeadStub>>>> = std::sync::OnceLock::new();
        let reaper = REAPER.get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel::<DeadStub>();
            let spawned = std::thread::Builder::new().name("stub-reaper".into()).spawn(move || rx.into_iter().for_each(DeadStub::reap));
            Mutex::new(spawned.ok().map(|_| tx))
        });
        let sender = reaper.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match sender {
            Some(tx) => {
                if let Err(std::sync::mpsc::SendError(dead)) = tx.send(dead) {
                    dead.reap();
                }
            }
            None => dead.reap(),
        }
    }
}

/// A killed stub, for the reaper.
struct DeadStub {
    pid: i32,
    ctx_off: u64,
    spec: Arc<StubSpec>,
}

impl DeadStub {
    fn reap(self) {
        // SAFETY: reaping our own child, killed already.
        unsafe { libc::waitpid(self.pid, std::ptr::null_mut(), libc::__WALL) };
        self.spec.contexts.release(self.ctx_off);
    }
}

/// One thread's slot: the Sentry's pointer to it and the stub's address of it.
struct Slot<'a> {
    p: &'a StubProcess,
    base: *mut u8,
    addr: u64,
    index: usize,
    /// When waiting for the stub gives up (None: never, while it lives).
    deadline: Option<Instant>,
}

impl Slot<'_> {
    fn atomic32(&self, off: usize) -> &AtomicU32 {
        // SAFETY: `off` is one of the aligned word offsets in the context page, which is mapped
        // for the StubProcess's lifetime; the stub accesses the same words atomically (xchg,
        // aligned loads and stores).
        unsafe { &*self.base.add(off).cast::<AtomicU32>() }
    }

    fn atomic64(&self, off: usize) -> &AtomicU64 {
        // SAFETY: as for `atomic32`.
        unsafe { &*self.base.add(off).cast::<AtomicU64>() }
    }

    fn word(&self, off: usize) -> u64 {
        self.atomic64(off).load(Ordering::Acquire)
    }

    /// The words the fast path reads from a fresh slot.
    fn init_fast_path(&self) {
        self.atomic64(OFF_SELF).store(self.addr, Ordering::Relaxed);
        self.atomic64(OFF_COOKIE).store(self.p.spec.cookie, Ordering::Relaxed);
        self.atomic32(OFF_KICKED).store(0, Ordering::Relaxed);
    }

    fn spin(&self) -> Duration {
        if self.index == 0 { self.p.spin } else { Duration::ZERO }
    }

    /// Hands the context page to the stub with `state`.
    fn hand_over(&self, state: u32) {
        self.atomic32(OFF_SENTRY_BLOCKED).store(0, Ordering::Relaxed);
        self.atomic32(OFF_STATE).swap(state, Ordering::SeqCst);
        if self.atomic32(OFF_STUB_SLEEPING).load(Ordering::SeqCst) != 0 {
            self.futex(OFF_STATE, libc::FUTEX_WAKE, 1, None);
        }
    }

    fn futex(&self, off: usize, op: i32, val: u32, timeout: Option<&libc::timespec>) -> i64 {
        let t = timeout.map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: the futex word is in our shared mapping; the timeout, if any, is a valid
        // timespec. Not FUTEX_PRIVATE: the stub maps the same page from another process.
        unsafe { libc::syscall(libc::SYS_futex, self.base.add(off), op as libc::c_long, libc::c_long::from(val), t, 0usize, 0usize) }
    }

    /// Waits until the stub sets the state word to `want`: spinning first, then sleeping on the
    /// futex, checking now and then that the stub is still alive.
    fn wait_for(&self, want: u32) -> Result<(), PlatformError> {
        let state = self.atomic32(OFF_STATE);
        let start = Instant::now();
        let spin = self.spin();
        let mut spins = 0u32;
        loop {
            let v = state.load(Ordering::Acquire);
            if v == want {
                return Ok(());
            }
            spins += 1;
            if !spins.is_multiple_of(64) {
                std::hint::spin_loop();
                continue;
            }
            let waited = start.elapsed();
            if waited < spin {
                // Past the first microseconds, a thread this one keeps from its CPU (another
                // process's Sentry thread, woken by this one's call) runs first.
                if waited > YIELD_AFTER {
                    // SAFETY: sched_yield takes nothing.
                    unsafe { libc::sched_yield() };
                }
                continue;
            }
            let left = self.deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                return Err(self.unexpected(format!("no answer (state {v}, waiting for {want}) in time")));
            }
            let period = left.map_or(LIVENESS_PERIOD, |l| libc::timespec { tv_sec: 0, tv_nsec: l.as_nanos().min(LIVENESS_PERIOD.tv_nsec as u128) as i64 });
            self.atomic32(OFF_SENTRY_SLEEPING).swap(1, Ordering::SeqCst);
            let v = state.load(Ordering::SeqCst);
            if v != want {
                let r = self.futex(OFF_STATE, libc::FUTEX_WAIT, v, Some(&period));
                if r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT) {
                    self.check_alive()?;
                }
            }
            self.atomic32(OFF_SENTRY_SLEEPING).store(0, Ordering::SeqCst);
        }
    }

    /// Fails when the stub process, or this slot's thread in it, is gone.
    fn check_alive(&self) -> Result<(), PlatformError> {
        let pid = self.p.pid;
        let mut status = 0;
        // SAFETY: waiting, without blocking, on our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG | libc::__WALL) };
        if r == pid {
            return Err(stub::describe_death(pid, status));
        }
        if r < 0 {
            // Another Sentry thread of the address space reaped it.
            return Err(PlatformError::StubDied { pid, how: "gone".into() });
        }
        let tid = self.p.slots()[self.index].tid;
        // SAFETY: signal 0 only checks that the thread exists.
        if unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, 0) } != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
            return Err(PlatformError::StubDied { pid, how: format!("its thread {tid} exited") });
        }
        Ok(())
    }

    /// Has the stub thread run one system call from its code page; returns the raw result.
    fn command(&self, nr: libc::c_long, args: [u64; 6], op: &'static str) -> Result<i64, PlatformError> {
        self.run(STATE_COMMAND, nr, args, op)
    }

    fn run(&self, state: u32, nr: libc::c_long, args: [u64; 6], op: &'static str) -> Result<i64, PlatformError> {
        self.atomic64(OFF_CMD_NR).store(nr as u64, Ordering::Relaxed);
        for (i, a) in args.iter().enumerate() {
            self.atomic64(OFF_CMD_ARGS + 8 * i).store(*a, Ordering::Relaxed);
        }
        self.hand_over(state);
        self.wait_for(STATE_DONE)?;
        crate::raw_result(self.word(OFF_CMD_RESULT) as i64, op)
    }

    /// The stub thread's CPU clock, which it reads itself (Linux lets no other process read it).
    fn thread_cpu_time(&self) -> Result<Duration, PlatformError> {
        let at = self.addr + OFF_CPU_TIME as u64;
        self.command(libc::SYS_clock_gettime, [libc::CLOCK_THREAD_CPUTIME_ID as u64, at, 0, 0, 0, 0], "clock_gettime in the stub")?;
        let (secs, nanos) = (self.word(OFF_CPU_TIME), self.word(OFF_CPU_TIME + 8));
        Ok(Duration::new(secs, nanos.min(999_999_999) as u32))
    }

    /// Has the stub thread run `calls` (number and arguments each) in order, BATCH_MAX per
    /// hand-off; stops at the first failure.
    fn batch(&self, calls: &[(libc::c_long, [u64; 6])], op: &'static str) -> Result<(), PlatformError> {
        for chunk in calls.chunks(BATCH_MAX) {
            for (i, (nr, args)) in chunk.iter().enumerate() {
                let entry = OFF_BATCH + i * BATCH_ENTRY;
                self.atomic64(entry).store(*nr as u64, Ordering::Relaxed);
                for (j, a) in args.iter().enumerate() {
                    self.atomic64(entry + 8 * (j + 1)).store(*a, Ordering::Relaxed);
                }
            }
            self.atomic64(OFF_CMD_NR).store(chunk.len() as u64, Ordering::Relaxed);
            self.hand_over(STATE_BATCH);
            self.wait_for(STATE_DONE)?;
            if self.word(OFF_CMD_ARGS) < chunk.len() as u64 {
                // The failure's result; a forged count with a success is an error too.
                crate::raw_result(self.word(OFF_CMD_RESULT) as i64, op)?;
                return Err(self.unexpected(format!("{op}: a batch stopped without a failure")));
            }
        }
        Ok(())
    }

    /// Ends the slot's thread and waits until the kernel says it is gone (it clears the tid
    /// word at the thread's exit).
    fn end_thread(&self) -> Result<(), PlatformError> {
        self.atomic64(OFF_CMD_NR).store(libc::SYS_exit as u64, Ordering::Relaxed);
        self.atomic64(OFF_CMD_ARGS).store(0, Ordering::Relaxed);
        self.hand_over(STATE_COMMAND);
        loop {
            let tid = self.atomic32(OFF_TID).load(Ordering::SeqCst);
            if tid == 0 {
                return Ok(());
            }
            let r = self.futex(OFF_TID, libc::FUTEX_WAIT, tid, Some(&LIVENESS_PERIOD));
            if r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT) {
                self.check_alive()?;
            }
        }
    }

    /// The Sentry's pointer for a stub address inside this slot, if `len` bytes there are
    /// inside it. The stub's pointers come from memory the guest can write: check them.
    fn ctx_ptr(&self, stub_addr: u64, len: u64) -> Option<*mut u8> {
        let off = stub_addr.checked_sub(self.addr)?;
        (off.checked_add(len)? <= SLOT_SIZE).then(|| {
            // SAFETY: off + len is within the slot (checked above), inside the mapping.
            unsafe { self.base.add(off as usize) }
        })
    }

    fn unexpected(&self, what: String) -> PlatformError {
        PlatformError::Unexpected { pid: self.p.pid, what }
    }
}

/// The systrap stub's life between clone and its first event.
///
/// # Safety
/// Only in a child just cloned by `stub::clone_stub`.
unsafe fn stub_child(a: &ChildArgs) -> ! {
    let [ctx_fd, handler, restorer, ctx_off, entry] = a.extra;
    let ctx_addr = a.code_addr + SLOT_SIZE;
    // SAFETY: we are the stub child; raw system calls on copied data.
    unsafe {
        stub::child_common(a);
        let rw = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        let m = stub::sys(libc::SYS_mmap, [ctx_addr, CONTEXT_SIZE, rw, (libc::MAP_SHARED | libc::MAP_FIXED) as u64, ctx_fd, ctx_off]);
        if m as u64 != ctx_addr {
            stub::child_fail(9);
        }
        // The context file stays open: a factory's clones map their own contexts from it.
        // The signal stack is the first slot after its context page: frames land in memory
        // the Sentry can read and edit.
        let ss = libc::stack_t { ss_sp: (ctx_addr + PAGE_SIZE) as *mut libc::c_void, ss_flags: 0, ss_size: (SLOT_SIZE - PAGE_SIZE) as usize };
        if stub::sys(libc::SYS_sigaltstack, [&ss as *const libc::stack_t as u64, 0, 0, 0, 0, 0]) != 0 {
            stub::child_fail(10);
        }
        // The kernel clears the slot's tid word when this thread exits, as for later threads.
        stub::sys(libc::SYS_set_tid_address, [ctx_addr + OFF_TID as u64, 0, 0, 0, 0, 0]);
        // Kernel sigaction: handler, flags, restorer, mask (every signal blocked in the handler).
        let flags = (libc::SA_SIGINFO | libc::SA_ONSTACK) as u64 | SA_RESTORER;
        let act: [u64; 4] = [handler, flags, restorer, u64::MAX];
        for sig in HANDLED_SIGNALS {
            if stub::sys(libc::SYS_rt_sigaction, [sig as u64, act.as_ptr() as u64, 0, 8, 0, 0]) != 0 {
                stub::child_fail(11);
            }
        }
        let mask = stub_mask();
        if stub::sys(libc::SYS_rt_sigprocmask, [libc::SIG_SETMASK as u64, &mask as *const u64 as u64, 0, 8, 0, 0]) != 0 {
            stub::child_fail(12);
        }
        stub::child_enter(a, entry)
    }
}

/// A stub thread's signal mask: only the handled signals get through to the guest's thread;
/// anything else sent from outside stays pending (the Sentry's own process receives terminal
/// signals).
const fn stub_mask() -> u64 {
    let mut mask = u64::MAX;
    let mut i = 0;
    while i < HANDLED_SIGNALS.len() {
        mask &= !(1u64 << (HANDLED_SIGNALS[i] - 1));
        i += 1;
    }
    mask
}

/// How many CPUs this thread may run on.
fn allowed_cpus() -> u32 {
    // SAFETY: CPU_COUNT only reads the plain bit array.
    unsafe { libc::CPU_COUNT(&stub::all_cpus()) as u32 }
}

/// Pins the calling thread to the Sentry's CPU and returns another allowed CPU for the stub,
/// or None (and no pinning) when only one CPU is allowed. The Sentry's CPU is the one the first
/// placement ran on: every Sentry thread that serves a process's first thread goes there and
/// every stub to the others, so that a hand-off between two processes (a pipe) wakes a thread
/// on a CPU where the other process's Sentry thread, not its spinning stub, runs.
fn place_threads() -> Option<u32> {
    static SENTRY_CPU: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let set = stub::all_cpus();
    // SAFETY: sched_getcpu takes nothing.
    let here = *SENTRY_CPU.get_or_init(|| unsafe { libc::sched_getcpu() }.max(0) as usize);
    // SAFETY: CPU_ISSET only reads the plain bit array.
    let other = (0..libc::CPU_SETSIZE as usize).map(|c| (here + 1 + c) % libc::CPU_SETSIZE as usize).find(|&c| c != here && unsafe { libc::CPU_ISSET(c, &set) })?;
    stub::pin(0, here);
    Some(other as u32)
}

struct SystrapAddressSpace {
    p: Arc<StubProcess>,
}

impl SystrapAddressSpace {
    fn mmap_args(&self, addr: u64, len: u64, prot: Prot, offset: u64) -> [u64; 6] {
        [addr, len, prot.bits(), (libc::MAP_SHARED | libc::MAP_FIXED) as u64, self.p.spec.memory_fd as u64, offset]
    }

    fn command(&self, nr: libc::c_long, args: [u64; 6], op: &'static str) -> Result<(), PlatformError> {
        self.p.driven_slot()?.command(nr, args, op).map(|_| ())
    }
}

impl AddressSpace for SystrapAddressSpace {
    fn map(&mut self, addr: u64, len: u64, prot: Prot, offset: u64) -> Result<(), PlatformError> {
        self.command(libc::SYS_mmap, self.mmap_args(addr, len, prot, offset), "mmap in the stub")
    }

    fn map_all(&mut self, maps: &[(u64, u64, Prot, u64)]) -> Result<(), PlatformError> {
        let calls: Vec<_> = maps.iter().map(|&(a, l, p, o)| (libc::SYS_mmap, self.mmap_args(a, l, p, o))).collect();
        self.p.driven_slot()?.batch(&calls, "mmap in the stub")
    }

    fn unmap(&mut self, addr: u64, len: u64) -> Result<(), PlatformError> {
        self.command(libc::SYS_munmap, [addr, len, 0, 0, 0, 0], "munmap in the stub")
    }

    fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), PlatformError> {
        self.command(libc::SYS_mprotect, [addr, len, prot.bits(), 0, 0, 0], "mprotect in the stub")
    }
}

/// Offsets in the kernel's x86-64 ucontext: uc_mcontext starts at 40; these are into it.
const UC_MCONTEXT: u64 = 40;
const UC_SIZE: u64 = UC_MCONTEXT + 256 + 8;
const MC_FPSTATE: usize = 184;
/// sigcontext's general registers in order, by their offset / 8 from uc_mcontext.
const MC_R8: usize = 0;
/// siginfo_t fields used.
const SI_CODE: usize = 8;
const SI_ADDR: usize = 16;
const SI_SYSCALL: usize = 24;
const SI_ARCH: usize = 28;
const SYS_SECCOMP: i32 = 1;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// One guest thread: a stub thread and its slot.
struct SystrapContext {
    p: Arc<StubProcess>,
    slot: usize,
    /// The stub thread's host tid (read on every switch: kept here, not under the slots' lock).
    tid: i32,
    /// The FS and GS bases the stub thread has (u64::MAX: unknown, not yet set).
    fs_base: u64,
    gs_base: u64,
    /// The current event came by the fast path: its frame is the one in the context page,
    /// without FPU state.
    fast: bool,
    /// The last system call came by a seccomp trap (a SIGSYS frame).
    trapped: bool,
}

impl SystrapContext {
    fn new(p: Arc<StubProcess>, slot: usize) -> SystrapContext {
        // The slot's tid is set before its context exists and never changes while it lives.
        let tid = p.slots()[slot].tid;
        SystrapContext { p, slot, tid, fs_base: u64::MAX, gs_base: u64::MAX, fast: false, trapped: false }
    }

    /// Makes the fast path's current event a signal frame, for what only a signal frame has
    /// (the FPU state): the stub raises SIGILL at `systrap_convert`, and its handler takes the
    /// fast frame's registers into the new frame.
    fn convert(&mut self) -> Result<(), PlatformError> {
        if self.fast {
            let stub = self.stub();
            stub.hand_over(STATE_CONVERT);
            stub.wait_for(STATE_EVENT)?;
            self.fast = false;
        }
        Ok(())
    }

    fn stub(&self) -> Slot<'_> {
        self.p.slot(self.slot)
    }

    /// The Sentry's pointer to the current signal frame's ucontext.
    fn ucontext(&self) -> Result<*mut u64, PlatformError> {
        let stub = self.stub();
        let uc = stub.word(OFF_UCONTEXT);
        stub.ctx_ptr(uc, UC_SIZE)
            .filter(|p| (*p as usize).is_multiple_of(8))
            .map(|p| p.cast::<u64>())
            .ok_or_else(|| stub.unexpected(format!("signal frame at {uc:#x} outside the context")))
    }

    fn siginfo(&self) -> Result<[u8; 128], PlatformError> {
        let stub = self.stub();
        let si = stub.word(OFF_SIGINFO);
        let p = stub.ctx_ptr(si, 128).ok_or_else(|| stub.unexpected(format!("siginfo at {si:#x} outside the context")))?;
        let mut b = [0u8; 128];
        // SAFETY: 128 bytes at p are inside the context mapping (checked by ctx_ptr).
        unsafe { std::ptr::copy_nonoverlapping(p, b.as_mut_ptr(), 128) };
        Ok(b)
    }

    /// The XSAVE area of the current frame: its Sentry pointer and size.
    fn fpstate(&self) -> Result<(*mut u8, usize), PlatformError> {
        let uc = self.ucontext()?;
        // SAFETY: uc points at a full ucontext inside the context mapping.
        let fp = unsafe { uc.add((UC_MCONTEXT as usize + MC_FPSTATE) / 8).read_volatile() };
        // The XSAVE header's software area (at 464 of the legacy region) holds the size.
        let stub = self.stub();
        let p = stub.ctx_ptr(fp, 512).ok_or_else(|| stub.unexpected("FPU state outside the context".into()))?;
        let mut size = [0u8; 4];
        // SAFETY: 512 bytes at p are in the mapping; bytes 468..472 are within them.
        unsafe { std::ptr::copy_nonoverlapping(p.add(468), size.as_mut_ptr(), 4) };
        let size = (u32::from_le_bytes(size) as u64).clamp(512, SLOT_SIZE);
        let size = if stub.ctx_ptr(fp, size).is_some() { size } else { 512 };
        Ok((p, size as usize))
    }

    fn set_base(&mut self, code: u64, want: u64, which: fn(&mut Self) -> &mut u64) -> Result<(), PlatformError> {
        if *which(self) != want {
            self.stub().command(libc::SYS_arch_prctl, [code, want, 0, 0, 0, 0], "arch_prctl in the stub")?;
            *which(self) = want;
        }
        Ok(())
    }
}

/// sigcontext order of the general registers (r8 first), as (offset/8, register accessor).
fn gregs(r: &mut libc::user_regs_struct) -> [&mut u64; 18] {
    [
        &mut r.r8, &mut r.r9, &mut r.r10, &mut r.r11, &mut r.r12, &mut r.r13, &mut r.r14, &mut r.r15, &mut r.rdi, &mut r.rsi, &mut r.rbp, &mut r.rbx, &mut r.rdx, &mut r.rax,
        &mut r.rcx, &mut r.rsp, &mut r.rip, &mut r.eflags,
    ]
}

impl Context for SystrapContext {
    fn switch(&mut self, regs: &mut Registers) -> Result<Event, PlatformError> {
        const ARCH_SET_GS: u64 = 0x1001;
        const ARCH_SET_FS: u64 = 0x1002;
        self.set_base(ARCH_SET_FS, regs.0.fs_base, |c| &mut c.fs_base)?;
        // With the fast path, a guest without a GS base of its own (nearly all: x86-64 Linux
        // userspace leaves it 0) runs with its slot there, where the fast path finds it.
        let gs = if self.p.spec.patching && regs.0.gs_base == 0 { self.stub().addr } else { regs.0.gs_base };
        // The fast path's way back reads its frame through the GS base: a call that changes
        // the base (arch_prctl ARCH_SET_GS from a patched site) returns by a signal frame.
        if self.fast && gs != self.gs_base {
            self.convert()?;
        }
        self.set_base(ARCH_SET_GS, gs, |c| &mut c.gs_base)?;
        let uc = self.ucontext()?;
        let mc = UC_MCONTEXT as usize / 8 + MC_R8;
        for (i, v) in gregs(&mut regs.0).into_iter().enumerate() {
            // SAFETY: uc points at a full ucontext in the context mapping; i < 18 stays in it.
            unsafe { uc.add(mc + i).write_volatile(*v) };
        }
        self.stub().hand_over(STATE_RESUME);
        self.stub().wait_for(STATE_EVENT)?;
        SERVING.with(|s| {
            let mut s = s.borrow_mut();
            // Compared by address: the Weak keeps the allocation, so no other process has it.
            if s.0.as_ptr() != Arc::as_ptr(&self.p) || s.1 != self.slot {
                *s = (Arc::downgrade(&self.p), self.slot);
            }
        });

        let uc = self.ucontext()?;
        for (i, v) in gregs(&mut regs.0).into_iter().enumerate() {
            // SAFETY: as above.
            *v = unsafe { uc.add(mc + i).read_volatile() };
        }
        self.trapped = false;
        self.fast = false;
        match self.stub().word(OFF_SIGNO) {
            FAST_SYSCALL => {
                // As the kernel has them at a syscall: the number (an int) aside, rax -ENOSYS.
                self.fast = true;
                regs.0.orig_rax = regs.0.rax as u32 as u64;
                regs.0.rax = -i64::from(libc::ENOSYS) as u64;
                return Ok(Event::Syscall);
            }
            FAST_KICK => {
                self.fast = true;
                return Ok(Event::Signal(crate::KICK_SIGNAL));
            }
            _ => {}
        }
        let si = self.siginfo()?;
        let signo = i32::from_le_bytes([si[0], si[1], si[2], si[3]]);
        let code = i32::from_le_bytes([si[SI_CODE], si[SI_CODE + 1], si[SI_CODE + 2], si[SI_CODE + 3]]);
        let addr = u64::from_le_bytes(si[SI_ADDR..SI_ADDR + 8].try_into().unwrap_or_default());
        if signo == libc::SIGSYS && code == SYS_SECCOMP {
            let nr = i32::from_le_bytes(si[SI_SYSCALL..SI_SYSCALL + 4].try_into().unwrap_or_default());
            let arch = u32::from_le_bytes(si[SI_ARCH..SI_ARCH + 4].try_into().unwrap_or_default());
            if arch != AUDIT_ARCH_X86_64 {
                // int $0x80 or sysenter: the 32-bit ABI does not exist in the sandbox. The guest
                // gets SIGSYS, as from a kernel without IA-32 emulation... that kills it.
                return Ok(Event::Fault(FaultInfo { signo: libc::SIGSYS, code, addr: regs.0.rip }));
            }
            regs.0.orig_rax = nr as u32 as u64;
            self.trapped = true;
            return Ok(Event::Syscall);
        }
        if code > 0 {
            Ok(Event::Fault(FaultInfo { signo, code, addr }))
        } else {
            Ok(Event::Signal(signo))
        }
    }

    fn fpu_state(&mut self) -> Result<FpuState, PlatformError> {
        self.convert()?;
        let (p, size) = self.fpstate()?;
        let mut v = vec![0u8; size];
        // SAFETY: size bytes at p are inside the context mapping (checked by fpstate()).
        unsafe { std::ptr::copy_nonoverlapping(p, v.as_mut_ptr(), size) };
        Ok(FpuState(v))
    }

    fn set_fpu_state(&mut self, state: &FpuState) -> Result<(), PlatformError> {
        self.convert()?;
        let (p, size) = self.fpstate()?;
        let n = size.min(state.0.len());
        // SAFETY: n <= size bytes at p are inside the context mapping.
        unsafe { std::ptr::copy_nonoverlapping(state.0.as_ptr(), p, n) };
        Ok(())
    }

    fn host_tid(&self) -> i32 {
        self.tid
    }

    fn host_pid(&self) -> i32 {
        self.p.pid
    }

    fn thread_cpu_time(&mut self) -> Option<Duration> {
        let base = self.p.slots()[self.slot].cpu_base;
        Some(self.stub().thread_cpu_time().ok()?.saturating_sub(base))
    }

    fn cpu_base(&self) -> [u64; 3] {
        self.p.cpu_base
    }

    fn fresh_address_space(&mut self) -> Result<Box<dyn AddressSpace>, PlatformError> {
        self.fresh()
    }

    fn syscall_trapped(&self) -> bool {
        self.trapped && self.p.spec.patching
    }

    fn reload_bases(&mut self) {
        // Unknown: the next switch sets them (a fast event returns by a signal frame then).
        self.fs_base = u64::MAX;
        self.gs_base = u64::MAX;
    }

    fn new_thread(&mut self) -> Result<Box<dyn NewThread>, PlatformError> {
        let n = {
            let mut slots = self.p.slots();
            let n = slots.iter().position(|s| !s.used).ok_or(PlatformError::Host { op: "a new stub thread", source: io::Error::from_raw_os_error(libc::EAGAIN) })?;
            slots[n] = SlotUse { used: true, ..SlotUse::default() };
            n
        };
        let mut seed = SystrapThread { p: Some(self.p.clone()), slot: n };
        let child = self.p.slot(n);
        for off in [OFF_STATE, OFF_SENTRY_SLEEPING, OFF_STUB_SLEEPING, OFF_STUB_SPIN, OFF_SENTRY_BLOCKED] {
            child.atomic32(off).store(0, Ordering::Relaxed);
        }
        // The child's sigaltstack (stack_t: sp, flags and padding, size) and signal mask.
        child.atomic64(OFF_ALTSTACK).store(child.addr + PAGE_SIZE, Ordering::Relaxed);
        child.atomic64(OFF_ALTSTACK + 8).store(0, Ordering::Relaxed);
        child.atomic64(OFF_ALTSTACK + 16).store(SLOT_SIZE - PAGE_SIZE, Ordering::Relaxed);
        child.atomic64(OFF_MASK).store(stub_mask(), Ordering::Relaxed);
        child.init_fast_path();
        child.atomic32(OFF_TID).store(u32::MAX, Ordering::SeqCst);
        let args = [THREAD_FLAGS, child.addr + CHILD_SP, 0, child.addr + OFF_TID as u64, 0, 0];
        match self.stub().run(STATE_CLONE, libc::SYS_clone, args, "clone of a stub thread") {
            Ok(tid) => {
                self.p.slots()[n].tid = tid as i32;
                Ok(Box::new(seed))
            }
            Err(e) => {
                // No thread was made: the slot is free again.
                self.p.slots()[n] = SlotUse::default();
                seed.p = None;
                Err(e)
            }
        }
    }
}

impl SystrapContext {
    fn fresh(&mut self) -> Result<Box<dyn AddressSpace>, PlatformError> {
        let guest_end = self.p.spec.region;
        self.stub().command(libc::SYS_munmap, [stub::MMAP_MIN_ADDR, guest_end - stub::MMAP_MIN_ADDR, 0, 0, 0, 0], "munmap in the stub")?;
        Ok(Box::new(SystrapAddressSpace { p: self.p.clone() }))
    }
}

impl Drop for SystrapContext {
    fn drop(&mut self) {
        // The last thread goes with the stub process (which may serve another process: it
        // keeps its slot); any other ends alone and frees its slot.
        let others = self.p.slots().iter().enumerate().any(|(i, s)| s.used && i != self.slot);
        if others {
            if let Err(e) = self.stub().end_thread() {
                tracing::debug!("ending a stub thread: {e}");
                return;
            }
            self.p.slots()[self.slot] = SlotUse::default();
        }
    }
}

/// A stub thread made by a CLONE command, until a Sentry thread binds it.
struct SystrapThread {
    /// None once started (or never made).
    p: Option<Arc<StubProcess>>,
    slot: usize,
}

impl NewThread for SystrapThread {
    fn start(mut self: Box<Self>) -> Result<Box<dyn Context>, PlatformError> {
        let p = self.p.take().ok_or(PlatformError::Unexpected { pid: 0, what: "a stub thread started twice".into() })?;
        let tid = {
            let mut slots = p.slots();
            slots[self.slot].driver = stub::sentry_tid();
            slots[self.slot].tid
        };
        // The thread and its Sentry thread run anywhere, not where their creators were pinned:
        // a process's threads run in parallel (they hand over by futex, never spinning).
        stub::unpin(0);
        stub::unpin(tid);
        let ctx = SystrapContext::new(p, self.slot);
        // Its first event is the `ud2` after its setup: it is ready.
        let stub = ctx.stub();
        stub.wait_for(STATE_EVENT)?;
        let signo = stub.word(OFF_SIGNO);
        if signo != libc::SIGILL as u64 {
            return Err(stub.unexpected(format!("signal {signo} while a thread started")));
        }
        Ok(Box::new(ctx))
    }
}

impl Drop for SystrapThread {
    fn drop(&mut self) {
        // Never started: bind it here, and let the context's drop end it.
        if let Some(p) = self.p.take() {
            let seed = Box::new(SystrapThread { p: Some(p), slot: self.slot });
            drop(seed.start());
        }
    }
}
