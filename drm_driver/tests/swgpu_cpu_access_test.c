// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of swgpu's kernel CPU access contract, run on dma-bufs that user
 * space hands over by file descriptor, so that real exporters (swgpu,
 * vgem, udmabuf, dma-heaps) are tested the same way.
 *
 * debugfs swgpu_cpu_access_test/ctl takes one command per write:
 *
 *   run <label> <fd>              run every case on the dma-buf <fd>
 *   hold <fd> <start> <len> <rw>  begin a range and keep it (rw: r, w, rw)
 *   vmap <fd>                     vmap the whole dma-buf and keep the mapping
 *   release                       end every held range and mapping
 *
 * swgpu_cpu_access_test/results returns one line per case so far,
 * "ok <label>:<case>" or "not ok <label>:<case> # <why>"; the user-space
 * runner numbers them into a KTAP document.
 *
 * Cases that must make the API warn print "swgpu_test: expect warning
 * begin/end" around the call; the harness ignores kernel warnings between
 * those two lines and nowhere else.
 */

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/iosys-map.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/swgpu_dma_buf.h>

#include "../swgpu_compat.h"
#include <linux/uaccess.h>

#define RESULTS_SIZE	(64 * 1024)

struct swgpu_test_hold {
	struct list_head link;
	struct dma_buf *dmabuf;
	size_t start, len;
	enum dma_data_direction dir;
	bool vmapped;		/* a vmap held in @map, not a range */
	struct iosys_map map;
};

static DEFINE_MUTEX(swgpu_test_lock);
static char *swgpu_test_results;
static size_t swgpu_test_results_len;
static LIST_HEAD(swgpu_test_holds);
static struct dentry *swgpu_test_dir;

static void report(bool ok, const char *label, const char *name,
		   const char *why)
{
	size_t room = RESULTS_SIZE - swgpu_test_results_len;
	int n;

	n = snprintf(swgpu_test_results + swgpu_test_results_len, room,
		     "%s %s:%s%s%s\n", ok ? "ok" : "not ok", label, name,
		     ok ? "" : " # ", ok ? "" : why);
	if (n > 0 && n < room)
		swgpu_test_results_len += n;
}

static void expect_warning(bool begin)
{
	pr_info("swgpu_test: expect warning %s\n", begin ? "begin" : "end");
}

static u32 pattern(unsigned long page, size_t word, u32 seed)
{
	return seed ^ (page * 0x9e3779b9u) ^ (u32)word;
}

/* Write a pattern into page @p through kmap, read it back through kmap_atomic. */
static const char *roundtrip_page(struct dma_buf *buf, unsigned long p,
				  u32 seed)
{
	size_t words = PAGE_SIZE / sizeof(u32), i;
	u32 *vaddr;
	int ret;

	ret = swgpu_dma_buf_begin_cpu_access(buf, p * PAGE_SIZE, PAGE_SIZE,
					     DMA_TO_DEVICE);
	if (!(ret == 0))
		return "failed: ret == 0";
	vaddr = swgpu_dma_buf_kmap(buf, p);
	if (!vaddr) {
		swgpu_dma_buf_end_cpu_access(buf, p * PAGE_SIZE, PAGE_SIZE,
					     DMA_TO_DEVICE);
		return "kmap returned NULL inside the range";
	}
	for (i = 0; i < words; i++)
		vaddr[i] = pattern(p, i, seed);
	swgpu_dma_buf_kunmap(buf, p, vaddr);
	swgpu_dma_buf_end_cpu_access(buf, p * PAGE_SIZE, PAGE_SIZE,
				     DMA_TO_DEVICE);

	ret = swgpu_dma_buf_begin_cpu_access(buf, p * PAGE_SIZE, PAGE_SIZE,
					     DMA_FROM_DEVICE);
	if (!(ret == 0))
		return "failed: ret == 0";
	vaddr = swgpu_dma_buf_kmap_atomic(buf, p);
	for (i = 0; vaddr && i < words; i++)
		if (vaddr[i] != pattern(p, i, seed))
			break;
	swgpu_dma_buf_kunmap_atomic(buf, p, vaddr);
	swgpu_dma_buf_end_cpu_access(buf, p * PAGE_SIZE, PAGE_SIZE,
				     DMA_FROM_DEVICE);
	if (!(vaddr))
		return "failed: vaddr";
	if (!(i == words))
		return "failed: i == words";
	return NULL;
}

static unsigned long npages(struct dma_buf *buf)
{
	return buf->size >> PAGE_SHIFT;
}

static const char *case_roundtrip_first(struct dma_buf *buf)
{
	return roundtrip_page(buf, 0, 0x1111);
}

static const char *case_roundtrip_middle(struct dma_buf *buf)
{
	return roundtrip_page(buf, npages(buf) / 2, 0x2222);
}

static const char *case_roundtrip_last(struct dma_buf *buf)
{
	return roundtrip_page(buf, npages(buf) - 1, 0x3333);
}

static const char *case_len_zero(struct dma_buf *buf)
{
	if (!(swgpu_dma_buf_begin_cpu_access(buf, 0, 0, DMA_FROM_DEVICE) ==
	      -EINVAL))
		return "failed: swgpu_dma_buf_begin_cpu_access(buf, 0, 0, DMA_FROM_DEVICE) == -EINVAL";
	return NULL;
}

static const char *case_past_end(struct dma_buf *buf)
{
	if (!(swgpu_dma_buf_begin_cpu_access(buf, buf->size, 1,
					     DMA_FROM_DEVICE) == -EINVAL))
		return "failed: swgpu_dma_buf_begin_cpu_access(buf, buf->size, 1, DMA_FROM_DEVICE) == -EINVAL";
	if (!(swgpu_dma_buf_begin_cpu_access(buf, buf->size - 1, 2,
					     DMA_FROM_DEVICE) == -EINVAL))
		return "failed: swgpu_dma_buf_begin_cpu_access(buf, buf->size - 1, 2, DMA_FROM_DEVICE) == -EINVAL";
	if (!(swgpu_dma_buf_begin_cpu_access(buf, 0, buf->size + 1,
					     DMA_FROM_DEVICE) == -EINVAL))
		return "failed: swgpu_dma_buf_begin_cpu_access(buf, 0, buf->size + 1, DMA_FROM_DEVICE) == -EINVAL";
	return NULL;
}

static const char *case_overflow(struct dma_buf *buf)
{
	if (!(swgpu_dma_buf_begin_cpu_access(buf, SIZE_MAX - 1, 4,
					     DMA_FROM_DEVICE) == -EINVAL))
		return "failed: swgpu_dma_buf_begin_cpu_access(buf, SIZE_MAX - 1, 4, DMA_FROM_DEVICE) == -EINVAL";
	if (!(swgpu_dma_buf_begin_cpu_access(buf, PAGE_SIZE, SIZE_MAX,
					     DMA_FROM_DEVICE) == -EINVAL))
		return "failed: swgpu_dma_buf_begin_cpu_access(buf, PAGE_SIZE, SIZE_MAX, DMA_FROM_DEVICE) == -EINVAL";
	return NULL;
}

static const char *case_bad_direction(struct dma_buf *buf)
{
	if (!(swgpu_dma_buf_begin_cpu_access(buf, 0, 1, DMA_NONE) == -EINVAL))
		return "failed: swgpu_dma_buf_begin_cpu_access(buf, 0, 1, DMA_NONE) == -EINVAL";
	if (!(swgpu_dma_buf_begin_cpu_access(buf, 0, 1, 42) == -EINVAL))
		return "failed: swgpu_dma_buf_begin_cpu_access(buf, 0, 1, 42) == -EINVAL";
	return NULL;
}

static const char *case_null_dmabuf(struct dma_buf *buf)
{
	int ret;
	void *vaddr;

	expect_warning(true);
	ret = swgpu_dma_buf_begin_cpu_access(NULL, 0, 1, DMA_FROM_DEVICE);
	vaddr = swgpu_dma_buf_kmap(NULL, 0);
	expect_warning(false);
	if (!(ret == -EINVAL))
		return "failed: ret == -EINVAL";
	if (!(!vaddr))
		return "failed: !vaddr";
	return NULL;
}

static const char *case_kmap_outside_range(struct dma_buf *buf)
{
	void *a, *b;
	int ret;

	ret = swgpu_dma_buf_begin_cpu_access(buf, 0, PAGE_SIZE,
					     DMA_FROM_DEVICE);
	if (!(ret == 0))
		return "failed: ret == 0";
	expect_warning(true);
	a = swgpu_dma_buf_kmap(buf, 1);
	b = swgpu_dma_buf_kmap_atomic(buf, 1);
	expect_warning(false);
	swgpu_dma_buf_end_cpu_access(buf, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	if (!(!a))
		return "failed: !a";
	if (!(!b))
		return "failed: !b";
	return NULL;
}

static bool mappable(struct dma_buf *buf, unsigned long p)
{
	void *vaddr;

	expect_warning(true);
	vaddr = swgpu_dma_buf_kmap_atomic(buf, p);
	expect_warning(false);
	swgpu_dma_buf_kunmap_atomic(buf, p, vaddr);
	return vaddr;
}

static const char *case_one_byte(struct dma_buf *buf)
{
	size_t off = PAGE_SIZE + 17;
	u8 *vaddr;
	int ret;

	ret = swgpu_dma_buf_begin_cpu_access(buf, off, 1, DMA_BIDIRECTIONAL);
	if (!(ret == 0))
		return "failed: ret == 0";
	vaddr = swgpu_dma_buf_kmap(buf, 1);
	if (vaddr)
		vaddr[17] = 0xa5;
	swgpu_dma_buf_kunmap(buf, 1, vaddr);
	ret = mappable(buf, 0) || mappable(buf, 2);
	swgpu_dma_buf_end_cpu_access(buf, off, 1, DMA_BIDIRECTIONAL);
	if (!(vaddr))
		return "failed: vaddr";
	if (!(!ret))
		return "failed: !ret";
	return NULL;
}

static const char *case_straddle(struct dma_buf *buf)
{
	size_t off = 2 * PAGE_SIZE - 1;
	bool a, b, c;
	int ret;

	ret = swgpu_dma_buf_begin_cpu_access(buf, off, 2, DMA_FROM_DEVICE);
	if (!(ret == 0))
		return "failed: ret == 0";
	a = mappable(buf, 1);
	b = mappable(buf, 2);
	c = mappable(buf, 3);
	swgpu_dma_buf_end_cpu_access(buf, off, 2, DMA_FROM_DEVICE);
	if (!(a && b))
		return "failed: a && b";
	if (!(!c))
		return "failed: !c";
	return NULL;
}

static const char *case_nesting(struct dma_buf *buf)
{
	bool in_a, in_b, left_a, after;
	int ret;

	/* A covers pages 0-3, B pages 2-5; end A first, B stays valid. */
	ret = swgpu_dma_buf_begin_cpu_access(buf, 0, 4 * PAGE_SIZE,
					     DMA_FROM_DEVICE);
	if (!(ret == 0))
		return "failed: ret == 0";
	ret = swgpu_dma_buf_begin_cpu_access(buf, 2 * PAGE_SIZE,
					     4 * PAGE_SIZE, DMA_TO_DEVICE);
	if (ret) {
		swgpu_dma_buf_end_cpu_access(buf, 0, 4 * PAGE_SIZE,
					     DMA_FROM_DEVICE);
		return "second, overlapping begin failed";
	}
	in_a = mappable(buf, 0) && mappable(buf, 3);
	in_b = mappable(buf, 5);
	swgpu_dma_buf_end_cpu_access(buf, 0, 4 * PAGE_SIZE, DMA_FROM_DEVICE);
	left_a = !mappable(buf, 1) && mappable(buf, 2) && mappable(buf, 3);
	swgpu_dma_buf_end_cpu_access(buf, 2 * PAGE_SIZE, 4 * PAGE_SIZE,
				     DMA_TO_DEVICE);
	after = !mappable(buf, 2) && !mappable(buf, 5);
	if (!(in_a && in_b))
		return "failed: in_a && in_b";
	if (!(left_a))
		return "failed: left_a";
	if (!(after))
		return "failed: after";
	return NULL;
}

static const char *case_nested_same_range(struct dma_buf *buf)
{
	bool inner, outer;
	int ret;

	ret = swgpu_dma_buf_begin_cpu_access(buf, 0, PAGE_SIZE,
					     DMA_FROM_DEVICE);
	if (!(ret == 0))
		return "failed: ret == 0";
	ret = swgpu_dma_buf_begin_cpu_access(buf, 0, PAGE_SIZE,
					     DMA_FROM_DEVICE);
	if (ret) {
		swgpu_dma_buf_end_cpu_access(buf, 0, PAGE_SIZE,
					     DMA_FROM_DEVICE);
		return "second begin of the same range failed";
	}
	swgpu_dma_buf_end_cpu_access(buf, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	inner = mappable(buf, 0);
	swgpu_dma_buf_end_cpu_access(buf, 0, PAGE_SIZE, DMA_FROM_DEVICE);
	outer = !mappable(buf, 0);
	if (!(inner))
		return "failed: inner";
	if (!(outer))
		return "failed: outer";
	return NULL;
}

static DEFINE_SPINLOCK(swgpu_test_spinlock);

static const char *case_kmap_atomic_spinlock(struct dma_buf *buf)
{
	unsigned long p = npages(buf) - 1;
	u32 *vaddr, first = 0;
	int ret;

	ret = swgpu_dma_buf_begin_cpu_access(buf, p * PAGE_SIZE, PAGE_SIZE,
					     DMA_BIDIRECTIONAL);
	if (!(ret == 0))
		return "failed: ret == 0";
	spin_lock(&swgpu_test_spinlock);
	vaddr = swgpu_dma_buf_kmap_atomic(buf, p);
	if (vaddr) {
		vaddr[0] = 0xfeedf00d;
		first = vaddr[0];
	}
	swgpu_dma_buf_kunmap_atomic(buf, p, vaddr);
	spin_unlock(&swgpu_test_spinlock);
	swgpu_dma_buf_end_cpu_access(buf, p * PAGE_SIZE, PAGE_SIZE,
				     DMA_BIDIRECTIONAL);
	if (!(vaddr))
		return "failed: vaddr";
	if (!(first == 0xfeedf00d))
		return "failed: first == 0xfeedf00d";
	return NULL;
}

static const char *case_end_releases_all(struct dma_buf *buf)
{
	unsigned long p;

	for (p = 0; p < npages(buf); p++)
		if (mappable(buf, p))
			return "a page is still mappable after every end";
	return NULL;
}

static const struct {
	const char *name;
	const char *(*fn)(struct dma_buf *buf);
} swgpu_test_cases[] = {
	{ "len-zero", case_len_zero },
	{ "range-past-end", case_past_end },
	{ "range-overflow", case_overflow },
	{ "bad-direction", case_bad_direction },
	{ "null-dmabuf", case_null_dmabuf },
	{ "kmap-outside-range", case_kmap_outside_range },
	{ "roundtrip-first-page", case_roundtrip_first },
	{ "roundtrip-middle-page", case_roundtrip_middle },
	{ "roundtrip-last-page", case_roundtrip_last },
	{ "one-byte-range", case_one_byte },
	{ "page-straddling-range", case_straddle },
	{ "overlapping-ranges", case_nesting },
	{ "nested-same-range", case_nested_same_range },
	{ "kmap-atomic-under-spinlock", case_kmap_atomic_spinlock },
	{ "end-releases-everything", case_end_releases_all },
};

/* The cases need at least six pages. */
#define MIN_PAGES	6

static int cmd_run(const char *label, int fd)
{
	struct dma_buf *buf;
	int i;

	buf = dma_buf_get(fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	for (i = 0; i < ARRAY_SIZE(swgpu_test_cases); i++) {
		const char *why = "buffer smaller than six pages";

		if (buf->size >= MIN_PAGES * PAGE_SIZE)
			why = swgpu_test_cases[i].fn(buf);
		report(!why, label, swgpu_test_cases[i].name, why);
	}
	dma_buf_put(buf);
	return 0;
}

static int cmd_hold(int fd, size_t start, size_t len, const char *rw)
{
	enum dma_data_direction dir = DMA_BIDIRECTIONAL;
	struct swgpu_test_hold *h;
	struct dma_buf *dmabuf;
	int ret;

	if (!strcmp(rw, "r"))
		dir = DMA_FROM_DEVICE;
	else if (!strcmp(rw, "w"))
		dir = DMA_TO_DEVICE;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	/*
	 * begin comes first, so that a test injecting allocation failures
	 * reaches it, and sees its error and its rollback.
	 */
	ret = swgpu_dma_buf_begin_cpu_access(dmabuf, start, len, dir);
	if (ret)
		goto err_put;

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h) {
		swgpu_dma_buf_end_cpu_access(dmabuf, start, len, dir);
		ret = -ENOMEM;
		goto err_put;
	}
	h->dmabuf = dmabuf;
	h->start = start;
	h->len = len;
	h->dir = dir;
	list_add(&h->link, &swgpu_test_holds);
	return 0;

err_put:
	dma_buf_put(dmabuf);
	return ret;
}

/* A kernel vmap kept until release: the memory pressure suite's pin. */
static int cmd_vmap(int fd)
{
	struct swgpu_test_hold *h;
	struct dma_buf *dmabuf;
	int ret;

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf)) {
		kfree(h);
		return PTR_ERR(dmabuf);
	}
	ret = swgpu_dma_buf_vmap_unlocked(dmabuf, &h->map);
	if (ret) {
		dma_buf_put(dmabuf);
		kfree(h);
		return ret;
	}
	h->dmabuf = dmabuf;
	h->vmapped = true;
	list_add(&h->link, &swgpu_test_holds);
	return 0;
}

static void cmd_release(void)
{
	struct swgpu_test_hold *h, *tmp;

	list_for_each_entry_safe(h, tmp, &swgpu_test_holds, link) {
		if (h->vmapped)
			swgpu_dma_buf_vunmap_unlocked(h->dmabuf, &h->map);
		else
			swgpu_dma_buf_end_cpu_access(h->dmabuf, h->start,
						     h->len, h->dir);
		dma_buf_put(h->dmabuf);
		list_del(&h->link);
		kfree(h);
	}
}

static ssize_t ctl_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	char cmd[128], label[32], rw[4];
	unsigned long start, len;
	int fd, ret;

	if (count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';

	mutex_lock(&swgpu_test_lock);
	if (sscanf(cmd, "run %31s %d", label, &fd) == 2)
		ret = cmd_run(label, fd);
	else if (sscanf(cmd, "hold %d %lu %lu %3s", &fd, &start, &len, rw) == 4)
		ret = cmd_hold(fd, start, len, rw);
	else if (sscanf(cmd, "vmap %d", &fd) == 1)
		ret = cmd_vmap(fd);
	else if (!strncmp(cmd, "release", 7))
		ret = 0, cmd_release();
	else
		ret = -EINVAL;
	mutex_unlock(&swgpu_test_lock);

	return ret ? ret : count;
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.write = ctl_write,
};

static int results_show(struct seq_file *m, void *unused)
{
	mutex_lock(&swgpu_test_lock);
	seq_write(m, swgpu_test_results, swgpu_test_results_len);
	mutex_unlock(&swgpu_test_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(results);

static bool leak_canary;
module_param(leak_canary, bool, 0444);
MODULE_PARM_DESC(leak_canary,
		 "Leak tagged objects on load, on purpose, for the harness to prove that its kmemleak and kernel log checks report leaks (testing only)");

/*
 * The harness's proof that its leak checks can fail: 64-byte objects
 * filled with a tag that kmemleak's hex dump shows ("swgpu:leak-test!"
 * per 16-byte row), whose pointers are dropped here. Eight, not one:
 * kmemleak is conservative, and a stale copy of the last pointer (in
 * the cached kernel stack of the task that loaded the module, say) keeps
 * that object from being reported; a debug-tier run once reported none
 * of a single canary. Each new pointer overwrites the last, so at most
 * one can hide. The harness (tools/vm/guest-tests.sh) expects these
 * leaks and nothing else.
 */
#define SWGPU_TEST_LEAK_CANARIES 8

static noinline void swgpu_test_leak_canary(void)
{
	int n, i;

	for (n = 0; n < SWGPU_TEST_LEAK_CANARIES; n++) {
		char *p = kmalloc(64, GFP_KERNEL);

		if (!p)
			return;
		for (i = 0; i < 64; i += 16)
			memcpy(p + i, "swgpu:leak-test!", 16);
		/* Keep the stores, which nothing reads, from being optimised out. */
		OPTIMIZER_HIDE_VAR(p);
	}
}

static int __init swgpu_test_init(void)
{
	if (leak_canary)
		swgpu_test_leak_canary();

	swgpu_test_results = kzalloc(RESULTS_SIZE, GFP_KERNEL);
	if (!swgpu_test_results)
		return -ENOMEM;

	swgpu_test_dir = debugfs_create_dir("swgpu_cpu_access_test", NULL);
	debugfs_create_file("ctl", 0200, swgpu_test_dir, NULL, &ctl_fops);
	debugfs_create_file("results", 0444, swgpu_test_dir, NULL,
			    &results_fops);
	return 0;
}

static void __exit swgpu_test_exit(void)
{
	debugfs_remove_recursive(swgpu_test_dir);
	cmd_release();
	kfree(swgpu_test_results);
}

module_init(swgpu_test_init);
module_exit(swgpu_test_exit);

MODULE_DESCRIPTION("Tests of swgpu's kernel CPU access contract");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DMA_BUF");
