/* O_EXCL under contention: 16 processes race to create the same file with O_CREAT|O_EXCL;
   exactly one wins, the others get EEXIST. Repeated 20 times. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  char base[] = "/tmp/sandbox-excl-XXXXXX";
  if (!mkdtemp(base)) return 1;
  int bad_rounds = 0;
  for (int round = 0; round < 20; round++) {
    char path[64];
    snprintf(path, sizeof path, "%s/f%d", base, round);
    for (int i = 0; i < 16; i++) {
      if (fork() == 0) {
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
        _exit(fd >= 0 ? 0 : (errno == EEXIST ? 1 : 2));
      }
    }
    int winners = 0, losers = 0, st;
    while (wait(&st) > 0) {
      if (WIFEXITED(st) && WEXITSTATUS(st) == 0) winners++;
      else if (WIFEXITED(st) && WEXITSTATUS(st) == 1) losers++;
    }
    if (winners != 1 || losers != 15) bad_rounds++;
    unlink(path);
  }
  rmdir(base);
  printf("rounds with exactly one winner: %d of 20\n", 20 - bad_rounds);
  return bad_rounds != 0;
}
