/* RLIMIT_CPU: a child with a soft limit of 1 s and a hard limit of 3 s spins without system
   calls. It gets SIGXCPU past 1 s of CPU (and again each second; its handler counts), then
   SIGKILL past 3 s. A second child leaves SIGXCPU at its default action and dies of it.
   Run natively and sandboxed; the outputs are compared. */
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int warnings;
static void on_xcpu(int sig) {
  (void)sig;
  warnings++;
  if (warnings == 1) write(1, "child: SIGXCPU\n", 15);
}

static void child(int handle) {
  struct rlimit r = {1, 3};
  setrlimit(RLIMIT_CPU, &r);
  if (handle) signal(SIGXCPU, on_xcpu);
  for (volatile unsigned long i = 0;; i++) {
  }
}

int main(void) {
  for (int handle = 1; handle >= 0; handle--) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) child(handle);
    int st = 0;
    waitpid(c, &st, 0);
    if (WIFSIGNALED(st)) printf("%s: killed by %d\n", handle ? "with a handler" : "default action", WTERMSIG(st));
    else printf("exited %d\n", WEXITSTATUS(st));
  }
  return 0;
}
