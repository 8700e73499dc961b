/* idle_busy: the control of the idle tests: computes for argv[1] milliseconds of wall time
   (default 500), looking at the clock only every million iterations, then prints a checksum. Its
   CPU time must show up in what the idle tests measure, or they measure nothing. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  double ms = argc > 1 ? strtol(argv[1], NULL, 10) : 500;
  volatile unsigned long x = 1;
  double end = now() + ms / 1e3;
  unsigned long rounds = 0;
  do {
    for (int i = 0; i < 1000000; i++) x = x * 6364136223846793005ul + 1442695040888963407ul;
    rounds++;
  } while (now() < end);
  printf("busy for %.0f ms: %lu rounds, checksum %lu\n", ms, rounds, x & 1);
  return 0;
}
