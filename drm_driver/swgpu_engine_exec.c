// SPDX-License-Identifier: GPL-2.0-only
/*
 * How the engine's commands run on their buffers (swgpu_engine.c runs
 * the jobs): through the kernel CPU access contract, one window of at
 * most SWGPU_EXEC_WINDOW bytes per buffer at a time: begin on the window,
 * one page mapped and written at a time, end. Only a window is ever
 * pinned, so what a job has written stays reclaimable and swappable, and
 * a job larger than memory completes when there is swap. Cancellation is
 * checked after every page, so it takes effect within one window.
 */

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <drm/swgpu_drm.h>

#include "swgpu_drv.h"

/*
 * The most a running job pins, per buffer: a command is cut into windows
 * of this size (aligned in the destination), each begun, written and
 * ended before the next.
 */
#define SWGPU_EXEC_WINDOW	SZ_2M

/* Byte o of an object gets byte o % 4 of the pattern, little-endian. */
static void swgpu_fill_bytes(u8 *dst, u64 offset, size_t len, u32 pattern)
{
	__le32 word = cpu_to_le32(pattern);
	const u8 *bytes = (const u8 *)&word;

	while (len && (offset & 3)) {
		*dst++ = bytes[offset++ & 3];
		len--;
	}
	for (; len >= 4; len -= 4, dst += 4, offset += 4)
		memcpy(dst, &word, 4);
	while (len--)
		*dst++ = bytes[offset++ & 3];
}

/* After each page: count it, stop if the job is cancelled, yield. */
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

static int swgpu_exec_fill_window(struct swgpu_exec *x, u64 pos, u64 end,
				  struct swgpu_object *dst, u32 pattern)
{
	int ret = 0;

	while (pos < end) {
		size_t in = offset_in_page(pos);
		size_t n = min_t(u64, PAGE_SIZE - in, end - pos);
		u8 *vaddr = swgpu_object_kmap(dst, pos >> PAGE_SHIFT);

		if (WARN_ON_ONCE(!vaddr))
			return -EFAULT;
		swgpu_fill_bytes(vaddr + in, pos, n, pattern);
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
	int ret = 0;

	while (!ret && pos < end) {
		u64 wend = swgpu_exec_window_end(pos, end);
		u64 before = x->bytes;

		ret = swgpu_object_cpu_begin(dst, pos, wend - pos, DMA_TO_DEVICE,
					     &x->allocated);
		if (ret)
			break;
		ret = swgpu_exec_fill_window(x, pos, wend, dst, cmd->pattern);
		swgpu_object_cpu_end(dst, pos, wend - pos, DMA_TO_DEVICE);
		/* Per window, so that debugfs shows a job's progress. */
		atomic64_add(x->bytes - before, x->progress);
		pos = wend;
	}
	return ret;
}

static int swgpu_exec_copy_window(struct swgpu_exec *x, u64 s, u64 d,
				  u64 len, struct swgpu_object *dst,
				  struct swgpu_object *src)
{
	int ret = 0;

	while (len) {
		size_t n = min3((u64)(PAGE_SIZE - offset_in_page(s)),
				(u64)(PAGE_SIZE - offset_in_page(d)), len);
		u8 *from = swgpu_object_kmap(src, s >> PAGE_SHIFT);
		u8 *to = from ? swgpu_object_kmap(dst, d >> PAGE_SHIFT) : NULL;

		if (WARN_ON_ONCE(!to)) {
			if (from)
				swgpu_object_kunmap(src, from);
			return -EFAULT;
		}
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
	int ret = 0;

	/* Windows follow the destination; the source's follow along. */
	while (!ret && d < end) {
		u64 len = swgpu_exec_window_end(d, end) - d;
		u64 before = x->bytes;

		ret = swgpu_object_cpu_begin(src, s, len, DMA_FROM_DEVICE,
					     &x->allocated);
		if (ret)
			break;
		ret = swgpu_object_cpu_begin(dst, d, len, DMA_TO_DEVICE,
					     &x->allocated);
		if (!ret) {
			ret = swgpu_exec_copy_window(x, s, d, len, dst, src);
			swgpu_object_cpu_end(dst, d, len, DMA_TO_DEVICE);
		}
		swgpu_object_cpu_end(src, s, len, DMA_FROM_DEVICE);
		atomic64_add(x->bytes - before, x->progress);
		s += len;
		d += len;
	}
	return ret;
}
