// SPDX-License-Identifier: MIT
/*
 * Buffers from the four providers the benchmark compares:
 *
 *   swgpu    GEM_CREATE on its render node; GEM mapping through
 *            GEM_MMAP_OFFSET, or mmap of its dma-buf
 *   swgpu-huge  the same with SWGPU_GEM_CREATE_HUGE (full runs only)
 *   vgem     MODE_CREATE_DUMB on its primary node; GEM mapping through
 *            MAP_DUMB, or mmap of its dma-buf
 *   udmabuf  a sealed memfd turned into a dma-buf by /dev/udmabuf
 *   heap     an allocation from /dev/dma_heap/system
 *
 * udmabuf and heap buffers are dma-bufs from the start: they have no
 * handle and no GEM mapping.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include "swgpu_drm.h"

#include "bench.h"
#include "../ktap/drm_open.h"

#define UDMABUF_LIMIT_PARAM "/sys/module/udmabuf/parameters/size_limit_mb"

struct provider providers[NPROV] = {
	[PROV_SWGPU]   = { .id = PROV_SWGPU,   .name = "swgpu",   .drm = true,
			   .swgpu = true },
	[PROV_SWGPU_HUGE] = { .id = PROV_SWGPU_HUGE, .name = "swgpu-huge",
			      .drm = true, .swgpu = true,
			      .create_flags = SWGPU_GEM_CREATE_HUGE },
	[PROV_VGEM]    = { .id = PROV_VGEM,    .name = "vgem",    .drm = true },
	[PROV_UDMABUF] = { .id = PROV_UDMABUF, .name = "udmabuf" },
	[PROV_HEAP]    = { .id = PROV_HEAP,    .name = "heap" },
};

static const char *last_op = "";

const char *failed_op(void)
{
	return last_op;
}

void set_failed_op(const char *op)
{
	last_op = op;
}

/* Run an ioctl, restarting on EINTR/EAGAIN; 0 or -errno. */
int xioctl(int fd, unsigned long req, void *arg, const char *op)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	if (ret == -1) {
		last_op = op;
		return -errno;
	}
	return 0;
}

/*
 * swgpu's debugfs file. Both kernels have dri/<minor>/; 6.12 also has
 * dri/<driver name>/ with links, so the first match is taken.
 */
static void find_debugfs(struct provider *p)
{
	glob_t g;

	p->debugfs[0] = 0;
	if (glob("/sys/kernel/debug/dri/*/swgpu_objects", 0, NULL, &g))
		return;
	if (g.gl_pathc)
		snprintf(p->debugfs, sizeof(p->debugfs), "%s", g.gl_pathv[0]);
	globfree(&g);
}

static bool selected(const char *only, const char *name)
{
	size_t len = strlen(name);
	const char *s = only;

	if (!only || !*only)
		return true;
	while ((s = strstr(s, name))) {
		bool start = s == only || s[-1] == ',';
		bool end = s[len] == 0 || s[len] == ',';

		if (start && end)
			return true;
		s += len;
	}
	return false;
}

void providers_open(const char *only, bool quick)
{
	struct provider *p;

	for (p = providers; p < providers + NPROV; p++) {
		p->fd = p->fd2 = -1;
		if (!selected(only, p->name)) {
			snprintf(p->why, sizeof(p->why), "not selected");
			continue;
		}
		/* --quick keeps its time: huge pages are a full-run figure. */
		if (quick && p->id == PROV_SWGPU_HUGE) {
			snprintf(p->why, sizeof(p->why), "full runs only");
			continue;
		}
		switch (p->id) {
		case PROV_SWGPU:
		case PROV_SWGPU_HUGE:
			p->fd = drm_open_by_name("renderD", 128, "swgpu");
			p->fd2 = drm_open_by_name("renderD", 128, "swgpu");
			find_debugfs(p);
			break;
		case PROV_VGEM:
			/* Dumb buffers need the primary node. */
			p->fd = drm_open_by_name("card", 0, "vgem");
			p->fd2 = drm_open_by_name("renderD", 128, "vgem");
			break;
		case PROV_UDMABUF:
			p->fd = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
			break;
		case PROV_HEAP:
			p->fd = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
			break;
		default:
			break;
		}
		p->available = p->fd >= 0 && (!p->drm || p->fd2 >= 0);
		if (!p->available)
			snprintf(p->why, sizeof(p->why), "no %s device (%s)",
				 p->name, strerror(errno));
		/* udmabuf and the heaps are optional (6.1 has neither). */
		p->required = p->drm && p->id != PROV_SWGPU_HUGE;
	}
}

void providers_close(void)
{
	struct provider *p;

	for (p = providers; p < providers + NPROV; p++) {
		if (p->fd >= 0)
			close(p->fd);
		if (p->fd2 >= 0)
			close(p->fd2);
		p->fd = p->fd2 = -1;
		p->available = false;
	}
}

/*
 * udmabuf refuses buffers above its size_limit_mb parameter (64 MiB by
 * default); the parameter is writable by root, so raise it for the run.
 * Returns 0, or -E2BIG if the limit stays too low.
 */
int udmabuf_allow_size(size_t size)
{
	unsigned long want = (size + MiB - 1) / MiB, have = 0;
	char line[32];
	FILE *f;

	f = fopen(UDMABUF_LIMIT_PARAM, "r");
	if (!f)
		return 0;	/* no parameter: no limit we know of */
	if (fgets(line, sizeof(line), f))
		have = strtoul(line, NULL, 10);
	fclose(f);
	if (have >= want)
		return 0;
	snprintf(line, sizeof(line), "%lu", want);
	if (write_line(UDMABUF_LIMIT_PARAM, line))
		return -E2BIG;
	if (verbose)
		fprintf(stderr, "bench: udmabuf size_limit_mb %lu -> %lu\n",
			have, want);
	return 0;
}

static int udmabuf_create(struct buf *b)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC,
				    .size = b->size };
	int fd;

	b->memfd = memfd_create("swgpu-bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (b->memfd < 0) {
		last_op = "memfd_create";
		return -errno;
	}
	if (ftruncate(b->memfd, b->size)) {
		last_op = "ftruncate(memfd)";
		return -errno;
	}
	if (fcntl(b->memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		last_op = "F_ADD_SEALS";
		return -errno;
	}
	c.memfd = b->memfd;
	fd = ioctl(b->p->fd, UDMABUF_CREATE, &c);
	if (fd < 0) {
		last_op = "UDMABUF_CREATE";
		return -errno;
	}
	b->dmabuf = fd;
	return 0;
}

static int heap_create(struct buf *b)
{
	struct dma_heap_allocation_data a = {
		.len = b->size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int ret;

	ret = xioctl(b->p->fd, DMA_HEAP_IOCTL_ALLOC, &a, "DMA_HEAP_IOCTL_ALLOC");
	if (ret)
		return ret;
	b->dmabuf = a.fd;
	return 0;
}

int buf_create(struct provider *p, size_t size, struct buf *b)
{
	int ret;

	*b = (struct buf){ .p = p, .size = size, .dmabuf = -1, .memfd = -1,
			   .map = MAP_FAILED };
	switch (p->id) {
	case PROV_SWGPU:
	case PROV_SWGPU_HUGE: {
		struct drm_swgpu_gem_create c = { .size = size,
						  .flags = p->create_flags };

		ret = xioctl(p->fd, DRM_IOCTL_SWGPU_GEM_CREATE, &c,
			     "SWGPU_GEM_CREATE");
		b->handle = c.handle;
		break;
	}
	case PROV_VGEM: {
		/* One row of 4-byte pixels per page: any page multiple fits. */
		struct drm_mode_create_dumb c = {
			.width = 1024, .height = size / 4096, .bpp = 32,
		};

		ret = xioctl(p->fd, DRM_IOCTL_MODE_CREATE_DUMB, &c,
			     "MODE_CREATE_DUMB");
		b->handle = c.handle;
		if (!ret && c.size < size) {
			last_op = "MODE_CREATE_DUMB (short buffer)";
			ret = -EINVAL;
		}
		break;
	}
	case PROV_UDMABUF:
		ret = udmabuf_create(b);
		break;
	case PROV_HEAP:
		ret = heap_create(b);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret)
		buf_destroy(b);
	return ret;
}

int prime_to_fd(int fd, uint32_t handle, int *dmabuf)
{
	struct drm_prime_handle a = { .handle = handle,
				      .flags = DRM_CLOEXEC | DRM_RDWR };
	int ret;

	ret = xioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &a, "PRIME_HANDLE_TO_FD");
	if (!ret)
		*dmabuf = a.fd;
	return ret;
}

int prime_to_handle(int fd, int dmabuf, uint32_t *handle)
{
	struct drm_prime_handle a = { .fd = dmabuf };
	int ret;

	ret = xioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &a, "PRIME_FD_TO_HANDLE");
	if (!ret)
		*handle = a.handle;
	return ret;
}

int gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return xioctl(fd, DRM_IOCTL_GEM_CLOSE, &c, "GEM_CLOSE");
}

int buf_export(struct buf *b)
{
	if (b->dmabuf >= 0)
		return 0;
	return prime_to_fd(b->p->fd, b->handle, &b->dmabuf);
}

bool provider_can_map(struct provider *p, enum map_kind kind)
{
	return kind != MAP_GEM || p->drm;
}

int buf_map(struct buf *b, enum map_kind kind)
{
	int fd = b->dmabuf, ret;
	off_t offset = 0;

	if (kind == MAP_NATIVE)
		kind = b->p->drm ? MAP_GEM : MAP_DMABUF;
	if (kind == MAP_DMABUF) {
		ret = buf_export(b);
		if (ret)
			return ret;
		fd = b->dmabuf;
	} else if (b->p->swgpu) {
		struct drm_swgpu_gem_mmap_offset m = { .handle = b->handle };

		ret = xioctl(b->p->fd, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &m,
			     "SWGPU_GEM_MMAP_OFFSET");
		if (ret)
			return ret;
		fd = b->p->fd;
		offset = m.offset;
	} else if (b->p->id == PROV_VGEM) {
		struct drm_mode_map_dumb m = { .handle = b->handle };

		ret = xioctl(b->p->fd, DRM_IOCTL_MODE_MAP_DUMB, &m, "MODE_MAP_DUMB");
		if (ret)
			return ret;
		fd = b->p->fd;
		offset = m.offset;
	} else {
		last_op = "GEM map of a buffer without a handle";
		return -EINVAL;
	}
	b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      offset);
	if (b->map == MAP_FAILED) {
		last_op = "mmap";
		return -errno;
	}
	b->map_len = b->size;
	return 0;
}

void buf_unmap(struct buf *b)
{
	if (b->map != MAP_FAILED)
		munmap(b->map, b->map_len);
	b->map = MAP_FAILED;
}

int buf_destroy(struct buf *b)
{
	int ret = 0;

	buf_unmap(b);
	if (b->dmabuf >= 0)
		close(b->dmabuf);
	if (b->memfd >= 0)
		close(b->memfd);
	if (b->handle)
		ret = gem_close(b->p->fd, b->handle);
	b->dmabuf = b->memfd = -1;
	b->handle = 0;
	return ret;
}

/*
 * Resident pages of one of our objects, from swgpu's debugfs:
 *   pid P handle H size S resident R pinned N exported E imported I
 * -1 if the file or the line is missing.
 */
long swgpu_resident_pages(struct provider *p, uint32_t handle)
{
	long pid, h, resident, found = -1;
	char line[256];
	size_t size;
	FILE *f;

	if (!p->debugfs[0])
		return -1;
	f = fopen(p->debugfs, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "pid %ld handle %ld size %zu resident %ld",
			   &pid, &h, &size, &resident) != 4)
			continue;
		if (pid == getpid() && h == handle) {
			found = resident;
			break;
		}
	}
	fclose(f);
	return found;
}
