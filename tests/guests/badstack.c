/* Hostile signal-stack values: an alternate stack at the top of the address space and a stack
   pointer near 0 when a handler must run. The frame cannot be built: the process dies of
   SIGSEGV, as on Linux, and the Sentry keeps going. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static void h(int s) { (void)s; }
int main(void) {
  /* An alternate stack at the very top of the address space, and a handler on it. */
  pid_t c = fork();
  if (c == 0) {
    stack_t ss = {.ss_sp = (void *)0xfffffffffffff000UL, .ss_size = 0x100000, .ss_flags = 0};
    printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
    fflush(stdout);
    struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = h; sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    _exit(0);
  }
  int st; waitpid(c, &st, 0);
  printf("child: signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
  c = fork();
  if (c == 0) {
    signal(SIGUSR1, h);
    long me = getpid();
    __asm__ volatile("mov %0, %%rdi\n\tmov $16, %%rsp\n\tmov $62, %%eax\n\tmov $10, %%esi\n\tsyscall\n\t1: jmp 1b" :: "r"(me) : "memory");
    _exit(0);
  }
  waitpid(c, &st, 0);
  printf("tiny rsp child: signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
  return 0;
}
