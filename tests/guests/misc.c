/* misc: the small calls of the foundation, each printed as a fact that holds natively and in the
   sandbox alike: ids and their relations, sched_yield, prlimit64, rt_sigaction, rt_sigprocmask,
   ioctl on a non-terminal stdout (ENOTTY), fstat of stdio, readlink("/proc/self/exe"), auxv. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "none"; }

static void on_usr1(int sig) { (void)sig; }

int main(void) {
  long pid = syscall(SYS_getpid), tid = syscall(SYS_gettid), ppid = syscall(SYS_getppid);
  printf("pid>0=%d tid==pid=%d ppid>=0=%d ppid!=pid=%d\n", pid > 0, tid == pid, ppid >= 0, ppid != pid);
  printf("uid==euid=%d gid==egid=%d\n", syscall(SYS_getuid) == syscall(SYS_geteuid),
         syscall(SYS_getgid) == syscall(SYS_getegid));
  printf("sched_yield=%ld\n", syscall(SYS_sched_yield));

  struct rlimit rl;
  errno = 0;
  long r = syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl);
  printf("prlimit64(NOFILE)=%ld errno=%s cur<=max=%d\n", r, err(r), rl.rlim_cur <= rl.rlim_max);

  struct sigaction sa = {0}, old = {0};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  r = sigaction(SIGUSR1, &sa, NULL);
  int r2 = sigaction(SIGUSR1, NULL, &old);
  printf("sigaction=%ld readback ok=%d\n", r, r2 == 0 && old.sa_handler == on_usr1 && (old.sa_flags & SA_RESTART));
  errno = 0;
  r = sigaction(SIGKILL, &sa, NULL);
  printf("sigaction(SIGKILL)=%ld errno=%s\n", r, err(r));

  sigset_t set, cur;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  r = sigprocmask(SIG_BLOCK, &set, NULL);
  sigprocmask(SIG_SETMASK, NULL, &cur);
  printf("sigprocmask=%ld usr2 blocked=%d\n", r, sigismember(&cur, SIGUSR2));

  /* The test harness gives stdin /dev/null and pipes for stdout and stderr. */
  struct termios tio;
  errno = 0;
  r = ioctl(1, TCGETS, &tio);
  printf("ioctl(1, TCGETS)=%ld errno=%s\n", r, err(r));
  struct winsize ws;
  errno = 0;
  r = ioctl(1, TIOCGWINSZ, &ws);
  printf("ioctl(1, TIOCGWINSZ)=%ld errno=%s\n", r, err(r));
  struct stat st;
  r = fstat(1, &st);
  printf("fstat(1)=%ld fifo=%d\n", r, S_ISFIFO(st.st_mode));
  r = fstat(0, &st);
  printf("fstat(0)=%ld chr=%d\n", r, S_ISCHR(st.st_mode));

  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  printf("readlink(/proc/self/exe) absolute=%d\n", n > 0 && exe[0] == '/');

  printf("AT_PAGESZ=%lu AT_RANDOM set=%d\n", getauxval(AT_PAGESZ), getauxval(AT_RANDOM) != 0);
  return 0;
}
