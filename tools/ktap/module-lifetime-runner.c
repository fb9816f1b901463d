// SPDX-License-Identifier: MIT
/*
 * module-lifetime-runner: checks when swgpu can and cannot be unloaded,
 * and unloads it. Prints one KTAP document on stdout.
 *
 * swgpu must stay loaded while a DRM file descriptor, an exported dma-buf
 * (held by a file descriptor or by an importer such as vgem) or a user
 * mapping of a swgpu buffer (GEM or dma-buf mmap, any part of it, in any
 * process) is alive, as vgem does; once the last is gone it unloads.
 *
 * Run it last: on success swgpu is no longer loaded. Anything else that
 * uses swgpu (its test module) must be unloaded first.
 *
 * Usage: module-lifetime-runner [--help]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>
#include "swgpu_drm.h"
#include "drm_open.h"

#define SIZE (64 * 4096ul)

static int ntests;

static void result(bool ok, const char *name, const char *why)
{
	printf("%s %d %s%s%s\n", ok ? "ok" : "not ok", ++ntests, name,
	       ok ? "" : " # ", ok ? "" : why);
	fflush(stdout);
}

/* 0 if swgpu was removed, else the errno delete_module gave. */
static int try_unload(void)
{
	if (syscall(SYS_delete_module, "swgpu", O_NONBLOCK))
		return errno;
	return 0;
}

static bool loaded(void)
{
	struct stat st;

	return stat("/sys/module/swgpu", &st) == 0;
}

/* A swgpu buffer filled with a pattern, exported; the handle is closed. */
static int make_dmabuf(int drm)
{
	struct drm_swgpu_gem_create c = { .size = SIZE };
	struct drm_prime_handle p = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_gem_close cl = { 0 };
	uint32_t *map;
	size_t i;

	if (ioctl(drm, DRM_IOCTL_SWGPU_GEM_CREATE, &c))
		return -1;
	p.handle = c.handle;
	if (ioctl(drm, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p))
		return -1;
	cl.handle = c.handle;
	ioctl(drm, DRM_IOCTL_GEM_CLOSE, &cl);

	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, p.fd, 0);
	if (map == MAP_FAILED)
		return -1;
	for (i = 0; i < SIZE / 4; i++)
		map[i] = 0x5a000000u | i;
	munmap(map, SIZE);
	return p.fd;
}

static void busy_with_drm_fd(void)
{
	int drm = drm_open_by_name("renderD", 128, "swgpu");
	int err;

	if (drm < 0) {
		result(false, "busy-with-drm-fd", "cannot open swgpu");
		return;
	}
	err = try_unload();
	close(drm);
	result(err == EWOULDBLOCK || err == EBUSY, "busy-with-drm-fd",
	       err ? strerror(err) : "unloaded while a DRM fd was open");
}

static void busy_with_dmabuf_fd(void)
{
	int drm = drm_open_by_name("renderD", 128, "swgpu");
	int buf, err;

	buf = drm < 0 ? -1 : make_dmabuf(drm);
	if (drm >= 0)
		close(drm);
	if (buf < 0) {
		result(false, "busy-with-dmabuf-fd", "cannot make a dma-buf");
		return;
	}
	err = try_unload();
	close(buf);
	result(err == EWOULDBLOCK || err == EBUSY, "busy-with-dmabuf-fd",
	       err ? strerror(err) : "unloaded while a dma-buf was open");
}

static void busy_with_vgem_import(void)
{
	int drm = drm_open_by_name("renderD", 128, "swgpu");
	int vgem = drm_open_by_name("card", 0, "vgem");
	struct drm_prime_handle p = { 0 };
	struct drm_gem_close cl = { 0 };
	int buf, err;

	if (vgem < 0) {
		/* The i386 HIGHMEM tier runs without vgem, on purpose. */
		if (drm >= 0)
			close(drm);
		printf("ok %d busy-with-vgem-import # SKIP vgem is not loaded\n",
		       ++ntests);
		return;
	}
	buf = drm < 0 ? -1 : make_dmabuf(drm);
	if (drm >= 0)
		close(drm);
	if (buf < 0) {
		result(false, "busy-with-vgem-import", "no swgpu buffer");
		close(vgem);
		return;
	}
	p.fd = buf;
	if (ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p)) {
		result(false, "busy-with-vgem-import", strerror(errno));
		close(buf);
		close(vgem);
		return;
	}
	close(buf);

	/* Only vgem's handle keeps the dma-buf, and so swgpu, alive now. */
	err = try_unload();
	cl.handle = p.handle;
	ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &cl);
	close(vgem);
	result(err == EWOULDBLOCK || err == EBUSY, "busy-with-vgem-import",
	       err ? strerror(err) : "unloaded while vgem held the dma-buf");
}

/* A swgpu buffer mapped through GEM_MMAP_OFFSET; handle and fd closed. */
static uint32_t *gem_mapping(void)
{
	int drm = drm_open_by_name("renderD", 128, "swgpu");
	struct drm_swgpu_gem_create c = { .size = SIZE };
	struct drm_swgpu_gem_mmap_offset o = { 0 };
	struct drm_gem_close cl = { 0 };
	void *map = MAP_FAILED;

	if (drm < 0)
		return MAP_FAILED;
	if (!ioctl(drm, DRM_IOCTL_SWGPU_GEM_CREATE, &c)) {
		o.handle = c.handle;
		if (!ioctl(drm, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &o))
			map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
				   MAP_SHARED, drm, o.offset);
		cl.handle = c.handle;
		ioctl(drm, DRM_IOCTL_GEM_CLOSE, &cl);
	}
	close(drm);
	return map;
}

static bool busy(int err)
{
	return err == EWOULDBLOCK || err == EBUSY;
}

static bool pattern_is(const uint32_t *map, size_t from, uint32_t flip)
{
	size_t i;

	for (i = from; i < SIZE / 4; i++)
		if (map[i] != ((0x5a000000u | i) ^ flip))
			return false;
	return true;
}

/*
 * A user mapping holds the module, like vgem's (IGT vgem_basic's unload:
 * "A mmap should keep the module alive"), whichever way it was made, in
 * every part that is left of it and in every process that inherited it;
 * the last unmap lets the module go. The mapping keeps its data and stays
 * writable after every handle and file descriptor is closed.
 */
static void mappings_hold_module(void)
{
	int drm = drm_open_by_name("renderD", 128, "swgpu");
	uint32_t *gem, *map = MAP_FAILED;
	int buf, err, pipefd[2], status;
	pid_t child;

	gem = gem_mapping();
	if (gem == MAP_FAILED) {
		result(false, "busy-with-gem-mapping", "cannot map a GEM object");
	} else {
		gem[0] = 1;	/* a fault through the mapping */
		err = try_unload();
		result(busy(err), "busy-with-gem-mapping",
		       err ? strerror(err) : "unloaded while a GEM mapping lived");
	}

	buf = drm < 0 ? -1 : make_dmabuf(drm);
	if (buf >= 0)
		map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			   buf, 0);
	if (drm >= 0)
		close(drm);
	if (buf >= 0)
		close(buf);
	if (gem != MAP_FAILED)
		munmap(gem, SIZE);
	if (map == MAP_FAILED) {
		result(false, "busy-with-dmabuf-mapping", "cannot map a dma-buf");
		return;
	}
	err = try_unload();
	result(busy(err), "busy-with-dmabuf-mapping",
	       err ? strerror(err) : "unloaded while a dma-buf mapping lived");

	result(pattern_is(map, 0, 0), "mapping-keeps-data", "contents changed");
	for (size_t i = 0; i < SIZE / 4; i++)
		map[i] = ~map[i];
	result(pattern_is(map, 0, ~0u), "mapping-writable", "write did not stick");

	/* Splitting the mapping: what is left still holds. */
	munmap(map, 4096);
	err = try_unload();
	result(busy(err), "busy-with-part-of-mapping",
	       err ? strerror(err) : "unloaded while part of a mapping lived");

	/* A child's copy holds the module once the parent's is gone. */
	if (pipe(pipefd)) {
		result(false, "busy-with-inherited-mapping", strerror(errno));
		munmap(map + 1024, SIZE - 4096);
		return;
	}
	child = fork();
	if (child == 0) {
		char c;

		close(pipefd[1]);
		/* EOF: the parent has checked and closed its end. */
		while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(pattern_is(map, 1024, ~0u) ? 0 : 1);
	}
	close(pipefd[0]);
	munmap(map + 1024, SIZE - 4096);
	if (child < 0) {
		result(false, "busy-with-inherited-mapping", strerror(errno));
		close(pipefd[1]);
		return;
	}
	err = try_unload();
	result(busy(err), "busy-with-inherited-mapping",
	       err ? strerror(err) : "unloaded while a child's mapping lived");
	close(pipefd[1]);
	if (waitpid(child, &status, 0) != child)
		status = -1;
	result(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "inherited-mapping-keeps-data", "the child saw other contents");

	/*
	 * The child's exit released its mapping before waitpid() returned,
	 * and the parent's munmap() before it returned: nothing holds now.
	 */
	err = try_unload();
	result(err == 0 && !loaded(), "unload-after-last-mapping",
	       err ? strerror(err) : "module still present");
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		printf("usage: %s\nChecks swgpu's unload rules, then unloads it;"
		       " prints KTAP.\n", argv[0]);
		return strcmp(argv[1], "--help") ? 2 : 0;
	}

	printf("KTAP version 1\n1..11\n");
	busy_with_drm_fd();
	busy_with_dmabuf_fd();
	busy_with_vgem_import();
	mappings_hold_module();
	return 0;
}
