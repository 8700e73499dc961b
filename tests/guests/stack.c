/* RLIMIT_STACK: the main thread's stack is as big as the limit at exec says. A child lowers
   or raises the limit, execs this program again, and recurses through about N KiB of stack:
   with 256 KiB, 2 MiB of recursion dies of SIGSEGV; with 64 MiB, 16 MiB of recursion works.
   Run natively and sandboxed; the outputs are compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int recurse(int kib) {
  volatile char frame[1000];
  frame[0] = (char)kib;
  if (kib <= 1) return frame[0];
  return recurse(kib - 1) + frame[0];
}

static void try(const char *self, rlim_t limit, const char *kib) {
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    struct rlimit r = {limit, limit};
    if (setrlimit(RLIMIT_STACK, &r) != 0) {
      perror("setrlimit");
      _exit(2);
    }
    execl(self, self, "recurse", kib, (char *)NULL);
    _exit(3);
  }
  int st = 0;
  waitpid(c, &st, 0);
  if (WIFEXITED(st)) printf("limit %lu KiB, %s KiB deep: exited %d\n", (unsigned long)(limit >> 10), kib, WEXITSTATUS(st));
  else printf("limit %lu KiB, %s KiB deep: killed by %d\n", (unsigned long)(limit >> 10), kib, WTERMSIG(st));
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "recurse") == 0) {
    recurse(atoi(argv[2]));
    printf("recursed %s KiB\n", argv[2]);
    return 0;
  }
  try(argv[0], 256 << 10, "2048");
  try(argv[0], 256 << 10, "64");
  try(argv[0], 64 << 20, "16384");
  return 0;
}
