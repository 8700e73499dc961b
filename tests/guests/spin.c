/* A guest that computes without making system calls still gets its signals: an alarm handler
   ends a busy loop; with "forever", it spins until a signal from outside ends it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t fired;
static void on_alarm(int sig) { (void)sig; fired = 1; }

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "forever") == 0) {
    printf("ready\n");
    fflush(stdout);
    for (;;) {}
  }
  signal(SIGALRM, on_alarm);
  alarm(1);
  unsigned long spins = 0;
  while (!fired) spins++;
  printf("alarm ended a busy loop: %d\n", spins > 0);
  return 0;
}
