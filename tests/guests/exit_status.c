/* exit_status: leaves with status argv[1] through argv[2]: "exit_group" (the raw syscall), "exit"
   (the raw single-thread exit syscall) or "return" (from main, through glibc's exit). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int status = argc > 1 ? atoi(argv[1]) : 0;
  const char *how = argc > 2 ? argv[2] : "exit_group";
  printf("exiting with %d via %s\n", status, how);
  fflush(stdout);
  if (!strcmp(how, "exit")) syscall(SYS_exit, status);
  if (!strcmp(how, "exit_group")) syscall(SYS_exit_group, status);
  return status;
}
