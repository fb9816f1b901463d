// SPDX-License-Identifier: GPL-2.0-only
/*
 * A user-space program as a user of the swgpu-dev package writes it:
 * tools/check-install.sh compiles it inside a test root with nothing but
 * `pkg-config --cflags swgpu` (no include path into the source tree) and
 * runs it in a guest where the DKMS-built swgpu.ko is loaded.
 *
 * It finds swgpu's render node by the driver name, creates an object,
 * brackets a write and a read with CPU_ACCESS, and checks through a
 * second mapping that the bytes are there. Results are printed in the
 * line format of IGT ("Subtest NAME: SUCCESS|FAIL"), which the harness's
 * judge reads; exit 0 when every subtest passed, 98 otherwise (IGT's
 * "failed").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <swgpu_drm.h>

#define OBJ_SIZE (64 * 1024)

static int failures;

static void result(const char *name, int ok, const char *why)
{
	printf("Starting subtest: %s\n", name);
	if (!ok)
		printf("%s: %s\n", name, why);
	printf("Subtest %s: %s\n", name, ok ? "SUCCESS" : "FAIL");
	failures += !ok;
}

/* The render node whose driver is "swgpu", or -1. */
static int open_swgpu(void)
{
	char path[32], name[16];
	struct drm_version v;
	int i, fd;

	for (i = 128; i < 192; i++) {
		snprintf(path, sizeof(path), "/dev/dri/renderD%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (ioctl(fd, DRM_IOCTL_VERSION, &v) == 0 &&
		    strcmp(name, "swgpu") == 0)
			return fd;
		close(fd);
	}
	return -1;
}

static void *map_object(int fd, __u32 handle)
{
	struct drm_swgpu_gem_mmap_offset mo = { .handle = handle };
	void *p;

	if (ioctl(fd, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &mo))
		return NULL;
	p = mmap(NULL, OBJ_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 mo.offset);
	return p == MAP_FAILED ? NULL : p;
}

static int cpu_access(int fd, __u32 handle, __u32 flags)
{
	struct drm_swgpu_cpu_access ca = {
		.handle = handle, .flags = flags,
		.offset = 4096, .length = 4096,
	};

	return ioctl(fd, DRM_IOCTL_SWGPU_CPU_ACCESS, &ca);
}

int main(void)
{
	struct drm_swgpu_gem_create create = { .size = OBJ_SIZE };
	struct drm_gem_close close_arg = { 0 };
	unsigned char *a, *b;
	int fd, i, same = 1;

	fd = open_swgpu();
	result("open-render-node", fd >= 0, "no render node with driver swgpu");
	if (fd < 0)
		return 98;

	if (ioctl(fd, DRM_IOCTL_SWGPU_GEM_CREATE, &create)) {
		result("gem-create", 0, strerror(errno));
		return 98;
	}
	result("gem-create", create.size == OBJ_SIZE, "unexpected size");

	a = map_object(fd, create.handle);
	b = map_object(fd, create.handle);
	result("mmap", a && b, "GEM_MMAP_OFFSET or mmap failed");
	if (!a || !b)
		return 98;

	if (cpu_access(fd, create.handle, SWGPU_CPU_ACCESS_WRITE |
		       SWGPU_CPU_ACCESS_START)) {
		result("cpu-access", 0, strerror(errno));
		return 98;
	}
	for (i = 0; i < 4096; i++)
		a[4096 + i] = (unsigned char)(i * 7 + 1);
	cpu_access(fd, create.handle, SWGPU_CPU_ACCESS_WRITE |
		   SWGPU_CPU_ACCESS_END);
	if (cpu_access(fd, create.handle, SWGPU_CPU_ACCESS_READ |
		       SWGPU_CPU_ACCESS_START)) {
		result("cpu-access", 0, strerror(errno));
		return 98;
	}
	for (i = 0; i < 4096; i++)
		same &= b[4096 + i] == (unsigned char)(i * 7 + 1);
	cpu_access(fd, create.handle, SWGPU_CPU_ACCESS_READ |
		   SWGPU_CPU_ACCESS_END);
	result("cpu-access", same, "bytes written through one mapping differ in the other");

	munmap(a, OBJ_SIZE);
	munmap(b, OBJ_SIZE);
	close_arg.handle = create.handle;
	result("gem-close", ioctl(fd, DRM_IOCTL_GEM_CLOSE, &close_arg) == 0,
	       strerror(errno));
	close(fd);
	return failures ? 98 : 0;
}
