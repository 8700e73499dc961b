/* A process whose first thread ends before the others: its first thread calls pthread_exit, a
   second thread starts a third and ends, and the third ends the process. Then more children
   run, each using a signal (a timer's SIGALRM while it spins), so that a child running where
   the odd process ran would show a broken thread. Run natively and sandboxed; the outputs
   are compared. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static void *third(void *arg) {
  (void)arg;
  usleep(10000);
  exit(7);
}

static void *second(void *arg) {
  (void)arg;
  usleep(10000);
  pthread_t t;
  pthread_create(&t, 0, third, 0);
  pthread_exit(0);
}

static void odd_process(void) {
  pthread_t t;
  pthread_create(&t, 0, second, 0);
  pthread_exit(0);
}

static volatile sig_atomic_t rang;
static void on_alarm(int sig) {
  (void)sig;
  rang = 1;
}

int main(void) {
  // Time for the sandbox to make its spare stubs (see cpubase.c).
  usleep(300000);
  for (int round = 0; round < 3; round++) {
    fflush(stdout);
    pid_t odd = fork();
    if (odd == 0) odd_process();
    int status;
    waitpid(odd, &status, 0);
    printf("round %d: odd process %s %d\n", round, WIFEXITED(status) ? "exited" : "killed by", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    for (int i = 0; i < 3; i++) {
      fflush(stdout);
      pid_t c = fork();
      if (c == 0) {
        signal(SIGALRM, on_alarm);
        struct itimerval it = {.it_value = {.tv_usec = 50000}};
        setitimer(ITIMER_REAL, &it, 0);
        while (!rang) {
        }
        _exit(0);
      }
      waitpid(c, &status, 0);
      printf("round %d child %d: %s\n", round, i, WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "alarm taken" : "failed");
    }
  }
  return 0;
}
