/* SPDX-License-Identifier: MIT */
/*
 * drmtest.h - opening DRM devices and checking ioctls, as in IGT.
 */
#ifndef DRMTEST_H
#define DRMTEST_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "igt_core.h"
#include "ioctl_wrappers.h"

/* Driver selectors for drm_open_driver(); values as in IGT. */
#define DRIVER_INTEL	(1 << 0)
#define DRIVER_VC4	(1 << 1)
#define DRIVER_VGEM	(1 << 2)
#define DRIVER_AMDGPU	(1 << 3)
#define DRIVER_V3D	(1 << 4)
#define DRIVER_PANFROST	(1 << 5)
#define DRIVER_MSM	(1 << 6)
#define DRIVER_XE	(1 << 7)
#define DRIVER_VMWGFX	(1 << 8)
#define DRIVER_VKMS	(1 << 9)
/* Any device but vgem and vkms (they are only opened on request). */
#define DRIVER_ANY	~(DRIVER_VGEM | DRIVER_VKMS)

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof(arr[0]))
#define ALIGN(v, a) ALIGN_MASK(v, (typeof(v))(a) - 1)
#define ALIGN_MASK(v, mask) (((v) + (mask)) & ~(mask))
#define ALIGN_DOWN(x, a) ALIGN((x) - ((a) - 1), (a))
#define IS_ALIGNED(v, a) (((v) & ((typeof(v))(a) - 1)) == 0)

int __get_drm_device_name(int fd, char *name, int name_size);

/* Return an fd, or -1 when no device matches. */
int __drm_open_driver(int chipset);
int __drm_open_driver_render(int chipset);
/* Return an fd, or skip the (sub)test when no device matches. */
int drm_open_driver(int chipset);
int drm_open_driver_render(int chipset);
int drm_close_driver(int fd);

#define do_or_die(x) igt_assert((x) == 0)

/** do_ioctl - assert that the ioctl succeeds */
#define do_ioctl(fd, ioc, ioc_data) do { \
	igt_assert_eq(igt_ioctl((fd), (ioc), (ioc_data)), 0); \
	errno = 0; \
} while (0)

/** do_ioctl_err - assert that the ioctl fails with errno @err */
#define do_ioctl_err(fd, ioc, ioc_data, err) do { \
	igt_assert_eq(igt_ioctl((fd), (ioc), (ioc_data)), -1); \
	igt_assert_eq(errno, err); \
	errno = 0; \
} while (0)

#endif /* DRMTEST_H */
