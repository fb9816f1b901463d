/* SPDX-License-Identifier: MIT */
/*
 * drm_open.h - open a DRM node by driver name, for the KTAP runners.
 *
 * Header-only: each runner is one C file built on its own.
 */
#ifndef SWGPU_KTAP_DRM_OPEN_H
#define SWGPU_KTAP_DRM_OPEN_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <drm.h>

/*
 * The first /dev/dri/<prefix>N, N from @first, whose driver is called
 * @name; -1 if there is none.
 */
static inline int drm_open_by_name(const char *prefix, int first,
				   const char *name)
{
	char path[64], vname[32];
	int i;

	for (i = first; i < first + 64; i++) {
		struct drm_version v = { .name = vname,
					 .name_len = sizeof(vname) - 1 };
		int fd;

		snprintf(path, sizeof(path), "/dev/dri/%s%d", prefix, i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(vname, 0, sizeof(vname));
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(vname, name))
			return fd;
		close(fd);
	}
	return -1;
}

#endif /* SWGPU_KTAP_DRM_OPEN_H */
