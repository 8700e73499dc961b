/* sigcont: SIGCONT's and stop signals' side effects whoever the signal is sent to. A stopped
   process is continued by a SIGCONT sent to one of its threads (tgkill), and a SIGCONT sent to
   the process discards a pending (blocked) SIGTSTP, as a SIGTSTP discards a pending SIGCONT. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *what, int st) {
  if (WIFSTOPPED(st)) printf("%s: stopped by %d\n", what, WSTOPSIG(st));
  else if (WIFCONTINUED(st)) printf("%s: continued\n", what);
  else if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
  else printf("%s: signaled %d\n", what, WTERMSIG(st));
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int go[2];
  if (pipe(go)) return 1;
  pid_t c = fork();
  if (c == 0) {
    raise(SIGSTOP);
    char b;
    /* Ends only once the parent has seen it continued (an exit would be reported first). */
    _exit(read(go[0], &b, 1) == 1 ? 4 : 5);
  }
  int st;
  waitpid(c, &st, WUNTRACED);
  report("child", st);
  printf("tgkill(SIGCONT) = %ld\n", syscall(SYS_tgkill, c, c, SIGCONT));
  waitpid(c, &st, WCONTINUED);
  report("child", st);
  if (write(go[1], "x", 1) != 1) return 1;
  waitpid(c, &st, 0);
  report("child", st);

  sigset_t tstp, cont, pend;
  sigemptyset(&tstp);
  sigaddset(&tstp, SIGTSTP);
  sigemptyset(&cont);
  sigaddset(&cont, SIGCONT);
  sigprocmask(SIG_BLOCK, &tstp, NULL);
  kill(getpid(), SIGTSTP);
  sigpending(&pend);
  printf("SIGTSTP pending after kill: %d\n", sigismember(&pend, SIGTSTP));
  kill(getpid(), SIGCONT);
  sigpending(&pend);
  printf("SIGTSTP pending after SIGCONT: %d\n", sigismember(&pend, SIGTSTP));
  sigprocmask(SIG_BLOCK, &cont, NULL);
  kill(getpid(), SIGCONT);
  sigpending(&pend);
  printf("SIGCONT pending after kill: %d\n", sigismember(&pend, SIGCONT));
  syscall(SYS_tgkill, getpid(), getpid(), SIGTSTP);
  sigpending(&pend);
  printf("SIGCONT pending after tgkill(SIGTSTP): %d\n", sigismember(&pend, SIGCONT));
  return 0;
}
