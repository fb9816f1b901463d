/* SPDX-License-Identifier: MIT */
/*
 * swgpu user-space ABI.
 *
 * Usable from C and C++ with nothing but drm.h (from the kernel's uapi or
 * from libdrm: build with -I/usr/include/libdrm).
 *
 * Ioctl numbers 0x1 and 0x2 are reserved for the vgem-identical fence
 * ioctls; swgpu's own ioctls start at 0x10.
 */
#ifndef _UAPI_SWGPU_DRM_H_
#define _UAPI_SWGPU_DRM_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_SWGPU_GEM_CREATE		0x10
#define DRM_SWGPU_GEM_MMAP_OFFSET	0x11

#define DRM_IOCTL_SWGPU_GEM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_SWGPU_GEM_CREATE, \
		 struct drm_swgpu_gem_create)
#define DRM_IOCTL_SWGPU_GEM_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_SWGPU_GEM_MMAP_OFFSET, \
		 struct drm_swgpu_gem_mmap_offset)

/**
 * define SWGPU_GEM_CREATE_MAX_SIZE - largest object GEM_CREATE accepts
 *
 * Objects are backed lazily, so the limit guards address arithmetic, not
 * memory: 64 GiB.
 */
#define SWGPU_GEM_CREATE_MAX_SIZE	(1ULL << 36)

/**
 * struct drm_swgpu_gem_create - create a shmem-backed GEM object
 *
 * Allowed on primary and render nodes. No memory is allocated here: a page
 * of the object is allocated the first time something touches it (a CPU
 * fault through a mapping, a CPU access window, a device attachment).
 *
 * Errors: -EINVAL for size 0, a size above SWGPU_GEM_CREATE_MAX_SIZE or any
 * flag bit set; -ENOMEM when the object itself cannot be set up.
 */
struct drm_swgpu_gem_create {
	/**
	 * @size: in: requested size in bytes; out: the size of the object,
	 * rounded up to a whole number of pages.
	 */
	__u64 size;
	/** @flags: must be 0; no flags are defined yet. */
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

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_SWGPU_DRM_H_ */
