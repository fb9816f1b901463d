/* SPDX-License-Identifier: MIT */
/*
 * swgpu user-space ABI.
 *
 * Usable from C and C++ with nothing but drm.h (from the kernel's uapi or
 * from libdrm: build with -I/usr/include/libdrm).
 *
 * Ioctls 0x1 and 0x2 are vgem's fence ioctls, with vgem's numbers,
 * layouts and errors, so vgem clients work unchanged; swgpu's own ioctls
 * start at 0x10.
 */
#ifndef _UAPI_SWGPU_DRM_H_
#define _UAPI_SWGPU_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_SWGPU_FENCE_ATTACH		0x1
#define DRM_SWGPU_FENCE_SIGNAL		0x2
#define DRM_SWGPU_GEM_CREATE		0x10
#define DRM_SWGPU_GEM_MMAP_OFFSET	0x11
#define DRM_SWGPU_CPU_ACCESS		0x12
#define DRM_SWGPU_SUBMIT		0x13

#define DRM_IOCTL_SWGPU_FENCE_ATTACH \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_SWGPU_FENCE_ATTACH, \
		 struct drm_swgpu_fence_attach)
#define DRM_IOCTL_SWGPU_FENCE_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + DRM_SWGPU_FENCE_SIGNAL, \
		struct drm_swgpu_fence_signal)
#define DRM_IOCTL_SWGPU_GEM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_SWGPU_GEM_CREATE, \
		 struct drm_swgpu_gem_create)
#define DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_SWGPU_GEM_MMAP_OFFSET, \
		 struct drm_swgpu_gem_mmap_offset)
#define DRM_IOCTL_SWGPU_CPU_ACCESS \
	DRM_IOW(DRM_COMMAND_BASE + DRM_SWGPU_CPU_ACCESS, \
		struct drm_swgpu_cpu_access)
#define DRM_IOCTL_SWGPU_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_SWGPU_SUBMIT, struct drm_swgpu_submit)

/**
 * struct drm_swgpu_fence_attach - attach a fence for user space to signal
 *
 * vgem's DRM_IOCTL_VGEM_FENCE_ATTACH (struct drm_vgem_fence_attach). The
 * fence goes into the object's reservation object, for writing
 * (exclusive) with SWGPU_FENCE_WRITE, else for reading, so every importer
 * of the buffer, poll() on its dma-bufs, DMA_BUF_IOCTL_SYNC and
 * DRM_IOCTL_SWGPU_CPU_ACCESS wait for it. It signals on FENCE_SIGNAL,
 * when the DRM file is closed, or by itself after the module parameter
 * fence_timeout_ms (10 s by default), then with the error -ETIMEDOUT.
 *
 * Errors: -EINVAL for unknown flags or non-zero @pad; -ENOENT for a bad
 * handle; -EBUSY when an unsignalled fence conflicts (any fence with a
 * write fence, a write fence with a read fence); -ENOMEM.
 */
struct drm_swgpu_fence_attach {
	/** @handle: in: the object, swgpu's own or imported. */
	__u32 handle;
	/** @flags: in: 0 or SWGPU_FENCE_WRITE. */
	__u32 flags;
#define SWGPU_FENCE_WRITE	0x1
	/** @out_fence: out: the fence id for FENCE_SIGNAL, never 0. */
	__u32 out_fence;
	/** @pad: must be 0. */
	__u32 pad;
};

/**
 * struct drm_swgpu_fence_signal - signal a fence from FENCE_ATTACH
 *
 * vgem's DRM_IOCTL_VGEM_FENCE_SIGNAL (struct drm_vgem_fence_signal). A
 * fence is signalled once; its id is not reused by the same file.
 *
 * Errors: -EINVAL for non-zero @flags; -ENOENT for an id this file never
 * got, 0, or one already signalled; -ETIMEDOUT if the fence had already
 * expired (it is consumed all the same).
 */
struct drm_swgpu_fence_signal {
	/** @fence: in: the id FENCE_ATTACH returned. */
	__u32 fence;
	/** @flags: must be 0. */
	__u32 flags;
};

/**
 * define SWGPU_GEM_CREATE_MAX_SIZE - largest object GEM_CREATE accepts
 *
 * Objects are backed lazily, so the limit guards address arithmetic, not
 * memory: 64 GiB.
 */
#define SWGPU_GEM_CREATE_MAX_SIZE	(1ULL << 36)

/**
 * define SWGPU_GEM_CREATE_HUGE - back an object with huge pages
 *
 * A GEM_CREATE flag. The object's pages come in 2 MiB folios wherever a
 * whole aligned 2 MiB of the object fits in it (the rest in 4 KiB pages),
 * as on a tmpfs mounted with huge=within_size: a first touch then
 * allocates and clears 2 MiB at once, and a mapping of the DRM file
 * (placed on a 2 MiB boundary by the kernel) maps it with one fault.
 * Nothing else changes: still nothing is allocated at create or mmap,
 * the pages are still swappable, and every way to access the object
 * works as without the flag.
 *
 * A hint: where the kernel has no transparent huge pages the object is
 * backed by 4 KiB pages, and the flag is accepted all the same. The
 * module parameter huge_pages=1 makes every object so backed.
 */
#define SWGPU_GEM_CREATE_HUGE		(1u << 0)

/**
 * define SWGPU_GEM_CREATE_FLAGS - every flag GEM_CREATE knows
 */
#define SWGPU_GEM_CREATE_FLAGS		SWGPU_GEM_CREATE_HUGE

/**
 * struct drm_swgpu_gem_create - create a shmem-backed GEM object
 *
 * Allowed on primary and render nodes. No memory is allocated here: a page
 * of the object is allocated the first time something touches it (a CPU
 * fault through a mapping, a CPU access window, a device attachment).
 *
 * Errors: -EINVAL for size 0, a size above SWGPU_GEM_CREATE_MAX_SIZE (on
 * 32-bit kernels: 4 GiB or more, rounded up) or a flag bit other than
 * those of SWGPU_GEM_CREATE_FLAGS; -ENOMEM when the object itself cannot
 * be set up.
 */
struct drm_swgpu_gem_create {
	/**
	 * @size: in: requested size in bytes; out: the size of the object,
	 * rounded up to a whole number of pages.
	 */
	__u64 size;
	/** @flags: 0 or SWGPU_GEM_CREATE_HUGE. */
	__u32 flags;
	/** @handle: out: the GEM handle of the new object. */
	__u32 handle;
};

/**
 * struct drm_swgpu_gem_mmap_offset - get the fake offset to mmap an object
 *
 * Pass @offset to mmap(2) on the same DRM file descriptor to map the whole
 * object, shared and cached. Mapping does not allocate: pages are allocated
 * as they are first touched, and the mapping stays valid after the handle
 * is closed.
 *
 * Errors: -ENOENT for an unknown handle; -EINVAL for non-zero @pad.
 */
struct drm_swgpu_gem_mmap_offset {
	/** @handle: in: the object. */
	__u32 handle;
	/** @pad: must be 0. */
	__u32 pad;
	/** @offset: out: the offset to pass to mmap(2). */
	__u64 offset;
};

#define SWGPU_CPU_ACCESS_READ	(1 << 0)
#define SWGPU_CPU_ACCESS_WRITE	(1 << 1)
#define SWGPU_CPU_ACCESS_RW	(SWGPU_CPU_ACCESS_READ | SWGPU_CPU_ACCESS_WRITE)
#define SWGPU_CPU_ACCESS_START	(0 << 2)
#define SWGPU_CPU_ACCESS_END	(1 << 2)
#define SWGPU_CPU_ACCESS_FLAGS	(SWGPU_CPU_ACCESS_RW | SWGPU_CPU_ACCESS_END)

/**
 * struct drm_swgpu_cpu_access - bracket CPU access to a byte range
 *
 * The range-based form of DMA_BUF_IOCTL_SYNC, which can only say "the
 * whole buffer". Call it with SWGPU_CPU_ACCESS_START before touching
 * [@offset, @offset + @length) through a mapping, and with
 * SWGPU_CPU_ACCESS_END and the same range and direction after.
 *
 * START waits for the fences the direction must wait for (READ waits for
 * writers, WRITE for readers and writers), allocates or swaps in the
 * pages of the range only, and makes device mappings coherent for the
 * CPU. END makes the CPU's writes visible to devices and always succeeds
 * for valid arguments. A window is not a pin: a process may die inside it
 * without leaking anything. Allowed on primary and render nodes; for an
 * imported object the exporter's whole-buffer CPU access is used.
 *
 * Errors: -ENOENT for a bad handle; -EINVAL for unknown flag bits,
 * neither READ nor WRITE, non-zero @pad, @length 0, or a range past the
 * end of the object or overflowing; -EINTR or -ERESTARTSYS when a signal
 * interrupts START; -ENOMEM when START cannot allocate the pages (in the
 * caller's memory cgroup): it fails rather than wake the OOM killer, and
 * drops again the pages it allocated.
 */
struct drm_swgpu_cpu_access {
	/** @handle: the object. */
	__u32 handle;
	/**
	 * @flags: SWGPU_CPU_ACCESS_READ and/or _WRITE, plus _START or _END.
	 */
	__u32 flags;
	/** @offset: first byte of the range. */
	__u64 offset;
	/** @length: length of the range in bytes, not 0. */
	__u64 length;
	/** @pad: must be 0. */
	__u64 pad;
};

#define SWGPU_CMD_FILL		1
#define SWGPU_CMD_COPY		2

/**
 * struct drm_swgpu_cmd - one command of a SUBMIT batch
 *
 * FILL writes @pattern over [@dst_offset, @dst_offset + @length) of
 * @dst_handle: the byte at object offset o gets byte (o % 4) of @pattern
 * in little-endian order, so an aligned fill equals 32-bit stores of
 * @pattern and any sub-range of it matches. @src_handle and @src_offset
 * must be 0.
 *
 * COPY copies @length bytes from @src_handle at @src_offset to
 * @dst_handle at @dst_offset; @pattern must be 0. Within one object the
 * two ranges must not overlap.
 *
 * Handles are swgpu objects or imported dma-bufs of any exporter.
 */
struct drm_swgpu_cmd {
	/** @op: SWGPU_CMD_FILL or SWGPU_CMD_COPY. */
	__u32 op;
	/** @pattern: FILL's 32-bit pattern. */
	__u32 pattern;
	/** @dst_handle: the object written. */
	__u32 dst_handle;
	/** @src_handle: COPY's source object. */
	__u32 src_handle;
	/** @dst_offset: first byte written. */
	__u64 dst_offset;
	/** @src_offset: COPY's first byte read. */
	__u64 src_offset;
	/** @length: bytes written, not 0. */
	__u64 length;
};

#define SWGPU_SUBMIT_MAX_CMDS	64
#define SWGPU_SUBMIT_MAX_SYNCS	64

#define SWGPU_SUBMIT_IN_FENCE	(1 << 0)
#define SWGPU_SUBMIT_OUT_FENCE	(1 << 1)
#define SWGPU_SUBMIT_FLAGS	(SWGPU_SUBMIT_IN_FENCE | SWGPU_SUBMIT_OUT_FENCE)

/**
 * struct drm_swgpu_sync - a DRM syncobj a SUBMIT waits for or signals
 *
 * A binary syncobj with @point 0, a timeline point otherwise. To wait
 * for, the syncobj must already hold a fence (a binary one that was
 * signalled or submitted, a timeline point that was submitted):
 * SUBMIT does not wait for a submission. To signal, a binary syncobj
 * gets the job's fence in place of its own; a timeline syncobj gets the
 * job's fence as point @point, as DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL
 * would add it, including for a point not after the last one.
 */
struct drm_swgpu_sync {
	/** @handle: the syncobj's handle in the submitting DRM file. */
	__u32 handle;
	/** @flags: must be 0. */
	__u32 flags;
	/** @point: 0 for a binary syncobj, else the timeline point. */
	__u64 point;
};

/**
 * struct drm_swgpu_submit - run a batch of commands on the software engine
 *
 * The batch is checked whole before anything happens: a rejected batch
 * has no effect. An accepted batch becomes one job for the device's GPU
 * scheduler (drm_sched), run asynchronously, after the jobs this file
 * submitted before it, after the in-fence and the @in_syncs, and after
 * the fences already on its buffers (implicit sync: readers wait for
 * writers, writers for everyone). Its commands take effect in order:
 * each sees what the ones before it wrote (commands on different
 * ranges may run at once on several CPUs; two different objects that
 * share memory, such as two udmabufs of one memfd, count as different).
 * Its fence goes into every buffer it
 * touches at submit time, as a writer for destinations and a reader for
 * sources, so CPU access, poll() on dma-bufs, other devices and later
 * jobs wait for it; and into every @out_syncs syncobj. The job signals
 * its fence when done; with an error if it failed (-ENOMEM: memory, or
 * the submitter's memory cgroup, could not hold the pages), if the
 * in-fence or an in-syncobj's fence carried one, if its file was closed
 * or its submitting process killed first (-ECANCELED, nothing more is
 * written), or if it waited for its fences, or ran without writing, for
 * the module's job_timeout_ms (-ETIMEDOUT). A job that fails after it
 * started leaves each byte of its destination ranges either as it was or
 * as the job would have written it, and gives back the pages it
 * allocated. Allowed on primary and render nodes.
 *
 * Errors: -EINVAL for unknown @flags, @num_cmds 0 or above
 * SWGPU_SUBMIT_MAX_CMDS, an unknown op, non-zero unused fields, a zero
 * length, a range past the end of its object or overflowing, an
 * overlapping COPY within one object, an @in_fence_fd that is not a
 * sync_file, more than SWGPU_SUBMIT_MAX_SYNCS in or out syncs, non-zero
 * sync @flags, or an in-sync without a fence (see struct
 * drm_swgpu_sync); -ENOENT for a bad object or syncobj handle; -EFAULT
 * for a bad @cmds, @in_syncs or @out_syncs pointer; -ENOMEM; -EMFILE
 * when no file descriptor is left for the out-fence; -EINTR/-ERESTARTSYS
 * if a signal interrupted locking the buffers. On error no syncobj
 * changed.
 */
struct drm_swgpu_submit {
	/** @cmds: user pointer to @num_cmds struct drm_swgpu_cmd. */
	__u64 cmds;
	/** @num_cmds: 1 to SWGPU_SUBMIT_MAX_CMDS. */
	__u32 num_cmds;
	/** @flags: SWGPU_SUBMIT_IN_FENCE, SWGPU_SUBMIT_OUT_FENCE. */
	__u32 flags;
	/** @in_fence_fd: with IN_FENCE, a sync_file the job waits for. */
	__s32 in_fence_fd;
	/**
	 * @out_fence_fd: out, with OUT_FENCE: a sync_file (O_CLOEXEC) of
	 * the job's fence.
	 */
	__s32 out_fence_fd;
	/**
	 * @in_syncs: user pointer to @num_in_syncs struct drm_swgpu_sync
	 * the job waits for.
	 */
	__u64 in_syncs;
	/**
	 * @out_syncs: user pointer to @num_out_syncs struct drm_swgpu_sync
	 * that get the job's fence.
	 */
	__u64 out_syncs;
	/** @num_in_syncs: 0 to SWGPU_SUBMIT_MAX_SYNCS. */
	__u32 num_in_syncs;
	/** @num_out_syncs: 0 to SWGPU_SUBMIT_MAX_SYNCS. */
	__u32 num_out_syncs;
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_SWGPU_DRM_H_ */
