/* inotify on a directory and a file under /tmp: create, modify, attrib, open/close, moves
   (with matching cookies), delete, delete-self and IN_IGNORED. Prints event names in order. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *names[] = {"ACCESS", "MODIFY", "ATTRIB", "CLOSE_WRITE", "CLOSE_NOWRITE", "OPEN", "MOVED_FROM", "MOVED_TO",
                              "CREATE", "DELETE", "DELETE_SELF", "MOVE_SELF"};
static int dirwd, filewd;
static unsigned last_cookie;

static void drain(int fd, const char *step) {
  char buf[4096] __attribute__((aligned(8)));
  printf("-- %s\n", step);
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return;
    for (char *p = buf; p < buf + n;) {
      struct inotify_event *e = (struct inotify_event *)p;
      printf("%s", e->wd == dirwd ? "dir " : e->wd == filewd ? "file" : "?   ");
      for (int i = 0; i < 12; i++)
        if (e->mask & (1u << i)) printf(" %s", names[i]);
      if (e->mask & IN_ISDIR) printf(" ISDIR");
      if (e->mask & IN_IGNORED) printf(" IGNORED");
      if (e->len) printf(" name=%s", e->name);
      if (e->cookie) printf(" cookie=%s", e->cookie == last_cookie ? "same" : "new"), last_cookie = e->cookie;
      printf("\n");
      p += sizeof *e + e->len;
    }
  }
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  char base[] = "/tmp/sandbox-inotify-XXXXXX";
  if (!mkdtemp(base) || chdir(base)) return 1;
  int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  dirwd = inotify_add_watch(in, ".", IN_ALL_EVENTS);
  int fd = open("a", O_CREAT | O_WRONLY, 0644);
  drain(in, "create");
  filewd = inotify_add_watch(in, "a", IN_ALL_EVENTS);
  write(fd, "x", 1);
  drain(in, "write");
  close(fd);
  drain(in, "close");
  chmod("a", 0600);
  drain(in, "chmod");
  rename("a", "b");
  drain(in, "rename");
  mkdir("d", 0755);
  drain(in, "mkdir");
  rmdir("d");
  drain(in, "rmdir");
  unlink("b");
  drain(in, "unlink");
  printf("bad wd %d\n", inotify_rm_watch(in, 999));
  printf("rm dir watch %d\n", inotify_rm_watch(in, dirwd));
  drain(in, "rm_watch");
  chdir("/");
  rmdir(base);
  return 0;
}
