/* sleep: nanosleep and clock_nanosleep (relative and absolute) of 10 ms sleep at least that long
   and not absurdly longer; an invalid timespec is EINVAL. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void report(const char *what, long r, double t0) {
  double ms = (now() - t0) * 1e3;
  printf("%s=%ld slept>=10ms=%d under 2s=%d\n", what, r, ms >= 10.0, ms < 2000.0);
}

int main(void) {
  struct timespec d = {0, 10 * 1000 * 1000};
  double t0 = now();
  report("nanosleep", syscall(SYS_nanosleep, &d, NULL), t0);
  t0 = now();
  report("clock_nanosleep(MONOTONIC, rel)", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &d, NULL), t0);
  /* The deadline and the start are one reading: a second reading after the deadline's would
     start the count late and let a prompt wake-up look short. */
  struct timespec until;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &until);
  t0 = until.tv_sec + until.tv_nsec * 1e-9;
  until.tv_nsec += 10 * 1000 * 1000;
  if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
  report("clock_nanosleep(MONOTONIC, TIMER_ABSTIME)",
         syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL), t0);
  struct timespec bad = {0, 1000000000};
  errno = 0;
  long r = syscall(SYS_nanosleep, &bad, NULL);
  printf("nanosleep(tv_nsec=1e9)=%ld errno=%s\n", r, r < 0 ? strerrorname_np(errno) : "none");
  return 0;
}
