/* sched: the scheduling and accounting family, valid and invalid arguments: affinity and getcpu,
   policies and real-time priorities (with SCHED_RESET_ON_FORK and inheritance across fork),
   nice values through the raw getpriority, the permission rules for an unprivileged user,
   getrusage, times and sysinfo. Output is deterministic: CPU times and memory sizes are
   printed only as comparisons. Run as root (natively the changes last only as long as this
   process). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOPID 0x3fffffff /* above any pid_max */
#define BAD ((void *)8)   /* unmapped */

static void show(const char *what, long r) {
  if (r < 0)
    printf("%s: -1 %s\n", what, strerrorname_np(errno));
  else
    printf("%s: %ld\n", what, r);
}

static long raw_getpriority(int which, int who) { return syscall(SYS_getpriority, which, who); }

static long long tv_us(struct timeval t) { return t.tv_sec * 1000000LL + t.tv_usec; }

/* User-mode work until getrusage shows 0.2 s more user time; 0 if 10 s of wall time pass first
   (a machine that busy would make the comparisons meaningless). */
static int burn(void) {
  struct rusage r0, r;
  struct timespec a, b;
  getrusage(RUSAGE_SELF, &r0);
  clock_gettime(CLOCK_MONOTONIC, &a);
  volatile unsigned long x = 0;
  do {
    for (int i = 0; i < 1000000; i++) x += i;
    getrusage(RUSAGE_SELF, &r);
    if (tv_us(r.ru_utime) - tv_us(r0.ru_utime) >= 200000) return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
  } while (b.tv_sec - a.tv_sec < 10);
  return 0;
}

static void affinity(void) {
  unsigned long m[64], all[64], again[64];
  memset(all, 0, sizeof all);
  long n = syscall(SYS_sched_getaffinity, 0, 8, all);
  show("getaffinity len 8", n);
  printf("  mask not empty: %d\n", all[0] != 0);
  memset(m, 0, sizeof m);
  show("getaffinity own pid", syscall(SYS_sched_getaffinity, getpid(), 8, m));
  printf("  same mask: %d\n", m[0] == all[0]);
  long r = syscall(SYS_sched_getaffinity, 0, sizeof m, m);
  printf("getaffinity big len: ok %d\n", r >= 8 && r % 8 == 0 && r <= (long)sizeof m && m[0] == all[0]);
  show("getaffinity len 0", syscall(SYS_sched_getaffinity, 0, 0, m));
  show("getaffinity len 4", syscall(SYS_sched_getaffinity, 0, 4, m));
  show("getaffinity len 12", syscall(SYS_sched_getaffinity, 0, 12, m));
  show("getaffinity bad pointer", syscall(SYS_sched_getaffinity, 0, 8, BAD));
  show("getaffinity no such pid", syscall(SYS_sched_getaffinity, NOPID, 8, m));
  show("getaffinity pid -1", syscall(SYS_sched_getaffinity, -1, 8, m));

  m[0] = 0;
  show("setaffinity empty", syscall(SYS_sched_setaffinity, 0, 8, m));
  m[0] = 1UL << 63; /* no such CPU here */
  show("setaffinity offline only", syscall(SYS_sched_setaffinity, 0, 8, m));
  show("setaffinity bad pointer", syscall(SYS_sched_setaffinity, 0, 8, BAD));
  show("setaffinity no such pid", syscall(SYS_sched_setaffinity, NOPID, 8, all));
  show("setaffinity len 0", syscall(SYS_sched_setaffinity, 0, 0, all));

  int first = __builtin_ctzl(all[0]);
  m[0] = (1UL << first) | (1UL << 63); /* offline bits are dropped */
  show("setaffinity first cpu", syscall(SYS_sched_setaffinity, 0, 8, m));
  memset(again, 0, sizeof again);
  syscall(SYS_sched_getaffinity, 0, 8, again);
  printf("  reads back the first cpu only: %d\n", again[0] == 1UL << first);
  unsigned cpu = 99, node = 99;
  show("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
  printf("  on the first cpu: %d, node %u\n", cpu == (unsigned)first, node);
  printf("  sched_getcpu agrees: %d\n", sched_getcpu() == first);
  show("getcpu nulls", syscall(SYS_getcpu, NULL, NULL, NULL));
  show("getcpu bad cpu pointer", syscall(SYS_getcpu, BAD, &node, NULL));
  show("getcpu bad node pointer", syscall(SYS_getcpu, &cpu, BAD, NULL));

  /* A 3-byte mask is zero-extended. */
  unsigned char three[3] = {0};
  memcpy(three, all, 3);
  show("setaffinity len 3", syscall(SYS_sched_setaffinity, 0, 3, three));
  show("setaffinity all", syscall(SYS_sched_setaffinity, getpid(), 8, all));
  syscall(SYS_sched_getaffinity, 0, 8, again);
  printf("  all again: %d\n", again[0] == all[0]);

  /* A child inherits the mask. */
  m[0] = 1UL << first;
  syscall(SYS_sched_setaffinity, 0, 8, m);
  pid_t c = fork();
  if (c == 0) {
    unsigned long cm[1] = {0};
    syscall(SYS_sched_getaffinity, 0, 8, cm);
    printf("  child inherits the mask: %d\n", cm[0] == 1UL << first);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  syscall(SYS_sched_setaffinity, 0, 8, all);
}

static void policies(void) {
  static const int pol[] = {SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, 4, SCHED_IDLE, 6, -1};
  /* (7 is SCHED_EXT since Linux 6.12; the sandbox follows 6.1.) */
  for (unsigned i = 0; i < sizeof pol / sizeof pol[0]; i++) {
    char what[64];
    snprintf(what, sizeof what, "priority max %d", pol[i]);
    show(what, sched_get_priority_max(pol[i]));
    snprintf(what, sizeof what, "priority min %d", pol[i]);
    show(what, sched_get_priority_min(pol[i]));
  }
  struct sched_param p = {.sched_priority = 77};
  show("getscheduler", sched_getscheduler(0));
  show("getscheduler own pid", sched_getscheduler(getpid()));
  show("getscheduler -1", sched_getscheduler(-1));
  show("getscheduler no such pid", sched_getscheduler(NOPID));
  show("getparam", sched_getparam(0, &p));
  printf("  priority %d\n", p.sched_priority);
  show("getparam null", syscall(SYS_sched_getparam, 0, NULL));
  show("getparam bad pointer", syscall(SYS_sched_getparam, 0, BAD));
  show("getparam -1", sched_getparam(-1, &p));
  show("getparam no such pid", sched_getparam(NOPID, &p));

  p.sched_priority = 0;
  show("setscheduler batch", sched_setscheduler(0, SCHED_BATCH, &p));
  show("  now", sched_getscheduler(0));
  show("setscheduler idle", sched_setscheduler(0, SCHED_IDLE, &p));
  show("  now", sched_getscheduler(0));
  p.sched_priority = 1;
  show("setscheduler other priority 1", sched_setscheduler(0, SCHED_OTHER, &p));
  show("setscheduler policy 4", sched_setscheduler(0, 4, &p));
  show("setscheduler deadline", sched_setscheduler(0, SCHED_DEADLINE, &p));
  show("setscheduler policy -2", syscall(SYS_sched_setscheduler, 0, -2, &p));
  show("setscheduler null", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL));
  show("setscheduler bad pointer", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, BAD));
  show("setscheduler pid -1", sched_setscheduler(-1, SCHED_OTHER, &p));
  p.sched_priority = 0;
  show("setscheduler no such pid", sched_setscheduler(NOPID, SCHED_OTHER, &p));
  show("setscheduler fifo 0", sched_setscheduler(0, SCHED_FIFO, &p));
  p.sched_priority = 100;
  show("setscheduler fifo 100", sched_setscheduler(0, SCHED_FIFO, &p));
  p.sched_priority = -1;
  show("setscheduler fifo -1", sched_setscheduler(0, SCHED_FIFO, &p));
  show("  still", sched_getscheduler(0));

  struct timespec ts = {7, 7};
  p.sched_priority = 10;
  show("setscheduler fifo 10", sched_setscheduler(0, SCHED_FIFO, &p));
  show("  now", sched_getscheduler(0));
  p.sched_priority = 0;
  sched_getparam(0, &p);
  printf("  priority %d\n", p.sched_priority);
  show("  rr interval", sched_rr_get_interval(0, &ts));
  printf("  %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
  p.sched_priority = 20;
  show("setparam 20", sched_setparam(0, &p));
  p.sched_priority = 0;
  sched_getparam(0, &p);
  printf("  priority %d\n", p.sched_priority);
  p.sched_priority = 0;
  show("setparam 0 under fifo", sched_setparam(0, &p));
  p.sched_priority = 5;
  show("setscheduler rr 5", sched_setscheduler(0, SCHED_RR, &p));
  show("  now", sched_getscheduler(0));
  show("  rr interval", sched_rr_get_interval(0, &ts));
  printf("  %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
  show("rr interval -1", sched_rr_get_interval(-1, &ts));
  show("rr interval no such pid", sched_rr_get_interval(NOPID, &ts));
  show("rr interval bad pointer", syscall(SYS_sched_rr_get_interval, 0, BAD));

  /* Reset on fork: the child is back to SCHED_OTHER without the flag. */
  show("setscheduler rr|reset_on_fork", sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &p));
  show("  now", sched_getscheduler(0));
  show("setparam keeps the flag", sched_setparam(0, &p));
  show("  now", sched_getscheduler(0));
  pid_t c = fork();
  if (c == 0) {
    struct sched_param cp = {.sched_priority = 9};
    sched_getparam(0, &cp);
    printf("  child: policy %d priority %d\n", sched_getscheduler(0), cp.sched_priority);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  p.sched_priority = 0;
  show("setscheduler other", sched_setscheduler(0, SCHED_OTHER, &p));
  show("  now", sched_getscheduler(0));
  show("  rr interval", sched_rr_get_interval(0, &ts));
  printf("  %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);

  /* Without reset on fork the child keeps the policy. */
  sched_setscheduler(0, SCHED_BATCH, &p);
  c = fork();
  if (c == 0) {
    printf("  child keeps batch: %d\n", sched_getscheduler(0));
    _exit(0);
  }
  waitpid(c, NULL, 0);
  sched_setscheduler(0, SCHED_OTHER, &p);
}

static void priorities(void) {
  show("getpriority raw", raw_getpriority(PRIO_PROCESS, 0));
  show("getpriority raw own pid", raw_getpriority(PRIO_PROCESS, getpid()));
  errno = 0;
  int v = getpriority(PRIO_PROCESS, 0);
  printf("getpriority (glibc): %d errno %d\n", v, errno);
  show("getpriority which 3", raw_getpriority(3, 0));
  show("getpriority which -1", raw_getpriority(-1, 0));
  show("getpriority no such pid", raw_getpriority(PRIO_PROCESS, NOPID));
  show("setpriority 5", setpriority(PRIO_PROCESS, 0, 5));
  show("  raw", raw_getpriority(PRIO_PROCESS, 0));
  show("setpriority 100 (clamped)", setpriority(PRIO_PROCESS, 0, 100));
  show("  raw", raw_getpriority(PRIO_PROCESS, 0));
  show("setpriority -100 (clamped)", setpriority(PRIO_PROCESS, 0, -100));
  show("  raw", raw_getpriority(PRIO_PROCESS, 0));
  show("setpriority which 7", setpriority(7, 0, 0));
  show("setpriority no such pid", setpriority(PRIO_PROCESS, NOPID, 0));
  show("setpriority 3", setpriority(PRIO_PROCESS, getpid(), 3));
  pid_t c = fork();
  if (c == 0) {
    show("  child inherits nice: raw", raw_getpriority(PRIO_PROCESS, 0));
    _exit(0);
  }
  waitpid(c, NULL, 0);
  /* The parent sees and sets its child's nice value (root). */
  int go[2];
  if (pipe(go)) return;
  c = fork();
  if (c == 0) {
    char b;
    read(go[0], &b, 1);
    show("  child after its parent set it: raw", raw_getpriority(PRIO_PROCESS, 0));
    _exit(0);
  }
  show("getpriority of the child: raw", raw_getpriority(PRIO_PROCESS, c));
  show("setpriority of the child", setpriority(PRIO_PROCESS, c, 11));
  write(go[1], "x", 1);
  waitpid(c, NULL, 0);
  close(go[0]);
  close(go[1]);
  setpriority(PRIO_PROCESS, 0, 0);
}

/* An unprivileged process, under RLIMIT_NICE and RLIMIT_RTPRIO of 0. */
static void unprivileged(void) {
  pid_t c = fork();
  if (c == 0) {
    struct rlimit zero = {0, 0};
    setrlimit(RLIMIT_NICE, &zero);
    setrlimit(RLIMIT_RTPRIO, &zero);
    if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)) {
      printf("cannot drop privileges: %s\n", strerror(errno));
      _exit(1);
    }
    show("user: setpriority 5", setpriority(PRIO_PROCESS, 0, 5));
    show("user: setpriority 4 (lower)", setpriority(PRIO_PROCESS, 0, 4));
    show("user: setpriority 6", setpriority(PRIO_PROCESS, 0, 6));
    show("  raw", raw_getpriority(PRIO_PROCESS, 0));
    show("user: setpriority of the parent", setpriority(PRIO_PROCESS, getppid(), 6));
    struct sched_param p = {.sched_priority = 1};
    show("user: setscheduler fifo", sched_setscheduler(0, SCHED_FIFO, &p));
    p.sched_priority = 0;
    show("user: setscheduler batch", sched_setscheduler(0, SCHED_BATCH, &p));
    show("user: setscheduler idle", sched_setscheduler(0, SCHED_IDLE, &p));
    show("user: leave idle", sched_setscheduler(0, SCHED_OTHER, &p));
    show("user: idle|reset_on_fork", sched_setscheduler(0, SCHED_IDLE | SCHED_RESET_ON_FORK, &p));
    show("user: clear reset_on_fork", sched_setscheduler(0, SCHED_IDLE, &p));
    show("  policy", sched_getscheduler(0));
    unsigned long m[1] = {0};
    show("user: getaffinity", syscall(SYS_sched_getaffinity, 0, 8, m));
    show("user: setaffinity own", syscall(SYS_sched_setaffinity, 0, 8, m));
    show("user: setaffinity of the parent", syscall(SYS_sched_setaffinity, getppid(), 8, m));
    _exit(0);
  }
  waitpid(c, NULL, 0);
}

/* A child that computes ~0.3 s: wait4's rusage, RUSAGE_CHILDREN and times' cutime see it. */
static void children_usage(void) {
  pid_t c = fork();
  if (c == 0) {
    volatile unsigned long x = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
      for (int i = 0; i < 1000000; i++) x += i;
      clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 300000000L);
    _exit(0);
  }
  struct rusage ru, ch;
  int st;
  wait4(c, &st, 0, &ru);
  getrusage(RUSAGE_CHILDREN, &ch);
  struct tms tm;
  times(&tm);
  double w = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
  double g = ch.ru_utime.tv_sec + ch.ru_utime.tv_usec * 1e-6 + ch.ru_stime.tv_sec + ch.ru_stime.tv_usec * 1e-6;
  printf("child CPU seen by wait4 >= 0.1 s: %d, by RUSAGE_CHILDREN: %d, by times: %d\n", w >= 0.1, g >= 0.1, tm.tms_cutime + tm.tms_cstime >= 10);
}

static void usage(void) {
  struct rusage a, b, ch;
  memset(&ch, 0, sizeof ch);
  /* Children have been waited for: only the result is compared, not the times. */
  show("getrusage children", getrusage(RUSAGE_CHILDREN, &ch));
  show("getrusage who 5", syscall(SYS_getrusage, 5, &a));
  show("getrusage who -2", syscall(SYS_getrusage, -2, &a));
  show("getrusage bad pointer", syscall(SYS_getrusage, RUSAGE_SELF, BAD));
  show("getrusage self", getrusage(RUSAGE_SELF, &a));
  struct tms t1, t2;
  clock_t e1 = times(&t1);
  printf("times: %d\n", e1 != (clock_t)-1);
  printf("burned 0.2 s of user time: %d\n", burn());
  show("getrusage self again", getrusage(RUSAGE_SELF, &b));
  long long du = tv_us(b.ru_utime) - tv_us(a.ru_utime);
  printf("  utime advanced by 0.2 s or more: %d\n", du >= 200000);
  printf("  stime did not go back: %d\n", tv_us(b.ru_stime) >= tv_us(a.ru_stime));
  printf("  usec fields in range: %d\n", b.ru_utime.tv_usec >= 0 && b.ru_utime.tv_usec < 1000000 && b.ru_stime.tv_usec >= 0 && b.ru_stime.tv_usec < 1000000);
  struct rusage th;
  show("getrusage thread", getrusage(RUSAGE_THREAD, &th));
  /* Linux adjusts thread and process times separately: the thread's may read a little lower
     than the process's just read, so only a clear advance is compared. */
  printf("  thread utime shows the 0.2 s: %d\n", tv_us(th.ru_utime) - tv_us(a.ru_utime) >= 100000);
  clock_t e2 = times(&t2);
  printf("times: utime advanced by 10 ticks or more: %d\n", t2.tms_utime - t1.tms_utime >= 10);
  printf("  stime did not go back: %d\n", t2.tms_stime >= t1.tms_stime);
  printf("  elapsed between 0.2 and 11 s: %d\n", e2 - e1 >= 19 && e2 - e1 <= 1100);
  struct timespec nap = {0, 100000000};
  nanosleep(&nap, NULL);
  clock_t e3 = times(NULL);
  printf("times null: elapsed 0.1 s more: %d\n", e3 - e2 >= 9 && e3 - e2 <= 300);
  show("times bad pointer", syscall(SYS_times, BAD));
}

static void system_info(void) {
  struct sysinfo si;
  memset(&si, 0, sizeof si);
  show("sysinfo", sysinfo(&si));
  struct timespec boot;
  clock_gettime(CLOCK_BOOTTIME, &boot);
  long up = boot.tv_sec + (boot.tv_nsec != 0);
  printf("  uptime matches CLOCK_BOOTTIME: %d\n", si.uptime >= up - 1 && si.uptime <= up + 1);
  printf("  totalram > 0: %d\n", si.totalram > 0);
  printf("  freeram <= totalram: %d\n", si.freeram <= si.totalram);
  printf("  freeswap <= totalswap: %d\n", si.freeswap <= si.totalswap);
  printf("  procs >= 1: %d\n", si.procs >= 1);
  printf("  mem_unit: %u\n", si.mem_unit);
  show("sysinfo bad pointer", syscall(SYS_sysinfo, BAD));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  affinity();
  policies();
  priorities();
  unprivileged();
  usage();
  children_usage();
  system_info();
  return 0;
}
