/* What programs typically read from /proc/self: exe, cmdline, comm, fd links and fdinfo,
   status fields, cwd, and the layout of /proc itself. Prints what matches natively. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void link_of(const char *path) {
  char b[256] = {0};
  ssize_t n = readlink(path, b, sizeof b - 1);
  printf("%s -> %s\n", path, n < 0 ? "(error)" : b);
}

static void file_has(const char *path, const char *needle) {
  char b[8192] = {0};
  int fd = open(path, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
  printf("%s has %s: %d\n", path, needle, n > 0 && strstr(b, needle) != 0);
  close(fd);
}

int main(int argc, char **argv) {
  (void)argv;
  setvbuf(stdout, 0, _IONBF, 0);
  char exe[256] = {0};
  readlink("/proc/self/exe", exe, sizeof exe - 1);
  printf("exe ends with proc.0/1: %d\n", strstr(exe, "/proc.") != 0);
  char cmd[256] = {0};
  int fd = open("/proc/self/cmdline", O_RDONLY);
  ssize_t n = read(fd, cmd, sizeof cmd);
  close(fd);
  printf("cmdline bytes %ld, second arg %s\n", (long)n, cmd + strlen(cmd) + 1);
  file_has("/proc/self/comm", "proc.");
  file_has("/proc/self/status", "Name:");
  file_has("/proc/self/status", "\nPid:");
  file_has("/proc/self/status", "FDSize:");
  file_has("/proc/cpuinfo", "processor");
  file_has("/proc/meminfo", "MemTotal:");
  file_has("/proc/self/mounts", " / ");
  file_has("/proc/self/stat", ") R ");
  file_has("/proc/self/maps", "[stack]");
  file_has("/proc/self/maps", "r-xp");
  char cpus[32] = {0};
  int c = open("/sys/devices/system/cpu/online", O_RDONLY);
  read(c, cpus, sizeof cpus - 1);
  close(c);
  printf("cpus online %s", cpus);
  chdir("/tmp");
  link_of("/proc/self/cwd");
  link_of("/proc/self/root");
  int t = open("/tmp", O_RDONLY | O_DIRECTORY);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", t);
  link_of(path);
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", t);
  file_has(path, "flags:");
  int p[2];
  pipe(p);
  snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
  char b[64] = {0};
  readlink(path, b, sizeof b - 1);
  printf("pipe link starts with pipe:[ %d\n", strncmp(b, "pipe:[", 6) == 0);
  DIR *d = opendir("/proc/self/fd");
  int seen = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && atoi(e->d_name) <= p[1]) seen |= 1 << atoi(e->d_name);
  closedir(d);
  printf("fds 0..%d listed: %d\n", p[1], seen == (1 << (p[1] + 1)) - 1);
  printf("self is a dir: %d\n", opendir("/proc/self") != 0);
  printf("no such pid: %d\n", access("/proc/999999", F_OK));
  int w = open("/proc/self/status", O_WRONLY);
  printf("status write-open: %d write: %ld\n", w >= 0, (long)write(w, "x", 1));
  return argc > 5;
}
