/* The signal frame as Linux lays it out, compared with a native run: where the frame lands on
   a sigaltstack (its size), the XSAVE area's software bytes (magic, sizes, features) and its
   end marker, a vector register the handler clobbers coming back on return, and a handler on a
   4 KiB sigaltstack (a frame that carried AMX tile data would not fit). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static char big[65536] __attribute__((aligned(64)));
static char small[4096] __attribute__((aligned(64)));
static char *top;

static void describe(int sig, siginfo_t *info, void *arg) {
  (void)sig;
  (void)info;
  ucontext_t *uc = arg;
  const char *fp = (const char *)uc->uc_mcontext.fpregs;
  uint32_t magic1, extended, size, magic2;
  uint64_t features;
  memcpy(&magic1, fp + 464, 4);
  memcpy(&extended, fp + 468, 4);
  memcpy(&features, fp + 472, 8);
  memcpy(&size, fp + 480, 4);
  memcpy(&magic2, fp + size, 4);
  printf("frame %ld bytes below the stack top, fpstate %ld below\n", (long)(top - (char *)uc),
         (long)(top - fp));
  printf("magic1 %#x size %u extended %u features %#llx magic2 %#x\n", magic1, size, extended,
         (unsigned long long)features, magic2);
  /* Clobber xmm0..xmm1: the interrupted code must get its own values back. */
  __asm__ volatile("pxor %%xmm0, %%xmm0\n\tpcmpeqd %%xmm1, %%xmm1" ::: "xmm0", "xmm1");
}

static volatile int small_ran;
static void on_small(int sig) {
  (void)sig;
  char local[256];
  memset(local, 1, sizeof local);
  __asm__ volatile("" ::"r"(local) : "memory");
  small_ran = 1;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  stack_t ss = {.ss_sp = big, .ss_size = sizeof big};
  top = big + sizeof big;
  sigaltstack(&ss, NULL);
  struct sigaction sa = {0};
  sa.sa_sigaction = describe;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);

  uint64_t in[2] = {0x1122334455667788ULL, 0x99aabbccddeeff00ULL}, out[4];
  __asm__ volatile("movdqu (%0), %%xmm0\n\tmovdqu (%0), %%xmm1" ::"r"(in) : "xmm0", "xmm1");
  raise(SIGUSR1);
  __asm__ volatile("movdqu %%xmm0, (%0)\n\tmovdqu %%xmm1, 16(%0)" ::"r"(out) : "memory");
  printf("xmm0 %s, xmm1 %s after the handler\n", memcmp(out, in, 16) ? "changed" : "kept",
         memcmp(out + 2, in, 16) ? "changed" : "kept");

  /* The same in a child: the state crosses fork. */
  pid_t pid = fork();
  if (pid == 0) {
    raise(SIGUSR1);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));

  ss.ss_sp = small;
  ss.ss_size = sizeof small;
  sigaltstack(&ss, NULL);
  struct sigaction sb = {0};
  sb.sa_handler = on_small;
  sb.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR2, &sb, NULL);
  raise(SIGUSR2);
  printf("handler on a 4 KiB sigaltstack: %s\n", small_ran ? "ran" : "did not run");
  return 0;
}
