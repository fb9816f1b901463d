// SPDX-License-Identifier: MIT
/*
 * swgpu_pressure - memory pressure: engine jobs and populate paths larger
 * than memory, pinned pages through reclaim, cancellation of large jobs,
 * memory cgroup limits.
 *
 * It needs a guest of its own: tools/check.sh boots a small one (256 MiB;
 * on the i386 highmem tier 384 MiB, most of it highmem) twice for it, once
 * with a swap disk and once without (docs/testing.rst).
 * Subtests that need swap skip without it and the other way round, saying
 * so. Figures (time to cancel, memory) are printed, never asserted beyond
 * a generous sanity bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("swgpu under memory pressure: jobs and populates larger "
		     "than memory, cancellation, memory cgroup limits");

#define PAGE 4096ull
#define MiB (1ull << 20)

/* A cancelled job must signal well within this; it is no performance bound. */
#define CANCEL_SANITY_MS 60000.0

static int render = -1;

/* ---- /proc ---- */

/* The value of @key in a /proc-style file; false if it has none. */
static bool __proc_value(const char *path, const char *key, bool colon,
			 uint64_t *value)
{
	char line[256];
	size_t len = strlen(key);
	bool found = false;
	FILE *f = fopen(path, "r");

	igt_assert_f(f, "cannot open %s\n", path);
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, len))
			continue;
		if (colon ? line[len] != ':' : line[len] != ' ')
			continue;
		*value = strtoull(line + len + 1, NULL, 10);
		found = true;
	}
	fclose(f);
	return found;
}

static uint64_t proc_value(const char *path, const char *key, bool colon)
{
	uint64_t value = 0;

	igt_assert_f(__proc_value(path, key, colon, &value), "no %s in %s\n",
		     key, path);
	return value;
}

/* A /proc/meminfo field, in bytes. */
static uint64_t meminfo(const char *key)
{
	return proc_value("/proc/meminfo", key, true) * 1024;
}

static uint64_t vmstat(const char *key)
{
	return proc_value("/proc/vmstat", key, false);
}

/*
 * OOM kills so far: /proc/vmstat's counter, or, on kernels built without
 * VM event counters (the debug tier), the kernel log's reports of them.
 */
static uint64_t oom_kills(void)
{
	char rec[1024];
	uint64_t n = 0;
	ssize_t len;
	int fd;

	if (__proc_value("/proc/vmstat", "oom_kill", false, &n))
		return n;
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	igt_assert_f(fd >= 0, "no oom_kill in /proc/vmstat and no /dev/kmsg\n");
	/* One record a read; EPIPE: records were lost, read on. */
	while ((len = read(fd, rec, sizeof(rec) - 1)) > 0 || errno == EPIPE) {
		if (len <= 0)
			continue;
		rec[len] = 0;
		if (strstr(rec, "invoked oom-killer"))
			n++;
	}
	close(fd);
	return n;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * A 32-bit HIGHMEM kernel with highmem in this guest (HighTotal > 0; the
 * pressure guest of the highmem tier has most of its memory there).
 * Elsewhere there is no highmem and nothing of it to check.
 */
static bool has_highmem(void)
{
	uint64_t high = 0;

	return __proc_value("/proc/meminfo", "HighTotal", true, &high) && high;
}

/* 1.5x the guest's memory, in whole MiB. */
static uint64_t beyond_ram(void)
{
	return meminfo("MemTotal") * 3 / 2 / MiB * MiB;
}

/*
 * tools/vm/guest-pressure.sh says which boot this is (SWGPU_PRESSURE_BOOT:
 * swap or noswap) and, when the swap boot could not set up its swap,
 * why (SWGPU_PRESSURE_NO_SWAP: a kernel without swap or virtio disks).
 * Without it, the guest's own swap decides.
 */
static void require_swap(void)
{
	const char *why = getenv("SWGPU_PRESSURE_NO_SWAP");
	uint64_t ram = meminfo("MemTotal"), swap = meminfo("SwapTotal");

	igt_require_f(!why || !*why, "no swap in this guest: %s\n", why);
	igt_require_f(swap >= ram,
		      "needs swap of at least the memory size (SwapTotal %llu MiB, "
		      "MemTotal %llu MiB): the pressure boot with a swap disk runs it\n",
		      (unsigned long long)(swap / MiB),
		      (unsigned long long)(ram / MiB));
}

static void require_no_swap(void)
{
	const char *boot = getenv("SWGPU_PRESSURE_BOOT");

	igt_require_f(!boot || strcmp(boot, "swap"),
		      "this is the pressure boot meant to have swap: the boot "
		      "without swap runs it\n");
	igt_require_f(meminfo("SwapTotal") == 0,
		      "swap is on: the pressure boot without swap runs it\n");
}

/* ---- engine ---- */

static struct drm_swgpu_cmd fill(uint32_t dst, uint64_t off, uint64_t len,
				 uint32_t pattern)
{
	return (struct drm_swgpu_cmd){ .op = SWGPU_CMD_FILL, .pattern = pattern,
				       .dst_handle = dst, .dst_offset = off,
				       .length = len };
}

static struct drm_swgpu_cmd copy(uint32_t dst, uint32_t src, uint64_t len)
{
	return (struct drm_swgpu_cmd){ .op = SWGPU_CMD_COPY, .dst_handle = dst,
				       .src_handle = src, .length = len };
}

static int submit(int fd, struct drm_swgpu_cmd *cmd)
{
	struct drm_swgpu_submit arg = {
		.cmds = (uintptr_t)cmd, .num_cmds = 1,
		.flags = SWGPU_SUBMIT_OUT_FENCE, .out_fence_fd = -1,
	};

	do_ioctl(fd, DRM_IOCTL_SWGPU_SUBMIT, &arg);
	igt_assert_lte(0, arg.out_fence_fd);
	return arg.out_fence_fd;
}

static void check_fill_page(const uint8_t *map, uint64_t page, uint32_t pattern)
{
	for (uint64_t o = page * PAGE; o < (page + 1) * PAGE; o++)
		igt_assert_f(map[o] == swgpu_fill_byte(pattern, o),
			     "byte %#llx is %#x, want %#x\n",
			     (unsigned long long)o, map[o],
			     swgpu_fill_byte(pattern, o));
}

/* What memory a cancelled job used, from /proc/meminfo. */
struct cancel_mem {
	uint64_t avail0, min_avail;	/* MemAvailable before, lowest */
	uint64_t shmem0;		/* Shmem before the job */
};

/*
 * Wait until the job under test is running: the engine has written more
 * than @bytes0 bytes in all (debugfs counts per window), or shmem grew by
 * a window (a job that populates before writing, as swgpu before 2 MiB
 * windows did, for measurements). This polls, sampling MemAvailable into
 * @m; each round yields to the worker.
 */
static void wait_for_progress(long bytes0, struct cancel_mem *m, int fence)
{
	for (;;) {
		struct pollfd p = { .fd = fence, .events = POLLIN };
		uint64_t avail = meminfo("MemAvailable");

		if (avail < m->min_avail)
			m->min_avail = avail;
		if (swgpu_debugfs_engine("bytes") > bytes0 ||
		    meminfo("Shmem") >= m->shmem0 + 2 * MiB)
			break;
		/* A job that ended before writing is a failure of its own. */
		igt_assert_f(poll(&p, 1, 0) == 0,
			     "the job ended before it wrote anything (status %d)\n",
			     swgpu_sync_file_status(fence));
		sched_yield();
	}
}

/*
 * Wait for @fence while sampling MemAvailable: returns the time it took
 * from @t0 (ms) and the lowest MemAvailable seen. The poll timeout only
 * paces the sampling; the wait ends when the fence signals.
 */
static int fence_wait_sampled(int fence, double t0, double *ms,
			      uint64_t *min_avail)
{
	struct pollfd p = { .fd = fence, .events = POLLIN };
	int status;

	for (;;) {
		uint64_t avail = meminfo("MemAvailable");

		if (avail < *min_avail)
			*min_avail = avail;
		if (poll(&p, 1, 1) == 1)
			break;
	}
	*ms = now_ms() - t0;
	status = swgpu_sync_file_status(fence);
	close(fence);
	return status;
}

/* ---- subtests ---- */

static void fill_beyond_ram_swap(void)
{
	const uint32_t pattern = 0x5a17c0de;
	uint64_t size = beyond_ram(), npages = size / PAGE;
	uint64_t oom0, out0, swapped, samples = 1024;
	struct swgpu_obj_info info;
	struct drm_swgpu_cmd c;
	double t0, ms;
	uint8_t *map;
	uint32_t h;

	require_swap();
	swgpu_require_debugfs();
	igt_require_f(__proc_value("/proc/vmstat", "pswpout", false, &out0),
		      "no pswpout in /proc/vmstat (a kernel without VM event "
		      "counters): cannot tell that pages were swapped\n");
	oom0 = oom_kills();

	h = swgpu_gem_create(render, size);
	c = fill(h, 0, size, pattern);
	t0 = now_ms();
	igt_assert_eq(swgpu_fence_wait(submit(render, &c)), 1);
	ms = now_ms() - t0;

	info = swgpu_obj_get(getpid(), h);
	swapped = npages - info.resident;
	igt_info("FILL of %llu MiB with %llu MiB of memory: %.0f ms, %llu MiB "
		 "resident afterwards (%llu highmem pages), pswpout +%llu pages\n",
		 (unsigned long long)(size / MiB),
		 (unsigned long long)(meminfo("MemTotal") / MiB), ms,
		 (unsigned long long)(info.resident * PAGE / MiB),
		 (unsigned long long)info.highmem,
		 (unsigned long long)(vmstat("pswpout") - out0));
	igt_assert_eq_u64(info.pinned, 0);
	/* More than memory was written: the rest went out to swap. */
	igt_assert_lt_u64(0, swapped);
	igt_assert_lte_u64(swapped, vmstat("pswpout") - out0);
	/*
	 * Where most memory is highmem, the engine must have put (and
	 * kmapped) pages there: a driver that allocates from lowmem only
	 * would fill lowmem and swap that instead.
	 */
	if (has_highmem())
		igt_assert_lt_u64(0, info.highmem);

	/* Every byte of a sample of pages, spread over the object. */
	map = swgpu_gem_mmap(render, h, size, PROT_READ);
	for (uint64_t i = 0; i < samples; i++)
		check_fill_page(map, i * npages / samples, pattern);
	check_fill_page(map, npages - 1, pattern);
	munmap(map, size);

	igt_assert_eq_u64(oom_kills(), oom0);
	swgpu_gem_close(render, h);
}

/*
 * With swap, an object of huge pages (SWGPU_GEM_CREATE_HUGE), each of its
 * pages stamped through its GEM mapping, then paged out with
 * MADV_PAGEOUT (reclaim of just this mapping, so 16 MiB are enough and
 * it takes seconds): reclaim splits its huge folios and writes them to
 * swap (pswpout), and every stamp reads back. Right after MADV_PAGEOUT
 * the pages may still be in the swap cache, so pswpin need not rise:
 * huge pages read back from the swap device itself are
 * fill-beyond-ram-swap's kind of test (20 s for this one at 1.5x the
 * memory: left out).
 */
static void huge_swap(void)
{
	const uint64_t seed = 0x4875676550616765ull;
	uint64_t size = 16 * MiB, npages, out0, oom0, out1;
	volatile uint64_t *word;
	uint8_t *map;
	uint32_t h;

	require_swap();
	igt_require_f(__proc_value("/proc/vmstat", "pswpout", false, &out0),
		      "no pswpout in /proc/vmstat (a kernel without VM event "
		      "counters): cannot tell that pages were swapped\n");
	oom0 = oom_kills();

	igt_assert_eq(__swgpu_gem_create(render, &size, SWGPU_GEM_CREATE_HUGE,
					 &h), 0);
	npages = size / PAGE;
	map = swgpu_gem_mmap(render, h, size, PROT_READ | PROT_WRITE);
	for (uint64_t i = 0; i < npages; i++) {
		word = (volatile uint64_t *)(map + i * PAGE);
		*word = seed ^ i;
	}
	igt_assert_eq(madvise(map, size, MADV_PAGEOUT), 0);
	out1 = vmstat("pswpout");
	igt_info("%llu MiB of huge pages stamped and paged out: pswpout "
		 "+%llu pages\n", (unsigned long long)(size / MiB),
		 (unsigned long long)(out1 - out0));
	igt_assert_lt_u64(out0, out1);
	for (uint64_t i = 0; i < npages; i++) {
		word = (volatile uint64_t *)(map + i * PAGE);
		igt_assert_f(*word == (seed ^ i),
			     "page %llu: %#llx, want %#llx\n",
			     (unsigned long long)i,
			     (unsigned long long)*word,
			     (unsigned long long)(seed ^ i));
	}
	igt_assert_eq(munmap(map, size), 0);
	swgpu_gem_close(render, h);
	igt_assert_eq_u64(oom_kills(), oom0);
}

/*
 * Twice the memory, written through every way in: each 8 MiB buffer by
 * one of a plain GEM mmap, a dma-buf mmap inside DMA_BUF_IOCTL_SYNC, a
 * GEM mmap inside a CPU_ACCESS window, and an engine FILL. Then every
 * byte of every buffer is read back through one of the ways out, each
 * way in meeting each way out: a GEM mmap, a dma-buf mmap inside
 * DMA_BUF_IOCTL_SYNC, a GEM mmap inside a CPU_ACCESS READ window, and an
 * engine COPY into a scratch buffer (the kernel reads the pages there,
 * through kmap on a HIGHMEM kernel). pswpout and pswpin show the pages
 * really left memory and came back; on a HIGHMEM kernel debugfs's
 * "highmem" counts show that they were highmem pages both ways.
 */
#define ALL_PATHS_BUF	(8 * MiB)

enum write_path { PATH_GEM_MMAP, PATH_DMABUF_MMAP, PATH_CPU_ACCESS,
		  PATH_ENGINE, NUM_PATHS };

static const char *const path_names[NUM_PATHS] = {
	"GEM mmap", "dma-buf mmap + SYNC", "GEM mmap + CPU_ACCESS", "engine FILL",
};

enum read_path { READ_GEM_MMAP, READ_DMABUF_MMAP, READ_CPU_ACCESS,
		 READ_ENGINE, NUM_READS };

static const char *const read_names[NUM_READS] = {
	"GEM mmap", "dma-buf mmap + SYNC", "GEM mmap + CPU_ACCESS", "engine COPY",
};

static uint32_t all_paths_seed(unsigned int i)
{
	return 0x9e3779b9u * (i + 1);
}

/*
 * Buffer @i is written one way in and read back one way out; among any
 * NUM_PATHS * NUM_READS consecutive buffers each pair occurs once.
 */
static enum write_path write_path_of(unsigned int i)
{
	return i % NUM_PATHS;
}

static enum read_path read_path_of(unsigned int i)
{
	return (i / NUM_PATHS) % NUM_READS;
}

static void cpu_access(uint32_t h, uint64_t len, uint32_t flags)
{
	struct drm_swgpu_cpu_access arg = {
		.handle = h, .flags = flags, .length = len,
	};

	do_ioctl(render, DRM_IOCTL_SWGPU_CPU_ACCESS, &arg);
}

static void write_buffer(uint32_t h, unsigned int i)
{
	enum write_path path = write_path_of(i);
	uint32_t seed = all_paths_seed(i);
	struct drm_swgpu_cmd c;
	uint8_t *map;
	int dmabuf;

	switch (path) {
	case PATH_GEM_MMAP:
		map = swgpu_gem_mmap(render, h, ALL_PATHS_BUF, PROT_WRITE);
		swgpu_fill(map, ALL_PATHS_BUF, seed);
		munmap(map, ALL_PATHS_BUF);
		break;
	case PATH_DMABUF_MMAP:
		dmabuf = swgpu_prime_export(render, h);
		map = swgpu_dmabuf_mmap(dmabuf, ALL_PATHS_BUF, PROT_WRITE);
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		swgpu_fill(map, ALL_PATHS_BUF, seed);
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		munmap(map, ALL_PATHS_BUF);
		close(dmabuf);
		break;
	case PATH_CPU_ACCESS:
		map = swgpu_gem_mmap(render, h, ALL_PATHS_BUF, PROT_WRITE);
		cpu_access(h, ALL_PATHS_BUF, SWGPU_CPU_ACCESS_WRITE);
		swgpu_fill(map, ALL_PATHS_BUF, seed);
		cpu_access(h, ALL_PATHS_BUF, SWGPU_CPU_ACCESS_WRITE |
					     SWGPU_CPU_ACCESS_END);
		munmap(map, ALL_PATHS_BUF);
		break;
	default:
		c = fill(h, 0, ALL_PATHS_BUF, seed);
		igt_assert_eq(swgpu_fence_wait(submit(render, &c)), 1);
		break;
	}
}

/* Every byte of buffer @i, read its way out; @scratch takes the engine's copy. */
static void verify_buffer(uint32_t h, unsigned int i, uint32_t scratch)
{
	enum write_path path = write_path_of(i);
	enum read_path how = read_path_of(i);
	uint32_t seed = all_paths_seed(i);
	struct drm_swgpu_cmd c;
	int dmabuf = -1;
	uint8_t *map;

	switch (how) {
	case READ_DMABUF_MMAP:
		dmabuf = swgpu_prime_export(render, h);
		map = swgpu_dmabuf_mmap(dmabuf, ALL_PATHS_BUF, PROT_READ);
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		break;
	case READ_CPU_ACCESS:
		map = swgpu_gem_mmap(render, h, ALL_PATHS_BUF, PROT_READ);
		cpu_access(h, ALL_PATHS_BUF, SWGPU_CPU_ACCESS_READ);
		break;
	case READ_ENGINE:
		/* The scratch holds the previous buffer's bytes: a COPY
		 * that wrote nothing cannot pass. */
		c = copy(scratch, h, ALL_PATHS_BUF);
		igt_assert_eq(swgpu_fence_wait(submit(render, &c)), 1);
		map = swgpu_gem_mmap(render, scratch, ALL_PATHS_BUF, PROT_READ);
		break;
	default:
		map = swgpu_gem_mmap(render, h, ALL_PATHS_BUF, PROT_READ);
		break;
	}
	if (path == PATH_ENGINE) {
		for (uint64_t o = 0; o < ALL_PATHS_BUF; o++)
			igt_assert_f(map[o] == swgpu_fill_byte(seed, o),
				     "buffer %u (%s), read through %s: byte %#llx is %#x, want %#x\n",
				     i, path_names[path], read_names[how],
				     (unsigned long long)o, map[o],
				     swgpu_fill_byte(seed, o));
	} else {
		ssize_t bad = swgpu_check(map, ALL_PATHS_BUF, seed);

		igt_assert_f(bad < 0, "buffer %u (%s), read through %s: byte %#zx differs\n",
			     i, path_names[path], read_names[how], bad);
	}
	switch (how) {
	case READ_DMABUF_MMAP:
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		close(dmabuf);
		break;
	case READ_CPU_ACCESS:
		cpu_access(h, ALL_PATHS_BUF, SWGPU_CPU_ACCESS_READ |
					     SWGPU_CPU_ACCESS_END);
		break;
	default:
		break;
	}
	munmap(map, ALL_PATHS_BUF);
}

static void all_paths_beyond_ram_swap(void)
{
	uint64_t ram = meminfo("MemTotal"), total = 2 * ram;
	unsigned int n = (total + ALL_PATHS_BUF - 1) / ALL_PATHS_BUF;
	uint64_t out0, in0, out1, in1, oom0;
	/* Highmem pages of the buffers just after each was written and
	 * just after it was read back, by way in and way out. */
	uint64_t high_in[NUM_PATHS] = { 0 }, high_out[NUM_READS] = { 0 };
	uint32_t *h = calloc(n, sizeof(*h)), scratch;
	double t0, t_write, t_verify;
	bool highmem = has_highmem();

	require_swap();
	igt_require_f(meminfo("SwapTotal") >= total,
		      "needs swap of at least twice the memory (SwapTotal %llu MiB)\n",
		      (unsigned long long)(meminfo("SwapTotal") / MiB));
	igt_require_f(__proc_value("/proc/vmstat", "pswpout", false, &out0) &&
		      __proc_value("/proc/vmstat", "pswpin", false, &in0),
		      "no pswpout/pswpin in /proc/vmstat (a kernel without VM "
		      "event counters): cannot show that pages were swapped\n");
	igt_assert(h);
	oom0 = oom_kills();
	scratch = swgpu_gem_create(render, ALL_PATHS_BUF);

	t0 = now_ms();
	for (unsigned int i = 0; i < n; i++) {
		h[i] = swgpu_gem_create(render, ALL_PATHS_BUF);
		write_buffer(h[i], i);
		high_in[write_path_of(i)] += swgpu_obj_get(getpid(), h[i]).highmem;
	}
	t_write = now_ms() - t0;
	out1 = vmstat("pswpout");
	in1 = vmstat("pswpin");

	t0 = now_ms();
	for (unsigned int i = 0; i < n; i++) {
		verify_buffer(h[i], i, scratch);
		high_out[read_path_of(i)] += swgpu_obj_get(getpid(), h[i]).highmem;
	}
	t_verify = now_ms() - t0;

	igt_info("%u buffers of %llu MiB (%llu MiB, %.1fx the memory), a quarter "
		 "through each way in: written in %.0f ms (pswpout +%llu, "
		 "pswpin +%llu pages), every byte verified in %.0f ms "
		 "(pswpout +%llu, pswpin +%llu pages)\n",
		 n, (unsigned long long)(ALL_PATHS_BUF / MiB),
		 (unsigned long long)(n * ALL_PATHS_BUF / MiB),
		 (double)n * ALL_PATHS_BUF / ram, t_write,
		 (unsigned long long)(out1 - out0),
		 (unsigned long long)(in1 - in0), t_verify,
		 (unsigned long long)(vmstat("pswpout") - out1),
		 (unsigned long long)(vmstat("pswpin") - in1));
	if (!highmem)
		igt_info("no highmem in this guest (HighTotal 0): no highmem pages to count\n");
	for (int p = 0; highmem && p < NUM_PATHS; p++)
		igt_info("highmem pages just after writing through %s: %llu\n",
			 path_names[p], (unsigned long long)high_in[p]);
	for (int r = 0; highmem && r < NUM_READS; r++)
		igt_info("highmem pages just after reading back through %s: %llu\n",
			 read_names[r], (unsigned long long)high_out[r]);

	/*
	 * More than memory holds was written: at least the excess went
	 * out to swap, and came back in to be read.
	 */
	igt_assert_lte_u64((n * ALL_PATHS_BUF - ram) / PAGE, vmstat("pswpout") - out0);
	igt_assert_lte_u64((n * ALL_PATHS_BUF - ram) / PAGE, vmstat("pswpin") - in0);
	/*
	 * Where most memory is highmem, every way in and out must have
	 * used highmem pages: a path that allocates from lowmem only (or
	 * swaps in there) would show 0. Without highmem all counts are 0.
	 */
	for (int p = 0; p < NUM_PATHS; p++)
		igt_assert_f(!highmem || high_in[p],
			     "no highmem page among the buffers written through %s\n",
			     path_names[p]);
	for (int r = 0; r < NUM_READS; r++)
		igt_assert_f(!highmem || high_out[r],
			     "no highmem page among the buffers read back through %s\n",
			     read_names[r]);
	for (unsigned int i = 0; i < n; i++) {
		igt_assert_eq_u64(swgpu_obj_get(getpid(), h[i]).pinned, 0);
		swgpu_gem_close(render, h[i]);
	}
	igt_assert_eq_u64(swgpu_obj_get(getpid(), scratch).pinned, 0);
	swgpu_gem_close(render, scratch);
	igt_assert_eq_u64(oom_kills(), oom0);
	free(h);
}

/*
 * Pinned pages and reclaim. A device mapping of an attachment and a
 * kernel vmap pin every page of the object, a range of the kernel CPU
 * access API each page of the range: while a pin lives the pages must
 * stay in memory; once it is gone they must be as reclaimable as any
 * other shmem page, keeping what was written meanwhile. A user
 * CPU_ACCESS window, by contrast, pins nothing (uapi.rst): its pages may
 * be swapped while it is open, and what is written through the mapping
 * in it survives that. The kernel's pins are taken through the KTAP test
 * module's debugfs file (swgpu_cpu_access_test.c: hold, vmap, release),
 * which guest-tests.sh loads for the pressure boots.
 */
#define PIN_BUF	(16 * MiB)

enum hold_kind { HOLD_WINDOW, HOLD_ATTACHMENT, HOLD_KERNEL_RANGE, HOLD_VMAP };

#define TEST_CTL "/sys/kernel/debug/swgpu_cpu_access_test/ctl"

struct hold {
	enum hold_kind kind;
	uint32_t h;		/* the held object, in render */
	int vgem;		/* HOLD_ATTACHMENT: vgem's import maps it */
	int dmabuf;		/* all but HOLD_WINDOW */
	uint32_t vh;
};

/* A FILL of 1.5x the memory, waited for and closed: reclaim must run. */
static void push_out(void)
{
	uint64_t size = beyond_ram();
	struct drm_swgpu_cmd c;
	uint32_t h;

	h = swgpu_gem_create(render, size);
	c = fill(h, 0, size, 0x3c3c3c3c);
	igt_assert_eq(swgpu_fence_wait(submit(render, &c)), 1);
	swgpu_gem_close(render, h);
}

/* Writes @text to the file @path in one write; false on any error. */
static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok;
}

/* One command to the KTAP test module. */
static void __attribute__((format(printf, 1, 2)))
test_ctl(const char *fmt, ...)
{
	char cmd[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	igt_assert_f(write_file(TEST_CTL, cmd), "%s: %s: %s\n", TEST_CTL, cmd,
		     strerror(errno));
}

static void hold(struct hold *p)
{
	if (p->kind == HOLD_WINDOW) {
		cpu_access(p->h, PIN_BUF, SWGPU_CPU_ACCESS_WRITE);
		return;
	}
	p->dmabuf = swgpu_prime_export(render, p->h);
	if (p->kind == HOLD_ATTACHMENT)
		p->vh = swgpu_prime_import(p->vgem, p->dmabuf);
	else if (p->kind == HOLD_KERNEL_RANGE)
		test_ctl("hold %d 0 %llu rw", p->dmabuf,
			 (unsigned long long)PIN_BUF);
	else
		test_ctl("vmap %d", p->dmabuf);
}

static void let_go(struct hold *p)
{
	if (p->kind == HOLD_WINDOW) {
		cpu_access(p->h, PIN_BUF, SWGPU_CPU_ACCESS_WRITE |
					  SWGPU_CPU_ACCESS_END);
		return;
	}
	if (p->kind == HOLD_ATTACHMENT)
		swgpu_gem_close(p->vgem, p->vh);
	else
		test_ctl("release");
	close(p->dmabuf);
}

static void held_through_reclaim_swap(enum hold_kind kind)
{
	static const char *const names[] = {
		[HOLD_WINDOW] = "a CPU_ACCESS window",
		[HOLD_ATTACHMENT] = "vgem's mapped attachment",
		[HOLD_KERNEL_RANGE] = "a range of the kernel CPU access API",
		[HOLD_VMAP] = "a kernel vmap",
	};
	const uint64_t npages = PIN_BUF / PAGE;
	const uint32_t seed = 0x91a7e5u + kind;
	const bool pins = kind != HOLD_WINDOW;
	struct swgpu_obj_info held, freed;
	struct hold p = { .kind = kind, .vgem = -1 };
	uint64_t out0, out1, in1;
	uint8_t *map;

	require_swap();
	swgpu_require_debugfs();
	igt_require_f(__proc_value("/proc/vmstat", "pswpout", false, &out0),
		      "no pswpout in /proc/vmstat (a kernel without VM event "
		      "counters): cannot tell that reclaim swapped\n");
	if (kind == HOLD_KERNEL_RANGE || kind == HOLD_VMAP)
		igt_require_f(access(TEST_CTL, W_OK) == 0,
			      "no %s: the KTAP test module is not loaded "
			      "(guest-tests.sh loads it for the pressure boots)\n",
			      TEST_CTL);
	if (kind == HOLD_ATTACHMENT) {
		p.vgem = swgpu_open_vgem();
		p.h = swgpu_gem_create(render, PAGE);
		hold(&p);
		held = swgpu_obj_get(getpid(), p.h);
		let_go(&p);
		swgpu_gem_close(render, p.h);
		igt_require_f(held.pinned == 1,
			      "vgem's import does not map the attachment on this "
			      "kernel, and no other importer here pins for user "
			      "space\n");
	}

	/* Written before the hold, and again through the mapping during it. */
	p.h = swgpu_gem_create(render, PIN_BUF);
	map = swgpu_gem_mmap(render, p.h, PIN_BUF, PROT_READ | PROT_WRITE);
	swgpu_fill(map, PIN_BUF, ~seed);
	hold(&p);
	swgpu_fill(map, PIN_BUF, seed);
	munmap(map, PIN_BUF);

	push_out();
	held = swgpu_obj_get(getpid(), p.h);
	out1 = vmstat("pswpout");
	/* Reclaim did run, and swapped. */
	igt_assert_lt_u64(out0, out1);
	if (pins) {
		/* It left the pinned pages alone. */
		igt_assert_eq_u64(held.pinned, npages);
		igt_assert_eq_u64(held.resident, npages);
		let_go(&p);
		push_out();
	}
	freed = swgpu_obj_get(getpid(), p.h);
	in1 = vmstat("pswpin");
	igt_info("%s over %llu MiB: %llu of %llu pages resident, %llu pinned "
		 "after a FILL of 1.5x the memory (pswpout +%llu); %llu resident "
		 "after the %s\n", names[kind],
		 (unsigned long long)(PIN_BUF / MiB),
		 (unsigned long long)held.resident, (unsigned long long)npages,
		 (unsigned long long)held.pinned,
		 (unsigned long long)(out1 - out0),
		 (unsigned long long)freed.resident,
		 pins ? "pin was dropped and another such FILL" : "same FILL");
	igt_assert_eq_u64(freed.pinned, 0);
	igt_assert_f(freed.resident < npages,
		     "no page of the object was reclaimed: %llu of %llu "
		     "resident\n", (unsigned long long)freed.resident,
		     (unsigned long long)npages);

	/* What was written during the hold came back from swap. */
	map = swgpu_gem_mmap(render, p.h, PIN_BUF, PROT_READ);
	swgpu_assert_pattern(map, PIN_BUF, seed);
	munmap(map, PIN_BUF);
	igt_info("read back: pswpin +%llu pages\n",
		 (unsigned long long)(vmstat("pswpin") - in1));
	if (!pins)
		let_go(&p);
	swgpu_gem_close(render, p.h);
	if (p.vgem >= 0)
		close(p.vgem);
}

/*
 * A bystander: a process that keeps faulting in fresh anonymous memory
 * while another client's FILL runs out of memory. Without the reserve a
 * populate leaves (swgpu_memory_short()), its fault met an empty
 * machine and the OOM killer killed it.
 */
static void bystander_fill_noswap(void)
{
	uint64_t size = beyond_ram(), oom0;
	struct drm_swgpu_cmd c;
	int status, wstatus, stop[2];
	pid_t child;
	uint32_t h;

	require_no_swap();
	oom0 = oom_kills();
	igt_assert_eq(pipe(stop), 0);
	child = fork();
	igt_assert_lte(0, child);
	if (child == 0) {
		struct pollfd p = { .fd = stop[0], .events = POLLIN };

		close(stop[1]);
		while (poll(&p, 1, 0) == 0) {
			uint8_t *m = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (m == MAP_FAILED)
				_exit(2);
			for (uint64_t o = 0; o < 4 * MiB; o += PAGE)
				m[o] = 1;
			munmap(m, 4 * MiB);
		}
		_exit(0);
	}
	close(stop[0]);
	h = swgpu_gem_create(render, size);
	c = fill(h, 0, size, 0x0badf00d);
	status = swgpu_fence_wait(submit(render, &c));
	/* The bystander stops at the hang-up (no SIGPIPE if it is dead). */
	close(stop[1]);
	igt_assert_eq(waitpid(child, &wstatus, 0), child);
	igt_info("FILL of %llu MiB beside a faulting process: status %d, "
		 "bystander exit %#x, OOM kills +%llu\n",
		 (unsigned long long)(size / MiB), status, wstatus,
		 (unsigned long long)(oom_kills() - oom0));
	swgpu_gem_close(render, h);
	igt_assert_eq(status, -ENOMEM);
	igt_assert_f(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0,
		     "the bystander ended with %#x\n", wstatus);
	igt_assert_eq_u64(oom_kills(), oom0);
}

static void fill_beyond_ram_noswap(void)
{
	const uint32_t pattern = 0x0dd0feed, old = 0x11111111;
	uint64_t size = beyond_ram(), oom0, avail0, avail1;
	struct swgpu_obj_info info;
	struct drm_swgpu_cmd c;
	uint8_t *map;
	uint32_t h, small;
	int status;

	require_no_swap();
	swgpu_require_debugfs();
	oom0 = oom_kills();
	avail0 = meminfo("MemAvailable");

	/* Page 0 exists before the job: the job does not own it. */
	h = swgpu_gem_create(render, size);
	map = swgpu_gem_mmap(render, h, size, PROT_READ | PROT_WRITE);
	memset(map, 0x11, PAGE);
	c = fill(h, 0, size, pattern);
	status = swgpu_fence_wait(submit(render, &c));
	avail1 = meminfo("MemAvailable");
	info = swgpu_obj_get(getpid(), h);
	igt_info("FILL of %llu MiB with %llu MiB of memory and no swap: status "
		 "%d, %llu pages resident afterwards, MemAvailable %llu MiB "
		 "before, %llu MiB after\n",
		 (unsigned long long)(size / MiB),
		 (unsigned long long)(meminfo("MemTotal") / MiB), status,
		 (unsigned long long)info.resident,
		 (unsigned long long)(avail0 / MiB),
		 (unsigned long long)(avail1 / MiB));
	igt_assert_eq(status, -ENOMEM);

	/*
	 * The pages the job allocated are given back; the page that was
	 * there before stays, with each byte old or the job's (the job
	 * writes in order, and it failed far beyond page 0).
	 */
	igt_assert_eq_u64(info.pinned, 0);
	igt_assert_eq_u64(info.resident, 1);
	igt_assert_f(map[0] == swgpu_fill_byte(pattern, 0) || map[0] == (old & 0xff),
		     "byte 0 is %#x\n", map[0]);
	check_fill_page(map, 0, pattern);
	/* Where the job had allocated, the object reads zeros again. */
	igt_assert_eq(map[size / 2], 0);
	igt_assert_eq(map[size - 1], 0);
	munmap(map, size);
	swgpu_gem_close(render, h);

	/* Nobody was killed, and the engine still works. */
	igt_assert_eq_u64(oom_kills(), oom0);
	small = swgpu_gem_create(render, 64 * PAGE);
	c = fill(small, 0, 64 * PAGE, pattern);
	igt_assert_eq(swgpu_fence_wait(submit(render, &c)), 1);
	swgpu_gem_close(render, small);
}

static void cpu_access_beyond_ram(void)
{
	uint64_t size = beyond_ram(), oom0;
	struct drm_swgpu_cpu_access a = {
		.flags = SWGPU_CPU_ACCESS_READ | SWGPU_CPU_ACCESS_WRITE,
		.length = size,
	};
	struct swgpu_obj_info info;
	int err = 0;

	require_no_swap();
	swgpu_require_debugfs();
	oom0 = oom_kills();

	a.handle = swgpu_gem_create(render, size);
	if (igt_ioctl(render, DRM_IOCTL_SWGPU_CPU_ACCESS, &a))
		err = errno;
	info = swgpu_obj_get(getpid(), a.handle);
	igt_info("CPU_ACCESS START over %llu MiB: errno %d, %llu pages "
		 "resident afterwards\n", (unsigned long long)(size / MiB), err,
		 (unsigned long long)info.resident);
	igt_assert_eq(err, ENOMEM);
	igt_assert_eq_u64(info.pinned, 0);
	/*
	 * The clean pages START allocated are dropped again; a few may sit
	 * in per-CPU LRU batches, where the kernel cannot drop them yet.
	 */
	igt_assert_lte_u64(info.resident, 256);
	igt_assert_eq_u64(oom_kills(), oom0);
	swgpu_gem_close(render, a.handle);
}

static void attach_beyond_ram(void)
{
	uint64_t size = beyond_ram(), oom0;
	struct swgpu_obj_info info;
	uint32_t h, vh = 0;
	int vgem, dmabuf, ret;

	require_no_swap();
	swgpu_require_debugfs();
	vgem = swgpu_open_vgem();
	oom0 = oom_kills();

	/*
	 * vgem mapped its attachment at import (every page, pinned) until
	 * it began to import without mapping (7.x): find out with one page.
	 */
	h = swgpu_gem_create(render, PAGE);
	dmabuf = swgpu_prime_export(render, h);
	vh = swgpu_prime_import(vgem, dmabuf);
	info = swgpu_obj_get(getpid(), h);
	swgpu_gem_close(vgem, vh);
	close(dmabuf);
	swgpu_gem_close(render, h);
	igt_require_f(info.pinned == 1,
		      "vgem's import does not map the attachment on this kernel, "
		      "and no other importer here maps one for user space\n");

	h = swgpu_gem_create(render, size);
	dmabuf = swgpu_prime_export(render, h);
	ret = __swgpu_prime_import(vgem, dmabuf, &vh);
	info = swgpu_obj_get(getpid(), h);
	igt_info("vgem import of %llu MiB: %d, %llu pages resident afterwards\n",
		 (unsigned long long)(size / MiB), ret,
		 (unsigned long long)info.resident);
	igt_assert_eq(ret, -ENOMEM);
	igt_assert_eq_u64(info.pinned, 0);
	igt_assert_lte_u64(info.resident, 256);
	igt_assert_eq_u64(oom_kills(), oom0);

	close(dmabuf);
	close(vgem);
	swgpu_gem_close(render, h);
}

/*
 * Size of the cancelled FILLs: twice the memory (it can never finish
 * before the cancellation), or SWGPU_CANCEL_FILL_MB for measurements.
 */
static uint64_t cancel_fill_size(void)
{
	const char *mb = getenv("SWGPU_CANCEL_FILL_MB");

	if (mb && atoll(mb) > 0)
		return atoll(mb) * MiB;
	return meminfo("MemTotal") * 2 / MiB * MiB;
}

static void report_cancel(const char *how, uint64_t size, double ms,
			  long bytes_at, long bytes_end,
			  const struct cancel_mem *m, int status)
{
	uint64_t shmem = meminfo("Shmem");

	igt_info("%s during a FILL of %llu MiB: fence status %d after %.1f ms; "
		 "written %.1f MiB before, %.1f MiB after; peak memory use "
		 "+%llu MiB, shmem kept +%lld MiB\n", how,
		 (unsigned long long)(size / MiB), status, ms,
		 bytes_at / (double)MiB, (bytes_end - bytes_at) / (double)MiB,
		 (unsigned long long)((m->avail0 - m->min_avail) / MiB),
		 ((long long)shmem - (long long)m->shmem0) / (long long)MiB);
}

static void close_during_large_fill(void)
{
	uint64_t size = cancel_fill_size();
	struct cancel_mem m;
	long bytes0, bytes_at;
	struct swgpu_obj_info info;
	struct drm_swgpu_cmd c;
	uint32_t h, mine;
	int fd, dmabuf, out, status;
	double t0, ms;

	swgpu_require_debugfs();
	fd = swgpu_open_render();
	h = swgpu_gem_create(fd, size);
	dmabuf = swgpu_prime_export(fd, h);
	mine = swgpu_prime_import(render, dmabuf);
	m.avail0 = m.min_avail = meminfo("MemAvailable");
	m.shmem0 = meminfo("Shmem");

	bytes0 = swgpu_debugfs_engine("bytes");
	c = fill(h, 0, size, 0x42424242);
	out = submit(fd, &c);
	wait_for_progress(bytes0, &m, out);

	bytes_at = swgpu_debugfs_engine("bytes") - bytes0;
	t0 = now_ms();
	close(fd);
	status = fence_wait_sampled(out, t0, &ms, &m.min_avail);
	report_cancel("close", size, ms, bytes_at,
		      swgpu_debugfs_engine("bytes") - bytes0, &m, status);

	igt_assert_eq(status, -ECANCELED);
	igt_assert_f(ms < CANCEL_SANITY_MS, "cancelling took %.0f ms\n", ms);
	/* The cancelled job holds no pin and gave its pages back. */
	info = swgpu_obj_get(getpid(), mine);
	igt_assert_eq_u64(info.pinned, 0);
	igt_assert_eq_u64(info.resident, 0);

	swgpu_gem_close(render, mine);
	close(dmabuf);
}

static void kill_during_large_fill(void)
{
	uint64_t size = cancel_fill_size();
	struct cancel_mem m;
	struct dma_buf_export_sync_file sf = { .flags = DMA_BUF_SYNC_READ };
	long bytes0, bytes_at;
	int fd, dmabuf, status, wstatus, go[2], done[2];
	struct swgpu_obj_info info;
	uint32_t h, mine;
	double t0, ms;
	pid_t child;
	char byte;

	swgpu_require_debugfs();
	/*
	 * The child submits on a file the parent keeps open: only the
	 * fatal signal, not a close, can cancel its job.
	 */
	fd = swgpu_open_render();
	h = swgpu_gem_create(fd, size);
	dmabuf = swgpu_prime_export(fd, h);
	mine = swgpu_prime_import(render, dmabuf);
	igt_assert_eq(pipe(go), 0);
	igt_assert_eq(pipe(done), 0);
	bytes0 = swgpu_debugfs_engine("bytes");
	m.avail0 = m.min_avail = meminfo("MemAvailable");
	m.shmem0 = meminfo("Shmem");

	child = fork();
	igt_assert_lte(0, child);
	if (child == 0) {
		struct drm_swgpu_cmd c = fill(h, 0, size, 0x24242424);
		struct drm_swgpu_submit arg = {
			.cmds = (uintptr_t)&c, .num_cmds = 1,
		};

		if (ioctl(fd, DRM_IOCTL_SWGPU_SUBMIT, &arg))
			_exit(1);
		if (write(go[1], "s", 1) != 1)
			_exit(2);
		/* Stay until killed. */
		while (read(done[0], &byte, 1) < 0 && errno == EINTR)
			;
		_exit(3);
	}
	close(go[1]);
	close(done[0]);
	igt_assert_eq(read(go[0], &byte, 1), 1);

	/* The job's write fence, from the buffer's reservation object. */
	igt_require_f(ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sf) == 0,
		      "no DMA_BUF_IOCTL_EXPORT_SYNC_FILE\n");
	wait_for_progress(bytes0, &m, sf.fd);

	bytes_at = swgpu_debugfs_engine("bytes") - bytes0;
	t0 = now_ms();
	igt_assert_eq(kill(child, SIGKILL), 0);
	status = fence_wait_sampled(sf.fd, t0, &ms, &m.min_avail);
	igt_assert_eq(waitpid(child, &wstatus, 0), child);
	report_cancel("SIGKILL to the submitter", size, ms, bytes_at,
		      swgpu_debugfs_engine("bytes") - bytes0, &m, status);

	igt_assert_f(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL,
		     "child status %#x\n", wstatus);
	igt_assert_eq(status, -ECANCELED);
	igt_assert_f(ms < CANCEL_SANITY_MS, "cancelling took %.0f ms\n", ms);
	/*
	 * Only now may fd go: debugfs names handles by pid, and on kernels
	 * before 6.8 fd's lines carry this pid too.
	 */
	close(fd);
	info = swgpu_obj_get(getpid(), mine);
	igt_assert_eq_u64(info.pinned, 0);
	igt_assert_eq_u64(info.resident, 0);

	close(done[1]);
	close(go[0]);
	swgpu_gem_close(render, mine);
	close(dmabuf);
}

/* ---- memory cgroup ---- */

#define CGROOT "/sys/fs/cgroup"

/* A value of a flat-keyed cgroup file such as memory.events. */
static uint64_t cgroup_key(const char *dir, const char *file, const char *key)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return proc_value(path, key, false);
}

/*
 * Mount cgroup v2 if need be and make a child group with the memory
 * controller.
 */
static void make_memcg(char *dir, size_t len)
{
	struct stat st;

	if (stat(CGROOT "/cgroup.controllers", &st))
		igt_require_f(mount("cgroup2", CGROOT, "cgroup2", 0, NULL) == 0,
			      "no cgroup v2 on %s and cannot mount it: %s\n",
			      CGROOT, strerror(errno));
	igt_require_f(write_file(CGROOT "/cgroup.subtree_control", "+memory"),
		      "cannot enable the memory controller in %s: %s\n",
		      CGROOT, strerror(errno));
	snprintf(dir, len, CGROOT "/swgpu-pressure-%d", getpid());
	igt_assert_f(mkdir(dir, 0755) == 0 || errno == EEXIST,
		     "mkdir %s: %s\n", dir, strerror(errno));
}

/* What the client in the limited group saw. */
struct memcg_result {
	int stage;		/* how far it got; 3: all done */
	int fill_status;	/* its FILL's fence status */
	int start_errno;	/* CPU_ACCESS START over the object */
	uint64_t resident;	/* the object's pages afterwards */
	uint64_t pinned;
};

/* The client in the limited group; never returns. */
static void __attribute__((noreturn)) memcg_client(const char *dir,
						   uint64_t size, int report)
{
	struct memcg_result r = { 0 };
	struct drm_swgpu_cpu_access a = {
		.flags = SWGPU_CPU_ACCESS_WRITE, .length = size,
	};
	struct swgpu_obj_info info;
	struct drm_swgpu_cmd c;
	char path[512], pid[32];
	uint64_t sz = size;
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (!write_file(path, pid))
		_exit(10);
	r.stage = 1;

	fd = __swgpu_open_driver_node(swgpu_driver_name(), true);
	if (fd < 0 || __swgpu_gem_create(fd, &sz, 0, &a.handle))
		_exit(11);
	c = fill(a.handle, 0, size, 0x77777777);
	{
		struct drm_swgpu_submit arg = {
			.cmds = (uintptr_t)&c, .num_cmds = 1,
			.flags = SWGPU_SUBMIT_OUT_FENCE, .out_fence_fd = -1,
		};
		struct pollfd p = { .events = POLLIN };

		if (ioctl(fd, DRM_IOCTL_SWGPU_SUBMIT, &arg))
			_exit(12);
		p.fd = arg.out_fence_fd;
		if (poll(&p, 1, -1) != 1)
			_exit(13);
		r.fill_status = swgpu_sync_file_status(arg.out_fence_fd);
	}
	r.stage = 2;

	if (ioctl(fd, DRM_IOCTL_SWGPU_CPU_ACCESS, &a))
		r.start_errno = errno;
	r.stage = 3;
	if (swgpu_obj_info(getpid(), a.handle, &info) == 0) {
		r.resident = info.resident;
		r.pinned = info.pinned;
	}
	if (write(report, &r, sizeof(r)) != sizeof(r))
		_exit(14);
	_exit(0);
}

static void memcg_limit(void)
{
	const uint64_t limit = 32 * MiB, size = 64 * MiB, theirs = 8 * MiB;
	struct memcg_result r = { 0 };
	char dir[256], path[512];
	struct drm_swgpu_cmd c;
	int report[2], wstatus;
	uint64_t ooms;
	uint8_t *map;
	uint32_t h, h2;
	ssize_t got;
	pid_t child;

	swgpu_require_debugfs();
	make_memcg(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	igt_assert_f(write_file(path, "33554432"), "cannot set %s\n", path);
	/* No swap for the group either, so the result does not depend on it. */
	snprintf(path, sizeof(path), "%s/memory.swap.max", dir);
	write_file(path, "0");
	igt_assert_eq_u64(limit, 33554432);

	/* The second client: a buffer with data, outside the group. */
	h = swgpu_gem_create(render, theirs);
	map = swgpu_gem_mmap(render, h, theirs, PROT_READ | PROT_WRITE);
	swgpu_fill(map, theirs, 0xbeef);

	igt_assert_eq(pipe(report), 0);
	child = fork();
	igt_assert_lte(0, child);
	if (child == 0) {
		close(report[0]);
		memcg_client(dir, size, report[1]);
	}
	close(report[1]);
	got = read(report[0], &r, sizeof(r));
	igt_assert_eq(waitpid(child, &wstatus, 0), child);
	close(report[0]);
	ooms = cgroup_key(dir, "memory.events", "oom_kill");
	igt_info("client limited to %llu MiB, FILL of %llu MiB: stage %d, fence "
		 "status %d, START errno %d, %llu pages resident afterwards; "
		 "exit %#x, oom_kill %llu in its group\n",
		 (unsigned long long)(limit / MiB),
		 (unsigned long long)(size / MiB), r.stage, r.fill_status,
		 r.start_errno, (unsigned long long)r.resident, wstatus,
		 (unsigned long long)ooms);

	if (WIFSIGNALED(wstatus)) {
		/* Killed: then by its own group's OOM killer. */
		igt_assert_eq(WTERMSIG(wstatus), SIGKILL);
		igt_assert_lt_u64(0, ooms);
	} else {
		igt_assert_f(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 &&
			     got == sizeof(r), "the client failed: exit %#x\n",
			     wstatus);
		/* The job's pages were charged to the client's group. */
		igt_assert_eq(r.fill_status, -ENOMEM);
		igt_assert_eq(r.start_errno, ENOMEM);
		igt_assert_eq_u64(r.pinned, 0);
		igt_assert_lte_u64(r.resident, 256);
	}

	/* The other client's data and engine are untouched. */
	swgpu_assert_pattern(map, theirs, 0xbeef);
	h2 = swgpu_gem_create(render, theirs);
	c = fill(h2, 0, theirs, 0x13131313);
	igt_assert_eq(swgpu_fence_wait(submit(render, &c)), 1);
	swgpu_gem_close(render, h2);
	munmap(map, theirs);
	swgpu_gem_close(render, h);
	igt_assert_f(rmdir(dir) == 0, "rmdir %s: %s\n", dir, strerror(errno));
}

igt_main
{
	igt_fixture {
		render = swgpu_open_render();
		igt_info("MemTotal %llu MiB, SwapTotal %llu MiB\n",
			 (unsigned long long)(meminfo("MemTotal") / MiB),
			 (unsigned long long)(meminfo("SwapTotal") / MiB));
	}

	igt_describe("With swap, a FILL of 1.5x the memory completes, its "
		     "pages go out to swap and come back with the data.");
	igt_subtest("fill-beyond-ram-swap")
		fill_beyond_ram_swap();

	igt_describe("With swap, twice the memory written through GEM mmap, "
		     "dma-buf mmap, CPU_ACCESS windows and the engine goes "
		     "out to swap (pswpout) and every byte comes back right "
		     "(pswpin) through each of them (the engine: a COPY); on "
		     "HIGHMEM, in highmem pages both ways.");
	igt_subtest("all-paths-beyond-ram-swap") {
		swgpu_require_debugfs();
		all_paths_beyond_ram_swap();
	}

	igt_describe("With swap, an object of huge pages written through its "
		     "GEM mapping and paged out (MADV_PAGEOUT) is written to "
		     "swap and every page reads back right.");
	igt_subtest("huge-swap")
		huge_swap();

	igt_describe("With swap, a CPU_ACCESS window pins nothing: its "
		     "pages can be swapped while it is open, and what was "
		     "written in it comes back.");
	igt_subtest("window-swappable-swap")
		held_through_reclaim_swap(HOLD_WINDOW);

	igt_describe("With swap, the pages of a mapped device attachment "
		     "(vgem's import) stay in memory through reclaim, and "
		     "can be swapped once the importer lets go.");
	igt_subtest("pinned-attachment-swap")
		held_through_reclaim_swap(HOLD_ATTACHMENT);

	igt_describe("With swap, the pages of a range of the kernel CPU "
		     "access API stay in memory through reclaim, and can be "
		     "swapped once the range ends.");
	igt_subtest("pinned-kernel-range-swap")
		held_through_reclaim_swap(HOLD_KERNEL_RANGE);

	igt_describe("With swap, the pages of a kernel vmap stay in memory "
		     "through reclaim, and can be swapped once it is gone.");
	igt_subtest("pinned-vmap-swap")
		held_through_reclaim_swap(HOLD_VMAP);

	igt_describe("Without swap, a FILL of 1.5x the memory beside a "
		     "process that keeps faulting in anonymous memory fails "
		     "with ENOMEM and leaves that process alive: a populate "
		     "leaves a reserve to others.");
	igt_subtest("fill-beyond-ram-noswap-bystander")
		bystander_fill_noswap();

	igt_describe("Without swap, a FILL of 1.5x the memory fails with "
		     "ENOMEM, kills nobody and gives its pages back.");
	igt_subtest("fill-beyond-ram-noswap")
		fill_beyond_ram_noswap();

	igt_describe("Without swap, CPU_ACCESS START over 1.5x the memory "
		     "fails with ENOMEM and gives its pages back.");
	igt_subtest("cpu-access-beyond-ram")
		cpu_access_beyond_ram();

	igt_describe("Without swap, mapping an attachment of 1.5x the memory "
		     "(vgem's import) fails with ENOMEM and gives its pages back.");
	igt_subtest("attach-beyond-ram")
		attach_beyond_ram();

	igt_describe("Closing the file during a FILL of 2x the memory cancels "
		     "it; the time to cancel is printed.");
	igt_subtest("close-during-large-fill")
		close_during_large_fill();

	igt_describe("SIGKILL to the submitter cancels its FILL of 2x the "
		     "memory even while its file stays open elsewhere.");
	igt_subtest("kill-during-large-fill")
		kill_during_large_fill();

	igt_describe("A client in a memory cgroup limited below its FILL's "
		     "size gets ENOMEM (or is the one killed); another "
		     "client's buffers stay intact.");
	igt_subtest("memcg-limit")
		memcg_limit();

	igt_fixture
		close(render);
}
