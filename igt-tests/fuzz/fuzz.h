/* SPDX-License-Identifier: MIT */
/*
 * The parts of swgpu_fuzz (../swgpu_fuzz.c, which says what it does) that
 * its files share: the random generator, the operations, the tables of
 * fds, handles, mappings, fences and syncobjs (tables.c), the operations
 * themselves (ops.c) and the integrity threads (integrity.c).
 */
#ifndef SWGPU_FUZZ_H
#define SWGPU_FUZZ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "swgpu_common.h"

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

/* ---- random numbers (xorshift64*, seeded through splitmix64) ---- */

struct rng {
	uint64_t s;
};

static inline uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static inline uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static inline bool one_in(struct rng *r, unsigned int n)
{
	return below(r, n) == 0;
}

/* Garbage numbers, pointers and syncobj counts (tables.c). */
uint64_t fz_junk(struct rng *r);
uint64_t fz_junk_ptr(struct rng *r);
uint32_t fz_junk_count(struct rng *r);

/* Valid most of the time, junk one time in @n. */
#define MAYBE(r, n, valid) (one_in((r), (n)) ? fz_junk(r) : (uint64_t)(valid))

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

struct fz_tables {
	pthread_mutex_t lock;	/* held around every table access */
	int drm[N_DRM];
	struct obj obj[N_OBJ];
	struct dmabuf dmabuf[N_DMABUF];
	struct map map[N_MAP];	/* accessed under the lock only */
	struct fence fence[N_FENCE];
	int sf[N_SF];
	struct syncobj sobj[N_SOBJ];
};
extern struct fz_tables fz;


extern char fz_node_path[2][64];	/* [0] primary, [1] render */
extern atomic_bool fz_stop;
extern char fz_fail_msg[512];

/* Record the first failure (the run then fails) and stop every thread. */
__attribute__((format(printf, 1, 2)))
void fz_fail(const char *fmt, ...);
int fz_move_fd(int fd, int base);
int fz_xioctl(int fd, unsigned long req, void *arg);
int64_t fz_now_ns(void);
void fz_pick_range(struct rng *r, uint64_t size, uint64_t max,
		   __u64 *off, __u64 *len);

void fz_put_fd(int *tab, int n, int fd, struct rng *r);
int fz_pick_fd(int *tab, int n, struct rng *r, bool take);
/* Take a DRM fd out of the table (and, mostly, its objects) to close it. */
int fz_take_drm(struct rng *r);
int fz_any_drm(struct rng *r);
void fz_put_obj(struct obj o, struct rng *r);
struct obj fz_pick_obj(struct rng *r, bool take);
struct obj fz_pick_obj_on(int fd, struct rng *r);
void fz_put_dmabuf(struct dmabuf d, struct rng *r);
struct dmabuf fz_pick_dmabuf(struct rng *r, bool take);
void fz_put_map(void *ptr, size_t len, struct rng *r);
int fz_pick_slot(struct rng *r, int n, bool (*used)(int));
bool fz_map_used(int i);
bool fz_fence_used(int i);
void fz_put_fence(struct fence f, struct rng *r);
void fz_put_sobj(struct syncobj s, struct rng *r);
struct syncobj fz_pick_sobj(struct rng *r, bool take);
/* Empty the tables, closing and unmapping what they hold. */
void fz_close_tables(void);

/* One operation: 0 or -errno (ops.c); how often each is picked. */
int fz_do_op(struct rng *r, enum op op);
unsigned int fz_op_weight(enum op op);

/* ---- integrity threads (integrity.c) ---- */

#define INTEGRITY_THREADS 2

struct integrity_arg {
	pthread_t thread;
	struct rng rng;
	uint64_t seed;
	int tid;
	unsigned long rounds;
};

void *fz_integrity_thread(void *arg);

#endif /* SWGPU_FUZZ_H */
