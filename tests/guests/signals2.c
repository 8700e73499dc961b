/* More signal semantics, compared with a native run: a SIGSEGV handler that makes the page
   writable and returns (the store is retried), nested handlers on one sigaltstack, sigqueue
   values through SA_SIGINFO, sigtimedwait with and without a timeout, signalfd (read, poll),
   pause woken by a child, nanosleep cut short with the time left, poll and waitpid interrupted
   (EINTR without SA_RESTART, restarted with it), and SIGCHLD's siginfo for exit and kill. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *page;
static volatile int segv_hits, depth, max_depth, both_on_alt, qval, qcode, chld_code, chld_status, chld_pid_ok;
static char alt[1 << 16];
static volatile pid_t expect_pid;

static int on_alt(void) {
  char here;
  return &here >= alt && &here < alt + sizeof alt;
}

static void segv(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)uc;
  segv_hits++;
  printf("segv at page+%ld code=%s\n", (long)((char *)si->si_addr - page), si->si_code == SEGV_ACCERR ? "ACCERR" : "MAPERR");
  mprotect(page, 4096, PROT_READ | PROT_WRITE);
}

static void nested(int sig) {
  int alt_now = on_alt();
  depth++;
  if (depth > max_depth) max_depth = depth;
  if (sig == SIGUSR1) {
    raise(SIGUSR2);
    both_on_alt = alt_now && both_on_alt;
  } else {
    both_on_alt = alt_now;
  }
  depth--;
}

static void queued(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)uc;
  qval = si->si_value.sival_int;
  qcode = si->si_code;
}

static void chld(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)uc;
  chld_code = si->si_code;
  chld_status = si->si_status;
  chld_pid_ok = si->si_pid == expect_pid;
}

static void nop(int sig) { (void)sig; }

static void handle(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigaction(sig, &sa, NULL);
}

static void handle_info(int sig, void (*fn)(int, siginfo_t *, void *), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = flags | SA_SIGINFO;
  sigaction(sig, &sa, NULL);
}

/* A child that signals its parent after a short delay, then exits. */
static pid_t poke_later(int sig, int ms) {
  pid_t p = fork();
  if (p == 0) {
    usleep(ms * 1000);
    kill(getppid(), sig);
    _exit(0);
  }
  return p;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);

  page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  handle_info(SIGSEGV, segv, 0);
  page[100] = 42;
  printf("after retry: value=%d hits=%d\n", page[100], segv_hits);

  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
  sigaltstack(&ss, NULL);
  handle(SIGUSR1, nested, SA_ONSTACK);
  handle(SIGUSR2, nested, SA_ONSTACK);
  raise(SIGUSR1);
  printf("nested: max depth=%d both on altstack=%d\n", max_depth, both_on_alt);

  handle_info(SIGRTMIN, queued, 0);
  union sigval v = {.sival_int = 1234};
  sigqueue(getpid(), SIGRTMIN, v);
  printf("sigqueue: value=%d code is SI_QUEUE=%d\n", qval, qcode == SI_QUEUE);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGRTMIN + 1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 1});
  sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 2});
  siginfo_t si;
  int a = sigwaitinfo(&set, &si);
  int av = si.si_value.sival_int;
  int b = sigwaitinfo(&set, &si);
  printf("rt signals queue: %d:%d %d:%d\n", a - SIGRTMIN, av, b - SIGRTMIN, si.si_value.sival_int);
  struct timespec short_wait = {0, 20 * 1000 * 1000};
  int r = sigtimedwait(&set, &si, &short_wait);
  printf("sigtimedwait nothing pending: %d %s\n", r, strerror(errno));
  pid_t c = poke_later(SIGUSR1, 50);
  r = sigwaitinfo(&set, &si);
  printf("sigwaitinfo from child: sig=%d code=%d\n", r, si.si_code);
  waitpid(c, NULL, 0);

  int sfd = signalfd(-1, &set, SFD_NONBLOCK);
  struct signalfd_siginfo fi;
  r = read(sfd, &fi, sizeof fi);
  printf("signalfd empty: %d %s\n", r, strerror(errno));
  c = poke_later(SIGUSR1, 50);
  struct pollfd pfd = {.fd = sfd, .events = POLLIN};
  r = poll(&pfd, 1, 5000);
  printf("signalfd poll: %d revents=%d\n", r, pfd.revents);
  r = read(sfd, &fi, sizeof fi);
  printf("signalfd read: %d signo=%u code=%d pid ok=%d\n", r, fi.ssi_signo, fi.ssi_code, (pid_t)fi.ssi_pid == c);
  waitpid(c, NULL, 0);
  close(sfd);
  sigprocmask(SIG_UNBLOCK, &set, NULL);

  handle(SIGUSR1, nop, 0);
  c = poke_later(SIGUSR1, 50);
  r = pause();
  printf("pause: %d %s\n", r, strerror(errno));
  waitpid(c, NULL, 0);

  c = poke_later(SIGUSR1, 50);
  struct timespec req = {5, 0}, rem = {0, 0};
  r = nanosleep(&req, &rem);
  printf("nanosleep: %d %s rem in (3,5]s=%d\n", r, strerror(errno), rem.tv_sec >= 3 && rem.tv_sec < 5);
  waitpid(c, NULL, 0);

  c = poke_later(SIGUSR1, 50);
  int p[2];
  pipe(p);
  pfd = (struct pollfd){.fd = p[0], .events = POLLIN};
  r = poll(&pfd, 1, 5000);
  printf("poll: %d %s\n", r, strerror(errno));
  waitpid(c, NULL, 0);

  /* waitpid on a child that outlives the signal. */
  handle(SIGUSR1, nop, 0);
  pid_t slow = fork();
  if (slow == 0) {
    usleep(1000 * 1000); /* well after the signal below, even on a loaded machine */
    _exit(9);
  }
  c = poke_later(SIGUSR1, 50);
  int st;
  r = waitpid(slow, &st, 0);
  printf("waitpid without SA_RESTART: %d %s\n", r, strerror(errno));
  waitpid(c, NULL, 0);
  handle(SIGUSR1, nop, SA_RESTART);
  c = poke_later(SIGUSR1, 20);
  r = waitpid(slow, &st, 0);
  printf("waitpid with SA_RESTART: ok=%d status=%d\n", r == slow, WEXITSTATUS(st));
  waitpid(c, NULL, 0);

  handle_info(SIGCHLD, chld, SA_RESTART);
  /* SIGCHLD stays blocked until the child's pid is stored: a child that exits at once could
     otherwise signal before fork's return value is in expect_pid. */
  sigset_t chld_set;
  sigemptyset(&chld_set);
  sigaddset(&chld_set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld_set, NULL);
  expect_pid = fork();
  if (expect_pid == 0) _exit(5);
  sigprocmask(SIG_UNBLOCK, &chld_set, NULL);
  waitpid(expect_pid, NULL, 0);
  printf("SIGCHLD exit: code=%s status=%d pid ok=%d\n", chld_code == CLD_EXITED ? "CLD_EXITED" : "?", chld_status, chld_pid_ok);
  expect_pid = fork();
  if (expect_pid == 0) {
    pause();
    _exit(0);
  }
  kill(expect_pid, SIGTERM);
  waitpid(expect_pid, &st, 0);
  printf("SIGCHLD kill: code=%s status=%d pid ok=%d wait says sig=%d\n", chld_code == CLD_KILLED ? "CLD_KILLED" : "?", chld_status, chld_pid_ok, WTERMSIG(st));
  return 0;
}
