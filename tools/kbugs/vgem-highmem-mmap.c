// SPDX-License-Identifier: MIT
/*
 * Reproducer of a kernel bug seen through vgem on 32-bit HIGHMEM kernels
 * (docs/upstream/README.rst, "vgem-highmem-wc"): the first mmap of a
 * vgem buffer makes drm_gem_shmem_get_pages() call set_pages_array_wc()
 * on its pages, most of them highmem here, and the x86 page attribute
 * code dereferences NULL for a highmem page.
 *
 *   vgem-highmem-mmap [MIB]
 *
 * Finds vgem's primary node, creates a dumb buffer of MIB MiB (default
 * 8), maps it, writes a pattern through the mapping and reads it back.
 * On a kernel with the bug the guest oopses in the mmap (the caller,
 * tools/tiers/guest-kbug-vgem.sh, expects that); on a fixed one this
 * prints "mapped N MiB, pattern read back" and exits 0. Exit 3: no vgem
 * device; 1: any other failure.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <drm.h>
#include <drm_mode.h>

static void fail(const char *what)
{
	printf("vgem-highmem-mmap: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int open_vgem(void)
{
	char path[64], name[16];
	struct drm_version v;
	int i, fd;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

int main(int argc, char **argv)
{
	unsigned int mib = argc > 1 ? (unsigned int)atoi(argv[1]) : 8;
	struct drm_mode_create_dumb create = {
		.width = 1024, .height = mib * 256, .bpp = 32,
	};
	struct drm_mode_map_dumb map = { 0 };
	uint32_t *p;
	size_t i, n;
	int fd;

	fd = open_vgem();
	if (fd < 0) {
		printf("vgem-highmem-mmap: no vgem device in /dev/dri\n");
		return 3;
	}
	if (ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create))
		fail("DRM_IOCTL_MODE_CREATE_DUMB");
	map.handle = create.handle;
	if (ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map))
		fail("DRM_IOCTL_MODE_MAP_DUMB");
	printf("vgem-highmem-mmap: mapping a %llu byte vgem dumb buffer\n",
	       (unsigned long long)create.size);
	fflush(stdout);
	p = mmap(NULL, create.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 map.offset);
	if (p == MAP_FAILED)
		fail("mmap");
	n = create.size / sizeof(*p);
	for (i = 0; i < n; i++)
		p[i] = (uint32_t)i * 2654435761u;
	for (i = 0; i < n; i++) {
		if (p[i] != (uint32_t)i * 2654435761u) {
			printf("vgem-highmem-mmap: word %zu reads %#x\n", i, p[i]);
			return 1;
		}
	}
	munmap(p, create.size);
	close(fd);
	printf("mapped %u MiB, pattern read back\n", mib);
	return 0;
}
