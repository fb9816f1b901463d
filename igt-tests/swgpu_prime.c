// SPDX-License-Identifier: MIT
/*
 * swgpu_prime - sharing swgpu objects through PRIME (dma-buf) within the
 * device: export, import, handle identity, lifetimes, dma-buf mmap and
 * DMA_BUF_IOCTL_SYNC.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("swgpu PRIME export/import and dma-buf access");

static int primary = -1;
static int render = -1;
static int render2 = -1;	/* a second, independent DRM file */

static void import_expect(int fd, int dmabuf, int err)
{
	uint32_t handle = 0;
	int ret = __swgpu_prime_import(fd, dmabuf, &handle);

	igt_assert_f(ret == err, "import of fd %d: got %d, want %d\n",
		     dmabuf, ret, err);
}

/* A new object of @size, filled with the pattern of @seed. */
static uint32_t create_filled(int fd, uint64_t size, uint32_t seed)
{
	uint32_t handle = swgpu_gem_create(fd, size);
	void *ptr = swgpu_gem_mmap(fd, handle, size, PROT_READ | PROT_WRITE);

	swgpu_fill(ptr, size, seed);
	igt_assert_eq(munmap(ptr, size), 0);
	return handle;
}

static void check_gem_content(int fd, uint32_t handle, uint64_t size,
			      uint32_t seed)
{
	void *ptr = swgpu_gem_mmap(fd, handle, size, PROT_READ);

	swgpu_assert_pattern(ptr, size, seed);
	igt_assert_eq(munmap(ptr, size), 0);
}

static void check_dmabuf_content(int dmabuf, uint64_t size, uint32_t seed)
{
	void *ptr = swgpu_dmabuf_mmap(dmabuf, size, PROT_READ);

	swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	swgpu_assert_pattern(ptr, size, seed);
	swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	igt_assert_eq(munmap(ptr, size), 0);
}

static void check_no_line(uint32_t handle)
{
	struct swgpu_obj_info info;

	if (swgpu_debugfs_objects_path())
		igt_assert_eq(swgpu_obj_info(getpid(), handle, &info), -ENOENT);
}

/*
 * Runs in a child, with two swgpu files of its own whose handle numbers do
 * not overlap, so that every (pid, handle) line of debugfs is unambiguous.
 */
static void debugfs_export_flags(void)
{
	const size_t page = swgpu_page_size();
	const uint64_t size = 4 * page;
	int a = swgpu_open_render(), b = swgpu_open_render();
	uint32_t handle = create_filled(a, size, 22);
	struct swgpu_obj_info info;
	uint32_t other, spacer;
	int dmabuf;

	info = swgpu_obj_get(getpid(), handle);
	igt_assert(!info.exported);
	igt_assert(!info.imported);
	igt_assert_eq_u64(info.resident, 4);
	igt_assert_eq_u64(info.pinned, 0);

	dmabuf = swgpu_prime_export(a, handle);
	info = swgpu_obj_get(getpid(), handle);
	igt_assert(info.exported);
	igt_assert(!info.imported);
	igt_assert_eq_u64(info.pinned, 0);

	/* occupy @handle's number in b so that the import gets another */
	spacer = swgpu_gem_create(b, page);
	other = swgpu_prime_import(b, dmabuf);
	swgpu_gem_close(b, spacer);
	igt_assert_neq_u32(other, handle);

	info = swgpu_obj_get(getpid(), other);
	igt_assert_eq_u64(info.size, size);
	igt_assert(info.exported);
	igt_assert(!info.imported);
	igt_assert_eq_u64(info.resident, 4);
	igt_assert_eq_u64(info.pinned, 0);

	close(dmabuf);
	swgpu_gem_close(b, other);
	swgpu_gem_close(a, handle);
	igt_assert_eq(swgpu_obj_count(getpid()), 0);
	close(a);
	close(b);
}

igt_main
{
	const size_t page = swgpu_page_size();

	igt_fixture {
		primary = swgpu_open_primary();
		render = swgpu_open_render();
		render2 = swgpu_open_render();
	}

	igt_describe("Export gives a read-write dma-buf fd; DRM_CLOEXEC "
		     "sets close-on-exec on it, its absence does not.");
	igt_subtest("export-flags") {
		uint32_t handle = swgpu_gem_create(render, page);
		int a, b = -1;

		igt_assert_eq(__swgpu_prime_export(render, handle,
						   DRM_CLOEXEC | DRM_RDWR, &a), 0);
		igt_assert_fd(a);
		igt_assert(fcntl(a, F_GETFD) & FD_CLOEXEC);
		igt_assert_eq(fcntl(a, F_GETFL) & O_ACCMODE, O_RDWR);

		igt_assert_eq(__swgpu_prime_export(render, handle, DRM_RDWR,
						   &b), 0);
		igt_assert_fd(b);
		igt_assert(!(fcntl(b, F_GETFD) & FD_CLOEXEC));
		close(a);
		close(b);
		swgpu_gem_close(render, handle);
	}

	igt_describe("Export flags other than DRM_CLOEXEC and DRM_RDWR fail "
		     "with EINVAL.");
	igt_subtest("export-flags-invalid") {
		uint32_t handle = swgpu_gem_create(render, page);

		for (int bit = 0; bit < 32; bit++) {
			uint32_t flags = 1u << bit;
			int fd = -1;

			if (flags & (DRM_CLOEXEC | DRM_RDWR))
				continue;
			igt_assert_f(__swgpu_prime_export(render, handle, flags,
							  &fd) == -EINVAL,
				     "export flags %#x\n", flags);
			igt_assert_f(__swgpu_prime_export(render, handle,
							  flags | DRM_CLOEXEC,
							  &fd) == -EINVAL,
				     "export flags %#x\n", flags | DRM_CLOEXEC);
		}
		swgpu_gem_close(render, handle);
	}

	igt_describe("Export of an unknown handle fails with ENOENT.");
	igt_subtest("export-bad-handle") {
		uint32_t handle = swgpu_gem_create(render, page);
		int fd;

		swgpu_gem_close(render, handle);
		igt_assert_eq(__swgpu_prime_export(render, handle,
						   SWGPU_EXPORT_FLAGS, &fd),
			      -ENOENT);
		igt_assert_eq(__swgpu_prime_export(render, 0,
						   SWGPU_EXPORT_FLAGS, &fd),
			      -ENOENT);
		igt_assert_eq(__swgpu_prime_export(render, 0xffffffff,
						   SWGPU_EXPORT_FLAGS, &fd),
			      -ENOENT);
	}

	igt_describe("Importing a dma-buf into the file that exported it "
		     "returns the exported handle itself, every time; one "
		     "GEM_CLOSE then releases it.");
	igt_subtest("self-import") {
		uint32_t handle = swgpu_gem_create(render, page);
		int dmabuf = swgpu_prime_export(render, handle);

		igt_assert_eq_u32(swgpu_prime_import(render, dmabuf), handle);
		igt_assert_eq_u32(swgpu_prime_import(render, dmabuf), handle);
		close(dmabuf);
		swgpu_gem_close(render, handle);
		igt_assert_eq(__swgpu_gem_close(render, handle), -EINVAL);
	}

	igt_describe("Exporting the same object twice gives the same dma-buf.");
	igt_subtest("export-twice-same-dmabuf") {
		uint32_t handle = swgpu_gem_create(render, page);
		int a = swgpu_prime_export(render, handle);
		int b = swgpu_prime_export(render, handle);

		igt_assert_neq(a, b);
		igt_assert(swgpu_same_inode(a, b));
		close(a);
		close(b);
		swgpu_gem_close(render, handle);
	}

	igt_describe("Another DRM file of swgpu imports the dma-buf as a "
		     "handle of its own that sees the same pages, both ways; "
		     "importing again gives that handle again.");
	igt_subtest("import-other-file") {
		const uint64_t size = 4 * page;
		uint32_t handle = create_filled(render, size, 10);
		int dmabuf = swgpu_prime_export(render, handle);
		uint32_t other = swgpu_prime_import(render2, dmabuf);
		uint8_t *a, *b;

		igt_assert_eq_u32(swgpu_prime_import(render2, dmabuf), other);
		b = swgpu_gem_mmap(render2, other, size, PROT_READ | PROT_WRITE);
		swgpu_assert_pattern(b, size, 10);
		swgpu_fill(b, size, 11);
		a = swgpu_gem_mmap(render, handle, size, PROT_READ);
		swgpu_assert_pattern(a, size, 11);

		igt_assert_eq(munmap(a, size), 0);
		igt_assert_eq(munmap(b, size), 0);
		close(dmabuf);
		swgpu_gem_close(render2, other);
		swgpu_gem_close(render, handle);
	}

	igt_describe("Buffers move between the primary and the render node "
		     "through PRIME, in both directions.");
	igt_subtest("import-across-nodes") {
		const uint64_t size = 2 * page;
		uint32_t on_primary = create_filled(primary, size, 12);
		int dmabuf = swgpu_prime_export(primary, on_primary);
		uint32_t on_render = swgpu_prime_import(render, dmabuf);
		uint32_t back;
		int dmabuf2;

		check_gem_content(render, on_render, size, 12);
		close(dmabuf);
		swgpu_gem_close(primary, on_primary);

		dmabuf2 = swgpu_prime_export(render, on_render);
		back = swgpu_prime_import(primary, dmabuf2);
		check_gem_content(primary, back, size, 12);
		close(dmabuf2);
		swgpu_gem_close(primary, back);
		swgpu_gem_close(render, on_render);
	}

	igt_describe("Importing an fd that is not a dma-buf fails with EINVAL.");
	igt_subtest("import-not-dmabuf") {
		int p[2], null_fd;

		igt_assert_eq(pipe(p), 0);
		null_fd = open("/dev/null", O_RDWR);
		igt_assert_fd(null_fd);

		import_expect(render, p[0], -EINVAL);
		import_expect(render, p[1], -EINVAL);
		import_expect(render, null_fd, -EINVAL);
		import_expect(render, render, -EINVAL);
		import_expect(render, render2, -EINVAL);

		close(p[0]);
		close(p[1]);
		close(null_fd);
	}

	igt_describe("Importing -1, a closed fd or a huge fd number fails "
		     "with EBADF.");
	igt_subtest("import-bad-fd") {
		int fd = open("/dev/null", O_RDONLY);

		igt_assert_fd(fd);
		close(fd);
		import_expect(render, -1, -EBADF);
		import_expect(render, fd, -EBADF);
		import_expect(render, INT_MAX, -EBADF);
	}

	igt_describe("Closing the handle and then the dma-buf fd: the buffer "
		     "lives on through the fd until the fd is closed.");
	igt_subtest("outlive-handle-then-fd") {
		const uint64_t size = 8 * page;
		uint32_t handle = create_filled(render, size, 13);
		int dmabuf = swgpu_prime_export(render, handle);
		uint32_t again;

		swgpu_gem_close(render, handle);
		check_dmabuf_content(dmabuf, size, 13);

		again = swgpu_prime_import(render, dmabuf);
		check_gem_content(render, again, size, 13);
		swgpu_gem_close(render, again);
		check_dmabuf_content(dmabuf, size, 13);
		close(dmabuf);
		check_no_line(again);
	}

	igt_describe("Closing the dma-buf fd and then the handle: the handle "
		     "keeps the buffer, and exports it again.");
	igt_subtest("outlive-fd-then-handle") {
		const uint64_t size = 8 * page;
		uint32_t handle = create_filled(render, size, 14);
		int dmabuf = swgpu_prime_export(render, handle);

		close(dmabuf);
		check_gem_content(render, handle, size, 14);
		dmabuf = swgpu_prime_export(render, handle);
		check_dmabuf_content(dmabuf, size, 14);
		close(dmabuf);
		swgpu_gem_close(render, handle);
		check_no_line(handle);
	}

	igt_describe("A dma-buf mapping keeps working after both the fd and "
		     "the handle are closed.");
	igt_subtest("dmabuf-mapping-outlives-all") {
		const uint64_t size = 4 * page;
		uint32_t handle = create_filled(render, size, 15);
		int dmabuf = swgpu_prime_export(render, handle);
		uint8_t *ptr = swgpu_dmabuf_mmap(dmabuf, size,
						 PROT_READ | PROT_WRITE);

		close(dmabuf);
		swgpu_gem_close(render, handle);
		swgpu_assert_pattern(ptr, size, 15);
		swgpu_fill(ptr, size, 16);
		swgpu_assert_pattern(ptr, size, 16);
		igt_assert_eq(munmap(ptr, size), 0);
	}

	igt_describe("The dma-buf fd maps the buffer; writes through it and "
		     "through a GEM mapping are seen by the other, with "
		     "DMA_BUF_IOCTL_SYNC bracketing CPU access.");
	igt_subtest("dmabuf-mmap-rw") {
		const uint64_t size = 16 * page;
		uint32_t handle = swgpu_gem_create(render, size);
		int dmabuf = swgpu_prime_export(render, handle);
		uint8_t *d, *g;

		d = swgpu_dmabuf_mmap(dmabuf, size, PROT_READ | PROT_WRITE);
		g = swgpu_gem_mmap(render, handle, size, PROT_READ | PROT_WRITE);

		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
		swgpu_fill(d, size, 17);
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
		swgpu_assert_pattern(g, size, 17);

		swgpu_fill(g, size, 18);
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
		swgpu_assert_pattern(d, size, 18);
		swgpu_fill(d + 3 * page, page, 19);
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
		swgpu_assert_pattern(g + 3 * page, page, 19);

		igt_assert_eq(munmap(d, size), 0);
		igt_assert_eq(munmap(g, size), 0);
		close(dmabuf);
		swgpu_gem_close(render, handle);
	}

	igt_describe("Every well-formed DMA_BUF_IOCTL_SYNC succeeds, also "
		     "without a mapping.");
	igt_subtest("dmabuf-sync-valid") {
		static const uint64_t dirs[] = {
			DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW,
		};
		uint32_t handle = swgpu_gem_create(render, 2 * page);
		int dmabuf = swgpu_prime_export(render, handle);

		for (unsigned int i = 0; i < ARRAY_SIZE(dirs); i++) {
			swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | dirs[i]);
			swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | dirs[i]);
		}
		close(dmabuf);
		swgpu_gem_close(render, handle);
	}

	igt_describe("DMA_BUF_IOCTL_SYNC without a direction or with unknown "
		     "flag bits fails with EINVAL.");
	igt_subtest("dmabuf-sync-invalid") {
		uint32_t handle = swgpu_gem_create(render, page);
		int dmabuf = swgpu_prime_export(render, handle);

		igt_assert_eq(__swgpu_dmabuf_sync(dmabuf, 0), -EINVAL);
		igt_assert_eq(__swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END),
			      -EINVAL);
		for (int bit = 3; bit < 64; bit++)
			igt_assert_f(__swgpu_dmabuf_sync(dmabuf,
					DMA_BUF_SYNC_READ | (1ull << bit)) == -EINVAL,
				     "sync flag bit %d accepted\n", bit);
		/* still usable */
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
		swgpu_dmabuf_sync(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		close(dmabuf);
		swgpu_gem_close(render, handle);
	}

	igt_describe("A dma-buf mapping past the end of the buffer is refused "
		     "with EINVAL.");
	igt_subtest("dmabuf-mmap-beyond-size") {
		uint32_t handle = swgpu_gem_create(render, 2 * page);
		int dmabuf = swgpu_prime_export(render, handle);
		void *ptr;

		ptr = mmap(NULL, 3 * page, PROT_READ, MAP_SHARED, dmabuf, 0);
		igt_assert(ptr == MAP_FAILED);
		igt_assert_eq(errno, EINVAL);
		ptr = mmap(NULL, page, PROT_READ, MAP_SHARED, dmabuf, 2 * page);
		igt_assert(ptr == MAP_FAILED);
		igt_assert_eq(errno, EINVAL);
		/* the last page alone is fine */
		ptr = mmap(NULL, page, PROT_READ, MAP_SHARED, dmabuf, page);
		igt_assert(ptr != MAP_FAILED);
		igt_assert_eq(munmap(ptr, page), 0);
		close(dmabuf);
		swgpu_gem_close(render, handle);
	}

	igt_describe("The dma-buf fd reports the object's size through lseek.");
	igt_subtest("dmabuf-size") {
		/* The biggest: 4 GiB, or the most a 32-bit kernel allows. */
		const uint64_t sizes[] = {
			page, 3 * page, 1 << 20,
			swgpu_kernel_is_64bit() ? 1ull << 32 : (1ull << 32) - page,
		};

		for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
			uint32_t handle = swgpu_gem_create(render, sizes[i]);
			int dmabuf = swgpu_prime_export(render, handle);

			igt_assert_eq_s64(swgpu_dmabuf_size(dmabuf),
					  (int64_t)sizes[i]);
			close(dmabuf);
			swgpu_gem_close(render, handle);
		}
	}

	igt_describe("A child process given the dma-buf fd imports it into "
		     "its own swgpu file and shares the pages with the parent.");
	igt_subtest("cross-process-share") {
		const uint64_t size = 8 * page;
		uint32_t handle = create_filled(render, size, 20);
		int dmabuf = swgpu_prime_export(render, handle);

		igt_fork(child, 1) {
			int fd = swgpu_open_render();
			uint32_t mine = swgpu_prime_import(fd, dmabuf);
			void *ptr = swgpu_gem_mmap(fd, mine, size,
						   PROT_READ | PROT_WRITE);

			swgpu_assert_pattern(ptr, size, 20);
			swgpu_fill(ptr, size, 21);
			igt_assert_eq(munmap(ptr, size), 0);
			swgpu_gem_close(fd, mine);
			close(fd);
		}
		igt_waitchildren();

		check_gem_content(render, handle, size, 21);
		close(dmabuf);
		swgpu_gem_close(render, handle);
	}

	igt_subtest_group {
		igt_fixture
			swgpu_require_debugfs();

		igt_describe("debugfs marks an object exported once it has a "
			     "dma-buf; an import into another swgpu file is the "
			     "same object, not a foreign import, and pins "
			     "nothing.");
		igt_subtest("debugfs-export-flags") {
			/* debugfs lines name no file: a child with files
			 * of its own keeps (pid, handle) unambiguous */
			igt_fork(child, 1)
				debugfs_export_flags();
			igt_waitchildren();
		}
	}

	igt_fixture {
		close(primary);
		close(render);
		close(render2);
	}
}
