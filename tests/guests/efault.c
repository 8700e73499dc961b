/* efault: bad guest pointers must yield EFAULT, as on Linux, and the program goes on. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static void show(const char *what, long r) {
  printf("%s=%ld errno=%s\n", what, r, r < 0 ? strerrorname_np(errno) : "none");
  fflush(stdout);
}

int main(void) {
  errno = 0;
  show("write(1, (void*)1, 10)", syscall(SYS_write, 1, (void *)1, 10));
  errno = 0;
  show("uname(NULL)", syscall(SYS_uname, NULL));
  errno = 0;
  show("clock_gettime(CLOCK_MONOTONIC, (void*)8)", syscall(SYS_clock_gettime, 1, (void *)8));
  errno = 0;
  show("getrandom((void*)16, 8, 0)", syscall(SYS_getrandom, (void *)16, 8, 0));
  errno = 0;
  show("uname(kernel address)", syscall(SYS_uname, (void *)0xffff800000000000UL));
  errno = 0;
  show("gettimeofday((void*)1, NULL)", syscall(SYS_gettimeofday, (void *)1, NULL));
  errno = 0;
  show("time((void*)1)", syscall(SYS_time, (void *)1));
  errno = 0;
  show("nanosleep((void*)1, NULL)", syscall(SYS_nanosleep, (void *)1, NULL));
  errno = 0;
  show("rt_sigaction(SIGUSR1, (void*)1, NULL, 8)", syscall(SYS_rt_sigaction, 10, (void *)1, NULL, 8));
  errno = 0;
  show("rt_sigprocmask(SIG_BLOCK, (void*)1, NULL, 8)", syscall(SYS_rt_sigprocmask, 0, (void *)1, NULL, 8));
  errno = 0;
  unsigned long set = 0;
  show("rt_sigprocmask(SIG_BLOCK, &set, NULL, 4)", syscall(SYS_rt_sigprocmask, 0, &set, NULL, 4));
  errno = 0;
  show("prlimit64(0, RLIMIT_NOFILE, NULL, (void*)1)", syscall(SYS_prlimit64, 0, 7, NULL, (void *)1));
  errno = 0;
  show("fstat(1, (void*)1)", syscall(SYS_fstat, 1, (void *)1));
  errno = 0;
  show("writev(1, (void*)1, 1)", syscall(SYS_writev, 1, (void *)1, 1));
  struct { void *base; size_t len; } iov = {(void *)1, 10};
  errno = 0;
  show("writev(1, {(void*)1, 10}, 1)", syscall(SYS_writev, 1, &iov, 1));
  errno = 0;
  show("readlink(\"/proc/self/exe\", (void*)1, 10)", syscall(SYS_readlink, "/proc/self/exe", (void *)1, 10));
  char buf[16];
  errno = 0;
  show("readlink((void*)1, buf, 16)", syscall(SYS_readlink, (void *)1, buf, sizeof buf));
  printf("still running\n");
  return 0;
}
