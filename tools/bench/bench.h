/* SPDX-License-Identifier: MIT */
/*
 * swgpu-bench: shared declarations.
 *
 * bench.c      options, identity, the order of the measurements
 * provider.c   buffers of swgpu, vgem, udmabuf and the system dma-heap
 * measure.c    clocks, repetition control, statistics, /proc/meminfo,
 *              the TSV output and error bookkeeping
 * tests.c      the measurements themselves
 */
#ifndef SWGPU_BENCH_H
#define SWGPU_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KiB (1024ul)
#define MiB (1024ul * KiB)
#define GiB (1024ul * MiB)
#define MAX_SIZES 8

/* ---- providers (provider.c) ---------------------------------------- */

enum provider_id {
	PROV_SWGPU, PROV_SWGPU_HUGE, PROV_VGEM, PROV_UDMABUF, PROV_HEAP, NPROV
};

/* How a buffer is mapped into the process. */
enum map_kind {
	MAP_NATIVE,	/* the provider's own way: GEM mmap, or the dma-buf */
	MAP_GEM,	/* DRM mapping (swgpu GEM_MMAP_OFFSET, vgem MAP_DUMB) */
	MAP_DMABUF,	/* mmap of the dma-buf file descriptor */
};

struct provider {
	enum provider_id id;
	const char *name;
	bool available;
	char why[128];		/* why it is not available */
	bool drm;		/* a DRM device: handles, GEM maps, imports */
	bool swgpu;		/* swgpu's GEM_CREATE, with create_flags */
	unsigned int create_flags;
	bool required;		/* selected and must exist (swgpu, vgem) */
	int fd;			/* DRM node that creates, or the char device */
	int fd2;		/* second DRM file of the same device (imports) */
	char debugfs[256];	/* swgpu_objects, or "" */
};

struct buf {
	struct provider *p;
	size_t size;
	uint32_t handle;	/* in p->fd; 0 if none */
	int dmabuf;		/* -1 if none */
	int memfd;		/* udmabuf's backing memfd, -1 if none */
	void *map;
	size_t map_len;
};

extern struct provider providers[NPROV];

void providers_open(const char *only, bool quick);
void providers_close(void);
/* All return 0 or a negative errno; on error errno_op() names the step. */
int buf_create(struct provider *p, size_t size, struct buf *b);
int buf_export(struct buf *b);
int buf_map(struct buf *b, enum map_kind kind);
void buf_unmap(struct buf *b);
int buf_destroy(struct buf *b);
int gem_close(int fd, uint32_t handle);
int prime_to_fd(int fd, uint32_t handle, int *dmabuf);
int prime_to_handle(int fd, int dmabuf, uint32_t *handle);
long swgpu_resident_pages(struct provider *p, uint32_t handle);
bool provider_can_map(struct provider *p, enum map_kind kind);
const char *failed_op(void);
/* ioctl, retried on EINTR/EAGAIN; on failure failed_op() names @op. */
int xioctl(int fd, unsigned long req, void *arg, const char *op);
void set_failed_op(const char *op);
int udmabuf_allow_size(size_t size);

/* ---- measurement (measure.c) --------------------------------------- */

struct reps {
	int min_n, max_n;
	double budget_s;	/* stop after this (once min_n is reached) */
};

struct samples {
	double *v;
	int n, cap;
};

struct meminfo {
	long avail_kib, free_kib, shmem_kib;
};

struct figure {
	double median, p10, p90, min, max;
	int n;
};

double now_s(void);
bool reps_continue(const struct reps *r, int n, double started);
void samples_add(struct samples *s, double v);
void samples_reset(struct samples *s);
void samples_free(struct samples *s);
struct figure samples_figure(struct samples *s);
int meminfo_read(struct meminfo *m);

int output_open(const char *dir);
void output_close(void);
void output_meta(const char *key, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void output_figure(const char *test, const char *provider, size_t size,
		   const char *unit, struct samples *s);
void output_skip(const char *test, const char *provider, size_t size,
		 const char *why);
/* The first line of @path, without its newline; "-" if unreadable. */
void read_line(const char *path, char *buf, size_t len);
/* Write @line and a newline to @path (a sysfs file); 0 or -errno. */
int write_line(const char *path, const char *line);
void output_error(const char *test, const char *provider, size_t size,
		  int err);
int output_errors(void);
extern bool verbose;

/* ---- tests (tests.c) ----------------------------------------------- */

struct config {
	bool quick;
	size_t touch1_sizes[MAX_SIZES];
	size_t fault_sizes[MAX_SIZES];
	size_t stream_size;
	size_t prime_size;
	int prime_live;
	size_t sync_sizes[MAX_SIZES];
	size_t cpu_access_buf;
	size_t engine_big;	/* 0: no 1 GiB engine figures */
	size_t scale_counts[MAX_SIZES];	/* none in --quick */
	struct reps touch1, touch1_big, fault, stream, prime, sync, engine,
		    scale;
};

struct test {
	const char *name;
	const char *what;
	void (*run)(const struct config *cfg);
};

extern const struct test tests[];

#endif /* SWGPU_BENCH_H */
