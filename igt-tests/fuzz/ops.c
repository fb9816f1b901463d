// SPDX-License-Identifier: MIT
/*
 * swgpu_fuzz's operations: one function per kind, each returning 0 or
 * -errno, which the caller counts. Most arguments are valid, some are
 * garbage (fz_junk(), MAYBE()).
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

/* ---- the operations ---- */

static int op_open(struct rng *r)
{
	int fd = open(fz_node_path[below(r, 2)], O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	fd = fz_move_fd(fd, FUZZ_FD_BASE);
	if (fd >= 0)
		fz_put_fd(fz.drm, N_DRM, fd, r);
	return fd < 0 ? fd : 0;
}

/*
 * A DRM file no table names, for objects larger than the tables keep.
 * On a file the tables name, a stale table entry with the same handle
 * number (numbers are reused) could reach such an object before it is
 * closed, and a junk length that happens to fit it (2^32) makes a job or
 * a CPU_ACCESS populate until memory runs out, which ends the fuzzer by
 * the OOM killer instead of testing anything (a soak round on 6.12, seed
 * 0x59a405900187d0de). Populating beyond memory is swgpu_pressure's.
 * Its number is below FUZZ_FD_BASE, where no table entry points.
 */
static int private_drm(struct rng *r)
{
	return open(fz_node_path[below(r, 2)], O_RDWR | O_CLOEXEC);
}

static int op_gem_create(struct rng *r)
{
	struct drm_swgpu_gem_create arg = {
		.size = one_in(r, 8) ? fz_junk(r) : 1 + below(r, MAX_OBJ_SIZE),
		.flags = one_in(r, 16) ? (uint32_t)fz_junk(r) : 0,
	};
	bool huge = arg.size > MAX_OBJ_SIZE;
	int fd = huge ? private_drm(r) : fz_any_drm(r), err;

	err = fz_xioctl(fd, DRM_IOCTL_SWGPU_GEM_CREATE, &arg);
	/* Huge objects are fine to create, not to fill: keep small ones. */
	if (huge) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (!err)
		fz_put_obj((struct obj){ fd, arg.handle, arg.size }, r);
	return err;
}

static int op_gem_close(struct rng *r)
{
	struct obj o = fz_pick_obj(r, !one_in(r, 4));
	struct drm_gem_close arg = { .handle = o.handle,
				     .pad = one_in(r, 16) ? 1 : 0 };

	return fz_xioctl(o.fd, DRM_IOCTL_GEM_CLOSE, &arg);
}

static int op_mmap_gem(struct rng *r, bool offset_only)
{
	struct obj o = fz_pick_obj(r, false);
	struct drm_swgpu_gem_mmap_offset arg = {
		.handle = o.handle, .pad = one_in(r, 16) ? 1 : 0,
	};
	uint64_t len = MAYBE(r, 16, o.size);
	void *ptr;
	int err;

	err = fz_xioctl(o.fd, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &arg);
	if (err || offset_only)
		return err;
	if (one_in(r, 16))
		arg.offset = fz_junk(r) & ~4095ull;
	ptr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, o.fd,
		   arg.offset);
	if (ptr == MAP_FAILED)
		return -errno;
	/*
	 * swgpu refuses a mapping longer than the object, so all of it can
	 * be touched (the table's size may be stale: the fd number or the
	 * handle may name another object by now, which is fine).
	 */
	fz_put_map(ptr, len, r);
	return 0;
}

static int op_munmap(struct rng *r)
{
	int i, ret = 0;

	pthread_mutex_lock(&fz.lock);
	i = fz_pick_slot(r, N_MAP, fz_map_used);
	if (fz.map[i].ptr) {
		/* Sometimes only the tail goes: the rest stays mapped. */
		size_t keep = one_in(r, 4) ? (fz.map[i].len / 2) & ~4095ul : 0;

		if (munmap((char *)fz.map[i].ptr + keep, fz.map[i].len - keep))
			ret = -errno;
		fz.map[i].len = keep;
		if (!keep)
			fz.map[i].ptr = NULL;
	}
	pthread_mutex_unlock(&fz.lock);
	return ret;
}

static int op_mem_touch(struct rng *r)
{
	volatile uint8_t *p;
	size_t len;
	int i;

	pthread_mutex_lock(&fz.lock);
	i = fz_pick_slot(r, N_MAP, fz_map_used);
	p = fz.map[i].ptr;
	len = fz.map[i].len;
	for (int k = 0; p && len && k < 8; k++) {
		size_t off = below(r, len);

		if (one_in(r, 2))
			p[off] = (uint8_t)rnd(r);
		else
			(void)p[off];
	}
	pthread_mutex_unlock(&fz.lock);
	return 0;
}

static int op_cpu_access(struct rng *r)
{
	struct obj o = fz_pick_obj(r, false);
	struct drm_swgpu_cpu_access arg = {
		.handle = o.handle,
		.flags = 1 + below(r, 3),
		.pad = one_in(r, 32) ? fz_junk(r) : 0,
	};
	int err;

	fz_pick_range(r, o.size, MAX_JOB_LEN, &arg.offset, &arg.length);
	if (one_in(r, 16))
		arg.flags = fz_junk(r);
	err = fz_xioctl(o.fd, DRM_IOCTL_SWGPU_CPU_ACCESS, &arg);
	/*
	 * END is left out now and then (a window is not a pin). Its result
	 * is only counted: another thread may have closed the handle.
	 */
	if (!err && !one_in(r, 8)) {
		arg.flags |= SWGPU_CPU_ACCESS_END;
		err = fz_xioctl(o.fd, DRM_IOCTL_SWGPU_CPU_ACCESS, &arg);
	}
	return err;
}

/*
 * Up to two syncobjs for a SUBMIT: the table's when they are @fd's, or
 * handles that mean nothing there; small timeline points or binary.
 */
static uint32_t pick_syncs(struct rng *r, int fd, struct drm_swgpu_sync *syncs)
{
	uint32_t n = below(r, 3);

	for (uint32_t k = 0; k < n; k++) {
		struct syncobj so = fz_pick_sobj(r, false);

		memset(&syncs[k], 0, sizeof(syncs[k]));
		syncs[k].handle = so.fd == fd ? so.handle : (uint32_t)fz_junk(r);
		syncs[k].point = one_in(r, 2) ? 0 : below(r, 5);
		if (one_in(r, 64))
			syncs[k].flags = fz_junk(r);
	}
	return n;
}

/* A batch on objects of one DRM fd; its out-fence into the table. */
static int submit_on(struct rng *r, int fd, struct obj first, int in_fence,
		     int *out)
{
	struct drm_swgpu_cmd cmds[4];
	struct drm_swgpu_sync in[2], outs[2];
	struct drm_swgpu_submit arg = { .in_fence_fd = in_fence,
					.out_fence_fd = -1 };
	unsigned int n = 1 + below(r, 4);
	int err;

	for (unsigned int k = 0; k < n; k++) {
		struct obj dst = k ? fz_pick_obj_on(fd, r) : first;
		struct obj src = fz_pick_obj_on(fd, r);
		struct drm_swgpu_cmd *c = &cmds[k];

		if (dst.fd < 0)
			dst = first;
		memset(c, 0, sizeof(*c));
		c->dst_handle = dst.handle;
		if (one_in(r, 2) || src.fd < 0) {
			c->op = SWGPU_CMD_FILL;
			c->pattern = rnd(r);
			fz_pick_range(r, dst.size, MAX_JOB_LEN, &c->dst_offset,
				   &c->length);
		} else {
			uint64_t max = dst.size < src.size ? dst.size : src.size;

			c->op = SWGPU_CMD_COPY;
			c->src_handle = src.handle;
			fz_pick_range(r, max, MAX_JOB_LEN, &c->dst_offset,
				   &c->length);
			if (c->dst_offset + c->length <= src.size)
				c->src_offset = below(r, src.size - c->length + 1);
		}
		if (one_in(r, 32))
			c->op = fz_junk(r);
		if (one_in(r, 64))
			c->src_offset = fz_junk(r);
	}
	arg.cmds = one_in(r, 32) ? fz_junk_ptr(r) : (uintptr_t)cmds;
	arg.num_cmds = one_in(r, 32) ? fz_junk(r) : n;
	arg.flags = SWGPU_SUBMIT_OUT_FENCE |
		    (in_fence >= 0 ? SWGPU_SUBMIT_IN_FENCE : 0);
	if (one_in(r, 32))
		arg.flags = fz_junk(r);
	if (one_in(r, 4)) {
		arg.num_in_syncs = pick_syncs(r, fd, in);
		arg.in_syncs = (uintptr_t)in;
		arg.num_out_syncs = pick_syncs(r, fd, outs);
		arg.out_syncs = (uintptr_t)outs;
		if (one_in(r, 32))
			arg.in_syncs = fz_junk_ptr(r);
		if (one_in(r, 32))
			arg.num_out_syncs = fz_junk(r);
	}
	err = fz_xioctl(fd, DRM_IOCTL_SWGPU_SUBMIT, &arg);
	if (!err && (arg.flags & SWGPU_SUBMIT_OUT_FENCE))
		*out = arg.out_fence_fd;
	return err;
}

static int op_submit(struct rng *r)
{
	struct obj o = fz_pick_obj(r, false);
	int in = -1, out = -1, err;

	if (one_in(r, 3))
		in = fz_pick_fd(fz.sf, N_SF, r, false);
	if (one_in(r, 32))
		in = one_in(r, 2) ? o.fd : (int)fz_junk(r);
	err = submit_on(r, o.fd, o, in, &out);
	if (out >= 0) {
		out = fz_move_fd(out, FUZZ_FD_BASE);
		if (out >= 0)
			fz_put_fd(fz.sf, N_SF, out, r);
	}
	return err;
}

/*
 * A job whose files go away at once: on a new DRM fd, writing a buffer
 * of its own and (half the time) one imported from another file whose
 * dma-buf and fd are closed right after the submit too.
 */
static int op_submit_close(struct rng *r)
{
	int fd = open(fz_node_path[1], O_RDWR | O_CLOEXEC), buf = -1;
	uint64_t size = 4096 + below(r, MAX_OBJ_SIZE);
	struct obj o = { .size = size };
	int out = -1, err;

	if (fd < 0)
		return -errno;
	fd = fz_move_fd(fd, FUZZ_FD_BASE);
	if (fd < 0)
		return fd;
	o.fd = fd;
	err = __swgpu_gem_create(fd, &o.size, 0, &o.handle);
	if (!err && one_in(r, 2)) {
		struct obj imp = fz_pick_obj(r, false);

		if (!__swgpu_prime_export(imp.fd, imp.handle, SWGPU_EXPORT_FLAGS,
					  &buf)) {
			buf = fz_move_fd(buf, FUZZ_FD_BASE);
			if (!__swgpu_prime_import(fd, buf, &imp.handle)) {
				imp.fd = fd;
				o = imp;	/* the job writes the import */
			}
		}
	}
	if (!err)
		err = submit_on(r, fd, o, -1, &out);
	if (buf >= 0)
		close(buf);
	close(fd);
	if (out >= 0) {
		/*
		 * Cancelled or done, it must end; a job that never does is
		 * a hang, which the harness's test timeout reports.
		 */
		struct pollfd p = { .fd = out, .events = POLLIN };

		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
		close(out);
	}
	return err;
}

static int op_fence_attach(struct rng *r)
{
	struct obj o = fz_pick_obj(r, false);
	struct drm_swgpu_fence_attach arg = {
		.handle = o.handle,
		.flags = one_in(r, 16) ? (uint32_t)fz_junk(r) : below(r, 2),
		.pad = one_in(r, 32) ? 1 : 0,
	};
	int err = fz_xioctl(o.fd, DRM_IOCTL_SWGPU_FENCE_ATTACH, &arg);

	if (!err)
		fz_put_fence((struct fence){ o.fd, arg.out_fence }, r);
	return err;
}

static int op_fence_signal(struct rng *r)
{
	struct drm_swgpu_fence_signal arg = { .flags = one_in(r, 32) };
	struct fence f;
	int i;

	pthread_mutex_lock(&fz.lock);
	i = fz_pick_slot(r, N_FENCE, fz_fence_used);
	f = fz.fence[i];
	fz.fence[i].fd = -1;
	pthread_mutex_unlock(&fz.lock);
	arg.fence = one_in(r, 16) ? (uint32_t)fz_junk(r) : f.id;
	return fz_xioctl(f.fd, DRM_IOCTL_SWGPU_FENCE_SIGNAL, &arg);
}

static int op_prime_export(struct rng *r)
{
	struct obj o = fz_pick_obj(r, false);
	struct drm_prime_handle arg = {
		.handle = o.handle, .fd = -1,
		.flags = one_in(r, 16) ? (uint32_t)fz_junk(r) : SWGPU_EXPORT_FLAGS,
	};
	int err = fz_xioctl(o.fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &arg);

	if (!err) {
		int fd = fz_move_fd(arg.fd, FUZZ_FD_BASE);

		if (fd >= 0)
			fz_put_dmabuf((struct dmabuf){ fd, o.size }, r);
	}
	return err;
}

static int op_prime_import(struct rng *r)
{
	struct dmabuf d = fz_pick_dmabuf(r, false);
	struct drm_prime_handle arg = {
		.fd = one_in(r, 16) ? fz_pick_fd(fz.sf, N_SF, r, false) : d.fd,
	};
	int fd = fz_any_drm(r), err;

	err = fz_xioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &arg);
	if (!err)
		fz_put_obj((struct obj){ fd, arg.handle, d.size }, r);
	return err;
}

static int op_mmap_dmabuf(struct rng *r)
{
	struct dmabuf d = fz_pick_dmabuf(r, false);
	uint64_t len = MAYBE(r, 16, d.size);
	void *ptr;

	ptr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd,
		   one_in(r, 16) ? fz_junk(r) & ~4095ull : 0);
	if (ptr == MAP_FAILED)
		return -errno;
	/* dma-buf refuses mappings past the buffer's end, as swgpu does. */
	fz_put_map(ptr, len, r);
	return 0;
}

static int op_dmabuf_sync(struct rng *r)
{
	struct dmabuf d = fz_pick_dmabuf(r, false);
	struct dma_buf_sync arg = { .flags = DMA_BUF_SYNC_START | (1 + below(r, 3)) };
	int err;

	if (one_in(r, 16))
		arg.flags = fz_junk(r);
	err = fz_xioctl(d.fd, DMA_BUF_IOCTL_SYNC, &arg);
	if (!err && !(arg.flags & DMA_BUF_SYNC_END) && !one_in(r, 8)) {
		arg.flags |= DMA_BUF_SYNC_END;
		err = fz_xioctl(d.fd, DMA_BUF_IOCTL_SYNC, &arg);
	}
	return err;
}

static int op_dmabuf_export_sf(struct rng *r)
{
	struct dmabuf d = fz_pick_dmabuf(r, false);
	struct dma_buf_export_sync_file arg = {
		.flags = one_in(r, 16) ? (uint32_t)fz_junk(r) : 1 + below(r, 3),
		.fd = -1,
	};
	int err = fz_xioctl(d.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg);

	if (!err) {
		int fd = fz_move_fd(arg.fd, FUZZ_FD_BASE);

		if (fd >= 0)
			fz_put_fd(fz.sf, N_SF, fd, r);
	}
	return err;
}

static int op_dmabuf_import_sf(struct rng *r)
{
	struct dmabuf d = fz_pick_dmabuf(r, false);
	struct dma_buf_import_sync_file arg = {
		.flags = one_in(r, 16) ? (uint32_t)fz_junk(r) : 1 + below(r, 3),
		.fd = one_in(r, 16) ? (int)fz_junk(r) : fz_pick_fd(fz.sf, N_SF, r, false),
	};

	return fz_xioctl(d.fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &arg);
}

static int op_poll(struct rng *r)
{
	struct pollfd p = {
		.fd = one_in(r, 2) ? fz_pick_dmabuf(r, false).fd :
				     fz_pick_fd(fz.sf, N_SF, r, false),
		.events = one_in(r, 2) ? POLLIN : POLLOUT,
	};
	int n = poll(&p, 1, below(r, 3));

	return n < 0 ? -errno : 0;
}

static int op_sync_file_info(struct rng *r)
{
	struct sync_fence_info fi[4];
	struct sync_file_info arg;
	int fd = fz_pick_fd(fz.sf, N_SF, r, false), err;

	memset(&arg, 0, sizeof(arg));
	err = fz_xioctl(fd, SYNC_IOC_FILE_INFO, &arg);
	if (err || one_in(r, 2))
		return err;
	arg.num_fences = arg.num_fences < 4 ? arg.num_fences : 4;
	arg.sync_fence_info = (uintptr_t)fi;
	if (one_in(r, 8)) {
		arg.sync_fence_info = fz_junk_ptr(r);
		arg.num_fences = 1 + below(r, 4);
	}
	if (one_in(r, 16))
		arg.flags = fz_junk(r);
	return fz_xioctl(fd, SYNC_IOC_FILE_INFO, &arg);
}

static int op_sync_merge(struct rng *r)
{
	struct sync_merge_data arg = {
		.name = "fuzz",
		.fd2 = fz_pick_fd(fz.sf, N_SF, r, false),
		.flags = one_in(r, 16) ? (uint32_t)fz_junk(r) : 0,
	};
	int err = fz_xioctl(fz_pick_fd(fz.sf, N_SF, r, false), SYNC_IOC_MERGE, &arg);

	if (!err) {
		int fd = fz_move_fd(arg.fence, FUZZ_FD_BASE);

		if (fd >= 0)
			fz_put_fd(fz.sf, N_SF, fd, r);
	}
	return err;
}

static int op_dumb(struct rng *r, enum op op)
{
	int fd = fz_any_drm(r), err;

	if (op == OP_DUMB_CREATE) {
		struct drm_mode_create_dumb arg = {
			.width = MAYBE(r, 8, 1 + below(r, 512)),
			.height = MAYBE(r, 8, 1 + below(r, 512)),
			.bpp = one_in(r, 8) ? fz_junk(r) : 32,
			.flags = one_in(r, 16) ? fz_junk(r) : 0,
		};
		/* Junk dimensions can make a large buffer: see private_drm(). */
		bool huge = (uint64_t)arg.width * arg.height * 4 > MAX_OBJ_SIZE ||
			    arg.bpp != 32;

		if (huge)
			fd = private_drm(r);
		err = fz_xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &arg);
		if (huge) {
			if (fd >= 0)
				close(fd);
		} else if (!err) {
			fz_put_obj((struct obj){ fd, arg.handle, arg.size }, r);
		}
		return err;
	} else if (op == OP_DUMB_MAP) {
		struct obj o = fz_pick_obj(r, false);
		struct drm_mode_map_dumb arg = { .handle = o.handle };

		return fz_xioctl(o.fd, DRM_IOCTL_MODE_MAP_DUMB, &arg);
	} else {
		struct obj o = fz_pick_obj(r, true);
		struct drm_mode_destroy_dumb arg = { .handle = o.handle };

		return fz_xioctl(o.fd, DRM_IOCTL_MODE_DESTROY_DUMB, &arg);
	}
}

static int op_syncobj(struct rng *r, enum op op)
{
	struct syncobj s = fz_pick_sobj(r, op == OP_SYNCOBJ_DESTROY);
	uint64_t point = one_in(r, 8) ? fz_junk(r) : below(r, 8);
	int err, fd;

	switch (op) {
	case OP_SYNCOBJ_CREATE: {
		struct drm_syncobj_create arg = {
			.flags = one_in(r, 16) ? (uint32_t)fz_junk(r) :
				 (one_in(r, 2) ? DRM_SYNCOBJ_CREATE_SIGNALED : 0),
		};

		fd = fz_any_drm(r);
		err = fz_xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &arg);
		if (!err)
			fz_put_sobj((struct syncobj){ fd, arg.handle }, r);
		return err;
	}
	case OP_SYNCOBJ_DESTROY: {
		struct drm_syncobj_destroy arg = { .handle = s.handle,
						   .pad = one_in(r, 16) };

		return fz_xioctl(s.fd, DRM_IOCTL_SYNCOBJ_DESTROY, &arg);
	}
	case OP_SYNCOBJ_HANDLE_TO_FD: {
		struct drm_syncobj_handle arg = {
			.handle = s.handle, .fd = -1,
			.flags = one_in(r, 2) ?
				 DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE : 0,
		};

		if (one_in(r, 16))
			arg.flags = fz_junk(r);
		err = fz_xioctl(s.fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &arg);
		/* A syncobj fd goes among the sync_files: a wrong kind there. */
		if (!err && (fd = fz_move_fd(arg.fd, FUZZ_FD_BASE)) >= 0)
			fz_put_fd(fz.sf, N_SF, fd, r);
		return err;
	}
	case OP_SYNCOBJ_FD_TO_HANDLE: {
		struct drm_syncobj_handle arg = {
			.fd = fz_pick_fd(fz.sf, N_SF, r, false),
			.handle = s.handle,
			.flags = one_in(r, 2) ?
				 DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE : 0,
		};

		if (one_in(r, 16))
			arg.flags = fz_junk(r);
		err = fz_xioctl(s.fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &arg);
		if (!err && !(arg.flags & DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE))
			fz_put_sobj((struct syncobj){ s.fd, arg.handle }, r);
		return err;
	}
	case OP_SYNCOBJ_WAIT: {
		uint32_t h[2] = { s.handle, fz_pick_sobj(r, false).handle };
		uint64_t points[2] = { point, below(r, 8) };
		/* Absolute; never far: an empty syncobj may never signal. */
		int64_t timeout = one_in(r, 4) ? 0 : fz_now_ns() + below(r, 5000000);

		if (one_in(r, 2)) {
			struct drm_syncobj_wait arg = {
				.handles = (uintptr_t)h, .count_handles = 1 + below(r, 2),
				.timeout_nsec = timeout, .flags = below(r, 4),
			};

			if (one_in(r, 16))
				arg.handles = fz_junk_ptr(r);
			if (one_in(r, 16))
				arg.count_handles = fz_junk_count(r);
			return fz_xioctl(s.fd, DRM_IOCTL_SYNCOBJ_WAIT, &arg);
		} else {
			struct drm_syncobj_timeline_wait arg = {
				.handles = (uintptr_t)h, .points = (uintptr_t)points,
				.count_handles = 1 + below(r, 2),
				.timeout_nsec = timeout, .flags = below(r, 8),
			};

			if (one_in(r, 16))
				arg.points = fz_junk_ptr(r);
			return fz_xioctl(s.fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &arg);
		}
	}
	case OP_SYNCOBJ_RESET:
	case OP_SYNCOBJ_SIGNAL: {
		uint32_t h[2] = { s.handle, fz_pick_sobj(r, false).handle };
		struct drm_syncobj_array arg = {
			.handles = one_in(r, 16) ? fz_junk_ptr(r) : (uintptr_t)h,
			.count_handles = one_in(r, 16) ? fz_junk_count(r) : 1 + below(r, 2),
			.pad = one_in(r, 32),
		};

		return fz_xioctl(s.fd, op == OP_SYNCOBJ_RESET ? DRM_IOCTL_SYNCOBJ_RESET :
				    DRM_IOCTL_SYNCOBJ_SIGNAL, &arg);
	}
	case OP_SYNCOBJ_TIMELINE_SIGNAL:
	case OP_SYNCOBJ_QUERY: {
		uint32_t h[1] = { s.handle };
		uint64_t points[1] = { point };
		struct drm_syncobj_timeline_array arg = {
			.handles = (uintptr_t)h, .points = (uintptr_t)points,
			.count_handles = one_in(r, 16) ? fz_junk_count(r) : 1,
			.flags = one_in(r, 16) ? fz_junk(r) : 0,
		};

		return fz_xioctl(s.fd, op == OP_SYNCOBJ_QUERY ? DRM_IOCTL_SYNCOBJ_QUERY :
				    DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &arg);
	}
	case OP_SYNCOBJ_TRANSFER: {
		struct drm_syncobj_transfer arg = {
			.src_handle = fz_pick_sobj(r, false).handle,
			.dst_handle = s.handle,
			.src_point = below(r, 4), .dst_point = point,
			.flags = one_in(r, 16) ? fz_junk(r) : 0,
			.pad = one_in(r, 32),
		};

		return fz_xioctl(s.fd, DRM_IOCTL_SYNCOBJ_TRANSFER, &arg);
	}
	default:
		return -ENOSYS;
	}
}

/*
 * fork(): the child inherits every fd and mapping. It must not take the
 * table's lock (another thread may hold it for ever, in the child), so
 * what it uses is copied before. It writes a mapping, submits a job on a
 * shared file and then exits, closes the file, or is killed (a fatal
 * signal cancels its jobs; the parent's copy of the file stays open).
 */
static int op_fork(struct rng *r)
{
	struct obj o = fz_pick_obj(r, false);
	unsigned int how = below(r, 3);
	struct rng child_r = { splitmix(rnd(r)) };
	struct map m;
	int status;
	pid_t pid;

	pthread_mutex_lock(&fz.lock);
	m = fz.map[fz_pick_slot(r, N_MAP, fz_map_used)];
	pid = fork();
	if (pid == 0) {
		struct drm_swgpu_cmd c = {
			.op = SWGPU_CMD_FILL, .pattern = rnd(&child_r),
			.dst_handle = o.handle,
		};
		struct drm_swgpu_submit arg = {
			.cmds = (uintptr_t)&c, .num_cmds = 1,
			.in_fence_fd = -1, .out_fence_fd = -1,
		};

		if (m.ptr && m.len)
			((volatile uint8_t *)m.ptr)[below(&child_r, m.len)] = 0x66;
		fz_pick_range(&child_r, o.size, MAX_JOB_LEN, &c.dst_offset,
			   &c.length);
		ioctl(o.fd, DRM_IOCTL_SWGPU_SUBMIT, &arg);
		if (how == 1)
			close(o.fd);
		else if (how == 2)
			raise(SIGKILL);
		_exit(0);
	}
	pthread_mutex_unlock(&fz.lock);
	if (pid < 0)
		return -errno;
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	    !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
		fz_fail("a forked child ended with status %#x", status);
	return 0;
}

int fz_do_op(struct rng *r, enum op op)
{
	switch (op) {
	case OP_OPEN:
		return op_open(r);
	case OP_CLOSE_DRM: {
		int fd = fz_take_drm(r);

		return close(fd) ? -errno : 0;
	}
	case OP_VERSION: {
		struct drm_version arg;
		char name[32];

		memset(&arg, 0, sizeof(arg));
		arg.name = one_in(r, 8) ? (char *)(uintptr_t)fz_junk_ptr(r) : name;
		arg.name_len = one_in(r, 8) ? fz_junk(r) : sizeof(name);
		return fz_xioctl(fz_any_drm(r), DRM_IOCTL_VERSION, &arg);
	}
	case OP_GET_CAP: {
		struct drm_get_cap arg = { .capability = below(r, 0x20) };

		return fz_xioctl(fz_any_drm(r), DRM_IOCTL_GET_CAP, &arg);
	}
	case OP_GEM_CREATE:
		return op_gem_create(r);
	case OP_GEM_CLOSE:
		return op_gem_close(r);
	case OP_GEM_MMAP_OFFSET:
		return op_mmap_gem(r, true);
	case OP_MMAP_GEM:
		return op_mmap_gem(r, false);
	case OP_MUNMAP:
		return op_munmap(r);
	case OP_MEM_TOUCH:
		return op_mem_touch(r);
	case OP_CPU_ACCESS:
		return op_cpu_access(r);
	case OP_SUBMIT:
		return op_submit(r);
	case OP_SUBMIT_CLOSE:
		return op_submit_close(r);
	case OP_FENCE_ATTACH:
		return op_fence_attach(r);
	case OP_FENCE_SIGNAL:
		return op_fence_signal(r);
	case OP_PRIME_EXPORT:
		return op_prime_export(r);
	case OP_PRIME_IMPORT:
		return op_prime_import(r);
	case OP_CLOSE_DMABUF:
		return close(fz_pick_dmabuf(r, true).fd) ? -errno : 0;
	case OP_MMAP_DMABUF:
		return op_mmap_dmabuf(r);
	case OP_DMABUF_SYNC:
		return op_dmabuf_sync(r);
	case OP_DMABUF_EXPORT_SYNC_FILE:
		return op_dmabuf_export_sf(r);
	case OP_DMABUF_IMPORT_SYNC_FILE:
		return op_dmabuf_import_sf(r);
	case OP_POLL:
		return op_poll(r);
	case OP_SYNC_FILE_INFO:
		return op_sync_file_info(r);
	case OP_SYNC_MERGE:
		return op_sync_merge(r);
	case OP_CLOSE_SYNC_FILE:
		return close(fz_pick_fd(fz.sf, N_SF, r, true)) ? -errno : 0;
	case OP_DUMB_CREATE:
	case OP_DUMB_MAP:
	case OP_DUMB_DESTROY:
		return op_dumb(r, op);
	case OP_FORK:
		return op_fork(r);
	default:
		return op_syncobj(r, op);
	}
}

/* How often each operation is picked, relative to 1. */
unsigned int fz_op_weight(enum op op)
{
	switch (op) {
	case OP_GEM_CREATE: case OP_SUBMIT: case OP_MEM_TOUCH:
	case OP_PRIME_EXPORT: case OP_PRIME_IMPORT:
		return 6;
	case OP_CPU_ACCESS: case OP_DMABUF_SYNC: case OP_MMAP_GEM:
	case OP_MMAP_DMABUF: case OP_FENCE_ATTACH: case OP_FENCE_SIGNAL:
	case OP_DMABUF_EXPORT_SYNC_FILE: case OP_POLL: case OP_GEM_CLOSE:
		return 3;
	case OP_FORK: case OP_SUBMIT_CLOSE: case OP_CLOSE_DRM: case OP_OPEN:
		return 1;
	default:
		return 2;
	}
}

