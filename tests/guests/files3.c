/* More of what programs do with files on /tmp: a directory of 10,000 entries read back with
   getdents, rename over an existing file, unlink of an open file, O_APPEND, O_TRUNC, O_EXCL,
   sparse files with SEEK_DATA/SEEK_HOLE, and a FIFO opened non-blocking. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what, long r) {
  int e = errno;
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(e) : "");
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  char base[] = "/tmp/sandbox-files3-XXXXXX";
  if (!mkdtemp(base) || chdir(base)) return 1;
  mkdir("many", 0755);
  char name[64];
  for (int i = 0; i < 10000; i++) {
    snprintf(name, sizeof name, "many/entry-%05d", i);
    close(open(name, O_CREAT | O_WRONLY, 0644));
  }
  DIR *d = opendir("many");
  long count = 0, sum = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] == 'e') count++, sum += atoi(e->d_name + 6);
  closedir(d);
  printf("entries %ld sum %ld\n", count, sum);
  for (int i = 0; i < 10000; i++) {
    snprintf(name, sizeof name, "many/entry-%05d", i);
    unlink(name);
  }
  show("rmdir many", rmdir("many"));

  int a = open("a", O_CREAT | O_WRONLY, 0644);
  write(a, "old", 3);
  close(a);
  int b = open("b", O_CREAT | O_WRONLY, 0644);
  write(b, "new!", 4);
  close(b);
  show("rename over existing", rename("b", "a"));
  char buf[64] = {0};
  int r = open("a", O_RDONLY);
  read(r, buf, sizeof buf - 1);
  printf("a now [%s]\n", buf);
  show("unlink while open", unlink("a"));
  memset(buf, 0, sizeof buf);
  show("read after unlink", pread(r, buf, 4, 0));
  struct stat st;
  fstat(r, &st);
  printf("nlink %ld size %ld\n", (long)st.st_nlink, (long)st.st_size);
  close(r);

  int ap = open("log", O_CREAT | O_WRONLY | O_APPEND, 0644);
  write(ap, "one\n", 4);
  lseek(ap, 0, SEEK_SET);
  write(ap, "two\n", 4);
  close(ap);
  int t = open("log", O_RDONLY);
  memset(buf, 0, sizeof buf);
  read(t, buf, sizeof buf - 1);
  printf("appended [%s]\n", buf);
  close(t);
  show("trunc open", t = open("log", O_WRONLY | O_TRUNC));
  fstat(t, &st);
  printf("size after O_TRUNC %ld\n", (long)st.st_size);
  close(t);
  show("excl on existing", open("log", O_CREAT | O_EXCL | O_WRONLY, 0644));
  show("excl through symlink", (symlink("nowhere", "dangling"), open("dangling", O_CREAT | O_EXCL | O_WRONLY, 0644)));

  int s = open("sparse", O_CREAT | O_RDWR, 0644);
  lseek(s, 1 << 20, SEEK_SET);
  write(s, "end", 3);
  fstat(s, &st);
  printf("sparse size %ld blocks<=16 %d\n", (long)st.st_size, st.st_blocks <= 16);
  show("seek data from 0", lseek(s, 0, SEEK_DATA));
  show("seek hole from 0", lseek(s, 0, SEEK_HOLE));
  show("seek hole past data", lseek(s, 1 << 20, SEEK_HOLE));
  show("seek data past end", lseek(s, 2 << 20, SEEK_DATA));
  close(s);

  show("mkfifo", mkfifo("fifo", 0600));
  stat("fifo", &st);
  printf("is fifo %d\n", S_ISFIFO(st.st_mode));
  show("open writer, no reader", open("fifo", O_WRONLY | O_NONBLOCK));
  int fr = open("fifo", O_RDONLY | O_NONBLOCK);
  show("open reader nonblock", fr >= 0 ? 0 : -1);
  int fw = open("fifo", O_WRONLY | O_NONBLOCK);
  show("open writer now", fw >= 0 ? 0 : -1);
  show("fifo write", write(fw, "through", 7));
  memset(buf, 0, sizeof buf);
  show("fifo read", read(fr, buf, sizeof buf));
  printf("fifo got [%s]\n", buf);
  close(fw);
  show("fifo eof", read(fr, buf, sizeof buf));
  close(fr);
  int rw = open("fifo", O_RDWR);
  show("fifo rdwr write", write(rw, "x", 1));
  show("fifo rdwr read", read(rw, buf, 1));
  close(rw);

  unlink("log");
  unlink("dangling");
  unlink("nowhere");
  unlink("sparse");
  unlink("fifo");
  chdir("/");
  show("rmdir base", rmdir(base));
  return 0;
}
