/* getppid_uname: 1000 getppid calls through syscall(2) and one uname. Prints only facts that do not
   depend on where it runs (stability of the parent pid, sysname, machine) plus the nodename, which
   the sandbox fixes to "sandbox". A host strace of the sandbox must see none of these calls. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void) {
  long first = syscall(SYS_getppid);
  int stable = 1;
  for (int i = 1; i < 1000; i++)
    if (syscall(SYS_getppid) != first) stable = 0;
  printf("getppid calls=1000 stable=%d nonnegative=%d\n", stable, first >= 0);
  struct utsname u;
  if (uname(&u) != 0) {
    perror("uname");
    return 1;
  }
  printf("sysname=%s machine=%s\n", u.sysname, u.machine);
  printf("nodename=%s\n", u.nodename);
  return 0;
}
