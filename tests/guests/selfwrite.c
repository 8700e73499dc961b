/* write(2) whose source is a shared mapping of the file it writes, overlapping the
   destination, both ways, and a large write of fresh data, in a directory given as argv[1]
   (a tmpfs natively, /dev/shm, as the sandbox's is): the kernel copies page by page in file
   order, so a source behind its destination sees pages the same call already wrote. The
   outputs of a native and a sandboxed run are compared. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGES 16
#define PAGE 4096

static void show(const char *what, const char *m) {
  printf("%-28s ", what);
  for (int i = 0; i < PAGES; i++) putchar(m[i * PAGE]);
  putchar('\n');
}

int main(int argc, char **argv) {
  char path[256];
  snprintf(path, sizeof path, "%s/selfwrite-XXXXXX", argc > 1 ? argv[1] : "/dev/shm");
  int fd = mkstemp(path);
  if (fd < 0) return perror("mkstemp"), 1;
  unlink(path);
  static char buf[PAGES * PAGE];
  for (int i = 0; i < PAGES; i++) memset(buf + i * PAGE, 'a' + i, PAGE);
  if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) return perror("write"), 1;
  char *m = mmap(NULL, sizeof buf, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return perror("mmap"), 1;
  show("start", m);
  printf("forward: %zd\n", pwrite(fd, m, 8 * PAGE, PAGE));
  show("source before destination", m);
  printf("backward: %zd\n", pwrite(fd, m + 2 * PAGE, 8 * PAGE, 0));
  show("source after destination", m);
  /* Unaligned, across pages, from the mapping into itself. */
  printf("unaligned: %zd\n", pwrite(fd, m + 100, 3 * PAGE + 7, PAGE + 50));
  show("unaligned", m);
  /* A small one inside a page, the source 3 bytes behind: every byte of it shown. */
  memcpy(m + 5 * PAGE, "0123456789abcdef", 16);
  printf("small: %zd ", pwrite(fd, m + 5 * PAGE, 13, 5 * PAGE + 3));
  printf("%.16s\n", m + 5 * PAGE);
  /* A large write of fresh data past the end, read back through the mapping's file. */
  static char big[1 << 20];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 7 + i / 4096);
  printf("big: %zd\n", pwrite(fd, big, sizeof big, sizeof buf));
  static char back[1 << 20];
  ssize_t n = pread(fd, back, sizeof back, sizeof buf);
  printf("read back: %zd same=%d\n", n, !memcmp(big, back, sizeof big));
  return 0;
}
