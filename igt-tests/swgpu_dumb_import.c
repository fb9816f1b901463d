// SPDX-License-Identifier: MIT
/*
 * swgpu_dumb_import - MODE_MAP_DUMB of imported buffers.
 *
 * Software renderers that know only dumb buffers (Mesa's kms_swrast, the
 * GBM and EGL backend llvmpipe uses on a KMS-less device) map every
 * buffer they get, including the dma-bufs they import, with
 * MODE_MAP_DUMB and mmap(2) on the primary node. The DRM core's default
 * refuses imported objects; swgpu hands out the offset and maps the
 * buffer through its exporter. Each subtest imports a dma-buf of another
 * exporter (vgem, udmabuf, the system dma-heap, where the kernel has
 * them), maps it with MODE_MAP_DUMB, and checks pixels both ways:
 * written by the exporter's side and read through swgpu's mapping,
 * written through swgpu's mapping and read by the exporter's side.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("MODE_MAP_DUMB of buffers swgpu imported");

/* An XRGB8888 surface, as a compositor or GBM would share it. */
#define WIDTH 256
#define HEIGHT 64
#define PITCH (WIDTH * 4)
#define SIZE ((uint64_t)PITCH * HEIGHT)

static int primary = -1;

/* The pixel at (x, y) of picture @seed: every pixel differs. */
static uint32_t pixel(uint32_t seed, int x, int y)
{
	return 0xff000000u ^ (seed * 0x9e3779b1u) ^ ((uint32_t)y << 12) ^
		(uint32_t)x;
}

static void draw(void *map, uint32_t pitch, uint32_t seed)
{
	for (int y = 0; y < HEIGHT; y++) {
		uint32_t *row = (uint32_t *)((uint8_t *)map + (size_t)y * pitch);

		for (int x = 0; x < WIDTH; x++)
			row[x] = pixel(seed, x, y);
	}
}

static void check_picture(const void *map, uint32_t pitch, uint32_t seed,
			  const char *through)
{
	for (int y = 0; y < HEIGHT; y++) {
		const uint32_t *row = (const uint32_t *)
			((const uint8_t *)map + (size_t)y * pitch);

		for (int x = 0; x < WIDTH; x++)
			igt_assert_f(row[x] == pixel(seed, x, y),
				     "%s: pixel (%d,%d) is %#010x, want %#010x\n",
				     through, x, y, row[x], pixel(seed, x, y));
	}
}

/* The exporter's own view of a buffer, and how to let it go. */
struct foreign {
	const char *name;
	int dmabuf;		/* exported read-only, as Mesa exports */
	void *map;		/* the exporter's side */
	uint32_t pitch;
	uint64_t size;
	int vgem;		/* vgem: its primary node, or -1 */
	uint32_t vgem_handle;
	int memfd;		/* udmabuf: the memfd, or -1 */
	bool sync;		/* bracket map's access with DMA_BUF_IOCTL_SYNC */
};

static void foreign_begin(struct foreign *f, uint64_t dir)
{
	if (f->sync)
		swgpu_dmabuf_sync(f->dmabuf, DMA_BUF_SYNC_START | dir);
}

static void foreign_end(struct foreign *f, uint64_t dir)
{
	if (f->sync)
		swgpu_dmabuf_sync(f->dmabuf, DMA_BUF_SYNC_END | dir);
}

static void foreign_init(struct foreign *f)
{
	memset(f, 0, sizeof(*f));
	f->dmabuf = -1;
	f->vgem = -1;
	f->memfd = -1;
}

static void foreign_vgem(struct foreign *f)
{
	foreign_init(f);
	f->name = "vgem";
	f->vgem = swgpu_open_vgem();
	igt_require_f(!swgpu_fd_is_swgpu(f->vgem),
		      "the vgem found is swgpu itself (vgem_compat=1): not a foreign exporter\n");
	f->vgem_handle = swgpu_dumb_create(f->vgem, WIDTH, HEIGHT, 32,
					   &f->pitch, &f->size);
	f->map = swgpu_dumb_mmap(f->vgem, f->vgem_handle, f->size,
				 PROT_READ | PROT_WRITE);
	igt_assert_eq(__swgpu_prime_export(f->vgem, f->vgem_handle,
					   DRM_CLOEXEC, &f->dmabuf), 0);
}

static void foreign_udmabuf(struct foreign *f)
{
	struct udmabuf_create create;
	int dev;

	foreign_init(f);
	f->name = "udmabuf";
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	igt_require_f(dev >= 0, "this kernel has no /dev/udmabuf (%s)\n",
		      strerror(errno));
	f->pitch = PITCH;
	f->size = SIZE;
	f->memfd = memfd_create("swgpu-dumb-import", MFD_ALLOW_SEALING);
	igt_assert(f->memfd >= 0);
	igt_assert_eq(ftruncate(f->memfd, (off_t)f->size), 0);
	igt_assert_eq(fcntl(f->memfd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	memset(&create, 0, sizeof(create));
	create.memfd = f->memfd;
	create.size = f->size;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	f->dmabuf = ioctl(dev, UDMABUF_CREATE, &create);
	igt_assert_f(f->dmabuf >= 0, "UDMABUF_CREATE: %s\n", strerror(errno));
	close(dev);
	/* udmabuf's own side: the memfd's pages. */
	f->map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f->memfd, 0);
	igt_assert(f->map != MAP_FAILED);
}

static void foreign_heap(struct foreign *f)
{
	struct dma_heap_allocation_data alloc;
	int heap;

	foreign_init(f);
	f->name = "system dma-heap";
	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	igt_require_f(heap >= 0, "this kernel has no system dma-heap (%s)\n",
		      strerror(errno));
	f->pitch = PITCH;
	f->size = SIZE;
	memset(&alloc, 0, sizeof(alloc));
	alloc.len = f->size;
	alloc.fd_flags = O_RDWR | O_CLOEXEC;
	igt_assert_f(ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc) == 0,
		     "DMA_HEAP_IOCTL_ALLOC: %s\n", strerror(errno));
	close(heap);
	f->dmabuf = (int)alloc.fd;
	/* The heap's own side: its dma-buf's mapping, with SYNC around. */
	f->map = swgpu_dmabuf_mmap(f->dmabuf, f->size, PROT_READ | PROT_WRITE);
	f->sync = true;
}

static void foreign_release(struct foreign *f)
{
	igt_assert_eq(munmap(f->map, f->size), 0);
	if (f->dmabuf >= 0)
		close(f->dmabuf);
	if (f->vgem >= 0) {
		swgpu_gem_close(f->vgem, f->vgem_handle);
		close(f->vgem);
	}
	if (f->memfd >= 0)
		close(f->memfd);
}

/*
 * What kms_swrast does with a buffer it imports: PRIME_FD_TO_HANDLE,
 * MODE_MAP_DUMB, mmap read-write on the primary node; then pixels go both
 * ways, and the mapping keeps working once the handle and the dma-buf fd
 * are closed.
 */
static void map_import(void (*make)(struct foreign *f))
{
	struct foreign f;
	uint32_t handle;
	uint64_t offset;
	void *map;

	make(&f);
	igt_assert_lte_u64(SIZE, f.size);
	foreign_begin(&f, DMA_BUF_SYNC_WRITE);
	draw(f.map, f.pitch, 1);
	foreign_end(&f, DMA_BUF_SYNC_WRITE);

	handle = swgpu_prime_import(primary, f.dmabuf);
	igt_assert_eq(__swgpu_dumb_map_offset(primary, handle, &offset), 0);
	map = mmap(NULL, f.size, PROT_READ | PROT_WRITE, MAP_SHARED, primary,
		   (off_t)offset);
	igt_assert_f(map != MAP_FAILED, "mmap of the %s import: %s\n", f.name,
		     strerror(errno));
	check_picture(map, f.pitch, 1, "swgpu's MAP_DUMB mapping");

	draw(map, f.pitch, 2);
	foreign_begin(&f, DMA_BUF_SYNC_READ);
	check_picture(f.map, f.pitch, 2, f.name);
	foreign_end(&f, DMA_BUF_SYNC_READ);

	/* The offset is the import's for good: asked again, the same. */
	igt_assert_eq_u64(swgpu_dumb_map_offset(primary, handle), offset);

	swgpu_gem_close(primary, handle);
	close(f.dmabuf);
	f.dmabuf = -1;
	f.sync = false;	/* no dma-buf fd left to sync on */
	draw(f.map, f.pitch, 3);
	check_picture(map, f.pitch, 3, "swgpu's mapping after every close");
	igt_assert_eq(munmap(map, f.size), 0);
	foreign_release(&f);
}

igt_main
{
	igt_fixture
		primary = swgpu_open_primary();

	igt_describe("A vgem dumb buffer, exported read-only and imported "
		     "into swgpu, maps through MODE_MAP_DUMB read-write; "
		     "pixels go both ways, and the mapping outlives the "
		     "handle and the dma-buf fd.");
	igt_subtest("vgem")
		map_import(foreign_vgem);

	igt_describe("A udmabuf imported into swgpu maps through "
		     "MODE_MAP_DUMB and shares the memfd's pages.");
	igt_subtest("udmabuf")
		map_import(foreign_udmabuf);

	igt_describe("A system dma-heap buffer imported into swgpu maps "
		     "through MODE_MAP_DUMB and shares the heap's pages.");
	igt_subtest("heap")
		map_import(foreign_heap);

	igt_describe("Mistakes around MAP_DUMB of an import get the "
		     "documented errno: the render node EACCES, a closed "
		     "handle ENOENT, a mapping longer than the buffer or not "
		     "at its offset EINVAL, another file's offset EACCES; "
		     "then a new import still maps.");
	igt_subtest("bad-input") {
		int render = swgpu_open_render();
		int other = swgpu_open_primary();
		struct foreign f;
		uint32_t handle, rhandle;
		uint64_t offset;
		void *map;

		/* any foreign exporter will do: udmabuf, or vgem on 6.1 */
		if (access("/dev/udmabuf", F_OK) == 0)
			foreign_udmabuf(&f);
		else
			foreign_vgem(&f);
		rhandle = swgpu_prime_import(render, f.dmabuf);
		igt_assert_eq(__swgpu_dumb_map_offset(render, rhandle, &offset),
			      -EACCES);

		handle = swgpu_prime_import(primary, f.dmabuf);
		offset = swgpu_dumb_map_offset(primary, handle);
		map = mmap(NULL, f.size + 4096, PROT_READ, MAP_SHARED, primary,
			   (off_t)offset);
		igt_assert(map == MAP_FAILED);
		igt_assert_eq(errno, EINVAL);
		map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, primary,
			   (off_t)(offset + 4096));
		igt_assert(map == MAP_FAILED);
		igt_assert_eq(errno, EINVAL);
		map = mmap(NULL, f.size, PROT_READ, MAP_SHARED, other,
			   (off_t)offset);
		igt_assert(map == MAP_FAILED);
		igt_assert_eq(errno, EACCES);

		swgpu_gem_close(primary, handle);
		igt_assert_eq(__swgpu_dumb_map_offset(primary, handle, &offset),
			      -ENOENT);

		/* and the same dma-buf imports and maps again */
		handle = swgpu_prime_import(primary, f.dmabuf);
		map = swgpu_dumb_mmap(primary, handle, f.size, PROT_READ);
		draw(f.map, f.pitch, 4);
		check_picture(map, f.pitch, 4, "swgpu's mapping");
		igt_assert_eq(munmap(map, f.size), 0);
		swgpu_gem_close(primary, handle);
		swgpu_gem_close(render, rhandle);
		foreign_release(&f);
		close(other);
		close(render);
	}

	igt_fixture
		close(primary);
}
