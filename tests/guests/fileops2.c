/* More file calls on the sandbox's /tmp: fsync, statfs magic of tmpfs, fallocate (extend,
   punch hole), flock between two descriptions of one file, memfd_create, sendfile,
   copy_file_range, FIONREAD, FIOCLEX, SEEK_DATA/SEEK_HOLE on a dense file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

static void show(const char *what, long r) {
  int e = errno;
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(e) : "");
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  char base[] = "/tmp/sandbox-fileops-XXXXXX";
  if (!mkdtemp(base) || chdir(base)) return 1;
  int fd = open("f", O_CREAT | O_RDWR, 0644);
  show("write", write(fd, "0123456789", 10));
  show("fsync", fsync(fd));
  show("fdatasync", fdatasync(fd));
  struct statfs sf;
  show("fstatfs", fstatfs(fd, &sf));
  printf("namelen %ld\n", (long)sf.f_namelen);
  show("fallocate extend", fallocate(fd, 0, 0, 100));
  struct stat st;
  fstat(fd, &st);
  printf("size %ld\n", (long)st.st_size);
  show("punch", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 3));
  char b[16] = {0};
  pread(fd, b, 10, 0);
  printf("after punch %d %d %d %c\n", b[2], b[3], b[4], b[5]);
  show("punch without keep", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 1));
  show("seek data", lseek(fd, 0, SEEK_DATA));
  show("seek past end", lseek(fd, 1000, SEEK_DATA));
  int fd2 = open("f", O_RDONLY);
  show("flock ex", flock(fd, LOCK_EX));
  show("flock other nb", flock(fd2, LOCK_SH | LOCK_NB));
  show("unlock", flock(fd, LOCK_UN));
  show("flock other", flock(fd2, LOCK_SH | LOCK_NB));
  show("flock first sh", flock(fd, LOCK_SH | LOCK_NB));
  show("flock bad op", flock(fd, 99));
  int m = memfd_create("scratch", MFD_CLOEXEC);
  show("memfd write", write(m, "memory", 6));
  fstat(m, &st);
  printf("memfd size %ld regular %d\n", (long)st.st_size, S_ISREG(st.st_mode));
  lseek(fd, 0, SEEK_SET);
  off_t off = 5;
  show("sendfile", sendfile(m, fd, &off, 4));
  printf("off now %ld\n", (long)off);
  loff_t in = 6, out = 0;
  int g = open("g", O_CREAT | O_RDWR, 0644);
  show("copy_file_range", copy_file_range(fd, &in, g, &out, 4, 0));
  printf("in %ld out %ld\n", (long)in, (long)out);
  pread(g, b, 4, 0);
  b[4] = 0;
  printf("copied %s\n", b);
  int n = -1;
  lseek(fd, 90, SEEK_SET);
  show("FIONREAD", ioctl(fd, FIONREAD, &n));
  printf("readable %d\n", n);
  show("FIOCLEX", ioctl(fd, FIOCLEX));
  printf("cloexec %d\n", fcntl(fd, F_GETFD));
  unlink("f");
  unlink("g");
  chdir("/");
  show("rmdir", rmdir(base));
  return 0;
}
