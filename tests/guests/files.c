/* Files on the sandbox's tmpfs: create, O_EXCL, O_APPEND, lseek, pread, symlinks, hard links,
   rename, getdents, chdir/getcwd, truncate, chmod, access, dup/dup3/fcntl, umask, unlink and
   rmdir, with Linux's errnos on the failure paths. Prints only what is the same natively. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
static void chk(const char *what, long r) { printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(errno) : ""); }
static int cmp(const void *a, const void *b) { return strcmp(*(char**)a, *(char**)b); }
int main(void) {
  /* A fresh directory under /tmp: the host's natively, the sandbox's tmpfs when sandboxed. */
  char base[] = "/tmp/sandbox-files-XXXXXX";
  if (!mkdtemp(base) || chdir(base)) { perror("mkdtemp"); return 1; }
  chk("mkdir d", mkdir("d", 0755));
  chk("mkdir d again", mkdir("d", 0755));
  int fd = open("d/f", O_CREAT|O_WRONLY|O_EXCL, 0644); chk("open create", fd >= 0 ? 0 : -1);
  chk("write", write(fd, "hello world\n", 12));
  chk("open excl again", open("d/f", O_CREAT|O_EXCL|O_WRONLY, 0644));
  close(fd);
  fd = open("d/f", O_RDWR|O_APPEND); chk("open append", fd >= 0 ? 0 : -1);
  chk("append", write(fd, "more\n", 5));
  chk("lseek set", lseek(fd, 6, SEEK_SET));
  char buf[64] = {0}; chk("read", read(fd, buf, sizeof buf - 1)); printf("got [%s]\n", buf);
  chk("pread", pread(fd, buf, 5, 0)); buf[5] = 0; printf("pread [%s]\n", buf);
  chk("lseek end", lseek(fd, 0, SEEK_END));
  struct stat st; chk("fstat", fstat(fd, &st)); printf("size %ld mode %o nlink %ld\n", (long)st.st_size, st.st_mode, (long)st.st_nlink);
  close(fd);
  chk("symlink", symlink("f", "d/l"));
  char lb[64] = {0}; chk("readlink", readlink("d/l", lb, sizeof lb)); printf("link -> %s\n", lb);
  chk("stat via link", stat("d/l", &st)); printf("size %ld\n", (long)st.st_size);
  chk("lstat link", lstat("d/l", &st)); printf("islnk %d\n", S_ISLNK(st.st_mode));
  chk("link", link("d/f", "d/h")); stat("d/f", &st); printf("nlink %ld\n", (long)st.st_nlink);
  chk("rename", rename("d/h", "d/h2"));
  chk("unlink missing", unlink("d/nope"));
  chk("rmdir nonempty", rmdir("d"));
  chk("open dir wr", open("d", O_WRONLY));
  chk("open enotdir", open("d/f/x", O_RDONLY));
  chk("mkdir sub", mkdir("d/sub", 0700));
  for (int i = 0; i < 50; i++) { char n[32]; sprintf(n, "d/sub/e%02d", i); close(open(n, O_CREAT|O_WRONLY, 0600)); }
  DIR *dir = opendir("d/sub"); struct dirent *e; char *names[100]; int k = 0;
  while ((e = readdir(dir))) names[k++] = strdup(e->d_name);
  closedir(dir); qsort(names, k, sizeof *names, cmp); printf("%d entries, first %s %s %s last %s\n", k, names[0], names[1], names[2], names[k-1]);
  chk("chdir sub", chdir("d/sub")); char cwd[256]; getcwd(cwd, sizeof cwd); printf("cwd ends with %s\n", strrchr(cwd, '/'));
  chk("chdir ..", chdir("../..")); 
  chk("truncate", truncate("d/f", 3)); stat("d/f", &st); printf("size %ld\n", (long)st.st_size);
  chk("chmod", chmod("d/f", 0600)); stat("d/f", &st); printf("mode %o\n", st.st_mode);
  chk("access", access("d/f", R_OK|W_OK));
  fd = open("d/f", O_RDONLY); int fd2 = dup(fd); chk("dup", fd2 > fd ? 0 : -1); chk("fcntl getfd", fcntl(fd2, F_GETFD)); chk("dup3 cloexec", dup3(fd, 20, O_CLOEXEC)); chk("getfd 20", fcntl(20, F_GETFD));
  chk("write to rdonly", write(fd, "x", 1));
  chk("close bad", close(99));
  chk("umask", umask(077)); chk("umask again", umask(022));
  chk("unlink l", unlink("d/l")); chk("unlink f", unlink("d/f")); chk("unlink h2", unlink("d/h2"));
  chk("rmdir d/sub nonempty", rmdir("d/sub"));
  for (int i = 0; i < 50; i++) { char n[32]; sprintf(n, "d/sub/e%02d", i); unlink(n); }
  chk("rmdir d/sub", rmdir("d/sub")); chk("rmdir d", rmdir("d"));
  chk("rmdir base", rmdir(base));
  return 0; }
