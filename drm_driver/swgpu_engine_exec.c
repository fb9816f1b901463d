// SPDX-License-Identifier: GPL-2.0-only
/*
 * How the engine's commands run on their buffers (swgpu_engine.c runs
 * the jobs, swgpu_engine_lanes.c shares their windows out among CPUs):
 * through the kernel CPU access contract, one window of at most
 * SWGPU_EXEC_WINDOW bytes per buffer and lane at a time: begin on the
 * window, write it a run of pages at a time, end. Only windows are ever
 * pinned, so what a job has written stays reclaimable and swappable, and
 * a job larger than memory completes when there is swap. Cancellation is
 * checked after every run, so it takes effect within one window.
 *
 * Where a job's time went, under QEMU's TCG where it is measured
 * (docs/engine.rst has the figures): per page, an allocation and xarray
 * store and erase for a pin, a map and unmap, and a loop of 32-bit
 * stores. So a window's pages are pinned into an array of the command's
 * (swgpu_object_cpu_begin_pages()), found in batches of folios with a
 * reference per folio; pages the kernel maps contiguously are written in
 * one stretch; a FILL stores 64-bit words, 32 a turn.
 */

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <drm/swgpu_drm.h>

#include "swgpu_drv.h"

/*
 * The most a running job pins, per buffer: a command is cut into windows
 * of this size (aligned in the destination), each begun, written and
 * ended before the next.
 */
#define SWGPU_EXEC_WINDOW	SZ_2M

/*
 * Pages a window touches in one buffer: a source range that is not
 * page-aligned like its destination touches one more.
 */
#define SWGPU_EXEC_WINDOW_PAGES	(SWGPU_EXEC_WINDOW / PAGE_SIZE + 1)

/*
 * The most a command writes between two looks at cancellation and
 * timeouts: a run of pages the kernel maps contiguously
 * (swgpu_object_kmap_pages()), or one page where it does not.
 */
#define SWGPU_EXEC_RUN_PAGES	(SZ_64K / PAGE_SIZE)

/*
 * @n words of @word from @dst on, 32 stores a turn: under QEMU's TCG,
 * where the benchmark runs, memset64()'s "rep stosq" costs a turn of the
 * translator's loop per word (0.7x memset() on anonymous memory), eight
 * plain stores a turn 0.9x, thirty-two 1.0x: each turn of a loop is a
 * jump between translated blocks, whatever it stores.
 */
static void swgpu_fill_words(u64 *dst, u64 word, size_t n)
{
	unsigned int i;

	for (; n >= 32; n -= 32, dst += 32) {
		/* Unrolled: GCC -O2 peels at most 16 turns of its own. */
#pragma GCC unroll 32
		for (i = 0; i < 32; i++)
			dst[i] = word;
	}
	while (n--)
		*dst++ = word;
}

/* Byte o of an object gets byte o % 4 of the pattern, little-endian. */
static void swgpu_fill_bytes(u8 *dst, u64 offset, size_t len, u32 pattern)
{
	__le32 word = cpu_to_le32(pattern);
	const u8 *bytes = (const u8 *)&word;
	u64 words;

	while (len && (offset & 7)) {
		*dst++ = bytes[offset++ & 3];
		len--;
	}
	/* @dst is now 8-byte aligned: pages are, and offset is. */
	memcpy(&words, bytes, 4);
	memcpy((u8 *)&words + 4, bytes, 4);
	swgpu_fill_words((u64 *)dst, words, len / 8);
	dst += round_down(len, 8);
	offset += round_down(len, 8);
	len &= 7;
	while (len--)
		*dst++ = bytes[offset++ & 3];
}

/**
 * swgpu_exec_alloc_pages - room for the pages of one window of one buffer
 *
 * Return: the array, or NULL.
 */
struct page **swgpu_exec_alloc_pages(void)
{
	return kmalloc_array(SWGPU_EXEC_WINDOW_PAGES, sizeof(struct page *),
			     GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
}

/*
 * After each run: count it, stop if the job is cancelled or another lane
 * failed, yield.
 */
static int swgpu_exec_progress(struct swgpu_exec *x, size_t written)
{
	atomic64_add(written, &x->bytes);
	if (READ_ONCE(x->error) || x->cancelled(x))
		return -ECANCELED;
	cond_resched();
	return 0;
}

/* The end of the window that starts at @pos, at most @end. */
static u64 swgpu_exec_window_end(u64 pos, u64 end)
{
	return min(end, round_down(pos, SWGPU_EXEC_WINDOW) + SWGPU_EXEC_WINDOW);
}

/*
 * Pages from the one at @pos up to @end, at most SWGPU_EXEC_RUN_PAGES:
 * what to ask swgpu_object_kmap_pages() for.
 */
static unsigned int swgpu_exec_run_pages(u64 pos, u64 end)
{
	u64 pages = DIV_ROUND_UP(offset_in_page(pos) + end - pos, PAGE_SIZE);

	return min_t(u64, pages, SWGPU_EXEC_RUN_PAGES);
}

/* Bytes from @pos to the end of a run of @count pages, at most @len. */
static size_t swgpu_exec_run_bytes(u64 pos, unsigned int count, u64 len)
{
	return min_t(u64, (size_t)count * PAGE_SIZE - offset_in_page(pos), len);
}

/* FILL the pages of [@pos, @end) begun in @pages; count in @written. */
static int swgpu_exec_fill_pages(struct swgpu_exec *x, u64 pos, u64 end,
				 struct swgpu_object *dst, struct page **pages,
				 u32 pattern, u64 *written)
{
	pgoff_t first = pos >> PAGE_SHIFT;
	int ret = 0;

	while (pos < end) {
		unsigned int count = swgpu_exec_run_pages(pos, end);
		u8 *vaddr = swgpu_object_kmap_pages(dst, pages, first,
						    pos >> PAGE_SHIFT, &count);
		size_t n = swgpu_exec_run_bytes(pos, count, end - pos);

		if (WARN_ON_ONCE(!vaddr))
			return -EFAULT;
		swgpu_fill_bytes(vaddr + offset_in_page(pos), pos, n, pattern);
		swgpu_object_kunmap(dst, vaddr);
		pos += n;
		*written += n;
		ret = swgpu_exec_progress(x, n);
		if (ret)
			break;
	}
	return ret;
}

static int swgpu_exec_fill_window(struct swgpu_exec_lane *lane, u64 pos,
				  u64 len, struct swgpu_object *dst,
				  u32 pattern, u64 *written)
{
	int ret;

	ret = swgpu_object_cpu_begin_pages(dst, pos, len, DMA_TO_DEVICE,
					   &lane->allocated, lane->dpages);
	if (ret)
		return ret;
	ret = swgpu_exec_fill_pages(lane->x, pos, pos + len, dst, lane->dpages,
				    pattern, written);
	swgpu_object_cpu_end_pages(dst, pos, len, DMA_TO_DEVICE, lane->dpages);
	return ret;
}

/* COPY between the pages begun in @spages and @dpages; as above. */
static int swgpu_exec_copy_pages(struct swgpu_exec *x, u64 s, u64 d,
				 u64 len, struct swgpu_object *dst,
				 struct page **dpages,
				 struct swgpu_object *src,
				 struct page **spages, u64 *written)
{
	pgoff_t sfirst = s >> PAGE_SHIFT, dfirst = d >> PAGE_SHIFT;
	int ret = 0;

	while (len) {
		unsigned int scount = swgpu_exec_run_pages(s, s + len);
		unsigned int dcount = swgpu_exec_run_pages(d, d + len);
		u8 *from = swgpu_object_kmap_pages(src, spages, sfirst,
						   s >> PAGE_SHIFT, &scount);
		u8 *to = from ? swgpu_object_kmap_pages(dst, dpages, dfirst,
							d >> PAGE_SHIFT,
							&dcount) : NULL;
		size_t n;

		if (WARN_ON_ONCE(!to)) {
			if (from)
				swgpu_object_kunmap(src, from);
			return -EFAULT;
		}
		n = min(swgpu_exec_run_bytes(s, scount, len),
			swgpu_exec_run_bytes(d, dcount, len));
		memcpy(to + offset_in_page(d), from + offset_in_page(s), n);
		swgpu_object_kunmap(dst, to);
		swgpu_object_kunmap(src, from);
		s += n;
		d += n;
		len -= n;
		*written += n;
		ret = swgpu_exec_progress(x, n);
		if (ret)
			break;
	}
	return ret;
}

static int swgpu_exec_copy_window(struct swgpu_exec_lane *lane, u64 s, u64 d,
				  u64 len, struct swgpu_object *dst,
				  struct swgpu_object *src, u64 *written)
{
	int ret;

	ret = swgpu_object_cpu_begin_pages(src, s, len, DMA_FROM_DEVICE,
					   &lane->allocated, lane->spages);
	if (ret)
		return ret;
	ret = swgpu_object_cpu_begin_pages(dst, d, len, DMA_TO_DEVICE,
					   &lane->allocated, lane->dpages);
	if (!ret) {
		ret = swgpu_exec_copy_pages(lane->x, s, d, len, dst,
					    lane->dpages, src, lane->spages,
					    written);
		swgpu_object_cpu_end_pages(dst, d, len, DMA_TO_DEVICE,
					   lane->dpages);
	}
	swgpu_object_cpu_end_pages(src, s, len, DMA_FROM_DEVICE, lane->spages);
	return ret;
}

/**
 * swgpu_exec_windows - how many windows a command is cut into
 * @cmd: the command, checked at submit
 *
 * Windows are SWGPU_EXEC_WINDOW bytes of the destination, aligned there
 * (the first and the last may be shorter); a COPY's source windows follow
 * its destination's.
 *
 * Return: the number of windows, at least 1.
 */
unsigned long swgpu_exec_windows(const struct drm_swgpu_cmd *cmd)
{
	u64 first = cmd->dst_offset / SWGPU_EXEC_WINDOW;
	u64 last = (cmd->dst_offset + cmd->length - 1) / SWGPU_EXEC_WINDOW;

	return last - first + 1;
}

/**
 * swgpu_exec_window - run one window of a FILL or COPY command
 * @lane: the lane that runs it, with room for the window's pages
 * @cmd: the command, checked at submit
 * @dst: its destination object
 * @src: a COPY's source object; NULL for a FILL
 * @k: which window, below swgpu_exec_windows()
 *
 * Begins the window's range of each buffer, writes it a run of pages at
 * a time, ends it: nothing stays pinned. Windows of one command may run
 * at once on several lanes.
 *
 * Return: 0; -ECANCELED when the job is cancelled or another lane failed;
 * -ENOMEM or another errno from begin. What was written stays; what was
 * allocated is in @lane->allocated.
 */
int swgpu_exec_window(struct swgpu_exec_lane *lane,
		      const struct drm_swgpu_cmd *cmd, struct swgpu_object *dst,
		      struct swgpu_object *src, unsigned long k)
{
	u64 end = cmd->dst_offset + cmd->length, d = cmd->dst_offset;
	u64 len, written = 0;
	int ret;

	if (k)
		d = round_down(d, SWGPU_EXEC_WINDOW) + (u64)k * SWGPU_EXEC_WINDOW;
	len = swgpu_exec_window_end(d, end) - d;
	if (cmd->op == SWGPU_CMD_FILL)
		ret = swgpu_exec_fill_window(lane, d, len, dst, cmd->pattern,
					     &written);
	else
		ret = swgpu_exec_copy_window(lane,
					     cmd->src_offset + (d - cmd->dst_offset),
					     d, len, dst, src, &written);
	/* Per window, so that debugfs shows a job's progress. */
	atomic64_add(written, lane->x->progress);
	return ret;
}
