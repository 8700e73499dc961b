/* idle_rusage: a host-side helper of the idle tests (run natively, never sandboxed). Runs a
   command and prints on stderr, once everything it started has ended,

     idle_rusage: wall_us=W user_us=U sys_us=S status=N

   where U and S are the CPU time of the whole process tree: this helper is a child subreaper,
   so it also reaps (and so accounts) any descendant that outlives its parent, and the times are
   getrusage(RUSAGE_CHILDREN), which covers every descendant waited for.

     idle_rusage [--stdin-hold MS] -- COMMAND [ARGS...]

   --stdin-hold MS: the command's stdin is a pipe this helper keeps open, silent, for MS
   milliseconds, then writes "bye\n" into and closes. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static long long tv_us(struct timeval t) { return t.tv_sec * 1000000LL + t.tv_usec; }

int main(int argc, char **argv) {
  long hold_ms = -1;
  int i = 1;
  if (i + 1 < argc && !strcmp(argv[i], "--stdin-hold")) {
    hold_ms = strtol(argv[i + 1], NULL, 10);
    i += 2;
  }
  if (i < argc && !strcmp(argv[i], "--")) i++;
  if (i >= argc) {
    fprintf(stderr, "usage: idle_rusage [--stdin-hold MS] -- COMMAND [ARGS...]\n");
    return 64;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    perror("idle_rusage: PR_SET_CHILD_SUBREAPER");
    return 70;
  }
  int fds[2] = {-1, -1};
  if (hold_ms >= 0 && pipe(fds) != 0) {
    perror("idle_rusage: pipe");
    return 70;
  }
  long long start = now_us();
  pid_t pid = fork();
  if (pid < 0) {
    perror("idle_rusage: fork");
    return 70;
  }
  if (pid == 0) {
    if (hold_ms >= 0) {
      dup2(fds[0], 0);
      close(fds[0]);
      close(fds[1]);
    }
    execvp(argv[i], argv + i);
    perror("idle_rusage: exec");
    _exit(127);
  }
  if (hold_ms >= 0) {
    close(fds[0]);
    struct timespec d = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) != 0 && errno == EINTR) {
    }
    if (write(fds[1], "bye\n", 4) != 4) perror("idle_rusage: write");
    close(fds[1]);
  }
  int status = 0, wstatus;
  pid_t r;
  /* The command, then any orphan reparented to us, until no child is left. */
  while ((r = wait(&wstatus)) > 0 || (r < 0 && errno == EINTR))
    if (r == pid) status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  long long wall = now_us() - start;
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  fprintf(stderr, "idle_rusage: wall_us=%lld user_us=%lld sys_us=%lld status=%d\n", wall, tv_us(ru.ru_utime), tv_us(ru.ru_stime), status);
  return status;
}
