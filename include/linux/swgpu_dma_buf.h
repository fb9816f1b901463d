/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * swgpu_dma_buf.h - range-based kernel CPU access to any dma-buf
 *
 * The CPU access contract dma-buf was designed with: begin_cpu_access on a
 * byte range does everything that can fail, end_cpu_access always
 * succeeds, and pages inside a begun range are mapped one at a time with
 * kmap (may sleep) or kmap_atomic (never sleeps). Per-page mapping works
 * where a whole-buffer vmap cannot: on 32-bit kernels with highmem and
 * little vmalloc space, and on huge, sparse buffers.
 *
 * On swgpu's own dma-bufs only the pages of the range are allocated and
 * pinned. Any other dma-buf falls back to the core's whole-buffer
 * dma_buf_begin_cpu_access() and dma_buf_vmap(), with the same contract to
 * the caller. See Documentation in docs/cpu-access.rst.
 */
#ifndef _LINUX_SWGPU_DMA_BUF_H_
#define _LINUX_SWGPU_DMA_BUF_H_

#include <linux/dma-direction.h>
#include <linux/types.h>

struct dma_buf;

int swgpu_dma_buf_begin_cpu_access(struct dma_buf *dmabuf, size_t start,
				   size_t len, enum dma_data_direction dir);
void swgpu_dma_buf_end_cpu_access(struct dma_buf *dmabuf, size_t start,
				  size_t len, enum dma_data_direction dir);
void *swgpu_dma_buf_kmap(struct dma_buf *dmabuf, unsigned long page_num);
void swgpu_dma_buf_kunmap(struct dma_buf *dmabuf, unsigned long page_num,
			  void *vaddr);
void *swgpu_dma_buf_kmap_atomic(struct dma_buf *dmabuf,
				unsigned long page_num);
void swgpu_dma_buf_kunmap_atomic(struct dma_buf *dmabuf,
				 unsigned long page_num, void *vaddr);

#endif /* _LINUX_SWGPU_DMA_BUF_H_ */
