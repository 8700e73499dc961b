/* futex operations between processes sharing MAP_SHARED anonymous memory: REQUEUE and
   CMP_REQUEUE (counts, EAGAIN on a mismatch), WAKE_OP (the new value, the counts, signed and
   shifted operands, bad encodings), the PI lock protocol (TRYLOCK, EDEADLK, EPERM, a contended
   handover, an owner that is gone or dies holding the lock), get_robust_list, and the errnos of
   bad requests. Every wait has a timeout so that a bug cannot hang the test.

   With the argument "robust": the robust-list cleanup of a dying process (OWNER_DIED, one
   waiter woken). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

struct shared {
  uint32_t f1, f2, scratch, lock, flag;
};
static struct shared *S;

static long fx(uint32_t *a, int op, long val, const void *timeout, uint32_t *a2, long val3) {
  long r = syscall(SYS_futex, a, op, val, timeout, a2, val3);
  return r < 0 ? -errno : r;
}

static const char *err(long r) {
  return r < 0 ? strerrorname_np((int)-r) : "ok";
}

static void show(const char *what, long r) {
  printf("%s = %ld %s\n", what, r < 0 ? -1 : r, err(r));
}

static const struct timespec five = {5, 0};

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How many wait on f: moved to the scratch word and back, so no one wakes. */
static long count_waiters(uint32_t *f) {
  long n = fx(f, FUTEX_CMP_REQUEUE, 0, (void *)(long)INT_MAX, &S->scratch, *f);
  if (n > 0)
    fx(&S->scratch, FUTEX_REQUEUE, 0, (void *)(long)INT_MAX, f, 0);
  return n;
}

/* Waits (5 s at most) until n processes wait on f. */
static int await_waiters(uint32_t *f, long n) {
  long start = now_ms();
  while (now_ms() - start < 5000) {
    if (count_waiters(f) == n)
      return 1;
    usleep(1000);
  }
  printf("timed out waiting for %ld waiters\n", n);
  return 0;
}

/* Waits (5 s at most) until the word has all the bits of mask. */
static int await_bits(uint32_t *w, uint32_t mask) {
  long start = now_ms();
  while (now_ms() - start < 5000) {
    if ((__atomic_load_n(w, __ATOMIC_SEQ_CST) & mask) == mask)
      return 1;
    usleep(1000);
  }
  printf("timed out waiting for bits %#x\n", mask);
  return 0;
}

/* A child that waits on f for value val (5 s) and exits 0 when woken, 1 on a timeout, 2 else. */
static pid_t waiter(uint32_t *f, uint32_t val) {
  pid_t p = fork();
  if (p == 0) {
    long r = fx(f, FUTEX_WAIT, val, &five, 0, 0);
    _exit(r == 0 ? 0 : r == -ETIMEDOUT ? 1 : 2);
  }
  return p;
}

/* Reaps the children and prints how they ended, in pid order of the list given. */
static void reap(const char *what, pid_t *kids, int n) {
  int codes[8];
  for (int i = 0; i < n; i++) {
    int st;
    waitpid(kids[i], &st, 0);
    codes[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  printf("%s:", what);
  for (int i = 0; i < n; i++)
    printf(" %d", codes[i]);
  printf("\n");
}

static void requeue_tests(void) {
  pid_t k[3];
  S->f1 = 0;
  S->f2 = 0;
  for (int i = 0; i < 3; i++)
    k[i] = waiter(&S->f1, 0);
  if (!await_waiters(&S->f1, 3))
    return;
  show("requeue wake 1 move 1", fx(&S->f1, FUTEX_REQUEUE, 1, (void *)1L, &S->f2, 0));
  show("left on f1", count_waiters(&S->f1));
  show("moved to f2", count_waiters(&S->f2));
  show("wake f2", fx(&S->f2, FUTEX_WAKE, INT_MAX, 0, 0, 0));
  show("wake f1", fx(&S->f1, FUTEX_WAKE, INT_MAX, 0, 0, 0));
  reap("requeue children", k, 3);

  show("cmp_requeue mismatch", fx(&S->f1, FUTEX_CMP_REQUEUE, 1, (void *)1L, &S->f2, 1));
  show("requeue negative count", fx(&S->f1, FUTEX_REQUEUE, 1, (void *)-1L, &S->f2, 0));
  show("requeue negative wake", fx(&S->f1, FUTEX_REQUEUE, -1, (void *)1L, &S->f2, 0));
  show("requeue no waiters", fx(&S->f1, FUTEX_REQUEUE, 1, (void *)1L, &S->f2, 0));

  for (int i = 0; i < 3; i++)
    k[i] = waiter(&S->f1, 0);
  if (!await_waiters(&S->f1, 3))
    return;
  show("cmp_requeue wake 0 move 2", fx(&S->f1, FUTEX_CMP_REQUEUE, 0, (void *)2L, &S->f2, 0));
  show("cmp_requeue wake 1 move all", fx(&S->f1, FUTEX_CMP_REQUEUE, 1, (void *)(long)INT_MAX, &S->f2, 0));
  show("now on f2", count_waiters(&S->f2));
  show("wake 0 wakes one", fx(&S->f2, FUTEX_WAKE, 0, 0, 0, 0));
  show("wake rest", fx(&S->f2, FUTEX_WAKE, INT_MAX, 0, 0, 0));
  reap("cmp_requeue children", k, 3);
}

static void wake_op_case(const char *what, uint32_t start, int op) {
  S->f2 = start;
  long r = fx(&S->f1, FUTEX_WAKE_OP, 1, (void *)1L, &S->f2, op);
  printf("%s = %ld %s f2=%d\n", what, r < 0 ? -1 : r, err(r), (int)S->f2);
}

static void wake_op_tests(void) {
  wake_op_case("set", 5, FUTEX_OP(FUTEX_OP_SET, 9, FUTEX_OP_CMP_EQ, 5));
  wake_op_case("add", 5, FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_NE, 5));
  wake_op_case("or", 5, FUTEX_OP(FUTEX_OP_OR, 2, FUTEX_OP_CMP_LT, 5));
  wake_op_case("andn", 7, FUTEX_OP(FUTEX_OP_ANDN, 2, FUTEX_OP_CMP_GE, 7));
  wake_op_case("xor", 7, FUTEX_OP(FUTEX_OP_XOR, 5, FUTEX_OP_CMP_LE, 6));
  wake_op_case("add negative", (uint32_t)-5, FUTEX_OP(FUTEX_OP_ADD, -1, FUTEX_OP_CMP_LT, -1));
  wake_op_case("shift", 0, FUTEX_OP((FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT), 4, FUTEX_OP_CMP_GT, -2048));
  wake_op_case("bad cmp (stores anyway)", 5, FUTEX_OP(FUTEX_OP_ADD, 1, 9, 0));
  wake_op_case("bad op", 5, FUTEX_OP(6, 1, FUTEX_OP_CMP_EQ, 0));

  /* One waiter on each word: both woken when the comparison holds, only f1's when not. */
  S->f1 = 0;
  pid_t k[2];
  k[0] = waiter(&S->f1, 0);
  S->f2 = 1;
  k[1] = waiter(&S->f2, 1);
  if (!await_waiters(&S->f1, 1) || !await_waiters(&S->f2, 1))
    return;
  long r = fx(&S->f1, FUTEX_WAKE_OP, 1, (void *)1L, &S->f2, FUTEX_OP(FUTEX_OP_SET, 4, FUTEX_OP_CMP_GT, 3));
  printf("wake_op comparison fails = %ld %s f2=%u\n", r, err(r), S->f2);
  show("f2 still waited on", count_waiters(&S->f2));
  pid_t k2 = waiter(&S->f1, 0);
  if (!await_waiters(&S->f1, 1))
    return;
  r = fx(&S->f1, FUTEX_WAKE_OP, 1, (void *)1L, &S->f2, FUTEX_OP(FUTEX_OP_SET, 8, FUTEX_OP_CMP_EQ, 4));
  printf("wake_op comparison holds = %ld %s f2=%u\n", r, err(r), S->f2);
  reap("wake_op children", k, 2);
  reap("wake_op second f1 waiter", &k2, 1);

  uint32_t *ro = mmap(0, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  show("wake_op read-only", fx(&S->f1, FUTEX_WAKE_OP, 1, (void *)1L, ro, FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0)));
  show("lock_pi read-only", fx(ro, FUTEX_LOCK_PI, 0, 0, 0, 0));
  munmap(ro, 4096);
  show("wake_op unaligned", fx(&S->f1, FUTEX_WAKE_OP, 1, (void *)1L, (uint32_t *)((char *)&S->f2 + 2), 0));
}

static void pi_tests(void) {
  uint32_t me = (uint32_t)getpid();
  S->lock = 0;
  show("trylock free", fx(&S->lock, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
  printf("owner is me: %d\n", S->lock == me);
  show("trylock again", fx(&S->lock, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
  show("lock_pi own", fx(&S->lock, FUTEX_LOCK_PI, 0, 0, 0, 0));
  show("lock_pi realtime flag", fx(&S->lock, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, 0, 0, 0));

  /* The child cannot unlock, try or (within 100 ms) take the parent's lock. */
  pid_t c = fork();
  if (c == 0) {
    show("child unlock_pi parent's", fx(&S->lock, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    show("child trylock", fx(&S->lock, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
    printf("child sees waiters bit: %d\n", (S->lock & FUTEX_WAITERS) != 0);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 100000000;
    if (t.tv_nsec >= 1000000000) {
      t.tv_sec++;
      t.tv_nsec -= 1000000000;
    }
    show("child lock_pi timeout", fx(&S->lock, FUTEX_LOCK_PI, 0, &t, 0, 0));
    struct timespec bad = {0, 1000000000};
    show("child lock_pi bad timeout", fx(&S->lock, FUTEX_LOCK_PI, 0, &bad, 0, 0));
    _exit(0);
  }
  reap("child", &c, 1);
  show("unlock_pi with waiters bit", fx(&S->lock, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
  printf("lock word after unlock: %#x\n", S->lock);
  show("unlock_pi unowned", fx(&S->lock, FUTEX_UNLOCK_PI, 0, 0, 0, 0));

  /* Contended handover: the child blocks in LOCK_PI until the parent unlocks. */
  show("trylock for handover", fx(&S->lock, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
  c = fork();
  if (c == 0) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += 5;
    long r = fx(&S->lock, FUTEX_LOCK_PI, 0, &t, 0, 0);
    uint32_t w = S->lock;
    /* Reported through the exit status, so that the output's order does not depend on who
       runs first after the handover. */
    int owner = (w & FUTEX_TID_MASK) == (uint32_t)getpid(), waiters = (w & FUTEX_WAITERS) != 0;
    long u = fx(&S->lock, FUTEX_UNLOCK_PI, 0, 0, 0, 0);
    _exit((r == 0) | owner << 1 | waiters << 2 | (u == 0) << 3);
  }
  if (!await_bits(&S->lock, FUTEX_WAITERS))
    return;
  usleep(20000);
  show("parent unlock_pi hands over", fx(&S->lock, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
  reap("handover child (15: locked, owner, waiters bit, unlocked)", &c, 1);
  printf("lock word at the end: %#x\n", S->lock);

  /* An owner that is gone: ESRCH, with the waiters bit set. */
  c = fork();
  if (c == 0)
    _exit(fx(&S->lock, FUTEX_TRYLOCK_PI, 0, 0, 0, 0) == 0 ? 0 : 1);
  reap("owner child", &c, 1);
  show("lock_pi dead owner", fx(&S->lock, FUTEX_LOCK_PI, 0, 0, 0, 0));
  show("trylock dead owner", fx(&S->lock, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
  printf("dead owner word: tid matches %d waiters %d\n", (S->lock & FUTEX_TID_MASK) == (uint32_t)c, (S->lock & FUTEX_WAITERS) != 0);

  /* OWNER_DIED without an owner: the next locker takes it and keeps the bit. */
  S->lock = FUTEX_OWNER_DIED;
  show("lock_pi owner died", fx(&S->lock, FUTEX_LOCK_PI2, 0, 0, 0, 0));
  printf("word: owner is me %d owner died %d\n", (S->lock & FUTEX_TID_MASK) == me, (S->lock & FUTEX_OWNER_DIED) != 0);
  show("unlock_pi clears all", fx(&S->lock, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
  printf("word %#x\n", S->lock);

  /* The owner dies while the parent waits: the parent gets the lock. */
  S->flag = 0;
  c = fork();
  if (c == 0) {
    if (fx(&S->lock, FUTEX_TRYLOCK_PI, 0, 0, 0, 0) != 0)
      _exit(3);
    __atomic_store_n(&S->flag, 1, __ATOMIC_SEQ_CST);
    if (!await_bits(&S->lock, FUTEX_WAITERS))
      _exit(4);
    usleep(20000);
    _exit(0);
  }
  if (!await_bits(&S->flag, 1))
    return;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_sec += 5;
  long r = fx(&S->lock, FUTEX_LOCK_PI2, 0, &t, 0, 0);
  printf("lock_pi owner exited = %s owner is me %d\n", err(r), (S->lock & FUTEX_TID_MASK) == me);
  reap("dying owner", &c, 1);
  show("unlock after takeover", fx(&S->lock, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
  printf("word %#x\n", S->lock);

  /* PI and plain operations do not mix. */
  S->lock = 0;
  show("trylock", fx(&S->lock, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
  c = fork();
  if (c == 0) {
    struct timespec t2;
    clock_gettime(CLOCK_REALTIME, &t2);
    t2.tv_sec += 5;
    long r = fx(&S->lock, FUTEX_LOCK_PI, 0, &t2, 0, 0);
    long u = fx(&S->lock, FUTEX_UNLOCK_PI, 0, 0, 0, 0);
    _exit((r == 0) | (u == 0) << 1);
  }
  if (!await_bits(&S->lock, FUTEX_WAITERS))
    return;
  usleep(50000);
  show("wake on a pi futex", fx(&S->lock, FUTEX_WAKE, 1, 0, 0, 0));
  show("unlock_pi", fx(&S->lock, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
  reap("pi child (3: locked, unlocked)", &c, 1);
}

struct robust_head {
  void *next;
  long futex_offset;
  void *pending;
};

static void robust_list_tests(void) {
  void *orig;
  size_t len = 0;
  show("get_robust_list initial", syscall(SYS_get_robust_list, 0, &orig, &len));
  struct robust_head h = {&h, 0, 0};
  show("set_robust_list", syscall(SYS_set_robust_list, &h, sizeof h));
  show("set_robust_list bad len", syscall(SYS_set_robust_list, &h, 8) < 0 ? -errno : 0);
  void *got = 0;
  len = 0;
  show("get_robust_list self", syscall(SYS_get_robust_list, 0, &got, &len));
  printf("head matches %d len %zu\n", got == (void *)&h, len);
  got = 0;
  show("get_robust_list own pid", syscall(SYS_get_robust_list, getpid(), &got, &len));
  printf("head matches %d\n", got == (void *)&h);
  show("get_robust_list no such pid", syscall(SYS_get_robust_list, 999999, &got, &len) < 0 ? -errno : 0);
  show("get_robust_list bad head ptr", syscall(SYS_get_robust_list, 0, (void *)8, &len) < 0 ? -errno : 0);
  show("get_robust_list bad len ptr", syscall(SYS_get_robust_list, 0, &got, (void *)8) < 0 ? -errno : 0);
  syscall(SYS_set_robust_list, orig, sizeof h);
}

static void bad_input_tests(void) {
  uint32_t *odd = (uint32_t *)((char *)&S->f1 + 1);
  struct timespec badns = {0, -1}, negs = {-1, 0};
  S->f1 = 0;
  show("wait unaligned", fx(odd, FUTEX_WAIT, 0, 0, 0, 0));
  show("wake unaligned", fx(odd, FUTEX_WAKE, 1, 0, 0, 0));
  show("requeue unaligned target", fx(&S->f1, FUTEX_REQUEUE, 1, (void *)1L, odd, 0));
  show("lock_pi unaligned", fx(odd, FUTEX_LOCK_PI, 0, 0, 0, 0));
  show("unlock_pi unaligned not owner", fx(odd, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
  show("unknown op", fx(&S->f1, 99, 0, 0, 0, 0));
  show("wake realtime flag", fx(&S->f1, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, 0, 0, 0));
  show("wait realtime flag", fx(&S->f1, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, &five, 0, 0));
  show("wait wrong value", fx(&S->f1, FUTEX_WAIT, 1, &five, 0, 0));
  show("wait bad nsec", fx(&S->f1, FUTEX_WAIT, 0, &badns, 0, 0));
  show("wait negative sec", fx(&S->f1, FUTEX_WAIT, 0, &negs, 0, 0));
  show("wait bad timeout ptr", fx(&S->f1, FUTEX_WAIT, 0, (void *)8, 0, 0));
  show("wait_bitset zero", fx(&S->f1, FUTEX_WAIT_BITSET, 0, 0, 0, 0));
  show("wake_bitset zero", fx(&S->f1, FUTEX_WAKE_BITSET, 1, 0, 0, 0));
  struct timespec soon = {0, 10000000};
  show("wait times out", fx(&S->f1, FUTEX_WAIT, 0, &soon, 0, 0));
  struct timespec past = {1, 0};
  show("wait_bitset realtime past", fx(&S->f1, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &past, 0, FUTEX_BITSET_MATCH_ANY));
  show("wake shared unmapped", fx((uint32_t *)4096, FUTEX_WAKE, 1, 0, 0, 0));
  show("wake private unmapped", fx((uint32_t *)4096, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
  show("wake kernel address", fx((uint32_t *)0xffff800000000000UL, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
  show("cmp_requeue unmapped", fx((uint32_t *)4096, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, &S->f2, 0));
  show("wake_op unmapped", fx(&S->f1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, (uint32_t *)4096, 0));
  show("lock_pi unmapped", fx((uint32_t *)4096, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0));
  show("unlock_pi unmapped", fx((uint32_t *)4096, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0));
}

/* The robust-list cleanup of a process that dies holding locks: nodes in shared memory, each
   followed by its futex word. */
struct rnode {
  void *next;
  uint32_t word;
  uint32_t pad;
};

static void robust_exit_tests(void) {
  struct rnode *n = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  S->flag = 0;
  pid_t c = fork();
  if (c == 0) {
    uint32_t me = (uint32_t)getpid();
    static struct robust_head h;
    h.futex_offset = offsetof(struct rnode, word);
    n[0].word = me | FUTEX_WAITERS; /* the parent waits on it */
    n[1].word = me;                 /* held, no waiters */
    n[2].word = me + 1;             /* someone else's */
    n[3].word = 0;                  /* a PI lock, taken below */
    n[4].word = me;                 /* pending, not on the list */
    if (fx(&n[3].word, FUTEX_TRYLOCK_PI, 0, 0, 0, 0) != 0)
      _exit(3);
    h.next = &n[0];
    n[0].next = &n[1];
    n[1].next = (char *)&n[3] + 1; /* the low bit marks a PI futex */
    n[3].next = &n[2];
    n[2].next = &h;
    h.pending = &n[4];
    syscall(SYS_set_robust_list, &h, sizeof h);
    __atomic_store_n(&S->flag, 1, __ATOMIC_SEQ_CST);
    if (!await_waiters(&n[0].word, 1))
      _exit(4);
    _exit(0);
  }
  if (!await_bits(&S->flag, 1))
    return;
  long r = fx(&n[0].word, FUTEX_WAIT, n[0].word, &five, 0, 0);
  printf("waiter on robust futex = %s\n", err(r));
  reap("robust child", &c, 1);
  for (int i = 0; i < 5; i++)
    printf("word %d: owner died %d waiters %d tid is child %d\n", i, (n[i].word & FUTEX_OWNER_DIED) != 0,
           (n[i].word & FUTEX_WAITERS) != 0, (n[i].word & FUTEX_TID_MASK) == (uint32_t)c);
  r = fx(&n[3].word, FUTEX_LOCK_PI, 0, 0, 0, 0);
  printf("lock_pi after owner died = %s owner died kept %d\n", err(r), (n[3].word & FUTEX_OWNER_DIED) != 0);
}

int main(int argc, char **argv) {
  setvbuf(stdout, 0, _IONBF, 0);
  S = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (S == MAP_FAILED)
    return 1;
  if (argc > 1 && strcmp(argv[1], "robust") == 0) {
    robust_exit_tests();
    return 0;
  }
  requeue_tests();
  wake_op_tests();
  pi_tests();
  robust_list_tests();
  bad_input_tests();
  return 0;
}
