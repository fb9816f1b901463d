/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Differences between the kernels swgpu builds against (6.1 LTS and
 * 6.12 LTS), absorbed here so the logic reads the same on both. Kbuild
 * defines SWGPU_OLD_* when the headers lack the newer interface.
 */
#ifndef _SWGPU_COMPAT_H_
#define _SWGPU_COMPAT_H_

#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <drm/drm_file.h>

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

#endif /* _SWGPU_COMPAT_H_ */
