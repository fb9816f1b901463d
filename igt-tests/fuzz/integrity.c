// SPDX-License-Identifier: MIT
/*
 * swgpu_fuzz's integrity threads: each owns a DRM fd and two buffers that
 * no fuzzing thread can name, writes them through its GEM and dma-buf
 * mappings and with engine FILLs and COPYs, keeps a copy of what every
 * byte must hold, and compares after each step.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "fuzz.h"

/* ---- integrity: buffers only this thread can reach ---- */

#define INTEGRITY_SIZE	(512u << 10)

struct owned {
	int fd;
	uint32_t handle[2];
	int dmabuf[2];
	uint8_t *gem_map[2], *dmabuf_map[2];
	uint8_t *shadow[2];	/* what each buffer must hold */
};

static int own_fd(int fd)
{
	return fz_move_fd(fd, OWN_FD_BASE);
}

static void cpu_access(struct owned *b, int i, uint64_t off, uint64_t len,
		       uint32_t flags)
{
	struct drm_swgpu_cpu_access arg = {
		.handle = b->handle[i], .flags = flags,
		.offset = off, .length = len,
	};
	int err;

	while ((err = fz_xioctl(b->fd, DRM_IOCTL_SWGPU_CPU_ACCESS, &arg)) == -EINTR)
		;
	if (err)
		fz_fail("integrity: CPU_ACCESS %#x on its own buffer failed: %d", flags, err);
}

static void dmabuf_sync(struct owned *b, int i, uint64_t flags)
{
	struct dma_buf_sync arg = { .flags = flags };
	int err;

	while ((err = fz_xioctl(b->dmabuf[i], DMA_BUF_IOCTL_SYNC, &arg)) == -EINTR ||
	       err == -EAGAIN)
		;
	if (err)
		fz_fail("integrity: DMA_BUF_IOCTL_SYNC %#llx failed: %d",
		     (unsigned long long)flags, err);
}

static void run_job(struct owned *b, struct drm_swgpu_cmd *c, int tid)
{
	struct drm_swgpu_submit arg = {
		.cmds = (uintptr_t)c, .num_cmds = 1,
		.flags = SWGPU_SUBMIT_OUT_FENCE, .in_fence_fd = -1,
		.out_fence_fd = -1,
	};
	struct pollfd p;
	int err, status;

	err = fz_xioctl(b->fd, DRM_IOCTL_SWGPU_SUBMIT, &arg);
	if (err) {
		fz_fail("integrity thread %d: SUBMIT failed: %d", tid, err);
		return;
	}
	p = (struct pollfd){ .fd = own_fd(arg.out_fence_fd), .events = POLLIN };
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	{
		struct sync_file_info info;

		memset(&info, 0, sizeof(info));
		status = fz_xioctl(p.fd, SYNC_IOC_FILE_INFO, &info);
		if (!status)
			status = info.status;
	}
	close(p.fd);
	if (status != 1)
		fz_fail("integrity thread %d: a job on its own buffers ended with %d",
		     tid, status);
}

/* Compare buffer @i, as seen through @view, with its shadow. */
static void verify(struct owned *b, int i, const uint8_t *view,
		   const char *how, uint64_t seed, int tid)
{
	for (size_t o = 0; o < INTEGRITY_SIZE; o++) {
		if (view[o] != b->shadow[i][o]) {
			fz_fail("integrity thread %d (seed %#" PRIx64 "): buffer %d byte %zu is %#x through %s, expected %#x",
			     tid, seed, i, o, view[o], how, b->shadow[i][o]);
			return;
		}
	}
}

void *fz_integrity_thread(void *arg)
{
	struct integrity_arg *ia = arg;
	struct rng *r = &ia->rng;
	struct owned b = {};
	int tid = ia->tid;

	b.fd = own_fd(open(fz_node_path[1], O_RDWR | O_CLOEXEC));
	if (b.fd < 0) {
		fz_fail("integrity thread %d: cannot open %s: %d", tid, fz_node_path[1], b.fd);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t size = INTEGRITY_SIZE;

		if (__swgpu_gem_create(b.fd, &size, 0, &b.handle[i]) ||
		    __swgpu_prime_export(b.fd, b.handle[i], SWGPU_EXPORT_FLAGS,
					 &b.dmabuf[i])) {
			fz_fail("integrity thread %d: cannot create its buffers", tid);
			return NULL;
		}
		b.dmabuf[i] = own_fd(b.dmabuf[i]);
		b.gem_map[i] = __swgpu_gem_mmap(b.fd, b.handle[i], size,
						PROT_READ | PROT_WRITE);
		b.dmabuf_map[i] = mmap(NULL, size, PROT_READ | PROT_WRITE,
				       MAP_SHARED, b.dmabuf[i], 0);
		b.shadow[i] = calloc(1, size);
		if (b.gem_map[i] == MAP_FAILED || b.dmabuf_map[i] == MAP_FAILED ||
		    !b.shadow[i]) {
			fz_fail("integrity thread %d: cannot map its buffers", tid);
			return NULL;
		}
	}

	while (!atomic_load(&fz_stop)) {
		int i = below(r, 2);
		uint64_t off = below(r, INTEGRITY_SIZE);
		uint64_t len = 1 + below(r, INTEGRITY_SIZE - off);
		uint32_t pattern = rnd(r);
		struct drm_swgpu_cmd c = { .dst_handle = b.handle[i],
					   .dst_offset = off, .length = len };

		switch (below(r, 4)) {
		case 0: /* CPU writes through GEM mmap, in a CPU_ACCESS window */
			cpu_access(&b, i, off, len, SWGPU_CPU_ACCESS_WRITE);
			for (uint64_t k = 0; k < len; k++)
				b.gem_map[i][off + k] = (uint8_t)(pattern + k * 7);
			cpu_access(&b, i, off, len, SWGPU_CPU_ACCESS_WRITE |
						    SWGPU_CPU_ACCESS_END);
			for (uint64_t k = 0; k < len; k++)
				b.shadow[i][off + k] = (uint8_t)(pattern + k * 7);
			break;
		case 1: /* CPU writes through dma-buf mmap, in a SYNC window */
			dmabuf_sync(&b, i, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
			for (uint64_t k = 0; k < len; k++)
				b.dmabuf_map[i][off + k] = (uint8_t)(pattern ^ k);
			dmabuf_sync(&b, i, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
			for (uint64_t k = 0; k < len; k++)
				b.shadow[i][off + k] = (uint8_t)(pattern ^ k);
			break;
		case 2: /* engine FILL */
			c.op = SWGPU_CMD_FILL;
			c.pattern = pattern;
			run_job(&b, &c, tid);
			for (uint64_t k = off; k < off + len; k++)
				b.shadow[i][k] = swgpu_fill_byte(pattern, k);
			break;
		default: { /* engine COPY from the other buffer */
			uint64_t soff = below(r, INTEGRITY_SIZE - len + 1);

			c.op = SWGPU_CMD_COPY;
			c.src_handle = b.handle[!i];
			c.src_offset = soff;
			run_job(&b, &c, tid);
			memcpy(b.shadow[i] + off, b.shadow[!i] + soff, len);
			break;
		}
		}
		/* Read back through the other kind of mapping, half the time. */
		if (one_in(r, 2)) {
			dmabuf_sync(&b, i, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
			verify(&b, i, b.dmabuf_map[i], "its dma-buf mmap", ia->seed, tid);
			dmabuf_sync(&b, i, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		} else {
			cpu_access(&b, i, 0, INTEGRITY_SIZE, SWGPU_CPU_ACCESS_READ);
			verify(&b, i, b.gem_map[i], "its GEM mmap", ia->seed, tid);
			cpu_access(&b, i, 0, INTEGRITY_SIZE, SWGPU_CPU_ACCESS_READ |
							     SWGPU_CPU_ACCESS_END);
		}
		ia->rounds++;
	}

	for (int i = 0; i < 2; i++) {
		munmap(b.gem_map[i], INTEGRITY_SIZE);
		munmap(b.dmabuf_map[i], INTEGRITY_SIZE);
		close(b.dmabuf[i]);
		free(b.shadow[i]);
	}
	close(b.fd);
	return NULL;
}

