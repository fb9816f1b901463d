// SPDX-License-Identifier: MIT
/*
 * swgpu_prime_vgem - sharing buffers between swgpu and another driver,
 * vgem, through PRIME: each direction, content through each side's
 * mappings, what debugfs reports, and every order of letting go.
 *
 * vgem buffers are dumb buffers on vgem's primary node. The DRM core does
 * not let a driver hand out a MAP_DUMB offset for a buffer it imported, so
 * where vgem cannot map a swgpu buffer itself, the test reads through the
 * dma-buf that vgem's handle exports (which must be the same dma-buf).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("PRIME sharing between swgpu and vgem");

static int render = -1;
static int vgem = -1;
static size_t page;

#define NPAGES 8

/* A vgem buffer of NPAGES pages. */
static uint32_t vgem_create(uint64_t *size)
{
	uint32_t handle;

	handle = swgpu_dumb_create(vgem, page / 4, NPAGES, 32, NULL, size);
	igt_assert_lte_u64(NPAGES * page, *size);
	return handle;
}

/*
 * Map, through vgem, the buffer vgem holds as @vgem_handle (imported from
 * a dma-buf). Where vgem refuses MAP_DUMB for imports, map the dma-buf its
 * handle exports, after checking it is the very same dma-buf as @orig.
 */
static void *vgem_map_import(uint32_t vgem_handle, int orig, uint64_t size)
{
	uint64_t offset;
	void *ptr;
	int err, dmabuf;

	err = __swgpu_dumb_map_offset(vgem, vgem_handle, &offset);
	if (err == 0) {
		ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   vgem, (off_t)offset);
		igt_assert(ptr != MAP_FAILED);
		igt_debug("vgem mapped its import itself\n");
		return ptr;
	}
	igt_assert_eq(err, -EINVAL);

	dmabuf = swgpu_prime_export(vgem, vgem_handle);
	igt_assert(swgpu_same_inode(dmabuf, orig));
	ptr = swgpu_dmabuf_mmap(dmabuf, size, PROT_READ | PROT_WRITE);
	close(dmabuf);
	igt_debug("vgem's import mapped through its dma-buf\n");
	return ptr;
}

enum holder { VGEM_HANDLE, DMABUF_FD, SWGPU_HANDLE, NUM_HOLDERS };
static const char *const holder_names[] = {
	[VGEM_HANDLE] = "vgem",
	[DMABUF_FD] = "fd",
	[SWGPU_HANDLE] = "swgpu",
};
static const int orders[6][3] = {
	{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
	{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
};

struct share {
	uint32_t vgem_handle;
	uint32_t swgpu_handle;
	int dmabuf;
	uint64_t size;
};

static void let_go(struct share *s, enum holder h)
{
	switch (h) {
	case VGEM_HANDLE:
		swgpu_gem_close(vgem, s->vgem_handle);
		break;
	case DMABUF_FD:
		igt_assert_eq(close(s->dmabuf), 0);
		break;
	case SWGPU_HANDLE:
		swgpu_gem_close(render, s->swgpu_handle);
		break;
	default:
		igt_assert(0);
	}
}

static void check_no_line(uint32_t handle)
{
	struct swgpu_obj_info info;

	if (swgpu_debugfs_objects_path())
		igt_assert_eq(swgpu_obj_info(getpid(), handle, &info), -ENOENT);
}

/* Write through @a, read through @b, and the other way round. */
static void check_shared(uint8_t *a, uint8_t *b, uint64_t size, uint32_t seed)
{
	swgpu_fill(a, size, seed);
	swgpu_assert_pattern(b, size, seed);
	swgpu_fill(b + page, page, seed + 1);
	swgpu_assert_pattern(a + page, page, seed + 1);
}

/* vgem buffer, exported to swgpu, released in the order @order. */
static void vgem_export_close_order(const int *order)
{
	struct share s;
	uint8_t *vmap, *smap;
	uint32_t seed = 40;

	s.vgem_handle = vgem_create(&s.size);
	vmap = swgpu_dumb_mmap(vgem, s.vgem_handle, s.size,
			       PROT_READ | PROT_WRITE);
	s.dmabuf = swgpu_prime_export(vgem, s.vgem_handle);
	s.swgpu_handle = swgpu_prime_import(render, s.dmabuf);
	smap = swgpu_gem_mmap(render, s.swgpu_handle, s.size,
			      PROT_READ | PROT_WRITE);
	check_shared(vmap, smap, s.size, seed);

	for (int i = 0; i < NUM_HOLDERS; i++) {
		let_go(&s, order[i]);
		seed += 2;
		check_shared(vmap, smap, s.size, seed);
		check_shared(smap, vmap, s.size, seed + 100);
	}
	igt_assert_eq(munmap(vmap, s.size), 0);
	igt_assert_eq(munmap(smap, s.size), 0);
	check_no_line(s.swgpu_handle);
}

/* swgpu buffer, exported to vgem, released in the order @order. */
static void swgpu_export_close_order(const int *order)
{
	struct share s;
	uint8_t *gmap, *dmap;
	uint32_t seed = 60;

	s.size = NPAGES * page;
	s.swgpu_handle = swgpu_gem_create(render, s.size);
	gmap = swgpu_gem_mmap(render, s.swgpu_handle, s.size,
			      PROT_READ | PROT_WRITE);
	s.dmabuf = swgpu_prime_export(render, s.swgpu_handle);
	s.vgem_handle = swgpu_prime_import(vgem, s.dmabuf);
	dmap = swgpu_dmabuf_mmap(s.dmabuf, s.size, PROT_READ | PROT_WRITE);
	check_shared(gmap, dmap, s.size, seed);

	for (int i = 0; i < NUM_HOLDERS; i++) {
		let_go(&s, order[i]);
		seed += 2;
		check_shared(gmap, dmap, s.size, seed);
		check_shared(dmap, gmap, s.size, seed + 100);
	}
	igt_assert_eq(munmap(gmap, s.size), 0);
	igt_assert_eq(munmap(dmap, s.size), 0);
	check_no_line(s.swgpu_handle);
}

igt_main
{
	page = swgpu_page_size();

	igt_fixture {
		render = swgpu_open_render();
		vgem = swgpu_open_vgem();
	}

	igt_describe("A vgem buffer imported into swgpu maps through "
		     "GEM_MMAP_OFFSET and shares its pages with vgem's own "
		     "mapping, both ways; a second import is the same handle.");
	igt_subtest("vgem-to-swgpu-gem-mmap") {
		uint8_t *vmap, *smap;
		uint32_t vh, sh;
		uint64_t size;
		int dmabuf;

		vh = vgem_create(&size);
		vmap = swgpu_dumb_mmap(vgem, vh, size, PROT_READ | PROT_WRITE);
		swgpu_fill(vmap, size, 30);

		dmabuf = swgpu_prime_export(vgem, vh);
		sh = swgpu_prime_import(render, dmabuf);
		igt_assert_eq_u32(swgpu_prime_import(render, dmabuf), sh);
		smap = swgpu_gem_mmap(render, sh, size, PROT_READ | PROT_WRITE);
		swgpu_assert_pattern(smap, size, 30);

		swgpu_fill(smap, size, 31);
		swgpu_assert_pattern(vmap, size, 31);

		igt_assert_eq(munmap(vmap, size), 0);
		igt_assert_eq(munmap(smap, size), 0);
		close(dmabuf);
		swgpu_gem_close(render, sh);
		swgpu_gem_close(vgem, vh);
	}

	igt_describe("swgpu re-exports an imported vgem buffer as the very "
		     "same dma-buf, whose mapping, bracketed by "
		     "DMA_BUF_IOCTL_SYNC, shares vgem's pages.");
	igt_subtest("vgem-to-swgpu-reexport") {
		uint8_t *vmap, *dmap;
		uint32_t vh, sh;
		uint64_t size;
		int dmabuf, again;

		vh = vgem_create(&size);
		vmap = swgpu_dumb_mmap(vgem, vh, size, PROT_READ | PROT_WRITE);
		swgpu_fill(vmap, size, 32);
		dmabuf = swgpu_prime_export(vgem, vh);
		sh = swgpu_prime_import(render, dmabuf);

		again = swgpu_prime_export(render, sh);
		igt_assert(swgpu_same_inode(again, dmabuf));
		close(dmabuf);
		swgpu_gem_close(vgem, vh);
		igt_assert_eq_s64(swgpu_dmabuf_size(again), (int64_t)size);
		dmap = swgpu_dmabuf_mmap(again, size, PROT_READ | PROT_WRITE);
		swgpu_dmabuf_sync(again, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
		swgpu_assert_pattern(dmap, size, 32);
		swgpu_fill(dmap, size, 33);
		swgpu_dmabuf_sync(again, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
		swgpu_assert_pattern(vmap, size, 33);

		/* and it imports back into vgem as a buffer of vgem's */
		vh = swgpu_prime_import(vgem, again);
		igt_assert_eq(munmap(dmap, size), 0);
		igt_assert_eq(munmap(vmap, size), 0);
		close(again);
		swgpu_gem_close(vgem, vh);
		swgpu_gem_close(render, sh);
	}

	igt_describe("A swgpu buffer imported into vgem is the same dma-buf "
		     "there, and what swgpu wrote reads back through vgem, and "
		     "the other way round.");
	igt_subtest("swgpu-to-vgem") {
		const uint64_t size = NPAGES * page;
		uint32_t sh = swgpu_gem_create(render, size);
		uint8_t *smap, *vmap;
		uint32_t vh;
		int dmabuf;

		smap = swgpu_gem_mmap(render, sh, size, PROT_READ | PROT_WRITE);
		swgpu_fill(smap, size, 34);
		dmabuf = swgpu_prime_export(render, sh);
		vh = swgpu_prime_import(vgem, dmabuf);
		igt_assert_eq_u32(swgpu_prime_import(vgem, dmabuf), vh);

		vmap = vgem_map_import(vh, dmabuf, size);
		swgpu_assert_pattern(vmap, size, 34);
		swgpu_fill(vmap, size, 35);
		swgpu_assert_pattern(smap, size, 35);

		igt_assert_eq(munmap(vmap, size), 0);
		igt_assert_eq(munmap(smap, size), 0);
		close(dmabuf);
		swgpu_gem_close(vgem, vh);
		swgpu_gem_close(render, sh);
	}

	igt_subtest_group {
		igt_fixture
			swgpu_require_debugfs();

		igt_describe("debugfs marks a vgem buffer imported into swgpu "
			     "as imported, with vgem's size, until it is "
			     "closed.");
		igt_subtest("vgem-import-debugfs") {
			struct swgpu_obj_info info;
			uint32_t vh, sh;
			uint64_t size;
			int dmabuf;

			vh = vgem_create(&size);
			dmabuf = swgpu_prime_export(vgem, vh);
			sh = swgpu_prime_import(render, dmabuf);

			info = swgpu_obj_get(getpid(), sh);
			igt_assert(info.imported);
			igt_assert_eq_u64(info.size, size);

			close(dmabuf);
			swgpu_gem_close(vgem, vh);
			info = swgpu_obj_get(getpid(), sh);
			igt_assert(info.imported);
			swgpu_gem_close(render, sh);
			check_no_line(sh);
		}

		igt_describe("While vgem holds a DMA mapping of a swgpu buffer, "
			     "swgpu keeps all its pages resident and pinned; "
			     "an import that maps nothing (newer vgem imports "
			     "through drm_gem_shmem_prime_import_no_map) pins "
			     "and allocates nothing; once vgem lets go, "
			     "nothing stays pinned.");
		igt_subtest("swgpu-to-vgem-pins") {
			const uint64_t size = NPAGES * page;
			uint32_t sh = swgpu_gem_create(render, size);
			struct swgpu_obj_info info;
			uint32_t vh;
			int dmabuf;

			info = swgpu_obj_get(getpid(), sh);
			igt_assert_eq_u64(info.resident, 0);
			igt_assert_eq_u64(info.pinned, 0);

			dmabuf = swgpu_prime_export(render, sh);
			vh = swgpu_prime_import(vgem, dmabuf);
			info = swgpu_obj_get(getpid(), sh);
			igt_assert(info.exported);
			igt_assert(!info.imported);
			if (info.pinned) {
				igt_info("vgem mapped the attachment at import\n");
				igt_assert_eq_u64(info.resident, NPAGES);
				igt_assert_eq_u64(info.pinned, NPAGES);
			} else {
				igt_info("vgem attached without mapping\n");
				igt_assert_eq_u64(info.resident, 0);
			}

			close(dmabuf);
			swgpu_gem_close(vgem, vh);
			info = swgpu_obj_get(getpid(), sh);
			igt_assert_eq_u64(info.pinned, 0);
			swgpu_gem_close(render, sh);
		}
	}

	for (int i = 0; i < 6; i++) {
		igt_describe("A vgem buffer shared with swgpu stays intact and "
			     "shared for whoever still holds it, whatever the "
			     "order the vgem handle, the dma-buf fd and the "
			     "swgpu handle are closed in.");
		igt_subtest_f("vgem-export-close-%s-%s-%s",
			      holder_names[orders[i][0]],
			      holder_names[orders[i][1]],
			      holder_names[orders[i][2]])
			vgem_export_close_order(orders[i]);
	}

	for (int i = 0; i < 6; i++) {
		igt_describe("A swgpu buffer shared with vgem stays intact for "
			     "whoever still holds it, whatever the order the "
			     "swgpu handle, the dma-buf fd and the vgem handle "
			     "are closed in.");
		igt_subtest_f("swgpu-export-close-%s-%s-%s",
			      holder_names[orders[i][0]],
			      holder_names[orders[i][1]],
			      holder_names[orders[i][2]])
			swgpu_export_close_order(orders[i]);
	}

	igt_fixture {
		close(render);
		close(vgem);
	}
}
