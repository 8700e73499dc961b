/* bench: micro-benchmarks for scripts/bench.sh. Prints "<name> <value> <unit>".
   Usage: bench getppid [N]   trapped getppid through syscall(2), N calls (default 20000) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "getppid";
  if (!strcmp(what, "getppid")) {
    int n = argc > 2 ? atoi(argv[2]) : 20000;
    if (n <= 0) n = 20000;
    syscall(SYS_getppid); /* warm up */
    double t = now();
    for (int i = 0; i < n; i++) syscall(SYS_getppid);
    printf("getppid %.3f us/call\n", (now() - t) * 1e6 / n);
    return 0;
  }
  fprintf(stderr, "bench: unknown benchmark %s\n", what);
  return 2;
}
