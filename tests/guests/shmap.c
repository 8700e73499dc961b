/* MAP_SHARED file mappings compared with a native run: stores through a mapping seen by read()
   and the other way round, two mappings and two processes (fork, and a child that maps the
   file itself) sharing the pages, ftruncate growing the file under a mapping and a bigger
   mapping after it, truncation zeroing what a mapping shows, mremap growing a file mapping, a mapping outliving its
   descriptor and the file's name, memfd_create, shm_open across fork, a read-only shared
   mapping of a host file, msync's return codes, and mmap's EACCES/EINVAL/EBADF/ENODEV/
   EOVERFLOW checks. Files live in a fresh directory under /tmp (removed at the end); the
   POSIX shm object has a name unique to this run and is unlinked. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static void show(const char *what, long r) {
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

static void showp(const char *what, void *p) {
  if (p == MAP_FAILED)
    printf("%s = MAP_FAILED %s\n", what, strerror(errno));
  else
    printf("%s = ok\n", what);
}

static char dir[] = "/tmp/shmapXXXXXX";
static char path[64];

static void readback(int fd, off_t off, size_t n, const char *what) {
  char buf[64] = {0};
  ssize_t r = pread(fd, buf, n, off);
  printf("%s: pread %zd '%.*s'\n", what, r, (int)(r > 0 ? r : 0), buf);
}

static void basic(void) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  show("write", write(fd, "hello, world", 12));
  char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  showp("mmap shared rw", p);
  printf("mapping shows '%.12s', past EOF zero=%d\n", p, p[100] == 0 && p[PG - 1] == 0);
  memcpy(p, "HELLO", 5);
  readback(fd, 0, 12, "store through the mapping");
  show("pwrite", pwrite(fd, "WORLD", 5, 7));
  printf("write() seen through the mapping: '%.12s'\n", p);

  /* A second mapping of the same file shares the pages. */
  char *q = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  q[5] = ';';
  printf("second mapping store seen by the first: '%.12s'\n", p);

  /* A read() into a mapping of the same file. */
  show("ftruncate to 128", ftruncate(fd, 128));
  show("pread into the mapping", pread(fd, p + 64, 12, 0));
  readback(fd, 64, 12, "the file at 64");

  munmap(q, PG);
  munmap(p, PG);
  close(fd);
}

static void two_processes(void) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  show("ftruncate 2 pages", ftruncate(fd, 2 * PG));
  char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int go[2], done[2];
  if (pipe(go) < 0 || pipe(done) < 0) return;
  pid_t c = fork();
  if (c == 0) {
    char x;
    memcpy(p + PG, "from child", 10);
    int own_fd = open(path, O_RDWR);
    char *own = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, own_fd, 0);
    if (write(done[1], "x", 1) != 1) _exit(1);
    if (read(go[0], &x, 1) != 1) _exit(1);
    printf("child: own mapping sees '%.11s'\n", own);
    memcpy(own, "child again", 11);
    _exit(0);
  }
  char x;
  if (read(done[0], &x, 1) != 1) return;
  printf("parent: child's store through the inherited mapping '%.10s'\n", p + PG);
  readback(fd, PG, 10, "parent: read() of it");
  memcpy(p, "from parent", 11);
  if (write(go[1], "x", 1) != 1) return;
  int st;
  waitpid(c, &st, 0);
  printf("child exit %d; parent sees '%.11s'\n", WEXITSTATUS(st), p);
  readback(fd, 0, 11, "parent: read() after the child");
  munmap(p, 2 * PG);
  close(fd);
  close(go[0]);
  close(go[1]);
  close(done[0]);
  close(done[1]);
}

static void grow_and_truncate(void) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  show("write", write(fd, "abc", 3));
  char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  show("ftruncate grow to 3 pages", ftruncate(fd, 3 * PG));
  char *big = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  showp("mmap 3 pages after growing", big);
  printf("small mapping sees the big one's page 0: %d, grown part zero: %d\n", big[0] == 'a' && p[2] == 'c', big[PG] == 0 && big[3 * PG - 1] == 0);
  memcpy(big + 2 * PG + 10, "page two", 8);
  readback(fd, 2 * PG + 10, 8, "store into the grown part");
  show("pwrite past the end", pwrite(fd, "tail", 4, 5 * PG));
  struct stat sb;
  fstat(fd, &sb);
  printf("size %lld\n", (long long)sb.st_size);
  /* Shrink under the mapping, grow again: the cut-off bytes read as zeros everywhere. */
  show("ftruncate to 2", ftruncate(fd, 2));
  show("ftruncate back to 3 pages", ftruncate(fd, 3 * PG));
  printf("after shrink+grow: mapping '%c%c' zero=%d, page two zero=%d\n", big[0], big[1], big[2] == 0, big[2 * PG + 10] == 0);
  readback(fd, 0, 4, "read() after shrink+grow");
  /* An offset mapping of page 2. */
  memcpy(big + 2 * PG, "third", 5);
  char *third = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 2 * PG);
  printf("offset mapping: '%.5s'\n", third);
  /* munmap: the data stays in the file. */
  show("munmap", munmap(big, 3 * PG));
  readback(fd, 2 * PG, 5, "after munmap");
  munmap(p, PG);
  munmap(third, PG);
  close(fd);
}

static void remap(void) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  show("write", write(fd, "one", 3));
  char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  show("ftruncate to 4 pages", ftruncate(fd, 4 * PG));
  show("pwrite", pwrite(fd, "three", 5, 2 * PG));
  char *q = mremap(p, PG, 3 * PG, MREMAP_MAYMOVE);
  showp("mremap grow", q);
  printf("grown mapping: '%.3s' '%.5s'\n", q, q + 2 * PG);
  memcpy(q + PG, "two", 3);
  readback(fd, PG, 3, "store into the grown part");
  char *r = mremap(q, 3 * PG, PG, 0);
  printf("mremap shrink in place: %d\n", r == q);
  char *guard = mmap(r + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (guard == r + PG)
    showp("mremap grow without MAYMOVE, next page taken", mremap(r, PG, 2 * PG, 0));
  munmap(guard, PG);
  /* A mapping from page 1 grown over pages 2 and 3. */
  char *mid = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
  char *mid2 = mremap(mid, PG, 3 * PG, MREMAP_MAYMOVE);
  showp("mremap grow of an offset mapping", mid2);
  printf("offset mapping grown: '%.3s' '%.5s'\n", mid2, mid2 + PG);
  mid2[2 * PG] = 'F';
  readback(fd, 3 * PG, 1, "store into its last page");
  munmap(r, PG);
  munmap(mid2, 3 * PG);
  close(fd);
}

static void outlive(void) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  show("ftruncate", ftruncate(fd, PG));
  char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  show("unlink", unlink(path));
  strcpy(p, "still here");
  pid_t c = fork();
  if (c == 0) {
    printf("child sees '%s' after close+unlink\n", p);
    strcpy(p, "child was here");
    _exit(0);
  }
  waitpid(c, NULL, 0);
  printf("parent sees '%s'\n", p);
  munmap(p, PG);
}

static void memfd(void) {
  int fd = memfd_create("shmap", 0);
  show("memfd ftruncate", ftruncate(fd, PG));
  char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  showp("memfd mmap", p);
  strcpy(p, "memfd data");
  readback(fd, 0, 10, "memfd");
  char *priv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  showp("memfd private mmap", priv);
  priv[0] = 'M';
  printf("private copy '%.10s', shared '%.10s'\n", priv, p);
  munmap(priv, PG);
  munmap(p, PG);
  close(fd);
}

static void posix_shm(void) {
  char name[64];
  snprintf(name, sizeof name, "/sandbox-shmap-%d", (int)getpid());
  int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  printf("shm_open ok=%d\n", fd >= 0);
  show("ftruncate", ftruncate(fd, 2 * PG));
  char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  showp("mmap", p);
  pid_t c = fork();
  if (c == 0) {
    strcpy(p + PG, "written by the child");
    int again = shm_open(name, O_RDWR, 0);
    char *q = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, again, 0);
    strcpy(q, "child through its own shm_open");
    _exit(0);
  }
  waitpid(c, NULL, 0);
  printf("parent sees '%s' and '%s'\n", p + PG, p);
  show("shm_unlink", shm_unlink(name));
  int gone = shm_open(name, O_RDWR, 0);
  printf("shm_open after unlink = %d %s\n", gone, gone < 0 ? strerror(errno) : "");
  printf("mapping still works: '%.20s'\n", p + PG);
  munmap(p, 2 * PG);
  close(fd);
}

static void host_file(const char *self) {
  /* This program's own file: in the sandbox a host file under the read-only root. */
  int fd = open(self, O_RDONLY);
  char *p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
  showp("shared read-only mapping of a host file", p);
  char buf[PG];
  ssize_t n = pread(fd, buf, PG, 0);
  printf("same bytes as read(): %d\n", n == PG && p != MAP_FAILED && memcmp(p, buf, PG) == 0);
  show("mprotect it writable (O_RDONLY descriptor)", mprotect(p, PG, PROT_READ | PROT_WRITE));
  errno = 0;
  showp("shared writable mapping of it", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  char *priv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  showp("private writable mapping of it", priv);
  munmap(p, PG);
  munmap(priv, PG);
  close(fd);
}

static void checks(void) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  show("ftruncate", ftruncate(fd, 2 * PG));
  int ro = open(path, O_RDONLY);
  int wo = open(path, O_WRONLY);
  int opath = open(path, O_PATH);
  showp("MAP_SHARED PROT_WRITE on O_RDONLY", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
  showp("MAP_SHARED PROT_READ on O_WRONLY", mmap(NULL, PG, PROT_READ, MAP_SHARED, wo, 0));
  showp("MAP_SHARED PROT_WRITE on O_WRONLY", mmap(NULL, PG, PROT_WRITE, MAP_SHARED, wo, 0));
  showp("MAP_PRIVATE on O_WRONLY", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, wo, 0));
  showp("MAP_PRIVATE PROT_WRITE on O_RDONLY", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0));
  char *r = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
  showp("MAP_SHARED PROT_READ on O_RDONLY", r);
  show("mprotect it PROT_WRITE", mprotect(r, PG, PROT_READ | PROT_WRITE));
  show("mprotect it PROT_READ|PROT_EXEC", mprotect(r, PG, PROT_READ | PROT_EXEC));
  show("madvise MADV_REMOVE on it", madvise(r, PG, MADV_REMOVE));
  char *w = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
  show("mprotect an O_RDWR one PROT_WRITE", mprotect(w, PG, PROT_READ | PROT_WRITE));
  w[0] = 'w';
  readback(fd, 0, 1, "store after mprotect");
  showp("unaligned offset", mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 100));
  showp("zero length", mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0));
  showp("bad descriptor", mmap(NULL, PG, PROT_READ, MAP_SHARED, 999, 0));
  showp("O_PATH descriptor", mmap(NULL, PG, PROT_READ, MAP_SHARED, opath, 0));
  showp("offset past the largest file", mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0x7ffffffffffff000LL));
  showp("negative offset", mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, -4096));
  showp("MAP_GROWSDOWN", mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_GROWSDOWN, fd, 0));
  showp("MAP_SHARED_VALIDATE unknown flag", mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, fd, 0));
  showp("MAP_SHARED_VALIDATE", mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE, fd, 0));
  int pfd[2];
  if (pipe(pfd) == 0) {
    showp("a pipe", mmap(NULL, PG, PROT_READ, MAP_SHARED, pfd[0], 0));
    close(pfd[0]);
    close(pfd[1]);
  }
  int proc = open("/proc/self/status", O_RDONLY);
  showp("a /proc file, shared", mmap(NULL, PG, PROT_READ, MAP_SHARED, proc, 0));
  showp("a /proc file, private", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, proc, 0));
  close(proc);
  int d = open(dir, O_RDONLY | O_DIRECTORY);
  showp("a directory", mmap(NULL, PG, PROT_READ, MAP_SHARED, d, 0));
  close(d);
  int zero = open("/dev/zero", O_RDWR);
  char *z = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, zero, 0);
  showp("/dev/zero shared", z);
  if (z != MAP_FAILED) {
    z[0] = 1;
    pid_t c = fork();
    if (c == 0) {
      z[1] = 2;
      _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("/dev/zero shared across fork: %d %d\n", z[0], z[1]);
  }
  int zero_ro = open("/dev/zero", O_RDONLY);
  showp("/dev/zero shared writable on O_RDONLY", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, zero_ro, 0));

  /* msync. */
  char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  m[1] = 'm';
  show("msync MS_SYNC", msync(m, 2 * PG, MS_SYNC));
  show("msync MS_ASYNC", msync(m, PG, MS_ASYNC));
  show("msync MS_INVALIDATE", msync(m, PG, MS_INVALIDATE));
  show("msync MS_SYNC|MS_ASYNC", msync(m, PG, MS_SYNC | MS_ASYNC));
  show("msync unaligned", msync(m + 1, PG, MS_SYNC));
  show("msync bad flag", msync(m, PG, 8));
  munmap(m + PG, PG);
  show("msync over an unmapped page", msync(m, 2 * PG, MS_SYNC));
  readback(fd, 0, 2, "after msync");
  close(fd);
  close(ro);
  close(wo);
  close(opath);
  close(zero);
  close(zero_ro);
}

/* Sandboxed only (tests/tests/shmap.rs): PATH is a host file under the read-only root;
   opening it for writing copies it up into memory, and a writable shared mapping of it is
   then a window of the copy. The host file stays as it was. */
static int copy_up(const char *file) {
  int fd = open(file, O_RDWR);
  char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  showp("shared writable mapping of the copied-up file", p);
  if (p == MAP_FAILED) return 1;
  printf("mapping shows '%.9s'\n", p);
  memcpy(p, "SANDBOXED", 9);
  show("msync", msync(p, PG, MS_SYNC));
  readback(fd, 0, 9, "read() of the copy");
  int again = open(file, O_RDONLY);
  readback(again, 0, 9, "a new descriptor");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc == 3 && strcmp(argv[1], "copyup") == 0) return copy_up(argv[2]);
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(path, sizeof path, "%s/f", dir);
  basic();
  two_processes();
  grow_and_truncate();
  remap();
  outlive();
  memfd();
  posix_shm();
  host_file(argv[0]);
  checks();
  unlink(path);
  show("rmdir", rmdir(dir));
  return 0;
}
