/* Capabilities compared with a native run as root: capget/capset (dropping from and raising
   back into the effective set, no raising beyond the permitted set), the sets cleared when
   every user id leaves 0, kept but ineffective with a non-root effective id, the filesystem
   capabilities following the fsuid, and header checks. Only a few capabilities are shown
   (SETUID, SETGID, CHOWN, KILL), which a root test runner holds even in a container. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
static struct __user_cap_data_struct data[2];

static int get(void) { return syscall(SYS_capget, &hdr, data); }
static int set(void) { return syscall(SYS_capset, &hdr, data); }

static void show(const char *what) {
  get();
  unsigned e = data[0].effective, p = data[0].permitted;
  printf("%s: effective SETUID %d SETGID %d CHOWN %d KILL %d; permitted SETUID %d CHOWN %d\n", what, !!(e & 1 << CAP_SETUID),
         !!(e & 1 << CAP_SETGID), !!(e & 1 << CAP_CHOWN), !!(e & 1 << CAP_KILL), !!(p & 1 << CAP_SETUID), !!(p & 1 << CAP_CHOWN));
}

static void result(const char *what, int r) {
  printf("%s = %d%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  show("start");

  pid_t c = fork();
  if (c == 0) {
    get();
    data[0].effective &= ~(1u << CAP_SETUID);
    result("drop SETUID from effective", set());
    show("dropped");
    result("setuid(1000) without CAP_SETUID", setuid(1000));
    get();
    data[0].effective |= 1u << CAP_SETUID;
    result("raise it back (still permitted)", set());
    get();
    data[0].permitted &= ~(1u << CAP_SETGID);
    data[0].effective &= ~(1u << CAP_SETGID);
    result("drop SETGID for good", set());
    get();
    data[0].permitted |= 1u << CAP_SETGID;
    result("raise SETGID again", set());
    get();
    data[0].effective |= 1u << CAP_SETGID;
    result("effective beyond permitted", set());
    _exit(0);
  }
  waitpid(c, NULL, 0);

  c = fork();
  if (c == 0) {
    setresuid(-1, 1000, -1);
    show("effective uid 1000");
    setresuid(-1, 0, -1);
    show("effective uid 0 again");
    setfsuid(1000);
    show("fsuid 1000");
    setfsuid(0);
    show("fsuid 0");
    setresuid(1000, 1000, 1000);
    show("all uids 1000");
    result("setuid(0) after that", setuid(0));
    _exit(0);
  }
  waitpid(c, NULL, 0);

  hdr.version = 0x12345678;
  result("capget with a bad version", get());
  printf("version written back: %#x\n", hdr.version);
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  result("capget with NULL data", syscall(SYS_capget, &hdr, NULL));
  hdr.pid = 999999;
  result("capget of no such pid", get());
  return 0;
}
