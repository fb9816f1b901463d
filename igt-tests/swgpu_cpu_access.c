// SPDX-License-Identifier: MIT
/*
 * swgpu_cpu_access - DRM_IOCTL_SWGPU_CPU_ACCESS, the range CPU access
 * window for user space, and DMA_BUF_IOCTL_SYNC as its whole-buffer case.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("Range CPU access windows on swgpu buffers");

static int render = -1;

static int __cpu_access(int fd, uint32_t handle, uint32_t flags,
			uint64_t offset, uint64_t length, uint64_t pad)
{
	struct drm_swgpu_cpu_access arg = {
		.handle = handle, .flags = flags,
		.offset = offset, .length = length, .pad = pad,
	};

	return igt_ioctl(fd, DRM_IOCTL_SWGPU_CPU_ACCESS, &arg) ? -errno : 0;
}

static void cpu_access(int fd, uint32_t handle, uint32_t flags,
		       uint64_t offset, uint64_t length)
{
	igt_assert_eq(__cpu_access(fd, handle, flags, offset, length, 0), 0);
}

/* Create, map, fill and check an object: the device still works. */
static void check_device_works(int fd)
{
	const size_t size = 4 * swgpu_page_size();
	uint32_t handle = swgpu_gem_create(fd, size);
	void *ptr = swgpu_gem_mmap(fd, handle, size, PROT_READ | PROT_WRITE);

	cpu_access(fd, handle, SWGPU_CPU_ACCESS_WRITE, 0, size);
	swgpu_fill(ptr, size, 91);
	cpu_access(fd, handle, SWGPU_CPU_ACCESS_WRITE | SWGPU_CPU_ACCESS_END,
		   0, size);
	swgpu_assert_pattern(ptr, size, 91);
	igt_assert_eq(munmap(ptr, size), 0);
	swgpu_gem_close(fd, handle);
}

static void windows_on(int fd)
{
	const size_t page = swgpu_page_size(), size = 8 * page;
	const uint32_t dirs[] = {
		SWGPU_CPU_ACCESS_READ, SWGPU_CPU_ACCESS_WRITE,
		SWGPU_CPU_ACCESS_RW,
	};
	uint32_t handle = swgpu_gem_create(fd, size);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		cpu_access(fd, handle, dirs[i], page, 2 * page);
		cpu_access(fd, handle, dirs[i] | SWGPU_CPU_ACCESS_END, page,
			   2 * page);
	}
	swgpu_gem_close(fd, handle);
}

static void range_populates_only_range(void)
{
	const size_t page = swgpu_page_size();
	const uint64_t size = 1ull << 30, off = 512ull << 20;
	uint32_t handle = swgpu_gem_create(render, size);
	struct swgpu_obj_info info;

	info = swgpu_obj_get(getpid(), handle);
	igt_assert_eq_u64(info.resident, 0);

	cpu_access(render, handle, SWGPU_CPU_ACCESS_RW, off, page);
	info = swgpu_obj_get(getpid(), handle);
	igt_assert_eq_u64(info.resident, 1);
	/* A user window is not a pin. */
	igt_assert_eq_u64(info.pinned, 0);

	cpu_access(render, handle, SWGPU_CPU_ACCESS_RW | SWGPU_CPU_ACCESS_END,
		   off, page);
	info = swgpu_obj_get(getpid(), handle);
	igt_assert_eq_u64(info.resident, 1);
	igt_assert_eq_u64(info.pinned, 0);
	swgpu_gem_close(render, handle);
}

static void range_straddles_pages(void)
{
	const size_t page = swgpu_page_size();
	uint32_t handle = swgpu_gem_create(render, 16 * page);

	/* Two bytes across the boundary of pages 3 and 4: two pages. */
	cpu_access(render, handle, SWGPU_CPU_ACCESS_READ, 4 * page - 1, 2);
	igt_assert_eq_u64(swgpu_obj_get(getpid(), handle).resident, 2);
	cpu_access(render, handle, SWGPU_CPU_ACCESS_READ | SWGPU_CPU_ACCESS_END,
		   4 * page - 1, 2);

	/* One byte in the last page: one more. */
	cpu_access(render, handle, SWGPU_CPU_ACCESS_WRITE, 16 * page - 1, 1);
	igt_assert_eq_u64(swgpu_obj_get(getpid(), handle).resident, 3);
	cpu_access(render, handle,
		   SWGPU_CPU_ACCESS_WRITE | SWGPU_CPU_ACCESS_END,
		   16 * page - 1, 1);
	swgpu_gem_close(render, handle);
}

static void content_through_window(void)
{
	const size_t page = swgpu_page_size(), size = 8 * page;
	uint32_t handle = swgpu_gem_create(render, size);
	int dmabuf = swgpu_prime_export(render, handle);
	uint8_t *gem, *dbuf;

	gem = swgpu_gem_mmap(render, handle, size, PROT_READ | PROT_WRITE);
	dbuf = swgpu_dmabuf_mmap(dmabuf, size, PROT_READ);

	cpu_access(render, handle, SWGPU_CPU_ACCESS_WRITE, 2 * page, 3 * page);
	swgpu_fill(gem + 2 * page, 3 * page, 0x77);
	cpu_access(render, handle,
		   SWGPU_CPU_ACCESS_WRITE | SWGPU_CPU_ACCESS_END,
		   2 * page, 3 * page);

	swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	swgpu_assert_pattern(dbuf + 2 * page, 3 * page, 0x77);
	swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);

	igt_assert_eq(munmap(gem, size), 0);
	igt_assert_eq(munmap(dbuf, size), 0);
	close(dmabuf);
	swgpu_gem_close(render, handle);
}

static void dmabuf_sync_is_whole_buffer(void)
{
	const size_t page = swgpu_page_size(), size = 16 * page;
	uint32_t handle = swgpu_gem_create(render, size);
	int dmabuf = swgpu_prime_export(render, handle);
	struct swgpu_obj_info info;

	igt_assert_eq_u64(swgpu_obj_get(getpid(), handle).resident, 0);
	swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	info = swgpu_obj_get(getpid(), handle);
	igt_assert_eq_u64(info.resident, 16);
	igt_assert_eq_u64(info.pinned, 0);
	swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	close(dmabuf);
	swgpu_gem_close(render, handle);
}

static void window_left_open_by_dead_process(void)
{
	const size_t page = swgpu_page_size(), size = 4 * page;
	uint32_t handle = swgpu_gem_create(render, size);
	int dmabuf = swgpu_prime_export(render, handle);
	struct swgpu_obj_info info;

	igt_fork(child, 1) {
		int fd = swgpu_open_render();
		uint32_t h = swgpu_prime_import(fd, dmabuf);

		cpu_access(fd, h, SWGPU_CPU_ACCESS_RW, 0, size);
		/* Exit inside the window. */
	}
	igt_waitchildren();

	info = swgpu_obj_get(getpid(), handle);
	igt_assert_eq_u64(info.pinned, 0);
	igt_assert_eq_u64(info.resident, 4);
	close(dmabuf);
	swgpu_gem_close(render, handle);
	check_device_works(render);
}

static void imported_vgem(void)
{
	const size_t page = swgpu_page_size();
	int vgem = swgpu_open_vgem();
	uint32_t pitch, vh, sh;
	uint64_t size;
	uint8_t *vmap, *smap;
	int dmabuf;

	vh = swgpu_dumb_create(vgem, 64, 32, 32, &pitch, &size);
	igt_assert_eq_u64(size, 2 * page);
	dmabuf = swgpu_prime_export(vgem, vh);
	sh = swgpu_prime_import(render, dmabuf);
	vmap = swgpu_dumb_mmap(vgem, vh, size, PROT_READ | PROT_WRITE);
	smap = swgpu_gem_mmap(render, sh, size, PROT_READ);

	swgpu_fill(vmap, size, 0x4242);
	cpu_access(render, sh, SWGPU_CPU_ACCESS_READ, page, page);
	swgpu_assert_pattern(smap, size, 0x4242);
	cpu_access(render, sh, SWGPU_CPU_ACCESS_READ | SWGPU_CPU_ACCESS_END,
		   page, page);

	/* The range is still checked against the imported object's size. */
	igt_assert_eq(__cpu_access(render, sh, SWGPU_CPU_ACCESS_READ, size, 1,
				   0), -EINVAL);

	igt_assert_eq(munmap(vmap, size), 0);
	igt_assert_eq(munmap(smap, size), 0);
	swgpu_gem_close(render, sh);
	close(dmabuf);
	swgpu_gem_close(vgem, vh);
	close(vgem);
}

igt_main
{
	const size_t page = swgpu_page_size();
	const uint64_t size = 4 * page;
	static uint32_t handle;

	igt_fixture {
		render = swgpu_open_render();
		swgpu_require_debugfs();
	}

	igt_describe("START and END in every direction on the render node.");
	igt_subtest("windows-render")
		windows_on(render);

	igt_describe("START and END in every direction on the primary node.");
	igt_subtest("windows-primary") {
		int primary = swgpu_open_primary();

		windows_on(primary);
		close(primary);
	}

	igt_describe("START on 4 KiB of a 1 GiB object allocates that one "
		     "page and pins nothing.");
	igt_subtest("range-populates-only-range")
		range_populates_only_range();

	igt_describe("A range straddling a page boundary makes both pages "
		     "resident; a one-byte range one page.");
	igt_subtest("range-straddles-pages")
		range_straddles_pages();

	igt_describe("What the CPU writes in a window is seen through the "
		     "dma-buf after END.");
	igt_subtest("content-through-window")
		content_through_window();

	igt_describe("DMA_BUF_IOCTL_SYNC START is the whole-buffer window: "
		     "every page resident, none pinned.");
	igt_subtest("dmabuf-sync-whole-buffer")
		dmabuf_sync_is_whole_buffer();

	igt_describe("A process that dies inside a window leaves no pin.");
	igt_subtest("window-left-open-by-dead-process")
		window_left_open_by_dead_process();

	igt_describe("END without START succeeds: END always succeeds.");
	igt_subtest("end-without-start") {
		handle = swgpu_gem_create(render, size);
		cpu_access(render, handle,
			   SWGPU_CPU_ACCESS_RW | SWGPU_CPU_ACCESS_END, 0, size);
		swgpu_gem_close(render, handle);
	}

	igt_describe("Windows on an imported vgem buffer use the exporter's "
		     "CPU access and see its content.");
	igt_subtest("imported-vgem")
		imported_vgem();

	igt_subtest_group {
		igt_fixture
			handle = swgpu_gem_create(render, size);

		igt_describe("Unknown flag bits fail with EINVAL.");
		igt_subtest("bad-flags") {
			for (int bit = 3; bit < 32; bit++)
				igt_assert_eq(__cpu_access(render, handle,
							   SWGPU_CPU_ACCESS_READ | (1u << bit),
							   0, page, 0), -EINVAL);
		}

		igt_describe("Neither READ nor WRITE fails with EINVAL.");
		igt_subtest("no-direction") {
			igt_assert_eq(__cpu_access(render, handle, 0, 0, page, 0),
				      -EINVAL);
			igt_assert_eq(__cpu_access(render, handle,
						   SWGPU_CPU_ACCESS_END, 0,
						   page, 0), -EINVAL);
		}

		igt_describe("Non-zero padding fails with EINVAL.");
		igt_subtest("bad-pad") {
			igt_assert_eq(__cpu_access(render, handle,
						   SWGPU_CPU_ACCESS_READ, 0,
						   page, 1), -EINVAL);
			igt_assert_eq(__cpu_access(render, handle,
						   SWGPU_CPU_ACCESS_READ, 0,
						   page, 1ull << 63), -EINVAL);
		}

		igt_describe("Length 0 fails with EINVAL.");
		igt_subtest("length-zero")
			igt_assert_eq(__cpu_access(render, handle,
						   SWGPU_CPU_ACCESS_READ, 0, 0,
						   0), -EINVAL);

		igt_describe("A range past the end of the object fails with "
			     "EINVAL; one ending exactly at it succeeds.");
		igt_subtest("range-past-end") {
			uint32_t r = SWGPU_CPU_ACCESS_READ;

			igt_assert_eq(__cpu_access(render, handle, r, size, 1, 0),
				      -EINVAL);
			igt_assert_eq(__cpu_access(render, handle, r, size - 1,
						   2, 0), -EINVAL);
			igt_assert_eq(__cpu_access(render, handle, r, 0,
						   size + 1, 0), -EINVAL);
			cpu_access(render, handle, r, size - 1, 1);
			cpu_access(render, handle, r | SWGPU_CPU_ACCESS_END,
				   size - 1, 1);
		}

		igt_describe("Offsets and lengths that overflow fail with "
			     "EINVAL.");
		igt_subtest("range-overflow") {
			uint32_t r = SWGPU_CPU_ACCESS_READ;

			igt_assert_eq(__cpu_access(render, handle, r, ~0ull - 1,
						   4, 0), -EINVAL);
			igt_assert_eq(__cpu_access(render, handle, r, page,
						   ~0ull, 0), -EINVAL);
			igt_assert_eq(__cpu_access(render, handle, r, ~0ull,
						   ~0ull, 0), -EINVAL);
		}

		igt_describe("Unknown handles fail with ENOENT, and the "
			     "device keeps working after all bad input.");
		igt_subtest("bad-handle") {
			igt_assert_eq(__cpu_access(render, 0,
						   SWGPU_CPU_ACCESS_READ, 0,
						   page, 0), -ENOENT);
			igt_assert_eq(__cpu_access(render, handle + 1000,
						   SWGPU_CPU_ACCESS_READ, 0,
						   page, 0), -ENOENT);
			check_device_works(render);
		}

		igt_fixture
			swgpu_gem_close(render, handle);
	}

	igt_fixture
		close(render);
}
