/* vdso: the vDSO is there (AT_SYSINFO_EHDR, [vdso] and [vvar] in /proc/self/maps) and glibc's
   clock_gettime, gettimeofday, time and getcpu through it behave as the kernel's: every clock
   monotone over many calls, the clocks consistent with each other and with the raw system
   calls, errors (an invalid clock id) as the syscall's, CPU-time clocks working, sleeps at least
   as long as asked when measured with it, and the same after fork and exec.

   `vdso [N]` runs everything with N calls per clock (100000 by default); `vdso loop N` only
   calls clock_gettime, gettimeofday and time N times each (for counting traps); `vdso guard`
   tries to change the pages every process shares (what it prints is Linux's answer without
   sealed system mappings, so it is checked against fixed text: kernels with
   CONFIG_MSEAL_SYSTEM_MAPPINGS refuse everything with EPERM); `vdso exec-child T` and
   `vdso pristine` are re-executed children. Prints only what is the same on every run. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000LL

static long long ns_of(struct timespec t) { return t.tv_sec * NS + t.tv_nsec; }

static long long now(clockid_t c) {
  struct timespec t;
  if (clock_gettime(c, &t) != 0) return -1;
  return ns_of(t);
}

static long long raw_now(clockid_t c) {
  struct timespec t;
  if (syscall(SYS_clock_gettime, c, &t) != 0) return -1;
  return ns_of(t);
}

/* The vDSO is mapped, and is an ELF image. */
static int vdso_present(void) {
  const unsigned char *e = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
  return e != NULL && memcmp(e, ELFMAG, SELFMAG) == 0;
}

/* /proc/self/maps names [vdso] (starting at AT_SYSINFO_EHDR, r-x) and [vvar]. */
static void maps(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  int vdso = 0, vvar = 0;
  unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
  while (f && fgets(line, sizeof line, f)) {
    unsigned long start;
    char perms[8];
    if (sscanf(line, "%lx-%*x %7s", &start, perms) != 2) continue;
    if (strstr(line, "[vdso]")) vdso = start == ehdr && strcmp(perms, "r-xp") == 0;
    if (strstr(line, "[vvar]")) vvar = 1;
  }
  if (f) fclose(f);
  printf("maps: [vdso] at AT_SYSINFO_EHDR r-x=%d [vvar]=%d\n", vdso, vvar);
}

/* n calls of clock c through glibc: never backwards, and advancing (but for coarse clocks,
   which may not move within a short loop). */
static void monotone(const char *name, clockid_t c, long n) {
  long long first = now(c), prev = first, back = 0;
  for (long i = 0; i < n; i++) {
    long long t = now(c);
    if (t < prev) back++;
    prev = t;
  }
  printf("%s: %ld calls, went back %lld times, ok=%d\n", name, n, back, first > 0 && prev >= first);
}

/* glibc's (vDSO) reading of a clock is within `tol` ns of the raw system call's, read between
   two glibc readings. */
static void agrees_with_syscall(const char *name, clockid_t c) {
  const long long tol = 200000; /* 200 us */
  int ok = 1;
  for (int i = 0; i < 100; i++) {
    long long a = now(c), s = raw_now(c), b = now(c);
    if (!(a - tol <= s && s <= b + tol)) ok = 0;
  }
  printf("%s: agrees with the system call within 200 us=%d\n", name, ok);
}

static void consistency(void) {
  /* gettimeofday and time between two CLOCK_REALTIME readings (time() may lag by a tick of the
     kernel's coarse clock, so allow 10 ms). */
  int ok = 1;
  for (int i = 0; i < 1000; i++) {
    long long a = now(CLOCK_REALTIME);
    struct timeval tv;
    int r = gettimeofday(&tv, NULL);
    time_t t = time(NULL);
    long long b = now(CLOCK_REALTIME);
    long long tod = tv.tv_sec * NS + tv.tv_usec * 1000LL;
    if (r != 0 || tod < a - 1000 || tod > b) ok = 0;
    if (t < (a - 10000000) / NS || t > b / NS) ok = 0;
  }
  printf("realtime, gettimeofday and time agree=%d\n", ok);
  /* Coarse clocks lag the fine ones by at most a tick; BOOTTIME is at least MONOTONIC. */
  int coarse = 1, boot = 1;
  for (int i = 0; i < 1000; i++) {
    long long m = now(CLOCK_MONOTONIC), mc = now(CLOCK_MONOTONIC_COARSE), m2 = now(CLOCK_MONOTONIC);
    long long r = now(CLOCK_REALTIME), rc = now(CLOCK_REALTIME_COARSE), r2 = now(CLOCK_REALTIME);
    if (mc > m2 || mc < m - 10000000 || rc > r2 || rc < r - 10000000) coarse = 0;
    long long b = now(CLOCK_BOOTTIME);
    if (b < m) boot = 0;
  }
  printf("coarse clocks within a tick=%d boottime >= monotonic=%d\n", coarse, boot);
  agrees_with_syscall("CLOCK_MONOTONIC", CLOCK_MONOTONIC);
  agrees_with_syscall("CLOCK_REALTIME", CLOCK_REALTIME);
  agrees_with_syscall("CLOCK_BOOTTIME", CLOCK_BOOTTIME);
}

static void errors_and_other_clocks(void) {
  struct timespec t;
  errno = 0;
  int r = clock_gettime(12345, &t);
  printf("clock_gettime(12345)=%d errno=%s\n", r, r ? strerrorname_np(errno) : "none");
  errno = 0;
  r = clock_gettime((clockid_t)-1, &t);
  printf("clock_gettime(-1)=%d errno=%s\n", r, r ? strerrorname_np(errno) : "none");
  printf("CLOCK_MONOTONIC_RAW=%d CLOCK_TAI=%d\n", clock_gettime(CLOCK_MONOTONIC_RAW, &t), clock_gettime(CLOCK_TAI, &t));
  long long p0 = now(CLOCK_PROCESS_CPUTIME_ID), t0 = now(CLOCK_THREAD_CPUTIME_ID);
  volatile unsigned long spin = 0;
  for (unsigned long i = 0; i < 50000000UL; i++) spin += i;
  long long p1 = now(CLOCK_PROCESS_CPUTIME_ID), t1 = now(CLOCK_THREAD_CPUTIME_ID);
  printf("cpu-time clocks readable=%d advance=%d\n", p0 >= 0 && t0 >= 0, p1 - p0 > 1000000 && t1 - t0 > 1000000);
}

static void sleeps(void) {
  /* A relative sleep lasts at least its length on the vDSO's clock... */
  int ok = 1;
  for (int i = 0; i < 5; i++) {
    long long a = now(CLOCK_MONOTONIC);
    struct timespec d = {0, 10000000};
    nanosleep(&d, NULL);
    if (now(CLOCK_MONOTONIC) - a < 10000000) ok = 0;
  }
  printf("nanosleep(10 ms) lasts >= 10 ms=%d\n", ok);
  /* ...and an absolute one ends at or after its deadline as the vDSO reads it. */
  int abs_ok = 1;
  clockid_t clocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
  for (int c = 0; c < 3; c++) {
    for (int i = 0; i < 10; i++) {
      long long deadline = now(clocks[c]) + 1000000;
      struct timespec d = {deadline / NS, deadline % NS};
      while (clock_nanosleep(clocks[c], TIMER_ABSTIME, &d, NULL) == EINTR) {
      }
      if (now(clocks[c]) < deadline) abs_ok = 0;
    }
  }
  printf("clock_nanosleep(TIMER_ABSTIME) ends at or after the deadline=%d\n", abs_ok);
}

static void cpu(void) {
  unsigned c = ~0u, node = ~0u;
  int r = getcpu(&c, &node);
  long n = sysconf(_SC_NPROCESSORS_CONF);
  printf("getcpu=%d cpu in range=%d node=%u sched_getcpu works=%d\n", r, (long)c < n, node, sched_getcpu() >= 0);
  /* Pinned to one CPU, getcpu says that one. */
  cpu_set_t set;
  sched_getaffinity(0, sizeof set, &set);
  int first = -1;
  for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
    if (CPU_ISSET(i, &set)) first = i;
  CPU_ZERO(&set);
  CPU_SET(first, &set);
  r = sched_setaffinity(0, sizeof set, &set);
  getcpu(&c, NULL);
  printf("pinned: setaffinity=%d getcpu is the one CPU=%d sched_getcpu too=%d\n", r, (int)c == first, sched_getcpu() == first);
}

static void after_fork_and_exec(const char *self) {
  long long before = now(CLOCK_MONOTONIC);
  unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
  pid_t pid = fork();
  if (pid == 0) {
    long long t = now(CLOCK_MONOTONIC);
    printf("fork child: vDSO present=%d at the parent's address=%d clock after the parent's=%d\n", vdso_present(),
           getauxval(AT_SYSINFO_EHDR) == ehdr, t >= before);
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    char arg[32];
    snprintf(arg, sizeof arg, "%lld", now(CLOCK_MONOTONIC));
    execl(self, self, "exec-child", arg, (char *)NULL);
    _exit(127);
  }
  waitpid(pid, &status, 0);
  printf("exec child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* The address of the first [vvar] mapping. */
static unsigned long vvar_start(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  unsigned long start = 0;
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, "[vvar]")) {
      sscanf(line, "%lx", &start);
      break;
    }
  if (f) fclose(f);
  return start;
}

static const char *err(int r) { return r == 0 ? "ok" : strerrorname_np(errno); }

/* What a process may do to the vDSO's pages: never write the data page, nor punch either out;
   write its own copy of the text. */
static int guard(const char *self) {
  void *vvar = (void *)vvar_start();
  unsigned char *text = (unsigned char *)getauxval(AT_SYSINFO_EHDR);
  printf("mprotect([vvar], RW)=%s\n", err(mprotect(vvar, 4096, PROT_READ | PROT_WRITE)));
  printf("mprotect([vvar], RX)=%s\n", err(mprotect(vvar, 4096, PROT_READ | PROT_EXEC)));
  printf("madvise([vvar], MADV_REMOVE)=%s\n", err(madvise(vvar, 4096, MADV_REMOVE)));
  printf("madvise([vdso], MADV_REMOVE)=%s\n", err(madvise(text, 4096, MADV_REMOVE)));
  long long before = now(CLOCK_MONOTONIC);
  printf("mprotect([vdso], RWX)=%s\n", err(mprotect(text, 4096, PROT_READ | PROT_WRITE | PROT_EXEC)));
  text[EI_PAD + 3] = 0x5a;
  printf("own copy written=%d clock still works=%d\n", text[EI_PAD + 3] == 0x5a, now(CLOCK_MONOTONIC) >= before);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    execl(self, self, "pristine", (char *)NULL);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  return 0;
}

/* Only the calls whose traps the sandbox test counts. */
static int loop(long n) {
  struct timespec t;
  struct timeval tv;
  long long sum = 0;
  for (long i = 0; i < n; i++) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    gettimeofday(&tv, NULL);
    sum += t.tv_nsec + tv.tv_usec + time(NULL);
  }
  printf("loop done=%d\n", sum != 0);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 3 && strcmp(argv[1], "exec-child") == 0) {
    long long parent = atoll(argv[2]);
    printf("exec child: vDSO present=%d clock after the parent's=%d\n", vdso_present(), now(CLOCK_MONOTONIC) >= parent);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "loop") == 0) return loop(atol(argv[2]));
  if (argc == 2 && strcmp(argv[1], "guard") == 0) return guard(argv[0]);
  if (argc == 2 && strcmp(argv[1], "pristine") == 0) {
    const unsigned char *text = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    printf("a new process's vDSO is untouched=%d\n", text[EI_PAD + 3] == 0);
    return 0;
  }
  long n = argc > 1 ? atol(argv[1]) : 100000;
  printf("AT_SYSINFO_EHDR set and an ELF image=%d\n", vdso_present());
  maps();
  monotone("CLOCK_MONOTONIC", CLOCK_MONOTONIC, n);
  monotone("CLOCK_REALTIME", CLOCK_REALTIME, n);
  monotone("CLOCK_BOOTTIME", CLOCK_BOOTTIME, n);
  monotone("CLOCK_MONOTONIC_COARSE", CLOCK_MONOTONIC_COARSE, n);
  monotone("CLOCK_REALTIME_COARSE", CLOCK_REALTIME_COARSE, n);
  consistency();
  errors_and_other_clocks();
  sleeps();
  cpu();
  after_fork_and_exec(argv[0]);
  return 0;
}
