/* Containment under --pids and --memory. "forkbomb": children fork until fork fails and report
   the errno, then all exit. "hog": allocates and touches 1 MiB blocks until stopped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "forkbomb") == 0) {
    int made = 0, p[2];
    pipe(p);
    for (;;) {
      pid_t c = fork();
      if (c < 0) {
        printf("fork failed after %d children: %s\n", made, strerror(errno));
        fflush(stdout);
        break;
      }
      if (c == 0) {
        char x;
        close(p[1]);
        read(p[0], &x, 1); /* wait for the parent to finish */
        _exit(0);
      }
      made++;
    }
    close(p[1]);
    while (wait(NULL) > 0) {}
    printf("all reaped\n");
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "hog") == 0) {
    for (long mib = 1;; mib++) {
      char *b = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (b == MAP_FAILED) {
        printf("mmap failed at %ld MiB: %s\n", mib, strerror(errno));
        return 1;
      }
      memset(b, 1, 1 << 20);
      if (mib % 64 == 0) {
        printf("%ld MiB\n", mib);
        fflush(stdout);
      }
      if (mib > 4096) {
        printf("not stopped at 4 GiB\n");
        return 2;
      }
    }
  }
  return 3;
}
