/* Syscall-site patching: system calls made from `mov $nr,%eax; syscall` sites (and glibc's
   syscall(2)) many times, by one thread and by threads racing through the same sites while they
   are being rewritten; signals landing while a thread runs patched calls (handlers that use the
   FPU, a blocking read restarted or interrupted), fork after and before patching, and a guest
   GS base of its own. Every mode prints only what a native run prints too.

   Usage: patching getppid N | mix N | race | signals | restart | fork | gs | wrgsbase | mid |
                   exec | selfcheck
   (selfcheck prints whether the sites it ran were rewritten: sandboxed runs only.) */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* One site per function, as libc emits them; the comment keeps gcc from merging them. */
#define SITE(name, nr)                                                                      \
  static __attribute__((noinline)) long name(long a0, long a1, long a2) {                   \
    long r;                                                                                 \
    register long d asm("rdi") = a0, s asm("rsi") = a1, x asm("rdx") = a2;                  \
    asm volatile("# " #name "\n\tmov $" #nr ", %%eax\n\tsyscall"                            \
                 : "=a"(r), "+r"(d), "+r"(s), "+r"(x)                                         \
                 :                                                                          \
                 : "rcx", "r11", "memory");                                                 \
    return r;                                                                               \
  }
SITE(gp0, 110) SITE(gp1, 110) SITE(gp2, 110) SITE(gp3, 110) SITE(gp4, 110) SITE(gp5, 110)
SITE(gp6, 110) SITE(gp7, 110) SITE(gp8, 110) SITE(gp9, 110) SITE(gp10, 110) SITE(gp11, 110)
SITE(gp12, 110) SITE(gp13, 110) SITE(gp14, 110) SITE(gp15, 110)
SITE(raw_arch_prctl, 158)
SITE(raw_read, 0)
SITE(raw_gettid, 186)
SITE(raw_getpid, 39)

static long (*const gps[16])(long, long, long) = {gp0, gp1, gp2,  gp3,  gp4,  gp5,  gp6,  gp7,
                                                  gp8, gp9, gp10, gp11, gp12, gp13, gp14, gp15};

static long expected_ppid;

/* 1. Many calls from one site and through syscall(2), each checked. */
static int many(long n) {
  long bad = 0;
  for (long i = 0; i < n; i++) {
    if (gp0(0, 0, 0) != expected_ppid) bad++;
    if (syscall(SYS_getppid) != expected_ppid) bad++;
  }
  printf("getppid calls=%ld bad=%ld\n", 2 * n, bad);
  return bad != 0;
}

/* 1b. Other calls through glibc's wrappers, each result checked against the first. */
static int mix(long n) {
  long bad = 0;
  int p[2];
  int null = open("/dev/null", O_WRONLY);
  if (null < 0 || pipe(p)) return 1;
  pid_t pid = getpid();
  uid_t uid = getuid(), euid = geteuid();
  gid_t gid = getgid();
  int fl = fcntl(null, F_GETFL);
  for (long i = 0; i < n; i++) {
    char c = (char)i, d = 0;
    if (getpid() != pid || getuid() != uid || geteuid() != euid || getgid() != gid) bad++;
    if (write(null, &c, 1) != 1 || fcntl(null, F_GETFL) != fl || fcntl(null, F_GETFD) != 0) bad++;
    if (write(p[1], &c, 1) != 1 || read(p[0], &d, 1) != 1 || d != c) bad++;
    if (getppid() != expected_ppid) bad++;
  }
  printf("mix rounds=%ld bad=%ld\n", n, bad);
  return bad != 0;
}

/* 2. Threads released together into the same fresh sites. */
#define RACERS 4
#define ROUNDS 2000
static pthread_barrier_t start;
static void *racer(void *arg) {
  long bad = 0;
  pthread_barrier_wait(&start);
  for (int i = 0; i < ROUNDS; i++)
    for (int k = 0; k < 16; k++)
      if (gps[k](0, 0, 0) != expected_ppid) bad++;
  (void)arg;
  return (void *)bad;
}
static int race(void) {
  pthread_t t[RACERS];
  long bad = 0;
  pthread_barrier_init(&start, NULL, RACERS);
  for (int i = 0; i < RACERS; i++) pthread_create(&t[i], NULL, racer, NULL);
  for (int i = 0; i < RACERS; i++) {
    void *r;
    pthread_join(t[i], &r);
    bad += (long)r;
  }
  printf("race threads=%d calls=%d bad=%ld\n", RACERS, RACERS * ROUNDS * 16, bad);
  return bad != 0;
}

/* 3. Signals for a thread that runs patched calls: its handler uses the FPU, and the thread
   keeps doubles in registers across the calls. */
static volatile long handled;
static volatile double handler_sum;
static void on_usr1(int sig) {
  double x = 1.0;
  for (int i = 0; i < 10; i++) x = x * 1.5 + sig;
  handler_sum += x;
  handled++;
}
static volatile int stop_worker, worker_started;
static void *worker(void *arg) {
  long bad = 0, i = 0;
  double acc = 0.0, step = 0.25;
  worker_started = 1;
  /* Until told to stop (a fixed number of signals later), not for a fixed number of calls: a
     slow sandbox (a debug build on a loaded machine) would otherwise take signal after signal. */
  for (; !stop_worker || i < 1000; i++) {
    acc += step;
    if (gps[i & 15](0, 0, 0) != expected_ppid) bad++;
    acc -= step / 2;
  }
  (void)arg;
  return (void *)(bad + (acc != (double)i * 0.125));
}
static int signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  while (!worker_started) usleep(100);
  for (int i = 0; i < 2000; i++) {
    pthread_kill(t, SIGUSR1);
    usleep(50);
  }
  stop_worker = 1;
  void *r;
  pthread_join(t, &r);
  printf("signals bad=%ld handled>0=%d\n", (long)r, handled > 0);
  return r != NULL;
}

/* 4. A blocking read from a patched site, interrupted by signals: restarted with SA_RESTART,
   EINTR without. */
static int fds[2];
static pthread_t reader;
static volatile int reader_waiting;
static void on_usr2(int sig) { (void)sig; }
static void *read_one(void *arg) {
  char c;
  reader_waiting = 1;
  long r = raw_read(fds[0], (long)&c, 1);
  (void)arg;
  return (void *)r;
}
static long interrupted_read(int restart) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr2;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGUSR2, &sa, NULL);
  reader_waiting = 0;
  pthread_create(&reader, NULL, read_one, NULL);
  while (!reader_waiting) usleep(100);
  usleep(20000);
  for (int i = 0; i < 5; i++) {
    pthread_kill(reader, SIGUSR2);
    usleep(5000);
  }
  if (write(fds[1], "x", 1) != 1) return -1000;
  void *r;
  pthread_join(reader, &r);
  if ((long)r == -EINTR) {
    char c;
    if (read(fds[0], &c, 1) != 1) return -1001;
  }
  return (long)r;
}
static int restart(void) {
  if (pipe(fds)) return 1;
  char c;
  /* Warm the site up: the first call traps and patches it. */
  if (write(fds[1], "w", 1) != 1 || raw_read(fds[0], (long)&c, 1) != 1) return 1;
  long a = interrupted_read(1);
  long b = interrupted_read(0);
  printf("read restarted=%ld interrupted=%s\n", a, b == -EINTR ? "EINTR" : "no");
  return 0;
}

/* 5. fork after the sites were patched, then fresh sites on both sides. */
static int fork_both(void) {
  for (int i = 0; i < 100; i++) gp1(0, 0, 0);
  fflush(stdout);
  long me = raw_getpid(0, 0, 0);
  pid_t c = fork();
  if (c == 0) {
    long bad = 0;
    for (int i = 0; i < 10000; i++) {
      if (gp1(0, 0, 0) != me) bad++;
      if (gp2(0, 0, 0) != me) bad++;
      if (raw_gettid(0, 0, 0) != raw_getpid(0, 0, 0)) bad++;
    }
    printf("child bad=%ld\n", bad);
    fflush(stdout);
    _exit(bad != 0);
  }
  int st;
  waitpid(c, &st, 0);
  long bad = 0;
  for (int i = 0; i < 10000; i++) {
    if (gp1(0, 0, 0) != expected_ppid) bad++;
    if (gp3(0, 0, 0) != expected_ppid) bad++;
  }
  printf("parent bad=%ld child status=%d\n", bad, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return bad != 0;
}

/* 6. The guest's own GS base: patched calls still work, and %gs reads its memory; with a GS
   base on nothing, too; and back to none. */
static int gs(void) {
  static uint64_t block[4] = {0x1122334455667788ull, 2, 3, 4};
  long bad = 0;
  unsigned long base = 1;
  /* Patch the sites first, syscall(2)'s and a direct arch_prctl site, so that the calls that
     change the GS base below come by the fast path. */
  for (int i = 0; i < 1000; i++)
    if (gp4(0, 0, 0) != expected_ppid || syscall(SYS_getppid) != expected_ppid) bad++;
  for (int i = 0; i < 3; i++)
    if (raw_arch_prctl(ARCH_GET_GS, (long)&base, 0) != 0 || base != 0) bad++;
  if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)block)) return 1;
  uint64_t v;
  for (int i = 0; i < 1000; i++)
    if (gp4(0, 0, 0) != expected_ppid || gp5(0, 0, 0) != expected_ppid) bad++;
  asm volatile("mov %%gs:0, %0" : "=r"(v));
  printf("gs read %#llx\n", (unsigned long long)v);
  void *nothing = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)nothing)) return 1;
  for (int i = 0; i < 1000; i++)
    if (gp4(0, 0, 0) != expected_ppid || gp6(0, 0, 0) != expected_ppid) bad++;
  if (syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL)) return 1;
  for (int i = 0; i < 1000; i++)
    if (gp4(0, 0, 0) != expected_ppid || gp7(0, 0, 0) != expected_ppid) bad++;
  /* The same through the direct site, back and forth, reading through %gs each time. */
  for (int i = 0; i < 100; i++) {
    block[1] = i;
    if (raw_arch_prctl(ARCH_SET_GS, (long)block, 0) != 0) bad++;
    asm volatile("mov %%gs:8, %0" : "=r"(v));
    if (v != (uint64_t)i || gp5(0, 0, 0) != expected_ppid) bad++;
    if (raw_arch_prctl(ARCH_GET_GS, (long)&base, 0) != 0 || base != (unsigned long)block) bad++;
    if (raw_arch_prctl(ARCH_SET_GS, 0, 0) != 0 || gp5(0, 0, 0) != expected_ppid) bad++;
  }
  base = 1;
  syscall(SYS_arch_prctl, ARCH_GET_GS, &base);
  printf("gs bad=%ld base now=%lu\n", bad, base);
  return bad != 0;
}

/* 6b. The GS base written by the guest itself (wrgsbase, where the CPU and the kernel allow
   it): the sandbox does not see it change, yet the guest must keep its base and its calls.
   (What rdgsbase reads before the guest sets a base is not checked: with patching on, the
   sandbox keeps its own there, see sentry/src/kernel/patch.rs.) */
static sigjmp_buf no_insn;
static void on_sigill(int sig) {
  (void)sig;
  siglongjmp(no_insn, 1);
}
static int wrgsbase(void) {
  static uint64_t block[4] = {0x5566778899aabbccull, 2, 3, 4};
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & 1)) {
    printf("wrgsbase unavailable\n");
    return 0;
  }
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigill;
  sigaction(SIGILL, &sa, &old);
  uint64_t base = 1;
  if (sigsetjmp(no_insn, 1)) {
    printf("wrgsbase unavailable\n");
    return 0;
  }
  asm volatile("rdgsbase %0" : "=r"(base));
  sigaction(SIGILL, &old, NULL);
  long bad = 0;
  for (int i = 0; i < 1000; i++)
    if (gp10(0, 0, 0) != expected_ppid || syscall(SYS_getppid) != expected_ppid) bad++;
  uint64_t v;
  asm volatile("wrgsbase %0" : : "r"((uint64_t)block));
  for (int i = 0; i < 1000; i++)
    if (gp10(0, 0, 0) != expected_ppid || gp11(0, 0, 0) != expected_ppid) bad++;
  asm volatile("mov %%gs:0, %0" : "=r"(v));
  asm volatile("rdgsbase %0" : "=r"(base));
  if (v != block[0] || base != (uint64_t)block) bad++;
  void *nothing = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  asm volatile("wrgsbase %0" : : "r"((uint64_t)nothing));
  for (int i = 0; i < 1000; i++)
    if (gp10(0, 0, 0) != expected_ppid || syscall(SYS_getppid) != expected_ppid) bad++;
  asm volatile("rdgsbase %0" : "=r"(base));
  if (base != (uint64_t)nothing) bad++;
  /* arch_prctl after wrgsbase sets the base the call names, whatever the CPU had: also the
     base the sandbox set last (0 for the guest). */
  if (syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL)) bad++;
  asm volatile("rdgsbase %0" : "=r"(base));
  if (base == (uint64_t)nothing) bad++;
  for (int i = 0; i < 1000; i++)
    if (gp10(0, 0, 0) != expected_ppid || gp11(0, 0, 0) != expected_ppid) bad++;
  if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)&block[1])) bad++;
  asm volatile("rdgsbase %0" : "=r"(base));
  if (base != (uint64_t)&block[1]) bad++;
  for (int i = 0; i < 1000; i++)
    if (gp10(0, 0, 0) != expected_ppid || gp12(0, 0, 0) != expected_ppid) bad++;
  if (syscall(SYS_arch_prctl, ARCH_SET_GS, 0UL)) bad++;
  for (int i = 0; i < 1000; i++)
    if (gp10(0, 0, 0) != expected_ppid || gp12(0, 0, 0) != expected_ppid) bad++;
  printf("wrgsbase gs read %#llx bad=%ld\n", (unsigned long long)v, bad);
  return bad != 0;
}

/* 7. A jump straight to a patched site's `syscall`, past its load (rax set by the caller): it
   meets the patch's invalid byte there, and the Sentry runs the whole site instead, which sets
   the same number. (The way a thread that ran the old load while another patched the site
   gets through.) */
static long call_at(const unsigned char *at) {
  long r;
  asm volatile("sub $128, %%rsp\n\tmov $110, %%eax\n\tcall *%1\n\tadd $128, %%rsp"
               : "=a"(r)
               : "r"(at)
               : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
  return r;
}
static int mid(void) {
  const unsigned char *p = (const unsigned char *)gp9;
  int off = -1;
  for (int i = 0; i < 64 && off < 0; i++)
    if (p[i] == 0xb8 && p[i + 1] == 110 && p[i + 5] == 0x0f && p[i + 6] == 0x05) off = i + 5;
  if (off < 0) return 1;
  long bad = 0;
  for (int i = 0; i < 100; i++)
    if (gp9(0, 0, 0) != expected_ppid) bad++;
  for (int i = 0; i < 100; i++)
    if (call_at(p + off) != expected_ppid) bad++;
  printf("mid bad=%ld\n", bad);
  return bad != 0;
}

/* 7b. exec after the sites were rewritten: the new image starts from its file's code. */
static int pristine(const unsigned char *p) {
  for (int i = 0; i < 64; i++)
    if (p[i] == 0xb8 && p[i + 1] == 110 && p[i + 2] == 0 && p[i + 5] == 0x0f && p[i + 6] == 0x05) return 1;
  return 0;
}
static int exec_self(const char *self) {
  for (int i = 0; i < 100; i++) gp13(0, 0, 0);
  fflush(stdout);
  execl(self, self, "execd", (char *)NULL);
  perror("execl");
  return 1;
}
static int execd(void) {
  int fresh = pristine((const unsigned char *)gp13);
  long bad = 0;
  for (int i = 0; i < 1000; i++)
    if (gp13(0, 0, 0) != expected_ppid) bad++;
  printf("execd pristine=%d bad=%ld\n", fresh, bad);
  return bad != 0 || !fresh;
}

/* 8. Whether the sites this ran were rewritten (a site is patched once its first byte is no
   longer the `mov`'s 0xb8). */
static int selfcheck(void) {
  for (int i = 0; i < 100; i++) {
    gp8(0, 0, 0);
    syscall(SYS_getppid);
  }
  const unsigned char *p = (const unsigned char *)gp8;
  int patched = 0;
  for (int i = 0; i < 64; i++)
    if (p[i] == 0xff && p[i + 1] == 0x24 && p[i + 2] == 0x25) patched = 1;
  printf("patched=%d\n", patched);
  return 0;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "getppid";
  setvbuf(stdout, NULL, _IOLBF, 0);
  expected_ppid = getppid();
  if (!strcmp(what, "getppid")) return many(argc > 2 ? atol(argv[2]) : 1000000);
  if (!strcmp(what, "mix")) return mix(argc > 2 ? atol(argv[2]) : 100000);
  if (!strcmp(what, "race")) return race();
  if (!strcmp(what, "signals")) return signals();
  if (!strcmp(what, "restart")) return restart();
  if (!strcmp(what, "fork")) return fork_both();
  if (!strcmp(what, "gs")) return gs();
  if (!strcmp(what, "wrgsbase")) return wrgsbase();
  if (!strcmp(what, "mid")) return mid();
  if (!strcmp(what, "exec")) return exec_self(argv[0]);
  if (!strcmp(what, "execd")) return execd();
  if (!strcmp(what, "selfcheck")) return selfcheck();
  fprintf(stderr, "unknown mode %s\n", what);
  return 2;
}
