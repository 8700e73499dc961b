/* idle_busy: the control of the idle tests: argv[1] rounds (default 300) of a million
   multiply-adds, about 1.3 ms each on a current x86-64 core, without a system call, then a
   checksum. Its CPU time must show up in what the idle tests measure, or they measure nothing. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 300;
  volatile unsigned long x = 1;
  for (long r = 0; r < rounds; r++)
    for (int i = 0; i < 1000000; i++) x = x * 6364136223846793005ul + 1442695040888963407ul;
  printf("busy for %ld rounds: checksum %lu\n", rounds, x & 1);
  return 0;
}
