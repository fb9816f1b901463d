// SPDX-License-Identifier: MIT
/*
 * swgpu-share-demo - swgpu's main job, shown end to end: a buffer made by
 * one driver is written by the CPU, shared through PRIME (dma-buf) with
 * another driver and read back there, in both directions between swgpu and
 * vgem. Each step prints what it did (sizes, handles, fds) and what swgpu's
 * debugfs says the buffer costs (resident and pinned pages).
 *
 * Exit status: 0 when every check passed, 1 when one failed, 2 when the
 * devices are missing or the command line is wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>

#include "swgpu_common.h"

static int checks, failures;

__attribute__((format(printf, 2, 3)))
static bool check(bool ok, const char *fmt, ...)
{
	va_list args;

	checks++;
	if (!ok)
		failures++;
	printf("  [%s] ", ok ? " ok " : "FAIL");
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	return ok;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list args;

	printf("         ");
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
}

static const char *fd_path(int fd)
{
	static char buf[2][256];
	static int which;
	char link[64];
	ssize_t n;

	which ^= 1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf[which], sizeof(buf[which]) - 1);
	if (n < 0)
		return "?";
	buf[which][n] = '\0';
	return buf[which];
}

/* "resident R pinned P exported E imported I" for a swgpu handle. */
static const char *cost(uint32_t handle)
{
	static char buf[128];
	struct swgpu_obj_info info;

	if (!swgpu_debugfs_objects_path())
		return "debugfs: not available";
	if (swgpu_obj_info(getpid(), handle, &info))
		return "debugfs: no line for this handle";
	snprintf(buf, sizeof(buf),
		 "debugfs: resident %" PRIu64 " pages, pinned %" PRIu64
		 ", exported %d, imported %d",
		 info.resident, info.pinned, info.exported, info.imported);
	return buf;
}

static bool sync_ok(int dmabuf, uint64_t flags, const char *what)
{
	int err = __swgpu_dmabuf_sync(dmabuf, flags);

	return check(err == 0, "DMA_BUF_IOCTL_SYNC %s on fd %d%s%s", what,
		     dmabuf, err ? ": " : "", err ? strerror(-err) : "");
}

static void fill_pattern(void *ptr, uint64_t size, uint32_t seed)
{
	swgpu_fill(ptr, size, seed);
}

static bool pattern_ok(const void *ptr, uint64_t size, uint32_t seed,
		       const char *where)
{
	ssize_t bad = swgpu_check(ptr, size, seed);

	if (bad < 0)
		return check(true, "%s reads pattern #%u (%" PRIu64 " bytes)",
			     where, seed, size);
	return check(false, "%s: pattern #%u differs at byte %zd", where, seed,
		     bad);
}

/*
 * Direction 1: swgpu creates and writes; vgem imports and reads; vgem's
 * side writes back and swgpu reads.
 */
static void swgpu_to_vgem(int swgpu, int vgem, uint64_t size)
{
	uint32_t sh = 0, vh = 0;
	uint8_t *smap = MAP_FAILED, *vmap = MAP_FAILED;
	uint64_t got = size, offset;
	int dmabuf = -1, err;
	const char *how;

	printf("\n== swgpu buffer -> vgem ==\n");

	err = __swgpu_gem_create(swgpu, &got, 0, &sh);
	if (!check(err == 0, "swgpu GEM_CREATE %" PRIu64 " bytes -> handle %u, "
		   "size %" PRIu64 "%s%s", size, sh, got, err ? ": " : "",
		   err ? strerror(-err) : ""))
		return;
	note("%s (nothing allocated yet)", cost(sh));

	smap = __swgpu_gem_mmap(swgpu, sh, size, PROT_READ | PROT_WRITE);
	if (!check(smap != MAP_FAILED, "swgpu GEM_MMAP_OFFSET + mmap of handle %u",
		   sh))
		goto out;
	fill_pattern(smap, size, 1);
	check(true, "CPU wrote pattern #1 through swgpu's mapping");
	note("%s", cost(sh));

	err = __swgpu_prime_export(swgpu, sh, SWGPU_EXPORT_FLAGS, &dmabuf);
	if (!check(err == 0, "PRIME export of swgpu handle %u -> dma-buf fd %d "
		   "(%" PRId64 " bytes)", sh, dmabuf,
		   err ? (int64_t)-1 : swgpu_dmabuf_size(dmabuf)))
		goto out;

	err = __swgpu_prime_import(vgem, dmabuf, &vh);
	if (!check(err == 0, "vgem PRIME import of fd %d -> vgem handle %u%s%s",
		   dmabuf, vh, err ? ": " : "", err ? strerror(-err) : ""))
		goto out;
	note("%s (vgem's attachment is mapped)", cost(sh));

	/* vgem maps its import itself if the kernel lets it, else through
	 * the dma-buf its handle exports, which must be swgpu's. */
	if (__swgpu_dumb_map_offset(vgem, vh, &offset) == 0) {
		vmap = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			    vgem, (off_t)offset);
		how = "vgem's MAP_DUMB mapping";
	} else {
		int again = -1;

		err = __swgpu_prime_export(vgem, vh, SWGPU_EXPORT_FLAGS, &again);
		if (!check(err == 0 && swgpu_same_inode(again, dmabuf),
			   "vgem handle %u exports the same dma-buf (fd %d); "
			   "the kernel does not let vgem MAP_DUMB an import",
			   vh, again))
			goto out;
		vmap = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			    again, 0);
		close(again);
		how = "the mapping of vgem's dma-buf";
	}
	if (!check(vmap != MAP_FAILED, "mapped vgem's buffer (%s)", how))
		goto out;

	if (sync_ok(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ, "START|READ")) {
		pattern_ok(vmap, size, 1, "vgem's side");
		sync_ok(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ, "END|READ");
	}
	if (sync_ok(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE,
		    "START|WRITE")) {
		fill_pattern(vmap, size, 2);
		check(true, "CPU wrote pattern #2 through vgem's side");
		sync_ok(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE, "END|WRITE");
	}
	pattern_ok(smap, size, 2, "swgpu's mapping");

out:
	if (vmap != MAP_FAILED)
		munmap(vmap, size);
	if (smap != MAP_FAILED)
		munmap(smap, size);
	if (vh) {
		check(__swgpu_gem_close(vgem, vh) == 0, "vgem closed handle %u", vh);
		if (sh)
			note("%s (vgem let go)", cost(sh));
	}
	if (dmabuf >= 0)
		close(dmabuf);
	if (sh)
		check(__swgpu_gem_close(swgpu, sh) == 0,
		      "swgpu closed handle %u", sh);
}

/*
 * Direction 2: vgem creates and writes; swgpu imports and reads; swgpu
 * writes back and vgem reads.
 */
static void vgem_to_swgpu(int swgpu, int vgem, uint64_t size)
{
	struct drm_mode_create_dumb arg;
	uint8_t *vmap = MAP_FAILED, *smap = MAP_FAILED;
	uint32_t sh = 0, vh = 0;
	uint64_t offset;
	int dmabuf = -1, err;
	size_t page = swgpu_page_size();

	printf("\n== vgem buffer -> swgpu ==\n");

	memset(&arg, 0, sizeof(arg));
	arg.width = page / 4;
	arg.height = size / page;
	arg.bpp = 32;
	err = __swgpu_dumb_create(vgem, &arg);
	vh = err ? 0 : arg.handle;
	if (!check(err == 0 && arg.size >= size,
		   "vgem dumb create %ux%u@%u -> handle %u, pitch %u, size %llu",
		   arg.width, arg.height, arg.bpp, vh, arg.pitch,
		   (unsigned long long)arg.size))
		goto out;

	err = __swgpu_dumb_map_offset(vgem, vh, &offset);
	if (err == 0)
		vmap = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			    vgem, (off_t)offset);
	if (!check(vmap != MAP_FAILED, "vgem MAP_DUMB + mmap of handle %u", vh))
		goto out;
	fill_pattern(vmap, size, 3);
	check(true, "CPU wrote pattern #3 through vgem's mapping");

	err = __swgpu_prime_export(vgem, vh, SWGPU_EXPORT_FLAGS, &dmabuf);
	if (!check(err == 0, "vgem PRIME export of handle %u -> dma-buf fd %d",
		   vh, dmabuf))
		goto out;

	err = __swgpu_prime_import(swgpu, dmabuf, &sh);
	if (!check(err == 0, "swgpu PRIME import of fd %d -> handle %u%s%s",
		   dmabuf, sh, err ? ": " : "", err ? strerror(-err) : ""))
		goto out;
	note("%s", cost(sh));

	smap = __swgpu_gem_mmap(swgpu, sh, size, PROT_READ | PROT_WRITE);
	if (!check(smap != MAP_FAILED, "swgpu GEM_MMAP_OFFSET + mmap of "
		   "imported handle %u", sh))
		goto out;

	if (sync_ok(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ, "START|READ")) {
		pattern_ok(smap, size, 3, "swgpu's mapping");
		sync_ok(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ, "END|READ");
	}
	if (sync_ok(dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE,
		    "START|WRITE")) {
		fill_pattern(smap, size, 4);
		check(true, "CPU wrote pattern #4 through swgpu's mapping");
		sync_ok(dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE, "END|WRITE");
	}
	pattern_ok(vmap, size, 4, "vgem's mapping");

out:
	if (smap != MAP_FAILED)
		munmap(smap, size);
	if (vmap != MAP_FAILED)
		munmap(vmap, size);
	if (sh)
		check(__swgpu_gem_close(swgpu, sh) == 0,
		      "swgpu closed handle %u", sh);
	if (dmabuf >= 0)
		close(dmabuf);
	if (vh)
		check(__swgpu_gem_close(vgem, vh) == 0, "vgem closed handle %u", vh);
}

static void usage(FILE *out, const char *argv0)
{
	fprintf(out,
		"Usage: %s [--pages N] [--help]\n"
		"\n"
		"Shares a buffer between swgpu and vgem through PRIME in both\n"
		"directions, writing a pattern on one side and checking it on\n"
		"the other, and prints each step with handles, fds, sizes and\n"
		"swgpu's debugfs page counts.\n"
		"\n"
		"  --pages N   buffer size in pages (default 64)\n"
		"  --help      this text\n"
		"\n"
		"Needs the swgpu and vgem modules loaded and, for page counts,\n"
		"debugfs mounted at /sys/kernel/debug (run as root).\n"
		"Exit status: 0 all checks passed, 1 a check failed, 2 setup or\n"
		"usage error.\n", argv0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pages", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long pages = 64;
	uint64_t size;
	int swgpu, vgem, c;

	while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'p':
			errno = 0;
			pages = strtoul(optarg, &end, 0);
			if (errno || *end || pages == 0 || pages > 65536) {
				fprintf(stderr, "--pages: 1..65536\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr, argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	size = (uint64_t)pages * swgpu_page_size();

	printf("swgpu-share-demo: sharing %" PRIu64 "-byte buffers between "
	       "swgpu and vgem\n", size);

	swgpu = __swgpu_open_driver_node(swgpu_driver_name(), true);
	if (swgpu < 0) {
		printf("  [FAIL] no swgpu render node in /dev/dri "
		       "(is the swgpu module loaded?)\n");
		return 2;
	}
	printf("  [ ok ] swgpu: %s (fd %d)\n", fd_path(swgpu), swgpu);
	vgem = __swgpu_open_driver_node(SWGPU_VGEM_DRIVER_NAME, false);
	if (vgem < 0) {
		printf("  [FAIL] no vgem node in /dev/dri "
		       "(modprobe vgem)\n");
		return 2;
	}
	printf("  [ ok ] vgem:  %s (fd %d)\n", fd_path(vgem), vgem);
	if (!swgpu_debugfs_objects_path())
		printf("         (no swgpu debugfs: page counts not shown)\n");
	else
		printf("         debugfs: %s\n", swgpu_debugfs_objects_path());

	swgpu_to_vgem(swgpu, vgem, size);
	vgem_to_swgpu(swgpu, vgem, size);

	close(vgem);
	close(swgpu);
	printf("\n%s: %d checks, %d failed\n", failures ? "FAIL" : "PASS",
	       checks, failures);
	return failures ? 1 : 0;
}
