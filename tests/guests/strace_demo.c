/* strace_demo: one call of each kind whose arguments --strace must decode. Raw syscall(2) is used so
   glibc (or the vDSO) cannot change which calls happen. Results are not part of the contract. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  syscall(SYS_write, 1, "strace demo\n", 12);
  struct timespec ts;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  struct utsname u;
  syscall(SYS_uname, &u);
  void *p = (void *)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) syscall(SYS_munmap, p, 4096);
  syscall(SYS_openat, AT_FDCWD, "/nonexistent", O_RDONLY | O_CLOEXEC);
  return 0;
}
