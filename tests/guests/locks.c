/* fcntl record locks within one process (its own POSIX locks never conflict; F_GETLK says
   F_UNLCK), OFD locks between two descriptions (they do), unlock of a middle range,
   F_SETPIPE_SZ/F_GETPIPE_SZ and the errnos of bad requests. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void show(const char *what, long r) {
  int e = errno;
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(e) : "");
}

static void getlk(int fd, int cmd, short type, long start, long len, const char *what) {
  struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
  long r = fcntl(fd, cmd, &fl);
  printf("%s = %ld type=%d start=%ld len=%ld pid=%s\n", what, r, fl.l_type, (long)fl.l_start, (long)fl.l_len,
         fl.l_type == F_UNLCK ? "-" : (fl.l_pid == -1 ? "-1" : "self"));
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  char path[] = "/tmp/sandbox-locks-XXXXXX";
  int a = mkstemp(path);
  int b = open(path, O_RDWR);
  write(a, "0123456789", 10);
  struct flock w = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  show("posix setlk", fcntl(a, F_SETLK, &w));
  getlk(b, F_GETLK, F_WRLCK, 0, 10, "posix getlk same process");
  struct flock o = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 2, .l_len = 4};
  show("ofd setlk a", fcntl(a, F_OFD_SETLK, &o));
  getlk(b, F_OFD_GETLK, F_RDLCK, 0, 0, "ofd getlk from b");
  struct flock r = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 3, .l_len = 1};
  show("ofd setlk b conflicts", fcntl(b, F_OFD_SETLK, &r));
  struct flock u = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 3, .l_len = 2};
  show("ofd unlock middle", fcntl(a, F_OFD_SETLK, &u));
  show("ofd setlk b now", fcntl(b, F_OFD_SETLK, &r));
  getlk(b, F_OFD_GETLK, F_WRLCK, 0, 0, "ofd getlk rest");
  struct flock bad = {.l_type = 7, .l_whence = SEEK_SET};
  show("bad type", fcntl(a, F_SETLK, &bad));
  struct flock badw = {.l_type = F_RDLCK, .l_whence = 9};
  show("bad whence", fcntl(a, F_SETLK, &badw));
  struct flock neg = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = -5, .l_len = 1};
  show("negative start", fcntl(a, F_SETLK, &neg));
  struct flock pid = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_pid = 1};
  show("ofd with pid", fcntl(a, F_OFD_SETLK, &pid));
  int ro = open(path, O_RDONLY);
  show("write lock on read-only fd", fcntl(ro, F_SETLK, &w));
  int p[2];
  pipe(p);
  show("getpipe", fcntl(p[0], F_GETPIPE_SZ));
  show("setpipe 5000", fcntl(p[1], F_SETPIPE_SZ, 5000));
  show("getpipe after", fcntl(p[0], F_GETPIPE_SZ));
  show("pipe size on a file", fcntl(a, F_GETPIPE_SZ));
  unlink(path);
  return 0;
}
