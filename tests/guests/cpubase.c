/* CPU time is a process's own: a child that spins 300 ms of CPU ends, then each of several
   children (which may run where the first ran: the sandbox reuses the host processes it runs
   guests in) reads its own clocks at once. Every reading must be small, as on Linux: the
   process and thread CPU clocks, times(), getrusage(RUSAGE_SELF), and the parent's view of
   the child through wait4's rusage. Run natively and sandboxed; the outputs are compared. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void spin(double seconds) {
  double end = clock_s(CLOCK_PROCESS_CPUTIME_ID) + seconds;
  while (clock_s(CLOCK_PROCESS_CPUTIME_ID) < end) {
  }
}

int main(void) {
  const double small = 0.1;
  // Time for the sandbox to make its spare stubs: the busy child then runs in one of them, which
  // serves a later child when the busy one has ended.
  usleep(300000);
  pid_t busy = fork();
  if (busy == 0) {
    spin(0.3);
    _exit(0);
  }
  struct rusage ru;
  wait4(busy, 0, 0, &ru);
  printf("busy child used >= 0.25 s: %d\n", ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6 >= 0.25);
  for (int i = 0; i < 4; i++) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
      struct tms t;
      times(&t);
      struct rusage self;
      getrusage(RUSAGE_SELF, &self);
      double ticks = sysconf(_SC_CLK_TCK);
      printf("child %d: process clock small %d, thread clock small %d, times small %d, rusage small %d\n", i,
             clock_s(CLOCK_PROCESS_CPUTIME_ID) < small, clock_s(CLOCK_THREAD_CPUTIME_ID) < small,
             (t.tms_utime + t.tms_stime) / ticks < small,
             self.ru_utime.tv_sec + self.ru_stime.tv_sec + (self.ru_utime.tv_usec + self.ru_stime.tv_usec) * 1e-6 < small);
      fflush(stdout);
      _exit(0);
    }
    wait4(c, 0, 0, &ru);
    printf("child %d as its parent saw it: small %d\n", i, ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6 < small);
  }
  return 0;
}
