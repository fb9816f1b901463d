// SPDX-License-Identifier: GPL-2.0-only
/*
 * How the engine's commands run on their buffers (swgpu_engine.c runs
 * the jobs): through the kernel CPU access contract, one window of at
 * most SWGPU_EXEC_WINDOW bytes per buffer at a time: begin on the window,
 * write it a run of pages at a time, end. Only a window is ever pinned,
 * so what a job has written stays reclaimable and swappable, and a job
 * larger than memory completes when there is swap. Cancellation is
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

static struct page **swgpu_exec_alloc_pages(void)
{
	return kmalloc_array(SWGPU_EXEC_WINDOW_PAGES, sizeof(struct page *),
			     GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
}

/* After each run: count it, stop if the job is cancelled, yield. */
static int swgpu_exec_progress(struct swgpu_exec *x, size_t written)
{
	x->bytes += written;
	if (x->cancelled(x))
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

static int swgpu_exec_fill_window(struct swgpu_exec *x, u64 pos, u64 end,
				  struct swgpu_object *dst, struct page **pages,
				  u32 pattern)
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
		ret = swgpu_exec_progress(x, n);
		if (ret)
			break;
	}
	return ret;
}

/**
 * swgpu_exec_fill - run a FILL command, window by window
 * @x: the job's execution state
 * @cmd: the command, checked at submit
 * @dst: its destination object
 *
 * Return: 0; -ECANCELED when @x says so; -ENOMEM or another errno from
 * begin. What was written stays; what was allocated is in @x->allocated.
 */
int swgpu_exec_fill(struct swgpu_exec *x, const struct drm_swgpu_cmd *cmd,
		    struct swgpu_object *dst)
{
	u64 pos = cmd->dst_offset, end = cmd->dst_offset + cmd->length;
	struct page **pages = swgpu_exec_alloc_pages();
	int ret = 0;

	if (!pages)
		return -ENOMEM;
	while (!ret && pos < end) {
		u64 wend = swgpu_exec_window_end(pos, end);
		u64 before = x->bytes;

		ret = swgpu_object_cpu_begin_pages(dst, pos, wend - pos,
						   DMA_TO_DEVICE, &x->allocated,
						   pages);
		if (ret)
			break;
		ret = swgpu_exec_fill_window(x, pos, wend, dst, pages,
					     cmd->pattern);
		swgpu_object_cpu_end_pages(dst, pos, wend - pos, DMA_TO_DEVICE,
					   pages);
		/* Per window, so that debugfs shows a job's progress. */
		atomic64_add(x->bytes - before, x->progress);
		pos = wend;
	}
	kfree(pages);
	return ret;
}

static int swgpu_exec_copy_window(struct swgpu_exec *x, u64 s, u64 d,
				  u64 len, struct swgpu_object *dst,
				  struct page **dpages,
				  struct swgpu_object *src,
				  struct page **spages)
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
		ret = swgpu_exec_progress(x, n);
		if (ret)
			break;
	}
	return ret;
}

/**
 * swgpu_exec_copy - run a COPY command, window by window
 * @x: the job's execution state
 * @cmd: the command, checked at submit
 * @dst: its destination object
 * @src: its source object
 *
 * Return: as swgpu_exec_fill().
 */
int swgpu_exec_copy(struct swgpu_exec *x, const struct drm_swgpu_cmd *cmd,
		    struct swgpu_object *dst, struct swgpu_object *src)
{
	u64 s = cmd->src_offset, d = cmd->dst_offset;
	u64 end = cmd->dst_offset + cmd->length;
	struct page **spages = swgpu_exec_alloc_pages();
	struct page **dpages = swgpu_exec_alloc_pages();
	int ret = 0;

	if (!spages || !dpages)
		ret = -ENOMEM;

	/* Windows follow the destination; the source's follow along. */
	while (!ret && d < end) {
		u64 len = swgpu_exec_window_end(d, end) - d;
		u64 before = x->bytes;

		ret = swgpu_object_cpu_begin_pages(src, s, len, DMA_FROM_DEVICE,
						   &x->allocated, spages);
		if (ret)
			break;
		ret = swgpu_object_cpu_begin_pages(dst, d, len, DMA_TO_DEVICE,
						   &x->allocated, dpages);
		if (!ret) {
			ret = swgpu_exec_copy_window(x, s, d, len, dst, dpages,
						     src, spages);
			swgpu_object_cpu_end_pages(dst, d, len, DMA_TO_DEVICE,
						   dpages);
		}
		swgpu_object_cpu_end_pages(src, s, len, DMA_FROM_DEVICE,
					   spages);
		atomic64_add(x->bytes - before, x->progress);
		s += len;
		d += len;
	}
	kfree(dpages);
	kfree(spages);
	return ret;
}
