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
  printf("still running\n");
  return 0;
}
