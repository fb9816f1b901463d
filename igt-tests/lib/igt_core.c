// SPDX-License-Identifier: MIT
/*
 * igt_core.c - subtests, fixtures, results, logging and forked children
 * for the swgpu suite's IGT-compatible library.
 *
 * Results follow IGT's conventions, which test runners parse:
 *   Starting subtest: NAME
 *   Subtest NAME: SUCCESS|SKIP|FAIL|CRASH (0.001s)
 * and the process exits 0 when every subtest that ran passed, 77 when all
 * were skipped, 98 (or 128+signal after a crash) when any failed, and 79
 * for --run-subtest with a name that matches no subtest.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fnmatch.h>
#include <getopt.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include "igt_core.h"

enum henceforth { RUN_ON = 0, ALL_SKIP = 1, ALL_FAIL = 2 };

sigjmp_buf igt_subtest_jmpbuf;
enum igt_log_level igt_log_level = IGT_LOG_INFO;

static const char *test_name = "igt";
static bool list_subtests;
static bool describe_subtests;
static char *subtest_filter;
static bool subtest_filter_matched;

static char *in_subtest;		/* name of the running subtest */
static bool in_fixture;
static int skip_henceforth = RUN_ON;

static bool succeeded_one, skipped_one, failed_one;
static int igt_exitcode = IGT_EXIT_SUCCESS;

static bool test_child;			/* we are an igt_fork() child */
static pthread_t main_thread;
static struct timespec subtest_start;

static pid_t *children;
static int num_children, children_cap;

static char description[2048];

/* ------------------------------------------------------------------ */
/* Time                                                                */
/* ------------------------------------------------------------------ */

int igt_gettime(struct timespec *ts)
{
	memset(ts, 0, sizeof(*ts));
	if (clock_gettime(CLOCK_MONOTONIC, ts))
		return -errno;
	return 0;
}

double igt_time_elapsed(struct timespec *then, struct timespec *now)
{
	return (double)(now->tv_sec - then->tv_sec) +
	       (double)(now->tv_nsec - then->tv_nsec) * 1e-9;
}

uint64_t igt_nsec_elapsed(struct timespec *start)
{
	struct timespec now;

	igt_gettime(&now);
	if (start->tv_sec == 0 && start->tv_nsec == 0) {
		*start = now;
		return 0;
	}
	return (uint64_t)(now.tv_sec - start->tv_sec) * 1000000000ull +
	       (uint64_t)now.tv_nsec - (uint64_t)start->tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Logging                                                             */
/* ------------------------------------------------------------------ */

void igt_vlog(const char *domain, enum igt_log_level level,
	      const char *format, va_list args)
{
	static const char *const level_names[] = {
		[IGT_LOG_DEBUG] = "DEBUG",
		[IGT_LOG_INFO] = "INFO",
		[IGT_LOG_WARN] = "WARNING",
		[IGT_LOG_CRITICAL] = "CRITICAL",
		[IGT_LOG_NONE] = "NONE",
	};
	FILE *out;

	if (level < igt_log_level || level >= IGT_LOG_NONE)
		return;

	if (level == IGT_LOG_INFO) {
		vprintf(format, args);
		return;
	}

	/* Keep the order of stdout and stderr lines in a shared log. */
	fflush(stdout);
	out = level == IGT_LOG_DEBUG ? stdout : stderr;
	fprintf(out, "(%s:%d) %s%s%s: ", test_name, (int)getpid(),
		domain ? domain : "", domain ? "-" : "", level_names[level]);
	vfprintf(out, format, args);
	fflush(out);
}

void igt_log(const char *domain, enum igt_log_level level,
	     const char *format, ...)
{
	va_list args;

	va_start(args, format);
	igt_vlog(domain, level, format, args);
	va_end(args);
}

/* ------------------------------------------------------------------ */
/* Children                                                            */
/* ------------------------------------------------------------------ */

static void kill_and_reap_children(void)
{
	for (int i = 0; i < num_children; i++) {
		int status;

		kill(children[i], SIGKILL);
		while (waitpid(children[i], &status, 0) < 0 && errno == EINTR)
			;
	}
	num_children = 0;
}

bool __igt_fork(void)
{
	pid_t pid;

	if (test_child) {
		igt_critical("igt_fork() called from a forked child\n");
		exit(IGT_EXIT_FAILURE);
	}

	if (num_children == children_cap) {
		children_cap = children_cap ? 2 * children_cap : 8;
		children = realloc(children, children_cap * sizeof(*children));
		if (!children) {
			igt_critical("out of memory tracking children\n");
			exit(IGT_EXIT_FAILURE);
		}
	}

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		igt_assert_f(pid >= 0, "fork failed: %s\n", strerror(errno));

	if (pid == 0) {
		test_child = true;
		num_children = 0;
		main_thread = pthread_self();
		return true;
	}

	children[num_children++] = pid;
	return false;
}

int __igt_waitchildren(void)
{
	int err = 0;

	for (int i = 0; i < num_children; i++) {
		int status = 0;
		pid_t ret;

		do {
			ret = waitpid(children[i], &status, 0);
		} while (ret < 0 && errno == EINTR);
		if (ret < 0)
			continue;

		if (err || status == 0)
			continue;

		if (WIFEXITED(status)) {
			printf("child %d failed with exit status %d\n",
			       i, WEXITSTATUS(status));
			err = WEXITSTATUS(status);
		} else if (WIFSIGNALED(status)) {
			printf("child %d died with signal %d, %s\n",
			       i, WTERMSIG(status), strsignal(WTERMSIG(status)));
			err = 128 + WTERMSIG(status);
		} else {
			printf("child %d ended with status %#x\n", i, status);
			err = 256;
		}
		/* One failed: do not wait for the others to finish. */
		for (int j = i + 1; j < num_children; j++)
			kill(children[j], SIGKILL);
	}
	num_children = 0;
	return err;
}

void igt_waitchildren(void)
{
	int err = __igt_waitchildren();

	if (err == IGT_EXIT_SKIP)	/* a skip in a child is an error */
		err = IGT_EXIT_FAILURE;
	if (err)
		igt_fail(err);
}

/* ------------------------------------------------------------------ */
/* Subtests and fixtures                                               */
/* ------------------------------------------------------------------ */

static bool on_main_thread(void)
{
	return pthread_equal(pthread_self(), main_thread);
}

static __noreturn void exit_subtest(const char *result)
{
	struct timespec now;

	igt_gettime(&now);
	printf("Subtest %s: %s (%.3fs)\n", in_subtest, result,
	       igt_time_elapsed(&subtest_start, &now));
	fflush(stdout);

	/* Children left behind by a failed subtest must not run on. */
	kill_and_reap_children();

	free(in_subtest);
	in_subtest = NULL;
	siglongjmp(igt_subtest_jmpbuf, 1);
}

/* An assert or skip on a helper thread cannot unwind the main thread. */
static __noreturn void exit_from_thread(const char *result, int code)
{
	printf("Subtest %s: %s (from a helper thread)\n",
	       in_subtest ? in_subtest : "(none)", result);
	fflush(stdout);
	_exit(code);
}

bool __igt_fixture(void)
{
	if (list_subtests || describe_subtests)
		return false;
	if (skip_henceforth != RUN_ON)
		return false;
	if (in_subtest || in_fixture) {
		igt_critical("igt_fixture nested in a subtest or fixture\n");
		exit(IGT_EXIT_INVALID);
	}
	in_fixture = true;
	return true;
}

void __igt_fixture_complete(void)
{
	in_fixture = false;
}

void __igt_fixture_end(void)
{
	in_fixture = false;
	siglongjmp(igt_subtest_jmpbuf, 1);
}

static bool valid_subtest_name(const char *name)
{
	if (!*name)
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p == '-' || *p == '_' ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

/*
 * The --run-subtest argument: comma-separated shell globs; a leading '!'
 * excludes. The last pattern that matches decides.
 */
static bool filter_matches(const char *name)
{
	char *list = strdup(subtest_filter), *save = NULL;
	bool result = false;

	if (!list)
		return false;
	for (char *pat = strtok_r(list, ",", &save); pat;
	     pat = strtok_r(NULL, ",", &save)) {
		bool negate = pat[0] == '!';

		if (fnmatch(negate ? pat + 1 : pat, name, 0) == 0)
			result = !negate;
	}
	free(list);
	return result;
}

bool __igt_run_subtest(const char *subtest_name, const char *file,
		       const int line)
{
	if (in_subtest || in_fixture) {
		igt_critical("subtest %s nested in a subtest or fixture\n",
			     subtest_name);
		exit(IGT_EXIT_INVALID);
	}
	if (!valid_subtest_name(subtest_name)) {
		igt_critical("Invalid subtest name \"%s\"\n", subtest_name);
		exit(IGT_EXIT_INVALID);
	}

	if (subtest_filter) {
		if (!filter_matches(subtest_name)) {
			description[0] = '\0';
			return false;
		}
		subtest_filter_matched = true;
	}

	if (describe_subtests) {
		printf("SUB %s %s:%d:\n  %s\n\n", subtest_name, file, line,
		       description[0] ? description : "NO DOCUMENTATION!");
		description[0] = '\0';
		return false;
	}
	description[0] = '\0';

	if (list_subtests) {
		printf("%s\n", subtest_name);
		return false;
	}

	if (skip_henceforth != RUN_ON) {
		printf("Subtest %s: %s\n", subtest_name,
		       skip_henceforth == ALL_SKIP ? "SKIP" : "FAIL");
		fflush(stdout);
		return false;
	}

	printf("Starting subtest: %s\n", subtest_name);
	fflush(stdout);
	in_subtest = strdup(subtest_name);
	if (!in_subtest) {
		igt_critical("out of memory\n");
		exit(IGT_EXIT_ABORT);
	}
	igt_gettime(&subtest_start);
	errno = 0;	/* "Last errno" in a report is then this subtest's */
	return true;
}

void __igt_subtest_group_save(int *save, int *desc)
{
	*desc = 0;
	*save = skip_henceforth;
}

void __igt_subtest_group_restore(int save, int desc)
{
	(void)desc;
	skip_henceforth = save;
}

const char *igt_subtest_name(void)
{
	return in_subtest;
}

const char *igt_test_name(void)
{
	return test_name;
}

bool igt_only_list_subtests(void)
{
	return list_subtests;
}

bool igt_can_fail(void)
{
	return in_fixture || in_subtest || test_child;
}

void igt_describe_f(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(description, sizeof(description), fmt, args);
	va_end(args);
}

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

void igt_success(void)
{
	succeeded_one = true;
	if (in_subtest)
		exit_subtest("SUCCESS");
}

void igt_fail(int exitcode)
{
	if (exitcode == IGT_EXIT_SUCCESS || exitcode == IGT_EXIT_SKIP)
		exitcode = IGT_EXIT_FAILURE;

	if (test_child)
		exit(exitcode);	/* the parent reports it */

	if (!failed_one)
		igt_exitcode = exitcode;
	failed_one = true;

	if (!on_main_thread())
		exit_from_thread("FAIL", exitcode);

	if (in_subtest)
		exit_subtest("FAIL");

	if (in_fixture) {
		skip_henceforth = ALL_FAIL;
		__igt_fixture_end();
	}
	igt_exit();
}

void igt_skip(const char *f, ...)
{
	va_list args;

	if (!list_subtests) {
		va_start(args, f);
		vprintf(f, args);
		va_end(args);
	}

	if (test_child) {
		igt_critical("igt_skip() in a forked child is not allowed\n");
		exit(IGT_EXIT_SKIP);
	}
	skipped_one = true;

	if (!on_main_thread())
		exit_from_thread("SKIP", IGT_EXIT_FAILURE);

	if (in_subtest)
		exit_subtest("SKIP");

	if (in_fixture) {
		skip_henceforth = ALL_SKIP;
		__igt_fixture_end();
	}
	igt_exit();
}

void __igt_skip_check(const char *file, const int line, const char *func,
		      const char *check, const char *format, ...)
{
	int err = errno;
	char extra[1024] = "";
	char errstr[256] = "";
	va_list args;

	if (format) {
		va_start(args, format);
		vsnprintf(extra, sizeof(extra), format, args);
		va_end(args);
	}
	if (err)
		snprintf(errstr, sizeof(errstr), "Last errno: %d, %s\n",
			 err, strerror(err));

	igt_skip("Test requirement not met in function %s, file %s:%d:\n"
		 "Test requirement: %s\n%s%s",
		 func, file, line, check, extra, errstr);
}

void __igt_fail_assert(const char *domain, const char *file, const int line,
		       const char *func, const char *assertion,
		       const char *format, ...)
{
	int err = errno;
	va_list args;

	igt_log(domain, IGT_LOG_CRITICAL,
		"Test assertion failure function %s, file %s:%d:\n",
		func, file, line);
	igt_log(domain, IGT_LOG_CRITICAL, "Failed assertion: %s\n", assertion);
	if (err)
		igt_log(domain, IGT_LOG_CRITICAL, "Last errno: %d, %s\n",
			err, strerror(err));
	if (format) {
		va_start(args, format);
		igt_vlog(domain, IGT_LOG_CRITICAL, format, args);
		va_end(args);
	}
	igt_fail(IGT_EXIT_FAILURE);
}

void igt_exit(void)
{
	fflush(NULL);

	if (subtest_filter && !subtest_filter_matched) {
		igt_critical("Unknown subtest: %s\n", subtest_filter);
		exit(IGT_EXIT_INVALID);
	}
	if (list_subtests || describe_subtests)
		exit(IGT_EXIT_SUCCESS);

	kill_and_reap_children();

	if (!failed_one)
		igt_exitcode = succeeded_one ? IGT_EXIT_SUCCESS : IGT_EXIT_SKIP;

	igt_debug("Exiting with status code %d\n", igt_exitcode);
	fflush(NULL);
	exit(igt_exitcode);
}

/* ------------------------------------------------------------------ */
/* Crashes                                                             */
/* ------------------------------------------------------------------ */

static void crash_handler(int sig)
{
	char msg[64];
	int len;

	len = snprintf(msg, sizeof(msg), "Received signal SIG%s.\n",
		       sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	if (len > 0)
		igt_ignore_warn(write(STDERR_FILENO, msg, len) == len);

	/* A crash inside a subtest ends that subtest; elsewhere the test. */
	if (in_subtest && !test_child && on_main_thread()) {
		if (!failed_one)
			igt_exitcode = 128 + sig;
		failed_one = true;
		exit_subtest("CRASH");
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_crash_handlers(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = crash_handler;
	sigemptyset(&sa.sa_mask);
	/* The handler may siglongjmp out; the mask is restored by it. */
	for (unsigned int i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */
/* ------------------------------------------------------------------ */

enum {
	OPT_LIST_SUBTESTS = 500,
	OPT_RUN_SUBTEST,
	OPT_DESCRIBE,
	OPT_DEBUG,
	OPT_HELP_DESCRIPTION,
	OPT_HELP,
};

static const struct option std_options[] = {
	{ "list-subtests", no_argument, NULL, OPT_LIST_SUBTESTS },
	{ "run-subtest", required_argument, NULL, OPT_RUN_SUBTEST },
	{ "describe", optional_argument, NULL, OPT_DESCRIBE },
	{ "debug", optional_argument, NULL, OPT_DEBUG },
	{ "help-description", no_argument, NULL, OPT_HELP_DESCRIPTION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void print_usage(FILE *out, const char *help_str)
{
	fprintf(out,
		"Usage: %s [OPTIONS]\n"
		"  --list-subtests\n"
		"  --run-subtest <pattern>\n"
		"  --describe[=<pattern>]\n"
		"  --debug[=log-domain]\n"
		"  --help-description\n"
		"  --help|-h\n", test_name);
	if (help_str)
		fprintf(out, "%s\n", help_str);
	fprintf(out, "Patterns are comma-separated shell globs; "
		"a leading '!' excludes.\n");
}

int igt_subtest_init_parse_opts(int *argc, char **argv,
				const char *extra_short_opts,
				const struct option *extra_long_opts,
				const char *help_str,
				igt_opt_handler_t extra_opt_handler,
				void *handler_data)
{
	struct option *opts;
	char *short_opts;
	int n_extra = 0, n_std = sizeof(std_options) / sizeof(std_options[0]);
	int c, idx, ret = 0;

	main_thread = pthread_self();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argv && argv[0]) {
		char *copy = strdup(argv[0]);

		if (copy)
			test_name = basename(copy);
	}

	while (extra_long_opts && extra_long_opts[n_extra].name)
		n_extra++;
	opts = calloc(n_extra + n_std, sizeof(*opts));
	if (asprintf(&short_opts, "h%s", extra_short_opts ?: "") < 0 || !opts) {
		fprintf(stderr, "out of memory\n");
		exit(IGT_EXIT_ABORT);
	}
	if (n_extra)
		memcpy(opts, extra_long_opts, n_extra * sizeof(*opts));
	memcpy(opts + n_extra, std_options, sizeof(std_options));

	while ((c = getopt_long(*argc, argv, short_opts, opts, &idx)) != -1) {
		switch (c) {
		case OPT_LIST_SUBTESTS:
			list_subtests = true;
			break;
		case OPT_RUN_SUBTEST:
			free(subtest_filter);
			subtest_filter = strdup(optarg);
			break;
		case OPT_DESCRIBE:
			describe_subtests = true;
			if (optarg) {
				free(subtest_filter);
				subtest_filter = strdup(optarg);
			}
			break;
		case OPT_DEBUG:
			igt_log_level = IGT_LOG_DEBUG;
			break;
		case OPT_HELP_DESCRIPTION:
			if (&__igt_test_description && __igt_test_description)
				printf("%s\n", __igt_test_description);
			exit(IGT_EXIT_SUCCESS);
		case 'h':
		case OPT_HELP:
			print_usage(stdout, help_str);
			exit(IGT_EXIT_SUCCESS);
		case '?':
			print_usage(stderr, help_str);
			exit(IGT_EXIT_INVALID);
		default:
			if (!extra_opt_handler ||
			    extra_opt_handler(c, idx, handler_data)) {
				print_usage(stderr, help_str);
				exit(IGT_EXIT_INVALID);
			}
			break;
		}
	}
	free(opts);
	free(short_opts);

	/* Listing wins over running, as in IGT. */
	if (list_subtests && !describe_subtests) {
		free(subtest_filter);
		subtest_filter = NULL;
	}

	if (!list_subtests && !describe_subtests) {
		struct utsname u;

		if (uname(&u) == 0)
			printf("IGT-Version: swgpu-igt-lite (%s) (Linux: %s %s)\n",
			       u.machine, u.release, u.machine);
		install_crash_handlers();
	}

	/* Leave the non-option arguments for the test. */
	for (int i = 0; optind + i < *argc; i++)
		argv[i + 1] = argv[optind + i];
	*argc = *argc - optind + 1;
	return ret;
}
