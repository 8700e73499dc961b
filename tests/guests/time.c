/* time: clock_gettime, gettimeofday and time agree with each other, through glibc (which may use
   the vDSO) and through raw syscalls; the monotonic clock never goes back. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  struct timespec rt, mono, prev;
  struct timeval tv;
  long r1 = syscall(SYS_clock_gettime, CLOCK_REALTIME, &rt);
  long r2 = syscall(SYS_gettimeofday, &tv, NULL);
  time_t t_out = 0;
  long t = syscall(SYS_time, &t_out);
  printf("raw: clock_gettime=%ld gettimeofday=%ld time_matches_out=%d\n", r1, r2, t == (long)t_out);
  /* After 2020-01-01 and all three within 5 s of each other. */
  printf("raw: after 2020=%d agree=%d\n", rt.tv_sec > 1577836800,
         labs(rt.tv_sec - tv.tv_sec) < 5 && labs(rt.tv_sec - t) < 5);
  printf("raw: nsec in range=%d usec in range=%d\n", rt.tv_nsec >= 0 && rt.tv_nsec < 1000000000,
         tv.tv_usec >= 0 && tv.tv_usec < 1000000);
  struct timespec lrt;
  struct timeval ltv;
  clock_gettime(CLOCK_REALTIME, &lrt);
  gettimeofday(&ltv, NULL);
  time_t lt = time(NULL);
  printf("libc: agree with raw=%d\n", labs(lrt.tv_sec - rt.tv_sec) < 5 && labs(ltv.tv_sec - rt.tv_sec) < 5 &&
                                          labs(lt - rt.tv_sec) < 5);
  int monotonic = 1;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &prev);
  for (int i = 0; i < 1000; i++) {
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &mono);
    if (mono.tv_sec < prev.tv_sec || (mono.tv_sec == prev.tv_sec && mono.tv_nsec < prev.tv_nsec)) monotonic = 0;
    prev = mono;
  }
  printf("monotonic never goes back=%d\n", monotonic);
  errno = 0;
  long bad = syscall(SYS_clock_gettime, 12345, &mono);
  printf("clock_gettime(bad clock)=%ld errno=%s\n", bad, bad < 0 ? strerrorname_np(errno) : "none");
  /* CPU-time clocks: readable, and moving while the process computes. */
  {
    struct timespec p0, t0, p1, t1;
    int a = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p0), b = clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    volatile unsigned long spin = 0;
    for (unsigned long i = 0; i < 100000000UL; i++) spin += i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p1);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    double dp = (p1.tv_sec - p0.tv_sec) + (p1.tv_nsec - p0.tv_nsec) * 1e-9, dt = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("cpu clocks: %d %d advanced %d %d\n", a, b, dp > 0.01, dt > 0.01);
  }
  return 0;
}
