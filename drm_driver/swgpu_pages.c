// SPDX-License-Identifier: GPL-2.0-only
/*
 * Backing pages of swgpu objects: populating, pinning and kernel mappings.
 *
 * Pages live in the object's shmem file. They are allocated when first
 * touched and pinned only while something needs them to stay put (a DMA
 * mapping of an attachment, a kernel vmap); unpinned pages can be swapped
 * out by shmem and are read back on the next touch.
 */

#include <linux/err.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/swap.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>
#include <drm/drm_gem.h>

#include "swgpu_drv.h"

/**
 * swgpu_object_pin_pages - pin every page of an object
 * @obj: a swgpu-backed (not imported) object
 *
 * Allocates or swaps in the pages not yet resident. Balanced by
 * swgpu_object_unpin_pages().
 *
 * Return: 0, or -ENOMEM (or another errno from shmem) with nothing pinned.
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

	pages = drm_gem_get_pages(&obj->base);
	if (IS_ERR(pages)) {
		ret = PTR_ERR(pages);
		goto out;
	}
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

	drm_gem_put_pages(&obj->base, obj->pages, true, true);
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

/**
 * swgpu_object_get_page - get one page of an object, allocating it if need be
 * @obj: a swgpu-backed object
 * @index: page index
 * @page: out: the page, with a reference the caller must put
 *
 * Return: 0 or -ENOMEM (shmem's -ENOSPC for lack of memory included).
 */
int swgpu_object_get_page(struct swgpu_object *obj, pgoff_t index,
			  struct page **page)
{
	struct page *p;

	p = shmem_read_mapping_page(obj->base.filp->f_mapping, index);
	if (IS_ERR(p)) {
		int ret = PTR_ERR(p);

		return ret == -ENOSPC ? -ENOMEM : ret;
	}
	*page = p;
	return 0;
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
 * Return: 0, -EINTR if a signal arrived, -ENOMEM.
 */
int swgpu_object_populate(struct swgpu_object *obj, pgoff_t first,
			  pgoff_t count)
{
	pgoff_t i;

	/*
	 * When the shmem file holds every page, there is nothing to
	 * allocate or swap in: a window on a fully resident buffer costs
	 * O(1), not a lookup per page.
	 */
	if (READ_ONCE(obj->base.filp->f_mapping->nrpages) ==
	    swgpu_obj_npages(obj))
		return 0;

	for (i = first; i < first + count; i++) {
		struct page *page;
		int ret;

		if (signal_pending(current))
			return -EINTR;

		ret = swgpu_object_get_page(obj, i, &page);
		if (ret)
			return ret;
		mark_page_accessed(page);
		put_page(page);
		cond_resched();
	}
	return 0;
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
