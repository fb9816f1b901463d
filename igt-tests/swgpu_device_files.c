// SPDX-License-Identifier: MIT
/*
 * swgpu_device_files - what administrators and tools read: every sysfs
 * and debugfs file of the device is readable, without error or hang, and
 * a second client can open both nodes beside the first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("swgpu's sysfs and debugfs files, and several clients");

/*
 * Read every file under @dir that has a read permission bit, down to
 * @depth levels, without following symlinks (sysfs is full of cycles).
 * Returns the number of files read; asserts that each read succeeded.
 */
static int read_tree(const char *dir, int depth)
{
	static char buf[1 << 16];
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(dir);
	igt_assert_f(d, "opendir %s: %s\n", dir, strerror(errno));
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;
		ssize_t r;
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		igt_assert_eq(lstat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			/*
			 * power/ is the PM core's, not the driver's: its
			 * autosuspend_delay_ms says EIO on any device that
			 * does not use runtime PM autosuspend.
			 */
			if (depth > 0 && strcmp(de->d_name, "power"))
				n += read_tree(path, depth - 1);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !(st.st_mode & 0444))
			continue;

		fd = open(path, O_RDONLY | O_NONBLOCK);
		igt_assert_f(fd >= 0, "open %s: %s\n", path, strerror(errno));
		do {
			r = read(fd, buf, sizeof(buf));
		} while (r > 0);
		igt_assert_f(r == 0, "read %s: %s\n", path, strerror(errno));
		close(fd);
		n++;
	}
	closedir(d);
	return n;
}

/* The sysfs directory of the device node behind @fd. */
static void sysfs_dir(int fd, char *path, size_t len)
{
	struct stat st;

	igt_assert_eq(fstat(fd, &st), 0);
	snprintf(path, len, "/sys/dev/char/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
}

static void second_client(void)
{
	int p1 = swgpu_open_primary(), r1 = swgpu_open_render();
	int p2 = swgpu_open_primary(), r2 = swgpu_open_render();
	uint32_t h1 = swgpu_gem_create(p1, 4096);
	uint32_t h2 = swgpu_gem_create(r2, 4096);
	uint32_t *m1, *m2, *c1, *c2;
	int dmabuf;

	/* Each file has its own handles... */
	igt_assert_eq(__swgpu_gem_mmap_offset(r1, h1 + 1000, &(uint64_t){0}),
		      -ENOENT);
	/* ...and they share buffers through PRIME in every direction. */
	dmabuf = swgpu_prime_export(p1, h1);
	m1 = swgpu_gem_mmap(r2, swgpu_prime_import(r2, dmabuf), 4096,
			    PROT_READ | PROT_WRITE);
	close(dmabuf);
	dmabuf = swgpu_prime_export(r2, h2);
	m2 = swgpu_gem_mmap(p2, swgpu_prime_import(p2, dmabuf), 4096,
			    PROT_READ | PROT_WRITE);
	close(dmabuf);

	swgpu_fill(m1, 4096, 5);
	swgpu_fill(m2, 4096, 6);
	c1 = swgpu_gem_mmap(p1, h1, 4096, PROT_READ);
	c2 = swgpu_gem_mmap(r2, h2, 4096, PROT_READ);
	swgpu_assert_pattern(c1, 4096, 5);
	swgpu_assert_pattern(c2, 4096, 6);
	munmap(m1, 4096);
	munmap(m2, 4096);
	munmap(c1, 4096);
	munmap(c2, 4096);

	close(p1);
	close(r1);
	close(p2);
	close(r2);
}

igt_main
{
	static int primary = -1, render = -1;

	igt_fixture {
		primary = swgpu_open_primary();
		render = swgpu_open_render();
	}

	igt_describe("Every readable file of the primary node's sysfs "
		     "directory reads without error.");
	igt_subtest("sysfs-primary-readable") {
		char dir[64];

		sysfs_dir(primary, dir, sizeof(dir));
		igt_assert_lt(0, read_tree(dir, 2));
	}

	igt_describe("Every readable file of the render node's sysfs "
		     "directory reads without error.");
	igt_subtest("sysfs-render-readable") {
		char dir[64];

		sysfs_dir(render, dir, sizeof(dir));
		igt_assert_lt(0, read_tree(dir, 2));
	}

	igt_describe("Every file of swgpu's debugfs directory reads without "
		     "error, with objects, fences and clients present.");
	igt_subtest("debugfs-readable") {
		const char *objects;
		char dir[256];
		uint32_t handle;
		int dmabuf;

		swgpu_require_debugfs();
		objects = swgpu_debugfs_objects_path();
		snprintf(dir, sizeof(dir), "%s", objects);
		*strrchr(dir, '/') = '\0';

		handle = swgpu_gem_create(render, 8192);
		dmabuf = swgpu_prime_export(render, handle);
		swgpu_fence_attach(render, handle, 0);
		igt_assert_lte(4, read_tree(dir, 1));
		close(dmabuf);
		swgpu_gem_close(render, handle);
	}

	igt_describe("A second client opens both nodes beside the first; "
		     "handles stay per file and buffers share both ways.");
	igt_subtest("second-client-both-nodes")
		second_client();

	igt_fixture {
		close(primary);
		close(render);
	}
}
