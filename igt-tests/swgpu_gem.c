// SPDX-License-Identifier: MIT
/*
 * swgpu_gem - swgpu's own GEM objects: GEM_CREATE, GEM_MMAP_OFFSET, mmap,
 * GEM_CLOSE, lazy allocation and object lifetime.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("swgpu GEM objects: create, mmap, close, lazy backing");

static int primary = -1;
static int render = -1;

static void create_expect(int fd, uint64_t size, uint32_t flags, int err)
{
	uint32_t handle = 0;
	uint64_t sz = size;
	int ret = __swgpu_gem_create(fd, &sz, flags, &handle);

	igt_assert_f(ret == err, "create size %#llx flags %#x: got %d, want %d\n",
		     (unsigned long long)size, flags, ret, err);
	if (ret == 0)
		swgpu_gem_close(fd, handle);
}

/* Create, map, fill and check an object: the device works. */
static void check_device_works(int fd)
{
	const size_t size = 4 * swgpu_page_size();
	uint32_t handle = swgpu_gem_create(fd, size);
	void *ptr = swgpu_gem_mmap(fd, handle, size, PROT_READ | PROT_WRITE);

	swgpu_fill(ptr, size, 77);
	swgpu_assert_pattern(ptr, size, 77);
	igt_assert_eq(munmap(ptr, size), 0);
	swgpu_gem_close(fd, handle);
}

static void create_on(int fd)
{
	const size_t page = swgpu_page_size();
	uint32_t a, b;

	a = swgpu_gem_create(fd, page);
	b = swgpu_gem_create(fd, 16 * page);
	igt_assert_neq_u32(a, b);
	swgpu_gem_close(fd, a);
	swgpu_gem_close(fd, b);
}

/* Out of igt_main: its locals must not live across its setjmp. */
static __attribute__((noinline)) void create_size_rounding(void)
{
	const size_t page = swgpu_page_size();
	const uint64_t sizes[] = {
		1, page - 1, page, page + 1, 3 * page - 17,
		12345, 1 << 20, (1 << 20) + 1,
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint64_t size = sizes[i];
		uint32_t handle;

		igt_assert_eq(__swgpu_gem_create(render, &size, 0, &handle), 0);
		igt_assert_eq_u64(size, ALIGN(sizes[i], (uint64_t)page));
		swgpu_gem_close(render, handle);
	}
}

static uint64_t resident_of(uint32_t handle)
{
	return swgpu_obj_get(getpid(), handle).resident;
}

static void lazy_alloc(void)
{
	const size_t page = swgpu_page_size();
	const uint64_t size = 1ull << 30;
	int fd = swgpu_open_render();
	uint32_t handle = swgpu_gem_create(fd, size);
	struct swgpu_obj_info info;
	volatile uint8_t *ptr;

	info = swgpu_obj_get(getpid(), handle);
	igt_assert_eq_u64(info.size, size);
	igt_assert_eq_u64(info.resident, 0);
	igt_assert_eq_u64(info.pinned, 0);

	ptr = swgpu_gem_mmap(fd, handle, size, PROT_READ | PROT_WRITE);
	igt_assert_eq_u64(resident_of(handle), 0);

	ptr[0] = 0xa5;
	info = swgpu_obj_get(getpid(), handle);
	igt_assert_eq_u64(info.resident, 1);
	igt_assert_eq_u64(info.pinned, 0);

	ptr[size / 2 + 5 * page + 7] = 0x5a;
	info = swgpu_obj_get(getpid(), handle);
	igt_assert_eq_u64(info.resident, 2);
	igt_assert_eq_u64(info.pinned, 0);

	/* touching the same pages again costs nothing */
	ptr[1] = 1;
	ptr[size / 2 + 5 * page] = 2;
	igt_assert_eq_u64(resident_of(handle), 2);

	ptr[size - 1] = 3;
	info = swgpu_obj_get(getpid(), handle);
	igt_assert_eq_u64(info.resident, 3);
	/* Highmem pages are resident pages, on kernels that have any. */
	igt_assert_lte_u64(info.highmem, info.resident);
	igt_assert_eq(ptr[0], 0xa5);
	igt_assert_eq(ptr[size / 2 + 5 * page + 7], 0x5a);

	igt_assert_eq(munmap((void *)ptr, size), 0);
	swgpu_gem_close(fd, handle);
	close(fd);
}

/*
 * An object of huge pages, with a tail of 4 KiB ones, reads and writes
 * the same through two GEM mappings and a dma-buf mapping.
 */
static void huge_rw(int fd)
{
	const size_t page = swgpu_page_size();
	uint64_t size = (4ull << 20) + 3 * page;
	uint32_t handle;
	uint8_t *a, *b, *c;
	int dmabuf;

	igt_assert_eq(__swgpu_gem_create(fd, &size, SWGPU_GEM_CREATE_HUGE,
					 &handle), 0);
	igt_assert_eq_u64(size, (4ull << 20) + 3 * page);
	a = swgpu_gem_mmap(fd, handle, size, PROT_READ | PROT_WRITE);
	swgpu_fill(a, size, 0x4855);
	b = swgpu_gem_mmap(fd, handle, size, PROT_READ);
	swgpu_assert_pattern(b, size, 0x4855);
	dmabuf = swgpu_prime_export(fd, handle);
	c = swgpu_dmabuf_mmap(dmabuf, size, PROT_READ | PROT_WRITE);
	swgpu_assert_pattern(c, size, 0x4855);
	swgpu_fill(c + page, size - 2 * page, 0x6875);
	swgpu_assert_pattern(b + page, size - 2 * page, 0x6875);
	igt_assert_eq(munmap(a, size), 0);
	igt_assert_eq(munmap(c, size), 0);
	close(dmabuf);
	swgpu_gem_close(fd, handle);
	/* The mapping outlives the object. */
	swgpu_assert_pattern(b + page, size - 2 * page, 0x6875);
	igt_assert_eq(munmap(b, size), 0);
}

/* A huge object is as lazy as any, up to one huge page per touch. */
static void huge_lazy(void)
{
	const uint64_t huge = 2ull << 20;
	const size_t page = swgpu_page_size();
	uint64_t size = 1ull << 30;
	int fd = swgpu_open_render();
	volatile uint8_t *ptr;
	uint32_t handle;
	uint64_t resident;

	igt_assert_eq(__swgpu_gem_create(fd, &size, SWGPU_GEM_CREATE_HUGE,
					 &handle), 0);
	igt_assert_eq_u64(resident_of(handle), 0);
	ptr = swgpu_gem_mmap(fd, handle, size, PROT_READ | PROT_WRITE);
	igt_assert_eq_u64(resident_of(handle), 0);
	ptr[size / 2 + 7] = 0x5a;
	resident = resident_of(handle);
	igt_assert_lte_u64(1, resident);
	igt_assert_lte_u64(resident, huge / page);
	igt_assert_eq(ptr[size / 2 + 7], 0x5a);
	igt_assert_eq(ptr[size / 2 + 8], 0);
	igt_assert_eq(munmap((void *)ptr, size), 0);
	swgpu_gem_close(fd, handle);
	close(fd);
}

static void debugfs_object_lifetime(void)
{
	const size_t page = swgpu_page_size();
	int fd = swgpu_open_primary();
	uint32_t handle = swgpu_gem_create(fd, 3 * page);
	struct swgpu_obj_info info;

	info = swgpu_obj_get(getpid(), handle);
	igt_assert_eq_u32(info.handle, handle);
	igt_assert_eq_u64(info.size, 3 * page);
	igt_assert(!info.exported);
	igt_assert(!info.imported);
	igt_assert_eq_u64(info.resident, 0);
	igt_assert_eq_u64(info.pinned, 0);
	swgpu_gem_close(fd, handle);
	igt_assert_eq(swgpu_obj_info(getpid(), handle, &info), -ENOENT);
	close(fd);
}

igt_main
{
	const size_t page = swgpu_page_size();

	igt_fixture {
		primary = swgpu_open_primary();
		render = swgpu_open_render();
	}

	igt_describe("GEM_CREATE works on the render node.");
	igt_subtest("create-render")
		create_on(render);

	igt_describe("GEM_CREATE works on the primary node.");
	igt_subtest("create-primary")
		create_on(primary);

	igt_describe("The size GEM_CREATE returns is the request rounded up "
		     "to whole pages.");
	igt_subtest("create-size-rounding")
		create_size_rounding();

	igt_describe("GEM_CREATE of size 0 fails with EINVAL.");
	igt_subtest("create-size-zero")
		create_expect(render, 0, 0, -EINVAL);

	igt_describe("GEM_CREATE above SWGPU_GEM_CREATE_MAX_SIZE fails with "
		     "EINVAL, including sizes that overflow when rounded.");
	igt_subtest("create-size-too-big") {
		create_expect(render, SWGPU_GEM_CREATE_MAX_SIZE + 1, 0, -EINVAL);
		create_expect(render, SWGPU_GEM_CREATE_MAX_SIZE + page, 0,
			      -EINVAL);
		create_expect(render, 1ull << 63, 0, -EINVAL);
		create_expect(render, ~0ull, 0, -EINVAL);
		create_expect(render, ~0ull - page + 2, 0, -EINVAL);
		/* A 32-bit kernel cannot hold 4 GiB in a size_t. */
		if (!swgpu_kernel_is_64bit()) {
			create_expect(render, 1ull << 32, 0, -EINVAL);
			create_expect(render, (1ull << 32) - page + 1, 0,
				      -EINVAL);
		}
	}

	igt_describe("GEM_CREATE of exactly SWGPU_GEM_CREATE_MAX_SIZE (on "
		     "32-bit kernels 4 GiB less a page) succeeds without "
		     "allocating it.");
	igt_subtest("create-max-size") {
		/* On 32-bit kernels the largest is 4 GiB less a page. */
		static uint64_t max, size;
		uint32_t handle;

		max = swgpu_kernel_is_64bit() ? SWGPU_GEM_CREATE_MAX_SIZE :
						(1ull << 32) - page;
		size = max;
		igt_assert_eq(__swgpu_gem_create(render, &size, 0, &handle), 0);
		igt_assert_eq_u64(size, max);
		swgpu_gem_close(render, handle);
	}

	igt_describe("Every GEM_CREATE flag bit but those of "
		     "SWGPU_GEM_CREATE_FLAGS is reserved: EINVAL.");
	igt_subtest("create-flags") {
		for (int bit = 0; bit < 32; bit++)
			create_expect(render, page, 1u << bit,
				      (1u << bit) & SWGPU_GEM_CREATE_FLAGS ?
				      0 : -EINVAL);
		create_expect(render, page, ~0u, -EINVAL);
		create_expect(render, page,
			      SWGPU_GEM_CREATE_HUGE | (1u << 31), -EINVAL);
		check_device_works(render);
	}

	igt_describe("An object of huge pages (SWGPU_GEM_CREATE_HUGE) "
		     "reads and writes the same through GEM and dma-buf "
		     "mappings, also in its 4 KiB tail, and its mapping "
		     "outlives it.");
	igt_subtest("create-huge-rw")
		huge_rw(render);

	igt_describe("GEM_MMAP_OFFSET of an unknown handle fails with ENOENT.");
	igt_subtest("mmap-offset-bad-handle") {
		uint64_t offset;
		uint32_t handle;

		igt_assert_eq(__swgpu_gem_mmap_offset(render, 0, &offset),
			      -ENOENT);
		igt_assert_eq(__swgpu_gem_mmap_offset(render, 0xffffffff,
						      &offset), -ENOENT);
		handle = swgpu_gem_create(render, page);
		swgpu_gem_close(render, handle);
		igt_assert_eq(__swgpu_gem_mmap_offset(render, handle, &offset),
			      -ENOENT);
	}

	igt_describe("GEM_MMAP_OFFSET with non-zero padding fails with EINVAL.");
	igt_subtest("mmap-offset-pad") {
		uint32_t handle = swgpu_gem_create(render, page);
		struct drm_swgpu_gem_mmap_offset arg;

		memset(&arg, 0, sizeof(arg));
		arg.handle = handle;
		arg.pad = 1;
		do_ioctl_err(render, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &arg,
			     EINVAL);
		arg.pad = 0x80000000;
		do_ioctl_err(render, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &arg,
			     EINVAL);
		arg.pad = 0;
		do_ioctl(render, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &arg);
		swgpu_gem_close(render, handle);
	}

	igt_describe("What is written through a mapping reads back, also "
		     "through a later mapping; new objects read as zeroes.");
	igt_subtest("mmap-rw") {
		const size_t size = 64 * page + 123;
		volatile uint64_t rounded = ALIGN((uint64_t)size, (uint64_t)page);
		uint32_t handle = swgpu_gem_create(render, size);
		uint8_t *ptr;

		ptr = swgpu_gem_mmap(render, handle, rounded,
				     PROT_READ | PROT_WRITE);
		for (uint64_t i = 0; i < rounded; i += 511)
			igt_assert_eq(ptr[i], 0);
		swgpu_fill(ptr, rounded, 3);
		igt_assert_eq(munmap(ptr, rounded), 0);

		ptr = swgpu_gem_mmap(render, handle, rounded, PROT_READ);
		swgpu_assert_pattern(ptr, rounded, 3);
		igt_assert_eq(munmap(ptr, rounded), 0);
		swgpu_gem_close(render, handle);
	}

	igt_describe("Two mappings of one object share their pages.");
	igt_subtest("mmap-coherent") {
		const size_t size = 8 * page;
		uint32_t handle = swgpu_gem_create(primary, size);
		uint8_t *a, *b;

		a = swgpu_gem_mmap(primary, handle, size, PROT_READ | PROT_WRITE);
		b = swgpu_gem_mmap(primary, handle, size, PROT_READ | PROT_WRITE);
		igt_assert(a != b);
		swgpu_fill(a, size, 4);
		swgpu_assert_pattern(b, size, 4);
		swgpu_fill(b + page, page, 5);
		swgpu_assert_pattern(a + page, page, 5);
		igt_assert_eq(munmap(a, size), 0);
		igt_assert_eq(munmap(b, size), 0);
		swgpu_gem_close(primary, handle);
	}

	igt_describe("An mmap with an offset whose handle was closed fails "
		     "(EINVAL, or EACCES).");
	igt_subtest("mmap-after-close") {
		uint32_t handle = swgpu_gem_create(render, page);
		uint64_t offset = swgpu_gem_mmap_offset(render, handle);
		void *ptr;

		swgpu_gem_close(render, handle);
		ptr = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED,
			   render, (off_t)offset);
		igt_assert(ptr == MAP_FAILED);
		igt_assert_f(errno == EINVAL || errno == EACCES,
			     "errno %d\n", errno);
	}

	igt_describe("A mapping made before the handle is closed stays "
		     "readable and writable: the object outlives its handle.");
	igt_subtest("mapping-outlives-handle") {
		const size_t size = 16 * page;
		uint32_t handle = swgpu_gem_create(render, size);
		uint8_t *ptr = swgpu_gem_mmap(render, handle, size,
					      PROT_READ | PROT_WRITE);

		swgpu_fill(ptr, size, 6);
		swgpu_gem_close(render, handle);
		swgpu_assert_pattern(ptr, size, 6);
		swgpu_fill(ptr, size, 7);	/* touches every page again */
		swgpu_assert_pattern(ptr, size, 7);
		igt_assert_eq(munmap(ptr, size), 0);
		check_device_works(render);
	}

	igt_describe("An mmap offset only works on the DRM file that owns "
		     "the handle: another open file gets EACCES.");
	igt_subtest("mmap-other-file-denied") {
		int other = swgpu_open_render();
		uint32_t handle = swgpu_gem_create(render, page);
		uint64_t offset = swgpu_gem_mmap_offset(render, handle);
		void *ptr;

		ptr = mmap(NULL, page, PROT_READ, MAP_SHARED, other,
			   (off_t)offset);
		igt_assert(ptr == MAP_FAILED);
		igt_assert_eq(errno, EACCES);
		close(other);
		swgpu_gem_close(render, handle);
	}

	igt_describe("A mapping larger than the object is refused with EINVAL.");
	igt_subtest("mmap-beyond-size") {
		uint32_t handle = swgpu_gem_create(render, 2 * page);
		uint64_t offset = swgpu_gem_mmap_offset(render, handle);
		void *ptr;

		ptr = mmap(NULL, 3 * page, PROT_READ, MAP_SHARED, render,
			   (off_t)offset);
		igt_assert(ptr == MAP_FAILED);
		igt_assert_eq(errno, EINVAL);
		swgpu_gem_close(render, handle);
	}

	igt_describe("Handles belong to one DRM file: another file does not "
		     "see them.");
	igt_subtest("handle-per-file") {
		int other = swgpu_open_render();
		uint32_t handle = swgpu_gem_create(render, page);
		uint64_t offset;

		igt_assert_eq(__swgpu_gem_mmap_offset(other, handle, &offset),
			      -ENOENT);
		igt_assert_eq(__swgpu_gem_close(other, handle), -EINVAL);
		/* the owner's handle is untouched by that */
		swgpu_gem_close(render, handle);
		close(other);
	}

	igt_describe("GEM_CLOSE of an unknown handle fails with EINVAL.");
	igt_subtest("close-bad-handle") {
		igt_assert_eq(__swgpu_gem_close(render, 0), -EINVAL);
		igt_assert_eq(__swgpu_gem_close(render, 0xffffffff), -EINVAL);
		igt_assert_eq(__swgpu_gem_close(render, 0x7fffffff), -EINVAL);
	}

	igt_describe("Closing a handle twice: the second close fails.");
	igt_subtest("close-double") {
		uint32_t handle = swgpu_gem_create(render, page);

		swgpu_gem_close(render, handle);
		igt_assert_eq(__swgpu_gem_close(render, handle), -EINVAL);
		check_device_works(render);
	}

	igt_subtest_group {
		igt_fixture
			swgpu_require_debugfs();

		/*
		 * debugfs lines name a process and a handle, not a DRM file:
		 * these run in a child whose only swgpu file is its own.
		 */
		igt_describe("A 1 GiB object costs no memory until touched, "
			     "and each touched page costs one page.");
		igt_subtest("lazy-alloc") {
			igt_fork(child, 1)
				lazy_alloc();
			igt_waitchildren();
		}

		igt_describe("A 1 GiB object of huge pages costs nothing "
			     "until touched, and a touch at most one huge "
			     "page.");
		igt_subtest("create-huge-lazy") {
			igt_fork(child, 1)
				huge_lazy();
			igt_waitchildren();
		}

		igt_describe("debugfs lists an object while its handle is "
			     "open, and not after GEM_CLOSE.");
		igt_subtest("debugfs-object-lifetime") {
			igt_fork(child, 1)
				debugfs_object_lifetime();
			igt_waitchildren();
		}

		igt_describe("When a process exits without closing anything, "
			     "its handles are gone.");
		igt_subtest("process-exit-cleanup") {
			int ready[2], go[2];
			pid_t child;
			int status;
			char c;

			/* The child holds two handles, one of them mapped
			 * and touched, until the parent has looked. */
			igt_assert_eq(pipe(ready), 0);
			igt_assert_eq(pipe(go), 0);
			child = fork();
			igt_assert(child >= 0);
			if (child == 0) {
				int fd = __swgpu_open_driver_node(
					swgpu_driver_name(), true);
				uint64_t size = 8 * page;
				uint32_t handle;
				uint8_t *ptr;

				close(ready[0]);
				close(go[1]);
				if (fd < 0 || __swgpu_gem_create(fd, &size, 0,
								 &handle))
					_exit(1);
				ptr = __swgpu_gem_mmap(fd, handle, size,
						       PROT_READ | PROT_WRITE);
				if (ptr == MAP_FAILED)
					_exit(2);
				memset(ptr, 1, size);
				if (__swgpu_gem_create(fd, &size, 0, &handle))
					_exit(3);
				if (write(ready[1], "r", 1) != 1)
					_exit(4);
				/* returns 0 when the parent closes go[1] */
				if (read(go[0], &c, 1) < 0)
					_exit(5);
				_exit(0);
			}
			close(ready[1]);
			close(go[0]);
			igt_assert_eq(read(ready[0], &c, 1), 1);
			close(ready[0]);
			igt_assert_eq(swgpu_obj_count(child), 2);
			close(go[1]);
			igt_assert_eq(waitpid(child, &status, 0), child);
			igt_assert(WIFEXITED(status));
			igt_assert_eq(WEXITSTATUS(status), 0);
			igt_assert_eq(swgpu_obj_count(child), 0);
		}
	}

	igt_fixture {
		close(primary);
		close(render);
	}
}
