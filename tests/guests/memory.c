/* memory: brk, malloc of a few MiB (both the brk heap and mmap'd chunks), anonymous mmap, munmap
   and mprotect, including the EINVAL cases. Prints only values that are the same on every run. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096UL

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "none"; }

static uint64_t fnv(const unsigned char *p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

int main(void) {
  /* brk: grow by 1 MiB, touch every page, shrink back. */
  uintptr_t cur = (uintptr_t)syscall(SYS_brk, 0);
  uintptr_t want = cur + (1UL << 20);
  uintptr_t got = (uintptr_t)syscall(SYS_brk, want);
  printf("brk grow ok=%d\n", got == want);
  if (got == want) {
    for (uintptr_t a = cur; a < want; a += PAGE) *(volatile char *)a = 1;
    printf("brk touched ok=1\n");
  }
  printf("brk shrink ok=%d\n", (uintptr_t)syscall(SYS_brk, cur) == cur);

  /* malloc: 3 MiB in small blocks (brk heap) and 4 MiB in one block (mmap). */
  uint64_t h = 1469598103934665603ULL;
  enum { SMALL = 3 * 1024, SMALL_SZ = 1024 };
  unsigned char **small = malloc(SMALL * sizeof *small);
  for (int i = 0; i < SMALL; i++) {
    small[i] = malloc(SMALL_SZ);
    if (!small[i]) { printf("malloc small failed\n"); return 1; }
    memset(small[i], i & 0xff, SMALL_SZ);
  }
  for (int i = 0; i < SMALL; i++) { h = fnv(small[i], SMALL_SZ, h); free(small[i]); }
  free(small);
  size_t big_sz = 4UL << 20;
  unsigned char *big = malloc(big_sz);
  if (!big) { printf("malloc big failed\n"); return 1; }
  for (size_t i = 0; i < big_sz; i++) big[i] = (unsigned char)(i * 7 + (i >> 12));
  h = fnv(big, big_sz, h);
  free(big);
  printf("malloc checksum=%016llx\n", (unsigned long long)h);

  /* mmap: zero-filled, writable, splittable by mprotect and munmap. */
  size_t len = 16 * PAGE;
  unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) { perror("mmap"); return 1; }
  int zero = 1;
  for (size_t i = 0; i < len; i++) if (m[i]) zero = 0;
  printf("mmap zero-filled=%d aligned=%d\n", zero, ((uintptr_t)m % PAGE) == 0);
  for (size_t i = 0; i < len; i++) m[i] = (unsigned char)(i % 251);
  errno = 0;
  long r = mprotect(m + 4 * PAGE, 4 * PAGE, PROT_READ);
  printf("mprotect(PROT_READ)=%ld errno=%s\n", r, err(r));
  printf("read after mprotect ok=%d\n", m[4 * PAGE + 5] == (unsigned char)((4 * PAGE + 5) % 251));
  errno = 0;
  r = munmap(m + 8 * PAGE, PAGE);
  printf("munmap(middle page)=%ld errno=%s\n", r, err(r));
  printf("neighbours intact=%d\n", m[7 * PAGE] == (unsigned char)((7 * PAGE) % 251) &&
                                      m[9 * PAGE] == (unsigned char)((9 * PAGE) % 251));
  /* MAP_FIXED over the hole just made. */
  unsigned char *f = mmap(m + 8 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  printf("mmap(MAP_FIXED) at hole ok=%d zero=%d\n", f == m + 8 * PAGE, f != MAP_FAILED && f[0] == 0);
  errno = 0;
  r = munmap(m, len);
  printf("munmap(all)=%ld errno=%s\n", r, err(r));

  /* PROT_NONE, then made writable. */
  unsigned char *n = mmap(NULL, 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  r = mprotect(n, 2 * PAGE, PROT_READ | PROT_WRITE);
  if (r == 0) { n[0] = 1; n[PAGE] = 2; }
  printf("PROT_NONE then RW ok=%d\n", n != MAP_FAILED && r == 0 && n[0] + n[PAGE] == 3);
  munmap(n, 2 * PAGE);

  /* The errors Linux gives. */
  errno = 0;
  void *z = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("mmap(len 0) failed=%d errno=%s\n", z == MAP_FAILED, z == MAP_FAILED ? strerrorname_np(errno) : "none");
  errno = 0;
  r = munmap((void *)(uintptr_t)(PAGE + 1), PAGE);
  printf("munmap(unaligned)=%ld errno=%s\n", r, err(r));
  errno = 0;
  r = mprotect((void *)(uintptr_t)(PAGE + 1), PAGE, PROT_READ);
  printf("mprotect(unaligned)=%ld errno=%s\n", r, err(r));
  return 0;
}
