/* proctask: /proc/self/task lists the process's threads; each task/<tid> directory has the
   thread's own stat and status (its id as Pid, the process's as Tgid); /proc/thread-self
   names the calling thread. Ids differ between runs, so only relations are printed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 3
static pthread_barrier_t ready, done;
static pid_t tids[N + 1];

static int task_count(void) {
  DIR *d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

static int listed(pid_t tid) {
  char p[64];
  snprintf(p, sizeof p, "/proc/self/task/%d", tid);
  return access(p, F_OK) == 0;
}

/* The first field of task/<tid>/stat, and Pid:/Tgid: of task/<tid>/status. */
static void check_files(pid_t tid, int *stat_ok, int *status_ok) {
  char p[96], line[256];
  snprintf(p, sizeof p, "/proc/self/task/%d/stat", tid);
  FILE *f = fopen(p, "r");
  *stat_ok = f && fscanf(f, "%d", &(int){0}) == 1;
  if (f) {
    rewind(f);
    int first = 0;
    *stat_ok = fscanf(f, "%d", &first) == 1 && first == tid;
    fclose(f);
  }
  snprintf(p, sizeof p, "/proc/self/task/%d/status", tid);
  f = fopen(p, "r");
  int pid = -1, tgid = -1;
  while (f && fgets(line, sizeof line, f)) {
    sscanf(line, "Pid:\t%d", &pid);
    sscanf(line, "Tgid:\t%d", &tgid);
  }
  if (f) fclose(f);
  *status_ok = pid == tid && tgid == getpid();
}

static void *worker(void *arg) {
  int i = (int)(long)arg;
  tids[i] = (pid_t)syscall(SYS_gettid);
  char want[64], got[64] = {0};
  snprintf(want, sizeof want, "%d/task/%d", getpid(), tids[i]);
  ssize_t n = readlink("/proc/thread-self", got, sizeof got - 1);
  pthread_barrier_wait(&ready);
  pthread_barrier_wait(&done);
  return (void *)(long)(n > 0 && strcmp(want, got) == 0);
}

int main(void) {
  pthread_t th[N];
  tids[0] = getpid();
  printf("alone: %d task(s), main listed %d\n", task_count(), listed(getpid()));
  pthread_barrier_init(&ready, NULL, N + 1);
  pthread_barrier_init(&done, NULL, N + 1);
  for (long i = 1; i <= N; i++) pthread_create(&th[i - 1], NULL, worker, (void *)i);
  pthread_barrier_wait(&ready);
  printf("with %d threads: %d tasks\n", N, task_count());
  for (int i = 0; i <= N; i++) {
    int s, st;
    check_files(tids[i], &s, &st);
    printf("thread %d: listed %d stat %d status %d\n", i, listed(tids[i]), s, st);
  }
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/task/%d/comm", getpid(), tids[1]);
  printf("comm of a thread readable: %d\n", access(p, R_OK) == 0);
  printf("a made-up tid: listed %d\n", listed(999999));
  pthread_barrier_wait(&done);
  int links = 0;
  for (int i = 0; i < N; i++) {
    void *r;
    pthread_join(th[i], &r);
    links += (int)(long)r;
  }
  printf("thread-self right in %d of %d threads\n", links, N);
  printf("after join: %d task(s), thread 1 listed %d\n", task_count(), listed(tids[1]));
  return 0;
}
