/* mount and umount2 inside the sandbox (run sandboxed only: natively it would need its own
   mount namespace): a tmpfs over a directory hides and then restores what was there, a bind
   mount shows the same files, a read-only remount refuses writes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what, long r) {
  int e = errno;
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(e) : "");
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  mkdir("/tmp/m", 0755);
  close(open("/tmp/m/under", O_CREAT | O_WRONLY, 0644));
  show("mount tmpfs", mount("none", "/tmp/m", "tmpfs", 0, 0));
  show("under hidden", access("/tmp/m/under", F_OK));
  close(open("/tmp/m/over", O_CREAT | O_WRONLY, 0644));
  show("over visible", access("/tmp/m/over", F_OK));
  show("umount", umount2("/tmp/m", 0));
  show("under back", access("/tmp/m/under", F_OK));
  show("over gone", access("/tmp/m/over", F_OK));
  show("umount not a mount", umount2("/tmp/m", 0));
  mkdir("/tmp/b", 0755);
  show("bind", mount("/tmp/m", "/tmp/b", 0, MS_BIND, 0));
  show("same file via bind", access("/tmp/b/under", F_OK));
  show("remount ro", mount(0, "/tmp/b", 0, MS_REMOUNT | MS_BIND | MS_RDONLY, 0));
  show("create on ro", open("/tmp/b/new", O_CREAT | O_WRONLY, 0644));
  show("create beside", open("/tmp/m/new", O_CREAT | O_WRONLY, 0644));
  show("unknown fs", mount("x", "/tmp/m", "nosuchfs", 0, 0));
  show("umount bind", umount2("/tmp/b", MNT_DETACH));
  show("bad flags", umount2("/tmp/b", 0x100));
  return 0;
}
