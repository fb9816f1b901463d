// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel CPU access contract on any dma-buf: range begin/end and
 * per-page kmap/kmap_atomic.
 *
 * swgpu's own buffers pin exactly the pages of each begun range, counted
 * per page in the object's cpu_pages xarray, so ranges may nest and
 * overlap. Lookups from kmap_atomic are lockless (RCU), so it never
 * sleeps. Any other exporter falls back to the core's whole-buffer
 * begin_cpu_access plus one vmap shared by all ranges begun on that
 * dma-buf, with the begun pages counted the same way so that kmap outside
 * a range is caught on every path.
 *
 * The core holds no lock around an exporter's begin_cpu_access, and
 * exporters may rely on their callers for that (udmabuf builds its table
 * unlocked: two racing begins leak one, see docs/upstream/). swgpu calls
 * a foreign exporter's begin and end only under the begin lock of that
 * dma-buf, so its own users never race each other inside the exporter.
 */

#include <linux/dma-buf.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/swap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/swgpu_dma_buf.h>
#include <linux/xarray.h>

#include "swgpu_compat.h"
#include "swgpu_drv.h"

/**
 * struct swgpu_cpu_page - one page of a swgpu object pinned for CPU access
 * @page: the pinned page
 * @count: begun ranges that cover it
 * @rcu: frees the entry after lockless lookups are done with it
 */
struct swgpu_cpu_page {
	struct page *page;
	unsigned int count;
	struct rcu_head rcu;
};

/**
 * struct swgpu_foreign_access - CPU access state for another exporter's buffer
 * @node: entry in swgpu_foreign_table
 * @dmabuf: the buffer; the callers of begin hold references to it
 * @map: the core's vmap of the whole buffer
 * @ranges: begun ranges not yet ended
 * @pages: page index -> number of begun ranges covering it (value entries)
 * @rcu: frees the state after lockless lookups are done with it
 */
struct swgpu_foreign_access {
	struct hlist_node node;
	struct dma_buf *dmabuf;
	struct iosys_map map;
	unsigned int ranges;
	struct xarray pages;
	struct rcu_head rcu;
};

static DEFINE_HASHTABLE(swgpu_foreign_table, 6);
static DEFINE_MUTEX(swgpu_foreign_lock);

/*
 * Begin locks of foreign dma-bufs, picked by the buffer's address: calls
 * into one exporter's begin/end_cpu_access for one buffer never overlap.
 * Two buffers may share a lock; that only orders their begins. Only the
 * exporter's own work is done under it, never swgpu's wait for fences:
 * an engine job that is what such a fence waits for takes the lock to
 * begin. The engine already relies on foreign exporters not waiting for
 * the buffer's fences inside begin_cpu_access (its own job's fence is
 * among them); under that condition nothing waits for a fence with the
 * lock held.
 */
#define SWGPU_FOREIGN_BEGIN_LOCK_BITS 4
static struct mutex swgpu_foreign_begin_locks[1 << SWGPU_FOREIGN_BEGIN_LOCK_BITS];

static atomic64_t swgpu_native_begins = ATOMIC64_INIT(0);
static atomic64_t swgpu_foreign_begins = ATOMIC64_INIT(0);

/**
 * swgpu_cpu_access_stats - counters for debugfs
 * @native: ranges begun on swgpu's own buffers, page by page
 * @foreign: ranges begun through the core's fallback
 */
void swgpu_cpu_access_stats(u64 *native, u64 *foreign)
{
	*native = atomic64_read(&swgpu_native_begins);
	*foreign = atomic64_read(&swgpu_foreign_begins);
}

/*
 * The contract's arguments come from other drivers; a bad one is their
 * bug, so it warns once, but it must never take the kernel down.
 */
static bool swgpu_valid_dma_buf(struct dma_buf *dmabuf)
{
	return !WARN_ON_ONCE(!dmabuf || !dmabuf->file || !dmabuf->ops ||
			     dmabuf->file->private_data != dmabuf);
}

static int swgpu_range_to_pages(struct dma_buf *dmabuf, size_t start,
				size_t len, enum dma_data_direction dir,
				pgoff_t *first, pgoff_t *last)
{
	size_t end;

	if (!swgpu_valid_dma_buf(dmabuf))
		return -EINVAL;
	if (dir != DMA_BIDIRECTIONAL && dir != DMA_TO_DEVICE &&
	    dir != DMA_FROM_DEVICE)
		return -EINVAL;
	if (!len || check_add_overflow(start, len, &end) || end > dmabuf->size)
		return -EINVAL;

	*first = start >> PAGE_SHIFT;
	*last = (end - 1) >> PAGE_SHIFT;
	return 0;
}

static bool swgpu_cpu_writes(enum dma_data_direction dir)
{
	return dir != DMA_FROM_DEVICE;
}

/* ---- swgpu's own buffers ---- */

static void swgpu_obj_cpu_release(struct swgpu_object *obj, pgoff_t first,
				  pgoff_t last, bool written)
{
	pgoff_t i;

	lockdep_assert_held(&obj->lock);

	for (i = first; i <= last; i++) {
		struct swgpu_cpu_page *cp = xa_load(&obj->cpu_pages, i);

		if (WARN_ON_ONCE(!cp))
			continue;
		/* Dirty now, while pinned, so reclaim cannot drop the data. */
		if (written)
			set_page_dirty(cp->page);
		if (--cp->count)
			continue;

		xa_erase(&obj->cpu_pages, i);
		mark_page_accessed(cp->page);
		put_page(cp->page);
		kfree_rcu(cp, rcu);
		atomic_long_dec(&obj->pinned_pages);
	}
}

/*
 * Metadata of a range is allocated the way its pages are: failing rather
 * than waking the OOM killer (see swgpu_populate_gfp()).
 */
#define SWGPU_CPU_GFP	(GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

static int swgpu_obj_cpu_pin(struct swgpu_object *obj, pgoff_t i,
			     struct swgpu_alloc_log *log, bool written)
{
	struct swgpu_cpu_page *cp;
	struct page *page;
	int ret;

	cp = xa_load(&obj->cpu_pages, i);
	if (cp) {
		cp->count++;
		return 0;
	}

	if (signal_pending(current))
		return -EINTR;

	ret = swgpu_object_get_page(obj, i, &page, log, written);
	if (ret)
		return ret;

	cp = kzalloc(sizeof(*cp), SWGPU_CPU_GFP);
	if (!cp) {
		put_page(page);
		return -ENOMEM;
	}
	cp->page = page;
	cp->count = 1;

	ret = xa_err(xa_store(&obj->cpu_pages, i, cp, SWGPU_CPU_GFP));
	if (ret) {
		kfree(cp);
		put_page(page);
		return ret;
	}
	atomic_long_inc(&obj->pinned_pages);
	return 0;
}

/*
 * @log: where the engine logs what it allocates, to give it back when its
 * job fails; NULL for the kernel API, whose begin gives back what it
 * allocated itself when it fails.
 */
static int swgpu_obj_cpu_begin(struct swgpu_object *obj, pgoff_t first,
			       pgoff_t last, enum dma_data_direction dir,
			       bool wait, struct swgpu_alloc_log *log)
{
	struct swgpu_alloc_log own;
	pgoff_t i;
	int ret;

	if (wait) {
		ret = swgpu_object_wait_for_cpu(obj, dir);
		if (ret)
			return ret;
	}

	swgpu_alloc_log_init(&own);
	mutex_lock(&obj->lock);
	for (i = first; i <= last; i++) {
		/*
		 * The API's own log serves only its failure, when nothing
		 * was written: it drops clean pages and never punches.
		 */
		ret = swgpu_obj_cpu_pin(obj, i, log ?: &own,
					log && swgpu_cpu_writes(dir));
		if (ret)
			break;
		cond_resched();
	}
	if (ret) {
		if (i > first)
			swgpu_obj_cpu_release(obj, first, i - 1, false);
	} else {
		swgpu_object_sync_for_cpu(obj);
	}
	mutex_unlock(&obj->lock);

	if (ret)
		swgpu_alloc_log_release(&own);
	else
		swgpu_alloc_log_fini(&own);
	if (!ret)
		atomic64_inc(&swgpu_native_begins);
	return ret;
}

static void swgpu_obj_cpu_end(struct swgpu_object *obj, pgoff_t first,
			      pgoff_t last, enum dma_data_direction dir)
{
	mutex_lock(&obj->lock);
	swgpu_object_sync_for_device(obj);
	swgpu_obj_cpu_release(obj, first, last, swgpu_cpu_writes(dir));
	mutex_unlock(&obj->lock);
}

static struct page *swgpu_obj_cpu_page(struct swgpu_object *obj,
				       unsigned long page_num)
{
	struct swgpu_cpu_page *cp;
	struct page *page = NULL;

	rcu_read_lock();
	cp = xa_load(&obj->cpu_pages, page_num);
	if (cp && READ_ONCE(cp->count))
		page = cp->page;
	rcu_read_unlock();
	return page;
}

/* ---- every other exporter: the core's begin_cpu_access and vmap ---- */

static struct swgpu_foreign_access *swgpu_foreign_find(struct dma_buf *dmabuf)
{
	struct swgpu_foreign_access *fa;

	hash_for_each_possible_rcu(swgpu_foreign_table, fa, node,
				   (unsigned long)dmabuf)
		if (fa->dmabuf == dmabuf)
			return fa;
	return NULL;
}

static void swgpu_foreign_uncount(struct swgpu_foreign_access *fa,
				  pgoff_t first, pgoff_t last)
{
	pgoff_t i;

	for (i = first; i <= last; i++) {
		unsigned long n = xa_to_value(xa_load(&fa->pages, i));

		if (WARN_ON_ONCE(!n))
			continue;
		if (n == 1)
			xa_erase(&fa->pages, i);
		else
			xa_store(&fa->pages, i, xa_mk_value(n - 1), GFP_KERNEL);
	}
}

static int swgpu_foreign_count(struct swgpu_foreign_access *fa,
			       pgoff_t first, pgoff_t last)
{
	pgoff_t i;
	int ret = 0;

	for (i = first; i <= last; i++) {
		unsigned long n = xa_to_value(xa_load(&fa->pages, i));

		ret = xa_err(xa_store(&fa->pages, i, xa_mk_value(n + 1),
				      GFP_KERNEL));
		if (ret)
			break;
	}
	if (ret && i > first)
		swgpu_foreign_uncount(fa, first, i - 1);
	return ret;
}

static void swgpu_foreign_put(struct swgpu_foreign_access *fa)
{
	lockdep_assert_held(&swgpu_foreign_lock);

	if (fa->ranges)
		return;
	hash_del_rcu(&fa->node);
	swgpu_dma_buf_vunmap_unlocked(fa->dmabuf, &fa->map);
	xa_destroy(&fa->pages);
	kfree_rcu(fa, rcu);
}

/**
 * swgpu_cpu_access_init - set up the foreign dma-bufs' begin locks
 *
 * Called once from module init, before anything can begin.
 */
void swgpu_cpu_access_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(swgpu_foreign_begin_locks); i++)
		mutex_init(&swgpu_foreign_begin_locks[i]);
}

static struct mutex *swgpu_foreign_begin_lock(struct dma_buf *dmabuf)
{
	return &swgpu_foreign_begin_locks[hash_ptr(dmabuf,
					SWGPU_FOREIGN_BEGIN_LOCK_BITS)];
}

/* The exporter's end_cpu_access, under the same lock as its begin. */
static int swgpu_foreign_exporter_end(struct dma_buf *dmabuf,
				      enum dma_data_direction dir)
{
	struct mutex *lock = swgpu_foreign_begin_lock(dmabuf);
	int ret;

	if (!dmabuf->ops->end_cpu_access)
		return 0;
	mutex_lock(lock);
	ret = dmabuf->ops->end_cpu_access(dmabuf, dir);
	mutex_unlock(lock);
	return ret;
}

/*
 * The exporter's begin_cpu_access, under the buffer's begin lock, then
 * (with @wait) the wait for the reservation object's fences that
 * dma_buf_begin_cpu_access() would do, outside it. The engine must not
 * wait: its own job fence is already there.
 */
static int swgpu_foreign_exporter_begin(struct dma_buf *dmabuf,
					enum dma_data_direction dir, bool wait)
{
	struct mutex *lock = swgpu_foreign_begin_lock(dmabuf);
	bool write = dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE;
	long ret = 0;

	if (dmabuf->ops->begin_cpu_access) {
		if (wait) {
			ret = mutex_lock_interruptible(lock);
			if (ret)
				return ret;
		} else {
			mutex_lock(lock);
		}
		ret = dmabuf->ops->begin_cpu_access(dmabuf, dir);
		mutex_unlock(lock);
		if (ret)
			return ret;
	}
	if (!wait)
		return 0;

	ret = dma_resv_wait_timeout(dmabuf->resv, dma_resv_usage_rw(write),
				    true, MAX_SCHEDULE_TIMEOUT);
	if (ret < 0) {
		swgpu_foreign_exporter_end(dmabuf, dir);
		return ret;
	}
	return 0;
}

/**
 * swgpu_foreign_sync_begin - whole-buffer CPU access begin on a foreign dma-buf
 * @dmabuf: the imported buffer
 * @dir: the direction of the access
 *
 * dma_buf_begin_cpu_access() with the exporter's part under the buffer's
 * begin lock, for the CPU_ACCESS ioctl on imported objects.
 *
 * Return: 0, or the exporter's or the fence wait's negative errno.
 */
int swgpu_foreign_sync_begin(struct dma_buf *dmabuf,
			     enum dma_data_direction dir)
{
	return swgpu_foreign_exporter_begin(dmabuf, dir, true);
}

/**
 * swgpu_foreign_sync_end - end a swgpu_foreign_sync_begin()
 * @dmabuf: the imported buffer
 * @dir: as passed to swgpu_foreign_sync_begin()
 *
 * Return: 0, or the exporter's negative errno.
 */
int swgpu_foreign_sync_end(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	return swgpu_foreign_exporter_end(dmabuf, dir);
}

static int swgpu_foreign_begin(struct dma_buf *dmabuf, pgoff_t first,
			       pgoff_t last, enum dma_data_direction dir,
			       bool wait)
{
	struct swgpu_foreign_access *fa;
	int ret;

	/* Outside swgpu_foreign_lock: it may wait for fences for long. */
	ret = swgpu_foreign_exporter_begin(dmabuf, dir, wait);
	if (ret)
		return ret;

	mutex_lock(&swgpu_foreign_lock);
	fa = swgpu_foreign_find(dmabuf);
	if (!fa) {
		fa = kzalloc(sizeof(*fa), GFP_KERNEL);
		if (!fa) {
			ret = -ENOMEM;
			goto err_end;
		}
		fa->dmabuf = dmabuf;
		xa_init(&fa->pages);

		ret = swgpu_dma_buf_vmap_unlocked(dmabuf, &fa->map);
		if (!ret && fa->map.is_iomem) {
			/* kmap hands out plain pointers; I/O memory has none. */
			swgpu_dma_buf_vunmap_unlocked(dmabuf, &fa->map);
			ret = -EOPNOTSUPP;
		}
		if (ret) {
			kfree(fa);
			goto err_end;
		}
		hash_add_rcu(swgpu_foreign_table, &fa->node,
			     (unsigned long)dmabuf);
	}

	ret = swgpu_foreign_count(fa, first, last);
	if (ret) {
		swgpu_foreign_put(fa);
		goto err_end;
	}
	fa->ranges++;
	mutex_unlock(&swgpu_foreign_lock);

	atomic64_inc(&swgpu_foreign_begins);
	return 0;

err_end:
	mutex_unlock(&swgpu_foreign_lock);
	swgpu_foreign_exporter_end(dmabuf, dir);
	return ret;
}

static void swgpu_foreign_end(struct dma_buf *dmabuf, pgoff_t first,
			      pgoff_t last, enum dma_data_direction dir)
{
	struct swgpu_foreign_access *fa;

	mutex_lock(&swgpu_foreign_lock);
	fa = swgpu_foreign_find(dmabuf);
	if (WARN_ON_ONCE(!fa || !fa->ranges)) {
		mutex_unlock(&swgpu_foreign_lock);
		return;
	}
	swgpu_foreign_uncount(fa, first, last);
	fa->ranges--;
	swgpu_foreign_put(fa);
	mutex_unlock(&swgpu_foreign_lock);

	swgpu_foreign_exporter_end(dmabuf, dir);
}

static void *swgpu_foreign_kmap(struct dma_buf *dmabuf,
				unsigned long page_num)
{
	struct swgpu_foreign_access *fa;
	void *vaddr = NULL;

	rcu_read_lock();
	fa = swgpu_foreign_find(dmabuf);
	if (fa && xa_load(&fa->pages, page_num))
		vaddr = fa->map.vaddr + (page_num << PAGE_SHIFT);
	rcu_read_unlock();
	return vaddr;
}

/* ---- the exported contract ---- */

/**
 * swgpu_dma_buf_begin_cpu_access - prepare a byte range for kernel CPU access
 * @dmabuf: the buffer; any exporter's
 * @start: first byte of the range
 * @len: length of the range in bytes, not 0
 * @dir: DMA_FROM_DEVICE to read, DMA_TO_DEVICE to write,
 *	DMA_BIDIRECTIONAL for both
 *
 * Does everything that can fail: checks the range, waits (interruptibly)
 * for the fences the direction must wait for, allocates or swaps in the
 * pages of the range and pins them, and makes them coherent for the CPU.
 * After it succeeds, swgpu_dma_buf_kmap() and swgpu_dma_buf_kmap_atomic()
 * succeed for every page the range touches, until the matching
 * swgpu_dma_buf_end_cpu_access(). Ranges may nest and overlap; each begin
 * needs its own end with the same arguments.
 *
 * On swgpu's own buffers only the pages of the range are touched. Other
 * exporters go through dma_buf_begin_cpu_access() and a vmap of the whole
 * buffer, shared by all ranges begun on it.
 *
 * Context: process context, may sleep.
 * Return: 0 on success; -EINVAL for a NULL or non-dma-buf @dmabuf (with a
 * warning), a zero @len, a range past the end or overflowing, or a bad
 * @dir; -ERESTARTSYS or -EINTR if a signal interrupted the wait or the
 * allocation; -ENOMEM; -EOPNOTSUPP if a foreign exporter's memory cannot
 * be mapped; or the foreign exporter's own error. Nothing is held on
 * failure.
 */
int swgpu_dma_buf_begin_cpu_access(struct dma_buf *dmabuf, size_t start,
				   size_t len, enum dma_data_direction dir)
{
	pgoff_t first, last;
	int ret;

	might_sleep();

	ret = swgpu_range_to_pages(dmabuf, start, len, dir, &first, &last);
	if (ret)
		return ret;

	if (swgpu_is_own_dma_buf(dmabuf))
		return swgpu_obj_cpu_begin(to_swgpu_obj(dmabuf->priv), first,
					   last, dir, true, NULL);
	return swgpu_foreign_begin(dmabuf, first, last, dir, true);
}
EXPORT_SYMBOL_GPL(swgpu_dma_buf_begin_cpu_access);

/**
 * swgpu_dma_buf_end_cpu_access - end a range begun for kernel CPU access
 * @dmabuf: the buffer
 * @start: as passed to swgpu_dma_buf_begin_cpu_access()
 * @len: as passed to swgpu_dma_buf_begin_cpu_access()
 * @dir: as passed to swgpu_dma_buf_begin_cpu_access()
 *
 * Makes what the CPU wrote visible to devices and releases exactly what
 * the matching begin took. Every page of the range must be unmapped first.
 *
 * Context: process context, may sleep.
 */
void swgpu_dma_buf_end_cpu_access(struct dma_buf *dmabuf, size_t start,
				  size_t len, enum dma_data_direction dir)
{
	pgoff_t first, last;

	might_sleep();

	if (WARN_ON_ONCE(swgpu_range_to_pages(dmabuf, start, len, dir,
					      &first, &last)))
		return;

	if (swgpu_is_own_dma_buf(dmabuf))
		swgpu_obj_cpu_end(to_swgpu_obj(dmabuf->priv), first, last, dir);
	else
		swgpu_foreign_end(dmabuf, first, last, dir);
}
EXPORT_SYMBOL_GPL(swgpu_dma_buf_end_cpu_access);

static void *swgpu_kmap_page(struct dma_buf *dmabuf, unsigned long page_num)
{
	struct page *page;

	if (!swgpu_valid_dma_buf(dmabuf))
		return NULL;

	if (!swgpu_is_own_dma_buf(dmabuf))
		return swgpu_foreign_kmap(dmabuf, page_num);

	page = swgpu_obj_cpu_page(to_swgpu_obj(dmabuf->priv), page_num);
	return page ? kmap_local_page(page) : NULL;
}

/**
 * swgpu_dma_buf_kmap - map one page of a begun range, may sleep
 * @dmabuf: the buffer
 * @page_num: page index in the buffer, inside a range begun with
 *	swgpu_dma_buf_begin_cpu_access()
 *
 * Works on highmem pages: only this page is mapped. The mapping belongs to
 * the calling task; mappings are released with swgpu_dma_buf_kunmap() in
 * the reverse order of mapping.
 *
 * Context: process context, may sleep.
 * Return: the kernel address of the page; NULL (with a warning) for a page
 * outside every begun range, which is a caller bug.
 */
void *swgpu_dma_buf_kmap(struct dma_buf *dmabuf, unsigned long page_num)
{
	void *vaddr;

	might_sleep();
	vaddr = swgpu_kmap_page(dmabuf, page_num);
	WARN_ON_ONCE(!vaddr);
	return vaddr;
}
EXPORT_SYMBOL_GPL(swgpu_dma_buf_kmap);

/**
 * swgpu_dma_buf_kunmap - unmap a page mapped by swgpu_dma_buf_kmap()
 * @dmabuf: the buffer
 * @page_num: the page index passed to swgpu_dma_buf_kmap()
 * @vaddr: the address it returned
 */
void swgpu_dma_buf_kunmap(struct dma_buf *dmabuf, unsigned long page_num,
			  void *vaddr)
{
	if (vaddr && swgpu_is_own_dma_buf(dmabuf))
		kunmap_local(vaddr);
}
EXPORT_SYMBOL_GPL(swgpu_dma_buf_kunmap);

/**
 * swgpu_dma_buf_kmap_atomic - map one page of a begun range without sleeping
 * @dmabuf: the buffer
 * @page_num: page index in the buffer, inside a begun range
 *
 * Takes no lock that sleeps and allocates nothing, so it may be called
 * under a spinlock or with interrupts off. Release the mapping with
 * swgpu_dma_buf_kunmap_atomic() in the same context, in reverse order.
 *
 * Context: any.
 * Return: the kernel address of the page; NULL (with a warning) for a page
 * outside every begun range.
 */
void *swgpu_dma_buf_kmap_atomic(struct dma_buf *dmabuf,
				unsigned long page_num)
{
	void *vaddr;

	vaddr = swgpu_kmap_page(dmabuf, page_num);
	WARN_ON_ONCE(!vaddr);
	return vaddr;
}
EXPORT_SYMBOL_GPL(swgpu_dma_buf_kmap_atomic);

/**
 * swgpu_dma_buf_kunmap_atomic - unmap a page from swgpu_dma_buf_kmap_atomic()
 * @dmabuf: the buffer
 * @page_num: the page index passed to swgpu_dma_buf_kmap_atomic()
 * @vaddr: the address it returned
 *
 * Context: the context that mapped the page.
 */
void swgpu_dma_buf_kunmap_atomic(struct dma_buf *dmabuf,
				 unsigned long page_num, void *vaddr)
{
	if (vaddr && swgpu_is_own_dma_buf(dmabuf))
		kunmap_local(vaddr);
}
EXPORT_SYMBOL_GPL(swgpu_dma_buf_kunmap_atomic);

/* ---- the same contract on a swgpu handle's object, for the engine ---- */

/**
 * swgpu_object_cpu_begin - begin CPU access to a range of a GEM object
 * @obj: a swgpu object, swgpu-backed or imported
 * @start: first byte
 * @len: length in bytes, checked by the caller
 * @dir: the CPU's direction
 * @log: where pages allocated for holes of a swgpu-backed object are
 *	logged; the caller gives them back (swgpu_alloc_log_release()) if
 *	it fails later, or forgets them
 *
 * Like swgpu_dma_buf_begin_cpu_access() but without waiting for the
 * object's fences: the engine waits for the dependencies it recorded at
 * submit, and its own fence is already in the reservation object.
 *
 * Return: 0 or a negative errno; no pin is held on failure (the pages
 * allocated stay logged).
 */
int swgpu_object_cpu_begin(struct swgpu_object *obj, u64 start, u64 len,
			   enum dma_data_direction dir,
			   struct swgpu_alloc_log *log)
{
	pgoff_t first = start >> PAGE_SHIFT, last = (start + len - 1) >> PAGE_SHIFT;

	if (swgpu_obj_is_imported(obj))
		return swgpu_foreign_begin(obj->base.import_attach->dmabuf,
					   first, last, dir, false);
	return swgpu_obj_cpu_begin(obj, first, last, dir, false, log);
}

/**
 * swgpu_object_cpu_end - end a range begun by swgpu_object_cpu_begin()
 * @obj: the object
 * @start: as passed to swgpu_object_cpu_begin()
 * @len: as passed to swgpu_object_cpu_begin()
 * @dir: as passed to swgpu_object_cpu_begin()
 */
void swgpu_object_cpu_end(struct swgpu_object *obj, u64 start, u64 len,
			  enum dma_data_direction dir)
{
	pgoff_t first = start >> PAGE_SHIFT, last = (start + len - 1) >> PAGE_SHIFT;

	if (swgpu_obj_is_imported(obj))
		swgpu_foreign_end(obj->base.import_attach->dmabuf, first, last,
				  dir);
	else
		swgpu_obj_cpu_end(obj, first, last, dir);
}

/**
 * swgpu_object_cpu_begin_pages - swgpu_object_cpu_begin(), pinning into an array
 * @obj: a swgpu object, swgpu-backed or imported
 * @start: first byte
 * @len: length in bytes, checked by the caller
 * @dir: the CPU's direction
 * @log: as for swgpu_object_cpu_begin()
 * @pages: room for a page per page the range touches; on a swgpu-backed
 *	object it gets them, pinned, for swgpu_object_kmap_pages()
 *
 * The engine's begin. On a swgpu-backed object the range's pages are
 * pinned in @pages, found in batches of folios (swgpu_object_get_pages()),
 * instead of one entry each in the object's cpu_pages, which costs an
 * allocation and an xarray store and erase per page: the range belongs
 * to the caller alone, so nobody else needs to find its pages. They count
 * in the object's pinned pages all the same. On an imported object it is
 * swgpu_object_cpu_begin().
 *
 * Return: as swgpu_object_cpu_begin().
 */
int swgpu_object_cpu_begin_pages(struct swgpu_object *obj, u64 start,
				 u64 len, enum dma_data_direction dir,
				 struct swgpu_alloc_log *log, struct page **pages)
{
	pgoff_t first = start >> PAGE_SHIFT, last = (start + len - 1) >> PAGE_SHIFT;
	int ret;

	if (swgpu_obj_is_imported(obj))
		return swgpu_object_cpu_begin(obj, start, len, dir, log);

	mutex_lock(&obj->lock);
	ret = swgpu_object_get_pages(obj, first, last - first + 1, pages, log,
				     swgpu_cpu_writes(dir));
	if (!ret) {
		atomic_long_add(last - first + 1, &obj->pinned_pages);
		swgpu_object_sync_for_cpu(obj);
	}
	mutex_unlock(&obj->lock);
	if (!ret)
		atomic64_inc(&swgpu_native_begins);
	return ret;
}

/**
 * swgpu_object_cpu_end_pages - end a range of swgpu_object_cpu_begin_pages()
 * @obj: the object
 * @start: as passed to swgpu_object_cpu_begin_pages()
 * @len: as passed to swgpu_object_cpu_begin_pages()
 * @dir: as passed to swgpu_object_cpu_begin_pages()
 * @pages: as passed to swgpu_object_cpu_begin_pages()
 */
void swgpu_object_cpu_end_pages(struct swgpu_object *obj, u64 start, u64 len,
				enum dma_data_direction dir, struct page **pages)
{
	pgoff_t count = ((start + len - 1) >> PAGE_SHIFT) - (start >> PAGE_SHIFT) + 1;

	if (swgpu_obj_is_imported(obj)) {
		swgpu_object_cpu_end(obj, start, len, dir);
		return;
	}

	mutex_lock(&obj->lock);
	swgpu_object_sync_for_device(obj);
	mutex_unlock(&obj->lock);
	swgpu_object_put_pages(pages, count, true, swgpu_cpu_writes(dir));
	atomic_long_sub(count, &obj->pinned_pages);
}

/*
 * Whether swgpu_object_kmap_pages() maps runs: not with HIGHMEM, and not
 * where kunmap_local() flushes the one page it unmaps.
 */
#ifdef ARCH_HAS_FLUSH_ON_KUNMAP
#define SWGPU_KMAP_RUNS	false
#else
#define SWGPU_KMAP_RUNS	(!IS_ENABLED(CONFIG_HIGHMEM))
#endif

/**
 * swgpu_object_kmap_pages - map a run of a swgpu_object_cpu_begin_pages() range
 * @obj: the object
 * @pages: as passed to swgpu_object_cpu_begin_pages()
 * @first: the range's first page index
 * @page_num: the index of the run's first page, in the range
 * @count: in: the most pages wanted, at least 1 and no further than the
 *	range; out: how many pages the returned address maps
 *
 * Maps page @page_num and, where SWGPU_KMAP_RUNS, the pages after it
 * whose frames follow its frame: the kernel's linear map has them at the
 * addresses that follow, so the caller writes them in one stretch. Pages
 * of a folio always are such a run, and so are most neighbours that the
 * page allocator handed out together. Under QEMU's TCG, where the engine
 * is measured, FILL ran 6 to 15% faster in runs than page by page. With
 * HIGHMEM, and on an imported object, one page.
 *
 * Return: as swgpu_object_kmap(); release with swgpu_object_kunmap().
 */
void *swgpu_object_kmap_pages(struct swgpu_object *obj, struct page **pages,
			      pgoff_t first, unsigned long page_num,
			      unsigned int *count)
{
	struct page **run = &pages[page_num - first];
	unsigned long pfn;
	unsigned int n = 1;

	if (swgpu_obj_is_imported(obj)) {
		*count = 1;
		return swgpu_object_kmap(obj, page_num);
	}
	if (SWGPU_KMAP_RUNS) {
		pfn = page_to_pfn(run[0]);
		while (n < *count && page_to_pfn(run[n]) == pfn + n)
			n++;
	}
	*count = n;
	return kmap_local_page(run[0]);
}

/**
 * swgpu_object_kmap - map one page of a begun range of a GEM object
 * @obj: the object
 * @page_num: the page index
 *
 * Return: the page's kernel address, valid until swgpu_object_kunmap()
 * in the same task, in reverse order of mapping; NULL outside any range.
 */
void *swgpu_object_kmap(struct swgpu_object *obj, unsigned long page_num)
{
	struct page *page;

	if (swgpu_obj_is_imported(obj))
		return swgpu_foreign_kmap(obj->base.import_attach->dmabuf,
					  page_num);
	page = swgpu_obj_cpu_page(obj, page_num);
	return page ? kmap_local_page(page) : NULL;
}

/**
 * swgpu_object_kunmap - unmap what swgpu_object_kmap() or _kmap_pages() mapped
 * @obj: the object
 * @vaddr: the address they returned
 */
void swgpu_object_kunmap(struct swgpu_object *obj, void *vaddr)
{
	if (!swgpu_obj_is_imported(obj))
		kunmap_local(vaddr);
}
