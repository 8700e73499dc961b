/* mm2: mremap (shrink, grow in place, MAYMOVE, FIXED, DONTUNMAP, shared memory, adjacent VMAs
   Linux merges), madvise, msync, mincore, the mlock family and membarrier, with valid and
   invalid input. Prints only values that are the same on every run: data read back, residency
   bytes and errno names, never addresses. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

/* A call's result: "ok" for success, else the errno name. */
#define SHOW(label, call)                                  \
  do {                                                     \
    long r_ = (long)(call);                                \
    printf("%s: %s\n", label, err(r_));                    \
  } while (0)

static long remap(void *a, size_t o, size_t n, long f, void *na) {
  return syscall(SYS_mremap, a, o, n, f, na);
}

/* A mapping between two PROT_NONE guard pages, so no neighbour joins it (Linux merges
   neighbouring VMAs alike, which would make results depend on where the kernel put things). */
static char *map(size_t pages, int prot, int flags) {
  char *g = mmap(NULL, (pages + 2) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *p = g == MAP_FAILED ? MAP_FAILED : mmap(g + PAGE, pages * PAGE, prot, flags | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED) {
    printf("mmap failed: %s\n", strerrorname_np(errno));
    exit(1);
  }
  return p;
}

/* A free area of `pages` pages: reserved, then given back. */
static char *hole(size_t pages) {
  char *p = map(pages, PROT_NONE, MAP_PRIVATE);
  munmap(p, pages * PAGE);
  return p;
}

static void fill(char *p, size_t pages, char base) {
  for (size_t i = 0; i < pages; i++) memset(p + i * PAGE, base + (char)i, PAGE);
}

/* The first byte of each page, as letters ('.' for 0). */
static void show(const char *label, const char *p, size_t pages) {
  printf("%s: ", label);
  for (size_t i = 0; i < pages; i++) putchar(p[i * PAGE] ? p[i * PAGE] : '.');
  putchar('\n');
}

static void core(const char *label, void *p, size_t pages) {
  unsigned char v[64];
  memset(v, 7, sizeof v);
  long r = mincore(p, pages * PAGE, v);
  printf("%s: %s ", label, err(r));
  for (size_t i = 0; i < pages && i < sizeof v; i++) putchar('0' + v[i]);
  putchar('\n');
}

static int mapped(void *p) {
  unsigned char v;
  return mincore(p, PAGE, &v) == 0;
}

static void test_mremap(void) {
  /* Shrink, then grow in place into the free space after. */
  char *base = hole(16);
  char *a = mmap(base, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  fill(a, 4, 'a');
  printf("shrink same=%d\n", remap(a, 4 * PAGE, 2 * PAGE, 0, 0) == (long)a);
  printf("tail unmapped=%d\n", !mapped(a + 2 * PAGE));
  printf("grow in place same=%d\n", remap(a, 2 * PAGE, 6 * PAGE, 0, 0) == (long)a);
  show("after grow", a, 6);
  printf("same length same=%d\n", remap(a, 6 * PAGE, 6 * PAGE, 0, 0) == (long)a);

  /* Blocked: ENOMEM without MAYMOVE, a move with it. */
  char *blocker = mmap(a + 6 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  SHOW("grow blocked", remap(a, 6 * PAGE, 8 * PAGE, 0, 0));
  SHOW("grow part of a vma", remap(a, 2 * PAGE, 3 * PAGE, 0, 0));
  a[5 * PAGE + 7] = 'Z';
  long m = remap(a, 6 * PAGE, 9 * PAGE, MREMAP_MAYMOVE, 0);
  printf("maymove: %s moved=%d old unmapped=%d\n", err(m), m != (long)a, !mapped(a));
  char *b = (char *)m;
  show("moved", b, 9);
  printf("moved byte=%c\n", b[5 * PAGE + 7]);
  b[8 * PAGE] = 'n';
  munmap(blocker, PAGE);

  /* Moving part of a VMA leaves the rest. */
  long part = remap(b + 2 * PAGE, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE, 0);
  printf("part moved: %s\n", err(part));
  show("part", (char *)part, 3);
  show("rest", b, 2);
  printf("gap unmapped=%d\n", !mapped(b + 2 * PAGE) && !mapped(b + 3 * PAGE));
  show("rest after gap", b + 4 * PAGE, 5);

  /* MREMAP_FIXED over an existing mapping. */
  char *target = map(3, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  fill(target, 3, 'x');
  long f = remap(b, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
  printf("fixed: %s at target=%d\n", err(f), f == (long)target);
  show("fixed", target, 3);
  long f2 = remap((char *)part, 3 * PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target + 2 * PAGE);
  printf("fixed shrink: %s at target=%d part tail unmapped=%d\n", err(f2), f2 == (long)(target + 2 * PAGE), !mapped((char *)part + PAGE));
  show("fixed shrink", target, 3);

  /* Errors. */
  char *c = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  SHOW("bad flags", remap(c, PAGE, PAGE, 8, 0));
  SHOW("fixed without maymove", remap(c, PAGE, PAGE, MREMAP_FIXED, c + 8 * PAGE));
  SHOW("unaligned addr", remap(c + 1, PAGE, PAGE, MREMAP_MAYMOVE, 0));
  SHOW("zero new_len", remap(c, PAGE, 0, MREMAP_MAYMOVE, 0));
  SHOW("unaligned new_addr", remap(c, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, hole(2) + 1));
  SHOW("overlap", remap(c, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, c + PAGE));
  SHOW("unmapped old", remap(hole(2), PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0));
  SHOW("old_len 0 private", remap(c, 0, PAGE, MREMAP_MAYMOVE, 0));
  SHOW("old range past vma", remap(c, 6 * PAGE, 8 * PAGE, MREMAP_MAYMOVE, 0));
  mprotect(c + 2 * PAGE, 2 * PAGE, PROT_READ);
  SHOW("old range spans two vmas", remap(c, 4 * PAGE, 5 * PAGE, MREMAP_MAYMOVE, 0));
  SHOW("dontunmap without maymove", remap(c, PAGE, PAGE, MREMAP_DONTUNMAP, 0));
  SHOW("dontunmap resizing", remap(c, PAGE, 2 * PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, 0));
  printf("shrink across vmas same=%d\n", remap(c, 4 * PAGE, PAGE, 0, 0) == (long)c);

  /* Separately mapped neighbours with the same protection are one VMA to Linux. */
  char *n = hole(8);
  mmap(n, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  mmap(n + 2 * PAGE, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  fill(n, 4, 'k');
  mmap(n + 4 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  long nm = remap(n, 4 * PAGE, 6 * PAGE, MREMAP_MAYMOVE, 0);
  printf("neighbours: %s\n", err(nm));
  show("neighbours", (char *)nm, 6);
  /* mprotect splits and joins back. */
  char *pj = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  fill(pj, 4, 'p');
  mprotect(pj + PAGE, PAGE, PROT_READ);
  mprotect(pj + PAGE, PAGE, PROT_READ | PROT_WRITE);
  long pm = remap(pj, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, hole(4));
  printf("rejoined: %s\n", err(pm));
  show("rejoined", (char *)pm, 4);

  /* MREMAP_DONTUNMAP: the old range stays, reading zeros. */
  char *d = map(3, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  fill(d, 3, 'd');
  long dm = remap(d, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
  printf("dontunmap: %s old mapped=%d\n", err(dm), mapped(d));
  show("dontunmap new", (char *)dm, 3);
  show("dontunmap old", d, 3);
  d[0] = 'w';
  show("dontunmap old written", d, 1);
  char *dt = hole(3);
  long dm2 = remap((char *)dm, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, dt);
  printf("dontunmap fixed: %s at target=%d\n", err(dm2), dm2 == (long)dt);
  show("dontunmap fixed", dt, 3);

  /* Shared memory: regrowing within the object keeps its data, moves stay shared. */
  char *s = map(4, PROT_READ | PROT_WRITE, MAP_SHARED);
  fill(s, 4, 's');
  printf("shared shrink same=%d\n", remap(s, 4 * PAGE, 2 * PAGE, 0, 0) == (long)s);
  printf("shared regrow same=%d\n", remap(s, 2 * PAGE, 4 * PAGE, 0, 0) == (long)s);
  show("shared regrown", s, 4);
  char *st = hole(4);
  long sm = remap(s, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, st);
  printf("shared moved: %s\n", err(sm));
  pid_t pid = fork();
  if (pid == 0) {
    st[PAGE] = 'C';
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  show("shared after child wrote", st, 4);
  long dup = remap(st, 0, 2 * PAGE, MREMAP_MAYMOVE, 0);
  printf("shared duplicate: %s\n", err(dup));
  ((char *)dup)[0] = 'D';
  show("shared through duplicate", st, 2);
  long sd = remap(st + 2 * PAGE, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
  printf("shared dontunmap: %s\n", err(sd));
  ((char *)sd)[0] = 'E';
  show("shared dontunmap old", st + 2 * PAGE, 2);
  munmap(st, 4 * PAGE);
  show("duplicate after unmap", (char *)dup, 2);
}

static void test_madvise(void) {
  char *p = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  core("fresh", p, 4);
  fill(p, 2, 'm');
  core("touched", p, 4);
  SHOW("dontneed", madvise(p, PAGE, MADV_DONTNEED));
  show("after dontneed", p, 2);
  core("after dontneed", p, 4);
  fill(p, 4, 'm');
  SHOW("free", madvise(p + 3 * PAGE, PAGE, MADV_FREE));
  SHOW("dontneed locked", madvise(p + 3 * PAGE, PAGE, MADV_DONTNEED_LOCKED));
  show("after dontneed locked", p, 4);
  SHOW("remove private", madvise(p, PAGE, MADV_REMOVE));
  SHOW("unknown advice", madvise(p, PAGE, 999));
  SHOW("unaligned", madvise(p + 1, PAGE, MADV_DONTNEED));
  SHOW("zero length", madvise(p, 0, MADV_DONTNEED));
  SHOW("wrapping length", madvise(p, (size_t)-1, MADV_DONTNEED));
  int hints[] = {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTFORK, MADV_DOFORK,
                 MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_DONTDUMP,
                 MADV_DODUMP, MADV_COLD, MADV_PAGEOUT, MADV_KEEPONFORK};
  for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
    long r = madvise(p, 4 * PAGE, hints[i]);
    printf("advice %d: %s\n", hints[i], err(r));
  }
  show("after hints", p, 4);

  /* A hole in the range: the mapped parts are still done, then ENOMEM. */
  munmap(p + 2 * PAGE, PAGE);
  SHOW("dontneed over a hole", madvise(p, 4 * PAGE, MADV_DONTNEED));
  show("before hole", p, 2);
  show("after hole", p + 3 * PAGE, 1);
  SHOW("unmapped", madvise(hole(2), 2 * PAGE, MADV_NORMAL));

  /* Shared memory: DONTNEED keeps the data, REMOVE drops it, FREE is refused. */
  char *s = map(2, PROT_READ | PROT_WRITE, MAP_SHARED);
  fill(s, 2, 'S');
  SHOW("shared dontneed", madvise(s, 2 * PAGE, MADV_DONTNEED));
  show("shared after dontneed", s, 2);
  SHOW("shared free", madvise(s, PAGE, MADV_FREE));
  SHOW("shared wipeonfork", madvise(s, PAGE, MADV_WIPEONFORK));
  SHOW("shared remove", madvise(s, PAGE, MADV_REMOVE));
  show("shared after remove", s, 2);

  /* Fork: DONTFORK leaves the child without the range, WIPEONFORK gives it zeros. */
  char *nf = map(1, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  char *wf = map(2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  nf[0] = 'N';
  fill(wf, 2, 'W');
  SHOW("dontfork", madvise(nf, PAGE, MADV_DONTFORK));
  SHOW("wipeonfork", madvise(wf, PAGE, MADV_WIPEONFORK));
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    printf("child: dontfork mapped=%d\n", mapped(nf));
    show("child: wipeonfork", wf, 2);
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  show("parent: dontfork", nf, 1);
  show("parent: wipeonfork", wf, 2);
  SHOW("dofork", madvise(nf, PAGE, MADV_DOFORK));
  SHOW("keeponfork", madvise(wf, PAGE, MADV_KEEPONFORK));
  pid = fork();
  if (pid == 0) {
    printf("child: dofork mapped=%d\n", mapped(nf));
    show("child: keeponfork", wf, 2);
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);

  /* Locked memory refuses DONTNEED. */
  char *l = map(2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  l[0] = 'L';
  SHOW("mlock", mlock(l, 2 * PAGE));
  SHOW("dontneed on locked", madvise(l, PAGE, MADV_DONTNEED));
  SHOW("free on locked", madvise(l, PAGE, MADV_FREE));
  SHOW("dontneed_locked on locked", madvise(l, PAGE, MADV_DONTNEED_LOCKED));
  show("locked after dontneed_locked", l, 1);
  SHOW("msync invalidate locked", msync(l, PAGE, MS_INVALIDATE));
  SHOW("munlock", munlock(l, 2 * PAGE));
  SHOW("msync invalidate unlocked", msync(l, PAGE, MS_INVALIDATE));
}

static void test_msync_mincore(void) {
  char *p = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  SHOW("msync sync", msync(p, 4 * PAGE, MS_SYNC));
  SHOW("msync async", msync(p, 4 * PAGE, MS_ASYNC));
  SHOW("msync none", msync(p, 4 * PAGE, 0));
  SHOW("msync async|sync", msync(p, PAGE, MS_ASYNC | MS_SYNC));
  SHOW("msync unknown bit", msync(p, PAGE, 8));
  SHOW("msync unaligned", msync(p + 1, PAGE, MS_SYNC));
  SHOW("msync zero length", msync(hole(1), 0, MS_SYNC));
  SHOW("msync unmapped", msync(hole(2), 2 * PAGE, MS_SYNC));
  SHOW("msync unmapped async", msync(hole(2), 2 * PAGE, MS_ASYNC));
  munmap(p + PAGE, PAGE);
  SHOW("msync over a hole", msync(p, 4 * PAGE, MS_SYNC));
  SHOW("msync into the guard", msync(p + 2 * PAGE, 3 * PAGE, MS_SYNC));

  char *q = map(3, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  q[PAGE] = 1;
  core("mincore", q, 3);
  q[2 * PAGE + 100] = 1;
  core("mincore partial page length", q, 3);
  unsigned char v[8];
  SHOW("mincore unaligned", mincore(q + 1, PAGE, v));
  SHOW("mincore unmapped", mincore(hole(2), PAGE, v));
  SHOW("mincore null vec", mincore(q, PAGE, NULL));
  SHOW("mincore read-only vec", mincore(q, PAGE, (unsigned char *)test_msync_mincore));
  SHOW("mincore zero length", mincore(hole(1), 0, v));
  SHOW("mincore huge", mincore(q, 1UL << 62, v));
  memset(v, 7, sizeof v);
  munmap(q + 2 * PAGE, PAGE);
  long r = mincore(q, 3 * PAGE, v);
  printf("mincore into a hole: %s %d%d%d\n", err(r), v[0], v[1], v[2]);
}

static void test_mlock(void) {
  char *p = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  SHOW("mlock unaligned", mlock(p + 10, PAGE));
  core("mlocked", p, 4);
  SHOW("munlock", munlock(p, 4 * PAGE));
  char *q = map(4, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  SHOW("mlock2 onfault", syscall(SYS_mlock2, q, 4 * PAGE, MLOCK_ONFAULT));
  core("onfault", q, 4);
  SHOW("mlock2 bad flags", syscall(SYS_mlock2, q, PAGE, 2));
  SHOW("mlock2", syscall(SYS_mlock2, q, PAGE, 0));
  core("mlock2", q, 4);
  SHOW("mlock zero length", mlock(hole(1), 0));
  SHOW("mlock unmapped", mlock(hole(2), PAGE));
  SHOW("munlock unmapped", munlock(hole(2), PAGE));
  munmap(q + 2 * PAGE, PAGE);
  SHOW("mlock over a hole", mlock(q, 4 * PAGE));
  core("locked before the hole", q, 2);
  SHOW("munlockall", munlockall());
  SHOW("mlockall 0", mlockall(0));
  SHOW("mlockall onfault alone", mlockall(MCL_ONFAULT));
  SHOW("mlockall unknown", mlockall(8));
  SHOW("mlockall future", mlockall(MCL_FUTURE));
  char *f = map(2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  core("future mapping", f, 2);
  SHOW("mlockall future onfault", mlockall(MCL_FUTURE | MCL_ONFAULT));
  char *g = map(2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  core("future onfault mapping", g, 2);
  SHOW("munlockall", munlockall());
  char *h = map(2, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  core("after munlockall", h, 2);

  /* Unprivileged: RLIMIT_MEMLOCK counts. */
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    struct rlimit rl = {16 * PAGE, 16 * PAGE};
    SHOW("child setrlimit", setrlimit(RLIMIT_MEMLOCK, &rl));
    SHOW("child setuid", setuid(65534));
    char *c = map(32, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    SHOW("child mlock 8", mlock(c, 8 * PAGE));
    SHOW("child mlock 8 again", mlock(c, 8 * PAGE));
    SHOW("child mlock 8 more", mlock(c + 8 * PAGE, 8 * PAGE));
    SHOW("child mlock 1 more", mlock(c + 16 * PAGE, PAGE));
    SHOW("child mlockall current", mlockall(MCL_CURRENT));
    SHOW("child munlock", munlock(c, 16 * PAGE));
    SHOW("child mlock 17", mlock(c, 17 * PAGE));
    struct rlimit zero = {0, 0};
    SHOW("child setrlimit 0", setrlimit(RLIMIT_MEMLOCK, &zero));
    SHOW("child mlock no limit", mlock(c, PAGE));
    SHOW("child mlockall no limit", mlockall(MCL_FUTURE));
    SHOW("child munlock no limit", munlock(c, PAGE));
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
}

#define MB_QUERY 0
#define MB_GLOBAL 1
#define MB_GLOBAL_EXPEDITED 2
#define MB_REGISTER_GLOBAL_EXPEDITED 4
#define MB_PRIVATE_EXPEDITED 8
#define MB_REGISTER_PRIVATE_EXPEDITED 16
#define MB_PRIVATE_EXPEDITED_SYNC_CORE 32
#define MB_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE 64
#define MB_GET_REGISTRATIONS 512

static long mb(int cmd, unsigned flags) { return syscall(SYS_membarrier, cmd, flags, 0); }

static int stop_spinning;

static void *spin_until_stopped(void *arg) {
  while (!__atomic_load_n(&stop_spinning, __ATOMIC_SEQ_CST)) {
  }
  return arg;
}

static void test_membarrier(void) {
  long q = mb(MB_QUERY, 0);
  /* The RSEQ commands depend on the kernel: only the others are compared. */
  printf("membarrier query: %s mask=%#lx\n", err(q), q & 0x27f);
  SHOW("membarrier query with flags", mb(MB_QUERY, 1));
  SHOW("membarrier unknown", mb(3, 0));
  SHOW("membarrier global", mb(MB_GLOBAL, 0));
  SHOW("membarrier global expedited", mb(MB_GLOBAL_EXPEDITED, 0));
  SHOW("membarrier private unregistered", mb(MB_PRIVATE_EXPEDITED, 0));
  SHOW("membarrier sync core unregistered", mb(MB_PRIVATE_EXPEDITED_SYNC_CORE, 0));
  printf("membarrier registrations: %ld\n", mb(MB_GET_REGISTRATIONS, 0));
  SHOW("membarrier register sync core", mb(MB_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0));
  SHOW("membarrier private after sync core", mb(MB_PRIVATE_EXPEDITED, 0));
  SHOW("membarrier sync core", mb(MB_PRIVATE_EXPEDITED_SYNC_CORE, 0));
  printf("membarrier registrations: %ld\n", mb(MB_GET_REGISTRATIONS, 0));
  SHOW("membarrier register private", mb(MB_REGISTER_PRIVATE_EXPEDITED, 0));
  SHOW("membarrier private", mb(MB_PRIVATE_EXPEDITED, 0));
  SHOW("membarrier register global", mb(MB_REGISTER_GLOBAL_EXPEDITED, 0));
  SHOW("membarrier private with flags", mb(MB_PRIVATE_EXPEDITED, 1));
  printf("membarrier registrations: %ld\n", mb(MB_GET_REGISTRATIONS, 0));
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    printf("child membarrier registrations: %ld\n", mb(MB_GET_REGISTRATIONS, 0));
    SHOW("child membarrier private", mb(MB_PRIVATE_EXPEDITED, 0));
    fflush(stdout);
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  /* Barriers while another thread of the process runs guest code (they interrupt it). */
  pthread_t spinner;
  pthread_create(&spinner, NULL, spin_until_stopped, NULL);
  long bad = 0;
  for (int i = 0; i < 50; i++) bad += mb(MB_PRIVATE_EXPEDITED, 0) != 0;
  __atomic_store_n(&stop_spinning, 1, __ATOMIC_SEQ_CST);
  pthread_join(spinner, NULL);
  printf("membarrier with a thread running: %ld failed of 50\n", bad);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  test_mremap();
  test_madvise();
  test_msync_mincore();
  test_mlock();
  test_membarrier();
  printf("done\n");
  return 0;
}
