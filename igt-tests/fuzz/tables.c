// SPDX-License-Identifier: MIT
/*
 * swgpu_fuzz's shared tables and the helpers around them: garbage values,
 * failure recording, fd placement, picking and storing entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "fuzz.h"

/* A garbage number: the edges sizes and offsets get wrong. */
uint64_t fz_junk(struct rng *r)
{
	static const uint64_t edge[] = {
		0, 1, 4095, 4096, 4097, 0xffffffffull, 1ull << 32,
		1ull << 36, (1ull << 36) + 1, 1ull << 62, 1ull << 63,
		~0ull, ~0ull - 4095,
	};

	if (one_in(r, 4))
		return rnd(r);
	return edge[below(r, sizeof(edge) / sizeof(edge[0]))];
}

/* A pointer the kernel must refuse to follow, or NULL. */
uint64_t fz_junk_ptr(struct rng *r)
{
	static const uint64_t ptr[] = {
		0, 1, 0xffffffff81000000ull, 0xffff888000000000ull,
		0xfffffffffffff000ull, 0x7ffffffff000ull,
	};
	/*
	 * A 32-bit kernel uses the low 32 bits only: pick ones that are the
	 * kernel's there too, never a user address that might be mapped.
	 */
	static const uint64_t ptr32[] = { 0, 1, 0xc0000000ull, 0xfffff000ull };

	if (sizeof(long) == 4)
		return ptr32[below(r, sizeof(ptr32) / sizeof(ptr32[0]))];
	return ptr[below(r, sizeof(ptr) / sizeof(ptr[0]))];
}

/*
 * A wrong count for the DRM core's syncobj arrays. Below 2^16: the core
 * (6.12 at least) allocates arrays of count elements of up to 64 bytes
 * (the handles, the syncobj pointers, a wait's entries) with kmalloc and
 * no __GFP_NOWARN, so a count whose array needs more than 4 MiB (order
 * 10) makes the page allocator WARN: a DRM core issue that would fail
 * every run's kernel-log check here.
 */
uint32_t fz_junk_count(struct rng *r)
{
	return one_in(r, 2) ? 0 : below(r, (1u << 16) - 3) + 3;
}


struct fz_tables fz = { .lock = PTHREAD_MUTEX_INITIALIZER };
char fz_node_path[2][64];
atomic_bool fz_stop;
char fz_fail_msg[512];
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((format(printf, 1, 2)))
void fz_fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fail_lock);
	if (!fz_fail_msg[0]) {
		va_start(ap, fmt);
		vsnprintf(fz_fail_msg, sizeof(fz_fail_msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&fail_lock);
	atomic_store(&fz_stop, true);
}

/* Move a new fd to @base or above (see FUZZ_FD_BASE). */
int fz_move_fd(int fd, int base)
{
	int moved;

	if (fd < 0)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, base);
	close(fd);
	return moved < 0 ? -errno : moved;
}

int fz_xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

/*
 * Table helpers, called with the lock held or taking it. put_*() store a
 * new entry; when the table is full a random entry makes room and is
 * closed, which is one more way for things to close at random moments.
 * pick_*() copy an entry, or take it out of the table for the caller to
 * close (take). A pick finds a used slot when there is one, but one time
 * in 16 takes whatever slot it lands on: an empty one gives fd -1.
 */
static bool fz_drm_used(int i) { return fz.drm[i] >= 0; }
static bool fz_sf_used(int i) { return fz.sf[i] >= 0; }
static bool fz_obj_used(int i) { return fz.obj[i].fd >= 0; }
static bool fz_dmabuf_used(int i) { return fz.dmabuf[i].fd >= 0; }
bool fz_map_used(int i) { return fz.map[i].ptr != NULL; }
bool fz_fence_used(int i) { return fz.fence[i].fd >= 0; }
static bool fz_sobj_used(int i) { return fz.sobj[i].fd >= 0; }

int fz_pick_slot(struct rng *r, int n, bool (*used)(int))
{
	int start = below(r, n);

	if (one_in(r, 16))
		return start;
	for (int k = 0; k < n; k++)
		if (used((start + k) % n))
			return (start + k) % n;
	return start;
}

/* A free slot if there is one, else a random one. */
static int fz_free_slot(struct rng *r, int n, bool (*used)(int))
{
	int start = below(r, n);

	for (int k = 0; k < n; k++)
		if (!used((start + k) % n))
			return (start + k) % n;
	return start;
}

/*
 * A DRM fd leaves the table: most of the time its handles, fences and
 * syncobjs go too, so that the tables keep filling with live objects
 * rather than numbers of closed files. One time in 8 they stay, to be
 * used on whatever file the number names next.
 */
static void forget_drm_fd_locked(int fd, struct rng *r)
{
	if (fd < 0 || one_in(r, 8))
		return;
	for (int i = 0; i < N_OBJ; i++)
		if (fz.obj[i].fd == fd)
			fz.obj[i].fd = -1;
	for (int i = 0; i < N_FENCE; i++)
		if (fz.fence[i].fd == fd)
			fz.fence[i].fd = -1;
	for (int i = 0; i < N_SOBJ; i++)
		if (fz.sobj[i].fd == fd)
			fz.sobj[i].fd = -1;
}

int fz_take_drm(struct rng *r)
{
	int i, fd;

	pthread_mutex_lock(&fz.lock);
	i = fz_pick_slot(r, N_DRM, fz_drm_used);
	fd = fz.drm[i];
	fz.drm[i] = -1;
	forget_drm_fd_locked(fd, r);
	pthread_mutex_unlock(&fz.lock);
	return fd;
}

void fz_put_fd(int *tab, int n, int fd, struct rng *r)
{
	int slot, old;

	pthread_mutex_lock(&fz.lock);
	slot = fz_free_slot(r, n, tab == fz.drm ? fz_drm_used : fz_sf_used);
	old = tab[slot];
	tab[slot] = fd;
	if (tab == fz.drm)
		forget_drm_fd_locked(old, r);
	pthread_mutex_unlock(&fz.lock);
	if (old >= 0)
		close(old);
}

int fz_pick_fd(int *tab, int n, struct rng *r, bool take)
{
	int i, fd;

	pthread_mutex_lock(&fz.lock);
	i = fz_pick_slot(r, n, tab == fz.drm ? fz_drm_used : fz_sf_used);
	fd = tab[i];
	if (take)
		tab[i] = -1;
	pthread_mutex_unlock(&fz.lock);
	return fd;
}

int fz_any_drm(struct rng *r)
{
	int fd = fz_pick_fd(fz.drm, N_DRM, r, false);

	/* Now and then not a DRM fd at all, or none. */
	if (one_in(r, 32))
		return one_in(r, 2) ? -1 : fz_pick_fd(fz.sf, N_SF, r, false);
	return fd;
}

void fz_put_obj(struct obj o, struct rng *r)
{
	int i;

	pthread_mutex_lock(&fz.lock);
	i = fz_free_slot(r, N_OBJ, fz_obj_used);
	fz.obj[i] = o;	/* the handle it replaces just stays open */
	pthread_mutex_unlock(&fz.lock);
}

struct obj fz_pick_obj(struct rng *r, bool take)
{
	struct obj o;
	int i;

	pthread_mutex_lock(&fz.lock);
	i = fz_pick_slot(r, N_OBJ, fz_obj_used);
	o = fz.obj[i];
	if (take)
		fz.obj[i].fd = -1;
	pthread_mutex_unlock(&fz.lock);
	if (one_in(r, 32))
		o.handle = one_in(r, 2) ? 0 : (uint32_t)fz_junk(r);
	return o;
}

/* Another object of the same DRM fd, if one is in the table. */
struct obj fz_pick_obj_on(int fd, struct rng *r)
{
	int start = below(r, N_OBJ);
	struct obj o = { .fd = -1 };

	pthread_mutex_lock(&fz.lock);
	for (int k = 0; k < N_OBJ; k++) {
		struct obj *c = &fz.obj[(start + k) % N_OBJ];

		if (c->fd == fd && c->size) {
			o = *c;
			break;
		}
	}
	pthread_mutex_unlock(&fz.lock);
	return o;
}

void fz_put_dmabuf(struct dmabuf d, struct rng *r)
{
	int i, old;

	pthread_mutex_lock(&fz.lock);
	i = fz_free_slot(r, N_DMABUF, fz_dmabuf_used);
	old = fz.dmabuf[i].fd;
	fz.dmabuf[i] = d;
	pthread_mutex_unlock(&fz.lock);
	if (old >= 0)
		close(old);
}

struct dmabuf fz_pick_dmabuf(struct rng *r, bool take)
{
	struct dmabuf d;
	int i;

	pthread_mutex_lock(&fz.lock);
	i = fz_pick_slot(r, N_DMABUF, fz_dmabuf_used);
	d = fz.dmabuf[i];
	if (take)
		fz.dmabuf[i].fd = -1;
	pthread_mutex_unlock(&fz.lock);
	return d;
}

void fz_put_map(void *ptr, size_t len, struct rng *r)
{
	struct map old;
	int i;

	pthread_mutex_lock(&fz.lock);
	i = fz_free_slot(r, N_MAP, fz_map_used);
	old = fz.map[i];
	fz.map[i] = (struct map){ ptr, len };
	if (old.ptr)
		munmap(old.ptr, old.len);
	pthread_mutex_unlock(&fz.lock);
}

void fz_put_fence(struct fence f, struct rng *r)
{
	pthread_mutex_lock(&fz.lock);
	/* A lost id expires by itself. */
	fz.fence[fz_free_slot(r, N_FENCE, fz_fence_used)] = f;
	pthread_mutex_unlock(&fz.lock);
}

void fz_put_sobj(struct syncobj s, struct rng *r)
{
	pthread_mutex_lock(&fz.lock);
	/* Its file frees a lost one. */
	fz.sobj[fz_free_slot(r, N_SOBJ, fz_sobj_used)] = s;
	pthread_mutex_unlock(&fz.lock);
}

struct syncobj fz_pick_sobj(struct rng *r, bool take)
{
	struct syncobj s;
	int i;

	pthread_mutex_lock(&fz.lock);
	i = fz_pick_slot(r, N_SOBJ, fz_sobj_used);
	s = fz.sobj[i];
	if (take)
		fz.sobj[i].fd = -1;
	pthread_mutex_unlock(&fz.lock);
	return s;
}

int64_t fz_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* A valid range of an object of @size, at most @max bytes long. */
void fz_pick_range(struct rng *r, uint64_t size, uint64_t max,
		       __u64 *off, __u64 *len)
{
	*off = size ? below(r, size) : 0;
	*len = 1 + below(r, size - *off < max ? size - *off : max);
	if (one_in(r, 16)) {
		*off = fz_junk(r);
		*len = fz_junk(r);
	}
}

void fz_close_tables(void)
{
	for (int i = 0; i < N_DRM; i++)
		if (fz.drm[i] >= 0)
			close(fz.drm[i]);
	for (int i = 0; i < N_DMABUF; i++)
		if (fz.dmabuf[i].fd >= 0)
			close(fz.dmabuf[i].fd);
	for (int i = 0; i < N_SF; i++)
		if (fz.sf[i] >= 0)
			close(fz.sf[i]);
	for (int i = 0; i < N_MAP; i++)
		if (fz.map[i].ptr)
			munmap(fz.map[i].ptr, fz.map[i].len);
	/* Whatever else is left in the fuzzers' range: closed numbers. */
	for (int fd = FUZZ_FD_BASE; fd < OWN_FD_BASE; fd++)
		close(fd);
}

