// SPDX-License-Identifier: MIT
/*
 * The measurements. Each one loops over sizes and providers, repeats the
 * operation as struct reps allows and writes one figure per (test,
 * provider, size). A failed operation is reported and ends that figure
 * only; nothing here judges a figure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>
#include <linux/dma-buf.h>
#include "swgpu_drm.h"

#include "bench.h"

#define PAGE 4096ul

#define for_each_provider(p) \
	for ((p) = providers; (p) < providers + NPROV; (p)++) \
		if ((p)->available)

/* Keep the compiler from dropping stores nobody reads. */
static inline void clobber(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void touch_one(void *map)
{
	*(volatile char *)map = 1;
}

static void touch_all(void *map, size_t size)
{
	size_t off;

	for (off = 0; off < size; off += PAGE)
		((volatile char *)map)[off] = 1;
}

/*
 * Whether a buffer of @size, of which the test will make @used bytes
 * resident, can be made now: refuse (as a skip) what would push the guest
 * into the OOM killer, and raise udmabuf's limit.
 */
static bool can_make(const char *test, struct provider *p, size_t size,
		     size_t used)
{
	struct meminfo m;
	char why[96];

	if (!meminfo_read(&m) &&
	    (size_t)m.avail_kib * KiB < used + used / 8 + 64 * MiB) {
		snprintf(why, sizeof(why), "MemAvailable %ld MiB is too little",
			 m.avail_kib / 1024);
		output_skip(test, p->name, size, why);
		return false;
	}
	if (p->id == PROV_UDMABUF && udmabuf_allow_size(size)) {
		output_skip(test, p->name, size, "udmabuf size_limit_mb too low");
		return false;
	}
	return true;
}

static const struct reps *reps_for(const struct config *cfg, size_t size)
{
	return size >= 256 * MiB ? &cfg->touch1_big : &cfg->touch1;
}

/*
 * Whether a figure gets one untimed round first: small sizes do, so that
 * first-time costs (code and page tables of the program, the device's
 * first object) do not count; big ones are too slow to spare a round.
 */
static bool warm_up(size_t size)
{
	return size <= 16 * MiB;
}

/*
 * 1. create + touch one page + close, and what it cost in memory.
 *
 * The memory figure is the rise of Shmem for providers whose pages are
 * shmem (swgpu, vgem, udmabuf's memfd): exact to the page once
 * vm.stat_refresh has folded the per-CPU counters. The heap's pages are
 * not shmem: for it, the drop of MemAvailable, which also moves with the
 * per-CPU free page lists (order-0 pages; the heap mostly allocates
 * order 4 and 8, which bypass them). Both raw deltas are written too.
 */
static void run_touch1(const struct config *cfg)
{
	static const char *const phase_name[] = {
		"create-touch1-create", "create-touch1-map",
		"create-touch1-touch", "create-touch1-close",
	};
	struct samples t = { 0 }, avail = { 0 }, shmem = { 0 }, res = { 0 };
	struct samples phase[4] = { { 0 } };
	const size_t *size;
	struct provider *p;
	unsigned int k;

	for (size = cfg->touch1_sizes; *size; size++) {
		for_each_provider(p) {
			const struct reps *r = reps_for(cfg, *size);
			double started = now_s();
			int n, ret = 0;

			/*
			 * Only swgpu allocates nothing but the page touched
			 * (with huge pages: the 2 MiB around it).
			 */
			if (!can_make("create-touch1", p, *size,
				      !p->swgpu ? *size :
				      p->create_flags ? 2 * MiB : PAGE))
				continue;
			samples_reset(&t);
			samples_reset(&avail);
			samples_reset(&shmem);
			samples_reset(&res);
			for (k = 0; k < 4; k++)
				samples_reset(&phase[k]);
			for (n = warm_up(*size) ? -1 : 0;
			     reps_continue(r, n, started); n++) {
				struct meminfo m0 = { 0 }, m1 = { 0 };
				double t0, ta, tb, t1, t2, t3;
				long pages = -1;
				struct buf b;

				meminfo_read(&m0);
				t0 = now_s();
				ret = buf_create(p, *size, &b);
				ta = now_s();
				if (!ret)
					ret = buf_map(&b, MAP_NATIVE);
				if (ret) {
					buf_destroy(&b);
					break;
				}
				tb = now_s();
				touch_one(b.map);
				t1 = now_s();
				meminfo_read(&m1);
				if (p->swgpu)
					pages = swgpu_resident_pages(p, b.handle);
				t2 = now_s();
				ret = buf_destroy(&b);
				t3 = now_s();
				if (ret)
					break;
				if (n < 0)
					continue;
				samples_add(&t, (t1 - t0 + t3 - t2) * 1e6);
				samples_add(&phase[0], (ta - t0) * 1e6);
				samples_add(&phase[1], (tb - ta) * 1e6);
				samples_add(&phase[2], (t1 - tb) * 1e6);
				samples_add(&phase[3], (t3 - t2) * 1e6);
				samples_add(&avail, m0.avail_kib - m1.avail_kib);
				samples_add(&shmem, m1.shmem_kib - m0.shmem_kib);
				if (pages >= 0)
					samples_add(&res, pages * (PAGE / KiB));
			}
			if (ret) {
				output_error("create-touch1", p->name, *size, ret);
				continue;
			}
			output_figure("create-touch1", p->name, *size, "us", &t);
			output_figure("create-touch1-mem", p->name, *size, "KiB",
				      p->id == PROV_HEAP ? &avail : &shmem);
			output_figure("create-touch1-resident", p->name, *size, "KiB", &res);
			output_figure("create-touch1-avail", p->name, *size, "KiB", &avail);
			output_figure("create-touch1-shmem", p->name, *size, "KiB", &shmem);
			/* Where the time of the smallest size goes. */
			for (k = 0; size == cfg->touch1_sizes && k < 4; k++)
				output_figure(phase_name[k], p->name, *size,
					      "us", &phase[k]);
		}
	}
	for (k = 0; k < 4; k++)
		samples_free(&phase[k]);
	samples_free(&t);
	samples_free(&avail);
	samples_free(&shmem);
	samples_free(&res);
}

/* 2. create + touch every page + close: pages per second. */
static void run_fault(const struct config *cfg)
{
	struct samples s = { 0 };
	const size_t *size;
	struct provider *p;

	for (size = cfg->fault_sizes; *size; size++) {
		for_each_provider(p) {
			double started = now_s();
			int n, ret = 0;

			if (!can_make("create-touchall", p, *size, *size))
				continue;
			samples_reset(&s);
			for (n = warm_up(*size) ? -1 : 0;
			     reps_continue(&cfg->fault, n, started); n++) {
				double t0 = now_s();
				struct buf b;

				ret = buf_create(p, *size, &b);
				if (!ret)
					ret = buf_map(&b, MAP_NATIVE);
				if (!ret)
					touch_all(b.map, *size);
				if (ret) {
					buf_destroy(&b);
					break;
				}
				ret = buf_destroy(&b);
				if (ret)
					break;
				if (n >= 0)
					samples_add(&s, *size / PAGE / (now_s() - t0));
			}
			if (ret)
				output_error("create-touchall", p->name, *size, ret);
			else
				output_figure("create-touchall", p->name, *size,
					      "pages/s", &s);
		}
	}
	samples_free(&s);
}

/* 3. streaming write (memset) and read (memcpy out) through a mapping. */
static void run_stream(const struct config *cfg)
{
	static const struct {
		enum map_kind kind;
		const char *write, *read;
	} maps[] = {
		{ MAP_GEM, "stream-write-gem", "stream-read-gem" },
		{ MAP_DMABUF, "stream-write-dmabuf", "stream-read-dmabuf" },
	};
	struct samples w = { 0 }, r = { 0 }, aw = { 0 }, ar = { 0 };
	size_t size = cfg->stream_size, k;
	char *src, *dst;
	struct provider *p;

	src = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED) {
		set_failed_op("mmap(anonymous)");
		output_error("stream", "anon", size, -errno);
		return;
	}
	memset(src, 0x3c, size);
	memset(dst, 0xc3, size);

	for (k = 0; k < sizeof(maps) / sizeof(maps[0]); k++) {
		for_each_provider(p) {
			double started = now_s();
			struct buf b;
			int n, ret;

			if (!provider_can_map(p, maps[k].kind))
				continue;
			if (!can_make(maps[k].write, p, size, size))
				continue;
			ret = buf_create(p, size, &b);
			if (!ret)
				ret = buf_map(&b, maps[k].kind);
			if (ret) {
				buf_destroy(&b);
				output_error(maps[k].write, p->name, size, ret);
				continue;
			}
			memset(b.map, 0x5a, size);	/* fault everything in */
			samples_reset(&w);
			samples_reset(&r);
			/*
			 * Anonymous memory and the mapping take turns, so a
			 * neighbour stealing the CPU hits both alike.
			 */
			for (n = 0; reps_continue(&cfg->stream, n, started); n++) {
				double t0, t1, t2, t3, t4;

				t0 = now_s();
				memset(dst, n, size);
				clobber(dst);
				t1 = now_s();
				memset(b.map, n, size);
				clobber(b.map);
				t2 = now_s();
				memcpy(dst, src, size);
				clobber(dst);
				t3 = now_s();
				memcpy(dst, b.map, size);
				clobber(dst);
				t4 = now_s();
				samples_add(&w, (t1 - t0) / (t2 - t1));
				samples_add(&r, (t3 - t2) / (t4 - t3));
				samples_add(&aw, size / MiB / (t1 - t0));
				samples_add(&ar, size / MiB / (t3 - t2));
			}
			ret = buf_destroy(&b);
			if (ret) {
				output_error(maps[k].write, p->name, size, ret);
				continue;
			}
			output_figure(maps[k].write, p->name, size, "x-anon", &w);
			output_figure(maps[k].read, p->name, size, "x-anon", &r);
		}
	}
	output_figure("memset-anon", "anon", size, "MiB/s", &aw);
	output_figure("memcpy-anon", "anon", size, "MiB/s", &ar);
	munmap(src, size);
	munmap(dst, size);
	samples_free(&w);
	samples_free(&r);
	samples_free(&aw);
	samples_free(&ar);
}

struct held {
	uint32_t *a, *b;
	int n;
};

/* Hold @count exported objects of @p imported into its second file. */
static int hold_imports(struct provider *p, int count, struct held *h)
{
	int i, ret = 0;

	h->a = calloc(count, sizeof(*h->a));
	h->b = calloc(count, sizeof(*h->b));
	h->n = 0;
	if (!h->a || !h->b)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		struct buf b;
		int fd;

		ret = buf_create(p, PAGE, &b);
		if (ret)
			break;
		h->a[i] = b.handle;
		h->n++;
		ret = prime_to_fd(p->fd, b.handle, &fd);
		if (ret)
			break;
		ret = prime_to_handle(p->fd2, fd, &h->b[i]);
		close(fd);
		if (ret)
			break;
	}
	return ret;
}

static void release_imports(struct provider *p, struct held *h)
{
	int i;

	for (i = 0; i < h->n; i++) {
		if (h->b[i])
			gem_close(p->fd2, h->b[i]);
		gem_close(p->fd, h->a[i]);
	}
	free(h->a);
	free(h->b);
	*h = (struct held){ 0 };
}

/*
 * handle -> PRIME fd -> handle in another file of the same device, then
 * close the fd and both handles. The object is made before the clock
 * starts; its teardown (the last handle) is timed.
 */
static int prime_round_trips(const struct config *cfg, struct provider *p,
			     struct samples *s)
{
	double started = now_s();
	int n, ret = 0;

	for (n = -1; reps_continue(&cfg->prime, n, started); n++) {
		uint32_t imported = 0;
		double t0;
		struct buf b;
		int fd;

		ret = buf_create(p, cfg->prime_size, &b);
		if (ret)
			return ret;
		t0 = now_s();
		ret = prime_to_fd(p->fd, b.handle, &fd);
		if (!ret) {
			ret = prime_to_handle(p->fd2, fd, &imported);
			close(fd);
		}
		if (!ret)
			ret = gem_close(p->fd2, imported);
		if (!ret)
			ret = buf_destroy(&b);
		if (ret) {
			buf_destroy(&b);
			return ret;
		}
		if (n >= 0)
			samples_add(s, (now_s() - t0) * 1e6);
	}
	return 0;
}

static void run_prime_self(const struct config *cfg)
{
	struct samples s = { 0 };
	char held_name[48];
	struct provider *p;

	if (cfg->prime_live % 1000 == 0)
		snprintf(held_name, sizeof(held_name), "prime-rt-%dk-held",
			 cfg->prime_live / 1000);
	else
		snprintf(held_name, sizeof(held_name), "prime-rt-%d-held",
			 cfg->prime_live);

	for_each_provider(p) {
		struct held h;
		int ret;

		if (!p->drm)
			continue;
		samples_reset(&s);
		ret = prime_round_trips(cfg, p, &s);
		if (ret)
			output_error("prime-rt", p->name, cfg->prime_size, ret);
		else
			output_figure("prime-rt", p->name, cfg->prime_size, "us", &s);

		samples_reset(&s);
		ret = hold_imports(p, cfg->prime_live, &h);
		if (!ret)
			ret = prime_round_trips(cfg, p, &s);
		release_imports(p, &h);
		if (ret)
			output_error(held_name, p->name, cfg->prime_size, ret);
		else
			output_figure(held_name, p->name, cfg->prime_size, "us", &s);
	}
	samples_free(&s);
}

/*
 * Import of another provider's dma-buf (attach + map by the importer) and
 * its release: fd -> handle, GEM_CLOSE. The dma-buf lives throughout.
 */
static void run_prime_import(const struct config *cfg)
{
	struct provider *e, *i;
	struct samples s = { 0 };
	char name[48];

	for_each_provider(e) {
		struct buf b;
		int ret;

		snprintf(name, sizeof(name), "import-from-%s", e->name);
		ret = buf_create(e, cfg->prime_size, &b);
		if (!ret)
			ret = buf_export(&b);
		if (ret) {
			buf_destroy(&b);
			output_error(name, e->name, cfg->prime_size, ret);
			continue;
		}
		for_each_provider(i) {
			double started = now_s();
			int n;

			if (!i->drm || i == e)
				continue;
			samples_reset(&s);
			for (n = -1; reps_continue(&cfg->prime, n, started); n++) {
				double t0 = now_s();
				uint32_t h;

				ret = prime_to_handle(i->fd2, b.dmabuf, &h);
				if (!ret)
					ret = gem_close(i->fd2, h);
				if (ret)
					break;
				if (n >= 0)
					samples_add(&s, (now_s() - t0) * 1e6);
			}
			if (ret)
				output_error(name, i->name, cfg->prime_size, ret);
			else
				output_figure(name, i->name, cfg->prime_size, "us", &s);
		}
		ret = buf_destroy(&b);
		if (ret)
			output_error(name, e->name, cfg->prime_size, ret);
	}
	samples_free(&s);
}

static int dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return xioctl(fd, DMA_BUF_IOCTL_SYNC, &s, "DMA_BUF_IOCTL_SYNC");
}

static int cpu_access(int fd, uint32_t handle, uint64_t off, uint64_t len,
		      uint32_t flags)
{
	struct drm_swgpu_cpu_access a = { .handle = handle, .flags = flags,
					  .offset = off, .length = len };

	return xioctl(fd, DRM_IOCTL_SWGPU_CPU_ACCESS, &a, "SWGPU_CPU_ACCESS");
}

/* DMA_BUF_IOCTL_SYNC START+END (read-write) on a buffer fully touched. */
static int sync_loop(const struct config *cfg, struct buf *b,
		     struct samples *s)
{
	const uint64_t rw = DMA_BUF_SYNC_RW;
	double started;
	int n, ret;

	/* One untimed pair first: it may still set things up. */
	ret = dmabuf_sync(b->dmabuf, DMA_BUF_SYNC_START | rw);
	if (!ret)
		ret = dmabuf_sync(b->dmabuf, DMA_BUF_SYNC_END | rw);
	started = now_s();
	for (n = 0; !ret && reps_continue(&cfg->sync, n, started); n++) {
		double t0 = now_s();

		ret = dmabuf_sync(b->dmabuf, DMA_BUF_SYNC_START | rw);
		if (!ret)
			ret = dmabuf_sync(b->dmabuf, DMA_BUF_SYNC_END | rw);
		if (!ret)
			samples_add(s, (now_s() - t0) * 1e6);
	}
	return ret;
}

static void run_sync(const struct config *cfg)
{
	struct samples s = { 0 };
	const size_t *size;
	struct provider *p;

	for (size = cfg->sync_sizes; *size; size++) {
		for_each_provider(p) {
			struct buf b;
			int ret;

			if (!can_make("dmabuf-sync", p, *size, *size))
				continue;
			samples_reset(&s);
			ret = buf_create(p, *size, &b);
			if (!ret)
				ret = buf_map(&b, MAP_DMABUF);
			if (!ret) {
				touch_all(b.map, *size);
				ret = sync_loop(cfg, &b, &s);
			}
			if (!ret)
				ret = buf_destroy(&b);
			buf_destroy(&b);
			if (ret)
				output_error("dmabuf-sync", p->name, *size, ret);
			else
				output_figure("dmabuf-sync", p->name, *size, "us", &s);
		}
	}

	/* swgpu's range form: 4 KiB in the middle of a big buffer. */
	p = &providers[PROV_SWGPU];
	if (p->available) {
		size_t bs = cfg->cpu_access_buf, off = bs / 2;
		uint32_t rw = SWGPU_CPU_ACCESS_RW;
		double started;
		struct buf b;
		int n, ret;

		samples_reset(&s);
		ret = buf_create(p, bs, &b);
		if (!ret)
			ret = buf_map(&b, MAP_GEM);
		if (!ret)
			touch_all(b.map, bs);
		started = now_s();
		for (n = 0; !ret && reps_continue(&cfg->sync, n, started); n++) {
			double t0 = now_s();

			ret = cpu_access(p->fd, b.handle, off, PAGE,
					 SWGPU_CPU_ACCESS_START | rw);
			if (!ret)
				ret = cpu_access(p->fd, b.handle, off, PAGE,
						 SWGPU_CPU_ACCESS_END | rw);
			if (!ret)
				samples_add(&s, (now_s() - t0) * 1e6);
		}
		if (!ret)
			ret = buf_destroy(&b);
		buf_destroy(&b);
		if (ret)
			output_error("cpu-access-4k", p->name, bs, ret);
		else
			output_figure("cpu-access-4k", p->name, bs, "us", &s);
	}
	samples_free(&s);
}

/*
 * One engine job per batch of at most SWGPU_SUBMIT_MAX_CMDS commands,
 * all submitted at once and waited for on their out-fences.
 */
static int engine_run(int fd, struct drm_swgpu_cmd *cmds, unsigned int n)
{
	unsigned int i, nfences = 0;
	int fences[64], ret = 0;

	for (i = 0; !ret && i < n; i += SWGPU_SUBMIT_MAX_CMDS) {
		struct drm_swgpu_submit s = {
			.cmds = (uintptr_t)&cmds[i],
			.num_cmds = n - i < SWGPU_SUBMIT_MAX_CMDS ?
				    n - i : SWGPU_SUBMIT_MAX_CMDS,
			.flags = SWGPU_SUBMIT_OUT_FENCE,
		};

		if (nfences == 64) {
			set_failed_op("engine_run: too many batches");
			ret = -E2BIG;
			break;
		}
		ret = xioctl(fd, DRM_IOCTL_SWGPU_SUBMIT, &s, "SWGPU_SUBMIT");
		if (!ret)
			fences[nfences++] = s.out_fence_fd;
	}
	for (i = 0; i < nfences; i++) {
		struct pollfd pfd = { .fd = fences[i], .events = POLLIN };

		if (!ret && poll(&pfd, 1, -1) != 1) {
			set_failed_op("poll(out-fence)");
			ret = -errno;
		}
		close(fences[i]);
	}
	return ret;
}

/*
 * An engine figure: FILL of @len bytes of an object of @size at offset
 * 0, or COPY of @len bytes from offset 0 to offset @size - @len (another
 * object when @len == @size, the upper half of the same one otherwise),
 * in commands of @chunk bytes; against memset or memcpy of the same
 * bytes in calls of @chunk bytes over anonymous buffers of at most
 * 64 MiB (cycled over for the bigger sizes), timed right before it in
 * the same round.
 */
struct engine_case {
	const char *name;
	uint32_t op;
	size_t size, len, chunk;
};

#define ENGINE_ANON_MAX (64 * MiB)

static void engine_baseline(const struct engine_case *c, char *dst,
			    const char *src, size_t anon)
{
	size_t done, off = 0;

	for (done = 0; done < c->len; done += c->chunk) {
		if (c->op == SWGPU_CMD_FILL)
			memset(dst + off, 0x5a, c->chunk);
		else
			memcpy(dst + off, src + off, c->chunk);
		off = (off + c->chunk) % anon;
	}
	clobber(dst);
}

static void run_engine_case(const struct config *cfg, struct provider *p,
			    const struct engine_case *c)
{
	struct samples ratio = { 0 }, mibs = { 0 };
	size_t anon = c->len < ENGINE_ANON_MAX ? c->len : ENGINE_ANON_MAX;
	unsigned int i, n_cmds = c->len / c->chunk;
	bool copy = c->op == SWGPU_CMD_COPY, two = copy && c->len == c->size;
	struct buf a = { .p = p, .dmabuf = -1, .memfd = -1, .map = MAP_FAILED };
	struct buf b = a;
	struct drm_swgpu_cmd *cmds;
	char rate[64], *src, *dst;
	const char *unit = copy ? "x-memcpy" : "x-memset";
	double started;
	int n, ret;

	snprintf(rate, sizeof(rate), "%s-rate", c->name);
	if (!can_make(c->name, p, c->size, c->size * (two ? 2 : 1) + 2 * anon))
		return;
	cmds = calloc(n_cmds, sizeof(*cmds));
	src = mmap(NULL, anon, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, anon, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!cmds || src == MAP_FAILED || dst == MAP_FAILED) {
		set_failed_op("mmap(anonymous)");
		output_error(c->name, p->name, c->size, -ENOMEM);
		free(cmds);
		return;
	}
	memset(src, 0x3c, anon);
	memset(dst, 0xc3, anon);

	ret = buf_create(p, c->size, &a);
	if (!ret && two)
		ret = buf_create(p, c->size, &b);
	for (i = 0; i < n_cmds; i++) {
		size_t off = (size_t)i * c->chunk;

		cmds[i] = (struct drm_swgpu_cmd){
			.op = c->op, .length = c->chunk,
			.dst_handle = two ? b.handle : a.handle,
			.dst_offset = copy ? c->size - c->len + off : off,
			.src_handle = copy ? a.handle : 0,
			.src_offset = copy ? off : 0,
			.pattern = copy ? 0 : 0x5a5a5a5a,
		};
	}
	/* Untimed: makes every page of the buffers resident, as memset's. */
	if (!ret && copy) {
		struct drm_swgpu_cmd fill = {
			.op = SWGPU_CMD_FILL, .dst_handle = a.handle,
			.length = c->size, .pattern = 0x3c3c3c3c,
		};

		ret = engine_run(p->fd, &fill, 1);
	}
	if (!ret)
		ret = engine_run(p->fd, cmds, n_cmds);
	started = now_s();
	for (n = 0; !ret && reps_continue(&cfg->engine, n, started); n++) {
		double t0, t1, t2;

		t0 = now_s();
		engine_baseline(c, dst, src, anon);
		t1 = now_s();
		ret = engine_run(p->fd, cmds, n_cmds);
		t2 = now_s();
		if (!ret) {
			samples_add(&ratio, (t1 - t0) / (t2 - t1));
			samples_add(&mibs, c->len / MiB / (t2 - t1));
		}
	}
	if (!ret)
		ret = buf_destroy(&a);
	if (!ret && two)
		ret = buf_destroy(&b);
	buf_destroy(&a);
	if (two)
		buf_destroy(&b);
	if (ret) {
		output_error(c->name, p->name, c->size, ret);
	} else {
		output_figure(c->name, p->name, c->size, unit, &ratio);
		output_figure(rate, p->name, c->size, "MiB/s", &mibs);
	}
	munmap(src, anon);
	munmap(dst, anon);
	free(cmds);
	samples_free(&ratio);
	samples_free(&mibs);
}

#define ENGINE_LANES_PARAM "/sys/module/swgpu/parameters/engine_lanes"

/* Write @value to swgpu's engine_lanes; 0 or -errno. */
static int engine_lanes_set(const char *value)
{
	int ret = write_line(ENGINE_LANES_PARAM, value);

	if (ret)
		set_failed_op("write " ENGINE_LANES_PARAM);
	return ret;
}

/*
 * 7. the engine's FILL and COPY throughput, as a ratio to memset and
 * memcpy between anonymous buffers in the same run (they take turns, like
 * the stream test): one command over a whole buffer of the stream size,
 * and (full runs) a 1 GiB object in 2 MiB commands; on swgpu's objects,
 * and on its huge-page ones where that provider runs. The engine runs a
 * job on several CPUs (its engine_lanes parameter): the same figures on
 * swgpu's objects follow with engine_lanes set to 1, named *-1lane, for
 * what one CPU does against memset/memcpy on one CPU.
 */
static void run_engine(const struct config *cfg)
{
	static const enum provider_id ids[] = { PROV_SWGPU, PROV_SWGPU_HUGE,
						PROV_SWGPU };
	size_t s = cfg->stream_size, big = cfg->engine_big;
	const struct engine_case cases[] = {
		{ "engine-fill", SWGPU_CMD_FILL, s, s, s },
		{ "engine-copy", SWGPU_CMD_COPY, s, s, s },
		{ "engine-fill", SWGPU_CMD_FILL, big, big, 2 * MiB },
		/* Half onto the other half: two 1 GiB objects do not fit. */
		{ "engine-copy", SWGPU_CMD_COPY, big, big / 2, 2 * MiB },
	};
	const unsigned int one_lane = sizeof(ids) / sizeof(ids[0]) - 1;
	char lanes[32] = "", name[48];
	unsigned int i, k;
	int ret;

	for (k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		if (!providers[ids[k]].available)
			continue;
		if (k == one_lane) {
			read_line(ENGINE_LANES_PARAM, lanes, sizeof(lanes));
			ret = engine_lanes_set("1");
			if (ret) {
				output_error("engine-fill-1lane",
					     providers[ids[k]].name, s, ret);
				continue;
			}
		}
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct engine_case c = cases[i];

			if (!c.size)
				continue;
			if (k == one_lane) {
				snprintf(name, sizeof(name), "%s-1lane",
					 c.name);
				c.name = name;
			}
			run_engine_case(cfg, &providers[ids[k]], &c);
		}
		if (k == one_lane && engine_lanes_set(lanes))
			fprintf(stderr, "bench: could not set engine_lanes back to %s\n",
				lanes);
	}
}

/* /proc/meminfo's Slab, in KiB, after vm.stat_refresh; -1 if missing. */
static long slab_kib(void)
{
	struct meminfo m;
	char line[128];
	long v = -1;
	FILE *f;

	meminfo_read(&m);	/* refreshes the counters */
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * 8. Scale: N live 4 KiB objects (never mapped) held in one file; what
 * each costs the kernel, and what one more create + export + close costs
 * among them. A count whose objects would leave less than 256 MiB of
 * MemAvailable, at what the smaller count cost per object, is skipped.
 */
static void run_scale(const struct config *cfg)
{
	struct samples s = { 0 }, one = { 0 };
	struct provider *p;

	if (!cfg->scale_counts[0])
		return;
	for_each_provider(p) {
		const size_t *count;
		double per_obj = 0;
		uint32_t *handles;
		size_t live = 0;
		long slab0, free0;
		struct meminfo m0;
		int ret = 0;

		if (p->id != PROV_SWGPU && p->id != PROV_VGEM)
			continue;
		for (count = cfg->scale_counts; count[1]; count++)
			;
		handles = calloc(*count, sizeof(*handles));
		if (!handles) {
			set_failed_op("calloc");
			output_error("scale-slab", p->name, 0, -ENOMEM);
			continue;
		}
		slab0 = slab_kib();
		meminfo_read(&m0);
		free0 = m0.free_kib;
		for (count = cfg->scale_counts; *count && !ret; count++) {
			struct meminfo m1;
			double started;
			long slab1;
			int n;

			meminfo_read(&m1);
			if (per_obj > 0 &&
			    (*count - live) * per_obj >
			    (double)(m1.avail_kib - 256 * 1024) * KiB) {
				char why[96];

				snprintf(why, sizeof(why),
					 "would need %.0f MiB at %.0f B an object",
					 (*count - live) * per_obj / MiB, per_obj);
				output_skip("scale-slab", p->name, *count, why);
				break;
			}
			while (live < *count) {
				struct buf b;

				ret = buf_create(p, PAGE, &b);
				if (ret)
					break;
				handles[live++] = b.handle;
			}
			if (ret) {
				output_error("scale-slab", p->name, *count, ret);
				break;
			}
			slab1 = slab_kib();
			meminfo_read(&m1);
			per_obj = (double)(m1.free_kib > free0 ? 0 :
					   free0 - m1.free_kib) * KiB / live;
			samples_reset(&one);
			samples_add(&one, (double)(slab1 - slab0) * KiB / live);
			output_figure("scale-slab", p->name, *count, "B", &one);
			samples_reset(&one);
			samples_add(&one, per_obj);
			output_figure("scale-memfree", p->name, *count, "B", &one);

			samples_reset(&s);
			started = now_s();
			for (n = 0; reps_continue(&cfg->scale, n, started); n++) {
				double t0 = now_s();
				struct buf b;

				ret = buf_create(p, PAGE, &b);
				if (!ret)
					ret = buf_export(&b);
				if (!ret)
					ret = buf_destroy(&b);
				else
					buf_destroy(&b);
				if (ret)
					break;
				samples_add(&s, (now_s() - t0) * 1e6);
			}
			if (ret)
				output_error("scale-create-export-close", p->name,
					     *count, ret);
			else
				output_figure("scale-create-export-close",
					      p->name, *count, "us", &s);
		}
		while (live)
			gem_close(p->fd, handles[--live]);
		free(handles);
	}
	samples_free(&s);
	samples_free(&one);
}

const struct test tests[] = {
	{ "touch1", "create + touch one page + close; memory it cost", run_touch1 },
	{ "fault", "create + touch every page + close: pages/s", run_fault },
	{ "stream", "memset/memcpy through mappings vs anonymous memory", run_stream },
	{ "prime", "export + import round trips, with and without held imports", run_prime_self },
	{ "import", "import of other providers' dma-bufs + release", run_prime_import },
	{ "sync", "DMA_BUF_IOCTL_SYNC and swgpu CPU_ACCESS start+end", run_sync },
	{ "engine", "swgpu engine FILL/COPY throughput vs memset/memcpy", run_engine },
	{ "scale", "1k..1M live 4K objects: memory each, create+export+close", run_scale },
	{ NULL, NULL, NULL },
};
