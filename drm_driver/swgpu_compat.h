/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Differences between the kernels swgpu builds against (6.1 LTS up to the
 * newest release candidate, tools/kernels.conf), absorbed here so the
 * driver reads as written for the newest kernel. Kbuild defines
 * SWGPU_OLD_* when the headers lack the newer interface.
 */
#ifndef _SWGPU_COMPAT_H_
#define _SWGPU_COMPAT_H_

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/huge_mm.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/timer.h>
#include <drm/drm_file.h>
#include <drm/gpu_scheduler.h>

/* struct folio_batch left pagevec.h for folio_batch.h after 6.12. */
#ifdef SWGPU_OLD_PAGEVEC_H
#include <linux/pagevec.h>
#else
#include <linux/folio_batch.h>
#endif

/* vm_flags became write-protected behind helpers in 6.3. */
static inline void swgpu_vma_set_flags(struct vm_area_struct *vma,
				       unsigned long flags)
{
#ifdef SWGPU_OLD_VM_FLAGS
	vma->vm_flags |= flags;
#else
	vm_flags_set(vma, flags);
#endif
}

/* drm_file::pid became RCU-protected in 6.8, when render nodes began
 * tracking the last process to use the file.
 */
static inline pid_t swgpu_file_pid_nr(struct drm_file *file)
{
#ifdef SWGPU_OLD_FILE_PID
	return pid_nr(file->pid);
#else
	pid_t nr;

	rcu_read_lock();
	nr = pid_nr(rcu_dereference(file->pid));
	rcu_read_unlock();
	return nr;
#endif
}

/* dma_buf_vmap() began to expect the reservation lock held in 6.2. */
#ifdef SWGPU_OLD_DMA_BUF_VMAP
#define swgpu_dma_buf_vmap_unlocked	dma_buf_vmap
#define swgpu_dma_buf_vunmap_unlocked	dma_buf_vunmap
#else
#define swgpu_dma_buf_vmap_unlocked	dma_buf_vmap_unlocked
#define swgpu_dma_buf_vunmap_unlocked	dma_buf_vunmap_unlocked
#endif

/* Symbol namespaces are named by strings since 6.13. */
#ifdef SWGPU_OLD_IMPORT_NS
#undef MODULE_IMPORT_NS
#define MODULE_IMPORT_NS(ns)	MODULE_INFO(import_ns, ns)
#endif

/*
 * struct drm_driver lost its date in 6.14; before that DRM_IOCTL_VERSION
 * copies it with strlen(), so it must be set. Goes last in the driver's
 * initializer.
 */
#ifdef SWGPU_OLD_DRIVER_DATE
#define SWGPU_DRM_DRIVER_DATE	.date = "20261130",
#else
#define SWGPU_DRM_DRIVER_DATE
#endif

/* from_timer() was renamed in 6.16. */
#ifdef SWGPU_OLD_TIMER_CONTAINER_OF
#define timer_container_of(var, callback_timer, timer_fieldname) \
	from_timer(var, callback_timer, timer_fieldname)
#endif

/*
 * Handing a mapping to another file's mmap: since 6.17 shmem implements
 * only f_op->mmap_prepare, and vfs_mmap() calls whichever the file has.
 */
#ifdef SWGPU_OLD_VFS_MMAP
static inline int vfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	return call_mmap(file, vma);
}
#endif

/*
 * drm_sched: jobs took a credit count and the submitting client's id in
 * 6.12's scheduler (Debian 6.1 has the init-args struct, not those), and
 * the init args a number of run queues; the in-flight count became a
 * credit count.
 */
#ifdef SWGPU_OLD_SCHED_JOB_INIT
static inline int swgpu_sched_job_init(struct drm_sched_job *job,
				       struct drm_sched_entity *entity,
				       void *owner, struct drm_file *file)
{
	return drm_sched_job_init(job, entity, owner);
}

static inline int swgpu_sched_credits(struct drm_gpu_scheduler *sched)
{
	return atomic_read(&sched->hw_rq_count);
}
#else
static inline int swgpu_sched_job_init(struct drm_sched_job *job,
				       struct drm_sched_entity *entity,
				       void *owner, struct drm_file *file)
{
	return drm_sched_job_init(job, entity, 1, owner, file->client_id);
}

static inline int swgpu_sched_credits(struct drm_gpu_scheduler *sched)
{
	return atomic_read(&sched->credit_count);
}
#endif

#ifdef SWGPU_OLD_SCHED_RQS
#define SWGPU_SCHED_NUM_RQS
#else
#define SWGPU_SCHED_NUM_RQS	.num_rqs = DRM_SCHED_PRIORITY_COUNT,
#endif

/* vfs_parse_fs_string() lost its length argument in 6.18. */
static inline int swgpu_parse_fs_string(struct fs_context *fc, const char *key,
					const char *value)
{
#ifdef SWGPU_OLD_PARSE_FS_STRING
	return vfs_parse_fs_string(fc, key, value, strlen(value));
#else
	return vfs_parse_fs_string(fc, key, value);
#endif
}

/* A mount a module keeps for its lifetime is a long-term one since 6.17. */
#ifdef SWGPU_OLD_FC_MOUNT
#define swgpu_fc_mount_longterm	fc_mount
#else
#define swgpu_fc_mount_longterm	fc_mount_longterm
#endif

/* shmem files take VMA flags as a vma_flags_t since 7.0. */
#ifdef SWGPU_OLD_SHMEM_FLAGS
#define SWGPU_SHMEM_NORESERVE	VM_NORESERVE
#else
#define SWGPU_SHMEM_NORESERVE	mk_vma_flags(VMA_NORESERVE_BIT)
#endif

/*
 * Placing a mapping of the DRM file so that huge folios can be mapped by
 * PMD: the core does it for GEM objects since 6.16 (by asking the
 * object's shmem file). Before, only the file offset (a fake one) was
 * known here, so every mapping of 2 MiB or more is placed on a 2 MiB
 * boundary as if it started at offset 0, which is where vm_pgoff points
 * once swgpu_gem_mmap() has rebased it.
 */
#ifdef SWGPU_OLD_GEM_UNMAPPED_AREA
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
static inline unsigned long
swgpu_gem_get_unmapped_area(struct file *filp, unsigned long addr,
			    unsigned long len, unsigned long pgoff,
			    unsigned long flags)
{
	return thp_get_unmapped_area(filp, addr, len, 0, flags);
}
#define SWGPU_GEM_GET_UNMAPPED_AREA \
	.get_unmapped_area = swgpu_gem_get_unmapped_area,
#else
#define SWGPU_GEM_GET_UNMAPPED_AREA
#endif
#else
#define SWGPU_GEM_GET_UNMAPPED_AREA
#endif

#endif /* _SWGPU_COMPAT_H_ */
