// SPDX-License-Identifier: MIT
/*
 * swgpu_stress - leaks and races: thousands of create/export/import/close
 * rounds leave no fd and no handle behind, and exports, imports and closes
 * racing on one handle from two threads end in one of the allowed outcomes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "igt.h"
#include "swgpu_common.h"

IGT_TEST_DESCRIPTION("swgpu leak loops and export/import/close races");

#define LEAK_ROUNDS 2000
#define RACE_ROUNDS 3000

static int fd = -1;
static size_t page;

static void check_device_works(int dev)
{
	const size_t size = 2 * page;
	uint32_t handle = swgpu_gem_create(dev, size);
	void *ptr = swgpu_gem_mmap(dev, handle, size, PROT_READ | PROT_WRITE);

	swgpu_fill(ptr, size, 95);
	swgpu_assert_pattern(ptr, size, 95);
	igt_assert_eq(munmap(ptr, size), 0);
	swgpu_gem_close(dev, handle);
}

struct baseline {
	int fds;
	int handles;	/* lines of this pid in debugfs, -ENODEV without */
};

static struct baseline take_baseline(void)
{
	struct baseline b = {
		.fds = swgpu_count_fds(),
		.handles = swgpu_obj_count(getpid()),
	};

	igt_assert_lte(0, b.fds);
	return b;
}

/* Nothing is left over from the subtest: no extra fd, no handle. */
static void check_nothing_left(struct baseline before)
{
	igt_assert_eq(swgpu_count_fds(), before.fds);
	igt_assert_eq(swgpu_obj_count(getpid()), before.handles);
}

/*
 * Small busy-wait of pseudo-random length, to vary who goes first; in
 * every other round one thread (@late) also waits a little longer, so that
 * both orders and the overlaps between them all occur.
 */
static void jitter(uint32_t *state, bool late)
{
	uint32_t x = *state;
	volatile uint32_t spin;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	for (spin = 0; spin < (x & 1023) + (late ? 3000 : 0); spin++)
		;
}

/* ---- export vs close ---- */

struct race {
	int fd;
	int rounds;
	uint64_t size;
	uint32_t handle;		/* the handle of this round */
	pthread_barrier_t start, done;

	/* results, checked by the main thread */
	atomic_int export_ok, export_enoent, export_other, bad_dmabuf;
	atomic_int close_ok, close_err;
	atomic_int import_same, import_new, import_err;
	uint32_t imported[RACE_ROUNDS];
	int dmabuf[RACE_ROUNDS];
	int last_errno;
};

static void *export_thread(void *arg)
{
	struct race *r = arg;
	uint32_t seed = 0x12345;

	for (int i = 0; i < r->rounds; i++) {
		int dmabuf = -1, err;

		pthread_barrier_wait(&r->start);
		jitter(&seed, i & 1);
		err = __swgpu_prime_export(r->fd, r->handle, SWGPU_EXPORT_FLAGS,
					   &dmabuf);
		if (err == 0) {
			struct stat st;

			if (dmabuf < 0 || fstat(dmabuf, &st) ||
			    swgpu_dmabuf_size(dmabuf) != (int64_t)r->size ||
			    close(dmabuf))
				r->bad_dmabuf++;
			r->export_ok++;
		} else if (err == -ENOENT) {
			r->export_enoent++;
		} else {
			r->last_errno = -err;
			r->export_other++;
		}
		pthread_barrier_wait(&r->done);
	}
	return NULL;
}

static void *close_thread(void *arg)
{
	struct race *r = arg;
	uint32_t seed = 0xabcdef;

	for (int i = 0; i < r->rounds; i++) {
		pthread_barrier_wait(&r->start);
		jitter(&seed, !(i & 1));
		if (__swgpu_gem_close(r->fd, r->handle) == 0)
			r->close_ok++;
		else
			r->close_err++;
		pthread_barrier_wait(&r->done);
	}
	return NULL;
}

static void *import_thread(void *arg)
{
	struct race *r = arg;
	uint32_t seed = 0x777;

	for (int i = 0; i < r->rounds; i++) {
		uint32_t handle = 0;
		int err;

		pthread_barrier_wait(&r->start);
		jitter(&seed, i & 1);
		err = __swgpu_prime_import(r->fd, r->dmabuf[i], &handle);
		r->imported[i] = err ? 0 : handle;
		if (err) {
			r->last_errno = -err;
			r->import_err++;
		} else if (handle == r->handle) {
			r->import_same++;
		} else {
			r->import_new++;
		}
		pthread_barrier_wait(&r->done);
	}
	return NULL;
}

static struct race *race_new(int dev, int rounds)
{
	struct race *r = calloc(1, sizeof(*r));

	igt_assert(r);
	igt_assert(rounds <= RACE_ROUNDS);
	r->fd = dev;
	r->rounds = rounds;
	r->size = 2 * page;
	igt_assert_eq(pthread_barrier_init(&r->start, NULL, 3), 0);
	igt_assert_eq(pthread_barrier_init(&r->done, NULL, 3), 0);
	return r;
}

static void race_free(struct race *r)
{
	pthread_barrier_destroy(&r->start);
	pthread_barrier_destroy(&r->done);
	free(r);
}

igt_main
{
	page = swgpu_page_size();

	igt_fixture
		fd = swgpu_open_render();

	igt_describe("Thousands of create, export, import (same and other "
		     "file), map and close rounds, in varying orders, leave no "
		     "fd and no handle behind.");
	igt_subtest("leak-create-export-import-close") {
		struct baseline before = take_baseline();
		int other = swgpu_open_render();

		for (int i = 0; i < LEAK_ROUNDS; i++) {
			uint64_t size = (1 + i % 5) * page;
			uint32_t handle = swgpu_gem_create(fd, size);
			int dmabuf = swgpu_prime_export(fd, handle);
			uint32_t theirs = swgpu_prime_import(other, dmabuf);

			igt_assert_eq_u32(swgpu_prime_import(fd, dmabuf), handle);
			if (i % 10 == 0) {
				uint8_t *ptr = swgpu_gem_mmap(other, theirs, size,
							      PROT_READ |
							      PROT_WRITE);
				ptr[size - 1] = (uint8_t)i;
				igt_assert_eq(munmap(ptr, size), 0);
			}
			switch (i % 3) {
			case 0:
				close(dmabuf);
				swgpu_gem_close(fd, handle);
				swgpu_gem_close(other, theirs);
				break;
			case 1:
				swgpu_gem_close(other, theirs);
				swgpu_gem_close(fd, handle);
				close(dmabuf);
				break;
			default:
				swgpu_gem_close(fd, handle);
				close(dmabuf);
				swgpu_gem_close(other, theirs);
				break;
			}
		}
		close(other);
		check_nothing_left(before);
		check_device_works(fd);
	}

	igt_describe("Closing a DRM file releases every handle in it, also "
		     "exported ones whose dma-buf is still open.");
	igt_subtest("file-close-releases-handles") {
		struct baseline before = take_baseline();
		int other = swgpu_open_render();
		int dmabufs[50];

		for (int i = 0; i < 100; i++) {
			uint32_t handle = swgpu_gem_create(other, page);

			if (i % 2 == 0)
				dmabufs[i / 2] = swgpu_prime_export(other,
								    handle);
		}
		if (before.handles >= 0)
			igt_assert_eq(swgpu_obj_count(getpid()),
				      before.handles + 100);
		close(other);
		igt_assert_eq(swgpu_obj_count(getpid()), before.handles);
		/* the dma-bufs still work without any handle */
		for (int i = 0; i < 50; i++) {
			uint8_t *ptr = swgpu_dmabuf_mmap(dmabufs[i], page,
							 PROT_READ | PROT_WRITE);
			ptr[0] = 1;
			igt_assert_eq(ptr[0], 1);
			igt_assert_eq(munmap(ptr, page), 0);
			close(dmabufs[i]);
		}
		check_nothing_left(before);
	}

	igt_describe("Thousands of vgem buffers imported into swgpu and "
		     "released leave no fd and no handle behind.");
	igt_subtest("leak-vgem-import") {
		struct baseline before = take_baseline();
		int vgem = swgpu_open_vgem();

		for (int i = 0; i < LEAK_ROUNDS / 2; i++) {
			uint32_t vh = swgpu_dumb_create(vgem, page / 4, 2, 32,
							NULL, NULL);
			int dmabuf = swgpu_prime_export(vgem, vh);
			uint32_t sh = swgpu_prime_import(fd, dmabuf);
			int again = swgpu_prime_export(fd, sh);

			close(again);
			if (i % 2) {
				swgpu_gem_close(vgem, vh);
				close(dmabuf);
				swgpu_gem_close(fd, sh);
			} else {
				swgpu_gem_close(fd, sh);
				close(dmabuf);
				swgpu_gem_close(vgem, vh);
			}
		}
		close(vgem);
		check_nothing_left(before);
	}

	igt_describe("Two threads race PRIME export against GEM_CLOSE of the "
		     "same handle: each export either gives a working dma-buf "
		     "or fails with ENOENT, each close succeeds, and nothing "
		     "is left afterwards.");
	igt_subtest("race-export-close") {
		struct baseline before = take_baseline();
		struct race *r = race_new(fd, RACE_ROUNDS);
		pthread_t exporter, closer;

		igt_assert_eq(pthread_create(&exporter, NULL, export_thread, r), 0);
		igt_assert_eq(pthread_create(&closer, NULL, close_thread, r), 0);
		for (int i = 0; i < r->rounds; i++) {
			uint64_t size = r->size;
			uint32_t handle = 0;

			/* no assert here: the threads wait on the barriers */
			if (__swgpu_gem_create(fd, &size, 0, &handle))
				handle = 0;
			r->handle = handle;
			pthread_barrier_wait(&r->start);
			pthread_barrier_wait(&r->done);
		}
		pthread_join(exporter, NULL);
		pthread_join(closer, NULL);

		igt_info("exports: %d ok, %d ENOENT; closes: %d ok\n",
			 r->export_ok, r->export_enoent, r->close_ok);
		igt_assert_f(r->export_other == 0, "%d exports failed with "
			     "errno %d\n", r->export_other, r->last_errno);
		igt_assert_eq(r->bad_dmabuf, 0);
		igt_assert_eq(r->export_ok + r->export_enoent, r->rounds);
		igt_assert_eq(r->close_ok, r->rounds);
		igt_assert_eq(r->close_err, 0);
		race_free(r);
		check_nothing_left(before);
		check_device_works(fd);
	}

	igt_describe("Two threads race importing an object's dma-buf into "
		     "the exporting file against GEM_CLOSE of its handle: the "
		     "import gives the handle or a fresh one, the close "
		     "succeeds, and nothing is left afterwards.");
	igt_subtest("race-import-close") {
		struct baseline before = take_baseline();
		struct race *r = race_new(fd, RACE_ROUNDS / 2);
		pthread_t importer, closer;
		int leftover = 0, fresh = 0, cached = 0;

		igt_assert_eq(pthread_create(&importer, NULL, import_thread, r), 0);
		igt_assert_eq(pthread_create(&closer, NULL, close_thread, r), 0);
		for (int i = 0; i < r->rounds; i++) {
			uint64_t size = r->size;
			uint32_t handle = 0;

			r->dmabuf[i] = -1;
			if (__swgpu_gem_create(fd, &size, 0, &handle) == 0 &&
			    __swgpu_prime_export(fd, handle, SWGPU_EXPORT_FLAGS,
						 &r->dmabuf[i]))
				r->dmabuf[i] = -1;
			r->handle = handle;
			pthread_barrier_wait(&r->start);
			pthread_barrier_wait(&r->done);

			/* A handle the import made after the close is ours to
			 * release; one it returned before the close is gone. */
			if (r->imported[i] && r->imported[i] != handle) {
				if (__swgpu_gem_close(fd, r->imported[i]))
					leftover++;
			} else if (r->imported[i]) {
				/* same number: the old handle (closed since) or
				 * a fresh one that reused the freed number */
				if (__swgpu_gem_close(fd, handle) == 0)
					fresh++;
				else
					cached++;
			}
			close(r->dmabuf[i]);
		}
		pthread_join(importer, NULL);
		pthread_join(closer, NULL);

		igt_info("imports: %d gave the open handle, %d a new one "
			 "(%d with a new number); closes: %d ok\n",
			 cached, fresh + r->import_new, r->import_new,
			 r->close_ok);
		igt_assert_f(r->import_err == 0, "%d imports failed with "
			     "errno %d\n", r->import_err, r->last_errno);
		igt_assert_eq(r->close_ok, r->rounds);
		igt_assert_eq(leftover, 0);
		race_free(r);
		check_nothing_left(before);
		check_device_works(fd);
	}

	igt_fixture
		close(fd);
}
