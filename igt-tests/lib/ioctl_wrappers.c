// SPDX-License-Identifier: MIT
/*
 * ioctl_wrappers.c - the default igt_ioctl.
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "ioctl_wrappers.h"

static int restarting_ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret;
}

int (*igt_ioctl)(int fd, unsigned long request, void *arg) = restarting_ioctl;
