/* splice between a file and a pipe both ways, tee between two pipes, preadv2/pwritev2 with
   an explicit offset and with -1 (the file position), and their errnos. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, long r) {
  int e = errno;
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(e) : "");
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  char path[] = "/tmp/sandbox-splice-XXXXXX";
  int fd = mkstemp(path);
  write(fd, "hello splice world", 18);
  int p[2], q[2];
  pipe(p);
  pipe(q);
  loff_t off = 6;
  show("splice file->pipe", splice(fd, &off, p[1], 0, 6, 0));
  printf("off %ld\n", (long)off);
  show("tee", tee(p[0], q[1], 100, 0));
  char b[32] = {0};
  show("read q", read(q[0], b, sizeof b));
  printf("q has [%s]\n", b);
  loff_t at = 0;
  show("splice pipe->file", splice(p[0], 0, fd, &at, 6, 0));
  pread(fd, b, 18, 0);
  b[18] = 0;
  printf("file [%s]\n", b);
  show("splice no pipe", splice(fd, 0, fd, 0, 1, 0));
  show("splice offset on pipe", splice(p[0], &at, fd, 0, 1, 0));
  show("tee not pipes", tee(fd, q[1], 1, 0));
  struct iovec v = {b, 5};
  show("preadv2 at 6", preadv2(fd, &v, 1, 6, 0));
  b[5] = 0;
  printf("got [%s]\n", b);
  lseek(fd, 13, SEEK_SET);
  show("preadv2 at -1", preadv2(fd, &v, 1, -1, 0));
  printf("pos now %ld\n", (long)lseek(fd, 0, SEEK_CUR));
  struct iovec w = {"XY", 2};
  show("pwritev2 append", pwritev2(fd, &w, 1, 0, RWF_APPEND));
  printf("size %ld\n", (long)lseek(fd, 0, SEEK_END));
  show("preadv2 bad flags", preadv2(fd, &v, 1, 0, 0x1000));
  unlink(path);
  return 0;
}
