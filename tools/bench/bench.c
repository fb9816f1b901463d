// SPDX-License-Identifier: MIT
/*
 * swgpu-bench: measures swgpu against vgem, udmabuf and the system
 * dma-heap inside one VM run. See --help, and docs/benchmarks.rst for how
 * to read the results. Fails (exit 1) only when an operation fails, never
 * because of a figure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static const char usage_text[] =
"Usage: swgpu-bench [--quick] [--out DIR] [--only TESTS] [--providers LIST]\n"
"                   [--held N] [--verbose] [--help]\n"
"\n"
"Measures buffer operations on swgpu, vgem and, where the kernel has them,\n"
"udmabuf (/dev/udmabuf) and the system dma-heap (/dev/dma_heap/system), and\n"
"writes DIR/bench.tsv. Run it as root with swgpu and vgem loaded (inside\n"
"tools/vm/boot.sh; tools/bench.sh does all of it).\n"
"\n"
"  --quick           a few iterations of small sizes only (a smoke run of\n"
"                    every code path, for make check: seconds, not minutes):\n"
"                    touch1 64K 1M, fault/stream/sync 1M, cpu-access on a\n"
"                    4M buffer, 100 held imports, 2 to 10 rounds a figure\n"
"  --out DIR         where bench.tsv goes (default: $SWGPU_OUT, else .)\n"
"  --only TESTS      comma-separated subset of the tests below\n"
"  --providers LIST  comma-separated subset of swgpu,swgpu-huge,vgem,udmabuf,\n"
"                    heap\n"
"  --held N          live imports held for prime-rt-*-held (default 10000,\n"
"                    quick: 100)\n"
"  --verbose         also report skips and udmabuf limit changes on stderr\n"
"\n"
"Tests (figure names in bench.tsv in brackets):\n"
"  touch1  create a buffer, map it, write one byte, unmap, close, for\n"
"          64K 1M 16M 256M 1G [create-touch1, us]; and the memory that\n"
"          cost, read from /proc/meminfo (after vm.stat_refresh) while the\n"
"          buffer is mapped [create-touch1-mem, KiB]: the rise of Shmem\n"
"          for swgpu, vgem and udmabuf, whose pages are shmem (exact to\n"
"          the page), the drop of MemAvailable for the heap (its pages\n"
"          are not shmem). Both raw deltas for every provider\n"
"          [create-touch1-shmem, create-touch1-avail], and for swgpu the\n"
"          object's resident pages in debugfs swgpu_objects\n"
"          [create-touch1-resident, KiB]; for the smallest size, the time\n"
"          of each step: GEM_CREATE or allocation, export/map, the touch,\n"
"          unmap + close [create-touch1-{create,map,touch,close}, us]\n"
"  fault   the same but write every page, 4M 16M 64M 256M\n"
"          [create-touchall, pages/s]\n"
"  stream  memset into / memcpy out of a 32M buffer's mapping, as a\n"
"          ratio to the same on anonymous memory, measured alternately\n"
"          [stream-{write,read}-{gem,dmabuf}, x-anon]; the anonymous\n"
"          baselines themselves [memset-anon, memcpy-anon, MiB/s]\n"
"  prime   handle -> PRIME fd -> handle in a second file of the same\n"
"          device, then close the fd and both handles, 64K objects\n"
"          [prime-rt, us]; the same with N other objects exported and\n"
"          imported and held [prime-rt-10k-held, us]\n"
"  import  PRIME fd -> handle + GEM_CLOSE of another provider's 64K\n"
"          dma-buf in swgpu and in vgem [import-from-PROVIDER, us]\n"
"  scale   (full runs only) 1k, 100k, 1M live 4K objects of swgpu and vgem\n"
"          (a count is skipped when the memory the smaller one cost per\n"
"          object says it would not fit): kernel memory per live object,\n"
"          from the rise of Slab [scale-slab, B] and the drop of MemFree\n"
"          [scale-memfree, B], and the time of one more create + PRIME\n"
"          export + close at that count [scale-create-export-close, us];\n"
"          size is the count\n"
"  sync    DMA_BUF_IOCTL_SYNC START+END (read-write) on the dma-buf of\n"
"          a fully touched 1M and 256M buffer [dmabuf-sync, us]; swgpu's\n"
"          CPU_ACCESS START+END on 4K of a touched 256M buffer\n"
"          [cpu-access-4k, us]\n"
"  engine  swgpu's engine: one FILL and one COPY job over a whole 32M\n"
"          buffer, and (not with --quick) a FILL of a 1G object and a\n"
"          COPY of its lower half onto its upper half in 2M commands, as\n"
"          a ratio to memset/memcpy of the same bytes in calls of the\n"
"          same size on anonymous memory, measured alternately; on\n"
"          swgpu's objects and on swgpu-huge's\n"
"          [engine-{fill,copy}, x-memset/x-memcpy; -rate, MiB/s]; the\n"
"          same on swgpu's objects with swgpu's engine_lanes set to 1\n"
"          for the time, a job on one CPU [engine-{fill,copy}-1lane]\n"
"\n"
"Providers: swgpu (GEM_CREATE, GEM mapping via GEM_MMAP_OFFSET), swgpu-huge\n"
"(the same with SWGPU_GEM_CREATE_HUGE; full runs only), vgem\n"
"(dumb buffers on its primary node, MAP_DUMB), udmabuf (a sealed memfd),\n"
"heap (DMA_HEAP_IOCTL_ALLOC). swgpu and vgem must be there (else exit 1);\n"
"a missing udmabuf or heap is noted in bench.tsv and left out. A buffer\n"
"whose resident part would leave less than 1/8 of it + 64 MiB of\n"
"MemAvailable is skipped (unit 'skip'): give the VM 2 GiB for the 1G\n"
"cases. udmabuf's size_limit_mb parameter is raised when a size needs it.\n"
"\n"
"bench.tsv: '# key<TAB>value' lines (kernel, nproc, MemTotal, ...), then\n"
"  test provider size unit median p10 p90 min max n\n"
"one line per figure (size in bytes; percentiles interpolated). unit\n"
"'skip' or 'error' marks a figure that was not measured; the median column\n"
"then says why. Repetitions: each figure runs until it has its minimum\n"
"count and its time budget is spent, or its maximum count; sizes up to\n"
"16M and the PRIME figures run one untimed round first.\n"
"\n"
"Exit status: 0, 1 if any operation failed, 2 for a usage error.\n";

static void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	exit(status);
}

static void config_full(struct config *c)
{
	*c = (struct config){
		.touch1_sizes = { 64 * KiB, MiB, 16 * MiB, 256 * MiB, GiB },
		.fault_sizes = { 4 * MiB, 16 * MiB, 64 * MiB, 256 * MiB },
		.stream_size = 32 * MiB,
		.prime_size = 64 * KiB,
		.prime_live = 10000,
		.sync_sizes = { MiB, 256 * MiB },
		.cpu_access_buf = 256 * MiB,
		.engine_big = GiB,
		.scale_counts = { 1000, 100000, 1000000 },
		.touch1 = { 5, 100, 1.0 },
		.touch1_big = { 5, 10, 2.0 },
		.fault = { 5, 20, 2.0 },
		.stream = { 7, 25, 2.0 },
		.prime = { 50, 5000, 1.0 },
		.sync = { 5, 500, 1.0 },
		.engine = { 5, 25, 2.0 },
		.scale = { 50, 200, 1.0 },
	};
}

static void config_quick(struct config *c)
{
	*c = (struct config){
		.quick = true,
		.touch1_sizes = { 64 * KiB, MiB },
		.fault_sizes = { MiB },
		.stream_size = MiB,
		.prime_size = 64 * KiB,
		.prime_live = 100,
		.sync_sizes = { MiB },
		.cpu_access_buf = 4 * MiB,
		.touch1 = { 2, 3, 0 },
		.touch1_big = { 2, 3, 0 },
		.fault = { 2, 3, 0 },
		.stream = { 2, 3, 0 },
		.prime = { 5, 10, 0 },
		.sync = { 3, 5, 0 },
		.engine = { 2, 3, 0 },
	};
}

static long meminfo_field(const char *name)
{
	char line[128], key[64];
	long v, found = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[^:]: %ld", key, &v) == 2 &&
		    !strcmp(key, name))
			found = v;
	fclose(f);
	return found;
}

static void cpu_model(char *buf, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			colon += 2;
			colon[strcspn(colon, "\n")] = 0;
			snprintf(buf, len, "%s", colon);
			break;
		}
	}
	fclose(f);
}

void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "-");
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

int write_line(const char *path, const char *line)
{
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%s\n", line) < 0)
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

static void identity(const struct config *cfg)
{
	struct utsname u;
	char buf[256];
	time_t t = time(NULL);
	struct provider *p;

	uname(&u);
	output_meta("bench", "swgpu-bench 1");
	output_meta("mode", "%s", cfg->quick ? "quick" : "full");
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	output_meta("date", "%s", buf);
	output_meta("kernel", "%s", u.release);
	output_meta("kernel_version", "%s", u.version);
	output_meta("machine", "%s", u.machine);
	output_meta("nproc", "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	cpu_model(buf, sizeof(buf));
	output_meta("cpu", "%s", buf);
	output_meta("memtotal_kib", "%ld", meminfo_field("MemTotal"));
	output_meta("memavailable_kib", "%ld", meminfo_field("MemAvailable"));
	read_line("/sys/module/swgpu/srcversion", buf, sizeof(buf));
	output_meta("swgpu_srcversion", "%s", buf);
	read_line("/sys/module/swgpu/parameters/engine_lanes", buf, sizeof(buf));
	output_meta("swgpu_engine_lanes", "%s", buf);
	read_line("/sys/module/udmabuf/parameters/size_limit_mb", buf, sizeof(buf));
	output_meta("udmabuf_size_limit_mb", "%s", buf);
	for (p = providers; p < providers + NPROV; p++)
		output_meta("provider", "%s\t%s", p->name,
			    p->available ? "yes" : p->why);
	output_meta("held_imports", "%d", cfg->prime_live);
	output_meta("columns", "test\tprovider\tsize\tunit\tmedian\tp10\tp90\tmin\tmax\tn");
}

static bool test_selected(const char *only, const char *name)
{
	char *list, *tok, *save;
	bool hit = false;

	if (!only)
		return true;
	list = strdup(only);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		hit |= !strcmp(tok, name);
	free(list);
	return hit;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "out", required_argument, NULL, 'o' },
		{ "only", required_argument, NULL, 't' },
		{ "providers", required_argument, NULL, 'p' },
		{ "held", required_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = getenv("SWGPU_OUT"), *only = NULL, *provs = NULL;
	bool quick = false;
	const struct test *t;
	struct provider *p;
	struct config cfg;
	int held = -1, c;
	double t0;

	while ((c = getopt_long(argc, argv, "qo:t:p:H:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quick = true; break;
		case 'o': out = optarg; break;
		case 't': only = optarg; break;
		case 'p': provs = optarg; break;
		case 'H': held = atoi(optarg); break;
		case 'v': verbose = true; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (only) {
		char *list = strdup(only), *tok, *save;

		for (tok = strtok_r(list, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			for (t = tests; t->name && strcmp(t->name, tok); t++)
				;
			if (!t->name) {
				fprintf(stderr, "bench: unknown test '%s'\n", tok);
				usage(2);
			}
		}
		free(list);
	}
	if (quick)
		config_quick(&cfg);
	else
		config_full(&cfg);
	if (held >= 0)
		cfg.prime_live = held;

	setvbuf(stderr, NULL, _IOLBF, 0);
	if (output_open(out ? out : "."))
		return 2;
	providers_open(provs, quick);
	identity(&cfg);
	for (p = providers; p < providers + NPROV; p++) {
		if (p->required && !p->available) {
			set_failed_op(p->why);
			output_error("open", p->name, 0, -ENODEV);
		}
	}

	t0 = now_s();
	for (t = tests; t->name; t++) {
		double ts = now_s();

		if (!test_selected(only, t->name))
			continue;
		fprintf(stderr, "bench: %s: %s\n", t->name, t->what);
		t->run(&cfg);
		fprintf(stderr, "bench: %s took %.1f s\n", t->name, now_s() - ts);
	}
	output_meta("elapsed_s", "%.1f", now_s() - t0);
	providers_close();
	output_close();
	if (output_errors()) {
		fprintf(stderr, "bench: %d operation(s) failed\n", output_errors());
		return 1;
	}
	return 0;
}
