// SPDX-License-Identifier: MIT
/*
 * swgpu_basic - device identity on both nodes, and dumb buffers.
 *
 * Dumb buffers are the generic "give me a CPU-mappable buffer" interface of
 * DRM primary nodes; swgpu backs them with the same lazily allocated shmem
 * objects as its own GEM_CREATE.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("swgpu device identity and dumb buffers");

static int primary = -1;
static int render = -1;

static void check_driver_name(int fd)
{
	char name[64], date[64], desc[256];
	struct drm_version v;

	memset(&v, 0, sizeof(v));
	memset(name, 0, sizeof(name));
	v.name = name;
	v.name_len = sizeof(name) - 1;
	v.date = date;
	v.date_len = sizeof(date) - 1;
	v.desc = desc;
	v.desc_len = sizeof(desc) - 1;
	do_ioctl(fd, DRM_IOCTL_VERSION, &v);

	igt_assert_eq((int)v.name_len, (int)strlen(swgpu_driver_name()));
	igt_assert_f(!strcmp(name, swgpu_driver_name()),
		     "driver name is \"%s\"\n", name);
	igt_assert_lte(0, v.version_major);
}

static void dumb_create_expect(int fd, uint32_t width, uint32_t height,
			       uint32_t bpp, int err)
{
	struct drm_mode_create_dumb arg;

	memset(&arg, 0, sizeof(arg));
	arg.width = width;
	arg.height = height;
	arg.bpp = bpp;
	igt_assert_f(__swgpu_dumb_create(fd, &arg) == err,
		     "dumb create %ux%u@%u: want %d\n", width, height, bpp, err);
}

igt_main
{
	const size_t page = swgpu_page_size();

	igt_fixture {
		primary = swgpu_open_primary();
		render = swgpu_open_render();
	}

	igt_describe("The primary node reports the driver name swgpu.");
	igt_subtest("version-primary")
		check_driver_name(primary);

	igt_describe("The render node reports the driver name swgpu.");
	igt_subtest("version-render")
		check_driver_name(render);

	igt_describe("Dumb buffers of common sizes get a pitch that holds a "
		     "row and a page-multiple size that holds every row.");
	igt_subtest("dumb-create-sizes") {
		static const uint32_t dims[][3] = {
			{ 1, 1, 8 }, { 1, 1, 32 }, { 3, 5, 24 },
			{ 640, 480, 32 }, { 1024, 768, 16 },
			{ 1920, 1080, 32 }, { 4096, 4096, 32 }, { 8192, 1, 8 },
		};

		for (unsigned int i = 0; i < ARRAY_SIZE(dims); i++) {
			uint32_t w = dims[i][0], h = dims[i][1], bpp = dims[i][2];
			uint64_t min_pitch = ((uint64_t)w * bpp + 7) / 8;
			uint32_t pitch = 0, handle;
			uint64_t size = 0;

			handle = swgpu_dumb_create(primary, w, h, bpp, &pitch,
						   &size);
			igt_debug("%ux%u@%u: pitch %u size %llu\n", w, h, bpp,
				  pitch, (unsigned long long)size);
			igt_assert_lte_u64(min_pitch, pitch);
			igt_assert_lte_u64((uint64_t)pitch * h, size);
			igt_assert_eq_u64(size % page, 0);
			swgpu_gem_close(primary, handle);
		}
	}

	igt_describe("A dumb buffer with zero width is refused with EINVAL.");
	igt_subtest("dumb-create-zero-width")
		dumb_create_expect(primary, 0, 64, 32, -EINVAL);

	igt_describe("A dumb buffer with zero height is refused with EINVAL.");
	igt_subtest("dumb-create-zero-height")
		dumb_create_expect(primary, 64, 0, 32, -EINVAL);

	igt_describe("A dumb buffer with zero bpp is refused with EINVAL.");
	igt_subtest("dumb-create-zero-bpp")
		dumb_create_expect(primary, 64, 64, 0, -EINVAL);

	igt_describe("Dimensions whose byte size overflows are refused with "
		     "EINVAL instead of creating a short buffer.");
	igt_subtest("dumb-create-overflow") {
		dumb_create_expect(primary, 0xffffffff, 0xffffffff, 32, -EINVAL);
		dumb_create_expect(primary, 1u << 30, 1, 32, -EINVAL);
		dumb_create_expect(primary, 65536, 65536, 32, -EINVAL);
		dumb_create_expect(primary, 65536, 65536, 8, -EINVAL);
		dumb_create_expect(primary, 1, 1, 0xffffffff, -EINVAL);
		dumb_create_expect(primary, 1, 0xffffffff, 0xfffffff0, -EINVAL);
		/* and the device still hands out buffers */
		swgpu_gem_close(primary,
				swgpu_dumb_create(primary, 64, 64, 32, NULL, NULL));
	}

	igt_describe("A dumb buffer maps through MODE_MAP_DUMB and keeps what "
		     "was written across unmap and a new mapping.");
	igt_subtest("dumb-map-rw") {
		uint32_t pitch, handle;
		uint64_t size;
		void *a, *b;

		handle = swgpu_dumb_create(primary, 640, 480, 32, &pitch, &size);
		a = swgpu_dumb_mmap(primary, handle, size,
				    PROT_READ | PROT_WRITE);
		b = swgpu_dumb_mmap(primary, handle, size, PROT_READ);
		/* a fresh buffer reads as zeroes */
		for (uint64_t i = 0; i < size; i += 997)
			igt_assert_eq(((uint8_t *)b)[i], 0);
		swgpu_fill(a, size, 1);
		swgpu_assert_pattern(b, size, 1);
		igt_assert_eq(munmap(a, size), 0);
		igt_assert_eq(munmap(b, size), 0);

		a = swgpu_dumb_mmap(primary, handle, size, PROT_READ);
		swgpu_assert_pattern(a, size, 1);
		igt_assert_eq(munmap(a, size), 0);
		swgpu_gem_close(primary, handle);
	}

	igt_describe("MODE_MAP_DUMB of a handle that does not exist fails "
		     "with ENOENT.");
	igt_subtest("dumb-map-bad-handle") {
		uint64_t offset;
		uint32_t handle;

		igt_assert_eq(__swgpu_dumb_map_offset(primary, 0, &offset),
			      -ENOENT);
		igt_assert_eq(__swgpu_dumb_map_offset(primary, 0xdeadbeef,
						      &offset), -ENOENT);
		handle = swgpu_dumb_create(primary, 16, 16, 32, NULL, NULL);
		swgpu_gem_close(primary, handle);
		igt_assert_eq(__swgpu_dumb_map_offset(primary, handle, &offset),
			      -ENOENT);
	}

	igt_describe("Render nodes do not offer dumb buffers: create and map "
		     "fail with EACCES.");
	igt_subtest("dumb-render-denied") {
		struct drm_mode_create_dumb arg;
		uint64_t offset;
		uint32_t handle;

		memset(&arg, 0, sizeof(arg));
		arg.width = 64;
		arg.height = 64;
		arg.bpp = 32;
		igt_assert_eq(__swgpu_dumb_create(render, &arg), -EACCES);

		handle = swgpu_gem_create(render, page);
		igt_assert_eq(__swgpu_dumb_map_offset(render, handle, &offset),
			      -EACCES);
		swgpu_gem_close(render, handle);
	}

	igt_describe("MODE_DESTROY_DUMB releases the handle; a second destroy "
		     "or a close of it then fails.");
	igt_subtest("dumb-destroy") {
		uint32_t handle = swgpu_dumb_create(primary, 64, 64, 32, NULL,
						    NULL);

		igt_assert_eq(__swgpu_dumb_destroy(primary, handle), 0);
		igt_assert_eq(__swgpu_dumb_destroy(primary, handle), -EINVAL);
		igt_assert_eq(__swgpu_gem_close(primary, handle), -EINVAL);
	}

	igt_describe("A dumb buffer is an ordinary swgpu object: it maps "
		     "through GEM_MMAP_OFFSET and shares through PRIME with "
		     "the render node.");
	igt_subtest("dumb-share-render") {
		uint32_t handle, imported;
		uint64_t size;
		void *a, *b;
		int dmabuf;

		handle = swgpu_dumb_create(primary, 256, 256, 32, NULL, &size);
		a = swgpu_gem_mmap(primary, handle, size,
				   PROT_READ | PROT_WRITE);
		swgpu_fill(a, size, 2);

		dmabuf = swgpu_prime_export(primary, handle);
		imported = swgpu_prime_import(render, dmabuf);
		b = swgpu_gem_mmap(render, imported, size, PROT_READ);
		swgpu_assert_pattern(b, size, 2);

		igt_assert_eq(munmap(a, size), 0);
		igt_assert_eq(munmap(b, size), 0);
		close(dmabuf);
		swgpu_gem_close(render, imported);
		swgpu_gem_close(primary, handle);
	}

	igt_fixture {
		close(primary);
		close(render);
	}
}
