/* Resource limits that are enforced, compared with a native run: RLIMIT_FSIZE (a write cut at
   the limit, then EFBIG and SIGXFSZ), RLIMIT_NOFILE (EMFILE), RLIMIT_NPROC for a non-root user
   (EAGAIN from fork). Takes a scratch directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int xfsz;
static void on_xfsz(int sig) { (void)sig; xfsz++; }

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  char path[512];
  snprintf(path, sizeof path, "%s/big", argc > 1 ? argv[1] : "/tmp");
  signal(SIGXFSZ, on_xfsz);
  struct rlimit fs = {1000, 1000};
  setrlimit(RLIMIT_FSIZE, &fs);
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  char buf[600];
  memset(buf, 'x', sizeof buf);
  ssize_t a = write(fd, buf, sizeof buf);
  ssize_t b = write(fd, buf, sizeof buf);
  errno = 0;
  ssize_t c = write(fd, buf, sizeof buf);
  printf("writes: %zd %zd %zd (%s) SIGXFSZ seen %d\n", a, b, c, strerror(errno), xfsz);
  errno = 0;
  ssize_t d = pwrite(fd, buf, 10, 5000);
  printf("pwrite past the limit: %zd (%s) SIGXFSZ seen %d\n", d, strerror(errno), xfsz);
  close(fd);

  struct rlimit nf = {10, 10};
  setrlimit(RLIMIT_NOFILE, &nf);
  int last = 0, err = 0;
  for (int i = 0; i < 20; i++) {
    int f = open("/dev/null", O_RDONLY);
    if (f < 0) { err = errno; break; }
    last = f;
  }
  printf("NOFILE 10: highest fd %d, then %s\n", last, strerror(err));

  pid_t child = fork();
  if (child == 0) {
    struct rlimit np = {1, 1};
    setrlimit(RLIMIT_NPROC, &np);
    setuid(1000);
    pid_t g = fork();
    if (g == 0) _exit(0);
    printf("NPROC 1 as uid 1000: fork %s\n", g < 0 ? strerror(errno) : "succeeded");
    if (g > 0) waitpid(g, NULL, 0);
    _exit(0);
  }
  waitpid(child, NULL, 0);
  return 0;
}
