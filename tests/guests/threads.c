/* Threads: creation and join, shared memory and descriptors, thread ids, a thread's exit and
   the last thread ending the process, exit_group and fatal signals from a thread, signals
   aimed at one thread or the whole process (sigwait in a dedicated thread), fork of a
   multithreaded process, and execve from a thread other than the first. Run natively and
   sandboxed; the outputs are compared. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void describe(const char *what, int st) {
  if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) printf("%s: killed by %d\n", what, WTERMSIG(st));
  else printf("%s: status %#x\n", what, st);
  fflush(stdout);
}

/* Runs `f` in a forked child and reports how the child ended. */
static void in_child(const char *what, void (*f)(void)) {
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    f();
    _exit(99);
  }
  int st = 0;
  waitpid(c, &st, 0);
  describe(what, st);
}

/* 1. Many threads, a mutex, results through pthread_join. */
static long counter;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static void *count_up(void *arg) {
  for (int i = 0; i < 2000; i++) {
    pthread_mutex_lock(&mu);
    counter++;
    pthread_mutex_unlock(&mu);
  }
  return (void *)((long)arg * 2);
}

static void many_threads(void) {
  pthread_t th[32];
  for (long i = 0; i < 32; i++) pthread_create(&th[i], NULL, count_up, (void *)i);
  long sum = 0;
  for (int i = 0; i < 32; i++) {
    void *r;
    pthread_join(th[i], &r);
    sum += (long)r;
  }
  printf("32 threads: counter=%ld sum=%ld\n", counter, sum);
}

/* 2. Ids: one pid, distinct tids; the first thread's tid is the pid. */
static pid_t seen_pid, seen_tid;
static void *ids(void *arg) {
  (void)arg;
  seen_pid = getpid();
  seen_tid = gettid_();
  return NULL;
}

static void thread_ids(void) {
  pthread_t t;
  pthread_create(&t, NULL, ids, NULL);
  pthread_join(t, NULL);
  printf("ids: same pid=%d tid differs=%d main tid is pid=%d\n", seen_pid == getpid(), seen_tid != getpid(), gettid_() == getpid());
}

/* 3. Shared descriptors: a pipe written by one thread, read by another. */
static int pfd[2];
static void *writer(void *arg) {
  (void)arg;
  usleep(20000);
  write(pfd[1], "ping", 4);
  return NULL;
}

static void shared_pipe(void) {
  pipe(pfd);
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  char buf[8] = {0};
  ssize_t n = read(pfd[0], buf, sizeof buf - 1);
  pthread_join(t, NULL);
  printf("pipe between threads: %zd %s\n", n, buf);
  close(pfd[0]);
  close(pfd[1]);
}

/* 4. The first thread exits; the process lives on until its last thread ends. */
static void *late_exit(void *arg) {
  (void)arg;
  usleep(50000);
  printf("worker after main's pthread_exit: still here\n");
  fflush(stdout);
  exit(7);
}

static void main_exits_first(void) {
  pthread_t t;
  pthread_create(&t, NULL, late_exit, NULL);
  pthread_exit(NULL);
}

/* 5. exit_group from a thread while the first thread sleeps in read. */
static void *exiter(void *arg) {
  (void)arg;
  usleep(20000);
  _exit(5);
}

static void exit_from_thread(void) {
  int p[2];
  pipe(p);
  pthread_t t;
  pthread_create(&t, NULL, exiter, NULL);
  char c;
  read(p[0], &c, 1);
}

/* 6. A fatal signal in one thread ends them all. */
static void *faulter(void *arg) {
  (void)arg;
  usleep(20000);
  raise(SIGTERM);
  return NULL;
}

static void fatal_in_thread(void) {
  pthread_t t;
  pthread_create(&t, NULL, faulter, NULL);
  for (;;) pause();
}

/* 7. A signal for one thread runs its handler in that thread. */
static volatile pid_t handled_by;
static void on_usr1(int sig) {
  (void)sig;
  handled_by = gettid_();
}

static volatile int stop_spinning;
static pid_t spinner_tid;
static void *spinner(void *arg) {
  (void)arg;
  spinner_tid = gettid_();
  while (!stop_spinning) usleep(1000);
  return NULL;
}

static void thread_directed(void) {
  signal(SIGUSR1, on_usr1);
  pthread_t t;
  pthread_create(&t, NULL, spinner, NULL);
  while (!spinner_tid) usleep(1000);
  pthread_kill(t, SIGUSR1);
  while (!handled_by) usleep(1000);
  stop_spinning = 1;
  pthread_join(t, NULL);
  printf("pthread_kill: handled in the target thread=%d\n", handled_by == spinner_tid);
  int r = (int)syscall(SYS_tgkill, getpid() + 100000, gettid_(), 0);
  printf("tgkill with the wrong tgid: %d %s\n", r, r ? strerror(errno) : "");
}

/* 8. kill() of the process goes to a thread that does not block the signal. */
static volatile pid_t usr2_by;
static void on_usr2(int sig) {
  (void)sig;
  usr2_by = gettid_();
}

static pid_t taker_tid;
static void *taker(void *arg) {
  (void)arg;
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, NULL);
  taker_tid = gettid_();
  while (!usr2_by) usleep(1000);
  return NULL;
}

static void process_directed(void) {
  signal(SIGUSR2, on_usr2);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &s, NULL);
  pthread_t t;
  pthread_create(&t, NULL, taker, NULL);
  while (!taker_tid) usleep(1000);
  kill(getpid(), SIGUSR2);
  pthread_join(t, NULL);
  printf("kill with the first thread blocking: taken by the unblocked thread=%d\n", usr2_by == taker_tid);
  pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}

/* 9. Every thread blocks SIGHUP; one takes it with sigwait. */
static void *waiter(void *arg) {
  sigset_t *set = arg;
  int sig = 0;
  sigwait(set, &sig);
  return (void *)(long)sig;
}

static void sigwait_thread(void) {
  static sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  pthread_t t;
  pthread_create(&t, NULL, waiter, &set);
  usleep(20000);
  kill(getpid(), SIGHUP);
  void *r;
  pthread_join(t, &r);
  printf("sigwait in a thread: got %ld\n", (long)r);
}

/* 10. fork of a multithreaded process: the child has one thread, a copy of memory, and can
   make threads of its own. */
static void *sleeper(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static void fork_threaded(void) {
  pthread_t t[3];
  for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, sleeper, NULL);
  counter = 41;
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    counter++;
    pthread_t u;
    pthread_create(&u, NULL, count_up, (void *)1);
    void *r;
    pthread_join(u, &r);
    printf("child of a threaded process: counter=%ld joined=%ld\n", counter, (long)r);
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  describe("child of a threaded process", st);
  printf("parent counter after the child: %ld\n", counter);
}

/* 11. execve from a thread other than the first: the others go, the pid stays. */
static char *self_path;
static void *execer(void *arg) {
  (void)arg;
  char pid[32];
  snprintf(pid, sizeof pid, "%d", getpid());
  char *argv[] = {self_path, "--after-exec", pid, NULL};
  execv(self_path, argv);
  return NULL;
}

static void exec_from_thread(void) {
  pthread_t t[2];
  pthread_create(&t[0], NULL, sleeper, NULL);
  pthread_create(&t[1], NULL, execer, NULL);
  for (;;) pause();
}

/* 12. A barrier across 8 threads, a few rounds. */
static pthread_barrier_t barrier;
static int rounds_done[8];
static void *barrier_worker(void *arg) {
  long i = (long)arg;
  for (int r = 0; r < 20; r++) {
    rounds_done[i]++;
    pthread_barrier_wait(&barrier);
  }
  return NULL;
}

static void barrier_rounds(void) {
  pthread_barrier_init(&barrier, NULL, 8);
  pthread_t t[8];
  for (long i = 0; i < 8; i++) pthread_create(&t[i], NULL, barrier_worker, (void *)i);
  int total = 0;
  for (int i = 0; i < 8; i++) {
    pthread_join(t[i], NULL);
    total += rounds_done[i];
  }
  printf("barrier: %d rounds in all\n", total);
}

/* 13. SIGSTOP stops every thread of a process: a worker spinning without system calls stands
   still (its counter, in memory shared with the parent, does not move) until SIGCONT. */
static void *bump(void *arg) {
  volatile long *p = arg;
  for (;;) (*p)++;
  return NULL;
}

static void stop_threaded(void) {
  volatile long *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    pthread_t t;
    pthread_create(&t, NULL, bump, (void *)shared);
    for (;;) pause();
  }
  while (*shared == 0) usleep(1000);
  int st = 0;
  kill(c, SIGSTOP);
  waitpid(c, &st, WUNTRACED);
  printf("threaded child stopped: %d by %d\n", WIFSTOPPED(st), WSTOPSIG(st));
  usleep(20000);
  long a = *shared;
  usleep(100000);
  long b = *shared;
  printf("while stopped the worker stands still: %d\n", a == b);
  kill(c, SIGCONT);
  waitpid(c, &st, WCONTINUED);
  printf("threaded child continued: %d\n", WIFCONTINUED(st));
  usleep(50000);
  printf("after SIGCONT the worker runs: %d\n", *shared > b);
  kill(c, SIGKILL);
  waitpid(c, &st, 0);
  describe("threaded child after SIGKILL", st);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--after-exec") == 0) {
    printf("after exec from a thread: same pid=%d tid is pid=%d\n", atoi(argv[2]) == getpid(), gettid_() == getpid());
    fflush(stdout);
    return 3;
  }
  self_path = argv[0];
  setvbuf(stdout, NULL, _IOLBF, 0);
  many_threads();
  thread_ids();
  shared_pipe();
  in_child("main thread exits first", main_exits_first);
  in_child("exit from a thread", exit_from_thread);
  in_child("fatal signal in a thread", fatal_in_thread);
  thread_directed();
  process_directed();
  sigwait_thread();
  in_child("fork of a threaded process", fork_threaded);
  in_child("exec from a thread", exec_from_thread);
  barrier_rounds();
  stop_threaded();
  return 0;
}
