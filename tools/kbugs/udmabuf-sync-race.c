// SPDX-License-Identifier: MIT
/*
 * Reproducer of a kernel bug in udmabuf (docs/upstream/README.rst,
 * "udmabuf-sg-leak"): begin_cpu_udmabuf() creates the buffer's sg_table
 * on the first DMA_BUF_IOCTL_SYNC START without a lock, so two threads
 * that start on a new udmabuf at the same moment can both create one;
 * the one stored first leaks.
 *
 *   udmabuf-sync-race [ROUNDS [PAGES]]
 *
 * Each round makes a new udmabuf of PAGES pages (default 256) from a
 * sealed memfd, then two threads (released together by a spinning
 * start line, so that both are in the ioctl at once as often as the
 * machine allows) call SYNC START, then SYNC END, and the buffer is
 * closed. The leak itself is invisible from user space: the caller
 * counts kmemleak's reports (tools/vm/guest-tests.sh). This prints
 * "rounds N pages P" when all rounds ran; exit 0, 3 when the kernel has
 * no /dev/udmabuf (nothing to reproduce), 1 on any other failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/udmabuf.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int buf_fd = -1;
static atomic_int arrived;

static void fail(const char *what)
{
	fprintf(stderr, "udmabuf-sync-race: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int sync_buf(int fd, unsigned long long flags)
{
	struct dma_buf_sync s = { .flags = flags };
	int ret;

	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &s);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret;
}

/*
 * Both threads call this equally often; the n-th call of each returns
 * once both have made their n-th call, so they leave it together.
 */
static void start_line(void)
{
	static _Thread_local int calls;

	calls++;
	atomic_fetch_add(&arrived, 1);
	while (atomic_load(&arrived) < 2 * calls)
		;
}

static void *racer(void *arg)
{
	int rounds = *(int *)arg, r;

	for (r = 1; r <= rounds; r++) {
		start_line();
		if (sync_buf(buf_fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW))
			fail("DMA_BUF_IOCTL_SYNC START (second thread)");
		if (sync_buf(buf_fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW))
			fail("DMA_BUF_IOCTL_SYNC END (second thread)");
		start_line();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 64;
	long pages = argc > 2 ? atol(argv[2]) : 256;
	long size = pages * sysconf(_SC_PAGESIZE);
	struct udmabuf_create create;
	pthread_t thread;
	int dev, memfd, r;

	if (rounds < 1 || pages < 1) {
		fprintf(stderr, "usage: %s [ROUNDS [PAGES]]\n", argv[0]);
		return 2;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		printf("no /dev/udmabuf: %s\n", strerror(errno));
		return 3;
	}
	if (pthread_create(&thread, NULL, racer, &rounds))
		fail("pthread_create");
	for (r = 1; r <= rounds; r++) {
		memfd = memfd_create("udmabuf-sync-race", MFD_ALLOW_SEALING | MFD_CLOEXEC);
		if (memfd < 0)
			fail("memfd_create");
		if (ftruncate(memfd, size))
			fail("ftruncate");
		if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK))
			fail("F_ADD_SEALS");
		create = (struct udmabuf_create){
			.memfd = memfd, .flags = UDMABUF_FLAGS_CLOEXEC,
			.offset = 0, .size = size,
		};
		buf_fd = ioctl(dev, UDMABUF_CREATE, &create);
		if (buf_fd < 0)
			fail("UDMABUF_CREATE");
		close(memfd);

		start_line();
		if (sync_buf(buf_fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW))
			fail("DMA_BUF_IOCTL_SYNC START");
		if (sync_buf(buf_fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW))
			fail("DMA_BUF_IOCTL_SYNC END");
		/* Both are done with this buffer before it is closed. */
		start_line();
		close(buf_fd);
	}
	pthread_join(thread, NULL);
	close(dev);
	printf("rounds %d pages %ld\n", rounds, pages);
	return 0;
}
