/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * swgpu: internal declarations shared by the driver's files.
 */
#ifndef _SWGPU_DRV_H_
#define _SWGPU_DRV_H_

#include <linux/atomic.h>
#include <linux/idr.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <drm/drm_device.h>
#include <drm/drm_gem.h>
#include <drm/drm_mode.h>
#include <drm/gpu_scheduler.h>

struct dma_buf;
struct drm_file;
struct drm_swgpu_cmd;
struct mem_cgroup;
struct page;
struct platform_device;
struct seq_file;
struct sg_table;

#define SWGPU_DRIVER_NAME	"swgpu"

struct swgpu_exec_phase;
struct swgpu_queue;

/**
 * struct swgpu_engine - the software engine that runs SUBMIT jobs
 * @sched: the device's GPU scheduler
 * @ring: runs the jobs the scheduler hands over, one at a time
 * @wq: finishes the entities of closed files
 * @lanes: runs the helper lanes of the job on the ring
 * @fence_context: the ring's fence context
 * @seqno: the last ring fence's seqno
 * @hang_wait: where a hang-injected job waits for its end
 * @hang_next: jobs still to hang (debugfs fault injection)
 * @queued: jobs submitted and not yet finished
 * @running: jobs on the ring now
 * @jobs_done: jobs finished without error
 * @jobs_failed: jobs finished with an error (cancelled ones included)
 * @jobs_timedout: failed jobs that timed out while running
 * @bytes: bytes written by jobs
 */
struct swgpu_engine {
	struct drm_gpu_scheduler sched;
	struct workqueue_struct *ring;
	struct workqueue_struct *wq;
	struct workqueue_struct *lanes;
	u64 fence_context;
	u64 seqno;
	wait_queue_head_t hang_wait;
	atomic_t hang_next;
	atomic_t queued;
	atomic_t running;
	atomic64_t jobs_done;
	atomic64_t jobs_failed;
	atomic64_t jobs_timedout;
	atomic64_t bytes;
};

/**
 * struct swgpu_device - the one swgpu DRM device
 * @drm: the DRM device
 * @platform: the platform device it hangs off, which gives importers a
 *	struct device to map DMA against
 * @engine: the software engine
 */
struct swgpu_device {
	struct drm_device drm;
	struct platform_device *platform;
	struct swgpu_engine engine;
};

static inline struct swgpu_device *to_swgpu_dev(struct drm_device *dev)
{
	return container_of(dev, struct swgpu_device, drm);
}

/**
 * struct swgpu_file - swgpu's state for one open DRM file
 * @fences: FENCE_ATTACH fences by id; signalled ones stay as NULL so
 *	that ids are never reused
 * @fence_lock: protects @fences
 * @queue: the engine's queue for this file's jobs
 */
struct swgpu_file {
	struct idr fences;
	struct mutex fence_lock;
	struct swgpu_queue *queue;
};

/**
 * struct swgpu_object - a swgpu GEM object
 * @base: the GEM object; base.filp is the shmem file for objects swgpu
 *	backs itself and NULL for imported ones
 * @lock: protects @pages, @pages_pin_count, @vaddr, @vmap_count and
 *	@mapped_attachments; taken inside the reservation lock, never
 *	around it
 * @pages: every page of the object, held while @pages_pin_count > 0
 * @pages_pin_count: users of @pages (mapped attachments, vmaps)
 * @vaddr: kernel mapping of @pages while @vmap_count > 0
 * @vmap_count: users of @vaddr
 * @mapped_attachments: exported attachments with a live DMA mapping,
 *	which CPU access must make coherent
 * @pinned_pages: pages this object holds pinned, for debugfs
 * @cpu_pages: pages pinned by kernel CPU access ranges, by index; changed
 *	under @lock, looked up locklessly
 * @import_sgt: the exporter's mapping, for imported objects
 */
struct swgpu_object {
	struct drm_gem_object base;
	struct mutex lock;
	struct page **pages;
	unsigned int pages_pin_count;
	void *vaddr;
	unsigned int vmap_count;
	struct list_head mapped_attachments;
	atomic_long_t pinned_pages;
	struct xarray cpu_pages;
	struct sg_table *import_sgt;
};

static inline struct swgpu_object *to_swgpu_obj(struct drm_gem_object *obj)
{
	return container_of(obj, struct swgpu_object, base);
}

static inline bool swgpu_obj_is_imported(const struct swgpu_object *obj)
{
	return obj->base.import_attach != NULL;
}

static inline pgoff_t swgpu_obj_npages(const struct swgpu_object *obj)
{
	return obj->base.size >> PAGE_SHIFT;
}

/*
 * Whether [@aoff, @aoff + @alen) of @a and [@boff, @boff + @blen) of @b
 * share a byte: the same object (not NULL) and overlapping ranges.
 */
static inline bool swgpu_ranges_overlap(const struct swgpu_object *a,
					u64 aoff, u64 alen,
					const struct swgpu_object *b,
					u64 boff, u64 blen)
{
	return a && a == b && aoff < boff + blen && boff < aoff + alen;
}

/**
 * struct swgpu_alloc_log - the pages a populate allocated, to give back
 *	if it fails (swgpu_pages.c)
 * @chunks: pages of runs, oldest first
 */
struct swgpu_alloc_log {
	struct list_head chunks;
};

/**
 * struct swgpu_exec - a job's commands as they run (swgpu_engine_lanes.c
 *	shares them out, swgpu_engine_exec.c writes them)
 * @bytes: bytes written so far, by every lane
 * @progress: where written bytes are added, window by window (debugfs)
 * @allocated: the pages the commands allocated, to give back if the job
 *	fails
 * @cancelled: whether to stop now; asked by every lane after every run of
 *	pages, so it must be safe to call from several CPUs at once
 * @memcg: the memory cgroup the job allocates in, or NULL
 * @wq: where helper lanes run
 * @error: the first error a lane met; the other lanes stop at their next
 *	run of pages
 */
struct swgpu_exec {
	atomic64_t bytes;
	atomic64_t *progress;
	struct swgpu_alloc_log allocated;
	bool (*cancelled)(struct swgpu_exec *x);
	struct mem_cgroup *memcg;
	struct workqueue_struct *wq;
	int error;
};

/**
 * struct swgpu_exec_lane - one CPU's share of a job's commands
 * @x: the job's execution state
 * @phase: the commands the lane takes windows of now
 * @dpages: room for the pages of a window of a destination
 * @spages: room for the pages of a window of a COPY's source (NULL in a
 *	job without COPY)
 * @allocated: the pages this lane allocated, handed to @x->allocated
 *	when the job's commands are done
 * @work: runs the lane when it is a helper of the job's own worker
 */
struct swgpu_exec_lane {
	struct swgpu_exec *x;
	struct swgpu_exec_phase *phase;
	struct page **dpages;
	struct page **spages;
	struct swgpu_alloc_log allocated;
	struct work_struct work;
};

/* swgpu_gem.c */
struct swgpu_object *swgpu_object_create(struct drm_device *dev, size_t size,
					 bool huge);
struct swgpu_object *swgpu_object_create_imported(struct drm_device *dev,
						  size_t size);
int swgpu_object_create_handle(struct drm_file *file, struct drm_device *dev,
			       size_t size, bool huge, u32 *handle);

/* swgpu_gemfs.c */
void swgpu_gemfs_init(void);
void swgpu_gemfs_fini(void);
struct file *swgpu_gemfs_file_setup(size_t size, bool huge);
int swgpu_object_mmap_shmem(struct swgpu_object *obj,
			    struct vm_area_struct *vma);
int swgpu_gem_create_ioctl(struct drm_device *dev, void *data,
			   struct drm_file *file);
int swgpu_gem_mmap_offset_ioctl(struct drm_device *dev, void *data,
				struct drm_file *file);
int swgpu_dumb_create(struct drm_file *file, struct drm_device *dev,
		      struct drm_mode_create_dumb *args);
int swgpu_dumb_map_offset(struct drm_file *file, struct drm_device *dev,
			  u32 handle, u64 *offset);

/* swgpu_pages.c */
int swgpu_object_pin_pages(struct swgpu_object *obj);
void swgpu_object_unpin_pages(struct swgpu_object *obj);
int swgpu_object_vmap(struct swgpu_object *obj, void **vaddr);
void swgpu_object_vunmap(struct swgpu_object *obj);
int swgpu_object_get_page(struct swgpu_object *obj, pgoff_t index,
			  struct page **page, struct swgpu_alloc_log *log,
			  bool written);
int swgpu_object_get_pages(struct swgpu_object *obj, pgoff_t first,
			   pgoff_t count, struct page **pages,
			   struct swgpu_alloc_log *log, bool written);
void swgpu_object_put_pages(struct page **pages, pgoff_t count,
			    bool accessed, bool written);
void swgpu_alloc_log_init(struct swgpu_alloc_log *log);
void swgpu_alloc_log_release(struct swgpu_alloc_log *log);
void swgpu_alloc_log_fini(struct swgpu_alloc_log *log);
int swgpu_object_populate(struct swgpu_object *obj, pgoff_t first,
			  pgoff_t count);
unsigned long swgpu_object_resident_pages(struct swgpu_object *obj);
long swgpu_object_pinned_pages(struct swgpu_object *obj);
unsigned long swgpu_object_highmem_pages(struct swgpu_object *obj);

/* swgpu_prime.c */
bool swgpu_is_own_dma_buf(const struct dma_buf *dmabuf);
int swgpu_object_wait_for_cpu(struct swgpu_object *obj,
			      enum dma_data_direction dir);
void swgpu_object_sync_for_cpu(struct swgpu_object *obj);
void swgpu_object_sync_for_device(struct swgpu_object *obj);
int swgpu_object_begin_user_window(struct swgpu_object *obj, pgoff_t first,
				   pgoff_t count, enum dma_data_direction dir);
void swgpu_object_end_user_window(struct swgpu_object *obj);
struct dma_buf *swgpu_gem_prime_export(struct drm_gem_object *obj, int flags);
struct drm_gem_object *swgpu_gem_prime_import(struct drm_device *dev,
					      struct dma_buf *dma_buf);
struct drm_gem_object *
swgpu_gem_prime_import_sg_table(struct drm_device *dev,
				struct dma_buf_attachment *attach,
				struct sg_table *sgt);

/* swgpu_fence.c */
bool swgpu_fence_signal_once(struct dma_fence *fence, spinlock_t *lock,
			     int error);
void swgpu_fence_file_init(struct swgpu_file *sfile);
void swgpu_fence_file_fini(struct swgpu_file *sfile);
int swgpu_fence_attach_ioctl(struct drm_device *dev, void *data,
			     struct drm_file *file);
int swgpu_fence_signal_ioctl(struct drm_device *dev, void *data,
			     struct drm_file *file);
void swgpu_fence_debugfs_show(struct seq_file *m, pid_t pid,
			      struct swgpu_file *sfile);

/* swgpu_engine.c */
int swgpu_engine_init(struct swgpu_engine *engine, struct device *dev);
void swgpu_engine_fini(struct swgpu_engine *engine);
struct swgpu_queue *swgpu_queue_create(struct swgpu_engine *engine);
void swgpu_queue_close(struct swgpu_queue *queue);
void swgpu_engine_hang_next(struct swgpu_engine *engine);
void swgpu_engine_debugfs_show(struct seq_file *m,
			       struct swgpu_engine *engine);

/* swgpu_submit.c */
int swgpu_submit_ioctl(struct drm_device *dev, void *data,
		       struct drm_file *file);

/* swgpu_engine_exec.c */
struct page **swgpu_exec_alloc_pages(void);
unsigned long swgpu_exec_windows(const struct drm_swgpu_cmd *cmd);
int swgpu_exec_window(struct swgpu_exec_lane *lane,
		      const struct drm_swgpu_cmd *cmd, struct swgpu_object *dst,
		      struct swgpu_object *src, unsigned long k);

/* swgpu_engine_lanes.c */
unsigned int swgpu_exec_lanes(void);
int swgpu_exec_run(struct swgpu_exec *x, const struct drm_swgpu_cmd *cmds,
		   struct swgpu_object **dst, struct swgpu_object **src,
		   unsigned int num_cmds);

/* swgpu_cpu_ioctl.c */
int swgpu_cpu_access_ioctl(struct drm_device *dev, void *data,
			   struct drm_file *file);

/* swgpu_cpu_access.c */
void swgpu_cpu_access_stats(u64 *native, u64 *foreign);
void swgpu_cpu_access_init(void);
int swgpu_foreign_sync_begin(struct dma_buf *dmabuf,
			     enum dma_data_direction dir);
int swgpu_foreign_sync_end(struct dma_buf *dmabuf, enum dma_data_direction dir);
int swgpu_object_cpu_begin(struct swgpu_object *obj, u64 start, u64 len,
			   enum dma_data_direction dir,
			   struct swgpu_alloc_log *log);
void swgpu_object_cpu_end(struct swgpu_object *obj, u64 start, u64 len,
			  enum dma_data_direction dir);
int swgpu_object_cpu_begin_pages(struct swgpu_object *obj, u64 start,
				 u64 len, enum dma_data_direction dir,
				 struct swgpu_alloc_log *log, struct page **pages);
void swgpu_object_cpu_end_pages(struct swgpu_object *obj, u64 start, u64 len,
				enum dma_data_direction dir, struct page **pages);
void *swgpu_object_kmap_pages(struct swgpu_object *obj, struct page **pages,
			      pgoff_t first, unsigned long page_num,
			      unsigned int *count);
void *swgpu_object_kmap(struct swgpu_object *obj, unsigned long page_num);
void swgpu_object_kunmap(struct swgpu_object *obj, void *vaddr);

/* swgpu_debugfs.c */
void swgpu_debugfs_init(struct drm_minor *minor);

#endif /* _SWGPU_DRV_H_ */
