/* Resource limits that are enforced, compared with a native run: RLIMIT_FSIZE (a write cut at
   the limit, then EFBIG and SIGXFSZ), RLIMIT_NOFILE (EMFILE), RLIMIT_NPROC for a non-root user
   (EAGAIN from fork), RLIMIT_AS and RLIMIT_DATA (ENOMEM from mmap, brk and mremap). Takes a
   scratch directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
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
  child = fork();
  if (child == 0) {
    struct rlimit as = {64 << 20, 64 << 20};
    setrlimit(RLIMIT_AS, &as);
    void *big = mmap(NULL, 128 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("AS 64M: mmap 128M %s\n", big == MAP_FAILED ? strerror(errno) : "succeeded");
    void *small = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("AS 64M: mmap 1M %s\n", small == MAP_FAILED ? strerror(errno) : "succeeded");
    void *grown = mremap(small, 1 << 20, 200 << 20, MREMAP_MAYMOVE);
    printf("AS 64M: mremap to 200M %s\n", grown == MAP_FAILED ? strerror(errno) : "succeeded");
    _exit(0);
  }
  waitpid(child, NULL, 0);
  child = fork();
  if (child == 0) {
    struct rlimit data = {16 << 20, 16 << 20};
    setrlimit(RLIMIT_DATA, &data);
    void *b = sbrk(32 << 20);
    printf("DATA 16M: sbrk 32M %s\n", b == (void *)-1 ? strerror(errno) : "succeeded");
    void *w = mmap(NULL, 32 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("DATA 16M: private writable 32M %s\n", w == MAP_FAILED ? strerror(errno) : "succeeded");
    void *r = mmap(NULL, 32 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("DATA 16M: read-only 32M %s\n", r == MAP_FAILED ? strerror(errno) : "succeeded");
    void *sh = mmap(NULL, 32 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    printf("DATA 16M: shared writable 32M %s\n", sh == MAP_FAILED ? strerror(errno) : "succeeded");
    _exit(0);
  }
  waitpid(child, NULL, 0);
  return 0;
}
