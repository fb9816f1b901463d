// SPDX-License-Identifier: GPL-2.0-only
/*
 * swgpu's own tmpfs mount, for objects backed by huge pages.
 *
 * The kernel's shared shmem mount (shm_mnt) allocates huge pages only as
 * /sys/kernel/mm/transparent_hugepage/shmem_enabled says, which is
 * "never" by default. A private tmpfs mount with huge=within_size gives
 * the files made on it 2 MiB folios wherever a whole one fits inside the
 * file, and 4 KiB pages for the rest; nothing else changes: the pages are
 * still allocated on first touch, still swappable (a huge folio is split
 * on its way to swap), and the files are still shmem files.
 *
 * The mount is made once, at module load, when the kernel has transparent
 * huge pages. Without it, objects asked to be huge are ordinary objects.
 */

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/huge_mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/shmem_fs.h>

#include "swgpu_compat.h"
#include "swgpu_drv.h"

static struct vfsmount *swgpu_huge_mnt;

static bool huge_pages;
module_param(huge_pages, bool, 0444);
MODULE_PARM_DESC(huge_pages,
		 "Back every object with huge pages where they fit, as with SWGPU_GEM_CREATE_HUGE (default: false: 4 KiB pages, each allocated on first touch)");

static struct vfsmount *swgpu_gemfs_mount(void)
{
	struct file_system_type *type;
	struct fs_context *fc;
	struct vfsmount *mnt;
	int ret;

	type = get_fs_type("tmpfs");
	if (!type)
		return ERR_PTR(-ENODEV);

	/* tmpfs is built in: get_fs_type() took no module reference. */
	fc = fs_context_for_mount(type, SB_KERNMOUNT);
	if (IS_ERR(fc))
		return ERR_CAST(fc);

	ret = swgpu_parse_fs_string(fc, "huge", "within_size");
	if (ret)
		mnt = ERR_PTR(ret);
	else
		mnt = swgpu_fc_mount_longterm(fc);
	put_fs_context(fc);
	return mnt;
}

/**
 * swgpu_gemfs_init - make the huge-page mount, if the kernel can
 *
 * Never fails: without transparent huge pages (or when the mount cannot
 * be made) huge objects are backed like all others, and the reason is
 * logged.
 */
void swgpu_gemfs_init(void)
{
	struct vfsmount *mnt;

	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) ||
	    !has_transparent_hugepage()) {
		pr_info("swgpu: no transparent huge pages: huge objects use 4 KiB pages\n");
		return;
	}

	mnt = swgpu_gemfs_mount();
	if (IS_ERR(mnt)) {
		pr_notice("swgpu: no huge tmpfs mount (%pe): huge objects use 4 KiB pages\n",
			  mnt);
		return;
	}
	swgpu_huge_mnt = mnt;
}

/**
 * swgpu_gemfs_fini - drop the huge-page mount
 *
 * Files made on it hold the mount until their last reference goes.
 */
void swgpu_gemfs_fini(void)
{
	if (swgpu_huge_mnt)
		kern_unmount(swgpu_huge_mnt);
	swgpu_huge_mnt = NULL;
}

/**
 * swgpu_gemfs_file_setup - make the shmem file that backs a new object
 * @size: the object's size
 * @huge: the creator asked for huge pages
 *
 * Return: a shmem file on the huge-page mount when @huge or the
 * huge_pages module parameter asks for it and the mount exists, else on
 * the kernel's shared one; or an ERR_PTR.
 */
struct file *swgpu_gemfs_file_setup(size_t size, bool huge)
{
	if ((huge || huge_pages) && swgpu_huge_mnt)
		return shmem_file_setup_with_mnt(swgpu_huge_mnt, "swgpu huge object",
						 size, SWGPU_SHMEM_NORESERVE);
	return shmem_file_setup("drm mm object", size, SWGPU_SHMEM_NORESERVE);
}
