// SPDX-License-Identifier: MIT
/*
 * highmem-probe - does swgpu put buffer pages in highmem? (KTAP on stdout)
 *
 * Creates a swgpu buffer, writes every page through an mmap, and reads the
 * object's line in debugfs (dri/N/swgpu_objects). The line must carry a
 * "highmem <pages>" field: resident pages that are in ZONE_HIGHMEM. On a
 * HIGHMEM kernel where most RAM is highmem, a driver whose shmem mapping
 * allows __GFP_HIGHMEM gets most pages from there; zero means the pages
 * were forced into lowmem (the 32-bit kernel's scarce ~800 MiB), which is
 * the bug this test exists to catch. Without the field the test is skipped:
 * the driver does not report it yet.
 *
 *   highmem-probe [MIB]      (default 64)
 *
 * Needs root, debugfs on /sys/kernel/debug, swgpu loaded. Exit 0 unless
 * the probe itself could not run (results are in the KTAP lines).
 */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>
#include "swgpu_drm.h"

static int open_swgpu(void)
{
	char path[64], name[32];
	int i, fd;

	for (i = 0; i < 16; i++) {
		struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };

		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(name, 0, sizeof(name));
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "swgpu"))
			return fd;
		close(fd);
	}
	return -1;
}

/* The swgpu_objects line of (our pid, handle), into line. */
static bool object_line(unsigned int handle, char *line, size_t len)
{
	char want[64];
	glob_t g;
	size_t i;
	bool found = false;

	snprintf(want, sizeof(want), "pid %d handle %u ", (int)getpid(), handle);
	if (glob("/sys/kernel/debug/dri/*/swgpu_objects", 0, NULL, &g))
		return false;
	for (i = 0; i < g.gl_pathc && !found; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");

		if (!f)
			continue;
		while (!found && fgets(line, len, f))
			found = !strncmp(line, want, strlen(want));
		fclose(f);
	}
	globfree(&g);
	return found;
}

static long field(const char *line, const char *key)
{
	char pat[40];
	const char *p;

	snprintf(pat, sizeof(pat), " %s ", key);
	p = strstr(line, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

int main(int argc, char **argv)
{
	uint64_t size = (argc > 1 ? strtoull(argv[1], NULL, 0) : 64) << 20;
	struct drm_swgpu_gem_create create = { .size = size };
	struct drm_swgpu_gem_mmap_offset off = { 0 };
	long page = sysconf(_SC_PAGESIZE), resident, high;
	char line[512];
	uint8_t *map;
	uint64_t i;
	int fd;

	printf("KTAP version 1\n1..1\n");
	fd = open_swgpu();
	if (fd < 0) {
		printf("not ok 1 highmem-pages # no swgpu card node in /dev/dri\n");
		return 0;
	}
	if (ioctl(fd, DRM_IOCTL_SWGPU_GEM_CREATE, &create)) {
		printf("not ok 1 highmem-pages # GEM_CREATE %llu bytes: %s\n",
		       (unsigned long long)size, strerror(errno));
		return 0;
	}
	off.handle = create.handle;
	if (ioctl(fd, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &off)) {
		printf("not ok 1 highmem-pages # GEM_MMAP_OFFSET: %s\n", strerror(errno));
		return 0;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off.offset);
	if (map == MAP_FAILED) {
		printf("not ok 1 highmem-pages # mmap: %s\n", strerror(errno));
		return 0;
	}
	for (i = 0; i < size; i += page)
		map[i] = (uint8_t)(i / page);

	if (!object_line(create.handle, line, sizeof(line))) {
		printf("not ok 1 highmem-pages # no swgpu_objects line for pid %d handle %u\n",
		       (int)getpid(), create.handle);
		return 0;
	}
	line[strcspn(line, "\n")] = 0;
	printf("# %s\n", line);
	resident = field(line, "resident");
	high = field(line, "highmem");
	if (high < 0)
		printf("ok 1 highmem-pages # SKIP swgpu_objects has no \"highmem <pages>\" field yet\n");
	else if (high > 0)
		printf("ok 1 highmem-pages # %ld of %ld resident pages are highmem\n",
		       high, resident);
	else
		printf("not ok 1 highmem-pages # 0 of %ld resident pages are highmem\n",
		       resident);
	munmap(map, size);
	close(fd);
	return 0;
}
