/* Job control seen from the parent: SIGSTOP/SIGCONT through waitpid (WUNTRACED, WCONTINUED)
   and waitid (WSTOPPED, WNOWAIT, WNOHANG), SIGCHLD's codes with and without SA_NOCLDSTOP, a
   child stopping itself with SIGTSTP, a stopped child killed, and a pending stop cancelled by
   SIGCONT. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int codes[16], ncodes;

static void on_chld(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)uc;
  if (ncodes < 16) codes[ncodes++] = si->si_code;
}

static void chld_handler(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_chld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | flags;
  sigaction(SIGCHLD, &sa, NULL);
}

static void show_codes(const char *what) {
  printf("%s: SIGCHLD codes", what);
  for (int i = 0; i < ncodes; i++) printf(" %d", codes[i]);
  printf("\n");
  ncodes = 0;
}

static pid_t idle_child(void) {
  pid_t c = fork();
  if (c == 0) {
    for (;;) pause();
  }
  return c;
}

static void describe(const char *what, int st) {
  if (WIFSTOPPED(st)) printf("%s: stopped by %d\n", what, WSTOPSIG(st));
  else if (WIFCONTINUED(st)) printf("%s: continued\n", what);
  else if (WIFSIGNALED(st)) printf("%s: killed by %d\n", what, WTERMSIG(st));
  else printf("%s: exited %d\n", what, WEXITSTATUS(st));
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int st;
  if (argc > 1 && strcmp(argv[1], "orphaned") == 0) {
    /* A child in our own process group raises SIGTSTP: where that group is orphaned (as
       the sandbox's init's group is: init's parent is outside), the stop is discarded. */
    pid_t c = fork();
    if (c == 0) {
      raise(SIGTSTP);
      _exit(4);
    }
    waitpid(c, &st, WUNTRACED);
    describe("SIGTSTP in an orphaned group", st);
    return 0;
  }
  chld_handler(0);

  pid_t c = idle_child();
  kill(c, SIGSTOP);
  waitpid(c, &st, WUNTRACED);
  describe("after SIGSTOP", st);
  printf("nothing more: %d\n", waitpid(c, &st, WNOHANG | WUNTRACED));
  kill(c, SIGCONT);
  waitpid(c, &st, WCONTINUED);
  describe("after SIGCONT", st);
  /* The continue's SIGCHLD may trail the wait's report: let it land before the next one. */
  for (int i = 0; i < 2000 && ncodes < 2; i++) usleep(1000);
  kill(c, SIGTERM);
  waitpid(c, &st, 0);
  describe("after SIGTERM", st);
  show_codes("stop/cont/term");

  c = fork();
  if (c == 0) {
    /* Its own group, whose parent (us) is in another group of the session: not orphaned, so
       SIGTSTP stops it (in an orphaned group it would be discarded). */
    setpgid(0, 0);
    raise(SIGTSTP);
    _exit(4);
  }
  siginfo_t si;
  memset(&si, 0, sizeof si);
  waitid(P_PID, c, &si, WSTOPPED | WNOWAIT);
  printf("waitid WNOWAIT: code=%d status=%d pid ok=%d\n", si.si_code, si.si_status, si.si_pid == c);
  waitpid(c, &st, WUNTRACED);
  describe("still reported", st);
  kill(c, SIGCONT);
  memset(&si, 0, sizeof si);
  waitid(P_PID, c, &si, WEXITED);
  printf("waitid WEXITED: code=%d status=%d\n", si.si_code, si.si_status);
  /* The continue's and the exit's SIGCHLD may merge (one standard signal pending at a time). */
  printf("tstp: first SIGCHLD code %d\n", codes[0]);
  ncodes = 0;

  chld_handler(SA_NOCLDSTOP);
  c = idle_child();
  kill(c, SIGSTOP);
  waitpid(c, &st, WUNTRACED);
  memset(&si, 0, sizeof si);
  si.si_pid = 99;
  int r = waitid(P_PID, c, &si, WEXITED | WNOHANG);
  printf("waitid WNOHANG nothing: %d si_pid=%d\n", r, si.si_pid);
  kill(c, SIGKILL);
  waitpid(c, &st, 0);
  describe("stopped then SIGKILL", st);
  show_codes("nocldstop");

  r = waitid(P_ALL, 0, &si, 0);
  printf("waitid without options: %d %s\n", r, strerror(errno));
  r = waitpid(-1, &st, 0);
  printf("no children: %d %s\n", r, strerror(errno));
  return 0;
}
