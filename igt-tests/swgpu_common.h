/* SPDX-License-Identifier: MIT */
/*
 * swgpu_common.h - helpers shared by the swgpu tests.
 *
 * Only the IGT API and raw DRM / dma-buf ioctls are used, so this builds
 * both with the suite's own library and inside an upstream IGT tree. All
 * names carry a swgpu_ prefix to stay clear of IGT's own helpers.
 *
 * Convention: a __swgpu_ function returns 0 or -errno and never asserts;
 * the plain swgpu_ function asserts success and returns the result.
 */
#ifndef SWGPU_COMMON_H
#define SWGPU_COMMON_H

#include <fcntl.h>	/* O_RDWR, O_CLOEXEC behind DRM_RDWR, DRM_CLOEXEC */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>	/* FILE, for swgpu_debugfs_open() */
#include <sys/types.h>

#include <drm.h>
#include <drm_mode.h>

#include "swgpu_drm.h"

#define SWGPU_DRIVER_NAME "swgpu"
#define SWGPU_VGEM_DRIVER_NAME "vgem"

/*
 * The name swgpu registers under: "swgpu", or what the environment
 * variable SWGPU_TEST_DRIVER_NAME says (the harness sets "vgem" for runs
 * with the module parameter vgem_compat=1).
 */
const char *swgpu_driver_name(void);
/* True if @fd is a swgpu device, whatever its name (GEM_CREATE works). */
bool swgpu_fd_is_swgpu(int fd);

/* Flags for exports that user space maps read-write. */
#define SWGPU_EXPORT_FLAGS (DRM_CLOEXEC | DRM_RDWR)

size_t swgpu_page_size(void);
/* Whether the running kernel is 64-bit (32-bit ones cap objects < 4 GiB). */
bool swgpu_kernel_is_64bit(void);

/* ---- finding devices ---- */

/* True if @fd is a DRM device whose driver is called @name. */
bool swgpu_fd_is_driver(int fd, const char *name);
/* Open the first primary (cardN) or render (renderDN) node of the driver
 * called @name; -1 if there is none. */
int __swgpu_open_driver_node(const char *name, bool render);
/* The same, skipping the (sub)test when the device is missing. */
int swgpu_open_primary(void);
int swgpu_open_render(void);
/* The first "vgem" primary node: the in-tree vgem, or swgpu itself when
 * it was loaded with vgem_compat=1 and the in-tree one was not. */
int swgpu_open_vgem(void);

/* ---- swgpu GEM ---- */

int __swgpu_gem_create(int fd, uint64_t *size, uint32_t flags,
		       uint32_t *handle);
uint32_t swgpu_gem_create(int fd, uint64_t size);
int __swgpu_gem_mmap_offset(int fd, uint32_t handle, uint64_t *offset);
uint64_t swgpu_gem_mmap_offset(int fd, uint32_t handle);
/* mmap the whole object through its fake offset; MAP_FAILED on error. */
void *__swgpu_gem_mmap(int fd, uint32_t handle, uint64_t size, int prot);
void *swgpu_gem_mmap(int fd, uint32_t handle, uint64_t size, int prot);

/* ---- generic GEM, dumb buffers and PRIME (any DRM driver) ---- */

int __swgpu_gem_close(int fd, uint32_t handle);
void swgpu_gem_close(int fd, uint32_t handle);
int __swgpu_dumb_create(int fd, struct drm_mode_create_dumb *arg);
uint32_t swgpu_dumb_create(int fd, uint32_t width, uint32_t height,
			   uint32_t bpp, uint32_t *pitch, uint64_t *size);
int __swgpu_dumb_map_offset(int fd, uint32_t handle, uint64_t *offset);
uint64_t swgpu_dumb_map_offset(int fd, uint32_t handle);
void *swgpu_dumb_mmap(int fd, uint32_t handle, uint64_t size, int prot);
int __swgpu_dumb_destroy(int fd, uint32_t handle);

/* ---- vgem-compatible fences (swgpu's, and vgem's own) ---- */

int __swgpu_fence_attach(int fd, uint32_t handle, uint32_t flags,
			 uint32_t *fence);
uint32_t swgpu_fence_attach(int fd, uint32_t handle, uint32_t flags);
int __swgpu_fence_signal(int fd, uint32_t fence);
void swgpu_fence_signal(int fd, uint32_t fence);

/*
 * The module parameter fence_timeout_ms (when unsignalled fences expire):
 * read it (skipping without the parameter), and set it. Fences take the
 * value when they are attached.
 */
unsigned int swgpu_fence_timeout_ms(void);
void swgpu_set_fence_timeout_ms(unsigned int ms);
/*
 * The module parameter job_timeout_ms (how long a SUBMIT job may wait for
 * its fences, or run without writing): read it (skipping without it), and
 * set it. Jobs take the value at submit (waiting) and when they start
 * (running).
 */
unsigned int swgpu_job_timeout_ms(void);
void swgpu_set_job_timeout_ms(unsigned int ms);
/*
 * The module parameter engine_lanes (on how many CPUs one job's commands
 * run at once; 0: chosen by the driver): read it (skipping without it),
 * and set it. Jobs take the value when they start.
 */
unsigned int swgpu_engine_lanes(void);
void swgpu_set_engine_lanes(unsigned int lanes);
/* Status of a sync_file: 1 signalled, 0 pending, < 0 its error. */
int swgpu_sync_file_status(int fd);

int __swgpu_prime_export(int fd, uint32_t handle, uint32_t flags,
			 int *dmabuf);
int swgpu_prime_export(int fd, uint32_t handle);
int __swgpu_prime_import(int fd, int dmabuf, uint32_t *handle);
uint32_t swgpu_prime_import(int fd, int dmabuf);

/* ---- dma-buf ---- */

int __swgpu_dmabuf_sync(int dmabuf, uint64_t flags);
void swgpu_dmabuf_sync(int dmabuf, uint64_t flags);
void *swgpu_dmabuf_mmap(int dmabuf, uint64_t size, int prot);
/* Size of the dma-buf as its fd reports it (lseek SEEK_END). */
int64_t swgpu_dmabuf_size(int dmabuf);
/* True if both fds refer to the same open file's inode (same dma-buf). */
bool swgpu_same_inode(int fd_a, int fd_b);

/* ---- debugfs: /sys/kernel/debug/dri/<any>/swgpu_objects ---- */

struct swgpu_obj_info {
	pid_t pid;
	uint32_t handle;
	uint64_t size;
	uint64_t resident;	/* pages of backing allocated */
	uint64_t pinned;	/* pages swgpu holds pinned */
	bool exported;
	bool imported;
	uint64_t highmem;	/* resident pages in highmem (32-bit kernels) */
};

/* Path of the swgpu_objects file, or NULL if there is none. */
const char *swgpu_debugfs_objects_path(void);
/* Wait for a sync_file to signal; return its status and close it. */
int swgpu_fence_wait(int fd);
/* The byte a FILL with @pattern leaves at object offset @o. */
uint8_t swgpu_fill_byte(uint32_t pattern, uint64_t o);
/* Open swgpu's debugfs file @name (beside swgpu_objects) for reading; asserts. */
FILE *swgpu_debugfs_open(const char *name);
/* Value of @key in debugfs swgpu_engine (asserts the file is there), or -1. */
long swgpu_debugfs_engine(const char *key);
/* Make the next job the engine runs hang until it times out or is cancelled. */
void swgpu_engine_hang_next(void);
/* Skip unless swgpu's debugfs file can be read. */
void swgpu_require_debugfs(void);
/*
 * Find the line for (@pid, @handle): 0, -ENOENT if absent, -ENODEV without
 * the debugfs file, -EEXIST if several DRM files of @pid have that handle
 * number (lines name no file; tests that read debugfs keep their handle
 * numbers distinct, e.g. by running in a child with fds of its own).
 */
int swgpu_obj_info(pid_t pid, uint32_t handle, struct swgpu_obj_info *info);
/* Number of lines (handles) of @pid; -ENODEV without the debugfs file. */
int swgpu_obj_count(pid_t pid);
/* Assert there is a line for (@pid, @handle) and return it. */
struct swgpu_obj_info swgpu_obj_get(pid_t pid, uint32_t handle);

/* ---- data patterns and process state ---- */

/* Fill / check a buffer with a pattern derived from @seed and position. */
void swgpu_fill(void *ptr, size_t len, uint32_t seed);
/* Offset of the first byte that differs from the pattern, or -1. */
ssize_t swgpu_check(const void *ptr, size_t len, uint32_t seed);
/* Assert that @ptr holds the pattern of @seed. */
#define swgpu_assert_pattern(ptr, len, seed) do { \
	ssize_t __bad = swgpu_check((ptr), (len), (seed)); \
	igt_assert_f(__bad < 0, "pattern %#x mismatch at byte %zd of %zu\n", \
		     (unsigned int)(seed), __bad, (size_t)(len)); \
} while (0)

/* Number of open file descriptors of this process. */
int swgpu_count_fds(void);

#endif /* SWGPU_COMMON_H */
