// SPDX-License-Identifier: MIT
/*
 * swgpu_engine_sync - SUBMIT with DRM syncobjs (binary and timeline
 * points, waited for and signalled), and the job timeout: a job whose
 * fences never signal, or that hangs, ends with -ETIMEDOUT and the engine
 * goes on.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("swgpu's engine with DRM syncobjs, and its job timeout");

#define PAGE 4096u

static int render = -1;

struct buf {
	uint32_t handle;
	uint64_t size;
	uint8_t *map;
};

static struct buf make_buf(int fd, uint64_t size, uint8_t fill)
{
	struct buf b = { .size = size };

	b.handle = swgpu_gem_create(fd, size);
	b.map = swgpu_gem_mmap(fd, b.handle, size, PROT_READ | PROT_WRITE);
	memset(b.map, fill, size);
	return b;
}

static void free_buf(int fd, struct buf *b)
{
	munmap(b->map, b->size);
	swgpu_gem_close(fd, b->handle);
}

static struct drm_swgpu_cmd fill(uint32_t dst, uint64_t len, uint32_t pattern)
{
	return (struct drm_swgpu_cmd){ .op = SWGPU_CMD_FILL, .pattern = pattern,
				       .dst_handle = dst, .length = len };
}

static void check_bytes(const struct buf *b, uint8_t value)
{
	for (uint64_t i = 0; i < b->size; i++)
		igt_assert_f(b->map[i] == value, "byte %llu is %#x, not %#x\n",
			     (unsigned long long)i, b->map[i], value);
}

static void check_filled(const struct buf *b, uint32_t pattern)
{
	for (uint64_t i = 0; i < b->size; i++)
		igt_assert_eq(b->map[i], swgpu_fill_byte(pattern, i));
}

struct syncs {
	struct drm_swgpu_sync in[4], out[4];
	unsigned int nin, nout;
};

static int __submit_syncs(int fd, struct drm_swgpu_cmd *c, const struct syncs *s,
			  int *out_fence)
{
	struct drm_swgpu_submit arg = {
		.cmds = (uintptr_t)c, .num_cmds = 1,
		.flags = out_fence ? SWGPU_SUBMIT_OUT_FENCE : 0,
		.in_fence_fd = -1, .out_fence_fd = -1,
		.in_syncs = (uintptr_t)s->in, .num_in_syncs = s->nin,
		.out_syncs = (uintptr_t)s->out, .num_out_syncs = s->nout,
	};

	if (igt_ioctl(fd, DRM_IOCTL_SWGPU_SUBMIT, &arg))
		return -errno;
	if (out_fence)
		*out_fence = arg.out_fence_fd;
	return 0;
}

static int submit_syncs(int fd, struct drm_swgpu_cmd *c, const struct syncs *s)
{
	int out = -1;

	igt_assert_eq(__submit_syncs(fd, c, s, &out), 0);
	return out;
}

static struct drm_swgpu_sync sync_of(uint32_t handle, uint64_t point)
{
	return (struct drm_swgpu_sync){ .handle = handle, .point = point };
}

/* ---- syncobjs, by the DRM core's own ioctls ---- */

static uint32_t syncobj_create(int fd)
{
	struct drm_syncobj_create arg = {};

	do_ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &arg);
	return arg.handle;
}

static void syncobj_destroy(int fd, uint32_t handle)
{
	struct drm_syncobj_destroy arg = { .handle = handle };

	do_ioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &arg);
}

/* Wait for a point (0: binary) with an absolute timeout; -errno or 0. */
static int __syncobj_wait(int fd, uint32_t handle, uint64_t point,
			  int64_t timeout)
{
	struct drm_syncobj_timeline_wait arg = {
		.handles = (uintptr_t)&handle, .points = (uintptr_t)&point,
		.timeout_nsec = timeout, .count_handles = 1,
		.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
	};

	return igt_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &arg) ? -errno : 0;
}

static bool syncobj_signalled(int fd, uint32_t handle, uint64_t point)
{
	int ret = __syncobj_wait(fd, handle, point, 0);

	igt_assert_f(ret == 0 || ret == -ETIME, "wait: %d\n", ret);
	return ret == 0;
}

static void syncobj_wait(int fd, uint32_t handle, uint64_t point)
{
	igt_assert_eq(__syncobj_wait(fd, handle, point, INT64_MAX), 0);
}

static uint64_t syncobj_query(int fd, uint32_t handle, uint32_t flags)
{
	uint64_t point = 0;
	struct drm_syncobj_timeline_array arg = {
		.handles = (uintptr_t)&handle, .points = (uintptr_t)&point,
		.count_handles = 1, .flags = flags,
	};

	do_ioctl(fd, DRM_IOCTL_SYNCOBJ_QUERY, &arg);
	return point;
}

/* A binary syncobj's fence as a sync_file; -errno without a fence. */
static int __syncobj_export(int fd, uint32_t handle, int *sync_file)
{
	struct drm_syncobj_handle arg = {
		.handle = handle, .fd = -1,
		.flags = DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
	};

	if (igt_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &arg))
		return -errno;
	*sync_file = arg.fd;
	return 0;
}

/* The same syncobj in another DRM file, as clients share them. */
static uint32_t syncobj_share(int from, uint32_t handle, int to)
{
	struct drm_syncobj_handle arg = { .handle = handle, .fd = -1 };

	do_ioctl(from, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &arg);
	arg.handle = 0;
	do_ioctl(to, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &arg);
	close(arg.fd);
	return arg.handle;
}

static void syncobj_import(int fd, uint32_t handle, int sync_file)
{
	struct drm_syncobj_handle arg = {
		.handle = handle, .fd = sync_file,
		.flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
	};

	do_ioctl(fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &arg);
}

/*
 * Give a job that is not blocked every chance to run: another file runs
 * a large job to completion meanwhile. One still pending after this is
 * waiting for something.
 */
static void let_engine_run(void)
{
	int fd = swgpu_open_render();
	struct buf b = make_buf(fd, 1024 * PAGE, 0);
	struct drm_swgpu_cmd c = fill(b.handle, b.size, 0x13579bdf);
	struct syncs none = {};

	igt_assert_eq(swgpu_fence_wait(submit_syncs(fd, &c, &none)), 1);
	free_buf(fd, &b);
	close(fd);
}

/* A buffer held by a FENCE_ATTACH writer: jobs on it wait for @fence. */
struct blocked {
	struct buf b;
	uint32_t fence;
};

static struct blocked make_blocked(int fd, uint8_t fill)
{
	struct blocked x = { .b = make_buf(fd, 4 * PAGE, fill) };

	x.fence = swgpu_fence_attach(fd, x.b.handle, SWGPU_FENCE_WRITE);
	return x;
}

/* ---- subtests ---- */

static void syncobj_signal(void)
{
	struct buf b = make_buf(render, 8 * PAGE, 0x11);
	struct drm_swgpu_cmd c = fill(b.handle, b.size, 0x2468ace0);
	uint32_t bin = syncobj_create(render), tl = syncobj_create(render);
	struct syncs s = { .out = { sync_of(bin, 0), sync_of(tl, 7) }, .nout = 2 };
	int out = submit_syncs(render, &c, &s);

	syncobj_wait(render, bin, 0);
	syncobj_wait(render, tl, 7);
	igt_assert_eq(swgpu_fence_wait(out), 1);
	check_filled(&b, 0x2468ace0);
	igt_assert_eq_u64(syncobj_query(render, tl, 0), 7);

	syncobj_destroy(render, bin);
	syncobj_destroy(render, tl);
	free_buf(render, &b);
}

static void syncobj_wait_for(void)
{
	struct blocked x = make_blocked(render, 0x22);
	struct buf y = make_buf(render, 4 * PAGE, 0x33);
	struct buf z = make_buf(render, 4 * PAGE, 0x44);
	uint32_t bin = syncobj_create(render), tl = syncobj_create(render);
	struct drm_swgpu_cmd cx = fill(x.b.handle, x.b.size, 0x01010101);
	struct drm_swgpu_cmd cy = fill(y.handle, y.size, 0x02020202);
	struct drm_swgpu_cmd cz = fill(z.handle, z.size, 0x03030303);
	struct syncs sx = { .out = { sync_of(bin, 0), sync_of(tl, 2) }, .nout = 2 };
	struct syncs sy = { .nin = 1 }, sz = { .nin = 1 };
	int fd = swgpu_open_render();
	int dy = swgpu_prime_export(render, y.handle);
	int dz = swgpu_prime_export(render, z.handle);
	int ox, oy, oz;

	/*
	 * y's and z's jobs are another file's, so only the syncobjs order
	 * them after x's: no buffer links them, and files are not ordered.
	 */
	cy.dst_handle = swgpu_prime_import(fd, dy);
	cz.dst_handle = swgpu_prime_import(fd, dz);
	sy.in[0] = sync_of(syncobj_share(render, bin, fd), 0);
	sz.in[0] = sync_of(syncobj_share(render, tl, fd), 2);

	ox = submit_syncs(render, &cx, &sx);
	oy = submit_syncs(fd, &cy, &sy);
	oz = submit_syncs(fd, &cz, &sz);

	let_engine_run();
	igt_assert(!syncobj_signalled(render, bin, 0));
	igt_assert_eq(swgpu_sync_file_status(oy), 0);
	igt_assert_eq(swgpu_sync_file_status(oz), 0);
	check_bytes(&y, 0x33);
	check_bytes(&z, 0x44);

	swgpu_fence_signal(render, x.fence);
	igt_assert_eq(swgpu_fence_wait(ox), 1);
	igt_assert_eq(swgpu_fence_wait(oy), 1);
	igt_assert_eq(swgpu_fence_wait(oz), 1);
	check_filled(&x.b, 0x01010101);
	check_filled(&y, 0x02020202);
	check_filled(&z, 0x03030303);

	close(fd);
	close(dy);
	close(dz);
	syncobj_destroy(render, bin);
	syncobj_destroy(render, tl);
	free_buf(render, &x.b);
	free_buf(render, &y);
	free_buf(render, &z);
}

/*
 * Points signalled out of order: a lower point submitted later does not
 * overtake the higher one still running, as the DRM core orders timeline
 * points (DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL adds them the same way).
 */
static void syncobj_timeline_order(void)
{
	struct blocked x = make_blocked(render, 0x55);
	struct buf y = make_buf(render, 4 * PAGE, 0x66);
	uint32_t tl = syncobj_create(render);
	struct drm_swgpu_cmd cx = fill(x.b.handle, x.b.size, 0x0a0a0a0a);
	struct drm_swgpu_cmd cy = fill(y.handle, y.size, 0x0b0b0b0b);
	struct syncs sx = { .out = { sync_of(tl, 5) }, .nout = 1 };
	struct syncs sy = { .nout = 1 };
	int fd = swgpu_open_render();
	int dy = swgpu_prime_export(render, y.handle);
	int ox, oy;

	cy.dst_handle = swgpu_prime_import(fd, dy);
	sy.out[0] = sync_of(syncobj_share(render, tl, fd), 3);
	ox = submit_syncs(render, &cx, &sx);
	oy = submit_syncs(fd, &cy, &sy);

	/* y's job ran; its point waits for x's, which waits for its fence. */
	igt_assert_eq(swgpu_fence_wait(oy), 1);
	check_filled(&y, 0x0b0b0b0b);
	igt_assert_eq_u64(syncobj_query(render, tl,
					DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED), 5);
	igt_assert(!syncobj_signalled(render, tl, 3));
	igt_assert(!syncobj_signalled(render, tl, 5));
	check_bytes(&x.b, 0x55);

	swgpu_fence_signal(render, x.fence);
	igt_assert_eq(swgpu_fence_wait(ox), 1);
	syncobj_wait(render, tl, 5);
	igt_assert(syncobj_signalled(render, tl, 3));
	igt_assert_eq_u64(syncobj_query(render, tl, 0), 5);
	check_filled(&x.b, 0x0a0a0a0a);

	close(fd);
	close(dy);
	syncobj_destroy(render, tl);
	free_buf(render, &x.b);
	free_buf(render, &y);
}

/* An in-syncobj whose fence failed fails the job, which writes nothing. */
static void syncobj_in_error(void)
{
	struct buf g = make_buf(render, PAGE, 0), b = make_buf(render, 4 * PAGE, 0x77);
	unsigned int saved = swgpu_fence_timeout_ms();
	struct drm_swgpu_cmd c = fill(b.handle, b.size, 0x0c0c0c0c);
	uint32_t in = syncobj_create(render), out = syncobj_create(render);
	struct syncs s = { .in = { sync_of(in, 0) }, .nin = 1,
			   .out = { sync_of(out, 0) }, .nout = 1 };
	struct dma_buf_export_sync_file sf = { .flags = DMA_BUF_SYNC_WRITE };
	int dmabuf = swgpu_prime_export(render, g.handle), o, sfd;

	/* A user fence that expires with -ETIMEDOUT, into a syncobj. */
	swgpu_set_fence_timeout_ms(100);
	swgpu_fence_attach(render, g.handle, SWGPU_FENCE_WRITE);
	swgpu_set_fence_timeout_ms(saved);
	igt_require_f(ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &sf) == 0,
		      "no DMA_BUF_IOCTL_EXPORT_SYNC_FILE\n");
	syncobj_import(render, in, sf.fd);
	close(sf.fd);

	o = submit_syncs(render, &c, &s);
	igt_assert_eq(swgpu_fence_wait(o), -ETIMEDOUT);
	check_bytes(&b, 0x77);
	/* The out-syncobj holds the job's fence, with its error. */
	igt_assert_eq(__syncobj_export(render, out, &sfd), 0);
	igt_assert_eq(swgpu_fence_wait(sfd), -ETIMEDOUT);

	close(dmabuf);
	syncobj_destroy(render, in);
	syncobj_destroy(render, out);
	free_buf(render, &g);
	free_buf(render, &b);
}

/*
 * A rejected SUBMIT: the documented errno, the buffer as it was, the
 * out-syncobjs before the bad entry untouched, and the engine still works.
 */
static void expect_rejected(struct buf *b, struct drm_swgpu_submit *arg,
			    uint32_t witness, int err)
{
	struct drm_swgpu_cmd c = fill(b->handle, b->size, 0x3c3c3c3c);
	struct syncs none = {};
	int sfd;

	memset(b->map, 0x5a, b->size);
	arg->cmds = (uintptr_t)&c;
	arg->num_cmds = 1;
	igt_assert_eq(igt_ioctl(render, DRM_IOCTL_SWGPU_SUBMIT, arg) ? -errno : 0,
		      err);
	check_bytes(b, 0x5a);
	igt_assert_eq(__syncobj_export(render, witness, &sfd), -EINVAL);
	igt_assert_eq(swgpu_fence_wait(submit_syncs(render, &c, &none)), 1);
	check_filled(b, 0x3c3c3c3c);
}

static void syncobj_bad_input(void)
{
	struct buf b = make_buf(render, PAGE, 0);
	uint32_t witness = syncobj_create(render), empty = syncobj_create(render);
	uint32_t tl = syncobj_create(render), signalled = syncobj_create(render);
	struct drm_swgpu_sync many[SWGPU_SUBMIT_MAX_SYNCS + 1];
	struct drm_swgpu_sync in[2], out[2];
	struct drm_swgpu_submit arg;
	struct drm_syncobj_timeline_array ts = {
		.handles = (uintptr_t)&tl, .points = (uintptr_t)&(uint64_t){ 1 },
		.count_handles = 1,
	};
	struct drm_syncobj_array sig = { .handles = (uintptr_t)&signalled,
					 .count_handles = 1 };

	do_ioctl(render, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &ts);
	do_ioctl(render, DRM_IOCTL_SYNCOBJ_SIGNAL, &sig);
	for (unsigned int i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = sync_of(signalled, 0);

#define REJECT(nin_, in_, nout_, out_, err_) do { \
	arg = (struct drm_swgpu_submit){ .in_fence_fd = -1, .out_fence_fd = -1, \
		.in_syncs = (uintptr_t)(in_), .num_in_syncs = (nin_), \
		.out_syncs = (uintptr_t)(out_), .num_out_syncs = (nout_) }; \
	expect_rejected(&b, &arg, witness, (err_)); \
} while (0)

	/* too many */
	REJECT(SWGPU_SUBMIT_MAX_SYNCS + 1, many, 0, NULL, -EINVAL);
	out[0] = sync_of(witness, 0);
	REJECT(0, NULL, SWGPU_SUBMIT_MAX_SYNCS + 1, many, -EINVAL);
	/* flags */
	in[0] = sync_of(signalled, 0);
	in[0].flags = 1;
	REJECT(1, in, 1, out, -EINVAL);
	out[1] = sync_of(signalled, 0);
	out[1].flags = 1u << 31;
	REJECT(0, NULL, 2, out, -EINVAL);
	/* handles */
	in[0] = sync_of(0, 0);
	REJECT(1, in, 1, out, -ENOENT);
	in[0] = sync_of(tl + 100, 0);
	REJECT(1, in, 1, out, -ENOENT);
	out[1] = sync_of(tl + 100, 0);
	REJECT(0, NULL, 2, out, -ENOENT);
	/* in-syncs without a fence: never signalled, point not submitted */
	in[0] = sync_of(empty, 0);
	REJECT(1, in, 1, out, -EINVAL);
	in[0] = sync_of(tl, 2);
	REJECT(1, in, 1, out, -EINVAL);
	/* a good in-sync ahead of a bad one changes nothing either */
	in[0] = sync_of(tl, 1);
	in[1] = sync_of(empty, 0);
	REJECT(2, in, 1, out, -EINVAL);
	/* bad pointers */
	REJECT(1, 16, 1, out, -EFAULT);
	REJECT(0, NULL, 1, 16, -EFAULT);
#undef REJECT

	/* The timeline is as it was: its one point, signalled. */
	igt_assert_eq_u64(syncobj_query(render, tl, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED), 1);
	syncobj_destroy(render, witness);
	syncobj_destroy(render, empty);
	syncobj_destroy(render, tl);
	syncobj_destroy(render, signalled);
	free_buf(render, &b);
}

/*
 * A job whose fence never signals (a user fence that outlives the job
 * timeout) ends with -ETIMEDOUT, writes nothing, and the engine and the
 * fence go on.
 */
static void timeout_waiting(void)
{
	unsigned int saved_fence = swgpu_fence_timeout_ms();
	unsigned int saved_job = swgpu_job_timeout_ms();
	struct blocked x;
	struct drm_swgpu_cmd c;
	struct syncs none = {};
	int out;

	swgpu_set_fence_timeout_ms(600000);
	x = make_blocked(render, 0x12);
	swgpu_set_fence_timeout_ms(saved_fence);
	swgpu_set_job_timeout_ms(200);
	c = fill(x.b.handle, x.b.size, 0x0d0d0d0d);
	out = submit_syncs(render, &c, &none);
	swgpu_set_job_timeout_ms(saved_job);

	igt_assert_eq(swgpu_fence_wait(out), -ETIMEDOUT);
	check_bytes(&x.b, 0x12);
	/* The user fence was still pending: this signals it. */
	igt_assert_eq(__swgpu_fence_signal(render, x.fence), 0);
	out = submit_syncs(render, &c, &none);
	igt_assert_eq(swgpu_fence_wait(out), 1);
	check_filled(&x.b, 0x0d0d0d0d);
	free_buf(render, &x.b);
}

/* A job that hangs while running ends with -ETIMEDOUT; the engine goes on. */
static void timeout_hung_job(void)
{
	unsigned int saved = swgpu_job_timeout_ms();
	struct buf b = make_buf(render, 4 * PAGE, 0x21);
	struct drm_swgpu_cmd c = fill(b.handle, b.size, 0x0e0e0e0e);
	struct syncs none = {};
	long timedout;
	int out;

	swgpu_require_debugfs();
	timedout = swgpu_debugfs_engine("jobs_timedout");
	swgpu_set_job_timeout_ms(200);
	swgpu_engine_hang_next();
	out = submit_syncs(render, &c, &none);
	igt_assert_eq(swgpu_fence_wait(out), -ETIMEDOUT);
	swgpu_set_job_timeout_ms(saved);

	check_bytes(&b, 0x21);
	igt_assert_eq(swgpu_debugfs_engine("jobs_timedout"), timedout + 1);
	igt_assert_eq(swgpu_fence_wait(submit_syncs(render, &c, &none)), 1);
	check_filled(&b, 0x0e0e0e0e);
	free_buf(render, &b);
}

/* With no timeout, a hung job is still cancelled by closing its file. */
static void hung_job_close(void)
{
	unsigned int saved = swgpu_job_timeout_ms();
	int fd = swgpu_open_render();
	struct buf b = make_buf(fd, 4 * PAGE, 0x31);
	struct drm_swgpu_cmd c = fill(b.handle, b.size, 0x0f0f0f0f);
	struct syncs none = {};
	struct timespec start = {};
	long running;
	int out;

	swgpu_require_debugfs();
	running = swgpu_debugfs_engine("running");
	swgpu_set_job_timeout_ms(0);
	swgpu_engine_hang_next();
	out = submit_syncs(fd, &c, &none);
	swgpu_set_job_timeout_ms(saved);
	/* Close it once it hangs on the ring, not before it got there. */
	igt_nsec_elapsed(&start);
	while (swgpu_debugfs_engine("running") == running &&
	       igt_nsec_elapsed(&start) < 10000000000ull)
		sched_yield();
	igt_assert_eq(swgpu_debugfs_engine("running"), running + 1);
	igt_assert_eq(swgpu_debugfs_engine("hang_next"), 0);
	igt_assert_eq(swgpu_sync_file_status(out), 0);
	munmap(b.map, b.size);
	close(fd);
	igt_assert_eq(swgpu_fence_wait(out), -ECANCELED);
}

igt_main
{
	igt_fixture {
		render = swgpu_open_render();
	}

	igt_describe("A job signals binary syncobjs and timeline points.");
	igt_subtest("syncobj-signal")
		syncobj_signal();

	igt_describe("A job waits for binary syncobjs and timeline points "
		     "shared with another file.");
	igt_subtest("syncobj-wait")
		syncobj_wait_for();

	igt_describe("A lower timeline point signalled later does not "
		     "overtake a higher one still running.");
	igt_subtest("syncobj-timeline-order")
		syncobj_timeline_order();

	igt_describe("An in-syncobj whose fence failed fails the job, which "
		     "writes nothing; its out-syncobj carries the error.");
	igt_subtest("syncobj-in-error")
		syncobj_in_error();

	igt_describe("Bad syncobj arrays, handles, flags, points and pointers "
		     "get their errno and change nothing.");
	igt_subtest("syncobj-bad-input")
		syncobj_bad_input();

	igt_describe("A job whose fence outlives job_timeout_ms ends with "
		     "ETIMEDOUT, writing nothing; the engine goes on.");
	igt_subtest("timeout-waiting")
		timeout_waiting();

	igt_describe("A job that hangs (debugfs fault injection) ends with "
		     "ETIMEDOUT; the engine goes on.");
	igt_subtest("timeout-hung-job")
		timeout_hung_job();

	igt_describe("Without a timeout, closing the file cancels a hung job.");
	igt_subtest("hung-job-close")
		hung_job_close();

	igt_fixture {
		close(render);
	}
}
