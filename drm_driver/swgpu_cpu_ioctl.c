// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM_IOCTL_SWGPU_CPU_ACCESS: the range CPU access contract for user space.
 *
 * User space touches pages through its mapping, which faults them in on
 * demand, so a window needs no pin: START makes the range resident and
 * coherent, END makes the CPU's writes visible to devices. Nothing is
 * held between the two, so a process that never calls END leaks nothing.
 */

#include <linux/dma-buf.h>
#include <linux/overflow.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/swgpu_drm.h>

#include "swgpu_drv.h"

static enum dma_data_direction swgpu_cpu_access_dir(u32 flags)
{
	switch (flags & SWGPU_CPU_ACCESS_RW) {
	case SWGPU_CPU_ACCESS_READ:
		return DMA_FROM_DEVICE;
	case SWGPU_CPU_ACCESS_WRITE:
		return DMA_TO_DEVICE;
	default:
		return DMA_BIDIRECTIONAL;
	}
}

static int swgpu_cpu_access_start(struct swgpu_object *obj, u64 offset,
				  u64 length, enum dma_data_direction dir)
{
	pgoff_t first = offset >> PAGE_SHIFT;
	pgoff_t last = (offset + length - 1) >> PAGE_SHIFT;

	if (swgpu_obj_is_imported(obj))
		return swgpu_foreign_sync_begin(obj->base.import_attach->dmabuf,
						dir);
	return swgpu_object_begin_user_window(obj, first, last - first + 1,
					      dir);
}

static int swgpu_cpu_access_end(struct swgpu_object *obj,
				enum dma_data_direction dir)
{
	if (swgpu_obj_is_imported(obj))
		return swgpu_foreign_sync_end(obj->base.import_attach->dmabuf,
					      dir);
	swgpu_object_end_user_window(obj);
	return 0;
}

/**
 * swgpu_cpu_access_ioctl - DRM_IOCTL_SWGPU_CPU_ACCESS
 * @dev: the swgpu DRM device
 * @data: struct drm_swgpu_cpu_access
 * @file: the caller's DRM file
 *
 * Return: 0; -EINVAL for bad flags, padding or range; -ENOENT for a bad
 * handle; -EINTR/-ERESTARTSYS or -ENOMEM from START.
 */
int swgpu_cpu_access_ioctl(struct drm_device *dev, void *data,
			   struct drm_file *file)
{
	struct drm_swgpu_cpu_access *args = data;
	struct drm_gem_object *gem;
	enum dma_data_direction dir;
	u64 end;
	int ret;

	if (args->pad || args->flags & ~SWGPU_CPU_ACCESS_FLAGS ||
	    !(args->flags & SWGPU_CPU_ACCESS_RW))
		return -EINVAL;
	if (!args->length || check_add_overflow(args->offset, args->length,
						&end))
		return -EINVAL;

	gem = drm_gem_object_lookup(file, args->handle);
	if (!gem)
		return -ENOENT;

	if (end > gem->size) {
		ret = -EINVAL;
		goto out;
	}

	dir = swgpu_cpu_access_dir(args->flags);
	if (args->flags & SWGPU_CPU_ACCESS_END)
		ret = swgpu_cpu_access_end(to_swgpu_obj(gem), dir);
	else
		ret = swgpu_cpu_access_start(to_swgpu_obj(gem), args->offset,
					     args->length, dir);
out:
	drm_gem_object_put(gem);
	return ret;
}
