/* idle_sleep: sleeps argv[1] milliseconds (default 3000) in one nanosleep, then says so. An idle
   guest: under the sandbox the whole process tree should use no CPU meanwhile. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long ms = argc > 1 ? strtol(argv[1], NULL, 10) : 3000;
  struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
  long r = syscall(SYS_nanosleep, &d, NULL);
  printf("slept %ld ms: %ld\n", ms, r);
  return r == 0 ? 0 : 1;
}
