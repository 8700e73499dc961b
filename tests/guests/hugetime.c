/* Hostile time values: timeouts and intervals of ~2^63 seconds (ppoll, nanosleep, setitimer)
   sleep "forever" (cut short here by an alarm) instead of overflowing the clock arithmetic. */
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>
#include <signal.h>
#include <poll.h>
#include <sys/time.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
static void nop(int s) { (void)s; }
int main(void) {
  struct timespec big = {0x7fffffffffffffffL, 0};
  struct timespec t0 = {0, 1000000};
  signal(SIGALRM, nop);
  struct itimerval it = {{0x7fffffffffffffL, 0}, {0, 1000}};
  printf("setitimer huge interval %d\n", setitimer(ITIMER_REAL, &it, NULL));
  struct itimerval z = {0};
  setitimer(ITIMER_REAL, &z, NULL);
  alarm(1);
  int r = ppoll(NULL, 0, &big, NULL);
  printf("ppoll huge: %d %s\n", r, strerror(errno));
  alarm(1);
  r = nanosleep(&big, NULL);
  printf("nanosleep huge: %d %s\n", r, strerror(errno));
  (void)t0;
  return 0;
}
