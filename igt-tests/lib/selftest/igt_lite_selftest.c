// SPDX-License-Identifier: MIT
/*
 * Self-test of the IGT-compatible library: subtests with known outcomes,
 * driven by run-selftest.sh, which checks the output lines and exit codes.
 * Environment: SELFTEST_FIXTURE=fail|skip makes the group fixture fail or
 * skip.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>

#include <drm.h>

#include "igt.h"

static int counter;

igt_main
{
	igt_subtest("pass-a")
		igt_assert(1);

	igt_subtest("pass-b") {
		struct drm_version v;

		memset(&v, 0, sizeof(v));
		igt_assert_eq(2, 2);
		igt_assert_lt(1, 2);
		igt_assert_lte(2, 2);
		igt_assert_eq_u64(1ull << 40, 1ull << 40);
		igt_assert_neq_u32(1, 2);
		do_ioctl_err(-1, DRM_IOCTL_VERSION, &v, EBADF);
		igt_info("info from pass-b\n");
	}

	igt_describe("Skips through a failed requirement.");
	igt_subtest("skip-a")
		igt_require(counter == 12345);

	igt_subtest("skip-b")
		igt_skip("explicit skip\n");

	igt_subtest("fail-assert") {
		counter++;
		igt_assert_eq(counter, -1);
		counter = 1000;	/* not reached */
	}

	igt_subtest("fail-ioctl") {
		int fd = open("/dev/null", O_RDONLY);

		/* ioctl on /dev/null fails, so do_ioctl must fail. */
		do_ioctl(fd, DRM_IOCTL_VERSION, NULL);
	}

	igt_subtest("pass-fork") {
		igt_fork(child, 3)
			igt_assert(child < 3);
		igt_waitchildren();
	}

	igt_subtest("fail-fork") {
		igt_fork(child, 2)
			igt_assert_eq(child, 0);
		igt_waitchildren();
	}

	igt_subtest("crash-segv")
		raise(SIGSEGV);

	igt_subtest_group {
		igt_fixture {
			const char *mode = getenv("SELFTEST_FIXTURE");

			if (mode && !strcmp(mode, "fail"))
				igt_assert_f(0, "fixture asked to fail\n");
			if (mode && !strcmp(mode, "skip"))
				igt_require_f(0, "fixture asked to skip\n");
		}

		igt_subtest("group-a")
			igt_assert(1);

		igt_subtest_f("group-%c", 'b')
			igt_assert(1);
	}

	igt_subtest("after-group")
		igt_assert_eq(counter, 1);	/* fail-assert ran once before */

	igt_subtest("last")
		igt_assert(1);
}
