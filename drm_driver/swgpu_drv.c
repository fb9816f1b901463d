// SPDX-License-Identifier: GPL-2.0-only
/*
 * swgpu: a DRM/GEM driver for a software GPU.
 *
 * This file registers the device and the driver: one DRM device with a
 * primary and a render node, hung off a platform device so that importers
 * have a struct device to map DMA against.
 */

#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_prime.h>
#include <drm/swgpu_drm.h>

#include "swgpu_compat.h"
#include "swgpu_drv.h"

#define DRIVER_DESC	"Software GPU with shmem-backed PRIME buffers"
#define DRIVER_MAJOR	1
#define DRIVER_MINOR	0

static struct swgpu_device *swgpu_device;

/* Built as vgem.ko (Kbuild: SWGPU_MODNAME=vgem), it is vgem by default. */
#ifdef SWGPU_AS_VGEM
static bool vgem_compat = true;
#else
static bool vgem_compat;
#endif
module_param(vgem_compat, bool, 0444);
MODULE_PARM_DESC(vgem_compat,
		 "Register the DRM driver as \"vgem\", so vgem clients use swgpu (default: false; true when built as vgem.ko)");

static int swgpu_open(struct drm_device *dev, struct drm_file *file)
{
	struct swgpu_file *sfile;

	sfile = kzalloc(sizeof(*sfile), GFP_KERNEL);
	if (!sfile)
		return -ENOMEM;

	sfile->queue = swgpu_queue_create(&to_swgpu_dev(dev)->engine);
	if (!sfile->queue) {
		kfree(sfile);
		return -ENOMEM;
	}
	swgpu_fence_file_init(sfile);
	file->driver_priv = sfile;
	return 0;
}

static void swgpu_postclose(struct drm_device *dev, struct drm_file *file)
{
	struct swgpu_file *sfile = file->driver_priv;

	swgpu_queue_close(sfile->queue);
	swgpu_fence_file_fini(sfile);
	kfree(sfile);
}

static const struct drm_ioctl_desc swgpu_ioctls[] = {
	DRM_IOCTL_DEF_DRV(SWGPU_FENCE_ATTACH, swgpu_fence_attach_ioctl,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(SWGPU_FENCE_SIGNAL, swgpu_fence_signal_ioctl,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(SWGPU_GEM_CREATE, swgpu_gem_create_ioctl,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(SWGPU_GEM_MMAP_OFFSET, swgpu_gem_mmap_offset_ioctl,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(SWGPU_CPU_ACCESS, swgpu_cpu_access_ioctl,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(SWGPU_SUBMIT, swgpu_submit_ioctl, DRM_RENDER_ALLOW),
};

static const struct file_operations swgpu_fops = {
	.owner = THIS_MODULE,
	DRM_GEM_FOPS,
	SWGPU_GEM_GET_UNMAPPED_AREA
};

/* Not const: vgem_compat renames it before it is registered. */
static struct drm_driver swgpu_driver = {
	/*
	 * Syncobjs, binary and timeline: the DRM core's objects and ioctls
	 * (create, wait, signal, transfer, sync_file import/export, eventfd),
	 * for user space to synchronise through, on both nodes.
	 */
	.driver_features = DRIVER_GEM | DRIVER_RENDER | DRIVER_SYNCOBJ |
			   DRIVER_SYNCOBJ_TIMELINE,
	.open = swgpu_open,
	.postclose = swgpu_postclose,
	.ioctls = swgpu_ioctls,
	.num_ioctls = ARRAY_SIZE(swgpu_ioctls),
	.fops = &swgpu_fops,

	.dumb_create = swgpu_dumb_create,
	/* Imported objects too, unlike the core's default. */
	.dumb_map_offset = swgpu_dumb_map_offset,

	.prime_handle_to_fd = drm_gem_prime_handle_to_fd,
	.prime_fd_to_handle = drm_gem_prime_fd_to_handle,
	.gem_prime_import = swgpu_gem_prime_import,
	.gem_prime_import_sg_table = swgpu_gem_prime_import_sg_table,

	.debugfs_init = swgpu_debugfs_init,

	.name = SWGPU_DRIVER_NAME,
	.desc = DRIVER_DESC,
	.major = DRIVER_MAJOR,
	.minor = DRIVER_MINOR,
	SWGPU_DRM_DRIVER_DATE
};

static int __init swgpu_init(void)
{
	struct platform_device *pdev;
	struct swgpu_device *sdev;
	int ret;

	/*
	 * Only the DRM driver takes vgem's name: the platform device keeps
	 * swgpu's, so the in-tree vgem can be loaded at the same time.
	 */
	if (vgem_compat)
		swgpu_driver.name = "vgem";

	swgpu_cpu_access_init();
	swgpu_gemfs_init();

	pdev = platform_device_register_simple(SWGPU_DRIVER_NAME, -1, NULL, 0);
	if (IS_ERR(pdev)) {
		ret = PTR_ERR(pdev);
		goto err_gemfs;
	}

	/* devm resources of the DRM device die with this group. */
	if (!devres_open_group(&pdev->dev, NULL, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto err_unregister_pdev;
	}

	/* Importers' buffers may be anywhere in memory: no DMA limits. */
	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_release_group;

	sdev = devm_drm_dev_alloc(&pdev->dev, &swgpu_driver,
				  struct swgpu_device, drm);
	if (IS_ERR(sdev)) {
		ret = PTR_ERR(sdev);
		goto err_release_group;
	}
	sdev->platform = pdev;

	ret = swgpu_engine_init(&sdev->engine, sdev->drm.dev);
	if (ret)
		goto err_release_group;

	ret = drm_dev_register(&sdev->drm, 0);
	if (ret)
		goto err_engine;

	swgpu_device = sdev;
	return 0;

err_engine:
	swgpu_engine_fini(&sdev->engine);
err_release_group:
	devres_release_group(&pdev->dev, NULL);
err_unregister_pdev:
	platform_device_unregister(pdev);
err_gemfs:
	swgpu_gemfs_fini();
	return ret;
}

static void __exit swgpu_exit(void)
{
	struct platform_device *pdev = swgpu_device->platform;

	drm_dev_unregister(&swgpu_device->drm);
	/* No file is left, and every job's fence held the module. */
	swgpu_engine_fini(&swgpu_device->engine);
	devres_release_group(&pdev->dev, NULL);
	platform_device_unregister(pdev);
	swgpu_gemfs_fini();
}

module_init(swgpu_init);
module_exit(swgpu_exit);

MODULE_AUTHOR("The swgpu developers");
MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DMA_BUF");
