/* unknown_nr: syscall numbers no x86-64 kernel has are ENOSYS, natively and in the sandbox, and never
   crash it: 403..=423 (the time64 calls of 32-bit architectures, never on x86-64), far past the
   end, and negative. Not 335 and 336: recent kernels have uretprobe and uprobe there (SIGILL when
   called directly). Not the x32 bit: whether it works depends on the host's boot options. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  const long nrs[] = {403, 410, 423, 1000, 100000, 0x7fffffffL, -1, -100};
  for (size_t i = 0; i < sizeof nrs / sizeof nrs[0]; i++) {
    errno = 0;
    long r = syscall(nrs[i], 1, 2, 3, 4, 5, 6);
    printf("syscall(%ld)=%ld errno=%s\n", nrs[i], r, r < 0 ? strerrorname_np(errno) : "none");
  }
  return 0;
}
