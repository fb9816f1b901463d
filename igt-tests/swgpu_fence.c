// SPDX-License-Identifier: MIT
/*
 * swgpu_fence - vgem-compatible fences (FENCE_ATTACH / FENCE_SIGNAL) and
 * the implicit synchronisation they drive: poll on dma-bufs, sync_file
 * export, DMA_BUF_IOCTL_SYNC, CPU_ACCESS, and fences shared with vgem.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("vgem-compatible fences and implicit sync on swgpu");


static int render = -1;

/* Which of @events are ready on @fd right now, without waiting. */
static short ready_now(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	igt_assert_lte(0, poll(&p, 1, 0));
	return p.revents & events;
}

/* Block until @events are ready; returns them. */
static short wait_ready(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	igt_assert_eq(poll(&p, 1, -1), 1);
	return p.revents & events;
}

static uint32_t create(uint64_t size)
{
	return swgpu_gem_create(render, size);
}

static int export_sync_file(int dmabuf, uint32_t flags)
{
	struct dma_buf_export_sync_file arg = { .flags = flags, .fd = -1 };

	if (ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg))
		return -errno;
	return arg.fd;
}

static void attach_signal(uint32_t flags)
{
	uint32_t handle = create(4096);
	uint32_t a, b;

	a = swgpu_fence_attach(render, handle, flags);
	swgpu_fence_signal(render, a);
	b = swgpu_fence_attach(render, handle, flags);
	/* Ids are never reused by the same file. */
	igt_assert_lt_u32(a, b);
	swgpu_fence_signal(render, b);
	swgpu_gem_close(render, handle);
}

static void poll_write_fence(bool export_first)
{
	uint32_t handle = create(4096), fence;
	int dmabuf = -1;

	if (export_first)
		dmabuf = swgpu_prime_export(render, handle);
	fence = swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE);
	if (!export_first)
		dmabuf = swgpu_prime_export(render, handle);

	/* A writer blocks readers (POLLIN) and writers (POLLOUT). */
	igt_assert_eq(ready_now(dmabuf, POLLIN | POLLOUT), 0);
	swgpu_fence_signal(render, fence);
	igt_assert_eq(ready_now(dmabuf, POLLIN | POLLOUT), POLLIN | POLLOUT);

	close(dmabuf);
	swgpu_gem_close(render, handle);
}

static void poll_read_fence(void)
{
	uint32_t handle = create(4096), fence;
	int dmabuf = swgpu_prime_export(render, handle);

	/* A reader blocks only writers. */
	fence = swgpu_fence_attach(render, handle, 0);
	igt_assert_eq(ready_now(dmabuf, POLLIN | POLLOUT), POLLIN);
	swgpu_fence_signal(render, fence);
	igt_assert_eq(ready_now(dmabuf, POLLOUT), POLLOUT);

	close(dmabuf);
	swgpu_gem_close(render, handle);
}

static void conflicts(void)
{
	uint32_t handle = create(4096), w, r1, r2, out;

	w = swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE);
	igt_assert_eq(__swgpu_fence_attach(render, handle, 0, &out), -EBUSY);
	igt_assert_eq(__swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE,
					   &out), -EBUSY);
	swgpu_fence_signal(render, w);

	r1 = swgpu_fence_attach(render, handle, 0);
	r2 = swgpu_fence_attach(render, handle, 0);
	igt_assert_eq(__swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE,
					   &out), -EBUSY);
	swgpu_fence_signal(render, r1);
	igt_assert_eq(__swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE,
					   &out), -EBUSY);
	swgpu_fence_signal(render, r2);

	w = swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE);
	swgpu_fence_signal(render, w);
	swgpu_gem_close(render, handle);
}

static void expiry(void)
{
	unsigned int saved = swgpu_fence_timeout_ms();
	uint32_t handle, fence;
	int dmabuf, sf;

	swgpu_set_fence_timeout_ms(200);
	handle = create(4096);
	dmabuf = swgpu_prime_export(render, handle);
	fence = swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE);
	swgpu_set_fence_timeout_ms(saved);

	sf = export_sync_file(dmabuf, DMA_BUF_SYNC_READ);
	igt_require_f(sf >= 0, "no DMA_BUF_IOCTL_EXPORT_SYNC_FILE\n");

	/* Nobody signals it: poll returns when it expires by itself. */
	igt_assert_eq(wait_ready(dmabuf, POLLIN), POLLIN);
	igt_assert_eq(swgpu_sync_file_status(sf), -ETIMEDOUT);
	igt_assert_eq(__swgpu_fence_signal(render, fence), -ETIMEDOUT);
	/* The late signal consumed it. */
	igt_assert_eq(__swgpu_fence_signal(render, fence), -ENOENT);

	close(sf);
	close(dmabuf);
	swgpu_gem_close(render, handle);
}

/* Iterations of signal-races-expiry, and the wall-clock budget for them. */
#define RACE_ROUNDS		20000
#define RACE_BUDGET_NS		(30ull * 1000000000ull)
/* Every RACE_JOB_EVERY-th round, an engine job waits on the fence too. */
#define RACE_JOB_EVERY		4

struct race_result {
	unsigned long rounds, signalled, expired, expired_early, jobs;
	/* The first disagreement or failure, if any. */
	unsigned long bad_round;
	int bad_ret, bad_status, bad_job;
	const char *bad;
};

/* SYNC_IOC_FILE_INFO's status, or INT_MIN if the ioctl itself failed. */
static int race_status(int fd)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, SYNC_IOC_FILE_INFO, &info))
		return INT_MIN;
	return info.status;
}

/* Wait for a job's out-fence, then its status as race_status(). */
static int race_job_status(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int status;

	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	status = race_status(fd);
	close(fd);
	return status;
}

static int submit_fill_after(uint32_t dst, int in_fence)
{
	struct drm_swgpu_cmd cmd = {
		.op = SWGPU_CMD_FILL, .pattern = 0x5a5a5a5a,
		.dst_handle = dst, .length = 4,
	};
	struct drm_swgpu_submit arg = {
		.cmds = (uintptr_t)&cmd, .num_cmds = 1,
		.flags = SWGPU_SUBMIT_IN_FENCE | SWGPU_SUBMIT_OUT_FENCE,
		.in_fence_fd = in_fence, .out_fence_fd = -1,
	};

	if (ioctl(render, DRM_IOCTL_SWGPU_SUBMIT, &arg))
		return -errno;
	return arg.out_fence_fd;
}

/*
 * One fence per round, with fence_timeout_ms at 1: FENCE_SIGNAL lands
 * sometimes before the expiry timer, sometimes after, and now and then
 * while it runs. Nothing here asserts (the parameter must be restored
 * first): the rounds stop at the first disagreement or failure, recorded
 * in @r.
 */
static void race_rounds(uint32_t handle, int dmabuf, uint32_t dst,
			struct race_result *r)
{
	struct timespec start = {};
	unsigned long spin = 0;

	igt_nsec_elapsed(&start);
	for (r->rounds = 0; r->rounds < RACE_ROUNDS &&
	     igt_nsec_elapsed(&start) < RACE_BUDGET_NS; r->rounds++) {
		int ret, status, job = -1, job_status = 0;
		uint32_t fence;
		int sf;

		ret = __swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE,
					   &fence);
		sf = ret ? ret : export_sync_file(dmabuf, DMA_BUF_SYNC_READ);
		if (sf < 0) {
			r->bad = "FENCE_ATTACH or the sync_file export failed";
			r->bad_round = r->rounds;
			r->bad_ret = sf;
			break;
		}
		/*
		 * A fence that expired before the export is not in the
		 * sync_file (which then holds a signalled stub): the signal
		 * can only find it expired, and there is nothing to compare.
		 */
		status = race_status(sf);
		if (status != 0) {
			close(sf);
			ret = __swgpu_fence_signal(render, fence);
			if (ret != -ETIMEDOUT) {
				r->bad = "the fence was signalled before FENCE_SIGNAL, which did not return ETIMEDOUT";
				r->bad_round = r->rounds;
				r->bad_ret = ret;
				r->bad_status = status;
				break;
			}
			r->expired_early++;
			spin -= spin / 8 + !!spin;
			continue;
		}
		if (r->rounds % RACE_JOB_EVERY == 0) {
			job = submit_fill_after(dst, sf);
			if (job < 0) {
				close(sf);
				r->bad = "SUBMIT of the job waiting on the fence failed";
				r->bad_round = r->rounds;
				r->bad_job = job;
				break;
			}
		}
		/*
		 * Not a wait: a varying amount of work, so that the signal
		 * moves across the timer's expiry from round to round.
		 */
		for (unsigned long i = 0; i < spin; i++)
			getppid();

		ret = __swgpu_fence_signal(render, fence);
		/* Signalled either way once the ioctl returned: no wait. */
		status = race_status(sf);
		close(sf);
		if (job >= 0) {
			job_status = race_job_status(job);
			r->jobs++;
		}

		if (ret == 0 && status == 1 && (job < 0 || job_status == 1)) {
			r->signalled++;
			spin += 1 + spin / 8;
		} else if (ret == -ETIMEDOUT && status == -ETIMEDOUT &&
			   (job < 0 || job_status == -ETIMEDOUT)) {
			r->expired++;
			spin -= spin / 8 + !!spin;
		} else {
			r->bad = "FENCE_SIGNAL's answer and the fence disagree";
			r->bad_round = r->rounds;
			r->bad_ret = ret;
			r->bad_status = status;
			r->bad_job = job < 0 ? job : job_status;
			break;
		}
	}
}

/*
 * FENCE_SIGNAL's answer and the fence's own end must agree: 0 and a
 * fence signalled without error, or -ETIMEDOUT and a fence that expired
 * with -ETIMEDOUT, which engine jobs waiting on it inherit. A signal
 * racing with the expiry must not report success for a fence that
 * expired.
 */
static void signal_races_expiry(void)
{
	unsigned int saved = swgpu_fence_timeout_ms();
	uint32_t handle = create(4096), dst = create(4096);
	int dmabuf = swgpu_prime_export(render, handle), sf;
	struct race_result r = {};

	/* The one capability the rounds need, checked before they start. */
	sf = export_sync_file(dmabuf, DMA_BUF_SYNC_READ);
	igt_require_f(sf >= 0, "no DMA_BUF_IOCTL_EXPORT_SYNC_FILE (%d)\n", sf);
	close(sf);

	swgpu_set_fence_timeout_ms(1);
	race_rounds(handle, dmabuf, dst, &r);
	swgpu_set_fence_timeout_ms(saved);

	igt_info("%lu rounds: %lu signalled, %lu expired first, %lu expired before the sync_file export; %lu engine jobs waited on the fence\n",
		 r.rounds, r.signalled, r.expired, r.expired_early, r.jobs);
	igt_assert_f(!r.bad,
		     "round %lu: %s: FENCE_SIGNAL returned %d, the fence's status is %d, a job waiting on it ended with %d\n",
		     r.bad_round, r.bad, r.bad_ret, r.bad_status, r.bad_job);
	igt_assert_lt(0, r.rounds);

	close(dmabuf);
	swgpu_gem_close(render, dst);
	swgpu_gem_close(render, handle);
}

static void sync_file_export(void)
{
	uint32_t handle = create(4096), fence;
	int dmabuf = swgpu_prime_export(render, handle);
	int sf;

	fence = swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE);
	sf = export_sync_file(dmabuf, DMA_BUF_SYNC_READ);
	igt_require_f(sf >= 0, "no DMA_BUF_IOCTL_EXPORT_SYNC_FILE (%d)\n", sf);

	igt_assert_eq(ready_now(sf, POLLIN), 0);
	igt_assert_eq(swgpu_sync_file_status(sf), 0);
	swgpu_fence_signal(render, fence);
	igt_assert_eq(ready_now(sf, POLLIN), POLLIN);
	igt_assert_eq(swgpu_sync_file_status(sf), 1);

	close(sf);
	close(dmabuf);
	swgpu_gem_close(render, handle);
}

/*
 * Start a CPU access (by @how) while a write fence is pending that only
 * its expiry will signal. When the call returns the fence must be
 * signalled, or the call did not wait for it.
 */
static void cpu_access_waits(bool dmabuf_sync)
{
	unsigned int saved = swgpu_fence_timeout_ms(), ms;
	uint32_t handle;
	int dmabuf, sf;

	/*
	 * The fence must still be pending when the access starts, or the
	 * test shows nothing. A slow guest (the debug tier on a busy host)
	 * can spend the whole timeout between the attach and here: then
	 * try again with twice the time, up to a minute.
	 */
	for (ms = 200; ; ms *= 2) {
		igt_assert_f(ms <= 60000,
			     "a fence expired before the next ioctl even at %u ms\n", ms / 2);
		swgpu_set_fence_timeout_ms(ms);
		handle = create(4 * 4096);
		dmabuf = swgpu_prime_export(render, handle);
		swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE);
		swgpu_set_fence_timeout_ms(saved);

		sf = export_sync_file(dmabuf, DMA_BUF_SYNC_READ);
		igt_require_f(sf >= 0, "no DMA_BUF_IOCTL_EXPORT_SYNC_FILE\n");
		if (swgpu_sync_file_status(sf) == 0)
			break;
		close(sf);
		close(dmabuf);
		swgpu_gem_close(render, handle);
	}

	if (dmabuf_sync) {
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		igt_assert_neq(swgpu_sync_file_status(sf), 0);
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	} else {
		struct drm_swgpu_cpu_access arg = {
			.handle = handle, .flags = SWGPU_CPU_ACCESS_READ,
			.offset = 4096, .length = 4096,
		};

		do_ioctl(render, DRM_IOCTL_SWGPU_CPU_ACCESS, &arg);
		igt_assert_neq(swgpu_sync_file_status(sf), 0);
		arg.flags |= SWGPU_CPU_ACCESS_END;
		do_ioctl(render, DRM_IOCTL_SWGPU_CPU_ACCESS, &arg);
	}

	close(sf);
	close(dmabuf);
	swgpu_gem_close(render, handle);
}

static void read_window_ignores_read_fence(void)
{
	uint32_t handle = create(4096), fence;
	int dmabuf = swgpu_prime_export(render, handle);

	/* A reader does not wait for readers: this must not block. */
	fence = swgpu_fence_attach(render, handle, 0);
	swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	swgpu_fence_signal(render, fence);

	close(dmabuf);
	swgpu_gem_close(render, handle);
}

static void vgem_sees_swgpu_fence(void)
{
	int vgem = swgpu_open_vgem();
	uint32_t handle = create(4096), vh, fence, vf;
	int dmabuf = swgpu_prime_export(render, handle);

	vh = swgpu_prime_import(vgem, dmabuf);
	fence = swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE);
	/* vgem's own attach checks the shared reservation object. */
	igt_assert_eq(__swgpu_fence_attach(vgem, vh, 0, &vf), -EBUSY);
	swgpu_fence_signal(render, fence);
	vf = swgpu_fence_attach(vgem, vh, SWGPU_FENCE_WRITE);
	/* ...and swgpu sees vgem's fence in return. */
	igt_assert_eq(ready_now(dmabuf, POLLIN), 0);
	swgpu_fence_signal(vgem, vf);
	igt_assert_eq(ready_now(dmabuf, POLLIN), POLLIN);

	swgpu_gem_close(vgem, vh);
	close(dmabuf);
	close(vgem);
	swgpu_gem_close(render, handle);
}

static void swgpu_sees_vgem_fence(void)
{
	int vgem = swgpu_open_vgem();
	uint32_t pitch, vh, sh, vf, out;
	uint64_t size;
	int dmabuf, again;

	vh = swgpu_dumb_create(vgem, 32, 32, 32, &pitch, &size);
	dmabuf = swgpu_prime_export(vgem, vh);
	sh = swgpu_prime_import(render, dmabuf);

	vf = swgpu_fence_attach(vgem, vh, SWGPU_FENCE_WRITE);
	igt_assert_eq(__swgpu_fence_attach(render, sh, 0, &out), -EBUSY);
	/* swgpu's re-export is vgem's dma-buf: the fence shows there. */
	again = swgpu_prime_export(render, sh);
	igt_assert_eq(ready_now(again, POLLIN), 0);
	swgpu_fence_signal(vgem, vf);
	igt_assert_eq(ready_now(again, POLLIN), POLLIN);
	swgpu_fence_signal(render, swgpu_fence_attach(render, sh, 0));

	close(again);
	swgpu_gem_close(render, sh);
	close(dmabuf);
	swgpu_gem_close(vgem, vh);
	close(vgem);
}

static void close_signals_fences(void)
{
	int fd = swgpu_open_render();
	uint32_t handle = swgpu_gem_create(fd, 4096);
	int dmabuf = swgpu_prime_export(fd, handle);

	swgpu_fence_attach(fd, handle, SWGPU_FENCE_WRITE);
	igt_assert_eq(ready_now(dmabuf, POLLIN), 0);
	close(fd);
	/* The buffer lives on in the dma-buf; its fence is signalled. */
	igt_assert_eq(ready_now(dmabuf, POLLIN | POLLOUT), POLLIN | POLLOUT);
	close(dmabuf);
}

static void fences_are_per_file(void)
{
	int other = swgpu_open_render();
	uint32_t handle = create(4096), fence;

	fence = swgpu_fence_attach(render, handle, 0);
	igt_assert_eq(__swgpu_fence_signal(other, fence), -ENOENT);
	swgpu_fence_signal(render, fence);
	close(other);
	swgpu_gem_close(render, handle);
}

/* Whether swgpu_fences lists (pid, id) as pending. */
static bool debugfs_lists_fence(uint32_t id, const char *kind)
{
	FILE *f = swgpu_debugfs_open("swgpu_fences");
	char want[96], line[256];
	bool found = false;

	snprintf(want, sizeof(want), "pid %d fence %u %s signaled 0 ",
		 getpid(), id, kind);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)))
			found = true;
	fclose(f);
	return found;
}

static void debugfs_fences(void)
{
	uint32_t handle = create(4096), w;

	w = swgpu_fence_attach(render, handle, SWGPU_FENCE_WRITE);
	igt_assert(debugfs_lists_fence(w, "write"));
	swgpu_fence_signal(render, w);
	igt_assert(!debugfs_lists_fence(w, "write"));
	swgpu_gem_close(render, handle);
}

igt_main
{
	static uint32_t handle;
	uint32_t out;

	igt_fixture {
		render = swgpu_open_render();
	}

	igt_describe("A read fence attaches and signals; ids grow.");
	igt_subtest("attach-signal-read")
		attach_signal(0);

	igt_describe("A write fence attaches and signals; ids grow.");
	igt_subtest("attach-signal-write")
		attach_signal(SWGPU_FENCE_WRITE);

	igt_describe("Write fences conflict with everything, read fences "
		     "with write fences: EBUSY.");
	igt_subtest("attach-conflicts")
		conflicts();

	igt_describe("A write fence, attached after export, holds POLLIN "
		     "and POLLOUT on the dma-buf until signalled.");
	igt_subtest("poll-write-fence-after-export")
		poll_write_fence(true);

	igt_describe("A write fence attached before export shows on the "
		     "dma-buf exported later.");
	igt_subtest("poll-write-fence-before-export")
		poll_write_fence(false);

	igt_describe("A read fence holds POLLOUT only.");
	igt_subtest("poll-read-fence")
		poll_read_fence();

	igt_describe("An unsignalled fence expires by itself with ETIMEDOUT, "
		     "and a late FENCE_SIGNAL returns ETIMEDOUT.");
	igt_subtest("expiry-late-signal")
		expiry();

	igt_describe("FENCE_SIGNAL racing the expiry (fence_timeout_ms 1) "
		     "returns 0 exactly when the fence ends signalled "
		     "without error, ETIMEDOUT exactly when it expired; "
		     "engine jobs waiting on it end the same way.");
	igt_subtest("signal-races-expiry")
		signal_races_expiry();

	igt_describe("DMA_BUF_IOCTL_EXPORT_SYNC_FILE captures a pending "
		     "write fence.");
	igt_subtest("sync-file-export")
		sync_file_export();

	igt_describe("DMA_BUF_IOCTL_SYNC START waits for a write fence.");
	igt_subtest("dmabuf-sync-waits")
		cpu_access_waits(true);

	igt_describe("CPU_ACCESS START waits for a write fence.");
	igt_subtest("cpu-access-waits")
		cpu_access_waits(false);

	igt_describe("A read window does not wait for read fences.");
	igt_subtest("read-window-ignores-read-fence")
		read_window_ignores_read_fence();

	igt_describe("vgem, importing swgpu's buffer, sees swgpu's fences, "
		     "and swgpu sees vgem's.");
	igt_subtest("vgem-sees-swgpu-fence")
		vgem_sees_swgpu_fence();

	igt_describe("swgpu, importing vgem's buffer, sees vgem's fences.");
	igt_subtest("swgpu-sees-vgem-fence")
		swgpu_sees_vgem_fence();

	igt_describe("Closing the DRM file signals the fences it owns.");
	igt_subtest("close-signals-fences")
		close_signals_fences();

	igt_describe("A fence id means nothing to another DRM file.");
	igt_subtest("fences-are-per-file")
		fences_are_per_file();

	igt_describe("debugfs swgpu_fences lists pending fences.");
	igt_subtest("debugfs-fences") {
		swgpu_require_debugfs();
		debugfs_fences();
	}

	igt_subtest_group {
		igt_fixture
			handle = create(4096);

		igt_describe("Unknown FENCE_ATTACH flags fail with EINVAL.");
		igt_subtest("attach-bad-flags") {
			for (int bit = 1; bit < 32; bit++)
				igt_assert_eq(__swgpu_fence_attach(render, handle,
								   1u << bit, &out),
					      -EINVAL);
		}

		igt_describe("Non-zero FENCE_ATTACH padding fails with EINVAL.");
		igt_subtest("attach-bad-pad") {
			struct drm_swgpu_fence_attach arg = {
				.handle = handle, .pad = 1,
			};

			do_ioctl_err(render, DRM_IOCTL_SWGPU_FENCE_ATTACH, &arg,
				     EINVAL);
		}

		igt_describe("FENCE_ATTACH on an unknown handle fails with "
			     "ENOENT.");
		igt_subtest("attach-bad-handle") {
			igt_assert_eq(__swgpu_fence_attach(render, 0, 0, &out),
				      -ENOENT);
			igt_assert_eq(__swgpu_fence_attach(render, handle + 100,
							   0, &out), -ENOENT);
		}

		igt_describe("FENCE_SIGNAL of id 0, of an id never given out, "
			     "or twice fails with ENOENT; flags give EINVAL.");
		igt_subtest("signal-bad-id") {
			struct drm_swgpu_fence_signal arg = { 0 };
			uint32_t fence;

			igt_assert_eq(__swgpu_fence_signal(render, 0), -ENOENT);
			igt_assert_eq(__swgpu_fence_signal(render, 123456),
				      -ENOENT);
			fence = swgpu_fence_attach(render, handle, 0);
			arg.fence = fence;
			arg.flags = 1;
			do_ioctl_err(render, DRM_IOCTL_SWGPU_FENCE_SIGNAL, &arg,
				     EINVAL);
			swgpu_fence_signal(render, fence);
			igt_assert_eq(__swgpu_fence_signal(render, fence),
				      -ENOENT);
		}

		igt_fixture
			swgpu_gem_close(render, handle);
	}

	igt_fixture
		close(render);
}
