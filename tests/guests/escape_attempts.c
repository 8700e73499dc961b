/* escape_attempts: tries to reach the host kernel around the Sentry, one way per mode (argv[1]).
   Every attempt aims at a side effect a host-side observer can see: mkdir of a directory inside
   DIR (the test's scratch directory, which must stay empty) and kill(PID, SIGTERM) of a sleeper
   the test started. Each line is written with write(2) before and after each attempt, so the test
   sees how far the guest got when it is killed.

     escape_attempts jit DIR PID           raw `syscall` from JIT-ed pages (RWX, and RW then RX)
     escape_attempts int80 DIR PID         `int $0x80`, i386 mkdir (39) and kill (37)
     escape_attempts sysenter DIR PID      `sysenter`, i386 mkdir
     escape_attempts vsyscall              time(2) through the legacy vsyscall page, which the
                                           host kernel emulates itself
     escape_attempts stub-syscall DIR PID CODE [mkdir|kill|fork]
                                           jump to a `syscall` instruction in the stub's code page
                                           (systrap: the command executor's; ptrace: CODE+0x10);
                                           fork: the clone systrap's factory makes stubs with
     escape_attempts stub-command DIR PID CODE CTX
                                           systrap: mkdir written into the context page's command
                                           area, then a jump to the stub's command executor
     escape_attempts fast-path DIR PID     systrap with patching: after a site of its own was
                                           rewritten, jump straight into the stub's fast path
                                           (the trampoline its entry names) and into the entry's
                                           slow-path `syscall`, for mkdir and kill
     escape_attempts write-code CODE       store into the stub's code page
     escape_attempts remap-code CODE       ask the Sentry to mprotect/mmap/munmap the stub's page,
                                           then store into it
     escape_attempts ctx-scribble DIR PID CTX
                                           systrap: scribble every word of the context page's
                                           header between system calls
     escape_attempts ctx-forge DIR PID CTX systrap: forge a complete SIGSYS event (siginfo and
                                           ucontext in the context file) asking for mkdir and kill
     escape_attempts ctx-forge-munmap DIR PID CTX
                                           systrap: a forged munmap whose command the guest
                                           answers itself; does the page stay mapped, and does
                                           a later mapping share its memory?
     escape_attempts ctx-garbage CTX       systrap: publish an event whose frame pointer is junk
     escape_attempts probe CODE [CTX]      print what is at the stub addresses (layout check)
     escape_attempts sleep MS              print "sleeping", sleep MS ms, print "woke"
     escape_attempts sigsys-handler DIR PID
                                           own SIGSYS (and SIGSEGV) handlers, then system calls
     escape_attempts block-all DIR PID     block every signal, then system calls

   The pointers passed with the i386 ABI must fit in 32 bits: they are in .bss of this -static
   (non-PIE) binary. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

/* Busy waits without system calls (which would publish real events) are bounded by the TSC:
   about 2-5 s at the clock rates of current CPUs. */
#define SPIN_TICKS 10000000000ull

static char path32[1024]; /* below 4 GiB: usable as an i386 pointer */
static const char *dir = "";
static long sleeper;

static void say(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof buf - 1) n = sizeof buf - 1;
  write(1, buf, n);
}

/* "-1 errno=ENOSYS" for a raw result -ENOSYS, "0" for 0. */
static const char *raw(long r) {
  static char buf[8][64];
  static int next;
  char *b = buf[next++ % 8];
  if (r < 0 && r > -4096)
    snprintf(b, 64, "-1 errno=%s", strerrorname_np((int)-r));
  else
    snprintf(b, 64, "%ld", r);
  return b;
}

/* The same for a libc result with errno. */
static const char *libc_result(long r) { return raw(r == -1 ? -errno : r); }

static const char *target(const char *what) {
  snprintf(path32, sizeof path32, "%s/%s", dir, what);
  return path32;
}

static unsigned long arg_addr(char **argv, int argc, int i) {
  if (i >= argc) {
    say("missing address argument %d\n", i);
    exit(64);
  }
  return strtoul(argv[i], NULL, 0);
}

/* --- (a) JIT ---------------------------------------------------------------------------------- */

/* `mov $nr,%eax; syscall; ret` at p: the very pattern systrap may patch one day. */
static void emit(unsigned char *p, uint32_t nr) {
  p[0] = 0xb8;
  memcpy(p + 1, &nr, 4);
  p[5] = 0x0f;
  p[6] = 0x05;
  p[7] = 0xc3;
}

static void jit(void) {
  unsigned char *rwx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (rwx == MAP_FAILED) {
    say("mmap rwx failed errno=%s\n", strerrorname_np(errno));
    exit(2);
  }
  emit(rwx, SYS_mkdir);
  emit(rwx + 16, SYS_kill);
  emit(rwx + 32, SYS_getppid);
  long (*jmkdir)(const char *, long) = (long (*)(const char *, long))rwx;
  long (*jkill)(long, long) = (long (*)(long, long))(rwx + 16);
  long (*jgetppid)(void) = (long (*)(void))(rwx + 32);
  /* The control: the same calls through libc, served by the Sentry. */
  say("control mkdir=%s\n", libc_result(syscall(SYS_mkdir, target("jit-control"), 0755)));
  /* Three times each: a patched call site would take another path after the first trap. */
  for (int i = 0; i < 3; i++) {
    char name[32];
    snprintf(name, sizeof name, "jit-rwx-%d", i);
    say("jit rwx mkdir=%s\n", raw(jmkdir(target(name), 0755)));
    say("jit rwx kill=%s\n", raw(jkill(sleeper, SIGTERM)));
    say("jit rwx getppid=%ld\n", jgetppid());
  }
  /* W^X: written while RW, run once RX. */
  unsigned char *wx = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (wx == MAP_FAILED) exit(2);
  emit(wx, SYS_mkdir);
  emit(wx + 16, SYS_kill);
  if (mprotect(wx, 4096, PROT_READ | PROT_EXEC) != 0) {
    say("mprotect rx failed errno=%s\n", strerrorname_np(errno));
    exit(2);
  }
  jmkdir = (long (*)(const char *, long))wx;
  jkill = (long (*)(long, long))(wx + 16);
  say("jit rx mkdir=%s\n", raw(jmkdir(target("jit-rx"), 0755)));
  say("jit rx kill=%s\n", raw(jkill(sleeper, SIGTERM)));
}

/* --- (b), (c) the i386 ABI -------------------------------------------------------------------- */

static long int80(long nr, long a, long b) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b) : "memory", "r8", "r9", "r10", "r11");
  return r;
}

static void i386_int80(void) {
  say("int80 mkdir attempt\n");
  say("int80 mkdir=%s\n", raw(int80(39, (long)(uintptr_t)target("int80"), 0755)));
  say("int80 kill attempt\n");
  say("int80 kill=%s\n", raw(int80(37, sleeper, SIGTERM)));
}

static void i386_sysenter(void) {
  long r;
  const char *p = target("sysenter");
  say("sysenter mkdir attempt\n");
  /* i386 arguments in ebx, ecx. AMD CPUs raise #UD for sysenter in 64-bit mode (SIGILL); Intel
     CPUs enter the kernel's 32-bit fast-syscall path, which returns to a vDSO landing pad this
     process does not have. */
  __asm__ volatile("sysenter"
                   : "=a"(r)
                   : "a"(39L), "b"((long)(uintptr_t)p), "c"(0755L)
                   : "memory", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
  say("sysenter mkdir=%s\n", raw(r));
}

/* The legacy vsyscall page: the host kernel emulates time(2) there itself (after asking seccomp),
   when the page exists (vsyscall=xonly or emulate). */
static void vsyscall(void) {
  say("vsyscall time attempt\n");
  long (*vtime)(long *) = (long (*)(long *))0xffffffffff600400ul;
  long t = vtime(NULL);
  say("vsyscall time=%s\n", t > 1000000000L ? "a plausible time" : raw(t));
}

/* --- (d) jumps into the stub ------------------------------------------------------------------ */

static long find(const unsigned char *page, const unsigned char *pat, size_t n) {
  for (size_t i = 0; i + n <= 4096; i++)
    if (!memcmp(page + i, pat, n)) return (long)i;
  return -1;
}

/* The offset of the `syscall` to jump to: systrap's command executor (`syscall; mov %rax,96(%r12)`),
   else the first `syscall` in the page. */
static long stub_syscall_offset(const unsigned char *code) {
  static const unsigned char executor[] = {0x0f, 0x05, 0x49, 0x89, 0x44, 0x24, 0x60};
  static const unsigned char sc[] = {0x0f, 0x05};
  long off = find(code, executor, sizeof executor);
  return off >= 0 ? off : find(code, sc, sizeof sc);
}

static void stub_syscall(unsigned long code, const char *what) {
  const unsigned char *page = (const unsigned char *)code;
  say("stub code at %#lx starts with %02x %02x\n", code, page[0], page[1]);
  long off = stub_syscall_offset(page);
  if (off < 0) {
    say("no syscall instruction in the stub page\n");
    exit(65);
  }
  /* r12 is the context page for systrap's executor; any writable page will do for the stores
     after the syscall. */
  static char scratch[8192] __attribute__((aligned(4096)));
  say("jumping to the syscall at +%#lx for %s\n", off, what);
  if (!strcmp(what, "fork")) {
    /* CLONE_PARENT | CLONE_UNTRACED | CLONE_CHILD_CLEARTID | SIGCHLD: a host process that no
       Sentry knows, with no PR_SET_PDEATHSIG, would outlive the sandbox. */
    __asm__ volatile("mov %0, %%r12\n\tjmp *%1"
                     :
                     : "r"((unsigned long)scratch), "r"(code + off), "a"((long)SYS_clone), "D"(0xa08011L), "S"(0L), "d"(0L)
                     : "memory", "r12");
  } else if (!strcmp(what, "kill")) {
    __asm__ volatile("mov %0, %%r12\n\tjmp *%1"
                     :
                     : "r"((unsigned long)scratch), "r"(code + off), "a"((long)SYS_kill), "D"(sleeper), "S"((long)SIGTERM)
                     : "memory", "r12");
  } else {
    __asm__ volatile("mov %0, %%r12\n\tjmp *%1"
                     :
                     : "r"((unsigned long)scratch), "r"(code + off), "a"((long)SYS_mkdir), "D"(target("stub-syscall")), "S"(0755L)
                     : "memory", "r12");
  }
  say("came back from the stub\n");
}

/* A site systrap rewrites after its first trap (`mov $110,%eax; syscall; ret`, getppid). */
__asm__(".text\n.globl site_getppid\nsite_getppid:\n\tmov $110, %eax\n\tsyscall\n\tret\n");
long site_getppid(void);

/* Into the fast path the way an entry goes: rax the number, rcx where to come back. */
static long via_trampoline(unsigned long tramp, long nr, long a0, long a1) {
  long r;
  __asm__ volatile("lea 1f(%%rip), %%rcx\n\tjmp *%[t]\n1:"
                   : "=a"(r), "+D"(a0), "+S"(a1)
                   : [t] "r"(tramp), "a"(nr)
                   : "rcx", "r11", "memory");
  return r;
}

/* Into an entry's slow-path `syscall` (entry+50) with our own number: it returns through the
   entry to the site's `ret`, hence the call. */
static long via_entry(unsigned long at, long nr, long a0, long a1) {
  long r;
  __asm__ volatile("call *%[at]"
                   : "=a"(r), "+D"(a0), "+S"(a1)
                   : [at] "r"(at), "a"(nr)
                   : "rcx", "rdx", "r8", "r9", "r10", "r11", "memory");
  return r;
}

static void fast_path(void) {
  long ppid = 0;
  for (int i = 0; i < 3; i++) ppid = site_getppid();
  const unsigned char *p = (const unsigned char *)site_getppid;
  if (p[0] != 0xff || p[1] != 0x24 || p[2] != 0x25) {
    say("no patched site (getppid=%ld)\n", ppid);
    return;
  }
  uint32_t entry;
  memcpy(&entry, p + 3, 4);
  unsigned long tramp = *(const unsigned long *)((uintptr_t)entry + 72);
  say("entry at %#x trampoline at %#lx getppid=%ld\n", entry, tramp, ppid);
  say("control mkdir=%s\n", libc_result(syscall(SYS_mkdir, target("fast-control"), 0755)));
  say("trampoline mkdir=%s\n", raw(via_trampoline(tramp, SYS_mkdir, (long)target("fast-trampoline"), 0755)));
  say("trampoline kill=%s\n", raw(via_trampoline(tramp, SYS_kill, sleeper, SIGTERM)));
  say("trampoline getppid=%ld\n", via_trampoline(tramp, SYS_getppid, 0, 0));
  say("entry mkdir=%s\n", raw(via_entry((uintptr_t)entry + 50, SYS_mkdir, (long)target("fast-entry"), 0755)));
  say("entry kill=%s\n", raw(via_entry((uintptr_t)entry + 50, SYS_kill, sleeper, SIGTERM)));
}

static volatile uint32_t *ctx32(unsigned long ctx, int off) { return (volatile uint32_t *)(ctx + off); }
static volatile uint64_t *ctx64(unsigned long ctx, int off) { return (volatile uint64_t *)(ctx + off); }

static void stub_command(unsigned long code, unsigned long ctx) {
  static const unsigned char exec_start[] = {0x49, 0x8b, 0x44, 0x24, 0x28}; /* mov 0x28(%r12),%rax */
  long off = find((const unsigned char *)code, exec_start, sizeof exec_start);
  if (off < 0) {
    say("no command executor in the stub page\n");
    exit(65);
  }
  *ctx64(ctx, 40) = SYS_mkdir;
  *ctx64(ctx, 48) = (uint64_t)(uintptr_t)target("stub-command");
  *ctx64(ctx, 56) = 0755;
  say("jumping to the command executor at +%#lx\n", off);
  __asm__ volatile("mov %0, %%r12\n\tjmp *%1" : : "r"(ctx), "r"(code + off) : "memory", "r12");
  say("came back from the stub\n");
}

/* --- (e) the stub's pages --------------------------------------------------------------------- */

static void write_code(unsigned long code) {
  volatile unsigned char *p = (volatile unsigned char *)code;
  say("stub code starts with %02x, storing into it\n", p[0]);
  p[0] = 0xc3;
  say("survived the store: code now starts with %02x\n", p[0]);
}

static void remap_code(unsigned long code) {
  void *page = (void *)code;
  say("mprotect rwx=%s\n", libc_result(mprotect(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC)));
  void *m = mmap(page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  say("mmap fixed=%s\n", m == MAP_FAILED ? libc_result(-1) : (m == page ? "the stub's address" : "elsewhere"));
  say("munmap=%s\n", libc_result(munmap(page, 4096)));
  say("getppid after=%ld\n", syscall(SYS_getppid));
  write_code(code);
}

/* The context page's header (offsets of platform/src/systrap.rs). */
enum { STATE = 0, SENTRY_SLEEPING = 4, STUB_SLEEPING = 8, STUB_SPIN = 12, SIGNO = 16, SIGINFO = 24, UCONTEXT = 32, CMD_NR = 40, CMD_ARGS = 48, CMD_RESULT = 96 };

static void ctx_scribble(unsigned long ctx) {
  static const uint32_t values[] = {0, 1, 2, 3, 4, 5, 0xffffffffu, 0x7fffffffu};
  say("before: state=%u signo=%lu\n", *ctx32(ctx, STATE), (unsigned long)*ctx64(ctx, SIGNO));
  /* Each 32-bit word of the header except the state, then the state, each followed by calls. */
  for (int word = 1; word < CMD_RESULT / 4 + 2; word++) {
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
      *ctx32(ctx, word * 4) = values[v];
      syscall(SYS_getppid);
    }
  }
  say("header words scribbled, getppid=%ld\n", syscall(SYS_getppid));
  /* A command "published" by the guest, never by the Sentry: mkdir. */
  *ctx64(ctx, CMD_NR) = SYS_mkdir;
  *ctx64(ctx, CMD_ARGS) = (uint64_t)(uintptr_t)target("ctx-scribble");
  *ctx64(ctx, CMD_ARGS + 8) = 0755;
  for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
    *ctx32(ctx, STATE) = values[v];
    say("state=%#x then getppid=%ld\n", values[v], syscall(SYS_getppid));
  }
  *ctx32(ctx, STATE) = 3;
  say("state=3 then kill=%s\n", libc_result(syscall(SYS_kill, sleeper, SIGTERM)));
  say("scribbling done\n");
}

/* Offsets of the kernel's siginfo and ucontext used by the Sentry. */
enum { SI_CODE = 8, SI_SYSCALL = 24, SI_ARCH = 28, UC_MCONTEXT = 40, MC_RDI = 8, MC_RSI = 9, MC_RAX = 13, MC_RIP = 16 };

/* Publishes a forged seccomp event for syscall nr(a, b) from guest memory; returns the rax the
   Sentry wrote back, or reports that it never answered. */
static int faked_commands;

static long forge(unsigned long ctx, long nr, long a, long b) {
  unsigned long si = ctx + 8192, uc = ctx + 8192 + 256;
  memset((void *)si, 0, 128);
  memset((void *)uc, 0, 1024);
  *(volatile int32_t *)si = SIGSYS;
  *(volatile int32_t *)(si + SI_CODE) = 1; /* SYS_SECCOMP */
  *(volatile int32_t *)(si + SI_SYSCALL) = (int32_t)nr;
  *(volatile uint32_t *)(si + SI_ARCH) = 0xc000003eu;
  volatile uint64_t *gregs = (volatile uint64_t *)(uc + UC_MCONTEXT);
  gregs[MC_RDI] = (uint64_t)a;
  gregs[MC_RSI] = (uint64_t)b;
  gregs[MC_RAX] = (uint64_t)nr;
  gregs[MC_RIP] = (uint64_t)(uintptr_t)&forge;
  *ctx64(ctx, SIGNO) = SIGSYS;
  *ctx64(ctx, SIGINFO) = si;
  *ctx64(ctx, UCONTEXT) = uc;
  __atomic_exchange_n(ctx32(ctx, STATE), 1u, __ATOMIC_SEQ_CST);
  /* No futex wake: the Sentry finds the event at its next liveness check at the latest. */
  for (unsigned long long t0 = __rdtsc(); __rdtsc() - t0 < SPIN_TICKS;) {
    uint32_t s = __atomic_load_n(ctx32(ctx, STATE), __ATOMIC_SEQ_CST);
    if (s == 2) {
      *ctx32(ctx, STATE) = 0;
      return (long)gregs[MC_RAX];
    }
    if (s == 3) {
      /* The Sentry wants a command run by "the stub": report it done without running it. */
      *ctx64(ctx, CMD_RESULT) = 0;
      faked_commands++;
      __atomic_exchange_n(ctx32(ctx, STATE), 4u, __ATOMIC_SEQ_CST);
    }
    __builtin_ia32_pause();
  }
  say("the Sentry never answered the forged event\n");
  return -4096;
}

static void ctx_forge(unsigned long ctx) {
  say("forged mkdir=%s\n", raw(forge(ctx, SYS_mkdir, (long)(uintptr_t)target("ctx-forge"), 0755)));
  say("forged kill=%s\n", raw(forge(ctx, SYS_kill, sleeper, SIGTERM)));
  say("forged getppid=%s\n", raw(forge(ctx, SYS_getppid, 0, 0)));
  say("real getppid=%ld\n", syscall(SYS_getppid));
}

/* A forged munmap whose command the guest answers itself: does the page stay mapped while the
   Sentry believes it gone, and does a new mapping then share its memory? */
static void ctx_forge_munmap(unsigned long ctx) {
  volatile unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) exit(2);
  p[0] = 0x42;
  say("forged munmap=%s\n", raw(forge(ctx, SYS_munmap, (long)(uintptr_t)p, 4096)));
  say("commands answered by the guest: %d\n", faked_commands);
  say("page still readable: %#x\n", p[0]);
  /* A new mapping at an address far from it (the Sentry would hand the unmapped address out
     again first): its memory comes from the first free range of the memory file. */
  volatile unsigned char *q = mmap((void *)0x200000000ul, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (q == MAP_FAILED) exit(2);
  q[0] = 0x77;
  int aliased = p[0] == 0x77;
  if (aliased) say("the new mapping at %p shares memory with the unmapped page at %p\n", (void *)q, (void *)p);
  say("aliased=%d\n", aliased);
}

static void ctx_garbage(unsigned long ctx) {
  say("publishing an event with a junk frame pointer\n");
  *ctx64(ctx, SIGINFO) = 0x1000;
  *ctx64(ctx, UCONTEXT) = 0xdeadbeef000;
  __atomic_exchange_n(ctx32(ctx, STATE), 1u, __ATOMIC_SEQ_CST);
  /* Spin without system calls: what happens next is up to the Sentry. */
  for (unsigned long long t0 = __rdtsc(); __rdtsc() - t0 < SPIN_TICKS;) __builtin_ia32_pause();
  say("still running: the Sentry ignored the event\n");
}

static void probe(unsigned long code, unsigned long ctx) {
  const unsigned char *c = (const unsigned char *)code;
  say("code %02x %02x %02x %02x\n", c[0], c[1], c[2], c[3]);
  say("code+16 %02x %02x %02x\n", c[16], c[17], c[18]);
  if (ctx) {
    syscall(SYS_getppid); /* a trap just happened: the handler recorded its signal */
    say("ctx state=%u signo=%lu spin=%u\n", *ctx32(ctx, STATE), (unsigned long)*ctx64(ctx, SIGNO), *ctx32(ctx, STUB_SPIN));
  }
}

/* --- (g), (h) the guest's own signal state ----------------------------------------------------- */

static volatile int handled;
static void on_signal(int sig) { handled = sig; }

static void observers(const char *label) {
  char name[64];
  snprintf(name, sizeof name, "%s", label);
  say("mkdir=%s\n", libc_result(syscall(SYS_mkdir, target(name), 0755)));
  say("kill=%s\n", libc_result(syscall(SYS_kill, sleeper, SIGTERM)));
}

static void sigsys_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigfillset(&sa.sa_mask);
  int sigs[] = {SIGSYS, SIGSEGV, SIGTRAP, SIGILL, SIGBUS};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    say("sigaction(%d)=%s\n", sigs[i], libc_result(sigaction(sigs[i], &sa, NULL)));
  /* SIG_IGN for SIGSYS too, as a second attempt to make traps go away. */
  sa.sa_handler = SIG_IGN;
  say("sigaction(SIGSYS, SIG_IGN)=%s\n", libc_result(sigaction(SIGSYS, &sa, NULL)));
  sa.sa_handler = on_signal;
  sigaction(SIGSYS, &sa, NULL);
  long first = syscall(SYS_getppid);
  int stable = 1;
  for (int i = 0; i < 1000; i++)
    if (syscall(SYS_getppid) != first) stable = 0;
  say("getppid=%ld stable=%d handler ran=%d\n", first, stable, handled);
  observers("sigsys-handler");
}

static void block_all(void) {
  sigset_t all;
  sigfillset(&all);
  say("sigprocmask=%s\n", libc_result(sigprocmask(SIG_BLOCK, &all, NULL)));
  /* glibc leaves out its two internal signals; the raw call asks for all 64. */
  uint64_t every = ~0ull;
  say("rt_sigprocmask(all 64)=%s\n", libc_result(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &every, NULL, 8)));
  uint64_t now = 0;
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &now, 8);
  say("mask now=%#llx\n", (unsigned long long)now);
  say("getppid=%ld\n", syscall(SYS_getppid));
  observers("block-all");
}

static void sleep_ms(long ms) {
  say("sleeping\n");
  struct timespec d = {ms / 1000, (ms % 1000) * 1000000};
  long r = syscall(SYS_nanosleep, &d, NULL);
  say("woke nanosleep=%s\n", raw(r == -1 ? -errno : r));
}

int main(int argc, char **argv) {
  if (argc < 2) return 64;
  const char *mode = argv[1];
  int with_observers = strcmp(mode, "probe") && strcmp(mode, "vsyscall") && strcmp(mode, "sleep") && strcmp(mode, "write-code") &&
                       strcmp(mode, "remap-code") && strcmp(mode, "ctx-garbage");
  if (with_observers) {
    if (argc < 4) return 64;
    dir = argv[2];
    sleeper = strtol(argv[3], NULL, 10);
    if (sleeper <= 1) return 64; /* never kill(-1), kill(0) or kill(1), even natively */
    if (strlen(dir) > 900) return 64;
  }
  say("mode %s\n", mode);
  if (!strcmp(mode, "jit")) jit();
  else if (!strcmp(mode, "int80")) i386_int80();
  else if (!strcmp(mode, "sysenter")) i386_sysenter();
  else if (!strcmp(mode, "vsyscall")) vsyscall();
  else if (!strcmp(mode, "stub-syscall")) stub_syscall(arg_addr(argv, argc, 4), argc > 5 ? argv[5] : "mkdir");
  else if (!strcmp(mode, "stub-command")) stub_command(arg_addr(argv, argc, 4), arg_addr(argv, argc, 5));
  else if (!strcmp(mode, "fast-path")) fast_path();
  else if (!strcmp(mode, "write-code")) write_code(arg_addr(argv, argc, 2));
  else if (!strcmp(mode, "remap-code")) remap_code(arg_addr(argv, argc, 2));
  else if (!strcmp(mode, "ctx-scribble")) ctx_scribble(arg_addr(argv, argc, 4));
  else if (!strcmp(mode, "ctx-forge")) ctx_forge(arg_addr(argv, argc, 4));
  else if (!strcmp(mode, "ctx-forge-munmap")) ctx_forge_munmap(arg_addr(argv, argc, 4));
  else if (!strcmp(mode, "ctx-garbage")) ctx_garbage(arg_addr(argv, argc, 2));
  else if (!strcmp(mode, "probe")) probe(arg_addr(argv, argc, 2), argc > 3 ? arg_addr(argv, argc, 3) : 0);
  else if (!strcmp(mode, "sleep")) sleep_ms(argc > 2 ? strtol(argv[2], NULL, 10) : 1000);
  else if (!strcmp(mode, "sigsys-handler")) sigsys_handler();
  else if (!strcmp(mode, "block-all")) block_all();
  else {
    say("unknown mode\n");
    return 64;
  }
  say("done\n");
  return 0;
}
