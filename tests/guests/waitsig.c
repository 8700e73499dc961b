/* Waits for signals sent to the sandbox from outside: says "ready", then a SIGTERM handler
   reports what came (and from which pid) and exits 3; SIGINT keeps its default action. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_term(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  printf("got signal %d from pid %d\n", sig, si->si_pid);
  fflush(stdout);
  _exit(3);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_term;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTERM, &sa, NULL);
  /* SIGTERM waits until "ready" is out: a handler using stdio while fflush is under way would
     write the buffer twice (natively too, in a smaller window). */
  sigset_t term, none;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigemptyset(&none);
  sigprocmask(SIG_BLOCK, &term, NULL);
  printf("ready\n");
  fflush(stdout);
  for (;;) sigsuspend(&none);
}
