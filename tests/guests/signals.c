/* Signal delivery: handlers (plain and SA_SIGINFO), masks and sigpending, sa_mask during a
   handler, SA_RESETHAND, sigaltstack, sigsuspend woken by a child's kill, SIGCHLD on a child's
   exit, a SIGSEGV handler leaving through siglongjmp, SIGPIPE ignored and default, and a blocked
   read interrupted by a signal (EINTR). Prints what it saw; compared with a native run. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t hits, last_sig, chld, usr1_blocked_inside, on_alt;
static volatile int info_code, info_pid_ok, info_signo;
static sigjmp_buf jump;
static char alt[65536];

static void plain(int sig) {
  hits++;
  last_sig = sig;
  sigset_t now;
  sigprocmask(SIG_SETMASK, NULL, &now);
  usr1_blocked_inside = sigismember(&now, SIGUSR1);
  char here;
  on_alt = &here >= alt && &here < alt + sizeof alt;
}

static void with_info(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  info_signo = si->si_signo;
  info_code = si->si_code;
  info_pid_ok = si->si_pid == getpid();
  hits++;
  last_sig = sig;
}

static void on_chld(int sig) { (void)sig; chld++; }
static void on_segv(int sig) { (void)sig; siglongjmp(jump, 1); }

static void set(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigaction(sig, &sa, NULL);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);

  set(SIGUSR1, plain, 0);
  raise(SIGUSR1);
  printf("plain: hits=%d sig=%d usr1 blocked inside=%d alt=%d\n", hits, last_sig, usr1_blocked_inside, on_alt);

  set(SIGUSR1, plain, SA_NODEFER);
  raise(SIGUSR1);
  printf("nodefer: usr1 blocked inside=%d\n", usr1_blocked_inside);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = with_info;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR2, &sa, NULL);
  kill(getpid(), SIGUSR2);
  printf("siginfo: signo=%d code=%d pid ok=%d\n", info_signo, info_code, info_pid_ok);
  raise(SIGUSR2);
  printf("raise siginfo: code=%d\n", info_code);

  sigset_t set_usr1, pending, old;
  sigemptyset(&set_usr1);
  sigaddset(&set_usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set_usr1, &old);
  hits = 0;
  raise(SIGUSR1);
  raise(SIGUSR1);
  sigpending(&pending);
  printf("blocked: hits=%d pending usr1=%d usr2=%d\n", hits, sigismember(&pending, SIGUSR1), sigismember(&pending, SIGUSR2));
  sigprocmask(SIG_SETMASK, &old, NULL);
  printf("unblocked: hits=%d (standard signals do not queue twice)\n", hits);

  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
  printf("sigaltstack = %d\n", sigaltstack(&ss, NULL));
  set(SIGUSR1, plain, SA_ONSTACK);
  raise(SIGUSR1);
  printf("onstack: alt=%d\n", on_alt);
  stack_t cur;
  sigaltstack(NULL, &cur);
  printf("altstack flags after=%d size ok=%d\n", cur.ss_flags, cur.ss_size == sizeof alt);

  set(SIGCHLD, on_chld, 0);
  sigprocmask(SIG_BLOCK, &set_usr1, &old);
  set(SIGUSR1, plain, 0);
  hits = 0;
  pid_t child = fork();
  if (child == 0) {
    kill(getppid(), SIGUSR1);
    _exit(3);
  }
  sigset_t wait_mask = old;
  sigdelset(&wait_mask, SIGUSR1);
  int r = sigsuspend(&wait_mask);
  printf("sigsuspend = %d errno=%s hits=%d\n", r, strerror(errno), hits);
  sigset_t after;
  sigprocmask(SIG_SETMASK, NULL, &after);
  printf("mask restored after sigsuspend: usr1 blocked=%d\n", sigismember(&after, SIGUSR1));
  sigprocmask(SIG_SETMASK, &old, NULL);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  printf("child status=%d sigchld seen=%d\n", WEXITSTATUS(status), chld > 0);

  set(SIGSEGV, on_segv, SA_NODEFER);
  if (sigsetjmp(jump, 1) == 0) {
    *(volatile int *)8 = 1;
    printf("no fault?\n");
  } else {
    printf("segv handled, back by siglongjmp\n");
  }

  int p[2];
  pipe(p);
  close(p[0]);
  signal(SIGPIPE, SIG_IGN);
  r = write(p[1], "x", 1);
  printf("ignored SIGPIPE: write=%d errno=%s\n", r, strerror(errno));
  close(p[1]);
  child = fork();
  if (child == 0) {
    signal(SIGPIPE, SIG_DFL);
    pipe(p);
    close(p[0]);
    write(p[1], "x", 1);
    _exit(0);
  }
  waitpid(child, &status, 0);
  printf("default SIGPIPE: signaled=%d sig=%d\n", WIFSIGNALED(status), WTERMSIG(status));

  set(SIGUSR1, plain, SA_RESETHAND);
  child = fork();
  if (child == 0) {
    raise(SIGUSR1);
    printf("child: first SIGUSR1 handled\n");
    raise(SIGUSR1);
    _exit(0);
  }
  waitpid(child, &status, 0);
  printf("resethand: signaled=%d sig=%d\n", WIFSIGNALED(status), WTERMSIG(status));

  set(SIGUSR1, plain, 0);
  pipe(p);
  child = fork();
  if (child == 0) {
    usleep(100000);
    kill(getppid(), SIGUSR1);
    usleep(100000);
    _exit(0);
  }
  char c;
  hits = 0;
  r = read(p[0], &c, 1);
  printf("read interrupted: %d errno=%s hits=%d\n", r, strerror(errno), hits);
  waitpid(child, &status, 0);

  set(SIGUSR1, plain, SA_RESTART);
  child = fork();
  if (child == 0) {
    usleep(100000);
    kill(getppid(), SIGUSR1);
    usleep(100000);
    write(p[1], "y", 1);
    _exit(0);
  }
  hits = 0;
  r = read(p[0], &c, 1);
  printf("read restarted: %d %c hits=%d\n", r, c, hits);
  waitpid(child, &status, 0);

  signal(SIGTERM, SIG_IGN);
  raise(SIGTERM);
  printf("ignored SIGTERM survived\n");
  signal(SIGTERM, SIG_DFL);
  raise(SIGTERM);
  printf("not reached\n");
  return 0;
}
