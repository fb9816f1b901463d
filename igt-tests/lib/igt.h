/* SPDX-License-Identifier: MIT */
/*
 * igt.h - umbrella header of the swgpu suite's IGT-compatible library.
 */
#ifndef IGT_H
#define IGT_H

#include "igt_core.h"
#include "ioctl_wrappers.h"
#include "drmtest.h"

#endif /* IGT_H */
