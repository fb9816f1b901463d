// SPDX-License-Identifier: MIT
/*
 * swgpu_common.c - device discovery, GEM / PRIME / dma-buf wrappers and the
 * debugfs object-list reader used by the swgpu tests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "igt.h"
#include "swgpu_common.h"

size_t swgpu_page_size(void)
{
	long sz = sysconf(_SC_PAGESIZE);

	return sz > 0 ? (size_t)sz : 4096;
}

static int ioctl_errno(int fd, unsigned long request, void *arg)
{
	if (igt_ioctl(fd, request, arg))
		return -errno;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

bool swgpu_fd_is_driver(int fd, const char *name)
{
	char buf[64] = "";
	struct drm_version v;

	memset(&v, 0, sizeof(v));
	v.name = buf;
	v.name_len = sizeof(buf) - 1;
	if (igt_ioctl(fd, DRM_IOCTL_VERSION, &v))
		return false;
	if (v.name_len >= sizeof(buf))
		return false;
	buf[v.name_len] = '\0';
	return strcmp(buf, name) == 0;
}

int __swgpu_open_driver_node(const char *name, bool render)
{
	int first = render ? 128 : 0;

	for (int i = first; i < first + 64; i++) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), render ? "/dev/dri/renderD%d" :
			 "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (swgpu_fd_is_driver(fd, name))
			return fd;
		close(fd);
	}
	return -1;
}

bool swgpu_kernel_is_64bit(void)
{
	struct utsname u;

	igt_assert_eq(uname(&u), 0);
	return strstr(u.machine, "64") != NULL;
}

const char *swgpu_driver_name(void)
{
	const char *name = getenv("SWGPU_TEST_DRIVER_NAME");

	return name && *name ? name : SWGPU_DRIVER_NAME;
}

bool swgpu_fd_is_swgpu(int fd)
{
	uint64_t size = 4096;
	uint32_t handle;

	if (__swgpu_gem_create(fd, &size, 0, &handle))
		return false;
	__swgpu_gem_close(fd, handle);
	return true;
}

int swgpu_open_primary(void)
{
	int fd = __swgpu_open_driver_node(swgpu_driver_name(), false);

	igt_require_f(fd >= 0, "no swgpu primary node in /dev/dri\n");
	return fd;
}

int swgpu_open_render(void)
{
	int fd = __swgpu_open_driver_node(swgpu_driver_name(), true);

	igt_require_f(fd >= 0, "no swgpu render node in /dev/dri\n");
	return fd;
}

int swgpu_open_vgem(void)
{
	int fd = __swgpu_open_driver_node(SWGPU_VGEM_DRIVER_NAME, false);

	igt_require_f(fd >= 0, "no vgem primary node in /dev/dri\n");
	/*
	 * Under vgem_compat=1 the "vgem" a client finds is swgpu itself;
	 * the tests then check what such a client gets.
	 */
	if (swgpu_fd_is_swgpu(fd))
		igt_info("vgem is swgpu (vgem_compat=1)\n");
	return fd;
}

/* ------------------------------------------------------------------ */
/* swgpu GEM                                                           */
/* ------------------------------------------------------------------ */

int __swgpu_gem_create(int fd, uint64_t *size, uint32_t flags,
		       uint32_t *handle)
{
	struct drm_swgpu_gem_create arg;
	int err;

	memset(&arg, 0, sizeof(arg));
	arg.size = *size;
	arg.flags = flags;
	err = ioctl_errno(fd, DRM_IOCTL_SWGPU_GEM_CREATE, &arg);
	if (err)
		return err;
	*size = arg.size;
	*handle = arg.handle;
	return 0;
}

uint32_t swgpu_gem_create(int fd, uint64_t size)
{
	uint32_t handle = 0;

	igt_assert_eq(__swgpu_gem_create(fd, &size, 0, &handle), 0);
	igt_assert_neq_u32(handle, 0);
	return handle;
}

int __swgpu_gem_mmap_offset(int fd, uint32_t handle, uint64_t *offset)
{
	struct drm_swgpu_gem_mmap_offset arg;
	int err;

	memset(&arg, 0, sizeof(arg));
	arg.handle = handle;
	err = ioctl_errno(fd, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &arg);
	if (err)
		return err;
	*offset = arg.offset;
	return 0;
}

uint64_t swgpu_gem_mmap_offset(int fd, uint32_t handle)
{
	uint64_t offset = 0;

	igt_assert_eq(__swgpu_gem_mmap_offset(fd, handle, &offset), 0);
	return offset;
}

void *__swgpu_gem_mmap(int fd, uint32_t handle, uint64_t size, int prot)
{
	uint64_t offset;
	int err;

	err = __swgpu_gem_mmap_offset(fd, handle, &offset);
	if (err) {
		errno = -err;
		return MAP_FAILED;
	}
	return mmap(NULL, size, prot, MAP_SHARED, fd, (off_t)offset);
}

void *swgpu_gem_mmap(int fd, uint32_t handle, uint64_t size, int prot)
{
	void *ptr = __swgpu_gem_mmap(fd, handle, size, prot);

	igt_assert_f(ptr != MAP_FAILED, "mmap of handle %u (%" PRIu64
		     " bytes) failed: %s\n", handle, size, strerror(errno));
	return ptr;
}

/* ------------------------------------------------------------------ */
/* Generic GEM, dumb, PRIME                                            */
/* ------------------------------------------------------------------ */

int __swgpu_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close arg;

	memset(&arg, 0, sizeof(arg));
	arg.handle = handle;
	return ioctl_errno(fd, DRM_IOCTL_GEM_CLOSE, &arg);
}

void swgpu_gem_close(int fd, uint32_t handle)
{
	igt_assert_eq(__swgpu_gem_close(fd, handle), 0);
}

int __swgpu_dumb_create(int fd, struct drm_mode_create_dumb *arg)
{
	return ioctl_errno(fd, DRM_IOCTL_MODE_CREATE_DUMB, arg);
}

uint32_t swgpu_dumb_create(int fd, uint32_t width, uint32_t height,
			   uint32_t bpp, uint32_t *pitch, uint64_t *size)
{
	struct drm_mode_create_dumb arg;

	memset(&arg, 0, sizeof(arg));
	arg.width = width;
	arg.height = height;
	arg.bpp = bpp;
	igt_assert_eq(__swgpu_dumb_create(fd, &arg), 0);
	igt_assert_neq_u32(arg.handle, 0);
	if (pitch)
		*pitch = arg.pitch;
	if (size)
		*size = arg.size;
	return arg.handle;
}

int __swgpu_dumb_map_offset(int fd, uint32_t handle, uint64_t *offset)
{
	struct drm_mode_map_dumb arg;
	int err;

	memset(&arg, 0, sizeof(arg));
	arg.handle = handle;
	err = ioctl_errno(fd, DRM_IOCTL_MODE_MAP_DUMB, &arg);
	if (err)
		return err;
	*offset = arg.offset;
	return 0;
}

uint64_t swgpu_dumb_map_offset(int fd, uint32_t handle)
{
	uint64_t offset = 0;

	igt_assert_eq(__swgpu_dumb_map_offset(fd, handle, &offset), 0);
	return offset;
}

void *swgpu_dumb_mmap(int fd, uint32_t handle, uint64_t size, int prot)
{
	uint64_t offset = swgpu_dumb_map_offset(fd, handle);
	void *ptr = mmap(NULL, size, prot, MAP_SHARED, fd, (off_t)offset);

	igt_assert_f(ptr != MAP_FAILED, "mmap of dumb handle %u failed: %s\n",
		     handle, strerror(errno));
	return ptr;
}

int __swgpu_dumb_destroy(int fd, uint32_t handle)
{
	struct drm_mode_destroy_dumb arg;

	memset(&arg, 0, sizeof(arg));
	arg.handle = handle;
	return ioctl_errno(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &arg);
}

int __swgpu_fence_attach(int fd, uint32_t handle, uint32_t flags,
			 uint32_t *fence)
{
	struct drm_swgpu_fence_attach arg = { .handle = handle, .flags = flags };

	if (igt_ioctl(fd, DRM_IOCTL_SWGPU_FENCE_ATTACH, &arg))
		return -errno;
	*fence = arg.out_fence;
	return 0;
}

uint32_t swgpu_fence_attach(int fd, uint32_t handle, uint32_t flags)
{
	uint32_t fence = 0;

	igt_assert_eq(__swgpu_fence_attach(fd, handle, flags, &fence), 0);
	igt_assert_neq_u32(fence, 0);
	return fence;
}

int __swgpu_fence_signal(int fd, uint32_t fence)
{
	struct drm_swgpu_fence_signal arg = { .fence = fence };

	return igt_ioctl(fd, DRM_IOCTL_SWGPU_FENCE_SIGNAL, &arg) ? -errno : 0;
}

void swgpu_fence_signal(int fd, uint32_t fence)
{
	igt_assert_eq(__swgpu_fence_signal(fd, fence), 0);
}

#define SWGPU_PARAM_DIR "/sys/module/swgpu/parameters/"

static unsigned int swgpu_param_get(const char *name)
{
	char path[256];
	unsigned int value = 0;
	FILE *f;

	snprintf(path, sizeof(path), SWGPU_PARAM_DIR "%s", name);
	f = fopen(path, "r");
	igt_require_f(f, "no %s\n", path);
	igt_assert_eq(fscanf(f, "%u", &value), 1);
	fclose(f);
	return value;
}

static void swgpu_param_set(const char *name, unsigned int value)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), SWGPU_PARAM_DIR "%s", name);
	f = fopen(path, "w");
	igt_assert_f(f, "cannot open %s\n", path);
	igt_assert_lt(0, fprintf(f, "%u\n", value));
	igt_assert_eq(fclose(f), 0);
}

unsigned int swgpu_fence_timeout_ms(void)
{
	return swgpu_param_get("fence_timeout_ms");
}

void swgpu_set_fence_timeout_ms(unsigned int ms)
{
	swgpu_param_set("fence_timeout_ms", ms);
}

unsigned int swgpu_job_timeout_ms(void)
{
	return swgpu_param_get("job_timeout_ms");
}

void swgpu_set_job_timeout_ms(unsigned int ms)
{
	swgpu_param_set("job_timeout_ms", ms);
}

unsigned int swgpu_engine_lanes(void)
{
	return swgpu_param_get("engine_lanes");
}

void swgpu_set_engine_lanes(unsigned int lanes)
{
	swgpu_param_set("engine_lanes", lanes);
}

int swgpu_sync_file_status(int fd)
{
	struct sync_file_info info;

	memset(&info, 0, sizeof(info));
	do_ioctl(fd, SYNC_IOC_FILE_INFO, &info);
	return info.status;
}

int __swgpu_prime_export(int fd, uint32_t handle, uint32_t flags, int *dmabuf)
{
	struct drm_prime_handle arg;
	int err;

	memset(&arg, 0, sizeof(arg));
	arg.handle = handle;
	arg.flags = flags;
	arg.fd = -1;
	err = ioctl_errno(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &arg);
	if (err)
		return err;
	*dmabuf = arg.fd;
	return 0;
}

int swgpu_prime_export(int fd, uint32_t handle)
{
	int dmabuf = -1;

	igt_assert_eq(__swgpu_prime_export(fd, handle, SWGPU_EXPORT_FLAGS,
					   &dmabuf), 0);
	igt_assert_fd(dmabuf);
	return dmabuf;
}

int __swgpu_prime_import(int fd, int dmabuf, uint32_t *handle)
{
	struct drm_prime_handle arg;
	int err;

	memset(&arg, 0, sizeof(arg));
	arg.fd = dmabuf;
	err = ioctl_errno(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &arg);
	if (err)
		return err;
	*handle = arg.handle;
	return 0;
}

uint32_t swgpu_prime_import(int fd, int dmabuf)
{
	uint32_t handle = 0;

	igt_assert_eq(__swgpu_prime_import(fd, dmabuf, &handle), 0);
	igt_assert_neq_u32(handle, 0);
	return handle;
}

/* ------------------------------------------------------------------ */
/* dma-buf                                                             */
/* ------------------------------------------------------------------ */

int __swgpu_dmabuf_sync(int dmabuf, uint64_t flags)
{
	struct dma_buf_sync arg = { .flags = flags };

	return ioctl_errno(dmabuf, DMA_BUF_IOCTL_SYNC, &arg);
}

void swgpu_dmabuf_sync(int dmabuf, uint64_t flags)
{
	igt_assert_eq(__swgpu_dmabuf_sync(dmabuf, flags), 0);
}

void *swgpu_dmabuf_mmap(int dmabuf, uint64_t size, int prot)
{
	void *ptr = mmap(NULL, size, prot, MAP_SHARED, dmabuf, 0);

	igt_assert_f(ptr != MAP_FAILED, "mmap of dma-buf fd %d failed: %s\n",
		     dmabuf, strerror(errno));
	return ptr;
}

int64_t swgpu_dmabuf_size(int dmabuf)
{
	off_t end = lseek(dmabuf, 0, SEEK_END);

	/* Rewind: the position is shared by every dup of the fd. */
	if (end >= 0)
		lseek(dmabuf, 0, SEEK_SET);
	return end;
}

bool swgpu_same_inode(int fd_a, int fd_b)
{
	struct stat a, b;

	if (fstat(fd_a, &a) || fstat(fd_b, &b))
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* ------------------------------------------------------------------ */
/* debugfs                                                             */
/* ------------------------------------------------------------------ */

const char *swgpu_debugfs_objects_path(void)
{
	static char path[256];
	const char *found = NULL;
	glob_t g;

	if (glob("/sys/kernel/debug/dri/*/swgpu_objects", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			if (access(g.gl_pathv[i], R_OK) == 0) {
				snprintf(path, sizeof(path), "%s",
					 g.gl_pathv[i]);
				found = path;
				break;
			}
		}
	}
	globfree(&g);
	return found;
}

FILE *swgpu_debugfs_open(const char *name)
{
	const char *objects = swgpu_debugfs_objects_path();
	char path[512];
	FILE *f;

	igt_assert(objects);
	snprintf(path, sizeof(path), "%s", objects);
	strcpy(strrchr(path, '/') + 1, name);
	f = fopen(path, "r");
	igt_assert_f(f, "cannot open %s\n", path);
	return f;
}

long swgpu_debugfs_engine(const char *key)
{
	FILE *f = swgpu_debugfs_open("swgpu_engine");
	char line[128];
	long value = -1;

	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ' ')
			value = atol(line + strlen(key) + 1);
	fclose(f);
	return value;
}

/* Wait for a sync_file to signal; return its status and close it. */
int swgpu_fence_wait(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int status;

	igt_assert_eq(poll(&p, 1, -1), 1);
	status = swgpu_sync_file_status(fd);
	close(fd);
	return status;
}

uint8_t swgpu_fill_byte(uint32_t pattern, uint64_t o)
{
	return pattern >> (8 * (o & 3));
}

void swgpu_engine_hang_next(void)
{
	const char *objects = swgpu_debugfs_objects_path();
	char path[512];
	FILE *f;

	igt_require_f(objects, "no readable swgpu debugfs\n");
	snprintf(path, sizeof(path), "%s", objects);
	strcpy(strrchr(path, '/') + 1, "swgpu_engine_hang");
	f = fopen(path, "w");
	igt_require_f(f, "cannot open %s: %m\n", path);
	igt_assert_lt(0, fprintf(f, "1\n"));
	igt_assert_eq(fclose(f), 0);
}

void swgpu_require_debugfs(void)
{
	igt_require_f(swgpu_debugfs_objects_path() != NULL,
		      "no readable /sys/kernel/debug/dri/*/swgpu_objects\n");
}

static bool parse_line(const char *line, struct swgpu_obj_info *info)
{
	int pid, exported, imported, n;
	unsigned int handle;
	uint64_t size, resident, highmem = 0;
	int64_t pinned;

	if (strncmp(line, "pid ", 4))
		return false;
	/* highmem came later: older drivers end the line before it. */
	n = sscanf(line, "pid %d handle %u size %" SCNu64 " resident %" SCNu64
		   " pinned %" SCNd64 " exported %d imported %d highmem %"
		   SCNu64, &pid, &handle, &size, &resident, &pinned,
		   &exported, &imported, &highmem);
	if (n != 7 && n != 8)
		return false;

	info->pid = pid;
	info->handle = handle;
	info->size = size;
	info->resident = resident;
	info->pinned = pinned < 0 ? UINT64_MAX : (uint64_t)pinned;
	info->exported = exported != 0;
	info->imported = imported != 0;
	info->highmem = highmem;
	return true;
}

/*
 * Walk the object list, calling @match for each parsed line; stops early
 * when it returns true. Returns -ENODEV without the debugfs file.
 */
static int walk_objects(bool (*match)(const struct swgpu_obj_info *, void *),
			void *data)
{
	const char *path = swgpu_debugfs_objects_path();
	struct swgpu_obj_info info;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (!path)
		return -ENODEV;
	f = fopen(path, "re");
	if (!f)
		return -ENODEV;
	while (getline(&line, &cap, f) > 0) {
		if (!parse_line(line, &info))
			continue;
		if (match(&info, data))
			break;
	}
	free(line);
	fclose(f);
	return 0;
}

struct find_ctx {
	pid_t pid;
	uint32_t handle;
	struct swgpu_obj_info *out;
	int count;
};

static bool match_handle(const struct swgpu_obj_info *info, void *data)
{
	struct find_ctx *ctx = data;

	if (info->pid != ctx->pid || info->handle != ctx->handle)
		return false;
	if (!ctx->count)
		*ctx->out = *info;
	ctx->count++;
	return false;	/* go on: a second match makes it ambiguous */
}

int swgpu_obj_info(pid_t pid, uint32_t handle, struct swgpu_obj_info *info)
{
	struct find_ctx ctx = { .pid = pid, .handle = handle, .out = info };
	int err = walk_objects(match_handle, &ctx);

	if (err)
		return err;
	if (ctx.count > 1)
		return -EEXIST;
	return ctx.count ? 0 : -ENOENT;
}

static bool match_pid(const struct swgpu_obj_info *info, void *data)
{
	struct find_ctx *ctx = data;

	if (info->pid == ctx->pid)
		ctx->count++;
	return false;
}

int swgpu_obj_count(pid_t pid)
{
	struct find_ctx ctx = { .pid = pid };
	int err = walk_objects(match_pid, &ctx);

	return err ? err : ctx.count;
}

struct swgpu_obj_info swgpu_obj_get(pid_t pid, uint32_t handle)
{
	struct swgpu_obj_info info;
	int err;

	memset(&info, 0, sizeof(info));
	err = swgpu_obj_info(pid, handle, &info);
	igt_assert_f(err != -EEXIST, "pid %d has handle %u in more than one "
		     "DRM file: debugfs cannot tell them apart\n",
		     (int)pid, handle);
	igt_assert_f(err == 0, "no swgpu_objects line for pid %d handle %u (%s)\n",
		     (int)pid, handle, strerror(-err));
	igt_debug("pid %d handle %u size %" PRIu64 " resident %" PRIu64
		  " pinned %" PRIu64 " exported %d imported %d\n",
		  (int)info.pid, info.handle, info.size, info.resident,
		  info.pinned, info.exported, info.imported);
	return info;
}

/* ------------------------------------------------------------------ */
/* Patterns, fds                                                       */
/* ------------------------------------------------------------------ */

static inline uint8_t pattern_byte(size_t i, uint32_t seed)
{
	/* Differs between neighbouring bytes, between pages and between
	 * small seeds (37 is odd, so seed -> seed * 37 is a bijection). */
	return (uint8_t)(i * 7 + (i >> 12) * 131 + seed * 37 + (seed >> 8) + 1);
}

void swgpu_fill(void *ptr, size_t len, uint32_t seed)
{
	uint8_t *p = ptr;

	for (size_t i = 0; i < len; i++)
		p[i] = pattern_byte(i, seed);
}

ssize_t swgpu_check(const void *ptr, size_t len, uint32_t seed)
{
	const uint8_t *p = ptr;

	for (size_t i = 0; i < len; i++)
		if (p[i] != pattern_byte(i, seed))
			return (ssize_t)i;
	return -1;
}

int swgpu_count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1;	/* the directory's own fd */
}
