/* SysV shared memory compared with a native run (natively inside a fresh IPC namespace, so
   the host's segments are never touched): a segment shared with a forked child, attach counts,
   IPC_RMID while attached, keys (EEXIST, ENOENT, EINVAL for a larger size), SHM_RDONLY faults,
   SHM_RND, shmdt errors, IPC_STAT and IPC_SET. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf jump;
static void on_segv(int sig) { (void)sig; siglongjmp(jump, 1); }

static void show(const char *what, long r) {
  printf("%s = %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

static unsigned long nattch(int id) {
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) < 0) return 999;
  return ds.shm_nattch;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
  printf("shmget ok=%d\n", id >= 0);
  char *p = shmat(id, NULL, 0);
  printf("attached ok=%d nattch=%lu\n", p != (void *)-1, nattch(id));
  strcpy(p, "parent wrote");
  pid_t c = fork();
  if (c == 0) {
    printf("child sees '%s', nattch=%lu\n", p, nattch(id));
    strcpy(p, "child wrote");
    shmdt(p);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  printf("parent sees '%s', nattch=%lu\n", p, nattch(id));

  struct shmid_ds ds;
  shmctl(id, IPC_STAT, &ds);
  printf("stat: size=%zu mode=%o cpid ok=%d lpid ok=%d\n", ds.shm_segsz, ds.shm_perm.mode & 0777, ds.shm_perm.__key == 0 && ds.shm_cpid == getpid(), ds.shm_lpid > 0);
  ds.shm_perm.mode = 0640;
  show("IPC_SET mode 0640", shmctl(id, IPC_SET, &ds));
  shmctl(id, IPC_STAT, &ds);
  printf("mode now %o\n", ds.shm_perm.mode & 0777);

  show("IPC_RMID while attached", shmctl(id, IPC_RMID, NULL));
  shmctl(id, IPC_STAT, &ds);
  printf("after RMID: dest=%d nattch=%lu still readable '%s'\n", (ds.shm_perm.mode & SHM_DEST) != 0, (unsigned long)ds.shm_nattch, p);
  show("shmdt", shmdt(p));
  show("IPC_STAT after the last detach", shmctl(id, IPC_STAT, &ds));
  show("shmdt again", shmdt(p));

  key_t key = 0x5eed;
  int k = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
  printf("keyed ok=%d\n", k >= 0);
  show("IPC_CREAT|IPC_EXCL again", shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600));
  printf("same key finds it: %d\n", shmget(key, 100, 0) == k);
  show("larger size", shmget(key, 8192, 0));
  show("unknown key", shmget(0x7777, 4096, 0));
  show("size 0", shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600));

  char *ro = shmat(k, NULL, SHM_RDONLY);
  signal(SIGSEGV, on_segv);
  if (sigsetjmp(jump, 1) == 0) {
    ro[0] = 1;
    printf("write to a read-only attach succeeded?\n");
  } else {
    printf("write to a read-only attach faulted\n");
  }
  shmdt(ro);
  char *want = (char *)0x700000000000UL;
  char *at = shmat(k, want + 123, SHM_RND);
  printf("SHM_RND rounds down: %d\n", at == want);
  shmdt(at);
  show("unaligned without SHM_RND", (long)shmat(k, want + 123, 0));
  show("bad id", (long)shmat(123456789, NULL, 0));
  show("IPC_RMID keyed", shmctl(k, IPC_RMID, NULL));
  show("gone", shmget(key, 100, 0));
  return 0;
}
