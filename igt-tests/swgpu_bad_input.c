// SPDX-License-Identifier: MIT
/*
 * swgpu_bad_input - every ioctl fed bad handles, flags, padding, sizes,
 * pointers and fds gets the documented errno, and the device keeps working
 * afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("swgpu ioctls reject bad input and stay usable");

static int fd = -1;
static size_t page;

static void check_device_works(int dev)
{
	const size_t size = 3 * page;
	uint32_t handle = swgpu_gem_create(dev, size);
	void *ptr = swgpu_gem_mmap(dev, handle, size, PROT_READ | PROT_WRITE);
	int dmabuf = swgpu_prime_export(dev, handle);

	swgpu_fill(ptr, size, 90);
	swgpu_assert_pattern(ptr, size, 90);
	igt_assert_eq(munmap(ptr, size), 0);
	igt_assert_eq_u32(swgpu_prime_import(dev, dmabuf), handle);
	close(dmabuf);
	swgpu_gem_close(dev, handle);
}

/* Handles that no file of this test ever has. */
static const uint32_t bad_handles[] = {
	0, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
};

igt_main
{
	page = swgpu_page_size();

	igt_fixture
		fd = swgpu_open_render();

	igt_describe("GEM_CREATE: zero, oversized and overflowing sizes and "
		     "any flag bit give EINVAL, and nothing is created.");
	igt_subtest("create-garbage") {
		static const uint64_t bad_sizes[] = {
			0, SWGPU_GEM_CREATE_MAX_SIZE + 1,
			SWGPU_GEM_CREATE_MAX_SIZE * 2, 1ull << 62, 1ull << 63,
			~0ull, ~0ull - 4095,
		};
		int before = swgpu_obj_count(getpid());

		for (unsigned int i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
			for (int bit = -1; bit < 32; bit++) {
				uint32_t flags = bit < 0 ? 0 : 1u << bit;
				uint64_t size = bad_sizes[i];
				uint32_t handle = 0;

				igt_assert_eq(__swgpu_gem_create(fd, &size,
								 flags, &handle),
					      -EINVAL);
			}
		}
		for (int bit = 0; bit < 32; bit++) {
			uint64_t size = page;
			uint32_t handle = 0;

			if ((1u << bit) & SWGPU_GEM_CREATE_FLAGS)
				continue;
			igt_assert_eq(__swgpu_gem_create(fd, &size, 1u << bit,
							 &handle), -EINVAL);
		}
		igt_assert_eq(swgpu_obj_count(getpid()), before);
		check_device_works(fd);
	}

	igt_describe("GEM_MMAP_OFFSET: unknown handles give ENOENT, any "
		     "padding bit gives EINVAL.");
	igt_subtest("mmap-offset-garbage") {
		uint32_t handle = swgpu_gem_create(fd, page);
		struct drm_swgpu_gem_mmap_offset arg;

		for (unsigned int i = 0; i < ARRAY_SIZE(bad_handles); i++) {
			memset(&arg, 0, sizeof(arg));
			arg.handle = bad_handles[i];
			do_ioctl_err(fd, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &arg,
				     ENOENT);
		}
		for (int bit = 0; bit < 32; bit++) {
			memset(&arg, 0, sizeof(arg));
			arg.handle = handle;
			arg.pad = 1u << bit;
			do_ioctl_err(fd, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &arg,
				     EINVAL);
		}
		/* a garbage offset on input is simply overwritten */
		memset(&arg, 0, sizeof(arg));
		arg.handle = handle;
		arg.offset = ~0ull;
		do_ioctl(fd, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &arg);
		igt_assert_neq_u64(arg.offset, ~0ull);
		swgpu_gem_close(fd, handle);
		check_device_works(fd);
	}

	/*
	 * GEM_CLOSE's padding is not checked: the DRM core owns that ioctl
	 * and ignores drm_gem_close.pad on every kernel.
	 */
	igt_describe("GEM_CLOSE of unknown handles gives EINVAL and leaves "
		     "the file's real handles alone.");
	igt_subtest("close-garbage") {
		uint32_t handle = swgpu_gem_create(fd, page);
		uint64_t offset;

		for (unsigned int i = 0; i < ARRAY_SIZE(bad_handles); i++)
			igt_assert_eq(__swgpu_gem_close(fd, bad_handles[i]),
				      -EINVAL);
		igt_assert_eq(__swgpu_gem_mmap_offset(fd, handle, &offset), 0);
		swgpu_gem_close(fd, handle);
		check_device_works(fd);
	}

	igt_describe("PRIME export: unknown handles give ENOENT, unknown "
		     "flags EINVAL.");
	igt_subtest("export-garbage") {
		uint32_t handle = swgpu_gem_create(fd, page);
		int before = swgpu_count_fds();
		int dmabuf;

		for (unsigned int i = 0; i < ARRAY_SIZE(bad_handles); i++)
			igt_assert_eq(__swgpu_prime_export(fd, bad_handles[i],
							   SWGPU_EXPORT_FLAGS,
							   &dmabuf), -ENOENT);
		igt_assert_eq(__swgpu_prime_export(fd, handle, ~0u, &dmabuf),
			      -EINVAL);
		igt_assert_eq(__swgpu_prime_export(fd, handle,
						   SWGPU_EXPORT_FLAGS | O_NONBLOCK,
						   &dmabuf), -EINVAL);
		igt_assert_eq(__swgpu_prime_export(fd, handle,
						   SWGPU_EXPORT_FLAGS | O_WRONLY,
						   &dmabuf), -EINVAL);
		igt_assert_eq(swgpu_count_fds(), before);
		swgpu_gem_close(fd, handle);
		check_device_works(fd);
	}

	igt_describe("PRIME import: fds that are not open give EBADF, open "
		     "files that are not dma-bufs EINVAL.");
	igt_subtest("import-garbage") {
		static const int bad_fds[] = { -1, -2, INT_MIN, INT_MAX, 65535 };
		int p[2], sv[2], efd, nullfd, memfd;
		uint32_t handle;

		for (unsigned int i = 0; i < ARRAY_SIZE(bad_fds); i++)
			igt_assert_eq(__swgpu_prime_import(fd, bad_fds[i],
							   &handle), -EBADF);

		igt_assert_eq(pipe(p), 0);
		igt_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		efd = eventfd(0, 0);
		igt_assert_fd(efd);
		nullfd = open("/dev/null", O_RDWR);
		igt_assert_fd(nullfd);
		memfd = memfd_create("swgpu-not-a-dmabuf", 0);
		igt_assert_fd(memfd);
		igt_assert_eq(ftruncate(memfd, page), 0);

		igt_assert_eq(__swgpu_prime_import(fd, p[0], &handle), -EINVAL);
		igt_assert_eq(__swgpu_prime_import(fd, sv[0], &handle), -EINVAL);
		igt_assert_eq(__swgpu_prime_import(fd, efd, &handle), -EINVAL);
		igt_assert_eq(__swgpu_prime_import(fd, nullfd, &handle),
			      -EINVAL);
		igt_assert_eq(__swgpu_prime_import(fd, memfd, &handle), -EINVAL);
		igt_assert_eq(__swgpu_prime_import(fd, fd, &handle), -EINVAL);

		close(p[0]);
		close(p[1]);
		close(sv[0]);
		close(sv[1]);
		close(efd);
		close(nullfd);
		close(memfd);
		check_device_works(fd);
	}

	igt_describe("mmap of the DRM fd at offsets that belong to none of "
		     "the file's objects, or past an object's end, fails.");
	igt_subtest("mmap-garbage") {
		uint32_t handle = swgpu_gem_create(fd, 2 * page);
		uint64_t offset = swgpu_gem_mmap_offset(fd, handle);
		/* Below 4 GiB lies no object's fake offset, ever. */
		const uint64_t never[] = { 0, page, (1ull << 32) - page };
		/* Past our object: nothing, or someone else's object. */
		const uint64_t beyond[] = { offset + 2 * page,
					    offset + (1ull << 30) };
		void *ptr;

		for (unsigned int i = 0; i < ARRAY_SIZE(never); i++) {
			ptr = mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
				   (off_t)never[i]);
			igt_assert_f(ptr == MAP_FAILED,
				     "mmap at %#llx succeeded\n",
				     (unsigned long long)never[i]);
			igt_assert_eq(errno, EINVAL);
		}
		for (unsigned int i = 0; i < ARRAY_SIZE(beyond); i++) {
			ptr = mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
				   (off_t)beyond[i]);
			igt_assert_f(ptr == MAP_FAILED,
				     "mmap at %#llx succeeded\n",
				     (unsigned long long)beyond[i]);
			igt_assert_f(errno == EINVAL || errno == EACCES,
				     "errno %d\n", errno);
		}
		igt_assert(mmap(NULL, 4 * page, PROT_READ, MAP_SHARED, fd,
				(off_t)offset) == MAP_FAILED);
		igt_assert_eq(errno, EINVAL);
		swgpu_gem_close(fd, handle);
		check_device_works(fd);
	}

	igt_describe("Every ioctl given a NULL or wild argument pointer fails "
		     "with EFAULT.");
	igt_subtest("bad-pointers") {
		static const unsigned long ioctls[] = {
			DRM_IOCTL_SWGPU_GEM_CREATE,
			DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET,
			DRM_IOCTL_GEM_CLOSE,
			DRM_IOCTL_PRIME_HANDLE_TO_FD,
			DRM_IOCTL_PRIME_FD_TO_HANDLE,
		};
		void *const pointers[] = { NULL, (void *)8, (void *)-4096L };

		for (unsigned int i = 0; i < ARRAY_SIZE(ioctls); i++)
			for (unsigned int j = 0; j < ARRAY_SIZE(pointers); j++)
				do_ioctl_err(fd, ioctls[i], pointers[j], EFAULT);
		check_device_works(fd);
	}

	igt_describe("Driver ioctl numbers swgpu does not define fail with "
		     "EINVAL.");
	igt_subtest("unknown-ioctl") {
		static const unsigned int nrs[] = { 0x00, 0x05, 0x0f, 0x5f };
		uint8_t buf[64];

		for (unsigned int i = 0; i < ARRAY_SIZE(nrs); i++) {
			memset(buf, 0, sizeof(buf));
			do_ioctl_err(fd, DRM_IOWR(DRM_COMMAND_BASE + nrs[i],
						  struct drm_swgpu_gem_create),
				     buf, EINVAL);
		}
		check_device_works(fd);
	}

	igt_describe("After all of the above, on a fresh file, objects are "
		     "created, mapped and shared as before.");
	igt_subtest("device-still-works") {
		int other = swgpu_open_render();

		check_device_works(other);
		check_device_works(fd);
		close(other);
	}

	igt_fixture
		close(fd);
}
