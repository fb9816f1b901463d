// SPDX-License-Identifier: MIT
/*
 * swgpu_fuzz - a seeded, bounded, multi-threaded fuzzer of swgpu's
 * user-space interface, in the manner of syzkaller: tables of DRM fds,
 * GEM handles, dma-bufs, mappings, user fences, sync_files and syncobjs,
 * shared by threads that pick random operations over every swgpu ioctl,
 * the DRM core ioctls a client uses, the dma-buf and sync_file ioctls,
 * mmap/munmap, fork and close, at random moments (a DRM fd or dma-buf
 * closed while an engine job uses it). Arguments are mostly valid and
 * sometimes garbage: sizes 0, 1, huge, 2^63; NULL and kernel pointers;
 * bad flags and padding.
 *
 * Beside them, integrity threads own buffers nobody else can reach and
 * write and verify patterns through GEM mmap, dma-buf mmap, engine FILL
 * and COPY; any byte that differs from what they wrote fails the run. At
 * the end every table is closed and swgpu's debugfs must list nothing of
 * this process; the harness then checks the unload, the kernel log and,
 * where there is one, kmemleak.
 *
 * Environment:
 *   SWGPU_FUZZ_SEEDS    seeds to run, one after the other ("1,0x2a"); by
 *                       default one seed from the clock
 *   SWGPU_FUZZ_TIME     seconds per seed (default 30)
 *   SWGPU_FUZZ_THREADS  fuzzing threads (default 4); integrity threads: 2
 *
 * Each thread draws its operations from its own generator, seeded from
 * the seed and its number, so a seed always means the same sequences of
 * choices; how the threads interleave is up to the scheduler. With
 * SWGPU_FUZZ_THREADS=1 the one fuzzing thread's run repeats exactly,
 * kernel answers aside.
 *
 * This file runs the seeds and counts; fuzz/tables.c holds the shared
 * tables, fuzz/ops.c the operations, fuzz/integrity.c the integrity
 * threads (igt-tests/Makefile links them into this binary).
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "igt.h"
#include "swgpu_common.h"
#include "fuzz/fuzz.h"

IGT_TEST_DESCRIPTION("Seeded multi-threaded random operations on swgpu, "
		     "with data integrity checked alongside");

#define MAX_THREADS	16

static const char *const op_names[NUM_OPS] = { OPS(OP_NAME) };

#define ERRNO_SLOTS	136	/* [0]: success; the last: anything larger */

struct stats {
	unsigned long n[NUM_OPS][ERRNO_SLOTS];
};

static void count(struct stats *st, enum op op, int err)
{
	if (err < 0)
		err = -err;
	if (err >= ERRNO_SLOTS)
		err = ERRNO_SLOTS - 1;
	st->n[op][err]++;
}

struct worker {
	pthread_t thread;
	struct rng rng;
	struct stats st;
	unsigned long ops;
	int idx;
};

static void *fuzz_thread(void *arg)
{
	struct worker *w = arg;
	enum op table[NUM_OPS * 8];
	unsigned int n = 0;

	for (int op = 0; op < NUM_OPS; op++)
		for (unsigned int k = 0; k < fz_op_weight(op); k++)
			table[n++] = op;
	while (!atomic_load(&fz_stop)) {
		enum op op = table[below(&w->rng, n)];

		count(&w->st, op, fz_do_op(&w->rng, op));
		/* Read by the main thread's progress lines meanwhile. */
		__atomic_fetch_add(&w->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* ---- one seed ---- */

static void print_stats(const struct stats *st, double secs, unsigned long ops)
{
	igt_info("%lu operations in %.1f s: %.0f ops/s\n", ops, secs, ops / secs);
	for (int op = 0; op < NUM_OPS; op++) {
		char line[1024];
		unsigned long total = 0;
		int len = 0;

		for (int e = 0; e < ERRNO_SLOTS; e++)
			total += st->n[op][e];
		if (!total)
			continue;
		for (int e = 0; e < ERRNO_SLOTS && len < (int)sizeof(line) - 40; e++) {
			if (!st->n[op][e])
				continue;
			len += snprintf(line + len, sizeof(line) - len, " %s %lu",
					e == 0 ? "ok" : e == ERRNO_SLOTS - 1 ? "other" :
					strerrorname_np(e) ? strerrorname_np(e) : "?",
					st->n[op][e]);
		}
		igt_info("  %-24s %8lu:%s\n", op_names[op], total, line);
	}
}

/* A /proc/meminfo field in MiB, or -1. */
static long meminfo_mib(const char *key)
{
	char line[128];
	size_t len = strlen(key);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (kb < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

/* How many fds this process has open. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own */
}

/* Where memory stands, every few seconds of a run (to tell what grows). */
static void print_memory(double t, unsigned long ops)
{
	igt_info("  at %4.0f s: %lu ops; MemAvailable %ld MiB, Shmem %ld MiB; "
		 "%d fds, %d swgpu handles\n", t, ops,
		 meminfo_mib("MemAvailable"), meminfo_mib("Shmem"), open_fds(),
		 swgpu_obj_count(getpid()));
	fflush(stdout);
}

/*
 * Once the fuzzing process has ended, every object it made is gone, so
 * shmem must come back to where it was before (give or take the slack of
 * the guest's own tmpfs): pages or shmem files kept by swgpu would stay.
 * Jobs cancelled at the close may still be ending, so this waits for it,
 * bounded; it is no timing assertion.
 */
#define SHMEM_SLACK_MIB	16
#define SHMEM_WAIT_S	60

static bool shmem_returns(long before)
{
	int64_t end = fz_now_ns() + SHMEM_WAIT_S * 1000000000ll;

	if (before < 0)
		return true;
	while (meminfo_mib("Shmem") > before + SHMEM_SLACK_MIB) {
		if (fz_now_ns() > end)
			return false;
		usleep(100000);
	}
	return true;
}

/* Runs in a child process per seed: 0 when everything held. */
static int fuzz_one(uint64_t seed, unsigned int secs, int nthreads)
{
	static struct worker w[MAX_THREADS];
	struct integrity_arg ia[INTEGRITY_THREADS] = {};
	static struct stats total;
	unsigned long ops = 0, rounds = 0;
	int64_t start = fz_now_ns();
	double elapsed;
	int left;

	memset(fz.drm, -1, sizeof(fz.drm));
	memset(fz.sf, -1, sizeof(fz.sf));
	for (int i = 0; i < N_OBJ; i++)
		fz.obj[i].fd = -1;
	for (int i = 0; i < N_DMABUF; i++)
		fz.dmabuf[i].fd = -1;
	for (int i = 0; i < N_FENCE; i++)
		fz.fence[i].fd = -1;
	for (int i = 0; i < N_SOBJ; i++)
		fz.sobj[i].fd = -1;

	for (int i = 0; i < INTEGRITY_THREADS; i++) {
		ia[i].rng.s = splitmix(seed ^ (0x1000ull + i)) | 1;
		ia[i].seed = seed;
		ia[i].tid = i;
		pthread_create(&ia[i].thread, NULL, fz_integrity_thread, &ia[i]);
	}
	for (int i = 0; i < nthreads; i++) {
		w[i].rng.s = splitmix(seed ^ (uint64_t)i) | 1;
		w[i].idx = i;
		pthread_create(&w[i].thread, NULL, fuzz_thread, &w[i]);
	}
	/* The run's length is the bound, not a synchronisation. */
	for (int tick = 1; !atomic_load(&fz_stop) &&
	     fz_now_ns() - start < (int64_t)secs * 1000000000ll; tick++) {
		usleep(100000);
		if (tick % 300 == 0) {
			unsigned long sofar = 0;

			for (int i = 0; i < nthreads; i++)
				sofar += __atomic_load_n(&w[i].ops, __ATOMIC_RELAXED);
			print_memory((fz_now_ns() - start) / 1e9, sofar);
		}
	}
	atomic_store(&fz_stop, true);
	for (int i = 0; i < nthreads; i++) {
		pthread_join(w[i].thread, NULL);
		ops += w[i].ops;
		for (int op = 0; op < NUM_OPS; op++)
			for (int e = 0; e < ERRNO_SLOTS; e++)
				total.n[op][e] += w[i].st.n[op][e];
	}
	for (int i = 0; i < INTEGRITY_THREADS; i++) {
		pthread_join(ia[i].thread, NULL);
		rounds += ia[i].rounds;
	}
	elapsed = (fz_now_ns() - start) / 1e9;
	fz_close_tables();

	print_stats(&total, elapsed, ops);
	igt_info("integrity: %lu write-and-verify rounds on %d threads\n",
		 rounds, INTEGRITY_THREADS);

	/* Every handle went with its file: debugfs must list none of ours. */
	left = swgpu_obj_count(getpid());
	if (left < 0)
		igt_info("no debugfs swgpu_objects (%d): leftover handles not checked\n",
			 left);
	else if (left > 0)
		fz_fail("debugfs swgpu_objects still lists %d handle(s) of this process after every fd was closed",
		     left);
	if (fz_fail_msg[0]) {
		igt_info("FAILED: %s\n", fz_fail_msg);
		return 1;
	}
	return 0;
}

static uint64_t parse_seed(const char **s)
{
	char *end;
	uint64_t v = strtoull(*s, &end, 0);

	igt_assert_f(end != *s, "bad seed in SWGPU_FUZZ_SEEDS at \"%s\"\n", *s);
	*s = end + strspn(end, ", ");
	return v;
}

igt_main
{
	static const char *seeds;
	const char *t = getenv("SWGPU_FUZZ_TIME");
	const char *th = getenv("SWGPU_FUZZ_THREADS");
	unsigned int secs = t ? strtoul(t, NULL, 0) : 30;
	int nthreads = th ? atoi(th) : 4;
	static char own_seed[32];

	seeds = getenv("SWGPU_FUZZ_SEEDS");
	if (seeds)
		seeds += strspn(seeds, ", ");
	igt_fixture {
		int p = swgpu_open_primary(), rn = swgpu_open_render();
		char link[64];

		for (int i = 0; i < 2; i++) {
			ssize_t n;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", i ? rn : p);
			n = readlink(link, fz_node_path[i], sizeof(fz_node_path[i]) - 1);
			igt_assert_lt(0, n);
			fz_node_path[i][n] = '\0';
		}
		close(p);
		close(rn);
		igt_require_f(nthreads >= 1 && nthreads <= MAX_THREADS,
			      "SWGPU_FUZZ_THREADS must be 1..%d\n", MAX_THREADS);
		if (!seeds || !*seeds) {
			snprintf(own_seed, sizeof(own_seed), "%#" PRIx64,
				 splitmix((uint64_t)fz_now_ns() ^ getpid()));
			seeds = own_seed;
		}
	}

	igt_describe("Random operations over swgpu's, DRM's, dma-buf's and "
		     "sync_file's interfaces from several threads, with "
		     "random closes and forks, while other threads verify "
		     "the data of their own buffers; nothing is left behind.");
	igt_subtest("random-ops") {
		unsigned int saved = swgpu_fence_timeout_ms();
		const char *s = seeds;
		struct utsname u;
		int failed = 0;
		long shmem0;

		igt_assert_eq(uname(&u), 0);

		/*
		 * User fences nobody signals expire after 200 ms rather than
		 * 10 s, so that waits on them do not stall the threads, and
		 * expiries happen during the run too.
		 */
		swgpu_set_fence_timeout_ms(200);

		while (*s) {
			uint64_t seed = parse_seed(&s);
			int status = 0;
			pid_t pid;

			igt_info("seed %#" PRIx64 ": %u s, %d fuzzing threads on %s "
				 "(reproduce: make fuzz SEEDS=%#" PRIx64 " TIME=%u "
				 "KERNEL=<this kernel's name>)\n",
				 seed, secs, nthreads, u.release, seed, secs);
			fflush(stdout);
			shmem0 = meminfo_mib("Shmem");
			pid = fork();
			if (pid == 0)
				_exit(fuzz_one(seed, secs, nthreads));
			if (pid < 0 || waitpid(pid, &status, 0) != pid)
				status = -1;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				igt_info("seed %#" PRIx64 " FAILED (status %#x)\n",
					 seed, status);
				failed++;
			}
			if (!shmem_returns(shmem0)) {
				igt_info("seed %#" PRIx64 " FAILED: Shmem stayed at "
					 "%ld MiB after the fuzzing process ended, "
					 "%ld MiB before it\n", seed,
					 meminfo_mib("Shmem"), shmem0);
				failed++;
			}
		}
		swgpu_set_fence_timeout_ms(saved);
		igt_assert_f(!failed, "%d seed(s) failed; each one's line says why\n",
			     failed);
	}
}

