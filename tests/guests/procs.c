/* Processes compared with a native run: vfork then exec, copy-on-write isolation after fork,
   MAP_SHARED anonymous memory seen across fork, exec of a #! script,
   orphans reparented to a child subreaper and reaped, PR_SET_PDEATHSIG, the process name.
   Run with a scratch directory. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t parent_died;
static void on_usr1(int sig) { (void)sig; parent_died = 1; }

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *dir = argc > 1 ? argv[1] : "/tmp";
  int st;

  pid_t c = vfork();
  if (c == 0) {
    execl("/bin/echo", "echo", "vfork child exec'd", (char *)NULL);
    _exit(127);
  }
  waitpid(c, &st, 0);
  printf("vfork: status=%d\n", WEXITSTATUS(st));

  static int global = 1;
  int *heap = malloc(sizeof *heap);
  *heap = 10;
  c = fork();
  if (c == 0) {
    global = 2;
    *heap = 20;
    printf("child sees global=%d heap=%d\n", global, *heap);
    _exit(0);
  }
  waitpid(c, &st, 0);
  printf("parent still sees global=%d heap=%d\n", global, *heap);

  int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  *shared = 1;
  c = fork();
  if (c == 0) {
    *shared = 42;
    _exit(0);
  }
  waitpid(c, &st, 0);
  printf("MAP_SHARED anonymous after child wrote: %d\n", *shared);

  char path[512];
  snprintf(path, sizeof path, "%s/script.sh", dir);
  FILE *s = fopen(path, "w");
  fprintf(s, "#!/bin/sh\necho script args: \"$@\"\nexit 6\n");
  fclose(s);
  chmod(path, 0755);
  c = fork();
  if (c == 0) {
    execl(path, "script.sh", "one", "two", (char *)NULL);
    _exit(127);
  }
  waitpid(c, &st, 0);
  printf("script: status=%d\n", WEXITSTATUS(st));

  /* As a child subreaper (natively; the sandbox's init is one anyway), an orphaned grandchild
     comes to us: its getppid() changes to our pid, and we reap it. Its PR_SET_PDEATHSIG fires
     when its parent exits. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int sub = -1;
  prctl(PR_GET_CHILD_SUBREAPER, &sub);
  printf("subreaper=%d\n", sub);
  int p[2];
  pipe(p);
  pid_t me = getpid();
  c = fork();
  if (c == 0) {
    pid_t g = fork();
    if (g == 0) {
      close(p[0]);
      signal(SIGUSR1, on_usr1);
      prctl(PR_SET_PDEATHSIG, SIGUSR1);
      write(p[1], "r", 1); /* ready: the middle process may go */
      while (getppid() != me) usleep(1000);
      for (int i = 0; i < 1000 && !parent_died; i++) usleep(1000);
      _exit(parent_died ? 7 : 8);
    }
    char x;
    read(p[0], &x, 1);
    _exit(0);
  }
  close(p[1]);
  waitpid(c, &st, 0);
  pid_t reaped = wait(&st);
  printf("orphan reaped by us: %d status=%d\n", reaped > 0 && reaped != c, WEXITSTATUS(st));

  char name[16] = {0};
  prctl(PR_SET_NAME, "renamed-process-long");
  prctl(PR_GET_NAME, name);
  char comm[32] = {0};
  FILE *cf = fopen("/proc/self/comm", "r");
  fgets(comm, sizeof comm, cf);
  fclose(cf);
  printf("name=%s comm=%s", name, comm);
  printf("dumpable=%d no_new_privs=%d\n", prctl(PR_GET_DUMPABLE), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  printf("no_new_privs now=%d bad option=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), prctl(9999));
  return 0;
}
