/* epoll over pipes and an eventfd: level- and edge-triggered readiness, EPOLLONESHOT and
   re-arming with EPOLL_CTL_MOD, EEXIST/ENOENT/EPERM/EINVAL from epoll_ctl, timeouts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void show(const char *what, long r) {
  int e = errno;
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerrorname_np(e) : "");
}

static void waitshow(int ep, const char *what, int timeout) {
  struct epoll_event ev[4];
  int n = epoll_wait(ep, ev, 4, timeout);
  printf("%s: %d", what, n);
  for (int i = 0; i < n; i++) printf(" [data=%lu events=%x]", (unsigned long)ev[i].data.u64, ev[i].events);
  printf("\n");
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int p[2];
  pipe(p);
  struct epoll_event e = {.events = EPOLLIN, .data.u64 = 7};
  show("add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e));
  show("add again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &e));
  waitshow(ep, "empty", 10);
  write(p[1], "ab", 2);
  waitshow(ep, "level 1", 0);
  waitshow(ep, "level 2", 0);
  e.events = EPOLLIN | EPOLLET;
  show("mod et", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e));
  waitshow(ep, "edge 1", 0);
  waitshow(ep, "edge 2", 0);
  char b[4];
  read(p[0], b, 2);
  write(p[1], "c", 1);
  waitshow(ep, "edge after drain", 0);
  e.events = EPOLLIN | EPOLLONESHOT;
  show("mod oneshot", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e));
  waitshow(ep, "oneshot 1", 0);
  waitshow(ep, "oneshot 2", 0);
  show("rearm", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &e));
  waitshow(ep, "rearmed", 0);
  int efd = eventfd(0, 0);
  struct epoll_event e2 = {.events = EPOLLIN | EPOLLOUT, .data.u64 = 9};
  show("add eventfd", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e2));
  show("del pipe", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], 0));
  show("del again", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], 0));
  waitshow(ep, "eventfd writable", 0);
  int f = open("/dev/null", O_RDONLY);
  show("add /dev/null", epoll_ctl(ep, EPOLL_CTL_ADD, f, &e));
  show("add self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e));
  show("bad maxevents", epoll_wait(ep, &e, 0, 0));
  show("not epoll", epoll_wait(p[0], &e, 1, 0));
  return 0;
}
