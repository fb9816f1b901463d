// SPDX-License-Identifier: MIT
/*
 * Clocks, repetition control, statistics, /proc/meminfo and the output.
 *
 * Output: one TSV file, bench.tsv, with "# key<TAB>value" lines about the
 * machine and the run, a header line, and one line per figure:
 *
 *   test provider size unit median p10 p90 min max n
 *
 * Percentiles interpolate linearly between the sorted samples. An operation
 * that failed gives a line with unit "error" and the errno name in the
 * median column; an operation that does not apply gives unit "skip".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

bool verbose;
static FILE *tsv;
static int errors;
static int stat_refresh_ok = -1;

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

bool reps_continue(const struct reps *r, int n, double started)
{
	if (n < r->min_n)
		return true;
	if (n >= r->max_n)
		return false;
	return now_s() - started < r->budget_s;
}

void samples_add(struct samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v) {
			perror("bench: realloc");
			exit(2);
		}
	}
	s->v[s->n++] = v;
}

void samples_reset(struct samples *s)
{
	s->n = 0;
}

void samples_free(struct samples *s)
{
	free(s->v);
	*s = (struct samples){ 0 };
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (i >= n - 1)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

struct figure samples_figure(struct samples *s)
{
	struct figure f = { .n = s->n };

	if (!s->n)
		return f;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	f.median = quantile(s->v, s->n, 0.5);
	f.p10 = quantile(s->v, s->n, 0.1);
	f.p90 = quantile(s->v, s->n, 0.9);
	f.min = s->v[0];
	f.max = s->v[s->n - 1];
	return f;
}

/*
 * The kernel keeps per-CPU deltas of its memory counters and folds them
 * into /proc/meminfo now and then; root can have them folded right away
 * through vm.stat_refresh, which makes Shmem exact to the page.
 */
static void stat_refresh(void)
{
	FILE *f;

	if (stat_refresh_ok == 0)
		return;
	f = fopen("/proc/sys/vm/stat_refresh", "w");
	if (f) {
		fputs("1\n", f);
		stat_refresh_ok = fclose(f) == 0;
	} else {
		stat_refresh_ok = 0;
	}
}

int meminfo_read(struct meminfo *m)
{
	char line[128];
	long v;
	FILE *f;
	int got = 0;

	stat_refresh();
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemAvailable: %ld", &v) == 1) {
			m->avail_kib = v;
			got++;
		} else if (sscanf(line, "MemFree: %ld", &v) == 1) {
			m->free_kib = v;
			got++;
		} else if (sscanf(line, "Shmem: %ld", &v) == 1) {
			m->shmem_kib = v;
			got++;
		}
	}
	fclose(f);
	return got == 3 ? 0 : -ENODATA;
}

int output_open(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/bench.tsv", dir);
	tsv = fopen(path, "w");
	if (!tsv) {
		fprintf(stderr, "bench: cannot write %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	fprintf(stderr, "bench: writing %s\n", path);
	return 0;
}

void output_close(void)
{
	if (tsv) {
		fprintf(tsv, "# end\t%s\n", errors ? "errors" : "ok");
		fclose(tsv);
	}
	tsv = NULL;
}

void output_meta(const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(tsv, "# %s\t", key);
	vfprintf(tsv, fmt, ap);
	fputc('\n', tsv);
	va_end(ap);
	fflush(tsv);
	if (!strcmp(key, "columns"))
		return;
	va_start(ap, fmt);
	fprintf(stderr, "bench: %s: ", key);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Numbers in the TSV: integers when large, a few digits otherwise. */
static void put_num(FILE *f, double v)
{
	if (fabs(v) >= 1000)
		fprintf(f, "%.0f", v);
	else if (fabs(v) >= 1)
		fprintf(f, "%.3g", v);
	else
		fprintf(f, "%.4g", v);
}

static const char *human_size(size_t size, char *buf, size_t len)
{
	if (size >= GiB && !(size % GiB))
		snprintf(buf, len, "%zuG", size / GiB);
	else if (size >= MiB && !(size % MiB))
		snprintf(buf, len, "%zuM", size / MiB);
	else if (size >= KiB && !(size % KiB))
		snprintf(buf, len, "%zuK", size / KiB);
	else
		snprintf(buf, len, "%zu", size);
	return buf;
}

void output_figure(const char *test, const char *provider, size_t size,
		   const char *unit, struct samples *s)
{
	struct figure f = samples_figure(s);
	double *vals[] = { &f.median, &f.p10, &f.p90, &f.min, &f.max };
	char hs[24];
	size_t i;

	if (!f.n)
		return;
	fprintf(tsv, "%s\t%s\t%zu\t%s", test, provider, size, unit);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		fputc('\t', tsv);
		put_num(tsv, *vals[i]);
	}
	fprintf(tsv, "\t%d\n", f.n);
	fflush(tsv);

	fprintf(stderr, "  %-22s %-8s %5s  median ", test, provider,
		human_size(size, hs, sizeof(hs)));
	put_num(stderr, f.median);
	fprintf(stderr, " %s  [p10 ", unit);
	put_num(stderr, f.p10);
	fputs(", p90 ", stderr);
	put_num(stderr, f.p90);
	fprintf(stderr, "]  n=%d\n", f.n);
}

void output_skip(const char *test, const char *provider, size_t size,
		 const char *why)
{
	fprintf(tsv, "%s\t%s\t%zu\tskip\t%s\t\t\t\t\t0\n", test, provider,
		size, why);
	fflush(tsv);
	if (verbose)
		fprintf(stderr, "  %-22s %-8s skipped: %s\n", test, provider, why);
}

void output_error(const char *test, const char *provider, size_t size,
		  int err)
{
	char hs[24];

	errors++;
	fprintf(tsv, "%s\t%s\t%zu\terror\t%s:%s\t\t\t\t\t0\n", test, provider,
		size, failed_op(), strerrorname_np(-err) ?: "?");
	fflush(tsv);
	fprintf(stderr, "bench: ERROR: %s %s %s: %s: %s\n", test, provider,
		human_size(size, hs, sizeof(hs)), failed_op(), strerror(-err));
}

int output_errors(void)
{
	return errors;
}
