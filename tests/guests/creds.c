/* Credentials, compared with a native run as root: the set*id family's rules (privileged and
   not), saved ids, filesystem ids on new files, permission checks as a non-root user,
   setgroups, and dropping root for good. Takes a scratch directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  printf("%s: uid %u/%u/%u gid %u/%u/%u\n", what, r, e, s, gr, ge, gs);
}

static void try(const char *what, int r) {
  printf("%s = %d%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/tmp";
  char secret[512], mine[512];
  snprintf(secret, sizeof secret, "%s/secret", dir);
  snprintf(mine, sizeof mine, "%s/mine", dir);
  int fd = open(secret, O_CREAT | O_WRONLY, 0600);
  close(fd);
  chmod(dir, 0777);
  show("start");

  try("setresgid(-1, 100, -1)", setresgid(-1, 100, -1));
  try("setresuid(-1, 1000, -1)", setresuid(-1, 1000, -1));
  show("effective 1000");
  try("open secret as 1000", open(secret, O_RDONLY));
  fd = open(mine, O_CREAT | O_WRONLY, 0644);
  struct stat st;
  fstat(fd, &st);
  printf("new file owner %u:%u\n", st.st_uid, st.st_gid);
  close(fd);
  try("setuid(5) unprivileged", setuid(5));
  try("setgroups unprivileged", setgroups(0, NULL));
  try("setresuid(-1, 0, -1) back via saved id", setresuid(-1, 0, -1));
  show("back to root");
  gid_t g[2] = {7, 8};
  try("setgroups(2)", setgroups(2, g));
  gid_t got[8];
  int n = getgroups(8, got);
  printf("groups: %d [%u %u]\n", n, got[0], got[1]);
  try("setgid(300)", setgid(300));
  printf("setfsuid(2000) returns old %d\n", setfsuid(2000));
  printf("setfsuid(-1) reads %d\n", setfsuid(-1));
  setfsuid(0);
  try("setreuid(1000, 1001)", setreuid(1000, 1001));
  show("after setreuid");
  try("setreuid(-1, 0)", setreuid(-1, 0));
  show("after setreuid(-1, 0)");
  try("setuid(1000)", setuid(1000));
  show("dropped");
  try("setuid(0) after dropping", setuid(0));
  try("setuid(-1)", setuid(-1));
  return 0;
}
