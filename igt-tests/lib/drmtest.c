// SPDX-License-Identifier: MIT
/*
 * drmtest.c - find and open DRM devices by driver.
 *
 * Devices are found by scanning /dev/dri for primary (cardN) or render
 * (renderDN) nodes and asking each for its driver name (DRM_IOCTL_VERSION).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <drm.h>

#include "drmtest.h"

/* Driver names IGT knows as chipsets; any other is "other". */
static const struct {
	const char *name;
	unsigned int chipset;
} known_drivers[] = {
	{ "i915", DRIVER_INTEL },
	{ "vc4", DRIVER_VC4 },
	{ "vgem", DRIVER_VGEM },
	{ "amdgpu", DRIVER_AMDGPU },
	{ "v3d", DRIVER_V3D },
	{ "panfrost", DRIVER_PANFROST },
	{ "msm", DRIVER_MSM },
	{ "xe", DRIVER_XE },
	{ "vmwgfx", DRIVER_VMWGFX },
	{ "vkms", DRIVER_VKMS },
};

#define DRIVER_OTHER (1u << 30)

int __get_drm_device_name(int fd, char *name, int name_size)
{
	struct drm_version v;

	if (name_size <= 0)
		return -1;
	memset(&v, 0, sizeof(v));
	v.name = name;
	v.name_len = name_size - 1;
	if (igt_ioctl(fd, DRM_IOCTL_VERSION, &v))
		return -1;
	name[v.name_len < (size_t)name_size ? v.name_len : 0] = '\0';
	return 0;
}

static unsigned int chipset_of(int fd)
{
	char name[64];

	if (__get_drm_device_name(fd, name, sizeof(name)))
		return 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(known_drivers); i++)
		if (!strcmp(name, known_drivers[i].name))
			return known_drivers[i].chipset;
	return DRIVER_OTHER;
}

static int open_matching(const char *fmt, int first, int count, int chipset)
{
	for (int i = first; i < first + count; i++) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), fmt, i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (chipset_of(fd) & (unsigned int)chipset)
			return fd;
		close(fd);
	}
	return -1;
}

int __drm_open_driver(int chipset)
{
	return open_matching("/dev/dri/card%d", 0, 64, chipset);
}

int __drm_open_driver_render(int chipset)
{
	return open_matching("/dev/dri/renderD%d", 128, 64, chipset);
}

int drm_open_driver(int chipset)
{
	int fd = __drm_open_driver(chipset);

	igt_skip_on_f(fd < 0, "No known gpu found for chipset flags %#x\n",
		      (unsigned int)chipset);
	return fd;
}

int drm_open_driver_render(int chipset)
{
	int fd = __drm_open_driver_render(chipset);

	igt_skip_on_f(fd < 0, "No known render node found for chipset flags %#x\n",
		      (unsigned int)chipset);
	return fd;
}

int drm_close_driver(int fd)
{
	if (fd < 0)
		return -1;
	return close(fd);
}
