/*
 * The sandbox's vDSO: the code every guest process finds at AT_SYSINFO_EHDR.
 *
 * clock_gettime, gettimeofday and time read the time from the data page the Sentry maps
 * right before this image ([vvar]) and keeps current: a sequence count, and what turns the
 * TSC into CLOCK_MONOTONIC nanoseconds (a base TSC, a base time, a 32.32 fixed-point
 * multiplier), with the offsets of CLOCK_REALTIME and CLOCK_BOOTTIME from it. getcpu reads
 * the CPU number the host kernel keeps in IA32_TSC_AUX (RDPID or RDTSCP).
 *
 * Whatever the page cannot answer (a clock it does not model, an invalid id, a TSC the Sentry
 * found unusable, a getcpu that must honour an affinity mask) is a real `syscall`, which the
 * platform traps and the Sentry serves: results and errors are the system call's own.
 *
 * Built with -nostdlib into a position-independent shared object with no relocations (the
 * guest's dynamic linker never relocates a vDSO); sentry/build.rs checks that. The layout of
 * `struct vvar` is mirrored by sentry/src/loader/vdso.rs.
 */

typedef unsigned int u32;
typedef unsigned long u64;
typedef long s64;

struct timespec {
	s64 tv_sec;
	s64 tv_nsec;
};

struct timeval {
	s64 tv_sec;
	s64 tv_usec;
};

struct timezone {
	int tz_minuteswest;
	int tz_dsttime;
};

/* The data page. Fields from `seq` to `boot_offset` change together under the sequence count;
 * `getcpu_mode` is a word of its own. */
struct vvar {
	/* Odd while the Sentry rewrites the page. */
	u32 seq;
	/* CLOCK_MODE_*. */
	u32 clock_mode;
	/* TSC value at which CLOCK_MONOTONIC was `mono_base` ns. */
	u64 tsc_base;
	/* Nanoseconds per TSC tick, times 2^32. */
	u64 mult;
	/* CLOCK_MONOTONIC at `tsc_base`, in ns. */
	u64 mono_base;
	/* CLOCK_REALTIME - CLOCK_MONOTONIC, in ns. */
	s64 real_offset;
	/* CLOCK_BOOTTIME - CLOCK_MONOTONIC, in ns. */
	s64 boot_offset;
	/* GETCPU_MODE_*. */
	u32 getcpu_mode;
};

/* The offsets sentry/src/loader/vdso.rs writes at. */
_Static_assert(__builtin_offsetof(struct vvar, seq) == 0, "seq");
_Static_assert(__builtin_offsetof(struct vvar, clock_mode) == 4, "clock_mode");
_Static_assert(__builtin_offsetof(struct vvar, tsc_base) == 8, "tsc_base");
_Static_assert(__builtin_offsetof(struct vvar, mult) == 16, "mult");
_Static_assert(__builtin_offsetof(struct vvar, mono_base) == 24, "mono_base");
_Static_assert(__builtin_offsetof(struct vvar, real_offset) == 32, "real_offset");
_Static_assert(__builtin_offsetof(struct vvar, boot_offset) == 40, "boot_offset");
_Static_assert(__builtin_offsetof(struct vvar, getcpu_mode) == 48, "getcpu_mode");

enum { CLOCK_MODE_SYSCALL = 0, CLOCK_MODE_TSC = 1 };
enum { GETCPU_MODE_SYSCALL = 0, GETCPU_MODE_RDPID = 1, GETCPU_MODE_RDTSCP = 2 };

enum {
	CLOCK_REALTIME = 0,
	CLOCK_MONOTONIC = 1,
	CLOCK_REALTIME_COARSE = 5,
	CLOCK_MONOTONIC_COARSE = 6,
	CLOCK_BOOTTIME = 7,
};

enum { NR_gettimeofday = 96, NR_time = 201, NR_clock_gettime = 228, NR_getcpu = 309 };

#define NSEC_PER_SEC 1000000000UL
/* How often a reader retries while the Sentry is writing before it asks the kernel instead. */
#define MAX_RETRIES 1000

/* Defined by the linker script: the page before this image. Hidden, so that it is reached
 * RIP-relative, without a GOT entry or relocation. */
extern const volatile struct vvar vvar_page __attribute__((visibility("hidden")));

#define barrier() __asm__ __volatile__("" ::: "memory")

static inline long syscall2(long nr, long a, long b)
{
	long ret;
	__asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static inline long syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

/* The TSC, read once every earlier instruction has completed (the loads of the sequence count
 * and the parameters come first). */
static inline u64 rdtsc_ordered(void)
{
	u32 lo, hi;
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((u64)hi << 32) | lo;
}

/* The sequence count, loaded only once `tsc` is known: the load's address depends on it (an AND
 * with zero the CPU cannot see through), so it cannot run ahead of the RDTSC. Cheaper than a
 * second LFENCE, which would also hold back the arithmetic in between. */
static inline u32 seq_after(const volatile struct vvar *vv, u64 tsc)
{
	u64 zero = tsc;
	__asm__("and $0, %0" : "+r"(zero));
	return *(const volatile u32 *)((const volatile char *)&vv->seq + zero);
}

/* CLOCK_MONOTONIC plus `offset_of(vv)`, in ns; returns 0 when the page says to ask the kernel. */
static inline int read_ns(u64 *out, int which)
{
	const volatile struct vvar *vv = &vvar_page;
	for (int tries = 0; tries < MAX_RETRIES; tries++) {
		u32 seq = vv->seq;
		barrier();
		if (seq & 1) {
			__asm__ __volatile__("pause");
			continue;
		}
		if (vv->clock_mode != CLOCK_MODE_TSC)
			return 0;
		u64 base = vv->tsc_base, mult = vv->mult, ns = vv->mono_base;
		s64 off = which == CLOCK_REALTIME ? vv->real_offset : which == CLOCK_BOOTTIME ? vv->boot_offset : 0;
		u64 tsc = rdtsc_ordered();
		/* TSCs of two CPUs may differ by a few ticks: never step back before the base. */
		u64 delta = tsc > base ? tsc - base : 0;
		ns += (u64)(((unsigned __int128)delta * mult) >> 32);
		barrier();
		if (seq_after(vv, tsc) == seq) {
			*out = ns + (u64)off;
			return 1;
		}
	}
	return 0;
}

/* Which offset a clock id uses; -1 for clocks the page does not model. */
static inline int clock_kind(int clock)
{
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		return CLOCK_REALTIME;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_COARSE:
		return CLOCK_MONOTONIC;
	case CLOCK_BOOTTIME:
		return CLOCK_BOOTTIME;
	default:
		return -1;
	}
}

int __vdso_clock_gettime(int clock, struct timespec *ts)
{
	int kind = clock_kind(clock);
	u64 ns;
	if (kind < 0 || !read_ns(&ns, kind))
		return (int)syscall2(NR_clock_gettime, clock, (long)ts);
	ts->tv_sec = (s64)(ns / NSEC_PER_SEC);
	ts->tv_nsec = (s64)(ns % NSEC_PER_SEC);
	return 0;
}

int __vdso_gettimeofday(struct timeval *tv, struct timezone *tz)
{
	u64 ns;
	if (!read_ns(&ns, CLOCK_REALTIME))
		return (int)syscall2(NR_gettimeofday, (long)tv, (long)tz);
	if (tv) {
		tv->tv_sec = (s64)(ns / NSEC_PER_SEC);
		tv->tv_usec = (s64)(ns % NSEC_PER_SEC / 1000);
	}
	if (tz) {
		/* As the system call: the kernel's time zone is UTC. */
		tz->tz_minuteswest = 0;
		tz->tz_dsttime = 0;
	}
	return 0;
}

s64 __vdso_time(s64 *t)
{
	u64 ns;
	if (!read_ns(&ns, CLOCK_REALTIME))
		return syscall2(NR_time, (long)t, 0);
	s64 secs = (s64)(ns / NSEC_PER_SEC);
	if (t)
		*t = secs;
	return secs;
}

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
	u64 aux;
	switch (vvar_page.getcpu_mode) {
	case GETCPU_MODE_RDPID:
		__asm__ __volatile__("rdpid %0" : "=r"(aux));
		break;
	case GETCPU_MODE_RDTSCP: {
		u32 lo, hi, c;
		__asm__ __volatile__("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c));
		aux = c;
		break;
	}
	default:
		return (int)syscall3(NR_getcpu, (long)cpu, (long)node, (long)unused);
	}
	/* Linux keeps (node << 12) | cpu there; the sandbox shows one node, as getcpu(2) does. */
	if (cpu)
		*cpu = (unsigned)(aux & 0xfff);
	if (node)
		*node = 0;
	return 0;
}

/* The unprefixed names Linux's vDSO exports too. */
int clock_gettime(int, struct timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval *, struct timezone *) __attribute__((weak, alias("__vdso_gettimeofday")));
s64 time(s64 *) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
