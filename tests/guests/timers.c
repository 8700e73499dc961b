/* Timers that signal, compared with a native run: alarm (pause woken, the time left returned
   by a second alarm), a periodic ITIMER_REAL with getitimer, POSIX timers with SIGEV_SIGNAL
   (si_code, si_value), an absolute one-shot on CLOCK_MONOTONIC, SIGEV_NONE read back with
   timer_gettime, and timer_delete. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int alarms, rt_hits, rt_code, rt_value;

static void on_alarm(int sig) { (void)sig; alarms++; }
static void on_rt(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)uc;
  rt_hits++;
  rt_code = si->si_code;
  rt_value = si->si_value.sival_int;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  signal(SIGALRM, on_alarm);
  alarm(1);
  pause();
  printf("alarm fired: %d\n", alarms);
  alarm(10);
  printf("second alarm returns the time left: %u\n", alarm(0));

  struct itimerval it = {.it_interval = {0, 50000}, .it_value = {0, 50000}};
  alarms = 0;
  setitimer(ITIMER_REAL, &it, NULL);
  while (alarms < 3) pause();
  struct itimerval cur;
  getitimer(ITIMER_REAL, &cur);
  printf("periodic: %d ticks, interval=%ld us, value in (0,50ms]=%d\n", alarms, (long)cur.it_interval.tv_usec,
         cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 50000);
  struct itimerval off = {0};
  setitimer(ITIMER_REAL, &off, &cur);
  printf("disarmed, old interval=%ld us\n", (long)cur.it_interval.tv_usec);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_rt;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGRTMIN, &sa, NULL);
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGRTMIN;
  ev.sigev_value.sival_int = 77;
  timer_t tid;
  printf("timer_create=%d\n", timer_create(CLOCK_MONOTONIC, &ev, &tid));
  struct itimerspec ts = {.it_value = {0, 30 * 1000 * 1000}};
  timer_settime(tid, 0, &ts, NULL);
  while (rt_hits < 1) pause();
  printf("posix timer: hits=%d code is SI_TIMER=%d value=%d\n", rt_hits, rt_code == SI_TIMER, rt_value);

  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  now.tv_nsec += 30 * 1000 * 1000;
  if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
  ts = (struct itimerspec){.it_value = now};
  timer_settime(tid, TIMER_ABSTIME, &ts, NULL);
  while (rt_hits < 2) pause();
  printf("absolute: hits=%d\n", rt_hits);
  int first = timer_delete(tid);
  int again = timer_delete(tid);
  printf("timer_delete=%d, again=%d %s\n", first, again, strerror(errno));

  ev.sigev_notify = SIGEV_NONE;
  timer_create(CLOCK_REALTIME, &ev, &tid);
  ts = (struct itimerspec){.it_value = {5, 0}, .it_interval = {1, 0}};
  timer_settime(tid, 0, &ts, NULL);
  struct itimerspec got;
  timer_gettime(tid, &got);
  printf("SIGEV_NONE: value in (4,5]s=%d interval=%lds overrun=%d\n", got.it_value.tv_sec == 4 || (got.it_value.tv_sec == 5 && got.it_value.tv_nsec == 0),
         (long)got.it_interval.tv_sec, timer_getoverrun(tid));
  printf("bad clock: %d\n", timer_create(12345, NULL, &tid));
  return 0;
}
