/* pidfds and clone3, compared with a native run: pidfd_open, poll before and after the
   process exits, pidfd_send_signal, waitid(P_PIDFD), clone3 with CLONE_PIDFD, and bad input. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned flags) { return syscall(SYS_pidfd_send_signal, fd, sig, info, flags); }

static void show(const char *what, long r) {
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t c = fork();
  if (c == 0) {
    for (;;) pause();
  }
  int fd = pidfd_open(c, 0);
  printf("pidfd_open ok=%d\n", fd >= 0);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  show("poll while alive", poll(&p, 1, 50));
  show("pidfd_send_signal(SIGTERM)", pidfd_send_signal(fd, SIGTERM, NULL, 0));
  show("poll after the kill", poll(&p, 1, 5000));
  printf("revents has POLLIN=%d\n", (p.revents & POLLIN) != 0);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  show("waitid(P_PIDFD)", waitid(P_PIDFD, fd, &si, WEXITED));
  printf("code=%d status=%d pid ok=%d\n", si.si_code, si.si_status, si.si_pid == c);
  show("pidfd_send_signal to the reaped", pidfd_send_signal(fd, SIGTERM, NULL, 0));
  close(fd);

  int child_pidfd = -1;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_PIDFD;
  args.pidfd = (uint64_t)(uintptr_t)&child_pidfd;
  args.exit_signal = SIGCHLD;
  long r = syscall(SYS_clone3, &args, sizeof args);
  if (r == 0) _exit(5);
  printf("clone3 ok=%d pidfd ok=%d\n", r > 0, child_pidfd >= 0);
  memset(&si, 0, sizeof si);
  waitid(P_PIDFD, child_pidfd, &si, WEXITED);
  printf("clone3 child: code=%d status=%d\n", si.si_code, si.si_status);

  show("pidfd_open(bad flags)", pidfd_open(getpid(), 1));
  show("pidfd_open(no such pid)", pidfd_open(999999, 0));
  show("pidfd_send_signal(not a pidfd)", pidfd_send_signal(1, SIGTERM, NULL, 0));
  show("pidfd_send_signal(unknown flag)", pidfd_send_signal(child_pidfd, 0, NULL, 1 << 8));
  show("clone3(short size)", syscall(SYS_clone3, &args, 32));
  args.flags = 0xff;
  show("clone3(CSIGNAL in flags)", syscall(SYS_clone3, &args, sizeof args));
  /* Linux ignores a bad parent_tid (the child is made), but not a bad pidfd pointer. */
  long k = syscall(SYS_clone, CLONE_PARENT_SETTID | SIGCHLD, 0, (void *)8, 0, 0);
  if (k == 0) _exit(7);
  int st = 0;
  int reaped = k > 0 && waitpid((pid_t)k, &st, 0) == k;
  printf("clone(bad parent_tid) ok=%d status=%d\n", reaped, WEXITSTATUS(st));
  k = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, (void *)8, 0, 0);
  if (k == 0) _exit(7);
  show("clone(CLONE_PIDFD, bad pointer)", k);
  show("no child left", waitpid(-1, &st, WNOHANG));
  return 0;
}
