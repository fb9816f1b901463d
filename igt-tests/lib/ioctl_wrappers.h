/* SPDX-License-Identifier: MIT */
/*
 * ioctl_wrappers.h - igt_ioctl, the ioctl entry point tests go through.
 *
 * Like IGT's, it is a function pointer (tests may interpose on it) whose
 * default restarts the call on EINTR and EAGAIN, as libdrm's drmIoctl does.
 */
#ifndef IOCTL_WRAPPERS_H
#define IOCTL_WRAPPERS_H

extern int (*igt_ioctl)(int fd, unsigned long request, void *arg);

#endif /* IOCTL_WRAPPERS_H */
