// SPDX-License-Identifier: MIT
/*
 * cpu-access-runner: drives swgpu_cpu_access_test.ko from user space and
 * prints the results as one KTAP document on stdout.
 *
 * The kernel module runs its cases on dma-bufs this program creates with
 * real exporters: swgpu itself, vgem, udmabuf and the system dma-heap
 * (the last two where the kernel has them; otherwise the cases are
 * reported as skipped with the reason). This program adds the checks
 * only user space can make: what the kernel wrote is visible through
 * mmap, the debugfs counters say which path was taken, and a range on a
 * huge sparse buffer allocates and pins one page.
 *
 * Usage: cpu-access-runner [--help]
 * Needs root, debugfs at /sys/kernel/debug, swgpu and the test module.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include "swgpu_drm.h"
#include "drm_open.h"

#define TEST_DIR "/sys/kernel/debug/swgpu_cpu_access_test"
#define PAGE 4096ul

static char results[1 << 16];
static size_t results_len;

/* A failed check says why; a passing one needs no words. */
static void add(bool ok, const char *name, const char *fmt, ...)
{
	char why[200] = "";
	va_list ap;

	if (!ok && fmt) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	results_len += snprintf(results + results_len,
				sizeof(results) - results_len, "%s %s%s%s\n",
				ok ? "ok" : "not ok", name, why[0] ? " # " : "",
				why);
}

static void skip(const char *name, const char *why)
{
	results_len += snprintf(results + results_len,
				sizeof(results) - results_len,
				"ok %s # SKIP %s\n", name, why);
}

static int ctl(const char *fmt, ...)
{
	char cmd[128];
	va_list ap;
	int fd, ret = 0;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);

	fd = open(TEST_DIR "/ctl", O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, cmd, strlen(cmd)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* swgpu's render node, or its primary node. */
static int open_drm(const char *name)
{
	int fd = drm_open_by_name("renderD", 128, name);

	return fd >= 0 ? fd : drm_open_by_name("card", 0, name);
}

static int export(int drm, uint32_t handle)
{
	struct drm_prime_handle p = { .handle = handle,
				      .flags = DRM_CLOEXEC | DRM_RDWR };

	return ioctl(drm, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p) ? -1 : p.fd;
}

static int swgpu_buffer(int drm, uint64_t size, uint32_t *handle)
{
	struct drm_swgpu_gem_create c = { .size = size };

	if (ioctl(drm, DRM_IOCTL_SWGPU_GEM_CREATE, &c))
		return -1;
	*handle = c.handle;
	return export(drm, c.handle);
}

/* Reads "<key> <value>" pairs from the first file matching a glob. */
static bool debugfs_line(const char *file, const char *prefix, char *line,
			 size_t len)
{
	char pattern[128];
	glob_t g;
	FILE *f;
	bool found = false;

	snprintf(pattern, sizeof(pattern), "/sys/kernel/debug/dri/*/%s", file);
	if (glob(pattern, 0, NULL, &g) || !g.gl_pathc)
		return false;
	f = fopen(g.gl_pathv[0], "r");
	globfree(&g);
	if (!f)
		return false;
	while (fgets(line, len, f))
		if (!strncmp(line, prefix, strlen(prefix))) {
			found = true;
			break;
		}
	fclose(f);
	return found;
}

static long counter(const char *key)
{
	char line[128];

	if (!debugfs_line("swgpu_cpu_access", key, line, sizeof(line)))
		return -1;
	return strtol(line + strlen(key), NULL, 10);
}

static bool object_pages(uint32_t handle, long *resident, long *pinned)
{
	char prefix[64], line[256];
	char *p;

	snprintf(prefix, sizeof(prefix), "pid %d handle %u ", getpid(), handle);
	if (!debugfs_line("swgpu_objects", prefix, line, sizeof(line)))
		return false;
	p = strstr(line, " resident ");
	*resident = p ? strtol(p + 10, NULL, 10) : -1;
	p = strstr(line, " pinned ");
	*pinned = p ? strtol(p + 8, NULL, 10) : -1;
	return true;
}

/* The module's roundtrip case leaves seed 0x1111 in page 0. */
static bool page0_has_kernel_pattern(int dmabuf)
{
	uint32_t *map;
	size_t i;
	bool ok = true;

	map = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, dmabuf, 0);
	if (map == MAP_FAILED)
		return false;
	for (i = 0; i < PAGE / 4; i++)
		if (map[i] != (0x1111u ^ (uint32_t)i)) {
			ok = false;
			break;
		}
	munmap(map, PAGE);
	return ok;
}

static void run_on(const char *label, int dmabuf, bool native)
{
	long nat0 = counter("native_begins"), for0 = counter("foreign_begins");
	char name[64];
	int ret;

	ret = ctl("run %s %d", label, dmabuf);
	snprintf(name, sizeof(name), "%s:run", label);
	add(ret == 0, name, "ctl write failed: %s", strerror(-ret));

	snprintf(name, sizeof(name), "%s:kernel-writes-visible-in-mmap", label);
	add(page0_has_kernel_pattern(dmabuf), name, "page 0 differs");

	snprintf(name, sizeof(name), "%s:debugfs-says-%s-path", label,
		 native ? "native" : "foreign");
	if (native)
		ret = counter("native_begins") > nat0 &&
		      counter("foreign_begins") == for0;
	else
		ret = counter("foreign_begins") > for0 &&
		      counter("native_begins") == nat0;
	add(ret, name, "counters did not move as expected");
}

static void test_sparse(int drm)
{
	uint64_t size = 1ull << 30, off = 512ull << 20;
	long res0 = -1, pin0 = -1, res1 = -1, pin1 = -1, res2 = -1, pin2 = -1;
	uint32_t handle;
	int dmabuf, ret;

	dmabuf = swgpu_buffer(drm, size, &handle);
	if (dmabuf < 0) {
		add(false, "swgpu-1GiB:begin-4KiB-pins-one-page",
		    "cannot create: %s", strerror(errno));
		return;
	}
	object_pages(handle, &res0, &pin0);
	ret = ctl("hold %d %llu %lu rw", dmabuf, (unsigned long long)off, PAGE);
	object_pages(handle, &res1, &pin1);
	ctl("release");
	object_pages(handle, &res2, &pin2);

	add(ret == 0 && res0 == 0 && pin0 == 0 && res1 == 1 && pin1 == 1,
	    "swgpu-1GiB:begin-4KiB-pins-one-page",
	    "begin %d, before %ld/%ld, during %ld/%ld (resident/pinned)",
	    ret, res0, pin0, res1, pin1);
	add(pin2 == 0 && res2 == 1, "swgpu-1GiB:end-unpins-keeps-data",
	    "after end %ld/%ld (resident/pinned)", res2, pin2);

	ret = ctl("hold %d %llu %lu r", dmabuf, (unsigned long long)size, 1ul);
	add(ret == -EINVAL, "swgpu-1GiB:begin-past-end-einval",
	    "got %d", ret);
	close(dmabuf);
}

#define FI "/sys/kernel/debug/"

static int fi_attr(const char *which, const char *attr, const char *value)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), FI "%s/%s", which, attr);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Fail every allocation of tasks marked make-it-fail (see swgpu_fault_inject). */
static void fi_set(bool armed)
{
	static const char *const which[] = { "fail_page_alloc", "failslab" };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		fi_attr(which[i], "task-filter", "Y");
		fi_attr(which[i], "verbose", "0");
		fi_attr(which[i], "interval", "1");
		fi_attr(which[i], "times", "-1");
		fi_attr(which[i], "space", "0");
		fi_attr(which[i], "ignore-gfp-wait", "N");
		fi_attr(which[i], "probability", armed ? "100" : "0");
	}
	fi_attr("fail_page_alloc", "ignore-gfp-highmem", "N");
	fi_attr("fail_page_alloc", "min-order", "0");
}

/*
 * The kernel API's begin, with every allocation failing: -ENOMEM, and
 * nothing allocated or pinned afterwards. Files are opened first: opening
 * one under injection would fail by itself.
 */
static void test_enomem(int drm)
{
	const char *name = "swgpu:begin-enomem-holds-nothing";
	long res = -1, pin = -1;
	int dmabuf, ctlfd, mif, err = 0;
	char cmd[96];
	uint32_t handle;
	ssize_t r;

	if (access(FI "fail_page_alloc/probability", W_OK) ||
	    access(FI "failslab/probability", W_OK)) {
		skip(name, "this kernel has no fail_page_alloc/failslab");
		return;
	}
	dmabuf = swgpu_buffer(drm, 64 * PAGE, &handle);
	ctlfd = open(TEST_DIR "/ctl", O_WRONLY);
	mif = open("/proc/thread-self/make-it-fail", O_WRONLY);
	if (dmabuf < 0 || ctlfd < 0 || mif < 0) {
		add(false, name, "setup: %s", strerror(errno));
		return;
	}
	snprintf(cmd, sizeof(cmd), "hold %d %lu %lu rw", dmabuf, PAGE, 8 * PAGE);

	fi_set(true);
	if (pwrite(mif, "1", 1, 0) != 1)
		err = -1;
	r = write(ctlfd, cmd, strlen(cmd));
	if (r < 0)
		err = errno;
	if (pwrite(mif, "0", 1, 0) != 1)
		err = -1;
	fi_set(false);

	object_pages(handle, &res, &pin);
	add(r < 0 && err == ENOMEM && res == 0 && pin == 0, name,
	    "write %zd errno %d, after: %ld resident, %ld pinned", r, err, res,
	    pin);
	close(mif);
	close(ctlfd);
	close(dmabuf);
}

static void test_vgem(void)
{
	struct drm_mode_create_dumb dumb = { .width = 128, .height = 64, .bpp = 32 };
	/* vgem's dumb buffers are created on its primary node. */
	int card = drm_open_by_name("card", 0, "vgem");
	int dmabuf;

	if (card < 0) {
		/* Only the i386 HIGHMEM tier runs without vgem, on purpose. */
		skip("vgem:all", "vgem is not loaded");
		return;
	}
	if (ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &dumb)) {
		add(false, "vgem:all", "dumb create: %s", strerror(errno));
		return;
	}
	dmabuf = export(card, dumb.handle);
	if (dmabuf < 0) {
		add(false, "vgem:all", "export: %s", strerror(errno));
		return;
	}
	run_on("vgem", dmabuf, false);
	close(dmabuf);
	close(card);
}

static void test_udmabuf(void)
{
	struct udmabuf_create c = { .size = 16 * PAGE };
	int dev, memfd, dmabuf;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		skip("udmabuf:all", "this kernel has no /dev/udmabuf");
		return;
	}
	memfd = memfd_create("cpu-access-runner", MFD_ALLOW_SEALING);
	if (memfd < 0 || ftruncate(memfd, c.size) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		add(false, "udmabuf:all", "memfd: %s", strerror(errno));
		return;
	}
	c.memfd = memfd;
	dmabuf = ioctl(dev, UDMABUF_CREATE, &c);
	if (dmabuf < 0) {
		add(false, "udmabuf:all", "create: %s", strerror(errno));
		return;
	}
	run_on("udmabuf", dmabuf, false);
	close(dmabuf);
	close(memfd);
	close(dev);
}

static void test_heap(void)
{
	struct dma_heap_allocation_data a = {
		.len = 16 * PAGE, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap;

	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0) {
		skip("dma-heap-system:all", "this kernel has no system dma-heap");
		return;
	}
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a)) {
		add(false, "dma-heap-system:all", "alloc: %s", strerror(errno));
		return;
	}
	run_on("dma-heap-system", a.fd, false);
	close(a.fd);
	close(heap);
}

static void print_ktap(void)
{
	char *line, *save = NULL;
	int n = 0, i = 0;

	for (line = results; *line; line++)
		n += *line == '\n';
	printf("KTAP version 1\n1..%d\n", n);
	for (line = strtok_r(results, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		bool ok = !strncmp(line, "ok ", 3);
		const char *rest = line + (ok ? 3 : 7);

		printf("%s %d %s\n", ok ? "ok" : "not ok", ++i, rest);
	}
}

static void collect_module_results(void)
{
	FILE *f = fopen(TEST_DIR "/results", "r");
	size_t n;

	if (!f) {
		add(false, "module-results", "cannot read results: %s",
		    strerror(errno));
		return;
	}
	n = fread(results + results_len, 1,
		  sizeof(results) - results_len - 1, f);
	results_len += n;
	results[results_len] = '\0';
	fclose(f);
}

int main(int argc, char **argv)
{
	uint32_t handle;
	int drm, dmabuf;

	if (argc > 1) {
		printf("usage: %s\n"
		       "Runs swgpu_cpu_access_test.ko on swgpu, vgem, udmabuf and\n"
		       "dma-heap buffers and prints a KTAP document. Needs root,\n"
		       "debugfs, swgpu and the test module loaded.\n", argv[0]);
		return strcmp(argv[1], "--help") ? 2 : 0;
	}

	drm = open_drm("swgpu");
	if (drm < 0) {
		add(false, "swgpu:open", "no swgpu device");
	} else {
		dmabuf = swgpu_buffer(drm, 16 * PAGE, &handle);
		if (dmabuf < 0)
			add(false, "swgpu:all", "create: %s", strerror(errno));
		else
			run_on("swgpu", dmabuf, true);
		if (dmabuf >= 0)
			close(dmabuf);
		test_sparse(drm);
		test_enomem(drm);
	}
	test_vgem();
	test_udmabuf();
	test_heap();

	/* Module lines go after ours were numbered: keep them together. */
	collect_module_results();
	print_ktap();
	return 0;
}
