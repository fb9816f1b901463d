// SPDX-License-Identifier: GPL-2.0-only
/*
 * PRIME: swgpu's own dma-buf exporter, and import of dma-bufs.
 *
 * swgpu exports with its own dma_buf_ops rather than the DRM core's, so
 * that CPU access (begin/end_cpu_access) is real: it waits for fences by
 * direction, makes the pages resident and makes every live DMA mapping
 * coherent for the CPU. Pages are pinned only while an attachment is
 * mapped or a kernel vmap exists.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/iosys-map.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <drm/drm_drv.h>
#include <drm/drm_prime.h>

#include "swgpu_drv.h"

/**
 * struct swgpu_attachment - swgpu's state for one importer's attachment
 * @link: entry in swgpu_object.mapped_attachments while @sgt is mapped
 * @attach: the core's attachment
 * @sgt: the importer's DMA mapping, NULL while unmapped
 * @dir: the direction @sgt was mapped for
 */
struct swgpu_attachment {
	struct list_head link;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;
	enum dma_data_direction dir;
};

static struct swgpu_object *dmabuf_to_obj(struct dma_buf *dmabuf)
{
	return to_swgpu_obj(dmabuf->priv);
}

static int swgpu_dmabuf_attach(struct dma_buf *dmabuf,
			       struct dma_buf_attachment *attach)
{
	struct swgpu_attachment *sa;

	sa = kzalloc(sizeof(*sa), GFP_KERNEL);
	if (!sa)
		return -ENOMEM;

	INIT_LIST_HEAD(&sa->link);
	sa->attach = attach;
	attach->priv = sa;
	return 0;
}

static void swgpu_dmabuf_detach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct swgpu_attachment *sa = attach->priv;

	/* The core unmaps before it detaches. */
	WARN_ON(sa->sgt);
	kfree(sa);
}

static struct sg_table *swgpu_dmabuf_map(struct dma_buf_attachment *attach,
					 enum dma_data_direction dir)
{
	struct swgpu_object *obj = dmabuf_to_obj(attach->dmabuf);
	struct swgpu_attachment *sa = attach->priv;
	struct sg_table *sgt;
	int ret;

	/* One mapping per attachment: that is all the core ever asks for. */
	if (WARN_ON(sa->sgt))
		return ERR_PTR(-EBUSY);

	ret = swgpu_object_pin_pages(obj);
	if (ret)
		return ERR_PTR(ret);

	/* obj->pages cannot change while we hold a pin. */
	sgt = drm_prime_pages_to_sg(obj->base.dev, obj->pages,
				    swgpu_obj_npages(obj));
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto err_unpin;
	}

	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret)
		goto err_free;

	mutex_lock(&obj->lock);
	sa->sgt = sgt;
	sa->dir = dir;
	list_add(&sa->link, &obj->mapped_attachments);
	mutex_unlock(&obj->lock);
	return sgt;

err_free:
	sg_free_table(sgt);
	kfree(sgt);
err_unpin:
	swgpu_object_unpin_pages(obj);
	return ERR_PTR(ret);
}

static void swgpu_dmabuf_unmap(struct dma_buf_attachment *attach,
			       struct sg_table *sgt,
			       enum dma_data_direction dir)
{
	struct swgpu_object *obj = dmabuf_to_obj(attach->dmabuf);
	struct swgpu_attachment *sa = attach->priv;

	mutex_lock(&obj->lock);
	WARN_ON(sa->sgt != sgt);
	list_del_init(&sa->link);
	sa->sgt = NULL;
	mutex_unlock(&obj->lock);

	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
	swgpu_object_unpin_pages(obj);
}

/**
 * swgpu_object_wait_for_cpu - wait for the fences a CPU access must wait for
 * @obj: the object
 * @dir: the CPU's direction: a CPU that reads (DMA_FROM_DEVICE) waits for
 *	writers, one that writes waits for readers too
 *
 * Return: 0, or -ERESTARTSYS if a signal interrupted the wait.
 */
int swgpu_object_wait_for_cpu(struct swgpu_object *obj,
			      enum dma_data_direction dir)
{
	bool cpu_writes = dir != DMA_FROM_DEVICE;
	long ret;

	ret = dma_resv_wait_timeout(obj->base.resv,
				    dma_resv_usage_rw(cpu_writes), true,
				    MAX_SCHEDULE_TIMEOUT);
	return ret < 0 ? ret : 0;
}

/**
 * swgpu_object_sync_for_cpu - make devices' writes visible to the CPU
 * @obj: the object, with its lock held
 */
void swgpu_object_sync_for_cpu(struct swgpu_object *obj)
{
	struct swgpu_attachment *sa;

	lockdep_assert_held(&obj->lock);
	list_for_each_entry(sa, &obj->mapped_attachments, link)
		dma_sync_sgtable_for_cpu(sa->attach->dev, sa->sgt, sa->dir);
}

/**
 * swgpu_object_sync_for_device - make the CPU's writes visible to devices
 * @obj: the object, with its lock held
 */
void swgpu_object_sync_for_device(struct swgpu_object *obj)
{
	struct swgpu_attachment *sa;

	lockdep_assert_held(&obj->lock);
	list_for_each_entry(sa, &obj->mapped_attachments, link)
		dma_sync_sgtable_for_device(sa->attach->dev, sa->sgt, sa->dir);
}

/**
 * swgpu_object_begin_user_window - open a CPU access window that pins nothing
 * @obj: a swgpu-backed object
 * @first: first page of the window
 * @count: pages in the window
 * @dir: the CPU's direction
 *
 * What DMA_BUF_IOCTL_SYNC and CPU_ACCESS START do: wait for the fences the
 * direction needs, make the pages resident, make device mappings coherent
 * for the CPU. Nothing is held afterwards, since user space may never
 * close the window; its mapping faults pages back in if they go.
 *
 * Return: 0, -ERESTARTSYS/-EINTR on a signal, -ENOMEM.
 */
int swgpu_object_begin_user_window(struct swgpu_object *obj, pgoff_t first,
				   pgoff_t count, enum dma_data_direction dir)
{
	int ret;

	ret = swgpu_object_wait_for_cpu(obj, dir);
	if (ret)
		return ret;

	ret = swgpu_object_populate(obj, first, count);
	if (ret)
		return ret;

	mutex_lock(&obj->lock);
	swgpu_object_sync_for_cpu(obj);
	mutex_unlock(&obj->lock);
	return 0;
}

/**
 * swgpu_object_end_user_window - close a window: CPU writes to devices
 * @obj: a swgpu-backed object
 */
void swgpu_object_end_user_window(struct swgpu_object *obj)
{
	mutex_lock(&obj->lock);
	swgpu_object_sync_for_device(obj);
	mutex_unlock(&obj->lock);
}

static int swgpu_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					 enum dma_data_direction dir)
{
	struct swgpu_object *obj = dmabuf_to_obj(dmabuf);

	return swgpu_object_begin_user_window(obj, 0, swgpu_obj_npages(obj),
					      dir);
}

static int swgpu_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
				       enum dma_data_direction dir)
{
	swgpu_object_end_user_window(dmabuf_to_obj(dmabuf));
	return 0;
}

static int swgpu_dmabuf_mmap(struct dma_buf *dmabuf,
			     struct vm_area_struct *vma)
{
	/* The core has checked that the mapping fits the buffer. */
	return swgpu_object_mmap_shmem(dmabuf_to_obj(dmabuf), vma);
}

static int swgpu_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	void *vaddr;
	int ret;

	ret = swgpu_object_vmap(dmabuf_to_obj(dmabuf), &vaddr);
	if (ret)
		return ret;

	iosys_map_set_vaddr(map, vaddr);
	return 0;
}

static void swgpu_dmabuf_vunmap(struct dma_buf *dmabuf,
				struct iosys_map *map)
{
	swgpu_object_vunmap(dmabuf_to_obj(dmabuf));
}

static const struct dma_buf_ops swgpu_dmabuf_ops = {
	.attach = swgpu_dmabuf_attach,
	.detach = swgpu_dmabuf_detach,
	.map_dma_buf = swgpu_dmabuf_map,
	.unmap_dma_buf = swgpu_dmabuf_unmap,
	.release = drm_gem_dmabuf_release,
	.begin_cpu_access = swgpu_dmabuf_begin_cpu_access,
	.end_cpu_access = swgpu_dmabuf_end_cpu_access,
	.mmap = swgpu_dmabuf_mmap,
	.vmap = swgpu_dmabuf_vmap,
	.vunmap = swgpu_dmabuf_vunmap,
};

/**
 * swgpu_is_own_dma_buf - whether swgpu exported a dma-buf
 * @dmabuf: any dma-buf
 *
 * Return: true if @dmabuf's pages are a swgpu object's own.
 */
bool swgpu_is_own_dma_buf(const struct dma_buf *dmabuf)
{
	return dmabuf->ops == &swgpu_dmabuf_ops;
}

/*
 * The kernel CPU access contract needs an exporter that can begin and end
 * CPU access and map pages; export refuses a buffer that could not honour
 * it rather than fail its importers later, as dma-buf export once did.
 */
static bool swgpu_dmabuf_ops_complete(const struct dma_buf_ops *ops)
{
	return ops->map_dma_buf && ops->unmap_dma_buf && ops->release &&
	       ops->begin_cpu_access && ops->end_cpu_access && ops->mmap &&
	       ops->vmap && ops->vunmap;
}

/**
 * swgpu_gem_prime_export - export a swgpu object as a dma-buf
 * @gem: the object; never an imported one (the core re-exports those
 *	as the original dma-buf)
 * @flags: file flags for the dma-buf (O_CLOEXEC, O_RDWR)
 *
 * Return: the dma-buf, holding a reference on @gem and on the device, or
 * an ERR_PTR.
 */
struct dma_buf *swgpu_gem_prime_export(struct drm_gem_object *gem, int flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);

	if (WARN_ON(!swgpu_dmabuf_ops_complete(&swgpu_dmabuf_ops)))
		return ERR_PTR(-EINVAL);

	exp_info.ops = &swgpu_dmabuf_ops;
	exp_info.size = gem->size;
	exp_info.flags = flags;
	exp_info.priv = gem;
	exp_info.resv = gem->resv;

	return drm_gem_dmabuf_export(gem->dev, &exp_info);
}

/**
 * swgpu_gem_prime_import - import a dma-buf into swgpu
 * @dev: the swgpu DRM device
 * @dma_buf: the buffer
 *
 * A dma-buf that swgpu exported from this device comes back as the very
 * same object; any other is attached and mapped through the DRM core.
 *
 * Return: the object with a new reference, or an ERR_PTR.
 */
struct drm_gem_object *swgpu_gem_prime_import(struct drm_device *dev,
					      struct dma_buf *dma_buf)
{
	if (swgpu_is_own_dma_buf(dma_buf)) {
		struct drm_gem_object *gem = dma_buf->priv;

		if (gem->dev == dev) {
			drm_gem_object_get(gem);
			return gem;
		}
	}
	return drm_gem_prime_import_dev(dev, dma_buf, dev->dev);
}

/**
 * swgpu_gem_prime_import_sg_table - wrap an attached foreign buffer
 * @dev: the swgpu DRM device
 * @attach: the attachment the core made
 * @sgt: its mapping, which the object keeps until it is freed
 *
 * Return: the new object, or an ERR_PTR.
 */
struct drm_gem_object *
swgpu_gem_prime_import_sg_table(struct drm_device *dev,
				struct dma_buf_attachment *attach,
				struct sg_table *sgt)
{
	struct swgpu_object *obj;

	obj = swgpu_object_create_imported(dev, attach->dmabuf->size);
	if (IS_ERR(obj))
		return ERR_CAST(obj);

	obj->import_sgt = sgt;
	return &obj->base;
}
