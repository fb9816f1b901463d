// SPDX-License-Identifier: MIT
/*
 * swgpu_fault_inject - every allocation swgpu makes for this task fails
 * (fail_page_alloc and failslab, scoped to the task with make-it-fail):
 * each ioctl must fail with ENOMEM, cleanly, leave nothing behind, and
 * leave the buffers that existed before exactly as they were.
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION_DEBUG_FS, FAIL_PAGE_ALLOC and
 * FAILSLAB (the debug test tier); elsewhere it skips, saying so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("swgpu under allocation failure injection");

#define FI "/sys/kernel/debug/"
#define PAGE 4096u

static int render = -1;

static void fi_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);

	igt_assert_f(fd >= 0, "open %s: %s\n", path, strerror(errno));
	igt_assert_eq((int)write(fd, value, strlen(value)), (int)strlen(value));
	close(fd);
}

static void fi_attr(const char *which, const char *attr, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), FI "%s/%s", which, attr);
	fi_write(path, value);
}

/*
 * Fail every allocation, sleeping or not, any order, highmem too, but
 * only for tasks marked make-it-fail, and without printing (a stack dump
 * per failure would fill the log the harness scans).
 */
static void fi_arm(void)
{
	static const char *const which[] = { "fail_page_alloc", "failslab" };

	for (unsigned int i = 0; i < ARRAY_SIZE(which); i++) {
		fi_attr(which[i], "task-filter", "Y");
		fi_attr(which[i], "verbose", "0");
		fi_attr(which[i], "interval", "1");
		fi_attr(which[i], "times", "-1");
		fi_attr(which[i], "space", "0");
		fi_attr(which[i], "ignore-gfp-wait", "N");
		fi_attr(which[i], "probability", "100");
	}
	fi_attr("fail_page_alloc", "ignore-gfp-highmem", "N");
	fi_attr("fail_page_alloc", "min-order", "0");
}

static void fi_disarm(void)
{
	fi_attr("fail_page_alloc", "probability", "0");
	fi_attr("failslab", "probability", "0");
}

/*
 * Allocations of this thread fail while @on. The file is opened before
 * anything fails: opening it then would need an allocation itself.
 */
static int make_it_fail_fd = -1;

static void make_it_fail(bool on)
{
	igt_assert_eq((int)pwrite(make_it_fail_fd, on ? "1" : "0", 1, 0), 1);
}

#define UNDER_INJECTION(expr) ({				\
	int __ret;						\
	make_it_fail(true);					\
	__ret = (expr);						\
	make_it_fail(false);					\
	__ret;							\
})

static int count_objects(void)
{
	return swgpu_obj_count(getpid());
}

static int __cpu_access(uint32_t handle, uint32_t flags, uint64_t off,
			uint64_t len)
{
	struct drm_swgpu_cpu_access a = {
		.handle = handle, .flags = flags, .offset = off, .length = len,
	};

	return ioctl(render, DRM_IOCTL_SWGPU_CPU_ACCESS, &a) ? -errno : 0;
}

static int __sync(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(dmabuf, DMA_BUF_IOCTL_SYNC, &s) ? -errno : 0;
}

static int __submit_fill(uint32_t handle, uint64_t len)
{
	struct drm_swgpu_cmd c = {
		.op = SWGPU_CMD_FILL, .pattern = 0xdeadbeef,
		.dst_handle = handle, .length = len,
	};
	struct drm_swgpu_submit s = { .cmds = (uintptr_t)&c, .num_cmds = 1 };

	return ioctl(render, DRM_IOCTL_SWGPU_SUBMIT, &s) ? -errno : 0;
}

igt_main
{
	static uint32_t keep, fresh;
	static uint8_t *keep_map;
	static int objects;

	igt_fixture {
		render = swgpu_open_render();
		swgpu_require_debugfs();
		igt_require_f(access(FI "fail_page_alloc/probability", W_OK) == 0 &&
			      access(FI "failslab/probability", W_OK) == 0 &&
			      access("/proc/thread-self/make-it-fail", W_OK) == 0,
			      "this kernel has no fail_page_alloc/failslab fault injection\n");

		make_it_fail_fd = open("/proc/thread-self/make-it-fail",
				       O_WRONLY | O_CLOEXEC);
		igt_assert_lte(0, make_it_fail_fd);

		/* A buffer with data, made before anything fails. */
		keep = swgpu_gem_create(render, 16 * PAGE);
		keep_map = swgpu_gem_mmap(render, keep, 16 * PAGE,
					  PROT_READ | PROT_WRITE);
		swgpu_fill(keep_map, 16 * PAGE, 0xfeed);
		fresh = swgpu_gem_create(render, 64 * PAGE);
		objects = count_objects();
		fi_arm();
	}

	igt_describe("GEM_CREATE fails with ENOMEM and creates nothing.");
	igt_subtest("gem-create") {
		uint64_t size = PAGE;
		uint32_t handle;

		igt_assert_eq(UNDER_INJECTION(__swgpu_gem_create(render, &size, 0,
								 &handle)),
			      -ENOMEM);
		igt_assert_eq(count_objects(), objects);
	}

	igt_describe("CPU_ACCESS START fails with ENOMEM when it cannot "
		     "allocate the range, and holds nothing.");
	igt_subtest("cpu-access-start") {
		struct swgpu_obj_info info;

		igt_assert_eq(UNDER_INJECTION(__cpu_access(fresh,
							   SWGPU_CPU_ACCESS_RW,
							   PAGE, 8 * PAGE)),
			      -ENOMEM);
		info = swgpu_obj_get(getpid(), fresh);
		igt_assert_eq_u64(info.pinned, 0);
		igt_assert_eq_u64(info.resident, 0);
	}

	igt_describe("DMA_BUF_IOCTL_SYNC START (begin_cpu_access) fails "
		     "with ENOMEM when it cannot make the pages resident.");
	igt_subtest("dmabuf-sync-start") {
		int dmabuf = swgpu_prime_export(render, fresh);

		igt_assert_eq(UNDER_INJECTION(__sync(dmabuf, DMA_BUF_SYNC_START |
							     DMA_BUF_SYNC_RW)),
			      -ENOMEM);
		igt_assert_eq_u64(swgpu_obj_get(getpid(), fresh).pinned, 0);
		close(dmabuf);
	}

	igt_describe("PRIME export fails with ENOMEM and exports nothing.");
	igt_subtest("prime-export") {
		int dmabuf = -1;

		igt_assert_eq(UNDER_INJECTION(__swgpu_prime_export(render, keep,
								   SWGPU_EXPORT_FLAGS,
								   &dmabuf)),
			      -ENOMEM);
		igt_assert(!swgpu_obj_get(getpid(), keep).exported);
	}

	igt_describe("SUBMIT fails with ENOMEM and writes nothing.");
	igt_subtest("submit")
		igt_assert_eq(UNDER_INJECTION(__submit_fill(keep, 16 * PAGE)),
			      -ENOMEM);

	igt_describe("FENCE_ATTACH fails with ENOMEM and attaches nothing.");
	igt_subtest("fence-attach") {
		uint32_t fence;

		igt_assert_eq(UNDER_INJECTION(__swgpu_fence_attach(render, keep,
								   SWGPU_FENCE_WRITE,
								   &fence)),
			      -ENOMEM);
		/* Nothing pending: a writer can attach at once. */
		swgpu_fence_signal(render,
				   swgpu_fence_attach(render, keep,
						      SWGPU_FENCE_WRITE));
	}

	igt_describe("After all of it: the old buffer's data is intact, no "
		     "object leaked, nothing is pinned, and the device works.");
	igt_subtest("nothing-lost-or-leaked") {
		uint64_t size = PAGE;
		uint32_t handle;

		swgpu_assert_pattern(keep_map, 16 * PAGE, 0xfeed);
		igt_assert_eq(count_objects(), objects);
		igt_assert_eq_u64(swgpu_obj_get(getpid(), keep).pinned, 0);
		igt_assert_eq(__cpu_access(fresh, SWGPU_CPU_ACCESS_RW, 0,
					   64 * PAGE), 0);
		igt_assert_eq(__cpu_access(fresh, SWGPU_CPU_ACCESS_RW |
					   SWGPU_CPU_ACCESS_END, 0, 64 * PAGE), 0);
		igt_assert_eq(__swgpu_gem_create(render, &size, 0, &handle), 0);
		swgpu_gem_close(render, handle);
	}

	igt_fixture {
		fi_disarm();
		close(make_it_fail_fd);
		munmap(keep_map, 16 * PAGE);
		swgpu_gem_close(render, keep);
		swgpu_gem_close(render, fresh);
		close(render);
	}
}
