/* getrandom: the sandbox fills guest buffers with random bytes; two draws differ and are not zero. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

static int all_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) if (p[i]) return 0;
  return 1;
}

int main(void) {
  unsigned char a[32] = {0}, b[32] = {0};
  long ra = syscall(SYS_getrandom, a, sizeof a, 0);
  long rb = syscall(SYS_getrandom, b, sizeof b, GRND_NONBLOCK);
  printf("getrandom(32)=%ld getrandom(32, GRND_NONBLOCK)=%ld\n", ra, rb);
  printf("differ=%d nonzero=%d\n", memcmp(a, b, sizeof a) != 0, !all_zero(a, sizeof a) && !all_zero(b, sizeof b));
  size_t big = 1 << 20;
  unsigned char *c = calloc(1, big);
  long rc = syscall(SYS_getrandom, c, big, 0);
  /* One byte in 256 is zero on average: a page of zeros means the buffer was not filled. */
  int filled = rc == (long)big;
  for (size_t off = 0; filled && off < big; off += 4096) if (all_zero(c + off, 4096)) filled = 0;
  printf("getrandom(1 MiB)=%ld filled=%d\n", rc, filled);
  free(c);
  errno = 0;
  long rz = syscall(SYS_getrandom, a, 0, 0);
  printf("getrandom(0)=%ld\n", rz);
  errno = 0;
  long re = syscall(SYS_getrandom, a, sizeof a, 0x40000);
  printf("getrandom(bad flags)=%ld errno=%s\n", re, re < 0 ? strerrorname_np(errno) : "none");
  return 0;
}
