/* enosys: calls name_to_handle_at(2), which the sandbox does not implement, twice. Prints the
   return value and errno name of each call; in the sandbox both are -1 ENOSYS. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  for (int i = 0; i < 2; i++) {
    struct {
      unsigned int handle_bytes;
      int handle_type;
      unsigned char f_handle[128];
    } fh = {.handle_bytes = 128};
    int mount_id = 0;
    errno = 0;
    long r = syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &fh, &mount_id, 0);
    printf("name_to_handle_at=%ld errno=%s\n", r, r < 0 ? strerrorname_np(errno) : "none");
  }
  return 0;
}
