// SPDX-License-Identifier: MIT
/*
 * swgpu_fuzz - a seeded, bounded, multi-threaded fuzzer of swgpu's
 * user-space interface, in the manner of syzkaller: tables of DRM fds,
 * GEM handles, dma-bufs, mappings, user fences, sync_files and syncobjs,
 * shared by threads that pick random operations over every swgpu ioctl,
 * the DRM core ioctls a client uses, the dma-buf and sync_file ioctls,
 * mmap/munmap, fork and close, at random moments (a DRM fd or dma-buf
 * closed while an engine job uses it). Arguments are mostly valid and
 * sometimes garbage: sizes 0, 1, huge, 2^63; NULL and kernel pointers;
 * bad flags and padding.
 *
 * Beside them, integrity threads own buffers nobody else can reach and
 * write and verify patterns through GEM mmap, dma-buf mmap, engine FILL
 * and COPY; any byte that differs from what they wrote fails the run. At
 * the end every table is closed and swgpu's debugfs must list nothing of
 * this process; the harness then checks the unload, the kernel log and,
 * where there is one, kmemleak.
 *
 * Environment:
 *   SWGPU_FUZZ_SEEDS    seeds to run, one after the other ("1,0x2a"); by
 *                       default one seed from the clock
 *   SWGPU_FUZZ_TIME     seconds per seed (default 30)
 *   SWGPU_FUZZ_THREADS  fuzzing threads (default 4); integrity threads: 2
 *
 * Each thread draws its operations from its own generator, seeded from
 * the seed and its number, so a seed always means the same sequences of
 * choices; how the threads interleave is up to the scheduler. With
 * SWGPU_FUZZ_THREADS=1 the one fuzzing thread's run repeats exactly,
 * kernel answers aside.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/sync_file.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("Seeded multi-threaded random operations on swgpu, "
		     "with data integrity checked alongside");

/*
 * The fuzzing threads' fds live at FUZZ_FD_BASE and up, the integrity
 * threads' at OWN_FD_BASE and up. A fuzzing thread may use an fd number
 * another one has just closed, and that number may by then be a new file:
 * this keeps such numbers among the fuzzer's own files, never the
 * integrity threads' or the test program's.
 */
#define FUZZ_FD_BASE	100
#define OWN_FD_BASE	900

#define MAX_OBJ_SIZE	(2u << 20)	/* larger objects are created, not kept */
#define MAX_JOB_LEN	(256u << 10)
#define MAX_THREADS	16
#define INTEGRITY_THREADS 2

/* ---- operations and their statistics ---- */

#define OPS(X) \
	X(OPEN) X(CLOSE_DRM) X(VERSION) X(GET_CAP) \
	X(GEM_CREATE) X(GEM_CLOSE) X(GEM_MMAP_OFFSET) X(MMAP_GEM) \
	X(MUNMAP) X(MEM_TOUCH) X(CPU_ACCESS) X(SUBMIT) X(SUBMIT_CLOSE) \
	X(FENCE_ATTACH) X(FENCE_SIGNAL) X(PRIME_EXPORT) X(PRIME_IMPORT) \
	X(CLOSE_DMABUF) X(MMAP_DMABUF) X(DMABUF_SYNC) \
	X(DMABUF_EXPORT_SYNC_FILE) X(DMABUF_IMPORT_SYNC_FILE) X(POLL) \
	X(SYNC_FILE_INFO) X(SYNC_MERGE) X(CLOSE_SYNC_FILE) \
	X(DUMB_CREATE) X(DUMB_MAP) X(DUMB_DESTROY) \
	X(SYNCOBJ_CREATE) X(SYNCOBJ_DESTROY) X(SYNCOBJ_HANDLE_TO_FD) \
	X(SYNCOBJ_FD_TO_HANDLE) X(SYNCOBJ_WAIT) X(SYNCOBJ_RESET) \
	X(SYNCOBJ_SIGNAL) X(SYNCOBJ_TIMELINE_SIGNAL) X(SYNCOBJ_QUERY) \
	X(SYNCOBJ_TRANSFER) X(FORK)

#define OP_ENUM(n) OP_##n,
#define OP_NAME(n) #n,
enum op { OPS(OP_ENUM) NUM_OPS };
static const char *const op_names[NUM_OPS] = { OPS(OP_NAME) };

#define ERRNO_SLOTS	136	/* [0]: success; the last: anything larger */

struct stats {
	unsigned long n[NUM_OPS][ERRNO_SLOTS];
};

static void count(struct stats *st, enum op op, int err)
{
	if (err < 0)
		err = -err;
	if (err >= ERRNO_SLOTS)
		err = ERRNO_SLOTS - 1;
	st->n[op][err]++;
}

/* ---- random numbers (xorshift64*, seeded through splitmix64) ---- */

struct rng {
	uint64_t s;
};

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool one_in(struct rng *r, unsigned int n)
{
	return below(r, n) == 0;
}

/* A garbage number: the edges sizes and offsets get wrong. */
static uint64_t junk(struct rng *r)
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
static uint64_t junk_ptr(struct rng *r)
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
 * A wrong count for the DRM core's syncobj arrays. Not above 2^20: the
 * core (6.12 at least) allocates count * 4 bytes with kmalloc and no
 * __GFP_NOWARN, so a count of 2^32 - 1 makes the page allocator WARN
 * about the order, a DRM core issue that would fail every run here.
 */
static uint32_t junk_count(struct rng *r)
{
	return one_in(r, 2) ? 0 : below(r, 1u << 20) + 3;
}

/* Valid most of the time, junk one time in @n. */
#define MAYBE(r, n, valid) (one_in((r), (n)) ? junk(r) : (uint64_t)(valid))

/* ---- the shared tables ---- */

struct obj {
	int fd;		/* the DRM fd number the handle belongs to */
	uint32_t handle;
	uint64_t size;
};

struct dmabuf {
	int fd;
	uint64_t size;
};

struct map {
	void *ptr;
	size_t len;
};

struct fence {
	int fd;
	uint32_t id;
};

struct syncobj {
	int fd;
	uint32_t handle;
};

#define N_DRM	6
#define N_OBJ	48
#define N_DMABUF 16
#define N_MAP	16
#define N_FENCE	24
#define N_SF	16
#define N_SOBJ	16

static struct {
	pthread_mutex_t lock;	/* held around every table access */
	int drm[N_DRM];
	struct obj obj[N_OBJ];
	struct dmabuf dmabuf[N_DMABUF];
	struct map map[N_MAP];	/* accessed under the lock only */
	struct fence fence[N_FENCE];
	int sf[N_SF];
	struct syncobj sobj[N_SOBJ];
} T = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char node_path[2][64];	/* [0] primary, [1] render */
static atomic_bool stop;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_msg[512];

__attribute__((format(printf, 1, 2)))
static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fail_lock);
	if (!fail_msg[0]) {
		va_start(ap, fmt);
		vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&fail_lock);
	atomic_store(&stop, true);
}

/* Move a new fd to @base or above (see FUZZ_FD_BASE). */
static int move_fd(int fd, int base)
{
	int moved;

	if (fd < 0)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, base);
	close(fd);
	return moved < 0 ? -errno : moved;
}

static int xioctl(int fd, unsigned long req, void *arg)
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
static bool drm_used(int i) { return T.drm[i] >= 0; }
static bool sf_used(int i) { return T.sf[i] >= 0; }
static bool obj_used(int i) { return T.obj[i].fd >= 0; }
static bool dmabuf_used(int i) { return T.dmabuf[i].fd >= 0; }
static bool map_used(int i) { return T.map[i].ptr != NULL; }
static bool fence_used(int i) { return T.fence[i].fd >= 0; }
static bool sobj_used(int i) { return T.sobj[i].fd >= 0; }

static int pick_slot(struct rng *r, int n, bool (*used)(int))
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
static int free_slot(struct rng *r, int n, bool (*used)(int))
{
	int start = below(r, n);

	for (int k = 0; k < n; k++)
		if (!used((start + k) % n))
			return (start + k) % n;
	return start;
}

static void put_fd(int *tab, int n, int fd, struct rng *r)
{
	int slot, old;

	pthread_mutex_lock(&T.lock);
	slot = free_slot(r, n, tab == T.drm ? drm_used : sf_used);
	old = tab[slot];
	tab[slot] = fd;
	pthread_mutex_unlock(&T.lock);
	if (old >= 0)
		close(old);
}

static int pick_fd(int *tab, int n, struct rng *r, bool take)
{
	int i, fd;

	pthread_mutex_lock(&T.lock);
	i = pick_slot(r, n, tab == T.drm ? drm_used : sf_used);
	fd = tab[i];
	if (take)
		tab[i] = -1;
	pthread_mutex_unlock(&T.lock);
	return fd;
}

static int any_drm(struct rng *r)
{
	int fd = pick_fd(T.drm, N_DRM, r, false);

	/* Now and then not a DRM fd at all, or none. */
	if (one_in(r, 32))
		return one_in(r, 2) ? -1 : pick_fd(T.sf, N_SF, r, false);
	return fd;
}

static void put_obj(struct obj o, struct rng *r)
{
	int i;

	pthread_mutex_lock(&T.lock);
	i = free_slot(r, N_OBJ, obj_used);
	T.obj[i] = o;	/* the handle it replaces just stays open */
	pthread_mutex_unlock(&T.lock);
}

static struct obj pick_obj(struct rng *r, bool take)
{
	struct obj o;
	int i;

	pthread_mutex_lock(&T.lock);
	i = pick_slot(r, N_OBJ, obj_used);
	o = T.obj[i];
	if (take)
		T.obj[i].fd = -1;
	pthread_mutex_unlock(&T.lock);
	if (one_in(r, 32))
		o.handle = one_in(r, 2) ? 0 : (uint32_t)junk(r);
	return o;
}

/* Another object of the same DRM fd, if one is in the table. */
static struct obj pick_obj_on(int fd, struct rng *r)
{
	int start = below(r, N_OBJ);
	struct obj o = { .fd = -1 };

	pthread_mutex_lock(&T.lock);
	for (int k = 0; k < N_OBJ; k++) {
		struct obj *c = &T.obj[(start + k) % N_OBJ];

		if (c->fd == fd && c->size) {
			o = *c;
			break;
		}
	}
	pthread_mutex_unlock(&T.lock);
	return o;
}

static void put_dmabuf(struct dmabuf d, struct rng *r)
{
	int i, old;

	pthread_mutex_lock(&T.lock);
	i = free_slot(r, N_DMABUF, dmabuf_used);
	old = T.dmabuf[i].fd;
	T.dmabuf[i] = d;
	pthread_mutex_unlock(&T.lock);
	if (old >= 0)
		close(old);
}

static struct dmabuf pick_dmabuf(struct rng *r, bool take)
{
	struct dmabuf d;
	int i;

	pthread_mutex_lock(&T.lock);
	i = pick_slot(r, N_DMABUF, dmabuf_used);
	d = T.dmabuf[i];
	if (take)
		T.dmabuf[i].fd = -1;
	pthread_mutex_unlock(&T.lock);
	return d;
}

static void put_map(void *ptr, size_t len, struct rng *r)
{
	struct map old;
	int i;

	pthread_mutex_lock(&T.lock);
	i = free_slot(r, N_MAP, map_used);
	old = T.map[i];
	T.map[i] = (struct map){ ptr, len };
	if (old.ptr)
		munmap(old.ptr, old.len);
	pthread_mutex_unlock(&T.lock);
}

static void put_fence(struct fence f, struct rng *r)
{
	pthread_mutex_lock(&T.lock);
	/* A lost id expires by itself. */
	T.fence[free_slot(r, N_FENCE, fence_used)] = f;
	pthread_mutex_unlock(&T.lock);
}

static void put_sobj(struct syncobj s, struct rng *r)
{
	pthread_mutex_lock(&T.lock);
	/* Its file frees a lost one. */
	T.sobj[free_slot(r, N_SOBJ, sobj_used)] = s;
	pthread_mutex_unlock(&T.lock);
}

static struct syncobj pick_sobj(struct rng *r, bool take)
{
	struct syncobj s;
	int i;

	pthread_mutex_lock(&T.lock);
	i = pick_slot(r, N_SOBJ, sobj_used);
	s = T.sobj[i];
	if (take)
		T.sobj[i].fd = -1;
	pthread_mutex_unlock(&T.lock);
	return s;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* A valid range of an object of @size, at most @max bytes long. */
static void pick_range(struct rng *r, uint64_t size, uint64_t max,
		       __u64 *off, __u64 *len)
{
	*off = size ? below(r, size) : 0;
	*len = 1 + below(r, size - *off < max ? size - *off : max);
	if (one_in(r, 16)) {
		*off = junk(r);
		*len = junk(r);
	}
}

/* ---- the operations ---- */

static int op_open(struct rng *r)
{
	int fd = open(node_path[below(r, 2)], O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	fd = move_fd(fd, FUZZ_FD_BASE);
	if (fd >= 0)
		put_fd(T.drm, N_DRM, fd, r);
	return fd < 0 ? fd : 0;
}

static int op_gem_create(struct rng *r)
{
	struct drm_swgpu_gem_create arg = {
		.size = one_in(r, 8) ? junk(r) : 1 + below(r, MAX_OBJ_SIZE),
		.flags = one_in(r, 16) ? (uint32_t)junk(r) : 0,
	};
	int fd = any_drm(r), err;

	err = xioctl(fd, DRM_IOCTL_SWGPU_GEM_CREATE, &arg);
	if (err)
		return err;
	/* Huge objects are fine to create, not to fill: keep small ones. */
	if (arg.size <= MAX_OBJ_SIZE)
		put_obj((struct obj){ fd, arg.handle, arg.size }, r);
	else
		__swgpu_gem_close(fd, arg.handle);
	return 0;
}

static int op_gem_close(struct rng *r)
{
	struct obj o = pick_obj(r, !one_in(r, 4));
	struct drm_gem_close arg = { .handle = o.handle,
				     .pad = one_in(r, 16) ? 1 : 0 };

	return xioctl(o.fd, DRM_IOCTL_GEM_CLOSE, &arg);
}

static int op_mmap_gem(struct rng *r, bool offset_only)
{
	struct obj o = pick_obj(r, false);
	struct drm_swgpu_gem_mmap_offset arg = {
		.handle = o.handle, .pad = one_in(r, 16) ? 1 : 0,
	};
	uint64_t len = MAYBE(r, 16, o.size);
	void *ptr;
	int err;

	err = xioctl(o.fd, DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET, &arg);
	if (err || offset_only)
		return err;
	if (one_in(r, 16))
		arg.offset = junk(r) & ~4095ull;
	ptr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, o.fd,
		   arg.offset);
	if (ptr == MAP_FAILED)
		return -errno;
	/*
	 * swgpu refuses a mapping longer than the object, so all of it can
	 * be touched (the table's size may be stale: the fd number or the
	 * handle may name another object by now, which is fine).
	 */
	put_map(ptr, len, r);
	return 0;
}

static int op_munmap(struct rng *r)
{
	int i, ret = 0;

	pthread_mutex_lock(&T.lock);
	i = pick_slot(r, N_MAP, map_used);
	if (T.map[i].ptr) {
		/* Sometimes only the tail goes: the rest stays mapped. */
		size_t keep = one_in(r, 4) ? (T.map[i].len / 2) & ~4095ul : 0;

		if (munmap((char *)T.map[i].ptr + keep, T.map[i].len - keep))
			ret = -errno;
		T.map[i].len = keep;
		if (!keep)
			T.map[i].ptr = NULL;
	}
	pthread_mutex_unlock(&T.lock);
	return ret;
}

static int op_mem_touch(struct rng *r)
{
	volatile uint8_t *p;
	size_t len;
	int i;

	pthread_mutex_lock(&T.lock);
	i = pick_slot(r, N_MAP, map_used);
	p = T.map[i].ptr;
	len = T.map[i].len;
	for (int k = 0; p && len && k < 8; k++) {
		size_t off = below(r, len);

		if (one_in(r, 2))
			p[off] = (uint8_t)rnd(r);
		else
			(void)p[off];
	}
	pthread_mutex_unlock(&T.lock);
	return 0;
}

static int op_cpu_access(struct rng *r)
{
	struct obj o = pick_obj(r, false);
	struct drm_swgpu_cpu_access arg = {
		.handle = o.handle,
		.flags = 1 + below(r, 3),
		.pad = one_in(r, 32) ? junk(r) : 0,
	};
	int err;

	pick_range(r, o.size, MAX_JOB_LEN, &arg.offset, &arg.length);
	if (one_in(r, 16))
		arg.flags = junk(r);
	err = xioctl(o.fd, DRM_IOCTL_SWGPU_CPU_ACCESS, &arg);
	/*
	 * END is left out now and then (a window is not a pin). Its result
	 * is only counted: another thread may have closed the handle.
	 */
	if (!err && !one_in(r, 8)) {
		arg.flags |= SWGPU_CPU_ACCESS_END;
		err = xioctl(o.fd, DRM_IOCTL_SWGPU_CPU_ACCESS, &arg);
	}
	return err;
}

/* A batch on objects of one DRM fd; its out-fence into the table. */
static int submit_on(struct rng *r, int fd, struct obj first, int in_fence,
		     int *out)
{
	struct drm_swgpu_cmd cmds[4];
	struct drm_swgpu_submit arg = { .in_fence_fd = in_fence,
					.out_fence_fd = -1 };
	unsigned int n = 1 + below(r, 4);
	int err;

	for (unsigned int k = 0; k < n; k++) {
		struct obj dst = k ? pick_obj_on(fd, r) : first;
		struct obj src = pick_obj_on(fd, r);
		struct drm_swgpu_cmd *c = &cmds[k];

		if (dst.fd < 0)
			dst = first;
		memset(c, 0, sizeof(*c));
		c->dst_handle = dst.handle;
		if (one_in(r, 2) || src.fd < 0) {
			c->op = SWGPU_CMD_FILL;
			c->pattern = rnd(r);
			pick_range(r, dst.size, MAX_JOB_LEN, &c->dst_offset,
				   &c->length);
		} else {
			uint64_t max = dst.size < src.size ? dst.size : src.size;

			c->op = SWGPU_CMD_COPY;
			c->src_handle = src.handle;
			pick_range(r, max, MAX_JOB_LEN, &c->dst_offset,
				   &c->length);
			if (c->dst_offset + c->length <= src.size)
				c->src_offset = below(r, src.size - c->length + 1);
		}
		if (one_in(r, 32))
			c->op = junk(r);
		if (one_in(r, 64))
			c->src_offset = junk(r);
	}
	arg.cmds = one_in(r, 32) ? junk_ptr(r) : (uintptr_t)cmds;
	arg.num_cmds = one_in(r, 32) ? junk(r) : n;
	arg.flags = SWGPU_SUBMIT_OUT_FENCE |
		    (in_fence >= 0 ? SWGPU_SUBMIT_IN_FENCE : 0);
	if (one_in(r, 32))
		arg.flags = junk(r);
	err = xioctl(fd, DRM_IOCTL_SWGPU_SUBMIT, &arg);
	if (!err && (arg.flags & SWGPU_SUBMIT_OUT_FENCE))
		*out = arg.out_fence_fd;
	return err;
}

static int op_submit(struct rng *r)
{
	struct obj o = pick_obj(r, false);
	int in = -1, out = -1, err;

	if (one_in(r, 3))
		in = pick_fd(T.sf, N_SF, r, false);
	if (one_in(r, 32))
		in = one_in(r, 2) ? o.fd : (int)junk(r);
	err = submit_on(r, o.fd, o, in, &out);
	if (out >= 0) {
		out = move_fd(out, FUZZ_FD_BASE);
		if (out >= 0)
			put_fd(T.sf, N_SF, out, r);
	}
	return err;
}

/*
 * A job whose files go away at once: on a new DRM fd, writing a buffer
 * of its own and (half the time) one imported from another file whose
 * dma-buf and fd are closed right after the submit too.
 */
static int op_submit_close(struct rng *r)
{
	int fd = open(node_path[1], O_RDWR | O_CLOEXEC), buf = -1;
	uint64_t size = 4096 + below(r, MAX_OBJ_SIZE);
	struct obj o = { .size = size };
	int out = -1, err;

	if (fd < 0)
		return -errno;
	fd = move_fd(fd, FUZZ_FD_BASE);
	if (fd < 0)
		return fd;
	o.fd = fd;
	err = __swgpu_gem_create(fd, &o.size, 0, &o.handle);
	if (!err && one_in(r, 2)) {
		struct obj imp = pick_obj(r, false);

		if (!__swgpu_prime_export(imp.fd, imp.handle, SWGPU_EXPORT_FLAGS,
					  &buf)) {
			buf = move_fd(buf, FUZZ_FD_BASE);
			if (!__swgpu_prime_import(fd, buf, &imp.handle)) {
				imp.fd = fd;
				o = imp;	/* the job writes the import */
			}
		}
	}
	if (!err)
		err = submit_on(r, fd, o, -1, &out);
	if (buf >= 0)
		close(buf);
	close(fd);
	if (out >= 0) {
		/*
		 * Cancelled or done, it must end; a job that never does is
		 * a hang, which the harness's test timeout reports.
		 */
		struct pollfd p = { .fd = out, .events = POLLIN };

		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
		close(out);
	}
	return err;
}

static int op_fence_attach(struct rng *r)
{
	struct obj o = pick_obj(r, false);
	struct drm_swgpu_fence_attach arg = {
		.handle = o.handle,
		.flags = one_in(r, 16) ? (uint32_t)junk(r) : below(r, 2),
		.pad = one_in(r, 32) ? 1 : 0,
	};
	int err = xioctl(o.fd, DRM_IOCTL_SWGPU_FENCE_ATTACH, &arg);

	if (!err)
		put_fence((struct fence){ o.fd, arg.out_fence }, r);
	return err;
}

static int op_fence_signal(struct rng *r)
{
	struct drm_swgpu_fence_signal arg = { .flags = one_in(r, 32) };
	struct fence f;
	int i;

	pthread_mutex_lock(&T.lock);
	i = pick_slot(r, N_FENCE, fence_used);
	f = T.fence[i];
	T.fence[i].fd = -1;
	pthread_mutex_unlock(&T.lock);
	arg.fence = one_in(r, 16) ? (uint32_t)junk(r) : f.id;
	return xioctl(f.fd, DRM_IOCTL_SWGPU_FENCE_SIGNAL, &arg);
}

static int op_prime_export(struct rng *r)
{
	struct obj o = pick_obj(r, false);
	struct drm_prime_handle arg = {
		.handle = o.handle, .fd = -1,
		.flags = one_in(r, 16) ? (uint32_t)junk(r) : SWGPU_EXPORT_FLAGS,
	};
	int err = xioctl(o.fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &arg);

	if (!err) {
		int fd = move_fd(arg.fd, FUZZ_FD_BASE);

		if (fd >= 0)
			put_dmabuf((struct dmabuf){ fd, o.size }, r);
	}
	return err;
}

static int op_prime_import(struct rng *r)
{
	struct dmabuf d = pick_dmabuf(r, false);
	struct drm_prime_handle arg = {
		.fd = one_in(r, 16) ? pick_fd(T.sf, N_SF, r, false) : d.fd,
	};
	int fd = any_drm(r), err;

	err = xioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &arg);
	if (!err)
		put_obj((struct obj){ fd, arg.handle, d.size }, r);
	return err;
}

static int op_mmap_dmabuf(struct rng *r)
{
	struct dmabuf d = pick_dmabuf(r, false);
	uint64_t len = MAYBE(r, 16, d.size);
	void *ptr;

	ptr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd,
		   one_in(r, 16) ? junk(r) & ~4095ull : 0);
	if (ptr == MAP_FAILED)
		return -errno;
	/* dma-buf refuses mappings past the buffer's end, as swgpu does. */
	put_map(ptr, len, r);
	return 0;
}

static int op_dmabuf_sync(struct rng *r)
{
	struct dmabuf d = pick_dmabuf(r, false);
	struct dma_buf_sync arg = { .flags = DMA_BUF_SYNC_START | (1 + below(r, 3)) };
	int err;

	if (one_in(r, 16))
		arg.flags = junk(r);
	err = xioctl(d.fd, DMA_BUF_IOCTL_SYNC, &arg);
	if (!err && !(arg.flags & DMA_BUF_SYNC_END) && !one_in(r, 8)) {
		arg.flags |= DMA_BUF_SYNC_END;
		err = xioctl(d.fd, DMA_BUF_IOCTL_SYNC, &arg);
	}
	return err;
}

static int op_dmabuf_export_sf(struct rng *r)
{
	struct dmabuf d = pick_dmabuf(r, false);
	struct dma_buf_export_sync_file arg = {
		.flags = one_in(r, 16) ? (uint32_t)junk(r) : 1 + below(r, 3),
		.fd = -1,
	};
	int err = xioctl(d.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg);

	if (!err) {
		int fd = move_fd(arg.fd, FUZZ_FD_BASE);

		if (fd >= 0)
			put_fd(T.sf, N_SF, fd, r);
	}
	return err;
}

static int op_dmabuf_import_sf(struct rng *r)
{
	struct dmabuf d = pick_dmabuf(r, false);
	struct dma_buf_import_sync_file arg = {
		.flags = one_in(r, 16) ? (uint32_t)junk(r) : 1 + below(r, 3),
		.fd = one_in(r, 16) ? (int)junk(r) : pick_fd(T.sf, N_SF, r, false),
	};

	return xioctl(d.fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &arg);
}

static int op_poll(struct rng *r)
{
	struct pollfd p = {
		.fd = one_in(r, 2) ? pick_dmabuf(r, false).fd :
				     pick_fd(T.sf, N_SF, r, false),
		.events = one_in(r, 2) ? POLLIN : POLLOUT,
	};
	int n = poll(&p, 1, below(r, 3));

	return n < 0 ? -errno : 0;
}

static int op_sync_file_info(struct rng *r)
{
	struct sync_fence_info fi[4];
	struct sync_file_info arg;
	int fd = pick_fd(T.sf, N_SF, r, false), err;

	memset(&arg, 0, sizeof(arg));
	err = xioctl(fd, SYNC_IOC_FILE_INFO, &arg);
	if (err || one_in(r, 2))
		return err;
	arg.num_fences = arg.num_fences < 4 ? arg.num_fences : 4;
	arg.sync_fence_info = (uintptr_t)fi;
	if (one_in(r, 8)) {
		arg.sync_fence_info = junk_ptr(r);
		arg.num_fences = 1 + below(r, 4);
	}
	if (one_in(r, 16))
		arg.flags = junk(r);
	return xioctl(fd, SYNC_IOC_FILE_INFO, &arg);
}

static int op_sync_merge(struct rng *r)
{
	struct sync_merge_data arg = {
		.name = "fuzz",
		.fd2 = pick_fd(T.sf, N_SF, r, false),
		.flags = one_in(r, 16) ? (uint32_t)junk(r) : 0,
	};
	int err = xioctl(pick_fd(T.sf, N_SF, r, false), SYNC_IOC_MERGE, &arg);

	if (!err) {
		int fd = move_fd(arg.fence, FUZZ_FD_BASE);

		if (fd >= 0)
			put_fd(T.sf, N_SF, fd, r);
	}
	return err;
}

static int op_dumb(struct rng *r, enum op op)
{
	int fd = any_drm(r), err;

	if (op == OP_DUMB_CREATE) {
		struct drm_mode_create_dumb arg = {
			.width = MAYBE(r, 8, 1 + below(r, 512)),
			.height = MAYBE(r, 8, 1 + below(r, 512)),
			.bpp = one_in(r, 8) ? junk(r) : 32,
			.flags = one_in(r, 16) ? junk(r) : 0,
		};

		err = xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &arg);
		if (!err && arg.size <= MAX_OBJ_SIZE)
			put_obj((struct obj){ fd, arg.handle, arg.size }, r);
		return err;
	} else if (op == OP_DUMB_MAP) {
		struct obj o = pick_obj(r, false);
		struct drm_mode_map_dumb arg = { .handle = o.handle };

		return xioctl(o.fd, DRM_IOCTL_MODE_MAP_DUMB, &arg);
	} else {
		struct obj o = pick_obj(r, true);
		struct drm_mode_destroy_dumb arg = { .handle = o.handle };

		return xioctl(o.fd, DRM_IOCTL_MODE_DESTROY_DUMB, &arg);
	}
}

static int op_syncobj(struct rng *r, enum op op)
{
	struct syncobj s = pick_sobj(r, op == OP_SYNCOBJ_DESTROY);
	uint64_t point = one_in(r, 8) ? junk(r) : below(r, 8);
	int err, fd;

	switch (op) {
	case OP_SYNCOBJ_CREATE: {
		struct drm_syncobj_create arg = {
			.flags = one_in(r, 16) ? (uint32_t)junk(r) :
				 (one_in(r, 2) ? DRM_SYNCOBJ_CREATE_SIGNALED : 0),
		};

		fd = any_drm(r);
		err = xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &arg);
		if (!err)
			put_sobj((struct syncobj){ fd, arg.handle }, r);
		return err;
	}
	case OP_SYNCOBJ_DESTROY: {
		struct drm_syncobj_destroy arg = { .handle = s.handle,
						   .pad = one_in(r, 16) };

		return xioctl(s.fd, DRM_IOCTL_SYNCOBJ_DESTROY, &arg);
	}
	case OP_SYNCOBJ_HANDLE_TO_FD: {
		struct drm_syncobj_handle arg = {
			.handle = s.handle, .fd = -1,
			.flags = one_in(r, 2) ?
				 DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE : 0,
		};

		if (one_in(r, 16))
			arg.flags = junk(r);
		err = xioctl(s.fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &arg);
		/* A syncobj fd goes among the sync_files: a wrong kind there. */
		if (!err && (fd = move_fd(arg.fd, FUZZ_FD_BASE)) >= 0)
			put_fd(T.sf, N_SF, fd, r);
		return err;
	}
	case OP_SYNCOBJ_FD_TO_HANDLE: {
		struct drm_syncobj_handle arg = {
			.fd = pick_fd(T.sf, N_SF, r, false),
			.handle = s.handle,
			.flags = one_in(r, 2) ?
				 DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE : 0,
		};

		if (one_in(r, 16))
			arg.flags = junk(r);
		err = xioctl(s.fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &arg);
		if (!err && !(arg.flags & DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE))
			put_sobj((struct syncobj){ s.fd, arg.handle }, r);
		return err;
	}
	case OP_SYNCOBJ_WAIT: {
		uint32_t h[2] = { s.handle, pick_sobj(r, false).handle };
		uint64_t points[2] = { point, below(r, 8) };
		/* Absolute; never far: an empty syncobj may never signal. */
		int64_t timeout = one_in(r, 4) ? 0 : now_ns() + below(r, 5000000);

		if (one_in(r, 2)) {
			struct drm_syncobj_wait arg = {
				.handles = (uintptr_t)h, .count_handles = 1 + below(r, 2),
				.timeout_nsec = timeout, .flags = below(r, 4),
			};

			if (one_in(r, 16))
				arg.handles = junk_ptr(r);
			if (one_in(r, 16))
				arg.count_handles = junk_count(r);
			return xioctl(s.fd, DRM_IOCTL_SYNCOBJ_WAIT, &arg);
		} else {
			struct drm_syncobj_timeline_wait arg = {
				.handles = (uintptr_t)h, .points = (uintptr_t)points,
				.count_handles = 1 + below(r, 2),
				.timeout_nsec = timeout, .flags = below(r, 8),
			};

			if (one_in(r, 16))
				arg.points = junk_ptr(r);
			return xioctl(s.fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &arg);
		}
	}
	case OP_SYNCOBJ_RESET:
	case OP_SYNCOBJ_SIGNAL: {
		uint32_t h[2] = { s.handle, pick_sobj(r, false).handle };
		struct drm_syncobj_array arg = {
			.handles = one_in(r, 16) ? junk_ptr(r) : (uintptr_t)h,
			.count_handles = one_in(r, 16) ? junk_count(r) : 1 + below(r, 2),
			.pad = one_in(r, 32),
		};

		return xioctl(s.fd, op == OP_SYNCOBJ_RESET ? DRM_IOCTL_SYNCOBJ_RESET :
				    DRM_IOCTL_SYNCOBJ_SIGNAL, &arg);
	}
	case OP_SYNCOBJ_TIMELINE_SIGNAL:
	case OP_SYNCOBJ_QUERY: {
		uint32_t h[1] = { s.handle };
		uint64_t points[1] = { point };
		struct drm_syncobj_timeline_array arg = {
			.handles = (uintptr_t)h, .points = (uintptr_t)points,
			.count_handles = one_in(r, 16) ? junk_count(r) : 1,
			.flags = one_in(r, 16) ? junk(r) : 0,
		};

		return xioctl(s.fd, op == OP_SYNCOBJ_QUERY ? DRM_IOCTL_SYNCOBJ_QUERY :
				    DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &arg);
	}
	case OP_SYNCOBJ_TRANSFER: {
		struct drm_syncobj_transfer arg = {
			.src_handle = pick_sobj(r, false).handle,
			.dst_handle = s.handle,
			.src_point = below(r, 4), .dst_point = point,
			.flags = one_in(r, 16) ? junk(r) : 0,
			.pad = one_in(r, 32),
		};

		return xioctl(s.fd, DRM_IOCTL_SYNCOBJ_TRANSFER, &arg);
	}
	default:
		return -ENOSYS;
	}
}

/*
 * fork(): the child inherits every fd and mapping. It must not take the
 * table's lock (another thread may hold it for ever, in the child), so
 * what it uses is copied before. It writes a mapping, submits a job on a
 * shared file and then exits, closes the file, or is killed (a fatal
 * signal cancels its jobs; the parent's copy of the file stays open).
 */
static int op_fork(struct rng *r)
{
	struct obj o = pick_obj(r, false);
	unsigned int how = below(r, 3);
	struct rng child_r = { splitmix(rnd(r)) };
	struct map m;
	int status;
	pid_t pid;

	pthread_mutex_lock(&T.lock);
	m = T.map[pick_slot(r, N_MAP, map_used)];
	pid = fork();
	if (pid == 0) {
		struct drm_swgpu_cmd c = {
			.op = SWGPU_CMD_FILL, .pattern = rnd(&child_r),
			.dst_handle = o.handle,
		};
		struct drm_swgpu_submit arg = {
			.cmds = (uintptr_t)&c, .num_cmds = 1,
			.in_fence_fd = -1, .out_fence_fd = -1,
		};

		if (m.ptr && m.len)
			((volatile uint8_t *)m.ptr)[below(&child_r, m.len)] = 0x66;
		pick_range(&child_r, o.size, MAX_JOB_LEN, &c.dst_offset,
			   &c.length);
		ioctl(o.fd, DRM_IOCTL_SWGPU_SUBMIT, &arg);
		if (how == 1)
			close(o.fd);
		else if (how == 2)
			raise(SIGKILL);
		_exit(0);
	}
	pthread_mutex_unlock(&T.lock);
	if (pid < 0)
		return -errno;
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	    !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
		fail("a forked child ended with status %#x", status);
	return 0;
}

static int do_op(struct rng *r, enum op op)
{
	switch (op) {
	case OP_OPEN:
		return op_open(r);
	case OP_CLOSE_DRM: {
		int fd = pick_fd(T.drm, N_DRM, r, true);

		return close(fd) ? -errno : 0;
	}
	case OP_VERSION: {
		struct drm_version arg;
		char name[32];

		memset(&arg, 0, sizeof(arg));
		arg.name = one_in(r, 8) ? (char *)(uintptr_t)junk_ptr(r) : name;
		arg.name_len = one_in(r, 8) ? junk(r) : sizeof(name);
		return xioctl(any_drm(r), DRM_IOCTL_VERSION, &arg);
	}
	case OP_GET_CAP: {
		struct drm_get_cap arg = { .capability = below(r, 0x20) };

		return xioctl(any_drm(r), DRM_IOCTL_GET_CAP, &arg);
	}
	case OP_GEM_CREATE:
		return op_gem_create(r);
	case OP_GEM_CLOSE:
		return op_gem_close(r);
	case OP_GEM_MMAP_OFFSET:
		return op_mmap_gem(r, true);
	case OP_MMAP_GEM:
		return op_mmap_gem(r, false);
	case OP_MUNMAP:
		return op_munmap(r);
	case OP_MEM_TOUCH:
		return op_mem_touch(r);
	case OP_CPU_ACCESS:
		return op_cpu_access(r);
	case OP_SUBMIT:
		return op_submit(r);
	case OP_SUBMIT_CLOSE:
		return op_submit_close(r);
	case OP_FENCE_ATTACH:
		return op_fence_attach(r);
	case OP_FENCE_SIGNAL:
		return op_fence_signal(r);
	case OP_PRIME_EXPORT:
		return op_prime_export(r);
	case OP_PRIME_IMPORT:
		return op_prime_import(r);
	case OP_CLOSE_DMABUF:
		return close(pick_dmabuf(r, true).fd) ? -errno : 0;
	case OP_MMAP_DMABUF:
		return op_mmap_dmabuf(r);
	case OP_DMABUF_SYNC:
		return op_dmabuf_sync(r);
	case OP_DMABUF_EXPORT_SYNC_FILE:
		return op_dmabuf_export_sf(r);
	case OP_DMABUF_IMPORT_SYNC_FILE:
		return op_dmabuf_import_sf(r);
	case OP_POLL:
		return op_poll(r);
	case OP_SYNC_FILE_INFO:
		return op_sync_file_info(r);
	case OP_SYNC_MERGE:
		return op_sync_merge(r);
	case OP_CLOSE_SYNC_FILE:
		return close(pick_fd(T.sf, N_SF, r, true)) ? -errno : 0;
	case OP_DUMB_CREATE:
	case OP_DUMB_MAP:
	case OP_DUMB_DESTROY:
		return op_dumb(r, op);
	case OP_FORK:
		return op_fork(r);
	default:
		return op_syncobj(r, op);
	}
}

/* How often each operation is picked, relative to 1. */
static unsigned int op_weight(enum op op)
{
	switch (op) {
	case OP_GEM_CREATE: case OP_SUBMIT: case OP_MEM_TOUCH:
	case OP_PRIME_EXPORT: case OP_PRIME_IMPORT:
		return 6;
	case OP_CPU_ACCESS: case OP_DMABUF_SYNC: case OP_MMAP_GEM:
	case OP_MMAP_DMABUF: case OP_FENCE_ATTACH: case OP_FENCE_SIGNAL:
	case OP_DMABUF_EXPORT_SYNC_FILE: case OP_POLL: case OP_GEM_CLOSE:
		return 3;
	case OP_FORK: case OP_SUBMIT_CLOSE: case OP_CLOSE_DRM: case OP_OPEN:
		return 1;
	default:
		return 2;
	}
}

struct worker {
	pthread_t thread;
	struct rng rng;
	struct stats st;
	unsigned long ops;
	int idx;
};

static void *fuzz_thread(void *arg)
{
	struct worker *w = arg;
	enum op table[NUM_OPS * 8];
	unsigned int n = 0;

	for (int op = 0; op < NUM_OPS; op++)
		for (unsigned int k = 0; k < op_weight(op); k++)
			table[n++] = op;
	while (!atomic_load(&stop)) {
		enum op op = table[below(&w->rng, n)];

		count(&w->st, op, do_op(&w->rng, op));
		w->ops++;
	}
	return NULL;
}

/* ---- integrity: buffers only this thread can reach ---- */

#define INTEGRITY_SIZE	(512u << 10)

struct owned {
	int fd;
	uint32_t handle[2];
	int dmabuf[2];
	uint8_t *gem_map[2], *dmabuf_map[2];
	uint8_t *shadow[2];	/* what each buffer must hold */
};

static int own_fd(int fd)
{
	return move_fd(fd, OWN_FD_BASE);
}

static void cpu_access(struct owned *b, int i, uint64_t off, uint64_t len,
		       uint32_t flags)
{
	struct drm_swgpu_cpu_access arg = {
		.handle = b->handle[i], .flags = flags,
		.offset = off, .length = len,
	};
	int err;

	while ((err = xioctl(b->fd, DRM_IOCTL_SWGPU_CPU_ACCESS, &arg)) == -EINTR)
		;
	if (err)
		fail("integrity: CPU_ACCESS %#x on its own buffer failed: %d", flags, err);
}

static void dmabuf_sync(struct owned *b, int i, uint64_t flags)
{
	struct dma_buf_sync arg = { .flags = flags };
	int err;

	while ((err = xioctl(b->dmabuf[i], DMA_BUF_IOCTL_SYNC, &arg)) == -EINTR ||
	       err == -EAGAIN)
		;
	if (err)
		fail("integrity: DMA_BUF_IOCTL_SYNC %#llx failed: %d",
		     (unsigned long long)flags, err);
}

static void run_job(struct owned *b, struct drm_swgpu_cmd *c, int tid)
{
	struct drm_swgpu_submit arg = {
		.cmds = (uintptr_t)c, .num_cmds = 1,
		.flags = SWGPU_SUBMIT_OUT_FENCE, .in_fence_fd = -1,
		.out_fence_fd = -1,
	};
	struct pollfd p;
	int err, status;

	err = xioctl(b->fd, DRM_IOCTL_SWGPU_SUBMIT, &arg);
	if (err) {
		fail("integrity thread %d: SUBMIT failed: %d", tid, err);
		return;
	}
	p = (struct pollfd){ .fd = own_fd(arg.out_fence_fd), .events = POLLIN };
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	{
		struct sync_file_info info;

		memset(&info, 0, sizeof(info));
		status = xioctl(p.fd, SYNC_IOC_FILE_INFO, &info);
		if (!status)
			status = info.status;
	}
	close(p.fd);
	if (status != 1)
		fail("integrity thread %d: a job on its own buffers ended with %d",
		     tid, status);
}

/* Compare buffer @i, as seen through @view, with its shadow. */
static void verify(struct owned *b, int i, const uint8_t *view,
		   const char *how, uint64_t seed, int tid)
{
	for (size_t o = 0; o < INTEGRITY_SIZE; o++) {
		if (view[o] != b->shadow[i][o]) {
			fail("integrity thread %d (seed %#" PRIx64 "): buffer %d byte %zu is %#x through %s, expected %#x",
			     tid, seed, i, o, view[o], how, b->shadow[i][o]);
			return;
		}
	}
}

struct integrity_arg {
	pthread_t thread;
	struct rng rng;
	uint64_t seed;
	int tid;
	unsigned long rounds;
};

static void *integrity_thread(void *arg)
{
	struct integrity_arg *ia = arg;
	struct rng *r = &ia->rng;
	struct owned b = {};
	int tid = ia->tid;

	b.fd = own_fd(open(node_path[1], O_RDWR | O_CLOEXEC));
	if (b.fd < 0) {
		fail("integrity thread %d: cannot open %s: %d", tid, node_path[1], b.fd);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t size = INTEGRITY_SIZE;

		if (__swgpu_gem_create(b.fd, &size, 0, &b.handle[i]) ||
		    __swgpu_prime_export(b.fd, b.handle[i], SWGPU_EXPORT_FLAGS,
					 &b.dmabuf[i])) {
			fail("integrity thread %d: cannot create its buffers", tid);
			return NULL;
		}
		b.dmabuf[i] = own_fd(b.dmabuf[i]);
		b.gem_map[i] = __swgpu_gem_mmap(b.fd, b.handle[i], size,
						PROT_READ | PROT_WRITE);
		b.dmabuf_map[i] = mmap(NULL, size, PROT_READ | PROT_WRITE,
				       MAP_SHARED, b.dmabuf[i], 0);
		b.shadow[i] = calloc(1, size);
		if (b.gem_map[i] == MAP_FAILED || b.dmabuf_map[i] == MAP_FAILED ||
		    !b.shadow[i]) {
			fail("integrity thread %d: cannot map its buffers", tid);
			return NULL;
		}
	}

	while (!atomic_load(&stop)) {
		int i = below(r, 2);
		uint64_t off = below(r, INTEGRITY_SIZE);
		uint64_t len = 1 + below(r, INTEGRITY_SIZE - off);
		uint32_t pattern = rnd(r);
		struct drm_swgpu_cmd c = { .dst_handle = b.handle[i],
					   .dst_offset = off, .length = len };

		switch (below(r, 4)) {
		case 0: /* CPU writes through GEM mmap, in a CPU_ACCESS window */
			cpu_access(&b, i, off, len, SWGPU_CPU_ACCESS_WRITE);
			for (uint64_t k = 0; k < len; k++)
				b.gem_map[i][off + k] = (uint8_t)(pattern + k * 7);
			cpu_access(&b, i, off, len, SWGPU_CPU_ACCESS_WRITE |
						    SWGPU_CPU_ACCESS_END);
			for (uint64_t k = 0; k < len; k++)
				b.shadow[i][off + k] = (uint8_t)(pattern + k * 7);
			break;
		case 1: /* CPU writes through dma-buf mmap, in a SYNC window */
			dmabuf_sync(&b, i, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
			for (uint64_t k = 0; k < len; k++)
				b.dmabuf_map[i][off + k] = (uint8_t)(pattern ^ k);
			dmabuf_sync(&b, i, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
			for (uint64_t k = 0; k < len; k++)
				b.shadow[i][off + k] = (uint8_t)(pattern ^ k);
			break;
		case 2: /* engine FILL */
			c.op = SWGPU_CMD_FILL;
			c.pattern = pattern;
			run_job(&b, &c, tid);
			for (uint64_t k = off; k < off + len; k++)
				b.shadow[i][k] = swgpu_fill_byte(pattern, k);
			break;
		default: { /* engine COPY from the other buffer */
			uint64_t soff = below(r, INTEGRITY_SIZE - len + 1);

			c.op = SWGPU_CMD_COPY;
			c.src_handle = b.handle[!i];
			c.src_offset = soff;
			run_job(&b, &c, tid);
			memcpy(b.shadow[i] + off, b.shadow[!i] + soff, len);
			break;
		}
		}
		/* Read back through the other kind of mapping, half the time. */
		if (one_in(r, 2)) {
			dmabuf_sync(&b, i, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
			verify(&b, i, b.dmabuf_map[i], "its dma-buf mmap", ia->seed, tid);
			dmabuf_sync(&b, i, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		} else {
			cpu_access(&b, i, 0, INTEGRITY_SIZE, SWGPU_CPU_ACCESS_READ);
			verify(&b, i, b.gem_map[i], "its GEM mmap", ia->seed, tid);
			cpu_access(&b, i, 0, INTEGRITY_SIZE, SWGPU_CPU_ACCESS_READ |
							     SWGPU_CPU_ACCESS_END);
		}
		ia->rounds++;
	}

	for (int i = 0; i < 2; i++) {
		munmap(b.gem_map[i], INTEGRITY_SIZE);
		munmap(b.dmabuf_map[i], INTEGRITY_SIZE);
		close(b.dmabuf[i]);
		free(b.shadow[i]);
	}
	close(b.fd);
	return NULL;
}

/* ---- one seed ---- */

static void close_tables(void)
{
	for (int i = 0; i < N_DRM; i++)
		if (T.drm[i] >= 0)
			close(T.drm[i]);
	for (int i = 0; i < N_DMABUF; i++)
		if (T.dmabuf[i].fd >= 0)
			close(T.dmabuf[i].fd);
	for (int i = 0; i < N_SF; i++)
		if (T.sf[i] >= 0)
			close(T.sf[i]);
	for (int i = 0; i < N_MAP; i++)
		if (T.map[i].ptr)
			munmap(T.map[i].ptr, T.map[i].len);
	/* Whatever else is left in the fuzzers' range: closed numbers. */
	for (int fd = FUZZ_FD_BASE; fd < OWN_FD_BASE; fd++)
		close(fd);
}

static void print_stats(const struct stats *st, double secs, unsigned long ops)
{
	igt_info("%lu operations in %.1f s: %.0f ops/s\n", ops, secs, ops / secs);
	for (int op = 0; op < NUM_OPS; op++) {
		char line[1024];
		unsigned long total = 0;
		int len = 0;

		for (int e = 0; e < ERRNO_SLOTS; e++)
			total += st->n[op][e];
		if (!total)
			continue;
		for (int e = 0; e < ERRNO_SLOTS && len < (int)sizeof(line) - 40; e++) {
			if (!st->n[op][e])
				continue;
			len += snprintf(line + len, sizeof(line) - len, " %s %lu",
					e == 0 ? "ok" : e == ERRNO_SLOTS - 1 ? "other" :
					strerrorname_np(e) ? strerrorname_np(e) : "?",
					st->n[op][e]);
		}
		igt_info("  %-24s %8lu:%s\n", op_names[op], total, line);
	}
}

/* Runs in a child process per seed: 0 when everything held. */
static int fuzz_one(uint64_t seed, unsigned int secs, int nthreads)
{
	static struct worker w[MAX_THREADS];
	struct integrity_arg ia[INTEGRITY_THREADS] = {};
	static struct stats total;
	unsigned long ops = 0, rounds = 0;
	int64_t start = now_ns();
	double elapsed;
	int left;

	memset(T.drm, -1, sizeof(T.drm));
	memset(T.sf, -1, sizeof(T.sf));
	for (int i = 0; i < N_OBJ; i++)
		T.obj[i].fd = -1;
	for (int i = 0; i < N_DMABUF; i++)
		T.dmabuf[i].fd = -1;
	for (int i = 0; i < N_FENCE; i++)
		T.fence[i].fd = -1;
	for (int i = 0; i < N_SOBJ; i++)
		T.sobj[i].fd = -1;

	for (int i = 0; i < INTEGRITY_THREADS; i++) {
		ia[i].rng.s = splitmix(seed ^ (0x1000ull + i)) | 1;
		ia[i].seed = seed;
		ia[i].tid = i;
		pthread_create(&ia[i].thread, NULL, integrity_thread, &ia[i]);
	}
	for (int i = 0; i < nthreads; i++) {
		w[i].rng.s = splitmix(seed ^ (uint64_t)i) | 1;
		w[i].idx = i;
		pthread_create(&w[i].thread, NULL, fuzz_thread, &w[i]);
	}
	/* The run's length is the bound, not a synchronisation. */
	while (!atomic_load(&stop) && now_ns() - start < (int64_t)secs * 1000000000ll)
		usleep(100000);
	atomic_store(&stop, true);
	for (int i = 0; i < nthreads; i++) {
		pthread_join(w[i].thread, NULL);
		ops += w[i].ops;
		for (int op = 0; op < NUM_OPS; op++)
			for (int e = 0; e < ERRNO_SLOTS; e++)
				total.n[op][e] += w[i].st.n[op][e];
	}
	for (int i = 0; i < INTEGRITY_THREADS; i++) {
		pthread_join(ia[i].thread, NULL);
		rounds += ia[i].rounds;
	}
	elapsed = (now_ns() - start) / 1e9;
	close_tables();

	print_stats(&total, elapsed, ops);
	igt_info("integrity: %lu write-and-verify rounds on %d threads\n",
		 rounds, INTEGRITY_THREADS);

	/* Every handle went with its file: debugfs must list none of ours. */
	left = swgpu_obj_count(getpid());
	if (left < 0)
		igt_info("no debugfs swgpu_objects (%d): leftover handles not checked\n",
			 left);
	else if (left > 0)
		fail("debugfs swgpu_objects still lists %d handle(s) of this process after every fd was closed",
		     left);
	if (fail_msg[0]) {
		igt_info("FAILED: %s\n", fail_msg);
		return 1;
	}
	return 0;
}

static uint64_t parse_seed(const char **s)
{
	char *end;
	uint64_t v = strtoull(*s, &end, 0);

	igt_assert_f(end != *s, "bad seed in SWGPU_FUZZ_SEEDS at \"%s\"\n", *s);
	*s = end + strspn(end, ", ");
	return v;
}

igt_main
{
	static const char *seeds;
	const char *t = getenv("SWGPU_FUZZ_TIME");
	const char *th = getenv("SWGPU_FUZZ_THREADS");
	unsigned int secs = t ? strtoul(t, NULL, 0) : 30;
	int nthreads = th ? atoi(th) : 4;
	static char own_seed[32];

	seeds = getenv("SWGPU_FUZZ_SEEDS");
	igt_fixture {
		int p = swgpu_open_primary(), rn = swgpu_open_render();
		char link[64];

		for (int i = 0; i < 2; i++) {
			ssize_t n;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", i ? rn : p);
			n = readlink(link, node_path[i], sizeof(node_path[i]) - 1);
			igt_assert_lt(0, n);
			node_path[i][n] = '\0';
		}
		close(p);
		close(rn);
		igt_require_f(nthreads >= 1 && nthreads <= MAX_THREADS,
			      "SWGPU_FUZZ_THREADS must be 1..%d\n", MAX_THREADS);
		if (!seeds || !*seeds) {
			snprintf(own_seed, sizeof(own_seed), "%#" PRIx64,
				 splitmix((uint64_t)now_ns() ^ getpid()));
			seeds = own_seed;
		}
	}

	igt_describe("Random operations over swgpu's, DRM's, dma-buf's and "
		     "sync_file's interfaces from several threads, with "
		     "random closes and forks, while other threads verify "
		     "the data of their own buffers; nothing is left behind.");
	igt_subtest("random-ops") {
		unsigned int saved = swgpu_fence_timeout_ms();
		const char *s = seeds;
		struct utsname u;
		int failed = 0;

		igt_assert_eq(uname(&u), 0);

		/*
		 * User fences nobody signals expire after 200 ms rather than
		 * 10 s, so that waits on them do not stall the threads, and
		 * expiries happen during the run too.
		 */
		swgpu_set_fence_timeout_ms(200);

		while (*s) {
			uint64_t seed = parse_seed(&s);
			int status = 0;
			pid_t pid;

			igt_info("seed %#" PRIx64 ": %u s, %d fuzzing threads on %s "
				 "(reproduce: make fuzz SEEDS=%#" PRIx64 " TIME=%u "
				 "KERNEL=<this kernel's name>)\n",
				 seed, secs, nthreads, u.release, seed, secs);
			fflush(stdout);
			pid = fork();
			if (pid == 0)
				_exit(fuzz_one(seed, secs, nthreads));
			if (pid < 0 || waitpid(pid, &status, 0) != pid)
				status = -1;
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				igt_info("seed %#" PRIx64 " FAILED (status %#x)\n",
					 seed, status);
				failed++;
			}
		}
		swgpu_set_fence_timeout_ms(saved);
		igt_assert_f(!failed, "%d seed(s) failed; each one's line says why\n",
			     failed);
	}
}
