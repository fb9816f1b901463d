// SPDX-License-Identifier: MIT
/*
 * swgpu_engine - the software engine: SUBMIT of FILL and COPY batches,
 * their fences, ordering and implicit synchronisation.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>
#include <linux/udmabuf.h>
#include <stdatomic.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("swgpu's software engine: fill and copy jobs with fences");

#define PAGE 4096u

static int render = -1;

static struct drm_swgpu_cmd fill(uint32_t dst, uint64_t off, uint64_t len,
				 uint32_t pattern)
{
	return (struct drm_swgpu_cmd){ .op = SWGPU_CMD_FILL, .pattern = pattern,
				       .dst_handle = dst, .dst_offset = off,
				       .length = len };
}

static struct drm_swgpu_cmd copy(uint32_t dst, uint64_t doff, uint32_t src,
				 uint64_t soff, uint64_t len)
{
	return (struct drm_swgpu_cmd){ .op = SWGPU_CMD_COPY, .dst_handle = dst,
				       .dst_offset = doff, .src_handle = src,
				       .src_offset = soff, .length = len };
}

static int __submit(int fd, struct drm_swgpu_cmd *cmds, unsigned int n,
		    uint32_t flags, int in_fence, int *out_fence)
{
	struct drm_swgpu_submit arg = {
		.cmds = (uintptr_t)cmds, .num_cmds = n, .flags = flags,
		.in_fence_fd = in_fence, .out_fence_fd = -1,
	};

	if (igt_ioctl(fd, DRM_IOCTL_SWGPU_SUBMIT, &arg))
		return -errno;
	if (out_fence)
		*out_fence = arg.out_fence_fd;
	return 0;
}

/* Submit with an out-fence and return it. */
static int submit(int fd, struct drm_swgpu_cmd *cmds, unsigned int n)
{
	int out = -1;

	igt_assert_eq(__submit(fd, cmds, n, SWGPU_SUBMIT_OUT_FENCE, -1, &out), 0);
	igt_assert_lte(0, out);
	return out;
}

static bool fence_pending(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	igt_assert_lte(0, poll(&p, 1, 0));
	return !(p.revents & POLLIN);
}

static void check_fill(const uint8_t *map, uint64_t off, uint64_t len,
		       uint32_t pattern)
{
	for (uint64_t o = off; o < off + len; o++)
		igt_assert_f(map[o] == swgpu_fill_byte(pattern, o),
			     "byte %#llx is %#x, want %#x\n",
			     (unsigned long long)o, map[o],
			     swgpu_fill_byte(pattern, o));
}

static void check_byte_range(const uint8_t *map, uint64_t off, uint64_t len,
			     uint8_t value)
{
	for (uint64_t o = off; o < off + len; o++)
		igt_assert_f(map[o] == value, "byte %#llx is %#x, want %#x\n",
			     (unsigned long long)o, map[o], value);
}

struct buf {
	uint32_t handle;
	uint64_t size;
	uint8_t *map;
};

static struct buf make_buf(int fd, uint64_t size)
{
	struct buf b = { .size = size };

	b.handle = swgpu_gem_create(fd, size);
	b.map = swgpu_gem_mmap(fd, b.handle, size, PROT_READ | PROT_WRITE);
	return b;
}

static void free_buf(int fd, struct buf *b)
{
	munmap(b->map, b->size);
	swgpu_gem_close(fd, b->handle);
}

/*
 * Give a job that is not blocked every chance to run: another file runs a
 * large job to completion meanwhile. A job still pending after this is
 * waiting for something, not merely not yet scheduled.
 */
static void let_engine_run(void)
{
	const uint64_t size = 1024 * PAGE;
	int fd = swgpu_open_render();
	uint32_t h = swgpu_gem_create(fd, size);
	struct drm_swgpu_cmd c = fill(h, 0, size, 0x13579bdf);

	igt_assert_eq(swgpu_fence_wait(submit(fd, &c, 1)), 1);
	swgpu_gem_close(fd, h);
	close(fd);
}

static void fill_ranges(void)
{
	const struct { uint64_t off, len; } r[] = {
		{ 0, 16 * PAGE }, { 0, 1 }, { 3, 1 }, { PAGE - 1, 2 },
		{ 5, 3 * PAGE + 7 }, { 2 * PAGE, PAGE }, { 16 * PAGE - 3, 3 },
		{ 7 * PAGE + 13, 4097 },
	};
	struct buf b = make_buf(render, 16 * PAGE);

	for (unsigned int i = 0; i < ARRAY_SIZE(r); i++) {
		uint32_t pattern = 0x01020304u * (i + 1) ^ 0xa5a5a5a5u;
		struct drm_swgpu_cmd c = fill(b.handle, r[i].off, r[i].len,
					      pattern);

		memset(b.map, 0x11, b.size);
		igt_assert_eq(swgpu_fence_wait(submit(render, &c, 1)), 1);
		check_byte_range(b.map, 0, r[i].off, 0x11);
		check_fill(b.map, r[i].off, r[i].len, pattern);
		check_byte_range(b.map, r[i].off + r[i].len,
				 b.size - r[i].off - r[i].len, 0x11);
	}
	free_buf(render, &b);
}

static void copy_ranges(void)
{
	const struct { uint64_t soff, doff, len; } r[] = {
		{ 0, 0, 8 * PAGE }, { 1, 2, 1 }, { PAGE - 3, 5, 9 },
		{ 100, 3 * PAGE - 50, 2 * PAGE + 101 }, { 0, PAGE, PAGE },
		{ 7 * PAGE, 0, PAGE }, { 13, 8 * PAGE - 13, 13 },
	};
	struct buf src = make_buf(render, 8 * PAGE);
	struct buf dst = make_buf(render, 8 * PAGE);

	swgpu_fill(src.map, src.size, 0x600d);
	for (unsigned int i = 0; i < ARRAY_SIZE(r); i++) {
		struct drm_swgpu_cmd c = copy(dst.handle, r[i].doff, src.handle,
					      r[i].soff, r[i].len);

		memset(dst.map, 0x22, dst.size);
		igt_assert_eq(swgpu_fence_wait(submit(render, &c, 1)), 1);
		check_byte_range(dst.map, 0, r[i].doff, 0x22);
		igt_assert(!memcmp(dst.map + r[i].doff, src.map + r[i].soff,
				   r[i].len));
		check_byte_range(dst.map, r[i].doff + r[i].len,
				 dst.size - r[i].doff - r[i].len, 0x22);
	}
	free_buf(render, &src);
	free_buf(render, &dst);
}

static void copy_within_object(void)
{
	struct buf b = make_buf(render, 4 * PAGE);
	struct drm_swgpu_cmd c = copy(b.handle, 2 * PAGE + 1, b.handle, 1, PAGE);

	swgpu_fill(b.map, 2 * PAGE, 0x77);
	igt_assert_eq(swgpu_fence_wait(submit(render, &c, 1)), 1);
	igt_assert(!memcmp(b.map + 2 * PAGE + 1, b.map + 1, PAGE));
	free_buf(render, &b);
}

/*
 * FILL and COPY on an object of huge pages with a tail of 4 KiB pages,
 * across its huge pages and the engine's 2 MiB windows. The engine pins
 * a window's pages with one reference per folio, also where one huge
 * page is found partly as a hole and partly in the page cache (the
 * object starts with only its first huge page touched); nothing stays
 * pinned after the jobs.
 */
static void huge_ranges(void)
{
	const uint64_t mib = 1ull << 20, size = 4 * mib + 3 * PAGE;
	const struct { uint64_t off, len; } r[] = {
		{ 0, size }, { 2 * mib - 5, 11 }, { mib + 3, 2 * mib + 7 },
		{ size - 1, 1 }, { 3 * mib + 5, mib + 2 * PAGE },
	};
	struct buf src = make_buf(render, size);
	struct buf b = { .size = size };
	uint64_t created = size;
	struct drm_swgpu_cmd c;

	swgpu_require_debugfs();
	igt_assert_eq(__swgpu_gem_create(render, &created,
					 SWGPU_GEM_CREATE_HUGE, &b.handle), 0);
	b.map = swgpu_gem_mmap(render, b.handle, size, PROT_READ | PROT_WRITE);
	b.map[mib] = 0x5a;

	c = fill(b.handle, mib + 3, 3 * mib, 0x48756765);
	igt_assert_eq(swgpu_fence_wait(submit(render, &c, 1)), 1);
	check_byte_range(b.map, 0, mib, 0);
	check_byte_range(b.map, mib, 1, 0x5a);
	check_byte_range(b.map, mib + 1, 2, 0);
	check_fill(b.map, mib + 3, 3 * mib, 0x48756765);
	check_byte_range(b.map, 4 * mib + 3, size - 4 * mib - 3, 0);

	for (unsigned int i = 0; i < ARRAY_SIZE(r); i++) {
		uint32_t pattern = 0x0badcafeu * (i + 1);

		c = fill(b.handle, r[i].off, r[i].len, pattern);
		memset(b.map, 0x11, size);
		igt_assert_eq(swgpu_fence_wait(submit(render, &c, 1)), 1);
		check_byte_range(b.map, 0, r[i].off, 0x11);
		check_fill(b.map, r[i].off, r[i].len, pattern);
		check_byte_range(b.map, r[i].off + r[i].len,
				 size - r[i].off - r[i].len, 0x11);
	}

	swgpu_fill(src.map, size, 0x7e57);
	c = copy(b.handle, 2 * mib - 7, src.handle, 5, 2 * mib + 3);
	igt_assert_eq(swgpu_fence_wait(submit(render, &c, 1)), 1);
	igt_assert(!memcmp(b.map + 2 * mib - 7, src.map + 5, 2 * mib + 3));
	c = copy(src.handle, mib + 1, b.handle, PAGE - 1, 3 * mib);
	igt_assert_eq(swgpu_fence_wait(submit(render, &c, 1)), 1);
	igt_assert(!memcmp(src.map + mib + 1, b.map + PAGE - 1, 3 * mib));

	igt_assert_eq_u64(swgpu_obj_get(getpid(), b.handle).pinned, 0);
	igt_assert_eq_u64(swgpu_obj_get(getpid(), src.handle).pinned, 0);
	free_buf(render, &src);
	free_buf(render, &b);
}

/*
 * What a batch must leave in its buffers: its commands applied in order,
 * to copies of the buffers' bytes.
 */
static void apply_cmds(uint8_t **model, const uint32_t *handles,
		       unsigned int nbufs, const struct drm_swgpu_cmd *c,
		       unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *dst = NULL, *src = NULL;

		for (unsigned int k = 0; k < nbufs; k++) {
			if (handles[k] == c[i].dst_handle)
				dst = model[k];
			if (handles[k] == c[i].src_handle)
				src = model[k];
		}
		igt_assert(dst);
		if (c[i].op == SWGPU_CMD_FILL) {
			for (uint64_t o = c[i].dst_offset;
			     o < c[i].dst_offset + c[i].length; o++)
				dst[o] = swgpu_fill_byte(c[i].pattern, o);
		} else {
			igt_assert(src);
			memmove(dst + c[i].dst_offset, src + c[i].src_offset,
				c[i].length);
		}
	}
}

static void check_model(const struct buf *b, const uint8_t *model)
{
	for (uint64_t o = 0; o < b->size; o++)
		igt_assert_f(b->map[o] == model[o],
			     "byte %#llx is %#x, want %#x\n",
			     (unsigned long long)o, b->map[o], model[o]);
}

/*
 * A job's commands are shared out among several CPUs (lanes), window by
 * window; commands that write what an earlier one of the batch reads or
 * writes wait for it. A batch of multi-window commands, some of them
 * independent and some not, on one lane and on three (more than the
 * guest may have CPUs), leaves exactly what its commands applied in
 * order leave, and nothing pinned.
 */
static void lanes_order(void)
{
	const uint64_t mib = 1ull << 20;
	const uint64_t sizes[3] = { 12 * mib + 5 * PAGE, 12 * mib + 5 * PAGE,
				    8 * mib };
	const unsigned int lanes[] = { 1, 3 };
	unsigned int saved = swgpu_engine_lanes();
	struct buf b[3];
	uint32_t handles[3];
	uint8_t *model[3];

	swgpu_require_debugfs();
	for (unsigned int k = 0; k < 3; k++) {
		b[k] = make_buf(render, sizes[k]);
		handles[k] = b[k].handle;
		model[k] = malloc(sizes[k]);
		igt_assert(model[k]);
	}

	for (unsigned int l = 0; l < ARRAY_SIZE(lanes); l++) {
		struct drm_swgpu_cmd c[64];
		unsigned int n = 0;

		/*
		 * Each command after a window-sized one uses the last bytes
		 * that window writes, which a lane that ran them at once
		 * would reach first: write after write, read after write,
		 * write after read; then larger commands of many windows.
		 */
		for (unsigned int k = 0; k < 4; k++) {
			c[n++] = fill(handles[0], 2 * k * mib, 2 * mib,
				      0x01020304 * (k + 1));
			c[n++] = fill(handles[0], 2 * (k + 1) * mib - 8, 8,
				      0x10203040 * (k + 1));
			c[n++] = fill(handles[2], 2 * k * mib, 2 * mib,
				      0x0a0b0c0d * (k + 1));
			c[n++] = copy(handles[1], k * PAGE, handles[2],
				      2 * (k + 1) * mib - 16, 16);
			c[n++] = copy(handles[1], 8 * mib + k * 16,
				      handles[0], 2 * (k + 1) * mib - 16, 16);
			c[n++] = fill(handles[0], 2 * (k + 1) * mib - 4, 4,
				      0x50607080 * (k + 1));
		}
		c[n++] = fill(handles[0], 0, sizes[0], 0x11223344);
		c[n++] = copy(handles[1], 3, handles[0], mib + 1, 10 * mib);
		c[n++] = fill(handles[2], PAGE + 7, 6 * mib, 0x55667788);
		c[n++] = fill(handles[0], 2 * mib - 100, 4 * mib, 0x99aabbcc);
		c[n++] = copy(handles[2], 6 * mib + 3, handles[0], 2 * mib,
			      mib);
		c[n++] = fill(handles[1], 5 * mib, mib, 0xddeeff00);
		c[n++] = copy(handles[0], 6 * mib + 1, handles[2], 0,
			      2 * mib + 9);
		igt_assert(n <= ARRAY_SIZE(c));

		for (unsigned int k = 0; k < 3; k++) {
			memset(b[k].map, 0x40 + k, sizes[k]);
			memcpy(model[k], b[k].map, sizes[k]);
		}
		apply_cmds(model, handles, 3, c, n);
		swgpu_set_engine_lanes(lanes[l]);
		igt_assert_eq(swgpu_debugfs_engine("lanes"), lanes[l]);
		igt_assert_eq(swgpu_fence_wait(submit(render, c, n)), 1);
		swgpu_set_engine_lanes(saved);
		for (unsigned int k = 0; k < 3; k++) {
			check_model(&b[k], model[k]);
			igt_assert_eq_u64(swgpu_obj_get(getpid(),
							handles[k]).pinned, 0);
		}
	}
	for (unsigned int k = 0; k < 3; k++) {
		free(model[k]);
		free_buf(render, &b[k]);
	}
}

static void batch_order(void)
{
	struct buf a = make_buf(render, 2 * PAGE), b = make_buf(render, 2 * PAGE);
	struct drm_swgpu_cmd c[3] = {
		fill(a.handle, 0, 2 * PAGE, 0x11111111),
		copy(b.handle, 0, a.handle, 0, 2 * PAGE),
		fill(a.handle, 0, 2 * PAGE, 0x22222222),
	};

	igt_assert_eq(swgpu_fence_wait(submit(render, c, 3)), 1);
	check_fill(b.map, 0, 2 * PAGE, 0x11111111);
	check_fill(a.map, 0, 2 * PAGE, 0x22222222);
	free_buf(render, &a);
	free_buf(render, &b);
}

static void dependent_jobs(void)
{
	struct buf a = make_buf(render, 64 * PAGE), b = make_buf(render, 64 * PAGE);
	struct drm_swgpu_cmd c1 = fill(a.handle, 0, 64 * PAGE, 0x12345678);
	struct drm_swgpu_cmd c2 = copy(b.handle, 0, a.handle, 0, 64 * PAGE);
	struct drm_swgpu_cmd c3 = fill(a.handle, 0, 64 * PAGE, 0x0badf00d);
	int f1, f2, f3;

	/* Three jobs; the last must not overtake the copy. */
	f1 = submit(render, &c1, 1);
	f2 = submit(render, &c2, 1);
	f3 = submit(render, &c3, 1);
	igt_assert_eq(swgpu_fence_wait(f3), 1);
	/* Fences of one file signal in order. */
	igt_assert_eq(swgpu_fence_wait(f2), 1);
	igt_assert_eq(swgpu_fence_wait(f1), 1);
	check_fill(b.map, 0, 64 * PAGE, 0x12345678);
	check_fill(a.map, 0, 64 * PAGE, 0x0badf00d);
	free_buf(render, &a);
	free_buf(render, &b);
}

static void cross_file_implicit_sync(void)
{
	int other = swgpu_open_render();
	struct buf a = make_buf(render, 256 * PAGE);
	uint32_t ob, oa;
	struct drm_swgpu_cmd c1 = fill(a.handle, 0, 256 * PAGE, 0xcafe0001);
	struct drm_swgpu_cmd c2;
	uint8_t *bm;
	int dmabuf, f1, f2;

	/* Another file copies from a: it must wait for this file's fill. */
	dmabuf = swgpu_prime_export(render, a.handle);
	oa = swgpu_prime_import(other, dmabuf);
	ob = swgpu_gem_create(other, 256 * PAGE);
	bm = swgpu_gem_mmap(other, ob, 256 * PAGE, PROT_READ);
	c2 = copy(ob, 0, oa, 0, 256 * PAGE);

	f1 = submit(render, &c1, 1);
	f2 = submit(other, &c2, 1);
	igt_assert_eq(swgpu_fence_wait(f2), 1);
	check_fill(bm, 0, 256 * PAGE, 0xcafe0001);
	igt_assert_eq(swgpu_fence_wait(f1), 1);

	munmap(bm, 256 * PAGE);
	close(dmabuf);
	close(other);
	free_buf(render, &a);
}

/* Not inlined: its locals must not live in igt_main's setjmp frame. */
static __attribute__((noinline)) void in_fence(void)
{
	struct buf gate = make_buf(render, PAGE), b = make_buf(render, PAGE);
	struct dma_buf_export_sync_file sf = { .flags = DMA_BUF_SYNC_READ };
	struct drm_swgpu_cmd c = fill(b.handle, 0, PAGE, 0x5eed5eed);
	uint32_t fence;
	int dmabuf, out = -1;

	/* A sync_file of a pending user fence on another buffer. */
	dmabuf = swgpu_prime_export(render, gate.handle);
	fence = swgpu_fence_attach(render, gate.handle, SWGPU_FENCE_WRITE);
	igt_require_f(ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sf) == 0,
		      "no DMA_BUF_IOCTL_EXPORT_SYNC_FILE\n");

	memset(b.map, 0, PAGE);
	igt_assert_eq(__submit(render, &c, 1,
			       SWGPU_SUBMIT_IN_FENCE | SWGPU_SUBMIT_OUT_FENCE,
			       sf.fd, &out), 0);
	let_engine_run();
	igt_assert(fence_pending(out));
	check_byte_range(b.map, 0, PAGE, 0);
	swgpu_fence_signal(render, fence);
	igt_assert_eq(swgpu_fence_wait(out), 1);
	check_fill(b.map, 0, PAGE, 0x5eed5eed);

	close(sf.fd);
	close(dmabuf);
	free_buf(render, &gate);
	free_buf(render, &b);
}

static void behind_user_fence(void)
{
	struct buf b = make_buf(render, 4 * PAGE);
	struct drm_swgpu_cmd c = fill(b.handle, 0, 4 * PAGE, 0x0f0f0f0f);
	uint32_t fence;
	int out;

	/* A vgem-style writer holds the buffer: the job waits for it. */
	memset(b.map, 0x33, b.size);
	fence = swgpu_fence_attach(render, b.handle, SWGPU_FENCE_WRITE);
	out = submit(render, &c, 1);
	let_engine_run();
	igt_assert(fence_pending(out));
	check_byte_range(b.map, 0, b.size, 0x33);
	swgpu_fence_signal(render, fence);
	igt_assert_eq(swgpu_fence_wait(out), 1);
	check_fill(b.map, 0, b.size, 0x0f0f0f0f);
	free_buf(render, &b);
}

static void cpu_waits_for_job(bool dmabuf_sync)
{
	const uint64_t size = 2048 * PAGE;
	struct buf b = make_buf(render, size);
	struct drm_swgpu_cmd c = fill(b.handle, 0, size, 0x7e577e57);
	int dmabuf = swgpu_prime_export(render, b.handle);
	int out;

	out = submit(render, &c, 1);
	if (dmabuf_sync) {
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	} else {
		struct drm_swgpu_cpu_access a = {
			.handle = b.handle, .flags = SWGPU_CPU_ACCESS_READ,
			.offset = size - PAGE, .length = PAGE,
		};

		do_ioctl(render, DRM_IOCTL_SWGPU_CPU_ACCESS, &a);
	}
	/* The window opened only once the job was done. */
	igt_assert_eq(swgpu_sync_file_status(out), 1);
	check_fill(b.map, size - PAGE, PAGE, 0x7e577e57);
	if (dmabuf_sync)
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	close(out);
	close(dmabuf);
	free_buf(render, &b);
}

static void poll_waits_for_job(void)
{
	const uint64_t size = 2048 * PAGE;
	struct buf b = make_buf(render, size);
	struct drm_swgpu_cmd c = fill(b.handle, 0, size, 0x99999999);
	int dmabuf = swgpu_prime_export(render, b.handle);
	struct pollfd p = { .fd = dmabuf, .events = POLLIN };
	int out;

	out = submit(render, &c, 1);
	igt_assert_eq(poll(&p, 1, -1), 1);
	igt_assert_eq(swgpu_sync_file_status(out), 1);
	check_fill(b.map, 0, size, 0x99999999);
	close(out);
	close(dmabuf);
	free_buf(render, &b);
}

/*
 * udmabuf builds its scatter table in its first begin_cpu_access without
 * a lock (docs/upstream/README.rst, udmabuf-sg-leak): two of swgpu's
 * paths beginning on a new udmabuf at once must not both get into it.
 * Each round imports a new udmabuf and, released together, a job fills
 * it (the engine worker's begin) while a thread opens and closes a
 * CPU_ACCESS window on it (the ioctl's begin). What would leak shows in
 * kmemleak after the suite (tier/kmemleak on the debug tier).
 */
struct first_begins {
	uint32_t handle;
	uint64_t size;
	atomic_int *line;
};

/* Both sides call it once a round and leave it together. */
static void start_line(atomic_int *line)
{
	atomic_fetch_add(line, 1);
	while (atomic_load(line) < 2)
		;
}

static void *cpu_window(void *arg)
{
	struct first_begins *fb = arg;
	struct drm_swgpu_cpu_access a = {
		.handle = fb->handle, .length = fb->size,
		.flags = SWGPU_CPU_ACCESS_READ | SWGPU_CPU_ACCESS_START,
	};

	start_line(fb->line);
	do_ioctl(render, DRM_IOCTL_SWGPU_CPU_ACCESS, &a);
	a.flags = SWGPU_CPU_ACCESS_READ | SWGPU_CPU_ACCESS_END;
	do_ioctl(render, DRM_IOCTL_SWGPU_CPU_ACCESS, &a);
	return NULL;
}

static void udmabuf_first_begins(void)
{
	const uint64_t size = 64 * PAGE;
	int dev, round;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	igt_require_f(dev >= 0, "this kernel has no /dev/udmabuf\n");
	for (round = 0; round < 128; round++) {
		struct udmabuf_create create = { .size = size };
		atomic_int line = 0;
		struct first_begins fb = { .size = size, .line = &line };
		struct drm_swgpu_cmd c;
		pthread_t thread;
		int memfd, dmabuf, out;
		uint8_t *map;

		memfd = memfd_create("swgpu-udmabuf", MFD_ALLOW_SEALING);
		igt_assert(memfd >= 0);
		igt_assert_eq(ftruncate(memfd, size), 0);
		igt_assert_eq(fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
		create.memfd = memfd;
		create.flags = UDMABUF_FLAGS_CLOEXEC;
		dmabuf = ioctl(dev, UDMABUF_CREATE, &create);
		igt_assert_f(dmabuf >= 0, "UDMABUF_CREATE: %s\n", strerror(errno));
		fb.handle = swgpu_prime_import(render, dmabuf);

		igt_assert_eq(pthread_create(&thread, NULL, cpu_window, &fb), 0);
		c = fill(fb.handle, 0, size, 0x5a5a5a5a + round);
		start_line(&line);
		out = submit(render, &c, 1);
		igt_assert_eq(swgpu_fence_wait(out), 1);
		igt_assert_eq(pthread_join(thread, NULL), 0);

		/* The job's bytes are in the memfd's pages. */
		map = mmap(NULL, size, PROT_READ, MAP_SHARED, memfd, 0);
		igt_assert(map != MAP_FAILED);
		check_fill(map, 0, size, 0x5a5a5a5a + round);
		munmap(map, size);
		swgpu_gem_close(render, fb.handle);
		close(dmabuf);
		close(memfd);
	}
	close(dev);
}

static void vgem_copies(void)
{
	int vgem = swgpu_open_vgem();
	struct buf s = make_buf(render, 16 * PAGE);
	uint32_t pitch, vh, ih;
	uint64_t size;
	uint8_t *vmap;
	struct drm_swgpu_cmd c;
	int dmabuf;

	vh = swgpu_dumb_create(vgem, 1024, 16, 32, &pitch, &size);
	igt_assert_eq_u64(size, 16 * PAGE);
	vmap = swgpu_dumb_mmap(vgem, vh, size, PROT_READ | PROT_WRITE);
	dmabuf = swgpu_prime_export(vgem, vh);
	ih = swgpu_prime_import(render, dmabuf);

	/* swgpu -> vgem */
	swgpu_fill(s.map, s.size, 0xabc);
	c = copy(ih, 3, s.handle, 5, 16 * PAGE - 8);
	igt_assert_eq(swgpu_fence_wait(submit(render, &c, 1)), 1);
	igt_assert(!memcmp(vmap + 3, s.map + 5, 16 * PAGE - 8));

	/* vgem -> swgpu */
	swgpu_fill(vmap, size, 0xdef);
	c = copy(s.handle, 0, ih, 0, 16 * PAGE);
	igt_assert_eq(swgpu_fence_wait(submit(render, &c, 1)), 1);
	swgpu_assert_pattern(s.map, s.size, 0xdef);

	/* and a fill straight into vgem's pages */
	c = fill(ih, PAGE + 1, PAGE, 0x01010101);
	igt_assert_eq(swgpu_fence_wait(submit(render, &c, 1)), 1);
	check_fill(vmap, PAGE + 1, PAGE, 0x01010101);

	swgpu_gem_close(render, ih);
	close(dmabuf);
	munmap(vmap, size);
	swgpu_gem_close(vgem, vh);
	close(vgem);
	free_buf(render, &s);
}

static __attribute__((noinline)) void in_fence_error(void)
{
	struct buf gate = make_buf(render, PAGE), b = make_buf(render, PAGE);
	struct dma_buf_export_sync_file sf = { .flags = DMA_BUF_SYNC_READ };
	struct drm_swgpu_cmd c = fill(b.handle, 0, PAGE, 0xeeeeeeee);
	unsigned int saved = swgpu_fence_timeout_ms();
	int dmabuf, out = -1;

	/* An in-fence that fails (expires): the job fails the same way. */
	dmabuf = swgpu_prime_export(render, gate.handle);
	swgpu_set_fence_timeout_ms(100);
	swgpu_fence_attach(render, gate.handle, SWGPU_FENCE_WRITE);
	swgpu_set_fence_timeout_ms(saved);
	igt_require_f(ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sf) == 0,
		      "no DMA_BUF_IOCTL_EXPORT_SYNC_FILE\n");

	memset(b.map, 0x44, PAGE);
	igt_assert_eq(__submit(render, &c, 1,
			       SWGPU_SUBMIT_IN_FENCE | SWGPU_SUBMIT_OUT_FENCE,
			       sf.fd, &out), 0);
	igt_assert_eq(swgpu_fence_wait(out), -ETIMEDOUT);
	check_byte_range(b.map, 0, PAGE, 0x44);

	close(sf.fd);
	close(dmabuf);
	free_buf(render, &gate);
	free_buf(render, &b);
}

static void close_with_jobs_in_flight(void)
{
	struct drm_swgpu_cmd c;
	uint32_t handle, fence;
	int fd, dmabuf, out[4];
	struct buf b;

	swgpu_require_debugfs();
	fd = swgpu_open_render();
	b = make_buf(render, 8 * PAGE);

	/* fd's jobs queue behind a fence that render holds... */
	memset(b.map, 0x55, b.size);
	dmabuf = swgpu_prime_export(render, b.handle);
	handle = swgpu_prime_import(fd, dmabuf);
	fence = swgpu_fence_attach(render, b.handle, SWGPU_FENCE_WRITE);
	c = fill(handle, 0, 8 * PAGE, 0x66666666);
	for (int i = 0; i < 4; i++)
		out[i] = submit(fd, &c, 1);

	/* ...and fd goes away: they are cancelled without writing. */
	close(fd);
	for (int i = 0; i < 4; i++)
		igt_assert_eq(swgpu_fence_wait(out[i]), -ECANCELED);
	check_byte_range(b.map, 0, b.size, 0x55);
	/* Nothing the cancelled jobs took is left behind. */
	igt_assert_eq_u64(swgpu_obj_get(getpid(), b.handle).pinned, 0);
	swgpu_fence_signal(render, fence);

	close(dmabuf);
	free_buf(render, &b);
}

static void close_during_large_job(void)
{
	const uint64_t size = 64ull << 20;
	int fd = swgpu_open_render();
	uint32_t h = swgpu_gem_create(fd, size), mine;
	struct drm_swgpu_cmd c = fill(h, 0, size, 0x42424242);
	int dmabuf = swgpu_prime_export(fd, h), out, status;

	swgpu_require_debugfs();
	mine = swgpu_prime_import(render, dmabuf);
	out = submit(fd, &c, 1);
	close(fd);
	/* Finished before the close was seen, or stopped by it. */
	status = swgpu_fence_wait(out);
	igt_assert_f(status == 1 || status == -ECANCELED, "status %d\n", status);
	igt_assert_eq_u64(swgpu_obj_get(getpid(), mine).pinned, 0);
	swgpu_gem_close(render, mine);
	close(dmabuf);
}

struct thread_arg {
	int fd;
	int dmabuf;
	uint32_t handle;
	unsigned int index;
	int failures;
};

#define THREADS 4
#define JOBS_PER_THREAD 50

static void *thread_submit(void *data)
{
	struct thread_arg *t = data;

	for (unsigned int j = 0; j < JOBS_PER_THREAD; j++) {
		unsigned int slot = t->index * JOBS_PER_THREAD + j;
		struct drm_swgpu_cmd c = fill(t->handle, slot * 64ull, 64,
					      0x1000000u + slot);
		int out = -1;

		if (__submit(t->fd, &c, 1, SWGPU_SUBMIT_OUT_FENCE, -1, &out) ||
		    out < 0) {
			t->failures++;
			continue;
		}
		close(out);
	}
	return NULL;
}

static void many_threads(void)
{
	const uint64_t size = THREADS * JOBS_PER_THREAD * 64;
	struct buf b = make_buf(render, 4 * PAGE);
	struct thread_arg t[THREADS];
	pthread_t th[THREADS];
	struct drm_swgpu_cmd last = fill(b.handle, size, 1, 0);
	long done0, done1, bytes0, bytes1;

	swgpu_require_debugfs();
	igt_assert_lte(size + 1, b.size);
	done0 = swgpu_debugfs_engine("jobs_done");
	bytes0 = swgpu_debugfs_engine("bytes");
	memset(b.map, 0, b.size);
	for (int i = 0; i < THREADS; i++) {
		/* Each thread its own file: queues run side by side. */
		t[i] = (struct thread_arg){ .fd = swgpu_open_render(), .index = i };
		t[i].dmabuf = swgpu_prime_export(render, b.handle);
		t[i].handle = swgpu_prime_import(t[i].fd, t[i].dmabuf);
		igt_assert_eq(pthread_create(&th[i], NULL, thread_submit, &t[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		igt_assert_eq(pthread_join(th[i], NULL), 0);
		igt_assert_eq(t[i].failures, 0);
	}
	/* One write job after all: implicit sync orders it behind them. */
	igt_assert_eq(swgpu_fence_wait(submit(render, &last, 1)), 1);

	for (unsigned int slot = 0; slot < THREADS * JOBS_PER_THREAD; slot++)
		check_fill(b.map, slot * 64ull, 64, 0x1000000u + slot);
	done1 = swgpu_debugfs_engine("jobs_done");
	bytes1 = swgpu_debugfs_engine("bytes");
	igt_assert_eq(done1 - done0, THREADS * JOBS_PER_THREAD + 1);
	igt_assert_eq(bytes1 - bytes0, (long)size + 1);
	for (int i = 0; i < THREADS; i++) {
		close(t[i].dmabuf);
		close(t[i].fd);
	}
	free_buf(render, &b);
}

/* After a rejected submit: nothing changed, and the engine still works. */
static void expect_rejected(struct buf *b, struct drm_swgpu_cmd *cmds,
			    unsigned int n, uint32_t flags, int in_fence, int err)
{
	struct drm_swgpu_cmd ok = fill(b->handle, 0, PAGE, 0x3c3c3c3c);
	int out = -1;

	memset(b->map, 0x5a, b->size);
	igt_assert_eq(__submit(render, cmds, n, flags, in_fence, &out), err);
	igt_assert_eq(swgpu_fence_wait(submit(render, &ok, 1)), 1);
	check_fill(b->map, 0, PAGE, 0x3c3c3c3c);
	check_byte_range(b->map, PAGE, b->size - PAGE, 0x5a);
}

static void bad_input(void)
{
	struct buf b = make_buf(render, 4 * PAGE);
	struct drm_swgpu_cmd many[SWGPU_SUBMIT_MAX_CMDS + 1];
	struct drm_swgpu_cmd c;
	uint32_t h = b.handle;
	int pipefd[2];

	for (unsigned int i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = fill(h, PAGE, 4, 1);

	/* flags, batch size */
	c = fill(h, PAGE, 4, 1);
	expect_rejected(&b, &c, 1, 1u << 2, -1, -EINVAL);
	expect_rejected(&b, &c, 1, 1u << 31, -1, -EINVAL);
	expect_rejected(&b, &c, 0, 0, -1, -EINVAL);
	expect_rejected(&b, many, SWGPU_SUBMIT_MAX_CMDS + 1, 0, -1, -EINVAL);
	/* a good command ahead of a bad one changes nothing either */
	many[1] = fill(h, 4 * PAGE, 1, 1);
	expect_rejected(&b, many, 2, 0, -1, -EINVAL);

	/* ops and unused fields */
	c = fill(h, PAGE, 4, 1);
	c.op = 0;
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);
	c.op = 3;
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);
	c = fill(h, PAGE, 4, 1);
	c.src_handle = h;
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);
	c = fill(h, PAGE, 4, 1);
	c.src_offset = 8;
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);
	c = copy(h, PAGE, h, 2 * PAGE, 4);
	c.pattern = 1;
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);

	/* handles */
	c = fill(0, 0, 4, 1);
	expect_rejected(&b, &c, 1, 0, -1, -ENOENT);
	c = fill(h + 100, 0, 4, 1);
	expect_rejected(&b, &c, 1, 0, -1, -ENOENT);
	c = copy(h, PAGE, h + 100, 0, 4);
	expect_rejected(&b, &c, 1, 0, -1, -ENOENT);

	/* sizes and offsets */
	c = fill(h, PAGE, 0, 1);
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);
	c = fill(h, 4 * PAGE, 1, 1);
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);
	c = fill(h, PAGE, 3 * PAGE + 1, 1);
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);
	c = fill(h, ~0ull - 1, 4, 1);
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);
	c = copy(h, PAGE, h, ~0ull, 2);
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);
	c = copy(h, PAGE, h, 3 * PAGE + 1, PAGE);
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);

	/* overlapping copies within one object */
	c = copy(h, PAGE, h, PAGE + 1, 8);
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);
	c = copy(h, PAGE + 4, h, PAGE, 8);
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);
	c = copy(h, PAGE, h, PAGE, 1);
	expect_rejected(&b, &c, 1, 0, -1, -EINVAL);

	/* in-fences that are not sync_files */
	c = fill(h, PAGE, 4, 1);
	expect_rejected(&b, &c, 1, SWGPU_SUBMIT_IN_FENCE, -1, -EINVAL);
	igt_assert_eq(pipe(pipefd), 0);
	expect_rejected(&b, &c, 1, SWGPU_SUBMIT_IN_FENCE, pipefd[0], -EINVAL);
	close(pipefd[0]);
	close(pipefd[1]);

	/* a bad command pointer */
	{
		struct drm_swgpu_submit arg = { .cmds = 16, .num_cmds = 1 };

		do_ioctl_err(render, DRM_IOCTL_SWGPU_SUBMIT, &arg, EFAULT);
	}
	free_buf(render, &b);
}

igt_main
{
	igt_fixture {
		render = swgpu_open_render();
	}

	igt_describe("FILL at page boundaries and odd offsets and sizes "
		     "writes exactly its range.");
	igt_subtest("fill-ranges")
		fill_ranges();

	igt_describe("COPY at page boundaries and odd offsets and sizes "
		     "copies exactly its range.");
	igt_subtest("copy-ranges")
		copy_ranges();

	igt_describe("FILL and COPY on an object of huge pages, across huge "
		     "pages, windows and a half-populated huge page, write "
		     "exactly their ranges and leave nothing pinned.");
	igt_subtest("huge-ranges")
		huge_ranges();

	igt_describe("COPY between non-overlapping ranges of one object.");
	igt_subtest("copy-within-object")
		copy_within_object();

	igt_describe("Commands of a batch run in order.");
	igt_subtest("batch-order")
		batch_order();

	igt_describe("A batch of large commands runs on several CPUs and "
		     "still leaves what its commands in order leave.");
	igt_subtest("lanes-order")
		lanes_order();

	igt_describe("Jobs of one file run in order and signal in order.");
	igt_subtest("dependent-jobs")
		dependent_jobs();

	igt_describe("A job of another file reading a buffer waits for the "
		     "job writing it (implicit sync).");
	igt_subtest("cross-file-implicit-sync")
		cross_file_implicit_sync();

	igt_describe("A job waits for its in-fence.");
	igt_subtest("in-fence")
		in_fence();

	igt_describe("A job on a buffer with a pending vgem-style write "
		     "fence runs only after it is signalled.");
	igt_subtest("behind-user-fence")
		behind_user_fence();

	igt_describe("DMA_BUF_IOCTL_SYNC START waits for a running job.");
	igt_subtest("dmabuf-sync-waits-for-job")
		cpu_waits_for_job(true);

	igt_describe("CPU_ACCESS START waits for a running job.");
	igt_subtest("cpu-access-waits-for-job")
		cpu_waits_for_job(false);

	igt_describe("poll() on the dma-buf waits for a running job.");
	igt_subtest("poll-waits-for-job")
		poll_waits_for_job();

	igt_describe("Copies between swgpu and vgem buffers, both ways, and "
		     "fills into vgem's pages.");
	igt_subtest("vgem-copies")
		vgem_copies();

	igt_describe("A job and a CPU_ACCESS window beginning at once on each "
		     "of 128 new udmabufs: swgpu's begins never run together "
		     "in udmabuf's unlocked first begin (kmemleak on the debug "
		     "tier would show the table it leaks).");
	igt_subtest("udmabuf-first-begins")
		udmabuf_first_begins();

	igt_describe("A failed in-fence fails the job with its error; the "
		     "job writes nothing.");
	igt_subtest("in-fence-error")
		in_fence_error();

	igt_describe("Closing the fd cancels its queued jobs (ECANCELED) "
		     "without writing.");
	igt_subtest("close-with-jobs-in-flight")
		close_with_jobs_in_flight();

	igt_describe("Closing the fd during a 64 MiB job stops or finishes "
		     "it, leaving no pin behind.");
	igt_subtest("close-during-large-job")
		close_during_large_job();

	igt_describe("Many jobs from many threads: none lost or doubled; "
		     "debugfs counts them and their bytes.");
	igt_subtest("many-threads")
		many_threads();

	igt_describe("Bad flags, sizes, ops, fields, handles, offsets, "
		     "overlaps, in-fences and pointers are refused with no "
		     "effect.");
	igt_subtest("bad-input")
		bad_input();

	igt_fixture
		close(render);
}
