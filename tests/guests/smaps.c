/* /proc/self/smaps, smaps_rollup and status as programs read them: the Size, Rss, Anonymous
   and Locked of private, shared and locked mappings with a known number of pages written, and
   the thread count. Run natively and sandboxed; the outputs are compared. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <pthread.h>
#include <unistd.h>
/* Finds the smaps entry of `addr` and prints its Size and Rss. */
static void show(const char *what, void *addr) {
  FILE *f = fopen("/proc/self/smaps", "r");
  char line[512]; int in = 0; unsigned long a = (unsigned long)addr;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ') == line + strcspn(line, " ")) { in = lo <= a && a < hi; if (in) { char perms[8]; sscanf(line, "%*s %7s", perms); printf("%s: perms %s\n", what, perms); } continue; }
    if (in && (!strncmp(line, "Size:", 5) || !strncmp(line, "Rss:", 4) || !strncmp(line, "Anonymous:", 10) || !strncmp(line, "Locked:", 7))) { char k[32]; long v; sscanf(line, "%31s %ld", k, &v); printf("%s: %s %ld kB\n", what, k, v); }
  }
  fclose(f);
}
static void *idle(void *a) { (void)a; pause(); return NULL; }
int main(void) {
  char *p = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  madvise(p, 64 * 4096, MADV_NOHUGEPAGE);
  for (int i = 0; i < 10; i++) p[i * 4096 * 3] = 1;
  show("private anon, 10 pages written", p);
  char *s = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  for (int i = 0; i < 4; i++) s[i * 4096] = 1;
  show("shared anon, 4 pages written", s);
  char *l = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mlock(l, 8 * 4096) == 0) show("locked", l);
  pthread_t t; pthread_create(&t, NULL, idle, NULL); pthread_create(&t, NULL, idle, NULL);
  usleep(10000);
  FILE *f = fopen("/proc/self/status", "r"); char line[256];
  while (fgets(line, sizeof line, f)) if (!strncmp(line, "Threads:", 8)) fputs(line, stdout);
  fclose(f);
  f = fopen("/proc/self/smaps_rollup", "r"); int n = 0;
  while (fgets(line, sizeof line, f)) n += !strncmp(line, "Rss:", 4);
  printf("smaps_rollup has Rss: %d\n", n);
  return 0;
}
