// SPDX-License-Identifier: GPL-2.0-only
/*
 * swgpu GEM objects: creation, destruction, mmap and the ioctls that make
 * and map them.
 *
 * An object swgpu backs itself is a shmem file and nothing else: no page
 * is allocated at create or at mmap. A user mapping is handed over to the
 * shmem file itself, so faults allocate exactly the pages touched, and
 * unpinned pages stay reclaimable by shmem's own swapping; swgpu only
 * wraps the mapping's operations so that it keeps the module loaded.
 */

#include <linux/anon_inodes.h>
#include <linux/dma-buf.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_prime.h>
#include <drm/drm_vma_manager.h>
#include <drm/swgpu_drm.h>

#include "swgpu_compat.h"
#include "swgpu_drv.h"

static void swgpu_gem_free(struct drm_gem_object *gem)
{
	struct swgpu_object *obj = to_swgpu_obj(gem);

	if (swgpu_obj_is_imported(obj))
		drm_prime_gem_destroy(gem, obj->import_sgt);

	/* Every pin is owned by something that holds a reference. */
	WARN_ON(obj->pages_pin_count || obj->vmap_count ||
		!xa_empty(&obj->cpu_pages));
	xa_destroy(&obj->cpu_pages);

	drm_gem_object_release(gem);
	mutex_destroy(&obj->lock);
	kfree(obj);
}

static int swgpu_gem_mmap(struct drm_gem_object *gem,
			  struct vm_area_struct *vma)
{
	struct swgpu_object *obj = to_swgpu_obj(gem);
	int ret;

	if (swgpu_obj_is_imported(obj)) {
		/* The exporter owns the pages; let it map them. */
		vma->vm_private_data = NULL;
		vma->vm_ops = NULL;
		ret = dma_buf_mmap(gem->import_attach->dmabuf, vma, 0);
	} else {
		/* drm_gem_mmap() looked the object up by its fake offset. */
		vma->vm_pgoff -= drm_vma_node_start(&gem->vma_node);
		ret = swgpu_object_mmap_shmem(obj, vma);
	}
	if (ret)
		return ret;

	/*
	 * The mapping no longer calls back into swgpu, so nothing would
	 * drop the reference drm_gem_mmap_obj() took for it.
	 */
	drm_gem_object_put(gem);
	return 0;
}

static const struct drm_gem_object_funcs swgpu_gem_funcs = {
	.free = swgpu_gem_free,
	.export = swgpu_gem_prime_export,
	.mmap = swgpu_gem_mmap,
};

/*
 * A user mapping keeps the module loaded, as vgem's do: its vm_ops are
 * this module's code. The mapping's file must stay the shmem file (shmem's
 * fault and map_pages find the pages through it), so the module is held by
 * a second, private file: an anonymous-inode file whose file_operations
 * name this module as owner, made for each mmap and referenced by every
 * VMA of that mapping (fork and splits call .open, every unmap .close).
 * Its private_data is shmem's vm_ops, which every operation calls on.
 *
 * The last .close drops the last reference with fput(), which defers the
 * release, and so the module_put, to the VFS after this code returned: a
 * module never puts its own last reference from inside its own code.
 */
static const struct file_operations swgpu_mapping_fops = {
	.owner = THIS_MODULE,
};

static const struct vm_operations_struct *swgpu_shmem_ops(struct vm_area_struct *vma)
{
	struct file *pin = vma->vm_private_data;

	return pin->private_data;
}

static void swgpu_vm_open(struct vm_area_struct *vma)
{
	const struct vm_operations_struct *ops = swgpu_shmem_ops(vma);

	get_file(vma->vm_private_data);
	if (ops->open)
		ops->open(vma);
}

static void swgpu_vm_close(struct vm_area_struct *vma)
{
	const struct vm_operations_struct *ops = swgpu_shmem_ops(vma);

	if (ops->close)
		ops->close(vma);
	fput(vma->vm_private_data);
}

static vm_fault_t swgpu_vm_fault(struct vm_fault *vmf)
{
	return swgpu_shmem_ops(vmf->vma)->fault(vmf);
}

static vm_fault_t swgpu_vm_map_pages(struct vm_fault *vmf, pgoff_t start,
				     pgoff_t end)
{
	const struct vm_operations_struct *ops = swgpu_shmem_ops(vmf->vma);

	/* Without it the core faults the pages in one by one. */
	if (!ops->map_pages)
		return 0;
	return ops->map_pages(vmf, start, end);
}

static const struct vm_operations_struct swgpu_vm_ops = {
	.open = swgpu_vm_open,
	.close = swgpu_vm_close,
	.fault = swgpu_vm_fault,
	.map_pages = swgpu_vm_map_pages,
};

/**
 * swgpu_object_mmap_shmem - map a swgpu-backed object through its shmem file
 * @obj: the object, not imported
 * @vma: the new mapping; vm_pgoff is the page offset into the object
 *
 * The mapping is redirected to the shmem file, which then owns the pages:
 * faults allocate single pages on demand, the pages stay swappable, and the
 * mapping stays valid after the object, its handles and dma-bufs are gone.
 * The module stays loaded until the last VMA of the mapping is unmapped.
 *
 * Return: 0 or a negative errno (shmem's, or -ENOMEM).
 */
int swgpu_object_mmap_shmem(struct swgpu_object *obj,
			    struct vm_area_struct *vma)
{
	struct file *filp = obj->base.filp;
	struct file *pin;
	int ret;

	ret = vfs_mmap(filp, vma);
	if (ret)
		return ret;
	/* No shmem version has had one; swgpu_vm_fault() relies on it. */
	if (WARN_ON_ONCE(!vma->vm_ops || !vma->vm_ops->fault))
		return -ENODEV;

	/* The mmap caller's file holds this module while this runs. */
	pin = anon_inode_getfile("[swgpu-mapping]", &swgpu_mapping_fops,
				 (void *)vma->vm_ops, O_RDONLY);
	if (IS_ERR(pin))
		return PTR_ERR(pin);

	vma_set_file(vma, filp);
	vma->vm_private_data = pin;
	vma->vm_ops = &swgpu_vm_ops;
	/* drm_gem_mmap_obj() insists on it; an object never grows. */
	swgpu_vma_set_flags(vma, VM_DONTEXPAND);
	return 0;
}

static struct swgpu_object *swgpu_object_alloc(void)
{
	struct swgpu_object *obj;

	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return NULL;

	obj->base.funcs = &swgpu_gem_funcs;
	mutex_init(&obj->lock);
	INIT_LIST_HEAD(&obj->mapped_attachments);
	xa_init(&obj->cpu_pages);
	atomic_long_set(&obj->pinned_pages, 0);
	return obj;
}

/**
 * swgpu_object_create - create a lazily backed swgpu object
 * @dev: the swgpu DRM device
 * @size: size in bytes, a non-zero multiple of PAGE_SIZE
 * @huge: back it with huge pages where they fit (swgpu_gemfs_file_setup())
 *
 * As drm_gem_object_init(), but the shmem file may live on swgpu's
 * huge-page mount. Either way no page is allocated here.
 *
 * Return: the object with one reference, or an ERR_PTR.
 */
struct swgpu_object *swgpu_object_create(struct drm_device *dev, size_t size,
					 bool huge)
{
	struct swgpu_object *obj;
	struct file *filp;

	obj = swgpu_object_alloc();
	if (!obj)
		return ERR_PTR(-ENOMEM);

	drm_gem_private_object_init(dev, &obj->base, size);
	filp = swgpu_gemfs_file_setup(size, huge);
	if (IS_ERR(filp)) {
		drm_gem_object_release(&obj->base);
		mutex_destroy(&obj->lock);
		kfree(obj);
		return ERR_CAST(filp);
	}
	obj->base.filp = filp;
	return obj;
}

/**
 * swgpu_object_create_imported - create the shell of an imported object
 * @dev: the swgpu DRM device
 * @size: size of the foreign dma-buf
 *
 * Return: the object with one reference, or an ERR_PTR.
 */
struct swgpu_object *swgpu_object_create_imported(struct drm_device *dev,
						  size_t size)
{
	struct swgpu_object *obj;

	obj = swgpu_object_alloc();
	if (!obj)
		return ERR_PTR(-ENOMEM);

	drm_gem_private_object_init(dev, &obj->base, size);
	return obj;
}

/**
 * swgpu_object_create_handle - create an object and a handle to it
 * @file: the DRM file that gets the handle
 * @dev: the swgpu DRM device
 * @size: size in bytes, a non-zero multiple of PAGE_SIZE
 * @huge: back it with huge pages where they fit
 * @handle: out: the new handle
 *
 * Return: 0 or a negative errno.
 */
int swgpu_object_create_handle(struct drm_file *file, struct drm_device *dev,
			       size_t size, bool huge, u32 *handle)
{
	struct swgpu_object *obj;
	int ret;

	obj = swgpu_object_create(dev, size, huge);
	if (IS_ERR(obj))
		return PTR_ERR(obj);

	ret = drm_gem_handle_create(file, &obj->base, handle);
	/* The handle holds the object now, or creating it failed. */
	drm_gem_object_put(&obj->base);
	return ret;
}

/**
 * swgpu_gem_create_ioctl - DRM_IOCTL_SWGPU_GEM_CREATE
 * @dev: the swgpu DRM device
 * @data: struct drm_swgpu_gem_create
 * @file: the caller's DRM file
 *
 * Return: 0, -EINVAL for unknown flags or a size out of range (on 32-bit
 * kernels that includes 4 GiB and more), -ENOMEM.
 */
int swgpu_gem_create_ioctl(struct drm_device *dev, void *data,
			   struct drm_file *file)
{
	struct drm_swgpu_gem_create *args = data;
	u64 size;
	int ret;

	if (args->flags & ~SWGPU_GEM_CREATE_FLAGS)
		return -EINVAL;
	if (!args->size || args->size > SWGPU_GEM_CREATE_MAX_SIZE)
		return -EINVAL;

	size = PAGE_ALIGN(args->size);
	/* A 32-bit kernel cannot describe an object of 4 GiB or more. */
	if (size > SIZE_MAX)
		return -EINVAL;
	ret = swgpu_object_create_handle(file, dev, size,
					 args->flags & SWGPU_GEM_CREATE_HUGE,
					 &args->handle);
	if (ret)
		return ret;

	args->size = size;
	return 0;
}

/*
 * The fake offset of @handle's object, for mmap(2) on the same DRM file.
 * Imported objects get one too: swgpu_gem_mmap() maps them through their
 * exporter (dma_buf_mmap()).
 */
static int swgpu_gem_mmap_offset(struct drm_file *file, u32 handle,
				 u64 *offset)
{
	struct drm_gem_object *gem;
	int ret;

	gem = drm_gem_object_lookup(file, handle);
	if (!gem)
		return -ENOENT;

	ret = drm_gem_create_mmap_offset(gem);
	if (!ret)
		*offset = drm_vma_node_offset_addr(&gem->vma_node);

	drm_gem_object_put(gem);
	return ret;
}

/**
 * swgpu_gem_mmap_offset_ioctl - DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET
 * @dev: the swgpu DRM device
 * @data: struct drm_swgpu_gem_mmap_offset
 * @file: the caller's DRM file
 *
 * Return: 0, -EINVAL for non-zero padding, -ENOENT for a bad handle.
 */
int swgpu_gem_mmap_offset_ioctl(struct drm_device *dev, void *data,
				struct drm_file *file)
{
	struct drm_swgpu_gem_mmap_offset *args = data;

	if (args->pad)
		return -EINVAL;

	return swgpu_gem_mmap_offset(file, args->handle, &args->offset);
}

/**
 * swgpu_dumb_map_offset - DRM_IOCTL_MODE_MAP_DUMB
 * @file: the caller's DRM file
 * @dev: the swgpu DRM device
 * @handle: the object, made by swgpu or imported
 * @offset: out: the fake offset to mmap
 *
 * The DRM core's default, drm_gem_dumb_map_offset(), refuses imported
 * objects, because most drivers cannot map a foreign buffer through their
 * own file. swgpu can, as for GEM_MMAP_OFFSET; and software renderers that
 * know only dumb buffers (Mesa's kms_swrast) map every buffer they import
 * this way.
 *
 * Return: 0, -ENOENT for a bad handle, -ENOMEM.
 */
int swgpu_dumb_map_offset(struct drm_file *file, struct drm_device *dev,
			  u32 handle, u64 *offset)
{
	return swgpu_gem_mmap_offset(file, handle, offset);
}

/**
 * swgpu_dumb_create - DRM_IOCTL_MODE_CREATE_DUMB
 * @file: the caller's DRM file
 * @dev: the swgpu DRM device
 * @args: width, height and bpp in; pitch, size and handle out
 *
 * The DRM core has already refused zero and 32-bit-overflowing
 * dimensions; the object is as lazily backed as any other.
 *
 * Return: 0, -EINVAL, -ENOMEM.
 */
int swgpu_dumb_create(struct drm_file *file, struct drm_device *dev,
		      struct drm_mode_create_dumb *args)
{
	u64 pitch, size;
	int ret;

	pitch = (u64)args->width * DIV_ROUND_UP(args->bpp, 8);
	if (!pitch || pitch > U32_MAX)
		return -EINVAL;
	if (check_mul_overflow(pitch, (u64)args->height, &size) || !size)
		return -EINVAL;
	size = PAGE_ALIGN(size);
	if (size > SWGPU_GEM_CREATE_MAX_SIZE || size > SIZE_MAX)
		return -EINVAL;

	ret = swgpu_object_create_handle(file, dev, size, false, &args->handle);
	if (ret)
		return ret;

	args->pitch = pitch;
	args->size = size;
	return 0;
}
