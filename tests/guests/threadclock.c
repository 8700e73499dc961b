/* threadclock: a thread's CPU clock counts its own time, not its process's: the first thread
   sleeps while another spins for 0.3 s of CPU; afterwards the first thread's clock (read by
   CLOCK_THREAD_CPUTIME_ID and by pthread_getcpuclockid) shows little, the process's much. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static double cpu(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *spin(void *arg) {
  (void)arg;
  double t0 = cpu(CLOCK_THREAD_CPUTIME_ID);
  while (cpu(CLOCK_THREAD_CPUTIME_ID) - t0 < 0.3) {
  }
  return NULL;
}

int main(void) {
  pthread_t th;
  double t0 = cpu(CLOCK_THREAD_CPUTIME_ID), p0 = cpu(CLOCK_PROCESS_CPUTIME_ID);
  pthread_create(&th, NULL, spin, NULL);
  pthread_join(th, NULL);
  double mine = cpu(CLOCK_THREAD_CPUTIME_ID) - t0, all = cpu(CLOCK_PROCESS_CPUTIME_ID) - p0;
  clockid_t c;
  pthread_getcpuclockid(pthread_self(), &c);
  double by_id = cpu(c);
  printf("first thread used < 0.1 s: %d\n", mine < 0.1);
  printf("process used >= 0.3 s: %d\n", all >= 0.3);
  printf("pthread_getcpuclockid clock < 0.2 s: %d\n", by_id >= 0 && by_id < 0.2);
  return 0;
}
