/* eventfd (counter and semaphore modes, EAGAIN, poll) and timerfd (one-shot and periodic
   expirations, gettime, a blocking read that waits for the expiry). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r) {
  int e = errno;
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(e) : "");
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  int e = eventfd(3, EFD_NONBLOCK | EFD_CLOEXEC);
  uint64_t v = 0;
  show("read", read(e, &v, 8));
  printf("value %lu\n", (unsigned long)v);
  show("read empty", read(e, &v, 8));
  show("read short", read(e, &v, 4));
  v = 5;
  show("write", write(e, &v, 8));
  struct pollfd p = {e, POLLIN | POLLOUT, 0};
  long r = poll(&p, 1, 0);
  printf("poll = %ld revents %x\n", r, p.revents);
  v = UINT64_MAX;
  show("write max", write(e, &v, 8));
  int s = eventfd(2, EFD_SEMAPHORE);
  read(s, &v, 8);
  printf("semaphore read %lu\n", (unsigned long)v);
  int t = timerfd_create(CLOCK_MONOTONIC, 0);
  struct itimerspec its = {{0, 0}, {0, 20000000}};
  show("settime", timerfd_settime(t, 0, &its, 0));
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  show("read blocks for the expiry", read(t, &v, 8));
  clock_gettime(CLOCK_MONOTONIC, &b);
  long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
  printf("expirations %lu waited>=15ms %d\n", (unsigned long)v, ms >= 15);
  struct itimerspec cur;
  show("gettime disarmed", timerfd_gettime(t, &cur));
  printf("disarmed %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
  struct itimerspec per = {{0, 10000000}, {0, 10000000}};
  timerfd_settime(t, 0, &per, 0);
  usleep(55000);
  read(t, &v, 8);
  printf("periodic expirations >= 4: %d\n", v >= 4);
  show("bad clock", timerfd_create(12345, 0));
  return 0;
}
