// SPDX-License-Identifier: GPL-2.0-only
/*
 * Backing pages of swgpu objects: populating, pinning and kernel mappings.
 *
 * Pages live in the object's shmem file. They are allocated when first
 * touched and pinned only while something needs them to stay put (a DMA
 * mapping of an attachment, a kernel vmap); unpinned pages can be swapped
 * out by shmem and are read back on the next touch.
 *
 * Every path that populates on a client's behalf allocates with
 * swgpu_populate_gfp(): when memory runs out the client's request fails
 * with -ENOMEM instead of waking the OOM killer, which could not free
 * these pages anyway (they belong to no process). What a failed populate
 * allocated is logged (struct swgpu_alloc_log) so that it can be given
 * back: a client that asked for too much does not leave the machine
 * without memory.
 */

#include <linux/err.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <linux/xarray.h>
#include <drm/drm_gem.h>

#include "swgpu_compat.h"
#include "swgpu_drv.h"

/* ---- logs of what a populate allocated ---- */

/**
 * struct swgpu_alloc_run - consecutive pages a populate allocated
 * @obj: the object they belong to
 * @first: first page index
 * @count: number of pages
 * @written: whether the caller wrote them (a job's destination)
 */
struct swgpu_alloc_run {
	struct swgpu_object *obj;
	pgoff_t first;
	pgoff_t count;
	bool written;
};

/**
 * struct swgpu_alloc_chunk - a page of runs in a log
 * @link: entry in swgpu_alloc_log.chunks
 * @used: runs in use
 * @runs: the runs, oldest first
 */
struct swgpu_alloc_chunk {
	struct list_head link;
	unsigned int used;
	struct swgpu_alloc_run runs[];
};

#define SWGPU_ALLOC_CHUNK_RUNS \
	((PAGE_SIZE - sizeof(struct swgpu_alloc_chunk)) / \
	 sizeof(struct swgpu_alloc_run))

/**
 * swgpu_populate_gfp - how pages are allocated on a client's behalf
 * @obj: a swgpu-backed object
 *
 * The mapping's own mask (highmem, movable) plus __GFP_RETRY_MAYFAIL:
 * reclaim and swap run as hard as for any allocation, but when they cannot
 * make room the allocation (and the memory cgroup charge) fails instead of
 * invoking the OOM killer, and the caller returns -ENOMEM to the client.
 * __GFP_NOWARN: a client running out of memory is no kernel problem.
 *
 * Return: the gfp mask.
 */
static gfp_t swgpu_populate_gfp(struct swgpu_object *obj)
{
	return mapping_gfp_mask(obj->base.filp->f_mapping) |
	       __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
}

/**
 * swgpu_alloc_log_init - start an empty log
 * @log: the log
 */
void swgpu_alloc_log_init(struct swgpu_alloc_log *log)
{
	INIT_LIST_HEAD(&log->chunks);
}

static struct swgpu_alloc_chunk *
swgpu_alloc_log_chunk(struct swgpu_alloc_log *log)
{
	if (list_empty(&log->chunks))
		return NULL;
	return list_last_entry(&log->chunks, struct swgpu_alloc_chunk, link);
}

static struct swgpu_alloc_run *swgpu_alloc_log_last(struct swgpu_alloc_log *log)
{
	struct swgpu_alloc_chunk *c = swgpu_alloc_log_chunk(log);

	return c && c->used ? &c->runs[c->used - 1] : NULL;
}

/*
 * Make room for logging page @index of @obj before it is allocated, so
 * that a page is never allocated without being logged.
 */
static int swgpu_alloc_log_reserve(struct swgpu_alloc_log *log,
				   struct swgpu_object *obj, pgoff_t index,
				   bool written)
{
	struct swgpu_alloc_run *run = swgpu_alloc_log_last(log);
	struct swgpu_alloc_chunk *c;

	if (run && run->obj == obj && run->written == written &&
	    run->first + run->count == index)
		return 0;
	c = swgpu_alloc_log_chunk(log);
	if (c && c->used < SWGPU_ALLOC_CHUNK_RUNS)
		return 0;
	c = kmalloc(PAGE_SIZE, GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!c)
		return -ENOMEM;
	c->used = 0;
	list_add_tail(&c->link, &log->chunks);
	return 0;
}

/*
 * Log @count pages from @index, with room reserved by
 * swgpu_alloc_log_reserve() for a page in them: either the last run goes
 * on at that page, and then (no page before it in a range being a hole)
 * at @index too, or there is room for a new run.
 */
static void swgpu_alloc_log_add(struct swgpu_alloc_log *log,
				struct swgpu_object *obj, pgoff_t index,
				pgoff_t count, bool written)
{
	struct swgpu_alloc_run *run = swgpu_alloc_log_last(log);
	struct swgpu_alloc_chunk *c;

	if (run && run->obj == obj && run->written == written &&
	    run->first + run->count == index) {
		run->count += count;
		return;
	}
	c = list_last_entry(&log->chunks, struct swgpu_alloc_chunk, link);
	c->runs[c->used++] = (struct swgpu_alloc_run){
		.obj = obj, .first = index, .count = count, .written = written,
	};
}

/*
 * Punch the pages of a run out of the shmem file, except those pinned:
 * every page while a device mapping or vmap holds the whole object, and
 * each page a kernel CPU access range covers. Holding the object's lock
 * keeps new pins out meanwhile.
 */
static void swgpu_alloc_run_punch(const struct swgpu_alloc_run *run)
{
	struct swgpu_object *obj = run->obj;
	pgoff_t start = run->first, end = run->first + run->count;

	mutex_lock(&obj->lock);
	while (!obj->pages_pin_count && start < end) {
		unsigned long pinned = start;
		pgoff_t stop = end;

		if (xa_find(&obj->cpu_pages, &pinned, end - 1, XA_PRESENT))
			stop = pinned;
		/*
		 * As fallocate(2) on a memfd: user mappings of the range are
		 * zapped too, and read zeros again, as before the job. It
		 * fails only where the file could not be written at all;
		 * the pages then stay, as they would without this.
		 */
		if (stop > start)
			vfs_fallocate(obj->base.filp,
				      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (loff_t)start << PAGE_SHIFT,
				      (loff_t)(stop - start) << PAGE_SHIFT);
		start = stop + 1;
	}
	mutex_unlock(&obj->lock);
}

/**
 * swgpu_alloc_log_release - give back the pages a failed populate allocated
 * @log: the log; empty afterwards
 *
 * Every logged page was a hole before, and a hole reads as zeros, so
 * removing it again restores what the object held. Pages only read
 * (populated, never written by the caller) are dropped only if they are
 * still clean and unmapped, so a concurrent writer through a user mapping
 * loses nothing; pages the caller wrote are punched out, unless something
 * pins them.
 */
void swgpu_alloc_log_release(struct swgpu_alloc_log *log)
{
	struct swgpu_alloc_chunk *c;
	unsigned int i;

	list_for_each_entry(c, &log->chunks, link) {
		for (i = 0; i < c->used; i++) {
			const struct swgpu_alloc_run *run = &c->runs[i];

			if (run->written)
				swgpu_alloc_run_punch(run);
			else
				invalidate_mapping_pages(run->obj->base.filp->f_mapping,
							 run->first,
							 run->first + run->count - 1);
			cond_resched();
		}
	}
	swgpu_alloc_log_fini(log);
}

/**
 * swgpu_alloc_log_fini - forget a log, keeping the pages
 * @log: the log; empty afterwards
 */
void swgpu_alloc_log_fini(struct swgpu_alloc_log *log)
{
	struct swgpu_alloc_chunk *c, *next;

	list_for_each_entry_safe(c, next, &log->chunks, link)
		kfree(c);
	INIT_LIST_HEAD(&log->chunks);
}

/* ---- pinning and mapping whole objects ---- */

/*
 * Drops the references of a whole-object pin. Reclaim moves the folios
 * of an unevictable mapping that it meets to the unevictable LRU, and
 * nothing moves them back by itself when the mapping becomes evictable
 * again: each folio is handed to check_move_unevictable_folios() before
 * its reference goes, or the object's pages could never be swapped
 * again while they live.
 */
static void swgpu_put_page_array(struct page **pages, pgoff_t count,
				 bool dirty)
{
	struct folio_batch fbatch;
	pgoff_t i;

	folio_batch_init(&fbatch);
	for (i = 0; i < count; i++) {
		struct folio *folio = page_folio(pages[i]);

		/* Dirty while still held, so reclaim cannot drop the data. */
		if (dirty)
			folio_mark_dirty(folio);
		folio_mark_accessed(folio);
		if (!folio_batch_add(&fbatch, folio)) {
			check_move_unevictable_folios(&fbatch);
			folio_batch_release(&fbatch);
		}
	}
	if (folio_batch_count(&fbatch)) {
		check_move_unevictable_folios(&fbatch);
		folio_batch_release(&fbatch);
	}
}

/*
 * Every page of the object, as drm_gem_get_pages() gets them but with
 * swgpu_populate_gfp() and a way out for a task that is being killed:
 * a device mapping or vmap of a large object is the largest allocation a
 * client can ask for in one call.
 */
static struct page **swgpu_object_get_page_array(struct swgpu_object *obj)
{
	pgoff_t i, n = swgpu_obj_npages(obj);
	struct swgpu_alloc_log log;
	struct page **pages;
	int ret = 0;

	pages = kvmalloc_array(n, sizeof(*pages),
			       GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!pages)
		return ERR_PTR(-ENOMEM);

	swgpu_alloc_log_init(&log);
	for (i = 0; i < n; i++) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		ret = swgpu_object_get_page(obj, i, &pages[i], &log, false);
		if (ret)
			break;
		cond_resched();
	}
	if (ret) {
		swgpu_put_page_array(pages, i, false);
		/*
		 * Nothing was written: release only drops clean pages, which
		 * needs no object lock (the caller holds it).
		 */
		swgpu_alloc_log_release(&log);
		kvfree(pages);
		return ERR_PTR(ret);
	}
	swgpu_alloc_log_fini(&log);
	return pages;
}

/**
 * swgpu_object_pin_pages - pin every page of an object
 * @obj: a swgpu-backed (not imported) object
 *
 * Allocates or swaps in the pages not yet resident, charged to the
 * caller's memory cgroup. Balanced by swgpu_object_unpin_pages().
 *
 * Return: 0; -ENOMEM when memory (or the caller's cgroup) is exhausted,
 * -EINTR when the caller is being killed, or another errno from shmem;
 * nothing is pinned on failure and the pages it allocated are given back.
 */
int swgpu_object_pin_pages(struct swgpu_object *obj)
{
	struct page **pages;
	int ret = 0;

	mutex_lock(&obj->lock);
	if (obj->pages_pin_count) {
		obj->pages_pin_count++;
		goto out;
	}

	pages = swgpu_object_get_page_array(obj);
	if (IS_ERR(pages)) {
		ret = PTR_ERR(pages);
		goto out;
	}
	/* Pinned pages are no use to reclaim: keep it from scanning them. */
	mapping_set_unevictable(obj->base.filp->f_mapping);
	obj->pages = pages;
	obj->pages_pin_count = 1;
	atomic_long_add(swgpu_obj_npages(obj), &obj->pinned_pages);
out:
	mutex_unlock(&obj->lock);
	return ret;
}

/**
 * swgpu_object_unpin_pages - drop a pin taken by swgpu_object_pin_pages()
 * @obj: the object
 *
 * The last unpin releases the pages to shmem, marked dirty so that what
 * was written through DMA or a kernel mapping survives swapping.
 */
void swgpu_object_unpin_pages(struct swgpu_object *obj)
{
	mutex_lock(&obj->lock);
	if (WARN_ON(!obj->pages_pin_count))
		goto out;
	if (--obj->pages_pin_count)
		goto out;

	mapping_clear_unevictable(obj->base.filp->f_mapping);
	swgpu_put_page_array(obj->pages, swgpu_obj_npages(obj), true);
	kvfree(obj->pages);
	obj->pages = NULL;
	atomic_long_sub(swgpu_obj_npages(obj), &obj->pinned_pages);
out:
	mutex_unlock(&obj->lock);
}

/**
 * swgpu_object_vmap - map a whole object into kernel address space
 * @obj: a swgpu-backed object
 * @vaddr: out: the kernel address of the first byte
 *
 * Pins the pages for as long as the mapping lives. Balanced by
 * swgpu_object_vunmap().
 *
 * Return: 0, or -ENOMEM with nothing pinned or mapped.
 */
int swgpu_object_vmap(struct swgpu_object *obj, void **vaddr)
{
	void *addr;
	int ret;

	ret = swgpu_object_pin_pages(obj);
	if (ret)
		return ret;

	mutex_lock(&obj->lock);
	if (!obj->vmap_count) {
		addr = vmap(obj->pages, swgpu_obj_npages(obj), VM_MAP,
			    PAGE_KERNEL);
		if (!addr) {
			mutex_unlock(&obj->lock);
			swgpu_object_unpin_pages(obj);
			return -ENOMEM;
		}
		obj->vaddr = addr;
	}
	obj->vmap_count++;
	*vaddr = obj->vaddr;
	mutex_unlock(&obj->lock);
	return 0;
}

/**
 * swgpu_object_vunmap - drop a mapping taken by swgpu_object_vmap()
 * @obj: the object
 */
void swgpu_object_vunmap(struct swgpu_object *obj)
{
	mutex_lock(&obj->lock);
	if (WARN_ON(!obj->vmap_count)) {
		mutex_unlock(&obj->lock);
		return;
	}
	if (!--obj->vmap_count) {
		vunmap(obj->vaddr);
		obj->vaddr = NULL;
	}
	mutex_unlock(&obj->lock);
	swgpu_object_unpin_pages(obj);
}

/*
 * What a populate on a client's behalf leaves to everybody else: a 32nd
 * of memory, at least 16 MiB, counting free swap. __GFP_RETRY_MAYFAIL
 * keeps the OOM killer from acting for the populate itself, but a job
 * that takes memory down to the allocator's last reserve makes any other
 * process's page fault meanwhile invoke it (measured on 6.12 without
 * swap: a process faulting in anonymous memory beside a FILL of 1.5x the
 * memory was OOM-killed; swgpu_pressure@fill-beyond-ram-noswap-bystander).
 * So a populate stops with -ENOMEM while that much is still available.
 */
static bool swgpu_memory_short(void)
{
	long reserve = max_t(long, totalram_pages() / 32, SZ_16M >> PAGE_SHIFT);

	/* Much free memory is enough; the full sum costs more. */
	if ((long)global_zone_page_state(NR_FREE_PAGES) > 2 * reserve)
		return false;
	return si_mem_available() + get_nr_swap_pages() < reserve;
}

/**
 * swgpu_object_get_page - get one page of an object, allocating it if need be
 * @obj: a swgpu-backed object
 * @index: page index
 * @page: out: the page, with a reference the caller must put
 * @log: if not NULL, where a page allocated for a hole is logged
 * @written: the caller will write the page (see swgpu_alloc_log_release())
 *
 * Allocates with swgpu_populate_gfp(), charged to the active memory
 * cgroup (the engine sets the submitter's) or the caller's.
 *
 * Return: 0 or -ENOMEM (shmem's -ENOSPC for lack of memory included, and,
 * for a hole with @log set, memory short of the reserve the populate
 * leaves to others: swgpu_memory_short()).
 */
int swgpu_object_get_page(struct swgpu_object *obj, pgoff_t index,
			  struct page **page, struct swgpu_alloc_log *log,
			  bool written)
{
	struct address_space *mapping = obj->base.filp->f_mapping;
	bool hole = false;
	struct page *p;
	int ret;

	/*
	 * A hole has no entry at all; a swapped-out page has a value entry
	 * and holds data, so it is not the populate's to give back.
	 */
	if (log && !xa_load(&mapping->i_pages, index)) {
		if (swgpu_memory_short())
			return -ENOMEM;
		ret = swgpu_alloc_log_reserve(log, obj, index, written);
		if (ret)
			return ret;
		hole = true;
	}

	p = shmem_read_mapping_page_gfp(mapping, index, swgpu_populate_gfp(obj));
	if (IS_ERR(p)) {
		ret = PTR_ERR(p);
		return ret == -ENOSPC ? -ENOMEM : ret;
	}
	if (hole) {
		struct folio *folio = page_folio(p);

		/*
		 * On a huge-page object a hole may have been filled with a
		 * whole huge folio, every page of which was a hole: shmem
		 * allocates one only where the range is empty. Pages only
		 * read are logged as the whole folio, so that giving them
		 * back drops it (page cache
		 * invalidation leaves folios that stick out of its range
		 * alone). Pages the caller writes are logged one by one:
		 * punching the rest out could lose what a user mapping
		 * wrote there meanwhile; a punch into a huge folio zeroes
		 * the page and splits the folio where it can.
		 */
		if (!written && folio_test_large(folio))
			swgpu_alloc_log_add(log, obj, folio->index,
					    folio_nr_pages(folio), false);
		else
			swgpu_alloc_log_add(log, obj, index, 1, written);
	}
	*page = p;
	return 0;
}

/*
 * Puts @page's new reference where @prev, the entry before it, is a page
 * of the same folio: a run of one folio's pages in a page array holds one
 * reference (swgpu_object_get_pages()).
 */
static void swgpu_pages_merge_run(struct page *prev, struct page *page)
{
	if (page_folio(prev) == page_folio(page))
		folio_put(page_folio(page));
}

/**
 * swgpu_object_get_pages - get consecutive pages of an object, allocating
 *	what is missing
 * @obj: a swgpu-backed object
 * @first: first page index
 * @count: number of pages
 * @pages: out: @count pages, with a reference per run of pages of one
 *	folio, which swgpu_object_put_pages() puts
 * @log: as for swgpu_object_get_page()
 * @written: as for swgpu_object_get_page()
 *
 * swgpu_object_get_page() for each page of the range, but the resident
 * ones are found in batches of folios, one walk of the page cache and one
 * reference per folio; only holes and swapped-out pages go the way of
 * one page at a time. A reference per folio rather than per page: the
 * engine pins every page it writes this way, and under QEMU's TCG each
 * atomic reference count update is a call out of translated code.
 *
 * Return: 0, or swgpu_object_get_page()'s error with no reference held
 * (the pages allocated stay logged).
 */
int swgpu_object_get_pages(struct swgpu_object *obj, pgoff_t first,
			   pgoff_t count, struct page **pages,
			   struct swgpu_alloc_log *log, bool written)
{
	struct address_space *mapping = obj->base.filp->f_mapping;
	pgoff_t i = first, last = first + count - 1;
	struct folio_batch fbatch;
	int ret = 0;

	folio_batch_init(&fbatch);
	while (!ret && i <= last) {
		pgoff_t next = i;
		unsigned int f, nr;

		nr = filemap_get_folios_contig(mapping, &next, last, &fbatch);
		for (f = 0; f < nr; f++) {
			struct folio *folio = fbatch.folios[f];
			pgoff_t end = min(folio_next_index(folio) - 1, last);

			/* Not ready for a CPU: shmem's own path deals with it. */
			if (ret || folio->index > i || !folio_test_uptodate(folio) ||
			    folio_test_hwpoison(folio)) {
				folio_put(folio);
				ret = -EAGAIN;
				continue;
			}
			/*
			 * The batch's reference is the run's. Only a batch's
			 * first folio can be the one of the page before.
			 */
			if (!f && i > first)
				swgpu_pages_merge_run(pages[i - first - 1],
						      folio_page(folio, i - folio->index));
			for (; i <= end; i++)
				pages[i - first] = folio_page(folio, i - folio->index);
		}
		/* Every reference of the batch was kept or put above. */
		folio_batch_init(&fbatch);
		ret = 0;
		if (i <= last && (!nr || i < next)) {
			ret = swgpu_object_get_page(obj, i, &pages[i - first],
						    log, written);
			if (!ret && i > first)
				swgpu_pages_merge_run(pages[i - first - 1],
						      pages[i - first]);
			if (!ret)
				i++;
		}
		cond_resched();
	}
	if (ret)
		swgpu_object_put_pages(pages, i - first, false, false);
	return ret;
}

/**
 * swgpu_object_put_pages - put what swgpu_object_get_pages() got
 * @pages: its pages
 * @count: how many of them
 * @accessed: the CPU used them: mark them accessed
 * @written: the CPU wrote them: mark them dirty, while they are still
 *	held, so that reclaim cannot drop what was written
 */
void swgpu_object_put_pages(struct page **pages, pgoff_t count,
			    bool accessed, bool written)
{
	struct folio *prev = NULL;
	pgoff_t i;

	for (i = 0; i < count; i++) {
		struct folio *folio = page_folio(pages[i]);

		if (folio == prev)
			continue;
		if (prev)
			folio_put(prev);
		/* The test first spares a dirty folio a call through its a_ops. */
		if (written && !folio_test_dirty(folio))
			folio_mark_dirty(folio);
		if (accessed)
			folio_mark_accessed(folio);
		prev = folio;
	}
	if (prev)
		folio_put(prev);
}

/**
 * swgpu_object_populate - make a range of pages resident without pinning
 * @obj: a swgpu-backed object
 * @first: first page index
 * @count: number of pages
 *
 * Allocates holes and swaps in swapped-out pages, so that a CPU access
 * window that follows does not fail on them. The pages are not pinned:
 * under memory pressure they may be swapped again, and a later touch
 * brings them back, which is always safe for a CPU.
 *
 * Return: 0, -EINTR if a signal arrived, -ENOMEM. On failure the holes it
 * filled are dropped again (if nobody wrote them meanwhile), so a request
 * for more than the machine has leaves its memory as it was.
 */
int swgpu_object_populate(struct swgpu_object *obj, pgoff_t first,
			  pgoff_t count)
{
	struct swgpu_alloc_log log;
	int ret = 0;
	pgoff_t i;

	/*
	 * When the shmem file holds every page, there is nothing to
	 * allocate or swap in: a window on a fully resident buffer costs
	 * O(1), not a lookup per page.
	 */
	if (READ_ONCE(obj->base.filp->f_mapping->nrpages) ==
	    swgpu_obj_npages(obj))
		return 0;

	swgpu_alloc_log_init(&log);
	for (i = first; i < first + count; i++) {
		struct page *page;

		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}

		ret = swgpu_object_get_page(obj, i, &page, &log, false);
		if (ret)
			break;
		mark_page_accessed(page);
		put_page(page);
		cond_resched();
	}
	if (ret)
		swgpu_alloc_log_release(&log);
	else
		swgpu_alloc_log_fini(&log);
	return ret;
}

/**
 * swgpu_object_resident_pages - how many pages of an object exist in memory
 * @obj: the object
 *
 * Return: allocated, not swapped-out pages of the shmem backing; for an
 * imported object, the pages of the exporter's buffer, which the import's
 * mapping keeps resident.
 */
unsigned long swgpu_object_resident_pages(struct swgpu_object *obj)
{
	if (swgpu_obj_is_imported(obj))
		return swgpu_obj_npages(obj);
	return READ_ONCE(obj->base.filp->f_mapping->nrpages);
}

/**
 * swgpu_object_pinned_pages - how many page pins an object holds
 * @obj: the object
 *
 * Return: one per page while device mappings or vmaps exist, plus one per
 * page that kernel CPU access ranges cover (however many cover it); for
 * an imported object, the pages of the
 * exporter's buffer, which the import's mapping keeps pinned.
 */
long swgpu_object_pinned_pages(struct swgpu_object *obj)
{
	if (swgpu_obj_is_imported(obj))
		return swgpu_obj_npages(obj);
	return atomic_long_read(&obj->pinned_pages);
}

/**
 * swgpu_object_highmem_pages - how many resident pages live in highmem
 * @obj: the object
 *
 * Walks the shmem file's page cache, so it costs a step per resident
 * page: for debugfs, where it proves that buffers really use highmem on
 * 32-bit kernels (and says 0 on 64-bit ones, which have none).
 *
 * Return: resident pages above the kernel's direct map; 0 for imported
 * objects, whose pages are the exporter's.
 */
unsigned long swgpu_object_highmem_pages(struct swgpu_object *obj)
{
	XA_STATE(xas, &obj->base.filp->f_mapping->i_pages, 0);
	unsigned long n = 0;
	struct folio *folio;

	if (swgpu_obj_is_imported(obj) || !IS_ENABLED(CONFIG_HIGHMEM))
		return 0;

	rcu_read_lock();
	xas_for_each(&xas, folio, ULONG_MAX) {
		if (xas_retry(&xas, folio) || xa_is_value(folio))
			continue;
		if (PageHighMem(folio_page(folio, 0)))
			n += folio_nr_pages(folio);
	}
	rcu_read_unlock();
	return n;
}
