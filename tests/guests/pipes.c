/* Pipes, poll and select inside one process: readiness, O_NONBLOCK through F_SETFL, EAGAIN,
   EOF and POLLHUP when the writer goes, EPIPE when the reader goes, poll timeouts, POLLNVAL,
   /dev/null, /dev/zero and /dev/full. Prints only what is the same natively. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r) {
  int e = errno;
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(e) : "");
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  signal(SIGPIPE, SIG_IGN);
  int p[2];
  show("pipe2", pipe2(p, O_CLOEXEC));
  struct pollfd f[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
  long r = poll(f, 2, 0);
  printf("poll empty = %ld in=%x out=%x\n", r, f[0].revents, f[1].revents);
  show("write", write(p[1], "abc", 3));
  r = poll(f, 1, 100);
  printf("poll data = %ld in=%x\n", r, f[0].revents);
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(p[0], &rs);
  struct timeval tv = {0, 1000};
  r = select(p[0] + 1, &rs, 0, 0, &tv);
  printf("select = %ld isset=%d\n", r, FD_ISSET(p[0], &rs));
  char b[16] = {0};
  show("read", read(p[0], b, sizeof b));
  printf("got %s\n", b);
  show("setfl nonblock", fcntl(p[0], F_SETFL, O_NONBLOCK));
  printf("getfl nonblock = %d\n", (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
  show("read empty", read(p[0], b, sizeof b));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  r = poll(f, 1, 50);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  printf("poll timeout = %ld waited>=50ms=%d\n", r, ms >= 50);
  close(p[1]);
  r = poll(f, 1, -1);
  printf("poll writer gone = %ld in=%x\n", r, f[0].revents);
  show("read eof", read(p[0], b, sizeof b));
  show("pipe", pipe(p));
  close(p[0]);
  show("write no reader", write(p[1], "x", 1));
  struct pollfd bad = {99, POLLIN, 0};
  r = poll(&bad, 1, 0);
  printf("poll bad fd = %ld revents=%x\n", r, bad.revents);
  int n = open("/dev/null", O_RDWR);
  show("write /dev/null", write(n, "hello", 5));
  show("read /dev/null", read(n, b, sizeof b));
  int z = open("/dev/zero", O_RDONLY);
  memset(b, 7, sizeof b);
  show("read /dev/zero", read(z, b, 8));
  printf("zeros %d\n", b[0] == 0 && b[7] == 0 && b[8] == 7);
  int full = open("/dev/full", O_WRONLY);
  show("write /dev/full", write(full, "x", 1));
  return 0;
}
