/* segv: dies of SIGSEGV (status 139 in a shell) in one of three ways, chosen by argv[1]: "null"
   (store to address 0), "readonly" (store to a page made PROT_READ), "unmapped" (load from a page
   just unmapped). Says which on stdout first, with write(2) so nothing is left in a buffer. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *how = argc > 1 ? argv[1] : "null";
  write(1, "about to fault: ", 16);
  write(1, how, strlen(how));
  write(1, "\n", 1);
  if (!strcmp(how, "readonly")) {
    volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    p[0] = 1;
    mprotect((void *)p, 4096, PROT_READ);
    p[1] = 2;
  } else if (!strcmp(how, "unmapped")) {
    volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    munmap((void *)p, 4096);
    char c = p[0];
    (void)c;
  } else {
    volatile int *volatile null = 0; /* volatile: the compiler cannot see the null and trap instead */
    *null = 1;
  }
  write(1, "survived the fault\n", 19);
  return 3;
}
