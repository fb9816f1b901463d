// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugfs: what each client holds and what it costs.
 *
 * swgpu_objects prints one line per (client, handle), in a fixed
 * key-value format that tests and tools parse:
 *
 *   pid <pid> handle <h> size <bytes> resident <pages> pinned <pages>
 *   exported <0|1> imported <0|1> highmem <pages>
 *
 * (on one line). highmem counts resident pages in highmem (32-bit). resident counts allocated, not swapped-out pages;
 * pinned counts page pins swgpu holds: one per page while device
 * mappings or vmaps exist, plus one per page that kernel CPU access
 * ranges cover. For imported objects both count the exporter's pages,
 * which the import keeps mapped.
 *
 * swgpu_fences lists the FENCE_ATTACH fences not yet signalled by hand:
 *
 *   pid <pid> fence <id> <read|write> signaled <0|1> error <errno>
 *
 * swgpu_engine has the engine's counters, one "key value" a line: queued
 * (jobs not finished), running (on the ring now), jobs_done,
 * jobs_failed, jobs_timedout, bytes (written by jobs), and the
 * scheduler's state: its name, ring_credits in use out of the limit,
 * job_timeout_ms, hang_next.
 *
 * swgpu_engine_hang (write-only) is fault injection: each write makes
 * one more of the next jobs to run hang without writing, as a hung
 * engine would, until the job timeout or a cancellation ends it.
 *
 * swgpu_cpu_access counts the ranges the kernel CPU access API began
 * natively (page by page) and through the core's fallback.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <drm/drm_debugfs.h>
#include <drm/drm_device.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>

#include "swgpu_compat.h"
#include "swgpu_drv.h"

static void swgpu_debugfs_print_object(struct seq_file *m, pid_t pid,
				       int handle, struct drm_gem_object *gem)
{
	struct swgpu_object *obj = to_swgpu_obj(gem);

	seq_printf(m,
		   "pid %d handle %d size %zu resident %lu pinned %ld exported %d imported %d highmem %lu\n",
		   pid, handle, gem->size, swgpu_object_resident_pages(obj),
		   swgpu_object_pinned_pages(obj),
		   READ_ONCE(gem->dma_buf) ? 1 : 0,
		   swgpu_obj_is_imported(obj) ? 1 : 0,
		   swgpu_object_highmem_pages(obj));
}

static int swgpu_debugfs_objects(struct seq_file *m, void *unused)
{
	struct drm_info_node *node = m->private;
	struct drm_device *dev = node->minor->dev;
	struct drm_file *file;

	seq_puts(m, "# pid handle size resident pinned exported imported highmem\n");

	mutex_lock(&dev->filelist_mutex);
	list_for_each_entry(file, &dev->filelist, lhead) {
		struct drm_gem_object *gem;
		pid_t pid = swgpu_file_pid_nr(file);
		int handle;

		/* table_lock keeps the objects alive while we look. */
		spin_lock(&file->table_lock);
		idr_for_each_entry(&file->object_idr, gem, handle)
			swgpu_debugfs_print_object(m, pid, handle, gem);
		spin_unlock(&file->table_lock);
	}
	mutex_unlock(&dev->filelist_mutex);
	return 0;
}

/* Which path the kernel CPU access API took, for tests and for users. */
static int swgpu_debugfs_cpu_access(struct seq_file *m, void *unused)
{
	u64 native, foreign;

	swgpu_cpu_access_stats(&native, &foreign);
	seq_printf(m, "native_begins %llu\nforeign_begins %llu\n",
		   native, foreign);
	return 0;
}

static int swgpu_debugfs_fences(struct seq_file *m, void *unused)
{
	struct drm_info_node *node = m->private;
	struct drm_device *dev = node->minor->dev;
	struct drm_file *file;

	seq_puts(m, "# pid fence id read|write signaled error\n");
	mutex_lock(&dev->filelist_mutex);
	list_for_each_entry(file, &dev->filelist, lhead)
		swgpu_fence_debugfs_show(m, swgpu_file_pid_nr(file),
					 file->driver_priv);
	mutex_unlock(&dev->filelist_mutex);
	return 0;
}

static int swgpu_debugfs_engine(struct seq_file *m, void *unused)
{
	struct drm_info_node *node = m->private;

	swgpu_engine_debugfs_show(m, &to_swgpu_dev(node->minor->dev)->engine);
	return 0;
}

static ssize_t swgpu_debugfs_hang_write(struct file *f, const char __user *buf,
					size_t len, loff_t *pos)
{
	struct drm_minor *minor = f->private_data;

	swgpu_engine_hang_next(&to_swgpu_dev(minor->dev)->engine);
	return len;
}

static const struct file_operations swgpu_debugfs_hang_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = swgpu_debugfs_hang_write,
	.llseek = noop_llseek,
};

static const struct drm_info_list swgpu_debugfs_list[] = {
	{ "swgpu_objects", swgpu_debugfs_objects, 0 },
	{ "swgpu_cpu_access", swgpu_debugfs_cpu_access, 0 },
	{ "swgpu_fences", swgpu_debugfs_fences, 0 },
	{ "swgpu_engine", swgpu_debugfs_engine, 0 },
};

/**
 * swgpu_debugfs_init - create swgpu's debugfs files for a DRM minor
 * @minor: the minor whose debugfs directory gets the files
 */
void swgpu_debugfs_init(struct drm_minor *minor)
{
	drm_debugfs_create_files(swgpu_debugfs_list,
				 ARRAY_SIZE(swgpu_debugfs_list),
				 minor->debugfs_root, minor);
	debugfs_create_file("swgpu_engine_hang", 0200, minor->debugfs_root,
			    minor, &swgpu_debugfs_hang_fops);
}
