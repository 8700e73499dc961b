/* A program ending itself: kill(getpid(), 0) as a check, then raise(SIGTERM) with argument
   "term", else abort() (SIGABRT). The status is 128+N natively and sandboxed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  printf("kill 0 = %d\n", kill(getpid(), 0));
  fflush(stdout);
  if (argc > 1 && !strcmp(argv[1], "term")) raise(SIGTERM);
  abort();
}
