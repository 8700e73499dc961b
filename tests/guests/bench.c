/* bench: micro-benchmarks for scripts/bench.sh. Prints "<name> <value> <unit>".
   Usage: bench getppid [N]       trapped getppid through syscall(2), N calls (default 20000)
          bench clock [N]         glibc clock_gettime(CLOCK_MONOTONIC) (the vDSO), N calls, ns/call
          bench openclose FILE    open+close of a host file
          bench stat FILE         stat of a host file
          bench read FILE         64 KiB reads of a (cached) file, 4 passes, MiB/s
          bench write DIR         64 KiB writes of 256 MiB into a new file in DIR, MiB/s
          bench forkwait          fork + waitpid of a child that exits at once
          bench spawn PROGRAM     fork + exec PROGRAM + waitpid
          bench pipe              one-byte round trip between two processes
          bench mmap              mmap 1 MiB, touch each page, munmap: us per cycle
          bench fault             first touch of each page of a 64 MiB mapping: us per page */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "getppid";
  if (!strcmp(what, "getppid")) {
    int n = argc > 2 ? atoi(argv[2]) : 20000;
    if (n <= 0) n = 20000;
    syscall(SYS_getppid); /* warm up */
    double t = now();
    for (int i = 0; i < n; i++) syscall(SYS_getppid);
    printf("getppid %.3f us/call\n", (now() - t) * 1e6 / n);
    return 0;
  }
  if (!strcmp(what, "clock")) {
    int n = argc > 2 ? atoi(argv[2]) : 1000000;
    if (n <= 0) n = 1000000;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* warm up */
    double t = now();
    for (int i = 0; i < n; i++) clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("clock %.1f ns/call\n", (now() - t) * 1e9 / n);
    return 0;
  }
  const char *arg = argc > 2 ? argv[2] : "/etc/hostname";
  if (!strcmp(what, "openclose")) {
    int n = 5000;
    double t = now();
    for (int i = 0; i < n; i++) {
      int f = open(arg, O_RDONLY);
      if (f < 0) return perror("open"), 1;
      close(f);
    }
    printf("openclose %.3f us/call\n", (now() - t) * 1e6 / n);
    return 0;
  }
  if (!strcmp(what, "stat")) {
    int n = 5000;
    struct stat st;
    double t = now();
    for (int i = 0; i < n; i++)
      if (stat(arg, &st)) return perror("stat"), 1;
    printf("stat %.3f us/call\n", (now() - t) * 1e6 / n);
    return 0;
  }
  static char buf[1 << 16];
  if (!strcmp(what, "read")) {
    int f = open(arg, O_RDONLY);
    if (f < 0) return perror("open"), 1;
    long total = 0;
    ssize_t r;
    double t = now();
    for (int k = 0; k < 4; k++) {
      lseek(f, 0, SEEK_SET);
      while ((r = read(f, buf, sizeof buf)) > 0) total += r;
    }
    printf("read %.1f MiB/s\n", total / 1048576.0 / (now() - t));
    return 0;
  }
  if (!strcmp(what, "write")) {
    char path[512];
    snprintf(path, sizeof path, "%s/bench-write-XXXXXX", argc > 2 ? argv[2] : "/tmp");
    int f = mkstemp(path);
    if (f < 0) return perror("mkstemp"), 1;
    memset(buf, 7, sizeof buf);
    long total = 0;
    double t = now();
    for (int i = 0; i < 4096; i++) total += write(f, buf, sizeof buf);
    printf("write %.1f MiB/s\n", total / 1048576.0 / (now() - t));
    unlink(path);
    return 0;
  }
  if (!strcmp(what, "forkwait")) {
    int n = 200;
    double t = now();
    for (int i = 0; i < n; i++) {
      pid_t p = fork();
      if (p == 0) _exit(0);
      if (p < 0) return perror("fork"), 1;
      waitpid(p, 0, 0);
    }
    printf("forkwait %.1f us/op\n", (now() - t) * 1e6 / n);
    return 0;
  }
  if (!strcmp(what, "spawn")) {
    int n = 100;
    double t = now();
    for (int i = 0; i < n; i++) {
      pid_t p = fork();
      if (p == 0) {
        execl(arg, arg, (char *)0);
        _exit(127);
      }
      int st;
      if (p < 0 || waitpid(p, &st, 0) < 0 || st != 0) return fprintf(stderr, "spawn failed\n"), 1;
    }
    printf("spawn %.1f us/op\n", (now() - t) * 1e6 / n);
    return 0;
  }
  if (!strcmp(what, "pipe")) {
    int n = 5000, x[2], y[2];
    char c = 'x';
    if (pipe(x) || pipe(y)) return 1;
    pid_t p = fork();
    if (p == 0) {
      for (int i = 0; i < n; i++) {
        if (read(x[0], &c, 1) != 1 || write(y[1], &c, 1) != 1) _exit(1);
      }
      _exit(0);
    }
    double t = now();
    for (int i = 0; i < n; i++) {
      if (write(x[1], &c, 1) != 1 || read(y[0], &c, 1) != 1) return 1;
    }
    printf("pipe %.3f us/roundtrip\n", (now() - t) * 1e6 / n);
    waitpid(p, 0, 0);
    return 0;
  }
  if (!strcmp(what, "mmap")) {
    int n = 500;
    size_t len = 1 << 20;
    double t = now();
    for (int i = 0; i < n; i++) {
      char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) return 1;
      for (size_t o = 0; o < len; o += 4096) m[o] = 1;
      munmap(m, len);
    }
    printf("mmap %.1f us/cycle\n", (now() - t) * 1e6 / n);
    return 0;
  }
  if (!strcmp(what, "fault")) {
    size_t len = 64 << 20, pages = len / 4096;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 1;
    double t = now();
    for (size_t o = 0; o < len; o += 4096) m[o] = 1;
    printf("fault %.3f us/page\n", (now() - t) * 1e6 / pages);
    return 0;
  }
  fprintf(stderr, "bench: unknown benchmark %s\n", what);
  return 2;
}
